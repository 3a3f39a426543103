//! Secret bytes in `Debug` output: their length, never the bytes.

/// Shows the length of secret bytes, never the bytes (docs/c-api.md §5: no key
/// byte in `Debug`; plaintext neither).
pub(crate) struct Redacted(pub usize);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes, redacted>", self.0)
    }
}
