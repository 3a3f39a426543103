//! The interface a database store implements (SQLite, PostgreSQL): one schema of
//! sealed rows, and the few operations the store needs of it.
//!
//! ```text
//! localkms_meta     id = 1 | format | salt | verifier | counter | tag
//! localkms_keys     key_id (primary key) | changed | sealed   (NULL sealed: removed)
//! localkms_aliases  name (primary key)   | changed | sealed   (NULL sealed: removed)
//! localkms_log      counter (primary key) | tag
//! ```
//!
//! Every committed change raises `counter` by one, gives the change a random
//! `tag`, stamps the rows it wrote with the new counter, and logs (counter, tag).
//! A reader that holds counter `c` with tag `t` catches up by reading the rows
//! changed after `c`, once it has checked that the log still says `t` for `c`;
//! otherwise (a restored older store, a log pruned past it) it reads every row.
//!
//! A key row is the key's record (`codec::encode_key`) and an alias row the KeyId
//! it names, each sealed with AES-256-GCM under the store's row key; the Aad binds
//! the table, the primary key and the row format, so a row cannot be moved to
//! another name or table.

use zeroize::Zeroizing;

use super::codec;
use super::model::Key;
use super::sealed::{RowKey, SALT_LEN};
use crate::error::{Error, ErrorKind, Result};

/// The schema and row format written and read.
pub(crate) const ROW_FORMAT: i64 = 1;

/// How many changes the log keeps: a reader further behind reads every row.
pub(crate) const LOG_KEPT: i64 = 10_000;

/// The largest sealed row read (a key with thousands of versions fits): a larger
/// one is `KeyStore.Corrupted`, never an allocation of its size.
pub(crate) const MAX_ROW_LEN: i64 = 64 << 20;

/// The store's metadata row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub format: i64,
    pub salt: [u8; SALT_LEN],
    pub verifier: [u8; 16],
    pub head: Head,
}

/// Where a store is: its change counter and the tag of its last change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Head {
    pub counter: i64,
    pub tag: [u8; 16],
}

/// A row as read or to be written: its primary key and its sealed bytes, `None`
/// for a removed key or alias.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub name: String,
    pub sealed: Option<Vec<u8>>,
}

/// The rows of keys and aliases changed after some counter.
#[derive(Debug, Default)]
pub(crate) struct RowChanges {
    pub keys: Vec<Row>,
    pub aliases: Vec<Row>,
}

/// One connection to a database store. Used by one thread at a time; the store
/// opens one for each operation (so that nothing is shared across `fork`).
pub(crate) trait Database {
    /// The metadata row, or `None` for a database without the schema yet.
    fn meta(&mut self) -> Result<Option<Meta>>;
    /// Creates the schema with `meta` unless another process did first; returns the
    /// metadata in force. Runs in a transaction of its own.
    fn create(&mut self, meta: &Meta) -> Result<Meta>;
    /// Starts the one kind of transaction a change runs in: exclusive among
    /// writers, in this and every other process or host.
    fn begin(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    /// Undoes an open transaction; errors are ignored (the connection is dropped).
    fn rollback(&mut self);
    /// The counter and tag now.
    fn head(&mut self) -> Result<Head>;
    /// The tag the log holds for `counter`, if it still holds it.
    fn tag_at(&mut self, counter: i64) -> Result<Option<[u8; 16]>>;
    /// The rows changed after `counter`; with 0, every row that is not removed.
    fn rows_since(&mut self, counter: i64) -> Result<RowChanges>;
    /// Inside a transaction: writes `rows`, stamped with `head.counter`, moves the
    /// metadata to `head`, logs it and prunes the log and old tombstones.
    fn write(&mut self, head: Head, rows: &RowChanges) -> Result<()>;
    /// Makes `begin` wait at most a moment for other writers (a change made on the
    /// encrypt path, which must not stall behind a long transaction).
    fn wait_briefly(&mut self);
    /// For a database without store metadata: why it cannot be made a store (it
    /// holds another program's tables, or the store's tables without their
    /// metadata), or `None` when it is empty.
    fn foreign_or_damaged(&mut self) -> Result<Option<String>>;
}

fn key_aad(key_id: &str) -> Vec<u8> {
    [b"localkms/row/1/keys/".as_slice(), key_id.as_bytes()].concat()
}

fn alias_aad(name: &str) -> Vec<u8> {
    [b"localkms/row/1/aliases/".as_slice(), name.as_bytes()].concat()
}

/// The sealed row of `key`.
pub(crate) fn seal_key(row_key: &RowKey, key: &Key) -> Result<Vec<u8>> {
    let record = codec::encode_key(key);
    row_key.seal_row(&key_aad(&key.key_id), &record)
}

/// The key of a sealed row named `key_id`.
pub(crate) fn open_key(row_key: &RowKey, key_id: &str, sealed: &[u8]) -> Result<Key> {
    let record: Zeroizing<Vec<u8>> = row_key.open_row(&key_aad(key_id), sealed)?;
    let key = codec::decode_key(&record)?;
    if key.key_id != key_id {
        return Err(Error::new(
            ErrorKind::KeyStoreCorrupt,
            format!("The key row {key_id} holds the key {}.", key.key_id),
        ));
    }
    Ok(key)
}

/// The sealed row of the alias `name`, naming `key_id`.
pub(crate) fn seal_alias(row_key: &RowKey, name: &str, key_id: &str) -> Result<Vec<u8>> {
    row_key.seal_row(&alias_aad(name), key_id.as_bytes())
}

/// The KeyId the sealed row of alias `name` names.
pub(crate) fn open_alias(row_key: &RowKey, name: &str, sealed: &[u8]) -> Result<String> {
    let plain = row_key.open_row(&alias_aad(name), sealed)?;
    String::from_utf8(plain.to_vec()).map_err(|_| {
        Error::new(
            ErrorKind::KeyStoreCorrupt,
            format!("The alias row {name} does not name a KeyId."),
        )
    })
}
