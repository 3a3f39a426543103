//! AdvanceEncrypt, Encrypt, AdvanceDecrypt, Decrypt over the C ABI.
//! (Over 400 lines because its 6 exports and 2 response structs carry their C documentation, which cbindgen copies into include/localkms.h in file order.)

use std::ffi::c_char;
use std::ptr::null_mut;

use super::client::client_ref;
use super::client::kms_client;
use super::convert::{bytes, opt_str, req_str};
use super::guard::guard_void;
use super::response::{self, Block, BlockSlot};
use super::status::{kms_error, kms_status};
use crate::crypto::padding_name;
use crate::error::Result;
use crate::service::{
    DecryptOutput, DecryptRequest, Decrypted, EncryptOutput, EncryptRequest, Encrypted, Which,
};

/// What `kms_advance_encrypt` and `kms_encrypt` return. Owned by the caller; free
/// the whole of it, fields included, with `kms_encrypt_response_free`. Byte fields
/// are NULL when their length is 0; strings are NUL-terminated.
#[repr(C)]
pub struct kms_encrypt_response {
    /// `kms_advance_encrypt`: the self-describing blob (its layout is at the top of this header), opened by
    /// `kms_advance_decrypt` from itself alone. `kms_encrypt`: the bare ciphertext
    /// (AES_GCM: ciphertext || 16-byte tag).
    pub ciphertext_blob: *mut u8,
    pub ciphertext_blob_len: usize,
    /// The real KeyId, also when an alias was passed.
    pub key_id: *mut c_char,
    /// The version that encrypted.
    pub key_version_id: *mut c_char,
    /// `"AES_GCM"`, `"AES_CBC"`, `"AES_ECB"`, `"SM4_GCM"`, `"SM4_CBC"` or `"SM4_ECB"`.
    pub algorithm: *mut c_char,
    /// The IV used (12 bytes for GCM, 16 for CBC); NULL and 0 for ECB.
    pub iv: *mut u8,
    pub iv_len: usize,
    /// `"PKCS7_PADDING"` or `"NO_PADDING"` for CBC / ECB; `""` for GCM.
    pub padding_mode: *mut c_char,
    /// A fresh UUID for every call.
    pub request_id: *mut c_char,
}

/// What `kms_advance_decrypt` and `kms_decrypt` return. Owned by the caller; free
/// it with `kms_decrypt_response_free`, which wipes the plaintext first.
#[repr(C)]
pub struct kms_decrypt_response {
    /// The plaintext; NULL when it is empty (`plaintext_len` 0).
    pub plaintext: *mut u8,
    pub plaintext_len: usize,
    pub key_id: *mut c_char,
    /// The version that decrypted.
    pub key_version_id: *mut c_char,
    pub algorithm: *mut c_char,
    /// `""` for AES_GCM.
    pub padding_mode: *mut c_char,
    pub request_id: *mut c_char,
}

/// An encrypt response in one block ([`Block`]): the struct, its strings, the IV
/// and the ciphertext, which the service writes into it directly.
impl EncryptOutput for BlockSlot<kms_encrypt_response> {
    fn room(&mut self, e: &Encrypted<'_>, len: usize) -> Result<&mut [u8]> {
        type B = Block<kms_encrypt_response>;
        let algorithm = e.algorithm.name();
        let padding = padding_name(e.padding_mode);
        let strings = [e.key_id, e.key_version_id, algorithm, padding, e.request_id];
        let strings_len = B::strs_len(&strings);
        let block = self.put(B::new(strings_len + e.iv.len() + len, false)?);
        let blob = block.reserve(len)?;
        let iv = block.put_bytes(e.iv)?;
        let [key_id, key_version_id, algorithm, padding_mode, request_id] =
            block.put_strs(strings)?;
        let fields = kms_encrypt_response {
            ciphertext_blob: blob,
            ciphertext_blob_len: len,
            key_id,
            key_version_id,
            algorithm,
            iv,
            iv_len: e.iv.len(),
            padding_mode,
            request_id,
        };
        *block.response() = fields;
        Ok(block.bytes_mut(blob, len))
    }
}

