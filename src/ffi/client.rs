//! The client handle, its clock, and the functions about the library.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::convert::{bytes, opt_str, out_ptr};
use super::guard::{guard, guard_value, guard_void};
use super::status::{kms_error, kms_status, kms_status_number, ErrorOut};
use crate::error::{Error, ErrorKind, Result};
use crate::service::{Client, OpenOptions};

/// One handle on one key store. Opaque; thread-safe: any number of threads may
/// use one client at once. Open with `kms_client_open`, free with `kms_client_free`.
pub struct kms_client {
    client: Client,
}

#[cfg(test)]
impl kms_client {
    /// The Rust client behind the handle: the crate's tests install a panicking
    /// Rust clock through it (src/ffi/panic_boundary_tests.rs).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }
}

/// How to open a client.
///
/// Zero it (`memset(&options, 0, sizeof options);`) and set what you need; NULL
/// options are the defaults.
/// With `keystore_path` NULL the store lives in memory and goes with the client;
/// the master-key fields must then be left empty.
#[repr(C)]
pub struct kms_open_options {
    /// The embedded store, an SQLite database file, or NULL (with `keystore_url`
    /// NULL too) for an in-memory store. Several clients and processes may share
    /// one file.
    pub keystore_path: *const c_char,
    /// The 32 bytes that seal the store file at rest, or NULL to use
    /// `master_key_file`.
    pub master_key: *const u8,
    /// Length of `master_key`: 32 (`KMS_MASTER_KEY_LEN`).
    pub master_key_len: usize,
    /// A file holding the master key (must not be group or world readable), or NULL.
    pub master_key_file: *const c_char,
    /// A flag (0 = false, any other value = true): create the store (the SQLite
    /// file, or the schema in the PostgreSQL database) when it does not exist.
    pub create_if_missing: c_int,
    /// A shared store, or NULL: `"postgresql://user@host/db"` (a Unix socket as a
    /// percent-encoded host: `"postgresql://user@%2Fvar%2Frun%2Fpostgresql/db"`).
    /// Not with `keystore_path` (INVALID_PARAMETER). The database must exist; its
    /// `localkms_*` tables are made with `create_if_missing`.
    pub keystore_url: *const c_char,
}

/// A time source: returns the time in Unix seconds. It is called with the
/// `context` given to `kms_client_set_clock`, from whichever thread is making a
/// call on the client, possibly from several threads at once: it must be
/// thread-safe. It may call into the library, but not `kms_client_set_clock` or
/// `kms_client_free` on the client it serves (those wait for it to return).
pub type kms_clock_fn = Option<unsafe extern "C" fn(context: *mut c_void) -> i64>;

/// The caller's clock context. The caller promises (by the header's documentation
/// of `kms_client_set_clock`) that the callback may be called from any thread.
struct ClockContext(*mut c_void);
// SAFETY: see above: thread-safety of the callback and context is the caller's
// documented obligation.
unsafe impl Send for ClockContext {}
// SAFETY: as for Send.
unsafe impl Sync for ClockContext {}

/// Borrows the client behind a handle; NULL is MissingParameter.
///
/// # Safety
/// `client` is NULL or a live handle from `kms_client_open`.
pub(crate) unsafe fn client_ref<'a>(client: *const kms_client) -> Result<&'a Client> {
    if client.is_null() {
        return Err(Error::missing_parameter("client"));
    }
    // SAFETY: a live handle per the contract above.
    Ok(unsafe { &(*client).client })
}

/// Opens a client on a key store.
///
/// `options` may be NULL for the defaults (an in-memory store). With a
/// `keystore_path` (SQLite) or a `keystore_url` (PostgreSQL), give the master key
/// either as `master_key` (32 bytes) or as `master_key_file` (32 raw bytes or 64
/// hex digits, a regular file of mode 0600 or stricter). Files the library creates
/// (the database and its `-wal` and `-shm`) are mode 0600 whatever the umask. On
/// success `*client_out` receives a handle to free with `kms_client_free`; on
/// failure it is not written and `*error` (when not NULL) says why.
///
/// Returns `KMS_STATUS_OK` or: MISSING_PARAMETER (`client_out` NULL; a store without
/// a master key), INVALID_PARAMETER (a master key of another length, both master-key
/// forms, master-key fields without a store, both `keystore_path` and
/// `keystore_url`, a malformed URL, `(NULL, n > 0)`), KEYSTORE_IO (the store is
/// missing and `create_if_missing` is 0; it cannot be read or created; a symlink,
/// FIFO or device at the path or beside it; the database cannot be reached),
/// KEYSTORE_CORRUPT (not a store, damaged, truncated, too large, of a newer format,
/// or a v1 sealed file, which only `localkms store copy` reads),
/// KEYSTORE_ACCESS_DENIED (wrong master key, or a master-key file that group or others
/// may access), INTERNAL_FAILURE (a caught panic, a failed random source, out of
/// memory).
///
/// # Safety
/// `options` is NULL or points to a valid `kms_open_options` whose strings are
/// NUL-terminated; `client_out` is NULL or writable; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_client_open(
    options: *const kms_open_options,
    client_out: *mut *mut kms_client,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: `error` is NULL or writable, per this function's contract.
    let error = unsafe { ErrorOut::new(error) };
    guard(error, || {
        out_ptr(client_out, "client_out")?;
        let client = if options.is_null() {
            Client::open(&OpenOptions::default())?
        } else {
            // SAFETY: a valid kms_open_options per the contract above. Every field
            // is a pointer or an integer, so any bit pattern is a valid value; the
            // struct is copied out, no reference to caller memory is kept.
            let options = unsafe { options.read() };
            // SAFETY (block): NUL-terminated strings or NULL, (pointer, length) pairs
            // per docs/c-api.md §1.
            let (path, master_key, master_key_file, url) = unsafe {
                (
                    opt_path(options.keystore_path),
                    bytes(options.master_key, options.master_key_len, "master_key")?,
                    opt_path(options.master_key_file),
                    opt_str(options.keystore_url, "keystore_url")?,
                )
            };
            Client::open(&OpenOptions {
                keystore_path: path,
                master_key: Some(master_key),
                master_key_file,
                create_if_missing: options.create_if_missing != 0,
                keystore_url: url,
            })?
        };
        let handle = Box::new(kms_client { client });
        // SAFETY: checked non-NULL and writable per the contract above.
        unsafe { *client_out = Box::into_raw(handle) };
        Ok(())
    })
}

