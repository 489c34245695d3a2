//! Findings: how the policy as it stands weakens security or support, with a severity and the
//! field to change. Reported with every read; they never block a write (the rules do that).

pub use sspr_api::policy::{Finding, Severity};

use super::change::{PolicySettings, ScopeKind};
use super::rules::TenantFacts;

fn new_finding(severity: Severity, field: &str, message: &str) -> Finding {
    Finding {
        severity,
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

/// Every finding for `settings`, most severe first. Groups whose source is unavailable yield none.
pub fn findings(settings: &PolicySettings, facts: &TenantFacts) -> Vec<Finding> {
    use Severity::{High, Info, Low, Medium};
    let mut out = Vec::new();
    let mut add = |severity, field, message| out.push(new_finding(severity, field, message));

    if let Some(enablement) = &settings.enablement
        && enablement.scope == ScopeKind::None
    {
        add(
            Medium,
            "/enablement/scope",
            "SSPR is enabled for nobody: every forgotten password becomes a helpdesk call.",
        );
    }

    if let Some(methods) = &settings.methods {
        if methods.mobile_app_usable() && methods.usable_besides_mobile_app() == 0 {
            add(
                High,
                "/methods",
                "The Microsoft Authenticator app is the only method usable for reset; SSPR needs at least one other method beside it.",
            );
        }
        if methods.security_questions == Some(true) {
            add(
                Medium,
                "/methods/securityQuestions",
                "Security questions are enabled; they are the weakest method (answers are guessable or findable) and Microsoft discourages them.",
            );
        }
    }

    if settings.administrators.allowed_to_use_sspr {
        add(
            Medium,
            "/administrators/allowedToUseSspr",
            "Administrators may reset their own passwords with SSPR; an attacker holding an admin's methods can take over the account. Prefer a managed admin recovery process.",
        );
    }

    if let Some(auth) = &settings.authentication
        && auth.methods_required == 1
    {
        add(
            Medium,
            "/authentication/methodsRequired",
            "Only one method is required to reset a password; requiring two makes a reset much harder to abuse.",
        );
    }

    if let Some(registration) = &settings.registration {
        if !registration.require_registration_on_sign_in {
            add(
                Medium,
                "/registration/requireRegistrationOnSignIn",
                "Users are not asked to register at sign-in, so many will have no methods when they need a reset.",
            );
        }
        if registration.reconfirm_days == 0 {
            add(
                Low,
                "/registration/reconfirmDays",
                "Users are never asked to reconfirm their methods, so stale phone numbers and addresses go unnoticed.",
            );
        }
    }

    if let Some(notifications) = &settings.notifications {
        if !notifications.notify_users_on_reset {
            add(
                Low,
                "/notifications/notifyUsersOnReset",
                "Users are not notified when their password is reset, so they cannot spot a reset they did not make.",
            );
        }
        if !notifications.notify_admins_on_admin_reset {
            add(
                Low,
                "/notifications/notifyAdminsOnAdminReset",
                "Administrators are not notified when another administrator resets their password.",
            );
        }
    }

    if let Some(on_premises) = &settings.on_premises
        && on_premises.password_writeback
        && !facts.tenant_syncs
    {
        add(
            Medium,
            "/onPremises/passwordWriteback",
            "Password writeback is on but the tenant does not synchronize from on-premises Active Directory; it has no effect.",
        );
    }

    let campaign_on = settings
        .methods_policy
        .registration_campaign
        .as_ref()
        .is_some_and(|c| c.state == "enabled");
    if !campaign_on {
        add(
            Low,
            "/methodsPolicy/registrationCampaign/state",
            "The registration campaign is off (`default` behaves as disabled): users are not nudged to register the Microsoft Authenticator.",
        );
    }

    if let Some(customization) = &settings.customization
        && customization.helpdesk_link.is_none()
    {
        add(
            Info,
            "/customization/helpdeskLink",
            "The helpdesk link is not customized: users who cannot reset see the default \"contact your administrator\" text.",
        );
    }

    out.sort_by_key(|f| f.severity);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::change::Enablement;
    use crate::domain::change::fixtures::{settings, with};

    const FACTS: TenantFacts = TenantFacts {
        tenant_syncs: true,
        has_writeback_licence: true,
        methods_from_graph: false,
    };

    fn found(settings: &PolicySettings, facts: &TenantFacts) -> Vec<(Severity, String)> {
        findings(settings, facts)
            .into_iter()
            .map(|f| (f.severity, f.field))
            .collect()
    }

    /// The finding for `field` after `change`, asserting the baseline did not have it.
    fn finding(change: impl FnOnce(&mut PolicySettings), field: &str) -> Finding {
        assert!(
            !findings(&settings(), &FACTS)
                .iter()
                .any(|f| f.field == field),
            "baseline already reports {field}"
        );
        findings(&with(change), &FACTS)
            .into_iter()
            .find(|f| f.field == field)
            .unwrap_or_else(|| panic!("no finding for {field}"))
    }

    #[test]
    fn a_sound_policy_has_no_findings() {
        assert_eq!(found(&settings(), &FACTS), vec![]);
    }

    #[test]
    fn security_questions_enabled() {
        let f = finding(
            |s| s.methods_mut().security_questions = Some(true),
            "/methods/securityQuestions",
        );
        assert_eq!(f.severity, Severity::Medium);
        assert!(f.message.contains("Security questions"));
    }

    #[test]
    fn admins_allowed_sspr() {
        let f = finding(
            |s| s.administrators.allowed_to_use_sspr = true,
            "/administrators/allowedToUseSspr",
        );
        assert_eq!(f.severity, Severity::Medium);
    }

    #[test]
    fn one_method_required() {
        let f = finding(
            |s| s.authentication_mut().methods_required = 1,
            "/authentication/methodsRequired",
        );
        assert_eq!(f.severity, Severity::Medium);
    }

    #[test]
    fn user_notifications_off() {
        let f = finding(
            |s| s.notifications_mut().notify_users_on_reset = false,
            "/notifications/notifyUsersOnReset",
        );
        assert_eq!(f.severity, Severity::Low);
    }

    #[test]
    fn admin_notifications_off() {
        let f = finding(
            |s| s.notifications_mut().notify_admins_on_admin_reset = false,
            "/notifications/notifyAdminsOnAdminReset",
        );
        assert_eq!(f.severity, Severity::Low);
    }

    #[test]
    fn reconfirm_never() {
        let f = finding(
            |s| s.registration_mut().reconfirm_days = 0,
            "/registration/reconfirmDays",
        );
        assert_eq!(f.severity, Severity::Low);
    }

    #[test]
    fn registration_campaign_off() {
        for state in ["disabled", "default"] {
            let f = finding(
                |s| s.campaign_mut().state = state.to_owned(),
                "/methodsPolicy/registrationCampaign/state",
            );
            assert_eq!(f.severity, Severity::Low);
        }
    }

    #[test]
    fn no_campaign_at_all_counts_as_off() {
        let mut s = settings();
        s.methods_policy.registration_campaign = None;
        assert!(
            findings(&s, &FACTS)
                .iter()
                .any(|f| f.field == "/methodsPolicy/registrationCampaign/state")
        );
    }

    #[test]
    fn authenticator_as_the_only_method() {
        let f = finding(
            |s| {
                let methods = s.methods_mut();
                methods.email = Some(false);
                methods.mobile_phone = Some(false);
                methods.office_phone = Some(false);
            },
            "/methods",
        );
        assert_eq!(f.severity, Severity::High);
        assert!(f.message.contains("only method"));
    }

    #[test]
    fn writeback_on_a_tenant_that_does_not_sync() {
        let s = with(|s| s.on_premises_mut().password_writeback = true);
        assert!(found(&s, &FACTS).is_empty(), "a syncing tenant is fine");
        let cloud_only = TenantFacts {
            tenant_syncs: false,
            ..FACTS
        };
        assert_eq!(
            found(&s, &cloud_only),
            [(Severity::Medium, "/onPremises/passwordWriteback".to_owned())]
        );
    }

    #[test]
    fn sspr_enabled_for_nobody() {
        let f = finding(
            |s| {
                *s.enablement_mut() = Enablement {
                    scope: ScopeKind::None,
                    group_id: None,
                }
            },
            "/enablement/scope",
        );
        assert_eq!(f.severity, Severity::Medium);
    }

    #[test]
    fn registration_not_required_at_sign_in() {
        let f = finding(
            |s| s.registration_mut().require_registration_on_sign_in = false,
            "/registration/requireRegistrationOnSignIn",
        );
        assert_eq!(f.severity, Severity::Medium);
    }

    #[test]
    fn helpdesk_link_not_customized() {
        let f = finding(
            |s| s.customization_mut().helpdesk_link = None,
            "/customization/helpdeskLink",
        );
        assert_eq!(f.severity, Severity::Info);
    }

    #[test]
    fn findings_come_most_severe_first() {
        let s = with(|s| {
            s.customization_mut().helpdesk_link = None;
            let methods = s.methods_mut();
            methods.email = Some(false);
            methods.mobile_phone = Some(false);
            methods.office_phone = Some(false);
            s.registration_mut().reconfirm_days = 0;
        });
        let severities: Vec<Severity> = findings(&s, &FACTS).iter().map(|f| f.severity).collect();
        assert_eq!(severities, [Severity::High, Severity::Low, Severity::Info]);
        assert_eq!(findings(&s, &FACTS)[0].field, "/methods");
    }

    #[test]
    fn groups_without_a_source_yield_no_findings() {
        use crate::domain::change::fixtures::methods_policy;
        use crate::domain::methods::MigrationState;
        let s =
            PolicySettings::from_parts(None, &methods_policy(MigrationState::PreMigration), false);
        assert_eq!(found(&s, &FACTS), vec![]);
    }
}
