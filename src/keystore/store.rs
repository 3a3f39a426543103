//! The store: immutable snapshots behind an atomic swap, the one way to change
//! them, and for a database store the sync with the database.
//! (Over 400 lines because the snapshot, the one way to change it and the sync with
//! the database share one protocol, publish only after commit, which splitting
//! would spread over files that reach into `Snapshot`.)
//!
//! Readers never wait: [`Store::snapshot`] is an atomic load, and at most every
//! 200 ms it starts a background check of the database's change counter, which
//! brings in the rows other processes or hosts changed. A change runs in one
//! database transaction that is exclusive among writers everywhere: it catches up
//! with the rows changed since the snapshot, carries out due maintenance, applies
//! the change, writes only the rows it touched, commits, and then publishes, so
//! no process loses another's change and nothing is published that is not stored.
//! Read paths that find maintenance due but cannot write it (database down, read
//! only) go on from the snapshot and try again later.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::backend::postgres::{PostgresConnector, PostgresLocation};
use super::backend::postgres_listener::{listen, Listener};
use super::backend::sqlite::{SqliteConnector, SqliteLocation};
use super::fork_gate;
use super::keyset::Model;
use super::master_key::MasterKey;
use super::model::Key;
use super::published::Published;
use super::rows::{self, Database, Head, Meta, Row, RowChanges, ROW_FORMAT};
use super::sealed::{self, RowKey};
use crate::error::{Error, ErrorKind, Result};
use crate::random::fill_random;
use crate::time::monotonic_coarse_ms as monotonic_ms;

/// One immutable state of the store.
#[derive(Debug, Default)]
pub struct Snapshot {
    model: Model,
    /// Where the database was when this state was read or written (0 in memory).
    head: Head,
    /// Grows with every snapshot this store publishes.
    generation: u64,
}

impl std::ops::Deref for Snapshot {
    type Target = Model;
    fn deref(&self) -> &Model {
        &self.model
    }
}

