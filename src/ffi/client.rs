//! `SafeconvClient`: the core client plus the tokio runtime it runs on, and every operation in
//! two styles — blocking, and asynchronous with a completion callback and a cancellation id.

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{Either, select};
use tokio::runtime::{Handle, Runtime};

use super::config::{SafeconvConfig, UserData};
use super::options::SafeconvStartOptions;
use super::panic::{self, panic_error};
use super::result::{SafeconvError, SafeconvResult, set_last_error};
use super::session::{SafeconvOutcome, SafeconvSession};
use super::strings::read_str;
use crate::cancel::CancelToken;
use crate::client::Client;
use crate::request::SafeConversation;
use crate::session::{Outcome, Session};
use crate::wait::WaitOptions;

/// Identifies a running asynchronous operation, for `safeconv_operation_cancel`. Never 0;
/// never reused within a process.
pub type SafeconvOperationId = u64;

/// Told about each status change while waiting (the final status included), with the new
/// state of the session.
///
/// `session` is borrowed for the duration of the call (copy it with `safeconv_session_clone`
/// to keep it). For `safeconv_wait` it runs on the calling thread, before `safeconv_wait`
/// returns; for `safeconv_wait_async` on one of the client's worker threads. Calls for one
/// operation never overlap and all come before its completion callback. Do not make blocking
/// `safeconv_*` calls from it (they return `SAFECONV_WRONG_THREAD`), and never let a C++
/// exception or `longjmp` leave it.
pub type SafeconvStatusCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, session: *const SafeconvSession)>;

/// Completes an asynchronous start, get or cancel: called exactly once per operation whose
/// function returned `SAFECONV_OK`, and never for one that returned anything else.
///
/// On success `result` is `SAFECONV_OK`, `session` is yours (free it with
/// `safeconv_session_free`) and `error` is NULL. On failure `session` is NULL and `error`
/// holds the details, borrowed for the duration of the call (copy it with
/// `safeconv_error_clone`); the same details are the calling thread's last error.
///
/// Runs on one of the client's worker threads (never on the thread that started the
/// operation). May start further asynchronous operations and cancel them, and may free the
/// client; blocking `safeconv_*` calls return `SAFECONV_WRONG_THREAD` there. Never let a C++
/// exception or `longjmp` leave it.
pub type SafeconvSessionCallback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        result: SafeconvResult,
        session: *mut SafeconvSession,
        error: *const SafeconvError,
    ),
>;

/// Completes an asynchronous wait: called exactly once per operation whose function returned
/// `SAFECONV_OK`, and never for one that returned anything else.
///
/// On success `result` is `SAFECONV_OK`, `outcome` is yours (free it with
/// `safeconv_outcome_free`) and `error` is NULL; a declined, expired, failed or cancelled
/// session is a success here — read the outcome's status. On failure (the outcome could not
/// be learned) `outcome` is NULL and `error` holds the details, borrowed for the duration of
/// the call; the same details are the calling thread's last error.
///
/// Thread rules as for `SafeconvSessionCallback`.
pub type SafeconvOutcomeCallback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        result: SafeconvResult,
        outcome: *mut SafeconvOutcome,
        error: *const SafeconvError,
    ),
>;

/// Worker threads' names, visible in debuggers and `top -H`.
const THREAD_NAME: &str = "safeconv-worker";
/// How many threads may run token callbacks (and DNS look-ups) at once.
const MAX_BLOCKING_THREADS: usize = 16;
/// How long freeing a client lets the runtime's own threads finish after the operations are done.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(1);

static NEXT_OPERATION: AtomicU64 = AtomicU64::new(1);

/// A Safe Conversation client: the connection to Signicat and the threads it runs on.
///
/// Thread-safe: one client may be used by any number of threads at once. Create it with
/// `safeconv_client_new` and free it with `safeconv_client_free`.
pub struct SafeconvClient {
    shared: Arc<Shared>,
    handle: Handle,
    runtime: Option<Runtime>,
    shutdown_timeout: Duration,
}

/// What operations hold on to, so that they outlive the `SafeconvClient` handle safely.
struct Shared {
    client: Client,
    ops: Mutex<Operations>,
    idle: Condvar,
}

