//! Property tests (proptest, on stable): for every key spec, mode, padding and
//! plaintext length 0–4096, decrypt(encrypt(x)) = x through the C ABI; the blob
//! parser reads back what the writer wrote; and every single-bit flip and every truncation of a blob is refused
//! with InvalidCiphertext or Forbidden.KeyNotFound, never a panic or another status.
//!
//! Case counts are set so that the file runs in seconds in a debug build;
//! `PROPTEST_CASES=10000 cargo test --test properties` runs more.

use std::ffi::{c_char, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use localkms::crypto::blob::{blob_len, parse_blob, parse_gateway_blob, write_blob_header};
use localkms::crypto::{Algorithm, CipherFamily, CipherMode, Mode, PaddingMode};
use localkms::ffi::*;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------
// A client with one key of each symmetric spec, every mode permitted
// ---------------------------------------------------------------------------------

/// The symmetric key specs and their block cipher.
const SPECS: [(&str, CipherFamily); 4] = [
    ("Aliyun_AES_256", CipherFamily::Aes),
    ("Aliyun_AES_128", CipherFamily::Aes),
    ("Aliyun_AES_192", CipherFamily::Aes),
    ("Aliyun_SM4", CipherFamily::Sm4),
];

struct Fixture {
    client: *mut kms_client,
    /// One KeyId per entry of SPECS.
    keys: Vec<CString>,
}
// SAFETY: a kms_client may be used from any number of threads at once (API.md §2).
unsafe impl Send for Fixture {}
unsafe impl Sync for Fixture {}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut client = null_mut();
        // SAFETY: NULL options: an in-memory store.
        assert_eq!(
            unsafe { kms_client_open(null(), &mut client, null_mut()) },
            kms_status::Ok
        );
        let keys = SPECS
            .iter()
            .map(|&(spec, family)| {
                let spec = CString::new(spec).unwrap();
                let algorithms: Vec<&str> = Mode::ALL
                    .iter()
                    .map(|&m| Algorithm::of(family, m).name())
                    .collect();
                let algorithms = CString::new(algorithms.join(",")).unwrap();
                let options = kms_create_key_options {
                    key_spec: spec.as_ptr(),
                    key_usage: null(),
                    origin: null(),
                    description: null(),
                    key_id: null(),
                    algorithms: algorithms.as_ptr(),
                };
                let mut key_id = null_mut();
                // SAFETY: live client, valid options, writable output.
                let status = unsafe {
                    kms_create_key_with_options(client, &options, &mut key_id, null_mut())
                };
                assert_eq!(status, kms_status::Ok);
                take_string(key_id)
            })
            .collect();
        Fixture { client, keys }
    })
}

fn take_string(p: *mut c_char) -> CString {
    assert!(!p.is_null());
    // SAFETY: a string the library returned, freed once.
    let s = unsafe { CStr::from_ptr(p) }.to_owned();
    unsafe { kms_string_free(p) };
    s
}

/// `(ptr, len)` of a byte argument; the empty slice as (NULL, 0), as C callers pass it.
fn arg(bytes: &[u8]) -> (*const u8, usize) {
    if bytes.is_empty() {
        (null(), 0)
    } else {
        (bytes.as_ptr(), bytes.len())
    }
}

fn copy_out(p: *const u8, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    // SAFETY: a response's buffer of len bytes.
    unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
}

/// What kms_encrypt / kms_advance_encrypt returned that decrypting needs.
struct Encrypted {
    blob: Vec<u8>,
    iv: Vec<u8>,
}

fn padding_name(padding: Option<PaddingMode>) -> Option<CString> {
    padding.map(|p| {
        CString::new(match p {
            PaddingMode::Pkcs7 => "PKCS7_PADDING",
            PaddingMode::NoPadding => "NO_PADDING",
        })
        .unwrap()
    })
}

