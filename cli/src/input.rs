//! Reading parameters: Base64 options, files and standard input, into buffers that
//! are wiped when dropped; and writing the files the tool creates.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use localkms::{Error, ErrorKind, Result};
use zeroize::{Zeroize, Zeroizing};

use crate::cli::{AadArgs, CiphertextArgs, KeyMaterialArgs, PlaintextArgs};

/// Whether a path option means standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Decodes standard Base64 (with padding); surrounding white space is ignored.
/// `param` is the service's name of the parameter, for the error.
pub fn decode_base64(param: &str, text: &str) -> Result<Zeroizing<Vec<u8>>> {
    let text = text.trim_ascii();
    let mut out = Zeroizing::new(Vec::with_capacity(base64::decoded_len_estimate(text.len())));
    STANDARD.decode_vec(text, &mut out).map_err(|e| {
        Error::invalid_parameter(
            param,
            format!("It is not standard Base64 (RFC 4648 alphabet, with padding): {e}."),
        )
    })?;
    Ok(out)
}

/// Reads everything from `reader`, growing the buffer by copying into a new one and
/// wiping the old, so no stray copy of the content is left in freed memory.
fn read_all(reader: &mut dyn Read, size_hint: usize) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(vec![0u8; size_hint.clamp(4096, 64 << 20) + 1]);
    let mut len = 0;
    loop {
        if len == buf.len() {
            let mut bigger = Zeroizing::new(vec![0u8; buf.len() * 2]);
            bigger[..len].copy_from_slice(&buf[..len]);
            buf = bigger;
        }
        match reader.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == IoErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    // Shrinking keeps the allocation: the tail is already zero or wiped on drop.
    buf.truncate(len);
    Ok(buf)
}

/// Reads a whole file (raw bytes) given for `param`; `-` is standard input.
fn read_path(param: &str, path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    if is_stdin(path) {
        return read_stdin(param);
    }
    let fail = |e: std::io::Error| {
        Error::invalid_parameter(
            param,
            format!("The file {} cannot be read: {e}.", path.display()),
        )
    };
    let mut file = File::open(path).map_err(fail)?;
    let size = file
        .metadata()
        .map(|m| usize::try_from(m.len()).unwrap_or(usize::MAX))
        .unwrap_or(0);
    read_all(&mut file, size).map_err(fail)
}

/// Reads all of standard input (raw bytes) for `param`.
fn read_stdin(param: &str) -> Result<Zeroizing<Vec<u8>>> {
    read_all(&mut std::io::stdin().lock(), 0).map_err(|e| {
        Error::invalid_parameter(param, format!("Standard input cannot be read: {e}."))
    })
}

/// Decodes Base64 text that may be wrapped over several lines (as `base64` writes it).
fn decode_base64_text(param: &str, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let mut compact = Zeroizing::new(Vec::with_capacity(bytes.len()));
    compact.extend(bytes.iter().copied().filter(|b| !b.is_ascii_whitespace()));
    let text = std::str::from_utf8(&compact).map_err(|_| {
        Error::invalid_parameter(param, "It is not standard Base64: it is not even text.")
    })?;
    decode_base64(param, text)
}

/// The plaintext: `--plaintext-base64`, `--plaintext-file` (raw), or standard input.
pub fn read_plaintext(args: &mut PlaintextArgs) -> Result<Zeroizing<Vec<u8>>> {
    if let Some(mut text) = args.plaintext_base64.take() {
        let decoded = decode_base64("Plaintext", &text);
        text.zeroize();
        return decoded;
    }
    match &args.plaintext_file {
        Some(path) => read_path("Plaintext", path),
        None => read_stdin("Plaintext"),
    }
}

