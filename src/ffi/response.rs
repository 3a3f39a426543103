//! Building, handing over and freeing the C response structs, once for all of
//! them: each response is one allocation.

use super::convert::out_ptr;
use super::guard::guard;
use super::status::{kms_error, kms_status, ErrorOut};
use crate::error::Result;

/// The response of an encrypt, decrypt or data-key call in one allocation: a hidden header
/// (the block's size), the `#[repr(C)]` struct the caller sees, then its strings,
/// IV and ciphertext or plaintext. The caller gets a pointer to the struct and
/// frees the whole with one `kms_*_free` ([`free_block`]), which needs none of the
/// struct's fields: it reads the size from the header.
///
/// The strings are written with their NUL and not scanned again: the library
/// made every one of them (IDs of `[A-Za-z0-9-]`, algorithm and padding names, a
/// RequestId), and none holds a NUL.
pub(crate) struct Block<T> {
    base: std::ptr::NonNull<u8>,
    size: usize,
    /// Bytes of the tail written so far (after the header and the struct).
    used: usize,
    /// Wipe every byte before freeing (a plaintext).
    wipe: bool,
    _response: std::marker::PhantomData<T>,
}

/// The header before the struct: its size, kept at the block's alignment.
const BLOCK_HEADER: usize = 16;
const BLOCK_ALIGN: usize = 16;
/// From this size on, a block is allocated zeroed (glibc serves it with fresh
/// pages from mmap, zero already: its mmap threshold is 128 KiB).
const ZERO_PAGES_FROM: usize = 128 * 1024;

fn block_layout(size: usize) -> Result<std::alloc::Layout> {
    std::alloc::Layout::from_size_align(size, BLOCK_ALIGN)
        .map_err(|_| crate::Error::internal("out of memory: the response is too large."))
}

impl<T> Block<T> {
    /// A zeroed block for a `T` (all pointers NULL, lengths 0) and `tail` bytes.
    /// Fallible: `tail` may be the caller's size.
    #[inline]
    pub(crate) fn new(tail: usize, wipe: bool) -> Result<Block<T>> {
        const { assert!(std::mem::align_of::<T>() <= BLOCK_ALIGN) };
        let size = (BLOCK_HEADER + std::mem::size_of::<T>())
            .checked_add(tail)
            .ok_or_else(|| crate::Error::internal("out of memory: the response is too large."))?;
        let layout = block_layout(size)?;
        // Small blocks: malloc and a memset. glibc's calloc bypasses the
        // per-thread cache (tcache) that malloc and free use, so a response made
        // and freed per call went through the arena's bins every time (calloc,
        // _int_malloc and _int_free were 5 % of a 64-byte AdvanceEncrypt). Large
        // ones: calloc, which maps fresh zero pages instead of writing them.
        let zero_pages = size >= ZERO_PAGES_FROM;
        // SAFETY: the layout's size is at least BLOCK_HEADER, never 0.
        let base = unsafe {
            if zero_pages {
                std::alloc::alloc_zeroed(layout)
            } else {
                std::alloc::alloc(layout)
            }
        };
        let base = std::ptr::NonNull::new(base).ok_or_else(|| {
            crate::Error::internal(format!(
                "out of memory: {size} bytes could not be allocated for the response."
            ))
        })?;
        if !zero_pages {
            // black_box: LLVM would turn malloc + memset back into calloc.
            let bytes = std::hint::black_box(base.as_ptr());
            // SAFETY: `size` writable bytes of the new block.
            unsafe { std::ptr::write_bytes(bytes, 0, size) };
        }
        // SAFETY: the block starts with BLOCK_HEADER bytes, aligned for a usize.
        unsafe { base.as_ptr().cast::<usize>().write(size) };
        Ok(Block {
            base,
            size,
            used: 0,
            wipe,
            _response: std::marker::PhantomData,
        })
    }

    fn struct_ptr(&self) -> *mut T {
        // SAFETY: within the block; aligned (BLOCK_HEADER is a multiple of T's
        // alignment, at most 16).
        unsafe { self.base.as_ptr().add(BLOCK_HEADER).cast::<T>() }
    }

