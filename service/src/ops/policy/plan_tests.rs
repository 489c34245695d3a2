//! The plan of a change, from merge patches as a caller sends them: which intents it makes, in
//! which order, with which undo, and the calls a dry run shows of them.

use serde_json::{Value, json};

use super::merge_patch::{apply_merge_patch, diff};
use crate::capabilities::policy_directory::CallView;
use crate::directory::policy_calls::{collect_pointers, describe};
use crate::domain::change::fixtures::*;
use crate::domain::change::*;
use crate::domain::methods::{MethodsPolicy, MigrationState};
use crate::domain::policy::Source;
use crate::domain::portal::{LegacyMethods, Scope};

/// The plan from `before` to `after`, with the fields changed as the use case finds them.
fn plan_between(
    before: &PolicySettings,
    after: &PolicySettings,
    sources: &Sources,
    policy: &MethodsPolicy,
) -> Result<ChangePlan, ChangeError> {
    super::plan_change(before, after, sources, policy).map(|(_, plan)| plan)
}

fn plan_for(
    before: &PolicySettings,
    patch: Value,
    sources: &Sources,
    policy: &MethodsPolicy,
) -> ChangePlan {
    let after = apply_merge_patch(before, &patch, sources).unwrap();
    plan_between(before, &after, sources, policy).unwrap()
}

fn portal_plan(patch: Value) -> ChangePlan {
    plan_for(
        &settings(),
        patch,
        &portal_sources(),
        &methods_policy(MigrationState::PreMigration),
    )
}

/// Each compensation calls the same endpoint and sets back exactly the fields its call set.
fn assert_exact_inverse(step: &PlannedStep) {
    let (call, undo) = (describe(&step.call), describe(&step.compensation));
    assert_eq!((call.method, call.path), (undo.method, undo.path));
    let (mut call_fields, mut undo_fields) = (Vec::new(), Vec::new());
    collect_pointers("", &call.body, &mut call_fields);
    collect_pointers("", &undo.body, &mut undo_fields);
    assert_eq!(call_fields, undo_fields, "{step:?}");
}

#[test]
fn no_change_plans_nothing() {
    assert!(portal_plan(json!({ "registration": { "reconfirmDays": 180 } })).is_empty());
}

#[test]
fn a_portal_only_change_is_one_put_of_the_password_reset_policies() {
    let plan = portal_plan(json!({
        "notifications": { "notifyUsersOnReset": false },
        "registration": { "reconfirmDays": 90 }
    }));
    assert_eq!(plan.steps.len(), 1);
    let step = &plan.steps[0];
    assert_eq!(
        step.call,
        Intent::PutPortalPasswordReset(PasswordResetPoliciesUpdate {
            notify_users_on_reset: Some(false),
            reconfirm_days: Some(90),
            ..Default::default()
        })
    );
    assert_eq!(
        step.compensation,
        Intent::PutPortalPasswordReset(PasswordResetPoliciesUpdate {
            notify_users_on_reset: Some(true),
            reconfirm_days: Some(180),
            ..Default::default()
        })
    );
    let view = describe(&step.call);
    assert_eq!(view.method, "PUT");
    assert_eq!(view.path, "/api/PasswordReset/PasswordResetPolicies");
    assert_eq!(
        view.body,
        json!({ "notifications": { "notifyUsersOnReset": false }, "registration": { "reconfirmDays": 90 } })
    );
    assert!(
        view.description
            .contains("/notifications/notifyUsersOnReset"),
        "{}",
        view.description
    );
    assert_exact_inverse(step);
}

#[test]
fn portal_update_carries_scope_and_legacy_methods() {
    let plan = portal_plan(json!({
        "enablement": { "scope": "all" },
        "methods": { "securityQuestions": true },
        "customization": { "helpdeskLink": "helpdesk@contoso.com" }
    }));
    assert_eq!(plan.steps.len(), 1);
    let Intent::PutPortalPasswordReset(update) = &plan.steps[0].call else {
        panic!("{:?}", plan.steps[0].call);
    };
    assert_eq!(update.scope, Some(Scope::All));
    assert_eq!(update.security_questions, Some(true));
    assert_eq!(
        update.helpdesk_link,
        Some(Some("helpdesk@contoso.com".into()))
    );
    assert_eq!(update.email, None, "unchanged fields are left alone");
    let Intent::PutPortalPasswordReset(undo) = &plan.steps[0].compensation else {
        panic!();
    };
    assert_eq!(
        undo.scope,
        Some(Scope::Selected {
            group_id: GROUP.into(),
            group_name: None
        })
    );
    assert_eq!(
        undo.helpdesk_link,
        Some(Some("https://help.contoso.com/sspr".into()))
    );
    assert_eq!(
        update.apply_methods(LegacyMethods::default()),
        LegacyMethods {
            security_questions: true,
            ..Default::default()
        }
    );
}

