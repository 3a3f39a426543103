//! The self-describing ciphertext blob of AdvanceEncrypt (docs/c-api.md §3), and
//! the shared-gateway form of Alibaba's transfer SDKs:
//!
//! ```text
//! '$' blob:  0x24 | (format_version << 4) | padding | algorithm | KeyVersionId (36) | IV | ciphertext [|| tag]
//! gateway:                                                       KeyVersionId (36) | IV (12) | ciphertext || tag
//! ```
//!
//! The gateway form is the `$` blob of AES_GCM without its first three bytes; it
//! names no algorithm, so it is always the GCM of the key's block cipher.

use super::algorithm::Algorithm;
use super::cipher_mode::CipherMode;
use super::lengths::{BLOCK_LEN, GCM_TAG_LEN};
use super::padding::PaddingMode;
use crate::error::{Error, Result};
use crate::ids::{blob_key_version_id, KEY_VERSION_ID_LEN};

/// The first byte of every blob (`'$'`).
pub const BLOB_MAGIC: u8 = 0x24;
/// The blob format version written and read.
pub const BLOB_FORMAT_VERSION: u8 = 0;
/// Bytes before the IV: magic, version/padding, algorithm, KeyVersionId.
pub const BLOB_HEADER_LEN: usize = 3 + KEY_VERSION_ID_LEN;

/// The algorithm byte: `2` is the service's number for AES_GCM, the only one in
/// public Alibaba code; the others are this project's, permanent and never reused:
/// 1 AES_CBC, 3 AES_ECB, 4 SM4_GCM, 5 SM4_CBC, 6 SM4_ECB.
pub fn algorithm_byte(algorithm: Algorithm) -> u8 {
    match algorithm {
        Algorithm::AesCbc => 1,
        Algorithm::AesGcm => 2,
        Algorithm::AesEcb => 3,
        Algorithm::Sm4Gcm => 4,
        Algorithm::Sm4Cbc => 5,
        Algorithm::Sm4Ecb => 6,
    }
}

fn algorithm_of_byte(byte: u8) -> Option<Algorithm> {
    Algorithm::ALL
        .into_iter()
        .find(|&a| algorithm_byte(a) == byte)
}

fn padding_bits(padding: Option<PaddingMode>) -> u8 {
    match padding {
        Some(PaddingMode::Pkcs7) => 1,
        None | Some(PaddingMode::NoPadding) => 0,
    }
}

/// The total blob length for a plaintext of `plaintext_len` bytes.
pub fn blob_len(mode: &CipherMode<'_>, plaintext_len: usize) -> usize {
    BLOB_HEADER_LEN + mode.iv().len() + mode.ciphertext_len(plaintext_len)
}

/// Writes the header and the IV at the front of `blob` (at least that long) and
/// returns where the ciphertext starts. `algorithm` is `mode` in the key's block
/// cipher; the KeyVersionId is 36 bytes.
pub fn write_blob_header(
    blob: &mut [u8],
    algorithm: Algorithm,
    mode: &CipherMode<'_>,
    key_version_id: &str,
) -> Result<usize> {
    let iv = mode.iv();
    let start = BLOB_HEADER_LEN + iv.len();
    if key_version_id.len() != KEY_VERSION_ID_LEN || blob.len() < start {
        return Err(Error::internal("A blob header does not fit."));
    }
    blob[0] = BLOB_MAGIC;
    blob[1] = (BLOB_FORMAT_VERSION << 4) | padding_bits(mode.padding());
    blob[2] = algorithm_byte(algorithm);
    blob[3..BLOB_HEADER_LEN].copy_from_slice(key_version_id.as_bytes());
    blob[BLOB_HEADER_LEN..start].copy_from_slice(iv);
    Ok(start)
}

/// A blob taken apart. Nothing here is authenticated yet: the GCM tag (over the
/// caller's Aad) is checked when the ciphertext is opened.
#[derive(Debug, Clone, Copy)]
pub struct ParsedBlob<'a> {
    pub algorithm: Algorithm,
    pub padding: Option<PaddingMode>,
    pub key_version_id: &'a str,
    pub iv: &'a [u8],
    /// The ciphertext; for AES_GCM with its 16-byte tag at the end.
    pub ciphertext: &'a [u8],
}

/// Takes a blob apart. Every malformation is `InvalidCiphertext`.
pub fn parse_blob(blob: &[u8]) -> Result<ParsedBlob<'_>> {
    read_blob(blob).ok_or_else(Error::invalid_ciphertext)
}

/// Takes apart the shared-gateway form `KeyVersionId (36) | Iv (12) | ciphertext
/// || tag`: always GCM (of the key's block cipher: the caller settles which, once
/// the version is known). Every malformation is `InvalidCiphertext`.
pub fn parse_gateway_blob(blob: &[u8]) -> Result<ParsedBlob<'_>> {
    read_gateway_blob(blob).ok_or_else(Error::invalid_ciphertext)
}

/// [`parse_blob`] without an error to build (the decrypt path tries both forms
/// on every blob).
pub fn read_blob(blob: &[u8]) -> Option<ParsedBlob<'_>> {
    if blob.len() < BLOB_HEADER_LEN || blob[0] != BLOB_MAGIC {
        return None;
    }
    let format_version = blob[1] >> 4;
    let padding_bits = blob[1] & 0x0f;
    if format_version != BLOB_FORMAT_VERSION {
        return None;
    }
    let algorithm = algorithm_of_byte(blob[2])?;
    let padding = match (algorithm.is_block_mode(), padding_bits) {
        (false, 0) => None,
        (true, 0) => Some(PaddingMode::NoPadding),
        (true, 1) => Some(PaddingMode::Pkcs7),
        _ => return None,
    };
    split_body(algorithm, padding, &blob[3..])
}

