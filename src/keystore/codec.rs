//! The plaintext payload of the sealed store file: a [`Model`] as bytes and back.
//! (Over 400 lines because encoding and decoding of payload versions 1 to 3 stay side by side so that they stay symmetric; its tests are in codec_tests.rs.)
//!
//! The file header (written by the file layer) carries the *file* format version; the
//! payload starts with its own [`PAYLOAD_VERSION`]. A reader opens every payload
//! version up to its own and refuses a newer one as `KeyStore.Corrupted`.
//!
//! # Format (version 3)
//!
//! Every integer is little-endian. `str` and `bytes` are a `u32` length followed by
//! that many bytes (UTF-8 for `str`); `opt<T>` is a `u8` tag, 0 (absent) or 1 (present),
//! followed by `T` when present; `bool` is a `u8`, 0 or 1.
//!
//! | Part      | Field                  | Encoding                   |
//! |-----------|------------------------|----------------------------|
//! | payload   | payload version        | `u32` (= 3)                |
//! |           | key count              | `u32`                      |
//! |           | keys                   | key × key count            |
//! |           | alias count            | `u32`                      |
//! |           | aliases                | alias × alias count        |
//! |           | *(end: no trailing bytes)* |                        |
//! | key       | key_id                 | `str` (KeyId form)         |
//! |           | key_spec               | `u8` code, table below     |
//! |           | key_usage              | `u8` code, table below     |
//! |           | origin                 | `u8` code, table below     |
//! |           | description            | `str`                      |
//! |           | creation_date          | `i64` (Unix seconds)       |
//! |           | state                  | `u8` code, table below     |
//! |           | delete_date            | `opt<i64>`                 |
//! |           | primary                | `u32` (index into versions)|
//! |           | automatic_rotation     | `bool`                     |
//! |           | rotation_interval      | `opt<i64>` (seconds)       |
//! |           | last_rotation_date     | `i64`                      |
//! |           | material_expire        | `opt<i64>`                 |
//! |           | material_check_value (1, 2) | `opt<[u8; 16]>` (raw) |
//! |           | modes (3)              | `u8`: bit 0 GCM, 1 CBC, 2 ECB |
//! |           | version count          | `u32` (≥ 1)                |
//! |           | versions               | version × version count    |
//! | version   | key_version_id         | `str` (KeyVersionId form)  |
//! |           | creation_date          | `i64`                      |
//! |           | material               | `opt<bytes>`               |
//! |           | check_value (3)        | `opt<[u8; 16]>`            |
//! |           | gcm_reserved (3)       | `u64`                      |
//! | alias     | name                   | `str` (`alias/…`)          |
//! |           | key_id                 | `str` (an existing key)    |
//!
//! Enum codes are fixed here, never taken from Rust discriminants; 0 is never a valid
//! code, and a code is never reused for something else.
//!
//! | Enum     | Codes                                                                  |
//! |----------|------------------------------------------------------------------------|
//! | KeySpec  | Aes128 = 1, Aes192 = 2, Aes256 = 3, Sm4 = 4, Rsa2048 = 10, Rsa3072 = 11, Rsa4096 = 12, EcP256 = 20, EcP256K = 21 |
//! | KeyUsage | EncryptDecrypt = 1, SignVerify = 2                                     |
//! | Origin   | AliyunKms = 1, External = 2                                            |
//! | KeyState | Enabled = 1, Disabled = 2, PendingDeletion = 3, PendingImport = 4      |
//!
//! Material is the raw AES key of a symmetric version or the PKCS#8 DER private key of
//! an asymmetric one. The encoded buffer is allocated once at its exact size and wiped
//! when dropped; the caller owns the wiping of the payload it passes to [`decode`].
//!
//! # Versions
//!
//! - **1**: the layout above, but `material_check_value` held AES_k(0^128) of the
//!   material, which is GCM's GHASH key H (enough, with one known blob, to forge
//!   GCM tags under the key), kept even after the material itself expired.
//! - **2**: the same layout; `material_check_value` is a [`KeyCheckValue`]
//!   (HMAC-SHA-256 keyed with the material, truncated to 16 bytes), from which no
//!   AES or GCM secret can be derived.
//!
//! - **3**: the key-level check value is gone; each version has its own (an
//!   EXTERNAL key may hold several imported versions), and its `gcm_reserved`;
//!   each key has its permitted `modes`. Versions 1 and 2 read as keys that permit
//!   every mode, with the check value on their initial version. A record of one
//!   key (a row of a database store) is `u32` version 3 and the key.
//!
//! Decoding version 1 migrates it (see `migrated_check_value`): the legacy value
//! is never kept in memory; `Decoded::migrated` tells the store to rewrite the
//! file in version 2 at once, so that it does not stay on disk either.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::check_value::{KeyCheckValue, CHECK_VALUE_LEN};
use super::keyset::Model;
use super::model::{
    Key, KeySpec, KeyState, KeyUsage, KeyVersion, Material, Origin, PermittedModes,
};
use crate::crypto::CipherFamily;
use crate::error::{Error, ErrorKind, Result};
use crate::ids;