impl Snapshot {
    /// How many snapshots the store had published when this one was.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// How often, at most, a reader checks the database for other writers' changes.
const FRESHNESS_INTERVAL_MS: u64 = 200;
/// The same while a listener hears every change as it commits (PostgreSQL's
/// LISTEN/NOTIFY): the check is then only the fallback for a connection that died
/// without a word, so it need not open a connection five times a second.
const LISTENING_INTERVAL_MS: u64 = 1_000;
/// The longest wait between two attempts at maintenance that could not be written.
const MAX_BACKOFF_MS: u64 = 30_000;

/// Every second while this process's listener hears every change, else every
/// 200 ms.
fn freshness_interval_ms(db: &DbSync) -> u64 {
    match db.listening.get() {
        Some((healthy, forks))
            if *forks == fork_gate::forks() && healthy.load(Ordering::Relaxed) =>
        {
            LISTENING_INTERVAL_MS
        }
        _ => FRESHNESS_INTERVAL_MS,
    }
}

/// Opens connections to one database store.
pub(crate) trait Connector: Send + Sync {
    /// A new connection; `Ok(None)` when the store does not exist and `create` is
    /// false.
    fn connect(&self, create: bool) -> Result<Option<Box<dyn Database>>>;
    /// The store's file, for an embedded one.
    fn path(&self) -> Option<&Path> {
        None
    }
    /// The store as messages name it (never a password).
    fn describe(&self) -> String;
}

/// What a database store keeps besides the snapshot.
struct DbSync {
    connector: Box<dyn Connector>,
    row_key: RowKey,
    last_check_ms: AtomicU64,
    /// The process whose background refresh is under way (0: none). A child forked
    /// during one sees another process's id and is not blocked by it.
    refreshing_pid: AtomicU32,
    /// No maintenance on a read path before this time (after a failed write).
    retry_at_ms: AtomicU64,
    backoff_ms: AtomicU64,
    /// For a PostgreSQL store with a listener: true while it hears every change,
    /// and the [`fork_gate::forks`] of the process whose thread it is (a forked
    /// child has no listener thread, whatever the flag it inherited says).
    listening: OnceLock<(Arc<AtomicBool>, u64)>,
}

/// The store: the current snapshot and, for a database store, its database.
pub struct Store {
    current: Arc<Published<Snapshot>>,
    /// Serialises the changes of an in-memory store (a database store's are
    /// serialised by its transactions).
    writer: Mutex<()>,
    db: Option<Arc<DbSync>>,
    /// For a PostgreSQL store: the thread that hears other hosts' changes at once
    /// (LISTEN/NOTIFY); the 200 ms check is the fallback. Stopped on drop.
    _listener: Option<Listener>,
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
            current: Arc::new(Published::new(Snapshot::default())),
            writer: Mutex::new(()),
            db: None,
            _listener: None,
        }
    }

    /// Opens the database store `connector` names, sealed under `master`, creating
    /// it when it does not exist and `create_if_missing` is set. A wrong master key
    /// is `KeyStore.AccessDenied`; a store of a newer format `KeyStore.Corrupted`.
    /// Maintenance due by `now` is carried out when the store can be written.
    pub(crate) fn open_database(
        connector: Box<dyn Connector>,
        master: &MasterKey,
        create_if_missing: bool,
        now: i64,
    ) -> Result<Store> {
        let passage = fork_gate::enter();
        let missing = || {
            Error::new(
                ErrorKind::KeyStoreIo,
                format!(
                    "The key store {} does not exist; set create_if_missing to create it.",
                    connector.describe()
                ),
            )
        };
        let mut conn = connector.connect(create_if_missing)?.ok_or_else(missing)?;
        let meta = conn.meta()?;
        if meta.is_none() {
            if let Some(why) = conn.foreign_or_damaged()? {
                return Err(Error::new(
                    ErrorKind::KeyStoreCorrupt,
                    format!(
                        "The key store {} is not a usable localkms store: {why}.",
                        connector.describe()
                    ),
                ));
            }
        }
        let meta = match meta {
            Some(meta) => meta,
            None if !create_if_missing => return Err(missing()),
            None => {
                let salt = sealed::new_salt()?;
                let verifier = RowKey::derive(master, &salt).verifier();
                conn.create(&Meta {
                    format: ROW_FORMAT,
                    salt,
                    verifier,
                    head: Head::default(),
                })?
            }
        };
        if meta.format < 1 {
            return Err(Error::new(
                ErrorKind::KeyStoreCorrupt,
                format!(
                    "The key store {} has format {}, which was never written.",
                    connector.describe(),
                    meta.format
                ),
            ));
        }
        if meta.format > ROW_FORMAT {
            return Err(Error::new(
                ErrorKind::KeyStoreCorrupt,
                format!(
                    "The key store {} was written by a newer localkms (format {}; this build \
                     reads up to {ROW_FORMAT}).",
                    connector.describe(),
                    meta.format
                ),
            ));
        }
        let row_key = RowKey::derive(master, &meta.salt);
        // Not secret-dependent timing that matters: the verifier is public.
        if row_key.verifier() != meta.verifier {
            return Err(Error::new(
                ErrorKind::KeyStoreAccessDenied,
                format!(
                    "The master key does not open the key store {} (wrong master key).",
                    connector.describe()
                ),
            ));
        }
        let head = conn.head()?;
        let model = load_all(&mut *conn, &row_key)?;
        drop(conn);
        drop(passage);
        let store = Store {
            current: Arc::new(Published::new(Snapshot {
                model,
                head,
                generation: 1,
            })),
            writer: Mutex::new(()),
            db: Some(Arc::new(DbSync {
                connector,
                row_key,
                last_check_ms: AtomicU64::new(monotonic_ms()),
                refreshing_pid: AtomicU32::new(0),
                retry_at_ms: AtomicU64::new(0),
                backoff_ms: AtomicU64::new(0),
                listening: OnceLock::new(),
            })),
            _listener: None,
        };
        if store.current.load().maintenance_due_at(now) {
            // A store that cannot be written still opens for reading.
            store.maintain_for_read(now);
        }
        Ok(store)
    }

    /// Opens (or creates) the embedded store, the SQLite database at `path`.
    pub fn open_sqlite(
        path: &Path,
        master: &MasterKey,
        create_if_missing: bool,
        now: i64,
    ) -> Result<Store> {
        let location = SqliteLocation::resolve(path)?;
        Store::open_database(
            Box::new(SqliteConnector(location)),
            master,
            create_if_missing,
            now,
        )
    }

    /// Opens (or creates the schema of) the shared store, the PostgreSQL database
    /// `url` names. Other hosts' changes are heard at once through LISTEN/NOTIFY
    /// (sent inside each change's transaction), and checked for every second
    /// while the listener is connected, every 200 ms while it is not.
    pub fn open_postgres(
        url: &str,
        master: &MasterKey,
        create_if_missing: bool,
        now: i64,
    ) -> Result<Store> {
        let location = PostgresLocation::parse(url)?;
        let mut store = Store::open_database(
            Box::new(PostgresConnector(location.clone())),
            master,
            create_if_missing,
            now,
        )?;
        if let Some(db) = &store.db {
            let (current, db) = (store.current.clone(), db.clone());
            // Without a listener (it could not connect) the 200 ms check remains.
            let listener = listen(&location, move || {
                let _ = refresh(&current, &db);
            })
            .ok();
            if let (Some(listener), Some(db)) = (&listener, &store.db) {
                let _ = db.listening.set((listener.health(), fork_gate::forks()));
            }
            store._listener = listener;
        }
        Ok(store)
    }

    /// An in-memory store holding what the v1 sealed store file at `path` holds
    /// (read once; nothing is ever written to it), for `localkms store copy`.
    pub fn from_v1_file(path: &Path, master: &MasterKey) -> Result<Store> {
        let mut model = super::backend::v1_file::read_v1_store(path, master)?;
        model.take_changes();
        Ok(Store {
            current: Arc::new(Published::new(Snapshot {
                model,
                head: Head::default(),
                generation: 1,
            })),
            writer: Mutex::new(()),
            db: None,
            _listener: None,
        })
    }

    /// Writes every key and alias of `source` into this store, in one change; the
    /// store must hold no key yet (a copy never overwrites). Keys are copied as
    /// they are, states, policies, versions and material included: nothing falls
    /// due during the copy.
    pub fn copy_from(&self, now: i64, source: &Model) -> Result<()> {
        self.apply(now, false, |model| {
            if model.keys().next().is_some() {
                return Err(Error::new(
                    ErrorKind::KeyStoreIo,
                    "The destination store already holds keys; a copy goes into an empty store.",
                ));
            }
            for key in source.keys() {
                model.insert_key(Key::clone(key));
            }
            for (alias, key_id) in source.aliases() {
                model.set_alias(alias, key_id);
            }
            Ok(((), true))
        })
    }

    /// Whether the store is kept in a database (shared with other processes or
    /// hosts), not only in this process's memory.
    pub fn is_persistent(&self) -> bool {
        self.db.is_some()
    }

    /// The store's file, for an embedded database store.
    pub fn path(&self) -> Option<&Path> {
        self.db.as_ref().and_then(|db| db.connector.path())
    }

    /// The current snapshot. Never waits on a writer or on the database: at most
    /// every 200 ms (every second while a PostgreSQL listener hears each change)
    /// it starts a background check for other processes' changes, while callers
    /// go on with the snapshot they have.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let snapshot = self.current.load_full();
        self.check_freshness();
        snapshot
    }

    /// [`Store::snapshot`] for the encrypt and decrypt paths: a guard instead of
    /// a new reference, so that threads reading the same snapshot do not all
    /// write its reference count (arc-swap keeps the guard in a slot of the
    /// thread's own). Held for one call.
    pub fn snapshot_guard(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        let snapshot = self.current.load();
        self.check_freshness();
        snapshot
    }

    /// How often this store checks for other processes' changes (see
    /// [`freshness_interval_ms`]); `None` for an in-memory store.
    #[cfg(test)]
    pub(crate) fn freshness_interval_ms(&self) -> Option<u64> {
        self.db.as_deref().map(freshness_interval_ms)
    }

    /// At most every 200 ms, starts a background check for other processes'
    /// changes.
    fn check_freshness(&self) {
        let Some(db) = &self.db else {
            return;
        };
        let now_ms = monotonic_ms();
        let last = db.last_check_ms.load(Ordering::Relaxed);
        let interval = freshness_interval_ms(db);
        if now_ms.saturating_sub(last) >= interval
            && db
                .last_check_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.refresh_in_background(db);
        }
    }

    /// Catches up with the database now (a decrypt met a version it does not know,
    /// or a listener heard of a change). For an in-memory store, the current
    /// snapshot.
    pub fn reload(&self) -> Result<Arc<Snapshot>> {
        let Some(db) = &self.db else {
            return Ok(self.current.load_full());
        };
        refresh(&self.current, db)?;
        Ok(self.current.load_full())
    }

    /// Starts a refresh on a thread of its own, unless one of this process is under
    /// way. Errors leave the current snapshot in place. If no thread can be
    /// started, nothing happens (the next check tries again).
    fn refresh_in_background(&self, db: &Arc<DbSync>) {
        let me = std::process::id();
        let running = db.refreshing_pid.load(Ordering::Acquire);
        if running == me
            || db
                .refreshing_pid
                .compare_exchange(running, me, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let db_for_thread = db.clone();
        let current = self.current.clone();
        let spawned = std::thread::Builder::new()
            .name("localkms-refresh".into())
            .spawn(move || {
                let _done = ClearOnDrop(db_for_thread.clone());
                let _ = refresh(&current, &db_for_thread);
            });
        if spawned.is_err() {
            db.refreshing_pid.store(0, Ordering::Release);
        }
    }

    /// Applies `change` to the newest state, first carrying out any maintenance
    /// due at `now`, and publishes (and for a database store durably writes) the
    /// result only when `change` succeeds.
    pub fn mutate<T>(&self, now: i64, change: impl FnOnce(&mut Model) -> Result<T>) -> Result<T> {
        self.apply(now, false, |model| change(model).map(|out| (out, true)))
    }

    /// [`Store::mutate`] for a change made on the encrypt path: it waits at most a
    /// moment for other writers, and fails (`KeyStore.IOError`) rather than stall.
    pub fn mutate_briefly<T>(
        &self,
        now: i64,
        change: impl FnOnce(&mut Model) -> Result<T>,
    ) -> Result<T> {
        self.apply(now, true, |model| change(model).map(|out| (out, true)))
    }

    /// Carries out the maintenance due at `now` (rotations, expiries, deletions).
    /// Each is checked again inside the change's transaction, so two processes
    /// that notice the same due rotation make one version between them.
    pub fn maintain(&self, now: i64) -> Result<()> {
        self.apply(now, false, |_| Ok(((), false)))
    }

    /// Maintenance from a read path: carried out when it can be; when it cannot
    /// be written (the database is down or read only), the read goes on from the
    /// snapshot it has, and the next attempt waits (1 s, doubling up to 30 s).
    /// Returns the snapshot to read from.
    pub fn maintain_for_read(&self, now: i64) -> Arc<Snapshot> {
        let Some(db) = &self.db else {
            let _ = self.maintain(now);
            return self.current.load_full();
        };
        let now_ms = monotonic_ms();
        if now_ms < db.retry_at_ms.load(Ordering::Relaxed) {
            return self.current.load_full();
        }
        // A read must not stall behind another writer's long transaction.
        match self.apply(now, true, |_| Ok(((), false))) {
            Ok(()) => db.backoff_ms.store(0, Ordering::Relaxed),
            Err(_) => {
                let backoff =
                    (db.backoff_ms.load(Ordering::Relaxed) * 2).clamp(1_000, MAX_BACKOFF_MS);
                db.backoff_ms.store(backoff, Ordering::Relaxed);
                db.retry_at_ms.store(now_ms + backoff, Ordering::Relaxed);
            }
        }
        self.current.load_full()
    }

    /// `change` returns its output and whether it changed the model.
    fn apply<T>(
        &self,
        now: i64,
        briefly: bool,
        change: impl FnOnce(&mut Model) -> Result<(T, bool)>,
    ) -> Result<T> {
        let Some(db) = &self.db else {
            // A panic in an earlier change cannot leave a half-made snapshot behind
            // (the copy is published only at the end), so a poisoned lock is safe.
            let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            let current = self.current.load_full();
            let mut next = Model::clone(&current.model);
            let maintained = next.run_maintenance(now)?;
            let (out, changed) = change(&mut next)?;
            next.take_changes();
            if maintained || changed {
                let generation = current.generation + 1;
                // Dropped before the old snapshot is retired, so that it is not
                // kept for this reference.
                drop(current);
                self.current.replace(Snapshot {
                    model: next,
                    head: Head::default(),
                    generation,
                });
            }
            return Ok(out);
        };
        let _passage = fork_gate::enter();
        let mut conn = connect(db)?;
        if briefly {
            conn.wait_briefly();
        }
        conn.begin()?;
        match apply_in_transaction(&self.current, db, &mut *conn, now, change) {
            Ok((out, published)) => {
                if let Some(publish) = published {
                    conn.commit()?;
                    publish.publish(&self.current);
                } else {
                    conn.rollback();
                }
                Ok(out)
            }
            Err(e) => {
                conn.rollback();
                Err(e)
            }
        }
    }
}

