//! Imported (EXTERNAL) material: ImportKeyMaterial and ImportKeyVersion, for keys
//! whose material comes from elsewhere (a cloud key mirrored here).

use std::sync::Arc;

use zeroize::Zeroizing;

use super::client::Client;
use super::keys::fresh_version_id;
use super::metadata::KeyVersionRef;
use super::params::required;
use super::response::Response;
use crate::error::{Error, Result};
use crate::ids;
use crate::keystore::{KeyState, KeyVersion, Material, Origin};

/// Which version an import gives material to.
#[derive(Clone, Copy)]
enum ImportTarget<'a> {
    /// The initial version (ImportKeyMaterial).
    Initial,
    /// The version of this id, made if the key has none of it; `None`: a fresh id
    /// (ImportKeyVersion).
    Version(Option<&'a str>),
}

impl Client {
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
    ) -> Result<Response<()>> {
        self.call(|request_id, now| {
            self.import(
                key_id,
                ImportTarget::Initial,
                key_material,
                expire_unix,
                now,
            )?;
            Ok(Response::new(request_id, ()))
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
    /// Answers with the real KeyId (also for an alias) and the KeyVersionId.
    pub fn import_key_version(
        &self,
        key_id: &str,
        key_version_id: Option<&str>,
        material: &[u8],
        expire_unix: i64,
    ) -> Result<Response<KeyVersionRef>> {
        self.call(|request_id, now| {
            let key_version_id = key_version_id.filter(|id| !id.is_empty());
            if let Some(id) = key_version_id {
                if !ids::is_blob_key_version_id(id.as_bytes()) {
                    return Err(Error::invalid_parameter(
                        "KeyVersionId",
                        "A KeyVersionId is 36 printable ASCII characters.",
                    ));
                }
            }
            let version = self.import(
                key_id,
                ImportTarget::Version(key_version_id),
                material,
                expire_unix,
                now,
            )?;
            Ok(Response::new(request_id, version))
        })
    }

    /// The one import: checks, then gives `target` its material in one change.
    /// Returns the version it filled.
    fn import(
        &self,
        key_id: &str,
        target: ImportTarget<'_>,
        key_material: &[u8],
        expire_unix: i64,
        now: i64,
    ) -> Result<KeyVersionRef> {
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
            let owner = key.key_id.clone();
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
            let filled = KeyVersionRef {
                key_id: owner,
                key_version_id: version.key_version_id.clone(),
            };
            key.material_expire = (expire_unix != 0).then_some(expire_unix);
            if key.state == KeyState::PendingImport
                && key.versions.iter().all(|v| v.material.is_some())
            {
                key.state = KeyState::Enabled;
            }
            Ok(filled)
        })
    }
}
