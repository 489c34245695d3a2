//! The SSPR policy document (DESIGN.md §4): one object per tenant, grouped as the portal's
//! Password reset blade is, every group saying where its values came from.

use super::findings::Finding;
use super::methods::{MethodsPolicy, MigrationState, ResetMethods};
use super::portal::{
    Evidence, InferredEnablement, InferredScope, LegacyMethods, PortalSettings, Scope,
};
pub use sspr_api::policy::{
    AdministratorsGroup, AuthenticationGroup, CustomizationGroup, DirectorySyncGroup,
    EnablementGroup, EnablementScope, EvidenceView, MethodsGroup, MethodsPolicyGroup,
    NotificationsGroup, OnPremisesGroup, PolicyDocument, RegistrationGroup, SecurityQuestions,
    Source,
};
use sspr_api::tenants::TenantRef;

/// Why a group (or part of it) has no values, and what would give it values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub reason: String,
    pub remedy: String,
}

/// What the service knows about the settings only the portal back end holds.
#[derive(Debug, Clone)]
pub enum PortalKnowledge {
    /// Read through the portal connector.
    Portal(PortalSettings),
    /// No portal connector: enablement inferred from the registration report.
    Inferred(InferredEnablement),
    /// No portal connector and no usable evidence.
    Nothing(Unavailable),
}

impl PortalKnowledge {
    /// No portal connector and no other evidence about who SSPR is enabled for.
    pub fn nothing(reason: impl Into<String>, remedy: impl Into<String>) -> Self {
        PortalKnowledge::Nothing(Unavailable {
            reason: reason.into(),
            remedy: remedy.into(),
        })
    }

    /// The default answer when the portal connector is not configured.
    pub fn not_configured() -> Self {
        PortalKnowledge::Nothing(no_portal("who SSPR is enabled for"))
    }
}

fn no_portal(what: &str) -> Unavailable {
    Unavailable {
        reason: format!(
            "No public Microsoft Graph API exposes {what}; only the Entra portal back end holds it."
        ),
        remedy: "Configure the portal connector (a delegated admin refresh token) for this tenant."
            .into(),
    }
}

impl From<&Evidence> for EvidenceView {
    fn from(e: &Evidence) -> Self {
        EvidenceView {
            members_considered: e.members_considered,
            members_enabled: e.members_enabled,
            oldest_data: e.oldest_data.clone(),
            read_at: e.read_at.clone(),
        }
    }
}

/// What Graph told us about a tenant, already translated out of Graph's wire types.
#[derive(Debug, Clone)]
pub struct GraphFacts {
    pub methods_policy: MethodsPolicy,
    pub admin_sspr_allowed: bool,
    /// Entra ID P1/P2 (alone or in Microsoft 365 Business Premium), from the assigned plans.
    pub entra_premium: bool,
    pub on_premises_sync_enabled: Option<bool>,
    pub last_sync_date_time: Option<String>,
}

/// The document built from what Graph and the portal told us: the domain's reading of those
/// facts, kept here because the document type itself is the contract crate's pure data.
pub trait BuildPolicyDocument {
    fn build(
        tenant: TenantRef,
        retrieved_at: String,
        facts: GraphFacts,
        portal: PortalKnowledge,
    ) -> Self;

    fn with_findings(self, findings: Vec<Finding>) -> Self;
}

