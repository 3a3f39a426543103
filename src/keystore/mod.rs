//! The key store: the model (keys, versions, aliases) as immutable snapshots, and the
//! one way to change it.
//!
//! Readers (encrypt, decrypt, describe) take the current snapshot without waiting on
//! anyone: it is an `Arc` behind an atomic swap. A change runs under the writer lock
//! on a copy of the newest snapshot and, when it succeeds, swaps the copy in; when it
//! fails, nothing is swapped, so a failed call changes nothing.

mod codec;
mod file;
mod keygen;
pub mod master_key;
pub mod model;
mod sealed;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use arc_swap::ArcSwap;

use crate::error::{Error, ErrorKind, Result};
use crate::ids;
use file::{FileBackend, FileSource, Loaded};
pub use keygen::generate_material;
pub use master_key::MasterKey;
pub use model::{Key, KeySpec, KeyState, KeyUsage, KeyVersion, Material, Origin};

/// One immutable state of the store.
#[derive(Clone, Debug, Default)]
pub struct Model {
    keys: BTreeMap<String, Arc<Key>>,
    /// Alias name → KeyId.
    aliases: BTreeMap<String, String>,
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
        let key = self.keys.get(ids::key_id_of_version(key_version_id))?;
        if key.is_deleted_at(now) {
            return None;
        }
        Some((key, key.version(key_version_id)?))
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
    })
}

/// One immutable state of the store, and where it came from.
#[derive(Debug, Default)]
pub struct Snapshot {
    model: Model,
    /// Grows with every change (for a file store, the file's generation).
    generation: u64,
    /// The file this snapshot was read from or written as (kept open).
    source: Option<FileSource>,
}

impl std::ops::Deref for Snapshot {
    type Target = Model;
    fn deref(&self) -> &Model {
        &self.model
    }
}

/// How often, at most, a reader looks at the store file's identity.
const FRESHNESS_INTERVAL_MS: u64 = 200;

fn monotonic_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

struct FileSync {
    backend: FileBackend,
    last_check_ms: AtomicU64,
    reloading: AtomicBool,
}

/// The store: the current snapshot, the writer lock, and for a file store the
/// file it mirrors.
///
/// A change takes the in-process writer lock and, for a file store, the
/// advisory lock on `<store>.lock`; re-reads the newest file under it; carries
/// out what maintenance is due; applies the change; writes the file durably; and
/// publishes the new snapshot before letting go of the locks. No process can
/// lose another's change, and a failed change writes nothing.
pub struct Store {
    current: ArcSwap<Snapshot>,
    writer: Mutex<()>,
    file: Option<FileSync>,
}

impl Default for Store {
    fn default() -> Self {
        Store::in_memory()
    }
}

impl Store {
    /// An empty store that lives in memory and goes with its last handle.
    pub fn in_memory() -> Store {
        Store {
            current: ArcSwap::from_pointee(Snapshot::default()),
            writer: Mutex::new(()),
            file: None,
        }
    }

    /// Opens the store file at `path` sealed under `master`, creating an empty one
    /// when it does not exist and `create_if_missing` is set. Maintenance that has
    /// fallen due by `now` is carried out when the file can be written.
    pub fn open_file(
        path: &Path,
        master: MasterKey,
        create_if_missing: bool,
        now: i64,
    ) -> Result<Store> {
        let backend = FileBackend::new(path, master)?;
        let loaded = match backend.read()? {
            Some(loaded) => loaded,
            None if !create_if_missing => {
                return Err(Error::new(
                    ErrorKind::KeyStoreIo,
                    format!(
                        "The key store file {} does not exist; set create_if_missing to create it.",
                        path.display()
                    ),
                ))
            }
            None => {
                let lock = backend.lock()?;
                // Another process may have created it while this one waited.
                match backend.read()? {
                    Some(loaded) => loaded,
                    None => {
                        let salt = sealed::new_salt()?;
                        let model = Model::default();
                        let source = backend.write(&lock, &model, &salt, 1)?;
                        Loaded {
                            model,
                            generation: 1,
                            salt,
                            source,
                        }
                    }
                }
            }
        };
        let store = Store {
            current: ArcSwap::from_pointee(Snapshot {
                model: loaded.model,
                generation: loaded.generation,
                source: Some(loaded.source),
            }),
            writer: Mutex::new(()),
            file: Some(FileSync {
                backend,
                last_check_ms: AtomicU64::new(monotonic_ms()),
                reloading: AtomicBool::new(false),
            }),
        };
        if store.current.load().maintenance_due_at(now) {
            // Best effort: a store in a read-only folder still opens for reading;
            // the next change reports why it cannot write.
            let _ = store.maintain(now);
        }
        Ok(store)
    }

