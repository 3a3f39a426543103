//! AdvanceEncrypt, Encrypt, AdvanceDecrypt, Decrypt.

use std::sync::atomic::Ordering;

use zeroize::Zeroizing;

use super::client::Client;
use super::params::{require_symmetric, required};
use super::redacted::Redacted;
use crate::crypto::blob::{parse_blob, parse_gateway_blob, start_blob, ParsedBlob, BLOB_MAGIC};
use crate::crypto::buffer;
use crate::crypto::{
    ciphertext_len, Algorithm, CipherParams, KeyCipher, Mode, PaddingMode, MAX_AAD_LEN,
};
use crate::error::{Error, ErrorKind, Result};
use crate::keystore::{new_version, Key, KeyVersion, Material, Origin, Snapshot};
use std::sync::Arc;

/// The parameters of AdvanceEncrypt and Encrypt. Empty `iv` means "draw a random
/// one" (the service's advice); `None` or `""` for `algorithm` / `padding_mode`
/// means the default (AES_GCM; PKCS7_PADDING for AES_CBC and AES_ECB).
#[derive(Clone, Copy, Default)]
pub struct EncryptRequest<'a> {
    /// A KeyId or an alias.
    pub key_id: &'a str,
    pub plaintext: &'a [u8],
    pub algorithm: Option<&'a str>,
    pub iv: &'a [u8],
    pub aad: &'a [u8],
    pub padding_mode: Option<&'a str>,
}

/// What AdvanceEncrypt and Encrypt return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptResponse {
    /// AdvanceEncrypt: the self-describing blob of docs/c-api.md §3. Encrypt: the bare
    /// ciphertext (AES_GCM: ciphertext || tag).
    pub ciphertext_blob: Vec<u8>,
    /// The real KeyId, also when an alias was passed.
    pub key_id: String,
    /// The version that encrypted.
    pub key_version_id: String,
    pub algorithm: Algorithm,
    /// Empty for AES_ECB.
    pub iv: Vec<u8>,
    /// `None` for AES_GCM.
    pub padding_mode: Option<PaddingMode>,
    pub request_id: String,
}

/// The parameters of AdvanceDecrypt and Decrypt.
///
/// For AdvanceDecrypt without `key_id`, the blob says everything; `algorithm` and
/// `padding_mode` may still be given, and then the blob must have been made with
/// them (a pin against a blob whose header was changed). With `key_id` (and always
/// for Decrypt), the blob is Encrypt output and `algorithm`, `iv`, `padding_mode`
/// say how it was made.
#[derive(Clone, Copy, Debug, Default)]
pub struct DecryptRequest<'a> {
    pub ciphertext_blob: &'a [u8],
    pub key_id: Option<&'a str>,
    pub algorithm: Option<&'a str>,
    pub iv: &'a [u8],
    pub aad: &'a [u8],
    pub padding_mode: Option<&'a str>,
}

/// What AdvanceDecrypt and Decrypt return. The plaintext is wiped when dropped
/// and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct DecryptResponse {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub key_id: String,
    pub key_version_id: String,
    pub algorithm: Algorithm,
    pub padding_mode: Option<PaddingMode>,
    pub request_id: String,
}

/// Which version encrypts: the primary (Advance*) or the initial one.
impl std::fmt::Debug for EncryptRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptRequest")
            .field("key_id", &self.key_id)
            .field("plaintext", &Redacted(self.plaintext.len()))
            .field("algorithm", &self.algorithm)
            .field("iv", &self.iv)
            .field("aad", &self.aad)
            .field("padding_mode", &self.padding_mode)
            .finish()
    }
}

impl std::fmt::Debug for DecryptResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptResponse")
            .field("plaintext", &Redacted(self.plaintext.len()))
            .field("key_id", &self.key_id)
            .field("key_version_id", &self.key_version_id)
            .field("algorithm", &self.algorithm)
            .field("padding_mode", &self.padding_mode)
            .field("request_id", &self.request_id)
            .finish()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Which {
    Primary,
    Initial,
}

