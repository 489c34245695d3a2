use serde_json::{Value, json};
use sspr_api::examples;

use super::*;
use crate::domain::licence::ServicePlan;
use sspr_api::windows_link::WindowsResetLinkStatus;

/// What one test observes: the contract examples (Contoso: hybrid, licensed, two gates), each
/// part replaceable.
struct World {
    skus: Result<Vec<SubscribedSku>, Unread>,
    policy: Result<PolicyDocument, Unread>,
    protection: Result<ProtectionStatus, Unread>,
    registrations: Result<RegistrationSummary, Unread>,
    secure_score: Result<Vec<ControlScore>, Unread>,
    windows_link: Result<WindowsResetLinkStatus, Unread>,
}

fn sku(part: &str, status: &str, plans: &[&str]) -> SubscribedSku {
    SubscribedSku {
        sku_part_number: part.into(),
        capability_status: status.into(),
        service_plans: plans
            .iter()
            .map(|id| ServicePlan {
                service_plan_id: (*id).into(),
                service_plan_name: "plan".into(),
                provisioning_status: "Success".into(),
            })
            .collect(),
    }
}

fn score(control: &str, score: f64, max: f64) -> ControlScore {
    ControlScore {
        control: control.into(),
        score: Some(score),
        max_score: Some(max),
        count: Some(3),
        total: Some(4),
        implementation_status: None,
    }
}

/// The Windows link's status as `ops::windows_link` answers it, with `status`.
fn link_status(status: CheckStatus) -> WindowsResetLinkStatus {
    let mut answer: WindowsResetLinkStatus =
        serde_json::from_value(examples::windows_reset_link_status()).expect("status example");
    answer.status = status;
    answer.summary = format!("The link is {}.", status.as_str());
    answer
}

impl World {
    fn contoso() -> World {
        let mut summary: RegistrationSummary =
            serde_json::from_value(examples::registration_summary()).expect("summary example");
        summary.members.sspr_enabled = 100;
        summary.members.sspr_enabled_registered = 95;
        World {
            skus: Ok(vec![sku("SPB", "Enabled", &[AAD_PREMIUM])]),
            policy: Ok(serde_json::from_value(examples::policy_document()).expect("policy")),
            protection: Ok(
                serde_json::from_value(examples::protection_status()).expect("protection")
            ),
            registrations: Ok(summary),
            secure_score: Ok(vec![
                score(SSPR_CONTROL, 1.0, 1.0),
                score(MFA_REGISTRATION_CONTROL, 9.0, 9.0),
            ]),
            windows_link: Ok(link_status(CheckStatus::Pass)),
        }
    }

    /// The policy document with `patch` merged in (RFC 7396).
    fn policy_patched(mut self, patch: Value) -> World {
        let mut document = serde_json::to_value(self.policy.expect("a policy")).unwrap();
        json_patch::merge(&mut document, &patch);
        self.policy = Ok(serde_json::from_value(document).expect("still a policy document"));
        self
    }

    fn assess(&self) -> TenantReadiness {
        let observed = Observed {
            tenant: TenantRef {
                id: "t".into(),
                domain: "contoso.onmicrosoft.com".into(),
                display_name: "Contoso".into(),
            },
            read_at: "2026-12-07T00:00:00Z".into(),
            skus: self.skus.as_deref().map_err(Clone::clone),
            policy: self.policy.as_ref().map_err(Clone::clone),
            protection: self.protection.as_ref().map_err(Clone::clone),
            registrations: self.registrations.as_ref().map_err(Clone::clone),
            secure_score: self.secure_score.as_deref().map_err(Clone::clone),
            windows_link: self.windows_link.as_ref().map_err(Clone::clone),
        };
        super::assess(&observed, &ReadinessRules::default())
    }

    fn check(&self, id: CheckId) -> Check {
        self.assess()
            .checks
            .into_iter()
            .find(|c| c.id == id)
            .expect("every check is answered")
    }
}

fn evidence(check: &Check, name: &str) -> String {
    check
        .evidence
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} in {:?}", check.evidence))
        .value
        .clone()
}

fn command(check: &Check) -> String {
    check
        .remedy
        .as_ref()
        .and_then(|r| r.command.clone())
        .unwrap_or_else(|| panic!("a command for {:?}", check.id))
}

#[test]
fn every_check_is_answered_once_in_the_guides_order() {
    let readiness = World::contoso().assess();
    let ids: Vec<CheckId> = readiness.checks.iter().map(|c| c.id).collect();
    assert_eq!(ids, CheckId::ALL);
    let counted = readiness.counts;
    assert_eq!(
        (counted.pass + counted.warn + counted.fail + counted.unknown + counted.not_applicable)
            as usize,
        CheckId::ALL.len()
    );
}

