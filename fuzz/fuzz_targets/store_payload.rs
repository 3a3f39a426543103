//! A whole store payload of any format version, 1 to 3 (src/keystore/codec.rs,
//! `decode`: what a v1 store file holds once unsealed). Any bytes must decode or
//! be refused as KeyStore.Corrupted, and a decoded model must be consistent: every
//! alias names a key it holds, every key's primary is one of its versions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use localkms::fuzzing::decode_payload;
use localkms::ErrorKind;

fuzz_target!(|data: &[u8]| {
    match decode_payload(data) {
        Ok(model) => {
            for key in model.keys() {
                assert!(key.primary < key.versions.len());
            }
            for (_alias, key_id) in model.aliases() {
                assert!(
                    model.key(key_id).is_some(),
                    "an alias names a key of the store"
                );
            }
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::KeyStoreCorrupt, "{e}"),
    }
});
