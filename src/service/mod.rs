//! The KMS operations in safe Rust. This is the library's Rust API; the C ABI in
//! `ffi` is a thin crust over it.
//!
//! ```
//! use localkms::service::{Client, EncryptRequest, DecryptRequest};
//!
//! let client = Client::in_memory();
//! let key_id = client.create_key(&Default::default()).unwrap();
//! client.create_alias("alias/app", &key_id).unwrap();
//! let sealed = client
//!     .advance_encrypt(&EncryptRequest { key_id: "alias/app", plaintext: b"secret", ..Default::default() })
//!     .unwrap();
//! let opened = client
//!     .advance_decrypt(&DecryptRequest { ciphertext_blob: &sealed.ciphertext_blob, ..Default::default() })
//!     .unwrap();
//! assert_eq!(&opened.plaintext[..], b"secret");
//! assert_eq!(opened.key_id, key_id);
//! ```

mod crypto_ops;
mod describe;
mod keys;

use std::sync::Arc;

use arc_swap::ArcSwapOption;

use crate::error::{Error, Result};
use crate::ids;
use crate::keystore::{Key, Model, Store};

pub use crypto_ops::{DecryptRequest, DecryptResponse, EncryptRequest, EncryptResponse};
pub use keys::CreateKeyRequest;

/// A time source in Unix seconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

struct ClockBox(Clock);

/// One handle on one key store. Cheap to share: every method takes `&self` and
/// may be called from any number of threads at once.
pub struct Client {
    store: Store,
    clock: ArcSwapOption<ClockBox>,
}

impl Client {
    /// A client on a new, empty, in-memory store, gone with the client.
    pub fn in_memory() -> Client {
        Client {
            store: Store::in_memory(),
            clock: ArcSwapOption::empty(),
        }
    }

    /// Sets the time source for automatic rotation, expiry, deletion and dates;
    /// `None` restores the system clock.
    pub fn set_clock(&self, clock: Option<Clock>) {
        self.clock.store(clock.map(|c| Arc::new(ClockBox(c))));
    }

    /// The time now, by the clock in force.
    pub fn now(&self) -> i64 {
        match &*self.clock.load() {
            Some(clock) => (clock.0)(),
            None => ids::system_now(),
        }
    }

    /// Runs one API call: gives it a fresh RequestId, and stamps that RequestId on
    /// its error when it fails.
    fn call<T>(&self, f: impl FnOnce(&str, i64) -> Result<T>) -> Result<T> {
        let request_id = ids::new_request_id()?;
        let now = self.now();
        f(&request_id, now).map_err(|e| e.with_request_id(&request_id))
    }

    /// A snapshot in which the key named by `key_id` (an ID or an alias) needs no
    /// maintenance at `now`: if a rotation, expiry or deletion is due, it is carried
    /// out first, under the writer lock.
    fn fresh_snapshot_for(&self, key_id: &str, now: i64) -> Result<Arc<Model>> {
        let snapshot = self.store.snapshot();
        let due = snapshot
            .resolve(key_id, now)
            .is_ok_and(|key| key.maintenance_due_at(now));
        if !due {
            return Ok(snapshot);
        }
        self.store.mutate(now, |_| Ok(()))?;
        Ok(self.store.snapshot())
    }

    /// A snapshot with nothing due for any key at `now`.
    fn fresh_snapshot(&self, now: i64) -> Result<Arc<Model>> {
        let snapshot = self.store.snapshot();
        if !snapshot.maintenance_due_at(now) {
            return Ok(snapshot);
        }
        self.store.mutate(now, |_| Ok(()))?;
        Ok(self.store.snapshot())
    }
}

/// Checks a required string parameter: missing when absent or empty.
fn required<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::missing_parameter(name)),
    }
}

/// Refuses asymmetric keys for the symmetric operations.
fn require_symmetric(key: &Key) -> Result<()> {
    if key.key_spec.is_symmetric() {
        Ok(())
    } else {
        Err(Error::only_symmetric(&key.key_id))
    }
}
