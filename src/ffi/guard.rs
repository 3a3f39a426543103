//! The one panic boundary every exported function runs in.
//!
//! A panic inside a `kms_*` call is caught and answered with
//! `KMS_STATUS_INTERNAL_FAILURE`; it never unwinds into the caller and prints
//! nothing on the host's stderr (the host owns its stderr, and a library must not
//! write to it). Panics elsewhere in the process still reach the hook that was in
//! place before: the library's hook stays silent only while the panicking thread is
//! inside a `kms_*` call.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use super::status::{kms_status, ErrorOut};
use crate::error::Error;

thread_local! {
    /// How many `kms_*` calls this thread is inside (a clock callback may call
    /// into the library, so calls can nest).
    static CALL_DEPTH: Cell<u32> = const { Cell::new(0) };
}

static INSTALL_HOOK: Once = Once::new();

/// Installs, once per process, a panic hook that is silent inside a `kms_*` call
/// and defers to the previous hook everywhere else.
fn install_silent_hook() {
    INSTALL_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let inside = CALL_DEPTH.try_with(|d| d.get() > 0).unwrap_or(false);
            if !inside {
                previous(info);
            }
        }));
    });
}

/// Counts this thread as inside a call for as long as it lives.
struct InsideCall;

impl InsideCall {
    fn enter() -> InsideCall {
        install_silent_hook();
        let _ = CALL_DEPTH.try_with(|d| d.set(d.get().saturating_add(1)));
        InsideCall
    }
}

impl Drop for InsideCall {
    fn drop(&mut self) {
        let _ = CALL_DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Runs `body` with panics caught; `None` when it panicked.
fn catch<T>(body: impl FnOnce() -> T) -> Option<T> {
    let _inside = InsideCall::enter();
    catch_unwind(AssertUnwindSafe(body)).ok()
}

/// Runs the body of a fallible exported function: a panic becomes
/// `InternalFailure`, an error is written to `error`, and the status is returned.
pub(crate) fn guard(error: ErrorOut, body: impl FnOnce() -> Result<(), Error>) -> kms_status {
    let failure = match catch(body) {
        Some(Ok(())) => return kms_status::Ok,
        Some(Err(e)) => e,
        None => Error::internal("The library caught a panic; the call had no effect."),
    };
    // Errors found before the service ran (NULL pointers, bad UTF-8) and caught
    // panics have no RequestId yet: every failed call gets one.
    let failure = if failure.request_id().is_empty() {
        let id = crate::ids::new_request_id().unwrap_or_default();
        failure.with_request_id(&id)
    } else {
        failure
    };
    // Building a fixed-size struct cannot panic; the guard still covers it.
    let _ = catch(|| error.write(&failure));
    kms_status::of(failure.kind())
}

/// The guard for functions that return nothing (the `kms_*_free` functions).
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = catch(body);
}

/// The guard for functions that return a value and cannot fail.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch(body).unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::status::kms_error;

    #[test]
    fn the_guard_turns_a_panic_into_internal_failure() {
        let mut error = std::mem::MaybeUninit::<kms_error>::uninit();
        // SAFETY: a writable kms_error.
        let out = unsafe { ErrorOut::new(error.as_mut_ptr()) };
        let status = guard(out, || panic!("boom"));
        assert_eq!(status, kms_status::InternalFailure);
        // SAFETY: a failing guard writes the whole struct.
        let error = unsafe { error.assume_init() };
        assert_eq!(error.http_status, 500);
        let code: Vec<u8> = error
            .code
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        assert_eq!(code, b"InternalFailure");
        assert_ne!(error.request_id[0], 0);
    }

    #[test]
    fn the_depth_is_back_to_zero_after_a_caught_panic() {
        guard_void(|| panic!("inside"));
        assert_eq!(CALL_DEPTH.with(Cell::get), 0);
        assert_eq!(guard_value(7, || guard_value(8, || panic!("nested"))), 8);
        assert_eq!(CALL_DEPTH.with(Cell::get), 0);
    }
}
