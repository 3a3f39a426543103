//! The database stores when things go wrong (issue 10), each case run against
//! SQLite and against PostgreSQL (tests/common/stores.rs): a store that cannot be
//! written while a rotation falls due (SQLite refusing writes as a read-only mount
//! does, PostgreSQL a read-only database as a hot standby is: reads go on, changes
//! fail, the client recovers), a store restored from an older copy under running
//! clients (adopted whole), and a client used after `fork()`.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::calls::{seal, unseal};
use common::stores::{Kind, TestStore};
use localkms::service::CreateKeyRequest;
use localkms::{Client, ErrorKind};

const MASTER: [u8; 32] = [0x5a; 32];
const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn with_clock(client: &Client) -> Arc<AtomicI64> {
    let clock = Arc::new(AtomicI64::new(NOW));
    let c = clock.clone();
    client.set_clock(Some(Arc::new(move || c.load(Ordering::SeqCst))));
    clock
}

fn primary(client: &Client, key_id: &str) -> String {
    let doc: serde_json::Value =
        serde_json::from_str(&client.describe_key(key_id).unwrap().to_json()).unwrap();
    doc["KeyMetadata"]["PrimaryKeyVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_due_rotation_that_cannot_be_written_never_fails_a_read_sqlite() {
    a_due_rotation_that_cannot_be_written_never_fails_a_read(Kind::Sqlite);
}

#[test]
fn a_due_rotation_that_cannot_be_written_never_fails_a_read_postgres() {
    a_due_rotation_that_cannot_be_written_never_fails_a_read(Kind::Postgres);
}

fn a_due_rotation_that_cannot_be_written_never_fails_a_read(kind: Kind) {
    let Some(store) = TestStore::new(kind, "degraded") else {
        return;
    };
    let client = store.open(&MASTER, true);
    let clock = with_clock(&client);
    let key_id = client
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .value
        .key_id;
    client
        .update_rotation_policy(&key_id, true, Some("7d"))
        .unwrap();
    let v1 = primary(&client, &key_id);
    let (old_blob, _) = seal(&client, &key_id, b"before");

    store.refuse_writes(true);
    clock.store(NOW + 8 * DAY, Ordering::SeqCst);
    // The rotation is due and cannot be written: reads go on with what is stored.
    for _ in 0..3 {
        let (blob, version) = seal(&client, &key_id, b"degraded");
        assert_eq!(version, v1, "no version that is not stored is used");
        assert_eq!(unseal(&client, &blob).unwrap().0, b"degraded");
        assert_eq!(unseal(&client, &old_blob).unwrap().0, b"before");
        assert_eq!(primary(&client, &key_id), v1);
    }
    // Changes fail, and say why.
    let e = client.create_key(&CreateKeyRequest::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KeyStoreIo, "{e:?}");

    // The store comes back: after the back-off the rotation is made.
    store.refuse_writes(false);
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
    assert_eq!(unseal(&client, &old_blob).unwrap().0, b"before");
}

#[test]
fn a_store_restored_from_an_older_copy_is_adopted_sqlite() {
    a_store_restored_from_an_older_copy_is_adopted(Kind::Sqlite);
}

#[test]
fn a_store_restored_from_an_older_copy_is_adopted_postgres() {
    a_store_restored_from_an_older_copy_is_adopted(Kind::Postgres);
}

fn a_store_restored_from_an_older_copy_is_adopted(kind: Kind) {
    let Some(store) = TestStore::new(kind, "restore") else {
        return;
    };
    let writer = store.open(&MASTER, true);
    let key_id = writer
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .value
        .key_id;
    let v1 = primary(&writer, &key_id);
    let backup = store.backup();

    let reader = store.open(&MASTER, false);
    let later = writer.rotate_key(&key_id).unwrap().value.key_version_id;
    let extra = writer
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .value
        .key_id;
    let deadline = Instant::now() + Duration::from_secs(5);
    while primary(&reader, &key_id) != later {
        assert!(
            Instant::now() < deadline,
            "the reader did not see the rotation"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Restore the older copy under the running clients.
    store.restore(&backup);
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
fn a_client_opened_before_fork_works_in_the_child_sqlite() {
    a_client_opened_before_fork_works_in_the_child(
        Kind::Sqlite,
        "a_client_opened_before_fork_works_in_the_child_sqlite",
    );
}

#[test]
fn a_client_opened_before_fork_works_in_the_child_postgres() {
    a_client_opened_before_fork_works_in_the_child(
        Kind::Postgres,
        "a_client_opened_before_fork_works_in_the_child_postgres",
    );
}

/// Runs in a child process of its own (this test binary again, on the one test
/// `name`), since it forks.
fn a_client_opened_before_fork_works_in_the_child(kind: Kind, name: &str) {
    if std::env::var("LOCALKMS_CHILD").as_deref() != Ok(name) {
        if kind == Kind::Postgres && common::stores::postgres_server().is_none() {
            return;
        }
        let output = Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env("LOCALKMS_CHILD", name)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("fork: parent and child agree"),
            "{}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    let store = TestStore::new(kind, "fork").expect("the store");
    let client = store.open(&MASTER, true);
    let key_id = client
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .value
        .key_id;
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
            assert_eq!(unseal(&client, &blob).unwrap().0, b"from the parent");
            let (child_blob, _) = seal(&client, &key_id, b"from the child");
            assert_eq!(unseal(&client, &child_blob).unwrap().0, b"from the child");
            let rotated = client.rotate_key(&key_id).unwrap().value.key_version_id;
            assert_eq!(primary(&client, &key_id), rotated);
            std::fs::write(store.dir().join("child-version"), rotated).unwrap();
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
    let rotated = std::fs::read_to_string(store.dir().join("child-version")).unwrap();
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
    assert_eq!(unseal(&client, &again).unwrap().0, b"parent again");
    println!("fork: parent and child agree");
}
