//! Request counters, for tests that assert how a client behaved.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::faults::Endpoint;

/// How many requests of each kind the emulator has seen since start or the last reset.
/// Admin requests and CORS preflights are not counted.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// Requests to the token endpoint, including faulted and refused ones.
    pub token_requests: u64,
    /// Access tokens handed out.
    pub tokens_issued: u64,
    /// Create-session requests, including faulted and refused ones.
    pub create_requests: u64,
    /// Sessions actually created.
    pub sessions_created: u64,
    /// Get-session requests, including faulted and refused ones.
    pub get_requests: u64,
    /// Cancel requests, including faulted and refused ones.
    pub cancel_requests: u64,
    /// Requests answered with an injected fault.
    pub faults_injected: u64,
    /// 401s for a missing, unknown or expired bearer token, or a forced `RejectToken` fault on
    /// an API endpoint (not the token endpoint's `invalid_client`).
    pub tokens_rejected: u64,
    /// HTTPS connections whose TLS handshake failed: the client refused the certificate (or
    /// spoke plain HTTP to the HTTPS port), so it sent no request on them.
    pub tls_handshakes_failed: u64,
}

#[derive(Debug, Default)]
pub(crate) struct CounterSet {
    pub(crate) token_requests: AtomicU64,
    pub(crate) tokens_issued: AtomicU64,
    pub(crate) create_requests: AtomicU64,
    pub(crate) sessions_created: AtomicU64,
    pub(crate) get_requests: AtomicU64,
    pub(crate) cancel_requests: AtomicU64,
    pub(crate) faults_injected: AtomicU64,
    pub(crate) tokens_rejected: AtomicU64,
    pub(crate) tls_handshakes_failed: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl CounterSet {
    pub(crate) fn count_request(&self, endpoint: Endpoint) {
        bump(match endpoint {
            Endpoint::Token => &self.token_requests,
            Endpoint::CreateSession => &self.create_requests,
            Endpoint::GetSession => &self.get_requests,
            Endpoint::CancelSession => &self.cancel_requests,
        });
    }

    pub(crate) fn snapshot(&self) -> Counters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counters {
            token_requests: get(&self.token_requests),
            tokens_issued: get(&self.tokens_issued),
            create_requests: get(&self.create_requests),
            sessions_created: get(&self.sessions_created),
            get_requests: get(&self.get_requests),
            cancel_requests: get(&self.cancel_requests),
            faults_injected: get(&self.faults_injected),
            tokens_rejected: get(&self.tokens_rejected),
            tls_handshakes_failed: get(&self.tls_handshakes_failed),
        }
    }

    pub(crate) fn reset(&self) {
        for c in [
            &self.token_requests,
            &self.tokens_issued,
            &self.create_requests,
            &self.sessions_created,
            &self.get_requests,
            &self.cancel_requests,
            &self.faults_injected,
            &self.tokens_rejected,
            &self.tls_handshakes_failed,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}
