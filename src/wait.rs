//! Waiting for a session to end: poll one request at a time until a final status or the
//! deadline, report each change, ride out transient failures, and cancel the session at
//! Signicat when the wait is given up.

use std::time::Duration;

use futures_util::future::{Either, select};

use crate::backoff::Backoff;
use crate::cancel::CancelToken;
use crate::client::Client;
use crate::error::Result;
use crate::runtime::{self, MaybeSend};
use crate::session::{Outcome, Session, Status};

/// How long to keep polling past `expiresAt` for the server to say `EXPIRED`.
const EXPIRY_GRACE: Duration = Duration::from_secs(5);
/// The deadline when the session states no `expiresAt` (Signicat's default lifetime).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(1200);
/// How many polls in a row may have their fresh token rejected before the wait gives up.
const MAX_REJECTED_POLLS: u32 = 3;
/// The longest pause after failures, however many in a row.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[cfg(not(target_arch = "wasm32"))]
type StatusListener = Box<dyn FnMut(&Session) + Send + 'static>;
#[cfg(target_arch = "wasm32")]
type StatusListener = Box<dyn FnMut(&Session) + 'static>;

/// Options for [`Client::wait`].
///
/// ```
/// use std::time::Duration;
/// use safeconv::{CancelToken, WaitOptions};
/// let cancel = CancelToken::new();
/// let options = WaitOptions::new()
///     .timeout(Duration::from_secs(120))
///     .on_status(|session| println!("now {}", session.status))
///     .cancel_token(cancel.clone());
/// # drop(options);
/// ```
#[derive(Default)]
pub struct WaitOptions {
    timeout: Option<Duration>,
    on_status: Option<StatusListener>,
    cancel: Option<CancelToken>,
}

impl WaitOptions {
    /// No timeout but the session's own `expiresAt`, no listener, no cancel token.
    pub fn new() -> Self {
        WaitOptions::default()
    }

    /// Give up earlier than the session's `expiresAt`. When this deadline passes, the session is
    /// cancelled at Signicat and the wait reports how it really ended.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Called with the new state each time the status changes, the final one included.
    pub fn on_status(mut self, listener: impl FnMut(&Session) + MaybeSend + 'static) -> Self {
        self.on_status = Some(Box::new(listener));
        self
    }

    /// Lets other code stop the wait; the session is then cancelled at Signicat.
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// While a wait runs: registered with its client, so that a cancel of the session stops it at
/// once; and, if the wait is dropped before it learned the outcome, the session is cancelled at
/// Signicat.
struct WaitGuard {
    client: Client,
    session_id: String,
    stop: CancelToken,
    armed: bool,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        self.client.unregister_wait(&self.session_id, &self.stop);
        if !self.armed {
            return;
        }
        let client = self.client.clone();
        let id = self.session_id.clone();
        tracing::info!(session_id = %id, "wait dropped; cancelling the session");
        let spawned = self.client.inner.background.spawn(async move {
            if let Err(e) = client.cancel_session(&id).await {
                tracing::warn!(session_id = %id, error = %e, "could not cancel the abandoned session");
            }
        });
        if !spawned {
            tracing::warn!(session_id = %self.session_id, "no async runtime to cancel the abandoned session on");
        }
    }
}

enum Wake {
    Slept,
    Cancelled,
}

