//! The C examples in `examples/c/` are real programs: each is compiled with the
//! system C compiler against `include/localkms.h` and the freshly built shared
//! library, run, and its output checked; then once more linked against the static
//! library, and once compiled as C++. `persistent_store` runs twice on the same
//! store, to show that the second run finds what the first one made. The shared
//! library itself must have the SONAME `liblocalkms.so.0` and export exactly the
//! header's functions.
//!
//! Needs `cc` and `c++` (Debian: build-essential) and `nm` and `readelf` (Debian:
//! binutils). A missing tool fails the test; it is never skipped.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::temp_dir::TempDir;

/// Flags for the C build of every example.
const C_FLAGS: &[&str] = &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"];

/// Flags for the C++ build of every example.
const CXX_FLAGS: &[&str] = &["-x", "c++", "-std=c++17", "-Wall", "-Wextra", "-Werror"];

/// What a program linked with the Rust staticlib needs besides it on Linux: the
/// union of `-lpthread -ldl -lm` and what
/// `cargo rustc --lib --crate-type staticlib -- --print native-static-libs` prints.
const STATIC_LINK_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

/// The number of functions `include/localkms.h` declares.
const HEADER_FUNCTIONS: usize = 33;

/// How long one example may run.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where this `cargo test` run put the freshly built `liblocalkms.so` and
/// `liblocalkms.a`: `target/<profile>/deps/`, beside this test binary. (Cargo
/// copies them up to `target/<profile>/` only for `cargo build`, so a library
/// there may be stale or missing.)
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the test binary");
    exe.parent()
        .expect("the test binary is in a directory")
        .to_path_buf()
}

fn shared_library() -> PathBuf {
    let path = library_dir().join("liblocalkms.so");
    assert!(
        path.is_file(),
        "{} does not exist: cargo builds the cdylib before the integration tests \
         (crate-type in Cargo.toml)",
        path.display()
    );
    path
}

fn static_library() -> PathBuf {
    let path = library_dir().join("liblocalkms.a");
    assert!(
        path.is_file(),
        "{} does not exist: cargo builds the staticlib before the integration tests \
         (crate-type in Cargo.toml)",
        path.display()
    );
    path
}

/// Fails, saying which Debian package to install, when `tool` cannot be run.
fn require_tool(tool: &str, package: &str) {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "`{tool}` is needed by this test but cannot be run: install the Debian package \
         {package} (apt-get install {package})"
    );
}

/// Sets up `dir` the way an installed library looks: `liblocalkms.so.0` (the
/// SONAME) and the link-time name `liblocalkms.so` pointing at it.
fn install_shared_library(dir: &Path) {
    let real = dir.join("liblocalkms.so.0");
    std::fs::copy(shared_library(), &real)
        .unwrap_or_else(|e| panic!("copy liblocalkms.so to {}: {e}", real.display()));
    std::os::unix::fs::symlink("liblocalkms.so.0", dir.join("liblocalkms.so"))
        .expect("symlink liblocalkms.so -> liblocalkms.so.0");
}

fn run_tool(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The `NEEDED` and `SONAME` entries of an ELF file's dynamic section.
fn dynamic_entries(file: &Path, kind: &str) -> Vec<String> {
    require_tool("readelf", "binutils");
    let output = run_tool(Command::new("readelf").arg("-d").arg(file));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(&format!("({kind})")))
        .filter_map(|line| {
            let start = line.find('[')? + 1;
            let end = line[start..].find(']')? + start;
            Some(line[start..end].to_string())
        })
        .collect()
}

/// The functions `include/localkms.h` declares: every `kms_\w+(` outside comments.
fn header_functions() -> BTreeSet<String> {
    let header = std::fs::read_to_string(repo().join("include/localkms.h"))
        .expect("read include/localkms.h");
    let mut code = String::new();
    let mut rest = header.as_str();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
        } else if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |end| &after[end..]);
        } else {
            let c = rest.chars().next().expect("not empty");
            code.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    let bytes = code.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut names = BTreeSet::new();
    for (start, _) in code.match_indices("kms_") {
        if start > 0 && is_word(bytes[start - 1]) {
            continue;
        }
        let mut end = start + 4;
        while end < bytes.len() && is_word(bytes[end]) {
            end += 1;
        }
        if end > start + 4 && bytes.get(end) == Some(&b'(') {
            names.insert(code[start..end].to_string());
        }
    }
    names
}

