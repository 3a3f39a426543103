//! One store suite, run against every store (issue 10): in memory, SQLite and
//! PostgreSQL (tests/common/stores.rs; each case is a `_memory`, `_sqlite` or
//! `_postgres` test around one body).
//!
//! - every kind of key and change a client makes, and what it reads back: the same
//!   from a fresh client after a reopen (persistent stores), with every blob made
//!   along the way still opening;
//! - a wrong master key refused, changing nothing;
//! - three clients seeing each other's rotations, new aliases and state changes
//!   within a second;
//! - a key another client made a moment ago usable at once;
//! - an automatic rotation that falls due in racing clients making one version.
//!
//! The multi-process cases (4 processes × 25 changes, kill -9, racing processes)
//! are in tests/store_processes.rs, the failure cases (read-only store, restored
//! backup, fork) in tests/store_resilience.rs, both against SQLite and PostgreSQL;
//! file handling (modes, symlinks, FIFOs, damage) in tests/store_files.rs.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::calls::{aliases, json, key_ids};
use common::stores::{Kind, TestStore};
use localkms::service::{CreateKeyRequest, DecryptRequest, EncryptRequest, OpenOptions};
use localkms::{Client, ErrorKind};
use serde_json::Value;

const MASTER: [u8; 32] = [0x6b; 32];

/// One `#[test]` per store around one body.
macro_rules! on_stores {
    ($body:ident: $($test:ident => $kind:ident),+ $(,)?) => {
        $(
            #[test]
            fn $test() {
                $body(Kind::$kind);
            }
        )+
    };
}

fn metadata(client: &Client, key_id: &str) -> Value {
    json(&client.describe_key(key_id).unwrap().to_json())["KeyMetadata"].clone()
}

