//! The ready cipher of one key version: the AES or SM4 key schedule and the GHASH
//! key, expanded once when the version is loaded and reused by every call.

use aes::cipher::block_padding::{NoPadding, Pkcs7};
use aes::cipher::consts::{U12, U16};
use aes::cipher::crypto_common::InnerInit;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{
    BlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut, InnerIvInit, KeyInit,
};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::AesGcm;
use sm4::Sm4;
use zeroize::Zeroizing;

use super::padding::{pkcs7_pad_len, pkcs7_unpadded_len};
use super::{
    ciphertext_len, CipherFamily, CipherParams, Mode, PaddingMode, BLOCK_LEN, GCM_TAG_LEN,
};
use crate::error::{Error, Result};

use super::wiped_box::WipedBox;

/// AES or SM4 under one key, ready for GCM, CBC and ECB.
pub struct KeyCipher {
    inner: Inner,
}

/// Each suite lives in a [`WipedBox`]: the `Drop` of the cipher crates does not
/// wipe all of what they hold (see there).
enum Inner {
    Aes128(WipedBox<Suite<Aes128>>),
    Aes192(WipedBox<Suite<Aes192>>),
    Aes256(WipedBox<Suite<Aes256>>),
    Sm4(WipedBox<Suite<Sm4>>),
}

impl std::fmt::Debug for KeyCipher {
    // Never shows key bytes (docs/c-api.md §5): only the key size.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.inner {
            Inner::Sm4(_) => write!(f, "KeyCipher(SM4)"),
            _ => write!(f, "KeyCipher(AES-{})", self.key_len() * 8),
        }
    }
}

struct Suite<C: BlockCipher<BlockSize = U16> + BlockEncrypt> {
    gcm: AesGcm<C, U12>,
    block: C,
}

impl<C> Suite<C>
where
    C: BlockCipher<BlockSize = U16> + BlockEncrypt + BlockDecrypt + KeyInit + Clone,
{
    fn new(key: &[u8]) -> Result<Self> {
        let block = C::new_from_slice(key)
            .map_err(|_| Error::invalid_key_material("The key length does not fit the cipher."))?;
        let gcm = AesGcm::<C, U12>::new_from_slice(key)
            .map_err(|_| Error::invalid_key_material("The key length does not fit the cipher."))?;
        Ok(Suite { gcm, block })
    }

    fn seal(&self, params: &CipherParams<'_>, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        super::buffer::check_plaintext_len(plaintext.len())?;
        let start = out.len();
        let room = ciphertext_len(params.algorithm, params.padding, plaintext.len());
        super::buffer::reserve(out, room)?;
        out.extend_from_slice(plaintext);
        match params.algorithm.mode() {
            Mode::Gcm => {
                let nonce = GenericArray::from_slice(params.iv);
                let tag = self
                    .gcm
                    .encrypt_in_place_detached(nonce, params.aad, &mut out[start..])
                    .map_err(|_| {
                        out.truncate(start);
                        Error::invalid_parameter(
                            "Plaintext",
                            "The plaintext is too long for AES_GCM.",
                        )
                    })?;
                out.extend_from_slice(&tag);
            }
            Mode::Cbc | Mode::Ecb => {
                let padded_len = match params.padding {
                    Some(PaddingMode::Pkcs7) => plaintext.len() + pkcs7_pad_len(plaintext.len()),
                    _ => plaintext.len(),
                };
                out.resize(start + padded_len, 0);
                let buf = &mut out[start..];
                let len = plaintext.len();
                let done = match (params.algorithm.mode(), params.padding) {
                    (Mode::Cbc, Some(PaddingMode::Pkcs7)) => self
                        .cbc_encryptor(params.iv)
                        .encrypt_padded_mut::<Pkcs7>(buf, len)
                        .is_ok(),
                    (Mode::Cbc, _) => self
                        .cbc_encryptor(params.iv)
                        .encrypt_padded_mut::<NoPadding>(buf, len)
                        .is_ok(),
                    (_, Some(PaddingMode::Pkcs7)) => self
                        .ecb_encryptor()
                        .encrypt_padded_mut::<Pkcs7>(buf, len)
                        .is_ok(),
                    (_, _) => self
                        .ecb_encryptor()
                        .encrypt_padded_mut::<NoPadding>(buf, len)
                        .is_ok(),
                };
                if !done {
                    out.truncate(start);
                    return Err(Error::invalid_parameter(
                        "Plaintext",
                        "With NO_PADDING the plaintext length must be a multiple of 16 bytes.",
                    ));
                }
            }
        }
        Ok(())
    }

    fn open(&self, params: &CipherParams<'_>, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        match params.algorithm.mode() {
            Mode::Gcm => {
                if ciphertext.len() < GCM_TAG_LEN {
                    return Err(Error::invalid_ciphertext());
                }
                let (body, tag) = ciphertext.split_at(ciphertext.len() - GCM_TAG_LEN);
                let mut out = Zeroizing::new(super::buffer::copy_of(body)?);
                self.gcm
                    .decrypt_in_place_detached(
                        GenericArray::from_slice(params.iv),
                        params.aad,
                        &mut out,
                        GenericArray::from_slice(tag),
                    )
                    .map_err(|_| Error::invalid_ciphertext())?;
                Ok(out)
            }
            Mode::Cbc | Mode::Ecb => {
                let pkcs7 = params.padding == Some(PaddingMode::Pkcs7);
                // Lengths are public: these checks reveal nothing about the plaintext.
                if !ciphertext.len().is_multiple_of(BLOCK_LEN) || (pkcs7 && ciphertext.is_empty()) {
                    return Err(Error::invalid_ciphertext());
                }
                let mut out = Zeroizing::new(super::buffer::copy_of(ciphertext)?);
                let decrypted = if params.algorithm.mode() == Mode::Cbc {
                    self.cbc_decryptor(params.iv)
                        .decrypt_padded_mut::<NoPadding>(&mut out)
                        .is_ok()
                } else {
                    self.ecb_decryptor()
                        .decrypt_padded_mut::<NoPadding>(&mut out)
                        .is_ok()
                };
                if !decrypted {
                    return Err(Error::invalid_ciphertext());
                }
                if pkcs7 {
                    // `out` is wiped on drop when the padding is bad.
                    let len = pkcs7_unpadded_len(&out).ok_or_else(Error::invalid_ciphertext)?;
                    out.truncate(len);
                }
                Ok(out)
            }
        }
    }

    fn cbc_encryptor(&self, iv: &[u8]) -> cbc::Encryptor<C> {
        cbc::Encryptor::inner_iv_init(self.block.clone(), GenericArray::from_slice(iv))
    }

    fn cbc_decryptor(&self, iv: &[u8]) -> cbc::Decryptor<C> {
        cbc::Decryptor::inner_iv_init(self.block.clone(), GenericArray::from_slice(iv))
    }

    fn ecb_encryptor(&self) -> ecb::Encryptor<C> {
        ecb::Encryptor::inner_init(self.block.clone())
    }

    fn ecb_decryptor(&self) -> ecb::Decryptor<C> {
        ecb::Decryptor::inner_init(self.block.clone())
    }
}

