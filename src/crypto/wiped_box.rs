//! A box whose memory is wiped, every byte of it, once its value is dropped and
//! before it is freed.
//!
//! The cipher crates' own `Drop` leaves secrets in the memory of a value it
//! "wipes", and only a wipe of the raw bytes reaches them (found by
//! tests/secrets_in_freed_memory.rs):
//! - aes 0.8's `Aes128/192/256` are a union of the AES-NI schedule (15 × 16 bytes
//!   each way for AES-256) and the twice larger bitsliced one. With AES-NI the
//!   union's second half is never written as a field: it holds whatever bytes
//!   were on the stack where the value was built and moved from, stale copies of
//!   the key among them, and `Drop` wipes only the schedule in use.
//! - polyval 0.6's autodetecting `Polyval` (inside ghash, inside aes-gcm) is a
//!   union of `ManuallyDrop` backends with no `Drop` of its own, so its backends'
//!   zeroizing `Drop` never runs, whatever the `zeroize` feature: the POLYVAL key,
//!   H in another form, would survive the freeing of the key.
//!
//! This is one of the crate's few uses of `unsafe` outside `src/ffi/`: no safe code can
//! write bytes that are not a field of a live value.

use std::mem::{ManuallyDrop, MaybeUninit};
use zeroize::Zeroize;

pub(crate) struct WipedBox<T>(ManuallyDrop<Box<T>>);

impl<T> WipedBox<T> {
    pub(crate) fn new(value: T) -> WipedBox<T> {
        WipedBox(ManuallyDrop::new(Box::new(value)))
    }
}

impl<T> std::ops::Deref for WipedBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Drop for WipedBox<T> {
    fn drop(&mut self) {
        // SAFETY: the box is taken out once, here, and `self.0` is not used again.
        let raw = Box::into_raw(unsafe { ManuallyDrop::take(&mut self.0) });
        // SAFETY: `raw` is the owned, live allocation of a `T` from `Box::new`:
        // its value is dropped exactly once; its memory, dead from then on, is
        // taken back as a `MaybeUninit<T>` (same layout, valid for any bytes) by
        // a box of the same layout, which frees it.
        let mut dead: Box<MaybeUninit<T>> = unsafe {
            std::ptr::drop_in_place(raw);
            Box::from_raw(raw.cast::<MaybeUninit<T>>())
        };
        // Volatile: not optimised away although the memory is freed next.
        dead.zeroize();
    }
}