#[derive(Clone, Copy, Debug)]
enum Build {
    /// C11, linked against `liblocalkms.so` (as `liblocalkms.so.0`).
    Shared,
    /// C11, linked against `liblocalkms.a`.
    Static,
    /// C++17, linked against `liblocalkms.so`.
    Cxx,
}

/// Compiles `examples/c/<name>.c` the way `build` says, in a fresh directory,
/// runs it, and returns its standard output after checking it exits with 0.
fn build_and_run(name: &str, build: Build) -> String {
    let (dir, exe) = build_example(name, build);
    run_example(name, build, &exe, dir.path(), &[])
}

/// Compiles `examples/c/<name>.c` the way `build` says into a fresh directory
/// (removed when the returned `TempDir` goes), and returns that directory and
/// the executable.
fn build_example(name: &str, build: Build) -> (TempDir, PathBuf) {
    let compiler = match build {
        Build::Shared | Build::Static => "cc",
        Build::Cxx => "c++",
    };
    require_tool(compiler, "build-essential");
    let dir = TempDir::new(&format!("{name}-{build:?}"));
    let source = repo().join("examples/c").join(format!("{name}.c"));
    let exe = dir.path().join(name);

    let mut command = Command::new(compiler);
    match build {
        Build::Shared | Build::Static => command.args(C_FLAGS),
        Build::Cxx => command.args(CXX_FLAGS),
    };
    command.arg("-I").arg(repo().join("include")).arg(&source);
    if let Build::Cxx = build {
        // What follows is not C++ source.
        command.args(["-x", "none"]);
    }
    command.arg("-o").arg(&exe);
    match build {
        Build::Shared | Build::Cxx => {
            install_shared_library(dir.path());
            command
                .arg(format!("-L{}", dir.path().display()))
                .arg("-llocalkms")
                .arg(format!("-Wl,-rpath,{}", dir.path().display()));
        }
        Build::Static => {
            command.arg(static_library()).args(STATIC_LINK_LIBS);
        }
    }
    command.args(extra_libraries(name));
    run_tool(&mut command);

    let needed = dynamic_entries(&exe, "NEEDED");
    match build {
        Build::Shared | Build::Cxx => assert!(
            needed.iter().any(|n| n == "liblocalkms.so.0"),
            "{name} ({build:?}) does not NEED liblocalkms.so.0: {needed:?}"
        ),
        Build::Static => assert!(
            !needed.iter().any(|n| n.starts_with("liblocalkms")),
            "{name} ({build:?}) linked statically still NEEDs {needed:?}"
        ),
    }
    (dir, exe)
}

/// Libraries an example needs besides localkms.
fn extra_libraries(name: &str) -> &'static [&'static str] {
    match name {
        // The bulk encryption of the envelope example is OpenSSL's AES-256-GCM.
        "envelope_file" => &["-lcrypto"],
        _ => &[],
    }
}

/// Runs a built example in `dir` with `args` and returns its standard output
/// after checking it exits with 0.
fn run_example(name: &str, build: Build, exe: &Path, dir: &Path, args: &[&Path]) -> String {
    let output = run_with_timeout(Command::new(exe).args(args).current_dir(dir));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{name} ({build:?}) {args:?} exited with {}:\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
}

/// Runs a program, killing it after `RUN_TIMEOUT`.
fn run_with_timeout(command: &mut Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the example") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// The line of `output` that starts with `prefix`; fails when there is none.
fn line<'a>(output: &'a str, prefix: &str) -> &'a str {
    output
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{output}"))
}

/// The KeyVersionId that follows `marker` in `line`.
fn version_after<'a>(line: &'a str, marker: &str) -> &'a str {
    let start = line
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {line:?}"))
        + marker.len();
    let id = line[start..]
        .split([',', ')', ' '])
        .next()
        .expect("split yields a first piece");
    assert!(
        id.len() == 36 && id.starts_with("key-"),
        "not a KeyVersionId: {id:?} in {line:?}"
    );
    id
}

