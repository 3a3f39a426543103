//! The client: one handle on one key store, its clock, and how it is opened.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use super::redacted::Redacted;
use super::response::Response;
use crate::error::{Error, Result};
use crate::keystore::{Key, MasterKey, Snapshot, Store};
use crate::{ids, random, time};

/// A time source in Unix seconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The clock in force: the system clock unless one was set.
///
/// A set clock is called under a read lock, and replacing it takes the write lock,
/// so [`Client::set_clock`] returns only once no call is still inside the previous
/// clock: a C caller may free the old clock's context as soon as it returns. The
/// flag keeps the system-clock path (every call of a production client) free of
/// the lock.
#[derive(Default)]
struct ClockSlot {
    custom: AtomicBool,
    clock: RwLock<Option<Clock>>,
}

impl ClockSlot {
    #[inline]
    fn now(&self) -> i64 {
        if !self.custom.load(Ordering::Acquire) {
            return time::system_now();
        }
        let clock = self.clock.read().unwrap_or_else(PoisonError::into_inner);
        match &*clock {
            Some(clock) => clock(),
            None => time::system_now(),
        }
    }

    fn set(&self, clock: Option<Clock>) {
        // Waits for every call still inside the previous clock.
        let mut slot = self.clock.write().unwrap_or_else(PoisonError::into_inner);
        self.custom.store(clock.is_some(), Ordering::Release);
        let previous = std::mem::replace(&mut *slot, clock);
        drop(slot);
        drop(previous);
    }
}

/// One handle on one key store. Cheap to share: every method takes `&self` and
/// may be called from any number of threads at once.
pub struct Client {
    pub(super) store: Store,
    clock: ClockSlot,
    /// GCM encryptions allowed under one key version (NIST SP 800-38D's 2^32 for
    /// random 96-bit IVs, unless lowered).
    gcm_limit: AtomicU64,
}

/// NIST SP 800-38D: at most 2^32 invocations of GCM with random 96-bit IVs under
/// one key.
pub const GCM_INVOCATION_LIMIT: u64 = 1 << 32;

/// How to open a client: `keystore_path` `None` is an in-memory store;
/// otherwise the store file, sealed under the master key given as bytes or as
/// the path of a master-key file (exactly one of the two).
#[derive(Clone, Copy, Default)]
pub struct OpenOptions<'a> {
    /// The embedded store: an SQLite database file.
    pub keystore_path: Option<&'a Path>,
    pub master_key: Option<&'a [u8]>,
    pub master_key_file: Option<&'a Path>,
    pub create_if_missing: bool,
    /// A shared store: `postgresql://…` (not with `keystore_path`).
    pub keystore_url: Option<&'a str>,
}

impl std::fmt::Debug for OpenOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("keystore_path", &self.keystore_path)
            .field("master_key", &self.master_key.map(|k| Redacted(k.len())))
            .field("master_key_file", &self.master_key_file)
            .field("create_if_missing", &self.create_if_missing)
            .field("keystore_url", &self.keystore_url.map(|_| "<url>"))
            .finish()
    }
}

impl Client {
    /// A client on a new, empty, in-memory store, gone with the client.
    pub fn in_memory() -> Client {
        Client {
            store: Store::in_memory(),
            clock: ClockSlot::default(),
            gcm_limit: AtomicU64::new(GCM_INVOCATION_LIMIT),
        }
    }

    /// Opens a client on the store `options` name. Errors carry a RequestId.
    ///
    /// - no path, master key given: `InvalidParameter` (an in-memory store has no
    ///   master key);
    /// - a path with neither or both master-key forms: `MissingParameter` /
    ///   `InvalidParameter`;
    /// - the file missing without `create_if_missing`, unreadable, or not
    ///   creatable: `KeyStore.IOError`; not a store, damaged, or of a newer format:
    ///   `KeyStore.Corrupted`; a wrong master key or a master-key file others may
    ///   read: `KeyStore.AccessDenied`. In none of these cases is a file changed.
    pub fn open(options: &OpenOptions<'_>) -> Result<Client> {
        let request_id = ids::new_request_id()?;
        Client::open_store(options).map_err(|e| e.with_request_id(&request_id))
    }

