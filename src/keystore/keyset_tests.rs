//! Tests of the key set's lookups (a child module of `keyset`): the hashed index
//! agrees with the ordered map before, during and after every kind of change.

use super::*;
use crate::keystore::test_keys::{plain_key, DAY, NOW};
use crate::keystore::KeySpec;

/// Every lookup of `key_id` (KeyId, each version, alias) finds `expected`'s
/// state, or nothing when `expected` is `None`.
fn assert_lookups(model: &Model, key_id: &str, expected: Option<&Key>) {
    match expected {
        Some(want) => {
            let got = model.key(key_id).expect("the key is found");
            assert_eq!(got.versions.len(), want.versions.len(), "{key_id}");
            assert_eq!(got.state, want.state);
            assert_eq!(got.description, want.description);
            let resolved = model.resolve(key_id, NOW).unwrap();
            assert!(Arc::ptr_eq(resolved, got));
            for v in &want.versions {
                let (owner, version) = model.find_version(&v.key_version_id, NOW).unwrap();
                assert!(Arc::ptr_eq(owner, got));
                assert_eq!(version.key_version_id, v.key_version_id);
            }
        }
        None => {
            assert!(model.key(key_id).is_none(), "{key_id} is gone");
            assert!(model.resolve(key_id, NOW).is_err());
            assert!(!model.key_id_taken(key_id));
        }
    }
}

#[test]
fn lookups_follow_every_change_before_and_after_it_is_taken() {
    let mut model = Model::default();
    let keys: Vec<Key> = (0..50).map(|_| plain_key(KeySpec::Aes256, 1)).collect();
    for key in &keys {
        model.insert_key(key.clone());
    }
    // Mid-change (nothing taken yet): the new keys are found.
    assert_lookups(&model, &keys[7].key_id, Some(&keys[7]));
    model.take_changes();
    for key in &keys {
        assert_lookups(&model, &key.key_id, Some(key));
    }

    // A change through resolve_mut: seen at once, and after it is taken.
    let changed = &keys[3].key_id;
    let key = model.resolve_mut(changed, NOW).unwrap();
    let version = new_version(key, NOW + DAY).unwrap();
    key.add_primary_version(version);
    key.description = "changed".to_owned();
    let after: Key = (**model.key(changed).unwrap()).clone();
    assert_eq!(after.versions.len(), 2, "the change is seen mid-change");
    let published = model.clone();
    model.take_changes();
    assert_lookups(&model, changed, Some(&after));
    assert_lookups(&published, changed, Some(&after));

    // A row replaced and a row removed (what a store applies from another writer).
    let mut replacement = keys[4].clone();
    replacement.description = "from another writer".to_owned();
    model.replace_key(&keys[4].key_id, Some(Arc::new(replacement.clone())));
    model.replace_key(&keys[5].key_id, None);
    assert_lookups(&model, &keys[4].key_id, Some(&replacement));
    assert_lookups(&model, &keys[5].key_id, None);
    let before_take = model.clone();
    model.take_changes();
    assert_lookups(&model, &keys[4].key_id, Some(&replacement));
    assert_lookups(&model, &keys[5].key_id, None);
    assert_lookups(&before_take, &keys[5].key_id, None);

    // An alias leads to the same key through the same index.
    model.set_alias("alias/three", changed);
    model.take_changes();
    assert!(Arc::ptr_eq(
        model.resolve("alias/three", NOW).unwrap(),
        model.key(changed).unwrap()
    ));
    // The untouched keys never moved.
    for key in keys.iter().skip(10) {
        assert_lookups(&model, &key.key_id, Some(key));
    }
}

#[test]
fn maintenance_is_seen_through_the_index() {
    let mut model = Model::default();
    let mut key = plain_key(KeySpec::Aes256, 1);
    key.automatic_rotation = true;
    key.rotation_interval = Some(7 * DAY);
    key.last_rotation_date = NOW - 8 * DAY;
    let key_id = key.key_id.clone();
    model.insert_key(key);
    model.take_changes();
    assert!(model.maintenance_due_at(NOW));
    assert!(model.run_maintenance(NOW).unwrap());
    model.take_changes();
    assert_eq!(model.key(&key_id).unwrap().versions.len(), 2);
    assert_eq!(model.resolve(&key_id, NOW).unwrap().versions.len(), 2);
    assert!(!model.maintenance_due_at(NOW));

    // A key past its DeleteDate is removed by maintenance, from the index too.
    let resolved = model.resolve_mut(&key_id, NOW).unwrap();
    resolved.state = KeyState::PendingDeletion;
    resolved.delete_date = Some(NOW + DAY);
    model.take_changes();
    assert!(model.run_maintenance(NOW + 2 * DAY).unwrap());
    model.take_changes();
    assert!(model.key(&key_id).is_none());
}

