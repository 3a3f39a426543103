//! No secret of an imported key is left in memory the library frees.
//!
//! A global allocator wrapping `System` scans every block as it is freed (and the
//! old block of a reallocation: `realloc` is left to `GlobalAlloc`'s default, which
//! allocates, copies and frees the old block through `dealloc`) for the imported
//! 32-byte material (and each half of it), for H = AES_k(0^128) (the GHASH key, and
//! the key check value of payload format 1), for H byte-reversed, and for the POLYVAL
//! key the `ghash` crate derives from H (RFC 8452 appendix A: mulX_POLYVAL of
//! ByteReverse(H)). A hit is counted in static atomics; the scan allocates nothing.
//! The patterns live in a static and on the stack, never on the heap, or the test
//! would find its own copies. After a block is scanned it is zeroed, so a hit is
//! charged to the code that freed that block, not to a later user of the memory.
//!
//! The material is imported into an EXTERNAL key through the C ABI, used (AES_GCM
//! with Aad, AES_CBC, Encrypt/Decrypt, a data key), rotated (refused: EXTERNAL keys
//! do not rotate), described; every response is freed, then the client. Once with
//! an in-memory client, once with a file-backed one, where a second client also
//! reads the store and the material expires (by a clock moved forward) and is
//! imported again.
//!
//! Set `LOCALKMS_FREED_MEMORY_BACKTRACE=1` to print where each hit was freed.
//!
//! What it caught when it was made to fail (debug build unless said):
//! - with `WipedBox` (src/crypto/cipher.rs) not wiping, i.e. relying on the cipher
//!   crates' own zeroizing `Drop` as before: in every freed `Suite<Aes256>` (1952
//!   bytes) the POLYVAL key, at offset 1920 (polyval 0.6.2's autodetecting
//!   `Polyval` is a union of `ManuallyDrop` backends with no `Drop` of its own, so
//!   the `zeroize` feature never takes effect), and the key material, whole and in
//!   halves, at offsets 656, 1440 and 1680: in the unused half of aes 0.8's
//!   AES-NI/bitsliced union, filled with stale stack bytes when the value was
//!   moved into its box and never wiped. In a release build, the POLYVAL key.
//! - with the payload `FileBackend::write` encodes copied into a plain `Vec`: the
//!   material in a freed 199-byte block (file-backed client).
//! - before `scrub_stack` below existed: the first half of the material in the
//!   freed 120-byte `Arc<Snapshot>` of a new store, whose `None` (an
//!   `Option<FileSource>`) had been copied from stack bytes this test left; the
//!   test found its own copy, so it wipes its stack after computing the patterns.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::OnceLock;

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use localkms::ffi::*;

use common::c_abi::{message, take_string};
use common::temp_dir::TempDir;

// ---------------------------------------------------------------------------
// The scanning allocator
// ---------------------------------------------------------------------------

/// The imported material: fixed, and unlike anything else in the process.
const MATERIAL: [u8; 32] = material_from_seed(0x6c6f_6361_6c6b_6d73);

/// Other material of the right size, refused on re-import.
const OTHER_MATERIAL: [u8; 32] = material_from_seed(0x0123_4567_89ab_cdef);

const fn material_from_seed(seed: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut x = seed;
    let mut i = 0;
    while i < 32 {
        // xorshift64*: any fixed, varied bytes do.
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out[i] = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        i += 1;
    }
    out
}

const PATTERN_COUNT: usize = 6;

#[derive(Clone, Copy)]
struct Pattern {
    name: &'static str,
    bytes: [u8; 32],
    len: usize,
}

