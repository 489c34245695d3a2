//! The tenant's Authentication methods policy as the domain sees it, and the mapping from its
//! method configurations to the legacy SSPR methods (graph-api.md §1.8).

pub use sspr_api::policy::{RegistrationCampaign, ResetMethodStatus, ResetMethods};

/// Where the tenant is in moving from the legacy MFA/SSPR policies to the methods policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    /// The methods policy governs sign-in only; the legacy SSPR policy decides reset methods.
    PreMigration,
    /// Both policies count for SSPR (a method enabled in either is usable).
    MigrationInProgress,
    /// Only the methods policy counts.
    MigrationComplete,
    /// Graph returned null or a value this version does not know.
    Unknown(String),
}

impl MigrationState {
    pub fn from_graph(value: Option<&str>) -> MigrationState {
        match value {
            Some("preMigration") => MigrationState::PreMigration,
            Some("migrationInProgress") => MigrationState::MigrationInProgress,
            Some("migrationComplete") => MigrationState::MigrationComplete,
            Some(other) => MigrationState::Unknown(other.to_owned()),
            None => MigrationState::Unknown("null".to_owned()),
        }
    }

    pub fn as_graph(&self) -> &str {
        match self {
            MigrationState::PreMigration => "preMigration",
            MigrationState::MigrationInProgress => "migrationInProgress",
            MigrationState::MigrationComplete => "migrationComplete",
            MigrationState::Unknown(value) => value,
        }
    }
}

/// One method configuration of the methods policy, reduced to what SSPR cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodConfiguration {
    /// Graph's configuration id, e.g. `MicrosoftAuthenticator`, `Sms`.
    pub id: String,
    pub enabled: bool,
    /// Group ids (or `all_users`) the method is enabled for.
    pub include_targets: Vec<String>,
    pub exclude_targets: Vec<String>,
    /// `MicrosoftAuthenticator.isSoftwareOathEnabled`.
    pub software_oath_enabled: bool,
    /// `Voice.isOfficePhoneAllowed`.
    pub office_phone_allowed: bool,
}

impl MethodConfiguration {
    /// Enabled and targeted at someone: a configuration with no include target enables nobody.
    fn in_effect(&self) -> bool {
        self.enabled && !self.include_targets.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodsPolicy {
    pub migration_state: MigrationState,
    pub reconfirmation_in_days: Option<i32>,
    pub policy_version: Option<String>,
    pub last_modified: Option<String>,
    pub registration_campaign: Option<RegistrationCampaign>,
    pub configurations: Vec<MethodConfiguration>,
}

impl MethodsPolicy {
    fn configuration(&self, id: &str) -> Option<&MethodConfiguration> {
        self.configurations
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(id))
    }

    /// Legacy method ← configuration mapping of graph-api.md §1.8.
    pub fn reset_methods(&self) -> ResetMethods {
        let authenticator = self.configuration("MicrosoftAuthenticator");
        let voice = self.configuration("Voice");
        let with_software_oath = authenticator.filter(|c| c.software_oath_enabled);
        let office_voice = voice.filter(|c| c.office_phone_allowed);
        ResetMethods {
            mobile_app_notification: status([authenticator]),
            mobile_app_code: status([with_software_oath, self.configuration("SoftwareOath")]),
            email: status([self.configuration("Email")]),
            mobile_phone: status([self.configuration("Sms"), voice]),
            office_phone: status([office_voice]),
        }
    }
}

fn status<'a>(
    candidates: impl IntoIterator<Item = Option<&'a MethodConfiguration>>,
) -> ResetMethodStatus {
    let effective: Vec<&MethodConfiguration> = candidates
        .into_iter()
        .flatten()
        .filter(|c| c.in_effect())
        .collect();
    let mut targets: Vec<String> = effective
        .iter()
        .flat_map(|c| c.include_targets.iter().cloned())
        .collect();
    targets.sort();
    targets.dedup();
    ResetMethodStatus {
        usable: !effective.is_empty(),
        enabled_by: effective.iter().map(|c| c.id.clone()).collect(),
        targets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(id: &str, enabled: bool) -> MethodConfiguration {
        MethodConfiguration {
            id: id.to_owned(),
            enabled,
            include_targets: vec!["all_users".to_owned()],
            exclude_targets: vec![],
            software_oath_enabled: false,
            office_phone_allowed: false,
        }
    }

    fn policy(configurations: Vec<MethodConfiguration>) -> MethodsPolicy {
        MethodsPolicy {
            migration_state: MigrationState::MigrationComplete,
            reconfirmation_in_days: None,
            policy_version: None,
            last_modified: None,
            registration_campaign: None,
            configurations,
        }
    }

    #[test]
    fn authenticator_alone_gives_notification_but_not_code() {
        let methods = policy(vec![config("MicrosoftAuthenticator", true)]).reset_methods();
        assert!(methods.mobile_app_notification.usable);
        assert_eq!(
            methods.mobile_app_notification.enabled_by,
            ["MicrosoftAuthenticator"]
        );
        assert!(!methods.mobile_app_code.usable);
        assert!(!methods.email.usable);
    }

    #[test]
    fn mobile_app_code_comes_from_software_oath_on_either_configuration() {
        let mut authenticator = config("MicrosoftAuthenticator", true);
        authenticator.software_oath_enabled = true;
        let methods = policy(vec![authenticator, config("SoftwareOath", true)]).reset_methods();
        assert_eq!(
            methods.mobile_app_code.enabled_by,
            ["MicrosoftAuthenticator", "SoftwareOath"]
        );
    }

    #[test]
    fn office_phone_needs_voice_with_office_phone_allowed() {
        let voice = config("Voice", true);
        assert!(
            !policy(vec![voice.clone()])
                .reset_methods()
                .office_phone
                .usable
        );
        let mut office = voice;
        office.office_phone_allowed = true;
        let methods = policy(vec![office]).reset_methods();
        assert!(methods.office_phone.usable);
        assert!(
            methods.mobile_phone.usable,
            "voice also counts as mobile phone"
        );
    }

    #[test]
    fn disabled_or_untargeted_configurations_count_for_nothing() {
        let mut untargeted = config("Email", true);
        untargeted.include_targets.clear();
        let methods = policy(vec![untargeted, config("Sms", false)]).reset_methods();
        assert!(!methods.email.usable);
        assert!(!methods.mobile_phone.usable);
    }

    #[test]
    fn targets_are_merged_across_configurations() {
        let mut sms = config("Sms", true);
        sms.include_targets = vec!["group-b".into()];
        let mut voice = config("Voice", true);
        voice.include_targets = vec!["group-a".into(), "group-b".into()];
        let methods = policy(vec![sms, voice]).reset_methods();
        assert_eq!(methods.mobile_phone.targets, ["group-a", "group-b"]);
    }

    #[test]
    fn migration_state_reads_graph_values_and_keeps_unknown_ones() {
        assert_eq!(
            MigrationState::from_graph(Some("migrationInProgress")),
            MigrationState::MigrationInProgress
        );
        assert_eq!(MigrationState::from_graph(None).as_graph(), "null");
        assert_eq!(
            MigrationState::from_graph(Some("unknownFutureValue")).as_graph(),
            "unknownFutureValue"
        );
    }
}
