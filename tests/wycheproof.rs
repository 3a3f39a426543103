//! Project Wycheproof known-answer vectors (AES-GCM and AES-CBC-PKCS5) run through
//! the public Rust API: each vector's key is imported as the material of an EXTERNAL
//! key, then Encrypt / Decrypt / AdvanceDecrypt (with KeyId) are checked against the
//! vector. See `tests/vectors/wycheproof/README.md` for the source, licence and the
//! counts asserted here.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use localkms::service::{CreateKeyRequest, DecryptRequest, EncryptRequest};
use localkms::{Client, ErrorKind};
use serde_json::Value;

use common::hex::unhex;

fn vectors_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/wycheproof"
    ));
    assert!(
        dir.is_dir(),
        "the Wycheproof vectors are missing: expected the folder {} (part of the \
         repository). These tests never skip.",
        dir.display()
    );
    dir
}

fn load(file: &str) -> Value {
    let path = vectors_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn field<'a>(test: &'a Value, name: &str) -> &'a str {
    test[name]
        .as_str()
        .unwrap_or_else(|| panic!("test {} has no string field {name:?}", test["tcId"]))
}

fn spec_for_key_size(bits: u64) -> &'static str {
    match bits {
        128 => "Aliyun_AES_128",
        192 => "Aliyun_AES_192",
        256 => "Aliyun_AES_256",
        other => panic!("unexpected keySize {other}"),
    }
}

/// One EXTERNAL key per distinct vector key (a key accepts only one material).
struct Keys<'c> {
    client: &'c Client,
    by_material: HashMap<Vec<u8>, String>,
}

impl<'c> Keys<'c> {
    fn new(client: &'c Client) -> Self {
        Keys {
            client,
            by_material: HashMap::new(),
        }
    }

    fn key_for(&mut self, key_size_bits: u64, material: &[u8]) -> String {
        assert_eq!(material.len() * 8, key_size_bits as usize);
        if let Some(id) = self.by_material.get(material) {
            return id.clone();
        }
        let key_id = self
            .client
            .create_key(&CreateKeyRequest {
                key_spec: Some(spec_for_key_size(key_size_bits)),
                origin: Some("EXTERNAL"),
                algorithms: Some("AES_GCM,AES_CBC"),
                ..Default::default()
            })
            .expect("create EXTERNAL key")
            .value
            .key_id;
        self.client
            .import_key_material(&key_id, material, 0)
            .expect("import the vector key");
        self.by_material.insert(material.to_vec(), key_id.clone());
        key_id
    }
}

fn count_tests(doc: &Value) -> usize {
    doc["testGroups"]
        .as_array()
        .expect("testGroups")
        .iter()
        .map(|g| g["tests"].as_array().expect("tests").len())
        .sum()
}

