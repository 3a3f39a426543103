//! Short forms of the service calls the tests make again and again: a blob and back,
//! a key's versions, the keys and aliases a store holds, and JSON documents.

use std::collections::BTreeMap;

use localkms::service::{CreateKeyRequest, DecryptRequest, EncryptRequest};
use localkms::Client;
use serde_json::Value;

/// A JSON document; panics naming the text when it is not one.
pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// AdvanceEncrypt with the defaults: the blob and the version that made it.
pub fn seal(client: &Client, key_id: &str, plaintext: &[u8]) -> (Vec<u8>, String) {
    let response = client
        .advance_encrypt(&EncryptRequest {
            key_id,
            plaintext,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("advance_encrypt with {key_id}: {e}"));
    (response.ciphertext_blob, response.key_version_id)
}

/// AdvanceDecrypt of a blob alone: the plaintext and the version that decrypted.
pub fn unseal(client: &Client, blob: &[u8]) -> localkms::Result<(Vec<u8>, String)> {
    client
        .advance_decrypt(&DecryptRequest {
            ciphertext_blob: blob,
            ..Default::default()
        })
        .map(|r| (r.plaintext.to_vec(), r.key_version_id))
}

/// The KeyVersionIds of a key, the initial version first (ListKeyVersions).
pub fn version_ids(client: &Client, key_id: &str) -> Vec<String> {
    let versions = client
        .list_key_versions(key_id)
        .unwrap_or_else(|e| panic!("list_key_versions of {key_id}: {e}"));
    versions
        .value
        .into_iter()
        .map(|v| v.key_version_id)
        .collect()
}

/// The KeyIds of the store, by CreationDate (ListKeys).
pub fn key_ids(client: &Client) -> Vec<String> {
    let keys = client.list_keys().expect("list_keys");
    keys.value.into_iter().map(|k| k.key_id).collect()
}

/// Every alias and the KeyId it names (ListAliases).
pub fn aliases(client: &Client) -> BTreeMap<String, String> {
    let aliases = client.list_aliases().expect("list_aliases");
    aliases
        .value
        .into_iter()
        .map(|a| (a.alias_name, a.key_id))
        .collect()
}

/// CreateKey with the defaults (an Aliyun_AES_256 key for GCM): its KeyId.
pub fn new_key(client: &Client) -> String {
    let created = client
        .create_key(&Default::default())
        .unwrap_or_else(|e| panic!("create_key: {e}"));
    created.value.key_id
}

/// A key of `spec` (e.g. "Aliyun_AES_256") with EXTERNAL origin, for AES_GCM,
/// AES_CBC and AES_ECB, holding the imported material `key`.
pub fn external_key(client: &Client, spec: &str, key: &[u8]) -> String {
    let key_id = client
        .create_key(&CreateKeyRequest {
            key_spec: Some(spec),
            origin: Some("EXTERNAL"),
            algorithms: Some("AES_GCM,AES_CBC,AES_ECB"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    client.import_key_material(&key_id, key, 0).unwrap();
    key_id
}
