//! localkms patch: every x86 backend's tail (`encrypt_tail_blocks`, `decrypt_tail_blocks`, the
//! blocks after the last whole batch) against the same backend one block at a time, for every
//! length from 0 to 70 blocks, in place and from one buffer into another, for all key sizes.
//! Each backend is called directly, so the test covers all three on a CPU with AVX-512 and VAES
//! (a backend the CPU lacks is left out and named on stderr).

extern crate std;

use super::{x86_aes, x86_vaes256, x86_vaes512};
use crate::Block;
use cipher::{
    BlockCipherDecBackend, BlockCipherDecClosure, BlockCipherEncBackend, BlockCipherEncClosure,
    BlockSizeUser, consts::U16, inout::InOutBuf,
};
use std::{eprintln, vec, vec::Vec};

/// Deterministic test bytes (xorshift64*).
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

fn blocks(seed: u64, n: usize) -> Vec<Block> {
    bytes(seed, 16 * n)
        .chunks(16)
        .map(|c| Block::try_from(c).unwrap())
        .collect()
}

const GUARD: Block = cipher::Array([0xa5; 16]);

/// How a closure hands blocks to the backend.
#[derive(Clone, Copy)]
enum Way {
    /// `encrypt_block` / `decrypt_block` on each block in turn.
    OneByOne,
    /// Whole batches, then the tail, in place.
    BatchesInPlace,
    /// Whole batches, then the tail, from `input` into a separate buffer.
    BatchesInOut,
}

struct Run<'a> {
    way: Way,
    input: &'a [Block],
    out: &'a mut Vec<Block>,
}

impl BlockSizeUser for Run<'_> {
    type BlockSize = U16;
}

macro_rules! run {
    ($self:ident, $backend:ident, $block:ident, $par:ident, $tail:ident) => {{
        let Run { way, input, out } = $self;
        let n = input.len();
        *out = match way {
            Way::BatchesInOut => vec![Block::default(); n],
            _ => input.to_vec(),
        };
        // Blocks past the end that no call may write.
        out.extend([GUARD; 5]);
        match way {
            Way::OneByOne => {
                for block in out[..n].iter_mut() {
                    $backend.$block(block.into());
                }
            }
            Way::BatchesInPlace | Way::BatchesInOut => {
                let buf = match way {
                    Way::BatchesInOut => InOutBuf::new(input, &mut out[..n]).unwrap(),
                    _ => InOutBuf::from(&mut out[..n]),
                };
                let (chunks, tail) = buf.into_chunks::<B::ParBlocksSize>();
                for chunk in chunks {
                    $backend.$par(chunk);
                }
                $backend.$tail(tail);
            }
        }
        assert!(out[n..].iter().all(|b| *b == GUARD), "a write past {n} blocks");
        out.truncate(n);
    }};
}

impl BlockCipherEncClosure for Run<'_> {
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        run!(self, backend, encrypt_block, encrypt_par_blocks, encrypt_tail_blocks)
    }
}

impl BlockCipherDecClosure for Run<'_> {
    fn call<B: BlockCipherDecBackend<BlockSize = U16>>(self, backend: &B) {
        run!(self, backend, decrypt_block, decrypt_par_blocks, decrypt_tail_blocks)
    }
}

/// Encrypts (`true`) or decrypts `input` the given way with one backend.
type Cipher<'a> = &'a dyn Fn(bool, Way, &[Block]) -> Vec<Block>;

fn check(name: &str, cipher: Cipher<'_>) {
    for n in 0..=70 {
        let input = blocks(n as u64 + 1, n);
        let sealed = cipher(true, Way::OneByOne, &input);
        let opened = cipher(false, Way::OneByOne, &sealed);
        assert_eq!(opened, input, "{name}: {n} blocks one by one");
        if n > 0 {
            assert_ne!(sealed, input, "{name}: {n} blocks");
        }
        for way in [Way::BatchesInPlace, Way::BatchesInOut] {
            assert_eq!(cipher(true, way, &input), sealed, "{name}: encrypt {n} blocks");
            assert_eq!(cipher(false, way, &sealed), input, "{name}: decrypt {n} blocks");
        }
    }
}

macro_rules! backends {
    ($($test:ident: $ty:ident, $len:literal;)*) => {$(
        #[test]
        fn $test() {
            let key: [u8; $len] = bytes($len, $len).try_into().unwrap();
            if !std::arch::is_x86_feature_detected!("aes") {
                eprintln!("no AES-NI: every x86 backend left out");
                return;
            }
            // SAFETY: the CPU has AES-NI
            let aes = unsafe { x86_aes::$ty::new(&key) };
            let run = |encrypt: bool, way: Way, input: &[Block]| {
                let mut out = Vec::new();
                let r = Run { way, input, out: &mut out };
                // SAFETY: each backend is called only when the CPU has its target features
                unsafe {
                    if encrypt { aes.encrypt(r) } else { aes.decrypt(r) }
                }
                out
            };
            check(concat!(stringify!($ty), " AES-NI"), &run);
            let wide = |vaes512: bool| {
                move |encrypt: bool, way: Way, input: &[Block]| {
                    let mut out = Vec::new();
                    let r = Run { way, input, out: &mut out };
                    let rk = if encrypt { &aes.enc_rk } else { &aes.dec_rk };
                    // SAFETY: each backend is called only when the CPU has its target features
                    unsafe {
                        match (vaes512, encrypt) {
                            (true, true) => x86_vaes512::$ty::encrypt(rk, r),
                            (true, false) => x86_vaes512::$ty::decrypt(rk, r),
                            (false, true) => x86_vaes256::$ty::encrypt(rk, r),
                            (false, false) => x86_vaes256::$ty::decrypt(rk, r),
                        }
                    }
                    out
                }
            };
            if std::arch::is_x86_feature_detected!("vaes") && std::arch::is_x86_feature_detected!("avx2") {
                check(concat!(stringify!($ty), " VAES/AVX2"), &wide(false));
            } else {
                eprintln!("no VAES/AVX2: x86_vaes256 left out");
            }
            if std::arch::is_x86_feature_detected!("vaes") && std::arch::is_x86_feature_detected!("avx512f") {
                check(concat!(stringify!($ty), " VAES/AVX-512"), &wide(true));
            } else {
                eprintln!("no VAES/AVX-512: x86_vaes512 left out");
            }
        }
    )*};
}

backends! {
    tails_aes128: Aes128, 16;
    tails_aes192: Aes192, 24;
    tails_aes256: Aes256, 32;
}
