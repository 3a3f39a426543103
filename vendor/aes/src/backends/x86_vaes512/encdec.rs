use super::RoundKeys;
use crate::Block;
use cipher::{
    Array,
    array::ArraySize,
    consts::U4,
    inout::{InOut, InOutBuf},
    typenum::Quot,
};
use core::ops::Div;

#[cfg(target_arch = "x86")]
use core::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

pub(super) type RoundKeys4<const ROUNDS: usize> = [__m512i; ROUNDS];

type BatchBlocks<ParBlocks> = Array<__m512i, Quot<ParBlocks, U4>>;

#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn broadcast_keys<const RK: usize>(keys: &RoundKeys<RK>) -> RoundKeys4<RK> {
    let mut keys4 = [_mm512_setzero_si512(); RK];
    for (key4, key) in keys4.iter_mut().zip(keys) {
        *key4 = _mm512_broadcast_i32x4(*key);
    }
    keys4
}

#[inline]
#[target_feature(enable = "avx512f,vaes")]
pub(super) fn batch_encrypt<const RK: usize, ParBlocks>(
    keys: &RoundKeys4<RK>,
    mut blocks: InOut<'_, '_, Array<Block, ParBlocks>>,
) where
    ParBlocks: ArraySize + Div<U4>,
    Quot<ParBlocks, U4>: ArraySize,
{
    const {
        assert!(matches!(RK, 11 | 13 | 15));
        assert!(ParBlocks::USIZE % 4 == 0);
    }

    let mut blocks4 = load(blocks.get_in());

    for block4 in &mut blocks4 {
        *block4 = _mm512_xor_si512(*block4, keys[0]);
    }
    for key in &keys[1..RK - 1] {
        for block4 in &mut blocks4 {
            *block4 = _mm512_aesenc_epi128(*block4, *key);
        }
    }
    for block4 in &mut blocks4 {
        *block4 = _mm512_aesenclast_epi128(*block4, keys[RK - 1]);
    }

    store(blocks.get_out(), blocks4);
}

#[inline]
#[target_feature(enable = "avx512f,vaes")]
pub(super) fn batch_decrypt<const RK: usize, ParBlocks>(
    keys: &RoundKeys4<RK>,
    mut blocks: InOut<'_, '_, Array<Block, ParBlocks>>,
) where
    ParBlocks: ArraySize + Div<U4>,
    Quot<ParBlocks, U4>: ArraySize,
{
    const {
        assert!(matches!(RK, 11 | 13 | 15));
        assert!(ParBlocks::USIZE % 4 == 0);
    }

    let mut blocks4 = load(blocks.get_in());

    for block4 in &mut blocks4 {
        *block4 = _mm512_xor_si512(*block4, keys[0]);
    }
    for key in &keys[1..RK - 1] {
        for block4 in &mut blocks4 {
            *block4 = _mm512_aesdec_epi128(*block4, *key);
        }
    }
    for block4 in &mut blocks4 {
        *block4 = _mm512_aesdeclast_epi128(*block4, keys[RK - 1]);
    }

    store(blocks.get_out(), blocks4);
}

/// localkms patch: fewer blocks than a batch (1 to 31) through the rounds side by side, four to a
/// register, instead of one block after another as `BlockCipherEncBackend`'s default
/// `encrypt_tail_blocks` does (a 64-byte GCM message waited for four AES latencies in a row).
#[inline]
#[target_feature(enable = "avx512f,vaes")]
pub(super) fn tail_encrypt<const RK: usize>(keys: &RoundKeys4<RK>, blocks: InOutBuf<'_, '_, Block>) {
    match blocks.len().div_ceil(4) {
        0 => {}
        1 => tail::<RK, 1, false>(keys, blocks),
        2 => tail::<RK, 2, false>(keys, blocks),
        3 => tail::<RK, 3, false>(keys, blocks),
        4 => tail::<RK, 4, false>(keys, blocks),
        5 => tail::<RK, 5, false>(keys, blocks),
        6 => tail::<RK, 6, false>(keys, blocks),
        7 => tail::<RK, 7, false>(keys, blocks),
        _ => tail::<RK, 8, false>(keys, blocks),
    }
}

