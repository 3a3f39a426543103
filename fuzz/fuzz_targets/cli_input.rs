//! The `localkms` tool's input parsing: its command line (clap, with the store
//! name parser) and its Base64 parameters (cli/src/input.rs). The input
//! is the argument vector, NUL-separated (any bytes, not only UTF-8), and the
//! whole input once more as one Base64 text.
//!
//! The CLI's modules are compiled in here with `#[path]`: when the tool's files
//! move, only the three paths below change.
#![no_main]
#![allow(dead_code)]

use std::cell::RefCell;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clap::FromArgMatches;
use libfuzzer_sys::fuzz_target;
use localkms::ErrorKind;

#[path = "../../cli/src/cli.rs"]
mod cli;
#[path = "../../cli/src/input.rs"]
mod input;
#[path = "../../cli/src/location.rs"]
mod location;

thread_local! {
    /// The command, built once and reused (building or cloning it is most of a
    /// parse's time).
    static COMMAND: RefCell<clap::Command> = RefCell::new(cli::command());
}

fuzz_target!(|data: &[u8]| {
    let args = std::iter::once(OsString::from("localkms")).chain(
        data.split(|&b| b == 0)
            .map(|a| OsString::from_vec(a.to_vec())),
    );
    let matches = COMMAND.with(|c| c.borrow_mut().try_get_matches_from_mut(args));
    if let Ok(mut matches) = matches {
        // What clap accepted, the derived parser must take too.
        cli::Cli::from_arg_matches_mut(&mut matches).expect("the matches parse");
    }

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match input::decode_base64("Plaintext", text) {
        // Standard Base64 with padding has one spelling per byte string.
        Ok(bytes) => assert_eq!(STANDARD.encode(&*bytes), text.trim_ascii()),
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidParameter),
    }
    let empty = input::optional_base64("Iv", None).expect("no option is empty");
    assert!(empty.is_empty());
    let _ = location::StoreName::from(OsString::from(text)).shown();
});
