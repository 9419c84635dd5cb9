//! Records for the core types that cannot cross the FFI as they are (open JSON maps, a boxed
//! subject, `idpData`), each a plain copy with `From` and no logic of its own, and a masked
//! `Debug`/`Display` so that every language prints them the same, safe way.

use std::fmt;

use safeconv::{
    Nin, NinKind, Outcome as CoreOutcome, Session as CoreSession, SessionError, Status,
    Subject as CoreSubject, SubjectNin as CoreSubjectNin, Timestamp,
};

/// The national identity number of a verified subject. `toString()`/`description`/`str()`
/// mask the value.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct SubjectNin {
    /// The number itself. Do not log it.
    pub value: String,
    /// Country that issued it, e.g. `NO`.
    pub issuing_country: Option<String>,
    /// Kind of number, e.g. `BIRTH` (an open set).
    pub kind: Option<String>,
}

impl fmt::Debug for SubjectNin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&CoreSubjectNin::from(self), f)
    }
}

impl From<&CoreSubjectNin> for SubjectNin {
    fn from(nin: &CoreSubjectNin) -> Self {
        SubjectNin {
            value: nin.value.clone(),
            issuing_country: nin.issuing_country.clone(),
            kind: nin.kind.clone(),
        }
    }
}

impl From<&SubjectNin> for CoreSubjectNin {
    fn from(nin: &SubjectNin) -> Self {
        CoreSubjectNin {
            value: nin.value.clone(),
            issuing_country: nin.issuing_country.clone(),
            kind: nin.kind.clone(),
        }
    }
}

/// The verified person. `toString()`/`description`/`str()` mask the NIN.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Subject {
    /// Signicat's subject id.
    pub id: Option<String>,
    /// The identity provider's id for the person (BankID's PID).
    pub idp_id: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    /// The national identity number. Do not log `nin.value`.
    pub nin: Option<SubjectNin>,
    /// E-mail address.
    pub email: Option<String>,
    /// Any other attribute the provider sent, as a JSON object (`{}` when none).
    pub extra_json: String,
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subject")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("date_of_birth", &self.date_of_birth)
            .field("nin", &self.nin)
            .finish_non_exhaustive()
    }
}

impl From<&CoreSubject> for Subject {
    fn from(subject: &CoreSubject) -> Self {
        Subject {
            id: subject.id.clone(),
            idp_id: subject.idp_id.clone(),
            name: subject.name.clone(),
            first_name: subject.first_name.clone(),
            middle_name: subject.middle_name.clone(),
            last_name: subject.last_name.clone(),
            date_of_birth: subject.date_of_birth.clone(),
            nin: subject.nin.as_ref().map(SubjectNin::from),
            email: subject.email.clone(),
            extra_json: serde_json::to_string(&subject.extra).unwrap_or_else(|_| "{}".to_owned()),
        }
    }
}

impl From<&Subject> for CoreSubject {
    fn from(subject: &Subject) -> Self {
        CoreSubject {
            id: subject.id.clone(),
            idp_id: subject.idp_id.clone(),
            name: subject.name.clone(),
            first_name: subject.first_name.clone(),
            middle_name: subject.middle_name.clone(),
            last_name: subject.last_name.clone(),
            date_of_birth: subject.date_of_birth.clone(),
            nin: subject.nin.as_ref().map(CoreSubjectNin::from),
            email: subject.email.clone(),
            extra: serde_json::from_str(&subject.extra_json).unwrap_or_default(),
        }
    }
}

