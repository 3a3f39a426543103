//! The shared store: one PostgreSQL database, one sealed row per key and alias
//! (see `rows.rs`), the schema of the SQLite store with BYTEA for BLOB and
//! BIGINT counters.
//! (Over 400 lines because it is the one place that speaks PostgreSQL: the URL
//! parsed as libpq does, the schema, and every statement of the `Database`
//! interface; the listener is in postgres_listener.rs, the tests in postgres_tests.rs.)
//!
//! The store is named by a `postgresql://` (or `postgres://`) URL, parsed as libpq
//! does: `postgresql://user:password@host:port/dbname?param=value&...`. A host that
//! starts with `/` (percent-encoded in the host part, `%2Frun%2Fpostgresql`, or
//! plain in a `host=` parameter) is the folder of a Unix socket; a URL that names
//! no host uses `/var/run/postgresql`, then `/tmp`, as libpq's default would. The
//! connection is made without TLS (`NoTls`): use a Unix socket or a network you
//! trust. No message ever holds the password: every message names the store by
//! its URL without the password (see [`PostgresLocation::shown`]).
//!
//! A connection is opened for each operation, so nothing is shared across `fork`.
//! A change runs in a READ COMMITTED transaction that first locks the metadata
//! row (`SELECT ... FOR UPDATE`), which makes writers take turns across processes
//! and hosts; each of its statements sees what the writer before it committed.
//! Creating the schema runs under a transaction-level advisory lock, so two
//! processes creating it at once end with one metadata row. A committed change is
//! announced with `NOTIFY localkms_changes` inside its transaction;
//! `postgres_listener.rs` follows that channel.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::WrongType;
use postgres::{Client, Config, NoTls, SimpleQueryMessage};

use crate::error::{Error, ErrorKind, Result};
use crate::keystore::rows::{Database, Head, Meta, Row, RowChanges, LOG_KEPT, MAX_ROW_LEN};
use crate::keystore::sealed::SALT_LEN;

/// How long a connection attempt may take when the URL sets no `connect_timeout`.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a writer waits for another process's transaction (as SQLite's busy
/// timeout), and the schema's creator for another creator.
const LOCK_TIMEOUT: &str = "30s";
/// How long a change made on the encrypt path waits for another writer.
const BRIEF_LOCK_TIMEOUT: &str = "100ms";

/// The advisory lock that creating the schema holds: "localkms" in ASCII.
const CREATE_LOCK: i64 = 0x6c6f_6361_6c6b_6d73;

/// The channel a committed change is announced on.
pub(crate) const CHANNEL: &str = "localkms_changes";

/// The socket folders tried when the URL names no host (Debian's, then
/// PostgreSQL's own default).
const DEFAULT_SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS localkms_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        format BIGINT NOT NULL,
        salt BYTEA NOT NULL,
        verifier BYTEA NOT NULL,
        counter BIGINT NOT NULL,
        tag BYTEA NOT NULL
    );
    CREATE TABLE IF NOT EXISTS localkms_keys (
        key_id TEXT PRIMARY KEY,
        changed BIGINT NOT NULL,
        sealed BYTEA
    );
    CREATE INDEX IF NOT EXISTS localkms_keys_changed ON localkms_keys (changed);
    CREATE TABLE IF NOT EXISTS localkms_aliases (
        name TEXT PRIMARY KEY,
        changed BIGINT NOT NULL,
        sealed BYTEA
    );
    CREATE INDEX IF NOT EXISTS localkms_aliases_changed ON localkms_aliases (changed);
    CREATE TABLE IF NOT EXISTS localkms_log (
        counter BIGINT PRIMARY KEY,
        tag BYTEA NOT NULL
    );
";

pub(super) fn io(what: &str, shown: &str, e: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::KeyStoreIo,
        format!("The key store {shown} {what}: {e}"),
    )
}

fn corrupt(shown: &str, why: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::KeyStoreCorrupt,
        format!("The key store {shown} is not a usable localkms store: {why}"),
    )
}

