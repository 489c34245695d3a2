//! The plan of upstream changes that makes a change, Graph first, then the portal, each with the
//! change that undoes it. Each change is a typed intent in domain terms; the directory adapters
//! turn intents into requests (paths and bodies in the upstream's wire format) and render them for a dry run.

use super::error::ChangeError;
use super::portal_update::PasswordResetPoliciesUpdate;
use super::settings::*;
use crate::domain::methods::{MethodConfiguration, MethodsPolicy, RegistrationCampaign};
use crate::domain::policy::Source;
use crate::domain::portal::Scope;

/// One change to make upstream, in domain terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Set fields of the Authentication methods policy itself.
    SetMethodsPolicy(MethodsPolicyUpdate),
    /// Set properties of one method configuration of the methods policy.
    SetMethodConfiguration(MethodConfigurationUpdate),
    /// Whether administrators may use SSPR (the authorization policy).
    SetAdminSspr(bool),
    /// Read-modify-write of the whole portal password-reset object with these fields set.
    PutPortalPasswordReset(PasswordResetPoliciesUpdate),
    /// Password writeback on or off (its own write: combined writes do not stick).
    SetWriteback(bool),
    /// Unlocking accounts without a reset on or off (its own write).
    SetUnlock(bool),
}

impl Intent {
    /// The upstream that holds what the intent changes.
    pub fn target(&self) -> Source {
        match self {
            Intent::SetMethodsPolicy(_)
            | Intent::SetMethodConfiguration(_)
            | Intent::SetAdminSspr(_) => Source::Graph,
            Intent::PutPortalPasswordReset(_) | Intent::SetWriteback(_) | Intent::SetUnlock(_) => {
                Source::Portal
            }
        }
    }
}

/// Fields of the methods policy to set; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MethodsPolicyUpdate {
    pub migration_state: Option<String>,
    /// `Some(None)`: no reconfirmation interval.
    pub reconfirmation_in_days: Option<Option<i32>>,
    /// The whole campaign: the upstream replaces it whole.
    pub registration_campaign: Option<RegistrationCampaign>,
}

impl MethodsPolicyUpdate {
    fn is_empty(&self) -> bool {
        *self == MethodsPolicyUpdate::default()
    }
}

/// Properties of one method configuration to set; `None` leaves a property as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MethodConfigurationUpdate {
    /// The configuration's id as read (`Email`, `Sms`, …): it also names its kind.
    pub id: String,
    pub enabled: Option<bool>,
    /// `Some(true)`: target all users; `Some(false)`: target nobody (the undo of the former).
    pub targets_all_users: Option<bool>,
    pub software_oath_enabled: Option<bool>,
    pub office_phone_allowed: Option<bool>,
}

impl MethodConfigurationUpdate {
    fn new(id: &str) -> MethodConfigurationUpdate {
        MethodConfigurationUpdate {
            id: id.to_owned(),
            ..Default::default()
        }
    }

    fn is_empty(&self) -> bool {
        *self == MethodConfigurationUpdate::new(&self.id)
    }
}

/// One field the change sets, and the upstream it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedField<'a> {
    /// JSON pointer into the settings (the PATCH document's names), e.g. `/methods/email`.
    pub pointer: &'a str,
    pub source: Source,
}

/// One change and the change that undoes it (the same fields set back to their values before).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStep {
    pub call: Intent,
    pub compensation: Intent,
}

/// The changes that make the fields changed, Graph first, then the portal.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePlan {
    pub steps: Vec<PlannedStep>,
}

