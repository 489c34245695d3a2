//! An RFC 7396 merge patch applied to the editable settings, with errors naming the JSON pointer
//! at fault, and the per-field diff of two settings with the source each field belongs to.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::change::{ChangeError, PolicySettings, ScopeKind, Sources, writable};
use crate::domain::policy::Source;
use crate::domain::rules;

/// The settings as the PATCH document shows them: the merge patch and the diff work on this.
pub(super) fn settings_json(settings: &PolicySettings) -> Value {
    serde_json::to_value(settings).expect("policy settings serialize to JSON")
}

// ---------------------------------------------------------------------------------------------
// Merge patch.
// ---------------------------------------------------------------------------------------------

/// Fields `null` may clear: "not customized" and "no group".
const CLEARABLE: &[&str] = &["/customization/helpdeskLink", "/enablement/groupId"];

/// Applies an RFC 7396 merge patch to `before`. Refuses a patch that is not an object, names an
/// unknown field, has a value of the wrong type, removes a field that cannot be empty, or changes
/// a field whose source cannot be written. A scope other than `selected` drops the group id.
pub fn apply_merge_patch(
    before: &PolicySettings,
    patch: &Value,
    sources: &Sources,
) -> Result<PolicySettings, ChangeError> {
    if !patch.is_object() {
        return Err(ChangeError::NotAnObject);
    }
    let original = settings_json(before);
    let mut merged = original.clone();
    json_patch::merge(&mut merged, patch);

    check_removals("", &original, &merged)?;
    let mut changes = Vec::new();
    walk("", &original, &merged, &mut changes);
    // Unknown groups are left to deserialization, which names them.
    let known_group = |pointer: &str| {
        let group = pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        original.get(group).is_some()
    };
    if let Some((pointer, _, _)) = changes
        .iter()
        .find(|(p, _, _)| known_group(p) && !writable(sources.of(p)))
    {
        return Err(ChangeError::SourceUnavailable {
            pointer: pointer.clone(),
            origin: sources.of(pointer),
        });
    }

    let mut after: PolicySettings =
        serde_path_to_error::deserialize(merged.clone()).map_err(|error| {
            let mut pointer = to_pointer(error.path());
            let message = error.inner().to_string();
            if let Some(field) = unknown_field(&message) {
                // The path stops at the object holding the unknown key.
                if !pointer.ends_with(&format!("/{}", escape(field))) {
                    pointer = format!("{pointer}/{}", escape(field));
                }
                return ChangeError::UnknownField { pointer };
            }
            // Serde's words ("expected u16") are not the rule; say what the field takes.
            let message = match rules::expected(&pointer) {
                Some(rule) => format!("must be {rule}, not {}", shown(merged.pointer(&pointer))),
                None => message,
            };
            ChangeError::InvalidValue { pointer, message }
        })?;
    // Text fields with a closed set of values, checked where the patch changes them (a value
    // Graph sent that this version does not know is kept while untouched).
    if let Some((pointer, _, value)) = changes.iter().find(|(pointer, _, value)| {
        rules::vocabulary(pointer)
            .is_some_and(|allowed| !value.as_str().is_some_and(|text| allowed.contains(&text)))
    }) {
        return Err(ChangeError::InvalidValue {
            pointer: pointer.clone(),
            message: format!(
                "must be {}, not {}",
                rules::expected(pointer).unwrap_or("one of the listed values"),
                shown(Some(value))
            ),
        });
    }
    if let Some(enablement) = &mut after.enablement
        && enablement.scope != ScopeKind::Selected
    {
        enablement.group_id = None;
    }
    Ok(after)
}