#[test]
fn aes_gcm_vectors() {
    let doc = load("aes_gcm_test.json");
    assert_eq!(doc["algorithm"], "AES-GCM");
    assert_eq!(doc["numberOfTests"].as_u64(), Some(316));
    assert_eq!(count_tests(&doc), 316);

    let client = Client::in_memory();
    let mut keys = Keys::new(&client);

    let mut total = 0;
    let mut valid_96 = 0;
    let mut invalid_96 = 0;
    let mut non_96_refused_by_decrypt = 0;
    let mut non_96_refused_by_encrypt = 0;
    let mut zero_iv_encrypt_drew_random_iv = 0;

    for group in doc["testGroups"].as_array().unwrap() {
        assert_eq!(group["type"], "AeadTest");
        assert_eq!(group["tagSize"].as_u64(), Some(128));
        let key_size = group["keySize"].as_u64().expect("keySize");
        let iv_size = group["ivSize"].as_u64().expect("ivSize");
        for test in group["tests"].as_array().unwrap() {
            total += 1;
            let tc = test["tcId"].as_u64().unwrap();
            let key = unhex(field(test, "key"));
            let iv = unhex(field(test, "iv"));
            let aad = unhex(field(test, "aad"));
            let msg = unhex(field(test, "msg"));
            let ct = unhex(field(test, "ct"));
            let tag = unhex(field(test, "tag"));
            let result = field(test, "result");
            assert_eq!(iv.len() * 8, iv_size as usize, "tc {tc}: ivSize");
            let key_id = keys.key_for(key_size, &key);

            let mut ct_tag = ct.clone();
            ct_tag.extend_from_slice(&tag);

            let encrypt_req = EncryptRequest {
                key_id: &key_id,
                plaintext: &msg,
                algorithm: Some("AES_GCM"),
                iv: &iv,
                aad: &aad,
                padding_mode: None,
            };
            let decrypt_req = DecryptRequest {
                ciphertext_blob: &ct_tag,
                key_id: Some(&key_id),
                algorithm: Some("AES_GCM"),
                iv: &iv,
                aad: &aad,
                padding_mode: None,
            };

            if iv_size != 96 {
                // Only 12-byte IVs are accepted: refused at the API boundary, never a
                // wrong answer.
                let err = client.decrypt(&decrypt_req).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidParameter, "tc {tc}: {err:?}");
                let err = client.advance_decrypt(&decrypt_req).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidParameter, "tc {tc}: {err:?}");
                non_96_refused_by_decrypt += 1;
                if iv.is_empty() {
                    // An empty Iv means "none given, draw a random one" (docs/c-api.md §1:
                    // `NULL: random`), so Encrypt cannot refuse it; it must then use a
                    // fresh 12-byte IV and not produce the vector's output.
                    let out = client
                        .encrypt(&encrypt_req)
                        .unwrap_or_else(|e| panic!("tc {tc}: {e:?}"));
                    assert_eq!(out.iv.len(), 12, "tc {tc}");
                    assert_ne!(out.ciphertext_blob, ct_tag, "tc {tc}");
                    zero_iv_encrypt_drew_random_iv += 1;
                } else {
                    let err = client.encrypt(&encrypt_req).unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "tc {tc}: {err:?}");
                    non_96_refused_by_encrypt += 1;
                }
                continue;
            }

            match result {
                "valid" => {
                    let out = client
                        .encrypt(&encrypt_req)
                        .unwrap_or_else(|e| panic!("tc {tc}: encrypt: {e:?}"));
                    assert_eq!(out.ciphertext_blob, ct_tag, "tc {tc}: ciphertext || tag");
                    assert_eq!(out.iv, iv, "tc {tc}");
                    assert_eq!(out.key_id, key_id, "tc {tc}");
                    let opened = client
                        .decrypt(&decrypt_req)
                        .unwrap_or_else(|e| panic!("tc {tc}: decrypt: {e:?}"));
                    assert_eq!(&opened.plaintext[..], &msg[..], "tc {tc}: decrypt");
                    let opened = client
                        .advance_decrypt(&decrypt_req)
                        .unwrap_or_else(|e| panic!("tc {tc}: advance_decrypt: {e:?}"));
                    assert_eq!(&opened.plaintext[..], &msg[..], "tc {tc}: advance_decrypt");
                    valid_96 += 1;
                }
                "invalid" => {
                    for (what, r) in [
                        ("decrypt", client.decrypt(&decrypt_req)),
                        ("advance_decrypt", client.advance_decrypt(&decrypt_req)),
                    ] {
                        match r {
                            Ok(_) => panic!("tc {tc}: {what} accepted an invalid vector"),
                            Err(e) => assert_eq!(
                                e.kind(),
                                ErrorKind::InvalidCiphertext,
                                "tc {tc}: {what}: {e:?}"
                            ),
                        }
                    }
                    // The ciphertext may be right (only the tag is modified); encrypting
                    // must still give the correct tag, not the vector's.
                    let out = client.encrypt(&encrypt_req).unwrap();
                    assert_ne!(out.ciphertext_blob, ct_tag, "tc {tc}");
                    invalid_96 += 1;
                }
                other => panic!("tc {tc}: result {other:?} does not occur in this file"),
            }
        }
    }

    assert_eq!(total, 316, "GCM vectors run");
    assert_eq!(valid_96, 116, "valid 96-bit-IV GCM vectors passed");
    assert_eq!(invalid_96, 81, "invalid 96-bit-IV GCM vectors rejected");
    assert_eq!(
        non_96_refused_by_decrypt, 119,
        "non-96-bit-IV GCM vectors refused by Decrypt and AdvanceDecrypt"
    );
    assert_eq!(
        non_96_refused_by_encrypt, 113,
        "non-empty non-96-bit IVs refused by Encrypt"
    );
    assert_eq!(
        zero_iv_encrypt_drew_random_iv, 6,
        "zero-length IVs, for which Encrypt draws a random 12-byte IV"
    );
    assert_eq!(valid_96 + invalid_96 + non_96_refused_by_decrypt, total);
}

