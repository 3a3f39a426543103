//! Keys, versions, rotation, states, aliases and documents over the C ABI.
//! (Over 400 lines because half of it is the C documentation of its 18 exports, which cbindgen copies into include/localkms.h in file order.)

use std::ffi::{c_char, c_int};

use super::client::client_ref;
use super::client::kms_client;
use super::convert::{bytes, free_c_string, into_c_string, opt_str, out_ptr, req_str};
use super::guard::{guard, guard_void};
use super::status::{kms_error, kms_status, ErrorOut};
use crate::error::Result;
use crate::service::{Client, CreateKeyRequest, Response, ServiceJson};

/// Runs `op` on the client and, on success, hands its string to `*out`.
///
/// # Safety
/// `client` is NULL or live; `out` is NULL or writable (NULL is MissingParameter
/// unless `out_optional`).
unsafe fn with_string_out(
    client: *mut kms_client,
    out: *mut *mut c_char,
    out_name: &str,
    out_optional: bool,
    error: *mut kms_error,
    op: impl FnOnce(&Client) -> Result<String>,
) -> kms_status {
    // SAFETY: `error` is NULL or writable, per this function's contract.
    let error = unsafe { ErrorOut::new(error) };
    guard(error, || {
        // SAFETY: NULL or live.
        let client = unsafe { client_ref(client) }?;
        if !out_optional {
            out_ptr(out, out_name)?;
        }
        let value = op(client)?;
        if !out.is_null() {
            let value = into_c_string(value)?;
            // SAFETY: non-NULL and writable per the contract.
            unsafe { *out = value };
        }
        Ok(())
    })
}

/// Runs `op` and, on success, hands the service's JSON document of its answer to
/// `*json_out` (required).
///
/// # Safety
/// `client` is NULL or live; `json_out` is NULL or writable.
unsafe fn with_document_out<T: ServiceJson>(
    client: *mut kms_client,
    json_out: *mut *mut c_char,
    error: *mut kms_error,
    op: impl FnOnce(&Client) -> Result<Response<T>>,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_string_out(client, json_out, "json_out", false, error, |c| {
            op(c).map(|answer| answer.to_json())
        })
    }
}

/// Runs `op`, whose answer has no C output (the RequestId of a success is not
/// returned over the C ABI).
///
/// # Safety
/// `client` is NULL or live.
unsafe fn without_out<T>(
    client: *mut kms_client,
    error: *mut kms_error,
    op: impl FnOnce(&Client) -> Result<Response<T>>,
) -> kms_status {
    // SAFETY: `error` is NULL or writable, per this function's contract.
    let error = unsafe { ErrorOut::new(error) };
    guard(error, || {
        // SAFETY: NULL or live.
        let client = unsafe { client_ref(client) }?;
        op(client).map(drop)
    })
}

/// CreateKeyVersion (manual rotation): creates a version with fresh material and
/// makes it primary, so `kms_advance_encrypt` uses it from now on. Old versions
/// stay and keep decrypting; `kms_encrypt` keeps using the initial version.
///
/// `key_version_id_out` is nullable; when given it receives the new KeyVersionId
/// (free with `kms_string_free`).
///
/// Returns `KMS_STATUS_OK` or: MISSING_PARAMETER (NULL `client` or `key_id`),
/// INVALID_PARAMETER (`(NULL, n > 0)`, a string that is not UTF-8), KEY_NOT_FOUND,
/// ALIAS_NOT_FOUND (`key_id` names no key or alias), UNSUPPORTED_OPERATION (asymmetric
/// or EXTERNAL key), KEY_DISABLED, KEY_PENDING_DELETION, KEY_PENDING_IMPORT,
/// KEYSTORE_IO, KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED (file-backed stores: the store
/// is written or re-read; see the top of this header), INTERNAL_FAILURE (a caught
/// panic, a failed random source, out of memory).
///
/// # Safety
/// `client` NULL or live; `key_id` NULL or NUL-terminated; outputs NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_key_rotate(
    client: *mut kms_client,
    key_id: *const c_char,
    key_version_id_out: *mut *mut c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_string_out(
            client,
            key_version_id_out,
            "key_version_id_out",
            true,
            error,
            |c| {
                Ok(c.rotate_key(req_str(key_id, "KeyId")?)?
                    .value
                    .key_version_id)
            },
        )
    }
}

