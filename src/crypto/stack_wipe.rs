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
//! builds on x86-64 with VAES/AVX-512:
//! - RustCrypto: at most 8,184 bytes below the caller in the default build
//!   (AES-256-GCM; AES-128-GCM 7,480, CBC and ECB up to 6,904, SM4 up to 1,272),
//!   and 9,192 in the `aws-lc` build, whose codegen differs (AES-256-CBC decrypt);
//! - AWS-LC's GCM: at most 3,104 (16 KiB; 1,480 at 64 B). It leaves H, in the
//!   POLYVAL key's form, on the stack too: its call is wiped as well.
//!
//! Debug builds, whose frames are unoptimised, write at most 29,064 bytes deep.
//! Each wipe covers its measurement with a margin of about a third.
//!
//! The zeroing is a plain array initialisation that `black_box` keeps (the
//! compiler must assume the zeroes are read), so it is one `memset`, not a
//! byte-by-byte volatile loop, and needs no `unsafe`. Its cost, in thread CPU
//! time on that host: about 110 ns per call for the 12 KiB after RustCrypto (a
//! 64 B AES-256-GCM seal takes 342 ns with it, 232 ns without), against 4-7 us
//! for zeroize's volatile loop over 16 KiB.

use std::hint::black_box;

const DEBUG_DEPTH: usize = 40 * 1024;

/// Bytes below the caller that a RustCrypto cipher call may have written, with
/// margin.
const RUSTCRYPTO_CALL_DEPTH: usize = if cfg!(debug_assertions) {
    DEBUG_DEPTH
} else {
    12 * 1024
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

/// Zeroes `N` bytes of the stack below the caller's frame, where the frames of
/// the call it just made were. Never inlined, so its frame is where theirs were.
#[inline(never)]
fn zero_below<const N: usize>() {
    let mut area = [0u8; N];
    black_box(&mut area);
}

/// After a RustCrypto cipher call (GCM, CBC or ECB; AES or SM4).
pub(crate) fn after_rustcrypto_call() {
    zero_below::<RUSTCRYPTO_CALL_DEPTH>();
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
