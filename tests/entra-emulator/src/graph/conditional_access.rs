//! `identity/conditionalAccess/policies` (graph-api.md §5.1–§5.5), plus the OData list options
//! and the body-reading rules both CA collections share (named locations live in
//! `named_locations.rs`).
//!
//! A request body is read against a table of the v1.0 CSDL types (unknown property, wrong JSON
//! type, null in a non-null collection or a bad enum member → 400 as ODataLib words it) and
//! stored in Graph's response shape: every non-null collection present (`[]` when absent), every
//! absent complex `null` (§5.3). The business rules of §5.4 run on that normalised policy.

use std::cmp::Ordering;

use axum::http::Method;
use serde_json::{Map, Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description};

use super::{Access, Bucket, Ctx, GraphError, Reply, Route, Version, with_context};
use crate::Tenant;

/// Reads of CA policies and named locations (§0.2). The write permission does not imply read:
/// that is why Graph's docs require `Policy.Read.All` next to it for writes.
pub(super) const READ: &[&str] = &["Policy.Read.All"];
/// Writes need `Policy.ReadWrite.ConditionalAccess`; for policies also `Policy.Read.All` (§5.1,
/// checked in the handler because the route table's `Access::Any` means "any one of").
/// `Application.Read.All`, listed by older docs, is marked least-privileged for delegated work
/// only in [PERM]; requiring it of app-only callers is UNVERIFIED, so it is not required.
pub(super) const WRITE: &[&str] = &["Policy.ReadWrite.ConditionalAccess"];

const POLICIES: &str = "identity/conditionalAccess/policies";
const POLICY: &str = "identity/conditionalAccess/policies/{id}";

pub(crate) fn routes() -> Vec<Route> {
    let ca = |method, pattern, access, handler| {
        Route::new(method, pattern, access, handler).bucket(Bucket::ConditionalAccess)
    };
    vec![
        ca(Method::GET, POLICIES, Access::Any(READ), list_policies),
        ca(Method::POST, POLICIES, Access::Any(WRITE), create_policy),
        ca(Method::GET, POLICY, Access::Any(READ), get_policy),
        ca(Method::PATCH, POLICY, Access::Any(WRITE), update_policy),
        ca(Method::DELETE, POLICY, Access::Any(WRITE), delete_policy),
    ]
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

fn list_policies(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let items = tenant
        .conditional_access_policies
        .iter()
        .map(|p| serve_policy(p, ctx.version))
        .collect();
    list_reply(
        ctx,
        items,
        format!(
            "{}#identity/conditionalAccess/policies",
            ctx.version.metadata()
        ),
    )
}

fn get_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let policy = find_by_id(&tenant.conditional_access_policies, ctx.param(0))
        .ok_or_else(|| not_found(ctx.param(0)))?;
    Ok(Reply::Ok(select(
        ctx,
        with_context(
            &serve_policy(policy, ctx.version),
            policy_entity_context(ctx.version),
        ),
    )))
}

fn create_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    require_read_too(ctx)?;
    let body = ctx.body()?;
    let mut policy = read_policy(body)?;
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    validate_policy(&policy, tenant)?;
    policy["id"] = json!(uuid::Uuid::new_v4().to_string());
    policy["createdDateTime"] = json!(now_graph());
    // `null` until the first edit (§5.2, doc example).
    policy["modifiedDateTime"] = Value::Null;
    // Set when a policy is created from a template; the portal sends it, so accept it here.
    policy["templateId"] = match body.get("templateId") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => json!(s),
        Some(_) => return Err(wrong_type("templateId", "Edm.String")),
    };
    tenant.conditional_access_policies.push(policy.clone());
    Ok(Reply::Created(with_context(
        &serve_policy(&policy, ctx.version),
        policy_entity_context(ctx.version),
    )))
}

/// PATCH merges: top-level properties replace, complex values (`conditions`, `users`,
/// `grantControls`, …) merge member by member, collections replace wholesale. Graph's update doc
/// example patches only `conditions.signInRiskLevels`, which only works if complex values merge;
/// the merge below nested complex levels follows OData's PATCH rule (UNVERIFIED for every member).
/// The merged result must again be a valid policy.
fn update_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    require_read_too(ctx)?;
    let body = ctx.body()?;
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    let index = position_by_id(&tenant.conditional_access_policies, ctx.param(0))
        .ok_or_else(|| not_found(ctx.param(0)))?;
    let stored = tenant.conditional_access_policies[index].clone();
    let mut merged = stored.clone();
    merge(&mut merged, &without_server_properties(body));
    let mut policy = read_policy(&merged)?;
    validate_policy(&policy, tenant)?;
    for server_owned in ["id", "createdDateTime", "templateId"] {
        policy[server_owned] = stored.get(server_owned).cloned().unwrap_or(Value::Null);
    }
    policy["modifiedDateTime"] = json!(now_graph());
    tenant.conditional_access_policies[index] = policy;
    Ok(Reply::NoContent)
}

fn delete_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    require_read_too(ctx)?;
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    let index = position_by_id(&tenant.conditional_access_policies, ctx.param(0))
        .ok_or_else(|| not_found(ctx.param(0)))?;
    tenant.conditional_access_policies.remove(index);
    Ok(Reply::NoContent)
}

/// Policy writes need `Policy.Read.All` as well as `Policy.ReadWrite.ConditionalAccess` (§5.1).
fn require_read_too(ctx: &Ctx<'_>) -> Result<(), GraphError> {
    if ctx.caller.has_any(READ) {
        Ok(())
    } else {
        Err(GraphError::forbidden(
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ))
    }
}

fn policy_entity_context(version: Version) -> String {
    format!(
        "{}#identity/conditionalAccess/policies/$entity",
        version.metadata()
    )
}