/// The payload format version this code writes (the file header carries the file
/// format version separately).
pub(crate) const PAYLOAD_VERSION: u32 = 3;

/// The last payload version whose check values are AES_k(0^128), the legacy kind
/// that decoding drops or recomputes.
pub(crate) const LEGACY_CHECK_VALUE_VERSION: u32 = 1;

/// The last payload version with one check value per key (of its initial version)
/// and no permitted modes (its keys permitted GCM, CBC and ECB).
pub(crate) const KEY_LEVEL_CHECK_VALUE_VERSION: u32 = 2;

// ---------------------------------------------------------------------------------
// Enum codes
// ---------------------------------------------------------------------------------

fn key_spec_code(spec: KeySpec) -> u8 {
    match spec {
        KeySpec::Aes128 => 1,
        KeySpec::Aes192 => 2,
        KeySpec::Aes256 => 3,
        KeySpec::Sm4 => 4,
        KeySpec::Rsa2048 => 10,
        KeySpec::Rsa3072 => 11,
        KeySpec::Rsa4096 => 12,
        KeySpec::EcP256 => 20,
        KeySpec::EcP256K => 21,
    }
}

fn key_spec_from_code(code: u8) -> Option<KeySpec> {
    Some(match code {
        1 => KeySpec::Aes128,
        2 => KeySpec::Aes192,
        3 => KeySpec::Aes256,
        4 => KeySpec::Sm4,
        10 => KeySpec::Rsa2048,
        11 => KeySpec::Rsa3072,
        12 => KeySpec::Rsa4096,
        20 => KeySpec::EcP256,
        21 => KeySpec::EcP256K,
        _ => return None,
    })
}

fn key_usage_code(usage: KeyUsage) -> u8 {
    match usage {
        KeyUsage::EncryptDecrypt => 1,
        KeyUsage::SignVerify => 2,
    }
}

fn key_usage_from_code(code: u8) -> Option<KeyUsage> {
    match code {
        1 => Some(KeyUsage::EncryptDecrypt),
        2 => Some(KeyUsage::SignVerify),
        _ => None,
    }
}

fn origin_code(origin: Origin) -> u8 {
    match origin {
        Origin::AliyunKms => 1,
        Origin::External => 2,
    }
}

fn origin_from_code(code: u8) -> Option<Origin> {
    match code {
        1 => Some(Origin::AliyunKms),
        2 => Some(Origin::External),
        _ => None,
    }
}

fn key_state_code(state: KeyState) -> u8 {
    match state {
        KeyState::Enabled => 1,
        KeyState::Disabled => 2,
        KeyState::PendingDeletion => 3,
        KeyState::PendingImport => 4,
    }
}

