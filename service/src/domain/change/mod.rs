//! Changing the SSPR policy (DESIGN.md §4, issue 4), one concept per module: the editable
//! settings and their sources, the merge patch and diff over them, the portal update, and the
//! plan of upstream calls with its undo.
//!
//! Pure: no I/O.

mod merge_patch;
mod plan;
mod portal_update;
mod settings;

pub use merge_patch::*;
pub use plan::*;
pub use portal_update::*;
pub use settings::*;

/// Settings and policies for the domain's unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::domain::methods::RegistrationCampaign as GraphCampaign;
    use crate::domain::methods::{MethodConfiguration, MethodsPolicy, MigrationState};
    use crate::domain::policy::Source;
    use crate::domain::portal::OnPremisesSettings;
    use crate::domain::portal::{LegacyMethods, PortalSettings, Scope};

    pub const GROUP: &str = "3ee3a9de-0a86-4e12-a287-9769accf1ba2";

    pub fn portal() -> PortalSettings {
        PortalSettings {
            scope: Scope::Selected {
                group_id: GROUP.to_owned(),
                group_name: Some("SSPR users".to_owned()),
            },
            methods_required: 2,
            methods: LegacyMethods {
                mobile_app_notification: true,
                mobile_app_code: true,
                email: true,
                mobile_phone: true,
                office_phone: true,
                security_questions: false,
            },
            security_questions_to_register: 5,
            security_questions_to_reset: 3,
            require_registration_on_sign_in: true,
            reconfirm_days: 180,
            notify_users_on_reset: true,
            notify_admins_on_admin_reset: true,
            helpdesk_link: Some("https://help.contoso.com/sspr".to_owned()),
            on_premises: Some(OnPremisesSettings {
                password_writeback: false,
                unlock_without_reset: false,
                unlock_supported: true,
            }),
        }
    }

    pub fn configuration(id: &str, enabled: bool) -> MethodConfiguration {
        MethodConfiguration {
            id: id.to_owned(),
            enabled,
            include_targets: vec!["all_users".to_owned()],
            exclude_targets: vec![],
            software_oath_enabled: false,
            office_phone_allowed: false,
        }
    }

    pub fn methods_policy(state: MigrationState) -> MethodsPolicy {
        MethodsPolicy {
            migration_state: state,
            reconfirmation_in_days: None,
            policy_version: Some("1.5".to_owned()),
            last_modified: None,
            registration_campaign: Some(GraphCampaign {
                state: "enabled".to_owned(),
                snooze_duration_in_days: Some(1),
                include_targets: vec!["all_users".to_owned()],
                exclude_targets: vec![],
            }),
            configurations: vec![
                configuration("MicrosoftAuthenticator", true),
                configuration("SoftwareOath", false),
                configuration("Email", true),
                configuration("Sms", true),
                configuration("Voice", false),
            ],
        }
    }

    /// Pre-migration, portal connected: every group known, methods from the portal.
    pub fn settings() -> PolicySettings {
        PolicySettings::from_parts(
            Some(&portal()),
            &methods_policy(MigrationState::PreMigration),
            false,
        )
    }

    pub fn portal_sources() -> Sources {
        Sources::new(Source::Portal, false)
    }
}
