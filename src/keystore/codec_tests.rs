//! Tests of the payload codec (a child module of `codec`).
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use super::*;
use crate::keystore::generate_material;

const NOW: i64 = 1_795_867_200;
const DAY: i64 = 86_400;

fn version(key_id: &str, created: i64, spec: Option<KeySpec>) -> KeyVersion {
    KeyVersion {
        key_version_id: ids::new_key_version_id(key_id).unwrap(),
        creation_date: created,
        material: spec.map(|s| Arc::new(generate_material(s).unwrap())),
    }
}

fn plain_key(spec: KeySpec, n_versions: usize) -> Key {
    let key_id = ids::new_key_id().unwrap();
    let versions = (0..n_versions)
        .map(|i| version(&key_id, NOW + i as i64 * DAY, Some(spec)))
        .collect::<Vec<_>>();
    Key {
        key_id,
        key_spec: spec,
        key_usage: spec.default_usage(),
        origin: Origin::AliyunKms,
        description: format!("a {} key — ünïcode", spec.name()),
        creation_date: NOW,
        state: KeyState::Enabled,
        delete_date: None,
        primary: n_versions - 1,
        versions,
        automatic_rotation: false,
        rotation_interval: None,
        last_rotation_date: NOW,
        material_expire: None,
        material_check_value: None,
    }
}

fn external_key(imported: bool) -> Key {
    let mut key = plain_key(KeySpec::Aes256, 1);
    key.origin = Origin::External;
    if imported {
        let material = key.versions[0].material.as_ref().unwrap();
        key.material_check_value = material.cipher().map(|c| c.check_value());
        key.material_expire = Some(NOW + 30 * DAY);
    } else {
        key.versions[0].material = None;
        key.state = KeyState::PendingImport;
    }
    key.description = String::new();
    key
}

/// A model with every kind of key the brief lists, and aliases.
fn sample_model() -> Model {
    let mut model = Model::default();
    let mut alias_targets = Vec::new();
    for (i, spec) in [KeySpec::Aes128, KeySpec::Aes192, KeySpec::Aes256]
        .into_iter()
        .enumerate()
    {
        let mut key = plain_key(spec, 3 + i);
        key.primary = 1;
        key.automatic_rotation = true;
        key.rotation_interval = Some(7 * DAY * (i as i64 + 1));
        key.last_rotation_date = NOW + DAY;
        alias_targets.push(key.key_id.clone());
        model.insert_key(key);
    }
    let before_import = external_key(false);
    alias_targets.push(before_import.key_id.clone());
    model.insert_key(before_import);
    model.insert_key(external_key(true));

    let mut deleting = plain_key(KeySpec::Aes256, 2);
    deleting.state = KeyState::PendingDeletion;
    deleting.delete_date = Some(NOW + 7 * DAY);
    deleting.description = "x".repeat(300);
    model.insert_key(deleting);

    let mut disabled = plain_key(KeySpec::Aes128, 1);
    disabled.state = KeyState::Disabled;
    model.insert_key(disabled);

    let ec = plain_key(KeySpec::EcP256, 1);
    alias_targets.push(ec.key_id.clone());
    model.insert_key(ec);

    for (i, target) in alias_targets.iter().enumerate() {
        model.set_alias(&format!("alias/app-{i}/key_{i}"), target);
    }
    model.set_alias("alias/second-name", &alias_targets[0]);
    model
}

