//! The plan of upstream calls that makes a change, Graph first, then the portal, each with the
//! call that undoes it.
//!
//! Graph bodies are the documented Graph JSON (graph-api.md §1, §2.1); portal calls carry typed
//! values in domain terms and the portal adapter translates them to its wire objects.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::merge_patch::{ChangeError, FieldChange, collect_pointers, diff};
use super::portal_update::PasswordResetPoliciesUpdate;
use super::settings::*;
use crate::domain::methods::{MethodConfiguration, MethodsPolicy, RegistrationCampaign};
use crate::domain::policy::Source;
use crate::domain::portal::Scope;

/// One call to Graph or the portal back end.
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamCall {
    /// `PATCH /policies/authenticationMethodsPolicy` with Graph's JSON.
    GraphPatchMethodsPolicy { body: Value },
    /// `PATCH .../authenticationMethodConfigurations/{id}`; the request body is `body` plus
    /// `@odata.type` (see [`UpstreamCall::request_body`]).
    GraphPatchMethodConfiguration {
        id: String,
        odata_type: String,
        body: Value,
    },
    /// `PATCH /policies/authorizationPolicy` with Graph's JSON.
    GraphPatchAuthorizationPolicy { body: Value },
    /// Read-modify-write of the whole portal `PasswordResetPolicies` object.
    PortalPutPasswordResetPolicies { update: PasswordResetPoliciesUpdate },
    /// Its own PUT of `OnPremisesPasswordResetPolicies` (combined PUTs do not stick).
    PortalPutWriteback { enabled: bool },
    /// Its own PUT of `OnPremisesPasswordResetPolicies`.
    PortalPutUnlock { enabled: bool },
}

/// A call as shown in a dry-run plan.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    /// `graph` or `portal`.
    pub target: Source,
    #[schema(value_type = UpstreamMethod)]
    pub method: String,
    /// Path on the upstream (Graph v1.0, or the portal back end's `/api`).
    pub path: String,
    pub description: String,
    /// Graph: the request body. Portal: the values set, in the document's names (the adapter
    /// writes them into the whole object it read).
    pub body: Value,
}

/// The HTTP method of an upstream call (the schema of [`CallView::method`]).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[allow(dead_code)] // Only its schema is used: the view carries the method as text.
pub enum UpstreamMethod {
    /// Graph.
    Patch,
    /// The portal back end.
    Put,
}

const CONFIGURATIONS: &str =
    "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations";

impl UpstreamCall {
    pub fn target(&self) -> Source {
        match self {
            UpstreamCall::GraphPatchMethodsPolicy { .. }
            | UpstreamCall::GraphPatchMethodConfiguration { .. }
            | UpstreamCall::GraphPatchAuthorizationPolicy { .. } => Source::Graph,
            UpstreamCall::PortalPutPasswordResetPolicies { .. }
            | UpstreamCall::PortalPutWriteback { .. }
            | UpstreamCall::PortalPutUnlock { .. } => Source::Portal,
        }
    }