#[test]
fn aes_cbc_pkcs5_vectors() {
    let doc = load("aes_cbc_pkcs5_test.json");
    assert_eq!(doc["algorithm"], "AES-CBC-PKCS5");
    assert_eq!(doc["numberOfTests"].as_u64(), Some(216));
    assert_eq!(count_tests(&doc), 216);

    let client = Client::in_memory();
    let mut keys = Keys::new(&client);
    let mut total = 0;
    let mut valid = 0;
    let mut invalid = 0;
    let mut invalid_messages = std::collections::HashSet::new();

    for group in doc["testGroups"].as_array().unwrap() {
        assert_eq!(group["type"], "IndCpaTest");
        assert_eq!(group["ivSize"].as_u64(), Some(128));
        let key_size = group["keySize"].as_u64().expect("keySize");
        for test in group["tests"].as_array().unwrap() {
            total += 1;
            let tc = test["tcId"].as_u64().unwrap();
            let key = unhex(field(test, "key"));
            let iv = unhex(field(test, "iv"));
            let msg = unhex(field(test, "msg"));
            let ct = unhex(field(test, "ct"));
            let key_id = keys.key_for(key_size, &key);
            let decrypt_req = DecryptRequest {
                ciphertext_blob: &ct,
                key_id: Some(&key_id),
                algorithm: Some("AES_CBC"),
                iv: &iv,
                aad: b"",
                padding_mode: Some("PKCS7_PADDING"),
            };
            match field(test, "result") {
                "valid" => {
                    let out = client
                        .encrypt(&EncryptRequest {
                            key_id: &key_id,
                            plaintext: &msg,
                            algorithm: Some("AES_CBC"),
                            iv: &iv,
                            aad: b"",
                            padding_mode: Some("PKCS7_PADDING"),
                        })
                        .unwrap_or_else(|e| panic!("tc {tc}: encrypt: {e:?}"));
                    assert_eq!(out.ciphertext_blob, ct, "tc {tc}: ciphertext");
                    assert_eq!(out.iv, iv, "tc {tc}");
                    let opened = client
                        .decrypt(&decrypt_req)
                        .unwrap_or_else(|e| panic!("tc {tc}: decrypt: {e:?}"));
                    assert_eq!(&opened.plaintext[..], &msg[..], "tc {tc}: decrypt");
                    let opened = client
                        .advance_decrypt(&decrypt_req)
                        .unwrap_or_else(|e| panic!("tc {tc}: advance_decrypt: {e:?}"));
                    assert_eq!(&opened.plaintext[..], &msg[..], "tc {tc}: advance_decrypt");
                    valid += 1;
                }
                "invalid" => {
                    for (what, r) in [
                        ("decrypt", client.decrypt(&decrypt_req)),
                        ("advance_decrypt", client.advance_decrypt(&decrypt_req)),
                    ] {
                        match r {
                            Ok(_) => panic!("tc {tc}: {what} accepted an invalid vector"),
                            Err(e) => {
                                assert_eq!(
                                    e.kind(),
                                    ErrorKind::InvalidCiphertext,
                                    "tc {tc}: {what}: {e:?}"
                                );
                                invalid_messages.insert(e.message().to_owned());
                            }
                        }
                    }
                    invalid += 1;
                }
                other => panic!("tc {tc}: result {other:?} does not occur in this file"),
            }
        }
    }

    assert_eq!(total, 216, "CBC vectors run");
    assert_eq!(valid, 72, "valid CBC vectors passed");
    assert_eq!(invalid, 144, "invalid CBC vectors rejected");
    // No padding oracle: every failure reads the same.
    assert_eq!(invalid_messages.len(), 1, "{invalid_messages:?}");
}
