//! The sizes and limits of the C ABI, as constants for C callers.

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

/// The largest plaintext one call encrypts: AES-GCM's limit of 2^36 - 32 bytes
/// (NIST SP 800-38D). A longer one is `KMS_STATUS_INVALID_PARAMETER`.
pub const KMS_MAX_PLAINTEXT_LEN: u64 = 68_719_476_704;
/// The largest ciphertext blob one call decrypts: the largest plaintext with the
/// largest header, IV, padding and tag. A longer one is
/// `KMS_STATUS_INVALID_CIPHERTEXT`.
pub const KMS_MAX_CIPHERTEXT_BLOB_LEN: u64 = 68_719_476_775;

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
        assert_eq!(KMS_MAX_PLAINTEXT_LEN, crate::crypto::MAX_PLAINTEXT_LEN);
        assert_eq!(
            KMS_MAX_CIPHERTEXT_BLOB_LEN,
            crate::crypto::MAX_CIPHERTEXT_LEN
        );
        assert_eq!(
            KMS_MASTER_KEY_LEN,
            crate::keystore::master_key::MASTER_KEY_LEN
        );
        assert_eq!(
            super::super::data_keys::KMS_DEFAULT_DATA_KEY_LEN,
            crate::service::DEFAULT_DATA_KEY_LEN
        );
        assert_eq!(
            super::super::data_keys::KMS_MAX_DATA_KEY_LEN,
            crate::service::MAX_DATA_KEY_LEN
        );
    }
}
