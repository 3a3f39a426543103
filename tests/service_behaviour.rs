//! The service's behaviour through the Rust API: keys of every spec, rotation (manual
//! and automatic, driven by a test clock), rotation policies, key states, deletion,
//! imported (EXTERNAL) material, aliases, parameter errors, RequestIds, "a failed
//! call changes nothing", and the JSON of DescribeKey / ListKeys / ListKeyVersions /
//! ListAliases (the service's field names).

mod common;

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use localkms::service::{CreateKeyRequest, DecryptRequest, EncryptRequest, EncryptResponse};
use localkms::{Client, Error, ErrorKind};
use serde_json::Value;

use common::calls::{json, version_ids};
use common::shapes::{is_iso_date, is_key_id, is_uuid_v4, is_version_id_of};

const T0: i64 = 1_800_000_000; // 2027-01-15T08:00:00Z
const DAY: i64 = 86_400;

// ---------------------------------------------------------------------------------
// helpers

/// Checks that `result` failed with `kind`, that the error's code, HTTP status and
/// RequestId are right, and returns the error.
#[track_caller]
fn expect_err<T: Debug>(result: Result<T, Error>, kind: ErrorKind) -> Error {
    let err = match result {
        Ok(v) => panic!("expected {kind:?}, got Ok({v:?})"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), kind, "{err:?}");
    assert_eq!(err.code(), kind.code());
    assert_eq!(err.http_status(), kind.http_status());
    assert!(!err.message().is_empty());
    assert!(is_uuid_v4(err.request_id()), "{err:?}");
    err
}

fn fixed_clock(client: &Client, start: i64) -> Arc<AtomicI64> {
    let now = Arc::new(AtomicI64::new(start));
    let read = now.clone();
    client.set_clock(Some(Arc::new(move || read.load(Ordering::SeqCst))));
    now
}

fn metadata(client: &Client, key_id: &str) -> Value {
    let doc = json(&client.describe_key(key_id).unwrap().to_json());
    assert!(is_uuid_v4(doc["RequestId"].as_str().unwrap()));
    doc["KeyMetadata"].clone()
}