#[test]
fn cloud_licence_passes_with_premium_or_an_allowed_sku_and_fails_without() {
    let mut world = World::contoso();
    assert_eq!(world.check(CheckId::CloudLicence).status, CheckStatus::Pass);
    // Business Standard carries no AAD_PREMIUM but allows cloud-only reset.
    world.skus = Ok(vec![sku("O365_BUSINESS_PREMIUM", "Enabled", &[])]);
    assert_eq!(world.check(CheckId::CloudLicence).status, CheckStatus::Pass);
    // Office 365 E3 does not, nor does a suspended premium SKU.
    world.skus = Ok(vec![
        sku("ENTERPRISEPACK", "Enabled", &[]),
        sku("SPB", "Suspended", &[AAD_PREMIUM]),
    ]);
    let check = world.check(CheckId::CloudLicence);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        evidence(&check, "skus"),
        "ENTERPRISEPACK (Enabled); SPB (Suspended, AAD_PREMIUM)"
    );
    assert!(check.remedy.unwrap().portal.unwrap().contains("Billing"));
    world.skus = Err(Unread::new("no Organization.Read.All"));
    assert_eq!(
        world.check(CheckId::CloudLicence).status,
        CheckStatus::Unknown
    );
}

#[test]
fn writeback_licence_needs_p1_only_when_the_tenant_syncs() {
    let mut world = World::contoso();
    world.skus = Ok(vec![sku("O365_BUSINESS_PREMIUM", "Enabled", &[])]);
    assert_eq!(
        world.check(CheckId::WritebackLicence).status,
        CheckStatus::Fail
    );
    let cloud_only = World {
        skus: Ok(vec![sku("O365_BUSINESS_PREMIUM", "Enabled", &[])]),
        ..World::contoso()
    }
    .policy_patched(json!({"directorySync": {"syncs": false, "onPremisesSyncEnabled": null}}));
    assert_eq!(
        cloud_only.check(CheckId::WritebackLicence).status,
        CheckStatus::NotApplicable
    );
    assert_eq!(
        World::contoso().check(CheckId::WritebackLicence).status,
        CheckStatus::Pass
    );
}

#[test]
fn on_premises_integration_follows_writeback_and_unlock() {
    let world = World::contoso();
    let check = world.check(CheckId::OnPremisesIntegration);
    assert_eq!(check.status, CheckStatus::Pass);
    assert!(check.remedy.is_none(), "nothing to do when it passes");
    let no_unlock =
        World::contoso().policy_patched(json!({"onPremises": {"unlockWithoutReset": false}}));
    assert_eq!(
        no_unlock.check(CheckId::OnPremisesIntegration).status,
        CheckStatus::Warn
    );
    let off = World::contoso().policy_patched(json!({"onPremises": {"passwordWriteback": false}}));
    let check = off.check(CheckId::OnPremisesIntegration);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(evidence(&check, "onPremises.passwordWriteback"), "false");
    assert_eq!(
        command(&check),
        "sspr policy set --tenant contoso.onmicrosoft.com --writeback on --unlock on"
    );
    let unread = World::contoso().policy_patched(json!({"onPremises": {
        "source": "unavailable", "integrated": null, "passwordWriteback": null,
        "unlockWithoutReset": null, "reason": "no portal connector", "remedy": "connect it"}}));
    let check = unread.check(CheckId::OnPremisesIntegration);
    assert_eq!(check.status, CheckStatus::Unknown);
    assert_eq!(check.summary, "no portal connector");
    let cloud = World::contoso().policy_patched(json!({"directorySync": {"syncs": false}}));
    assert_eq!(
        cloud.check(CheckId::OnPremisesIntegration).status,
        CheckStatus::NotApplicable
    );
}

#[test]
fn scope_passes_for_all_warns_for_a_group_and_fails_for_nobody() {
    let selected = World::contoso().check(CheckId::EnablementScope);
    assert_eq!(selected.status, CheckStatus::Warn);
    assert!(
        selected.summary.contains("SSPR Users"),
        "{}",
        selected.summary
    );
    assert_eq!(
        selected.points.as_ref().map(|p| p.control.as_str()),
        Some(SSPR_CONTROL)
    );
    let all = World::contoso().policy_patched(
        json!({"enablement": {"scope": "all", "groupId": null, "groupName": null}}),
    );
    assert_eq!(
        all.check(CheckId::EnablementScope).status,
        CheckStatus::Pass
    );
    let none = World::contoso().policy_patched(
        json!({"enablement": {"scope": "none", "groupId": null, "groupName": null}}),
    );
    let check = none.check(CheckId::EnablementScope);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(evidence(&check, "enablement.scope"), "none");
    assert_eq!(
        command(&check),
        "sspr policy set --tenant contoso.onmicrosoft.com --enablement all"
    );
}

