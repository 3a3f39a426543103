//! The store file on disk: reading, durable replacement, the lock beside it, and
//! the cheap identity check that tells a reader the file has changed.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::codec;
use super::master_key::MasterKey;
use super::sealed::{self, SALT_LEN};
use super::{Model, MAX_STORE_FILE_LEN};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::fill_random;

/// Which file a snapshot was read from: a rename gives a new inode, a rewrite in
/// place a new size or time. Compared, not interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl FileIdentity {
    fn of(meta: &std::fs::Metadata) -> FileIdentity {
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }
}

/// The file a snapshot was read from or written as. It is kept open: while it
/// is, its inode cannot be reused by a later file, so an unchanged identity
/// really means an unchanged file.
#[derive(Clone, Debug)]
pub struct FileSource {
    pub identity: FileIdentity,
    _open: Arc<File>,
}

impl FileSource {
    fn of(file: File) -> std::io::Result<FileSource> {
        let meta = file.metadata()?;
        Ok(FileSource {
            identity: FileIdentity::of(&meta),
            _open: Arc::new(file),
        })
    }
}

/// A store file as read: the model and what is needed to write the next one.
pub struct Loaded {
    pub model: Model,
    /// The file is of an older payload format (migrated in memory while it was
    /// read): the next write, made at open when the store is writable, replaces it.
    pub migrated: bool,
    pub generation: u64,
    pub salt: [u8; SALT_LEN],
    pub source: FileSource,
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::KeyStoreIo,
        format!("The key store file {} {what}: {e}.", path.display()),
    )
}

/// Holds the exclusive advisory lock on the lock file until dropped.
pub struct LockGuard {
    _file: File,
}

pub struct FileBackend {
    path: PathBuf,
    lock_path: PathBuf,
    dir: PathBuf,
    file_name: String,
    master: MasterKey,
}

impl FileBackend {
    pub fn new(path: &Path, master: MasterKey) -> Result<FileBackend> {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                Error::invalid_parameter("keystore_path", "It must name a file (UTF-8).")
            })?
            .to_owned();
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(FileBackend {
            lock_path: dir.join(format!("{file_name}.lock")),
            path: path.to_path_buf(),
            dir,
            file_name,
            master,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The identity of the file now, or `None` when it does not exist.
    pub fn identity(&self) -> Result<Option<FileIdentity>> {
        match std::fs::metadata(&self.path) {
            Ok(meta) => Ok(Some(FileIdentity::of(&meta))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("cannot be examined", &self.path, &e)),
        }
    }

    /// Reads, unseals and decodes the file; `None` when it does not exist.
    ///
    /// Opened with `O_NONBLOCK`, so that a FIFO or device planted at the path is
    /// refused at once instead of blocking the open; its size is checked against
    /// [`MAX_STORE_FILE_LEN`] before anything is allocated for it, and the buffer
    /// is reserved fallibly.
    pub fn read(&self) -> Result<Option<Loaded>> {
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&self.path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("cannot be read", &self.path, &e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| io_error("cannot be read", &self.path, &e))?;
        if !meta.is_file() {
            return Err(Error::new(
                ErrorKind::KeyStoreCorrupt,
                format!(
                    "The key store {} is not a regular file.",
                    self.path.display()
                ),
            ));
        }
        let len = meta.len();
        if len > MAX_STORE_FILE_LEN {
            return Err(Error::new(
                ErrorKind::KeyStoreCorrupt,
                format!(
                    "The key store file {} is {len} bytes, more than the {MAX_STORE_FILE_LEN} \
                     bytes (1 GiB, MAX_STORE_FILE_LEN) a key store file may have.",
                    self.path.display()
                ),
            ));
        }
        // Fits: the limit is below 4 GiB.
        let capacity = usize::try_from(len).unwrap_or(usize::MAX);
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(capacity)
            .map_err(|_| sealed::out_of_memory(capacity))?;
        // At most the size checked: the reserved buffer never grows.
        (&mut file)
            .take(len)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error("cannot be read", &self.path, &e))?;
        let mut probe = [0u8; 1];
        let grew = file
            .read(&mut probe)
            .map_err(|e| io_error("cannot be read", &self.path, &e))?;
        if grew != 0 {
            return Err(Error::new(
                ErrorKind::KeyStoreIo,
                format!(
                    "The key store file {} grew while it was read (writers replace it, never \
                     append to it).",
                    self.path.display()
                ),
            ));
        }
        let (header, payload) = sealed::unseal(&self.master, &bytes)?;
        let decoded = codec::decode(&payload)?;
        Ok(Some(Loaded {
            model: decoded.model,
            migrated: decoded.migrated,
            generation: header.generation,
            salt: header.salt,
            source: FileSource {
                identity: FileIdentity::of(&meta),
                _open: Arc::new(file),
            },
        }))
    }

    /// Takes the exclusive lock (blocking), creating the lock file (0600) if needed.
    pub fn lock(&self) -> Result<LockGuard> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&self.lock_path)
            .map_err(|e| io_error("lock cannot be created", &self.lock_path, &e))?;
        // The umask may have taken bits away; it cannot have added any. Make it
        // exactly 0600 when it is ours to change.
        let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
        // File::lock is flock(LOCK_EX) on Linux: advisory, held by this open file
        // description, released when it is closed (also when the process dies).
        loop {
            match file.lock() {
                Ok(()) => return Ok(LockGuard { _file: file }),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error("lock cannot be taken", &self.lock_path, &e)),
            }
        }
    }

    /// Replaces the store file durably with `model` (the caller holds the lock):
    /// a temporary file in the same folder, written and fsynced, renamed over the
    /// store, and the folder fsynced. A crash at any point leaves the old or the
    /// new file, never a torn one. Returns the new file, still open.
    pub fn write(
        &self,
        _lock: &LockGuard,
        model: &Model,
        salt: &[u8; SALT_LEN],
        generation: u64,
    ) -> Result<FileSource> {
        let payload = codec::encode(model);
        let bytes = sealed::seal(&self.master, salt, generation, &payload)?;
        drop(payload);
        self.remove_stale_temporaries();

        let mut suffix = [0u8; 6];
        fill_random(&mut suffix)?;
        let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = self.dir.join(format!(
            ".{}.tmp.{}.{suffix}",
            self.file_name,
            std::process::id()
        ));
        let written = (|| -> std::io::Result<File> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            Ok(f)
        })();
        let file = match written {
            Ok(file) => file,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(io_error("cannot be written", &tmp, &e));
            }
        };
        if let Err(e) = std::fs::rename(&tmp, &self.path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_error("cannot be replaced", &self.path, &e));
        }
        // The rename is durable only once the folder is.
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("folder cannot be synced", &self.dir, &e))?;
        // The renamed file is the one written: the same inode, still open.
        FileSource::of(file).map_err(|e| io_error("cannot be examined", &self.path, &e))
    }

    /// Removes temporary files that a writer killed mid-write left behind. Called
    /// under the lock, so no live writer's temporary file is touched.
    fn remove_stale_temporaries(&self) {
        let prefix = format!(".{}.tmp.", self.file_name);
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
