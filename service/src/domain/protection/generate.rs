//! Options → the registration-protection policy, and that policy → Graph's JSON. Pure.
//!
//! The JSON follows graph-api.md §5.3: `clientAppTypes: ["all"]` (a browser-only policy leaves
//! native-app registration uncovered, maester#2105) and `includeUserActions` with no
//! `includeApplications` member at all — Graph answers 1012 when both are present (§5.4), and an
//! empty `includeApplications` beside a user action has been reported to fail too.

use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::{
    ApplicationCondition, CaPolicy, GrantControls, GuestHandling, GuestSelection,
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
        state: state.as_graph().to_owned(),
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

/// The body of `POST /identity/conditionalAccess/policies` for `policy`: only what it sets.
pub fn create_body(policy: &CaPolicy) -> Value {
    let mut users = Map::new();
    users.insert("includeUsers".into(), json!(policy.users.include_users));
    users.insert("excludeUsers".into(), json!(policy.users.exclude_users));
    users.insert("excludeGroups".into(), json!(policy.users.exclude_groups));
    if let Some(guests) = &policy.users.exclude_guests_or_external_users {
        users.insert("excludeGuestsOrExternalUsers".into(), guests_json(guests));
    }
    let mut conditions = Map::new();
    conditions.insert("clientAppTypes".into(), json!(policy.client_app_types));
    conditions.insert(
        "applications".into(),
        json!({ "includeUserActions": policy.applications.include_user_actions }),
    );
    conditions.insert("users".into(), Value::Object(users));
    if let Some(locations) = &policy.locations {
        conditions.insert("locations".into(), locations_json(locations));
    }
    let mut body = Map::new();
    body.insert("displayName".into(), json!(policy.display_name));
    if let Some(description) = &policy.description {
        body.insert("description".into(), json!(description));
    }
    body.insert("state".into(), json!(policy.state));
    body.insert("conditions".into(), Value::Object(conditions));
    if let Some(grant) = &policy.grant {
        body.insert(
            "grantControls".into(),
            json!({ "operator": grant.operator, "builtInControls": grant.built_in_controls }),
        );
    }
    Value::Object(body)
}

/// The body of `PATCH /identity/conditionalAccess/policies/{id}` that turns `existing` into
/// `desired`. Graph merges complex values member by member on PATCH, so everything `desired`
/// leaves unset but `existing` has set is cleared explicitly (`[]` or `null`).
pub fn update_body(desired: &CaPolicy, existing: &CaPolicy) -> Value {
    let mut body = create_body(desired);
    let users = &mut body["conditions"]["users"];
    for key in ["includeGroups", "includeRoles", "excludeRoles"] {
        users[key] = json!([]);
    }
    users["includeGuestsOrExternalUsers"] = Value::Null;
    if desired.users.exclude_guests_or_external_users.is_none() {
        users["excludeGuestsOrExternalUsers"] = Value::Null;
    }
    let conditions = &mut body["conditions"];
    if desired.locations.is_none() {
        conditions["locations"] = Value::Null;
    }
    for name in &existing.narrowing_conditions {
        conditions[name.as_str()] = if NULLABLE_CONDITIONS.contains(&name.as_str()) {
            Value::Null
        } else {
            json!([])
        };
    }
    if existing.has_session_controls {
        body["sessionControls"] = Value::Null;
    }
    if let Some(grant) = &existing.grant {
        let controls = &mut body["grantControls"];
        if !grant.custom_authentication_factors.is_empty() {
            controls["customAuthenticationFactors"] = json!([]);
        }
        if !grant.terms_of_use.is_empty() {
            controls["termsOfUse"] = json!([]);
        }
        if grant.authentication_strength.is_some() {
            controls["authenticationStrength"] = Value::Null;
        }
    }
    body
}

/// Narrowing conditions that are complex values (cleared with `null`); the others are
/// collections (cleared with `[]`).
const NULLABLE_CONDITIONS: &[&str] = &[
    "platforms",
    "devices",
    "clientApplications",
    "authenticationFlows",
    "insiderRiskLevels",
];

fn guests_json(guests: &GuestSelection) -> Value {
    // Graph's flags enum travels as one comma-separated string (§5.2).
    let types = guests.guest_or_external_user_types.join(",");
    let tenants = match &guests.external_tenants {
        None => json!({
            "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
            "membershipKind": "all"
        }),
        Some(members) => json!({
            "@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
            "membershipKind": "enumerated",
            "members": members
        }),
    };
    json!({ "guestOrExternalUserTypes": types, "externalTenants": tenants })
}

fn locations_json(locations: &LocationCondition) -> Value {
    json!({
        "includeLocations": locations.include_locations,
        "excludeLocations": locations.exclude_locations
    })
}

/// Where `existing` differs from `desired`, by Graph property name; empty when an update
/// would change nothing. Collections compare as sets, ids and keywords case-insensitively.
pub fn differences(desired: &CaPolicy, existing: &CaPolicy) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |name: &'static str, same: bool| {
        if !same {
            out.push(name);
        }
    };
    check("displayName", desired.display_name == existing.display_name);
    check("description", desired.description == existing.description);
    check("state", desired.state == existing.state);
    check(
        "conditions/clientAppTypes",
        same_set(&desired.client_app_types, &existing.client_app_types),
    );
    let (da, ea) = (&desired.applications, &existing.applications);
    check(
        "conditions/applications",
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
        "conditions/users/includeUsers",
        same_set(&du.include_users, &eu.include_users),
    );
    check(
        "conditions/users/excludeUsers",
        same_set(&du.exclude_users, &eu.exclude_users),
    );
    check(
        "conditions/users/includeGroups",
        same_set(&du.include_groups, &eu.include_groups),
    );
    check(
        "conditions/users/excludeGroups",
        same_set(&du.exclude_groups, &eu.exclude_groups),
    );
    check(
        "conditions/users/includeRoles",
        same_set(&du.include_roles, &eu.include_roles),
    );
    check(
        "conditions/users/excludeRoles",
        same_set(&du.exclude_roles, &eu.exclude_roles),
    );
    check(
        "conditions/users/includeGuestsOrExternalUsers",
        same_guests(
            &du.include_guests_or_external_users,
            &eu.include_guests_or_external_users,
        ),
    );
    check(
        "conditions/users/excludeGuestsOrExternalUsers",
        same_guests(
            &du.exclude_guests_or_external_users,
            &eu.exclude_guests_or_external_users,
        ),
    );
    check(
        "conditions/locations",
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
        "conditions (other)",
        existing.narrowing_conditions.is_empty(),
    );
    check(
        "grantControls",
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
    check("sessionControls", !existing.has_session_controls);
    out
}

