//! What the fuzz targets share: one in-memory client holding keys of fixed IDs and
//! fixed material (so that the committed seed blobs decrypt), the layout of a
//! decrypt target's input, and the checks every C call's answer must pass.
//! (Over 400 lines because the checks of every answer are shared by all eight
//! targets and belong together.)
//!
//! The seeds (`fuzz/seeds/`) are made by `cargo run --example make_seeds` from this
//! same fixture.

use std::ffi::{c_char, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use localkms::ffi::*;

/// A key of the fixture: its spec, the algorithms it permits, its KeyId and the
/// versions imported into it (oldest first; the last is primary).
pub struct FixtureKey {
    pub spec: &'static str,
    pub algorithms: &'static str,
    pub key_id: &'static str,
    pub versions: &'static [&'static str],
    pub material_len: usize,
}

pub const KEYS: [FixtureKey; 4] = [
    FixtureKey {
        spec: "Aliyun_AES_256",
        algorithms: "AES_GCM,AES_CBC,AES_ECB",
        key_id: "key-fuzzaes25600000000000",
        versions: &[
            "key-fuzzaes25600000000000-v000000001",
            "key-fuzzaes25600000000000-v000000002",
        ],
        material_len: 32,
    },
    FixtureKey {
        spec: "Aliyun_AES_128",
        algorithms: "AES_GCM,AES_CBC,AES_ECB",
        key_id: "key-fuzzaes12800000000000",
        versions: &["key-fuzzaes12800000000000-v000000001"],
        material_len: 16,
    },
    FixtureKey {
        spec: "Aliyun_AES_192",
        algorithms: "AES_GCM,AES_CBC,AES_ECB",
        key_id: "key-fuzzaes19200000000000",
        versions: &["key-fuzzaes19200000000000-v000000001"],
        material_len: 24,
    },
    FixtureKey {
        spec: "Aliyun_SM4",
        algorithms: "SM4_GCM,SM4_CBC,SM4_ECB",
        key_id: "key-fuzzsm4000000000000000",
        // A mirrored cloud version in the UUID form.
        versions: &["0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"],
        material_len: 16,
    },
];

/// The alias the fixture gives the first key.
pub const ALIAS: &str = "alias/fuzz";

/// The material of version `v` of key `k`: fixed bytes, so the seeds stay valid.
pub fn material(k: usize, v: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ (k as u8 * 16 + v as u8))
        .collect()
}

/// The key-ID argument a decrypt input selects (`None`: NULL).
pub const KEY_CHOICES: [Option<&str>; 10] = [
    None,
    Some(KEYS[0].key_id),
    Some(KEYS[1].key_id),
    Some(KEYS[2].key_id),
    Some(KEYS[3].key_id),
    Some(ALIAS),
    Some("alias/none"),
    Some("key-00000000000000000000a"),
    Some(""),
    Some("not a key \u{7f}\u{e9}"),
];

/// The algorithm argument a decrypt input selects.
pub const ALGORITHM_CHOICES: [Option<&str>; 11] = [
    None,
    Some(""),
    Some("AES_GCM"),
    Some("AES_CBC"),
    Some("AES_ECB"),
    Some("SM4_GCM"),
    Some("SM4_CBC"),
    Some("SM4_ECB"),
    Some("aes_gcm"),
    Some("RSAES_OAEP_SHA_256"),
    Some("AES_GCM "),
];

/// The padding argument a decrypt input selects.
pub const PADDING_CHOICES: [Option<&str>; 6] = [
    None,
    Some(""),
    Some("PKCS7_PADDING"),
    Some("NO_PADDING"),
    Some("PKCS5_PADDING"),
    Some("pkcs7_padding"),
];

/// A decrypt target's input taken apart:
///
/// ```text
/// key (1) | algorithm (1) | padding (1) | flags (1) | aad_len (1) | iv_len (1) | aad | iv | blob
/// ```
///
/// Each choice byte indexes its table modulo its length; flags bit 0 passes the
/// Aad (else NULL, 0), bit 1 the IV (else NULL, 0), bit 2 hands NULL with the
/// blob's length instead of the blob (`InvalidParameter` unless the length is 0).
#[derive(Debug, Clone)]
pub struct DecryptInput<'a> {
    pub key_id: Option<&'static str>,
    pub algorithm: Option<&'static str>,
    pub padding: Option<&'static str>,
    pub aad: Option<&'a [u8]>,
    pub iv: Option<&'a [u8]>,
    pub null_blob: bool,
    pub blob: &'a [u8],
}

