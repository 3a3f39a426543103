//! The record of one key, as a row of the SQLite and PostgreSQL stores holds it
//! once unsealed (src/keystore/codec.rs, `decode_key`). Any bytes must decode or
//! be refused as KeyStore.Corrupted; what decodes must encode to a record that
//! decodes to the same encoding again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use localkms::fuzzing::{decode_key_record, encode_key_record};
use localkms::ErrorKind;

fuzz_target!(|data: &[u8]| {
    match decode_key_record(data) {
        Ok(key) => {
            let encoded = encode_key_record(&key);
            let again = decode_key_record(&encoded).expect("an encoded record decodes");
            assert_eq!(*encode_key_record(&again), *encoded, "encoding is stable");
            assert_eq!(again.key_id, key.key_id);
            assert_eq!(again.versions.len(), key.versions.len());
            assert!(key.primary < key.versions.len());
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::KeyStoreCorrupt, "{e}"),
    }
});
