//! SM4 through the public API (issue 9): Aliyun_SM4 keys with known material
//! imported as EXTERNAL keys, checked against published known answers and an
//! independent composition of the block cipher.
//!
//! - GB/T 32907-2016, appendix A, example 1: the SM4 block cipher (SM4_ECB,
//!   NO_PADDING, one block).
//! - RFC 8998, appendix A.1: SM4-GCM (12-byte IV, Aad, 16-byte tag).
//! - SM4_CBC and SM4_ECB with both paddings against the `sm4` block cipher chained
//!   by hand here, and SM4_GCM round trips of every length 0..=64.

mod common;

use localkms::service::{CreateKeyRequest, DecryptRequest, EncryptRequest};
use localkms::{Client, ErrorKind};
use sm4::cipher::{Array, BlockCipherEncrypt, KeyInit};

use common::hex::unhex;

/// An Aliyun_SM4 key with `material`, permitting `algorithms`.
fn sm4_key(client: &Client, material: &[u8], algorithms: Option<&str>) -> String {
    let key_id = client
        .create_key(&CreateKeyRequest {
            key_spec: Some("Aliyun_SM4"),
            origin: Some("EXTERNAL"),
            algorithms,
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    client.import_key_material(&key_id, material, 0).unwrap();
    key_id
}

fn encrypt(
    client: &Client,
    key_id: &str,
    plaintext: &[u8],
    algorithm: &str,
    iv: &[u8],
    aad: &[u8],
    padding: Option<&str>,
) -> Vec<u8> {
    let out = client
        .encrypt(&EncryptRequest {
            key_id,
            plaintext,
            algorithm: Some(algorithm),
            iv,
            aad,
            padding_mode: padding,
        })
        .unwrap();
    assert_eq!(out.algorithm.name(), algorithm);
    out.ciphertext_blob
}

fn decrypt(
    client: &Client,
    key_id: &str,
    ciphertext: &[u8],
    algorithm: &str,
    iv: &[u8],
    aad: &[u8],
    padding: Option<&str>,
) -> Vec<u8> {
    client
        .decrypt(&DecryptRequest {
            ciphertext_blob: ciphertext,
            key_id: Some(key_id),
            algorithm: Some(algorithm),
            iv,
            aad,
            padding_mode: padding,
        })
        .unwrap()
        .plaintext
        .to_vec()
}

#[test]
fn gb_t_32907_block_cipher_example() {
    let client = Client::in_memory();
    let key = unhex("0123456789abcdeffedcba9876543210");
    let key_id = sm4_key(&client, &key, Some("SM4_ECB"));
    let ct = encrypt(
        &client,
        &key_id,
        &key,
        "SM4_ECB",
        b"",
        b"",
        Some("NO_PADDING"),
    );
    assert_eq!(ct, unhex("681edf34d206965e86b3e94f536e4246"));
    assert_eq!(
        decrypt(
            &client,
            &key_id,
            &ct,
            "SM4_ECB",
            b"",
            b"",
            Some("NO_PADDING")
        ),
        key
    );
}

#[test]
fn rfc_8998_sm4_gcm_example() {
    let client = Client::in_memory();
    let key = unhex("0123456789ABCDEFFEDCBA9876543210");
    let iv = unhex("00001234567800000000ABCD");
    let aad = unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
    let plaintext = unhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
         EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFF EEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    );
    let expected_ct = unhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D 5FD46FD3756489069157B282BB200735
         D82710CA5C22F0CCFA7CBF93D496AC15 A56834CBCF98C397B4024A2691233B8D",
    );
    let expected_tag = unhex("83DE3541E4C2B58177E065A9BF7B62EC");
    // Created without algorithms: an SM4 key's default, and only, algorithm is SM4_GCM.
    let key_id = sm4_key(&client, &key, None);
    let sealed = encrypt(&client, &key_id, &plaintext, "SM4_GCM", &iv, &aad, None);
    assert_eq!(&sealed[..sealed.len() - 16], &expected_ct[..]);
    assert_eq!(&sealed[sealed.len() - 16..], &expected_tag[..]);
    assert_eq!(
        decrypt(&client, &key_id, &sealed, "SM4_GCM", &iv, &aad, None),
        plaintext
    );

    // The default algorithm of an SM4 key is SM4_GCM, and its blob says so (4).
    let out = client
        .advance_encrypt(&EncryptRequest {
            key_id: &key_id,
            plaintext: &plaintext,
            iv: &iv,
            aad: &aad,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.algorithm.name(), "SM4_GCM");
    let blob = &out.ciphertext_blob;
    assert_eq!(&blob[..3], &[b'$', 0x00, 4]);
    assert_eq!(&blob[39..51], &iv[..]);
    assert_eq!(&blob[51..], &sealed[..]);
    let opened = client
        .advance_decrypt(&DecryptRequest {
            ciphertext_blob: blob,
            aad: &aad,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(&opened.plaintext[..], &plaintext[..]);
    // The gateway form of an SM4 key is SM4_GCM too.
    let opened = client
        .advance_decrypt(&DecryptRequest {
            ciphertext_blob: &blob[3..],
            aad: &aad,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(opened.algorithm.name(), "SM4_GCM");
    // A flipped tag bit is refused.
    let mut bad = sealed.clone();
    *bad.last_mut().unwrap() ^= 1;
    let e = client
        .decrypt(&DecryptRequest {
            ciphertext_blob: &bad,
            key_id: Some(&key_id),
            algorithm: Some("SM4_GCM"),
            iv: &iv,
            aad: &aad,
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidCiphertext);
    // AES algorithms are not an SM4 key's.
    let e = client
        .encrypt(&EncryptRequest {
            key_id: &key_id,
            plaintext: b"x",
            algorithm: Some("AES_GCM"),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnsupportedOperation);
}

/// SM4 in CBC or ECB, chained and padded here from the bare block cipher.
fn by_hand(key: &[u8], iv: Option<&[u8]>, plaintext: &[u8], pkcs7: bool) -> Vec<u8> {
    let cipher = sm4::Sm4::new_from_slice(key).unwrap();
    let mut data = plaintext.to_vec();
    if pkcs7 {
        let pad = 16 - data.len() % 16;
        data.extend(std::iter::repeat_n(pad as u8, pad));
    }
    let mut previous: [u8; 16] = iv.map_or([0; 16], |iv| iv.try_into().unwrap());
    let mut out = Vec::new();
    for chunk in data.chunks(16) {
        let mut block = [0u8; 16];
        block.copy_from_slice(chunk);
        if iv.is_some() {
            for (b, p) in block.iter_mut().zip(previous) {
                *b ^= p;
            }
        }
        let mut ga = Array::from(block);
        cipher.encrypt_block(&mut ga);
        previous = ga.into();
        out.extend_from_slice(&previous);
    }
    out
}

#[test]
fn sm4_cbc_and_ecb_match_the_block_cipher_chained_by_hand() {
    let client = Client::in_memory();
    let key = unhex("00112233445566778899aabbccddeeff");
    let iv = unhex("0f0e0d0c0b0a09080706050403020100");
    let key_id = sm4_key(&client, &key, Some("SM4_GCM,SM4_CBC,SM4_ECB"));
    for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 100] {
        let plaintext: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x3c).collect();
        for (algorithm, iv) in [("SM4_CBC", Some(&iv[..])), ("SM4_ECB", None)] {
            for padding in ["PKCS7_PADDING", "NO_PADDING"] {
                let pkcs7 = padding == "PKCS7_PADDING";
                if !pkcs7 && len % 16 != 0 {
                    continue;
                }
                let ct = encrypt(
                    &client,
                    &key_id,
                    &plaintext,
                    algorithm,
                    iv.unwrap_or(b""),
                    b"",
                    Some(padding),
                );
                assert_eq!(
                    ct,
                    by_hand(&key, iv, &plaintext, pkcs7),
                    "{algorithm} {padding} {len}"
                );
                let pt = decrypt(
                    &client,
                    &key_id,
                    &ct,
                    algorithm,
                    iv.unwrap_or(b""),
                    b"",
                    Some(padding),
                );
                assert_eq!(pt, plaintext, "{algorithm} {padding} {len}");
            }
        }
    }
}

#[test]
fn sm4_keys_are_made_rotated_and_round_trip_every_length() {
    let client = Client::in_memory();
    let key_id = client
        .create_key(&CreateKeyRequest {
            key_spec: Some("Aliyun_SM4"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    let doc: serde_json::Value =
        serde_json::from_str(&client.describe_key(&key_id).unwrap().to_json()).unwrap();
    assert_eq!(doc["KeyMetadata"]["KeySpec"], "Aliyun_SM4");
    assert_eq!(
        doc["KeyMetadata"]["Algorithms"],
        serde_json::json!(["SM4_GCM"])
    );
    let mut blobs = Vec::new();
    for round in 0..3 {
        for len in 0..=64usize {
            let pt = vec![round as u8 ^ len as u8; len];
            let out = client
                .advance_encrypt(&EncryptRequest {
                    key_id: &key_id,
                    plaintext: &pt,
                    aad: b"sm4",
                    ..Default::default()
                })
                .unwrap();
            blobs.push((out.ciphertext_blob, pt));
        }
        client.rotate_key(&key_id).unwrap();
    }
    for (blob, pt) in blobs {
        let opened = client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &blob,
                aad: b"sm4",
                ..Default::default()
            })
            .unwrap();
        assert_eq!(&opened.plaintext[..], &pt[..]);
    }
    // Data keys of an SM4 key are sealed with SM4_GCM.
    let data_key = client
        .advance_generate_data_key(&localkms::service::DataKeyRequest {
            key_id: &key_id,
            aad: b"dk",
            ..Default::default()
        })
        .unwrap();
    assert_eq!(data_key.algorithm.name(), "SM4_GCM");
    assert_eq!(data_key.ciphertext_blob[2], 4);
    let opened = client
        .advance_decrypt(&DecryptRequest {
            ciphertext_blob: &data_key.ciphertext_blob,
            aad: b"dk",
            ..Default::default()
        })
        .unwrap();
    assert_eq!(&opened.plaintext[..], &data_key.plaintext[..]);
    let bare = client
        .generate_data_key(&localkms::service::DataKeyRequest {
            key_id: &key_id,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(bare.algorithm.name(), "SM4_GCM");

    // 16 bytes of material, nothing else.
    let external = client
        .create_key(&CreateKeyRequest {
            key_spec: Some("Aliyun_SM4"),
            origin: Some("EXTERNAL"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    let e = client
        .import_key_material(&external, &[0; 32], 0)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidKeyMaterial);
    client.import_key_material(&external, &[1; 16], 0).unwrap();
}
