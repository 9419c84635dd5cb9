//! OIDC/JWT agent tokens, verified against the identity provider's JWKS.
//!
//! Only RS256, ES256 (P-256) and EdDSA (Ed25519) are accepted, each only with a key of its own
//! kind: `none` cannot even be parsed, and an HMAC algorithm is refused before any key is looked
//! at (so a token "signed" with the public key as an HMAC secret never verifies). Issuer,
//! audience, `exp` and `nbf` (with at most 60 s leeway) are checked. Keys are cached and fetched
//! again when a token names an unknown `kid`, at most once a minute for the whole key set.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use url::Url;

/// The most leeway allowed on `exp` and `nbf`.
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);
/// The key set is fetched at most this often (for all key ids together).
pub const REFETCH_FLOOR: Duration = Duration::from_secs(60);
/// Keys are fetched again after this long even if no unknown `kid` appears (to drop revoked keys).
pub const MAX_KEY_AGE: Duration = Duration::from_secs(15 * 60);
/// Tokens longer than this are refused unread.
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// The largest JWKS document read.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// What the JWT verifier checks.
#[derive(Clone, Debug)]
pub struct JwtSettings {
    /// Where the identity provider publishes its keys.
    pub jwks_url: String,
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must include.
    pub audience: String,
    /// The claim that names the agent (default `sub`).
    pub agent_claim: String,
    /// Leeway on `exp` and `nbf` (at most 60 s).
    pub leeway: Duration,
}

/// Why a token was refused (for logs and metrics; the agent sees only "invalid token").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtRejection(pub &'static str);

struct VerifyingKey {
    key: DecodingKey,
    algorithm: Algorithm,
}

struct KeySet {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    without_kid: Vec<Arc<VerifyingKey>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    fetches: u64,
}

/// Verifies agent JWTs. Cheap to share.
pub struct JwtVerifier {
    settings: JwtSettings,
    jwks_url: Url,
    http: reqwest::Client,
    keys: Mutex<KeySet>,
    // One fetch at a time; the others wait for it and use its keys.
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("jwks_url", &self.settings.jwks_url)
            .field("issuer", &self.settings.issuer)
            .field("audience", &self.settings.audience)
            .finish_non_exhaustive()
    }
}

/// The identity a verified token gives.
#[derive(Clone, Debug)]
pub(crate) struct VerifiedToken {
    pub(crate) agent_id: String,
}

