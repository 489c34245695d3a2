//! Options → the registration-protection policy, and how two policies differ. Pure; the
//! directory turns the policy into Graph's JSON.
//!
//! The policy follows graph-api.md §5.3: `clientAppTypes: ["all"]` (a browser-only policy leaves
//! native-app registration uncovered, maester#2105) and `includeUserActions` with no
//! `includeApplications` member at all — Graph answers 1012 when both are present (§5.4), and an
//! empty `includeApplications` beside a user action has been reported to fail too.

use super::{
    ApplicationCondition, CaPolicy, GrantControls, GuestCoverage, GuestHandling, GuestSelection,
    LocationCondition, ProtectionState, REGISTER_SECURITY_INFO, UserCondition, ValidOptions,
};

/// The users and groups the policy excludes: declared plus discovered break-glass accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

impl Exclusions {
    /// Sorted and deduplicated, ids lower-cased.
    pub fn new(
        users: impl IntoIterator<Item = String>,
        groups: impl IntoIterator<Item = String>,
    ) -> Exclusions {
        let tidy = |ids: &mut dyn Iterator<Item = String>| {
            let mut v: Vec<String> = ids.map(|id| id.to_ascii_lowercase()).collect();
            v.sort();
            v.dedup();
            v
        };
        Exclusions {
            users: tidy(&mut users.into_iter()),
            groups: tidy(&mut groups.into_iter()),
        }
    }
}

/// The policy the options describe, in `state`, excluding `exclusions`.
pub fn generate(
    options: &ValidOptions,
    exclusions: &Exclusions,
    state: ProtectionState,
) -> CaPolicy {
    let locations = if options.trusted_locations.is_empty() {
        None
    } else {
        Some(LocationCondition {
            include_locations: vec!["All".into()],
            exclude_locations: options.trusted_locations.clone(),
        })
    };
    CaPolicy {
        id: String::new(),
        display_name: options.display_name.clone(),
        description: Some(description(options)),
        state: state.into(),
        client_app_types: vec!["all".into()],
        applications: ApplicationCondition {
            include_user_actions: vec![REGISTER_SECURITY_INFO.into()],
            ..ApplicationCondition::default()
        },
        users: UserCondition {
            include_users: vec!["All".into()],
            exclude_users: exclusions.users.clone(),
            exclude_groups: exclusions.groups.clone(),
            exclude_guests_or_external_users: (options.guests == GuestHandling::Exclude)
                .then(GuestSelection::everyone),
            ..UserCondition::default()
        },
        locations,
        grant: Some(GrantControls {
            operator: "OR".into(),
            built_in_controls: vec![options.control.as_graph().into()],
            ..GrantControls::default()
        }),
        narrowing_conditions: Vec::new(),
        has_session_controls: false,
    }
}

fn description(options: &ValidOptions) -> String {
    let locations = if options.trusted_locations.is_empty() {
        "everywhere".to_owned()
    } else {
        format!("outside {}", options.trusted_locations.join(", "))
    };
    format!(
        "Managed by sspr: '{}' for security-info registration {locations}. sspr finds this policy by the marker in its name; keep it there.",
        options.control.as_graph()
    )
}

/// Where `existing` differs from `desired`; empty when an update
/// would change nothing. Collections compare as sets, ids and keywords case-insensitively.
/// A part of a policy a deploy compares and may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyPart {
    DisplayName,
    Description,
    State,
    ClientAppTypes,
    /// The applications and user actions the policy targets.
    Applications,
    IncludeUsers,
    ExcludeUsers,
    IncludeGroups,
    ExcludeGroups,
    IncludeRoles,
    ExcludeRoles,
    IncludeGuests,
    ExcludeGuests,
    Locations,
    /// Narrowing conditions this service does not set.
    OtherConditions,
    Grant,
    SessionControls,
}

pub fn differences(desired: &CaPolicy, existing: &CaPolicy) -> Vec<PolicyPart> {
    let mut out = Vec::new();
    let mut check = |part: PolicyPart, same: bool| {
        if !same {
            out.push(part);
        }
    };
    check(
        PolicyPart::DisplayName,
        desired.display_name == existing.display_name,
    );
    check(
        PolicyPart::Description,
        desired.description == existing.description,
    );
    check(PolicyPart::State, desired.state == existing.state);
    check(
        PolicyPart::ClientAppTypes,
        same_set(&desired.client_app_types, &existing.client_app_types),
    );
    let (da, ea) = (&desired.applications, &existing.applications);
    check(
        PolicyPart::Applications,
        same_set(&da.include_user_actions, &ea.include_user_actions)
            && same_set(&da.include_applications, &ea.include_applications)
            && same_set(&da.exclude_applications, &ea.exclude_applications)
            && same_set(
                &da.include_authentication_context_class_references,
                &ea.include_authentication_context_class_references,
            ),
    );
    let (du, eu) = (&desired.users, &existing.users);
    check(
        PolicyPart::IncludeUsers,
        same_set(&du.include_users, &eu.include_users),
    );
    check(
        PolicyPart::ExcludeUsers,
        same_set(&du.exclude_users, &eu.exclude_users),
    );
    check(
        PolicyPart::IncludeGroups,
        same_set(&du.include_groups, &eu.include_groups),
    );
    check(
        PolicyPart::ExcludeGroups,
        same_set(&du.exclude_groups, &eu.exclude_groups),
    );
    check(
        PolicyPart::IncludeRoles,
        same_set(&du.include_roles, &eu.include_roles),
    );
    check(
        PolicyPart::ExcludeRoles,
        same_set(&du.exclude_roles, &eu.exclude_roles),
    );
    check(
        PolicyPart::IncludeGuests,
        same_guests(
            &du.include_guests_or_external_users,
            &eu.include_guests_or_external_users,
        ),
    );
    check(
        PolicyPart::ExcludeGuests,
        same_guests(
            &du.exclude_guests_or_external_users,
            &eu.exclude_guests_or_external_users,
        ),
    );
    check(
        PolicyPart::Locations,
        match (&desired.locations, &existing.locations) {
            (None, None) => true,
            (Some(d), Some(e)) => {
                same_set(&d.include_locations, &e.include_locations)
                    && same_set(&d.exclude_locations, &e.exclude_locations)
            }
            _ => false,
        },
    );
    check(
        PolicyPart::OtherConditions,
        existing.narrowing_conditions.is_empty(),
    );
    check(
        PolicyPart::Grant,
        match (&desired.grant, &existing.grant) {
            (None, None) => true,
            (Some(d), Some(e)) => {
                d.operator.eq_ignore_ascii_case(&e.operator)
                    && same_set(&d.built_in_controls, &e.built_in_controls)
                    && d.authentication_strength == e.authentication_strength
                    && same_set(
                        &d.custom_authentication_factors,
                        &e.custom_authentication_factors,
                    )
                    && same_set(&d.terms_of_use, &e.terms_of_use)
            }
            _ => false,
        },
    );
    check(PolicyPart::SessionControls, !existing.has_session_controls);
    out
}