    /// The response struct, zeroed at first (NULL pointers, 0 lengths: valid).
    pub(crate) fn response(&mut self) -> &mut T {
        // SAFETY: the struct's bytes are in the block, initialised (zeroed or
        // written since), and only reached through this `&mut self`.
        unsafe { &mut *self.struct_ptr() }
    }

    /// Sets aside the next `len` bytes of the tail and returns where they start;
    /// NULL when `len` is 0 (the header's rule: empty byte fields are NULL).
    pub(crate) fn reserve(&mut self, len: usize) -> Result<*mut u8> {
        let start = BLOCK_HEADER + std::mem::size_of::<T>() + self.used;
        if len > self.size - start {
            return Err(crate::Error::internal(
                "A response field does not fit its block.",
            ));
        }
        self.used += len;
        if len == 0 {
            return Ok(std::ptr::null_mut());
        }
        // SAFETY: `start` is inside the block (checked above).
        Ok(unsafe { self.base.as_ptr().add(start) })
    }

    /// The `len` bytes at `ptr`, which [`Block::reserve`] gave.
    pub(crate) fn bytes_mut(&mut self, ptr: *mut u8, len: usize) -> &mut [u8] {
        let tail = BLOCK_HEADER + std::mem::size_of::<T>();
        let offset = (ptr as usize).wrapping_sub(self.base.as_ptr() as usize);
        if ptr.is_null() || offset < tail || offset > self.size || len > self.size - offset {
            return &mut [];
        }
        // SAFETY: inside the block (checked), initialised, and reached only
        // through this `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }
    }

    /// Two regions [`Block::reserve`] gave, at once (they do not overlap).
    pub(crate) fn two_mut(
        &mut self,
        first: *mut u8,
        first_len: usize,
        second: *mut u8,
        second_len: usize,
    ) -> (&mut [u8], &mut [u8]) {
        let a = self.bytes_mut(first, first_len) as *mut [u8];
        let b = self.bytes_mut(second, second_len);
        // SAFETY: both are inside the block (checked by bytes_mut) and disjoint:
        // reserve hands out each byte once.
        (unsafe { &mut *a }, b)
    }

    /// Copies `bytes` into the tail; NULL when empty.
    pub(crate) fn put_bytes(&mut self, bytes: &[u8]) -> Result<*mut u8> {
        let ptr = self.reserve(bytes.len())?;
        self.bytes_mut(ptr, bytes.len()).copy_from_slice(bytes);
        Ok(ptr)
    }

    /// Copies `s` and its NUL into the tail.
    pub(crate) fn put_str(&mut self, s: &str) -> Result<*mut std::ffi::c_char> {
        let ptr = self.reserve(s.len() + 1)?;
        // The last byte stays the zeroed NUL.
        self.bytes_mut(ptr, s.len()).copy_from_slice(s.as_bytes());
        Ok(ptr.cast())
    }

    /// Bytes a string field takes in the tail.
    pub(crate) fn str_len(s: &str) -> usize {
        s.len() + 1
    }

    /// Bytes the string fields take in the tail ([`Block::put_strs`]).
    pub(crate) fn strs_len<const N: usize>(strings: &[&str; N]) -> usize {
        strings
            .iter()
            .fold(0usize, |sum, s| sum.saturating_add(s.len() + 1))
    }

    /// Copies each string and its NUL into the tail, one after the other, and
    /// returns where each starts: [`Block::put_str`] for several strings with one
    /// bounds check (the per-string checks and results were a measurable part of
    /// a small response).
    pub(crate) fn put_strs<const N: usize>(
        &mut self,
        strings: [&str; N],
    ) -> Result<[*mut std::ffi::c_char; N]> {
        let total = Block::<T>::strs_len(&strings);
        let mut at = self.reserve(total)?;
        let mut starts = [std::ptr::null_mut(); N];
        for (start, s) in starts.iter_mut().zip(strings) {
            // SAFETY: `reserve` gave `total` bytes at `at`, one string and its NUL
            // after the other, inside the block; a &str never overlaps the block
            // (the block is not handed out before it is complete).
            unsafe {
                std::ptr::copy_nonoverlapping(s.as_ptr(), at, s.len());
                // The NUL is already there (the block is zeroed); the cursor
                // steps over it.
                *start = at.cast();
                at = at.add(s.len() + 1);
            }
        }
        Ok(starts)
    }
}

