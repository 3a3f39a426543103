//! kms_decrypt on arbitrary input (kms_encrypt output: the bare ciphertext, with
//! the key ID, algorithm, IV, padding and Aad the caller kept; the input layout is
//! `localkms_fuzz::DecryptInput`). Every answer must be a success with a
//! well-formed response or an expected status with a filled-in error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use localkms_fuzz::{run_decrypt, DecryptFn, DecryptInput};

fuzz_target!(|data: &[u8]| {
    if let Some(input) = DecryptInput::parse(data) {
        let plaintext = run_decrypt(DecryptFn::Plain, &input);
        // kms_decrypt requires its key: NULL never succeeds.
        assert!(input.key_id.is_some() || plaintext.is_none());
    }
});
