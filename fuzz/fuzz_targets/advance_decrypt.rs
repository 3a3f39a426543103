//! kms_advance_decrypt on arbitrary input: the `$` blob, the gateway form, and
//! kms_encrypt output with a key ID, algorithm, IV, padding and Aad (the input
//! layout is `localkms_fuzz::DecryptInput`). Every answer must be a success with
//! a well-formed response or an expected status with a filled-in error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use localkms_fuzz::{run_decrypt, DecryptFn, DecryptInput};

fuzz_target!(|data: &[u8]| {
    if let Some(input) = DecryptInput::parse(data) {
        run_decrypt(DecryptFn::Advance, &input);
    }
});
