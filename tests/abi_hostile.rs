//! The C ABI fed the way a hostile or sloppy caller feeds it (issue 8):
//!
//! - flags of every bit pattern (2, 255, 256, -1, i32::MIN): any non-zero value is
//!   true, the effect is what a true flag does, the store reopens, and
//!   `kms_describe_key` says so;
//! - `kms_client_set_clock` replacing a slow clock while other threads are inside
//!   it: the old context is poisoned and freed the moment the call returns, and is
//!   never used after that;
//! - multi-GiB lengths over a sparse read-only mapping: refused by a limit, or
//!   `InternalFailure` "out of memory", never an abort;
//! - a panic inside a call prints nothing on stderr, while a panic elsewhere in the
//!   host still reaches the host's hook.
//!
//! The last two run in a child process (this test binary, re-run with one test
//! selected), so that an abort, an address-space limit or stderr can be observed.

mod common;

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::Path;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use localkms::ffi::*;

use common::c_abi::{garbage_error, message, take_string};
use common::child::{is_child, run_child};
use common::temp_dir::TempDir;

const OK: kms_status = kms_status::Ok;

const MASTER_KEY: [u8; 32] = [0x42; 32];

/// Opens a file-backed client with `create_if_missing` as the raw int given.
fn open_file(store: &Path, create_if_missing: c_int) -> (kms_status, *mut kms_client, kms_error) {
    let path = CString::new(store.to_str().unwrap()).unwrap();
    let options = kms_open_options {
        keystore_path: path.as_ptr(),
        master_key: MASTER_KEY.as_ptr(),
        master_key_len: MASTER_KEY.len(),
        master_key_file: null(),
        create_if_missing,
        keystore_url: null(),
    };
    let mut client = null_mut();
    let mut error = garbage_error();
    // SAFETY: valid options, writable outputs.
    let status = unsafe { kms_client_open(&options, &mut client, &mut error) };
    (status, client, error)
}

fn describe(client: *mut kms_client, key_id: &CStr) -> serde_json::Value {
    let mut json = null_mut();
    let mut error = garbage_error();
    // SAFETY: a live client, valid strings, writable outputs.
    let status = unsafe { kms_describe_key(client, key_id.as_ptr(), &mut json, &mut error) };
    assert_eq!(status, OK, "{}", message(&error));
    serde_json::from_str(&take_string(json)).unwrap()
}

fn create_key(client: *mut kms_client) -> CString {
    let mut key_id = null_mut();
    let mut error = garbage_error();
    // SAFETY: a live client, NULL optional strings, writable outputs.
    let status = unsafe {
        kms_create_key(
            client,
            null(),
            null(),
            null(),
            null(),
            &mut key_id,
            &mut error,
        )
    };
    assert_eq!(status, OK, "{}", message(&error));
    CString::new(take_string(key_id)).unwrap()
}

/// Flag values a C, JNA or ctypes caller may hand over for "true". 256 has a zero
/// low byte: a one-byte `bool` would read it as false.
const TRUE_FLAGS: [c_int; 7] = [1, 2, 255, 256, -1, i32::MIN, i32::MAX];

#[test]
fn any_non_zero_create_if_missing_creates_the_store() {
    for flag in TRUE_FLAGS {
        let dir = TempDir::new("create");
        let store = dir.0.join("store.kms");
        let (status, client, error) = open_file(&store, 0);
        assert_eq!(
            status,
            kms_status::KeystoreIo,
            "0 is false: {}",
            message(&error)
        );
        assert!(
            client.is_null() && !store.exists(),
            "a refused open creates nothing"
        );

        let (status, client, error) = open_file(&store, flag);
        assert_eq!(status, OK, "flag {flag}: {}", message(&error));
        assert!(store.exists(), "flag {flag} is true: the store is created");
        let key_id = create_key(client);
        unsafe { kms_client_free(client) };

        // Reopened without creating: the store is whole and holds the key.
        let (status, client, error) = open_file(&store, 0);
        assert_eq!(status, OK, "flag {flag}: reopen: {}", message(&error));
        assert_eq!(
            describe(client, &key_id)["KeyMetadata"]["KeyId"],
            key_id.to_str().unwrap()
        );
        unsafe { kms_client_free(client) };
    }
}

