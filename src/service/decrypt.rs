//! The decrypt paths of AdvanceDecrypt and Decrypt: a self-describing blob, or
//! bare Encrypt output with the parameters that made it.

use super::client::Client;
use super::crypto_ops::{check_usable, version_cipher, DecryptRequest};
use super::output::{DecryptOutput, Decrypted};
use crate::crypto::blob::{read_blob, read_gateway_blob, ParsedBlob, BLOB_MAGIC};
use crate::crypto::{buffer, Algorithm, CipherMode, KeyCipher, Mode, PaddingMode, MAX_AAD_LEN};
use crate::error::{Error, Result};
use crate::keystore::{Key, KeyVersion, Snapshot};

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// The first of the blob's readings (the `$` form, then the gateway form) whose
/// version this snapshot holds at `now`, with its key and version.
fn find_candidate<'s, 'b>(
    snapshot: &'s Snapshot,
    candidates: &[Option<ParsedBlob<'b>>; 2],
    now: i64,
) -> Option<(ParsedBlob<'b>, &'s Key, &'s KeyVersion)> {
    candidates.iter().flatten().find_map(|c| {
        snapshot
            .find_version(c.key_version_id, now)
            .map(|(key, version)| (*c, &**key, version))
    })
}

/// What the caller pinned about a blob (`Algorithm`, `PaddingMode` given to
/// AdvanceDecrypt without a KeyId).
struct Pins {
    algorithm: Option<Algorithm>,
    padding: Option<PaddingMode>,
}

/// Decrypts `ciphertext` with `cipher` into the room `out` gives.
fn open_into(
    cipher: &KeyCipher,
    mode: &CipherMode<'_>,
    ciphertext: &[u8],
    decrypted: &Decrypted<'_>,
    out: &mut impl DecryptOutput,
) -> Result<()> {
    let max_len = match mode.mode() {
        Mode::Gcm => ciphertext.len().saturating_sub(crate::crypto::GCM_TAG_LEN),
        Mode::Cbc | Mode::Ecb => ciphertext.len(),
    };
    let room = out.room(decrypted, max_len)?;
    let len = cipher.open(mode, ciphertext, room)?;
    out.set_len(len);
    Ok(())
}

impl Client {
    /// Opens a self-describing blob: the `$` blob of AdvanceEncrypt, or the
    /// shared-gateway form (`KeyVersionId | Iv | ciphertext || tag`, always the GCM
    /// of the key's block cipher) that classic Encrypt returns through Alibaba's
    /// transfer SDKs. The version named in it decrypts.
    pub(super) fn decrypt_blob(
        &self,
        request: &DecryptRequest<'_>,
        request_id: &str,
        now: i64,
        out: &mut impl DecryptOutput,
    ) -> Result<()> {
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
        let pins = Pins {
            algorithm: non_empty(request.algorithm)
                .map(|a| super::params::algorithm(Some(a)))
                .transpose()?,
            padding: non_empty(request.padding_mode)
                .map(super::params::padding_mode)
                .transpose()?,
        };

        let blob = request.ciphertext_blob;
        let dollar = if blob[0] == BLOB_MAGIC {
            read_blob(blob)
        } else {
            None
        };
        // The usual case: a `$` blob whose version is in the current snapshot and
        // whose key needs no maintenance. One lookup, no reference taken, and no
        // reading of the blob in the gateway form, which only a `$` reading not
        // found here falls back to (the same choice as `find_candidate`'s, which
        // tries the `$` reading first).
        if let Some(parsed) = dollar {
            let snapshot = self.store.snapshot_guard();
            if let Some((key, version)) = snapshot.find_version(parsed.key_version_id, now) {
                if !key.maintenance_due_at(now) {
                    return self.open_blob(
                        request, request_id, now, &pins, dollar, parsed, key, version, out,
                    );
                }
            }
        }
        let gateway = read_gateway_blob(blob);
        let candidates = [dollar, gateway];
        let Some(first) = candidates.iter().flatten().next() else {
            return Err(Error::invalid_ciphertext());
        };

        // A gateway blob whose version is in the current snapshot and whose key
        // needs no maintenance: one lookup, no reference taken.
        {
            let snapshot = self.store.snapshot_guard();
            if let Some((parsed, key, version)) = find_candidate(&snapshot, &candidates, now) {
                if !key.maintenance_due_at(now) {
                    return self.open_blob(
                        request, request_id, now, &pins, dollar, parsed, key, version, out,
                    );
                }
            }
        }

        let mut snapshot = self.store.snapshot();
        let mut found =
            find_candidate(&snapshot, &candidates, now).map(|(_, k, _)| k.key_id.clone());
        if found.is_none() {
            // Another process may have made the version a moment ago: re-read the
            // store once before answering KeyNotFound.
            snapshot = self.store.reload()?;
            found = find_candidate(&snapshot, &candidates, now).map(|(_, k, _)| k.key_id.clone());
        }
        let Some(key_id) = found else {
            return Err(Error::key_version_not_found(first.key_version_id));
        };
        // Carry out a rotation, expiry or deletion due on this key first.
        let snapshot = self.fresh_snapshot_for(&key_id, now)?;
        let (parsed, key, version) = find_candidate(&snapshot, &candidates, now)
            .ok_or_else(|| Error::key_version_not_found(first.key_version_id))?;
        self.open_blob(
            request, request_id, now, &pins, dollar, parsed, key, version, out,
        )
    }

    /// The checks and the decryption of a blob whose version was found.
    #[allow(clippy::too_many_arguments)]
    fn open_blob(
        &self,
        request: &DecryptRequest<'_>,
        request_id: &str,
        now: i64,
        pins: &Pins,
        dollar: Option<ParsedBlob<'_>>,
        parsed: ParsedBlob<'_>,
        key: &Key,
        version: &KeyVersion,
        out: &mut impl DecryptOutput,
    ) -> Result<()> {
        check_usable(key, now)?;
        // The gateway form names no algorithm: it is the GCM of the key's cipher.
        let algorithm = if dollar.is_some_and(|d| d.key_version_id == parsed.key_version_id) {
            parsed.algorithm
        } else {
            Algorithm::of(key.cipher_family(), Mode::Gcm)
        };
        let algorithm_differs = pins.algorithm.is_some_and(|a| a != algorithm);
        let padding_differs = pins.padding.is_some_and(|p| parsed.padding != Some(p));
        // Only GCM takes Aad: Aad given for a blob that is not GCM means the blob
        // is not what the caller made.
        let aad_unused = !request.aad.is_empty() && algorithm.mode() != Mode::Gcm;
        if algorithm_differs || padding_differs || aad_unused {
            return Err(Error::invalid_ciphertext());
        }
        // A key created for GCM only never runs a block mode, whatever a blob's
        // header says: no relabelled GCM blob decrypts as ECB, and there is no
        // padding oracle. The key cannot have made such a blob, so it is an invalid
        // ciphertext (the answer depends on the header alone). This also refuses a
        // blob of another block cipher than the key's.
        if let Some(why) = key.algorithm_refusal(algorithm) {
            return Err(Error::invalid_ciphertext_because(why));
        }
        let cipher = version_cipher(version)?;
        let built = CipherMode::new(algorithm.mode(), parsed.iv, request.aad, parsed.padding);
        let Some(mode) = &built else {
            return Err(Error::invalid_ciphertext());
        };
        let decrypted = Decrypted {
            key_id: &key.key_id,
            key_version_id: &version.key_version_id,
            algorithm,
            padding_mode: parsed.padding,
            request_id,
        };
        open_into(cipher, mode, parsed.ciphertext, &decrypted, out)
    }

    pub(super) fn decrypt_bare(
        &self,
        key_id: &str,
        request: &DecryptRequest<'_>,
        request_id: &str,
        now: i64,
        out: &mut impl DecryptOutput,
    ) -> Result<()> {
        let asked = non_empty(request.algorithm);
        let algorithm = super::params::algorithm(asked)?;
        let padding = super::params::padding(algorithm, request.padding_mode)?;
        super::params::check_iv(algorithm, request.iv)?;
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
        super::params::check_aad(algorithm, request.aad)?;
        buffer::check_ciphertext_len(request.ciphertext_blob.len())?;

        self.with_fresh_key(key_id, now, |key| {
            check_usable(key, now)?;
            let algorithm = if asked.is_none() {
                key.default_algorithm()
            } else {
                algorithm
            };
            key.require_algorithm(algorithm)?;
            let version = key.initial_version();
            let cipher = version_cipher(version)?;
            let built = CipherMode::new(algorithm.mode(), request.iv, request.aad, padding);
            let Some(mode) = &built else {
                return Err(Error::internal("The cipher parameters do not fit."));
            };
            let decrypted = Decrypted {
                key_id: &key.key_id,
                key_version_id: &version.key_version_id,
                algorithm,
                padding_mode: padding,
                request_id,
            };
            open_into(cipher, mode, request.ciphertext_blob, &decrypted, out)
        })
    }
}
