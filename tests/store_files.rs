//! Key stores on disk, through the Rust API (`Client::open`) and the C ABI
//! (`kms_client_open`). A store is an SQLite database (WAL mode: `<store>-wal` and
//! `<store>-shm` beside it while a connection is open, removed by the last one to
//! close): creating one, every kind of change in the database and seen by a fresh
//! process when the call returns, files that are not a store or are damaged (each
//! with its exact status, every file in the folder left byte-for-byte as it was),
//! unreadable stores and read-only folders, FIFOs, folders and symlinks where the
//! store or its `-wal` / `-shm` should be, and the mode of the files the library
//! and SQLite create whatever the umask.
//!
//! What replaced the tests of the v1 single sealed file (`<store>.lock` beside it,
//! rewritten whole through a temporary file):
//! - the stale-temporaries test is gone: SQLite changes the database in place
//!   through its WAL, so no temporary file is ever made; what a killed writer
//!   leaves (a `-wal` with an unfinished transaction) is tested in
//!   `store_processes.rs` (`crash_at_random_moments_loses_nothing_returned`);
//! - the lock file is gone (SQLite locks inside the database and its `-shm`): the
//!   listings now allow the store's `-wal` and `-shm` instead, and the mode, FIFO
//!   and symlink tests cover those two files;
//! - the header tests (format version, header checksum, every bit of every byte of
//!   a small sealed file) became damage to the sealed rows, to the SQLite pages
//!   and header, and `localkms_meta.format`; the generation counter became the
//!   change counter in `localkms_meta`;
//! - a v1 file at `keystore_path` is now refused, pointing to `localkms store copy`
//!   (the file is built here byte by byte: `tests/common/v1_file.rs`).
//!
//! Three tests were written against defects they found in the SQLite store, since
//! fixed: a store in a read-only folder with no `-wal` / `-shm` (now opened as an
//! unchanging database), a refused open that wrote to an SQLite file (the journal
//! mode is set only when the schema is made), and damage that came out as
//! `KeyStore.IOError`.
//!
//! Root ignores permission bits, and CI runs as root. The cases that need a user
//! who can be refused therefore run, when this process is root, in a child
//! process: this test binary again, started as uid/gid 65534 (`nobody`) and told
//! by the `LOCALKMS_STORE_FILES_WORKER` variable which `worker_*` test to run
//! (every `worker_*` test returns at once when the variable does not name it).
//! When this process is not root, the same checks run in-process on files made
//! unreadable or folders made read-only with chmod. The umask is process-wide,
//! so the mode checks set it in a child process too, and the durability check
//! reads the store in a fresh child process after every change. None of these
//! cases is ever skipped: when the user cannot be switched, the test fails and
//! says why.

mod common;

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut, NonNull};
use std::time::{Duration, Instant};

use common::calls::{aliases, json, key_ids, new_key, seal, unseal, version_ids};
use common::child::{after_mark, test_command};
use common::hex::{hex, unhex};
use common::temp_dir::TempDir;
use common::v1_file::{v1_store_file, V1Key, V1_MAGIC};
use localkms::ffi::{
    kms_client, kms_client_free, kms_client_open, kms_create_key, kms_error, kms_open_options,
    kms_status, kms_status_code, kms_string_free,
};
use localkms::keystore::master_key::MAX_MASTER_KEY_FILE_LEN;
use localkms::service::{Client, CreateKeyRequest, EncryptRequest, OpenOptions};
use localkms::{Error, ErrorKind};
use rusqlite::{Connection, OpenFlags};
use serde_json::{json, Value};

/// The first 16 bytes of every SQLite database.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The unprivileged user and group the root-only cases switch to.
const NOBODY: u32 = 65534;

/// Names the `worker_*` test a child process is to run.
const WORKER_VAR: &str = "LOCALKMS_STORE_FILES_WORKER";
const WORKER_DIR_VAR: &str = "LOCALKMS_STORE_FILES_DIR";
const WORKER_KEY_VAR: &str = "LOCALKMS_STORE_FILES_KEY";
const WORKER_BLOB_VAR: &str = "LOCALKMS_STORE_FILES_BLOB";
const WORKER_KEY_ID_VAR: &str = "LOCALKMS_STORE_FILES_KEY_ID";
const WORKER_UMASK_VAR: &str = "LOCALKMS_STORE_FILES_UMASK";
const WORKER_UID_VAR: &str = "LOCALKMS_STORE_FILES_UID";
const WORKER_PHASE_VAR: &str = "LOCALKMS_STORE_FILES_PHASE";

/// Starts the lines a worker reports to its parent on stdout.
const REPORT_MARK: &str = "@@store-files@@ ";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

// ---------------------------------------------------------------------------
// Temporary folders and what is in them
// ---------------------------------------------------------------------------

/// Whether every folder from `/` down to `path` can be entered by other users.
fn traversable_by_others(path: &Path) -> bool {
    path.ancestors()
        .all(|p| std::fs::metadata(p).is_ok_and(|m| m.mode() & 0o001 != 0))
}

/// Where the test folders go. As root, uid 65534 must be able to reach them.
fn temp_root() -> PathBuf {
    let preferred = std::env::temp_dir();
    if !is_root() || traversable_by_others(&preferred) {
        return preferred;
    }
    let fallback = PathBuf::from("/tmp");
    assert!(
        traversable_by_others(&fallback),
        "neither {} nor /tmp can be entered by uid {NOBODY} (every folder up to it needs \
         o+x); the permission tests need a folder that user can reach",
        preferred.display()
    );
    fallback
}

/// A fresh folder, mode 0755, where uid 65534 can reach it (see [`temp_root`]).
fn temp_dir(label: &str) -> TempDir {
    let dir = TempDir::new_in(&temp_root(), label);
    set_mode(dir.path(), 0o755);
    dir
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .mode()
        & 0o7777
}

fn chown(path: &Path, uid: u32, gid: u32) {
    let c_path = CString::new(path.as_os_str().as_bytes()).expect("no NUL in the path");
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::chown(c_path.as_ptr(), uid, gid) };
    assert_eq!(
        rc,
        0,
        "chown {uid}:{gid} {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
}

/// Writes `bytes` to `path` (replacing it, even a read-only one) and gives it
/// exactly `mode`.
fn write_file(path: &Path, bytes: &[u8], mode: u32) {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            panic!("remove {}: {e}", path.display())
        }
        _ => {}
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    set_mode(path, mode);
}

/// One entry of a folder, as far as a test can tell it has changed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    is_dir: bool,
    mode: u32,
    uid: u32,
    gid: u32,
    inode: u64,
    size: u64,
    mtime: (i64, i64),
    /// `None` when this process cannot read it (or it is a folder).
    content: Option<Vec<u8>>,
}

type Listing = BTreeMap<String, Entry>;

/// Everything in `dir` (not descending into sub-folders), with the contents.
fn listing(dir: &Path) -> Listing {
    let mut out = Listing::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("list {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("a folder entry");
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).expect("stat a folder entry");
        let content = if meta.is_file() {
            std::fs::read(&path).ok()
        } else {
            None
        };
        out.insert(
            entry.file_name().to_string_lossy().into_owned(),
            Entry {
                is_dir: meta.is_dir(),
                mode: meta.mode() & 0o7777,
                uid: meta.uid(),
                gid: meta.gid(),
                inode: meta.ino(),
                size: meta.size(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                content,
            },
        );
    }
    out
}

fn names(listing: &Listing) -> Vec<&str> {
    listing.keys().map(String::as_str).collect()
}

