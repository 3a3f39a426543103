//! Building, handing over and freeing the C response structs, once for all of
//! them.

use super::convert::out_ptr;
use super::guard::guard;
use super::status::{kms_error, kms_status, ErrorOut};
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

/// The body of every function that returns a response: inside the panic guard,
/// checks `response_out`, runs `call`, and hands its response over only on
/// success.
///
/// # Safety
/// `response_out` is NULL or writable; `error` is NULL or writable.
pub(crate) unsafe fn respond<T: CResponse>(
    error: *mut kms_error,
    response_out: *mut *mut T,
    call: impl FnOnce() -> Result<Box<T>>,
) -> kms_status {
    // SAFETY: `error` is NULL or writable, per this function's contract.
    let error = unsafe { ErrorOut::new(error) };
    guard(error, || {
        out_ptr(response_out, "response_out")?;
        let response = call()?;
        // SAFETY: checked non-NULL; writable per the contract above.
        unsafe { *response_out = Box::into_raw(response) };
        Ok(())
    })
}

/// Frees a response the caller got from [`respond`]; NULL is a no-op.
///
/// # Safety
/// `response` is NULL or came from [`respond`] and was not freed before.
pub(crate) unsafe fn free<T: CResponse>(response: *mut T) {
    if response.is_null() {
        return;
    }
    // SAFETY: per the contract above, from Box::into_raw in `respond`.
    let mut boxed = unsafe { Box::from_raw(response) };
    // SAFETY: the fields were allocated by this library for this response.
    unsafe { boxed.free_fields() };
}
