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
mod keyset;
pub mod master_key;
#[cfg(test)]
mod migration_tests;
pub mod model;
mod sealed;
mod store;

pub use check_value::{KeyCheckValue, CHECK_VALUE_LEN};
pub use keygen::generate_material;
pub use keyset::{new_version, Model};
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
