//! The C ABI contract of docs/c-api.md (conventions and status codes), through the exported functions: NULL and
//! length rules for every pointer of every function, outputs written only on
//! success, `kms_error` filled on failure and left alone on success, a caught
//! panic as InternalFailure, and the status-code functions.

mod common;

use std::ffi::{c_char, CStr, CString};
use std::ptr::{null, null_mut};

use localkms::ffi::*;

use common::c_abi::{cstr, garbage_error, take_string, text};

type Status = kms_status;
const OK: Status = kms_status::Ok;
const MISSING: Status = kms_status::MissingParameter;
const INVALID: Status = kms_status::InvalidParameter;

/// The status field of an error struct that no call has written.
const UNTOUCHED: u32 = 0xA5A5_A5A5;

/// Asserts that a successful call left the caller's error struct as it was.
fn assert_untouched(error: &kms_error, label: &str) {
    assert_eq!(
        error.status, UNTOUCHED,
        "{label}: the error is left alone on success"
    );
    assert_eq!(error.http_status, 0xA5A5, "{label}");
    assert!(error.code.iter().all(|&c| c as u8 == 0xA5), "{label}");
    assert!(error.message.iter().all(|&c| c as u8 == 0xA5), "{label}");
}

/// Asserts a failed call's status and the error it filled in.
fn assert_failed(status: Status, error: &kms_error, expected: Status, mentions: &str) {
    assert_eq!(status, expected, "message: {}", text(&error.message));
    assert_eq!(error.status, expected as u32);
    assert_eq!(
        text(&error.code),
        cstr(kms_status_code(expected as u32)),
        "code string"
    );
    assert_eq!(error.http_status, kms_status_http_status(expected as u32));
    let message = text(&error.message);
    assert!(
        message.contains(mentions),
        "message {message:?} should mention {mentions:?}"
    );
    let request_id = text(&error.request_id);
    assert_eq!(request_id.len(), 36, "request id {request_id:?}");
    assert_eq!(request_id, request_id.to_lowercase());
}

struct Client(*mut kms_client);

impl Client {
    fn open() -> Client {
        let mut client = null_mut();
        let mut error = garbage_error();
        assert_eq!(
            unsafe { kms_client_open(null(), &mut client, &mut error) },
            OK
        );
        assert!(!client.is_null());
        Client(client)
    }

    fn create_key(&self) -> CString {
        let mut key_id = null_mut();
        let status = unsafe {
            kms_create_key(
                self.0,
                null(),
                null(),
                null(),
                null(),
                &mut key_id,
                null_mut(),
            )
        };
        assert_eq!(status, OK);
        CString::new(take_string(key_id)).unwrap()
    }

    fn advance_encrypt(&self, key_id: &CStr, plaintext: &[u8]) -> Vec<u8> {
        let mut response = null_mut();
        let status = unsafe {
            kms_advance_encrypt(
                self.0,
                key_id.as_ptr(),
                plaintext.as_ptr(),
                plaintext.len(),
                null(),
                null(),
                0,
                null(),
                0,
                null(),
                &mut response,
                null_mut(),
            )
        };
        assert_eq!(status, OK);
        let r = unsafe { &*response };
        let blob = unsafe { std::slice::from_raw_parts(r.ciphertext_blob, r.ciphertext_blob_len) }
            .to_vec();
        unsafe { kms_encrypt_response_free(response) };
        blob
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        unsafe { kms_client_free(self.0) };
    }
}

fn dangling<T>() -> *mut T {
    std::ptr::NonNull::dangling().as_ptr()
}

