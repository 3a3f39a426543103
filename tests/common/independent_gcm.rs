//! GCM computed by the RustCrypto crates directly, under material the test knows:
//! what the cloud or another SDK computes, independent of the library's cipher
//! wiring (`localkms::crypto`). Used by the blob and cloud-compatibility tests and
//! by the CLI's (which include this directory by `#[path]`).
//!
//! Only aes-gcm's detached in-place API, which the library's own `aes-gcm`
//! features offer: the tests switch on none of aead's `alloc` (Cargo.toml).

use aes_gcm::aead::{AeadInOut, KeyInit, Nonce, Tag};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};

/// AES-192-GCM with a 96-bit IV (aes-gcm names only the 128- and 256-bit ones).
pub type Aes192Gcm = AesGcm<aes::Aes192, aes_gcm::aead::consts::U12>;

/// `ciphertext || tag` of `plaintext` under cipher `C`.
pub fn seal_with<C: KeyInit + AeadInOut>(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut buf = plaintext.to_vec();
    let tag = C::new_from_slice(key)
        .expect("a key of the cipher's size")
        .encrypt_inout_detached(
            &Nonce::<C>::try_from(iv).expect("a 12-byte IV"),
            aad,
            (&mut buf[..]).into(),
        )
        .expect("GCM seals");
    buf.extend_from_slice(&tag);
    buf
}

/// The plaintext of `ciphertext || tag` under cipher `C`; `None` when the tag
/// does not verify (wrong key, IV or Aad, or changed bytes) or `sealed` is
/// shorter than a tag.
pub fn open_with<C: KeyInit + AeadInOut>(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Option<Vec<u8>> {
    let (body, tag) = sealed.split_at(sealed.len().checked_sub(16)?);
    let mut buf = body.to_vec();
    C::new_from_slice(key)
        .expect("a key of the cipher's size")
        .decrypt_inout_detached(
            &Nonce::<C>::try_from(iv).expect("a 12-byte IV"),
            aad,
            (&mut buf[..]).into(),
            &Tag::<C>::try_from(tag).expect("a 16-byte tag"),
        )
        .ok()?;
    Some(buf)
}

/// [`seal_with`] AES-GCM of the key's size (16, 24 or 32 bytes).
pub fn seal(key: &[u8], iv: &[u8], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    match key.len() {
        16 => seal_with::<Aes128Gcm>(key, iv, aad, plaintext),
        24 => seal_with::<Aes192Gcm>(key, iv, aad, plaintext),
        32 => seal_with::<Aes256Gcm>(key, iv, aad, plaintext),
        n => panic!("no AES key has {n} bytes"),
    }
}

/// [`open_with`] AES-GCM of the key's size (16, 24 or 32 bytes).
pub fn try_open(key: &[u8], iv: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    match key.len() {
        16 => open_with::<Aes128Gcm>(key, iv, aad, sealed),
        24 => open_with::<Aes192Gcm>(key, iv, aad, sealed),
        32 => open_with::<Aes256Gcm>(key, iv, aad, sealed),
        n => panic!("no AES key has {n} bytes"),
    }
}

/// [`try_open`], which must succeed.
pub fn open(key: &[u8], iv: &[u8], aad: &[u8], sealed: &[u8]) -> Vec<u8> {
    try_open(key, iv, aad, sealed).expect("the independent AES-GCM opens it")
}