#[test]
fn two_gates_need_two_methods_and_the_authenticator_app_counts_once() {
    let world = World::contoso();
    let check = world.check(CheckId::MethodsAndGates);
    assert_eq!(check.status, CheckStatus::Pass);
    assert_eq!(
        evidence(&check, "methods"),
        "microsoftAuthenticator, email, mobilePhone, officePhone"
    );
    let off = json!({"usable": false, "enabledBy": [], "targets": []});
    let app_only = World::contoso().policy_patched(json!({"methods": {
        "mobileAppCode": {"usable": true, "enabledBy": ["MicrosoftAuthenticator"], "targets": ["all_users"]},
        "email": off, "mobilePhone": off, "officePhone": off}}));
    let check = app_only.check(CheckId::MethodsAndGates);
    assert_eq!(check.status, CheckStatus::Fail, "{}", check.summary);
    assert!(
        check.summary.contains("Authenticator app counts once"),
        "{}",
        check.summary
    );
    assert_eq!(
        command(&check),
        "sspr policy set --tenant contoso.onmicrosoft.com --method email=on,mobilePhone=on"
    );
    let one_gate =
        World::contoso().policy_patched(json!({"authentication": {"methodsRequired": 1}}));
    let check = one_gate.check(CheckId::MethodsAndGates);
    assert_eq!(check.status, CheckStatus::Warn);
    assert_eq!(
        command(&check),
        "sspr policy set --tenant contoso.onmicrosoft.com --methods-required 2"
    );
}

#[test]
fn registration_needs_sign_in_registration_and_reconfirmation() {
    assert_eq!(
        World::contoso().check(CheckId::Registration).status,
        CheckStatus::Pass
    );
    let never = World::contoso().policy_patched(json!({"registration": {"reconfirmDays": 0}}));
    let check = never.check(CheckId::Registration);
    assert_eq!(check.status, CheckStatus::Warn);
    assert_eq!(evidence(&check, "registration.reconfirmDays"), "0");
    assert_eq!(
        command(&check),
        "sspr policy set --tenant contoso.onmicrosoft.com --reconfirm-days 180"
    );
    let not_required = World::contoso()
        .policy_patched(json!({"registration": {"requireRegistrationOnSignIn": false}}));
    assert_eq!(
        not_required.check(CheckId::Registration).status,
        CheckStatus::Fail
    );
}

#[test]
fn notifications_pass_with_both_and_fail_with_neither() {
    assert_eq!(
        World::contoso().check(CheckId::Notifications).status,
        CheckStatus::Pass
    );
    let one = World::contoso()
        .policy_patched(json!({"notifications": {"notifyAdminsOnAdminReset": false}}));
    assert_eq!(one.check(CheckId::Notifications).status, CheckStatus::Warn);
    let none = World::contoso().policy_patched(
        json!({"notifications": {"notifyAdminsOnAdminReset": false, "notifyUsersOnReset": false}}),
    );
    let check = none.check(CheckId::Notifications);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        command(&check),
        "sspr policy set --tenant contoso.onmicrosoft.com --notify-users on --notify-admins on"
    );
}

#[test]
fn the_helpdesk_link_passes_when_set_and_warns_when_not() {
    let set = World::contoso().check(CheckId::HelpdeskLink);
    assert_eq!(set.status, CheckStatus::Pass);
    assert_eq!(
        evidence(&set, "customization.helpdeskLink"),
        "https://help.contoso.com/password"
    );
    let mut unset = World::contoso();
    if let Ok(policy) = &mut unset.policy {
        // Read, and empty: users only see "contact your administrator".
        policy.customization.helpdesk_link = Some(None);
    }
    assert_eq!(unset.check(CheckId::HelpdeskLink).status, CheckStatus::Warn);
    let mut unread = World::contoso();
    if let Ok(policy) = &mut unread.policy {
        policy.customization.helpdesk_link = None;
    }
    assert_eq!(
        unread.check(CheckId::HelpdeskLink).status,
        CheckStatus::Unknown
    );
}

