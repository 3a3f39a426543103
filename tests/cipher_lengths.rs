//! GCM and CBC at every length from 0 to 600 bytes against the modes as NIST defines
//! them (SP 800-38D for GCM, SP 800-38A for CBC), built here from AES one block at a
//! time and GHASH one bit at a time.
//!
//! The patched crates in vendor/ handle a message in pieces:
//! - aes encrypts the blocks after its last whole batch side by side;
//! - ctr hands those blocks to it together;
//! - aes-gcm makes the tag mask and a short message's keystream in one call.
//!
//! So every length around those pieces is checked: under 16 blocks, just over, around
//! a batch of 32, with partial last blocks. The checks run two ways:
//! - through the library (`Client::encrypt` and `Client::decrypt`, whatever backend the
//!   build uses);
//! - with the RustCrypto crates directly, which the fast backend's build still uses for
//!   the modes it lacks.
//!
//! The single-block calls this reference uses (`encrypt_block`, `decrypt_block`) are
//! the ones the patches leave alone.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit,
    KeyIvInit,
};
use aes_gcm::aead::{AeadInOut, Nonce, Tag};
use localkms::service::{DecryptRequest, EncryptRequest};
use localkms::Client;

mod common;

use common::calls::external_key;

const LONGEST: usize = 600;

/// Deterministic test bytes (xorshift64*).
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

/// One AES block, with a key of 16, 24 or 32 bytes.
#[derive(Clone)]
enum Aes {
    A128(aes::Aes128),
    A192(aes::Aes192),
    A256(aes::Aes256),
}

impl Aes {
    fn new(key: &[u8]) -> Aes {
        match key.len() {
            16 => Aes::A128(aes::Aes128::new_from_slice(key).unwrap()),
            24 => Aes::A192(aes::Aes192::new_from_slice(key).unwrap()),
            32 => Aes::A256(aes::Aes256::new_from_slice(key).unwrap()),
            n => panic!("no AES key has {n} bytes"),
        }
    }

    fn encrypt(&self, block: [u8; 16]) -> [u8; 16] {
        let mut b = Array::from(block);
        match self {
            Aes::A128(c) => c.encrypt_block(&mut b),
            Aes::A192(c) => c.encrypt_block(&mut b),
            Aes::A256(c) => c.encrypt_block(&mut b),
        }
        b.into()
    }

    fn decrypt(&self, block: [u8; 16]) -> [u8; 16] {
        let mut b = Array::from(block);
        match self {
            Aes::A128(c) => c.decrypt_block(&mut b),
            Aes::A192(c) => c.decrypt_block(&mut b),
            Aes::A256(c) => c.decrypt_block(&mut b),
        }
        b.into()
    }
}

/// X · Y in GF(2^128) with GCM's bit order (SP 800-38D, 6.3).
fn gf_mul(x: u128, y: u128) -> u128 {
    let r = 0xe1u128 << 120;
    let (mut z, mut v) = (0u128, y);
    for i in 0..128 {
        if (x >> (127 - i)) & 1 == 1 {
            z ^= v;
        }
        v = if v & 1 == 1 { (v >> 1) ^ r } else { v >> 1 };
    }
    z
}

fn block_of(chunk: &[u8]) -> [u8; 16] {
    let mut block = [0u8; 16];
    block[..chunk.len()].copy_from_slice(chunk);
    block
}

/// `ciphertext || tag` (SP 800-38D, 7.1, with a 96-bit IV).
fn gcm_seal(aes: &Aes, iv: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let h = u128::from_be_bytes(aes.encrypt([0; 16]));
    let mut j0 = [0u8; 16];
    j0[..12].copy_from_slice(iv);
    j0[15] = 1;
    let mut out = Vec::with_capacity(plaintext.len() + 16);
    for (i, chunk) in plaintext.chunks(16).enumerate() {
        let mut counter = j0;
        let c = u32::from_be_bytes(j0[12..].try_into().unwrap()).wrapping_add(1 + i as u32);
        counter[12..].copy_from_slice(&c.to_be_bytes());
        let keystream = aes.encrypt(counter);
        out.extend(chunk.iter().zip(keystream).map(|(p, k)| p ^ k));
    }
    let mut s = 0u128;
    for chunk in aad.chunks(16).chain(out.chunks(16)) {
        s = gf_mul(s ^ u128::from_be_bytes(block_of(chunk)), h);
    }
    let lengths = ((aad.len() as u128 * 8) << 64) | (plaintext.len() as u128 * 8);
    s = gf_mul(s ^ lengths, h);
    let tag = s ^ u128::from_be_bytes(aes.encrypt(j0));
    out.extend_from_slice(&tag.to_be_bytes());
    out
}

/// CBC with PKCS#7 padding (SP 800-38A, 6.2).
fn cbc_seal(aes: &Aes, iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let pad = 16 - plaintext.len() % 16;
    let mut padded = plaintext.to_vec();
    padded.resize(plaintext.len() + pad, pad as u8);
    let mut previous = *iv;
    let mut out = Vec::with_capacity(padded.len());
    for chunk in padded.chunks(16) {
        let mut block = block_of(chunk);
        block.iter_mut().zip(previous).for_each(|(b, p)| *b ^= p);
        previous = aes.encrypt(block);
        out.extend_from_slice(&previous);
    }
    // The reference's own decryption, block by block, round-trips.
    let mut previous = *iv;
    let mut opened = Vec::new();
    for chunk in out.chunks(16) {
        let mut block = aes.decrypt(block_of(chunk));
        block.iter_mut().zip(previous).for_each(|(b, p)| *b ^= p);
        previous = block_of(chunk);
        opened.extend_from_slice(&block);
    }
    assert_eq!(&opened[..plaintext.len()], plaintext, "the reference CBC");
    out
}

