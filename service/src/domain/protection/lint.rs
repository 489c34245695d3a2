//! Grading an existing policy on the registration action: a verdict and one reason per check,
//! each saying what it found and why it matters. Pure.
//!
//! The checks encode where the peers got it wrong: a browser-only policy leaves native-app
//! registration open (maester#2105), an excluded location must really be trusted
//! (maester#2188, #2227), a trusted named location other than `AllTrusted` is fine
//! (maester#739), break-glass exclusions are expected rather than a failure (ScubaGear#1706),
//! and other exclusions are named one by one, as a warning that says how to make the policy
//! pass if they are intended (ScubaGear#1707, #2326).

use serde::Serialize;
use utoipa::ToSchema;

pub use sspr_api::protection::{Check, Reason, ReasonStatus, Verdict};

use super::discovery::{BreakGlass, BreakGlassDiscovery, BreakGlassSource};
use super::{ALL_TRUSTED, CaPolicy, GuestCoverage, NamedLocation, NamedLocationKind, PolicyState};

/// The legacy "MFA trusted IPs" location id a docs example uses (§5.2).
const LEGACY_TRUSTED_IPS: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PolicyGrade)]
pub struct Grade {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
}

impl Grade {
    /// The reasons of one check.
    pub fn about(&self, check: Check) -> impl Iterator<Item = &Reason> {
        self.reasons.iter().filter(move |r| r.check == check)
    }
}

/// What a grade needs to know about the tenant.
pub struct Tenant<'a> {
    pub named_locations: &'a [NamedLocation],
    pub break_glass: &'a BreakGlass,
}

/// Grades `policy` (a policy on the registration action) for `tenant`.
pub fn grade(policy: &CaPolicy, tenant: &Tenant<'_>) -> Grade {
    let mut reasons = Vec::new();
    let mut add = |check, status, message: String| {
        reasons.push(Reason {
            check,
            status,
            message,
        })
    };
    state(policy, &mut add);
    users(policy, &mut add);
    exclusions(policy, tenant.break_glass, &mut add);
    break_glass(policy, tenant.break_glass, &mut add);
    client_app_types(policy, &mut add);
    let blocks = grant(policy, &mut add);
    locations(policy, tenant.named_locations, blocks, &mut add);
    guests(policy, &mut add);
    conditions(policy, &mut add);
    let verdict = match reasons.iter().map(|r| r.status).max() {
        Some(ReasonStatus::Failure) => Verdict::Fail,
        Some(ReasonStatus::Warning) => Verdict::Warn,
        _ => Verdict::Pass,
    };
    Grade { verdict, reasons }
}

type Add<'a> = dyn FnMut(Check, ReasonStatus, String) + 'a;

fn state(policy: &CaPolicy, add: &mut Add<'_>) {
    match policy.state {
        PolicyState::Enabled => add(Check::State, ReasonStatus::Ok, "Enabled: enforced.".into()),
        PolicyState::ReportOnly => add(
            Check::State,
            ReasonStatus::Warning,
            "Report-only: registrations are evaluated and logged, nothing is enforced. Promote it to enabled once the sign-in logs look right.".into(),
        ),
        other @ PolicyState::Disabled => add(
            Check::State,
            ReasonStatus::Failure,
            format!("State '{other}': the policy protects nothing."),
        ),
    }
}

fn has(values: &[String], wanted: &str) -> bool {
    values.iter().any(|v| v.eq_ignore_ascii_case(wanted))
}

