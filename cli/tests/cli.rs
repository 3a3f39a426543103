//! The `localkms` command-line tool, run as a separate process: every command's
//! success and error paths, the exit status per error class, the master-key file,
//! a full session, and `store copy` between SQLite files, out of a localkms 0.1
//! store file, and (with `LOCALKMS_TEST_POSTGRES_URL`) into PostgreSQL.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;

use common::independent_gcm;
use common::postgres::{drop_database, fresh_database};
use common::shapes::is_uuid_v4;
use common::v1_file::{v1_store_file, V1Key};

const BIN: &str = env!("CARGO_BIN_EXE_localkms");

/// Every subcommand.
const SUBCOMMANDS: [&str; 24] = [
    "init",
    "create-key",
    "describe-key",
    "list-keys",
    "list-key-versions",
    "enable-key",
    "disable-key",
    "schedule-key-deletion",
    "cancel-key-deletion",
    "import-key-material",
    "import-key-version",
    "create-alias",
    "update-alias",
    "delete-alias",
    "list-aliases",
    "rotate",
    "update-rotation-policy",
    "advance-encrypt",
    "advance-decrypt",
    "encrypt",
    "decrypt",
    "generate-data-key",
    "advance-generate-data-key",
    "store",
];

/// What one run of the tool gave.
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    /// The JSON document of a successful run.
    #[track_caller]
    fn json(&self) -> Value {
        assert_eq!(
            self.code, 0,
            "expected success; stdout {:?} stderr {:?}",
            self.stdout, self.stderr
        );
        assert!(self.stderr.is_empty(), "stderr: {}", self.stderr);
        assert_eq!(
            self.stdout.matches('\n').count(),
            1,
            "one line: {}",
            self.stdout
        );
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }

    /// The error document of a failed run, after checking its exit status and Code.
    #[track_caller]
    fn error(&self, exit: i32, code: &str) -> Value {
        assert_eq!(
            self.code, exit,
            "expected exit {exit} ({code}); stdout {:?} stderr {:?}",
            self.stdout, self.stderr
        );
        assert!(self.stdout.is_empty(), "nothing on stdout: {}", self.stdout);
        let err: Value = serde_json::from_str(&self.stderr).expect("stderr is JSON");
        assert_eq!(err["Code"], code, "{err}");
        assert!(err["Message"].as_str().is_some_and(|m| !m.is_empty()));
        let http = err["HttpStatus"].as_u64().expect("HttpStatus is a number");
        let expected_http = match exit {
            2 => 400,
            3 => 404,
            4 => 409,
            5 if code == "KeyStore.AccessDenied" => 403,
            _ => 500,
        };
        assert_eq!(http, expected_http, "{err}");
        let request_id = err["RequestId"].as_str().expect("RequestId");
        assert_eq!(request_id.len(), 36, "{err}");
        assert_eq!(&request_id[14..15], "4", "a UUID v4: {err}");
        err
    }

    /// A usage error reported by the argument parser (plain text, exit 2).
    #[track_caller]
    fn usage_error(&self) {
        assert_eq!(
            self.code, 2,
            "stdout {:?} stderr {:?}",
            self.stdout, self.stderr
        );
        assert!(self.stdout.is_empty());
        assert!(self.stderr.contains("error"), "{}", self.stderr);
    }
}

/// Runs the tool with `args`, `stdin` (none: empty) and extra environment.
fn run_raw(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &Path)]) -> Out {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("LOCALKMS_STORE")
        .env_remove("LOCALKMS_MASTER_KEY_FILE");
    for (name, value) in env {
        command.env(name, value);
    }
    spawn(command, stdin)
}

