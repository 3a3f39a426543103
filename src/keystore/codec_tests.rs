//! Tests of the payload codec (a child module of `codec`).
//! (Over 400 lines because its 27 tests cover every payload version and the corruption of every field.)
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use super::*;
use crate::keystore::generate_material;
use crate::keystore::test_keys::{plain_key, version, DAY, NOW};

fn external_key(imported: bool) -> Key {
    let mut key = plain_key(KeySpec::Aes256, 1);
    key.origin = Origin::External;
    if imported {
        let material = key.versions[0].material.as_ref().unwrap();
        Arc::make_mut(&mut key.versions[0]).check_value = Some(material.check_value());
        key.material_expire = Some(NOW + 30 * DAY);
    } else {
        Arc::make_mut(&mut key.versions[0]).material = None;
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
        assert_eq!(ka.versions[0].check_value, kb.versions[0].check_value);
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
    assert!(!decoded.migrated, "the current version needs no migration");
    let decoded = decoded.model;
    assert_same_model(&model, &decoded);
    let second = encode(&decoded);
    assert_eq!(*first, *second);
    assert_eq!(decoded.keys.len(), 8);
    assert_eq!(decoded.aliases.len(), 6);
}

#[test]
fn empty_model_round_trips() {
    let bytes = encode(&Model::default());
    assert_eq!(&bytes[..4], &PAYLOAD_VERSION.to_le_bytes());
    assert_eq!(&bytes[4..], &[0, 0, 0, 0, 0, 0, 0, 0]);
    let model = decode(&bytes).unwrap().model;
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
            Ok(decoded) => {
                let again = encode(&decoded.model);
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
            Ok(decoded) => {
                accepted += 1;
                let again = encode(&decoded.model);
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
    Arc::make_mut(&mut key.versions[1]).material =
        Some(Arc::new(generate_material(KeySpec::Aes128).unwrap()));
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
    Arc::make_mut(&mut key.versions[1]).key_version_id = key.versions[0].key_version_id.clone();
    assert_corrupt(&encode(&single_key_model(key)), "appears more than once");

    let mut key = plain_key(KeySpec::Aes256, 1);
    Arc::make_mut(&mut key.versions[0]).key_version_id = format!("{}-01234567\u{7f}9", key.key_id);
    assert_corrupt(&encode(&single_key_model(key)), "KeyVersionId form");

    let mut key = plain_key(KeySpec::Aes256, 1);
    Arc::make_mut(&mut key.versions[0]).key_version_id = format!("{}-SHORT", key.key_id);
    assert_corrupt(&encode(&single_key_model(key)), "KeyVersionId form");

    let mut key = plain_key(KeySpec::Aes256, 1);
    key.key_id = "key/NOT-A-VALID-ID".to_owned();
    assert_corrupt(&encode(&single_key_model(key)), "KeyId form");
    let mut key = plain_key(KeySpec::Aes256, 1);
    key.key_id = "k".repeat(65);
    assert_corrupt(&encode(&single_key_model(key)), "KeyId form");
}

#[test]
fn key_invariants_are_enforced() {
    let mut key = plain_key(KeySpec::Aes256, 1);
    key.versions.clear();
    key.primary = 0;
    assert_corrupt(&encode(&single_key_model(key)), "has no versions");

    let mut key = plain_key(KeySpec::Aes256, 2);
    Arc::make_mut(&mut key.versions[0]).material = None;
    assert_corrupt(&encode(&single_key_model(key)), "only EXTERNAL keys");

    let mut key = plain_key(KeySpec::Aes256, 1);
    key.state = KeyState::PendingImport;
    assert_corrupt(&encode(&single_key_model(key)), "not EXTERNAL");

    let mut key = external_key(true);
    let second = version(&key.key_id, NOW, None);
    key.versions.push(Arc::new(second));
    key.primary = 1;
    let mut model = single_key_model(key);
    model.reindex();
    assert!(
        decode(&encode(&model)).is_ok(),
        "an EXTERNAL key may hold several imported versions"
    );

    let mut key = plain_key(KeySpec::EcP256, 1);
    key.origin = Origin::External;
    assert_corrupt(&encode(&single_key_model(key)), "asymmetric and EXTERNAL");

    let mut key = plain_key(KeySpec::EcP256, 1);
    Arc::make_mut(&mut key.versions[0]).material = None;
    assert_corrupt(&encode(&single_key_model(key)), "only EXTERNAL keys");

    let mut key = plain_key(KeySpec::EcP256, 1);
    Arc::make_mut(&mut key.versions[0]).material =
        Some(Arc::new(Material::asymmetric(Zeroizing::new(vec![]))));
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

// ---------------------------------------------------------------------------------
// Version 1 (legacy check values) and its migration
// ---------------------------------------------------------------------------------

/// AES_k(0^128): GCM's GHASH key H, which version 1 stored as the check value.
fn ghash_key(material: &[u8]) -> [u8; 16] {
    use aes::cipher::Array;
    use aes::cipher::{BlockCipherEncrypt, KeyInit};
    let mut block = Array::default();
    match material.len() {
        16 => aes::Aes128::new_from_slice(material)
            .unwrap()
            .encrypt_block(&mut block),
        24 => aes::Aes192::new_from_slice(material)
            .unwrap()
            .encrypt_block(&mut block),
        _ => aes::Aes256::new_from_slice(material)
            .unwrap()
            .encrypt_block(&mut block),
    }
    block.into()
}

/// A version-1 payload of `model`, as the code before version 2 wrote it: the
/// layout is that of version 2, so the model (whose check values the caller has
/// set to legacy ones) is encoded and its version field set to 1.
fn v1_payload(model: &Model) -> Vec<u8> {
    encode_legacy(model, LEGACY_CHECK_VALUE_VERSION).to_vec()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn only_key(model: &Model) -> &Key {
    model.keys.values().next().unwrap()
}

#[test]
fn v1_check_value_is_recomputed_from_present_material() {
    for spec in [KeySpec::Aes128, KeySpec::Aes192, KeySpec::Aes256] {
        let mut key = external_key(true);
        key.key_spec = spec;
        Arc::make_mut(&mut key.versions[0]).material =
            Some(Arc::new(generate_material(spec).unwrap()));
        let material = key.versions[0].material.clone().unwrap();
        let h = ghash_key(material.bytes());
        Arc::make_mut(&mut key.versions[0]).check_value = Some(KeyCheckValue::from_bytes(h));
        let payload = v1_payload(&single_key_model(key));
        assert!(
            contains(&payload, &h),
            "the legacy value is in the v1 payload"
        );

        let decoded = decode(&payload).unwrap();
        assert!(decoded.migrated, "a v1 payload is migrated");
        let key = only_key(&decoded.model);
        assert_eq!(key.versions[0].check_value, Some(material.check_value()));
        assert_ne!(key.versions[0].check_value.unwrap().as_bytes(), &h);
        // Nothing else changed: the material is the same.
        assert_eq!(
            key.versions[0].material.as_ref().unwrap().bytes(),
            material.bytes()
        );

        let rewritten = encode(&decoded.model);
        assert_eq!(rewritten[..4], PAYLOAD_VERSION.to_le_bytes());
        assert!(!contains(&rewritten, &h), "H is gone after the rewrite");
        let again = decode(&rewritten).unwrap();
        assert!(!again.migrated);
        assert_eq!(
            only_key(&again.model).versions[0].check_value,
            Some(material.check_value())
        );
    }
}

#[test]
fn v1_check_value_of_expired_material_is_dropped() {
    // After expiry, version 1 kept H although the material was wiped.
    let mut key = external_key(true);
    let h = ghash_key(key.versions[0].material.as_ref().unwrap().bytes());
    Arc::make_mut(&mut key.versions[0]).material = None;
    key.material_expire = None;
    key.state = KeyState::PendingImport;
    Arc::make_mut(&mut key.versions[0]).check_value = Some(KeyCheckValue::from_bytes(h));
    let payload = v1_payload(&single_key_model(key));
    assert!(contains(&payload, &h));

    let decoded = decode(&payload).unwrap();
    assert!(decoded.migrated);
    let key = only_key(&decoded.model);
    assert_eq!(key.versions[0].check_value, None, "H is not kept");
    assert_eq!(key.state, KeyState::PendingImport);
    assert!(key.versions[0].material.is_none());
    let rewritten = encode(&decoded.model);
    assert!(!contains(&rewritten, &h), "H is not written back");
}

#[test]
fn v1_check_value_on_a_key_that_is_not_external_is_dropped() {
    // Version 1 never wrote one there; whatever a file says is not kept.
    let mut key = plain_key(KeySpec::Aes256, 2);
    let h = ghash_key(key.versions[0].material.as_ref().unwrap().bytes());
    Arc::make_mut(&mut key.versions[0]).check_value = Some(KeyCheckValue::from_bytes(h));
    let decoded = decode(&v1_payload(&single_key_model(key))).unwrap();
    assert_eq!(only_key(&decoded.model).versions[0].check_value, None);
}

#[test]
fn v1_sample_model_decodes_like_v2_apart_from_check_values() {
    let model = sample_model();
    let decoded = decode(&v1_payload(&model)).unwrap();
    assert!(decoded.migrated);
    // sample_model's check values are current ones, made from the material, and
    // the migration computes the same from the same material.
    assert_same_model(&model, &decoded.model);
    // A v1 payload whose legacy values are all absent decodes too.
    let empty = v1_payload(&Model::default());
    assert!(decode(&empty).unwrap().migrated);
}

#[test]
fn v2_check_values_are_kept_as_stored_and_its_keys_permit_every_mode() {
    let mut key = external_key(true);
    Arc::make_mut(&mut key.versions[0]).check_value =
        Some(KeyCheckValue::from_bytes([0x5a; CHECK_VALUE_LEN]));
    key.modes = PermittedModes::GCM_ONLY;
    let legacy = encode_legacy(&single_key_model(key), KEY_LEVEL_CHECK_VALUE_VERSION);
    let decoded = decode(&legacy).unwrap();
    assert!(decoded.migrated, "a v2 payload is rewritten as v3");
    let key = only_key(&decoded.model);
    assert_eq!(
        key.versions[0].check_value,
        Some(KeyCheckValue::from_bytes([0x5a; CHECK_VALUE_LEN]))
    );
    assert_eq!(
        key.modes,
        PermittedModes::ALL,
        "old keys keep working as they did"
    );
    let current = encode(&decoded.model);
    assert_eq!(current[..4], PAYLOAD_VERSION.to_le_bytes());
    let again = decode(&current).unwrap();
    assert!(!again.migrated);
    assert_same_model(&decoded.model, &again.model);
    assert_eq!(*encode(&again.model), *current);
}

#[test]
fn v3_keeps_modes_mirrored_ids_and_per_version_check_values() {
    let mut key = external_key(true);
    key.key_id = "1e3304fd-68ac-4d5b-8886-ae5f01a1abcd".to_owned();
    Arc::make_mut(&mut key.versions[0]).key_version_id =
        "key-hzz62f1cb66fa42qoabcd-20v29babcd".to_owned();
    let second = generate_material(KeySpec::Aes256).unwrap();
    key.versions.push(Arc::new(KeyVersion {
        key_version_id: "2f4405fe-79bd-4e6c-9997-bf6f12b2abcd".to_owned(),
        creation_date: NOW + DAY,
        check_value: Some(second.check_value()),
        material: Some(Arc::new(second)),
        gcm_reserved: 1 << 20,
    }));
    key.primary = 1;
    key.modes = PermittedModes::parse(CipherFamily::Aes, Some("AES_GCM,AES_CBC")).unwrap();
    let mut sm4 = plain_key(KeySpec::Sm4, 2);
    sm4.modes = PermittedModes::GCM_ONLY;
    let mut model = single_key_model(key);
    model.insert_key(sm4);
    model.reindex();
    let decoded = decode(&encode(&model)).unwrap();
    assert!(!decoded.migrated);
    assert_same_model(&model, &decoded.model);
    for (a, b) in model.keys.values().zip(decoded.model.keys.values()) {
        assert_eq!(a.modes, b.modes);
        for (va, vb) in a.versions.iter().zip(&b.versions) {
            assert_eq!(va.check_value, vb.check_value);
            assert_eq!(va.gcm_reserved, vb.gcm_reserved);
        }
    }
    // A mirrored version is found through the index.
    let found = decoded
        .model
        .find_version("2f4405fe-79bd-4e6c-9997-bf6f12b2abcd", NOW);
    assert_eq!(
        found.unwrap().0.key_id,
        "1e3304fd-68ac-4d5b-8886-ae5f01a1abcd"
    );
}

#[test]
fn a_version_id_in_two_keys_is_corrupt() {
    let a = plain_key(KeySpec::Aes256, 1);
    let mut b = plain_key(KeySpec::Aes128, 1);
    Arc::make_mut(&mut b.versions[0]).key_version_id = a.versions[0].key_version_id.clone();
    let mut model = single_key_model(a);
    model.insert_key(b);
    let e = decode(&encode(&model))
        .err()
        .expect("a duplicate version is refused");
    assert_eq!(e.kind(), ErrorKind::KeyStoreCorrupt);
}

#[test]
fn huge_version_counts_and_material_lengths_fail_without_allocating() {
    let key = external_key(true);
    let bytes = encode(&single_key_model(key)).to_vec();
    // The version count is the u32 after the check value, before the version id
    // (its length prefix, then "key-…-<uuid>").
    let version_id = only_key(&decode(&bytes).unwrap().model).versions[0]
        .key_version_id
        .clone();
    let id_at = bytes
        .windows(version_id.len())
        .position(|w| w == version_id.as_bytes())
        .unwrap();
    let count_at = id_at - 4 - 4;
    assert_eq!(bytes[count_at..count_at + 4], 1u32.to_le_bytes());
    let mut huge_count = bytes.clone();
    huge_count[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    // No capacity is taken from the count: the second "version" is the bytes
    // after the first, which fail as one, long before 2^32 of them.
    assert_corrupt(&huge_count, "has an id without the KeyVersionId form");
    // The material length follows the version id, its creation date and the tag.
    let len_at = id_at + version_id.len() + 8 + 1;
    assert_eq!(bytes[len_at..len_at + 4], 32u32.to_le_bytes());
    let mut huge_len = bytes.clone();
    huge_len[len_at..len_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_corrupt(&huge_len, "ends inside the material");
}
