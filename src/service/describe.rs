//! DescribeKey, ListKeys, ListKeyVersions, ListAliases: JSON documents with the
//! service's field names.

use serde_json::{json, Map, Value};

use super::client::Client;
use super::params::required;
use crate::error::Result;
use crate::keystore::{Key, KeyState};
use crate::time::format_date;

/// The service's KeyMetadata for `key` at `now`.
pub fn key_metadata(key: &Key, now: i64) -> Value {
    let mut m = Map::new();
    m.insert("KeyId".into(), json!(key.key_id));
    m.insert("KeyState".into(), json!(key.state_at(now).name()));
    m.insert("KeySpec".into(), json!(key.key_spec.name()));
    m.insert("KeyUsage".into(), json!(key.key_usage.name()));
    m.insert("Origin".into(), json!(key.origin.name()));
    m.insert("ProtectionLevel".into(), json!("SOFTWARE"));
    m.insert("Description".into(), json!(key.description));
    m.insert("CreationDate".into(), json!(format_date(key.creation_date)));
    m.insert(
        "PrimaryKeyVersion".into(),
        json!(key.primary_version().key_version_id),
    );
    m.insert(
        "LastRotationDate".into(),
        json!(format_date(key.last_rotation_date)),
    );
    m.insert(
        "AutomaticRotation".into(),
        json!(key.automatic_rotation_name(now)),
    );
    if let Some(interval) = key.rotation_interval {
        m.insert("RotationInterval".into(), json!(format!("{interval}s")));
    }
    if let Some(next) = key.next_rotation_date() {
        m.insert("NextRotationDate".into(), json!(format_date(next)));
    }
    if key.state == KeyState::PendingDeletion {
        if let Some(delete) = key.delete_date {
            m.insert("DeleteDate".into(), json!(format_date(delete)));
        }
    }
    if let Some(expire) = key.material_expire {
        m.insert("MaterialExpireTime".into(), json!(format_date(expire)));
    }
    if key.key_spec.is_symmetric() {
        // Not a field of the service (whose software keys permit only GCM): the
        // algorithms this key accepts on every path.
        let algorithms: Vec<&str> = key
            .permitted_algorithms()
            .into_iter()
            .map(|a| a.name())
            .collect();
        m.insert("Algorithms".into(), json!(algorithms));
    }
    Value::Object(m)
}

fn to_json(value: Value) -> String {
    value.to_string()
}

impl Client {
    /// DescribeKey: `{"KeyMetadata": {...}, "RequestId": "..."}`.
    pub fn describe_key(&self, key_id: &str) -> Result<String> {
        self.call(|request_id, now| {
            let key_id = required("KeyId", Some(key_id))?;
            let snapshot = self.fresh_snapshot_for(key_id, now)?;
            let key = snapshot.resolve(key_id, now)?;
            Ok(to_json(json!({
                "KeyMetadata": key_metadata(key, now),
                "RequestId": request_id,
            })))
        })
    }

    /// ListKeys: every key by CreationDate (the same second: by KeyId), in one page:
    /// `{"Keys": {"Key": [{"KeyId": ...}]}, "TotalCount", "PageNumber", "PageSize", "RequestId"}`.
    pub fn list_keys(&self) -> Result<String> {
        self.call(|request_id, now| {
            let snapshot = self.fresh_snapshot(now)?;
            let mut keys: Vec<&Key> = snapshot.live_keys(now).map(|k| &**k).collect();
            keys.sort_by(|a, b| (a.creation_date, &a.key_id).cmp(&(b.creation_date, &b.key_id)));
            let list: Vec<Value> = keys.iter().map(|k| json!({ "KeyId": k.key_id })).collect();
            Ok(to_json(json!({
                "Keys": { "Key": list },
                "TotalCount": keys.len(),
                "PageNumber": 1,
                "PageSize": keys.len(),
                "RequestId": request_id,
            })))
        })
    }

    /// ListKeyVersions: the key's versions, oldest (the initial version) first:
    /// `{"KeyVersions": {"KeyVersion": [{"KeyId", "KeyVersionId", "CreationDate"}]}, ...}`.
    pub fn list_key_versions(&self, key_id: &str) -> Result<String> {
        self.call(|request_id, now| {
            let key_id = required("KeyId", Some(key_id))?;
            let snapshot = self.fresh_snapshot_for(key_id, now)?;
            let key = snapshot.resolve(key_id, now)?;
            let list: Vec<Value> = key
                .versions
                .iter()
                .map(|v| {
                    json!({
                        "KeyId": key.key_id,
                        "KeyVersionId": v.key_version_id,
                        "CreationDate": format_date(v.creation_date),
                    })
                })
                .collect();
            Ok(to_json(json!({
                "KeyVersions": { "KeyVersion": list },
                "TotalCount": key.versions.len(),
                "PageNumber": 1,
                "PageSize": key.versions.len(),
                "RequestId": request_id,
            })))
        })
    }

    /// ListAliases: every alias, by name:
    /// `{"Aliases": {"Alias": [{"AliasName", "KeyId"}]}, ...}`.
    pub fn list_aliases(&self) -> Result<String> {
        self.call(|request_id, now| {
            let snapshot = self.fresh_snapshot(now)?;
            let list: Vec<Value> = snapshot
                .live_aliases(now)
                .map(|(alias, key_id)| json!({ "AliasName": alias, "KeyId": key_id }))
                .collect();
            let count = list.len();
            Ok(to_json(json!({
                "Aliases": { "Alias": list },
                "TotalCount": count,
                "PageNumber": 1,
                "PageSize": count,
                "RequestId": request_id,
            })))
        })
    }
}
