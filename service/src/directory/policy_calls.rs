//! The wire format of the planned policy changes, written once: each [`Intent`] as the Graph
//! request that makes it (path and documented JSON body, graph-api.md §1, §2.1) or as the
//! portal write it stands for, and the [`CallView`] a dry run shows of it.

use serde_json::{Map, Value, json};

use super::DirectoryError;
use crate::capabilities::policy_directory::CallView;
use crate::domain::change::{
    Intent, MethodConfigurationUpdate, MethodsPolicyUpdate, PasswordResetPoliciesUpdate,
};
use crate::domain::methods::RegistrationCampaign;
use crate::domain::portal::Scope;

/// Graph's version segment: the client's base URL ends with it, the dry run shows it.
const GRAPH_VERSION: &str = "/v1.0";
const METHODS_POLICY: &str = "policies/authenticationMethodsPolicy";
const CONFIGURATIONS: &str =
    "policies/authenticationMethodsPolicy/authenticationMethodConfigurations";
const AUTHORIZATION_POLICY: &str = "policies/authorizationPolicy";
const PORTAL_PASSWORD_RESET: &str = "/api/PasswordReset/PasswordResetPolicies";
const PORTAL_ON_PREMISES: &str = "/api/PasswordReset/OnPremisesPasswordResetPolicies";

/// The method configurations the plan touches, by id, with their `@odata.type`.
const CONFIGURATION_TYPES: [(&str, &str); 5] = [
    (
        "MicrosoftAuthenticator",
        "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
    ),
    (
        "SoftwareOath",
        "#microsoft.graph.softwareOathAuthenticationMethodConfiguration",
    ),
    (
        "Email",
        "#microsoft.graph.emailAuthenticationMethodConfiguration",
    ),
    (
        "Sms",
        "#microsoft.graph.smsAuthenticationMethodConfiguration",
    ),
    (
        "Voice",
        "#microsoft.graph.voiceAuthenticationMethodConfiguration",
    ),
];

/// A Graph `PATCH`: the path below the client's base URL and the body.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphPatch {
    pub path: String,
    pub body: Value,
}

