//! Zeroing the stack a cipher call has just used.
//!
//! The cipher crates keep round keys and the POLYVAL key in registers and spill
//! them to the stack (aes 0.9's VAES backends broadcast every round key into a
//! 512-bit register, in frames of up to 2 KiB); a moved-from GHASH state
//! stays where it was. A value built later in the same stack region with bytes no
//! field covers (an index node with unused slots, moved into a box) would carry
//! those bytes into the heap (tests/secrets_in_freed_memory.rs), so the stack a
//! cipher call used is zeroed as soon as it returns.
//!
//! How deep the calls write was measured by tests/cipher_stack.rs (paint the stack
//! below, call, look), built with `RUSTFLAGS="--cfg localkms_unwiped_stack"`,
//! which switches the wipe off (and so fails that test's checks), release builds
//! on x86-64, at 0 B, 64 B, 240 B, 241 B and 16 KiB:
//! - RustCrypto AES with aes 0.9's VAES/AVX-512 backend (a CPU with AVX-512F and
//!   VAES), as patched in vendor/aes (round keys widened without `array::map`,
//!   batches of 32 blocks instead of 64, the blocks after the last batch side by
//!   side) with vendor/ctr and vendor/aes-gcm: at most 3,120 bytes below the
//!   caller in the default build (AES-256-GCM seal of 16 KiB; CBC up to 768, ECB
//!   1,712) and 2,976 in the `aws-lc` build (AES-192-GCM), on an AMD EPYC of
//!   family 25 model 17, 2026-12-03. Before the side-by-side tails they were
//!   2,296 and 1,864: the frame that applies the counter keystream now hands its
//!   last blocks' 512-byte buffer to the tail's own code, where it had been
//!   filled one block at a time. A GCM message of at most 240 bytes, whose
//!   keystream and tag mask vendor/aes-gcm makes in one call into the cipher,
//!   writes at most 1,416 bytes deep (at 240 B; 1,400 at 0 and 64 B), and gets a
//!   wipe of its own. With batches of 64 blocks they were 5,240 and 7,240
//!   there, aes 0.9.4 as published 7,256, and on an Intel Xeon (family 6
//!   model 167) 8,184 and 9,192;
//! - RustCrypto AES with its VAES/AVX2 and AES-NI backends, on the same host with
//!   vendor/aes's checks for the wider backends made false at run time
//!   (`core::hint::black_box(false) &&` before `self.token.vaes512.get()`, and
//!   before `vaes256` too), so that the library keeps every backend's code and
//!   frames as shipped, 2026-12-03: VAES/AVX2 at most 5,168 bytes (AES-256-GCM,
//!   241 B; 4,384 at 240 B; CBC 3,568, ECB 3,392), AES-NI at most 3,688
//!   (AES-256-GCM, 16 KiB). So measured, the commit before this session's
//!   (4b71d26) wrote 4,784 bytes on the VAES/AVX2 path, past its one 3.5 KiB
//!   depth: that depth rested on a measurement of 2026-12-02 (1,656 bytes, on
//!   a VAES/AVX2 host) that later changes outgrew. Each backend now has its own
//!   depth, chosen as aes chooses its backend;
//! - RustCrypto SM4: at most 1,368 bytes (SM4-GCM) in the default build and 1,352
//!   in the `aws-lc` build (2026-12-03), since aes-gcm no longer clones the GHASH
//!   state for each tag (2,056-2,200 with the clone); CBC and ECB up to 600;
//! - AWS-LC's GCM: at most 3,216 (16 KiB; 1,608 at 64 B). It leaves H, in the
//!   POLYVAL key's form, on the stack too: its call is wiped as well.
//!
//! Debug builds, whose frames are unoptimised, write at most 29,064 bytes deep.
//! Each wipe covers its measurement with a margin of at least a third, and
//! tests/cipher_stack.rs checks that no byte a call wrote lies below its wipe's
//! zeroes on the backend the host runs (on an AVX-512 host, the VAES/AVX-512
//! one; the depths of the others come from the measurement above). On the
//! AVX-512 backend the batches of 32 took a 64 B AdvanceEncrypt's wipe from
//! 8 KiB to 3.5 KiB, and the one-call path of vendor/aes-gcm to 2 KiB; on CPUs
//! without AVX-512 a 12 KiB wipe had been a sixth of the call (790-933 ns
//! against 557-799 with 3 KiB, on the AMD host of family 25 model 1,
//! `build/kms_loop aenc 64 1000000`).
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
/// margin, where aes 0.9 runs its VAES/AVX-512 backend: 3,120 measured (a third
/// more: 4,160), 3,510 if the Intel host writes an eighth deeper than the AMD
/// one again, as it did with the published crate.
const AES_AVX512_CALL_DEPTH: usize = 4224;

