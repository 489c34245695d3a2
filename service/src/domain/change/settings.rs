//! The editable settings of the SSPR policy, grouped as the policy document is, and the source
//! each group comes from (which decides where a change to it goes).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::methods::{MethodsPolicy, MigrationState, RegistrationCampaign};
use crate::domain::policy::Source;
use crate::domain::portal::{PortalSettings, Scope};

// ---------------------------------------------------------------------------------------------
// The editable settings.
// ---------------------------------------------------------------------------------------------

/// Every setting a caller can change, grouped as the policy document is. A group (or, in
/// `methods`, a field) is `null` when its source cannot be read for this tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySettings {
    pub enablement: Option<Enablement>,
    pub authentication: Option<Authentication>,
    pub methods: Option<Methods>,
    pub registration: Option<RegistrationSettings>,
    pub notifications: Option<Notifications>,
    pub customization: Option<Customization>,
    pub on_premises: Option<OnPremises>,
    pub administrators: Administrators,
    pub methods_policy: MethodsPolicySettings,
}

/// Who SSPR is enabled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ScopeKind {
    None,
    /// One group, named by `groupId`.
    Selected,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Enablement {
    pub scope: ScopeKind,
    /// The one group SSPR is enabled for when `scope` is `selected`; dropped for other scopes.
    #[serde(default)]
    pub group_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Authentication {
    /// Methods required to reset: 1 or 2.
    pub methods_required: u8,
    pub security_questions: SecurityQuestionCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityQuestionCounts {
    /// Questions a user registers: 3–5.
    pub to_register: u8,
    /// Questions asked at reset: 3–5, at most `toRegister`.
    pub to_reset: u8,
}

/// The legacy SSPR methods (the portal's names): whether each is usable for reset. The first five
/// come from the Authentication methods policy once the tenant migrates; security questions are
/// legacy-only and always held by the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Methods {
    pub mobile_app_notification: Option<bool>,
    pub mobile_app_code: Option<bool>,
    pub email: Option<bool>,
    pub mobile_phone: Option<bool>,
    pub office_phone: Option<bool>,
    pub security_questions: Option<bool>,
}

impl Methods {
    /// The methods known to be usable, as `(JSON name, usable)` in document order.
    pub fn entries(&self) -> [(&'static str, Option<bool>); 6] {
        [
            ("mobileAppNotification", self.mobile_app_notification),
            ("mobileAppCode", self.mobile_app_code),
            ("email", self.email),
            ("mobilePhone", self.mobile_phone),
            ("officePhone", self.office_phone),
            ("securityQuestions", self.security_questions),
        ]
    }

    /// Usable methods that are not the mobile app.
    pub fn usable_besides_mobile_app(&self) -> usize {
        self.entries()
            .iter()
            .filter(|(name, usable)| !name.starts_with("mobileApp") && *usable == Some(true))
            .count()
    }

    pub fn mobile_app_usable(&self) -> bool {
        self.mobile_app_notification == Some(true) || self.mobile_app_code == Some(true)
    }

    pub fn usable(&self) -> usize {
        self.entries()
            .iter()
            .filter(|(_, usable)| *usable == Some(true))
            .count()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationSettings {
    pub require_registration_on_sign_in: bool,
    /// Days before users are asked to reconfirm: 0 (never) to 730.
    pub reconfirm_days: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Notifications {
    pub notify_users_on_reset: bool,
    pub notify_admins_on_admin_reset: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Customization {
    /// An https URL or an e-mail address; `null` when not customized.
    #[serde(default)]
    pub helpdesk_link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnPremises {
    pub password_writeback: bool,
    pub unlock_without_reset: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Administrators {
    /// `authorizationPolicy.allowedToUseSSPR`: whether administrators may use SSPR.
    pub allowed_to_use_sspr: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MethodsPolicySettings {
    /// `preMigration`, `migrationInProgress`, `migrationComplete`, or what Graph sent.
    pub migration_state: String,
    pub reconfirmation_in_days: Option<i32>,
    pub registration_campaign: Option<RegistrationCampaign>,
}

/// Whether the methods usable for reset are governed by the Authentication methods policy
/// (migration in progress or complete) rather than the legacy SSPR policy held by the portal.
pub fn methods_from_graph(state: &MigrationState) -> bool {
    matches!(
        state,
        MigrationState::MigrationInProgress | MigrationState::MigrationComplete
    )
}

impl PolicySettings {
    /// The settings as read: the portal's (when its connector is configured), the methods policy
    /// and admin SSPR from Graph.
    pub fn from_parts(
        portal: Option<&PortalSettings>,
        methods_policy: &MethodsPolicy,
        admin_sspr: bool,
    ) -> PolicySettings {
        let legacy = portal.map(|p| p.methods);
        let methods = if methods_from_graph(&methods_policy.migration_state) {
            let reset = methods_policy.reset_methods();
            Some(Methods {
                mobile_app_notification: Some(reset.mobile_app_notification.usable),
                mobile_app_code: Some(reset.mobile_app_code.usable),
                email: Some(reset.email.usable),
                mobile_phone: Some(reset.mobile_phone.usable),
                office_phone: Some(reset.office_phone.usable),
                security_questions: legacy.map(|m| m.security_questions),
            })
        } else {
            legacy.map(|m| Methods {
                mobile_app_notification: Some(m.mobile_app_notification),
                mobile_app_code: Some(m.mobile_app_code),
                email: Some(m.email),
                mobile_phone: Some(m.mobile_phone),
                office_phone: Some(m.office_phone),
                security_questions: Some(m.security_questions),
            })
        };
        PolicySettings {
            enablement: portal.map(|p| match &p.scope {
                Scope::None => Enablement {
                    scope: ScopeKind::None,
                    group_id: None,
                },
                Scope::Selected { group_id, .. } => Enablement {
                    scope: ScopeKind::Selected,
                    group_id: Some(group_id.clone()),
                },
                Scope::All => Enablement {
                    scope: ScopeKind::All,
                    group_id: None,
                },
            }),
            authentication: portal.map(|p| Authentication {
                methods_required: p.methods_required,
                security_questions: SecurityQuestionCounts {
                    to_register: p.security_questions_to_register,
                    to_reset: p.security_questions_to_reset,
                },
            }),
            methods,
            registration: portal.map(|p| RegistrationSettings {
                require_registration_on_sign_in: p.require_registration_on_sign_in,
                reconfirm_days: p.reconfirm_days,
            }),
            notifications: portal.map(|p| Notifications {
                notify_users_on_reset: p.notify_users_on_reset,
                notify_admins_on_admin_reset: p.notify_admins_on_admin_reset,
            }),
            customization: portal.map(|p| Customization {
                helpdesk_link: p.helpdesk_link.clone(),
            }),
            on_premises: portal.and_then(|p| p.on_premises).map(|o| OnPremises {
                password_writeback: o.password_writeback,
                unlock_without_reset: o.unlock_without_reset,
            }),
            administrators: Administrators {
                allowed_to_use_sspr: admin_sspr,
            },
            methods_policy: MethodsPolicySettings {
                migration_state: methods_policy.migration_state.as_graph().to_owned(),
                reconfirmation_in_days: methods_policy.reconfirmation_in_days,
                registration_campaign: methods_policy.registration_campaign.clone(),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sources.
// ---------------------------------------------------------------------------------------------

/// Where each group of settings comes from, and so which upstream a change goes to. Only `graph`
/// and `portal` fields can be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    pub enablement: Source,
    pub authentication: Source,
    /// The five methods the methods policy can express; security questions follow
    /// `authentication` (they are legacy-only and live in the same portal object).
    pub methods: Source,
    pub registration: Source,
    pub notifications: Source,
    pub customization: Source,
    pub on_premises: Source,
    pub administrators: Source,
    pub methods_policy: Source,
}

impl Sources {
    /// The usual map: `portal` (`Portal`, or `Unavailable` without the connector) for the
    /// portal-held groups; Graph for administrators and the methods policy, and for the methods
    /// when the tenant is migrating or migrated.
    pub fn new(portal: Source, methods_from_graph: bool) -> Sources {
        Sources {
            enablement: portal,
            authentication: portal,
            methods: if methods_from_graph {
                Source::Graph
            } else {
                portal
            },
            registration: portal,
            notifications: portal,
            customization: portal,
            on_premises: portal,
            administrators: Source::Graph,
            methods_policy: Source::Graph,
        }
    }

    /// The source of the field at `pointer` (a JSON pointer into the settings).
    pub fn of(&self, pointer: &str) -> Source {
        if pointer == "/methods/securityQuestions" {
            return self.authentication;
        }
        let group = pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        match group {
            "enablement" => self.enablement,
            "authentication" => self.authentication,
            "methods" => self.methods,
            "registration" => self.registration,
            "notifications" => self.notifications,
            "customization" => self.customization,
            "onPremises" => self.on_premises,
            "administrators" => self.administrators,
            "methodsPolicy" => self.methods_policy,
            _ => Source::Unavailable,
        }
    }
}

pub fn writable(source: Source) -> bool {
    matches!(source, Source::Graph | Source::Portal)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    // -- from_parts -------------------------------------------------------------------------

    #[test]
    fn from_parts_takes_portal_groups_and_legacy_methods_before_migration() {
        let s = settings();
        assert_eq!(
            s.enablement,
            Some(Enablement {
                scope: ScopeKind::Selected,
                group_id: Some(GROUP.to_owned())
            })
        );
        assert_eq!(s.authentication.as_ref().unwrap().methods_required, 2);
        assert_eq!(s.methods.unwrap().office_phone, Some(true));
        assert_eq!(s.methods.unwrap().security_questions, Some(false));
        assert_eq!(
            s.on_premises,
            Some(OnPremises {
                password_writeback: false,
                unlock_without_reset: false
            })
        );
        assert_eq!(s.methods_policy.migration_state, "preMigration");
        assert_eq!(
            s.methods_policy
                .registration_campaign
                .as_ref()
                .unwrap()
                .state,
            "enabled"
        );
        assert!(!s.administrators.allowed_to_use_sspr);
    }

    #[test]
    fn from_parts_takes_methods_from_the_methods_policy_once_migrated() {
        let s = PolicySettings::from_parts(
            Some(&portal()),
            &methods_policy(MigrationState::MigrationComplete),
            true,
        );
        let methods = s.methods.unwrap();
        assert_eq!(methods.mobile_app_notification, Some(true));
        assert_eq!(methods.mobile_app_code, Some(false), "no software OATH");
        assert_eq!(methods.email, Some(true));
        assert_eq!(methods.mobile_phone, Some(true));
        assert_eq!(
            methods.office_phone,
            Some(false),
            "portal says true, Graph rules"
        );
        assert_eq!(
            methods.security_questions,
            Some(false),
            "legacy-only, from the portal"
        );
        assert!(s.administrators.allowed_to_use_sspr);
    }

    #[test]
    fn from_parts_without_portal_leaves_portal_groups_null() {
        let s = PolicySettings::from_parts(
            None,
            &methods_policy(MigrationState::MigrationInProgress),
            false,
        );
        assert!(s.enablement.is_none() && s.authentication.is_none());
        assert!(s.registration.is_none() && s.notifications.is_none());
        assert!(s.customization.is_none() && s.on_premises.is_none());
        assert_eq!(s.methods.unwrap().security_questions, None);
        assert_eq!(s.methods.unwrap().email, Some(true));

        let pre =
            PolicySettings::from_parts(None, &methods_policy(MigrationState::PreMigration), false);
        assert!(pre.methods.is_none(), "legacy methods need the portal");
    }
}