/// What went wrong, from the server's report or the client's error and its
/// cause (a refused connection, a missing socket). Neither holds the password.
pub(super) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// A PostgreSQL error as a store error: damage the server reports, or a column
/// of the wrong type, is `KeyStore.Corrupted`; anything else (refused, down,
/// timed out, authentication, read-only, full disk) `KeyStore.IOError`.
fn db_error(shown: &str, e: &postgres::Error) -> Error {
    if let Some(code) = e.code() {
        if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED {
            return corrupt(shown, describe(e));
        }
    }
    let wrong_type =
        std::error::Error::source(e).is_some_and(|s| s.downcast_ref::<WrongType>().is_some());
    if wrong_type {
        return corrupt(
            shown,
            format!("a column has an unexpected type: {}", describe(e)),
        );
    }
    io("cannot be used", shown, describe(e))
}

/// Decodes `%XX` escapes (for recognising a parameter's name); anything else is
/// kept as it is.
fn percent_decode(s: &str) -> Vec<u8> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// `url` without its password, read as the client's parser reads it: the
/// credentials run to the first `@` and the password from their first `:`
/// (`user:password@` becomes `user@`); a `password` parameter (its name
/// percent-encoded or not, in any case) is left out too. What messages and the
/// command-line tool show of a store's URL.
pub fn without_password(url: &str) -> String {
    let Some(split) = url.find("://") else {
        return "(a connection string that is not a URL)".to_owned();
    };
    let (scheme, rest) = url.split_at(split + 3);
    let mut out = scheme.to_owned();
    let rest = match rest.find('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            out.push_str(user);
            out.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    match rest.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            let kept: Vec<&str> = query
                .split('&')
                .filter(|param| {
                    let key = param.split('=').next().unwrap_or("");
                    !percent_decode(key).eq_ignore_ascii_case(b"password")
                })
                .collect();
            if !kept.is_empty() {
                out.push('?');
                out.push_str(&kept.join("&"));
            }
        }
        None => out.push_str(rest),
    }
    out
}

/// Where a PostgreSQL store lives: its parsed URL, and the URL without its
/// password for messages.
#[derive(Clone)]
pub(crate) struct PostgresLocation {
    config: Config,
    shown: Arc<str>,
}

impl fmt::Debug for PostgresLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresLocation")
            .field("url", &&*self.shown)
            .finish()
    }
}

impl PostgresLocation {
    /// Parses a `postgresql://` or `postgres://` URL; anything else, or a URL the
    /// parser refuses, is `KeyStore.IOError` (naming the URL without its
    /// password).
    pub(crate) fn parse(url: &str) -> Result<PostgresLocation> {
        let shown: Arc<str> = without_password(url).into();
        if !(url.starts_with("postgresql://") || url.starts_with("postgres://")) {
            return Err(io(
                "is not a PostgreSQL URL",
                &shown,
                "it must start with postgresql:// or postgres://",
            ));
        }
        let mut config =
            Config::from_str(url).map_err(|e| io("is not a usable URL", &shown, describe(&e)))?;
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            for dir in DEFAULT_SOCKET_DIRS {
                config.host_path(dir);
            }
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        Ok(PostgresLocation { config, shown })
    }

    /// The URL without its password.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    pub(super) fn open(
        &self,
        application_name: &str,
    ) -> std::result::Result<Client, postgres::Error> {
        let mut config = self.config.clone();
        if config.get_application_name().is_none() {
            config.application_name(application_name);
        }
        config.connect(NoTls)
    }

    /// Opens a connection. `Ok(None)` when the database does not exist and
    /// `create` is false (as a missing file is for SQLite); localkms creates the
    /// schema in a database, never the database.
    pub(crate) fn connect(&self, create: bool) -> Result<Option<PostgresDatabase>> {
        match self.open("localkms") {
            Ok(client) => Ok(Some(PostgresDatabase {
                client,
                shown: self.shown.clone(),
                max_row_len: MAX_ROW_LEN,
                in_transaction: false,
                lock_timeout: LOCK_TIMEOUT,
                failed: Cell::new(false),
            })),
            Err(e) if !create && e.code() == Some(&SqlState::INVALID_CATALOG_NAME) => Ok(None),
            Err(e) => Err(io("cannot be reached", &self.shown, describe(&e))),
        }
    }
}

