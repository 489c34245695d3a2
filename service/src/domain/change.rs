//! Changing the SSPR policy (DESIGN.md §4, issue 4): the editable settings as one JSON document,
//! an RFC 7396 merge patch applied to it, the per-field diff with the source each field belongs to,
//! and the plan of upstream calls that makes the change, each with the call that undoes it.
//!
//! Pure: no I/O. Graph bodies are the documented Graph JSON (graph-api.md §1, §2.1); portal calls
//! carry typed values in domain terms and the portal adapter translates them to its wire objects.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::methods::{MethodConfiguration, MethodsPolicy, MigrationState};
use super::policy::Source;
use super::portal::{LegacyMethods, PortalSettings, Scope};
use super::rules;

// ---------------------------------------------------------------------------------------------
// The editable settings.
// ---------------------------------------------------------------------------------------------

/// Every setting a caller can change, grouped as the policy document is. A group (or, in
/// `methods`, a field) is `null` when its source cannot be read for this tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySettings {
    pub enablement: Option<Enablement>,
    pub authentication: Option<Authentication>,
    pub methods: Option<Methods>,
    pub registration: Option<Registration>,
    pub notifications: Option<Notifications>,
    pub customization: Option<Customization>,
    pub on_premises: Option<OnPremises>,
    pub administrators: Administrators,
    pub methods_policy: MethodsPolicySettings,
}