impl BuildPolicyDocument for PolicyDocument {
    fn build(
        tenant: TenantRef,
        retrieved_at: String,
        facts: GraphFacts,
        portal: PortalKnowledge,
    ) -> Self {
        let policy = &facts.methods_policy;
        let settings = match &portal {
            PortalKnowledge::Portal(settings) => Some(settings),
            _ => None,
        };
        PolicyDocument {
            tenant,
            retrieved_at,
            enablement: enablement_group(&portal),
            authentication: match settings {
                Some(s) => AuthenticationGroup {
                    source: Source::Portal,
                    methods_required: Some(s.methods_required),
                    security_questions: Some(SecurityQuestions {
                        enabled: s.methods.security_questions,
                        to_register: s.security_questions_to_register,
                        to_reset: s.security_questions_to_reset,
                    }),
                    reason: None,
                    remedy: None,
                },
                None => {
                    let why = no_portal(
                        "the number of methods required to reset or the security questions",
                    );
                    AuthenticationGroup {
                        source: Source::Unavailable,
                        methods_required: None,
                        security_questions: None,
                        reason: Some(why.reason),
                        remedy: Some(why.remedy),
                    }
                }
            },
            methods: methods_group(policy, settings.map(|s| &s.methods)),
            registration: match settings {
                Some(s) => RegistrationGroup {
                    source: Source::Portal,
                    require_registration_on_sign_in: Some(s.require_registration_on_sign_in),
                    reconfirm_days: Some(s.reconfirm_days),
                    reason: None,
                    remedy: None,
                },
                None => {
                    let why =
                        no_portal("registration at sign-in or the SSPR reconfirmation interval");
                    RegistrationGroup {
                        source: Source::Unavailable,
                        require_registration_on_sign_in: None,
                        reconfirm_days: None,
                        reason: Some(why.reason),
                        remedy: Some(why.remedy),
                    }
                }
            },
            notifications: match settings {
                Some(s) => NotificationsGroup {
                    source: Source::Portal,
                    notify_users_on_reset: Some(s.notify_users_on_reset),
                    notify_admins_on_admin_reset: Some(s.notify_admins_on_admin_reset),
                    reason: None,
                    remedy: None,
                },
                None => {
                    let why = no_portal("password reset notifications");
                    NotificationsGroup {
                        source: Source::Unavailable,
                        notify_users_on_reset: None,
                        notify_admins_on_admin_reset: None,
                        reason: Some(why.reason),
                        remedy: Some(why.remedy),
                    }
                }
            },
            customization: match settings {
                Some(s) => CustomizationGroup {
                    source: Source::Portal,
                    helpdesk_link: Some(s.helpdesk_link.clone()),
                    reason: None,
                    remedy: None,
                },
                None => {
                    let why = no_portal("the helpdesk link");
                    CustomizationGroup {
                        source: Source::Unavailable,
                        helpdesk_link: None,
                        reason: Some(why.reason),
                        remedy: Some(why.remedy),
                    }
                }
            },
            on_premises: match settings {
                Some(s) => OnPremisesGroup {
                    source: Source::Portal,
                    integrated: Some(s.on_premises.is_some()),
                    password_writeback: s.on_premises.map(|o| o.password_writeback),
                    unlock_without_reset: s.on_premises.map(|o| o.unlock_without_reset),
                    reason: None,
                    remedy: None,
                },
                None => {
                    let why = no_portal("password writeback or account unlock");
                    OnPremisesGroup {
                        source: Source::Unavailable,
                        integrated: None,
                        password_writeback: None,
                        unlock_without_reset: None,
                        reason: Some(why.reason),
                        remedy: Some(why.remedy),
                    }
                }
            },
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
                registration_campaign: policy.registration_campaign.clone(),
                policy_version: policy.policy_version.clone(),
                last_modified_date_time: policy.last_modified.clone(),
            },
            findings: Vec::new(),
        }
    }

    fn with_findings(mut self, findings: Vec<Finding>) -> Self {
        self.findings = findings;
        self
    }
}

fn enablement_group(portal: &PortalKnowledge) -> EnablementGroup {
    let group = |source, scope: Option<EnablementScope>| EnablementGroup {
        source,
        scope,
        group_id: None,
        group_name: None,
        evidence: None,
        note: None,
        reason: None,
        remedy: None,
    };
    match portal {
        PortalKnowledge::Portal(settings) => match &settings.scope {
            Scope::None => group(Source::Portal, Some(EnablementScope::None)),
            Scope::All => group(Source::Portal, Some(EnablementScope::All)),
            Scope::Selected {
                group_id,
                group_name,
            } => EnablementGroup {
                group_id: Some(group_id.clone()),
                group_name: group_name.clone(),
                ..group(Source::Portal, Some(EnablementScope::Selected))
            },
        },
        PortalKnowledge::Inferred(inferred) => {
            let evidence = Some(EvidenceView::from(&inferred.evidence));
            let (scope, group_id, group_name, note) = match &inferred.scope {
                InferredScope::None => (EnablementScope::None, None, None, None),
                InferredScope::All => (EnablementScope::All, None, None, None),
                InferredScope::Selected {
                    group_id,
                    group_name,
                } => (
                    EnablementScope::Selected,
                    Some(group_id.clone()),
                    Some(group_name.clone()),
                    None,
                ),
                InferredScope::SelectedUnknownGroup => (
                    EnablementScope::Selected,
                    None,
                    None,
                    Some(
                        "Some members are enabled, but no single group's membership matches them; the group is unknown.",
                    ),
                ),
                InferredScope::Unknown => (
                    EnablementScope::Unknown,
                    None,
                    None,
                    Some(
                        "Too little evidence: no enabled member accounts that are not administrators.",
                    ),
                ),
            };
            EnablementGroup {
                group_id,
                group_name,
                evidence,
                note: note.map(str::to_owned),
                ..group(Source::Inferred, Some(scope))
            }
        }
        PortalKnowledge::Nothing(why) => EnablementGroup {
            reason: Some(why.reason.clone()),
            remedy: Some(why.remedy.clone()),
            ..group(Source::Unavailable, None)
        },
    }
}

