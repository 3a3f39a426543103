//! Identifiers (docs/c-api.md §4): KeyIds, KeyVersionIds, aliases, RequestIds.

use crate::error::{Error, Result};
use crate::random::{fill_nonce, fill_random};

/// Length of a KeyId: `key-` and 21 characters of `[a-z0-9]`.
pub const KEY_ID_LEN: usize = 25;
/// Length of a KeyVersionId: `<KeyId>-` and 10 characters of `[a-z0-9]`.
pub const KEY_VERSION_ID_LEN: usize = 36;
/// Longest alias name, `alias/` included.
pub const ALIAS_MAX_LEN: usize = 255;

const ID_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `n` characters drawn uniformly from `[a-z0-9]` (rejection sampling: no modulo bias).
fn random_id_chars(n: usize, out: &mut String) -> Result<()> {
    let mut buf = [0u8; 32];
    let mut produced = 0;
    while produced < n {
        fill_random(&mut buf)?;
        for &b in buf.iter() {
            // 252 = 7 * 36: bytes at or above it would bias the low characters.
            if b < 252 && produced < n {
                out.push(ID_ALPHABET[(b % 36) as usize] as char);
                produced += 1;
            }
        }
    }
    Ok(())
}

pub fn new_key_id() -> Result<String> {
    let mut id = String::with_capacity(KEY_ID_LEN);
    id.push_str("key-");
    random_id_chars(21, &mut id)?;
    Ok(id)
}

pub fn new_key_version_id(key_id: &str) -> Result<String> {
    let mut id = String::with_capacity(KEY_VERSION_ID_LEN);
    id.push_str(key_id);
    id.push('-');
    random_id_chars(10, &mut id)?;
    Ok(id)
}

fn is_id_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Whether `s` has the form of a KeyId (it may still not exist).
pub fn is_key_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == KEY_ID_LEN && b.starts_with(b"key-") && b[4..].iter().all(|&c| is_id_char(c))
}

/// Whether `s` has the form of a KeyVersionId (it may still not exist).
pub fn is_key_version_id(s: &[u8]) -> bool {
    s.len() == KEY_VERSION_ID_LEN
        && std::str::from_utf8(&s[..KEY_ID_LEN]).is_ok_and(is_key_id)
        && s[KEY_ID_LEN] == b'-'
        && s[KEY_ID_LEN + 1..].iter().all(|&c| is_id_char(c))
}

/// The KeyId part of a KeyVersionId the library made (`<KeyId>-xxxxxxxxxx`); for a
/// mirrored version (any other 36 bytes) it names no key, and lookups go through the
/// store's version index instead.
pub fn key_id_of_version(key_version_id: &str) -> &str {
    &key_version_id[..KEY_ID_LEN.min(key_version_id.len())]
}

/// The longest KeyId a mirrored cloud key may have.
pub const MIRRORED_KEY_ID_MAX_LEN: usize = 64;

/// Whether `s` may be the KeyId of a mirrored cloud key: 1 to 64 of `[A-Za-z0-9-]`
/// (the cloud's `key-…` IDs and its older UUID-form IDs both fit). An alias never
/// does (it has a `/`).
pub fn is_mirrored_key_id(s: &str) -> bool {
    (1..=MIRRORED_KEY_ID_MAX_LEN).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether `s` may be a KeyVersionId in a blob: any 36 bytes of printable ASCII
/// (the cloud's `key-…-…` and UUID forms, and the library's own).
pub fn is_blob_key_version_id(s: &[u8]) -> bool {
    // Every byte is looked at, without a branch per byte: the compiler checks
    // 16 at a time (`all` stops at the first bad byte and so went one by one, 3 %
    // of a 64-byte AdvanceDecrypt).
    s.len() == KEY_VERSION_ID_LEN
        && s.iter()
            .fold(true, |ok, &b| ok & (0x20..=0x7e).contains(&b))
}

/// The KeyVersionId of a blob or a stored version as text, if it has the form
/// [`is_blob_key_version_id`] checks.
pub fn blob_key_version_id(s: &[u8]) -> Option<&str> {
    if !is_blob_key_version_id(s) {
        return None;
    }
    // Printable ASCII is UTF-8: this cannot fail, but it is the safe way to the
    // text.
    std::str::from_utf8(s).ok()
}

/// A fresh KeyVersionId in the cloud's UUID form (36 characters), for versions of
/// a mirrored key whose KeyId is not the library's 25 characters.
pub fn new_uuid_key_version_id() -> Result<String> {
    // Long-lived, like KeyIds: from the OS generator.
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes)?;
    Ok(request_id_from(bytes))
}

