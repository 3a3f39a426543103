//! The service's parameter rules that every operation shares: the API's checks
//! of Algorithm, Iv, Aad and PaddingMode, with their messages, in one place.

use crate::crypto::{Algorithm, Mode, PaddingMode, BLOCK_LEN, MAX_AAD_LEN};
use crate::error::{Error, Result};
use crate::keystore::Key;

/// Checks a required string parameter: missing when absent or empty.
#[inline]
pub(super) fn required<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::missing_parameter(name)),
    }
}

/// Refuses asymmetric keys for the symmetric operations.
#[inline]
pub(super) fn require_symmetric(key: &Key) -> Result<()> {
    if key.key_spec.is_symmetric() {
        Ok(())
    } else {
        Err(Error::only_symmetric(&key.key_id))
    }
}

/// Parses the `Algorithm` parameter; `None` or `""` is the default, the GCM of
/// the key's block cipher (AES_GCM until the key is known: the rules for its IV,
/// Aad and padding are those of every GCM).
#[inline]
pub(super) fn algorithm(value: Option<&str>) -> Result<Algorithm> {
    match value.unwrap_or("") {
        "" => Ok(Algorithm::AesGcm),
        name => Algorithm::from_name(name).ok_or_else(unknown_algorithm),
    }
}

#[cold]
fn unknown_algorithm() -> Error {
    Error::invalid_parameter(
        "Algorithm",
        "Use AES_GCM, AES_CBC or AES_ECB for an AES key, SM4_GCM, SM4_CBC or SM4_ECB for an \
         SM4 key.",
    )
}

/// Parses a named padding: `PKCS7_PADDING` or `NO_PADDING`.
pub(super) fn padding_mode(value: &str) -> Result<PaddingMode> {
    PaddingMode::from_name(value)
        .ok_or_else(|| Error::invalid_parameter("PaddingMode", "Use PKCS7_PADDING or NO_PADDING."))
}

/// Resolves the `PaddingMode` parameter for `algorithm`: GCM takes none, CBC and
/// ECB default to PKCS7_PADDING.
#[inline]
pub(super) fn padding(algorithm: Algorithm, value: Option<&str>) -> Result<Option<PaddingMode>> {
    let value = value.unwrap_or("");
    if !algorithm.is_block_mode() {
        if value.is_empty() {
            return Ok(None);
        }
        return Err(padding_unused());
    }
    match value {
        "" => Ok(Some(PaddingMode::Pkcs7)),
        named => padding_mode(named).map(Some),
    }
}

#[cold]
fn padding_unused() -> Error {
    Error::invalid_parameter("PaddingMode", "PaddingMode is only used with CBC and ECB.")
}

/// Checks a caller's IV for `algorithm`. Empty means "none given".
#[inline]
pub(super) fn check_iv(algorithm: Algorithm, iv: &[u8]) -> Result<()> {
    if iv.is_empty() || iv.len() == algorithm.iv_len() {
        return Ok(());
    }
    Err(wrong_iv(algorithm, iv))
}

// The error paths of the checks every call makes are kept out of line (`cold`),
// so that the checks themselves inline into the encrypt and decrypt paths.
#[cold]
fn wrong_iv(algorithm: Algorithm, iv: &[u8]) -> Error {
    match algorithm.mode() {
        Mode::Gcm | Mode::Cbc => Error::invalid_parameter(
            "Iv",
            format!(
                "{} takes a {}-byte Iv; {} bytes were given.",
                algorithm.name(),
                algorithm.iv_len(),
                iv.len()
            ),
        ),
        Mode::Ecb => Error::invalid_parameter(
            "Iv",
            format!("{} takes no Iv; leave it out.", algorithm.name()),
        ),
    }
}

/// Checks the Aad for `algorithm`: only GCM takes one, of at most 8192 bytes.
#[inline]
pub(super) fn check_aad(algorithm: Algorithm, aad: &[u8]) -> Result<()> {
    if aad.is_empty() || (algorithm.mode() == Mode::Gcm && aad.len() <= MAX_AAD_LEN) {
        return Ok(());
    }
    Err(wrong_aad(algorithm, aad))
}

#[cold]
fn wrong_aad(algorithm: Algorithm, aad: &[u8]) -> Error {
    if algorithm.mode() != Mode::Gcm {
        return Error::invalid_parameter(
            "Aad",
            format!("Aad is only used with GCM, not with {}.", algorithm.name()),
        );
    }
    Error::invalid_parameter(
        "Aad",
        format!(
            "Aad is at most {MAX_AAD_LEN} bytes; {} bytes were given.",
            aad.len()
        ),
    )
}

/// With NO_PADDING the plaintext must be whole blocks.
#[inline]
pub(super) fn check_plaintext_blocks(padding: Option<PaddingMode>, len: usize) -> Result<()> {
    if padding == Some(PaddingMode::NoPadding) && !len.is_multiple_of(BLOCK_LEN) {
        return Err(not_whole_blocks(len));
    }
    Ok(())
}

#[cold]
fn not_whole_blocks(len: usize) -> Error {
    Error::invalid_parameter(
        "Plaintext",
        format!(
            "With NO_PADDING the plaintext length must be a multiple of 16 bytes; it is {len}."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_parse_with_service_defaults() {
        assert_eq!(algorithm(None).unwrap(), Algorithm::AesGcm);
        assert_eq!(algorithm(Some("")).unwrap(), Algorithm::AesGcm);
        assert_eq!(algorithm(Some("AES_ECB")).unwrap(), Algorithm::AesEcb);
        assert!(algorithm(Some("aes_gcm")).is_err());
        assert_eq!(algorithm(Some("SM4_GCM")).unwrap(), Algorithm::Sm4Gcm);
        assert_eq!(
            padding(Algorithm::AesCbc, None).unwrap(),
            Some(PaddingMode::Pkcs7)
        );
        assert_eq!(
            padding(Algorithm::AesEcb, Some("NO_PADDING")).unwrap(),
            Some(PaddingMode::NoPadding)
        );
        assert_eq!(padding(Algorithm::AesGcm, Some("")).unwrap(), None);
        assert!(padding(Algorithm::AesGcm, Some("PKCS7_PADDING")).is_err());
        assert!(padding(Algorithm::AesCbc, Some("PKCS5")).is_err());
    }

    #[test]
    fn iv_aad_and_block_rules() {
        assert!(check_iv(Algorithm::AesGcm, &[0; 12]).is_ok());
        assert!(check_iv(Algorithm::AesGcm, &[0; 16]).is_err());
        assert!(check_iv(Algorithm::AesCbc, &[0; 12]).is_err());
        assert!(check_iv(Algorithm::AesEcb, &[0; 16]).is_err());
        assert!(check_iv(Algorithm::AesEcb, &[]).is_ok());
        assert!(check_aad(Algorithm::AesGcm, &[0; MAX_AAD_LEN]).is_ok());
        assert!(check_aad(Algorithm::AesGcm, &[0; MAX_AAD_LEN + 1]).is_err());
        assert!(check_aad(Algorithm::AesCbc, b"x").is_err());
        assert!(check_aad(Algorithm::AesCbc, b"").is_ok());
        assert!(check_plaintext_blocks(Some(PaddingMode::NoPadding), 17).is_err());
        assert!(check_plaintext_blocks(Some(PaddingMode::NoPadding), 32).is_ok());
        assert!(check_plaintext_blocks(Some(PaddingMode::Pkcs7), 17).is_ok());
    }
}