#[derive(Default)]
struct Operations {
    running: HashMap<u64, CancelToken>,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Operations> {
        // Only whole insertions and removals happen under the lock; a panic cannot leave it torn.
        self.ops
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a new operation; refused once the client is being freed.
    fn register(self: &Arc<Self>) -> Result<Registration, SafeconvError> {
        let mut ops = self.lock();
        if ops.closed {
            return Err(SafeconvError::cancelled("the client is being freed"));
        }
        let id = NEXT_OPERATION.fetch_add(1, Ordering::Relaxed);
        let cancel = CancelToken::new();
        ops.running.insert(id, cancel.clone());
        Ok(Registration {
            shared: self.clone(),
            id,
            cancel,
        })
    }

    fn cancel(&self, id: u64) -> bool {
        let ops = self.lock();
        match ops.running.get(&id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Refuses new operations and cancels the running ones.
    fn close(&self) {
        let mut ops = self.lock();
        ops.closed = true;
        for token in ops.running.values() {
            token.cancel();
        }
    }

    /// Waits until no operation runs; false if `timeout` passed first.
    fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut ops = self.lock();
        while !ops.running.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            ops = self
                .idle
                .wait_timeout(ops, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        true
    }
}

/// A running operation; unregistered when dropped.
struct Registration {
    shared: Arc<Shared>,
    id: u64,
    cancel: CancelToken,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut ops = self.shared.lock();
        ops.running.remove(&self.id);
        if ops.running.is_empty() {
            self.shared.idle.notify_all();
        }
    }
}

/// Hands an operation's result to C.
type Deliver<T> = Box<dyn FnOnce(Result<T, SafeconvError>) + Send>;

/// Delivers an asynchronous operation's result exactly once: when it completes, or — if its
/// task is dropped unfinished (runtime shut down) — as `SAFECONV_CANCELLED`. The operation
/// stays registered until the callback has returned.
struct Completion<T> {
    deliver: Option<Deliver<T>>,
    _registration: Registration,
}

impl<T> Completion<T> {
    fn deliver(&mut self, result: Result<T, SafeconvError>) {
        let Some(deliver) = self.deliver.take() else {
            return;
        };
        // Readable from the callback with safeconv_last_error*, as well as through `error`.
        set_last_error(result.as_ref().err().cloned());
        if catch_unwind(AssertUnwindSafe(|| deliver(result))).is_err() {
            tracing::error!("a panic was caught while delivering a result to C");
        }
    }
}

impl<T> Drop for Completion<T> {
    fn drop(&mut self) {
        self.deliver(Err(SafeconvError::cancelled(
            "the client was freed before the operation finished",
        )));
    }
}

/// A C status callback with its user data.
#[derive(Clone, Copy)]
struct StatusListener {
    callback: unsafe extern "C" fn(*mut c_void, *const SafeconvSession),
    user_data: UserData,
}

impl StatusListener {
    fn call(self, session: &Session) {
        let borrowed = SafeconvSession {
            session: session.clone(),
        };
        // SAFETY: callback and user_data were given together by the C side, which promises
        // they may be called from the library's threads.
        unsafe { (self.callback)(self.user_data.get(), &borrowed) };
    }
}

impl UserData {
    /// The pointer (a method, so closures capture the `Send` wrapper, not the raw pointer).
    fn get(self) -> *mut c_void {
        self.0
    }
}

fn client_ref<'a>(client: *const SafeconvClient) -> Result<&'a SafeconvClient, SafeconvError> {
    // SAFETY: the caller promises NULL or a live client.
    unsafe { client.as_ref() }.ok_or_else(|| SafeconvError::null_argument("client"))
}

/// Checks an out-pointer and sets it to NULL, so it is never left dangling on failure.
fn out_handle<'a, T>(out: *mut *mut T, name: &str) -> Result<&'a mut *mut T, SafeconvError> {
    // SAFETY: the caller promises NULL or writable storage.
    let out = unsafe { out.as_mut() }.ok_or_else(|| SafeconvError::null_argument(name))?;
    *out = std::ptr::null_mut();
    Ok(out)
}

/// Checks an optional operation-id out-pointer and sets it to 0.
fn out_operation<'a>(out: *mut SafeconvOperationId) -> Option<&'a mut SafeconvOperationId> {
    // SAFETY: the caller promises NULL or writable storage.
    let out = unsafe { out.as_mut() };
    if let Some(out) = out {
        *out = 0;
        return Some(out);
    }
    None
}

/// Runs an operation on the calling thread until it completes. Refused on the library's own
/// threads, where blocking would deadlock (or panic inside tokio).
fn run_blocking<T, F>(
    client: &SafeconvClient,
    make: impl FnOnce(Arc<Shared>, CancelToken) -> F,
) -> Result<T, SafeconvError>
where
    F: Future<Output = Result<T, SafeconvError>>,
{
    if Handle::try_current().is_ok() {
        return Err(SafeconvError::bridge(
            SafeconvResult::SAFECONV_WRONG_THREAD,
            "blocking calls cannot be made on a safeconv callback thread (or inside any tokio runtime); \
             use the _async variant",
            None,
        ));
    }
    // Only owned clones are used from here on: `safeconv_client_free` on another thread may
    // free the handle itself while this call runs (it cancels the call and waits for it).
    let shared = client.shared.clone();
    let handle = client.handle.clone();
    let registration = shared.register()?;
    let future = make(shared, registration.cancel.clone());
    let result = handle.block_on(future);
    drop(registration);
    result
}

/// Spawns an operation on the client's runtime; `deliver` gets its result exactly once.
fn run_async<T, F>(
    client: &SafeconvClient,
    op_id_out: Option<&mut SafeconvOperationId>,
    make: impl FnOnce(Arc<Shared>, CancelToken) -> F,
    deliver: impl FnOnce(Result<T, SafeconvError>) + Send + 'static,
) -> Result<(), SafeconvError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, SafeconvError>> + Send + 'static,
{
    let registration = client.shared.register()?;
    let future = make(client.shared.clone(), registration.cancel.clone());
    // Written before the task exists, so the callback can never see an id not yet returned.
    if let Some(out) = op_id_out {
        *out = registration.id;
    }
    let mut completion = Completion {
        deliver: Some(Box::new(deliver)),
        _registration: registration,
    };
    client.handle.spawn(async move {
        let result = AssertUnwindSafe(future)
            .catch_unwind()
            .await
            .unwrap_or_else(|payload| Err(panic_error(payload)));
        completion.deliver(result);
    });
    Ok(())
}

/// Delivers a session result to a C callback.
fn deliver_session(
    callback: unsafe extern "C" fn(
        *mut c_void,
        SafeconvResult,
        *mut SafeconvSession,
        *const SafeconvError,
    ),
    user_data: UserData,
) -> impl FnOnce(Result<Session, SafeconvError>) + Send + 'static {
    move |result| match result {
        Ok(session) => {
            let session = Box::into_raw(Box::new(SafeconvSession { session }));
            // SAFETY: the C side gave callback and user_data together; `session` becomes its own.
            unsafe {
                callback(
                    user_data.get(),
                    SafeconvResult::SAFECONV_OK,
                    session,
                    std::ptr::null(),
                )
            }
        }
        Err(error) => {
            // SAFETY: as above; `error` is borrowed for the call.
            unsafe { callback(user_data.get(), error.result, std::ptr::null_mut(), &error) }
        }
    }
}

/// Delivers a wait's result to a C callback.
fn deliver_outcome(
    callback: unsafe extern "C" fn(
        *mut c_void,
        SafeconvResult,
        *mut SafeconvOutcome,
        *const SafeconvError,
    ),
    user_data: UserData,
) -> impl FnOnce(Result<Outcome, SafeconvError>) + Send + 'static {
    move |result| match result {
        Ok(outcome) => {
            let outcome = Box::into_raw(Box::new(SafeconvOutcome { outcome }));
            // SAFETY: the C side gave callback and user_data together; `outcome` becomes its own.
            unsafe {
                callback(
                    user_data.get(),
                    SafeconvResult::SAFECONV_OK,
                    outcome,
                    std::ptr::null(),
                )
            }
        }
        Err(error) => {
            // SAFETY: as above; `error` is borrowed for the call.
            unsafe { callback(user_data.get(), error.result, std::ptr::null_mut(), &error) }
        }
    }
}

