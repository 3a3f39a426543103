//! An independent check of the AdvanceEncrypt blob (docs/c-api.md §3). The blob is taken
//! apart here from the documented layout alone (not with `localkms::crypto::blob`),
//! and its ciphertext is opened with the RustCrypto crates directly, under key
//! material the test imported itself. The reverse direction builds blobs by hand and
//! checks that AdvanceDecrypt opens them.

mod common;

use aes::cipher::block_padding::{NoPadding, Pkcs7};
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
use localkms::service::{DecryptRequest, EncryptRequest, EncryptResponse};
use localkms::{Client, ErrorKind};

use common::calls::external_key;
use common::independent_gcm;

/// Key material of each AES size, fixed so that the test knows it.
fn material(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(37) ^ 0xa5)
        .collect()
}

/// The blob, taken apart by the layout of docs/c-api.md §3.
#[derive(Debug)]
struct Parts<'a> {
    magic: u8,
    format_version: u8,
    padding: u8,
    algorithm: u8,
    key_version_id: &'a str,
    iv: &'a [u8],
    ciphertext: &'a [u8],
}

fn take_apart(blob: &[u8]) -> Parts<'_> {
    assert!(blob.len() >= 39, "blob shorter than its header");
    let algorithm = blob[2];
    let iv_len = match algorithm {
        2 => 12, // AES_GCM
        1 => 16, // AES_CBC
        3 => 0,  // AES_ECB
        other => panic!("unknown algorithm byte {other}"),
    };
    let key_version_id = std::str::from_utf8(&blob[3..39]).expect("KeyVersionId is ASCII");
    Parts {
        magic: blob[0],
        format_version: blob[1] >> 4,
        padding: blob[1] & 0x0f,
        algorithm,
        key_version_id,
        iv: &blob[39..39 + iv_len],
        ciphertext: &blob[39 + iv_len..],
    }
}

fn cbc_open(key: &[u8], iv: &[u8], ct: &[u8], pkcs7: bool) -> Vec<u8> {
    assert_eq!(key.len(), 32, "these tests use AES-256 for CBC");
    let mut buf = ct.to_vec();
    let dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv).unwrap();
    let len = if pkcs7 {
        dec.decrypt_padded::<Pkcs7>(&mut buf).unwrap().len()
    } else {
        dec.decrypt_padded::<NoPadding>(&mut buf).unwrap().len()
    };
    buf.truncate(len);
    buf
}

fn cbc_seal(key: &[u8], iv: &[u8], pt: &[u8], pkcs7: bool) -> Vec<u8> {
    let mut buf = pt.to_vec();
    buf.resize(pt.len() + 16, 0);
    let enc = cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv).unwrap();
    let len = if pkcs7 {
        enc.encrypt_padded::<Pkcs7>(&mut buf, pt.len())
            .unwrap()
            .len()
    } else {
        enc.encrypt_padded::<NoPadding>(&mut buf, pt.len())
            .unwrap()
            .len()
    };
    buf.truncate(len);
    buf
}

fn ecb_open(key: &[u8], ct: &[u8], pkcs7: bool) -> Vec<u8> {
    let mut buf = ct.to_vec();
    let dec = ecb::Decryptor::<aes::Aes256>::new_from_slice(key).unwrap();
    let len = if pkcs7 {
        dec.decrypt_padded::<Pkcs7>(&mut buf).unwrap().len()
    } else {
        dec.decrypt_padded::<NoPadding>(&mut buf).unwrap().len()
    };
    buf.truncate(len);
    buf
}

fn ecb_seal(key: &[u8], pt: &[u8], pkcs7: bool) -> Vec<u8> {
    let mut buf = pt.to_vec();
    buf.resize(pt.len() + 16, 0);
    let enc = ecb::Encryptor::<aes::Aes256>::new_from_slice(key).unwrap();
    let len = if pkcs7 {
        enc.encrypt_padded::<Pkcs7>(&mut buf, pt.len())
            .unwrap()
            .len()
    } else {
        enc.encrypt_padded::<NoPadding>(&mut buf, pt.len())
            .unwrap()
            .len()
    };
    buf.truncate(len);
    buf
}

fn advance_encrypt(
    client: &Client,
    key_id: &str,
    plaintext: &[u8],
    algorithm: &str,
    aad: &[u8],
    padding: Option<&str>,
) -> EncryptResponse {
    client
        .advance_encrypt(&EncryptRequest {
            key_id,
            plaintext,
            algorithm: Some(algorithm),
            iv: b"",
            aad,
            padding_mode: padding,
        })
        .unwrap_or_else(|e| panic!("advance_encrypt {algorithm} {padding:?}: {e:?}"))
}