#[test]
fn open_and_free() {
    let mut error = garbage_error();
    assert_failed(
        unsafe { kms_client_open(null(), null_mut(), &mut error) },
        &error,
        MISSING,
        "client_out",
    );

    // A store path without a master key: nothing is created.
    let dir = std::env::temp_dir().join(format!("localkms-ffi-open-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("store.kms");
    let path = CString::new(store.to_str().unwrap()).unwrap();
    let options = kms_open_options {
        keystore_path: path.as_ptr(),
        master_key: null(),
        master_key_len: 0,
        master_key_file: null(),
        create_if_missing: 1,
        keystore_url: null(),
    };
    let mut client: *mut kms_client = dangling();
    let mut error = garbage_error();
    let status = unsafe { kms_client_open(&options, &mut client, &mut error) };
    assert_failed(status, &error, MISSING, "master_key");
    assert_eq!(client, dangling(), "no output on failure");
    // A 31-byte master key.
    let short = [7u8; 31];
    let options = kms_open_options {
        master_key: short.as_ptr(),
        master_key_len: 31,
        ..options
    };
    let mut error = garbage_error();
    let status = unsafe { kms_client_open(&options, &mut client, &mut error) };
    assert_failed(status, &error, INVALID, "master_key");
    assert!(!store.exists(), "a failed open creates nothing");
    std::fs::remove_dir_all(&dir).unwrap();

    let options = kms_open_options {
        keystore_path: null(),
        master_key: null(),
        master_key_len: 32,
        master_key_file: null(),
        create_if_missing: 0,
        keystore_url: null(),
    };
    let mut error = garbage_error();
    let status = unsafe { kms_client_open(&options, &mut client, &mut error) };
    assert_failed(status, &error, INVALID, "master_key");

    let options = kms_open_options {
        keystore_path: null(),
        master_key: null(),
        master_key_len: 0,
        master_key_file: null(),
        create_if_missing: 0,
        keystore_url: null(),
    };
    let mut client = null_mut();
    let mut error = garbage_error();
    assert_eq!(
        unsafe { kms_client_open(&options, &mut client, &mut error) },
        OK
    );
    assert_untouched(&error, "open");
    unsafe { kms_client_free(client) };

    // Every free function takes NULL.
    unsafe {
        kms_client_free(null_mut());
        kms_encrypt_response_free(null_mut());
        kms_decrypt_response_free(null_mut());
        kms_string_free(null_mut());
    }
}

/// One encrypt-style call with the given pointer arguments.
#[allow(clippy::too_many_arguments)]
fn encrypt_with(
    advance: bool,
    client: *mut kms_client,
    key_id: *const c_char,
    plaintext: (*const u8, usize),
    algorithm: *const c_char,
    iv: (*const u8, usize),
    aad: (*const u8, usize),
    padding: *const c_char,
    out: *mut *mut kms_encrypt_response,
    error: *mut kms_error,
) -> Status {
    let f = if advance {
        kms_advance_encrypt
    } else {
        kms_encrypt
    };
    unsafe {
        f(
            client,
            key_id,
            plaintext.0,
            plaintext.1,
            algorithm,
            iv.0,
            iv.1,
            aad.0,
            aad.1,
            padding,
            out,
            error,
        )
    }
}

#[test]
fn encrypt_null_and_length_matrix() {
    let c = Client::open();
    let key = c.create_key();
    let msg = b"hello";
    let gcm = CString::new("AES_GCM").unwrap();
    let iv = [7u8; 12];
    let aad = b"aad";
    for advance in [true, false] {
        // (label, client, key, plaintext, algorithm, iv, aad, padding, out?, expected, mention)
        type Case<'a> = (
            &'a str,
            *mut kms_client,
            *const c_char,
            (*const u8, usize),
            *const c_char,
            (*const u8, usize),
            (*const u8, usize),
            bool,
            Status,
            &'a str,
        );
        let full = (msg.as_ptr(), msg.len());
        let cases: Vec<Case> = vec![
            (
                "all given",
                c.0,
                key.as_ptr(),
                full,
                gcm.as_ptr(),
                (iv.as_ptr(), 12),
                (aad.as_ptr(), 3),
                true,
                OK,
                "",
            ),
            (
                "optional NULLs",
                c.0,
                key.as_ptr(),
                full,
                null(),
                (null(), 0),
                (null(), 0),
                true,
                OK,
                "",
            ),
            (
                "empty plaintext",
                c.0,
                key.as_ptr(),
                (null(), 0),
                null(),
                (null(), 0),
                (null(), 0),
                true,
                OK,
                "",
            ),
            (
                "NULL client",
                null_mut(),
                key.as_ptr(),
                full,
                null(),
                (null(), 0),
                (null(), 0),
                true,
                MISSING,
                "client",
            ),
            (
                "NULL key",
                c.0,
                null(),
                full,
                null(),
                (null(), 0),
                (null(), 0),
                true,
                MISSING,
                "KeyId",
            ),
            (
                "NULL plaintext, n>0",
                c.0,
                key.as_ptr(),
                (null(), 5),
                null(),
                (null(), 0),
                (null(), 0),
                true,
                INVALID,
                "Plaintext",
            ),
            (
                "NULL iv, n>0",
                c.0,
                key.as_ptr(),
                full,
                null(),
                (null(), 12),
                (null(), 0),
                true,
                INVALID,
                "Iv",
            ),
            (
                "NULL aad, n>0",
                c.0,
                key.as_ptr(),
                full,
                null(),
                (null(), 0),
                (null(), 3),
                true,
                INVALID,
                "Aad",
            ),
            (
                "NULL out",
                c.0,
                key.as_ptr(),
                full,
                null(),
                (null(), 0),
                (null(), 0),
                false,
                MISSING,
                "response_out",
            ),
        ];
        for (label, client, key_id, pt, alg, ivp, aadp, with_out, expected, mention) in cases {
            let mut out: *mut kms_encrypt_response = dangling();
            let out_ptr = if with_out {
                &mut out as *mut _
            } else {
                null_mut()
            };
            let mut error = garbage_error();
            let status = encrypt_with(
                advance,
                client,
                key_id,
                pt,
                alg,
                ivp,
                aadp,
                null(),
                out_ptr,
                &mut error,
            );
            if expected == OK {
                assert_eq!(status, OK, "{label}: {}", text(&error.message));
                assert_untouched(&error, label);
                assert_ne!(out, dangling(), "{label}");
                let r = unsafe { &*out };
                assert_eq!(cstr(r.key_id), key.to_str().unwrap());
                assert_eq!(cstr(r.algorithm), "AES_GCM");
                assert_eq!(cstr(r.padding_mode), "");
                assert_eq!(r.iv_len, 12);
                assert_eq!(cstr(r.request_id).len(), 36);
                let extra = if advance {
                    KMS_BLOB_HEADER_LEN + KMS_GCM_IV_LEN
                } else {
                    0
                };
                assert_eq!(
                    r.ciphertext_blob_len,
                    extra + pt.1 + KMS_GCM_TAG_LEN,
                    "{label}"
                );
                unsafe { kms_encrypt_response_free(out) };
            } else {
                assert_failed(status, &error, expected, mention);
                assert_eq!(out, dangling(), "{label}: no output on failure");
            }
            // The same call with error NULL returns the same status.
            if expected != OK {
                let status = encrypt_with(
                    advance,
                    client,
                    key_id,
                    pt,
                    alg,
                    ivp,
                    aadp,
                    null(),
                    out_ptr,
                    null_mut(),
                );
                assert_eq!(status, expected, "{label} with error NULL");
            }
        }
    }
}

#[test]
fn decrypt_null_and_length_matrix() {
    let c = Client::open();
    let key = c.create_key();
    let blob = c.advance_encrypt(&key, b"secret");
    let gcm = CString::new("AES_GCM").unwrap();
    for advance in [true, false] {
        let f = if advance {
            kms_advance_decrypt
        } else {
            kms_decrypt
        };
        // Decrypt requires a key; AdvanceDecrypt reads the blob alone.
        let key_arg = if advance { null() } else { key.as_ptr() };
        let mut out: *mut kms_decrypt_response = dangling();
        let mut error = garbage_error();
        let call = |client,
                    blob_ptr: *const u8,
                    blob_len,
                    key_id,
                    iv: *const u8,
                    iv_len,
                    aad: *const u8,
                    aad_len,
                    out,
                    error| unsafe {
            f(
                client,
                blob_ptr,
                blob_len,
                key_id,
                null(),
                iv,
                iv_len,
                aad,
                aad_len,
                null(),
                out,
                error,
            )
        };

        if advance {
            let status = call(
                c.0,
                blob.as_ptr(),
                blob.len(),
                null(),
                null(),
                0,
                null(),
                0,
                &mut out,
                &mut error,
            );
            assert_eq!(status, OK, "{}", text(&error.message));
            let r = unsafe { &*out };
            assert_eq!(
                unsafe { std::slice::from_raw_parts(r.plaintext, r.plaintext_len) },
                b"secret"
            );
            assert_eq!(cstr(r.key_id), key.to_str().unwrap());
            unsafe { kms_decrypt_response_free(out) };
            out = dangling();
        }

        // (label, client, blob, key, iv, aad, output given, expected, mentioned)
        type Case<'a> = (
            &'a str,
            *mut kms_client,
            (*const u8, usize),
            *const c_char,
            (*const u8, usize),
            (*const u8, usize),
            bool,
            Status,
            &'a str,
        );
        let cases: Vec<Case> = vec![
            (
                "NULL client",
                null_mut(),
                (blob.as_ptr(), blob.len()),
                key_arg,
                (null(), 0),
                (null(), 0),
                true,
                MISSING,
                "client",
            ),
            (
                "NULL blob, n>0",
                c.0,
                (null(), 10),
                key_arg,
                (null(), 0),
                (null(), 0),
                true,
                INVALID,
                "CiphertextBlob",
            ),
            (
                "NULL iv, n>0",
                c.0,
                (blob.as_ptr(), blob.len()),
                key_arg,
                (null(), 12),
                (null(), 0),
                true,
                INVALID,
                "Iv",
            ),
            (
                "NULL aad, n>0",
                c.0,
                (blob.as_ptr(), blob.len()),
                key_arg,
                (null(), 0),
                (null(), 4),
                true,
                INVALID,
                "Aad",
            ),
            (
                "NULL out",
                c.0,
                (blob.as_ptr(), blob.len()),
                key_arg,
                (null(), 0),
                (null(), 0),
                false,
                MISSING,
                "response_out",
            ),
        ];
        for (label, client, b, k, ivp, aadp, with_out, expected, mention) in cases {
            let out_ptr = if with_out {
                &mut out as *mut _
            } else {
                null_mut()
            };
            let mut error = garbage_error();
            let status = call(
                client, b.0, b.1, k, ivp.0, ivp.1, aadp.0, aadp.1, out_ptr, &mut error,
            );
            assert_failed(status, &error, expected, mention);
            assert_eq!(out, dangling(), "{label}: no output on failure");
        }
        // An empty blob: AdvanceDecrypt is missing its blob; Decrypt (a GCM
        // ciphertext shorter than its tag) cannot decrypt it.
        let mut error = garbage_error();
        let iv = [0u8; 12];
        let (iv_ptr, iv_len) = if advance {
            (null(), 0)
        } else {
            (iv.as_ptr(), 12)
        };
        let status = unsafe {
            f(
                c.0,
                null(),
                0,
                key_arg,
                if advance { null() } else { gcm.as_ptr() },
                iv_ptr,
                iv_len,
                null(),
                0,
                null(),
                &mut out,
                &mut error,
            )
        };
        if advance {
            assert_failed(status, &error, MISSING, "CiphertextBlob");
        } else {
            assert_failed(status, &error, kms_status::InvalidCiphertext, "ciphertext");
        }
        assert_eq!(out, dangling());
        if !advance {
            let mut error = garbage_error();
            let status = call(
                c.0,
                blob.as_ptr(),
                blob.len(),
                null(),
                null(),
                0,
                null(),
                0,
                &mut out,
                &mut error,
            );
            assert_failed(status, &error, MISSING, "KeyId");
        }
    }
}

