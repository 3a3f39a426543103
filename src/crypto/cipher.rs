//! The ready cipher of one key version: the AES or SM4 key schedule and the GHASH
//! key, expanded once when the version is loaded and reused by every call.
//! (Over 400 lines with its tests, which compare every mode and both GCM backends
//! byte for byte; the code itself is 348 lines.)

use aes::cipher::block_padding::{NoPadding, Pkcs7};
use aes::cipher::common::InnerInit;
use aes::cipher::consts::{U12, U16};
use aes::cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt,
    BlockSizeUser, InOutBuf, InnerIvInit, KeyInit,
};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::AeadInOut;
use aes_gcm::AesGcm;
use sm4::Sm4;
use zeroize::{Zeroize, Zeroizing};

use super::algorithm::CipherFamily;
use super::cipher_mode::CipherMode;
use super::lengths::{BLOCK_LEN, CBC_IV_LEN, GCM_TAG_LEN};
use super::padding::pkcs7_unpadded_len;
use super::padding::PaddingMode;
use crate::error::{Error, Result};

use super::wiped_box::WipedBox;

/// AES or SM4 under one key, ready for GCM, CBC and ECB.
pub struct KeyCipher {
    inner: Inner,
    /// With the `aws-lc` feature: the fast GCM for AES-128 and AES-256.
    #[cfg(feature = "aws-lc")]
    fast: Option<super::aws_lc_gcm::FastGcm>,
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

struct Suite<C: BlockSizeUser<BlockSize = U16> + BlockCipherEncrypt> {
    gcm: AesGcm<C, U12>,
    block: C,
}

impl<C> Suite<C>
where
    C: BlockSizeUser<BlockSize = U16> + BlockCipherEncrypt + BlockCipherDecrypt + KeyInit,
{
    fn new(key: &[u8]) -> Result<Self> {
        let block = C::new_from_slice(key)
            .map_err(|_| Error::invalid_key_material("The key length does not fit the cipher."))?;
        let gcm = AesGcm::<C, U12>::new_from_slice(key)
            .map_err(|_| Error::invalid_key_material("The key length does not fit the cipher."))?;
        Ok(Suite { gcm, block })
    }

    /// `out` has the ciphertext's length ([`KeyCipher::seal_on_stack`] checked).
    fn seal(&self, mode: &CipherMode<'_>, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        let len = plaintext.len();
        match *mode {
            CipherMode::Gcm { iv, aad } => {
                let (body, tag_out) = out.split_at_mut(len);
                // From the plaintext straight into `out`: no copy first.
                let buffer = InOutBuf::new(plaintext, body)
                    .map_err(|_| Error::internal("The output has not the plaintext's length."))?;
                let sealed = self
                    .gcm
                    .encrypt_inout_detached(&Array::from(iv), aad, buffer);
                // The tag is copied from where the call left it, in one 16-byte
                // move that matches the call's store. Moved out of the `Result`
                // first, it was read back in pieces at odd offsets that each
                // waited for that store.
                let Ok(tag) = &sealed else {
                    return Err(Error::invalid_parameter(
                        "Plaintext",
                        "The plaintext is too long for AES_GCM.",
                    ));
                };
                tag_out.copy_from_slice(tag);
            }
            CipherMode::Cbc { padding, .. } | CipherMode::Ecb { padding } => {
                let done = match (mode, padding) {
                    (CipherMode::Cbc { iv, .. }, PaddingMode::Pkcs7) => self
                        .cbc_encryptor(iv)
                        .encrypt_padded_b2b::<Pkcs7>(plaintext, out)
                        .is_ok(),
                    (CipherMode::Cbc { iv, .. }, PaddingMode::NoPadding) => self
                        .cbc_encryptor(iv)
                        .encrypt_padded_b2b::<NoPadding>(plaintext, out)
                        .is_ok(),
                    (_, PaddingMode::Pkcs7) => self
                        .ecb_encryptor()
                        .encrypt_padded_b2b::<Pkcs7>(plaintext, out)
                        .is_ok(),
                    (_, PaddingMode::NoPadding) => self
                        .ecb_encryptor()
                        .encrypt_padded_b2b::<NoPadding>(plaintext, out)
                        .is_ok(),
                };
                if !done {
                    return Err(Error::invalid_parameter(
                        "Plaintext",
                        "With NO_PADDING the plaintext length must be a multiple of 16 bytes.",
                    ));
                }
            }
        }
        Ok(())
    }

    fn open(&self, mode: &CipherMode<'_>, ciphertext: &[u8], out: &mut [u8]) -> Result<usize> {
        match *mode {
            CipherMode::Gcm { iv, aad } => {
                let (body, tag, out) = split_gcm(ciphertext, out)?;
                // aes-gcm checks the tag over the ciphertext first and writes
                // nothing to `out` when it is wrong: no plaintext is ever released
                // unauthenticated.
                let tag = Array::from(*tag);
                let buffer = InOutBuf::new(body, out)
                    .map_err(|_| Error::internal("The output is too short."))?;
                self.gcm
                    .decrypt_inout_detached(&Array::from(iv), aad, buffer, &tag)
                    .map_err(|_| Error::invalid_ciphertext())?;
                Ok(body.len())
            }
            CipherMode::Cbc { padding, .. } | CipherMode::Ecb { padding } => {
                let pkcs7 = padding == PaddingMode::Pkcs7;
                // Lengths are public: these checks reveal nothing about the plaintext.
                if !ciphertext.len().is_multiple_of(BLOCK_LEN) || (pkcs7 && ciphertext.is_empty()) {
                    return Err(Error::invalid_ciphertext());
                }
                let out = out
                    .get_mut(..ciphertext.len())
                    .ok_or_else(|| Error::internal("The output is too short."))?;
                let decrypted = match mode {
                    CipherMode::Cbc { iv, .. } => self
                        .cbc_decryptor(iv)
                        .decrypt_padded_b2b::<NoPadding>(ciphertext, out)
                        .is_ok(),
                    _ => self
                        .ecb_decryptor()
                        .decrypt_padded_b2b::<NoPadding>(ciphertext, out)
                        .is_ok(),
                };
                let len = if !decrypted {
                    None
                } else if pkcs7 {
                    pkcs7_unpadded_len(out)
                } else {
                    Some(out.len())
                };
                match len {
                    Some(len) => Ok(len),
                    None => {
                        // A bad padding: what was decrypted goes.
                        out.zeroize();
                        Err(Error::invalid_ciphertext())
                    }
                }
            }
        }
    }

    // The modes borrow the key schedule: no copy of it is made per call.
    fn cbc_encryptor(&self, iv: &[u8; CBC_IV_LEN]) -> cbc::Encryptor<&C> {
        cbc::Encryptor::inner_iv_init(&self.block, &Array::from(*iv))
    }

    fn cbc_decryptor(&self, iv: &[u8; CBC_IV_LEN]) -> cbc::Decryptor<&C> {
        cbc::Decryptor::inner_iv_init(&self.block, &Array::from(*iv))
    }

    fn ecb_encryptor(&self) -> ecb::Encryptor<&C> {
        ecb::Encryptor::inner_init(&self.block)
    }

    fn ecb_decryptor(&self) -> ecb::Decryptor<&C> {
        ecb::Decryptor::inner_init(&self.block)
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
        let cipher = KeyCipher::expand(family, key);
        // Key expansion works on the stack (AWS-LC's key setup leaves the first
        // round key, the key's first 16 bytes, there): the stack it used is wiped,
        // or a value built there later (an index node with unused slots) would
        // carry those bytes into the heap (tests/secrets_in_freed_memory.rs).
        super::stack_wipe::after_key_setup();
        cipher
    }

    #[inline(never)]
    fn expand(family: CipherFamily, key: &[u8]) -> Result<KeyCipher> {
        let inner = match (family, key.len()) {
            (CipherFamily::Aes, 16) => Inner::Aes128(WipedBox::new(Suite::new(key)?)),
            (CipherFamily::Aes, 24) => Inner::Aes192(WipedBox::new(Suite::new(key)?)),
            (CipherFamily::Aes, _) => Inner::Aes256(WipedBox::new(Suite::new(key)?)),
            (CipherFamily::Sm4, _) => Inner::Sm4(WipedBox::new(Suite::new(key)?)),
        };
        Ok(KeyCipher {
            inner,
            #[cfg(feature = "aws-lc")]
            fast: super::aws_lc_gcm::FastGcm::new(family, key),
        })
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

    /// Encrypts `plaintext` into `out`, which has exactly the ciphertext's length
    /// ([`CipherMode::ciphertext_len`]; GCM: with its tag), in this key's block
    /// cipher. A wrong IV length cannot get here: the mode carries its IV.
    pub fn seal(&self, mode: &CipherMode<'_>, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        let sealed = self.seal_on_stack(mode, plaintext, out);
        self.wipe_stack_after(mode, plaintext.len());
        sealed
    }

    /// Zeroes the stack the call in `mode` on a message of `len` bytes just used,
    /// as deep as its backend writes (src/crypto/stack_wipe.rs): a GCM message
    /// that vendor/aes-gcm encrypts in one call into the cipher goes less deep,
    /// and so does a short message with a short Aad in AWS-LC.
    #[inline(always)]
    fn wipe_stack_after(&self, mode: &CipherMode<'_>, len: usize) {
        let gcm = matches!(mode, CipherMode::Gcm { .. });
        #[cfg(feature = "aws-lc")]
        if let (Some(_), CipherMode::Gcm { aad, .. }) = (&self.fast, mode) {
            let most = super::stack_wipe::AWS_LC_SHORT_MAX_LEN;
            super::stack_wipe::after_aws_lc_call(len <= most && aad.len() <= most);
            return;
        }
        let one_call_gcm = gcm && len <= aes_gcm::ONE_CALL_MAX_LEN;
        super::stack_wipe::after_rustcrypto_call(self.family(), one_call_gcm);
    }

    /// [`KeyCipher::seal`] without the wipe of the stack it used: never inlined,
    /// so all of its frames lie below the caller's.
    #[inline(never)]
    fn seal_on_stack(&self, mode: &CipherMode<'_>, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        super::buffer::check_plaintext_len(plaintext.len())?;
        if out.len() != mode.ciphertext_len(plaintext.len()) {
            return Err(Error::internal(
                "The output has not the ciphertext's length.",
            ));
        }
        #[cfg(feature = "aws-lc")]
        if let (Some(fast), CipherMode::Gcm { iv, aad }) = (&self.fast, mode) {
            return fast.seal(iv, aad, plaintext, out);
        }
        let sealed = match &self.inner {
            Inner::Aes128(s) => s.seal(mode, plaintext, out),
            Inner::Aes192(s) => s.seal(mode, plaintext, out),
            Inner::Aes256(s) => s.seal(mode, plaintext, out),
            Inner::Sm4(s) => s.seal(mode, plaintext, out),
        };
        if sealed.is_err() {
            // Nothing of a failed seal is handed on, nor kept.
            out.zeroize();
        }
        sealed
    }

    /// Decrypts into the front of `out` (at least the ciphertext's length, GCM:
    /// without the tag) and returns the plaintext's length. Every failure is
    /// `InvalidCiphertext` and leaves no plaintext in `out`.
    pub fn open(&self, mode: &CipherMode<'_>, ciphertext: &[u8], out: &mut [u8]) -> Result<usize> {
        let opened = self.open_on_stack(mode, ciphertext, out);
        // GCM: the message is the ciphertext without its tag (a longer length than
        // the real one only picks the deeper wipe).
        self.wipe_stack_after(mode, ciphertext.len().saturating_sub(GCM_TAG_LEN));
        opened
    }

    /// [`KeyCipher::open`] without the wipe of the stack it used (see
    /// [`KeyCipher::seal_on_stack`]).
    #[inline(never)]
    fn open_on_stack(
        &self,
        mode: &CipherMode<'_>,
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        #[cfg(feature = "aws-lc")]
        if let (Some(fast), CipherMode::Gcm { iv, aad }) = (&self.fast, mode) {
            let (body, tag, out) = split_gcm(ciphertext, out)?;
            fast.open(iv, aad, body, tag, out)?;
            return Ok(body.len());
        }
        match &self.inner {
            Inner::Aes128(s) => s.open(mode, ciphertext, out),
            Inner::Aes192(s) => s.open(mode, ciphertext, out),
            Inner::Aes256(s) => s.open(mode, ciphertext, out),
            Inner::Sm4(s) => s.open(mode, ciphertext, out),
        }
    }

    /// [`KeyCipher::seal`] into a new vector.
    pub fn seal_to_vec(&self, mode: &CipherMode<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut out = super::buffer::zeroed(mode.ciphertext_len(plaintext.len()))?;
        self.seal(mode, plaintext, &mut out)?;
        Ok(out)
    }

    /// [`KeyCipher::open`] into a new vector, wiped when dropped.
    pub fn open_to_vec(
        &self,
        mode: &CipherMode<'_>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let mut out = Zeroizing::new(super::buffer::zeroed(ciphertext.len())?);
        let len = self.open(mode, ciphertext, &mut out)?;
        out.truncate(len);
        Ok(out)
    }
}

/// A GCM ciphertext's body and tag, and the front of `out` the body's plaintext
/// goes to (every backend's GCM open starts here).
fn split_gcm<'a, 'o>(
    ciphertext: &'a [u8],
    out: &'o mut [u8],
) -> Result<(&'a [u8], &'a [u8; GCM_TAG_LEN], &'o mut [u8])> {
    let body_len = ciphertext
        .len()
        .checked_sub(GCM_TAG_LEN)
        .ok_or_else(Error::invalid_ciphertext)?;
    let (body, tag) = ciphertext.split_at(body_len);
    let tag = tag.try_into().map_err(|_| Error::invalid_ciphertext())?;
    let out = out
        .get_mut(..body_len)
        .ok_or_else(|| Error::internal("The output is too short."))?;
    Ok((body, tag, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GCM, and CBC and ECB with each padding.
    fn every_mode() -> [CipherMode<'static>; 5] {
        [
            CipherMode::Gcm {
                iv: [1; 12],
                aad: b"context",
            },
            CipherMode::Cbc {
                iv: [2; 16],
                padding: PaddingMode::Pkcs7,
            },
            CipherMode::Cbc {
                iv: [2; 16],
                padding: PaddingMode::NoPadding,
            },
            CipherMode::Ecb {
                padding: PaddingMode::Pkcs7,
            },
            CipherMode::Ecb {
                padding: PaddingMode::NoPadding,
            },
        ]
    }

    #[test]
    fn round_trips_every_mode_and_key_size() {
        for key_len in [16, 24, 32] {
            let cipher = KeyCipher::new(CipherFamily::Aes, &vec![7u8; key_len]).unwrap();
            assert_eq!(cipher.key_len(), key_len);
            for mode in every_mode() {
                let msg = [0x5au8; 32];
                let out = cipher.seal_to_vec(&mode, &msg).unwrap();
                assert_eq!(out.len(), mode.ciphertext_len(msg.len()));
                assert_ne!(&out[..32], &msg[..]);
                assert_eq!(&cipher.open_to_vec(&mode, &out).unwrap()[..], &msg[..]);
            }
        }
    }

    #[test]
    fn no_padding_refuses_partial_blocks() {
        let cipher = KeyCipher::new(CipherFamily::Aes, &[1u8; 32]).unwrap();
        let mode = CipherMode::Cbc {
            iv: [0; 16],
            padding: PaddingMode::NoPadding,
        };
        let err = cipher.seal_to_vec(&mode, &[0u8; 17]).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidParameter);
        let mut short = [0u8; 16];
        let err = cipher.seal(&mode, &[0u8; 32], &mut short).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::InternalFailure);
    }

    /// The one length check of `seal_on_stack` and `split_gcm` stand for every
    /// backend: an output of the wrong length is refused before a cipher runs, and
    /// left as it was; a GCM ciphertext shorter than its tag is invalid.
    #[test]
    fn outputs_of_the_wrong_length_are_refused_in_every_mode_and_key_size() {
        use crate::error::ErrorKind;
        for key_len in [16, 24, 32] {
            let cipher = KeyCipher::new(CipherFamily::Aes, &vec![9u8; key_len]).unwrap();
            for mode in every_mode() {
                let msg = [0x33u8; 48];
                let want = mode.ciphertext_len(msg.len());
                for len in [0, want - 1, want + 1] {
                    let mut out = vec![0xeeu8; len];
                    let err = cipher.seal(&mode, &msg, &mut out).unwrap_err();
                    assert_eq!(
                        err.kind(),
                        ErrorKind::InternalFailure,
                        "{key_len} {mode:?} {len}"
                    );
                    assert!(out.iter().all(|&b| b == 0xee), "nothing written");
                }
                let sealed = cipher.seal_to_vec(&mode, &msg).unwrap();
                let mut short = vec![0xeeu8; msg.len() - 1];
                let err = cipher.open(&mode, &sealed, &mut short).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InternalFailure, "{key_len} {mode:?}");
                assert!(short.iter().all(|&b| b == 0xee));
            }
            let gcm = CipherMode::Gcm {
                iv: [1; 12],
                aad: b"",
            };
            for len in [0, 1, GCM_TAG_LEN - 1] {
                let mut out = [0u8; 32];
                let err = cipher.open(&gcm, &[0u8; 32][..len], &mut out).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidCiphertext, "{len}");
            }
        }
    }

