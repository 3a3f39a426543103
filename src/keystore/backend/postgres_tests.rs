//! The PostgreSQL store against a real server: the one whose URL is in
//! `LOCALKMS_TEST_POSTGRES_URL` (`bash scripts/pg-cluster.sh start` starts a
//! throw-away one and prints its URL; `make test` does that). Without the
//! variable these tests say once that they did not run and pass, except under CI
//! (`CI` set), where they fail.
//! (Over 400 lines: one test per behaviour of the backend against a real server.)
//!
//! Each test works in a database of its own, created and dropped through the
//! URL's role (which must be allowed to create databases and to end other
//! sessions: the cluster's superuser `postgres`). The password tests use the role
//! `localkms_pw` that the cluster script creates with the password `Pw@:/?-test`.
//! The tests that need no server (URL parsing, unreachable servers) always run.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Once};
use std::thread;
use std::time::{Duration, Instant};

use postgres::config::Host;
use postgres::Client;

use super::*;
use crate::keystore::backend::postgres_listener::{listen, Listener};
use crate::keystore::rows::ROW_FORMAT;

const URL_VAR: &str = "LOCALKMS_TEST_POSTGRES_URL";

/// The role with a password that scripts/pg-cluster.sh creates, and its password
/// percent-encoded (`Pw@:/?-test`: characters a URL reserves).
const PW_USER: &str = "localkms_pw";
const PW_ENCODED: &str = "Pw%40%3A%2F%3F-test";

/// The server's URL, or `None` (said once) when there is none and CI is not set.
fn base_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
            assert!(
                !ci,
                "{URL_VAR} is not set, and CI is: the PostgreSQL store's tests must run in CI \
                 (make test starts a server with scripts/pg-cluster.sh)"
            );
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                // Straight to stderr: the test harness keeps what println! says.
                let _ = writeln!(
                    std::io::stderr(),
                    "postgres tests did not run: {URL_VAR} is not set (bash scripts/pg-cluster.sh start; \
                     export {URL_VAR}=$(bash scripts/pg-cluster.sh url))"
                );
            });
            None
        }
    }
}