/// A decrypt response in one block: the struct, its strings and the plaintext,
/// all wiped when freed.
impl DecryptOutput for BlockSlot<kms_decrypt_response> {
    fn room(&mut self, d: &Decrypted<'_>, max_len: usize) -> Result<&mut [u8]> {
        type B = Block<kms_decrypt_response>;
        let algorithm = d.algorithm.name();
        let padding = padding_name(d.padding_mode);
        let strings = [d.key_id, d.key_version_id, algorithm, padding, d.request_id];
        let block = self.put(B::new(B::strs_len(&strings) + max_len, true)?);
        let plaintext = block.reserve(max_len)?;
        let [key_id, key_version_id, algorithm, padding_mode, request_id] =
            block.put_strs(strings)?;
        let fields = kms_decrypt_response {
            plaintext,
            plaintext_len: max_len,
            key_id,
            key_version_id,
            algorithm,
            padding_mode,
            request_id,
        };
        *block.response() = fields;
        Ok(block.bytes_mut(plaintext, max_len))
    }

    fn set_len(&mut self, len: usize) {
        if let Some(block) = self.block_mut() {
            let response = block.response();
            response.plaintext_len = len.min(response.plaintext_len);
            if response.plaintext_len == 0 {
                // The header's rule: an empty plaintext is NULL.
                response.plaintext = null_mut();
            }
        }
    }
}

/// AdvanceEncrypt: encrypts `plaintext` with the key's primary version and returns
/// the self-describing blob (its layout is at the top of this header) with every
/// response field.
///
/// GCM invocations are counted per key version, across every client of the store:
/// at most 2^32 (NIST SP 800-38D's limit with random 96-bit IVs). When the primary
/// version's budget is spent, the key is rotated and the new primary encrypts (an
/// EXTERNAL key, which cannot rotate, is refused with UNSUPPORTED_OPERATION).
///
/// - `key_id`: a KeyId or an alias (`alias/...`). Required.
/// - `plaintext`, `plaintext_len`: the bytes to encrypt; `(NULL, 0)` is empty.
/// - `algorithm`: NULL or `""`: the GCM of the key's block cipher (`"AES_GCM"`,
///   `"SM4_GCM"` for an Aliyun_SM4 key); `"AES_CBC"`, `"AES_ECB"`, `"SM4_CBC"`,
///   `"SM4_ECB"` only for a key created with them (UNSUPPORTED_OPERATION
///   otherwise, naming the algorithms the key permits).
/// - `iv`, `iv_len`: NULL for a fresh random IV (advised); otherwise exactly 12
///   bytes for GCM, 16 for CBC, none for ECB.
/// - `aad`, `aad_len`: GCM only, at most 8192 bytes; give it again to decrypt.
/// - `padding_mode`: CBC / ECB only: `"PKCS7_PADDING"` (NULL: the default) or
///   `"NO_PADDING"` (the plaintext length must be a multiple of 16).
/// - `response_out`: receives the response on success; free it with
///   `kms_encrypt_response_free`. Not written on failure.
///
/// Returns `KMS_STATUS_OK` or: MISSING_PARAMETER (NULL `client`, `key_id` or
/// `response_out`), INVALID_PARAMETER (algorithm, padding, IV length, Aad, NO_PADDING
/// length, a plaintext over KMS_MAX_PLAINTEXT_LEN, `(NULL, n > 0)`, a string that is
/// not UTF-8), KEY_NOT_FOUND, ALIAS_NOT_FOUND (`key_id` names no key or alias),
/// ONLY_SYMMETRIC_KEY_SUPPORTED, KEY_DISABLED, KEY_PENDING_DELETION,
/// KEY_PENDING_IMPORT, KEYSTORE_IO, KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED
/// (file-backed stores: a due rotation, expiry or deletion is written first, or the
/// store is re-read; see the top of this header), INTERNAL_FAILURE (a caught panic, a
/// failed random source, out of memory). Thread-safe.
///
/// # Safety
/// Strings are NULL or NUL-terminated; each byte pointer is NULL or points to its
/// length of readable bytes; `response_out` and `error` are NULL or writable;
/// `client` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn kms_advance_encrypt(
    client: *mut kms_client,
    key_id: *const c_char,
    plaintext: *const u8,
    plaintext_len: usize,
    algorithm: *const c_char,
    iv: *const u8,
    iv_len: usize,
    aad: *const u8,
    aad_len: usize,
    padding_mode: *const c_char,
    response_out: *mut *mut kms_encrypt_response,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY (whole body): the pointer rules of the header's top, which the caller
    // promises (see above).
    unsafe {
        response::respond_block(error, response_out, |out| {
            let client = client_ref(client)?;
            let request = EncryptRequest {
                key_id: req_str(key_id, "KeyId")?,
                plaintext: bytes(plaintext, plaintext_len, "Plaintext")?,
                algorithm: opt_str(algorithm, "Algorithm")?,
                iv: bytes(iv, iv_len, "Iv")?,
                aad: bytes(aad, aad_len, "Aad")?,
                padding_mode: opt_str(padding_mode, "PaddingMode")?,
            };
            client.encrypt_into(&request, Which::Primary, out)
        })
    }
}

