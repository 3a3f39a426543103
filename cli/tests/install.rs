//! `make install-files` into a temporary prefix, then a C program built with
//! nothing but `pkg-config --cflags --libs localkms` and run. The Go, Java and
//! Python bindings' install test is `bindings/install-test.sh` (run by `make
//! test`): it needs their toolchains and PyPI, which `cargo test` does not.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository (this test lives in its member crate `cli/`).
fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The library's version (the tool's package has its own).
fn library_version() -> String {
    // SAFETY: kms_version returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(localkms::ffi::kms_version()) };
    version.to_str().unwrap().to_owned()
}

/// The libraries this cargo test run built sit beside the test binary.
fn built(name: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let path = dir.join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

fn run(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "{shown} could not start ({e}); install make and pkg-config (Debian: make pkg-config)"
        )
    });
    assert!(
        out.status.success(),
        "{shown} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn install_then_build_with_pkg_config() {
    let tmp = std::env::temp_dir().join(format!("localkms-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let prefix = tmp.join("prefix");
    std::fs::create_dir_all(&tmp).unwrap();

    run(Command::new("make")
        .current_dir(repo())
        .arg("--no-print-directory")
        .arg("install-files")
        .arg(format!("PREFIX={}", prefix.display()))
        .arg(format!("SO={}", built("liblocalkms.so").display()))
        .arg(format!("A={}", built("liblocalkms.a").display()))
        .arg(format!("BIN={}", env!("CARGO_BIN_EXE_localkms"))));

    let lib = prefix.join("lib");
    let version = library_version();
    let version = version.as_str();
    assert!(lib.join(format!("liblocalkms.so.{version}")).is_file());
    assert_eq!(
        std::fs::read_link(lib.join("liblocalkms.so.0")).unwrap(),
        PathBuf::from(format!("liblocalkms.so.{version}"))
    );
    assert_eq!(
        std::fs::read_link(lib.join("liblocalkms.so")).unwrap(),
        PathBuf::from("liblocalkms.so.0")
    );
    assert!(lib.join("liblocalkms.a").is_file());
    assert!(prefix.join("include/localkms.h").is_file());
    assert!(prefix.join("bin/localkms").is_file());
    let dynamic = run(Command::new("readelf")
        .arg("-d")
        .arg(lib.join("liblocalkms.so.0")));
    assert!(dynamic.contains("[liblocalkms.so.0]"), "SONAME: {dynamic}");

    let pkg_config_path = lib.join("pkgconfig");
    let pkg = |args: &[&str]| {
        run(Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", &pkg_config_path)
            .args(args))
        .trim()
        .to_owned()
    };
    assert_eq!(pkg(&["--modversion", "localkms"]), version);
    let flags = pkg(&["--cflags", "--libs", "localkms"]);
    assert!(
        flags.contains(&format!("-I{}", prefix.join("include").display())),
        "{flags}"
    );
    assert!(flags.contains("-llocalkms"), "{flags}");

    // Build the quickstart with nothing but those flags, and run it.
    let exe = tmp.join("quickstart");
    let mut cc = Command::new("cc");
    cc.arg("-std=c11")
        .arg("-Wall")
        .arg("-Werror")
        .arg(repo().join("examples/c/quickstart.c"))
        .arg("-o")
        .arg(&exe)
        .args(flags.split_whitespace());
    run(&mut cc);
    let out = run(Command::new(&exe).env("LD_LIBRARY_PATH", &lib));
    assert!(out.contains("quickstart: all steps passed"), "{out}");
    let needed = run(Command::new("readelf").arg("-d").arg(&exe));
    assert!(needed.contains("[liblocalkms.so.0]"), "{needed}");

    // The installed tool runs.
    let help = run(Command::new(prefix.join("bin/localkms")).arg("--help"));
    assert!(help.contains("localkms"), "{help}");

    std::fs::remove_dir_all(&tmp).unwrap();
}
