//! The random sources of the library.
//!
//! - [`fill_random`]: the operating system's generator (a `getrandom` system call),
//!   for everything secret or long-lived: key material, master keys, data keys,
//!   salts, the nonces that seal the store's rows, KeyIds and KeyVersionIds.
//! - [`fill_nonce`]: a ChaCha12 generator per thread (`rand`'s `StdRng`) seeded
//!   from the OS generator, for the values every call needs that must be
//!   unpredictable but are not secret: the random IVs of the encrypt path and
//!   RequestIds. It keeps a system call off the encrypt path, where it was most
//!   of the cost of a small message. It is reseeded from the OS every 1 MiB of
//!   output and, in a forked child, before its first draw.
//!
//! Why not `rand::thread_rng()` itself: its fork protection reseeds only when its
//! 256-byte output buffer runs dry, so a child forked after a draw first hands out
//! the rest of the buffer it shares with its parent (tests/fork_random.rs caught
//! parent and child drawing the same IV). Here a `pthread_atfork` handler counts
//! forks, and a generator made before the last fork is never used again.
//!
//! Key material keeps the OS generator: it outlives the call, and a user-space
//! generator's state (from which its next outputs follow) lives in the process's
//! memory until the thread ends.
//!
//! One of the crate's few uses of `unsafe` outside `src/ffi/`: registering the
//! atfork handler.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use rand::rngs::{OsRng, StdRng};
use rand::{RngCore, SeedableRng};

use crate::error::{Error, Result};

/// Fills `buf` from the operating system's generator. A failing generator is an
/// error, never a fallback (docs/c-api.md §5).
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    OsRng.try_fill_bytes(buf).map_err(os_failed)
}

fn os_failed(e: rand::Error) -> Error {
    Error::internal(format!("The operating system's random source failed: {e}"))
}

/// Output of one seed before the next is drawn from the OS.
const RESEED_AFTER: usize = 1 << 20;

/// Forks this process has made since the handler was installed, counted in
/// each child.
static FORKS: AtomicU64 = AtomicU64::new(0);
static COUNT_FORKS: Once = Once::new();

extern "C" fn count_fork_in_child() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// A thread's generator and what it may still give before a reseed.
struct ThreadGenerator {
    /// [`FORKS`] when it was seeded: another value means this is a forked child.
    forks: u64,
    left: usize,
    rng: StdRng,
}

impl ThreadGenerator {
    fn seed() -> Result<ThreadGenerator> {
        COUNT_FORKS.call_once(|| {
            // SAFETY: the handler only increments a static atomic. A failure
            // (out of memory) is not ignored: see below.
            let installed =
                unsafe { libc::pthread_atfork(None, None, Some(count_fork_in_child)) } == 0;
            if !installed {
                // Without the handler a child could repeat its parent's IVs: no
                // generator is ever reused (u64::MAX is never a count).
                FORKS.store(u64::MAX, Ordering::Relaxed);
            }
        });
        let forks = FORKS.load(Ordering::Relaxed);
        Ok(ThreadGenerator {
            forks,
            left: if forks == u64::MAX { 0 } else { RESEED_AFTER },
            rng: StdRng::from_rng(OsRng).map_err(os_failed)?,
        })
    }
}

thread_local! {
    static GENERATOR: RefCell<Option<ThreadGenerator>> = const { RefCell::new(None) };
}

/// Fills `buf` from this thread's user-space CSPRNG (see the top of this file):
/// for IVs and RequestIds only. A failing OS generator (at a seed) is an error.
pub fn fill_nonce(buf: &mut [u8]) -> Result<()> {
    GENERATOR
        .try_with(|cell| {
            let mut slot = cell.borrow_mut();
            let forks = FORKS.load(Ordering::Relaxed);
            let usable = slot
                .as_ref()
                .is_some_and(|g| g.forks == forks && g.left >= buf.len());
            if !usable {
                *slot = Some(ThreadGenerator::seed()?);
            }
            let generator = slot
                .as_mut()
                .ok_or_else(|| Error::internal("The thread's random generator is missing."))?;
            generator.rng.fill_bytes(buf);
            generator.left = generator.left.saturating_sub(buf.len());
            Ok(())
        })
        // A thread that is ending: the OS generator directly.
        .unwrap_or_else(|_| fill_random(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_differ_between_draws_and_threads() {
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        fill_nonce(&mut a).unwrap();
        fill_nonce(&mut b).unwrap();
        assert_ne!(a, b);
        let c = std::thread::spawn(|| {
            let mut c = [0u8; 16];
            fill_nonce(&mut c).unwrap();
            c
        })
        .join()
        .unwrap();
        assert_ne!(a, c);
        assert_ne!(b, c);
    }

    #[test]
    fn large_draws_reseed_and_go_on() {
        let mut big = vec![0u8; RESEED_AFTER + 1];
        fill_nonce(&mut big).unwrap();
        fill_nonce(&mut big).unwrap();
        assert!(big.iter().any(|&b| b != 0));
    }
}
