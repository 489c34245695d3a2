//! The Windows sign-in screen's "Reset password" link: the Policy CSP setting
//! `Authentication/AllowAadPasswordReset` (msp-readiness.md §3), off by default on every Windows
//! version, set by an Intune settings-catalog policy, a custom OMA-URI profile, or the registry
//! on devices outside Intune. Pure: what the policies read from Intune say.

/// The settings catalog's definition id of the setting.
pub const SETTING_DEFINITION_ID: &str =
    "device_vendor_msft_policy_config_authentication_allowaadpasswordreset";
/// The OMA-URI of the setting in a custom profile.
pub const OMA_URI: &str = "./Device/Vendor/MSFT/Policy/Config/Authentication/AllowAadPasswordReset";

/// How a policy sets the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// A settings-catalog configuration policy (`deviceManagement/configurationPolicies`, beta).
    SettingsCatalog,
    /// A custom OMA-URI profile (`deviceManagement/deviceConfigurations`, Windows 10 custom).
    CustomProfile,
}

/// Who a policy is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentTarget {
    AllDevices,
    AllLicensedUsers,
    /// A group's members (`groupId`).
    Group(String),
    /// Excluded: a group's members do not get the policy.
    ExcludedGroup(String),
}

/// One Intune policy that sets `AllowAadPasswordReset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetLinkPolicy {
    pub id: String,
    pub name: String,
    pub kind: PolicyKind,
    /// `true` when it allows the link (value 1), `false` when it blocks it (0).
    pub allows: bool,
    pub assignments: Vec<AssignmentTarget>,
}

impl ResetLinkPolicy {
    /// Whether any device gets it: at least one assignment that includes someone.
    pub fn is_assigned(&self) -> bool {
        self.assignments
            .iter()
            .any(|target| !matches!(target, AssignmentTarget::ExcludedGroup(_)))
    }
}

/// What Intune holds about the setting in one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResetLinkInventory {
    /// The policies that set it, either way.
    pub policies: Vec<ResetLinkPolicy>,
    /// How many settings-catalog policies were looked at.
    pub configuration_policies_read: usize,
    /// How many custom profiles were looked at.
    pub custom_profiles_read: usize,
}