/// `url` naming the database `dbname` instead of its own.
fn with_dbname(url: &str, dbname: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let start = head.find("://").expect("a URL") + 3;
    let end = head[start..].find('/').map_or(head.len(), |i| start + i);
    let mut out = format!("{}/{dbname}", &head[..end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// `url` with the credentials `userinfo` (`user` or `user:password`).
fn with_userinfo(url: &str, userinfo: &str) -> String {
    let start = url.find("://").expect("a URL") + 3;
    let rest = &url[start..];
    let rest = match rest.find('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    format!("{}{userinfo}@{rest}", &url[..start])
}

fn plain_client(url: &str) -> Client {
    PostgresLocation::parse(url)
        .expect("the test URL parses")
        .open("localkms-test")
        .unwrap_or_else(|e| panic!("cannot connect to the test server: {}", describe(&e)))
}

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// A database of its own for one test, dropped at the end.
struct TestDb {
    base: String,
    name: String,
    url: String,
}

impl TestDb {
    fn new(tag: &str) -> Option<TestDb> {
        let base = base_url()?;
        let name = format!(
            "localkms_test_{tag}_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = plain_client(&base);
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let url = with_dbname(&base, &name);
        Some(TestDb { base, name, url })
    }

    fn location(&self) -> PostgresLocation {
        PostgresLocation::parse(&self.url).unwrap()
    }

    fn connect(&self) -> PostgresDatabase {
        match self.location().connect(true) {
            Ok(Some(db)) => db,
            Ok(None) => panic!("the test database {} is missing", self.name),
            Err(e) => panic!("cannot connect: {e:?}"),
        }
    }

    /// A plain connection to the test database, for looking behind the store.
    fn admin(&self) -> Client {
        plain_client(&self.url)
    }

    fn count(&self, sql: &str) -> i64 {
        self.admin().query_one(sql, &[]).unwrap().get(0)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = PostgresLocation::parse(&self.base)
            .unwrap()
            .open("localkms-test")
        {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn meta(seed: u8) -> Meta {
    Meta {
        format: ROW_FORMAT,
        salt: [seed; SALT_LEN],
        verifier: [seed ^ 0x5a; 16],
        head: Head {
            counter: 0,
            tag: [seed ^ 0xa5; 16],
        },
    }
}

fn tag(a: u8, b: u8) -> [u8; 16] {
    let mut t = [0x77u8; 16];
    t[0] = a;
    t[1] = b;
    t
}

fn row(name: &str, sealed: Option<&[u8]>) -> Row {
    Row {
        name: name.to_owned(),
        sealed: sealed.map(<[u8]>::to_vec),
    }
}

fn changes(keys: Vec<Row>, aliases: Vec<Row>) -> RowChanges {
    RowChanges { keys, aliases }
}

/// Rows as sorted (name, sealed) pairs, to compare.
fn pairs(rows: &[Row]) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out: Vec<_> = rows
        .iter()
        .map(|r| (r.name.clone(), r.sealed.clone()))
        .collect();
    out.sort();
    out
}

fn pair(name: &str, sealed: Option<&[u8]>) -> (String, Option<Vec<u8>>) {
    (name.to_owned(), sealed.map(<[u8]>::to_vec))
}

/// One committed change.
fn change(db: &mut PostgresDatabase, head: Head, rows: &RowChanges) {
    db.begin().unwrap();
    db.write(head, rows).unwrap();
    db.commit().unwrap();
}

fn connect_error(location: &PostgresLocation, create: bool) -> Error {
    match location.connect(create) {
        Ok(Some(_)) => panic!("{} connected", location.shown()),
        Ok(None) => panic!("{} is missing rather than failing", location.shown()),
        Err(e) => e,
    }
}

// ---- Without a server ----

#[test]
fn messages_name_the_url_without_its_password() {
    for (url, shown) in [
        (
            "postgresql://u:p%40ss@host:5432/db?sslmode=disable",
            "postgresql://u@host:5432/db?sslmode=disable",
        ),
        (
            "postgres:///db?host=/tmp/x&password=hunter2&user=u",
            "postgres:///db?host=/tmp/x&user=u",
        ),
        ("postgresql://u:pa:ss/w?rd@h/db", "postgresql://u@h/db"),
        ("postgresql://h/db?pass%77ord=hunter2", "postgresql://h/db"),
        (
            "postgresql://u@%2Ftmp%2Fs/db",
            "postgresql://u@%2Ftmp%2Fs/db",
        ),
        (
            "host=/tmp password=hunter2",
            "(a connection string that is not a URL)",
        ),
    ] {
        assert_eq!(without_password(url), shown, "{url}");
    }
    let location = PostgresLocation::parse("postgresql://u:hunter2@h/db?password=hunter3").unwrap();
    let debug = format!("{location:?}");
    assert!(!debug.contains("hunter"), "{debug}");
    assert_eq!(location.shown(), "postgresql://u@h/db");
}

#[test]
fn urls_name_unix_sockets_in_both_forms() {
    for url in [
        "postgresql://postgres@%2Ftmp%2Fpgsock/localkms",
        "postgresql://postgres@/localkms?host=/tmp/pgsock",
        "postgres:///localkms?host=%2Ftmp%2Fpgsock&user=postgres",
    ] {
        let location = PostgresLocation::parse(url).unwrap();
        let hosts = location.config.get_hosts();
        assert!(
            matches!(hosts, [Host::Unix(path)] if path.as_os_str() == "/tmp/pgsock"),
            "{url}: {hosts:?}"
        );
        assert_eq!(location.config.get_dbname(), Some("localkms"), "{url}");
        assert_eq!(location.config.get_user(), Some("postgres"), "{url}");
        assert_eq!(
            location.config.get_connect_timeout(),
            Some(&CONNECT_TIMEOUT)
        );
    }
    // No host: the default socket folders, as libpq.
    let location = PostgresLocation::parse("postgresql:///localkms").unwrap();
    assert_eq!(location.config.get_hosts().len(), DEFAULT_SOCKET_DIRS.len());
    // The URL's own timeout stands.
    let location = PostgresLocation::parse("postgresql://h/db?connect_timeout=3").unwrap();
    assert_eq!(
        location.config.get_connect_timeout(),
        Some(&Duration::from_secs(3))
    );
}

#[test]
fn only_postgresql_urls_are_taken() {
    for url in [
        "host=/tmp dbname=x password=hunter2",
        "mysql://u:hunter2@h/db",
        "postgresql://u:hunter2@h:notaport/db",
    ] {
        let err = PostgresLocation::parse(url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::KeyStoreIo, "{url}");
        assert!(!err.message().contains("hunter2"), "{}", err.message());
    }
}

#[test]
fn an_unreachable_server_is_an_io_error_at_once() {
    for url in [
        "postgresql://postgres:secret-Zq9@%2Fnonexistent%2Flocalkms-socket/localkms",
        "postgresql:///localkms?host=/nonexistent/localkms-socket&password=secret-Zq9",
        // Nothing listens on port 1 of the loopback address: refused at once.
        "postgres://postgres:secret-Zq9@127.0.0.1:1/localkms?connect_timeout=2",
    ] {
        let location = PostgresLocation::parse(url).unwrap();
        let start = Instant::now();
        let err = connect_error(&location, true);
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{url}: {:?}",
            start.elapsed()
        );
        assert_eq!(err.kind(), ErrorKind::KeyStoreIo, "{url}");
        assert!(!err.message().contains("secret-Zq9"), "{}", err.message());
        assert!(
            err.message().contains(location.shown()),
            "{}",
            err.message()
        );
        let err = listen(&location, || {})
            .err()
            .expect("listening to nothing fails");
        assert_eq!(err.kind(), ErrorKind::KeyStoreIo, "{url}");
        assert!(!err.message().contains("secret-Zq9"), "{}", err.message());
    }
}

#[test]
fn locations_connections_and_listeners_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<PostgresLocation>();
    send::<PostgresDatabase>();
    send::<Listener>();
}

// ---- Against the server ----

#[test]
fn schema_created_twice_at_once_has_one_meta_row() {
    let Some(db) = TestDb::new("create") else {
        return;
    };
    for round in 0..3u8 {
        let barrier = Arc::new(Barrier::new(2));
        let threads: Vec<_> = (0..2u8)
            .map(|i| {
                let location = db.location();
                let barrier = barrier.clone();
                thread::spawn(move || {
                    let mut conn = location.connect(true).unwrap().unwrap();
                    barrier.wait();
                    conn.create(&meta(round * 2 + i + 1)).unwrap()
                })
            })
            .collect();
        let made: Vec<Meta> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(made[0], made[1], "both creators see the metadata in force");
        assert!(made[0] == meta(round * 2 + 1) || made[0] == meta(round * 2 + 2));
        assert_eq!(db.count("SELECT count(*) FROM localkms_meta"), 1);
        db.admin()
            .batch_execute(
                "DROP TABLE localkms_meta, localkms_keys, localkms_aliases, localkms_log",
            )
            .unwrap();
    }
}

#[test]
fn meta_round_trip() {
    let Some(db) = TestDb::new("meta") else {
        return;
    };
    let mut conn = db.connect();
    assert_eq!(conn.max_row_len, MAX_ROW_LEN);
    assert_eq!(conn.meta().unwrap(), None);
    let first = meta(7);
    assert_eq!(conn.create(&first).unwrap(), first);
    assert_eq!(conn.meta().unwrap(), Some(first.clone()));
    // A later creator gets the metadata in force, not its own.
    let mut other = db.connect();
    assert_eq!(other.create(&meta(8)).unwrap(), first);
    assert_eq!(other.head().unwrap(), first.head);
    // A damaged metadata row is KeyStore.Corrupted.
    db.admin()
        .batch_execute("UPDATE localkms_meta SET salt = '\\x0102'::bytea")
        .unwrap();
    assert_eq!(other.meta().unwrap_err().kind(), ErrorKind::KeyStoreCorrupt);
}

#[test]
fn a_committed_change_is_read_back() {
    let Some(db) = TestDb::new("write") else {
        return;
    };
    let mut conn = db.connect();
    conn.create(&meta(1)).unwrap();
    let head = Head {
        counter: 1,
        tag: tag(1, 0),
    };
    let rows = changes(
        vec![row("k1", Some(b"sealed-1")), row("k2", Some(b"sealed-2"))],
        vec![row("alias/a", Some(b"a-1"))],
    );
    change(&mut conn, head, &rows);

    let mut reader = db.connect();
    assert_eq!(reader.head().unwrap(), head);
    assert_eq!(reader.tag_at(1).unwrap(), Some(tag(1, 0)));
    assert_eq!(reader.tag_at(0).unwrap(), None);
    let all = reader.rows_since(0).unwrap();
    assert_eq!(
        pairs(&all.keys),
        vec![pair("k1", Some(b"sealed-1")), pair("k2", Some(b"sealed-2"))]
    );
    assert_eq!(pairs(&all.aliases), vec![pair("alias/a", Some(b"a-1"))]);
    let none = reader.rows_since(1).unwrap();
    assert!(none.keys.is_empty() && none.aliases.is_empty());

    // A change rolled back leaves nothing.
    conn.begin().unwrap();
    conn.write(
        Head {
            counter: 2,
            tag: tag(2, 0),
        },
        &changes(vec![row("k3", Some(b"sealed-3"))], vec![]),
    )
    .unwrap();
    conn.rollback();
    assert_eq!(reader.head().unwrap(), head);
    assert_eq!(reader.tag_at(2).unwrap(), None);
    assert!(reader.rows_since(1).unwrap().keys.is_empty());

    // An updated row is read with its new contents, from the counter before it.
    let head2 = Head {
        counter: 2,
        tag: tag(2, 1),
    };
    change(
        &mut conn,
        head2,
        &changes(vec![row("k2", Some(b"sealed-2b"))], vec![]),
    );
    assert_eq!(reader.head().unwrap(), head2);
    assert_eq!(
        pairs(&reader.rows_since(1).unwrap().keys),
        vec![pair("k2", Some(b"sealed-2b"))]
    );
}

#[test]
fn tombstones_are_read_only_by_readers_that_are_behind() {
    let Some(db) = TestDb::new("tombstones") else {
        return;
    };
    let mut conn = db.connect();
    conn.create(&meta(2)).unwrap();
    change(
        &mut conn,
        Head {
            counter: 1,
            tag: tag(1, 0),
        },
        &changes(
            vec![row("k1", Some(b"one")), row("k2", Some(b"two"))],
            vec![row("a1", Some(b"k1"))],
        ),
    );
    change(
        &mut conn,
        Head {
            counter: 2,
            tag: tag(2, 0),
        },
        &changes(vec![row("k1", None)], vec![row("a1", None)]),
    );
    let all = conn.rows_since(0).unwrap();
    assert_eq!(pairs(&all.keys), vec![pair("k2", Some(b"two"))]);
    assert!(all.aliases.is_empty());
    let since1 = conn.rows_since(1).unwrap();
    assert_eq!(pairs(&since1.keys), vec![pair("k1", None)]);
    assert_eq!(pairs(&since1.aliases), vec![pair("a1", None)]);
    let since2 = conn.rows_since(2).unwrap();
    assert!(since2.keys.is_empty() && since2.aliases.is_empty());

    // A change LOG_KEPT past them prunes the log and the tombstones before it.
    let far = 3 + LOG_KEPT;
    change(
        &mut conn,
        Head {
            counter: far,
            tag: tag(3, 0),
        },
        &changes(vec![row("k3", Some(b"three"))], vec![]),
    );
    assert_eq!(conn.tag_at(1).unwrap(), None);
    assert_eq!(conn.tag_at(2).unwrap(), None);
    assert_eq!(conn.tag_at(far).unwrap(), Some(tag(3, 0)));
    let since1 = conn.rows_since(1).unwrap();
    assert_eq!(pairs(&since1.keys), vec![pair("k3", Some(b"three"))]);
    assert!(since1.aliases.is_empty());
    assert_eq!(
        db.count("SELECT count(*) FROM localkms_keys WHERE sealed IS NULL"),
        0
    );
}

#[test]
fn writers_take_turns() {
    let Some(db) = TestDb::new("turns") else {
        return;
    };
    db.connect().create(&meta(3)).unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2u8)
        .map(|t| {
            let location = db.location();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let mut conn = location.connect(true).unwrap().unwrap();
                barrier.wait();
                let mut written = Vec::new();
                for i in 0..20u8 {
                    conn.begin().unwrap();
                    let head = conn.head().unwrap();
                    // Give the other writer time to slip in, were it able to.
                    thread::sleep(Duration::from_millis(2));
                    let next = Head {
                        counter: head.counter + 1,
                        tag: tag(t, i),
                    };
                    let rows = changes(vec![row(&format!("k-{t}-{i}"), Some(b"x"))], vec![]);
                    conn.write(next, &rows).unwrap();
                    conn.commit().unwrap();
                    written.push(next);
                }
                written
            })
        })
        .collect();
    let written: Vec<Head> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let mut counters: Vec<i64> = written.iter().map(|h| h.counter).collect();
    counters.sort_unstable();
    assert_eq!(
        counters,
        (1..=40).collect::<Vec<_>>(),
        "every change has a counter of its own"
    );
    let mut conn = db.connect();
    assert_eq!(conn.head().unwrap().counter, 40);
    for head in &written {
        assert_eq!(conn.tag_at(head.counter).unwrap(), Some(head.tag));
    }
    assert_eq!(
        db.count("SELECT count(DISTINCT changed) FROM localkms_keys"),
        40
    );
    assert_eq!(db.count("SELECT count(*) FROM localkms_log"), 40);
    assert_eq!(conn.rows_since(0).unwrap().keys.len(), 40);
}

#[test]
fn a_row_over_the_limit_is_corrupt_and_not_read() {
    let Some(db) = TestDb::new("oversized") else {
        return;
    };
    let mut conn = db.connect();
    conn.create(&meta(4)).unwrap();
    conn.set_max_row_len(64);
    change(
        &mut conn,
        Head {
            counter: 1,
            tag: tag(1, 0),
        },
        &changes(vec![row("k-small", Some(&[1u8; 64]))], vec![]),
    );
    assert_eq!(conn.rows_since(0).unwrap().keys.len(), 1);
    change(
        &mut conn,
        Head {
            counter: 2,
            tag: tag(2, 0),
        },
        &changes(vec![], vec![row("a-big", Some(&[2u8; 65]))]),
    );
    for since in [0, 1] {
        let err = conn.rows_since(since).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::KeyStoreCorrupt);
        assert!(err.message().contains("a-big"), "{}", err.message());
    }
    // The connection goes on working, and under the real limit the row is read.
    conn.set_max_row_len(MAX_ROW_LEN);
    assert_eq!(conn.rows_since(1).unwrap().aliases.len(), 1);
}

#[test]
fn a_transaction_with_a_failed_statement_is_not_committed() {
    let Some(db) = TestDb::new("failed") else {
        return;
    };
    let mut conn = db.connect();
    conn.create(&meta(5)).unwrap();
    conn.begin().unwrap();
    // TEXT cannot hold NUL: the server refuses the row.
    let bad = changes(vec![row("bad\0name", Some(b"x"))], vec![]);
    let err = conn
        .write(
            Head {
                counter: 1,
                tag: tag(1, 0),
            },
            &bad,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyStoreIo);
    assert_eq!(conn.commit().unwrap_err().kind(), ErrorKind::KeyStoreIo);
    assert_eq!(conn.head().unwrap().counter, 0);
    // The connection takes the next change.
    change(
        &mut conn,
        Head {
            counter: 1,
            tag: tag(1, 1),
        },
        &changes(vec![row("good", Some(b"x"))], vec![]),
    );
    assert_eq!(db.connect().head().unwrap().counter, 1);
}

#[test]
fn a_read_only_database_is_an_io_error() {
    let Some(db) = TestDb::new("readonly") else {
        return;
    };
    db.connect().create(&meta(6)).unwrap();
    plain_client(&db.base)
        .batch_execute(&format!(
            "ALTER DATABASE {} SET default_transaction_read_only = on",
            db.name
        ))
        .unwrap();
    let mut conn = db.connect();
    let err = conn.begin().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyStoreIo);
    assert!(err.message().contains("read-only"), "{}", err.message());
    // Reading still works.
    assert_eq!(conn.head().unwrap().counter, 0);
    let err = db.connect().create(&meta(9)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyStoreIo);
}

