//! The fixed lengths of the modes, the block and the Aad.

/// Length of an AES-GCM IV (the only one accepted).
pub const GCM_IV_LEN: usize = 12;
/// Length of an AES-GCM tag, appended to the ciphertext.
pub const GCM_TAG_LEN: usize = 16;
/// Length of an AES-CBC IV.
pub const CBC_IV_LEN: usize = 16;
/// The AES block size.
pub const BLOCK_LEN: usize = 16;
/// The largest Aad the service accepts.
pub const MAX_AAD_LEN: usize = 8192;
