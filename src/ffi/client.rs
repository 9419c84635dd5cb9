//! `SafeconvClient`: the core client, the core registry of its running operations, and the
//! tokio runtime it runs on; every operation in two styles — blocking, and asynchronous with a
//! completion callback and a cancellation id.

use std::ffi::{c_char, c_void};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::runtime::{self, Runtime};

use super::boundary::{ffi_boundary, panic_failure};
use super::config::{ClientSettings, SafeconvConfig};
use super::error::{Failure, SafeconvError, SafeconvResult, set_last_error};
use super::handle::{Handle, Owned, UserData, arg, give, handle, lend, opt_arg, take};
use super::options::SafeconvStartOptions;
use super::session::{SafeconvOutcome, SafeconvSession};
use crate::{
    CancelToken, Client, Error, Operation, Operations, SafeConversation, StartOptions, WaitOptions,
};

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

/// A Safe Conversation client: the connection to Signicat and the threads it runs on.
///
/// Thread-safe: one client may be used by any number of threads at once. Create it with
/// `safeconv_client_new` and free it with `safeconv_client_free`.
pub struct SafeconvClient {
    _private: [u8; 0],
}

handle!(SafeconvClient => ClientHandle, Owned);

/// What a `SafeconvClient` is in Rust.
pub(crate) struct ClientHandle {
    client: Client,
    operations: Operations,
    runtime: Runtime,
    shutdown_timeout: Duration,
}

/// A completion callback of `H` results (the typedefs above, without their `Option`).
type DoneCallback<H> =
    unsafe extern "C" fn(*mut c_void, SafeconvResult, *mut H, *const SafeconvError);
/// Hands an operation's result to C.
type Deliver<T> = Box<dyn FnOnce(Result<T, Failure>) + Send>;

impl ClientHandle {
    fn new(settings: &ClientSettings) -> Result<Self, Failure> {
        let client = settings.options.build(settings.token_provider.clone())?;
        let runtime = runtime::Builder::new_multi_thread()
            .worker_threads(settings.worker_threads as usize)
            .max_blocking_threads(MAX_BLOCKING_THREADS)
            .thread_name(THREAD_NAME)
            .enable_all()
            .build()
            .map_err(|e| {
                let message = format!("cannot start the client's threads: {e}");
                Failure::bridge(SafeconvResult::SAFECONV_RUNTIME, message)
            })?;
        Ok(ClientHandle {
            client,
            operations: Operations::new(),
            runtime,
            shutdown_timeout: settings.shutdown_timeout(),
        })
    }

    /// The conversation to start, checked now so that a bad argument is reported at once.
    fn conversation(
        &self,
        nin: &str,
        options: Option<&StartOptions>,
    ) -> Result<SafeConversation, Failure> {
        let defaults = StartOptions::default();
        Ok(self
            .client
            .conversation(nin, options.unwrap_or(&defaults))?)
    }

    /// Registers a blocking call. Refused on the library's own threads, where blocking would
    /// deadlock (or panic inside tokio).
    fn blocking(&self) -> Result<Blocking, Failure> {
        if runtime::Handle::try_current().is_ok() {
            return Err(Failure::bridge(
                SafeconvResult::SAFECONV_WRONG_THREAD,
                "blocking calls cannot be made on a safeconv callback thread (or inside any tokio \
                 runtime); use the _async variant",
            ));
        }
        Ok(Blocking {
            client: self.client.clone(),
            runtime: self.runtime.handle().clone(),
            operation: self.operations.start()?,
        })
    }