/// A key that held a value before and is gone (or null) after the merge.
fn check_removals(pointer: &str, before: &Value, after: &Value) -> Result<(), ChangeError> {
    // A value replaced by one of another type is left to deserialization, which names the type.
    let (Value::Object(before), Value::Object(_)) = (before, after) else {
        return Ok(());
    };
    for (key, old) in before {
        if old.is_null() {
            continue;
        }
        let here = format!("{pointer}/{}", escape(key));
        match after.get(key) {
            None | Some(Value::Null) if !CLEARABLE.contains(&here.as_str()) => {
                return Err(ChangeError::NotRemovable { pointer: here });
            }
            Some(new) => check_removals(&here, old, new)?,
            _ => {}
        }
    }
    Ok(())
}

/// A value as a message shows it: compact JSON, cut after 60 characters.
fn shown(value: Option<&Value>) -> String {
    let text = value.map_or_else(|| "missing".to_owned(), Value::to_string);
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// A serde path as a JSON pointer (`a[0].b` → `/a/0/b`), keys escaped.
pub(crate) fn to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&escape(key));
            }
            Segment::Seq { index } => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    pointer
}

/// RFC 6901 escaping of one reference token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

// ---------------------------------------------------------------------------------------------
// Diff.
// ---------------------------------------------------------------------------------------------

/// One leaf field that differs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    /// JSON pointer into the settings (and the PATCH document), e.g. `/authentication/methodsRequired`.
    pub pointer: String,
    pub before: Value,
    pub after: Value,
    /// The upstream the field belongs to.
    pub source: Source,
}

/// The groups of the settings, in document order.
const GROUPS: [&str; 9] = [
    "enablement",
    "authentication",
    "methods",
    "registration",
    "notifications",
    "customization",
    "onPremises",
    "administrators",
    "methodsPolicy",
];

/// Every leaf field that differs between `before` and `after`: groups in document order, fields
/// ordered by pointer within a group.
pub fn diff(
    before: &PolicySettings,
    after: &PolicySettings,
    sources: &Sources,
) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    walk(
        "",
        &settings_json(before),
        &settings_json(after),
        &mut changes,
    );
    // Groups in document order (whatever order the JSON map keeps), fields by pointer within.
    let group_rank = |pointer: &str| {
        let group = pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        GROUPS
            .iter()
            .position(|g| *g == group)
            .unwrap_or(GROUPS.len())
    };
    changes.sort_by(|(a, _, _), (b, _, _)| (group_rank(a), a).cmp(&(group_rank(b), b)));
    changes
        .into_iter()
        .map(|(pointer, before, after)| FieldChange {
            source: sources.of(&pointer),
            pointer,
            before,
            after,
        })
        .collect()
}

