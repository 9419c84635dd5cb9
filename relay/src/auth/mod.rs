//! Who is asking: every session request carries the agent's own credential as a bearer token,
//! either a static API key (from the agent key file) or a JWT from the call centre's identity
//! provider. A Signicat access token, client id or secret is never an agent credential.

mod api_keys;
mod jwt;

pub use api_keys::{
    AgentKeys, KEY_PREFIX, MIN_KEY_LEN, hash_agent_key, new_agent_key, valid_agent_id,
};
pub use jwt::{JwtSettings, JwtVerifier, MAX_KEY_AGE, MAX_LEEWAY, REFETCH_FLOOR};

use axum::http::{HeaderMap, header};

/// An authenticated agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// The agent id: the JWT's agent claim, or the key file's name for the key.
    pub id: String,
    /// How the agent proved it.
    pub method: AuthMethod,
}

/// How an agent authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// A static API key.
    ApiKey,
    /// A JWT verified against the JWKS.
    Jwt,
}

/// Why a request was not authenticated (the reason goes to logs and metrics, never the token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthFailure(pub &'static str);

/// Checks agent credentials.
#[derive(Debug, Default)]
pub struct Authenticator {
    keys: Option<AgentKeys>,
    jwt: Option<JwtVerifier>,
}

impl Authenticator {
    /// An authenticator with these agent keys and/or JWT verifier (at least one is needed to
    /// let anyone in).
    pub fn new(keys: Option<AgentKeys>, jwt: Option<JwtVerifier>) -> Self {
        Authenticator { keys, jwt }
    }

    /// Whether any way of authenticating is configured.
    pub fn is_configured(&self) -> bool {
        self.keys.is_some() || self.jwt.is_some()
    }

    /// The agent key file, if any.
    pub fn agent_keys(&self) -> Option<&AgentKeys> {
        self.keys.as_ref()
    }

    /// The JWT verifier, if any.
    pub fn jwt(&self) -> Option<&JwtVerifier> {
        self.jwt.as_ref()
    }

    /// The agent behind a request's `Authorization: Bearer …` header.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Agent, AuthFailure> {
        let value = headers
            .get(header::AUTHORIZATION)
            .ok_or(AuthFailure("missing"))?
            .to_str()
            .map_err(|_| AuthFailure("malformed"))?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthFailure("malformed"))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            // Basic (a client id and secret) and anything else: not an agent credential.
            return Err(AuthFailure("not_bearer"));
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthFailure("missing"));
        }
        if let Some(keys) = &self.keys
            && let Some(agent) = keys.agent_for(token)
        {
            return Ok(Agent {
                id: agent,
                method: AuthMethod::ApiKey,
            });
        }
        match &self.jwt {
            Some(jwt) if JwtVerifier::looks_like_jwt(token) => jwt
                .verify(token)
                .await
                .map(|verified| Agent {
                    id: verified.agent_id,
                    method: AuthMethod::Jwt,
                })
                .map_err(|rejection| AuthFailure(rejection.0)),
            _ => Err(AuthFailure("unknown_credential")),
        }
    }
}