    #[test]
    fn wrong_key_aad_or_padding_is_invalid_ciphertext_and_leaves_no_plaintext() {
        let a = KeyCipher::new(CipherFamily::Aes, &[1u8; 16]).unwrap();
        let b = KeyCipher::new(CipherFamily::Aes, &[2u8; 16]).unwrap();
        let gcm = CipherMode::Gcm {
            iv: [0; 12],
            aad: b"aad",
        };
        let sealed = a.seal_to_vec(&gcm, b"hello").unwrap();
        assert_eq!(
            b.open_to_vec(&gcm, &sealed).unwrap_err().kind(),
            crate::error::ErrorKind::InvalidCiphertext
        );
        let other = CipherMode::Gcm {
            iv: [0; 12],
            aad: b"aaD",
        };
        assert_eq!(
            a.open_to_vec(&other, &sealed).unwrap_err().kind(),
            crate::error::ErrorKind::InvalidCiphertext
        );
        assert_eq!(
            a.open_to_vec(&gcm, &sealed[..15]).unwrap_err().kind(),
            crate::error::ErrorKind::InvalidCiphertext
        );
        // A CBC ciphertext whose padding is bad after decryption: the output buffer
        // holds nothing of the decrypted block.
        let cbc = CipherMode::Cbc {
            iv: [3; 16],
            padding: PaddingMode::NoPadding,
        };
        let block = a.seal_to_vec(&cbc, &[0x41u8; 16]).unwrap();
        let pkcs7 = CipherMode::Cbc {
            iv: [3; 16],
            padding: PaddingMode::Pkcs7,
        };
        let mut out = [0xeeu8; 16];
        assert_eq!(
            a.open(&pkcs7, &block, &mut out).unwrap_err().kind(),
            crate::error::ErrorKind::InvalidCiphertext
        );
        assert_eq!(out, [0u8; 16]);
    }

