//! HTTP: the router, its layers (tracing, CORS, timeout, body limit, agent authentication) and
//! handlers that only map requests to [`Relay`] calls and answers back.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::problem::{Problem, TRACE_ID, new_trace_id};
use crate::service::{Caller, Relay};

impl Relay {
    /// Everything on one router: the session API and `/healthz`, `/readyz`, `/metrics`.
    ///
    /// ```no_run
    /// # async fn mount(relay: safeconv_relay::Relay) {
    /// let app = axum::Router::new().merge(relay.router());
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
    ///     .await
    ///     .unwrap();
    /// # }
    /// ```
    pub fn router(&self) -> Router {
        self.sessions_router().merge(self.operations_router())
    }

    /// The session API agents call: `POST /auth/rest/sessions`, `GET /auth/rest/sessions/{id}`,
    /// `POST /auth/rest/sessions/{id}/cancel`, each behind agent authentication.
    pub fn sessions_router(&self) -> Router {
        let http = self.http_settings();
        let sessions = Router::new()
            .route("/auth/rest/sessions", post(create))
            .route("/auth/rest/sessions/{id}", get(read))
            .route("/auth/rest/sessions/{id}/cancel", post(cancel))
            .route_layer(middleware::from_fn_with_state(self.clone(), authenticate))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(DefaultBodyLimit::max(http.max_body_bytes))
            .layer(middleware::from_fn_with_state(self.clone(), time_limit))
            .with_state(self.clone());
        let sessions = match cors(&http.allowed_origins) {
            // Outside authentication and the time limit, so that 401, 429 and 504 carry the
            // CORS headers too and a page can read them.
            Some(cors) => sessions.layer(cors),
            None => sessions,
        };
        sessions.layer(middleware::from_fn(trace))
    }

    /// `/healthz` (the process answers), `/readyz` (database and Signicat token reachable) and
    /// `/metrics` (Prometheus). They need no credential: bind them to an internal address.
    pub fn operations_router(&self) -> Router {
        Router::new()
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .with_state(self.clone())
    }
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            // Named one by one: a `*` does not cover Authorization.
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::USER_AGENT,
            ])
            .expose_headers([header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Gives each request a trace id (in error bodies and logs) and logs one line per request.
async fn trace(request: Request, next: Next) -> Response {
    let trace_id = new_trace_id();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = TRACE_ID.scope(trace_id.clone(), next.run(request)).await;
    tracing::info!(
        trace_id,
        method = %method,
        path,
        status = response.status().as_u16(),
        millis = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

async fn time_limit(State(relay): State<Relay>, request: Request, next: Next) -> Response {
    let limit = relay.http_settings().request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            "request_timeout",
            "The request took too long",
        )
        .detail("a create under way is still completed and recorded")
        .into_response(),
    }
}

/// The agent behind the request, or 401 with nothing forwarded.
async fn authenticate(State(relay): State<Relay>, mut request: Request, next: Next) -> Response {
    match relay.authenticator().authenticate(request.headers()).await {
        Ok(agent) => {
            let address = client_address(&relay, &request);
            request.extensions_mut().insert(Caller { agent, address });
            next.run(request).await
        }
        Err(failure) => {
            relay.count_refusal("unauthenticated");
            tracing::warn!(reason = failure.0, address = %client_address(&relay, &request), "agent not authenticated");
            Problem::unauthorized("send the agent's own credential as `Authorization: Bearer …`")
                .into_response()
        }
    }
}

fn client_address(relay: &Relay, request: &Request) -> String {
    if let Some(name) = &relay.http_settings().client_address_header
        && let Some(value) = request.headers().get(name).and_then(|v| v.to_str().ok())
        && let Some(last) = value.rsplit(',').map(str::trim).find(|s| !s.is_empty())
    {
        return last.to_owned();
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

fn session_json(result: Result<Bytes, Problem>) -> Response {
    match result {
        Ok(body) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(problem) => problem.into_response(),
    }
}

async fn create(
    State(relay): State<Relay>,
    axum::Extension(caller): axum::Extension<Caller>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        let problem = Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
        )
        .detail("send the create body as application/json");
        return relay
            .refuse_request(&caller, problem, "unsupported_media_type")
            .await
            .into_response();
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let problem = Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Request body too large",
            )
            .detail(format!(
                "at most {} bytes",
                relay.http_settings().max_body_bytes
            ));
            return relay
                .refuse_request(&caller, problem, "body_too_large")
                .await
                .into_response();
        }
        Err(_) => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Invalid request",
            )
            .detail("the request body could not be read")
            .into_response();
        }
    };
    session_json(relay.create(caller, body).await)
}

async fn read(
    State(relay): State<Relay>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    session_json(relay.get(&caller, &id).await)
}

async fn cancel(
    State(relay): State<Relay>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    session_json(relay.cancel(&caller, &id).await)
}

async fn not_found() -> Response {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found")
        .detail("the relay serves POST /auth/rest/sessions, GET /auth/rest/sessions/{id} and POST /auth/rest/sessions/{id}/cancel")
        .into_response()
}

async fn method_not_allowed() -> Response {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
    )
    .into_response()
}

async fn healthz() -> Response {
    json_status(StatusCode::OK, serde_json::json!({"status": "ok"}))
}

async fn readyz(State(relay): State<Relay>) -> Response {
    match relay.ready().await {
        Ok(()) => json_status(StatusCode::OK, serde_json::json!({"status": "ready"})),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            json_status(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"status": "not ready", "reason": reason}),
            )
        }
    }
}

async fn metrics(State(relay): State<Relay>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        Body::from(relay.metrics().await),
    )
        .into_response()
}

fn json_status(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}