/// One value a deploy would change, in Graph's terms: `path` is a JSON pointer into the
/// policy's Graph JSON; `before` is null for a policy not created yet, `after` null for a value
/// the deploy clears.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyChange {
    pub path: String,
    /// Any JSON value.
    pub before: Value,
    /// Any JSON value.
    pub after: Value,
}

/// What a deploy of `desired` changes in `existing` (everything, for a new policy): the values
/// of the Graph JSON that differ, collections compared as sets. Conditions and session controls
/// that `existing` has and this service does not model are named with their Graph property and
/// cleared (`after` null).
pub fn diff(desired: &CaPolicy, existing: Option<&CaPolicy>) -> Vec<PolicyChange> {
    let after = create_body(desired);
    let before = existing.map(create_body).unwrap_or(Value::Null);
    let mut changes = Vec::new();
    json_diff("", &before, &after, &mut changes);
    if let Some(existing) = existing {
        for name in &existing.narrowing_conditions {
            changes.push(PolicyChange {
                path: format!("/conditions/{name}"),
                before: json!("set (not shown)"),
                after: Value::Null,
            });
        }
        if existing.has_session_controls {
            changes.push(PolicyChange {
                path: "/sessionControls".into(),
                before: json!("set (not shown)"),
                after: Value::Null,
            });
        }
    }
    changes
}

