//! Work a client leaves running after the call that started it has returned: the cancels of
//! abandoned starts and waits. Counted, so that a binding can let them finish before it shuts
//! its runtime down.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::runtime::{self, MaybeSend};

#[derive(Default)]
pub(crate) struct Background {
    running: Arc<AtomicUsize>,
}

/// Counts one task until dropped (finished, or dropped by a runtime that shut down).
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Background {
    /// Runs `task` detached; false when there is no runtime to run it on.
    pub(crate) fn spawn<F>(&self, task: F) -> bool
    where
        F: Future<Output = ()> + MaybeSend + 'static,
    {
        self.running.fetch_add(1, Ordering::SeqCst);
        let running = Running(self.running.clone());
        runtime::spawn_detached(async move {
            let _running = running;
            task.await;
        })
    }

    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Waits until no task runs, at most `timeout`; true if none is left.
    pub(crate) async fn idle(&self, timeout: Duration) -> bool {
        const STEP: Duration = Duration::from_millis(10);
        let deadline = runtime::now_unix_ms().saturating_add(timeout.as_millis() as i64);
        while self.running() > 0 {
            if runtime::now_unix_ms() >= deadline {
                return false;
            }
            runtime::sleep(STEP).await;
        }
        true
    }
}
