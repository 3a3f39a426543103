//! The typed answers of the service (src/service/metadata.rs, response.rs): what
//! DescribeKey, the list calls and the changes return in Rust, every call's RequestId,
//! and the one serializer's JSON (service_json.rs), byte for byte.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use localkms::crypto::Algorithm;
use localkms::keystore::{KeySpec, KeyState, KeyUsage, Origin};
use localkms::service::{
    AliasSummary, CreateKeyRequest, KeySummary, KeyVersionRef, KeyVersionSummary, Response,
};
use localkms::Client;

use common::calls::new_key;
use common::shapes::{is_uuid_v4, is_version_id_of};

const T0: i64 = 1_800_000_000; // 2027-01-15T08:00:00Z
const DAY: i64 = 86_400;

/// An in-memory client whose clock reads `clock`.
fn client_at(clock: &Arc<AtomicI64>) -> Client {
    let client = Client::in_memory();
    let clock = clock.clone();
    client.set_clock(Some(Arc::new(move || clock.load(Ordering::SeqCst))));
    client
}

#[test]
fn create_key_answers_with_the_metadata_describe_key_gives() {
    let clock = Arc::new(AtomicI64::new(T0));
    let client = client_at(&clock);
    let created = client
        .create_key(&CreateKeyRequest {
            description: Some("app"),
            algorithms: Some("AES_GCM,AES_CBC"),
            ..Default::default()
        })
        .unwrap();
    let meta = &created.value;
    assert_eq!(meta.key_state, KeyState::Enabled);
    assert_eq!(meta.key_spec, KeySpec::Aes256);
    assert_eq!(meta.key_usage, KeyUsage::EncryptDecrypt);
    assert_eq!(meta.origin, Origin::AliyunKms);
    assert_eq!(meta.description, "app");
    assert_eq!(meta.creation_date, T0);
    assert_eq!(meta.last_rotation_date, T0);
    assert_eq!(meta.automatic_rotation, "Disabled");
    assert!(is_version_id_of(&meta.primary_key_version, &meta.key_id));
    assert_eq!(
        meta.algorithms,
        Some(vec![Algorithm::AesGcm, Algorithm::AesCbc])
    );
    assert_eq!(
        (
            meta.rotation_interval,
            meta.next_rotation_date,
            meta.delete_date,
            meta.material_expire_time
        ),
        (None, None, None, None)
    );

    let described = client.describe_key(&meta.key_id).unwrap();
    assert_eq!(&described.value, meta);
    assert_ne!(described.request_id, created.request_id);
}

#[test]
fn changes_show_in_the_typed_metadata() {
    let clock = Arc::new(AtomicI64::new(T0));
    let client = client_at(&clock);
    let key_id = new_key(&client);
    client.create_alias("alias/typed", &key_id).unwrap();

    clock.store(T0 + DAY, Ordering::SeqCst);
    let rotated = client.rotate_key("alias/typed").unwrap().value;
    assert_eq!(rotated.key_id, key_id, "the real KeyId, not the alias");
    client
        .update_rotation_policy(&key_id, true, Some("7d"))
        .unwrap();
    let meta = client.describe_key("alias/typed").unwrap().value;
    assert_eq!(meta.primary_key_version, rotated.key_version_id);
    assert_eq!(meta.last_rotation_date, T0 + DAY);
    assert_eq!(meta.rotation_interval, Some(7 * DAY));
    assert_eq!(meta.next_rotation_date, Some(T0 + 8 * DAY));
    assert_eq!(meta.automatic_rotation, "Enabled");

    client.disable_key(&key_id).unwrap();
    let meta = client.describe_key(&key_id).unwrap().value;
    assert_eq!(meta.key_state, KeyState::Disabled);
    assert_eq!(meta.automatic_rotation, "Suspended");

    client.schedule_key_deletion(&key_id, 7).unwrap();
    let meta = client.describe_key(&key_id).unwrap().value;
    assert_eq!(meta.key_state, KeyState::PendingDeletion);
    assert_eq!(meta.delete_date, Some(T0 + DAY + 7 * DAY));
    client.cancel_key_deletion(&key_id).unwrap();
    assert_eq!(
        client.describe_key(&key_id).unwrap().value.delete_date,
        None
    );

    let versions = client.list_key_versions(&key_id).unwrap().value;
    assert_eq!(
        versions.iter().map(|v| v.creation_date).collect::<Vec<_>>(),
        [T0, T0 + DAY]
    );
    assert_eq!(versions[1].key_version_id, rotated.key_version_id);
    assert!(versions.iter().all(|v| v.key_id == key_id));
}

