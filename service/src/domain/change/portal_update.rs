//! The values a change sets in the portal's password-reset object.

use crate::domain::portal::{LegacyMethods, PortalSettings, Scope};

/// Values to set in the portal's `PasswordResetPolicies`; `None` leaves a field as it is. The
/// adapter reads the whole object, sets these, and writes the whole object back, so fields we do
/// not model are kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasswordResetPoliciesUpdate {
    /// A `Selected` scope carries no group name; the adapter keeps or resolves it.
    pub scope: Option<Scope>,
    pub methods_required: Option<u8>,
    pub mobile_app_notification: Option<bool>,
    pub mobile_app_code: Option<bool>,
    pub email: Option<bool>,
    pub mobile_phone: Option<bool>,
    pub office_phone: Option<bool>,
    pub security_questions: Option<bool>,
    pub security_questions_to_register: Option<u8>,
    pub security_questions_to_reset: Option<u8>,
    pub require_registration_on_sign_in: Option<bool>,
    pub reconfirm_days: Option<u16>,
    pub notify_users_on_reset: Option<bool>,
    pub notify_admins_on_admin_reset: Option<bool>,
    /// `Some(None)`: not customized.
    pub helpdesk_link: Option<Option<String>>,
}

impl PasswordResetPoliciesUpdate {
    /// The legacy method toggles this update sets, applied to `current`.
    pub fn apply_methods(&self, current: LegacyMethods) -> LegacyMethods {
        LegacyMethods {
            mobile_app_notification: self
                .mobile_app_notification
                .unwrap_or(current.mobile_app_notification),
            mobile_app_code: self.mobile_app_code.unwrap_or(current.mobile_app_code),
            email: self.email.unwrap_or(current.email),
            mobile_phone: self.mobile_phone.unwrap_or(current.mobile_phone),
            office_phone: self.office_phone.unwrap_or(current.office_phone),
            security_questions: self
                .security_questions
                .unwrap_or(current.security_questions),
        }
    }

    /// The whole password-reset settings this update makes of `current`. A `Selected` scope
    /// without a group name keeps the current name when the group is unchanged, and has no name
    /// (the portal resolves it) when the group changes. On-premises settings are not touched.
    pub fn apply_to(&self, current: &PortalSettings) -> PortalSettings {
        let scope = match (&self.scope, &current.scope) {
            (None, scope) => scope.clone(),
            (
                Some(Scope::Selected {
                    group_id,
                    group_name: None,
                }),
                Scope::Selected {
                    group_id: current_id,
                    group_name,
                },
            ) if group_id.eq_ignore_ascii_case(current_id) => Scope::Selected {
                group_id: group_id.clone(),
                group_name: group_name.clone(),
            },
            (Some(scope), _) => scope.clone(),
        };
        PortalSettings {
            scope,
            methods_required: self.methods_required.unwrap_or(current.methods_required),
            methods: self.apply_methods(current.methods),
            security_questions_to_register: self
                .security_questions_to_register
                .unwrap_or(current.security_questions_to_register),
            security_questions_to_reset: self
                .security_questions_to_reset
                .unwrap_or(current.security_questions_to_reset),
            require_registration_on_sign_in: self
                .require_registration_on_sign_in
                .unwrap_or(current.require_registration_on_sign_in),
            reconfirm_days: self.reconfirm_days.unwrap_or(current.reconfirm_days),
            notify_users_on_reset: self
                .notify_users_on_reset
                .unwrap_or(current.notify_users_on_reset),
            notify_admins_on_admin_reset: self
                .notify_admins_on_admin_reset
                .unwrap_or(current.notify_admins_on_admin_reset),
            helpdesk_link: self
                .helpdesk_link
                .clone()
                .unwrap_or_else(|| current.helpdesk_link.clone()),
            on_premises: current.on_premises,
        }
    }
}
