//! Readiness: the SSPR guide's checklist for one tenant and across the fleet. The reads run
//! concurrently (the policy document and the registration summary through their caches); a read
//! that fails makes its checks `unknown` with the reason, never the whole answer an error.

use std::sync::Arc;

use futures::{Stream, StreamExt};

use sspr_api::readiness::{TenantReadiness, UserGuide};

use super::policy::{self, Policies};
use super::protection::Protection;
use super::registrations::{Registrations, Reporting};
use super::windows_link::WindowsLink;
use super::{OpsError, Verb, authorize, tenant_ref};
use crate::auth::Caller;
use crate::capabilities::licences::Licences;
use crate::capabilities::secure_score::SecureScore;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};
use crate::domain::readiness::{self, Observed, ReadinessRules, Unread};
use crate::domain::secure_score::{MFA_REGISTRATION_CONTROL, SSPR_CONTROL};
use crate::telemetry::FleetOutcome;

/// Readiness's configuration.
pub struct ReadinessSettings {
    pub rules: ReadinessRules,
    /// Tenants assessed at once by the fleet readiness.
    pub fleet_concurrency: usize,
}

/// What readiness reads through.
#[derive(Clone, Copy)]
pub struct Readiness<'a> {
    pub tenants: &'a TenantRegistry,
    pub policies: &'a Policies,
    pub policy_upstream: policy::Upstream<'a>,
    pub registrations: &'a Registrations,
    pub reporting: Reporting<'a>,
    pub protection: Protection<'a>,
    pub licences: &'a dyn Licences,
    pub secure_score: &'a dyn SecureScore,
    pub windows_link: WindowsLink<'a>,
    pub rules: &'a ReadinessRules,
}

fn unread(error: impl std::fmt::Display) -> Unread {
    Unread::new(format!("Could not be read: {error}."))
}

impl<'a> Readiness<'a> {
    /// The tenant's readiness; 404 for a tenant the caller may not see.
    pub async fn tenant(
        &self,
        caller: &Caller,
        tenant_key: &str,
    ) -> Result<TenantReadiness, OpsError> {
        let tenant = authorize(self.tenants, caller, Verb::Read, tenant_key)?;
        Ok(self.assess(caller, &tenant).await)
    }

    /// Every check for a tenant the caller was authorized for.
    async fn assess(&self, caller: &Caller, tenant: &ManagedTenant) -> TenantReadiness {
        let read_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let key = tenant.id.as_str();
        let (skus, policy, protection, summary, scores, inventory) = tokio::join!(
            self.licences.subscribed_skus(tenant),
            policy::read(
                self.policies,
                self.tenants,
                self.policy_upstream,
                caller,
                key,
                None
            ),
            self.protection.status(caller, key, &[], &[]),
            super::registrations::summary(
                self.registrations,
                self.tenants,
                self.reporting,
                caller,
                key,
                None
            ),
            self.secure_score
                .control_scores(tenant, &[SSPR_CONTROL, MFA_REGISTRATION_CONTROL]),
            self.windows_link.status(caller, key),
        );
        let observed = Observed {
            tenant: tenant_ref(tenant),
            read_at,
            skus: skus.as_deref().map_err(unread),
            policy: policy
                .as_ref()
                .map(|read| &read.value.document)
                .map_err(unread),
            protection: protection.as_ref().map_err(unread),
            registrations: summary
                .as_ref()
                .map(|read| read.summary.as_ref())
                .map_err(unread),
            secure_score: scores.as_deref().map_err(unread),
            windows_link: inventory.as_ref().map_err(unread),
        };
        readiness::assess(&observed, self.rules)
    }

    /// Each target's readiness as it completes, at most `concurrency` at once. A tenant whose
    /// reads all fail still gets an answer (its checks `unknown`); only an authorization
    /// failure is an error.
    pub fn fleet(
        self,
        caller: &'a Caller,
        targets: Vec<Arc<ManagedTenant>>,
        concurrency: usize,
    ) -> impl Stream<Item = (Arc<ManagedTenant>, Result<TenantReadiness, OpsError>)> + Send + 'a
    {
        futures::stream::iter(targets)
            .map(move |tenant| async move {
                let readiness = self.assess(caller, &tenant).await;
                crate::telemetry::record::fleet_tenant(FleetOutcome::Counted);
                (tenant, Ok(readiness))
            })
            .buffer_unordered(concurrency.max(1))
    }

    /// The one-page guide for the tenant's users, from its policy and its Windows link.
    pub async fn user_guide(
        &self,
        caller: &Caller,
        tenant_key: &str,
    ) -> Result<UserGuide, OpsError> {
        let tenant = authorize(self.tenants, caller, Verb::Read, tenant_key)?;
        let (policy, inventory) = tokio::join!(
            policy::read(
                self.policies,
                self.tenants,
                self.policy_upstream,
                caller,
                &tenant.id,
                None
            ),
            self.windows_link.status(caller, &tenant.id),
        );
        Ok(readiness::user_guide(
            tenant_ref(&tenant),
            policy.as_ref().ok().map(|read| &read.value.document),
            inventory.as_ref().ok(),
        ))
    }
}