fn encrypt(
    advance: bool,
    key: &CStr,
    algorithm: Algorithm,
    padding: Option<PaddingMode>,
    aad: &[u8],
    plaintext: &[u8],
) -> Encrypted {
    let alg = CString::new(algorithm.name()).unwrap();
    let pad = padding_name(padding);
    let (pt, pt_len) = arg(plaintext);
    let (aad, aad_len) = arg(aad);
    let function = if advance {
        kms_advance_encrypt
    } else {
        kms_encrypt
    };
    let mut response = null_mut();
    let mut error = blank_error();
    // SAFETY: live client; every pointer NULL or valid for its length.
    let status = unsafe {
        function(
            fixture().client,
            key.as_ptr(),
            pt,
            pt_len,
            alg.as_ptr(),
            null(),
            0,
            aad,
            aad_len,
            pad.as_ref().map_or(null(), |p| p.as_ptr()),
            &mut response,
            &mut error,
        )
    };
    assert_eq!(status, kms_status::Ok, "{}", message(&error));
    // SAFETY: a live response, freed once below.
    let r = unsafe { &*response };
    let out = Encrypted {
        blob: copy_out(r.ciphertext_blob, r.ciphertext_blob_len),
        iv: copy_out(r.iv, r.iv_len),
    };
    unsafe { kms_encrypt_response_free(response) };
    out
}

/// The status and, on success, the plaintext of a decrypt; `with_key` passes the
/// key, algorithm, IV and padding (kms_encrypt output), else the blob alone.
fn decrypt(
    advance: bool,
    with_key: Option<(&CStr, Algorithm, Option<PaddingMode>, &[u8])>,
    blob: &[u8],
    aad: &[u8],
) -> (kms_status, Vec<u8>) {
    let (key, alg, pad, iv) = match with_key {
        Some((key, algorithm, padding, iv)) => (
            Some(key),
            Some(CString::new(algorithm.name()).unwrap()),
            padding_name(padding),
            iv,
        ),
        None => (None, None, None, &[][..]),
    };
    let (blob_ptr, blob_len) = arg(blob);
    let (iv_ptr, iv_len) = arg(iv);
    let (aad, aad_len) = arg(aad);
    let function = if advance {
        kms_advance_decrypt
    } else {
        kms_decrypt
    };
    let mut response: *mut kms_decrypt_response = null_mut();
    let mut error = blank_error();
    // SAFETY: live client; every pointer NULL or valid for its length.
    let status = unsafe {
        function(
            fixture().client,
            blob_ptr,
            blob_len,
            key.map_or(null(), CStr::as_ptr),
            alg.as_ref().map_or(null(), |a| a.as_ptr()),
            iv_ptr,
            iv_len,
            aad,
            aad_len,
            pad.as_ref().map_or(null(), |p| p.as_ptr()),
            &mut response,
            &mut error,
        )
    };
    if status != kms_status::Ok {
        assert!(response.is_null(), "no output on failure");
        assert_eq!(error.status, status as u32, "the error says the status");
        return (status, Vec::new());
    }
    // SAFETY: a live response, freed once below.
    let r = unsafe { &*response };
    let plaintext = copy_out(r.plaintext, r.plaintext_len);
    unsafe { kms_decrypt_response_free(response) };
    (status, plaintext)
}

fn blank_error() -> kms_error {
    let mut raw = std::mem::MaybeUninit::<kms_error>::uninit();
    // SAFETY: kms_error holds only integers: any bytes are a valid value.
    unsafe {
        std::ptr::write_bytes(raw.as_mut_ptr().cast::<u8>(), 0xA5, size_of::<kms_error>());
        raw.assume_init()
    }
}