impl<'a> DecryptInput<'a> {
    pub fn parse(data: &'a [u8]) -> Option<DecryptInput<'a>> {
        let (head, rest) = data.split_at_checked(6)?;
        let (aad, rest) = rest.split_at_checked(usize::from(head[4]))?;
        let (iv, blob) = rest.split_at_checked(usize::from(head[5]))?;
        Some(DecryptInput {
            key_id: KEY_CHOICES[usize::from(head[0]) % KEY_CHOICES.len()],
            algorithm: ALGORITHM_CHOICES[usize::from(head[1]) % ALGORITHM_CHOICES.len()],
            padding: PADDING_CHOICES[usize::from(head[2]) % PADDING_CHOICES.len()],
            aad: (head[3] & 1 != 0).then_some(aad),
            iv: (head[3] & 2 != 0).then_some(iv),
            null_blob: head[3] & 4 != 0,
            blob,
        })
    }

    /// The bytes that parse as this input (for the seeds); the choices are given
    /// as indexes into the tables.
    pub fn encode(choices: [u8; 3], aad: Option<&[u8]>, iv: Option<&[u8]>, blob: &[u8]) -> Vec<u8> {
        let flags = u8::from(aad.is_some()) | (u8::from(iv.is_some()) << 1);
        let aad = aad.unwrap_or(&[]);
        let iv = iv.unwrap_or(&[]);
        let mut out = vec![
            choices[0],
            choices[1],
            choices[2],
            flags,
            u8::try_from(aad.len()).expect("a seed's Aad fits a byte"),
            u8::try_from(iv.len()).expect("a seed's IV fits a byte"),
        ];
        out.extend_from_slice(aad);
        out.extend_from_slice(iv);
        out.extend_from_slice(blob);
        out
    }
}

/// The fixture's client. Thread-safe by the contract.
pub struct Fixture(*mut kms_client);
// SAFETY: a kms_client may be used from any number of threads at once (API.md §2).
unsafe impl Send for Fixture {}
unsafe impl Sync for Fixture {}

impl Fixture {
    pub fn client(&self) -> *mut kms_client {
        self.0
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s).expect("no NUL in a fixture string")
}

fn check_ok(status: kms_status, what: &str) {
    assert_eq!(status, kms_status::Ok, "fixture: {what}");
}

/// The client with the fixture's keys, made once per process.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut client = null_mut();
        // SAFETY: NULL options open an in-memory store; client is writable.
        check_ok(
            unsafe { kms_client_open(null(), &mut client, null_mut()) },
            "open",
        );
        for (k, key) in KEYS.iter().enumerate() {
            let spec = cstring(key.spec);
            let origin = cstring("EXTERNAL");
            let key_id = cstring(key.key_id);
            let algorithms = cstring(key.algorithms);
            let options = kms_create_key_options {
                key_spec: spec.as_ptr(),
                key_usage: null(),
                origin: origin.as_ptr(),
                description: null(),
                key_id: key_id.as_ptr(),
                algorithms: algorithms.as_ptr(),
            };
            let mut made = null_mut();
            // SAFETY: live client, valid options, a writable output.
            check_ok(
                unsafe { kms_create_key_with_options(client, &options, &mut made, null_mut()) },
                "create key",
            );
            // SAFETY: the string the call returned, freed once.
            unsafe { kms_string_free(made) };
            for (v, version) in key.versions.iter().enumerate() {
                let version = cstring(version);
                let material = material(k, v, key.material_len);
                // SAFETY: live client, NUL-terminated strings, a valid slice.
                check_ok(
                    unsafe {
                        kms_import_key_version(
                            client,
                            key_id.as_ptr(),
                            version.as_ptr(),
                            material.as_ptr(),
                            material.len(),
                            0,
                            null_mut(),
                        )
                    },
                    "import version",
                );
            }
        }
        let alias = cstring(ALIAS);
        let key_id = cstring(KEYS[0].key_id);
        // SAFETY: live client, NUL-terminated strings.
        check_ok(
            unsafe { kms_create_alias(client, alias.as_ptr(), key_id.as_ptr(), null_mut()) },
            "alias",
        );
        Fixture(client)
    })
}

/// An error struct full of garbage, as a caller's uninitialised stack holds.
pub fn garbage_error() -> kms_error {
    let mut raw = std::mem::MaybeUninit::<kms_error>::uninit();
    // SAFETY: kms_error holds only integers and arrays of them: any bytes are valid.
    unsafe {
        std::ptr::write_bytes(raw.as_mut_ptr().cast::<u8>(), 0x5A, size_of::<kms_error>());
        raw.assume_init()
    }
}

fn chars_text(chars: &[c_char]) -> &[u8] {
    // SAFETY: c_char and u8 have the same size and any value is a valid u8.
    let bytes = unsafe { std::slice::from_raw_parts(chars.as_ptr().cast::<u8>(), chars.len()) };
    let end = bytes
        .iter()
        .position(|&b| b == 0)
        .expect("every kms_error string is NUL-terminated");
    &bytes[..end]
}

/// The statuses a call on caller-controlled input may answer; anything else (a
/// caught panic as InternalFailure, a store error on an in-memory store) is a bug.
pub const EXPECTED_FAILURES: [kms_status; 8] = [
    kms_status::InvalidParameter,
    kms_status::MissingParameter,
    kms_status::InvalidCiphertext,
    kms_status::KeyNotFound,
    kms_status::AliasNotFound,
    kms_status::UnsupportedOperation,
    kms_status::AliasAlreadyExists,
    kms_status::InvalidKeyMaterial,
];

