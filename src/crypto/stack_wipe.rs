//! Zeroing the stack a cipher call has just used.
//!
//! The cipher crates keep round keys and the POLYVAL key in registers and spill
//! them to the stack (aes 0.9's VAES backends broadcast every round key into a
//! 512-bit register, and their frames are up to 4 KiB); a moved-from GHASH state
//! stays where it was. A value built later in the same stack region with bytes no
//! field covers (an index node with unused slots, moved into a box) would carry
//! those bytes into the heap (tests/secrets_in_freed_memory.rs), so the stack a
//! cipher call used is zeroed as soon as it returns.
//!
//! How deep the calls write was measured by tests/cipher_stack.rs (paint the stack
//! below, call, look; the depths below are with the wipe switched off), release
//! builds on x86-64:
//! - RustCrypto AES with aes 0.9's VAES/AVX-512 backend (a CPU with AVX-512F and
//!   VAES), as patched in vendor/aes (its round keys widened without
//!   `array::map`): at most 5,016 bytes below the caller in the default build
//!   (AES-256-GCM; CBC up to 3,688, ECB 840) and 7,240 in the `aws-lc` build,
//!   whose codegen differs (AES-192-GCM; CBC up to 6,152), on an AMD EPYC of
//!   family 25 model 17, 2026-12-02. aes 0.9.4 as published wrote 7,256 there,
//!   and on an Intel Xeon (family 6 model 167) 8,184 in the default build and
//!   9,192 in the `aws-lc` one;
//! - RustCrypto AES with its VAES/AVX2 backend (AMD EPYC, family 25 model 1, no
//!   AVX-512) or its AES-NI one (the same host under valgrind, which hides VAES):
//!   at most 1,656 bytes in the default build (AES-256-GCM seal; CBC and ECB up
//!   to 912) and 1,832 in the `aws-lc` build (AES-192-GCM seal), 2026-12-02;
//! - RustCrypto SM4: at most 1,512 bytes (SM4-GCM) in the default build and
//!   1,544 in the `aws-lc` build (2026-12-02); CBC and ECB up to 776;
//! - AWS-LC's GCM: at most 3,104 (16 KiB; 1,480 at 64 B). It leaves H, in the
//!   POLYVAL key's form, on the stack too: its call is wiped as well.
//!
//! Debug builds, whose frames are unoptimised, write at most 29,064 bytes deep.
//! Each wipe covers its measurement with a margin of at least a third; the AES
//! wipe is chosen per call by the CPU's features ([`aes_runs_wide`]): where the
//! deep backend may run, 8 KiB in the default build (12 KiB in the `aws-lc` one,
//! whose hot path, AES-128 and AES-256 GCM, is AWS-LC's and wiped by its own
//! depth), 3 KiB elsewhere. On the AMD host of family 25 model 1, the 3 KiB
//! wipe took a 64 B AdvanceEncrypt from 790-933 ns to 557-799 ns of CPU time
//! (`build/kms_loop aenc 64 1000000`, three runs each).
//!
//! The zeroing writes an area of the wipe's own frame that `black_box` then
//! hands on (the compiler must assume the zeroes are read, so it keeps them).
//! Where the CPU has AVX2 it is a loop of aligned 32-byte stores; elsewhere (and
//! under Miri) one `memset`. Never zeroize's byte-by-byte volatile loop: 4-7 us
//! over 16 KiB. Why not always `memset`: for these sizes glibc uses `rep stosb`,
//! which on the AMD EPYC host CI ran on until 2026-12-01 zeroes 12 KiB in 109 ns
//! and 4 KiB in 33 ns, where the store loop takes 65 and 18 ns (the better of 7
//! runs of 200,000, thread CPU time); on the Intel host of the README's tables
//! since, both take the same (12 KiB: 55 ns, 4 KiB: 17-18 ns). On the AMD host
//! the 12 KiB after RustCrypto were a fifth of a 64 B AdvanceEncrypt (342 ns for
//! the seal with the memset, 232 without).

use std::hint::black_box;
use std::mem::MaybeUninit;

use super::CipherFamily;

const DEBUG_DEPTH: usize = 40 * 1024;

/// Bytes below the caller that a RustCrypto AES call may have written, with
/// margin, where aes 0.9 runs its VAES/AVX-512 backend (see [`aes_runs_wide`]).
const AES_WIDE_CALL_DEPTH: usize = if cfg!(debug_assertions) {
    DEBUG_DEPTH
} else if cfg!(feature = "aws-lc") {
    12 * 1024
} else {
    8 * 1024
};

/// The same where it runs its AES-NI or VAES/AVX2 backend, whose frames are a
/// third as deep (measured with aes 0.9.4 as published, which the patch in
/// vendor/aes can only make shallower): a 12 KiB wipe there was a sixth of a 64 B
/// encrypt.
const AES_CALL_DEPTH: usize = if cfg!(debug_assertions) {
    DEBUG_DEPTH
} else {
    3 * 1024
};

/// Bytes below the caller that a RustCrypto SM4 call may have written, with
/// margin: SM4 has no VAES backend to spill round keys from, so its calls stay
/// within a sixth of AES's depth, and a 12 KiB wipe would be most of their cost.
const SM4_CALL_DEPTH: usize = if cfg!(debug_assertions) {
    DEBUG_DEPTH
} else {
    2 * 1024
};

