//! The keys and aliases of one snapshot of the store, and their maintenance.
//!
//! Persistent maps (`imbl`): a copy for a change costs O(1) and the change
//! O(log n), so publishing a new snapshot does not copy the store. The model
//! records which keys and aliases a change touched, so that a store writes only
//! their rows.

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use imbl::shared_ptr::DefaultSharedPtr;
use imbl::{GenericHashMap, OrdMap, OrdSet};

use super::keygen::generate_material;
use super::model::{Key, KeyState, KeyVersion};
use crate::error::{Error, Result};
use crate::ids;

/// One immutable state of the store.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// KeyId → key, in KeyId order (what the stores and lists iterate).
    pub(super) keys: OrdMap<String, Arc<Key>>,
    /// The same keys (the same `Arc`s), hashed by KeyId: the lookup of every
    /// encrypt and decrypt is one hash and a walk of a few hash-trie levels,
    /// rather than a walk down a B-tree of KeyIds compared as strings (about 20
    /// string comparisons at 100,000 keys). It agrees with `keys` for every KeyId
    /// a change has not touched; [`Model::reindex`] brings the touched ones up to
    /// date, and until then [`Model::key`] looks those up in `keys` (see there).
    by_id: KeyIndex,
    /// Alias name → KeyId.
    pub(super) aliases: OrdMap<String, String>,
    /// The same, hashed: the lookup of a call that names its key by alias. It
    /// agrees with `aliases` as `by_id` agrees with `keys`.
    alias_index: AliasIndex,
    /// KeyVersionId → KeyId for the versions that their id does not lead to (ids
    /// other than `<KeyId>-…`: mirrored cloud versions). Kept up to date for the
    /// keys a change touches ([`Model::reindex`]); an entry left by a version that
    /// was renamed or a key that went away is harmless, since every lookup checks
    /// that the key holds the version.
    pub(super) foreign_versions: OrdMap<String, String>,
    /// When each key next needs maintenance, by time: (time, KeyId).
    schedule: OrdSet<(i64, String)>,
    /// KeyId → its entry in `schedule`.
    scheduled_at: OrdMap<String, i64>,
    /// What changes since the last [`Model::take_changes`] touched.
    changes: Changes,
}

/// KeyId → key, hashed with foldhash under a per-process random seed (a KeyId is
/// about 40 bytes: SipHash alone would cost more than the trie walk). The key is
/// its own map key, so the index costs about 16 bytes a key and no second copy
/// of the KeyId.
type KeyIndex = GenericHashMap<ById, (), foldhash::fast::RandomState, DefaultSharedPtr>;

/// Alias name → KeyId, hashed as [`KeyIndex`] is.
type AliasIndex = GenericHashMap<String, String, foldhash::fast::RandomState, DefaultSharedPtr>;

/// A key in [`KeyIndex`], equal to and hashed as its KeyId, so that a `&str`
/// finds it.
#[derive(Clone, Debug)]
struct ById(Arc<Key>);

impl Borrow<str> for ById {
    fn borrow(&self) -> &str {
        &self.0.key_id
    }
}

impl Hash for ById {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, which `Borrow<str>` requires.
        self.0.key_id.as_str().hash(state);
    }
}

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.key_id == other.0.key_id
    }
}

impl Eq for ById {}