/// The parts of an update that change what the policy enforces or whom it applies to (every
/// difference but its name, description and state): refused on an enforced policy unless forced.
pub fn changes_enforcement(changes: &[PolicyPart]) -> bool {
    changes.iter().any(|c| {
        !matches!(
            c,
            PolicyPart::DisplayName | PolicyPart::Description | PolicyPart::State
        )
    })
}

/// Collections as Graph keeps them: no order, ids and keywords in any case.
pub fn same_set(a: &[String], b: &[String]) -> bool {
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_ascii_lowercase()).collect();
        v.sort();
        v.dedup();
        v
    };
    norm(a) == norm(b)
}

fn same_guests(a: &Option<GuestSelection>, b: &Option<GuestSelection>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            same_set(
                &a.guest_or_external_user_types,
                &b.guest_or_external_user_types,
            ) && match (&a.external_tenants, &b.external_tenants) {
                (None, None) => true,
                (Some(x), Some(y)) => same_set(x, y),
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ALL_GUEST_TYPES, PolicyState, ProtectionControl, ProtectionOptions};
    use super::*;

    const BG_USER: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08";
    const BG_GROUP: &str = "dad4ae4a-730c-4e52-826c-0d9094971f04";

    fn valid(options: ProtectionOptions) -> ValidOptions {
        options.validate().expect("valid")
    }

    fn exclusions() -> Exclusions {
        Exclusions::new([BG_USER.to_uppercase()], [BG_GROUP.to_owned()])
    }

    #[test]
    fn mfa_everywhere_has_no_location_condition() {
        let options = valid(ProtectionOptions {
            control: ProtectionControl::Mfa,
            trusted_locations: Some(Vec::new()),
            ..ProtectionOptions::default()
        });
        assert_eq!(options.control, ProtectionControl::Mfa);
        let policy = generate(
            &options,
            &Exclusions::default(),
            ProtectionState::ReportOnly,
        );
        assert!(policy.locations.is_none());
        assert!(
            policy
                .description
                .expect("description")
                .contains("everywhere")
        );
    }

    #[test]
    fn an_identical_policy_has_no_differences_whatever_the_order_and_case() {
        let desired = generate(
            &valid(ProtectionOptions::default()),
            &exclusions(),
            ProtectionState::ReportOnly,
        );
        let mut existing = desired.clone();
        existing.id = "x".into();
        existing.users.exclude_users = vec![BG_USER.to_uppercase()];
        existing.users.exclude_guests_or_external_users = Some(GuestSelection {
            guest_or_external_user_types: ALL_GUEST_TYPES
                .iter()
                .rev()
                .map(|s| (*s).to_owned())
                .collect(),
            external_tenants: None,
        });
        assert!(differences(&desired, &existing).is_empty());
    }

    #[test]
    fn differences_name_what_an_update_changes() {
        let desired = generate(
            &valid(ProtectionOptions::default()),
            &exclusions(),
            ProtectionState::Enabled,
        );
        let mut existing = desired.clone();
        existing.state = PolicyState::ReportOnly;
        existing.client_app_types = vec!["browser".into()];
        existing.users.exclude_roles = vec!["62e90394-69f5-4237-9190-012177145e10".into()];
        existing.narrowing_conditions = vec!["platforms".into()];
        existing.has_session_controls = true;
        assert_eq!(
            differences(&desired, &existing),
            [
                PolicyPart::State,
                PolicyPart::ClientAppTypes,
                PolicyPart::ExcludeRoles,
                PolicyPart::OtherConditions,
                PolicyPart::SessionControls
            ]
        );
    }

    #[test]
    fn only_name_description_and_state_leave_enforcement_alone() {
        assert!(!changes_enforcement(&[
            PolicyPart::DisplayName,
            PolicyPart::Description,
            PolicyPart::State
        ]));
        assert!(changes_enforcement(&[PolicyPart::State, PolicyPart::Grant]));
        assert!(changes_enforcement(&[PolicyPart::Locations]));
        assert!(changes_enforcement(&[PolicyPart::SessionControls]));
    }
}