/// The conversation to start, checked now so that a bad argument is reported at once.
fn conversation(
    client: &SafeconvClient,
    nin: *const c_char,
    options: *const SafeconvStartOptions,
) -> Result<SafeConversation, SafeconvError> {
    // SAFETY: the caller promises NULL or a NUL-terminated string.
    let nin = unsafe { read_str(nin, "nin") }?;
    let mut conversation = SafeConversation::parse(nin, client.shared.client.config().nin_rules())?;
    // SAFETY: the caller promises NULL or live options.
    if let Some(options) = unsafe { options.as_ref() } {
        conversation = options.apply(conversation);
    }
    conversation.to_request().validate()?;
    Ok(conversation)
}

async fn start(
    shared: Arc<Shared>,
    conversation: SafeConversation,
    cancel: CancelToken,
) -> Result<Session, SafeconvError> {
    if cancel.is_cancelled() {
        return Err(SafeconvError::cancelled(
            "the start was cancelled before anything was sent",
        ));
    }
    // A create is never interrupted half way: once sent, the session may exist.
    let session = shared.client.start_safe_conversation(&conversation).await?;
    if cancel.is_cancelled() {
        // Do not leave a request on the caller's phone that nobody waits for.
        if let Err(e) = shared.client.cancel_session(&session.id).await {
            tracing::warn!(session_id = %session.id, error = %e, "could not cancel a session whose start was cancelled");
        }
        return Err(SafeconvError::cancelled(
            "the start was cancelled; the session it created was cancelled at Signicat",
        ));
    }
    Ok(session)
}

