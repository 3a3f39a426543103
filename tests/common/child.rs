//! Re-running one test of this test binary in a child process (for what only a
//! process of its own can show: a fork, the process's panic hook, a crash, a lost
//! update between processes, another user's permissions).

use std::path::Path;
use std::process::{Command, ExitStatus};

/// Names, in a child's environment, the test it was started to run.
pub const CHILD_VAR: &str = "LOCALKMS_CHILD";

/// Whether this process is a child started to run `test`.
pub fn is_child(test: &str) -> bool {
    std::env::var(CHILD_VAR).as_deref() == Ok(test)
}

/// The command that runs only `test` of the test binary `exe`, its output not
/// captured, with [`CHILD_VAR`] naming it.
pub fn test_command(exe: &Path, test: &str) -> Command {
    let mut command = Command::new(exe);
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, test);
    command
}

/// Runs `test` of this test binary in a child: its exit status, stdout and stderr.
pub fn run_child(test: &str) -> (ExitStatus, String, String) {
    let exe = std::env::current_exe().expect("the path of the test binary");
    let output = test_command(&exe, test)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {test} in a child: {e}"));
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What follows `mark` in a child's output line (the harness may print
/// "test worker_… ... " on the same line first), or `None`.
pub fn after_mark<'a>(line: &'a str, mark: &str) -> Option<&'a str> {
    line.find(mark).map(|at| &line[at + mark.len()..])
}
