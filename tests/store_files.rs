//! Store files on disk, through the Rust API (`Client::open`) and the C ABI
//! (`kms_client_open`): creating a store, every kind of change surviving into a
//! new client, bad files (each with its exact status, every file in the folder
//! left byte-for-byte as it was), unreadable stores and read-only folders, the
//! mode of the files the library creates whatever the umask, and the temporary
//! files a crashed writer leaves behind.
//!
//! Root ignores permission bits, and CI runs as root. The cases that need a user
//! who can be refused therefore run, when this process is root, in a child
//! process: this test binary again, started as uid/gid 65534 (`nobody`) and told
//! by the `LOCALKMS_STORE_FILES_WORKER` variable which `worker_*` test to run
//! (every `worker_*` test returns at once when the variable does not name it).
//! When this process is not root, the same checks run in-process on files made
//! unreadable or folders made read-only with chmod. The umask is process-wide,
//! so the mode checks set it in a child process too. None of these cases is ever
//! skipped: when the user cannot be switched, the test fails and says why.

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::ptr::{null, null_mut, NonNull};
use std::sync::atomic::{AtomicUsize, Ordering};

use localkms::ffi::{
    kms_client, kms_client_free, kms_client_open, kms_create_key, kms_error, kms_open_options,
    kms_status, kms_status_code, kms_string_free,
};
use localkms::keystore::master_key::MAX_MASTER_KEY_FILE_LEN;
use localkms::keystore::MAX_STORE_FILE_LEN;
use localkms::service::{Client, CreateKeyRequest, DecryptRequest, EncryptRequest, OpenOptions};
use localkms::{Error, ErrorKind};
use serde_json::Value;

/// Length of the plain header of a store file (see `src/keystore/sealed.rs`).
const HEADER_LEN: usize = 75;

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

/// A fresh folder, mode 0755, removed (with whatever is in it) on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = temp_root().join(format!(
            "localkms-store-files-{}-{n}-{label}",
            std::process::id()
        ));
        if path.exists() {
            make_removable(&path);
            let _ = std::fs::remove_dir_all(&path);
        }
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        set_mode(&path, 0o755);
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        make_removable(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Gives back write access to `dir` and the folders in it (a test may have made
/// them read-only), so that they can be removed.
fn make_removable(dir: &Path) {
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                make_removable(&entry.path());
            }
        }
    }
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
    }
}