async fn wait(
    shared: Arc<Shared>,
    session: Session,
    timeout_ms: u64,
    listener: Option<StatusListener>,
    cancel: CancelToken,
) -> Result<Outcome, SafeconvError> {
    let mut options = WaitOptions::new().cancel_token(cancel);
    if timeout_ms > 0 {
        options = options.timeout(Duration::from_millis(timeout_ms));
    }
    if let Some(listener) = listener {
        options = options.on_status(move |session| listener.call(session));
    }
    Ok(shared.client.wait(&session, options).await?)
}

/// Runs `future` unless cancelled first.
async fn unless_cancelled<T>(
    cancel: CancelToken,
    future: impl Future<Output = Result<T, SafeconvError>>,
) -> Result<T, SafeconvError> {
    match select(Box::pin(future), Box::pin(cancel.cancelled())).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(SafeconvError::cancelled("the operation was cancelled")),
    }
}

async fn get(
    shared: Arc<Shared>,
    id: String,
    cancel: CancelToken,
) -> Result<Session, SafeconvError> {
    unless_cancelled(cancel, async { Ok(shared.client.get_session(&id).await?) }).await
}

async fn cancel_session(
    shared: Arc<Shared>,
    id: String,
    cancel: CancelToken,
) -> Result<Session, SafeconvError> {
    unless_cancelled(cancel, async {
        Ok(shared.client.cancel_session(&id).await?)
    })
    .await
}

/// Creates a client from a configuration, with its own runtime (the configured number of
/// worker threads, on which callbacks run). The configuration is copied: free it whenever
/// you like.
///
/// Returns `SAFECONV_INVALID_INPUT` naming the field if the configuration is incomplete or
/// wrong (account id and credentials are required; URLs must be HTTPS except loopback), or
/// `SAFECONV_RUNTIME` if the threads cannot be started. Nothing is sent.
///
/// # Safety
/// `config` is NULL or a live config; `client_out` is NULL or writable. On success
/// `*client_out` is a new client, the caller's to free with `safeconv_client_free`; on
/// failure it is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_client_new(
    config: *const SafeconvConfig,
    client_out: *mut *mut SafeconvClient,
) -> SafeconvResult {
    panic::call(|| {
        let out = out_handle(client_out, "client_out")?;
        // SAFETY: the caller promises NULL or a live config.
        let config =
            unsafe { config.as_ref() }.ok_or_else(|| SafeconvError::null_argument("config"))?;
        let client = config.builder.clone().build()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads as usize)
            .max_blocking_threads(MAX_BLOCKING_THREADS)
            .thread_name(THREAD_NAME)
            .enable_all()
            .build()
            .map_err(|e| {
                SafeconvError::bridge(
                    SafeconvResult::SAFECONV_RUNTIME,
                    format!("cannot start the client's threads: {e}"),
                    None,
                )
            })?;
        let client = SafeconvClient {
            shared: Arc::new(Shared {
                client,
                ops: Mutex::new(Operations::default()),
                idle: Condvar::new(),
            }),
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            shutdown_timeout: config.shutdown_timeout(),
        };
        *out = Box::into_raw(Box::new(client));
        Ok(())
    })
}