fn key_state_from_code(code: u8) -> Option<KeyState> {
    match code {
        1 => Some(KeyState::Enabled),
        2 => Some(KeyState::Disabled),
        3 => Some(KeyState::PendingDeletion),
        4 => Some(KeyState::PendingImport),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------

/// Where [`write_model`] puts its bytes: a counter for the sizing pass, the buffer for
/// the writing pass. Both passes run the same code, so the sizes agree.
trait Sink {
    fn put(&mut self, bytes: &[u8]);

    fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    fn u32(&mut self, v: u32) {
        self.put(&v.to_le_bytes());
    }

    fn i64(&mut self, v: i64) {
        self.put(&v.to_le_bytes());
    }

    fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    /// A length or count as `u32`.
    fn len(&mut self, n: usize) {
        self.u32(len_u32(n));
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.put(b);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn opt_i64(&mut self, v: Option<i64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.i64(v);
            }
        }
    }
}

/// A length the format stores as `u32`. Every length in a model is far below 4 GiB
/// (ids are fixed-size, descriptions and materials are bounded by the service), so a
/// larger one is a bug; it panics rather than write a store that cannot be read back
/// (the C ABI turns the panic into InternalFailure and nothing is written).
fn len_u32(n: usize) -> u32 {
    u32::try_from(n).expect("a key store length exceeds the payload format's u32 limit")
}

/// The sizing pass.
struct CountingSink(usize);

impl Sink for CountingSink {
    fn put(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(bytes.len());
    }
}

/// The writing pass, into a buffer allocated at the exact final size.
struct WritingSink<'a>(&'a mut Vec<u8>);

impl Sink for WritingSink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        // The sizing pass guarantees the room; growing here would reallocate and leave
        // an unwiped copy of key material in the old allocation.
        debug_assert!(self.0.capacity() - self.0.len() >= bytes.len());
        self.0.extend_from_slice(bytes);
    }
}

#[cfg(test)]
fn write_model<S: Sink>(model: &Model, s: &mut S) {
    s.u32(PAYLOAD_VERSION);
    s.len(model.keys.len());
    for key in model.keys.values() {
        write_key(key, s);
    }
    s.len(model.aliases.len());
    for (name, key_id) in &model.aliases {
        s.str(name);
        s.str(key_id);
    }
}

fn write_key<S: Sink>(key: &Key, s: &mut S) {
    s.str(&key.key_id);
    s.u8(key_spec_code(key.key_spec));
    s.u8(key_usage_code(key.key_usage));
    s.u8(origin_code(key.origin));
    s.str(&key.description);
    s.i64(key.creation_date);
    s.u8(key_state_code(key.state));
    s.opt_i64(key.delete_date);
    s.len(key.primary);
    s.bool(key.automatic_rotation);
    s.opt_i64(key.rotation_interval);
    s.i64(key.last_rotation_date);
    s.opt_i64(key.material_expire);
    s.u8(key.modes.bits());
    s.len(key.versions.len());
    for version in &key.versions {
        s.str(&version.key_version_id);
        s.i64(version.creation_date);
        match &version.material {
            None => s.u8(0),
            Some(material) => {
                s.u8(1);
                s.bytes(material.bytes());
            }
        }
        match &version.check_value {
            None => s.u8(0),
            Some(cv) => {
                s.u8(1);
                s.put(cv.as_bytes());
            }
        }
        s.put(&version.gcm_reserved.to_le_bytes());
    }
}

/// Serialises the whole model as a v1 file's payload (for tests: the library
/// writes v1 files no more). The buffer is allocated once at its exact final size
/// (computed by a first pass over the same code), so no reallocation leaves an unwiped
/// copy of key material behind; it is wiped on drop.
#[cfg(test)]
pub(crate) fn encode(model: &Model) -> Zeroizing<Vec<u8>> {
    let mut counter = CountingSink(0);
    write_model(model, &mut counter);
    let mut buf = Zeroizing::new(Vec::with_capacity(counter.0));
    write_model(model, &mut WritingSink(&mut buf));
    debug_assert_eq!(buf.len(), buf.capacity());
    buf
}

/// One key as a record of its own (a row of a database store): the payload
/// version, then the key as in a whole payload. Allocated once at its exact size
/// and wiped on drop.
pub(crate) fn encode_key(key: &Key) -> Zeroizing<Vec<u8>> {
    let mut counter = CountingSink(0);
    counter.u32(PAYLOAD_VERSION);
    write_key(key, &mut counter);
    let mut buf = Zeroizing::new(Vec::with_capacity(counter.0));
    let mut sink = WritingSink(&mut buf);
    sink.u32(PAYLOAD_VERSION);
    write_key(key, &mut sink);
    buf
}