/// The same for a GCM message of at most `aes_gcm::ONE_CALL_MAX_LEN` (240)
/// bytes on the VAES/AVX-512 backend: 1,416 measured at 240 B (1,400 at 0 and
/// 64 B); the next byte takes the deeper path. vendor/aes-gcm makes such a
/// message's keystream and tag mask in one call into the cipher, whose frames
/// hold no batch buffers.
const AES_AVX512_ONE_CALL_GCM_DEPTH: usize = 2 * 1024;

/// The same where aes runs its VAES/AVX2 backend (VAES without AVX-512): 5,168
/// measured (AES-256-GCM, 241 B; 4,384 at 240 B). Its frames and those of the
/// AES-NI code it inlines for short batches are deeper than the AVX-512 ones.
const AES_AVX2_CALL_DEPTH: usize = 7 * 1024;

/// The same where aes runs its AES-NI backend (no VAES): 3,688 measured
/// (AES-256-GCM, 16 KiB).
const AES_NI_CALL_DEPTH: usize = 5 * 1024;

/// Elsewhere (aes's portable backend, other architectures), where no depth was
/// measured: the 8 KiB that covered the deepest x86-64 backend before.
const AES_OTHER_CALL_DEPTH: usize = 8 * 1024;

/// Which x86 backend aes 0.9 runs, chosen as aes chooses it (vendor/aes
/// `src/lib.rs`: VAES/AVX-512 where the CPU has AVX-512F and VAES, VAES/AVX2
/// where it has VAES, AES-NI where it has AES-NI). std caches the CPU's
/// features, so this is a few loads per call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum AesBackend {
    Avx512,
    Avx2,
    AesNi,
    Other,
}

fn aes_backend() -> AesBackend {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("vaes")
        {
            return AesBackend::Avx512;
        }
        if std::arch::is_x86_feature_detected!("vaes") {
            return AesBackend::Avx2;
        }
        if std::arch::is_x86_feature_detected!("aes") {
            return AesBackend::AesNi;
        }
    }
    AesBackend::Other
}

/// After a RustCrypto AES call; `one_call_gcm`: GCM on a message of at most
/// `aes_gcm::ONE_CALL_MAX_LEN` bytes.
fn after_aes_call(one_call_gcm: bool) {
    if cfg!(debug_assertions) {
        zero_below::<DEBUG_DEPTH>();
        return;
    }
    match (aes_backend(), one_call_gcm) {
        (AesBackend::Avx512, true) => zero_below::<AES_AVX512_ONE_CALL_GCM_DEPTH>(),
        (AesBackend::Avx512, false) => zero_below::<AES_AVX512_CALL_DEPTH>(),
        (AesBackend::Avx2, _) => zero_below::<AES_AVX2_CALL_DEPTH>(),
        (AesBackend::AesNi, _) => zero_below::<AES_NI_CALL_DEPTH>(),
        (AesBackend::Other, _) => zero_below::<AES_OTHER_CALL_DEPTH>(),
    }
}

/// Bytes below the caller that a RustCrypto SM4 call may have written, with
/// margin (1,368 measured).
const SM4_CALL_DEPTH: usize = if cfg!(debug_assertions) {
    DEBUG_DEPTH
} else {
    2 * 1024
};