fn users(policy: &CaPolicy, add: &mut Add<'_>) {
    let u = &policy.users;
    if has(&u.include_users, "All") {
        add(
            Check::Users,
            ReasonStatus::Ok,
            "Applies to all users.".into(),
        );
    } else {
        let mut parts = Vec::new();
        let named_users = u
            .include_users
            .iter()
            .filter(|id| {
                !id.eq_ignore_ascii_case("None")
                    && !id.eq_ignore_ascii_case("GuestsOrExternalUsers")
            })
            .count();
        for (n, what) in [
            (named_users, "user"),
            (u.include_groups.len(), "group"),
            (u.include_roles.len(), "role"),
        ] {
            if n > 0 {
                parts.push(count(n, what));
            }
        }
        if u.include_guests_or_external_users.is_some() {
            parts.push("guests or external users".into());
        }
        let scope = if parts.is_empty() {
            "nobody".to_owned()
        } else {
            parts.join(", ")
        };
        add(
            Check::Users,
            ReasonStatus::Failure,
            format!(
                "Applies only to {scope}, not to all users: everyone else registers security info unprotected."
            ),
        );
    }
    if !u.exclude_roles.is_empty() {
        add(
            Check::Users,
            ReasonStatus::Warning,
            format!(
                "Excludes directory role(s) {}: every holder of them registers unprotected (CISA MS.AAD.3.8 allows no role exclusion); exclude break-glass accounts by user or group instead.",
                u.exclude_roles.join(", ")
            ),
        );
    }
}

fn exclusions(policy: &CaPolicy, known: &BreakGlass, add: &mut Add<'_>) {
    let u = &policy.users;
    let users = u.exclude_users.iter().filter(|id| {
        !["All", "None", "GuestsOrExternalUsers"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(id))
    });
    let mut break_glass = Vec::new();
    let mut others = Vec::new();
    for id in users {
        match known.users.iter().find(|o| o.id.eq_ignore_ascii_case(id)) {
            Some(o) => break_glass.push(format!("user {id} ({})", source(o.source))),
            None => others.push(format!("user {id}")),
        }
    }
    for id in &u.exclude_groups {
        match known.groups.iter().find(|o| o.id.eq_ignore_ascii_case(id)) {
            Some(o) => break_glass.push(format!("group {id} ({})", source(o.source))),
            None => others.push(format!("group {id}")),
        }
    }
    if !break_glass.is_empty() {
        add(
            Check::Exclusions,
            ReasonStatus::Ok,
            format!(
                "Excludes break-glass accounts only as intended: {}.",
                break_glass.join(", ")
            ),
        );
    }
    if !others.is_empty() {
        add(
            Check::Exclusions,
            ReasonStatus::Warning,
            format!(
                "Excludes {} that {} not a known break-glass account: {}. They register security info unprotected. If they are emergency-access accounts, declare them (excludeUsers/excludeGroups, or breakGlassUsers/breakGlassGroups on GET) and this warning goes away.",
                count(others.len(), "object"),
                if others.len() == 1 { "is" } else { "are" },
                others.join(", ")
            ),
        );
    }
    if break_glass.is_empty() && others.is_empty() {
        add(
            Check::Exclusions,
            ReasonStatus::Ok,
            "Excludes no user or group.".into(),
        );
    }
}

fn source(source: BreakGlassSource) -> &'static str {
    match source {
        BreakGlassSource::Declared => "declared",
        BreakGlassSource::Discovered => "discovered",
    }
}

fn break_glass(policy: &CaPolicy, known: &BreakGlass, add: &mut Add<'_>) {
    if known.is_empty() {
        add(
            Check::BreakGlass,
            ReasonStatus::Info,
            "No break-glass account is known: none was declared and none is excluded from most CA policies.".into(),
        );
        return;
    }
    let u = &policy.users;
    let groups_excluded = known.groups.iter().any(|g| has(&u.exclude_groups, &g.id));
    let mut missing = Vec::new();
    let mut maybe = Vec::new();
    for user in &known.users {
        if !has(&u.exclude_users, &user.id) {
            if groups_excluded {
                maybe.push(format!("user {}", user.id));
            } else {
                missing.push(format!("user {}", user.id));
            }
        }
    }
    for group in &known.groups {
        if !has(&u.exclude_groups, &group.id) {
            missing.push(format!("group {}", group.id));
        }
    }
    if !missing.is_empty() {
        add(
            Check::BreakGlass,
            ReasonStatus::Warning,
            format!(
                "Break-glass {} not excluded: {}. An emergency-access account must stay usable when everything else fails.",
                if missing.len() == 1 {
                    "account is"
                } else {
                    "accounts are"
                },
                missing.join(", ")
            ),
        );
    }
    if !maybe.is_empty() {
        add(
            Check::BreakGlass,
            ReasonStatus::Info,
            format!(
                "Not excluded by id, so excluded only through a break-glass group they belong to: {}.",
                maybe.join(", ")
            ),
        );
    }
    if missing.is_empty() && maybe.is_empty() {
        add(
            Check::BreakGlass,
            ReasonStatus::Ok,
            "Every known break-glass account is excluded.".into(),
        );
    }
}

