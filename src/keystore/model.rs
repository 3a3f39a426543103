//! The key model: keys, their versions, states and rotation policies.
//! (Over 400 lines because a key's types and rules (states, rotation, expiry, permitted modes) are one concept; the last 120 lines are its unit tests.)

use std::sync::Arc;

use zeroize::Zeroizing;

use super::check_value::KeyCheckValue;
use super::versions::Versions;
use crate::crypto::{Algorithm, CipherFamily, KeyCipher, Mode};
use crate::error::{Error, Result};

/// A KeySpec, as the service spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeySpec {
    Aes128,
    Aes192,
    Aes256,
    Sm4,
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcP256,
    EcP256K,
}

impl KeySpec {
    pub const ALL: [KeySpec; 9] = [
        KeySpec::Aes256,
        KeySpec::Aes192,
        KeySpec::Aes128,
        KeySpec::Sm4,
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
        KeySpec::EcP256,
        KeySpec::EcP256K,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KeySpec::Aes128 => "Aliyun_AES_128",
            KeySpec::Aes192 => "Aliyun_AES_192",
            KeySpec::Aes256 => "Aliyun_AES_256",
            KeySpec::Sm4 => "Aliyun_SM4",
            KeySpec::Rsa2048 => "RSA_2048",
            KeySpec::Rsa3072 => "RSA_3072",
            KeySpec::Rsa4096 => "RSA_4096",
            KeySpec::EcP256 => "EC_P256",
            KeySpec::EcP256K => "EC_P256K",
        }
    }

    /// Parses `KeySpec`; `None` or `""` is Aliyun_AES_256.
    pub fn parse(value: Option<&str>) -> Result<KeySpec> {
        match value.unwrap_or("") {
            "" => Ok(KeySpec::Aes256),
            "EC_SM2" => Err(Error::unsupported(
                "The EC_SM2 key spec is not supported by localkms.",
            )),
            other => KeySpec::ALL
                .into_iter()
                .find(|s| s.name() == other)
                .ok_or_else(|| {
                    Error::invalid_parameter(
                        "KeySpec",
                        "Use Aliyun_AES_256, Aliyun_AES_192, Aliyun_AES_128, Aliyun_SM4, RSA_2048, \
                         RSA_3072, RSA_4096, EC_P256 or EC_P256K.",
                    )
                }),
        }
    }

    pub fn is_symmetric(self) -> bool {
        self.symmetric_key_len().is_some()
    }

    /// The key length of a symmetric spec.
    pub fn symmetric_key_len(self) -> Option<usize> {
        match self {
            KeySpec::Aes128 | KeySpec::Sm4 => Some(16),
            KeySpec::Aes192 => Some(24),
            KeySpec::Aes256 => Some(32),
            _ => None,
        }
    }

    /// The block cipher of a symmetric spec.
    pub fn cipher_family(self) -> Option<CipherFamily> {
        match self {
            KeySpec::Aes128 | KeySpec::Aes192 | KeySpec::Aes256 => Some(CipherFamily::Aes),
            KeySpec::Sm4 => Some(CipherFamily::Sm4),
            _ => None,
        }
    }

    /// The usage a key of this spec gets when none is asked for.
    pub fn default_usage(self) -> KeyUsage {
        match self {
            KeySpec::EcP256 | KeySpec::EcP256K => KeyUsage::SignVerify,
            _ => KeyUsage::EncryptDecrypt,
        }
    }

    pub fn allows_usage(self, usage: KeyUsage) -> bool {
        match self {
            KeySpec::Aes128 | KeySpec::Aes192 | KeySpec::Aes256 | KeySpec::Sm4 => {
                usage == KeyUsage::EncryptDecrypt
            }
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => true,
            KeySpec::EcP256 | KeySpec::EcP256K => usage == KeyUsage::SignVerify,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    EncryptDecrypt,
    SignVerify,
}

impl KeyUsage {
    pub fn name(self) -> &'static str {
        match self {
            KeyUsage::EncryptDecrypt => "ENCRYPT/DECRYPT",
            KeyUsage::SignVerify => "SIGN/VERIFY",
        }
    }

    /// Parses `KeyUsage`; `None` or `""` gives `None` (the spec's default).
    pub fn parse(value: Option<&str>) -> Result<Option<KeyUsage>> {
        match value.unwrap_or("") {
            "" => Ok(None),
            "ENCRYPT/DECRYPT" => Ok(Some(KeyUsage::EncryptDecrypt)),
            "SIGN/VERIFY" => Ok(Some(KeyUsage::SignVerify)),
            _ => Err(Error::invalid_parameter(
                "KeyUsage",
                "Use ENCRYPT/DECRYPT or SIGN/VERIFY.",
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    AliyunKms,
    External,
}

impl Origin {
    pub fn name(self) -> &'static str {
        match self {
            Origin::AliyunKms => "Aliyun_KMS",
            Origin::External => "EXTERNAL",
        }
    }

    /// Parses `Origin`; `None` or `""` is Aliyun_KMS.
    pub fn parse(value: Option<&str>) -> Result<Origin> {
        match value.unwrap_or("") {
            "" | "Aliyun_KMS" => Ok(Origin::AliyunKms),
            "EXTERNAL" => Ok(Origin::External),
            _ => Err(Error::invalid_parameter(
                "Origin",
                "Use Aliyun_KMS or EXTERNAL.",
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
    PendingImport,
}

impl KeyState {
    pub fn name(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
            KeyState::PendingImport => "PendingImport",
        }
    }

    /// The 409 answer for using a key in this state, or `Ok` when it is Enabled.
    pub fn require_enabled(self) -> Result<()> {
        use crate::error::ErrorKind;
        let kind = match self {
            KeyState::Enabled => return Ok(()),
            KeyState::Disabled => ErrorKind::KeyDisabled,
            KeyState::PendingDeletion => ErrorKind::KeyPendingDeletion,
            KeyState::PendingImport => ErrorKind::KeyPendingImport,
        };
        Err(Error::new(
            kind,
            format!(
                "The request was rejected because the key state is {}.",
                self.name()
            ),
        ))
    }
}

/// The secret of one key version, with its cipher expanded once, when the
/// version is first used (a store of 100,000 keys does not hold 100,000 expanded
/// ciphers it never uses). Wiped when the last reference goes.
pub struct Material {
    bytes: Zeroizing<Vec<u8>>,
    /// For symmetric material: its block cipher and, once used, the expanded cipher.
    cipher: Option<(CipherFamily, std::sync::OnceLock<Option<KeyCipher>>)>,
    /// This process's allowance of GCM encryptions under this material.
    pub gcm_allowance: GcmAllowance,
}

/// The GCM encryptions this process may still make under one version: ranges are
/// reserved in the store (so that every process and host together stay within the
/// version's budget) and spent here without a write per call. A range not spent
/// when the process ends counts as spent.
///
/// Threads take from the shared count in batches kept in a slot of their own
/// (see [`GcmAllowance::take`]), so that two threads encrypting under one version
/// do not both write one atomic on every call.
#[derive(Default)]
pub struct GcmAllowance {
    left: Arc<std::sync::atomic::AtomicI64>,
    /// Held while a new range is reserved, so that threads out of allowance
    /// reserve one range between them.
    pub reserving: std::sync::Mutex<()>,
    /// Encryptions granted here while the store could not be written (so that
    /// encryption goes on when the database is down), added to the next range
    /// reserved.
    pub unrecorded: std::sync::atomic::AtomicU64,
}

/// What one thread took from one allowance and has not spent yet; given back
/// when the thread moves to another allowance or ends.
struct Batch {
    from: Arc<std::sync::atomic::AtomicI64>,
    left: i64,
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.from
            .fetch_add(self.left, std::sync::atomic::Ordering::AcqRel);
    }
}

thread_local! {
    static BATCH: std::cell::RefCell<Option<Batch>> = const { std::cell::RefCell::new(None) };
}

impl GcmAllowance {
    /// Takes one encryption from the allowance; `false` when none is left. A
    /// thread takes up to `batch` at a time from the shared count and spends them
    /// from its own slot (1: every call takes from the shared count, exactly).
    pub fn take(&self, batch: u64) -> bool {
        let batch = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
        BATCH
            .try_with(|slot| {
                let mut slot = slot.borrow_mut();
                if let Some(mine) = slot.as_mut() {
                    if Arc::ptr_eq(&mine.from, &self.left) && mine.left > 0 {
                        mine.left -= 1;
                        return true;
                    }
                }
                // Gives back what is left of another allowance's batch.
                *slot = None;
                let got = self.take_shared(batch);
                if got == 0 {
                    return false;
                }
                *slot = Some(Batch {
                    from: self.left.clone(),
                    left: got - 1,
                });
                true
            })
            // A thread that is ending: one at a time from the shared count.
            .unwrap_or_else(|_| self.take_shared(1) == 1)
    }

    /// Takes up to `n` from the shared count; how many it got.
    fn take_shared(&self, n: i64) -> i64 {
        use std::sync::atomic::Ordering;
        let before = self.left.fetch_sub(n, Ordering::AcqRel);
        let got = before.clamp(0, n);
        if got < n {
            self.left.fetch_add(n - got, Ordering::AcqRel);
        }
        got
    }

    /// Adds a reserved range.
    pub fn grant(&self, n: u64) {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        self.left.fetch_add(n, std::sync::atomic::Ordering::AcqRel);
    }

    /// Whether any allowance is left in the shared count.
    pub fn has_some(&self) -> bool {
        self.left.load(std::sync::atomic::Ordering::Acquire) > 0
    }
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Material({} bytes, redacted)", self.bytes.len())
    }
}

impl Material {
    /// Symmetric key material for its block cipher (the length is checked now; the
    /// cipher is expanded on first use).
    pub fn symmetric(family: CipherFamily, bytes: Zeroizing<Vec<u8>>) -> Result<Material> {
        KeyCipher::check_key_len(family, bytes.len())?;
        Ok(Material {
            bytes,
            cipher: Some((family, std::sync::OnceLock::new())),
            gcm_allowance: GcmAllowance::default(),
        })
    }

    /// An asymmetric private key (PKCS#8 DER).
    pub fn asymmetric(pkcs8_der: Zeroizing<Vec<u8>>) -> Material {
        Material {
            bytes: pkcs8_der,
            cipher: None,
            gcm_allowance: GcmAllowance::default(),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The ready cipher of a symmetric version, expanded the first time it is
    /// asked for.
    pub fn cipher(&self) -> Option<&KeyCipher> {
        let (family, cell) = self.cipher.as_ref()?;
        cell.get_or_init(|| KeyCipher::new(*family, &self.bytes).ok())
            .as_ref()
    }

    /// Whether the cipher has been expanded (by [`Material::cipher`]).
    #[cfg(test)]
    pub fn cipher_is_expanded(&self) -> bool {
        self.cipher
            .as_ref()
            .is_some_and(|(_, cell)| cell.get().is_some())
    }

    /// The key check value of these bytes (see [`KeyCheckValue`]).
    pub fn check_value(&self) -> KeyCheckValue {
        KeyCheckValue::of(&self.bytes)
    }
}

#[derive(Clone, Debug)]
pub struct KeyVersion {
    pub key_version_id: String,
    pub creation_date: i64,
    /// `None` for an EXTERNAL key before import or after its material expired.
    pub material: Option<Arc<Material>>,
    /// EXTERNAL keys: the check value of the material once imported (HMAC-SHA-256
    /// under it, never AES under it), kept after the material expires so that only
    /// the same material can be imported again as this version. `Debug` shows no
    /// byte of it.
    pub check_value: Option<KeyCheckValue>,
    /// GCM encryptions reserved under this version so far, by every process and
    /// host together (see [`GcmAllowance`]).
    pub gcm_reserved: u64,
}

#[derive(Clone, Debug)]
pub struct Key {
    pub key_id: String,
    pub key_spec: KeySpec,
    pub key_usage: KeyUsage,
    pub origin: Origin,
    pub description: String,
    pub creation_date: i64,
    /// The state as last set; see [`Key::state_at`] for the state in force.
    pub state: KeyState,
    /// When a PendingDeletion key goes away.
    pub delete_date: Option<i64>,
    /// Oldest first: `versions[0]` is the initial version (Encrypt's).
    pub versions: Versions,
    /// Index into `versions` of the primary version (AdvanceEncrypt's).
    pub primary: usize,
    pub automatic_rotation: bool,
    /// Seconds.
    pub rotation_interval: Option<i64>,
    pub last_rotation_date: i64,
    /// EXTERNAL keys: when the imported material stops working.
    pub material_expire: Option<i64>,
    /// The modes the key may be used with, in its spec's block cipher.
    pub modes: PermittedModes,
}

/// The modes a symmetric key may be used with. New keys permit only GCM unless
/// created with block modes; keys from stores written before this existed permit
/// all three, as they did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PermittedModes(u8);

impl PermittedModes {
    pub const GCM_ONLY: PermittedModes = PermittedModes(1);
    pub const ALL: PermittedModes = PermittedModes(0b111);

    fn bit(mode: Mode) -> u8 {
        match mode {
            Mode::Gcm => 1,
            Mode::Cbc => 2,
            Mode::Ecb => 4,
        }
    }

    pub fn permits(self, mode: Mode) -> bool {
        self.0 & PermittedModes::bit(mode) != 0
    }

    /// The modes as stored: bit 0 GCM, bit 1 CBC, bit 2 ECB.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// The set stored as `bits`, if it is a non-empty set of known modes.
    pub fn from_bits(bits: u8) -> Option<PermittedModes> {
        (bits != 0 && bits & !PermittedModes::ALL.0 == 0).then_some(PermittedModes(bits))
    }

    /// Parses the `algorithms` option: a comma list of algorithm names of `family`
    /// (`"AES_GCM,AES_CBC"`); `None` or `""` is GCM only.
    pub fn parse(family: CipherFamily, value: Option<&str>) -> Result<PermittedModes> {
        let value = value.unwrap_or("");
        if value.is_empty() {
            return Ok(PermittedModes::GCM_ONLY);
        }
        let mut bits = 0;
        for name in value.split(',').map(str::trim) {
            let algorithm = Algorithm::ALL
                .into_iter()
                .find(|a| a.name() == name && a.family() == family)
                .ok_or_else(|| {
                    let names: Vec<&str> = Mode::ALL
                        .into_iter()
                        .map(|m| Algorithm::of(family, m).name())
                        .collect();
                    Error::invalid_parameter(
                        "Algorithms",
                        format!(
                            "\"{name}\" is not an algorithm of this key spec; use a comma list of {}.",
                            names.join(", ")
                        ),
                    )
                })?;
            bits |= PermittedModes::bit(algorithm.mode());
        }
        Ok(PermittedModes(bits))
    }

    /// The permitted algorithms of `family`, in the service's spelling.
    pub fn algorithms(self, family: CipherFamily) -> Vec<Algorithm> {
        Mode::ALL
            .into_iter()
            .filter(|&m| self.permits(m))
            .map(|m| Algorithm::of(family, m))
            .collect()
    }
}

impl Key {
    pub fn initial_version(&self) -> &KeyVersion {
        &self.versions[0]
    }

    /// The block cipher of a symmetric key (AES for any other, which no symmetric
    /// operation reaches: they refuse asymmetric keys first).
    pub fn cipher_family(&self) -> CipherFamily {
        self.key_spec.cipher_family().unwrap_or(CipherFamily::Aes)
    }

    /// The GCM of the key's block cipher: the algorithm when none is asked for.
    pub fn default_algorithm(&self) -> Algorithm {
        Algorithm::of(self.cipher_family(), Mode::Gcm)
    }

    /// The algorithms this key may be used with.
    pub fn permitted_algorithms(&self) -> Vec<Algorithm> {
        self.modes.algorithms(self.cipher_family())
    }

    /// Why the key refuses `algorithm` (another block cipher, or a block mode of a
    /// key created for GCM only), naming what it permits; `None` when it permits it.
    pub fn algorithm_refusal(&self, algorithm: Algorithm) -> Option<String> {
        if algorithm.family() == self.cipher_family() && self.modes.permits(algorithm.mode()) {
            return None;
        }
        let permitted: Vec<&str> = self
            .permitted_algorithms()
            .into_iter()
            .map(Algorithm::name)
            .collect();
        Some(format!(
            "The key {} does not permit {}; it permits {} only.{}",
            self.key_id,
            algorithm.name(),
            permitted.join(", "),
            if algorithm.family() == self.cipher_family() {
                " A key's algorithms are chosen when it is created (algorithms)."
            } else {
                ""
            }
        ))
    }

    /// Refuses an algorithm the key does not permit with
    /// `Rejected.UnsupportedOperation` (see [`Key::algorithm_refusal`]).
    pub fn require_algorithm(&self, algorithm: Algorithm) -> Result<()> {
        match self.algorithm_refusal(algorithm) {
            None => Ok(()),
            Some(why) => Err(Error::unsupported(why)),
        }
    }

    pub fn primary_version(&self) -> &KeyVersion {
        &self.versions[self.primary]
    }

    pub fn version(&self, key_version_id: &str) -> Option<&KeyVersion> {
        // Every decrypt looks its version up here, and a key rotated weekly for
        // two years has a hundred (about 3 ns each): the newest versions, which
        // most blobs name, are looked at first (5 ns rather than 320 ns for the
        // newest of 101, in a release unit-test loop).
        self.versions
            .iter()
            .rev()
            .find(|v| v.key_version_id == key_version_id)
            .map(|v| &**v)
    }

    /// A version to change: copied first if another snapshot shares it.
    pub fn version_mut(&mut self, index: usize) -> Option<&mut KeyVersion> {
        self.versions.get_mut(index).map(Arc::make_mut)
    }

    /// Whether the key is past its DeleteDate (gone, even if not yet removed).
    pub fn is_deleted_at(&self, now: i64) -> bool {
        self.state == KeyState::PendingDeletion && self.delete_date.is_some_and(|d| now >= d)
    }

    /// Whether imported material has expired and not yet been removed.
    pub fn material_expired_at(&self, now: i64) -> bool {
        self.origin == Origin::External
            && self.material_expire.is_some_and(|e| now >= e)
            && self.versions.iter().any(|v| v.material.is_some())
    }

    /// The state in force at `now`: expired material means PendingImport.
    pub fn state_at(&self, now: i64) -> KeyState {
        if self.state != KeyState::PendingDeletion && self.material_expired_at(now) {
            KeyState::PendingImport
        } else {
            self.state
        }
    }

    pub fn next_rotation_date(&self) -> Option<i64> {
        match (self.automatic_rotation, self.rotation_interval) {
            (true, Some(interval)) => Some(self.last_rotation_date.saturating_add(interval)),
            _ => None,
        }
    }

    /// Whether automatic rotation is due at `now` (only Enabled keys rotate).
    pub fn rotation_due_at(&self, now: i64) -> bool {
        self.state_at(now) == KeyState::Enabled
            && self.next_rotation_date().is_some_and(|next| now >= next)
    }

    /// `Enabled`, `Disabled`, or `Suspended` while the key is not Enabled.
    pub fn automatic_rotation_name(&self, now: i64) -> &'static str {
        if !self.automatic_rotation {
            "Disabled"
        } else if self.state_at(now) == KeyState::Enabled {
            "Enabled"
        } else {
            "Suspended"
        }
    }

    /// Whether a change is due at `now` that a later use must not miss: deletion,
    /// expiry of imported material, or automatic rotation.
    pub fn maintenance_due_at(&self, now: i64) -> bool {
        self.is_deleted_at(now) || self.material_expired_at(now) || self.rotation_due_at(now)
    }

    /// The first time at which [`Key::maintenance_due_at`] becomes true, if any:
    /// the DeleteDate of a PendingDeletion key, the expiry of imported material
    /// still held, the NextRotationDate of an Enabled key that rotates.
    pub fn next_maintenance(&self) -> Option<i64> {
        let deletion = self
            .delete_date
            .filter(|_| self.state == KeyState::PendingDeletion);
        let expiry = self.material_expire.filter(|_| {
            self.origin == Origin::External && self.versions.iter().any(|v| v.material.is_some())
        });
        let rotation = self
            .next_rotation_date()
            .filter(|_| self.state == KeyState::Enabled);
        [deletion, expiry, rotation].into_iter().flatten().min()
    }

    /// The latest NextRotationDate-schedule point at or before `now`
    /// (`next + k * interval`), when automatic rotation is on and due.
    pub fn latest_scheduled_rotation(&self, now: i64) -> Option<i64> {
        let next = self.next_rotation_date()?;
        let interval = self.rotation_interval?;
        if now < next || interval <= 0 {
            return None;
        }
        Some(next + (now - next) / interval * interval)
    }

    /// Adds a version and makes it primary.
    pub fn add_primary_version(&mut self, version: KeyVersion) {
        self.last_rotation_date = version.creation_date;
        self.versions.push(Arc::new(version));
        self.primary = self.versions.len() - 1;
    }

    /// The seconds of a `RotationInterval` such as `7d`, `168h`, `604800s`.
    pub fn parse_rotation_interval(value: &str) -> Result<i64> {
        const PARAM: &str = "RotationInterval";
        let bad = || {
            Error::invalid_parameter(
                PARAM,
                "Write it as <integer><d|h|m|s>, from 7 days (7d) to 365 days (365d).",
            )
        };
        // Only ASCII is valid, and checking it first keeps `split_at` on a character
        // boundary (a multi-byte last character would make it panic).
        if !value.is_ascii() {
            return Err(bad());
        }
        let (digits, unit) = value.split_at(value.len().saturating_sub(1));
        let scale = match unit {
            "d" => 86_400,
            "h" => 3_600,
            "m" => 60,
            "s" => 1,
            _ => return Err(bad()),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let count: i64 = digits.parse().map_err(|_| bad())?;
        let seconds = count.checked_mul(scale).ok_or_else(bad)?;
        if !(7 * 86_400..=365 * 86_400).contains(&seconds) {
            return Err(bad());
        }
        Ok(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_intervals() {
        assert_eq!(Key::parse_rotation_interval("7d").unwrap(), 604_800);
        assert_eq!(Key::parse_rotation_interval("168h").unwrap(), 604_800);
        assert_eq!(Key::parse_rotation_interval("604800s").unwrap(), 604_800);
        assert_eq!(Key::parse_rotation_interval("365d").unwrap(), 365 * 86_400);
        assert_eq!(Key::parse_rotation_interval("10080m").unwrap(), 604_800);
        for bad in [
            "6d",
            "366d",
            "604799s",
            "",
            "d",
            "7",
            "7w",
            "-7d",
            "+7d",
            "7 d",
            "99999999999999999999d",
        ] {
            assert!(Key::parse_rotation_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn spec_and_usage_rules() {
        assert_eq!(KeySpec::parse(None).unwrap(), KeySpec::Aes256);
        assert_eq!(KeySpec::parse(Some("EC_P256K")).unwrap(), KeySpec::EcP256K);
        assert!(KeySpec::parse(Some("AES_256")).is_err());
        assert!(!KeySpec::Aes128.allows_usage(KeyUsage::SignVerify));
        assert!(!KeySpec::EcP256.allows_usage(KeyUsage::EncryptDecrypt));
        assert!(KeySpec::Rsa2048.allows_usage(KeyUsage::SignVerify));
        assert_eq!(KeySpec::Aes192.symmetric_key_len(), Some(24));
        assert_eq!(KeySpec::parse(Some("Aliyun_SM4")).unwrap(), KeySpec::Sm4);
        assert_eq!(KeySpec::Sm4.symmetric_key_len(), Some(16));
        assert!(KeySpec::parse(Some("EC_SM2")).is_err());
        assert!(!KeySpec::Rsa3072.is_symmetric());
    }

    #[test]
    fn key_debug_shows_no_check_value() {
        let material =
            Material::symmetric(CipherFamily::Aes, Zeroizing::new(vec![0x41; 32])).unwrap();
        let cv = material.check_value();
        let key = Key {
            key_id: "key-test".to_owned(),
            key_spec: KeySpec::Aes256,
            key_usage: KeyUsage::EncryptDecrypt,
            origin: Origin::External,
            description: String::new(),
            creation_date: 0,
            state: KeyState::Enabled,
            delete_date: None,
            versions: Versions::from_iter([KeyVersion {
                key_version_id: "key-test-v".to_owned(),
                creation_date: 0,
                material: Some(Arc::new(material)),
                check_value: Some(cv),
                gcm_reserved: 0,
            }]),
            primary: 0,
            automatic_rotation: false,
            rotation_interval: None,
            last_rotation_date: 0,
            material_expire: None,
            modes: PermittedModes::GCM_ONLY,
        };
        let mut model = super::super::Model::default();
        model.insert_key(key.clone());
        for shown in [
            format!("{key:?}"),
            format!("{key:#?}"),
            format!("{model:?}"),
        ] {
            assert!(shown.contains("KeyCheckValue(redacted)"), "{shown}");
            // Neither as bytes in decimal nor in hex, nor the material.
            let bytes = cv.as_bytes();
            let decimal = format!("{}, {}, {}", bytes[0], bytes[1], bytes[2]);
            let hex: String = bytes[..4].iter().map(|b| format!("{b:02x}")).collect();
            assert!(
                !shown.contains(&decimal) && !shown.contains(&hex),
                "{shown}"
            );
            assert!(!shown.contains("65, 65"), "{shown}");
        }
    }

    #[test]
    fn a_version_is_found_by_its_whole_id_only() {
        let ids = [
            "key-a-0000000001",
            "key-b-0000000001", // the same last bytes as the first
            "key-a-0000000002",
            "k-0000000001",      // shorter
            "key-a-00000000001", // longer
        ];
        let mut key = crate::keystore::test_keys::plain_key(KeySpec::Aes256, 1);
        key.versions = ids
            .iter()
            .map(|id| {
                let mut version = (*key.versions[0]).clone();
                version.key_version_id = (*id).to_owned();
                Arc::new(version)
            })
            .collect();
        for id in ids {
            assert_eq!(key.version(id).unwrap().key_version_id, id);
        }
        for absent in [
            "key-c-0000000001",
            "key-a-000000000",
            "",
            "1",
            "key-a-0000000003",
        ] {
            assert!(key.version(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn a_rotated_copy_shares_the_versions_it_did_not_change() {
        let version = |n: usize| KeyVersion {
            key_version_id: format!("key-test-v{n}"),
            creation_date: n as i64,
            material: None,
            check_value: None,
            gcm_reserved: 0,
        };
        let key = Key {
            key_id: "key-test".to_owned(),
            key_spec: KeySpec::Aes256,
            key_usage: KeyUsage::EncryptDecrypt,
            origin: Origin::AliyunKms,
            description: String::new(),
            creation_date: 0,
            state: KeyState::Enabled,
            delete_date: None,
            versions: (0..100).map(|n| Arc::new(version(n))).collect(),
            primary: 99,
            automatic_rotation: false,
            rotation_interval: None,
            last_rotation_date: 0,
            material_expire: None,
            modes: PermittedModes::GCM_ONLY,
        };
        // What a rotation does to the key of a snapshot: copy it, add a version.
        let mut rotated = key.clone();
        rotated.add_primary_version(version(100));
        assert_eq!(rotated.versions.len(), 101);
        assert_eq!(rotated.primary_version().key_version_id, "key-test-v100");
        for i in 0..key.versions.len() {
            assert!(
                rotated.versions.shares_version(&key.versions, i),
                "{i} was copied"
            );
        }
        // Changing one version copies that one alone.
        rotated.version_mut(3).unwrap().gcm_reserved = 7;
        assert_eq!(key.versions[3].gcm_reserved, 0);
        assert_eq!(rotated.versions[3].gcm_reserved, 7);
        assert!(!rotated.versions.shares_version(&key.versions, 3));
        assert!(rotated.versions.shares_version(&key.versions, 4));
    }

    #[test]
    fn permitted_modes_parse_per_block_cipher() {
        let aes = CipherFamily::Aes;
        assert_eq!(
            PermittedModes::parse(aes, None).unwrap(),
            PermittedModes::GCM_ONLY
        );
        let all = PermittedModes::parse(aes, Some("AES_GCM,AES_CBC, AES_ECB")).unwrap();
        assert_eq!(all, PermittedModes::ALL);
        let cbc = PermittedModes::parse(aes, Some("AES_CBC")).unwrap();
        assert!(cbc.permits(Mode::Cbc) && !cbc.permits(Mode::Gcm));
        assert!(PermittedModes::parse(aes, Some("SM4_GCM")).is_err());
        assert!(PermittedModes::parse(aes, Some("AES_GCM,")).is_err());
        assert!(PermittedModes::parse(CipherFamily::Sm4, Some("SM4_CBC,SM4_GCM")).is_ok());
        assert_eq!(PermittedModes::from_bits(0), None);
        assert_eq!(PermittedModes::from_bits(8), None);
        assert_eq!(PermittedModes::from_bits(7), Some(PermittedModes::ALL));
    }

    #[test]
    fn material_debug_never_shows_bytes() {
        let m = Material::symmetric(CipherFamily::Aes, Zeroizing::new(vec![0x41; 32])).unwrap();
        let shown = format!("{m:?}");
        assert!(!shown.contains("41") && !shown.contains("65"), "{shown}");
    }
}
