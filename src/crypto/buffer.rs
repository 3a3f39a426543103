//! Buffers whose size the caller controls, and the limits behind them.
//!
//! No allocation of a caller-controlled size may abort the host process: sizes are
//! checked against these limits first, and the allocation itself is fallible
//! (`try_reserve_exact`), so a request the machine cannot serve is an error
//! status, not SIGABRT.

use super::blob::BLOB_HEADER_LEN;
use super::lengths::{BLOCK_LEN, CBC_IV_LEN, GCM_TAG_LEN};
use crate::error::{Error, Result};

/// The largest plaintext one call encrypts: AES-GCM's limit of 2^36 - 32 bytes
/// (NIST SP 800-38D, 2^39 - 256 bits), applied to every mode.
pub const MAX_PLAINTEXT_LEN: u64 = (1 << 36) - 32;

/// The largest ciphertext one call decrypts: the largest plaintext with the largest
/// blob header, IV, and padding block or tag around it.
pub const MAX_CIPHERTEXT_LEN: u64 =
    MAX_PLAINTEXT_LEN + (BLOB_HEADER_LEN + CBC_IV_LEN + max(BLOCK_LEN, GCM_TAG_LEN)) as u64;

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// Refuses a plaintext longer than [`MAX_PLAINTEXT_LEN`] (`InvalidParameter`).
pub fn check_plaintext_len(len: usize) -> Result<()> {
    if len as u64 > MAX_PLAINTEXT_LEN {
        return Err(Error::invalid_parameter(
            "Plaintext",
            format!("The plaintext is {len} bytes; at most {MAX_PLAINTEXT_LEN} bytes are encrypted in one call."),
        ));
    }
    Ok(())
}

/// Refuses a ciphertext longer than [`MAX_CIPHERTEXT_LEN`] (`InvalidCiphertext`:
/// nothing this library made is that long).
pub fn check_ciphertext_len(len: usize) -> Result<()> {
    if len as u64 > MAX_CIPHERTEXT_LEN {
        return Err(Error::invalid_ciphertext());
    }
    Ok(())
}

/// An empty vector with room for exactly `capacity` bytes, or `InternalFailure`
/// ("out of memory") when the allocator cannot provide them.
pub fn with_capacity(capacity: usize) -> Result<Vec<u8>> {
    let mut buffer = Vec::new();
    reserve(&mut buffer, capacity)?;
    Ok(buffer)
}

/// Makes room for `additional` more bytes in `buffer`, or `InternalFailure`
/// ("out of memory").
pub fn reserve(buffer: &mut Vec<u8>, additional: usize) -> Result<()> {
    buffer.try_reserve_exact(additional).map_err(|_| {
        Error::internal(format!(
            "out of memory: {additional} bytes could not be allocated for the output."
        ))
    })
}

/// `len` zero bytes in a fallibly allocated vector.
pub fn zeroed(len: usize) -> Result<Vec<u8>> {
    let mut buffer = with_capacity(len)?;
    buffer.resize(len, 0);
    Ok(buffer)
}

/// A copy of `bytes` in a fallibly allocated vector.
pub fn copy_of(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut buffer = with_capacity(bytes.len())?;
    buffer.extend_from_slice(bytes);
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_refused_one_past_them() {
        assert!(check_plaintext_len(MAX_PLAINTEXT_LEN as usize).is_ok());
        let e = check_plaintext_len(MAX_PLAINTEXT_LEN as usize + 1).unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::InvalidParameter);
        assert!(check_ciphertext_len(MAX_CIPHERTEXT_LEN as usize).is_ok());
        let e = check_ciphertext_len(MAX_CIPHERTEXT_LEN as usize + 1).unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::InvalidCiphertext);
    }

    #[test]
    fn an_impossible_allocation_is_an_error() {
        let e = with_capacity(isize::MAX as usize).unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::InternalFailure);
        assert!(e.message().contains("out of memory"), "{}", e.message());
    }
}
