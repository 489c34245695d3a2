//! The tenant registry's bodies and answers (`/v1/tenants…`): the contract crate's types.

pub use sspr_api::tenants::{
    ConsentLink, CredentialFailure, CredentialInfo, CredentialInput, CredentialKind, Feature,
    FeatureCheck, SecretStorage, TenantHealth, TenantHealthStatus, TenantList, TenantOnboarding,
    TenantOrigin, TenantSummary, TenantUpdate, Verification,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_summary_decodes_and_ignores_unknown_members() {
        let mut json = sspr_api::examples::tenant_summary();
        json["country"] = serde_json::json!("NL");
        let tenant: TenantSummary = serde_json::from_value(json).expect("tenant");
        assert_eq!(tenant.display_name, "Contoso");
        assert_eq!(tenant.domains.len(), 2);
    }
}
