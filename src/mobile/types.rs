//! Records and enums for the core types that cannot cross the FFI as they are (open JSON maps,
//! boxed variants), converted both ways without logic of their own.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::nin::{Nin, NinKind};
use crate::request::SafeConversation;
use crate::session::{
    Outcome as CoreOutcome, Session as CoreSession, SessionError, Status, Subject as CoreSubject,
    SubjectNin as CoreSubjectNin,
};
use crate::timestamp::Timestamp;

/// A session's status. Unknown values are kept, not refused, because Signicat adds values over
/// time; they count as still running.
#[derive(Clone, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum SessionStatus {
    /// Created; the caller has not opened the request yet.
    Created,
    /// The caller has the request in the BankID app.
    WaitingForUser,
    /// Authenticated: the session's subject holds the verified person.
    Success,
    /// Failed: see the session's `error`.
    Error,
    /// The caller declined in the app.
    Abort,
    /// Cancelled through the API.
    Cancelled,
    /// Not finished before `expiresAt`.
    Expired,
    /// Signicat considered the session invalid.
    Invalid,
    /// A status this SDK does not know, as Signicat sent it.
    Unknown {
        /// Signicat's spelling.
        raw: String,
    },
}

impl From<&Status> for SessionStatus {
    fn from(status: &Status) -> Self {
        match status {
            Status::Created => SessionStatus::Created,
            Status::WaitingForUser => SessionStatus::WaitingForUser,
            Status::Success => SessionStatus::Success,
            Status::Error => SessionStatus::Error,
            Status::Abort => SessionStatus::Abort,
            Status::Cancelled => SessionStatus::Cancelled,
            Status::Expired => SessionStatus::Expired,
            Status::Invalid => SessionStatus::Invalid,
            Status::Unknown(raw) => SessionStatus::Unknown { raw: raw.clone() },
        }
    }
}

impl From<&SessionStatus> for Status {
    fn from(status: &SessionStatus) -> Self {
        match status {
            SessionStatus::Created => Status::Created,
            SessionStatus::WaitingForUser => Status::WaitingForUser,
            SessionStatus::Success => Status::Success,
            SessionStatus::Error => Status::Error,
            SessionStatus::Abort => Status::Abort,
            SessionStatus::Cancelled => Status::Cancelled,
            SessionStatus::Expired => Status::Expired,
            SessionStatus::Invalid => Status::Invalid,
            SessionStatus::Unknown { raw } => Status::from(raw.as_str()),
        }
    }
}

/// Signicat's spelling of a status, e.g. `WAITING_FOR_USER`.
#[uniffi::export]
pub fn status_name(status: SessionStatus) -> String {
    Status::from(&status).as_str().to_owned()
}

/// Whether a status is final (the session has ended). Unknown statuses are not.
#[uniffi::export]
pub fn status_is_final(status: SessionStatus) -> bool {
    Status::from(&status).is_final()
}

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
        f.debug_struct("SubjectNin")
            .field("value", &crate::nin::mask_nin(&self.value))
            .field("issuing_country", &self.issuing_country)
            .field("kind", &self.kind)
            .finish()
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