fn spawn(mut command: Command, stdin: Option<&[u8]>) -> Out {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the localkms binary runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The tool may exit before reading (a bad parameter): a closed pipe is fine.
        let _ = pipe.write_all(input);
    }
    let output = child.wait_with_output().unwrap();
    Out {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A temporary directory with a store and a master-key file in it; removed on drop.
struct Env {
    dir: PathBuf,
    store: PathBuf,
    key: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Env {
    /// A fresh directory; nothing in it yet.
    fn empty(name: &str) -> Env {
        let dir = std::env::temp_dir().join(format!(
            "localkms-cli-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            name
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Env {
            store: dir.join("keys.kms"),
            key: dir.join("master.key"),
            dir,
        }
    }

    /// A directory with an initialised store.
    fn new(name: &str) -> Env {
        let env = Env::empty(name);
        env.init(&[]).json();
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn init(&self, extra: &[&str]) -> Out {
        let mut args = vec![
            "init",
            "--store",
            self.store.to_str().unwrap(),
            "--master-key-file",
            self.key.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run_raw(&args, None, &[])
    }

    /// Runs `command` on this store, then `args`.
    fn run_in(&self, command: &str, args: &[&str], stdin: Option<&[u8]>) -> Out {
        let mut all = vec![
            command,
            "--store",
            self.store.to_str().unwrap(),
            "--master-key-file",
            self.key.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        run_raw(&all, stdin, &[])
    }

    fn run(&self, command: &str, args: &[&str]) -> Out {
        self.run_in(command, args, None)
    }

    /// Creates a key and returns its KeyId.
    fn create_key(&self, args: &[&str]) -> String {
        let out = self.run("create-key", args).json();
        out["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn s(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

fn b64(value: &Value) -> Vec<u8> {
    B64.decode(s(value)).expect("standard Base64")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn full_session() {
    let env = Env::empty("session");

    // init
    let init = env.init(&[]).json();
    assert_eq!(s(&init["Store"]), env.store.to_str().unwrap());
    assert_eq!(s(&init["MasterKeyFile"]), env.key.to_str().unwrap());

    // create-key, create-alias
    let created = env
        .run(
            "create-key",
            &[
                "--description",
                "session key",
                "--algorithms",
                "AES_GCM,AES_CBC",
            ],
        )
        .json();
    let meta = &created["KeyMetadata"];
    let key_id = s(&meta["KeyId"]).to_owned();
    assert!(key_id.starts_with("key-") && key_id.len() == 25, "{key_id}");
    assert_eq!(meta["KeyState"], "Enabled");
    assert_eq!(meta["KeySpec"], "Aliyun_AES_256");
    assert_eq!(meta["Description"], "session key");
    assert!(created["RequestId"].is_string());
    let first_version = s(&meta["PrimaryKeyVersion"]).to_owned();
    env.run(
        "create-alias",
        &["--alias-name", "alias/session", "--key-id", &key_id],
    )
    .json();

    // advance-encrypt via the alias, plaintext on standard input
    let old = env
        .run_in(
            "advance-encrypt",
            &["--key-id", "alias/session"],
            Some(b"first secret"),
        )
        .json();
    assert_eq!(s(&old["KeyId"]), key_id, "the real KeyId, not the alias");
    assert_eq!(s(&old["KeyVersionId"]), first_version);
    assert_eq!(old["Algorithm"], "AES_GCM");
    assert_eq!(b64(&old["Iv"]).len(), 12);
    assert_eq!(old["PaddingMode"], "");
    assert!(old["RequestId"].is_string());
    let keys: Vec<&str> = old
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for field in [
        "CiphertextBlob",
        "KeyId",
        "KeyVersionId",
        "Algorithm",
        "Iv",
        "PaddingMode",
        "RequestId",
    ] {
        assert!(keys.contains(&field), "{field} in {old}");
    }

    // rotate
    let rotated = env.run("rotate", &["--key-id", "alias/session"]).json();
    assert_eq!(s(&rotated["KeyId"]), key_id);
    let new_version = s(&rotated["KeyVersionId"]).to_owned();
    assert_ne!(new_version, first_version);
    assert!(new_version.starts_with(&key_id));
    assert!(rotated["RequestId"].is_string());

    // advance-encrypt again: the new primary version
    let new = env
        .run_in(
            "advance-encrypt",
            &["--key-id", "alias/session"],
            Some(b"second secret"),
        )
        .json();
    assert_eq!(s(&new["KeyVersionId"]), new_version);

    // advance-decrypt both: each with the version recorded in its blob
    let opened_old = env
        .run(
            "advance-decrypt",
            &["--ciphertext-blob", s(&old["CiphertextBlob"])],
        )
        .json();
    assert_eq!(b64(&opened_old["Plaintext"]), b"first secret");
    assert_eq!(s(&opened_old["KeyVersionId"]), first_version);
    assert_eq!(s(&opened_old["KeyId"]), key_id);
    assert_eq!(opened_old["Algorithm"], "AES_GCM");
    assert!(opened_old["RequestId"].is_string());
    let opened_new = env
        .run_in(
            "advance-decrypt",
            &[],
            Some(format!("{}\n", s(&new["CiphertextBlob"])).as_bytes()),
        )
        .json();
    assert_eq!(b64(&opened_new["Plaintext"]), b"second secret");
    assert_eq!(s(&opened_new["KeyVersionId"]), new_version);
    assert_ne!(opened_old["KeyVersionId"], opened_new["KeyVersionId"]);

    // encrypt / decrypt with the Iv and Algorithm passed back: the initial version
    let bare = env
        .run(
            "encrypt",
            &[
                "--key-id",
                "alias/session",
                "--algorithm",
                "AES_CBC",
                "--plaintext-base64",
                "aGVsbG8=",
            ],
        )
        .json();
    assert_eq!(bare["Algorithm"], "AES_CBC");
    assert_eq!(bare["PaddingMode"], "PKCS7_PADDING");
    assert_eq!(
        s(&bare["KeyVersionId"]),
        first_version,
        "Encrypt uses the initial version"
    );
    assert_eq!(b64(&bare["CiphertextBlob"]).len(), 16);
    let plain = env
        .run(
            "decrypt",
            &[
                "--key-id",
                &key_id,
                "--algorithm",
                s(&bare["Algorithm"]),
                "--iv",
                s(&bare["Iv"]),
                "--padding-mode",
                s(&bare["PaddingMode"]),
                "--ciphertext-blob",
                s(&bare["CiphertextBlob"]),
            ],
        )
        .json();
    assert_eq!(b64(&plain["Plaintext"]), b"hello");
    assert_eq!(plain["PaddingMode"], "PKCS7_PADDING");

    // generate-data-key and decrypt its blob
    let data_key = env
        .run(
            "generate-data-key",
            &["--key-id", "alias/session", "--number-of-bytes", "24"],
        )
        .json();
    let data_key_plain = b64(&data_key["Plaintext"]);
    assert_eq!(data_key_plain.len(), 24);
    assert_eq!(data_key["Algorithm"], "AES_GCM");
    assert_eq!(s(&data_key["KeyVersionId"]), first_version);
    let opened = env
        .run(
            "decrypt",
            &[
                "--key-id",
                s(&data_key["KeyId"]),
                "--iv",
                s(&data_key["Iv"]),
                "--ciphertext-blob",
                s(&data_key["CiphertextBlob"]),
            ],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), data_key_plain);

    // describe-key: the rotation shows
    let described = env
        .run("describe-key", &["--key-id", "alias/session"])
        .json();
    assert_eq!(
        s(&described["KeyMetadata"]["PrimaryKeyVersion"]),
        new_version
    );
    assert_eq!(described["KeyMetadata"]["KeyState"], "Enabled");
}

/// Every command prints the RequestId of its library call (a UUID v4, one per call),
/// the changes that answer with nothing else too, and so does a failed call.
#[test]
fn every_command_prints_the_request_id_of_its_call() {
    let env = Env::new("request-ids");
    let mut ids: Vec<String> = Vec::new();
    let mut take = |doc: Value| {
        let id = s(&doc["RequestId"]).to_owned();
        assert!(is_uuid_v4(&id), "{doc}");
        ids.push(id);
        doc
    };
    let created = take(env.run("create-key", &[]).json());
    let key_id = s(&created["KeyMetadata"]["KeyId"]).to_owned();
    let key = ["--key-id", key_id.as_str()];
    let alias = ["--alias-name", "alias/ids", "--key-id", key_id.as_str()];
    take(env.run("create-alias", &alias).json());
    take(env.run("update-alias", &alias).json());
    let rotated = take(env.run("rotate", &["--key-id", "alias/ids"]).json());
    assert_eq!(s(&rotated["KeyId"]), key_id);
    for command in [
        "describe-key",
        "list-key-versions",
        "disable-key",
        "enable-key",
    ] {
        take(env.run(command, &key).json());
    }
    take(
        env.run(
            "update-rotation-policy",
            &[
                &key[..],
                &[
                    "--enable-automatic-rotation",
                    "true",
                    "--rotation-interval",
                    "30d",
                ],
            ]
            .concat(),
        )
        .json(),
    );
    take(env.run("schedule-key-deletion", &key).json());
    take(env.run("cancel-key-deletion", &key).json());
    take(env.run("list-keys", &[]).json());
    take(env.run("list-aliases", &[]).json());
    take(
        env.run("delete-alias", &["--alias-name", "alias/ids"])
            .json(),
    );
    let external = take(env.run("create-key", &["--origin", "EXTERNAL"]).json());
    let external = s(&external["KeyMetadata"]["KeyId"]).to_owned();
    let material = STANDARD_MATERIAL;
    take(
        env.run(
            "import-key-material",
            &["--key-id", &external, "--key-material-base64", material],
        )
        .json(),
    );
    // Failed library calls: the error's RequestId.
    let missing = ["--key-id", "key-000000000000000000000"];
    for command in ["describe-key", "rotate", "enable-key"] {
        let err = env.run(command, &missing).error(3, "Forbidden.KeyNotFound");
        take(err);
    }
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "{ids:?}");
}

/// 32 bytes of key material in Base64.
const STANDARD_MATERIAL: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn init_writes_a_private_key_file_and_never_overwrites_it() {
    let env = Env::empty("init");
    // A permissive umask must not leak into the files' modes.
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(BIN)
        .args(["init", "--store"])
        .arg(&env.store)
        .arg("--master-key-file")
        .arg(&env.key)
        .env_remove("LOCALKMS_STORE")
        .env_remove("LOCALKMS_MASTER_KEY_FILE");
    spawn(command, None).json();
    assert_eq!(mode(&env.key), 0o600);
    assert_eq!(mode(&env.store), 0o600);
    let content = std::fs::read_to_string(&env.key).unwrap();
    assert_eq!(content.len(), 65, "{content:?}");
    assert!(content.ends_with('\n'));
    assert!(content[..64].bytes().all(|b| b.is_ascii_hexdigit()));

    let key_id = env.create_key(&[]);

    // A second init refuses to overwrite the key file and changes nothing.
    let err = env.init(&[]).error(2, "InvalidParameter");
    assert!(s(&err["Message"]).contains("--use-existing-key"), "{err}");
    assert_eq!(std::fs::read_to_string(&env.key).unwrap(), content);

    // With --use-existing-key it opens the existing store with the existing key.
    env.init(&["--use-existing-key"]).json();
    assert_eq!(std::fs::read_to_string(&env.key).unwrap(), content);
    let keys = env.run("list-keys", &[]).json();
    assert_eq!(keys["Keys"]["Key"][0]["KeyId"], key_id.as_str());

    // A new key for an existing store: AccessDenied, and the useless key is removed.
    let other_key = env.path("other.key");
    let out = run_raw(
        &[
            "init",
            "--store",
            env.store.to_str().unwrap(),
            "--master-key-file",
            other_key.to_str().unwrap(),
        ],
        None,
        &[],
    );
    out.error(5, "KeyStore.AccessDenied");
    assert!(!other_key.exists());

    // A directory that does not exist: KeyStore.IOError.
    let missing = env.path("no/such/dir/master.key");
    let out = run_raw(
        &[
            "init",
            "--store",
            env.path("s2.kms").to_str().unwrap(),
            "--master-key-file",
            missing.to_str().unwrap(),
        ],
        None,
        &[],
    );
    out.error(5, "KeyStore.IOError");
}

#[test]
fn store_errors_exit_5() {
    let env = Env::new("store");
    let key_id = env.create_key(&[]);

    // A wrong master key (a valid key file, another key).
    let other = Env::new("store-other");
    let wrong = run_raw(
        &[
            "list-keys",
            "--store",
            env.store.to_str().unwrap(),
            "--master-key-file",
            other.key.to_str().unwrap(),
        ],
        None,
        &[],
    );
    let err = wrong.error(5, "KeyStore.AccessDenied");
    assert!(err["HttpStatus"] == 403);
    let wrong = run_raw(
        &[
            "describe-key",
            "--store",
            env.store.to_str().unwrap(),
            "--master-key-file",
            other.key.to_str().unwrap(),
            "--key-id",
            &key_id,
        ],
        None,
        &[],
    );
    wrong.error(5, "KeyStore.AccessDenied");

    // A master-key file others can read.
    std::fs::set_permissions(&env.key, std::fs::Permissions::from_mode(0o644)).unwrap();
    env.run("list-aliases", &[])
        .error(5, "KeyStore.AccessDenied");
    std::fs::set_permissions(&env.key, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.run("list-aliases", &[]).json();

    // A store that does not exist: init is not implied.
    let missing = run_raw(
        &[
            "list-keys",
            "--store",
            env.path("missing.kms").to_str().unwrap(),
            "--master-key-file",
            env.key.to_str().unwrap(),
        ],
        None,
        &[],
    );
    let err = missing.error(5, "KeyStore.IOError");
    assert!(s(&err["Message"]).contains("localkms init"), "{err}");
    assert!(!env.path("missing.kms").exists());

    // A damaged store.
    let damaged = env.path("damaged.kms");
    std::fs::write(&damaged, b"not a key store at all, just some bytes here").unwrap();
    let out = run_raw(
        &[
            "list-keys",
            "--store",
            damaged.to_str().unwrap(),
            "--master-key-file",
            env.key.to_str().unwrap(),
        ],
        None,
        &[],
    );
    out.error(5, "KeyStore.Corrupted");
}

#[test]
fn environment_variables_name_the_store() {
    let env = Env::new("envvars");
    let key_id = env.create_key(&[]);
    let vars = [
        ("LOCALKMS_STORE", env.store.as_path()),
        ("LOCALKMS_MASTER_KEY_FILE", env.key.as_path()),
    ];
    let listed = run_raw(&["list-keys"], None, &vars).json();
    assert_eq!(listed["Keys"]["Key"][0]["KeyId"], key_id.as_str());
    let sealed = run_raw(
        &[
            "advance-encrypt",
            "--key-id",
            &key_id,
            "--plaintext-base64",
            "AQID",
        ],
        None,
        &vars,
    )
    .json();
    assert_eq!(sealed["KeyId"], key_id.as_str());
    // Without them, --store and --master-key-file are required.
    run_raw(&["list-keys"], None, &[]).usage_error();
    run_raw(
        &["list-keys", "--store", env.store.to_str().unwrap()],
        None,
        &[],
    )
    .usage_error();
}

#[test]
fn key_commands() {
    let env = Env::new("keys");

    // create-key with every option, and its errors
    let created = env
        .run(
            "create-key",
            &[
                "--key-spec",
                "Aliyun_AES_128",
                "--key-usage",
                "ENCRYPT/DECRYPT",
                "--origin",
                "Aliyun_KMS",
                "--description",
                "small",
            ],
        )
        .json();
    let key_id = s(&created["KeyMetadata"]["KeyId"]).to_owned();
    assert_eq!(created["KeyMetadata"]["KeySpec"], "Aliyun_AES_128");
    assert_eq!(created["KeyMetadata"]["KeyUsage"], "ENCRYPT/DECRYPT");
    assert_eq!(created["KeyMetadata"]["Origin"], "Aliyun_KMS");
    env.run("create-key", &["--key-spec", "AES_9"])
        .error(2, "InvalidParameter");
    env.run(
        "create-key",
        &["--key-spec", "Aliyun_AES_256", "--key-usage", "SIGN/VERIFY"],
    )
    .error(2, "InvalidParameter");
    env.run("create-key", &["--origin", "Elsewhere"])
        .error(2, "InvalidParameter");
    env.run("create-key", &["--key-spec", "EC_SM2"])
        .error(2, "Rejected.UnsupportedOperation");

    // describe-key
    let described = env.run("describe-key", &["--key-id", &key_id]).json();
    assert_eq!(described["KeyMetadata"]["Description"], "small");
    assert_eq!(described["KeyMetadata"]["ProtectionLevel"], "SOFTWARE");
    env.run("describe-key", &["--key-id", "key-000000000000000000000"])
        .error(3, "Forbidden.KeyNotFound");
    env.run("describe-key", &["--key-id", "alias/nothing"])
        .error(3, "Forbidden.AliasNotFound");
    env.run("describe-key", &[]).usage_error();

    // list-keys
    let second = env.create_key(&[]);
    let listed = env.run("list-keys", &[]).json();
    assert_eq!(listed["TotalCount"], 2);
    let ids: Vec<&str> = listed["Keys"]["Key"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| s(&k["KeyId"]))
        .collect();
    assert!(ids.contains(&key_id.as_str()) && ids.contains(&second.as_str()));

    // list-key-versions
    env.run("rotate", &["--key-id", &key_id]).json();
    let versions = env.run("list-key-versions", &["--key-id", &key_id]).json();
    assert_eq!(versions["TotalCount"], 2);
    assert_eq!(
        versions["KeyVersions"]["KeyVersion"][0]["KeyId"],
        key_id.as_str()
    );
    env.run(
        "list-key-versions",
        &["--key-id", "key-000000000000000000000"],
    )
    .error(3, "Forbidden.KeyNotFound");

    // disable-key / enable-key
    let disabled = env.run("disable-key", &["--key-id", &key_id]).json();
    assert!(disabled["RequestId"].is_string());
    assert_eq!(disabled.as_object().unwrap().len(), 1);
    let described = env.run("describe-key", &["--key-id", &key_id]).json();
    assert_eq!(described["KeyMetadata"]["KeyState"], "Disabled");
    env.run_in("advance-encrypt", &["--key-id", &key_id], Some(b"x"))
        .error(4, "Rejected.Disabled");
    env.run("rotate", &["--key-id", &key_id])
        .error(4, "Rejected.Disabled");
    env.run("disable-key", &["--key-id", "alias/none"])
        .error(3, "Forbidden.AliasNotFound");
    env.run("enable-key", &["--key-id", &key_id]).json();
    let described = env.run("describe-key", &["--key-id", &key_id]).json();
    assert_eq!(described["KeyMetadata"]["KeyState"], "Enabled");
    env.run("enable-key", &["--key-id", "key-000000000000000000000"])
        .error(3, "Forbidden.KeyNotFound");

    // schedule-key-deletion / cancel-key-deletion
    env.run("cancel-key-deletion", &["--key-id", &second])
        .error(2, "Rejected.UnsupportedOperation");
    env.run(
        "schedule-key-deletion",
        &["--key-id", &second, "--pending-window-in-days", "3"],
    )
    .error(2, "InvalidParameter");
    env.run(
        "schedule-key-deletion",
        &["--key-id", &second, "--pending-window-in-days", "-1"],
    )
    .error(2, "InvalidParameter");
    env.run(
        "schedule-key-deletion",
        &["--key-id", &second, "--pending-window-in-days", "x"],
    )
    .usage_error();
    env.run("schedule-key-deletion", &["--key-id", &second])
        .json();
    let described = env.run("describe-key", &["--key-id", &second]).json();
    assert_eq!(described["KeyMetadata"]["KeyState"], "PendingDeletion");
    assert!(described["KeyMetadata"]["DeleteDate"].is_string());
    env.run("schedule-key-deletion", &["--key-id", &second])
        .error(4, "Rejected.PendingDeletion");
    env.run_in("encrypt", &["--key-id", &second], Some(b"x"))
        .error(4, "Rejected.PendingDeletion");
    env.run("enable-key", &["--key-id", &second])
        .error(4, "Rejected.PendingDeletion");
    env.run("cancel-key-deletion", &["--key-id", &second])
        .json();
    let described = env.run("describe-key", &["--key-id", &second]).json();
    assert_eq!(described["KeyMetadata"]["KeyState"], "Enabled");
    env.run(
        "cancel-key-deletion",
        &["--key-id", "key-000000000000000000000"],
    )
    .error(3, "Forbidden.KeyNotFound");

    // An asymmetric key does not encrypt.
    let ec = env.create_key(&["--key-spec", "EC_P256"]);
    env.run_in("advance-encrypt", &["--key-id", &ec], Some(b"x"))
        .error(3, "Forbidden.OnlySymmetricKeySupported");

    // create-key --key-spec Aliyun_SM4, --algorithms and --key-id.
    let sm4 = env.run("create-key", &["--key-spec", "Aliyun_SM4"]).json();
    assert_eq!(sm4["KeyMetadata"]["KeySpec"], "Aliyun_SM4");
    assert_eq!(sm4["KeyMetadata"]["KeyState"], "Enabled");
    // --algorithms: names of the spec's cipher only; none for an asymmetric key.
    env.create_key(&["--algorithms", "AES_GCM,AES_CBC,AES_ECB"]);
    env.create_key(&["--key-spec", "Aliyun_SM4", "--algorithms", "SM4_CBC"]);
    for bad in ["AES_CTR", "SM4_GCM", "AES_GCM,DES"] {
        env.run("create-key", &["--algorithms", bad])
            .error(2, "InvalidParameter");
    }
    env.run(
        "create-key",
        &["--key-spec", "Aliyun_SM4", "--algorithms", "AES_GCM"],
    )
    .error(2, "InvalidParameter");
    env.run(
        "create-key",
        &["--key-spec", "EC_P256", "--algorithms", "AES_GCM"],
    )
    .error(2, "InvalidParameter");
    // --key-id: an EXTERNAL key only, 1 to 64 of [A-Za-z0-9-], not in use.
    let mirrored = "mirrored-Key-1";
    let created = env
        .run(
            "create-key",
            &["--origin", "EXTERNAL", "--key-id", mirrored],
        )
        .json();
    assert_eq!(created["KeyMetadata"]["KeyId"], mirrored);
    assert_eq!(created["KeyMetadata"]["KeyState"], "PendingImport");
    env.run("create-key", &["--key-id", "other-key"])
        .error(2, "InvalidParameter");
    env.run(
        "create-key",
        &["--origin", "EXTERNAL", "--key-id", mirrored],
    )
    .error(2, "InvalidParameter");
    let too_long = "k".repeat(65);
    for bad in ["has space", "under_score", "alias/x", too_long.as_str()] {
        env.run("create-key", &["--origin", "EXTERNAL", "--key-id", bad])
            .error(2, "InvalidParameter");
    }
}

#[test]
fn import_key_material() {
    let env = Env::new("import");
    let created = env.run("create-key", &["--origin", "EXTERNAL"]).json();
    assert_eq!(created["KeyMetadata"]["KeyState"], "PendingImport");
    let key_id = s(&created["KeyMetadata"]["KeyId"]).to_owned();

    env.run("advance-generate-data-key", &["--key-id", &key_id])
        .error(4, "Rejected.PendingImport");
    env.run(
        "import-key-material",
        &["--key-id", &key_id, "--key-material-base64", "not base64!"],
    )
    .error(2, "InvalidParameter");
    env.run(
        "import-key-material",
        &["--key-id", &key_id, "--key-material-base64", "AAECAw=="],
    )
    .error(2, "InvalidKeyMaterial");
    env.run(
        "import-key-material",
        &[
            "--key-id",
            &key_id,
            "--key-material-base64",
            &B64.encode([7u8; 32]),
            "--key-material-expire-unix",
            "1000",
        ],
    )
    .error(2, "InvalidParameter");
    env.run("import-key-material", &["--key-id", &key_id])
        .usage_error();
    let missing_file = env.path("missing.bin");
    env.run(
        "import-key-material",
        &[
            "--key-id",
            &key_id,
            "--key-material-file",
            missing_file.to_str().unwrap(),
        ],
    )
    .error(2, "InvalidParameter");

    let material = env.path("material.bin");
    std::fs::write(&material, [7u8; 32]).unwrap();
    let out = env
        .run(
            "import-key-material",
            &[
                "--key-id",
                &key_id,
                "--key-material-file",
                material.to_str().unwrap(),
            ],
        )
        .json();
    assert!(out["RequestId"].is_string());
    let described = env.run("describe-key", &["--key-id", &key_id]).json();
    assert_eq!(described["KeyMetadata"]["KeyState"], "Enabled");
    // The same material again, as Base64, with an expiry: accepted.
    let expire = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 86_400)
        .to_string();
    env.run(
        "import-key-material",
        &[
            "--key-id",
            &key_id,
            "--key-material-base64",
            &B64.encode([7u8; 32]),
            "--key-material-expire-unix",
            &expire,
        ],
    )
    .json();
    let described = env.run("describe-key", &["--key-id", &key_id]).json();
    assert!(described["KeyMetadata"]["MaterialExpireTime"].is_string());
    // Other material: refused.
    env.run(
        "import-key-material",
        &[
            "--key-id",
            &key_id,
            "--key-material-base64",
            &B64.encode([8u8; 32]),
        ],
    )
    .error(2, "InvalidKeyMaterial");

    let sealed = env
        .run("advance-generate-data-key", &["--key-id", &key_id])
        .json();
    let opened = env
        .run(
            "advance-decrypt",
            &["--ciphertext-blob", s(&sealed["CiphertextBlob"])],
        )
        .json();
    assert_eq!(opened["Plaintext"], sealed["Plaintext"]);

    // Only EXTERNAL keys take material.
    let native = env.create_key(&[]);
    env.run(
        "import-key-material",
        &[
            "--key-id",
            &native,
            "--key-material-file",
            material.to_str().unwrap(),
        ],
    )
    .error(2, "Rejected.UnsupportedOperation");
    // And EXTERNAL keys do not rotate.
    env.run("rotate", &["--key-id", &key_id])
        .error(2, "Rejected.UnsupportedOperation");
}

#[test]
fn alias_commands() {
    let env = Env::new("aliases");
    let first = env.create_key(&[]);
    let second = env.create_key(&[]);

    let out = env
        .run(
            "create-alias",
            &["--alias-name", "alias/app", "--key-id", &first],
        )
        .json();
    assert!(out["RequestId"].is_string());
    env.run(
        "create-alias",
        &["--alias-name", "alias/app", "--key-id", &second],
    )
    .error(2, "AliasAlreadyExists");
    env.run(
        "create-alias",
        &["--alias-name", "no-prefix", "--key-id", &first],
    )
    .error(2, "InvalidParameter");
    env.run(
        "create-alias",
        &[
            "--alias-name",
            "alias/other",
            "--key-id",
            "key-000000000000000000000",
        ],
    )
    .error(3, "Forbidden.KeyNotFound");

    let listed = env.run("list-aliases", &[]).json();
    assert_eq!(listed["TotalCount"], 1);
    assert_eq!(listed["Aliases"]["Alias"][0]["AliasName"], "alias/app");
    assert_eq!(listed["Aliases"]["Alias"][0]["KeyId"], first.as_str());

    env.run(
        "update-alias",
        &["--alias-name", "alias/app", "--key-id", &second],
    )
    .json();
    let described = env.run("describe-key", &["--key-id", "alias/app"]).json();
    assert_eq!(described["KeyMetadata"]["KeyId"], second.as_str());
    env.run(
        "update-alias",
        &["--alias-name", "alias/none", "--key-id", &second],
    )
    .error(3, "Forbidden.AliasNotFound");
    env.run("update-alias", &["--alias-name", "alias/app"])
        .usage_error();

    env.run("delete-alias", &["--alias-name", "alias/app"])
        .json();
    env.run("delete-alias", &["--alias-name", "alias/app"])
        .error(3, "Forbidden.AliasNotFound");
    env.run("delete-alias", &["--alias-name", "bad name"])
        .error(2, "InvalidParameter");
    let listed = env.run("list-aliases", &[]).json();
    assert_eq!(listed["TotalCount"], 0);
}

#[test]
fn rotation_commands() {
    let env = Env::new("rotation");
    let key_id = env.create_key(&[]);

    let rotated = env.run("create-key-version", &["--key-id", &key_id]).json();
    assert_eq!(rotated["KeyId"], key_id.as_str());
    env.run("rotate", &["--key-id", "key-000000000000000000000"])
        .error(3, "Forbidden.KeyNotFound");

    env.run(
        "update-rotation-policy",
        &[
            "--key-id",
            &key_id,
            "--enable-automatic-rotation",
            "true",
            "--rotation-interval",
            "30d",
        ],
    )
    .json();
    let meta = env.run("describe-key", &["--key-id", &key_id]).json()["KeyMetadata"].clone();
    assert_eq!(meta["AutomaticRotation"], "Enabled");
    assert_eq!(meta["RotationInterval"], "2592000s");
    assert!(meta["NextRotationDate"].is_string());
    env.run(
        "update-rotation-policy",
        &[
            "--key-id",
            &key_id,
            "--enable-automatic-rotation",
            "true",
            "--rotation-interval",
            "1d",
        ],
    )
    .error(2, "InvalidParameter");
    env.run(
        "update-rotation-policy",
        &["--key-id", &key_id, "--enable-automatic-rotation", "maybe"],
    )
    .usage_error();
    env.run("update-rotation-policy", &["--key-id", &key_id])
        .usage_error();
    env.run(
        "update-rotation-policy",
        &["--key-id", &key_id, "--enable-automatic-rotation", "false"],
    )
    .json();
    let meta = env.run("describe-key", &["--key-id", &key_id]).json()["KeyMetadata"].clone();
    assert_eq!(meta["AutomaticRotation"], "Disabled");
    env.run(
        "update-rotation-policy",
        &[
            "--key-id",
            "alias/none",
            "--enable-automatic-rotation",
            "false",
        ],
    )
    .error(3, "Forbidden.AliasNotFound");
}

#[test]
fn encrypt_and_decrypt_options() {
    let env = Env::new("crypto");
    let key_id = env.create_key(&["--algorithms", "AES_GCM,AES_CBC,AES_ECB"]);

    // --plaintext-file, --aad-file; decrypt from a raw blob file with --aad
    let plain_file = env.path("plain.bin");
    let plaintext: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    std::fs::write(&plain_file, &plaintext).unwrap();
    let aad_file = env.path("aad.bin");
    std::fs::write(&aad_file, b"order-42").unwrap();
    let sealed = env
        .run(
            "advance-encrypt",
            &[
                "--key-id",
                &key_id,
                "--plaintext-file",
                plain_file.to_str().unwrap(),
                "--aad-file",
                aad_file.to_str().unwrap(),
            ],
        )
        .json();
    let blob_file = env.path("blob.bin");
    std::fs::write(&blob_file, b64(&sealed["CiphertextBlob"])).unwrap();
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--ciphertext-blob-file",
                blob_file.to_str().unwrap(),
                "--aad",
                &B64.encode(b"order-42"),
            ],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), plaintext);
    // Raw blob on standard input with `--ciphertext-blob-file -`.
    let opened = env
        .run_in(
            "advance-decrypt",
            &[
                "--ciphertext-blob-file",
                "-",
                "--aad-file",
                aad_file.to_str().unwrap(),
            ],
            Some(&b64(&sealed["CiphertextBlob"])),
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), plaintext);
    // Base64 on standard input, wrapped over lines as `base64` writes it.
    let wrapped: String = s(&sealed["CiphertextBlob"])
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let opened = env
        .run_in(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                "-",
                "--aad-file",
                aad_file.to_str().unwrap(),
            ],
            Some(wrapped.as_bytes()),
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), plaintext);
    // Without the Aad, or with another: InvalidCiphertext.
    env.run(
        "advance-decrypt",
        &["--ciphertext-blob", s(&sealed["CiphertextBlob"])],
    )
    .error(2, "InvalidCiphertext");
    env.run(
        "advance-decrypt",
        &[
            "--ciphertext-blob",
            s(&sealed["CiphertextBlob"]),
            "--aad",
            "b3RoZXI=",
        ],
    )
    .error(2, "InvalidCiphertext");
    // --output-plaintext-file: raw plaintext in a private file, none in the JSON.
    let out_file = env.path("out.bin");
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                s(&sealed["CiphertextBlob"]),
                "--aad-file",
                aad_file.to_str().unwrap(),
                "--output-plaintext-file",
                out_file.to_str().unwrap(),
            ],
        )
        .json();
    assert!(opened.get("Plaintext").is_none(), "{opened}");
    assert_eq!(opened["KeyId"], key_id.as_str());
    assert_eq!(std::fs::read(&out_file).unwrap(), plaintext);
    assert_eq!(mode(&out_file), 0o600);

    // advance-encrypt with a caller's Iv; advance-decrypt ignores an Iv given with a
    // blob (as the service does: the SDKs send one), even one of the wrong length, but
    // still refuses one that is not Base64.
    let iv = B64.encode([9u8; 12]);
    let sealed = env
        .run_in(
            "advance-encrypt",
            &["--key-id", &key_id, "--iv", &iv],
            Some(b"abc"),
        )
        .json();
    assert_eq!(sealed["Iv"], iv.as_str());
    for given in [B64.encode([1u8; 12]), B64.encode([2u8; 48])] {
        let opened = env
            .run(
                "advance-decrypt",
                &[
                    "--ciphertext-blob",
                    s(&sealed["CiphertextBlob"]),
                    "--iv",
                    &given,
                ],
            )
            .json();
        assert_eq!(b64(&opened["Plaintext"]), b"abc");
    }
    env.run(
        "advance-decrypt",
        &[
            "--ciphertext-blob",
            s(&sealed["CiphertextBlob"]),
            "--iv",
            "%%",
        ],
    )
    .error(2, "InvalidParameter");

    // advance-encrypt errors: bad Base64, bad Iv length, bad algorithm, padding with GCM,
    // conflicting sources.
    env.run_in(
        "advance-encrypt",
        &["--key-id", &key_id, "--iv", "%%%"],
        Some(b"x"),
    )
    .error(2, "InvalidParameter");
    env.run_in(
        "advance-encrypt",
        &["--key-id", &key_id, "--aad", "abc"],
        Some(b"x"),
    )
    .error(2, "InvalidParameter");
    env.run(
        "advance-encrypt",
        &["--key-id", &key_id, "--plaintext-base64", "@@"],
    )
    .error(2, "InvalidParameter");
    env.run_in(
        "advance-encrypt",
        &["--key-id", &key_id, "--iv", &B64.encode([1u8; 16])],
        Some(b"x"),
    )
    .error(2, "InvalidParameter");
    env.run_in(
        "advance-encrypt",
        &["--key-id", &key_id, "--algorithm", "DES"],
        Some(b"x"),
    )
    .error(2, "InvalidParameter");
    env.run_in(
        "advance-encrypt",
        &["--key-id", &key_id, "--padding-mode", "NO_PADDING"],
        Some(b"x"),
    )
    .error(2, "InvalidParameter");
    env.run(
        "advance-encrypt",
        &[
            "--key-id",
            &key_id,
            "--plaintext-base64",
            "eA==",
            "--plaintext-file",
            "-",
        ],
    )
    .usage_error();
    env.run(
        "advance-encrypt",
        &[
            "--key-id",
            &key_id,
            "--plaintext-file",
            env.path("nope").to_str().unwrap(),
        ],
    )
    .error(2, "InvalidParameter");
    env.run_in("advance-encrypt", &["--key-id", "alias/none"], Some(b"x"))
        .error(3, "Forbidden.AliasNotFound");

    // AES_CBC with NO_PADDING, AES_ECB; plaintext from `--plaintext-file -`.
    let block = [5u8; 32];
    let cbc = env
        .run_in(
            "advance-encrypt",
            &[
                "--key-id",
                &key_id,
                "--algorithm",
                "AES_CBC",
                "--padding-mode",
                "NO_PADDING",
                "--plaintext-file",
                "-",
            ],
            Some(&block),
        )
        .json();
    assert_eq!(cbc["PaddingMode"], "NO_PADDING");
    assert_eq!(b64(&cbc["Iv"]).len(), 16);
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                s(&cbc["CiphertextBlob"]),
                "--algorithm",
                "AES_CBC",
                "--padding-mode",
                "NO_PADDING",
            ],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), block);
    assert_eq!(opened["PaddingMode"], "NO_PADDING");
    env.run_in(
        "advance-encrypt",
        &[
            "--key-id",
            &key_id,
            "--algorithm",
            "AES_CBC",
            "--padding-mode",
            "NO_PADDING",
        ],
        Some(b"not sixteen"),
    )
    .error(2, "InvalidParameter");
    let ecb = env
        .run_in(
            "encrypt",
            &["--key-id", &key_id, "--algorithm", "AES_ECB"],
            Some(b"ecb"),
        )
        .json();
    assert_eq!(ecb["Iv"], "");
    let opened = env
        .run(
            "decrypt",
            &[
                "--key-id",
                &key_id,
                "--algorithm",
                "AES_ECB",
                "--ciphertext-blob",
                s(&ecb["CiphertextBlob"]),
            ],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), b"ecb");

    // encrypt / decrypt: Encrypt output decrypts with AdvanceDecrypt given KeyId too.
    let gcm = env
        .run_in(
            "encrypt",
            &["--key-id", &key_id, "--aad", "Y3R4"],
            Some(b"gcm text"),
        )
        .json();
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--key-id",
                &key_id,
                "--iv",
                s(&gcm["Iv"]),
                "--aad",
                "Y3R4",
                "--ciphertext-blob",
                s(&gcm["CiphertextBlob"]),
            ],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), b"gcm text");
    env.run_in(
        "encrypt",
        &["--key-id", &key_id, "--iv", "AAAA"],
        Some(b"x"),
    )
    .error(2, "InvalidParameter");

    // decrypt errors: no KeyId, no Iv, bad ciphertext, bad Base64 on stdin.
    env.run(
        "decrypt",
        &[
            "--iv",
            s(&gcm["Iv"]),
            "--ciphertext-blob",
            s(&gcm["CiphertextBlob"]),
        ],
    )
    .error(2, "MissingParameter");
    env.run(
        "decrypt",
        &[
            "--key-id",
            &key_id,
            "--ciphertext-blob",
            s(&gcm["CiphertextBlob"]),
        ],
    )
    .error(2, "InvalidParameter");
    env.run(
        "decrypt",
        &[
            "--key-id",
            &key_id,
            "--iv",
            s(&gcm["Iv"]),
            "--ciphertext-blob",
            "AAAAAAAAAAAAAAAAAAAAAAAA",
        ],
    )
    .error(2, "InvalidCiphertext");
    env.run_in(
        "decrypt",
        &["--key-id", &key_id, "--iv", s(&gcm["Iv"])],
        Some(b"*** not base64 ***"),
    )
    .error(2, "InvalidParameter");

    // advance-decrypt errors: garbage, bad Base64 on stdin, empty, a disabled key.
    env.run(
        "advance-decrypt",
        &["--ciphertext-blob", "AAAAAAAAAAAAAAAAAAAAAAAA"],
    )
    .error(2, "InvalidCiphertext");
    env.run_in("advance-decrypt", &[], Some(b"!!not base64!!"))
        .error(2, "InvalidParameter");
    env.run_in("advance-decrypt", &[], Some(b""))
        .error(2, "MissingParameter");
    let sealed = env
        .run_in("advance-encrypt", &["--key-id", &key_id], Some(b"later"))
        .json();
    env.run("disable-key", &["--key-id", &key_id]).json();
    env.run(
        "advance-decrypt",
        &["--ciphertext-blob", s(&sealed["CiphertextBlob"])],
    )
    .error(4, "Rejected.Disabled");
    env.run(
        "decrypt",
        &[
            "--key-id",
            &key_id,
            "--iv",
            s(&gcm["Iv"]),
            "--aad",
            "Y3R4",
            "--ciphertext-blob",
            s(&gcm["CiphertextBlob"]),
        ],
    )
    .error(4, "Rejected.Disabled");
    env.run_in("encrypt", &["--key-id", &key_id], Some(b"x"))
        .error(4, "Rejected.Disabled");
    env.run("enable-key", &["--key-id", &key_id]).json();
    let opened = env
        .run(
            "advance-decrypt",
            &["--ciphertext-blob", s(&sealed["CiphertextBlob"])],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), b"later");
}

