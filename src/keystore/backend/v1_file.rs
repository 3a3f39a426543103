//! The sealed single-file store of localkms 0.1 (file format 1), read only: the
//! library no longer writes it, and reads it only so that `localkms store copy`
//! can move what it holds into a database store.
//!
//! Opened with `O_NONBLOCK`, so that a FIFO or device planted at the path is
//! refused at once instead of blocking; its size is checked against
//! [`MAX_STORE_FILE_LEN`] before anything is allocated for it, and the buffer is
//! reserved fallibly.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, ErrorKind, Result};
use crate::keystore::codec;
use crate::keystore::keyset::Model;
use crate::keystore::master_key::MasterKey;
use crate::keystore::sealed;

/// The largest store file that is read, in bytes (1 GiB). A larger file is refused
/// as `KeyStore.Corrupted` before anything is allocated for it, so a huge or
/// hostile file cannot make the process abort on allocation.
///
/// Generous: a key version takes about 100 bytes of payload (an RSA-4096 one about
/// 2.4 KB), so this is millions of keys, far more than a store that is read and
/// rewritten whole on every change can serve. Bounded: opening a file holds it,
/// its unsealed payload and the decoded keys in memory at once, a few GiB at
/// this limit, which a host running localkms can still provide.
pub const MAX_STORE_FILE_LEN: u64 = 1 << 30;

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::KeyStoreIo,
        format!("The key store file {} {what}: {e}.", path.display()),
    )
}

/// Whether `bytes` start like a v1 store file.
pub(crate) fn is_v1_store(bytes: &[u8]) -> bool {
    bytes.starts_with(sealed::MAGIC)
}

/// The model a v1 store file holds (check values of its oldest payload format are
/// migrated in memory as they are read; nothing is written).
pub(crate) fn read_v1_store(path: &Path, master: &MasterKey) -> Result<Model> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| io_error("cannot be read", path, &e))?;
    let meta = file
        .metadata()
        .map_err(|e| io_error("cannot be read", path, &e))?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::KeyStoreIo,
            format!("The key store {} is not a regular file.", path.display()),
        ));
    }
    let len = meta.len();
    if len > MAX_STORE_FILE_LEN {
        return Err(Error::new(
            ErrorKind::KeyStoreCorrupt,
            format!(
                "The key store file {} is {len} bytes, more than the {MAX_STORE_FILE_LEN} \
                 bytes (1 GiB, MAX_STORE_FILE_LEN) a key store file may have.",
                path.display()
            ),
        ));
    }
    // Fits: the limit is below 4 GiB.
    let capacity = usize::try_from(len).unwrap_or(usize::MAX);
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(capacity)
        .map_err(|_| sealed::out_of_memory(capacity))?;
    (&mut file)
        .take(len)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error("cannot be read", path, &e))?;
    let (_header, payload) = sealed::unseal(master, &bytes)?;
    Ok(codec::decode(&payload)?.model)
}
