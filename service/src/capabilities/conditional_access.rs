//! The tenant's Conditional Access: its policies and named locations, and the writes of the
//! registration-protection policy.

use serde_json::Value;
use sspr_api::protection::{PlannedCall, PolicyChange};

use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::protection::generate::PolicyPart;
use crate::domain::protection::{CaPolicy, NamedLocation, PolicyState};

/// What was read, with Graph's request ids of the pages (answers list them).
pub struct Read<T> {
    pub items: Vec<T>,
    pub request_ids: Vec<String>,
}

/// One write of the registration-protection policy, as an intent.
#[derive(Debug, Clone, Copy)]
pub enum PolicyWrite<'a> {
    /// Create `policy`.
    Create(&'a CaPolicy),
    /// Turn `existing` into `desired`: set what `desired` sets, clear what only `existing` sets.
    Update {
        desired: &'a CaPolicy,
        existing: &'a CaPolicy,
    },
    /// Set only the state of the deployed `policy`.
    State {
        policy: &'a CaPolicy,
        state: PolicyState,
    },
}

/// Reads and writes Conditional Access (Entra ID P1/P2). Every call of one request is made after
/// the previous one answered: Graph gives these routes one request per second per tenant.
#[async_trait::async_trait]
pub trait ConditionalAccess: Send + Sync {
    /// Every CA policy of the tenant, in Graph's order (creation order).
    async fn policies(&self, tenant: &ManagedTenant) -> Result<Read<CaPolicy>, DirectoryError>;

    /// Every named location of the tenant.
    async fn named_locations(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<Read<NamedLocation>, DirectoryError>;

    /// The object ids of a group's direct members.
    async fn group_member_ids(
        &self,
        tenant: &ManagedTenant,
        group_id: &str,
    ) -> Result<Read<String>, DirectoryError>;

    /// Makes `write`. A create is not retried here: one whose answer was lost may have
    /// happened, so the caller looks before it tries again.
    async fn write(
        &self,
        tenant: &ManagedTenant,
        write: PolicyWrite<'_>,
    ) -> Result<Written, DirectoryError>;

    /// The exact call `write` makes, for the dry run's answer, which shows it.
    fn planned_call(&self, write: PolicyWrite<'_>) -> PlannedCall;

    // The answers show Graph's JSON of the policy and name Graph's calls (the API promises the
    // exact JSON); how is the adapter's business, so the use cases ask the capability.

    /// The policy as the body of its create: what the plan and generate answers show.
    fn policy_json(&self, policy: &CaPolicy) -> Value;

    /// The changed parts as the answers list them (Graph's property names).
    fn part_names(&self, parts: &[PolicyPart]) -> Vec<String>;

    /// Every value of the policy's JSON that `write` changes, before and after.
    fn diff(&self, write: PolicyWrite<'_>) -> Vec<PolicyChange>;

    /// How a deploy's attempts name the call `write` makes (`PATCH …/policies/{id}`).
    fn write_text(&self, write: PolicyWrite<'_>) -> String;

    /// How a deploy's attempts name the listing of the policies (the look after a lost answer).
    fn listing_text(&self) -> String;
}

/// What a write did.
#[derive(Debug, Clone)]
pub struct Written {
    /// The policy written (the new one's id for a create).
    pub policy_id: String,
    pub request_id: Option<String>,
}
