//! The key store: the model (keys, versions, aliases) as immutable snapshots, and the
//! one way to change it.
//!
//! Readers (encrypt, decrypt, describe) take the current snapshot without waiting on
//! anyone: it is an `Arc` behind an atomic swap. A change runs under the writer lock
//! on a copy of the newest snapshot and, when it succeeds, swaps the copy in; when it
//! fails, nothing is swapped, so a failed call changes nothing.

mod check_value;
mod codec;
mod file;
mod keygen;
pub mod master_key;
#[cfg(test)]
mod migration_tests;
pub mod model;
mod sealed;
mod store;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::ids;
pub use check_value::{KeyCheckValue, CHECK_VALUE_LEN};
pub use keygen::generate_material;
pub use master_key::MasterKey;
pub use model::{Key, KeySpec, KeyState, KeyUsage, KeyVersion, Material, Origin, PermittedModes};
pub use store::{Snapshot, Store};

/// The largest store file that is read, in bytes (1 GiB). A larger file is refused
/// as `KeyStore.Corrupted` before anything is allocated for it, so a huge or
/// hostile file cannot make the process abort on allocation.
///
/// Generous: a key version takes about 100 bytes of payload (an RSA-4096 one about
/// 2.4 KB), so this is millions of keys, far more than a store that is read and
/// rewritten whole on every change can serve. Bounded: opening a file holds it,
/// its unsealed payload and the decoded keys in memory at once, a few GiB at
/// this limit, which a host running localkms can still provide.
pub const MAX_STORE_FILE_LEN: u64 = 1 << 30;

/// One immutable state of the store.
#[derive(Clone, Debug, Default)]
pub struct Model {
    keys: BTreeMap<String, Arc<Key>>,
    /// Alias name → KeyId.
    aliases: BTreeMap<String, String>,
    /// KeyVersionId → KeyId for the versions that their id does not lead to (ids
    /// other than `<KeyId>-…`: mirrored cloud versions). Rebuilt by
    /// [`Model::reindex`] after every change, before the model is published.
    foreign_versions: BTreeMap<String, String>,
}

impl Model {
    /// All keys, live or not yet removed; use [`Model::live_keys`] for what exists at a time.
    pub fn keys(&self) -> impl Iterator<Item = &Arc<Key>> {
        self.keys.values()
    }

    /// The keys that exist at `now` (not past their DeleteDate).
    pub fn live_keys(&self, now: i64) -> impl Iterator<Item = &Arc<Key>> {
        self.keys.values().filter(move |k| !k.is_deleted_at(now))
    }

    /// Alias name → KeyId, for keys that exist at `now`.
    pub fn live_aliases(&self, now: i64) -> impl Iterator<Item = (&String, &String)> {
        self.aliases.iter().filter(move |(_, key_id)| {
            self.keys
                .get(*key_id)
                .is_some_and(|k| !k.is_deleted_at(now))
        })
    }

    /// The real KeyId behind a KeyId or an alias, if the key exists at `now`.
    pub fn resolve(&self, key_id_or_alias: &str, now: i64) -> Result<&Arc<Key>> {
        let key_id = if key_id_or_alias.starts_with("alias/") {
            self.aliases
                .get(key_id_or_alias)
                .ok_or_else(|| Error::alias_not_found(key_id_or_alias))?
                .as_str()
        } else {
            key_id_or_alias
        };
        match self.keys.get(key_id) {
            Some(key) if !key.is_deleted_at(now) => Ok(key),
            _ => Err(Error::key_not_found(key_id)),
        }
    }

    /// The key and version a KeyVersionId names, if both exist at `now`.
    pub fn find_version(&self, key_version_id: &str, now: i64) -> Option<(&Arc<Key>, &KeyVersion)> {
        let (key, version) = self.version_owner(key_version_id)?;
        if key.is_deleted_at(now) {
            return None;
        }
        Some((key, version))
    }

    /// The key that holds a version, deleted or not: found from the version's id
    /// when it is the library's `<KeyId>-…`, else through the index.
    fn version_owner(&self, key_version_id: &str) -> Option<(&Arc<Key>, &KeyVersion)> {
        let by_prefix = self
            .keys
            .get(ids::key_id_of_version(key_version_id))
            .and_then(|key| Some((key, key.version(key_version_id)?)));
        by_prefix.or_else(|| {
            let key = self.keys.get(self.foreign_versions.get(key_version_id)?)?;
            Some((key, key.version(key_version_id)?))
        })
    }

