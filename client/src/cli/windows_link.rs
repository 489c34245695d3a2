//! `sspr windows-reset-link`: the Windows sign-in screen's "Reset password" link. The commands,
//! and how their answers print.

use std::fmt::Write as _;

use clap::{Args, Subcommand};
use sspr_api::readiness::CheckStatus;
use sspr_client::SsprClient;
use sspr_client::types::protection::ApplyResult;
use sspr_client::types::windows_link::{
    ResetLinkAssignment, ResetLinkPolicyKind, ResetLinkTarget, WindowsResetLinkApplied,
    WindowsResetLinkPlan, WindowsResetLinkStatus,
};
use sspr_client::windows_link::ScriptFormat;

use crate::cli::render::NONE;
use crate::{ConfirmArgs, Failure, Output, TenantArg, go_ahead, shown, to_json};

#[derive(Subcommand, Debug)]
pub enum WindowsLinkCommand {
    /// Whether the sign-in screen shows the link: the Intune policies that set
    /// AllowAadPasswordReset, their assignments, the verdict (pass, warn, fail; unknown without
    /// Intune or its permission) and the registry alternative.
    #[command(after_help = "\
Examples:
  sspr windows-reset-link status --tenant contoso.onmicrosoft.com
  sspr --output json windows-reset-link status --tenant contoso.onmicrosoft.com")]
    Status {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Plan sspr's Intune policy: the exact settings-catalog JSON and assignment, and whether
    /// the deploy would create, update or leave it. Changes nothing.
    #[command(after_help = "\
Examples:
  sspr windows-reset-link plan --tenant contoso.onmicrosoft.com --all-devices
  sspr windows-reset-link plan --tenant contoso.onmicrosoft.com --group 0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e")]
    Plan {
        #[command(flatten)]
        tenant: TenantArg,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Deploy sspr's Intune policy (create it, or re-assign the one named
    /// "sspr - Windows sign-in SSPR link"); never makes a copy. Prints the plan, then asks.
    /// Needs SSPR.ReadWrite and DeviceManagementConfiguration.ReadWrite.All in the tenant.
    #[command(after_help = "\
Examples:
  sspr windows-reset-link apply --tenant contoso.onmicrosoft.com --all-devices --dry-run
  sspr windows-reset-link apply --tenant contoso.onmicrosoft.com --all-devices
  sspr windows-reset-link apply --tenant contoso.onmicrosoft.com --group 0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e --yes")]
    Apply {
        #[command(flatten)]
        tenant: TenantArg,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Print the registry alternative for devices outside Intune: a .reg file or a PowerShell
    /// remediation script (-DetectOnly to only check).
    #[command(after_help = "\
Examples:
  sspr windows-reset-link script --tenant contoso.onmicrosoft.com --format reg > sspr-link.reg
  sspr windows-reset-link script --tenant contoso.onmicrosoft.com --format powershell")]
    Script {
        #[command(flatten)]
        tenant: TenantArg,
        /// The file's format.
        #[arg(long, value_enum, default_value = "reg")]
        format: ScriptFormat,
    },
}

/// Whom to assign the policy to: all devices (the default) or one group.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
#[group(multiple = false)]
pub struct TargetArgs {
    /// Every Intune-managed device (the default).
    #[arg(long)]
    all_devices: bool,
    /// The devices of one group (its object id).
    #[arg(long, value_name = "GROUP_ID")]
    group: Option<String>,
}

impl TargetArgs {
    fn target(&self) -> ResetLinkTarget {
        match &self.group {
            Some(group_id) => ResetLinkTarget::Group {
                group_id: group_id.clone(),
            },
            None => ResetLinkTarget::AllDevices,
        }
    }
}

pub async fn run(
    client: &SsprClient,
    output: Output,
    command: &WindowsLinkCommand,
) -> Result<String, Failure> {
    match command {
        WindowsLinkCommand::Status { tenant } => {
            let status = client.windows_reset_link_status(&tenant.key).await?;
            shown(output, &status.json, &status_text(&status.value))
        }
        WindowsLinkCommand::Plan { tenant, target } => {
            let plan = client
                .windows_reset_link_plan(&tenant.key, &target.target())
                .await?;
            shown(output, &plan.json, &plan_text(&plan.value))
        }
        WindowsLinkCommand::Apply {
            tenant,
            target,
            confirm,
        } => {
            let target = target.target();
            let plan = client.windows_reset_link_plan(&tenant.key, &target).await?;
            let text = plan_text(&plan.value);
            if confirm.dry_run || plan.value.result == ApplyResult::Unchanged {
                return shown(output, &plan.json, &text);
            }
            let question = format!(
                "Deploy sspr's Windows sign-in link policy to {} ({})?",
                plan.value.tenant.domain,
                result_words(plan.value.result)
            );
            if !go_ahead(output, confirm.yes, &text, &question, "this plan")? {
                return Ok(String::new());
            }
            let applied = client
                .windows_reset_link_apply(&tenant.key, &target, Some(&plan.value.etag))
                .await?;
            shown(output, &applied.json, &applied_text(&applied.value))
        }
        WindowsLinkCommand::Script { tenant, format } => {
            let script = client
                .windows_reset_link_script(&tenant.key, *format)
                .await?;
            match output {
                Output::Json => {
                    to_json(&serde_json::json!({ "format": format.as_api(), "script": script }))
                }
                Output::Table => Ok(script),
            }
        }
    }
}

fn status_word(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "PASS",
        CheckStatus::Warn => "WARN",
        CheckStatus::Fail => "FAIL",
        CheckStatus::Unknown => "UNKNOWN",
        CheckStatus::NotApplicable => "N/A",
    }
}

fn result_words(result: ApplyResult) -> &'static str {
    match result {
        ApplyResult::Created => "creates the policy",
        ApplyResult::Updated => "updates the policy",
        ApplyResult::Unchanged => "nothing to change",
    }
}

fn assignment_text(assignments: &[ResetLinkAssignment]) -> String {
    if assignments.is_empty() {
        return "not assigned".into();
    }
    assignments
        .iter()
        .map(|a| match a {
            ResetLinkAssignment::AllDevices => "all devices".to_owned(),
            ResetLinkAssignment::AllLicensedUsers => "all licensed users".to_owned(),
            ResetLinkAssignment::Group { group_id } => format!("group {group_id}"),
            ResetLinkAssignment::ExcludedGroup { group_id } => format!("excluding {group_id}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The status as text: the verdict, the policies, the registry alternative.
pub fn status_text(status: &WindowsResetLinkStatus) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Windows sign-in reset link for {}: {}",
        status.tenant.domain,
        status_word(status.status)
    );
    let _ = writeln!(out, "{}", status.summary);
    if !status.policies.is_empty() {
        out.push_str("\nPolicies:\n");
        for policy in &status.policies {
            let _ = writeln!(
                out,
                "  {} {} ({}, {}){}: {}",
                if policy.allows { "allows" } else { "blocks" },
                policy.name,
                match policy.kind {
                    ResetLinkPolicyKind::SettingsCatalog => "settings catalog",
                    ResetLinkPolicyKind::CustomProfile => "custom profile",
                },
                policy.id,
                if policy.ours { " [sspr]" } else { "" },
                assignment_text(&policy.assignments)
            );
        }
    }
    let registry = &status.registry_alternative;
    let _ = writeln!(
        out,
        "\nOutside Intune: set {} {} = {} ({}); `sspr windows-reset-link script --tenant {} --format reg|powershell`.",
        registry.key, registry.value_name, registry.data, registry.value_type, status.tenant.domain
    );
    out
}

/// The plan as text: what the deploy does, then the exact calls with their JSON.
pub fn plan_text(plan: &WindowsResetLinkPlan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Windows sign-in reset link for {}: {} (policy {})",
        plan.tenant.domain,
        result_words(plan.result),
        plan.policy_id.as_deref().unwrap_or(NONE)
    );
    if plan.calls.is_empty() {
        out.push_str("Already deployed as asked.\n");
    }
    for call in &plan.calls {
        let _ = writeln!(out, "\n{} {}", call.method, call.path);
        if !call.body.is_null() {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&call.body).unwrap_or_default()
            );
        }
    }
    out
}