fn primary(client: &Client, key_id: &str) -> String {
    metadata(client, key_id)["PrimaryKeyVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn versions(client: &Client, key_id: &str) -> Value {
    json(&client.list_key_versions(key_id).unwrap().to_json())["KeyVersions"].clone()
}

/// Everything a client reads back of the store: every key's metadata and
/// versions, and the aliases.
fn everything(client: &Client) -> Value {
    let keys: Vec<Value> = key_ids(client)
        .iter()
        .map(|id| serde_json::json!({ "meta": metadata(client, id), "versions": versions(client, id) }))
        .collect();
    serde_json::json!({ "keys": keys, "aliases": aliases(client) })
}

fn seal(client: &Client, key_id: &str, plaintext: &[u8]) -> Vec<u8> {
    client
        .advance_encrypt(&EncryptRequest {
            key_id,
            plaintext,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("advance_encrypt with {key_id}: {e:?}"))
        .ciphertext_blob
}

fn open_blob(client: &Client, blob: &[u8]) -> Vec<u8> {
    client
        .advance_decrypt(&DecryptRequest {
            ciphertext_blob: blob,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("advance_decrypt: {e:?}"))
        .plaintext
        .to_vec()
}

/// Waits up to a second for `done`.
fn within_a_second(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let since = Instant::now();
    while !done() {
        assert!(
            since.elapsed() < Duration::from_secs(1),
            "{what}: not seen within 1 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    since.elapsed()
}

on_stores!(every_change_reads_back_the_same_after_a_reopen:
    every_change_reads_back_the_same_after_a_reopen_memory => Memory,
    every_change_reads_back_the_same_after_a_reopen_sqlite => Sqlite,
    every_change_reads_back_the_same_after_a_reopen_postgres => Postgres,
);

fn every_change_reads_back_the_same_after_a_reopen(kind: Kind) {
    let Some(store) = TestStore::new(kind, "contract") else {
        return;
    };
    let client = store.open(&MASTER, true);
    let mut blobs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut made = Vec::new();
    for (spec, algorithms) in [
        (None, None),
        (Some("Aliyun_AES_128"), Some("AES_GCM,AES_CBC,AES_ECB")),
        (Some("Aliyun_AES_192"), None),
        (Some("Aliyun_SM4"), None),
    ] {
        let key_id = client
            .create_key(&CreateKeyRequest {
                key_spec: spec,
                algorithms,
                description: Some("a key of the contract suite"),
                ..Default::default()
            })
            .unwrap()
            .value
            .key_id;
        let plaintext = format!("under {spec:?}").into_bytes();
        blobs.push((seal(&client, &key_id, &plaintext), plaintext));
        made.push(key_id);
    }
    let rotated = &made[0];
    for _ in 0..2 {
        client.rotate_key(rotated).unwrap();
        blobs.push((seal(&client, rotated, b"rotated"), b"rotated".to_vec()));
    }
    client
        .update_rotation_policy(&made[1], true, Some("30d"))
        .unwrap();
    client.create_alias("alias/contract", rotated).unwrap();
    client.create_alias("alias/moved", &made[2]).unwrap();
    client.update_alias("alias/moved", &made[3]).unwrap();
    client.create_alias("alias/gone", &made[3]).unwrap();
    client.delete_alias("alias/gone").unwrap();
    client.disable_key(&made[2]).unwrap();
    client.schedule_key_deletion(&made[3], 7).unwrap();
    let external = client
        .create_key(&CreateKeyRequest {
            origin: Some("EXTERNAL"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    client
        .import_key_material(&external, &[0x42; 32], 0)
        .unwrap();
    blobs.push((seal(&client, &external, b"imported"), b"imported".to_vec()));
    blobs.push((
        seal(&client, "alias/contract", b"aliased"),
        b"aliased".to_vec(),
    ));

    // What this client reads back is what was done.
    assert_eq!(key_ids(&client).len(), 5);
    assert_eq!(
        aliases(&client),
        BTreeMap::from([
            ("alias/contract".to_owned(), rotated.clone()),
            ("alias/moved".to_owned(), made[3].clone()),
        ])
    );
    assert_eq!(
        versions(&client, rotated)["KeyVersion"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(metadata(&client, &made[1])["AutomaticRotation"], "Enabled");
    assert_eq!(metadata(&client, &made[2])["KeyState"], "Disabled");
    assert_eq!(metadata(&client, &made[3])["KeyState"], "PendingDeletion");
    assert_eq!(metadata(&client, &external)["KeyState"], "Enabled");
    let e = client
        .advance_encrypt(&EncryptRequest {
            key_id: &made[2],
            plaintext: b"disabled",
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KeyDisabled, "{e:?}");
    let seen = everything(&client);
    let enabled_blobs: Vec<_> = blobs
        .iter()
        .filter(|(blob, _)| {
            // Blobs of the disabled and the pending-deletion keys do not open.
            client
                .advance_decrypt(&DecryptRequest {
                    ciphertext_blob: blob,
                    ..Default::default()
                })
                .is_ok()
        })
        .cloned()
        .collect();
    assert_eq!(enabled_blobs.len(), blobs.len() - 2);
    for (blob, plaintext) in &enabled_blobs {
        assert_eq!(&open_blob(&client, blob), plaintext);
    }
    if !store.is_shared() {
        return;
    }

    // A fresh client reads back exactly the same, and every blob still opens.
    drop(client);
    let reopened = store.open(&MASTER, false);
    assert_eq!(
        everything(&reopened),
        seen,
        "{kind:?}: the reopened store differs"
    );
    for (blob, plaintext) in &enabled_blobs {
        assert_eq!(&open_blob(&reopened, blob), plaintext);
    }
    // And goes on changing it.
    reopened.enable_key(&made[2]).unwrap();
    reopened.cancel_key_deletion(&made[3]).unwrap();
    for (blob, plaintext) in &blobs {
        assert_eq!(&open_blob(&reopened, blob), plaintext);
    }
    drop(reopened);
    let again = store.open(&MASTER, false);
    assert_eq!(metadata(&again, &made[2])["KeyState"], "Enabled");
    assert_eq!(metadata(&again, &made[3])["KeyState"], "Enabled");
}

on_stores!(a_wrong_master_key_is_refused_and_changes_nothing:
    a_wrong_master_key_is_refused_and_changes_nothing_sqlite => Sqlite,
    a_wrong_master_key_is_refused_and_changes_nothing_postgres => Postgres,
);

fn a_wrong_master_key_is_refused_and_changes_nothing(kind: Kind) {
    let Some(store) = TestStore::new(kind, "wrong_master") else {
        return;
    };
    let client = store.open(&MASTER, true);
    let key_id = client
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .value
        .key_id;
    let before = (store.counter(), everything(&client));
    let location = store.location();
    for create_if_missing in [false, true] {
        let e = Client::open(&OpenOptions {
            keystore_path: (kind == Kind::Sqlite).then(|| std::path::Path::new(&location)),
            keystore_url: (kind == Kind::Postgres).then_some(location.as_str()),
            master_key: Some(&[0x6c; 32]),
            create_if_missing,
            ..Default::default()
        })
        .err()
        .expect("a wrong master key opened the store");
        assert_eq!(e.kind(), ErrorKind::KeyStoreAccessDenied, "{e:?}");
    }
    assert_eq!((store.counter(), everything(&client)), before);
    assert!(!primary(&client, &key_id).is_empty());
}

on_stores!(three_clients_see_each_others_changes_within_a_second:
    three_clients_see_each_others_changes_within_a_second_sqlite => Sqlite,
    three_clients_see_each_others_changes_within_a_second_postgres => Postgres,
);

fn three_clients_see_each_others_changes_within_a_second(kind: Kind) {
    let Some(store) = TestStore::new(kind, "three") else {
        return;
    };
    let clients: Vec<Client> = (0..3).map(|i| store.open(&MASTER, i == 0)).collect();
    let key_id = clients[0]
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .value
        .key_id;
    let mut lags = Vec::new();
    for round in 0..6 {
        let changer = &clients[round % 3];
        let new = changer.rotate_key(&key_id).unwrap().value.key_version_id;
        for other in &clients {
            lags.push(within_a_second("a rotation", || {
                primary(other, &key_id) == new
            }));
        }
        // A blob of the new version opens everywhere.
        let sealed = seal(changer, &key_id, b"shared");
        for other in &clients {
            assert_eq!(open_blob(other, &sealed), b"shared");
        }
        // So does an alias, and a state change, seen by clients that already hold
        // the key (no lookup miss makes them read the store).
        let alias = format!("alias/round-{round}");
        changer.create_alias(&alias, &key_id).unwrap();
        for other in &clients {
            lags.push(within_a_second("an alias", || {
                aliases(other).contains_key(&alias)
            }));
        }
        changer.disable_key(&key_id).unwrap();
        for other in &clients {
            lags.push(within_a_second("a disabled key", || {
                metadata(other, &key_id)["KeyState"] == "Disabled"
            }));
        }
        changer.enable_key(&key_id).unwrap();
        for other in &clients {
            lags.push(within_a_second("an enabled key", || {
                metadata(other, &key_id)["KeyState"] == "Enabled"
            }));
        }
    }
    lags.sort();
    eprintln!(
        "{kind:?}: changes seen by every client after at most {:?} (median {:?})",
        lags.last().unwrap(),
        lags[lags.len() / 2]
    );
}

on_stores!(a_key_made_by_another_client_is_usable_at_once:
    a_key_made_by_another_client_is_usable_at_once_sqlite => Sqlite,
    a_key_made_by_another_client_is_usable_at_once_postgres => Postgres,
);

fn a_key_made_by_another_client_is_usable_at_once(kind: Kind) {
    let Some(store) = TestStore::new(kind, "at_once") else {
        return;
    };
    let (maker, user) = (store.open(&MASTER, true), store.open(&MASTER, false));
    for i in 0..5 {
        // No wait: the user's snapshot has not seen the key yet, and a miss reads
        // the store once before answering KeyNotFound.
        let key_id = maker
            .create_key(&CreateKeyRequest::default())
            .unwrap()
            .value
            .key_id;
        let blob = seal(&user, &key_id, b"at once");
        assert_eq!(open_blob(&maker, &blob), b"at once");
        let alias = format!("alias/at-once-{i}");
        maker.create_alias(&alias, &key_id).unwrap();
        seal(&user, &alias, b"through the new alias");
    }
}

on_stores!(a_due_rotation_in_racing_clients_makes_one_version:
    a_due_rotation_in_racing_clients_makes_one_version_memory => Memory,
    a_due_rotation_in_racing_clients_makes_one_version_sqlite => Sqlite,
    a_due_rotation_in_racing_clients_makes_one_version_postgres => Postgres,
);

fn a_due_rotation_in_racing_clients_makes_one_version(kind: Kind) {
    let Some(store) = TestStore::new(kind, "race") else {
        return;
    };
    let first = Arc::new(store.open(&MASTER, true));
    let key_id = first
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .value
        .key_id;
    first
        .update_rotation_policy(&key_id, true, Some("7d"))
        .unwrap();
    let clock = Arc::new(AtomicI64::new(localkms::time::system_now() + 8 * 86_400));
    // In memory, one client's threads race; otherwise four clients.
    let clients: Vec<Arc<Client>> = (0..4)
        .map(|_| {
            let client = if store.is_shared() {
                Arc::new(store.open(&MASTER, false))
            } else {
                first.clone()
            };
            let c = clock.clone();
            client.set_clock(Some(Arc::new(move || c.load(Ordering::SeqCst))));
            client
        })
        .collect();
    let barrier = Arc::new(std::sync::Barrier::new(clients.len()));
    let threads: Vec<_> = clients
        .iter()
        .map(|client| {
            let (client, key_id, barrier) = (client.clone(), key_id.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                client
                    .advance_encrypt(&EncryptRequest {
                        key_id: &key_id,
                        plaintext: b"due",
                        ..Default::default()
                    })
                    .unwrap()
                    .key_version_id
            })
        })
        .collect();
    let used: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let listed = versions(&clients[0], &key_id);
    assert_eq!(
        listed["KeyVersion"].as_array().unwrap().len(),
        2,
        "{kind:?}: exactly one new version: {listed}"
    );
    assert!(used.iter().all(|v| *v == used[0]), "{used:?}");
    assert_eq!(used[0], primary(&clients[0], &key_id));
}
