//! The one serializer of the service's answers: the JSON documents the C ABI returns
//! (`kms_describe_key`, `kms_list_*`) and the `localkms` tool prints, with the
//! service's field names. Objects are written with their keys in byte order.

use serde_json::{json, Map, Value};

use super::metadata::{AliasSummary, KeyMetadata, KeySummary, KeyVersionRef, KeyVersionSummary};
use super::response::Response;
use crate::time::format_date;

/// A value that is part of a service answer: it writes its fields into the
/// answer's top-level object (RequestId is added by [`Response::to_json`]).
pub trait ServiceJson {
    fn write_fields(&self, answer: &mut Map<String, Value>);
}

impl<T: ServiceJson> Response<T> {
    /// The answer as the service's JSON document, e.g.
    /// `{"KeyMetadata":{...},"RequestId":"..."}`.
    pub fn to_json(&self) -> String {
        let mut answer = Map::new();
        self.value.write_fields(&mut answer);
        answer.insert("RequestId".into(), json!(self.request_id));
        Value::Object(answer).to_string()
    }
}

/// The changes that answer with nothing but their RequestId.
impl ServiceJson for () {
    fn write_fields(&self, _: &mut Map<String, Value>) {}
}

/// DescribeKey and CreateKey: `"KeyMetadata": {...}`.
impl ServiceJson for KeyMetadata {
    fn write_fields(&self, answer: &mut Map<String, Value>) {
        answer.insert("KeyMetadata".into(), key_metadata(self));
    }
}

fn key_metadata(key: &KeyMetadata) -> Value {
    let mut m = Map::new();
    m.insert("KeyId".into(), json!(key.key_id));
    m.insert("KeyState".into(), json!(key.key_state.name()));
    m.insert("KeySpec".into(), json!(key.key_spec.name()));
    m.insert("KeyUsage".into(), json!(key.key_usage.name()));
    m.insert("Origin".into(), json!(key.origin.name()));
    m.insert("ProtectionLevel".into(), json!("SOFTWARE"));
    m.insert("Description".into(), json!(key.description));
    m.insert("CreationDate".into(), json!(format_date(key.creation_date)));
    m.insert("PrimaryKeyVersion".into(), json!(key.primary_key_version));
    m.insert(
        "LastRotationDate".into(),
        json!(format_date(key.last_rotation_date)),
    );
    m.insert("AutomaticRotation".into(), json!(key.automatic_rotation));
    if let Some(interval) = key.rotation_interval {
        m.insert("RotationInterval".into(), json!(format!("{interval}s")));
    }
    let dates = [
        ("NextRotationDate", key.next_rotation_date),
        ("DeleteDate", key.delete_date),
        ("MaterialExpireTime", key.material_expire_time),
    ];
    for (name, date) in dates {
        if let Some(date) = date {
            m.insert(name.into(), json!(format_date(date)));
        }
    }
    if let Some(algorithms) = &key.algorithms {
        let names: Vec<&str> = algorithms.iter().map(|a| a.name()).collect();
        m.insert("Algorithms".into(), json!(names));
    }
    Value::Object(m)
}

/// CreateKeyVersion and ImportKeyVersion: `"KeyId"`, `"KeyVersionId"`.
impl ServiceJson for KeyVersionRef {
    fn write_fields(&self, answer: &mut Map<String, Value>) {
        answer.insert("KeyId".into(), json!(self.key_id));
        answer.insert("KeyVersionId".into(), json!(self.key_version_id));
    }
}

/// The list calls' one page: `"<Plural>": {"<Singular>": [...]}` and the paging
/// fields (everything in one page).
fn write_page(answer: &mut Map<String, Value>, plural: &str, singular: &str, items: Vec<Value>) {
    let count = items.len();
    answer.insert(plural.into(), json!({ singular: items }));
    answer.insert("TotalCount".into(), json!(count));
    answer.insert("PageNumber".into(), json!(1));
    answer.insert("PageSize".into(), json!(count));
}

/// ListKeys.
impl ServiceJson for Vec<KeySummary> {
    fn write_fields(&self, answer: &mut Map<String, Value>) {
        let items = self.iter().map(|k| json!({ "KeyId": k.key_id })).collect();
        write_page(answer, "Keys", "Key", items);
    }
}

/// ListKeyVersions.
impl ServiceJson for Vec<KeyVersionSummary> {
    fn write_fields(&self, answer: &mut Map<String, Value>) {
        let items = self
            .iter()
            .map(|v| {
                json!({
                    "KeyId": v.key_id,
                    "KeyVersionId": v.key_version_id,
                    "CreationDate": format_date(v.creation_date),
                })
            })
            .collect();
        write_page(answer, "KeyVersions", "KeyVersion", items);
    }
}

/// ListAliases.
impl ServiceJson for Vec<AliasSummary> {
    fn write_fields(&self, answer: &mut Map<String, Value>) {
        let items = self
            .iter()
            .map(|a| json!({ "AliasName": a.alias_name, "KeyId": a.key_id }))
            .collect();
        write_page(answer, "Aliases", "Alias", items);
    }
}