/// Calls a function that takes (client, one string, error) with every NULL.
fn string_arg_matrix(
    name: &str,
    f: unsafe extern "C" fn(*mut kms_client, *const c_char, *mut kms_error) -> Status,
    client: &Client,
    param: &str,
) {
    let arg = CString::new("key-doesnotexist000000000").unwrap();
    let mut error = garbage_error();
    assert_failed(
        unsafe { f(null_mut(), arg.as_ptr(), &mut error) },
        &error,
        MISSING,
        "client",
    );
    let mut error = garbage_error();
    assert_failed(
        unsafe { f(client.0, null(), &mut error) },
        &error,
        MISSING,
        param,
    );
    let empty = CString::new("").unwrap();
    let mut error = garbage_error();
    assert_failed(
        unsafe { f(client.0, empty.as_ptr(), &mut error) },
        &error,
        MISSING,
        param,
    );
    let bad_utf8 = CString::new(vec![0xffu8, 0xfe]).unwrap();
    let mut error = garbage_error();
    assert_failed(
        unsafe { f(client.0, bad_utf8.as_ptr(), &mut error) },
        &error,
        INVALID,
        param,
    );
    assert_eq!(
        unsafe { f(client.0, null(), null_mut()) },
        MISSING,
        "{name} with error NULL"
    );
}