impl KeyCipher {
    /// Refuses a key of a length its block cipher does not take: AES keys are 16,
    /// 24 or 32 bytes, SM4 keys 16.
    pub fn check_key_len(family: CipherFamily, len: usize) -> Result<()> {
        match (family, len) {
            (CipherFamily::Aes, 16 | 24 | 32) | (CipherFamily::Sm4, 16) => Ok(()),
            (CipherFamily::Aes, n) => Err(Error::invalid_key_material(format!(
                "AES key material is 16, 24 or 32 bytes; {n} bytes were given."
            ))),
            (CipherFamily::Sm4, n) => Err(Error::invalid_key_material(format!(
                "SM4 key material is 16 bytes; {n} bytes were given."
            ))),
        }
    }

    /// Expands `key` for every mode (its length checked by [`KeyCipher::check_key_len`]).
    pub fn new(family: CipherFamily, key: &[u8]) -> Result<KeyCipher> {
        KeyCipher::check_key_len(family, key.len())?;
        let inner = match (family, key.len()) {
            (CipherFamily::Aes, 16) => Inner::Aes128(WipedBox::new(Suite::new(key)?)),
            (CipherFamily::Aes, 24) => Inner::Aes192(WipedBox::new(Suite::new(key)?)),
            (CipherFamily::Aes, _) => Inner::Aes256(WipedBox::new(Suite::new(key)?)),
            (CipherFamily::Sm4, _) => Inner::Sm4(WipedBox::new(Suite::new(key)?)),
        };
        Ok(KeyCipher { inner })
    }

    /// The block cipher of this key.
    pub fn family(&self) -> CipherFamily {
        match self.inner {
            Inner::Sm4(_) => CipherFamily::Sm4,
            _ => CipherFamily::Aes,
        }
    }

    /// The key length in bytes.
    pub fn key_len(&self) -> usize {
        match self.inner {
            Inner::Aes128(_) | Inner::Sm4(_) => 16,
            Inner::Aes192(_) => 24,
            Inner::Aes256(_) => 32,
        }
    }

    /// Refuses an algorithm of another block cipher (the service layer checks this
    /// first; this keeps a mistake there from running AES parameters through SM4).
    fn check_family(&self, params: &CipherParams<'_>) -> Result<()> {
        if params.algorithm.family() == self.family() {
            Ok(())
        } else {
            Err(Error::internal(format!(
                "{} was asked of a key of another block cipher.",
                params.algorithm.name()
            )))
        }
    }

