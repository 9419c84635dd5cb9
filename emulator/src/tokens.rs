//! Access tokens: issue opaque random bearer tokens and check them.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::clock::UnixNanos;
use crate::rng::SplitMix64;

/// What a bearer token turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid,
    Expired,
    Unknown,
}

/// The tokens handed out, with their expiry.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    expiry: HashMap<String, UnixNanos>,
    issued_since_purge: usize,
}

/// Expired tokens are remembered this long, so that a client gets "expired" rather than "unknown".
const REMEMBER_EXPIRED_NANOS: u64 = 3_600 * 1_000_000_000;

impl TokenStore {
    /// A new token valid until `expires`.
    pub(crate) fn issue(
        &mut self,
        rng: &mut SplitMix64,
        now: UnixNanos,
        expires: UnixNanos,
    ) -> String {
        self.issued_since_purge += 1;
        if self.issued_since_purge >= 1024 {
            self.issued_since_purge = 0;
            self.expiry
                .retain(|_, e| e.saturating_add(REMEMBER_EXPIRED_NANOS) > now);
        }
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        self.expiry.insert(token.clone(), expires);
        token
    }

    pub(crate) fn check(&self, token: &str, now: UnixNanos) -> TokenCheck {
        match self.expiry.get(token) {
            Some(&expires) if now < expires => TokenCheck::Valid,
            Some(_) => TokenCheck::Expired,
            None => TokenCheck::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire() {
        let mut store = TokenStore::default();
        let mut rng = SplitMix64::new(1);
        let t = store.issue(&mut rng, 0, 10);
        assert_eq!(t.len(), 43);
        assert_eq!(store.check(&t, 9), TokenCheck::Valid);
        assert_eq!(store.check(&t, 10), TokenCheck::Expired);
        assert_eq!(store.check("nope", 0), TokenCheck::Unknown);
    }
}
