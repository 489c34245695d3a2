//! The answer of `GET /v1/tenants`: the contract crate's types.

pub use sspr_api::tenants::{TenantList, TenantSummary};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_summary_decodes_and_ignores_unknown_members() {
        let json = serde_json::json!({"id":"3f2b","domain":"contoso.onmicrosoft.com","displayName":"Contoso",
            "domains":["contoso.onmicrosoft.com","contoso.com"],"country":"NL"});
        let tenant: TenantSummary = serde_json::from_value(json).expect("tenant");
        assert_eq!(tenant.display_name, "Contoso");
        assert_eq!(tenant.domains.len(), 2);
    }
}
