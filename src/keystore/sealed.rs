//! The sealed store file: a plain header, authenticated, and the payload
//! encrypted under a key derived from the master key.
//!
//! ```text
//! offset size  field
//!  0      8    magic "LOCALKMS"
//!  8      2    format version (u16 LE), 1
//! 10      2    flags (u16 LE), 0
//! 12      8    generation (u64 LE): +1 on every write
//! 20     15    salt: random, chosen when the store is created
//! 35     16    verifier = AES-256_mk(salt || 0x03)
//! 51     12    nonce: random for every write
//! 63      8    sealed length (u64 LE) = file length - 75
//! 71      4    CRC-32 (IEEE) of bytes 0..71
//! 75      …    AES-256-GCM(payload) || tag, key AES_mk(salt||1) || AES_mk(salt||2),
//!              the 75 header bytes as Aad
//! ```
//!
//! Bytes 0..12 keep their meaning in every format version, so a reader can tell a
//! newer format from damage.
//!
//! The master key itself never encrypts data: AES under it, on distinct blocks,
//! derives the data key and the verifier (a key check value). The verifier tells a
//! wrong master key (`KeyStore.AccessDenied`) from a damaged file
//! (`KeyStore.Corrupted`), which a failed tag alone cannot; the CRC tells damage
//! to the header (the salt or the verifier) from a wrong master key. The CRC is no
//! protection against tampering: the GCM tag over the header is.

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes256;
use aes_gcm::aead::AeadInOut;
use aes_gcm::Aes256Gcm;
use zeroize::Zeroizing;

use super::master_key::MasterKey;
use crate::error::{Error, ErrorKind, Result};
use crate::random::fill_random;

pub const MAGIC: &[u8; 8] = b"LOCALKMS";
/// The newest file format this code reads and the one it writes. A newer reader
/// opens every older format.
pub const FORMAT_VERSION: u16 = 1;
pub const HEADER_LEN: usize = 75;
pub const SALT_LEN: usize = 15;
const TAG_LEN: usize = 16;

/// What a store file says about itself, before the master key is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub format_version: u16,
    pub generation: u64,
    pub salt: [u8; SALT_LEN],
    verifier: [u8; 16],
    nonce: [u8; 12],
}

fn corrupted(why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::KeyStoreCorrupt,
        format!("The key store file is corrupted or is not a localkms store: {why}."),
    )
}

