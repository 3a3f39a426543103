//! The client handle, its clock, and the functions about the library.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::convert::{bytes, opt_str, out_ptr};
use super::{guard, guard_value, guard_void, kms_error, kms_status};
use crate::error::{Error, ErrorKind, Result};
use crate::service::Client;

/// One handle on one key store. Opaque; thread-safe: any number of threads may
/// use one client at once. Open with `kms_client_open`, free with `kms_client_free`.
pub struct kms_client {
    client: Client,
}

impl kms_client {
    /// The Rust client behind the handle, for Rust code that mixes both APIs.
    pub fn client(&self) -> &Client {
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
    /// The store file, or NULL for an in-memory store. (File-backed stores are not
    /// available in this version: a non-NULL path is `KMS_STATUS_INVALID_PARAMETER`.)
    pub keystore_path: *const c_char,
    /// The 32 bytes that seal the store file at rest, or NULL to use
    /// `master_key_file`.
    pub master_key: *const u8,
    /// Length of `master_key`: 32 (`KMS_MASTER_KEY_LEN`).
    pub master_key_len: usize,
    /// A file holding the master key (must not be group or world readable), or NULL.
    pub master_key_file: *const c_char,
    /// Create the store file when it does not exist.
    pub create_if_missing: bool,
}

/// A time source: returns the time in Unix seconds. It is called with the
/// `context` given to `kms_client_set_clock`, from whichever thread is making a
/// call on the client, possibly from several threads at once: it must be
/// thread-safe. It may call into the library.
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
/// `options` may be NULL for the defaults (an in-memory store). On success
/// `*client_out` receives a handle to free with `kms_client_free`; on failure it is
/// not written and `*error` (when not NULL) says why.
///
/// Returns `KMS_STATUS_OK`; `KMS_STATUS_MISSING_PARAMETER` when `client_out` is
/// NULL; `KMS_STATUS_INVALID_PARAMETER` for a store path (not available in this
/// version), master-key fields without a store path, or `(NULL, n > 0)`.
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
    guard(error, || {
        out_ptr(client_out, "client_out")?;
        if !options.is_null() {
            // SAFETY: a valid kms_open_options per the contract above.
            let options = unsafe { &*options };
            // SAFETY: NUL-terminated or NULL, per the contract above.
            let path = unsafe { opt_str(options.keystore_path, "keystore_path") }?;
            // SAFETY: (pointer, length) per API.md §2.
            let master_key =
                unsafe { bytes(options.master_key, options.master_key_len, "master_key") }?;
            // SAFETY: NUL-terminated or NULL.
            let master_key_file = unsafe { opt_str(options.master_key_file, "master_key_file") }?;
            if path.is_some_and(|p| !p.is_empty()) {
                return Err(Error::invalid_parameter(
                    "keystore_path",
                    "File-backed key stores are not available in this version of localkms; \
                     pass NULL for an in-memory store.",
                ));
            }
            if !master_key.is_empty() || master_key_file.is_some_and(|f| !f.is_empty()) {
                return Err(Error::invalid_parameter(
                    "master_key",
                    "A master key seals a store file; an in-memory store takes none.",
                ));
            }
        }
        let handle = Box::new(kms_client {
            client: Client::in_memory(),
        });
        // SAFETY: checked non-NULL and writable per the contract above.
        unsafe { *client_out = Box::into_raw(handle) };
        Ok(())
    })
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
/// clock. `context` is passed to every call of `clock` and must stay valid until
/// the clock is replaced or the client is freed. See `kms_clock_fn` for the
/// threading rules.
///
/// Returns `KMS_STATUS_OK`, or `KMS_STATUS_MISSING_PARAMETER` when `client` is NULL.
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
pub extern "C" fn kms_status_code(status: u32) -> *const c_char {
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
pub extern "C" fn kms_status_http_status(status: u32) -> u16 {
    guard_value(0, || {
        if status == 0 {
            return 200;
        }
        kind_of(status).map_or(0, ErrorKind::http_status)
    })
}