/// The names in `dir`, sorted, without reading any file (for huge ones).
fn names_only(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .map(|e| {
            e.expect("a folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Fails, saying exactly what differs, unless the two listings are identical:
/// the same names, and for each the same bytes, mode, owner, inode, size and
/// modification time.
fn assert_unchanged(before: &Listing, after: &Listing, case: &str) {
    if before == after {
        return;
    }
    let mut report = Vec::new();
    for name in before.keys().filter(|n| !after.contains_key(*n)) {
        report.push(format!("{name} was removed"));
    }
    for name in after.keys().filter(|n| !before.contains_key(*n)) {
        report.push(format!("{name} was created"));
    }
    for (name, old) in before {
        let Some(new) = after.get(name) else { continue };
        if old.content != new.content {
            let first = match (&old.content, &new.content) {
                (Some(a), Some(b)) => a
                    .iter()
                    .zip(b)
                    .position(|(x, y)| x != y)
                    .map_or(String::new(), |i| format!(", first difference at byte {i}")),
                _ => String::new(),
            };
            report.push(format!(
                "{name}: contents changed ({} -> {} bytes{first})",
                old.size, new.size
            ));
        }
        if old.mode != new.mode {
            report.push(format!("{name}: mode {:o} -> {:o}", old.mode, new.mode));
        }
        if (old.uid, old.gid) != (new.uid, new.gid) {
            report.push(format!("{name}: owner changed"));
        }
        if old.inode != new.inode {
            report.push(format!("{name}: replaced (new inode)"));
        }
        if old.mtime != new.mtime {
            report.push(format!("{name}: modification time changed"));
        }
    }
    panic!(
        "{case}: the folder changed, but a refused call must change no file:\n  {}",
        report.join("\n  ")
    );
}

/// [`assert_unchanged`] after calls that opened the store: the store's `-wal`
/// and `-shm` are left out, since a background check of a client (of this
/// process) may open a connection at any moment and briefly make them.
fn assert_unchanged_but_sidecars(before: &Listing, after: &Listing, case: &str) {
    let without = |listing: &Listing| -> Listing {
        listing
            .iter()
            .filter(|(name, _)| !name.ends_with("-wal") && !name.ends_with("-shm"))
            .map(|(name, entry)| (name.clone(), entry.clone()))
            .collect()
    };
    assert_unchanged(&without(before), &without(after), case);
}

// ---------------------------------------------------------------------------
// The database and the files beside it
// ---------------------------------------------------------------------------

/// `<store><suffix>`: the `-wal` or `-shm` beside a store.
fn sidecar(store: &Path, suffix: &str) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Fails unless `dir` holds exactly the store `store_name` (its `-wal` and `-shm`
/// allowed: a connection may still be closing) and `others`.
fn assert_store_folder(dir: &Path, store_name: &str, others: &[&str], case: &str) {
    let found = listing(dir);
    let allowed_sidecars = [format!("{store_name}-wal"), format!("{store_name}-shm")];
    assert!(
        found.contains_key(store_name),
        "{case}: the store {store_name} is missing: {:?}",
        names(&found)
    );
    for name in others {
        assert!(
            found.contains_key(*name),
            "{case}: {name} is missing: {:?}",
            names(&found)
        );
    }
    for name in found.keys() {
        assert!(
            name == store_name
                || others.contains(&name.as_str())
                || allowed_sidecars.contains(name),
            "{case}: the folder holds {name}, which is neither the store, its -wal or -shm, \
             nor expected: {:?}",
            names(&found)
        );
    }
}

/// A connection of this test to the database at `path` (never creating it).
fn sql(path: &Path) -> Connection {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )
    .unwrap_or_else(|e| panic!("sqlite open {}: {e}", path.display()));
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

/// Waits until no connection to `store` is open, so that everything committed is
/// in the database file itself and no `-wal` or `-shm` is left: the last
/// connection to close copies the WAL into the database and removes both. A
/// dropped client's background check may hold a connection for a moment; if the
/// files are still there after that, a connection of this test, closed at once,
/// does the same.
fn settle(store: &Path) {
    let started = Instant::now();
    let mut last_nudge = Instant::now();
    while sidecar(store, "-wal").exists() || sidecar(store, "-shm").exists() {
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_secs(20),
            "{}: its -wal or -shm is still there after {waited:?}",
            store.display()
        );
        if last_nudge.elapsed() > Duration::from_millis(500) {
            let conn = sql(store);
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
            drop(conn);
            last_nudge = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The change counter in the store's metadata (+1 on every committed change).
fn change_counter(store: &Path) -> i64 {
    sql(store)
        .query_row("SELECT counter FROM localkms_meta WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("the change counter of {}: {e}", store.display()))
}

/// The sealed bytes of one row (`table` is `keys` or `aliases`).
fn sealed_row(store: &Path, table: &str, name: &str) -> Vec<u8> {
    let column = if table == "keys" { "key_id" } else { "name" };
    sql(store)
        .query_row(
            &format!("SELECT sealed FROM localkms_{table} WHERE {column} = ?1"),
            [name],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("the {table} row {name}: {e}"))
}

/// Where `needle` starts in `haystack`; it must be there exactly once.
fn find_once(haystack: &[u8], needle: &[u8], what: &str) -> usize {
    let mut found = haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i);
    let at = found
        .next()
        .unwrap_or_else(|| panic!("{what} is not in the database file"));
    assert!(found.next().is_none(), "{what} is in the file twice");
    at
}

/// The bytes of the database `bytes` after `change` ran on it through SQLite.
fn changed_by_sql(bytes: &[u8], change: &str) -> Vec<u8> {
    let dir = temp_dir("sql-change");
    let store = dir.join("store.kms");
    write_file(&store, bytes, 0o600);
    let conn = sql(&store);
    conn.execute_batch(change)
        .unwrap_or_else(|e| panic!("{change}: {e}"));
    drop(conn);
    settle(&store);
    std::fs::read(&store).unwrap()
}

/// The page size a database's header declares (offset 16, big-endian; 1 is 65536).
fn page_size(bytes: &[u8]) -> usize {
    match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => usize::from(n),
    }
}

/// The database page (numbered from 1) that holds byte `offset`.
fn page_of(bytes: &[u8], offset: usize) -> usize {
    offset / page_size(bytes) + 1
}

/// Holds, from this process, a read lock on the bytes SQLite locks for a
/// connection's SHARED lock on a database (the lock-byte page of the file format:
/// PENDING_BYTE 0x4000_0000; the SHARED range is the 510 bytes from PENDING_BYTE +
/// 2), as any other process with the store open does. While it is held, no
/// connection elsewhere can take the EXCLUSIVE lock the last connection needs to
/// remove `-wal` and `-shm` when it closes: the files another process's library
/// made stay for this test to look at. It must not be taken on a file this
/// process opens through SQLite (closing any descriptor of a file drops the
/// process's POSIX locks on it).
struct SharedLock {
    _file: std::fs::File,
}

impl SharedLock {
    fn take(db: &Path) -> SharedLock {
        let file = std::fs::File::open(db).unwrap_or_else(|e| panic!("open {}: {e}", db.display()));
        // SAFETY: flock is plain data; all zeroes is a valid value.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_RDLCK as libc::c_short;
        lock.l_whence = libc::SEEK_SET as libc::c_short;
        lock.l_start = 0x4000_0002;
        lock.l_len = 510;
        // SAFETY: a valid open descriptor and a valid flock.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) };
        assert_eq!(
            rc,
            0,
            "lock {}: {}",
            db.display(),
            std::io::Error::last_os_error()
        );
        SharedLock { _file: file }
    }
}

// ---------------------------------------------------------------------------
// Opening stores, through Rust and through the C ABI
// ---------------------------------------------------------------------------

fn new_master_key() -> [u8; 32] {
    rand::random()
}

fn with_key<'a>(path: &'a Path, key: &'a [u8], create: bool) -> OpenOptions<'a> {
    OpenOptions {
        keystore_path: Some(path),
        master_key: Some(key),
        master_key_file: None,
        create_if_missing: create,
        keystore_url: None,
    }
}

fn with_key_file<'a>(path: &'a Path, key_file: &'a Path, create: bool) -> OpenOptions<'a> {
    OpenOptions {
        keystore_path: Some(path),
        master_key: None,
        master_key_file: Some(key_file),
        create_if_missing: create,
        keystore_url: None,
    }
}

fn open(options: &OpenOptions<'_>, case: &str) -> Client {
    Client::open(options).unwrap_or_else(|e| panic!("{case}: open failed: {e}"))
}

/// What `kms_client_open` answered.
struct FfiOutcome {
    status: kms_status,
    http_status: u16,
    code: String,
    message: String,
    request_id: String,
    /// Whether `*client_out` was written.
    wrote_client: bool,
}

fn c_text(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn c_path(path: Option<&Path>) -> Option<CString> {
    path.map(|p| CString::new(p.as_os_str().as_bytes()).expect("no NUL in the path"))
}

/// Calls `kms_client_open` with the same options; a client it opens is freed,
/// unless `keep` is given, which then receives it.
fn ffi_open_keep(options: &OpenOptions<'_>, keep: Option<&mut *mut kms_client>) -> FfiOutcome {
    let path = c_path(options.keystore_path);
    let key_file = c_path(options.master_key_file);
    let key = options.master_key.unwrap_or(&[]);
    let c_options = kms_open_options {
        keystore_path: path.as_ref().map_or(null(), |p| p.as_ptr()),
        master_key: if key.is_empty() { null() } else { key.as_ptr() },
        master_key_len: key.len(),
        master_key_file: key_file.as_ref().map_or(null(), |p| p.as_ptr()),
        create_if_missing: options.create_if_missing.into(),
        keystore_url: null(),
    };
    let sentinel = NonNull::<kms_client>::dangling().as_ptr();
    let mut client = sentinel;
    // SAFETY: kms_error is plain data; all zeroes is a valid value.
    let mut error: kms_error = unsafe { std::mem::zeroed() };
    // SAFETY: valid options whose strings outlive the call; writable outputs.
    let status = unsafe { kms_client_open(&c_options, &mut client, &mut error) };
    let wrote_client = client != sentinel;
    if status == kms_status::Ok {
        match keep {
            Some(out) => *out = client,
            // SAFETY: a live handle from kms_client_open.
            None => unsafe { kms_client_free(client) },
        }
    }
    FfiOutcome {
        status,
        http_status: error.http_status,
        code: c_text(&error.code),
        message: c_text(&error.message),
        request_id: c_text(&error.request_id),
        wrote_client,
    }
}

fn ffi_open(options: &OpenOptions<'_>) -> FfiOutcome {
    ffi_open_keep(options, None)
}

/// Checks that both `Client::open` and `kms_client_open` refuse `options` with
/// `kind` (status, code string, HTTP status, a RequestId, no client written).
/// Returns the Rust error.
fn refused(options: &OpenOptions<'_>, kind: ErrorKind, case: &str) -> Error {
    let error = match Client::open(options) {
        Ok(_) => panic!("{case}: Client::open succeeded; expected {}", kind.code()),
        Err(e) => e,
    };
    assert_eq!(
        error.kind(),
        kind,
        "{case}: Client::open: expected {}, got {error}",
        kind.code()
    );
    assert!(
        !error.request_id().is_empty(),
        "{case}: the error has a RequestId"
    );

    let ffi = ffi_open(options);
    assert_eq!(
        ffi.status,
        kms_status::of(kind),
        "{case}: kms_client_open: expected {}, got {:?} {} {}",
        kind.code(),
        ffi.status,
        ffi.code,
        ffi.message
    );
    assert_eq!(ffi.code, kind.code(), "{case}: kms_error.code");
    assert_eq!(
        ffi.http_status,
        kind.http_status(),
        "{case}: kms_error.http_status"
    );
    // SAFETY: kms_status_code returns a static NUL-terminated string.
    let static_code = unsafe { CStr::from_ptr(kms_status_code(ffi.status as u32)) };
    assert_eq!(
        static_code.to_str().unwrap(),
        kind.code(),
        "{case}: kms_status_code"
    );
    assert!(
        !ffi.message.is_empty(),
        "{case}: kms_error.message is empty"
    );
    assert_eq!(ffi.request_id.len(), 36, "{case}: kms_error.request_id");
    assert!(!ffi.wrote_client, "{case}: *client_out written on failure");
    error
}

/// `refused`, with `create_if_missing` false and true, and checks that nothing
/// in `dir` changed.
fn refused_leaving_dir_unchanged(
    dir: &Path,
    options: &OpenOptions<'_>,
    kind: ErrorKind,
    case: &str,
) -> Error {
    let before = listing(dir);
    let mut last = None;
    for create in [false, true] {
        let case = format!("{case} (create_if_missing {create})");
        let options = OpenOptions {
            create_if_missing: create,
            ..*options
        };
        last = Some(refused(&options, kind, &case));
        assert_unchanged(&before, &listing(dir), &case);
    }
    last.expect("two rounds ran")
}

// ---------------------------------------------------------------------------
// Keys, blobs and documents
// ---------------------------------------------------------------------------

fn describe(client: &Client, key_id: &str) -> Value {
    json(&client.describe_key(key_id).expect("describe_key").to_json())["KeyMetadata"].clone()
}

/// Everything a client says the store holds: each key's metadata and versions,
/// and the aliases (no RequestIds), to compare what two clients see.
fn state(client: &Client) -> Value {
    let mut keys = serde_json::Map::new();
    for key_id in key_ids(client) {
        let versions = json(
            &client
                .list_key_versions(&key_id)
                .expect("list_key_versions")
                .to_json(),
        );
        keys.insert(
            key_id.clone(),
            json!({
                "metadata": describe(client, &key_id),
                "versions": versions["KeyVersions"],
            }),
        );
    }
    json!({ "keys": keys, "aliases": aliases(client) })
}

/// A valid store (one key, alias/fixture), its bytes, and a blob made with it.
struct Fixture {
    key: [u8; 32],
    bytes: Vec<u8>,
    key_id: String,
    blob: Vec<u8>,
    /// The sealed rows of the key and of alias/fixture, as they are in `bytes`.
    key_row: Vec<u8>,
    alias_row: Vec<u8>,
}

const FIXTURE_TEXT: &[u8] = b"made before the damage";
const FIXTURE_ALIAS: &str = "alias/fixture";

fn fixture() -> Fixture {
    let dir = temp_dir("fixture");
    let store = dir.join("store.kms");
    let key = new_master_key();
    let client = open(&with_key(&store, &key, true), "fixture");
    let key_id = client
        .create_key(&Default::default())
        .expect("create_key")
        .value
        .key_id;
    client
        .create_alias(FIXTURE_ALIAS, &key_id)
        .expect("create_alias");
    let (blob, _) = seal(&client, &key_id, FIXTURE_TEXT);
    drop(client);
    settle(&store);
    let key_row = sealed_row(&store, "keys", &key_id);
    let alias_row = sealed_row(&store, "aliases", FIXTURE_ALIAS);
    settle(&store);
    let bytes = std::fs::read(&store).expect("read the fixture store");
    assert_eq!(
        &bytes[..16],
        SQLITE_MAGIC,
        "the store is an SQLite database"
    );
    assert_eq!(bytes.len() % page_size(&bytes), 0, "whole pages");
    // Both rows are in the database file itself (not only in a WAL), once each.
    find_once(&bytes, &key_row, "the key's sealed row");
    find_once(&bytes, &alias_row, "the alias's sealed row");
    Fixture {
        key,
        bytes,
        key_id,
        blob,
        key_row,
        alias_row,
    }
}

/// Checks that `client` holds exactly the fixture: its one key, its alias, and
/// the blob decrypts (nothing lost, nothing garbled).
fn assert_holds_fixture(client: &Client, f: &Fixture, case: &str) {
    assert_eq!(key_ids(client), [f.key_id.as_str()], "{case}: the keys");
    assert_eq!(
        aliases(client),
        BTreeMap::from([(FIXTURE_ALIAS.to_owned(), f.key_id.clone())]),
        "{case}: the aliases"
    );
    assert_eq!(
        unseal(client, &f.blob).map(|(text, _)| text).ok(),
        Some(FIXTURE_TEXT.to_vec()),
        "{case}: the fixture's blob"
    );
}

/// Places `bytes` as `store.kms` (mode 0600) alone in a fresh folder.
fn placed(label: &str, bytes: &[u8]) -> (TempDir, PathBuf) {
    let dir = temp_dir(label);
    let store = dir.join("store.kms");
    write_file(&store, bytes, 0o600);
    (dir, store)
}

/// Writes `bytes` over the store, once no connection to the one there is left
/// (a leftover `-wal` would be applied to the new file).
fn replace_store(store: &Path, bytes: &[u8]) {
    for suffix in ["-wal", "-shm"] {
        assert!(
            !sidecar(store, suffix).exists(),
            "{}{suffix} is still there",
            store.display()
        );
    }
    write_file(store, bytes, 0o600);
}

/// Checks a damaged store file: Corrupted, both APIs, both create modes, nothing
/// changed. Writes `bytes` over `store` first.
fn assert_corrupted(dir: &Path, store: &Path, key: &[u8], bytes: &[u8], case: &str) -> Error {
    replace_store(store, bytes);
    refused_leaving_dir_unchanged(
        dir,
        &with_key(store, key, false),
        ErrorKind::KeyStoreCorrupt,
        case,
    )
}

/// What opening a damaged store came to.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Refused(ErrorKind),
    /// It opened, and holds exactly the fixture: the damage was to bytes SQLite
    /// does not read (free space, a page it reads as zeros where zeros were).
    Intact,
}

/// For damage SQLite may or may not notice: with both create modes, opening
/// `bytes` either is refused with one of `kinds`, changing no file, or opens a
/// store that holds exactly the fixture. Never a panic, never garbage. Rust API
/// only (these run by the hundred; the C ABI is checked by `assert_corrupted`).
fn refused_or_intact(
    dir: &Path,
    store: &Path,
    f: &Fixture,
    bytes: &[u8],
    kinds: &[ErrorKind],
    case: &str,
) -> Outcome {
    replace_store(store, bytes);
    let mut outcomes = Vec::new();
    for create in [false, true] {
        let case = format!("{case} (create_if_missing {create})");
        let before = listing(dir);
        match Client::open(&with_key(store, &f.key, create)) {
            Ok(client) => {
                assert_holds_fixture(&client, f, &case);
                drop(client);
                settle(store);
                outcomes.push(Outcome::Intact);
            }
            Err(error) => {
                assert!(
                    kinds.contains(&error.kind()),
                    "{case}: expected one of {kinds:?}, got {error}"
                );
                assert_unchanged(&before, &listing(dir), &case);
                outcomes.push(Outcome::Refused(error.kind()));
            }
        }
    }
    assert_eq!(
        outcomes[0], outcomes[1],
        "{case}: create_if_missing mattered"
    );
    outcomes.remove(0)
}

// ---------------------------------------------------------------------------
// Creating a store
// ---------------------------------------------------------------------------

#[test]
fn a_missing_store_is_created_only_with_create_if_missing() {
    let dir = temp_dir("create");
    let store = dir.join("keys.kms");
    let key = new_master_key();

    // Without create_if_missing: IOError, and nothing is created (no -wal or -shm
    // either).
    let error = refused(
        &with_key(&store, &key, false),
        ErrorKind::KeyStoreIo,
        "missing store",
    );
    assert!(
        error.message().contains("create_if_missing"),
        "the message says how to create it: {}",
        error.message()
    );
    assert!(
        names(&listing(dir.path())).is_empty(),
        "nothing was created"
    );

    // A missing folder: IOError with or without create_if_missing; the folder is
    // not created.
    let in_missing = dir.join("no-such-folder").join("keys.kms");
    for create in [false, true] {
        refused(
            &with_key(&in_missing, &key, create),
            ErrorKind::KeyStoreIo,
            &format!("missing folder (create_if_missing {create})"),
        );
    }
    assert!(
        names(&listing(dir.path())).is_empty(),
        "nothing was created"
    );

    // With create_if_missing: an empty store, an SQLite database in WAL mode,
    // mode 0600.
    let client = open(&with_key(&store, &key, true), "create");
    assert_eq!(client.keystore_path(), Some(store.as_path()));
    assert_eq!(key_ids(&client), Vec::<String>::new());
    drop(client);
    assert_store_folder(dir.path(), "keys.kms", &[], "created");
    settle(&store);
    assert_eq!(names(&listing(dir.path())), ["keys.kms"]);
    assert_eq!(mode_of(&store), 0o600);
    let bytes = std::fs::read(&store).unwrap();
    assert_eq!(&bytes[..16], SQLITE_MAGIC, "the SQLite magic");
    assert_eq!(&bytes[18..20], &[2, 2], "WAL mode (file format versions 2)");
    let format: i64 = sql(&store)
        .query_row("SELECT format FROM localkms_meta WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(format, 1, "row format 1");
    assert_eq!(change_counter(&store), 0, "no change yet");
    settle(&store);

    // Opening it again (with or without create_if_missing) changes nothing.
    let before = listing(dir.path());
    for create in [false, true] {
        let client = open(&with_key(&store, &key, create), "reopen");
        assert_eq!(key_ids(&client), Vec::<String>::new());
        drop(client);
        settle(&store);
        assert_unchanged_but_sidecars(&before, &listing(dir.path()), "opening an existing store");
    }
}

#[test]
fn kms_client_open_creates_a_store_whose_keys_the_rust_api_sees() {
    let dir = temp_dir("create-ffi");
    let store = dir.join("keys.kms");
    let key_file = dir.join("master.key");
    let key = new_master_key();
    write_file(&key_file, format!("{}\n", hex(&key)).as_bytes(), 0o600);

    let missing = ffi_open(&with_key_file(&store, &key_file, false));
    assert_eq!(missing.status, kms_status::KeystoreIo);
    assert_eq!(missing.code, "KeyStore.IOError");
    assert!(!store.exists());

    let mut client: *mut kms_client = null_mut();
    let created = ffi_open_keep(&with_key_file(&store, &key_file, true), Some(&mut client));
    assert_eq!(created.status, kms_status::Ok, "{}", created.message);
    let mut key_id: *mut c_char = null_mut();
    // SAFETY: a live client; a NUL-free description; writable outputs.
    let status = unsafe {
        kms_create_key(
            client,
            null(),
            null(),
            null(),
            c"made through the C ABI".as_ptr(),
            &mut key_id,
            null_mut(),
        )
    };
    assert_eq!(status, kms_status::Ok);
    // SAFETY: a string the library returned, freed once.
    let key_id_text = unsafe { CStr::from_ptr(key_id) }
        .to_str()
        .unwrap()
        .to_owned();
    unsafe {
        kms_string_free(key_id);
        kms_client_free(client);
    }
    assert_store_folder(dir.path(), "keys.kms", &["master.key"], "kms_client_open");
    assert_eq!(mode_of(&store), 0o600);
    for suffix in ["-wal", "-shm"] {
        let path = sidecar(&store, suffix);
        if path.exists() {
            assert_eq!(mode_of(&path), 0o600, "{}", path.display());
        }
    }

    // The same store through the Rust API, with the key as bytes this time.
    let client = open(&with_key(&store, &key, false), "reopen");
    assert_eq!(key_ids(&client), [key_id_text.as_str()]);
    assert_eq!(
        describe(&client, &key_id_text)["Description"],
        "made through the C ABI"
    );
}

// ---------------------------------------------------------------------------
// Every kind of change is in the database when the call returns
// ---------------------------------------------------------------------------

/// Opens the store in a new client of this process.
fn fresh(store: &Path, key: &[u8]) -> Client {
    open(&with_key(store, key, false), "a new client")
}

/// Worker for `every_change_is_durable_when_the_call_returns`: opens
/// `<dir>/keys.kms` and reports what it holds (`STATE <json>`).
#[test]
fn worker_state() {
    let Some(w) = Worker::from_env("worker_state") else {
        return;
    };
    let client = open(
        &with_key(&w.dir.join("keys.kms"), &w.key, false),
        "worker_state",
    );
    report(&format!("STATE {}", state(&client)));
}

/// What a fresh process, started now, finds in `<dir>/keys.kms`.
fn state_in_a_fresh_process(dir: &Path, key: &[u8]) -> Value {
    let lines = run_worker(
        "worker_state",
        RunAs::Myself,
        &[
            (WORKER_DIR_VAR, dir.display().to_string()),
            (WORKER_KEY_VAR, hex(key)),
        ],
    );
    let line = lines
        .iter()
        .find_map(|l| l.strip_prefix("STATE "))
        .unwrap_or_else(|| panic!("the worker reported no state: {lines:?}"));
    json(line)
}

#[test]
fn every_change_is_durable_when_the_call_returns() {
    let dir = temp_dir("persist");
    let store = dir.join("keys.kms");
    let key = new_master_key();
    let writer = open(&with_key(&store, &key, true), "create");
    let mut last_counter = change_counter(&store);
    // Each change must have committed exactly one change to the database before
    // it returned (reservations of GCM budget by the checking process aside), and a process started right after it returned must find what
    // the writer holds.
    let mut written = |what: &str, writer: &Client| {
        let now = change_counter(&store);
        // At least the change itself (encryptions made in between reserve GCM
        // budget, which are changes of their own).
        assert!(
            now > last_counter,
            "{what}: the database's change counter went from {last_counter} to {now}"
        );
        last_counter = now;
        assert_eq!(
            state_in_a_fresh_process(dir.path(), &key),
            state(writer),
            "{what}: a fresh process does not find what the writer holds"
        );
        // The fresh process's encryptions reserved GCM budget (changes of their own).
        last_counter = change_counter(&store);
    };

    // CreateKey: AES (two specs) and EXTERNAL.
    let aes = writer
        .create_key(&CreateKeyRequest {
            description: Some("the main key"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    written("create_key AES_256", &writer);
    let aes128 = writer
        .create_key(&CreateKeyRequest {
            key_spec: Some("Aliyun_AES_128"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    written("create_key AES_128", &writer);
    let ext = writer
        .create_key(&CreateKeyRequest {
            origin: Some("EXTERNAL"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    written("create_key EXTERNAL", &writer);
    {
        let c = fresh(&store, &key);
        assert_eq!(key_ids(&c).len(), 3);
        let m = describe(&c, &aes);
        assert_eq!(m["Description"], "the main key");
        assert_eq!(m["KeySpec"], "Aliyun_AES_256");
        assert_eq!(m["KeyState"], "Enabled");
        assert_eq!(describe(&c, &aes128)["KeySpec"], "Aliyun_AES_128");
        let m = describe(&c, &ext);
        assert_eq!(m["Origin"], "EXTERNAL");
        assert_eq!(m["KeyState"], "PendingImport");
    }
    let (blob_aes_v1, aes_v1) = seal(&writer, &aes, b"aes, first version");
    let (blob_aes128, aes128_v1) = seal(&writer, &aes128, b"aes-128");

    // ImportKeyMaterial, with an expiry.
    let material: [u8; 32] = rand::random();
    let expire = writer.now() + 30 * 86_400;
    writer.import_key_material(&ext, &material, expire).unwrap();
    written("import_key_material", &writer);
    let (blob_ext, ext_v1) = {
        let c = fresh(&store, &key);
        let m = describe(&c, &ext);
        assert_eq!(m["KeyState"], "Enabled");
        assert!(m.get("MaterialExpireTime").is_some(), "{m}");
        // The new client encrypts with the imported material; the writer
        // decrypts it, so both hold the same material.
        let sealed = seal(&c, &ext, b"external material");
        assert_eq!(unseal(&writer, &sealed.0).unwrap().0, b"external material");
        sealed
    };

    // CreateKeyVersion.
    let aes_v2 = writer.rotate_key(&aes).unwrap().value.key_version_id;
    written("rotate_key", &writer);
    let blob_aes_v2 = {
        let c = fresh(&store, &key);
        assert_eq!(version_ids(&c, &aes), [aes_v1.clone(), aes_v2.clone()]);
        assert_eq!(describe(&c, &aes)["PrimaryKeyVersion"], aes_v2.as_str());
        let (blob, version) = seal(&c, &aes, b"aes, second version");
        assert_eq!(
            version, aes_v2,
            "a new client encrypts with the new version"
        );
        assert_eq!(
            unseal(&c, &blob_aes_v1).unwrap(),
            (b"aes, first version".to_vec(), aes_v1.clone())
        );
        blob
    };

    // UpdateRotationPolicy.
    writer
        .update_rotation_policy(&aes, true, Some("30d"))
        .unwrap();
    written("update_rotation_policy", &writer);
    {
        let m = describe(&fresh(&store, &key), &aes);
        assert_eq!(m["AutomaticRotation"], "Enabled", "{m}");
        assert_eq!(m["RotationInterval"], "2592000s", "{m}");
        assert!(m.get("NextRotationDate").is_some(), "{m}");
    }

    // CreateAlias, UpdateAlias, DeleteAlias.
    writer.create_alias("alias/main", &aes).unwrap();
    written("create_alias", &writer);
    writer.create_alias("alias/ext", &ext).unwrap();
    written("create_alias", &writer);
    assert_eq!(
        aliases(&fresh(&store, &key)),
        BTreeMap::from([
            ("alias/ext".to_owned(), ext.clone()),
            ("alias/main".to_owned(), aes.clone()),
        ])
    );
    writer.update_alias("alias/main", &aes128).unwrap();
    written("update_alias", &writer);
    {
        let c = fresh(&store, &key);
        assert_eq!(aliases(&c)["alias/main"], aes128);
        assert_eq!(seal(&c, "alias/main", b"x").1, aes128_v1);
    }
    writer.delete_alias("alias/ext").unwrap();
    written("delete_alias", &writer);
    assert_eq!(
        aliases(&fresh(&store, &key)),
        BTreeMap::from([("alias/main".to_owned(), aes128.clone())])
    );

    // DisableKey, EnableKey.
    writer.disable_key(&aes).unwrap();
    written("disable_key", &writer);
    {
        let c = fresh(&store, &key);
        assert_eq!(describe(&c, &aes)["KeyState"], "Disabled");
        let refused = c
            .advance_encrypt(&EncryptRequest {
                key_id: &aes,
                plaintext: b"x",
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::KeyDisabled);
    }
    writer.enable_key(&aes).unwrap();
    written("enable_key", &writer);
    assert_eq!(describe(&fresh(&store, &key), &aes)["KeyState"], "Enabled");

    // ScheduleKeyDeletion, CancelKeyDeletion.
    writer.schedule_key_deletion(&aes128, 7).unwrap();
    written("schedule_key_deletion", &writer);
    {
        let m = describe(&fresh(&store, &key), &aes128);
        assert_eq!(m["KeyState"], "PendingDeletion", "{m}");
        assert!(m.get("DeleteDate").is_some(), "{m}");
    }
    writer.cancel_key_deletion(&aes128).unwrap();
    written("cancel_key_deletion", &writer);
    {
        let m = describe(&fresh(&store, &key), &aes128);
        assert_eq!(m["KeyState"], "Enabled", "{m}");
        assert!(m.get("DeleteDate").is_none(), "{m}");
    }

    // A failed change writes nothing: no change counted, no file changed.
    settle(&store);
    let before = listing(dir.path());
    let error = writer.create_alias("alias/main", &aes).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AliasAlreadyExists);
    settle(&store);
    assert_unchanged_but_sidecars(&before, &listing(dir.path()), "a refused change");
    assert_eq!(change_counter(&store), last_counter, "a refused change");

    // Finally, with the writer gone: everything is there, every blob decrypts.
    let final_state = state(&writer);
    drop(writer);
    let c = fresh(&store, &key);
    assert_eq!(state(&c), final_state);
    let mut all = key_ids(&c);
    all.sort();
    let mut expected = vec![aes.clone(), aes128.clone(), ext.clone()];
    expected.sort();
    assert_eq!(all, expected);
    for (blob, text, version) in [
        (&blob_aes_v1, &b"aes, first version"[..], &aes_v1),
        (&blob_aes_v2, b"aes, second version", &aes_v2),
        (&blob_aes128, b"aes-128", &aes128_v1),
        (&blob_ext, b"external material", &ext_v1),
    ] {
        assert_eq!(unseal(&c, blob).unwrap(), (text.to_vec(), version.clone()));
    }
    drop(c);
    assert_store_folder(
        dir.path(),
        "keys.kms",
        &[],
        "the folder holds the store (and its -wal and -shm while open), nothing else",
    );
    for path in [
        store.clone(),
        sidecar(&store, "-wal"),
        sidecar(&store, "-shm"),
    ] {
        if path.exists() {
            assert_eq!(mode_of(&path), 0o600, "{}", path.display());
        }
    }
}

// ---------------------------------------------------------------------------
// Files that are not a store: exact status, nothing changed
// ---------------------------------------------------------------------------

#[test]
fn files_that_are_not_sqlite_databases_are_corrupted_and_left_alone() {
    let key = new_master_key();
    let (dir, store) = placed("not-sqlite", b"x");
    let not_sqlite = |bytes: &[u8], case: &str| {
        let error = assert_corrupted(dir.path(), &store, &key, bytes, case);
        assert!(
            error.message().contains("not an SQLite database"),
            "{case}: {}",
            error.message()
        );
    };
    for len in [1usize, 7, 8, 15, 16, 17, 100, 200, 4096] {
        let bytes: Vec<u8> = (0..len).map(|_| rand::random()).collect();
        not_sqlite(&bytes, &format!("{len} random bytes"));
    }
    not_sqlite(&[0; 400], "400 zero bytes");
    not_sqlite(b"{\"Keys\": []}\n", "a text file");
    // One byte off the magic.
    let mut almost = SQLITE_MAGIC.to_vec();
    almost[15] = b'!';
    almost.extend([0u8; 4096 - 16]);
    not_sqlite(&almost, "an SQLite magic one byte off");

    // The SQLite magic and then noise: SQLite itself refuses it.
    let mut magic_then_noise = SQLITE_MAGIC.to_vec();
    magic_then_noise.extend((0..8192 - 16).map(|_| rand::random::<u8>()));
    assert_corrupted(
        dir.path(),
        &store,
        &key,
        &magic_then_noise,
        "the SQLite magic and then random bytes",
    );

    // A folder where the store file should be: never opened.
    let dir = temp_dir("folder-as-store");
    let store = dir.join("store.kms");
    std::fs::create_dir(&store).unwrap();
    let error = refused_leaving_dir_unchanged(
        dir.path(),
        &with_key(&store, &key, false),
        ErrorKind::KeyStoreIo,
        "a folder at the store path",
    );
    assert!(
        error.message().contains("not a regular file"),
        "{}",
        error.message()
    );
}

#[test]
fn an_empty_file_becomes_a_store_only_with_create_if_missing() {
    let key = new_master_key();
    let (dir, store) = placed("empty", b"");
    // An empty file is an empty SQLite database, a store not made yet. Without
    // create_if_missing it is refused as a store that does not exist, saying how
    // to make it, every time: never a client on a store that is not there.
    for round in 0..3 {
        let case = format!("an empty file, round {round}");
        let error = refused(&with_key(&store, &key, false), ErrorKind::KeyStoreIo, &case);
        assert!(
            error.message().contains("create_if_missing"),
            "{case}: {}",
            error.message()
        );
        // Nothing is left beside it. (The refused open does write an empty
        // database's first page into the file: see
        // `a_refused_open_changes_no_file`, ignored until that is fixed.)
        assert_store_folder(dir.path(), "store.kms", &[], &case);
        settle(&store);
        assert!(
            !sql(&store)
                .query_row(
                    "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'localkms_meta'",
                    [],
                    |r| r.get::<_, bool>(0)
                )
                .unwrap(),
            "{case}: no store was made"
        );
        settle(&store);
    }

    // With create_if_missing it becomes a store, which keeps what is put in it.
    let client = open(&with_key(&store, &key, true), "an empty file, created");
    assert_eq!(key_ids(&client), Vec::<String>::new());
    let key_id = new_key(&client);
    let (blob, _) = seal(&client, &key_id, b"in a store made from an empty file");
    drop(client);
    let client = fresh(&store, &key);
    assert_eq!(key_ids(&client), [key_id.as_str()]);
    assert_eq!(
        unseal(&client, &blob).unwrap().0,
        b"in a store made from an empty file"
    );
    drop(client);
    assert_eq!(mode_of(&store), 0o600);
    assert_store_folder(dir.path(), "store.kms", &[], "an empty file made a store");
}

#[test]
fn a_v1_store_file_is_refused_and_points_to_store_copy() {
    let master = new_master_key();
    let kept = V1Key::new("made by localkms 0.1");
    let other = V1Key::new("another");
    let bytes = v1_store_file(
        &master,
        &[kept.clone(), other.clone()],
        &[("alias/old", &kept.key_id)],
    );
    let (dir, store) = placed("v1", &bytes);

    // It is a real v1 store: the reader kept for `localkms store copy` opens it.
    let old = Client::open_v1_file(&with_key(&store, &master, false))
        .unwrap_or_else(|e| panic!("the v1 reader refuses the v1 file built here: {e}"));
    let mut expected = vec![kept.key_id.clone(), other.key_id.clone()];
    expected.sort();
    let mut found = key_ids(&old);
    found.sort();
    assert_eq!(found, expected);
    assert_eq!(
        aliases(&old),
        BTreeMap::from([("alias/old".to_owned(), kept.key_id.clone())])
    );
    assert_eq!(
        describe(&old, &kept.key_id)["Description"],
        "made by localkms 0.1"
    );
    assert_eq!(version_ids(&old, &kept.key_id), [kept.version_id.as_str()]);
    drop(old);
    assert_eq!(
        std::fs::read(&store).unwrap(),
        bytes,
        "the v1 reader writes nothing"
    );

    // As a keystore_path: Corrupted, naming the command that copies it, through
    // both APIs, with or without create_if_missing; the file is left as it is.
    let error = refused_leaving_dir_unchanged(
        dir.path(),
        &with_key(&store, &master, false),
        ErrorKind::KeyStoreCorrupt,
        "a v1 store file",
    );
    assert!(
        error.message().contains("store copy"),
        "the message points to `localkms store copy`: {}",
        error.message()
    );
    let ffi = ffi_open(&with_key(&store, &master, true));
    assert!(ffi.message.contains("store copy"), "{}", ffi.message);
    // Told apart before any key is used: the same with another master key.
    let error = refused_leaving_dir_unchanged(
        dir.path(),
        &with_key(&store, &new_master_key(), false),
        ErrorKind::KeyStoreCorrupt,
        "a v1 store file, another master key",
    );
    assert!(
        error.message().contains("store copy"),
        "{}",
        error.message()
    );
    // Any file that starts with the v1 magic is taken for one.
    let mut magic_then_noise = V1_MAGIC.to_vec();
    magic_then_noise.extend((0..300).map(|_| rand::random::<u8>()));
    let error = assert_corrupted(
        dir.path(),
        &store,
        &master,
        &magic_then_noise,
        "the v1 magic and then random bytes",
    );
    assert!(
        error.message().contains("store copy"),
        "{}",
        error.message()
    );
    let error = assert_corrupted(dir.path(), &store, &master, V1_MAGIC, "the v1 magic alone");
    assert!(
        error.message().contains("store copy"),
        "{}",
        error.message()
    );
}

// ---------------------------------------------------------------------------
// Damaged databases: refused, nothing changed, never garbage
// ---------------------------------------------------------------------------

#[test]
fn a_truncated_database_is_refused() {
    let f = fixture();
    let len = f.bytes.len();
    let page = page_size(&f.bytes);
    let (dir, store) = placed("truncated", &f.bytes);
    // The fixture itself opens.
    let client = open(&with_key(&store, &f.key, false), "the whole file");
    assert_holds_fixture(&client, &f, "the whole file");
    drop(client);
    settle(&store);

    // Cut anywhere before the last page, the file has fewer pages than its header
    // says: SQLite reports the database malformed, and nothing is changed.
    let whole_pages_missing = [
        1,
        8,
        15,
        16,
        17,
        50,
        99,
        100,
        101,
        512,
        page - 1,
        page,
        page + 1,
        2 * page,
        len / 2,
        len - page - 1,
        len - page,
    ];
    for cut in whole_pages_missing {
        assert_corrupted(
            dir.path(),
            &store,
            &f.key,
            &f.bytes[..cut],
            &format!("truncated to {cut} of {len} bytes"),
        );
    }

    // Cut inside the last page, SQLite reads the missing tail as zeros: refused
    // when that matters to what the store reads, else the store is intact.
    for cut in [len - page + 1, len - page / 2, len - 16, len - 1] {
        let case = format!("truncated to {cut} of {len} bytes (inside the last page)");
        refused_or_intact(
            dir.path(),
            &store,
            &f,
            &f.bytes[..cut],
            &[ErrorKind::KeyStoreCorrupt, ErrorKind::KeyStoreIo],
            &case,
        );
    }

    // Bytes after the last page are not part of the database: SQLite ignores
    // them, and the store is intact.
    let mut longer = f.bytes.clone();
    longer.push(0);
    longer.extend((0..page).map(|_| rand::random::<u8>()));
    assert_eq!(
        refused_or_intact(dir.path(), &store, &f, &longer, &[], "bytes appended"),
        Outcome::Intact
    );
}

#[test]
fn a_flipped_bit_in_a_sealed_row_is_corrupted() {
    let f = fixture();
    let (dir, store) = placed("flipped", &f.bytes);
    for (what, row) in [("key", &f.key_row), ("alias", &f.alias_row)] {
        let at = find_once(&f.bytes, row, what);
        // Nonce, ciphertext and tag: one bit of every byte.
        for i in 0..row.len() {
            let bit = i % 8;
            let mut bad = f.bytes.clone();
            bad[at + i] ^= 1 << bit;
            let error = assert_corrupted(
                dir.path(),
                &store,
                &f.key,
                &bad,
                &format!("bit {bit} of byte {i} of the {what}'s sealed row"),
            );
            assert!(
                error.message().contains("fails authentication"),
                "{}",
                error.message()
            );
            assert!(
                !error.message().contains(&hex(&f.key)),
                "no key bytes in messages"
            );
        }
        // Every bit of the first and the last byte (nonce and tag).
        for i in [0, row.len() - 1] {
            for bit in 0..8 {
                let mut bad = f.bytes.clone();
                bad[at + i] ^= 1 << bit;
                assert_corrupted(
                    dir.path(),
                    &store,
                    &f.key,
                    &bad,
                    &format!("bit {bit} of byte {i} of the {what}'s sealed row"),
                );
            }
        }
    }
    // The undamaged file still opens.
    replace_store(&store, &f.bytes);
    let client = open(&with_key(&store, &f.key, false), "undamaged");
    assert_holds_fixture(&client, &f, "undamaged");
}

#[test]
fn a_row_moved_to_another_name_or_table_is_corrupted() {
    let f = fixture();
    let (dir, store) = placed("moved", &f.bytes);
    let other = localkms::ids::new_key_id().unwrap();
    let id = &f.key_id;
    for (change, case) in [
        (
            format!("UPDATE localkms_keys SET key_id = '{other}' WHERE key_id = '{id}'"),
            "the key row under another KeyId",
        ),
        (
            "UPDATE localkms_aliases SET name = 'alias/other'".to_owned(),
            "the alias row under another name",
        ),
        (
            format!(
                "UPDATE localkms_aliases SET sealed = \
                 (SELECT sealed FROM localkms_keys WHERE key_id = '{id}')"
            ),
            "the key's sealed row as the alias's",
        ),
        (
            format!(
                "INSERT INTO localkms_keys (key_id, changed, sealed) \
                 SELECT '{other}', changed, sealed FROM localkms_keys WHERE key_id = '{id}'"
            ),
            "a copy of the key row under another KeyId",
        ),
        (
            format!(
                "UPDATE localkms_keys SET sealed = substr(sealed, 1, 27) WHERE key_id = '{id}'"
            ),
            "a key row too short to hold anything",
        ),
    ] {
        let bad = changed_by_sql(&f.bytes, &change);
        assert_corrupted(dir.path(), &store, &f.key, &bad, case);
    }
}

#[test]
fn damage_to_the_database_structure_is_refused_and_changes_nothing() {
    let f = fixture();
    let (dir, store) = placed("structure", &f.bytes);
    let page = page_size(&f.bytes);
    let key_page = page_of(&f.bytes, find_once(&f.bytes, &f.key_row, "the key row"));
    let header = (key_page - 1) * page; // the b-tree page header (page 1 has the file header first)
    assert!(key_page > 1, "the key row is on a page of its own table");

    // The b-tree page header of the page holding the key row: its type and its
    // cell count, every bit.
    for (offset, what) in [(0, "page type"), (3, "cell count"), (4, "cell count")] {
        for bit in 0..8 {
            let mut bad = f.bytes.clone();
            bad[header + offset] ^= 1 << bit;
            let error = assert_corrupted(
                dir.path(),
                &store,
                &f.key,
                &bad,
                &format!("bit {bit} of the {what} of the key row's page {key_page}"),
            );
            assert!(error.message().contains("malformed"), "{}", error.message());
        }
    }
    // The same page zeroed, or filled with noise.
    for (what, fill) in [("zeroed", None), ("noise", Some(()))] {
        let mut bad = f.bytes.clone();
        for b in &mut bad[header..header + page] {
            *b = if fill.is_some() { rand::random() } else { 0 };
        }
        assert_corrupted(
            dir.path(),
            &store,
            &f.key,
            &bad,
            &format!("the key row's page {what}"),
        );
    }

    // The SQLite file header (the first 100 bytes), every bit of every byte:
    // refused (Corrupted where SQLite says so, IOError for what it calls
    // unsupported) or, for bytes SQLite does not need (the change counter, the
    // reserved area, ...), intact. Never a panic, never garbage, never a change to
    // a refused file.
    let mut refused = 0;
    for i in 0..100 {
        for bit in 0..8 {
            let mut bad = f.bytes.clone();
            bad[i] ^= 1 << bit;
            let outcome = refused_or_intact(
                dir.path(),
                &store,
                &f,
                &bad,
                &[ErrorKind::KeyStoreCorrupt, ErrorKind::KeyStoreIo],
                &format!("bit {bit} of byte {i} of the SQLite header"),
            );
            if i < 16 {
                assert_eq!(
                    outcome,
                    Outcome::Refused(ErrorKind::KeyStoreCorrupt),
                    "the magic, byte {i} bit {bit}"
                );
            }
            if i == 16 || i == 17 {
                assert_eq!(
                    outcome,
                    Outcome::Refused(ErrorKind::KeyStoreCorrupt),
                    "the page size, byte {i} bit {bit}"
                );
            }
            refused += usize::from(outcome != Outcome::Intact);
        }
    }
    assert!(refused >= 16 * 8 + 2 * 8, "{refused} header bits refused");
}

#[test]
fn a_newer_format_is_corrupted_and_says_so() {
    let f = fixture();
    let (dir, store) = placed("newer", &f.bytes);
    for format in [2i64, 3, 1000, i64::MAX] {
        let newer = changed_by_sql(
            &f.bytes,
            &format!("UPDATE localkms_meta SET format = {format}"),
        );
        let case = format!("format {format}");
        let error = assert_corrupted(dir.path(), &store, &f.key, &newer, &case);
        assert!(
            error.message().contains("newer"),
            "{case}: the message says the store is newer: {}",
            error.message()
        );
        let ffi = ffi_open(&with_key(&store, &f.key, false));
        assert!(ffi.message.contains("newer"), "{case}: {}", ffi.message);
    }
    // Format 1 again: it opens.
    let same = changed_by_sql(&f.bytes, "UPDATE localkms_meta SET format = 1");
    replace_store(&store, &same);
    let client = open(&with_key(&store, &f.key, false), "format 1");
    assert_holds_fixture(&client, &f, "format 1");
}

#[test]
fn damage_to_the_store_metadata_is_refused_and_changes_nothing() {
    let f = fixture();
    let (dir, store) = placed("meta-damage", &f.bytes);
    // A field of the wrong length: Corrupted.
    for (change, case) in [
        (
            "UPDATE localkms_meta SET salt = x'00'",
            "a salt of one byte",
        ),
        (
            "UPDATE localkms_meta SET verifier = zeroblob(15)",
            "a verifier of 15 bytes",
        ),
        ("UPDATE localkms_meta SET tag = x''", "an empty change tag"),
    ] {
        let bad = changed_by_sql(&f.bytes, change);
        assert_corrupted(dir.path(), &store, &f.key, &bad, case);
    }
    // Other bytes of the right length in the salt or the verifier: the metadata
    // row has no checksum, so this cannot be told from a wrong master key; it is
    // refused (AccessDenied or Corrupted), and nothing is changed.
    for (change, case) in [
        (
            "UPDATE localkms_meta SET salt = zeroblob(15)",
            "a zeroed salt",
        ),
        (
            "UPDATE localkms_meta SET verifier = zeroblob(16)",
            "a zeroed verifier",
        ),
    ] {
        let bad = changed_by_sql(&f.bytes, change);
        let outcome = refused_or_intact(
            dir.path(),
            &store,
            &f,
            &bad,
            &[ErrorKind::KeyStoreCorrupt, ErrorKind::KeyStoreAccessDenied],
            case,
        );
        assert_ne!(outcome, Outcome::Intact, "{case}");
    }
}

#[test]
fn a_wrong_master_key_is_access_denied() {
    let f = fixture();
    let (dir, store) = placed("wrong-key", &f.bytes);
    let other = new_master_key();
    refused_leaving_dir_unchanged(
        dir.path(),
        &with_key(&store, &other, false),
        ErrorKind::KeyStoreAccessDenied,
        "a wrong master key",
    );
    // The same through a master-key file.
    let key_file = dir.join("other.key");
    write_file(&key_file, hex(&other).as_bytes(), 0o600);
    refused_leaving_dir_unchanged(
        dir.path(),
        &with_key_file(&store, &key_file, false),
        ErrorKind::KeyStoreAccessDenied,
        "a wrong master-key file",
    );
    // A key that differs in one bit only.
    let mut near = f.key;
    near[31] ^= 0x80;
    refused_leaving_dir_unchanged(
        dir.path(),
        &with_key(&store, &near, false),
        ErrorKind::KeyStoreAccessDenied,
        "a master key one bit off",
    );
    // The right key still opens it.
    let client = open(&with_key(&store, &f.key, false), "the right key");
    assert_eq!(unseal(&client, &f.blob).unwrap().0, FIXTURE_TEXT);
}

#[test]
fn a_master_key_file_others_may_access_is_access_denied() {
    let f = fixture();
    let (dir, store) = placed("key-file-modes", &f.bytes);
    let key_file = dir.join("master.key");
    for mode in [
        0o644, 0o640, 0o604, 0o660, 0o620, 0o602, 0o610, 0o601, 0o666,
    ] {
        write_file(&key_file, format!("{}\n", hex(&f.key)).as_bytes(), mode);
        let error = refused_leaving_dir_unchanged(
            dir.path(),
            &with_key_file(&store, &key_file, false),
            ErrorKind::KeyStoreAccessDenied,
            &format!("a master-key file of mode {mode:o}"),
        );
        assert!(
            error.message().contains("600"),
            "the message says what to do: {}",
            error.message()
        );
        assert_eq!(
            mode_of(&key_file),
            mode,
            "the key file's mode is left alone"
        );
    }
    // 0600 and 0400 are fine, as hex digits or as 32 raw bytes.
    for mode in [0o600, 0o400] {
        for (form, content) in [
            ("hex", format!("{}\n", hex(&f.key)).into_bytes()),
            ("raw", f.key.to_vec()),
        ] {
            write_file(&key_file, &content, mode);
            let before = listing(dir.path());
            let case = format!("a {form} master-key file of mode {mode:o}");
            let client = open(&with_key_file(&store, &key_file, false), &case);
            assert_eq!(unseal(&client, &f.blob).unwrap().0, FIXTURE_TEXT, "{case}");
            drop(client);
            let ffi = ffi_open(&with_key_file(&store, &key_file, false));
            assert_eq!(ffi.status, kms_status::Ok, "{case}: {}", ffi.message);
            settle(&store);
            assert_unchanged_but_sidecars(&before, &listing(dir.path()), &case);
        }
    }
    // A master-key file that does not exist cannot be read: IOError.
    refused_leaving_dir_unchanged(
        dir.path(),
        &with_key_file(&store, &dir.join("no-such.key"), false),
        ErrorKind::KeyStoreIo,
        "a missing master-key file",
    );
    // One that holds something else than a key: InvalidParameter.
    write_file(&key_file, &f.key[..31], 0o600);
    refused_leaving_dir_unchanged(
        dir.path(),
        &with_key_file(&store, &key_file, false),
        ErrorKind::InvalidParameter,
        "a master-key file of 31 bytes",
    );
}

#[test]
fn bad_master_key_parameters_are_refused_before_any_file_is_touched() {
    let f = fixture();
    let (dir, store) = placed("key-params", &f.bytes);
    let key_file = dir.join("master.key");
    write_file(&key_file, hex(&f.key).as_bytes(), 0o600);

    for len in [1usize, 16, 31, 33, 64] {
        let key = vec![7u8; len];
        let error = refused_leaving_dir_unchanged(
            dir.path(),
            &with_key(&store, &key, false),
            ErrorKind::InvalidParameter,
            &format!("a master key of {len} bytes"),
        );
        assert!(error.message().contains("32"), "{}", error.message());
    }
    let both = OpenOptions {
        keystore_path: Some(&store),
        master_key: Some(&f.key),
        master_key_file: Some(&key_file),
        create_if_missing: false,
        keystore_url: None,
    };
    refused_leaving_dir_unchanged(
        dir.path(),
        &both,
        ErrorKind::InvalidParameter,
        "both master_key and master_key_file",
    );
    let neither = OpenOptions {
        keystore_path: Some(&store),
        ..Default::default()
    };
    refused_leaving_dir_unchanged(
        dir.path(),
        &neither,
        ErrorKind::MissingParameter,
        "a path and no master key",
    );
    let no_path = OpenOptions {
        master_key: Some(&f.key),
        ..Default::default()
    };
    refused_leaving_dir_unchanged(
        dir.path(),
        &no_path,
        ErrorKind::InvalidParameter,
        "a master key and no path",
    );

    // None of these creates a missing store either.
    let missing = dir.join("new.kms");
    let before = listing(dir.path());
    let short = [7u8; 31];
    refused(
        &with_key(&missing, &short, true),
        ErrorKind::InvalidParameter,
        "a short key, create_if_missing",
    );
    refused(
        &OpenOptions {
            keystore_path: Some(&missing),
            create_if_missing: true,
            ..Default::default()
        },
        ErrorKind::MissingParameter,
        "no key, create_if_missing",
    );
    let open_key_file = dir.join("open.key");
    write_file(&open_key_file, hex(&f.key).as_bytes(), 0o644);
    let before_with_key = listing(dir.path());
    refused(
        &with_key_file(&missing, &open_key_file, true),
        ErrorKind::KeyStoreAccessDenied,
        "a key file of mode 644, create_if_missing",
    );
    assert_unchanged(&before_with_key, &listing(dir.path()), "create_if_missing");
    std::fs::remove_file(&open_key_file).unwrap();
    assert_unchanged(&before, &listing(dir.path()), "create_if_missing");
}

/// The arguments a parent gives a `worker_*` test through the environment.
struct Worker {
    dir: PathBuf,
    key: Vec<u8>,
    blob: Vec<u8>,
    key_id: String,
    umask: u32,
    phase: String,
}

impl Worker {
    /// The arguments, when this process was started to run the worker `name`;
    /// `None` otherwise (the worker then returns at once).
    fn from_env(name: &str) -> Option<Worker> {
        if std::env::var(WORKER_VAR).ok().as_deref() != Some(name) {
            return None;
        }
        let var = |n: &str| std::env::var(n).unwrap_or_default();
        if let Ok(uid) = std::env::var(WORKER_UID_VAR) {
            // SAFETY: geteuid has no preconditions.
            let euid = unsafe { libc::geteuid() };
            assert_eq!(
                euid.to_string(),
                uid,
                "the worker {name} runs as the wrong user"
            );
        }
        Some(Worker {
            dir: PathBuf::from(var(WORKER_DIR_VAR)),
            key: unhex(&var(WORKER_KEY_VAR)),
            blob: unhex(&var(WORKER_BLOB_VAR)),
            key_id: var(WORKER_KEY_ID_VAR),
            umask: u32::from_str_radix(&var(WORKER_UMASK_VAR), 8).unwrap_or(0o022),
            phase: var(WORKER_PHASE_VAR),
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RunAs {
    /// The user of this process.
    Myself,
    /// uid/gid 65534 (only possible for root).
    Nobody,
}

/// A path to this test binary that uid 65534 can run: the binary itself when
/// every folder up to it is open to others, else a copy in `scratch`.
fn runnable_test_binary(run_as: RunAs, scratch: &TempDir) -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the test binary");
    if run_as == RunAs::Myself
        || (traversable_by_others(exe.parent().expect("a folder"))
            && mode_of(&exe) & 0o005 == 0o005)
    {
        return exe;
    }
    let copy = scratch.join("store_files-test-binary");
    std::fs::copy(&exe, &copy)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", exe.display(), copy.display()));
    set_mode(&copy, 0o755);
    copy
}

/// Runs the test `name` of this binary in a child process as `run_as`, with
/// `vars` in its environment; fails with its output unless it ran and passed.
/// Returns what it reported (its stdout lines marked with [`REPORT_MARK`]).
fn run_worker(name: &str, run_as: RunAs, vars: &[(&str, String)]) -> Vec<String> {
    let scratch = temp_dir("worker-binary");
    let exe = runnable_test_binary(run_as, &scratch);
    let mut command = test_command(&exe, name);
    command.env(WORKER_VAR, name).current_dir("/");
    for (var, value) in vars {
        command.env(var, value);
    }
    if run_as == RunAs::Nobody {
        assert!(is_root(), "only root can run a worker as uid {NOBODY}");
        // Dropping the supplementary groups too: std calls setgroups(0) when
        // root sets a uid without naming groups.
        command
            .uid(NOBODY)
            .gid(NOBODY)
            .env(WORKER_UID_VAR, NOBODY.to_string());
    }
    let output = command.output().unwrap_or_else(|e| {
        panic!(
            "cannot start {} as {run_as:?} to run {name}: {e}. As root this test must \
             switch to uid/gid {NOBODY}, since root ignores file permissions; it is never \
             skipped.",
            exe.display()
        )
    });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "the worker {name} (as {run_as:?}) failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
        .lines()
        .filter_map(|line| after_mark(line, REPORT_MARK))
        .map(str::to_owned)
        .collect()
}

/// Reports one line to the parent (see [`run_worker`]).
fn report(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{REPORT_MARK}{line}").unwrap();
    out.flush().unwrap();
}

/// What a user who may not read the store file sees: IOError, for the store and
/// for a master-key file it may not read.
fn check_unreadable(dir: &Path, key: &[u8]) {
    let store = dir.join("store.kms");
    let before = listing(dir);
    refused_leaving_dir_unchanged(
        dir,
        &with_key(&store, key, false),
        ErrorKind::KeyStoreIo,
        "an unreadable store file",
    );
    let key_file = dir.join("master.key");
    refused_leaving_dir_unchanged(
        dir,
        &with_key_file(&store, &key_file, false),
        ErrorKind::KeyStoreIo,
        "an unreadable master-key file",
    );
    assert_unchanged(&before, &listing(dir), "unreadable files");
}

#[test]
fn worker_unreadable_store() {
    let Some(w) = Worker::from_env("worker_unreadable_store") else {
        return;
    };
    check_unreadable(&w.dir, &w.key);
}

#[test]
fn an_unreadable_store_is_io_error_and_unchanged() {
    let dir = temp_dir("unreadable");
    let store = dir.join("store.kms");
    let key = new_master_key();
    let client = open(&with_key(&store, &key, true), "create");
    client.create_key(&Default::default()).unwrap();
    drop(client);
    settle(&store);
    let key_file = dir.join("master.key");
    write_file(&key_file, hex(&key).as_bytes(), 0o600);

    if is_root() {
        // Both files stay root's, mode 0600: uid 65534 may read neither.
        let before = listing(dir.path());
        run_worker(
            "worker_unreadable_store",
            RunAs::Nobody,
            &[
                (WORKER_DIR_VAR, dir.path().display().to_string()),
                (WORKER_KEY_VAR, hex(&key)),
            ],
        );
        assert_unchanged(&before, &listing(dir.path()), "unreadable, as uid 65534");
    } else {
        set_mode(&store, 0o000);
        set_mode(&key_file, 0o000);
        assert!(
            std::fs::File::open(&store).is_err(),
            "this user can still read a file of mode 0000 (a capability such as \
             CAP_DAC_OVERRIDE?); the test cannot make a file unreadable"
        );
        let before = listing(dir.path());
        check_unreadable(dir.path(), &key);
        assert_unchanged(&before, &listing(dir.path()), "unreadable, chmod 000");
        set_mode(&store, 0o600);
        set_mode(&key_file, 0o600);
    }
    // Readable again, it opens.
    fresh(&store, &key);
}

/// What a user who owns the store file but may not write in its folder sees,
/// when no client has the store open (no `-wal` or `-shm` there, and none can be
/// made): the store opens and decrypts; every change is IOError and writes
/// nothing; no store can be created there.
fn check_read_only_folder(dir: &Path, key: &[u8], key_id: &str, blob: &[u8]) {
    let store = dir.join("store.kms");
    let before = listing(dir);
    let client = open(
        &with_key(&store, key, false),
        "a store in a read-only folder",
    );
    assert_eq!(unseal(&client, blob).unwrap().0, FIXTURE_TEXT);
    assert_eq!(describe(&client, key_id)["KeyState"], "Enabled");

    let must_fail = |what: &str, result: localkms::Result<()>| {
        let error = result.expect_err(what);
        assert_eq!(
            error.kind(),
            ErrorKind::KeyStoreIo,
            "{what} in a read-only folder: {error}"
        );
        assert_unchanged(&before, &listing(dir), what);
    };
    must_fail(
        "create_key",
        client.create_key(&Default::default()).map(drop),
    );
    must_fail("rotate_key", client.rotate_key(key_id).map(drop));
    must_fail(
        "create_alias",
        client.create_alias("alias/new", key_id).map(drop),
    );
    must_fail("disable_key", client.disable_key(key_id).map(drop));
    must_fail(
        "update_rotation_policy",
        client
            .update_rotation_policy(key_id, true, Some("7d"))
            .map(drop),
    );

    // The failed changes left the client as it was.
    assert_eq!(key_ids(&client), [key_id.to_owned()]);
    assert_eq!(describe(&client, key_id)["KeyState"], "Enabled");
    assert_eq!(version_ids(&client, key_id).len(), 1);
    assert_eq!(unseal(&client, blob).unwrap().0, FIXTURE_TEXT);
    drop(client);

    // Through the C ABI: KMS_STATUS_KEYSTORE_IO, "KeyStore.IOError".
    let mut handle: *mut kms_client = null_mut();
    let opened = ffi_open_keep(&with_key(&store, key, false), Some(&mut handle));
    assert_eq!(opened.status, kms_status::Ok, "{}", opened.message);
    let mut new_key: *mut c_char = null_mut();
    // SAFETY: kms_error is plain data; all zeroes is a valid value.
    let mut error: kms_error = unsafe { std::mem::zeroed() };
    // SAFETY: a live client; writable outputs.
    let status = unsafe {
        kms_create_key(
            handle,
            null(),
            null(),
            null(),
            null(),
            &mut new_key,
            &mut error,
        )
    };
    // SAFETY: a live client, freed once.
    unsafe { kms_client_free(handle) };
    assert_eq!(status, kms_status::KeystoreIo);
    assert_eq!(c_text(&error.code), "KeyStore.IOError");
    assert_eq!(error.http_status, 500);
    assert!(new_key.is_null(), "no output on failure");
    assert_unchanged(&before, &listing(dir), "kms_create_key");

    // No store can be created there.
    refused(
        &with_key(&dir.join("other.kms"), key, true),
        ErrorKind::KeyStoreIo,
        "creating a store in a read-only folder",
    );
    assert_unchanged(&before, &listing(dir), "creating a store");
}

#[test]
fn worker_read_only_folder() {
    let Some(w) = Worker::from_env("worker_read_only_folder") else {
        return;
    };
    check_read_only_folder(&w.dir, &w.key, &w.key_id, &w.blob);
}

/// The bug: in a folder its user may not write, with no `-wal` and `-shm` there
/// (the usual state: the last client to close removes them), SQLite cannot make
/// the `-shm` that WAL mode needs, even for reading (SQLITE_READONLY_DIRECTORY),
/// and the open fails with `KeyStore.IOError` "attempt to write a readonly
/// database". The v1 store opened there for reading; the store's own
/// documentation (`maintain_for_read`) expects a read-only store to serve reads.
#[test]
fn a_store_in_a_read_only_folder_opens_but_changes_fail_with_io_error() {
    let f = fixture();
    let dir = temp_dir("read-only");
    let store = dir.join("store.kms");
    write_file(&store, &f.bytes, 0o600);
    let case = "a read-only folder, no -wal or -shm";
    if is_root() {
        // uid 65534 owns the store; root keeps the folder (0755).
        chown(&store, NOBODY, NOBODY);
        let before = listing(dir.path());
        run_worker(
            "worker_read_only_folder",
            RunAs::Nobody,
            &[
                (WORKER_DIR_VAR, dir.path().display().to_string()),
                (WORKER_KEY_VAR, hex(&f.key)),
                (WORKER_KEY_ID_VAR, f.key_id.clone()),
                (WORKER_BLOB_VAR, hex(&f.blob)),
            ],
        );
        assert_unchanged(&before, &listing(dir.path()), case);
    } else {
        set_mode(dir.path(), 0o555);
        assert!(
            std::fs::File::create(dir.join("probe")).is_err(),
            "this user can still create files in a folder of mode 0555 (a \
             capability such as CAP_DAC_OVERRIDE?); the test cannot make a \
             folder read-only"
        );
        let before = listing(dir.path());
        check_read_only_folder(dir.path(), &f.key, &f.key_id, &f.blob);
        assert_unchanged(&before, &listing(dir.path()), case);
        set_mode(dir.path(), 0o755);
    }
    assert_eq!(std::fs::read(&store).unwrap(), f.bytes, "{case}");
}

/// What a user who owns the store file but may not write in its folder sees
/// while another client has the store open (its `-wal` and `-shm` are there,
/// the user's too): nothing needs creating, so the store opens, decrypts and
/// takes changes; no other store can be created in the folder, and no file
/// appears or goes. Returns the key it made.
fn check_read_only_folder_in_use(dir: &Path, key: &[u8], key_id: &str, blob: &[u8]) -> String {
    let store = dir.join("store.kms");
    let before: Vec<String> = names(&listing(dir))
        .into_iter()
        .map(str::to_owned)
        .collect();
    let client = open(
        &with_key(&store, key, false),
        "a store in use in a read-only folder",
    );
    assert_eq!(unseal(&client, blob).unwrap().0, FIXTURE_TEXT);
    assert_eq!(describe(&client, key_id)["KeyState"], "Enabled");
    let new_key = client
        .create_key(&Default::default())
        .expect("a change, with the -wal there")
        .value
        .key_id;
    client
        .create_alias("alias/read-only-folder", &new_key)
        .expect("a change, with the -wal there");
    drop(client);
    let client = fresh(&store, key);
    let mut keys = key_ids(&client);
    keys.sort();
    let mut expected = vec![key_id.to_owned(), new_key.clone()];
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(aliases(&client)["alias/read-only-folder"], new_key);
    drop(client);
    refused(
        &with_key(&dir.join("other.kms"), key, true),
        ErrorKind::KeyStoreIo,
        "creating a store in a read-only folder",
    );
    assert_eq!(names(&listing(dir)), before, "no file appeared or went");
    new_key
}

#[test]
fn worker_read_only_folder_in_use() {
    let Some(w) = Worker::from_env("worker_read_only_folder_in_use") else {
        return;
    };
    let new_key = check_read_only_folder_in_use(&w.dir, &w.key, &w.key_id, &w.blob);
    report(&format!("NEW {new_key}"));
}

#[test]
fn a_store_in_use_in_a_read_only_folder_opens_and_takes_changes() {
    let f = fixture();
    let dir = temp_dir("read-only-in-use");
    let store = dir.join("store.kms");
    write_file(&store, &f.bytes, 0o600);
    if is_root() {
        chown(&store, NOBODY, NOBODY);
    }
    // Another client of the store, here a connection of this test, keeps its -wal
    // and -shm there.
    let holder = sql(&store);
    let keys: i64 = holder
        .query_row("SELECT count(*) FROM localkms_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keys, 1);
    for suffix in ["-wal", "-shm"] {
        let path = sidecar(&store, suffix);
        assert!(path.exists(), "{} is there", path.display());
        if is_root() {
            // SQLite, run by root, gives them the database's owner already.
            chown(&path, NOBODY, NOBODY);
        }
    }
    let new_key = if is_root() {
        let lines = run_worker(
            "worker_read_only_folder_in_use",
            RunAs::Nobody,
            &[
                (WORKER_DIR_VAR, dir.path().display().to_string()),
                (WORKER_KEY_VAR, hex(&f.key)),
                (WORKER_KEY_ID_VAR, f.key_id.clone()),
                (WORKER_BLOB_VAR, hex(&f.blob)),
            ],
        );
        lines
            .iter()
            .find_map(|l| l.strip_prefix("NEW "))
            .unwrap_or_else(|| panic!("the worker made no key: {lines:?}"))
            .to_owned()
    } else {
        set_mode(dir.path(), 0o555);
        assert!(
            std::fs::File::create(dir.join("probe")).is_err(),
            "this user can still create files in a folder of mode 0555; the test \
             cannot make a folder read-only"
        );
        let new_key = check_read_only_folder_in_use(dir.path(), &f.key, &f.key_id, &f.blob);
        set_mode(dir.path(), 0o755);
        new_key
    };
    drop(holder);
    settle(&store);
    let client = fresh(&store, &f.key);
    assert_eq!(aliases(&client)["alias/read-only-folder"], new_key);
    assert_eq!(unseal(&client, &f.blob).unwrap().0, FIXTURE_TEXT);
}

// ---------------------------------------------------------------------------
// File modes whatever the umask
// ---------------------------------------------------------------------------

/// Phase `create`: makes `store.kms` (Rust API) and `other.kms` (C ABI) with the
/// umask given. Phase `use`: changes both stores while the parent holds them open
/// (so the `-wal` and `-shm` this process's connections make stay), and checks
/// those files.
#[test]
fn worker_modes() {
    let Some(w) = Worker::from_env("worker_modes") else {
        return;
    };
    // SAFETY: umask cannot fail; this process runs this one test only.
    unsafe { libc::umask(w.umask as libc::mode_t) };
    let store = w.dir.join("store.kms");
    let other = w.dir.join("other.kms");
    match w.phase.as_str() {
        "create" => {
            let client = open(&with_key(&store, &w.key, true), "create");
            let key_id = new_key(&client);
            client.rotate_key(&key_id).unwrap();
            client.create_alias("alias/modes", &key_id).unwrap();
            drop(client);
            let created = ffi_open(&with_key(&other, &w.key, true));
            assert_eq!(created.status, kms_status::Ok, "{}", created.message);
            for path in [&store, &other] {
                assert_eq!(
                    mode_of(path),
                    0o600,
                    "{} with umask {:03o}",
                    path.display(),
                    w.umask
                );
            }
        }
        "use" => {
            for path in [&store, &other] {
                for suffix in ["-wal", "-shm"] {
                    assert!(
                        !sidecar(path, suffix).exists(),
                        "{}{suffix} is there before this process makes it",
                        path.display()
                    );
                }
            }
            let client = open(&with_key(&store, &w.key, false), "use");
            let key_id = new_key(&client);
            client.create_alias("alias/modes-2", &key_id).unwrap();
            drop(client);
            let opened = ffi_open(&with_key(&other, &w.key, false));
            assert_eq!(opened.status, kms_status::Ok, "{}", opened.message);
            for db in [&store, &other] {
                for path in [db.clone(), sidecar(db, "-wal"), sidecar(db, "-shm")] {
                    assert_eq!(
                        mode_of(&path),
                        0o600,
                        "{} with umask {:03o}",
                        path.display(),
                        w.umask
                    );
                }
            }
        }
        phase => panic!("worker_modes: unknown phase {phase:?}"),
    }
}

#[test]
fn files_the_library_creates_are_0600_whatever_the_umask() {
    for umask in [0o000, 0o022, 0o077, 0o277, 0o777] {
        let dir = temp_dir(&format!("umask-{umask:03o}"));
        let key = new_master_key();
        let vars = |phase: &str| {
            [
                (WORKER_DIR_VAR, dir.path().display().to_string()),
                (WORKER_KEY_VAR, hex(&key)),
                (WORKER_UMASK_VAR, format!("{umask:o}")),
                (WORKER_PHASE_VAR, phase.to_owned()),
            ]
        };
        let store = dir.join("store.kms");
        let other = dir.join("other.kms");
        run_worker("worker_modes", RunAs::Myself, &vars("create"));
        settle(&store);
        settle(&other);
        let found = listing(dir.path());
        assert_eq!(
            names(&found),
            ["other.kms", "store.kms"],
            "umask {umask:03o}"
        );
        for (name, entry) in &found {
            assert_eq!(entry.mode, 0o600, "{name} with umask {umask:03o}");
        }

        // Both stores held open here, as another process would: the -wal and -shm
        // the worker's connections make stay for the checks.
        let locks = [SharedLock::take(&store), SharedLock::take(&other)];
        run_worker("worker_modes", RunAs::Myself, &vars("use"));
        let found = listing(dir.path());
        assert_eq!(
            names(&found),
            [
                "other.kms",
                "other.kms-shm",
                "other.kms-wal",
                "store.kms",
                "store.kms-shm",
                "store.kms-wal"
            ],
            "umask {umask:03o}"
        );
        for (name, entry) in &found {
            assert_eq!(entry.mode, 0o600, "{name} with umask {umask:03o}");
        }
        drop(locks);

        let client = fresh(&store, &key);
        assert_eq!(aliases(&client).len(), 2);
        drop(client);
        settle(&store);
        settle(&other);
        assert_eq!(
            names(&listing(dir.path())),
            ["other.kms", "store.kms"],
            "umask {umask:03o}: nothing but the stores is left"
        );
    }
}

// ---------------------------------------------------------------------------
// Huge files, FIFOs, folders and symlinks: refused at once, never followed
// ---------------------------------------------------------------------------

/// Runs `f` on a thread of its own and fails if it has not returned within
/// `seconds` (a FIFO opened without O_NONBLOCK blocks until a writer comes).
fn within_seconds<T: Send + 'static>(
    seconds: u64,
    case: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(seconds))
        .unwrap_or_else(|_| panic!("{case}: still blocked after {seconds} s"))
}

fn mkfifo(path: &Path) {
    let c_path = CString::new(path.as_os_str().as_bytes()).expect("no NUL in the path");
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
    assert_eq!(
        rc,
        0,
        "mkfifo {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
}

/// A sparse file of `len` bytes and mode 0600: no disk space is used.
fn sparse_file(path: &Path, len: u64) {
    let file = std::fs::File::create(path).expect("create a sparse file");
    file.set_len(len).expect("set_len");
    set_mode(path, 0o600);
}

/// Size, inode and modification time: enough to tell that a huge file (which the
/// `listing` helpers would read whole) was left alone.
fn stat_of(path: &Path) -> (u64, u64, i64, i64) {
    let meta = std::fs::symlink_metadata(path).expect("stat");
    (meta.size(), meta.ino(), meta.mtime(), meta.mtime_nsec())
}

#[test]
fn a_huge_file_is_refused_without_being_read() {
    const HUGE: u64 = 8 << 30;
    let key = new_master_key();
    // Not SQLite: refused from its first bytes.
    let dir = temp_dir("huge-store");
    let store = dir.join("store.kms");
    sparse_file(&store, HUGE);
    let before = stat_of(&store);
    for create in [false, true] {
        let case = format!("an 8 GiB sparse file (create {create})");
        let started = Instant::now();
        let error = refused(
            &with_key(&store, &key, create),
            ErrorKind::KeyStoreCorrupt,
            &case,
        );
        assert!(
            error.message().contains("not an SQLite database"),
            "{case}: {}",
            error.message()
        );
        // Reading 8 GiB would take far longer than refusing it.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{case}: took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(stat_of(&store), before, "the file is left alone");
    assert_eq!(names_only(dir.path()), ["store.kms"], "nothing is created");

    // A real store's first page, then a hole: SQLite reads the pages its header
    // names, never the whole file, and finds them damaged.
    let f = fixture();
    let dir = temp_dir("huge-sqlite");
    let store = dir.join("store.kms");
    write_file(&store, &f.bytes[..page_size(&f.bytes)], 0o600);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&store)
        .unwrap()
        .set_len(HUGE)
        .unwrap();
    let before = stat_of(&store);
    for create in [false, true] {
        let case = format!("a store's first page and a hole, 8 GiB (create {create})");
        let started = Instant::now();
        let error = Client::open(&with_key(&store, &f.key, create))
            .err()
            .unwrap_or_else(|| panic!("{case}: opened"));
        assert!(
            [ErrorKind::KeyStoreCorrupt, ErrorKind::KeyStoreIo].contains(&error.kind()),
            "{case}: {error}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{case}: took {:?}",
            started.elapsed()
        );
        assert_eq!(stat_of(&store), before, "{case}: the file is left alone");
        assert_eq!(names_only(dir.path()), ["store.kms"], "{case}");
    }
}

/// Checks that opening a store whose path or `-wal` / `-shm` is not a regular
/// file is IOError at once (within 10 s: a FIFO opened for reading without
/// O_NONBLOCK blocks until a writer comes), through both APIs, with or without
/// create_if_missing, naming the refused file and changing nothing.
fn refused_at_once(dir: &Path, store: &Path, key: &[u8], refused_file: &Path, case: &str) {
    let (dir_in, store_in, key_in, case_in) = (
        dir.to_owned(),
        store.to_owned(),
        key.to_vec(),
        case.to_owned(),
    );
    let error = within_seconds(10, case, move || {
        refused_leaving_dir_unchanged(
            &dir_in,
            &with_key(&store_in, &key_in, false),
            ErrorKind::KeyStoreIo,
            &case_in,
        )
    });
    assert!(
        error.message().contains("not a regular file"),
        "{case}: {}",
        error.message()
    );
    assert!(
        error
            .message()
            .contains(&refused_file.display().to_string()),
        "{case}: the message names {}: {}",
        refused_file.display(),
        error.message()
    );
}

#[test]
fn a_fifo_or_folder_as_the_store_or_its_wal_or_shm_is_io_error_at_once() {
    let key = new_master_key();
    let dir = temp_dir("fifo-store");
    let store = dir.join("store.kms");
    mkfifo(&store);
    refused_at_once(dir.path(), &store, &key, &store, "a FIFO at the store path");

    let f = fixture();
    for suffix in ["-wal", "-shm"] {
        for what in ["FIFO", "folder"] {
            let (dir, store) = placed(&format!("{what}{suffix}"), &f.bytes);
            let path = sidecar(&store, suffix);
            if what == "FIFO" {
                mkfifo(&path);
            } else {
                std::fs::create_dir(&path).unwrap();
            }
            refused_at_once(
                dir.path(),
                &store,
                &f.key,
                &path,
                &format!("a {what} at {suffix}"),
            );
            assert_eq!(std::fs::read(&store).unwrap(), f.bytes);
        }
    }
}

#[test]
fn a_symlink_as_the_store_or_its_wal_or_shm_is_io_error_and_its_target_untouched() {
    let f = fixture();
    let elsewhere = temp_dir("symlink-targets");

    // The store path a symlink to a real store elsewhere.
    let target = elsewhere.join("real.kms");
    write_file(&target, &f.bytes, 0o600);
    let dir = temp_dir("symlink-store");
    let store = dir.join("store.kms");
    std::os::unix::fs::symlink(&target, &store).unwrap();
    let targets_before = listing(elsewhere.path());
    refused_at_once(
        dir.path(),
        &store,
        &f.key,
        &store,
        "a symlink at the store path",
    );
    assert_unchanged(
        &targets_before,
        &listing(elsewhere.path()),
        "the target of a symlink at the store path",
    );

    // A dangling symlink there: create_if_missing does not create its target.
    let would_be = elsewhere.join("would-be.kms");
    let dir = temp_dir("symlink-dangling-store");
    let store = dir.join("store.kms");
    std::os::unix::fs::symlink(&would_be, &store).unwrap();
    refused_at_once(
        dir.path(),
        &store,
        &f.key,
        &store,
        "a dangling symlink at the store path",
    );
    assert!(!would_be.exists(), "the symlink's target was created");
    assert_unchanged(
        &targets_before,
        &listing(elsewhere.path()),
        "the folder of a dangling symlink's target",
    );

    // -wal and -shm: symlinks to a file elsewhere, or dangling.
    for suffix in ["-wal", "-shm"] {
        for dangling in [false, true] {
            let (dir, store) = placed(&format!("symlink{suffix}"), &f.bytes);
            let victim = elsewhere.join(&format!("victim{suffix}-{dangling}"));
            if !dangling {
                write_file(&victim, b"not the library's", 0o600);
            }
            let path = sidecar(&store, suffix);
            std::os::unix::fs::symlink(&victim, &path).unwrap();
            let targets_before = listing(elsewhere.path());
            let case = format!(
                "a {}symlink at {suffix}",
                if dangling { "dangling " } else { "" }
            );
            refused_at_once(dir.path(), &store, &f.key, &path, &case);
            assert_unchanged(&targets_before, &listing(elsewhere.path()), &case);
            assert_eq!(victim.exists(), !dangling, "{case}");
            assert_eq!(std::fs::read(&store).unwrap(), f.bytes, "{case}");
        }
    }
}

#[test]
fn a_master_key_file_that_is_not_a_regular_file_is_io_error_at_once() {
    let f = fixture();
    let (dir, store) = placed("fifo-key", &f.bytes);

    let fifo = dir.join("master.key");
    mkfifo(&fifo);
    let folder = dir.join("key-folder");
    std::fs::create_dir(&folder).unwrap();
    set_mode(&folder, 0o700);
    for (what, key_file) in [
        ("a FIFO", fifo),
        ("a folder", folder),
        ("a character device", PathBuf::from("/dev/zero")),
    ] {
        let before = listing(dir.path());
        let case = format!("{what} as the master-key file");
        let (store, case_in) = (store.clone(), case.clone());
        let error = within_seconds(10, &case, move || {
            refused(
                &with_key_file(&store, &key_file, false),
                ErrorKind::KeyStoreIo,
                &case_in,
            )
        });
        assert!(
            error.message().contains("not a regular file"),
            "{case}: {}",
            error.message()
        );
        assert_unchanged(&before, &listing(dir.path()), &case);
    }
}

#[test]
fn a_master_key_file_over_the_size_limit_is_refused_unread() {
    let f = fixture();
    let dir = temp_dir("huge-key");
    let store = dir.join("store.kms");
    write_file(&store, &f.bytes, 0o600);

    // Sparse: 8 GiB that a reader reading to the end would have to go through.
    let huge = dir.join("huge.key");
    sparse_file(&huge, 8 << 30);
    let before = stat_of(&huge);
    let started = std::time::Instant::now();
    let error = refused(
        &with_key_file(&store, &huge, false),
        ErrorKind::InvalidParameter,
        "an 8 GiB sparse master-key file",
    );
    assert!(
        error
            .message()
            .contains(&MAX_MASTER_KEY_FILE_LEN.to_string()),
        "the message names the limit: {}",
        error.message()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(stat_of(&huge), before);

    // Just over the limit, and just at it (the key in hex, then white space).
    let mut content = hex(&f.key).into_bytes();
    content.resize(MAX_MASTER_KEY_FILE_LEN as usize + 1, b' ');
    let over = dir.join("over.key");
    write_file(&over, &content, 0o600);
    refused(
        &with_key_file(&store, &over, false),
        ErrorKind::InvalidParameter,
        "a master-key file one byte over the limit",
    );
    content.pop();
    let at = dir.join("at.key");
    write_file(&at, &content, 0o600);
    let client = open(
        &with_key_file(&store, &at, false),
        "a master-key file of exactly the limit",
    );
    assert_eq!(unseal(&client, &f.blob).unwrap().0, FIXTURE_TEXT);
}

// ---------------------------------------------------------------------------
// Defects these tests found (fixed): they say what the library must do, and were
// ignored until it did.
// ---------------------------------------------------------------------------

/// The bug: `SqliteLocation::connect` runs `PRAGMA journal_mode = WAL` on any
/// SQLite file before `Store::open_database` looks for `localkms_meta`. So a
/// refused open (no `create_if_missing`) writes an empty database's first page
/// into an empty file, and switches another program's database to WAL mode,
/// saying "does not exist; set create_if_missing" of a file that exists. With
/// `create_if_missing`, `Database::create` then writes the localkms schema into
/// that database (and the open succeeds, on a store that is someone else's
/// database), or a new `localkms_meta` with a new salt into a store whose
/// metadata table is damaged (and then the open fails on the old rows).
#[test]
fn a_refused_open_changes_no_file() {
    let key = new_master_key();

    // An empty file, without create_if_missing: refused, and still empty.
    let (dir, store) = placed("bug-empty", b"");
    let before = listing(dir.path());
    refused(
        &with_key(&store, &key, false),
        ErrorKind::KeyStoreIo,
        "an empty file",
    );
    assert_unchanged(&before, &listing(dir.path()), "an empty file");

    // Another program's SQLite database (rollback journal): not a localkms
    // store, refused with or without create_if_missing, not touched.
    let (dir, store) = placed("bug-foreign", b"");
    std::fs::remove_file(&store).unwrap();
    {
        let conn = Connection::open(&store).unwrap();
        conn.execute_batch(
            "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('not a key store');",
        )
        .unwrap();
    }
    set_mode(&store, 0o600);
    refused_leaving_dir_unchanged(
        dir.path(),
        &with_key(&store, &key, false),
        ErrorKind::KeyStoreCorrupt,
        "another program's SQLite database",
    );

    // A store whose schema is damaged (its metadata table under another name):
    // Corrupted, and not given a new metadata table (a new salt) by
    // create_if_missing.
    let f = fixture();
    let (dir, store) = placed("bug-schema", &f.bytes);
    let damaged = changed_by_sql(
        &f.bytes,
        "ALTER TABLE localkms_meta RENAME TO localkms_damaged",
    );
    assert_corrupted(
        dir.path(),
        &store,
        &f.key,
        &damaged,
        "the metadata table renamed",
    );
}

/// The bug: `db_error` in `backend/sqlite.rs` makes `KeyStore.Corrupted` only of
/// SQLITE_CORRUPT and SQLITE_NOTADB; damage that SQLite reports otherwise ("no
/// such table", "no such column", a value of the wrong type, read through
/// rusqlite) comes out as `KeyStore.IOError`, and a store with no metadata row
/// as "does not exist". And `Store::open_database` refuses only a format newer
/// than 1: format 0 or a negative one, never written, opens.
#[test]
fn damage_to_the_schema_or_the_metadata_is_corrupted() {
    let f = fixture();
    let (dir, store) = placed("bug-metadata", &f.bytes);
    let id = &f.key_id;
    for (change, case) in [
        ("DELETE FROM localkms_meta".to_owned(), "no metadata row"),
        ("DROP TABLE localkms_keys".to_owned(), "no keys table"),
        (
            "ALTER TABLE localkms_keys RENAME COLUMN sealed TO other".to_owned(),
            "a column renamed",
        ),
        (
            "UPDATE localkms_meta SET format = 'one'".to_owned(),
            "a format that is text",
        ),
        (
            format!("UPDATE localkms_keys SET sealed = 'text' WHERE key_id = '{id}'"),
            "a sealed row that is text",
        ),
        ("UPDATE localkms_meta SET format = 0".to_owned(), "format 0"),
        (
            "UPDATE localkms_meta SET format = -1".to_owned(),
            "format -1",
        ),
    ] {
        let bad = changed_by_sql(&f.bytes, &change);
        assert_corrupted(dir.path(), &store, &f.key, &bad, case);
    }
}
