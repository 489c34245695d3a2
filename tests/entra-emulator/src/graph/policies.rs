//! `policies/authenticationMethodsPolicy` (the policy, and one method configuration at a time)
//! and `policies/authorizationPolicy`, read and write (graph-api.md §1, §2.1).
//!
//! Writes validate the whole body before touching state, so a 400 leaves the tenant unchanged.
//! Bodies are checked against small hand-written shapes taken from the CSDL: an unknown property,
//! a wrong JSON type or an unknown enum member is Graph's 400 `BadRequest`.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use time::{OffsetDateTime, macros::format_description};

use super::{Access, Ctx, GraphError, Reply, Route, Version, with_context};

const READ_METHODS_POLICY: &[&str] = &[
    "Policy.Read.AuthenticationMethod",
    "Policy.ReadWrite.AuthenticationMethod",
    "Policy.Read.All",
];
const WRITE_METHODS_POLICY: &[&str] = &["Policy.ReadWrite.AuthenticationMethod"];
const READ_AUTHORIZATION_POLICY: &[&str] = &["Policy.Read.All", "Policy.ReadWrite.Authorization"];
const WRITE_AUTHORIZATION_POLICY: &[&str] = &["Policy.ReadWrite.Authorization"];

const CONFIGURATION: &str =
    "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}";

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "policies/authenticationMethodsPolicy",
            Access::Any(READ_METHODS_POLICY),
            get_methods_policy,
        ),
        Route::new(
            Method::PATCH,
            "policies/authenticationMethodsPolicy",
            Access::Any(WRITE_METHODS_POLICY),
            patch_methods_policy,
        ),
        Route::new(
            Method::GET,
            CONFIGURATION,
            Access::Any(READ_METHODS_POLICY),
            get_configuration,
        ),
        Route::new(
            Method::PATCH,
            CONFIGURATION,
            Access::Any(WRITE_METHODS_POLICY),
            patch_configuration,
        ),
        Route::new(
            Method::DELETE,
            CONFIGURATION,
            Access::Any(WRITE_METHODS_POLICY),
            delete_configuration,
        ),
        Route::new(
            Method::GET,
            "policies/authorizationPolicy",
            Access::Any(READ_AUTHORIZATION_POLICY),
            get_authorization_policy,
        ),
        Route::new(
            Method::PATCH,
            "policies/authorizationPolicy",
            Access::Any(WRITE_AUTHORIZATION_POLICY),
            patch_authorization_policy,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Body shapes: a tiny schema language, just enough to reject what Graph rejects.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Kind {
    Bool {
        nullable: bool,
    },
    Int {
        nullable: bool,
        min: i64,
        max: i64,
    },
    Str {
        nullable: bool,
    },
    Enum(&'static str, &'static [&'static str]),
    StrList,
    /// A guid string, or null.
    Guid,
    Object(&'static Shape),
    List(&'static Shape),
    /// A complex value kept verbatim; only its JSON kind is checked.
    AnyObject,
    AnyList,
}

/// A complex or entity type: its name (for messages) and its settable properties.
struct Shape {
    type_name: &'static str,
    fields: &'static [(&'static str, Kind)],
    /// Non-nullable properties a new value must carry (target lists elements, mostly).
    required: &'static [&'static str],
}

const INT32: Kind = Kind::Int {
    nullable: false,
    min: i32::MIN as i64,
    max: i32::MAX as i64,
};
const BOOL: Kind = Kind::Bool { nullable: false };
const ADVANCED_CONFIG_STATE: Kind =
    Kind::Enum("advancedConfigState", &["default", "enabled", "disabled"]);
const TARGET_TYPE: Kind = Kind::Enum("authenticationMethodTargetType", &["user", "group"]);
const METHOD_STATE: Kind = Kind::Enum("authenticationMethodState", &["enabled", "disabled"]);

static EXCLUDE_TARGET: Shape = Shape {
    type_name: "excludeTarget",
    fields: &[
        ("id", Kind::Str { nullable: false }),
        ("targetType", TARGET_TYPE),
    ],
    required: &["id", "targetType"],
};
static INCLUDE_TARGET: Shape = Shape {
    type_name: "includeTarget",
    fields: &[
        ("id", Kind::Str { nullable: false }),
        ("targetType", TARGET_TYPE),
    ],
    required: &["id", "targetType"],
};
static CAMPAIGN_INCLUDE_TARGET: Shape = Shape {
    type_name: "authenticationMethodsRegistrationCampaignIncludeTarget",
    fields: &[
        ("id", Kind::Str { nullable: false }),
        ("targetType", TARGET_TYPE),
        // The only documented value; Graph rejects others (graph-api.md §1.3).
        (
            "targetedAuthenticationMethod",
            Kind::Enum("targetedAuthenticationMethod", &["microsoftAuthenticator"]),
        ),
    ],
    required: &["id", "targetType"],
};
static CAMPAIGN: Shape = Shape {
    type_name: "authenticationMethodsRegistrationCampaign",
    fields: &[
        (
            "snoozeDurationInDays",
            Kind::Int {
                nullable: false,
                min: 0,
                max: 14,
            },
        ),
        ("enforceRegistrationAfterAllowedSnoozes", BOOL),
        ("state", ADVANCED_CONFIG_STATE),
        ("includeTargets", Kind::List(&CAMPAIGN_INCLUDE_TARGET)),
        ("excludeTargets", Kind::List(&EXCLUDE_TARGET)),
    ],
    required: &[],
};
static REGISTRATION_ENFORCEMENT: Shape = Shape {
    type_name: "registrationEnforcement",
    fields: &[(
        "authenticationMethodsRegistrationCampaign",
        Kind::Object(&CAMPAIGN),
    )],
    required: &[],
};
static REPORT_SUSPICIOUS_ACTIVITY: Shape = Shape {
    type_name: "reportSuspiciousActivitySettings",
    fields: &[
        ("state", ADVANCED_CONFIG_STATE),
        ("includeTarget", Kind::Object(&INCLUDE_TARGET)),
        (
            "voiceReportingCode",
            Kind::Int {
                nullable: true,
                min: 0,
                max: 9,
            },
        ),
    ],
    required: &[],
};
static SYSTEM_CREDENTIAL_PREFERENCES: Shape = Shape {
    type_name: "systemCredentialPreferences",
    fields: &[
        ("state", ADVANCED_CONFIG_STATE),
        ("includeTargets", Kind::List(&INCLUDE_TARGET)),
        ("excludeTargets", Kind::List(&EXCLUDE_TARGET)),
    ],
    required: &[],
};
static ENFORCE_APP_PIN: Shape = Shape {
    type_name: "enforceAppPIN",
    fields: &[
        ("includeTargets", Kind::List(&INCLUDE_TARGET)),
        ("excludeTargets", Kind::List(&EXCLUDE_TARGET)),
    ],
    required: &[],
};
static AUTHENTICATOR_PLATFORM_SETTINGS: Shape = Shape {
    type_name: "microsoftAuthenticatorPlatformSettings",
    fields: &[("enforceAppPIN", Kind::Object(&ENFORCE_APP_PIN))],
    required: &[],
};

/// Top-level writable properties of the methods policy per version (graph-api.md §1.2).
const POLICY_FIELDS_V1: &[(&str, Kind)] = &[
    (
        "policyMigrationState",
        Kind::Enum(
            "authenticationMethodsPolicyMigrationState",
            &["preMigration", "migrationInProgress", "migrationComplete"],
        ),
    ),
    (
        "reconfirmationInDays",
        Kind::Int {
            nullable: true,
            min: i32::MIN as i64,
            max: i32::MAX as i64,
        },
    ),
    (
        "registrationEnforcement",
        Kind::Object(&REGISTRATION_ENFORCEMENT),
    ),
];
const POLICY_FIELDS_BETA: &[(&str, Kind)] = &[
    (
        "reportSuspiciousActivitySettings",
        Kind::Object(&REPORT_SUSPICIOUS_ACTIVITY),
    ),
    (
        "systemCredentialPreferences",
        Kind::Object(&SYSTEM_CREDENTIAL_PREFERENCES),
    ),
    (
        "microsoftAuthenticatorPlatformSettings",
        Kind::Object(&AUTHENTICATOR_PLATFORM_SETTINGS),
    ),
];
const POLICY_READ_ONLY: &[&str] = &[
    "id",
    "displayName",
    "description",
    "lastModifiedDateTime",
    "policyVersion",
];

fn unknown_property(name: &str, type_name: &str) -> GraphError {
    GraphError::bad_request(format!(
        "The property '{name}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to \
         only use property names that are defined by the type or mark the type as open type."
    ))
}

fn read_only(name: &str, type_name: &str) -> GraphError {
    GraphError::bad_request(format!(
        "Property '{name}' on type 'microsoft.graph.{type_name}' is read-only and cannot be set."
    ))
}

fn wrong_type(name: &str, expected: &str, got: &Value) -> GraphError {
    GraphError::bad_request(format!(
        "Invalid value for property '{name}': cannot convert {got} to the expected type '{expected}'."
    ))
}

/// Instance annotations (`@odata.type`, `x@odata.context`) are not properties.
fn is_annotation(key: &str) -> bool {
    key.contains('@')
}

fn check(name: &str, kind: Kind, value: &Value) -> Result<(), GraphError> {
    let ok = match (kind, value) {
        (Kind::Bool { nullable }, Value::Null)
        | (Kind::Int { nullable, .. }, Value::Null)
        | (Kind::Str { nullable }, Value::Null) => nullable,
        (Kind::Guid, Value::Null) => true,
        (Kind::Bool { .. }, v) => v.is_boolean(),
        (Kind::Int { min, max, .. }, v) => {
            let Some(n) = v.as_i64() else {
                return Err(wrong_type(name, "Edm.Int32", v));
            };
            if n < min || n > max {
                return Err(GraphError::bad_request(format!(
                    "Invalid value for property '{name}': {n} is outside the allowed range {min} to {max}."
                )));
            }
            true
        }
        (Kind::Str { .. }, v) => v.is_string(),
        (Kind::Guid, v) => v.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok()),
        (Kind::Enum(type_name, members), v) => {
            return match v.as_str() {
                Some(s) if members.contains(&s) => Ok(()),
                _ => Err(GraphError::bad_request(format!(
                    "Invalid value {v} for property '{name}' of type 'microsoft.graph.{type_name}'. \
                     Allowed values: {}.",
                    members.join(", ")
                ))),
            };
        }
        (Kind::StrList, v) => v
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string)),
        (Kind::Object(shape), v) => {
            if !v.is_object() {
                return Err(wrong_type(name, &complex(shape.type_name), v));
            }
            return check_object(shape, v);
        }
        (Kind::List(shape), v) => {
            let Some(items) = v.as_array() else {
                return Err(wrong_type(
                    name,
                    &format!("Collection({})", complex(shape.type_name)),
                    v,
                ));
            };
            for item in items {
                if !item.is_object() {
                    return Err(wrong_type(name, &complex(shape.type_name), item));
                }
                check_object(shape, item)?;
            }
            true
        }
        (Kind::AnyObject, v) => v.is_object(),
        (Kind::AnyList, v) => v.is_array(),
    };
    if ok {
        Ok(())
    } else {
        Err(wrong_type(name, edm_name(kind), value))
    }
}