unsafe extern "C" fn schedule_14(
    c: *mut kms_client,
    k: *const c_char,
    e: *mut kms_error,
) -> Status {
    unsafe { kms_schedule_key_deletion(c, k, 14, e) }
}
unsafe extern "C" fn delete_alias(
    c: *mut kms_client,
    a: *const c_char,
    e: *mut kms_error,
) -> Status {
    unsafe { kms_delete_alias(c, a, e) }
}
unsafe extern "C" fn rotate(c: *mut kms_client, k: *const c_char, e: *mut kms_error) -> Status {
    unsafe { kms_key_rotate(c, k, null_mut(), e) }
}
unsafe extern "C" fn policy(c: *mut kms_client, k: *const c_char, e: *mut kms_error) -> Status {
    unsafe { kms_update_rotation_policy(c, k, 1, c"7d".as_ptr(), e) }
}
unsafe extern "C" fn import(c: *mut kms_client, k: *const c_char, e: *mut kms_error) -> Status {
    unsafe { kms_import_key_material(c, k, [1u8; 32].as_ptr(), 32, 0, e) }
}

#[test]
fn key_functions_null_matrix() {
    let c = Client::open();
    string_arg_matrix("kms_enable_key", kms_enable_key, &c, "KeyId");
    string_arg_matrix("kms_disable_key", kms_disable_key, &c, "KeyId");
    string_arg_matrix(
        "kms_cancel_key_deletion",
        kms_cancel_key_deletion,
        &c,
        "KeyId",
    );
    string_arg_matrix("kms_schedule_key_deletion", schedule_14, &c, "KeyId");
    string_arg_matrix("kms_key_rotate", rotate, &c, "KeyId");
    string_arg_matrix("kms_update_rotation_policy", policy, &c, "KeyId");
    string_arg_matrix("kms_import_key_material", import, &c, "KeyId");
    string_arg_matrix("kms_delete_alias", delete_alias, &c, "AliasName");

    let key = c.create_key();
    let alias = c"alias/matrix";
    for f in [kms_create_alias, kms_update_alias] {
        let mut error = garbage_error();
        assert_failed(
            unsafe { f(null_mut(), alias.as_ptr(), key.as_ptr(), &mut error) },
            &error,
            MISSING,
            "client",
        );
        let mut error = garbage_error();
        assert_failed(
            unsafe { f(c.0, null(), key.as_ptr(), &mut error) },
            &error,
            MISSING,
            "AliasName",
        );
        let mut error = garbage_error();
        assert_failed(
            unsafe { f(c.0, alias.as_ptr(), null(), &mut error) },
            &error,
            MISSING,
            "KeyId",
        );
    }

    // Import: (NULL, n>0) material is InvalidParameter; (NULL, 0) is missing.
    let ext = {
        let mut key_id = null_mut();
        assert_eq!(
            unsafe {
                kms_create_key(
                    c.0,
                    null(),
                    null(),
                    c"EXTERNAL".as_ptr(),
                    null(),
                    &mut key_id,
                    null_mut(),
                )
            },
            OK
        );
        CString::new(take_string(key_id)).unwrap()
    };
    let mut error = garbage_error();
    assert_failed(
        unsafe { kms_import_key_material(c.0, ext.as_ptr(), null(), 32, 0, &mut error) },
        &error,
        INVALID,
        "KeyMaterial",
    );
    let mut error = garbage_error();
    assert_failed(
        unsafe { kms_import_key_material(c.0, ext.as_ptr(), null(), 0, 0, &mut error) },
        &error,
        MISSING,
        "KeyMaterial",
    );

    // Rotation policy: a NULL interval keeps the earlier one, which a first
    // enabling does not have.
    let mut error = garbage_error();
    assert_failed(
        unsafe { kms_update_rotation_policy(c.0, key.as_ptr(), 1, null(), &mut error) },
        &error,
        MISSING,
        "RotationInterval",
    );
    assert_eq!(
        unsafe { kms_update_rotation_policy(c.0, key.as_ptr(), 0, null(), null_mut()) },
        OK
    );

    // Rotate: the version output is optional.
    let mut version = null_mut();
    assert_eq!(
        unsafe { kms_key_rotate(c.0, key.as_ptr(), &mut version, null_mut()) },
        OK
    );
    let version = take_string(version);
    assert!(version.starts_with(key.to_str().unwrap()) && version.len() == KMS_KEY_VERSION_ID_LEN);
    assert_eq!(
        unsafe { kms_key_rotate(c.0, key.as_ptr(), null_mut(), null_mut()) },
        OK
    );
}

