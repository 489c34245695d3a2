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

// ---------------------------------------------------------------------------------------------
// The policy sspr deploys, and how it is found again
// ---------------------------------------------------------------------------------------------

/// The name of the settings-catalog policy sspr deploys: its marker. A policy is sspr's when it
/// has exactly this name, as a registration-protection policy is by the marker in its name.
pub const POLICY_NAME: &str = "sspr - Windows sign-in SSPR link";
/// Its description, for whoever finds it in the Intune admin center.
pub const POLICY_DESCRIPTION: &str = "Managed by sspr: shows the \"Reset password\" link on the \
     Windows sign-in screen (Policy CSP Authentication/AllowAadPasswordReset = 1). Changes are \
     undone by the next `sspr windows-reset-link apply`.";
/// The settings catalog's option for "Allowed" (`_0` is "Not allowed").
pub fn allowed_option() -> String {
    format!("{SETTING_DEFINITION_ID}_1")
}

/// The registry value the policy (or the script, outside Intune) sets.
pub const REGISTRY_KEY: &str = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\AzureADAccount";
pub const REGISTRY_VALUE: &str = "AllowPasswordReset";

/// Whom sspr's policy is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployTarget {
    AllDevices,
    /// The devices in one group (its object id, lower-case hyphenated).
    Group(String),
}

impl DeployTarget {
    /// `group_id`, validated: a GUID, else `Err` saying why.
    pub fn group(group_id: &str) -> Result<DeployTarget, String> {
        uuid::Uuid::parse_str(group_id.trim())
            .map(|id| DeployTarget::Group(id.hyphenated().to_string()))
            .map_err(|_| format!("'{group_id}' is not a group object id (a GUID)"))
    }

    /// The same target as Intune lists it.
    pub fn as_assignment(&self) -> AssignmentTarget {
        match self {
            DeployTarget::AllDevices => AssignmentTarget::AllDevices,
            DeployTarget::Group(id) => AssignmentTarget::Group(id.clone()),
        }
    }
}

/// What applying the policy for a target does to the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployAction {
    /// No policy carries the name: create it, then assign it.
    Create,
    /// sspr's policy exists and allows the link, but its assignments differ: assign it (the
    /// assign action replaces the whole set).
    Assign { policy_id: String },
    /// sspr's policy exists but no longer allows the link (someone changed its setting):
    /// delete it and create it afresh, assigned.
    Recreate { policy_id: String },
    /// Already as asked.
    Unchanged { policy_id: String },
}

/// The deploy for `target` given what Intune holds, and the copies of sspr's policy beyond the
/// first (a create whose answer was lost, a copy made by hand), which the deploy deletes so that
/// exactly one remains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployPlan {
    pub action: DeployAction,
    pub target: DeployTarget,
    pub duplicates: Vec<String>,
}

impl DeployPlan {
    pub fn of(inventory: &ResetLinkInventory, target: DeployTarget) -> DeployPlan {
        let mut ours = inventory.policies.iter().filter(|p| p.is_ours());
        let action = match ours.next() {
            None => DeployAction::Create,
            Some(policy) if !policy.allows => DeployAction::Recreate {
                policy_id: policy.id.clone(),
            },
            Some(policy) if policy.assignments == [target.as_assignment()] => {
                DeployAction::Unchanged {
                    policy_id: policy.id.clone(),
                }
            }
            Some(policy) => DeployAction::Assign {
                policy_id: policy.id.clone(),
            },
        };
        DeployPlan {
            action,
            target,
            duplicates: ours.map(|p| p.id.clone()).collect(),
        }
    }

    /// Nothing to write.
    pub fn is_unchanged(&self) -> bool {
        matches!(self.action, DeployAction::Unchanged { .. }) && self.duplicates.is_empty()
    }

    /// The deployed policy the plan keeps, if any.
    pub fn kept_policy(&self) -> Option<&str> {
        match &self.action {
            DeployAction::Assign { policy_id } | DeployAction::Unchanged { policy_id } => {
                Some(policy_id)
            }
            DeployAction::Create | DeployAction::Recreate { .. } => None,
        }
    }
}