/// Frees a client. NULL is accepted and ignored.
///
/// Every operation still running is cancelled: waits cancel their session at Signicat and
/// complete with its real end (normally `SAFECONV_STATUS_CANCELLED`), starts that created a
/// session cancel it and complete with `SAFECONV_CANCELLED`, gets and cancels complete with
/// `SAFECONV_CANCELLED`. Every completion callback is called exactly once. Blocking calls
/// running on other threads return the same way.
///
/// On an ordinary thread this waits for all of that (at most the shutdown timeout, see
/// `safeconv_config_set_shutdown_timeout_ms`; what runs longer is abandoned and completes
/// with `SAFECONV_CANCELLED`) and for the worker threads to stop, so once it returns no
/// callback of this client runs any more. Called from a callback (or any library thread) it
/// returns at once and the same shutdown finishes on a background thread: callbacks may then
/// still arrive, so keep their `user_data` alive until they have.
///
/// # Safety
/// `client` is NULL or a live client, not yet freed. No call may be *starting* on it on
/// another thread (calls already running are handled as above), and it must not be used
/// after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_client_free(client: *mut SafeconvClient) {
    if client.is_null() {
        return;
    }
    panic::value((), || {
        // SAFETY: the caller hands back ownership of a handle made by Box::into_raw.
        let mut client = unsafe { Box::from_raw(client) };
        client.shared.close();
        let runtime = client.runtime.take();
        let shared = client.shared.clone();
        let timeout = client.shutdown_timeout;
        drop(client);
        let Some(runtime) = runtime else { return };
        if Handle::try_current().is_err() {
            shut_down(shared, runtime, timeout);
            return;
        }
        // On a runtime thread: waiting here would deadlock, and tokio refuses to drop a
        // runtime there. Finish on a thread of our own.
        let pending = Arc::new(Mutex::new(Some((shared, runtime))));
        let for_thread = pending.clone();
        let spawned = std::thread::Builder::new()
            .name("safeconv-shutdown".to_owned())
            .spawn(move || {
                let taken = for_thread.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some((shared, runtime)) = taken {
                    shut_down(shared, runtime, timeout);
                }
            });
        if spawned.is_err() {
            let taken = pending.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some((_, runtime)) = taken {
                // Cannot wait here: let the runtime stop on its own; tasks are dropped (their
                // callbacks report SAFECONV_CANCELLED).
                runtime.shutdown_background();
            }
        }
    });
}

fn shut_down(shared: Arc<Shared>, runtime: Runtime, timeout: Duration) {
    if !shared.wait_idle(timeout) {
        tracing::warn!("operations still running when the client was freed were abandoned");
    }
    drop(shared);
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
}

/// Starts a Safe Conversation and waits for Signicat's answer (blocking): BankID pushes a
/// request to the caller's phone, and the session carries the binding message for the agent
/// to read aloud (`safeconv_session_binding_message`).
///
/// `nin` is checked with the client's NIN rules first (`SAFECONV_INVALID_NIN`, nothing sent).
/// `options` may be NULL for the defaults. A start is never retried when it is unknown
/// whether Signicat acted (timeouts, 5xx): the error says so.
///
/// # Safety
/// `client` is NULL or a live client; `nin` is NULL or a NUL-terminated string; `options` is
/// NULL or live start options; `session_out` is NULL or writable. On success `*session_out`
/// is the caller's, freed with `safeconv_session_free`; on failure it is NULL.
/// Thread rules: any thread but the library's own (`SAFECONV_WRONG_THREAD` there).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_start(
    client: *const SafeconvClient,
    nin: *const c_char,
    options: *const SafeconvStartOptions,
    session_out: *mut *mut SafeconvSession,
) -> SafeconvResult {
    panic::call(|| {
        let out = out_handle(session_out, "session_out")?;
        let client = client_ref(client)?;
        let conversation = conversation(client, nin, options)?;
        let session = run_blocking(client, |shared, cancel| start(shared, conversation, cancel))?;
        *out = Box::into_raw(Box::new(SafeconvSession { session }));
        Ok(())
    })
}

/// Waits (blocking) until the session ends and gives its outcome. Polls at the configured
/// interval, rides out transient failures, and reports each status change to `on_status`
/// (may be NULL) on the calling thread.
///
/// `timeout_ms` = 0 waits until the session's own `expiresAt`; otherwise, once it passes,
/// the session is cancelled at Signicat and the outcome is how it really ended (normally
/// `SAFECONV_STATUS_CANCELLED`, or `SUCCESS` if the caller confirmed first). To stop the wait
/// from another thread, call `safeconv_cancel_session` there: the wait then ends with
/// `SAFECONV_STATUS_CANCELLED`. A declined, expired or failed session is `SAFECONV_OK` with
/// that outcome; an error means the outcome could not be learned.
///
/// # Safety
/// `client` is NULL or a live client; `session` is NULL or a live session (copied, so it may
/// be freed once this returns); `user_data` is passed to `on_status` untouched;
/// `outcome_out` is NULL or writable. On success `*outcome_out` is the caller's, freed with
/// `safeconv_outcome_free`; on failure it is NULL.
/// Thread rules: any thread but the library's own (`SAFECONV_WRONG_THREAD` there).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_wait(
    client: *const SafeconvClient,
    session: *const SafeconvSession,
    timeout_ms: u64,
    on_status: SafeconvStatusCallback,
    user_data: *mut c_void,
    outcome_out: *mut *mut SafeconvOutcome,
) -> SafeconvResult {
    panic::call(|| {
        let out = out_handle(outcome_out, "outcome_out")?;
        let client = client_ref(client)?;
        // SAFETY: the caller promises NULL or a live session.
        let session =
            unsafe { session.as_ref() }.ok_or_else(|| SafeconvError::null_argument("session"))?;
        let session = session.session.clone();
        let listener = on_status.map(|callback| StatusListener {
            callback,
            user_data: UserData(user_data),
        });
        let outcome = run_blocking(client, |shared, cancel| {
            wait(shared, session, timeout_ms, listener, cancel)
        })?;
        *out = Box::into_raw(Box::new(SafeconvOutcome { outcome }));
        Ok(())
    })
}

