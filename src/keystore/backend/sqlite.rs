//! The embedded store: one SQLite database file (bundled SQLite, WAL,
//! `synchronous=FULL`), one sealed row per key and alias (see `rows.rs`).
//! (Over 400 lines because the path's resolution with its file checks and every
//! statement of the `Database` interface are one backend, each needing the other's
//! error wording.)
//!
//! The file is made safe before SQLite sees it: the path is absolute and resolved
//! once at open; the database and its `-wal` / `-shm` must be regular files (not
//! symlinks, FIFOs or devices) or absent; a new database is created by this code
//! with `O_CREAT | O_EXCL | O_NOFOLLOW` and mode 0600 whatever the umask, and
//! SQLite gives the `-wal` and `-shm` files the database's mode. A connection is
//! opened for each operation, so nothing is shared across `fork`.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::error::{Error, ErrorKind, Result};
use crate::keystore::rows::{Database, Head, Meta, Row, RowChanges, LOG_KEPT, MAX_ROW_LEN};
use crate::keystore::sealed::SALT_LEN;

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a change made on the encrypt path waits for another writer.
const BRIEF_WAIT: Duration = Duration::from_millis(100);

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS localkms_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        format INTEGER NOT NULL,
        salt BLOB NOT NULL,
        verifier BLOB NOT NULL,
        counter INTEGER NOT NULL,
        tag BLOB NOT NULL
    );
    CREATE TABLE IF NOT EXISTS localkms_keys (
        key_id TEXT PRIMARY KEY,
        changed INTEGER NOT NULL,
        sealed BLOB
    );
    CREATE INDEX IF NOT EXISTS localkms_keys_changed ON localkms_keys (changed);
    CREATE TABLE IF NOT EXISTS localkms_aliases (
        name TEXT PRIMARY KEY,
        changed INTEGER NOT NULL,
        sealed BLOB
    );
    CREATE INDEX IF NOT EXISTS localkms_aliases_changed ON localkms_aliases (changed);
    CREATE TABLE IF NOT EXISTS localkms_log (
        counter INTEGER PRIMARY KEY,
        tag BLOB NOT NULL
    );
";

fn io(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::KeyStoreIo,
        format!("The key store {} {what}: {e}", path.display()),
    )
}

fn corrupt(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::KeyStoreCorrupt,
        format!(
            "The key store {} is not a usable localkms store: {why}",
            path.display()
        ),
    )
}

/// An SQLite error as a store error: damage is `KeyStore.Corrupted`, anything
/// else (busy, read-only, full disk, I/O) `KeyStore.IOError`.
fn db_error(path: &Path, e: rusqlite::Error) -> Error {
    use rusqlite::ffi::ErrorCode;
    let damaged = match &e {
        rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::QueryReturnedNoRows => true,
        // A table or column of the schema missing: the store is not whole.
        rusqlite::Error::SqliteFailure(failure, message) => {
            matches!(
                failure.code,
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase
            ) || message
                .as_deref()
                .is_some_and(|m| m.starts_with("no such table") || m.starts_with("no such column"))
        }
        _ => {
            let text = e.to_string();
            text.starts_with("no such table")
                || text.starts_with("no such column")
                || matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
                )
        }
    };
    if damaged {
        corrupt(path, e)
    } else {
        io("cannot be used", path, e)
    }
}

/// Where an SQLite store lives: its absolute path, resolved once.
#[derive(Clone, Debug)]
pub(crate) struct SqliteLocation {
    path: PathBuf,
}