/// UpdateRotationPolicy: turns automatic rotation on or off. `rotation_interval`
/// is `"<n>d"`, `"<n>h"`, `"<n>m"` or `"<n>s"`, from 7 to 365 days; NULL keeps the
/// key's earlier interval (required the first time rotation is enabled). A key
/// whose NextRotationDate (LastRotationDate + interval) has passed gets a new
/// primary version when it is next used, by the clock of `kms_client_set_clock`
/// when one is set; a policy that puts that date in the past rotates at once.
///
/// Returns `KMS_STATUS_OK` or: INVALID_PARAMETER (interval, `(NULL, n > 0)`, a string
/// that is not UTF-8), MISSING_PARAMETER (NULL `client` or `key_id`; no interval the
/// first time rotation is enabled), KEY_NOT_FOUND, ALIAS_NOT_FOUND (`key_id` names no
/// key or alias), UNSUPPORTED_OPERATION (asymmetric or EXTERNAL), KEY_PENDING_DELETION,
/// KEYSTORE_IO, KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED (file-backed stores: the store
/// is written or re-read; see the top of this header), INTERNAL_FAILURE (a caught
/// panic, a failed random source, out of memory).
///
/// # Safety
/// `client` NULL or live; strings NULL or NUL-terminated; `error` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_update_rotation_policy(
    client: *mut kms_client,
    key_id: *const c_char,
    enable_automatic_rotation: c_int,
    rotation_interval: *const c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        without_out(client, error, |c| {
            c.update_rotation_policy(
                req_str(key_id, "KeyId")?,
                enable_automatic_rotation != 0,
                opt_str(rotation_interval, "RotationInterval")?,
            )
        })
    }
}

/// CreateKey.
///
/// - `key_spec`: NULL: `"Aliyun_AES_256"`; also `"Aliyun_AES_192"`,
///   `"Aliyun_AES_128"`, `"Aliyun_SM4"`, and the asymmetric `"RSA_2048"`,
///   `"RSA_3072"`, `"RSA_4096"`, `"EC_P256"`, `"EC_P256K"` (real key pairs; the
///   symmetric operations refuse them with ONLY_SYMMETRIC_KEY_SUPPORTED).
/// - `key_usage`: NULL: `"ENCRYPT/DECRYPT"` for AES, SM4 and RSA, `"SIGN/VERIFY"`
///   for EC.
/// - `origin`: NULL: `"Aliyun_KMS"`; `"EXTERNAL"` creates a symmetric key in
///   PendingImport until `kms_import_key_material` or `kms_import_key_version`.
///
/// The key permits only the GCM of its spec; `kms_create_key_with_options` makes
/// keys that permit block modes, or that mirror a cloud key's KeyId.
/// - `description`: NULL or up to 8192 characters.
/// - `key_id_out`: required; receives the KeyId (free with `kms_string_free`).
///
/// Returns `KMS_STATUS_OK` or: INVALID_PARAMETER (an unknown spec, usage or origin, a
/// description over 8192 characters, `(NULL, n > 0)`, a string that is not UTF-8),
/// MISSING_PARAMETER (NULL `client` or `key_id_out`), UNSUPPORTED_OPERATION (EC_SM2;
/// EXTERNAL asymmetric keys), KEYSTORE_IO, KEYSTORE_CORRUPT,
/// KEYSTORE_ACCESS_DENIED (file-backed stores: the store is written or re-read; see the
/// top of this header), INTERNAL_FAILURE (a caught panic, a failed random source, out
/// of memory).
///
/// # Safety
/// `client` NULL or live; strings NULL or NUL-terminated; outputs NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_create_key(
    client: *mut kms_client,
    key_spec: *const c_char,
    key_usage: *const c_char,
    origin: *const c_char,
    description: *const c_char,
    key_id_out: *mut *mut c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_string_out(client, key_id_out, "key_id_out", false, error, |c| {
            c.create_key(&CreateKeyRequest {
                key_spec: opt_str(key_spec, "KeySpec")?,
                key_usage: opt_str(key_usage, "KeyUsage")?,
                origin: opt_str(origin, "Origin")?,
                description: opt_str(description, "Description")?,
                ..Default::default()
            })
            .map(|created| created.value.key_id)
        })
    }
}