/// localkms patch: as [`tail_encrypt`], decrypting (CBC decryption's last blocks).
#[inline]
#[target_feature(enable = "avx512f,vaes")]
pub(super) fn tail_decrypt<const RK: usize>(keys: &RoundKeys4<RK>, blocks: InOutBuf<'_, '_, Block>) {
    match blocks.len().div_ceil(4) {
        0 => {}
        1 => tail::<RK, 1, true>(keys, blocks),
        2 => tail::<RK, 2, true>(keys, blocks),
        3 => tail::<RK, 3, true>(keys, blocks),
        4 => tail::<RK, 4, true>(keys, blocks),
        5 => tail::<RK, 5, true>(keys, blocks),
        6 => tail::<RK, 6, true>(keys, blocks),
        7 => tail::<RK, 7, true>(keys, blocks),
        _ => tail::<RK, 8, true>(keys, blocks),
    }
}

/// `blocks` (more than `4 * (R - 1)`, at most `4 * R`) in `R` registers; the lanes past the
/// last block are loaded as zeroes and never stored (masked loads and stores do not touch the
/// memory of masked-off lanes).
#[inline]
#[target_feature(enable = "avx512f,vaes")]
fn tail<const RK: usize, const R: usize, const DECRYPT: bool>(
    keys: &RoundKeys4<RK>,
    blocks: InOutBuf<'_, '_, Block>,
) {
    const { assert!(matches!(RK, 11 | 13 | 15) && R >= 1 && R <= 8) }
    let n = blocks.len();
    assert!(n > 4 * (R - 1) && n <= 4 * R);
    // Two 64-bit lanes per block; the last register holds 1 to 4 blocks.
    let last: __mmask8 = (0xffu16 >> (8 - 2 * (n - 4 * (R - 1)))) as __mmask8;
    let mask = |i: usize| if i + 1 == R { last } else { 0xff };
    let (src, dst) = blocks.into_raw();
    let (src, dst): (*const __m512i, *mut __m512i) = (src.cast(), dst.cast());

    let mut regs = [_mm512_setzero_si512(); R];
    for (i, reg) in regs.iter_mut().enumerate() {
        // SAFETY: the unmasked lanes are blocks `4 * i ..` of `n` in `src`; masked lanes are not read
        *reg = unsafe { _mm512_maskz_loadu_epi64(mask(i), src.add(i).cast()) };
    }
    for reg in &mut regs {
        *reg = _mm512_xor_si512(*reg, keys[0]);
    }
    for key in &keys[1..RK - 1] {
        for reg in &mut regs {
            *reg = if DECRYPT {
                _mm512_aesdec_epi128(*reg, *key)
            } else {
                _mm512_aesenc_epi128(*reg, *key)
            };
        }
    }
    for reg in &mut regs {
        *reg = if DECRYPT {
            _mm512_aesdeclast_epi128(*reg, keys[RK - 1])
        } else {
            _mm512_aesenclast_epi128(*reg, keys[RK - 1])
        };
    }
    for (i, reg) in regs.into_iter().enumerate() {
        // SAFETY: as for the loads; `dst` has `n` blocks (it may be `src`: every load came first)
        unsafe { _mm512_mask_storeu_epi64(dst.add(i).cast(), mask(i), reg) };
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load<ParBlocks>(blocks: &Array<Block, ParBlocks>) -> BatchBlocks<ParBlocks>
where
    ParBlocks: ArraySize + Div<U4>,
    Quot<ParBlocks, U4>: ArraySize,
{
    const { assert!(ParBlocks::USIZE % 4 == 0) }

    let src_ptr: *const __m512i = blocks.as_ptr().cast();
    // SAFETY: we use unaligned load instruction
    // A plain loop, not `Array::from_fn`: its closure, compiled without this
    // function's target features, is not always inlined into it.
    // SAFETY: all-zero bits are a valid value of every SIMD register type
    let mut batch: BatchBlocks<ParBlocks> = unsafe { core::mem::zeroed() };
    for (i, block) in batch.iter_mut().enumerate() {
        *block = unsafe { _mm512_loadu_si512(src_ptr.add(i)) };
    }
    batch
}

#[inline]
#[target_feature(enable = "avx512f")]
fn store<ParBlocks>(dst: &mut Array<Block, ParBlocks>, blocks: BatchBlocks<ParBlocks>)
where
    ParBlocks: ArraySize + Div<U4>,
    Quot<ParBlocks, U4>: ArraySize,
{
    const { assert!(ParBlocks::USIZE % 4 == 0) }

    let dst_ptr: *mut __m512i = dst.as_mut_ptr().cast();
    for (i, block) in blocks.into_iter().enumerate() {
        // SAFETY: we use unaligned store instruction
        unsafe { _mm512_storeu_si512(dst_ptr.add(i), block) }
    }
}