#[test]
fn the_windows_link_check_is_the_links_status_with_the_deploy_or_the_registry_to_do() {
    let mut world = World::contoso();
    let check = world.check(CheckId::WindowsResetLink);
    assert_eq!(check.status, CheckStatus::Pass);
    assert_eq!(check.summary, "The link is pass.");
    assert_eq!(
        check.evidence,
        link_status(CheckStatus::Pass).evidence,
        "the status's evidence"
    );
    world.windows_link = Ok(link_status(CheckStatus::Fail));
    let check = world.check(CheckId::WindowsResetLink);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        command(&check),
        "sspr windows-reset-link apply --all-devices --tenant contoso.onmicrosoft.com"
    );
    // No Intune licence or permission: the status says unknown, the remedy is the registry.
    world.windows_link = Ok(link_status(CheckStatus::Unknown));
    let check = world.check(CheckId::WindowsResetLink);
    assert_eq!(check.status, CheckStatus::Unknown);
    let remedy = check.remedy.expect("a remedy");
    assert!(
        remedy.text.contains("AllowPasswordReset = 1"),
        "{}",
        remedy.text
    );
    assert_eq!(
        remedy.command.as_deref(),
        Some("sspr windows-reset-link script --tenant contoso.onmicrosoft.com --format powershell")
    );
    world.windows_link = Err(Unread::new("Graph is unreachable."));
    assert_eq!(
        world.check(CheckId::WindowsResetLink).status,
        CheckStatus::Unknown
    );
}

#[test]
fn registration_protection_follows_the_grade() {
    let world = World::contoso();
    let graded = world.protection.as_ref().unwrap().verdict;
    let expected = match graded {
        Verdict::Pass => CheckStatus::Pass,
        Verdict::Warn => CheckStatus::Warn,
        Verdict::Fail => CheckStatus::Fail,
    };
    assert_eq!(
        world.check(CheckId::RegistrationProtection).status,
        expected
    );
    let mut none = World::contoso();
    if let Ok(status) = &mut none.protection {
        status.policies.clear();
        status.verdict = Verdict::Fail;
        status.ours = None;
    }
    let check = none.check(CheckId::RegistrationProtection);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        command(&check),
        "sspr registration-protection apply --tenant contoso.onmicrosoft.com"
    );
    none.protection = Err(Unread::new("needs Entra ID P1"));
    assert_eq!(
        none.check(CheckId::RegistrationProtection).status,
        CheckStatus::Unknown
    );
}

#[test]
fn mfa_registration_passes_with_an_enabled_campaign_and_is_unknown_without() {
    let on = World::contoso().check(CheckId::MfaRegistrationEnforced);
    assert_eq!(on.status, CheckStatus::Pass);
    assert_eq!(
        evidence(&on, "registrationCampaign.includeTargets"),
        "all_users"
    );
    let off = World::contoso()
        .policy_patched(json!({"methodsPolicy": {"registrationCampaign": {"state": "default"}}}));
    let check = off.check(CheckId::MfaRegistrationEnforced);
    assert_eq!(check.status, CheckStatus::Unknown);
    assert!(check.summary.contains("has no API"), "{}", check.summary);
    assert!(
        check
            .remedy
            .unwrap()
            .portal
            .unwrap()
            .contains("Identity Protection")
    );
}

#[test]
fn coverage_is_measured_on_members_against_the_thresholds() {
    let mut world = World::contoso();
    let check = world.check(CheckId::RegistrationCoverage);
    assert_eq!(check.status, CheckStatus::Pass);
    assert_eq!(evidence(&check, "coverage"), "95 of 100");
    assert_eq!(evidence(&check, "guests"), "1", "guests counted apart");
    let set = |world: &mut World, registered| {
        if let Ok(summary) = &mut world.registrations {
            summary.members.sspr_enabled_registered = registered;
        }
    };
    set(&mut world, 70);
    assert_eq!(
        world.check(CheckId::RegistrationCoverage).status,
        CheckStatus::Warn
    );
    set(&mut world, 10);
    let check = world.check(CheckId::RegistrationCoverage);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        command(&check),
        "sspr registrations list --sspr enabledNotRegistered --tenant contoso.onmicrosoft.com"
    );
    world.registrations = Err(Unread::new("needs Entra ID P1"));
    assert_eq!(
        world.check(CheckId::RegistrationCoverage).status,
        CheckStatus::Unknown
    );
}