/// The RustCrypto crates directly: GCM sealed and opened, and a changed tag refused.
fn crates_gcm<C: KeyInit + AeadInOut>(
    key: &[u8],
    iv: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let cipher = C::new_from_slice(key).unwrap();
    let nonce = Nonce::<C>::try_from(&iv[..]).unwrap();
    let mut buf = plaintext.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&nonce, aad, (&mut buf[..]).into())
        .unwrap();
    let sealed = [&buf[..], &tag[..]].concat();
    let mut bad_tag = tag.clone();
    bad_tag[0] ^= 1;
    let mut opened = buf.clone();
    assert!(cipher
        .decrypt_inout_detached(
            &nonce,
            aad,
            (&mut opened[..]).into(),
            &Tag::<C>::try_from(&bad_tag[..]).unwrap()
        )
        .is_err());
    assert_eq!(opened, buf, "a refused open leaves the buffer alone");
    cipher
        .decrypt_inout_detached(&nonce, aad, (&mut opened[..]).into(), &tag)
        .unwrap();
    assert_eq!(opened, plaintext);
    sealed
}

fn crates_cbc<C: BlockCipherEncrypt + BlockCipherDecrypt + KeyInit>(
    key: &[u8],
    iv: &[u8; 16],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut sealed = plaintext.to_vec();
    sealed.resize(plaintext.len() + 16, 0);
    let len = cbc::Encryptor::<C>::new_from_slices(key, iv)
        .unwrap()
        .encrypt_padded::<Pkcs7>(&mut sealed, plaintext.len())
        .unwrap()
        .len();
    sealed.truncate(len);
    let mut opened = sealed.clone();
    let len = cbc::Decryptor::<C>::new_from_slices(key, iv)
        .unwrap()
        .decrypt_padded::<Pkcs7>(&mut opened)
        .unwrap()
        .len();
    opened.truncate(len);
    assert_eq!(opened, plaintext);
    sealed
}

fn check_key(spec: &str, key_len: usize) {
    let client = Client::in_memory();
    let key = bytes(key_len as u64, key_len);
    let aes = Aes::new(&key);
    let key_id = external_key(&client, spec, &key);
    let gcm_iv: [u8; 12] = bytes(12, 12).try_into().unwrap();
    let cbc_iv: [u8; 16] = bytes(16, 16).try_into().unwrap();
    for len in 0..=LONGEST {
        let plaintext = bytes(len as u64 + 100, len);
        for aad in [&b""[..], &bytes(7, 20 + len % 40)] {
            let expected = gcm_seal(&aes, &gcm_iv, aad, &plaintext);
            let direct = match key_len {
                16 => crates_gcm::<aes_gcm::Aes128Gcm>(&key, &gcm_iv, aad, &plaintext),
                24 => crates_gcm::<aes_gcm::AesGcm<aes::Aes192, aes_gcm::aead::consts::U12>>(
                    &key, &gcm_iv, aad, &plaintext,
                ),
                _ => crates_gcm::<aes_gcm::Aes256Gcm>(&key, &gcm_iv, aad, &plaintext),
            };
            assert!(
                direct == expected,
                "{spec}: aes-gcm, {len} bytes, Aad of {}",
                aad.len()
            );
            let sealed = client
                .encrypt(&EncryptRequest {
                    key_id: &key_id,
                    plaintext: &plaintext,
                    iv: &gcm_iv,
                    aad,
                    ..Default::default()
                })
                .unwrap()
                .ciphertext_blob;
            assert!(
                sealed == expected,
                "{spec}: Encrypt AES_GCM, {len} bytes, Aad of {}",
                aad.len()
            );
            let opened = client
                .decrypt(&DecryptRequest {
                    ciphertext_blob: &expected,
                    key_id: Some(&key_id),
                    iv: &gcm_iv,
                    aad,
                    ..Default::default()
                })
                .unwrap()
                .plaintext;
            assert!(
                opened[..] == plaintext[..],
                "{spec}: Decrypt AES_GCM, {len} bytes"
            );
        }
        let expected = cbc_seal(&aes, &cbc_iv, &plaintext);
        let direct = match key_len {
            16 => crates_cbc::<aes::Aes128>(&key, &cbc_iv, &plaintext),
            24 => crates_cbc::<aes::Aes192>(&key, &cbc_iv, &plaintext),
            _ => crates_cbc::<aes::Aes256>(&key, &cbc_iv, &plaintext),
        };
        assert!(direct == expected, "{spec}: cbc, {len} bytes");
        let sealed = client
            .encrypt(&EncryptRequest {
                key_id: &key_id,
                plaintext: &plaintext,
                algorithm: Some("AES_CBC"),
                iv: &cbc_iv,
                ..Default::default()
            })
            .unwrap()
            .ciphertext_blob;
        assert!(sealed == expected, "{spec}: Encrypt AES_CBC, {len} bytes");
        let opened = client
            .decrypt(&DecryptRequest {
                ciphertext_blob: &expected,
                key_id: Some(&key_id),
                algorithm: Some("AES_CBC"),
                iv: &cbc_iv,
                ..Default::default()
            })
            .unwrap()
            .plaintext;
        assert!(
            opened[..] == plaintext[..],
            "{spec}: Decrypt AES_CBC, {len} bytes"
        );
    }
}

#[test]
fn aes_128_at_every_length() {
    check_key("Aliyun_AES_128", 16);
}

#[test]
fn aes_192_at_every_length() {
    check_key("Aliyun_AES_192", 24);
}

#[test]
fn aes_256_at_every_length() {
    check_key("Aliyun_AES_256", 32);
}