fn with_key_file<'a>(path: &'a Path, key_file: &'a Path, create: bool) -> OpenOptions<'a> {
    OpenOptions {
        keystore_path: Some(path),
        master_key: None,
        master_key_file: Some(key_file),
        create_if_missing: create,
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

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn describe(client: &Client, key_id: &str) -> Value {
    json(&client.describe_key(key_id).expect("describe_key"))["KeyMetadata"].clone()
}

fn key_ids(client: &Client) -> Vec<String> {
    let doc = json(&client.list_keys().expect("list_keys"));
    doc["Keys"]["Key"]
        .as_array()
        .expect("Keys.Key is a list")
        .iter()
        .map(|k| k["KeyId"].as_str().expect("a KeyId").to_owned())
        .collect()
}

fn version_ids(client: &Client, key_id: &str) -> Vec<String> {
    let doc = json(&client.list_key_versions(key_id).expect("list_key_versions"));
    doc["KeyVersions"]["KeyVersion"]
        .as_array()
        .expect("KeyVersions.KeyVersion is a list")
        .iter()
        .map(|v| {
            v["KeyVersionId"]
                .as_str()
                .expect("a KeyVersionId")
                .to_owned()
        })
        .collect()
}

fn aliases(client: &Client) -> BTreeMap<String, String> {
    let doc = json(&client.list_aliases().expect("list_aliases"));
    doc["Aliases"]["Alias"]
        .as_array()
        .expect("Aliases.Alias is a list")
        .iter()
        .map(|a| {
            (
                a["AliasName"].as_str().expect("an AliasName").to_owned(),
                a["KeyId"].as_str().expect("a KeyId").to_owned(),
            )
        })
        .collect()
}

/// AdvanceEncrypt: the blob and the version that made it.
fn seal(client: &Client, key_id: &str, plaintext: &[u8]) -> (Vec<u8>, String) {
    let response = client
        .advance_encrypt(&EncryptRequest {
            key_id,
            plaintext,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("advance_encrypt with {key_id}: {e}"));
    (response.ciphertext_blob, response.key_version_id)
}

/// AdvanceDecrypt: the plaintext and the version that decrypted.
fn unseal(client: &Client, blob: &[u8]) -> localkms::Result<(Vec<u8>, String)> {
    client
        .advance_decrypt(&DecryptRequest {
            ciphertext_blob: blob,
            ..Default::default()
        })
        .map(|r| (r.plaintext.to_vec(), r.key_version_id))
}

/// The generation counter in a store file's header (+1 on every write).
fn generation(store: &Path) -> u64 {
    let bytes = std::fs::read(store).expect("read the store");
    u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"))
}

/// CRC-32 (IEEE, as zlib), to forge a header whose checksum is right.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A valid store (one key, alias/fixture), its bytes, and a blob made with it.
struct Fixture {
    key: [u8; 32],
    bytes: Vec<u8>,
    key_id: String,
    blob: Vec<u8>,
}

const FIXTURE_TEXT: &[u8] = b"made before the damage";

fn fixture() -> Fixture {
    let dir = TempDir::new("fixture");
    let store = dir.join("store.kms");
    let key = new_master_key();
    let client = open(&with_key(&store, &key, true), "fixture");
    let key_id = client.create_key(&Default::default()).expect("create_key");
    client
        .create_alias("alias/fixture", &key_id)
        .expect("create_alias");
    let (blob, _) = seal(&client, &key_id, FIXTURE_TEXT);
    drop(client);
    let bytes = std::fs::read(&store).expect("read the fixture store");
    assert!(
        bytes.len() > HEADER_LEN + 16,
        "a store with a key has a sealed part"
    );
    Fixture {
        key,
        bytes,
        key_id,
        blob,
    }
}

/// Places `bytes` as `store.kms` (mode 0600) alone in a fresh folder.
fn placed(label: &str, bytes: &[u8]) -> (TempDir, PathBuf) {
    let dir = TempDir::new(label);
    let store = dir.join("store.kms");
    write_file(&store, bytes, 0o600);
    (dir, store)
}

/// Checks a damaged store file: Corrupted, both APIs, both create modes, nothing
/// changed. Writes `bytes` over `store` first.
fn assert_corrupted(dir: &Path, store: &Path, key: &[u8], bytes: &[u8], case: &str) -> Error {
    write_file(store, bytes, 0o600);
    refused_leaving_dir_unchanged(
        dir,
        &with_key(store, key, false),
        ErrorKind::KeyStoreCorrupt,
        case,
    )
}

// ---------------------------------------------------------------------------
// Creating a store
// ---------------------------------------------------------------------------

#[test]
fn a_missing_store_is_created_only_with_create_if_missing() {
    let dir = TempDir::new("create");
    let store = dir.join("keys.kms");
    let key = new_master_key();

    // Without create_if_missing: IOError, and nothing is created (no lock file
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

    // With create_if_missing: an empty store, mode 0600, and its lock beside it.
    let client = open(&with_key(&store, &key, true), "create");
    assert_eq!(client.keystore_path(), Some(store.as_path()));
    assert_eq!(key_ids(&client), Vec::<String>::new());
    drop(client);
    assert_eq!(names(&listing(dir.path())), ["keys.kms", "keys.kms.lock"]);
    assert_eq!(mode_of(&store), 0o600);
    assert_eq!(mode_of(&dir.join("keys.kms.lock")), 0o600);
    let bytes = std::fs::read(&store).unwrap();
    assert_eq!(&bytes[..8], b"LOCALKMS", "the magic");
    assert_eq!(&bytes[8..10], &[1, 0], "format version 1");

    // Opening it again (with or without create_if_missing) changes nothing.
    let before = listing(dir.path());
    for create in [false, true] {
        let client = open(&with_key(&store, &key, create), "reopen");
        assert_eq!(key_ids(&client), Vec::<String>::new());
        drop(client);
        assert_unchanged(&before, &listing(dir.path()), "opening an existing store");
    }
}

#[test]
fn kms_client_open_creates_a_store_whose_keys_the_rust_api_sees() {
    let dir = TempDir::new("create-ffi");
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
    assert_eq!(
        names(&listing(dir.path())),
        ["keys.kms", "keys.kms.lock", "master.key"]
    );
    assert_eq!(mode_of(&store), 0o600);
    assert_eq!(mode_of(&dir.join("keys.kms.lock")), 0o600);

    // The same store through the Rust API, with the key as bytes this time.
    let client = open(&with_key(&store, &key, false), "reopen");
    assert_eq!(key_ids(&client), [key_id_text.as_str()]);
    assert_eq!(
        describe(&client, &key_id_text)["Description"],
        "made through the C ABI"
    );
}

// ---------------------------------------------------------------------------
// Every kind of change is on disk when the call returns
// ---------------------------------------------------------------------------

/// Opens the store in a new client, as another process would.
fn fresh(store: &Path, key: &[u8]) -> Client {
    open(&with_key(store, key, false), "a new client")
}

#[test]
fn every_change_is_durable_when_the_call_returns() {
    let dir = TempDir::new("persist");
    let store = dir.join("keys.kms");
    let key = new_master_key();
    let writer = open(&with_key(&store, &key, true), "create");
    let mut last_generation = generation(&store);
    // Each change must have rewritten the file before it returned.
    let mut written = |what: &str| {
        let now = generation(&store);
        assert!(
            now > last_generation,
            "{what}: the store file was not rewritten (generation {now})"
        );
        last_generation = now;
    };

    // CreateKey: AES (two specs) and EXTERNAL.
    let aes = writer
        .create_key(&CreateKeyRequest {
            description: Some("the main key"),
            ..Default::default()
        })
        .unwrap();
    written("create_key AES_256");
    let aes128 = writer
        .create_key(&CreateKeyRequest {
            key_spec: Some("Aliyun_AES_128"),
            ..Default::default()
        })
        .unwrap();
    written("create_key AES_128");
    let ext = writer
        .create_key(&CreateKeyRequest {
            origin: Some("EXTERNAL"),
            ..Default::default()
        })
        .unwrap();
    written("create_key EXTERNAL");
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
    written("import_key_material");
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
    let aes_v2 = writer.rotate_key(&aes).unwrap();
    written("rotate_key");
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
    written("update_rotation_policy");
    {
        let m = describe(&fresh(&store, &key), &aes);
        assert_eq!(m["AutomaticRotation"], "Enabled", "{m}");
        assert_eq!(m["RotationInterval"], "2592000s", "{m}");
        assert!(m.get("NextRotationDate").is_some(), "{m}");
    }

    // CreateAlias, UpdateAlias, DeleteAlias.
    writer.create_alias("alias/main", &aes).unwrap();
    written("create_alias");
    writer.create_alias("alias/ext", &ext).unwrap();
    written("create_alias");
    assert_eq!(
        aliases(&fresh(&store, &key)),
        BTreeMap::from([
            ("alias/ext".to_owned(), ext.clone()),
            ("alias/main".to_owned(), aes.clone()),
        ])
    );
    writer.update_alias("alias/main", &aes128).unwrap();
    written("update_alias");
    {
        let c = fresh(&store, &key);
        assert_eq!(aliases(&c)["alias/main"], aes128);
        assert_eq!(seal(&c, "alias/main", b"x").1, aes128_v1);
    }
    writer.delete_alias("alias/ext").unwrap();
    written("delete_alias");
    assert_eq!(
        aliases(&fresh(&store, &key)),
        BTreeMap::from([("alias/main".to_owned(), aes128.clone())])
    );

    // DisableKey, EnableKey.
    writer.disable_key(&aes).unwrap();
    written("disable_key");
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
    written("enable_key");
    assert_eq!(describe(&fresh(&store, &key), &aes)["KeyState"], "Enabled");

    // ScheduleKeyDeletion, CancelKeyDeletion.
    writer.schedule_key_deletion(&aes128, 7).unwrap();
    written("schedule_key_deletion");
    {
        let m = describe(&fresh(&store, &key), &aes128);
        assert_eq!(m["KeyState"], "PendingDeletion", "{m}");
        assert!(m.get("DeleteDate").is_some(), "{m}");
    }
    writer.cancel_key_deletion(&aes128).unwrap();
    written("cancel_key_deletion");
    {
        let m = describe(&fresh(&store, &key), &aes128);
        assert_eq!(m["KeyState"], "Enabled", "{m}");
        assert!(m.get("DeleteDate").is_none(), "{m}");
    }

    // A failed change writes nothing.
    let before = listing(dir.path());
    let error = writer.create_alias("alias/main", &aes).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AliasAlreadyExists);
    assert_unchanged(&before, &listing(dir.path()), "a refused change");

    // Finally, with the writer gone: everything is there, every blob decrypts.
    drop(writer);
    let c = fresh(&store, &key);
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
    assert_eq!(
        names(&listing(dir.path())),
        ["keys.kms", "keys.kms.lock"],
        "the folder holds the store and its lock, nothing else"
    );
    assert_eq!(mode_of(&store), 0o600);
    assert_eq!(mode_of(&dir.join("keys.kms.lock")), 0o600);
}

// ---------------------------------------------------------------------------
// Bad files: exact status, nothing changed
// ---------------------------------------------------------------------------

#[test]
fn empty_and_random_files_are_corrupted() {
    let key = new_master_key();
    let (dir, store) = placed("random", b"");
    assert_corrupted(dir.path(), &store, &key, b"", "an empty file");

    for len in [1usize, 8, 16, 74, 75, 76, 200, 4096] {
        let bytes: Vec<u8> = (0..len).map(|_| rand::random()).collect();
        assert_corrupted(
            dir.path(),
            &store,
            &key,
            &bytes,
            &format!("{len} random bytes"),
        );
    }
    let mut magic_then_noise = b"LOCALKMS".to_vec();
    magic_then_noise.extend((0..300).map(|_| rand::random::<u8>()));
    assert_corrupted(
        dir.path(),
        &store,
        &key,
        &magic_then_noise,
        "the magic and then random bytes",
    );
    assert_corrupted(dir.path(), &store, &key, &[0; 400], "400 zero bytes");
    assert_corrupted(dir.path(), &store, &key, b"{\"Keys\": []}\n", "a text file");

    // A folder where the store file should be.
    let dir = TempDir::new("folder-as-store");
    let store = dir.join("store.kms");
    std::fs::create_dir(&store).unwrap();
    refused_leaving_dir_unchanged(
        dir.path(),
        &with_key(&store, &key, false),
        ErrorKind::KeyStoreCorrupt,
        "a folder at the store path",
    );
}

#[test]
fn a_truncated_store_is_corrupted() {
    let f = fixture();
    let len = f.bytes.len();
    let (dir, store) = placed("truncated", &f.bytes);
    // The fixture itself opens.
    assert_eq!(
        unseal(
            &open(&with_key(&store, &f.key, false), "the whole file"),
            &f.blob
        )
        .unwrap()
        .0,
        FIXTURE_TEXT
    );
    for cut in [
        0,
        1,
        8,
        10,
        12,
        20,
        40,
        63,
        71,
        74,
        HEADER_LEN,
        HEADER_LEN + 1,
        HEADER_LEN + 15,
        HEADER_LEN + 16,
        len / 2,
        len - 16,
        len - 2,
        len - 1,
    ] {
        assert_corrupted(
            dir.path(),
            &store,
            &f.key,
            &f.bytes[..cut],
            &format!("truncated to {cut} of {len} bytes"),
        );
    }
    // And one byte too many.
    let mut longer = f.bytes.clone();
    longer.push(0);
    assert_corrupted(dir.path(), &store, &f.key, &longer, "one byte appended");
}

#[test]
fn a_flipped_bit_is_corrupted() {
    let f = fixture();
    let (dir, store) = placed("flipped", &f.bytes);
    // The sealed part (from byte 75 on, tag included): one bit in every byte.
    for i in HEADER_LEN..f.bytes.len() {
        let mut bad = f.bytes.clone();
        bad[i] ^= 1 << (i % 8);
        let error = assert_corrupted(
            dir.path(),
            &store,
            &f.key,
            &bad,
            &format!("bit {} of sealed byte {i}", i % 8),
        );
        assert!(
            !error.message().contains(&hex(&f.key)),
            "no key bytes in messages"
        );
    }
    // The header: every bit of every byte.
    for i in 0..HEADER_LEN {
        for bit in 0..8 {
            let mut bad = f.bytes.clone();
            bad[i] ^= 1 << bit;
            assert_corrupted(
                dir.path(),
                &store,
                &f.key,
                &bad,
                &format!("bit {bit} of header byte {i}"),
            );
        }
    }
    // The undamaged file still opens.
    write_file(&store, &f.bytes, 0o600);
    let client = open(&with_key(&store, &f.key, false), "undamaged");
    assert_eq!(unseal(&client, &f.blob).unwrap().0, FIXTURE_TEXT);
}

#[test]
fn a_newer_format_version_is_corrupted_and_says_so() {
    let f = fixture();
    let (dir, store) = placed("newer", &f.bytes);

    // Format version 2, nothing else touched (so the header checksum is stale).
    let mut v2 = f.bytes.clone();
    v2[8..10].copy_from_slice(&2u16.to_le_bytes());
    let error = assert_corrupted(dir.path(), &store, &f.key, &v2, "format version 2");
    assert!(
        error.message().contains("newer"),
        "the message says the file is newer: {}",
        error.message()
    );
    let ffi = ffi_open(&with_key(&store, &f.key, false));
    assert!(ffi.message.contains("newer"), "{}", ffi.message);

    // As a real newer writer would make it: the header checksum fixed.
    for version in [2u16, 3, 0x100, u16::MAX] {
        let mut newer = f.bytes.clone();
        newer[8..10].copy_from_slice(&version.to_le_bytes());
        let crc = crc32(&newer[..71]);
        newer[71..75].copy_from_slice(&crc.to_le_bytes());
        let error = assert_corrupted(
            dir.path(),
            &store,
            &f.key,
            &newer,
            &format!("format version {version} with a valid checksum"),
        );
        assert!(error.message().contains("newer"), "{}", error.message());
    }

    // Version 0 does not exist: damage, not a newer file.
    let mut v0 = f.bytes.clone();
    v0[8..10].copy_from_slice(&0u16.to_le_bytes());
    let crc = crc32(&v0[..71]);
    v0[71..75].copy_from_slice(&crc.to_le_bytes());
    let error = assert_corrupted(dir.path(), &store, &f.key, &v0, "format version 0");
    assert!(!error.message().contains("newer"), "{}", error.message());
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
            assert_unchanged(&before, &listing(dir.path()), &case);
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

// ---------------------------------------------------------------------------
// Unreadable stores and read-only folders
// ---------------------------------------------------------------------------

/// The arguments a parent gives a `worker_*` test through the environment.
struct Worker {
    dir: PathBuf,
    key: Vec<u8>,
    blob: Vec<u8>,
    key_id: String,
    umask: u32,
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
fn run_worker(name: &str, run_as: RunAs, vars: &[(&str, String)]) {
    let scratch = TempDir::new("worker-binary");
    let exe = runnable_test_binary(run_as, &scratch);
    let mut command = Command::new(&exe);
    command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(WORKER_VAR, name)
        .current_dir("/");
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
    let dir = TempDir::new("unreadable");
    let store = dir.join("store.kms");
    let key = new_master_key();
    let client = open(&with_key(&store, &key, true), "create");
    client.create_key(&Default::default()).unwrap();
    drop(client);
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

/// What a user who owns the store file but may not write in its folder sees:
/// the store opens and decrypts; every change is IOError and writes nothing;
/// no store can be created there.
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
    must_fail("create_alias", client.create_alias("alias/new", key_id));
    must_fail("disable_key", client.disable_key(key_id));
    must_fail(
        "update_rotation_policy",
        client.update_rotation_policy(key_id, true, Some("7d")),
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

    // No store can be created there (whether or not its lock file exists).
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

#[test]
fn a_store_in_a_read_only_folder_opens_but_changes_fail_with_io_error() {
    let f = fixture();
    // Twice: with the lock files there (the write itself fails) and without
    // them (taking the lock fails). `other.kms.lock` is the lock of a store the
    // worker then tries to create there.
    for with_lock in [true, false] {
        let dir = TempDir::new(if with_lock {
            "read-only-lock"
        } else {
            "read-only"
        });
        let store = dir.join("store.kms");
        write_file(&store, &f.bytes, 0o600);
        let locks = [dir.join("store.kms.lock"), dir.join("other.kms.lock")];
        if with_lock {
            for lock in &locks {
                write_file(lock, b"", 0o600);
            }
        }
        let case = format!("a read-only folder, lock file present: {with_lock}");
        if is_root() {
            // uid 65534 owns the store (and the locks); root keeps the folder (0755).
            chown(&store, NOBODY, NOBODY);
            if with_lock {
                for lock in &locks {
                    chown(lock, NOBODY, NOBODY);
                }
            }
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
            assert_unchanged(&before, &listing(dir.path()), &case);
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
            assert_unchanged(&before, &listing(dir.path()), &case);
            set_mode(dir.path(), 0o755);
        }
        assert_eq!(std::fs::read(&store).unwrap(), f.bytes, "{case}");
    }
}

// ---------------------------------------------------------------------------
// File modes whatever the umask
// ---------------------------------------------------------------------------

#[test]
fn worker_modes() {
    let Some(w) = Worker::from_env("worker_modes") else {
        return;
    };
    // SAFETY: umask cannot fail; this process runs this one test only.
    unsafe { libc::umask(w.umask as libc::mode_t) };
    let store = w.dir.join("store.kms");
    let client = open(&with_key(&store, &w.key, true), "create");
    let key_id = client.create_key(&Default::default()).unwrap();
    client.rotate_key(&key_id).unwrap();
    client.create_alias("alias/modes", &key_id).unwrap();
    drop(client);
    // A second store, created through the C ABI.
    let other = w.dir.join("other.kms");
    let created = ffi_open(&with_key(&other, &w.key, true));
    assert_eq!(created.status, kms_status::Ok, "{}", created.message);
    for path in [
        &store,
        &w.dir.join("store.kms.lock"),
        &other,
        &w.dir.join("other.kms.lock"),
    ] {
        assert_eq!(
            mode_of(path),
            0o600,
            "{} with umask {:03o}",
            path.display(),
            w.umask
        );
    }
}

#[test]
fn files_the_library_creates_are_0600_whatever_the_umask() {
    for umask in [0o000, 0o022, 0o077, 0o277, 0o777] {
        let dir = TempDir::new(&format!("umask-{umask:03o}"));
        let key = new_master_key();
        run_worker(
            "worker_modes",
            RunAs::Myself,
            &[
                (WORKER_DIR_VAR, dir.path().display().to_string()),
                (WORKER_KEY_VAR, hex(&key)),
                (WORKER_UMASK_VAR, format!("{umask:o}")),
            ],
        );
        let found = listing(dir.path());
        assert_eq!(
            names(&found),
            ["other.kms", "other.kms.lock", "store.kms", "store.kms.lock"],
            "umask {umask:03o}"
        );
        for (name, entry) in &found {
            assert_eq!(entry.mode, 0o600, "{name} with umask {umask:03o}");
        }
        let client = fresh(&dir.join("store.kms"), &key);
        assert_eq!(aliases(&client).len(), 1);
    }
}

// ---------------------------------------------------------------------------
// Temporary files a crashed writer left
// ---------------------------------------------------------------------------

#[test]
fn stale_temporary_files_are_removed_by_the_next_change() {
    let f = fixture();
    let dir = TempDir::new("stale");
    let store = dir.join("store.kms");
    write_file(&store, &f.bytes, 0o600);
    let stale = [
        ".store.kms.tmp.4242.0123456789ab",
        ".store.kms.tmp.crashed",
        ".store.kms.tmp.x",
    ];
    for name in stale {
        write_file(&dir.join(name), b"half of a store file", 0o600);
    }
    // Files that are not this store's temporaries stay.
    let others = [".other.kms.tmp.1", "notes.txt", "store.kms.bak"];
    for name in others {
        write_file(&dir.join(name), b"not the library's", 0o644);
    }

    // Opening reads the store and ignores them; it changes nothing.
    let before = listing(dir.path());
    let client = open(&with_key(&store, &f.key, false), "with stale temporaries");
    assert_eq!(unseal(&client, &f.blob).unwrap().0, FIXTURE_TEXT);
    assert_eq!(key_ids(&client), [f.key_id.as_str()]);
    assert_unchanged(&before, &listing(dir.path()), "opening");

    // The next change removes them.
    let new_key = client.create_key(&Default::default()).unwrap();
    drop(client);
    let after = listing(dir.path());
    for name in stale {
        assert!(
            !after.contains_key(name),
            "{name} is still there: {:?}",
            names(&after)
        );
    }
    for name in others {
        assert_eq!(
            after.get(name),
            before.get(name),
            "{name} must be left alone"
        );
    }
    let mut expected = vec!["store.kms", "store.kms.lock"];
    expected.extend(others);
    expected.sort();
    assert_eq!(names(&after), expected);

    // And the store has both keys, and still decrypts.
    let client = fresh(&store, &f.key);
    let mut keys = key_ids(&client);
    keys.sort();
    let mut both = vec![f.key_id.clone(), new_key];
    both.sort();
    assert_eq!(keys, both);
    assert_eq!(unseal(&client, &f.blob).unwrap().0, FIXTURE_TEXT);
}

// ---------------------------------------------------------------------------
// Huge files, FIFOs and folders: refused at once, nothing allocated for them
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
fn a_store_file_over_the_size_limit_is_corrupted_without_being_read() {
    let dir = TempDir::new("huge-store");
    let store = dir.join("store.kms");
    sparse_file(&store, MAX_STORE_FILE_LEN + 1);
    let before = stat_of(&store);
    let key = new_master_key();
    for create in [false, true] {
        let case = format!("a sparse store of MAX_STORE_FILE_LEN + 1 bytes (create {create})");
        let started = std::time::Instant::now();
        let error = refused(
            &with_key(&store, &key, create),
            ErrorKind::KeyStoreCorrupt,
            &case,
        );
        assert!(
            error.message().contains(&MAX_STORE_FILE_LEN.to_string()),
            "{case}: the message names the limit: {}",
            error.message()
        );
        // Reading (and unsealing) a GiB would take far longer than refusing it.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{case}: took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(stat_of(&store), before, "the file is left alone");
    assert!(!dir.join("store.kms.lock").exists(), "nothing is created");
}

#[test]
fn a_fifo_as_the_store_is_refused_at_once() {
    let dir = TempDir::new("fifo-store");
    let store = dir.join("store.kms");
    mkfifo(&store);
    let key = new_master_key();
    let before = listing(dir.path());
    for create in [false, true] {
        let case = format!("a FIFO at the store path (create {create})");
        let (store, case_in) = (store.clone(), case.clone());
        within_seconds(10, &case, move || {
            refused(
                &with_key(&store, &key, create),
                ErrorKind::KeyStoreCorrupt,
                &case_in,
            );
        });
        assert_unchanged(&before, &listing(dir.path()), &case);
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
    let dir = TempDir::new("huge-key");
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