/// Reads a record of [`encode_key`]: every malformation is `KeyStore.Corrupted`,
/// as for a whole payload, and a record of a newer version is refused.
pub(crate) fn decode_key(record: &[u8]) -> Result<Key> {
    let mut r = Reader { rest: record };
    let version = r.u32("the record version")?;
    if version != PAYLOAD_VERSION {
        return Err(corrupt(format_args!(
            "a key record is of version {version}; this build reads version {PAYLOAD_VERSION}."
        )));
    }
    let key = read_key(&mut r, version)?;
    if !r.rest.is_empty() {
        return Err(corrupt(format_args!(
            "{} unexpected bytes follow the key {}.",
            r.rest.len(),
            key.key_id
        )));
    }
    Ok(key)
}

/// The model as payload version 1 or 2 wrote it (for the migration tests): the
/// layout those versions share, with the initial version's check value as the
/// key's one and no permitted modes.
#[cfg(test)]
pub(crate) fn encode_legacy(model: &Model, version: u32) -> Zeroizing<Vec<u8>> {
    assert!(version <= KEY_LEVEL_CHECK_VALUE_VERSION);
    let mut counter = CountingSink(0);
    write_legacy_model(model, version, &mut counter);
    let mut buf = Zeroizing::new(Vec::with_capacity(counter.0));
    write_legacy_model(model, version, &mut WritingSink(&mut buf));
    buf
}

#[cfg(test)]
fn write_legacy_model<S: Sink>(model: &Model, version: u32, s: &mut S) {
    s.u32(version);
    s.len(model.keys.len());
    for key in model.keys.values() {
        s.str(&key.key_id);
        s.u8(key_spec_code(key.key_spec));
        s.u8(key_usage_code(key.key_usage));
        s.u8(origin_code(key.origin));
        s.str(&key.description);
        s.i64(key.creation_date);
        s.u8(key_state_code(key.state));
        s.opt_i64(key.delete_date);
        s.len(key.primary);
        s.bool(key.automatic_rotation);
        s.opt_i64(key.rotation_interval);
        s.i64(key.last_rotation_date);
        s.opt_i64(key.material_expire);
        match key.versions.first().and_then(|v| v.check_value.as_ref()) {
            None => s.u8(0),
            Some(cv) => {
                s.u8(1);
                s.put(cv.as_bytes());
            }
        }
        s.len(key.versions.len());
        for version in &key.versions {
            s.str(&version.key_version_id);
            s.i64(version.creation_date);
            match &version.material {
                None => s.u8(0),
                Some(material) => {
                    s.u8(1);
                    s.bytes(material.bytes());
                }
            }
        }
    }
    s.len(model.aliases.len());
    for (name, key_id) in &model.aliases {
        s.str(name);
        s.str(key_id);
    }
}

// ---------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------

fn corrupt(why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::KeyStoreCorrupt,
        format!("The key store is corrupted: {why}"),
    )
}

/// Reads the payload front to back. Every read checks the remaining length first, so
/// nothing is allocated for a length the input cannot back.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(corrupt(format_args!(
                "the payload ends inside {what} ({n} bytes needed, {} left).",
                self.rest.len()
            )));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn i64(&mut self, what: &str) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    fn bool(&mut self, what: &str) -> Result<bool> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(corrupt(format_args!(
                "{what} is {other}, which is neither 0 nor 1."
            ))),
        }
    }

    /// The tag of an `opt<T>`.
    fn present(&mut self, what: &str) -> Result<bool> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(corrupt(format_args!(
                "the presence tag of {what} is {other}, which is neither 0 nor 1."
            ))),
        }
    }

    fn opt_i64(&mut self, what: &str) -> Result<Option<i64>> {
        if self.present(what)? {
            Ok(Some(self.i64(what)?))
        } else {
            Ok(None)
        }
    }

    /// A `u32`-length-prefixed byte string, borrowed from the input.
    fn bytes(&mut self, what: &str) -> Result<&'a [u8]> {
        let len = self.u32(what)?;
        // A u32 always fits a usize on the platforms Rust's std supports with ≥ 32-bit
        // pointers; saturate on the others so `take` reports truncation.
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        self.take(len, what)
    }

    fn string(&mut self, what: &str) -> Result<String> {
        let bytes = self.bytes(what)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| corrupt(format_args!("{what} is not valid UTF-8.")))
    }

    fn code<T>(&mut self, what: &str, from_code: fn(u8) -> Option<T>) -> Result<T> {
        let code = self.u8(what)?;
        from_code(code).ok_or_else(|| corrupt(format_args!("{what} has the unknown code {code}.")))
    }
}

