//! Signicat's error answers: status, `Retry-After` and body. Input: `STATUS\nRETRY-AFTER\nBODY`.
//! Reading never panics; the status and the header are kept; NIN-shaped numbers in the texts
//! that reach messages are masked.

#![no_main]

use libfuzzer_sys::fuzz_target;
use safeconv::fuzzing::{error_response, redact_nins, retry_after};

/// A run of exactly 11 ASCII digits: what a Norwegian NIN looks like.
fn has_nin_run(text: &str) -> bool {
    text.as_bytes()
        .split(|b| !b.is_ascii_digit())
        .any(|run| run.len() == 11)
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let status = parts
        .next()
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.trim().parse::<u16>().ok())
        .unwrap_or(500);
    let header = parts
        .next()
        .and_then(|h| std::str::from_utf8(h).ok())
        .filter(|h| !h.is_empty());
    let body = parts.next().unwrap_or_default();

    // One clock reading for both: the same header must read the same.
    let now = 1_780_000_000_000;
    let api = error_response(status, header, body, now);
    assert_eq!(api.http_status, status);
    assert_eq!(api.retry_after, header.and_then(|h| retry_after(h, now)));
    assert!(api.retry_after <= Some(std::time::Duration::from_secs(24 * 60 * 60)));
    for text in [&api.title, &api.detail].into_iter().flatten() {
        assert!(!has_nin_run(text), "unmasked NIN in {text:?}");
    }
    for (_, reason) in &api.invalid_params {
        assert!(!has_nin_run(reason), "unmasked NIN in {reason:?}");
    }
    let error = safeconv::Error::Api(Box::new(api));
    let _ = error.to_string();
    let _ = (error.is_transient(), error.retry_after(), error.trace_id());

    // The masking itself, on any text: complete, idempotent, keeps the length in characters.
    if let Ok(text) = std::str::from_utf8(body) {
        let masked = redact_nins(text);
        assert!(!has_nin_run(&masked));
        assert_eq!(redact_nins(&masked), masked);
        assert_eq!(masked.chars().count(), text.chars().count());
    }
});
