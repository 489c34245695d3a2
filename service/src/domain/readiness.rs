//! The "Enable self-service password reset" checklist (issue 15; msp-readiness.md §3–7): one
//! check per item of the guide, decided from what was read, each with its evidence (every value
//! with its source), the remedy (the exact `sspr` command, or the portal path where no API
//! exists) and the Secure Score points at stake. Pure: the reads happen in `ops::readiness`; a
//! read that failed arrives as [`Unread`] and its checks say `unknown`, with why.

use sspr_api::policy::{EnablementScope, MethodsGroup, PolicyDocument, Source};
use sspr_api::protection::{PolicyState, ProtectionStatus, Verdict};
use sspr_api::readiness::{
    Check, CheckId, CheckStatus, Evidence, Points, PointsSummary, Remedy, StatusCounts,
    TenantReadiness, UserGuide, UserPortal, UserPortals,
};
use sspr_api::registrations::RegistrationSummary;
use sspr_api::tenants::TenantRef;
use sspr_api::windows_link::WindowsResetLinkStatus;

use super::licence::{AAD_PREMIUM, AAD_PREMIUM_P2, SubscribedSku};
use super::secure_score::{ControlScore, MFA_REGISTRATION_CONTROL, SSPR_CONTROL};

/// A read that failed: why, in words the admin can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub reason: String,
}

impl Unread {
    pub fn new(reason: impl Into<String>) -> Self {
        Unread {
            reason: reason.into(),
        }
    }
}

/// What the checks are decided against, configurable (`[readiness]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadinessRules {
    /// SKU part numbers that allow cloud-only reset without an Entra ID P1 plan
    /// (msp-readiness.md §6: Business Standard and up).
    pub cloud_reset_skus: Vec<String>,
    /// Registration coverage at or above this share of SSPR-enabled members passes.
    pub coverage_pass_percent: f64,
    /// At or above this (and below the pass mark) warns; below fails.
    pub coverage_warn_percent: f64,
}

impl Default for ReadinessRules {
    fn default() -> Self {
        ReadinessRules {
            cloud_reset_skus: ["O365_BUSINESS_PREMIUM", "SPB", "SMB_BUSINESS_PREMIUM"]
                .map(String::from)
                .to_vec(),
            coverage_pass_percent: 90.0,
            coverage_warn_percent: 60.0,
        }
    }
}

/// Everything the checks read, each part read or not.
pub struct Observed<'a> {
    pub tenant: TenantRef,
    pub read_at: String,
    pub skus: Result<&'a [SubscribedSku], Unread>,
    pub policy: Result<&'a PolicyDocument, Unread>,
    pub protection: Result<&'a ProtectionStatus, Unread>,
    pub registrations: Result<&'a RegistrationSummary, Unread>,
    /// The two controls, in the order `[SSPR_CONTROL, MFA_REGISTRATION_CONTROL]`.
    pub secure_score: Result<&'a [ControlScore], Unread>,
    pub windows_link: Result<&'a WindowsResetLinkStatus, Unread>,
}

/// The portal path of the Password reset blade.
const PASSWORD_RESET_BLADE: &str = "Entra admin center > Protection > Password reset";

/// The registry value for devices outside Intune.
pub const REGISTRY_ALTERNATIVE: &str = "HKLM\\SOFTWARE\\Policies\\Microsoft\\AzureADAccount \
     AllowPasswordReset = 1 (DWORD); `sspr windows-reset-link script` gives the .reg file and a \
     PowerShell remediation script";

