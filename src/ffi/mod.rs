//! The C ABI: thin `extern "C"` shims over [`crate::service`].
//!
//! Every exported function runs inside one panic guard ([`guard`]), checks its
//! pointers, converts, calls the safe Rust API and maps errors into `kms_error`.
//! Outputs are written only on success. All `unsafe` code of the crate is here.
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

mod client;
mod convert;
mod crypto;
mod data_keys;
mod keys;
mod response;

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, ErrorKind};

pub use client::*;
pub use crypto::*;
pub use data_keys::*;
pub use keys::*;

/// Length of a KeyId (`key-` and 21 characters of `[a-z0-9]`), without the NUL.
pub const KMS_KEY_ID_LEN: usize = 25;
/// Length of a KeyVersionId (`<KeyId>-` and 10 characters), without the NUL.
pub const KMS_KEY_VERSION_ID_LEN: usize = 36;
/// Length of the IV of AES_GCM.
pub const KMS_GCM_IV_LEN: usize = 12;
/// Length of the tag AES_GCM appends to the ciphertext.
pub const KMS_GCM_TAG_LEN: usize = 16;
/// Length of the IV of AES_CBC.
pub const KMS_CBC_IV_LEN: usize = 16;
/// The largest Aad accepted (AES_GCM only).
pub const KMS_MAX_AAD_LEN: usize = 8192;
/// Bytes of an AdvanceEncrypt blob before its IV: `'$'`, version/padding,
/// algorithm, KeyVersionId.
pub const KMS_BLOB_HEADER_LEN: usize = 39;
/// Length of the master key that seals a store file.
pub const KMS_MASTER_KEY_LEN: usize = 32;
/// Size of `kms_error.code`, NUL included.
pub const KMS_ERROR_CODE_SIZE: usize = 64;
/// Size of `kms_error.message`, NUL included.
pub const KMS_ERROR_MESSAGE_SIZE: usize = 512;
/// Size of `kms_error.request_id`, NUL included.
pub const KMS_ERROR_REQUEST_ID_SIZE: usize = 40;

/// The result of every fallible function: `KMS_STATUS_OK` (0) or one of the
/// service's error codes. The numbers are permanent and grouped by class
/// (1xx bad request, 2xx not found, 3xx key state, 4xx key store, 5xx internal);
/// `kms_status_code` gives the service's code string, `kms_status_http_status`
/// its HTTP status.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kms_status {
    /// Success.
    KMS_STATUS_OK = 0,
    /// `InvalidParameter` (400): a value is malformed or out of range.
    KMS_STATUS_INVALID_PARAMETER = 100,
    /// `MissingParameter` (400): a required argument is NULL or empty.
    KMS_STATUS_MISSING_PARAMETER = 101,
    /// `Rejected.UnsupportedOperation` (400), e.g. rotating an EXTERNAL key.
    KMS_STATUS_UNSUPPORTED_OPERATION = 102,
    /// `AliasAlreadyExists` (400).
    KMS_STATUS_ALIAS_ALREADY_EXISTS = 103,
    /// `InvalidKeyMaterial` (400): wrong size, or other material than the key had.
    KMS_STATUS_INVALID_KEY_MATERIAL = 104,
    /// `InvalidCiphertext` (400): the blob cannot be parsed, or authentication or
    /// padding fails. One code for all of these (no padding oracle).
    KMS_STATUS_INVALID_CIPHERTEXT = 105,
    /// `Forbidden.KeyNotFound` (404): no such key, or the blob names a version
    /// this store does not hold.
    KMS_STATUS_KEY_NOT_FOUND = 200,
    /// `Forbidden.AliasNotFound` (404).
    KMS_STATUS_ALIAS_NOT_FOUND = 201,
    /// `Forbidden.OnlySymmetricKeySupported` (404): the key is asymmetric.
    KMS_STATUS_ONLY_SYMMETRIC_KEY_SUPPORTED = 202,
    /// `Rejected.Disabled` (409).
    KMS_STATUS_KEY_DISABLED = 300,
    /// `Rejected.PendingDeletion` (409).
    KMS_STATUS_KEY_PENDING_DELETION = 301,
    /// `Rejected.PendingImport` (409).
    KMS_STATUS_KEY_PENDING_IMPORT = 302,
    /// `KeyStore.IOError` (500): the store file cannot be read or written.
    KMS_STATUS_KEYSTORE_IO = 400,
    /// `KeyStore.Corrupted` (500): not a store, or an unknown format version.
    KMS_STATUS_KEYSTORE_CORRUPT = 401,
    /// `KeyStore.AccessDenied` (403): wrong master key, or unsafe permissions.
    KMS_STATUS_KEYSTORE_ACCESS_DENIED = 402,
    /// `InternalFailure` (500): a caught panic, a failed random source.
    KMS_STATUS_INTERNAL_FAILURE = 500,
}

