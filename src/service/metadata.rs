//! The typed answers of DescribeKey, the list calls and the changes that name what
//! they made: a key's metadata, and the summaries of keys, versions and aliases.
//! Dates are Unix seconds; `service_json.rs` writes them as the service does.

use crate::crypto::Algorithm;
use crate::keystore::{Key, KeySpec, KeyState, KeyUsage, Origin};

/// DescribeKey's KeyMetadata (and CreateKey's answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyMetadata {
    pub key_id: String,
    /// The state at the time of the call (a key whose imported material expired is
    /// PendingImport).
    pub key_state: KeyState,
    pub key_spec: KeySpec,
    pub key_usage: KeyUsage,
    pub origin: Origin,
    pub description: String,
    pub creation_date: i64,
    /// The KeyVersionId of the primary version (AdvanceEncrypt's).
    pub primary_key_version: String,
    pub last_rotation_date: i64,
    /// `Enabled`, `Disabled`, or `Suspended` while the key is not Enabled.
    pub automatic_rotation: &'static str,
    /// Seconds between automatic rotations, once a policy has set it.
    pub rotation_interval: Option<i64>,
    /// LastRotationDate + RotationInterval while automatic rotation is on.
    pub next_rotation_date: Option<i64>,
    /// When a key pending deletion is deleted.
    pub delete_date: Option<i64>,
    /// When imported material expires.
    pub material_expire_time: Option<i64>,
    /// The algorithms a symmetric key accepts on every path (not a field of the
    /// service, whose software keys permit only GCM); `None` for asymmetric keys.
    pub algorithms: Option<Vec<Algorithm>>,
}

impl KeyMetadata {
    /// The metadata of `key` at `now`.
    pub(super) fn of(key: &Key, now: i64) -> KeyMetadata {
        KeyMetadata {
            key_id: key.key_id.clone(),
            key_state: key.state_at(now),
            key_spec: key.key_spec,
            key_usage: key.key_usage,
            origin: key.origin,
            description: key.description.clone(),
            creation_date: key.creation_date,
            primary_key_version: key.primary_version().key_version_id.clone(),
            last_rotation_date: key.last_rotation_date,
            automatic_rotation: key.automatic_rotation_name(now),
            rotation_interval: key.rotation_interval,
            next_rotation_date: key.next_rotation_date(),
            delete_date: key
                .delete_date
                .filter(|_| key.state == KeyState::PendingDeletion),
            material_expire_time: key.material_expire,
            algorithms: key
                .key_spec
                .is_symmetric()
                .then(|| key.permitted_algorithms()),
        }
    }
}

/// One key of ListKeys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySummary {
    pub key_id: String,
}

/// One version of ListKeyVersions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyVersionSummary {
    pub key_id: String,
    pub key_version_id: String,
    pub creation_date: i64,
}

/// One alias of ListAliases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasSummary {
    pub alias_name: String,
    pub key_id: String,
}

/// The version CreateKeyVersion or ImportKeyVersion made or filled: the real
/// KeyId (also when an alias was given) and the KeyVersionId.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyVersionRef {
    pub key_id: String,
    pub key_version_id: String,
}