fn check_quickstart(out: &str) {
    assert!(
        out.lines().any(|l| l == "quickstart: all steps passed"),
        "{out}"
    );
    assert!(line(out, "open: ok").contains("in-memory"), "{out}");
    let key_id = line(out, "create_key: ok (key-")["create_key: ok (".len()..]
        .trim_end_matches(')')
        .to_string();
    assert_eq!(key_id.len(), 25, "{out}");
    line(
        out,
        &format!("create_alias: ok (alias/quickstart -> {key_id})"),
    );

    let v1 = version_after(line(out, "advance_encrypt: ok (version "), "version ");
    assert!(v1.starts_with(&key_id), "{out}");
    assert_eq!(
        version_after(line(out, "advance_decrypt: ok (version "), "version "),
        v1
    );
    let rotated = version_after(line(out, "key_rotate: ok ("), "version ");
    let v2 = version_after(
        line(out, "advance_encrypt after rotation: ok (version "),
        "version ",
    );
    assert_eq!(v2, rotated, "{out}");
    assert_ne!(v1, v2, "rotation must change the version:\n{out}");
    assert_eq!(
        version_after(line(out, "advance_decrypt of the old blob: ok"), "version "),
        v1,
        "the old blob decrypts with the old version"
    );
    assert_eq!(
        version_after(line(out, "encrypt: ok (initial version "), "version "),
        v1,
        "kms_encrypt uses the initial version"
    );
    assert_eq!(
        version_after(line(out, "decrypt: ok (version "), "version "),
        v1
    );
    let describe = line(out, "describe_key: ");
    assert!(describe.contains("\"KeyMetadata\""), "{describe}");
    assert!(
        describe.contains(&format!("\"PrimaryKeyVersion\":\"{v2}\"")),
        "{describe}"
    );
}

fn check_error_handling(out: &str) {
    assert!(
        out.lines()
            .any(|l| l == "error_handling: all cases behaved as documented"),
        "{out}"
    );
    line(out, "KEY_NOT_FOUND: Forbidden.KeyNotFound (404) ");
    line(out, "INVALID_CIPHERTEXT: InvalidCiphertext (400) ");
    assert!(
        line(out, "INVALID_PARAMETER: InvalidParameter (400) ").contains("Iv"),
        "the message names the IV:\n{out}"
    );
    assert!(
        line(out, "MISSING_PARAMETER: MissingParameter (400) ").contains("KeyId"),
        "the message names the KeyId:\n{out}"
    );
    line(out, "KEY_DISABLED: Rejected.Disabled (409) ");
    let asymmetric = line(
        out,
        "ONLY_SYMMETRIC_KEY_SUPPORTED: Forbidden.OnlySymmetricKeySupported (404) The key key-",
    );
    assert!(
        asymmetric.contains(" is not a symmetric key. The API only supports symmetric keys."),
        "{asymmetric}"
    );
    line(out, "status table: 0=OK/200 ");
}

fn check_auto_rotation(out: &str) {
    assert!(
        out.lines().any(|l| l == "auto_rotation: all steps passed"),
        "{out}"
    );
    let describe = line(out, "describe_key: ");
    assert!(
        describe.contains("\"AutomaticRotation\":\"Enabled\""),
        "{describe}"
    );
    assert!(
        describe.contains("\"RotationInterval\":\"604800s\""),
        "{describe}"
    );
    let a = version_after(line(out, "day 0: advance_encrypt: ok"), "A = ");
    assert_eq!(
        version_after(line(out, "day 6: advance_encrypt: ok"), "A = "),
        a
    );
    let b = version_after(line(out, "day 7 + 1s: advance_encrypt: ok"), "B = ");
    assert_ne!(a, b, "{out}");
    assert_eq!(
        version_after(line(out, "advance_decrypt of the day-0 blob: ok"), "A = "),
        a
    );
    assert!(
        line(out, "describe_key after disable_key: ")
            .contains("\"AutomaticRotation\":\"Suspended\""),
        "{out}"
    );
    line(out, "set_clock(NULL): ok");
}