#[test]
fn alias_lookups_follow_every_change_before_and_after_it_is_taken() {
    let mut model = Model::default();
    let (a, b) = (plain_key(KeySpec::Aes256, 1), plain_key(KeySpec::Aes256, 1));
    model.insert_key(a.clone());
    model.insert_key(b.clone());
    for i in 0..100 {
        model.set_alias(&format!("alias/n{i}"), &a.key_id);
    }
    assert_eq!(
        model.alias_target("alias/n7"),
        Some(a.key_id.as_str()),
        "mid-change"
    );
    model.take_changes();
    let target = |m: &Model, alias: &str| m.resolve(alias, NOW).ok().map(|k| k.key_id.clone());
    assert_eq!(target(&model, "alias/n42"), Some(a.key_id.clone()));

    // Moved, removed, and replaced from a row: seen before and after the take.
    model.set_alias("alias/n1", &b.key_id);
    assert!(model.remove_alias("alias/n2"));
    model.replace_alias("alias/n3", Some(b.key_id.clone()));
    model.replace_alias("alias/n4", None);
    for m in [model.clone(), {
        model.take_changes();
        model.clone()
    }] {
        assert_eq!(target(&m, "alias/n1"), Some(b.key_id.clone()));
        assert!(m.alias_target("alias/n2").is_none());
        assert!(m.resolve("alias/n2", NOW).is_err());
        assert_eq!(target(&m, "alias/n3"), Some(b.key_id.clone()));
        assert!(m.alias_target("alias/n4").is_none());
        assert_eq!(target(&m, "alias/n99"), Some(a.key_id.clone()));
    }

    // A key removed by maintenance takes its aliases along, from the index too.
    let key = model.resolve_mut(&a.key_id, NOW).unwrap();
    key.state = KeyState::PendingDeletion;
    key.delete_date = Some(NOW + DAY);
    model.take_changes();
    assert!(model.run_maintenance(NOW + 2 * DAY).unwrap());
    model.take_changes();
    assert!(model.alias_target("alias/n42").is_none());
    assert_eq!(target(&model, "alias/n1"), Some(b.key_id.clone()));
}

#[test]
fn foreign_version_ids_are_indexed_in_every_chunk_a_change_touches() {
    use crate::keystore::versions::CHUNK;
    let mut model = Model::default();
    // Versions whose ids do not name their key (mirrored from the cloud) in the
    // first chunk, a middle one and the last, in a model indexed from scratch.
    let mut key = plain_key(KeySpec::Aes256, 3 * CHUNK + 5);
    for i in [0, CHUNK + 7, 3 * CHUNK + 2] {
        key.versions[i] = Arc::new(KeyVersion {
            key_version_id: format!("mirrored-{i}"),
            ..(*key.versions[i]).clone()
        });
    }
    let key_id = key.key_id.clone();
    model.insert_key(key);
    model.take_changes();
    let owner = |m: &Model, id: &str| {
        m.find_version(id, NOW)
            .map(|(k, v)| (k.key_id.clone(), v.key_version_id.clone()))
    };
    for i in [0, CHUNK + 7, 3 * CHUNK + 2] {
        let id = format!("mirrored-{i}");
        assert_eq!(owner(&model, &id), Some((key_id.clone(), id.clone())));
    }

    // A rotation adds a version to the last chunk; a version of an old chunk is
    // renamed to another foreign id; a foreign version is added (a new chunk).
    let key = model.resolve_mut(&key_id, NOW).unwrap();
    let rotated = new_version(key, NOW).unwrap();
    key.add_primary_version(rotated);
    key.version_mut(2 * CHUNK + 1).unwrap().key_version_id = "renamed-far-back".to_owned();
    for n in 0..CHUNK {
        let mut v = (*key.versions[1]).clone();
        v.key_version_id = format!("added-{n}");
        key.add_primary_version(v);
    }
    model.take_changes();
    assert_eq!(
        owner(&model, "renamed-far-back"),
        Some((key_id.clone(), "renamed-far-back".to_owned()))
    );
    for n in [0, CHUNK - 1] {
        let id = format!("added-{n}");
        assert_eq!(owner(&model, &id), Some((key_id.clone(), id.clone())));
    }
    // The earlier foreign ids are still found; every library id is found by its
    // prefix.
    for i in [0, CHUNK + 7, 3 * CHUNK + 2] {
        assert!(owner(&model, &format!("mirrored-{i}")).is_some(), "{i}");
    }
    let key = model.key(&key_id).unwrap().clone();
    for v in &key.versions {
        assert_eq!(owner(&model, &v.key_version_id).unwrap().0, key_id);
    }
}

#[test]
fn a_rotation_shares_every_full_chunk_of_versions_with_the_snapshot_before() {
    use crate::keystore::versions::CHUNK;
    let mut model = Model::default();
    let key = plain_key(KeySpec::Aes128, 2 * CHUNK + 3);
    let key_id = key.key_id.clone();
    model.insert_key(key);
    model.take_changes();
    let before = model.clone();
    let key = model.resolve_mut(&key_id, NOW).unwrap();
    let version = new_version(key, NOW).unwrap();
    key.add_primary_version(version);
    model.take_changes();
    let (old, new) = (before.key(&key_id).unwrap(), model.key(&key_id).unwrap());
    assert_eq!(new.versions.len(), old.versions.len() + 1);
    // What the rotated key does not share: its last chunk, copied to add to it.
    let unshared: Vec<_> = new.versions.unshared_with(Some(&old.versions)).collect();
    assert_eq!(unshared.len(), 4, "only the last chunk is new");
    for i in 0..old.versions.len() {
        assert!(
            new.versions.shares_version(&old.versions, i),
            "version {i} was copied"
        );
    }
}
