//! Property test of the key record codec (proptest): decode(encode(record)) =
//! record for keys of every symmetric spec, state, origin, rotation setting and
//! permitted-mode set, with 1 to 4 versions with and without material and check
//! value; and the record a decoded key encodes to is the same bytes.
//!
//! A unit test, not in tests/: it calls the crate-private codec directly, so the
//! tests need no feature (`fuzzing`) switched on, which would make `cargo test`
//! build the library twice.

use std::sync::Arc;

use proptest::prelude::*;
use zeroize::Zeroizing;

use super::codec::{decode_key, encode_key};
use super::model::{
    Key, KeySpec, KeyState, KeyUsage, KeyVersion, Material, Origin, PermittedModes,
};
use crate::crypto::CipherFamily;

const SYMMETRIC: [(KeySpec, CipherFamily, usize); 4] = [
    (KeySpec::Aes256, CipherFamily::Aes, 32),
    (KeySpec::Aes128, CipherFamily::Aes, 16),
    (KeySpec::Aes192, CipherFamily::Aes, 24),
    (KeySpec::Sm4, CipherFamily::Sm4, 16),
];

fn id_chars(len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(b"abcdefghijklmnopqrstuvwxyz0123456789".to_vec()),
        len,
    )
    .prop_map(|b| String::from_utf8(b).unwrap())
}

fn key_strategy() -> impl Strategy<Value = Key> {
    (
        0..SYMMETRIC.len(),
        id_chars(21),
        any::<bool>(),
        prop::sample::select(vec![
            KeyState::Enabled,
            KeyState::Disabled,
            KeyState::PendingDeletion,
            KeyState::PendingImport,
        ]),
        "[ -~]{0,40}",
        (
            any::<i32>(),
            prop::option::of(any::<i32>()),
            prop::option::of(any::<i32>()),
        ),
        (any::<bool>(), prop::option::of(1i64..400 * 86_400), 1u8..8),
        prop::collection::vec(
            (
                id_chars(10),
                any::<bool>(),
                any::<bool>(),
                any::<u64>(),
                any::<u8>(),
            ),
            1..5,
        ),
        any::<prop::sample::Index>(),
    )
        .prop_map(
            |(s, id, external, state, description, dates, rotation, versions, primary)| {
                let (spec, family, len) = SYMMETRIC[s];
                let key_id = format!("key-{id}");
                let mut seen = std::collections::BTreeSet::new();
                let versions: Vec<KeyVersion> = versions
                    .into_iter()
                    .filter(|(suffix, ..)| seen.insert(suffix.clone()))
                    .map(|(suffix, has_material, has_check, reserved, seed)| {
                        // Only EXTERNAL keys may lack material (before import, after expiry).
                        let material = (has_material || !external).then(|| {
                            let bytes = (0..len as u8).map(|i| i ^ seed).collect();
                            Arc::new(Material::symmetric(family, Zeroizing::new(bytes)).unwrap())
                        });
                        KeyVersion {
                            key_version_id: format!("{key_id}-{suffix}"),
                            creation_date: i64::from(dates.0) + i64::from(seed),
                            check_value: material
                                .as_ref()
                                .filter(|_| has_check)
                                .map(|m| m.check_value()),
                            material,
                            gcm_reserved: reserved,
                        }
                    })
                    .collect();
                Key {
                    key_id,
                    key_spec: spec,
                    key_usage: KeyUsage::EncryptDecrypt,
                    origin: if external {
                        Origin::External
                    } else {
                        Origin::AliyunKms
                    },
                    description,
                    creation_date: i64::from(dates.0),
                    // Only an EXTERNAL key is ever PendingImport.
                    state: if state == KeyState::PendingImport && !external {
                        KeyState::Enabled
                    } else {
                        state
                    },
                    delete_date: dates.1.map(i64::from),
                    primary: primary.index(versions.len()),
                    versions: versions.into_iter().map(std::sync::Arc::new).collect(),
                    automatic_rotation: rotation.0,
                    rotation_interval: rotation.1,
                    last_rotation_date: i64::from(dates.0) + 1,
                    material_expire: dates.2.map(i64::from),
                    modes: PermittedModes::from_bits(rotation.2).unwrap(),
                }
            },
        )
}

fn assert_same_key(a: &Key, b: &Key) {
    assert_eq!(a.key_id, b.key_id);
    assert_eq!(a.key_spec, b.key_spec);
    assert_eq!(a.key_usage, b.key_usage);
    assert_eq!(a.origin, b.origin);
    assert_eq!(a.description, b.description);
    assert_eq!(a.creation_date, b.creation_date);
    assert_eq!(a.state, b.state);
    assert_eq!(a.delete_date, b.delete_date);
    assert_eq!(a.primary, b.primary);
    assert_eq!(a.automatic_rotation, b.automatic_rotation);
    assert_eq!(a.rotation_interval, b.rotation_interval);
    assert_eq!(a.last_rotation_date, b.last_rotation_date);
    assert_eq!(a.material_expire, b.material_expire);
    assert_eq!(a.modes, b.modes);
    assert_eq!(a.versions.len(), b.versions.len());
    for (x, y) in a.versions.iter().zip(&b.versions) {
        assert_eq!(x.key_version_id, y.key_version_id);
        assert_eq!(x.creation_date, y.creation_date);
        assert_eq!(x.gcm_reserved, y.gcm_reserved);
        assert_eq!(
            x.material.as_ref().map(|m| m.bytes().to_vec()),
            y.material.as_ref().map(|m| m.bytes().to_vec())
        );
        assert_eq!(x.check_value.is_some(), y.check_value.is_some());
        assert!(x.check_value == y.check_value);
    }
}

// Proptest's default configuration: 256 cases, or PROPTEST_CASES of them (as in
// tests/properties.rs).
proptest! {
    #[test]
    fn decode_inverts_encode(key in key_strategy()) {
        let record = encode_key(&key);
        let decoded = decode_key(&record).unwrap();
        assert_same_key(&key, &decoded);
        prop_assert_eq!(&*encode_key(&decoded), &*record);
    }
}
