//! The 32-byte master key that seals a store file, from bytes or from a file.

use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::random::fill_random;

/// Length of a master key.
pub const MASTER_KEY_LEN: usize = 32;

/// The largest master-key file that is read, in bytes: 64 hexadecimal digits and
/// white space around them fit many times over; a larger file is refused unread.
pub const MAX_MASTER_KEY_FILE_LEN: u64 = 4096;

/// A master key. Wiped when dropped; never shown by `Debug`.
pub struct MasterKey(Zeroizing<[u8; MASTER_KEY_LEN]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(redacted)")
    }
}

impl MasterKey {
    /// A master key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey> {
        if bytes.len() != MASTER_KEY_LEN {
            return Err(Error::invalid_parameter(
                "master_key",
                format!(
                    "A master key is {MASTER_KEY_LEN} bytes; {} were given.",
                    bytes.len()
                ),
            ));
        }
        let mut key = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        key.copy_from_slice(bytes);
        Ok(MasterKey(key))
    }

    /// A fresh random master key from the operating system's generator.
    pub fn generate() -> Result<MasterKey> {
        let mut key = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        fill_random(&mut key[..])?;
        Ok(MasterKey(key))
    }

    /// Reads a master-key file: 32 raw bytes, or 64 hexadecimal digits (surrounding
    /// white space allowed). A file that group or others may read, write or
    /// execute is refused with `KeyStore.AccessDenied`: a master key anyone else
    /// can read protects nothing.
    ///
    /// Anything but a regular file (a FIFO, a folder, a device) is refused with
    /// `KeyStore.IOError` at once: the file is opened with `O_NONBLOCK`, so opening
    /// a FIFO does not wait for a writer, and checked through the opened file
    /// before a byte is read. A file larger than [`MAX_MASTER_KEY_FILE_LEN`] is
    /// refused without being read; at most that many bytes are ever read.
    pub fn from_file(path: &Path) -> Result<MasterKey> {
        const PARAM: &str = "master_key_file";
        let shown = path.display();
        let io_error = |e: std::io::Error| {
            Error::new(
                ErrorKind::KeyStoreIo,
                format!("The master-key file {shown} cannot be read: {e}."),
            )
        };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(io_error)?;
        // The checks use the opened file, so the file checked is the file read.
        let meta = file.metadata().map_err(io_error)?;
        if !meta.is_file() {
            return Err(Error::new(
                ErrorKind::KeyStoreIo,
                format!("The master-key file {shown} is not a regular file."),
            ));
        }
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Error::new(
                ErrorKind::KeyStoreAccessDenied,
                format!(
                    "The master-key file {shown} has mode {:o}: group and others must have no \
                     access to it (chmod 600).",
                    mode & 0o777
                ),
            ));
        }
        if meta.len() > MAX_MASTER_KEY_FILE_LEN {
            return Err(Error::invalid_parameter(
                PARAM,
                format!(
                    "{shown} is {} bytes; a master-key file holds 32 bytes or 64 hexadecimal \
                     digits (at most {MAX_MASTER_KEY_FILE_LEN} bytes with white space).",
                    meta.len()
                ),
            ));
        }
        // One byte more than the limit, to notice a file that grew since the check.
        let mut buf = Zeroizing::new([0u8; MAX_MASTER_KEY_FILE_LEN as usize + 1]);
        let mut len = 0;
        loop {
            let n = match file.read(&mut buf[len..]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e)),
            };
            if n == 0 {
                break;
            }
            len += n;
            if len == buf.len() {
                return Err(Error::invalid_parameter(
                    PARAM,
                    "A master-key file holds 32 bytes or 64 hexadecimal digits.",
                ));
            }
        }
        let content = &buf[..len];
        if content.len() == MASTER_KEY_LEN {
            return MasterKey::from_bytes(content);
        }
        let text = content.trim_ascii();
        if text.len() == 2 * MASTER_KEY_LEN && text.iter().all(u8::is_ascii_hexdigit) {
            let mut key = Zeroizing::new([0u8; MASTER_KEY_LEN]);
            for (i, pair) in text.chunks_exact(2).enumerate() {
                key[i] = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
            }
            return Ok(MasterKey(key));
        }
        Err(Error::invalid_parameter(
            PARAM,
            "A master-key file holds 32 bytes or 64 hexadecimal digits.",
        ))
    }

    /// The key as 64 lowercase hexadecimal digits (for writing a master-key file).
    pub fn to_hex(&self) -> Zeroizing<String> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = Zeroizing::new(String::with_capacity(2 * MASTER_KEY_LEN));
        for &b in self.0.iter() {
            out.push(DIGITS[(b >> 4) as usize] as char);
            out.push(DIGITS[(b & 15) as usize] as char);
        }
        out
    }

    pub(crate) fn bytes(&self) -> &[u8; MASTER_KEY_LEN] {
        &self.0
    }
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::OpenOptionsExt;

    fn temp_file(name: &str, content: &[u8], mode: u32) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("localkms-mk-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&dir)
            .unwrap();
        std::io::Write::write_all(&mut f, content).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        dir
    }

    #[test]
    fn reads_raw_and_hex_files() {
        let key = MasterKey::generate().unwrap();
        let raw = temp_file("raw", key.bytes(), 0o600);
        assert_eq!(MasterKey::from_file(&raw).unwrap().bytes(), key.bytes());
        let hex = temp_file(
            "hex",
            format!("{}\n", key.to_hex().as_str()).as_bytes(),
            0o400,
        );
        assert_eq!(MasterKey::from_file(&hex).unwrap().bytes(), key.bytes());
        let upper = temp_file("upper", key.to_hex().to_uppercase().as_bytes(), 0o600);
        assert_eq!(MasterKey::from_file(&upper).unwrap().bytes(), key.bytes());
        for p in [raw, hex, upper] {
            std::fs::remove_file(p).unwrap();
        }
    }

    #[test]
    fn refuses_unsafe_permissions_and_bad_contents() {
        let key = MasterKey::generate().unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660, 0o601] {
            let p = temp_file("open", key.bytes(), mode);
            let err = MasterKey::from_file(&p).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::KeyStoreAccessDenied, "{mode:o}");
            std::fs::remove_file(p).unwrap();
        }
        for content in [
            &b"short"[..],
            &[b'a'; 63][..],
            &[b'g'; 64][..],
            &[0u8; 300][..],
        ] {
            let p = temp_file("bad", content, 0o600);
            let err = MasterKey::from_file(&p).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidParameter);
            std::fs::remove_file(p).unwrap();
        }
        let missing = MasterKey::from_file(Path::new("/nonexistent/localkms.key")).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::KeyStoreIo);
        assert_eq!(
            MasterKey::from_bytes(&[0; 31]).unwrap_err().kind(),
            ErrorKind::InvalidParameter
        );
        assert_eq!(format!("{key:?}"), "MasterKey(redacted)");
    }
}