    /// Spawns an operation on the client's runtime; `deliver` gets its result exactly once.
    /// Its id is written to `op_id_out` before the operation can complete.
    fn run_async<T, F>(
        &self,
        op_id_out: Option<&mut SafeconvOperationId>,
        make: impl FnOnce(Client, CancelToken) -> F,
        deliver: Deliver<T>,
    ) -> Result<(), Failure>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let operation = self.operations.start()?;
        let future = make(self.client.clone(), operation.cancel_token().clone());
        if let Some(out) = op_id_out {
            *out = operation.id();
        }
        let mut completion = Completion {
            deliver: Some(deliver),
            _operation: operation,
        };
        self.runtime.spawn(async move {
            let result = AssertUnwindSafe(future).catch_unwind().await;
            completion.deliver(result.map_err(panic_failure).and_then(|r| Ok(r?)));
        });
        Ok(())
    }

    /// Cancels every operation, lets them (and the core's clean-up cancels) finish within the
    /// shutdown timeout, then stops the threads. On a library thread, where that would
    /// deadlock, it finishes on a thread of its own.
    fn shut_down(self) {
        self.operations.close();
        if runtime::Handle::try_current().is_err() {
            return self.finish();
        }
        // Shared, so that the handle can be had back if the thread cannot be started.
        let slot = Arc::new(Mutex::new(Some(self)));
        let for_thread = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("safeconv-shutdown".to_owned())
            .spawn(move || take_from(&for_thread).map(ClientHandle::finish));
        if spawned.is_err()
            && let Some(handle) = take_from(&slot)
        {
            // Cannot wait here: the runtime stops on its own, and the tasks it drops complete
            // with SAFECONV_CANCELLED.
            handle.runtime.shutdown_background();
        }
    }

    fn finish(self) {
        let started = Instant::now();
        let ClientHandle {
            client,
            operations,
            runtime,
            shutdown_timeout,
        } = self;
        if !operations.wait_idle(shutdown_timeout) {
            tracing::warn!("operations still running when the client was freed were abandoned");
        }
        let left = shutdown_timeout.saturating_sub(started.elapsed());
        if !runtime.block_on(client.wait_for_cleanup(left)) {
            tracing::warn!(
                "cancels of abandoned sessions were still running when the client was freed"
            );
        }
        drop((client, operations));
        runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    }
}

fn take_from<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// A registered blocking call. It holds only owned clones: `safeconv_client_free` on another
/// thread may free the handle while the call runs (it cancels the call and waits for it).
struct Blocking {
    client: Client,
    runtime: runtime::Handle,
    operation: Operation,
}

impl Blocking {
    /// Runs the operation on the calling thread until it completes.
    fn run<T, F>(self, make: impl FnOnce(Client, CancelToken) -> F) -> Result<T, Failure>
    where
        F: Future<Output = Result<T, Error>>,
    {
        let Blocking {
            client,
            runtime,
            operation,
        } = self;
        let result = runtime.block_on(make(client, operation.cancel_token().clone()));
        drop(operation);
        Ok(result?)
    }
}

/// Delivers an asynchronous operation's result exactly once: when it completes, or — if its
/// task is dropped unfinished (runtime shut down) — as `SAFECONV_CANCELLED`. The operation
/// stays registered until the callback has returned.
struct Completion<T> {
    deliver: Option<Deliver<T>>,
    _operation: Operation,
}

impl<T> Completion<T> {
    fn deliver(&mut self, result: Result<T, Failure>) {
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
        let freed = Error::cancelled("the client was freed before the operation finished");
        self.deliver(Err(freed.into()));
    }
}

/// Delivers a result to a C completion callback: a value becomes the callback's own, an error
/// is lent for the call.
fn deliver_to<H>(callback: DoneCallback<H>, user_data: UserData) -> Deliver<H::Rust>
where
    H: Handle<Ownership = Owned> + 'static,
    H::Rust: Send + 'static,
{
    Box::new(move |result| match result {
        // SAFETY: the C side gave callback and user_data together, for the library's threads.
        Ok(value) => unsafe {
            callback(
                user_data.get(),
                SafeconvResult::SAFECONV_OK,
                give(value),
                std::ptr::null(),
            )
        },
        // SAFETY: as above.
        Err(failure) => unsafe {
            callback(
                user_data.get(),
                failure.result,
                std::ptr::null_mut(),
                lend(&failure),
            )
        },
    })
}

/// The wait's options: the timeout (0: the session's own expiry), the status callback, the
/// operation's cancel token.
fn wait_options(
    timeout_ms: u64,
    on_status: SafeconvStatusCallback,
    user_data: UserData,
    cancel: CancelToken,
) -> WaitOptions {
    let mut options = WaitOptions::new().cancel_token(cancel);
    if timeout_ms > 0 {
        options = options.timeout(Duration::from_millis(timeout_ms));
    }
    if let Some(callback) = on_status {
        options = options.on_status(move |session| {
            // SAFETY: the C side gave callback and user_data together; `session` is lent for
            // the call.
            unsafe { callback(user_data.get(), lend::<SafeconvSession>(session)) }
        });
    }
    options
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
    ffi_boundary! {
        let out = arg!(client_out);
        out.set(ClientHandle::new(arg!(config))?);
        Ok(())
    }
}

