//! The opt-in fast backend (cargo feature `aws-lc`): AES-GCM with 128- and
//! 256-bit keys through aws-lc-rs (AWS-LC's assembly GCM: AES-NI/VAES with
//! CLMUL/VPCLMULQDQ, encryption and GHASH interleaved). The same algorithm, so
//! the same blobs, byte for byte: `KeyCipher` picks it for GCM when the key size
//! has it, and RustCrypto for everything else (AES-192, SM4, CBC, ECB).
//!
//! The key schedule lives in AWS-LC's own allocation (`EVP_AEAD_CTX`), which
//! AWS-LC's `OPENSSL_free` wipes before freeing it.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
use zeroize::Zeroize;

use super::algorithm::CipherFamily;
use super::lengths::{GCM_IV_LEN, GCM_TAG_LEN};
use crate::error::{Error, Result};

pub(crate) struct FastGcm(LessSafeKey);

impl FastGcm {
    /// The fast GCM for an AES key of 16 or 32 bytes; `None` for any other key
    /// (RustCrypto serves it).
    pub(crate) fn new(family: CipherFamily, key: &[u8]) -> Option<FastGcm> {
        let algorithm = match (family, key.len()) {
            (CipherFamily::Aes, 16) => &AES_128_GCM,
            (CipherFamily::Aes, 32) => &AES_256_GCM,
            _ => return None,
        };
        UnboundKey::new(algorithm, key)
            .ok()
            .map(|k| FastGcm(LessSafeKey::new(k)))
    }

    /// Encrypts `plaintext` into `out`, the ciphertext and then the tag
    /// (`plaintext.len() + 16` bytes: `KeyCipher::seal_on_stack` checked),
    /// straight from the caller's buffer: no copy into `out` first (AWS-LC's
    /// scatter seal reads one buffer and writes another; the copy was a memcpy of
    /// the whole plaintext per call).
    pub(crate) fn seal(
        &self,
        iv: &[u8; GCM_IV_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        let (body, tag_out) = out
            .split_at_mut_checked(plaintext.len())
            .ok_or_else(|| Error::internal("The output is too short."))?;
        self.0
            .seal_out_of_place_scatter(
                Nonce::assume_unique_for_key(*iv),
                Aad::from(aad),
                plaintext,
                body,
                &[],
                tag_out,
            )
            .map_err(|_| {
                Error::invalid_parameter("Plaintext", "The plaintext is too long for AES_GCM.")
            })
    }

    /// Decrypts `body` (the ciphertext without its tag) into `out`, of the same
    /// length (`split_gcm` in cipher.rs made both; AWS-LC refuses any other),
    /// straight from the caller's buffer. `out` holds nothing of the
    /// plaintext when the tag is wrong (AWS-LC may have decrypted before it
    /// compared: it is zeroed then).
    pub(crate) fn open(
        &self,
        iv: &[u8; GCM_IV_LEN],
        aad: &[u8],
        body: &[u8],
        tag: &[u8; GCM_TAG_LEN],
        out: &mut [u8],
    ) -> Result<()> {
        let opened = self.0.open_separate_gather(
            Nonce::assume_unique_for_key(*iv),
            Aad::from(aad),
            body,
            tag,
            out,
        );
        if opened.is_err() {
            out.zeroize();
            return Err(Error::invalid_ciphertext());
        }
        Ok(())
    }
}
