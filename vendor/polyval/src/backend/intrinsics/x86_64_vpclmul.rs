//! localkms patch: POLYVAL over eight blocks per reduction, with VPCLMULQDQ on 512-bit registers.
//!
//! The same R/F algorithm as `x86.rs`: block `j` of a group of `n` (at most eight) is multiplied
//! by H^(n-j), the first after the accumulator is added to it, and the R and F terms of the whole
//! group are summed before one reduction. Full groups of eight run four blocks to a 512-bit
//! register; the last `n < 8` blocks run one to a 128-bit register (`4n + 1` CLMULs, one
//! reduction), so that short inputs cost what they did before.
//!
//! For GHASH (`REVERSED`), each block's bytes are reversed in the register it is loaded into.

#![allow(unsafe_op_in_unsafe_fn)]

use super::ExpandedKey;
use super::intrinsics_impl::{compute_d, gf128_mul_rf, load_bytes, reduce_rf, rf_mul_unreduced};
use crate::{Block, field_element::FieldElement};
use core::arch::x86_64::*;

cpufeatures::new!(vpclmul, "avx512f", "avx512bw", "vpclmulqdq");
pub(crate) use vpclmul::InitToken;

/// Blocks per reduction.
const WIDTH: usize = 8;

/// H^8, H^7, H^6, H^5 (entry `i` is H^(8-i)) and the D value of each, for the R/F algorithm.
#[derive(Clone, Default)]
pub(crate) struct HighPowers {
    h: [FieldElement; 4],
    d: [FieldElement; 4],
}

/// H^5 ... H^8 from H^1 ... H^4 and their D values (as `x86.rs` computes them).
///
/// # Safety
/// Requires PCLMULQDQ support with VEX operands.
#[target_feature(enable = "avx", enable = "pclmulqdq")]
pub(super) unsafe fn expand_key(low: [(__m128i, __m128i); 4]) -> HighPowers {
    let mut high = HighPowers::default();
    let h4 = low[3].0;
    for (i, &(h, d)) in low.iter().enumerate() {
        // H^(i+5) = H^4 · H^(i+1), stored as entry 3-i
        let power = gf128_mul_rf(h4, h, d);
        high.h[3 - i] = store(power);
        high.d[3 - i] = store(compute_d(power));
    }
    high
}

/// H^(8-i) and its D value.
#[target_feature(enable = "sse2")]
#[inline]
unsafe fn power(key: &ExpandedKey, i: usize) -> (__m128i, __m128i) {
    let (h, d) = match i {
        0..4 => (&key.high.h[i], &key.high.d[i]),
        4 => (&key.h4, &key.d4),
        5 => (&key.h3, &key.d3),
        6 => (&key.h2, &key.d2),
        _ => (&key.h1, &key.d1),
    };
    (load_bytes(&(*h).into()), load_bytes(&(*d).into()))
}

/// Absorbs `blocks` into `acc`: eight at a time, then the rest as one group.
///
/// This function itself uses only 128-bit registers, so that short inputs do not pay for the
/// `vzeroupper` that leaving 512-bit code costs; full groups go to `update_groups`.
///
/// # Safety
/// Requires AVX-512F, AVX-512BW and VPCLMULQDQ (and so AVX and PCLMULQDQ); `key` must come
/// from `x86.rs`'s `expand_key`.
#[target_feature(enable = "avx", enable = "pclmulqdq")]
pub(super) unsafe fn update<const REVERSED: bool>(
    key: &ExpandedKey,
    acc: FieldElement,
    blocks: &[Block],
) -> FieldElement {
    let mut y = load_bytes(&acc.into());

    let groups = blocks.chunks_exact(WIDTH);
    let rest = groups.remainder();
    if groups.len() > 0 {
        y = update_groups::<REVERSED>(key, y, &blocks[..blocks.len() - rest.len()]);
    }

    if !rest.is_empty() {
        let first = WIDTH - rest.len();
        let (mut r, mut f) = (_mm_setzero_si128(), _mm_setzero_si128());
        for (j, block) in rest.iter().enumerate() {
            let mut m = order_one::<REVERSED>(load_bytes(&block.0));
            if j == 0 {
                m = _mm_xor_si128(m, y);
            }
            let (h, d) = power(key, first + j);
            let (rj, fj) = rf_mul_unreduced(m, h, d);
            r = _mm_xor_si128(r, rj);
            f = _mm_xor_si128(f, fj);
        }
        y = reduce_rf(r, f);
    }

    store(y)
}

