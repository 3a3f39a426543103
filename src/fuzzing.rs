//! The store's decoders, for the fuzz targets (`fuzz/`) only: built with the
//! `fuzzing` feature, hidden from the documentation, and no part of the API.
//! Everything else those programs drive is public already (the C ABI, `ids`,
//! `keystore::MasterKey`). The key record's property test calls the codec directly
//! (`src/keystore/codec_properties.rs`), so that no test needs this feature.

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::Result;
use crate::keystore::{backend::v1_file, codec, Key, MasterKey, Model};

/// One key as a record of a database store row (`codec::encode_key`).
pub fn encode_key_record(key: &Key) -> Zeroizing<Vec<u8>> {
    codec::encode_key(key)
}

/// A key record read back (`codec::decode_key`): every malformation is
/// `KeyStore.Corrupted`.
pub fn decode_key_record(record: &[u8]) -> Result<Key> {
    codec::decode_key(record)
}

/// A whole store payload of any version (`codec::decode`), as the v1 file holds one.
pub fn decode_payload(payload: &[u8]) -> Result<Model> {
    Ok(codec::decode(payload)?.model)
}

/// The v1 sealed single file at `path`, read as `localkms store copy` reads it.
pub fn read_v1_file(path: &Path, master: &MasterKey) -> Result<Model> {
    v1_file::read_v1_store(path, master)
}
