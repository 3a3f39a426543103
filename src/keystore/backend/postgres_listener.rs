//! The PostgreSQL store's listener: a thread with a connection of its own that
//! follows [`CHANNEL`] (every change is announced inside its transaction, so the
//! notification arrives when it commits), reconnects with back-off when the
//! connection is lost, and says whether it currently hears every change.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;

use super::postgres::{describe, io, PostgresLocation, CHANNEL, CONNECT_TIMEOUT};
use crate::error::Result;

/// How long the listener waits for a notification before it looks at its stop
/// flag again.
const LISTEN_POLL: Duration = Duration::from_millis(200);
/// How long an idle listener goes before it checks that its connection lives
/// (a server that vanished without closing the connection).
const LISTEN_CHECK: Duration = Duration::from_secs(30);
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// A thread following [`CHANNEL`]; see [`listen`]. Dropping it asks the thread
/// to stop without waiting for it.
#[cfg_attr(not(test), allow(dead_code))] // stop() and is_running() serve the tests
pub(crate) struct Listener {
    stop: Arc<AtomicBool>,
    /// True while LISTEN is in force on a live connection.
    healthy: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

#[cfg_attr(not(test), allow(dead_code))]
impl Listener {
    /// Stops the thread and waits for it: at most [`LISTEN_POLL`], or the
    /// connection timeout when it is reconnecting.
    pub(crate) fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }

    /// Whether the thread still runs (it ends only when stopped).
    pub(crate) fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// A flag that is true while the listener hears every change: its connection
    /// is up with LISTEN in force (false from the moment the connection is lost
    /// until it is made again and the changes missed meanwhile were announced).
    pub(crate) fn health(&self) -> Arc<AtomicBool> {
        self.healthy.clone()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A connection that listens on [`CHANNEL`].
fn listen_connection(location: &PostgresLocation) -> Result<Client> {
    let mut client = location
        .open("localkms-listen")
        .map_err(|e| io("cannot be reached", location.shown(), describe(&e)))?;
    client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .map_err(|e| io("cannot be listened to", location.shown(), describe(&e)))?;
    Ok(client)
}

/// Calls `on_change` for each change another client announces, on a thread of its
/// own with a connection of its own. The first connection is made before this
/// returns (its failure is the error; LISTEN is in force on return). When the
/// connection drops, the thread reconnects with back-off (100 ms doubling to 5 s)
/// and calls `on_change` once after reconnecting, as changes may have been
/// missed meanwhile. A panic in `on_change` is caught. The thread runs until
/// [`Listener::stop`] (or until the `Listener` is dropped).
pub(crate) fn listen(
    location: &PostgresLocation,
    on_change: impl Fn() + Send + 'static,
) -> Result<Listener> {
    let client = listen_connection(location)?;
    let stop = Arc::new(AtomicBool::new(false));
    let healthy = Arc::new(AtomicBool::new(true));
    let shown = location.shown().to_owned();
    let location = location.clone();
    let (flag, health) = (stop.clone(), healthy.clone());
    let thread = std::thread::Builder::new()
        .name("localkms-pg-listen".to_owned())
        .spawn(move || run_listener(&location, client, &flag, &health, &on_change))
        .map_err(|e| io("cannot be listened to", &shown, e))?;
    Ok(Listener {
        stop,
        healthy,
        thread: Some(thread),
    })
}

fn call(on_change: &impl Fn()) {
    let _ = catch_unwind(AssertUnwindSafe(on_change));
}

fn run_listener(
    location: &PostgresLocation,
    mut client: Client,
    stop: &AtomicBool,
    healthy: &AtomicBool,
    on_change: &impl Fn(),
) {
    loop {
        follow(&mut client, stop, on_change);
        healthy.store(false, Ordering::SeqCst);
        drop(client);
        let mut delay = RECONNECT_FIRST;
        client = loop {
            if sleep_unless_stopped(delay, stop) {
                return;
            }
            match listen_connection(location) {
                Ok(client) => break client,
                Err(_) => delay = (delay * 2).min(RECONNECT_MAX),
            }
        };
        if stop.load(Ordering::SeqCst) {
            return;
        }
        call(on_change);
        healthy.store(true, Ordering::SeqCst);
    }
}

/// Calls `on_change` for each notification until the connection is lost or the
/// listener is stopped.
fn follow(client: &mut Client, stop: &AtomicBool, on_change: &impl Fn()) {
    let mut last_seen = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        let next = client.notifications().timeout_iter(LISTEN_POLL).next();
        match next {
            Ok(Some(_)) => {
                last_seen = Instant::now();
                call(on_change);
            }
            Ok(None) => {
                if client.is_closed() {
                    return;
                }
                if last_seen.elapsed() >= LISTEN_CHECK {
                    if client.is_valid(CONNECT_TIMEOUT).is_err() {
                        return;
                    }
                    last_seen = Instant::now();
                }
            }
            Err(_) => return,
        }
    }
}

/// Sleeps `delay` in short steps; true when the listener was stopped meanwhile.
fn sleep_unless_stopped(delay: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + delay;
    loop {
        if stop.load(Ordering::SeqCst) {
            return true;
        }
        let now = Instant::now();
        if now >= until {
            return false;
        }
        std::thread::sleep((until - now).min(LISTEN_POLL));
    }
}