/// Encrypt: as `kms_advance_encrypt`, but with the key's initial version, whatever
/// rotations happened, and `ciphertext_blob` is the bare ciphertext (AES_GCM:
/// ciphertext || tag). Keep the KeyId, algorithm, IV and padding mode: decrypt with
/// `kms_decrypt` (or `kms_advance_decrypt` given `key_id`). Rotation never changes
/// what this function uses, so once the initial version has made its 2^32 GCM
/// encryptions this function refuses with UNSUPPORTED_OPERATION: use
/// `kms_advance_encrypt`, which rotates.
///
/// Returns the same statuses as `kms_advance_encrypt`.
///
/// # Safety
/// As for `kms_advance_encrypt`.
#[no_mangle]
pub unsafe extern "C" fn kms_encrypt(
    client: *mut kms_client,
    key_id: *const c_char,
    plaintext: *const u8,
    plaintext_len: usize,
    algorithm: *const c_char,
    iv: *const u8,
    iv_len: usize,
    aad: *const u8,
    aad_len: usize,
    padding_mode: *const c_char,
    response_out: *mut *mut kms_encrypt_response,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY (whole body): the pointer rules of the header's top, which the caller
    // promises (see above).
    unsafe {
        response::respond_block(error, response_out, |out| {
            let client = client_ref(client)?;
            let request = EncryptRequest {
                key_id: req_str(key_id, "KeyId")?,
                plaintext: bytes(plaintext, plaintext_len, "Plaintext")?,
                algorithm: opt_str(algorithm, "Algorithm")?,
                iv: bytes(iv, iv_len, "Iv")?,
                aad: bytes(aad, aad_len, "Aad")?,
                padding_mode: opt_str(padding_mode, "PaddingMode")?,
            };
            client.encrypt_into(&request, Which::Initial, out)
        })
    }
}

/// Frees an encrypt response and every field in it. NULL is a no-op.
///
/// # Safety
/// `response` is NULL or came from this library and was not freed before.
#[no_mangle]
pub unsafe extern "C" fn kms_encrypt_response_free(response: *mut kms_encrypt_response) {
    // SAFETY: forwarded contract.
    guard_void(|| unsafe { response::free_block(response, false) })
}

