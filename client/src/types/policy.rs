//! The answers of the SSPR policy endpoints, mirroring the OpenAPI schemas `PolicyDocument`,
//! `DryRun` (`PolicyPlan` here), `FieldChange`, `Step`, `CallView` and `Finding`.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::ClientError;
use crate::types::TenantRef;

/// `GET /v1/tenants/{tenant}/sspr/policy`, and what an applied change reads back
/// (`PolicyDocument`). The settings groups stay JSON: each is shown as its leaf settings with
/// its `source`, so a group the service adds later is shown without a change here.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyDocument {
    #[serde(default)]
    pub tenant: TenantRef,
    /// RFC 3339: when the upstream values were read.
    #[serde(default)]
    pub retrieved_at: String,
    /// What deserves an administrator's attention (an entry that is not a finding is skipped).
    #[serde(default, deserialize_with = "findings_only")]
    pub findings: Vec<Finding>,
    /// Every other member: the groups (`enablement`, `authentication`, …), by name.
    #[serde(flatten)]
    pub groups: Map<String, Value>,
}

/// The entries of a findings array that are findings.
fn findings_only<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Finding>, D::Error> {
    let entries = Option::<Vec<Value>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(entries
        .iter()
        .filter_map(|entry| Finding::deserialize(entry).ok())
        .collect())
}

/// A dry run's answer: the per-field diff, the upstream calls and the findings of the result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyPlan {
    #[serde(default)]
    pub changes: Vec<FieldChange>,
    #[serde(default)]
    pub steps: Vec<PlanStep>,
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One field the change sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// JSON pointer, e.g. `/registration/reconfirmDays`.
    pub pointer: String,
    #[serde(default)]
    pub before: Value,
    #[serde(default)]
    pub after: Value,
    /// `graph` or `portal`.
    #[serde(default)]
    pub source: Option<String>,
}

/// One upstream call and the call that undoes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    pub call: UpstreamCall,
    #[serde(default)]
    pub compensation: Option<UpstreamCall>,
}

/// A call to Microsoft Graph or the portal back end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamCall {
    /// `graph` or `portal`.
    #[serde(default)]
    pub target: Option<String>,
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub body: Value,
}

/// Something about the policy worth knowing, from the service's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: String,
    /// JSON pointer of the setting concerned.
    #[serde(default)]
    pub field: String,
    pub message: String,
}

impl PolicyPlan {
    /// Reads a dry-run answer.
    pub fn from_value(value: &Value) -> Result<PolicyPlan, ClientError> {
        PolicyPlan::deserialize(value).map_err(|e| {
            ClientError::Decode(format!(
                "the dry run did not answer with a plan ({e}): {}",
                crate::error::truncate(&value.to_string(), 80)
            ))
        })
    }

    /// The groups the change touches (first pointer segments), in the plan's order.
    pub fn changed_groups(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.changes
            .iter()
            .filter_map(|c| c.pointer.trim_start_matches('/').split('/').next())
            .filter(|g| !g.is_empty() && seen.insert(g.to_owned()))
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_document_keeps_its_groups_and_only_real_findings() {
        let document: PolicyDocument = serde_json::from_value(json!({
            "tenant": {"id": "t-1", "domain": "contoso.onmicrosoft.com", "displayName": "Contoso"},
            "retrievedAt": "2026-01-02T03:04:05Z",
            "registration": {"source": "portal", "reconfirmDays": 90},
            "futureGroup": {"source": "graph"},
            "findings": [{"severity": "medium", "field": "/registration/reconfirmDays", "message": "Short."}, 7]
        }))
        .expect("a document");
        assert_eq!(document.tenant.domain, "contoso.onmicrosoft.com");
        assert_eq!(document.findings.len(), 1);
        assert_eq!(document.findings[0].message, "Short.");
        assert_eq!(
            document.groups.keys().collect::<Vec<_>>(),
            ["futureGroup", "registration"]
        );
        assert_eq!(document.groups["registration"]["reconfirmDays"], 90);
    }
}
