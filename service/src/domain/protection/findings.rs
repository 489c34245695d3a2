//! What a plan should know before the policy is deployed: errors (the policy would lock people
//! out or leave a hole; promotion to enabled is refused unless forced), warnings and notes. Pure.

pub use sspr_api::protection::{PlanFinding, PlanSeverity};

use super::PolicyFacts;
use super::discovery::{BreakGlass, BreakGlassDiscovery};
use super::lint::{Grade, Verdict};
use super::{
    ALL_TRUSTED, CaPolicy, GuestHandling, NamedLocation, NamedLocationKind, ProtectionControl,
    ProtectionState, ValidOptions,
};

/// What the findings are computed from.
pub struct PlanFacts<'a> {
    pub options: &'a ValidOptions,
    pub state: ProtectionState,
    pub named_locations: &'a [NamedLocation],
    pub break_glass: &'a BreakGlass,
    /// Every policy on the registration action now, with its grade.
    pub existing: &'a [(CaPolicy, Grade)],
}

fn finding(
    severity: PlanSeverity,
    code: &str,
    field: Option<String>,
    message: String,
) -> PlanFinding {
    PlanFinding {
        severity,
        code: code.to_owned(),
        field,
        message,
    }
}

/// The findings of a plan for a tenant, errors first.
pub fn plan_findings(facts: &PlanFacts<'_>) -> Vec<PlanFinding> {
    let mut out = option_findings(facts.options, facts.state, facts.break_glass);
    out.extend(tenant_findings(facts));
    out.sort_by_key(|f| f.severity);
    out
}

/// What the tenant's locations and policies say about the options.
fn tenant_findings(facts: &PlanFacts<'_>) -> Vec<PlanFinding> {
    let mut out = Vec::new();
    let mut add = |severity, code: &str, field: Option<String>, message: String| {
        out.push(finding(severity, code, field, message))
    };
    let options = facts.options;
    let blocks = options.control == ProtectionControl::Block;

    if options.trusted_locations == [ALL_TRUSTED] {
        let trusted: Vec<&str> = facts
            .named_locations
            .iter()
            .filter(|l| l.is_trusted())
            .map(|l| l.display_name.as_str())
            .collect();
        if trusted.is_empty() {
            let (severity, consequence) = if blocks {
                (
                    PlanSeverity::Error,
                    "so 'block' would block security-info registration for everyone, everywhere (legacy MFA trusted IPs aside, which Graph does not show). Create and mark a trusted IP location first, or choose control 'mfa'",
                )
            } else {
                (
                    PlanSeverity::Info,
                    "so the control applies everywhere (legacy MFA trusted IPs aside, which Graph does not show)",
                )
            };
            add(
                severity,
                "noTrustedLocation",
                Some("/trustedLocations".into()),
                format!("The tenant has no trusted named location, {consequence}."),
            );
        }
    }
    for (index, id) in options.trusted_locations.iter().enumerate() {
        if id == ALL_TRUSTED {
            continue;
        }
        let field = Some(format!("/trustedLocations/{index}"));
        match facts
            .named_locations
            .iter()
            .find(|l| l.id.eq_ignore_ascii_case(id))
        {
            None => add(
                PlanSeverity::Error,
                "unknownLocation",
                field,
                format!(
                    "Named location {id} does not exist in the tenant; Graph would refuse the policy."
                ),
            ),
            Some(l) if !l.is_trusted() => add(
                PlanSeverity::Error,
                "locationNotTrusted",
                field,
                format!(
                    "'{}' is {}: exempting it would let anyone register security info from it unprotected.",
                    l.display_name,
                    if l.kind == NamedLocationKind::Country {
                        "a countries/regions location, which can never be trusted"
                    } else {
                        "not marked trusted"
                    }
                ),
            ),
            Some(_) => {}
        }
    }

    let ours = facts.existing.iter().filter(|(p, _)| p.is_ours()).count();
    if ours > 1 {
        add(
            PlanSeverity::Warning,
            "duplicateMarker",
            None,
            format!(
                "{ours} policies carry the marker; only the oldest is updated. Delete the others."
            ),
        );
    }
    for (policy, grade) in facts.existing.iter().filter(|(p, _)| !p.is_ours()) {
        let verdict = match grade.verdict {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        };
        add(
            PlanSeverity::Info,
            "otherPolicy",
            None,
            format!(
                "Policy '{}' ({}, verdict {verdict}) also targets security-info registration; the most restrictive grant of all applicable policies wins.",
                policy.display_name, policy.state
            ),
        );
    }
    out
}

