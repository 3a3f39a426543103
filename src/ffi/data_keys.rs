//! GenerateDataKey and AdvanceGenerateDataKey over the C ABI.

use std::ffi::c_char;

use super::client::client_ref;
use super::client::kms_client;
use super::convert::{bytes, req_str};
use super::guard::guard_void;
use super::response::{self, Block, BlockSlot};
use super::status::{kms_error, kms_status};
use crate::error::Result;
use crate::service::{DataKeyOutput, DataKeyRequest, Encrypted, Which};

/// The default length of a data key (`number_of_bytes` 0).
pub const KMS_DEFAULT_DATA_KEY_LEN: usize = 32;
/// The longest data key.
pub const KMS_MAX_DATA_KEY_LEN: usize = 1024;

/// What `kms_generate_data_key` and `kms_advance_generate_data_key` return.
/// Owned by the caller; free it with `kms_data_key_response_free`, which wipes
/// the plaintext data key first.
#[repr(C)]
pub struct kms_data_key_response {
    /// The data key. Encrypt your data with it, then free the response.
    pub plaintext: *mut u8,
    pub plaintext_len: usize,
    /// The data key encrypted under the KMS key with the GCM of its block cipher.
    /// Advance: the self-describing blob (open with `kms_advance_decrypt`). Plain:
    /// ciphertext || tag (open with `kms_decrypt`, the KeyId, `algorithm` and `iv`).
    pub ciphertext_blob: *mut u8,
    pub ciphertext_blob_len: usize,
    /// The real KeyId, also when an alias was passed.
    pub key_id: *mut c_char,
    /// The version that encrypted the data key.
    pub key_version_id: *mut c_char,
    /// `"AES_GCM"`, or `"SM4_GCM"` for an Aliyun_SM4 key.
    pub algorithm: *mut c_char,
    /// The 12-byte IV.
    pub iv: *mut u8,
    pub iv_len: usize,
    pub request_id: *mut c_char,
}

/// A data-key response in one block ([`Block`]): the struct, its strings, the
/// IV, the encrypted data key and the data key, all wiped when freed.
impl DataKeyOutput for BlockSlot<kms_data_key_response> {
    fn room(
        &mut self,
        e: &Encrypted<'_>,
        blob_len: usize,
        key_len: usize,
    ) -> Result<(&mut [u8], &mut [u8])> {
        type B = Block<kms_data_key_response>;
        let algorithm = e.algorithm.name();
        let strings = B::str_len(e.key_id)
            + B::str_len(e.key_version_id)
            + B::str_len(algorithm)
            + B::str_len(e.request_id);
        let block = self.put(B::new(strings + e.iv.len() + blob_len + key_len, true)?);
        let blob = block.reserve(blob_len)?;
        let key = block.reserve(key_len)?;
        let fields = kms_data_key_response {
            plaintext: key,
            plaintext_len: key_len,
            ciphertext_blob: blob,
            ciphertext_blob_len: blob_len,
            key_id: block.put_str(e.key_id)?,
            key_version_id: block.put_str(e.key_version_id)?,
            algorithm: block.put_str(algorithm)?,
            iv: block.put_bytes(e.iv)?,
            iv_len: e.iv.len(),
            request_id: block.put_str(e.request_id)?,
        };
        *block.response() = fields;
        Ok(block.two_mut(blob, blob_len, key, key_len))
    }
}

/// The body of both exported functions.
///
/// # Safety
/// As documented on `kms_advance_generate_data_key`.
unsafe fn data_key_request<'a>(
    key_id: *const c_char,
    number_of_bytes: u32,
    aad: *const u8,
    aad_len: usize,
) -> Result<DataKeyRequest<'a>> {
    // SAFETY: the pointer rules of the header's top, which the caller promises.
    unsafe {
        Ok(DataKeyRequest {
            key_id: req_str(key_id, "KeyId")?,
            number_of_bytes: (number_of_bytes != 0).then_some(number_of_bytes as usize),
            aad: bytes(aad, aad_len, "Aad")?,
        })
    }
}

/// AdvanceGenerateDataKey: a fresh random data key of `number_of_bytes` (1 to
/// 1024; 0 means 32), returned in plaintext and encrypted with the key's primary
/// version (the GCM of its block cipher; a primary whose 2^32 GCM encryptions are
/// spent is rotated first) into a self-describing blob that `kms_advance_decrypt`
/// opens (give the same `aad`). For envelope encryption: encrypt your data with
/// the plaintext key, keep only the blob.
///
/// Returns `KMS_STATUS_OK` or: INVALID_PARAMETER (`number_of_bytes` over 1024, Aad over
/// 8192 bytes, `(NULL, n > 0)`, a string that is not UTF-8), MISSING_PARAMETER (NULL
/// `client`, `key_id` or `response_out`), KEY_NOT_FOUND, ALIAS_NOT_FOUND (`key_id`
/// names no key or alias), ONLY_SYMMETRIC_KEY_SUPPORTED, KEY_DISABLED,
/// KEY_PENDING_DELETION, KEY_PENDING_IMPORT, KEYSTORE_IO, KEYSTORE_CORRUPT,
/// KEYSTORE_ACCESS_DENIED (file-backed stores: a due rotation, expiry or deletion is
/// written first, or the store is re-read; see the top of this header),
/// INTERNAL_FAILURE (a caught panic, a failed random source, out of memory).
/// Thread-safe.
///
/// # Safety
/// `client` NULL or live; `key_id` NULL or NUL-terminated; `aad` NULL or `aad_len`
/// readable bytes; `response_out` and `error` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_advance_generate_data_key(
    client: *mut kms_client,
    key_id: *const c_char,
    number_of_bytes: u32,
    aad: *const u8,
    aad_len: usize,
    response_out: *mut *mut kms_data_key_response,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: the contract above.
    unsafe {
        response::respond_block(error, response_out, |out| {
            let client = client_ref(client)?;
            let request = data_key_request(key_id, number_of_bytes, aad, aad_len)?;
            client.generate_data_key_into(&request, Which::Primary, out)
        })
    }
}

/// GenerateDataKey: as `kms_advance_generate_data_key`, but encrypted with the
/// key's initial version, and `ciphertext_blob` is the bare ciphertext || tag:
/// open it with `kms_decrypt` given the KeyId, the `algorithm`, the `iv` and `aad`.
/// Like `kms_encrypt`, it refuses with UNSUPPORTED_OPERATION once the initial
/// version has made its 2^32 GCM encryptions.
///
/// Returns the same statuses as `kms_advance_generate_data_key`.
///
/// # Safety
/// As for `kms_advance_generate_data_key`.
#[no_mangle]
pub unsafe extern "C" fn kms_generate_data_key(
    client: *mut kms_client,
    key_id: *const c_char,
    number_of_bytes: u32,
    aad: *const u8,
    aad_len: usize,
    response_out: *mut *mut kms_data_key_response,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: the contract above.
    unsafe {
        response::respond_block(error, response_out, |out| {
            let client = client_ref(client)?;
            let request = data_key_request(key_id, number_of_bytes, aad, aad_len)?;
            client.generate_data_key_into(&request, Which::Initial, out)
        })
    }
}

/// Frees a data-key response: wipes the plaintext data key, then frees it and
/// every other field. NULL is a no-op.
///
/// # Safety
/// `response` is NULL or came from this library and was not freed before.
#[no_mangle]
pub unsafe extern "C" fn kms_data_key_response_free(response: *mut kms_data_key_response) {
    // SAFETY: forwarded contract.
    guard_void(|| unsafe { response::free_block(response, true) })
}