fn assert_same_model(a: &Model, b: &Model) {
    assert_eq!(
        a.keys.keys().collect::<Vec<_>>(),
        b.keys.keys().collect::<Vec<_>>()
    );
    assert_eq!(a.aliases, b.aliases);
    for (ka, kb) in a.keys.values().zip(b.keys.values()) {
        assert_eq!(ka.key_id, kb.key_id);
        assert_eq!(ka.key_spec, kb.key_spec);
        assert_eq!(ka.key_usage, kb.key_usage);
        assert_eq!(ka.origin, kb.origin);
        assert_eq!(ka.description, kb.description);
        assert_eq!(ka.creation_date, kb.creation_date);
        assert_eq!(ka.state, kb.state);
        assert_eq!(ka.delete_date, kb.delete_date);
        assert_eq!(ka.primary, kb.primary);
        assert_eq!(ka.automatic_rotation, kb.automatic_rotation);
        assert_eq!(ka.rotation_interval, kb.rotation_interval);
        assert_eq!(ka.last_rotation_date, kb.last_rotation_date);
        assert_eq!(ka.material_expire, kb.material_expire);
        assert_eq!(ka.material_check_value, kb.material_check_value);
        assert_eq!(ka.versions.len(), kb.versions.len());
        for (va, vb) in ka.versions.iter().zip(&kb.versions) {
            assert_eq!(va.key_version_id, vb.key_version_id);
            assert_eq!(va.creation_date, vb.creation_date);
            let ma = va.material.as_ref().map(|m| m.bytes());
            let mb = vb.material.as_ref().map(|m| m.bytes());
            assert_eq!(ma, mb);
            if let Some(m) = &vb.material {
                // A decoded symmetric version comes with its expanded cipher.
                assert_eq!(m.cipher().is_some(), ka.key_spec.is_symmetric());
            }
        }
    }
}

fn assert_corrupt(payload: &[u8], needle: &str) {
    match decode(payload) {
        Ok(_) => panic!("decoded a payload that should be corrupt ({needle})"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::KeyStoreCorrupt, "{e}");
            assert!(e.message().contains(needle), "{:?} lacks {needle:?}", e);
        }
    }
}

fn single_key_model(key: Key) -> Model {
    let mut model = Model::default();
    model.insert_key(key);
    model
}

#[test]
fn enum_codes_round_trip_and_are_distinct() {
    let mut seen = BTreeSet::new();
    for spec in KeySpec::ALL {
        assert_eq!(key_spec_from_code(key_spec_code(spec)), Some(spec));
        assert!(seen.insert(key_spec_code(spec)));
    }
    for usage in [KeyUsage::EncryptDecrypt, KeyUsage::SignVerify] {
        assert_eq!(key_usage_from_code(key_usage_code(usage)), Some(usage));
    }
    for origin in [Origin::AliyunKms, Origin::External] {
        assert_eq!(origin_from_code(origin_code(origin)), Some(origin));
    }
    for state in [
        KeyState::Enabled,
        KeyState::Disabled,
        KeyState::PendingDeletion,
        KeyState::PendingImport,
    ] {
        assert_eq!(key_state_from_code(key_state_code(state)), Some(state));
    }
    assert_eq!(key_spec_from_code(0), None);
    assert_eq!(key_usage_from_code(0), None);
    assert_eq!(origin_from_code(0), None);
    assert_eq!(key_state_from_code(0), None);
}

#[test]
fn round_trip_is_exact() {
    let model = sample_model();
    let first = encode(&model);
    let decoded = decode(&first).unwrap();
    assert_same_model(&model, &decoded);
    let second = encode(&decoded);
    assert_eq!(*first, *second);
    assert_eq!(decoded.keys.len(), 8);
    assert_eq!(decoded.aliases.len(), 6);
}

