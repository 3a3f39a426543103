//! The stores behind the one interface of `rows.rs` and `store.rs`.

pub(crate) mod postgres;
pub(crate) mod postgres_listener;
pub(crate) mod sqlite;
pub(crate) mod v1_file;