impl ChangePlan {
    /// Plans the change from `before` to `after`, whose differing fields are `changes`.
    /// `methods_policy` is the policy as read (its configurations decide which method
    /// configurations to touch and how to undo it).
    pub fn new(
        before: &PolicySettings,
        after: &PolicySettings,
        changes: &[ChangedField<'_>],
        methods_policy: &MethodsPolicy,
    ) -> Result<ChangePlan, ChangeError> {
        if let Some(change) = changes.iter().find(|c| !writable(c.source)) {
            return Err(ChangeError::SourceUnavailable {
                pointer: change.pointer.to_owned(),
                origin: change.source,
            });
        }
        let mut steps = Vec::new();
        let changed = |prefix: &str, source: Source| {
            changes
                .iter()
                .any(|c| c.source == source && c.pointer.starts_with(prefix))
        };

        // Graph: the methods policy itself.
        if let Some(step) = methods_policy_step(&before.methods_policy, &after.methods_policy) {
            steps.push(step);
        }
        // Graph: method configurations, when the methods come from the methods policy.
        if changed("/methods/", Source::Graph)
            && let (Some(b), Some(a)) = (before.methods, after.methods)
        {
            steps.extend(configuration_steps(&b, &a, methods_policy));
        }
        // Graph: admin SSPR.
        if before.administrators != after.administrators {
            steps.push(PlannedStep {
                call: Intent::SetAdminSspr(after.administrators.allowed_to_use_sspr),
                compensation: Intent::SetAdminSspr(before.administrators.allowed_to_use_sspr),
            });
        }
        // Portal: the password reset policy, then writeback, then unlock.
        let portal_changes: Vec<&str> = changes
            .iter()
            .filter(|c| c.source == Source::Portal && !c.pointer.starts_with("/onPremises/"))
            .map(|c| c.pointer)
            .collect();
        if !portal_changes.is_empty() {
            let update = |settings: &PolicySettings| {
                Intent::PutPortalPasswordReset(portal_update(
                    settings,
                    portal_changes.iter().copied(),
                ))
            };
            steps.push(PlannedStep {
                call: update(after),
                compensation: update(before),
            });
        }
        if let (Some(b), Some(a)) = (&before.on_premises, &after.on_premises) {
            let writeback = (b.password_writeback != a.password_writeback).then_some(PlannedStep {
                call: Intent::SetWriteback(a.password_writeback),
                compensation: Intent::SetWriteback(b.password_writeback),
            });
            let unlock =
                (b.unlock_without_reset != a.unlock_without_reset).then_some(PlannedStep {
                    call: Intent::SetUnlock(a.unlock_without_reset),
                    compensation: Intent::SetUnlock(b.unlock_without_reset),
                });
            // Unlock needs writeback: switch unlock off before writeback, and writeback on
            // before unlock, so every step (and every undo, in reverse) is accepted.
            if a.password_writeback {
                steps.extend(writeback.into_iter().chain(unlock));
            } else {
                steps.extend(unlock.into_iter().chain(writeback));
            }
        }
        Ok(ChangePlan { steps })
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The changes that undo the first `completed` steps, last first.
    pub fn compensations(&self, completed: usize) -> Vec<&Intent> {
        self.steps[..completed.min(self.steps.len())]
            .iter()
            .rev()
            .map(|s| &s.compensation)
            .collect()
    }
}

fn methods_policy_step(
    before: &MethodsPolicySettings,
    after: &MethodsPolicySettings,
) -> Option<PlannedStep> {
    let mut call = MethodsPolicyUpdate::default();
    let mut undo = MethodsPolicyUpdate::default();
    if before.migration_state != after.migration_state {
        call.migration_state = Some(after.migration_state.clone());
        undo.migration_state = Some(before.migration_state.clone());
    }
    if before.reconfirmation_in_days != after.reconfirmation_in_days {
        call.reconfirmation_in_days = Some(after.reconfirmation_in_days);
        undo.reconfirmation_in_days = Some(before.reconfirmation_in_days);
    }
    if before.registration_campaign != after.registration_campaign {
        // The upstream replaces the campaign whole, so it is always set complete.
        call.registration_campaign = after.registration_campaign.clone();
        // With no campaign before there is nothing to restore it to.
        undo.registration_campaign = before.registration_campaign.clone();
    }
    if call.is_empty() {
        return None;
    }
    Some(PlannedStep {
        call: Intent::SetMethodsPolicy(call),
        compensation: Intent::SetMethodsPolicy(undo),
    })
}

/// What one method configuration should become; `None` leaves a property as it is.
#[derive(Default)]
struct Desired {
    in_effect: Option<bool>,
    software_oath: Option<bool>,
    office_phone: Option<bool>,
}

/// The method configurations behind the legacy methods (graph-api.md §1.8), in call order.
const CONFIGURATIONS: [&str; 5] = [
    "MicrosoftAuthenticator",
    "SoftwareOath",
    "Email",
    "Sms",
    "Voice",
];

/// Configuration changes that make the legacy methods of `after` usable and the others not:
/// mobile app notification ↔ MicrosoftAuthenticator; mobile app code ↔ the Authenticator's
/// software OATH, or SoftwareOath when the Authenticator is off; email ↔ Email; mobile phone ↔
/// Sms and Voice; office phone ↔ Voice with office phone allowed.
fn configuration_steps(
    before: &Methods,
    after: &Methods,
    policy: &MethodsPolicy,
) -> Vec<PlannedStep> {
    let on = |v: Option<bool>| v == Some(true);
    let mut desired: [Desired; 5] = Default::default();
    if before.mobile_app_notification != after.mobile_app_notification
        || before.mobile_app_code != after.mobile_app_code
    {
        let (notification, code) = (on(after.mobile_app_notification), on(after.mobile_app_code));
        desired[0] = Desired {
            in_effect: Some(notification),
            software_oath: Some(code && notification),
            office_phone: None,
        };
        desired[1].in_effect = match (code, notification) {
            (false, _) => Some(false),
            (true, false) => Some(true),
            (true, true) => None,
        };
    }
    if before.email != after.email {
        desired[2].in_effect = Some(on(after.email));
    }
    if before.mobile_phone != after.mobile_phone || before.office_phone != after.office_phone {
        let (mobile, office) = (on(after.mobile_phone), on(after.office_phone));
        desired[3].in_effect = Some(mobile);
        desired[4] = Desired {
            in_effect: Some(mobile || office),
            software_oath: None,
            office_phone: Some(office),
        };
    }

    let mut steps = Vec::new();
    for (id, want) in CONFIGURATIONS.iter().zip(desired) {
        let current = policy
            .configurations
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(id))
            .cloned()
            .unwrap_or_else(|| MethodConfiguration {
                id: (*id).to_owned(),
                enabled: false,
                include_targets: vec![],
                exclude_targets: vec![],
                software_oath_enabled: false,
                office_phone_allowed: false,
            });
        let mut call = MethodConfigurationUpdate::new(&current.id);
        let mut undo = MethodConfigurationUpdate::new(&current.id);
        let in_effect = current.enabled && !current.include_targets.is_empty();
        match want.in_effect {
            Some(true) if !in_effect => {
                if !current.enabled {
                    call.enabled = Some(true);
                    undo.enabled = Some(false);
                }
                if current.include_targets.is_empty() {
                    // Enabled with no target enables nobody: target everyone.
                    call.targets_all_users = Some(true);
                    undo.targets_all_users = Some(false);
                }
            }
            Some(false) if in_effect => {
                call.enabled = Some(false);
                undo.enabled = Some(true);
            }
            _ => {}
        }
        if let Some(wanted) = want.software_oath
            && wanted != current.software_oath_enabled
        {
            call.software_oath_enabled = Some(wanted);
            undo.software_oath_enabled = Some(current.software_oath_enabled);
        }
        if let Some(wanted) = want.office_phone
            && wanted != current.office_phone_allowed
        {
            call.office_phone_allowed = Some(wanted);
            undo.office_phone_allowed = Some(current.office_phone_allowed);
        }
        if !call.is_empty() {
            steps.push(PlannedStep {
                call: Intent::SetMethodConfiguration(call),
                compensation: Intent::SetMethodConfiguration(undo),
            });
        }
    }
    steps
}

/// The portal update setting, from `settings`, the fields at `pointers`.
fn portal_update<'a>(
    settings: &PolicySettings,
    pointers: impl Iterator<Item = &'a str>,
) -> PasswordResetPoliciesUpdate {
    let mut update = PasswordResetPoliciesUpdate::default();
    let auth = settings.authentication.as_ref();
    let methods = settings.methods.as_ref();
    let registration = settings.registration.as_ref();
    let notifications = settings.notifications.as_ref();
    for pointer in pointers {
        match pointer {
            "/enablement/scope" | "/enablement/groupId" => {
                update.scope = settings.enablement.as_ref().map(|e| match e.scope {
                    ScopeKind::None => Scope::None,
                    ScopeKind::All => Scope::All,
                    ScopeKind::Selected => Scope::Selected {
                        group_id: e.group_id.clone().unwrap_or_default(),
                        group_name: None,
                    },
                });
            }
            "/authentication/methodsRequired" => {
                update.methods_required = auth.map(|a| a.methods_required);
            }
            "/authentication/securityQuestions/toRegister" => {
                update.security_questions_to_register =
                    auth.map(|a| a.security_questions.to_register);
            }
            "/authentication/securityQuestions/toReset" => {
                update.security_questions_to_reset = auth.map(|a| a.security_questions.to_reset);
            }
            "/methods/mobileAppNotification" => {
                update.mobile_app_notification = methods.and_then(|m| m.mobile_app_notification);
            }
            "/methods/mobileAppCode" => {
                update.mobile_app_code = methods.and_then(|m| m.mobile_app_code);
            }
            "/methods/email" => update.email = methods.and_then(|m| m.email),
            "/methods/mobilePhone" => update.mobile_phone = methods.and_then(|m| m.mobile_phone),
            "/methods/officePhone" => update.office_phone = methods.and_then(|m| m.office_phone),
            "/methods/securityQuestions" => {
                update.security_questions = methods.and_then(|m| m.security_questions);
            }
            "/registration/requireRegistrationOnSignIn" => {
                update.require_registration_on_sign_in =
                    registration.map(|r| r.require_registration_on_sign_in);
            }
            "/registration/reconfirmDays" => {
                update.reconfirm_days = registration.map(|r| r.reconfirm_days);
            }
            "/notifications/notifyUsersOnReset" => {
                update.notify_users_on_reset = notifications.map(|n| n.notify_users_on_reset);
            }
            "/notifications/notifyAdminsOnAdminReset" => {
                update.notify_admins_on_admin_reset =
                    notifications.map(|n| n.notify_admins_on_admin_reset);
            }
            "/customization/helpdeskLink" => {
                update.helpdesk_link = settings
                    .customization
                    .as_ref()
                    .map(|c| c.helpdesk_link.clone());
            }
            _ => {}
        }
    }
    update
}
