//! `kms_status` and `kms_error`: the C face of the error table in `crate::error`.

use std::ffi::c_char;

use super::constants::{KMS_ERROR_CODE_SIZE, KMS_ERROR_MESSAGE_SIZE, KMS_ERROR_REQUEST_ID_SIZE};
use crate::error::{Error, ErrorKind};

/// A `kms_status` as the C caller passes or receives it: any 32-bit number. The
/// header names it `kms_status` (cbindgen.toml renames it), as the contract
/// declares; Rust holds a plain `u32`, because an out-of-range value in a Rust enum
/// would be undefined behaviour.
pub type kms_status_number = u32;

/// The result of every fallible function: `KMS_STATUS_OK` (0) or one of the
/// service's error codes. The numbers are permanent and grouped by class
/// (1xx bad request, 2xx not found, 3xx key state, 4xx key store, 5xx internal);
/// `kms_status_code` gives the service's code string, `kms_status_http_status`
/// its HTTP status.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kms_status {
    /// Success.
    Ok = 0,
    /// `InvalidParameter` (400): a value is malformed or out of range.
    InvalidParameter = 100,
    /// `MissingParameter` (400): a required argument is NULL or empty.
    MissingParameter = 101,
    /// `Rejected.UnsupportedOperation` (400), e.g. rotating an EXTERNAL key.
    UnsupportedOperation = 102,
    /// `AliasAlreadyExists` (400).
    AliasAlreadyExists = 103,
    /// `InvalidKeyMaterial` (400): wrong size, or other material than the key had.
    InvalidKeyMaterial = 104,
    /// `InvalidCiphertext` (400): the blob cannot be parsed, or authentication or
    /// padding fails. One code for all of these (no padding oracle).
    InvalidCiphertext = 105,
    /// `Forbidden.KeyNotFound` (404): no such key, or the blob names a version
    /// this store does not hold.
    KeyNotFound = 200,
    /// `Forbidden.AliasNotFound` (404).
    AliasNotFound = 201,
    /// `Forbidden.OnlySymmetricKeySupported` (404): the key is asymmetric.
    OnlySymmetricKeySupported = 202,
    /// `Rejected.Disabled` (409).
    KeyDisabled = 300,
    /// `Rejected.PendingDeletion` (409).
    KeyPendingDeletion = 301,
    /// `Rejected.PendingImport` (409).
    KeyPendingImport = 302,
    /// `KeyStore.IOError` (500): the store file cannot be read or written.
    KeystoreIo = 400,
    /// `KeyStore.Corrupted` (500): not a store, or an unknown format version.
    KeystoreCorrupt = 401,
    /// `KeyStore.AccessDenied` (403): wrong master key, or unsafe permissions.
    KeystoreAccessDenied = 402,
    /// `InternalFailure` (500): a caught panic, a failed random source.
    InternalFailure = 500,
}

impl kms_status {
    /// The status of an error kind: the same permanent number (checked by a test
    /// below against the one table in `crate::error`).
    pub fn of(kind: ErrorKind) -> kms_status {
        match kind {
            ErrorKind::InvalidParameter => kms_status::InvalidParameter,
            ErrorKind::MissingParameter => kms_status::MissingParameter,
            ErrorKind::UnsupportedOperation => kms_status::UnsupportedOperation,
            ErrorKind::AliasAlreadyExists => kms_status::AliasAlreadyExists,
            ErrorKind::InvalidKeyMaterial => kms_status::InvalidKeyMaterial,
            ErrorKind::InvalidCiphertext => kms_status::InvalidCiphertext,
            ErrorKind::KeyNotFound => kms_status::KeyNotFound,
            ErrorKind::AliasNotFound => kms_status::AliasNotFound,
            ErrorKind::OnlySymmetricKeySupported => kms_status::OnlySymmetricKeySupported,
            ErrorKind::KeyDisabled => kms_status::KeyDisabled,
            ErrorKind::KeyPendingDeletion => kms_status::KeyPendingDeletion,
            ErrorKind::KeyPendingImport => kms_status::KeyPendingImport,
            ErrorKind::KeyStoreIo => kms_status::KeystoreIo,
            ErrorKind::KeyStoreCorrupt => kms_status::KeystoreCorrupt,
            ErrorKind::KeyStoreAccessDenied => kms_status::KeystoreAccessDenied,
            ErrorKind::InternalFailure => kms_status::InternalFailure,
        }
    }
}