/// A decoded payload.
pub(crate) struct Decoded {
    pub model: Model,
    /// The payload was of an older version and was migrated while it was read: the
    /// file should be rewritten, so that nothing of the older format (a legacy
    /// check value) stays on disk.
    #[cfg_attr(not(test), allow(dead_code))] // read by the codec tests
    pub migrated: bool,
}

/// Parses a payload of any version up to [`PAYLOAD_VERSION`], migrating an older
/// one. Every malformation is `KeyStore.Corrupted` with a message saying what is
/// wrong (never key bytes). It never panics and never allocates for a count or
/// length larger than the remaining input. Each symmetric version's cipher is
/// expanded here, once.
pub(crate) fn decode(payload: &[u8]) -> Result<Decoded> {
    let mut r = Reader { rest: payload };

    let version = r.u32("the payload version")?;
    if version > PAYLOAD_VERSION {
        return Err(corrupt(format_args!(
            "it was written by a newer localkms (payload version {version}; this build reads \
             up to {PAYLOAD_VERSION})."
        )));
    }
    if version == 0 {
        return Err(corrupt(
            "the payload version is 0, which was never written.",
        ));
    }

    let key_count = r.u32("the key count")?;
    let mut keys: BTreeMap<String, Arc<Key>> = BTreeMap::new();
    // KeyVersionIds are unique in the whole store: a blob names its version alone.
    let mut version_ids = BTreeSet::new();
    for _ in 0..key_count {
        let key = read_key(&mut r, version)?;
        if keys.contains_key(&key.key_id) {
            return Err(corrupt(format_args!(
                "the key {} appears more than once.",
                key.key_id
            )));
        }
        for v in &key.versions {
            if !version_ids.insert(v.key_version_id.clone()) {
                return Err(corrupt(format_args!(
                    "the version {} appears more than once.",
                    v.key_version_id
                )));
            }
        }
        keys.insert(key.key_id.clone(), Arc::new(key));
    }

    let alias_count = r.u32("the alias count")?;
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    for _ in 0..alias_count {
        let name = r.string("an alias name")?;
        if ids::check_alias_name(&name).is_err() {
            return Err(corrupt("an alias name does not follow the alias rules."));
        }
        let key_id = r.string("the KeyId of an alias")?;
        if !keys.contains_key(&key_id) {
            return Err(corrupt(format_args!(
                "the alias {name} names a key that is not in the store."
            )));
        }
        if aliases.contains_key(&name) {
            return Err(corrupt(format_args!(
                "the alias {name} appears more than once."
            )));
        }
        aliases.insert(name, key_id);
    }

    if !r.rest.is_empty() {
        return Err(corrupt(format_args!(
            "{} unexpected bytes follow the aliases.",
            r.rest.len()
        )));
    }
    let mut model = Model::default();
    for (key_id, key) in keys {
        model.replace_key(&key_id, Some(key));
    }
    for (alias, key_id) in aliases {
        model.replace_alias(&alias, Some(key_id));
    }
    model.take_changes();
    Ok(Decoded {
        model,
        migrated: version < PAYLOAD_VERSION,
    })
}

