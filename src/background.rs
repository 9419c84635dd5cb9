//! Work a client leaves running after the call that started it has returned: the cancels of
//! abandoned starts and waits. Counted per client and for the whole process, so that a binding
//! can let them finish before it shuts its runtime (or its interpreter) down, also those of
//! clients already dropped.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::runtime::{self, MaybeSend};

#[derive(Default)]
pub(crate) struct Background {
    running: Arc<AtomicUsize>,
}

/// Tasks running in the background for every client of the process, dropped ones included.
static RUNNING_IN_PROCESS: AtomicUsize = AtomicUsize::new(0);

/// Counts one task until dropped (finished, or dropped by a runtime that shut down).
struct Running(Arc<AtomicUsize>);

impl Running {
    fn start(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        RUNNING_IN_PROCESS.fetch_add(1, Ordering::SeqCst);
        Running(count.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
        RUNNING_IN_PROCESS.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Background {
    /// Runs `task` detached; false when there is no runtime to run it on.
    pub(crate) fn spawn<F>(&self, task: F) -> bool
    where
        F: Future<Output = ()> + MaybeSend + 'static,
    {
        let running = Running::start(&self.running);
        runtime::spawn_detached(async move {
            let _running = running;
            task.await;
        })
    }

    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Waits until no task of this client runs, at most `timeout`; true if none is left.
    pub(crate) async fn idle(&self, timeout: Duration) -> bool {
        until_none_left(|| self.running(), timeout).await
    }
}

/// Waits, at most `timeout`, until the background work of every client of the process has
/// finished (the cancels of abandoned starts and waits), those of clients already dropped
/// included; true if none is left. For a program about to exit: an interpreter's exit hook, a
/// JVM shutdown hook, the end of `main`. [`Client::wait_for_cleanup`](crate::Client::wait_for_cleanup)
/// waits for one client's.
///
/// ```no_run
/// # async fn run() {
/// if !safeconv::wait_for_background_work(std::time::Duration::from_secs(5)).await {
///     eprintln!("a session may stay open at Signicat until it expires");
/// }
/// # }
/// ```
pub async fn wait_for_background_work(timeout: Duration) -> bool {
    until_none_left(|| RUNNING_IN_PROCESS.load(Ordering::SeqCst), timeout).await
}

async fn until_none_left(running: impl Fn() -> usize, timeout: Duration) -> bool {
    const STEP: Duration = Duration::from_millis(10);
    let deadline = runtime::now_unix_ms().saturating_add(timeout.as_millis() as i64);
    while running() > 0 {
        if runtime::now_unix_ms() >= deadline {
            return false;
        }
        runtime::sleep(STEP).await;
    }
    true
}
