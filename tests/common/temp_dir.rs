//! Fresh folders for one test, removed (with whatever is in it, even folders a test
//! made read-only) when dropped.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh folder, removed with its contents on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh folder under the system temporary folder, named for the test binary,
    /// this process, a counter and `label`.
    pub fn new(label: &str) -> TempDir {
        TempDir::new_in(&std::env::temp_dir(), label)
    }

    /// A fresh folder in `root`.
    pub fn new_in(root: &Path, label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = root.join(format!(
            "localkms-{}-{}-{n}-{label}",
            env!("CARGO_CRATE_NAME"),
            std::process::id()
        ));
        if path.exists() {
            make_removable(&path);
            let _ = std::fs::remove_dir_all(&path);
        }
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        make_removable(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Gives back write access to `dir` and the folders in it (a test may have made
/// them read-only), so that they can be removed.
pub fn make_removable(dir: &Path) {
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                make_removable(&entry.path());
            }
        }
    }
}
