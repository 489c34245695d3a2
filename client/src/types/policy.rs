//! The answers of the SSPR policy endpoints. The document and its findings are the contract
//! crate's types ([`sspr_api::policy`]), as the service sends them; the dry run's answer still
//! mirrors the OpenAPI schemas `DryRun` (`PolicyPlan` here), `FieldChange`, `Step` and
//! `CallView`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
pub use sspr_api::policy::{Finding, PolicyDocument, Severity};

use crate::ClientError;

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

    /// The service's document, with a member this version does not know and a finding.
    fn document() -> Value {
        let mut document = sspr_api::examples::policy_document();
        document["registration"]["reconfirmDays"] = json!(90);
        document["futureGroup"] = json!({"source": "graph"});
        document["findings"] = json!([
            {"severity": "medium", "field": "/registration/reconfirmDays", "message": "Short."}
        ]);
        document
    }

    #[test]
    fn a_document_decodes_into_typed_groups_and_ignores_unknown_members() {
        let document: PolicyDocument = serde_json::from_value(document()).expect("a document");
        assert_eq!(document.tenant.domain, "contoso.onmicrosoft.com");
        assert_eq!(document.findings.len(), 1);
        assert_eq!(document.findings[0].message, "Short.");
        assert_eq!(document.findings[0].severity, Severity::Medium);
        assert_eq!(document.registration.reconfirm_days, Some(90));
        assert_eq!(
            document.customization.helpdesk_link,
            Some(Some("https://help.contoso.com/password".to_owned()))
        );
    }

    #[test]
    fn a_document_missing_a_group_the_service_always_sends_is_refused() {
        let mut partial = document();
        partial
            .as_object_mut()
            .expect("object")
            .remove("registration");
        assert!(serde_json::from_value::<PolicyDocument>(partial).is_err());
    }
}
