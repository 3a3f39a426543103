//! Several processes on one store (issues 3 and 10). Each case but the first runs
//! against SQLite and against PostgreSQL (`_sqlite` / `_postgres`, one body, the
//! store from tests/common/stores.rs); the first holds an SQLite write transaction
//! open and is SQLite's alone.
//!
//! - `round_trip_across_processes`: this process creates, encrypts and rotates; a
//!   long-lived child decrypts everything, sees each new primary within a second,
//!   and decrypts a blob of a version it has not seen yet (re-reading the store);
//!   while this process holds an SQLite write transaction open on the database
//!   (as a writer stuck mid-change would), the child still encrypts, decrypts and
//!   answers KeyNotFound, each within 500 ms.
//! - `no_lost_updates_between_processes`: N processes × M changes at the same moment;
//!   afterwards the store holds exactly every key, version and alias.
//! - `crash_at_random_moments_loses_nothing_returned`: a writer is killed with SIGKILL
//!   25 times during a long run of changes; after each kill the store opens (an
//!   SQLite `-wal` recovered), passes a consistency check of every key, version, alias
//!   and blob, and holds every change whose call had returned. After each kill the
//!   keys that run touched (and any key no run reported) encrypt; at the end every
//!   key does. (Encrypting with every key after every kill made the check quadratic:
//!   each key's first encrypt in a fresh client is a durable GCM reservation, and
//!   the test took 62-67 s instead of about 10.)
//! - `due_rotation_noticed_by_many_processes_happens_once`: several processes whose
//!   clocks pass the same NextRotationDate make exactly one new version between them.
//!
//! Child processes are this test binary run again on one `worker_*` test
//! (`--exact worker_… --nocapture --test-threads=1`) with `LOCALKMS_WORKER_ROLE` and
//! its parameters in the environment. The `worker_*` tests do nothing and pass when
//! that variable is absent, as in a normal `cargo test` run. A worker reports to the
//! parent through stdout lines starting with [`MARK`], written and flushed one by one.

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::calls::{aliases as list_aliases, json, key_ids, seal, unseal, version_ids};
use common::hex::{hex, unhex};
use common::stores::{open_location, sidecar, sqlite, Kind, TestStore};
use localkms::service::{DecryptRequest, EncryptRequest, OpenOptions};
use localkms::Client;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// Starts every line a worker reports; anything else on its stdout (the test
/// harness's own lines) is ignored.
const MARK: &str = "@@localkms-worker@@ ";

const ROLE_ENV: &str = "LOCALKMS_WORKER_ROLE";
const STORE_ENV: &str = "LOCALKMS_WORKER_STORE";
const MASTER_ENV: &str = "LOCALKMS_WORKER_MASTER_HEX";
const KEY_ENV: &str = "LOCALKMS_WORKER_KEY";
const GO_ENV: &str = "LOCALKMS_WORKER_GO_FILE";
const INDEX_ENV: &str = "LOCALKMS_WORKER_INDEX";
const COUNT_ENV: &str = "LOCALKMS_WORKER_COUNT";
const CLOCK_ENV: &str = "LOCALKMS_WORKER_CLOCK";

/// How long a parent waits for any one line before calling the child hung.
const LINE_TIMEOUT: Duration = Duration::from_secs(20);

static DIR_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let n = DIR_COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("localkms-procs-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn new_master_key() -> [u8; 32] {
    rand::random()
}

fn open_client(store: &Path, master: &[u8], create: bool) -> Client {
    Client::open(&OpenOptions {
        keystore_path: Some(store),
        master_key: Some(master),
        master_key_file: None,
        create_if_missing: create,
        keystore_url: None,
    })
    .unwrap_or_else(|e| panic!("opening {}: {e:?}", store.display()))
}