impl Pattern {
    fn new(name: &'static str, bytes: &[u8]) -> Pattern {
        let mut out = [0u8; 32];
        out[..bytes.len()].copy_from_slice(bytes);
        Pattern {
            name,
            bytes: out,
            len: bytes.len(),
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Set once, before scanning is armed; a static, so not on the heap.
static PATTERNS: OnceLock<[Pattern; PATTERN_COUNT]> = OnceLock::new();
/// Scanning is on only while a scenario runs.
static ARMED: AtomicBool = AtomicBool::new(false);
static PRINT_BACKTRACES: AtomicBool = AtomicBool::new(false);
static HITS: [AtomicUsize; PATTERN_COUNT] = [const { AtomicUsize::new(0) }; PATTERN_COUNT];
/// The size of the first freed block each pattern was found in.
static FIRST_HIT_BLOCK: [AtomicUsize; PATTERN_COUNT] =
    [const { AtomicUsize::new(0) }; PATTERN_COUNT];
static BLOCKS_SCANNED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set while a hit is being reported, so the report's own allocations pass.
    static REPORTING: Cell<bool> = const { Cell::new(false) };
}

struct ScanningAllocator;

#[global_allocator]
static ALLOCATOR: ScanningAllocator = ScanningAllocator;

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    if haystack.len() < needle.len() {
        return None;
    }
    (0..=haystack.len() - needle.len())
        .find(|&i| haystack[i] == first && &haystack[i + 1..i + needle.len()] == rest)
}

/// Scans a block about to be freed, records what it holds, then zeroes it.
///
/// # Safety
/// `ptr` points to `len` bytes that are allocated and about to be freed.
unsafe fn scan_freed(ptr: *mut u8, len: usize) {
    if !ARMED.load(Ordering::Relaxed) || len == 0 || REPORTING.with(Cell::get) {
        return;
    }
    let Some(patterns) = PATTERNS.get() else {
        return;
    };
    // SAFETY: per the contract, `len` bytes that are still allocated.
    let block = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
    BLOCKS_SCANNED.fetch_add(1, Ordering::Relaxed);
    for (i, pattern) in patterns.iter().enumerate() {
        if let Some(at) = find(block, pattern.bytes()) {
            if HITS[i].fetch_add(1, Ordering::Relaxed) == 0 {
                FIRST_HIT_BLOCK[i].store(len, Ordering::Relaxed);
            }
            if PRINT_BACKTRACES.load(Ordering::Relaxed) {
                REPORTING.with(|r| r.set(true));
                eprintln!(
                    "{} at offset {at} of a freed block of {len} bytes, freed at:\n{}",
                    pattern.name,
                    std::backtrace::Backtrace::force_capture()
                );
                REPORTING.with(|r| r.set(false));
            }
        }
    }
    block.fill(0);
}

// SAFETY: every call goes to `System` unchanged; `dealloc` only reads and zeroes
// the block it is given before passing it on.
unsafe impl GlobalAlloc for ScanningAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the block is allocated until System.dealloc below.
        unsafe {
            scan_freed(ptr, layout.size());
            System.dealloc(ptr, layout)
        }
    }
    // `realloc` is GlobalAlloc's default: alloc, copy, and `dealloc` (so a scan)
    // of the old block, which is what a moved buffer leaves behind.
}

// ---------------------------------------------------------------------------
// The patterns, computed on the stack
// ---------------------------------------------------------------------------

/// mulX_POLYVAL of RFC 8452 appendix A: the block as a little-endian integer,
/// times x modulo x^128 + x^127 + x^126 + x^121 + 1.
fn mulx_polyval(block: &[u8; 16]) -> [u8; 16] {
    let v = u128::from_le_bytes(*block);
    let carry = v >> 127;
    let v = (v << 1) ^ carry ^ (carry << 127) ^ (carry << 126) ^ (carry << 121);
    v.to_le_bytes()
}

