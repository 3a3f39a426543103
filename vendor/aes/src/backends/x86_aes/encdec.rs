use super::{RoundKeys, utils};
use crate::Block;
use cipher::{
    array::{Array, ArraySize},
    consts::{U1, U2, U3, U4, U5, U6, U7, U8},
    inout::{InOut, InOutBuf},
};

#[cfg(target_arch = "x86")]
use core::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

#[inline]
#[target_feature(enable = "aes")]
pub(crate) fn encrypt<const RK: usize>(keys: &RoundKeys<RK>, mut block: InOut<'_, '_, Block>) {
    const { assert!(matches!(RK, 11 | 13 | 15)) }

    let mut b = utils::load_block(block.get_in());
    b = _mm_xor_si128(b, keys[0]);
    for &key in &keys[1..RK - 1] {
        b = _mm_aesenc_si128(b, key);
    }
    b = _mm_aesenclast_si128(b, keys[RK - 1]);
    utils::store_block(block.get_out(), b);
}

#[inline]
#[target_feature(enable = "aes")]
pub(crate) fn decrypt<const RK: usize>(keys: &RoundKeys<RK>, mut block: InOut<'_, '_, Block>) {
    const { assert!(matches!(RK, 11 | 13 | 15)) }

    let mut b = utils::load_block(block.get_in());
    b = _mm_xor_si128(b, keys[0]);
    for &key in &keys[1..RK - 1] {
        b = _mm_aesdec_si128(b, key);
    }
    b = _mm_aesdeclast_si128(b, keys[RK - 1]);
    utils::store_block(block.get_out(), b);
}

#[inline]
#[target_feature(enable = "aes")]
pub(super) fn batch_encrypt<const RK: usize, ParBlocks: ArraySize>(
    keys: &RoundKeys<RK>,
    mut blocks: InOut<'_, '_, Array<Block, ParBlocks>>,
) {
    const { assert!(matches!(RK, 11 | 13 | 15)) }

    let mut b = utils::load_batch_blocks(blocks.get_in());

    // Loop over keys is intentionally not used here to force inlining
    batch_xor(&mut b, keys[0]);
    batch_aesenc(&mut b, keys[1]);
    batch_aesenc(&mut b, keys[2]);
    batch_aesenc(&mut b, keys[3]);
    batch_aesenc(&mut b, keys[4]);
    batch_aesenc(&mut b, keys[5]);
    batch_aesenc(&mut b, keys[6]);
    batch_aesenc(&mut b, keys[7]);
    batch_aesenc(&mut b, keys[8]);
    batch_aesenc(&mut b, keys[9]);
    if RK >= 13 {
        batch_aesenc(&mut b, keys[10]);
        batch_aesenc(&mut b, keys[11]);
    }
    if RK == 15 {
        batch_aesenc(&mut b, keys[12]);
        batch_aesenc(&mut b, keys[13]);
    }
    batch_aesenclast(&mut b, keys[RK - 1]);
    utils::store_batch_blocks(blocks.get_out(), b);
}

#[inline]
#[target_feature(enable = "aes")]
pub(super) fn decrypt_par<const RK: usize, ParBlocks: ArraySize>(
    keys: &RoundKeys<RK>,
    mut blocks: InOut<'_, '_, Array<Block, ParBlocks>>,
) {
    const { assert!(matches!(RK, 11 | 13 | 15)) };

    let mut b = utils::load_batch_blocks(blocks.get_in());

    // Loop over keys is intentionally not used here to force inlining
    batch_xor(&mut b, keys[0]);
    batch_aesdec(&mut b, keys[1]);
    batch_aesdec(&mut b, keys[2]);
    batch_aesdec(&mut b, keys[3]);
    batch_aesdec(&mut b, keys[4]);
    batch_aesdec(&mut b, keys[5]);
    batch_aesdec(&mut b, keys[6]);
    batch_aesdec(&mut b, keys[7]);
    batch_aesdec(&mut b, keys[8]);
    batch_aesdec(&mut b, keys[9]);
    if RK >= 13 {
        batch_aesdec(&mut b, keys[10]);
        batch_aesdec(&mut b, keys[11]);
    }
    if RK == 15 {
        batch_aesdec(&mut b, keys[12]);
        batch_aesdec(&mut b, keys[13]);
    }
    batch_aesdeclast(&mut b, keys[RK - 1]);
    utils::store_batch_blocks(blocks.get_out(), b);
}

/// localkms patch: blocks after the last whole batch side by side, in batches of 8 and then one of
/// 1 to 7, instead of one block after another as `BlockCipherEncBackend`'s default
/// `encrypt_tail_blocks` does (a 64-byte GCM message waited for four AES latencies in a row).
/// The VAES/AVX2 backend uses it too.
#[inline]
#[target_feature(enable = "aes")]
pub(crate) fn tail_encrypt<const RK: usize>(keys: &RoundKeys<RK>, blocks: InOutBuf<'_, '_, Block>) {
    let (chunks, mut rest) = blocks.into_chunks::<U8>();
    for chunk in chunks {
        batch_encrypt(keys, chunk);
    }
    macro_rules! last {
        ($($n:literal => $size:ty),*) => {
            match rest.len() {
                $($n => batch_encrypt::<RK, $size>(keys, rest.reborrow().into_chunks().0.get(0)),)*
                _ => {}
            }
        };
    }
    last!(1 => U1, 2 => U2, 3 => U3, 4 => U4, 5 => U5, 6 => U6, 7 => U7);
}

/// localkms patch: as [`tail_encrypt`], decrypting (CBC decryption's last blocks).
#[inline]
#[target_feature(enable = "aes")]
pub(crate) fn tail_decrypt<const RK: usize>(keys: &RoundKeys<RK>, blocks: InOutBuf<'_, '_, Block>) {
    let (chunks, mut rest) = blocks.into_chunks::<U8>();
    for chunk in chunks {
        decrypt_par(keys, chunk);
    }
    macro_rules! last {
        ($($n:literal => $size:ty),*) => {
            match rest.len() {
                $($n => decrypt_par::<RK, $size>(keys, rest.reborrow().into_chunks().0.get(0)),)*
                _ => {}
            }
        };
    }
    last!(1 => U1, 2 => U2, 3 => U3, 4 => U4, 5 => U5, 6 => U6, 7 => U7);
}

#[target_feature(enable = "sse2")]
fn batch_xor<N: ArraySize>(blocks: &mut Array<__m128i, N>, key: __m128i) {
    for block in blocks {
        *block = _mm_xor_si128(*block, key);
    }
}

#[target_feature(enable = "aes")]
fn batch_aesenc<N: ArraySize>(blocks: &mut Array<__m128i, N>, key: __m128i) {
    for block in blocks {
        *block = _mm_aesenc_si128(*block, key);
    }
}

#[target_feature(enable = "aes")]
fn batch_aesenclast<N: ArraySize>(blocks: &mut Array<__m128i, N>, key: __m128i) {
    for block in blocks {
        *block = _mm_aesenclast_si128(*block, key);
    }
}

#[target_feature(enable = "aes")]
fn batch_aesdec<N: ArraySize>(blocks: &mut Array<__m128i, N>, key: __m128i) {
    for block in blocks {
        *block = _mm_aesdec_si128(*block, key);
    }
}

#[target_feature(enable = "aes")]
fn batch_aesdeclast<N: ArraySize>(blocks: &mut Array<__m128i, N>, key: __m128i) {
    for block in blocks {
        *block = _mm_aesdeclast_si128(*block, key);
    }
}
