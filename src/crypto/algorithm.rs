//! The block ciphers, the modes and the algorithms as the service names them.

use super::lengths::{CBC_IV_LEN, GCM_IV_LEN};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::padding::PaddingMode;

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
}
