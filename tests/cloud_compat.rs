//! Alibaba Cloud compatibility (issue 9), through the C ABI and the Rust API:
//!
//! - the request shapes of Alibaba's SDKs: AdvanceDecrypt of `'$' | 0x00 | 0x02 |
//!   gateway blob` with `Iv = blob[36:48]` and no KeyId, the PHP SDK's 48-byte Iv,
//!   and classic Decrypt of the shared-gateway form split into KeyVersionId, Iv and
//!   ciphertext, for every AES key size, with and without Aad;
//! - mirrored cloud keys: blobs built the cloud's way from known material, under
//!   KeyIds and KeyVersionIds of both of the cloud's shapes, open after mirroring,
//!   and localkms's own blobs under the mirrored ids open with an independent
//!   AES-GCM;
//! - GCM-only keys by default, on every path.

mod common;

use std::ffi::{CStr, CString};
use std::ptr::{null, null_mut};

use localkms::ffi::*;
use localkms::service::{CreateKeyRequest, DataKeyRequest, DecryptRequest, EncryptRequest};
use localkms::{Client, ErrorKind};

use common::c_abi::{garbage_error, message, take_string};
use common::calls::new_key;
use common::independent_gcm;

/// A KeyId and KeyVersionIds in the cloud's shapes (the documentation's examples,
/// with their masked characters filled in).
const CLOUD_KEY_ID: &str = "key-hzz62f1cb66fa42qoabcd";
const CLOUD_VERSION_ID: &str = "key-hzz62f1cb66fa42qoabcd-20v29babcd";
const UUID_KEY_ID: &str = "1e3304fd-68ac-4d5b-8886-ae5f01a1abcd";
const UUID_VERSION_ID: &str = "1e3304fd-68ac-4d5b-8886-ae5f01a1ef01";
const UUID_VERSION_ID_2: &str = "2f4405fe-79bd-4e6c-9997-bf6f12b2ef02";

const AAD: &[u8] = b"tenant=42";

fn material(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| seed.wrapping_add(i as u8 * 7)).collect()
}

/// The cloud's AdvanceEncrypt blob: `'$' | 0x00 | 0x02 | KeyVersionId | Iv | ct || tag`.
fn cloud_dollar_blob(version_id: &str, iv: &[u8; 12], sealed: &[u8]) -> Vec<u8> {
    let mut blob = vec![b'$', 0x00, 0x02];
    blob.extend_from_slice(&cloud_gateway_blob(version_id, iv, sealed));
    blob
}

/// The shared-gateway form: `KeyVersionId | Iv | ct || tag`.
fn cloud_gateway_blob(version_id: &str, iv: &[u8; 12], sealed: &[u8]) -> Vec<u8> {
    assert_eq!(version_id.len(), 36);
    let mut blob = version_id.as_bytes().to_vec();
    blob.extend_from_slice(iv);
    blob.extend_from_slice(sealed);
    blob
}

fn spec_of(len: usize) -> &'static str {
    match len {
        16 => "Aliyun_AES_128",
        24 => "Aliyun_AES_192",
        _ => "Aliyun_AES_256",
    }
}

// ---------------------------------------------------------------------------------
// The C ABI, as a C caller uses it

struct CClient(*mut kms_client);

impl Drop for CClient {
    fn drop(&mut self) {
        unsafe { kms_client_free(self.0) };
    }
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

impl CClient {
    fn open() -> CClient {
        let mut client = null_mut();
        let mut error = garbage_error();
        assert_eq!(
            unsafe { kms_client_open(null(), &mut client, &mut error) },
            kms_status::Ok
        );
        CClient(client)
    }

    fn create_key(
        &self,
        spec: &str,
        key_id: Option<&str>,
        algorithms: Option<&str>,
    ) -> Result<String, (kms_status, String)> {
        let spec = c(spec);
        let key_id = key_id.map(c);
        let algorithms = algorithms.map(c);
        let options = kms_create_key_options {
            key_spec: spec.as_ptr(),
            key_usage: null(),
            origin: c"EXTERNAL".as_ptr(),
            description: null(),
            key_id: key_id.as_ref().map_or(null(), |k| k.as_ptr()),
            algorithms: algorithms.as_ref().map_or(null(), |a| a.as_ptr()),
        };
        let mut out = null_mut();
        let mut error = garbage_error();
        let status = unsafe { kms_create_key_with_options(self.0, &options, &mut out, &mut error) };
        if status == kms_status::Ok {
            Ok(take_string(out))
        } else {
            assert!(out.is_null(), "no output on failure");
            Err((status, message(&error)))
        }
    }

