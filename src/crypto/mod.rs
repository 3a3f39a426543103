//! GCM / CBC / ECB over AES and SM4, PKCS#7, the IV rules, and the blob format.

pub mod blob;
pub mod buffer;
mod cipher;
mod padding;
// Unsafe (one of the few places outside src/ffi/): wiping the raw memory of a dropped cipher.
#[allow(unsafe_code)]
mod wiped_box;

pub use buffer::{MAX_CIPHERTEXT_LEN, MAX_PLAINTEXT_LEN};
pub use cipher::KeyCipher;

use crate::error::{Error, Result};

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

    /// Parses the `Algorithm` parameter; `None` or `""` is the default, the GCM of
    /// the key's block cipher (AES_GCM until the key is known: the rules for its
    /// IV, Aad and padding are those of every GCM).
    pub fn parse(value: Option<&str>) -> Result<Algorithm> {
        match value.unwrap_or("") {
            "" => Ok(Algorithm::AesGcm),
            other => Algorithm::ALL
                .into_iter()
                .find(|a| a.name() == other)
                .ok_or_else(|| {
                    Error::invalid_parameter(
                        "Algorithm",
                        "Use AES_GCM, AES_CBC or AES_ECB for an AES key, SM4_GCM, SM4_CBC or \
                         SM4_ECB for an SM4 key.",
                    )
                }),
        }
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

    /// Checks a caller's IV for this algorithm. Empty means "none given".
    pub fn check_iv(self, iv: &[u8]) -> Result<()> {
        if iv.is_empty() || iv.len() == self.iv_len() {
            return Ok(());
        }
        Err(match self.mode() {
            Mode::Gcm | Mode::Cbc => Error::invalid_parameter(
                "Iv",
                format!(
                    "{} takes a {}-byte Iv; {} bytes were given.",
                    self.name(),
                    self.iv_len(),
                    iv.len()
                ),
            ),
            Mode::Ecb => Error::invalid_parameter(
                "Iv",
                format!("{} takes no Iv; leave it out.", self.name()),
            ),
        })
    }

    /// Checks the Aad for this algorithm: only AES_GCM takes one, of at most 8192 bytes.
    pub fn check_aad(self, aad: &[u8]) -> Result<()> {
        if aad.is_empty() {
            return Ok(());
        }
        if self.mode() != Mode::Gcm {
            return Err(Error::invalid_parameter(
                "Aad",
                format!("Aad is only used with GCM, not with {}.", self.name()),
            ));
        }
        if aad.len() > MAX_AAD_LEN {
            return Err(Error::invalid_parameter(
                "Aad",
                format!(
                    "Aad is at most {MAX_AAD_LEN} bytes; {} bytes were given.",
                    aad.len()
                ),
            ));
        }
        Ok(())
    }

    /// Resolves the `PaddingMode` parameter for this algorithm: GCM takes none, CBC
    /// and ECB default to PKCS7_PADDING.
    pub fn padding(self, value: Option<&str>) -> Result<Option<PaddingMode>> {
        let value = value.unwrap_or("");
        if !self.is_block_mode() {
            if value.is_empty() {
                return Ok(None);
            }
            return Err(Error::invalid_parameter(
                "PaddingMode",
                "PaddingMode is only used with CBC and ECB.",
            ));
        }
        match value {
            "" => Ok(Some(PaddingMode::Pkcs7)),
            named => PaddingMode::parse(named).map(Some),
        }
    }
}

/// The padding of a block mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaddingMode {
    NoPadding,
    Pkcs7,
}

impl PaddingMode {
    /// Parses a named padding: `PKCS7_PADDING` or `NO_PADDING`.
    pub fn parse(value: &str) -> Result<PaddingMode> {
        match value {
            "PKCS7_PADDING" => Ok(PaddingMode::Pkcs7),
            "NO_PADDING" => Ok(PaddingMode::NoPadding),
            _ => Err(Error::invalid_parameter(
                "PaddingMode",
                "Use PKCS7_PADDING or NO_PADDING.",
            )),
        }
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

/// How one message is encrypted or decrypted: checked and complete (the IV has the
/// algorithm's length).
#[derive(Clone, Copy, Debug)]
pub struct CipherParams<'a> {
    pub algorithm: Algorithm,
    pub padding: Option<PaddingMode>,
    pub iv: &'a [u8],
    pub aad: &'a [u8],
}

/// The length of the ciphertext (with the GCM tag) for a plaintext of `len` bytes.
pub fn ciphertext_len(algorithm: Algorithm, padding: Option<PaddingMode>, len: usize) -> usize {
    match (algorithm.mode(), padding) {
        (Mode::Gcm, _) => len + GCM_TAG_LEN,
        (_, Some(PaddingMode::Pkcs7)) => (len / BLOCK_LEN + 1) * BLOCK_LEN,
        (_, _) => len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_parse_with_service_defaults() {
        assert_eq!(Algorithm::parse(None).unwrap(), Algorithm::AesGcm);
        assert_eq!(Algorithm::parse(Some("")).unwrap(), Algorithm::AesGcm);
        assert_eq!(
            Algorithm::parse(Some("AES_ECB")).unwrap(),
            Algorithm::AesEcb
        );
        assert!(Algorithm::parse(Some("aes_gcm")).is_err());
        assert_eq!(
            Algorithm::parse(Some("SM4_GCM")).unwrap(),
            Algorithm::Sm4Gcm
        );
        assert!(Algorithm::parse(Some("sm4_gcm")).is_err());
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::of(a.family(), a.mode()), a);
        }
        assert_eq!(
            Algorithm::AesCbc.padding(None).unwrap(),
            Some(PaddingMode::Pkcs7)
        );
        assert_eq!(
            Algorithm::AesEcb.padding(Some("NO_PADDING")).unwrap(),
            Some(PaddingMode::NoPadding)
        );
        assert_eq!(Algorithm::AesGcm.padding(Some("")).unwrap(), None);
        assert!(Algorithm::AesGcm.padding(Some("PKCS7_PADDING")).is_err());
        assert!(Algorithm::AesCbc.padding(Some("PKCS5")).is_err());
    }

    #[test]
    fn iv_and_aad_rules() {
        assert!(Algorithm::AesGcm.check_iv(&[0; 12]).is_ok());
        assert!(Algorithm::AesGcm.check_iv(&[0; 16]).is_err());
        assert!(Algorithm::AesCbc.check_iv(&[0; 12]).is_err());
        assert!(Algorithm::AesEcb.check_iv(&[0; 16]).is_err());
        assert!(Algorithm::AesEcb.check_iv(&[]).is_ok());
        assert!(Algorithm::AesGcm.check_aad(&[0; MAX_AAD_LEN]).is_ok());
        assert!(Algorithm::AesGcm.check_aad(&[0; MAX_AAD_LEN + 1]).is_err());
        assert!(Algorithm::AesCbc.check_aad(b"x").is_err());
        assert!(Algorithm::AesCbc.check_aad(b"").is_ok());
    }

    #[test]
    fn ciphertext_lengths() {
        assert_eq!(ciphertext_len(Algorithm::AesGcm, None, 5), 21);
        assert_eq!(
            ciphertext_len(Algorithm::AesCbc, Some(PaddingMode::Pkcs7), 0),
            16
        );
        assert_eq!(
            ciphertext_len(Algorithm::AesCbc, Some(PaddingMode::Pkcs7), 16),
            32
        );
        assert_eq!(
            ciphertext_len(Algorithm::AesEcb, Some(PaddingMode::NoPadding), 32),
            32
        );
    }
}
