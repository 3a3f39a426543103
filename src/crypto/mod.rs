//! GCM / CBC / ECB over AES and SM4, PKCS#7, the IV rules, and the blob format.

mod algorithm;
#[cfg(feature = "aws-lc")]
mod aws_lc_gcm;
pub mod blob;
pub mod buffer;
mod cipher;
mod cipher_mode;
mod fast_wipe;
mod lengths;
mod padding;
// Unsafe: zeroing the stack a cipher call used with AVX2 stores where the CPU has them.
#[allow(unsafe_code)]
mod stack_wipe;
// Unsafe (one of the few places outside src/ffi/): wiping the raw memory of a dropped cipher.
#[allow(unsafe_code)]
mod wiped_box;

pub use algorithm::{Algorithm, CipherFamily, Mode};
pub use buffer::{MAX_CIPHERTEXT_LEN, MAX_PLAINTEXT_LEN};
pub use cipher::KeyCipher;
pub use cipher_mode::CipherMode;
pub use fast_wipe::{wipe, SecretBytes};
pub use lengths::{BLOCK_LEN, CBC_IV_LEN, GCM_IV_LEN, GCM_TAG_LEN, MAX_AAD_LEN};
pub use padding::{padding_name, PaddingMode};
