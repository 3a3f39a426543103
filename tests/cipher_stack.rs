//! No secret of a key is left on the stack below a cipher call once it returns.
//!
//! The RustCrypto crates keep round keys and the POLYVAL key in registers during a
//! call and spill them to the stack; a value built later in the same stack region
//! (a persistent-map node with unused slots, moved into a box) would carry those
//! bytes into the heap (tests/secrets_in_freed_memory.rs). `KeyCipher::seal` and
//! `KeyCipher::open` wipe the stack their cipher call used.
//!
//! The probe paints 33 KiB of stack below its frame with a pattern, runs one call
//! from the same frame, and takes a copy of the same 32 KiB: every byte that is not
//! the pattern was written by the call. The copy must hold none of the key
//! material (whole or in halves), H = E_k(0^128), H byte-reversed or the POLYVAL
//! key, for every mode, every key size and both directions; and every byte the call
//! wrote that is not zero must lie above the wipe's zeroes (the longest run of
//! zero bytes in the copy), so a call that writes deeper than its wipe fails here
//! even where no secret happens to lie in what is left. Each call's depth is
//! printed (`--nocapture`); built with `RUSTFLAGS="--cfg localkms_unwiped_stack"`
//! (no wipe, so the checks fail) that is the depth the call itself writes, which
//! is how the wipes' depths in src/crypto/stack_wipe.rs were chosen.

use std::hint::black_box;
use std::mem::MaybeUninit;

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use localkms::crypto::{CipherFamily, CipherMode, KeyCipher, PaddingMode};

const SPAN: usize = 32 * 1024;
/// The paint reaches further down than the copy: the two frames differ by a few
/// saved registers.
const PAINT_SPAN: usize = SPAN + 1024;
const PAINT: u8 = 0xa5;

/// Fills `PAINT_SPAN` bytes of the stack just below the caller with the pattern;
/// returns where they start.
#[inline(never)]
fn paint() -> usize {
    let mut area = [PAINT; PAINT_SPAN];
    black_box(&mut area);
    area.as_ptr() as usize
}

/// Copies the `SPAN` bytes of the stack just below the caller, as they are, into
/// `out` (whose room is reserved: nothing is allocated here); returns where they
/// start.
#[inline(never)]
fn snapshot(out: &mut Vec<u8>) -> usize {
    let area = MaybeUninit::<[u8; SPAN]>::uninit();
    let start = area.as_ptr().cast::<u8>();
    for i in 0..SPAN {
        // SAFETY: inside `area`, a live local; its bytes are whatever the stack
        // held (read volatile, as plain bytes, which any bit pattern is).
        out.push(unsafe { start.add(i).read_volatile() });
    }
    start as usize
}

/// Runs `op` between a paint and a snapshot taken from the same frame.
#[inline(never)]
fn probe(op: &mut dyn FnMut()) -> Vec<u8> {
    let mut out = Vec::with_capacity(SPAN);
    let painted = paint();
    op();
    let copied = snapshot(&mut out);
    assert!(
        painted <= copied && copied + SPAN <= painted + PAINT_SPAN,
        "the copy must lie inside the painted stack bytes"
    );
    out
}

fn mulx_polyval(block: &[u8; 16]) -> [u8; 16] {
    let v = u128::from_le_bytes(*block);
    let carry = v >> 127;
    let v = (v << 1) ^ carry ^ (carry << 127) ^ (carry << 126) ^ (carry << 121);
    v.to_le_bytes()
}