/// A session as Signicat returned it from start, get or cancel. `toString()`/`description`/
/// `str()` mask the subject's NIN and leave out `json`.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Session {
    /// Opaque session id: keep it to [resume](crate::client::SafeconvClient::resume) later.
    pub id: String,
    /// Current status.
    pub status: Status,
    /// The words the agent reads to the caller (`idpData.bindingMessage`).
    pub binding_message: Option<String>,
    /// When the session expires.
    pub expires_at: Option<Timestamp>,
    /// Extra status information, when Signicat gives any.
    pub status_detail: Option<String>,
    /// The identity provider, e.g. `nbid`.
    pub provider: Option<String>,
    /// Level of assurance reached, e.g. `substantial`.
    pub loa: Option<String>,
    /// Your own reference, echoed.
    pub external_reference: Option<String>,
    /// The verified person (on `SUCCESS`).
    pub subject: Option<Subject>,
    /// Why the session failed (on `ERROR`).
    pub error: Option<SessionError>,
    /// The whole session as JSON (Signicat's field names), for fields without a property here.
    /// Read-only: a wait uses the fields above. It holds the subject's NIN on success: do not
    /// log it.
    pub json: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("binding_message", &self.binding_message)
            .field("expires_at", &self.expires_at.map(|t| t.to_string()))
            .field("error", &self.error)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl From<&CoreSession> for Session {
    fn from(session: &CoreSession) -> Self {
        Session {
            id: session.id.clone(),
            status: session.status.clone(),
            binding_message: session.binding_message().map(str::to_owned),
            expires_at: session.expires_at,
            status_detail: session.status_detail.clone(),
            provider: session.provider.clone(),
            loa: session.loa.clone(),
            external_reference: session.external_reference.clone(),
            subject: session.subject.as_ref().map(Subject::from),
            error: session.error.clone(),
            json: serde_json::to_string(session).unwrap_or_default(),
        }
    }
}

impl From<&Session> for CoreSession {
    /// What a wait and an outcome read: the id, the status, the expiry, and how it ended. A
    /// record built by hand works as well as one the SDK returned.
    fn from(session: &Session) -> Self {
        CoreSession {
            id: session.id.clone(),
            status: session.status.clone(),
            expires_at: session.expires_at,
            subject: session.subject.as_ref().map(CoreSubject::from),
            error: session.error.clone(),
            ..CoreSession::default()
        }
    }
}

/// How a session ended. `toString()`/`description`/`str()` mask the subject's NIN.
#[derive(Clone, Debug, PartialEq, uniffi::Enum)]
#[uniffi::export(Debug, Display)]
pub enum Outcome {
    /// The caller is verified.
    Success {
        /// Who was verified.
        subject: Subject,
    },
    /// The caller declined in the BankID app (`ABORT`, or `ABORTED`).
    Aborted,
    /// The session was cancelled (`CANCELLED`).
    Cancelled,
    /// The caller did not answer in time (`EXPIRED`).
    Expired,
    /// The session failed (`ERROR` or `INVALID`).
    Failed {
        /// `Error` or `Invalid`.
        status: Status,
        /// Signicat's reason, if given (e.g. code `no_bankid_app`).
        error: Option<SessionError>,
    },
}

impl From<CoreOutcome> for Outcome {
    fn from(outcome: CoreOutcome) -> Self {
        match outcome {
            CoreOutcome::Success(subject) => Outcome::Success {
                subject: Subject::from(&*subject),
            },
            CoreOutcome::Aborted => Outcome::Aborted,
            CoreOutcome::Cancelled => Outcome::Cancelled,
            CoreOutcome::Expired => Outcome::Expired,
            CoreOutcome::Failed { status, error } => Outcome::Failed { status, error },
            // An outcome added to the core later: its final status says what it was.
            other => Outcome::Failed {
                status: other.status(),
                error: None,
            },
        }
    }
}

/// What [`check_nin`](crate::check_nin) learned about an acceptable number.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct NinInfo {
    /// The masked number, `DDMMYY*****`.
    pub masked: String,
    /// Birth number, D-number, H-number, synthetic or FH-number.
    pub kind: NinKind,
    /// False only when accepted with `allow_invalid_check_digits`.
    pub check_digits_valid: bool,
}

impl From<&Nin> for NinInfo {
    fn from(nin: &Nin) -> Self {
        NinInfo {
            masked: nin.masked(),
            kind: nin.kind(),
            check_digits_valid: nin.check_digits_valid(),
        }
    }
}

display_as_debug!(SubjectNin, Subject, Session, Outcome);
