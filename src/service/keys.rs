//! Keys, versions, rotation, states, imported material and aliases.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::client::Client;
use super::params::required;
use crate::error::{Error, Result};
use crate::ids;
use crate::keystore::{
    generate_material, new_version, Key, KeySpec, KeyState, KeyUsage, KeyVersion, Material, Origin,
    PermittedModes,
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

/// Which version an import gives material to.
#[derive(Clone, Copy)]
enum ImportTarget<'a> {
    /// The initial version (ImportKeyMaterial).
    Initial,
    /// The version of this id, made if the key has none of it; `None`: a fresh id
    /// (ImportKeyVersion).
    Version(Option<&'a str>),
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
    /// Returns the KeyId.
    pub fn create_key(&self, request: &CreateKeyRequest<'_>) -> Result<String> {
        self.call(|_, now| {
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
                versions: vec![Arc::new(initial)],
                primary: 0,
                automatic_rotation: false,
                rotation_interval: None,
                last_rotation_date: now,
                material_expire: None,
                modes,
            };
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
            Ok(key_id)
        })
    }

    /// ImportKeyMaterial: gives an EXTERNAL key's initial version its material (16,
    /// 24 or 32 bytes for AES by its spec, 16 for SM4). A version that had material
    /// accepts only the same material again, checked by its key check value
    /// (`KeyCheckValue`); the one exception is a key whose material had expired in
    /// a store of payload format 1, whose legacy check value was dropped when the
    /// store was migrated. `expire_unix` 0 means never; otherwise a future Unix
    /// time after which the key is PendingImport until its material is imported
    /// again.
    pub fn import_key_material(
        &self,
        key_id: &str,
        key_material: &[u8],
        expire_unix: i64,
    ) -> Result<()> {
        self.call(|_, now| {
            self.import(
                key_id,
                ImportTarget::Initial,
                key_material,
                expire_unix,
                now,
            )
            .map(drop)
        })
    }

    /// ImportKeyVersion: material for an EXTERNAL key as the version named
    /// `key_version_id` (any 36 printable ASCII bytes, such as a cloud key's
    /// version ID; `None`: a fresh one), to mirror a cloud key whose ciphertext
    /// must open here. The first version imported into a key is its initial
    /// version (Encrypt's); each later one becomes primary (AdvanceEncrypt's). The
    /// same id with the same material again is accepted (and restores expired
    /// material); with other material it is `InvalidKeyMaterial`. `expire_unix` (0:
    /// never) applies to the whole key: when it passes, every version's material is
    /// wiped and the key is PendingImport until each version is imported again.
    /// Returns the KeyVersionId.
    pub fn import_key_version(
        &self,
        key_id: &str,
        key_version_id: Option<&str>,
        material: &[u8],
        expire_unix: i64,
    ) -> Result<String> {
        self.call(|_, now| {
            let key_version_id = key_version_id.filter(|id| !id.is_empty());
            if let Some(id) = key_version_id {
                if !ids::is_blob_key_version_id(id.as_bytes()) {
                    return Err(Error::invalid_parameter(
                        "KeyVersionId",
                        "A KeyVersionId is 36 printable ASCII characters.",
                    ));
                }
            }
            self.import(
                key_id,
                ImportTarget::Version(key_version_id),
                material,
                expire_unix,
                now,
            )
        })
    }

    /// The one import: checks, then gives `target` its material in one change.
    fn import(
        &self,
        key_id: &str,
        target: ImportTarget<'_>,
        key_material: &[u8],
        expire_unix: i64,
        now: i64,
    ) -> Result<String> {
        let key_id = required("KeyId", Some(key_id))?;
        if key_material.is_empty() {
            return Err(Error::missing_parameter("KeyMaterial"));
        }
        if expire_unix < 0 || (expire_unix != 0 && expire_unix <= now) {
            return Err(Error::invalid_parameter(
                "KeyMaterialExpireUnix",
                "Give 0 (never) or a time in the future.",
            ));
        }
        let fresh_id = match target {
            ImportTarget::Version(None) => Some(fresh_version_id(key_id)?),
            _ => None,
        };
        self.store.mutate(now, |model| {
            // Whichever key holds a version of that id, live or pending removal.
            let owner = match target {
                ImportTarget::Version(Some(id)) => model
                    .find_version(id, i64::MIN)
                    .map(|(key, _)| key.key_id.clone()),
                _ => None,
            };
            let key = model.resolve_mut(key_id, now)?;
            if key.origin != Origin::External {
                return Err(Error::unsupported(format!(
                    "Key material can only be imported into an EXTERNAL key; {} is not one.",
                    key.key_id
                )));
            }
            if key.state == KeyState::PendingDeletion {
                KeyState::PendingDeletion.require_enabled()?;
            }
            let expected = key.key_spec.symmetric_key_len().unwrap_or(0);
            if key_material.len() != expected {
                return Err(Error::invalid_key_material(format!(
                    "A {} key takes {expected} bytes of material; {} were given.",
                    key.key_spec.name(),
                    key_material.len()
                )));
            }
            if owner.as_ref().is_some_and(|o| *o != key.key_id) {
                return Err(Error::invalid_parameter(
                    "KeyVersionId",
                    "This KeyVersionId belongs to another key.",
                ));
            }
            let material =
                Material::symmetric(key.cipher_family(), Zeroizing::new(key_material.to_vec()))?;
            // HMAC-SHA-256 under the material (never AES under it: AES_k(0) is the
            // GHASH key). A version without one (never imported, or migrated from a
            // store whose legacy value was dropped) accepts any material.
            let check_value = material.check_value();
            let never_imported = key
                .versions
                .iter()
                .all(|v| v.material.is_none() && v.check_value.is_none());
            let index = match target {
                ImportTarget::Initial => 0,
                ImportTarget::Version(Some(id)) if owner.is_some() => key
                    .versions
                    .iter()
                    .position(|v| v.key_version_id == id)
                    .ok_or_else(|| Error::internal("An indexed version vanished."))?,
                ImportTarget::Version(named) => {
                    let id = match named {
                        Some(id) => id.to_owned(),
                        None => fresh_id.clone().unwrap_or_default(),
                    };
                    if never_imported {
                        // The placeholder made with the key becomes the initial version.
                        if let Some(initial) = key.version_mut(0) {
                            initial.key_version_id = id;
                        }
                        0
                    } else {
                        key.add_primary_version(KeyVersion {
                            key_version_id: id,
                            creation_date: now,
                            material: None,
                            check_value: None,
                            gcm_reserved: 0,
                        });
                        key.versions.len() - 1
                    }
                }
            };
            let version = key
                .version_mut(index)
                .ok_or_else(|| Error::internal("An indexed version vanished."))?;
            if version.check_value.is_some_and(|cv| cv != check_value) {
                return Err(Error::invalid_key_material(
                    "This key version already had material; only the same material can be \
                     imported again.",
                ));
            }
            version.check_value = Some(check_value);
            version.material = Some(Arc::new(material));
            let id = version.key_version_id.clone();
            key.material_expire = (expire_unix != 0).then_some(expire_unix);
            if key.state == KeyState::PendingImport
                && key.versions.iter().all(|v| v.material.is_some())
            {
                key.state = KeyState::Enabled;
            }
            Ok(id)
        })
    }

    /// CreateKeyVersion: a new version with fresh material becomes primary. Old
    /// versions stay and keep decrypting. Returns the new KeyVersionId.
    pub fn rotate_key(&self, key_id: &str) -> Result<String> {
        self.call(|_, now| {
            let key_id = required("KeyId", Some(key_id))?;
            self.store.mutate(now, |model| {
                let key = model.resolve_mut(key_id, now)?;
                if let Some(e) = unsupported_for(key, "Creating a key version") {
                    return Err(e);
                }
                key.state_at(now).require_enabled()?;
                let version = new_version(key, now)?;
                let id = version.key_version_id.clone();
                key.add_primary_version(version);
                Ok(id)
            })
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
    ) -> Result<()> {
        self.call(|_, now| {
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
    pub fn enable_key(&self, key_id: &str) -> Result<()> {
        self.set_state(key_id, KeyState::Enabled)
    }

    /// DisableKey: Enabled → Disabled (Disabled stays Disabled).
    pub fn disable_key(&self, key_id: &str) -> Result<()> {
        self.set_state(key_id, KeyState::Disabled)
    }

    fn set_state(&self, key_id: &str, target: KeyState) -> Result<()> {
        self.call(|_, now| {
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
    pub fn schedule_key_deletion(&self, key_id: &str, pending_window_in_days: i32) -> Result<()> {
        self.call(|_, now| {
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
    pub fn cancel_key_deletion(&self, key_id: &str) -> Result<()> {
        self.call(|_, now| {
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

    /// CreateAlias: `alias_name` names the key `key_id` (an ID or another alias).
    pub fn create_alias(&self, alias_name: &str, key_id: &str) -> Result<()> {
        self.call(|_, now| {
            let alias_name = required("AliasName", Some(alias_name))?;
            let key_id = required("KeyId", Some(key_id))?;
            ids::check_alias_name(alias_name)?;
            self.store.mutate(now, |model| {
                let target = model.resolve(key_id, now)?.key_id.clone();
                if model.alias_target(alias_name).is_some() {
                    return Err(Error::alias_already_exists(alias_name));
                }
                model.set_alias(alias_name, &target);
                Ok(())
            })
        })
    }

    /// UpdateAlias: an existing alias names another key.
    pub fn update_alias(&self, alias_name: &str, key_id: &str) -> Result<()> {
        self.call(|_, now| {
            let alias_name = required("AliasName", Some(alias_name))?;
            let key_id = required("KeyId", Some(key_id))?;
            ids::check_alias_name(alias_name)?;
            self.store.mutate(now, |model| {
                if model.alias_target(alias_name).is_none() {
                    return Err(Error::alias_not_found(alias_name));
                }
                let target = model.resolve(key_id, now)?.key_id.clone();
                model.set_alias(alias_name, &target);
                Ok(())
            })
        })
    }

    /// DeleteAlias.
    pub fn delete_alias(&self, alias_name: &str) -> Result<()> {
        self.call(|_, now| {
            let alias_name = required("AliasName", Some(alias_name))?;
            ids::check_alias_name(alias_name)?;
            self.store.mutate(now, |model| {
                if model.remove_alias(alias_name) {
                    Ok(())
                } else {
                    Err(Error::alias_not_found(alias_name))
                }
            })
        })
    }
}

/// A fresh KeyVersionId for a version of `key_id`: `<KeyId>-` and 10 characters for
/// the library's own 25-character KeyIds, the cloud's UUID form for any other (a
/// blob holds exactly 36 bytes of it).
fn fresh_version_id(key_id: &str) -> Result<String> {
    if ids::is_key_id(key_id) {
        ids::new_key_version_id(key_id)
    } else {
        ids::new_uuid_key_version_id()
    }
}