#[test]
fn a_dropped_connection_is_an_io_error() {
    let Some(db) = TestDb::new("dropped") else {
        return;
    };
    let mut conn = db.connect();
    conn.create(&meta(10)).unwrap();
    let ended = db.count(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'localkms') AS t",
    );
    assert_eq!(ended, 1, "the store's session");
    assert_eq!(conn.head().unwrap_err().kind(), ErrorKind::KeyStoreIo);
    assert_eq!(conn.begin().unwrap_err().kind(), ErrorKind::KeyStoreIo);
    // A new connection works.
    assert_eq!(db.connect().head().unwrap().counter, 0);
}

#[test]
fn a_missing_database_is_no_store_unless_created() {
    let Some(base) = base_url() else { return };
    let location =
        PostgresLocation::parse(&with_dbname(&base, "localkms_no_such_database")).unwrap();
    assert!(matches!(location.connect(false), Ok(None)));
    let err = connect_error(&location, true);
    assert_eq!(err.kind(), ErrorKind::KeyStoreIo);
    assert!(
        err.message().contains("localkms_no_such_database"),
        "{}",
        err.message()
    );
}

#[test]
fn a_wrong_password_is_an_io_error_at_once() {
    let Some(base) = base_url() else { return };
    let wrong = PostgresLocation::parse(&with_userinfo(
        &base,
        &format!("{PW_USER}:not-the-password-Zq9"),
    ))
    .unwrap();
    let start = Instant::now();
    let err = connect_error(&wrong, true);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::KeyStoreIo);
    assert!(
        !err.message().contains("not-the-password"),
        "{}",
        err.message()
    );
    assert!(
        err.message().contains(&format!("{PW_USER}@")),
        "{}",
        err.message()
    );
    // The right password, percent-encoded, is taken.
    let right =
        PostgresLocation::parse(&with_userinfo(&base, &format!("{PW_USER}:{PW_ENCODED}"))).unwrap();
    match right.connect(true) {
        Ok(Some(mut conn)) => {
            conn.head().unwrap_err(); // no schema in that database: an error, not a hang
        }
        Ok(None) => panic!("the database is missing"),
        Err(e) => panic!("the right password is refused: {e:?}"),
    }
}