/// A session as Signicat returned it from start, get or cancel. `toString()`/`description`/
/// `str()` mask the subject's NIN and leave out `json`.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Session {
    /// Opaque session id: keep it to [resume](super::client::SafeconvClient::resume) later.
    pub id: String,
    /// Current status.
    pub status: SessionStatus,
    /// The words the agent reads to the caller (`idpData.bindingMessage`).
    pub binding_message: Option<String>,
    /// When the session expires.
    pub expires_at: Option<SystemTime>,
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
    /// It holds the subject's NIN on success: do not log it.
    pub json: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("binding_message", &self.binding_message)
            .field(
                "expires_at",
                &self.expires_at.map(|t| timestamp(t).to_string()),
            )
            .field("error", &self.error)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl From<&CoreSession> for Session {
    fn from(session: &CoreSession) -> Self {
        Session {
            id: session.id.clone(),
            status: SessionStatus::from(&session.status),
            binding_message: session.binding_message().map(str::to_owned),
            expires_at: session.expires_at.map(system_time),
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
    /// The session as the core had it (from `json`), with the record's own id, status and
    /// expiry taking precedence, so a record built by hand works too.
    fn from(session: &Session) -> Self {
        let mut core: CoreSession = serde_json::from_str(&session.json).unwrap_or_default();
        core.id = session.id.clone();
        core.status = Status::from(&session.status);
        core.expires_at = session.expires_at.map(timestamp);
        core
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
    /// The caller declined in the BankID app (`ABORT`).
    Aborted,
    /// The session was cancelled (`CANCELLED`).
    Cancelled,
    /// The caller did not answer in time (`EXPIRED`).
    Expired,
    /// The session failed (`ERROR` or `INVALID`).
    Failed {
        /// `Error` or `Invalid`.
        status: SessionStatus,
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
            CoreOutcome::Failed { status, error } => Outcome::Failed {
                status: SessionStatus::from(&status),
                error,
            },
        }
    }
}

/// How a session ended, or `None` while it is still running.
#[uniffi::export]
pub fn session_outcome(session: Session) -> Option<Outcome> {
    CoreSession::from(&session).outcome().map(Outcome::from)
}

/// Options for starting a Safe Conversation; every field is optional.
#[derive(Clone, Debug, Default, PartialEq, uniffi::Record)]
pub struct StartOptions {
    /// Attributes to request instead of the default (name, firstName, lastName, nin,
    /// dateOfBirth).
    #[uniffi(default = None)]
    pub attributes: Option<Vec<String>>,
    /// Language of the texts the caller sees (ISO 639-1, e.g. `nb`).
    #[uniffi(default = None)]
    pub language: Option<String>,
    /// How long the session lives (whole seconds; Signicat raises values under 300 s to 300 s).
    #[uniffi(default = None)]
    pub session_lifetime: Option<Duration>,
    /// Your own reference (e.g. the call id), echoed back by Signicat.
    #[uniffi(default = None)]
    pub external_reference: Option<String>,
    /// Tags for webhook filtering.
    #[uniffi(default = None)]
    pub tags: Option<Vec<String>>,
    /// Level of assurance to require: `low`, `substantial` or `high`.
    #[uniffi(default = None)]
    pub requested_loa: Option<String>,
}

impl StartOptions {
    pub(crate) fn apply(self, mut conversation: SafeConversation) -> SafeConversation {
        if let Some(attributes) = self.attributes {
            conversation = conversation.attributes(attributes);
        }
        if let Some(language) = self.language {
            conversation = conversation.language(language);
        }
        if let Some(lifetime) = self.session_lifetime {
            let seconds = u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX);
            conversation = conversation.session_lifetime(seconds);
        }
        if let Some(reference) = self.external_reference {
            conversation = conversation.external_reference(reference);
        }
        if let Some(tags) = self.tags {
            conversation = conversation.tags(tags);
        }
        if let Some(loa) = self.requested_loa {
            conversation = conversation.requested_loa(loa);
        }
        conversation
    }
}

// `Display` is the masked `Debug` form, so that every language prints these the same, safe way.
macro_rules! display_as_debug {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    )*};
}
display_as_debug!(SubjectNin, Subject, Session, Outcome);

/// What [`check_nin`](super::check_nin) learned about an acceptable number.
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

fn system_time(timestamp: Timestamp) -> SystemTime {
    let millis = timestamp.unix_millis();
    match u64::try_from(millis) {
        Ok(after) => UNIX_EPOCH + Duration::from_millis(after),
        Err(_) => UNIX_EPOCH - Duration::from_millis(millis.unsigned_abs()),
    }
}

