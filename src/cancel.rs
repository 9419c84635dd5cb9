//! Cancelling from elsewhere: a token that another task, thread or UI button trips, and that a
//! wait or a start watches.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_util::future::{Either, select};

use crate::error::{Error, Result};

/// Stops a [`Client::wait`](crate::Client::wait) or a
/// [`Client::start_safe_conversation_with`](crate::Client::start_safe_conversation_with) from
/// elsewhere (another task or thread, a UI button, a signal handler). Clones share the same
/// state.
///
/// ```
/// let token = safeconv::CancelToken::new();
/// let for_button = token.clone();
/// for_button.cancel();
/// assert!(token.is_cancelled());
/// ```
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<CancelState>,
}

#[derive(Default)]
struct CancelState {
    cancelled: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Cancels: every wait and start using this token stops. Idempotent.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        let wakers = std::mem::take(&mut *self.lock_wakers());
        for waker in wakers {
            waker.wake();
        }
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Completes once the token is cancelled.
    pub fn cancelled(&self) -> impl Future<Output = ()> + Send + 'static {
        Cancelled {
            token: self.clone(),
        }
    }

    /// Runs `call` unless the token is (or becomes) cancelled first: then `call` is dropped
    /// and the answer is [`Error::Cancelled`]. For calls that are safe to drop half way — reads
    /// and cancels; a start has its own rule ([`Client::start_safe_conversation_with`]).
    ///
    /// [`Client::start_safe_conversation_with`]: crate::Client::start_safe_conversation_with
    ///
    /// ```
    /// # futures_executor_block_on(async {
    /// let token = safeconv::CancelToken::new();
    /// token.cancel();
    /// let answer = token.run(async { Ok::<_, safeconv::Error>(42) }).await;
    /// assert!(matches!(answer, Err(safeconv::Error::Cancelled { .. })));
    /// # });
    /// # fn futures_executor_block_on(f: impl std::future::Future<Output = ()>) {
    /// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub async fn run<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        if self.is_cancelled() {
            return Err(Error::cancelled(
                "the operation was cancelled before it began",
            ));
        }
        match select(pin!(call), pin!(self.cancelled())).await {
            Either::Left((answer, _)) => answer,
            Either::Right(_) => Err(Error::cancelled("the operation was cancelled")),
        }
    }

    /// Whether two handles are clones of one token.
    pub(crate) fn same_as(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn lock_wakers(&self) -> std::sync::MutexGuard<'_, Vec<Waker>> {
        self.inner
            .wakers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

struct Cancelled {
    token: CancelToken,
}

impl Future for Cancelled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.token.is_cancelled() {
            return Poll::Ready(());
        }
        let mut wakers = self.token.lock_wakers();
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        drop(wakers);
        // A cancel between the first check and the registration must not be missed.
        if self.token.is_cancelled() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