fn set_patterns() {
    let mut h = Array::default();
    aes::Aes256::new((&MATERIAL).into()).encrypt_block(&mut h);
    let h: [u8; 16] = h.into();
    let mut reversed = h;
    reversed.reverse();
    let polyval_key = mulx_polyval(&reversed);
    // The ghash crate derives its POLYVAL key the same way.
    assert_eq!(
        <[u8; 16]>::from(polyval::hazmat::FieldElement::from(reversed).mulx()),
        polyval_key
    );
    let patterns = [
        Pattern::new("the key material", &MATERIAL),
        Pattern::new("the first half of the key material", &MATERIAL[..16]),
        Pattern::new("the second half of the key material", &MATERIAL[16..]),
        Pattern::new(
            "H = AES_k(0^128) (the GHASH key, and the check value of payload format 1)",
            &h,
        ),
        Pattern::new("H byte-reversed", &reversed),
        Pattern::new("the POLYVAL key mulX_POLYVAL(ByteReverse(H))", &polyval_key),
    ];
    assert!(PATTERNS.set(patterns).is_ok(), "patterns are set once");
}

/// Zeroes 64 KiB of stack below the caller: the copies of the patterns that
/// `set_patterns` left there. Without it they surface in the heap, copied with
/// the uninitialised bytes (padding, unused union and enum space) of values built
/// on the stack and moved into a box, and the test finds its own copies.
#[inline(never)]
fn scrub_stack() {
    let mut area = [0u8; 64 * 1024];
    for byte in area.iter_mut() {
        // SAFETY: a valid, aligned, exclusive reference.
        unsafe { std::ptr::write_volatile(byte, 0) };
    }
    std::hint::black_box(&area);
}

fn patterns() -> &'static [Pattern; PATTERN_COUNT] {
    PATTERNS.get().expect("set_patterns ran")
}

