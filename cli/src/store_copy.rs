//! `localkms store copy`: every key, version, alias, state and policy of one store
//! (an SQLite file, a PostgreSQL store, or a localkms 0.1 file, read only) into a new
//! or empty one, verified by the library.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use localkms::service::{Client, OpenOptions};
use localkms::{Error, Result};
use zeroize::Zeroizing;

use crate::cli::CopyArgs;
use crate::location::StoreName;
use crate::open::{open_or_create, open_store};
use crate::output::JsonObject;

/// The first bytes of a sealed store file of localkms 0.1.
const V1_MAGIC: &[u8; 8] = b"LOCALKMS";

/// Whether `path` is a regular file that starts like a store file of localkms 0.1.
/// Anything that cannot be read so is left to the library to report.
fn is_v1_file(path: &Path) -> bool {
    // O_NONBLOCK: a FIFO planted at the path must not hang the tool.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path);
    let Ok(file) = file else {
        return false;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = [0u8; 8];
    read_head(file, &mut head).is_ok_and(|n| n == head.len()) && &head == V1_MAGIC
}

/// Reads up to `head.len()` bytes; the number read.
fn read_head(mut file: File, head: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The master-key file of one side of a copy: its own option, or --master-key-file.
fn copy_key_file<'a>(
    own: Option<&'a Path>,
    shared: Option<&'a Path>,
    param: &str,
) -> Result<&'a Path> {
    own.or(shared)
        .ok_or_else(|| Error::missing_parameter(param))
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `store copy`: everything of the source into a new or empty destination,
/// verified. The source is opened first, so a source that cannot be read leaves
/// no destination behind.
pub fn store_copy(args: &CopyArgs) -> Result<Zeroizing<String>> {
    let shared = args.master_key_file.as_deref();
    let from_key = copy_key_file(
        args.from_master_key_file.as_deref(),
        shared,
        "FromMasterKeyFile",
    )?;
    let to_key = copy_key_file(
        args.to_master_key_file.as_deref(),
        shared,
        "ToMasterKeyFile",
    )?;
    let source = match &args.from {
        StoreName::Path(path) if is_v1_file(path) => Client::open_v1_file(&OpenOptions {
            keystore_path: Some(path),
            master_key_file: Some(from_key),
            ..Default::default()
        })?,
        from => open_store(from, from_key)?,
    };
    let destination = open_or_create(&args.to, to_key)?;
    let report = source.copy_into(&destination)?;
    Ok(JsonObject::new()
        .number("Keys", count(report.keys))
        .number("Versions", count(report.versions))
        .number("Aliases", count(report.aliases))
        .string("From", &args.from.shown())
        .string("To", &args.to.shown())
        .string("RequestId", &report.request_id)
        .finish())
}