/// Reads a session's current state by id (blocking; retried on transient failures).
///
/// # Safety
/// `client` is NULL or a live client; `session_id` is NULL or a NUL-terminated string;
/// `session_out` is NULL or writable. On success `*session_out` is the caller's, freed with
/// `safeconv_session_free`; on failure it is NULL.
/// Thread rules: any thread but the library's own (`SAFECONV_WRONG_THREAD` there).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_get_session(
    client: *const SafeconvClient,
    session_id: *const c_char,
    session_out: *mut *mut SafeconvSession,
) -> SafeconvResult {
    panic::call(|| {
        let out = out_handle(session_out, "session_out")?;
        let client = client_ref(client)?;
        // SAFETY: the caller promises NULL or a NUL-terminated string.
        let id = unsafe { read_str(session_id, "session_id") }?.to_owned();
        let session = run_blocking(client, |shared, cancel| get(shared, id, cancel))?;
        *out = Box::into_raw(Box::new(SafeconvSession { session }));
        Ok(())
    })
}

/// Cancels a session at Signicat (blocking). Idempotent: a session that had already ended is
/// returned in its final state (which may be `SUCCESS` if the caller confirmed first), not as
/// an error. A wait on that session, on any thread, then ends.
///
/// # Safety
/// `client` is NULL or a live client; `session_id` is NULL or a NUL-terminated string;
/// `session_out` is NULL (not wanted) or writable: on success `*session_out` is the session's
/// final state, the caller's to free with `safeconv_session_free`; on failure it is NULL.
/// Thread rules: any thread but the library's own (`SAFECONV_WRONG_THREAD` there).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_cancel_session(
    client: *const SafeconvClient,
    session_id: *const c_char,
    session_out: *mut *mut SafeconvSession,
) -> SafeconvResult {
    panic::call(|| {
        let out = if session_out.is_null() {
            None
        } else {
            Some(out_handle(session_out, "session_out")?)
        };
        let client = client_ref(client)?;
        // SAFETY: the caller promises NULL or a NUL-terminated string.
        let id = unsafe { read_str(session_id, "session_id") }?.to_owned();
        let session = run_blocking(client, |shared, cancel| cancel_session(shared, id, cancel))?;
        if let Some(out) = out {
            *out = Box::into_raw(Box::new(SafeconvSession { session }));
        }
        Ok(())
    })
}

/// Starts a Safe Conversation without blocking; `on_done` gets the session (see
/// `SafeconvSessionCallback`).
///
/// Arguments are checked now: a NULL or non-UTF-8 argument or a refused NIN is returned at
/// once and `on_done` is never called. Cancelling (`safeconv_operation_cancel`) does not
/// interrupt a create already sent; the session it makes is cancelled at Signicat and
/// `on_done` gets `SAFECONV_CANCELLED`.
///
/// # Safety
/// `client` is NULL or a live client; `nin` is NULL or a NUL-terminated string; `options` is
/// NULL or live start options (copied); `user_data` is passed to `on_done` untouched and must
/// stay valid until then; `op_id_out` is NULL (not wanted) or writable, and receives the
/// operation's id before `on_done` can run (0 on failure).
/// Threads: any thread, callbacks included.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_start_async(
    client: *const SafeconvClient,
    nin: *const c_char,
    options: *const SafeconvStartOptions,
    on_done: SafeconvSessionCallback,
    user_data: *mut c_void,
    op_id_out: *mut SafeconvOperationId,
) -> SafeconvResult {
    panic::call(|| {
        let op_id = out_operation(op_id_out);
        let client = client_ref(client)?;
        let on_done = on_done.ok_or_else(|| SafeconvError::null_argument("on_done"))?;
        let conversation = conversation(client, nin, options)?;
        run_async(
            client,
            op_id,
            |shared, cancel| start(shared, conversation, cancel),
            deliver_session(on_done, UserData(user_data)),
        )
    })
}

