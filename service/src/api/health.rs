use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sspr_api::health::{Health, HealthStatus};
use utoipa_axum::routes;

use super::AppState;

/// Liveness: the process answers.
///
/// Needs no token and makes no upstream call; a liveness probe that fails means the process
/// should be restarted.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is alive", body = Health)))]
#[tracing::instrument(name = "health.live", skip_all)]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
        problems: vec![],
    })
}

/// Readiness: configuration loaded, every trusted issuer's signing keys fetched, and not
/// shutting down.
///
/// Needs no token. While an issuer's keys are missing the service fetches them again on each
/// call and answers 503 with the reasons in `problems`, so no token could be verified yet. From
/// the moment the service is told to stop it answers 503 `shutting down`, so that no new
/// traffic is routed to it while the requests in flight finish.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "Not ready; `problems` says why", body = Health),
    ))]
#[tracing::instrument(name = "health.ready", skip_all)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let mut problems = if state.draining.is_draining() {
        vec![SHUTTING_DOWN.to_owned()]
    } else if state.auth.all_keys_loaded().await {
        vec![]
    } else {
        let mut problems = state.auth.load_keys().await;
        if problems.is_empty() && !state.auth.all_keys_loaded().await {
            problems.push("no token issuer is configured (auth.issuers)".into());
        }
        problems
    };
    if let Err(error) = state.tenant_store.ping().await {
        problems.push(format!("the store does not answer: {error}"));
    }
    if problems.is_empty() {
        (
            StatusCode::OK,
            Json(Health {
                status: HealthStatus::Ready,
                problems,
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: HealthStatus::NotReady,
                problems,
            }),
        )
    }
}

/// The readiness problem while the service drains.
const SHUTTING_DOWN: &str = "shutting down";

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}
