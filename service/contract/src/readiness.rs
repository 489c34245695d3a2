//! Readiness (`GET /v1/tenants/{tenant}/readiness`, `GET /v1/readiness`): the "Enable
//! self-service password reset" checklist, one check per item, each with its status, the
//! evidence it was decided on (every value with its source), the remedy and the Secure Score
//! points at stake; across the fleet, each tenant's readiness and a tenants × checks matrix.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::policy::Source;
use crate::problem::Problem;
use crate::tenants::TenantRef;

/// How a check came out.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum CheckStatus {
    /// Done as the guide says.
    Pass,
    /// Works, but short of the guide (a weaker setting, a threshold not reached).
    Warn,
    /// Not done: users cannot reset, or a guard is missing.
    Fail,
    /// Could not be read (no API, a missing permission or licence); `summary` says why.
    Unknown,
    /// Does not apply to this tenant (writeback in a cloud-only tenant).
    NotApplicable,
}

impl CheckStatus {
    /// Every status, in the order reports list them.
    pub const ALL: [CheckStatus; 5] = [
        CheckStatus::Pass,
        CheckStatus::Warn,
        CheckStatus::Fail,
        CheckStatus::Unknown,
        CheckStatus::NotApplicable,
    ];

    /// The wire name (`pass`, `notApplicable`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
            CheckStatus::Unknown => "unknown",
            CheckStatus::NotApplicable => "notApplicable",
        }
    }
}

/// The checks, in the order of the guide.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum CheckId {
    /// A licence that allows cloud-only users to reset (SKU rules configurable).
    CloudLicence,
    /// A licence that allows reset with on-premises writeback (hybrid tenants only).
    WritebackLicence,
    /// Directory sync on → password writeback and unlock without reset on.
    OnPremisesIntegration,
    /// SSPR enabled for someone (scope not `none`), ideally everyone.
    EnablementScope,
    /// The methods available versus the number a reset needs.
    MethodsAndGates,
    /// Registration required at sign-in, re-confirmation not 0.
    Registration,
    /// Users and admins notified of resets.
    Notifications,
    /// The helpdesk link users see when they cannot reset.
    HelpdeskLink,
    /// The Windows sign-in screen's "Reset password" link (Intune or the registry).
    WindowsResetLink,
    /// The Conditional Access policy guarding security-info registration.
    RegistrationProtection,
    /// MFA registration enforced (registration campaign; the Identity Protection policy has no API).
    MfaRegistrationEnforced,
    /// Share of SSPR-enabled members who registered.
    RegistrationCoverage,
    /// Secure Score control `SelfServicePasswordReset`.
    SecureScoreSspr,
    /// Secure Score control `MFARegistrationV2`.
    SecureScoreMfaRegistration,
}

impl CheckId {
    /// Every check, in the order of the guide.
    pub const ALL: [CheckId; 14] = [
        CheckId::CloudLicence,
        CheckId::WritebackLicence,
        CheckId::OnPremisesIntegration,
        CheckId::EnablementScope,
        CheckId::MethodsAndGates,
        CheckId::Registration,
        CheckId::Notifications,
        CheckId::HelpdeskLink,
        CheckId::WindowsResetLink,
        CheckId::RegistrationProtection,
        CheckId::MfaRegistrationEnforced,
        CheckId::RegistrationCoverage,
        CheckId::SecureScoreSspr,
        CheckId::SecureScoreMfaRegistration,
    ];