/// [`parse_gateway_blob`] without an error to build.
pub fn read_gateway_blob(blob: &[u8]) -> Option<ParsedBlob<'_>> {
    split_body(Algorithm::AesGcm, None, blob)
}

/// KeyVersionId | IV | ciphertext, with the lengths `algorithm` and `padding` need.
fn split_body(
    algorithm: Algorithm,
    padding: Option<PaddingMode>,
    body: &[u8],
) -> Option<ParsedBlob<'_>> {
    if body.len() < KEY_VERSION_ID_LEN {
        return None;
    }
    let (version_bytes, rest) = body.split_at(KEY_VERSION_ID_LEN);
    let key_version_id = blob_key_version_id(version_bytes)?;
    let iv_len = algorithm.iv_len();
    if rest.len() < iv_len {
        return None;
    }
    let (iv, ciphertext) = rest.split_at(iv_len);
    let length_ok = match (algorithm.is_block_mode(), padding) {
        (false, _) => ciphertext.len() >= GCM_TAG_LEN,
        (_, Some(PaddingMode::Pkcs7)) => {
            !ciphertext.is_empty() && ciphertext.len() % BLOCK_LEN == 0
        }
        (_, _) => ciphertext.len() % BLOCK_LEN == 0,
    };
    if !length_ok {
        return None;
    }
    Some(ParsedBlob {
        algorithm,
        padding,
        key_version_id,
        iv,
        ciphertext,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str = "key-abcdefghijklmnopqrstu-0123456789";

    /// A blob of `plaintext_len` bytes' room holding only its header and IV.
    fn start_blob(
        algorithm: Algorithm,
        padding: Option<PaddingMode>,
        key_version_id: &str,
        iv: &[u8],
        plaintext_len: usize,
    ) -> Result<Vec<u8>> {
        let mode = CipherMode::new(algorithm.mode(), iv, b"", padding).unwrap();
        let mut blob = vec![0; blob_len(&mode, plaintext_len)];
        let start = write_blob_header(&mut blob, algorithm, &mode, key_version_id)?;
        assert_eq!(blob.len() - start, mode.ciphertext_len(plaintext_len));
        blob.truncate(start);
        Ok(blob)
    }

    #[test]
    fn header_layout_matches_the_contract() {
        let blob = start_blob(Algorithm::AesGcm, None, VERSION, &[0xee; 12], 5).unwrap();
        assert_eq!(blob[0], b'$');
        assert_eq!(blob[1], 0x00);
        assert_eq!(blob[2], 2);
        assert_eq!(&blob[3..39], VERSION.as_bytes());
        assert_eq!(&blob[39..51], &[0xee; 12]);

        let blob = start_blob(
            Algorithm::AesCbc,
            Some(PaddingMode::Pkcs7),
            VERSION,
            &[1; 16],
            0,
        )
        .unwrap();
        assert_eq!((blob[1], blob[2]), (0x01, 1));
        let blob = start_blob(
            Algorithm::AesEcb,
            Some(PaddingMode::NoPadding),
            VERSION,
            &[],
            0,
        )
        .unwrap();
        assert_eq!((blob[1], blob[2], blob.len()), (0x00, 3, 39));
    }

    #[test]
    fn parse_inverts_start() {
        let mut blob = start_blob(
            Algorithm::AesCbc,
            Some(PaddingMode::Pkcs7),
            VERSION,
            &[1; 16],
            3,
        )
        .unwrap();
        blob.extend_from_slice(&[9; 16]);
        let parsed = parse_blob(&blob).unwrap();
        assert_eq!(parsed.algorithm, Algorithm::AesCbc);
        assert_eq!(parsed.padding, Some(PaddingMode::Pkcs7));
        assert_eq!(parsed.key_version_id, VERSION);
        assert_eq!(parsed.iv, &[1; 16]);
        assert_eq!(parsed.ciphertext, &[9; 16]);
    }

    #[test]
    fn malformed_blobs_are_invalid_ciphertext() {
        let mut good = start_blob(Algorithm::AesGcm, None, VERSION, &[0; 12], 0).unwrap();
        good.extend_from_slice(&[0; 16]);
        assert!(parse_blob(&good).is_ok());
        let bad = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = good.clone();
            f(&mut b);
            parse_blob(&b).unwrap_err().kind()
        };
        use crate::error::ErrorKind::InvalidCiphertext as IC;
        assert_eq!(bad(&|b| b[0] = b'#'), IC);
        assert_eq!(bad(&|b| b[1] = 0x10), IC);
        assert_eq!(bad(&|b| b[1] = 0x01), IC);
        assert_eq!(bad(&|b| b[2] = 7), IC);
        assert_eq!(bad(&|b| b[2] = 0), IC);
        // Any printable ASCII is a KeyVersionId (the cloud's forms too); control
        // bytes and non-ASCII are not.
        assert!(parse_blob(&{
            let mut b = good.clone();
            b[10] = b'A';
            b
        })
        .is_ok());
        assert_eq!(bad(&|b| b[10] = 0x1f), IC);
        assert_eq!(bad(&|b| b[10] = 0x80), IC);
        assert_eq!(
            bad(&|b| {
                b.pop();
            }),
            IC
        );
        assert_eq!(bad(&|b| b.truncate(3)), IC);
        assert_eq!(parse_blob(&[]).unwrap_err().kind(), IC);
    }
}
