//! The shapes of the service's identifiers and dates (API.md §6).

/// A lowercase UUID v4 (a RequestId).
pub fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

/// An ISO-8601 UTC date: `2026-11-28T12:00:00Z`.
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// A KeyId the library makes: `key-` and 21 of `[a-z0-9]`.
pub fn is_key_id(s: &str) -> bool {
    s.len() == 25
        && s.starts_with("key-")
        && s[4..]
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// A KeyVersionId the library makes for `key_id`: `<KeyId>-` and 10 of `[a-z0-9]`.
pub fn is_version_id_of(s: &str, key_id: &str) -> bool {
    s.len() == 36
        && s.starts_with(key_id)
        && s.as_bytes()[25] == b'-'
        && s[26..]
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}