/// Absorbs `blocks`, a multiple of eight, into `y`, four blocks to a 512-bit register.
///
/// # Safety
/// As `update`.
#[target_feature(
    enable = "avx",
    enable = "pclmulqdq",
    enable = "avx512f",
    enable = "avx512bw",
    enable = "vpclmulqdq"
)]
#[inline(never)]
unsafe fn update_groups<const REVERSED: bool>(
    key: &ExpandedKey,
    mut y: __m128i,
    blocks: &[Block],
) -> __m128i {
    // [H^8, H^7, H^6, H^5] and [H^4, H^3, H^2, H^1], lane 0 first
    let mut h = [_mm512_setzero_si512(); 2];
    let mut d = [_mm512_setzero_si512(); 2];
    for i in 0..WIDTH {
        let (hi, di) = power(key, i);
        let lane = 0b1111 << (4 * (i % 4));
        let (h, d) = (&mut h[i / 4], &mut d[i / 4]);
        *h = _mm512_mask_broadcast_i32x4(*h, lane, hi);
        *d = _mm512_mask_broadcast_i32x4(*d, lane, di);
    }
    for group in blocks.chunks_exact(WIDTH) {
        let p = group.as_ptr().cast::<__m512i>();
        let a = order::<REVERSED>(_mm512_loadu_si512(p));
        let b = order::<REVERSED>(_mm512_loadu_si512(p.add(1)));
        let a = _mm512_xor_si512(a, _mm512_zextsi128_si512(y));
        y = mul_sum(a, h[0], d[0], b, h[1], d[1]);
    }
    y
}

/// Sum of the R/F products of the four blocks in `a` and the four in `b` with the powers beside
/// them, reduced (8 wide CLMULs, 1 narrow).
#[target_feature(
    enable = "avx",
    enable = "pclmulqdq",
    enable = "avx512f",
    enable = "vpclmulqdq"
)]
#[inline]
unsafe fn mul_sum(
    a: __m512i,
    h_a: __m512i,
    d_a: __m512i,
    b: __m512i,
    h_b: __m512i,
    d_b: __m512i,
) -> __m128i {
    // R = M0×D1 ⊕ M1×H1, F = M0×D0 ⊕ M1×H0, lane by lane
    let r = xor4(
        _mm512_clmulepi64_epi128(a, d_a, 0x10),
        _mm512_clmulepi64_epi128(a, h_a, 0x11),
        _mm512_clmulepi64_epi128(b, d_b, 0x10),
        _mm512_clmulepi64_epi128(b, h_b, 0x11),
    );
    let f = xor4(
        _mm512_clmulepi64_epi128(a, d_a, 0x00),
        _mm512_clmulepi64_epi128(a, h_a, 0x01),
        _mm512_clmulepi64_epi128(b, d_b, 0x00),
        _mm512_clmulepi64_epi128(b, h_b, 0x01),
    );
    reduce_rf(fold(r), fold(f))
}

#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn xor4(w: __m512i, x: __m512i, y: __m512i, z: __m512i) -> __m512i {
    _mm512_xor_si512(_mm512_ternarylogic_epi64(w, x, y, 0x96), z)
}

/// XOR of the four 128-bit lanes.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn fold(v: __m512i) -> __m128i {
    let v = _mm256_xor_si256(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1))
}

/// Byte `i` of each 128-bit lane takes byte `15 - i`.
#[target_feature(enable = "sse2")]
#[inline]
unsafe fn reverse_bytes() -> __m128i {
    _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
}

/// Four blocks as POLYVAL reads them: unchanged, or (GHASH) each byte-reversed.
#[target_feature(enable = "avx512f", enable = "avx512bw")]
#[inline]
unsafe fn order<const REVERSED: bool>(v: __m512i) -> __m512i {
    if REVERSED {
        _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(reverse_bytes()))
    } else {
        v
    }
}

/// One block as POLYVAL reads it.
#[target_feature(enable = "avx")]
#[inline]
unsafe fn order_one<const REVERSED: bool>(v: __m128i) -> __m128i {
    if REVERSED {
        _mm_shuffle_epi8(v, reverse_bytes())
    } else {
        v
    }
}

#[target_feature(enable = "sse2")]
#[inline]
unsafe fn store(v: __m128i) -> FieldElement {
    let mut out = [0u8; 16];
    _mm_storeu_si128(out.as_mut_ptr().cast(), v);
    out.into()
}