/// The stored (v1.0-shaped) policy as `version` serves it. The `authenticationStrength` context
/// annotation is derived, not stored. Beta has no `templateId` (not in `graph-beta-names`) and
/// its `applications` carry `networkAccess`/`globalSecureAccess`, normally `null` (§5.2).
fn serve_policy(policy: &Value, version: Version) -> Value {
    let mut out = policy.clone();
    let id = policy["id"].as_str().unwrap_or_default().to_owned();
    if let Some(grant) = out.get_mut("grantControls").and_then(Value::as_object_mut) {
        grant.insert(
            "authenticationStrength@odata.context".into(),
            json!(format!(
                "{}#identity/conditionalAccess/policies('{id}')/grantControls/authenticationStrength/$entity",
                version.metadata()
            )),
        );
        grant.entry("authenticationStrength").or_insert(Value::Null);
    }
    if version == Version::Beta {
        if let Some(fields) = out.as_object_mut() {
            fields.remove("templateId");
        }
        if let Some(apps) = out
            .pointer_mut("/conditions/applications")
            .and_then(Value::as_object_mut)
        {
            apps.entry("networkAccess").or_insert(Value::Null);
            apps.entry("globalSecureAccess").or_insert(Value::Null);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reading a policy body against the v1.0 CSDL
// ---------------------------------------------------------------------------------------------

/// How one property is read from a request body and stored.
#[derive(Clone, Copy)]
enum Kind {
    /// `Collection(Edm.String)`, non-null: absent → `[]`.
    Strings,
    /// Non-null collection of members of the named enum: absent → `[]`.
    Members(&'static str, &'static [&'static str]),
    /// One member of the named enum, nullable.
    Member(&'static str, &'static [&'static str]),
    /// A flags enum, serialised as one comma-separated string (§8.4), nullable.
    Flags(&'static str, &'static [&'static str]),
    Bool,
    Int32,
    Text,
    Complex(&'static ComplexType),
    /// A polymorphic or navigation value with its own reader.
    Custom(fn(&str, &Value) -> Result<Value, GraphError>),
    /// Server-owned: accepted in a body (clients PATCH back what they GET) and ignored.
    ReadOnly,
    /// Served by beta as `null` only: accepted as `null` in a body and never stored.
    BetaNull,
}

struct Prop {
    name: &'static str,
    kind: Kind,
    /// Non-null in the CSDL with no sensible default: absent or `null` is a 400.
    required: bool,
}

struct ComplexType {
    name: &'static str,
    props: &'static [Prop],
}

const fn p(name: &'static str, kind: Kind) -> Prop {
    Prop {
        name,
        kind,
        required: false,
    }
}

const fn required(name: &'static str, kind: Kind) -> Prop {
    Prop {
        name,
        kind,
        required: true,
    }
}

const POLICY_STATE: &[&str] = &["enabled", "disabled", "enabledForReportingButNotEnforced"];
const CLIENT_APP: &[&str] = &[
    "all",
    "browser",
    "mobileAppsAndDesktopClients",
    "exchangeActiveSync",
    "easSupported",
    "other",
    "unknownFutureValue",
];
const RISK_LEVEL: &[&str] = &[
    "low",
    "medium",
    "high",
    "hidden",
    "none",
    "unknownFutureValue",
];
const GRANT_CONTROL: &[&str] = &[
    "block",
    "mfa",
    "compliantDevice",
    "domainJoinedDevice",
    "approvedApplication",
    "compliantApplication",
    "passwordChange",
    "unknownFutureValue",
    "riskRemediation",
];
const GUEST_TYPES: &[&str] = &[
    "none",
    "internalGuest",
    "b2bCollaborationGuest",
    "b2bCollaborationMember",
    "b2bDirectConnectUser",
    "otherExternalUser",
    "serviceProvider",
    "unknownFutureValue",
];
const DEVICE_PLATFORM: &[&str] = &[
    "android",
    "iOS",
    "windows",
    "windowsPhone",
    "macOS",
    "all",
    "unknownFutureValue",
    "linux",
];
const INSIDER_RISK: &[&str] = &["minor", "moderate", "elevated", "unknownFutureValue"];
const TRANSFER_METHODS: &[&str] = &[
    "none",
    "deviceCodeFlow",
    "authenticationTransfer",
    "unknownFutureValue",
];
const FILTER_MODE: &[&str] = &["include", "exclude"];
const MCAS_TYPE: &[&str] = &[
    "mcasConfigured",
    "monitorOnly",
    "blockDownloads",
    "unknownFutureValue",
];
const BROWSER_MODE: &[&str] = &["always", "never"];
const FREQUENCY_TYPE: &[&str] = &["days", "hours"];
const FREQUENCY_AUTH_TYPE: &[&str] = &[
    "primaryAndSecondaryAuthentication",
    "secondaryAuthentication",
    "unknownFutureValue",
];
const FREQUENCY_INTERVAL: &[&str] = &["timeBased", "everyTime", "unknownFutureValue"];

static POLICY_TYPE: ComplexType = ComplexType {
    name: "conditionalAccessPolicy",
    props: &[
        p("id", Kind::ReadOnly),
        p("createdDateTime", Kind::ReadOnly),
        p("modifiedDateTime", Kind::ReadOnly),
        p("deletedDateTime", Kind::ReadOnly),
        p("templateId", Kind::ReadOnly),
        required("displayName", Kind::Text),
        p("description", Kind::Text),
        required(
            "state",
            Kind::Member("conditionalAccessPolicyState", POLICY_STATE),
        ),
        required("conditions", Kind::Complex(&CONDITION_SET)),
        p("grantControls", Kind::Complex(&GRANT_CONTROLS)),
        p("sessionControls", Kind::Complex(&SESSION_CONTROLS)),
    ],
};

static CONDITION_SET: ComplexType = ComplexType {
    name: "conditionalAccessConditionSet",
    props: &[
        p("applications", Kind::Complex(&APPLICATIONS)),
        p("authenticationFlows", Kind::Complex(&AUTHENTICATION_FLOWS)),
        p("clientApplications", Kind::Complex(&CLIENT_APPLICATIONS)),
        p(
            "clientAppTypes",
            Kind::Members("conditionalAccessClientApp", CLIENT_APP),
        ),
        p("devices", Kind::Complex(&DEVICES)),
        p(
            "insiderRiskLevels",
            Kind::Flags("conditionalAccessInsiderRiskLevels", INSIDER_RISK),
        ),
        p("locations", Kind::Complex(&LOCATIONS)),
        p("platforms", Kind::Complex(&PLATFORMS)),
        p(
            "servicePrincipalRiskLevels",
            Kind::Members("riskLevel", RISK_LEVEL),
        ),
        p("signInRiskLevels", Kind::Members("riskLevel", RISK_LEVEL)),
        p("userRiskLevels", Kind::Members("riskLevel", RISK_LEVEL)),
        p("users", Kind::Complex(&USERS)),
    ],
};

static APPLICATIONS: ComplexType = ComplexType {
    name: "conditionalAccessApplications",
    props: &[
        p("applicationFilter", Kind::Complex(&FILTER)),
        p("excludeApplications", Kind::Strings),
        p("includeApplications", Kind::Strings),
        p("includeAuthenticationContextClassReferences", Kind::Strings),
        p("includeUserActions", Kind::Strings),
        // Beta responses carry these two as `null` (§5.2); a beta client PATCHing back what it
        // read must not fail. Only `null` is accepted; they are not stored.
        p("networkAccess", Kind::BetaNull),
        p("globalSecureAccess", Kind::BetaNull),
    ],
};

static USERS: ComplexType = ComplexType {
    name: "conditionalAccessUsers",
    props: &[
        p("excludeGroups", Kind::Strings),
        p("excludeGuestsOrExternalUsers", Kind::Complex(&GUESTS)),
        p("excludeRoles", Kind::Strings),
        p("excludeUsers", Kind::Strings),
        p("includeGroups", Kind::Strings),
        p("includeGuestsOrExternalUsers", Kind::Complex(&GUESTS)),
        p("includeRoles", Kind::Strings),
        p("includeUsers", Kind::Strings),
    ],
};

static GUESTS: ComplexType = ComplexType {
    name: "conditionalAccessGuestsOrExternalUsers",
    props: &[
        p("externalTenants", Kind::Custom(read_external_tenants)),
        required(
            "guestOrExternalUserTypes",
            Kind::Flags("conditionalAccessGuestOrExternalUserTypes", GUEST_TYPES),
        ),
    ],
};

static LOCATIONS: ComplexType = ComplexType {
    name: "conditionalAccessLocations",
    props: &[
        p("excludeLocations", Kind::Strings),
        p("includeLocations", Kind::Strings),
    ],
};

static PLATFORMS: ComplexType = ComplexType {
    name: "conditionalAccessPlatforms",
    props: &[
        p(
            "excludePlatforms",
            Kind::Members("conditionalAccessDevicePlatform", DEVICE_PLATFORM),
        ),
        p(
            "includePlatforms",
            Kind::Members("conditionalAccessDevicePlatform", DEVICE_PLATFORM),
        ),
    ],
};

static DEVICES: ComplexType = ComplexType {
    name: "conditionalAccessDevices",
    props: &[p("deviceFilter", Kind::Complex(&FILTER))],
};

static CLIENT_APPLICATIONS: ComplexType = ComplexType {
    name: "conditionalAccessClientApplications",
    props: &[
        p("excludeServicePrincipals", Kind::Strings),
        p("includeServicePrincipals", Kind::Strings),
        p("servicePrincipalFilter", Kind::Complex(&FILTER)),
    ],
};

static AUTHENTICATION_FLOWS: ComplexType = ComplexType {
    name: "conditionalAccessAuthenticationFlows",
    props: &[required(
        "transferMethods",
        Kind::Flags("conditionalAccessTransferMethods", TRANSFER_METHODS),
    )],
};

static FILTER: ComplexType = ComplexType {
    name: "conditionalAccessFilter",
    props: &[
        required("mode", Kind::Member("filterMode", FILTER_MODE)),
        required("rule", Kind::Text),
    ],
};

static GRANT_CONTROLS: ComplexType = ComplexType {
    name: "conditionalAccessGrantControls",
    props: &[
        p(
            "builtInControls",
            Kind::Members("conditionalAccessGrantControl", GRANT_CONTROL),
        ),
        p("customAuthenticationFactors", Kind::Strings),
        p("operator", Kind::Text),
        p("termsOfUse", Kind::Strings),
        p(
            "authenticationStrength",
            Kind::Custom(read_authentication_strength),
        ),
    ],
};

static SESSION_CONTROLS: ComplexType = ComplexType {
    name: "conditionalAccessSessionControls",
    props: &[
        p(
            "applicationEnforcedRestrictions",
            Kind::Complex(&ENABLED_ONLY_CONTROL),
        ),
        p("cloudAppSecurity", Kind::Complex(&CLOUD_APP_SECURITY)),
        p("disableResilienceDefaults", Kind::Bool),
        p("persistentBrowser", Kind::Complex(&PERSISTENT_BROWSER)),
        p("secureSignInSession", Kind::Complex(&ENABLED_ONLY_CONTROL)),
        p("signInFrequency", Kind::Complex(&SIGN_IN_FREQUENCY)),
    ],
};

/// `applicationEnforcedRestrictionsSessionControl` and `secureSignInSessionControl` add nothing
/// to their base `conditionalAccessSessionControl`.
static ENABLED_ONLY_CONTROL: ComplexType = ComplexType {
    name: "conditionalAccessSessionControl",
    props: &[p("isEnabled", Kind::Bool)],
};

static CLOUD_APP_SECURITY: ComplexType = ComplexType {
    name: "cloudAppSecuritySessionControl",
    props: &[
        p("isEnabled", Kind::Bool),
        p(
            "cloudAppSecurityType",
            Kind::Member("cloudAppSecuritySessionControlType", MCAS_TYPE),
        ),
    ],
};

static PERSISTENT_BROWSER: ComplexType = ComplexType {
    name: "persistentBrowserSessionControl",
    props: &[
        p("isEnabled", Kind::Bool),
        p(
            "mode",
            Kind::Member("persistentBrowserSessionMode", BROWSER_MODE),
        ),
    ],
};

static SIGN_IN_FREQUENCY: ComplexType = ComplexType {
    name: "signInFrequencySessionControl",
    props: &[
        p("isEnabled", Kind::Bool),
        p(
            "authenticationType",
            Kind::Member("signInFrequencyAuthenticationType", FREQUENCY_AUTH_TYPE),
        ),
        p(
            "frequencyInterval",
            Kind::Member("signInFrequencyInterval", FREQUENCY_INTERVAL),
        ),
        p("type", Kind::Member("signinFrequencyType", FREQUENCY_TYPE)),
        p("value", Kind::Int32),
    ],
};

/// A policy body read into the stored shape (without server-owned properties).
fn read_policy(body: &Value) -> Result<Value, GraphError> {
    read_complex(&POLICY_TYPE, body)
}

/// Reads an object of `ty`: annotations (`@odata.type`, `x@odata.context`) are dropped, unknown
/// properties rejected, absent properties defaulted.
fn read_complex(ty: &ComplexType, value: &Value) -> Result<Value, GraphError> {
    let Some(fields) = value.as_object() else {
        return Err(wrong_type(ty.name, &format!("microsoft.graph.{}", ty.name)));
    };
    for key in fields.keys() {
        if !key.contains('@') && !ty.props.iter().any(|p| p.name == key) {
            return Err(unknown_property(key, ty.name));
        }
    }
    let mut out = Map::new();
    for prop in ty.props {
        let given = fields.get(prop.name);
        if prop.required && given.is_none_or(Value::is_null) {
            return Err(missing_property(prop.name, ty.name));
        }
        let value = match (prop.kind, given) {
            (Kind::ReadOnly, _) | (Kind::BetaNull, None | Some(Value::Null)) => continue,
            (Kind::BetaNull, Some(_)) => return Err(unknown_property(prop.name, ty.name)),
            (kind, given) => read_value(prop.name, kind, given)?,
        };
        out.insert(prop.name.to_owned(), value);
    }
    Ok(Value::Object(out))
}

fn read_value(name: &str, kind: Kind, given: Option<&Value>) -> Result<Value, GraphError> {
    let collection = matches!(kind, Kind::Strings | Kind::Members(..));
    let Some(value) = given else {
        return Ok(if collection { json!([]) } else { Value::Null });
    };
    if value.is_null() {
        if collection {
            return Err(null_in_non_null_collection(name, kind));
        }
        return Ok(Value::Null);
    }
    match kind {
        Kind::Strings => read_strings(name, value, None),
        Kind::Members(enum_name, members) => read_strings(name, value, Some((enum_name, members))),
        Kind::Member(enum_name, members) => {
            let text = value
                .as_str()
                .ok_or_else(|| wrong_type(name, &format!("microsoft.graph.{enum_name}")))?;
            check_member(text, enum_name, members)?;
            Ok(json!(text))
        }
        Kind::Flags(enum_name, members) => read_flags(name, value, enum_name, members),
        Kind::Bool => value
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| wrong_type(name, "Edm.Boolean")),
        Kind::Int32 => value
            .as_i64()
            .filter(|n| i32::try_from(*n).is_ok())
            .map(|n| json!(n))
            .ok_or_else(|| wrong_type(name, "Edm.Int32")),
        Kind::Text => value
            .as_str()
            .map(|s| json!(s))
            .ok_or_else(|| wrong_type(name, "Edm.String")),
        Kind::Complex(ty) => read_complex(ty, value),
        Kind::Custom(read) => read(name, value),
        Kind::ReadOnly | Kind::BetaNull => Ok(Value::Null),
    }
}

fn read_strings(
    name: &str,
    value: &Value,
    members: Option<(&str, &[&str])>,
) -> Result<Value, GraphError> {
    let element_type = members.map_or("Edm.String".to_owned(), |(e, _)| {
        format!("microsoft.graph.{e}")
    });
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(name, &format!("Collection({element_type})")))?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let text = item
            .as_str()
            .ok_or_else(|| wrong_type(name, &format!("Collection({element_type})")))?;
        if let Some((enum_name, members)) = members {
            check_member(text, enum_name, members)?;
        }
        out.push(json!(text));
    }
    Ok(Value::Array(out))
}

/// A flags enum: comma-separated members (spaces around commas tolerated), answered in the
/// enum's declaration order without duplicates, as Graph serialises flags.
fn read_flags(
    name: &str,
    value: &Value,
    enum_name: &str,
    members: &[&str],
) -> Result<Value, GraphError> {
    let text = value
        .as_str()
        .ok_or_else(|| wrong_type(name, &format!("microsoft.graph.{enum_name}")))?;
    let given: Vec<&str> = text.split(',').map(str::trim).collect();
    for flag in &given {
        check_member(flag, enum_name, members)?;
    }
    let ordered: Vec<&str> = members
        .iter()
        .copied()
        .filter(|m| given.contains(m))
        .collect();
    Ok(json!(ordered.join(",")))
}

fn check_member(text: &str, enum_name: &str, members: &[&str]) -> Result<(), GraphError> {
    if members.contains(&text) {
        Ok(())
    } else {
        // ODataLib's wording for an enum literal it cannot bind (text UNVERIFIED for CA).
        Err(GraphError::bad_request(format!(
            "The value '{text}' is not valid for the enum type 'microsoft.graph.{enum_name}'."
        )))
    }
}

/// `conditionalAccessExternalTenants` is abstract: the body must name the concrete type.
fn read_external_tenants(name: &str, value: &Value) -> Result<Value, GraphError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let fields = value
        .as_object()
        .ok_or_else(|| wrong_type(name, "microsoft.graph.conditionalAccessExternalTenants"))?;
    let odata_type = fields.get("@odata.type").and_then(Value::as_str);
    let (type_name, kind, props): (&str, &str, &[&str]) = match odata_type {
        Some("#microsoft.graph.conditionalAccessAllExternalTenants") => (
            "conditionalAccessAllExternalTenants",
            "all",
            &["membershipKind"],
        ),
        Some("#microsoft.graph.conditionalAccessEnumeratedExternalTenants") => (
            "conditionalAccessEnumeratedExternalTenants",
            "enumerated",
            &["membershipKind", "members"],
        ),
        _ => return Err(abstract_type("conditionalAccessExternalTenants")),
    };
    for key in fields.keys() {
        if !key.starts_with('@') && !props.contains(&key.as_str()) {
            return Err(unknown_property(key, type_name));
        }
    }
    let membership = fields.get("membershipKind").and_then(Value::as_str);
    if membership.is_some_and(|m| m != kind) {
        return Err(ca_invalid(format!(
            "Invalid externalTenants: '{type_name}' requires membershipKind '{kind}'."
        )));
    }
    let mut out = json!({
        "@odata.type": format!("#microsoft.graph.{type_name}"),
        "membershipKind": kind,
    });
    if kind == "enumerated" {
        let members = read_value("members", Kind::Strings, fields.get("members"))?;
        if members.as_array().is_none_or(Vec::is_empty) {
            return Err(ca_invalid(
                "Invalid externalTenants: an enumerated list needs at least one tenant id.",
            ));
        }
        out["members"] = members;
    }
    Ok(out)
}

/// `authenticationStrength` references an `authenticationStrengthPolicy` by `id`; the emulator
/// knows Microsoft's three built-in strengths, which every tenant has. Other members of the
/// given object are ignored (clients send back the expanded object they read) and the full
/// entity is stored, as GET serves it expanded. Unknown ids are a 400 (text UNVERIFIED).
fn read_authentication_strength(name: &str, value: &Value) -> Result<Value, GraphError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| wrong_type(name, "microsoft.graph.authenticationStrengthPolicy"))?;
    BUILT_IN_STRENGTHS
        .iter()
        .find(|s| s.0.eq_ignore_ascii_case(id))
        .map(|(id, display_name, description, combinations)| {
            json!({
                "id": id,
                "createdDateTime": "2021-12-01T00:00:00Z",
                "modifiedDateTime": "2021-12-01T00:00:00Z",
                "displayName": display_name,
                "description": description,
                "policyType": "builtIn",
                "requirementsSatisfied": "mfa",
                "allowedCombinations": combinations,
            })
        })
        .ok_or_else(|| {
            ca_invalid(format!(
                "Invalid authentication strength policy id: '{id}'."
            ))
        })
}

type Strength = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

/// Microsoft's built-in authentication strengths (ids and combinations as Entra lists them).
const BUILT_IN_STRENGTHS: &[Strength] = &[
    (
        "00000000-0000-0000-0000-000000000002",
        "Multifactor authentication",
        "Combinations of methods that satisfy strong authentication, such as a password + SMS",
        &[
            "windowsHelloForBusiness",
            "fido2",
            "x509CertificateMultiFactor",
            "deviceBasedPush",
            "temporaryAccessPassOneTime",
            "temporaryAccessPassMultiUse",
            "password,microsoftAuthenticatorPush",
            "password,softwareOath",
            "password,hardwareOath",
            "password,sms",
            "password,voice",
            "federatedMultiFactor",
            "microsoftAuthenticatorPush,federatedSingleFactor",
            "softwareOath,federatedSingleFactor",
            "hardwareOath,federatedSingleFactor",
            "sms,federatedSingleFactor",
            "voice,federatedSingleFactor",
        ],
    ),
    (
        "00000000-0000-0000-0000-000000000003",
        "Passwordless MFA",
        "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator",
        &[
            "windowsHelloForBusiness",
            "fido2",
            "x509CertificateMultiFactor",
            "deviceBasedPush",
        ],
    ),
    (
        "00000000-0000-0000-0000-000000000004",
        "Phishing-resistant MFA",
        "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
        &[
            "windowsHelloForBusiness",
            "fido2",
            "x509CertificateMultiFactor",
        ],
    ),
];

// ---------------------------------------------------------------------------------------------
// Business rules (§5.4)
// ---------------------------------------------------------------------------------------------

const REGISTER_SECURITY_INFO: &str = "urn:user:registersecurityinfo";
const REGISTER_DEVICE: &str = "urn:user:registerdevice";
/// Special `includeUsers`/`excludeUsers` values (§5.2).
const USER_KEYWORDS: &[&str] = &["All", "None", "GuestsOrExternalUsers"];
/// Special location values (§5.2) and the legacy "MFA trusted IPs" location id that a docs
/// example uses (§5.2; meaning UNVERIFIED beyond that example).
const LOCATION_KEYWORDS: &[&str] = &["All", "AllTrusted", "00000000-0000-0000-0000-000000000000"];
/// Special application values Entra accepts besides app ids (Microsoft's CA docs).
const APPLICATION_KEYWORDS: &[&str] = &["All", "None", "Office365", "MicrosoftAdminPortals"];

fn validate_policy(policy: &Value, tenant: &Tenant) -> Result<(), GraphError> {
    if policy["displayName"]
        .as_str()
        .is_none_or(|s| s.trim().is_empty())
    {
        return Err(ca_invalid("displayName is required and cannot be empty."));
    }
    let conditions = &policy["conditions"];
    check_required_rules(policy)?;
    check_applications(&conditions["applications"])?;
    check_user_actions(policy)?;
    check_grant_controls(policy)?;
    check_users(&conditions["users"], tenant)?;
    check_locations(&conditions["locations"], tenant)?;
    Ok(())
}

/// "A valid policy should contain at least one application rule, one user rule and one grant or
/// session control" (§5.4 [DOCS-ca-post]). Message texts are UNVERIFIED.
fn check_required_rules(policy: &Value) -> Result<(), GraphError> {
    let conditions = &policy["conditions"];
    let apps = &conditions["applications"];
    let has_app_rule = [
        "includeApplications",
        "includeUserActions",
        "includeAuthenticationContextClassReferences",
    ]
    .iter()
    .any(|k| non_empty(&apps[*k]));
    if !has_app_rule {
        return Err(ca_invalid(
            "Invalid conditions: the policy must include applications, user actions or authentication contexts.",
        ));
    }
    let users = &conditions["users"];
    let has_user_rule = ["includeUsers", "includeGroups", "includeRoles"]
        .iter()
        .any(|k| non_empty(&users[*k]))
        || !users["includeGuestsOrExternalUsers"].is_null();
    if !has_user_rule {
        return Err(ca_invalid(
            "Invalid conditions: the policy must include users, groups, roles or guests or external users.",
        ));
    }
    let grant = &policy["grantControls"];
    let has_grant = [
        "builtInControls",
        "customAuthenticationFactors",
        "termsOfUse",
    ]
    .iter()
    .any(|k| non_empty(&grant[*k]));
    let has_session = policy["sessionControls"]
        .as_object()
        .is_some_and(|s| s.values().any(|v| !v.is_null()));
    if !has_grant && !has_session {
        return Err(ca_invalid(
            "Invalid policy: the policy must have at least one grant control or session control.",
        ));
    }
    Ok(())
}

/// 1012 (§5.4, [ISS-MWC-50]): applications and user actions / authentication contexts exclude
/// each other. Empty `includeApplications`/`excludeApplications` arrays next to a user action are
/// accepted: Graph's own GET returns them so, and in [ISS-MWC-50] the maintainer reproduced the
/// same arrays succeeding (the failure there came with a policy that included no users). An
/// `applicationFilter` targets applications too, so it counts as one (UNVERIFIED).
fn check_applications(apps: &Value) -> Result<(), GraphError> {
    let user_actions_or_contexts = non_empty(&apps["includeUserActions"])
        || non_empty(&apps["includeAuthenticationContextClassReferences"]);
    let applications = non_empty(&apps["includeApplications"])
        || non_empty(&apps["excludeApplications"])
        || !apps["applicationFilter"].is_null();
    if user_actions_or_contexts && applications {
        return Err(ca_invalid(
            "1012: 'applications' condition cannot include both 'includeApplications' and 'includeUserActions'/'includeProtectionLevels'. Please remove one of the conditions.",
        ));
    }
    for app in strings(&apps["includeApplications"]).chain(strings(&apps["excludeApplications"])) {
        // Extra sanity check: app ids are GUIDs (Graph also resolves them; text UNVERIFIED).
        if !APPLICATION_KEYWORDS.contains(&app) && uuid::Uuid::parse_str(app).is_err() {
            return Err(ca_invalid(format!("Invalid application id: '{app}'.")));
        }
    }
    Ok(())
}

/// The two documented user actions (§5.2); `registerdevice` allows only the `mfa` grant and no
/// client-app or device condition ([ENTRA-ca-apps]; 400, message text UNVERIFIED).
fn check_user_actions(policy: &Value) -> Result<(), GraphError> {
    let conditions = &policy["conditions"];
    let actions: Vec<&str> = strings(&conditions["applications"]["includeUserActions"]).collect();
    for action in &actions {
        if !action.eq_ignore_ascii_case(REGISTER_SECURITY_INFO)
            && !action.eq_ignore_ascii_case(REGISTER_DEVICE)
        {
            return Err(ca_invalid(format!("Invalid user action: '{action}'.")));
        }
    }
    if !actions
        .iter()
        .any(|a| a.eq_ignore_ascii_case(REGISTER_DEVICE))
    {
        return Ok(());
    }
    let controls: Vec<&str> = strings(&policy["grantControls"]["builtInControls"]).collect();
    let client_apps: Vec<&str> = strings(&conditions["clientAppTypes"]).collect();
    if controls != ["mfa"]
        || !(client_apps.is_empty() || client_apps == ["all"])
        || !conditions["devices"].is_null()
    {
        return Err(ca_invalid(
            "Invalid policy: the user action 'urn:user:registerdevice' supports only the 'mfa' grant control and no client app or device conditions.",
        ));
    }
    Ok(())
}

fn check_grant_controls(policy: &Value) -> Result<(), GraphError> {
    let grant = &policy["grantControls"];
    if grant.is_null() {
        return Ok(());
    }
    let operator = grant["operator"].as_str();
    // Extra sanity check: Graph documents only "AND" and "OR" (§5.2); text UNVERIFIED.
    if let Some(op) = operator
        && op != "AND"
        && op != "OR"
    {
        return Err(ca_invalid(format!(
            "Invalid grant controls: operator '{op}' must be 'AND' or 'OR'."
        )));
    }
    let controls: Vec<&str> = strings(&grant["builtInControls"]).collect();
    // Extra sanity check: Entra's "Block access" excludes every other control; text UNVERIFIED.
    let strength = !grant["authenticationStrength"].is_null();
    if controls.contains(&"block") && (controls.len() > 1 || strength) {
        return Err(ca_invalid(
            "Invalid grant controls: 'block' cannot be combined with other controls.",
        ));
    }
    // 1032 (§5.4, [ISS-CA-4]): "Require password change" goes with MFA under AND, all
    // applications and a user-risk condition (rule details UNVERIFIED beyond the message).
    if controls.contains(&"passwordChange") {
        let conditions = &policy["conditions"];
        let all_apps =
            strings(&conditions["applications"]["includeApplications"]).any(|a| a == "All");
        let valid = operator == Some("AND")
            && controls.contains(&"mfa")
            && all_apps
            && non_empty(&conditions["userRiskLevels"]);
        if !valid {
            return Err(ca_invalid(
                "1032: ConditionalActionPolicy validation failed due to InvalidPasswordResetControl.",
            ));
        }
    }
    Ok(())
}

/// User and group ids must exist in the tenant (§5.4; 400, message text UNVERIFIED). Role ids
/// are role template ids; the emulator has no role catalogue, so only their GUID form is checked.
fn check_users(users: &Value, tenant: &Tenant) -> Result<(), GraphError> {
    for key in ["includeUsers", "excludeUsers"] {
        let unknown: Vec<&str> = strings(&users[key])
            .filter(|id| {
                !USER_KEYWORDS.contains(id)
                    && !tenant.users.iter().any(|u| u.id.eq_ignore_ascii_case(id))
            })
            .collect();
        if !unknown.is_empty() {
            return Err(ca_invalid(format!(
                "Invalid conditions: '{key}' contains unknown user ids: {}.",
                unknown.join(", ")
            )));
        }
    }
    for key in ["includeGroups", "excludeGroups"] {
        let unknown: Vec<&str> = strings(&users[key])
            .filter(|id| !tenant.groups.iter().any(|g| g.id.eq_ignore_ascii_case(id)))
            .collect();
        if !unknown.is_empty() {
            return Err(ca_invalid(format!(
                "Invalid conditions: '{key}' contains unknown group ids: {}.",
                unknown.join(", ")
            )));
        }
    }
    for key in ["includeRoles", "excludeRoles"] {
        if let Some(bad) = strings(&users[key]).find(|id| uuid::Uuid::parse_str(id).is_err()) {
            return Err(ca_invalid(format!(
                "Invalid conditions: '{key}' contains an invalid role template id: {bad}."
            )));
        }
    }
    Ok(())
}

/// Named-location ids must exist in the tenant (§5.4; 400, message text UNVERIFIED).
fn check_locations(locations: &Value, tenant: &Tenant) -> Result<(), GraphError> {
    for key in ["includeLocations", "excludeLocations"] {
        let unknown: Vec<&str> = strings(&locations[key])
            .filter(|id| {
                !LOCATION_KEYWORDS.contains(id) && find_by_id(&tenant.named_locations, id).is_none()
            })
            .collect();
        if !unknown.is_empty() {
            return Err(ca_invalid(format!(
                "Invalid conditions: '{key}' contains unknown named location ids: {}.",
                unknown.join(", ")
            )));
        }
    }
    Ok(())
}

/// Whether any CA policy of the tenant names this location (used by named-location DELETE).
pub(super) fn location_in_use(tenant: &Tenant, location_id: &str) -> bool {
    tenant.conditional_access_policies.iter().any(|policy| {
        let locations = &policy["conditions"]["locations"];
        strings(&locations["includeLocations"])
            .chain(strings(&locations["excludeLocations"]))
            .any(|id| id.eq_ignore_ascii_case(location_id))
    })
}

// ---------------------------------------------------------------------------------------------
// Shared helpers for both CA collections
// ---------------------------------------------------------------------------------------------

fn non_empty(value: &Value) -> bool {
    value.as_array().is_some_and(|a| !a.is_empty())
}

fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

pub(super) fn find_by_id<'v>(items: &'v [Value], id: &str) -> Option<&'v Value> {
    position_by_id(items, id).map(|i| &items[i])
}

pub(super) fn position_by_id(items: &[Value], id: &str) -> Option<usize> {
    items.iter().position(|item| {
        item["id"]
            .as_str()
            .is_some_and(|i| i.eq_ignore_ascii_case(id))
    })
}

/// The body without properties the server owns; clients PATCH back what they read.
pub(super) fn without_server_properties(body: &Value) -> Value {
    let mut out = body.clone();
    if let Some(fields) = out.as_object_mut() {
        for key in [
            "id",
            "createdDateTime",
            "modifiedDateTime",
            "deletedDateTime",
            "templateId",
        ] {
            fields.remove(key);
        }
    }
    out
}

/// OData PATCH on a stored object: objects merge recursively, everything else replaces.
/// A polymorphic value whose `@odata.type` changes is replaced, not merged.
pub(super) fn merge(target: &mut Value, patch: &Value) {
    let (Some(target_fields), Some(patch_fields)) = (target.as_object_mut(), patch.as_object())
    else {
        *target = patch.clone();
        return;
    };
    for (key, value) in patch_fields {
        match target_fields.get_mut(key) {
            Some(existing)
                if existing.is_object()
                    && value.is_object()
                    && existing.get("@odata.type")
                        == value.get("@odata.type").or(existing.get("@odata.type")) =>
            {
                merge(existing, value);
            }
            _ => {
                target_fields.insert(key.clone(), value.clone());
            }
        }
    }
}

/// `2026-08-20T10:15:30.1234567Z`, the seven-digit form Graph uses for CA timestamps (§5.3).
pub(super) fn now_graph() -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z");
    OffsetDateTime::now_utc().format(fmt).unwrap_or_default()
}

pub(super) fn not_found(id: &str) -> GraphError {
    // Graph's directory-style 404 (§8.1; exact code for CA UNVERIFIED).
    GraphError::not_found(
        "Request_ResourceNotFound",
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// A CA validation failure in the envelope Graph uses for 1012 (§5.4): the generic message at
/// the top, the specific one in `innerError`.
pub(super) fn ca_invalid(message: impl Into<String>) -> GraphError {
    GraphError::bad_request(
        "The server could not process the request because it is malformed or incorrect.",
    )
    .with_inner("code", "BadRequest")
    .with_inner("message", message.into())
}

pub(super) fn unknown_property(name: &str, type_name: &str) -> GraphError {
    GraphError::bad_request(format!(
        "The property '{name}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to only use property names that are defined by the type or mark the type as open type."
    ))
}

pub(super) fn missing_property(name: &str, type_name: &str) -> GraphError {
    ca_invalid(format!(
        "The property '{name}' of type 'microsoft.graph.{type_name}' is required and cannot be null."
    ))
}

pub(super) fn wrong_type(name: &str, expected: &str) -> GraphError {
    GraphError::bad_request(format!(
        "Invalid value for property '{name}': a value of type '{expected}' was expected."
    ))
}

pub(super) fn abstract_type(type_name: &str) -> GraphError {
    // ODataLib refuses to materialise an abstract type (text UNVERIFIED for CA).
    GraphError::bad_request(format!(
        "The type 'microsoft.graph.{type_name}' is abstract: the request must name a concrete type in '@odata.type'."
    ))
}

fn null_in_non_null_collection(name: &str, kind: Kind) -> GraphError {
    let element = match kind {
        Kind::Members(e, _) => format!("microsoft.graph.{e}"),
        _ => "Edm.String".to_owned(),
    };
    GraphError::bad_request(format!(
        "A null value was found for the property named '{name}', which has the expected type 'Collection({element})[Nullable=False]'. The expected type 'Collection({element})[Nullable=False]' does not allow null values."
    ))
}

// ---------------------------------------------------------------------------------------------
// OData list options for the CA collections: $filter, $orderby, $skip, $top, $count, $select
// ---------------------------------------------------------------------------------------------

/// A collection response with the documented query options applied (§5.1). `$top` pages with an
/// `@odata.nextLink` that carries `$skip` (§8.4 allows `$skip` in nextLinks).
pub(super) fn list_reply(
    ctx: &Ctx<'_>,
    mut items: Vec<Value>,
    context: String,
) -> Result<Reply, GraphError> {
    if let Some(filter) = ctx.query.get("$filter") {
        let expression = filter::parse(filter)?;
        items.retain(|item| expression.matches(item));
    }
    if let Some(orderby) = ctx.query.get("$orderby") {
        order(&mut items, orderby)?;
    }
    let total = items.len();
    let skip = number_option(ctx, "$skip")?.unwrap_or(0);
    let top = number_option(ctx, "$top")?;
    let page: Vec<Value> = items
        .into_iter()
        .skip(skip)
        .take(top.unwrap_or(usize::MAX))
        .map(|item| select(ctx, item))
        .collect();
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(context));
    if ctx
        .query
        .get("$count")
        .is_some_and(|c| c.eq_ignore_ascii_case("true"))
    {
        out.insert("@odata.count".into(), json!(total));
    }
    let next = skip + page.len();
    if top.is_some() && next < total {
        out.insert("@odata.nextLink".into(), json!(next_link(ctx, next)));
    }
    out.insert("value".into(), Value::Array(page));
    Ok(Reply::Ok(Value::Object(out)))
}

/// An entity with `$select` applied: the selected properties plus `id` and annotations.
pub(super) fn select(ctx: &Ctx<'_>, entity: Value) -> Value {
    let Some(selection) = ctx.query.get("$select") else {
        return entity;
    };
    let wanted: Vec<&str> = selection.split(',').map(str::trim).collect();
    let Value::Object(fields) = entity else {
        return entity;
    };
    Value::Object(
        fields
            .into_iter()
            .filter(|(k, _)| {
                k.starts_with('@') || k == "id" || wanted.iter().any(|w| w.eq_ignore_ascii_case(k))
            })
            .collect(),
    )
}

fn number_option(ctx: &Ctx<'_>, name: &str) -> Result<Option<usize>, GraphError> {
    ctx.query
        .get(name)
        .map(|v| {
            v.trim().parse::<usize>().map_err(|_| {
                GraphError::bad_request(format!("Invalid value '{v}' for query option '{name}'."))
            })
        })
        .transpose()
}

fn next_link(ctx: &Ctx<'_>, skip: usize) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(ctx.uri.query().unwrap_or_default().as_bytes()) {
        if !k.eq_ignore_ascii_case("$skip") {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("$skip", &skip.to_string());
    ctx.absolute(&format!("{}?{}", ctx.uri.path(), query.finish()))
}

/// `$orderby=prop [asc|desc]` on one top-level property.
fn order(items: &mut [Value], orderby: &str) -> Result<(), GraphError> {
    let mut parts = orderby.split_whitespace();
    let property = parts.next().unwrap_or_default().to_owned();
    let descending = match parts.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "Invalid $orderby direction '{other}'."
            )));
        }
    };
    if property.is_empty() || orderby.contains(',') {
        return Err(GraphError::bad_request(format!(
            "Unsupported $orderby expression '{orderby}'."
        )));
    }
    items.sort_by(|a, b| {
        let ordering = filter::compare(&a[&property], &b[&property]).unwrap_or(Ordering::Equal);
        if descending {
            ordering.reverse()
        } else {
            ordering
        }
    });
    Ok(())
}