fn complex(type_name: &str) -> String {
    format!("microsoft.graph.{type_name}")
}

fn edm_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Bool { .. } => "Edm.Boolean",
        Kind::Int { .. } => "Edm.Int32",
        Kind::Str { .. } | Kind::Enum(..) => "Edm.String",
        Kind::Guid => "Edm.Guid",
        Kind::StrList => "Collection(Edm.String)",
        Kind::Object(_) | Kind::AnyObject => "a complex type",
        Kind::List(_) | Kind::AnyList => "a collection",
    }
}

fn check_object(shape: &Shape, value: &Value) -> Result<(), GraphError> {
    let Some(fields) = value.as_object() else {
        return Err(wrong_type(
            shape.type_name,
            &complex(shape.type_name),
            value,
        ));
    };
    for (key, v) in fields.iter().filter(|(k, _)| !is_annotation(k)) {
        let (_, kind) = shape
            .fields
            .iter()
            .find(|(name, _)| name == key)
            .ok_or_else(|| unknown_property(key, shape.type_name))?;
        check(key, *kind, v)?;
    }
    for required in shape.required {
        if fields.get(*required).is_none_or(Value::is_null) {
            return Err(GraphError::bad_request(format!(
                "The property '{required}' of type 'microsoft.graph.{}' is required and cannot be null.",
                shape.type_name
            )));
        }
    }
    Ok(())
}