/// A snapshot to publish once the transaction that wrote it has committed.
struct Pending {
    base: Arc<Snapshot>,
    model: Model,
    head: Head,
}

impl Pending {
    fn publish(self, current: &Published<Snapshot>) {
        publish(current, &self.base, self.model, self.head);
    }
}

/// The body of a change inside its transaction: catch up, maintain, change, write
/// the touched rows. Returns the output and, when anything was written, the
/// snapshot to publish after the commit; when nothing changed, the caught-up
/// state is published at once (nothing new was written).
fn apply_in_transaction<T>(
    current: &Published<Snapshot>,
    db: &DbSync,
    conn: &mut dyn Database,
    now: i64,
    change: impl FnOnce(&mut Model) -> Result<(T, bool)>,
) -> Result<(T, Option<Pending>)> {
    let base = current.load_full();
    let head = conn.head()?;
    let mut model = catch_up(conn, &db.row_key, &base, head)?;
    let caught_up = model.clone();
    let maintained = model.run_maintenance(now)?;
    let (out, changed) = change(&mut model)?;
    let touched = model.take_changes();
    if !(maintained || changed) || touched.is_empty() {
        if head != base.head {
            publish(current, &base, caught_up, head);
        }
        return Ok((out, None));
    }
    let mut rows = RowChanges::default();
    for key_id in &touched.keys {
        let sealed = match model.key(key_id) {
            Some(key) => Some(rows::seal_key(&db.row_key, key)?),
            None => None,
        };
        rows.keys.push(Row {
            name: key_id.clone(),
            sealed,
        });
    }
    for alias in &touched.aliases {
        let sealed = match model.alias_target(alias) {
            Some(key_id) => Some(rows::seal_alias(&db.row_key, alias, key_id)?),
            None => None,
        };
        rows.aliases.push(Row {
            name: alias.clone(),
            sealed,
        });
    }
    let mut tag = [0u8; 16];
    fill_random(&mut tag)?;
    let next = Head {
        counter: head.counter + 1,
        tag,
    };
    conn.write(next, &rows)?;
    Ok((
        out,
        Some(Pending {
            base,
            model,
            head: next,
        }),
    ))
}

