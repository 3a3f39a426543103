//! Building, handing over and freeing the C response structs, once for all of
//! them.

use crate::error::Result;

/// A `#[repr(C)]` response of library-owned pointers and lengths.
pub(crate) trait CResponse: Sized {
    /// Every pointer NULL and every length 0.
    fn empty() -> Self;

    /// Frees every field that is not NULL, wiping secret ones first.
    ///
    /// # Safety
    /// Every pointer field is NULL or was allocated by this library for this
    /// response and not freed before.
    unsafe fn free_fields(&mut self);
}

/// Builds a response: `fill` sets its fields one by one; if it fails half-way,
/// what it set is freed and nothing leaks.
pub(crate) fn build<T: CResponse>(fill: impl FnOnce(&mut T) -> Result<()>) -> Result<Box<T>> {
    let mut out = Box::new(T::empty());
    match fill(&mut out) {
        Ok(()) => Ok(out),
        Err(e) => {
            // SAFETY: the fields are NULL or were just set by `fill` from this
            // library's allocations.
            unsafe { out.free_fields() };
            Err(e)
        }
    }
}

/// Hands a response to the caller through `out` (checked non-NULL before).
///
/// # Safety
/// `out` is writable.
pub(crate) unsafe fn hand_over<T: CResponse>(out: *mut *mut T, response: Box<T>) {
    // SAFETY: per the contract above.
    unsafe { *out = Box::into_raw(response) };
}

/// Frees a response the caller got from [`hand_over`]; NULL is a no-op.
///
/// # Safety
/// `response` is NULL or came from [`hand_over`] and was not freed before.
pub(crate) unsafe fn free<T: CResponse>(response: *mut T) {
    if response.is_null() {
        return;
    }
    // SAFETY: per the contract above, from Box::into_raw in `hand_over`.
    let mut boxed = unsafe { Box::from_raw(response) };
    // SAFETY: the fields were allocated by this library for this response.
    unsafe { boxed.free_fields() };
}
