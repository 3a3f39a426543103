//! One `Client` shared by several threads: workers encrypt and decrypt (through an
//! alias and by KeyId) while another thread rotates both keys and moves the alias
//! between them. Afterwards every blob still decrypts to its plaintext, with the
//! version recorded in it, and that version exists.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use localkms::service::{DecryptRequest, EncryptRequest};
use localkms::Client;

use common::calls::version_ids;

const WORKERS: usize = 4;
const MUTATIONS: usize = 40;
const ALIAS: &str = "alias/flip";

#[derive(Debug)]
struct Record {
    advance: bool,
    blob: Vec<u8>,
    plaintext: Vec<u8>,
    aad: Vec<u8>,
    algorithm: &'static str,
    iv: Vec<u8>,
    key_id: String,
    key_version_id: String,
}

fn worker(
    client: &Client,
    id: usize,
    stop: &AtomicBool,
    alias_calls: &AtomicUsize,
    keys: [&str; 2],
) -> Vec<Record> {
    let mut records = Vec::new();
    let mut i = 0usize;
    // At least 50 rounds, and on until the mutator is done.
    while i < 50 || !stop.load(Ordering::SeqCst) {
        let plaintext = format!("worker {id} message {i} {}", "x".repeat(i % 37)).into_bytes();
        let aad = if i.is_multiple_of(2) {
            format!("aad {id}/{i}").into_bytes()
        } else {
            Vec::new()
        };
        let (algorithm, padding, aad) = match i % 3 {
            0 | 1 => ("AES_GCM", None, aad),
            _ => ("AES_CBC", Some("PKCS7_PADDING"), Vec::new()),
        };

        // AdvanceEncrypt through the alias: whichever key and primary version are in
        // force at the moment.
        let sealed = client
            .advance_encrypt(&EncryptRequest {
                key_id: ALIAS,
                plaintext: &plaintext,
                algorithm: Some(algorithm),
                aad: &aad,
                padding_mode: padding,
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("worker {id} round {i}: {e:?}"));
        alias_calls.fetch_add(1, Ordering::SeqCst);
        assert!(keys.contains(&sealed.key_id.as_str()));
        assert_eq!(
            &sealed.ciphertext_blob[3..39],
            sealed.key_version_id.as_bytes()
        );
        let opened = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &sealed.ciphertext_blob,
                aad: &aad,
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("worker {id} round {i}: {e:?}"));
        assert_eq!(&opened.plaintext[..], &plaintext[..]);
        assert_eq!(opened.key_version_id, sealed.key_version_id);
        records.push(Record {
            advance: true,
            blob: sealed.ciphertext_blob,
            plaintext: plaintext.clone(),
            aad: aad.clone(),
            algorithm,
            iv: sealed.iv,
            key_id: sealed.key_id,
            key_version_id: sealed.key_version_id,
        });

        // Encrypt by KeyId: always the key's initial version.
        let key_id = keys[(id + i) % 2];
        let bare = client
            .encrypt(&EncryptRequest {
                key_id,
                plaintext: &plaintext,
                algorithm: Some(algorithm),
                aad: &aad,
                padding_mode: padding,
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("worker {id} round {i}: {e:?}"));
        records.push(Record {
            advance: false,
            blob: bare.ciphertext_blob,
            plaintext,
            aad,
            algorithm,
            iv: bare.iv,
            key_id: bare.key_id,
            key_version_id: bare.key_version_id,
        });
        i += 1;
    }
    records
}

#[test]
fn shared_client_under_concurrent_rotation_and_alias_flips() {
    let client = Arc::new(Client::in_memory());
    let all_modes = localkms::service::CreateKeyRequest {
        algorithms: Some("AES_GCM,AES_CBC,AES_ECB"),
        ..Default::default()
    };
    let key_a = client.create_key(&all_modes).unwrap().value.key_id;
    let key_b = client.create_key(&all_modes).unwrap().value.key_id;
    let initial_a = version_ids(&client, &key_a)[0].clone();
    let initial_b = version_ids(&client, &key_b)[0].clone();
    client.create_alias(ALIAS, &key_a).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let alias_calls = Arc::new(AtomicUsize::new(0));

    let workers: Vec<_> = (0..WORKERS)
        .map(|id| {
            let client = client.clone();
            let stop = stop.clone();
            let alias_calls = alias_calls.clone();
            let keys = [key_a.clone(), key_b.clone()];
            thread::spawn(move || {
                worker(
                    &client,
                    id,
                    &stop,
                    &alias_calls,
                    [keys[0].as_str(), keys[1].as_str()],
                )
            })
        })
        .collect();

    let mutator = {
        let client = client.clone();
        let stop = stop.clone();
        let alias_calls = alias_calls.clone();
        let (key_a, key_b) = (key_a.clone(), key_b.clone());
        thread::spawn(move || {
            let mut created = Vec::new();
            for m in 0..MUTATIONS {
                match m % 4 {
                    0 => created.push(client.rotate_key(&key_a).unwrap().value.key_version_id),
                    1 => drop(client.update_alias(ALIAS, &key_b).unwrap()),
                    2 => created.push(client.rotate_key(&key_b).unwrap().value.key_version_id),
                    _ => drop(client.update_alias(ALIAS, &key_a).unwrap()),
                }
                // Wait until some alias call has started after this change: at most
                // WORKERS calls were in flight when it was made.
                let target = alias_calls.load(Ordering::SeqCst) + WORKERS + 1;
                let deadline = Instant::now() + Duration::from_secs(30);
                while alias_calls.load(Ordering::SeqCst) < target {
                    assert!(Instant::now() < deadline, "workers made no progress");
                    thread::yield_now();
                }
            }
            stop.store(true, Ordering::SeqCst);
            created
        })
    };

    let created = mutator.join().expect("mutator thread panicked");
    let records: Vec<Record> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker thread panicked"))
        .collect();

    let all_a = version_ids(&client, &key_a);
    let all_b = version_ids(&client, &key_b);
    assert_eq!(all_a.len() + all_b.len(), 2 + MUTATIONS / 2);
    for v in &created {
        assert!(all_a.contains(v) || all_b.contains(v), "{v} was lost");
    }

    let mut keys_seen = HashSet::new();
    let mut versions_seen = HashSet::new();
    for r in &records {
        let existing = if r.key_id == key_a { &all_a } else { &all_b };
        assert!(
            existing.contains(&r.key_version_id),
            "{} names a version that does not exist",
            r.key_version_id
        );
        let padding = (r.algorithm == "AES_CBC").then_some("PKCS7_PADDING");
        let opened = if r.advance {
            keys_seen.insert(r.key_id.clone());
            versions_seen.insert(r.key_version_id.clone());
            assert_eq!(&r.blob[3..39], r.key_version_id.as_bytes());
            client.advance_decrypt(&DecryptRequest {
                ciphertext_blob: &r.blob,
                aad: &r.aad,
                ..Default::default()
            })
        } else {
            let initial = if r.key_id == key_a {
                &initial_a
            } else {
                &initial_b
            };
            assert_eq!(&r.key_version_id, initial, "Encrypt used a later version");
            client.decrypt(&DecryptRequest {
                ciphertext_blob: &r.blob,
                key_id: Some(&r.key_id),
                algorithm: Some(r.algorithm),
                iv: &r.iv,
                aad: &r.aad,
                padding_mode: padding,
            })
        }
        .unwrap_or_else(|e| panic!("{r:?}: {e:?}"));
        assert_eq!(&opened.plaintext[..], &r.plaintext[..]);
        assert_eq!(opened.key_id, r.key_id);
        assert_eq!(opened.key_version_id, r.key_version_id);
    }

    // The alias really moved and the primaries really changed under the workers.
    assert_eq!(keys_seen.len(), 2, "the alias flip was never observed");
    // Each rotation's new primary was used by a call that ran wholly after it.
    for v in &created {
        assert!(
            versions_seen.contains(v),
            "{v} was never used by AdvanceEncrypt"
        );
    }
    assert!(
        versions_seen.len() >= MUTATIONS / 2,
        "only {} versions were used by AdvanceEncrypt",
        versions_seen.len()
    );
    assert!(records.len() >= WORKERS * 100);
}
