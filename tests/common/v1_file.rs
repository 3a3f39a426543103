//! Store files of localkms 0.1 ("v1": one sealed file), built byte by byte from the
//! format the library documents (`src/keystore/sealed.rs` for the file,
//! `src/keystore/codec.rs` for the payload), since the library itself writes them no
//! more. The payload is of version 2, the last one 0.1 wrote before permitted modes.
//!
//! ```text
//! offset size  field
//!  0      8    magic "LOCALKMS"
//!  8      2    format version (u16 LE), 1
//! 10      2    flags (u16 LE), 0
//! 12      8    generation (u64 LE)
//! 20     15    salt
//! 35     16    verifier = AES-256_mk(salt || 0x03)
//! 51     12    nonce
//! 63      8    sealed length (u64 LE) = file length - 75
//! 71      4    CRC-32 (IEEE) of bytes 0..71
//! 75      …    AES-256-GCM(payload) || tag, key AES_mk(salt||1) || AES_mk(salt||2),
//!              the 75 header bytes as Aad
//! ```

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes256;
use aes_gcm::aead::AeadInOut;
use aes_gcm::Aes256Gcm;

/// The magic every v1 store file starts with.
pub const V1_MAGIC: &[u8; 8] = b"LOCALKMS";

/// Length of the plain header of a v1 store file.
pub const V1_HEADER_LEN: usize = 75;

/// One Enabled Aliyun_AES_256 key of the AliyunKms origin, with one version.
#[derive(Clone, Debug)]
pub struct V1Key {
    pub key_id: String,
    pub version_id: String,
    pub material: [u8; 32],
    pub description: String,
    pub creation_date: i64,
}

impl V1Key {
    /// A key with fresh ids and random material, made "now".
    pub fn new(description: &str) -> V1Key {
        let key_id = localkms::ids::new_key_id().expect("a KeyId");
        let version_id = localkms::ids::new_key_version_id(&key_id).expect("a KeyVersionId");
        V1Key {
            key_id,
            version_id,
            material: rand::random(),
            description: description.to_owned(),
            creation_date: localkms::time::system_now(),
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected, as in zlib).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&u32::try_from(s.len()).unwrap().to_le_bytes());
    out.extend_from_slice(s);
}

/// The payload (version 2) holding `keys` and `aliases` (name, KeyId).
pub fn v1_payload(keys: &[V1Key], aliases: &[(&str, &str)]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&2u32.to_le_bytes());
    p.extend_from_slice(&u32::try_from(keys.len()).unwrap().to_le_bytes());
    for key in keys {
        put_str(&mut p, key.key_id.as_bytes());
        p.push(3); // KeySpec Aliyun_AES_256
        p.push(1); // KeyUsage ENCRYPT/DECRYPT
        p.push(1); // Origin Aliyun_KMS
        put_str(&mut p, key.description.as_bytes());
        p.extend_from_slice(&key.creation_date.to_le_bytes());
        p.push(1); // KeyState Enabled
        p.push(0); // no DeleteDate
        p.extend_from_slice(&0u32.to_le_bytes()); // primary: the first version
        p.push(0); // no automatic rotation
        p.push(0); // no rotation interval
        p.extend_from_slice(&key.creation_date.to_le_bytes()); // LastRotationDate
        p.push(0); // no material expiry
        p.push(0); // no material check value
        p.extend_from_slice(&1u32.to_le_bytes()); // one version
        put_str(&mut p, key.version_id.as_bytes());
        p.extend_from_slice(&key.creation_date.to_le_bytes());
        p.push(1); // material present
        put_str(&mut p, &key.material);
    }
    p.extend_from_slice(&u32::try_from(aliases.len()).unwrap().to_le_bytes());
    for (name, key_id) in aliases {
        put_str(&mut p, name.as_bytes());
        put_str(&mut p, key_id.as_bytes());
    }
    p
}

/// The bytes of a v1 store file sealing `payload` under `master`.
pub fn v1_seal(master: &[u8; 32], generation: u64, payload: &[u8]) -> Vec<u8> {
    let salt: [u8; 15] = rand::random();
    let nonce: [u8; 12] = rand::random();
    let prf = Aes256::new(master.into());
    let block = |i: u8| {
        let mut b = Array::try_from(&[salt.as_slice(), &[i]].concat()[..]).expect("16 bytes");
        prf.encrypt_block(&mut b);
        b
    };
    let mut data_key = [0u8; 32];
    data_key[..16].copy_from_slice(&block(1));
    data_key[16..].copy_from_slice(&block(2));
    let verifier = block(3);

    let mut file = Vec::with_capacity(V1_HEADER_LEN + payload.len() + 16);
    file.extend_from_slice(V1_MAGIC);
    file.extend_from_slice(&1u16.to_le_bytes());
    file.extend_from_slice(&0u16.to_le_bytes());
    file.extend_from_slice(&generation.to_le_bytes());
    file.extend_from_slice(&salt);
    file.extend_from_slice(&verifier);
    file.extend_from_slice(&nonce);
    file.extend_from_slice(&((payload.len() + 16) as u64).to_le_bytes());
    let crc = crc32(&file);
    file.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(file.len(), V1_HEADER_LEN);
    file.extend_from_slice(payload);
    let (header, body) = file.split_at_mut(V1_HEADER_LEN);
    let tag = Aes256Gcm::new((&data_key).into())
        .encrypt_inout_detached(&Array::from(nonce), header, body.into())
        .expect("AES-GCM seals");
    file.extend_from_slice(&tag);
    file
}

/// A whole v1 store file holding `keys` and `aliases`, sealed under `master`.
pub fn v1_store_file(master: &[u8; 32], keys: &[V1Key], aliases: &[(&str, &str)]) -> Vec<u8> {
    v1_seal(master, 1, &v1_payload(keys, aliases))
}