/// Bytes below the caller that an AWS-LC GCM call may have written, with margin
/// (3,168 measured: AES-256, 1 KiB, no Aad, on its AVX-512 code).
#[cfg(feature = "aws-lc")]
const AWS_LC_CALL_DEPTH: usize = if cfg!(debug_assertions) {
    DEBUG_DEPTH
} else {
    4608
};

/// The longest message, and the longest Aad, of an AWS-LC GCM call that gets
/// [`AWS_LC_SHORT_CALL_DEPTH`]. Its AVX-512 code takes its deeper path from 257
/// message bytes, or from 272 Aad bytes (17 whole blocks) on.
#[cfg(feature = "aws-lc")]
pub(crate) const AWS_LC_SHORT_MAX_LEN: usize = 256;

/// The same for a message and an Aad of at most [`AWS_LC_SHORT_MAX_LEN`] bytes
/// each: 1,544 measured on AWS-LC's AVX-512 code (at 256 B, with 271 bytes of
/// Aad as with none). Its other code, chosen with `OPENSSL_ia32cap` (AVX without
/// AVX-512, AES-NI without AVX, no AES-NI), wrote at most 1,736 bytes at any
/// length up to 16 KiB.
#[cfg(feature = "aws-lc")]
const AWS_LC_SHORT_CALL_DEPTH: usize = if cfg!(debug_assertions) {
    DEBUG_DEPTH
} else {
    2 * 1024
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
    // Only for measuring how deep the calls write (tests/cipher_stack.rs, whose
    // checks then fail): never in a build anyone runs.
    if cfg!(localkms_unwiped_stack) {
        return;
    }
    // Not `Area([MaybeUninit::uninit(); N])`: unoptimised, that array expression
    // is a temporary of N bytes right below the caller, filled with whatever
    // byte a register held (a `memset`) and then copied into `area`, N bytes
    // further down; the zeroes then missed the stack they were for by N bytes.
    let mut area = MaybeUninit::<Area<N>>::uninit();
    // SAFETY: an `Area` is an array of `MaybeUninit<u8>`, valid whatever its bytes.
    let area = unsafe { area.assume_init_mut() };
    zero(&mut area.0);
    black_box(area);
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

/// After a RustCrypto cipher call (GCM, CBC or ECB; AES or SM4); `one_call_gcm`:
/// it was GCM on a message of at most `aes_gcm::ONE_CALL_MAX_LEN` bytes.
pub(crate) fn after_rustcrypto_call(family: CipherFamily, one_call_gcm: bool) {
    match (family, one_call_gcm) {
        (CipherFamily::Aes, one_call_gcm) => after_aes_call(one_call_gcm),
        (CipherFamily::Sm4, _) => zero_below::<SM4_CALL_DEPTH>(),
    }
}

/// After an AWS-LC GCM call; `short`: on a message and an Aad of at most
/// [`AWS_LC_SHORT_MAX_LEN`] bytes each.
#[cfg(feature = "aws-lc")]
pub(crate) fn after_aws_lc_call(short: bool) {
    if short {
        zero_below::<AWS_LC_SHORT_CALL_DEPTH>();
    } else {
        zero_below::<AWS_LC_CALL_DEPTH>();
    }
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
        check::<AES_AVX512_CALL_DEPTH>();
        check::<AES_AVX512_ONE_CALL_GCM_DEPTH>();
        check::<AES_AVX2_CALL_DEPTH>();
        check::<AES_NI_CALL_DEPTH>();
        check::<AES_OTHER_CALL_DEPTH>();
        check::<DEBUG_DEPTH>();
        check::<SM4_CALL_DEPTH>();
        check::<KEY_SETUP_DEPTH>();
        check::<STORES_PER_ROUND>();
        #[cfg(feature = "aws-lc")]
        check::<AWS_LC_CALL_DEPTH>();
        #[cfg(feature = "aws-lc")]
        check::<AWS_LC_SHORT_CALL_DEPTH>();
    }
}
