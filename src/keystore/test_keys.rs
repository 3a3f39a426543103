//! Keys for the key store's unit tests, made the one way every test module
//! shares.

use std::sync::Arc;

use super::generate_material;
use super::model::{Key, KeySpec, KeyState, KeyVersion, Origin, PermittedModes};
use crate::ids;

/// 2026-11-28T12:00:00Z: a fixed "now" for the tests.
pub const NOW: i64 = 1_795_867_200;
pub const DAY: i64 = 86_400;

/// A version of `key_id` created at `created`, with fresh material of `spec`
/// (none when `spec` is `None`).
pub fn version(key_id: &str, created: i64, spec: Option<KeySpec>) -> KeyVersion {
    KeyVersion {
        key_version_id: ids::new_key_version_id(key_id).unwrap(),
        creation_date: created,
        material: spec.map(|s| Arc::new(generate_material(s).unwrap())),
        check_value: None,
        gcm_reserved: 0,
    }
}

/// An enabled AES/SM4 (or asymmetric) key of `spec` with `n_versions` versions, one
/// a day from [`NOW`], the last one primary.
pub fn plain_key(spec: KeySpec, n_versions: usize) -> Key {
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
        versions: versions.into_iter().map(Arc::new).collect(),
        automatic_rotation: false,
        rotation_interval: None,
        last_rotation_date: NOW,
        material_expire: None,
        modes: PermittedModes::ALL,
    }
}