#[test]
fn shared_library_has_soname_and_exports_exactly_the_header_functions() {
    require_tool("nm", "binutils");
    let library = shared_library();

    let soname = dynamic_entries(&library, "SONAME");
    assert_eq!(soname, ["liblocalkms.so.0"], "{}", library.display());

    let declared = header_functions();
    assert_eq!(
        declared.len(),
        HEADER_FUNCTIONS,
        "include/localkms.h declares {} functions, not {HEADER_FUNCTIONS}: {declared:?}",
        declared.len()
    );

    let output = run_tool(
        Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(&library),
    );
    let exported: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(|name| name.split('@').next().unwrap_or(name).to_string())
        .collect();
    let foreign: Vec<&String> = exported.iter().filter(|n| !n.starts_with("kms_")).collect();
    assert!(
        foreign.is_empty(),
        "liblocalkms.so exports symbols without the kms_ prefix: {foreign:?}"
    );
    let missing: Vec<&String> = declared.difference(&exported).collect();
    let extra: Vec<&String> = exported.difference(&declared).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the header and liblocalkms.so differ; declared but not exported: {missing:?}; \
         exported but not declared: {extra:?}"
    );
}

#[test]
fn quickstart_shared() {
    check_quickstart(&build_and_run("quickstart", Build::Shared));
}

#[test]
fn quickstart_static() {
    check_quickstart(&build_and_run("quickstart", Build::Static));
}

#[test]
fn quickstart_cxx() {
    check_quickstart(&build_and_run("quickstart", Build::Cxx));
}

#[test]
fn error_handling_shared() {
    check_error_handling(&build_and_run("error_handling", Build::Shared));
}

#[test]
fn error_handling_static() {
    check_error_handling(&build_and_run("error_handling", Build::Static));
}

#[test]
fn error_handling_cxx() {
    check_error_handling(&build_and_run("error_handling", Build::Cxx));
}

#[test]
fn auto_rotation_shared() {
    check_auto_rotation(&build_and_run("auto_rotation", Build::Shared));
}

#[test]
fn auto_rotation_static() {
    check_auto_rotation(&build_and_run("auto_rotation", Build::Static));
}

#[test]
fn auto_rotation_cxx() {
    check_auto_rotation(&build_and_run("auto_rotation", Build::Cxx));
}

/// The KeyId that follows `marker` in `line`.
fn key_id_after<'a>(line: &'a str, marker: &str) -> &'a str {
    let start = line
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {line:?}"))
        + marker.len();
    let id = line[start..]
        .split([',', ')', ' '])
        .next()
        .expect("split yields a first piece");
    assert!(
        id.len() == 25 && id.starts_with("key-"),
        "not a KeyId: {id:?} in {line:?}"
    );
    id
}

fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// The store's mode, and its `-wal` and `-shm`'s when they are there (the last
/// connection to close removes them): 0600 each. The folder holds nothing else of
/// the store's (no lock file).
fn check_store_modes(store: &Path) {
    assert_eq!(file_mode(store), 0o600, "the store's mode");
    let name = store
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    let folder = store.parent().expect("a folder");
    for entry in std::fs::read_dir(folder).expect("list the data folder") {
        let entry_name = entry
            .expect("a folder entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some(suffix) = entry_name.strip_prefix(&name) else {
            continue;
        };
        match suffix {
            "" | ".blob" => {}
            "-wal" | "-shm" => assert_eq!(
                file_mode(&folder.join(&entry_name)),
                0o600,
                "the mode of {entry_name}"
            ),
            _ => panic!("the store left {entry_name} beside it"),
        }
    }
}