/// The options of `kms_create_key_with_options`. Zero it
/// (`memset(&options, 0, sizeof options)`) and set what you need: every NULL
/// field is the default.
#[repr(C)]
pub struct kms_create_key_options {
    /// NULL: `"Aliyun_AES_256"`; also `"Aliyun_AES_192"`, `"Aliyun_AES_128"`,
    /// `"Aliyun_SM4"` (128-bit SM4), and the asymmetric specs of `kms_create_key`.
    pub key_spec: *const c_char,
    /// NULL: `"ENCRYPT/DECRYPT"` (`"SIGN/VERIFY"` for EC keys).
    pub key_usage: *const c_char,
    /// NULL: `"Aliyun_KMS"`; `"EXTERNAL"` for imported material (the key starts in
    /// PendingImport).
    pub origin: *const c_char,
    /// NULL: `""`; at most 8192 characters.
    pub description: *const c_char,
    /// NULL: a fresh KeyId. Otherwise this KeyId, to mirror a cloud key (EXTERNAL
    /// keys only): 1 to 64 of `[A-Za-z0-9-]`, not in use, never an alias.
    pub key_id: *const c_char,
    /// NULL: the GCM algorithm of the spec only (`"AES_GCM"`, `"SM4_GCM"`). Else a
    /// comma list of the spec's algorithms, e.g. `"AES_GCM,AES_CBC,AES_ECB"`: CBC
    /// and ECB have no integrity, and CBC with PKCS7_PADDING is a padding oracle to
    /// anyone who can submit ciphertexts; allow them only for legacy ciphertext.
    pub algorithms: *const c_char,
}

/// CreateKey with every option, including the KeyId of a mirrored cloud key and
/// the algorithms the key permits. `kms_create_key(c, spec, usage, origin, desc,
/// out, err)` is this function with those four fields and the others NULL.
/// `options` NULL is all defaults. `key_id_out` (required) receives the KeyId; free
/// it with `kms_string_free`.
///
/// Returns `KMS_STATUS_OK` or: INVALID_PARAMETER (an unknown spec, usage or origin, a
/// description over 8192 characters, a malformed or taken `key_id` or one given
/// for a key that is not EXTERNAL, an algorithm list with a name that is not one of
/// the spec's algorithms, a string that is not UTF-8), MISSING_PARAMETER (NULL
/// `client` or `key_id_out`), UNSUPPORTED_OPERATION (EC_SM2; EXTERNAL asymmetric
/// keys), KEYSTORE_IO, KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED (file-backed stores:
/// the store is written or re-read; see the top of this header), INTERNAL_FAILURE
/// (a caught panic, a failed random source, out of memory).
///
/// # Safety
/// `client` NULL or live; `options` NULL or a valid struct whose strings are NULL
/// or NUL-terminated; `key_id_out` NULL or writable; `error` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_create_key_with_options(
    client: *mut kms_client,
    options: *const kms_create_key_options,
    key_id_out: *mut *mut c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_string_out(client, key_id_out, "key_id_out", false, error, |c| {
            if options.is_null() {
                return Ok(c.create_key(&CreateKeyRequest::default())?.value.key_id);
            }
            // Every field is a pointer: any bit pattern is a valid value. Copied
            // out, no reference to caller memory is kept.
            let options = options.read();
            c.create_key(&CreateKeyRequest {
                key_spec: opt_str(options.key_spec, "KeySpec")?,
                key_usage: opt_str(options.key_usage, "KeyUsage")?,
                origin: opt_str(options.origin, "Origin")?,
                description: opt_str(options.description, "Description")?,
                key_id: opt_str(options.key_id, "KeyId")?,
                algorithms: opt_str(options.algorithms, "Algorithms")?,
            })
            .map(|created| created.value.key_id)
        })
    }
}