    /// The wire name (`cloudLicence`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::CloudLicence => "cloudLicence",
            CheckId::WritebackLicence => "writebackLicence",
            CheckId::OnPremisesIntegration => "onPremisesIntegration",
            CheckId::EnablementScope => "enablementScope",
            CheckId::MethodsAndGates => "methodsAndGates",
            CheckId::Registration => "registration",
            CheckId::Notifications => "notifications",
            CheckId::HelpdeskLink => "helpdeskLink",
            CheckId::WindowsResetLink => "windowsResetLink",
            CheckId::RegistrationProtection => "registrationProtection",
            CheckId::MfaRegistrationEnforced => "mfaRegistrationEnforced",
            CheckId::RegistrationCoverage => "registrationCoverage",
            CheckId::SecureScoreSspr => "secureScoreSspr",
            CheckId::SecureScoreMfaRegistration => "secureScoreMfaRegistration",
        }
    }

    /// The check's title, as reports show it.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::CloudLicence => "Licence for cloud-only reset",
            CheckId::WritebackLicence => "Licence for reset with writeback",
            CheckId::OnPremisesIntegration => "Password writeback and unlock",
            CheckId::EnablementScope => "Who SSPR is enabled for",
            CheckId::MethodsAndGates => "Methods and the number a reset needs",
            CheckId::Registration => "Registration and re-confirmation",
            CheckId::Notifications => "Notifications",
            CheckId::HelpdeskLink => "Helpdesk link",
            CheckId::WindowsResetLink => "Windows sign-in screen link",
            CheckId::RegistrationProtection => "Security-info registration protected",
            CheckId::MfaRegistrationEnforced => "MFA registration enforced",
            CheckId::RegistrationCoverage => "Registration coverage",
            CheckId::SecureScoreSspr => "Secure Score: self-service password reset",
            CheckId::SecureScoreMfaRegistration => "Secure Score: MFA registration",
        }
    }
}

/// One value a check was decided on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// What the value is (`enablement.scope`, `skus`, `coverage`).
    pub name: String,
    /// The value as read, in words or numbers (`all`, `Business Premium (SPB)`, `412 of 480`).
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

/// How to close what a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Remedy {
    /// What to do, in one sentence.
    pub text: String,
    /// The exact `sspr` command, where sspr can do it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The portal path, where no API can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal: Option<String>,
}

/// The Secure Score points a check puts at stake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Points {
    /// The Secure Score control (`SelfServicePasswordReset`, `MFARegistrationV2`).
    pub control: String,
    /// The points the tenant has for it now; absent when Secure Score could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The control's `maxScore`, read from its profile at run time; absent when unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_score: Option<f64>,
}

/// One item of the checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub id: CheckId,
    pub title: String,
    pub status: CheckStatus,
    /// What was found, in one sentence.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// Absent when the check passes or does not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<Remedy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Points>,
}

/// How many checks came out each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusCounts {
    pub pass: u32,
    pub warn: u32,
    pub fail: u32,
    pub unknown: u32,
    pub not_applicable: u32,
}

impl StatusCounts {
    /// The counts of `statuses`.
    pub fn of(statuses: impl IntoIterator<Item = CheckStatus>) -> StatusCounts {
        let mut counts = StatusCounts::default();
        for status in statuses {
            *match status {
                CheckStatus::Pass => &mut counts.pass,
                CheckStatus::Warn => &mut counts.warn,
                CheckStatus::Fail => &mut counts.fail,
                CheckStatus::Unknown => &mut counts.unknown,
                CheckStatus::NotApplicable => &mut counts.not_applicable,
            } += 1;
        }
        counts
    }
}

/// The Secure Score points of the two controls, together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PointsSummary {
    /// Points the tenant has for the two controls.
    pub achieved: f64,
    /// The two controls' `maxScore` together.
    pub max: f64,
    /// Still to gain: `max - achieved`.
    pub available: f64,
}

/// A portal users go to, and what for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPortal {
    /// `https://aka.ms/setupsecurityinfo`, …
    pub url: String,
    /// What users do there.
    pub purpose: String,
}

/// The portals to tell users about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPortals {
    /// Where this tenant's users register their methods.
    pub registration: String,
    /// Where they reset a forgotten password.
    pub reset: String,
    /// All four, with what each is for.
    pub all: Vec<UserPortal>,
}

