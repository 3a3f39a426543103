//! How one message is encrypted or decrypted: a mode with its fixed-size IV.

use super::algorithm::Mode;
use super::lengths::{CBC_IV_LEN, GCM_IV_LEN, GCM_TAG_LEN};
use super::padding::{self, PaddingMode};

/// How one message is encrypted or decrypted: the mode with everything it takes,
/// its IV at the mode's fixed length (so a wrong IV length cannot reach a cipher)
/// and, for the block modes, the padding. The block cipher is the key's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CipherMode<'a> {
    Gcm {
        iv: [u8; GCM_IV_LEN],
        aad: &'a [u8],
    },
    Cbc {
        iv: [u8; CBC_IV_LEN],
        padding: PaddingMode,
    },
    Ecb {
        padding: PaddingMode,
    },
}

impl<'a> CipherMode<'a> {
    /// `mode` with the IV, Aad and padding it takes (an IV of another length,
    /// Aad outside GCM or a missing padding is `None`: the service checks those
    /// first, with the caller's messages).
    ///
    /// On the encrypt and decrypt paths, keep the result where it is built and
    /// look at it through a reference (`let built = …; let Some(mode) = &built
    /// else { return Err(…) }`), neither `.ok_or_else(…)?` nor `let Some(mode) =
    /// … else`: each move of the value (the IV sits at offset 1, after the tag)
    /// went through stack slots in overlapping 8-byte pieces, each load waiting
    /// on the stores before it (through `ok_or_else` and `?`, 5 % of a 64-byte
    /// AdvanceEncrypt; moved out of the `Option`, 2 % of an AdvanceDecrypt).
    pub fn new(
        mode: Mode,
        iv: &[u8],
        aad: &'a [u8],
        padding: Option<PaddingMode>,
    ) -> Option<CipherMode<'a>> {
        match (mode, padding) {
            (Mode::Gcm, None) => Some(CipherMode::Gcm {
                iv: iv.try_into().ok()?,
                aad,
            }),
            (Mode::Cbc, Some(padding)) if aad.is_empty() => Some(CipherMode::Cbc {
                iv: iv.try_into().ok()?,
                padding,
            }),
            (Mode::Ecb, Some(padding)) if aad.is_empty() && iv.is_empty() => {
                Some(CipherMode::Ecb { padding })
            }
            _ => None,
        }
    }

    pub fn mode(&self) -> Mode {
        match self {
            CipherMode::Gcm { .. } => Mode::Gcm,
            CipherMode::Cbc { .. } => Mode::Cbc,
            CipherMode::Ecb { .. } => Mode::Ecb,
        }
    }

    /// The IV (empty for ECB).
    pub fn iv(&self) -> &[u8] {
        match self {
            CipherMode::Gcm { iv, .. } => iv,
            CipherMode::Cbc { iv, .. } => iv,
            CipherMode::Ecb { .. } => &[],
        }
    }

    /// The padding of a block mode; `None` for GCM.
    pub fn padding(&self) -> Option<PaddingMode> {
        match *self {
            CipherMode::Gcm { .. } => None,
            CipherMode::Cbc { padding, .. } | CipherMode::Ecb { padding } => Some(padding),
        }
    }

    /// The length of the ciphertext (GCM: with its tag) of a plaintext of `len`
    /// bytes.
    pub fn ciphertext_len(&self, len: usize) -> usize {
        match self.padding() {
            None => len + GCM_TAG_LEN,
            Some(PaddingMode::Pkcs7) => len + padding::pkcs7_pad_len(len),
            Some(PaddingMode::NoPadding) => len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertext_lengths() {
        let gcm = CipherMode::new(Mode::Gcm, &[0; 12], b"", None).unwrap();
        assert_eq!(gcm.ciphertext_len(5), 21);
        let cbc = CipherMode::new(Mode::Cbc, &[0; 16], b"", Some(PaddingMode::Pkcs7)).unwrap();
        assert_eq!(cbc.ciphertext_len(0), 16);
        assert_eq!(cbc.ciphertext_len(16), 32);
        let ecb = CipherMode::new(Mode::Ecb, &[], b"", Some(PaddingMode::NoPadding)).unwrap();
        assert_eq!(ecb.ciphertext_len(32), 32);
    }

    #[test]
    fn a_mode_takes_only_its_own_iv_length() {
        assert!(CipherMode::new(Mode::Gcm, &[0; 16], b"", None).is_none());
        assert!(CipherMode::new(Mode::Cbc, &[0; 12], b"", Some(PaddingMode::Pkcs7)).is_none());
        assert!(CipherMode::new(Mode::Ecb, &[0; 16], b"", Some(PaddingMode::Pkcs7)).is_none());
        assert!(CipherMode::new(Mode::Cbc, &[0; 16], b"x", Some(PaddingMode::Pkcs7)).is_none());
        assert!(CipherMode::new(Mode::Gcm, &[0; 12], b"", Some(PaddingMode::Pkcs7)).is_none());
    }
}