fn check_common_header(parts: &Parts<'_>, resp: &EncryptResponse, key_id: &str) {
    assert_eq!(parts.magic, b'$');
    assert_eq!(parts.format_version, 0);
    assert_eq!(parts.key_version_id, resp.key_version_id);
    assert_eq!(parts.key_version_id.len(), 36);
    assert!(parts.key_version_id.starts_with(key_id));
    assert_eq!(parts.key_version_id.as_bytes()[25], b'-');
    assert_eq!(parts.iv, &resp.iv[..]);
    assert_eq!(resp.key_id, key_id);
}

#[test]
fn gcm_blob_opens_with_an_independent_aes_gcm() {
    let client = Client::in_memory();
    for (spec, len) in [
        ("Aliyun_AES_128", 16),
        ("Aliyun_AES_192", 24),
        ("Aliyun_AES_256", 32),
    ] {
        let key = material(len);
        let key_id = external_key(&client, spec, &key);
        for plaintext in [
            &b""[..],
            b"x",
            b"the quick brown fox jumps over the lazy dog",
        ] {
            for aad in [&b""[..], b"tenant=42&purpose=test"] {
                let resp = advance_encrypt(&client, &key_id, plaintext, "AES_GCM", aad, None);
                assert_eq!(resp.algorithm.name(), "AES_GCM");
                assert_eq!(resp.padding_mode, None);
                assert_eq!(resp.iv.len(), 12);
                let blob = &resp.ciphertext_blob;
                assert_eq!(blob.len(), 3 + 36 + 12 + plaintext.len() + 16);
                let parts = take_apart(blob);
                check_common_header(&parts, &resp, &key_id);
                assert_eq!(parts.padding, 0);
                assert_eq!(parts.algorithm, 2);
                assert_eq!(blob[1], 0x00);
                assert_eq!(
                    independent_gcm::open(&key, parts.iv, aad, parts.ciphertext),
                    plaintext,
                    "{spec} aad={aad:?}"
                );
                // The Aad is authenticated: the independent implementation agrees.
                let mut wrong_aad = aad.to_vec();
                wrong_aad.push(b'!');
                assert!(
                    independent_gcm::try_open(&key, parts.iv, &wrong_aad, parts.ciphertext)
                        .is_none()
                );
            }
        }
    }
}

#[test]
fn cbc_and_ecb_blobs_open_with_independent_block_modes() {
    let client = Client::in_memory();
    let key = material(32);
    let key_id = external_key(&client, "Aliyun_AES_256", &key);
    let unaligned = b"forty-one bytes of plaintext to be padded".to_vec();
    let aligned: Vec<u8> = (0u8..48).collect();

    for (algorithm, padding, padding_bits, algorithm_byte, iv_len) in [
        ("AES_CBC", "PKCS7_PADDING", 1, 1, 16),
        ("AES_CBC", "NO_PADDING", 0, 1, 16),
        ("AES_ECB", "PKCS7_PADDING", 1, 3, 0),
        ("AES_ECB", "NO_PADDING", 0, 3, 0),
    ] {
        let pkcs7 = padding == "PKCS7_PADDING";
        let mut plaintexts = vec![aligned.clone(), Vec::new()];
        if pkcs7 {
            plaintexts.push(unaligned.clone());
        }
        for plaintext in &plaintexts {
            let resp = advance_encrypt(&client, &key_id, plaintext, algorithm, b"", Some(padding));
            assert_eq!(resp.algorithm.name(), algorithm);
            assert_eq!(resp.padding_mode.map(|p| p.name()), Some(padding));
            assert_eq!(resp.iv.len(), iv_len);
            let parts = take_apart(&resp.ciphertext_blob);
            check_common_header(&parts, &resp, &key_id);
            assert_eq!(parts.padding, padding_bits, "{algorithm} {padding}");
            assert_eq!(parts.algorithm, algorithm_byte, "{algorithm} {padding}");
            let padded_len = if pkcs7 {
                (plaintext.len() / 16 + 1) * 16
            } else {
                plaintext.len()
            };
            assert_eq!(parts.ciphertext.len(), padded_len);
            let opened = if algorithm == "AES_CBC" {
                cbc_open(&key, parts.iv, parts.ciphertext, pkcs7)
            } else {
                ecb_open(&key, parts.ciphertext, pkcs7)
            };
            assert_eq!(&opened, plaintext, "{algorithm} {padding}");
        }
    }

    // ECB really is ECB: equal plaintext blocks give equal ciphertext blocks.
    let resp = advance_encrypt(
        &client,
        &key_id,
        &[7u8; 32],
        "AES_ECB",
        b"",
        Some("NO_PADDING"),
    );
    let parts = take_apart(&resp.ciphertext_blob);
    assert_eq!(parts.ciphertext[..16], parts.ciphertext[16..32]);
}