/// Frees a client. NULL is accepted and ignored.
///
/// Every operation still running is cancelled: waits cancel their session at Signicat and
/// complete with its real end (normally `SAFECONV_STATUS_CANCELLED`), starts complete with
/// `SAFECONV_CANCELLED` (a session their create made is cancelled at Signicat), gets and
/// cancels complete with `SAFECONV_CANCELLED`. Every completion callback is called exactly
/// once. Blocking calls running on other threads return the same way.
///
/// On an ordinary thread this waits for all of that, and for the cancels the library sends
/// for abandoned starts (at most the shutdown timeout, see
/// `safeconv_config_set_shutdown_timeout_ms`; what runs longer is abandoned and completes
/// with `SAFECONV_CANCELLED`), and for the worker threads to stop, so once it returns no
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
    ffi_boundary! {
        // SAFETY: the caller hands back a handle this library gave out, not yet freed.
        if let Some(client) = unsafe { take(client) } {
            (*client).shut_down();
        }
        Ok(())
    }
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
    ffi_boundary! {
        let out = arg!(session_out);
        let client = arg!(client);
        let conversation = client.conversation(arg!(nin), opt_arg!(options))?;
        out.set(client.blocking()?.run(|client, cancel| async move {
            client.start_safe_conversation_with(&conversation, &cancel).await
        })?);
        Ok(())
    }
}

/// Waits (blocking) until the session ends and gives its outcome. Polls at the configured
/// interval, rides out transient failures, and reports each status change to `on_status`
/// (may be NULL) on the calling thread.
///
/// `timeout_ms` = 0 waits until the session's own `expiresAt`; otherwise, once it passes,
/// the session is cancelled at Signicat and the outcome is how it really ended (normally
/// `SAFECONV_STATUS_CANCELLED`, or `SUCCESS` if the caller confirmed first). To stop the wait
/// from another thread, call `safeconv_cancel_session` there: the wait stops at once, without
/// waiting for its next poll, and returns how the session really ended (normally
/// `SAFECONV_STATUS_CANCELLED`). A declined, expired or failed session is `SAFECONV_OK` with
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
    ffi_boundary! {
        let out = arg!(outcome_out);
        let (client, session) = (arg!(client), arg!(session).clone());
        let user_data = UserData::new(user_data);
        out.set(client.blocking()?.run(|client, cancel| async move {
            let options = wait_options(timeout_ms, on_status, user_data, cancel);
            client.wait(&session, options).await
        })?);
        Ok(())
    }
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
    ffi_boundary! {
        let out = arg!(session_out);
        let (client, id) = (arg!(client), arg!(session_id));
        let session = client.blocking()?.run(|client, cancel| {
            async move { cancel.run_until_cancelled(client.get_session(id)).await }
        })?;
        out.set(session);
        Ok(())
    }
}

/// Cancels a session at Signicat (blocking). Idempotent: a session that had already ended is
/// returned in its final state (which may be `SUCCESS` if the caller confirmed first), not as
/// an error. Every wait on that session, blocking or not and on any thread, stops at once and
/// reports how the session really ended.
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
    ffi_boundary! {
        let out = opt_arg!(session_out);
        let (client, id) = (arg!(client), arg!(session_id));
        let session = client.blocking()?.run(|client, cancel| {
            async move { cancel.run_until_cancelled(client.cancel_session(id)).await }
        })?;
        if let Some(out) = out {
            out.set(session);
        }
        Ok(())
    }
}

