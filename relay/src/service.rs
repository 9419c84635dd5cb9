//! The relay's domain: create, read and cancel for an authenticated agent, with the policy,
//! limits, ownership, poll cache and audit around each core call. HTTP knows nothing of this
//! beyond calling it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderName, StatusCode};
use bytes::Bytes;
use safeconv::Session;

use crate::audit::{Action, AuditEvent, AuditKey, NinTag, now_ms};
use crate::auth::{Agent, Authenticator};
use crate::metrics::Metrics;
use crate::policy::CreatePolicy;
use crate::poll_cache::{Entry, PollCache};
use crate::problem::Problem;
use crate::store::{
    CreateIntent, CreateResult, OnActiveSession, Refusal, Reservation, Store, Window,
};
use crate::upstream;

/// How much longer than the create deadline a create may stay `pending` before a relay takes it
/// as abandoned by one that stopped: time to record how it ended.
const RECORDING_MARGIN: Duration = Duration::from_secs(10);

/// How often each relay looks for creates abandoned by relays that stopped.
const HOUSEKEEPING: Duration = Duration::from_secs(5);

/// Per-NIN and per-agent create limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Creates per NIN (default 3 per 15 minutes).
    pub per_nin: Window,
    /// Creates per agent (default 30 per hour).
    pub per_agent: Window,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_nin: Window {
                max: 3,
                window_ms: 15 * 60 * 1000,
            },
            per_agent: Window {
                max: 30,
                window_ms: 60 * 60 * 1000,
            },
        }
    }
}

/// HTTP-level settings.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Origins allowed by CORS (none: no CORS headers; browsers cannot call the relay).
    pub allowed_origins: Vec<String>,
    /// The largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// How long a request may take before it is answered 504 (a create under way still
    /// finishes and is recorded).
    pub request_timeout: Duration,
    /// A header set by a trusted load balancer that carries the client's address (its last
    /// entry is used); `None` uses the TCP peer.
    pub client_address_header: Option<HeaderName>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            allowed_origins: Vec::new(),
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(60),
            client_address_header: None,
        }
    }
}

/// Everything a relay is made of.
pub struct RelayConfig {
    /// Signicat, through the core client.
    pub upstream: safeconv::Client,
    /// Sessions, limits and audit.
    pub store: Arc<dyn Store>,
    /// Hashes NINs (the store's audit key too).
    pub audit_key: AuditKey,
    /// Agent credentials.
    pub auth: Authenticator,
    /// What a create may contain.
    pub policy: CreatePolicy,
    /// Create limits.
    pub limits: Limits,
    /// What to do about a create for a NIN with an active session.
    pub on_active_session: OnActiveSession,
    /// Polls closer together than this are answered from the last upstream answer.
    pub min_poll_interval: Duration,
    /// How long a final answer is kept in memory.
    pub keep_final: Duration,
    /// The longest the upstream part of a create may take (cancelling the session it replaces
    /// and the create with the core's retry); past it the create is audited as one that may
    /// exist. A create pending longer than this (plus a margin) was abandoned by a relay that
    /// stopped.
    pub create_deadline: Duration,
    /// HTTP settings.
    pub http: HttpSettings,
}

/// A running relay's state: build it with [`Relay::start`], serve it with
/// [`Relay::router`](crate::Relay::router). Cheap to clone.
#[derive(Clone)]
pub struct Relay {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) upstream: safeconv::Client,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) audit_key: AuditKey,
    pub(crate) auth: Authenticator,
    pub(crate) policy: CreatePolicy,
    pub(crate) limits: Limits,
    pub(crate) on_active: OnActiveSession,
    pub(crate) min_poll_interval: Duration,
    pub(crate) keep_final: Duration,
    pub(crate) create_deadline: Duration,
    pub(crate) http: HttpSettings,
    pub(crate) cache: PollCache,
    pub(crate) metrics: Metrics,
    pub(crate) unrecorded: Unrecorded,
}