/// A new connection to a store that exists.
fn connect(db: &DbSync) -> Result<Box<dyn Database>> {
    db.connector.connect(false)?.ok_or_else(|| {
        Error::new(
            ErrorKind::KeyStoreIo,
            format!("The key store {} has disappeared.", db.connector.describe()),
        )
    })
}

/// Reads the store and publishes it unless something newer was published.
fn refresh(current: &Published<Snapshot>, db: &DbSync) -> Result<()> {
    let _passage = fork_gate::enter();
    let mut conn = connect(db)?;
    let base = current.load_full();
    let head = conn.head()?;
    if head == base.head {
        return Ok(());
    }
    let model = catch_up(&mut *conn, &db.row_key, &base, head)?;
    publish(current, &base, model, head);
    Ok(())
}

/// The model at `head`: `base` with the rows changed since it, when the log shows
/// `base` is a point of the database's history; else every row (a restored older
/// store, or one pruned past it, is adopted whole).
fn catch_up(
    conn: &mut dyn Database,
    row_key: &RowKey,
    base: &Snapshot,
    head: Head,
) -> Result<Model> {
    if head == base.head {
        return Ok(base.model.clone());
    }
    let continues = base.head.counter > 0
        && head.counter > base.head.counter
        && conn.tag_at(base.head.counter)? == Some(base.head.tag);
    if !continues {
        return load_all(conn, row_key);
    }
    let mut model = base.model.clone();
    apply_rows(&mut model, row_key, conn.rows_since(base.head.counter)?)?;
    model.take_changes();
    Ok(model)
}

