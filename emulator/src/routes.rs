//! The axum router: which handler answers which method and path.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::{get, post, put};

use crate::state::Shared;
use crate::{admin, api};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/auth/open/connect/token", post(api::token))
        .route("/auth/rest/sessions", post(api::create_session))
        .route("/auth/rest/sessions/{id}", get(api::get_session))
        .route("/auth/rest/sessions/{id}/cancel", post(api::cancel_session))
        .route("/emulator/health", get(admin::health))
        .route("/emulator/counters", get(admin::counters))
        .route("/emulator/reset", post(admin::reset))
        .route(
            "/emulator/users/{nin}",
            put(admin::put_user).delete(admin::delete_user),
        )
        .route(
            "/emulator/faults",
            post(admin::inject).delete(admin::clear_faults),
        )
        .route("/emulator/fault-rate", put(admin::fault_rate))
        .route("/emulator/sessions/{id}", get(admin::session))
        .route(
            "/emulator/config",
            get(admin::get_config).put(admin::put_config),
        )
        .fallback(fallback)
        .method_not_allowed_fallback(api::method_not_allowed)
        .with_state(shared)
}

async fn fallback(state: State<Arc<Shared>>, uri: Uri) -> Response {
    if uri.path().starts_with("/emulator/") {
        admin::not_found().await
    } else {
        api::not_found(state).await
    }
}