/// `lastModifiedDateTime` as the policy service writes it: seven fractional digits, `Z`.
fn now_timestamp() -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z");
    OffsetDateTime::now_utc().format(format).unwrap_or_default()
}

/// Stored annotations name v1.0; a beta response must name beta.
fn for_version(entity: &Value, version: Version) -> Value {
    let mut out = entity.clone();
    if version == Version::V1 {
        return out;
    }
    if let Some(fields) = out.as_object_mut() {
        for (key, value) in fields.iter_mut() {
            if key.ends_with("@odata.context")
                && let Some(s) = value.as_str()
            {
                *value = Value::String(s.replacen(
                    "https://graph.microsoft.com/v1.0/",
                    "https://graph.microsoft.com/beta/",
                    1,
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The methods policy.
// ---------------------------------------------------------------------------------------------

/// The policy as served on `version`: v1.0 does not declare the beta-only top-level properties
/// (graph-api.md §1.2), so a beta PATCH does not leak them into v1.0 responses.
fn render_policy(policy: &Value, version: Version) -> Value {
    let mut out = for_version(policy, version);
    if version == Version::V1
        && let Some(fields) = out.as_object_mut()
    {
        for (name, _) in POLICY_FIELDS_BETA {
            fields.remove(*name);
        }
    }
    if let Some(configs) = out
        .get_mut("authenticationMethodConfigurations")
        .and_then(Value::as_array_mut)
    {
        for config in configs.iter_mut() {
            *config = for_version(config, version);
        }
    }
    with_context(
        &out,
        format!("{}#authenticationMethodsPolicy", version.metadata()),
    )
}

fn get_methods_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    Ok(Reply::Ok(render_policy(
        &tenant.authentication_methods_policy,
        ctx.version,
    )))
}

fn policy_field(version: Version, key: &str) -> Option<Kind> {
    let beta: &[(&str, Kind)] = if version == Version::Beta {
        POLICY_FIELDS_BETA
    } else {
        &[]
    };
    POLICY_FIELDS_V1
        .iter()
        .chain(beta)
        .find(|(name, _)| *name == key)
        .map(|(_, kind)| *kind)
}

/// Validates a policy PATCH body against the current policy; returns the properties to set.
fn validate_policy_patch(
    body: &Value,
    current: &Value,
    version: Version,
) -> Result<Map<String, Value>, GraphError> {
    const TYPE: &str = "authenticationMethodsPolicy";
    let mut changes = Map::new();
    for (key, value) in body.as_object().into_iter().flatten() {
        if key == "@odata.type" {
            check_type_annotation(value, TYPE)?;
            continue;
        }
        if is_annotation(key) {
            continue;
        }
        if POLICY_READ_ONLY.contains(&key.as_str()) {
            return Err(read_only(key, TYPE));
        }
        if key == "authenticationMethodConfigurations" {
            return Err(GraphError::bad_request(
                "Navigation property 'authenticationMethodConfigurations' cannot be updated here; \
                 PATCH policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}.",
            ));
        }
        let kind = policy_field(version, key).ok_or_else(|| unknown_property(key, TYPE))?;
        check(key, kind, value)?;
        changes.insert(key.clone(), value.clone());
    }
    check_migration_rollback(current, &changes)?;
    Ok(changes)
}

/// Once a tenant has started migrating it cannot go back to `preMigration` (graph-api.md §1.8).
fn check_migration_rollback(
    current: &Value,
    changes: &Map<String, Value>,
) -> Result<(), GraphError> {
    let from = current["policyMigrationState"].as_str().unwrap_or_default();
    let to = changes
        .get("policyMigrationState")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if to == "preMigration" && matches!(from, "migrationInProgress" | "migrationComplete") {
        return Err(GraphError::bad_request(format!(
            "The policyMigrationState cannot be changed from '{from}' to 'preMigration': a tenant \
             that has started migrating cannot go back to the pre-migration state."
        )));
    }
    Ok(())
}

fn check_type_annotation(value: &Value, type_name: &str) -> Result<(), GraphError> {
    let wanted = format!("#microsoft.graph.{type_name}");
    if value.as_str().is_some_and(|t| same_type(t, &wanted)) {
        Ok(())
    } else {
        Err(GraphError::bad_request(format!(
            "The '@odata.type' {value} does not match the resource type '{wanted}'."
        )))
    }
}

/// OData accepts the type name with or without the leading `#`.
fn same_type(given: &str, wanted: &str) -> bool {
    given
        .trim_start_matches('#')
        .eq_ignore_ascii_case(wanted.trim_start_matches('#'))
}

/// Complex properties are replaced whole; the non-nullable members a client left out get the
/// values Graph fills in, so a GET never shows a null where the schema forbids one.
fn with_policy_defaults(key: &str, mut value: Value) -> Value {
    if key == "registrationEnforcement"
        && let Some(campaign) = value
            .get_mut("authenticationMethodsRegistrationCampaign")
            .and_then(Value::as_object_mut)
    {
        for (name, default) in [
            ("snoozeDurationInDays", json!(1)),
            ("enforceRegistrationAfterAllowedSnoozes", json!(true)),
            ("state", json!("default")),
            ("includeTargets", json!([])),
            ("excludeTargets", json!([])),
        ] {
            if campaign.get(name).is_none_or(Value::is_null) {
                campaign.insert(name.into(), default);
            }
        }
    }
    value
}

fn patch_methods_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let body = ctx.body()?;
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    let policy = &mut tenant.authentication_methods_policy;
    let changes = validate_policy_patch(body, policy, ctx.version)?;
    for (key, value) in changes {
        policy[key.as_str()] = with_policy_defaults(&key, value);
    }
    policy["lastModifiedDateTime"] = json!(now_timestamp());
    // The doc example answers 200 with the updated policy (graph-api.md §1.1).
    Ok(Reply::Ok(render_policy(policy, ctx.version)))
}

// ---------------------------------------------------------------------------------------------
// One method configuration.
// ---------------------------------------------------------------------------------------------

/// What a method configuration type allows beyond the common `id`/`state`/targets.
struct MethodType {
    type_name: &'static str,
    fields: &'static [(&'static str, Kind)],
    /// Extra members of its `includeTargets` elements, with the value Graph fills in.
    target_fields: &'static [TargetField],
}

/// A member of a method's `includeTargets` elements: name, kind, the value Graph fills in.
type TargetField = (&'static str, Kind, fn() -> Value);

static FEATURE_TARGET: Shape = Shape {
    type_name: "featureTarget",
    fields: &[
        ("id", Kind::Str { nullable: false }),
        (
            "targetType",
            Kind::Enum(
                "featureTargetType",
                &["group", "administrativeUnit", "role"],
            ),
        ),
    ],
    required: &["id", "targetType"],
};
static FEATURE_CONFIGURATION: Shape = Shape {
    type_name: "authenticationMethodFeatureConfiguration",
    fields: &[
        ("state", ADVANCED_CONFIG_STATE),
        ("includeTarget", Kind::Object(&FEATURE_TARGET)),
        ("excludeTarget", Kind::Object(&FEATURE_TARGET)),
    ],
    required: &[],
};
static AUTHENTICATOR_FEATURES: Shape = Shape {
    type_name: "microsoftAuthenticatorFeatureSettings",
    fields: &[
        (
            "displayAppInformationRequiredState",
            Kind::Object(&FEATURE_CONFIGURATION),
        ),
        (
            "displayLocationInformationRequiredState",
            Kind::Object(&FEATURE_CONFIGURATION),
        ),
        // beta members; live v1.0 also shows them (graph-api.md §1.6).
        (
            "numberMatchingRequiredState",
            Kind::Object(&FEATURE_CONFIGURATION),
        ),
        (
            "companionAppAllowedState",
            Kind::Object(&FEATURE_CONFIGURATION),
        ),
    ],
    required: &[],
};
static KEY_RESTRICTIONS: Shape = Shape {
    type_name: "fido2KeyRestrictions",
    fields: &[
        ("isEnforced", BOOL),
        (
            "enforcementType",
            Kind::Enum("fido2RestrictionEnforcementType", &["allow", "block"]),
        ),
        ("aaGuids", Kind::StrList),
    ],
    required: &[],
};
const TAP_MINUTES: Kind = Kind::Int {
    nullable: false,
    min: 10,
    max: 43_200,
};

static METHOD_TYPES: &[MethodType] = &[
    MethodType {
        type_name: "microsoftAuthenticatorAuthenticationMethodConfiguration",
        fields: &[
            ("isSoftwareOathEnabled", BOOL),
            ("featureSettings", Kind::Object(&AUTHENTICATOR_FEATURES)),
        ],
        target_fields: &[(
            "authenticationMode",
            Kind::Enum(
                "microsoftAuthenticatorAuthenticationMode",
                &["deviceBasedPush", "push", "any"],
            ),
            || json!("any"),
        )],
    },
    MethodType {
        type_name: "smsAuthenticationMethodConfiguration",
        fields: &[],
        // Graph's default: SMS sign-in allowed unless turned off.
        target_fields: &[("isUsableForSignIn", BOOL, || json!(true))],
    },
    MethodType {
        type_name: "voiceAuthenticationMethodConfiguration",
        fields: &[
            ("isOfficePhoneAllowed", BOOL),
            ("callerIdNumber", Kind::Str { nullable: true }),
            ("isCustomGreetingEnabled", BOOL),
        ],
        target_fields: &[],
    },
    MethodType {
        type_name: "emailAuthenticationMethodConfiguration",
        fields: &[(
            "allowExternalIdToUseEmailOtp",
            Kind::Enum("externalEmailOtpState", &["default", "enabled", "disabled"]),
        )],
        target_fields: &[],
    },
    MethodType {
        type_name: "softwareOathAuthenticationMethodConfiguration",
        fields: &[],
        target_fields: &[],
    },
    MethodType {
        type_name: "hardwareOathAuthenticationMethodConfiguration",
        fields: &[],
        target_fields: &[],
    },
    MethodType {
        type_name: "fido2AuthenticationMethodConfiguration",
        fields: &[
            ("isAttestationEnforced", BOOL),
            ("isSelfServiceRegistrationAllowed", BOOL),
            ("keyRestrictions", Kind::Object(&KEY_RESTRICTIONS)),
            ("defaultPasskeyProfile", Kind::Str { nullable: true }),
        ],
        target_fields: &[("allowedPasskeyProfiles", Kind::StrList, || json!([]))],
    },
    MethodType {
        type_name: "temporaryAccessPassAuthenticationMethodConfiguration",
        // Ranges from the TAP configuration reference: lifetimes 10 min to 30 days, 8–48 chars.
        fields: &[
            ("defaultLifetimeInMinutes", TAP_MINUTES),
            ("minimumLifetimeInMinutes", TAP_MINUTES),
            ("maximumLifetimeInMinutes", TAP_MINUTES),
            (
                "defaultLength",
                Kind::Int {
                    nullable: false,
                    min: 8,
                    max: 48,
                },
            ),
            ("isUsableOnce", BOOL),
        ],
        target_fields: &[],
    },
    MethodType {
        type_name: "x509CertificateAuthenticationMethodConfiguration",
        fields: &[
            ("certificateUserBindings", Kind::AnyList),
            ("authenticationModeConfiguration", Kind::AnyObject),
            ("issuerHintsConfiguration", Kind::AnyObject),
            ("crlValidationConfiguration", Kind::AnyObject),
            ("certificateAuthorityScopes", Kind::AnyList),
        ],
        target_fields: &[],
    },
    MethodType {
        type_name: "qrCodePinAuthenticationMethodConfiguration",
        fields: &[
            ("pinLength", INT32),
            ("standardQRCodeLifetimeInDays", INT32),
        ],
        target_fields: &[],
    },
    MethodType {
        type_name: "externalAuthenticationMethodConfiguration",
        fields: &[
            ("displayName", Kind::Str { nullable: false }),
            ("appId", Kind::Str { nullable: false }),
            ("openIdConnectSetting", Kind::AnyObject),
        ],
        target_fields: &[],
    },
];

/// `microsoft.graph.x` from `#microsoft.graph.x`.
fn short_type(odata_type: &str) -> &str {
    odata_type
        .trim_start_matches('#')
        .trim_start_matches("microsoft.graph.")
}

fn method_type(odata_type: &str) -> Option<&'static MethodType> {
    let short = short_type(odata_type);
    METHOD_TYPES.iter().find(|t| t.type_name == short)
}

fn configurations(policy: &Value) -> &[Value] {
    policy["authenticationMethodConfigurations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn configuration_index(policy: &Value, id: &str) -> Result<usize, GraphError> {
    configurations(policy)
        .iter()
        .position(|c| c["id"].as_str().is_some_and(|c| c.eq_ignore_ascii_case(id)))
        .ok_or_else(|| {
            // Exact code for this endpoint is UNVERIFIED (graph-api.md §8.1); Graph's generic
            // not-found code is used.
            GraphError::not_found(
                "itemNotFound",
                format!("The authentication method configuration '{id}' was not found."),
            )
        })
}

fn configuration_context(version: Version) -> String {
    format!(
        "{}#policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity",
        version.metadata()
    )
}

fn get_configuration(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let policy = &tenant.authentication_methods_policy;
    let config = &configurations(policy)[configuration_index(policy, ctx.param(0))?];
    Ok(Reply::Ok(with_context(
        &for_version(config, ctx.version),
        configuration_context(ctx.version),
    )))
}

/// The kind a property of `current` may be set to: the type's table, else (for properties the
/// tables do not know, e.g. newer ones in the seed) the JSON kind of the stored value.
fn method_field(
    method: Option<&MethodType>,
    current: &Value,
    key: &str,
    type_name: &str,
) -> Result<Kind, GraphError> {
    if let Some(kind) = method
        .and_then(|m| m.fields.iter().find(|(name, _)| *name == key))
        .map(|(_, kind)| *kind)
    {
        return Ok(kind);
    }
    match current.get(key) {
        Some(Value::Bool(_)) => Ok(Kind::Bool { nullable: true }),
        Some(Value::Number(_)) => Ok(Kind::Int {
            nullable: true,
            min: i64::MIN,
            max: i64::MAX,
        }),
        Some(Value::String(_)) => Ok(Kind::Str { nullable: true }),
        Some(Value::Array(_)) => Ok(Kind::AnyList),
        Some(Value::Object(_)) => Ok(Kind::AnyObject),
        Some(Value::Null) => Ok(Kind::Str { nullable: true }),
        None => Err(unknown_property(key, short_type(type_name))),
    }
}

fn check_include_targets(method: Option<&MethodType>, value: &Value) -> Result<(), GraphError> {
    let Some(items) = value.as_array() else {
        return Err(wrong_type(
            "includeTargets",
            "Collection(microsoft.graph.authenticationMethodTarget)",
            value,
        ));
    };
    let extra = method.map(|m| m.target_fields).unwrap_or_default();
    for item in items {
        let Some(fields) = item.as_object() else {
            return Err(wrong_type(
                "includeTargets",
                "microsoft.graph.authenticationMethodTarget",
                item,
            ));
        };
        for (key, v) in fields.iter().filter(|(k, _)| !is_annotation(k)) {
            let kind = match key.as_str() {
                "id" => Kind::Str { nullable: false },
                "targetType" => TARGET_TYPE,
                "isRegistrationRequired" => BOOL,
                other => extra
                    .iter()
                    .find(|(name, ..)| *name == other)
                    .map(|(_, kind, _)| *kind)
                    .ok_or_else(|| unknown_property(key, "authenticationMethodTarget"))?,
            };
            check(key, kind, v)?;
        }
        for required in ["id", "targetType"] {
            if fields.get(required).is_none_or(Value::is_null) {
                return Err(GraphError::bad_request(format!(
                    "The property '{required}' of type 'microsoft.graph.authenticationMethodTarget' \
                     is required and cannot be null."
                )));
            }
        }
    }
    Ok(())
}

/// Targets are entities with non-null members; fill what the client left out.
fn include_targets_with_defaults(method: Option<&MethodType>, value: &Value) -> Value {
    let extra = method.map(|m| m.target_fields).unwrap_or_default();
    let items = value.as_array().cloned().unwrap_or_default();
    Value::Array(
        items
            .into_iter()
            .map(|mut item| {
                if let Some(fields) = item.as_object_mut() {
                    fields
                        .entry("isRegistrationRequired")
                        .or_insert(json!(false));
                    for (name, _, default) in extra {
                        fields.entry(*name).or_insert_with(default);
                    }
                }
                item
            })
            .collect(),
    )
}

/// Validates a configuration PATCH body; returns the properties to set.
fn validate_configuration_patch(
    body: &Value,
    current: &Value,
) -> Result<Map<String, Value>, GraphError> {
    let stored_type = current["@odata.type"].as_str().unwrap_or_default();
    let id = current["id"].as_str().unwrap_or_default();
    match body.get("@odata.type") {
        None => {
            return Err(GraphError::bad_request(format!(
                "The request body must carry '@odata.type' naming the configuration's type \
                 ('{stored_type}')."
            )));
        }
        Some(given) if !given.as_str().is_some_and(|t| same_type(t, stored_type)) => {
            return Err(GraphError::bad_request(format!(
                "The '@odata.type' {given} does not match the type of authentication method \
                 configuration '{id}' ('{stored_type}')."
            )));
        }
        Some(_) => {}
    }
    let method = method_type(stored_type);
    let mut changes = Map::new();
    for (key, value) in body.as_object().into_iter().flatten() {
        if is_annotation(key) {
            continue;
        }
        match key.as_str() {
            "id" => {
                if !value.as_str().is_some_and(|v| v.eq_ignore_ascii_case(id)) {
                    return Err(read_only("id", short_type(stored_type)));
                }
                continue;
            }
            "state" => check(key, METHOD_STATE, value)?,
            "excludeTargets" => check(key, Kind::List(&EXCLUDE_TARGET), value)?,
            "includeTargets" => {
                check_include_targets(method, value)?;
                changes.insert(key.clone(), include_targets_with_defaults(method, value));
                continue;
            }
            _ => check(key, method_field(method, current, key, stored_type)?, value)?,
        }
        changes.insert(key.clone(), value.clone());
    }
    check_email_rule(current, &changes)?;
    Ok(changes)
}

/// Email OTP cannot be disabled while external (B2B) users may use it (graph-api.md §1.7).
fn check_email_rule(current: &Value, changes: &Map<String, Value>) -> Result<(), GraphError> {
    let after = |key: &str| changes.get(key).unwrap_or(&current[key]).clone();
    let is_email = current["@odata.type"]
        .as_str()
        .is_some_and(|t| short_type(t) == "emailAuthenticationMethodConfiguration");
    if is_email
        && after("state") == "disabled"
        && after("allowExternalIdToUseEmailOtp") == "enabled"
    {
        return Err(GraphError::bad_request(
            "The Email authentication method cannot be disabled while \
             'allowExternalIdToUseEmailOtp' is 'enabled'.",
        ));
    }
    Ok(())
}

fn patch_configuration(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let body = ctx.body()?;
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    let policy = &mut tenant.authentication_methods_policy;
    let index = configuration_index(policy, ctx.param(0))?;
    let changes = validate_configuration_patch(body, &configurations(policy)[index])?;
    let config = &mut policy["authenticationMethodConfigurations"][index];
    for (key, value) in changes {
        config[key.as_str()] = value;
    }
    policy["lastModifiedDateTime"] = json!(now_timestamp());
    Ok(Reply::NoContent)
}

/// DELETE reverts a built-in method to Microsoft's default configuration; an external
/// authentication method (a tenant-created configuration with a GUID id) is removed.
fn delete_configuration(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    let policy = &mut tenant.authentication_methods_policy;
    let index = configuration_index(policy, ctx.param(0))?;
    let current = configurations(policy)[index].clone();
    let odata_type = current["@odata.type"].as_str().unwrap_or_default();
    let id = current["id"].as_str().unwrap_or_default();
    let Some(list) = policy["authenticationMethodConfigurations"].as_array_mut() else {
        return Err(GraphError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            "The policy has no configuration list.",
        ));
    };
    if short_type(odata_type) == "externalAuthenticationMethodConfiguration" {
        list.remove(index);
    } else {
        list[index] = default_configuration(odata_type, id, &current);
    }
    policy["lastModifiedDateTime"] = json!(now_timestamp());
    Ok(Reply::NoContent)
}

/// Microsoft's out-of-the-box configuration of a built-in method: targeted at all users, every
/// setting at its documented default. Only Microsoft Authenticator is enabled by default.
fn default_configuration(odata_type: &str, id: &str, current: &Value) -> Value {
    let short = short_type(odata_type);
    let state = if short == "microsoftAuthenticatorAuthenticationMethodConfiguration" {
        "enabled"
    } else {
        "disabled"
    };
    let method = method_type(odata_type);
    let target = include_targets_with_defaults(
        method,
        &json!([{ "targetType": "group", "id": "all_users" }]),
    );
    let mut config = json!({
        "@odata.type": format!("#microsoft.graph.{short}"),
        "id": id,
        "state": state,
        "excludeTargets": [],
        "includeTargets@odata.context": format!(
            "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations('{id}')/microsoft.graph.{short}/includeTargets"
        ),
        "includeTargets": target,
    });
    let defaults = method_defaults(short);
    if let (Some(config), Some(defaults)) = (config.as_object_mut(), defaults.as_object()) {
        for (k, v) in defaults {
            config.insert(k.clone(), v.clone());
        }
        // Properties a type table does not know keep their JSON kind but reset to null.
        for (k, v) in current.as_object().into_iter().flatten() {
            if !config.contains_key(k) && !is_annotation(k) {
                config.insert(
                    k.clone(),
                    if v.is_array() { json!([]) } else { Value::Null },
                );
            }
        }
    }
    config
}

fn method_defaults(short_type: &str) -> Value {
    const NOBODY: &str = "00000000-0000-0000-0000-000000000000";
    let feature = json!({
        "state": "default",
        "includeTarget": { "targetType": "group", "id": "all_users" },
        "excludeTarget": { "targetType": "group", "id": NOBODY }
    });
    match short_type {
        "microsoftAuthenticatorAuthenticationMethodConfiguration" => json!({
            "isSoftwareOathEnabled": false,
            "featureSettings": {
                "displayAppInformationRequiredState": feature,
                "displayLocationInformationRequiredState": feature
            }
        }),
        "voiceAuthenticationMethodConfiguration" => json!({ "isOfficePhoneAllowed": false }),
        "emailAuthenticationMethodConfiguration" => {
            json!({ "allowExternalIdToUseEmailOtp": "default" })
        }
        "fido2AuthenticationMethodConfiguration" => json!({
            "isSelfServiceRegistrationAllowed": true,
            "isAttestationEnforced": false,
            "defaultPasskeyProfile": null,
            "keyRestrictions": { "isEnforced": false, "enforcementType": "block", "aaGuids": [] },
            "passkeyProfiles": []
        }),
        "temporaryAccessPassAuthenticationMethodConfiguration" => json!({
            "defaultLifetimeInMinutes": 60,
            "defaultLength": 8,
            "minimumLifetimeInMinutes": 60,
            "maximumLifetimeInMinutes": 480,
            "isUsableOnce": false
        }),
        "x509CertificateAuthenticationMethodConfiguration" => json!({
            "certificateUserBindings": [
                { "x509CertificateField": "PrincipalName", "userProperty": "onPremisesUserPrincipalName", "priority": 1, "trustAffinityLevel": "low" },
                { "x509CertificateField": "RFC822Name", "userProperty": "userPrincipalName", "priority": 2, "trustAffinityLevel": "low" },
                { "x509CertificateField": "SubjectKeyIdentifier", "userProperty": "certificateUserIds", "priority": 3, "trustAffinityLevel": "high" }
            ],
            "authenticationModeConfiguration": {
                "x509CertificateAuthenticationDefaultMode": "x509CertificateSingleFactor",
                "x509CertificateDefaultRequiredAffinityLevel": "low",
                "rules": []
            },
            "issuerHintsConfiguration": { "state": "disabled" },
            "crlValidationConfiguration": { "state": "disabled", "exemptedCertificateAuthoritiesSubjectKeyIdentifiers": [] },
            "certificateAuthorityScopes": []
        }),
        "qrCodePinAuthenticationMethodConfiguration" => {
            json!({ "pinLength": 8, "standardQRCodeLifetimeInDays": 365 })
        }
        _ => json!({}),
    }
}

// ---------------------------------------------------------------------------------------------
// The authorization policy.
// ---------------------------------------------------------------------------------------------

static DEFAULT_USER_ROLE_PERMISSIONS: Shape = Shape {
    type_name: "defaultUserRolePermissions",
    fields: &[
        ("allowedToCreateApps", BOOL),
        ("allowedToCreateSecurityGroups", BOOL),
        ("allowedToCreateTenants", Kind::Bool { nullable: true }),
        (
            "allowedToReadBitlockerKeysForOwnedDevice",
            Kind::Bool { nullable: true },
        ),
        ("allowedToReadOtherUsers", BOOL),
        ("permissionGrantPoliciesAssigned", Kind::StrList),
    ],
    required: &[],
};

/// Writable v1.0 properties of `authorizationPolicy` (graph-api.md §2.1, CSDL).
const AUTHORIZATION_FIELDS: &[(&str, Kind)] = &[
    ("allowedToSignUpEmailBasedSubscriptions", BOOL),
    ("allowedToUseSSPR", BOOL),
    ("allowEmailVerifiedUsersToJoinOrganization", BOOL),
    (
        "allowInvitesFrom",
        Kind::Enum(
            "allowInvitesFrom",
            &[
                "none",
                "adminsAndGuestInviters",
                "adminsGuestInvitersAndAllMembers",
                "everyone",
            ],
        ),
    ),
    (
        "allowUserConsentForRiskyApps",
        Kind::Bool { nullable: true },
    ),
    ("blockMsolPowerShell", Kind::Bool { nullable: true }),
    ("guestUserRoleId", Kind::Guid),
    (
        "defaultUserRolePermissions",
        Kind::Object(&DEFAULT_USER_ROLE_PERMISSIONS),
    ),
];
const AUTHORIZATION_READ_ONLY: &[&str] = &["id", "displayName", "description", "deletedDateTime"];

/// The three role templates Graph accepts for guests: User, Guest User, Restricted Guest User.
const GUEST_ROLE_IDS: &[&str] = &[
    "a0b1b346-4d3e-4e8b-98f8-753987be4970",
    "10dae51f-b6af-4016-8d66-8c2a99b929b3",
    "2af84b1e-32c8-42b7-82bc-daa82404023b",
];

fn get_authorization_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    Ok(Reply::Ok(with_context(
        &tenant.authorization_policy,
        format!(
            "{}#policies/authorizationPolicy/$entity",
            ctx.version.metadata()
        ),
    )))
}

fn validate_authorization_patch(body: &Value) -> Result<Map<String, Value>, GraphError> {
    const TYPE: &str = "authorizationPolicy";
    let mut changes = Map::new();
    for (key, value) in body.as_object().into_iter().flatten() {
        if key == "@odata.type" {
            check_type_annotation(value, TYPE)?;
            continue;
        }
        if is_annotation(key) {
            continue;
        }
        if AUTHORIZATION_READ_ONLY.contains(&key.as_str()) {
            return Err(read_only(key, TYPE));
        }
        let (_, kind) = AUTHORIZATION_FIELDS
            .iter()
            .find(|(name, _)| name == key)
            .ok_or_else(|| unknown_property(key, TYPE))?;
        check(key, *kind, value)?;
        if key == "guestUserRoleId"
            && let Some(id) = value.as_str()
            && !GUEST_ROLE_IDS.iter().any(|g| g.eq_ignore_ascii_case(id))
        {
            return Err(GraphError::bad_request(format!(
                "Invalid value '{id}' for property 'guestUserRoleId': it must be the template id \
                 of the User, Guest User or Restricted Guest User role."
            )));
        }
        changes.insert(key.clone(), value.clone());
    }
    Ok(changes)
}

/// Answers 204. `defaultUserRolePermissions` merges member by member, as the documented
/// example that sends only `allowedToCreateApps` expects.
fn patch_authorization_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let body = ctx.body()?;
    let changes = validate_authorization_patch(body)?;
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    let policy = &mut tenant.authorization_policy;
    for (key, value) in changes {
        match (policy[key.as_str()].as_object_mut(), value) {
            (Some(existing), Value::Object(members)) => existing.extend(members),
            (_, value) => policy[key.as_str()] = value,
        }
    }
    Ok(Reply::NoContent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_reject_unknown_properties_types_and_enum_members() {
        let ok = json!({"authenticationMethodsRegistrationCampaign": {
            "snoozeDurationInDays": 3, "state": "enabled",
            "includeTargets": [{"id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator"}],
            "excludeTargets": []}});
        assert!(check_object(&REGISTRATION_ENFORCEMENT, &ok).is_ok());
        for bad in [
            json!({"authenticationMethodsRegistrationCampaign": {"snoozeDurationInDays": 15}}),
            json!({"authenticationMethodsRegistrationCampaign": {"snoozeDurationInDays": "1"}}),
            json!({"authenticationMethodsRegistrationCampaign": {"state": "on"}}),
            json!({"authenticationMethodsRegistrationCampaign": {"bogus": 1}}),
            json!({"authenticationMethodsRegistrationCampaign": {"excludeTargets": [{"id": "x"}]}}),
            json!({"authenticationMethodsRegistrationCampaign": {"excludeTargets": [{"id": "x", "targetType": "role"}]}}),
        ] {
            assert!(
                check_object(&REGISTRATION_ENFORCEMENT, &bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn defaults_exist_for_every_built_in_type_that_has_settings() {
        let sms = default_configuration(
            "#microsoft.graph.smsAuthenticationMethodConfiguration",
            "Sms",
            &json!({}),
        );
        assert_eq!(sms["state"], "disabled");
        assert_eq!(sms["includeTargets"][0]["isUsableForSignIn"], true);
        let authenticator = default_configuration(
            "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
            "MicrosoftAuthenticator",
            &json!({}),
        );
        assert_eq!(authenticator["state"], "enabled");
        assert_eq!(
            authenticator["includeTargets"][0]["authenticationMode"],
            "any"
        );
    }

    #[test]
    fn timestamps_have_seven_fractional_digits() {
        let ts = now_timestamp();
        assert_eq!(ts.len(), "2026-05-14T09:21:07.4412871Z".len(), "{ts}");
        assert!(ts.ends_with('Z'));
    }
}
