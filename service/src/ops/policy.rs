use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::{Caller, Verb};
use crate::directory::graph::Graph;
use crate::directory::inference::InferenceOutcome;
use crate::directory::portal::portal_settings;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};
use crate::domain::policy::{PolicyDocument, PortalKnowledge, TenantRef};

use super::{OpsError, authorize};

/// The tenant's SSPR policy document, and the Graph `request-id`s behind it.
pub async fn read(
    registry: &TenantRegistry,
    graph: &Graph,
    caller: &Caller,
    tenant_key: &str,
) -> Result<(PolicyDocument, Vec<String>), OpsError> {
    let tenant = authorize(registry, caller, Verb::Read, tenant_key)?;
    let ((facts, request_ids), portal) = tokio::try_join!(graph.policy_facts(tenant), async {
        Ok(portal_knowledge(graph, tenant).await)
    })?;
    let retrieved_at = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let tenant_ref = TenantRef {
        id: tenant.id.clone(),
        domain: tenant.primary_domain().to_owned(),
        display_name: tenant.display_name.clone(),
    };
    Ok((
        PolicyDocument::build(tenant_ref, retrieved_at, facts, portal),
        request_ids,
    ))
}

/// The portal settings when the tenant has a portal connector; otherwise enablement inferred from
/// the registration report. A failure here degrades the portal groups to `unavailable` with the
/// reason, so the Graph groups are still shown.
async fn portal_knowledge(graph: &Graph, tenant: &ManagedTenant) -> PortalKnowledge {
    const CONNECT: &str =
        "Configure the portal connector (a delegated admin refresh token) for this tenant.";
    match portal_settings(tenant).await {
        Ok(Some(settings)) => return PortalKnowledge::Portal(settings),
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(tenant = %tenant.id, %error, "portal connector failed");
            return PortalKnowledge::nothing(
                format!("The portal connector could not read the SSPR policy: {error}"),
                "Check the tenant's portal connector; a new delegated admin refresh token may be needed.",
            );
        }
    }
    match graph.inferred_enablement(tenant).await {
        Ok(InferenceOutcome::Inferred(inferred)) => PortalKnowledge::Inferred(inferred),
        Ok(InferenceOutcome::NeedsPremium { .. }) => PortalKnowledge::nothing(
            "No portal connector, and the registration report that enablement could be inferred from needs Entra ID P1 or P2, which this tenant does not have.",
            CONNECT,
        ),
        Err(error) => {
            tracing::warn!(tenant = %tenant.id, %error, "enablement inference failed");
            PortalKnowledge::nothing(
                format!(
                    "No portal connector, and the registration report could not be read to infer enablement: {error}"
                ),
                CONNECT,
            )
        }
    }
}
