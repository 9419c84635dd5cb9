//! The session JSON parser: whatever Signicat (or anything in between) answers to a create, get
//! or cancel, reading it never panics; a session that reads encodes and reads back to the same
//! session; the subject's NIN never shows in `Debug`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use safeconv::fuzzing::session_body;

fuzz_target!(|data: &[u8]| {
    let session = match session_body(data) {
        Ok(session) => session,
        Err(error) => {
            // The error names the fault, never the body (which may hold personal data).
            let text = error.to_string();
            assert!(
                text.starts_with("unexpected answer from the server: session: "),
                "{text}"
            );
            assert!(error.is_transient());
            return;
        }
    };
    // What the client reads from a session.
    let outcome = session.outcome();
    assert_eq!(outcome.is_some(), session.status.is_final());
    if let Some(outcome) = &outcome {
        assert_eq!(outcome.status(), session.status);
    }
    let _ = session.binding_message();
    let debug = format!("{session:?}");

    // Encoding and reading back gives the same session (floats inside free-form JSON aside,
    // which serde_json reads to within an ulp, the typed fields must be equal).
    let json = serde_json::to_vec(&session).expect("a session that was read can be encoded");
    let again = session_body(&json).expect("an encoded session reads back");
    assert_eq!(again.id, session.id);
    assert_eq!(again.status, session.status);
    assert_eq!(again.expires_at, session.expires_at);
    assert_eq!(again.error, session.error);
    assert_eq!(again.binding_message(), session.binding_message());
    assert_eq!(again.external_reference, session.external_reference);
    assert_eq!(
        again
            .subject
            .as_ref()
            .map(|s| (&s.name, &s.nin, &s.date_of_birth)),
        session
            .subject
            .as_ref()
            .map(|s| (&s.name, &s.nin, &s.date_of_birth))
    );

    // The verified NIN is masked in Debug output (of the subject and of the whole session).
    if let Some(nin) = session.subject.as_ref().and_then(|s| s.nin.as_ref()) {
        let value = &nin.value;
        // Only if the number appears nowhere else in the body: another field (an id, the
        // issuing country) may repeat it, and those are not masked.
        let occurrences = data
            .windows(value.len().max(1))
            .filter(|w| *w == value.as_bytes())
            .count();
        if value.len() >= 7 && value.bytes().all(|b| b.is_ascii_digit()) && occurrences == 1 {
            assert!(!format!("{nin:?}").contains(value.as_str()));
            assert!(!debug.contains(value.as_str()), "NIN in Debug output");
        }
    }
});