/// Cancels done at Signicat while the database could not be written, to be recorded when it
/// is back (the housekeeping task tries every few seconds). Kept in memory, at most
/// [`Unrecorded::MAX`]; if the relay stops first they are lost, and said so in the log.
#[derive(Default)]
pub(crate) struct Unrecorded {
    cancels: std::sync::Mutex<std::collections::VecDeque<UnrecordedCancel>>,
}

pub(crate) struct UnrecordedCancel {
    session_id: String,
    status: String,
    is_final: bool,
    event: AuditEvent,
}

impl UnrecordedCancel {
    async fn record(&self, store: &dyn Store) -> Result<(), crate::store::StoreError> {
        store
            .record_cancel(
                &self.session_id,
                &self.status,
                self.is_final,
                self.event.clone(),
            )
            .await
    }
}

impl Unrecorded {
    const MAX: usize = 10_000;

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<UnrecordedCancel>> {
        self.cancels.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn keep(&self, cancel: UnrecordedCancel) {
        let mut cancels = self.lock();
        if cancels.len() >= Self::MAX
            && let Some(dropped) = cancels.pop_front()
        {
            tracing::error!(session_id = %dropped.session_id, "too many unrecorded cancels; the oldest is dropped unrecorded");
        }
        cancels.push_back(cancel);
    }

    /// Records what it can, oldest first; stops at the first failure.
    async fn record(&self, store: &dyn Store) {
        loop {
            let Some(cancel) = self.lock().pop_front() else {
                return;
            };
            if cancel.record(store).await.is_err() {
                self.lock().push_front(cancel);
                return;
            }
            tracing::info!(session_id = %cancel.session_id, "a cancel made while the database was away is recorded");
        }
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

impl Drop for Unrecorded {
    fn drop(&mut self) {
        let n = self.lock().len();
        if n > 0 {
            tracing::error!(
                cancels = n,
                "the relay stops with cancels it could not record"
            );
        }
    }
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("store", &self.inner.store)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// Who asks, from where.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The authenticated agent.
    pub agent: Agent,
    /// The agent's address.
    pub address: String,
}

impl Relay {
    /// Starts a relay: marks creates a previous run left under way as interrupted, and starts
    /// the housekeeping task (cache sweep, agent key file reload, metrics upkeep).
    pub async fn start(config: RelayConfig) -> Result<Relay, crate::store::StoreError> {
        let stale_after = stale_after_ms(config.create_deadline);
        let interrupted = config
            .store
            .recover_interrupted(now_ms(), stale_after)
            .await?;
        if interrupted > 0 {
            tracing::warn!(
                creates = interrupted,
                "creates were under way when the relay last stopped; whether Signicat acted on them is unknown (audited as interrupted)"
            );
        }
        let relay = Relay {
            inner: Arc::new(Inner {
                upstream: config.upstream,
                store: config.store,
                audit_key: config.audit_key,
                auth: config.auth,
                policy: config.policy,
                limits: config.limits,
                on_active: config.on_active_session,
                min_poll_interval: config.min_poll_interval,
                keep_final: config.keep_final,
                create_deadline: config.create_deadline,
                http: config.http,
                cache: PollCache::default(),
                metrics: Metrics::new(),
                unrecorded: Unrecorded::default(),
            }),
        };
        let weak = Arc::downgrade(&relay.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HOUSEKEEPING);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                inner.cache.sweep(inner.keep_final, now_ms());
                inner.metrics.upkeep();
                if let Some(keys) = inner.auth.agent_keys() {
                    keys.reload_if_changed();
                }
                inner.unrecorded.record(&*inner.store).await;
                let stale_after = stale_after_ms(inner.create_deadline);
                match inner.store.expire_stale(now_ms(), stale_after).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(
                        creates = n,
                        "creates left under way by a relay that stopped; whether Signicat acted on them is unknown (audited as interrupted)"
                    ),
                    // The database is away: the next round tries again.
                    Err(e) => tracing::debug!(error = %e, "stale creates not checked"),
                }
            }
        });
        Ok(relay)
    }

    /// The authenticator (for the HTTP layer).
    pub fn authenticator(&self) -> &Authenticator {
        &self.inner.auth
    }

    /// The HTTP settings.
    pub fn http_settings(&self) -> &HttpSettings {
        &self.inner.http
    }

    /// Counts a refusal that happened before the domain was reached (authentication, size).
    pub(crate) fn count_refusal(&self, reason: &str) {
        self.inner.metrics.refusal(reason);
    }

    fn event(&self, action: Action, caller: &Caller) -> AuditEvent {
        let mut event = AuditEvent::new(action);
        event.agent_id = Some(caller.agent.id.clone());
        event.client_addr = Some(caller.address.clone());
        event
    }

    /// Audits a refusal made at the HTTP level (media type, size) and returns its answer.
    pub(crate) async fn refuse_request(
        &self,
        caller: &Caller,
        problem: Problem,
        reason: &str,
    ) -> Problem {
        self.refuse(caller, problem, reason, None, None).await
    }

    /// Audits a refusal; if even that cannot be written, the answer is 503.
    async fn refuse(
        &self,
        caller: &Caller,
        problem: Problem,
        reason: &str,
        nin: Option<NinTag>,
        session_id: Option<&str>,
    ) -> Problem {
        self.inner.metrics.refusal(reason);
        let mut event = self.event(Action::Refused, caller);
        event.status = Some(problem.status().as_u16().to_string());
        event.reason = Some(reason.to_owned());
        event.nin = nin;
        event.session_id = session_id.map(str::to_owned);
        match self.inner.store.append_audit(event).await {
            Ok(()) => problem,
            Err(e) => {
                tracing::error!(error = %e, "a refusal could not be audited");
                Problem::store_unavailable()
            }
        }
    }

    /// Creates a Safe Conversation for `caller` from a Signicat create body; answers with
    /// Signicat's session JSON.
    pub async fn create(&self, caller: Caller, body: Bytes) -> Result<Bytes, Problem> {
        // Runs to the end even if the agent goes away or the request times out: a create that
        // was sent must be recorded, whatever happens to the connection.
        let relay = self.clone();
        tokio::spawn(async move { relay.create_to_end(&caller, &body).await })
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "a create task failed");
                Err(Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_server_error",
                    "Internal server error",
                ))
            })
    }

    async fn create_to_end(&self, caller: &Caller, body: &[u8]) -> Result<Bytes, Problem> {
        let inner = &*self.inner;
        let allowed = match inner.policy.check(body) {
            Ok(allowed) => allowed,
            Err(refusal) => {
                return Err(self
                    .refuse(caller, refusal.problem, &refusal.reason, None, None)
                    .await);
            }
        };
        let nin = inner.audit_key.nin_tag(&allowed.nin);
        let intent = CreateIntent {
            agent_id: caller.agent.id.clone(),
            client_addr: caller.address.clone(),
            nin: nin.clone(),
            now_ms: now_ms(),
            per_nin: inner.limits.per_nin,
            per_agent: inner.limits.per_agent,
            on_active: inner.on_active,
            stale_after_ms: stale_after_ms(inner.create_deadline),
        };
        let reservation = inner.store.reserve_create(&intent).await.map_err(|e| {
            tracing::error!(error = %e, nin = %nin.masked, "create not recorded; nothing sent");
            inner.metrics.refusal("store_unavailable");
            Problem::store_unavailable()
        })?;
        let (key, replaces) = match reservation {
            Reservation::Granted { key, replaces } => (key, replaces),
            Reservation::Refused(refusal) => {
                inner.metrics.refusal(refusal.reason());
                tracing::info!(agent = %caller.agent.id, nin = %nin.masked, reason = refusal.reason(), "create refused");
                return Err(refusal_problem(&refusal, &inner.limits));
            }
        };

        // The guide's order: cancel the NIN's running session first, then create; both within
        // the create deadline.
        let deadline = tokio::time::Instant::now() + inner.create_deadline;
        let mut replaced = None;
        if let Some(old) = replaces {
            match within(deadline, self.upstream_cancel(&old.session_id)).await {
                Ok(session) => {
                    let status = session.status.as_str().to_owned();
                    self.remember(&old.session_id, &old.agent_id, &session);
                    replaced = Some((old, status));
                }
                Err(e) => {
                    let mut event = self.event(Action::CreateFailed, caller);
                    event.nin = Some(nin.clone());
                    event.session_id = Some(old.session_id.clone());
                    event.reason = Some(format!(
                        "previous_session_not_cancelled:{}",
                        upstream::reason_code(&e)
                    ));
                    if let Err(store) = inner.store.abandon_create(key, Some(&old), event).await {
                        tracing::error!(error = %store, "an abandoned create could not be recorded");
                    }
                    tracing::warn!(error = %e, nin = %nin.masked, "the NIN's previous session could not be cancelled; nothing created");
                    return Err(upstream::problem_for(&e));
                }
            }
        }

        let started = Instant::now();
        let created = within(deadline, inner.upstream.create_session(&allowed.request)).await;
        inner
            .metrics
            .upstream("create", created.is_ok(), started.elapsed());

        let mut audit = Vec::new();
        if let Some((old, status)) = &replaced {
            let mut event = self.event(Action::Cancel, caller);
            event.nin = Some(nin.clone());
            event.session_id = Some(old.session_id.clone());
            event.status = Some(status.clone());
            event.reason = Some("replaced".to_owned());
            audit.push(event);
        }
        let replaced_ref = replaced.as_ref().map(|(old, status)| (old, status.clone()));
        match created {
            Ok(session) => {
                let status = session.status.as_str().to_owned();
                let result = CreateResult::Created {
                    session_id: session.id.clone(),
                    status: status.clone(),
                    is_final: session.status.is_final(),
                    expires_at_ms: session.expires_at.map(|t| t.unix_millis()),
                };
                let mut event = self.event(Action::Created, caller);
                event.nin = Some(nin.clone());
                event.session_id = Some(session.id.clone());
                event.status = Some(status);
                audit.push(event);
                if let Err(e) = inner
                    .store
                    .complete_create(key, &result, replaced_ref, audit)
                    .await
                {
                    // A session the relay cannot record must not keep running.
                    tracing::error!(error = %e, session_id = %session.id, "a created session could not be recorded; cancelling it");
                    if let Err(e) = self.upstream_cancel(&session.id).await {
                        tracing::error!(error = %e, session_id = %session.id, "could not cancel an unrecorded session");
                    }
                    inner.metrics.create("unrecorded");
                    return Err(Problem::store_unavailable());
                }
                inner.metrics.create("created");
                tracing::info!(agent = %caller.agent.id, nin = %nin.masked, session_id = %session.id, "session created");
                Ok(self.remember(&session.id, &caller.agent.id, &session))
            }
            Err(error) => {
                let certainly_not_created = upstream::certainly_not_created(&error);
                let reason = upstream::reason_code(&error);
                let mut event = self.event(Action::CreateFailed, caller);
                event.nin = Some(nin.clone());
                event.reason = Some(format!(
                    "{reason}:{}",
                    if certainly_not_created {
                        "not_created"
                    } else {
                        "may_exist"
                    }
                ));
                audit.push(event);
                let result = CreateResult::Failed {
                    reason,
                    certainly_not_created,
                };
                if let Err(e) = inner
                    .store
                    .complete_create(key, &result, replaced_ref, audit)
                    .await
                {
                    tracing::error!(error = %e, "a failed create could not be recorded (it stays pending until recovered)");
                }
                inner.metrics.create(if certainly_not_created {
                    "failed"
                } else {
                    "unknown"
                });
                tracing::warn!(agent = %caller.agent.id, nin = %nin.masked, error = %error, "create failed");
                Err(upstream::problem_for(&error))
            }
        }
    }

    /// Reads a session the caller created; answers with Signicat's session JSON.
    pub async fn get(&self, caller: &Caller, session_id: &str) -> Result<Bytes, Problem> {
        let inner = &*self.inner;
        let cached = self.owned(caller, session_id).await?;
        if let Some(entry) = &cached
            && (entry.is_final || entry.fetched_at.elapsed() < inner.min_poll_interval)
        {
            inner.metrics.read("cache");
            return Ok(entry.body.clone());
        }
        let started = Instant::now();
        let read = inner.upstream.get_session(session_id).await;
        inner
            .metrics
            .upstream("get", read.is_ok(), started.elapsed());
        let session = read.map_err(|e| upstream::problem_for(&e))?;
        inner.metrics.read("upstream");
        if session.status.is_final() && !cached.as_ref().is_some_and(|e| e.is_final) {
            let status = session.status.as_str();
            let mut event = self.event(Action::Outcome, caller);
            event.session_id = Some(session_id.to_owned());
            event.status = Some(status.to_owned());
            match inner.store.record_outcome(session_id, status, event).await {
                Ok(true) => inner.metrics.outcome(status),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %e, session_id, "an outcome could not be recorded");
                    // Not cached as final, so a later read records it.
                    return Ok(self.remember_running(session_id, &caller.agent.id, &session));
                }
            }
        }
        Ok(self.remember(session_id, &caller.agent.id, &session))
    }

    /// Cancels a session the caller created; answers with Signicat's session JSON.
    pub async fn cancel(&self, caller: &Caller, session_id: &str) -> Result<Bytes, Problem> {
        let inner = &*self.inner;
        let cached = self.owned(caller, session_id).await?;
        let already_ended = cached.as_ref().is_some_and(|e| e.is_final);
        let (body, status, is_final) = match cached.filter(|e| e.is_final) {
            // Already ended: the answer is what it ended as (cancel is idempotent).
            Some(entry) => (entry.body, entry.status, true),
            None => {
                let session = self
                    .upstream_cancel(session_id)
                    .await
                    .map_err(|e| upstream::problem_for(&e))?;
                let status = session.status.as_str().to_owned();
                let is_final = session.status.is_final();
                (
                    self.remember(session_id, &caller.agent.id, &session),
                    status,
                    is_final,
                )
            }
        };
        let mut event = self.event(Action::Cancel, caller);
        event.session_id = Some(session_id.to_owned());
        event.status = Some(status.clone());
        let cancel = UnrecordedCancel {
            session_id: session_id.to_owned(),
            status: status.clone(),
            is_final,
            event,
        };
        if let Err(e) = cancel.record(&*inner.store).await {
            // Stopping a push is never held back by the database: the cancel is done, and
            // recorded once the database is back.
            tracing::error!(error = %e, session_id, "a cancel could not be recorded yet; it is kept to be recorded later");
            inner.unrecorded.keep(cancel);
        }
        if is_final && !already_ended {
            inner.metrics.outcome(&status);
        }
        tracing::info!(agent = %caller.agent.id, session_id, status = %status, "session cancelled");
        Ok(body)
    }

    /// The cached entry if the caller owns the session; 404 (audited) if it does not exist or
    /// belongs to another agent.
    async fn owned(&self, caller: &Caller, session_id: &str) -> Result<Option<Entry>, Problem> {
        let inner = &*self.inner;
        if let Some(entry) = inner.cache.get(session_id) {
            if *entry.owner == *caller.agent.id {
                return Ok(Some(entry));
            }
            return Err(self
                .refuse(
                    caller,
                    Problem::session_not_found(),
                    "not_owner",
                    None,
                    Some(session_id),
                )
                .await);
        }
        let record = inner.store.session(session_id).await.map_err(|e| {
            tracing::error!(error = %e, "session ownership could not be read");
            Problem::store_unavailable()
        })?;
        match record {
            Some(record) if record.agent_id == caller.agent.id => Ok(None),
            Some(record) => Err(self
                .refuse(
                    caller,
                    Problem::session_not_found(),
                    "not_owner",
                    Some(record.nin),
                    Some(session_id),
                )
                .await),
            None => Err(self
                .refuse(
                    caller,
                    Problem::session_not_found(),
                    "unknown_session",
                    None,
                    Some(session_id),
                )
                .await),
        }
    }

    async fn upstream_cancel(&self, session_id: &str) -> safeconv::Result<Session> {
        let started = Instant::now();
        let result = self.inner.upstream.cancel_session(session_id).await;
        self.inner
            .metrics
            .upstream("cancel", result.is_ok(), started.elapsed());
        result
    }

    fn remember(&self, session_id: &str, owner: &str, session: &Session) -> Bytes {
        self.cache(session_id, owner, session, session.status.is_final())
    }

    fn remember_running(&self, session_id: &str, owner: &str, session: &Session) -> Bytes {
        self.cache(session_id, owner, session, false)
    }

    fn cache(&self, session_id: &str, owner: &str, session: &Session, is_final: bool) -> Bytes {
        let body = Bytes::from(serde_json::to_vec(session).unwrap_or_default());
        self.inner.cache.put(
            session_id,
            Entry {
                owner: Arc::from(owner),
                body: body.clone(),
                status: session.status.as_str().to_owned(),
                is_final,
                fetched_at: Instant::now(),
                expires_at_ms: session.expires_at.map(|t| t.unix_millis()),
            },
        );
        body
    }

    /// Whether the database answers and a Signicat token can be had (for `/readyz`).
    pub async fn ready(&self) -> Result<(), String> {
        let inner = &*self.inner;
        let limit = Duration::from_secs(5);
        match tokio::time::timeout(limit, inner.store.ping()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err("database: no answer within 5 s".to_owned()),
        }
        match tokio::time::timeout(limit, inner.upstream.authenticate()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("Signicat token: {e}")),
            Err(_) => Err("Signicat token: no answer within 5 s".to_owned()),
        }
    }

    /// The Prometheus exposition.
    pub async fn metrics(&self) -> String {
        let active = match tokio::time::timeout(
            Duration::from_secs(2),
            self.inner.store.active_sessions(now_ms()),
        )
        .await
        {
            Ok(Ok(n)) => Some(n),
            _ => None,
        };
        self.inner.metrics.render(active)
    }

    /// How many session answers are in memory.
    pub fn cached_sessions(&self) -> usize {
        self.inner.cache.len()
    }

    /// How many cancels wait to be recorded (made while the database could not be written).
    pub fn unrecorded_cancels(&self) -> usize {
        self.inner.unrecorded.len()
    }
}