fn json_diff(path: &str, before: &Value, after: &Value, out: &mut Vec<PolicyChange>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
                json_diff(
                    &child,
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Null, Value::Object(a)) => {
            for (key, value) in a {
                json_diff(&format!("{path}/{key}"), &Value::Null, value, out);
            }
        }
        (Value::Array(b), Value::Array(a)) if same_values(b, a) => {}
        (b, a) if b == a => {}
        (Value::String(b), Value::String(a))
            if b.eq_ignore_ascii_case(a)
                && !path.ends_with("/displayName")
                && !path.ends_with("/description") => {}
        (b, a) => out.push(PolicyChange {
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_owned()
            },
            before: b.clone(),
            after: a.clone(),
        }),
    }
}

/// Arrays of strings compare as case-insensitive sets (Graph's collections have no order).
fn same_values(a: &[Value], b: &[Value]) -> bool {
    let strings = |v: &[Value]| -> Option<Vec<String>> {
        v.iter().map(|x| x.as_str().map(str::to_owned)).collect()
    };
    match (strings(a), strings(b)) {
        (Some(a), Some(b)) => same_set(&a, &b),
        _ => a == b,
    }
}

/// The parts of an update that change what the policy enforces or whom it applies to (every
/// difference but its name, description and state): refused on an enforced policy unless forced.
pub fn changes_enforcement(changes: &[&str]) -> bool {
    changes
        .iter()
        .any(|c| !matches!(*c, "displayName" | "description" | "state"))
}

