//! GCM / CBC / ECB over AES and SM4, PKCS#7, the IV rules, and the blob format.

#[cfg(feature = "aws-lc")]
mod aws_lc_gcm;
pub mod blob;
pub mod buffer;
mod cipher;
mod padding;
// Unsafe (one of the few places outside src/ffi/): wiping the raw memory of a dropped cipher.
#[allow(unsafe_code)]
mod wiped_box;

pub use buffer::{MAX_CIPHERTEXT_LEN, MAX_PLAINTEXT_LEN};
pub use cipher::KeyCipher;

/// Length of an AES-GCM IV (the only one accepted).
pub const GCM_IV_LEN: usize = 12;
/// Length of an AES-GCM tag, appended to the ciphertext.
pub const GCM_TAG_LEN: usize = 16;
/// Length of an AES-CBC IV.
pub const CBC_IV_LEN: usize = 16;
/// The AES block size.
pub const BLOCK_LEN: usize = 16;
/// The largest Aad the service accepts.
pub const MAX_AAD_LEN: usize = 8192;

/// The block cipher under a key: AES (Aliyun_AES_*) or SM4 (Aliyun_SM4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CipherFamily {
    Aes,
    Sm4,
}

/// A mode of operation, whatever the block cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Gcm,
    Cbc,
    Ecb,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Gcm, Mode::Cbc, Mode::Ecb];
}

/// An encryption algorithm, spelled as the service spells it: a block cipher and a
/// mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    AesGcm,
    AesCbc,
    AesEcb,
    Sm4Gcm,
    Sm4Cbc,
    Sm4Ecb,
}

impl Algorithm {
    pub const ALL: [Algorithm; 6] = [
        Algorithm::AesGcm,
        Algorithm::AesCbc,
        Algorithm::AesEcb,
        Algorithm::Sm4Gcm,
        Algorithm::Sm4Cbc,
        Algorithm::Sm4Ecb,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::AesGcm => "AES_GCM",
            Algorithm::AesCbc => "AES_CBC",
            Algorithm::AesEcb => "AES_ECB",
            Algorithm::Sm4Gcm => "SM4_GCM",
            Algorithm::Sm4Cbc => "SM4_CBC",
            Algorithm::Sm4Ecb => "SM4_ECB",
        }
    }

    /// The algorithm of `family` in `mode`.
    pub fn of(family: CipherFamily, mode: Mode) -> Algorithm {
        match (family, mode) {
            (CipherFamily::Aes, Mode::Gcm) => Algorithm::AesGcm,
            (CipherFamily::Aes, Mode::Cbc) => Algorithm::AesCbc,
            (CipherFamily::Aes, Mode::Ecb) => Algorithm::AesEcb,
            (CipherFamily::Sm4, Mode::Gcm) => Algorithm::Sm4Gcm,
            (CipherFamily::Sm4, Mode::Cbc) => Algorithm::Sm4Cbc,
            (CipherFamily::Sm4, Mode::Ecb) => Algorithm::Sm4Ecb,
        }
    }

    pub fn family(self) -> CipherFamily {
        match self {
            Algorithm::AesGcm | Algorithm::AesCbc | Algorithm::AesEcb => CipherFamily::Aes,
            Algorithm::Sm4Gcm | Algorithm::Sm4Cbc | Algorithm::Sm4Ecb => CipherFamily::Sm4,
        }
    }

    pub fn mode(self) -> Mode {
        match self {
            Algorithm::AesGcm | Algorithm::Sm4Gcm => Mode::Gcm,
            Algorithm::AesCbc | Algorithm::Sm4Cbc => Mode::Cbc,
            Algorithm::AesEcb | Algorithm::Sm4Ecb => Mode::Ecb,
        }
    }

    /// The algorithm of this name (`"AES_GCM"`, …), exactly as the service spells it.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The IV length this algorithm takes (0: it takes none).
    pub fn iv_len(self) -> usize {
        match self.mode() {
            Mode::Gcm => GCM_IV_LEN,
            Mode::Cbc => CBC_IV_LEN,
            Mode::Ecb => 0,
        }
    }

    /// Whether the algorithm pads (and so takes a PaddingMode).
    pub fn is_block_mode(self) -> bool {
        self.mode() != Mode::Gcm
    }
}

/// The padding of a block mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaddingMode {
    NoPadding,
    Pkcs7,
}

impl PaddingMode {
    /// The padding of this name: `PKCS7_PADDING` or `NO_PADDING`.
    pub fn from_name(name: &str) -> Option<PaddingMode> {
        [PaddingMode::Pkcs7, PaddingMode::NoPadding]
            .into_iter()
            .find(|p| p.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            PaddingMode::NoPadding => "NO_PADDING",
            PaddingMode::Pkcs7 => "PKCS7_PADDING",
        }
    }
}

/// The service's spelling of an optional padding: `""` when there is none.
pub fn padding_name(padding: Option<PaddingMode>) -> &'static str {
    padding.map_or("", PaddingMode::name)
}

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
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
            assert_eq!(Algorithm::of(a.family(), a.mode()), a);
        }
        assert_eq!(Algorithm::from_name("aes_gcm"), None);
        assert_eq!(
            PaddingMode::from_name("NO_PADDING"),
            Some(PaddingMode::NoPadding)
        );
        assert_eq!(PaddingMode::from_name("PKCS5"), None);
    }

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
