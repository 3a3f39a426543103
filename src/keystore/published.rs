//! A value readers take without a lock (the store's current snapshot), whose
//! replaced values are dropped by writers, never by a reader.
//!
//! A reader holds the snapshot it read for one call. When a writer replaces the
//! snapshot meanwhile, the old one goes when its last holder lets go; if that
//! was the reader, the reader paid, inside its encrypt, for everything the old
//! snapshot held alone: after a rotation, the old copy of the key, its last
//! chunk of versions and the index nodes on its path, all allocated by another
//! thread (and, before versions were chunked, one reference count per version).
//! Here a writer keeps the value it replaced while anyone else holds it, and the
//! next writer drops it once no one does: a reader's reference is never the last.
//!
//! The cost: a replaced value that was being read when it was replaced lives on
//! until the next replacement (in a store, its next change), not until the reader
//! lets go. What it holds is what the current value held a change ago; key
//! material in it is wiped when it goes, as always.

use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, Guard};

pub struct Published<T> {
    current: ArcSwap<T>,
    /// Replaced values that another holder still had at the last replacement.
    retired: Mutex<Vec<Arc<T>>>,
}

impl<T> Published<T> {
    pub fn new(value: T) -> Published<T> {
        Published {
            current: ArcSwap::from_pointee(value),
            retired: Mutex::new(Vec::new()),
        }
    }

    /// The current value, for one call: a guard in a slot of the thread's own,
    /// so that threads reading the same value do not all write its count.
    pub fn load(&self) -> Guard<Arc<T>> {
        self.current.load()
    }

    /// The current value, to keep.
    pub fn load_full(&self) -> Arc<T> {
        self.current.load_full()
    }

    /// Makes `next` current.
    pub fn replace(&self, next: T) {
        let old = self.current.swap(Arc::new(next));
        self.retire(old);
    }

    /// Makes `update(current)` current, retrying if another writer replaced the
    /// value meanwhile (`update` may return the current value itself: no change).
    pub fn rcu(&self, mut update: impl FnMut(&Arc<T>) -> Arc<T>) {
        let mut made = None;
        let old = self.current.rcu(|now| {
            let next = update(now);
            made = Some(next.clone());
            next
        });
        // The value the last try made; `old` is what that try replaced.
        let kept = made.is_some_and(|made| Arc::ptr_eq(&made, &old));
        if !kept {
            self.retire(old);
        }
    }

    /// Keeps `old` while another holder has it; drops, here, every retired value
    /// no one else holds any more. A value not current is never handed out again,
    /// so a count of one (this list's) stays one: dropping it cannot race a
    /// reader. (`ArcSwap` turns each reader's guard of `old` into a counted
    /// reference before the swap returns, so the count sees those readers.)
    fn retire(&self, old: Arc<T>) {
        let mut done = Vec::new();
        {
            let mut retired = self.retired.lock().unwrap_or_else(|e| e.into_inner());
            let mut i = 0;
            while i < retired.len() {
                if Arc::strong_count(&retired[i]) == 1 {
                    done.push(retired.swap_remove(i));
                } else {
                    i += 1;
                }
            }
            if Arc::strong_count(&old) == 1 {
                done.push(old);
            } else {
                retired.push(old);
            }
        }
        // Dropped outside the lock: another writer need not wait for it.
        drop(done);
    }

    #[cfg(test)]
    fn retired_len(&self) -> usize {
        self.retired.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::thread::{self, ThreadId};

    /// Records the thread that dropped it.
    struct Tracked {
        dropped_by: mpsc::Sender<(u32, ThreadId)>,
        n: u32,
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            let _ = self.dropped_by.send((self.n, thread::current().id()));
        }
    }

    #[test]
    fn a_value_a_reader_held_is_dropped_by_the_next_writer_not_the_reader() {
        let (tx, drops) = mpsc::channel();
        let value = |n| Tracked {
            dropped_by: tx.clone(),
            n,
        };
        let published = Arc::new(Published::new(value(0)));
        let (to_reader, reader_rx) = mpsc::channel::<()>();
        let (to_writer, writer_rx) = mpsc::channel::<()>();
        let reader = {
            let published = published.clone();
            thread::spawn(move || {
                let guard = published.load();
                assert_eq!(guard.n, 0);
                to_writer.send(()).unwrap();
                reader_rx.recv().unwrap(); // the writer has replaced it
                drop(guard);
                to_writer.send(()).unwrap();
                thread::current().id()
            })
        };
        writer_rx.recv().unwrap();
        published.replace(value(1));
        assert_eq!(published.retired_len(), 1, "the reader still holds 0");
        assert!(drops.try_recv().is_err(), "nothing is dropped while read");
        to_reader.send(()).unwrap();
        writer_rx.recv().unwrap();
        assert!(
            drops.try_recv().is_err(),
            "the reader's drop was not the last"
        );
        let reader_id = reader.join().unwrap();
        published.replace(value(2));
        let (n, by) = drops.recv().unwrap();
        assert_eq!(n, 0);
        assert_eq!(by, thread::current().id(), "the writer dropped it");
        assert_ne!(by, reader_id);
        // 1 was held by no one when 2 replaced it: dropped at once.
        assert_eq!(drops.recv().unwrap().0, 1);
        assert_eq!(published.retired_len(), 0);
        assert_eq!(published.load().n, 2);
    }

    #[test]
    fn values_no_one_holds_are_not_kept() {
        let (tx, drops) = mpsc::channel();
        let published = Published::new(Tracked {
            dropped_by: tx.clone(),
            n: 0,
        });
        let kept = published.load_full();
        for n in 1..=1000 {
            published.rcu(|_| {
                Arc::new(Tracked {
                    dropped_by: tx.clone(),
                    n,
                })
            });
        }
        assert_eq!(published.retired_len(), 1, "only the value still held");
        assert_eq!(drops.try_iter().count(), 999);
        drop(kept);
        published.replace(Tracked {
            dropped_by: tx.clone(),
            n: 1001,
        });
        let dropped: Vec<u32> = drops.try_iter().map(|(n, _)| n).collect();
        assert_eq!(dropped, [0, 1000]);
        assert_eq!(published.retired_len(), 0);
    }

    #[test]
    fn an_update_that_keeps_the_current_value_retires_nothing() {
        let published = Published::new(7u32);
        let before = published.load_full();
        published.rcu(|now| now.clone());
        assert!(Arc::ptr_eq(&before, &published.load_full()));
        assert_eq!(published.retired_len(), 0);
    }
}