fn same_set(a: &[String], b: &[String]) -> bool {
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
    use super::super::{ALL_GUEST_TYPES, ProtectionControl, ProtectionOptions};
    use super::*;

    const HQ: &str = "0854951d-5fc0-4eb1-b392-9b2c9d7949c2";
    const BG_USER: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08";
    const BG_GROUP: &str = "dad4ae4a-730c-4e52-826c-0d9094971f04";

    fn valid(json: Value) -> ValidOptions {
        serde_json::from_value::<ProtectionOptions>(json)
            .expect("parse")
            .validate()
            .expect("valid")
    }

    fn exclusions() -> Exclusions {
        Exclusions::new([BG_USER.to_uppercase()], [BG_GROUP.to_owned()])
    }

    #[test]
    fn the_default_is_the_msp_baseline_body_of_the_reference() {
        let policy = generate(
            &valid(json!({})),
            &exclusions(),
            ProtectionState::ReportOnly,
        );
        let body = create_body(&policy);
        assert_eq!(body["state"], "enabledForReportingButNotEnforced");
        assert_eq!(body["conditions"]["clientAppTypes"], json!(["all"]));
        assert_eq!(
            body["conditions"]["applications"],
            json!({"includeUserActions": ["urn:user:registersecurityinfo"]})
        );
        assert_eq!(
            body["conditions"]["users"],
            json!({
                "includeUsers": ["All"],
                "excludeUsers": [BG_USER],
                "excludeGroups": [BG_GROUP],
                "excludeGuestsOrExternalUsers": {
                    "guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider",
                    "externalTenants": {
                        "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                        "membershipKind": "all"
                    }
                }
            })
        );
        assert_eq!(
            body["conditions"]["locations"],
            json!({"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]})
        );
        assert_eq!(
            body["grantControls"],
            json!({"operator": "OR", "builtInControls": ["block"]})
        );
        assert!(
            body["displayName"]
                .as_str()
                .expect("name")
                .ends_with(super::super::MARKER)
        );
    }

    #[test]
    fn no_variant_ever_sends_include_applications() {
        for control in ["block", "mfa", "compliantDevice", "domainJoinedDevice"] {
            for guests in ["include", "exclude"] {
                for locations in [json!(["AllTrusted"]), json!([HQ])] {
                    let options = valid(
                        json!({"control": control, "guests": guests, "trustedLocations": locations}),
                    );
                    let policy = generate(&options, &exclusions(), ProtectionState::Enabled);
                    for body in [create_body(&policy), update_body(&policy, &policy)] {
                        let apps = body["conditions"]["applications"]
                            .as_object()
                            .expect("apps");
                        assert_eq!(apps.len(), 1, "{control}/{guests}: {apps:?}");
                        assert!(apps.contains_key("includeUserActions"));
                        assert_eq!(body["conditions"]["clientAppTypes"], json!(["all"]));
                        assert_eq!(body["grantControls"]["builtInControls"], json!([control]));
                    }
                }
            }
        }
    }

    #[test]
    fn included_guests_carry_no_guest_exclusion() {
        let policy = generate(
            &valid(json!({"guests": "include"})),
            &Exclusions::default(),
            ProtectionState::ReportOnly,
        );
        let body = create_body(&policy);
        assert!(
            body["conditions"]["users"]
                .get("excludeGuestsOrExternalUsers")
                .is_none()
        );
        // An update clears a guest exclusion that the existing policy has.
        let excluded = generate(
            &valid(json!({})),
            &Exclusions::default(),
            ProtectionState::ReportOnly,
        );
        let update = update_body(&policy, &excluded);
        assert_eq!(
            update["conditions"]["users"]["excludeGuestsOrExternalUsers"],
            Value::Null
        );
    }

    #[test]
    fn mfa_everywhere_has_no_location_condition() {
        let options = valid(json!({"control": "mfa", "trustedLocations": []}));
        assert_eq!(options.control, ProtectionControl::Mfa);
        let policy = generate(
            &options,
            &Exclusions::default(),
            ProtectionState::ReportOnly,
        );
        assert!(
            create_body(&policy)["conditions"]
                .get("locations")
                .is_none()
        );
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
            &valid(json!({})),
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
        let desired = generate(&valid(json!({})), &exclusions(), ProtectionState::Enabled);
        let mut existing = desired.clone();
        existing.state = "enabledForReportingButNotEnforced".into();
        existing.client_app_types = vec!["browser".into()];
        existing.users.exclude_roles = vec!["62e90394-69f5-4237-9190-012177145e10".into()];
        existing.narrowing_conditions = vec!["platforms".into()];
        existing.has_session_controls = true;
        assert_eq!(
            differences(&desired, &existing),
            [
                "state",
                "conditions/clientAppTypes",
                "conditions/users/excludeRoles",
                "conditions (other)",
                "sessionControls"
            ]
        );
        let update = update_body(&desired, &existing);
        assert_eq!(update["conditions"]["platforms"], Value::Null);
        assert_eq!(update["conditions"]["users"]["excludeRoles"], json!([]));
        assert_eq!(update["sessionControls"], Value::Null);
        assert_eq!(update["state"], "enabled");
    }

    #[test]
    fn the_diff_names_every_changed_graph_value_and_nothing_else() {
        let desired = generate(
            &valid(json!({"control": "mfa"})),
            &exclusions(),
            ProtectionState::Enabled,
        );
        assert!(diff(&desired, Some(&desired)).is_empty());
        let mut existing = desired.clone();
        existing.state = "enabledForReportingButNotEnforced".into();
        existing.grant = Some(GrantControls {
            operator: "OR".into(),
            built_in_controls: vec!["block".into()],
            ..GrantControls::default()
        });
        existing.has_session_controls = true;
        // The same collection in another order and case is no change.
        existing.client_app_types = desired
            .client_app_types
            .iter()
            .rev()
            .map(|c| c.to_uppercase())
            .collect();
        let changes = diff(&desired, Some(&existing));
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/grantControls/builtInControls",
                "/state",
                "/sessionControls"
            ]
        );
        assert_eq!(changes[0].before, json!(["block"]));
        assert_eq!(changes[0].after, json!(["mfa"]));
        assert_eq!(changes[2].after, Value::Null);
        // A new policy: every value, from nothing.
        let created = diff(&desired, None);
        assert!(created.iter().all(|c| c.before.is_null()));
        assert!(
            created
                .iter()
                .any(|c| c.path == "/conditions/applications/includeUserActions")
        );
    }

    #[test]
    fn only_name_description_and_state_leave_enforcement_alone() {
        assert!(!changes_enforcement(&[
            "displayName",
            "description",
            "state"
        ]));
        assert!(changes_enforcement(&["state", "grantControls"]));
        assert!(changes_enforcement(&["conditions/locations"]));
        assert!(changes_enforcement(&["sessionControls"]));
    }
}