/// Bytes below the caller that an AWS-LC GCM call may have written, with margin.
#[cfg(feature = "aws-lc")]
const AWS_LC_CALL_DEPTH: usize = if cfg!(debug_assertions) {
    DEBUG_DEPTH
} else {
    4 * 1024
};

/// Bytes below the caller that a key expansion may have written, with margin
/// (once per key version, never per call).
const KEY_SETUP_DEPTH: usize = if cfg!(debug_assertions) {
    DEBUG_DEPTH
} else {
    16 * 1024
};

/// `N` bytes of stack, aligned for 32-byte stores.
#[repr(C, align(32))]
struct Area<const N: usize>([MaybeUninit<u8>; N]);

/// Zeroes `N` bytes of the stack below the caller's frame, where the frames of
/// the call it just made were. Never inlined, so its frame is where theirs were.
#[inline(never)]
fn zero_below<const N: usize>() {
    const { assert!(N.is_multiple_of(STORES_PER_ROUND)) };
    let mut area = Area::<N>([MaybeUninit::uninit(); N]);
    zero(&mut area.0);
    black_box(&mut area);
}

/// Bytes one round of [`zero_avx2`] writes; every depth is a multiple of it.
const STORES_PER_ROUND: usize = 128;

/// Zeroes `area`, whose length is a multiple of [`STORES_PER_ROUND`] and which
/// starts on 32 bytes.
#[inline(always)]
fn zero(area: &mut [MaybeUninit<u8>]) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just now; std caches the answer), and
        // `area` is what `zero_avx2` asks for: `Area` is aligned on 32 bytes and
        // `zero_below` checks its length at compile time.
        unsafe { zero_avx2(area) };
        return;
    }
    // One `memset`, which Miri also does in one step (a `fill` loop of 40 KiB per
    // cipher call made the Miri tests take 457 s instead of 257).
    // SAFETY: `area` is a writable slice of `area.len()` bytes.
    unsafe { area.as_mut_ptr().write_bytes(0, area.len()) };
}

/// Zeroes `area` with aligned 32-byte stores, four to a round.
///
/// # Safety
/// The CPU has AVX2; `area` starts on 32 bytes and its length is a multiple of
/// [`STORES_PER_ROUND`].
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[target_feature(enable = "avx2")]
unsafe fn zero_avx2(area: &mut [MaybeUninit<u8>]) {
    use std::arch::x86_64::{__m256i, _mm256_setzero_si256};
    debug_assert!(
        area.len().is_multiple_of(STORES_PER_ROUND) && (area.as_ptr() as usize).is_multiple_of(32)
    );
    let zero = _mm256_setzero_si256();
    for round in area.chunks_exact_mut(STORES_PER_ROUND) {
        let at = round.as_mut_ptr().cast::<__m256i>();
        // SAFETY: four 32-byte stores inside this 128-byte round of `area`,
        // each on 32 bytes (the caller's promise). Volatile, or LLVM turns the
        // loop back into the `memset` it replaces.
        unsafe {
            at.write_volatile(zero);
            at.add(1).write_volatile(zero);
            at.add(2).write_volatile(zero);
            at.add(3).write_volatile(zero);
        }
    }
}

/// Whether aes 0.9 may run its VAES/AVX-512 backend here, the one that writes
/// deep: it does where the CPU has AVX-512F and VAES (its own runtime check);
/// this asks for AVX-512F alone, so a CPU with AVX-512 and no VAES is wiped as
/// deep too. Off x86-64 (where no depth was measured) the deep wipe is kept.
/// std caches the answer: one load per call.
#[inline(always)]
fn aes_runs_wide() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        true
    }
}

/// After a RustCrypto cipher call (GCM, CBC or ECB; AES or SM4).
pub(crate) fn after_rustcrypto_call(family: CipherFamily) {
    match family {
        CipherFamily::Aes if aes_runs_wide() => zero_below::<AES_WIDE_CALL_DEPTH>(),
        CipherFamily::Aes => zero_below::<AES_CALL_DEPTH>(),
        CipherFamily::Sm4 => zero_below::<SM4_CALL_DEPTH>(),
    }
}

/// After an AWS-LC GCM call.
#[cfg(feature = "aws-lc")]
pub(crate) fn after_aws_lc_call() {
    zero_below::<AWS_LC_CALL_DEPTH>();
}

/// The same after a key expansion (AWS-LC's key setup, for one, leaves the first
/// round key, the key's first 16 bytes, on the stack).
pub(crate) fn after_key_setup() {
    zero_below::<KEY_SETUP_DEPTH>();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte of each depth's area is zero afterwards, whichever way the CPU
    /// zeroes (AVX2 here; `memset` under Miri and on CPUs without it).
    #[test]
    fn zero_clears_every_byte_of_each_depth() {
        fn check<const N: usize>() {
            let mut area = Box::new(Area::<N>([MaybeUninit::new(0xa5); N]));
            zero(&mut area.0);
            // SAFETY: every byte was initialised (0xa5), then zeroed.
            assert!(area.0.iter().all(|b| unsafe { b.assume_init() } == 0));
        }
        check::<AES_WIDE_CALL_DEPTH>();
        check::<AES_CALL_DEPTH>();
        check::<SM4_CALL_DEPTH>();
        check::<KEY_SETUP_DEPTH>();
        check::<STORES_PER_ROUND>();
        #[cfg(feature = "aws-lc")]
        check::<AWS_LC_CALL_DEPTH>();
    }
}