/// `InternalFailure` for an allocation of `len` bytes that failed.
pub(crate) fn out_of_memory(len: usize) -> Error {
    Error::new(
        ErrorKind::InternalFailure,
        format!("Reading the key store failed: out of memory for {len} bytes."),
    )
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// CRC-32 (IEEE 802.3, reflected, as in zlib).
fn crc32(data: &[u8]) -> u32 {
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

/// Reads and checks the header (magic, version, length) of a whole file.
pub fn parse_header(file: &[u8]) -> Result<Header> {
    if file.len() < HEADER_LEN || &file[..8] != MAGIC {
        return Err(corrupted("it does not start with a localkms header"));
    }
    let format_version = u16_at(file, 8);
    if format_version == 0 {
        return Err(corrupted("format version 0 does not exist"));
    }
    if format_version > FORMAT_VERSION {
        return Err(corrupted(format!(
            "it has format version {format_version}, newer than this localkms reads ({FORMAT_VERSION}); \
             upgrade localkms"
        )));
    }
    if crc32(&file[..71]).to_le_bytes() != file[71..75] {
        return Err(corrupted("its header is damaged (checksum mismatch)"));
    }
    if u16_at(file, 10) != 0 {
        return Err(corrupted("unknown header flags"));
    }
    let sealed_len = u64_at(file, 63);
    if sealed_len != (file.len() - HEADER_LEN) as u64 || sealed_len < TAG_LEN as u64 {
        return Err(corrupted(
            "its length does not match its header (truncated?)",
        ));
    }
    let mut header = Header {
        format_version,
        generation: u64_at(file, 12),
        salt: [0; SALT_LEN],
        verifier: [0; 16],
        nonce: [0; 12],
    };
    header.salt.copy_from_slice(&file[20..35]);
    header.verifier.copy_from_slice(&file[35..51]);
    header.nonce.copy_from_slice(&file[51..63]);
    Ok(header)
}

struct FileKeys {
    data: Aes256Gcm,
    verifier: [u8; 16],
}

fn derive(master: &MasterKey, salt: &[u8; SALT_LEN]) -> FileKeys {
    let prf = Aes256::new(master.bytes().into());
    let block = |i: u8| {
        let mut b = Array::try_from(&[salt.as_slice(), &[i]].concat()[..]).expect("16 bytes");
        prf.encrypt_block(&mut b);
        b
    };
    let mut data_key = Zeroizing::new([0u8; 32]);
    data_key[..16].copy_from_slice(&block(1));
    data_key[16..].copy_from_slice(&block(2));
    let mut verifier = [0u8; 16];
    verifier.copy_from_slice(&block(3));
    FileKeys {
        data: Aes256Gcm::new((&*data_key).into()),
        verifier,
    }
}

/// The key that seals the rows of a database store, derived from the master key
/// and the store's salt as the file's data key is, with the verifier that tells a
/// wrong master key from a damaged row.
pub(crate) struct RowKey(FileKeys);

impl RowKey {
    pub(crate) fn derive(master: &MasterKey, salt: &[u8; SALT_LEN]) -> RowKey {
        RowKey(derive(master, salt))
    }

    /// The public value that tells whether a master key is this store's.
    pub(crate) fn verifier(&self) -> [u8; 16] {
        self.0.verifier
    }

    /// `nonce (12) | ciphertext | tag (16)` of `plaintext` under `aad`.
    pub(crate) fn seal_row(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; 12];
        fill_random(&mut nonce)?;
        let mut row = Vec::new();
        row.try_reserve_exact(12 + plaintext.len() + TAG_LEN)
            .map_err(|_| out_of_memory(plaintext.len()))?;
        row.extend_from_slice(&nonce);
        row.extend_from_slice(plaintext);
        let tag = self
            .0
            .data
            .encrypt_inout_detached(&Array::from(nonce), aad, (&mut row[12..]).into())
            .map_err(|_| Error::internal("Sealing a key store row failed."))?;
        row.extend_from_slice(&tag);
        Ok(row)
    }

    /// Opens a row of [`RowKey::seal_row`]; a row that fails (damaged, or moved
    /// under another table or primary key) is `KeyStore.Corrupted`.
    pub(crate) fn open_row(&self, aad: &[u8], row: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if row.len() < 12 + TAG_LEN {
            return Err(corrupted("a row is too short"));
        }
        let (nonce, rest) = row.split_at(12);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut plaintext = Zeroizing::new(Vec::new());
        plaintext
            .try_reserve_exact(body.len())
            .map_err(|_| out_of_memory(body.len()))?;
        plaintext.extend_from_slice(body);
        self.0
            .data
            .decrypt_inout_detached(
                &Array::try_from(nonce).expect("12 bytes"),
                aad,
                (&mut plaintext[..]).into(),
                &Array::try_from(tag).expect("16 bytes"),
            )
            .map_err(|_| corrupted("a row fails authentication (damaged, or moved)"))?;
        Ok(plaintext)
    }
}

/// A fresh random salt for a new store.
pub fn new_salt() -> Result<[u8; SALT_LEN]> {
    let mut salt = [0u8; SALT_LEN];
    fill_random(&mut salt)?;
    Ok(salt)
}

/// The bytes of a v1 store file holding `payload` (for tests: the library writes
/// v1 files no more).
#[cfg(test)]
pub fn seal(
    master: &MasterKey,
    salt: &[u8; SALT_LEN],
    generation: u64,
    payload: &[u8],
) -> Result<Vec<u8>> {
    let keys = derive(master, salt);
    let mut nonce = [0u8; 12];
    fill_random(&mut nonce)?;
    let mut file = Vec::with_capacity(HEADER_LEN + payload.len() + TAG_LEN);
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&0u16.to_le_bytes());
    file.extend_from_slice(&generation.to_le_bytes());
    file.extend_from_slice(salt);
    file.extend_from_slice(&keys.verifier);
    file.extend_from_slice(&nonce);
    file.extend_from_slice(&((payload.len() + TAG_LEN) as u64).to_le_bytes());
    let crc = crc32(&file);
    file.extend_from_slice(&crc.to_le_bytes());
    debug_assert_eq!(file.len(), HEADER_LEN);
    file.extend_from_slice(payload);
    let (header, body) = file.split_at_mut(HEADER_LEN);
    let tag = keys
        .data
        .encrypt_inout_detached(&Array::from(nonce), header, body.into())
        .map_err(|_| Error::internal("Sealing the key store failed."))?;
    file.extend_from_slice(&tag);
    Ok(file)
}