fn methods_group(policy: &MethodsPolicy, legacy: Option<&LegacyMethods>) -> MethodsGroup {
    let from_graph = |authoritative: bool, note: Option<&str>| {
        let ResetMethods {
            mobile_app_notification,
            mobile_app_code,
            email,
            mobile_phone,
            office_phone,
        } = policy.reset_methods();
        MethodsGroup::Graph {
            authoritative,
            mobile_app_notification,
            mobile_app_code,
            email,
            mobile_phone,
            office_phone,
            note: note.map(str::to_owned),
        }
    };
    match (&policy.migration_state, legacy) {
        (MigrationState::MigrationComplete, _) => from_graph(true, None),
        (MigrationState::MigrationInProgress, _) => from_graph(
            false,
            Some(
                "Migration in progress: methods still enabled in the legacy SSPR policy (portal) also count for reset.",
            ),
        ),
        // Before migration the legacy SSPR policy alone decides, and the portal holds it.
        (MigrationState::PreMigration, Some(legacy)) => MethodsGroup::Portal {
            authoritative: true,
            mobile_app_notification: legacy.mobile_app_notification,
            mobile_app_code: legacy.mobile_app_code,
            email: legacy.email,
            mobile_phone: legacy.mobile_phone,
            office_phone: legacy.office_phone,
            security_questions: legacy.security_questions,
        },
        (MigrationState::PreMigration, None) => MethodsGroup::Unavailable {
            reason: "The methods policy is in preMigration, so the legacy SSPR policy decides which methods count for reset; only the Entra portal back end holds it.".to_owned(),
            remedy: "Configure the portal connector for this tenant, or move its authentication methods policy to migrationInProgress or migrationComplete.".to_owned(),
        },
        (MigrationState::Unknown(state), _) => MethodsGroup::Unavailable {
            reason: format!(
                "Graph reported the methods policy migration state as '{state}', which this version cannot interpret."
            ),
            remedy: "Check the tenant's authentication methods policy in the Entra admin center.".to_owned(),
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
            entra_premium: true,
            on_premises_sync_enabled: sync,
            last_sync_date_time: None,
        }
    }

    fn document(state: MigrationState, sync: Option<bool>) -> serde_json::Value {
        document_with(state, sync, PortalKnowledge::not_configured())
    }

    fn document_with(
        state: MigrationState,
        sync: Option<bool>,
        portal: PortalKnowledge,
    ) -> serde_json::Value {
        let tenant = TenantRef {
            id: "t".into(),
            domain: "contoso.onmicrosoft.com".into(),
            display_name: "Contoso".into(),
        };
        serde_json::to_value(PolicyDocument::build(
            tenant,
            "now".into(),
            facts(state, sync),
            portal,
        ))
        .expect("serializable")
    }

    fn settings() -> PortalSettings {
        PortalSettings {
            scope: Scope::Selected {
                group_id: "d2d5bae7-a7b7-4581-8d52-5a8d26f517b3".into(),
                group_name: Some("SSPR Users".into()),
            },
            methods_required: 2,
            methods: LegacyMethods {
                email: true,
                mobile_phone: true,
                ..LegacyMethods::default()
            },
            security_questions_to_register: 5,
            security_questions_to_reset: 3,
            require_registration_on_sign_in: true,
            reconfirm_days: 180,
            notify_users_on_reset: true,
            notify_admins_on_admin_reset: false,
            helpdesk_link: None,
            on_premises: Some(crate::domain::portal::OnPremisesSettings {
                password_writeback: true,
                unlock_without_reset: false,
                unlock_supported: true,
            }),
        }
    }

    fn evidence() -> Evidence {
        Evidence {
            members_considered: 40,
            members_enabled: 12,
            oldest_data: Some("2026-11-24T08:00:00Z".into()),
            read_at: "2026-11-25T12:00:00Z".into(),
        }
    }

    #[test]
    fn portal_settings_fill_the_portal_groups_with_source_portal() {
        let doc = document_with(
            MigrationState::MigrationInProgress,
            Some(true),
            PortalKnowledge::Portal(settings()),
        );
        assert_eq!(
            doc["enablement"],
            serde_json::json!({"source": "portal", "scope": "selected",
                "groupId": "d2d5bae7-a7b7-4581-8d52-5a8d26f517b3", "groupName": "SSPR Users"})
        );
        assert_eq!(doc["authentication"]["methodsRequired"], 2);
        assert_eq!(doc["authentication"]["securityQuestions"]["enabled"], false);
        assert_eq!(
            doc["registration"],
            serde_json::json!({"source": "portal", "requireRegistrationOnSignIn": true, "reconfirmDays": 180})
        );
        assert_eq!(doc["notifications"]["notifyAdminsOnAdminReset"], false);
        assert_eq!(
            doc["customization"],
            serde_json::json!({"source": "portal", "helpdeskLink": null})
        );
        assert_eq!(
            doc["onPremises"],
            serde_json::json!({"source": "portal", "integrated": true, "passwordWriteback": true, "unlockWithoutReset": false})
        );
        assert_eq!(
            doc["methods"]["source"], "graph",
            "migrating tenants read methods from Graph"
        );
    }

    #[test]
    fn before_migration_the_portal_toggles_are_the_methods() {
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::Portal(settings()),
        );
        assert_eq!(doc["methods"]["source"], "portal");
        assert_eq!(doc["methods"]["email"], true);
        assert_eq!(doc["methods"]["mobileAppNotification"], false);
        assert_eq!(doc["methods"]["authoritative"], true);
    }

    #[test]
    fn an_on_premises_less_tenant_says_it_is_not_integrated() {
        let mut cloud_only = settings();
        cloud_only.on_premises = None;
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::Portal(cloud_only),
        );
        assert_eq!(
            doc["onPremises"],
            serde_json::json!({"source": "portal", "integrated": false})
        );
    }

    #[test]
    fn inferred_enablement_carries_its_evidence_and_says_when_the_group_is_unknown() {
        let selected = InferredEnablement {
            scope: InferredScope::Selected {
                group_id: "g1".into(),
                group_name: "SSPR Users".into(),
            },
            evidence: evidence(),
        };
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::Inferred(selected),
        );
        assert_eq!(doc["enablement"]["source"], "inferred");
        assert_eq!(doc["enablement"]["scope"], "selected");
        assert_eq!(doc["enablement"]["groupId"], "g1");
        assert_eq!(doc["enablement"]["evidence"]["membersEnabled"], 12);
        assert_eq!(
            doc["authentication"]["source"], "unavailable",
            "only enablement can be inferred"
        );

        let unknown_group = InferredEnablement {
            scope: InferredScope::SelectedUnknownGroup,
            evidence: evidence(),
        };
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::Inferred(unknown_group),
        );
        assert_eq!(doc["enablement"]["scope"], "selected");
        assert!(doc["enablement"].get("groupId").is_none());
        assert!(
            doc["enablement"]["note"]
                .as_str()
                .is_some_and(|n| n.contains("group is unknown"))
        );

        let unknown = InferredEnablement {
            scope: InferredScope::Unknown,
            evidence: evidence(),
        };
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::Inferred(unknown),
        );
        assert_eq!(doc["enablement"]["scope"], "unknown");
    }

    #[test]
    fn without_any_evidence_enablement_is_unavailable_with_the_reason_given() {
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::nothing(
                "The registration report needs Entra ID P1.",
                "License P1 or configure the portal connector.",
            ),
        );
        assert_eq!(
            doc["enablement"],
            serde_json::json!({"source": "unavailable", "reason": "The registration report needs Entra ID P1.",
                "remedy": "License P1 or configure the portal connector."})
        );
    }

    #[test]
    fn every_group_carries_a_source() {
        let doc = document(MigrationState::MigrationComplete, Some(true));
        for (name, group) in doc.as_object().expect("object") {
            if name == "tenant" || name == "retrievedAt" || name == "findings" {
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
