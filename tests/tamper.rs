//! Tampered AdvanceEncrypt blobs: every single-bit flip, every truncation, trailing
//! bytes and wrong Aad. AES_GCM blobs must never open once changed; AES_CBC and
//! AES_ECB blobs are unauthenticated, so there the only promises are "no panic" and
//! "every failure is InvalidCiphertext (or KeyNotFound for a changed KeyVersionId)".

use std::panic::{catch_unwind, AssertUnwindSafe};

use localkms::service::{CreateKeyRequest, DecryptRequest, DecryptResponse, EncryptRequest};
use localkms::{Client, Error, ErrorKind};

const LENGTHS: [usize; 7] = [0, 1, 4, 15, 16, 17, 100];
const AAD: &[u8] = b"order=1234&tenant=acme";
/// The KeyVersionId's bytes in the blob (docs/c-api.md §3).
const VERSION_BYTES: std::ops::Range<usize> = 3..39;
/// The algorithm byte.
const ALGORITHM_BYTE: usize = 2;

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

/// The form of a KeyVersionId in a blob (docs/c-api.md §3), checked here without the
/// crate's helpers.
fn is_well_formed_version_id(bytes: &[u8]) -> bool {
    // Any 36 bytes of printable ASCII may name a version (the cloud's KeyVersionIds
    // come in other shapes than the library's).
    bytes.len() == 36 && bytes.iter().all(|b| (0x20..=0x7e).contains(b))
}

/// Runs advance_decrypt, turning a panic into a test failure that says which input
/// caused it.
fn open(
    client: &Client,
    blob: &[u8],
    aad: &[u8],
    pin: Option<&str>,
    what: &str,
) -> Result<DecryptResponse, Error> {
    catch_unwind(AssertUnwindSafe(|| {
        client.advance_decrypt(&DecryptRequest {
            ciphertext_blob: blob,
            aad,
            algorithm: pin,
            ..Default::default()
        })
    }))
    .unwrap_or_else(|_| panic!("advance_decrypt panicked on {what}"))
}

fn flipped(blob: &[u8], bit: usize) -> Vec<u8> {
    let mut b = blob.to_vec();
    b[bit / 8] ^= 1 << (bit % 8);
    b
}

/// The kind a changed KeyVersionId must give: KeyNotFound when it is still a
/// well-formed ID (of a version nobody holds), InvalidCiphertext otherwise.
fn expected_for_version_change(blob: &[u8]) -> ErrorKind {
    if is_well_formed_version_id(&blob[VERSION_BYTES]) {
        ErrorKind::KeyNotFound
    } else {
        ErrorKind::InvalidCiphertext
    }
}

fn setup() -> (Client, String) {
    let client = Client::in_memory();
    let key_id = client.create_key(&all_modes()).unwrap().value.key_id;
    // A second key (and a second version of the first) so that stores hold more than
    // the one version named in the blobs.
    client.create_key(&all_modes()).unwrap();
    client.rotate_key(&key_id).unwrap();
    (client, key_id)
}

fn gcm_blob(client: &Client, key_id: &str, pt: &[u8], aad: &[u8]) -> Vec<u8> {
    client
        .advance_encrypt(&EncryptRequest {
            key_id,
            plaintext: pt,
            aad,
            ..Default::default()
        })
        .unwrap()
        .ciphertext_blob
}

#[test]
fn gcm_every_bit_flip_fails_when_the_algorithm_is_pinned() {
    let (client, key_id) = setup();
    let mut checked = 0;
    for len in LENGTHS {
        let pt = plaintext(len);
        for aad in [&b""[..], AAD] {
            let blob = gcm_blob(&client, &key_id, &pt, aad);
            assert_eq!(blob.len(), 39 + 12 + len + 16);
            let ok = open(&client, &blob, aad, Some("AES_GCM"), "the untouched blob").unwrap();
            assert_eq!(&ok.plaintext[..], &pt[..]);

            for bit in 0..blob.len() * 8 {
                let bad = flipped(&blob, bit);
                let what = format!("len {len}, aad {}, bit {bit} (pinned)", aad.len());
                let err = match open(&client, &bad, aad, Some("AES_GCM"), &what) {
                    Ok(r) => panic!("{what}: a flipped GCM blob opened to {:?}", r.plaintext),
                    Err(e) => e,
                };
                let expected = if VERSION_BYTES.contains(&(bit / 8)) {
                    expected_for_version_change(&bad)
                } else {
                    ErrorKind::InvalidCiphertext
                };
                assert_eq!(err.kind(), expected, "{what}: {err:?}");
                checked += 1;
            }
        }
    }
    let total_bits: usize = LENGTHS.iter().map(|l| (67 + l) * 8).sum::<usize>() * 2;
    assert_eq!(checked, total_bits);
}

