//! DescribeKey, ListKeys, ListKeyVersions, ListAliases: typed answers
//! (`metadata.rs`), written as the service's JSON by `service_json.rs`.

use super::client::Client;
use super::metadata::{AliasSummary, KeyMetadata, KeySummary, KeyVersionSummary};
use super::params::required;
use super::response::Response;
use crate::error::Result;
use crate::keystore::Key;

impl Client {
    /// DescribeKey: the metadata of the key `key_id` (an ID or an alias) names.
    pub fn describe_key(&self, key_id: &str) -> Result<Response<KeyMetadata>> {
        self.call(|request_id, now| {
            let key_id = required("KeyId", Some(key_id))?;
            let snapshot = self.fresh_snapshot_for(key_id, now)?;
            let key = snapshot.resolve(key_id, now)?;
            Ok(Response::new(request_id, KeyMetadata::of(key, now)))
        })
    }

    /// ListKeys: every key by CreationDate (the same second: by KeyId), in one page.
    pub fn list_keys(&self) -> Result<Response<Vec<KeySummary>>> {
        self.call(|request_id, now| {
            let snapshot = self.fresh_snapshot(now)?;
            let mut keys: Vec<&Key> = snapshot.live_keys(now).map(|k| &**k).collect();
            keys.sort_by(|a, b| (a.creation_date, &a.key_id).cmp(&(b.creation_date, &b.key_id)));
            let list = keys
                .iter()
                .map(|k| KeySummary {
                    key_id: k.key_id.clone(),
                })
                .collect();
            Ok(Response::new(request_id, list))
        })
    }

    /// ListKeyVersions: the key's versions, oldest (the initial version) first.
    pub fn list_key_versions(&self, key_id: &str) -> Result<Response<Vec<KeyVersionSummary>>> {
        self.call(|request_id, now| {
            let key_id = required("KeyId", Some(key_id))?;
            let snapshot = self.fresh_snapshot_for(key_id, now)?;
            let key = snapshot.resolve(key_id, now)?;
            let list = key
                .versions
                .iter()
                .map(|v| KeyVersionSummary {
                    key_id: key.key_id.clone(),
                    key_version_id: v.key_version_id.clone(),
                    creation_date: v.creation_date,
                })
                .collect();
            Ok(Response::new(request_id, list))
        })
    }

    /// ListAliases: every alias, by name.
    pub fn list_aliases(&self) -> Result<Response<Vec<AliasSummary>>> {
        self.call(|request_id, now| {
            let snapshot = self.fresh_snapshot(now)?;
            let list = snapshot
                .live_aliases(now)
                .map(|(alias, key_id)| AliasSummary {
                    alias_name: alias.clone(),
                    key_id: key_id.clone(),
                })
                .collect();
            Ok(Response::new(request_id, list))
        })
    }
}
