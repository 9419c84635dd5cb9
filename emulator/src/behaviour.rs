//! Scripted end-users: what the person behind a NIN does in the BankID app, as a timeline.

use std::time::Duration;

use crate::clock::{UnixNanos, duration_nanos};

/// What the end-user does after the session is created.
///
/// Every behaviour starts in `CREATED`; the app "shows" the request (status `WAITING_FOR_USER`)
/// a little later, and the final status comes at the stated time unless the session expires or
/// is cancelled first.
#[derive(Clone, Debug, PartialEq)]
pub enum Behaviour {
    /// `WAITING_FOR_USER` after `min(after / 2, 500 ms)`, then `SUCCESS` at `after`.
    Approve {
        /// When the user has approved, counted from the creation of the session.
        after: Duration,
    },
    /// `WAITING_FOR_USER` after `min(after / 2, 500 ms)`, then `ABORT` (declined in the app) at `after`.
    Decline {
        /// When the user has declined, counted from the creation of the session.
        after: Duration,
    },
    /// Like [`Behaviour::Decline`], but the final status is spelt `ABORTED`, as Signicat's own
    /// .NET SDK names it (the guide says `ABORT`): clients must read both as the decline.
    DeclineAborted {
        /// When the user has declined, counted from the creation of the session.
        after: Duration,
    },
    /// `WAITING_FOR_USER` after `min(after / 2, 500 ms)`, then `ERROR` with `error.code = code` at `after`.
    Fail {
        /// When the authentication fails, counted from the creation of the session.
        after: Duration,
        /// The `error.code` of the session, e.g. `authentication_failed`.
        code: String,
    },
    /// `WAITING_FOR_USER` after 200 ms until `expiresAt`, then `EXPIRED`.
    NeverAnswer,
    /// `ERROR` with code `no_bankid_app` after 200 ms: the user has only a code device, and
    /// Safe Conversation needs the app (the code is our inference; Signicat documents only `ERROR`).
    NoApp,
}

/// Session statuses, as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Created,
    WaitingForUser,
    Success,
    Error,
    Abort,
    /// The decline as the .NET SDK spells it.
    Aborted,
    Cancelled,
    Expired,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Created => "CREATED",
            Status::WaitingForUser => "WAITING_FOR_USER",
            Status::Success => "SUCCESS",
            Status::Error => "ERROR",
            Status::Abort => "ABORT",
            Status::Aborted => "ABORTED",
            Status::Cancelled => "CANCELLED",
            Status::Expired => "EXPIRED",
        }
    }

    pub(crate) fn is_final(self) -> bool {
        !matches!(self, Status::Created | Status::WaitingForUser)
    }
}

/// The `error` object of a session in status `ERROR`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct IdpError {
    pub(crate) code: String,
    pub(crate) title: String,
    pub(crate) detail: String,
}

impl IdpError {
    pub(crate) fn new(code: &str) -> Self {
        let (title, detail) = match code {
            "authentication_failed" => (
                "Authentication failed".to_owned(),
                "The end-user could not be authenticated with Norwegian BankID.".to_owned(),
            ),
            "no_bankid_app" => (
                "BankID app not available".to_owned(),
                "The end-user has no BankID app; Safe Conversation requires the BankID app."
                    .to_owned(),
            ),
            other => {
                let words = other.replace(['_', '-'], " ");
                let mut chars = words.chars();
                let title = match chars.next() {
                    Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
                    None => "Error".to_owned(),
                };
                (
                    title,
                    format!("The identity provider reported the error '{other}'."),
                )
            }
        };
        IdpError {
            code: code.to_owned(),
            title,
            detail,
        }
    }
}

/// When a session changes status if nobody cancels it.
#[derive(Clone, Debug)]
pub(crate) struct Timeline {
    /// When the app shows the request (`WAITING_FOR_USER`), if it ever does.
    pub(crate) waiting_at: Option<UnixNanos>,
    /// When the session becomes final.
    pub(crate) final_at: UnixNanos,
    pub(crate) final_status: Status,
    pub(crate) error: Option<IdpError>,
}

