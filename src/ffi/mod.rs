//! The C ABI: thin `extern "C"` shims over [`crate::service`].
//!
//! Every exported function runs inside one panic guard (`guard.rs`), checks its
//! pointers, converts, calls the safe Rust API and writes errors into `kms_error`.
//! Outputs are written only on success. All `unsafe` code of the crate is here.
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

mod client;
mod constants;
mod convert;
mod crypto;
mod data_keys;
mod guard;
mod keys;
#[cfg(test)]
mod panic_boundary_tests;
mod response;
mod status;

pub use client::*;
pub use constants::*;
pub use crypto::*;
pub use data_keys::*;
pub use keys::*;
pub use status::{kms_error, kms_status, kms_status_number};
