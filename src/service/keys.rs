//! Keys, versions, rotation and states: CreateKey, CreateKeyVersion,
//! UpdateRotationPolicy, EnableKey, DisableKey, ScheduleKeyDeletion and
//! CancelKeyDeletion (imported material in `import.rs`, aliases in `aliases.rs`).

use std::sync::Arc;

use super::client::Client;
use super::metadata::{KeyMetadata, KeyVersionRef};
use super::params::required;
use super::response::Response;
use crate::error::{Error, Result};
use crate::ids;
use crate::keystore::{
    generate_material, new_version, Key, KeySpec, KeyState, KeyUsage, KeyVersion, Origin,
    PermittedModes, Versions,
};

/// The longest Description accepted.
pub const MAX_DESCRIPTION_LEN: usize = 8192;
/// ScheduleKeyDeletion's PendingWindowInDays range.
pub const PENDING_WINDOW_DAYS: std::ops::RangeInclusive<i32> = 7..=366;

/// The parameters of CreateKey. `None` or `""` means the default: Aliyun_AES_256,
/// the spec's usage (ENCRYPT/DECRYPT for AES, SM4 and RSA, SIGN/VERIFY for EC),
/// Aliyun_KMS, an empty description, a fresh KeyId, and the GCM of the spec only.
#[derive(Clone, Copy, Debug, Default)]
pub struct CreateKeyRequest<'a> {
    pub key_spec: Option<&'a str>,
    pub key_usage: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub description: Option<&'a str>,
    /// The KeyId of a mirrored cloud key (EXTERNAL only): 1 to 64 of
    /// `[A-Za-z0-9-]`, not in use.
    pub key_id: Option<&'a str>,
    /// The algorithms the key permits, a comma list such as
    /// `"AES_GCM,AES_CBC,AES_ECB"`.
    pub algorithms: Option<&'a str>,
}

fn unsupported_for(key: &Key, what: &str) -> Option<Error> {
    if !key.key_spec.is_symmetric() {
        return Some(Error::unsupported(format!(
            "{what} is not supported for the asymmetric key {}.",
            key.key_id
        )));
    }
    if key.origin == Origin::External {
        return Some(Error::unsupported(format!(
            "{what} is not supported for the key {}, whose material is imported (EXTERNAL).",
            key.key_id
        )));
    }
    None
}