fn message(error: &kms_error) -> String {
    let bytes: Vec<u8> = error
        .message
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

// ---------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------

/// A key of the fixture (index into SPECS), an algorithm of its family and a
/// padding the algorithm takes (None for GCM).
fn key_mode_padding() -> impl Strategy<Value = (usize, Algorithm, Option<PaddingMode>)> {
    (
        0..SPECS.len(),
        prop::sample::select(Mode::ALL.to_vec()),
        any::<bool>(),
    )
        .prop_map(|(k, mode, pkcs7)| {
            let algorithm = Algorithm::of(SPECS[k].1, mode);
            let padding = match (mode, pkcs7) {
                (Mode::Gcm, _) => None,
                (_, true) => Some(PaddingMode::Pkcs7),
                (_, false) => Some(PaddingMode::NoPadding),
            };
            (k, algorithm, padding)
        })
}

/// A plaintext of 0 to `max` bytes; a multiple of 16 for NO_PADDING.
fn plaintext_for(padding: Option<PaddingMode>, max: usize) -> BoxedStrategy<Vec<u8>> {
    match padding {
        Some(PaddingMode::NoPadding) => (0..=max / 16)
            .prop_flat_map(|blocks| prop::collection::vec(any::<u8>(), blocks * 16))
            .boxed(),
        _ => prop::collection::vec(any::<u8>(), 0..=max).boxed(),
    }
}

fn aad_for(algorithm: Algorithm) -> BoxedStrategy<Vec<u8>> {
    if algorithm.mode() == Mode::Gcm {
        prop::collection::vec(any::<u8>(), 0..64).boxed()
    } else {
        Just(Vec::new()).boxed()
    }
}

fn case() -> impl Strategy<Value = (usize, Algorithm, Option<PaddingMode>, Vec<u8>, Vec<u8>)> {
    case_up_to(4096)
}

fn case_up_to(
    max: usize,
) -> impl Strategy<Value = (usize, Algorithm, Option<PaddingMode>, Vec<u8>, Vec<u8>)> {
    key_mode_padding().prop_flat_map(move |(k, algorithm, padding)| {
        (
            Just(k),
            Just(algorithm),
            Just(padding),
            plaintext_for(padding, max),
            aad_for(algorithm),
        )
    })
}

/// `default` cases, or as many as `PROPTEST_CASES` asks for
/// (`ProptestConfig::with_cases` alone would override the variable).
fn cases(default: u32) -> ProptestConfig {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default()
    } else {
        ProptestConfig::with_cases(default)
    }
}

// ---------------------------------------------------------------------------------
// decrypt(encrypt(x)) = x
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(96))]

    /// kms_advance_encrypt then kms_advance_decrypt from the blob alone, and
    /// kms_encrypt then kms_decrypt (and kms_advance_decrypt) with what the caller
    /// kept.
    #[test]
    fn decrypt_inverts_encrypt((k, algorithm, padding, plaintext, aad) in case()) {
        let key = &fixture().keys[k];
        let sealed = encrypt(true, key, algorithm, padding, &aad, &plaintext);
        let (status, opened) = decrypt(true, None, &sealed.blob, &aad);
        prop_assert_eq!(status, kms_status::Ok);
        prop_assert_eq!(&opened, &plaintext);

        let sealed = encrypt(false, key, algorithm, padding, &aad, &plaintext);
        let kept = Some((key.as_c_str(), algorithm, padding, sealed.iv.as_slice()));
        for advance in [false, true] {
            let (status, opened) = decrypt(advance, kept, &sealed.blob, &aad);
            prop_assert_eq!(status, kms_status::Ok);
            prop_assert_eq!(&opened, &plaintext);
        }
    }
}

// ---------------------------------------------------------------------------------
// parse(write(blob)) = blob
// ---------------------------------------------------------------------------------

fn printable_version_id() -> impl Strategy<Value = String> {
    prop::collection::vec(0x20u8..=0x7e, 36).prop_map(|b| String::from_utf8(b).unwrap())
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn parse_reads_what_write_wrote(
        (_, algorithm, padding) in key_mode_padding(),
        version_id in printable_version_id(),
        plaintext_len in 0usize..300,
        fill in any::<u8>(),
        iv_seed in any::<u8>(),
    ) {
        let plaintext_len = match padding {
            Some(PaddingMode::NoPadding) => plaintext_len / 16 * 16,
            _ => plaintext_len,
        };
        let iv: Vec<u8> = (0..algorithm.iv_len() as u8).map(|i| i ^ iv_seed).collect();
        let mode = CipherMode::new(algorithm.mode(), &iv, b"", padding).unwrap();
        let body_len = mode.ciphertext_len(plaintext_len);
        let mut blob = vec![fill; blob_len(&mode, plaintext_len)];
        let start = write_blob_header(&mut blob, algorithm, &mode, &version_id).unwrap();
        prop_assert_eq!(blob.len() - start, body_len);

        let parsed = parse_blob(&blob).unwrap();
        prop_assert_eq!(parsed.algorithm, algorithm);
        prop_assert_eq!(parsed.padding, padding);
        prop_assert_eq!(parsed.key_version_id, version_id.as_str());
        prop_assert_eq!(parsed.iv, iv.as_slice());
        prop_assert_eq!(parsed.ciphertext.len(), body_len);
        prop_assert!(parsed.ciphertext.iter().all(|&b| b == fill));

        // The gateway form is the GCM blob without its first three bytes.
        if algorithm.mode() == Mode::Gcm {
            let gateway = parse_gateway_blob(&blob[3..]).unwrap();
            prop_assert_eq!(gateway.key_version_id, version_id.as_str());
            prop_assert_eq!(gateway.iv, iv.as_slice());
            prop_assert_eq!(gateway.ciphertext, parsed.ciphertext);
        }
    }
}