impl<T> Drop for Block<T> {
    fn drop(&mut self) {
        // SAFETY: the block was allocated with this size and never handed over.
        unsafe { free_raw(self.base.as_ptr(), self.size, self.wipe) };
    }
}

/// Wipes (when `wipe`) and frees a block.
///
/// # Safety
/// `base` is a live block of `size` bytes from [`Block::new`].
unsafe fn free_raw(base: *mut u8, size: usize, wipe: bool) {
    if wipe {
        // SAFETY: `size` bytes of the live block. Kept although the memory is
        // freed next (see crypto::wipe), at memset speed.
        let all = unsafe { std::slice::from_raw_parts_mut(base, size) };
        crate::crypto::wipe(all);
    }
    if let Ok(layout) = block_layout(size) {
        // SAFETY: allocated with this layout in Block::new.
        unsafe { std::alloc::dealloc(base, layout) };
    }
}

/// Where a call builds its one-block response: empty until the service asks for
/// room (the `room` methods of the output traits put the block here), handed
/// over by [`respond_block`] and freed if the call fails after that.
///
/// The block stays in this slot from the moment it is made until the caller
/// gets its pointer: it is never moved into a `Result`. Moving it (an
/// `Option<Block>` turned into a `Result<Block, Error>`) copied its fields with
/// 16-byte loads right after the 8-byte stores that wrote them, a
/// store-forwarding stall (keeping it here took 4.5 ns off a 64-byte
/// AdvanceEncrypt).
pub(crate) struct BlockSlot<T>(Option<Block<T>>);

impl<T> BlockSlot<T> {
    /// Keeps `block` as the response and returns it, to be filled in place: a
    /// block filled on the stack and then moved here was copied with the same
    /// stall.
    pub(crate) fn put(&mut self, block: Block<T>) -> &mut Block<T> {
        self.0.insert(block)
    }

    /// The response block, once made.
    pub(crate) fn block_mut(&mut self) -> Option<&mut Block<T>> {
        self.0.as_mut()
    }

    /// Hands the block over: the pointer the caller frees with [`free_block`].
    /// The slot is empty afterwards. By `&mut self`: taking the slot by value
    /// copied it the same way.
    fn hand_over(&mut self) -> Result<*mut T> {
        let Some(block) = &self.0 else {
            return Err(crate::Error::internal(
                "The call returned without a response.",
            ));
        };
        let ptr = block.struct_ptr();
        std::mem::forget(self.0.take());
        Ok(ptr)
    }
}

/// The body of every function that returns a one-block response: inside the
/// panic guard, checks `response_out`, runs `call` with an empty [`BlockSlot`],
/// and hands the block over only when `call` succeeded and made one.
///
/// # Safety
/// `response_out` is NULL or writable; `error` is NULL or writable.
pub(crate) unsafe fn respond_block<T>(
    error: *mut kms_error,
    response_out: *mut *mut T,
    call: impl FnOnce(&mut BlockSlot<T>) -> Result<()>,
) -> kms_status {
    // SAFETY: `error` is NULL or writable, per this function's contract.
    let error = unsafe { ErrorOut::new(error) };
    guard(error, || {
        out_ptr(response_out, "response_out")?;
        let mut slot = BlockSlot(None);
        call(&mut slot)?;
        let response = slot.hand_over()?;
        // SAFETY: checked non-NULL; writable per the contract above.
        unsafe { *response_out = response };
        Ok(())
    })
}

/// Frees a response from [`respond_block`], wiping all of it when `wipe`; NULL is
/// a no-op. The struct's fields are not read: a caller that changed them frees
/// the block all the same.
///
/// # Safety
/// `response` is NULL or came from [`respond_block`] and was not freed before.
pub(crate) unsafe fn free_block<T>(response: *mut T, wipe: bool) {
    if response.is_null() {
        return;
    }
    // SAFETY: per the contract, the struct sits BLOCK_HEADER bytes into a block
    // whose first word is its size.
    unsafe {
        let base = response.cast::<u8>().sub(BLOCK_HEADER);
        let size = base.cast::<usize>().read();
        free_raw(base, size, wipe);
    }
}
