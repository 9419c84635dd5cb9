//! Values that must never be printed: client secrets, access tokens, and national identity
//! numbers inside free text.

use std::fmt;
use std::sync::Arc;

/// A secret string (client secret or access token). Its `Debug` never shows the value and it
/// has no `Display`: the only way to read it is [`Secret::expose`].
///
/// ```
/// let secret = safeconv::Secret::new("s3cr3t");
/// assert_eq!(format!("{secret:?}"), "Secret(***)");
/// assert_eq!(secret.expose(), "s3cr3t");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::from(value.into()))
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// Masks every run of exactly 11 digits (the shape of a Norwegian NIN) in text that came from
/// elsewhere, such as a server's error detail or a foreign exception's message, keeping the 6
/// date digits: `170290*****`.
///
/// ```
/// assert_eq!(safeconv::redact_nins("no user 17029012345"), "no user 170290*****");
/// ```
pub fn redact_nins(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let run = &text[start..i];
            if run.len() == 11 {
                out.push_str(&run[..6]);
                out.push_str("*****");
            } else {
                out.push_str(run);
            }
        } else {
            let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8().max(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_only_eleven_digit_runs() {
        assert_eq!(
            redact_nins("nin 17029012345 is bad, id 123456789012 ok, 2026"),
            "nin 170290***** is bad, id 123456789012 ok, 2026"
        );
        assert_eq!(redact_nins("æøå17029012345"), "æøå170290*****");
    }

    #[test]
    fn secret_debug_is_masked() {
        assert_eq!(format!("{:?}", Secret::new("abc")), "Secret(***)");
    }
}
