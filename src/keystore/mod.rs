//! The key store: the model (keys, versions, aliases) as immutable snapshots, the
//! one way to change it, and the stores that keep it: in memory, SQLite (the
//! embedded default) and PostgreSQL (for several hosts), one sealed row per key
//! and alias; the v1 sealed file is read only, for `localkms store copy`.

pub(crate) mod backend;
mod check_value;
pub(crate) mod codec;
#[cfg(test)]
mod codec_properties;
// Unsafe: a pthread rwlock the atfork handlers take (see the file).
#[allow(unsafe_code)]
mod fork_gate;
mod keygen;
mod keyset;
pub mod master_key;
#[cfg(test)]
mod migration_tests;
pub mod model;
mod published;
mod rows;
mod sealed;
mod store;
#[cfg(test)]
mod test_keys;
pub mod versions;

pub use backend::postgres::without_password as url_without_password;
pub use check_value::{KeyCheckValue, CHECK_VALUE_LEN};
pub use keygen::generate_material;
pub use keyset::{new_version, Model};
pub use master_key::MasterKey;
pub use model::{Key, KeySpec, KeyState, KeyUsage, KeyVersion, Material, Origin, PermittedModes};
pub use store::{Snapshot, Store};
pub use versions::Versions;