/// A listener on `db` whose every call arrives on the returned channel.
fn listen_to(db: &TestDb) -> (Listener, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    let listener = listen(&db.location(), move || {
        let _ = tx.send(());
    })
    .unwrap();
    (listener, rx)
}

#[test]
fn a_notification_reaches_the_listener() {
    let Some(db) = TestDb::new("listen") else {
        return;
    };
    let (listener, rx) = listen_to(&db);
    let mut conn = db.connect();
    conn.notify();
    rx.recv_timeout(Duration::from_secs(1))
        .expect("the notification within 1 s");
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "one call for one change"
    );
    conn.notify();
    conn.notify();
    for _ in 0..2 {
        rx.recv_timeout(Duration::from_secs(1))
            .expect("each notification within 1 s");
    }
    let start = Instant::now();
    listener.stop();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    conn.notify();
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "nothing after stop"
    );
}

#[test]
fn a_change_is_announced_when_it_commits_and_only_then() {
    let Some(db) = TestDb::new("announce") else {
        return;
    };
    let (listener, rx) = listen_to(&db);
    let mut conn = db.connect();
    conn.create(&meta(1)).unwrap();
    let head = |n: i64| Head {
        counter: n,
        tag: tag(n as u8, 0),
    };
    let rows = changes(vec![row("k1", Some(b"sealed-1"))], vec![]);

    conn.begin().unwrap();
    conn.write(head(1), &rows).unwrap();
    conn.rollback();
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "a change rolled back is not announced"
    );

    conn.begin().unwrap();
    conn.write(head(1), &rows).unwrap();
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "nothing is announced before the commit"
    );
    conn.commit().unwrap();
    rx.recv_timeout(Duration::from_secs(1))
        .expect("the committed change within 1 s, with no separate NOTIFY");
    listener.stop();
}

