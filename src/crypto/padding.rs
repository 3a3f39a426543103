//! The paddings of the block modes, and PKCS#7 checked without a data-dependent
//! early exit.
//!
//! A decryption that tells a bad padding apart from a bad key (by its code, its
//! message or its timing) is a padding oracle. The check below looks at the same
//! sixteen bytes whatever they hold and folds every condition into one mask.

use super::lengths::BLOCK_LEN;

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

/// All ones when `a < b`, else zero, without branching on the values.
fn ct_lt_mask(a: u32, b: u32) -> u8 {
    // For a, b < 2^31: a - b underflows (setting the top bit) exactly when a < b.
    (((a.wrapping_sub(b)) >> 31) as u8).wrapping_neg()
}

/// Returns the plaintext length of a PKCS#7-padded buffer, or `None` when the
/// padding is malformed. `data` must be a non-empty multiple of the block size
/// (callers check that from the length alone, which is public).
pub(crate) fn pkcs7_unpadded_len(data: &[u8]) -> Option<usize> {
    debug_assert!(!data.is_empty() && data.len().is_multiple_of(BLOCK_LEN));
    let last_block = &data[data.len() - BLOCK_LEN..];
    let pad = last_block[BLOCK_LEN - 1];
    let pad32 = u32::from(pad);
    // Bad when pad == 0 or pad > 16.
    let mut bad = !ct_lt_mask(0, pad32) | !ct_lt_mask(pad32, BLOCK_LEN as u32 + 1);
    for (i, &byte) in last_block.iter().rev().enumerate() {
        let in_padding = ct_lt_mask(i as u32, pad32);
        bad |= in_padding & (byte ^ pad);
    }
    // The one branch, on the combined verdict only.
    if bad == 0 {
        Some(data.len() - pad as usize)
    } else {
        None
    }
}

/// The PKCS#7 padding bytes for a message of `len` bytes.
pub(crate) fn pkcs7_pad_len(len: usize) -> usize {
    BLOCK_LEN - len % BLOCK_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_valid_padding() {
        for pad in 1..=16u8 {
            let mut block = [0xAAu8; 32];
            for b in block[32 - pad as usize..].iter_mut() {
                *b = pad;
            }
            assert_eq!(pkcs7_unpadded_len(&block), Some(32 - pad as usize));
        }
    }

    #[test]
    fn rejects_every_malformed_padding() {
        let mut block = [3u8; 16];
        block[15] = 0;
        assert_eq!(pkcs7_unpadded_len(&block), None);
        block[15] = 17;
        assert_eq!(pkcs7_unpadded_len(&block), None);
        block[15] = 255;
        assert_eq!(pkcs7_unpadded_len(&block), None);
        let mut block = [0u8; 16];
        block[15] = 4;
        block[14] = 4;
        block[13] = 4;
        block[12] = 5;
        assert_eq!(pkcs7_unpadded_len(&block), None);
        block[12] = 4;
        assert_eq!(pkcs7_unpadded_len(&block), Some(12));
        let full = [16u8; 16];
        assert_eq!(pkcs7_unpadded_len(&full), Some(0));
        let mut almost = [16u8; 16];
        almost[0] = 15;
        assert_eq!(pkcs7_unpadded_len(&almost), None);
    }

    #[test]
    fn pad_lengths() {
        assert_eq!(pkcs7_pad_len(0), 16);
        assert_eq!(pkcs7_pad_len(15), 1);
        assert_eq!(pkcs7_pad_len(16), 16);
    }
}
