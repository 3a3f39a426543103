//! The gate that keeps `fork()` from splitting a database operation in two.
//!
//! SQLite (and any client library) holds process-wide mutexes while it works; a
//! child forked while another thread is inside it inherits those mutexes locked,
//! and its first database call would wait for ever. Every database operation of
//! the store runs holding this gate for reading; a `pthread_atfork` handler takes
//! it for writing before the fork (so no operation is under way when the process
//! is copied) and lets go of it in the parent and the child. A child can then go
//! on using a client opened before the fork.
//!
//! This file is one of the crate's few uses of `unsafe` outside `src/ffi/`: a
//! `pthread_rwlock_t` that the atfork handlers can lock and unlock, which no safe
//! lock allows.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

struct Gate(UnsafeCell<libc::pthread_rwlock_t>);

// SAFETY: a pthread rwlock is made to be shared between threads.
unsafe impl Sync for Gate {}

static GATE: Gate = Gate(UnsafeCell::new(libc::PTHREAD_RWLOCK_INITIALIZER));
static INSTALL: Once = Once::new();
/// How many forks lie between the process that first entered the gate and this
/// one (0 in that process, 1 in its child, ...).
static FORKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn before_fork() {
    // SAFETY: the static rwlock, initialised statically.
    unsafe { libc::pthread_rwlock_wrlock(GATE.0.get()) };
}

extern "C" fn in_parent_after_fork() {
    // SAFETY: held by this thread since before_fork.
    unsafe { libc::pthread_rwlock_unlock(GATE.0.get()) };
}

extern "C" fn in_child_after_fork() {
    // The child's one thread has another thread id than the one that locked the
    // gate, so glibc would not take its unlock for the writer's: the gate is made
    // anew instead (nothing else runs in the child yet).
    // SAFETY: the static rwlock, which no thread of the child holds or waits on.
    unsafe { GATE.0.get().write(libc::PTHREAD_RWLOCK_INITIALIZER) };
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// How many forks lie between the process that first entered the gate and this
/// one: a value taken before a fork differs in the child, whose threads other
/// than the forking one did not come along.
pub(crate) fn forks() -> u64 {
    FORKS.load(Ordering::Relaxed)
}

/// Held while a database operation runs.
pub(crate) struct Passage(());

/// Enters the gate (waiting while a fork is being prepared).
pub(crate) fn enter() -> Passage {
    INSTALL.call_once(|| {
        // SAFETY: handlers that only lock and unlock the static rwlock. A failure
        // (out of memory) leaves fork unguarded, as it was before.
        unsafe {
            libc::pthread_atfork(
                Some(before_fork),
                Some(in_parent_after_fork),
                Some(in_child_after_fork),
            )
        };
    });
    // SAFETY: the static rwlock, initialised statically; read locks may nest.
    unsafe { libc::pthread_rwlock_rdlock(GATE.0.get()) };
    Passage(())
}

impl Drop for Passage {
    fn drop(&mut self) {
        // SAFETY: this thread holds a read lock taken in `enter`.
        unsafe { libc::pthread_rwlock_unlock(GATE.0.get()) };
    }
}