#[test]
fn create_key_and_documents_null_matrix() {
    let c = Client::open();
    let mut out: *mut c_char = dangling();
    let mut error = garbage_error();
    assert_failed(
        unsafe {
            kms_create_key(
                null_mut(),
                null(),
                null(),
                null(),
                null(),
                &mut out,
                &mut error,
            )
        },
        &error,
        MISSING,
        "client",
    );
    let mut error = garbage_error();
    assert_failed(
        unsafe { kms_create_key(c.0, null(), null(), null(), null(), null_mut(), &mut error) },
        &error,
        MISSING,
        "key_id_out",
    );
    let mut error = garbage_error();
    assert_failed(
        unsafe {
            kms_create_key(
                c.0,
                c"AES_999".as_ptr(),
                null(),
                null(),
                null(),
                &mut out,
                &mut error,
            )
        },
        &error,
        INVALID,
        "KeySpec",
    );
    assert_eq!(out, dangling());
    // Nothing was created by any of those calls.
    let mut json = null_mut();
    assert_eq!(unsafe { kms_list_keys(c.0, &mut json, null_mut()) }, OK);
    let list: serde_json::Value = serde_json::from_str(&take_string(json)).unwrap();
    assert_eq!(list["TotalCount"], 0);

    let key = c.create_key();
    for (name, f) in [
        (
            "kms_describe_key",
            kms_describe_key as unsafe extern "C" fn(_, _, _, _) -> _,
        ),
        ("kms_list_key_versions", kms_list_key_versions),
    ] {
        let mut out: *mut c_char = dangling();
        let mut error = garbage_error();
        assert_failed(
            unsafe { f(null_mut(), key.as_ptr(), &mut out, &mut error) },
            &error,
            MISSING,
            "client",
        );
        let mut error = garbage_error();
        assert_failed(
            unsafe { f(c.0, null(), &mut out, &mut error) },
            &error,
            MISSING,
            "KeyId",
        );
        let mut error = garbage_error();
        assert_failed(
            unsafe { f(c.0, key.as_ptr(), null_mut(), &mut error) },
            &error,
            MISSING,
            "json_out",
        );
        assert_eq!(out, dangling(), "{name}");
        assert_eq!(
            unsafe { f(c.0, key.as_ptr(), &mut out, null_mut()) },
            OK,
            "{name}"
        );
        let doc: serde_json::Value = serde_json::from_str(&take_string(out)).unwrap();
        assert!(
            doc["RequestId"].as_str().is_some_and(|r| r.len() == 36),
            "{name}"
        );
    }
    for (name, f) in [
        (
            "kms_list_keys",
            kms_list_keys as unsafe extern "C" fn(_, _, _) -> _,
        ),
        ("kms_list_aliases", kms_list_aliases),
    ] {
        let mut out: *mut c_char = dangling();
        let mut error = garbage_error();
        assert_failed(
            unsafe { f(null_mut(), &mut out, &mut error) },
            &error,
            MISSING,
            "client",
        );
        let mut error = garbage_error();
        assert_failed(
            unsafe { f(c.0, null_mut(), &mut error) },
            &error,
            MISSING,
            "json_out",
        );
        assert_eq!(out, dangling(), "{name}");
    }
    let mut error = garbage_error();
    assert_failed(
        unsafe { kms_client_set_clock(null_mut(), None, null_mut(), &mut error) },
        &error,
        MISSING,
        "client",
    );
}

