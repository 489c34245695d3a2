//! Intune's device configuration, for the Windows sign-in screen's reset link.

use serde_json::Value;
use sspr_api::protection::PlannedCall;

use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::windows_link::{DeployPlan, DeployTarget, ResetLinkInventory};

/// Reads (and deploys) the Intune policies that set `AllowAadPasswordReset`.
#[async_trait::async_trait]
pub trait DeviceConfiguration: Send + Sync {
    /// Every settings-catalog policy and custom OMA-URI profile of the tenant that sets the
    /// value, with their assignments. Without an Intune licence or the permission: the error.
    async fn reset_link_inventory(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<ResetLinkInventory, DirectoryError>;

    /// Creates sspr's settings-catalog policy (unassigned). A create is never retried here: one
    /// whose answer was lost may have happened, so the caller looks before it tries again.
    async fn create_reset_link_policy(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<Written, DirectoryError>;

    /// Assigns the policy to `target` only (Intune's assign replaces the whole set).
    async fn assign_reset_link_policy(
        &self,
        tenant: &ManagedTenant,
        policy_id: &str,
        target: &DeployTarget,
    ) -> Result<Option<String>, DirectoryError>;

    /// Deletes a configuration policy (a copy of sspr's, or one to make afresh).
    async fn delete_configuration_policy(
        &self,
        tenant: &ManagedTenant,
        policy_id: &str,
    ) -> Result<Option<String>, DirectoryError>;

    // The answers show Graph's exact JSON and calls (the API promises them); how they look is
    // the adapter's business, so the use cases ask the capability.

    /// sspr's policy as the body of its create.
    fn policy_json(&self) -> Value;

    /// The body of the assign action for `target`.
    fn assignment_json(&self, target: &DeployTarget) -> Value;

    /// The calls `plan` makes, in order (`{id}` for the id a create has yet to give).
    fn planned_calls(&self, plan: &DeployPlan) -> Vec<PlannedCall>;
}

/// What a create did.
#[derive(Debug, Clone)]
pub struct Written {
    /// The new policy's id.
    pub policy_id: String,
    pub request_id: Option<String>,
}