#[test]
fn switching_writeback_and_unlock_off_does_unlock_first_so_the_undo_works_too() {
    let on = apply_merge_patch(
        &settings(),
        &json!({ "onPremises": { "passwordWriteback": true, "unlockWithoutReset": true } }),
        &portal_sources(),
    )
    .expect("patch");
    let plan = plan_for(
        &on,
        json!({ "onPremises": { "passwordWriteback": false, "unlockWithoutReset": false } }),
        &portal_sources(),
        &methods_policy(MigrationState::PreMigration),
    );
    let calls: Vec<&Intent> = plan.steps.iter().map(|s| &s.call).collect();
    assert_eq!(
        calls,
        [&Intent::SetUnlock(false), &Intent::SetWriteback(false),]
    );
    // Undone last step first: writeback back on before unlock.
    assert_eq!(
        plan.compensations(2),
        vec![&Intent::SetWriteback(true), &Intent::SetUnlock(true),]
    );
}

#[test]
fn writeback_and_unlock_are_two_puts_in_order() {
    let plan = portal_plan(json!({
        "onPremises": { "passwordWriteback": true, "unlockWithoutReset": true },
        "notifications": { "notifyAdminsOnAdminReset": false }
    }));
    let calls: Vec<&Intent> = plan.steps.iter().map(|s| &s.call).collect();
    assert_eq!(calls.len(), 3);
    assert!(matches!(calls[0], Intent::PutPortalPasswordReset(_)));
    assert_eq!(calls[1], &Intent::SetWriteback(true));
    assert_eq!(calls[2], &Intent::SetUnlock(true));
    assert_eq!(plan.steps[1].compensation, Intent::SetWriteback(false));
    assert_eq!(plan.steps[2].compensation, Intent::SetUnlock(false));
    assert_eq!(
        describe(calls[1]).path,
        "/api/PasswordReset/OnPremisesPasswordResetPolicies"
    );
    // Undo runs last step first.
    assert_eq!(
        plan.compensations(3),
        vec![
            &Intent::SetUnlock(false),
            &Intent::SetWriteback(false),
            &plan.steps[0].compensation,
        ]
    );
    assert_eq!(plan.compensations(1), vec![&plan.steps[0].compensation]);
    plan.steps.iter().for_each(assert_exact_inverse);
}

#[test]
fn admin_sspr_is_an_authorization_policy_patch() {
    let plan = portal_plan(json!({ "administrators": { "allowedToUseSspr": true } }));
    assert_eq!(plan.steps.len(), 1);
    let step = &plan.steps[0];
    assert_eq!(
        (&step.call, &step.compensation),
        (&Intent::SetAdminSspr(true), &Intent::SetAdminSspr(false))
    );
    assert_eq!(
        describe(&step.call).body,
        json!({ "allowedToUseSSPR": true })
    );
    assert_eq!(
        describe(&step.compensation).body,
        json!({ "allowedToUseSSPR": false })
    );
    let view = describe(&step.call);
    assert_eq!(view.method, "PATCH");
    assert_eq!(view.path, "/v1.0/policies/authorizationPolicy");
}

#[test]
fn graph_calls_come_before_portal_calls() {
    let plan = portal_plan(json!({
        "onPremises": { "passwordWriteback": true },
        "administrators": { "allowedToUseSspr": true },
        "methodsPolicy": { "reconfirmationInDays": 90 },
        "authentication": { "methodsRequired": 1 }
    }));
    let targets: Vec<Source> = plan.steps.iter().map(|s| s.call.target()).collect();
    assert_eq!(
        targets,
        [Source::Graph, Source::Graph, Source::Portal, Source::Portal]
    );
    assert!(matches!(plan.steps[0].call, Intent::SetMethodsPolicy(_)));
    assert!(matches!(plan.steps[1].call, Intent::SetAdminSspr(_)));
    plan.steps.iter().for_each(assert_exact_inverse);
}