fn read_key(r: &mut Reader<'_>, payload_version: u32) -> Result<Key> {
    let key_id = r.string("a KeyId")?;
    if !ids::is_key_id(&key_id) && !ids::is_mirrored_key_id(&key_id) {
        return Err(corrupt("a KeyId does not have the KeyId form."));
    }
    // From here on the messages may name the key: its id has been checked.
    let field = |name: &str| format!("the {name} of key {key_id}");

    let key_spec = r.code(&field("KeySpec"), key_spec_from_code)?;
    let key_usage = r.code(&field("KeyUsage"), key_usage_from_code)?;
    let origin = r.code(&field("Origin"), origin_from_code)?;
    let description = r.string(&field("description"))?;
    let creation_date = r.i64(&field("creation date"))?;
    let state = r.code(&field("state"), key_state_from_code)?;
    let delete_date = r.opt_i64(&field("DeleteDate"))?;
    let primary = r.u32(&field("primary version index"))?;
    let automatic_rotation = r.bool(&field("automatic rotation flag"))?;
    let rotation_interval = r.opt_i64(&field("rotation interval"))?;
    let last_rotation_date = r.i64(&field("LastRotationDate"))?;
    let material_expire = r.opt_i64(&field("material expiry"))?;
    let key_level = payload_version <= KEY_LEVEL_CHECK_VALUE_VERSION;
    let (stored_check_value, modes) = if key_level {
        let value = if r.present(&field("material check value"))? {
            Some(r.array::<CHECK_VALUE_LEN>(&field("material check value"))?)
        } else {
            None
        };
        // Keys written before permitted modes existed keep working as they did.
        (value, PermittedModes::ALL)
    } else {
        let bits = r.u8(&field("permitted modes"))?;
        let modes = PermittedModes::from_bits(bits).ok_or_else(|| {
            corrupt(format_args!(
                "the permitted modes of key {key_id} are {bits:#x}."
            ))
        })?;
        (None, modes)
    };

    let version_count = r.u32(&field("version count"))?;
    // No capacity from the count: each version read checks its own bytes, so a huge
    // count fails on truncation without allocating for it.
    let mut versions = Vec::new();
    let mut seen = BTreeSet::new();
    for _ in 0..version_count {
        let version = read_version(r, &key_id, key_spec, !key_level, &field)?;
        if !seen.insert(version.key_version_id.clone()) {
            return Err(corrupt(format_args!(
                "the version {} of key {key_id} appears more than once.",
                version.key_version_id
            )));
        }
        versions.push(version);
    }

    // Versions 1 and 2 kept one check value per key, of its only (initial) version.
    if key_level {
        if let Some(initial) = versions.first_mut() {
            initial.check_value = if payload_version <= LEGACY_CHECK_VALUE_VERSION {
                migrated_check_value(origin, initial)
            } else {
                stored_check_value.map(KeyCheckValue::from_bytes)
            };
        }
    }
    let key = Key {
        key_id,
        key_spec,
        key_usage,
        origin,
        description,
        creation_date,
        state,
        delete_date,
        versions: versions.into_iter().map(Arc::new).collect(),
        primary: usize::try_from(primary).unwrap_or(usize::MAX),
        automatic_rotation,
        rotation_interval,
        last_rotation_date,
        material_expire,
        modes,
    };
    check_key(&key)?;
    Ok(key)
}

/// The check value of a key read from a version-1 payload, whose stored value
/// (AES_k(0^128), the GHASH key H) is never kept, whatever it is:
///
/// - an EXTERNAL key with its material: the value is computed anew from the
///   material, so re-importing still accepts only the same material;
/// - an EXTERNAL key without material (never imported, or imported material that
///   expired): none. An expired key then accepts any material of the right size on
///   its next import, as a key that never had material does. That is the safer
///   choice: keeping H would keep in the store and its backups, after the material
///   itself was wiped, a secret that with one known blob forges GCM tags under that
///   material (here, and wherever else the imported material is in use); a harmless
///   stand-in derived from H could only be checked by computing AES_k(0) of the
///   material offered again, which this code never does. What is lost guarded only
///   against importing the wrong material by mistake: a caller who can import
///   material can as well point the key's aliases at a key of its own.
/// - any other key: none (only imports set a check value).
fn migrated_check_value(origin: Origin, initial: &KeyVersion) -> Option<KeyCheckValue> {
    if origin != Origin::External {
        return None;
    }
    initial.material.as_ref().map(|m| m.check_value())
}

