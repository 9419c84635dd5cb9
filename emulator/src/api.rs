//! The Signicat API handlers: token, create session, get session, cancel session.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::behaviour::Status;
use crate::clock::{UnixNanos, duration_nanos, year_of};
use crate::counters::bump;
use crate::errors::{invalid_params, invalid_token, oauth_error, signicat_error};
use crate::personas::{mask_nin, person_for};
use crate::rng::{SplitMix64, stable_hash};
use crate::sessions::{Session, SubjectData};
use crate::state::{Shared, lock};
use crate::tokens::TokenCheck;
use crate::urlenc;
use crate::wire::{InvalidParam, TokenResponse, json_response};
use crate::words::binding_message;

/// The client's address, put into each request's extensions by the accept loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PeerAddr(pub(crate) SocketAddr);

type AppState = State<Arc<Shared>>;

const ACCOUNT_PARAM: &str = "signicat-accountId";
const SCOPE: &str = "signicat-api";

// ---------------------------------------------------------------------------------------------
// Token

/// `POST /auth/open/connect/token`
pub(crate) async fn token(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type && !body.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be application/x-www-form-urlencoded",
        );
    }
    let Some(form) = std::str::from_utf8(&body)
        .ok()
        .and_then(urlenc::parse_pairs)
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The form body is malformed",
        );
    };

    let credentials = match basic_credentials(&headers) {
        Some(Ok(pair)) => Some(pair),
        Some(Err(())) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The Basic authorization header is malformed",
            );
        }
        None => match (
            urlenc::find(&form, "client_id"),
            urlenc::find(&form, "client_secret"),
        ) {
            (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
            _ => None,
        },
    };
    let Some((client_id, client_secret)) = credentials else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication is required (client_id and client_secret, or HTTP Basic)",
        );
    };
    if client_id != shared.config.client_id || client_secret != shared.config.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unknown client or wrong client secret",
        );
    }

    match urlenc::find(&form, "grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("The grant type '{other}' is not supported; use client_credentials"),
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type is missing; use client_credentials",
            );
        }
    }
    if let Some(scope) = urlenc::find(&form, "scope")
        && !scope.split(' ').any(|s| s == SCOPE)
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("The scope '{scope}' is not allowed; use {SCOPE}"),
        );
    }

    let lifetime = shared.settings().token_lifetime;
    let now = shared.clock.now();
    let access_token = {
        let mut rng = lock(&shared.ids);
        lock(&shared.tokens).issue(&mut rng, now, now.saturating_add(duration_nanos(lifetime)))
    };
    bump(&shared.counters.tokens_issued);
    let mut response = json_response(
        StatusCode::OK,
        &TokenResponse {
            access_token,
            expires_in: lifetime.as_secs(),
            token_type: "Bearer",
            scope: SCOPE,
        },
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// The `(id, secret)` of an `Authorization: Basic` header: `None` without one, `Err` if malformed.
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let parse = || {
        let decoded = STANDARD.decode(rest.trim()).map_err(|_| ())?;
        let text = String::from_utf8(decoded).map_err(|_| ())?;
        let (id, secret) = text.split_once(':').ok_or(())?;
        // RFC 6749 §2.3.1: both parts are form-encoded before base64.
        Ok((
            urlenc::decode(id).ok_or(())?,
            urlenc::decode(secret).ok_or(())?,
        ))
    };
    Some(parse())
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the session endpoints

/// The checks every session endpoint makes: a valid bearer token, then the account id
/// (required on create, checked when given elsewhere). `Some` is the response refusing the request.
fn admit(
    shared: &Shared,
    headers: &HeaderMap,
    query: Option<&str>,
    account_required: bool,
) -> Option<Response> {
    authorize(shared, headers).or_else(|| check_account(shared, query, account_required))
}

/// The bearer token must be known and unexpired.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Some(invalid_token(
            shared,
            "The request has no bearer access token.",
        ));
    };
    let check = lock(&shared.tokens).check(token, shared.clock.now());
    match check {
        TokenCheck::Valid => None,
        TokenCheck::Expired => Some(invalid_token(shared, "The access token has expired.")),
        TokenCheck::Unknown => Some(invalid_token(shared, "The access token is not valid.")),
    }
}

/// `signicat-accountId` must name the configured account (and be present when `required`).
fn check_account(shared: &Shared, query: Option<&str>, required: bool) -> Option<Response> {
    let Some(pairs) = urlenc::parse_pairs(query.unwrap_or("")) else {
        return Some(signicat_error(
            shared,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The query string is malformed.",
            Vec::new(),
        ));
    };
    match urlenc::find(&pairs, ACCOUNT_PARAM) {
        None if required => Some(invalid_params(
            shared,
            vec![InvalidParam::new(
                ACCOUNT_PARAM,
                "The query parameter is required.",
            )],
        )),
        None => None,
        Some(account) if account == shared.config.account_id => None,
        Some(account) => Some(signicat_error(
            shared,
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("The API client has no access to the account '{account}'."),
            Vec::new(),
        )),
    }
}