impl SqliteLocation {
    /// Makes `path` absolute and resolves its folder (symlinks in the folder's path
    /// are the owner's choice; the file itself must not be one).
    pub(crate) fn resolve(path: &Path) -> Result<SqliteLocation> {
        let absolute =
            std::path::absolute(path).map_err(|e| io("has no absolute path", path, e))?;
        let name = absolute
            .file_name()
            .ok_or_else(|| io("names no file", path, "the path ends in a folder"))?
            .to_owned();
        let folder = absolute.parent().unwrap_or(Path::new("/"));
        let folder = folder
            .canonicalize()
            .map_err(|e| io("is in a folder that cannot be reached", path, e))?;
        Ok(SqliteLocation {
            path: folder.join(name),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn sidecar(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    /// Whether the database file exists, after checking that it and its `-wal` and
    /// `-shm` are regular files if they exist: a symlink, FIFO or device is
    /// refused at once (`KeyStore.IOError`), never opened.
    fn check_files(&self) -> Result<bool> {
        let mut exists = false;
        for (path, main) in [
            (self.path.clone(), true),
            (self.sidecar("-wal"), false),
            (self.sidecar("-shm"), false),
        ] {
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_file() => exists |= main,
                Ok(_) => {
                    return Err(io(
                        "is not a regular file (a symlink, FIFO, folder or device is never opened)",
                        &path,
                        "refused",
                    ))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("cannot be examined", &path, e)),
            }
        }
        Ok(exists)
    }

    /// Refuses a file that is neither an SQLite database nor empty, saying what it
    /// is when it is a v1 sealed store file.
    fn check_contents(&self) -> Result<()> {
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&self.path)
            .map_err(|e| io("cannot be read", &self.path, e))?;
        let meta = file
            .metadata()
            .map_err(|e| io("cannot be read", &self.path, e))?;
        if !meta.is_file() {
            return Err(io("is not a regular file", &self.path, "refused"));
        }
        if meta.len() == 0 {
            return Ok(());
        }
        let mut head = [0u8; 16];
        let n = file
            .read(&mut head)
            .map_err(|e| io("cannot be read", &self.path, e))?;
        if n >= 8 && crate::keystore::backend::v1_file::is_v1_store(&head[..n]) {
            return Err(corrupt(
                &self.path,
                "it is a sealed store file of localkms 0.1 (format 1), which is read only by \
                 `localkms store copy --from <it> --to <a new store>`",
            ));
        }
        if n < 16 || &head != SQLITE_MAGIC {
            return Err(corrupt(&self.path, "it is not an SQLite database"));
        }
        Ok(())
    }

    /// Creates the database file, mode 0600, refusing anything already there
    /// (including a symlink planted in its place).
    fn create_file(&self) -> Result<()> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.path);
        match file {
            Ok(file) => {
                // The umask may have taken bits away; make it exactly 0600 (on the
                // file just created, through its descriptor).
                file.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| io("cannot be given mode 0600", &self.path, e))?;
                file.sync_all()
                    .map_err(|e| io("cannot be created", &self.path, e))?;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(io("cannot be created", &self.path, e)),
        }
    }

    /// Opens a connection, creating the file when `create` and it is missing.
    /// `Ok(None)` when it is missing and not to be created.
    pub(crate) fn connect(&self, create: bool) -> Result<Option<SqliteDatabase>> {
        if !self.check_files()? {
            if !create {
                return Ok(None);
            }
            self.create_file()?;
            self.check_files()?;
        }
        self.check_contents()?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn =
            Connection::open_with_flags(&self.path, flags).map_err(|e| db_error(&self.path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| db_error(&self.path, e))?;
        // A store whose folder cannot be written (a read-only mount) and which has
        // no -wal/-shm left: SQLite cannot make its shared-memory file there, so it
        // is opened as an unchanging read-only database. Reads go on; changes fail
        // with KeyStore.IOError.
        let probe = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        });
        if let Err(e) = probe {
            let read_only = matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ffi::ErrorCode::ReadOnly | rusqlite::ffi::ErrorCode::CannotOpen)
            );
            if !read_only {
                return Err(db_error(&self.path, e));
            }
            drop(conn);
            return self.connect_immutable().map(Some);
        }
        // Nothing here writes to the file: the journal mode is set when the schema
        // is created (it is kept in the file), and synchronous is per connection.
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF;")
            .map_err(|e| db_error(&self.path, e))?;
        let db = SqliteDatabase {
            conn,
            path: self.path.clone(),
        };
        Ok(Some(db))
    }
}

impl SqliteLocation {
    fn connect_immutable(&self) -> Result<SqliteDatabase> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_URI;
        let mut uri = String::from("file:");
        for b in self.path.as_os_str().as_encoded_bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                    uri.push(*b as char)
                }
                _ => uri.push_str(&format!("%{b:02X}")),
            }
        }
        uri.push_str("?immutable=1");
        let conn = Connection::open_with_flags(&uri, flags).map_err(|e| db_error(&self.path, e))?;
        Ok(SqliteDatabase {
            conn,
            path: self.path.clone(),
        })
    }
}

/// Opens connections to the SQLite store at one location.
pub(crate) struct SqliteConnector(pub(crate) SqliteLocation);

impl crate::keystore::store::Connector for SqliteConnector {
    fn connect(&self, create: bool) -> Result<Option<Box<dyn Database>>> {
        Ok(self
            .0
            .connect(create)?
            .map(|db| Box::new(db) as Box<dyn Database>))
    }

    fn path(&self) -> Option<&Path> {
        Some(self.0.path())
    }

    fn describe(&self) -> String {
        self.0.path().display().to_string()
    }
}

/// One connection to an SQLite store.
pub(crate) struct SqliteDatabase {
    conn: Connection,
    path: PathBuf,
}

impl SqliteDatabase {
    fn err(&self, e: rusqlite::Error) -> Error {
        db_error(&self.path, e)
    }