/// The tenant's readiness: every check of [`CheckId::ALL`], in order.
pub fn assess(observed: &Observed<'_>, rules: &ReadinessRules) -> TenantReadiness {
    let tenant = observed.tenant.domain.as_str();
    let ask = Ask { tenant };
    let checks: Vec<Check> = CheckId::ALL
        .iter()
        .map(|&id| {
            let found = match id {
                CheckId::CloudLicence => cloud_licence(observed, rules),
                CheckId::WritebackLicence => writeback_licence(observed),
                CheckId::OnPremisesIntegration => on_premises(observed, &ask),
                CheckId::EnablementScope => enablement(observed, &ask),
                CheckId::MethodsAndGates => methods_and_gates(observed, &ask),
                CheckId::Registration => registration(observed, &ask),
                CheckId::Notifications => notifications(observed, &ask),
                CheckId::HelpdeskLink => helpdesk_link(observed, &ask),
                CheckId::WindowsResetLink => windows_link(observed, &ask),
                CheckId::RegistrationProtection => protection(observed, &ask),
                CheckId::MfaRegistrationEnforced => mfa_registration(observed),
                CheckId::RegistrationCoverage => coverage(observed, rules, &ask),
                CheckId::SecureScoreSspr => secure_score(observed, SSPR_CONTROL),
                CheckId::SecureScoreMfaRegistration => {
                    secure_score(observed, MFA_REGISTRATION_CONTROL)
                }
            };
            found.into_check(id)
        })
        .collect();
    let counts = StatusCounts::of(checks.iter().map(|c| c.status));
    let status = if counts.fail > 0 {
        CheckStatus::Fail
    } else if counts.warn > 0 {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    TenantReadiness {
        tenant: observed.tenant.clone(),
        read_at: observed.read_at.clone(),
        status,
        counts,
        checks,
        points: points_summary(observed),
        portals: user_portals(),
    }
}

/// The four portals users are told about; registration is combined (security info) for every
/// tenant since Microsoft retired the separate registrations in 2022.
pub fn user_portals() -> UserPortals {
    let portal = |url: &str, purpose: &str| UserPortal {
        url: url.to_owned(),
        purpose: purpose.to_owned(),
    };
    UserPortals {
        registration: "https://aka.ms/setupsecurityinfo".into(),
        reset: "https://aka.ms/sspr".into(),
        all: vec![
            portal(
                "https://aka.ms/setupsecurityinfo",
                "Register or change the methods for MFA and password reset (combined registration)",
            ),
            portal(
                "https://aka.ms/mfasetup",
                "Set up multifactor authentication",
            ),
            portal("https://aka.ms/ssprsetup", "Register for password reset"),
            portal("https://aka.ms/sspr", "Reset a forgotten password"),
        ],
    }
}

/// The one-page guide for the tenant's users: what its policy says (when it was read) and
/// whether the Windows sign-in screen shows the link (only when its check passes).
pub fn user_guide(
    tenant: TenantRef,
    policy: Option<&PolicyDocument>,
    windows_link: Option<&WindowsResetLinkStatus>,
) -> UserGuide {
    UserGuide {
        tenant,
        helpdesk_link: policy.and_then(|p| p.customization.helpdesk_link.clone().flatten()),
        methods_required: policy.and_then(|p| p.authentication.methods_required),
        methods: policy
            .and_then(usable_methods)
            .unwrap_or_default()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        windows_reset_link: windows_link.is_some_and(|status| status.status == CheckStatus::Pass),
        portals: user_portals(),
    }
}

/// A check's outcome before it gets its id and title.
struct Found {
    status: CheckStatus,
    summary: String,
    evidence: Vec<Evidence>,
    remedy: Option<Remedy>,
    points: Option<Points>,
}

impl Found {
    fn new(status: CheckStatus, summary: impl Into<String>) -> Self {
        Found {
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            remedy: None,
            points: None,
        }
    }

    fn unknown(unread: &Unread) -> Self {
        Found::new(CheckStatus::Unknown, unread.reason.clone())
    }

    fn with(mut self, name: &str, value: impl ToString, source: Source) -> Self {
        self.evidence.push(Evidence {
            name: name.to_owned(),
            value: value.to_string(),
            source,
        });
        self
    }

    fn remedy(mut self, remedy: Remedy) -> Self {
        // A passing check needs nothing done.
        if !matches!(self.status, CheckStatus::Pass | CheckStatus::NotApplicable) {
            self.remedy = Some(remedy);
        }
        self
    }

    fn points(mut self, points: Points) -> Self {
        self.points = Some(points);
        self
    }

    fn into_check(self, id: CheckId) -> Check {
        Check {
            id,
            title: id.title().to_owned(),
            status: self.status,
            summary: self.summary,
            evidence: self.evidence,
            remedy: self.remedy,
            points: self.points,
        }
    }
}

/// The remedies' commands, for one tenant.
struct Ask<'a> {
    tenant: &'a str,
}