fn primary_of(client: &Client, key_id: &str) -> String {
    let doc = json(&client.describe_key(key_id).unwrap().to_json());
    doc["KeyMetadata"]["PrimaryKeyVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The names in `dir`, sorted.
fn folder_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Fails unless `dir` holds the store `store.db`, perhaps its `-wal` and `-shm`
/// (a connection may still be closing), and nothing else.
fn assert_only_the_store(dir: &Path, case: &str) {
    let names = folder_names(dir);
    assert!(
        names.iter().any(|n| n == "store.db"),
        "{case}: no store: {names:?}"
    );
    for name in &names {
        assert!(
            ["store.db", "store.db-wal", "store.db-shm"].contains(&name.as_str()),
            "{case}: the folder holds {name}: {names:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------

/// The role this process was started for, or `None` in a normal test run.
fn worker_role(expected: &str) -> Option<()> {
    let role = std::env::var(ROLE_ENV).ok()?;
    assert_eq!(role, expected, "worker started with the wrong test name");
    Some(())
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("worker: {name} is not set"))
}

/// Writes one report line and flushes it at once, so a parent that kills this
/// process has seen every line reported before the kill.
fn report(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{MARK}{line}").unwrap();
    out.flush().unwrap();
}

macro_rules! report {
    ($($arg:tt)*) => { report(format_args!($($arg)*)) };
}

fn worker_client() -> Client {
    let master = unhex(&env(MASTER_ENV));
    open_location(&env(STORE_ENV), &master, false)
}

fn wait_for_go() {
    let go = PathBuf::from(env(GO_ENV));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !go.exists() {
        assert!(Instant::now() < deadline, "worker: no go file");
        thread::sleep(Duration::from_micros(200));
    }
}

// ---------------------------------------------------------------------------
// Parent side: a running worker
// ---------------------------------------------------------------------------

/// A child process running one `worker_*` test. Killed when dropped.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    reader: Option<thread::JoinHandle<()>>,
    /// Lines received but not yet asked for.
    pending: VecDeque<String>,
    name: String,
}

fn spawn_worker(test: &str, role: &str, envs: &[(&str, String)], stdin: bool) -> Worker {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE_ENV, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(if stdin { Stdio::piped() } else { Stdio::null() });
    for (name, value) in envs {
        cmd.env(name, value);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The harness may print "test worker_… ... " on the same line first.
            if let Some(at) = line.find(MARK) {
                if tx.send(line[at + MARK.len()..].to_owned()).is_err() {
                    break;
                }
            }
        }
    });
    Worker {
        name: format!("{role} worker (pid {})", child.id()),
        stdin: child.stdin.take(),
        child,
        lines: rx,
        reader: Some(reader),
        pending: VecDeque::new(),
    }
}

impl Worker {
    /// The fields of the next line whose first field is `tag`, keeping other lines
    /// for later; panics when none comes within `timeout`.
    fn wait(&mut self, tag: &str, timeout: Duration) -> Vec<String> {
        let fields =
            |line: &str| -> Vec<String> { line.split_whitespace().map(str::to_owned).collect() };
        if let Some(i) = self
            .pending
            .iter()
            .position(|l| l.split_whitespace().next() == Some(tag))
        {
            return fields(&self.pending.remove(i).unwrap());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.split_whitespace().next() == Some(tag) => return fields(&line),
                Ok(line) => self.pending.push_back(line),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{} sent no {tag} line within {timeout:?} (hung?); pending: {:?}",
                    self.name, self.pending
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{} ended without a {tag} line; pending: {:?}",
                    self.name, self.pending
                ),
            }
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the child to exit by itself and checks it succeeded.
    fn finish(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + LINE_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{} failed: {status}", self.name);
                return;
            }
            assert!(Instant::now() < deadline, "{} does not exit", self.name);
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGKILLs the child, reaps it, and returns every line it reported.
    fn kill_and_collect(mut self) -> (std::process::ExitStatus, Vec<String>) {
        // Child::kill sends SIGKILL on Unix.
        let _ = self.child.kill();
        let status = self.child.wait().unwrap();
        self.reader.take().unwrap().join().unwrap();
        let mut lines: Vec<String> = self.pending.drain(..).collect();
        lines.extend(self.lines.try_iter());
        (status, lines)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Round trip across processes
// ---------------------------------------------------------------------------

/// Worker for `round_trip_across_processes` (does nothing unless started by it).
///
/// Keeps encrypting with the key and reports `PRIMARY <vid>` whenever the version
/// it encrypts with changes; meanwhile obeys commands on stdin:
/// `DECRYPT <blob-hex>` → `DECRYPTED OK <vid> <plaintext-hex> <primary-just-before>`
/// or `DECRYPTED ERROR <code>`, `BARE <ct-hex> <iv-hex>` → `BARE <plaintext-hex>`,
/// `QUIT`.
#[test]
fn worker_round_trip() {
    if worker_role("round_trip").is_none() {
        return;
    }
    let client = worker_client();
    let key_id = env(KEY_ENV);
    let (tx, rx) = mpsc::channel::<String>();
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut last_primary = String::new();
    loop {
        match rx.try_recv() {
            Ok(command) => {
                let parts: Vec<&str> = command.split_whitespace().collect();
                match parts.as_slice() {
                    ["DECRYPT", blob] => {
                        // What this client would encrypt with right now: when it is not
                        // the version of the blob, only the decrypt's own re-read of the
                        // store can find that version.
                        let (_, before) = seal(&client, &key_id, b"probe");
                        match unseal(&client, &unhex(blob)) {
                            Ok((plaintext, vid)) => {
                                report!("DECRYPTED OK {vid} {} {before}", hex(&plaintext))
                            }
                            Err(e) => report!("DECRYPTED ERROR {}", e.code()),
                        }
                    }
                    ["BARE", ct, iv] => {
                        let out = client
                            .decrypt(&DecryptRequest {
                                ciphertext_blob: &unhex(ct),
                                key_id: Some(&key_id),
                                iv: &unhex(iv),
                                ..Default::default()
                            })
                            .unwrap();
                        report!("BARE {}", hex(&out.plaintext));
                    }
                    ["QUIT"] => return,
                    _ => panic!("worker: unknown command {command}"),
                }
            }
            Err(mpsc::TryRecvError::Disconnected) => return,
            Err(mpsc::TryRecvError::Empty) => {}
        }
        let (blob, vid) = seal(&client, &key_id, b"own message");
        let (plaintext, opened_vid) = unseal(&client, &blob).unwrap();
        assert_eq!(
            (plaintext.as_slice(), opened_vid.as_str()),
            (&b"own message"[..], vid.as_str())
        );
        if vid != last_primary {
            report!("PRIMARY {vid}");
            last_primary = vid;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// Has the round-trip worker decrypt `blob`: its `[vid, plaintext-hex,
/// primary-just-before]`, or a panic with the error it met.
fn decrypt_in(worker: &mut Worker, blob: &[u8]) -> Vec<String> {
    worker.send(&format!("DECRYPT {}", hex(blob)));
    let reply = worker.wait("DECRYPTED", LINE_TIMEOUT);
    assert_eq!(
        reply[1], "OK",
        "the other process could not decrypt: {reply:?}"
    );
    reply[2..].to_vec()
}

#[test]
fn round_trip_across_processes() {
    const FRESHNESS_ROUNDS: usize = 6;
    const RELOAD_ROUNDS: usize = 6;
    let dir = TempDir::new("roundtrip");
    let store = dir.path().join("store.kms");
    let master = new_master_key();
    let client = open_client(&store, &master, true);

    // Keys and blobs made before the other process starts, across one rotation.
    let key_id = client
        .create_key(&localkms::service::CreateKeyRequest {
            algorithms: Some("AES_GCM,AES_CBC"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    client.create_alias("alias/rt", &key_id).unwrap();
    let v1 = primary_of(&client, &key_id);
    let mut blobs: Vec<(Vec<u8>, Vec<u8>, String)> = Vec::new();
    for (i, algorithm) in ["AES_GCM", "AES_CBC", "AES_GCM"].into_iter().enumerate() {
        let plaintext = format!("before rotation {i} {algorithm}").into_bytes();
        let out = client
            .advance_encrypt(&EncryptRequest {
                key_id: if i == 2 { "alias/rt" } else { &key_id },
                plaintext: &plaintext,
                algorithm: Some(algorithm),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(out.key_version_id, v1);
        blobs.push((out.ciphertext_blob, plaintext, v1.clone()));
    }
    let bare = client
        .encrypt(&EncryptRequest {
            key_id: &key_id,
            plaintext: b"bare, initial version",
            ..Default::default()
        })
        .unwrap();
    let v2 = client.rotate_key(&key_id).unwrap().value.key_version_id;
    let (blob, vid) = seal(&client, &key_id, b"after first rotation");
    assert_eq!(vid, v2);
    blobs.push((blob, b"after first rotation".to_vec(), v2.clone()));

    let mut worker = spawn_worker(
        "worker_round_trip",
        "round_trip",
        &[
            (STORE_ENV, store.display().to_string()),
            (MASTER_ENV, hex(&master)),
            (KEY_ENV, key_id.clone()),
        ],
        true,
    );
    // The other process decrypts everything made so far and uses the newest version.
    assert_eq!(worker.wait("PRIMARY", LINE_TIMEOUT)[1], v2);
    for (blob, plaintext, vid) in &blobs {
        let reply = decrypt_in(&mut worker, blob);
        assert_eq!(&reply[0], vid);
        assert_eq!(unhex(&reply[1]), *plaintext);
    }
    worker.send(&format!(
        "BARE {} {}",
        hex(&bare.ciphertext_blob),
        hex(&bare.iv)
    ));
    assert_eq!(
        unhex(&worker.wait("BARE", LINE_TIMEOUT)[1]),
        b"bare, initial version"
    );

    // (b) A rotation here is what the other process encrypts with within a second,
    // with no prompting: only its periodic look at the file can tell it.
    let mut rng = StdRng::seed_from_u64(0x5eed_0001);
    let mut lags = Vec::new();
    for _ in 0..FRESHNESS_ROUNDS {
        // Vary where in the reader's 200 ms check period the change lands.
        thread::sleep(Duration::from_millis(rng.gen_range(0..250)));
        let new = client.rotate_key(&key_id).unwrap().value.key_version_id;
        let returned = Instant::now();
        let seen = worker.wait("PRIMARY", Duration::from_secs(5));
        let lag = returned.elapsed();
        assert_eq!(
            seen[1], new,
            "the other process switched to an unexpected version"
        );
        lags.push(lag);
    }
    let max_lag = *lags.iter().max().unwrap();
    eprintln!("round trip: new primary seen by the other process after {lags:?} (max {max_lag:?})");
    assert!(
        max_lag < Duration::from_secs(1),
        "another process saw a new primary only after {max_lag:?} (must be < 1 s): {lags:?}"
    );

    // (a) A blob of a version the other process has not seen yet decrypts at once:
    // the decrypt re-reads the store instead of answering KeyNotFound.
    let mut stale_decrypts = 0;
    for round in 0..RELOAD_ROUNDS {
        thread::sleep(Duration::from_millis(rng.gen_range(0..100)));
        let new = client.rotate_key(&key_id).unwrap().value.key_version_id;
        let plaintext = format!("fresh version, round {round}").into_bytes();
        let (blob, vid) = seal(&client, &key_id, &plaintext);
        assert_eq!(vid, new);
        let reply = decrypt_in(&mut worker, &blob);
        assert_eq!(reply[0], new);
        assert_eq!(unhex(&reply[1]), plaintext);
        if reply[2] != new {
            stale_decrypts += 1;
        }
        assert_eq!(worker.wait("PRIMARY", Duration::from_secs(1))[1], new);
    }
    eprintln!(
        "round trip: {stale_decrypts}/{RELOAD_ROUNDS} decrypts met a version their snapshot \
         did not have"
    );
    assert!(
        stale_decrypts > 0,
        "no decrypt ever met an unknown version, so the re-read was not exercised"
    );

    // A version no store holds is still KeyNotFound after the one re-read, and
    // promptly (no hang, no retry loop).
    let stranger = Client::in_memory();
    let other = stranger
        .create_key(&Default::default())
        .unwrap()
        .value
        .key_id;
    let (foreign, _) = seal(&stranger, &other, b"not from this store");
    let asked = Instant::now();
    worker.send(&format!("DECRYPT {}", hex(&foreign)));
    assert_eq!(
        worker.wait("DECRYPTED", LINE_TIMEOUT)[1..],
        ["ERROR", "Forbidden.KeyNotFound"]
    );
    assert!(asked.elapsed() < Duration::from_secs(1));

    // Readers never wait on a writer: while this process holds an SQLite write
    // transaction open on the database (as a writer stuck mid-change would, with
    // an uncommitted change in it), the other process still encrypts, decrypts,
    // re-reads the store for a version it does not know, and answers
    // KeyNotFound, each within 500 ms.
    const HELD: Duration = Duration::from_secs(2);
    const QUICK: Duration = Duration::from_millis(500);
    let new = client.rotate_key(&key_id).unwrap().value.key_version_id;
    let (blob, _) = seal(&client, &key_id, b"made just before the transaction");
    let writer = sqlite(&store);
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    let held_since = Instant::now();
    writer
        .execute("UPDATE localkms_meta SET counter = counter + 1000", [])
        .unwrap();
    // It is the write lock: no other writer can begin.
    let other_writer = sqlite(&store);
    other_writer.busy_timeout(Duration::ZERO).unwrap();
    let busy = other_writer
        .execute_batch("BEGIN IMMEDIATE")
        .expect_err("a second write transaction began while one was held");
    assert_eq!(
        busy.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy),
        "{busy}"
    );
    drop(other_writer);
    let mut timings = Vec::new();
    // A decrypt (after the worker's own encrypt) of a version its snapshot lacks.
    let asked = Instant::now();
    let reply = decrypt_in(&mut worker, &blob);
    timings.push(("encrypt, and decrypt of a new version", asked.elapsed()));
    // Most often its snapshot did not have the version yet (the rotation was a
    // moment ago), so the decrypt re-read the store under the held transaction.
    let unseen = reply[2] != new;
    assert_eq!(
        (reply[0].as_str(), unhex(&reply[1])),
        (new.as_str(), b"made just before the transaction".to_vec())
    );
    // Its encrypt loop goes on with the new version.
    assert_eq!(worker.wait("PRIMARY", Duration::from_secs(1))[1], new);
    // A decrypt of a version it knows.
    let asked = Instant::now();
    let reply = decrypt_in(&mut worker, &blob);
    timings.push(("encrypt, and decrypt of a known version", asked.elapsed()));
    assert_eq!(reply[0], new);
    // A version no store holds: KeyNotFound after one re-read.
    let asked = Instant::now();
    worker.send(&format!("DECRYPT {}", hex(&foreign)));
    assert_eq!(
        worker.wait("DECRYPTED", LINE_TIMEOUT)[1..],
        ["ERROR", "Forbidden.KeyNotFound"]
    );
    timings.push(("encrypt, and KeyNotFound", asked.elapsed()));
    let reads_done = held_since.elapsed();
    eprintln!(
        "round trip: with a write transaction held (the decrypt met an unseen version: \
         {unseen}): {timings:?}"
    );
    for (what, took) in &timings {
        assert!(
            *took < QUICK,
            "{what} took {took:?} while another process held a write transaction"
        );
    }
    assert!(
        reads_done < HELD,
        "the reads ended {reads_done:?} after the transaction began, not while it was held"
    );
    thread::sleep(HELD.saturating_sub(held_since.elapsed()));
    writer.execute_batch("ROLLBACK").unwrap();
    drop(writer);

    // Everything the parent made is decryptable by the parent too.
    let versions = version_ids(&client, &key_id);
    assert_eq!(versions.len(), 3 + FRESHNESS_ROUNDS + RELOAD_ROUNDS);
    for (blob, plaintext, vid) in &blobs {
        assert_eq!(
            unseal(&client, blob).unwrap(),
            (plaintext.clone(), vid.clone())
        );
    }
    worker.send("QUIT");
    worker.finish();
}

// ---------------------------------------------------------------------------
// 2. Lost updates
// ---------------------------------------------------------------------------

/// Worker for `no_lost_updates_between_processes` (does nothing unless started by it).
///
/// After the go file appears, makes `COUNT` rounds of: create a key, rotate it,
/// alias it `alias/p<index>-<i>`, rotate the shared key; reports each result.
#[test]
fn worker_lost_update() {
    if worker_role("lost_update").is_none() {
        return;
    }
    let client = worker_client();
    let shared = env(KEY_ENV);
    let index: usize = env(INDEX_ENV).parse().unwrap();
    let count: usize = env(COUNT_ENV).parse().unwrap();
    report!("READY");
    wait_for_go();
    for i in 0..count {
        let key_id = client.create_key(&Default::default()).unwrap().value.key_id;
        report!("KEY {key_id}");
        let vid = client.rotate_key(&key_id).unwrap().value.key_version_id;
        report!("VERSION {key_id} {vid}");
        let alias = format!("alias/p{index}-{i}");
        client.create_alias(&alias, &key_id).unwrap();
        report!("ALIAS {alias} {key_id}");
        let shared_vid = client.rotate_key(&shared).unwrap().value.key_version_id;
        report!("SHARED {shared_vid}");
    }
    report!("FINISHED");
}

#[test]
fn no_lost_updates_between_processes_sqlite() {
    no_lost_updates_between_processes(Kind::Sqlite);
}

#[test]
fn no_lost_updates_between_processes_postgres() {
    no_lost_updates_between_processes(Kind::Postgres);
}

fn no_lost_updates_between_processes(kind: Kind) {
    const PROCESSES: usize = 4;
    const CHANGES: usize = 25;
    let Some(store) = TestStore::new(kind, "lost") else {
        return;
    };
    let go = store.dir().join("go");
    let master = new_master_key();
    let client = store.open(&master, true);
    let shared = client.create_key(&Default::default()).unwrap().value.key_id;
    let shared_initial = primary_of(&client, &shared);

    let mut workers: Vec<Worker> = (0..PROCESSES)
        .map(|p| {
            spawn_worker(
                "worker_lost_update",
                "lost_update",
                &[
                    (STORE_ENV, store.location()),
                    (MASTER_ENV, hex(&master)),
                    (KEY_ENV, shared.clone()),
                    (GO_ENV, go.display().to_string()),
                    (INDEX_ENV, p.to_string()),
                    (COUNT_ENV, CHANGES.to_string()),
                ],
                false,
            )
        })
        .collect();
    for worker in &mut workers {
        worker.wait("READY", LINE_TIMEOUT);
    }
    let started = Instant::now();
    std::fs::write(&go, b"go").unwrap();

    let mut keys: BTreeMap<String, String> = BTreeMap::new(); // key → rotated vid
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    let mut shared_versions: BTreeSet<String> = BTreeSet::from([shared_initial.clone()]);
    for worker in &mut workers {
        for _ in 0..CHANGES {
            let key = worker.wait("KEY", LINE_TIMEOUT)[1].clone();
            let version = worker.wait("VERSION", LINE_TIMEOUT);
            assert_eq!(version[1], key);
            assert!(keys.insert(key.clone(), version[2].clone()).is_none());
            let alias = worker.wait("ALIAS", LINE_TIMEOUT);
            assert_eq!(alias[2], key);
            assert!(aliases.insert(alias[1].clone(), key).is_none());
            let shared_vid = worker.wait("SHARED", LINE_TIMEOUT)[1].clone();
            assert!(
                shared_versions.insert(shared_vid),
                "a shared version id came twice"
            );
        }
        worker.wait("FINISHED", LINE_TIMEOUT);
    }
    for worker in workers {
        worker.finish();
    }
    let elapsed = started.elapsed();

    // The client opened before the workers ran sees it all within a second.
    let deadline = Instant::now() + Duration::from_secs(1);
    while key_ids(&client).len() != PROCESSES * CHANGES + 1 {
        assert!(
            Instant::now() < deadline,
            "a client open all along did not see the other processes' keys within 1 s"
        );
        thread::sleep(Duration::from_millis(10));
    }

    // A fresh client, and the long-lived one, hold exactly what was done.
    let fresh = store.open(&master, false);
    for view in [&fresh, &client] {
        let listed: BTreeSet<String> = key_ids(view).into_iter().collect();
        let mut expected: BTreeSet<String> = keys.keys().cloned().collect();
        expected.insert(shared.clone());
        assert_eq!(listed.len(), PROCESSES * CHANGES + 1);
        assert_eq!(listed, expected, "keys lost or invented");
        for (key, rotated) in &keys {
            let versions = version_ids(view, key);
            assert_eq!(versions.len(), 2, "key {key} has versions {versions:?}");
            assert_eq!(&versions[1], rotated);
            assert_eq!(&primary_of(view, key), rotated);
        }
        let versions = version_ids(view, &shared);
        assert_eq!(
            versions.len(),
            1 + PROCESSES * CHANGES,
            "shared key versions lost"
        );
        assert_eq!(versions[0], shared_initial);
        assert_eq!(
            versions.iter().cloned().collect::<BTreeSet<_>>(),
            shared_versions
        );
        assert_eq!(list_aliases(view), aliases, "aliases lost or invented");
    }
    eprintln!(
        "lost updates ({kind:?}): {PROCESSES} processes x {CHANGES} rounds ({} changes) in {elapsed:?}, \
         none lost",
        PROCESSES * CHANGES * 4
    );
}

// ---------------------------------------------------------------------------
// 3. Crashes
// ---------------------------------------------------------------------------

const CRASH_PLAINTEXT: &str = "written before a crash";

/// Worker for `crash_at_random_moments_loses_nothing_returned` (does nothing unless
/// started by it).
///
/// Makes changes until it is killed, reporting each one the moment its call has
/// returned: `DONE create <key>`, `DONE rotate <key> <vid>`, `DONE alias <alias> <key>`,
/// and `BLOB <vid> <hex>` for a blob made with a version.
#[test]
fn worker_crash() {
    if worker_role("crash").is_none() {
        return;
    }
    let client = worker_client();
    let shared = env(KEY_ENV);
    let run: usize = env(INDEX_ENV).parse().unwrap();
    report!("STARTED");
    // A safety net: a worker the parent forgot must not run for ever.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut i = 0usize;
    while Instant::now() < deadline {
        let key_id = client.create_key(&Default::default()).unwrap().value.key_id;
        report!("DONE create {key_id}");
        let (blob, vid) = seal(&client, &key_id, CRASH_PLAINTEXT.as_bytes());
        report!("BLOB {vid} {}", hex(&blob));
        let vid = client.rotate_key(&key_id).unwrap().value.key_version_id;
        report!("DONE rotate {key_id} {vid}");
        let alias = format!("alias/c{run}-{i}");
        client.create_alias(&alias, &key_id).unwrap();
        report!("DONE alias {alias} {key_id}");
        if i.is_multiple_of(3) {
            let vid = client.rotate_key(&shared).unwrap().value.key_version_id;
            report!("DONE rotate {shared} {vid}");
        }
        i += 1;
    }
}

/// What the store must hold: everything reported DONE by any run so far.
#[derive(Default)]
struct Expected {
    keys: BTreeSet<String>,
    versions: BTreeMap<String, BTreeSet<String>>,
    aliases: BTreeMap<String, String>,
    blobs: Vec<(Vec<u8>, String)>,
}

impl Expected {
    /// Takes in a run's lines; returns how many changes it reported done and the
    /// keys those changes created, rotated or named.
    fn absorb(&mut self, lines: &[String]) -> (usize, BTreeSet<String>) {
        let mut done = 0;
        let mut touched = BTreeSet::new();
        for line in lines {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                ["DONE", "create", key] => {
                    self.keys.insert(key.to_string());
                    touched.insert(key.to_string());
                    done += 1;
                }
                ["DONE", "rotate", key, vid] => {
                    touched.insert(key.to_string());
                    self.versions
                        .entry(key.to_string())
                        .or_default()
                        .insert(vid.to_string());
                    done += 1;
                }
                ["DONE", "alias", alias, key] => {
                    touched.insert(key.to_string());
                    assert!(self
                        .aliases
                        .insert(alias.to_string(), key.to_string())
                        .is_none());
                    done += 1;
                }
                ["BLOB", vid, blob] => self.blobs.push((unhex(blob), vid.to_string())),
                ["STARTED"] => {}
                _ => panic!("unexpected worker line: {line}"),
            }
        }
        (done, touched)
    }
}

/// Which keys [`check_store`] encrypts with (each one's first encrypt in a fresh
/// client reserves GCM invocations: a durable write, tens of milliseconds each).
enum Sealing<'a> {
    /// Every key and every alias.
    All,
    /// These keys, their aliases, and every key no run reported: a create the
    /// kill cut short.
    Keys(&'a BTreeSet<String>),
}

impl Sealing<'_> {
    fn covers(&self, key: &str, expected: &Expected) -> bool {
        match self {
            Sealing::All => true,
            Sealing::Keys(keys) => keys.contains(key) || !expected.keys.contains(key),
        }
    }
}

/// Opens the store afresh and checks it whole: every key describes, its versions
/// are well formed with the primary the newest, every alias names a key, every
/// blob a worker made decrypts, and everything in `expected` is there; the keys
/// `sealing` covers encrypt and decrypt with their primary (AdvanceEncrypt and
/// Encrypt), directly and through their aliases.
fn check_store(store: &TestStore, master: &[u8], expected: &Expected, sealing: Sealing<'_>) {
    if store.kind == Kind::Sqlite {
        let path = store.path();
        for path in [path.clone(), sidecar(&path, "-wal"), sidecar(&path, "-shm")] {
            // A killed writer leaves its -wal and -shm; the next client recovers them.
            if let Ok(meta) = std::fs::metadata(&path) {
                let mode = meta.permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{} mode {mode:o}", path.display());
            }
        }
    }
    let client = store.open(master, false);
    let keys = key_ids(&client);
    let key_set: BTreeSet<String> = keys.iter().cloned().collect();
    assert_eq!(key_set.len(), keys.len(), "a key is listed twice");
    for key in &expected.keys {
        assert!(
            key_set.contains(key),
            "key {key}, created before the kill, is lost"
        );
    }
    let mut all_versions = BTreeSet::new();
    for key in &keys {
        let doc = json(&client.describe_key(key).unwrap().to_json());
        let meta = &doc["KeyMetadata"];
        assert_eq!(meta["KeyId"].as_str().unwrap(), key);
        assert_eq!(meta["KeyState"].as_str().unwrap(), "Enabled");
        let primary = meta["PrimaryKeyVersion"].as_str().unwrap();
        let versions = version_ids(&client, key);
        assert!(!versions.is_empty());
        for vid in &versions {
            assert!(
                vid.len() == key.len() + 11 && vid.starts_with(&format!("{key}-")),
                "malformed version {vid} of {key}"
            );
            assert!(
                all_versions.insert(vid.clone()),
                "version {vid} listed twice"
            );
        }
        assert_eq!(versions.last().map(String::as_str), Some(primary));
        if let Some(wanted) = expected.versions.get(key) {
            for vid in wanted {
                assert!(
                    versions.contains(vid),
                    "version {vid}, made before the kill, is lost"
                );
            }
        }
        if !sealing.covers(key, expected) {
            continue;
        }
        let plaintext = format!("check {key}");
        let (blob, vid) = seal(&client, key, plaintext.as_bytes());
        assert_eq!(vid, primary);
        assert_eq!(
            unseal(&client, &blob).unwrap(),
            (plaintext.clone().into_bytes(), vid)
        );
        let bare = client
            .encrypt(&EncryptRequest {
                key_id: key,
                plaintext: plaintext.as_bytes(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(bare.key_version_id, versions[0]);
        let opened = client
            .decrypt(&DecryptRequest {
                ciphertext_blob: &bare.ciphertext_blob,
                key_id: Some(key),
                iv: &bare.iv,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(&opened.plaintext[..], plaintext.as_bytes());
    }
    let aliases = list_aliases(&client);
    for (alias, key) in &aliases {
        assert!(
            key_set.contains(key),
            "alias {alias} names the missing key {key}"
        );
        if !sealing.covers(key, expected) {
            continue;
        }
        let (_, vid) = seal(&client, alias, b"via alias");
        assert!(vid.starts_with(key.as_str()));
    }
    for (alias, key) in &expected.aliases {
        assert_eq!(
            aliases.get(alias),
            Some(key),
            "alias {alias}, made before the kill, is lost or changed"
        );
    }
    for (blob, vid) in &expected.blobs {
        let opened = unseal(&client, blob)
            .unwrap_or_else(|e| panic!("a blob of {vid} no longer decrypts: {e:?}"));
        assert_eq!(opened, (CRASH_PLAINTEXT.as_bytes().to_vec(), vid.clone()));
    }
}

#[test]
fn crash_at_random_moments_loses_nothing_returned_sqlite() {
    crash_at_random_moments_loses_nothing_returned(Kind::Sqlite);
}

#[test]
fn crash_at_random_moments_loses_nothing_returned_postgres() {
    crash_at_random_moments_loses_nothing_returned(Kind::Postgres);
}

fn crash_at_random_moments_loses_nothing_returned(kind: Kind) {
    const KILLS: usize = 25;
    let seed: u64 = std::env::var("LOCALKMS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0xc0ffee);
    let mut rng = StdRng::seed_from_u64(seed);
    let Some(store) = TestStore::new(kind, "crash") else {
        return;
    };
    let master = new_master_key();
    let shared = {
        let client = store.open(&master, true);
        client.create_key(&Default::default()).unwrap().value.key_id
    };
    let mut expected = Expected::default();
    expected.keys.insert(shared.clone());
    let mut counter = store.counter();
    let mut total_done = 0;
    let mut left_wal = 0;
    let started = Instant::now();
    for run in 0..KILLS {
        let mut worker = spawn_worker(
            "worker_crash",
            "crash",
            &[
                (STORE_ENV, store.location()),
                (MASTER_ENV, hex(&master)),
                (KEY_ENV, shared.clone()),
                (INDEX_ENV, run.to_string()),
            ],
            false,
        );
        // Most kills land a random time into the run of changes; some land while
        // the worker is still starting, or opening the store.
        let delay = if rng.gen_ratio(1, 6) {
            Duration::from_micros(rng.gen_range(0..40_000))
        } else {
            worker.wait("STARTED", LINE_TIMEOUT);
            Duration::from_micros(rng.gen_range(0..600_000))
        };
        thread::sleep(delay);
        let (status, lines) = worker.kill_and_collect();
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "run {run}: the worker ended by itself ({status}), not by the kill"
        );
        let (done, mut touched) = expected.absorb(&lines);
        touched.insert(shared.clone());
        total_done += done;
        if kind == Kind::Sqlite && sidecar(&store.path(), "-wal").exists() {
            left_wal += 1;
        }
        check_store(&store, &master, &expected, Sealing::Keys(&touched));
        let now = store.counter();
        assert!(
            now >= counter,
            "run {run}: the change counter went back from {counter} to {now}"
        );
        assert!(
            now >= counter + done as i64,
            "run {run}: {done} changes returned, but the counter went only from {counter} to {now}"
        );
        counter = now;
    }
    let elapsed = started.elapsed();

    // One more change; then the folder holds the store (and its -wal and -shm
    // while a connection is open), nothing else.
    let client = store.open(&master, false);
    let last = client.create_key(&Default::default()).unwrap().value.key_id;
    expected.keys.insert(last);
    check_store(&store, &master, &expected, Sealing::All);
    if kind == Kind::Sqlite {
        assert_only_the_store(store.dir(), "after the crashes");
    }
    // And only the right master key opens it.
    let wrong = new_master_key();
    let location = store.location();
    let err = Client::open(&OpenOptions {
        keystore_path: (kind == Kind::Sqlite).then(|| Path::new(&location)),
        keystore_url: (kind == Kind::Postgres).then_some(location.as_str()),
        master_key: Some(&wrong),
        master_key_file: None,
        create_if_missing: false,
    })
    .err()
    .expect("a wrong master key opened the store");
    assert_eq!(err.code(), "KeyStore.AccessDenied");
    eprintln!(
        "crash ({kind:?}): seed {seed:#x}, {KILLS} kills in {elapsed:?}, {total_done} returned changes all \
         kept ({} keys, {} aliases), {left_wal} kills left a -wal, final change counter \
         {counter}",
        expected.keys.len(),
        expected.aliases.len()
    );
}

// ---------------------------------------------------------------------------
// 4. Double rotation
// ---------------------------------------------------------------------------

/// Worker for `due_rotation_noticed_by_many_processes_happens_once` (does nothing
/// unless started by it).
///
/// With its clock fixed at `CLOCK`, waits for the go file, then uses the key
/// (AdvanceEncrypt, or for odd indexes DescribeKey first) and reports the version
/// it encrypted with: `USED <vid> <describe-primary or ->`.
#[test]
fn worker_double_rotation() {
    if worker_role("double_rotation").is_none() {
        return;
    }
    let client = worker_client();
    let key_id = env(KEY_ENV);
    let clock: i64 = env(CLOCK_ENV).parse().unwrap();
    let index: usize = env(INDEX_ENV).parse().unwrap();
    client.set_clock(Some(Arc::new(move || clock)));
    report!("READY");
    wait_for_go();
    let described = if index % 2 == 1 {
        primary_of(&client, &key_id)
    } else {
        "-".to_owned()
    };
    let (blob, vid) = seal(&client, &key_id, b"at the rotation date");
    assert_eq!(unseal(&client, &blob).unwrap().1, vid);
    report!("USED {vid} {described}");
}

#[test]
fn due_rotation_noticed_by_many_processes_happens_once_sqlite() {
    due_rotation_noticed_by_many_processes_happens_once(Kind::Sqlite);
}

#[test]
fn due_rotation_noticed_by_many_processes_happens_once_postgres() {
    due_rotation_noticed_by_many_processes_happens_once(Kind::Postgres);
}

fn due_rotation_noticed_by_many_processes_happens_once(kind: Kind) {
    const PROCESSES: usize = 4;
    const ROUNDS: i64 = 3;
    const WEEK: i64 = 7 * 86_400;
    let Some(store) = TestStore::new(kind, "double") else {
        return;
    };
    let master = new_master_key();
    // T0 is now: opening a store rotates what is due by the system clock, and
    // nothing may be due by it here.
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let client = store.open(&master, true);
    client.set_clock(Some(Arc::new(move || t0)));
    let key_id = client.create_key(&Default::default()).unwrap().value.key_id;
    client
        .update_rotation_policy(&key_id, true, Some("7d"))
        .unwrap();
    assert_eq!(version_ids(&client, &key_id).len(), 1);

    for round in 1..=ROUNDS {
        let go = store.dir().join(format!("go-{round}"));
        // Every process's clock is 10 s past the same NextRotationDate.
        let clock = t0 + round * WEEK + 10;
        let mut workers: Vec<Worker> = (0..PROCESSES)
            .map(|p| {
                spawn_worker(
                    "worker_double_rotation",
                    "double_rotation",
                    &[
                        (STORE_ENV, store.location()),
                        (MASTER_ENV, hex(&master)),
                        (KEY_ENV, key_id.clone()),
                        (GO_ENV, go.display().to_string()),
                        (INDEX_ENV, p.to_string()),
                        (CLOCK_ENV, clock.to_string()),
                    ],
                    false,
                )
            })
            .collect();
        for worker in &mut workers {
            worker.wait("READY", LINE_TIMEOUT);
        }
        std::fs::write(&go, b"go").unwrap();
        let mut used = BTreeSet::new();
        for worker in &mut workers {
            let reply = worker.wait("USED", LINE_TIMEOUT);
            used.insert(reply[1].clone());
            if reply[2] != "-" {
                used.insert(reply[2].clone());
            }
        }
        for worker in workers {
            worker.finish();
        }
        let fresh = store.open(&master, false);
        let versions = version_ids(&fresh, &key_id);
        assert_eq!(
            versions.len() as i64,
            1 + round,
            "round {round}: {PROCESSES} processes at the same due date made versions {versions:?}"
        );
        assert_eq!(
            used,
            BTreeSet::from([versions.last().unwrap().clone()]),
            "round {round}: the processes used different versions"
        );
        let doc = json(&fresh.describe_key(&key_id).unwrap().to_json());
        // The schedule stays fixed: the next date is one interval after the date
        // that fell due, whoever noticed it.
        let next = doc["KeyMetadata"]["NextRotationDate"]
            .as_str()
            .unwrap()
            .to_owned();
        let expected_next = localkms::time::format_date(t0 + (round + 1) * WEEK);
        assert_eq!(next, expected_next, "round {round}: NextRotationDate");
    }
    eprintln!("double rotation ({kind:?}): {ROUNDS} rounds x {PROCESSES} processes, one version each round");
}