/// Checks an alias name: `alias/` + `[A-Za-z0-9_/-]+`, at most 255 characters in all,
/// not starting with `alias/acs` (reserved for the cloud's own aliases).
pub fn check_alias_name(name: &str) -> Result<()> {
    const PARAM: &str = "AliasName";
    let Some(rest) = name.strip_prefix("alias/") else {
        return Err(Error::invalid_parameter(
            PARAM,
            "An alias starts with \"alias/\".",
        ));
    };
    if rest.is_empty() || name.len() > ALIAS_MAX_LEN {
        return Err(Error::invalid_parameter(
            PARAM,
            "An alias is \"alias/\" followed by 1 or more characters, 255 characters at most in all.",
        ));
    }
    if !rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'/' || b == b'-')
    {
        return Err(Error::invalid_parameter(
            PARAM,
            "An alias may contain only letters, digits, '_', '/' and '-' after \"alias/\".",
        ));
    }
    if name.starts_with("alias/acs") {
        return Err(Error::invalid_parameter(
            PARAM,
            "Aliases starting with \"alias/acs\" are reserved.",
        ));
    }
    Ok(())
}

/// A fresh RequestId: a lowercase UUID v4 from the thread's CSPRNG
/// ([`crate::random::fill_nonce`]).
pub fn new_request_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    fill_nonce(&mut bytes)?;
    Ok(request_id_from(bytes))
}

/// Length of a RequestId (a hyphenated UUID).
pub const REQUEST_ID_LEN: usize = 36;

/// A RequestId from 16 random bytes the caller drew.
pub fn request_id_from(random: [u8; 16]) -> String {
    let mut text = [0u8; REQUEST_ID_LEN];
    format_request_id(random, &mut text).to_owned()
}

/// The RequestId of 16 random bytes, written into `text` (no allocation: the
/// encrypt path formats one per call).
pub fn format_request_id(random: [u8; 16], text: &mut [u8; REQUEST_ID_LEN]) -> &str {
    uuid::Builder::from_random_bytes(random)
        .into_uuid()
        .hyphenated()
        .encode_lower(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_form() {
        let key = new_key_id().unwrap();
        assert!(is_key_id(&key), "{key}");
        let version = new_key_version_id(&key).unwrap();
        assert!(is_key_version_id(version.as_bytes()), "{version}");
        assert_eq!(key_id_of_version(&version), key);
        assert_ne!(new_key_id().unwrap(), key);
        assert!(!is_key_id("key-ABCDEFGHIJKLMNOPQRSTU"));
        assert!(!is_key_id("alias/foo"));
        assert!(!is_key_version_id(b"key-abc"));
    }

    #[test]
    fn request_ids_are_lowercase_uuid_v4() {
        let id = new_request_id().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(id, id.to_lowercase());
        assert_ne!(id, new_request_id().unwrap());
    }

    #[test]
    fn alias_rules() {
        assert!(check_alias_name("alias/my-app_key/1").is_ok());
        assert!(check_alias_name("alias/").is_err());
        assert!(check_alias_name("my-key").is_err());
        assert!(check_alias_name("alias/acs/x").is_err());
        assert!(check_alias_name("alias/has space").is_err());
        assert!(check_alias_name(&format!("alias/{}", "a".repeat(249))).is_ok());
        assert!(check_alias_name(&format!("alias/{}", "a".repeat(250))).is_err());
    }
}
