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
//! below, call, look): in a release build on x86-64 with VAES/AVX-512, at most
//! 8,184 bytes below the caller (AES-256-GCM; AES-128 7,480, CBC and ECB up to
//! 6,904, SM4 up to 1,272); in a debug build, whose frames are unoptimised, at
//! most 29,064. The wipes cover that with a margin.
//!
//! The zeroing is a plain array initialisation that `black_box` keeps (the
//! compiler must assume the zeroes are read), so it is one `memset`, not a
//! byte-by-byte volatile loop, and needs no `unsafe`. Per call it costs about
//! 100 ns (10 KiB; see the commit that added it).

use std::hint::black_box;

/// Bytes below the caller that a cipher call may have written, with margin.
const CIPHER_CALL_DEPTH: usize = if cfg!(debug_assertions) {
    40 * 1024
} else {
    10 * 1024
};

/// Bytes below the caller that a key expansion may have written, with margin
/// (once per key version, never per call).
const KEY_SETUP_DEPTH: usize = if cfg!(debug_assertions) {
    40 * 1024
} else {
    16 * 1024
};

/// Zeroes the stack below the caller's frame where the cipher call it just made
/// ran. Never inlined, so its frame is where the callee's frames were.
#[inline(never)]
pub(crate) fn after_cipher_call() {
    let mut area = [0u8; CIPHER_CALL_DEPTH];
    black_box(&mut area);
}

/// The same after a key expansion (AWS-LC's key setup, for one, leaves the first
/// round key, the key's first 16 bytes, on the stack).
#[inline(never)]
pub(crate) fn after_key_setup() {
    let mut area = [0u8; KEY_SETUP_DEPTH];
    black_box(&mut area);
}
