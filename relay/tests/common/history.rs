//! Audit records and sessions from years ago, written through the store as a relay writes them
//! (the same rules, the same chain), with the times of those years: what `audit prune` finds
//! in a database a deployment has used for a while. Each function is one real store call on a
//! real database.

use safeconv_relay::audit::{Action, AuditEvent};
use safeconv_relay::store::{
    CreateIntent, CreateResult, OnActiveSession, Reservation, SqlStore, Store, Window,
};
use safeconv_relay::{AuditKey, NinTag};

use super::nin;

/// 2020-01-01T00:00:00Z.
pub const Y2020: i64 = 1_577_836_800_000;
/// 2021-01-01T00:00:00Z.
pub const Y2021: i64 = 1_609_459_200_000;
/// 2022-01-01T00:00:00Z.
pub const Y2022: i64 = 1_640_995_200_000;
/// 2023-01-01T00:00:00Z.
pub const Y2023: i64 = 1_672_531_200_000;
pub const MINUTE: i64 = 60_000;

/// How a create ends.
pub enum Ending<'a> {
    /// Signicat refused it: no session.
    Failed,
    /// Created as this session, which ended with this status.
    Final(&'a str, &'a str),
    /// Created as this session, still active (until its `expiresAt`, if any).
    Open(&'a str, Option<i64>),
}

/// Writes as a relay would, at the times it is told.
pub struct History<'a> {
    pub store: &'a SqlStore,
    pub key: &'a AuditKey,
}

impl History<'_> {
    pub fn tag(&self, n: usize) -> NinTag {
        self.key.nin_tag(&safeconv::Nin::parse(&nin(n)).unwrap())
    }

    /// Records a create for NIN `n` by `agent` at `at_ms` (row `pending`, audit `create`).
    pub async fn reserve(&self, agent: &str, n: usize, at_ms: i64) -> i64 {
        let intent = CreateIntent {
            agent_id: agent.to_owned(),
            client_addr: "127.0.0.1".to_owned(),
            nin: self.tag(n),
            now_ms: at_ms,
            per_nin: Window {
                max: 3,
                window_ms: 900_000,
            },
            per_agent: Window {
                max: 1000,
                window_ms: 3_600_000,
            },
            on_active: OnActiveSession::Refuse,
            stale_after_ms: 70_000,
        };
        match self.store.reserve_create(&intent).await.unwrap() {
            Reservation::Granted { key, .. } => key,
            refused => panic!("{refused:?}"),
        }
    }

    /// Completes reservation `row` (for NIN `n` by `agent`) at `at_ms`, as `ending` says.
    pub async fn complete(&self, row: i64, agent: &str, n: usize, at_ms: i64, ending: Ending<'_>) {
        let (result, action, session_id) = match ending {
            Ending::Failed => (
                CreateResult::Failed {
                    reason: "api_400".to_owned(),
                    certainly_not_created: true,
                },
                Action::CreateFailed,
                None,
            ),
            Ending::Final(id, status) => (
                CreateResult::Created {
                    session_id: id.to_owned(),
                    status: status.to_owned(),
                    is_final: true,
                    expires_at_ms: None,
                },
                Action::Created,
                Some(id),
            ),
            Ending::Open(id, expires_at_ms) => (
                CreateResult::Created {
                    session_id: id.to_owned(),
                    status: "CREATED".to_owned(),
                    is_final: false,
                    expires_at_ms,
                },
                Action::Created,
                Some(id),
            ),
        };
        let event = AuditEvent {
            at_ms,
            agent_id: Some(agent.to_owned()),
            client_addr: Some("127.0.0.1".to_owned()),
            session_id: session_id.map(str::to_owned),
            nin: Some(self.tag(n)),
            ..AuditEvent::new(action)
        };
        self.store
            .complete_create(row, &result, None, vec![event])
            .await
            .unwrap();
    }

    /// A session created and ended (SUCCESS) a second later: two records.
    pub async fn ended(&self, agent: &str, n: usize, at_ms: i64, session_id: &str) {
        let row = self.reserve(agent, n, at_ms).await;
        self.complete(
            row,
            agent,
            n,
            at_ms + 1000,
            Ending::Final(session_id, "SUCCESS"),
        )
        .await;
    }

    /// A refusal (not owner) at `at_ms`: one record.
    pub async fn refusal(&self, agent: &str, at_ms: i64) {
        let event = AuditEvent {
            at_ms,
            agent_id: Some(agent.to_owned()),
            client_addr: Some("127.0.0.1".to_owned()),
            status: Some("404".to_owned()),
            reason: Some("not_owner".to_owned()),
            ..AuditEvent::new(Action::Refused)
        };
        self.store.append_audit(event).await.unwrap();
    }
}
