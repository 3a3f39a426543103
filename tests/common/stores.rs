//! The three stores as the store tests see them: one way to make a fresh store of
//! each kind, to name it to a child process, to open it, and to reach under the
//! library (its change counter, making it refuse writes, a backup and its
//! restore), so that one test body runs against every store.
//!
//! PostgreSQL stores are fresh databases on the server `LOCALKMS_TEST_POSTGRES_URL`
//! names (`make test` starts a throw-away cluster, scripts/pg-cluster.sh). Without
//! it a PostgreSQL case says so and does not run, except under CI (`CI` set),
//! where it fails.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::temp_dir::TempDir;

use localkms::service::OpenOptions;
use localkms::Client;

/// The stores a client can be opened on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Memory,
    Sqlite,
    Postgres,
}

/// The stores other processes can share.
pub const PERSISTENT: [Kind; 2] = [Kind::Sqlite, Kind::Postgres];
/// Every store.
pub const ALL: [Kind; 3] = [Kind::Memory, Kind::Sqlite, Kind::Postgres];

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(label: &str) -> String {
    format!(
        "{}_{}_{label}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// The test server's URL, or `None` (said) when there is none and CI is not set.
pub fn postgres_server() -> Option<String> {
    super::postgres::server_url(env!("CARGO_CRATE_NAME"))
}

/// A connection of the test itself to a database of the server.
fn admin(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("the PostgreSQL test server")
}

/// A fresh, empty database on the test server, as a URL; `None` without a server
/// (outside CI).
pub fn fresh_postgres_database(label: &str) -> Option<String> {
    super::postgres::fresh_database(label).map(|(url, _)| url)
}

/// One fresh store of one kind; its folder (and so an SQLite store) is removed
/// when it is dropped. A PostgreSQL database is left to the throw-away cluster.
pub struct TestStore {
    pub kind: Kind,
    dir: TempDir,
    url: Option<String>,
}

impl TestStore {
    /// `None` for PostgreSQL when no server was given (outside CI).
    pub fn new(kind: Kind, label: &str) -> Option<TestStore> {
        let url = match kind {
            Kind::Postgres => Some(fresh_postgres_database(label)?),
            _ => None,
        };
        let dir = TempDir::new(label);
        Some(TestStore { kind, dir, url })
    }

    /// A folder of the test's own (the SQLite store lives in it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite database's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join("store.db")
    }

    /// The store as a child process is told it: a path or a URL.
    pub fn location(&self) -> String {
        match self.kind {
            Kind::Memory => panic!("an in-memory store has no location"),
            Kind::Sqlite => self.path().display().to_string(),
            Kind::Postgres => self.url.clone().unwrap(),
        }
    }

    /// Opens a client on this store (an in-memory store is a new one each time).
    pub fn open(&self, master: &[u8], create: bool) -> Client {
        match self.kind {
            Kind::Memory => Client::open(&OpenOptions::default()).unwrap(),
            _ => open_location(&self.location(), master, create),
        }
    }

    /// Whether a second client opened on this store sees the first one's keys.
    pub fn is_shared(&self) -> bool {
        self.kind != Kind::Memory
    }

    /// The change counter in the store's metadata (+1 on every committed change).
    pub fn counter(&self) -> i64 {
        const SQL: &str = "SELECT counter FROM localkms_meta WHERE id = 1";
        match self.kind {
            Kind::Memory => panic!("an in-memory store has no counter"),
            Kind::Sqlite => sqlite(&self.path())
                .query_row(SQL, [], |r| r.get(0))
                .unwrap(),
            Kind::Postgres => admin(&self.location()).query_one(SQL, &[]).unwrap().get(0),
        }
    }

    /// Makes every change fail, as a read-only mount (SQLite) or a read-only
    /// database such as a hot standby (PostgreSQL) would, while reads go on; or
    /// undoes it. Works as root, where file modes would not.
    pub fn refuse_writes(&self, refuse: bool) {
        match self.kind {
            Kind::Memory => panic!("an in-memory store cannot refuse writes"),
            Kind::Sqlite => {
                let db = sqlite(&self.path());
                db.execute_batch(if refuse {
                    "CREATE TRIGGER localkms_test_read_only BEFORE UPDATE ON localkms_meta \
                     BEGIN SELECT RAISE(ABORT, 'the store is read only'); END;"
                } else {
                    "DROP TRIGGER localkms_test_read_only;"
                })
                .unwrap();
            }
            Kind::Postgres => {
                // Every connection the library makes after this is read only
                // (it connects for each change).
                let url = self.location();
                let (_, name) = url.rsplit_once('/').unwrap();
                let server = postgres_server().unwrap();
                admin(&server)
                    .batch_execute(&format!(
                        "ALTER DATABASE {name} SET default_transaction_read_only = {}",
                        if refuse { "on" } else { "off" }
                    ))
                    .unwrap();
            }
        }
    }

    /// A copy of the store as it is now, for [`TestStore::restore`].
    pub fn backup(&self) -> Backup {
        match self.kind {
            Kind::Memory => panic!("an in-memory store has no backup"),
            Kind::Sqlite => {
                let path = self.dir.join(&format!("backup-{}.db", unique("b")));
                sqlite(&self.path())
                    .execute("VACUUM INTO ?1", [path.to_str().unwrap()])
                    .unwrap();
                Backup(path.display().to_string())
            }
            Kind::Postgres => {
                let schema = format!("backup_{}", unique("b"));
                let mut sql =
                    format!("BEGIN ISOLATION LEVEL REPEATABLE READ; CREATE SCHEMA {schema};");
                for table in TABLES {
                    sql += &format!("CREATE TABLE {schema}.{table} AS SELECT * FROM {table};");
                }
                sql += "COMMIT;";
                admin(&self.location()).batch_execute(&sql).unwrap();
                Backup(schema)
            }
        }
    }

    /// Puts `backup` back in place of the store, under running clients, as a
    /// restore from a backup does (SQLite: the file replaced; PostgreSQL: the
    /// tables' rows, in one transaction, as `pg_restore` of a data dump would).
    pub fn restore(&self, backup: &Backup) {
        match self.kind {
            Kind::Memory => panic!("an in-memory store has no backup"),
            Kind::Sqlite => {
                let store = self.path();
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(sidecar(&store, suffix));
                }
                std::fs::rename(&backup.0, &store).unwrap();
            }
            Kind::Postgres => {
                let mut sql = String::from("BEGIN;");
                for table in TABLES {
                    sql += &format!(
                        "DELETE FROM {table}; INSERT INTO {table} SELECT * FROM {}.{table};",
                        backup.0
                    );
                }
                sql += "COMMIT;";
                admin(&self.location()).batch_execute(&sql).unwrap();
            }
        }
    }
}

/// A store's tables, in both databases.
const TABLES: [&str; 4] = [
    "localkms_meta",
    "localkms_keys",
    "localkms_aliases",
    "localkms_log",
];

/// What [`TestStore::backup`] made: a file or a schema.
pub struct Backup(String);

/// Opens a client on the store a path or a `postgresql://` URL names.
pub fn open_location(location: &str, master: &[u8], create: bool) -> Client {
    let url = location.starts_with("postgresql://") || location.starts_with("postgres://");
    let path = Path::new(location);
    Client::open(&OpenOptions {
        keystore_path: (!url).then_some(path),
        keystore_url: url.then_some(location),
        master_key: Some(master),
        master_key_file: None,
        create_if_missing: create,
    })
    .unwrap_or_else(|e| panic!("opening {location}: {e:?}"))
}

/// A connection of the test to an SQLite store (never creating it).
pub fn sqlite(store: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_with_flags(
        store,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
            | rusqlite::OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )
    .unwrap_or_else(|e| panic!("sqlite open {}: {e}", store.display()));
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn
}

/// `<store><suffix>`: the `-wal` or `-shm` beside an SQLite store.
pub fn sidecar(store: &Path, suffix: &str) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
