//! The rules a policy must satisfy before it is written (DESIGN.md §4). Each violation names the
//! JSON pointer of the field at fault in the PATCH document; every violation is reported at once.

pub use sspr_api::policy::Violation;

use super::change::{PolicySettings, ScopeKind};

/// What the rules need to know about the tenant beyond its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantFacts {
    /// The tenant synchronizes from on-premises Active Directory (`onPremisesSyncEnabled`).
    pub tenant_syncs: bool,
    /// Entra ID P1/P2 or Microsoft 365 Business Premium: what password writeback needs.
    pub has_writeback_licence: bool,
    /// The Authentication methods policy governs the reset methods (migration in progress or
    /// complete), so they are written as method configurations.
    pub methods_from_graph: bool,
}

fn violation(pointer: &str, message: impl Into<String>) -> Violation {
    Violation {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

pub const MAX_RECONFIRM_DAYS: u16 = 730;
pub const MAX_SNOOZE_DAYS: i32 = 14;
/// The longest helpdesk link: a URL (the length browsers and most servers accept) and an
/// e-mail address (RFC 5321's path limit less its brackets).
pub const MAX_HELPDESK_URL_CHARS: usize = 2048;
pub const MAX_HELPDESK_EMAIL_CHARS: usize = 254;

/// The migration states a change may set (Graph's `unknownFutureValue` is not one).
pub const MIGRATION_STATES: &[&str] = &["preMigration", "migrationInProgress", "migrationComplete"];
/// The registration campaign's states (`default` behaves as disabled).
pub const CAMPAIGN_STATES: &[&str] = &["default", "enabled", "disabled"];

const BOOLEAN: &str = "true or false";

/// What the field at `pointer` (a JSON pointer into the editable settings, as in a PATCH) takes,
/// in words: the rule a value of the wrong type or out of range is told. Array elements take
/// their array's element rule. `None` for a pointer that is not a field.
pub fn expected(pointer: &str) -> Option<&'static str> {
    let rule = match pointer {
        "/enablement" => "an object with scope and groupId",
        "/enablement/scope" => "one of none, selected, all",
        "/enablement/groupId" => "a group object id (a GUID), or null",
        "/authentication" => "an object with methodsRequired and securityQuestions",
        "/authentication/methodsRequired" => "1 or 2",
        "/authentication/securityQuestions" => "an object with toRegister and toReset",
        "/authentication/securityQuestions/toRegister" => "a whole number from 3 to 5",
        "/authentication/securityQuestions/toReset" => {
            "a whole number from 3 to 5, at most toRegister"
        }
        "/methods" => {
            "an object with mobileAppNotification, mobileAppCode, email, mobilePhone, officePhone and securityQuestions, each true or false"
        }
        "/methods/mobileAppNotification"
        | "/methods/mobileAppCode"
        | "/methods/email"
        | "/methods/mobilePhone"
        | "/methods/officePhone"
        | "/methods/securityQuestions" => BOOLEAN,
        "/registration" => "an object with requireRegistrationOnSignIn and reconfirmDays",
        "/registration/requireRegistrationOnSignIn" => BOOLEAN,
        "/registration/reconfirmDays" => "a whole number from 0 to 730 (0 = never)",
        "/notifications" => "an object with notifyUsersOnReset and notifyAdminsOnAdminReset",
        "/notifications/notifyUsersOnReset" | "/notifications/notifyAdminsOnAdminReset" => BOOLEAN,
        "/customization" => "an object with helpdeskLink",
        "/customization/helpdeskLink" => {
            "an https URL of at most 2048 characters or an e-mail address of at most 254, or null"
        }
        "/onPremises" => "an object with passwordWriteback and unlockWithoutReset",
        "/onPremises/passwordWriteback" | "/onPremises/unlockWithoutReset" => BOOLEAN,
        "/administrators" => "an object with allowedToUseSspr",
        "/administrators/allowedToUseSspr" => BOOLEAN,
        "/methodsPolicy" => {
            "an object with migrationState, reconfirmationInDays and registrationCampaign"
        }
        "/methodsPolicy/migrationState" => {
            "one of preMigration, migrationInProgress, migrationComplete"
        }
        "/methodsPolicy/reconfirmationInDays" => "a whole number of days, or null",
        "/methodsPolicy/registrationCampaign" => {
            "an object with state, snoozeDurationInDays, includeTargets and excludeTargets, or null"
        }
        "/methodsPolicy/registrationCampaign/state" => "one of default, enabled, disabled",
        "/methodsPolicy/registrationCampaign/snoozeDurationInDays" => {
            "a whole number from 0 to 14, or null"
        }
        "/methodsPolicy/registrationCampaign/includeTargets" => {
            "a list of group object ids or all_users"
        }
        "/methodsPolicy/registrationCampaign/excludeTargets" => "a list of group object ids",
        other => {
            let (array, index) = other.rsplit_once('/')?;
            index.parse::<usize>().ok()?;
            match array {
                "/methodsPolicy/registrationCampaign/includeTargets" => {
                    "a group object id or all_users"
                }
                "/methodsPolicy/registrationCampaign/excludeTargets" => "a group object id",
                _ => return None,
            }
        }
    };
    Some(rule)
}

/// The values a text field may be set to, for fields with a closed set.
pub fn vocabulary(pointer: &str) -> Option<&'static [&'static str]> {
    match pointer {
        "/methodsPolicy/migrationState" => Some(MIGRATION_STATES),
        "/methodsPolicy/registrationCampaign/state" => Some(CAMPAIGN_STATES),
        _ => None,
    }
}