    fn read_rows(&self, table: &str, name_col: &str, counter: i64) -> Result<Vec<Row>> {
        let sql = format!(
            "SELECT {name_col}, CASE WHEN length(sealed) > ?2 THEN NULL ELSE sealed END, \
             length(sealed) > ?2 FROM {table} WHERE changed > ?1 {}",
            if counter == 0 {
                "AND sealed IS NOT NULL"
            } else {
                ""
            }
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![counter, MAX_ROW_LEN])
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let name: String = row.get(0).map_err(|e| self.err(e))?;
            let too_large: Option<bool> = row.get(2).map_err(|e| self.err(e))?;
            if too_large == Some(true) {
                return Err(corrupt(
                    &self.path,
                    format!("the row {name} is larger than {MAX_ROW_LEN} bytes"),
                ));
            }
            let sealed: Option<Vec<u8>> = row.get(1).map_err(|e| self.err(e))?;
            out.push(Row { name, sealed });
        }
        Ok(out)
    }
}

fn array<const N: usize>(bytes: Vec<u8>, what: &str, path: &Path) -> Result<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| corrupt(path, format!("the {what} has the wrong length")))
}

impl Database for SqliteDatabase {
    fn meta(&mut self) -> Result<Option<Meta>> {
        let exists: bool = self
            .conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'localkms_meta'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if !exists {
            return Ok(None);
        }
        let row = self
            .conn
            .query_row(
                "SELECT format, salt, verifier, counter, tag FROM localkms_meta WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Vec<u8>>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((format, salt, verifier, counter, tag)) = row else {
            return Ok(None);
        };
        Ok(Some(Meta {
            format,
            salt: array::<SALT_LEN>(salt, "salt", &self.path)?,
            verifier: array::<16>(verifier, "master-key verifier", &self.path)?,
            head: Head {
                counter,
                tag: array::<16>(tag, "change tag", &self.path)?,
            },
        }))
    }

    fn create(&mut self, meta: &Meta) -> Result<Meta> {
        // Kept in the file from now on: every connection writes ahead.
        self.conn
            .execute_batch("PRAGMA journal_mode = WAL;")
            .map_err(|e| self.err(e))?;
        self.begin()?;
        let result = (|| {
            // Another program's database is never made a store, nor a damaged store
            // (its meta row lost, its other tables there) a new one.
            let others: i64 = self
                .conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            if others > 0 {
                return Err(corrupt(
                    &self.path,
                    "it is an SQLite database with tables, but no localkms store metadata",
                ));
            }
            self.conn.execute_batch(SCHEMA).map_err(|e| self.err(e))?;
            self.conn
                .execute(
                    "INSERT OR IGNORE INTO localkms_meta (id, format, salt, verifier, counter, tag) \
                     VALUES (1, ?1, ?2, ?3, ?4, ?5)",
                    params![
                        meta.format,
                        &meta.salt[..],
                        &meta.verifier[..],
                        meta.head.counter,
                        &meta.head.tag[..]
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
            .ok_or_else(|| corrupt(&self.path, "its metadata vanished as it was created"))
    }

    fn begin(&mut self) -> Result<()> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))
    }

    fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))
    }

    fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    fn wait_briefly(&mut self) {
        let _ = self.conn.busy_timeout(BRIEF_WAIT);
    }

    fn foreign_or_damaged(&mut self) -> Result<Option<String>> {
        let tables: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok((tables > 0).then(|| {
            "it is an SQLite database with tables but no localkms store metadata (another \
             program's database, or a store whose metadata is lost)"
                .to_owned()
        }))
    }

    fn head(&mut self) -> Result<Head> {
        let (counter, tag): (i64, Vec<u8>) = self
            .conn
            .query_row(
                "SELECT counter, tag FROM localkms_meta WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        Ok(Head {
            counter,
            tag: array::<16>(tag, "change tag", &self.path)?,
        })
    }

    fn tag_at(&mut self, counter: i64) -> Result<Option<[u8; 16]>> {
        let tag: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT tag FROM localkms_log WHERE counter = ?1",
                [counter],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        tag.map(|t| array::<16>(t, "change tag", &self.path))
            .transpose()
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
            let sql = format!(
                "INSERT INTO {table} ({name_col}, changed, sealed) VALUES (?1, ?2, ?3) \
                 ON CONFLICT ({name_col}) DO UPDATE SET changed = excluded.changed, sealed = excluded.sealed"
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
            for row in list.iter() {
                stmt.execute(params![row.name, head.counter, row.sealed])
                    .map_err(|e| self.err(e))?;
            }
        }
        let oldest_kept = head.counter - LOG_KEPT;
        self.conn
            .execute(
                "UPDATE localkms_meta SET counter = ?1, tag = ?2 WHERE id = 1",
                params![head.counter, &head.tag[..]],
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO localkms_log (counter, tag) VALUES (?1, ?2)",
                params![head.counter, &head.tag[..]],
            )
            .map_err(|e| self.err(e))?;
        // A reader behind the oldest logged change reads every row, so older
        // tombstones serve no one.
        for sql in [
            "DELETE FROM localkms_log WHERE counter < ?1",
            "DELETE FROM localkms_keys WHERE sealed IS NULL AND changed < ?1",
            "DELETE FROM localkms_aliases WHERE sealed IS NULL AND changed < ?1",
        ] {
            self.conn
                .execute(sql, [oldest_kept])
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}
