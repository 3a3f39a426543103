//! The encrypt/decrypt path: AdvanceEncrypt and AdvanceDecrypt through the Rust API
//! and through the C ABI, for small and large messages, and the same while another
//! thread keeps rotating the key (readers must not wait on the writer).
//!
//! Run: `cargo bench --bench crypto_path`

use std::hint::black_box;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use localkms::crypto::{CipherFamily, CipherMode, KeyCipher, PaddingMode};
use localkms::ffi::*;
use localkms::service::{Client, CreateKeyRequest, DecryptRequest, EncryptRequest};

const SIZES: [usize; 3] = [64, 1024, 64 * 1024];

fn rust_api(c: &mut Criterion) {
    let client = Client::in_memory();
    // Keys permit only GCM unless created with block modes.
    let key_id = client
        .create_key(&CreateKeyRequest {
            algorithms: Some("AES_GCM,AES_CBC"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    let mut group = c.benchmark_group("rust");
    for size in SIZES {
        let plaintext = vec![0x5a; size];
        group.throughput(Throughput::Bytes(size as u64));
        for algorithm in ["AES_GCM", "AES_CBC"] {
            let request = EncryptRequest {
                key_id: &key_id,
                plaintext: &plaintext,
                algorithm: Some(algorithm),
                ..Default::default()
            };
            group.bench_with_input(
                BenchmarkId::new(format!("advance_encrypt/{algorithm}"), size),
                &request,
                |b, r| b.iter(|| black_box(client.advance_encrypt(r).unwrap())),
            );
            let blob = client.advance_encrypt(&request).unwrap().ciphertext_blob;
            let request = DecryptRequest {
                ciphertext_blob: &blob,
                ..Default::default()
            };
            group.bench_with_input(
                BenchmarkId::new(format!("advance_decrypt/{algorithm}"), size),
                &request,
                |b, r| b.iter(|| black_box(client.advance_decrypt(r).unwrap())),
            );
        }
    }
    group.finish();
}

fn c_abi(c: &mut Criterion) {
    let mut client = null_mut();
    assert_eq!(
        unsafe { kms_client_open(null(), &mut client, null_mut()) },
        kms_status::Ok
    );
    let mut key_id = null_mut();
    unsafe {
        kms_create_key(
            client,
            null(),
            null(),
            null(),
            null(),
            &mut key_id,
            null_mut(),
        )
    };
    let mut group = c.benchmark_group("c_abi");
    for size in SIZES {
        let plaintext = vec![0x5a; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("advance_encrypt+free", size), |b| {
            b.iter(|| unsafe {
                let mut out = null_mut();
                let status = kms_advance_encrypt(
                    client,
                    key_id,
                    plaintext.as_ptr(),
                    plaintext.len(),
                    null(),
                    null(),
                    0,
                    null(),
                    0,
                    null(),
                    &mut out,
                    null_mut(),
                );
                assert_eq!(status, kms_status::Ok);
                kms_encrypt_response_free(black_box(out));
            })
        });
        let mut enc = null_mut();
        unsafe {
            kms_advance_encrypt(
                client,
                key_id,
                plaintext.as_ptr(),
                plaintext.len(),
                null(),
                null(),
                0,
                null(),
                0,
                null(),
                &mut enc,
                null_mut(),
            )
        };
        let (blob, blob_len) = unsafe { ((*enc).ciphertext_blob, (*enc).ciphertext_blob_len) };
        group.bench_function(BenchmarkId::new("advance_decrypt+free", size), |b| {
            b.iter(|| unsafe {
                let mut out = null_mut();
                let status = kms_advance_decrypt(
                    client,
                    blob,
                    blob_len,
                    null(),
                    null(),
                    null(),
                    0,
                    null(),
                    0,
                    null(),
                    &mut out,
                    null_mut(),
                );
                assert_eq!(status, kms_status::Ok);
                kms_decrypt_response_free(black_box(out));
            })
        });
        unsafe { kms_encrypt_response_free(enc) };
    }
    group.finish();
    unsafe {
        kms_string_free(key_id);
        kms_client_free(client);
    }
}

/// The cipher alone (`KeyCipher::seal`/`open` of AES-256 into a buffer made once,
/// no allocation, no blob, no key lookup): what the crates and the per-call stack
/// wipe cost, beside which the rows above show the service's share. Decryption
/// should cost about what encryption does (issue 12: within 1.15x).
fn cipher(c: &mut Criterion) {
    let cipher = KeyCipher::new(CipherFamily::Aes, &[0x42; 32]).unwrap();
    let mut group = c.benchmark_group("cipher");
    for size in [64, 16 * 1024, 1024 * 1024] {
        let plaintext = vec![0x5a; size];
        group.throughput(Throughput::Bytes(size as u64));
        for (name, mode) in [
            (
                "AES_GCM",
                CipherMode::Gcm {
                    iv: [1; 12],
                    aad: b"",
                },
            ),
            (
                "AES_CBC",
                CipherMode::Cbc {
                    iv: [2; 16],
                    padding: PaddingMode::Pkcs7,
                },
            ),
        ] {
            let mut sealed = vec![0u8; mode.ciphertext_len(size)];
            group.bench_function(BenchmarkId::new(format!("seal/{name}"), size), |b| {
                b.iter(|| {
                    cipher
                        .seal(&mode, black_box(&plaintext), &mut sealed)
                        .unwrap()
                })
            });
            // What the open rows open (a bench run filtered to them alone too).
            cipher.seal(&mode, &plaintext, &mut sealed).unwrap();
            let mut opened = vec![0u8; sealed.len()];
            group.bench_function(BenchmarkId::new(format!("open/{name}"), size), |b| {
                b.iter(|| cipher.open(&mode, black_box(&sealed), &mut opened).unwrap())
            });
        }
    }
    group.finish();
}

fn under_rotation(c: &mut Criterion) {
    let client = Arc::new(Client::in_memory());
    let key_id = client
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .value
        .key_id;
    let stop = Arc::new(AtomicBool::new(false));
    let rotator = {
        let (client, key_id, stop) = (client.clone(), key_id.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut rotations = 0u64;
            while !stop.load(Ordering::Relaxed) {
                client.rotate_key(&key_id).unwrap();
                rotations += 1;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            rotations
        })
    };
    let plaintext = vec![0x5a; 1024];
    let request = EncryptRequest {
        key_id: &key_id,
        plaintext: &plaintext,
        ..Default::default()
    };
    c.bench_function("rust/advance_encrypt/AES_GCM/1024/while-rotating", |b| {
        b.iter(|| black_box(client.advance_encrypt(&request).unwrap()))
    });
    stop.store(true, Ordering::Relaxed);
    let rotations = rotator.join().unwrap();
    assert!(rotations > 0);
}

criterion_group!(benches, cipher, rust_api, c_abi, under_rotation);
criterion_main!(benches);
