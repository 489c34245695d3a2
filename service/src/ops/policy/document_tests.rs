//! The policy document as the API answers it, built from Graph facts and what the portal
//! holds: its JSON, group by group (the wire format is checked here, not in the domain).

use crate::domain::methods::{MethodConfiguration, MethodsPolicy, MigrationState};
use crate::domain::policy::*;
use crate::domain::portal::{
    Evidence, InferredEnablement, InferredScope, LegacyMethods, PortalSettings, Scope,
};
use sspr_api::tenants::TenantRef;

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