#[test]
fn data_key_commands() {
    let env = Env::new("datakeys");
    let key_id = env.create_key(&[]);

    let bare = env.run("generate-data-key", &["--key-id", &key_id]).json();
    assert_eq!(b64(&bare["Plaintext"]).len(), 32);
    assert_eq!(b64(&bare["Iv"]).len(), 12);
    assert_eq!(b64(&bare["CiphertextBlob"]).len(), 48);
    for field in [
        "Plaintext",
        "CiphertextBlob",
        "KeyId",
        "KeyVersionId",
        "Algorithm",
        "Iv",
        "RequestId",
    ] {
        assert!(bare.get(field).is_some(), "{field} in {bare}");
    }
    env.run(
        "generate-data-key",
        &["--key-id", &key_id, "--number-of-bytes", "0"],
    )
    .error(2, "InvalidParameter");
    env.run(
        "generate-data-key",
        &["--key-id", &key_id, "--number-of-bytes", "1025"],
    )
    .error(2, "InvalidParameter");
    env.run(
        "generate-data-key",
        &["--key-id", "key-000000000000000000000"],
    )
    .error(3, "Forbidden.KeyNotFound");

    env.run("rotate", &["--key-id", &key_id]).json();
    let advance = env
        .run(
            "advance-generate-data-key",
            &[
                "--key-id",
                &key_id,
                "--number-of-bytes",
                "1024",
                "--aad",
                "Y3R4",
            ],
        )
        .json();
    assert_eq!(b64(&advance["Plaintext"]).len(), 1024);
    assert_ne!(
        advance["KeyVersionId"], bare["KeyVersionId"],
        "the primary version"
    );
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                s(&advance["CiphertextBlob"]),
                "--aad",
                "Y3R4",
            ],
        )
        .json();
    assert_eq!(opened["Plaintext"], advance["Plaintext"]);
    assert_eq!(opened["KeyVersionId"], advance["KeyVersionId"]);
    env.run(
        "advance-generate-data-key",
        &["--key-id", &key_id, "--aad", "#"],
    )
    .error(2, "InvalidParameter");
    env.run("disable-key", &["--key-id", &key_id]).json();
    env.run("advance-generate-data-key", &["--key-id", &key_id])
        .error(4, "Rejected.Disabled");
}

