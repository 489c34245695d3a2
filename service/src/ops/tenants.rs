use std::collections::BTreeSet;
use std::sync::Arc;

use sspr_api::tenants::{
    CredentialFailure, CredentialInfo, Feature, TenantHealth, TenantHealthStatus, TenantSummary,
    Verification,
};

use crate::auth::{Caller, Verb};
use crate::capabilities::app_permissions::AppPermissions;
use crate::capabilities::tenant_store::TenantStore;
use crate::directory::DirectoryError;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};
use crate::domain::tenancy::check_features;

use super::{OpsError, authorize, require};

/// The managed tenants this caller may act on, as answers name them.
pub fn list(registry: &TenantRegistry, caller: &Caller) -> Result<Vec<TenantSummary>, OpsError> {
    Ok(visible(registry, caller)?
        .iter()
        .map(|t| summary(t))
        .collect())
}

/// The managed tenants this caller may act on.
pub fn visible(
    registry: &TenantRegistry,
    caller: &Caller,
) -> Result<Vec<Arc<ManagedTenant>>, OpsError> {
    require(caller, Verb::Read)?;
    Ok(registry
        .snapshot()
        .iter()
        .filter(|t| caller.may_access(t.as_ref()))
        .cloned()
        .collect())
}

/// Gets a fresh token for the tenant and answers, per feature, whether the permissions it grants
/// are enough; the verdict is kept and shown with the tenant. A token refused by Entra (the app
/// is not consented in the tenant, a wrong secret) is a verdict too, not an error.
pub async fn verify(
    registry: &TenantRegistry,
    permissions: &dyn AppPermissions,
    store: &dyn TenantStore,
    caller: &Caller,
    key: &str,
) -> Result<Verification, OpsError> {
    let tenant = &authorize(registry, caller, Verb::Write, key)?;
    let verified_at = rfc3339(time::OffsetDateTime::now_utc());
    let client_id = tenant.app_id.clone();
    let refused = |token_error: String| Verification {
        verified_at: verified_at.clone(),
        client_id: client_id.clone(),
        token_issued: false,
        token_error: Some(token_error),
        granted_permissions: Vec::new(),
        features: check_features(&BTreeSet::new()),
    };
    let verification = match permissions.fresh(tenant).await {
        Ok(granted) if granted.tenant_id.eq_ignore_ascii_case(&tenant.id) => Verification {
            verified_at: verified_at.clone(),
            client_id: client_id.clone(),
            token_issued: true,
            token_error: None,
            features: check_features(&granted.permissions),
            granted_permissions: granted.permissions.into_iter().collect(),
        },
        // Never trust a tenant by name only: the token proves which tenant consented.
        Ok(granted) => refused(format!(
            "the token endpoint issued a token for tenant {}, not {}",
            granted.tenant_id, tenant.id
        )),
        Err(DirectoryError::Token { detail, .. }) => refused(detail),
        Err(other) => return Err(other.into()),
    };
    *tenant
        .verification
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(verification.clone());
    super::onboarding::keep_verification(store, tenant, &verification).await?;
    Ok(verification)
}

/// The managed tenant named `key` (its id or one of its domains), if the caller may act on it.
pub fn one(
    registry: &TenantRegistry,
    caller: &Caller,
    key: &str,
) -> Result<TenantSummary, OpsError> {
    authorize(registry, caller, Verb::Read, key).map(|t| summary(&t))
}

pub(crate) fn summary(tenant: &ManagedTenant) -> TenantSummary {
    let usage = tenant.credential().usage();
    let verification = tenant
        .verification
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let last_failure = usage.last_failure.map(|(at, message)| CredentialFailure {
        at: rfc3339(at),
        message,
    });
    TenantSummary {
        id: tenant.id.clone(),
        domain: tenant.primary_domain().to_owned(),
        display_name: tenant.display_name.clone(),
        domains: tenant.domains.clone(),
        origin: tenant.origin,
        tags: tenant.tags.clone(),
        health: health(tenant, last_failure.as_ref(), verification.as_ref()),
        credential: CredentialInfo {
            kind: tenant.credential_spec().kind(),
            client_id: tenant.app_id.clone(),
            secret_storage: tenant.secret_storage,
            last_success: usage.last_success.map(rfc3339),
            last_failure,
        },
        verification,
    }
}