impl Which {
    fn version_of(self, key: &Key) -> &KeyVersion {
        match self {
            Which::Primary => key.primary_version(),
            Which::Initial => key.initial_version(),
        }
    }
}

/// What a reservation of GCM encryptions brought.
enum Reservation {
    /// The allowance holds more now (reserved here, or by another thread).
    More,
    /// The version's budget is spent.
    Spent,
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// The ready cipher of a version, or PendingImport when it has no material.
fn version_cipher(version: &KeyVersion) -> Result<&KeyCipher> {
    version
        .material
        .as_deref()
        .and_then(|m| m.cipher())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::KeyPendingImport,
                "The request was rejected because the key state is PendingImport.",
            )
        })
}

/// A key may encrypt or decrypt: it is symmetric and Enabled at `now`.
fn check_usable(key: &Key, now: i64) -> Result<()> {
    require_symmetric(key)?;
    key.state_at(now).require_enabled()
}

/// The first of the blob's readings (the `$` form, then the gateway form) whose
/// version this snapshot holds at `now`, with its key.
fn find_candidate<'s, 'b>(
    snapshot: &'s Snapshot,
    candidates: &[Option<ParsedBlob<'b>>; 2],
    now: i64,
) -> Option<(ParsedBlob<'b>, &'s Arc<Key>)> {
    candidates.iter().flatten().find_map(|c| {
        snapshot
            .find_version(c.key_version_id, now)
            .map(|(key, _)| (*c, key))
    })
}

impl Client {
    /// The key to encrypt with and the algorithm, with one GCM encryption taken
    /// from the budget of the version that will encrypt. When the primary
    /// version's budget is spent, the key is rotated and the new primary encrypts;
    /// a spent initial version (Encrypt), or a spent primary of a key that cannot
    /// rotate, is refused.
    fn key_for_encryption(
        &self,
        key_id: &str,
        which: Which,
        default_algorithm: bool,
        asked: Algorithm,
        now: i64,
    ) -> Result<(Arc<Key>, Algorithm)> {
        // A rotation or a reservation, then a retry: a few rounds at most, unless
        // other writers keep spending what this one reserves.
        for _ in 0..8 {
            let snapshot = self.fresh_snapshot_for(key_id, now)?;
            let key = snapshot.resolve(key_id, now)?.clone();
            check_usable(&key, now)?;
            // No algorithm asked for: the GCM of the key's block cipher (the rules
            // checked before are those of every GCM).
            let algorithm = if default_algorithm {
                key.default_algorithm()
            } else {
                asked
            };
            key.require_algorithm(algorithm)?;
            if algorithm.mode() != Mode::Gcm {
                return Ok((key, algorithm));
            }
            let version = which.version_of(&key);
            let Some(material) = version.material.clone() else {
                // No material: version_cipher answers PendingImport.
                return Ok((key, algorithm));
            };
            if material.gcm_allowance.take() {
                return Ok((key, algorithm));
            }
            match self.reserve_gcm(&key.key_id, &version.key_version_id, &material, now)? {
                Reservation::More => continue,
                Reservation::Spent => {
                    let rotatable = which == Which::Primary && key.origin == Origin::AliyunKms;
                    if !rotatable {
                        return Err(Error::unsupported(format!(
                            "The version {} of key {} has made the {} GCM encryptions one \
                             version may make (NIST SP 800-38D, random 96-bit IVs). {}",
                            version.key_version_id,
                            key.key_id,
                            self.gcm_limit(),
                            if which == Which::Initial {
                                "Encrypt always uses the initial version: use AdvanceEncrypt, \
                                 which rotates."
                            } else {
                                "The key's material is imported: import a new version."
                            }
                        )));
                    }
                    self.rotate_spent(&key.key_id, &version.key_version_id, now)?;
                }
            }
        }
        Err(Error::internal(
            "GCM encryptions could not be reserved for the key version.",
        ))
    }

    /// Reserves a range of GCM encryptions for `material` (the version
    /// `key_version_id` of `key_id`) in the store, where every process and host
    /// reserves from the same budget.
    fn reserve_gcm(
        &self,
        key_id: &str,
        key_version_id: &str,
        material: &Arc<Material>,
        now: i64,
    ) -> Result<Reservation> {
        let allowance = &material.gcm_allowance;
        let _one_at_a_time = allowance
            .reserving
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if allowance.has_some() {
            return Ok(Reservation::More);
        }
        let limit = self.gcm_limit();
        // Ranges of 2^20 (at 2^32, 4096 reservations in a version's life), smaller
        // for a lowered limit.
        let range = (limit / 64).clamp(1, 1 << 20);
        if !self.store.is_persistent() {
            // A version of an in-memory store lives in this process alone: its whole
            // budget is granted here at once, with no change to publish (so that
            // encryption never queues behind the writer, even under constant
            // rotation). `unrecorded` counts what was granted.
            let granted = allowance.unrecorded.load(Ordering::Acquire);
            let grant = limit.saturating_sub(granted);
            if grant == 0 {
                return Ok(Reservation::Spent);
            }
            allowance.unrecorded.fetch_add(grant, Ordering::AcqRel);
            allowance.grant(grant);
            return Ok(Reservation::More);
        }
        let unrecorded = allowance.unrecorded.load(Ordering::Acquire);
        let reserved = self.store.mutate_briefly(now, |model| {
            let key = model.resolve_mut(key_id, now)?;
            let Some(version) = key
                .versions
                .iter_mut()
                .find(|v| v.key_version_id == key_version_id)
            else {
                return Ok(0);
            };
            // What was granted while the store could not be written counts too.
            version.gcm_reserved = version.gcm_reserved.saturating_add(unrecorded).min(limit);
            let grant = range.min(limit - version.gcm_reserved);
            version.gcm_reserved += grant;
            Ok(grant)
        });
        let granted = match reserved {
            Ok(granted) => {
                allowance.unrecorded.fetch_sub(unrecorded, Ordering::AcqRel);
                granted
            }
            Err(e) if e.kind() == ErrorKind::KeyStoreIo => {
                // Degraded, never broken: the store cannot take the reservation now
                // (down, read only, or busy). A small range is granted without it and
                // recorded with the next reservation, unless the snapshot already
                // shows the budget spent.
                let stored = self
                    .store
                    .snapshot()
                    .find_version(key_version_id, now)
                    .map_or(limit, |(_, v)| v.gcm_reserved);
                let grant = (range / 16)
                    .clamp(1, 1 << 16)
                    .min(limit.saturating_sub(stored.saturating_add(unrecorded)));
                allowance.unrecorded.fetch_add(grant, Ordering::AcqRel);
                grant
            }
            Err(e) => return Err(e),
        };
        if granted == 0 {
            return Ok(Reservation::Spent);
        }
        allowance.grant(granted);
        Ok(Reservation::More)
    }

    /// Rotates a key whose primary version `spent` has no GCM budget left, unless
    /// another caller already did.
    fn rotate_spent(&self, key_id: &str, spent: &str, now: i64) -> Result<()> {
        self.store.mutate(now, |model| {
            let key = model.resolve_mut(key_id, now)?;
            if key.primary_version().key_version_id == spent {
                let version = new_version(key, now)?;
                key.add_primary_version(version);
            }
            Ok(())
        })
    }

    /// AdvanceEncrypt: encrypts with the key's primary version and returns the
    /// self-describing blob, which [`Client::advance_decrypt`] opens from itself alone.
    pub fn advance_encrypt(&self, request: &EncryptRequest<'_>) -> Result<EncryptResponse> {
        self.call_with_iv(|request_id, now, iv_random| {
            self.encrypt_with(request, Which::Primary, request_id, now, iv_random)
        })
    }

    /// Encrypt: encrypts with the key's initial version, whatever rotations happened,
    /// and returns the bare ciphertext. Keep KeyId, Algorithm, Iv and PaddingMode to
    /// decrypt it.
    pub fn encrypt(&self, request: &EncryptRequest<'_>) -> Result<EncryptResponse> {
        self.call_with_iv(|request_id, now, iv_random| {
            self.encrypt_with(request, Which::Initial, request_id, now, iv_random)
        })
    }

    pub(super) fn encrypt_with(
        &self,
        request: &EncryptRequest<'_>,
        which: Which,
        request_id: &str,
        now: i64,
        iv_random: &[u8; 16],
    ) -> Result<EncryptResponse> {
        let key_id = required("KeyId", Some(request.key_id))?;
        let asked = non_empty(request.algorithm);
        let algorithm = Algorithm::parse(asked)?;
        let padding = algorithm.padding(request.padding_mode)?;
        algorithm.check_iv(request.iv)?;
        algorithm.check_aad(request.aad)?;
        buffer::check_plaintext_len(request.plaintext.len())?;
        if padding == Some(PaddingMode::NoPadding) && !request.plaintext.len().is_multiple_of(16) {
            return Err(Error::invalid_parameter(
                "Plaintext",
                format!(
                    "With NO_PADDING the plaintext length must be a multiple of 16 bytes; it is {}.",
                    request.plaintext.len()
                ),
            ));
        }

        let (key, algorithm) =
            self.key_for_encryption(key_id, which, asked.is_none(), algorithm, now)?;
        let key = &*key;
        let version = which.version_of(key);
        let cipher = version_cipher(version)?;

        // No IV given: fresh random bytes from the OS generator (drawn with the
        // RequestId, and used for nothing else).
        let iv = if request.iv.is_empty() {
            &iv_random[..algorithm.iv_len()]
        } else {
            request.iv
        };
        let params = CipherParams {
            algorithm,
            padding,
            iv,
            aad: request.aad,
        };
        let ciphertext_blob = match which {
            Which::Primary => {
                let mut blob = start_blob(
                    algorithm,
                    padding,
                    &version.key_version_id,
                    iv,
                    request.plaintext.len(),
                )?;
                cipher.seal(&params, request.plaintext, &mut blob)?;
                blob
            }
            Which::Initial => {
                let mut out = buffer::with_capacity(ciphertext_len(
                    algorithm,
                    padding,
                    request.plaintext.len(),
                ))?;
                cipher.seal(&params, request.plaintext, &mut out)?;
                out
            }
        };
        Ok(EncryptResponse {
            ciphertext_blob,
            key_id: key.key_id.clone(),
            key_version_id: version.key_version_id.clone(),
            algorithm,
            iv: iv.to_vec(),
            padding_mode: padding,
            request_id: request_id.to_owned(),
        })
    }

    /// AdvanceDecrypt: opens an AdvanceEncrypt blob from the blob and Aad alone, with
    /// the version recorded in it; or, when `key_id` is given, Encrypt output (then
    /// `algorithm`, `iv` and `padding_mode` say how it was made).
    pub fn advance_decrypt(&self, request: &DecryptRequest<'_>) -> Result<DecryptResponse> {
        self.call(|request_id, now| match non_empty(request.key_id) {
            Some(key_id) => self.decrypt_bare(key_id, request, request_id, now),
            None => self.decrypt_blob(request, request_id, now),
        })
    }

    /// Decrypt: opens Encrypt output with the key's initial version. `key_id` is
    /// required.
    pub fn decrypt(&self, request: &DecryptRequest<'_>) -> Result<DecryptResponse> {
        self.call(|request_id, now| {
            let key_id = required("KeyId", request.key_id)?;
            self.decrypt_bare(key_id, request, request_id, now)
        })
    }

    /// Opens a self-describing blob: the `$` blob of AdvanceEncrypt, or the
    /// shared-gateway form (`KeyVersionId | Iv | ciphertext || tag`, always the GCM
    /// of the key's block cipher) that classic Encrypt returns through Alibaba's
    /// transfer SDKs. The version named in it decrypts.
    fn decrypt_blob(
        &self,
        request: &DecryptRequest<'_>,
        request_id: &str,
        now: i64,
    ) -> Result<DecryptResponse> {
        if request.ciphertext_blob.is_empty() {
            return Err(Error::missing_parameter("CiphertextBlob"));
        }
        buffer::check_ciphertext_len(request.ciphertext_blob.len())?;
        // `request.iv` is not used: Alibaba's SDKs send `Iv = blob[36:48]` (the PHP
        // one up to 48 bytes) along with a self-describing blob and no KeyId, and
        // the service ignores it, as this does. The blob carries its own IV.
        if request.aad.len() > MAX_AAD_LEN {
            return Err(Error::invalid_parameter(
                "Aad",
                format!("Aad is at most {MAX_AAD_LEN} bytes."),
            ));
        }
        // Parameters are checked before the blob, so a bad parameter is never
        // reported as a bad ciphertext.
        let pinned_algorithm = non_empty(request.algorithm)
            .map(|a| Algorithm::parse(Some(a)))
            .transpose()?;
        let pinned_padding = non_empty(request.padding_mode)
            .map(PaddingMode::parse)
            .transpose()?;

        let blob = request.ciphertext_blob;
        let dollar = if blob[0] == BLOB_MAGIC {
            parse_blob(blob).ok()
        } else {
            None
        };
        let gateway = parse_gateway_blob(blob).ok();
        let candidates = [dollar, gateway];
        let Some(first) = candidates.iter().flatten().next() else {
            return Err(Error::invalid_ciphertext());
        };

        let mut snapshot = self.store.snapshot();
        let mut found = find_candidate(&snapshot, &candidates, now);
        if found.is_none() {
            // Another process may have made the version a moment ago: re-read the
            // store once before answering KeyNotFound.
            snapshot = self.store.reload()?;
            found = find_candidate(&snapshot, &candidates, now);
        }
        let Some((_, key)) = found else {
            return Err(Error::key_version_not_found(first.key_version_id));
        };
        // Carry out a rotation, expiry or deletion due on this key first.
        let key_id = key.key_id.clone();
        let snapshot = self.fresh_snapshot_for(&key_id, now)?;
        let (parsed, key) = find_candidate(&snapshot, &candidates, now)
            .ok_or_else(|| Error::key_version_not_found(first.key_version_id))?;
        let version = key
            .version(parsed.key_version_id)
            .ok_or_else(|| Error::key_version_not_found(parsed.key_version_id))?;
        check_usable(key, now)?;

        // The gateway form names no algorithm: it is the GCM of the key's cipher.
        let algorithm = if dollar.is_some_and(|d| d.key_version_id == parsed.key_version_id) {
            parsed.algorithm
        } else {
            Algorithm::of(key.cipher_family(), Mode::Gcm)
        };
        let algorithm_differs = pinned_algorithm.is_some_and(|a| a != algorithm);
        let padding_differs = pinned_padding.is_some_and(|p| parsed.padding != Some(p));
        // Only GCM takes Aad: Aad given for a blob that is not GCM means the blob
        // is not what the caller made.
        let aad_unused = !request.aad.is_empty() && algorithm.mode() != Mode::Gcm;
        if algorithm_differs || padding_differs || aad_unused {
            return Err(Error::invalid_ciphertext());
        }
        // A key created for GCM only never runs a block mode, whatever a blob's
        // header says: no relabelled GCM blob decrypts as ECB, and there is no
        // padding oracle. The key cannot have made such a blob, so it is an invalid
        // ciphertext (the answer depends on the header alone).
        if let Some(why) = key.algorithm_refusal(algorithm) {
            return Err(Error::invalid_ciphertext_because(why));
        }
        let cipher = version_cipher(version)?;
        let plaintext = cipher.open(
            &CipherParams {
                algorithm,
                padding: parsed.padding,
                iv: parsed.iv,
                aad: request.aad,
            },
            parsed.ciphertext,
        )?;
        Ok(DecryptResponse {
            plaintext,
            key_id: key.key_id.clone(),
            key_version_id: version.key_version_id.clone(),
            algorithm,
            padding_mode: parsed.padding,
            request_id: request_id.to_owned(),
        })
    }

    fn decrypt_bare(
        &self,
        key_id: &str,
        request: &DecryptRequest<'_>,
        request_id: &str,
        now: i64,
    ) -> Result<DecryptResponse> {
        let asked = non_empty(request.algorithm);
        let algorithm = Algorithm::parse(asked)?;
        let padding = algorithm.padding(request.padding_mode)?;
        algorithm.check_iv(request.iv)?;
        if request.iv.len() != algorithm.iv_len() {
            return Err(Error::invalid_parameter(
                "Iv",
                format!(
                    "{} output is decrypted with the {}-byte Iv that Encrypt returned.",
                    algorithm.name(),
                    algorithm.iv_len()
                ),
            ));
        }
        algorithm.check_aad(request.aad)?;
        buffer::check_ciphertext_len(request.ciphertext_blob.len())?;

        let snapshot = self.fresh_snapshot_for(key_id, now)?;
        let key = snapshot.resolve(key_id, now)?;
        check_usable(key, now)?;
        let algorithm = if asked.is_none() {
            key.default_algorithm()
        } else {
            algorithm
        };
        key.require_algorithm(algorithm)?;
        let version = key.initial_version();
        let cipher = version_cipher(version)?;
        let plaintext = cipher.open(
            &CipherParams {
                algorithm,
                padding,
                iv: request.iv,
                aad: request.aad,
            },
            request.ciphertext_blob,
        )?;
        Ok(DecryptResponse {
            plaintext,
            key_id: key.key_id.clone(),
            key_version_id: version.key_version_id.clone(),
            algorithm,
            padding_mode: padding,
            request_id: request_id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::CreateKeyRequest;

    #[test]
    fn random_ivs_are_fresh_and_not_the_request_id() {
        let client = Client::in_memory();
        let key_id = client
            .create_key(&CreateKeyRequest {
                algorithms: Some("AES_GCM,AES_CBC"),
                ..Default::default()
            })
            .unwrap()
            .value
            .key_id;
        let mut seen = std::collections::HashSet::new();
        for algorithm in ["AES_GCM", "AES_CBC"] {
            for _ in 0..200 {
                let r = client
                    .advance_encrypt(&EncryptRequest {
                        key_id: &key_id,
                        plaintext: b"x",
                        algorithm: Some(algorithm),
                        ..Default::default()
                    })
                    .unwrap();
                let iv_hex: String = r.iv.iter().map(|b| format!("{b:02x}")).collect();
                let id_hex = r.request_id.replace('-', "");
                assert!(
                    !id_hex.contains(&iv_hex[..8]),
                    "the IV repeats RequestId bytes"
                );
                assert!(seen.insert(r.iv.clone()), "an IV repeated");
                assert!(seen.insert(id_hex.into_bytes()), "a RequestId repeated");
            }
        }
    }

    #[test]
    fn debug_never_shows_plaintext() {
        let request = EncryptRequest {
            key_id: "k",
            plaintext: b"TOP-SECRET-PLAINTEXT",
            ..Default::default()
        };
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("TOP") && !shown.contains("84, 79"),
            "{shown}"
        );
        assert!(shown.contains("20 bytes, redacted"), "{shown}");
        let client = Client::in_memory();
        let key_id = client
            .create_key(&CreateKeyRequest::default())
            .unwrap()
            .value
            .key_id;
        let sealed = client
            .advance_encrypt(&EncryptRequest {
                key_id: &key_id,
                ..request
            })
            .unwrap();
        let opened = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &sealed.ciphertext_blob,
                ..Default::default()
            })
            .unwrap();
        let shown = format!("{opened:?}");
        assert!(!shown.contains("84, 79"), "{shown}");
        assert!(shown.contains("20 bytes, redacted"), "{shown}");
    }
}