#[test]
fn every_command_has_help_with_an_example() {
    let top = run_raw(&["--help"], None, &[]);
    assert_eq!(top.code, 0);
    assert!(top.stdout.contains("Example"));
    assert!(top.stdout.contains("Exit status"));
    assert!(top.stdout.contains("LOCALKMS_STORE"));
    for sub in SUBCOMMANDS {
        assert!(top.stdout.contains(sub), "{sub} listed in --help");
        for flag in ["--help", "-h"] {
            let out = run_raw(&[sub, flag], None, &[]);
            assert_eq!(out.code, 0, "{sub} {flag}: {}", out.stderr);
            assert!(
                out.stdout.contains("Example:"),
                "{sub} {flag}: {}",
                out.stdout
            );
            assert!(out.stdout.contains("Exit status:"), "{sub} {flag}");
            assert!(
                out.stdout.contains(&format!("localkms {sub}")),
                "{sub} {flag}"
            );
        }
    }
    // The subcommands of `store`.
    for flag in ["--help", "-h"] {
        let out = run_raw(&["store", "copy", flag], None, &[]);
        assert_eq!(out.code, 0, "store copy {flag}: {}", out.stderr);
        assert!(out.stdout.contains("Example:"), "{}", out.stdout);
        assert!(out.stdout.contains("Exit status:"), "{}", out.stdout);
        assert!(out.stdout.contains("localkms store copy --from"));
    }
    run_raw(&["store"], None, &[]).usage_error_or_help();
    // Usage errors: exit 2.
    run_raw(&[], None, &[]).usage_error_or_help();
    run_raw(&["no-such-command"], None, &[]).usage_error();
    run_raw(&["list-keys", "--no-such-option"], None, &[]).usage_error();
}

impl Out {
    /// `localkms` alone prints its help on standard error and exits 2.
    fn usage_error_or_help(&self) {
        assert_eq!(self.code, 2);
        assert!(self.stderr.contains("Usage"), "{}", self.stderr);
    }
}

/// A cloud key's KeyId and KeyVersionIds, in the service's UUID form.
const CLOUD_KEY_ID: &str = "5b1d5e8a-3c2f-4e7b-9a1d-2f3c4b5a6d7e";
const CLOUD_VERSION: &str = "a3c1f9e2-7b4d-4c8e-b5a6-0d9e8f7c6b5a";
const CLOUD_VERSION_2: &str = "0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b";

/// SM4-GCM by the RustCrypto crates, for [`independent_gcm::seal_with`] and
/// [`independent_gcm::open_with`].
type Sm4Gcm = aes_gcm::AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