    pub fn method(&self) -> &'static str {
        match self.target() {
            Source::Graph => "PATCH",
            _ => "PUT",
        }
    }

    pub fn path(&self) -> String {
        match self {
            UpstreamCall::GraphPatchMethodsPolicy { .. } => {
                "/v1.0/policies/authenticationMethodsPolicy".to_owned()
            }
            UpstreamCall::GraphPatchMethodConfiguration { id, .. } => {
                format!("{CONFIGURATIONS}/{id}")
            }
            UpstreamCall::GraphPatchAuthorizationPolicy { .. } => {
                "/v1.0/policies/authorizationPolicy".to_owned()
            }
            UpstreamCall::PortalPutPasswordResetPolicies { .. } => {
                "/api/PasswordReset/PasswordResetPolicies".to_owned()
            }
            UpstreamCall::PortalPutWriteback { .. } | UpstreamCall::PortalPutUnlock { .. } => {
                "/api/PasswordReset/OnPremisesPasswordResetPolicies".to_owned()
            }
        }
    }

    pub fn description(&self) -> String {
        let on_off = |enabled: bool| if enabled { "on" } else { "off" };
        match self {
            UpstreamCall::GraphPatchMethodsPolicy { body } => {
                let keys: Vec<&str> = body
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                format!(
                    "Update the Authentication methods policy ({})",
                    keys.join(", ")
                )
            }
            UpstreamCall::GraphPatchMethodConfiguration { id, body, .. } => {
                let keys: Vec<&str> = body
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                format!("Update the {id} method configuration ({})", keys.join(", "))
            }
            UpstreamCall::GraphPatchAuthorizationPolicy { body } => {
                match body.get("allowedToUseSSPR").and_then(Value::as_bool) {
                    Some(allowed) => format!(
                        "Turn SSPR for administrators {} (authorization policy)",
                        on_off(allowed)
                    ),
                    None => "Update the authorization policy".to_owned(),
                }
            }
            UpstreamCall::PortalPutPasswordResetPolicies { update } => {
                let body = update.to_json();
                let mut fields = Vec::new();
                collect_pointers("", &body, &mut fields);
                format!(
                    "Write the portal's password reset policy (read-modify-write of the whole object): {}",
                    fields.join(", ")
                )
            }
            UpstreamCall::PortalPutWriteback { enabled } => {
                format!("Turn password writeback {}", on_off(*enabled))
            }
            UpstreamCall::PortalPutUnlock { enabled } => format!(
                "Turn unlocking accounts without resetting the password {}",
                on_off(*enabled)
            ),
        }
    }

    /// The JSON to send (Graph) or the values to set (portal, in the document's names).
    pub fn request_body(&self) -> Value {
        match self {
            UpstreamCall::GraphPatchMethodsPolicy { body }
            | UpstreamCall::GraphPatchAuthorizationPolicy { body } => body.clone(),
            UpstreamCall::GraphPatchMethodConfiguration {
                odata_type, body, ..
            } => {
                let mut out = Map::new();
                out.insert("@odata.type".into(), json!(odata_type));
                if let Some(fields) = body.as_object() {
                    out.extend(fields.clone());
                }
                Value::Object(out)
            }
            UpstreamCall::PortalPutPasswordResetPolicies { update } => update.to_json(),
            UpstreamCall::PortalPutWriteback { enabled } => {
                json!({ "onPremises": { "passwordWriteback": enabled } })
            }
            UpstreamCall::PortalPutUnlock { enabled } => {
                json!({ "onPremises": { "unlockWithoutReset": enabled } })
            }
        }
    }

    pub fn view(&self) -> CallView {
        CallView {
            target: self.target(),
            method: self.method().to_owned(),
            path: self.path(),
            description: self.description(),
            body: self.request_body(),
        }
    }
}

impl Serialize for UpstreamCall {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(serializer)
    }
}

// ---------------------------------------------------------------------------------------------
// The plan.
// ---------------------------------------------------------------------------------------------

/// One call and the call that undoes it (the same fields set back to their values before).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    #[schema(value_type = CallView)]
    pub call: UpstreamCall,
    #[schema(value_type = CallView)]
    pub compensation: UpstreamCall,
}

/// The per-field diff and the calls that make it, Graph first, then the portal.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePlan {
    pub changes: Vec<FieldChange>,
    pub steps: Vec<Step>,
}

