//! Graph's side of the tenant's SSPR policy: the facts the policy document is built from, the
//! enablement inferred from the registration report, and the planned Graph changes.

use crate::directory::DirectoryError;
use crate::directory::inference::InferenceOutcome;
use crate::directory::tenants::ManagedTenant;
use crate::domain::change::UpstreamCall;
use crate::domain::policy::GraphFacts;

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

    /// Makes one planned Graph change (a call whose target is Graph).
    async fn apply(
        &self,
        tenant: &ManagedTenant,
        call: &UpstreamCall,
    ) -> Result<(), DirectoryError>;
}
