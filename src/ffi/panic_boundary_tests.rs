//! A panic deep inside a `kms_*` call (a Rust clock that panics, installed on the
//! client behind the handle, which only the crate's own tests can reach): it comes
//! back as `InternalFailure`, prints nothing, and leaves the host's panic hook in
//! place for panics of its own.

use std::ffi::{c_char, CStr, CString};
use std::process::Command;
use std::ptr::{null, null_mut};
use std::sync::Arc;

use super::client::{kms_client, kms_client_free, kms_client_open, kms_client_set_clock};
use super::crypto::{kms_advance_encrypt, kms_encrypt_response, kms_encrypt_response_free};
use super::status::{kms_error, kms_status};

fn blank_error() -> kms_error {
    // SAFETY: kms_error is plain integers and arrays of them: all zero is valid.
    unsafe { std::mem::zeroed() }
}

fn text(chars: &[c_char]) -> String {
    // SAFETY: the library NUL-terminates every string of kms_error.
    unsafe { CStr::from_ptr(chars.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// An in-memory client whose clock panics, and one of its keys.
fn client_with_panicking_clock() -> (*mut kms_client, CString) {
    let mut client = null_mut();
    // SAFETY: NULL options (the defaults), a writable output, no error struct.
    let opened = unsafe { kms_client_open(null(), &mut client, null_mut()) };
    assert_eq!(opened, kms_status::Ok);
    // SAFETY: a live handle.
    let rust = unsafe { &*client }.client();
    let created = rust.create_key(&Default::default()).unwrap();
    rust.set_clock(Some(Arc::new(|| {
        panic!("a clock that fails inside the library")
    })));
    (client, CString::new(created.value.key_id).unwrap())
}

/// AdvanceEncrypt of one byte: its status, response and error.
fn advance_encrypt(
    client: *mut kms_client,
    key_id: *const c_char,
) -> (kms_status, *mut kms_encrypt_response, kms_error) {
    // Not NULL, so that a write would show.
    let mut response = std::ptr::NonNull::dangling().as_ptr();
    let mut error = blank_error();
    // SAFETY: a live client, a NUL-terminated key, one readable byte, NULL options.
    let status = unsafe {
        kms_advance_encrypt(
            client,
            key_id,
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
    (status, response, error)
}

fn free(client: *mut kms_client) {
    // SAFETY: a handle of the library, freed once.
    unsafe { kms_client_free(client) };
}

#[test]
fn a_panic_inside_the_library_comes_back_as_internal_failure() {
    let (client, key_id) = client_with_panicking_clock();
    let (status, response, error) = advance_encrypt(client, key_id.as_ptr());
    assert_eq!(status, kms_status::InternalFailure);
    assert_eq!(
        response,
        std::ptr::NonNull::dangling().as_ptr(),
        "no output after a panic"
    );
    assert_eq!(error.http_status, 500);
    assert_eq!(text(&error.code), "InternalFailure");
    assert!(
        text(&error.message).contains("panic"),
        "{}",
        text(&error.message)
    );
    assert_eq!(text(&error.request_id).len(), 36);

    // The client is still usable once the system clock is restored.
    // SAFETY: a live client; NULL clock, context and error.
    let restored = unsafe { kms_client_set_clock(client, None, null_mut(), null_mut()) };
    assert_eq!(restored, kms_status::Ok);
    let (status, response, _) = advance_encrypt(client, key_id.as_ptr());
    assert_eq!(status, kms_status::Ok);
    // SAFETY: a response of the library, freed once.
    unsafe { kms_encrypt_response_free(response) };
    free(client);
}

const CHILD: &str = "LOCALKMS_PANIC_CHILD";
const HOOK_TEST: &str =
    "ffi::panic_boundary_tests::a_caught_panic_prints_nothing_and_other_panics_still_reach_the_host_hook";

#[test]
fn a_caught_panic_prints_nothing_and_other_panics_still_reach_the_host_hook() {
    // The panic hook is the process's: the check runs in a child of this test binary.
    if std::env::var_os(CHILD).is_none() {
        let output = Command::new(std::env::current_exe().unwrap())
            .args([HOOK_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{}:\n{stdout}\n{stderr}",
            output.status
        );
        assert!(stdout.contains("internal failure: caught"), "{stdout}");
        assert!(
            !stderr.contains("inside the library"),
            "a panic inside a kms_* call reached stderr:\n{stderr}"
        );
        assert!(
            stderr.contains("a panic of the host's own"),
            "the host's panic hook no longer runs outside kms_* calls:\n{stderr}"
        );
        return;
    }
    let (client, key_id) = client_with_panicking_clock();
    let (status, _, error) = advance_encrypt(client, key_id.as_ptr());
    assert_eq!(status, kms_status::InternalFailure);
    assert!(text(&error.message).contains("panic"));
    free(client);
    println!("internal failure: caught");
    // The host's own panic, outside any kms_* call, still reaches its hook.
    let outside = std::panic::catch_unwind(|| panic!("a panic of the host's own"));
    assert!(outside.is_err());
}