impl JwtVerifier {
    /// A verifier; keys are fetched on first use.
    pub fn new(settings: JwtSettings) -> Result<JwtVerifier, String> {
        let jwks_url = Url::parse(&settings.jwks_url)
            .map_err(|e| format!("jwks_url {:?} is not a URL: {e}", settings.jwks_url))?;
        match jwks_url.scheme() {
            "https" => {}
            "http" if is_loopback(&jwks_url) => {}
            _ => {
                return Err(
                    "jwks_url must use https (plain http only for loopback addresses)".to_owned(),
                );
            }
        }
        if settings.issuer.trim().is_empty() || settings.audience.trim().is_empty() {
            return Err("JWT agents need both an issuer and an audience".to_owned());
        }
        if settings.agent_claim.trim().is_empty() {
            return Err("the agent claim must not be empty".to_owned());
        }
        if settings.leeway > MAX_LEEWAY {
            return Err(format!(
                "the JWT leeway is at most {} s",
                MAX_LEEWAY.as_secs()
            ));
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::upstream::tls_config())
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("safeconv-relay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the JWKS HTTP client: {e}"))?;
        Ok(JwtVerifier {
            settings,
            jwks_url,
            http,
            keys: Mutex::new(KeySet {
                by_kid: HashMap::new(),
                without_kid: Vec::new(),
                fetched_at: None,
                last_attempt: None,
                fetches: 0,
            }),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// How many times the key set was fetched (successfully or not).
    pub fn fetches(&self) -> u64 {
        self.lock().fetches
    }

    /// Whether a value looks like a JWT (three base64url parts).
    pub(crate) fn looks_like_jwt(token: &str) -> bool {
        token.len() <= MAX_TOKEN_LEN
            && token.split('.').count() == 3
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    }

    /// Verifies `token` and names its agent.
    pub(crate) async fn verify(&self, token: &str) -> Result<VerifiedToken, JwtRejection> {
        if !Self::looks_like_jwt(token) {
            return Err(JwtRejection("malformed"));
        }
        // `alg: none` and unknown algorithms fail to parse here.
        let header = jsonwebtoken::decode_header(token).map_err(|_| JwtRejection("malformed"))?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA
        ) {
            return Err(JwtRejection("algorithm_not_allowed"));
        }
        if self.keys_are_old() {
            // Fetched long ago (or never): fetch again so that revoked keys go away.
            self.refresh().await;
        }
        let key = match self.find_key(header.kid.as_deref(), header.alg) {
            Some(key) => key,
            None => {
                self.refresh().await;
                self.find_key(header.kid.as_deref(), header.alg)
                    .ok_or(JwtRejection("unknown_key"))?
            }
        };
        if key.algorithm != header.alg {
            return Err(JwtRejection("algorithm_does_not_match_key"));
        }

        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.settings.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data =
            jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key.key, &validation)
                .map_err(|e| JwtRejection(rejection_for(e.kind())))?;
        let claims = data.claims;
        // A Signicat access token is never an agent credential, even if its issuer were
        // configured by mistake.
        let scope = claims.get("scope").and_then(Value::as_str).unwrap_or("");
        if scope.split_whitespace().any(|s| s == "signicat-api") {
            return Err(JwtRejection("signicat_token"));
        }
        let agent_id = claims
            .get(&self.settings.agent_claim)
            .and_then(Value::as_str)
            .filter(|id| super::api_keys::valid_agent_id(id))
            .ok_or(JwtRejection("no_agent_claim"))?;
        Ok(VerifiedToken {
            agent_id: agent_id.to_owned(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, KeySet> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn find_key(&self, kid: Option<&str>, alg: Algorithm) -> Option<Arc<VerifyingKey>> {
        let keys = self.lock();
        match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            // Without a `kid`, only an unambiguous key set will do.
            None => {
                let mut all = keys
                    .by_kid
                    .values()
                    .chain(&keys.without_kid)
                    .filter(|k| k.algorithm == alg);
                match (all.next(), all.next()) {
                    (Some(only), None) => Some(only.clone()),
                    _ => None,
                }
            }
        }
    }

    fn keys_are_old(&self) -> bool {
        self.lock()
            .fetched_at
            .is_none_or(|at| at.elapsed() >= MAX_KEY_AGE)
    }

    /// Whether this caller should fetch now: nobody fetched while it waited, and the last try
    /// is older than the floor. Counts the fetch.
    fn claim_fetch(&self, attempt_before: Option<Instant>) -> bool {
        let mut keys = self.lock();
        if keys.last_attempt != attempt_before
            || keys
                .last_attempt
                .is_some_and(|at| at.elapsed() < REFETCH_FLOOR)
        {
            return false;
        }
        keys.last_attempt = Some(Instant::now());
        keys.fetches += 1;
        true
    }

    /// Fetches the key set unless it was tried less than [`REFETCH_FLOOR`] ago.
    pub(crate) async fn refresh(&self) {
        let attempt_before = self.lock().last_attempt;
        let _fetching = self.fetching.lock().await;
        if !self.claim_fetch(attempt_before) {
            return;
        }
        match self.fetch().await {
            Ok((by_kid, without_kid)) => {
                let mut keys = self.lock();
                tracing::info!(
                    keys = by_kid.len() + without_kid.len(),
                    "agent JWKS fetched"
                );
                keys.by_kid = by_kid;
                keys.without_kid = without_kid;
                keys.fetched_at = Some(Instant::now());
            }
            Err(e) => tracing::warn!(error = %e, "agent JWKS fetch failed; keeping the keys I had"),
        }
    }

    #[allow(clippy::type_complexity)]
    async fn fetch(
        &self,
    ) -> Result<(HashMap<String, Arc<VerifyingKey>>, Vec<Arc<VerifyingKey>>), String> {
        let response = self
            .http
            .get(self.jwks_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("JWKS request failed: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("JWKS answered HTTP {}", response.status().as_u16()));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("JWKS body: {e}"))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err("JWKS document too large".to_owned());
        }
        let doc: Value =
            serde_json::from_slice(&body).map_err(|e| format!("JWKS is not JSON: {e}"))?;
        let entries = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("JWKS has no `keys` array")?;
        let mut by_kid = HashMap::new();
        let mut without_kid = Vec::new();
        // Keys we cannot use (other kinds, other curves, encryption keys) are skipped, not fatal.
        for entry in entries {
            let Ok(jwk) = serde_json::from_value::<Jwk>(entry.clone()) else {
                continue;
            };
            let Some(key) = usable_key(&jwk) else {
                continue;
            };
            match jwk.common.key_id {
                Some(kid) => {
                    by_kid.insert(kid, Arc::new(key));
                }
                None => without_kid.push(Arc::new(key)),
            }
        }
        Ok((by_kid, without_kid))
    }
}

/// The verifying key a JWK gives, if it is a signature key of an allowed kind.
fn usable_key(jwk: &Jwk) -> Option<VerifyingKey> {
    if let Some(jsonwebtoken::jwk::PublicKeyUse::Encryption) = jwk.common.public_key_use {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    // A key that declares its algorithm must declare the one its kind gives.
    if let Some(declared) = jwk.common.key_algorithm {
        let matches = matches!(
            (declared, algorithm),
            (KeyAlgorithm::RS256, Algorithm::RS256)
                | (KeyAlgorithm::ES256, Algorithm::ES256)
                | (KeyAlgorithm::EdDSA, Algorithm::EdDSA)
        );
        if !matches {
            return None;
        }
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyingKey { key, algorithm })
}

fn rejection_for(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => "expired",
        K::ImmatureSignature => "not_yet_valid",
        K::InvalidIssuer => "wrong_issuer",
        K::InvalidAudience => "wrong_audience",
        K::InvalidSignature => "bad_signature",
        K::MissingRequiredClaim(_) => "missing_claim",
        K::InvalidAlgorithm => "algorithm_not_allowed",
        _ => "invalid",
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}