#[test]
fn status_functions_cover_every_status_and_any_number() {
    let all = [
        (kms_status::Ok, "OK", 200),
        (kms_status::InvalidParameter, "InvalidParameter", 400),
        (kms_status::MissingParameter, "MissingParameter", 400),
        (
            kms_status::UnsupportedOperation,
            "Rejected.UnsupportedOperation",
            400,
        ),
        (kms_status::AliasAlreadyExists, "AliasAlreadyExists", 400),
        (kms_status::InvalidKeyMaterial, "InvalidKeyMaterial", 400),
        (kms_status::InvalidCiphertext, "InvalidCiphertext", 400),
        (kms_status::KeyNotFound, "Forbidden.KeyNotFound", 404),
        (kms_status::AliasNotFound, "Forbidden.AliasNotFound", 404),
        (
            kms_status::OnlySymmetricKeySupported,
            "Forbidden.OnlySymmetricKeySupported",
            404,
        ),
        (kms_status::KeyDisabled, "Rejected.Disabled", 409),
        (
            kms_status::KeyPendingDeletion,
            "Rejected.PendingDeletion",
            409,
        ),
        (kms_status::KeyPendingImport, "Rejected.PendingImport", 409),
        (kms_status::KeystoreIo, "KeyStore.IOError", 500),
        (kms_status::KeystoreCorrupt, "KeyStore.Corrupted", 500),
        (
            kms_status::KeystoreAccessDenied,
            "KeyStore.AccessDenied",
            403,
        ),
        (kms_status::InternalFailure, "InternalFailure", 500),
    ];
    for (status, code, http) in all {
        assert_eq!(cstr(kms_status_code(status as u32)), code);
        assert_eq!(kms_status_http_status(status as u32), http, "{code}");
    }
    for unknown in [1u32, 99, 106, 999, u32::MAX] {
        assert_eq!(cstr(kms_status_code(unknown)), "Unknown");
        assert_eq!(kms_status_http_status(unknown), 0);
    }
    let version = cstr(kms_version());
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn error_strings_are_cut_to_fit_and_terminated() {
    let c = Client::open();
    // An alias of 300 characters is refused; the message names it without overflowing.
    let long = CString::new(format!("alias/{}", "a".repeat(300))).unwrap();
    let key = c.create_key();
    let mut error = garbage_error();
    // Fill the buffers with non-NUL bytes first: the library must terminate them.
    error.message = [b'#' as c_char; KMS_ERROR_MESSAGE_SIZE];
    error.code = [b'#' as c_char; KMS_ERROR_CODE_SIZE];
    error.request_id = [b'#' as c_char; KMS_ERROR_REQUEST_ID_SIZE];
    let status = unsafe { kms_create_alias(c.0, long.as_ptr(), key.as_ptr(), &mut error) };
    assert_failed(status, &error, INVALID, "AliasName");
    assert_eq!(error.message[KMS_ERROR_MESSAGE_SIZE - 1], 0);
    assert!(!text(&error.message).contains('#'));
    assert!(!text(&error.code).contains('#'));
}

#[test]
fn data_key_null_and_length_matrix() {
    let c = Client::open();
    let key = c.create_key();
    let aad = b"ctx";
    for advance in [true, false] {
        let f = if advance {
            kms_advance_generate_data_key
        } else {
            kms_generate_data_key
        };
        type Case<'a> = (
            &'a str,
            *mut kms_client,
            *const c_char,
            u32,
            (*const u8, usize),
            bool,
            Status,
            &'a str,
        );
        let cases: Vec<Case> = vec![
            (
                "NULL client",
                null_mut(),
                key.as_ptr(),
                0,
                (null(), 0),
                true,
                MISSING,
                "client",
            ),
            (
                "NULL key",
                c.0,
                null(),
                0,
                (null(), 0),
                true,
                MISSING,
                "KeyId",
            ),
            (
                "NULL aad, n>0",
                c.0,
                key.as_ptr(),
                0,
                (null(), 3),
                true,
                INVALID,
                "Aad",
            ),
            (
                "1025 bytes",
                c.0,
                key.as_ptr(),
                1025,
                (null(), 0),
                true,
                INVALID,
                "NumberOfBytes",
            ),
            (
                "NULL out",
                c.0,
                key.as_ptr(),
                0,
                (null(), 0),
                false,
                MISSING,
                "response_out",
            ),
        ];
        for (label, client, key_id, n, (aad_ptr, aad_len), with_out, expected, mention) in cases {
            let mut out: *mut kms_data_key_response = dangling();
            let out_ptr = if with_out {
                &mut out as *mut _
            } else {
                null_mut()
            };
            let mut error = garbage_error();
            let status = unsafe { f(client, key_id, n, aad_ptr, aad_len, out_ptr, &mut error) };
            assert_failed(status, &error, expected, mention);
            assert_eq!(out, dangling(), "{label}: no output on failure");
        }
        // 0 asks for the default 32 bytes; 1024 is the most.
        for (n, expected_len) in [(0u32, 32usize), (1, 1), (1024, 1024)] {
            let mut out = null_mut();
            let status = unsafe {
                f(
                    c.0,
                    key.as_ptr(),
                    n,
                    aad.as_ptr(),
                    aad.len(),
                    &mut out,
                    null_mut(),
                )
            };
            assert_eq!(status, OK);
            let r = unsafe { &*out };
            assert_eq!(r.plaintext_len, expected_len);
            assert_eq!(r.iv_len, KMS_GCM_IV_LEN);
            assert_eq!(cstr(r.algorithm), "AES_GCM");
            assert_eq!(cstr(r.key_id), key.to_str().unwrap());
            let extra = if advance {
                KMS_BLOB_HEADER_LEN + KMS_GCM_IV_LEN
            } else {
                0
            };
            assert_eq!(
                r.ciphertext_blob_len,
                extra + expected_len + KMS_GCM_TAG_LEN
            );
            // The blob opens to the data key, with the same Aad.
            let plaintext =
                unsafe { std::slice::from_raw_parts(r.plaintext, r.plaintext_len) }.to_vec();
            let mut dec = null_mut();
            let status = unsafe {
                if advance {
                    kms_advance_decrypt(
                        c.0,
                        r.ciphertext_blob,
                        r.ciphertext_blob_len,
                        null(),
                        null(),
                        null(),
                        0,
                        aad.as_ptr(),
                        aad.len(),
                        null(),
                        &mut dec,
                        null_mut(),
                    )
                } else {
                    kms_decrypt(
                        c.0,
                        r.ciphertext_blob,
                        r.ciphertext_blob_len,
                        key.as_ptr(),
                        null(),
                        r.iv,
                        r.iv_len,
                        aad.as_ptr(),
                        aad.len(),
                        null(),
                        &mut dec,
                        null_mut(),
                    )
                }
            };
            assert_eq!(status, OK);
            let d = unsafe { &*dec };
            assert_eq!(
                unsafe { std::slice::from_raw_parts(d.plaintext, d.plaintext_len) },
                &plaintext[..]
            );
            unsafe {
                kms_decrypt_response_free(dec);
                kms_data_key_response_free(out);
            }
        }
    }
    unsafe { kms_data_key_response_free(null_mut()) };
}
