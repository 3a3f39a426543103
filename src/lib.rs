//! localkms: Alibaba Cloud KMS's symmetric encryption operations (AdvanceEncrypt,
//! AdvanceDecrypt, Encrypt, Decrypt, key versions, rotation, aliases, key states,
//! imported key material), locally, offline and in-process.
//!
//! The C ABI (`include/localkms.h`) is in [`ffi`]; the same operations in safe Rust
//! are in [`service`].

// `unsafe` lives only in the C layer (docs/c-api.md §5), in `crypto/wiped_box.rs`,
// which wipes the raw memory of a dropped cipher (the cipher crates' own Drop
// leaves key bytes behind), in `crypto/stack_wipe.rs`, which zeroes the stack a
// cipher call used with AVX2 stores (twice memset's speed there), and in `keystore/fork_gate.rs`, the pthread rwlock
// that keeps fork() from splitting a database operation, and in `random.rs`, whose
// pthread_atfork handler makes a forked child reseed its IV generator, and in
// `time.rs`, which reads the coarse clocks (realtime and monotonic); the compiler holds the rest of
// the crate to that.
#![deny(unsafe_code)]

pub mod crypto;
pub mod error;
#[allow(unsafe_code)]
pub mod ffi;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod ids;
pub mod keystore;
#[allow(unsafe_code)]
pub mod random;
pub mod service;
pub mod time;

pub use error::{Error, ErrorKind, Result};
pub use service::Client;
