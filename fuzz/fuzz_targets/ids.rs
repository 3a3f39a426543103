//! ID and alias parsing (src/ids.rs) against the rules of API.md §6, and the same
//! strings as key IDs and alias names through the C ABI (kms_describe_key,
//! kms_create_alias, kms_delete_alias): an answer is a success only for a string
//! the rules accept, and an expected status otherwise.
#![no_main]

use std::ffi::CString;
use std::ptr::null_mut;

use libfuzzer_sys::fuzz_target;
use localkms::ffi::*;
use localkms::ids;
use localkms_fuzz::{check_failure, fixture, garbage_error, is_fixture_key, KEYS};

fn id_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn key_id_rule(s: &[u8]) -> bool {
    s.len() == 25 && s.starts_with(b"key-") && s[4..].iter().copied().all(id_char)
}

fn alias_rule(s: &[u8]) -> bool {
    s.len() <= 255
        && s.len() > 6
        && s.starts_with(b"alias/")
        && !s.starts_with(b"alias/acs")
        && s[6..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'/' || b == b'-')
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(
        ids::is_key_version_id(data),
        data.len() == 36
            && key_id_rule(&data[..25])
            && data[25] == b'-'
            && data[26..].iter().copied().all(id_char)
    );
    assert_eq!(
        ids::is_blob_key_version_id(data),
        data.len() == 36 && data.iter().all(|&b| (0x20..=0x7e).contains(&b))
    );
    if let Ok(s) = std::str::from_utf8(data) {
        assert_eq!(ids::is_key_id(s), key_id_rule(data));
        assert_eq!(ids::check_alias_name(s).is_ok(), alias_rule(data), "{s:?}");
        assert_eq!(
            ids::is_mirrored_key_id(s),
            (1..=64).contains(&s.len())
                && data.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        );
        if s.is_char_boundary(25.min(s.len())) {
            let _ = ids::key_id_of_version(s);
        }
    }

    let Ok(name) = CString::new(data) else {
        return;
    };
    let client = fixture().client();
    let mut json = null_mut();
    let mut error = garbage_error();
    // SAFETY: live client, NUL-terminated string, writable outputs.
    let status = unsafe { kms_describe_key(client, name.as_ptr(), &mut json, &mut error) };
    if status == kms_status::Ok {
        assert!(
            is_fixture_key(data) || data == b"alias/fuzz",
            "{data:?} described"
        );
        // SAFETY: a string the library returned, freed once.
        unsafe { kms_string_free(json) };
    } else {
        assert!(json.is_null());
        check_failure(status, &error);
    }

    let target = CString::new(KEYS[1].key_id).unwrap();
    let mut error = garbage_error();
    // SAFETY: live client, NUL-terminated strings.
    let status = unsafe { kms_create_alias(client, name.as_ptr(), target.as_ptr(), &mut error) };
    if status == kms_status::Ok {
        assert!(alias_rule(data), "the alias {data:?} was made");
        let mut error = garbage_error();
        // SAFETY: as above.
        let deleted = unsafe { kms_delete_alias(client, name.as_ptr(), &mut error) };
        assert_eq!(deleted, kms_status::Ok);
    } else {
        check_failure(status, &error);
        assert!(
            !alias_rule(data) || data == b"alias/fuzz",
            "the valid alias {data:?} was refused"
        );
    }
});
