//! A bounded soak test, not part of the default `cargo test` (both tests are
//! `#[ignore]`d): `make soak SOAK_SECS=1800` runs it, CI for 120 s.
//!
//! N threads (LOCALKMS_SOAK_THREADS, default 4) of this process run a mix of C ABI
//! calls on one SQLite store in a temporary folder, for LOCALKMS_SOAK_SECS seconds
//! (default 120): AdvanceEncrypt and AdvanceDecrypt of every algorithm of the key,
//! Encrypt and Decrypt, data keys, describe and list, and decrypts of their own
//! older blobs, while a second process (this test binary again, `soak_writer`)
//! rotates the shared keys, moves an alias between them, and on a few keys of its
//! own makes and removes aliases, disables, enables, changes the rotation policy,
//! schedules and cancels deletion, on the same store.
//!
//! It checks that
//! - no call of either process fails (every status must be OK);
//! - every blob made (each one is written to a file as it is made) decrypts to its
//!   plaintext afterwards, through a client that opens the store anew;
//! - resident memory stays flat: the growth from the sample at a quarter of the
//!   run to the last one must stay under [`RSS_GROWTH_LIMIT`] (the rotations add
//!   key versions, a few hundred bytes each; a leak of one call in a thousand
//!   would be far more).
//!
//! It prints the figures (calls, blobs, rotations, the resident set over time).
//!
//! A 30-minute run (`make soak SOAK_SECS=1800`, 2026-12-02, the 2-core AMD EPYC
//! host while three fuzzers ran on it, so the workers waited for the verifier
//! 57,062 times): 27,112,453 calls (15,062/s), 9,557,922 blobs made and every one
//! decrypted afterwards; the writer made 2,180 rotations, 3,262 alias moves and
//! 5,450 state changes, with no failure in either process; the resident set went
//! from 9.8 MiB at 60 s to 11.4 MiB at 420 s and stayed at 11.4 MiB to the end
//! (growth from a quarter in: +0.0 MiB).

use std::ffi::{c_char, CStr, CString};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use localkms::ffi::*;

/// The most the resident set may grow from a quarter of the run to its end.
const RSS_GROWTH_LIMIT: u64 = 24 << 20;

/// The shared keys the threads use and the writer rotates: (spec, algorithms).
const SHARED: [(&str, &[&str]); 4] = [
    ("Aliyun_AES_256", &["AES_GCM", "AES_CBC", "AES_ECB"]),
    ("Aliyun_AES_128", &["AES_GCM", "AES_CBC", "AES_ECB"]),
    ("Aliyun_AES_192", &["AES_GCM", "AES_CBC"]),
    ("Aliyun_SM4", &["SM4_GCM", "SM4_CBC", "SM4_ECB"]),
];

/// The alias the writer moves between the AES shared keys.
const MOVING_ALIAS: &str = "alias/soak-moving";

const MASTER_KEY: [u8; 32] = [0x3c; 32];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------
// The C calls, each asserting success
// ---------------------------------------------------------------------------------