/// The ciphertext: `--ciphertext-blob` (Base64), `--ciphertext-blob-file` (raw),
/// or Base64 text on standard input.
pub fn read_ciphertext(args: &CiphertextArgs) -> Result<Zeroizing<Vec<u8>>> {
    const PARAM: &str = "CiphertextBlob";
    match (&args.ciphertext_blob, &args.ciphertext_blob_file) {
        (Some(text), _) if text != "-" => decode_base64(PARAM, text),
        (_, Some(path)) => read_path(PARAM, path),
        _ => decode_base64_text(PARAM, &read_stdin(PARAM)?),
    }
}

/// The Aad: `--aad` (Base64) or `--aad-file` (raw); empty when neither is given.
pub fn read_aad(args: &AadArgs) -> Result<Zeroizing<Vec<u8>>> {
    match (&args.aad, &args.aad_file) {
        (Some(text), _) => decode_base64("Aad", text),
        (_, Some(path)) => read_path("Aad", path),
        _ => Ok(Zeroizing::new(Vec::new())),
    }
}

/// An optional Base64 option (`--iv`): empty when not given.
pub fn optional_base64(param: &str, value: Option<&str>) -> Result<Zeroizing<Vec<u8>>> {
    match value {
        Some(text) => decode_base64(param, text),
        None => Ok(Zeroizing::new(Vec::new())),
    }
}

/// The key material: `--key-material-base64` or `--key-material-file` (raw).
pub fn read_key_material(args: &mut KeyMaterialArgs) -> Result<Zeroizing<Vec<u8>>> {
    if let Some(mut text) = args.key_material_base64.take() {
        let decoded = decode_base64("KeyMaterial", &text);
        text.zeroize();
        return decoded;
    }
    match &args.key_material_file {
        Some(path) => read_path("KeyMaterial", path),
        None => Err(Error::missing_parameter("KeyMaterial")),
    }
}

/// Opens `path` for writing with mode 0600, whatever the umask: `exclusive` creates
/// it and fails if it exists (O_CREAT|O_EXCL); otherwise it is created or truncated.
pub fn create_private_file(path: &Path, exclusive: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).mode(0o600);
    if exclusive {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    let file = options.open(path)?;
    file.set_permissions(Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Writes the raw plaintext to `path` (mode 0600).
pub fn write_plaintext(path: &Path, plaintext: &[u8]) -> Result<()> {
    let fail = |e: std::io::Error| {
        Error::invalid_parameter(
            "OutputPlaintextFile",
            format!("The file {} cannot be written: {e}.", path.display()),
        )
    };
    let mut file = create_private_file(path, false).map_err(fail)?;
    file.write_all(plaintext).map_err(fail)?;
    file.flush().map_err(fail)
}

/// What [`create_master_key_file`] found.
pub enum KeyFile {
    /// A fresh key was written.
    Created,
    /// The file existed and `use_existing` allowed it.
    Existing,
}

/// Creates a master-key file holding a fresh key in 64 hexadecimal digits and a
/// newline, mode 0600. An existing file is never overwritten: it is refused, or
/// used as it is when `use_existing`.
pub fn create_master_key_file(path: &Path, use_existing: bool) -> Result<KeyFile> {
    let shown = path.display();
    let mut file = match create_private_file(path, true) {
        Ok(file) => file,
        Err(e) if e.kind() == IoErrorKind::AlreadyExists => {
            if use_existing {
                return Ok(KeyFile::Existing);
            }
            return Err(Error::invalid_parameter(
                "MasterKeyFile",
                format!(
                    "The master-key file {shown} exists already and init never overwrites one; \
                     pass --use-existing-key to use it, or choose another path."
                ),
            ));
        }
        Err(e) => {
            return Err(Error::new(
                ErrorKind::KeyStoreIo,
                format!("The master-key file {shown} cannot be created: {e}."),
            ))
        }
    };
    let key = localkms::keystore::MasterKey::generate()?;
    let hex = key.to_hex();
    let written = file
        .write_all(hex.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(Error::new(
            ErrorKind::KeyStoreIo,
            format!("The master-key file {shown} cannot be written: {e}."),
        ));
    }
    Ok(KeyFile::Created)
}