impl kms_status {
    /// The status of an error kind.
    pub fn of(kind: ErrorKind) -> kms_status {
        match kind {
            ErrorKind::InvalidParameter => kms_status::KMS_STATUS_INVALID_PARAMETER,
            ErrorKind::MissingParameter => kms_status::KMS_STATUS_MISSING_PARAMETER,
            ErrorKind::UnsupportedOperation => kms_status::KMS_STATUS_UNSUPPORTED_OPERATION,
            ErrorKind::AliasAlreadyExists => kms_status::KMS_STATUS_ALIAS_ALREADY_EXISTS,
            ErrorKind::InvalidKeyMaterial => kms_status::KMS_STATUS_INVALID_KEY_MATERIAL,
            ErrorKind::InvalidCiphertext => kms_status::KMS_STATUS_INVALID_CIPHERTEXT,
            ErrorKind::KeyNotFound => kms_status::KMS_STATUS_KEY_NOT_FOUND,
            ErrorKind::AliasNotFound => kms_status::KMS_STATUS_ALIAS_NOT_FOUND,
            ErrorKind::OnlySymmetricKeySupported => {
                kms_status::KMS_STATUS_ONLY_SYMMETRIC_KEY_SUPPORTED
            }
            ErrorKind::KeyDisabled => kms_status::KMS_STATUS_KEY_DISABLED,
            ErrorKind::KeyPendingDeletion => kms_status::KMS_STATUS_KEY_PENDING_DELETION,
            ErrorKind::KeyPendingImport => kms_status::KMS_STATUS_KEY_PENDING_IMPORT,
            ErrorKind::KeyStoreIo => kms_status::KMS_STATUS_KEYSTORE_IO,
            ErrorKind::KeyStoreCorrupt => kms_status::KMS_STATUS_KEYSTORE_CORRUPT,
            ErrorKind::KeyStoreAccessDenied => kms_status::KMS_STATUS_KEYSTORE_ACCESS_DENIED,
            ErrorKind::InternalFailure => kms_status::KMS_STATUS_INTERNAL_FAILURE,
        }
    }
}

/// What went wrong in a failed call. The caller owns it (usually on its stack);
/// the library fills it on failure and leaves it alone on success. Every string
/// is NUL-terminated and cut to fit.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kms_error {
    /// The status the call returned.
    pub status: kms_status,
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

/// Copies `src` into `dst` as a NUL-terminated string, cut at a UTF-8 boundary.
fn copy_c_string(dst: &mut [c_char], src: &str) {
    let room = dst.len().saturating_sub(1);
    let mut end = src.len().min(room);
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    for (d, &s) in dst.iter_mut().zip(src.as_bytes()[..end].iter()) {
        *d = s as c_char;
    }
    for d in dst.iter_mut().skip(end) {
        *d = 0;
    }
}

impl kms_error {
    fn fill(&mut self, e: &Error) {
        self.status = kms_status::of(e.kind());
        self.http_status = e.http_status();
        copy_c_string(&mut self.code, e.code());
        copy_c_string(&mut self.message, e.message());
        copy_c_string(&mut self.request_id, e.request_id());
    }
}

/// Runs the body of an exported function: a panic becomes `InternalFailure`, an
/// error fills `*error` (when not NULL), and the status is returned.
pub(crate) fn guard(error: *mut kms_error, body: impl FnOnce() -> Result<(), Error>) -> kms_status {
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return kms_status::KMS_STATUS_OK,
        Ok(Err(e)) => e,
        Err(_) => Error::internal("The library caught a panic; the call had no effect."),
    };
    // Errors found before the service ran (NULL pointers, bad UTF-8) and caught
    // panics have no RequestId yet: every failed call gets one.
    let failure = if failure.request_id().is_empty() {
        let id = crate::ids::new_request_id().unwrap_or_default();
        failure.with_request_id(&id)
    } else {
        failure
    };
    let status = kms_status::of(failure.kind());
    if !error.is_null() {
        // Filling a fixed-size struct cannot panic; the guard still covers it.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the caller passes NULL or a pointer to a writable kms_error
            // (API.md §2).
            unsafe { (*error).fill(&failure) }
        }));
    }
    status
}

/// The guard for functions that return nothing (the `kms_*_free` functions).
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// The guard for functions that return a value and cannot fail.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_core() {
        assert_eq!(KMS_KEY_ID_LEN, crate::ids::KEY_ID_LEN);
        assert_eq!(KMS_KEY_VERSION_ID_LEN, crate::ids::KEY_VERSION_ID_LEN);
        assert_eq!(KMS_GCM_IV_LEN, crate::crypto::GCM_IV_LEN);
        assert_eq!(KMS_GCM_TAG_LEN, crate::crypto::GCM_TAG_LEN);
        assert_eq!(KMS_CBC_IV_LEN, crate::crypto::CBC_IV_LEN);
        assert_eq!(KMS_MAX_AAD_LEN, crate::crypto::MAX_AAD_LEN);
        assert_eq!(KMS_BLOB_HEADER_LEN, crate::crypto::blob::BLOB_HEADER_LEN);
        assert_eq!(
            KMS_MASTER_KEY_LEN,
            crate::keystore::master_key::MASTER_KEY_LEN
        );
        assert_eq!(
            KMS_DEFAULT_DATA_KEY_LEN,
            crate::service::DEFAULT_DATA_KEY_LEN
        );
        assert_eq!(KMS_MAX_DATA_KEY_LEN, crate::service::MAX_DATA_KEY_LEN);
        for kind in ErrorKind::ALL {
            assert_eq!(kms_status::of(kind) as u32, kind.status());
        }
    }

    #[test]
    fn the_guard_turns_a_panic_into_internal_failure() {
        let mut error: kms_error = unsafe { std::mem::zeroed() };
        let status = guard(&mut error, || panic!("boom"));
        assert_eq!(status, kms_status::KMS_STATUS_INTERNAL_FAILURE);
        assert_eq!(error.http_status, 500);
        let code: Vec<u8> = error
            .code
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        assert_eq!(code, b"InternalFailure");
        assert_ne!(error.request_id[0], 0);
    }

    #[test]
    fn strings_are_cut_at_a_character_boundary() {
        let mut buf = [1 as c_char; 6];
        copy_c_string(&mut buf, "abcé");
        assert_eq!(buf.map(|c| c as u8), [b'a', b'b', b'c', 0xc3, 0xa9, 0]);
        copy_c_string(&mut buf, "abcdé");
        assert_eq!(buf.map(|c| c as u8), [b'a', b'b', b'c', b'd', 0, 0]);
    }
}
