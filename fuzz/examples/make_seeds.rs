//! Writes the committed seed corpora (`fuzz/seeds/<target>/`) from the fixture of
//! `localkms_fuzz` with fixed IVs, so that a rerun writes the same files:
//!
//! ```text
//! cd fuzz && cargo run --example make_seeds
//! ```
//!
//! Blobs are made through the C ABI, records through the store's own encoder; the
//! v1 payload (format version 2) and file through tests/common/v1_file.rs.

use std::path::{Path, PathBuf};
use std::ptr::null_mut;
use std::sync::Arc;

use localkms::crypto::CipherFamily;
use localkms::ffi::*;
use localkms::fuzzing::encode_key_record;
use localkms::keystore::{
    Key, KeySpec, KeyState, KeyUsage, KeyVersion, Material, Origin, PermittedModes,
};
use localkms_fuzz::{
    bytes_arg, fixture, DecryptInput, OptionalCString, ALGORITHM_CHOICES, KEYS, KEY_CHOICES,
    PADDING_CHOICES,
};
use zeroize::Zeroizing;

#[allow(dead_code)]
#[path = "../../tests/common/v1_file.rs"]
mod v1_file_writer;

fn choice<T: PartialEq>(table: &[T], value: T) -> u8 {
    u8::try_from(
        table
            .iter()
            .position(|v| *v == value)
            .expect("in the table"),
    )
    .unwrap()
}

struct Seeds {
    root: PathBuf,
    count: usize,
}

impl Seeds {
    fn write(&mut self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).expect("the seed folder is made");
        std::fs::write(dir.join(name), bytes).expect("the seed is written");
        self.count += 1;
    }
}

/// Encrypts with kms_advance_encrypt (advance) or kms_encrypt; `None` when the
/// combination is refused (NO_PADDING with an unaligned length).
fn encrypt(
    advance: bool,
    key_id: &str,
    algorithm: &str,
    padding: Option<&str>,
    iv: &[u8],
    aad: Option<&[u8]>,
    plaintext: &[u8],
) -> Option<Vec<u8>> {
    let key_id = OptionalCString::new(Some(key_id));
    let algorithm = OptionalCString::new(Some(algorithm));
    let padding = OptionalCString::new(padding);
    let (aad_ptr, aad_len) = bytes_arg(aad);
    let function = if advance {
        kms_advance_encrypt
    } else {
        kms_encrypt
    };
    let mut response = null_mut();
    // SAFETY: live client; every pointer is NULL or valid for its length.
    let status = unsafe {
        function(
            fixture().client(),
            key_id.ptr(),
            plaintext.as_ptr(),
            plaintext.len(),
            algorithm.ptr(),
            iv.as_ptr(),
            iv.len(),
            aad_ptr,
            aad_len,
            padding.ptr(),
            &mut response,
            null_mut(),
        )
    };
    if status != kms_status::Ok {
        return None;
    }
    // SAFETY: a successful call wrote a live response, freed once below.
    let blob = unsafe {
        let r = &*response;
        if r.ciphertext_blob_len == 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(r.ciphertext_blob, r.ciphertext_blob_len).to_vec()
        }
    };
    // SAFETY: freed once, by its own function.
    unsafe { kms_encrypt_response_free(response) };
    Some(blob)
}

