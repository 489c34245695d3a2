use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::{Caller, Verb};
use crate::directory::graph::Graph;
use crate::directory::tenants::TenantRegistry;
use crate::domain::policy::{PolicyDocument, TenantRef};

use super::{OpsError, authorize};

/// The tenant's SSPR policy document, and the Graph `request-id`s behind it.
pub async fn read(
    registry: &TenantRegistry,
    graph: &Graph,
    caller: &Caller,
    tenant_key: &str,
) -> Result<(PolicyDocument, Vec<String>), OpsError> {
    let tenant = authorize(registry, caller, Verb::Read, tenant_key)?;
    let (facts, request_ids) = graph.policy_facts(tenant).await?;
    let retrieved_at = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let tenant_ref = TenantRef {
        id: tenant.id.clone(),
        domain: tenant.primary_domain().to_owned(),
        display_name: tenant.display_name.clone(),
    };
    Ok((
        PolicyDocument::from_graph(tenant_ref, retrieved_at, facts),
        request_ids,
    ))
}
