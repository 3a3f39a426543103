//! Wiping a buffer of secrets at memset speed.
//!
//! `zeroize` writes a byte slice one volatile byte at a time, so that the
//! compiler cannot drop the writes to memory about to be freed: about 0.3 ms for
//! 1 MiB, which made decrypting bulk data slower than encrypting it (the decrypt
//! response is wiped when freed). Here the zeroing is one `fill` (a `memset`) that
//! `black_box` keeps, as in `stack_wipe.rs`: the compiler must assume the zeroed
//! bytes are read afterwards, so it cannot leave the writes out.

use std::hint::black_box;

/// Zeroes `buf` (secrets about to be freed) at memset speed.
pub fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    black_box(buf);
}

/// Secret bytes (a plaintext, a data key) that are wiped, spare capacity included,
/// at memset speed when dropped; `Debug` shows only their length. Derefs to the
/// vector.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(bytes)
    }
}

impl std::ops::Deref for SecretBytes {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl std::ops::DerefMut for SecretBytes {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        // Within the capacity: no reallocation, so the bytes cut off by a
        // truncation are wiped with the rest.
        let capacity = self.0.capacity();
        self.0.resize(capacity, 0);
        wipe(&mut self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_bytes_show_only_their_length() {
        let secret = SecretBytes::new(b"attack at dawn".to_vec());
        assert_eq!(format!("{secret:?}"), "SecretBytes(14 bytes)");
        assert_eq!(&secret[..], b"attack at dawn");
    }

    #[test]
    fn every_byte_is_zeroed() {
        for len in [0, 1, 15, 16, 17, 4096, 1 << 20] {
            let mut buf: Vec<u8> = (0..len).map(|i| (i % 251) as u8 | 1).collect();
            wipe(&mut buf);
            assert!(buf.iter().all(|&b| b == 0), "{len}");
        }
    }
}