struct Client(*mut kms_client);
// SAFETY: a kms_client may be used from any number of threads at once (API.md §2).
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: the client is live and freed once.
        unsafe { kms_client_free(self.0) };
    }
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn error_text(error: &kms_error) -> String {
    let text = |chars: &[c_char]| {
        let bytes: Vec<u8> = chars
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{}: {}", text(&error.code), text(&error.message))
}

/// Panics with the call, status and message unless `status` is OK.
fn ok(status: kms_status, error: &kms_error, what: &str) {
    assert_eq!(status, kms_status::Ok, "{what}: {}", error_text(error));
}

fn new_error() -> kms_error {
    // SAFETY: kms_error holds only integers: all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

fn take_string(p: *mut c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: a string the library returned, freed once.
    let s = unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned();
    unsafe { kms_string_free(p) };
    s
}

fn copy_out(p: *const u8, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    // SAFETY: a response buffer of len bytes.
    unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
}

fn arg(bytes: &[u8]) -> (*const u8, usize) {
    if bytes.is_empty() {
        (null(), 0)
    } else {
        (bytes.as_ptr(), bytes.len())
    }
}

impl Client {
    fn open(path: &Path, create: bool) -> Client {
        let path = c(path.to_str().unwrap());
        let options = kms_open_options {
            keystore_path: path.as_ptr(),
            master_key: MASTER_KEY.as_ptr(),
            master_key_len: MASTER_KEY.len(),
            master_key_file: null(),
            create_if_missing: i32::from(create),
            keystore_url: null(),
        };
        let mut client = null_mut();
        let mut error = new_error();
        // SAFETY: valid options, writable outputs.
        let status = unsafe { kms_client_open(&options, &mut client, &mut error) };
        ok(status, &error, "open");
        Client(client)
    }

    fn create_key(&self, spec: &str, algorithms: &[&str]) -> String {
        let spec = c(spec);
        let algorithms = c(&algorithms.join(","));
        let options = kms_create_key_options {
            key_spec: spec.as_ptr(),
            key_usage: null(),
            origin: null(),
            description: null(),
            key_id: null(),
            algorithms: algorithms.as_ptr(),
        };
        let mut key_id = null_mut();
        let mut error = new_error();
        // SAFETY: live client, valid options, writable outputs.
        let status =
            unsafe { kms_create_key_with_options(self.0, &options, &mut key_id, &mut error) };
        ok(status, &error, "create key");
        take_string(key_id)
    }

    /// A call of the form f(client, name, error).
    fn simple(
        &self,
        f: unsafe extern "C" fn(*mut kms_client, *const c_char, *mut kms_error) -> kms_status,
        name: &str,
        what: &str,
    ) {
        let name = c(name);
        let mut error = new_error();
        // SAFETY: live client, NUL-terminated string, writable error.
        let status = unsafe { f(self.0, name.as_ptr(), &mut error) };
        ok(status, &error, what);
    }

    fn alias(
        &self,
        f: unsafe extern "C" fn(
            *mut kms_client,
            *const c_char,
            *const c_char,
            *mut kms_error,
        ) -> kms_status,
        alias: &str,
        key_id: &str,
    ) {
        let (alias, key_id) = (c(alias), c(key_id));
        let mut error = new_error();
        // SAFETY: live client, NUL-terminated strings, writable error.
        let status = unsafe { f(self.0, alias.as_ptr(), key_id.as_ptr(), &mut error) };
        ok(status, &error, "alias");
    }

    fn rotate(&self, key_id: &str) -> String {
        let key_id = c(key_id);
        let mut version = null_mut();
        let mut error = new_error();
        // SAFETY: live client, NUL-terminated string, writable outputs.
        let status = unsafe { kms_key_rotate(self.0, key_id.as_ptr(), &mut version, &mut error) };
        ok(status, &error, "rotate");
        take_string(version)
    }

    fn json(
        &self,
        f: unsafe extern "C" fn(
            *mut kms_client,
            *const c_char,
            *mut *mut c_char,
            *mut kms_error,
        ) -> kms_status,
        key_id: &str,
    ) -> String {
        let key_id = c(key_id);
        let mut json = null_mut();
        let mut error = new_error();
        // SAFETY: live client, NUL-terminated string, writable outputs.
        let status = unsafe { f(self.0, key_id.as_ptr(), &mut json, &mut error) };
        ok(status, &error, "describe");
        take_string(json)
    }

    fn list_keys(&self) -> String {
        let mut json = null_mut();
        let mut error = new_error();
        // SAFETY: live client, writable outputs.
        let status = unsafe { kms_list_keys(self.0, &mut json, &mut error) };
        ok(status, &error, "list keys");
        take_string(json)
    }

    /// (blob, iv) of kms_advance_encrypt (advance) or kms_encrypt.
    fn encrypt(
        &self,
        advance: bool,
        key: &str,
        algorithm: &str,
        aad: &[u8],
        plaintext: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let (key, alg) = (c(key), c(algorithm));
        let (pt, pt_len) = arg(plaintext);
        let (aad, aad_len) = arg(aad);
        let f = if advance {
            kms_advance_encrypt
        } else {
            kms_encrypt
        };
        let mut response = null_mut();
        let mut error = new_error();
        // SAFETY: live client; pointers NULL or valid for their lengths.
        let status = unsafe {
            f(
                self.0,
                key.as_ptr(),
                pt,
                pt_len,
                alg.as_ptr(),
                null(),
                0,
                aad,
                aad_len,
                null(),
                &mut response,
                &mut error,
            )
        };
        ok(status, &error, "encrypt");
        // SAFETY: a live response, freed once.
        let r = unsafe { &*response };
        let out = (
            copy_out(r.ciphertext_blob, r.ciphertext_blob_len),
            copy_out(r.iv, r.iv_len),
        );
        unsafe { kms_encrypt_response_free(response) };
        out
    }

    /// kms_advance_decrypt of a blob alone, or kms_decrypt with (key, algorithm, iv).
    fn decrypt(&self, kept: Option<(&str, &str, &[u8])>, blob: &[u8], aad: &[u8]) -> Vec<u8> {
        let (key, alg, iv) = match kept {
            Some((k, a, iv)) => (Some(c(k)), Some(c(a)), iv),
            None => (None, None, &[][..]),
        };
        let (blob, blob_len) = arg(blob);
        let (iv, iv_len) = arg(iv);
        let (aad, aad_len) = arg(aad);
        let f = if kept.is_some() {
            kms_decrypt
        } else {
            kms_advance_decrypt
        };
        let mut response: *mut kms_decrypt_response = null_mut();
        let mut error = new_error();
        // SAFETY: live client; pointers NULL or valid for their lengths.
        let status = unsafe {
            f(
                self.0,
                blob,
                blob_len,
                key.as_ref().map_or(null(), |k| k.as_ptr()),
                alg.as_ref().map_or(null(), |a| a.as_ptr()),
                iv,
                iv_len,
                aad,
                aad_len,
                null(),
                &mut response,
                &mut error,
            )
        };
        ok(status, &error, "decrypt");
        // SAFETY: a live response, freed once.
        let r = unsafe { &*response };
        let plaintext = copy_out(r.plaintext, r.plaintext_len);
        unsafe { kms_decrypt_response_free(response) };
        plaintext
    }

    /// (data key, advance blob).
    fn data_key(&self, key: &str, aad: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let key = c(key);
        let (aad, aad_len) = arg(aad);
        let mut response: *mut kms_data_key_response = null_mut();
        let mut error = new_error();
        // SAFETY: live client; pointers NULL or valid for their lengths.
        let status = unsafe {
            kms_advance_generate_data_key(
                self.0,
                key.as_ptr(),
                32,
                aad,
                aad_len,
                &mut response,
                &mut error,
            )
        };
        ok(status, &error, "data key");
        // SAFETY: a live response, freed once.
        let r = unsafe { &*response };
        let out = (
            copy_out(r.plaintext, r.plaintext_len),
            copy_out(r.ciphertext_blob, r.ciphertext_blob_len),
        );
        unsafe { kms_data_key_response_free(response) };
        out
    }
}

// ---------------------------------------------------------------------------------
// Deterministic inputs and the blob log
// ---------------------------------------------------------------------------------

/// splitmix64: the plaintext of a blob follows from its seed, so the log need not
/// hold it.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn plaintext_of(seed: u64) -> Vec<u8> {
    let len = (mix(seed) % 2049) as usize;
    (0..len)
        .map(|i| mix(seed ^ (i as u64) << 20) as u8)
        .collect()
}

fn aad_of(seed: u64, algorithm: &str) -> Vec<u8> {
    if algorithm.ends_with("GCM") && seed.is_multiple_of(3) {
        seed.to_le_bytes().to_vec()
    } else {
        Vec::new()
    }
}

/// One logged blob: its expected plaintext and Aad, and the blob.
struct Logged {
    plaintext: Vec<u8>,
    aad: Vec<u8>,
    blob: Vec<u8>,
}

fn put(out: &mut impl Write, bytes: &[u8]) {
    out.write_all(&(bytes.len() as u32).to_le_bytes()).unwrap();
    out.write_all(bytes).unwrap();
}

fn get(input: &mut impl Read) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len).ok()?;
    let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
    input.read_exact(&mut bytes).unwrap();
    Some(bytes)
}