/// Leaf differences; a group present on one side only yields its leaves against `null`.
fn walk(pointer: &str, before: &Value, after: &Value, out: &mut Vec<(String, Value, Value)>) {
    let empty = Map::new();
    match (before, after) {
        (Value::Object(_), _) | (_, Value::Object(_)) => {
            let b = before.as_object().unwrap_or(&empty);
            let a = after.as_object().unwrap_or(&empty);
            let mut keys: Vec<&String> = b.keys().collect();
            keys.extend(a.keys().filter(|k| !b.contains_key(*k)));
            for key in keys {
                let here = format!("{pointer}/{}", escape(key));
                walk(
                    &here,
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if before != after => out.push((pointer.to_owned(), before.clone(), after.clone())),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::policy_calls::collect_pointers;
    use crate::domain::change::Enablement;
    use crate::domain::change::fixtures::*;
    use crate::domain::methods::MigrationState;
    use serde_json::json;

    fn patched(patch: Value) -> Result<PolicySettings, ChangeError> {
        apply_merge_patch(&settings(), &patch, &portal_sources())
    }

    // -- merge patch ------------------------------------------------------------------------

    #[test]
    fn merge_patch_sets_a_value_and_keeps_the_rest() {
        let after = patched(json!({ "authentication": { "methodsRequired": 1 } })).unwrap();
        assert_eq!(after.authentication.as_ref().unwrap().methods_required, 1);
        let mut expected = settings();
        expected.authentication.as_mut().unwrap().methods_required = 1;
        assert_eq!(after, expected);
    }

    #[test]
    fn merge_patch_merges_nested_objects() {
        let after = patched(json!({ "authentication": { "securityQuestions": { "toReset": 4 } } }))
            .unwrap();
        let auth = after.authentication.unwrap();
        assert_eq!(auth.methods_required, 2);
        assert_eq!(auth.security_questions.to_register, 5);
        assert_eq!(auth.security_questions.to_reset, 4);
    }

    #[test]
    fn merge_patch_null_clears_the_helpdesk_link() {
        let after = patched(json!({ "customization": { "helpdeskLink": null } })).unwrap();
        assert_eq!(after.customization.unwrap().helpdesk_link, None);
    }

    #[test]
    fn merge_patch_null_cannot_remove_a_required_field_or_group() {
        assert_eq!(
            patched(json!({ "authentication": { "methodsRequired": null } })),
            Err(ChangeError::NotRemovable {
                pointer: "/authentication/methodsRequired".into()
            })
        );
        assert_eq!(
            patched(json!({ "notifications": null })),
            Err(ChangeError::NotRemovable {
                pointer: "/notifications".into()
            })
        );
        assert_eq!(
            patched(json!({ "methods": { "email": null } }))
                .unwrap_err()
                .pointer(),
            "/methods/email"
        );
    }

    #[test]
    fn merge_patch_refuses_unknown_fields_with_their_pointer() {
        assert_eq!(
            patched(json!({ "authentication": { "methodsRequierd": 1 } })),
            Err(ChangeError::UnknownField {
                pointer: "/authentication/methodsRequierd".into()
            })
        );
        assert_eq!(
            patched(json!({ "authentication": { "securityQuestions": { "toAsk": 3 } } })),
            Err(ChangeError::UnknownField {
                pointer: "/authentication/securityQuestions/toAsk".into()
            })
        );
        assert_eq!(
            patched(json!({ "colour": "blue" })),
            Err(ChangeError::UnknownField {
                pointer: "/colour".into()
            })
        );
    }

    #[test]
    fn merge_patch_refuses_wrong_types_with_their_pointer() {
        let error = patched(json!({ "registration": { "reconfirmDays": -1 } })).unwrap_err();
        assert!(matches!(error, ChangeError::InvalidValue { .. }));
        assert_eq!(error.pointer(), "/registration/reconfirmDays");

        let error = patched(json!({ "authentication": 2 })).unwrap_err();
        assert!(
            matches!(error, ChangeError::InvalidValue { .. }),
            "{error:?}"
        );
        assert_eq!(error.pointer(), "/authentication");

        let error = patched(json!({ "enablement": { "scope": "some" } })).unwrap_err();
        assert_eq!(error.pointer(), "/enablement/scope");
        assert_eq!(
            error.to_string(),
            "/enablement/scope must be one of none, selected, all, not \"some\""
        );
    }

    #[test]
    fn type_and_range_errors_name_the_rule_not_serdes_words() {
        for (patch, expected) in [
            (
                json!({ "registration": { "reconfirmDays": -1 } }),
                "/registration/reconfirmDays must be a whole number from 0 to 730 (0 = never), not -1",
            ),
            (
                json!({ "registration": { "reconfirmDays": 70000 } }),
                "/registration/reconfirmDays must be a whole number from 0 to 730 (0 = never), not 70000",
            ),
            (
                json!({ "authentication": { "methodsRequired": "two" } }),
                "/authentication/methodsRequired must be 1 or 2, not \"two\"",
            ),
            (
                json!({ "authentication": { "methodsRequired": 1.5 } }),
                "/authentication/methodsRequired must be 1 or 2, not 1.5",
            ),
            (
                json!({ "authentication": { "securityQuestions": { "toReset": -3 } } }),
                "/authentication/securityQuestions/toReset must be a whole number from 3 to 5, at most toRegister, not -3",
            ),
            (
                json!({ "methods": { "email": "yes" } }),
                "/methods/email must be true or false, not \"yes\"",
            ),
            (
                json!({ "methodsPolicy": { "registrationCampaign": { "snoozeDurationInDays": 1e12 } } }),
                "/methodsPolicy/registrationCampaign/snoozeDurationInDays must be a whole number from 0 to 14, or null, not 1000000000000.0",
            ),
            (
                json!({ "methodsPolicy": { "registrationCampaign": { "includeTargets": ["all_users", 7] } } }),
                "/methodsPolicy/registrationCampaign/includeTargets/1 must be a group object id or all_users, not 7",
            ),
            (
                json!({ "authentication": 2 }),
                "/authentication must be an object with methodsRequired and securityQuestions, not 2",
            ),
        ] {
            let error = patched(patch.clone()).unwrap_err();
            assert!(
                matches!(error, ChangeError::InvalidValue { .. }),
                "{patch}: {error:?}"
            );
            assert_eq!(error.to_string(), expected, "{patch}");
        }
        // A long value is cut.
        let long = "x".repeat(500);
        let error = patched(json!({ "registration": { "reconfirmDays": long } })).unwrap_err();
        assert!(error.to_string().len() < 200, "{error}");
    }

    #[test]
    fn closed_text_fields_take_only_their_values_where_changed() {
        let error =
            patched(json!({ "methodsPolicy": { "migrationState": "migrated" } })).unwrap_err();
        assert_eq!(
            error.to_string(),
            "/methodsPolicy/migrationState must be one of preMigration, migrationInProgress, migrationComplete, not \"migrated\""
        );
        let error =
            patched(json!({ "methodsPolicy": { "registrationCampaign": { "state": "Enabled" } } }))
                .unwrap_err();
        assert_eq!(error.pointer(), "/methodsPolicy/registrationCampaign/state");
        assert!(
            patched(json!({ "methodsPolicy": { "migrationState": "migrationComplete" } })).is_ok()
        );
        // A value Graph sent that this version does not know stays while untouched.
        let mut odd = settings();
        odd.methods_policy.migration_state = "unknownFutureValue".into();
        assert!(
            apply_merge_patch(
                &odd,
                &json!({ "registration": { "reconfirmDays": 90 } }),
                &portal_sources()
            )
            .is_ok()
        );
    }

    #[test]
    fn every_field_of_the_document_has_a_rule() {
        let mut pointers = Vec::new();
        collect_pointers("", &settings_json(&settings()), &mut pointers);
        // Groups too, and a campaign's lists.
        let mut groups: Vec<String> = pointers
            .iter()
            .filter_map(|p| p.rsplit_once('/').map(|(group, _)| group.to_owned()))
            .filter(|g| !g.is_empty())
            .collect();
        groups.dedup();
        assert!(
            pointers
                .iter()
                .any(|p| p == "/methodsPolicy/registrationCampaign/includeTargets")
        );
        for pointer in pointers.iter().chain(&groups) {
            assert!(
                rules::expected(pointer).is_some(),
                "{pointer} has no rule text in rules::expected"
            );
        }
    }

    #[test]
    fn merge_patch_must_be_an_object() {
        assert_eq!(patched(json!([1])), Err(ChangeError::NotAnObject));
    }

    #[test]
    fn merge_patch_refuses_fields_whose_source_is_unavailable() {
        let before = PolicySettings::from_parts(
            None,
            &methods_policy(MigrationState::MigrationComplete),
            false,
        );
        let sources = Sources::new(Source::Unavailable, true);
        assert_eq!(
            apply_merge_patch(
                &before,
                &json!({ "notifications": { "notifyUsersOnReset": true } }),
                &sources
            ),
            Err(ChangeError::SourceUnavailable {
                pointer: "/notifications/notifyUsersOnReset".into(),
                origin: Source::Unavailable
            })
        );
        assert_eq!(
            apply_merge_patch(
                &before,
                &json!({ "methods": { "securityQuestions": true } }),
                &sources
            )
            .unwrap_err()
            .pointer(),
            "/methods/securityQuestions"
        );
        // Graph-held fields can still change.
        let after = apply_merge_patch(&before, &json!({ "methods": { "email": false } }), &sources)
            .unwrap();
        assert_eq!(after.methods.unwrap().email, Some(false));
    }

    #[test]
    fn merge_patch_drops_the_group_for_scopes_other_than_selected() {
        let after = patched(json!({ "enablement": { "scope": "all" } })).unwrap();
        assert_eq!(
            after.enablement,
            Some(Enablement {
                scope: ScopeKind::All,
                group_id: None
            })
        );
    }

    // -- diff -------------------------------------------------------------------------------

    #[test]
    fn diff_lists_each_leaf_with_its_source() {
        let before = PolicySettings::from_parts(
            Some(&portal()),
            &methods_policy(MigrationState::MigrationComplete),
            false,
        );
        let sources = Sources::new(Source::Portal, true);
        let after = apply_merge_patch(
            &before,
            &json!({
                "authentication": { "securityQuestions": { "toReset": 4 } },
                "methods": { "email": false, "securityQuestions": true },
                "administrators": { "allowedToUseSspr": true },
                "methodsPolicy": { "registrationCampaign": { "snoozeDurationInDays": 3 } },
                "customization": { "helpdeskLink": null }
            }),
            &sources,
        )
        .unwrap();
        let changes = diff(&before, &after, &sources);
        let summary: Vec<(&str, Value, Value, Source)> = changes
            .iter()
            .map(|c| {
                (
                    c.pointer.as_str(),
                    c.before.clone(),
                    c.after.clone(),
                    c.source,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "/authentication/securityQuestions/toReset",
                    json!(3),
                    json!(4),
                    Source::Portal
                ),
                ("/methods/email", json!(true), json!(false), Source::Graph),
                (
                    "/methods/securityQuestions",
                    json!(false),
                    json!(true),
                    Source::Portal
                ),
                (
                    "/customization/helpdeskLink",
                    json!("https://help.contoso.com/sspr"),
                    Value::Null,
                    Source::Portal
                ),
                (
                    "/administrators/allowedToUseSspr",
                    json!(false),
                    json!(true),
                    Source::Graph
                ),
                (
                    "/methodsPolicy/registrationCampaign/snoozeDurationInDays",
                    json!(1),
                    json!(3),
                    Source::Graph
                ),
            ]
        );
        assert!(diff(&before, &before, &sources).is_empty());
    }

    #[test]
    fn diff_of_methods_before_migration_belongs_to_the_portal() {
        let after = patched(json!({ "methods": { "email": false } })).unwrap();
        let changes = diff(&settings(), &after, &portal_sources());
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].source, Source::Portal);
    }

    #[test]
    fn settings_without_portal_show_its_groups_as_null() {
        let s = PolicySettings::from_parts(
            None,
            &methods_policy(MigrationState::MigrationInProgress),
            false,
        );
        let json = settings_json(&s);
        assert_eq!(json["enablement"], Value::Null);
        assert_eq!(json["methods"]["securityQuestions"], Value::Null);
    }

    #[test]
    fn settings_serialize_with_the_document_names() {
        let json = serde_json::to_value(settings()).unwrap();
        assert_eq!(
            json["enablement"],
            json!({ "scope": "selected", "groupId": GROUP })
        );
        assert_eq!(
            json["authentication"],
            json!({ "methodsRequired": 2, "securityQuestions": { "toRegister": 5, "toReset": 3 } })
        );
        assert_eq!(json["registration"]["requireRegistrationOnSignIn"], true);
        assert_eq!(json["notifications"]["notifyAdminsOnAdminReset"], true);
        assert_eq!(json["onPremises"]["unlockWithoutReset"], false);
        assert_eq!(json["administrators"]["allowedToUseSspr"], false);
        assert_eq!(
            json["methodsPolicy"]["registrationCampaign"]["snoozeDurationInDays"],
            1
        );
        let back: PolicySettings = serde_json::from_value(json).unwrap();
        assert_eq!(back, settings());
    }
}