    /// Whether any key, live or not, holds a version of this id.
    pub fn version_exists(&self, key_version_id: &str) -> bool {
        self.version_owner(key_version_id).is_some()
    }

    /// Rebuilds the index of versions whose id does not name their key. Called
    /// after every change and load, before the model is published.
    pub fn reindex(&mut self) {
        self.foreign_versions.clear();
        for key in self.keys.values() {
            for version in &key.versions {
                if ids::key_id_of_version(&version.key_version_id) != key.key_id {
                    self.foreign_versions
                        .insert(version.key_version_id.clone(), key.key_id.clone());
                }
            }
        }
    }

    /// Whether a KeyId is in use, by a live key or one pending removal.
    pub fn key_id_taken(&self, key_id: &str) -> bool {
        self.keys.contains_key(key_id)
    }

    /// A key to change: the same lookup as [`Model::resolve`], made unique for writing.
    pub fn resolve_mut(&mut self, key_id_or_alias: &str, now: i64) -> Result<&mut Key> {
        let key_id = self.resolve(key_id_or_alias, now)?.key_id.clone();
        let key = self
            .keys
            .get_mut(&key_id)
            .ok_or_else(|| Error::internal("A resolved key vanished during a change."))?;
        Ok(Arc::make_mut(key))
    }

    pub fn insert_key(&mut self, key: Key) {
        self.keys.insert(key.key_id.clone(), Arc::new(key));
    }

    pub fn alias_target(&self, alias: &str) -> Option<&str> {
        self.aliases.get(alias).map(String::as_str)
    }

    pub fn set_alias(&mut self, alias: &str, key_id: &str) {
        self.aliases.insert(alias.to_owned(), key_id.to_owned());
    }

    pub fn remove_alias(&mut self, alias: &str) -> bool {
        self.aliases.remove(alias).is_some()
    }

    /// Whether any key needs a change at `now` (deletion, material expiry, rotation).
    pub fn maintenance_due_at(&self, now: i64) -> bool {
        self.keys.values().any(|k| k.maintenance_due_at(now))
    }

    /// Carries out what has fallen due at `now` and says whether anything was: removes keys past their DeleteDate
    /// (and their aliases), wipes imported material past its expiry, and rotates keys
    /// whose NextRotationDate has passed. Each check is made again here, under the
    /// writer lock, so that a change noticed by two callers is made once.
    ///
    /// A key that missed several rotation dates gets one new version, created `now`
    /// (versions dated in the past would protect nothing); its LastRotationDate is
    /// the latest scheduled date, so NextRotationDate keeps to the schedule.
    pub fn run_maintenance(&mut self, now: i64) -> Result<bool> {
        let deleted: Vec<String> = self
            .keys
            .values()
            .filter(|k| k.is_deleted_at(now))
            .map(|k| k.key_id.clone())
            .collect();
        for key_id in &deleted {
            self.keys.remove(key_id);
        }
        self.aliases.retain(|_, key_id| !deleted.contains(key_id));

        let due: Vec<String> = self
            .keys
            .values()
            .filter(|k| k.material_expired_at(now) || k.rotation_due_at(now))
            .map(|k| k.key_id.clone())
            .collect();
        let changed = !deleted.is_empty() || !due.is_empty();
        for key_id in due {
            let Some(key) = self.keys.get_mut(&key_id) else {
                continue;
            };
            let key = Arc::make_mut(key);
            if key.material_expired_at(now) {
                for version in &mut key.versions {
                    version.material = None;
                }
                key.material_expire = None;
                if key.state != KeyState::PendingDeletion {
                    key.state = KeyState::PendingImport;
                }
            }
            if key.rotation_due_at(now) {
                // The schedule stays fixed: LastRotationDate is the latest scheduled
                // date that has passed, not the moment the key happened to be used.
                let scheduled = key.latest_scheduled_rotation(now);
                let version = new_version(key, now)?;
                key.add_primary_version(version);
                if let Some(scheduled) = scheduled {
                    key.last_rotation_date = scheduled;
                }
            }
        }
        Ok(changed)
    }
}

/// A new version of `key` with fresh material of its spec, created at `now`.
pub fn new_version(key: &Key, now: i64) -> Result<KeyVersion> {
    Ok(KeyVersion {
        key_version_id: ids::new_key_version_id(&key.key_id)?,
        creation_date: now,
        material: Some(Arc::new(generate_material(key.key_spec)?)),
        check_value: None,
    })
}
