//! AdvanceEncrypt, Encrypt, AdvanceDecrypt, Decrypt.
//! (Over 400 lines with its tests; the four calls themselves are 358 lines, and
//! decrypting and the GCM budget already have files of their own.)

use crate::crypto::SecretBytes;

use super::client::Client;
use super::gcm_reserve::Reservation;
use super::output::{
    DecryptOutput, DecryptResponseOutput, EncryptOutput, EncryptResponseOutput, Encrypted,
};
use super::params::{require_symmetric, required};
use super::redacted::Redacted;
use crate::crypto::blob::{blob_len, write_blob_header};
use crate::crypto::buffer;
use crate::crypto::{Algorithm, CipherMode, KeyCipher, Mode, PaddingMode};
use crate::error::{Error, ErrorKind, Result};
use crate::keystore::{Key, KeyVersion, Origin};

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
    pub plaintext: SecretBytes,
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
pub(crate) enum Which {
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

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// The ready cipher of a version, or PendingImport when it has no material.
#[inline]
pub(super) fn version_cipher(version: &KeyVersion) -> Result<&KeyCipher> {
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
#[inline]
pub(super) fn check_usable(key: &Key, now: i64) -> Result<()> {
    require_symmetric(key)?;
    key.state_at(now).require_enabled()
}

/// A version that needs more GCM budget before it encrypts, found by one look at
/// the key.
///
/// The look returns `Result<()>` and leaves this in a variable of the caller's, not
/// an `enum { Done, Reserve {..} }` in its result: the caller copied that 64-byte
/// result out with 16-byte loads before testing it, and those loads waited for the
/// narrower stores that wrote it (a store-forwarding stall, a third of
/// `encrypt_into`'s own time; this took 3.9 ns off a 64-byte AdvanceEncrypt).
struct NeedsReserve {
    key_id: String,
    key_version_id: String,
    material: std::sync::Arc<crate::keystore::Material>,
    rotatable: bool,
}

impl Client {
    /// AdvanceEncrypt: encrypts with the key's primary version and returns the
    /// self-describing blob, which [`Client::advance_decrypt`] opens from itself alone.
    pub fn advance_encrypt(&self, request: &EncryptRequest<'_>) -> Result<EncryptResponse> {
        let mut out = EncryptResponseOutput::default();
        self.encrypt_into(request, Which::Primary, &mut out)?;
        out.into_response()
    }

    /// Encrypt: encrypts with the key's initial version, whatever rotations happened,
    /// and returns the bare ciphertext. Keep KeyId, Algorithm, Iv and PaddingMode to
    /// decrypt it.
    pub fn encrypt(&self, request: &EncryptRequest<'_>) -> Result<EncryptResponse> {
        let mut out = EncryptResponseOutput::default();
        self.encrypt_into(request, Which::Initial, &mut out)?;
        out.into_response()
    }

    /// AdvanceEncrypt ([`Which::Primary`]) or Encrypt ([`Which::Initial`]) into
    /// `out`: the C layer's one-block responses.
    pub(crate) fn encrypt_into(
        &self,
        request: &EncryptRequest<'_>,
        which: Which,
        out: &mut impl EncryptOutput,
    ) -> Result<()> {
        self.call_with_iv(|request_id, now, iv_random| {
            self.encrypt_with(request, which, request_id, now, iv_random, out)
        })
    }

    /// AdvanceDecrypt: opens an AdvanceEncrypt blob from the blob and Aad alone, with
    /// the version recorded in it; or, when `key_id` is given, Encrypt output (then
    /// `algorithm`, `iv` and `padding_mode` say how it was made).
    pub fn advance_decrypt(&self, request: &DecryptRequest<'_>) -> Result<DecryptResponse> {
        let mut out = DecryptResponseOutput::default();
        self.decrypt_into(request, Which::Primary, &mut out)?;
        out.into_response()
    }

    /// Decrypt: opens Encrypt output with the key's initial version. `key_id` is
    /// required.
    pub fn decrypt(&self, request: &DecryptRequest<'_>) -> Result<DecryptResponse> {
        let mut out = DecryptResponseOutput::default();
        self.decrypt_into(request, Which::Initial, &mut out)?;
        out.into_response()
    }

    /// AdvanceDecrypt ([`Which::Primary`]) or Decrypt ([`Which::Initial`]) into
    /// `out`.
    pub(crate) fn decrypt_into(
        &self,
        request: &DecryptRequest<'_>,
        which: Which,
        out: &mut impl DecryptOutput,
    ) -> Result<()> {
        self.call(|request_id, now| match (which, non_empty(request.key_id)) {
            (Which::Primary, None) => self.decrypt_blob(request, request_id, now, out),
            (Which::Primary, Some(key_id)) => {
                self.decrypt_bare(key_id, request, request_id, now, out)
            }
            (Which::Initial, key_id) => {
                let key_id = required("KeyId", key_id)?;
                self.decrypt_bare(key_id, request, request_id, now, out)
            }
        })
    }

    pub(super) fn encrypt_with(
        &self,
        request: &EncryptRequest<'_>,
        which: Which,
        request_id: &str,
        now: i64,
        iv_random: &[u8; 16],
        out: &mut impl EncryptOutput,
    ) -> Result<()> {
        let key_id = required("KeyId", Some(request.key_id))?;
        let asked = non_empty(request.algorithm);
        let algorithm = super::params::algorithm(asked)?;
        let padding = super::params::padding(algorithm, request.padding_mode)?;
        super::params::check_iv(algorithm, request.iv)?;
        super::params::check_aad(algorithm, request.aad)?;
        buffer::check_plaintext_len(request.plaintext.len())?;
        super::params::check_plaintext_blocks(padding, request.plaintext.len())?;
        // No IV given: fresh random bytes (drawn with the RequestId, and used for
        // nothing else).
        let iv = |algorithm: Algorithm| {
            if request.iv.is_empty() {
                &iv_random[..algorithm.iv_len()]
            } else {
                request.iv
            }
        };
        // The GCM budget's batch per thread: exact for a lowered limit.
        let batch = (self.gcm_limit() >> 26).clamp(1, 64);

        // A rotation or a reservation, then a retry: a few rounds at most, unless
        // other writers keep spending what this one reserves.
        for _ in 0..8 {
            let mut needs: Option<NeedsReserve> = None;
            self.with_fresh_key(key_id, now, |key| {
                check_usable(key, now)?;
                // No algorithm asked for: the GCM of the key's block cipher (the
                // rules checked before are those of every GCM).
                let algorithm = if asked.is_none() {
                    key.default_algorithm()
                } else {
                    algorithm
                };
                key.require_algorithm(algorithm)?;
                let version = which.version_of(key);
                let cipher = version_cipher(version)?;
                if algorithm.mode() == Mode::Gcm {
                    if let Some(material) = &version.material {
                        // An in-memory store grants a version's whole budget at
                        // once, with no write: granted here, on the version this
                        // call found, a key that another thread rotates without
                        // pause still encrypts (a retry would meet a newer version
                        // with nothing granted yet, round after round).
                        let taken = material.gcm_allowance.take(batch)
                            || (!self.store.is_persistent()
                                && matches!(
                                    self.reserve_gcm(
                                        &key.key_id,
                                        &version.key_version_id,
                                        material,
                                        now
                                    )?,
                                    Reservation::More
                                )
                                && material.gcm_allowance.take(batch));
                        if !taken {
                            needs = Some(NeedsReserve {
                                key_id: key.key_id.clone(),
                                key_version_id: version.key_version_id.clone(),
                                material: material.clone(),
                                rotatable: which == Which::Primary
                                    && key.origin == Origin::AliyunKms,
                            });
                            return Ok(());
                        }
                    }
                }
                let built = CipherMode::new(algorithm.mode(), iv(algorithm), request.aad, padding);
                let Some(mode) = &built else {
                    return Err(Error::internal("The cipher parameters do not fit."));
                };
                let encrypted = Encrypted {
                    key_id: &key.key_id,
                    key_version_id: &version.key_version_id,
                    algorithm,
                    iv: mode.iv(),
                    padding_mode: padding,
                    request_id,
                };
                let plaintext = request.plaintext;
                match which {
                    Which::Primary => {
                        let blob = out.room(&encrypted, blob_len(mode, plaintext.len()))?;
                        let start =
                            write_blob_header(blob, algorithm, mode, &version.key_version_id)?;
                        cipher.seal(mode, plaintext, &mut blob[start..])?;
                    }
                    Which::Initial => {
                        let room = out.room(&encrypted, mode.ciphertext_len(plaintext.len()))?;
                        cipher.seal(mode, plaintext, room)?;
                    }
                }
                Ok(())
            })?;
            let Some(NeedsReserve {
                key_id: real_key_id,
                key_version_id,
                material,
                rotatable,
            }) = needs
            else {
                return Ok(());
            };
            match self.reserve_gcm(&real_key_id, &key_version_id, &material, now)? {
                Reservation::More => continue,
                Reservation::Spent if !rotatable => {
                    return Err(Error::unsupported(format!(
                        "The version {} of key {} has made the {} GCM encryptions one \
                         version may make (NIST SP 800-38D, random 96-bit IVs). {}",
                        key_version_id,
                        real_key_id,
                        self.gcm_limit(),
                        if which == Which::Initial {
                            "Encrypt always uses the initial version: use AdvanceEncrypt, \
                             which rotates."
                        } else {
                            "The key's material is imported: import a new version."
                        }
                    )))
                }
                Reservation::Spent => self.rotate_spent(&real_key_id, &key_version_id, now)?,
            }
        }
        Err(Error::internal(
            "GCM encryptions could not be reserved for the key version.",
        ))
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
    fn encryption_goes_on_while_another_thread_rotates_without_pause() {
        let client = std::sync::Arc::new(Client::in_memory());
        let key_id = client
            .create_key(&CreateKeyRequest::default())
            .unwrap()
            .value
            .key_id;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let rotator = {
            let (client, key_id, stop) = (client.clone(), key_id.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut rotations = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    client.rotate_key(&key_id).unwrap();
                    rotations += 1;
                }
                rotations
            })
        };
        for _ in 0..3000 {
            let sealed = client
                .advance_encrypt(&EncryptRequest {
                    key_id: &key_id,
                    plaintext: b"x",
                    ..Default::default()
                })
                .unwrap();
            let opened = client
                .advance_decrypt(&DecryptRequest {
                    ciphertext_blob: &sealed.ciphertext_blob,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(&opened.plaintext[..], b"x");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(rotator.join().unwrap() > 0);
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
