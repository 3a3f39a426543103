//! The service's parameter rules that every operation shares.

use crate::error::{Error, Result};
use crate::keystore::Key;

/// Checks a required string parameter: missing when absent or empty.
pub(super) fn required<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::missing_parameter(name)),
    }
}

/// Refuses asymmetric keys for the symmetric operations.
pub(super) fn require_symmetric(key: &Key) -> Result<()> {
    if key.key_spec.is_symmetric() {
        Ok(())
    } else {
        Err(Error::only_symmetric(&key.key_id))
    }
}
