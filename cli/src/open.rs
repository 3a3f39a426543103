//! Opening the key store a command names: an SQLite file or a PostgreSQL URL,
//! sealed under the master-key file.

use std::path::Path;

use localkms::service::{Client, OpenOptions};
use localkms::{Error, ErrorKind, Result};

use crate::cli::StoreArgs;
use crate::location::StoreName;

/// Opens the existing store named by `args`.
pub fn open(args: &StoreArgs) -> Result<Client> {
    open_store(&args.store, &args.master_key_file)
}

/// Opens the existing store `store`, sealed under the key in `master_key_file`.
/// A missing file is refused here (the library would say `create_if_missing`); a
/// URL is left to the library, which tells a database without a store.
pub fn open_store(store: &StoreName, master_key_file: &Path) -> Result<Client> {
    let options = OpenOptions {
        master_key_file: Some(master_key_file),
        ..Default::default()
    };
    match store {
        StoreName::Path(path) => {
            if !path.exists() {
                return Err(Error::new(
                    ErrorKind::KeyStoreIo,
                    format!(
                        "The key store file {} does not exist; create it with `localkms init`.",
                        path.display()
                    ),
                ));
            }
            Client::open(&OpenOptions {
                keystore_path: Some(path),
                ..options
            })
        }
        StoreName::Url(url) => Client::open(&OpenOptions {
            keystore_url: Some(url),
            ..options
        })
        .map_err(in_cli_terms),
    }
}

/// Opens the store `store`, creating it (an SQLite file, or the schema in a
/// PostgreSQL database) when it is missing.
pub fn open_or_create(store: &StoreName, master_key_file: &Path) -> Result<Client> {
    let options = OpenOptions {
        master_key_file: Some(master_key_file),
        create_if_missing: true,
        ..Default::default()
    };
    match store {
        StoreName::Path(path) => Client::open(&OpenOptions {
            keystore_path: Some(path),
            ..options
        }),
        StoreName::Url(url) => Client::open(&OpenOptions {
            keystore_url: Some(url),
            ..options
        }),
    }
}

/// The library's error, with the library option it names (`create_if_missing`)
/// put as the command that does it, and the library's RequestId.
fn in_cli_terms(error: Error) -> Error {
    const LIBRARY_TERMS: &str = "set create_if_missing to create it";
    if !error.message().contains(LIBRARY_TERMS) {
        return error;
    }
    Error::new(
        error.kind(),
        error.message().replace(
            LIBRARY_TERMS,
            "create it with `localkms init` or `localkms store copy --to`",
        ),
    )
    .with_request_id(error.request_id())
}
