//! Graph's side of the tenant's SSPR policy: the facts the policy document is built from, the
//! enablement inferred from the registration report, and the planned Graph changes.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::change::Intent;
use crate::domain::inference::InferenceOutcome;
use crate::domain::policy::{GraphFacts, Source};

/// Reads and changes what Microsoft Graph holds of the tenant's SSPR policy.
#[async_trait::async_trait]
pub trait PolicyDirectory: Send + Sync {
    /// The methods policy, the administrators' SSPR switch and the organization facts, with the
    /// `request-id`s of the reads (for support tickets).
    async fn policy_facts(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<(GraphFacts, Vec<String>), DirectoryError>;

    /// Who SSPR is enabled for, inferred from the registration report (for tenants without a
    /// portal connector). Lives here, not with the portal, because the evidence is Graph's: a
    /// tenant without Entra ID P1 gives [`InferenceOutcome::NeedsPremium`], not an error.
    async fn inferred_enablement(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<InferenceOutcome, DirectoryError>;

    /// Makes one planned Graph change (an intent whose target is Graph).
    async fn apply(&self, tenant: &ManagedTenant, change: &Intent) -> Result<(), DirectoryError>;

    /// The upstream call that makes `change` (Graph's or the portal's), as a dry run shows it.
    fn describe(&self, change: &Intent) -> CallView;
}

/// A call as shown in a dry-run plan.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    /// `graph` or `portal`.
    pub target: Source,
    #[schema(value_type = UpstreamMethod)]
    pub method: String,
    /// Path on the upstream (Graph v1.0, or the portal back end's `/api`).
    pub path: String,
    pub description: String,
    /// Graph: the request body. Portal: the values set, in the document's names (the adapter
    /// writes them into the whole object it read).
    pub body: Value,
}

/// The HTTP method of an upstream call (the schema of [`CallView::method`]).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[allow(dead_code)] // Only its schema is used: the view carries the method as text.
pub enum UpstreamMethod {
    /// Graph.
    Patch,
    /// The portal back end.
    Put,
}