#[test]
fn empty_model_round_trips() {
    let bytes = encode(&Model::default());
    assert_eq!(&bytes[..], &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let model = decode(&bytes).unwrap();
    assert!(model.keys.is_empty() && model.aliases.is_empty());
}

#[test]
fn buffer_is_allocated_at_its_exact_size() {
    for model in [Model::default(), sample_model()] {
        let bytes = encode(&model);
        assert_eq!(bytes.capacity(), bytes.len());
    }
}

#[test]
fn every_truncation_is_corrupt() {
    let bytes = encode(&sample_model());
    for len in 0..bytes.len() {
        match decode(&bytes[..len]) {
            Ok(_) => panic!("a payload cut to {len} of {} bytes decoded", bytes.len()),
            Err(e) => assert_eq!(e.kind(), ErrorKind::KeyStoreCorrupt, "{e}"),
        }
    }
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x10ca_1c35);
    for i in 0..2000 {
        let len = rng.gen_range(0..512);
        let mut input = vec![0u8; len];
        rng.fill_bytes(&mut input);
        // Half start like a real payload, to get past the version check.
        if i % 2 == 0 && len >= 4 {
            input[..4].copy_from_slice(&PAYLOAD_VERSION.to_le_bytes());
        }
        match decode(&input) {
            Ok(model) => {
                let again = encode(&model);
                assert!(decode(&again).is_ok());
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::KeyStoreCorrupt, "{e}"),
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    let bytes = encode(&sample_model());
    let mut rng = StdRng::seed_from_u64(0x5eed_c0de);
    let mut accepted = 0;
    for _ in 0..2000 {
        let mut mutated = bytes.to_vec();
        let at = rng.gen_range(0..mutated.len());
        mutated[at] ^= rng.gen_range(1..=255u8);
        match decode(&mutated) {
            Ok(model) => {
                accepted += 1;
                let again = encode(&model);
                assert!(decode(&again).is_ok());
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::KeyStoreCorrupt, "{e}"),
        }
    }
    // Material bytes and dates carry no redundancy, so some mutations must pass:
    // a sign that the test reaches deep into the payload.
    assert!(accepted > 0);
}

#[test]
fn newer_payload_version_is_refused() {
    let mut bytes = encode(&sample_model()).to_vec();
    bytes[..4].copy_from_slice(&(PAYLOAD_VERSION + 1).to_le_bytes());
    assert_corrupt(&bytes, "written by a newer localkms");
    bytes[..4].copy_from_slice(&0u32.to_le_bytes());
    assert_corrupt(&bytes, "payload version is 0");
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = encode(&sample_model()).to_vec();
    bytes.push(0);
    assert_corrupt(&bytes, "1 unexpected bytes follow the aliases");
}

#[test]
fn primary_out_of_range_is_refused() {
    let mut key = plain_key(KeySpec::Aes256, 2);
    key.primary = 2;
    assert_corrupt(&encode(&single_key_model(key)), "out of range");
}

#[test]
fn wrong_material_length_is_refused() {
    let mut key = plain_key(KeySpec::Aes256, 2);
    key.versions[1].material = Some(Arc::new(generate_material(KeySpec::Aes128).unwrap()));
    assert_corrupt(&encode(&single_key_model(key)), "is 16 bytes");
}

#[test]
fn alias_to_a_missing_key_is_refused() {
    let mut model = single_key_model(plain_key(KeySpec::Aes256, 1));
    model.set_alias("alias/orphan", &ids::new_key_id().unwrap());
    assert_corrupt(&encode(&model), "names a key that is not in the store");
}

#[test]
fn bad_alias_name_is_refused() {
    let key = plain_key(KeySpec::Aes256, 1);
    let id = key.key_id.clone();
    let mut model = single_key_model(key);
    model.set_alias("alias/acs/reserved", &id);
    assert_corrupt(&encode(&model), "alias rules");
}

#[test]
fn duplicate_alias_is_refused() {
    let key = plain_key(KeySpec::Aes256, 1);
    let id = key.key_id.clone();
    let mut model = single_key_model(key);
    model.set_alias("alias/a", &id);
    model.set_alias("alias/b", &id);
    let mut bytes = encode(&model).to_vec();
    let at = bytes
        .windows(7)
        .position(|w| w == b"alias/b")
        .expect("the alias is in the payload");
    bytes[at + 6] = b'a';
    assert_corrupt(&bytes, "alias/a appears more than once");
}

#[test]
fn duplicate_key_is_refused() {
    let key = Arc::new(plain_key(KeySpec::Aes256, 1));
    let mut model = Model::default();
    // The same key under two map entries: the payload carries its id twice.
    model.keys.insert(key.key_id.clone(), key.clone());
    model.keys.insert("zzz".to_owned(), key.clone());
    assert_corrupt(&encode(&model), "appears more than once");
}

#[test]
fn version_id_rules_are_enforced() {
    let mut key = plain_key(KeySpec::Aes256, 2);
    key.versions[1].key_version_id = key.versions[0].key_version_id.clone();
    assert_corrupt(&encode(&single_key_model(key)), "appears more than once");

    let mut key = plain_key(KeySpec::Aes256, 2);
    let other = ids::new_key_id().unwrap();
    key.versions[1].key_version_id = ids::new_key_version_id(&other).unwrap();
    assert_corrupt(&encode(&single_key_model(key)), "does not start with");

    let mut key = plain_key(KeySpec::Aes256, 1);
    key.versions[0].key_version_id = format!("{}-SHORT", key.key_id);
    assert_corrupt(&encode(&single_key_model(key)), "KeyVersionId form");

    let mut key = plain_key(KeySpec::Aes256, 1);
    key.key_id = "key-NOT-A-VALID-ID".to_owned();
    assert_corrupt(&encode(&single_key_model(key)), "KeyId form");
}

#[test]
fn key_invariants_are_enforced() {
    let mut key = plain_key(KeySpec::Aes256, 1);
    key.versions.clear();
    key.primary = 0;
    assert_corrupt(&encode(&single_key_model(key)), "has no versions");

    let mut key = plain_key(KeySpec::Aes256, 2);
    key.versions[0].material = None;
    assert_corrupt(&encode(&single_key_model(key)), "only EXTERNAL keys");

    let mut key = plain_key(KeySpec::Aes256, 1);
    key.state = KeyState::PendingImport;
    assert_corrupt(&encode(&single_key_model(key)), "not EXTERNAL");

    let mut key = external_key(true);
    let second = version(&key.key_id, NOW, Some(KeySpec::Aes256));
    key.versions.push(second);
    assert_corrupt(&encode(&single_key_model(key)), "instead of 1");

    let mut key = plain_key(KeySpec::EcP256, 1);
    key.origin = Origin::External;
    assert_corrupt(&encode(&single_key_model(key)), "asymmetric and EXTERNAL");

    let mut key = plain_key(KeySpec::EcP256, 1);
    key.versions[0].material = None;
    assert_corrupt(&encode(&single_key_model(key)), "only EXTERNAL keys");

    let mut key = plain_key(KeySpec::EcP256, 1);
    key.versions[0].material = Some(Arc::new(Material::asymmetric(Zeroizing::new(vec![]))));
    assert_corrupt(&encode(&single_key_model(key)), "is empty");

    let mut key = plain_key(KeySpec::Aes256, 1);
    key.key_usage = KeyUsage::SignVerify;
    assert_corrupt(&encode(&single_key_model(key)), "does not allow");
}

#[test]
fn bad_codes_and_tags_are_refused() {
    let model = single_key_model(plain_key(KeySpec::Aes256, 1));
    let bytes = encode(&model).to_vec();
    // version (4) + key count (4) + KeyId length (4) + KeyId (25) = the KeySpec byte.
    let spec_at = 4 + 4 + 4 + ids::KEY_ID_LEN;
    assert_eq!(bytes[spec_at], 3);
    for (offset, needle) in [(0, "KeySpec"), (1, "KeyUsage"), (2, "Origin")] {
        let mut bad = bytes.clone();
        bad[spec_at + offset] = 99;
        assert_corrupt(&bad, &format!("{needle} of key"));
        assert_corrupt(&bad, "unknown code 99");
    }
    // description length (4) + description + creation date (8) = the state byte.
    let desc_len = model.keys.values().next().unwrap().description.len();
    let state_at = spec_at + 3 + 4 + desc_len + 8;
    let mut bad = bytes.clone();
    bad[state_at] = 0;
    assert_corrupt(&bad, "state of key");
    // The DeleteDate tag follows the state.
    let mut bad = bytes.clone();
    bad[state_at + 1] = 2;
    assert_corrupt(&bad, "presence tag of the DeleteDate");
    // DeleteDate (absent: 1) + primary (4) = the automatic rotation flag.
    let mut bad = bytes.clone();
    bad[state_at + 1 + 1 + 4] = 7;
    assert_corrupt(&bad, "automatic rotation flag");
}

#[test]
fn huge_counts_and_lengths_fail_without_allocating() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&PAYLOAD_VERSION.to_le_bytes());
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    assert_corrupt(&bytes, "ends inside");
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    assert_corrupt(&bytes, "ends inside a KeyId");
}