/// The '$' blob of a GCM algorithm (byte 2: AES_GCM, 4: SM4_GCM).
fn dollar_blob(algorithm_byte: u8, version: &str, iv: &[u8], sealed: &[u8]) -> Vec<u8> {
    let mut blob = vec![b'$', 0x00, algorithm_byte];
    blob.extend_from_slice(version.as_bytes());
    blob.extend_from_slice(iv);
    blob.extend_from_slice(sealed);
    blob
}

/// The shared-gateway form: KeyVersionId | Iv | ciphertext || tag.
fn gateway_blob(version: &str, iv: &[u8], sealed: &[u8]) -> Vec<u8> {
    let mut blob = version.as_bytes().to_vec();
    blob.extend_from_slice(iv);
    blob.extend_from_slice(sealed);
    blob
}

#[test]
fn mirrored_cloud_key_opens_the_clouds_ciphertext() {
    let env = Env::new("mirror");
    let material = [0x42u8; 32];
    let material_file = env.path("cloud-material.bin");
    std::fs::write(&material_file, material).unwrap();

    // The cloud key, mirrored under its KeyId; its version imported under its id.
    let created = env
        .run(
            "create-key",
            &["--origin", "EXTERNAL", "--key-id", CLOUD_KEY_ID],
        )
        .json();
    assert_eq!(created["KeyMetadata"]["KeyId"], CLOUD_KEY_ID);
    assert_eq!(created["KeyMetadata"]["KeyState"], "PendingImport");
    let imported = env
        .run(
            "import-key-version",
            &[
                "--key-id",
                CLOUD_KEY_ID,
                "--key-version-id",
                CLOUD_VERSION,
                "--key-material-file",
                material_file.to_str().unwrap(),
            ],
        )
        .json();
    assert_eq!(imported["KeyId"], CLOUD_KEY_ID);
    assert_eq!(imported["KeyVersionId"], CLOUD_VERSION);
    assert_eq!(s(&imported["RequestId"]).len(), 36);
    assert_eq!(imported.as_object().unwrap().len(), 3, "{imported}");
    let meta = env.run("describe-key", &["--key-id", CLOUD_KEY_ID]).json()["KeyMetadata"].clone();
    assert_eq!(meta["KeyState"], "Enabled");
    assert_eq!(meta["PrimaryKeyVersion"], CLOUD_VERSION);

    // Blobs made by an independent AES-GCM, in both of the cloud's forms.
    let iv = [7u8; 12];
    let aad = b"tenant-7";
    let plaintext = b"encrypted by the cloud";
    let sealed = independent_gcm::seal(&material, &iv, aad, plaintext);
    let dollar = dollar_blob(2, CLOUD_VERSION, &iv, &sealed);
    let gateway = gateway_blob(CLOUD_VERSION, &iv, &sealed);
    for blob in [&dollar, &gateway] {
        let opened = env
            .run(
                "advance-decrypt",
                &[
                    "--ciphertext-blob",
                    &B64.encode(blob),
                    "--aad",
                    &B64.encode(aad),
                ],
            )
            .json();
        assert_eq!(b64(&opened["Plaintext"]), plaintext);
        assert_eq!(opened["KeyId"], CLOUD_KEY_ID);
        assert_eq!(opened["KeyVersionId"], CLOUD_VERSION);
        assert_eq!(opened["Algorithm"], "AES_GCM");
        assert_eq!(opened["PaddingMode"], "");
        // Without the Aad, or one byte changed: InvalidCiphertext.
        env.run("advance-decrypt", &["--ciphertext-blob", &B64.encode(blob)])
            .error(2, "InvalidCiphertext");
        let mut tampered = blob.clone();
        *tampered.last_mut().unwrap() ^= 1;
        env.run(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                &B64.encode(&tampered),
                "--aad",
                &B64.encode(aad),
            ],
        )
        .error(2, "InvalidCiphertext");
    }
    // As the SDKs send it: Base64 on standard input, with Iv = blob[36:48] beside it.
    let opened = env
        .run_in(
            "advance-decrypt",
            &[
                "--aad",
                &B64.encode(aad),
                "--iv",
                &B64.encode(&gateway[36..48]),
            ],
            Some(format!("{}\n", B64.encode(&gateway)).as_bytes()),
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), plaintext);
    // A version this store does not hold: not found.
    let unknown = gateway_blob("ffffffff-ffff-4fff-8fff-ffffffffffff", &iv, &sealed);
    env.run(
        "advance-decrypt",
        &["--ciphertext-blob", &B64.encode(&unknown)],
    )
    .error(3, "Forbidden.KeyNotFound");

    // What this store makes opens with the independent AES-GCM too: both blob forms
    // of AdvanceEncrypt, and Encrypt's bare ciphertext.
    for format in ["dollar", "gateway"] {
        let out = env
            .run(
                "advance-encrypt",
                &[
                    "--key-id",
                    CLOUD_KEY_ID,
                    "--blob-format",
                    format,
                    "--plaintext-base64",
                    &B64.encode(b"made here"),
                ],
            )
            .json();
        let blob = b64(&out["CiphertextBlob"]);
        let body = if format == "dollar" {
            assert_eq!(&blob[..3], b"$\x00\x02");
            &blob[3..]
        } else {
            &blob[..]
        };
        assert_eq!(&body[..36], CLOUD_VERSION.as_bytes());
        assert_eq!(&body[36..48], b64(&out["Iv"]).as_slice());
        let opened = independent_gcm::open(&material, &body[36..48], b"", &body[48..]);
        assert_eq!(opened, b"made here");
    }
    let bare = env
        .run_in("encrypt", &["--key-id", CLOUD_KEY_ID], Some(b"bare"))
        .json();
    assert_eq!(bare["KeyVersionId"], CLOUD_VERSION);
    let opened = independent_gcm::open(
        &material,
        &b64(&bare["Iv"]),
        b"",
        &b64(&bare["CiphertextBlob"]),
    );
    assert_eq!(opened, b"bare");

    // A second cloud version (after a rotation in the cloud) becomes primary; the
    // first keeps opening its ciphertext.
    let material_2 = [0x43u8; 32];
    let imported = env
        .run(
            "import-key-version",
            &[
                "--key-id",
                CLOUD_KEY_ID,
                "--key-version-id",
                CLOUD_VERSION_2,
                "--key-material-base64",
                &B64.encode(material_2),
            ],
        )
        .json();
    assert_eq!(imported["KeyVersionId"], CLOUD_VERSION_2);
    let meta = env.run("describe-key", &["--key-id", CLOUD_KEY_ID]).json()["KeyMetadata"].clone();
    assert_eq!(meta["PrimaryKeyVersion"], CLOUD_VERSION_2);
    let sealed_2 = independent_gcm::seal(&material_2, &iv, b"", b"second");
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                &B64.encode(gateway_blob(CLOUD_VERSION_2, &iv, &sealed_2)),
            ],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), b"second");
    assert_eq!(opened["KeyVersionId"], CLOUD_VERSION_2);
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                &B64.encode(&gateway),
                "--aad",
                &B64.encode(aad),
            ],
        )
        .json();
    assert_eq!(opened["KeyVersionId"], CLOUD_VERSION);
    let versions = env
        .run("list-key-versions", &["--key-id", CLOUD_KEY_ID])
        .json();
    assert_eq!(versions["TotalCount"], 2);

    // The same version with the same material again: accepted (also through an alias,
    // which the output resolves); with other material: InvalidKeyMaterial.
    env.run(
        "create-alias",
        &["--alias-name", "alias/cloud", "--key-id", CLOUD_KEY_ID],
    )
    .json();
    let again = env
        .run_in(
            "import-key-version",
            &[
                "--key-id",
                "alias/cloud",
                "--key-version-id",
                CLOUD_VERSION,
                "--material-file",
                "-",
                "--expire-unix",
                "0",
            ],
            Some(&material),
        )
        .json();
    assert_eq!(again["KeyId"], CLOUD_KEY_ID);
    assert_eq!(again["KeyVersionId"], CLOUD_VERSION);
    env.run(
        "import-key-version",
        &[
            "--key-id",
            CLOUD_KEY_ID,
            "--key-version-id",
            CLOUD_VERSION,
            "--key-material-base64",
            &B64.encode([0x44u8; 32]),
        ],
    )
    .error(2, "InvalidKeyMaterial");

    // import-key-version errors.
    let import = |key_id: &str, version: Option<&str>, material: &[u8]| {
        let encoded = B64.encode(material);
        let mut args = vec!["--key-id", key_id, "--key-material-base64", &encoded];
        if let Some(version) = version {
            args.extend(["--key-version-id", version]);
        }
        env.run("import-key-version", &args)
    };
    import(CLOUD_KEY_ID, Some("too-short"), &material).error(2, "InvalidParameter");
    import(CLOUD_KEY_ID, Some(&format!("{CLOUD_VERSION}x")), &material)
        .error(2, "InvalidParameter");
    import(CLOUD_KEY_ID, None, &[1u8; 16]).error(2, "InvalidKeyMaterial");
    import("ffffffff-0000-4000-8000-000000000000", None, &material)
        .error(3, "Forbidden.KeyNotFound");
    let native = env.create_key(&[]);
    import(&native, None, &material).error(2, "Rejected.UnsupportedOperation");
    let other = env.create_key(&["--origin", "EXTERNAL"]);
    import(&other, Some(CLOUD_VERSION), &material).error(2, "InvalidParameter");
    env.run(
        "import-key-version",
        &["--key-id", &other, "--key-material-base64", "@@"],
    )
    .error(2, "InvalidParameter");
    env.run(
        "import-key-version",
        &[
            "--key-id",
            &other,
            "--key-material-base64",
            &B64.encode(material),
            "--key-material-expire-unix",
            "1000",
        ],
    )
    .error(2, "InvalidParameter");
    env.run("import-key-version", &["--key-id", &other])
        .usage_error();
    env.run(
        "import-key-version",
        &[
            "--key-id",
            &other,
            "--key-material-base64",
            "AA==",
            "--key-material-file",
            "-",
        ],
    )
    .usage_error();
    // Without --key-version-id: a fresh id (the library's form for a key-... KeyId).
    let fresh = import(&other, None, &material).json();
    assert_eq!(fresh["KeyId"], other.as_str());
    assert_eq!(s(&fresh["KeyVersionId"]).len(), 36);
    assert!(s(&fresh["KeyVersionId"]).starts_with(&other), "{fresh}");
    let meta = env.run("describe-key", &["--key-id", &other]).json()["KeyMetadata"].clone();
    assert_eq!(meta["KeyState"], "Enabled");
    assert_eq!(meta["PrimaryKeyVersion"], fresh["KeyVersionId"]);
}

