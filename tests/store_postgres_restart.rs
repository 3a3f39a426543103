//! The PostgreSQL store while its server goes away and comes back (issue 10):
//! encryption and decryption go on from the snapshot, changes fail with
//! `KeyStore.IOError`, and the client resumes by itself. Needs the throw-away
//! cluster of scripts/pg-cluster.sh (`make test` starts it), which this test stops
//! and starts again; it runs in a binary of its own so that no other test meets
//! the server down. Under CI it fails when the cluster is missing.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use localkms::service::{CreateKeyRequest, DecryptRequest, EncryptRequest, OpenOptions};
use localkms::{Client, ErrorKind};

use common::calls::new_key;

fn cluster(action: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-cluster.sh");
    let status = Command::new("bash")
        .args([script, action])
        .status()
        .unwrap();
    assert!(status.success(), "pg-cluster.sh {action}");
}

#[test]
fn reads_go_on_while_the_server_is_down_and_changes_resume_after() {
    let Some((url, _)) = common::postgres::fresh_database("restart") else {
        return;
    };
    let client = Arc::new(
        Client::open(&OpenOptions {
            keystore_url: Some(&url),
            master_key: Some(&[9; 32]),
            create_if_missing: true,
            ..Default::default()
        })
        .unwrap(),
    );
    let key_id = new_key(&client);

    // Load: a thread encrypting and decrypting all along.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let load = {
        let (client, key_id, stop, done, failures) = (
            client.clone(),
            key_id.clone(),
            stop.clone(),
            done.clone(),
            failures.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let ok = client
                    .advance_encrypt(&EncryptRequest {
                        key_id: &key_id,
                        plaintext: b"under load",
                        ..Default::default()
                    })
                    .and_then(|s| {
                        client.advance_decrypt(&DecryptRequest {
                            ciphertext_blob: &s.ciphertext_blob,
                            ..Default::default()
                        })
                    });
                match ok {
                    Ok(r) if &r.plaintext[..] == b"under load" => {
                        done.fetch_add(1, Ordering::SeqCst)
                    }
                    _ => failures.fetch_add(1, Ordering::SeqCst),
                };
            }
        })
    };
    std::thread::sleep(Duration::from_millis(200));

    cluster("halt");
    let before = done.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        done.load(Ordering::SeqCst) > before,
        "reads stopped while the server was down"
    );
    let e = client.create_key(&CreateKeyRequest::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KeyStoreIo, "{e:?}");
    cluster("resume");

    // Changes resume by themselves.
    let deadline = Instant::now() + Duration::from_secs(20);
    let made = loop {
        match client.rotate_key(&key_id) {
            Ok(made) => break made.value.key_version_id,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::KeyStoreIo, "{e:?}");
                assert!(Instant::now() < deadline, "changes did not resume: {e:?}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    };
    stop.store(true, Ordering::SeqCst);
    load.join().unwrap();
    assert_eq!(failures.load(Ordering::SeqCst), 0, "a read failed");
    let doc: serde_json::Value =
        serde_json::from_str(&client.describe_key(&key_id).unwrap().to_json()).unwrap();
    assert_eq!(doc["KeyMetadata"]["PrimaryKeyVersion"], made.as_str());
}
