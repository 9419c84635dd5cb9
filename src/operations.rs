//! A registry of running operations, for bindings that hand their callers an id or a handle to
//! cancel by (a C operation id, a JavaScript `AbortSignal`, a Kotlin `Job`): each operation
//! gets a [`CancelToken`], and the registry can cancel one, or all of them when it closes or
//! is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::cancel::CancelToken;
use crate::error::{Error, Result};

/// Ids are unique within the process, across registries, and never 0.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Running operations by id. Dropping the registry cancels every operation still running.
///
/// ```
/// let operations = safeconv::Operations::new();
/// let op = operations.start().unwrap();
/// assert!(operations.cancel(op.id()));
/// assert!(op.cancel_token().is_cancelled());
/// drop(op);                                   // finished: unregistered
/// assert!(!operations.cancel(1_000_000));
/// operations.close();                         // cancels what runs, refuses new ones
/// assert!(operations.start().is_err());
/// ```
#[derive(Default)]
pub struct Operations {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    #[cfg(not(target_arch = "wasm32"))]
    idle: std::sync::Condvar,
}

#[derive(Default)]
struct State {
    running: HashMap<u64, CancelToken>,
    closed: bool,
}

/// One running operation; it unregisters itself when dropped.
#[derive(Debug)]
pub struct Operation {
    shared: Arc<Shared>,
    id: u64,
    cancel: CancelToken,
}

impl Operations {
    /// An empty registry.
    pub fn new() -> Self {
        Operations::default()
    }

    /// Registers a new operation; [`Error::Cancelled`] once the registry is closed.
    pub fn start(&self) -> Result<Operation> {
        let mut state = self.shared.lock();
        if state.closed {
            return Err(Error::cancelled("the client is shutting down"));
        }
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let cancel = CancelToken::new();
        state.running.insert(id, cancel.clone());
        Ok(Operation {
            shared: self.shared.clone(),
            id,
            cancel,
        })
    }

    /// Cancels the operation `id`; false if it is not running (finished, or never was).
    pub fn cancel(&self, id: u64) -> bool {
        match self.shared.lock().running.get(&id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Refuses new operations and cancels the running ones.
    pub fn close(&self) {
        let mut state = self.shared.lock();
        state.closed = true;
        for token in state.running.values() {
            token.cancel();
        }
    }

    /// How many operations are running.
    pub fn running(&self) -> usize {
        self.shared.lock().running.len()
    }

    /// Blocks the calling thread until no operation runs, at most `timeout`; true if none is
    /// left. Not for async code (it would block the executor).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn wait_idle(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut state = self.shared.lock();
        while !state.running.is_empty() {
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .shared
                .idle
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        true
    }
}

impl Drop for Operations {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for Operations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operations")
            .field("running", &self.running())
            .finish()
    }
}

impl Operation {
    /// The operation's id: unique in the process, never 0.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The token that cancels this operation; hand it to the core call.
    pub fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.running.remove(&self.id);
        #[cfg(not(target_arch = "wasm32"))]
        if state.running.is_empty() {
            self.shared.idle.notify_all();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Only whole insertions and removals happen under the lock; a panic cannot tear it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ids_are_unique_and_cancel_finds_only_running_ones() {
        let ops = Operations::new();
        let a = ops.start().unwrap();
        let b = ops.start().unwrap();
        assert_ne!(a.id(), b.id());
        assert_ne!(a.id(), 0);
        assert!(ops.cancel(b.id()));
        assert!(b.cancel_token().is_cancelled() && !a.cancel_token().is_cancelled());
        let id = a.id();
        drop(a);
        assert!(!ops.cancel(id));
        assert_eq!(ops.running(), 1);
    }

    #[test]
    fn dropping_the_registry_cancels_what_runs() {
        let ops = Operations::new();
        let op = ops.start().unwrap();
        drop(ops);
        assert!(op.cancel_token().is_cancelled());
    }

    #[test]
    fn wait_idle_returns_when_the_last_operation_ends() {
        let ops = Operations::new();
        assert!(ops.wait_idle(Duration::ZERO));
        let op = ops.start().unwrap();
        assert!(!ops.wait_idle(Duration::from_millis(20)));
        let ender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(op);
        });
        assert!(ops.wait_idle(Duration::from_secs(5)));
        ender.join().unwrap();
    }
}