/// What must not be left behind for `key`: (name, bytes).
fn secrets(family: CipherFamily, key: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut h = Array::default();
    match (family, key.len()) {
        (CipherFamily::Sm4, _) => sm4::Sm4::new_from_slice(key).unwrap().encrypt_block(&mut h),
        (_, 16) => aes::Aes128::new_from_slice(key)
            .unwrap()
            .encrypt_block(&mut h),
        (_, 24) => aes::Aes192::new_from_slice(key)
            .unwrap()
            .encrypt_block(&mut h),
        _ => aes::Aes256::new_from_slice(key)
            .unwrap()
            .encrypt_block(&mut h),
    }
    let h: [u8; 16] = h.into();
    let mut reversed = h;
    reversed.reverse();
    let mut out = vec![
        ("the key's first 16 bytes", key[..16].to_vec()),
        ("H", h.to_vec()),
        ("H byte-reversed", reversed.to_vec()),
        ("the POLYVAL key", mulx_polyval(&reversed).to_vec()),
    ];
    if key.len() > 16 {
        out.push(("the key's last 16 bytes", key[key.len() - 16..].to_vec()));
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How far below the probe's frame the call wrote (bytes), not counting the bytes
/// the probe writes with no call at all (`snapshot`'s own stack probes, 8 bytes
/// every 4 KiB of its frame).
fn depth_written(copy: &[u8], idle: &[u8]) -> usize {
    (0..SPAN)
        .find(|&i| copy[i] != PAINT && idle[i] == PAINT)
        .map_or(0, |i| SPAN - i)
}

/// The wipe's zeroes: the longest run of zero bytes in the copy, as (first index,
/// length). Index 0 is the deepest byte.
fn longest_zero_run(copy: &[u8]) -> (usize, usize) {
    let (mut best, mut start) = ((0, 0), 0);
    for (i, &byte) in copy.iter().enumerate() {
        if byte != 0 {
            start = i + 1;
        } else if i + 1 - start > best.1 {
            best = (start, i + 1 - start);
        }
    }
    best
}

/// How far below the wipe's zeroes the call left bytes that are neither the paint
/// nor zero (0 when the wipe reached deeper than the call wrote).
fn left_below_wipe(copy: &[u8], idle: &[u8]) -> usize {
    let (wipe_start, _) = longest_zero_run(copy);
    (0..wipe_start)
        .find(|&i| copy[i] != PAINT && copy[i] != 0 && idle[i] == PAINT)
        .map_or(0, |i| wipe_start - i)
}

/// The bytes just below the wipe's area that the wipe itself writes: the return
/// address of its call to the store loop (`zero_avx2`), and that loop's frame.
const WIPE_OWN_WRITES: usize = 64;
/// Shorter than every wipe's area: a run of zeroes this long is the wipe's.
const SHORTEST_WIPE: usize = 2 * 1024;

#[test]
fn no_key_secret_is_left_on_the_stack_below_a_cipher_call() {
    // An Aad past the aws-lc build's shorter wipe (src/crypto/stack_wipe.rs).
    let long_aad = [0x61u8; 257];
    let modes = [
        CipherMode::Gcm {
            iv: [7; 12],
            aad: b"aad",
        },
        CipherMode::Gcm {
            iv: [7; 12],
            aad: &long_aad,
        },
        CipherMode::Cbc {
            iv: [8; 16],
            padding: PaddingMode::Pkcs7,
        },
        CipherMode::Ecb {
            padding: PaddingMode::Pkcs7,
        },
    ];
    let keys: [(CipherFamily, usize); 4] = [
        (CipherFamily::Aes, 16),
        (CipherFamily::Aes, 24),
        (CipherFamily::Aes, 32),
        (CipherFamily::Sm4, 16),
    ];
    let idle = probe(&mut || {});
    let mut failures = Vec::new();
    let mut deepest = 0;
    for (family, key_len) in keys {
        let key: Vec<u8> = (0..key_len as u8)
            .map(|i| i.wrapping_mul(29) ^ 0x3c)
            .collect();
        let cipher = KeyCipher::new(family, &key).unwrap();
        let secrets = secrets(family, &key);
        for mode in modes {
            // Around the longest message vendor/aes-gcm encrypts in one call into
            // the cipher, the last length of the shallower path and the first past
            // it; the same around the aws-lc build's (256 B).
            let one_call = aes_gcm::ONE_CALL_MAX_LEN;
            for len in [0usize, 64, one_call, one_call + 1, 256, 257, 16 * 1024] {
                let plaintext = vec![0x11u8; len];
                let mut sealed = vec![0u8; mode.ciphertext_len(len)];
                let mut opened = vec![0u8; sealed.len()];
                let seal_copy = probe(&mut || {
                    cipher.seal(&mode, &plaintext, &mut sealed).unwrap();
                });
                let open_copy = probe(&mut || {
                    assert_eq!(cipher.open(&mode, &sealed, &mut opened).unwrap(), len);
                });
                assert_eq!(&opened[..len], &plaintext[..]);
                for (direction, copy) in [("seal", &seal_copy), ("open", &open_copy)] {
                    let depth = depth_written(copy, &idle);
                    deepest = deepest.max(depth);
                    let (_, wiped) = longest_zero_run(copy);
                    let below = left_below_wipe(copy, &idle);
                    println!(
                        "{cipher:?} {mode:?} {len} B {direction}: wrote {depth} bytes deep, \
                         {wiped} zeroed, {below} left below"
                    );
                    if wiped < SHORTEST_WIPE || below > WIPE_OWN_WRITES {
                        failures.push(format!(
                            "{cipher:?} {direction} {len} B {mode:?}: the wipe zeroed {wiped} \
                             bytes, and the call left what it wrote up to {below} bytes below them"
                        ));
                    }
                    for (name, bytes) in &secrets {
                        if let Some(at) = find(copy, bytes) {
                            failures.push(format!(
                                "{cipher:?} {direction} {len} B {mode:?}: {name} {} bytes below the frame",
                                SPAN - at
                            ));
                        }
                    }
                }
            }
        }
    }
    println!("deepest: {deepest} bytes");
    assert!(deepest > 0, "the probe saw no call write the stack");
    assert!(
        failures.is_empty(),
        "left on the stack after the calls:\n  {}",
        failures.join("\n  ")
    );
}