/// What went wrong in a failed call. The caller owns it (usually on its stack);
/// the library fills it on failure and leaves it alone on success. Every string
/// is NUL-terminated and cut to fit.
///
/// The library writes it with plain stores of whole integers and never reads it,
/// so the caller's struct may hold anything before the call (uninitialised stack
/// memory, garbage): every field here is an integer or an array of them, and the
/// status is a plain 32-bit number on the Rust side (the header names it
/// `kms_status`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kms_error {
    /// The status the call returned (a `kms_status` value).
    pub status: kms_status_number,
    /// The service's HTTP status for this code (400, 403, 404, 409, 500).
    pub http_status: u16,
    /// The service's code, e.g. `"Forbidden.KeyNotFound"`.
    pub code: [c_char; KMS_ERROR_CODE_SIZE],
    /// A message for people that names the offending parameter or key, e.g.
    /// `The specified parameter "Iv" is not valid. ...`. Never contains key bytes.
    pub message: [c_char; KMS_ERROR_MESSAGE_SIZE],
    /// The RequestId (a lowercase UUID v4) of the failed call.
    pub request_id: [c_char; KMS_ERROR_REQUEST_ID_SIZE],
}

/// Copies `src` into `dst` as a NUL-terminated string, cut at a UTF-8 boundary,
/// and zeroes the rest.
fn copy_c_string<const N: usize>(src: &str) -> [c_char; N] {
    let mut dst = [0 as c_char; N];
    let mut end = src.len().min(N.saturating_sub(1));
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    for (d, &s) in dst.iter_mut().zip(src.as_bytes()[..end].iter()) {
        *d = s as c_char;
    }
    dst
}

impl kms_error {
    /// The error struct that describes `e`.
    pub(crate) fn describing(e: &Error) -> kms_error {
        kms_error {
            status: kms_status::of(e.kind()) as kms_status_number,
            http_status: e.http_status(),
            code: copy_c_string(e.code()),
            message: copy_c_string(e.message()),
            request_id: copy_c_string(e.request_id()),
        }
    }
}

/// Where a failed call writes its `kms_error`: NULL (nowhere) or the caller's
/// struct. It is only ever written, with one plain store of a fully built value:
/// no reference to the caller's memory is made, so whatever it held before (garbage,
/// uninitialised stack) does not matter.
pub(crate) struct ErrorOut(*mut kms_error);

impl ErrorOut {
    /// # Safety
    /// `error` is NULL or points to `size_of::<kms_error>()` writable bytes, aligned
    /// as `kms_error`, for as long as the value lives.
    pub(crate) unsafe fn new(error: *mut kms_error) -> ErrorOut {
        ErrorOut(error)
    }

    /// Writes `e` into the caller's struct, when there is one.
    pub(crate) fn write(&self, e: &Error) {
        if !self.0.is_null() {
            let value = kms_error::describing(e);
            // SAFETY: per `new`'s contract; `write` neither reads nor drops the old
            // contents.
            unsafe { self.0.write(value) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_c_enum_agrees_with_the_status_table() {
        for kind in ErrorKind::ALL {
            let status = kms_status::of(kind);
            assert_eq!(status as u32, kind.status(), "{kind:?}");
            // Same name, up to the spelling of "KeyStore" / "Keystore".
            let c_name = format!("{status:?}").to_lowercase();
            assert_eq!(c_name, format!("{kind:?}").to_lowercase(), "{kind:?}");
        }
    }

    #[test]
    fn strings_are_cut_at_a_character_boundary() {
        let buf: [c_char; 6] = copy_c_string("abcé");
        assert_eq!(buf.map(|c| c as u8), [b'a', b'b', b'c', 0xc3, 0xa9, 0]);
        let buf: [c_char; 6] = copy_c_string("abcdé");
        assert_eq!(buf.map(|c| c as u8), [b'a', b'b', b'c', b'd', 0, 0]);
    }

    #[test]
    fn a_struct_full_of_garbage_is_overwritten_whole() {
        let mut raw = std::mem::MaybeUninit::<kms_error>::uninit();
        // SAFETY: filling the bytes of a MaybeUninit is always allowed.
        unsafe {
            std::ptr::write_bytes(raw.as_mut_ptr().cast::<u8>(), 0xA5, size_of::<kms_error>())
        };
        let e = Error::missing_parameter("KeyId").with_request_id("r-1");
        // SAFETY: a writable, aligned kms_error.
        unsafe { ErrorOut::new(raw.as_mut_ptr()) }.write(&e);
        // SAFETY: write_error initialised every field.
        let written = unsafe { raw.assume_init() };
        assert_eq!(written.status, kms_status::MissingParameter as u32);
        assert_eq!(written.http_status, 400);
        let id: Vec<u8> = written.request_id[..4].iter().map(|&c| c as u8).collect();
        assert_eq!(id, b"r-1\0");
        assert!(written.code.contains(&0));
        assert!(written.message.contains(&0));
    }
}