fn session_not_found(shared: &Shared, id: &str) -> Response {
    signicat_error(
        shared,
        StatusCode::NOT_FOUND,
        "session_not_found",
        format!("No session with id '{id}' was found."),
        Vec::new(),
    )
}

// ---------------------------------------------------------------------------------------------
// Create

/// The validated parts of a create-session body.
struct CreateRequest {
    allowed_providers: Vec<String>,
    requested_attributes: Vec<String>,
    prefilled_input: Map<String, Value>,
    nin: String,
    session_lifetime: Option<u64>,
    tags: Option<Vec<String>>,
    external_reference: Option<String>,
}

fn string_array(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn parse_create(body: &Map<String, Value>) -> Result<CreateRequest, Vec<InvalidParam>> {
    let mut problems = Vec::new();

    match body.get("flow") {
        None | Some(Value::Null) => {
            problems.push(InvalidParam::new("flow", "The field is required."))
        }
        Some(Value::String(flow)) if flow == "headless" => {}
        Some(Value::String(flow)) if flow == "redirect" || flow == "embedded" => {
            problems.push(InvalidParam::new(
                "flow",
                format!("The emulator supports only the headless flow, not '{flow}'."),
            ))
        }
        Some(_) => problems.push(InvalidParam::new(
            "flow",
            "Must be one of headless, redirect, embedded.",
        )),
    }

    let allowed_providers = match body.get("allowedProviders").map(string_array) {
        Some(Some(list)) if list.iter().any(|p| p == "nbid") => {
            if list.iter().any(|p| p.len() > 30) {
                problems.push(InvalidParam::new(
                    "allowedProviders",
                    "Each provider is at most 30 characters.",
                ));
            }
            list
        }
        Some(None) => {
            problems.push(InvalidParam::new(
                "allowedProviders",
                "Must be an array of strings.",
            ));
            Vec::new()
        }
        _ => {
            problems.push(InvalidParam::new(
                "allowedProviders",
                "Must contain \"nbid\" (the emulator is Norwegian BankID only).",
            ));
            Vec::new()
        }
    };

    let requested_attributes = match body.get("requestedAttributes") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => string_array(v).unwrap_or_else(|| {
            problems.push(InvalidParam::new(
                "requestedAttributes",
                "Must be an array of strings.",
            ));
            Vec::new()
        }),
    };

    let auth_type = body
        .get("additionalParameters")
        .and_then(Value::as_object)
        .and_then(|p| p.get("nbid_auth_type"))
        .and_then(Value::as_str);
    if auth_type != Some("PHONE") {
        problems.push(InvalidParam::new(
            "additionalParameters.nbid_auth_type",
            "Must be \"PHONE\" (the emulator supports Safe Conversation only).",
        ));
    }

    let prefilled_input = match body.get("prefilledInput") {
        Some(Value::Object(map)) => map.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => {
            problems.push(InvalidParam::new("prefilledInput", "Must be an object."));
            Map::new()
        }
    };
    let nin = match prefilled_input.get("nin") {
        Some(Value::String(nin)) if nin.len() == 11 && nin.bytes().all(|b| b.is_ascii_digit()) => {
            nin.clone()
        }
        None | Some(Value::Null) => {
            problems.push(InvalidParam::new(
                "prefilledInput.nin",
                "The national identity number is required for Safe Conversation.",
            ));
            String::new()
        }
        Some(_) => {
            problems.push(InvalidParam::new(
                "prefilledInput.nin",
                "Must be a string of 11 digits.",
            ));
            String::new()
        }
    };

    let session_lifetime = match body.get("sessionLifetime") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(secs) => Some(secs),
            None if v.as_i64().is_some() => Some(0),
            None => {
                problems.push(InvalidParam::new(
                    "sessionLifetime",
                    "Must be an integer number of seconds.",
                ));
                None
            }
        },
    };

    let tags = match body.get("tags") {
        None | Some(Value::Null) => None,
        Some(v) => match string_array(v) {
            Some(tags) if tags.len() <= 100 && tags.iter().all(|t| t.chars().count() <= 100) => {
                Some(tags)
            }
            _ => {
                problems.push(InvalidParam::new(
                    "tags",
                    "Must be an array of at most 100 strings of at most 100 characters.",
                ));
                None
            }
        },
    };

    let external_reference = match body.get("externalReference") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            problems.push(InvalidParam::new("externalReference", "Must be a string."));
            None
        }
    };

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(CreateRequest {
        allowed_providers,
        requested_attributes: normalise_attributes(requested_attributes),
        prefilled_input,
        nin,
        session_lifetime,
        tags,
        external_reference,
    })
}

/// Sorted, without duplicates, with `idpId` (always added) last — as Signicat answers.
fn normalise_attributes(mut attributes: Vec<String>) -> Vec<String> {
    attributes.retain(|a| a != "idpId");
    attributes.sort();
    attributes.dedup();
    attributes.push("idpId".to_owned());
    attributes
}

