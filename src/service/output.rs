//! Where the result of an encryption or decryption is written: the service says
//! what describes it and how many bytes it needs, and the caller gives room for
//! them, so the ciphertext or plaintext is written once, straight into what the
//! caller returns (the C layer: one block with the response struct and its
//! strings; the Rust API: the vectors of its response).

use crate::crypto::SecretBytes;

use super::crypto_ops::{DecryptResponse, EncryptResponse};
use super::data_keys::DataKeyResponse;
use crate::crypto::{buffer, Algorithm, PaddingMode};
use crate::error::{Error, Result};

/// What describes a ciphertext being made, borrowed for the call.
#[derive(Clone, Copy, Debug)]
pub struct Encrypted<'a> {
    pub key_id: &'a str,
    pub key_version_id: &'a str,
    pub algorithm: Algorithm,
    /// Empty for ECB.
    pub iv: &'a [u8],
    pub padding_mode: Option<PaddingMode>,
    pub request_id: &'a str,
}

/// What describes a plaintext being recovered, borrowed for the call.
#[derive(Clone, Copy, Debug)]
pub struct Decrypted<'a> {
    pub key_id: &'a str,
    pub key_version_id: &'a str,
    pub algorithm: Algorithm,
    pub padding_mode: Option<PaddingMode>,
    pub request_id: &'a str,
}

/// Receives an encryption.
pub trait EncryptOutput {
    /// Room for exactly `len` bytes of ciphertext (AdvanceEncrypt: the whole blob),
    /// which the service fills next. Called at most once per call.
    fn room(&mut self, encrypted: &Encrypted<'_>, len: usize) -> Result<&mut [u8]>;
}

/// Receives a decryption.
pub trait DecryptOutput {
    /// Room for up to `max_len` bytes of plaintext. Called at most once per call;
    /// on failure the service leaves no plaintext in it.
    fn room(&mut self, decrypted: &Decrypted<'_>, max_len: usize) -> Result<&mut [u8]>;
    /// The plaintext's length, once it is authenticated.
    fn set_len(&mut self, len: usize);
}

/// Receives a data key and its encryption.
pub trait DataKeyOutput {
    /// Room for exactly `blob_len` bytes of the encrypted data key and `key_len`
    /// bytes of the data key itself (wiped with the response). Called at most once.
    fn room(
        &mut self,
        encrypted: &Encrypted<'_>,
        blob_len: usize,
        key_len: usize,
    ) -> Result<(&mut [u8], &mut [u8])>;
}

/// The encryption of a data key into a [`DataKeyOutput`]: the room for the
/// ciphertext, with the data key copied beside it.
pub(super) struct WithDataKey<'o, 'k, D> {
    pub(super) out: &'o mut D,
    pub(super) key: &'k [u8],
}

impl<D: DataKeyOutput> EncryptOutput for WithDataKey<'_, '_, D> {
    fn room(&mut self, encrypted: &Encrypted<'_>, len: usize) -> Result<&mut [u8]> {
        let (blob, key) = self.out.room(encrypted, len, self.key.len())?;
        key.copy_from_slice(self.key);
        Ok(blob)
    }
}

fn missing() -> Error {
    Error::internal("The operation returned without output.")
}

/// The Rust API's output: an [`EncryptResponse`].
#[derive(Default)]
pub(super) struct EncryptResponseOutput(Option<EncryptResponse>);

impl EncryptResponseOutput {
    pub(super) fn into_response(self) -> Result<EncryptResponse> {
        self.0.ok_or_else(missing)
    }
}

impl EncryptOutput for EncryptResponseOutput {
    fn room(&mut self, e: &Encrypted<'_>, len: usize) -> Result<&mut [u8]> {
        let response = self.0.insert(EncryptResponse {
            ciphertext_blob: buffer::zeroed(len)?,
            key_id: e.key_id.to_owned(),
            key_version_id: e.key_version_id.to_owned(),
            algorithm: e.algorithm,
            iv: e.iv.to_vec(),
            padding_mode: e.padding_mode,
            request_id: e.request_id.to_owned(),
        });
        Ok(&mut response.ciphertext_blob)
    }
}

/// The Rust API's output: a [`DecryptResponse`].
#[derive(Default)]
pub(super) struct DecryptResponseOutput(Option<DecryptResponse>);

impl DecryptResponseOutput {
    pub(super) fn into_response(self) -> Result<DecryptResponse> {
        self.0.ok_or_else(missing)
    }
}

impl DecryptOutput for DecryptResponseOutput {
    fn room(&mut self, d: &Decrypted<'_>, max_len: usize) -> Result<&mut [u8]> {
        let response = self.0.insert(DecryptResponse {
            plaintext: SecretBytes::new(buffer::zeroed(max_len)?),
            key_id: d.key_id.to_owned(),
            key_version_id: d.key_version_id.to_owned(),
            algorithm: d.algorithm,
            padding_mode: d.padding_mode,
            request_id: d.request_id.to_owned(),
        });
        Ok(&mut response.plaintext)
    }

    fn set_len(&mut self, len: usize) {
        if let Some(response) = &mut self.0 {
            // Truncating SecretBytes leaves the cut bytes in its capacity,
            // wiped with the rest on drop.
            response.plaintext.truncate(len);
        }
    }
}

/// The Rust API's output: a [`DataKeyResponse`].
#[derive(Default)]
pub(super) struct DataKeyResponseOutput(Option<DataKeyResponse>);

impl DataKeyResponseOutput {
    pub(super) fn into_response(self) -> Result<DataKeyResponse> {
        self.0.ok_or_else(missing)
    }
}

impl DataKeyOutput for DataKeyResponseOutput {
    fn room(
        &mut self,
        e: &Encrypted<'_>,
        blob_len: usize,
        key_len: usize,
    ) -> Result<(&mut [u8], &mut [u8])> {
        let response = self.0.insert(DataKeyResponse {
            plaintext: SecretBytes::new(buffer::zeroed(key_len)?),
            ciphertext_blob: buffer::zeroed(blob_len)?,
            key_id: e.key_id.to_owned(),
            key_version_id: e.key_version_id.to_owned(),
            algorithm: e.algorithm,
            iv: e.iv.to_vec(),
            request_id: e.request_id.to_owned(),
        });
        Ok((&mut response.ciphertext_blob, &mut response.plaintext))
    }
}