/// One tenant's readiness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::tenant_readiness))]
pub struct TenantReadiness {
    pub tenant: TenantRef,
    /// When the checks began (RFC 3339).
    pub read_at: String,
    /// The worst of the checks' statuses, `unknown` and `notApplicable` aside: `fail` if any
    /// failed, else `warn` if any warned, else `pass`.
    pub status: CheckStatus,
    pub counts: StatusCounts,
    /// One per [`CheckId`], in the guide's order.
    pub checks: Vec<Check>,
    /// The two Secure Score controls' points; absent when Secure Score could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<PointsSummary>,
    pub portals: UserPortals,
}

/// One tenant's line of the fleet readiness: its readiness or its problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::fleet_readiness_entry))]
pub struct FleetReadinessEntry {
    /// The tenant id.
    pub tenant: String,
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<TenantReadiness>,
    /// Why this tenant has no readiness (RFC 9457).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Problem)]
    pub problem: Option<Value>,
}

/// One row of the matrix: a tenant's status per check, in `ReadinessMatrix::checks` order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatrixRow {
    pub tenant: String,
    pub domain: String,
    /// Absent for a tenant with a problem.
    pub statuses: Option<Vec<CheckStatus>>,
}

/// Tenants × checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessMatrix {
    pub checks: Vec<CheckId>,
    /// Sorted by domain.
    pub rows: Vec<MatrixRow>,
}

/// The fleet's readiness as one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::fleet_readiness))]
pub struct FleetReadiness {
    /// In the order the tenants completed.
    pub tenants: Vec<FleetReadinessEntry>,
    /// How many tenants have a problem instead of a readiness.
    pub failed: usize,
    pub matrix: ReadinessMatrix,
}

impl ReadinessMatrix {
    /// The matrix of `entries`, rows sorted by domain.
    pub fn of(entries: &[FleetReadinessEntry]) -> ReadinessMatrix {
        let mut rows: Vec<MatrixRow> = entries
            .iter()
            .map(|entry| MatrixRow {
                tenant: entry.tenant.clone(),
                domain: entry.domain.clone(),
                statuses: entry.readiness.as_ref().map(|readiness| {
                    CheckId::ALL
                        .iter()
                        .map(|id| {
                            readiness
                                .checks
                                .iter()
                                .find(|check| check.id == *id)
                                .map_or(CheckStatus::Unknown, |check| check.status)
                        })
                        .collect()
                }),
            })
            .collect();
        rows.sort_by(|a, b| a.domain.cmp(&b.domain).then(a.tenant.cmp(&b.tenant)));
        ReadinessMatrix {
            checks: CheckId::ALL.to_vec(),
            rows,
        }
    }
}

/// The one-page guide for a tenant's users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::user_guide))]
pub struct UserGuide {
    pub tenant: TenantRef,
    /// The helpdesk link of the tenant's policy, when one is set and readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helpdesk_link: Option<String>,
    /// How many methods a reset needs, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods_required: Option<u8>,
    /// The methods users can register for reset, when known (`mobilePhone`, `email`, …).
    pub methods: Vec<String>,
    /// Whether the Windows sign-in screen shows "Reset password" (true only when a policy is seen).
    pub windows_reset_link: bool,
    pub portals: UserPortals,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_names_are_the_serialized_ones() {
        for id in CheckId::ALL {
            assert_eq!(serde_json::to_value(id).unwrap(), id.as_str());
        }
        for status in CheckStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }

    #[test]
    fn the_matrix_has_a_column_per_check_and_sorts_rows_by_domain() {
        let example: FleetReadiness =
            serde_json::from_value(crate::examples::fleet_readiness()).expect("the example");
        let matrix = ReadinessMatrix::of(&example.tenants);
        assert_eq!(
            matrix, example.matrix,
            "the example's matrix is the one computed"
        );
        assert_eq!(example.tenants[0].domain, "fabrikam.onmicrosoft.com");
        assert!(matrix.rows.windows(2).all(|w| w[0].domain <= w[1].domain));
        for row in &matrix.rows {
            if let Some(statuses) = &row.statuses {
                assert_eq!(statuses.len(), CheckId::ALL.len());
            }
        }
    }
}