/// What a deploy did.
pub fn applied_text(applied: &WindowsResetLinkApplied) -> String {
    let mut out = format!(
        "Windows sign-in reset link for {}: {} ({}, audit record {})\n",
        applied.tenant.domain,
        match applied.result {
            ApplyResult::Created => "created",
            ApplyResult::Updated => "updated",
            ApplyResult::Unchanged => "unchanged",
        },
        applied.policy_id,
        applied.audit_record_id
    );
    for call in &applied.calls {
        let _ = writeln!(out, "  {} {}", call.method, call.path);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_and_plan_examples_print() {
        let status: WindowsResetLinkStatus =
            serde_json::from_value(sspr_api::examples::windows_reset_link_status()).unwrap();
        let text = status_text(&status);
        assert!(text.contains("tailspin.onmicrosoft.com: WARN"), "{text}");
        assert!(
            text.contains("allows Windows - custom SSPR (custom profile"),
            "{text}"
        );
        assert!(
            text.contains("AllowPasswordReset = 1 (REG_DWORD)"),
            "{text}"
        );
        let plan: WindowsResetLinkPlan =
            serde_json::from_value(sspr_api::examples::windows_reset_link_plan()).unwrap();
        let text = plan_text(&plan);
        assert!(text.contains("creates the policy"), "{text}");
        assert!(text.contains("POST /beta/deviceManagement/configurationPolicies/{id}/assign"));
        assert!(text.contains("allowaadpasswordreset_1"));
    }
}
