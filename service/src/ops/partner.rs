//! The MSP's GDAP customers, as candidates to onboard: the partner tenant's delegated admin
//! relationships and contracts, each customer marked onboarded or not.

use std::collections::BTreeMap;

use sspr_api::partner::{DelegatedAdminRelationship, PartnerCustomer, PartnerCustomerList};

use super::OpsError;
use crate::auth::Caller;
use crate::capabilities::partner_directory::PartnerDirectory;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};

/// The customers of the partner tenant (`[partner] tenant`, read with the default app).
/// Needs a fleet administrator: the list names tenants the caller may have no grant for.
pub async fn customers(
    registry: &TenantRegistry,
    directory: &dyn PartnerDirectory,
    caller: &Caller,
    partner: Option<&ManagedTenant>,
) -> Result<PartnerCustomerList, OpsError> {
    super::require_fleet_admin(caller, "Listing the partner's customers")?;
    let partner = partner.ok_or_else(|| OpsError::Unusable {
        slug: "no-partner-tenant",
        title: "No partner tenant is configured",
        field: "partner".to_owned(),
        detail: "Set [partner] tenant in the service's configuration to the MSP's own tenant id; the [default_app] reads its GDAP relationships there (DelegatedAdminRelationship.Read.All and Directory.Read.All).".to_owned(),
    })?;
    let relationships = directory.relationships(partner).await?;
    let contracts = directory.contracts(partner).await?;
    let new_customer = |tenant_id: &str, display_name: &str| PartnerCustomer {
        onboarded: registry.find(tenant_id).is_some(),
        tenant_id: tenant_id.to_owned(),
        display_name: display_name.to_owned(),
        default_domain: None,
        contract_type: None,
        relationships: Vec::new(),
    };
    let mut customers: BTreeMap<String, PartnerCustomer> = BTreeMap::new();
    for r in relationships {
        let customer = customers
            .entry(r.customer_tenant_id.clone())
            .or_insert_with(|| new_customer(&r.customer_tenant_id, &r.customer_display_name));
        customer.relationships.push(DelegatedAdminRelationship {
            id: r.id,
            display_name: r.display_name,
            status: r.status,
            end_date_time: r.end_date_time,
            role_definition_ids: r.role_definition_ids,
        });
    }
    for c in contracts {
        let customer = customers
            .entry(c.customer_tenant_id.clone())
            .or_insert_with(|| new_customer(&c.customer_tenant_id, ""));
        customer.default_domain = c.default_domain;
        customer.contract_type = c.contract_type;
        if customer.display_name.is_empty() {
            customer.display_name = c.display_name.unwrap_or_default();
        }
    }
    Ok(PartnerCustomerList {
        partner_tenant_id: partner.id.clone(),
        value: customers.into_values().collect(),
    })
}