/// One connection to a PostgreSQL store.
pub(crate) struct PostgresDatabase {
    client: Client,
    shown: Arc<str>,
    /// The largest sealed row read ([`MAX_ROW_LEN`]; lower in tests).
    max_row_len: i64,
    /// Whether `begin` opened a transaction not yet committed or rolled back.
    in_transaction: bool,
    /// How long `begin` waits for another writer's lock.
    lock_timeout: &'static str,
    /// Whether a statement of the open transaction failed: PostgreSQL would answer
    /// its COMMIT by rolling back without an error, so `commit` refuses it.
    failed: Cell<bool>,
}

/// The error of a statement, remembering that the open transaction failed.
/// (Takes the fields rather than the database, for use while a row iterator
/// borrows the client.)
fn statement_error(shown: &str, failed: &Cell<bool>, e: &postgres::Error) -> Error {
    failed.set(true);
    db_error(shown, e)
}

fn array<const N: usize>(bytes: Vec<u8>, what: &str, shown: &str) -> Result<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| corrupt(shown, format!("the {what} has the wrong length")))
}

impl PostgresDatabase {
    /// Announces a change outside any transaction (the tests' stand-in for a
    /// committed change).
    #[cfg(test)]
    pub(crate) fn notify(&mut self) {
        let _ = self.client.batch_execute(&format!("NOTIFY {CHANNEL}"));
    }

    fn err(&self, e: postgres::Error) -> Error {
        statement_error(&self.shown, &self.failed, &e)
    }

    #[cfg(test)]
    pub(crate) fn set_max_row_len(&mut self, len: i64) {
        self.max_row_len = len;
    }

    fn get<'a, T: postgres::types::FromSql<'a>>(
        &self,
        row: &'a postgres::Row,
        idx: usize,
    ) -> Result<T> {
        row.try_get(idx).map_err(|e| self.err(e))
    }

    /// Starts a READ COMMITTED transaction with the lock timeout and `then`, all
    /// in one round trip; on failure nothing is left open.
    fn start(&mut self, then: &str) -> Result<Vec<SimpleQueryMessage>> {
        let sql = format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = '{}'; \
             SET LOCAL client_min_messages = warning; {then}",
            self.lock_timeout
        );
        match self.client.simple_query(&sql) {
            Ok(messages) => {
                self.in_transaction = true;
                self.failed.set(false);
                Ok(messages)
            }
            Err(e) => {
                let _ = self.client.batch_execute("ROLLBACK");
                Err(db_error(&self.shown, &e))
            }
        }
    }

    fn read_rows(&mut self, table: &str, name_col: &str, counter: i64) -> Result<Vec<Row>> {
        let sql = format!(
            "SELECT {name_col}, CASE WHEN octet_length(sealed) > $2::BIGINT THEN NULL ELSE sealed END, \
             octet_length(sealed) > $2::BIGINT FROM {table} WHERE changed > $1 {}",
            if counter == 0 { "AND sealed IS NOT NULL" } else { "" }
        );
        let max = self.max_row_len;
        let (shown, failed) = (&*self.shown, &self.failed);
        let mut rows = self
            .client
            .query_raw(
                &sql,
                [&counter as &(dyn postgres::types::ToSql + Sync), &max],
            )
            .map_err(|e| statement_error(shown, failed, &e))?;
        let mut out = Vec::new();
        while let Some(row) = rows
            .next()
            .map_err(|e| statement_error(shown, failed, &e))?
        {
            let name: String = row
                .try_get(0)
                .map_err(|e| statement_error(shown, failed, &e))?;
            let too_large: Option<bool> = row
                .try_get(2)
                .map_err(|e| statement_error(shown, failed, &e))?;
            if too_large == Some(true) {
                return Err(corrupt(
                    shown,
                    format!("the row {name} is larger than {max} bytes"),
                ));
            }
            let sealed: Option<Vec<u8>> = row
                .try_get(1)
                .map_err(|e| statement_error(shown, failed, &e))?;
            out.push(Row { name, sealed });
        }
        Ok(out)
    }
}