/// What an intent is on the wire: a Graph `PATCH`, or a portal write of these values (the
/// portal adapter writes them into the whole object it read).
enum Request {
    Graph(GraphPatch),
    Portal { path: &'static str, values: Value },
}

fn request(intent: &Intent) -> Request {
    let graph = |path: String, body: Value| Request::Graph(GraphPatch { path, body });
    match intent {
        Intent::SetMethodsPolicy(update) => {
            graph(METHODS_POLICY.to_owned(), methods_policy_body(update))
        }
        Intent::SetMethodConfiguration(update) => graph(
            format!("{CONFIGURATIONS}/{}", update.id),
            configuration_body(update),
        ),
        Intent::SetAdminSspr(allowed) => graph(
            AUTHORIZATION_POLICY.to_owned(),
            json!({ "allowedToUseSSPR": allowed }),
        ),
        Intent::PutPortalPasswordReset(update) => Request::Portal {
            path: PORTAL_PASSWORD_RESET,
            values: portal_values(update),
        },
        Intent::SetWriteback(enabled) => Request::Portal {
            path: PORTAL_ON_PREMISES,
            values: json!({ "onPremises": { "passwordWriteback": enabled } }),
        },
        Intent::SetUnlock(enabled) => Request::Portal {
            path: PORTAL_ON_PREMISES,
            values: json!({ "onPremises": { "unlockWithoutReset": enabled } }),
        },
    }
}

/// The Graph request that makes `intent`; a portal intent here is a bug of the caller.
pub(super) fn graph_patch(intent: &Intent) -> Result<GraphPatch, DirectoryError> {
    if let Intent::SetMethodConfiguration(update) = intent {
        configuration_id(&update.id)?;
    }
    match request(intent) {
        Request::Graph(patch) => Ok(patch),
        Request::Portal { .. } => Err(DirectoryError::Internal(format!(
            "a portal change was sent to Graph: {}",
            describe(intent).description
        ))),
    }
}

/// The call as a dry run shows it. Graph: the request body. Portal: the values set, in the
/// document's names.
pub fn describe(intent: &Intent) -> CallView {
    let (method, path, body) = match request(intent) {
        Request::Graph(GraphPatch { path, body }) => {
            ("PATCH", format!("{GRAPH_VERSION}/{path}"), body)
        }
        Request::Portal { path, values } => ("PUT", path.to_owned(), values),
    };
    CallView {
        target: intent.target(),
        method: method.to_owned(),
        path,
        description: description(intent, &body),
        body,
    }
}

fn description(intent: &Intent, body: &Value) -> String {
    let on_off = |enabled: bool| if enabled { "on" } else { "off" };
    let keys = || -> String {
        let keys: Vec<&str> = body
            .as_object()
            .map(|o| {
                o.keys()
                    .map(String::as_str)
                    .filter(|k| *k != "@odata.type")
                    .collect()
            })
            .unwrap_or_default();
        keys.join(", ")
    };
    match intent {
        Intent::SetMethodsPolicy(_) => {
            format!("Update the Authentication methods policy ({})", keys())
        }
        Intent::SetMethodConfiguration(update) => {
            format!("Update the {} method configuration ({})", update.id, keys())
        }
        Intent::SetAdminSspr(allowed) => format!(
            "Turn SSPR for administrators {} (authorization policy)",
            on_off(*allowed)
        ),
        Intent::PutPortalPasswordReset(_) => {
            let mut fields = Vec::new();
            collect_pointers("", body, &mut fields);
            format!(
                "Write the portal's password reset policy (read-modify-write of the whole object): {}",
                fields.join(", ")
            )
        }
        Intent::SetWriteback(enabled) => format!("Turn password writeback {}", on_off(*enabled)),
        Intent::SetUnlock(enabled) => format!(
            "Turn unlocking accounts without resetting the password {}",
            on_off(*enabled)
        ),
    }
}

fn methods_policy_body(update: &MethodsPolicyUpdate) -> Value {
    let mut body = Map::new();
    if let Some(state) = &update.migration_state {
        body.insert("policyMigrationState".into(), json!(state));
    }
    if let Some(days) = update.reconfirmation_in_days {
        body.insert("reconfirmationInDays".into(), json!(days));
    }
    if let Some(campaign) = &update.registration_campaign {
        body.insert("registrationEnforcement".into(), campaign_json(campaign));
    }
    Value::Object(body)
}

/// Graph's `registrationEnforcement` for a campaign. Targets are groups (or `all_users`): Graph
/// no longer accepts new user targets.
fn campaign_json(campaign: &RegistrationCampaign) -> Value {
    let mut body = Map::new();
    body.insert("state".into(), json!(campaign.state));
    if let Some(days) = campaign.snooze_duration_in_days {
        body.insert("snoozeDurationInDays".into(), json!(days));
    }
    body.insert(
        "includeTargets".into(),
        campaign
            .include_targets
            .iter()
            .map(|id| json!({ "id": id, "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator" }))
            .collect(),
    );
    body.insert(
        "excludeTargets".into(),
        campaign
            .exclude_targets
            .iter()
            .map(|id| json!({ "id": id, "targetType": "group" }))
            .collect(),
    );
    json!({ "authenticationMethodsRegistrationCampaign": body })
}

/// The configuration's canonical id and `@odata.type` (ids compare case-insensitively).
fn configuration_type(id: &str) -> Option<(&'static str, &'static str)> {
    CONFIGURATION_TYPES
        .into_iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(id))
}

/// The body of a configuration `PATCH`: `@odata.type` and the properties set.
fn configuration_body(update: &MethodConfigurationUpdate) -> Value {
    let mut body = Map::new();
    let kind = configuration_type(&update.id);
    if let Some((_, odata_type)) = kind {
        body.insert("@odata.type".into(), json!(odata_type));
    }
    if let Some(enabled) = update.enabled {
        body.insert(
            "state".into(),
            json!(if enabled { "enabled" } else { "disabled" }),
        );
    }
    if let Some(all_users) = update.targets_all_users {
        let targets = if all_users {
            json!([all_users_target(kind.map_or("", |(id, _)| id))])
        } else {
            json!([])
        };
        body.insert("includeTargets".into(), targets);
    }
    if let Some(enabled) = update.software_oath_enabled {
        body.insert("isSoftwareOathEnabled".into(), json!(enabled));
    }
    if let Some(allowed) = update.office_phone_allowed {
        body.insert("isOfficePhoneAllowed".into(), json!(allowed));
    }
    Value::Object(body)
}

fn all_users_target(configuration: &str) -> Value {
    let mut target =
        json!({ "targetType": "group", "id": "all_users", "isRegistrationRequired": false });
    match configuration {
        "Sms" => target["isUsableForSignIn"] = json!(false),
        "MicrosoftAuthenticator" => target["authenticationMode"] = json!("any"),
        _ => {}
    }
    target
}

