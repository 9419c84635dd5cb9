//! Core types that cross the FFI as they are: each is declared here once more only so that
//! UniFFI can read its shape (`#[uniffi::remote]`: the compiler checks every field and variant
//! against the core's definition), with no copy and no conversion. Two more are custom types
//! over a UniFFI builtin.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use safeconv::{
    LogLevel, NinKind, NinRules, Secret, SessionError, StartOptions, Status, Timestamp,
    TransportErrorKind, TrustRoots,
};

/// A session's status. Unknown values are kept, not refused, because Signicat adds values over
/// time; they count as still running. `ABORTED`, the spelling of Signicat's .NET SDK, arrives
/// as `Abort`.
#[uniffi::remote(Enum)]
#[uniffi(name = "SessionStatus")]
pub enum Status {
    /// Created; the caller has not opened the request yet.
    Created,
    /// The caller has the request in the BankID app.
    WaitingForUser,
    /// Authenticated: the session's subject holds the verified person.
    Success,
    /// Failed: see the session's `error`.
    Error,
    /// The caller declined in the app (`ABORT`, or `ABORTED`).
    Abort,
    /// Cancelled through the API.
    Cancelled,
    /// Not finished before `expiresAt`.
    Expired,
    /// Signicat considered the session invalid.
    Invalid,
    /// A status this SDK does not know, as Signicat sent it.
    Unknown(#[uniffi(name = "raw")] String),
}

/// Why a session ended in `ERROR` (read `code`).
#[uniffi::remote(Record)]
pub struct SessionError {
    /// Machine-readable code, e.g. `no_bankid_app`.
    pub code: Option<String>,
    /// Error type.
    pub kind: Option<String>,
    /// Short description.
    pub title: Option<String>,
    /// Longer description.
    pub detail: Option<String>,
}

/// Which numbers are accepted beyond the strict default.
#[uniffi::remote(Record)]
pub struct NinRules {
    /// Accept synthetic test numbers (Tenor, month + 80). Sandboxes use them.
    #[uniffi(default = false)]
    pub allow_synthetic: bool,
    /// Accept a number whose check digits are wrong. A deliberate opt-out: everything else is
    /// still checked (11 digits, a real date).
    #[uniffi(default = false)]
    pub allow_invalid_check_digits: bool,
}

/// What kind of number a NIN is.
#[uniffi::remote(Enum)]
pub enum NinKind {
    /// Fødselsnummer: the ordinary birth number.
    BirthNumber,
    /// D-number, for people not (yet) registered as residents: day + 40.
    DNumber,
    /// H-number, the health sector's help number: month + 40.
    HNumber,
    /// Synthetic test number from Skatteetaten's Test-Norge/Tenor (month + 80).
    Synthetic,
    /// FH-number: first digit 8 or 9, no date.
    FhNumber,
}

/// The kinds of transport failure.
#[uniffi::remote(Enum)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The request did not complete within the configured request timeout.
    Timeout,
    /// No connection could be made (the request was never sent).
    Connect,
    /// The connection failed while the request was under way.
    Connection,
    /// The TLS handshake failed: unknown issuer, expired certificate, wrong host name.
    Tls,
    /// The proxy answered and refused (e.g. 407, wrong proxy credentials).
    Proxy,
}

/// Which root certificates HTTPS trusts. CAs added in the config are trusted as well.
#[uniffi::remote(Enum)]
#[non_exhaustive]
pub enum TrustRoots {
    /// Mozilla's roots, bundled with the library: the same everywhere, no set-up. The default.
    Bundled,
    /// The operating system's store (Linux, macOS, Windows; not Android or iOS).
    Native,
    /// Both.
    BundledAndNative,
    /// Only the CAs added in the config.
    AddedOnly,
}

/// Options for starting a Safe Conversation; every field is optional and checked, with the
/// NIN, before anything is sent.
#[uniffi::remote(Record)]
pub struct StartOptions {
    /// Attributes to request instead of the default (name, firstName, lastName, nin,
    /// dateOfBirth).
    #[uniffi(default = None)]
    pub attributes: Option<Vec<String>>,
    /// Language of the texts the caller sees (ISO 639-1, e.g. `nb`).
    #[uniffi(default = None)]
    pub language: Option<String>,
    /// How long the session lives, in whole seconds (Signicat raises values under 300 to 300).
    #[uniffi(default = None)]
    pub session_lifetime: Option<u32>,
    /// Your own reference (e.g. the call id), echoed back by Signicat.
    #[uniffi(default = None)]
    pub external_reference: Option<String>,
    /// Tags for webhook filtering (at most 100 of at most 100 characters).
    #[uniffi(default = None)]
    pub tags: Option<Vec<String>>,
    /// Level of assurance to require: `low`, `substantial` or `high`.
    #[uniffi(default = None)]
    pub requested_loa: Option<String>,
    /// Which NINs this start accepts, instead of the client's rules.
    #[uniffi(default = None)]
    pub nin_rules: Option<NinRules>,
}

/// How important a log record is. `Error` is the most important.
#[uniffi::remote(Enum)]
pub enum LogLevel {
    /// Something failed that the caller will hear about.
    Error = 1,
    /// Something went wrong and was handled (a retry, a cancel that failed).
    Warn = 2,
    /// The main steps: a session created, cancelled, ended.
    Info = 3,
    /// Details: token fetches, status changes.
    Debug = 4,
    /// Everything.
    Trace = 5,
}

// A point in time: `Instant` in Kotlin, `Date` in Swift, `datetime` in Python.
uniffi::custom_type!(Timestamp, SystemTime, {
    remote,
    lower: |time| {
        let millis = time.unix_millis();
        match u64::try_from(millis) {
            Ok(after) => UNIX_EPOCH + Duration::from_millis(after),
            Err(_) => UNIX_EPOCH - Duration::from_millis(millis.unsigned_abs()),
        }
    },
    try_lift: |time| {
        let millis = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
        };
        Ok(Timestamp::from_unix_millis(millis))
    },
});

// A client secret or access token: a plain string in the foreign language, a `Secret` (whose
// `Debug` never shows it) in Rust.
uniffi::custom_type!(Secret, String, {
    remote,
    lower: |secret| secret.expose().to_owned(),
    try_lift: |text| Ok(Secret::new(text)),
});