fn read_version(
    r: &mut Reader<'_>,
    key_id: &str,
    spec: KeySpec,
    with_check_value: bool,
    field: &dyn Fn(&str) -> String,
) -> Result<KeyVersion> {
    let id = r.bytes(&field("KeyVersionId of a version"))?;
    // The library's own `<KeyId>-…` and mirrored cloud IDs: 36 printable bytes.
    let Some(key_version_id) = ids::blob_key_version_id(id) else {
        return Err(corrupt(format_args!(
            "a version of key {key_id} has an id without the KeyVersionId form."
        )));
    };
    let key_version_id = key_version_id.to_owned();
    let vfield = |name: &str| format!("the {name} of version {key_version_id}");

    let creation_date = r.i64(&vfield("creation date"))?;
    let material = if r.present(&vfield("material"))? {
        let bytes = r.bytes(&vfield("material"))?;
        Some(Arc::new(read_material(bytes, spec, &key_version_id)?))
    } else {
        None
    };
    let check_value = if with_check_value && r.present(&vfield("check value"))? {
        Some(KeyCheckValue::from_bytes(
            r.array::<CHECK_VALUE_LEN>(&vfield("check value"))?,
        ))
    } else {
        None
    };
    // Format 3 counts the GCM encryptions reserved under each version.
    let gcm_reserved = if with_check_value {
        u64::from_le_bytes(r.array::<8>(&vfield("GCM reservation"))?)
    } else {
        0
    };
    Ok(KeyVersion {
        key_version_id,
        creation_date,
        material,
        check_value,
        gcm_reserved,
    })
}

/// Builds the material of a version of spec `spec` (checking its length first, and
/// expanding the cipher of a symmetric one).
fn read_material(bytes: &[u8], spec: KeySpec, key_version_id: &str) -> Result<Material> {
    match spec.symmetric_key_len() {
        Some(expected) => {
            if bytes.len() != expected {
                return Err(corrupt(format_args!(
                    "the material of version {key_version_id} is {} bytes; a {} key takes \
                     {expected}.",
                    bytes.len(),
                    spec.name()
                )));
            }
            let family = spec.cipher_family().unwrap_or(CipherFamily::Aes);
            Material::symmetric(family, Zeroizing::new(bytes.to_vec())).map_err(|_| {
                corrupt(format_args!(
                    "the material of version {key_version_id} is not a usable key."
                ))
            })
        }
        None => {
            if bytes.is_empty() {
                return Err(corrupt(format_args!(
                    "the material of version {key_version_id} is empty."
                )));
            }
            Ok(Material::asymmetric(Zeroizing::new(bytes.to_vec())))
        }
    }
}

/// The invariants of one key that the rest of the library relies on (e.g. indexing
/// `versions[primary]` without a check).
fn check_key(key: &Key) -> Result<()> {
    let id = &key.key_id;
    if key.versions.is_empty() {
        return Err(corrupt(format_args!("the key {id} has no versions.")));
    }
    if key.primary >= key.versions.len() {
        return Err(corrupt(format_args!(
            "the primary version index {} of key {id} is out of range ({} versions).",
            key.primary,
            key.versions.len()
        )));
    }
    if !key.key_spec.allows_usage(key.key_usage) {
        return Err(corrupt(format_args!(
            "the key {id} is a {} key with usage {}, which that spec does not allow.",
            key.key_spec.name(),
            key.key_usage.name()
        )));
    }
    let external = key.origin == Origin::External;
    if !key.key_spec.is_symmetric() && external {
        return Err(corrupt(format_args!(
            "the key {id} is asymmetric and EXTERNAL, which cannot be."
        )));
    }
    if !external && key.versions.iter().any(|v| v.material.is_none()) {
        return Err(corrupt(format_args!(
            "a version of key {id} has no material, and only EXTERNAL keys may lack it."
        )));
    }
    if key.state == KeyState::PendingImport && !external {
        return Err(corrupt(format_args!(
            "the key {id} is PendingImport, but it is not EXTERNAL."
        )));
    }
    Ok(())
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
