//! The store: immutable snapshots behind an atomic swap, the one way to change
//! them, and for a file store the sync with the file on disk.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use arc_swap::ArcSwap;

use super::file::{FileBackend, FileSource, Loaded};
use super::master_key::MasterKey;
use super::{sealed, Model};
use crate::error::{Error, ErrorKind, Result};

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
    backend: Arc<FileBackend>,
    last_check_ms: AtomicU64,
    /// Set while a background re-read is under way, so there is one at a time.
    reloading: Arc<AtomicBool>,
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
    current: Arc<ArcSwap<Snapshot>>,
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
            current: Arc::new(ArcSwap::from_pointee(Snapshot::default())),
            writer: Mutex::new(()),
            file: None,
        }
    }

    /// Opens the store file at `path` sealed under `master`, creating an empty one
    /// when it does not exist and `create_if_missing` is set. Maintenance that has
    /// fallen due by `now`, and the rewrite of a file of an older payload format,
    /// are carried out when the file can be written.
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
                            migrated: false,
                            generation: 1,
                            salt,
                            source,
                        }
                    }
                }
            }
        };
        let migrated = loaded.migrated;
        let store = Store {
            current: Arc::new(ArcSwap::from_pointee(Snapshot {
                model: loaded.model,
                generation: loaded.generation,
                source: Some(loaded.source),
            })),
            writer: Mutex::new(()),
            file: Some(FileSync {
                backend: Arc::new(backend),
                last_check_ms: AtomicU64::new(monotonic_ms()),
                reloading: Arc::new(AtomicBool::new(false)),
            }),
        };
        // A file of an older format is rewritten at once (it may hold legacy check
        // values, the GHASH keys of its keys, which must not stay on disk): under
        // the locks, through the same write as any change, which re-reads the file
        // and finds it still old unless another process rewrote it meanwhile.
        if migrated || store.current.load().maintenance_due_at(now) {
            // Best effort: a store in a read-only folder still opens for reading,
            // with the migrated model in memory; the next change reports why it
            // cannot write.
            let _ = store.maintain(now);
        }
        Ok(store)
    }

    /// The path of the store file, for a file store.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.backend.path())
    }

    /// The current snapshot. Never waits on a writer or on the disk beyond a
    /// stat: for a file store, at most every 200 ms it compares the file's
    /// identity with the snapshot's, and when another process has replaced the
    /// file, a background thread re-reads it (without any lock) and publishes it,
    /// while callers go on with the snapshot they have.
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
            self.reload_in_background(file);
        }
        snapshot
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
            publish_if_newer(&self.current, loaded);
        }
        Ok(self.current.load_full())
    }

    /// Starts a re-read of the file on a thread of its own, unless one is under
    /// way. Read errors leave the current snapshot in place (the next change
    /// reports them). If no thread can be started, the caller re-reads.
    fn reload_in_background(&self, file: &FileSync) {
        if file
            .reloading
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let backend = file.backend.clone();
        let current = self.current.clone();
        let reloading = ClearOnDrop(file.reloading.clone());
        let spawned = std::thread::Builder::new()
            .name("localkms-reload".into())
            .spawn(move || {
                // Cleared however the thread ends, a panic included.
                let _reloading = reloading;
                if let Ok(Some(loaded)) = backend.read() {
                    publish_if_newer(&current, loaded);
                }
            });
        if spawned.is_err() {
            if let Ok(Some(loaded)) = file.backend.read() {
                publish_if_newer(&self.current, loaded);
            }
            file.reloading.store(false, Ordering::Release);
        }
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
    /// nothing is due and the file is of the current format.
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
            next.reindex();
            next.take_changes();
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
            migrated,
            generation,
            salt,
            source,
        } = loaded;
        let maintained = model.run_maintenance(now)?;
        let (out, changed) = change(&mut model)?;
        model.reindex();
        model.take_changes();
        // A file of an older format is replaced by the first write, even one with
        // nothing else to change.
        let (generation, source) = if maintained || changed || migrated {
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

/// Publishes what was read from the file unless a newer snapshot is already
/// published (a reader must never undo a writer's change).
fn publish_if_newer(current: &ArcSwap<Snapshot>, loaded: Loaded) {
    let fresh = Arc::new(Snapshot {
        model: loaded.model,
        generation: loaded.generation,
        source: Some(loaded.source),
    });
    current.rcu(|now| {
        if fresh.generation > now.generation {
            fresh.clone()
        } else {
            now.clone()
        }
    });
}

/// Clears the flag when dropped.
struct ClearOnDrop(Arc<AtomicBool>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn temp_store(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("localkms-store-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("s.kms")
    }

    #[test]
    fn a_reader_sees_another_writer_without_reading_the_file_itself() {
        let path = temp_store("bg");
        let key = [3u8; 32];
        let writer =
            Store::open_file(&path, MasterKey::from_bytes(&key).unwrap(), true, 0).unwrap();
        let reader =
            Store::open_file(&path, MasterKey::from_bytes(&key).unwrap(), false, 0).unwrap();
        let before = reader.snapshot().generation;
        writer.mutate(0, |_| Ok(())).unwrap();
        let written = writer.snapshot().generation;
        assert!(written > before);

        // The first call after the freshness interval only notices the change and
        // answers from the snapshot it has; the re-read happens in the background.
        std::thread::sleep(Duration::from_millis(FRESHNESS_INTERVAL_MS + 50));
        let noticed = reader.snapshot();
        assert_eq!(noticed.generation, before);
        let deadline = Instant::now() + Duration::from_secs(2);
        while reader.snapshot().generation != written {
            assert!(Instant::now() < deadline, "the change was not picked up");
            std::thread::sleep(Duration::from_millis(10));
        }
        // An unchanged file is not re-read: reload() answers from memory.
        assert!(Arc::ptr_eq(&reader.reload().unwrap(), &reader.snapshot()));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