fn timestamp(time: SystemTime) -> Timestamp {
    let millis = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    };
    Timestamp::from_unix_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core_session(json: &str) -> CoreSession {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn statuses_map_both_ways() {
        for raw in [
            "CREATED",
            "WAITING_FOR_USER",
            "SUCCESS",
            "ERROR",
            "ABORT",
            "CANCELLED",
            "EXPIRED",
            "INVALID",
            "PENDING_REVIEW",
        ] {
            let status = SessionStatus::from(&Status::from(raw));
            assert_eq!(status_name(status.clone()), raw);
            assert_eq!(status_is_final(status), Status::from(raw).is_final());
        }
        assert_eq!(
            SessionStatus::from(&Status::from("NEW")),
            SessionStatus::Unknown { raw: "NEW".into() }
        );
    }

    #[test]
    fn session_round_trips_and_masks() {
        let core = core_session(
            r#"{"id":"s-1","status":"SUCCESS","idpData":{"bindingMessage":"Blå bil"},
                "expiresAt":"2026-06-29T11:08:34.9495067+00:00","somethingNew":1,
                "subject":{"name":"Kari Nordmann","nin":{"value":"01018010018","issuingCountry":"NO"},
                           "pid":"9578-6000-4-365161"}}"#,
        );
        let session = Session::from(&core);
        assert_eq!(session.binding_message.as_deref(), Some("Blå bil"));
        assert_eq!(session.status, SessionStatus::Success);
        let subject = session.subject.as_ref().unwrap();
        assert_eq!(subject.nin.as_ref().unwrap().value, "01018010018");
        assert_eq!(subject.extra_json, r#"{"pid":"9578-6000-4-365161"}"#);
        for text in [
            format!("{session}"),
            format!("{session:?}"),
            format!("{subject}"),
            format!("{}", subject.nin.as_ref().unwrap()),
        ] {
            assert!(!text.contains("01018010018"), "{text}");
        }
        assert!(format!("{subject:?}").contains("010180*****"));

        let back = CoreSession::from(&session);
        assert_eq!(back.subject, core.subject);
        assert_eq!(back.binding_message(), Some("Blå bil"));
        assert_eq!(
            back.expires_at.unwrap().unix_millis(),
            core.expires_at.unwrap().unix_millis()
        );
        assert!(matches!(
            session_outcome(session),
            Some(Outcome::Success { .. })
        ));
    }

    #[test]
    fn hand_built_session_waits_like_the_real_one() {
        let session = Session {
            id: "s-2".into(),
            status: SessionStatus::WaitingForUser,
            binding_message: None,
            expires_at: Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
            status_detail: None,
            provider: None,
            loa: None,
            external_reference: None,
            subject: None,
            error: None,
            json: String::new(),
        };
        let core = CoreSession::from(&session);
        assert_eq!(core.id, "s-2");
        assert_eq!(core.status, Status::WaitingForUser);
        assert_eq!(core.expires_at.unwrap().unix_millis(), 1_800_000_000_000);
        assert_eq!(session_outcome(session), None);
    }

    #[test]
    fn start_options_fill_the_request() {
        let options = StartOptions {
            attributes: Some(vec!["name".into()]),
            language: Some("nb".into()),
            session_lifetime: Some(Duration::from_secs(600)),
            external_reference: Some("call-1".into()),
            tags: Some(vec!["desk-7".into()]),
            requested_loa: Some("substantial".into()),
        };
        let nin = Nin::parse("01018010018").unwrap();
        let request = options.apply(SafeConversation::new(nin)).into_request();
        assert_eq!(request.requested_attributes, ["name"]);
        assert_eq!(request.language.as_deref(), Some("nb"));
        assert_eq!(request.session_lifetime, Some(600));
        assert_eq!(request.external_reference.as_deref(), Some("call-1"));
        assert_eq!(request.tags, ["desk-7"]);
        assert_eq!(request.requested_loa.as_deref(), Some("substantial"));
    }
}