impl Ask<'_> {
    fn policy_set(&self, flags: &str) -> Remedy {
        Remedy {
            text: String::new(),
            command: Some(format!("sspr policy set --tenant {} {flags}", self.tenant)),
            portal: None,
        }
    }

    fn command(&self, command: &str) -> Remedy {
        Remedy {
            text: String::new(),
            command: Some(format!("sspr {command} --tenant {}", self.tenant)),
            portal: None,
        }
    }
}

fn text(mut remedy: Remedy, text: &str) -> Remedy {
    remedy.text = text.to_owned();
    remedy
}

fn portal(text: &str, path: &str) -> Remedy {
    Remedy {
        text: text.to_owned(),
        command: None,
        portal: Some(path.to_owned()),
    }
}

fn on_off(value: bool) -> &'static str {
    if value { "on" } else { "off" }
}

// ---------------------------------------------------------------------------------------------
// Licences
// ---------------------------------------------------------------------------------------------

fn active(sku: &SubscribedSku) -> bool {
    matches!(sku.capability_status.as_str(), "Enabled" | "Warning")
}

fn has_premium_plan(sku: &SubscribedSku) -> bool {
    sku.service_plans.iter().any(|plan| {
        (plan.service_plan_id.eq_ignore_ascii_case(AAD_PREMIUM)
            || plan.service_plan_id.eq_ignore_ascii_case(AAD_PREMIUM_P2))
            && plan.provisioning_status == "Success"
    })
}