    /// With the `aws-lc` feature, GCM of 128- and 256-bit keys runs through
    /// AWS-LC: it must make RustCrypto's bytes exactly, and refuse what it refuses.
    #[cfg(feature = "aws-lc")]
    #[test]
    fn the_fast_gcm_makes_the_same_bytes_as_rustcrypto() {
        for key_len in [16, 24, 32] {
            let key = vec![0x3cu8; key_len];
            let cipher = KeyCipher::new(CipherFamily::Aes, &key).unwrap();
            assert_eq!(cipher.fast.is_some(), key_len != 24);
            let mode = CipherMode::Gcm {
                iv: [9; 12],
                aad: b"aad",
            };
            for len in [0usize, 1, 16, 63, 1024, 70_000] {
                let msg: Vec<u8> = (0..len).map(|i| i as u8 ^ 0xa5).collect();
                let fast = cipher.seal_to_vec(&mode, &msg).unwrap();
                let mut slow = vec![0u8; mode.ciphertext_len(len)];
                match &cipher.inner {
                    Inner::Aes128(s) => s.seal(&mode, &msg, &mut slow).unwrap(),
                    Inner::Aes192(s) => s.seal(&mode, &msg, &mut slow).unwrap(),
                    Inner::Aes256(s) => s.seal(&mode, &msg, &mut slow).unwrap(),
                    Inner::Sm4(_) => unreachable!(),
                }
                assert_eq!(fast, slow, "AES-{} GCM of {len} bytes", key_len * 8);
                assert_eq!(&cipher.open_to_vec(&mode, &slow).unwrap()[..], &msg[..]);
                let mut forged = slow.clone();
                *forged.last_mut().unwrap() ^= 1;
                let mut out = vec![0xeeu8; forged.len()];
                assert!(cipher.open(&mode, &forged, &mut out).is_err());
                // AWS-LC decrypts from the blob into `out` before it compares the
                // tag: what it wrote is zeroed. RustCrypto writes nothing.
                let left = if cipher.fast.is_some() { 0 } else { 0xee };
                assert!(
                    out[..len].iter().all(|&b| b == left),
                    "no plaintext is left (AES-{} GCM of {len} bytes)",
                    key_len * 8
                );
            }
        }
    }

    #[test]
    fn other_key_lengths_are_refused_and_debug_shows_only_the_size() {
        let a = KeyCipher::new(CipherFamily::Aes, &[1u8; 16]).unwrap();
        assert!(KeyCipher::new(CipherFamily::Aes, &[0u8; 20]).is_err());
        assert_eq!(format!("{a:?}"), "KeyCipher(AES-128)");
    }
}