impl Database for PostgresDatabase {
    fn meta(&mut self) -> Result<Option<Meta>> {
        let exists = self
            .client
            .query_one("SELECT to_regclass('localkms_meta') IS NOT NULL", &[])
            .map_err(|e| self.err(e))?;
        if !self.get::<bool>(&exists, 0)? {
            return Ok(None);
        }
        let row = self
            .client
            .query_opt(
                "SELECT format, salt, verifier, counter, tag FROM localkms_meta WHERE id = 1",
                &[],
            )
            .map_err(|e| self.err(e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let shown = &*self.shown;
        Ok(Some(Meta {
            format: self.get(&row, 0)?,
            salt: array::<SALT_LEN>(self.get(&row, 1)?, "salt", shown)?,
            verifier: array::<16>(self.get(&row, 2)?, "master-key verifier", shown)?,
            head: Head {
                counter: self.get(&row, 3)?,
                tag: array::<16>(self.get(&row, 4)?, "change tag", shown)?,
            },
        }))
    }

    fn create(&mut self, meta: &Meta) -> Result<Meta> {
        // CREATE TABLE IF NOT EXISTS is not safe against a concurrent one (both
        // may try to create the table's type): creators take turns on the lock.
        self.start(&format!("SELECT pg_advisory_xact_lock({CREATE_LOCK})"))?;
        let result = (|| {
            self.client.batch_execute(SCHEMA).map_err(|e| self.err(e))?;
            self.client
                .execute(
                    "INSERT INTO localkms_meta (id, format, salt, verifier, counter, tag) \
                     VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                    &[
                        &meta.format,
                        &&meta.salt[..],
                        &&meta.verifier[..],
                        &meta.head.counter,
                        &&meta.head.tag[..],
                    ],
                )
                .map_err(|e| self.err(e))?;
            Ok(())
        })();
        match result {
            Ok(()) => self.commit()?,
            Err(e) => {
                self.rollback();
                return Err(e);
            }
        }
        self.meta()?
            .ok_or_else(|| corrupt(&self.shown, "its metadata vanished as it was created"))
    }

    fn begin(&mut self) -> Result<()> {
        let messages = self.start("SELECT counter FROM localkms_meta WHERE id = 1 FOR UPDATE")?;
        let locked = messages
            .iter()
            .any(|m| matches!(m, SimpleQueryMessage::Row(_)));
        if !locked {
            self.rollback();
            return Err(corrupt(&self.shown, "it has no metadata row"));
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.in_transaction && self.failed.get() {
            self.rollback();
            return Err(io(
                "did not take the change",
                &self.shown,
                "a statement of its transaction failed, so it was rolled back",
            ));
        }
        let result = self.client.batch_execute("COMMIT");
        self.in_transaction = false;
        self.failed.set(false);
        result.map_err(|e| db_error(&self.shown, &e))
    }

    fn rollback(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
        self.in_transaction = false;
        self.failed.set(false);
    }

    fn wait_briefly(&mut self) {
        self.lock_timeout = BRIEF_LOCK_TIMEOUT;
    }

    fn foreign_or_damaged(&mut self) -> Result<Option<String>> {
        // A shared database may hold other tables; only the store's own without
        // their metadata row is damage.
        let tables: i64 = self
            .client
            .query_one(
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name LIKE 'localkms\\_%'",
                &[],
            )
            .map_err(|e| io("cannot be read", &self.shown, describe(&e)))?
            .get(0);
        Ok((tables > 0).then(|| {
            "it holds localkms tables but no store metadata (a store whose metadata is lost)"
                .to_owned()
        }))
    }

    fn head(&mut self) -> Result<Head> {
        let row = self
            .client
            .query_opt("SELECT counter, tag FROM localkms_meta WHERE id = 1", &[])
            .map_err(|e| self.err(e))?
            .ok_or_else(|| corrupt(&self.shown, "it has no metadata row"))?;
        Ok(Head {
            counter: self.get(&row, 0)?,
            tag: array::<16>(self.get(&row, 1)?, "change tag", &self.shown)?,
        })
    }

    fn tag_at(&mut self, counter: i64) -> Result<Option<[u8; 16]>> {
        let row = self
            .client
            .query_opt(
                "SELECT tag FROM localkms_log WHERE counter = $1",
                &[&counter],
            )
            .map_err(|e| self.err(e))?;
        match row {
            Some(row) => Ok(Some(array::<16>(
                self.get(&row, 0)?,
                "change tag",
                &self.shown,
            )?)),
            None => Ok(None),
        }
    }

    fn rows_since(&mut self, counter: i64) -> Result<RowChanges> {
        Ok(RowChanges {
            keys: self.read_rows("localkms_keys", "key_id", counter)?,
            aliases: self.read_rows("localkms_aliases", "name", counter)?,
        })
    }

    fn write(&mut self, head: Head, rows: &RowChanges) -> Result<()> {
        for (table, name_col, list) in [
            ("localkms_keys", "key_id", &rows.keys),
            ("localkms_aliases", "name", &rows.aliases),
        ] {
            if list.is_empty() {
                continue;
            }
            let sql = format!(
                "INSERT INTO {table} ({name_col}, changed, sealed) VALUES ($1, $2, $3) \
                 ON CONFLICT ({name_col}) DO UPDATE SET changed = excluded.changed, sealed = excluded.sealed"
            );
            let stmt = self.client.prepare(&sql).map_err(|e| self.err(e))?;
            for row in list.iter() {
                self.client
                    .execute(&stmt, &[&row.name, &head.counter, &row.sealed.as_deref()])
                    .map_err(|e| self.err(e))?;
            }
        }
        let oldest_kept = head.counter - LOG_KEPT;
        self.client
            .execute(
                "UPDATE localkms_meta SET counter = $1, tag = $2 WHERE id = 1",
                &[&head.counter, &&head.tag[..]],
            )
            .map_err(|e| self.err(e))?;
        self.client
            .execute(
                "INSERT INTO localkms_log (counter, tag) VALUES ($1, $2) \
                 ON CONFLICT (counter) DO UPDATE SET tag = excluded.tag",
                &[&head.counter, &&head.tag[..]],
            )
            .map_err(|e| self.err(e))?;
        // A reader behind the oldest logged change reads every row, so older
        // tombstones serve no one.
        for sql in [
            "DELETE FROM localkms_log WHERE counter < $1",
            "DELETE FROM localkms_keys WHERE sealed IS NULL AND changed < $1",
            "DELETE FROM localkms_aliases WHERE sealed IS NULL AND changed < $1",
        ] {
            self.client
                .execute(sql, &[&oldest_kept])
                .map_err(|e| self.err(e))?;
        }
        // Part of the transaction: PostgreSQL delivers it when (and only when) the
        // change commits, so a writer that dies after its commit cannot leave the
        // other clients unaware of it.
        self.client
            .batch_execute(&format!("NOTIFY {CHANNEL}"))
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "postgres_tests.rs"]
mod tests;

/// Opens connections to the PostgreSQL store at one URL.
pub(crate) struct PostgresConnector(pub(crate) PostgresLocation);

impl crate::keystore::store::Connector for PostgresConnector {
    fn connect(&self, create: bool) -> Result<Option<Box<dyn Database>>> {
        Ok(self
            .0
            .connect(create)?
            .map(|db| Box::new(db) as Box<dyn Database>))
    }

    fn describe(&self) -> String {
        self.0.shown().to_owned()
    }
}
