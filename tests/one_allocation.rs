//! The encrypt and decrypt calls of the C ABI allocate only their output: one
//! block holding the response struct, its strings, the IV and the ciphertext or
//! plaintext, freed by the one `kms_*_free`. Counted with a global allocator
//! that counts this thread's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::CStr;
use std::ptr::{null, null_mut};

use localkms::ffi::*;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the count is a thread-local Cell.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Whether `[ptr, ptr + len)` lies in the block `[start, end)`.
fn inside(ptr: *const u8, len: usize, start: usize, end: usize) -> bool {
    let p = ptr as usize;
    p >= start && p + len <= end
}

#[test]
fn encrypt_and_decrypt_allocate_one_block_each() {
    let mut error = unsafe { std::mem::zeroed::<kms_error>() };
    let mut client = null_mut();
    assert_eq!(
        unsafe { kms_client_open(null(), &mut client, &mut error) },
        kms_status::Ok
    );
    let mut key_id = null_mut();
    let status = unsafe {
        kms_create_key(
            client,
            null(),
            null(),
            null(),
            null(),
            &mut key_id,
            &mut error,
        )
    };
    assert_eq!(status, kms_status::Ok);
    let plaintext = [0x42u8; 64];
    let encrypt = |response: &mut *mut kms_encrypt_response| unsafe {
        let mut error = std::mem::zeroed::<kms_error>();
        kms_advance_encrypt(
            client,
            key_id,
            plaintext.as_ptr(),
            plaintext.len(),
            null(),
            null(),
            0,
            null(),
            0,
            null(),
            response,
            &mut error,
        )
    };
    // Warm up: the thread's generator, the key's cipher, arc-swap's slot.
    let mut response = null_mut();
    assert_eq!(encrypt(&mut response), kms_status::Ok);
    unsafe { kms_encrypt_response_free(response) };

    let mut response = null_mut();
    let n = allocations_in(|| assert_eq!(encrypt(&mut response), kms_status::Ok));
    assert_eq!(n, 1, "kms_advance_encrypt allocated {n} times");
    let r = unsafe { &*response };
    let start = response as usize;
    let end = r.ciphertext_blob as usize + r.ciphertext_blob_len + 256;
    assert_eq!(r.ciphertext_blob_len, 3 + 36 + 12 + 64 + 16);
    assert!(inside(r.iv, r.iv_len, start, end));
    for s in [
        r.key_id,
        r.key_version_id,
        r.algorithm,
        r.padding_mode,
        r.request_id,
    ] {
        let text = unsafe { CStr::from_ptr(s) };
        assert!(inside(s.cast(), text.to_bytes().len() + 1, start, end));
    }
    assert_eq!(
        unsafe { CStr::from_ptr(r.algorithm) }.to_str().unwrap(),
        "AES_GCM"
    );
    assert_eq!(unsafe { CStr::from_ptr(r.padding_mode) }.to_bytes(), b"");
    assert_eq!(unsafe { CStr::from_ptr(r.request_id) }.to_bytes().len(), 36);
    let blob = unsafe { std::slice::from_raw_parts(r.ciphertext_blob, r.ciphertext_blob_len) };
    assert_eq!(&blob[39..51], unsafe {
        std::slice::from_raw_parts(r.iv, 12)
    });

    let mut opened = null_mut();
    let n = allocations_in(|| {
        let status = unsafe {
            kms_advance_decrypt(
                client,
                blob.as_ptr(),
                blob.len(),
                null(),
                null(),
                null(),
                0,
                null(),
                0,
                null(),
                &mut opened,
                &mut error,
            )
        };
        assert_eq!(status, kms_status::Ok);
    });
    assert_eq!(n, 1, "kms_advance_decrypt allocated {n} times");
    let o = unsafe { &*opened };
    assert_eq!(
        unsafe { std::slice::from_raw_parts(o.plaintext, o.plaintext_len) },
        &plaintext[..]
    );
    assert!(inside(
        o.plaintext,
        o.plaintext_len,
        opened as usize,
        opened as usize + 512
    ));
    assert_eq!(unsafe { CStr::from_ptr(o.key_id) }, unsafe {
        CStr::from_ptr(key_id)
    });
    // A data key: the key and its encryption in one block too.
    let data_key = |response: &mut *mut kms_data_key_response| unsafe {
        let mut error = std::mem::zeroed::<kms_error>();
        kms_advance_generate_data_key(client, key_id, 0, null(), 0, response, &mut error)
    };
    let mut warm = null_mut();
    assert_eq!(data_key(&mut warm), kms_status::Ok);
    unsafe { kms_data_key_response_free(warm) };
    let mut generated = null_mut();
    let n = allocations_in(|| assert_eq!(data_key(&mut generated), kms_status::Ok));
    assert_eq!(n, 1, "kms_advance_generate_data_key allocated {n} times");
    let d = unsafe { &*generated };
    assert_eq!(d.plaintext_len, 32);
    let (start, end) = (generated as usize, generated as usize + 512);
    assert!(inside(d.plaintext, d.plaintext_len, start, end));
    assert!(inside(d.ciphertext_blob, d.ciphertext_blob_len, start, end));
    assert!(inside(d.iv, d.iv_len, start, end));
    let key = unsafe { std::slice::from_raw_parts(d.plaintext, 32) }.to_vec();
    assert!(key.iter().any(|&b| b != 0));
    // The blob opens to the data key.
    let mut opened_key = null_mut();
    let status = unsafe {
        kms_advance_decrypt(
            client,
            d.ciphertext_blob,
            d.ciphertext_blob_len,
            null(),
            null(),
            null(),
            0,
            null(),
            0,
            null(),
            &mut opened_key,
            &mut error,
        )
    };
    assert_eq!(status, kms_status::Ok);
    let k = unsafe { &*opened_key };
    assert_eq!(
        unsafe { std::slice::from_raw_parts(k.plaintext, k.plaintext_len) },
        &key[..]
    );
    unsafe {
        kms_decrypt_response_free(opened_key);
        kms_data_key_response_free(generated);
    }

    unsafe {
        kms_decrypt_response_free(opened);
        kms_encrypt_response_free(response);
        kms_string_free(key_id);
        kms_client_free(client);
    }
}
