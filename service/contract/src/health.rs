//! The answers of the liveness and readiness probes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(json!({"status": "ready"}), json!({"status": "notReady",
    "problems": ["the signing keys of https://login.microsoftonline.com/5c7d9e1f-2a4b-4c6d-8e0f-1a2b3c4d5e6f/v2.0 could not be fetched"]})))]
pub struct Health {
    pub status: HealthStatus,
    /// Why the service is not ready; absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum HealthStatus {
    /// Liveness: the process answers.
    Ok,
    /// Readiness: ready to serve.
    Ready,
    NotReady,
}
