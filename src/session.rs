//! What Signicat says about a session: its status, the binding message, the verified subject,
//! and how it ended.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::timestamp::Timestamp;

/// A session's status. Unknown values are kept, not refused, because Signicat adds values
/// over time.
///
/// ```
/// use safeconv::Status;
/// assert_eq!(Status::from("WAITING_FOR_USER"), Status::WaitingForUser);
/// assert!(Status::from("SUCCESS").is_final());
/// assert_eq!(Status::from("ABORTED"), Status::Abort);
/// let new = Status::from("PENDING_REVIEW");
/// assert!(!new.is_final());
/// assert_eq!(new.as_str(), "PENDING_REVIEW");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Created; the end-user has not started yet.
    Created,
    /// The end-user has the request in the BankID app.
    WaitingForUser,
    /// Authenticated: the subject holds the requested attributes.
    Success,
    /// Failed: see the session's error code.
    Error,
    /// The end-user declined in the app: `ABORT` as the guide spells it, or `ABORTED` as
    /// Signicat's .NET SDK does.
    Abort,
    /// Cancelled through the API.
    Cancelled,
    /// Not finished before `expiresAt`.
    Expired,
    /// Signicat considered the session invalid.
    Invalid,
    /// A status this SDK does not know, as Signicat sent it. Treated as still running.
    Unknown(String),
}

impl Status {
    /// Signicat's spelling, e.g. `WAITING_FOR_USER`.
    pub fn as_str(&self) -> &str {
        match self {
            Status::Created => "CREATED",
            Status::WaitingForUser => "WAITING_FOR_USER",
            Status::Success => "SUCCESS",
            Status::Error => "ERROR",
            Status::Abort => "ABORT",
            Status::Cancelled => "CANCELLED",
            Status::Expired => "EXPIRED",
            Status::Invalid => "INVALID",
            Status::Unknown(raw) => raw,
        }
    }

    /// Whether the session has ended. Unknown statuses are taken as still running, so polling
    /// goes on (until the deadline) rather than stopping on a word we cannot read.
    pub fn is_final(&self) -> bool {
        !matches!(
            self,
            Status::Created | Status::WaitingForUser | Status::Unknown(_)
        )
    }
}

impl From<&str> for Status {
    fn from(raw: &str) -> Self {
        match raw {
            "CREATED" => Status::Created,
            "WAITING_FOR_USER" => Status::WaitingForUser,
            "SUCCESS" => Status::Success,
            "ERROR" => Status::Error,
            // Signicat's guide says ABORT, its .NET SDK ABORTED: both are the decline.
            "ABORT" | "ABORTED" => Status::Abort,
            "CANCELLED" => Status::Cancelled,
            "EXPIRED" => Status::Expired,
            "INVALID" => Status::Invalid,
            other => Status::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Status::from(raw.as_ref()))
    }
}