    /// Encrypts `plaintext` and appends the ciphertext (GCM: with its tag) to `out`.
    /// `params` must be checked already: the IV has the algorithm's length. On error
    /// `out` is left as it was.
    pub fn seal(
        &self,
        params: &CipherParams<'_>,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<()> {
        self.check_family(params)?;
        match &self.inner {
            Inner::Aes128(s) => s.seal(params, plaintext, out),
            Inner::Aes192(s) => s.seal(params, plaintext, out),
            Inner::Aes256(s) => s.seal(params, plaintext, out),
            Inner::Sm4(s) => s.seal(params, plaintext, out),
        }
    }

    /// Decrypts; every failure is `InvalidCiphertext` and yields no plaintext.
    pub fn open(&self, params: &CipherParams<'_>, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        // A wrong family is a blob relabelled by someone: one answer for all of it.
        self.check_family(params)
            .map_err(|_| Error::invalid_ciphertext())?;
        match &self.inner {
            Inner::Aes128(s) => s.open(params, ciphertext),
            Inner::Aes192(s) => s.open(params, ciphertext),
            Inner::Aes256(s) => s.open(params, ciphertext),
            Inner::Sm4(s) => s.open(params, ciphertext),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Algorithm;

    fn params<'a>(
        algorithm: Algorithm,
        padding: Option<PaddingMode>,
        iv: &'a [u8],
        aad: &'a [u8],
    ) -> CipherParams<'a> {
        CipherParams {
            algorithm,
            padding,
            iv,
            aad,
        }
    }

    #[test]
    fn round_trips_every_mode_and_key_size() {
        for key_len in [16, 24, 32] {
            let cipher = KeyCipher::new(CipherFamily::Aes, &vec![7u8; key_len]).unwrap();
            assert_eq!(cipher.key_len(), key_len);
            for (alg, pad, iv) in [
                (Algorithm::AesGcm, None, &[1u8; 12][..]),
                (Algorithm::AesCbc, Some(PaddingMode::Pkcs7), &[2u8; 16][..]),
                (
                    Algorithm::AesCbc,
                    Some(PaddingMode::NoPadding),
                    &[2u8; 16][..],
                ),
                (Algorithm::AesEcb, Some(PaddingMode::Pkcs7), &[][..]),
                (Algorithm::AesEcb, Some(PaddingMode::NoPadding), &[][..]),
            ] {
                let aad: &[u8] = if alg == Algorithm::AesGcm {
                    b"context"
                } else {
                    b""
                };
                let p = params(alg, pad, iv, aad);
                let msg = [0x5au8; 32];
                let mut out = vec![9u8; 3];
                cipher.seal(&p, &msg, &mut out).unwrap();
                assert_eq!(&out[..3], &[9, 9, 9]);
                assert_eq!(
                    out.len() - 3,
                    super::super::ciphertext_len(alg, pad, msg.len())
                );
                assert_ne!(&out[3..35], &msg[..]);
                assert_eq!(&cipher.open(&p, &out[3..]).unwrap()[..], &msg[..]);
            }
        }
    }

    #[test]
    fn no_padding_refuses_partial_blocks_and_leaves_output_alone() {
        let cipher = KeyCipher::new(CipherFamily::Aes, &[1u8; 32]).unwrap();
        let p = params(
            Algorithm::AesCbc,
            Some(PaddingMode::NoPadding),
            &[0u8; 16],
            b"",
        );
        let mut out = vec![1, 2, 3];
        let err = cipher.seal(&p, &[0u8; 17], &mut out).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidParameter);
        assert_eq!(out, vec![1, 2, 3]);
    }

    #[test]
    fn wrong_key_or_aad_is_invalid_ciphertext() {
        let a = KeyCipher::new(CipherFamily::Aes, &[1u8; 16]).unwrap();
        let b = KeyCipher::new(CipherFamily::Aes, &[2u8; 16]).unwrap();
        let p = params(Algorithm::AesGcm, None, &[0u8; 12], b"aad");
        let mut out = Vec::new();
        a.seal(&p, b"hello", &mut out).unwrap();
        assert_eq!(
            b.open(&p, &out).unwrap_err().kind(),
            crate::error::ErrorKind::InvalidCiphertext
        );
        let other = params(Algorithm::AesGcm, None, &[0u8; 12], b"aaD");
        assert_eq!(
            a.open(&other, &out).unwrap_err().kind(),
            crate::error::ErrorKind::InvalidCiphertext
        );
        assert_eq!(
            a.open(&p, &out[..15]).unwrap_err().kind(),
            crate::error::ErrorKind::InvalidCiphertext
        );
    }

    #[test]
    fn other_key_lengths_are_refused_and_debug_shows_only_the_size() {
        let a = KeyCipher::new(CipherFamily::Aes, &[1u8; 16]).unwrap();
        assert!(KeyCipher::new(CipherFamily::Aes, &[0u8; 20]).is_err());
        assert_eq!(format!("{a:?}"), "KeyCipher(AES-128)");
    }
}
