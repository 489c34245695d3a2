//! The answer of `GET /v1/tenants`, mirroring the OpenAPI schema `TenantSummary`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One tenant the caller may act on, as `GET /v1/tenants` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    pub id: String,
    /// The primary domain.
    pub domain: String,
    pub display_name: String,
    /// Every domain the tenant can be named by.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Members this version does not know, kept so they survive a round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_summary_round_trips_unknown_members() {
        let json = serde_json::json!({"id":"3f2b","domain":"contoso.onmicrosoft.com","displayName":"Contoso",
            "domains":["contoso.onmicrosoft.com","contoso.com"],"country":"NL"});
        let tenant: TenantSummary = serde_json::from_value(json.clone()).expect("tenant");
        assert_eq!(tenant.display_name, "Contoso");
        assert_eq!(tenant.domains.len(), 2);
        assert_eq!(serde_json::to_value(&tenant).expect("json"), json);
    }
}