    fn import_version(
        &self,
        key_id: &str,
        version_id: Option<&str>,
        material: &[u8],
    ) -> Result<(), (kms_status, String)> {
        let key_id = c(key_id);
        let version_id = version_id.map(c);
        let mut error = garbage_error();
        let status = unsafe {
            kms_import_key_version(
                self.0,
                key_id.as_ptr(),
                version_id.as_ref().map_or(null(), |v| v.as_ptr()),
                material.as_ptr(),
                material.len(),
                0,
                &mut error,
            )
        };
        if status == kms_status::Ok {
            Ok(())
        } else {
            Err((status, message(&error)))
        }
    }

    /// kms_advance_decrypt as the SDKs call it: the blob, an Iv (ignored), no KeyId.
    fn advance_decrypt(
        &self,
        blob: &[u8],
        iv: &[u8],
        aad: &[u8],
    ) -> Result<(Vec<u8>, String, String), (kms_status, String)> {
        let mut response: *mut kms_decrypt_response = null_mut();
        let mut error = garbage_error();
        let status = unsafe {
            kms_advance_decrypt(
                self.0,
                blob.as_ptr(),
                blob.len(),
                null(),
                null(),
                if iv.is_empty() { null() } else { iv.as_ptr() },
                iv.len(),
                if aad.is_empty() { null() } else { aad.as_ptr() },
                aad.len(),
                null(),
                &mut response,
                &mut error,
            )
        };
        if status != kms_status::Ok {
            assert!(response.is_null());
            return Err((status, message(&error)));
        }
        let r = unsafe { &*response };
        let plaintext = if r.plaintext.is_null() {
            Vec::new()
        } else {
            unsafe { std::slice::from_raw_parts(r.plaintext, r.plaintext_len) }.to_vec()
        };
        let key_id = unsafe { CStr::from_ptr(r.key_id) }
            .to_str()
            .unwrap()
            .to_owned();
        let version = unsafe { CStr::from_ptr(r.key_version_id) }
            .to_str()
            .unwrap()
            .to_owned();
        unsafe { kms_decrypt_response_free(response) };
        Ok((plaintext, key_id, version))
    }