    /// The path of the store file, for a file store.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.backend.path())
    }

    /// The current snapshot. Never waits on a writer. For a file store, at most
    /// every 200 ms it compares the file's identity with the snapshot's; when
    /// another process has replaced the file, one caller re-reads it (without any
    /// lock) while the others go on with the snapshot they have.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let snapshot = self.current.load_full();
        let Some(file) = &self.file else {
            return snapshot;
        };
        let now_ms = monotonic_ms();
        let last = file.last_check_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) < FRESHNESS_INTERVAL_MS
            || file
                .last_check_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return snapshot;
        }
        if Self::file_changed(file, &snapshot) {
            self.reload_if_free(file).unwrap_or(snapshot)
        } else {
            snapshot
        }
    }

    /// Whether the store file is no longer the one `snapshot` came from (a stat).
    fn file_changed(file: &FileSync, snapshot: &Snapshot) -> bool {
        match file.backend.identity() {
            Ok(Some(identity)) => snapshot.source.as_ref().map(|s| s.identity) != Some(identity),
            _ => false,
        }
    }

    /// Re-reads the file now if another process has replaced it (a decrypt met a
    /// version it does not know). An unchanged file is not read again, so blobs
    /// naming versions that do not exist cost a stat, not a read. For an in-memory
    /// store, the current snapshot.
    pub fn reload(&self) -> Result<Arc<Snapshot>> {
        let snapshot = self.current.load_full();
        let Some(file) = &self.file else {
            return Ok(snapshot);
        };
        if !Self::file_changed(file, &snapshot) {
            return Ok(snapshot);
        }
        if let Some(loaded) = file.backend.read()? {
            self.publish_if_newer(loaded);
        }
        Ok(self.current.load_full())
    }

    fn reload_if_free(&self, file: &FileSync) -> Option<Arc<Snapshot>> {
        if file
            .reloading
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        let loaded = file.backend.read();
        file.reloading.store(false, Ordering::Release);
        if let Ok(Some(loaded)) = loaded {
            self.publish_if_newer(loaded);
        }
        Some(self.current.load_full())
    }

    /// Publishes what was read from the file unless a newer snapshot is already
    /// published (a reader must never undo a writer's change).
    fn publish_if_newer(&self, loaded: Loaded) {
        let fresh = Arc::new(Snapshot {
            model: loaded.model,
            generation: loaded.generation,
            source: Some(loaded.source),
        });
        self.current.rcu(|current| {
            if fresh.generation > current.generation {
                fresh.clone()
            } else {
                current.clone()
            }
        });
    }

    /// Applies `change` to the newest state, first carrying out any maintenance
    /// due at `now`, and publishes (and for a file store durably writes) the
    /// result only when `change` succeeds.
    pub fn mutate<T>(&self, now: i64, change: impl FnOnce(&mut Model) -> Result<T>) -> Result<T> {
        self.apply(now, |model| change(model).map(|out| (out, true)))
    }

    /// Carries out the maintenance due at `now` (rotations, expiries, deletions).
    /// Each is checked again under the locks, so two processes that notice the
    /// same due rotation make one version between them. Writes nothing when
    /// nothing is due.
    pub fn maintain(&self, now: i64) -> Result<()> {
        self.apply(now, |_| Ok(((), false)))
    }

    /// `change` returns its output and whether it changed the model.
    fn apply<T>(
        &self,
        now: i64,
        change: impl FnOnce(&mut Model) -> Result<(T, bool)>,
    ) -> Result<T> {
        // A panic in an earlier change cannot leave a half-made snapshot behind (the
        // copy is published only at the end), so a poisoned lock is safe to take.
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let Some(file) = &self.file else {
            let current = self.current.load_full();
            let mut next = Model::clone(&current.model);
            let maintained = next.run_maintenance(now)?;
            let (out, changed) = change(&mut next)?;
            if maintained || changed {
                self.current.store(Arc::new(Snapshot {
                    model: next,
                    generation: current.generation + 1,
                    source: None,
                }));
            }
            return Ok(out);
        };
        let lock = file.backend.lock()?;
        let loaded = file.backend.read()?.ok_or_else(|| {
            Error::new(
                ErrorKind::KeyStoreIo,
                format!(
                    "The key store file {} has disappeared.",
                    file.backend.path().display()
                ),
            )
        })?;
        let Loaded {
            mut model,
            generation,
            salt,
            source,
        } = loaded;
        let maintained = model.run_maintenance(now)?;
        let (out, changed) = change(&mut model)?;
        let (generation, source) = if maintained || changed {
            let next = generation + 1;
            (next, file.backend.write(&lock, &model, &salt, next)?)
        } else {
            (generation, source)
        };
        // Published before the file lock goes, so no newer file can be read and
        // published first.
        self.current.rcu(|current| {
            if generation >= current.generation {
                Arc::new(Snapshot {
                    model: model.clone(),
                    generation,
                    source: Some(source.clone()),
                })
            } else {
                current.clone()
            }
        });
        drop(lock);
        Ok(out)
    }
}
