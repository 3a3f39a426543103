//! The random source of the library: the operating system's generator.

use rand::rngs::OsRng;
use rand::RngCore;

use crate::error::{Error, Result};

/// Fills `buf` from the operating system's generator. A failing generator is an
/// error, never a fallback (docs/c-api.md §5).
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| Error::internal(format!("The operating system's random source failed: {e}")))
}