/// Logs a blob; the plaintext as its seed when it follows from one (kind 0), else
/// as it is (kind 1: a data key).
/// Returns the bytes written.
fn log_blob(log: &mut impl Write, seed: Option<u64>, entry: &Logged) -> u64 {
    let first = seed.map_or(entry.plaintext.len(), |_| 8);
    match seed {
        Some(seed) => {
            log.write_all(&[0]).unwrap();
            put(log, &seed.to_le_bytes());
        }
        None => {
            log.write_all(&[1]).unwrap();
            put(log, &entry.plaintext);
        }
    }
    put(log, &entry.aad);
    put(log, &entry.blob);
    (1 + 12 + first + entry.aad.len() + entry.blob.len()) as u64
}

fn read_log(path: &Path) -> impl Iterator<Item = Logged> {
    let mut input = BufReader::new(File::open(path).unwrap());
    std::iter::from_fn(move || {
        let mut kind = [0u8];
        input.read_exact(&mut kind).ok()?;
        let first = get(&mut input).unwrap();
        let plaintext = if kind[0] == 0 {
            plaintext_of(u64::from_le_bytes(first.try_into().unwrap()))
        } else {
            first
        };
        Some(Logged {
            plaintext,
            aad: get(&mut input).unwrap(),
            blob: get(&mut input).unwrap(),
        })
    })
}