    fn open_store(options: &OpenOptions<'_>) -> Result<Client> {
        let path = options.keystore_path.filter(|p| !p.as_os_str().is_empty());
        let url = options.keystore_url.filter(|u| !u.is_empty());
        let now = time::system_now();
        let store = match (path, url) {
            (Some(_), Some(_)) => return Err(Error::invalid_parameter(
                "keystore_url",
                "Give keystore_path (an embedded store) or keystore_url (a shared one), not both.",
            )),
            (Some(path), None) => Store::open_sqlite(
                path,
                &master_key_of(options)?,
                options.create_if_missing,
                now,
            )?,
            (None, Some(url)) => Store::open_postgres(
                url,
                &master_key_of(options)?,
                options.create_if_missing,
                now,
            )?,
            (None, None) => {
                if options.master_key.is_some_and(|k| !k.is_empty())
                    || options
                        .master_key_file
                        .is_some_and(|p| !p.as_os_str().is_empty())
                {
                    return Err(Error::invalid_parameter(
                        "master_key",
                        "A master key seals a store; an in-memory store takes none.",
                    ));
                }
                return Ok(Client::in_memory());
            }
        };
        Ok(Client {
            store,
            clock: ClockSlot::default(),
            gcm_limit: AtomicU64::new(GCM_INVOCATION_LIMIT),
        })
    }

    /// A client on what the v1 sealed store file (localkms 0.1) at
    /// `options.keystore_path` holds, read into memory: nothing is written to the
    /// file, and changes go nowhere. For `localkms store copy`.
    pub fn open_v1_file(options: &OpenOptions<'_>) -> Result<Client> {
        let request_id = ids::new_request_id()?;
        (|| {
            let path = options
                .keystore_path
                .filter(|p| !p.as_os_str().is_empty())
                .ok_or_else(|| Error::missing_parameter("keystore_path"))?;
            let master = master_key_of(options)?;
            Ok(Client {
                store: Store::from_v1_file(path, &master)?,
                clock: ClockSlot::default(),
                gcm_limit: AtomicU64::new(GCM_INVOCATION_LIMIT),
            })
        })()
        .map_err(|e: Error| e.with_request_id(&request_id))
    }

    /// The store of this client, for the copy between stores.
    pub(super) fn store(&self) -> &Store {
        &self.store
    }
}

/// The master key the options give, as bytes or as a file (exactly one).
fn master_key_of(options: &OpenOptions<'_>) -> Result<MasterKey> {
    let master_key = options.master_key.filter(|k| !k.is_empty());
    let master_key_file = options
        .master_key_file
        .filter(|p| !p.as_os_str().is_empty());
    {
        let master = match (master_key, master_key_file) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_parameter(
                    "master_key",
                    "Give the master key or a master-key file, not both.",
                ))
            }
            (None, None) => return Err(Error::missing_parameter("master_key")),
            (Some(bytes), None) => MasterKey::from_bytes(bytes)?,
            (None, Some(file)) => MasterKey::from_file(file)?,
        };
        Ok(master)
    }
}

impl Client {
    /// The store file, for a file-backed client.
    pub fn keystore_path(&self) -> Option<&Path> {
        self.store.path()
    }

    /// Sets the time source for automatic rotation, expiry, deletion and dates;
    /// `None` restores the system clock. Returns only when no call on this client
    /// is still inside the previous clock (which is then dropped). The clock must
    /// not call `set_clock` on the same client (that would wait for itself).
    pub fn set_clock(&self, clock: Option<Clock>) {
        self.clock.set(clock);
    }

    /// Lowers the number of GCM encryptions allowed under one key version (at
    /// most, and by default, 2^32: NIST SP 800-38D's limit for random 96-bit IVs),
    /// for a stricter policy. Every process and host using the store should set the
    /// same limit; the count is kept in the store. When a primary version's budget
    /// is spent, AdvanceEncrypt and AdvanceGenerateDataKey rotate the key; Encrypt
    /// and GenerateDataKey (the initial version) refuse.
    pub fn limit_gcm_invocations(&self, limit: u64) {
        self.gcm_limit
            .store(limit.min(GCM_INVOCATION_LIMIT), Ordering::Relaxed);
    }

    /// The number of GCM encryptions allowed under one key version.
    #[inline]
    pub(super) fn gcm_limit(&self) -> u64 {
        self.gcm_limit.load(Ordering::Relaxed)
    }