/// ImportKeyVersion: imports `material` into the EXTERNAL key `key_id` as the
/// version named `key_version_id` (any 36 printable ASCII bytes, e.g. the cloud's
/// `key-…-…` or UUID-form KeyVersionId of the key being mirrored; NULL: a fresh
/// one), so that ciphertext made by the cloud under that version opens here. The
/// first version imported is the key's initial version (Encrypt's); each later
/// one becomes primary (AdvanceEncrypt's). The same id with the same material
/// again is OK (and restores material that expired); with other material it is
/// INVALID_KEY_MATERIAL. `key_material_expire_unix` (0: never) applies to the
/// whole key: when it passes, every version's material is wiped and the key is
/// PendingImport until each version is imported again.
///
/// Returns `KMS_STATUS_OK` or: INVALID_KEY_MATERIAL (size: 32, 24 or 16 bytes for
/// the AES specs, 16 for Aliyun_SM4; other material for a version that had some),
/// INVALID_PARAMETER (a malformed `key_version_id` or one that belongs to another
/// key, expiry in the past, `(NULL, n > 0)`, a string that is not UTF-8),
/// MISSING_PARAMETER (NULL `client`, `key_id` or material), KEY_NOT_FOUND,
/// ALIAS_NOT_FOUND (`key_id` names no key or alias), UNSUPPORTED_OPERATION (not an
/// EXTERNAL key), KEY_PENDING_DELETION, KEYSTORE_IO, KEYSTORE_CORRUPT,
/// KEYSTORE_ACCESS_DENIED (file-backed stores: the store is written or re-read;
/// see the top of this header), INTERNAL_FAILURE (a caught panic, a failed random
/// source, out of memory).
///
/// # Safety
/// `client` NULL or live; strings NULL or NUL-terminated; `material` NULL or
/// `material_len` readable bytes; `error` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_import_key_version(
    client: *mut kms_client,
    key_id: *const c_char,
    key_version_id: *const c_char,
    material: *const u8,
    material_len: usize,
    key_material_expire_unix: i64,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        without_out(client, error, |c| {
            c.import_key_version(
                req_str(key_id, "KeyId")?,
                opt_str(key_version_id, "KeyVersionId")?,
                bytes(material, material_len, "KeyMaterial")?,
                key_material_expire_unix,
            )
        })
    }
}

/// ImportKeyMaterial: gives an EXTERNAL key's initial version its plain material
/// (32 bytes for Aliyun_AES_256, 24 for _192, 16 for _128 and for Aliyun_SM4) and
/// makes it Enabled. A key that had
/// material accepts only the same material again. `key_material_expire_unix`: 0
/// for never, else a future Unix time after which the key is PendingImport until
/// the same material is imported again. (A key from a store written before key
/// check values were HMACs, whose material had already expired, accepts any
/// material of the right size once.)
///
/// Returns `KMS_STATUS_OK` or: INVALID_KEY_MATERIAL (size, or other material),
/// INVALID_PARAMETER (expiry in the past, `(NULL, n > 0)`, a string that is not UTF-8),
/// MISSING_PARAMETER (NULL `client`, `key_id` or material), KEY_NOT_FOUND,
/// ALIAS_NOT_FOUND (`key_id` names no key or alias), UNSUPPORTED_OPERATION (not an
/// EXTERNAL key), KEY_PENDING_DELETION, KEYSTORE_IO, KEYSTORE_CORRUPT,
/// KEYSTORE_ACCESS_DENIED (file-backed stores: the store is written or re-read; see the
/// top of this header), INTERNAL_FAILURE (a caught panic, a failed random source, out
/// of memory).
///
/// # Safety
/// `client` NULL or live; `key_id` NULL or NUL-terminated; `key_material` NULL or
/// `key_material_len` readable bytes; `error` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_import_key_material(
    client: *mut kms_client,
    key_id: *const c_char,
    key_material: *const u8,
    key_material_len: usize,
    key_material_expire_unix: i64,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        without_out(client, error, |c| {
            c.import_key_material(
                req_str(key_id, "KeyId")?,
                bytes(key_material, key_material_len, "KeyMaterial")?,
                key_material_expire_unix,
            )
        })
    }
}

