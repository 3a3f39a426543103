//! The one error type of the library, and the one status table: every kind's
//! permanent number, the service's code string and its HTTP status (docs/c-api.md §2).

use std::ffi::CStr;
use std::fmt;

/// Declares the status table once: each row gives a kind, its permanent number,
/// the service's code string and the service's HTTP status. [`ErrorKind`] and
/// every lookup on it come from these rows; the C enum `kms_status` (in
/// `ffi/status.rs`, written out because cbindgen reads source, not macro output)
/// is checked against them by a test there.
macro_rules! status_table {
    ($( $(#[doc = $doc:literal])* $kind:ident = $number:literal, $code:literal, $http:literal; )+) => {
        /// The kind of a failure: one per status code (docs/c-api.md §2).
        ///
        /// The numbers are permanent and grouped by class: 1xx bad request, 2xx not
        /// found, 3xx key state, 4xx key store, 5xx internal. A retired number is
        /// never reused.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum ErrorKind {
            $( $(#[doc = $doc])* $kind = $number, )+
        }

        impl ErrorKind {
            /// Every kind, in status order.
            pub const ALL: [ErrorKind; [$($number),+].len()] = [$(ErrorKind::$kind),+];

            /// The service's code string, NUL-terminated for C.
            pub fn c_code(self) -> &'static CStr {
                match self {
                    $( ErrorKind::$kind => $code, )+
                }
            }

            /// The HTTP status the service answers with for this code.
            pub fn http_status(self) -> u16 {
                match self {
                    $( ErrorKind::$kind => $http, )+
                }
            }
        }
    };
}

status_table! {
    /// A value is malformed or out of range.
    InvalidParameter = 100, c"InvalidParameter", 400;
    /// A required argument is NULL or empty.
    MissingParameter = 101, c"MissingParameter", 400;
    /// The operation does not apply to this key (e.g. rotating an EXTERNAL key).
    UnsupportedOperation = 102, c"Rejected.UnsupportedOperation", 400;
    AliasAlreadyExists = 103, c"AliasAlreadyExists", 400;
    /// Wrong size, or other material than the key had.
    InvalidKeyMaterial = 104, c"InvalidKeyMaterial", 400;
    /// Every way a ciphertext can fail to decrypt (no padding oracle).
    InvalidCiphertext = 105, c"InvalidCiphertext", 400;
    KeyNotFound = 200, c"Forbidden.KeyNotFound", 404;
    AliasNotFound = 201, c"Forbidden.AliasNotFound", 404;
    OnlySymmetricKeySupported = 202, c"Forbidden.OnlySymmetricKeySupported", 404;
    KeyDisabled = 300, c"Rejected.Disabled", 409;
    KeyPendingDeletion = 301, c"Rejected.PendingDeletion", 409;
    KeyPendingImport = 302, c"Rejected.PendingImport", 409;
    KeyStoreIo = 400, c"KeyStore.IOError", 500;
    KeyStoreCorrupt = 401, c"KeyStore.Corrupted", 500;
    KeyStoreAccessDenied = 402, c"KeyStore.AccessDenied", 403;
    /// A caught panic, a failed random source, out of memory.
    InternalFailure = 500, c"InternalFailure", 500;
}

impl ErrorKind {
    /// The permanent status number (the C `kms_status` value).
    pub fn status(self) -> u32 {
        self as u32
    }

    /// The kind for a status number, if there is one.
    pub fn from_status(status: u32) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.status() == status)
    }

    /// The service's code string, e.g. `Forbidden.KeyNotFound`.
    pub fn code(self) -> &'static str {
        // Every literal in the table is ASCII.
        self.c_code().to_str().unwrap_or("InternalFailure")
    }
}

/// A failed call: its kind, a message for people, and the RequestId of the call.
///
/// Messages name the offending parameter or key and never contain key bytes or
/// plaintext.
///
/// One pointer wide (its parts are boxed), so that a `Result<(), Error>` is a
/// register, a `Result<&mut [u8], Error>` two, and the calls that succeed never
/// copy a 56-byte result from memory. With the parts inline, the encrypt path
/// moved such results through the stack with 16-byte loads right after the one
/// 8-byte store that writes `Ok`, and each move waited for the store (a
/// store-forwarding stall; boxing the parts took 4.4 ns, 1.8 %, off a 64-byte
/// AdvanceEncrypt). An error costs one allocation more; errors are the rare path.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", .0.kind.code(), .0.message)]
pub struct Error(Box<Parts>);