#[test]
fn the_listener_reconnects_and_says_so() {
    let Some(db) = TestDb::new("relisten") else {
        return;
    };
    let (listener, rx) = listen_to(&db);
    let ended = db.count(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'localkms-listen') AS t",
    );
    assert_eq!(ended, 1, "the listener's session");
    let health = listener.health();
    let until = Instant::now() + Duration::from_secs(2);
    let mut noticed = false;
    while !noticed && Instant::now() < until {
        noticed = !health.load(std::sync::atomic::Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(2));
    }
    // It waits 100 ms before reconnecting, so the unhealthy moment is seen.
    assert!(noticed, "the lost connection is noticed");
    rx.recv_timeout(Duration::from_secs(5))
        .expect("one call after reconnecting");
    // The flag rises just after the catch-up call returns (never before it, or a
    // reader could stop polling before the missed changes are in), so the test
    // gives the listener's thread a moment to get there.
    let until = Instant::now() + Duration::from_secs(2);
    while !health.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(
        health.load(std::sync::atomic::Ordering::SeqCst),
        "healthy again once reconnected and caught up"
    );
    let mut conn = db.connect();
    conn.notify();
    rx.recv_timeout(Duration::from_secs(1))
        .expect("a notification on the new connection");
    assert!(listener.is_running());
    listener.stop();
}

/// A forked child has no listener thread, whatever the health flag it inherited
/// says: it checks for changes every 200 ms, as a store without a listener does.
#[test]
#[allow(unsafe_code)] // fork and the child's exit
fn a_forked_child_does_not_count_on_its_parents_listener() {
    let Some(db) = TestDb::new("forkedlisten") else {
        return;
    };
    let master = crate::keystore::MasterKey::from_bytes(&[0x5a; 32]).unwrap();
    let store = crate::keystore::Store::open_postgres(&db.url, &master, true, 1_795_867_200)
        .expect("the store opens");
    assert_eq!(
        store.freshness_interval_ms(),
        Some(1_000),
        "with a healthy listener"
    );
    // SAFETY: the child only loads atomics and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let code = if store.freshness_interval_ms() == Some(200) {
            0
        } else {
            1
        };
        // SAFETY: ends the child at once, running nothing of the parent's.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child checks every 200 ms (status {status})"
    );
    assert_eq!(
        store.freshness_interval_ms(),
        Some(1_000),
        "the parent's stays"
    );
}