/// The most pressing of: the last token request failed, never verified, verified without a
/// token, verified with features unavailable, all well.
fn health(
    tenant: &ManagedTenant,
    last_failure: Option<&CredentialFailure>,
    verification: Option<&Verification>,
) -> TenantHealth {
    let verify_hint = format!("sspr tenants verify --tenant {}", tenant.primary_domain());
    let (status, detail) = match (last_failure, verification) {
        (Some(failure), _) => (
            TenantHealthStatus::Failing,
            format!(
                "The last token request failed at {}: {}",
                failure.at, failure.message
            ),
        ),
        (None, None) => (
            TenantHealthStatus::Unverified,
            format!("Never verified: run `{verify_hint}`."),
        ),
        (None, Some(v)) if !v.token_issued => (
            TenantHealthStatus::Failing,
            format!(
                "Verified {}: no token was issued: {}",
                v.verified_at,
                v.token_error.as_deref().unwrap_or("no reason given")
            ),
        ),
        (None, Some(v)) => {
            let unavailable: Vec<String> = v
                .features
                .iter()
                .filter(|f| !f.available)
                .map(|f| {
                    format!(
                        "{} (missing {})",
                        feature_name(f.feature),
                        f.missing_permissions.join(", ")
                    )
                })
                .collect();
            if unavailable.is_empty() {
                (
                    TenantHealthStatus::Healthy,
                    format!("Verified {}: every feature is available.", v.verified_at),
                )
            } else {
                (
                    TenantHealthStatus::Degraded,
                    format!(
                        "Verified {}: unavailable: {}. Grant the permissions (admin consent), then run `{verify_hint}` again.",
                        v.verified_at,
                        unavailable.join("; ")
                    ),
                )
            }
        }
    };
    TenantHealth { status, detail }
}

/// The feature as the API spells it.
pub fn feature_name(feature: Feature) -> String {
    serde_json::to_value(feature)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub(crate) fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::fakes::{FakePermissions, FakeTenantStore};

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

    const FABRIKAM: &str = "8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a";

    fn tagged() -> TenantRegistry {
        TenantRegistry::for_tests(vec![
            ManagedTenant::for_tests(ID, "contoso.onmicrosoft.com").with_tags(&["region:eu"]),
            ManagedTenant::for_tests(FABRIKAM, "fabrikam.onmicrosoft.com")
                .with_tags(&["region:us"]),
        ])
    }

    #[test]
    fn a_caller_granted_a_tag_sees_and_reaches_only_the_tenants_with_it() {
        let registry = tagged();
        let eu = Caller::for_tests(&["SSPR.Admin"]).with_tenants(&["tag:region:eu"]);
        let listed: Vec<String> = list(&registry, &eu)
            .expect("list")
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(listed, [ID]);
        assert_eq!(
            one(&registry, &eu, "contoso.onmicrosoft.com")
                .expect("eu")
                .tags,
            ["region:eu"]
        );
        // Another region's tenant answers exactly as a tenant that does not exist.
        for key in [FABRIKAM, "fabrikam.onmicrosoft.com"] {
            match one(&registry, &eu, key) {
                Err(OpsError::UnknownTenant(named)) => assert_eq!(named, key),
                other => panic!("{key}: {other:?}"),
            }
        }
        assert!(!eu.may_access_all());

        // A grant's role caps what its tenants allow, whatever the token's role.
        let reader = Caller::for_tests(&["SSPR.Admin"])
            .with_tenants(&[])
            .with_grant("tag:region:eu", Verb::Read);
        assert!(one(&registry, &reader, ID).is_ok());
        match authorize(&registry, &reader, Verb::Write, ID) {
            Err(OpsError::Forbidden(detail)) => {
                assert!(detail.contains("SSPR.ReadWrite"), "{detail}")
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("a read grant allowed a write"),
        }
        assert!(!reader.administers_fleet());
    }

    #[tokio::test]
    async fn verify_keeps_a_verdict_that_names_each_missing_permission_and_health_shows_it() {
        let registry = registry();
        let writer = Caller::for_tests(&["SSPR.ReadWrite"]);
        let before = one(&registry, &writer, ID).expect("tenant");
        assert_eq!(before.health.status, TenantHealthStatus::Unverified);

        let permissions = FakePermissions::all_but("Policy.ReadWrite.ConditionalAccess");
        let verdict = verify(
            &registry,
            &permissions,
            &FakeTenantStore::default(),
            &writer,
            ID,
        )
        .await
        .expect("verdict");
        assert!(verdict.token_issued);
        let ca = verdict
            .features
            .iter()
            .find(|f| f.feature == Feature::ConditionalAccess)
            .expect("the CA feature");
        assert!(!ca.available);
        assert_eq!(
            ca.missing_permissions,
            ["Policy.ReadWrite.ConditionalAccess"]
        );
        assert!(
            verdict
                .features
                .iter()
                .filter(|f| f.feature != Feature::ConditionalAccess && f.feature != Feature::Intune)
                .all(|f| f.available)
        );

        let after = one(&registry, &writer, ID).expect("tenant");
        assert_eq!(after.verification.as_ref(), Some(&verdict));
        assert_eq!(after.health.status, TenantHealthStatus::Degraded);
        assert!(
            after
                .health
                .detail
                .contains("conditionalAccess (missing Policy.ReadWrite.ConditionalAccess)"),
            "{}",
            after.health.detail
        );

        let reader = Caller::for_tests(&["SSPR.Read"]);
        assert!(matches!(
            verify(
                &registry,
                &permissions,
                &FakeTenantStore::default(),
                &reader,
                ID
            )
            .await,
            Err(OpsError::Forbidden(_))
        ));
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
