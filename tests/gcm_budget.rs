//! GCM invocation budget per key version (issue 10): at most 2^32 encryptions
//! under one version (NIST SP 800-38D, random 96-bit IVs), counted across every
//! client of a store, reserved in ranges so that no call writes the store; a spent
//! primary rotates (AdvanceEncrypt, AdvanceGenerateDataKey), a spent initial
//! version refuses (Encrypt, GenerateDataKey). The limit is lowered here.

mod common;

use std::collections::HashMap;

use localkms::service::{
    CreateKeyRequest, DataKeyRequest, DecryptRequest, EncryptRequest, OpenOptions,
};
use localkms::{Client, ErrorKind};

use common::calls::new_key;

fn seal(client: &Client, key_id: &str) -> (Vec<u8>, String) {
    common::calls::seal(client, key_id, b"budget")
}

#[test]
fn a_spent_primary_rotates_and_every_blob_still_opens() {
    let client = Client::in_memory();
    client.limit_gcm_invocations(10);
    let key_id = new_key(&client);
    let mut per_version: HashMap<String, u32> = HashMap::new();
    let mut blobs = Vec::new();
    for _ in 0..35 {
        let (blob, version) = seal(&client, &key_id);
        *per_version.entry(version).or_default() += 1;
        blobs.push(blob);
    }
    assert_eq!(per_version.len(), 4, "{per_version:?}");
    assert!(per_version.values().all(|&n| n <= 10), "{per_version:?}");
    for blob in blobs {
        let opened = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &blob,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(&opened.plaintext[..], b"budget");
    }
    // Data keys count against the same budget and rotate the same way.
    let before = per_version.len();
    for _ in 0..15 {
        client
            .advance_generate_data_key(&DataKeyRequest {
                key_id: &key_id,
                ..Default::default()
            })
            .unwrap();
    }
    let doc: serde_json::Value =
        serde_json::from_str(&client.list_key_versions(&key_id).unwrap().to_json()).unwrap();
    let versions = doc["KeyVersions"]["KeyVersion"].as_array().unwrap().len();
    assert!(versions > before, "{versions} versions");
}

#[test]
fn a_spent_initial_version_is_refused_and_block_modes_do_not_count() {
    let client = Client::in_memory();
    client.limit_gcm_invocations(5);
    let key_id = client
        .create_key(&CreateKeyRequest {
            algorithms: Some("AES_GCM,AES_CBC"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    let encrypt = |algorithm: &str| {
        client.encrypt(&EncryptRequest {
            key_id: &key_id,
            plaintext: b"x",
            algorithm: Some(algorithm),
            ..Default::default()
        })
    };
    for _ in 0..5 {
        encrypt("AES_GCM").unwrap();
    }
    let e = encrypt("AES_GCM").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnsupportedOperation, "{e:?}");
    assert!(e.message().contains("AdvanceEncrypt"), "{e:?}");
    let e = client
        .generate_data_key(&DataKeyRequest {
            key_id: &key_id,
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnsupportedOperation);
    // CBC is no GCM invocation.
    for _ in 0..20 {
        encrypt("AES_CBC").unwrap();
    }
    // AdvanceEncrypt rotates away from the spent version.
    let (_, version) = seal(&client, &key_id);
    let doc: serde_json::Value =
        serde_json::from_str(&client.describe_key(&key_id).unwrap().to_json()).unwrap();
    assert_eq!(doc["KeyMetadata"]["PrimaryKeyVersion"], version.as_str());
}

#[test]
fn clients_of_one_store_share_the_budget_and_it_survives_a_reopen() {
    let dir = std::env::temp_dir().join(format!("localkms-gcm-budget-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("store.db");
    let master = [7u8; 32];
    let open = |create| {
        let client = Client::open(&OpenOptions {
            keystore_path: Some(&store),
            master_key: Some(&master),
            create_if_missing: create,
            ..Default::default()
        })
        .unwrap();
        client.limit_gcm_invocations(64);
        client
    };
    let a = open(true);
    let key_id = new_key(&a);
    let b = open(false);
    let mut per_version: HashMap<String, u32> = HashMap::new();
    for i in 0..200 {
        let client = if i % 2 == 0 { &a } else { &b };
        let (_, version) = seal(client, &key_id);
        *per_version.entry(version).or_default() += 1;
    }
    assert!(per_version.values().all(|&n| n <= 64), "{per_version:?}");
    assert!(per_version.len() >= 4, "{per_version:?}");
    drop((a, b));
    // Reopened: the reservations are in the store, so a new client does not start
    // the current primary's count again.
    let c = open(false);
    let doc: serde_json::Value =
        serde_json::from_str(&c.describe_key(&key_id).unwrap().to_json()).unwrap();
    let primary = doc["KeyMetadata"]["PrimaryKeyVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let used = per_version.get(&primary).copied().unwrap_or(0);
    let mut more = 0;
    loop {
        let (_, version) = seal(&c, &key_id);
        if version != primary {
            break;
        }
        more += 1;
        assert!(used + more <= 64, "{used} + {more}");
    }
    drop(c);
    std::fs::remove_dir_all(&dir).unwrap();
}