#[derive(Clone, PartialEq, Eq)]
struct Parts {
    kind: ErrorKind,
    message: String,
    request_id: String,
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.0.kind.code())
            .field("message", &self.0.message)
            .field("request_id", &self.0.request_id)
            .finish()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error(Box::new(Parts {
            kind,
            message: message.into(),
            request_id: String::new(),
        }))
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    pub fn code(&self) -> &'static str {
        self.0.kind.code()
    }

    pub fn http_status(&self) -> u16 {
        self.0.kind.http_status()
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The RequestId of the call that failed (a lowercase UUID v4).
    pub fn request_id(&self) -> &str {
        &self.0.request_id
    }

    /// The error as the call `request_id` answered it (for a caller that rewords a
    /// library error and keeps the call's RequestId).
    pub fn with_request_id(mut self, request_id: &str) -> Error {
        self.0.request_id = request_id.to_owned();
        self
    }

    /// `The specified parameter "<name>" is not valid. <why>`
    pub fn invalid_parameter(name: &str, why: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::InvalidParameter,
            format!("The specified parameter \"{name}\" is not valid. {why}"),
        )
    }

    /// `The parameter "<name>" is needed but not provided.`
    pub fn missing_parameter(name: &str) -> Error {
        Error::new(
            ErrorKind::MissingParameter,
            format!("The parameter \"{name}\" is needed but not provided."),
        )
    }

    pub fn unsupported(why: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::UnsupportedOperation,
            format!("Unsupported operation. {why}"),
        )
    }

    pub fn key_not_found(key_id: &str) -> Error {
        Error::new(
            ErrorKind::KeyNotFound,
            format!("The specified Key is not found. KeyId: {key_id}"),
        )
    }

    pub fn key_version_not_found(key_version_id: &str) -> Error {
        Error::new(
            ErrorKind::KeyNotFound,
            format!("The specified Key is not found. KeyVersionId: {key_version_id}"),
        )
    }

    pub fn alias_not_found(alias: &str) -> Error {
        Error::new(
            ErrorKind::AliasNotFound,
            format!("The specified Alias is not found. AliasName: {alias}"),
        )
    }

    pub fn alias_already_exists(alias: &str) -> Error {
        Error::new(
            ErrorKind::AliasAlreadyExists,
            format!("AliasName Already Exists. AliasName: {alias}"),
        )
    }

    pub fn only_symmetric(key_id: &str) -> Error {
        Error::new(
            ErrorKind::OnlySymmetricKeySupported,
            format!(
                "The key {key_id} is not a symmetric key. The API only supports symmetric keys."
            ),
        )
    }

    pub fn invalid_key_material(why: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::InvalidKeyMaterial,
            format!("The key material is invalid. {why}"),
        )
    }

    /// The single answer for every way a ciphertext can fail to decrypt. The message
    /// deliberately says nothing about which check failed (no padding oracle).
    pub fn invalid_ciphertext() -> Error {
        Error::new(
            ErrorKind::InvalidCiphertext,
            "The ciphertext is invalid: it cannot be parsed, or it does not decrypt under \
             this key version with the given Aad, Iv and PaddingMode.",
        )
    }

    /// `InvalidCiphertext` saying why, where the why depends on nothing secret (a
    /// blob's header that the key could not have made).
    pub fn invalid_ciphertext_because(why: impl fmt::Display) -> Error {
        let base = Error::invalid_ciphertext();
        Error::new(
            ErrorKind::InvalidCiphertext,
            format!("{} {why}", base.0.message),
        )
    }

    pub fn internal(why: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::InternalFailure,
            format!("Internal Failure. {why}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_numbers_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            assert!(seen.insert(kind.status()));
            assert_eq!(ErrorKind::from_status(kind.status()), Some(kind));
        }
        assert_eq!(ErrorKind::from_status(0), None);
        assert_eq!(ErrorKind::from_status(999), None);
    }

    #[test]
    fn an_error_is_one_pointer_and_a_result_of_it_no_wider() {
        use std::mem::size_of;
        assert_eq!(size_of::<Error>(), size_of::<usize>());
        assert_eq!(size_of::<Result<()>>(), size_of::<usize>());
        assert_eq!(size_of::<Result<&mut [u8]>>(), 2 * size_of::<usize>());
        let e = Error::internal("x").with_request_id("r");
        assert_eq!(e.to_string(), "InternalFailure: Internal Failure. x");
        assert_eq!(e.request_id(), "r");
    }

    #[test]
    fn codes_and_http_statuses_follow_the_contract() {
        assert_eq!(ErrorKind::KeyNotFound.code(), "Forbidden.KeyNotFound");
        assert_eq!(ErrorKind::KeyNotFound.http_status(), 404);
        assert_eq!(ErrorKind::KeyDisabled.code(), "Rejected.Disabled");
        assert_eq!(ErrorKind::KeyDisabled.http_status(), 409);
        assert_eq!(ErrorKind::KeyStoreAccessDenied.http_status(), 403);
        assert_eq!(ErrorKind::InvalidCiphertext.http_status(), 400);
        assert_eq!(
            Error::only_symmetric("key-abc").message(),
            "The key key-abc is not a symmetric key. The API only supports symmetric keys."
        );
    }
}