/// Waits for a session to end without blocking: `on_status` (may be NULL) hears each status
/// change and `on_done` gets the outcome (see `SafeconvOutcomeCallback`); both run on the
/// client's worker threads. `timeout_ms` as for `safeconv_wait`.
///
/// Cancelling (`safeconv_operation_cancel`) cancels the session at Signicat; `on_done` then
/// gets how it really ended — normally `SAFECONV_STATUS_CANCELLED`, or `SUCCESS` if the caller
/// confirmed first.
///
/// # Safety
/// `client` is NULL or a live client; `session` is NULL or a live session (copied, so it may
/// be freed once this returns); `user_data` is passed to both callbacks untouched and must
/// stay valid until `on_done` has returned; `op_id_out` is NULL or writable, and receives the
/// operation's id before any callback can run (0 on failure).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_wait_async(
    client: *const SafeconvClient,
    session: *const SafeconvSession,
    timeout_ms: u64,
    on_status: SafeconvStatusCallback,
    on_done: SafeconvOutcomeCallback,
    user_data: *mut c_void,
    op_id_out: *mut SafeconvOperationId,
) -> SafeconvResult {
    panic::call(|| {
        let op_id = out_operation(op_id_out);
        let client = client_ref(client)?;
        // SAFETY: the caller promises NULL or a live session.
        let session =
            unsafe { session.as_ref() }.ok_or_else(|| SafeconvError::null_argument("session"))?;
        let on_done = on_done.ok_or_else(|| SafeconvError::null_argument("on_done"))?;
        let session = session.session.clone();
        let user_data = UserData(user_data);
        let listener = on_status.map(|callback| StatusListener {
            callback,
            user_data,
        });
        run_async(
            client,
            op_id,
            |shared, cancel| wait(shared, session, timeout_ms, listener, cancel),
            deliver_outcome(on_done, user_data),
        )
    })
}

/// Reads a session's current state without blocking; `on_done` gets it (see
/// `SafeconvSessionCallback`). Cancelling makes `on_done` get `SAFECONV_CANCELLED`.
///
/// # Safety
/// `client` is NULL or a live client; `session_id` is NULL or a NUL-terminated string
/// (copied); `user_data` must stay valid until `on_done` has returned; `op_id_out` is NULL or
/// writable.
/// Threads: any thread, callbacks included.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_get_session_async(
    client: *const SafeconvClient,
    session_id: *const c_char,
    on_done: SafeconvSessionCallback,
    user_data: *mut c_void,
    op_id_out: *mut SafeconvOperationId,
) -> SafeconvResult {
    panic::call(|| {
        let op_id = out_operation(op_id_out);
        let client = client_ref(client)?;
        // SAFETY: the caller promises NULL or a NUL-terminated string.
        let id = unsafe { read_str(session_id, "session_id") }?.to_owned();
        let on_done = on_done.ok_or_else(|| SafeconvError::null_argument("on_done"))?;
        run_async(
            client,
            op_id,
            |shared, cancel| get(shared, id, cancel),
            deliver_session(on_done, UserData(user_data)),
        )
    })
}

/// Cancels a session at Signicat without blocking; `on_done` gets its final state (see
/// `safeconv_cancel_session` and `SafeconvSessionCallback`).
///
/// # Safety
/// `client` is NULL or a live client; `session_id` is NULL or a NUL-terminated string
/// (copied); `user_data` must stay valid until `on_done` has returned; `op_id_out` is NULL or
/// writable.
/// Threads: any thread, callbacks included.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_cancel_session_async(
    client: *const SafeconvClient,
    session_id: *const c_char,
    on_done: SafeconvSessionCallback,
    user_data: *mut c_void,
    op_id_out: *mut SafeconvOperationId,
) -> SafeconvResult {
    panic::call(|| {
        let op_id = out_operation(op_id_out);
        let client = client_ref(client)?;
        // SAFETY: the caller promises NULL or a NUL-terminated string.
        let id = unsafe { read_str(session_id, "session_id") }?.to_owned();
        let on_done = on_done.ok_or_else(|| SafeconvError::null_argument("on_done"))?;
        run_async(
            client,
            op_id,
            |shared, cancel| cancel_session(shared, id, cancel),
            deliver_session(on_done, UserData(user_data)),
        )
    })
}

