//! Pointers in, owned buffers out.

use std::ffi::{c_char, CStr, CString};

use crate::error::{Error, Result};

/// An optional C string: NULL is `None`; not UTF-8 is InvalidParameter.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that lives for `'a`.
#[inline]
pub(crate) unsafe fn opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated per the contract above.
    let s = unsafe { CStr::from_ptr(ptr) };
    match s.to_str() {
        Ok(s) => Ok(Some(s)),
        Err(_) => Err(not_utf8(name)),
    }
}

// The error paths of the conversions every call makes are out of line (`cold`), so
// that the conversions themselves inline into each exported function.
#[cold]
fn not_utf8(name: &str) -> Error {
    Error::invalid_parameter(name, "It is not valid UTF-8.")
}

/// A required C string: NULL (or empty) is MissingParameter.
///
/// # Safety
/// As for [`opt_str`].
#[inline]
pub(crate) unsafe fn req_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    // SAFETY: forwarded contract.
    match unsafe { opt_str(ptr, name) }? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(Error::missing_parameter(name)),
    }
}

/// A byte input: `(NULL, 0)` is the empty slice, `(NULL, n > 0)` is
/// InvalidParameter. A slice is never built from NULL.
///
/// # Safety
/// A non-NULL `ptr` points to `len` readable bytes that live for `'a`.
#[inline]
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(null_with_length(name, len));
    }
    if len > isize::MAX as usize {
        return Err(too_long(name));
    }
    // SAFETY: non-NULL, `len` readable bytes per the contract above.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

#[cold]
fn null_with_length(name: &str, len: usize) -> Error {
    Error::invalid_parameter(
        name,
        format!("The pointer is NULL but the length is {len}."),
    )
}

#[cold]
fn too_long(name: &str) -> Error {
    Error::invalid_parameter(name, "The length is too large.")
}

/// Checks that an output pointer is not NULL.
#[inline]
pub(crate) fn out_ptr<T>(ptr: *mut T, name: &str) -> Result<()> {
    if ptr.is_null() {
        Err(Error::missing_parameter(name))
    } else {
        Ok(())
    }
}

/// A library-owned C string, freed with `kms_string_free` or a response's free.
pub(crate) fn into_c_string(s: String) -> Result<*mut c_char> {
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| Error::internal("An output string contained a NUL byte."))
}

/// Frees a string from [`into_c_string`]; NULL is a no-op.
///
/// # Safety
/// `ptr` is NULL or came from [`into_c_string`] and was not freed before.
pub(crate) unsafe fn free_c_string(ptr: *mut c_char) {
    if !ptr.is_null() {
        // SAFETY: per the contract, `ptr` came from CString::into_raw.
        drop(unsafe { CString::from_raw(ptr) });
    }
}