/// Starts a Safe Conversation without blocking; `on_done` gets the session (see
/// `SafeconvSessionCallback`).
///
/// Arguments are checked now: a NULL or non-UTF-8 argument or a refused NIN is returned at
/// once and `on_done` is never called. Cancelling (`safeconv_operation_cancel`) before the
/// create request was sent sends nothing; cancelling once it was sent does not wait for
/// Signicat's answer: `on_done` gets `SAFECONV_CANCELLED` at once, and the session that
/// create makes is cancelled at Signicat in the background (`safeconv_client_free` lets those
/// cancels finish), so no BankID request is left on the caller's phone.
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
    ffi_boundary! {
        let op_id = opt_arg!(op_id_out);
        let (client, on_done) = (arg!(client), arg!(on_done));
        let conversation = client.conversation(arg!(nin), opt_arg!(options))?;
        client.run_async(
            op_id,
            |client, cancel| async move {
                client.start_safe_conversation_with(&conversation, &cancel).await
            },
            deliver_to(on_done, UserData::new(user_data)),
        )
    }
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
    ffi_boundary! {
        let op_id = opt_arg!(op_id_out);
        let (client, session, on_done) = (arg!(client), arg!(session).clone(), arg!(on_done));
        let user_data = UserData::new(user_data);
        client.run_async(
            op_id,
            |client, cancel| async move {
                let options = wait_options(timeout_ms, on_status, user_data, cancel);
                client.wait(&session, options).await
            },
            deliver_to(on_done, user_data),
        )
    }
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
    ffi_boundary! {
        let op_id = opt_arg!(op_id_out);
        let (client, id) = (arg!(client), arg!(session_id).to_owned());
        client.run_async(
            op_id,
            |client, cancel| async move { cancel.run_until_cancelled(client.get_session(&id)).await },
            deliver_to(arg!(on_done), UserData::new(user_data)),
        )
    }
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
    ffi_boundary! {
        let op_id = opt_arg!(op_id_out);
        let (client, id) = (arg!(client), arg!(session_id).to_owned());
        client.run_async(
            op_id,
            |client, cancel| {
                async move { cancel.run_until_cancelled(client.cancel_session(&id)).await }
            },
            deliver_to(arg!(on_done), UserData::new(user_data)),
        )
    }
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
    ffi_boundary! {
        if arg!(client).operations.cancel(op_id) {
            Ok(())
        } else {
            Err(Failure::no_such_operation(op_id))
        }
    }
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

    fn handle<'a>(client: *mut SafeconvClient) -> &'a ClientHandle {
        unsafe { &*client.cast::<ClientHandle>() }
    }

    /// A `deliver` that sends the result number to the returned receiver.
    fn results() -> (Deliver<()>, mpsc::Receiver<SafeconvResult>) {
        let (tx, rx) = mpsc::channel();
        let deliver: Deliver<()> = Box::new(move |result| {
            let _ = tx.send(
                result
                    .err()
                    .map_or(SafeconvResult::SAFECONV_OK, |e| e.result),
            );
        });
        (deliver, rx)
    }

    fn panics() -> Result<(), Error> {
        panic!("inside the operation")
    }

    #[test]
    fn a_panicking_operation_completes_with_panic() {
        let client = client(1000);
        let (deliver, rx) = results();
        let started = handle(client).run_async(None, |_, _| async { panics() }, deliver);
        assert!(started.is_ok());
        let got = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(got, SafeconvResult::SAFECONV_PANIC);
        unsafe { safeconv_client_free(client) };
    }

    #[test]
    fn an_operation_past_the_shutdown_timeout_completes_as_cancelled() {
        let client = client(100);
        let (deliver, rx) = results();
        let mut id = 0;
        // Ignores its cancel token: only the runtime's shutdown can stop it.
        handle(client)
            .run_async(
                Some(&mut id),
                |_, _| std::future::pending::<Result<(), Error>>(),
                deliver,
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
        let runtime = runtime::Builder::new_current_thread().build().unwrap();
        let refused = runtime.block_on(async { handle(client).blocking().err() });
        assert_eq!(
            refused.map(|e| e.result),
            Some(SafeconvResult::SAFECONV_WRONG_THREAD)
        );
        let ran = handle(client)
            .blocking()
            .and_then(|call| call.run(|_, _| async { Ok::<_, Error>(7) }));
        assert_eq!(ran.ok(), Some(7));
        unsafe { safeconv_client_free(client) };
    }

    #[test]
    fn a_freed_client_refuses_new_operations_but_cancels_running_ones() {
        let client = client(2000);
        let (deliver, rx) = results();
        handle(client)
            .run_async(
                None,
                |_, cancel| async move {
                    cancel
                        .run_until_cancelled(std::future::pending::<Result<(), Error>>())
                        .await
                },
                deliver,
            )
            .unwrap();
        handle(client).operations.close();
        let refused = handle(client).blocking().err().map(|e| e.result);
        assert_eq!(refused, Some(SafeconvResult::SAFECONV_CANCELLED));
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)),
            Ok(SafeconvResult::SAFECONV_CANCELLED)
        );
        unsafe { safeconv_client_free(client) };
    }
}