/// EnableKey: a Disabled key becomes Enabled (an Enabled key stays so).
/// KEY_PENDING_DELETION / KEY_PENDING_IMPORT for keys in those states.
///
/// Returns `KMS_STATUS_OK` or: MISSING_PARAMETER (NULL `client` or `key_id`),
/// INVALID_PARAMETER (not UTF-8), KEY_NOT_FOUND, ALIAS_NOT_FOUND (`key_id` names no key
/// or alias), KEY_PENDING_DELETION, KEY_PENDING_IMPORT, KEYSTORE_IO, KEYSTORE_CORRUPT,
/// KEYSTORE_ACCESS_DENIED (file-backed stores: the store is written or re-read; see the
/// top of this header), INTERNAL_FAILURE (a caught panic, a failed random source, out
/// of memory).
///
/// # Safety
/// `client` NULL or live; `key_id` NULL or NUL-terminated; `error` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_enable_key(
    client: *mut kms_client,
    key_id: *const c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe { without_out(client, error, |c| c.enable_key(req_str(key_id, "KeyId")?)) }
}

/// DisableKey: an Enabled key becomes Disabled; it then neither encrypts nor
/// decrypts (KEY_DISABLED) and does not rotate automatically.
///
/// Returns `KMS_STATUS_OK` or: MISSING_PARAMETER (NULL `client` or `key_id`),
/// INVALID_PARAMETER (not UTF-8), KEY_NOT_FOUND, ALIAS_NOT_FOUND (`key_id` names no key
/// or alias), KEY_PENDING_DELETION, KEY_PENDING_IMPORT, KEYSTORE_IO, KEYSTORE_CORRUPT,
/// KEYSTORE_ACCESS_DENIED (file-backed stores: the store is written or re-read; see the
/// top of this header), INTERNAL_FAILURE (a caught panic, a failed random source, out
/// of memory).
///
/// # Safety
/// As for `kms_enable_key`.
#[no_mangle]
pub unsafe extern "C" fn kms_disable_key(
    client: *mut kms_client,
    key_id: *const c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe { without_out(client, error, |c| c.disable_key(req_str(key_id, "KeyId")?)) }
}

/// ScheduleKeyDeletion: the key becomes PendingDeletion (unusable:
/// KEY_PENDING_DELETION) and is deleted with its versions and aliases once
/// `pending_window_in_days` (7 to 366, else INVALID_PARAMETER) have passed.
///
/// Returns `KMS_STATUS_OK` or: INVALID_PARAMETER (`pending_window_in_days` outside 7 to
/// 366, not UTF-8), MISSING_PARAMETER (NULL `client` or `key_id`), KEY_NOT_FOUND,
/// ALIAS_NOT_FOUND (`key_id` names no key or alias), KEY_PENDING_DELETION (already
/// scheduled), KEYSTORE_IO, KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED (file-backed
/// stores: the store is written or re-read; see the top of this header),
/// INTERNAL_FAILURE (a caught panic, a failed random source, out of memory).
///
/// # Safety
/// As for `kms_enable_key`.
#[no_mangle]
pub unsafe extern "C" fn kms_schedule_key_deletion(
    client: *mut kms_client,
    key_id: *const c_char,
    pending_window_in_days: i32,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        without_out(client, error, |c| {
            c.schedule_key_deletion(req_str(key_id, "KeyId")?, pending_window_in_days)
        })
    }
}

/// CancelKeyDeletion: a PendingDeletion key returns to Enabled (or to
/// PendingImport for an EXTERNAL key without material). UNSUPPORTED_OPERATION for
/// a key that is not pending deletion.
///
/// Returns `KMS_STATUS_OK` or: UNSUPPORTED_OPERATION (the key is not pending deletion),
/// MISSING_PARAMETER (NULL `client` or `key_id`), INVALID_PARAMETER (not UTF-8),
/// KEY_NOT_FOUND, ALIAS_NOT_FOUND (`key_id` names no key or alias), KEYSTORE_IO,
/// KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED (file-backed stores: the store is written
/// or re-read; see the top of this header), INTERNAL_FAILURE (a caught panic, a failed
/// random source, out of memory).
///
/// # Safety
/// As for `kms_enable_key`.
#[no_mangle]
pub unsafe extern "C" fn kms_cancel_key_deletion(
    client: *mut kms_client,
    key_id: *const c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        without_out(client, error, |c| {
            c.cancel_key_deletion(req_str(key_id, "KeyId")?)
        })
    }
}