/// `pointer`'s rule, for the messages below.
fn rule(pointer: &str) -> &'static str {
    expected(pointer).unwrap_or("valid")
}

/// Checks every rule; groups whose source is unavailable (`None`) are not checked.
pub fn validate(settings: &PolicySettings, facts: &TenantFacts) -> Result<(), Vec<Violation>> {
    let mut violations = Vec::new();
    let mut fail = |pointer: &str, message: String| violations.push(violation(pointer, message));

    let required = settings.authentication.as_ref().map(|a| a.methods_required);
    if let Some(required) = required
        && !(1..=2).contains(&required)
    {
        let pointer = "/authentication/methodsRequired";
        fail(
            pointer,
            format!(
                "Methods required to reset must be {}, not {required}.",
                rule(pointer)
            ),
        );
    }

    if let Some(methods) = &settings.methods {
        if let Some(required) = required.filter(|r| (1..=2).contains(r)) {
            let usable = methods.usable();
            if usable < usize::from(required) {
                fail(
                    "/methods",
                    format!(
                        "{required} method(s) are required to reset but only {usable} method(s) are usable; enable more methods or require fewer."
                    ),
                );
            }
            // The mobile app cannot be the only method; with two required it needs two others.
            let others = methods.usable_besides_mobile_app();
            let needed = usize::from(required);
            if methods.mobile_app_usable() && others < needed {
                let pointer = if methods.mobile_app_notification == Some(true) {
                    "/methods/mobileAppNotification"
                } else {
                    "/methods/mobileAppCode"
                };
                fail(
                    pointer,
                    format!(
                        "The mobile app cannot be the only method: with {required} method(s) required, at least {needed} other method(s) must be usable besides it (now {others})."
                    ),
                );
            }
        }
        if facts.methods_from_graph
            && methods.office_phone == Some(true)
            && methods.mobile_phone == Some(false)
        {
            fail(
                "/methods/officePhone",
                "In the Authentication methods policy office phone comes from the Voice method, which also makes mobile phone usable: enable mobile phone as well, or disable office phone.".to_owned(),
            );
        }
    }

    if let Some(registration) = &settings.registration
        && registration.reconfirm_days > MAX_RECONFIRM_DAYS
    {
        let pointer = "/registration/reconfirmDays";
        fail(
            pointer,
            format!(
                "Days before users reconfirm must be {}, not {}.",
                rule(pointer),
                registration.reconfirm_days
            ),
        );
    }

    let questions_on = settings
        .methods
        .as_ref()
        .is_some_and(|m| m.security_questions == Some(true));
    if let (true, Some(auth)) = (questions_on, &settings.authentication) {
        let questions = &auth.security_questions;
        if !(3..=5).contains(&questions.to_register) {
            let pointer = "/authentication/securityQuestions/toRegister";
            fail(
                pointer,
                format!(
                    "Security questions to register must be {}, not {}.",
                    rule(pointer),
                    questions.to_register
                ),
            );
        }
        if !(3..=5).contains(&questions.to_reset) {
            let pointer = "/authentication/securityQuestions/toReset";
            fail(
                pointer,
                format!(
                    "Security questions to reset must be {}, not {}.",
                    rule(pointer),
                    questions.to_reset
                ),
            );
        } else if questions.to_reset > questions.to_register {
            fail(
                "/authentication/securityQuestions/toReset",
                format!(
                    "Security questions to reset ({}) cannot exceed the questions to register ({}).",
                    questions.to_reset, questions.to_register
                ),
            );
        }
    }

    if let Some(enablement) = &settings.enablement
        && enablement.scope == ScopeKind::Selected
    {
        match enablement.group_id.as_deref() {
            None | Some("") => fail(
                "/enablement/groupId",
                "Scope `selected` needs exactly one group: set groupId to the group's object id."
                    .to_owned(),
            ),
            Some(id) if uuid::Uuid::try_parse(id).is_err() => fail(
                "/enablement/groupId",
                format!("groupId must be a group object id (a GUID), not '{id}'."),
            ),
            Some(_) => {}
        }
    }

    if let Some(link) = settings
        .customization
        .as_ref()
        .and_then(|c| c.helpdesk_link.as_deref())
        && let Some(message) = helpdesk_link_problem(link)
    {
        fail("/customization/helpdeskLink", message);
    }

    if let Some(on_premises) = &settings.on_premises
        && on_premises.unlock_without_reset
        && !on_premises.password_writeback
    {
        fail(
            "/onPremises/unlockWithoutReset",
            "Unlocking accounts without a reset needs password writeback; turn writeback on, or unlock off.".to_owned(),
        );
    }

    if let Some(on_premises) = &settings.on_premises
        && on_premises.password_writeback
    {
        if !facts.tenant_syncs {
            fail(
                "/onPremises/passwordWriteback",
                "Password writeback needs a tenant that synchronizes from on-premises Active Directory; this one does not.".to_owned(),
            );
        }
        if !facts.has_writeback_licence {
            fail(
                "/onPremises/passwordWriteback",
                "Password writeback needs Microsoft Entra ID P1 or P2, or Microsoft 365 Business Premium; the tenant has none of them.".to_owned(),
            );
        }
    }

    if let Some(days) = settings
        .methods_policy
        .registration_campaign
        .as_ref()
        .and_then(|c| c.snooze_duration_in_days)
        && !(0..=MAX_SNOOZE_DAYS).contains(&days)
    {
        let pointer = "/methodsPolicy/registrationCampaign/snoozeDurationInDays";
        fail(
            pointer,
            format!(
                "The registration campaign's snooze in days must be {}, not {days}.",
                rule(pointer)
            ),
        );
    }

    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// Why `link` cannot be the helpdesk link, if it cannot: too long for what it is, or neither
/// an https URL nor an e-mail address. A long link is not echoed back.
fn helpdesk_link_problem(link: &str) -> Option<String> {
    let length = link.chars().count();
    if length > MAX_HELPDESK_URL_CHARS {
        return Some(format!(
            "The helpdesk link must be an https URL of at most {MAX_HELPDESK_URL_CHARS} characters or an e-mail address of at most {MAX_HELPDESK_EMAIL_CHARS}; this one has {length} characters."
        ));
    }
    if is_https_url(link) {
        return None;
    }
    if is_email(link) {
        return (length > MAX_HELPDESK_EMAIL_CHARS).then(|| {
            format!(
                "An e-mail address as helpdesk link must be at most {MAX_HELPDESK_EMAIL_CHARS} characters; this one has {length}."
            )
        });
    }
    let shown: String = link.chars().take(80).collect();
    let cut = if length > 80 { "…" } else { "" };
    Some(format!(
        "The helpdesk link must be an https URL or an e-mail address, not '{shown}{cut}'; use null for no custom link."
    ))
}

fn is_https_url(link: &str) -> bool {
    url::Url::parse(link).is_ok_and(|url| url.scheme() == "https" && url.host().is_some())
}

/// A simple e-mail check: one `@`, a local part of RFC 5322 atom characters and dots, a dotted
/// domain of letters, digits and hyphens. A `mailto:` URL is not an address.
pub(crate) fn is_email(link: &str) -> bool {
    let Some((local, domain)) = link.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c))
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::change::fixtures::{settings, with};
    use crate::domain::change::{Enablement, OnPremises, ScopeKind, SecurityQuestionCounts};

    const FACTS: TenantFacts = TenantFacts {
        tenant_syncs: true,
        has_writeback_licence: true,
        methods_from_graph: false,
    };

    fn pointers(settings: &PolicySettings, facts: &TenantFacts) -> Vec<String> {
        match validate(settings, facts) {
            Ok(()) => vec![],
            Err(violations) => violations.into_iter().map(|v| v.pointer).collect(),
        }
    }

    fn violations(change: impl FnOnce(&mut PolicySettings)) -> Vec<String> {
        pointers(&with(change), &FACTS)
    }

    #[test]
    fn a_valid_policy_passes() {
        assert_eq!(validate(&settings(), &FACTS), Ok(()));
        assert_eq!(
            violations(|s| {
                s.methods_mut().security_questions = Some(true);
                let authentication = s.authentication_mut();
                authentication.methods_required = 1;
                authentication.security_questions.to_register = 3;
                authentication.security_questions.to_reset = 3;
                s.registration_mut().reconfirm_days = 730;
                s.customization_mut().helpdesk_link = Some("helpdesk@contoso.com".into());
                *s.on_premises_mut() = OnPremises {
                    password_writeback: true,
                    unlock_without_reset: true,
                };
                s.campaign_mut().snooze_duration_in_days = Some(14);
            }),
            Vec::<String>::new()
        );
        assert!(violations(|s| s.registration_mut().reconfirm_days = 0).is_empty());
        assert!(
            violations(|s| {
                *s.enablement_mut() = Enablement {
                    scope: ScopeKind::None,
                    group_id: None,
                }
            })
            .is_empty()
        );
    }

    #[test]
    fn methods_required_is_one_or_two() {
        for n in [0, 3] {
            assert_eq!(
                violations(|s| s.authentication_mut().methods_required = n),
                ["/authentication/methodsRequired"]
            );
        }
    }

    #[test]
    fn enough_usable_methods_for_the_count() {
        let v = validate(
            &with(|s| {
                let methods = s.methods_mut();
                methods.mobile_app_notification = Some(false);
                methods.mobile_app_code = Some(false);
                methods.mobile_phone = Some(false);
                methods.office_phone = Some(false);
            }),
            &FACTS,
        )
        .unwrap_err();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].pointer, "/methods");
        assert!(v[0].message.contains("only 1"), "{}", v[0].message);
    }

    #[test]
    fn the_mobile_app_cannot_be_the_only_method() {
        assert_eq!(
            violations(|s| {
                s.authentication_mut().methods_required = 1;
                let methods = s.methods_mut();
                methods.mobile_app_code = Some(false);
                methods.email = Some(false);
                methods.mobile_phone = Some(false);
                methods.office_phone = Some(false);
            }),
            ["/methods/mobileAppNotification"]
        );
        assert_eq!(
            violations(|s| {
                s.authentication_mut().methods_required = 1;
                let methods = s.methods_mut();
                methods.mobile_app_notification = Some(false);
                methods.email = Some(false);
                methods.mobile_phone = Some(false);
                methods.office_phone = Some(false);
            }),
            ["/methods/mobileAppCode"]
        );
    }

    #[test]
    fn with_two_required_the_mobile_app_needs_two_other_methods() {
        // Notification, code and email: enough methods, but only one besides the app.
        assert_eq!(
            violations(|s| {
                let methods = s.methods_mut();
                methods.mobile_phone = Some(false);
                methods.office_phone = Some(false);
            }),
            ["/methods/mobileAppNotification"]
        );
        assert!(violations(|s| s.methods_mut().office_phone = Some(false)).is_empty());
    }

    #[test]
    fn office_phone_needs_mobile_phone_under_the_methods_policy() {
        let settings = with(|s| s.methods_mut().mobile_phone = Some(false));
        let graph = TenantFacts {
            methods_from_graph: true,
            ..FACTS
        };
        assert_eq!(pointers(&settings, &graph), ["/methods/officePhone"]);
        assert!(
            pointers(&settings, &FACTS).is_empty(),
            "legacy toggles are independent"
        );
    }

    #[test]
    fn reconfirm_days_are_at_most_730() {
        assert_eq!(
            violations(|s| s.registration_mut().reconfirm_days = 731),
            ["/registration/reconfirmDays"]
        );
    }

    #[test]
    fn security_question_counts_apply_only_when_they_are_enabled() {
        let on = |register: u8, reset: u8| {
            violations(|s| {
                s.methods_mut().security_questions = Some(true);
                s.authentication_mut().security_questions = SecurityQuestionCounts {
                    to_register: register,
                    to_reset: reset,
                };
            })
        };
        assert_eq!(
            on(2, 3),
            [
                "/authentication/securityQuestions/toRegister",
                "/authentication/securityQuestions/toReset"
            ],
            "3 to reset also exceeds 2 to register"
        );
        assert_eq!(on(6, 3), ["/authentication/securityQuestions/toRegister"]);
        assert_eq!(on(5, 2), ["/authentication/securityQuestions/toReset"]);
        assert_eq!(on(5, 6), ["/authentication/securityQuestions/toReset"]);
        assert_eq!(on(4, 5), ["/authentication/securityQuestions/toReset"]);
        assert!(on(5, 5).is_empty());
        // Disabled: the counts are not used, so not checked.
        assert!(
            violations(|s| {
                s.authentication_mut().security_questions = SecurityQuestionCounts {
                    to_register: 9,
                    to_reset: 9,
                }
            })
            .is_empty()
        );
    }

    #[test]
    fn selected_scope_needs_one_group_guid() {
        assert_eq!(
            violations(|s| s.enablement_mut().group_id = None),
            ["/enablement/groupId"]
        );
        assert_eq!(
            violations(|s| s.enablement_mut().group_id = Some(String::new())),
            ["/enablement/groupId"]
        );
        assert_eq!(
            violations(|s| s.enablement_mut().group_id = Some("sspr-users".into())),
            ["/enablement/groupId"]
        );
    }

    #[test]
    fn helpdesk_link_is_an_https_url_or_an_email() {
        for bad in [
            "http://help.contoso.com",
            "ftp://help.contoso.com",
            "help.contoso.com",
            "call 555",
            "",
            "a@b",
            "a b@contoso.com",
            "mailto:helpdesk@contoso.com",
        ] {
            assert_eq!(
                violations(|s| s.customization_mut().helpdesk_link = Some(bad.into())),
                ["/customization/helpdeskLink"],
                "{bad}"
            );
        }
        for good in [
            "https://help.contoso.com/reset?x=1",
            "helpdesk@contoso.com",
            "it-help@mail.contoso.co.uk",
        ] {
            assert!(
                violations(|s| s.customization_mut().helpdesk_link = Some(good.into())).is_empty(),
                "{good}"
            );
        }
    }

    #[test]
    fn the_helpdesk_link_has_a_maximum_length() {
        let url = |length: usize| {
            let head = "https://help.contoso.com/";
            format!("{head}{}", "a".repeat(length - head.len()))
        };
        let email = |length: usize| {
            let tail = "@contoso.com";
            format!("{}{tail}", "a".repeat(length - tail.len()))
        };
        let check = |link: String| {
            validate(
                &with(|s| s.customization_mut().helpdesk_link = Some(link)),
                &FACTS,
            )
        };
        assert_eq!(check(url(MAX_HELPDESK_URL_CHARS)), Ok(()));
        assert_eq!(check(email(MAX_HELPDESK_EMAIL_CHARS)), Ok(()));
        for (link, says) in [
            (
                url(MAX_HELPDESK_URL_CHARS + 1),
                "this one has 2049 characters",
            ),
            (
                email(MAX_HELPDESK_EMAIL_CHARS + 1),
                "at most 254 characters; this one has 255",
            ),
            ("x".repeat(100_000), "this one has 100000 characters"),
        ] {
            let v = check(link).expect_err("too long");
            assert_eq!(v.len(), 1);
            assert_eq!(v[0].pointer, "/customization/helpdeskLink");
            assert!(v[0].message.contains(says), "{}", v[0].message);
            assert!(v[0].message.len() < 300, "not echoed: {}", v[0].message);
        }
        // A long malformed link is shown cut.
        let v = check(format!("call {}", "5".repeat(500))).expect_err("malformed");
        assert!(v[0].message.contains("…'"), "{}", v[0].message);
        assert!(v[0].message.len() < 300, "{}", v[0].message);
    }

    #[test]
    fn range_violations_say_the_same_rule_as_type_errors() {
        /// A change to the baseline settings.
        type Change = fn(&mut PolicySettings);
        let messages = |change: Change| match validate(&with(change), &FACTS) {
            Ok(()) => vec![],
            Err(violations) => violations
                .into_iter()
                .map(|v| (v.pointer, v.message))
                .collect(),
        };
        let changes: [(Change, &str); 4] = [
            (
                |s| s.authentication_mut().methods_required = 3,
                "/authentication/methodsRequired",
            ),
            (
                |s| s.registration_mut().reconfirm_days = 731,
                "/registration/reconfirmDays",
            ),
            (
                |s| {
                    s.methods_mut().security_questions = Some(true);
                    s.authentication_mut().security_questions.to_register = 6;
                },
                "/authentication/securityQuestions/toRegister",
            ),
            (
                |s| s.campaign_mut().snooze_duration_in_days = Some(15),
                "/methodsPolicy/registrationCampaign/snoozeDurationInDays",
            ),
        ];
        for (change, pointer) in changes {
            let found = messages(change);
            let (_, message) = found
                .iter()
                .find(|(p, _)| p == pointer)
                .unwrap_or_else(|| panic!("{pointer}: {found:?}"));
            let rule = expected(pointer).expect("a rule");
            assert!(message.contains(rule), "{message} / {rule}");
        }
    }

    #[test]
    fn array_elements_take_their_arrays_rule_and_non_fields_have_none() {
        assert_eq!(
            expected("/methodsPolicy/registrationCampaign/includeTargets/3"),
            Some("a group object id or all_users")
        );
        assert_eq!(
            expected("/methodsPolicy/registrationCampaign/excludeTargets/0"),
            Some("a group object id")
        );
        for pointer in [
            "",
            "/colour",
            "/methods/sms",
            "/registration/reconfirmDays/0",
            "/methodsPolicy/registrationCampaign/includeTargets/x",
        ] {
            assert_eq!(expected(pointer), None, "{pointer}");
        }
        assert_eq!(
            vocabulary("/methodsPolicy/migrationState"),
            Some(MIGRATION_STATES)
        );
        assert_eq!(vocabulary("/enablement/groupId"), None);
    }

    #[test]
    fn unlock_without_reset_needs_writeback() {
        let settings = with(|s| {
            *s.on_premises_mut() = OnPremises {
                password_writeback: false,
                unlock_without_reset: true,
            }
        });
        assert_eq!(
            pointers(&settings, &FACTS),
            ["/onPremises/unlockWithoutReset"]
        );
        let both = with(|s| {
            *s.on_premises_mut() = OnPremises {
                password_writeback: true,
                unlock_without_reset: true,
            }
        });
        assert!(pointers(&both, &FACTS).is_empty());
    }

    #[test]
    fn writeback_needs_a_syncing_tenant_and_a_licence() {
        let settings = with(|s| s.on_premises_mut().password_writeback = true);
        let cloud_only = TenantFacts {
            tenant_syncs: false,
            ..FACTS
        };
        assert_eq!(
            pointers(&settings, &cloud_only),
            ["/onPremises/passwordWriteback"]
        );
        let unlicensed = TenantFacts {
            has_writeback_licence: false,
            ..FACTS
        };
        let v = validate(&settings, &unlicensed).unwrap_err();
        assert_eq!(v[0].pointer, "/onPremises/passwordWriteback");
        assert!(v[0].message.contains("P1 or P2"), "{}", v[0].message);
        let neither = TenantFacts {
            tenant_syncs: false,
            has_writeback_licence: false,
            ..FACTS
        };
        assert_eq!(pointers(&settings, &neither).len(), 2);
        // Off: nothing to check.
        assert!(pointers(&crate::domain::change::fixtures::settings(), &neither).is_empty());
    }

    #[test]
    fn campaign_snooze_is_0_to_14_days() {
        for days in [-1, 15] {
            assert_eq!(
                violations(|s| s.campaign_mut().snooze_duration_in_days = Some(days)),
                ["/methodsPolicy/registrationCampaign/snoozeDurationInDays"]
            );
        }
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        assert_eq!(
            violations(|s| {
                s.authentication_mut().methods_required = 3;
                s.registration_mut().reconfirm_days = 1000;
                s.customization_mut().helpdesk_link = Some("nope".into());
                s.campaign_mut().snooze_duration_in_days = Some(30);
            }),
            [
                "/authentication/methodsRequired",
                "/registration/reconfirmDays",
                "/customization/helpdeskLink",
                "/methodsPolicy/registrationCampaign/snoozeDurationInDays"
            ]
        );
    }

    #[test]
    fn groups_without_a_source_are_not_checked() {
        use crate::domain::change::fixtures::methods_policy;
        use crate::domain::methods::MigrationState;
        let settings =
            PolicySettings::from_parts(None, &methods_policy(MigrationState::PreMigration), false);
        assert_eq!(validate(&settings, &TenantFacts::default()), Ok(()));
    }
}
