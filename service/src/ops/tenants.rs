use sspr_api::tenants::{
    CredentialFailure, CredentialInfo, CredentialKind, HealthStatus, SecretStorage, TenantHealth,
    TenantOrigin, TenantSummary,
};

use crate::auth::{Caller, Verb};
use crate::directory::tenants::{ManagedTenant, TenantRegistry};

use super::{OpsError, authorize, require};

/// The managed tenants this caller may act on, as answers name them.
pub fn list(registry: &TenantRegistry, caller: &Caller) -> Result<Vec<TenantSummary>, OpsError> {
    Ok(visible(registry, caller)?
        .into_iter()
        .map(summary)
        .collect())
}

/// The managed tenants this caller may act on.
pub fn visible<'a>(
    registry: &'a TenantRegistry,
    caller: &Caller,
) -> Result<Vec<&'a ManagedTenant>, OpsError> {
    require(caller, Verb::Read)?;
    Ok(registry
        .iter()
        .filter(|t| {
            caller.may_access(
                std::iter::once(t.id.as_str()).chain(t.domains.iter().map(String::as_str)),
            )
        })
        .collect())
}

/// The managed tenant named `key` (its id or one of its domains), if the caller may act on it.
pub fn one(
    registry: &TenantRegistry,
    caller: &Caller,
    key: &str,
) -> Result<TenantSummary, OpsError> {
    authorize(registry, caller, Verb::Read, key).map(summary)
}

fn summary(tenant: &ManagedTenant) -> TenantSummary {
    let usage = tenant.credential().usage();
    let last_success = usage.last_success.map(rfc3339);
    TenantSummary {
        id: tenant.id.clone(),
        domain: tenant.primary_domain().to_owned(),
        display_name: tenant.display_name.clone(),
        domains: tenant.domains.clone(),
        origin: TenantOrigin::Config,
        tags: Vec::new(),
        credential: CredentialInfo {
            kind: CredentialKind::ClientSecret,
            client_id: tenant.app_id.clone(),
            secret_storage: SecretStorage::Config,
            last_success,
            last_failure: usage.last_failure.map(|(at, message)| CredentialFailure {
                at: rfc3339(at),
                message,
            }),
        },
        health: TenantHealth {
            status: HealthStatus::Unverified,
            detail: format!(
                "Never verified: run `sspr tenants verify --tenant {}`.",
                tenant.primary_domain()
            ),
        },
        verification: None,
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17";

    fn registry() -> TenantRegistry {
        TenantRegistry::for_tests(vec![ManagedTenant::for_tests(
            ID,
            "contoso.onmicrosoft.com",
        )])
    }

    #[test]
    fn a_tenant_is_found_by_its_id_or_any_domain_in_any_case() {
        let reader = Caller::for_tests(&["SSPR.Read"]);
        for key in [ID, "contoso.onmicrosoft.com", "CONTOSO.onmicrosoft.COM"] {
            let tenant = one(&registry(), &reader, key).expect("found");
            assert_eq!(tenant.id, ID);
            assert_eq!(tenant.domain, "contoso.onmicrosoft.com");
            assert_eq!(tenant.domains, ["contoso.onmicrosoft.com"]);
        }
    }

    #[test]
    fn an_unknown_tenant_and_a_caller_without_a_role_are_refused() {
        let reader = Caller::for_tests(&["SSPR.Read"]);
        assert!(matches!(
            one(&registry(), &reader, "fabrikam.onmicrosoft.com"),
            Err(OpsError::UnknownTenant(key)) if key == "fabrikam.onmicrosoft.com"
        ));
        let nobody = Caller::for_tests(&[]);
        assert!(matches!(
            one(&registry(), &nobody, ID),
            Err(OpsError::Forbidden(_))
        ));
        assert!(matches!(
            visible(&registry(), &nobody),
            Err(OpsError::Forbidden(_))
        ));
    }
}