impl ChangePlan {
    /// Plans the change from `before` to `after`. `methods_policy` is the policy as read (its
    /// configurations decide which method configurations to touch and how to undo it).
    pub fn new(
        before: &PolicySettings,
        after: &PolicySettings,
        sources: &Sources,
        methods_policy: &MethodsPolicy,
    ) -> Result<ChangePlan, ChangeError> {
        let changes = diff(before, after, sources);
        if let Some(change) = changes.iter().find(|c| !writable(c.source)) {
            return Err(ChangeError::SourceUnavailable {
                pointer: change.pointer.clone(),
                origin: change.source,
            });
        }
        let mut steps = Vec::new();
        let changed = |prefix: &str, source: Source| {
            changes
                .iter()
                .any(|c| c.source == source && c.pointer.starts_with(prefix))
        };

        // Graph: the methods policy itself.
        if let Some(step) = methods_policy_step(&before.methods_policy, &after.methods_policy) {
            steps.push(step);
        }
        // Graph: method configurations, when the methods come from the methods policy.
        if changed("/methods/", Source::Graph)
            && let (Some(b), Some(a)) = (before.methods, after.methods)
        {
            steps.extend(configuration_steps(&b, &a, methods_policy));
        }
        // Graph: admin SSPR.
        if before.administrators != after.administrators {
            let body =
                |admins: &Administrators| json!({ "allowedToUseSSPR": admins.allowed_to_use_sspr });
            steps.push(Step {
                call: UpstreamCall::GraphPatchAuthorizationPolicy {
                    body: body(&after.administrators),
                },
                compensation: UpstreamCall::GraphPatchAuthorizationPolicy {
                    body: body(&before.administrators),
                },
            });
        }
        // Portal: the password reset policy, then writeback, then unlock.
        let portal_changes: Vec<&FieldChange> = changes
            .iter()
            .filter(|c| c.source == Source::Portal && !c.pointer.starts_with("/onPremises/"))
            .collect();
        if !portal_changes.is_empty() {
            let update = |settings: &PolicySettings| {
                portal_update(settings, portal_changes.iter().map(|c| c.pointer.as_str()))
            };
            steps.push(Step {
                call: UpstreamCall::PortalPutPasswordResetPolicies {
                    update: update(after),
                },
                compensation: UpstreamCall::PortalPutPasswordResetPolicies {
                    update: update(before),
                },
            });
        }
        if let (Some(b), Some(a)) = (&before.on_premises, &after.on_premises) {
            let writeback = (b.password_writeback != a.password_writeback).then_some(Step {
                call: UpstreamCall::PortalPutWriteback {
                    enabled: a.password_writeback,
                },
                compensation: UpstreamCall::PortalPutWriteback {
                    enabled: b.password_writeback,
                },
            });
            let unlock = (b.unlock_without_reset != a.unlock_without_reset).then_some(Step {
                call: UpstreamCall::PortalPutUnlock {
                    enabled: a.unlock_without_reset,
                },
                compensation: UpstreamCall::PortalPutUnlock {
                    enabled: b.unlock_without_reset,
                },
            });
            // Unlock needs writeback: switch unlock off before writeback, and writeback on
            // before unlock, so every step (and every undo, in reverse) is accepted.
            if a.password_writeback {
                steps.extend(writeback.into_iter().chain(unlock));
            } else {
                steps.extend(unlock.into_iter().chain(writeback));
            }
        }
        Ok(ChangePlan { changes, steps })
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The calls that undo the first `completed` steps, last first.
    pub fn compensations(&self, completed: usize) -> Vec<&UpstreamCall> {
        self.steps[..completed.min(self.steps.len())]
            .iter()
            .rev()
            .map(|s| &s.compensation)
            .collect()
    }
}

fn methods_policy_step(
    before: &MethodsPolicySettings,
    after: &MethodsPolicySettings,
) -> Option<Step> {
    let mut call = Map::new();
    let mut undo = Map::new();
    if before.migration_state != after.migration_state {
        call.insert("policyMigrationState".into(), json!(after.migration_state));
        undo.insert("policyMigrationState".into(), json!(before.migration_state));
    }
    if before.reconfirmation_in_days != after.reconfirmation_in_days {
        call.insert(
            "reconfirmationInDays".into(),
            json!(after.reconfirmation_in_days),
        );
        undo.insert(
            "reconfirmationInDays".into(),
            json!(before.reconfirmation_in_days),
        );
    }
    if before.registration_campaign != after.registration_campaign {
        // Graph replaces the complex property whole, so the campaign is always sent complete.
        if let Some(campaign) = &after.registration_campaign {
            call.insert("registrationEnforcement".into(), campaign_json(campaign));
        }
        // With no campaign before there is nothing to restore it to.
        if let Some(campaign) = &before.registration_campaign {
            undo.insert("registrationEnforcement".into(), campaign_json(campaign));
        }
    }
    if call.is_empty() {
        return None;
    }
    Some(Step {
        call: UpstreamCall::GraphPatchMethodsPolicy {
            body: Value::Object(call),
        },
        compensation: UpstreamCall::GraphPatchMethodsPolicy {
            body: Value::Object(undo),
        },
    })
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

/// What one method configuration should become; `None` leaves a property as it is.
#[derive(Default)]
struct Desired {
    in_effect: Option<bool>,
    software_oath: Option<bool>,
    office_phone: Option<bool>,
}

/// The method configurations behind the legacy methods (graph-api.md §1.8), in call order.
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

/// Configuration PATCHes that make the legacy methods of `after` usable and the others not:
/// mobile app notification ↔ MicrosoftAuthenticator; mobile app code ↔ the Authenticator's
/// software OATH, or SoftwareOath when the Authenticator is off; email ↔ Email; mobile phone ↔
/// Sms and Voice; office phone ↔ Voice with `isOfficePhoneAllowed`.
fn configuration_steps(before: &Methods, after: &Methods, policy: &MethodsPolicy) -> Vec<Step> {
    let on = |v: Option<bool>| v == Some(true);
    let mut desired: [Desired; 5] = Default::default();
    if before.mobile_app_notification != after.mobile_app_notification
        || before.mobile_app_code != after.mobile_app_code
    {
        let (notification, code) = (on(after.mobile_app_notification), on(after.mobile_app_code));
        desired[0] = Desired {
            in_effect: Some(notification),
            software_oath: Some(code && notification),
            office_phone: None,
        };
        desired[1].in_effect = match (code, notification) {
            (false, _) => Some(false),
            (true, false) => Some(true),
            (true, true) => None,
        };
    }
    if before.email != after.email {
        desired[2].in_effect = Some(on(after.email));
    }
    if before.mobile_phone != after.mobile_phone || before.office_phone != after.office_phone {
        let (mobile, office) = (on(after.mobile_phone), on(after.office_phone));
        desired[3].in_effect = Some(mobile);
        desired[4] = Desired {
            in_effect: Some(mobile || office),
            software_oath: None,
            office_phone: Some(office),
        };
    }

    let mut steps = Vec::new();
    for ((id, odata_type), want) in CONFIGURATION_TYPES.iter().zip(desired) {
        let current = policy
            .configurations
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(id))
            .cloned()
            .unwrap_or_else(|| MethodConfiguration {
                id: (*id).to_owned(),
                enabled: false,
                include_targets: vec![],
                exclude_targets: vec![],
                software_oath_enabled: false,
                office_phone_allowed: false,
            });
        let mut call = Map::new();
        let mut undo = Map::new();
        let in_effect = current.enabled && !current.include_targets.is_empty();
        match want.in_effect {
            Some(true) if !in_effect => {
                if !current.enabled {
                    call.insert("state".into(), json!("enabled"));
                    undo.insert("state".into(), json!("disabled"));
                }
                if current.include_targets.is_empty() {
                    // Enabled with no target enables nobody: target everyone.
                    call.insert("includeTargets".into(), json!([all_users_target(id)]));
                    undo.insert("includeTargets".into(), json!([]));
                }
            }
            Some(false) if in_effect => {
                call.insert("state".into(), json!("disabled"));
                undo.insert("state".into(), json!("enabled"));
            }
            _ => {}
        }
        if let Some(wanted) = want.software_oath
            && wanted != current.software_oath_enabled
        {
            call.insert("isSoftwareOathEnabled".into(), json!(wanted));
            undo.insert(
                "isSoftwareOathEnabled".into(),
                json!(current.software_oath_enabled),
            );
        }
        if let Some(wanted) = want.office_phone
            && wanted != current.office_phone_allowed
        {
            call.insert("isOfficePhoneAllowed".into(), json!(wanted));
            undo.insert(
                "isOfficePhoneAllowed".into(),
                json!(current.office_phone_allowed),
            );
        }
        if !call.is_empty() {
            let step = |body: Map<String, Value>| UpstreamCall::GraphPatchMethodConfiguration {
                id: current.id.clone(),
                odata_type: (*odata_type).to_owned(),
                body: Value::Object(body),
            };
            steps.push(Step {
                call: step(call),
                compensation: step(undo),
            });
        }
    }
    steps
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

/// The portal update setting, from `settings`, the fields at `pointers`.
fn portal_update<'a>(
    settings: &PolicySettings,
    pointers: impl Iterator<Item = &'a str>,
) -> PasswordResetPoliciesUpdate {
    let mut update = PasswordResetPoliciesUpdate::default();
    let auth = settings.authentication.as_ref();
    let methods = settings.methods.as_ref();
    let registration = settings.registration.as_ref();
    let notifications = settings.notifications.as_ref();
    for pointer in pointers {
        match pointer {
            "/enablement/scope" | "/enablement/groupId" => {
                update.scope = settings.enablement.as_ref().map(|e| match e.scope {
                    ScopeKind::None => Scope::None,
                    ScopeKind::All => Scope::All,
                    ScopeKind::Selected => Scope::Selected {
                        group_id: e.group_id.clone().unwrap_or_default(),
                        group_name: None,
                    },
                });
            }
            "/authentication/methodsRequired" => {
                update.methods_required = auth.map(|a| a.methods_required);
            }
            "/authentication/securityQuestions/toRegister" => {
                update.security_questions_to_register =
                    auth.map(|a| a.security_questions.to_register);
            }
            "/authentication/securityQuestions/toReset" => {
                update.security_questions_to_reset = auth.map(|a| a.security_questions.to_reset);
            }
            "/methods/mobileAppNotification" => {
                update.mobile_app_notification = methods.and_then(|m| m.mobile_app_notification);
            }
            "/methods/mobileAppCode" => {
                update.mobile_app_code = methods.and_then(|m| m.mobile_app_code);
            }
            "/methods/email" => update.email = methods.and_then(|m| m.email),
            "/methods/mobilePhone" => update.mobile_phone = methods.and_then(|m| m.mobile_phone),
            "/methods/officePhone" => update.office_phone = methods.and_then(|m| m.office_phone),
            "/methods/securityQuestions" => {
                update.security_questions = methods.and_then(|m| m.security_questions);
            }
            "/registration/requireRegistrationOnSignIn" => {
                update.require_registration_on_sign_in =
                    registration.map(|r| r.require_registration_on_sign_in);
            }
            "/registration/reconfirmDays" => {
                update.reconfirm_days = registration.map(|r| r.reconfirm_days);
            }
            "/notifications/notifyUsersOnReset" => {
                update.notify_users_on_reset = notifications.map(|n| n.notify_users_on_reset);
            }
            "/notifications/notifyAdminsOnAdminReset" => {
                update.notify_admins_on_admin_reset =
                    notifications.map(|n| n.notify_admins_on_admin_reset);
            }
            "/customization/helpdeskLink" => {
                update.helpdesk_link = settings
                    .customization
                    .as_ref()
                    .map(|c| c.helpdesk_link.clone());
            }
            _ => {}
        }
    }
    update
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::domain::change::*;
    use crate::domain::methods::MigrationState;
    use crate::domain::portal::LegacyMethods;
    use serde_json::json;
    // -- plan -------------------------------------------------------------------------------

    fn plan_for(
        before: &PolicySettings,
        patch: Value,
        sources: &Sources,
        policy: &MethodsPolicy,
    ) -> ChangePlan {
        let after = apply_merge_patch(before, &patch, sources).unwrap();
        ChangePlan::new(before, &after, sources, policy).unwrap()
    }

    fn portal_plan(patch: Value) -> ChangePlan {
        plan_for(
            &settings(),
            patch,
            &portal_sources(),
            &methods_policy(MigrationState::PreMigration),
        )
    }

    /// Each compensation calls the same endpoint and sets back exactly the fields its call set.
    fn assert_exact_inverse(step: &Step) {
        let (call, undo) = (step.call.view(), step.compensation.view());
        assert_eq!((call.method, call.path), (undo.method, undo.path));
        let (mut call_fields, mut undo_fields) = (Vec::new(), Vec::new());
        collect_pointers("", &call.body, &mut call_fields);
        collect_pointers("", &undo.body, &mut undo_fields);
        assert_eq!(call_fields, undo_fields, "{step:?}");
    }

    #[test]
    fn no_change_plans_nothing() {
        assert!(portal_plan(json!({ "registration": { "reconfirmDays": 180 } })).is_empty());
    }

    #[test]
    fn a_portal_only_change_is_one_put_of_the_password_reset_policies() {
        let plan = portal_plan(json!({
            "notifications": { "notifyUsersOnReset": false },
            "registration": { "reconfirmDays": 90 }
        }));
        assert_eq!(plan.steps.len(), 1);
        let step = &plan.steps[0];
        assert_eq!(
            step.call,
            UpstreamCall::PortalPutPasswordResetPolicies {
                update: PasswordResetPoliciesUpdate {
                    notify_users_on_reset: Some(false),
                    reconfirm_days: Some(90),
                    ..Default::default()
                }
            }
        );
        assert_eq!(
            step.compensation,
            UpstreamCall::PortalPutPasswordResetPolicies {
                update: PasswordResetPoliciesUpdate {
                    notify_users_on_reset: Some(true),
                    reconfirm_days: Some(180),
                    ..Default::default()
                }
            }
        );
        let view = step.call.view();
        assert_eq!(view.method, "PUT");
        assert_eq!(view.path, "/api/PasswordReset/PasswordResetPolicies");
        assert_eq!(
            view.body,
            json!({ "notifications": { "notifyUsersOnReset": false }, "registration": { "reconfirmDays": 90 } })
        );
        assert!(
            view.description
                .contains("/notifications/notifyUsersOnReset"),
            "{}",
            view.description
        );
        assert_exact_inverse(step);
    }

    #[test]
    fn portal_update_carries_scope_and_legacy_methods() {
        let plan = portal_plan(json!({
            "enablement": { "scope": "all" },
            "methods": { "securityQuestions": true },
            "customization": { "helpdeskLink": "helpdesk@contoso.com" }
        }));
        assert_eq!(plan.steps.len(), 1);
        let UpstreamCall::PortalPutPasswordResetPolicies { update } = &plan.steps[0].call else {
            panic!("{:?}", plan.steps[0].call);
        };
        assert_eq!(update.scope, Some(Scope::All));
        assert_eq!(update.security_questions, Some(true));
        assert_eq!(
            update.helpdesk_link,
            Some(Some("helpdesk@contoso.com".into()))
        );
        assert_eq!(update.email, None, "unchanged fields are left alone");
        let UpstreamCall::PortalPutPasswordResetPolicies { update: undo } =
            &plan.steps[0].compensation
        else {
            panic!();
        };
        assert_eq!(
            undo.scope,
            Some(Scope::Selected {
                group_id: GROUP.into(),
                group_name: None
            })
        );
        assert_eq!(
            undo.helpdesk_link,
            Some(Some("https://help.contoso.com/sspr".into()))
        );
        assert_eq!(
            update.apply_methods(LegacyMethods::default()),
            LegacyMethods {
                security_questions: true,
                ..Default::default()
            }
        );
    }

    #[test]
    fn switching_writeback_and_unlock_off_does_unlock_first_so_the_undo_works_too() {
        let on = apply_merge_patch(
            &settings(),
            &json!({ "onPremises": { "passwordWriteback": true, "unlockWithoutReset": true } }),
            &portal_sources(),
        )
        .expect("patch");
        let plan = plan_for(
            &on,
            json!({ "onPremises": { "passwordWriteback": false, "unlockWithoutReset": false } }),
            &portal_sources(),
            &methods_policy(MigrationState::PreMigration),
        );
        let calls: Vec<&UpstreamCall> = plan.steps.iter().map(|s| &s.call).collect();
        assert_eq!(
            calls,
            [
                &UpstreamCall::PortalPutUnlock { enabled: false },
                &UpstreamCall::PortalPutWriteback { enabled: false },
            ]
        );
        // Undone last step first: writeback back on before unlock.
        assert_eq!(
            plan.compensations(2),
            vec![
                &UpstreamCall::PortalPutWriteback { enabled: true },
                &UpstreamCall::PortalPutUnlock { enabled: true },
            ]
        );
    }

    #[test]
    fn writeback_and_unlock_are_two_puts_in_order() {
        let plan = portal_plan(json!({
            "onPremises": { "passwordWriteback": true, "unlockWithoutReset": true },
            "notifications": { "notifyAdminsOnAdminReset": false }
        }));
        let calls: Vec<&UpstreamCall> = plan.steps.iter().map(|s| &s.call).collect();
        assert_eq!(calls.len(), 3);
        assert!(matches!(
            calls[0],
            UpstreamCall::PortalPutPasswordResetPolicies { .. }
        ));
        assert_eq!(
            calls[1],
            &UpstreamCall::PortalPutWriteback { enabled: true }
        );
        assert_eq!(calls[2], &UpstreamCall::PortalPutUnlock { enabled: true });
        assert_eq!(
            plan.steps[1].compensation,
            UpstreamCall::PortalPutWriteback { enabled: false }
        );
        assert_eq!(
            plan.steps[2].compensation,
            UpstreamCall::PortalPutUnlock { enabled: false }
        );
        assert_eq!(
            calls[1].path(),
            "/api/PasswordReset/OnPremisesPasswordResetPolicies"
        );
        // Undo runs last step first.
        assert_eq!(
            plan.compensations(3),
            vec![
                &UpstreamCall::PortalPutUnlock { enabled: false },
                &UpstreamCall::PortalPutWriteback { enabled: false },
                &plan.steps[0].compensation,
            ]
        );
        assert_eq!(plan.compensations(1), vec![&plan.steps[0].compensation]);
        plan.steps.iter().for_each(assert_exact_inverse);
    }

    #[test]
    fn admin_sspr_is_an_authorization_policy_patch() {
        let plan = portal_plan(json!({ "administrators": { "allowedToUseSspr": true } }));
        assert_eq!(plan.steps.len(), 1);
        let step = &plan.steps[0];
        assert_eq!(
            step.call,
            UpstreamCall::GraphPatchAuthorizationPolicy {
                body: json!({ "allowedToUseSSPR": true })
            }
        );
        assert_eq!(
            step.compensation,
            UpstreamCall::GraphPatchAuthorizationPolicy {
                body: json!({ "allowedToUseSSPR": false })
            }
        );
        assert_eq!(step.call.method(), "PATCH");
        assert_eq!(step.call.path(), "/v1.0/policies/authorizationPolicy");
    }

    #[test]
    fn graph_calls_come_before_portal_calls() {
        let plan = portal_plan(json!({
            "onPremises": { "passwordWriteback": true },
            "administrators": { "allowedToUseSspr": true },
            "methodsPolicy": { "reconfirmationInDays": 90 },
            "authentication": { "methodsRequired": 1 }
        }));
        let targets: Vec<Source> = plan.steps.iter().map(|s| s.call.target()).collect();
        assert_eq!(
            targets,
            [Source::Graph, Source::Graph, Source::Portal, Source::Portal]
        );
        assert!(matches!(
            plan.steps[0].call,
            UpstreamCall::GraphPatchMethodsPolicy { .. }
        ));
        assert!(matches!(
            plan.steps[1].call,
            UpstreamCall::GraphPatchAuthorizationPolicy { .. }
        ));
        plan.steps.iter().for_each(assert_exact_inverse);
    }

    #[test]
    fn methods_policy_changes_patch_the_policy_and_send_the_whole_campaign() {
        let plan = portal_plan(json!({
            "methodsPolicy": {
                "migrationState": "migrationInProgress",
                "registrationCampaign": { "state": "disabled" }
            }
        }));
        assert_eq!(plan.steps.len(), 1);
        let step = &plan.steps[0];
        assert_eq!(
            step.call,
            UpstreamCall::GraphPatchMethodsPolicy {
                body: json!({
                    "policyMigrationState": "migrationInProgress",
                    "registrationEnforcement": { "authenticationMethodsRegistrationCampaign": {
                        "state": "disabled",
                        "snoozeDurationInDays": 1,
                        "includeTargets": [{ "id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator" }],
                        "excludeTargets": []
                    } }
                })
            }
        );
        assert_eq!(
            step.compensation,
            UpstreamCall::GraphPatchMethodsPolicy {
                body: json!({
                    "policyMigrationState": "preMigration",
                    "registrationEnforcement": { "authenticationMethodsRegistrationCampaign": {
                        "state": "enabled",
                        "snoozeDurationInDays": 1,
                        "includeTargets": [{ "id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator" }],
                        "excludeTargets": []
                    } }
                })
            }
        );
        assert_eq!(
            step.call.path(),
            "/v1.0/policies/authenticationMethodsPolicy"
        );
    }

    fn migrated() -> (PolicySettings, Sources, MethodsPolicy) {
        let policy = methods_policy(MigrationState::MigrationComplete);
        let before = PolicySettings::from_parts(Some(&portal()), &policy, false);
        (before, Sources::new(Source::Portal, true), policy)
    }

    fn configuration_call(step: &Step) -> (&str, &str, &Value) {
        match &step.call {
            UpstreamCall::GraphPatchMethodConfiguration {
                id,
                odata_type,
                body,
            } => (id, odata_type, body),
            other => panic!("not a configuration PATCH: {other:?}"),
        }
    }

    #[test]
    fn a_methods_change_after_migration_patches_configurations() {
        let (before, sources, policy) = migrated();
        // Email off; office phone on (Voice, office phone allowed).
        let plan = plan_for(
            &before,
            json!({ "methods": { "email": false, "officePhone": true } }),
            &sources,
            &policy,
        );
        assert_eq!(plan.steps.len(), 2, "{plan:?}");
        let (id, odata_type, body) = configuration_call(&plan.steps[0]);
        assert_eq!(id, "Email");
        assert_eq!(
            odata_type,
            "#microsoft.graph.emailAuthenticationMethodConfiguration"
        );
        assert_eq!(body, &json!({ "state": "disabled" }));
        assert_eq!(
            plan.steps[0].compensation.request_body(),
            json!({ "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", "state": "enabled" })
        );
        let (id, odata_type, body) = configuration_call(&plan.steps[1]);
        assert_eq!(id, "Voice");
        assert_eq!(
            odata_type,
            "#microsoft.graph.voiceAuthenticationMethodConfiguration"
        );
        assert_eq!(
            body,
            &json!({ "state": "enabled", "isOfficePhoneAllowed": true })
        );
        assert_eq!(
            plan.steps[1].compensation.request_body(),
            json!({ "@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration", "state": "disabled", "isOfficePhoneAllowed": false })
        );
        assert_eq!(
            plan.steps[1].call.path(),
            "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Voice"
        );
        assert!(
            plan.steps.iter().all(|s| s.call.target() == Source::Graph),
            "no portal call for graph-held methods"
        );
        plan.steps.iter().for_each(assert_exact_inverse);
    }

    #[test]
    fn mobile_app_code_uses_the_authenticator_or_software_oath() {
        let (before, sources, policy) = migrated();
        // Authenticator on: the code comes from its software OATH.
        let plan = plan_for(
            &before,
            json!({ "methods": { "mobileAppCode": true } }),
            &sources,
            &policy,
        );
        assert_eq!(plan.steps.len(), 1);
        let (id, odata_type, body) = configuration_call(&plan.steps[0]);
        assert_eq!(id, "MicrosoftAuthenticator");
        assert_eq!(
            odata_type,
            "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration"
        );
        assert_eq!(body, &json!({ "isSoftwareOathEnabled": true }));
        assert_eq!(
            plan.steps[0].compensation,
            UpstreamCall::GraphPatchMethodConfiguration {
                id: "MicrosoftAuthenticator".into(),
                odata_type: odata_type.into(),
                body: json!({ "isSoftwareOathEnabled": false })
            }
        );

        // Authenticator off but codes wanted: SoftwareOath carries them.
        let plan = plan_for(
            &before,
            json!({ "methods": { "mobileAppNotification": false, "mobileAppCode": true } }),
            &sources,
            &policy,
        );
        let calls: Vec<(&str, &Value)> = plan
            .steps
            .iter()
            .map(|s| {
                let (id, _, body) = configuration_call(s);
                (id, body)
            })
            .collect();
        assert_eq!(
            calls,
            vec![
                ("MicrosoftAuthenticator", &json!({ "state": "disabled" })),
                ("SoftwareOath", &json!({ "state": "enabled" })),
            ]
        );
        plan.steps.iter().for_each(assert_exact_inverse);
    }

    #[test]
    fn enabling_an_untargeted_configuration_targets_all_users_and_undoes_it() {
        let (_, sources, mut policy) = migrated();
        policy
            .configurations
            .retain(|c| c.id != "Sms" && c.id != "Voice");
        let before = PolicySettings::from_parts(Some(&portal()), &policy, false);
        assert_eq!(before.methods.unwrap().mobile_phone, Some(false));
        let plan = plan_for(
            &before,
            json!({ "methods": { "mobilePhone": true } }),
            &sources,
            &policy,
        );
        let ids: Vec<&str> = plan.steps.iter().map(|s| configuration_call(s).0).collect();
        assert_eq!(ids, ["Sms", "Voice"]);
        assert_eq!(
            configuration_call(&plan.steps[0]).2,
            &json!({
                "state": "enabled",
                "includeTargets": [{ "targetType": "group", "id": "all_users", "isRegistrationRequired": false, "isUsableForSignIn": false }]
            })
        );
        assert_eq!(
            plan.steps[0].compensation.request_body(),
            json!({ "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "state": "disabled", "includeTargets": [] })
        );
        plan.steps.iter().for_each(assert_exact_inverse);
    }

    #[test]
    fn plan_refuses_changes_to_unavailable_sources() {
        let before = settings();
        let mut after = before.clone();
        after.notifications.as_mut().unwrap().notify_users_on_reset = false;
        let sources = Sources::new(Source::Unavailable, false);
        assert_eq!(
            ChangePlan::new(
                &before,
                &after,
                &sources,
                &methods_policy(MigrationState::PreMigration)
            ),
            Err(ChangeError::SourceUnavailable {
                pointer: "/notifications/notifyUsersOnReset".into(),
                origin: Source::Unavailable
            })
        );
    }

    #[test]
    fn plan_serializes_for_a_dry_run() {
        let plan = portal_plan(json!({ "administrators": { "allowedToUseSspr": true } }));
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(
            json["changes"][0]["pointer"],
            "/administrators/allowedToUseSspr"
        );
        assert_eq!(json["changes"][0]["source"], "graph");
        assert_eq!(json["steps"][0]["call"]["method"], "PATCH");
        assert_eq!(json["steps"][0]["call"]["target"], "graph");
        assert_eq!(
            json["steps"][0]["compensation"]["body"],
            json!({ "allowedToUseSSPR": false })
        );
        assert!(
            json["steps"][0]["call"]["description"]
                .as_str()
                .unwrap()
                .contains("administrators on")
        );
    }
}