/// A method configuration id as a path segment: Graph's ids are names (`Email`) or GUIDs.
fn configuration_id(id: &str) -> Result<&str, DirectoryError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(id)
    } else {
        Err(DirectoryError::Internal(format!(
            "{id:?} is not an authentication method configuration id"
        )))
    }
}

/// The values a portal update sets, in the document's names.
fn portal_values(update: &PasswordResetPoliciesUpdate) -> Value {
    let mut out = Map::new();
    let mut set = |pointer: &str, value: Value| {
        let (group, field) = pointer.split_once('/').expect("group/field");
        let entry = out
            .entry(group.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[field] = value;
    };
    if let Some(scope) = &update.scope {
        let (kind, group) = match scope {
            Scope::None => ("none", None),
            Scope::Selected { group_id, .. } => ("selected", Some(group_id.clone())),
            Scope::All => ("all", None),
        };
        set("enablement/scope", json!(kind));
        set("enablement/groupId", json!(group));
    }
    if let Some(v) = update.methods_required {
        set("authentication/methodsRequired", json!(v));
    }
    let mut questions = Map::new();
    if let Some(v) = update.security_questions_to_register {
        questions.insert("toRegister".into(), json!(v));
    }
    if let Some(v) = update.security_questions_to_reset {
        questions.insert("toReset".into(), json!(v));
    }
    if !questions.is_empty() {
        set("authentication/securityQuestions", Value::Object(questions));
    }
    for (name, value) in [
        ("mobileAppNotification", update.mobile_app_notification),
        ("mobileAppCode", update.mobile_app_code),
        ("email", update.email),
        ("mobilePhone", update.mobile_phone),
        ("officePhone", update.office_phone),
        ("securityQuestions", update.security_questions),
    ] {
        if let Some(v) = value {
            set(&format!("methods/{name}"), json!(v));
        }
    }
    if let Some(v) = update.require_registration_on_sign_in {
        set("registration/requireRegistrationOnSignIn", json!(v));
    }
    if let Some(v) = update.reconfirm_days {
        set("registration/reconfirmDays", json!(v));
    }
    if let Some(v) = update.notify_users_on_reset {
        set("notifications/notifyUsersOnReset", json!(v));
    }
    if let Some(v) = update.notify_admins_on_admin_reset {
        set("notifications/notifyAdminsOnAdminReset", json!(v));
    }
    if let Some(v) = &update.helpdesk_link {
        set("customization/helpdeskLink", json!(v));
    }
    Value::Object(out)
}

/// The JSON pointers of every leaf of `value`, below `pointer`.
pub fn collect_pointers(pointer: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                collect_pointers(&format!("{pointer}/{key}"), inner, out);
            }
        }
        _ => out.push(pointer.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::Source;

    fn configuration(id: &str) -> MethodConfigurationUpdate {
        MethodConfigurationUpdate {
            id: id.into(),
            ..Default::default()
        }
    }

    fn campaign() -> RegistrationCampaign {
        RegistrationCampaign {
            state: "enabled".into(),
            snooze_duration_in_days: Some(1),
            include_targets: vec!["all_users".into()],
            exclude_targets: vec!["0b1d3c5e-0000-4000-8000-000000000001".into()],
        }
    }

    /// Method, path and body of the view, and that the request sent is the same.
    fn rendered(intent: &Intent) -> (String, String, Value) {
        let view = describe(intent);
        if let Ok(patch) = graph_patch(intent) {
            assert_eq!(view.path, format!("/v1.0/{}", patch.path));
            assert_eq!(view.body, patch.body, "the dry run shows the body sent");
        }
        (view.method, view.path, view.body)
    }

    #[test]
    fn the_methods_policy_is_patched_with_the_fields_set_and_the_whole_campaign() {
        let intent = Intent::SetMethodsPolicy(MethodsPolicyUpdate {
            migration_state: Some("migrationComplete".into()),
            reconfirmation_in_days: Some(None),
            registration_campaign: Some(campaign()),
        });
        assert_eq!(
            rendered(&intent),
            (
                "PATCH".into(),
                "/v1.0/policies/authenticationMethodsPolicy".into(),
                json!({
                    "policyMigrationState": "migrationComplete",
                    "reconfirmationInDays": null,
                    "registrationEnforcement": { "authenticationMethodsRegistrationCampaign": {
                        "state": "enabled",
                        "snoozeDurationInDays": 1,
                        "includeTargets": [{ "id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator" }],
                        "excludeTargets": [{ "id": "0b1d3c5e-0000-4000-8000-000000000001", "targetType": "group" }]
                    } }
                })
            )
        );
        assert_eq!(
            describe(&intent).description,
            "Update the Authentication methods policy (policyMigrationState, reconfirmationInDays, registrationEnforcement)"
        );
        let no_snooze = Intent::SetMethodsPolicy(MethodsPolicyUpdate {
            registration_campaign: Some(RegistrationCampaign {
                snooze_duration_in_days: None,
                ..campaign()
            }),
            ..Default::default()
        });
        let body = describe(&no_snooze).body;
        assert!(
            body["registrationEnforcement"]["authenticationMethodsRegistrationCampaign"]
                .get("snoozeDurationInDays")
                .is_none(),
            "{body}"
        );
        assert_eq!(
            describe(&Intent::SetMethodsPolicy(MethodsPolicyUpdate {
                reconfirmation_in_days: Some(Some(90)),
                ..Default::default()
            }))
            .body,
            json!({ "reconfirmationInDays": 90 })
        );
    }

    #[test]
    fn a_configuration_patch_carries_the_odata_type_of_its_id() {
        for (id, odata_type) in [
            (
                "MicrosoftAuthenticator",
                "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
            ),
            (
                "SoftwareOath",
                "#microsoft.graph.softwareOathAuthenticationMethodConfiguration",
            ),
            (
                "Email",
                "#microsoft.graph.emailAuthenticationMethodConfiguration",
            ),
            (
                "Sms",
                "#microsoft.graph.smsAuthenticationMethodConfiguration",
            ),
            (
                "Voice",
                "#microsoft.graph.voiceAuthenticationMethodConfiguration",
            ),
        ] {
            let intent = Intent::SetMethodConfiguration(MethodConfigurationUpdate {
                enabled: Some(false),
                ..configuration(id)
            });
            assert_eq!(
                rendered(&intent),
                (
                    "PATCH".into(),
                    format!(
                        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}"
                    ),
                    json!({ "@odata.type": odata_type, "state": "disabled" })
                )
            );
        }
        // Ids compare case-insensitively; the path keeps the id as read.
        let (_, path, body) =
            rendered(&Intent::SetMethodConfiguration(MethodConfigurationUpdate {
                enabled: Some(true),
                ..configuration("email")
            }));
        assert!(
            path.ends_with("/authenticationMethodConfigurations/email"),
            "{path}"
        );
        assert_eq!(
            body,
            json!({ "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", "state": "enabled" })
        );
    }

    #[test]
    fn a_configuration_patch_sets_each_property_it_names() {
        let intent = Intent::SetMethodConfiguration(MethodConfigurationUpdate {
            enabled: Some(true),
            software_oath_enabled: Some(true),
            office_phone_allowed: Some(false),
            ..configuration("Voice")
        });
        assert_eq!(
            describe(&intent).body,
            json!({
                "@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration",
                "state": "enabled",
                "isSoftwareOathEnabled": true,
                "isOfficePhoneAllowed": false
            })
        );
        assert_eq!(
            describe(&intent).description,
            "Update the Voice method configuration (isOfficePhoneAllowed, isSoftwareOathEnabled, state)",
            "properties named without @odata.type"
        );
    }

    #[test]
    fn targeting_all_users_takes_the_targets_shape_of_each_configuration() {
        let targets = |id: &str, all_users: bool| {
            describe(&Intent::SetMethodConfiguration(MethodConfigurationUpdate {
                targets_all_users: Some(all_users),
                ..configuration(id)
            }))
            .body["includeTargets"]
                .clone()
        };
        assert_eq!(
            targets("Sms", true),
            json!([{ "targetType": "group", "id": "all_users", "isRegistrationRequired": false, "isUsableForSignIn": false }])
        );
        assert_eq!(
            targets("MicrosoftAuthenticator", true),
            json!([{ "targetType": "group", "id": "all_users", "isRegistrationRequired": false, "authenticationMode": "any" }])
        );
        for id in ["SoftwareOath", "Email", "Voice"] {
            assert_eq!(
                targets(id, true),
                json!([{ "targetType": "group", "id": "all_users", "isRegistrationRequired": false }]),
                "{id}"
            );
        }
        assert_eq!(targets("Sms", false), json!([]), "the undo targets nobody");
    }

    #[test]
    fn admin_sspr_is_an_authorization_policy_patch() {
        for (allowed, says) in [(true, "on"), (false, "off")] {
            let intent = Intent::SetAdminSspr(allowed);
            assert_eq!(
                rendered(&intent),
                (
                    "PATCH".into(),
                    "/v1.0/policies/authorizationPolicy".into(),
                    json!({ "allowedToUseSSPR": allowed })
                )
            );
            let view = describe(&intent);
            assert_eq!(view.target, Source::Graph);
            assert_eq!(
                view.description,
                format!("Turn SSPR for administrators {says} (authorization policy)")
            );
        }
    }

    #[test]
    fn a_portal_update_shows_the_values_it_sets_in_the_documents_names() {
        let intent = Intent::PutPortalPasswordReset(PasswordResetPoliciesUpdate {
            scope: Some(Scope::Selected {
                group_id: "3ee3a9de-0a86-4e12-a287-9769accf1ba2".into(),
                group_name: Some("not shown".into()),
            }),
            methods_required: Some(1),
            security_questions_to_register: Some(5),
            security_questions_to_reset: Some(3),
            email: Some(false),
            security_questions: Some(true),
            require_registration_on_sign_in: Some(true),
            reconfirm_days: Some(90),
            notify_users_on_reset: Some(false),
            notify_admins_on_admin_reset: Some(true),
            helpdesk_link: Some(None),
            ..Default::default()
        });
        let view = describe(&intent);
        assert_eq!(view.target, Source::Portal);
        assert_eq!(
            (view.method.as_str(), view.path.as_str()),
            ("PUT", "/api/PasswordReset/PasswordResetPolicies")
        );
        assert_eq!(
            view.body,
            json!({
                "enablement": { "scope": "selected", "groupId": "3ee3a9de-0a86-4e12-a287-9769accf1ba2" },
                "authentication": { "methodsRequired": 1, "securityQuestions": { "toRegister": 5, "toReset": 3 } },
                "methods": { "email": false, "securityQuestions": true },
                "registration": { "requireRegistrationOnSignIn": true, "reconfirmDays": 90 },
                "notifications": { "notifyUsersOnReset": false, "notifyAdminsOnAdminReset": true },
                "customization": { "helpdeskLink": null }
            })
        );
        assert!(
            view.description.starts_with(
                "Write the portal's password reset policy (read-modify-write of the whole object): "
            ) && view.description.contains("/enablement/groupId")
                && view
                    .description
                    .contains("/authentication/securityQuestions/toReset")
                && view.description.contains("/customization/helpdeskLink"),
            "{}",
            view.description
        );
        for (scope, kind) in [(Scope::All, "all"), (Scope::None, "none")] {
            let body = describe(&Intent::PutPortalPasswordReset(
                PasswordResetPoliciesUpdate {
                    scope: Some(scope),
                    ..Default::default()
                },
            ))
            .body;
            assert_eq!(
                body,
                json!({ "enablement": { "scope": kind, "groupId": null } })
            );
        }
    }

    #[test]
    fn writeback_and_unlock_are_puts_of_the_on_premises_object() {
        for (intent, body, description) in [
            (
                Intent::SetWriteback(true),
                json!({ "onPremises": { "passwordWriteback": true } }),
                "Turn password writeback on",
            ),
            (
                Intent::SetUnlock(false),
                json!({ "onPremises": { "unlockWithoutReset": false } }),
                "Turn unlocking accounts without resetting the password off",
            ),
        ] {
            let view = describe(&intent);
            assert_eq!(view.target, Source::Portal);
            assert_eq!(
                (view.method.as_str(), view.path.as_str()),
                ("PUT", "/api/PasswordReset/OnPremisesPasswordResetPolicies")
            );
            assert_eq!(view.body, body);
            assert_eq!(view.description, description);
        }
    }

    #[test]
    fn a_portal_intent_is_not_sent_to_graph() {
        let error = graph_patch(&Intent::SetWriteback(true)).expect_err("portal");
        assert!(
            matches!(&error, DirectoryError::Internal(message) if message.contains("Turn password writeback on")),
            "{error}"
        );
    }

    #[test]
    fn configuration_ids_are_plain_path_segments() {
        for id in [
            "Email",
            "MicrosoftAuthenticator",
            "0b1d3c5e-0000-4000-8000-000000000001",
        ] {
            assert_eq!(configuration_id(id).expect(id), id);
        }
        for id in ["", "Email/../../authorizationPolicy", "Email?x=1", "a b"] {
            assert!(configuration_id(id).is_err(), "{id}");
            let intent = Intent::SetMethodConfiguration(MethodConfigurationUpdate {
                enabled: Some(true),
                ..configuration(id)
            });
            assert!(graph_patch(&intent).is_err(), "not sent: {id}");
        }
    }
}