#[test]
fn any_non_zero_rotation_flag_enables_rotation_and_persists_it() {
    for flag in TRUE_FLAGS {
        let dir = TempDir::new("rotation");
        let store = dir.0.join("store.kms");
        let (status, client, error) = open_file(&store, 1);
        assert_eq!(status, OK, "{}", message(&error));
        let key_id = create_key(client);

        let mut error = garbage_error();
        // SAFETY: a live client, valid strings, the flag as a C int.
        let status = unsafe {
            kms_update_rotation_policy(client, key_id.as_ptr(), flag, c"7d".as_ptr(), &mut error)
        };
        assert_eq!(status, OK, "flag {flag}: {}", message(&error));
        let metadata = &describe(client, &key_id)["KeyMetadata"];
        assert_eq!(metadata["AutomaticRotation"], "Enabled", "flag {flag}");
        assert_eq!(metadata["RotationInterval"], "604800s", "flag {flag}");
        unsafe { kms_client_free(client) };

        // What was stored is the library's own true, whatever bits the caller used:
        // the store reopens and says the same.
        let (status, client, error) = open_file(&store, 0);
        assert_eq!(status, OK, "flag {flag}: reopen: {}", message(&error));
        let metadata = &describe(client, &key_id)["KeyMetadata"];
        assert_eq!(
            metadata["AutomaticRotation"], "Enabled",
            "flag {flag} after reopen"
        );

        // And 0 is false.
        let mut error = garbage_error();
        let status =
            unsafe { kms_update_rotation_policy(client, key_id.as_ptr(), 0, null(), &mut error) };
        assert_eq!(status, OK, "{}", message(&error));
        unsafe { kms_client_free(client) };
        let (status, client, error) = open_file(&store, 0);
        assert_eq!(status, OK, "{}", message(&error));
        assert_eq!(
            describe(client, &key_id)["KeyMetadata"]["AutomaticRotation"],
            "Disabled"
        );
        unsafe { kms_client_free(client) };
    }
}

/// The context of a slow clock: the test poisons and frees it as soon as
/// `kms_client_set_clock` has replaced the clock.
struct SlowClock {
    alive: AtomicBool,
    inside: Arc<AtomicUsize>,
    calls: Arc<AtomicU64>,
    used_after_poison: Arc<AtomicU64>,
}

unsafe extern "C" fn slow_clock(context: *mut c_void) -> i64 {
    // SAFETY: the test keeps the context alive until set_clock has returned; a call
    // after that is exactly the bug this test catches (as a poisoned flag here, and
    // as a use-after-free under a sanitizer).
    let clock = unsafe { &*context.cast::<SlowClock>() };
    clock.inside.fetch_add(1, Ordering::SeqCst);
    clock.calls.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(5));
    if !clock.alive.load(Ordering::SeqCst) {
        clock.used_after_poison.fetch_add(1, Ordering::SeqCst);
    }
    clock.inside.fetch_sub(1, Ordering::SeqCst);
    1_900_000_000
}

struct Handle(*mut kms_client);
// SAFETY: a kms_client may be used from any number of threads at once.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

#[test]
fn set_clock_returns_only_when_the_old_clock_is_no_longer_used() {
    let mut client = null_mut();
    let mut error = garbage_error();
    assert_eq!(
        unsafe { kms_client_open(null(), &mut client, &mut error) },
        OK
    );
    let key_id = create_key(client);
    let handle = Arc::new(Handle(client));
    let inside = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicU64::new(0));
    let used_after_poison = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));

    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (handle, key_id, stop) = (handle.clone(), key_id.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let mut response = null_mut();
                    let mut error = garbage_error();
                    let status = unsafe {
                        kms_advance_encrypt(
                            handle.0,
                            key_id.as_ptr(),
                            b"x".as_ptr(),
                            1,
                            null(),
                            null(),
                            0,
                            null(),
                            0,
                            null(),
                            &mut response,
                            &mut error,
                        )
                    };
                    assert_eq!(status, OK, "{}", message(&error));
                    unsafe { kms_encrypt_response_free(response) };
                    n += 1;
                }
                n
            })
        })
        .collect();

    let mut replacements = 0;
    for _ in 0..20 {
        let context = Box::into_raw(Box::new(SlowClock {
            alive: AtomicBool::new(true),
            inside: inside.clone(),
            calls: calls.clone(),
            used_after_poison: used_after_poison.clone(),
        }));
        let mut error = garbage_error();
        let status =
            unsafe { kms_client_set_clock(handle.0, Some(slow_clock), context.cast(), &mut error) };
        assert_eq!(status, OK);
        // Wait until some worker is inside this clock, then replace it.
        while inside.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        let mut error = garbage_error();
        let status = unsafe { kms_client_set_clock(handle.0, None, null_mut(), &mut error) };
        assert_eq!(status, OK);
        // The old context may go now: poison it, then free it.
        unsafe { (*context).alive.store(false, Ordering::SeqCst) };
        std::thread::sleep(Duration::from_millis(10));
        drop(unsafe { Box::from_raw(context) });
        replacements += 1;
    }
    stop.store(true, Ordering::SeqCst);
    let encrypted: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    unsafe { kms_client_free(handle.0) };

    assert_eq!(replacements, 20);
    assert!(
        calls.load(Ordering::SeqCst) >= 20,
        "the slow clocks were used"
    );
    assert!(encrypted > 0);
    assert_eq!(
        used_after_poison.load(Ordering::SeqCst),
        0,
        "a clock was called after kms_client_set_clock had replaced it"
    );
}

