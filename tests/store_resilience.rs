//! The SQLite store when things go wrong (issue 10): a store that cannot be written
//! while a rotation falls due (reads go on, changes fail, the client recovers), a
//! store restored from an older copy (adopted whole), and a client used after
//! `fork()`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use localkms::service::{CreateKeyRequest, OpenOptions};
use localkms::{Client, ErrorKind};

use common::calls::{new_key, seal, unseal};
use common::child::{is_child, run_child};
use common::temp_dir::TempDir;

const MASTER: [u8; 32] = [0x5a; 32];
const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn open(store: &Path, create: bool) -> Client {
    Client::open(&OpenOptions {
        keystore_path: Some(store),
        master_key: Some(&MASTER),
        create_if_missing: create,
        ..Default::default()
    })
    .unwrap()
}

fn with_clock(client: &Client) -> Arc<AtomicI64> {
    let clock = Arc::new(AtomicI64::new(NOW));
    let c = clock.clone();
    client.set_clock(Some(Arc::new(move || c.load(Ordering::SeqCst))));
    clock
}

fn open_blob(client: &Client, blob: &[u8]) -> Vec<u8> {
    unseal(client, blob).unwrap().0
}

fn primary(client: &Client, key_id: &str) -> String {
    client
        .describe_key(key_id)
        .unwrap()
        .value
        .primary_key_version
}

/// Makes every write to the database fail, as a read-only or full one would,
/// while reads go on (works as root, where file modes would not).
fn refuse_writes(store: &Path, refuse: bool) {
    let db = rusqlite::Connection::open(store).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    if refuse {
        db.execute_batch(
            "CREATE TRIGGER localkms_test_read_only BEFORE UPDATE ON localkms_meta \
             BEGIN SELECT RAISE(ABORT, 'the store is read only'); END;",
        )
        .unwrap();
    } else {
        db.execute_batch("DROP TRIGGER localkms_test_read_only;")
            .unwrap();
    }
}

#[test]
fn a_due_rotation_that_cannot_be_written_never_fails_a_read() {
    let dir = TempDir::new("degraded");
    let store = dir.join("store.db");
    let client = open(&store, true);
    let clock = with_clock(&client);
    let key_id = new_key(&client);
    client
        .update_rotation_policy(&key_id, true, Some("7d"))
        .unwrap();
    let v1 = primary(&client, &key_id);
    let (old_blob, _) = seal(&client, &key_id, b"before");

    refuse_writes(&store, true);
    clock.store(NOW + 8 * DAY, Ordering::SeqCst);
    // The rotation is due and cannot be written: reads go on with what is stored.
    for _ in 0..3 {
        let (blob, version) = seal(&client, &key_id, b"degraded");
        assert_eq!(version, v1, "no version that is not stored is used");
        assert_eq!(open_blob(&client, &blob), b"degraded");
        assert_eq!(open_blob(&client, &old_blob), b"before");
        assert_eq!(primary(&client, &key_id), v1);
    }
    // Changes fail, and say why.
    let e = client.create_key(&CreateKeyRequest::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KeyStoreIo, "{e:?}");

    // The store comes back: after the back-off the rotation is made.
    refuse_writes(&store, false);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, version) = seal(&client, &key_id, b"recovered");
        if version != v1 {
            break;
        }
        assert!(Instant::now() < deadline, "the client did not recover");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_ne!(primary(&client, &key_id), v1);
    client.create_key(&CreateKeyRequest::default()).unwrap();
    assert_eq!(open_blob(&client, &old_blob), b"before");
}

#[test]
fn a_store_restored_from_an_older_copy_is_adopted() {
    let dir = TempDir::new("restore");
    let store = dir.join("store.db");
    let writer = open(&store, true);
    let key_id = new_key(&writer);
    let v1 = primary(&writer, &key_id);
    let backup = dir.join("backup.db");
    rusqlite::Connection::open(&store)
        .unwrap()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();

    let reader = open(&store, false);
    let later = writer.rotate_key(&key_id).unwrap().value.key_version_id;
    let extra = new_key(&writer);
    let deadline = Instant::now() + Duration::from_secs(5);
    while primary(&reader, &key_id) != later {
        assert!(
            Instant::now() < deadline,
            "the reader did not see the rotation"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Restore the older copy under the running clients.
    for suffix in ["-wal", "-shm"] {
        let mut name = store.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
    std::fs::rename(&backup, &store).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while primary(&reader, &key_id) != v1 {
        assert!(
            Instant::now() < deadline,
            "the restored store was not adopted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let e = reader.describe_key(&extra).unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::KeyNotFound,
        "a key the copy lacks is gone"
    );
    let (_, version) = seal(&reader, &key_id, b"after the restore");
    assert_eq!(
        version, v1,
        "nothing encrypts under a version the store lacks"
    );
    // The writer adopts it too, at its next change, and goes on from it.
    let next = writer.rotate_key(&key_id).unwrap().value.key_version_id;
    assert_ne!(next, later);
    let deadline = Instant::now() + Duration::from_secs(5);
    while primary(&reader, &key_id) != next {
        assert!(
            Instant::now() < deadline,
            "the reader did not follow the restored store"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_client_opened_before_fork_works_in_the_child() {
    const NAME: &str = "a_client_opened_before_fork_works_in_the_child";
    if !is_child(NAME) {
        let (status, stdout, stderr) = run_child(NAME);
        assert!(
            status.success() && stdout.contains("fork: parent and child agree"),
            "{status}\n{stdout}\n{stderr}"
        );
        return;
    }
    let dir = TempDir::new("fork");
    let store = dir.join("store.db");
    let client = open(&store, true);
    let key_id = new_key(&client);
    let (blob, _) = seal(&client, &key_id, b"from the parent");
    // Let a background freshness check start, so that one may be under way at fork.
    std::thread::sleep(Duration::from_millis(250));
    let _ = client.describe_key(&key_id);

    // SAFETY: the child only calls into the library and exits; no lock of this
    // test is held.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_eq!(open_blob(&client, &blob), b"from the parent");
            let (child_blob, _) = seal(&client, &key_id, b"from the child");
            assert_eq!(open_blob(&client, &child_blob), b"from the child");
            let rotated = client.rotate_key(&key_id).unwrap().value.key_version_id;
            assert_eq!(primary(&client, &key_id), rotated);
            std::fs::write(dir.join("child-version"), rotated).unwrap();
        }))
        .is_ok();
        // SAFETY: ends the forked child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child failed"
    );
    let rotated = std::fs::read_to_string(dir.join("child-version")).unwrap();
    // The parent sees the child's change, and its own client still works.
    let deadline = Instant::now() + Duration::from_secs(5);
    while primary(&client, &key_id) != rotated {
        assert!(
            Instant::now() < deadline,
            "the parent did not see the child's rotation"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (again, version) = seal(&client, &key_id, b"parent again");
    assert_eq!(version, rotated);
    assert_eq!(open_blob(&client, &again), b"parent again");
    println!("fork: parent and child agree");
}