impl Client {
    /// CreateKey: a new key with its initial (and primary) version, or, for origin
    /// EXTERNAL, a key in PendingImport awaiting [`Client::import_key_material`].
    /// Answers with the new key's metadata.
    pub fn create_key(&self, request: &CreateKeyRequest<'_>) -> Result<Response<KeyMetadata>> {
        self.call(|request_id, now| {
            let spec = KeySpec::parse(request.key_spec)?;
            let usage = KeyUsage::parse(request.key_usage)?.unwrap_or(spec.default_usage());
            if !spec.allows_usage(usage) {
                return Err(Error::invalid_parameter(
                    "KeyUsage",
                    format!("A {} key cannot be used for {}.", spec.name(), usage.name()),
                ));
            }
            let origin = Origin::parse(request.origin)?;
            if origin == Origin::External && !spec.is_symmetric() {
                return Err(Error::unsupported(
                    "Only symmetric keys can be created with origin EXTERNAL.",
                ));
            }
            let description = request.description.unwrap_or("");
            if description.chars().count() > MAX_DESCRIPTION_LEN {
                return Err(Error::invalid_parameter(
                    "Description",
                    format!("The description is at most {MAX_DESCRIPTION_LEN} characters."),
                ));
            }

            let modes = match spec.cipher_family() {
                Some(family) => PermittedModes::parse(family, request.algorithms)?,
                None if request.algorithms.is_some_and(|a| !a.is_empty()) => {
                    return Err(Error::invalid_parameter(
                        "Algorithms",
                        format!("A {} key has no symmetric algorithms.", spec.name()),
                    ))
                }
                None => PermittedModes::GCM_ONLY,
            };
            let chosen_id = request.key_id.filter(|id| !id.is_empty());
            if let Some(id) = chosen_id {
                if origin != Origin::External {
                    return Err(Error::invalid_parameter(
                        "KeyId",
                        "A KeyId can be chosen only for an EXTERNAL key (a mirrored cloud key).",
                    ));
                }
                if !ids::is_mirrored_key_id(id) {
                    return Err(Error::invalid_parameter(
                        "KeyId",
                        "A KeyId is 1 to 64 letters, digits and '-'.",
                    ));
                }
            }

            let key_id = match chosen_id {
                Some(id) => id.to_owned(),
                None => ids::new_key_id()?,
            };
            // Key generation (seconds for RSA) happens before the writer lock is taken.
            let (material, state) = match origin {
                Origin::AliyunKms => (Some(Arc::new(generate_material(spec)?)), KeyState::Enabled),
                Origin::External => (None, KeyState::PendingImport),
            };
            let initial = KeyVersion {
                key_version_id: fresh_version_id(&key_id)?,
                creation_date: now,
                material,
                check_value: None,
                gcm_reserved: 0,
            };
            let key = Key {
                key_id: key_id.clone(),
                key_spec: spec,
                key_usage: usage,
                origin,
                description: description.to_owned(),
                creation_date: now,
                state,
                delete_date: None,
                versions: Versions::from_iter([initial]),
                primary: 0,
                automatic_rotation: false,
                rotation_interval: None,
                last_rotation_date: now,
                material_expire: None,
                modes,
            };
            let metadata = KeyMetadata::of(&key, now);
            self.store.mutate(now, |model| {
                if model.key_id_taken(&key.key_id) {
                    return Err(Error::invalid_parameter(
                        "KeyId",
                        format!("The KeyId {} is already in use.", key.key_id),
                    ));
                }
                if key
                    .versions
                    .iter()
                    .any(|v| model.version_exists(&v.key_version_id))
                {
                    return Err(Error::internal("A fresh KeyVersionId is already in use."));
                }
                model.insert_key(key);
                Ok(())
            })?;
            Ok(Response::new(request_id, metadata))
        })
    }

    /// CreateKeyVersion: a new version with fresh material becomes primary. Old
    /// versions stay and keep decrypting. Answers with the real KeyId and the new
    /// KeyVersionId.
    pub fn rotate_key(&self, key_id: &str) -> Result<Response<KeyVersionRef>> {
        self.call(|request_id, now| {
            let key_id = required("KeyId", Some(key_id))?;
            let made = self.store.mutate(now, |model| {
                let key = model.resolve_mut(key_id, now)?;
                if let Some(e) = unsupported_for(key, "Creating a key version") {
                    return Err(e);
                }
                key.state_at(now).require_enabled()?;
                let version = new_version(key, now)?;
                let made = KeyVersionRef {
                    key_id: key.key_id.clone(),
                    key_version_id: version.key_version_id.clone(),
                };
                key.add_primary_version(version);
                Ok(made)
            })?;
            Ok(Response::new(request_id, made))
        })
    }

    /// UpdateRotationPolicy. `rotation_interval` is `<n>d|h|m|s`, 7 to 365 days;
    /// when enabling without one, the key's earlier interval is kept. A policy that
    /// puts NextRotationDate in the past rotates at once.
    pub fn update_rotation_policy(
        &self,
        key_id: &str,
        enable_automatic_rotation: bool,
        rotation_interval: Option<&str>,
    ) -> Result<Response<()>> {
        self.change(|now| {
            let key_id = required("KeyId", Some(key_id))?;
            let interval = rotation_interval
                .filter(|s| !s.is_empty())
                .map(Key::parse_rotation_interval)
                .transpose()?;
            self.store.mutate(now, |model| {
                let key = model.resolve_mut(key_id, now)?;
                if let Some(e) = unsupported_for(key, "Automatic rotation") {
                    return Err(e);
                }
                if key.state == KeyState::PendingDeletion {
                    return KeyState::PendingDeletion.require_enabled();
                }
                let interval = interval.or(key.rotation_interval);
                if enable_automatic_rotation && interval.is_none() {
                    return Err(Error::missing_parameter("RotationInterval"));
                }
                key.automatic_rotation = enable_automatic_rotation;
                key.rotation_interval = interval;
                if key.rotation_due_at(now) {
                    let version = new_version(key, now)?;
                    key.add_primary_version(version);
                }
                Ok(())
            })
        })
    }