#[test]
fn gateway_blob_format_round_trip() {
    let env = Env::new("gateway");
    let key_id = env.create_key(&["--algorithms", "AES_GCM,AES_CBC,AES_ECB"]);
    let iv = B64.encode([3u8; 12]);
    let plaintext = b"gateway text";

    let gateway = env
        .run(
            "advance-encrypt",
            &[
                "--key-id",
                &key_id,
                "--blob-format",
                "gateway",
                "--iv",
                &iv,
                "--aad",
                "Y3R4",
                "--plaintext-base64",
                &B64.encode(plaintext),
            ],
        )
        .json();
    assert_eq!(gateway["Algorithm"], "AES_GCM");
    assert_eq!(gateway["Iv"], iv.as_str());
    let blob = b64(&gateway["CiphertextBlob"]);
    assert_eq!(blob.len(), 36 + 12 + plaintext.len() + 16);
    assert_eq!(&blob[..36], s(&gateway["KeyVersionId"]).as_bytes());
    assert_eq!(&blob[36..48], &[3u8; 12]);

    // The '$' blob of the same input (the default, and named) is the gateway blob
    // behind three bytes.
    for extra in [&[][..], &["--blob-format", "dollar"][..]] {
        let mut args = vec![
            "--key-id",
            &key_id,
            "--iv",
            &iv,
            "--aad",
            "Y3R4",
            "--plaintext-base64",
        ];
        let encoded = B64.encode(plaintext);
        args.push(&encoded);
        args.extend_from_slice(extra);
        let dollar = env.run("advance-encrypt", &args).json();
        let dollar = b64(&dollar["CiphertextBlob"]);
        assert_eq!(&dollar[..3], b"$\x00\x02");
        assert_eq!(&dollar[3..], blob.as_slice());
    }

    // advance-decrypt opens it from the blob and Aad alone, from every input.
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                s(&gateway["CiphertextBlob"]),
                "--aad",
                "Y3R4",
            ],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), plaintext);
    assert_eq!(opened["KeyId"], key_id.as_str());
    assert_eq!(opened["KeyVersionId"], gateway["KeyVersionId"]);
    assert_eq!(opened["Algorithm"], "AES_GCM");
    let opened = env
        .run_in(
            "advance-decrypt",
            &["--ciphertext-blob-file", "-", "--aad", "Y3R4"],
            Some(&blob),
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), plaintext);
    env.run(
        "advance-decrypt",
        &["--ciphertext-blob", s(&gateway["CiphertextBlob"])],
    )
    .error(2, "InvalidCiphertext");
    // Pinned to another algorithm: refused.
    env.run(
        "advance-decrypt",
        &[
            "--ciphertext-blob",
            s(&gateway["CiphertextBlob"]),
            "--aad",
            "Y3R4",
            "--algorithm",
            "AES_CBC",
        ],
    )
    .error(2, "InvalidCiphertext");

    // After a rotation, gateway blobs name the new version; the old ones still open.
    env.run("rotate", &["--key-id", &key_id]).json();
    let newer = env
        .run_in(
            "advance-encrypt",
            &["--key-id", &key_id, "--blob-format", "gateway"],
            Some(b"newer"),
        )
        .json();
    assert_ne!(newer["KeyVersionId"], gateway["KeyVersionId"]);
    let opened = env
        .run(
            "advance-decrypt",
            &["--ciphertext-blob", s(&newer["CiphertextBlob"])],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), b"newer");
    assert_eq!(opened["KeyVersionId"], newer["KeyVersionId"]);
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                s(&gateway["CiphertextBlob"]),
                "--aad",
                "Y3R4",
            ],
        )
        .json();
    assert_eq!(opened["KeyVersionId"], gateway["KeyVersionId"]);

    // GCM only: a block mode is refused before anything is read, exit 2.
    env.run_in(
        "advance-encrypt",
        &[
            "--key-id",
            &key_id,
            "--blob-format",
            "gateway",
            "--algorithm",
            "AES_GCM",
        ],
        Some(b"x"),
    )
    .json();
    for algorithm in ["AES_CBC", "AES_ECB"] {
        let err = env
            .run_in(
                "advance-encrypt",
                &[
                    "--key-id",
                    &key_id,
                    "--blob-format",
                    "gateway",
                    "--algorithm",
                    algorithm,
                ],
                Some(b"x"),
            )
            .error(2, "InvalidParameter");
        let message = s(&err["Message"]);
        assert!(
            message.contains("BlobFormat") && message.contains("GCM"),
            "{err}"
        );
        assert!(message.contains(algorithm), "{err}");
    }
    // An unknown format is a usage error; Encrypt (bare ciphertext) has no format.
    env.run_in(
        "advance-encrypt",
        &["--key-id", &key_id, "--blob-format", "zip"],
        Some(b"x"),
    )
    .usage_error();
    env.run_in(
        "encrypt",
        &["--key-id", &key_id, "--blob-format", "gateway"],
        Some(b"x"),
    )
    .usage_error();
}

#[test]
fn sm4_key_round_trip() {
    let env = Env::new("sm4");
    let key_id = env.create_key(&[
        "--key-spec",
        "Aliyun_SM4",
        "--algorithms",
        "SM4_GCM,SM4_CBC,SM4_ECB",
    ]);

    // The default algorithm of an SM4 key is SM4_GCM, in both blob forms.
    for format in ["dollar", "gateway"] {
        let sealed = env
            .run_in(
                "advance-encrypt",
                &[
                    "--key-id",
                    &key_id,
                    "--blob-format",
                    format,
                    "--aad",
                    "Y3R4",
                ],
                Some(b"sm4 secret"),
            )
            .json();
        assert_eq!(sealed["Algorithm"], "SM4_GCM");
        assert_eq!(b64(&sealed["Iv"]).len(), 12);
        let blob = b64(&sealed["CiphertextBlob"]);
        if format == "dollar" {
            assert_eq!(&blob[..3], b"$\x00\x04");
        } else {
            assert_eq!(&blob[..36], s(&sealed["KeyVersionId"]).as_bytes());
        }
        let opened = env
            .run(
                "advance-decrypt",
                &[
                    "--ciphertext-blob",
                    s(&sealed["CiphertextBlob"]),
                    "--aad",
                    "Y3R4",
                ],
            )
            .json();
        assert_eq!(b64(&opened["Plaintext"]), b"sm4 secret");
        assert_eq!(opened["Algorithm"], "SM4_GCM");
        assert_eq!(opened["KeyId"], key_id.as_str());
    }

    // SM4_CBC in a blob, SM4_ECB bare.
    let cbc = env
        .run_in(
            "advance-encrypt",
            &["--key-id", &key_id, "--algorithm", "SM4_CBC"],
            Some(b"cbc under sm4"),
        )
        .json();
    assert_eq!(cbc["Algorithm"], "SM4_CBC");
    assert_eq!(cbc["PaddingMode"], "PKCS7_PADDING");
    let opened = env
        .run(
            "advance-decrypt",
            &["--ciphertext-blob", s(&cbc["CiphertextBlob"])],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), b"cbc under sm4");
    assert_eq!(opened["Algorithm"], "SM4_CBC");
    let ecb = env
        .run_in(
            "encrypt",
            &["--key-id", &key_id, "--algorithm", "SM4_ECB"],
            Some(b"ecb"),
        )
        .json();
    let opened = env
        .run(
            "decrypt",
            &[
                "--key-id",
                &key_id,
                "--algorithm",
                "SM4_ECB",
                "--ciphertext-blob",
                s(&ecb["CiphertextBlob"]),
            ],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), b"ecb");
    // AES on an SM4 key, and a block mode on a GCM-only SM4 key: refused.
    env.run_in(
        "advance-encrypt",
        &["--key-id", &key_id, "--algorithm", "AES_GCM"],
        Some(b"x"),
    )
    .error(2, "Rejected.UnsupportedOperation");
    let gcm_only = env.create_key(&["--key-spec", "Aliyun_SM4"]);
    env.run_in(
        "advance-encrypt",
        &["--key-id", &gcm_only, "--algorithm", "SM4_CBC"],
        Some(b"x"),
    )
    .error(2, "Rejected.UnsupportedOperation");
    env.run_in(
        "advance-encrypt",
        &[
            "--key-id",
            &gcm_only,
            "--blob-format",
            "gateway",
            "--algorithm",
            "SM4_ECB",
        ],
        Some(b"x"),
    )
    .error(2, "InvalidParameter");

    // A mirrored SM4 cloud key: its gateway blob, made by an independent SM4-GCM,
    // opens; and this store's blob opens with the independent SM4-GCM.
    let material = [0x11u8; 16];
    env.run(
        "create-key",
        &[
            "--key-spec",
            "Aliyun_SM4",
            "--origin",
            "EXTERNAL",
            "--key-id",
            CLOUD_KEY_ID,
        ],
    )
    .json();
    env.run(
        "import-key-version",
        &[
            "--key-id",
            CLOUD_KEY_ID,
            "--key-version-id",
            CLOUD_VERSION,
            "--key-material-base64",
            &B64.encode(material),
        ],
    )
    .json();
    let iv = [5u8; 12];
    let sealed =
        independent_gcm::seal_with::<Sm4Gcm>(&material, &iv, b"aad", b"sm4 from the cloud");
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                &B64.encode(gateway_blob(CLOUD_VERSION, &iv, &sealed)),
                "--aad",
                &B64.encode(b"aad"),
            ],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), b"sm4 from the cloud");
    assert_eq!(opened["Algorithm"], "SM4_GCM");
    let opened = env
        .run(
            "advance-decrypt",
            &[
                "--ciphertext-blob",
                &B64.encode(dollar_blob(4, CLOUD_VERSION, &iv, &sealed)),
                "--aad",
                &B64.encode(b"aad"),
            ],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), b"sm4 from the cloud");
    let made = env
        .run_in(
            "advance-encrypt",
            &["--key-id", CLOUD_KEY_ID, "--blob-format", "gateway"],
            Some(b"made here"),
        )
        .json();
    let blob = b64(&made["CiphertextBlob"]);
    assert_eq!(
        independent_gcm::open_with::<Sm4Gcm>(&material, &blob[36..48], b"", &blob[48..]),
        Some(b"made here".to_vec())
    );
}

#[test]
fn a_block_mode_on_a_default_key_is_unsupported() {
    let env = Env::new("gcm-only");
    let key_id = env.create_key(&[]);
    let check = |out: Out, algorithm: &str| {
        let err = out.error(2, "Rejected.UnsupportedOperation");
        assert!(s(&err["Message"]).contains(algorithm), "{err}");
        assert!(s(&err["Message"]).contains("AES_GCM"), "{err}");
    };
    check(
        env.run_in(
            "advance-encrypt",
            &["--key-id", &key_id, "--algorithm", "AES_CBC"],
            Some(b"x"),
        ),
        "AES_CBC",
    );
    check(
        env.run_in(
            "encrypt",
            &["--key-id", &key_id, "--algorithm", "AES_ECB"],
            Some(b"x"),
        ),
        "AES_ECB",
    );
    // Decrypting bare output as a block mode is refused the same way.
    check(
        env.run(
            "decrypt",
            &[
                "--key-id",
                &key_id,
                "--algorithm",
                "AES_CBC",
                "--iv",
                &B64.encode([0u8; 16]),
                "--ciphertext-blob",
                &B64.encode([0u8; 16]),
            ],
        ),
        "AES_CBC",
    );
    let sealed = env
        .run_in("advance-encrypt", &["--key-id", &key_id], Some(b"x"))
        .json();
    let mut relabelled = vec![b'$', 0x01, 1];
    relabelled.extend_from_slice(s(&sealed["KeyVersionId"]).as_bytes());
    relabelled.extend_from_slice(&[0u8; 32]);
    // A blob relabelled as a block mode is one the key cannot have made: an
    // invalid ciphertext (decided from its header alone, so no padding oracle),
    // whose message names what the key permits.
    let err = env
        .run(
            "advance-decrypt",
            &["--ciphertext-blob", &B64.encode(&relabelled)],
        )
        .error(2, "InvalidCiphertext");
    assert!(s(&err["Message"]).contains("permits AES_GCM only"), "{err}");
    // The GCM it permits works.
    env.run_in(
        "advance-encrypt",
        &["--key-id", &key_id, "--algorithm", "AES_GCM"],
        Some(b"x"),
    )
    .json();
}

// ---------------------------------------------------------------------------
// Stores named by URL, and `store copy`
// ---------------------------------------------------------------------------

