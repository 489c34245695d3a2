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