/// Opens a store file: its header and its payload (wiped on drop).
pub fn unseal(master: &MasterKey, file: &[u8]) -> Result<(Header, Zeroizing<Vec<u8>>)> {
    let header = parse_header(file)?;
    let keys = derive(master, &header.salt);
    // Not secret-dependent timing that matters here: the verifier is public.
    if keys.verifier != header.verifier {
        return Err(Error::new(
            ErrorKind::KeyStoreAccessDenied,
            "The master key does not open this key store (wrong master key).",
        ));
    }
    let (head, sealed) = file.split_at(HEADER_LEN);
    let (body, tag) = sealed.split_at(sealed.len() - TAG_LEN);
    // As large as the file: reserved fallibly, so a large one fails, not aborts.
    let mut payload = Zeroizing::new(Vec::new());
    payload
        .try_reserve_exact(body.len())
        .map_err(|_| out_of_memory(body.len()))?;
    payload.extend_from_slice(body);
    keys.data
        .decrypt_inout_detached(
            &Array::from(header.nonce),
            head,
            (&mut payload[..]).into(),
            &Array::try_from(tag).expect("16 bytes"),
        )
        .map_err(|_| corrupted("its sealed part fails authentication"))?;
    Ok((header, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn seal_and_unseal() {
        let master = MasterKey::generate().unwrap();
        let salt = new_salt().unwrap();
        let file = seal(&master, &salt, 7, b"payload bytes").unwrap();
        assert_eq!(&file[..8], b"LOCALKMS");
        let (header, payload) = unseal(&master, &file).unwrap();
        assert_eq!(header.generation, 7);
        assert_eq!(header.salt, salt);
        assert_eq!(&payload[..], b"payload bytes");
        assert!(
            !file.windows(7).any(|w| w == b"payload"),
            "the payload is encrypted"
        );
    }

    #[test]
    fn damage_is_corrupted_and_a_wrong_key_is_access_denied() {
        let master = MasterKey::generate().unwrap();
        let file = seal(&master, &new_salt().unwrap(), 1, &[5u8; 100]).unwrap();
        let other = MasterKey::generate().unwrap();
        assert_eq!(
            unseal(&other, &file).unwrap_err().kind(),
            ErrorKind::KeyStoreAccessDenied
        );
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x10;
            let kind = unseal(&master, &bad).unwrap_err().kind();
            assert_eq!(kind, ErrorKind::KeyStoreCorrupt, "byte {i}");
        }
        for len in 0..file.len() {
            assert_eq!(
                unseal(&master, &file[..len]).unwrap_err().kind(),
                ErrorKind::KeyStoreCorrupt
            );
        }
        let mut newer = file.clone();
        newer[8] = 2;
        let err = unseal(&master, &newer).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::KeyStoreCorrupt);
        assert!(err.message().contains("newer"), "{}", err.message());
    }
}