fn subject_data(shared: &Shared, nin: &str, now: UnixNanos) -> SubjectData {
    // Stable per person and account, like a real subject id.
    let mut rng = SplitMix64::new(stable_hash(&format!("{}:{nin}", shared.config.account_id)));
    let mut id_bytes = [0u8; 24];
    rng.fill(&mut id_bytes);
    SubjectData {
        id: URL_SAFE_NO_PAD.encode(id_bytes),
        idp_id: format!("9578-6000-4-{}", 1_000_000 + rng.below(9_000_000)),
        serial_number: format!("9578-5999-4-{}", 1_000_000 + rng.below(9_000_000)),
        person: person_for(nin, year_of(now)),
    }
}

/// `POST /auth/rest/sessions?signicat-accountId=...`
pub(crate) async fn create_session(
    State(shared): AppState,
    Extension(PeerAddr(peer)): Extension<PeerAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(rejection) = admit(&shared, &headers, query.as_deref(), true) {
        return rejection;
    }
    let object = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map,
        _ => {
            return signicat_error(
                &shared,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request body must be a JSON object.",
                Vec::new(),
            );
        }
    };
    let request = match parse_create(&object) {
        Ok(request) => request,
        Err(problems) => return invalid_params(&shared, problems),
    };

    let settings = shared.settings();
    let lifetime_secs = request
        .session_lifetime
        .unwrap_or(settings.default_session_lifetime.as_secs())
        .max(settings.min_session_lifetime.as_secs());
    let now = shared.clock.now();
    let expires_at = now.saturating_add(lifetime_secs.saturating_mul(1_000_000_000));
    let behaviour = shared.behaviour_for(&request.nin);
    let id = lock(&shared.ids).uuid();
    let session = Session {
        id: id.clone(),
        account_id: shared.config.account_id.clone(),
        timeline: behaviour.timeline(now, expires_at),
        created_at: now,
        expires_at,
        cancelled_at: None,
        cancel_requests: 0,
        binding_message: binding_message(shared.config.seed, shared.next_session_number()),
        allowed_providers: request.allowed_providers,
        flow: "headless".to_owned(),
        requested_attributes: request.requested_attributes,
        prefilled_input: request.prefilled_input,
        session_lifetime_secs: lifetime_secs,
        ip_address: peer.ip().to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        tags: request.tags,
        external_reference: request.external_reference,
        subject: subject_data(&shared, &request.nin, now),
        nin: request.nin,
    };
    if shared.config.log_requests {
        eprintln!(
            "safeconv-emulator: session {id} for nin {} behaves {behaviour:?}",
            mask_nin(&session.nin)
        );
    }
    let wire = session.to_wire(Status::Created);
    lock(&shared.sessions).insert(session, now);
    bump(&shared.counters.sessions_created);
    json_response(StatusCode::OK, &wire)
}

// ---------------------------------------------------------------------------------------------
// Get and cancel

/// `GET /auth/rest/sessions/{id}`
pub(crate) async fn get_session(
    State(shared): AppState,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Some(rejection) = admit(&shared, &headers, query.as_deref(), false) {
        return rejection;
    }
    let now = shared.clock.now();
    let wire = lock(&shared.sessions)
        .get(&id)
        .map(|s| s.to_wire(s.status_at(now)));
    match wire {
        Some(wire) => json_response(StatusCode::OK, &wire),
        None => session_not_found(&shared, &id),
    }
}

/// `POST /auth/rest/sessions/{id}/cancel`
pub(crate) async fn cancel_session(
    State(shared): AppState,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Some(rejection) = admit(&shared, &headers, query.as_deref(), false) {
        return rejection;
    }
    let now = shared.clock.now();
    let outcome = lock(&shared.sessions)
        .get_mut(&id)
        .map(|s| match s.cancel(now) {
            Ok(()) => Ok(s.to_wire(Status::Cancelled)),
            Err(status) => Err(status),
        });
    match outcome {
        Some(Ok(wire)) => json_response(StatusCode::OK, &wire),
        // Signicat does not document what cancelling a finished session answers; a 400 with
        // this code is our inference.
        Some(Err(status)) => signicat_error(
            &shared,
            StatusCode::BAD_REQUEST,
            "session_already_completed",
            format!(
                "The session is already completed with status {}.",
                status.as_str()
            ),
            Vec::new(),
        ),
        None => session_not_found(&shared, &id),
    }
}

// ---------------------------------------------------------------------------------------------
// Anything else

/// Unknown paths under the API.
pub(crate) async fn not_found(State(shared): AppState) -> Response {
    signicat_error(
        &shared,
        StatusCode::NOT_FOUND,
        "not_found",
        "No such endpoint.",
        Vec::new(),
    )
}

/// Known paths with the wrong method.
pub(crate) async fn method_not_allowed(State(shared): AppState) -> Response {
    signicat_error(
        &shared,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "The endpoint does not support this method.",
        Vec::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_sorted_with_idp_id_last() {
        let got = normalise_attributes(
            [
                "name",
                "firstName",
                "lastName",
                "nin",
                "dateOfBirth",
                "idpId",
                "name",
            ]
            .map(String::from)
            .to_vec(),
        );
        assert_eq!(
            got,
            [
                "dateOfBirth",
                "firstName",
                "lastName",
                "name",
                "nin",
                "idpId"
            ]
        );
    }
}