// ---------------------------------------------------------------------------------
// Every bit flip and every truncation is refused
// ---------------------------------------------------------------------------------

const REFUSED: [kms_status; 2] = [kms_status::InvalidCiphertext, kms_status::KeyNotFound];

/// Decrypts every one-bit change and every truncation of `blob` (`with_key`: as
/// kms_encrypt output). GCM authenticates everything but the header, which names
/// another version or a malformed blob when changed: each must be refused with
/// InvalidCiphertext or KeyNotFound. CBC and ECB authenticate nothing, so a change
/// of their ciphertext or IV may decrypt, but never to the original plaintext,
/// and every failure is one of the same two statuses.
fn check_damage(
    with_key: Option<(&CStr, Algorithm, Option<PaddingMode>, &[u8])>,
    algorithm: Algorithm,
    blob: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(), TestCaseError> {
    let authenticated = algorithm.mode() == Mode::Gcm;
    let advance_only = with_key.is_none();
    let mut damaged = blob.to_vec();
    let check = |candidate: &[u8], what: &str| -> Result<(), TestCaseError> {
        for advance in [true, false] {
            if !advance && advance_only {
                continue;
            }
            let (status, opened) = decrypt(advance, with_key, candidate, aad);
            if status == kms_status::Ok {
                prop_assert!(
                    !authenticated,
                    "{what} of a {} blob decrypted",
                    algorithm.name()
                );
                // (Without ciphertext, as NO_PADDING makes of an empty plaintext,
                // a CBC IV changes nothing.)
                prop_assert!(
                    plaintext.is_empty() || opened != plaintext,
                    "{what} decrypted to the original"
                );
            } else if candidate.is_empty() && with_key.is_none() {
                // No blob at all and nothing else: the CiphertextBlob is missing.
                prop_assert_eq!(status, kms_status::MissingParameter, "{}", what);
            } else {
                prop_assert!(REFUSED.contains(&status), "{what}: {status:?}");
            }
        }
        Ok(())
    };
    for bit in 0..blob.len() * 8 {
        damaged[bit / 8] ^= 1 << (bit % 8);
        check(&damaged, &format!("bit {bit} flipped"))?;
        damaged[bit / 8] ^= 1 << (bit % 8);
    }
    for len in 0..blob.len() {
        check(&blob[..len], &format!("truncated to {len}"))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn damaged_blobs_are_refused((k, algorithm, padding, plaintext, aad) in case_up_to(40)) {
        let key = &fixture().keys[k];
        let sealed = encrypt(true, key, algorithm, padding, &aad, &plaintext);
        check_damage(None, algorithm, &sealed.blob, &aad, &plaintext)?;
        if algorithm.mode() == Mode::Gcm {
            // The gateway form: the same blob without its first three bytes.
            check_damage(None, algorithm, &sealed.blob[3..], &aad, &plaintext)?;
        }
        let sealed = encrypt(false, key, algorithm, padding, &aad, &plaintext);
        let kept = Some((key.as_c_str(), algorithm, padding, sealed.iv.as_slice()));
        check_damage(kept, algorithm, &sealed.blob, &aad, &plaintext)?;
    }
}