/// AdvanceDecrypt.
///
/// With `key_id` NULL: opens a `kms_advance_encrypt` blob, or the shared-gateway
/// form `KeyVersionId | Iv | ciphertext || tag` (see the top of this header),
/// from the blob and `aad` alone, with the version recorded in it (rotation never
/// breaks old blobs). An `iv` given with it is ignored, as the service does
/// (Alibaba's SDKs send `blob[36:48]`, the PHP one up to 48 bytes). `algorithm`
/// and `padding_mode` may be NULL, or name what the caller expects: a blob made
/// otherwise is then `INVALID_CIPHERTEXT`. A blob whose header names an
/// algorithm the key does not permit is `INVALID_CIPHERTEXT` too (the key cannot
/// have made it), so a GCM blob relabelled as a block mode never decrypts.
///
/// With `key_id` given: the blob is `kms_encrypt` output, decrypted with the
/// key's initial version, and `algorithm` (NULL: the key's GCM), `iv` (required
/// for GCM and CBC) and `padding_mode` say how it was made (the service's rule).
///
/// `response_out` receives the response on success; free it with
/// `kms_decrypt_response_free` (which wipes the plaintext).
///
/// Returns `KMS_STATUS_OK` or: INVALID_CIPHERTEXT (every way a ciphertext can fail:
/// parse, tag, padding, length, wrong Aad, over KMS_MAX_CIPHERTEXT_BLOB_LEN),
/// KEY_NOT_FOUND (also for a blob naming a version this store does not hold),
/// MISSING_PARAMETER (NULL `client` or `response_out`, an empty blob),
/// INVALID_PARAMETER (algorithm, padding, IV, Aad, `(NULL, n > 0)`, a string that is
/// not UTF-8), ALIAS_NOT_FOUND, ONLY_SYMMETRIC_KEY_SUPPORTED, KEY_DISABLED,
/// KEY_PENDING_DELETION, KEY_PENDING_IMPORT, KEYSTORE_IO, KEYSTORE_CORRUPT,
/// KEYSTORE_ACCESS_DENIED (file-backed stores: a due rotation, expiry or deletion is
/// written first, or the store is re-read; see the top of this header),
/// INTERNAL_FAILURE (a caught panic, a failed random source, out of memory).
/// Thread-safe.
///
/// # Safety
/// As for `kms_advance_encrypt`.
#[no_mangle]
pub unsafe extern "C" fn kms_advance_decrypt(
    client: *mut kms_client,
    ciphertext_blob: *const u8,
    ciphertext_blob_len: usize,
    key_id: *const c_char,
    algorithm: *const c_char,
    iv: *const u8,
    iv_len: usize,
    aad: *const u8,
    aad_len: usize,
    padding_mode: *const c_char,
    response_out: *mut *mut kms_decrypt_response,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY (whole body): the pointer rules of the header's top, which the caller
    // promises (see kms_advance_encrypt).
    unsafe {
        response::respond_block(error, response_out, |out| {
            let client = client_ref(client)?;
            let request = DecryptRequest {
                ciphertext_blob: bytes(ciphertext_blob, ciphertext_blob_len, "CiphertextBlob")?,
                key_id: opt_str(key_id, "KeyId")?,
                algorithm: opt_str(algorithm, "Algorithm")?,
                iv: bytes(iv, iv_len, "Iv")?,
                aad: bytes(aad, aad_len, "Aad")?,
                padding_mode: opt_str(padding_mode, "PaddingMode")?,
            };
            client.decrypt_into(&request, Which::Primary, out)
        })
    }
}

/// Decrypt: opens `kms_encrypt` output with the key's initial version. `key_id`
/// is required (MISSING_PARAMETER when NULL); the other parameters are those of
/// `kms_advance_decrypt` with `key_id` given.
///
/// Returns the same statuses as `kms_advance_decrypt`.
///
/// # Safety
/// As for `kms_advance_encrypt`.
#[no_mangle]
pub unsafe extern "C" fn kms_decrypt(
    client: *mut kms_client,
    ciphertext_blob: *const u8,
    ciphertext_blob_len: usize,
    key_id: *const c_char,
    algorithm: *const c_char,
    iv: *const u8,
    iv_len: usize,
    aad: *const u8,
    aad_len: usize,
    padding_mode: *const c_char,
    response_out: *mut *mut kms_decrypt_response,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY (whole body): the pointer rules of the header's top, which the caller
    // promises (see kms_advance_encrypt).
    unsafe {
        response::respond_block(error, response_out, |out| {
            let client = client_ref(client)?;
            let request = DecryptRequest {
                ciphertext_blob: bytes(ciphertext_blob, ciphertext_blob_len, "CiphertextBlob")?,
                key_id: opt_str(key_id, "KeyId")?,
                algorithm: opt_str(algorithm, "Algorithm")?,
                iv: bytes(iv, iv_len, "Iv")?,
                aad: bytes(aad, aad_len, "Aad")?,
                padding_mode: opt_str(padding_mode, "PaddingMode")?,
            };
            client.decrypt_into(&request, Which::Initial, out)
        })
    }
}

/// Frees a decrypt response: wipes the plaintext, then frees it and every other
/// field. NULL is a no-op.
///
/// # Safety
/// `response` is NULL or came from this library and was not freed before.
#[no_mangle]
pub unsafe extern "C" fn kms_decrypt_response_free(response: *mut kms_decrypt_response) {
    // SAFETY: forwarded contract.
    guard_void(|| unsafe { response::free_block(response, true) })
}
