//! Calling the C ABI from Rust tests: an error struct as a C caller hands it over,
//! and the strings the library returns.

use std::ffi::{c_char, CStr};

use localkms::ffi::{kms_error, kms_string_free};

/// An error struct full of garbage (0xA5 bytes), as a caller's uninitialised
/// stack would be: the library only writes it.
pub fn garbage_error() -> kms_error {
    let mut raw = std::mem::MaybeUninit::<kms_error>::uninit();
    // SAFETY: every field of kms_error is an integer or an array of integers, so
    // any byte pattern is a valid value.
    unsafe {
        std::ptr::write_bytes(raw.as_mut_ptr().cast::<u8>(), 0xA5, size_of::<kms_error>());
        raw.assume_init()
    }
}

/// A NUL-terminated string of a `kms_error` field (code, message, request_id).
pub fn text(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8(bytes).unwrap()
}

/// The message the library wrote into `error`.
pub fn message(error: &kms_error) -> String {
    text(&error.message)
}

/// A static or borrowed string of the library (not NULL, UTF-8).
pub fn cstr(p: *const c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: a NUL-terminated string of the library.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

/// Takes a string the library returned (not NULL) and frees it.
pub fn take_string(p: *mut c_char) -> String {
    let s = cstr(p);
    // SAFETY: a library string, freed once.
    unsafe { kms_string_free(p) };
    s
}