/// Runs `scenario` with scanning on and fails naming every pattern found.
fn assert_no_secret_freed(case: &str, scenario: impl FnOnce()) {
    for i in 0..PATTERN_COUNT {
        HITS[i].store(0, Ordering::SeqCst);
        FIRST_HIT_BLOCK[i].store(0, Ordering::SeqCst);
    }
    BLOCKS_SCANNED.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    scenario();
    ARMED.store(false, Ordering::SeqCst);
    let scanned = BLOCKS_SCANNED.load(Ordering::SeqCst);
    assert!(scanned > 100, "{case}: only {scanned} freed blocks scanned");
    let found: Vec<String> = patterns()
        .iter()
        .enumerate()
        .filter(|(i, _)| HITS[*i].load(Ordering::SeqCst) > 0)
        .map(|(i, p)| {
            format!(
                "{} in {} freed block(s), the first of {} bytes",
                p.name,
                HITS[i].load(Ordering::SeqCst),
                FIRST_HIT_BLOCK[i].load(Ordering::SeqCst)
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "{case}: secrets left in freed memory ({scanned} blocks scanned):\n  {}",
        found.join("\n  ")
    );
}

// ---------------------------------------------------------------------------
// The C ABI, called from Rust
// ---------------------------------------------------------------------------

fn blank_error() -> kms_error {
    // SAFETY: kms_error is plain data; all zeroes is a valid value.
    unsafe { std::mem::zeroed() }
}

fn check(status: kms_status, error: &kms_error, what: &str) {
    assert_eq!(status, kms_status::Ok, "{what}: {}", message(error));
}

/// The test's clock: 0 means the system clock's time is not overridden yet.
static CLOCK: AtomicI64 = AtomicI64::new(0);

unsafe extern "C" fn test_clock(_context: *mut c_void) -> i64 {
    CLOCK.load(Ordering::SeqCst)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Client(*mut kms_client);

impl Client {
    fn in_memory() -> Client {
        let mut client = null_mut();
        let mut error = blank_error();
        // SAFETY: NULL options, writable outputs.
        let status = unsafe { kms_client_open(null(), &mut client, &mut error) };
        check(status, &error, "kms_client_open (in memory)");
        Client(client)
    }

    fn file(path: &CStr, master_key: &[u8; 32]) -> Client {
        let options = kms_open_options {
            keystore_path: path.as_ptr(),
            master_key: master_key.as_ptr(),
            master_key_len: master_key.len(),
            master_key_file: null(),
            // The field is becoming a C int; `into` compiles against both.
            create_if_missing: 1,
            keystore_url: null(),
        };
        let mut client = null_mut();
        let mut error = blank_error();
        // SAFETY: valid options whose strings outlive the call; writable outputs.
        let status = unsafe { kms_client_open(&options, &mut client, &mut error) };
        check(status, &error, "kms_client_open (file)");
        Client(client)
    }

    fn create_external_key(&self) -> std::ffi::CString {
        let mut key_id = null_mut();
        let mut error = blank_error();
        // SAFETY: a live client, NUL-terminated strings, writable outputs.
        let options = kms_create_key_options {
            key_spec: c"Aliyun_AES_256".as_ptr(),
            key_usage: null(),
            origin: c"EXTERNAL".as_ptr(),
            description: c"freed memory".as_ptr(),
            key_id: null(),
            algorithms: c"AES_GCM,AES_CBC".as_ptr(),
        };
        let status =
            unsafe { kms_create_key_with_options(self.0, &options, &mut key_id, &mut error) };
        check(status, &error, "kms_create_key_with_options");
        std::ffi::CString::new(take_string(key_id)).unwrap()
    }

    fn import(&self, key_id: &CStr, material: &[u8; 32], expire: i64) -> kms_status {
        let mut error = blank_error();
        // SAFETY: a live client; the material is 32 readable bytes.
        unsafe {
            kms_import_key_material(
                self.0,
                key_id.as_ptr(),
                material.as_ptr(),
                material.len(),
                expire,
                &mut error,
            )
        }
    }

    /// AdvanceEncrypt then AdvanceDecrypt, checking the round trip; returns the
    /// blob.
    fn advance_round_trip(
        &self,
        key_id: &CStr,
        algorithm: &CStr,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Vec<u8> {
        let mut response = null_mut();
        let mut error = blank_error();
        // SAFETY: a live client; every (pointer, length) pair is readable.
        let status = unsafe {
            kms_advance_encrypt(
                self.0,
                key_id.as_ptr(),
                plaintext.as_ptr(),
                plaintext.len(),
                algorithm.as_ptr(),
                null(),
                0,
                if aad.is_empty() { null() } else { aad.as_ptr() },
                aad.len(),
                null(),
                &mut response,
                &mut error,
            )
        };
        check(status, &error, "kms_advance_encrypt");
        // SAFETY: a response from the library.
        let blob = unsafe {
            let r = &*response;
            std::slice::from_raw_parts(r.ciphertext_blob, r.ciphertext_blob_len).to_vec()
        };
        // SAFETY: freed once.
        unsafe { kms_encrypt_response_free(response) };
        assert_eq!(self.advance_decrypt(&blob, aad), Ok(plaintext.to_vec()));
        blob
    }

    fn advance_decrypt(&self, blob: &[u8], aad: &[u8]) -> Result<Vec<u8>, kms_status> {
        let mut response = null_mut();
        let mut error = blank_error();
        // SAFETY: a live client; every (pointer, length) pair is readable.
        let status = unsafe {
            kms_advance_decrypt(
                self.0,
                blob.as_ptr(),
                blob.len(),
                null(),
                null(),
                null(),
                0,
                if aad.is_empty() { null() } else { aad.as_ptr() },
                aad.len(),
                null(),
                &mut response,
                &mut error,
            )
        };
        if status != kms_status::Ok {
            return Err(status);
        }
        // SAFETY: a response from the library, freed once (which wipes it).
        unsafe {
            let r = &*response;
            let plaintext = std::slice::from_raw_parts(r.plaintext, r.plaintext_len).to_vec();
            kms_decrypt_response_free(response);
            Ok(plaintext)
        }
    }

    /// Encrypt and Decrypt (the initial version, bare ciphertext) with AES_CBC.
    fn cbc_encrypt_decrypt(&self, key_id: &CStr, plaintext: &[u8]) {
        let iv = [0x24u8; 16];
        let mut response = null_mut();
        let mut error = blank_error();
        // SAFETY: a live client; every (pointer, length) pair is readable.
        let status = unsafe {
            kms_encrypt(
                self.0,
                key_id.as_ptr(),
                plaintext.as_ptr(),
                plaintext.len(),
                c"AES_CBC".as_ptr(),
                iv.as_ptr(),
                iv.len(),
                null(),
                0,
                c"PKCS7_PADDING".as_ptr(),
                &mut response,
                &mut error,
            )
        };
        check(status, &error, "kms_encrypt");
        // SAFETY: a response from the library.
        let ciphertext = unsafe {
            let r = &*response;
            std::slice::from_raw_parts(r.ciphertext_blob, r.ciphertext_blob_len).to_vec()
        };
        // SAFETY: freed once.
        unsafe { kms_encrypt_response_free(response) };
        let mut response = null_mut();
        // SAFETY: as above.
        let status = unsafe {
            kms_decrypt(
                self.0,
                ciphertext.as_ptr(),
                ciphertext.len(),
                key_id.as_ptr(),
                c"AES_CBC".as_ptr(),
                iv.as_ptr(),
                iv.len(),
                null(),
                0,
                c"PKCS7_PADDING".as_ptr(),
                &mut response,
                &mut error,
            )
        };
        check(status, &error, "kms_decrypt");
        // SAFETY: a response from the library, freed once.
        unsafe {
            let r = &*response;
            assert_eq!(
                std::slice::from_raw_parts(r.plaintext, r.plaintext_len),
                plaintext
            );
            kms_decrypt_response_free(response);
        }
    }

    /// AdvanceGenerateDataKey, and the blob opened again.
    fn data_key(&self, key_id: &CStr) {
        let aad = b"data key context";
        let mut response = null_mut();
        let mut error = blank_error();
        // SAFETY: a live client; the Aad is readable.
        let status = unsafe {
            kms_advance_generate_data_key(
                self.0,
                key_id.as_ptr(),
                32,
                aad.as_ptr(),
                aad.len(),
                &mut response,
                &mut error,
            )
        };
        check(status, &error, "kms_advance_generate_data_key");
        // SAFETY: a response from the library.
        let (plaintext, blob) = unsafe {
            let r = &*response;
            (
                std::slice::from_raw_parts(r.plaintext, r.plaintext_len).to_vec(),
                std::slice::from_raw_parts(r.ciphertext_blob, r.ciphertext_blob_len).to_vec(),
            )
        };
        // SAFETY: freed once.
        unsafe { kms_data_key_response_free(response) };
        assert_eq!(self.advance_decrypt(&blob, aad), Ok(plaintext));
    }

    fn rotate(&self, key_id: &CStr) -> kms_status {
        let mut version = null_mut();
        let mut error = blank_error();
        // SAFETY: a live client; writable outputs.
        let status = unsafe { kms_key_rotate(self.0, key_id.as_ptr(), &mut version, &mut error) };
        if status == kms_status::Ok {
            take_string(version);
        }
        status
    }

    fn describe(&self, key_id: &CStr) -> String {
        let mut json = null_mut();
        let mut error = blank_error();
        // SAFETY: a live client; writable outputs.
        let status = unsafe { kms_describe_key(self.0, key_id.as_ptr(), &mut json, &mut error) };
        check(status, &error, "kms_describe_key");
        take_string(json)
    }

    fn list_versions(&self, key_id: &CStr) -> String {
        let mut json = null_mut();
        let mut error = blank_error();
        // SAFETY: a live client; writable outputs.
        let status =
            unsafe { kms_list_key_versions(self.0, key_id.as_ptr(), &mut json, &mut error) };
        check(status, &error, "kms_list_key_versions");
        take_string(json)
    }

    fn set_test_clock(&self) {
        let mut error = blank_error();
        // SAFETY: a live client; the clock reads a static and is thread-safe.
        let status =
            unsafe { kms_client_set_clock(self.0, Some(test_clock), null_mut(), &mut error) };
        check(status, &error, "kms_client_set_clock");
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: a live handle, freed once.
        unsafe { kms_client_free(self.0) };
    }
}

/// What every scenario does with a key that holds the material.
fn use_key(client: &Client, key_id: &CStr) -> Vec<u8> {
    let blob = client.advance_round_trip(
        key_id,
        c"AES_GCM",
        b"the Aad of the GCM blob",
        b"a message under imported material",
    );
    client.advance_round_trip(key_id, c"AES_CBC", b"", b"a block-mode message");
    client.cbc_encrypt_decrypt(key_id, b"encrypted with the initial version");
    client.data_key(key_id);
    assert_eq!(
        client.rotate(key_id),
        kms_status::UnsupportedOperation,
        "EXTERNAL keys do not rotate"
    );
    assert!(client.describe(key_id).contains("\"Enabled\""));
    client.list_versions(key_id);
    blob
}

fn in_memory_scenario() {
    let client = Client::in_memory();
    let key_id = client.create_external_key();
    assert_eq!(client.import(&key_id, &MATERIAL, 0), kms_status::Ok);
    // The same material again is accepted, other material is not.
    assert_eq!(client.import(&key_id, &MATERIAL, 0), kms_status::Ok);
    assert_eq!(
        client.import(&key_id, &OTHER_MATERIAL, 0),
        kms_status::InvalidKeyMaterial
    );
    use_key(&client, &key_id);
}

fn file_scenario(dir: &std::path::Path) {
    let path = std::ffi::CString::new(dir.join("store.kms").into_os_string().into_encoded_bytes())
        .unwrap();
    let master_key = [0x4du8; 32];
    let now = unix_now();
    CLOCK.store(now, Ordering::SeqCst);

    let client = Client::file(&path, &master_key);
    client.set_test_clock();
    let key_id = client.create_external_key();
    assert_eq!(
        client.import(&key_id, &MATERIAL, now + 86_400),
        kms_status::Ok
    );
    let blob = use_key(&client, &key_id);

    // A second client reads (and decodes) the store.
    let reader = Client::file(&path, &master_key);
    assert_eq!(
        reader.advance_decrypt(&blob, b"the Aad of the GCM blob"),
        Ok(b"a message under imported material".to_vec())
    );
    drop(reader);

    // Two days on the material has expired and is wiped.
    CLOCK.store(now + 2 * 86_400, Ordering::SeqCst);
    assert_eq!(
        client.advance_decrypt(&blob, b"the Aad of the GCM blob"),
        Err(kms_status::KeyPendingImport)
    );
    assert!(client.describe(&key_id).contains("PendingImport"));
    // Only the same material comes back.
    assert_eq!(
        client.import(&key_id, &OTHER_MATERIAL, 0),
        kms_status::InvalidKeyMaterial
    );
    assert_eq!(client.import(&key_id, &MATERIAL, 0), kms_status::Ok);
    use_key(&client, &key_id);
    drop(client);

    // Reopened, the store still holds it.
    let reopened = Client::file(&path, &master_key);
    assert_eq!(
        reopened.advance_decrypt(&blob, b"the Aad of the GCM blob"),
        Ok(b"a message under imported material".to_vec())
    );
}

#[test]
fn no_secret_of_an_imported_key_is_left_in_freed_memory() {
    PRINT_BACKTRACES.store(
        std::env::var_os("LOCALKMS_FREED_MEMORY_BACKTRACE").is_some_and(|v| v == "1"),
        Ordering::SeqCst,
    );
    set_patterns();
    scrub_stack();

    assert_no_secret_freed("an in-memory client", in_memory_scenario);

    // Removed however the test ends.
    let dir = TempDir::new("file-backed");
    assert_no_secret_freed("a file-backed client", || file_scenario(dir.path()));
}