    fn describe(&self, key_id: &str) -> serde_json::Value {
        let key_id = c(key_id);
        let mut json = null_mut();
        let mut error = garbage_error();
        let status = unsafe { kms_describe_key(self.0, key_id.as_ptr(), &mut json, &mut error) };
        assert_eq!(status, kms_status::Ok, "{}", message(&error));
        serde_json::from_str(&take_string(json)).unwrap()
    }
}

#[test]
fn cloud_blobs_of_both_id_shapes_open_after_mirroring() {
    let client = CClient::open();
    for (n, (key_id, version_id)) in [
        (CLOUD_KEY_ID, CLOUD_VERSION_ID),
        (UUID_KEY_ID, UUID_VERSION_ID),
    ]
    .into_iter()
    .enumerate()
    {
        let key = material(32, 0x11 + n as u8);
        assert_eq!(
            client
                .create_key("Aliyun_AES_256", Some(key_id), None)
                .unwrap(),
            key_id
        );
        client
            .import_version(key_id, Some(version_id), &key)
            .unwrap();
        let metadata = &client.describe(key_id)["KeyMetadata"];
        assert_eq!(metadata["KeyState"], "Enabled");
        assert_eq!(metadata["PrimaryKeyVersion"], version_id);
        assert_eq!(metadata["Algorithms"], serde_json::json!(["AES_GCM"]));

        for aad in [&b""[..], AAD] {
            let iv = [0x5a ^ n as u8; 12];
            let plaintext = b"made by the cloud, opened offline";
            let sealed = independent_gcm::seal(&key, &iv, aad, plaintext);
            for blob in [
                cloud_dollar_blob(version_id, &iv, &sealed),
                cloud_gateway_blob(version_id, &iv, &sealed),
            ] {
                let (opened, kid, vid) = client.advance_decrypt(&blob, &[], aad).unwrap();
                assert_eq!(opened, plaintext);
                assert_eq!((kid.as_str(), vid.as_str()), (key_id, version_id));
                // A wrong Aad is a wrong tag.
                let (status, _) = client.advance_decrypt(&blob, &[], b"other").unwrap_err();
                assert_eq!(status, kms_status::InvalidCiphertext);
            }
        }
    }
    // A 36-byte version the store does not hold is an unknown key, not a bad blob.
    let sealed = independent_gcm::seal(&[0; 32], &[0; 12], b"", b"x");
    for unknown in [
        "9e3304fd-68ac-4d5b-8886-ae5f01a1abcd",
        "key-zzzzzzzzzzzzzzzzzzzzz-zzzzzzzzzz",
        "not a version id but 36 bytes long!!",
    ] {
        for blob in [
            cloud_dollar_blob(unknown, &[0; 12], &sealed),
            cloud_gateway_blob(unknown, &[0; 12], &sealed),
        ] {
            let (status, msg) = client.advance_decrypt(&blob, &[], b"").unwrap_err();
            assert_eq!(status, kms_status::KeyNotFound, "{unknown}: {msg}");
        }
    }
    // Not printable: not a version id at all.
    let mut blob = cloud_dollar_blob(UUID_VERSION_ID, &[0; 12], &sealed);
    blob[5] = 0x07;
    assert_eq!(
        client.advance_decrypt(&blob, &[], b"").unwrap_err().0,
        kms_status::InvalidCiphertext
    );
}

#[test]
fn the_sdks_request_shapes_open_localkms_blobs_for_every_key_size() {
    let client = Client::in_memory();
    for len in [16, 24, 32] {
        let key_id = client
            .create_key(&CreateKeyRequest {
                key_spec: Some(spec_of(len)),
                ..Default::default()
            })
            .unwrap()
            .value
            .key_id;
        for aad in [&b""[..], AAD] {
            let plaintext = format!("{len}-byte key, {} bytes of Aad", aad.len()).into_bytes();
            let sealed = client
                .advance_encrypt(&EncryptRequest {
                    key_id: &key_id,
                    plaintext: &plaintext,
                    aad,
                    ..Default::default()
                })
                .unwrap();
            let blob = &sealed.ciphertext_blob;
            // The transfer SDKs' gateway form is the blob without its first 3 bytes.
            let gateway = &blob[3..];
            assert_eq!(&gateway[..36], sealed.key_version_id.as_bytes());
            assert_eq!(&gateway[36..48], &sealed.iv[..]);

            // AdvanceDecrypt as the SDKs send it: '$' | 0x00 | 0x02 | gateway, with
            // Iv = gateway[36:48] and no KeyId.
            let mut rebuilt = vec![b'$', 0x00, 0x02];
            rebuilt.extend_from_slice(gateway);
            assert_eq!(&rebuilt, blob, "the SDKs rebuild our blob byte for byte");
            // The Python/Java/Go SDKs send 12 bytes of Iv, the PHP one up to 48.
            let php_iv: Vec<u8> = gateway[36..].iter().copied().take(48).collect();
            for iv in [&gateway[36..48], &php_iv[..]] {
                let opened = client
                    .advance_decrypt(&DecryptRequest {
                        ciphertext_blob: &rebuilt,
                        iv,
                        aad,
                        ..Default::default()
                    })
                    .unwrap();
                assert_eq!(&opened.plaintext[..], &plaintext[..]);
            }

            // Classic Decrypt through the transfer SDKs: the gateway form itself,
            // which the SDK splits into KeyVersionId, Iv and ciphertext.
            let (version_id, rest) = gateway.split_at(36);
            let (iv, ciphertext) = rest.split_at(12);
            assert_eq!(version_id, sealed.key_version_id.as_bytes());
            assert_eq!(iv, &sealed.iv[..]);
            assert_eq!(ciphertext.len(), plaintext.len() + 16, "ciphertext || tag");
            let opened = client
                .advance_decrypt(&DecryptRequest {
                    ciphertext_blob: gateway,
                    aad,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(&opened.plaintext[..], &plaintext[..]);
            assert_eq!(opened.key_version_id.as_bytes(), version_id);

            // The same fields, for Encrypt output (the initial version): Decrypt
            // with KeyId, Algorithm, Iv and the ciphertext the SDK split off.
            let bare = client
                .encrypt(&EncryptRequest {
                    key_id: &key_id,
                    plaintext: &plaintext,
                    aad,
                    ..Default::default()
                })
                .unwrap();
            let mut classic = bare.key_version_id.clone().into_bytes();
            classic.extend_from_slice(&bare.iv);
            classic.extend_from_slice(&bare.ciphertext_blob);
            let (v, rest) = classic.split_at(36);
            let (iv2, ct) = rest.split_at(12);
            assert_eq!(v, bare.key_version_id.as_bytes());
            let opened = client
                .decrypt(&DecryptRequest {
                    ciphertext_blob: ct,
                    key_id: Some(&key_id),
                    algorithm: Some("AES_GCM"),
                    iv: iv2,
                    aad,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(&opened.plaintext[..], &plaintext[..]);
        }
    }
}

#[test]
fn localkms_blobs_under_mirrored_ids_open_with_an_independent_aes_gcm() {
    let client = CClient::open();
    for len in [16, 24, 32] {
        let key_id = format!("{UUID_KEY_ID}-{len}");
        let first = material(len, 0x21);
        let second = material(len, 0x77);
        // Version ids of the cloud's UUID form, one pair for each key.
        let initial_id = format!("{}{len:02}", &UUID_VERSION_ID[..34]);
        let primary_id = format!("{}{len:02}", &UUID_VERSION_ID_2[..34]);
        client
            .create_key(spec_of(len), Some(&key_id), None)
            .unwrap();
        // The first version imported is the initial one, the second the primary.
        client
            .import_version(&key_id, Some(&initial_id), &first)
            .unwrap();
        client
            .import_version(&key_id, Some(&primary_id), &second)
            .unwrap();
        let metadata = &client.describe(&key_id)["KeyMetadata"];
        assert_eq!(metadata["PrimaryKeyVersion"], primary_id.as_str());

        let kid = c(&key_id);
        for (advance, material, version) in
            [(true, &second, &primary_id), (false, &first, &initial_id)]
        {
            let mut response: *mut kms_encrypt_response = null_mut();
            let mut error = garbage_error();
            let plaintext = b"opened by anyone who holds the material";
            let f = if advance {
                kms_advance_encrypt
            } else {
                kms_encrypt
            };
            let status = unsafe {
                f(
                    client.0,
                    kid.as_ptr(),
                    plaintext.as_ptr(),
                    plaintext.len(),
                    null(),
                    null(),
                    0,
                    AAD.as_ptr(),
                    AAD.len(),
                    null(),
                    &mut response,
                    &mut error,
                )
            };
            assert_eq!(status, kms_status::Ok, "{}", message(&error));
            let r = unsafe { &*response };
            let blob =
                unsafe { std::slice::from_raw_parts(r.ciphertext_blob, r.ciphertext_blob_len) }
                    .to_vec();
            let iv = unsafe { std::slice::from_raw_parts(r.iv, r.iv_len) }.to_vec();
            let vid = unsafe { CStr::from_ptr(r.key_version_id) }
                .to_str()
                .unwrap()
                .to_owned();
            unsafe { kms_encrypt_response_free(response) };
            assert_eq!(&vid, version);
            let sealed = if advance {
                assert_eq!(&blob[..3], &[b'$', 0, 2]);
                assert_eq!(
                    &blob[3..39],
                    version.as_bytes(),
                    "the blob names the cloud's version"
                );
                assert_eq!(&blob[39..51], &iv[..]);
                &blob[51..]
            } else {
                &blob[..]
            };
            assert_eq!(independent_gcm::open(material, &iv, AAD, sealed), plaintext);
        }
    }
}

#[test]
fn import_key_version_rules() {
    let client = CClient::open();
    let key = material(32, 1);
    client
        .create_key("Aliyun_AES_256", Some(UUID_KEY_ID), None)
        .unwrap();
    client
        .import_version(UUID_KEY_ID, Some(UUID_VERSION_ID), &key)
        .unwrap();
    // The same id with the same material again is fine; other material is not.
    client
        .import_version(UUID_KEY_ID, Some(UUID_VERSION_ID), &key)
        .unwrap();
    let (status, msg) = client
        .import_version(UUID_KEY_ID, Some(UUID_VERSION_ID), &material(32, 2))
        .unwrap_err();
    assert_eq!(status, kms_status::InvalidKeyMaterial, "{msg}");
    // A fresh id when none is given, in the UUID form for a key whose id is not 25 characters.
    client
        .import_version(UUID_KEY_ID, None, &material(32, 3))
        .unwrap();
    let versions = {
        let kid = c(UUID_KEY_ID);
        let mut json = null_mut();
        let mut error = garbage_error();
        assert_eq!(
            unsafe { kms_list_key_versions(client.0, kid.as_ptr(), &mut json, &mut error) },
            kms_status::Ok
        );
        let doc: serde_json::Value = serde_json::from_str(&take_string(json)).unwrap();
        doc["KeyVersions"]["KeyVersion"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["KeyVersionId"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert!(versions.iter().all(|v| v.len() == 36));

    // Another key may not take a version id already in use.
    client
        .create_key("Aliyun_AES_256", Some(CLOUD_KEY_ID), None)
        .unwrap();
    let (status, msg) = client
        .import_version(CLOUD_KEY_ID, Some(UUID_VERSION_ID), &key)
        .unwrap_err();
    assert_eq!(status, kms_status::InvalidParameter, "{msg}");
    // Malformed ids and sizes.
    for bad in [
        "short",
        "1e3304fd-68ac-4d5b-8886-ae5f01a1abcd-x",
        "1e3304fd-68ac-4d5b-8886-ae5f01a1\u{7f}bcd",
    ] {
        let (status, msg) = client
            .import_version(CLOUD_KEY_ID, Some(bad), &key)
            .unwrap_err();
        assert_eq!(status, kms_status::InvalidParameter, "{bad}: {msg}");
    }
    let (status, _) = client
        .import_version(CLOUD_KEY_ID, Some(CLOUD_VERSION_ID), &key[..16])
        .unwrap_err();
    assert_eq!(status, kms_status::InvalidKeyMaterial);

    // Chosen KeyIds: EXTERNAL only, 1-64 of [A-Za-z0-9-], not taken.
    let (status, msg) = client
        .create_key("Aliyun_AES_256", Some(UUID_KEY_ID), None)
        .unwrap_err();
    assert_eq!(status, kms_status::InvalidParameter, "{msg}");
    assert!(msg.contains("in use"), "{msg}");
    for bad in ["alias/app", "", "x".repeat(65).as_str(), "key with spaces"] {
        if bad.is_empty() {
            continue;
        }
        let (status, msg) = client
            .create_key("Aliyun_AES_256", Some(bad), None)
            .unwrap_err();
        assert_eq!(status, kms_status::InvalidParameter, "{bad}: {msg}");
    }
    let rust = Client::in_memory();
    let e = rust
        .create_key(&CreateKeyRequest {
            key_id: Some("my-own-id"),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{e:?}");
    // Only EXTERNAL keys take imported versions.
    let plain = new_key(&rust);
    let e = rust.import_key_version(&plain, None, &key, 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnsupportedOperation);
}

#[test]
fn mirrored_keys_survive_a_reopen_of_the_store() {
    let dir = std::env::temp_dir().join(format!("localkms-cloud-compat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("store.kms");
    let master = [0x42u8; 32];
    let open = || {
        Client::open(&localkms::service::OpenOptions {
            keystore_path: Some(&store),
            master_key: Some(&master),
            create_if_missing: true,
            ..Default::default()
        })
        .unwrap()
    };
    let key = material(32, 9);
    let iv = [3u8; 12];
    let sealed = independent_gcm::seal(&key, &iv, b"", b"kept");
    {
        let client = open();
        client
            .create_key(&CreateKeyRequest {
                origin: Some("EXTERNAL"),
                key_id: Some(UUID_KEY_ID),
                ..Default::default()
            })
            .unwrap();
        client
            .import_key_version(UUID_KEY_ID, Some(UUID_VERSION_ID), &key, 0)
            .unwrap();
    }
    let client = open();
    for blob in [
        cloud_dollar_blob(UUID_VERSION_ID, &iv, &sealed),
        cloud_gateway_blob(UUID_VERSION_ID, &iv, &sealed),
    ] {
        let opened = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &blob,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(&opened.plaintext[..], b"kept");
        assert_eq!(opened.key_id, UUID_KEY_ID);
    }
    drop(client);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keys_are_gcm_only_by_default_on_every_path() {
    let client = Client::in_memory();
    let key_id = new_key(&client);
    let refused = |e: localkms::Error, what: &str| {
        assert_eq!(e.kind(), ErrorKind::UnsupportedOperation, "{what}: {e:?}");
        assert!(
            e.message().contains("permits AES_GCM only"),
            "{what}: {e:?}"
        );
    };
    for algorithm in ["AES_CBC", "AES_ECB"] {
        let req = EncryptRequest {
            key_id: &key_id,
            plaintext: &[0; 16],
            algorithm: Some(algorithm),
            ..Default::default()
        };
        refused(client.advance_encrypt(&req).unwrap_err(), "AdvanceEncrypt");
        refused(client.encrypt(&req).unwrap_err(), "Encrypt");
        let iv = if algorithm == "AES_CBC" {
            &[0u8; 16][..]
        } else {
            &[][..]
        };
        let dreq = DecryptRequest {
            ciphertext_blob: &[0; 32],
            key_id: Some(&key_id),
            algorithm: Some(algorithm),
            iv,
            ..Default::default()
        };
        refused(client.decrypt(&dreq).unwrap_err(), "Decrypt");
        refused(
            client.advance_decrypt(&dreq).unwrap_err(),
            "AdvanceDecrypt with KeyId",
        );
    }
    // A GCM blob relabelled as a block mode, with or without a pin: the key cannot
    // have made it.
    let sealed = client
        .advance_encrypt(&EncryptRequest {
            key_id: &key_id,
            plaintext: &[7; 20],
            ..Default::default()
        })
        .unwrap();
    for (byte, pin) in [
        (1u8, None),
        (3, None),
        (1, Some("AES_CBC")),
        (3, Some("AES_ECB")),
        (2, Some("AES_CBC")),
    ] {
        let mut blob = sealed.ciphertext_blob.clone();
        blob[2] = byte;
        let e = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &blob,
                algorithm: pin,
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::InvalidCiphertext,
            "byte {byte}, pin {pin:?}: {e:?}"
        );
    }
    let mut ecb = sealed.ciphertext_blob.clone();
    ecb[2] = 3;
    let e = client
        .advance_decrypt(&DecryptRequest {
            ciphertext_blob: &ecb,
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.message().contains("permits AES_GCM only"), "{e:?}");

    // A key created for block modes only: GCM, and so data keys, are refused.
    let cbc_only = client
        .create_key(&CreateKeyRequest {
            algorithms: Some("AES_CBC"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    let e = client
        .advance_encrypt(&EncryptRequest {
            key_id: &cbc_only,
            plaintext: b"x",
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnsupportedOperation);
    assert!(e.message().contains("permits AES_CBC only"), "{e:?}");
    for result in [
        client.generate_data_key(&DataKeyRequest {
            key_id: &cbc_only,
            ..Default::default()
        }),
        client.advance_generate_data_key(&DataKeyRequest {
            key_id: &cbc_only,
            ..Default::default()
        }),
    ] {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::UnsupportedOperation);
    }
    client
        .advance_encrypt(&EncryptRequest {
            key_id: &cbc_only,
            plaintext: b"x",
            algorithm: Some("AES_CBC"),
            ..Default::default()
        })
        .unwrap();

    // Algorithms of another spec are refused at creation.
    for bad in ["SM4_GCM", "AES_GCM,AES_CTR", "aes_gcm"] {
        let e = client
            .create_key(&CreateKeyRequest {
                algorithms: Some(bad),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{bad}: {e:?}");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&client.describe_key(&cbc_only).unwrap().to_json()).unwrap();
    assert_eq!(
        doc["KeyMetadata"]["Algorithms"],
        serde_json::json!(["AES_CBC"])
    );
}
