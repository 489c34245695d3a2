//! Intune in memory, for the use cases' tests (the Windows link's and readiness'): writes
//! change what a later read lists, every call is counted, reads and creates can be made to fail
//! as Graph does.

use std::collections::VecDeque;
use std::sync::Mutex;

use sspr_api::protection::PlannedCall;

use crate::capabilities::device_configuration::{DeviceConfiguration, Written};
use crate::directory::DirectoryError;
use crate::directory::intune::{assignment_body, policy_body};
use crate::directory::tenants::ManagedTenant;
use crate::domain::windows_link::{
    self, DeployAction, DeployPlan, DeployTarget, PolicyKind, ResetLinkInventory, ResetLinkPolicy,
};
use crate::ops::fakes::upstream;

#[derive(Debug, Clone, Copy)]
pub(crate) enum CreateFault {
    /// Created, but the answer is lost.
    LostAfterCreate,
}

#[derive(Default)]
pub(crate) struct IntuneState {
    pub(crate) policies: Vec<ResetLinkPolicy>,
    pub(crate) create_faults: VecDeque<CreateFault>,
    /// Graph's answer to every read instead of the inventory (licence, permission).
    pub(crate) refuse_reads: Option<(u16, &'static str)>,
    pub(crate) calls: Vec<&'static str>,
    pub(crate) next_id: u32,
}

/// Intune in memory: writes change what a later read lists.
#[derive(Default)]
pub(crate) struct FakeIntune {
    pub(crate) state: Mutex<IntuneState>,
}

impl FakeIntune {
    pub(crate) fn with(policies: Vec<ResetLinkPolicy>) -> FakeIntune {
        let fake = FakeIntune::default();
        fake.state.lock().unwrap().policies = policies;
        fake
    }

    pub(crate) fn calls(&self) -> Vec<&'static str> {
        self.state.lock().unwrap().calls.clone()
    }

    pub(crate) fn ours(&self) -> Vec<ResetLinkPolicy> {
        let state = self.state.lock().unwrap();
        state
            .policies
            .iter()
            .filter(|p| p.is_ours())
            .cloned()
            .collect()
    }
}

#[async_trait::async_trait]
impl DeviceConfiguration for FakeIntune {
    async fn reset_link_inventory(
        &self,
        _tenant: &ManagedTenant,
    ) -> Result<ResetLinkInventory, DirectoryError> {
        let mut state = self.state.lock().unwrap();
        state.calls.push("inventory");
        if let Some((status, message)) = state.refuse_reads {
            return Err(DirectoryError::Upstream {
                status,
                code: "BadRequest".into(),
                message: message.into(),
                request_id: None,
            });
        }
        Ok(ResetLinkInventory {
            configuration_policies_read: state.policies.len(),
            custom_profiles_read: 0,
            policies: state.policies.clone(),
        })
    }

    async fn create_reset_link_policy(
        &self,
        _tenant: &ManagedTenant,
    ) -> Result<Written, DirectoryError> {
        let mut state = self.state.lock().unwrap();
        state.calls.push("create");
        state.next_id += 1;
        let id = format!("policy-{}", state.next_id);
        state.policies.push(ResetLinkPolicy {
            id: id.clone(),
            name: windows_link::POLICY_NAME.into(),
            kind: PolicyKind::SettingsCatalog,
            allows: true,
            assignments: Vec::new(),
        });
        match state.create_faults.pop_front() {
            Some(CreateFault::LostAfterCreate) => Err(upstream(504, "GatewayTimeout")),
            None => Ok(Written {
                policy_id: id,
                request_id: Some("req-create".into()),
            }),
        }
    }

    async fn assign_reset_link_policy(
        &self,
        _tenant: &ManagedTenant,
        policy_id: &str,
        target: &DeployTarget,
    ) -> Result<Option<String>, DirectoryError> {
        let mut state = self.state.lock().unwrap();
        state.calls.push("assign");
        let policy = state
            .policies
            .iter_mut()
            .find(|p| p.id == policy_id)
            .ok_or_else(|| upstream(404, "ResourceNotFound"))?;
        policy.assignments = vec![target.as_assignment()];
        Ok(Some("req-assign".into()))
    }

    async fn delete_configuration_policy(
        &self,
        _tenant: &ManagedTenant,
        policy_id: &str,
    ) -> Result<Option<String>, DirectoryError> {
        let mut state = self.state.lock().unwrap();
        state.calls.push("delete");
        state.policies.retain(|p| p.id != policy_id);
        Ok(None)
    }

    fn policy_json(&self) -> serde_json::Value {
        policy_body()
    }

    fn assignment_json(&self, target: &DeployTarget) -> serde_json::Value {
        assignment_body(target)
    }

    fn planned_calls(&self, plan: &DeployPlan) -> Vec<PlannedCall> {
        // The adapter's rendering is tested with the adapter; here one call per write.
        let n = match plan.action {
            DeployAction::Unchanged { .. } => 0,
            DeployAction::Assign { .. } => 1,
            DeployAction::Create => 2,
            DeployAction::Recreate { .. } => 3,
        } + plan.duplicates.len();
        (0..n)
            .map(|_| PlannedCall {
                method: "POST".into(),
                path: "/beta/x".into(),
                body: serde_json::Value::Null,
            })
            .collect()
    }
}