#[test]
fn methods_policy_changes_patch_the_policy_and_send_the_whole_campaign() {
    let plan = portal_plan(json!({
        "methodsPolicy": {
            "migrationState": "migrationInProgress",
            "registrationCampaign": { "state": "disabled" }
        }
    }));
    assert_eq!(plan.steps.len(), 1);
    let step = &plan.steps[0];
    assert_eq!(describe(&step.call).body, {
        json!({
            "policyMigrationState": "migrationInProgress",
            "registrationEnforcement": { "authenticationMethodsRegistrationCampaign": {
                "state": "disabled",
                "snoozeDurationInDays": 1,
                "includeTargets": [{ "id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator" }],
                "excludeTargets": []
            } }
        })
    });
    assert_eq!(describe(&step.compensation).body, {
        json!({
            "policyMigrationState": "preMigration",
            "registrationEnforcement": { "authenticationMethodsRegistrationCampaign": {
                "state": "enabled",
                "snoozeDurationInDays": 1,
                "includeTargets": [{ "id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator" }],
                "excludeTargets": []
            } }
        })
    });
    assert_eq!(
        describe(&step.call).path,
        "/v1.0/policies/authenticationMethodsPolicy"
    );
}

fn migrated() -> (PolicySettings, Sources, MethodsPolicy) {
    let policy = methods_policy(MigrationState::MigrationComplete);
    let before = PolicySettings::from_parts(Some(&portal()), &policy, false);
    (before, Sources::new(Source::Portal, true), policy)
}

/// The configuration a step's call changes, its `@odata.type`, and the properties set.
fn configuration_call(step: &PlannedStep) -> (String, String, Value) {
    let Intent::SetMethodConfiguration(update) = &step.call else {
        panic!("not a configuration change: {:?}", step.call);
    };
    let CallView { mut body, .. } = describe(&step.call);
    let odata_type = body
        .as_object_mut()
        .and_then(|fields| fields.remove("@odata.type"))
        .and_then(|t| t.as_str().map(str::to_owned))
        .expect("an @odata.type");
    (update.id.clone(), odata_type, body)
}

#[test]
fn a_methods_change_after_migration_patches_configurations() {
    let (before, sources, policy) = migrated();
    // Email off; office phone on (Voice, office phone allowed).
    let plan = plan_for(
        &before,
        json!({ "methods": { "email": false, "officePhone": true } }),
        &sources,
        &policy,
    );
    assert_eq!(plan.steps.len(), 2, "{plan:?}");
    let (id, odata_type, body) = configuration_call(&plan.steps[0]);
    assert_eq!(id, "Email");
    assert_eq!(
        odata_type,
        "#microsoft.graph.emailAuthenticationMethodConfiguration"
    );
    assert_eq!(body, json!({ "state": "disabled" }));
    assert_eq!(
        describe(&plan.steps[0].compensation).body,
        json!({ "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", "state": "enabled" })
    );
    let (id, odata_type, body) = configuration_call(&plan.steps[1]);
    assert_eq!(id, "Voice");
    assert_eq!(
        odata_type,
        "#microsoft.graph.voiceAuthenticationMethodConfiguration"
    );
    assert_eq!(
        body,
        json!({ "state": "enabled", "isOfficePhoneAllowed": true })
    );
    assert_eq!(
        describe(&plan.steps[1].compensation).body,
        json!({ "@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration", "state": "disabled", "isOfficePhoneAllowed": false })
    );
    assert_eq!(
        describe(&plan.steps[1].call).path,
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Voice"
    );
    assert!(
        plan.steps.iter().all(|s| s.call.target() == Source::Graph),
        "no portal call for graph-held methods"
    );
    plan.steps.iter().for_each(assert_exact_inverse);
}