fn decrypt_seeds(seeds: &mut Seeds) {
    for (k, key) in KEYS.iter().enumerate() {
        let family = if key.spec == "Aliyun_SM4" {
            "SM4"
        } else {
            "AES"
        };
        for mode in ["GCM", "CBC", "ECB"] {
            let algorithm = format!("{family}_{mode}");
            let iv: Vec<u8> = match mode {
                "GCM" => (0..12).collect(),
                "CBC" => (0..16).collect(),
                _ => Vec::new(),
            };
            let paddings: &[Option<&str>] = if mode == "GCM" {
                &[None]
            } else {
                &[Some("PKCS7_PADDING"), Some("NO_PADDING")]
            };
            let aads: &[Option<&[u8]>] = if mode == "GCM" {
                &[None, Some(b"fuzz-aad")]
            } else {
                &[None]
            };
            for &padding in paddings {
                for &aad in aads {
                    for len in [0usize, 5, 32] {
                        let plaintext: Vec<u8> = (0..len as u8).collect();
                        let name = format!(
                            "{}-{algorithm}-{}-len{len}{}",
                            &key.spec[7..],
                            padding.unwrap_or("none"),
                            if aad.is_some() { "-aad" } else { "" }
                        );
                        let alg = choice(&ALGORITHM_CHOICES, Some(algorithm.as_str()));
                        let pad = choice(&PADDING_CHOICES, padding);
                        let key_choice = choice(&KEY_CHOICES, Some(key.key_id));
                        // The `$` blob, alone (no key ID, algorithm or padding).
                        if let Some(blob) =
                            encrypt(true, key.key_id, &algorithm, padding, &iv, aad, &plaintext)
                        {
                            seeds.write(
                                "advance_decrypt",
                                &format!("blob-{name}"),
                                &DecryptInput::encode([0, 0, 0], aad, None, &blob),
                            );
                            // Alibaba's SDKs send blob[39:51] along as the IV.
                            if mode == "GCM" {
                                seeds.write(
                                    "advance_decrypt",
                                    &format!("blob-with-iv-{name}"),
                                    &DecryptInput::encode([0, 0, 0], aad, Some(&iv), &blob),
                                );
                                seeds.write(
                                    "advance_decrypt",
                                    &format!("gateway-{name}"),
                                    &DecryptInput::encode([0, 0, 0], aad, None, &blob[3..]),
                                );
                            }
                        }
                        // kms_encrypt output, with what the caller kept.
                        if let Some(blob) =
                            encrypt(false, key.key_id, &algorithm, padding, &iv, aad, &plaintext)
                        {
                            let iv_arg = (!iv.is_empty()).then_some(iv.as_slice());
                            let input =
                                DecryptInput::encode([key_choice, alg, pad], aad, iv_arg, &blob);
                            seeds.write("advance_decrypt", &format!("encrypt-{name}"), &input);
                            seeds.write("decrypt", &format!("encrypt-{name}"), &input);
                            if k == 0 {
                                let alias = choice(&KEY_CHOICES, Some(localkms_fuzz::ALIAS));
                                let input =
                                    DecryptInput::encode([alias, alg, pad], aad, iv_arg, &blob);
                                seeds.write("decrypt", &format!("alias-{name}"), &input);
                            }
                        }
                    }
                }
            }
        }
    }
}

fn version(id: &str, family: CipherFamily, len: usize, seed: u8) -> KeyVersion {
    let bytes: Vec<u8> = (0..len as u8).map(|i| i ^ seed).collect();
    let material = Material::symmetric(family, Zeroizing::new(bytes)).expect("a valid length");
    KeyVersion {
        key_version_id: id.to_owned(),
        creation_date: 1_764_000_000 + i64::from(seed),
        check_value: Some(material.check_value()),
        material: Some(Arc::new(material)),
        gcm_reserved: u64::from(seed) << 20,
    }
}

fn record_keys() -> Vec<Key> {
    let aes = Key {
        key_id: "key-seedaes25600000000000".into(),
        key_spec: KeySpec::Aes256,
        key_usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AliyunKms,
        description: "a seed key".into(),
        creation_date: 1_764_000_000,
        state: KeyState::Enabled,
        delete_date: None,
        versions: vec![
            version(
                "key-seedaes25600000000000-v000000001",
                CipherFamily::Aes,
                32,
                1,
            ),
            version(
                "key-seedaes25600000000000-v000000002",
                CipherFamily::Aes,
                32,
                2,
            ),
        ],
        primary: 1,
        automatic_rotation: true,
        rotation_interval: Some(7 * 86_400),
        last_rotation_date: 1_764_000_100,
        material_expire: None,
        modes: PermittedModes::ALL,
    };
    let pending = Key {
        key_id: "key-seedext00000000000000".into(),
        key_spec: KeySpec::Aes128,
        origin: Origin::External,
        state: KeyState::PendingImport,
        description: String::new(),
        versions: vec![KeyVersion {
            key_version_id: "key-seedext00000000000000-v000000001".into(),
            creation_date: 1_764_000_000,
            material: None,
            check_value: None,
            gcm_reserved: 0,
        }],
        primary: 0,
        automatic_rotation: false,
        rotation_interval: None,
        material_expire: Some(1_900_000_000),
        modes: PermittedModes::GCM_ONLY,
        ..aes.clone()
    };
    let sm4 = Key {
        key_id: "key-seedsm4000000000000000".into(),
        key_spec: KeySpec::Sm4,
        state: KeyState::PendingDeletion,
        delete_date: Some(1_764_700_000),
        versions: vec![version(
            "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f",
            CipherFamily::Sm4,
            16,
            3,
        )],
        primary: 0,
        modes: PermittedModes::parse(CipherFamily::Sm4, Some("SM4_GCM,SM4_ECB")).unwrap(),
        ..aes.clone()
    };
    vec![aes, pending, sm4]
}