#[test]
fn lists_are_typed_and_ordered() {
    let clock = Arc::new(AtomicI64::new(T0));
    let client = client_at(&clock);
    let first = new_key(&client);
    clock.store(T0 + 1, Ordering::SeqCst);
    let second = new_key(&client);
    client.create_alias("alias/b", &first).unwrap();
    client.create_alias("alias/a", &second).unwrap();

    let keys = client.list_keys().unwrap().value;
    assert_eq!(
        keys,
        [
            KeySummary {
                key_id: first.clone()
            },
            KeySummary {
                key_id: second.clone()
            }
        ]
    );
    let aliases = client.list_aliases().unwrap().value;
    assert_eq!(
        aliases,
        [
            AliasSummary {
                alias_name: "alias/a".into(),
                key_id: second
            },
            AliasSummary {
                alias_name: "alias/b".into(),
                key_id: first
            }
        ]
    );
}

#[test]
fn an_imported_version_names_its_real_key() {
    let client = Client::in_memory();
    let key_id = client
        .create_key(&CreateKeyRequest {
            origin: Some("EXTERNAL"),
            key_id: Some("mirrored-cloud-key"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    assert_eq!(key_id, "mirrored-cloud-key");
    assert_eq!(
        client.describe_key(&key_id).unwrap().value.key_state,
        KeyState::PendingImport
    );
    client.create_alias("alias/mirror", &key_id).unwrap();
    let version = "1e3304fd-68ac-4d5b-8886-ae5f01a1abcd";
    let imported = client
        .import_key_version("alias/mirror", Some(version), &[7u8; 32], 0)
        .unwrap()
        .value;
    assert_eq!(
        imported,
        KeyVersionRef {
            key_id: key_id.clone(),
            key_version_id: version.into()
        }
    );
    assert_eq!(
        client.describe_key(&key_id).unwrap().value.key_state,
        KeyState::Enabled
    );
}

#[test]
fn every_call_has_its_own_request_id_success_or_failure() {
    let client = Client::in_memory();
    let mut ids = Vec::new();
    let created = client.create_key(&Default::default()).unwrap();
    let key_id = created.value.key_id.clone();
    ids.push(created.request_id);
    ids.push(client.rotate_key(&key_id).unwrap().request_id);
    ids.push(client.create_alias("alias/r", &key_id).unwrap().request_id);
    ids.push(client.update_alias("alias/r", &key_id).unwrap().request_id);
    ids.push(client.disable_key(&key_id).unwrap().request_id);
    ids.push(client.enable_key(&key_id).unwrap().request_id);
    ids.push(
        client
            .update_rotation_policy(&key_id, true, Some("30d"))
            .unwrap()
            .request_id,
    );
    ids.push(
        client
            .schedule_key_deletion(&key_id, 30)
            .unwrap()
            .request_id,
    );
    ids.push(client.cancel_key_deletion(&key_id).unwrap().request_id);
    ids.push(client.describe_key(&key_id).unwrap().request_id);
    ids.push(client.list_keys().unwrap().request_id);
    ids.push(client.list_key_versions(&key_id).unwrap().request_id);
    ids.push(client.list_aliases().unwrap().request_id);
    ids.push(client.delete_alias("alias/r").unwrap().request_id);
    let failed = [
        client.describe_key("alias/r").unwrap_err(),
        client.delete_alias("alias/r").unwrap_err(),
        client.rotate_key("key-000000000000000000000").unwrap_err(),
    ];
    ids.extend(failed.iter().map(|e| e.request_id().to_owned()));
    for id in &ids {
        assert!(is_uuid_v4(id), "{id}");
    }
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "{ids:?}");
}

#[test]
fn the_serializer_writes_the_service_json_byte_for_byte() {
    let clock = Arc::new(AtomicI64::new(T0));
    let client = client_at(&clock);
    let created = client
        .create_key(&CreateKeyRequest {
            description: Some("a \"quoted\" one"),
            ..Default::default()
        })
        .unwrap();
    let key = &created.value.key_id;
    let primary = &created.value.primary_key_version;
    let rid = &created.request_id;
    assert_eq!(
        created.to_json(),
        format!(
            "{{\"KeyMetadata\":{{\"Algorithms\":[\"AES_GCM\"],\"AutomaticRotation\":\"Disabled\",\
             \"CreationDate\":\"2027-01-15T08:00:00Z\",\"Description\":\"a \\\"quoted\\\" one\",\
             \"KeyId\":\"{key}\",\"KeySpec\":\"Aliyun_AES_256\",\"KeyState\":\"Enabled\",\
             \"KeyUsage\":\"ENCRYPT/DECRYPT\",\"LastRotationDate\":\"2027-01-15T08:00:00Z\",\
             \"Origin\":\"Aliyun_KMS\",\"PrimaryKeyVersion\":\"{primary}\",\
             \"ProtectionLevel\":\"SOFTWARE\"}},\"RequestId\":\"{rid}\"}}"
        )
    );

    client
        .update_rotation_policy(key, true, Some("7d"))
        .unwrap();
    client.schedule_key_deletion(key, 7).unwrap();
    let described = client.describe_key(key).unwrap();
    let rid = &described.request_id;
    assert_eq!(
        described.to_json(),
        format!(
            "{{\"KeyMetadata\":{{\"Algorithms\":[\"AES_GCM\"],\"AutomaticRotation\":\"Suspended\",\
             \"CreationDate\":\"2027-01-15T08:00:00Z\",\"DeleteDate\":\"2027-01-22T08:00:00Z\",\
             \"Description\":\"a \\\"quoted\\\" one\",\"KeyId\":\"{key}\",\
             \"KeySpec\":\"Aliyun_AES_256\",\"KeyState\":\"PendingDeletion\",\
             \"KeyUsage\":\"ENCRYPT/DECRYPT\",\"LastRotationDate\":\"2027-01-15T08:00:00Z\",\
             \"NextRotationDate\":\"2027-01-22T08:00:00Z\",\"Origin\":\"Aliyun_KMS\",\
             \"PrimaryKeyVersion\":\"{primary}\",\"ProtectionLevel\":\"SOFTWARE\",\
             \"RotationInterval\":\"604800s\"}},\"RequestId\":\"{rid}\"}}"
        )
    );
    client.cancel_key_deletion(key).unwrap();

    let versions = client.list_key_versions(key).unwrap();
    let rid = &versions.request_id;
    assert_eq!(
        versions.to_json(),
        format!(
            "{{\"KeyVersions\":{{\"KeyVersion\":[{{\"CreationDate\":\"2027-01-15T08:00:00Z\",\
             \"KeyId\":\"{key}\",\"KeyVersionId\":\"{primary}\"}}]}},\"PageNumber\":1,\
             \"PageSize\":1,\"RequestId\":\"{rid}\",\"TotalCount\":1}}"
        )
    );
    let keys = client.list_keys().unwrap();
    let rid = &keys.request_id;
    assert_eq!(
        keys.to_json(),
        format!(
            "{{\"Keys\":{{\"Key\":[{{\"KeyId\":\"{key}\"}}]}},\"PageNumber\":1,\"PageSize\":1,\
             \"RequestId\":\"{rid}\",\"TotalCount\":1}}"
        )
    );
    client.create_alias("alias/json", key).unwrap();
    let aliases = client.list_aliases().unwrap();
    let rid = &aliases.request_id;
    assert_eq!(
        aliases.to_json(),
        format!(
            "{{\"Aliases\":{{\"Alias\":[{{\"AliasName\":\"alias/json\",\"KeyId\":\"{key}\"}}]}},\
             \"PageNumber\":1,\"PageSize\":1,\"RequestId\":\"{rid}\",\"TotalCount\":1}}"
        )
    );
    let rotated = client.rotate_key("alias/json").unwrap();
    assert_eq!(
        rotated.to_json(),
        format!(
            "{{\"KeyId\":\"{key}\",\"KeyVersionId\":\"{}\",\"RequestId\":\"{}\"}}",
            rotated.value.key_version_id, rotated.request_id
        )
    );
    let deleted: Response<()> = client.delete_alias("alias/json").unwrap();
    assert_eq!(
        deleted.to_json(),
        format!("{{\"RequestId\":\"{}\"}}", deleted.request_id)
    );
    let empty: Response<Vec<KeyVersionSummary>> = Response {
        request_id: "r".into(),
        value: Vec::new(),
    };
    assert_eq!(
        empty.to_json(),
        "{\"KeyVersions\":{\"KeyVersion\":[]},\"PageNumber\":1,\"PageSize\":0,\
         \"RequestId\":\"r\",\"TotalCount\":0}"
    );
}