/// Builds `persistent_store`, runs it twice on one store and one master-key
/// file, and checks that the second run finds the key the first one created and
/// decrypts the blob the first one left.
fn check_persistent_store(build: Build) {
    let name = "persistent_store";
    let (dir, exe) = build_example(name, build);
    let store = dir.path().join("data").join("app.kms");
    let key_file = dir.path().join("data").join("master.key");
    std::fs::create_dir(dir.path().join("data")).expect("create the data folder");

    let first = run_example(name, build, &exe, dir.path(), &[&store, &key_file]);
    assert!(
        first
            .lines()
            .any(|l| l == "persistent_store: all steps passed"),
        "{first}"
    );
    line(&first, "created master-key file ");
    let created = key_id_after(
        line(&first, "first run: created key-"),
        "first run: created ",
    )
    .to_string();
    assert!(
        line(&first, "first run: created ").ends_with("(alias/persistent-example)"),
        "{first}"
    );
    let v1 = version_after(line(&first, "advance_encrypt: ok (version "), "version ").to_string();
    assert!(v1.starts_with(&created), "{first}");
    assert_eq!(
        version_after(line(&first, "advance_decrypt: ok (version "), "version "),
        v1
    );
    line(&first, "no blob from a previous run");
    assert!(!first.contains("found existing key"), "{first}");

    // Key file: 64 hex digits and a newline, mode 0600. The store (an SQLite
    // database) and its -wal and -shm, if a connection left them: 0600.
    let key_text = std::fs::read_to_string(&key_file).expect("read the master-key file");
    assert_eq!(key_text.len(), 65, "{key_text:?}");
    assert!(
        key_text.trim_end().bytes().all(|b| b.is_ascii_hexdigit()),
        "{key_text:?}"
    );
    assert_eq!(file_mode(&key_file), 0o600, "the master-key file's mode");
    check_store_modes(&store);
    assert_eq!(
        std::fs::read(&store).expect("read the store")[..16],
        *b"SQLite format 3\0",
        "the store is an SQLite database"
    );
    let blob_path = dir.path().join("data").join("app.kms.blob");
    let first_blob = std::fs::read(&blob_path).expect("the first run leaves its blob");

    let second = run_example(name, build, &exe, dir.path(), &[&store, &key_file]);
    assert!(
        second
            .lines()
            .any(|l| l == "persistent_store: all steps passed"),
        "{second}"
    );
    line(&second, "using master-key file ");
    let found = line(&second, "found existing key key-");
    assert_eq!(
        key_id_after(found, "found existing key "),
        created,
        "the second run finds the key the first created:\n{first}\n{second}"
    );
    assert!(found.ends_with("(alias/persistent-example)"), "{second}");
    assert!(!second.contains("first run: created"), "{second}");
    let old = line(&second, "decrypted the blob from the previous run: ");
    assert!(
        old.contains("\"a message sealed by persistent_store\""),
        "{old}"
    );
    assert_eq!(version_after(old, "(version "), v1, "{second}");
    assert_eq!(
        version_after(line(&second, "advance_encrypt: ok (version "), "version "),
        v1,
        "the same key version encrypts in both runs"
    );
    assert_eq!(
        key_text,
        std::fs::read_to_string(&key_file).expect("read the master-key file"),
        "the second run keeps the master key"
    );
    assert_eq!(file_mode(&key_file), 0o600);
    check_store_modes(&store);
    assert_ne!(
        std::fs::read(&blob_path).expect("the second run leaves its blob"),
        first_blob,
        "each run writes a fresh blob (a random IV)"
    );
}

#[test]
fn persistent_store_shared() {
    check_persistent_store(Build::Shared);
}

#[test]
fn persistent_store_static() {
    check_persistent_store(Build::Static);
}

#[test]
fn persistent_store_cxx() {
    check_persistent_store(Build::Cxx);
}