/// Who SSPR is enabled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ScopeKind {
    None,
    /// One group, named by `groupId`.
    Selected,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Enablement {
    pub scope: ScopeKind,
    /// The one group SSPR is enabled for when `scope` is `selected`; dropped for other scopes.
    #[serde(default)]
    pub group_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Authentication {
    /// Methods required to reset: 1 or 2.
    pub methods_required: u8,
    pub security_questions: SecurityQuestions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityQuestions {
    /// Questions a user registers: 3–5.
    pub to_register: u8,
    /// Questions asked at reset: 3–5, at most `toRegister`.
    pub to_reset: u8,
}

/// The legacy SSPR methods (the portal's names): whether each is usable for reset. The first five
/// come from the Authentication methods policy once the tenant migrates; security questions are
/// legacy-only and always held by the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Methods {
    pub mobile_app_notification: Option<bool>,
    pub mobile_app_code: Option<bool>,
    pub email: Option<bool>,
    pub mobile_phone: Option<bool>,
    pub office_phone: Option<bool>,
    pub security_questions: Option<bool>,
}

impl Methods {
    /// The methods known to be usable, as `(JSON name, usable)` in document order.
    pub fn entries(&self) -> [(&'static str, Option<bool>); 6] {
        [
            ("mobileAppNotification", self.mobile_app_notification),
            ("mobileAppCode", self.mobile_app_code),
            ("email", self.email),
            ("mobilePhone", self.mobile_phone),
            ("officePhone", self.office_phone),
            ("securityQuestions", self.security_questions),
        ]
    }

    /// Usable methods that are not the mobile app.
    pub fn usable_besides_mobile_app(&self) -> usize {
        self.entries()
            .iter()
            .filter(|(name, usable)| !name.starts_with("mobileApp") && *usable == Some(true))
            .count()
    }

    pub fn mobile_app_usable(&self) -> bool {
        self.mobile_app_notification == Some(true) || self.mobile_app_code == Some(true)
    }

    pub fn usable(&self) -> usize {
        self.entries()
            .iter()
            .filter(|(_, usable)| *usable == Some(true))
            .count()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registration {
    pub require_registration_on_sign_in: bool,
    /// Days before users are asked to reconfirm: 0 (never) to 730.
    pub reconfirm_days: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Notifications {
    pub notify_users_on_reset: bool,
    pub notify_admins_on_admin_reset: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Customization {
    /// An https URL or an e-mail address; `null` when not customized.
    #[serde(default)]
    pub helpdesk_link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnPremises {
    pub password_writeback: bool,
    pub unlock_without_reset: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Administrators {
    /// `authorizationPolicy.allowedToUseSSPR`: whether administrators may use SSPR.
    pub allowed_to_use_sspr: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MethodsPolicySettings {
    /// `preMigration`, `migrationInProgress`, `migrationComplete`, or what Graph sent.
    pub migration_state: String,
    pub reconfirmation_in_days: Option<i32>,
    pub registration_campaign: Option<RegistrationCampaign>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationCampaign {
    /// `default` (behaves as disabled), `enabled` or `disabled`.
    pub state: String,
    /// 0–14.
    pub snooze_duration_in_days: Option<i32>,
    /// Group ids, or `all_users`.
    pub include_targets: Vec<String>,
    pub exclude_targets: Vec<String>,
}

/// Whether the methods usable for reset are governed by the Authentication methods policy
/// (migration in progress or complete) rather than the legacy SSPR policy held by the portal.
pub fn methods_from_graph(state: &MigrationState) -> bool {
    matches!(
        state,
        MigrationState::MigrationInProgress | MigrationState::MigrationComplete
    )
}

impl PolicySettings {
    /// The settings as read: the portal's (when its connector is configured), the methods policy
    /// and admin SSPR from Graph.
    pub fn from_parts(
        portal: Option<&PortalSettings>,
        methods_policy: &MethodsPolicy,
        admin_sspr: bool,
    ) -> PolicySettings {
        let legacy = portal.map(|p| p.methods);
        let methods = if methods_from_graph(&methods_policy.migration_state) {
            let reset = methods_policy.reset_methods();
            Some(Methods {
                mobile_app_notification: Some(reset.mobile_app_notification.usable),
                mobile_app_code: Some(reset.mobile_app_code.usable),
                email: Some(reset.email.usable),
                mobile_phone: Some(reset.mobile_phone.usable),
                office_phone: Some(reset.office_phone.usable),
                security_questions: legacy.map(|m| m.security_questions),
            })
        } else {
            legacy.map(|m| Methods {
                mobile_app_notification: Some(m.mobile_app_notification),
                mobile_app_code: Some(m.mobile_app_code),
                email: Some(m.email),
                mobile_phone: Some(m.mobile_phone),
                office_phone: Some(m.office_phone),
                security_questions: Some(m.security_questions),
            })
        };
        PolicySettings {
            enablement: portal.map(|p| match &p.scope {
                Scope::None => Enablement {
                    scope: ScopeKind::None,
                    group_id: None,
                },
                Scope::Selected { group_id, .. } => Enablement {
                    scope: ScopeKind::Selected,
                    group_id: Some(group_id.clone()),
                },
                Scope::All => Enablement {
                    scope: ScopeKind::All,
                    group_id: None,
                },
            }),
            authentication: portal.map(|p| Authentication {
                methods_required: p.methods_required,
                security_questions: SecurityQuestions {
                    to_register: p.security_questions_to_register,
                    to_reset: p.security_questions_to_reset,
                },
            }),
            methods,
            registration: portal.map(|p| Registration {
                require_registration_on_sign_in: p.require_registration_on_sign_in,
                reconfirm_days: p.reconfirm_days,
            }),
            notifications: portal.map(|p| Notifications {
                notify_users_on_reset: p.notify_users_on_reset,
                notify_admins_on_admin_reset: p.notify_admins_on_admin_reset,
            }),
            customization: portal.map(|p| Customization {
                helpdesk_link: p.helpdesk_link.clone(),
            }),
            on_premises: portal.and_then(|p| p.on_premises).map(|o| OnPremises {
                password_writeback: o.password_writeback,
                unlock_without_reset: o.unlock_without_reset,
            }),
            administrators: Administrators {
                allowed_to_use_sspr: admin_sspr,
            },
            methods_policy: MethodsPolicySettings {
                migration_state: methods_policy.migration_state.as_graph().to_owned(),
                reconfirmation_in_days: methods_policy.reconfirmation_in_days,
                registration_campaign: methods_policy.registration_campaign.as_ref().map(|c| {
                    RegistrationCampaign {
                        state: c.state.clone(),
                        snooze_duration_in_days: c.snooze_duration_in_days,
                        include_targets: c.include_targets.clone(),
                        exclude_targets: c.exclude_targets.clone(),
                    }
                }),
            },
        }
    }

    fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("policy settings serialize to JSON")
    }
}

// ---------------------------------------------------------------------------------------------
// Sources.
// ---------------------------------------------------------------------------------------------

/// Where each group of settings comes from, and so which upstream a change goes to. Only `graph`
/// and `portal` fields can be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    pub enablement: Source,
    pub authentication: Source,
    /// The five methods the methods policy can express; security questions follow
    /// `authentication` (they are legacy-only and live in the same portal object).
    pub methods: Source,
    pub registration: Source,
    pub notifications: Source,
    pub customization: Source,
    pub on_premises: Source,
    pub administrators: Source,
    pub methods_policy: Source,
}

impl Sources {
    /// The usual map: `portal` (`Portal`, or `Unavailable` without the connector) for the
    /// portal-held groups; Graph for administrators and the methods policy, and for the methods
    /// when the tenant is migrating or migrated.
    pub fn new(portal: Source, methods_from_graph: bool) -> Sources {
        Sources {
            enablement: portal,
            authentication: portal,
            methods: if methods_from_graph {
                Source::Graph
            } else {
                portal
            },
            registration: portal,
            notifications: portal,
            customization: portal,
            on_premises: portal,
            administrators: Source::Graph,
            methods_policy: Source::Graph,
        }
    }

    /// The source of the field at `pointer` (a JSON pointer into the settings).
    pub fn of(&self, pointer: &str) -> Source {
        if pointer == "/methods/securityQuestions" {
            return self.authentication;
        }
        let group = pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        match group {
            "enablement" => self.enablement,
            "authentication" => self.authentication,
            "methods" => self.methods,
            "registration" => self.registration,
            "notifications" => self.notifications,
            "customization" => self.customization,
            "onPremises" => self.on_premises,
            "administrators" => self.administrators,
            "methodsPolicy" => self.methods_policy,
            _ => Source::Unavailable,
        }
    }
}

fn writable(source: Source) -> bool {
    matches!(source, Source::Graph | Source::Portal)
}

// ---------------------------------------------------------------------------------------------
// Merge patch.
// ---------------------------------------------------------------------------------------------

/// Why a change cannot be made. Each names the JSON pointer of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("the merge patch must be a JSON object")]
    NotAnObject,
    #[error("{pointer}: unknown field")]
    UnknownField { pointer: String },
    /// `message` says what the field takes, e.g. "must be 1 or 2, not 3".
    #[error("{pointer} {message}")]
    InvalidValue { pointer: String, message: String },
    #[error("{pointer} cannot be removed (null); set a value instead")]
    NotRemovable { pointer: String },
    /// The field's source cannot be written for this tenant (`unavailable` or `inferred`).
    #[error("{pointer} cannot be changed: its source is {origin:?}")]
    SourceUnavailable { pointer: String, origin: Source },
}

impl ChangeError {
    pub fn pointer(&self) -> &str {
        match self {
            ChangeError::NotAnObject => "",
            ChangeError::UnknownField { pointer }
            | ChangeError::InvalidValue { pointer, .. }
            | ChangeError::NotRemovable { pointer }
            | ChangeError::SourceUnavailable { pointer, .. } => pointer,
        }
    }
}

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
    let original = before.to_json();
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
    walk("", &before.to_json(), &after.to_json(), &mut changes);
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

// ---------------------------------------------------------------------------------------------
// Upstream calls.
// ---------------------------------------------------------------------------------------------

/// Values to set in the portal's `PasswordResetPolicies`; `None` leaves a field as it is. The
/// adapter reads the whole object, sets these, and writes the whole object back, so fields we do
/// not model are kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasswordResetPoliciesUpdate {
    /// A `Selected` scope carries no group name; the adapter keeps or resolves it.
    pub scope: Option<Scope>,
    pub methods_required: Option<u8>,
    pub mobile_app_notification: Option<bool>,
    pub mobile_app_code: Option<bool>,
    pub email: Option<bool>,
    pub mobile_phone: Option<bool>,
    pub office_phone: Option<bool>,
    pub security_questions: Option<bool>,
    pub security_questions_to_register: Option<u8>,
    pub security_questions_to_reset: Option<u8>,
    pub require_registration_on_sign_in: Option<bool>,
    pub reconfirm_days: Option<u16>,
    pub notify_users_on_reset: Option<bool>,
    pub notify_admins_on_admin_reset: Option<bool>,
    /// `Some(None)`: not customized.
    pub helpdesk_link: Option<Option<String>>,
}

impl PasswordResetPoliciesUpdate {
    /// The legacy method toggles this update sets, applied to `current`.
    pub fn apply_methods(&self, current: LegacyMethods) -> LegacyMethods {
        LegacyMethods {
            mobile_app_notification: self
                .mobile_app_notification
                .unwrap_or(current.mobile_app_notification),
            mobile_app_code: self.mobile_app_code.unwrap_or(current.mobile_app_code),
            email: self.email.unwrap_or(current.email),
            mobile_phone: self.mobile_phone.unwrap_or(current.mobile_phone),
            office_phone: self.office_phone.unwrap_or(current.office_phone),
            security_questions: self
                .security_questions
                .unwrap_or(current.security_questions),
        }
    }

    /// The whole password-reset settings this update makes of `current`. A `Selected` scope
    /// without a group name keeps the current name when the group is unchanged, and has no name
    /// (the portal resolves it) when the group changes. On-premises settings are not touched.
    pub fn apply_to(&self, current: &PortalSettings) -> PortalSettings {
        let scope = match (&self.scope, &current.scope) {
            (None, scope) => scope.clone(),
            (
                Some(Scope::Selected {
                    group_id,
                    group_name: None,
                }),
                Scope::Selected {
                    group_id: current_id,
                    group_name,
                },
            ) if group_id.eq_ignore_ascii_case(current_id) => Scope::Selected {
                group_id: group_id.clone(),
                group_name: group_name.clone(),
            },
            (Some(scope), _) => scope.clone(),
        };
        PortalSettings {
            scope,
            methods_required: self.methods_required.unwrap_or(current.methods_required),
            methods: self.apply_methods(current.methods),
            security_questions_to_register: self
                .security_questions_to_register
                .unwrap_or(current.security_questions_to_register),
            security_questions_to_reset: self
                .security_questions_to_reset
                .unwrap_or(current.security_questions_to_reset),
            require_registration_on_sign_in: self
                .require_registration_on_sign_in
                .unwrap_or(current.require_registration_on_sign_in),
            reconfirm_days: self.reconfirm_days.unwrap_or(current.reconfirm_days),
            notify_users_on_reset: self
                .notify_users_on_reset
                .unwrap_or(current.notify_users_on_reset),
            notify_admins_on_admin_reset: self
                .notify_admins_on_admin_reset
                .unwrap_or(current.notify_admins_on_admin_reset),
            helpdesk_link: self
                .helpdesk_link
                .clone()
                .unwrap_or_else(|| current.helpdesk_link.clone()),
            on_premises: current.on_premises,
        }
    }

    /// The values set, in the document's names (for the dry-run plan).
    fn to_json(&self) -> Value {
        let mut out = Map::new();
        let mut set = |pointer: &str, value: Value| {
            let (group, field) = pointer.split_once('/').expect("group/field");
            let entry = out
                .entry(group.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            entry[field] = value;
        };
        if let Some(scope) = &self.scope {
            let (kind, group) = match scope {
                Scope::None => ("none", None),
                Scope::Selected { group_id, .. } => ("selected", Some(group_id.clone())),
                Scope::All => ("all", None),
            };
            set("enablement/scope", json!(kind));
            set("enablement/groupId", json!(group));
        }
        if let Some(v) = self.methods_required {
            set("authentication/methodsRequired", json!(v));
        }
        let mut questions = Map::new();
        if let Some(v) = self.security_questions_to_register {
            questions.insert("toRegister".into(), json!(v));
        }
        if let Some(v) = self.security_questions_to_reset {
            questions.insert("toReset".into(), json!(v));
        }
        if !questions.is_empty() {
            set("authentication/securityQuestions", Value::Object(questions));
        }
        for (name, value) in [
            ("mobileAppNotification", self.mobile_app_notification),
            ("mobileAppCode", self.mobile_app_code),
            ("email", self.email),
            ("mobilePhone", self.mobile_phone),
            ("officePhone", self.office_phone),
            ("securityQuestions", self.security_questions),
        ] {
            if let Some(v) = value {
                set(&format!("methods/{name}"), json!(v));
            }
        }
        if let Some(v) = self.require_registration_on_sign_in {
            set("registration/requireRegistrationOnSignIn", json!(v));
        }
        if let Some(v) = self.reconfirm_days {
            set("registration/reconfirmDays", json!(v));
        }
        if let Some(v) = self.notify_users_on_reset {
            set("notifications/notifyUsersOnReset", json!(v));
        }
        if let Some(v) = self.notify_admins_on_admin_reset {
            set("notifications/notifyAdminsOnAdminReset", json!(v));
        }
        if let Some(v) = &self.helpdesk_link {
            set("customization/helpdeskLink", json!(v));
        }
        Value::Object(out)
    }
}

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

fn collect_pointers(pointer: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                collect_pointers(&format!("{pointer}/{}", escape(key)), inner, out);
            }
        }
        _ => out.push(pointer.to_owned()),
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
pub struct Plan {
    pub changes: Vec<FieldChange>,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Plans the change from `before` to `after`. `methods_policy` is the policy as read (its
    /// configurations decide which method configurations to touch and how to undo it).
    pub fn new(
        before: &PolicySettings,
        after: &PolicySettings,
        sources: &Sources,
        methods_policy: &MethodsPolicy,
    ) -> Result<Plan, ChangeError> {
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
        Ok(Plan { changes, steps })
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

/// Settings and policies for the domain's unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::domain::methods::RegistrationCampaign as GraphCampaign;
    use crate::domain::portal::OnPremisesSettings;

    pub const GROUP: &str = "3ee3a9de-0a86-4e12-a287-9769accf1ba2";

    pub fn portal() -> PortalSettings {
        PortalSettings {
            scope: Scope::Selected {
                group_id: GROUP.to_owned(),
                group_name: Some("SSPR users".to_owned()),
            },
            methods_required: 2,
            methods: LegacyMethods {
                mobile_app_notification: true,
                mobile_app_code: true,
                email: true,
                mobile_phone: true,
                office_phone: true,
                security_questions: false,
            },
            security_questions_to_register: 5,
            security_questions_to_reset: 3,
            require_registration_on_sign_in: true,
            reconfirm_days: 180,
            notify_users_on_reset: true,
            notify_admins_on_admin_reset: true,
            helpdesk_link: Some("https://help.contoso.com/sspr".to_owned()),
            on_premises: Some(OnPremisesSettings {
                password_writeback: false,
                unlock_without_reset: false,
                unlock_supported: true,
            }),
        }
    }

    pub fn configuration(id: &str, enabled: bool) -> MethodConfiguration {
        MethodConfiguration {
            id: id.to_owned(),
            enabled,
            include_targets: vec!["all_users".to_owned()],
            exclude_targets: vec![],
            software_oath_enabled: false,
            office_phone_allowed: false,
        }
    }

    pub fn methods_policy(state: MigrationState) -> MethodsPolicy {
        MethodsPolicy {
            migration_state: state,
            reconfirmation_in_days: None,
            policy_version: Some("1.5".to_owned()),
            last_modified: None,
            registration_campaign: Some(GraphCampaign {
                state: "enabled".to_owned(),
                snooze_duration_in_days: Some(1),
                include_targets: vec!["all_users".to_owned()],
                exclude_targets: vec![],
            }),
            configurations: vec![
                configuration("MicrosoftAuthenticator", true),
                configuration("SoftwareOath", false),
                configuration("Email", true),
                configuration("Sms", true),
                configuration("Voice", false),
            ],
        }
    }

    /// Pre-migration, portal connected: every group known, methods from the portal.
    pub fn settings() -> PolicySettings {
        PolicySettings::from_parts(
            Some(&portal()),
            &methods_policy(MigrationState::PreMigration),
            false,
        )
    }

    pub fn portal_sources() -> Sources {
        Sources::new(Source::Portal, false)
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    fn patched(patch: Value) -> Result<PolicySettings, ChangeError> {
        apply_merge_patch(&settings(), &patch, &portal_sources())
    }

    // -- from_parts -------------------------------------------------------------------------

    #[test]
    fn from_parts_takes_portal_groups_and_legacy_methods_before_migration() {
        let s = settings();
        assert_eq!(
            s.enablement,
            Some(Enablement {
                scope: ScopeKind::Selected,
                group_id: Some(GROUP.to_owned())
            })
        );
        assert_eq!(s.authentication.as_ref().unwrap().methods_required, 2);
        assert_eq!(s.methods.unwrap().office_phone, Some(true));
        assert_eq!(s.methods.unwrap().security_questions, Some(false));
        assert_eq!(
            s.on_premises,
            Some(OnPremises {
                password_writeback: false,
                unlock_without_reset: false
            })
        );
        assert_eq!(s.methods_policy.migration_state, "preMigration");
        assert_eq!(
            s.methods_policy
                .registration_campaign
                .as_ref()
                .unwrap()
                .state,
            "enabled"
        );
        assert!(!s.administrators.allowed_to_use_sspr);
    }

    #[test]
    fn from_parts_takes_methods_from_the_methods_policy_once_migrated() {
        let s = PolicySettings::from_parts(
            Some(&portal()),
            &methods_policy(MigrationState::MigrationComplete),
            true,
        );
        let methods = s.methods.unwrap();
        assert_eq!(methods.mobile_app_notification, Some(true));
        assert_eq!(methods.mobile_app_code, Some(false), "no software OATH");
        assert_eq!(methods.email, Some(true));
        assert_eq!(methods.mobile_phone, Some(true));
        assert_eq!(
            methods.office_phone,
            Some(false),
            "portal says true, Graph rules"
        );
        assert_eq!(
            methods.security_questions,
            Some(false),
            "legacy-only, from the portal"
        );
        assert!(s.administrators.allowed_to_use_sspr);
    }

    #[test]
    fn from_parts_without_portal_leaves_portal_groups_null() {
        let s = PolicySettings::from_parts(
            None,
            &methods_policy(MigrationState::MigrationInProgress),
            false,
        );
        assert!(s.enablement.is_none() && s.authentication.is_none());
        assert!(s.registration.is_none() && s.notifications.is_none());
        assert!(s.customization.is_none() && s.on_premises.is_none());
        assert_eq!(s.methods.unwrap().security_questions, None);
        assert_eq!(s.methods.unwrap().email, Some(true));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["enablement"], Value::Null);
        assert_eq!(json["methods"]["securityQuestions"], Value::Null);

        let pre =
            PolicySettings::from_parts(None, &methods_policy(MigrationState::PreMigration), false);
        assert!(pre.methods.is_none(), "legacy methods need the portal");
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
        collect_pointers("", &settings().to_json(), &mut pointers);
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

    // -- plan -------------------------------------------------------------------------------

    fn plan_for(
        before: &PolicySettings,
        patch: Value,
        sources: &Sources,
        policy: &MethodsPolicy,
    ) -> Plan {
        let after = apply_merge_patch(before, &patch, sources).unwrap();
        Plan::new(before, &after, sources, policy).unwrap()
    }

    fn portal_plan(patch: Value) -> Plan {
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
            Plan::new(
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