/// Every row of the store as a model.
fn load_all(conn: &mut dyn Database, row_key: &RowKey) -> Result<Model> {
    let mut model = Model::default();
    apply_rows(&mut model, row_key, conn.rows_since(0)?)?;
    model.take_changes();
    Ok(model)
}

fn apply_rows(model: &mut Model, row_key: &RowKey, rows: RowChanges) -> Result<()> {
    for row in rows.keys {
        let key = match &row.sealed {
            Some(sealed) => {
                let mut key = rows::open_key(row_key, &row.name, sealed)?;
                if let Some(old) = model.key(&row.name) {
                    keep_materials(&mut key, old);
                }
                Some(Arc::new(key))
            }
            None => None,
        };
        model.replace_key(&row.name, key);
    }
    for row in rows.aliases {
        let target = match &row.sealed {
            Some(sealed) => Some(rows::open_alias(row_key, &row.name, sealed)?),
            None => None,
        };
        model.replace_alias(&row.name, target);
    }
    Ok(())
}

/// Gives the versions of `key` (just read) whose material is unchanged the
/// material already in memory: its cipher is not expanded again, and this
/// process's GCM allowance under it is kept.
fn keep_materials(key: &mut Key, old: &Key) {
    for version in key.versions.iter_mut() {
        let Some(previous) = old
            .version(&version.key_version_id)
            .and_then(|v| v.material.as_ref())
        else {
            continue;
        };
        if version
            .material
            .as_ref()
            .is_some_and(|m| m.bytes() == previous.bytes())
        {
            Arc::make_mut(version).material = Some(previous.clone());
        }
    }
}