/// A small OData `$filter` evaluator for the forms the CA docs show (§5.1): `isof('type')`,
/// `prop op literal` (`eq`, `ne`, `gt`, `ge`, `lt`, `le`; strings, booleans, null, numbers,
/// date-times), `startswith(prop,'x')`, `[cast/]collection/any(c: c eq 'x')`, joined by `and`
/// / `or` (no parentheses). Anything else is Graph's 400 for an unsupported filter (§8.1).
pub(super) mod filter {
    use super::*;

    pub(in crate::graph) enum Expr {
        Or(Vec<Expr>),
        And(Vec<Expr>),
        IsOf(String),
        Compare(String, String, Value),
        StartsWith(String, String),
        Any(String, String),
    }

    pub(in crate::graph) fn parse(text: &str) -> Result<Expr, GraphError> {
        let alternatives = split_keyword(text, "or")
            .into_iter()
            .map(|part| {
                split_keyword(part, "and")
                    .into_iter()
                    .map(clause)
                    .collect::<Result<Vec<_>, _>>()
                    .map(Expr::And)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Expr::Or(alternatives))
    }

    impl Expr {
        pub(in crate::graph) fn matches(&self, item: &Value) -> bool {
            match self {
                Expr::Or(parts) => parts.iter().any(|p| p.matches(item)),
                Expr::And(parts) => parts.iter().all(|p| p.matches(item)),
                Expr::IsOf(type_name) => item["@odata.type"]
                    .as_str()
                    .is_some_and(|t| t.trim_start_matches('#').eq_ignore_ascii_case(type_name)),
                Expr::Compare(path, op, literal) => {
                    let Some(value) = resolve(item, path) else {
                        return false;
                    };
                    let ordering = compare(value, literal);
                    match op.as_str() {
                        "eq" => ordering == Some(Ordering::Equal),
                        "ne" => ordering != Some(Ordering::Equal),
                        "gt" => ordering == Some(Ordering::Greater),
                        "ge" => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
                        "lt" => ordering == Some(Ordering::Less),
                        "le" => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
                        _ => false,
                    }
                }
                Expr::StartsWith(path, prefix) => resolve(item, path)
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.to_lowercase().starts_with(&prefix.to_lowercase())),
                Expr::Any(path, wanted) => resolve(item, path)
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(wanted.as_str()))),
            }
        }
    }

    /// Strings compare case-insensitively (as Graph's `eq` on strings does), date-times by
    /// instant, numbers numerically; unlike kinds do not compare.
    pub(in crate::graph) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
        match (a, b) {
            (Value::String(x), Value::String(y)) => {
                match (
                    OffsetDateTime::parse(x, &Rfc3339),
                    OffsetDateTime::parse(y, &Rfc3339),
                ) {
                    (Ok(x), Ok(y)) => Some(x.cmp(&y)),
                    _ => Some(x.to_lowercase().cmp(&y.to_lowercase())),
                }
            }
            (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
            (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
            (Value::Null, Value::Null) => Some(Ordering::Equal),
            (Value::Null, _) => Some(Ordering::Less),
            (_, Value::Null) => Some(Ordering::Greater),
            _ => None,
        }
    }

    /// `a/b/c`; a `microsoft.graph.T` segment is a type cast that the item must satisfy.
    fn resolve<'v>(item: &'v Value, path: &str) -> Option<&'v Value> {
        let mut current = item;
        for segment in path.split('/') {
            if let Some(type_name) = segment.strip_prefix("microsoft.graph.") {
                let actual = current["@odata.type"].as_str().unwrap_or_default();
                if !actual
                    .trim_start_matches("#microsoft.graph.")
                    .eq_ignore_ascii_case(type_name)
                {
                    return None;
                }
                continue;
            }
            current = current.get(segment)?;
        }
        Some(current)
    }

    fn clause(text: &str) -> Result<Expr, GraphError> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if let Some(inner) = call_arguments(text, &lower, "isof") {
            return Ok(Expr::IsOf(
                string_literal(inner)?.trim_start_matches('#').to_owned(),
            ));
        }
        if let Some(inner) = call_arguments(text, &lower, "startswith") {
            let (path, literal) = inner.split_once(',').ok_or_else(|| invalid(text))?;
            return Ok(Expr::StartsWith(
                path.trim().to_owned(),
                string_literal(literal)?,
            ));
        }
        if let Some(at) = lower.find("/any(") {
            let path = text[..at].trim().to_owned();
            let lambda = text[at + 5..]
                .strip_suffix(')')
                .ok_or_else(|| invalid(text))?;
            let (variable, body) = lambda.split_once(':').ok_or_else(|| invalid(text))?;
            let mut words = body.split_whitespace();
            let (Some(v), Some(op), Some(literal), None) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                return Err(invalid(text));
            };
            if v != variable.trim() || !op.eq_ignore_ascii_case("eq") {
                return Err(invalid(text));
            }
            return Ok(Expr::Any(path, string_literal(literal)?));
        }
        let mut words = text.splitn(3, ' ');
        let (Some(path), Some(op), Some(literal)) = (words.next(), words.next(), words.next())
        else {
            return Err(invalid(text));
        };
        let op = op.to_ascii_lowercase();
        if !["eq", "ne", "gt", "ge", "lt", "le"].contains(&op.as_str()) {
            return Err(invalid(text));
        }
        Ok(Expr::Compare(
            path.to_owned(),
            op,
            literal_value(literal.trim())?,
        ))
    }

    fn call_arguments<'t>(text: &'t str, lower: &str, name: &str) -> Option<&'t str> {
        let rest = lower.strip_prefix(name)?.trim_start();
        if !rest.starts_with('(') || !rest.ends_with(')') {
            return None;
        }
        let open = text.find('(')?;
        Some(&text[open + 1..text.len() - 1])
    }

    fn literal_value(text: &str) -> Result<Value, GraphError> {
        if text.starts_with('\'') {
            return Ok(json!(string_literal(text)?));
        }
        match text {
            "true" => Ok(json!(true)),
            "false" => Ok(json!(false)),
            "null" => Ok(Value::Null),
            _ if OffsetDateTime::parse(text, &Rfc3339).is_ok() => Ok(json!(text)),
            _ => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| invalid(text)),
        }
    }

    /// `'it''s'` → `it's`.
    fn string_literal(text: &str) -> Result<String, GraphError> {
        let text = text.trim();
        text.strip_prefix('\'')
            .and_then(|t| t.strip_suffix('\''))
            .map(|t| t.replace("''", "'"))
            .ok_or_else(|| invalid(text))
    }

    /// Splits on ` keyword ` outside quoted literals, case-insensitively.
    fn split_keyword<'t>(text: &'t str, keyword: &str) -> Vec<&'t str> {
        let needle = format!(" {keyword} ");
        let lower = text.to_ascii_lowercase();
        let mut parts = Vec::new();
        let (mut start, mut in_quotes) = (0, false);
        let bytes = lower.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                in_quotes = !in_quotes;
            } else if !in_quotes && lower[i..].starts_with(&needle) {
                parts.push(&text[start..i]);
                i += needle.len();
                start = i;
                continue;
            }
            i += 1;
        }
        parts.push(&text[start..]);
        parts
    }

    fn invalid(text: &str) -> GraphError {
        GraphError::bad_request(format!("Invalid filter clause: '{text}' is not supported."))
    }
}