#[test]
fn gcm_every_bit_flip_fails_unpinned_except_the_unauthenticated_algorithm_byte() {
    let (client, key_id) = setup();
    let mut algorithm_flips_that_opened = 0;
    for len in LENGTHS {
        let pt = plaintext(len);
        for aad in [&b""[..], AAD] {
            let blob = gcm_blob(&client, &key_id, &pt, aad);
            for bit in 0..blob.len() * 8 {
                let bad = flipped(&blob, bit);
                let byte = bit / 8;
                let what = format!("len {len}, aad {}, bit {bit} (unpinned)", aad.len());
                let result = open(&client, &bad, aad, None, &what);
                if byte == ALGORITHM_BYTE && bad[ALGORITHM_BYTE] == 3 {
                    // 2 → 3 makes the blob an AES_ECB NO_PADDING blob; the header is not
                    // authenticated (docs/c-api.md §3). It parses only when IV + ciphertext +
                    // tag fill whole blocks, and then "decrypts" to garbage.
                    let parses = (len + 12 + 16) % 16 == 0;
                    match result {
                        Ok(r) => {
                            assert!(parses, "{what}: opened although it cannot parse");
                            assert!(aad.is_empty(), "{what}: opened although Aad was given");
                            assert_ne!(&r.plaintext[..], &pt[..], "{what}");
                            assert_eq!(r.algorithm.name(), "AES_ECB");
                            algorithm_flips_that_opened += 1;
                        }
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::InvalidCiphertext, "{what}: {e:?}");
                            assert!(
                                !parses || !aad.is_empty(),
                                "{what}: expected the ECB reading to succeed"
                            );
                        }
                    }
                    continue;
                }
                let err = match result {
                    Ok(r) => panic!("{what}: a flipped GCM blob opened to {:?}", r.plaintext),
                    Err(e) => e,
                };
                let expected = if VERSION_BYTES.contains(&byte) {
                    expected_for_version_change(&bad)
                } else {
                    ErrorKind::InvalidCiphertext
                };
                assert_eq!(err.kind(), expected, "{what}: {err:?}");
            }
        }
    }
    // Lengths 4 and 100 give whole blocks (32 and 128 bytes) without Aad.
    assert_eq!(algorithm_flips_that_opened, 2);
}

#[test]
fn gcm_truncations_trailing_bytes_and_wrong_aad_fail() {
    let (client, key_id) = setup();
    for len in LENGTHS {
        let pt = plaintext(len);
        for aad in [&b""[..], AAD] {
            let blob = gcm_blob(&client, &key_id, &pt, aad);
            for pin in [None, Some("AES_GCM")] {
                // An empty CiphertextBlob is a missing required parameter, not a
                // ciphertext at all.
                let err = open(&client, &[], aad, pin, "an empty blob").unwrap_err();
                assert_eq!(err.kind(), ErrorKind::MissingParameter, "{err:?}");
                for cut in 1..blob.len() {
                    let what = format!("len {len}, aad {}, cut to {cut}, pin {pin:?}", aad.len());
                    let err = open(&client, &blob[..cut], aad, pin, &what).unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::InvalidCiphertext, "{what}: {err:?}");
                }
                for extra in [&[0u8][..], &[0u8; 16], &[0xffu8; 3], &blob[..]] {
                    let mut longer = blob.clone();
                    longer.extend_from_slice(extra);
                    let what = format!("len {len}, {} trailing bytes", extra.len());
                    let err = open(&client, &longer, aad, pin, &what).unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::InvalidCiphertext, "{what}: {err:?}");
                }
                // Wrong Aad: another value, one byte more or less, or none at all.
                let mut wrong_aads: Vec<Vec<u8>> =
                    vec![b"another context".to_vec(), [aad, b"x"].concat()];
                if aad.is_empty() {
                    wrong_aads.push(vec![0u8]);
                } else {
                    wrong_aads.push(Vec::new());
                    wrong_aads.push(aad[..aad.len() - 1].to_vec());
                    let mut flipped_aad = aad.to_vec();
                    flipped_aad[0] ^= 1;
                    wrong_aads.push(flipped_aad);
                }
                for wrong in &wrong_aads {
                    let what = format!("len {len}, Aad {wrong:?} instead of {aad:?}");
                    let err = open(&client, &blob, wrong, pin, &what).unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::InvalidCiphertext, "{what}: {err:?}");
                }
                let ok = open(&client, &blob, aad, pin, "the untouched blob").unwrap();
                assert_eq!(&ok.plaintext[..], &pt[..]);
            }
        }
    }
}