/// How long a log segment is written before it is closed and left to the verifier.
const SEGMENT: Duration = Duration::from_secs(5);

/// A worker's log: written as `<name>.part`, renamed to `<name>.log` once flushed
/// and closed, so the verifier never reads a segment still being written.
struct SegmentLog {
    dir: PathBuf,
    thread: u64,
    sequence: u64,
    file: Option<BufWriter<File>>,
}

impl SegmentLog {
    fn path(&self, extension: &str) -> PathBuf {
        self.dir.join(format!(
            "blobs-{}-{:06}.{extension}",
            self.thread, self.sequence
        ))
    }

    fn writer(&mut self) -> &mut BufWriter<File> {
        if self.file.is_none() {
            self.file = Some(BufWriter::new(File::create(self.path("part")).unwrap()));
        }
        self.file.as_mut().unwrap()
    }

    fn close(&mut self) {
        if let Some(mut file) = self.file.take() {
            file.flush().unwrap();
            drop(file);
            std::fs::rename(self.path("part"), self.path("log")).unwrap();
            self.sequence += 1;
        }
    }
}

/// The closed log segments in `dir`.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    found.sort();
    found
}

/// The most log bytes waiting for the verifier: past it the workers pause until it
/// catches up, so that a long run on a busy machine never fills the disk.
const PENDING_LIMIT: u64 = 512 << 20;

/// Decrypts every blob of `path` through `client`, then deletes the file and takes
/// its size off `pending`; returns how many it checked.
fn verify_segment(client: &Client, path: &Path, pending: &AtomicU64) -> u64 {
    let size = std::fs::metadata(path).unwrap().len();
    let mut n = 0;
    for entry in read_log(path) {
        assert_eq!(
            client.decrypt(None, &entry.blob, &entry.aad),
            entry.plaintext,
            "a blob of {} decrypts to its plaintext",
            path.display()
        );
        n += 1;
    }
    std::fs::remove_file(path).unwrap();
    pending.fetch_sub(size, Ordering::Relaxed);
    n
}

// ---------------------------------------------------------------------------------
// The worker threads
// ---------------------------------------------------------------------------------

#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    logged: AtomicU64,
    /// Log bytes written and not yet verified.
    pending: AtomicU64,
    /// Times a worker paused for the verifier.
    pauses: AtomicU64,
}