/// A path from a C string (any bytes but NUL; not necessarily UTF-8).
///
/// # Safety
/// `ptr` is NULL or NUL-terminated and lives for `'a`.
unsafe fn opt_path<'a>(ptr: *const c_char) -> Option<&'a Path> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: per the contract above.
    let bytes = unsafe { std::ffi::CStr::from_ptr(ptr) }.to_bytes();
    Some(Path::new(std::ffi::OsStr::from_bytes(bytes)))
}

/// Frees a client and everything it holds (key material is wiped). NULL is a
/// no-op. No call on the client may be running or start afterwards.
///
/// # Safety
/// `client` is NULL or a handle from `kms_client_open` not freed before.
#[no_mangle]
pub unsafe extern "C" fn kms_client_free(client: *mut kms_client) {
    guard_void(|| {
        if !client.is_null() {
            // SAFETY: a handle from Box::into_raw in kms_client_open, per the contract.
            drop(unsafe { Box::from_raw(client) });
        }
    })
}

/// Sets the time source (Unix seconds) used for automatic rotation, expiry of
/// imported material, deletion dates and the dates in documents, so a test can
/// move time forward instead of waiting days. `clock` NULL restores the system
/// clock. `context` is passed to every call of `clock`.
///
/// Returns only when no call on the client is still inside the previous clock:
/// once it has returned, the previous clock is never called again and its context
/// may be freed at once. The context of the clock in force must stay valid until
/// the next `kms_client_set_clock` on the client returns or the client is freed.
/// See `kms_clock_fn` for the threading rules.
///
/// Returns `KMS_STATUS_OK` or: MISSING_PARAMETER (`client` NULL), INTERNAL_FAILURE (a
/// caught panic).
///
/// # Safety
/// `client` is NULL or live; `clock` is NULL or a function that is safe to call
/// with `context` from any thread; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_client_set_clock(
    client: *mut kms_client,
    clock: kms_clock_fn,
    context: *mut c_void,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: `error` is NULL or writable, per this function's contract.
    let error = unsafe { ErrorOut::new(error) };
    guard(error, || {
        // SAFETY: NULL or live, per the contract above.
        let client = unsafe { client_ref(client) }?;
        match clock {
            None => client.set_clock(None),
            Some(clock) => {
                let context = ClockContext(context);
                client.set_clock(Some(Arc::new(move || {
                    let context = &context;
                    // SAFETY: the caller promised `clock` may be called with
                    // `context` from any thread while it is installed.
                    unsafe { clock(context.0) }
                })));
            }
        }
        Ok(())
    })
}

/// The library version, e.g. `"0.1.0"`. Static: never free it.
#[no_mangle]
pub extern "C" fn kms_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

fn kind_of(status: u32) -> Option<ErrorKind> {
    ErrorKind::from_status(status)
}

/// The service's code string for a status, e.g. `"Forbidden.KeyNotFound"`;
/// `"OK"` for `KMS_STATUS_OK` and `"Unknown"` for a number that is no status.
/// Static: never free it. Takes any number (a `kms_status` value).
#[no_mangle]
pub extern "C" fn kms_status_code(status: kms_status_number) -> *const c_char {
    guard_value(c"Unknown".as_ptr(), || {
        if status == 0 {
            return c"OK".as_ptr();
        }
        match kind_of(status) {
            Some(kind) => kind.c_code().as_ptr(),
            None => c"Unknown".as_ptr(),
        }
    })
}

/// The service's HTTP status for a status: 200 for `KMS_STATUS_OK`, 0 for a number
/// that is no status. Takes any number (a `kms_status` value).
#[no_mangle]
pub extern "C" fn kms_status_http_status(status: kms_status_number) -> u16 {
    guard_value(0, || {
        if status == 0 {
            return 200;
        }
        kind_of(status).map_or(0, ErrorKind::http_status)
    })
}