#[test]
fn encrypt_output_is_the_bare_ciphertext_of_the_independent_cipher() {
    let client = Client::in_memory();
    let key = material(32);
    let key_id = external_key(&client, "Aliyun_AES_256", &key);
    let iv = [0x11u8; 12];
    let resp = client
        .encrypt(&EncryptRequest {
            key_id: &key_id,
            plaintext: b"bare",
            iv: &iv,
            aad: b"ctx",
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        resp.ciphertext_blob,
        independent_gcm::seal(&key, &iv, b"ctx", b"bare")
    );
    let cbc_iv = [0x22u8; 16];
    let resp = client
        .encrypt(&EncryptRequest {
            key_id: &key_id,
            plaintext: b"bare cbc",
            algorithm: Some("AES_CBC"),
            iv: &cbc_iv,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        resp.ciphertext_blob,
        cbc_seal(&key, &cbc_iv, b"bare cbc", true)
    );
}

fn hand_blob(padding_byte: u8, algorithm_byte: u8, version: &str, iv: &[u8], ct: &[u8]) -> Vec<u8> {
    let mut blob = vec![b'$', padding_byte, algorithm_byte];
    blob.extend_from_slice(version.as_bytes());
    blob.extend_from_slice(iv);
    blob.extend_from_slice(ct);
    blob
}

fn initial_version(client: &Client, key_id: &str) -> String {
    let doc: serde_json::Value =
        serde_json::from_str(&client.list_key_versions(key_id).unwrap().to_json())
            .expect("ListKeyVersions is JSON");
    let versions = doc["KeyVersions"]["KeyVersion"].as_array().unwrap();
    assert_eq!(versions.len(), 1);
    versions[0]["KeyVersionId"].as_str().unwrap().to_owned()
}

#[test]
fn hand_built_blobs_open_with_advance_decrypt() {
    let client = Client::in_memory();
    let key = material(32);
    let key_id = external_key(&client, "Aliyun_AES_256", &key);
    let version = initial_version(&client, &key_id);
    assert!(version.starts_with(&key_id));

    // AES_GCM, with and without Aad.
    let iv = [0x5cu8; 12];
    for aad in [&b""[..], b"hand-made"] {
        let plaintext = b"made outside localkms";
        let blob = hand_blob(
            0x00,
            2,
            &version,
            &iv,
            &independent_gcm::seal(&key, &iv, aad, plaintext),
        );
        let opened = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &blob,
                aad,
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("hand-built GCM blob: {e:?}"));
        assert_eq!(&opened.plaintext[..], plaintext);
        assert_eq!(opened.key_id, key_id);
        assert_eq!(opened.key_version_id, version);
        assert_eq!(opened.algorithm.name(), "AES_GCM");
        assert_eq!(opened.padding_mode, None);
        // Pinning the algorithm it was made with changes nothing.
        let pinned = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &blob,
                aad,
                algorithm: Some("AES_GCM"),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(&pinned.plaintext[..], plaintext);
        // The same blob under another key's material does not open.
        let wrong = independent_gcm::seal(
            &material(32).iter().map(|b| !b).collect::<Vec<_>>(),
            &iv,
            aad,
            plaintext,
        );
        let blob = hand_blob(0x00, 2, &version, &iv, &wrong);
        let err = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &blob,
                aad,
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidCiphertext);
    }

    // AES_CBC and AES_ECB, both paddings.
    let cbc_iv = [0x3au8; 16];
    let aligned: Vec<u8> = (100u8..132).collect();
    let unaligned = b"twenty-three bytes long".to_vec();
    for (pkcs7, plaintext) in [(true, &unaligned), (true, &aligned), (false, &aligned)] {
        let padding_byte = u8::from(pkcs7);
        let padding_name = if pkcs7 { "PKCS7_PADDING" } else { "NO_PADDING" };
        let cbc = hand_blob(
            padding_byte,
            1,
            &version,
            &cbc_iv,
            &cbc_seal(&key, &cbc_iv, plaintext, pkcs7),
        );
        let ecb = hand_blob(
            padding_byte,
            3,
            &version,
            &[],
            &ecb_seal(&key, plaintext, pkcs7),
        );
        for (algorithm, blob) in [("AES_CBC", cbc), ("AES_ECB", ecb)] {
            let opened = client
                .advance_decrypt(&DecryptRequest {
                    ciphertext_blob: &blob,
                    ..Default::default()
                })
                .unwrap_or_else(|e| panic!("hand-built {algorithm} {padding_name}: {e:?}"));
            assert_eq!(&opened.plaintext[..], &plaintext[..], "{algorithm}");
            assert_eq!(opened.algorithm.name(), algorithm);
            assert_eq!(opened.padding_mode.map(|p| p.name()), Some(padding_name));
            assert_eq!(opened.key_version_id, version);
        }
    }
}