/// Runs `exe` with `args` in `dir` and returns whether it succeeded, and its output.
fn try_run(exe: &Path, dir: &Path, args: &[&Path]) -> (bool, String) {
    let output = run_with_timeout(Command::new(exe).args(args).current_dir(dir));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// envelope_file: a 1.5 MB file encrypted with a data key and decrypted back; the
/// envelope still opens after the KMS key rotates; a changed byte is refused.
fn check_envelope_file(build: Build) {
    use localkms::service::{Client, OpenOptions};

    let (dir, exe) = build_example("envelope_file", build);
    let d = dir.path();
    let store = d.join("keys.kms");
    let key_file = d.join("master.key");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key_file)
            .unwrap();
        writeln!(f, "{}", "5a".repeat(32)).unwrap();
    }
    // 1.5 MB that does not compress to nothing: a simple LCG.
    let mut data = Vec::with_capacity(1_500_000);
    let mut x: u32 = 12345;
    while data.len() < 1_500_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        data.push((x >> 16) as u8);
    }
    let input = d.join("input.bin");
    std::fs::write(&input, &data).unwrap();

    let sealed = d.join("input.enc");
    let back = d.join("back.bin");
    let out = run_example(
        "envelope_file",
        build,
        &exe,
        d,
        &[&store, &key_file, Path::new("encrypt"), &input, &sealed],
    );
    assert!(out.contains("envelope_file encrypt: done"), "{out}");
    let first_version =
        version_after(line(&out, "encrypted with a data key from "), "from ").to_owned();
    let sealed_len = std::fs::metadata(&sealed).unwrap().len() as usize;
    assert!(
        sealed_len > data.len() && sealed_len < data.len() + 200,
        "{sealed_len}"
    );
    let sealed_bytes = std::fs::read(&sealed).unwrap();
    assert!(
        !sealed_bytes.windows(64).any(|w| w == &data[1000..1064]),
        "the output holds plaintext"
    );

    let out = run_example(
        "envelope_file",
        build,
        &exe,
        d,
        &[&store, &key_file, Path::new("decrypt"), &sealed, &back],
    );
    assert!(out.contains("envelope_file decrypt: done"), "{out}");
    assert!(
        std::fs::read(&back).unwrap() == data,
        "the decrypted file differs"
    );

    // Rotate the KMS key (through the Rust API, on the same store): new envelopes
    // use the new version; the old envelope still opens with the old one.
    let client = Client::open(&OpenOptions {
        keystore_path: Some(&store),
        master_key_file: Some(&key_file),
        ..Default::default()
    })
    .unwrap();
    let new_version = client
        .rotate_key("alias/envelope-example")
        .unwrap()
        .value
        .key_version_id;
    let sealed2 = d.join("input2.enc");
    let out = run_example(
        "envelope_file",
        build,
        &exe,
        d,
        &[&store, &key_file, Path::new("encrypt"), &input, &sealed2],
    );
    assert_eq!(
        version_after(line(&out, "encrypted with a data key from "), "from "),
        new_version
    );
    let out = run_example(
        "envelope_file",
        build,
        &exe,
        d,
        &[&store, &key_file, Path::new("decrypt"), &sealed, &back],
    );
    assert_eq!(
        version_after(line(&out, "opened the data key (version "), "version "),
        first_version
    );
    assert!(std::fs::read(&back).unwrap() == data);

    // One changed byte in the middle of the data, or in the blob, is refused.
    for at in [sealed_len / 2, 20] {
        let mut bad = sealed_bytes.clone();
        bad[at] ^= 0x01;
        let tampered = d.join("tampered.enc");
        std::fs::write(&tampered, &bad).unwrap();
        let (ok, text) = try_run(
            &exe,
            d,
            &[&store, &key_file, Path::new("decrypt"), &tampered, &back],
        );
        assert!(!ok, "a changed byte at {at} was accepted:\n{text}");
    }
}

#[test]
fn envelope_file_shared() {
    check_envelope_file(Build::Shared);
}

#[test]
fn envelope_file_static() {
    check_envelope_file(Build::Static);
}

#[test]
fn envelope_file_cxx() {
    check_envelope_file(Build::Cxx);
}

/// The examples under valgrind: no invalid read or write, no use of
/// uninitialised memory, and no leak (every output freed by its kms_*_free).
#[test]
fn examples_are_clean_under_valgrind() {
    require_tool("valgrind", "valgrind");
    for name in [
        "quickstart",
        "error_handling",
        "auto_rotation",
        "persistent_store",
    ] {
        let (dir, exe) = build_example(name, Build::Shared);
        let store = dir.path().join("vg.kms");
        let key = dir.path().join("vg.key");
        let args: Vec<&Path> = if name == "persistent_store" {
            vec![&store, &key]
        } else {
            vec![]
        };
        // persistent_store twice: the second run takes the "found" path.
        let runs = if name == "persistent_store" { 2 } else { 1 };
        for _ in 0..runs {
            let output = run_with_timeout(
                Command::new("valgrind")
                    .args([
                        "--quiet",
                        "--error-exitcode=97",
                        "--leak-check=full",
                        "--errors-for-leak-kinds=definite,indirect",
                    ])
                    .arg(&exe)
                    .args(&args)
                    .current_dir(dir.path()),
            );
            assert!(
                output.status.success(),
                "{name} under valgrind exited with {}:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}