const SHOWN_AFTER_MAX: Duration = Duration::from_millis(500);
const QUICK: Duration = Duration::from_millis(200);

impl Behaviour {
    /// The timeline of a session created at `created` that expires at `expires`.
    pub(crate) fn timeline(&self, created: UnixNanos, expires: UnixNanos) -> Timeline {
        let at = |d: Duration| created.saturating_add(duration_nanos(d));
        let (waiting_at, final_at, final_status, error) = match self {
            Behaviour::Approve { after } => (
                Some(at((*after / 2).min(SHOWN_AFTER_MAX))),
                at(*after),
                Status::Success,
                None,
            ),
            Behaviour::Decline { after } => (
                Some(at((*after / 2).min(SHOWN_AFTER_MAX))),
                at(*after),
                Status::Abort,
                None,
            ),
            Behaviour::DeclineAborted { after } => (
                Some(at((*after / 2).min(SHOWN_AFTER_MAX))),
                at(*after),
                Status::Aborted,
                None,
            ),
            Behaviour::Fail { after, code } => (
                Some(at((*after / 2).min(SHOWN_AFTER_MAX))),
                at(*after),
                Status::Error,
                Some(IdpError::new(code)),
            ),
            Behaviour::NeverAnswer => (Some(at(QUICK)), expires, Status::Expired, None),
            Behaviour::NoApp => (
                None,
                at(QUICK),
                Status::Error,
                Some(IdpError::new("no_bankid_app")),
            ),
        };
        if final_at >= expires && final_status != Status::Expired {
            return Timeline {
                waiting_at,
                final_at: expires,
                final_status: Status::Expired,
                error: None,
            };
        }
        Timeline {
            waiting_at,
            final_at,
            final_status,
            error,
        }
    }
}

impl Timeline {
    /// The status at `now`, ignoring cancellation.
    pub(crate) fn status_at(&self, now: UnixNanos) -> Status {
        if now >= self.final_at {
            self.final_status
        } else if self.waiting_at.is_some_and(|w| now >= w) {
            Status::WaitingForUser
        } else {
            Status::Created
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn approve_timeline() {
        let t = Behaviour::Approve {
            after: Duration::from_millis(300),
        }
        .timeline(0, 10_000 * MS);
        assert_eq!(t.status_at(0), Status::Created);
        assert_eq!(t.status_at(150 * MS), Status::WaitingForUser);
        assert_eq!(t.status_at(300 * MS), Status::Success);
        assert_eq!(t.final_at, 300 * MS);
        let long = Behaviour::Approve {
            after: Duration::from_secs(4),
        }
        .timeline(0, 10_000 * MS);
        assert_eq!(long.waiting_at, Some(500 * MS));
    }

    #[test]
    fn expiry_wins_over_a_late_answer() {
        let t = Behaviour::Decline {
            after: Duration::from_secs(20),
        }
        .timeline(0, 2_000 * MS);
        assert_eq!(t.status_at(2_000 * MS), Status::Expired);
        let n = Behaviour::NeverAnswer.timeline(0, 2_000 * MS);
        assert_eq!(n.status_at(1_999 * MS), Status::WaitingForUser);
        assert_eq!(n.status_at(2_000 * MS), Status::Expired);
    }

    #[test]
    fn the_other_spelling_of_the_decline_is_final() {
        let t = Behaviour::DeclineAborted {
            after: Duration::from_millis(300),
        }
        .timeline(0, 10_000 * MS);
        assert_eq!(t.status_at(300 * MS).as_str(), "ABORTED");
        assert!(t.status_at(300 * MS).is_final());
    }

    #[test]
    fn no_app_errors_quickly() {
        let t = Behaviour::NoApp.timeline(0, 2_000 * MS);
        assert_eq!(t.status_at(100 * MS), Status::Created);
        assert_eq!(t.status_at(200 * MS), Status::Error);
        assert_eq!(t.error.unwrap().code, "no_bankid_app");
        assert_eq!(IdpError::new("some_thing").title, "Some thing");
    }
}