/// The keys and aliases a change touched (added, changed or removed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub keys: BTreeSet<String>,
    pub aliases: BTreeSet<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.aliases.is_empty()
    }
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
            self.alias_target(key_id_or_alias)
                .ok_or_else(|| Error::alias_not_found(key_id_or_alias))?
        } else {
            key_id_or_alias
        };
        match self.key(key_id) {
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
            .key(ids::key_id_of_version(key_version_id))
            .and_then(|key| Some((key, key.version(key_version_id)?)));
        by_prefix.or_else(|| {
            let key = self.key(self.foreign_versions.get(key_version_id)?)?;
            Some((key, key.version(key_version_id)?))
        })
    }

    /// Whether any key, live or not, holds a version of this id.
    pub fn version_exists(&self, key_version_id: &str) -> bool {
        self.version_owner(key_version_id).is_some()
    }

    /// Brings the indexes (the hashed keys, the maintenance schedule and the
    /// versions whose id does not name their key) up to date for the keys changed
    /// since the last [`Model::take_changes`] (every key of a model just loaded).
    /// [`Model::take_changes`] calls it, so a model whose changes were taken is
    /// indexed; it may be called before, to look at the indexes mid-change.
    pub fn reindex(&mut self) {
        for alias in &self.changes.aliases {
            match self.aliases.get(alias) {
                Some(key_id) => {
                    self.alias_index.insert(alias.clone(), key_id.clone());
                }
                None => {
                    self.alias_index.remove(alias.as_str());
                }
            }
        }
        let touched: Vec<String> = self.changes.keys.iter().cloned().collect();
        for key_id in touched {
            if let Some(at) = self.scheduled_at.remove(&key_id) {
                self.schedule.remove(&(at, key_id.clone()));
            }
            let Some(key) = self.keys.get(&key_id) else {
                self.by_id.remove(key_id.as_str());
                continue;
            };
            // The versions indexed before are those of the key `by_id` still holds:
            // only those not shared with it can be new here (a rotated key with
            // thousands of versions shares all but its last chunk).
            let indexed = self
                .by_id
                .get_key_value(key_id.as_str())
                .map(|(k, ())| k.0.clone());
            let before = indexed.as_ref().map(|k| &k.versions);
            for version in key.versions.unshared_with(before) {
                if ids::key_id_of_version(&version.key_version_id) != key.key_id {
                    self.foreign_versions
                        .insert(version.key_version_id.clone(), key.key_id.clone());
                }
            }
            self.by_id.insert(ById(key.clone()), ());
            if let Some(at) = key.next_maintenance() {
                self.schedule.insert((at, key_id.clone()));
                self.scheduled_at.insert(key_id.clone(), at);
            }
        }
    }

    /// The keys and aliases changed since the last call, which it forgets, after
    /// bringing the indexes up to date for them ([`Model::reindex`]). Called after
    /// every change and load, before the model is published.
    pub fn take_changes(&mut self) -> Changes {
        self.reindex();
        std::mem::take(&mut self.changes)
    }

    /// Puts `key` in place of the key of its id (a row read from a store), or
    /// removes the key of `key_id` when `key` is `None`.
    pub fn replace_key(&mut self, key_id: &str, key: Option<Arc<Key>>) {
        match key {
            Some(key) => {
                self.keys.insert(key_id.to_owned(), key);
            }
            None => {
                self.keys.remove(key_id);
            }
        }
        self.changes.keys.insert(key_id.to_owned());
    }

    /// Points `alias` at `key_id`, or removes it when `key_id` is `None` (a row read
    /// from a store).
    pub fn replace_alias(&mut self, alias: &str, key_id: Option<String>) {
        match key_id {
            Some(key_id) => {
                self.aliases.insert(alias.to_owned(), key_id);
            }
            None => {
                self.aliases.remove(alias);
            }
        }
        self.changes.aliases.insert(alias.to_owned());
    }

    /// Whether a KeyId is in use, by a live key or one pending removal.
    pub fn key_id_taken(&self, key_id: &str) -> bool {
        self.keys.contains_key(key_id)
    }

    /// A key to change: the same lookup as [`Model::resolve`], made unique for writing.
    pub fn resolve_mut(&mut self, key_id_or_alias: &str, now: i64) -> Result<&mut Key> {
        let key_id = self.resolve(key_id_or_alias, now)?.key_id.clone();
        self.changes.keys.insert(key_id.clone());
        let key = self
            .keys
            .get_mut(&key_id)
            .ok_or_else(|| Error::internal("A resolved key vanished during a change."))?;
        Ok(Arc::make_mut(key))
    }

    pub fn insert_key(&mut self, key: Key) {
        self.changes.keys.insert(key.key_id.clone());
        self.keys.insert(key.key_id.clone(), Arc::new(key));
    }

    /// The key of this id, live or not. A published snapshot has no pending
    /// changes, so this is the hashed lookup; during a change, a key the change
    /// touched is looked up in the ordered map, which holds its new state.
    pub fn key(&self, key_id: &str) -> Option<&Arc<Key>> {
        if !self.changes.keys.is_empty() && self.changes.keys.contains(key_id) {
            return self.keys.get(key_id);
        }
        self.by_id.get_key_value(key_id).map(|(key, ())| &key.0)
    }

    /// Every alias name with its KeyId, live or not.
    pub fn aliases(&self) -> impl Iterator<Item = (&String, &String)> {
        self.aliases.iter()
    }

    /// The KeyId an alias points at, live or not (hashed, as [`Model::key`] is).
    pub fn alias_target(&self, alias: &str) -> Option<&str> {
        if !self.changes.aliases.is_empty() && self.changes.aliases.contains(alias) {
            return self.aliases.get(alias).map(String::as_str);
        }
        self.alias_index.get(alias).map(String::as_str)
    }

    pub fn set_alias(&mut self, alias: &str, key_id: &str) {
        self.changes.aliases.insert(alias.to_owned());
        self.aliases.insert(alias.to_owned(), key_id.to_owned());
    }

    pub fn remove_alias(&mut self, alias: &str) -> bool {
        let removed = self.aliases.remove(alias).is_some();
        if removed {
            self.changes.aliases.insert(alias.to_owned());
        }
        removed
    }

    /// Whether any key needs a change at `now` (deletion, material expiry, rotation).
    pub fn maintenance_due_at(&self, now: i64) -> bool {
        self.schedule.get_min().is_some_and(|(at, _)| *at <= now)
    }

    /// The keys whose maintenance time has come by `now` (from the schedule, so a
    /// change does not look at every key).
    fn due_keys(&self, now: i64) -> Vec<String> {
        self.schedule
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, key_id)| key_id.clone())
            .collect()
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
        let candidates = self.due_keys(now);
        let deleted: Vec<String> = candidates
            .iter()
            .filter(|id| self.keys.get(*id).is_some_and(|k| k.is_deleted_at(now)))
            .cloned()
            .collect();
        for key_id in &deleted {
            self.keys.remove(key_id);
            self.changes.keys.insert(key_id.clone());
        }
        let orphaned: Vec<String> = if deleted.is_empty() {
            Vec::new()
        } else {
            self.aliases
                .iter()
                .filter(|(_, key_id)| deleted.contains(key_id))
                .map(|(alias, _)| alias.clone())
                .collect()
        };
        for alias in orphaned {
            self.aliases.remove(&alias);
            self.changes.aliases.insert(alias);
        }

        let due: Vec<String> = candidates
            .iter()
            .filter(|id| {
                self.keys
                    .get(*id)
                    .is_some_and(|k| k.material_expired_at(now) || k.rotation_due_at(now))
            })
            .cloned()
            .collect();
        let changed = !deleted.is_empty() || !due.is_empty();
        for key_id in due {
            self.changes.keys.insert(key_id.clone());
            let Some(key) = self.keys.get_mut(&key_id) else {
                continue;
            };
            let key = Arc::make_mut(key);
            if key.material_expired_at(now) {
                for version in key.versions.iter_mut() {
                    Arc::make_mut(version).material = None;
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
        gcm_reserved: 0,
    })
}

#[cfg(test)]
#[path = "keyset_tests.rs"]
mod tests;