#[test]
fn secure_score_checks_carry_the_points_read_at_run_time() {
    let mut world = World::contoso();
    world.secure_score = Ok(vec![
        score(SSPR_CONTROL, 0.0, 1.0),
        score(MFA_REGISTRATION_CONTROL, 4.5, 9.0),
    ]);
    let readiness = world.assess();
    let sspr = readiness
        .checks
        .iter()
        .find(|c| c.id == CheckId::SecureScoreSspr)
        .unwrap();
    assert_eq!(sspr.status, CheckStatus::Fail);
    assert_eq!(sspr.points.as_ref().unwrap().max_score, Some(1.0));
    let mfa = readiness
        .checks
        .iter()
        .find(|c| c.id == CheckId::SecureScoreMfaRegistration)
        .unwrap();
    assert_eq!(mfa.status, CheckStatus::Warn);
    assert_eq!(
        evidence(mfa, MFA_REGISTRATION_CONTROL),
        "4.5 of 9 (count 3 of 4)"
    );
    let points = readiness.points.expect("points");
    assert_eq!(
        (points.achieved, points.max, points.available),
        (4.5, 10.0, 5.5)
    );
    world.secure_score = Err(Unread::new("no SecurityEvents.Read.All"));
    let readiness = world.assess();
    assert!(readiness.points.is_none());
    let sspr = readiness
        .checks
        .iter()
        .find(|c| c.id == CheckId::SecureScoreSspr)
        .unwrap();
    assert_eq!(sspr.status, CheckStatus::Unknown);
    assert!(
        sspr.remedy
            .as_ref()
            .unwrap()
            .text
            .contains("SecurityEvents.Read.All")
    );
}

#[test]
fn the_overall_status_is_the_worst_decided_one_and_unknowns_do_not_fail_it() {
    let world = World::contoso().policy_patched(
        json!({"enablement": {"scope": "all", "groupId": null, "groupName": null}}),
    );
    let mut world = world;
    if let Ok(status) = &mut world.protection {
        status.verdict = Verdict::Pass;
    }
    world.secure_score = Err(Unread::new("no permission"));
    let readiness = world.assess();
    assert_eq!(readiness.counts.fail, 0, "{:?}", readiness.checks);
    assert!(readiness.counts.unknown >= 2);
    assert_eq!(readiness.status, CheckStatus::Pass);
    let failing = World::contoso()
        .policy_patched(json!({"registration": {"requireRegistrationOnSignIn": false}}));
    assert_eq!(failing.assess().status, CheckStatus::Fail);
}

#[test]
fn an_unreadable_policy_makes_its_checks_unknown_not_an_error() {
    let mut world = World::contoso();
    world.policy = Err(Unread::new("Could not be read: Graph is unreachable."));
    let readiness = world.assess();
    for id in [
        CheckId::EnablementScope,
        CheckId::MethodsAndGates,
        CheckId::Registration,
        CheckId::Notifications,
        CheckId::HelpdeskLink,
        CheckId::OnPremisesIntegration,
    ] {
        let check = readiness.checks.iter().find(|c| c.id == id).unwrap();
        assert_eq!(check.status, CheckStatus::Unknown, "{id:?}");
        assert_eq!(check.summary, "Could not be read: Graph is unreachable.");
    }
    assert_eq!(
        readiness
            .checks
            .iter()
            .find(|c| c.id == CheckId::CloudLicence)
            .unwrap()
            .status,
        CheckStatus::Pass,
        "the other reads still count"
    );
}

#[test]
fn the_user_guide_names_the_helpdesk_link_the_methods_and_the_windows_link() {
    let world = World::contoso();
    let guide = super::user_guide(
        TenantRef {
            id: "t".into(),
            domain: "contoso.onmicrosoft.com".into(),
            display_name: "Contoso".into(),
        },
        world.policy.as_ref().ok(),
        world.windows_link.as_ref().ok(),
    );
    assert_eq!(
        guide.helpdesk_link.as_deref(),
        Some("https://help.contoso.com/password")
    );
    assert_eq!(guide.methods_required, Some(2));
    assert!(guide.methods.contains(&"email".to_owned()));
    assert!(guide.windows_reset_link);
    let failing = link_status(CheckStatus::Fail);
    assert!(
        !super::user_guide(guide.tenant.clone(), None, Some(&failing)).windows_reset_link,
        "the link is only promised where it is shown"
    );
    assert_eq!(
        guide.portals.registration,
        "https://aka.ms/setupsecurityinfo"
    );
    let without = super::user_guide(guide.tenant.clone(), None, None);
    assert!(!without.windows_reset_link && without.helpdesk_link.is_none());
}