/// A sparse, read-only, zero-filled mapping of `len` bytes: address space only.
fn sparse_mapping(len: usize) -> *const u8 {
    // SAFETY: an anonymous private mapping; no memory is committed until read.
    let p = unsafe {
        libc::mmap(
            null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED, "mmap of {len} bytes");
    p.cast()
}

/// Lets the process grow by at most `headroom` bytes of address space from now on,
/// so that any large allocation fails whatever the machine's overcommit policy.
fn cap_address_space(headroom: u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let vm_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmSize in /proc/self/status");
    let limit = vm_kib * 1024 + headroom;
    let rlimit = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: a valid rlimit struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &rlimit) }, 0);
}

const GIB: usize = 1 << 30;

#[test]
fn huge_lengths_are_statuses_never_an_abort() {
    const NAME: &str = "huge_lengths_are_statuses_never_an_abort";
    if !is_child(NAME) {
        let (status, stdout, stderr) = run_child(NAME);
        assert!(
            status.success(),
            "the child died or failed ({status}):\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("huge lengths: all refused"), "{stdout}");
        return;
    }
    // Over the limit: refused before anything is read or allocated.
    let over = KMS_MAX_PLAINTEXT_LEN as usize + 1;
    let map = sparse_mapping(over + 4096);
    let mut client = null_mut();
    let mut error = garbage_error();
    assert_eq!(
        unsafe { kms_client_open(null(), &mut client, &mut error) },
        OK
    );
    let key_id = create_key(client);
    cap_address_space(256 << 20);

    let encrypt = |advance: bool, len: usize| {
        let mut response: *mut kms_encrypt_response = null_mut();
        let mut error = garbage_error();
        let f = if advance {
            kms_advance_encrypt
        } else {
            kms_encrypt
        };
        let status = unsafe {
            f(
                client,
                key_id.as_ptr(),
                map,
                len,
                null(),
                null(),
                0,
                null(),
                0,
                null(),
                &mut response,
                &mut error,
            )
        };
        if status == OK {
            unsafe { kms_encrypt_response_free(response) };
            return (status, String::new());
        }
        assert!(response.is_null(), "no output on failure");
        (status, message(&error))
    };
    for advance in [true, false] {
        let (status, msg) = encrypt(advance, over);
        assert_eq!(status, kms_status::InvalidParameter, "{msg}");
        assert!(msg.contains("Plaintext"), "{msg}");
        // Within the limit but more than the process may allocate.
        let (status, msg) = encrypt(advance, 8 * GIB);
        assert_eq!(status, kms_status::InternalFailure, "{msg}");
        assert!(msg.contains("out of memory"), "{msg}");
    }

    let decrypt = |key: *const c_char, algorithm: *const c_char, iv: &[u8], len: usize| {
        let mut response: *mut kms_decrypt_response = null_mut();
        let mut error = garbage_error();
        let status = unsafe {
            kms_advance_decrypt(
                client,
                map,
                len,
                key,
                algorithm,
                iv.as_ptr(),
                iv.len(),
                null(),
                0,
                null(),
                &mut response,
                &mut error,
            )
        };
        assert!(response.is_null(), "no output on failure");
        (status, message(&error))
    };
    // A blob over the limit is no blob this library made.
    let (status, msg) = decrypt(
        null(),
        null(),
        &[],
        KMS_MAX_CIPHERTEXT_BLOB_LEN as usize + 1,
    );
    assert_eq!(status, kms_status::InvalidCiphertext, "{msg}");
    // Encrypt output of 8 GiB given with its key: the copy cannot be allocated.
    let (status, msg) = decrypt(key_id.as_ptr(), c"AES_GCM".as_ptr(), &[0u8; 12], 8 * GIB);
    assert_eq!(status, kms_status::InternalFailure, "{msg}");
    assert!(msg.contains("out of memory"), "{msg}");
    let (status, msg) = decrypt(
        key_id.as_ptr(),
        c"AES_CBC".as_ptr(),
        &[0u8; 16],
        KMS_MAX_CIPHERTEXT_BLOB_LEN as usize + 1,
    );
    assert_eq!(status, kms_status::InvalidCiphertext, "{msg}");

    // The client still works after all of it.
    let (status, msg) = encrypt(true, 64);
    assert_eq!(status, OK, "{msg}");
    println!("huge lengths: all refused");
}