/// A session as Signicat returns it from create, get and cancel. Fields this SDK does not know
/// are kept in `extra`, never refused.
///
/// ```
/// let json = r#"{"id":"425cbb48","status":"CREATED","idpData":{"bindingMessage":"Snedig redning"},
///                "expiresAt":"2026-06-29T11:08:34.9495067+00:00","somethingNew":[1,2]}"#;
/// let session: safeconv::Session = serde_json::from_str(json).unwrap();
/// assert_eq!(session.binding_message(), Some("Snedig redning"));
/// assert_eq!(session.extra["somethingNew"], serde_json::json!([1, 2]));
/// ```
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Session {
    /// Opaque session id.
    pub id: String,
    /// The Signicat account the session belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Current status.
    pub status: Status,
    /// Extra status information, when Signicat gives any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_detail: Option<String>,
    /// The identity provider used, e.g. `nbid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The verified person (on `SUCCESS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Provider data for the front end; for Safe Conversation it holds `bindingMessage`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub idp_data: BTreeMap<String, Value>,
    /// Why the session failed (on `ERROR`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SessionError>,
    /// Level of assurance reached, e.g. `substantial`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loa: Option<String>,
    /// When the session expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// The session lifetime in seconds, as Signicat applied it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_lifetime: Option<u64>,
    /// `headless`, `redirect` or `embedded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    /// Providers the session allows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_providers: Vec<String>,
    /// Attributes that will be in the subject.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requested_attributes: Vec<String>,
    /// The caller's own reference, echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    /// Tags, echoed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Every other field, as Signicat sent it (`environment`, `prefilledInput`, fields added
    /// later), so that a session passed on (by a relay, say) keeps Signicat's whole body.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

// By hand, so that `extra` (whose `prefilledInput` echoes the NIN) shows only its field names.
impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("status", &self.status)
            .field("status_detail", &self.status_detail)
            .field("provider", &self.provider)
            .field("subject", &self.subject)
            .field("idp_data", &self.idp_data)
            .field("error", &self.error)
            .field("loa", &self.loa)
            .field("expires_at", &self.expires_at)
            .field("session_lifetime", &self.session_lifetime)
            .field("flow", &self.flow)
            .field("allowed_providers", &self.allowed_providers)
            .field("requested_attributes", &self.requested_attributes)
            .field("external_reference", &self.external_reference)
            .field("tags", &self.tags)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for Status {
    fn default() -> Self {
        Status::Unknown(String::new())
    }
}

impl Session {
    /// The words the agent reads to the caller (`idpData.bindingMessage`).
    pub fn binding_message(&self) -> Option<&str> {
        self.idp_data.get("bindingMessage").and_then(Value::as_str)
    }

    /// How the session ended, or `None` while it is still running.
    pub fn outcome(&self) -> Option<Outcome> {
        Outcome::from_session(self)
    }
}

/// The verified person. Typed fields for the attributes Norwegian BankID returns; anything else
/// the provider adds is kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Subject {
    /// Signicat's subject id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The identity provider's id for the person (BankID's PID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp_id: Option<String>,
    /// Full name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Middle name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// The national identity number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nin: Option<SubjectNin>,
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Any other attribute, as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The national identity number of a verified subject. `Debug` masks the value.
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubjectNin {
    /// The number itself. Do not log it.
    pub value: String,
    /// Country that issued it, e.g. `NO`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuing_country: Option<String>,
    /// Kind of number, e.g. `BIRTH` (an open set).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl SubjectNin {
    /// The number masked for display, `DDMMYY*****`.
    ///
    /// ```
    /// let nin = safeconv::SubjectNin { value: "01018010018".into(), ..Default::default() };
    /// assert_eq!(nin.masked(), "010180*****");
    /// ```
    pub fn masked(&self) -> String {
        crate::nin::mask_nin(&self.value)
    }
}

impl fmt::Debug for SubjectNin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectNin")
            .field("value", &self.masked())
            .field("issuing_country", &self.issuing_country)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Why a session ended in `ERROR` (read `code`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionError {
    /// Machine-readable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Error type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Short description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Longer description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// How a session ended.
///
/// ```
/// use safeconv::{Outcome, Session, Status};
/// let session = Session { status: Status::Abort, ..Session::default() };
/// assert_eq!(session.outcome(), Some(Outcome::Aborted));
/// assert_eq!(Outcome::Aborted.status(), Status::Abort);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// The caller is verified.
    Success(Box<Subject>),
    /// The caller declined in the BankID app (`ABORT`).
    Aborted,
    /// The session was cancelled (`CANCELLED`).
    Cancelled,
    /// The caller did not answer in time (`EXPIRED`).
    Expired,
    /// The session failed (`ERROR`, or `INVALID`).
    Failed {
        /// `Status::Error` or `Status::Invalid`.
        status: Status,
        /// Signicat's reason, if given.
        error: Option<SessionError>,
    },
}

impl Outcome {
    /// The outcome of a session that has ended; `None` while it is still running.
    pub fn from_session(session: &Session) -> Option<Outcome> {
        Some(match &session.status {
            Status::Success => {
                Outcome::Success(Box::new(session.subject.clone().unwrap_or_default()))
            }
            Status::Abort => Outcome::Aborted,
            Status::Cancelled => Outcome::Cancelled,
            Status::Expired => Outcome::Expired,
            status @ (Status::Error | Status::Invalid) => Outcome::Failed {
                status: status.clone(),
                error: session.error.clone(),
            },
            Status::Created | Status::WaitingForUser | Status::Unknown(_) => return None,
        })
    }

    /// The final status this outcome stands for.
    pub fn status(&self) -> Status {
        match self {
            Outcome::Success(_) => Status::Success,
            Outcome::Aborted => Status::Abort,
            Outcome::Cancelled => Status::Cancelled,
            Outcome::Expired => Status::Expired,
            Outcome::Failed { status, .. } => status.clone(),
        }
    }

    /// The verified subject, on success.
    pub fn subject(&self) -> Option<&Subject> {
        match self {
            Outcome::Success(subject) => Some(subject),
            _ => None,
        }
    }
}