/// Publishes `model` at `head`, unless a newer state went out since `base` was
/// taken: a later counter, or (for a restored store whose counter went back) any
/// change at all since `base`.
fn publish(current: &Published<Snapshot>, base: &Arc<Snapshot>, model: Model, head: Head) {
    let fresh = Arc::new(Snapshot {
        model,
        head,
        generation: 0,
    });
    current.rcu(|now| {
        if Arc::ptr_eq(now, base) || head.counter > now.head.counter {
            Arc::new(Snapshot {
                model: fresh.model.clone(),
                head,
                generation: now.generation + 1,
            })
        } else {
            now.clone()
        }
    });
}

/// Clears the refresh flag when the refresh thread ends, however it ends.
struct ClearOnDrop(Arc<DbSync>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.refreshing_pid.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::Versions;
    use std::time::{Duration, Instant};

    fn temp_store(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("localkms-store-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("s.db")
    }

    fn key(id: &str) -> Key {
        use crate::keystore::{
            generate_material, KeySpec, KeyState, KeyUsage, KeyVersion, Origin, PermittedModes,
        };
        Key {
            key_id: id.to_owned(),
            key_spec: KeySpec::Aes256,
            key_usage: KeyUsage::EncryptDecrypt,
            origin: Origin::AliyunKms,
            description: String::new(),
            creation_date: 0,
            state: KeyState::Enabled,
            delete_date: None,
            versions: Versions::from_iter([KeyVersion {
                key_version_id: format!("{id}-0123456789"),
                creation_date: 0,
                material: Some(Arc::new(generate_material(KeySpec::Aes256).unwrap())),
                check_value: None,
                gcm_reserved: 0,
            }]),
            primary: 0,
            automatic_rotation: false,
            rotation_interval: None,
            last_rotation_date: 0,
            material_expire: None,
            modes: PermittedModes::GCM_ONLY,
        }
    }

    #[test]
    fn a_reader_sees_another_writer_in_the_background_and_catches_up_by_rows() {
        let path = temp_store("bg");
        let master = MasterKey::from_bytes(&[3u8; 32]).unwrap();
        let writer = Store::open_sqlite(&path, &master, true, 0).unwrap();
        let reader = Store::open_sqlite(&path, &master, false, 0).unwrap();
        let before = reader.snapshot().head;
        writer
            .mutate(0, |m| {
                m.insert_key(key("key-aaaaaaaaaaaaaaaaaaaaa"));
                Ok(())
            })
            .unwrap();
        let written = writer.snapshot().head;
        assert_eq!(written.counter, before.counter + 1);

        // The first call after the freshness interval answers from the snapshot it
        // has; the check and the read of the changed row happen in the background.
        std::thread::sleep(Duration::from_millis(FRESHNESS_INTERVAL_MS + 50));
        let noticed = reader.snapshot();
        assert_eq!(noticed.head, before);
        let deadline = Instant::now() + Duration::from_secs(2);
        while reader.snapshot().head != written {
            assert!(Instant::now() < deadline, "the change was not picked up");
            std::thread::sleep(Duration::from_millis(10));
            reader.snapshot();
        }
        assert!(reader.snapshot().key("key-aaaaaaaaaaaaaaaaaaaaa").is_some());
        // An unchanged store is not read again: reload() answers from memory.
        let same = reader.snapshot();
        assert!(Arc::ptr_eq(&reader.reload().unwrap(), &same));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