/// What the options alone say (no tenant needed), errors first.
pub fn option_findings(
    options: &ValidOptions,
    state: ProtectionState,
    break_glass: &BreakGlass,
) -> Vec<PlanFinding> {
    let mut out = Vec::new();
    let mut add = |severity, code: &str, field: Option<String>, message: String| {
        out.push(finding(severity, code, field, message))
    };
    let control = options.control;
    if break_glass.is_empty() {
        add(
            PlanSeverity::Warning,
            "noBreakGlass",
            Some("/excludeUsers".into()),
            if options.discover_break_glass {
                "No break-glass account is excluded: none was declared and none is excluded from most of the tenant's CA policies. Declare the emergency-access accounts (excludeUsers/excludeGroups).".to_owned()
            } else {
                "No break-glass account is excluded: none was declared and discovery is off. Declare the emergency-access accounts (excludeUsers/excludeGroups).".to_owned()
            },
        );
    }

    let (severity, message) = match control {
        ProtectionControl::Block => (
            PlanSeverity::Warning,
            "New hires must register from a trusted location: a block is not lifted by a Temporary Access Pass, so onboard them on site (with a TAP if they have no method yet).",
        ),
        ProtectionControl::Mfa => (
            PlanSeverity::Info,
            "New hires outside a trusted location need a Temporary Access Pass to register: it satisfies the MFA requirement.",
        ),
        ProtectionControl::CompliantDevice | ProtectionControl::DomainJoinedDevice => (
            PlanSeverity::Info,
            "New hires must register from a managed device (or from a trusted location, if exempted).",
        ),
    };
    add(
        severity,
        "newHires",
        Some("/control".into()),
        message.to_owned(),
    );

    let managed_device = matches!(
        control,
        ProtectionControl::CompliantDevice | ProtectionControl::DomainJoinedDevice
    );
    if managed_device && !options.trusted_locations.is_empty() {
        add(
            PlanSeverity::Info,
            "managedDeviceWithLocations",
            Some("/trustedLocations".into()),
            "CISA MS.AAD.3.8 asks for the managed-device requirement everywhere; with exempted locations ScubaGear does not count the policy. Send trustedLocations [] to apply it everywhere.".into(),
        );
    }

    if options.guests == GuestHandling::Exclude {
        add(
            PlanSeverity::Info,
            "guestsExcluded",
            Some("/guests".into()),
            "Guests and external users are excluded, as in Microsoft's template: they register in their home tenant, or need a policy of their own.".into(),
        );
    }

    match state {
        ProtectionState::ReportOnly => add(
            PlanSeverity::Info,
            "reportOnly",
            Some("/state".into()),
            "The policy is deployed report-only: registrations are evaluated and logged, nothing is enforced. Review the sign-in logs, then promote it.".into(),
        ),
        ProtectionState::Enabled => add(
            PlanSeverity::Warning,
            "enforced",
            Some("/state".into()),
            "The policy is enforced as soon as it is deployed.".into(),
        ),
    }

    out.sort_by_key(|f| f.severity);
    out
}

/// True when the findings hold an error.
pub fn has_errors(findings: &[PlanFinding]) -> bool {
    findings.iter().any(|f| f.severity == PlanSeverity::Error)
}

#[cfg(test)]
mod tests {
    use super::super::ProtectionOptions;
    use super::*;

    const HQ: &str = "0854951d-5fc0-4eb1-b392-9b2c9d7949c2";
    const GUEST_WIFI: &str = "6a1e2f3b-7c4d-4e5f-9a0b-1c2d3e4f5a6b";
    const BG_USER: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08";

    fn options(options: ProtectionOptions) -> ValidOptions {
        options.validate().expect("valid")
    }

    fn trusted(ids: &[&str]) -> ProtectionOptions {
        ProtectionOptions {
            trusted_locations: Some(ids.iter().map(|id| (*id).to_owned()).collect()),
            ..ProtectionOptions::default()
        }
    }