impl Client {
    /// Polls `session` until it ends and returns how it ended.
    ///
    /// One request at a time, the configured poll interval after each answer. Transient
    /// failures (timeouts, dropped connections, 5xx, malformed answers) are retried with
    /// backoff and jitter; `429`/`503` wait as long as `Retry-After` says. The deadline is the
    /// session's `expiresAt` (plus a few seconds for the server to say `EXPIRED`) or the
    /// options' timeout, whichever is first.
    ///
    /// If the wait is cancelled (through the [`CancelToken`], by the deadline, by
    /// [`Client::cancel_session`] on the same session from anywhere, or by dropping this
    /// future) the session is cancelled at Signicat, and — unless dropped — the wait returns at
    /// once what really happened: `Cancelled`, or `Success` if the caller confirmed first.
    ///
    /// An error is returned only if the outcome could not be learned; the session id in hand,
    /// you can [`Client::resume`] later.
    pub async fn wait(&self, session: &Session, options: WaitOptions) -> Result<Outcome> {
        if let Some(outcome) = session.outcome() {
            return Ok(outcome);
        }
        let WaitOptions {
            timeout,
            mut on_status,
            cancel,
        } = options;
        let interval = self.config().poll_interval();
        let started = runtime::now_unix_ms();
        let expiry_deadline = match session.expires_at {
            Some(expires_at) => expires_at
                .unix_millis()
                .saturating_add(millis(EXPIRY_GRACE)),
            None => started.saturating_add(millis(DEFAULT_LIFETIME)),
        };
        let deadline = match timeout {
            Some(timeout) => expiry_deadline.min(started.saturating_add(millis(timeout))),
            None => expiry_deadline,
        };
        let cancel = cancel.unwrap_or_default();
        let stop = self.register_wait(&session.id);
        let mut guard = WaitGuard {
            client: self.clone(),
            session_id: session.id.clone(),
            stop: stop.clone(),
            armed: true,
        };
        // Either the caller's token or a cancel of this session elsewhere.
        let stopped = || {
            let (cancel, stop) = (cancel.clone(), stop.clone());
            Box::pin(async move {
                select(Box::pin(cancel.cancelled()), Box::pin(stop.cancelled())).await;
            })
        };
        let mut last_status: Status = session.status.clone();
        let mut backoff = Backoff::new(interval, MAX_BACKOFF.max(interval));
        let mut pause = interval;
        let mut rejected_polls = 0;

        loop {
            let now = runtime::now_unix_ms();
            let until_deadline = Duration::from_millis(u64::try_from(deadline - now).unwrap_or(0));
            let wake = select(
                Box::pin(runtime::sleep(pause.min(until_deadline))),
                stopped(),
            )
            .await;
            let wake = match wake {
                Either::Left(_) => Wake::Slept,
                Either::Right(_) => Wake::Cancelled,
            };
            if matches!(wake, Wake::Cancelled) || runtime::now_unix_ms() >= deadline {
                let why = if matches!(wake, Wake::Cancelled) {
                    "cancelled"
                } else {
                    "deadline reached"
                };
                tracing::info!(session_id = %session.id, why, "giving up the wait; cancelling the session");
                let result = Box::pin(self.cancel_session(&session.id)).await;
                guard.armed = false;
                let ended = result?;
                report(&mut on_status, &mut last_status, &ended);
                return match ended.outcome() {
                    Some(outcome) => Ok(outcome),
                    None => Err(crate::Error::protocol(format!(
                        "session {} is still {} after it was cancelled",
                        ended.id, ended.status
                    ))),
                };
            }
            // Boxed, like the cancel above: a wait that sleeps between polls then holds only
            // this loop's few hundred bytes, and the request's state machine (well over a
            // kilobyte) exists only while a request is under way. With thousands of sessions
            // waiting at once, that is most of their memory.
            let poll = Box::pin(self.get_session_once(&session.id));
            // A cancel does not wait for a slow poll: the poll is dropped and the loop's next
            // turn cancels the session.
            let polled = match select(poll, stopped()).await {
                Either::Left((polled, _)) => polled,
                Either::Right(_) => continue,
            };
            match polled {
                Ok(current) => {
                    rejected_polls = 0;
                    backoff.reset();
                    pause = interval;
                    report(&mut on_status, &mut last_status, &current);
                    if let Some(outcome) = current.outcome() {
                        guard.armed = false;
                        return Ok(outcome);
                    }
                }
                // A fresh token rejected again is most likely churn at the server; a few in a
                // row mean the credentials really are refused.
                Err(e)
                    if e.is_transient()
                        || (e.http_status() == Some(401)
                            && rejected_polls < MAX_REJECTED_POLLS) =>
                {
                    rejected_polls = if e.http_status() == Some(401) {
                        rejected_polls + 1
                    } else {
                        0
                    };
                    pause = e.retry_after().unwrap_or_else(|| backoff.next_delay());
                    tracing::warn!(session_id = %session.id, error = %e, pause_ms = pause.as_millis() as u64, "poll failed; will retry");
                }
                Err(e) => {
                    // Not found, forbidden, credentials revoked: polling on cannot help, and a
                    // cancel would fail the same way.
                    guard.armed = false;
                    return Err(e);
                }
            }
        }
    }

    /// Picks up a session by id (after a restart, or from another process) and waits for it.
    ///
    /// ```no_run
    /// # async fn run(client: safeconv::Client) -> Result<(), safeconv::Error> {
    /// let outcome = client.resume("3d07c219-0a88-45be-9cfc-91e9d095a1e9", safeconv::WaitOptions::new()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn resume(&self, session_id: &str, options: WaitOptions) -> Result<Outcome> {
        let session = self.get_session(session_id).await?;
        self.wait(&session, options).await
    }
}

fn report(listener: &mut Option<StatusListener>, last: &mut Status, current: &Session) {
    if current.status == *last {
        return;
    }
    tracing::debug!(session_id = %current.id, from = %last, to = %current.status, "status changed");
    *last = current.status.clone();
    if let Some(listener) = listener {
        listener(current);
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

// Waits must be able to run on multi-threaded runtimes (and be spawned by the bridges).
#[cfg(not(target_arch = "wasm32"))]
#[allow(dead_code)]
fn assert_wait_is_send(client: &Client, session: &Session) {
    fn is_send<T: MaybeSend>(_: &T) {}
    is_send(&client.wait(session, WaitOptions::new()));
}