fn client_app_types(policy: &CaPolicy, add: &mut Add<'_>) {
    let types = &policy.client_app_types;
    if has(types, "all") {
        add(
            Check::ClientAppTypes,
            ReasonStatus::Ok,
            "All client app types: registration from browsers and from native apps (e.g. Microsoft Authenticator adding a method) is covered.".into(),
        );
    } else if types.is_empty() {
        add(
            Check::ClientAppTypes,
            ReasonStatus::Warning,
            "clientAppTypes is empty; set [\"all\"] so that registration from every client is covered.".into(),
        );
    } else {
        add(
            Check::ClientAppTypes,
            ReasonStatus::Failure,
            format!(
                "Covers only the client app types {}: registration from other clients (native apps such as Microsoft Authenticator adding a method) is not covered. Use [\"all\"].",
                types.join(", ")
            ),
        );
    }
}

/// Grades the grant; returns whether the policy blocks.
fn grant(policy: &CaPolicy, add: &mut Add<'_>) -> bool {
    let Some(grant) = &policy.grant else {
        add(
            Check::Grant,
            ReasonStatus::Failure,
            "No grant control: the policy demands nothing of a registration.".into(),
        );
        return false;
    };
    let controls: Vec<String> = grant
        .built_in_controls
        .iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if controls.iter().any(|c| c == "block") {
        add(
            Check::Grant,
            ReasonStatus::Ok,
            "Blocks registration (where the policy applies).".into(),
        );
        return true;
    }
    let strong = |c: &str| matches!(c, "mfa" | "compliantdevice" | "domainjoineddevice");
    let mut strong_ones: Vec<String> = controls.iter().filter(|c| strong(c)).cloned().collect();
    let weak: Vec<&String> = grant
        .built_in_controls
        .iter()
        .filter(|c| !strong(&c.to_ascii_lowercase()))
        .chain(grant.custom_authentication_factors.iter())
        .chain(grant.terms_of_use.iter())
        .collect();
    if let Some(strength) = &grant.authentication_strength {
        strong_ones.push(format!("authentication strength {strength}"));
    }
    let protective = if grant.operator.eq_ignore_ascii_case("AND") {
        !strong_ones.is_empty()
    } else {
        !strong_ones.is_empty() && weak.is_empty()
    };
    if !protective {
        let detail = if strong_ones.is_empty() {
            "none of its controls (MFA, an authentication strength, a compliant or hybrid joined device, or block) protects registration".to_owned()
        } else {
            format!(
                "with operator {} any one control is enough, and {} does not protect registration",
                grant.operator,
                weak.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        add(
            Check::Grant,
            ReasonStatus::Failure,
            format!("The grant does not protect registration: {detail}."),
        );
        return false;
    }
    let devices = strong_ones
        .iter()
        .any(|c| c == "compliantdevice" || c == "domainjoineddevice");
    let message = if devices {
        format!(
            "Requires a managed device ({}), as CISA MS.AAD.3.8 asks.",
            strong_ones.join(" or ")
        )
    } else {
        format!(
            "Requires {} (a Temporary Access Pass satisfies MFA, which is how new users bootstrap).",
            strong_ones.join(" and ")
        )
    };
    add(Check::Grant, ReasonStatus::Ok, message);
    false
}

fn locations(policy: &CaPolicy, named: &[NamedLocation], blocks: bool, add: &mut Add<'_>) {
    let everywhere = || {
        if blocks {
            (
                ReasonStatus::Failure,
                "Blocks registration from every location, trusted ones included: nobody can register security info, new hires included.".to_owned(),
            )
        } else {
            (
                ReasonStatus::Ok,
                "Applies everywhere: no location is exempt.".to_owned(),
            )
        }
    };
    let Some(locations) = &policy.locations else {
        let (status, message) = everywhere();
        add(Check::Locations, status, message);
        return;
    };
    let include = &locations.include_locations;
    if !include.is_empty() && !has(include, "All") {
        let names: Vec<String> = include.iter().map(|id| location_name(id, named)).collect();
        add(
            Check::Locations,
            ReasonStatus::Failure,
            format!(
                "Applies only from {}: registration from anywhere else is unprotected. Include All locations and exclude the trusted ones.",
                names.join(", ")
            ),
        );
        return;
    }
    if locations.exclude_locations.is_empty() {
        let (status, message) = everywhere();
        add(Check::Locations, status, message);
        return;
    }
    let any_trusted_named = named.iter().any(NamedLocation::is_trusted);
    for id in &locations.exclude_locations {
        let (status, message) = if id.eq_ignore_ascii_case(ALL_TRUSTED) {
            if any_trusted_named {
                let trusted: Vec<&str> = named
                    .iter()
                    .filter(|l| l.is_trusted())
                    .map(|l| l.display_name.as_str())
                    .collect();
                (
                    ReasonStatus::Ok,
                    format!(
                        "Exempts AllTrusted: the trusted named locations ({}) and MFA trusted IPs.",
                        trusted.join(", ")
                    ),
                )
            } else if blocks {
                (
                    ReasonStatus::Failure,
                    "Exempts AllTrusted, but the tenant has no trusted named location: unless legacy MFA trusted IPs are set, registration is blocked everywhere, for everyone.".to_owned(),
                )
            } else {
                (
                    ReasonStatus::Info,
                    "Exempts AllTrusted, but the tenant has no trusted named location: the policy applies everywhere (except legacy MFA trusted IPs, if set).".to_owned(),
                )
            }
        } else if id.eq_ignore_ascii_case(LEGACY_TRUSTED_IPS) {
            (
                ReasonStatus::Info,
                "Exempts the legacy MFA trusted IPs location.".to_owned(),
            )
        } else {
            match named.iter().find(|l| l.id.eq_ignore_ascii_case(id)) {
                Some(l) if l.is_trusted() => (
                    ReasonStatus::Ok,
                    format!("Exempts '{}', a trusted named location.", l.display_name),
                ),
                Some(l) if l.kind == NamedLocationKind::UntrustedIp => (
                    ReasonStatus::Failure,
                    format!(
                        "Exempts '{}', which is not marked trusted: registration from it is unprotected. Mark it trusted or exempt AllTrusted instead.",
                        l.display_name
                    ),
                ),
                Some(l) if l.kind == NamedLocationKind::Country => (
                    ReasonStatus::Failure,
                    format!(
                        "Exempts '{}', a countries/regions location, which can never be trusted: registration from those countries is unprotected.",
                        l.display_name
                    ),
                ),
                Some(l) => (
                    ReasonStatus::Failure,
                    format!(
                        "Exempts '{}', a named location whose trust cannot be established.",
                        l.display_name
                    ),
                ),
                None => (
                    ReasonStatus::Failure,
                    format!("Exempts location {id}, which does not exist in the tenant."),
                ),
            }
        };
        add(Check::Locations, status, message);
    }
    let managed_device = policy.grant.as_ref().is_some_and(|g| {
        g.built_in_controls
            .iter()
            .any(|c| c == "compliantDevice" || c == "domainJoinedDevice")
    });
    if managed_device {
        add(
            Check::Locations,
            ReasonStatus::Info,
            "CISA MS.AAD.3.8 asks for the managed-device requirement everywhere; ScubaGear does not count a policy that exempts locations.".into(),
        );
    }
}

fn location_name(id: &str, named: &[NamedLocation]) -> String {
    named
        .iter()
        .find(|l| l.id.eq_ignore_ascii_case(id))
        .map_or_else(|| id.to_owned(), |l| format!("'{}'", l.display_name))
}

fn guests(policy: &CaPolicy, add: &mut Add<'_>) {
    let u = &policy.users;
    let legacy = has(&u.exclude_users, "GuestsOrExternalUsers");
    match &u.exclude_guests_or_external_users {
        _ if legacy => add(
            Check::Guests,
            ReasonStatus::Info,
            "Guests and external users are excluded (legacy 'GuestsOrExternalUsers'), as in Microsoft's template: they register in their home tenant or need a policy of their own.".into(),
        ),
        Some(selection) if selection.is_everyone() => add(
            Check::Guests,
            ReasonStatus::Info,
            "Guests and external users are excluded, as in Microsoft's template: they register in their home tenant or need a policy of their own.".into(),
        ),
        Some(selection) => add(
            Check::Guests,
            ReasonStatus::Info,
            format!(
                "Excludes these guest and external user types: {}{}.",
                selection.guest_or_external_user_types.join(", "),
                match &selection.external_tenants {
                    None => String::new(),
                    Some(tenants) => format!(" from tenants {}", tenants.join(", ")),
                }
            ),
        ),
        None => add(
            Check::Guests,
            ReasonStatus::Ok,
            "Covers guests and external users too.".into(),
        ),
    }
}

fn conditions(policy: &CaPolicy, add: &mut Add<'_>) {
    if !policy.narrowing_conditions.is_empty() {
        add(
            Check::Conditions,
            ReasonStatus::Warning,
            format!(
                "Applies only when these conditions also match: {}. Registration outside them is unprotected.",
                policy.narrowing_conditions.join(", ")
            ),
        );
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::super::generate::{Exclusions, generate};
    use super::super::{
        ApplicationCondition, GrantControls, GuestSelection, LocationCondition, ProtectionOptions,
        ProtectionState, REGISTER_SECURITY_INFO, UserCondition,
    };
    use super::*;

    const HQ: &str = "0854951d-5fc0-4eb1-b392-9b2c9d7949c2";
    const GUEST_WIFI: &str = "6a1e2f3b-7c4d-4e5f-9a0b-1c2d3e4f5a6b";
    const COUNTRIES: &str = "1c4427fd-0885-4a3d-8b23-09a899ffa959";
    const BG_USER: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08";
    const BG_GROUP: &str = "dad4ae4a-730c-4e52-826c-0d9094971f04";
    const ALEX: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02";
    const DIEGO: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c03";

    fn named() -> Vec<NamedLocation> {
        vec![
            NamedLocation {
                id: HQ.into(),
                display_name: "Contoso HQ".into(),
                kind: NamedLocationKind::TrustedIp,
            },
            NamedLocation {
                id: GUEST_WIFI.into(),
                display_name: "Guest Wi-Fi".into(),
                kind: NamedLocationKind::UntrustedIp,
            },
            NamedLocation {
                id: COUNTRIES.into(),
                display_name: "Sanctioned countries".into(),
                kind: NamedLocationKind::Country,
            },
        ]
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// An enabled policy on the registration action for all users, all client apps, any
    /// location except `exempt`, with `controls`, excluding the break-glass user and group.
    fn policy(controls: &[&str], exempt: &[&str]) -> CaPolicy {
        CaPolicy {
            id: "p1".into(),
            display_name: "Registration".into(),
            description: None,
            state: PolicyState::Enabled,
            client_app_types: strings(&["all"]),
            applications: ApplicationCondition {
                include_user_actions: strings(&[REGISTER_SECURITY_INFO]),
                ..ApplicationCondition::default()
            },
            users: UserCondition {
                include_users: strings(&["All"]),
                exclude_users: strings(&[BG_USER]),
                exclude_groups: strings(&[BG_GROUP]),
                ..UserCondition::default()
            },
            locations: Some(LocationCondition {
                include_locations: strings(&["All"]),
                exclude_locations: strings(exempt),
            }),
            grant: Some(GrantControls {
                operator: "OR".into(),
                built_in_controls: strings(controls),
                ..GrantControls::default()
            }),
            narrowing_conditions: Vec::new(),
            has_session_controls: false,
        }
    }

    fn declared() -> BreakGlass {
        BreakGlass::find(&[], &strings(&[BG_USER]), &strings(&[BG_GROUP]), false)
    }

    fn grade_with(policy: &CaPolicy, break_glass: &BreakGlass) -> Grade {
        let named = named();
        grade(
            policy,
            &Tenant {
                named_locations: &named,
                break_glass,
            },
        )
    }

    fn statuses(grade: &Grade, check: Check) -> Vec<ReasonStatus> {
        grade.about(check).map(|r| r.status).collect()
    }

    fn messages(grade: &Grade, check: Check) -> String {
        grade
            .about(check)
            .map(|r| r.message.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    }

    #[test]
    fn the_generated_baseline_passes_once_enabled() {
        let options = ProtectionOptions::default().validate().expect("valid");
        let exclusions = Exclusions::new(strings(&[BG_USER]), strings(&[BG_GROUP]));
        let enabled = generate(&options, &exclusions, ProtectionState::Enabled);
        let grade = grade_with(&enabled, &declared());
        assert_eq!(grade.verdict, Verdict::Pass, "{grade:#?}");
        let report_only = generate(&options, &exclusions, ProtectionState::ReportOnly);
        let grade = grade_with(&report_only, &declared());
        assert_eq!(grade.verdict, Verdict::Warn);
        assert!(messages(&grade, Check::State).contains("Report-only"));
    }

    // --- maester#739: a valid policy reported as failing -------------------------------------

    #[test]
    fn maester_739_block_from_any_network_except_a_trusted_named_location_passes() {
        let grade = grade_with(&policy(&["block"], &[HQ]), &declared());
        assert_eq!(grade.verdict, Verdict::Pass, "{grade:#?}");
        assert_eq!(statuses(&grade, Check::Locations), [ReasonStatus::Ok]);
        assert!(
            messages(&grade, Check::Locations).contains("'Contoso HQ', a trusted named location")
        );
    }

    // --- maester#2105 / PR#2175: browser-only is a real gap -----------------------------------

    #[test]
    fn maester_2105_a_browser_only_policy_fails_because_native_apps_register_too() {
        let mut browser_only = policy(&["block"], &["AllTrusted"]);
        browser_only.client_app_types = strings(&["browser"]);
        let grade = grade_with(&browser_only, &declared());
        assert_eq!(grade.verdict, Verdict::Fail);
        assert_eq!(
            statuses(&grade, Check::ClientAppTypes),
            [ReasonStatus::Failure]
        );
        let message = messages(&grade, Check::ClientAppTypes);
        assert!(
            message.contains("browser") && message.contains("Microsoft Authenticator"),
            "{message}"
        );
    }

    // --- maester#2188: any excluded location passed, trusted or not ---------------------------

    #[test]
    fn maester_2188_an_excluded_location_that_is_not_trusted_fails() {
        let grade = grade_with(&policy(&["block"], &[GUEST_WIFI]), &declared());
        assert_eq!(grade.verdict, Verdict::Fail);
        assert_eq!(statuses(&grade, Check::Locations), [ReasonStatus::Failure]);
        assert!(
            messages(&grade, Check::Locations)
                .contains("'Guest Wi-Fi', which is not marked trusted")
        );
    }

    // --- maester#2227: the same false pass, carved out beside a trusted location ---------------

    #[test]
    fn maester_2227_an_untrusted_carve_out_fails_even_next_to_a_trusted_location() {
        let grade = grade_with(&policy(&["mfa"], &[HQ, COUNTRIES]), &declared());
        assert_eq!(grade.verdict, Verdict::Fail);
        assert_eq!(
            statuses(&grade, Check::Locations),
            [ReasonStatus::Ok, ReasonStatus::Failure]
        );
        assert!(
            messages(&grade, Check::Locations)
                .contains("'Sanctioned countries', a countries/regions location")
        );
        let unknown = grade_with(
            &policy(&["block"], &["9f9f9f9f-0000-4000-8000-000000000000"]),
            &declared(),
        );
        assert!(messages(&unknown, Check::Locations).contains("does not exist"));
    }

    #[test]
    fn all_trusted_without_any_trusted_location_blocks_everyone() {
        let grade = grade(
            &policy(&["block"], &["AllTrusted"]),
            &Tenant {
                named_locations: &[],
                break_glass: &declared(),
            },
        );
        assert_eq!(grade.verdict, Verdict::Fail);
        assert!(messages(&grade, Check::Locations).contains("no trusted named location"));
    }

    // --- ScubaGear#1706: exclusions made a correct policy fail -------------------------------

    #[test]
    fn scubagear_1706_excluded_break_glass_accounts_do_not_fail_the_policy() {
        // Discovered from the tenant's other policies, not declared by anyone.
        let mut other = policy(&["mfa"], &[]);
        other.applications = ApplicationCondition {
            include_applications: strings(&["All"]),
            ..ApplicationCondition::default()
        };
        let discovered = BreakGlass::find(&[other.clone(), other], &[], &[], true);
        let grade = grade_with(&policy(&["block"], &["AllTrusted"]), &discovered);
        assert_eq!(grade.verdict, Verdict::Pass, "{grade:#?}");
        let exclusions = messages(&grade, Check::Exclusions);
        assert!(
            exclusions.contains(&format!("user {BG_USER} (discovered)")),
            "{exclusions}"
        );
        assert_eq!(statuses(&grade, Check::BreakGlass), [ReasonStatus::Ok]);
    }

    // --- ScubaGear#1707: say which users fail the control -------------------------------------

    #[test]
    fn scubagear_1707_the_reasons_name_every_excluded_user_that_is_not_break_glass() {
        let mut p = policy(&["block"], &["AllTrusted"]);
        p.users.exclude_users.extend(strings(&[ALEX, DIEGO]));
        let grade = grade_with(&p, &declared());
        let warning = grade
            .about(Check::Exclusions)
            .find(|r| r.status == ReasonStatus::Warning)
            .expect("a warning about the exclusions");
        let message = &warning.message;
        assert!(
            message.contains(&format!("user {ALEX}, user {DIEGO}")),
            "{message}"
        );
        assert!(message.contains("2 objects"), "{message}");
        assert!(
            !message.contains(BG_USER),
            "break-glass is not among them: {message}"
        );
    }

    // --- ScubaGear#2326: a near miss is a warning that says how to pass ------------------------

    #[test]
    fn scubagear_2326_undeclared_exclusions_are_a_near_miss_that_passes_once_declared() {
        let mut p = policy(&["compliantDevice"], &[]);
        p.locations = None;
        p.users.exclude_users.push(ALEX.into());
        let near_miss = grade_with(&p, &declared());
        assert_eq!(near_miss.verdict, Verdict::Warn, "{near_miss:#?}");
        assert!(messages(&near_miss, Check::Exclusions).contains("declare them"));

        let both = BreakGlass::find(
            &[],
            &strings(&[BG_USER, ALEX]),
            &strings(&[BG_GROUP]),
            false,
        );
        let declared_grade = grade_with(&p, &both);
        assert_eq!(declared_grade.verdict, Verdict::Pass, "{declared_grade:#?}");
        assert!(messages(&declared_grade, Check::Grant).contains("CISA MS.AAD.3.8"));
    }

    #[test]
    fn a_missing_break_glass_exclusion_is_a_warning() {
        let mut p = policy(&["block"], &["AllTrusted"]);
        p.users.exclude_users.clear();
        p.users.exclude_groups.clear();
        let grade = grade_with(&p, &declared());
        assert_eq!(grade.verdict, Verdict::Warn);
        let message = messages(&grade, Check::BreakGlass);
        assert!(
            message.contains(BG_USER) && message.contains(BG_GROUP),
            "{message}"
        );
    }

    #[test]
    fn only_some_users_fails_and_role_exclusions_warn() {
        let mut p = policy(&["mfa"], &["AllTrusted"]);
        p.users.include_users.clear();
        p.users.include_groups = strings(&[BG_GROUP, "4e7f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"]);
        let grade = grade_with(&p, &declared());
        assert_eq!(grade.verdict, Verdict::Fail);
        assert!(messages(&grade, Check::Users).contains("only to 2 groups"));

        let mut template = policy(&["mfa"], &["AllTrusted"]);
        template.users.exclude_roles = strings(&["62e90394-69f5-4237-9190-012177145e10"]);
        let grade = grade_with(&template, &declared());
        assert_eq!(grade.verdict, Verdict::Warn);
        assert!(messages(&grade, Check::Users).contains("62e90394"));
    }

    #[test]
    fn grants_that_do_not_protect_fail() {
        let mut p = policy(&["mfa", "approvedApplication"], &["AllTrusted"]);
        let grade = grade_with(&p, &declared());
        assert_eq!(statuses(&grade, Check::Grant), [ReasonStatus::Failure]);
        assert!(messages(&grade, Check::Grant).contains("approvedApplication"));

        p.grant.as_mut().expect("grant").operator = "AND".into();
        assert_eq!(
            statuses(&grade_with(&p, &declared()), Check::Grant),
            [ReasonStatus::Ok]
        );

        p.grant = None;
        assert_eq!(grade_with(&p, &declared()).verdict, Verdict::Fail);

        let mut strength = policy(&[], &["AllTrusted"]);
        strength
            .grant
            .as_mut()
            .expect("grant")
            .authentication_strength = Some("00000000-0000-0000-0000-000000000002".into());
        assert_eq!(
            statuses(&grade_with(&strength, &declared()), Check::Grant),
            [ReasonStatus::Ok]
        );
    }

    #[test]
    fn block_everywhere_fails_but_mfa_everywhere_passes() {
        let mut block = policy(&["block"], &[]);
        block.locations = None;
        assert_eq!(grade_with(&block, &declared()).verdict, Verdict::Fail);
        let mut mfa = policy(&["mfa"], &[]);
        mfa.locations = None;
        assert_eq!(grade_with(&mfa, &declared()).verdict, Verdict::Pass);
        let mut some = policy(&["block"], &[]);
        some.locations = Some(LocationCondition {
            include_locations: strings(&[COUNTRIES]),
            exclude_locations: Vec::new(),
        });
        let grade = grade_with(&some, &declared());
        assert!(messages(&grade, Check::Locations).contains("only from 'Sanctioned countries'"));
    }

    #[test]
    fn guests_narrowing_conditions_and_disabled_state_are_reported() {
        let mut p = policy(&["block"], &["AllTrusted"]);
        p.users.exclude_guests_or_external_users = Some(GuestSelection::everyone());
        p.narrowing_conditions = strings(&["platforms"]);
        p.state = PolicyState::Disabled;
        let grade = grade_with(&p, &declared());
        assert_eq!(grade.verdict, Verdict::Fail);
        assert_eq!(statuses(&grade, Check::Guests), [ReasonStatus::Info]);
        assert!(messages(&grade, Check::Conditions).contains("platforms"));
        assert_eq!(statuses(&grade, Check::State), [ReasonStatus::Failure]);
    }
}
