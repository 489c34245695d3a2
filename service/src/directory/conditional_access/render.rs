//! The registration-protection policy as Graph's JSON (graph-api.md §5.3): the bodies of its
//! writes, and the diff the answers show, whose paths point into that JSON.

use serde_json::{Map, Value, json};

use sspr_api::protection::PolicyChange;

use crate::capabilities::conditional_access::PolicyWrite;
use crate::domain::protection::generate::{PolicyPart, same_set};
use crate::domain::protection::{CaPolicy, GuestSelection, LocationCondition, PolicyState};

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
    body.insert("state".into(), json!(policy.state.name()));
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

/// How the answers name a changed part: by its Graph property (path).
pub fn part_name(part: PolicyPart) -> &'static str {
    match part {
        PolicyPart::DisplayName => "displayName",
        PolicyPart::Description => "description",
        PolicyPart::State => "state",
        PolicyPart::ClientAppTypes => "conditions/clientAppTypes",
        PolicyPart::Applications => "conditions/applications",
        PolicyPart::IncludeUsers => "conditions/users/includeUsers",
        PolicyPart::ExcludeUsers => "conditions/users/excludeUsers",
        PolicyPart::IncludeGroups => "conditions/users/includeGroups",
        PolicyPart::ExcludeGroups => "conditions/users/excludeGroups",
        PolicyPart::IncludeRoles => "conditions/users/includeRoles",
        PolicyPart::ExcludeRoles => "conditions/users/excludeRoles",
        PolicyPart::IncludeGuests => "conditions/users/includeGuestsOrExternalUsers",
        PolicyPart::ExcludeGuests => "conditions/users/excludeGuestsOrExternalUsers",
        PolicyPart::Locations => "conditions/locations",
        PolicyPart::OtherConditions => "conditions (other)",
        PolicyPart::Grant => "grantControls",
        PolicyPart::SessionControls => "sessionControls",
    }
}

/// The body of the PATCH that sets only the state.
pub fn state_body(state: PolicyState) -> Value {
    json!({ "state": state.name() })
}

/// Every value of the policy's JSON that `write` changes.
pub fn diff(write: PolicyWrite<'_>) -> Vec<PolicyChange> {
    match write {
        PolicyWrite::Create(policy) => policy_diff(policy, None),
        PolicyWrite::Update { desired, existing } => policy_diff(desired, Some(existing)),
        // A state-only PATCH changes the state and nothing else: the conditions and session
        // controls this service does not model stay as they are, so they are not in the diff.
        PolicyWrite::State { policy, state } if policy.state == state => Vec::new(),
        PolicyWrite::State { policy, state } => vec![PolicyChange {
            path: "/state".into(),
            before: json!(policy.state.name()),
            after: json!(state.name()),
        }],
    }
}

/// What a deploy of `desired` changes in `existing` (everything, for a new policy): the values
/// of the Graph JSON that differ, collections compared as sets. Conditions and session controls
/// that `existing` has and this service does not model are named with their Graph property and
/// cleared (`after` null).
fn policy_diff(desired: &CaPolicy, existing: Option<&CaPolicy>) -> Vec<PolicyChange> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::protection::generate::{Exclusions, generate};
    use crate::domain::protection::{
        GrantControls, ProtectionOptions, ProtectionState, ValidOptions,
    };

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
    fn an_update_clears_what_only_the_existing_policy_sets() {
        let desired = generate(&valid(json!({})), &exclusions(), ProtectionState::Enabled);
        let mut existing = desired.clone();
        existing.state = PolicyState::ReportOnly;
        existing.users.exclude_roles = vec!["62e90394-69f5-4237-9190-012177145e10".into()];
        existing.narrowing_conditions = vec!["platforms".into()];
        existing.has_session_controls = true;
        let update = update_body(&desired, &existing);
        assert_eq!(update["conditions"]["platforms"], Value::Null);
        assert_eq!(update["conditions"]["users"]["excludeRoles"], json!([]));
        assert_eq!(update["sessionControls"], Value::Null);
        assert_eq!(update["state"], "enabled");
    }

    #[test]
    fn mfa_everywhere_sends_no_location_condition() {
        let policy = generate(
            &valid(json!({"control": "mfa", "trustedLocations": []})),
            &Exclusions::default(),
            ProtectionState::ReportOnly,
        );
        assert!(
            create_body(&policy)["conditions"]
                .get("locations")
                .is_none()
        );
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
                .ends_with(crate::domain::protection::MARKER)
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
    fn the_diff_names_every_changed_graph_value_and_nothing_else() {
        let desired = generate(
            &valid(json!({"control": "mfa"})),
            &exclusions(),
            ProtectionState::Enabled,
        );
        assert!(policy_diff(&desired, Some(&desired)).is_empty());
        let mut existing = desired.clone();
        existing.state = PolicyState::ReportOnly;
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
        let changes = policy_diff(&desired, Some(&existing));
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
        let created = policy_diff(&desired, None);
        assert!(created.iter().all(|c| c.before.is_null()));
        assert!(
            created
                .iter()
                .any(|c| c.path == "/conditions/applications/includeUserActions")
        );
    }
}
