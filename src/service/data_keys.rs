//! GenerateDataKey and AdvanceGenerateDataKey: a fresh random data key, returned
//! in plaintext and encrypted under the KMS key (the GCM of its block cipher), for
//! envelope encryption.

use crate::crypto::SecretBytes;
use zeroize::Zeroizing;

use super::client::Client;
use super::crypto_ops::{EncryptRequest, Which};
use super::output::{DataKeyOutput, DataKeyResponseOutput, WithDataKey};
use super::redacted::Redacted;
use crate::crypto::Algorithm;
use crate::error::{Error, Result};
use crate::random::fill_random;

/// The default and the bounds of NumberOfBytes.
pub const DEFAULT_DATA_KEY_LEN: usize = 32;
pub const MAX_DATA_KEY_LEN: usize = 1024;

/// The parameters of GenerateDataKey and AdvanceGenerateDataKey.
#[derive(Clone, Copy, Debug, Default)]
pub struct DataKeyRequest<'a> {
    /// A KeyId or an alias.
    pub key_id: &'a str,
    /// 1 to 1024; `None` is 32.
    pub number_of_bytes: Option<usize>,
    /// Given again to decrypt the blob; at most 8192 bytes.
    pub aad: &'a [u8],
}

/// A data key: use `plaintext` and throw it away; keep `ciphertext_blob`. The
/// plaintext key is wiped when dropped and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKeyResponse {
    /// The data key itself; wiped when dropped.
    pub plaintext: SecretBytes,
    /// AdvanceGenerateDataKey: the self-describing blob, opened by
    /// AdvanceDecrypt. GenerateDataKey: the bare ciphertext || tag, opened by
    /// Decrypt with the KeyId, AES_GCM and `iv`.
    pub ciphertext_blob: Vec<u8>,
    pub key_id: String,
    pub key_version_id: String,
    pub algorithm: Algorithm,
    pub iv: Vec<u8>,
    pub request_id: String,
}

impl std::fmt::Debug for DataKeyResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeyResponse")
            .field("plaintext", &Redacted(self.plaintext.len()))
            .field("ciphertext_blob", &self.ciphertext_blob)
            .field("key_id", &self.key_id)
            .field("key_version_id", &self.key_version_id)
            .field("algorithm", &self.algorithm)
            .field("iv", &self.iv)
            .field("request_id", &self.request_id)
            .finish()
    }
}

impl Client {
    /// AdvanceGenerateDataKey: a data key encrypted with the key's primary version
    /// into a self-describing blob.
    pub fn advance_generate_data_key(
        &self,
        request: &DataKeyRequest<'_>,
    ) -> Result<DataKeyResponse> {
        let mut out = DataKeyResponseOutput::default();
        self.generate_data_key_into(request, Which::Primary, &mut out)?;
        out.into_response()
    }

    /// GenerateDataKey: a data key encrypted with the key's initial version
    /// (bare ciphertext, AES_GCM).
    pub fn generate_data_key(&self, request: &DataKeyRequest<'_>) -> Result<DataKeyResponse> {
        let mut out = DataKeyResponseOutput::default();
        self.generate_data_key_into(request, Which::Initial, &mut out)?;
        out.into_response()
    }

    /// AdvanceGenerateDataKey ([`Which::Primary`]) or GenerateDataKey
    /// ([`Which::Initial`]) into `out`: the C layer's one-block responses.
    pub(crate) fn generate_data_key_into(
        &self,
        request: &DataKeyRequest<'_>,
        which: Which,
        out: &mut impl DataKeyOutput,
    ) -> Result<()> {
        self.call_with_iv(|request_id, now, iv_random| {
            let len = request.number_of_bytes.unwrap_or(DEFAULT_DATA_KEY_LEN);
            if !(1..=MAX_DATA_KEY_LEN).contains(&len) {
                return Err(Error::invalid_parameter(
                    "NumberOfBytes",
                    format!("A data key is 1 to {MAX_DATA_KEY_LEN} bytes; {len} were asked for."),
                ));
            }
            // Key material: from the OS generator, into a buffer wiped on return,
            // then copied once, into the response beside its encryption.
            let mut key = Zeroizing::new([0u8; MAX_DATA_KEY_LEN]);
            fill_random(&mut key[..len])?;
            self.encrypt_with(
                &EncryptRequest {
                    key_id: request.key_id,
                    plaintext: &key[..len],
                    // The GCM of the key's block cipher (AES_GCM, SM4_GCM).
                    algorithm: None,
                    iv: &[],
                    aad: request.aad,
                    padding_mode: None,
                },
                which,
                request_id,
                now,
                iv_random,
                &mut WithDataKey {
                    out,
                    key: &key[..len],
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::service::{CreateKeyRequest, DecryptRequest};

    #[test]
    fn data_keys_decrypt_to_themselves() {
        let client = Client::in_memory();
        let key_id = client
            .create_key(&CreateKeyRequest::default())
            .unwrap()
            .value
            .key_id;
        let first = client
            .encrypt(&crate::service::EncryptRequest {
                key_id: &key_id,
                plaintext: b"x",
                ..Default::default()
            })
            .unwrap()
            .key_version_id;
        client.rotate_key(&key_id).unwrap();

        let advance = client
            .advance_generate_data_key(&DataKeyRequest {
                key_id: &key_id,
                aad: b"ctx",
                ..Default::default()
            })
            .unwrap();
        assert_eq!(advance.plaintext.len(), 32);
        assert_ne!(advance.key_version_id, first);
        let opened = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &advance.ciphertext_blob,
                aad: b"ctx",
                ..Default::default()
            })
            .unwrap();
        assert_eq!(opened.plaintext, advance.plaintext);

        let bare = client
            .generate_data_key(&DataKeyRequest {
                key_id: &key_id,
                number_of_bytes: Some(1024),
                aad: b"",
            })
            .unwrap();
        assert_eq!(bare.plaintext.len(), 1024);
        assert_eq!(bare.key_version_id, first);
        assert_eq!(bare.ciphertext_blob.len(), 1024 + 16);
        let opened = client
            .decrypt(&DecryptRequest {
                ciphertext_blob: &bare.ciphertext_blob,
                key_id: Some(&key_id),
                iv: &bare.iv,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(opened.plaintext, bare.plaintext);
        let a = client
            .generate_data_key(&DataKeyRequest {
                key_id: &key_id,
                ..Default::default()
            })
            .unwrap();
        let b = client
            .generate_data_key(&DataKeyRequest {
                key_id: &key_id,
                ..Default::default()
            })
            .unwrap();
        assert_ne!(a.plaintext, b.plaintext, "every data key is fresh");
    }

    #[test]
    fn number_of_bytes_is_checked() {
        let client = Client::in_memory();
        let key_id = client
            .create_key(&CreateKeyRequest::default())
            .unwrap()
            .value
            .key_id;
        for n in [0, 1025, usize::MAX] {
            let err = client
                .generate_data_key(&DataKeyRequest {
                    key_id: &key_id,
                    number_of_bytes: Some(n),
                    aad: b"",
                })
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidParameter);
            assert!(err.message().contains("NumberOfBytes"));
        }
        let err = client
            .generate_data_key(&DataKeyRequest {
                key_id: "",
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingParameter);
    }
}