    /// EnableKey: Disabled → Enabled (Enabled stays Enabled).
    pub fn enable_key(&self, key_id: &str) -> Result<Response<()>> {
        self.set_state(key_id, KeyState::Enabled)
    }

    /// DisableKey: Enabled → Disabled (Disabled stays Disabled).
    pub fn disable_key(&self, key_id: &str) -> Result<Response<()>> {
        self.set_state(key_id, KeyState::Disabled)
    }

    fn set_state(&self, key_id: &str, target: KeyState) -> Result<Response<()>> {
        self.change(|now| {
            let key_id = required("KeyId", Some(key_id))?;
            self.store.mutate(now, |model| {
                let key = model.resolve_mut(key_id, now)?;
                match key.state_at(now) {
                    KeyState::Enabled | KeyState::Disabled => {
                        key.state = target;
                        Ok(())
                    }
                    other => other.require_enabled(),
                }
            })
        })
    }

    /// ScheduleKeyDeletion: the key is PendingDeletion for 7 to 366 days, then gone.
    pub fn schedule_key_deletion(
        &self,
        key_id: &str,
        pending_window_in_days: i32,
    ) -> Result<Response<()>> {
        self.change(|now| {
            let key_id = required("KeyId", Some(key_id))?;
            if !PENDING_WINDOW_DAYS.contains(&pending_window_in_days) {
                return Err(Error::invalid_parameter(
                    "PendingWindowInDays",
                    "It is a number of days from 7 to 366.",
                ));
            }
            self.store.mutate(now, |model| {
                let key = model.resolve_mut(key_id, now)?;
                if key.state == KeyState::PendingDeletion {
                    return KeyState::PendingDeletion.require_enabled();
                }
                key.state = KeyState::PendingDeletion;
                key.delete_date =
                    Some(now.saturating_add(i64::from(pending_window_in_days) * 86_400));
                Ok(())
            })
        })
    }

    /// CancelKeyDeletion: a PendingDeletion key returns to Enabled (or to
    /// PendingImport, for an EXTERNAL key that has no material).
    pub fn cancel_key_deletion(&self, key_id: &str) -> Result<Response<()>> {
        self.change(|now| {
            let key_id = required("KeyId", Some(key_id))?;
            self.store.mutate(now, |model| {
                let key = model.resolve_mut(key_id, now)?;
                if key.state != KeyState::PendingDeletion {
                    return Err(Error::unsupported(format!(
                        "The key {} is not pending deletion (its state is {}).",
                        key.key_id,
                        key.state_at(now).name()
                    )));
                }
                let has_material = key.versions.iter().all(|v| v.material.is_some());
                key.state = if has_material {
                    KeyState::Enabled
                } else {
                    KeyState::PendingImport
                };
                key.delete_date = None;
                Ok(())
            })
        })
    }
}

/// A fresh KeyVersionId for a version of `key_id`: `<KeyId>-` and 10 characters for
/// the library's own 25-character KeyIds, the cloud's UUID form for any other (a
/// blob holds exactly 36 bytes of it).
pub(super) fn fresh_version_id(key_id: &str) -> Result<String> {
    if ids::is_key_id(key_id) {
        ids::new_key_version_id(key_id)
    } else {
        ids::new_uuid_key_version_id()
    }
}
