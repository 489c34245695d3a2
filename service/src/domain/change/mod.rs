//! Changing the SSPR policy (DESIGN.md §4, issue 4), one concept per module: the editable
//! settings and their sources, why a change is refused, the portal update, and the plan of
//! typed upstream changes with their undo. The merge patch and the diff, which work on the
//! document's JSON by nature, are in `ops::policy::merge_patch`.
//!
//! Pure: no I/O.

mod error;
mod plan;
mod portal_update;
mod settings;

pub use error::*;
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

    /// [`settings`] as `change` leaves them: the typed stand-in for a caller's merge patch.
    pub fn with(change: impl FnOnce(&mut PolicySettings)) -> PolicySettings {
        let mut settings = settings();
        change(&mut settings);
        settings
    }

    /// The groups of settings read from the portal, which [`settings`] all has, to change in
    /// [`with`].
    impl PolicySettings {
        pub fn enablement_mut(&mut self) -> &mut Enablement {
            self.enablement
                .as_mut()
                .expect("the fixture has enablement")
        }
        pub fn authentication_mut(&mut self) -> &mut Authentication {
            self.authentication
                .as_mut()
                .expect("the fixture has authentication")
        }
        pub fn methods_mut(&mut self) -> &mut Methods {
            self.methods.as_mut().expect("the fixture has methods")
        }
        pub fn registration_mut(&mut self) -> &mut RegistrationSettings {
            self.registration
                .as_mut()
                .expect("the fixture has registration")
        }
        pub fn notifications_mut(&mut self) -> &mut Notifications {
            self.notifications
                .as_mut()
                .expect("the fixture has notifications")
        }
        pub fn customization_mut(&mut self) -> &mut Customization {
            self.customization
                .as_mut()
                .expect("the fixture has customization")
        }
        pub fn on_premises_mut(&mut self) -> &mut OnPremises {
            self.on_premises
                .as_mut()
                .expect("the fixture has on-premises settings")
        }
        pub fn campaign_mut(&mut self) -> &mut GraphCampaign {
            self.methods_policy
                .registration_campaign
                .as_mut()
                .expect("the fixture has a campaign")
        }
    }
}
