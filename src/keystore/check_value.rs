//! The key check value of imported material: tells whether two materials are the
//! same without keeping either, so that an EXTERNAL key whose material expired
//! accepts only the same material again.
//!
//! It is HMAC-SHA-256 keyed with the material over a fixed label used for nothing
//! else, truncated to 16 bytes. HMAC is a PRF under its key, so the value reveals
//! nothing from which an AES or GCM secret could be derived. The check value of
//! payload format 1, AES_k(0^128), was exactly GCM's GHASH key H: with H and one
//! known blob anyone can forge GCM tags under k. It must never come back: nothing
//! here runs AES under the material.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Length of a key check value.
pub const CHECK_VALUE_LEN: usize = 16;

/// The HMAC input: names what the value is for, and its version.
const LABEL: &[u8] = b"localkms/key-check-value/v1";

/// How much of the stack below its caller [`scrub_stack`] overwrites: more than
/// the HMAC computation uses (two SHA-256 states, one 64-byte block, the message
/// schedule of the compression function).
const SCRUB_LEN: usize = 4096;

/// A key check value. Not secret in the way the material is, but `Debug` shows
/// no byte of it all the same, and it compares in constant time.
#[derive(Clone, Copy)]
pub struct KeyCheckValue([u8; CHECK_VALUE_LEN]);

impl KeyCheckValue {
    /// The check value of `material` (the raw AES key).
    pub fn of(material: &[u8]) -> KeyCheckValue {
        let value = hmac_sha256_truncated(material);
        // hmac 0.12 and sha2 0.10 have no `zeroize` feature: their state (the
        // key XOR ipad/opad block, the keyed SHA-256 states) lives on the stack of
        // the call above and is left there. It never touches the heap; overwrite
        // the stack it used before returning.
        scrub_stack();
        KeyCheckValue(value)
    }

    /// A check value as the store file holds it.
    pub(crate) fn from_bytes(bytes: [u8; CHECK_VALUE_LEN]) -> KeyCheckValue {
        KeyCheckValue(bytes)
    }

    /// The bytes, for the store file.
    pub(crate) fn as_bytes(&self) -> &[u8; CHECK_VALUE_LEN] {
        &self.0
    }
}

impl PartialEq for KeyCheckValue {
    /// Without a data-dependent early exit.
    fn eq(&self, other: &KeyCheckValue) -> bool {
        let diff = self
            .0
            .iter()
            .zip(&other.0)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl Eq for KeyCheckValue {}

impl std::fmt::Debug for KeyCheckValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCheckValue(redacted)")
    }
}

/// HMAC-SHA-256(material, LABEL), first 16 bytes. The HMAC state is a stack value
/// (no allocation), in a frame of its own so that [`scrub_stack`] covers it.
#[inline(never)]
fn hmac_sha256_truncated(material: &[u8]) -> [u8; CHECK_VALUE_LEN] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(material).expect("HMAC accepts a key of any length");
    mac.update(LABEL);
    let tag = mac.finalize().into_bytes();
    let mut out = [0u8; CHECK_VALUE_LEN];
    out.copy_from_slice(&tag[..CHECK_VALUE_LEN]);
    out
}

/// Overwrites `SCRUB_LEN` bytes of the stack below the caller's frame, where the
/// frames of the functions it called just were. Volatile writes (`zeroize`), so
/// the compiler cannot drop them; best effort, as all stack wiping is.
#[inline(never)]
fn scrub_stack() {
    let mut area = [0u8; SCRUB_LEN];
    zeroize::Zeroize::zeroize(&mut area[..]);
    std::hint::black_box(&area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::Array;
    use aes::cipher::{BlockCipherEncrypt, KeyInit};

    #[test]
    fn is_hmac_sha256_over_the_label_truncated() {
        // RFC 4231 test case 2 checks the HMAC itself: key "Jefe".
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let tag = mac.finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[7u8; 32]).unwrap();
        mac.update(b"localkms/key-check-value/v1");
        let full = mac.finalize().into_bytes();
        assert_eq!(KeyCheckValue::of(&[7u8; 32]).as_bytes()[..], full[..16]);
    }

    #[test]
    fn tells_materials_apart_and_is_not_the_ghash_key() {
        for len in [16, 24, 32] {
            let a = KeyCheckValue::of(&vec![1u8; len]);
            assert_eq!(a, KeyCheckValue::of(&vec![1u8; len]));
            assert_ne!(a, KeyCheckValue::of(&vec![2u8; len]));
        }
        let material = [0x42u8; 32];
        let mut h = Array::default();
        aes::Aes256::new((&material).into()).encrypt_block(&mut h);
        assert_ne!(KeyCheckValue::of(&material).as_bytes()[..], h[..]);
    }

    #[test]
    fn debug_shows_no_byte() {
        let cv = KeyCheckValue::from_bytes([0xab; CHECK_VALUE_LEN]);
        let shown = format!("{cv:?} {:?}", Some(cv));
        assert!(!shown.contains("ab") && !shown.contains("171"), "{shown}");
    }
}