/// The SKUs as evidence: part number, status, and whether it carries Entra ID P1.
fn skus_evidence(skus: &[SubscribedSku]) -> String {
    if skus.is_empty() {
        return "none".into();
    }
    skus.iter()
        .map(|sku| {
            let premium = if has_premium_plan(sku) {
                ", AAD_PREMIUM"
            } else {
                ""
            };
            format!(
                "{} ({}{premium})",
                sku.sku_part_number, sku.capability_status
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn cloud_licence(observed: &Observed<'_>, rules: &ReadinessRules) -> Found {
    let skus = match &observed.skus {
        Ok(skus) => *skus,
        Err(unread) => return Found::unknown(unread),
    };
    let allowing = skus.iter().filter(|sku| active(sku)).find(|sku| {
        has_premium_plan(sku)
            || rules
                .cloud_reset_skus
                .iter()
                .any(|part| part.eq_ignore_ascii_case(&sku.sku_part_number))
    });
    let found = match allowing {
        Some(sku) => Found::new(
            CheckStatus::Pass,
            format!("{} allows cloud-only users to reset.", sku.sku_part_number),
        ),
        None => Found::new(
            CheckStatus::Fail,
            "No active licence allows cloud-only users to reset: they can only change a password they know.",
        ),
    };
    found
        .with("skus", skus_evidence(skus), Source::Graph)
        .remedy(portal(
            "License the users for Microsoft 365 Business Standard or higher, or Entra ID P1/P2.",
            "Microsoft 365 admin center > Billing > Purchase services",
        ))
}

/// Whether the tenant synchronizes from on-premises AD: `None` when the policy was not read.
fn syncs(observed: &Observed<'_>) -> Option<bool> {
    observed
        .policy
        .as_ref()
        .ok()
        .map(|policy| policy.directory_sync.syncs)
}

fn writeback_licence(observed: &Observed<'_>) -> Found {
    if syncs(observed) == Some(false) {
        return Found::new(
            CheckStatus::NotApplicable,
            "The tenant does not synchronize from on-premises AD: no writeback needed.",
        )
        .with("directorySync.syncs", false, Source::Graph);
    }
    let skus = match &observed.skus {
        Ok(skus) => *skus,
        Err(unread) => return Found::unknown(unread),
    };
    let found = match skus.iter().find(|sku| active(sku) && has_premium_plan(sku)) {
        Some(sku) => Found::new(
            CheckStatus::Pass,
            format!(
                "{} carries AAD_PREMIUM, which writeback needs.",
                sku.sku_part_number
            ),
        ),
        None => Found::new(
            CheckStatus::Fail,
            "No active SKU carries Entra ID P1 (AAD_PREMIUM): hybrid users cannot reset with writeback.",
        ),
    };
    found
        .with("skus", skus_evidence(skus), Source::Graph)
        .remedy(portal(
            "License the hybrid users for Entra ID P1 (Business Premium, M365 E3/E5, EMS).",
            "Microsoft 365 admin center > Billing > Purchase services",
        ))
}

// ---------------------------------------------------------------------------------------------
// The policy's settings
// ---------------------------------------------------------------------------------------------

fn policy<'a>(observed: &'a Observed<'_>) -> Result<&'a PolicyDocument, &'a Unread> {
    observed.policy.as_ref().map(|p| *p)
}

/// A group that could not be read: `unknown`, with its reason and where to look.
fn unavailable(group: &str, reason: &Option<String>, remedy: &Option<String>) -> Found {
    let mut found = Found::new(
        CheckStatus::Unknown,
        reason
            .clone()
            .unwrap_or_else(|| format!("The policy's {group} could not be read.")),
    );
    found.remedy = Some(portal(
        remedy
            .as_deref()
            .unwrap_or("Look in the portal, or connect the portal back end."),
        PASSWORD_RESET_BLADE,
    ));
    found
}

fn on_premises(observed: &Observed<'_>, ask: &Ask<'_>) -> Found {
    let policy = match policy(observed) {
        Ok(policy) => policy,
        Err(unread) => return Found::unknown(unread),
    };
    if !policy.directory_sync.syncs {
        return Found::new(
            CheckStatus::NotApplicable,
            "The tenant is cloud-only: writeback and unlock do not apply.",
        )
        .with(
            "directorySync.onPremisesSyncEnabled",
            format!("{:?}", policy.directory_sync.on_premises_sync_enabled),
            policy.directory_sync.source,
        );
    }
    let group = &policy.on_premises;
    let (Some(writeback), unlock) = (group.password_writeback, group.unlock_without_reset) else {
        return unavailable("on-premises integration", &group.reason, &group.remedy);
    };
    let unlock = unlock.unwrap_or(false);
    let found = match (writeback, unlock) {
        (true, true) => Found::new(
            CheckStatus::Pass,
            "Directory sync is on; writeback and unlock without reset are on.",
        ),
        (true, false) => Found::new(
            CheckStatus::Warn,
            "Writeback is on, but users cannot unlock their AD account without resetting.",
        ),
        (false, _) => Found::new(
            CheckStatus::Fail,
            "Directory sync is on but password writeback is off: synchronized users cannot reset.",
        ),
    };
    found
        .with("directorySync.syncs", true, policy.directory_sync.source)
        .with("onPremises.passwordWriteback", writeback, group.source)
        .with("onPremises.unlockWithoutReset", unlock, group.source)
        .remedy(text(
            ask.policy_set("--writeback on --unlock on"),
            "Turn on writeback and unlock (Entra Connect must have password writeback enabled).",
        ))
}

fn enablement(observed: &Observed<'_>, ask: &Ask<'_>) -> Found {
    let policy = match policy(observed) {
        Ok(policy) => policy,
        Err(unread) => return Found::unknown(unread),
    };
    let group = &policy.enablement;
    let points = Points {
        control: SSPR_CONTROL.into(),
        score: control(observed, SSPR_CONTROL).and_then(|c| c.score),
        max_score: control(observed, SSPR_CONTROL).and_then(|c| c.max_score),
    };
    let found = match group.scope {
        Some(EnablementScope::All) => {
            Found::new(CheckStatus::Pass, "SSPR is enabled for every user.")
        }
        Some(EnablementScope::Selected) => Found::new(
            CheckStatus::Warn,
            format!(
                "SSPR is enabled only for the members of {}.",
                group
                    .group_name
                    .as_deref()
                    .or(group.group_id.as_deref())
                    .unwrap_or("one group")
            ),
        ),
        Some(EnablementScope::None) => Found::new(CheckStatus::Fail, "SSPR is enabled for nobody."),
        Some(EnablementScope::Unknown) | None => {
            return unavailable("enablement", &group.reason, &group.remedy).points(points);
        }
    };
    let scope = match group.scope {
        Some(EnablementScope::All) => "all",
        Some(EnablementScope::Selected) => "selected",
        _ => "none",
    };
    found
        .with("enablement.scope", scope, group.source)
        .remedy(text(
            ask.policy_set("--enablement all"),
            "Enable SSPR for every user (pilot with a group first if needed).",
        ))
        .points(points)
}

/// The reset methods usable, by family: the Authenticator app's notification and code are one
/// app, so they count once (with two gates the app alone is not enough).
fn usable_methods(policy: &PolicyDocument) -> Option<Vec<&'static str>> {
    let mut families = Vec::new();
    let (app, email, mobile, office, questions) = match &policy.methods {
        MethodsGroup::Graph {
            mobile_app_notification,
            mobile_app_code,
            email,
            mobile_phone,
            office_phone,
            ..
        } => (
            mobile_app_notification.usable || mobile_app_code.usable,
            email.usable,
            mobile_phone.usable,
            office_phone.usable,
            policy
                .authentication
                .security_questions
                .as_ref()
                .is_some_and(|q| q.enabled),
        ),
        MethodsGroup::Portal {
            mobile_app_notification,
            mobile_app_code,
            email,
            mobile_phone,
            office_phone,
            security_questions,
            ..
        } => (
            *mobile_app_notification || *mobile_app_code,
            *email,
            *mobile_phone,
            *office_phone,
            *security_questions,
        ),
        MethodsGroup::Unavailable { .. } => return None,
    };
    for (usable, name) in [
        (app, "microsoftAuthenticator"),
        (email, "email"),
        (mobile, "mobilePhone"),
        (office, "officePhone"),
        (questions, "securityQuestions"),
    ] {
        if usable {
            families.push(name);
        }
    }
    Some(families)
}

fn methods_and_gates(observed: &Observed<'_>, ask: &Ask<'_>) -> Found {
    let policy = match policy(observed) {
        Ok(policy) => policy,
        Err(unread) => return Found::unknown(unread),
    };
    let auth = &policy.authentication;
    let Some(required) = auth.methods_required else {
        return unavailable("authentication methods", &auth.reason, &auth.remedy);
    };
    let Some(methods) = usable_methods(policy) else {
        let (reason, remedy) = match &policy.methods {
            MethodsGroup::Unavailable { reason, remedy } => {
                (Some(reason.clone()), Some(remedy.clone()))
            }
            _ => (None, None),
        };
        return unavailable("methods", &reason, &remedy);
    };
    let methods_source = match &policy.methods {
        MethodsGroup::Graph { .. } => Source::Graph,
        _ => Source::Portal,
    };
    let count = methods.len();
    let found = if count < usize::from(required) {
        Found::new(
            CheckStatus::Fail,
            format!(
                "A reset needs {required} methods but only {count} {} usable{}: nobody can reset.",
                if count == 1 { "is" } else { "are" },
                if methods == ["microsoftAuthenticator"] {
                    " (the Authenticator app counts once)"
                } else {
                    ""
                }
            ),
        )
    } else if required == 1 {
        Found::new(
            CheckStatus::Warn,
            format!("One method resets a password ({count} usable); the guide asks for two."),
        )
    } else {
        Found::new(
            CheckStatus::Pass,
            format!("Two methods are needed and {count} are usable."),
        )
    };
    let remedy = if count < usize::from(required) {
        text(
            ask.policy_set("--method email=on,mobilePhone=on"),
            "Make more methods usable for reset (or require one method).",
        )
    } else {
        text(
            ask.policy_set("--methods-required 2"),
            "Require two methods for a reset.",
        )
    };
    found
        .with("authentication.methodsRequired", required, auth.source)
        .with(
            "methods",
            if methods.is_empty() {
                "none".to_owned()
            } else {
                methods.join(", ")
            },
            methods_source,
        )
        .remedy(remedy)
}

fn registration(observed: &Observed<'_>, ask: &Ask<'_>) -> Found {
    let policy = match policy(observed) {
        Ok(policy) => policy,
        Err(unread) => return Found::unknown(unread),
    };
    let group = &policy.registration;
    let (Some(required), Some(days)) =
        (group.require_registration_on_sign_in, group.reconfirm_days)
    else {
        return unavailable("registration settings", &group.reason, &group.remedy);
    };
    let (found, remedy) = match (required, days) {
        (true, 1..) => (
            Found::new(
                CheckStatus::Pass,
                format!("Registration is required at sign-in; users re-confirm every {days} days."),
            ),
            ask.policy_set("--registration-required on"),
        ),
        (true, 0) => (
            Found::new(
                CheckStatus::Warn,
                "Registration is required at sign-in, but users are never asked to re-confirm.",
            ),
            text(
                ask.policy_set("--reconfirm-days 180"),
                "Ask users to re-confirm their methods every 180 days.",
            ),
        ),
        (false, _) => (
            Found::new(
                CheckStatus::Fail,
                "Users are not asked to register at sign-in: most will have nothing to reset with.",
            ),
            text(
                ask.policy_set(if days == 0 {
                    "--registration-required on --reconfirm-days 180"
                } else {
                    "--registration-required on"
                }),
                "Require registration at sign-in.",
            ),
        ),
    };
    found
        .with(
            "registration.requireRegistrationOnSignIn",
            required,
            group.source,
        )
        .with("registration.reconfirmDays", days, group.source)
        .remedy(remedy)
}

fn notifications(observed: &Observed<'_>, ask: &Ask<'_>) -> Found {
    let policy = match policy(observed) {
        Ok(policy) => policy,
        Err(unread) => return Found::unknown(unread),
    };
    let group = &policy.notifications;
    let (Some(users), Some(admins)) = (
        group.notify_users_on_reset,
        group.notify_admins_on_admin_reset,
    ) else {
        return unavailable("notification settings", &group.reason, &group.remedy);
    };
    let found = match (users, admins) {
        (true, true) => Found::new(
            CheckStatus::Pass,
            "Users are notified of resets and admins of other admins' resets.",
        ),
        (true, false) | (false, true) => Found::new(
            CheckStatus::Warn,
            format!(
                "Only {} notified.",
                if users { "users are" } else { "admins are" }
            ),
        ),
        (false, false) => Found::new(
            CheckStatus::Fail,
            "Nobody is notified of a reset: a takeover would go unnoticed.",
        ),
    };
    found
        .with(
            "notifications.notifyUsersOnReset",
            on_off(users),
            group.source,
        )
        .with(
            "notifications.notifyAdminsOnAdminReset",
            on_off(admins),
            group.source,
        )
        .remedy(text(
            ask.policy_set("--notify-users on --notify-admins on"),
            "Notify users and admins of resets.",
        ))
}

fn helpdesk_link(observed: &Observed<'_>, ask: &Ask<'_>) -> Found {
    let policy = match policy(observed) {
        Ok(policy) => policy,
        Err(unread) => return Found::unknown(unread),
    };
    let group = &policy.customization;
    let Some(link) = &group.helpdesk_link else {
        return unavailable("helpdesk link", &group.reason, &group.remedy);
    };
    let found = match link {
        Some(link) => Found::new(
            CheckStatus::Pass,
            format!("Users who cannot reset are sent to {link}."),
        )
        .with("customization.helpdeskLink", link, group.source),
        None => Found::new(
            CheckStatus::Warn,
            "No helpdesk link: users who cannot reset are only told to contact their administrator.",
        )
        .with("customization.helpdeskLink", "none", group.source),
    };
    found.remedy(text(
        ask.policy_set("--helpdesk-link https://help.example.com/password"),
        "Set the helpdesk link to your service desk's page or address.",
    ))
}

// ---------------------------------------------------------------------------------------------
// Beyond the policy
// ---------------------------------------------------------------------------------------------

/// The Windows link's status (`ops::windows_link`, graded by `windows_link::verdict`), as a
/// check with its remedy: the deploy, or the registry where Intune cannot be read.
fn windows_link(observed: &Observed<'_>, ask: &Ask<'_>) -> Found {
    let status = match &observed.windows_link {
        Ok(status) => *status,
        Err(unread) => return Found::unknown(unread).remedy(registry_remedy(ask)),
    };
    let mut found = Found::new(status.status, status.summary.clone());
    found.evidence = status.evidence.clone();
    let remedy = if status.status == CheckStatus::Unknown {
        registry_remedy(ask)
    } else {
        text(
            ask.command("windows-reset-link apply --all-devices"),
            "Deploy sspr's settings-catalog policy to all devices (or a group), or set the registry value on devices outside Intune.",
        )
    };
    found.remedy(remedy)
}

fn registry_remedy(ask: &Ask<'_>) -> Remedy {
    Remedy {
        text: format!(
            "Without Intune, set the registry value on each device: {REGISTRY_ALTERNATIVE}."
        ),
        command: Some(format!(
            "sspr windows-reset-link script --tenant {} --format powershell",
            ask.tenant
        )),
        portal: None,
    }
}

fn protection(observed: &Observed<'_>, ask: &Ask<'_>) -> Found {
    let status = match &observed.protection {
        Ok(status) => *status,
        Err(unread) => {
            return Found::unknown(unread).remedy(text(
                ask.command("registration-protection plan"),
                "Plan the registration-protection policy once Conditional Access can be read.",
            ));
        }
    };
    let enabled: Vec<_> = status
        .policies
        .iter()
        .filter(|p| p.state == PolicyState::Enabled)
        .collect();
    let found = match status.verdict {
        Verdict::Pass => Found::new(
            CheckStatus::Pass,
            "An enforced Conditional Access policy protects security-info registration.",
        ),
        Verdict::Warn => Found::new(
            CheckStatus::Warn,
            "Security-info registration is protected, with gaps (see the grade).",
        ),
        Verdict::Fail if enabled.is_empty() => Found::new(
            CheckStatus::Fail,
            "No enforced Conditional Access policy protects security-info registration.",
        ),
        Verdict::Fail => Found::new(
            CheckStatus::Fail,
            "The enforced policies on security-info registration do not protect it for everyone.",
        ),
    };
    let mut found = found.with(
        "policies",
        format!(
            "{} on the registration action, {} enforced",
            status.policies.len(),
            enabled.len()
        ),
        Source::Graph,
    );
    for policy in &status.policies {
        found = found.with(
            "policy",
            format!(
                "{} ({}, graded {})",
                policy.display_name,
                match policy.state {
                    PolicyState::Enabled => "enforced",
                    PolicyState::ReportOnly => "report-only",
                    PolicyState::Disabled => "off",
                },
                match policy.verdict {
                    Verdict::Pass => "pass",
                    Verdict::Warn => "warn",
                    Verdict::Fail => "fail",
                }
            ),
            Source::Graph,
        );
    }
    let command = if status.ours.is_some() {
        "registration-protection status"
    } else {
        "registration-protection apply"
    };
    found.remedy(text(
        ask.command(command),
        "Deploy sspr's registration-protection policy (report-only first), then enforce it.",
    ))
}

fn mfa_registration(observed: &Observed<'_>) -> Found {
    let identity_protection = portal(
        "Turn on the registration campaign, or check the Identity Protection MFA registration policy (no API) in the portal.",
        "Entra admin center > Protection > Identity Protection > Multifactor authentication registration policy",
    );
    let policy = match policy(observed) {
        Ok(policy) => policy,
        Err(unread) => return Found::unknown(unread).remedy(identity_protection),
    };
    let methods_policy = &policy.methods_policy;
    let Some(campaign) = &methods_policy.registration_campaign else {
        return Found::new(
            CheckStatus::Unknown,
            "The registration campaign could not be read; the Identity Protection MFA registration policy has no API.",
        )
        .remedy(identity_protection);
    };
    let targets = if campaign.include_targets.is_empty() {
        "nobody".to_owned()
    } else {
        campaign.include_targets.join(", ")
    };
    // Graph's `all_users` target, in words.
    let asked = targets.replace("all_users", "all users");
    if campaign.state == "enabled" && !campaign.include_targets.is_empty() {
        Found::new(
            CheckStatus::Pass,
            format!("The registration campaign asks {asked} to register."),
        )
        .with(
            "registrationCampaign.state",
            &campaign.state,
            methods_policy.source,
        )
        .with(
            "registrationCampaign.includeTargets",
            targets,
            methods_policy.source,
        )
    } else {
        Found::new(
            CheckStatus::Unknown,
            format!(
                "The registration campaign is {}; the Identity Protection MFA registration policy has no API, so whether it enforces registration is not known.",
                if campaign.state == "enabled" {
                    "enabled for nobody"
                } else {
                    "off"
                }
            ),
        )
        .with("registrationCampaign.state", &campaign.state, methods_policy.source)
        .remedy(identity_protection)
    }
}

fn coverage(observed: &Observed<'_>, rules: &ReadinessRules, ask: &Ask<'_>) -> Found {
    let summary = match &observed.registrations {
        Ok(summary) => *summary,
        Err(unread) => return Found::unknown(unread),
    };
    let members = &summary.members;
    let guests = summary.gaps.guests;
    if members.sspr_enabled == 0 {
        return Found::new(
            CheckStatus::NotApplicable,
            "SSPR is enabled for no member: there is no coverage to measure.",
        )
        .with("members.ssprEnabled", 0, Source::Graph)
        .with("guests", guests, Source::Graph);
    }
    let registered = members.sspr_enabled_registered;
    let percent = registered as f64 * 100.0 / members.sspr_enabled as f64;
    let status = if percent >= rules.coverage_pass_percent {
        CheckStatus::Pass
    } else if percent >= rules.coverage_warn_percent {
        CheckStatus::Warn
    } else {
        CheckStatus::Fail
    };
    Found::new(
        status,
        format!(
            "{registered} of {} SSPR-enabled members registered ({percent:.1}%, threshold {}%); {guests} {} counted apart.",
            members.sspr_enabled,
            rules.coverage_pass_percent,
            if guests == 1 { "guest" } else { "guests" }
        ),
    )
    .with(
        "coverage",
        format!("{registered} of {}", members.sspr_enabled),
        Source::Graph,
    )
    .with("coveragePercent", format!("{percent:.1}"), Source::Graph)
    .with("guests", guests, Source::Graph)
    .remedy(text(
        ask.command("registrations list --sspr enabledNotRegistered"),
        "Remind the members who have not registered; the command lists them.",
    ))
}

fn control<'a>(observed: &'a Observed<'_>, name: &str) -> Option<&'a ControlScore> {
    observed
        .secure_score
        .as_ref()
        .ok()
        .and_then(|controls| controls.iter().find(|c| c.control == name))
}

fn secure_score(observed: &Observed<'_>, name: &str) -> Found {
    let grant = portal(
        "Grant the application SecurityEvents.Read.All so Secure Score can be read.",
        "Entra admin center > App registrations > API permissions",
    );
    if let Err(unread) = &observed.secure_score {
        return Found::unknown(unread).remedy(grant);
    }
    let Some(found) = control(observed, name) else {
        return Found::new(
            CheckStatus::Unknown,
            format!("Secure Score has no control {name}."),
        );
    };
    let points = Points {
        control: name.to_owned(),
        score: found.score,
        max_score: found.max_score,
    };
    let (Some(score), Some(max)) = (found.score, found.max_score) else {
        return Found::new(
            CheckStatus::Unknown,
            format!("The latest Secure Score does not grade {name}."),
        )
        .points(points);
    };
    let status = if score >= max {
        CheckStatus::Pass
    } else if score > 0.0 {
        CheckStatus::Warn
    } else {
        CheckStatus::Fail
    };
    let counted = match (found.count, found.total) {
        (Some(count), Some(total)) => format!(" (count {count} of {total})"),
        _ => String::new(),
    };
    let remedy = if name == SSPR_CONTROL {
        portal(
            "Enable SSPR for every user (the control counts users SSPR is enabled for).",
            PASSWORD_RESET_BLADE,
        )
    } else {
        portal(
            "Get every user to register for MFA (registration campaign, Conditional Access).",
            "Entra admin center > Protection > Authentication methods > Registration campaign",
        )
    };
    let mut result = Found::new(status, format!("{score} of {max} points.")).with(
        name,
        format!("{score} of {max}{counted}"),
        Source::Graph,
    );
    if let Some(sentence) = &found.implementation_status {
        result = result.with("implementationStatus", sentence, Source::Graph);
    }
    result.remedy(remedy).points(points)
}

fn points_summary(observed: &Observed<'_>) -> Option<PointsSummary> {
    let controls = observed.secure_score.as_ref().ok()?;
    let mut achieved = 0.0;
    let mut max = 0.0;
    for name in [SSPR_CONTROL, MFA_REGISTRATION_CONTROL] {
        let control = controls.iter().find(|c| c.control == name)?;
        achieved += control.score?;
        max += control.max_score?;
    }
    Some(PointsSummary {
        achieved,
        max,
        available: (max - achieved).max(0.0),
    })
}

#[cfg(test)]
#[path = "readiness_tests.rs"]
mod tests;