fn worker(
    client: &Client,
    keys: &[(String, &'static [&'static str])],
    thread: u64,
    dir: &Path,
    start: Instant,
    stop: &AtomicBool,
    counts: &Counts,
) {
    let mut log = SegmentLog {
        dir: dir.to_owned(),
        thread,
        sequence: 0,
        file: None,
    };
    let mut segment = 0;
    let mut recent: Vec<Logged> = Vec::new();
    let mut calls = 0u64;
    let mut logged = 0u64;
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if i.is_multiple_of(256) {
            if counts.pending.load(Ordering::Relaxed) > PENDING_LIMIT {
                // Hand over what is written before waiting for the verifier.
                log.close();
                while counts.pending.load(Ordering::Relaxed) > PENDING_LIMIT
                    && !stop.load(Ordering::Relaxed)
                {
                    counts.pauses.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            let now = start.elapsed().as_secs() / SEGMENT.as_secs();
            if now != segment {
                log.close();
                segment = now;
            }
        }
        let seed = (thread << 48) | i;
        let r = mix(seed.wrapping_mul(7));
        let k = (r % keys.len() as u64) as usize;
        let (key_id, algorithms) = &keys[k];
        let algorithm = algorithms[((r >> 8) % algorithms.len() as u64) as usize];
        // The AES keys through the alias the writer moves, now and then.
        let key_name = if (r >> 16).is_multiple_of(7)
            && algorithms[0] == "AES_GCM"
            && algorithm != "AES_ECB"
        {
            MOVING_ALIAS
        } else {
            key_id.as_str()
        };
        let algorithm = if key_name == MOVING_ALIAS {
            "AES_GCM"
        } else {
            algorithm
        };
        let plaintext = plaintext_of(seed);
        let aad = aad_of(seed, algorithm);
        match i % 10 {
            0..=4 => {
                let (blob, _) = client.encrypt(true, key_name, algorithm, &aad, &plaintext);
                assert_eq!(
                    client.decrypt(None, &blob, &aad),
                    plaintext,
                    "advance round trip"
                );
                calls += 2;
                let entry = Logged {
                    plaintext,
                    aad,
                    blob,
                };
                let bytes = log_blob(log.writer(), Some(seed), &entry);
                counts.pending.fetch_add(bytes, Ordering::Relaxed);
                logged += 1;
                if recent.len() < 64 {
                    recent.push(entry);
                } else {
                    recent[(r >> 24) as usize % 64] = entry;
                }
            }
            5 | 6 => {
                let (blob, iv) = client.encrypt(false, key_id, algorithm, &aad, &plaintext);
                let opened = client.decrypt(Some((key_id, algorithm, &iv)), &blob, &aad);
                assert_eq!(opened, plaintext, "encrypt round trip");
                calls += 2;
            }
            7 => {
                let gcm_aad = aad_of(seed, "GCM");
                let (data_key, blob) = client.data_key(key_name, &gcm_aad);
                calls += 1;
                log_blob(
                    log.writer(),
                    None,
                    &Logged {
                        plaintext: data_key,
                        aad: gcm_aad,
                        blob,
                    },
                );
                logged += 1;
            }
            8 => {
                if r.is_multiple_of(2) {
                    client.json(kms_describe_key, key_id);
                } else {
                    client.json(kms_list_key_versions, key_id);
                }
                calls += 1;
            }
            _ => {
                // An older blob of this thread, made under a version that may have
                // been rotated away from primary since.
                if let Some(old) = recent.get((r >> 32) as usize % 64) {
                    assert_eq!(client.decrypt(None, &old.blob, &old.aad), old.plaintext);
                    calls += 1;
                }
                if r.is_multiple_of(50) {
                    client.list_keys();
                    calls += 1;
                }
            }
        }
        i += 1;
    }
    log.close();
    counts.calls.fetch_add(calls, Ordering::Relaxed);
    counts.logged.fetch_add(logged, Ordering::Relaxed);
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

// ---------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------

#[test]
#[ignore = "a soak test of minutes: make soak (SOAK_SECS=…), or --ignored"]
fn soak() {
    let secs = env_u64("LOCALKMS_SOAK_SECS", 120);
    let threads = env_u64("LOCALKMS_SOAK_THREADS", 4);
    let dir = std::env::temp_dir().join(format!("localkms-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("store.db");
    let stop_file = dir.join("stop");

    let client = Arc::new(Client::open(&store, true));
    let keys: Arc<Vec<(String, &'static [&'static str])>> = Arc::new(
        SHARED
            .iter()
            .map(|&(spec, algs)| (client.create_key(spec, algs), algs))
            .collect(),
    );
    client.alias(kms_create_alias, MOVING_ALIAS, &keys[0].0);

    // The second process: this binary's soak_writer test.
    let writer = Command::new(std::env::current_exe().unwrap())
        .args([
            "soak_writer",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LOCALKMS_SOAK_WRITER_DIR", &dir)
        .env(
            "LOCALKMS_SOAK_WRITER_KEYS",
            keys.iter()
                .map(|k| k.0.as_str())
                .collect::<Vec<_>>()
                .join(","),
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::default());
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (client, keys, stop, counts, dir) = (
                client.clone(),
                keys.clone(),
                stop.clone(),
                counts.clone(),
                dir.clone(),
            );
            std::thread::spawn(move || worker(&client, &keys, t, &dir, start, &stop, &counts))
        })
        .collect();
    // Closed log segments are checked while the run goes on, through a client of
    // their own that opened the store before any of those blobs was made.
    let verifier = {
        let (stop, dir, store, counts) = (stop.clone(), dir.clone(), store.clone(), counts.clone());
        std::thread::spawn(move || {
            let client = Client::open(&store, false);
            let mut verified = 0;
            while !stop.load(Ordering::Relaxed) {
                for path in segments(&dir) {
                    verified += verify_segment(&client, &path, &counts.pending);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            verified
        })
    };

    let samples = Arc::new(Mutex::new(Vec::new()));
    let interval = Duration::from_secs((secs / 30).clamp(1, 60));
    while start.elapsed() < Duration::from_secs(secs) {
        if handles.iter().any(|h| h.is_finished()) {
            break; // a worker panicked: join below reports it
        }
        std::thread::sleep(interval.min(Duration::from_secs(secs).saturating_sub(start.elapsed())));
        samples
            .lock()
            .unwrap()
            .push((start.elapsed().as_secs(), rss_bytes()));
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed();
    for h in handles {
        h.join()
            .expect("a worker thread failed (see its panic above)");
    }
    let verified_during = verifier
        .join()
        .expect("the verifier failed (see its panic above)");
    File::create(&stop_file).unwrap();
    let output = writer.wait_with_output().unwrap();
    let writer_out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the writer process failed:\n{writer_out}"
    );
    let writer_line = writer_out
        .lines()
        .find_map(|l| l.find("soak writer:").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("no figures from the writer:\n{writer_out}"))
        .to_owned();
    let samples = samples.lock().unwrap().clone();
    drop(client);

    // The rest of the blobs, through a client that opens the store anew.
    let verify_start = Instant::now();
    let fresh = Client::open(&store, false);
    let mut verified_after = 0;
    for path in segments(&dir) {
        verified_after += verify_segment(&fresh, &path, &counts.pending);
    }
    let verified = verified_during + verified_after;
    let logged = counts.logged.load(Ordering::Relaxed);
    assert_eq!(verified, logged, "every logged blob was read back");

    let calls = counts.calls.load(Ordering::Relaxed);
    let versions: usize = keys
        .iter()
        .map(|(k, _)| {
            fresh
                .json(kms_list_key_versions, k)
                .matches("KeyVersionId")
                .count()
        })
        .sum();
    let baseline = samples[samples.len() / 4].1;
    let last = samples.last().unwrap().1;
    let peak = samples.iter().map(|s| s.1).max().unwrap();
    println!(
        "soak: {threads} threads, {:.0} s: {calls} calls ({:.0}/s), {logged} blobs logged and \
         all {verified} decrypted afterwards ({verified_during} during the run by a second \
         client, {verified_after} at the end in {:.1} s by a client opened anew); {versions} \
         versions of the shared keys; the workers paused {} times (100 ms) for the verifier",
        elapsed.as_secs_f64(),
        calls as f64 / elapsed.as_secs_f64(),
        verify_start.elapsed().as_secs_f64(),
        counts.pauses.load(Ordering::Relaxed)
    );
    println!("{writer_line}");
    println!(
        "soak: resident set {:.1} MiB at {} s (a quarter in), {:.1} MiB at the end, peak {:.1} MiB; \
         growth {:+.1} MiB (limit {:.0} MiB)",
        mib(baseline),
        samples[samples.len() / 4].0,
        mib(last),
        mib(peak),
        mib(last) - mib(baseline),
        mib(RSS_GROWTH_LIMIT)
    );
    let series: Vec<String> = samples
        .iter()
        .map(|(t, rss)| format!("{t}s={:.1}", mib(*rss)))
        .collect();
    println!("soak: resident set MiB over time: {}", series.join(" "));
    assert!(
        last <= baseline + RSS_GROWTH_LIMIT,
        "resident memory grew by {:.1} MiB",
        mib(last.saturating_sub(baseline))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The second process of [`soak`]; does nothing unless that test started it.
#[test]
#[ignore = "run by the soak test as its second process"]
fn soak_writer() {
    let Ok(dir) = std::env::var("LOCALKMS_SOAK_WRITER_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let shared: Vec<String> = std::env::var("LOCALKMS_SOAK_WRITER_KEYS")
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let client = Client::open(&dir.join("store.db"), false);
    let stop_file = dir.join("stop");
    let (mut rotations, mut alias_moves, mut created, mut state_changes) = (0u64, 0u64, 0u64, 0u64);
    let mut own: Vec<String> = Vec::new();
    let mut i = 0u64;
    while !stop_file.exists() {
        let r = mix(i ^ 0x5eed);
        match i % 6 {
            0 | 3 => {
                client.rotate(&shared[(r % shared.len() as u64) as usize]);
                rotations += 1;
            }
            1 => {
                // Among the AES keys that permit AES_GCM (all but the SM4 one).
                let target = &shared[(r % 3) as usize];
                client.alias(kms_update_alias, MOVING_ALIAS, target);
                alias_moves += 1;
            }
            2 => {
                // A few keys of its own, then an alias made and removed on them:
                // the store stays the same size, so the resident set of a long run
                // measures leaks, not a growing store.
                if own.len() < 4 {
                    let key = client.create_key("Aliyun_AES_256", &["AES_GCM"]);
                    own.push(key);
                    created += 1;
                } else {
                    let alias = format!("alias/soak-own-{}", i % 12);
                    let key = &own[(r % own.len() as u64) as usize];
                    client.alias(kms_create_alias, &alias, key);
                    client.simple(kms_delete_alias, &alias, "delete alias");
                    alias_moves += 2;
                }
            }
            4 => {
                if let Some(key) = own.last() {
                    client.simple(kms_disable_key, key, "disable");
                    client.simple(kms_enable_key, key, "enable");
                    let interval = c("604800s");
                    let key_c = c(key);
                    let mut error = new_error();
                    // SAFETY: live client, NUL-terminated strings, writable error.
                    let status = unsafe {
                        kms_update_rotation_policy(
                            client.0,
                            key_c.as_ptr(),
                            1,
                            interval.as_ptr(),
                            &mut error,
                        )
                    };
                    ok(status, &error, "rotation policy");
                    state_changes += 3;
                }
            }
            _ => {
                if let Some(key) = own.first() {
                    let key_c = c(key);
                    let mut error = new_error();
                    // SAFETY: live client, NUL-terminated string, writable error.
                    let status = unsafe {
                        kms_schedule_key_deletion(client.0, key_c.as_ptr(), 7, &mut error)
                    };
                    ok(status, &error, "schedule deletion");
                    client.simple(kms_cancel_key_deletion, key, "cancel deletion");
                    state_changes += 2;
                }
            }
        }
        i += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    println!(
        "soak writer: {rotations} rotations, {alias_moves} alias moves, {created} keys created, \
         {state_changes} state changes, 0 failures"
    );
}
