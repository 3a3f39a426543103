//! The master-key file reader (src/keystore/master_key.rs, `MasterKey::from_file`):
//! 32 raw bytes, or 64 hexadecimal digits with white space around them; anything
//! else is InvalidParameter. The answer is checked against that rule, and a key
//! read from hex digits against the digits.
#![no_main]

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use localkms::keystore::MasterKey;
use localkms::ErrorKind;

fn scratch_path() -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("localkms-fuzz-master-{}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let path = scratch_path();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("the scratch file is written");
    let trimmed = data.trim_ascii();
    let hex = trimmed.len() == 64 && trimmed.iter().all(u8::is_ascii_hexdigit);
    let valid = data.len() == 32 || hex;
    match MasterKey::from_file(&path) {
        Ok(key) => {
            assert!(valid, "accepted a file of {} bytes", data.len());
            if data.len() == 32 {
                let expected: String = data.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(*key.to_hex(), expected);
            } else {
                assert_eq!(
                    key.to_hex().as_bytes(),
                    trimmed.to_ascii_lowercase().as_slice()
                );
            }
        }
        Err(e) => {
            assert!(!valid, "refused a valid file: {e}");
            assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{e}");
        }
    }
    // The same bytes handed over directly: exactly 32 are a key.
    assert_eq!(MasterKey::from_bytes(data).is_ok(), data.len() == 32);
});