fn store_seeds(seeds: &mut Seeds) {
    let keys = record_keys();
    let mut payload = Vec::new();
    payload.extend_from_slice(&3u32.to_le_bytes());
    payload.extend_from_slice(&(keys.len() as u32).to_le_bytes());
    for key in &keys {
        let record = encode_key_record(key);
        seeds.write("key_record", &key.key_id, &record);
        // A payload holds each key as its record does, without the version.
        payload.extend_from_slice(&record[4..]);
    }
    payload.extend_from_slice(&1u32.to_le_bytes());
    for s in ["alias/seed", &keys[0].key_id] {
        payload.extend_from_slice(&(s.len() as u32).to_le_bytes());
        payload.extend_from_slice(s.as_bytes());
    }
    seeds.write("store_payload", "v3-three-keys-one-alias", &payload);
    seeds.write(
        "store_payload",
        "v3-empty",
        &[3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    );

    let v1_key = v1_file_writer::V1Key {
        key_id: "key-seedv1000000000000000".into(),
        version_id: "key-seedv1000000000000000-v000000001".into(),
        material: [9; 32],
        description: "v1".into(),
        creation_date: 1_700_000_000,
    };
    let v2 = v1_file_writer::v1_payload(&[v1_key.clone()], &[("alias/v1", &v1_key.key_id)]);
    seeds.write("store_payload", "v2-one-key-one-alias", &v2);
    let mut v1 = v2.clone();
    v1[0] = 1;
    seeds.write("store_payload", "v1-one-key-one-alias", &v1);

    for (name, payload) in [("v2", &v2), ("v3", &payload)] {
        seeds.write(
            "v1_file",
            &format!("sealed-{name}"),
            &[[1].as_slice(), payload].concat(),
        );
        let file = v1_file_writer::v1_seal(&[7; 32], 1, payload);
        seeds.write(
            "v1_file",
            &format!("file-{name}"),
            &[[0].as_slice(), &file].concat(),
        );
    }
}

fn text_seeds(seeds: &mut Seeds) {
    let hex: String = (0..32u8).map(|b| format!("{b:02x}")).collect();
    seeds.write("master_key_file", "raw-32", &[0x42; 32]);
    seeds.write("master_key_file", "hex", hex.as_bytes());
    seeds.write(
        "master_key_file",
        "hex-newline",
        format!("{hex}\n").as_bytes(),
    );
    seeds.write(
        "master_key_file",
        "hex-upper-spaces",
        format!("  {}\r\n", hex.to_uppercase()).as_bytes(),
    );
    seeds.write("master_key_file", "hex-63", &hex.as_bytes()[1..]);

    let argv: &[(&str, &[&str])] = &[
        (
            "advance-encrypt",
            &[
                "advance-encrypt",
                "--store",
                "s.db",
                "--master-key-file",
                "m.key",
                "--key-id",
                "alias/a",
                "--plaintext-base64",
                "aGVsbG8=",
            ],
        ),
        (
            "advance-decrypt",
            &[
                "advance-decrypt",
                "--store",
                "postgresql://u:p@h/db",
                "--master-key-file",
                "m.key",
                "--ciphertext-blob",
                "JAAC",
                "--aad",
                "YWFk",
            ],
        ),
        (
            "decrypt",
            &[
                "decrypt",
                "--store",
                "s.db",
                "--master-key-file",
                "m",
                "--key-id",
                "key-abc",
                "--ciphertext-blob",
                "AAAA",
                "--iv",
                "AAAAAAAAAAAAAAAA",
                "--algorithm",
                "AES_CBC",
                "--padding-mode",
                "PKCS7_PADDING",
            ],
        ),
        (
            "create-key",
            &[
                "create-key",
                "--store",
                "s.db",
                "--master-key-file",
                "m",
                "--key-spec",
                "Aliyun_SM4",
                "--algorithms",
                "SM4_GCM,SM4_CBC",
            ],
        ),
        (
            "copy",
            &[
                "store",
                "copy",
                "--from",
                "old.kms",
                "--to",
                "postgres://h/db",
                "--master-key-file",
                "m",
            ],
        ),
        (
            "init",
            &[
                "init",
                "--store",
                "s.db",
                "--master-key-file",
                "m",
                "--use-existing-key",
            ],
        ),
    ];
    for (name, args) in argv {
        seeds.write("cli_input", name, args.join("\0").as_bytes());
    }
    seeds.write("cli_input", "base64", b" aGVsbG8gd29ybGQ= \n");

    for (name, s) in [
        ("key-id", KEYS[0].key_id),
        ("version-id", KEYS[0].versions[0]),
        ("uuid-version", KEYS[3].versions[0]),
        ("alias", "alias/fuzz"),
        ("alias-nested", "alias/a_b/c-d"),
        ("alias-acs", "alias/acs/x"),
    ] {
        seeds.write("ids", name, s.as_bytes());
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    // Rewritten whole, so a seed no longer made does not linger.
    let _ = std::fs::remove_dir_all(&root);
    let mut seeds = Seeds { root, count: 0 };
    decrypt_seeds(&mut seeds);
    store_seeds(&mut seeds);
    text_seeds(&mut seeds);
    println!("{} seeds in {}", seeds.count, seeds.root.display());
}