#[test]
fn mobile_app_code_uses_the_authenticator_or_software_oath() {
    let (before, sources, policy) = migrated();
    // Authenticator on: the code comes from its software OATH.
    let plan = plan_for(
        &before,
        json!({ "methods": { "mobileAppCode": true } }),
        &sources,
        &policy,
    );
    assert_eq!(plan.steps.len(), 1);
    let (id, odata_type, body) = configuration_call(&plan.steps[0]);
    assert_eq!(id, "MicrosoftAuthenticator");
    assert_eq!(
        odata_type,
        "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration"
    );
    assert_eq!(body, json!({ "isSoftwareOathEnabled": true }));
    assert_eq!(
        plan.steps[0].compensation,
        Intent::SetMethodConfiguration(MethodConfigurationUpdate {
            id: "MicrosoftAuthenticator".into(),
            software_oath_enabled: Some(false),
            ..Default::default()
        })
    );
    assert_eq!(
        describe(&plan.steps[0].compensation).body,
        json!({ "@odata.type": odata_type, "isSoftwareOathEnabled": false })
    );

    // Authenticator off but codes wanted: SoftwareOath carries them.
    let plan = plan_for(
        &before,
        json!({ "methods": { "mobileAppNotification": false, "mobileAppCode": true } }),
        &sources,
        &policy,
    );
    let calls: Vec<(String, Value)> = plan
        .steps
        .iter()
        .map(|s| {
            let (id, _, body) = configuration_call(s);
            (id, body)
        })
        .collect();
    assert_eq!(
        calls,
        vec![
            (
                "MicrosoftAuthenticator".to_owned(),
                json!({ "state": "disabled" })
            ),
            ("SoftwareOath".to_owned(), json!({ "state": "enabled" })),
        ]
    );
    plan.steps.iter().for_each(assert_exact_inverse);
}

#[test]
fn enabling_an_untargeted_configuration_targets_all_users_and_undoes_it() {
    let (_, sources, mut policy) = migrated();
    policy
        .configurations
        .retain(|c| c.id != "Sms" && c.id != "Voice");
    let before = PolicySettings::from_parts(Some(&portal()), &policy, false);
    assert_eq!(before.methods.unwrap().mobile_phone, Some(false));
    let plan = plan_for(
        &before,
        json!({ "methods": { "mobilePhone": true } }),
        &sources,
        &policy,
    );
    let ids: Vec<String> = plan.steps.iter().map(|s| configuration_call(s).0).collect();
    assert_eq!(ids, ["Sms", "Voice"]);
    assert_eq!(
        configuration_call(&plan.steps[0]).2,
        json!({
            "state": "enabled",
            "includeTargets": [{ "targetType": "group", "id": "all_users", "isRegistrationRequired": false, "isUsableForSignIn": false }]
        })
    );
    assert_eq!(
        describe(&plan.steps[0].compensation).body,
        json!({ "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "state": "disabled", "includeTargets": [] })
    );
    plan.steps.iter().for_each(assert_exact_inverse);
}

#[test]
fn plan_refuses_changes_to_unavailable_sources() {
    let before = settings();
    let mut after = before.clone();
    after.notifications.as_mut().unwrap().notify_users_on_reset = false;
    let sources = Sources::new(Source::Unavailable, false);
    assert_eq!(
        plan_between(
            &before,
            &after,
            &sources,
            &methods_policy(MigrationState::PreMigration)
        ),
        Err(ChangeError::SourceUnavailable {
            pointer: "/notifications/notifyUsersOnReset".into(),
            origin: Source::Unavailable
        })
    );
}

#[test]
fn plan_serializes_for_a_dry_run() {
    let before = settings();
    let after = apply_merge_patch(
        &before,
        &json!({ "administrators": { "allowedToUseSspr": true } }),
        &portal_sources(),
    )
    .unwrap();
    let plan = plan_between(
        &before,
        &after,
        &portal_sources(),
        &methods_policy(MigrationState::PreMigration),
    )
    .unwrap();
    let steps: Vec<super::Step> = plan
        .steps
        .iter()
        .map(|s| super::Step {
            call: describe(&s.call),
            compensation: describe(&s.compensation),
        })
        .collect();
    let json = json!({
        "changes": diff(&before, &after, &portal_sources()),
        "steps": steps,
    });
    assert_eq!(
        json["changes"][0]["pointer"],
        "/administrators/allowedToUseSspr"
    );
    assert_eq!(json["changes"][0]["source"], "graph");
    assert_eq!(json["steps"][0]["call"]["method"], "PATCH");
    assert_eq!(json["steps"][0]["call"]["target"], "graph");
    assert_eq!(
        json["steps"][0]["compensation"]["body"],
        json!({ "allowedToUseSSPR": false })
    );
    assert!(
        json["steps"][0]["call"]["description"]
            .as_str()
            .unwrap()
            .contains("administrators on")
    );
}