/// Checks a failed call's answer: an expected status, and the error struct filled
/// in full (status, HTTP status, code string, a message, a RequestId).
pub fn check_failure(status: kms_status, error: &kms_error) {
    assert!(
        EXPECTED_FAILURES.contains(&status),
        "unexpected status {status:?}: {}",
        String::from_utf8_lossy(chars_text(&error.message))
    );
    assert_eq!(error.status, status as u32);
    assert_eq!(error.http_status, kms_status_http_status(status as u32));
    // SAFETY: kms_status_code returns a static NUL-terminated string.
    let code = unsafe { CStr::from_ptr(kms_status_code(status as u32)) };
    assert_eq!(chars_text(&error.code), code.to_bytes());
    assert!(!chars_text(&error.message).is_empty());
    assert_eq!(chars_text(&error.request_id).len(), 36);
}

/// Whether `key_id` is one of the fixture's KeyIds.
pub fn is_fixture_key(key_id: &[u8]) -> bool {
    KEYS.iter().any(|k| k.key_id.as_bytes() == key_id)
}

/// The bytes of a NUL-terminated string the library returned.
///
/// # Safety
/// `p` is a live NUL-terminated string.
pub unsafe fn c_bytes<'a>(p: *const c_char) -> &'a [u8] {
    assert!(!p.is_null());
    // SAFETY: the caller's promise.
    unsafe { CStr::from_ptr(p) }.to_bytes()
}

/// The C string of an optional argument, and the pointer to pass (NULL for `None`).
pub struct OptionalCString(Option<CString>);

impl OptionalCString {
    pub fn new(value: Option<&str>) -> OptionalCString {
        OptionalCString(value.map(cstring))
    }

    pub fn ptr(&self) -> *const c_char {
        self.0.as_ref().map_or(null(), |s| s.as_ptr())
    }
}

/// The pointer and length of an optional byte argument (NULL, 0 for `None`).
pub fn bytes_arg(value: Option<&[u8]>) -> (*const u8, usize) {
    value.map_or((null(), 0), |b| (b.as_ptr(), b.len()))
}

/// Which of the two decrypt functions a target drives.
#[derive(Clone, Copy, Debug)]
pub enum DecryptFn {
    Advance,
    Plain,
}

/// Runs one decrypt input through `which` on the fixture and checks the answer;
/// returns the plaintext on success.
pub fn run_decrypt(which: DecryptFn, input: &DecryptInput<'_>) -> Option<Vec<u8>> {
    let client = fixture().client();
    let key_id = OptionalCString::new(input.key_id);
    let algorithm = OptionalCString::new(input.algorithm);
    let padding = OptionalCString::new(input.padding);
    let (aad, aad_len) = bytes_arg(input.aad);
    let (iv, iv_len) = bytes_arg(input.iv);
    let blob = if input.null_blob {
        null()
    } else {
        input.blob.as_ptr()
    };
    let function = match which {
        DecryptFn::Advance => kms_advance_decrypt,
        DecryptFn::Plain => kms_decrypt,
    };
    let mut response: *mut kms_decrypt_response = null_mut();
    let mut error = garbage_error();
    // SAFETY: live client; every pointer is NULL or valid for its length.
    let status = unsafe {
        function(
            client,
            blob,
            input.blob.len(),
            key_id.ptr(),
            algorithm.ptr(),
            iv,
            iv_len,
            aad,
            aad_len,
            padding.ptr(),
            &mut response,
            &mut error,
        )
    };
    if status != kms_status::Ok {
        assert!(response.is_null(), "no output on failure");
        check_failure(status, &error);
        return None;
    }
    assert_eq!(
        error.status, 0x5A5A_5A5A,
        "the error is left alone on success"
    );
    assert!(!response.is_null());
    assert!(
        !(input.null_blob && !input.blob.is_empty()),
        "(NULL, n > 0) was accepted"
    );
    // SAFETY: a successful call wrote a live response.
    let r = unsafe { &*response };
    let plaintext = if r.plaintext_len == 0 {
        Vec::new()
    } else {
        // SAFETY: the response's buffer holds plaintext_len bytes.
        unsafe { std::slice::from_raw_parts(r.plaintext, r.plaintext_len) }.to_vec()
    };
    assert!(
        plaintext.len() <= input.blob.len(),
        "plaintext longer than its blob"
    );
    // SAFETY: the response's strings are live and NUL-terminated.
    unsafe {
        assert!(is_fixture_key(c_bytes(r.key_id)), "a key of the fixture");
        assert_eq!(c_bytes(r.key_version_id).len(), 36);
        assert!(!c_bytes(r.algorithm).is_empty());
        assert_eq!(c_bytes(r.request_id).len(), 36);
    }
    // SAFETY: freed once, by its own free function.
    unsafe { kms_decrypt_response_free(response) };
    Some(plaintext)
}
