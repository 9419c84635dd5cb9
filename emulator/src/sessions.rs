//! Sessions: their state, their status computed lazily from the creation time and the
//! user's behaviour (no task per session), cancellation, and their JSON form.

use std::collections::HashMap;

use serde::Serialize;

use crate::behaviour::{Status, Timeline};
use crate::clock::{UnixNanos, nanos_to_millis, rfc3339};
use crate::personas::Person;
use crate::wire::{EmulatorInfo, Environment, ErrorObject, IdpData, Nin, SessionObject, Subject};

/// The emulator's own view of a session, for tests (`Emulator::session`, `GET /emulator/sessions/{id}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// The session id.
    pub id: String,
    /// The status now, e.g. `WAITING_FOR_USER`.
    pub status: String,
    /// When the session became final (the exact scheduled moment, even if nobody read it then).
    pub final_at_unix_ms: Option<u64>,
    /// When the session was created.
    pub created_at_unix_ms: u64,
    /// When the session expires (`expiresAt`).
    pub expires_at_unix_ms: u64,
    /// How many cancel requests reached this session (accepted or refused).
    pub cancel_requests: u32,
}

/// Identity data fixed when the session is created and shown on `SUCCESS`.
#[derive(Clone, Debug)]
pub(crate) struct SubjectData {
    pub(crate) id: String,
    pub(crate) idp_id: String,
    pub(crate) serial_number: String,
    pub(crate) person: Person,
}

#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) account_id: String,
    pub(crate) nin: String,
    pub(crate) timeline: Timeline,
    pub(crate) created_at: UnixNanos,
    pub(crate) expires_at: UnixNanos,
    pub(crate) cancelled_at: Option<UnixNanos>,
    pub(crate) cancel_requests: u32,
    pub(crate) binding_message: String,
    pub(crate) allowed_providers: Vec<String>,
    pub(crate) flow: String,
    pub(crate) requested_attributes: Vec<String>,
    pub(crate) prefilled_input: serde_json::Map<String, serde_json::Value>,
    pub(crate) session_lifetime_secs: u64,
    pub(crate) ip_address: String,
    pub(crate) user_agent: Option<String>,
    pub(crate) tags: Option<Vec<String>>,
    pub(crate) external_reference: Option<String>,
    pub(crate) subject: SubjectData,
}

impl Session {
    pub(crate) fn status_at(&self, now: UnixNanos) -> Status {
        match self.cancelled_at {
            Some(at) if now >= at => Status::Cancelled,
            _ => self.timeline.status_at(now),
        }
    }

    /// When the session became final, if it is final at `now`.
    pub(crate) fn final_at(&self, now: UnixNanos) -> Option<UnixNanos> {
        match self.cancelled_at {
            Some(at) => (now >= at).then_some(at),
            None => (now >= self.timeline.final_at).then_some(self.timeline.final_at),
        }
    }

    /// Record a cancel request: a running session becomes `CANCELLED` now; a final one is
    /// left alone and its status returned as the error.
    pub(crate) fn cancel(&mut self, now: UnixNanos) -> Result<(), Status> {
        self.cancel_requests = self.cancel_requests.saturating_add(1);
        let status = self.status_at(now);
        if status.is_final() {
            return Err(status);
        }
        self.cancelled_at = Some(now);
        Ok(())
    }

    pub(crate) fn view(&self, now: UnixNanos) -> SessionView {
        SessionView {
            id: self.id.clone(),
            status: self.status_at(now).as_str().to_owned(),
            final_at_unix_ms: self.final_at(now).map(nanos_to_millis),
            created_at_unix_ms: nanos_to_millis(self.created_at),
            expires_at_unix_ms: nanos_to_millis(self.expires_at),
            cancel_requests: self.cancel_requests,
        }
    }

    /// The session object with the status at `now` (or `CREATED`, for the create response).
    pub(crate) fn to_wire(&self, status: Status) -> SessionObject {
        let requested = |name: &str| self.requested_attributes.iter().any(|a| a == name);
        let subject = (status == Status::Success).then(|| {
            let person = &self.subject.person;
            Subject {
                id: self.subject.id.clone(),
                idp_id: self.subject.idp_id.clone(),
                name: requested("name").then(|| person.name()),
                first_name: requested("firstName").then(|| person.first_name.clone()),
                last_name: requested("lastName").then(|| person.last_name.clone()),
                date_of_birth: if requested("dateOfBirth") {
                    person.date_of_birth.clone()
                } else {
                    None
                },
                nin: requested("nin").then(|| Nin {
                    value: self.nin.clone(),
                    issuing_country: "NO",
                    kind: "BIRTH",
                }),
                nbid_serial_number: self.subject.serial_number.clone(),
            }
        });
        let error = match (status, &self.timeline.error) {
            (Status::Error, Some(e)) => Some(ErrorObject {
                code: e.code.clone(),
                kind: "idp_error",
                title: e.title.clone(),
                detail: e.detail.clone(),
            }),
            _ => None,
        };
        SessionObject {
            id: self.id.clone(),
            account_id: self.account_id.clone(),
            status: status.as_str(),
            provider: (status != Status::Created).then_some("nbid"),
            subject,
            error,
            loa: (status == Status::Success).then_some("substantial"),
            idp_data: IdpData {
                binding_message: self.binding_message.clone(),
            },
            allowed_providers: self.allowed_providers.clone(),
            flow: self.flow.clone(),
            requested_attributes: self.requested_attributes.clone(),
            prefilled_input: self.prefilled_input.clone(),
            external_reference: self.external_reference.clone(),
            session_lifetime: self.session_lifetime_secs,
            expires_at: rfc3339(self.expires_at),
            environment: Environment {
                ip_address: self.ip_address.clone(),
                user_agent: self.user_agent.clone(),
            },
            tags: self.tags.clone(),
            emulator: EmulatorInfo { version: 1 },
        }
    }
}

/// All sessions, by id. Sessions long past their expiry are forgotten now and then.
#[derive(Debug, Default)]
pub(crate) struct SessionStore {
    by_id: HashMap<String, Session>,
    created_since_purge: usize,
}

/// A session is kept this long after it expires.
const KEEP_AFTER_EXPIRY_NANOS: u64 = 3_600 * 1_000_000_000;

impl SessionStore {
    pub(crate) fn insert(&mut self, session: Session, now: UnixNanos) {
        self.created_since_purge += 1;
        if self.created_since_purge >= 4096 {
            self.created_since_purge = 0;
            self.by_id
                .retain(|_, s| s.expires_at.saturating_add(KEEP_AFTER_EXPIRY_NANOS) > now);
        }
        self.by_id.insert(session.id.clone(), session);
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Session> {
        self.by_id.get(id)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.by_id.get_mut(id)
    }

    pub(crate) fn ids(&self) -> Vec<String> {
        self.by_id.keys().cloned().collect()
    }

    pub(crate) fn clear(&mut self) {
        self.by_id.clear();
        self.created_since_purge = 0;
    }
}
