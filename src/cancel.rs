//! Cancelling from elsewhere: a token that another task, thread or UI button trips, and that a
//! wait or a start watches.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
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
    /// Tokens made by [`CancelToken::child`], cancelled with this one.
    children: Mutex<Vec<Weak<CancelState>>>,
}

impl CancelState {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        for waker in std::mem::take(&mut *lock(&self.wakers)) {
            waker.wake();
        }
        for child in std::mem::take(&mut *lock(&self.children)) {
            if let Some(child) = child.upgrade() {
                child.cancel();
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Cancels: every wait and start using this token, or one of its
    /// [children](CancelToken::child), stops. Idempotent.
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// A new token that is cancelled when this one is (already, if this one is), and that can
    /// also be cancelled on its own without touching this one: for one call among several that
    /// share a token, so that giving up that call (its task cancelled, a stream left early)
    /// never stops the others.
    ///
    /// ```
    /// let hang_up = safeconv::CancelToken::new();       // shared by every call of one phone call
    /// let this_wait = hang_up.child();
    /// this_wait.cancel();                                // gives up this wait only
    /// assert!(!hang_up.is_cancelled());
    /// let next_wait = hang_up.child();
    /// hang_up.cancel();
    /// assert!(next_wait.is_cancelled());
    /// ```
    pub fn child(&self) -> CancelToken {
        let child = CancelToken::new();
        let mut children = lock(&self.inner.children);
        // Checked under the lock that `cancel` takes the children with: never missed.
        if self.is_cancelled() {
            child.cancel();
        } else {
            children.retain(|c| c.strong_count() > 0);
            children.push(Arc::downgrade(&child.inner));
        }
        child
    }

    /// Runs `operation` until it finishes or this token is cancelled, whichever comes first. On
    /// a cancel the operation is dropped and [`Error::Cancelled`] returned; cancelled
    /// beforehand, it never starts. For calls that are safe to abandon half way, such as
    /// [`Client::get_session`](crate::Client::get_session) and
    /// [`Client::cancel_session`](crate::Client::cancel_session) (idempotent); a start and a wait
    /// take the token themselves, because giving them up must cancel the session.
    ///
    /// ```
    /// # async fn run(client: safeconv::Client) {
    /// let cancel = safeconv::CancelToken::new();
    /// # cancel.cancel();
    /// match cancel.run_until_cancelled(client.get_session("s-1")).await {
    ///     Err(safeconv::Error::Cancelled { .. }) => println!("stopped"),
    ///     other => println!("{other:?}"),
    /// }
    /// # }
    /// ```
    pub async fn run_until_cancelled<T>(
        &self,
        operation: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let stopped = || Error::cancelled("the call was stopped before it finished");
        if self.is_cancelled() {
            return Err(stopped());
        }
        match select(pin!(operation), pin!(self.cancelled())).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => Err(stopped()),
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

    /// Whether two handles are clones of one token.
    pub(crate) fn same_as(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn lock_wakers(&self) -> MutexGuard<'_, Vec<Waker>> {
        lock(&self.inner.wakers)
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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_child_stops_with_its_parent_and_alone() {
        let parent = CancelToken::new();
        let (first, second) = (parent.child(), parent.child());
        let grandchild = second.child();
        first.cancel();
        assert!(first.is_cancelled());
        assert!(!parent.is_cancelled() && !second.is_cancelled());

        // A waiter on a grandchild wakes when the parent is cancelled from another task.
        let waiting = tokio::spawn(grandchild.cancelled());
        tokio::time::sleep(Duration::from_millis(20)).await;
        parent.cancel();
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the grandchild's waiter woke")
            .unwrap();
        assert!(second.is_cancelled());
        assert!(parent.child().is_cancelled(), "born cancelled");
    }

    #[tokio::test]
    async fn run_until_cancelled_drops_the_operation() {
        let token = CancelToken::new();
        assert_eq!(token.run_until_cancelled(async { Ok(7) }).await, Ok(7));

        let stopper = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            stopper.cancel();
        });
        let never = std::future::pending::<Result<()>>();
        let stopped =
            tokio::time::timeout(Duration::from_secs(1), token.run_until_cancelled(never))
                .await
                .expect("stopped by the cancel");
        assert!(matches!(stopped, Err(Error::Cancelled { .. })));

        let started = AtomicBool::new(false);
        let result = token
            .run_until_cancelled(async {
                started.store(true, Ordering::SeqCst);
                Ok(())
            })
            .await;
        assert!(matches!(result, Err(Error::Cancelled { .. })));
        assert!(!started.load(Ordering::SeqCst), "never started");
    }
}
