//! The guide's own request and response bodies (tests/data, copied from the reference).

use safeconv::{NinRules, Outcome, SafeConversation, Session, Status};

fn session(json: &str) -> Session {
    serde_json::from_str(json).expect("the guide's JSON parses")
}

#[test]
fn create_request_matches_the_guide() {
    let expected: serde_json::Value =
        serde_json::from_str(include_str!("data/create-request.json")).unwrap();
    // The guide's number fails the check digits, so it takes the deliberate opt-out.
    let conversation = SafeConversation::parse(
        "17029012345",
        NinRules::strict().allow_invalid_check_digits(true),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(conversation.to_request()).unwrap(),
        expected
    );
}

#[test]
fn create_response() {
    let s = session(include_str!("data/create-response.json"));
    assert_eq!(s.id, "425cbb48--...");
    assert_eq!(s.status, Status::Created);
    assert_eq!(s.binding_message(), Some("Snedig redning"));
    assert_eq!(s.session_lifetime, Some(1200));
    assert_eq!(
        s.expires_at.unwrap().to_string(),
        "2026-06-29T11:08:34.9495067Z"
    );
    assert_eq!(s.outcome(), None);
}

#[test]
fn successful_get() {
    let s = session(include_str!("data/get-success-response.json"));
    let Some(Outcome::Success(subject)) = s.outcome() else {
        panic!("success expected")
    };
    assert_eq!(subject.name.as_deref(), Some("Kari Nordmann"));
    assert_eq!(subject.first_name.as_deref(), Some("Kari"));
    assert_eq!(subject.last_name.as_deref(), Some("Nordmann"));
    assert_eq!(subject.date_of_birth.as_deref(), Some("1990-02-17"));
    assert_eq!(subject.idp_id.as_deref(), Some("9578-6000-4-2595757"));
    let nin = subject.nin.as_ref().unwrap();
    assert_eq!(
        (
            nin.value.as_str(),
            nin.issuing_country.as_deref(),
            nin.kind.as_deref()
        ),
        ("17029012345", Some("NO"), Some("BIRTH"))
    );
    assert_eq!(s.loa.as_deref(), Some("substantial"));
    assert_eq!(s.provider.as_deref(), Some("nbid"));
    // Debug output never shows the number.
    assert!(!format!("{s:?}").contains("17029012345"));
}

#[test]
fn cancel_response() {
    let s = session(include_str!("data/cancel-response.json"));
    assert_eq!(s.status, Status::Cancelled);
    assert_eq!(s.outcome(), Some(Outcome::Cancelled));
}

#[test]
fn unknown_fields_statuses_and_attributes_are_tolerated() {
    let s = session(
        r#"{"id":"x","status":"SOMETHING_NEW","idpData":{"bindingMessage":"A b","n":1},
            "subject":{"nin":{"value":"01018010018","type":"FUTURE"},"favouriteColour":"blue"},
            "environment":{"ipAddress":"1.2.3.4"},"brandNew":{"a":[1,2,3]}}"#,
    );
    assert_eq!(s.status, Status::Unknown("SOMETHING_NEW".into()));
    assert!(!s.status.is_final());
    assert_eq!(s.subject.unwrap().extra["favouriteColour"], "blue");
}