    fn locations(trusted: bool) -> Vec<NamedLocation> {
        vec![
            NamedLocation {
                id: HQ.into(),
                display_name: "HQ".into(),
                kind: if trusted {
                    NamedLocationKind::TrustedIp
                } else {
                    NamedLocationKind::UntrustedIp
                },
            },
            NamedLocation {
                id: GUEST_WIFI.into(),
                display_name: "Guest Wi-Fi".into(),
                kind: NamedLocationKind::UntrustedIp,
            },
        ]
    }

    fn findings(
        options: &ValidOptions,
        named: &[NamedLocation],
        bg: &BreakGlass,
    ) -> Vec<PlanFinding> {
        plan_findings(&PlanFacts {
            options,
            state: ProtectionState::ReportOnly,
            named_locations: named,
            break_glass: bg,
            existing: &[],
        })
    }

    fn codes(findings: &[PlanFinding]) -> Vec<(&str, PlanSeverity)> {
        findings
            .iter()
            .map(|f| (f.code.as_str(), f.severity))
            .collect()
    }

    fn declared() -> BreakGlass {
        BreakGlass::find(&[], &[BG_USER.to_owned()], &[], false)
    }

    #[test]
    fn block_without_a_trusted_location_is_an_error_first() {
        let found = findings(
            &options(ProtectionOptions::default()),
            &locations(false),
            &declared(),
        );
        assert_eq!(found[0].code, "noTrustedLocation");
        assert_eq!(found[0].severity, PlanSeverity::Error);
        assert!(found[0].message.contains("for everyone"));
        assert!(has_errors(&found));
        let mfa = findings(
            &options(ProtectionOptions {
                control: ProtectionControl::Mfa,
                ..ProtectionOptions::default()
            }),
            &locations(false),
            &declared(),
        );
        assert!(!has_errors(&mfa), "{mfa:?}");
        assert!(codes(&mfa).contains(&("noTrustedLocation", PlanSeverity::Info)));
    }

    #[test]
    fn a_trusted_tenant_with_break_glass_has_no_error() {
        let found = findings(
            &options(ProtectionOptions::default()),
            &locations(true),
            &declared(),
        );
        assert!(!has_errors(&found), "{found:?}");
        assert_eq!(
            codes(&found),
            [
                ("newHires", PlanSeverity::Warning),
                ("guestsExcluded", PlanSeverity::Info),
                ("reportOnly", PlanSeverity::Info)
            ]
        );
    }

    #[test]
    fn an_exempted_location_that_is_not_trusted_is_an_error_naming_it() {
        let found = findings(
            &options(trusted(&[HQ, GUEST_WIFI])),
            &locations(true),
            &declared(),
        );
        let error = found
            .iter()
            .find(|f| f.code == "locationNotTrusted")
            .expect("finding");
        assert_eq!(error.field.as_deref(), Some("/trustedLocations/1"));
        assert!(error.message.contains("Guest Wi-Fi"));
        let unknown = findings(
            &options(trusted(&["9f9f9f9f-0000-4000-8000-000000000000"])),
            &locations(true),
            &declared(),
        );
        assert!(codes(&unknown).contains(&("unknownLocation", PlanSeverity::Error)));
    }

    #[test]
    fn no_break_glass_and_device_controls_are_pointed_out() {
        let found = findings(
            &options(ProtectionOptions {
                control: ProtectionControl::CompliantDevice,
                guests: GuestHandling::Include,
                ..ProtectionOptions::default()
            }),
            &locations(true),
            &BreakGlass::default(),
        );
        let codes = codes(&found);
        assert!(codes.contains(&("noBreakGlass", PlanSeverity::Warning)));
        assert!(codes.contains(&("managedDeviceWithLocations", PlanSeverity::Info)));
        assert!(!codes.iter().any(|(c, _)| *c == "guestsExcluded"));
    }

    #[test]
    fn option_findings_need_no_tenant_and_never_judge_locations() {
        let found = option_findings(
            &options(trusted(&[GUEST_WIFI])),
            ProtectionState::Enabled,
            &BreakGlass::default(),
        );
        assert_eq!(
            codes(&found),
            [
                ("noBreakGlass", PlanSeverity::Warning),
                ("newHires", PlanSeverity::Warning),
                ("enforced", PlanSeverity::Warning),
                ("guestsExcluded", PlanSeverity::Info)
            ]
        );
    }
}