/// CreateAlias: `alias_name` (`alias/` + `[A-Za-z0-9_/-]`, at most 255
/// characters, not `alias/acs...`) names the key `key_id` (a KeyId or an alias).
/// Aliases are accepted wherever a KeyId is. ALIAS_ALREADY_EXISTS when taken.
///
/// Returns `KMS_STATUS_OK` or: ALIAS_ALREADY_EXISTS, INVALID_PARAMETER (a malformed
/// alias name, not UTF-8), MISSING_PARAMETER (NULL `client`, `alias_name` or `key_id`),
/// KEY_NOT_FOUND, ALIAS_NOT_FOUND (`key_id` names no key or alias), KEYSTORE_IO,
/// KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED (file-backed stores: the store is written
/// or re-read; see the top of this header), INTERNAL_FAILURE (a caught panic, a failed
/// random source, out of memory).
///
/// # Safety
/// `client` NULL or live; strings NULL or NUL-terminated; `error` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_create_alias(
    client: *mut kms_client,
    alias_name: *const c_char,
    key_id: *const c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        without_out(client, error, |c| {
            c.create_alias(req_str(alias_name, "AliasName")?, req_str(key_id, "KeyId")?)
        })
    }
}

/// UpdateAlias: an existing alias names another key. ALIAS_NOT_FOUND when the
/// alias does not exist.
///
/// Returns `KMS_STATUS_OK` or: ALIAS_NOT_FOUND (the alias, or an alias given as
/// `key_id`, does not exist), INVALID_PARAMETER (a malformed alias name, not UTF-8),
/// MISSING_PARAMETER (NULL `client`, `alias_name` or `key_id`), KEY_NOT_FOUND,
/// KEYSTORE_IO, KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED (file-backed stores: the store
/// is written or re-read; see the top of this header), INTERNAL_FAILURE (a caught
/// panic, a failed random source, out of memory).
///
/// # Safety
/// As for `kms_create_alias`.
#[no_mangle]
pub unsafe extern "C" fn kms_update_alias(
    client: *mut kms_client,
    alias_name: *const c_char,
    key_id: *const c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        without_out(client, error, |c| {
            c.update_alias(req_str(alias_name, "AliasName")?, req_str(key_id, "KeyId")?)
        })
    }
}

/// DeleteAlias. ALIAS_NOT_FOUND when the alias does not exist.
///
/// Returns `KMS_STATUS_OK` or: ALIAS_NOT_FOUND, INVALID_PARAMETER (a malformed alias
/// name, not UTF-8), MISSING_PARAMETER (NULL `client` or `alias_name`), KEYSTORE_IO,
/// KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED (file-backed stores: the store is written
/// or re-read; see the top of this header), INTERNAL_FAILURE (a caught panic, a failed
/// random source, out of memory).
///
/// # Safety
/// As for `kms_create_alias`.
#[no_mangle]
pub unsafe extern "C" fn kms_delete_alias(
    client: *mut kms_client,
    alias_name: *const c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        without_out(client, error, |c| {
            c.delete_alias(req_str(alias_name, "AliasName")?)
        })
    }
}

/// DescribeKey: `*json_out` receives `{"KeyMetadata": {...}, "RequestId": "..."}`
/// with the service's field names (KeyId, KeyState, KeySpec, KeyUsage, Origin,
/// ProtectionLevel, Description, CreationDate, PrimaryKeyVersion,
/// LastRotationDate, AutomaticRotation, and when they apply RotationInterval
/// (`"604800s"`), NextRotationDate, DeleteDate, MaterialExpireTime; dates in
/// ISO-8601 UTC). Free it with `kms_string_free`.
///
/// Returns `KMS_STATUS_OK` or: MISSING_PARAMETER (NULL `client`, `key_id` or
/// `json_out`), INVALID_PARAMETER (not UTF-8), KEY_NOT_FOUND, ALIAS_NOT_FOUND (`key_id`
/// names no key or alias), KEYSTORE_IO, KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED
/// (file-backed stores: a due rotation, expiry or deletion is written first, or the
/// store is re-read; see the top of this header), INTERNAL_FAILURE (a caught panic, a
/// failed random source, out of memory).
///
/// # Safety
/// `client` NULL or live; `key_id` NULL or NUL-terminated; outputs NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_describe_key(
    client: *mut kms_client,
    key_id: *const c_char,
    json_out: *mut *mut c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_document_out(client, json_out, error, |c| {
            c.describe_key(req_str(key_id, "KeyId")?)
        })
    }
}