/// Writes a master-key file holding `key` in hexadecimal, mode 0600.
fn write_master_key(path: &Path, key: &[u8; 32]) {
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(path, format!("{hex}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Runs `command` on the store `store` (a path or a URL) sealed under `key`.
fn run_on(store: &str, key: &Path, command: &str, args: &[&str]) -> Out {
    let mut all = vec![
        command,
        "--store",
        store,
        "--master-key-file",
        key.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    run_raw(&all, None, &[])
}

/// `localkms store copy` with `args`.
fn store_copy(args: &[&str]) -> Out {
    let mut all = vec!["store", "copy"];
    all.extend_from_slice(args);
    run_raw(&all, None, &[])
}

/// Everything a store shows through the read commands: ListKeys, ListAliases, and
/// for each key DescribeKey's metadata and ListKeyVersions (RequestIds left out).
fn store_contents(store: &str, key: &Path) -> Value {
    let keys = run_on(store, key, "list-keys", &[]).json();
    let aliases = run_on(store, key, "list-aliases", &[]).json();
    let mut described = serde_json::Map::new();
    for entry in keys["Keys"]["Key"].as_array().unwrap() {
        let key_id = s(&entry["KeyId"]);
        let meta = run_on(store, key, "describe-key", &["--key-id", key_id]).json();
        let versions = run_on(store, key, "list-key-versions", &["--key-id", key_id]).json();
        described.insert(
            key_id.to_owned(),
            serde_json::json!({
                "KeyMetadata": meta["KeyMetadata"],
                "KeyVersions": versions["KeyVersions"],
                "TotalCount": versions["TotalCount"],
            }),
        );
    }
    serde_json::json!({
        "Keys": keys["Keys"],
        "TotalCount": keys["TotalCount"],
        "Aliases": aliases["Aliases"],
        "Described": described,
    })
}

/// A store with one of everything `store copy` must carry over, and the
/// ciphertexts made with it before the copy.
struct Filled {
    rotated: String,
    disabled: String,
    policy: String,
    pending: String,
    /// AdvanceEncrypt blobs of `rotated`: under its first version and its primary.
    old_blob: Value,
    new_blob: Value,
    /// Encrypt output of `rotated` (AES_CBC, its initial version).
    cbc: Value,
    /// An AdvanceEncrypt blob of `disabled`, made while it was Enabled.
    disabled_blob: Value,
    /// A gateway blob of the EXTERNAL key `CLOUD_KEY_ID`, made by an independent
    /// AES-GCM with its imported material.
    cloud_blob: Vec<u8>,
    keys: u64,
    versions: u64,
    aliases: u64,
}

fn fill(env: &Env) -> Filled {
    let rotated = env.create_key(&[
        "--description",
        "rotated",
        "--algorithms",
        "AES_GCM,AES_CBC",
    ]);
    let encrypt = |key_id: &str, plaintext: &[u8]| {
        env.run(
            "advance-encrypt",
            &[
                "--key-id",
                key_id,
                "--plaintext-base64",
                &B64.encode(plaintext),
            ],
        )
        .json()
    };
    let old_blob = encrypt(&rotated, b"before the rotations");
    env.run("rotate", &["--key-id", &rotated]).json();
    env.run("rotate", &["--key-id", &rotated]).json();
    let new_blob = encrypt(&rotated, b"after the rotations");
    assert_ne!(old_blob["KeyVersionId"], new_blob["KeyVersionId"]);
    let cbc = env
        .run(
            "encrypt",
            &[
                "--key-id",
                &rotated,
                "--algorithm",
                "AES_CBC",
                "--plaintext-base64",
                &B64.encode(b"block mode"),
            ],
        )
        .json();
    env.run(
        "create-alias",
        &["--alias-name", "alias/app", "--key-id", &rotated],
    )
    .json();

    let disabled = env.create_key(&["--description", "disabled"]);
    let disabled_blob = encrypt(&disabled, b"made while enabled");
    env.run("disable-key", &["--key-id", &disabled]).json();

    let policy = env.create_key(&["--description", "rotates every 30 days"]);
    env.run(
        "update-rotation-policy",
        &[
            "--key-id",
            &policy,
            "--enable-automatic-rotation",
            "true",
            "--rotation-interval",
            "30d",
        ],
    )
    .json();

    let pending = env.create_key(&["--description", "pending deletion"]);
    env.run(
        "schedule-key-deletion",
        &["--key-id", &pending, "--pending-window-in-days", "7"],
    )
    .json();

    // The EXTERNAL key, mirroring a cloud key, with imported material.
    let material = [0x5au8; 32];
    env.run(
        "create-key",
        &["--origin", "EXTERNAL", "--key-id", CLOUD_KEY_ID],
    )
    .json();
    env.run(
        "import-key-version",
        &[
            "--key-id",
            CLOUD_KEY_ID,
            "--key-version-id",
            CLOUD_VERSION,
            "--key-material-base64",
            &B64.encode(material),
        ],
    )
    .json();
    env.run(
        "create-alias",
        &["--alias-name", "alias/cloud", "--key-id", CLOUD_KEY_ID],
    )
    .json();
    let iv = [9u8; 12];
    let sealed = independent_gcm::seal(&material, &iv, b"", b"from the cloud");
    let cloud_blob = gateway_blob(CLOUD_VERSION, &iv, &sealed);

    Filled {
        rotated,
        disabled,
        policy,
        pending,
        old_blob,
        new_blob,
        cbc,
        disabled_blob,
        cloud_blob,
        keys: 5,
        // rotated 3, and one each for the others.
        versions: 7,
        aliases: 2,
    }
}

/// Checks that the store `store` (sealed under `key`) holds what `fill` put in
/// `source` and opens the ciphertexts made before the copy.
fn check_copy(source: &Env, filled: &Filled, store: &str, key: &Path) {
    assert_eq!(
        store_contents(store, key),
        store_contents(source.store.to_str().unwrap(), &source.key),
        "the copy shows what the source shows"
    );
    let meta = |key_id: &str| {
        run_on(store, key, "describe-key", &["--key-id", key_id]).json()["KeyMetadata"].clone()
    };
    let rotated = meta("alias/app");
    assert_eq!(rotated["KeyId"], filled.rotated.as_str());
    assert_eq!(
        rotated["PrimaryKeyVersion"],
        filled.new_blob["KeyVersionId"]
    );
    let versions = run_on(
        store,
        key,
        "list-key-versions",
        &["--key-id", &filled.rotated],
    )
    .json();
    assert_eq!(versions["TotalCount"], 3, "{versions}");
    assert_eq!(meta(&filled.disabled)["KeyState"], "Disabled");
    let policy = meta(&filled.policy);
    assert_eq!(policy["AutomaticRotation"], "Enabled", "{policy}");
    assert_eq!(policy["RotationInterval"], "2592000s", "{policy}");
    assert_eq!(meta(&filled.pending)["KeyState"], "PendingDeletion");
    let cloud = meta("alias/cloud");
    assert_eq!(cloud["KeyId"], CLOUD_KEY_ID);
    assert_eq!(cloud["Origin"], "EXTERNAL");
    assert_eq!(cloud["KeyState"], "Enabled");

    // Ciphertext made before the copy opens from the copy.
    for (blob, plaintext) in [
        (&filled.old_blob, &b"before the rotations"[..]),
        (&filled.new_blob, &b"after the rotations"[..]),
    ] {
        let opened = run_on(
            store,
            key,
            "advance-decrypt",
            &["--ciphertext-blob", s(&blob["CiphertextBlob"])],
        )
        .json();
        assert_eq!(b64(&opened["Plaintext"]), plaintext);
        assert_eq!(opened["KeyVersionId"], blob["KeyVersionId"]);
    }
    let opened = run_on(
        store,
        key,
        "decrypt",
        &[
            "--key-id",
            "alias/app",
            "--algorithm",
            "AES_CBC",
            "--iv",
            s(&filled.cbc["Iv"]),
            "--padding-mode",
            "PKCS7_PADDING",
            "--ciphertext-blob",
            s(&filled.cbc["CiphertextBlob"]),
        ],
    )
    .json();
    assert_eq!(b64(&opened["Plaintext"]), b"block mode");
    let opened = run_on(
        store,
        key,
        "advance-decrypt",
        &["--ciphertext-blob", &B64.encode(&filled.cloud_blob)],
    )
    .json();
    assert_eq!(b64(&opened["Plaintext"]), b"from the cloud");
    assert_eq!(opened["KeyVersionId"], CLOUD_VERSION);
    // The disabled key stays disabled.
    let disabled_blob = s(&filled.disabled_blob["CiphertextBlob"]);
    run_on(
        store,
        key,
        "advance-decrypt",
        &["--ciphertext-blob", disabled_blob],
    )
    .error(4, "Rejected.Disabled");
}

/// Checks the `store copy` document: its fields in order, the counts, the stores
/// as shown, a RequestId. Returns it.
#[track_caller]
fn check_report(out: &Out, filled: &Filled, from: &str, to: &str) -> Value {
    let report = out.json();
    assert_eq!(report["Keys"], filled.keys, "{report}");
    assert_eq!(report["Versions"], filled.versions, "{report}");
    assert_eq!(report["Aliases"], filled.aliases, "{report}");
    assert_eq!(report["From"], from, "{report}");
    assert_eq!(report["To"], to, "{report}");
    assert_eq!(s(&report["RequestId"]).len(), 36, "{report}");
    assert_eq!(report.as_object().unwrap().len(), 6, "{report}");
    let at: Vec<usize> = ["Keys", "Versions", "Aliases", "From", "To", "RequestId"]
        .iter()
        .map(|field| out.stdout.find(&format!("\"{field}\":")).unwrap())
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "in order: {}",
        out.stdout
    );
    report
}

#[test]
fn store_copy_sqlite_to_sqlite_carries_everything() {
    let source = Env::new("copy-source");
    let filled = fill(&source);
    let before = store_contents(source.store.to_str().unwrap(), &source.key);

    // Into a new store, sealed under another master key.
    let target = Env::empty("copy-target");
    write_master_key(&target.key, &[0x77; 32]);
    assert!(!target.store.exists());
    let report = store_copy(&[
        "--from",
        source.store.to_str().unwrap(),
        "--to",
        target.store.to_str().unwrap(),
        "--from-master-key-file",
        source.key.to_str().unwrap(),
        "--to-master-key-file",
        target.key.to_str().unwrap(),
    ]);
    check_report(
        &report,
        &filled,
        source.store.to_str().unwrap(),
        target.store.to_str().unwrap(),
    );
    assert_eq!(mode(&target.store), 0o600);
    check_copy(
        &source,
        &filled,
        target.store.to_str().unwrap(),
        &target.key,
    );
    // The copy is sealed under its own key, not the source's.
    target
        .run_on_with_key(&source.key, "list-keys")
        .error(5, "KeyStore.AccessDenied");
    // The source is as it was.
    assert_eq!(
        store_contents(source.store.to_str().unwrap(), &source.key),
        before
    );

    // The copy is a store like any other: it rotates and encrypts.
    target.run("rotate", &["--key-id", "alias/app"]).json();
    target
        .run(
            "advance-encrypt",
            &["--key-id", "alias/cloud", "--plaintext-base64", "AQID"],
        )
        .json();

    // One master-key file for both sides (--master-key-file, or its variable);
    // a relative --to (here, in the source's folder) is shown absolute.
    let second = source.path("second.db");
    let mut command = Command::new(BIN);
    command
        .args([
            "store",
            "copy",
            "--from",
            source.store.to_str().unwrap(),
            "--to",
            "second.db",
        ])
        .current_dir(&source.dir)
        .env_remove("LOCALKMS_STORE")
        .env("LOCALKMS_MASTER_KEY_FILE", &source.key);
    let report = spawn(command, None);
    check_report(
        &report,
        &filled,
        source.store.to_str().unwrap(),
        second.to_str().unwrap(),
    );
    check_copy(&source, &filled, second.to_str().unwrap(), &source.key);
}

impl Env {
    /// Runs `command` on this store with another master-key file.
    fn run_on_with_key(&self, key: &Path, command: &str) -> Out {
        run_on(self.store.to_str().unwrap(), key, command, &[])
    }
}

#[test]
fn store_copy_refuses_a_store_with_keys_and_leaves_it_alone() {
    let source = Env::new("refuse-source");
    source.create_key(&["--description", "from the source"]);
    let target = Env::new("refuse-target");
    let own = target.create_key(&["--description", "already here"]);
    let before = store_contents(target.store.to_str().unwrap(), &target.key);
    let copy = |to: &Env| {
        store_copy(&[
            "--from",
            source.store.to_str().unwrap(),
            "--to",
            to.store.to_str().unwrap(),
            "--from-master-key-file",
            source.key.to_str().unwrap(),
            "--to-master-key-file",
            to.key.to_str().unwrap(),
        ])
    };
    let err = copy(&target).error(5, "KeyStore.IOError");
    assert!(s(&err["Message"]).contains("already holds keys"), "{err}");
    assert_eq!(
        store_contents(target.store.to_str().unwrap(), &target.key),
        before
    );
    assert_eq!(
        target.run("describe-key", &["--key-id", &own]).json()["KeyMetadata"]["Description"],
        "already here"
    );
    // Nor into itself.
    store_copy(&[
        "--from",
        source.store.to_str().unwrap(),
        "--to",
        source.store.to_str().unwrap(),
        "--master-key-file",
        source.key.to_str().unwrap(),
    ])
    .error(5, "KeyStore.IOError");

    // An initialised store without keys is empty: the copy goes in.
    let empty = Env::new("refuse-empty");
    let report = copy(&empty).json();
    assert_eq!(
        (report["Keys"].as_u64(), report["Versions"].as_u64()),
        (Some(1), Some(1))
    );

    // A source that is missing, or that the key does not open, is refused before
    // any destination is made.
    let nowhere = source.path("never-made.db");
    let err = store_copy(&[
        "--from",
        source.path("missing.db").to_str().unwrap(),
        "--to",
        nowhere.to_str().unwrap(),
        "--master-key-file",
        source.key.to_str().unwrap(),
    ])
    .error(5, "KeyStore.IOError");
    assert!(s(&err["Message"]).contains("missing.db"), "{err}");
    store_copy(&[
        "--from",
        source.store.to_str().unwrap(),
        "--to",
        nowhere.to_str().unwrap(),
        "--master-key-file",
        target.key.to_str().unwrap(),
    ])
    .error(5, "KeyStore.AccessDenied");
    assert!(!nowhere.exists());
    // A destination that is not a store.
    let junk = source.path("junk.db");
    std::fs::write(&junk, b"not a key store at all, just some bytes here").unwrap();
    store_copy(&[
        "--from",
        source.store.to_str().unwrap(),
        "--to",
        junk.to_str().unwrap(),
        "--master-key-file",
        source.key.to_str().unwrap(),
    ])
    .error(5, "KeyStore.Corrupted");

    // Usage: --from and --to are required, and a master key for each side.
    store_copy(&["--to", nowhere.to_str().unwrap(), "--master-key-file", "k"]).usage_error();
    store_copy(&["--from", "a.db", "--master-key-file", "k"]).usage_error();
    store_copy(&["--from", "a.db", "--to", "b.db"]).usage_error();
    store_copy(&[
        "--from",
        "a.db",
        "--to",
        "b.db",
        "--from-master-key-file",
        "k",
    ])
    .usage_error();
    store_copy(&[
        "--from",
        "a.db",
        "--to",
        "b.db",
        "--to-master-key-file",
        "k",
    ])
    .usage_error();
    assert!(!nowhere.exists());
}

#[test]
fn store_copy_reads_a_localkms_0_1_store_file() {
    let env = Env::empty("v1");
    let master: [u8; 32] = [0x3c; 32];
    write_master_key(&env.key, &master);
    let first = V1Key::new("first of 0.1");
    let second = V1Key::new("second of 0.1");
    let old = env.path("old.kms");
    let bytes = v1_store_file(
        &master,
        &[first.clone(), second.clone()],
        &[("alias/old", first.key_id.as_str())],
    );
    std::fs::write(&old, &bytes).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Commands refuse it, and say how to move it.
    let err =
        run_on(old.to_str().unwrap(), &env.key, "list-keys", &[]).error(5, "KeyStore.Corrupted");
    assert!(s(&err["Message"]).contains("store copy"), "{err}");

    // A wrong master key is refused, and nothing is made.
    let wrong = env.path("wrong.key");
    write_master_key(&wrong, &[0x3d; 32]);
    store_copy(&[
        "--from",
        old.to_str().unwrap(),
        "--to",
        env.store.to_str().unwrap(),
        "--master-key-file",
        wrong.to_str().unwrap(),
    ])
    .error(5, "KeyStore.AccessDenied");
    assert!(!env.store.exists());

    let report = store_copy(&[
        "--from",
        old.to_str().unwrap(),
        "--to",
        env.store.to_str().unwrap(),
        "--master-key-file",
        env.key.to_str().unwrap(),
    ])
    .json();
    assert_eq!(report["Keys"], 2, "{report}");
    assert_eq!(report["Versions"], 2, "{report}");
    assert_eq!(report["Aliases"], 1, "{report}");
    assert_eq!(report["From"], old.to_str().unwrap());
    assert_eq!(report["To"], env.store.to_str().unwrap());
    assert_eq!(
        std::fs::read(&old).unwrap(),
        bytes,
        "the 0.1 file is only read"
    );

    for key in [&first, &second] {
        let meta =
            env.run("describe-key", &["--key-id", &key.key_id]).json()["KeyMetadata"].clone();
        assert_eq!(meta["Description"], key.description.as_str());
        assert_eq!(meta["KeyState"], "Enabled");
        assert_eq!(meta["PrimaryKeyVersion"], key.version_id.as_str());
        assert_eq!(meta["Origin"], "Aliyun_KMS");
    }
    let aliases = env.run("list-aliases", &[]).json();
    assert_eq!(aliases["Aliases"]["Alias"][0]["AliasName"], "alias/old");
    assert_eq!(
        aliases["Aliases"]["Alias"][0]["KeyId"],
        first.key_id.as_str()
    );

    // A blob of the 0.1 key's material (an independent AES-GCM) opens in the copy.
    let iv = [4u8; 12];
    let sealed = independent_gcm::seal(&first.material, &iv, b"", b"kept since 0.1");
    let blob = dollar_blob(2, &first.version_id, &iv, &sealed);
    let opened = env
        .run(
            "advance-decrypt",
            &["--ciphertext-blob", &B64.encode(&blob)],
        )
        .json();
    assert_eq!(b64(&opened["Plaintext"]), b"kept since 0.1");
    assert_eq!(opened["KeyId"], first.key_id.as_str());
    // And the copy is a working store.
    let made = env
        .run(
            "advance-encrypt",
            &["--key-id", "alias/old", "--plaintext-base64", "AQID"],
        )
        .json();
    assert_eq!(made["KeyVersionId"], first.version_id.as_str());
    env.run("rotate", &["--key-id", &second.key_id]).json();

    // A second copy of the 0.1 file into the same store is refused.
    store_copy(&[
        "--from",
        old.to_str().unwrap(),
        "--to",
        env.store.to_str().unwrap(),
        "--master-key-file",
        env.key.to_str().unwrap(),
    ])
    .error(5, "KeyStore.IOError");
    // Nor is a 0.1 file ever a destination.
    let other = env.path("other.kms");
    std::fs::write(&other, &bytes).unwrap();
    store_copy(&[
        "--from",
        env.store.to_str().unwrap(),
        "--to",
        other.to_str().unwrap(),
        "--master-key-file",
        env.key.to_str().unwrap(),
    ])
    .error(5, "KeyStore.Corrupted");
    assert_eq!(std::fs::read(&other).unwrap(), bytes);
}

#[test]
fn a_store_url_never_shows_its_password() {
    let env = Env::new("password");
    env.create_key(&[]);
    for url in [
        "postgresql://u:secret@127.0.0.1:1/db",
        "postgres://u@127.0.0.1:1/db?connect_timeout=5&password=secret",
        "postgresql://u:secret@127.0.0.1:1/db?PASSWORD=secret",
    ] {
        let check = |out: &Out, what: &str| {
            assert!(
                !out.stdout.contains("secret") && !out.stderr.contains("secret"),
                "{what} {url}: stdout {:?} stderr {:?}",
                out.stdout,
                out.stderr
            );
        };
        // Each command: the store cannot be reached (KeyStore.IOError), and the
        // message names it as u@127.0.0.1:1.
        let out = run_on(url, &env.key, "list-keys", &[]);
        let err = out.error(5, "KeyStore.IOError");
        check(&out, "list-keys");
        assert!(s(&err["Message"]).contains("u@127.0.0.1:1/db"), "{err}");
        let vars = [
            ("LOCALKMS_STORE", Path::new(url)),
            ("LOCALKMS_MASTER_KEY_FILE", env.key.as_path()),
        ];
        let out = run_raw(&["describe-key", "--key-id", "alias/x"], None, &vars);
        out.error(5, "KeyStore.IOError");
        check(&out, "describe-key");
        // Help shows that the variable is set, not its value.
        let out = run_raw(&["list-keys", "--help"], None, &vars);
        assert_eq!(out.code, 0);
        check(&out, "help");

        // init leaves no master-key file behind when the store cannot be made.
        let fresh_key = env.path("fresh.key");
        let out = run_raw(
            &[
                "init",
                "--store",
                url,
                "--master-key-file",
                fresh_key.to_str().unwrap(),
            ],
            None,
            &[],
        );
        out.error(5, "KeyStore.IOError");
        check(&out, "init");
        assert!(!fresh_key.exists());

        // store copy, into the URL and out of it.
        let out = store_copy(&[
            "--from",
            env.store.to_str().unwrap(),
            "--to",
            url,
            "--master-key-file",
            env.key.to_str().unwrap(),
        ]);
        out.error(5, "KeyStore.IOError");
        check(&out, "store copy --to");
        let made = env.path("made.db");
        let out = store_copy(&[
            "--from",
            url,
            "--to",
            made.to_str().unwrap(),
            "--master-key-file",
            env.key.to_str().unwrap(),
        ]);
        out.error(5, "KeyStore.IOError");
        check(&out, "store copy --from");
        assert!(!made.exists());
    }
    // A URL of another kind is refused by name, without its password.
    let out = run_on(
        "mysql://u:secret@127.0.0.1:1/db",
        &env.key,
        "list-keys",
        &[],
    );
    let err = out.error(5, "KeyStore.IOError");
    assert!(!out.stderr.contains("secret"), "{}", out.stderr);
    assert!(s(&err["Message"]).contains("postgresql://"), "{err}");
}

#[test]
fn store_copy_sqlite_to_postgresql_and_back() {
    let Some((url, name)) = fresh_database("copy") else {
        return;
    };
    let source = Env::new("pg-source");
    let filled = fill(&source);
    let fleet_key = source.path("fleet.key");

    // A database without a store: commands say how to make one.
    let err = run_on(&url, &source.key, "list-keys", &[]).error(5, "KeyStore.IOError");
    assert!(s(&err["Message"]).contains("localkms init"), "{err}");

    // init makes the schema and prints the URL without a password. A URL without a
    // password of its own gets a bogus password parameter, which a server that asks
    // for none ignores: it must not be printed.
    let (init_url, shown) = match url.split_once("://") {
        Some((_, rest)) if !url.contains('?') && !rest.split('@').next().unwrap().contains(':') => {
            (format!("{url}?password=bogus-Zq9"), url.clone())
        }
        _ => (url.clone(), String::new()),
    };
    let out = run_raw(
        &[
            "init",
            "--store",
            &init_url,
            "--master-key-file",
            fleet_key.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert!(!out.stdout.contains("bogus-Zq9"), "{}", out.stdout);
    let init = out.json();
    if !shown.is_empty() {
        assert_eq!(init["Store"], shown.as_str());
    }
    assert_eq!(init["MasterKeyFile"], fleet_key.to_str().unwrap());
    assert_eq!(mode(&fleet_key), 0o600);
    assert_eq!(
        run_on(&url, &fleet_key, "list-keys", &[]).json()["TotalCount"],
        0
    );

    // The SQLite store into PostgreSQL, under the fleet's own master key.
    let report = store_copy(&[
        "--from",
        source.store.to_str().unwrap(),
        "--to",
        &url,
        "--from-master-key-file",
        source.key.to_str().unwrap(),
        "--to-master-key-file",
        fleet_key.to_str().unwrap(),
    ]);
    let to = report.json()["To"].as_str().unwrap().to_owned();
    assert!(to.starts_with("postgres"), "{}", report.stdout);
    if !shown.is_empty() {
        assert_eq!(to, shown);
    }
    check_report(&report, &filled, source.store.to_str().unwrap(), &to);
    check_copy(&source, &filled, &url, &fleet_key);
    // Every host names the store by the URL in LOCALKMS_STORE.
    let vars = [
        ("LOCALKMS_STORE", Path::new(&url)),
        ("LOCALKMS_MASTER_KEY_FILE", fleet_key.as_path()),
    ];
    let opened = run_raw(
        &[
            "advance-decrypt",
            "--ciphertext-blob",
            s(&filled.new_blob["CiphertextBlob"]),
        ],
        None,
        &vars,
    )
    .json();
    assert_eq!(b64(&opened["Plaintext"]), b"after the rotations");

    // A second copy into it is refused, and changes nothing.
    let before = store_contents(&url, &fleet_key);
    store_copy(&[
        "--from",
        source.store.to_str().unwrap(),
        "--to",
        &url,
        "--from-master-key-file",
        source.key.to_str().unwrap(),
        "--to-master-key-file",
        fleet_key.to_str().unwrap(),
    ])
    .error(5, "KeyStore.IOError");
    assert_eq!(store_contents(&url, &fleet_key), before);

    // And back out of PostgreSQL into a new SQLite file.
    let back = source.path("back.db");
    let report = store_copy(&[
        "--from",
        &url,
        "--to",
        back.to_str().unwrap(),
        "--master-key-file",
        fleet_key.to_str().unwrap(),
    ]);
    check_report(&report, &filled, &to, back.to_str().unwrap());
    check_copy(&source, &filled, back.to_str().unwrap(), &fleet_key);
    drop_database(&name);
}