    /// The time now, by the clock in force.
    #[inline]
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Runs one API call: gives it a fresh RequestId, and stamps that RequestId on
    /// its error when it fails.
    pub(super) fn call<T>(&self, f: impl FnOnce(&str, i64) -> Result<T>) -> Result<T> {
        let mut id_bytes = [0u8; 16];
        random::fill_nonce(&mut id_bytes)?;
        let mut text = [0u8; ids::REQUEST_ID_LEN];
        let request_id = ids::format_request_id(id_bytes, &mut text);
        let now = self.now();
        f(request_id, now).map_err(|e| e.with_request_id(request_id))
    }

    /// Runs one change that answers with nothing but its RequestId.
    pub(super) fn change(&self, f: impl FnOnce(i64) -> Result<()>) -> Result<Response<()>> {
        self.call(|request_id, now| {
            f(now)?;
            Ok(Response::new(request_id, ()))
        })
    }

    /// [`Client::call`] for the encrypt path: one draw from the thread's CSPRNG
    /// (no system call) gives both the RequestId and 16 bytes for a random IV.
    pub(super) fn call_with_iv<T>(
        &self,
        f: impl FnOnce(&str, i64, &[u8; 16]) -> Result<T>,
    ) -> Result<T> {
        let mut random = zeroize::Zeroizing::new([0u8; 32]);
        random::fill_nonce(&mut random[..])?;
        let mut id_bytes = [0u8; 16];
        let mut iv_bytes = [0u8; 16];
        id_bytes.copy_from_slice(&random[..16]);
        iv_bytes.copy_from_slice(&random[16..]);
        let mut text = [0u8; ids::REQUEST_ID_LEN];
        let request_id = ids::format_request_id(id_bytes, &mut text);
        let now = self.now();
        f(request_id, now, &iv_bytes).map_err(|e| e.with_request_id(request_id))
    }

    /// A snapshot in which the key named by `key_id` (an ID or an alias) needs no
    /// maintenance at `now`: if a rotation, expiry or deletion is due, it is carried
    /// out first, under the writer lock.
    pub(super) fn fresh_snapshot_for(&self, key_id: &str, now: i64) -> Result<Arc<Snapshot>> {
        let mut snapshot = self.store.snapshot();
        let mut found = snapshot.resolve(key_id, now);
        if found.is_err() {
            // Another process or host may have made the key or alias a moment ago:
            // read the store once before answering that it does not exist (an
            // unchanged store costs one look at its counter).
            snapshot = self.store.reload()?;
            found = snapshot.resolve(key_id, now);
        }
        let due = found.is_ok_and(|key| key.maintenance_due_at(now));
        if !due {
            return Ok(snapshot);
        }
        // Degraded, never broken: maintenance that cannot be written now (the
        // database is down or read only) is tried again later, and the call goes on
        // with the versions that are stored.
        Ok(self.store.maintain_for_read(now))
    }

    /// Runs `f` on the key `key_id` names (an ID or an alias) in a snapshot where
    /// it needs no maintenance at `now`: the key is looked up once, and the
    /// snapshot is held by a guard, not a new reference, so that threads sharing
    /// it do not write one count (the encrypt and decrypt paths). A key not found,
    /// or due for maintenance, goes through [`Client::fresh_snapshot_for`] first.
    pub(super) fn with_fresh_key<T>(
        &self,
        key_id: &str,
        now: i64,
        f: impl FnOnce(&Key) -> Result<T>,
    ) -> Result<T> {
        {
            let snapshot = self.store.snapshot_guard();
            if let Ok(key) = snapshot.resolve(key_id, now) {
                if !key.maintenance_due_at(now) {
                    return f(key);
                }
            }
        }
        let snapshot = self.fresh_snapshot_for(key_id, now)?;
        let key = snapshot.resolve(key_id, now)?;
        f(key)
    }

    /// A snapshot with nothing due for any key at `now`.
    pub(super) fn fresh_snapshot(&self, now: i64) -> Result<Arc<Snapshot>> {
        let snapshot = self.store.snapshot();
        if !snapshot.maintenance_due_at(now) {
            return Ok(snapshot);
        }
        Ok(self.store.maintain_for_read(now))
    }
}