/// ListKeys: `*json_out` receives `{"Keys": {"Key": [{"KeyId": ...}]},
/// "TotalCount", "PageNumber", "PageSize", "RequestId"}`, by CreationDate (keys
/// created in the same second in KeyId order). Free it with `kms_string_free`.
///
/// Returns `KMS_STATUS_OK` or: MISSING_PARAMETER (NULL `client` or `json_out`),
/// KEYSTORE_IO, KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED (file-backed stores: a due
/// rotation, expiry or deletion is written first, or the store is re-read; see the top
/// of this header), INTERNAL_FAILURE (a caught panic, a failed random source, out of
/// memory).
///
/// # Safety
/// `client` NULL or live; outputs NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kms_list_keys(
    client: *mut kms_client,
    json_out: *mut *mut c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe { with_document_out(client, json_out, error, |c| c.list_keys()) }
}

/// ListKeyVersions: `*json_out` receives `{"KeyVersions": {"KeyVersion": [{"KeyId",
/// "KeyVersionId", "CreationDate"}]}, "TotalCount", ...}`, the initial version
/// first. Free it with `kms_string_free`.
///
/// Returns `KMS_STATUS_OK` or: MISSING_PARAMETER (NULL `client`, `key_id` or
/// `json_out`), INVALID_PARAMETER (not UTF-8), KEY_NOT_FOUND, ALIAS_NOT_FOUND (`key_id`
/// names no key or alias), KEYSTORE_IO, KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED
/// (file-backed stores: a due rotation, expiry or deletion is written first, or the
/// store is re-read; see the top of this header), INTERNAL_FAILURE (a caught panic, a
/// failed random source, out of memory).
///
/// # Safety
/// As for `kms_describe_key`.
#[no_mangle]
pub unsafe extern "C" fn kms_list_key_versions(
    client: *mut kms_client,
    key_id: *const c_char,
    json_out: *mut *mut c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_document_out(client, json_out, error, |c| {
            c.list_key_versions(req_str(key_id, "KeyId")?)
        })
    }
}

/// ListAliases: `*json_out` receives `{"Aliases": {"Alias": [{"AliasName",
/// "KeyId"}]}, "TotalCount", ...}`, by name. Free it with `kms_string_free`.
///
/// Returns `KMS_STATUS_OK` or: MISSING_PARAMETER (NULL `client` or `json_out`),
/// KEYSTORE_IO, KEYSTORE_CORRUPT, KEYSTORE_ACCESS_DENIED (file-backed stores: a due
/// rotation, expiry or deletion is written first, or the store is re-read; see the top
/// of this header), INTERNAL_FAILURE (a caught panic, a failed random source, out of
/// memory).
///
/// # Safety
/// As for `kms_list_keys`.
#[no_mangle]
pub unsafe extern "C" fn kms_list_aliases(
    client: *mut kms_client,
    json_out: *mut *mut c_char,
    error: *mut kms_error,
) -> kms_status {
    // SAFETY: forwarded contract.
    unsafe { with_document_out(client, json_out, error, |c| c.list_aliases()) }
}

/// Frees a string the library returned (KeyIds, KeyVersionIds, JSON documents).
/// NULL is a no-op. Never use `free()` on library strings.
///
/// # Safety
/// `string` is NULL or came from this library and was not freed before.
#[no_mangle]
pub unsafe extern "C" fn kms_string_free(string: *mut c_char) {
    // SAFETY: forwarded contract.
    guard_void(|| unsafe { free_c_string(string) })
}
