//! The v1 sealed single file, read as `localkms store copy` reads it
//! (src/keystore/backend/v1_file.rs). The first input byte chooses what the rest
//! is: even, the raw file (header, CRC, verifier, sealed length); odd, a payload
//! that is sealed correctly under the master key first (tests/common/v1_file.rs),
//! so that the payload decoder is reached through the file reader.
#![no_main]

use std::io::Write;
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use localkms::fuzzing::read_v1_file;
use localkms::keystore::MasterKey;
use localkms::ErrorKind;

#[allow(dead_code)]
#[path = "../../tests/common/v1_file.rs"]
mod v1_file_writer;

const MASTER: [u8; 32] = [7; 32];

fn scratch_path() -> PathBuf {
    // tmpfs where there is one: a file per run, rewritten for each input.
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("localkms-fuzz-v1-{}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let file = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        v1_file_writer::v1_seal(&MASTER, 1, rest)
    };
    let path = scratch_path();
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(&file))
        .expect("the scratch file is written");
    let master = MasterKey::from_bytes(&MASTER).expect("32 bytes");
    match read_v1_file(&path, &master) {
        Ok(model) => {
            for key in model.keys() {
                assert!(key.primary < key.versions.len());
            }
        }
        Err(e) => assert!(
            matches!(
                e.kind(),
                ErrorKind::KeyStoreCorrupt | ErrorKind::KeyStoreAccessDenied
            ),
            "{e}"
        ),
    }
});
