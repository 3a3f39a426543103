//! The stores behind the one interface of `rows.rs` and `store.rs`.

pub(crate) mod postgres;
pub(crate) mod sqlite;
pub(crate) mod v1_file;