fn create(client: &Client, spec: Option<&str>, origin: Option<&str>) -> String {
    client
        .create_key(&CreateKeyRequest {
            key_spec: spec,
            origin,
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id
}

/// An AES key that permits the block modes too (keys are GCM-only by default).
fn create_with_block_modes(client: &Client, spec: Option<&str>) -> String {
    client
        .create_key(&CreateKeyRequest {
            key_spec: spec,
            algorithms: Some("AES_GCM,AES_CBC,AES_ECB"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id
}

fn adv_enc(client: &Client, key_id: &str, plaintext: &[u8]) -> Result<EncryptResponse, Error> {
    client.advance_encrypt(&EncryptRequest {
        key_id,
        plaintext,
        ..Default::default()
    })
}

fn enc(client: &Client, key_id: &str, plaintext: &[u8]) -> Result<EncryptResponse, Error> {
    client.encrypt(&EncryptRequest {
        key_id,
        plaintext,
        ..Default::default()
    })
}

fn adv_dec(client: &Client, blob: &[u8]) -> Result<Vec<u8>, Error> {
    client
        .advance_decrypt(&DecryptRequest {
            ciphertext_blob: blob,
            ..Default::default()
        })
        .map(|r| r.plaintext.to_vec())
}

/// Decrypt of Encrypt output (AES_GCM, default parameters).
fn dec(client: &Client, key_id: &str, out: &EncryptResponse) -> Result<Vec<u8>, Error> {
    client
        .decrypt(&DecryptRequest {
            ciphertext_blob: &out.ciphertext_blob,
            key_id: Some(key_id),
            iv: &out.iv,
            ..Default::default()
        })
        .map(|r| r.plaintext.to_vec())
}

/// Everything observable about the store, without RequestIds.
fn observable_state(client: &Client) -> Value {
    let mut keys = json(&client.list_keys().unwrap().to_json());
    keys.as_object_mut().unwrap().remove("RequestId");
    let mut aliases = json(&client.list_aliases().unwrap().to_json());
    aliases.as_object_mut().unwrap().remove("RequestId");
    let mut per_key = Vec::new();
    for k in keys["Keys"]["Key"].as_array().unwrap() {
        let id = k["KeyId"].as_str().unwrap();
        let mut v = json(&client.list_key_versions(id).unwrap().to_json());
        v.as_object_mut().unwrap().remove("RequestId");
        per_key.push(serde_json::json!({ "meta": metadata(client, id), "versions": v }));
    }
    serde_json::json!({ "keys": keys, "aliases": aliases, "per_key": per_key })
}

// ---------------------------------------------------------------------------------
// keys and specs

#[test]
fn create_key_defaults_and_describe_fields() {
    let client = Client::in_memory();
    let _now = fixed_clock(&client, T0);
    let key_id = client
        .create_key(&CreateKeyRequest {
            description: Some("app data key"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    assert!(is_key_id(&key_id), "{key_id}");

    let m = metadata(&client, &key_id);
    assert_eq!(m["KeyId"], key_id.as_str());
    assert_eq!(m["KeyState"], "Enabled");
    assert_eq!(m["KeySpec"], "Aliyun_AES_256");
    assert_eq!(m["KeyUsage"], "ENCRYPT/DECRYPT");
    assert_eq!(m["Origin"], "Aliyun_KMS");
    assert_eq!(m["ProtectionLevel"], "SOFTWARE");
    assert_eq!(m["Description"], "app data key");
    assert_eq!(m["CreationDate"], "2027-01-15T08:00:00Z");
    assert_eq!(m["AutomaticRotation"], "Disabled");
    assert!(m.get("RotationInterval").is_none());
    assert!(m.get("NextRotationDate").is_none());
    assert!(m.get("DeleteDate").is_none());
    assert!(m.get("MaterialExpireTime").is_none());
    let primary = m["PrimaryKeyVersion"].as_str().unwrap();
    assert!(is_version_id_of(primary, &key_id), "{primary}");
    assert_eq!(version_ids(&client, &key_id), vec![primary.to_owned()]);

    // Both operations use the one (initial = primary) version.
    let a = adv_enc(&client, &key_id, b"x").unwrap();
    let e = enc(&client, &key_id, b"x").unwrap();
    assert_eq!(a.key_version_id, primary);
    assert_eq!(e.key_version_id, primary);
    assert_eq!(a.algorithm.name(), "AES_GCM");
    assert_eq!(a.iv.len(), 12);

    // Two keys never share an ID.
    let other = create(&client, None, None);
    assert_ne!(other, key_id);
}

#[test]
fn every_symmetric_spec_encrypts_with_every_algorithm() {
    let client = Client::in_memory();
    for spec in ["Aliyun_AES_128", "Aliyun_AES_192", "Aliyun_AES_256"] {
        let key_id = create_with_block_modes(&client, Some(spec));
        assert_eq!(metadata(&client, &key_id)["KeySpec"], spec);
        for (algorithm, padding) in [
            ("AES_GCM", None),
            ("AES_CBC", Some("PKCS7_PADDING")),
            ("AES_CBC", Some("NO_PADDING")),
            ("AES_ECB", Some("PKCS7_PADDING")),
            ("AES_ECB", Some("NO_PADDING")),
        ] {
            let pt = [0x42u8; 32];
            let req = EncryptRequest {
                key_id: &key_id,
                plaintext: &pt,
                algorithm: Some(algorithm),
                padding_mode: padding,
                ..Default::default()
            };
            let sealed = client.advance_encrypt(&req).unwrap();
            assert_eq!(adv_dec(&client, &sealed.ciphertext_blob).unwrap(), pt);
            let bare = client.encrypt(&req).unwrap();
            let dreq = DecryptRequest {
                ciphertext_blob: &bare.ciphertext_blob,
                key_id: Some(&key_id),
                algorithm: Some(algorithm),
                iv: &bare.iv,
                aad: b"",
                padding_mode: padding,
            };
            let opened = client.decrypt(&dreq).unwrap();
            assert_eq!(&opened.plaintext[..], &pt, "{spec} {algorithm} {padding:?}");
            assert_eq!(opened.algorithm.name(), algorithm);
            let opened = client.advance_decrypt(&dreq).unwrap();
            assert_eq!(&opened.plaintext[..], &pt);
        }
    }
}

#[test]
fn asymmetric_keys_refuse_symmetric_operations() {
    let client = Client::in_memory();
    // One RSA key only: key generation is slow in debug builds.
    for (spec, usage) in [
        ("RSA_2048", "ENCRYPT/DECRYPT"),
        ("EC_P256", "SIGN/VERIFY"),
        ("EC_P256K", "SIGN/VERIFY"),
    ] {
        let key_id = create(&client, Some(spec), None);
        let m = metadata(&client, &key_id);
        assert_eq!(m["KeySpec"], spec);
        assert_eq!(m["KeyUsage"], usage);
        assert_eq!(m["KeyState"], "Enabled");
        let version = m["PrimaryKeyVersion"].as_str().unwrap().to_owned();
        let message = format!(
            "The key {key_id} is not a symmetric key. The API only supports symmetric keys."
        );
        let check = |e: Error| {
            assert_eq!(e.code(), "Forbidden.OnlySymmetricKeySupported");
            assert_eq!(e.http_status(), 404);
            assert_eq!(e.message(), message);
        };
        check(expect_err(
            adv_enc(&client, &key_id, b"hi"),
            ErrorKind::OnlySymmetricKeySupported,
        ));
        check(expect_err(
            enc(&client, &key_id, b"hi"),
            ErrorKind::OnlySymmetricKeySupported,
        ));
        let bare = DecryptRequest {
            ciphertext_blob: &[0u8; 32],
            key_id: Some(&key_id),
            iv: &[0u8; 12],
            ..Default::default()
        };
        check(expect_err(
            client.decrypt(&bare),
            ErrorKind::OnlySymmetricKeySupported,
        ));
        check(expect_err(
            client.advance_decrypt(&bare),
            ErrorKind::OnlySymmetricKeySupported,
        ));
        // A blob that names the asymmetric key's version.
        let mut blob = vec![b'$', 0, 2];
        blob.extend_from_slice(version.as_bytes());
        blob.extend_from_slice(&[0u8; 12 + 16]);
        check(expect_err(
            adv_dec(&client, &blob),
            ErrorKind::OnlySymmetricKeySupported,
        ));
        expect_err(client.rotate_key(&key_id), ErrorKind::UnsupportedOperation);
        expect_err(
            client.update_rotation_policy(&key_id, true, Some("7d")),
            ErrorKind::UnsupportedOperation,
        );
        expect_err(
            client.import_key_material(&key_id, &[0u8; 32], 0),
            ErrorKind::UnsupportedOperation,
        );
        assert_eq!(version_ids(&client, &key_id).len(), 1);
    }

    // Invalid combinations are refused before any key is made.
    let before = observable_state(&client);
    let bad = |spec: Option<&str>, usage: Option<&str>, origin: Option<&str>| {
        client.create_key(&CreateKeyRequest {
            key_spec: spec,
            key_usage: usage,
            origin,
            ..Default::default()
        })
    };
    expect_err(
        bad(Some("EC_P256"), Some("ENCRYPT/DECRYPT"), None),
        ErrorKind::InvalidParameter,
    );
    expect_err(
        bad(Some("Aliyun_AES_256"), Some("SIGN/VERIFY"), None),
        ErrorKind::InvalidParameter,
    );
    expect_err(
        bad(Some("AES_256"), None, None),
        ErrorKind::InvalidParameter,
    );
    expect_err(
        bad(None, Some("ENCRYPT"), None),
        ErrorKind::InvalidParameter,
    );
    expect_err(bad(None, None, Some("HSM")), ErrorKind::InvalidParameter);
    expect_err(
        bad(Some("RSA_2048"), None, Some("EXTERNAL")),
        ErrorKind::UnsupportedOperation,
    );
    assert_eq!(observable_state(&client), before);
}

// ---------------------------------------------------------------------------------
// rotation

#[test]
fn manual_rotation_changes_only_what_advance_encrypt_uses() {
    let client = Client::in_memory();
    let key_id = create(&client, None, None);
    let v0 = version_ids(&client, &key_id)[0].clone();
    let e0 = enc(&client, &key_id, b"encrypt before").unwrap();
    let a0 = adv_enc(&client, &key_id, b"advance before").unwrap();
    assert_eq!(a0.key_version_id, v0);
    assert_eq!(&a0.ciphertext_blob[3..39], v0.as_bytes());

    let mut all = vec![v0.clone()];
    let mut blobs = vec![(a0, b"advance before".to_vec())];
    for round in 1..=3 {
        let new = client.rotate_key(&key_id).unwrap().value.key_version_id;
        assert!(is_version_id_of(&new, &key_id));
        assert!(!all.contains(&new));
        all.push(new.clone());
        assert_eq!(version_ids(&client, &key_id), all, "oldest first");
        let m = metadata(&client, &key_id);
        assert_eq!(m["PrimaryKeyVersion"], new.as_str());

        let pt = format!("advance after rotation {round}").into_bytes();
        let a = adv_enc(&client, &key_id, &pt).unwrap();
        assert_eq!(a.key_version_id, new);
        assert_eq!(&a.ciphertext_blob[3..39], new.as_bytes());
        blobs.push((a, pt));

        // Encrypt keeps the initial version, whatever rotations happened.
        let e = enc(&client, &key_id, b"encrypt after").unwrap();
        assert_eq!(e.key_version_id, v0);
        assert_eq!(dec(&client, &key_id, &e).unwrap(), b"encrypt after");
        let opened = client
            .decrypt(&DecryptRequest {
                ciphertext_blob: &e0.ciphertext_blob,
                key_id: Some(&key_id),
                iv: &e0.iv,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(&opened.plaintext[..], b"encrypt before");
        assert_eq!(opened.key_version_id, v0);
        // AdvanceDecrypt with KeyId opens Encrypt output too.
        let opened = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &e0.ciphertext_blob,
                key_id: Some(&key_id),
                algorithm: Some("AES_GCM"),
                iv: &e0.iv,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(&opened.plaintext[..], b"encrypt before");

        // Every older blob opens with the version recorded in it.
        for (blob, pt) in &blobs {
            let opened = client
                .advance_decrypt(&DecryptRequest {
                    ciphertext_blob: &blob.ciphertext_blob,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(&opened.plaintext[..], &pt[..]);
            assert_eq!(opened.key_version_id, blob.key_version_id);
            assert_eq!(opened.key_id, key_id);
        }
    }
}

#[test]
fn rotation_policy_validation() {
    let client = Client::in_memory();
    let _now = fixed_clock(&client, T0);
    let key_id = create(&client, None, None);

    // Enabling without any interval, ever, is a missing parameter.
    expect_err(
        client.update_rotation_policy(&key_id, true, None),
        ErrorKind::MissingParameter,
    );
    expect_err(
        client.update_rotation_policy(&key_id, true, Some("")),
        ErrorKind::MissingParameter,
    );
    for bad in [
        "6d", "366d", "x", "7", "d", "7w", "-7d", "604799s", "7 d", "7д", "é", "7dд", "٧d",
    ] {
        expect_err(
            client.update_rotation_policy(&key_id, true, Some(bad)),
            ErrorKind::InvalidParameter,
        );
    }
    assert_eq!(metadata(&client, &key_id)["AutomaticRotation"], "Disabled");

    for (good, seconds) in [
        ("365d", 365 * DAY),
        ("604800s", 7 * DAY),
        ("168h", 7 * DAY),
        ("7d", 7 * DAY),
    ] {
        client
            .update_rotation_policy(&key_id, true, Some(good))
            .unwrap_or_else(|e| panic!("{good}: {e:?}"));
        let m = metadata(&client, &key_id);
        assert_eq!(m["AutomaticRotation"], "Enabled");
        assert_eq!(m["RotationInterval"], format!("{seconds}s"));
        let next = m["NextRotationDate"].as_str().unwrap();
        assert!(is_iso_date(next), "{next}");
    }
    let m = metadata(&client, &key_id);
    assert_eq!(m["RotationInterval"], "604800s");
    assert_eq!(m["LastRotationDate"], "2027-01-15T08:00:00Z");
    assert_eq!(m["NextRotationDate"], "2027-01-22T08:00:00Z");

    // Disabling keeps the interval; enabling again without one reuses it.
    client.update_rotation_policy(&key_id, false, None).unwrap();
    let m = metadata(&client, &key_id);
    assert_eq!(m["AutomaticRotation"], "Disabled");
    assert!(m.get("NextRotationDate").is_none());
    client.update_rotation_policy(&key_id, true, None).unwrap();
    let m = metadata(&client, &key_id);
    assert_eq!(m["AutomaticRotation"], "Enabled");
    assert_eq!(m["RotationInterval"], "604800s");
    assert_eq!(
        version_ids(&client, &key_id).len(),
        1,
        "no rotation was due"
    );
}

#[test]
fn automatic_rotation_follows_the_clock() {
    let client = Client::in_memory();
    let now = fixed_clock(&client, T0);
    let key_id = create(&client, None, None);
    let v0 = version_ids(&client, &key_id)[0].clone();
    client
        .update_rotation_policy(&key_id, true, Some("7d"))
        .unwrap();
    assert_eq!(
        metadata(&client, &key_id)["NextRotationDate"],
        "2027-01-22T08:00:00Z"
    );

    // One second before NextRotationDate: nothing happens.
    now.store(T0 + 7 * DAY - 1, Ordering::SeqCst);
    assert_eq!(adv_enc(&client, &key_id, b"a").unwrap().key_version_id, v0);
    assert_eq!(version_ids(&client, &key_id).len(), 1);

    // At NextRotationDate the next AdvanceEncrypt uses a new version.
    now.store(T0 + 7 * DAY, Ordering::SeqCst);
    let a1 = adv_enc(&client, &key_id, b"after one interval").unwrap();
    let vs = version_ids(&client, &key_id);
    assert_eq!(vs.len(), 2);
    assert_eq!(a1.key_version_id, vs[1]);
    assert_ne!(a1.key_version_id, v0);
    let m = metadata(&client, &key_id);
    assert_eq!(m["PrimaryKeyVersion"], vs[1].as_str());
    assert_eq!(m["LastRotationDate"], "2027-01-22T08:00:00Z");
    assert_eq!(m["NextRotationDate"], "2027-01-29T08:00:00Z");
    // Encrypt still uses the initial version.
    assert_eq!(enc(&client, &key_id, b"e").unwrap().key_version_id, v0);

    // Several intervals pass: exactly one new version, created now; the schedule
    // stays fixed (LastRotationDate is the latest scheduled date that passed).
    let later = T0 + 7 * DAY + 45 * DAY;
    now.store(later, Ordering::SeqCst);
    let a2 = adv_enc(&client, &key_id, b"after many intervals").unwrap();
    let vs = version_ids(&client, &key_id);
    assert_eq!(vs.len(), 3, "{vs:?}");
    assert_eq!(a2.key_version_id, vs[2]);
    let doc = json(&client.list_key_versions(&key_id).unwrap().to_json());
    assert_eq!(
        doc["KeyVersions"]["KeyVersion"][2]["CreationDate"],
        "2027-03-08T08:00:00Z"
    );
    let m = metadata(&client, &key_id);
    assert_eq!(m["LastRotationDate"], "2027-03-05T08:00:00Z");
    assert_eq!(m["NextRotationDate"], "2027-03-12T08:00:00Z");
    // A second use at the same time does not rotate again.
    assert_eq!(
        adv_enc(&client, &key_id, b"x").unwrap().key_version_id,
        vs[2]
    );
    assert_eq!(version_ids(&client, &key_id).len(), 3);

    // Old blobs still open.
    assert_eq!(
        adv_dec(&client, &a1.ciphertext_blob).unwrap(),
        b"after one interval"
    );

    // While the key is Disabled, rotation is Suspended and nothing rotates.
    client.disable_key(&key_id).unwrap();
    now.store(later + 100 * DAY, Ordering::SeqCst);
    let m = metadata(&client, &key_id);
    assert_eq!(m["AutomaticRotation"], "Suspended");
    assert_eq!(m["KeyState"], "Disabled");
    expect_err(adv_enc(&client, &key_id, b"x"), ErrorKind::KeyDisabled);
    let _ = client.list_keys().unwrap().to_json();
    assert_eq!(version_ids(&client, &key_id).len(), 3);

    // Enabled again, the overdue rotation happens once, at the next use.
    client.enable_key(&key_id).unwrap();
    assert_eq!(metadata(&client, &key_id)["AutomaticRotation"], "Enabled");
    let a3 = adv_enc(&client, &key_id, b"re-enabled").unwrap();
    let vs = version_ids(&client, &key_id);
    assert_eq!(vs.len(), 4);
    assert_eq!(a3.key_version_id, vs[3]);

    // Automatic rotation turned off: time passes, no new versions.
    client.update_rotation_policy(&key_id, false, None).unwrap();
    now.store(later + 500 * DAY, Ordering::SeqCst);
    assert_eq!(
        adv_enc(&client, &key_id, b"y").unwrap().key_version_id,
        vs[3]
    );
    assert_eq!(version_ids(&client, &key_id).len(), 4);
    assert_eq!(metadata(&client, &key_id)["AutomaticRotation"], "Disabled");
}

#[test]
fn a_policy_that_is_already_overdue_rotates_at_once() {
    let client = Client::in_memory();
    let now = fixed_clock(&client, T0);
    let key_id = create(&client, None, None);
    now.store(T0 + 10 * DAY, Ordering::SeqCst);
    client
        .update_rotation_policy(&key_id, true, Some("7d"))
        .unwrap();
    let vs = version_ids(&client, &key_id);
    assert_eq!(vs.len(), 2);
    let m = metadata(&client, &key_id);
    assert_eq!(m["PrimaryKeyVersion"], vs[1].as_str());
    assert_eq!(m["LastRotationDate"], "2027-01-25T08:00:00Z");
    assert_eq!(m["NextRotationDate"], "2027-02-01T08:00:00Z");
}

// ---------------------------------------------------------------------------------
// key states and deletion

#[test]
fn disabled_keys_refuse_encrypt_and_decrypt_until_enabled() {
    let client = Client::in_memory();
    let key_id = create(&client, None, None);
    let blob = adv_enc(&client, &key_id, b"kept").unwrap();
    let bare = enc(&client, &key_id, b"bare").unwrap();

    client.disable_key(&key_id).unwrap();
    client.disable_key(&key_id).unwrap(); // idempotent
    assert_eq!(metadata(&client, &key_id)["KeyState"], "Disabled");
    for e in [
        expect_err(adv_enc(&client, &key_id, b"x"), ErrorKind::KeyDisabled),
        expect_err(enc(&client, &key_id, b"x"), ErrorKind::KeyDisabled),
        expect_err(
            adv_dec(&client, &blob.ciphertext_blob),
            ErrorKind::KeyDisabled,
        ),
        expect_err(dec(&client, &key_id, &bare), ErrorKind::KeyDisabled),
        expect_err(client.rotate_key(&key_id), ErrorKind::KeyDisabled),
    ] {
        assert_eq!(e.code(), "Rejected.Disabled");
        assert_eq!(e.http_status(), 409);
        assert_eq!(
            e.message(),
            "The request was rejected because the key state is Disabled."
        );
    }

    client.enable_key(&key_id).unwrap();
    assert_eq!(metadata(&client, &key_id)["KeyState"], "Enabled");
    assert_eq!(adv_dec(&client, &blob.ciphertext_blob).unwrap(), b"kept");
    assert_eq!(dec(&client, &key_id, &bare).unwrap(), b"bare");
}

#[test]
fn scheduled_deletion_window_cancel_and_removal() {
    let client = Client::in_memory();
    let now = fixed_clock(&client, T0);
    let key_id = create(&client, None, None);
    let survivor = create(&client, None, None);
    client.create_alias("alias/doomed", &key_id).unwrap();
    client.create_alias("alias/doomed-too", &key_id).unwrap();
    client.create_alias("alias/survivor", &survivor).unwrap();
    let blob = adv_enc(&client, &key_id, b"soon gone").unwrap();

    for bad in [-1, 0, 6, 367, i32::MAX] {
        expect_err(
            client.schedule_key_deletion(&key_id, bad),
            ErrorKind::InvalidParameter,
        );
    }
    assert_eq!(metadata(&client, &key_id)["KeyState"], "Enabled");

    // 366 days is allowed; cancel returns the key to Enabled.
    client.schedule_key_deletion(&key_id, 366).unwrap();
    let m = metadata(&client, &key_id);
    assert_eq!(m["KeyState"], "PendingDeletion");
    assert_eq!(m["DeleteDate"], "2028-01-16T08:00:00Z");
    for e in [
        expect_err(
            adv_enc(&client, &key_id, b"x"),
            ErrorKind::KeyPendingDeletion,
        ),
        expect_err(enc(&client, &key_id, b"x"), ErrorKind::KeyPendingDeletion),
        expect_err(
            adv_dec(&client, &blob.ciphertext_blob),
            ErrorKind::KeyPendingDeletion,
        ),
        expect_err(client.enable_key(&key_id), ErrorKind::KeyPendingDeletion),
        expect_err(client.disable_key(&key_id), ErrorKind::KeyPendingDeletion),
        expect_err(client.rotate_key(&key_id), ErrorKind::KeyPendingDeletion),
        expect_err(
            client.schedule_key_deletion(&key_id, 7),
            ErrorKind::KeyPendingDeletion,
        ),
    ] {
        assert_eq!(e.code(), "Rejected.PendingDeletion");
        assert_eq!(e.http_status(), 409);
    }
    client.cancel_key_deletion(&key_id).unwrap();
    let m = metadata(&client, &key_id);
    assert_eq!(m["KeyState"], "Enabled");
    assert!(m.get("DeleteDate").is_none());
    assert_eq!(
        adv_dec(&client, &blob.ciphertext_blob).unwrap(),
        b"soon gone"
    );
    expect_err(
        client.cancel_key_deletion(&key_id),
        ErrorKind::UnsupportedOperation,
    );

    // A Disabled key can be scheduled too; cancelling makes it Enabled.
    client.disable_key(&key_id).unwrap();
    client.schedule_key_deletion(&key_id, 30).unwrap();
    client.cancel_key_deletion(&key_id).unwrap();
    assert_eq!(metadata(&client, &key_id)["KeyState"], "Enabled");

    // 7 days, then the clock passes DeleteDate.
    client.schedule_key_deletion(&key_id, 7).unwrap();
    assert_eq!(
        metadata(&client, &key_id)["DeleteDate"],
        "2027-01-22T08:00:00Z"
    );
    now.store(T0 + 7 * DAY - 1, Ordering::SeqCst);
    assert_eq!(metadata(&client, &key_id)["KeyState"], "PendingDeletion");
    now.store(T0 + 7 * DAY, Ordering::SeqCst);
    expect_err(client.describe_key(&key_id), ErrorKind::KeyNotFound);
    expect_err(client.list_key_versions(&key_id), ErrorKind::KeyNotFound);
    expect_err(adv_enc(&client, &key_id, b"x"), ErrorKind::KeyNotFound);
    expect_err(
        adv_dec(&client, &blob.ciphertext_blob),
        ErrorKind::KeyNotFound,
    );
    expect_err(client.cancel_key_deletion(&key_id), ErrorKind::KeyNotFound);

    let keys = json(&client.list_keys().unwrap().to_json());
    let ids: Vec<&str> = keys["Keys"]["Key"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["KeyId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![survivor.as_str()]);
    assert_eq!(keys["TotalCount"], 1);
    let aliases = json(&client.list_aliases().unwrap().to_json());
    let names: Vec<&str> = aliases["Aliases"]["Alias"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AliasName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["alias/survivor"]);
    // The aliases are gone: their names are free again, and using them fails.
    let e = adv_enc(&client, "alias/doomed-too", b"x").unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::AliasNotFound | ErrorKind::KeyNotFound),
        "{e:?}"
    );
    client.create_alias("alias/doomed", &survivor).unwrap();
    expect_err(
        adv_enc(&client, "alias/doomed-too", b"x"),
        ErrorKind::AliasNotFound,
    );
    assert_eq!(
        adv_enc(&client, "alias/doomed", b"x").unwrap().key_id,
        survivor
    );
}

// ---------------------------------------------------------------------------------
// imported key material

#[test]
fn external_keys_import_expiry_and_reimport() {
    let client = Client::in_memory();
    let now = fixed_clock(&client, T0);
    let key_id = create(&client, Some("Aliyun_AES_256"), Some("EXTERNAL"));
    let m = metadata(&client, &key_id);
    assert_eq!(m["KeyState"], "PendingImport");
    assert_eq!(m["Origin"], "EXTERNAL");

    for e in [
        expect_err(adv_enc(&client, &key_id, b"x"), ErrorKind::KeyPendingImport),
        expect_err(enc(&client, &key_id, b"x"), ErrorKind::KeyPendingImport),
    ] {
        assert_eq!(e.code(), "Rejected.PendingImport");
        assert_eq!(e.http_status(), 409);
    }

    let material = [0x5au8; 32];
    for wrong in [
        &[0u8; 16][..],
        &[0u8; 24],
        &[0u8; 31],
        &[0u8; 33],
        &[0u8; 64],
    ] {
        expect_err(
            client.import_key_material(&key_id, wrong, 0),
            ErrorKind::InvalidKeyMaterial,
        );
    }
    expect_err(
        client.import_key_material(&key_id, &[], 0),
        ErrorKind::MissingParameter,
    );
    expect_err(
        client.import_key_material(&key_id, &material, T0 - 1),
        ErrorKind::InvalidParameter,
    );
    expect_err(
        client.import_key_material(&key_id, &material, -5),
        ErrorKind::InvalidParameter,
    );
    assert_eq!(metadata(&client, &key_id)["KeyState"], "PendingImport");

    client.import_key_material(&key_id, &material, 0).unwrap();
    assert_eq!(metadata(&client, &key_id)["KeyState"], "Enabled");
    let blob = adv_enc(&client, &key_id, b"imported").unwrap();
    let bare = enc(&client, &key_id, b"bare").unwrap();

    // Different material is refused; the same material is accepted again.
    expect_err(
        client.import_key_material(&key_id, &[0xa5u8; 32], 0),
        ErrorKind::InvalidKeyMaterial,
    );
    client.import_key_material(&key_id, &material, 0).unwrap();
    assert_eq!(
        adv_dec(&client, &blob.ciphertext_blob).unwrap(),
        b"imported"
    );

    // Rotation is not for imported keys.
    expect_err(client.rotate_key(&key_id), ErrorKind::UnsupportedOperation);
    expect_err(
        client.update_rotation_policy(&key_id, true, Some("7d")),
        ErrorKind::UnsupportedOperation,
    );
    assert_eq!(version_ids(&client, &key_id).len(), 1);

    // Import with an expiry: after it the key is PendingImport.
    let expire = T0 + 100;
    client
        .import_key_material(&key_id, &material, expire)
        .unwrap();
    let m = metadata(&client, &key_id);
    assert_eq!(m["MaterialExpireTime"], "2027-01-15T08:01:40Z");
    now.store(expire - 1, Ordering::SeqCst);
    assert_eq!(
        adv_dec(&client, &blob.ciphertext_blob).unwrap(),
        b"imported"
    );
    now.store(expire, Ordering::SeqCst);
    assert_eq!(metadata(&client, &key_id)["KeyState"], "PendingImport");
    expect_err(adv_enc(&client, &key_id, b"x"), ErrorKind::KeyPendingImport);
    expect_err(
        adv_dec(&client, &blob.ciphertext_blob),
        ErrorKind::KeyPendingImport,
    );
    expect_err(dec(&client, &key_id, &bare), ErrorKind::KeyPendingImport);
    // Only the same material brings it back.
    expect_err(
        client.import_key_material(&key_id, &[1u8; 32], 0),
        ErrorKind::InvalidKeyMaterial,
    );
    assert_eq!(metadata(&client, &key_id)["KeyState"], "PendingImport");
    client.import_key_material(&key_id, &material, 0).unwrap();
    let m = metadata(&client, &key_id);
    assert_eq!(m["KeyState"], "Enabled");
    assert!(m.get("MaterialExpireTime").is_none());
    assert_eq!(
        adv_dec(&client, &blob.ciphertext_blob).unwrap(),
        b"imported"
    );
    assert_eq!(dec(&client, &key_id, &bare).unwrap(), b"bare");

    // Import is only for EXTERNAL keys; other specs take their own length.
    let kms_key = create(&client, None, None);
    expect_err(
        client.import_key_material(&kms_key, &material, 0),
        ErrorKind::UnsupportedOperation,
    );
    let k128 = create(&client, Some("Aliyun_AES_128"), Some("EXTERNAL"));
    expect_err(
        client.import_key_material(&k128, &material, 0),
        ErrorKind::InvalidKeyMaterial,
    );
    client.import_key_material(&k128, &[7u8; 16], 0).unwrap();
    let k192 = create(&client, Some("Aliyun_AES_192"), Some("EXTERNAL"));
    expect_err(
        client.import_key_material(&k192, &[7u8; 16], 0),
        ErrorKind::InvalidKeyMaterial,
    );
    client.import_key_material(&k192, &[7u8; 24], 0).unwrap();
    expect_err(
        client.import_key_material("key-doesnotexist0000000", &material, 0),
        ErrorKind::KeyNotFound,
    );
}

// ---------------------------------------------------------------------------------
// aliases

#[test]
fn aliases_name_keys_everywhere() {
    let client = Client::in_memory();
    let k1 = create(&client, None, None);
    let k2 = create(&client, None, None);
    client.create_alias("alias/app", &k1).unwrap();
    // An alias may be given as the target: it resolves to the real key.
    client.create_alias("alias/app-2/x_y", "alias/app").unwrap();

    let a = adv_enc(&client, "alias/app", b"via alias").unwrap();
    assert_eq!(a.key_id, k1);
    let e = enc(&client, "alias/app", b"via alias").unwrap();
    assert_eq!(e.key_id, k1);
    let opened = client
        .decrypt(&DecryptRequest {
            ciphertext_blob: &e.ciphertext_blob,
            key_id: Some("alias/app"),
            iv: &e.iv,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(opened.key_id, k1);
    assert_eq!(&opened.plaintext[..], b"via alias");
    let opened = client
        .advance_decrypt(&DecryptRequest {
            ciphertext_blob: &e.ciphertext_blob,
            key_id: Some("alias/app-2/x_y"),
            iv: &e.iv,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(opened.key_id, k1);
    assert_eq!(metadata(&client, "alias/app")["KeyId"], k1.as_str());
    assert_eq!(version_ids(&client, "alias/app").len(), 1);
    let v = client.rotate_key("alias/app").unwrap().value.key_version_id;
    assert!(is_version_id_of(&v, &k1));
    assert_eq!(version_ids(&client, &k1).len(), 2);
    client
        .update_rotation_policy("alias/app", true, Some("30d"))
        .unwrap();
    assert_eq!(metadata(&client, &k1)["RotationInterval"], "2592000s");
    client.disable_key("alias/app").unwrap();
    assert_eq!(metadata(&client, &k1)["KeyState"], "Disabled");
    client.enable_key("alias/app").unwrap();
    client.schedule_key_deletion("alias/app", 7).unwrap();
    client.cancel_key_deletion("alias/app").unwrap();
    assert_eq!(metadata(&client, &k1)["KeyState"], "Enabled");

    // Duplicates, updates, deletion.
    let dup = expect_err(
        client.create_alias("alias/app", &k2),
        ErrorKind::AliasAlreadyExists,
    );
    assert_eq!(dup.http_status(), 400);
    client.update_alias("alias/app", &k2).unwrap();
    assert_eq!(adv_enc(&client, "alias/app", b"x").unwrap().key_id, k2);
    // The other alias still names k1.
    assert_eq!(
        adv_enc(&client, "alias/app-2/x_y", b"x").unwrap().key_id,
        k1
    );
    // A blob made through the alias before the update still opens (it names a version).
    assert_eq!(adv_dec(&client, &a.ciphertext_blob).unwrap(), b"via alias");
    let nf = expect_err(
        client.update_alias("alias/nope", &k1),
        ErrorKind::AliasNotFound,
    );
    assert_eq!(nf.code(), "Forbidden.AliasNotFound");
    assert_eq!(nf.http_status(), 404);
    expect_err(
        client.update_alias("alias/app", "key-000000000000000000000"),
        ErrorKind::KeyNotFound,
    );
    expect_err(
        client.create_alias("alias/new", "key-000000000000000000000"),
        ErrorKind::KeyNotFound,
    );
    expect_err(
        client.create_alias("alias/new", "alias/nope"),
        ErrorKind::AliasNotFound,
    );

    let doc = json(&client.list_aliases().unwrap().to_json());
    let list = doc["Aliases"]["Alias"].as_array().unwrap();
    let pairs: Vec<(&str, &str)> = list
        .iter()
        .map(|a| {
            (
                a["AliasName"].as_str().unwrap(),
                a["KeyId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![("alias/app", k2.as_str()), ("alias/app-2/x_y", k1.as_str())]
    );
    assert_eq!(doc["TotalCount"], 2);

    client.delete_alias("alias/app").unwrap();
    expect_err(
        adv_enc(&client, "alias/app", b"x"),
        ErrorKind::AliasNotFound,
    );
    expect_err(client.describe_key("alias/app"), ErrorKind::AliasNotFound);
    expect_err(client.delete_alias("alias/app"), ErrorKind::AliasNotFound);
    // The key itself is untouched.
    assert_eq!(metadata(&client, &k2)["KeyState"], "Enabled");

    // Invalid names.
    let long = format!("alias/{}", "a".repeat(250));
    let longest_ok = format!("alias/{}", "a".repeat(249));
    for bad in [
        "app",
        "alias/",
        "alias",
        "Alias/app",
        "alias/acs",
        "alias/acs/kms",
        "alias/acsfoo",
        "alias/has space",
        "alias/ümlaut",
        "alias/a.b",
        "alias/a:b",
        long.as_str(),
    ] {
        expect_err(client.create_alias(bad, &k1), ErrorKind::InvalidParameter);
        expect_err(client.update_alias(bad, &k1), ErrorKind::InvalidParameter);
        expect_err(client.delete_alias(bad), ErrorKind::InvalidParameter);
    }
    client.create_alias(&longest_ok, &k1).unwrap();
    assert_eq!(adv_enc(&client, &longest_ok, b"x").unwrap().key_id, k1);
}

// ---------------------------------------------------------------------------------
// parameter errors

#[test]
fn parameter_errors() {
    let client = Client::in_memory();
    let key_id = create_with_block_modes(&client, None);
    let enc_with = |algorithm: Option<&str>,
                    pt: &[u8],
                    iv: &[u8],
                    aad: &[u8],
                    padding: Option<&str>|
     -> Vec<Result<EncryptResponse, Error>> {
        let req = EncryptRequest {
            key_id: &key_id,
            plaintext: pt,
            algorithm,
            iv,
            aad,
            padding_mode: padding,
        };
        vec![client.advance_encrypt(&req), client.encrypt(&req)]
    };
    let invalid = |results: Vec<Result<EncryptResponse, Error>>, what: &str| {
        for r in results {
            let e = match r {
                Ok(_) => panic!("{what}: accepted"),
                Err(e) => e,
            };
            assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{what}: {e:?}");
            assert_eq!(e.code(), "InvalidParameter");
            assert_eq!(e.http_status(), 400);
            assert!(is_uuid_v4(e.request_id()));
        }
    };
    let fine = |results: Vec<Result<EncryptResponse, Error>>, what: &str| {
        for r in results {
            r.unwrap_or_else(|e| panic!("{what}: {e:?}"));
        }
    };

    for alg in ["AES_CTR", "aes_gcm", "AES-GCM", " AES_GCM"] {
        invalid(enc_with(Some(alg), b"x", b"", b"", None), alg);
    }
    // An algorithm of another block cipher is refused by the key, naming what it
    // permits.
    for r in enc_with(Some("SM4_GCM"), b"x", b"", b"", None) {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedOperation, "{e:?}");
        assert!(e.message().contains("AES_GCM, AES_CBC, AES_ECB"), "{e:?}");
    }
    invalid(
        enc_with(Some("AES_GCM"), b"x", &[0; 11], b"", None),
        "GCM 11-byte IV",
    );
    invalid(
        enc_with(Some("AES_GCM"), b"x", &[0; 13], b"", None),
        "GCM 13-byte IV",
    );
    invalid(
        enc_with(Some("AES_GCM"), b"x", &[0; 16], b"", None),
        "GCM 16-byte IV",
    );
    fine(
        enc_with(Some("AES_GCM"), b"x", &[0; 12], b"", None),
        "GCM 12-byte IV",
    );
    invalid(
        enc_with(Some("AES_CBC"), b"x", &[0; 12], b"", None),
        "CBC 12-byte IV",
    );
    invalid(
        enc_with(Some("AES_CBC"), b"x", &[0; 15], b"", None),
        "CBC 15-byte IV",
    );
    invalid(
        enc_with(Some("AES_CBC"), b"x", &[0; 17], b"", None),
        "CBC 17-byte IV",
    );
    fine(
        enc_with(Some("AES_CBC"), b"x", &[0; 16], b"", None),
        "CBC 16-byte IV",
    );
    invalid(
        enc_with(Some("AES_ECB"), b"x", &[0; 16], b"", None),
        "ECB with IV",
    );
    invalid(
        enc_with(Some("AES_ECB"), b"x", &[0; 12], b"", None),
        "ECB with IV",
    );
    invalid(
        enc_with(Some("AES_CBC"), b"x", b"", b"aad", None),
        "Aad with CBC",
    );
    invalid(
        enc_with(Some("AES_ECB"), b"x", b"", b"aad", None),
        "Aad with ECB",
    );
    fine(
        enc_with(Some("AES_GCM"), b"x", b"", &[1; 8192], None),
        "Aad of 8192",
    );
    invalid(
        enc_with(Some("AES_GCM"), b"x", b"", &[1; 8193], None),
        "Aad of 8193",
    );
    for len in [1usize, 15, 17, 31] {
        for alg in ["AES_CBC", "AES_ECB"] {
            invalid(
                enc_with(Some(alg), &vec![0; len], b"", b"", Some("NO_PADDING")),
                &format!("{alg} NO_PADDING {len}"),
            );
        }
    }
    for len in [0usize, 16, 32] {
        fine(
            enc_with(Some("AES_CBC"), &vec![0; len], b"", b"", Some("NO_PADDING")),
            "aligned NO_PADDING",
        );
    }
    for padding in ["PKCS7_PADDING", "NO_PADDING"] {
        invalid(
            enc_with(Some("AES_GCM"), b"x", b"", b"", Some(padding)),
            "padding with GCM",
        );
        invalid(
            enc_with(None, b"x", b"", b"", Some(padding)),
            "padding with default GCM",
        );
    }
    for padding in ["PKCS5_PADDING", "pkcs7_padding", "ZERO_PADDING"] {
        invalid(
            enc_with(Some("AES_CBC"), b"x", b"", b"", Some(padding)),
            padding,
        );
    }

    // Decrypt side.
    let bare = enc(&client, &key_id, b"secret").unwrap();
    let sealed = adv_enc(&client, &key_id, b"secret").unwrap();
    let dec_req = |algorithm: Option<&'static str>, iv: &'static [u8], aad: &'static [u8]| {
        (algorithm, iv, aad)
    };
    for (algorithm, iv, aad) in [
        dec_req(Some("AES_GCM"), &[0; 16], b""),
        dec_req(Some("AES_GCM"), &[0; 11], b""),
        dec_req(Some("AES_GCM"), b"", b""),
        dec_req(Some("AES_CBC"), &[0; 12], b""),
        dec_req(Some("AES_CBC"), b"", b""),
        dec_req(Some("AES_ECB"), &[0; 16], b""),
        dec_req(Some("AES_XTS"), &[0; 12], b""),
        dec_req(Some("AES_CBC"), &[0; 16], b"aad"),
    ] {
        let req = DecryptRequest {
            ciphertext_blob: &bare.ciphertext_blob,
            key_id: Some(&key_id),
            algorithm,
            iv,
            aad,
            padding_mode: None,
        };
        expect_err(client.decrypt(&req), ErrorKind::InvalidParameter);
        expect_err(client.advance_decrypt(&req), ErrorKind::InvalidParameter);
    }
    let big_aad = vec![0u8; 8193];
    expect_err(
        client.decrypt(&DecryptRequest {
            ciphertext_blob: &bare.ciphertext_blob,
            key_id: Some(&key_id),
            iv: &bare.iv,
            aad: &big_aad,
            ..Default::default()
        }),
        ErrorKind::InvalidParameter,
    );
    expect_err(
        client.advance_decrypt(&DecryptRequest {
            ciphertext_blob: &sealed.ciphertext_blob,
            aad: &big_aad,
            ..Default::default()
        }),
        ErrorKind::InvalidParameter,
    );
    expect_err(
        client.decrypt(&DecryptRequest {
            ciphertext_blob: &bare.ciphertext_blob,
            key_id: Some(&key_id),
            iv: &bare.iv,
            padding_mode: Some("PKCS7_PADDING"),
            ..Default::default()
        }),
        ErrorKind::InvalidParameter,
    );
    // An AdvanceEncrypt blob carries its own IV: one given with it (as Alibaba's
    // SDKs send blob[36:48], or up to 48 bytes) is ignored, as the service does.
    for iv in [&sealed.iv[..], &[0xEE; 48][..], &[1][..]] {
        let opened = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &sealed.ciphertext_blob,
                iv,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(&opened.plaintext[..], b"secret");
    }
    expect_err(
        client.advance_decrypt(&DecryptRequest {
            ciphertext_blob: &sealed.ciphertext_blob,
            padding_mode: Some("PKCS5"),
            ..Default::default()
        }),
        ErrorKind::InvalidParameter,
    );

    // Missing KeyId everywhere.
    let m = ErrorKind::MissingParameter;
    let e = expect_err(adv_enc(&client, "", b"x"), m);
    assert_eq!(e.code(), "MissingParameter");
    assert_eq!(e.http_status(), 400);
    assert!(e.message().contains("KeyId"), "{}", e.message());
    expect_err(enc(&client, "", b"x"), m);
    for key in [None, Some("")] {
        expect_err(
            client.decrypt(&DecryptRequest {
                ciphertext_blob: &bare.ciphertext_blob,
                key_id: key,
                iv: &bare.iv,
                ..Default::default()
            }),
            m,
        );
    }
    expect_err(adv_dec(&client, b""), m);
    expect_err(client.describe_key(""), m);
    expect_err(client.list_key_versions(""), m);
    expect_err(client.rotate_key(""), m);
    expect_err(client.update_rotation_policy("", true, Some("7d")), m);
    expect_err(client.enable_key(""), m);
    expect_err(client.disable_key(""), m);
    expect_err(client.schedule_key_deletion("", 7), m);
    expect_err(client.cancel_key_deletion(""), m);
    expect_err(client.import_key_material("", &[0; 32], 0), m);
    expect_err(client.create_alias("alias/x", ""), m);
    expect_err(client.create_alias("", &key_id), m);
    expect_err(client.update_alias("", &key_id), m);
    expect_err(client.delete_alias(""), m);

    // Unknown keys and aliases.
    let nf = expect_err(
        adv_enc(&client, "key-000000000000000000000", b"x"),
        ErrorKind::KeyNotFound,
    );
    assert_eq!(nf.code(), "Forbidden.KeyNotFound");
    assert_eq!(nf.http_status(), 404);
    expect_err(adv_enc(&client, "not-a-key", b"x"), ErrorKind::KeyNotFound);
    expect_err(
        client.describe_key("alias/unknown"),
        ErrorKind::AliasNotFound,
    );
}

// ---------------------------------------------------------------------------------
// RequestIds, failed calls, JSON

#[test]
fn every_call_gets_a_fresh_request_id() {
    let client = Client::in_memory();
    let key_id = create(&client, None, None);
    let mut seen = std::collections::HashSet::new();
    let mut note = |id: &str| {
        assert!(is_uuid_v4(id), "{id}");
        assert!(seen.insert(id.to_owned()), "RequestId {id} reused");
    };
    for _ in 0..5 {
        let a = adv_enc(&client, &key_id, b"x").unwrap();
        note(&a.request_id);
        let e = enc(&client, &key_id, b"x").unwrap();
        note(&e.request_id);
        let d = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &a.ciphertext_blob,
                ..Default::default()
            })
            .unwrap();
        note(&d.request_id);
        let d = client
            .decrypt(&DecryptRequest {
                ciphertext_blob: &e.ciphertext_blob,
                key_id: Some(&key_id),
                iv: &e.iv,
                ..Default::default()
            })
            .unwrap();
        note(&d.request_id);
        for doc in [
            client.describe_key(&key_id).unwrap().to_json(),
            client.list_keys().unwrap().to_json(),
            client.list_key_versions(&key_id).unwrap().to_json(),
            client.list_aliases().unwrap().to_json(),
        ] {
            note(json(&doc)["RequestId"].as_str().unwrap());
        }
        for err in [
            adv_enc(&client, "", b"x").unwrap_err(),
            adv_enc(&client, "key-000000000000000000000", b"x").unwrap_err(),
            adv_dec(&client, b"garbage").unwrap_err(),
            client.rotate_key("alias/none").unwrap_err(),
            client
                .update_rotation_policy(&key_id, true, Some("1d"))
                .unwrap_err(),
            client.create_alias("alias/acs", &key_id).unwrap_err(),
        ] {
            note(err.request_id());
        }
    }
    assert_eq!(seen.len(), 5 * 14);
}

#[test]
fn failed_calls_change_nothing() {
    let client = Client::in_memory();
    let _now = fixed_clock(&client, T0);
    let key_id = create(&client, None, None);
    let ext = create(&client, Some("Aliyun_AES_128"), Some("EXTERNAL"));
    client.import_key_material(&ext, &[3u8; 16], 0).unwrap();
    let pending = create(&client, None, Some("EXTERNAL"));
    client.create_alias("alias/main", &key_id).unwrap();
    client
        .update_rotation_policy(&key_id, true, Some("30d"))
        .unwrap();
    let before = observable_state(&client);

    let failures: Vec<(&str, Result<(), Error>)> = vec![
        (
            "policy 6d",
            client
                .update_rotation_policy(&key_id, true, Some("6d"))
                .map(drop),
        ),
        (
            "policy x",
            client
                .update_rotation_policy(&key_id, false, Some("x"))
                .map(drop),
        ),
        (
            "deletion 3",
            client.schedule_key_deletion(&key_id, 3).map(drop),
        ),
        (
            "deletion 400",
            client.schedule_key_deletion(&key_id, 400).map(drop),
        ),
        ("cancel", client.cancel_key_deletion(&key_id).map(drop)),
        (
            "import other",
            client.import_key_material(&ext, &[4u8; 16], 0).map(drop),
        ),
        (
            "import length",
            client
                .import_key_material(&pending, &[4u8; 16], 0)
                .map(drop),
        ),
        (
            "import into KMS key",
            client.import_key_material(&key_id, &[4u8; 32], 0).map(drop),
        ),
        ("rotate EXTERNAL", client.rotate_key(&ext).map(|_| ())),
        (
            "rotate PendingImport",
            client.rotate_key(&pending).map(|_| ()),
        ),
        (
            "alias exists",
            client.create_alias("alias/main", &ext).map(drop),
        ),
        (
            "alias to nothing",
            client
                .create_alias("alias/x", "key-000000000000000000000")
                .map(drop),
        ),
        (
            "update missing",
            client.update_alias("alias/missing", &ext).map(drop),
        ),
        (
            "update to nothing",
            client.update_alias("alias/main", "alias/missing").map(drop),
        ),
        (
            "delete missing",
            client.delete_alias("alias/missing").map(drop),
        ),
        (
            "bad alias",
            client.create_alias("alias/acs/x", &key_id).map(drop),
        ),
        (
            "bad spec",
            client
                .create_key(&CreateKeyRequest {
                    key_spec: Some("Aliyun_AES_512"),
                    ..Default::default()
                })
                .map(|_| ()),
        ),
        (
            "enable PendingImport",
            client.enable_key(&pending).map(drop),
        ),
        (
            "encrypt PendingImport",
            adv_enc(&client, &pending, b"x").map(|_| ()),
        ),
        (
            "bad algorithm",
            client
                .advance_encrypt(&EncryptRequest {
                    key_id: &key_id,
                    plaintext: b"x",
                    algorithm: Some("AES_OCB"),
                    ..Default::default()
                })
                .map(|_| ()),
        ),
    ];
    for (what, r) in failures {
        assert!(r.is_err(), "{what} succeeded");
    }
    assert_eq!(observable_state(&client), before);
}

#[test]
fn list_documents_have_the_service_field_names() {
    let client = Client::in_memory();
    let now = fixed_clock(&client, T0);
    let k1 = create(&client, None, None);
    now.store(T0 + 60, Ordering::SeqCst);
    let k2 = create(&client, Some("Aliyun_AES_128"), Some("EXTERNAL"));
    now.store(T0 + 120, Ordering::SeqCst);
    let v1 = client.rotate_key(&k1).unwrap().value.key_version_id;
    client.create_alias("alias/b", &k1).unwrap();
    client.create_alias("alias/a", &k2).unwrap();

    let keys = json(&client.list_keys().unwrap().to_json());
    let list = keys["Keys"]["Key"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["KeyId"], k1.as_str(), "oldest first");
    assert_eq!(list[1]["KeyId"], k2.as_str());
    assert_eq!(keys["TotalCount"], 2);
    assert_eq!(keys["PageNumber"], 1);
    assert!(keys["PageSize"].as_u64().unwrap() >= 2);
    assert!(is_uuid_v4(keys["RequestId"].as_str().unwrap()));

    let doc = json(&client.list_key_versions(&k1).unwrap().to_json());
    let list = doc["KeyVersions"]["KeyVersion"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for (i, v) in list.iter().enumerate() {
        assert_eq!(v["KeyId"], k1.as_str());
        assert!(is_version_id_of(v["KeyVersionId"].as_str().unwrap(), &k1));
        let expected_date = if i == 0 {
            "2027-01-15T08:00:00Z"
        } else {
            "2027-01-15T08:02:00Z"
        };
        assert_eq!(v["CreationDate"], expected_date);
    }
    assert_eq!(list[1]["KeyVersionId"], v1.as_str());
    assert_eq!(doc["TotalCount"], 2);
    assert!(is_uuid_v4(doc["RequestId"].as_str().unwrap()));

    let doc = json(&client.list_aliases().unwrap().to_json());
    let list = doc["Aliases"]["Alias"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["AliasName"], "alias/a");
    assert_eq!(list[0]["KeyId"], k2.as_str());
    assert_eq!(list[1]["AliasName"], "alias/b");
    assert_eq!(list[1]["KeyId"], k1.as_str());
    assert_eq!(doc["TotalCount"], 2);

    let m = metadata(&client, &k1);
    for field in [
        "KeyId",
        "KeyState",
        "KeySpec",
        "KeyUsage",
        "Origin",
        "ProtectionLevel",
        "Description",
        "CreationDate",
        "PrimaryKeyVersion",
        "LastRotationDate",
        "AutomaticRotation",
    ] {
        assert!(m.get(field).is_some(), "KeyMetadata.{field} missing: {m}");
    }
    assert_eq!(m["PrimaryKeyVersion"], v1.as_str());
    assert_eq!(m["LastRotationDate"], "2027-01-15T08:02:00Z");
    assert_eq!(m["CreationDate"], "2027-01-15T08:00:00Z");
    for date in ["CreationDate", "LastRotationDate"] {
        assert!(is_iso_date(m[date].as_str().unwrap()));
    }
    let m2 = metadata(&client, &k2);
    assert_eq!(m2["KeySpec"], "Aliyun_AES_128");
    assert_eq!(m2["Origin"], "EXTERNAL");
    assert_eq!(m2["KeyState"], "PendingImport");
    assert_eq!(m2["CreationDate"], "2027-01-15T08:01:00Z");
}

/// Odd strings in every string parameter: never a panic, never a success.
#[test]
fn odd_strings_are_refused_without_panicking() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let client = Client::in_memory();
    let key_id = create(&client, None, None);
    let long = "k".repeat(10_000);
    let long_alias = format!("alias/{}", "д".repeat(200));
    let odd: Vec<&str> = vec![
        " ",
        "д",
        "7д",
        "ддд",
        "\0",
        "key-",
        "key-\u{1F600}",
        "alias/\u{1F600}",
        "alias/acs\u{0301}",
        &long,
        &long_alias,
    ];
    for s in &odd {
        let s: &str = s;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let results: Vec<(&str, Result<(), Error>)> = vec![
                ("advance_encrypt", adv_enc(&client, s, b"x").map(|_| ())),
                ("encrypt", enc(&client, s, b"x").map(|_| ())),
                (
                    "algorithm",
                    client
                        .advance_encrypt(&EncryptRequest {
                            key_id: &key_id,
                            plaintext: b"x",
                            algorithm: Some(s),
                            ..Default::default()
                        })
                        .map(|_| ()),
                ),
                (
                    "padding",
                    client
                        .advance_encrypt(&EncryptRequest {
                            key_id: &key_id,
                            plaintext: b"x",
                            algorithm: Some("AES_CBC"),
                            padding_mode: Some(s),
                            ..Default::default()
                        })
                        .map(|_| ()),
                ),
                ("describe", client.describe_key(s).map(|_| ())),
                ("versions", client.list_key_versions(s).map(|_| ())),
                ("rotate", client.rotate_key(s).map(|_| ())),
                (
                    "interval",
                    client
                        .update_rotation_policy(&key_id, true, Some(s))
                        .map(drop),
                ),
                ("enable", client.enable_key(s).map(drop)),
                ("schedule", client.schedule_key_deletion(s, 7).map(drop)),
                (
                    "import",
                    client.import_key_material(s, &[0; 32], 0).map(drop),
                ),
                ("create_alias", client.create_alias(s, &key_id).map(drop)),
                ("update_alias", client.update_alias(s, &key_id).map(drop)),
                ("delete_alias", client.delete_alias(s).map(drop)),
                (
                    "key spec",
                    client
                        .create_key(&CreateKeyRequest {
                            key_spec: Some(s),
                            ..Default::default()
                        })
                        .map(|_| ()),
                ),
                (
                    "decrypt",
                    client
                        .decrypt(&DecryptRequest {
                            ciphertext_blob: &[0; 32],
                            key_id: Some(s),
                            iv: &[0; 12],
                            ..Default::default()
                        })
                        .map(|_| ()),
                ),
            ];
            results
                .into_iter()
                .map(|(what, r)| (what, r.err().map(|e| (e.kind(), e.request_id().to_owned()))))
                .collect::<Vec<_>>()
        }))
        .unwrap_or_else(|_| panic!("a call panicked on {s:?}"));
        for (what, err) in outcome {
            let (kind, request_id) = err.unwrap_or_else(|| panic!("{what} accepted {s:?}"));
            assert!(is_uuid_v4(&request_id), "{what} {s:?}: {kind:?}");
        }
    }
    // The description has a limit too.
    expect_err(
        client.create_key(&CreateKeyRequest {
            description: Some(&"d".repeat(8193)),
            ..Default::default()
        }),
        ErrorKind::InvalidParameter,
    );
    let ok = client
        .create_key(&CreateKeyRequest {
            description: Some(&"д".repeat(8192)),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    assert_eq!(
        metadata(&client, &ok)["Description"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        8192
    );
}
