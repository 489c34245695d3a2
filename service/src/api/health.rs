use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;

#[derive(Serialize, ToSchema)]
#[schema(examples(json!({"status": "ready"}), json!({"status": "notReady",
    "problems": ["the signing keys of https://login.microsoftonline.com/5c7d9e1f-2a4b-4c6d-8e0f-1a2b3c4d5e6f/v2.0 could not be fetched"]})))]
pub struct Health {
    pub status: HealthStatus,
    /// Why the service is not ready; absent when there is nothing to say.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum HealthStatus {
    /// Liveness: the process answers.
    Ok,
    /// Readiness: ready to serve.
    Ready,
    NotReady,
}

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

/// Readiness: configuration loaded and every trusted issuer's signing keys fetched.
///
/// Needs no token. While an issuer's keys are missing the service fetches them again on each
/// call and answers 503 with the reasons in `problems`, so no token could be verified yet.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "Not ready; `problems` says why", body = Health),
    ))]
#[tracing::instrument(name = "health.ready", skip_all)]
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
