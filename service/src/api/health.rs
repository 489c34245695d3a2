use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `notReady`.
    pub status: &'static str,
    /// Why the service is not ready.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        problems: vec![],
    })
}

/// Readiness: configuration loaded and every trusted issuer's signing keys fetched.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "Not ready; `problems` says why", body = Health),
    ))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let problems = if state.auth.all_keys_loaded().await {
        vec![]
    } else {
        let mut problems = state.auth.load_keys().await;
        if problems.is_empty() && !state.auth.all_keys_loaded().await {
            problems.push("no token issuer is configured (auth.issuers)".into());
        }
        problems
    };
    if problems.is_empty() {
        (
            StatusCode::OK,
            Json(Health {
                status: "ready",
                problems,
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "notReady",
                problems,
            }),
        )
    }
}
