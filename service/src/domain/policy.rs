//! The SSPR policy document (DESIGN.md §4): one object per tenant, grouped as the portal's
//! Password reset blade is, every group saying where its values came from.

use serde::Serialize;
use utoipa::ToSchema;

use super::methods::{MethodsPolicy, MigrationState, ResetMethods};

/// Where a group's values came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// Documented Microsoft Graph, app-only.
    Graph,
    /// The undocumented Entra portal back end, with a delegated token.
    Portal,
    /// Derived from evidence, with the evidence.
    Inferred,
    /// Not known; `reason` says why and `remedy` what would make it known.
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantRef {
    pub id: String,
    pub domain: String,
    pub display_name: String,
}

/// A group whose values cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnavailableGroup {
    /// Always `unavailable`.
    pub source: Source,
    pub reason: String,
    pub remedy: String,
}

impl UnavailableGroup {
    fn new(reason: impl Into<String>, remedy: impl Into<String>) -> Self {
        UnavailableGroup {
            source: Source::Unavailable,
            reason: reason.into(),
            remedy: remedy.into(),
        }
    }

    /// A portal-only group before the portal connector exists.
    fn portal_only(what: &str) -> Self {
        UnavailableGroup::new(
            format!(
                "{what} has no public Microsoft Graph API; only the Entra portal back end holds it."
            ),
            "Configure the portal connector (a delegated admin credential) for this tenant; it arrives in a later release.",
        )
    }
}

/// Which legacy SSPR methods the Authentication methods policy makes usable for reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MethodsGroup {
    /// `graph` once the tenant is migrating or migrated, else `unavailable`.
    pub source: Source,
    /// True when only the methods policy counts (`migrationComplete`); false while the legacy
    /// policy is also respected, so more methods may be usable than listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authoritative: Option<bool>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub methods: Option<ResetMethods>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
}

/// Whether the tenant synchronizes from on-premises Active Directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySyncGroup {
    pub source: Source,
    /// `organization.onPremisesSyncEnabled`: true, false (synced once, no longer) or null (never).
    pub on_premises_sync_enabled: Option<bool>,
    pub syncs: bool,
    pub last_sync_date_time: Option<String>,
}

/// SSPR for administrators (`authorizationPolicy.allowedToUseSSPR`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdministratorsGroup {
    pub source: Source,
    pub allowed_to_use_sspr: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationCampaignView {
    pub state: String,
    pub snooze_duration_in_days: Option<i32>,
    pub include_targets: Vec<String>,
    pub exclude_targets: Vec<String>,
}

/// The Authentication methods policy's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MethodsPolicyGroup {
    pub source: Source,
    /// `preMigration`, `migrationInProgress`, `migrationComplete`, or what Graph sent.
    pub migration_state: String,
    pub reconfirmation_in_days: Option<i32>,
    pub registration_campaign: Option<RegistrationCampaignView>,
    pub policy_version: Option<String>,
    pub last_modified_date_time: Option<String>,
}

/// The whole document. Portal-only groups stay `unavailable` until the portal connector exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyDocument {
    pub tenant: TenantRef,
    /// When the upstream values were read (RFC 3339).
    pub retrieved_at: String,
    /// Who SSPR is enabled for: none, selected (one group) or all.
    pub enablement: UnavailableGroup,
    /// Methods required to reset and security questions.
    pub authentication: UnavailableGroup,
    pub methods: MethodsGroup,
    /// Registration at sign-in and days before reconfirmation.
    pub registration: UnavailableGroup,
    pub notifications: UnavailableGroup,
    /// The helpdesk link.
    pub customization: UnavailableGroup,
    /// Password writeback and account unlock.
    pub on_premises: UnavailableGroup,
    pub directory_sync: DirectorySyncGroup,
    pub administrators: AdministratorsGroup,
    pub methods_policy: MethodsPolicyGroup,
}

/// What Graph told us about a tenant, already translated out of Graph's wire types.
#[derive(Debug, Clone)]
pub struct GraphFacts {
    pub methods_policy: MethodsPolicy,
    pub admin_sspr_allowed: bool,
    pub on_premises_sync_enabled: Option<bool>,
    pub last_sync_date_time: Option<String>,
}

impl PolicyDocument {
    pub fn from_graph(tenant: TenantRef, retrieved_at: String, facts: GraphFacts) -> Self {
        let policy = &facts.methods_policy;
        PolicyDocument {
            tenant,
            retrieved_at,
            enablement: UnavailableGroup::portal_only("who SSPR is enabled for"),
            authentication: UnavailableGroup::portal_only(
                "the number of methods required to reset or the security questions",
            ),
            methods: methods_group(policy),
            registration: UnavailableGroup::portal_only(
                "registration at sign-in or the SSPR reconfirmation interval",
            ),
            notifications: UnavailableGroup::portal_only("password reset notifications"),
            customization: UnavailableGroup::portal_only("the helpdesk link"),
            on_premises: UnavailableGroup::portal_only("password writeback or account unlock"),
            directory_sync: DirectorySyncGroup {
                source: Source::Graph,
                on_premises_sync_enabled: facts.on_premises_sync_enabled,
                syncs: facts.on_premises_sync_enabled == Some(true),
                last_sync_date_time: facts.last_sync_date_time,
            },
            administrators: AdministratorsGroup {
                source: Source::Graph,
                allowed_to_use_sspr: facts.admin_sspr_allowed,
            },
            methods_policy: MethodsPolicyGroup {
                source: Source::Graph,
                migration_state: policy.migration_state.as_graph().to_owned(),
                reconfirmation_in_days: policy.reconfirmation_in_days,
                registration_campaign: policy.registration_campaign.as_ref().map(|c| {
                    RegistrationCampaignView {
                        state: c.state.clone(),
                        snooze_duration_in_days: c.snooze_duration_in_days,
                        include_targets: c.include_targets.clone(),
                        exclude_targets: c.exclude_targets.clone(),
                    }
                }),
                policy_version: policy.policy_version.clone(),
                last_modified_date_time: policy.last_modified.clone(),
            },
        }
    }
}

