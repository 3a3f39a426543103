//! The KMS operations in safe Rust. This is the library's Rust API; the C ABI in
//! `ffi` is a thin crust over it.
//!
//! ```
//! use localkms::service::{Client, EncryptRequest, DecryptRequest};
//!
//! let client = Client::in_memory();
//! let key_id = client.create_key(&Default::default()).unwrap().value.key_id;
//! client.create_alias("alias/app", &key_id).unwrap();
//! let sealed = client
//!     .advance_encrypt(&EncryptRequest { key_id: "alias/app", plaintext: b"secret", ..Default::default() })
//!     .unwrap();
//! let opened = client
//!     .advance_decrypt(&DecryptRequest { ciphertext_blob: &sealed.ciphertext_blob, ..Default::default() })
//!     .unwrap();
//! assert_eq!(&opened.plaintext[..], b"secret");
//! assert_eq!(opened.key_id, key_id);
//! ```

mod aliases;
mod client;
mod copy;
mod crypto_ops;
mod data_keys;
mod decrypt;
mod describe;
mod gcm_reserve;
mod import;
mod keys;
mod metadata;
mod output;
mod params;
mod redacted;
mod response;
mod service_json;

pub use client::{Client, Clock, OpenOptions};
pub use copy::CopyReport;
pub(crate) use crypto_ops::Which;
pub use crypto_ops::{DecryptRequest, DecryptResponse, EncryptRequest, EncryptResponse};
pub use data_keys::{DataKeyRequest, DataKeyResponse, DEFAULT_DATA_KEY_LEN, MAX_DATA_KEY_LEN};
pub use keys::CreateKeyRequest;
pub use metadata::{AliasSummary, KeyMetadata, KeySummary, KeyVersionRef, KeyVersionSummary};
pub(crate) use output::{DataKeyOutput, DecryptOutput, Decrypted, EncryptOutput, Encrypted};
pub use response::Response;
pub use service_json::ServiceJson;