impl ResetLinkPolicy {
    /// sspr deployed it: a settings-catalog policy named [`POLICY_NAME`].
    pub fn is_ours(&self) -> bool {
        self.kind == PolicyKind::SettingsCatalog && self.name == POLICY_NAME
    }
}

// ---------------------------------------------------------------------------------------------
// The verdict
// ---------------------------------------------------------------------------------------------

pub use sspr_api::readiness::CheckStatus;

/// How the link comes out in a tenant Intune could be read for, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkVerdict {
    /// `Pass`, `Warn` or `Fail` (never `Unknown`: that is for a tenant that could not be read).
    pub status: CheckStatus,
    /// One sentence.
    pub summary: String,
    /// `(name, value)` pairs, e.g. `("allowingPolicies", "sspr - Windows sign-in SSPR link (all devices)")`.
    pub evidence: Vec<(String, String)>,
}

fn describe_targets(targets: &[AssignmentTarget]) -> String {
    if targets.is_empty() {
        return "not assigned".into();
    }
    targets
        .iter()
        .map(|t| match t {
            AssignmentTarget::AllDevices => "all devices".to_owned(),
            AssignmentTarget::AllLicensedUsers => "all licensed users".to_owned(),
            AssignmentTarget::Group(id) => format!("group {id}"),
            AssignmentTarget::ExcludedGroup(id) => format!("excluding group {id}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(policies: &[&ResetLinkPolicy]) -> String {
    if policies.is_empty() {
        return "none".into();
    }
    policies
        .iter()
        .map(|p| format!("{} ({})", p.name, describe_targets(&p.assignments)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The verdict on what Intune holds:
/// - `fail` when nothing allows the link on any device, or an assigned policy blocks it (a
///   conflicting value means Intune applies neither);
/// - `pass` when a settings-catalog policy that allows it is assigned to all devices;
/// - `warn` otherwise: an allowing policy nobody is assigned, one assigned to some groups or
///   users only, or only custom OMA-URI profiles (Microsoft's how-to uses them, but the
///   settings catalog is the supported way and shows the setting by name).
pub fn verdict(inventory: &ResetLinkInventory) -> LinkVerdict {
    let allowing: Vec<&ResetLinkPolicy> = inventory.policies.iter().filter(|p| p.allows).collect();
    let blocking: Vec<&ResetLinkPolicy> = inventory
        .policies
        .iter()
        .filter(|p| !p.allows && p.is_assigned())
        .collect();
    let mut evidence = vec![
        ("allowingPolicies".to_owned(), describe(&allowing)),
        ("blockingPolicies".to_owned(), describe(&blocking)),
        (
            "policiesRead".to_owned(),
            format!(
                "{} settings-catalog policies, {} device configuration profiles",
                inventory.configuration_policies_read, inventory.custom_profiles_read
            ),
        ),
    ];
    if let Some(ours) = inventory.policies.iter().find(|p| p.is_ours()) {
        evidence.push(("ssprPolicy".to_owned(), ours.id.clone()));
    }
    let fleet_wide = |p: &&ResetLinkPolicy| {
        p.kind == PolicyKind::SettingsCatalog
            && p.assignments.contains(&AssignmentTarget::AllDevices)
    };
    let (status, summary) = if !blocking.is_empty() {
        (
            CheckStatus::Fail,
            format!(
                "{} assigned {} the link (AllowAadPasswordReset = 0): the sign-in screen shows no \"Reset password\" link where it applies.",
                if blocking.len() == 1 {
                    "A policy"
                } else {
                    "Policies"
                },
                if blocking.len() == 1 {
                    "blocks"
                } else {
                    "block"
                }
            ),
        )
    } else if allowing.iter().any(fleet_wide) {
        (
            CheckStatus::Pass,
            "A settings-catalog policy assigned to all devices allows the \"Reset password\" link on the Windows sign-in screen.".to_owned(),
        )
    } else if allowing.iter().any(|p| p.is_assigned()) {
        let only_custom = allowing
            .iter()
            .filter(|p| p.is_assigned())
            .all(|p| p.kind == PolicyKind::CustomProfile);
        (
            CheckStatus::Warn,
            if only_custom {
                "Only a custom OMA-URI profile allows the link; deploy the settings-catalog policy to all devices instead.".to_owned()
            } else {
                "The link is allowed for some devices only: no allowing settings-catalog policy is assigned to all devices.".to_owned()
            },
        )
    } else if !allowing.is_empty() {
        (
            CheckStatus::Warn,
            "A policy allows the link but is assigned to no device.".to_owned(),
        )
    } else {
        (
            CheckStatus::Fail,
            "No Intune policy sets AllowAadPasswordReset: it is off by default on every Windows version, so the sign-in screen shows no \"Reset password\" link.".to_owned(),
        )
    };
    LinkVerdict {
        status,
        summary,
        evidence,
    }
}

/// Service plans that license Intune's Graph API: `INTUNE_A` and `INTUNE_SMBIZ`. Basic Mobility
/// (`INTUNE_O365`) does not (msp-readiness.md §3).
pub const INTUNE_PLANS: [&str; 2] = [
    "c1ec4a95-1f05-45b3-a911-aa3fa01094f5",
    "8e9ff0ff-aa7a-4b20-83c1-2f636b600ac2",
];

/// The tenant's SKU that licenses Intune (its part number), if any: enabled (or in its grace
/// period) with an Intune plan provisioned.
pub fn intune_licence(skus: &[crate::domain::licence::SubscribedSku]) -> Option<String> {
    skus.iter()
        .find(|sku| {
            matches!(sku.capability_status.as_str(), "Enabled" | "Warning")
                && sku.service_plans.iter().any(|p| {
                    INTUNE_PLANS
                        .iter()
                        .any(|id| p.service_plan_id.eq_ignore_ascii_case(id))
                        && p.provisioning_status == "Success"
                })
        })
        .map(|sku| sku.sku_part_number.clone())
}

// ---------------------------------------------------------------------------------------------
// Devices outside Intune: the registry
// ---------------------------------------------------------------------------------------------

/// A `.reg` file that sets the value (regedit's format, CRLF line ends).
pub fn reg_file() -> String {
    [
        "Windows Registry Editor Version 5.00",
        "",
        "; Shows the \"Reset password\" link on the Windows sign-in screen (Microsoft Entra SSPR).",
        "; Needs Windows 10 1803 or later (not Home), Microsoft Entra joined or hybrid joined.",
        &format!("[{REGISTRY_KEY}]"),
        &format!("\"{REGISTRY_VALUE}\"=dword:00000001"),
        "",
    ]
    .join("\r\n")
}

/// A PowerShell remediation script: with `-DetectOnly` it exits 0 when the value is 1 and 1
/// when not (an Intune remediation's detection), else it sets the value.
pub fn powershell_script() -> String {
    let key = REGISTRY_KEY.replace("HKEY_LOCAL_MACHINE", "HKLM:");
    format!(
        r#"<#
.SYNOPSIS
Shows the "Reset password" link on the Windows sign-in screen (Microsoft Entra SSPR).
.DESCRIPTION
Sets {REGISTRY_KEY} {REGISTRY_VALUE} = 1 (DWORD), the registry form of the Policy CSP
setting Authentication/AllowAadPasswordReset. Needs Windows 10 1803 or later (not Home), a
Microsoft Entra joined or hybrid joined device, and an elevated session (or SYSTEM).
With -DetectOnly it changes nothing: exit 0 when the value is 1, exit 1 when not.
#>
[CmdletBinding()]
param([switch]$DetectOnly)
$ErrorActionPreference = 'Stop'
$path = '{key}'
$name = '{REGISTRY_VALUE}'
$current = (Get-ItemProperty -Path $path -Name $name -ErrorAction SilentlyContinue).$name
if ($current -eq 1) {{
    Write-Output "$name is 1: the sign-in screen shows the link."
    exit 0
}}
if ($DetectOnly) {{
    Write-Output "$name is not 1 (now: '$current')."
    exit 1
}}
if (-not (Test-Path -Path $path)) {{
    New-Item -Path $path -Force | Out-Null
}}
New-ItemProperty -Path $path -Name $name -PropertyType DWord -Value 1 -Force | Out-Null
Write-Output "$name set to 1: the link shows from the next sign-in screen."
exit 0
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(
        name: &str,
        kind: PolicyKind,
        allows: bool,
        assignments: Vec<AssignmentTarget>,
    ) -> ResetLinkPolicy {
        ResetLinkPolicy {
            id: format!("id-{name}"),
            name: name.into(),
            kind,
            allows,
            assignments,
        }
    }

    fn inventory(policies: Vec<ResetLinkPolicy>) -> ResetLinkInventory {
        ResetLinkInventory {
            configuration_policies_read: policies.len(),
            policies,
            custom_profiles_read: 0,
        }
    }

    const GROUP: &str = "0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e";

    #[test]
    fn verdicts_follow_what_is_assigned() {
        use AssignmentTarget::*;
        use PolicyKind::*;
        let cases = [
            (vec![], CheckStatus::Fail),
            (
                vec![policy("a", SettingsCatalog, true, vec![AllDevices])],
                CheckStatus::Pass,
            ),
            (
                vec![policy("a", SettingsCatalog, true, vec![])],
                CheckStatus::Warn,
            ),
            (
                vec![policy(
                    "a",
                    SettingsCatalog,
                    true,
                    vec![ExcludedGroup(GROUP.into())],
                )],
                CheckStatus::Warn,
            ),
            (
                vec![policy(
                    "a",
                    SettingsCatalog,
                    true,
                    vec![Group(GROUP.into())],
                )],
                CheckStatus::Warn,
            ),
            (
                vec![policy("a", CustomProfile, true, vec![AllDevices])],
                CheckStatus::Warn,
            ),
            (
                vec![policy("a", SettingsCatalog, false, vec![AllDevices])],
                CheckStatus::Fail,
            ),
            // A conflict: Intune applies neither value.
            (
                vec![
                    policy("a", SettingsCatalog, true, vec![AllDevices]),
                    policy("b", CustomProfile, false, vec![Group(GROUP.into())]),
                ],
                CheckStatus::Fail,
            ),
            // A blocking policy nobody gets changes nothing.
            (
                vec![
                    policy("a", SettingsCatalog, true, vec![AllDevices]),
                    policy("b", SettingsCatalog, false, vec![]),
                ],
                CheckStatus::Pass,
            ),
        ];
        for (policies, expected) in cases {
            let shown = format!("{policies:?}");
            let verdict = verdict(&inventory(policies));
            assert_eq!(verdict.status, expected, "{shown}: {}", verdict.summary);
        }
        let only_custom = verdict(&inventory(vec![policy(
            "c",
            CustomProfile,
            true,
            vec![AllDevices],
        )]));
        assert!(
            only_custom.summary.contains("custom OMA-URI"),
            "{}",
            only_custom.summary
        );
    }

    #[test]
    fn evidence_names_the_policies_and_their_targets() {
        let v = verdict(&inventory(vec![policy(
            POLICY_NAME,
            PolicyKind::SettingsCatalog,
            true,
            vec![AssignmentTarget::Group(GROUP.into())],
        )]));
        let get = |name: &str| {
            v.evidence
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            get("allowingPolicies").as_deref(),
            Some(format!("{POLICY_NAME} (group {GROUP})").as_str())
        );
        assert_eq!(get("blockingPolicies").as_deref(), Some("none"));
        assert_eq!(
            get("ssprPolicy").as_deref(),
            Some(format!("id-{POLICY_NAME}").as_str())
        );
    }

    #[test]
    fn the_plan_creates_assigns_recreates_or_leaves_alone() {
        let all = DeployTarget::AllDevices;
        let ours = |allows, assignments| {
            policy(
                POLICY_NAME,
                PolicyKind::SettingsCatalog,
                allows,
                assignments,
            )
        };
        assert_eq!(
            DeployPlan::of(&inventory(vec![]), all.clone()).action,
            DeployAction::Create
        );
        // Another policy with another name is not ours, even allowing the link.
        let theirs = policy(
            "Windows - SSPR link",
            PolicyKind::SettingsCatalog,
            true,
            vec![AssignmentTarget::AllDevices],
        );
        assert_eq!(
            DeployPlan::of(&inventory(vec![theirs]), all.clone()).action,
            DeployAction::Create
        );
        // A custom profile with our name is not ours either.
        let custom = policy(POLICY_NAME, PolicyKind::CustomProfile, true, vec![]);
        assert_eq!(
            DeployPlan::of(&inventory(vec![custom]), all.clone()).action,
            DeployAction::Create
        );
        let unchanged = DeployPlan::of(
            &inventory(vec![ours(true, vec![AssignmentTarget::AllDevices])]),
            all.clone(),
        );
        assert!(unchanged.is_unchanged());
        assert_eq!(
            unchanged.kept_policy(),
            Some(format!("id-{POLICY_NAME}").as_str())
        );
        let group = DeployTarget::group(&GROUP.to_uppercase()).expect("guid");
        assert_eq!(
            group,
            DeployTarget::Group(GROUP.into()),
            "ids are normalised"
        );
        assert!(matches!(
            DeployPlan::of(
                &inventory(vec![ours(true, vec![AssignmentTarget::AllDevices])]),
                group
            )
            .action,
            DeployAction::Assign { .. }
        ));
        // Two targets where one is wanted: the set is replaced.
        assert!(matches!(
            DeployPlan::of(
                &inventory(vec![ours(
                    true,
                    vec![
                        AssignmentTarget::AllDevices,
                        AssignmentTarget::AllLicensedUsers
                    ]
                )]),
                all.clone()
            )
            .action,
            DeployAction::Assign { .. }
        ));
        assert!(matches!(
            DeployPlan::of(
                &inventory(vec![ours(false, vec![AssignmentTarget::AllDevices])]),
                all.clone()
            )
            .action,
            DeployAction::Recreate { .. }
        ));
        let mut copy = ours(true, vec![]);
        copy.id = "copy".into();
        let twice = DeployPlan::of(
            &inventory(vec![ours(true, vec![AssignmentTarget::AllDevices]), copy]),
            all,
        );
        assert_eq!(twice.duplicates, ["copy"]);
        assert!(!twice.is_unchanged(), "a duplicate is deleted");
        assert!(
            DeployTarget::group("not-a-guid")
                .unwrap_err()
                .contains("not-a-guid")
        );
    }

    #[test]
    fn the_intune_licence_needs_an_intune_plan_on_an_active_sku() {
        use crate::domain::licence::{ServicePlan, SubscribedSku};
        let sku = |part: &str, status: &str, plan: &str| SubscribedSku {
            sku_part_number: part.into(),
            capability_status: status.into(),
            service_plans: vec![ServicePlan {
                service_plan_id: plan.into(),
                service_plan_name: String::new(),
                provisioning_status: "Success".into(),
            }],
        };
        assert_eq!(
            intune_licence(&[sku("SPB", "Enabled", INTUNE_PLANS[1])]).as_deref(),
            Some("SPB")
        );
        assert_eq!(
            intune_licence(&[sku("EMS", "Warning", INTUNE_PLANS[0])]).as_deref(),
            Some("EMS")
        );
        assert_eq!(
            intune_licence(&[sku("EMS", "Suspended", INTUNE_PLANS[0])]),
            None
        );
        // Basic Mobility is not Intune.
        assert_eq!(
            intune_licence(&[sku(
                "ENTERPRISEPACK",
                "Enabled",
                "882e1d05-acd1-4ccb-8708-6ee03664b117"
            )]),
            None
        );
    }

    #[test]
    fn the_registry_alternative_sets_the_dword_to_one() {
        let reg = reg_file();
        assert!(reg.starts_with("Windows Registry Editor Version 5.00\r\n"));
        assert!(reg.contains("\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\AzureADAccount]\r\n\"AllowPasswordReset\"=dword:00000001\r\n"));
        assert!(!reg.replace("\r\n", "").contains('\n'), "CRLF only");
        assert_eq!(
            sspr_api::examples::windows_reset_link_script().as_str(),
            Some(reg.as_str()),
            "the OpenAPI example is the file"
        );
        let script = powershell_script();
        assert!(script.contains(r"$path = 'HKLM:\SOFTWARE\Policies\Microsoft\AzureADAccount'"));
        assert!(script.contains("$name = 'AllowPasswordReset'"));
        assert!(script.contains("-PropertyType DWord -Value 1"));
        assert!(script.contains("param([switch]$DetectOnly)"));
        // Detection exits before anything is written.
        let detect = script.find("if ($DetectOnly)").expect("detect");
        let write = script.find("New-ItemProperty").expect("write");
        assert!(detect < write);
    }
}