#[test]
fn pins_refuse_blobs_of_another_algorithm_and_aad_for_non_gcm() {
    let (client, key_id) = setup();
    let make = |algorithm: &str, padding: Option<&str>| {
        client
            .advance_encrypt(&EncryptRequest {
                key_id: &key_id,
                plaintext: &[9u8; 32],
                algorithm: Some(algorithm),
                padding_mode: padding,
                ..Default::default()
            })
            .unwrap()
            .ciphertext_blob
    };
    let gcm = make("AES_GCM", None);
    let cbc = make("AES_CBC", Some("PKCS7_PADDING"));
    let ecb = make("AES_ECB", Some("NO_PADDING"));
    for (made, blob) in [("AES_GCM", &gcm), ("AES_CBC", &cbc), ("AES_ECB", &ecb)] {
        for pin in ["AES_GCM", "AES_CBC", "AES_ECB"] {
            let r = open(&client, blob, b"", Some(pin), "a pinned blob");
            if pin == made {
                assert_eq!(&r.unwrap().plaintext[..], &[9u8; 32]);
            } else {
                assert_eq!(
                    r.unwrap_err().kind(),
                    ErrorKind::InvalidCiphertext,
                    "{made} blob pinned as {pin}"
                );
            }
        }
        if made != "AES_GCM" {
            let err = open(&client, blob, AAD, None, "Aad with a block-mode blob").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidCiphertext, "{made}: {err:?}");
        }
    }
    // The ECB blob with its algorithm byte changed to GCM's fails the tag.
    let mut as_gcm = ecb.clone();
    as_gcm[ALGORITHM_BYTE] = 2;
    let err = open(&client, &as_gcm, b"", None, "ECB relabelled GCM").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCiphertext);
    // An unknown pin is a bad parameter, not a bad ciphertext.
    let err = open(&client, &gcm, b"", Some("AES_CTR"), "unknown pin").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
}

/// CBC and ECB are not authenticated: a flipped ciphertext bit may well decrypt (to
/// garbage), and a flipped padding nibble can turn PKCS7 into NO_PADDING. The test
/// only requires that nothing panics, that every failure is InvalidCiphertext (or
/// KeyNotFound for a changed, still well-formed KeyVersionId), and that whatever
/// opens names the version that made the blob.
#[test]
fn block_mode_blobs_never_panic_and_fail_only_as_invalid_ciphertext() {
    let (client, key_id) = setup();
    let mut opened = 0;
    let mut failed = 0;
    for (algorithm, padding) in [
        ("AES_CBC", "PKCS7_PADDING"),
        ("AES_CBC", "NO_PADDING"),
        ("AES_ECB", "PKCS7_PADDING"),
        ("AES_ECB", "NO_PADDING"),
    ] {
        for len in [0usize, 16, 17, 48] {
            if padding == "NO_PADDING" && len % 16 != 0 {
                continue;
            }
            let pt = plaintext(len);
            let resp = client
                .advance_encrypt(&EncryptRequest {
                    key_id: &key_id,
                    plaintext: &pt,
                    algorithm: Some(algorithm),
                    padding_mode: Some(padding),
                    ..Default::default()
                })
                .unwrap();
            let blob = resp.ciphertext_blob;
            let version = resp.key_version_id;
            let mut check = |bad: &[u8], what: &str| match open(&client, bad, b"", None, what) {
                Ok(r) => {
                    assert_eq!(r.key_version_id, version, "{what}");
                    opened += 1;
                }
                Err(e) => {
                    assert!(
                        matches!(
                            e.kind(),
                            ErrorKind::InvalidCiphertext | ErrorKind::KeyNotFound
                        ),
                        "{what}: {e:?}"
                    );
                    if e.kind() == ErrorKind::KeyNotFound {
                        assert!(is_well_formed_version_id(&bad[VERSION_BYTES]), "{what}");
                    }
                    failed += 1;
                }
            };
            for bit in 0..blob.len() * 8 {
                check(
                    &flipped(&blob, bit),
                    &format!("{algorithm} {padding} len {len} bit {bit}"),
                );
            }
            for cut in 1..blob.len() {
                check(
                    &blob[..cut],
                    &format!("{algorithm} {padding} len {len} cut {cut}"),
                );
            }
            for extra in [1usize, 15, 16] {
                let mut longer = blob.clone();
                longer.extend(std::iter::repeat_n(0xab, extra));
                check(
                    &longer,
                    &format!("{algorithm} {padding} len {len} +{extra}"),
                );
            }
            let err = open(&client, &[], b"", None, "an empty blob").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MissingParameter);
            // The untouched blob still opens to its plaintext.
            let r = open(&client, &blob, b"", None, "untouched").unwrap();
            assert_eq!(&r.plaintext[..], &pt[..]);
        }
    }
    // Both outcomes occur: garbage for unauthenticated modes, failures for the rest.
    assert!(opened > 0 && failed > 0, "opened {opened}, failed {failed}");
}

#[test]
fn a_blob_of_an_unknown_version_is_key_not_found() {
    let (client, key_id) = setup();
    let blob = gcm_blob(&client, &key_id, b"hello", b"");
    // Another well-formed but unknown version of the same key.
    let mut other = blob.clone();
    let last = VERSION_BYTES.end - 1;
    other[last] = if other[last] == b'a' { b'b' } else { b'a' };
    let err = open(&client, &other, b"", None, "unknown version").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyNotFound);
    assert_eq!(err.http_status(), 404);
    // A fresh key in another store does not hold the version either.
    let stranger = Client::in_memory();
    stranger.create_key(&all_modes()).expect("create key");
    let err = open(&stranger, &blob, b"", None, "another store").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyNotFound);
}

/// A key that permits every mode, as keys of stores from before GCM-only
/// defaults do: the tamper cases below are about what such a key lets through.
fn all_modes() -> CreateKeyRequest<'static> {
    CreateKeyRequest {
        algorithms: Some("AES_GCM,AES_CBC,AES_ECB"),
        ..Default::default()
    }
}
