//! UniFFI bindings of safeconv for Kotlin, Swift and Python, on the core's public API only.
//!
//! A translation and nothing more: core types cross as they are where UniFFI can read them
//! ([`remote`]), as plain copies where it cannot ([`types`]); one error enum made from the
//! core's error report; callback interfaces for status listeners, token providers and log
//! sinks. Validation, retries, polling, cancellation (an abandoned start included) and masking
//! all live in the core. Async methods run on tokio (`async_runtime = "tokio"`).
//!
//! The foreign API, as Kotlin sees it:
//!
//! ```kotlin
//! val client = SafeconvClient(ClientConfig(accountId = "a-spge-4711",
//!     clientId = "sandbox-client", clientSecret = secret))
//! val session = client.startSafeConversation("01018010018")   // suspend
//! println("Read to the caller: ${session.bindingMessage}")
//! when (val outcome = client.awaitOutcome(session)) {           // suspend; `wait` elsewhere
//!     is Outcome.Success -> println("verified ${outcome.subject.name}")
//!     else -> println("not verified: $outcome")
//! }
//! ```

// `SafeconvError` crosses the FFI by value (UniFFI lifts enums field by field and has no `Box`),
// so its size is not ours to trim; it is built only on the error path anyway.
#![allow(clippy::result_large_err)]

// `Display` is the masked `Debug` form, so that every language prints these the same, safe way.
macro_rules! display_as_debug {
    ($($ty:ty),*) => {$(
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self, f)
            }
        }
    )*};
}

mod client;
mod error;
mod log;
mod remote;
mod types;

// The namespace, and so the Python module and the Kotlin file, is `safeconv`, as before the
// bridge had a crate of its own.
uniffi::setup_scaffolding!("safeconv");

use std::time::Duration;

use safeconv::{Nin, NinRules, Status};

use error::SafeconvError;
use types::{NinInfo, Outcome, Session};

/// Checks a Norwegian national identity number without sending anything, with `rules` (the
/// strict default when `None`). Returns its kind and masked form, or
/// [`SafeconvError::InvalidNin`] saying why it is refused.
#[uniffi::export(default(rules = None))]
pub fn check_nin(nin: String, rules: Option<NinRules>) -> Result<NinInfo, SafeconvError> {
    let nin = Nin::parse_with(&nin, rules.unwrap_or_default()).map_err(safeconv::Error::from)?;
    Ok(NinInfo::from(&nin))
}

/// Masks a NIN-like string for display or logs, keeping at most the six date digits
/// (`170290*****`).
#[uniffi::export]
pub fn mask_nin(nin: String) -> String {
    safeconv::mask_nin(&nin)
}

/// The version of the safeconv library the bindings were built from.
#[uniffi::export]
pub fn safeconv_version() -> String {
    safeconv::VERSION.to_owned()
}

/// Lets the cancels that given-up starts and waits left running finish, for every client of
/// the process (dropped ones too), at most `timeout`; true if none is left. For an exit hook.
#[uniffi::export(async_runtime = "tokio")]
pub async fn wait_for_background_work(timeout: Duration) -> bool {
    safeconv::wait_for_background_work(timeout).await
}

/// Signicat's spelling of a status, e.g. `WAITING_FOR_USER`.
#[uniffi::export]
pub fn status_name(status: Status) -> String {
    status.as_str().to_owned()
}

/// Whether a status is final (the session has ended). Unknown statuses are not.
#[uniffi::export]
pub fn status_is_final(status: Status) -> bool {
    status.is_final()
}

/// How a session ended, or `None` while it is still running.
#[uniffi::export]
pub fn session_outcome(session: Session) -> Option<Outcome> {
    safeconv::Session::from(&session)
        .outcome()
        .map(Outcome::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use safeconv::Timestamp;

    fn core_session(json: &str) -> safeconv::Session {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn statuses_cross_as_they_are() {
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
            let status = Status::from(raw);
            assert_eq!(status_name(status.clone()), raw);
            assert_eq!(status_is_final(status.clone()), status.is_final());
        }
        assert_eq!(status_name(Status::from("ABORTED")), "ABORT");
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
        assert_eq!(session.status, Status::Success);
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

        let back = safeconv::Session::from(&session);
        assert_eq!(back.subject, core.subject);
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
            status: Status::WaitingForUser,
            binding_message: None,
            expires_at: Some(Timestamp::from_unix_millis(1_800_000_000_000)),
            status_detail: None,
            provider: None,
            loa: None,
            external_reference: None,
            subject: None,
            error: None,
            json: String::new(),
        };
        let core = safeconv::Session::from(&session);
        assert_eq!(core.id, "s-2");
        assert_eq!(core.status, Status::WaitingForUser);
        assert_eq!(core.expires_at.unwrap().unix_millis(), 1_800_000_000_000);
        assert_eq!(session_outcome(session), None);
    }

    #[test]
    fn timestamps_cross_as_system_time_both_ways() {
        use uniffi::{Lift, Lower};
        // After and before 1970.
        for millis in [1_800_000_000_123, -86_400_123] {
            let time = Timestamp::from_unix_millis(millis);
            let lowered = <Timestamp as Lower<crate::UniFfiTag>>::lower(time);
            assert_eq!(
                <Timestamp as Lift<crate::UniFfiTag>>::try_lift(lowered).unwrap(),
                time
            );
        }
    }

    #[test]
    fn nin_checks_use_the_core_rules() {
        let info = check_nin("01018010018".into(), None).unwrap();
        assert_eq!(info.masked, "010180*****");
        assert!(info.check_digits_valid);
        assert!(matches!(
            check_nin("17029012345".into(), None),
            Err(SafeconvError::InvalidNin { reason_code, .. }) if reason_code == "check-digits"
        ));
        let lenient = NinRules::strict().allow_invalid_check_digits(true);
        assert!(
            !check_nin("17029012345".into(), Some(lenient))
                .unwrap()
                .check_digits_valid
        );
        assert_eq!(mask_nin("01018010018".into()), "010180*****");
    }
}