fn methods_group(policy: &MethodsPolicy) -> MethodsGroup {
    let from_graph = |authoritative: bool, note: Option<&str>| MethodsGroup {
        source: Source::Graph,
        authoritative: Some(authoritative),
        methods: Some(policy.reset_methods()),
        note: note.map(str::to_owned),
        reason: None,
        remedy: None,
    };
    match &policy.migration_state {
        MigrationState::MigrationComplete => from_graph(true, None),
        MigrationState::MigrationInProgress => from_graph(
            false,
            Some(
                "Migration in progress: methods still enabled in the legacy SSPR policy also count for reset, and that policy has no public API.",
            ),
        ),
        MigrationState::PreMigration => MethodsGroup {
            source: Source::Unavailable,
            authoritative: None,
            methods: None,
            note: None,
            reason: Some(
                "The methods policy is in preMigration, so the legacy SSPR policy decides which methods count for reset; it has no public API.".to_owned(),
            ),
            remedy: Some(
                "Move the tenant's authentication methods policy to migrationInProgress or migrationComplete, or configure the portal connector (later release).".to_owned(),
            ),
        },
        MigrationState::Unknown(state) => MethodsGroup {
            source: Source::Unavailable,
            authoritative: None,
            methods: None,
            note: None,
            reason: Some(format!(
                "Graph reported the methods policy migration state as '{state}', which this version cannot interpret."
            )),
            remedy: Some("Check the tenant's authentication methods policy in the Entra admin center.".to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::methods::MethodConfiguration;

    fn facts(state: MigrationState, sync: Option<bool>) -> GraphFacts {
        GraphFacts {
            methods_policy: MethodsPolicy {
                migration_state: state,
                reconfirmation_in_days: Some(180),
                policy_version: Some("1.5".into()),
                last_modified: None,
                registration_campaign: None,
                configurations: vec![MethodConfiguration {
                    id: "Email".into(),
                    enabled: true,
                    include_targets: vec!["all_users".into()],
                    exclude_targets: vec![],
                    software_oath_enabled: false,
                    office_phone_allowed: false,
                }],
            },
            admin_sspr_allowed: false,
            on_premises_sync_enabled: sync,
            last_sync_date_time: None,
        }
    }

    fn document(state: MigrationState, sync: Option<bool>) -> serde_json::Value {
        let tenant = TenantRef {
            id: "t".into(),
            domain: "contoso.onmicrosoft.com".into(),
            display_name: "Contoso".into(),
        };
        serde_json::to_value(PolicyDocument::from_graph(
            tenant,
            "now".into(),
            facts(state, sync),
        ))
        .expect("serializable")
    }

    #[test]
    fn every_group_carries_a_source() {
        let doc = document(MigrationState::MigrationComplete, Some(true));
        for (name, group) in doc.as_object().expect("object") {
            if name == "tenant" || name == "retrievedAt" {
                continue;
            }
            assert!(
                group["source"].is_string(),
                "group {name} has no source: {group}"
            );
        }
        assert_eq!(doc["enablement"]["source"], "unavailable");
        assert!(
            doc["enablement"]["remedy"]
                .as_str()
                .is_some_and(|r| r.contains("portal"))
        );
        assert_eq!(
            doc["administrators"],
            serde_json::json!({"source": "graph", "allowedToUseSspr": false})
        );
    }

    #[test]
    fn migrated_tenant_reports_methods_from_graph_authoritatively() {
        let doc = document(MigrationState::MigrationComplete, None);
        assert_eq!(doc["methods"]["source"], "graph");
        assert_eq!(doc["methods"]["authoritative"], true);
        assert_eq!(doc["methods"]["email"]["usable"], true);
        assert_eq!(doc["methods"]["mobilePhone"]["usable"], false);
    }

    #[test]
    fn migration_in_progress_is_graph_but_not_authoritative() {
        let doc = document(MigrationState::MigrationInProgress, None);
        assert_eq!(doc["methods"]["source"], "graph");
        assert_eq!(doc["methods"]["authoritative"], false);
        assert!(
            doc["methods"]["note"]
                .as_str()
                .is_some_and(|n| n.contains("legacy"))
        );
    }

    #[test]
    fn pre_migration_methods_are_unavailable_with_a_reason() {
        let doc = document(MigrationState::PreMigration, None);
        assert_eq!(doc["methods"]["source"], "unavailable");
        assert!(doc["methods"].get("email").is_none());
        assert!(
            doc["methods"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("preMigration"))
        );
    }

    #[test]
    fn sync_flag_is_tri_state_and_syncs_only_when_true() {
        assert_eq!(
            document(MigrationState::PreMigration, Some(true))["directorySync"]["syncs"],
            true
        );
        let once = document(MigrationState::PreMigration, Some(false));
        assert_eq!(once["directorySync"]["syncs"], false);
        assert_eq!(once["directorySync"]["onPremisesSyncEnabled"], false);
        let never = document(MigrationState::PreMigration, None);
        assert!(never["directorySync"]["onPremisesSyncEnabled"].is_null());
    }
}