/// Cancels a running asynchronous operation by id. Returns at once; the operation's
/// `on_done` still comes, exactly once (see each `_async` function for what it reports).
/// Idempotent while the operation runs.
///
/// Returns `SAFECONV_NO_SUCH_OPERATION` if the operation is not running on this client (it
/// already completed — its `on_done` has been or is being called — or never existed).
///
/// # Safety
/// `client` is NULL or a live client. Thread-safe, callable from callbacks; not from a
/// signal handler.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_operation_cancel(
    client: *const SafeconvClient,
    op_id: SafeconvOperationId,
) -> SafeconvResult {
    panic::call(|| {
        let client = client_ref(client)?;
        if client.shared.cancel(op_id) {
            Ok(())
        } else {
            Err(SafeconvError::bridge(
                SafeconvResult::SAFECONV_NO_SUCH_OPERATION,
                format!("operation {op_id} is not running on this client"),
                None,
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::ffi::config::{
        safeconv_config_free, safeconv_config_new, safeconv_config_set_account_id,
        safeconv_config_set_base_url, safeconv_config_set_client_credentials,
        safeconv_config_set_shutdown_timeout_ms,
    };

    /// A client for a loopback address nothing listens on (no test here sends a request).
    fn client(shutdown_ms: u64) -> *mut SafeconvClient {
        let config = safeconv_config_new();
        let mut client = std::ptr::null_mut();
        unsafe {
            safeconv_config_set_base_url(config, c"http://127.0.0.1:9".as_ptr());
            safeconv_config_set_account_id(config, c"a-1".as_ptr());
            safeconv_config_set_client_credentials(config, c"id".as_ptr(), c"secret".as_ptr());
            safeconv_config_set_shutdown_timeout_ms(config, shutdown_ms);
            assert_eq!(
                safeconv_client_new(config, &mut client),
                SafeconvResult::SAFECONV_OK
            );
            safeconv_config_free(config);
        }
        client
    }

    fn results() -> (mpsc::Sender<SafeconvResult>, mpsc::Receiver<SafeconvResult>) {
        mpsc::channel()
    }

    #[test]
    fn a_panicking_operation_completes_with_panic() {
        let client = client(1000);
        let (tx, rx) = results();
        let started = run_async(
            unsafe { &*client },
            None,
            |_, _| async { panic!("inside the operation") },
            move |result: Result<(), SafeconvError>| {
                let _ = tx.send(
                    result
                        .err()
                        .map_or(SafeconvResult::SAFECONV_OK, |e| e.result),
                );
            },
        );
        assert!(started.is_ok());
        let got = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(got, SafeconvResult::SAFECONV_PANIC);
        unsafe { safeconv_client_free(client) };
    }

    #[test]
    fn an_operation_past_the_shutdown_timeout_completes_as_cancelled() {
        let client = client(100);
        let (tx, rx) = results();
        let mut id = 0;
        run_async(
            unsafe { &*client },
            Some(&mut id),
            // Ignores its cancel token: only the runtime's shutdown can stop it.
            |_, _| std::future::pending::<Result<(), SafeconvError>>(),
            move |result: Result<(), SafeconvError>| {
                let _ = tx.send(
                    result
                        .err()
                        .map_or(SafeconvResult::SAFECONV_OK, |e| e.result),
                );
            },
        )
        .unwrap();
        assert_ne!(id, 0);
        assert_eq!(
            unsafe { safeconv_operation_cancel(client, id) },
            SafeconvResult::SAFECONV_OK
        );
        let started = Instant::now();
        unsafe { safeconv_client_free(client) };
        assert!(started.elapsed() < Duration::from_secs(5));
        // Exactly once, by the time free returned.
        assert_eq!(rx.try_recv(), Ok(SafeconvResult::SAFECONV_CANCELLED));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn blocking_calls_inside_a_runtime_are_refused() {
        let client = client(1000);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let result = runtime.block_on(async {
            run_blocking(unsafe { &*client }, |_, _| async {
                Ok::<_, SafeconvError>(())
            })
        });
        assert_eq!(
            result.unwrap_err().result,
            SafeconvResult::SAFECONV_WRONG_THREAD
        );
        assert!(
            run_blocking(unsafe { &*client }, |_, _| async {
                Ok::<_, SafeconvError>(())
            })
            .is_ok()
        );
        unsafe { safeconv_client_free(client) };
    }

    #[test]
    fn a_freed_client_refuses_new_operations_but_cancels_running_ones() {
        let client = client(2000);
        let (tx, rx) = results();
        run_async(
            unsafe { &*client },
            None,
            |_, cancel: CancelToken| unless_cancelled(cancel, std::future::pending()),
            move |result: Result<(), SafeconvError>| {
                let _ = tx.send(
                    result
                        .err()
                        .map_or(SafeconvResult::SAFECONV_OK, |e| e.result),
                );
            },
        )
        .unwrap();
        unsafe { &*client }.shared.close();
        let refused = run_blocking(unsafe { &*client }, |_, _| async {
            Ok::<_, SafeconvError>(())
        });
        assert_eq!(
            refused.unwrap_err().result,
            SafeconvResult::SAFECONV_CANCELLED
        );
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)),
            Ok(SafeconvResult::SAFECONV_CANCELLED)
        );
        unsafe { safeconv_client_free(client) };
    }
}