/// How long a create may stay `pending` before it counts as abandoned.
fn stale_after_ms(create_deadline: Duration) -> i64 {
    i64::try_from((create_deadline + RECORDING_MARGIN).as_millis()).unwrap_or(i64::MAX)
}

/// `work`, or a timeout once `deadline` has passed (what Signicat did with it is then unknown).
async fn within<T>(
    deadline: tokio::time::Instant,
    work: impl Future<Output = safeconv::Result<T>>,
) -> safeconv::Result<T> {
    tokio::time::timeout_at(deadline, work)
        .await
        .unwrap_or_else(|_| {
            Err(safeconv::Error::Transport {
                kind: safeconv::TransportErrorKind::Timeout,
                message: "the create deadline passed before Signicat answered".to_owned(),
            })
        })
}

fn refusal_problem(refusal: &Refusal, limits: &Limits) -> Problem {
    match refusal {
        Refusal::NinLimit { retry_after_ms } => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many requests",
        )
        .detail(format!(
            "at most {} sessions per person per {} minutes; nothing was sent to the caller's phone",
            limits.per_nin.max,
            limits.per_nin.window_ms / 60_000
        ))
        .retry_after(Duration::from_millis(*retry_after_ms as u64)),
        Refusal::AgentLimit { retry_after_ms } => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many requests",
        )
        .detail(format!(
            "at most {} sessions per agent per {} minutes",
            limits.per_agent.max,
            limits.per_agent.window_ms / 60_000
        ))
        .retry_after(Duration::from_millis(*retry_after_ms as u64)),
        Refusal::InProgress => Problem::new(
            StatusCode::CONFLICT,
            "session_in_progress",
            "A session for this person is being started",
        )
        .detail("another create for this national identity number is under way")
        .retry_after(Duration::from_secs(1)),
        Refusal::ActiveSession => Problem::new(
            StatusCode::CONFLICT,
            "active_session_exists",
            "This person already has an active session",
        )
        .detail("cancel it, or wait until it ends, before starting another"),
    }
}
