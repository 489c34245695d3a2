//! Intune device configuration, beta only (msp-readiness.md §3b): settings-catalog
//! `deviceManagement/configurationPolicies` with their `settings` and `assignments`, the
//! `assign` action (which replaces the whole assignment set), create and delete; and the device
//! configuration profiles of `deviceManagement/deviceConfigurations` (custom OMA-URI profiles).
//!
//! Graph's Intune API "requires an active Intune license for the tenant". A tenant without one
//! gets `400 BadRequest` "Request not applicable to target tenant." on every route: the answer
//! reported for unlicensed tenants on Intune-backed routes (microsoftgraph/msgraph-beta-sdk-go#198
//! and the Microsoft Q&A thread it links; confidence M, no Microsoft page states the status).

use axum::http::Method;
use serde_json::{Map, Value, json};

use super::{Access, BETA_ONLY, Bucket, Ctx, GraphError, Reply, Route, with_context};
use crate::seed::intune::{self, SETTING_DEFINITION_ID};
use crate::state::{IntuneObject, Tenant};

const READ: &[&str] = &[
    "DeviceManagementConfiguration.Read.All",
    "DeviceManagementConfiguration.ReadWrite.All",
];
const WRITE: &[&str] = &["DeviceManagementConfiguration.ReadWrite.All"];

const POLICIES: &str = "deviceManagement/configurationPolicies";
const PROFILES: &str = "deviceManagement/deviceConfigurations";
/// Intune's page size for these collections without `$top`, and the largest `$top`.
const DEFAULT_PAGE: usize = 25;
const MAX_PAGE: usize = 1000;

/// Properties a client may send on create (`deviceManagementConfigurationPolicy`, beta).
const POLICY_WRITABLE: &[&str] = &[
    "name",
    "description",
    "platforms",
    "technologies",
    "roleScopeTagIds",
    "templateReference",
    "priorityMetaData",
    "disableEntraGroupPolicyAssignment",
    "settings",
];
const PLATFORMS: &[&str] = &[
    "android",
    "androidEnterprise",
    "aosp",
    "iOS",
    "linux",
    "macOS",
    "none",
    "tvOS",
    "visionOS",
    "windows10",
    "windows10X",
];
const TECHNOLOGIES: &[&str] = &[
    "android",
    "appleRemoteManagement",
    "configManager",
    "documentGateway",
    "endpointPrivilegeManagement",
    "enrollment",
    "exchangeOnline",
    "intuneManagementExtension",
    "linuxMdm",
    "mdm",
    "microsoftSense",
    "mobileApplicationManagement",
    "none",
    "thirdParty",
    "windows10XManagement",
    "windowsOsRecovery",
];

pub(crate) fn routes() -> Vec<Route> {
    let route = |method, pattern, access, handler| {
        Route::new(method, pattern, access, handler)
            .versions(BETA_ONLY)
            .bucket(Bucket::Intune)
    };
    vec![
        route(Method::GET, POLICIES, Access::Any(READ), list_policies),
        route(Method::POST, POLICIES, Access::Any(WRITE), create_policy),
        route(
            Method::GET,
            "deviceManagement/configurationPolicies/{id}",
            Access::Any(READ),
            get_policy,
        ),
        route(
            Method::DELETE,
            "deviceManagement/configurationPolicies/{id}",
            Access::Any(WRITE),
            delete_policy,
        ),
        route(
            Method::GET,
            "deviceManagement/configurationPolicies/{id}/settings",
            Access::Any(READ),
            policy_settings,
        ),
        route(
            Method::GET,
            "deviceManagement/configurationPolicies/{id}/assignments",
            Access::Any(READ),
            policy_assignments,
        ),
        route(
            Method::POST,
            "deviceManagement/configurationPolicies/{id}/assign",
            Access::Any(WRITE),
            assign,
        ),
        route(Method::GET, PROFILES, Access::Any(READ), list_profiles),
    ]
}

/// The caller's tenant, if Intune serves it.
fn licensed(tenant: &Tenant) -> Result<&Tenant, GraphError> {
    if intune::is_licensed(tenant) {
        Ok(tenant)
    } else {
        Err(GraphError::bad_request(
            "Request not applicable to target tenant.",
        ))
    }
}

/// Which navigation properties `$expand` names (`settings`, `assignments`); others are refused.
fn expansions(ctx: &Ctx<'_>, allowed: &[&str]) -> Result<Vec<&'static str>, GraphError> {
    let mut out = Vec::new();
    for name in ctx
        .query
        .get("$expand")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let known = ["settings", "assignments"]
            .into_iter()
            .find(|k| k.eq_ignore_ascii_case(name) && allowed.contains(k))
            .ok_or_else(|| {
                GraphError::bad_request(format!(
                    "Could not find a navigation property named '{name}'."
                ))
            })?;
        out.push(known);
    }
    Ok(out)
}

/// The entity with the navigation collections `expand` names, and `isAssigned`/`settingCount`
/// as Intune computes them.
fn render(object: &IntuneObject, expand: &[&str], policy: bool) -> Value {
    let mut entity = object.entity.clone();
    if policy {
        entity["isAssigned"] = json!(!object.assignments.is_empty());
        entity["settingCount"] = json!(object.settings.len());
    }
    for name in expand {
        let items = if *name == "settings" {
            &object.settings
        } else {
            &object.assignments
        };
        entity[*name] = Value::Array(items.clone());
    }
    entity
}

/// One page of `items` per `$top` and `$skiptoken` (an offset Intune hides in the token).
fn page(ctx: &Ctx<'_>, context: &str, items: Vec<Value>) -> Result<Value, GraphError> {
    let top = match ctx.query.get("$top") {
        None => DEFAULT_PAGE,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                GraphError::bad_request(format!(
                    "Invalid value '{raw}' for $top query option found. The $top query option \
                     requires a value between 1 and {MAX_PAGE}."
                ))
            })?,
    };
    let skip = match ctx.query.get("$skiptoken") {
        None => 0,
        Some(token) => token
            .strip_prefix("Skip=")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| GraphError::bad_request("Invalid $skiptoken value."))?,
    };
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(skip).take(top).collect();
    let mut body = json!({
        "@odata.context": format!("{}#{context}", ctx.version.metadata()),
        "value": value,
    });
    if skip + top < total {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(expand) = ctx.query.get("$expand") {
            query.append_pair("$expand", expand);
        }
        query.append_pair("$top", &top.to_string());
        query.append_pair("$skiptoken", &format!("Skip={}", skip + top));
        body["@odata.nextLink"] =
            json!(ctx.absolute(&format!("{}?{}", ctx.uri.path(), query.finish())));
    }
    Ok(body)
}

fn find<'t>(
    items: &'t [IntuneObject],
    id: &str,
    what: &str,
) -> Result<&'t IntuneObject, GraphError> {
    items
        .iter()
        .find(|o| {
            o.entity["id"]
                .as_str()
                .is_some_and(|i| i.eq_ignore_ascii_case(id))
        })
        .ok_or_else(|| {
            GraphError::not_found(
                "ResourceNotFound",
                format!("{what} with id '{id}' was not found."),
            )
        })
}

fn list_policies(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let expand = expansions(ctx, &["settings", "assignments"])?;
    let directory = ctx.shared.directory();
    let tenant = licensed(ctx.caller.tenant(&directory)?)?;
    let items = tenant
        .configuration_policies
        .iter()
        .map(|p| render(p, &expand, true))
        .collect();
    Ok(Reply::Ok(page(
        ctx,
        "deviceManagement/configurationPolicies",
        items,
    )?))
}

fn get_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let expand = expansions(ctx, &["settings", "assignments"])?;
    let directory = ctx.shared.directory();
    let tenant = licensed(ctx.caller.tenant(&directory)?)?;
    let policy = find(&tenant.configuration_policies, ctx.param(0), "Policy")?;
    Ok(Reply::Ok(with_context(
        &render(policy, &expand, true),
        format!(
            "{}#deviceManagement/configurationPolicies/$entity",
            ctx.version.metadata()
        ),
    )))
}

fn policy_settings(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    navigation(ctx, "settings", |p| &p.settings)
}

fn policy_assignments(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    navigation(ctx, "assignments", |p| &p.assignments)
}

/// `…/configurationPolicies/{id}/{name}`: one of a policy's navigation collections, paged.
fn navigation(
    ctx: &Ctx<'_>,
    name: &str,
    items: fn(&IntuneObject) -> &Vec<Value>,
) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = licensed(ctx.caller.tenant(&directory)?)?;
    let policy = find(&tenant.configuration_policies, ctx.param(0), "Policy")?;
    let context = format!(
        "deviceManagement/configurationPolicies('{}')/{name}",
        ctx.param(0)
    );
    Ok(Reply::Ok(page(ctx, &context, items(policy).clone())?))
}

fn list_profiles(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let expand = expansions(ctx, &["assignments"])?;
    let directory = ctx.shared.directory();
    let tenant = licensed(ctx.caller.tenant(&directory)?)?;
    let items = tenant
        .device_configurations
        .iter()
        .map(|p| render(p, &expand, false))
        .collect();
    Ok(Reply::Ok(page(
        ctx,
        "deviceManagement/deviceConfigurations",
        items,
    )?))
}

fn create_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let body = ctx.body()?;
    let (entity, settings) = validate_policy(body)?;
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    licensed(tenant)?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::calls::graph_inner_date();
    let mut stored = intune::policy_entity(
        &id,
        entity["name"].as_str().unwrap_or_default(),
        entity["description"].as_str().unwrap_or_default(),
        settings.len(),
    );
    for key in ["platforms", "technologies", "roleScopeTagIds"] {
        if let Some(value) = entity.get(key) {
            stored[key] = value.clone();
        }
    }
    stored["createdDateTime"] = json!(format!("{now}Z"));
    stored["lastModifiedDateTime"] = json!(format!("{now}Z"));
    let object = IntuneObject {
        entity: stored,
        settings: settings
            .into_iter()
            .enumerate()
            .map(|(n, mut s)| {
                s["id"] = json!(n.to_string());
                s
            })
            .collect(),
        assignments: Vec::new(),
    };
    let answer = render(&object, &[], true);
    tenant.configuration_policies.push(object);
    Ok(Reply::Created(with_context(
        &answer,
        format!(
            "{}#deviceManagement/configurationPolicies/$entity",
            ctx.version.metadata()
        ),
    )))
}

fn delete_policy(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    licensed(tenant)?;
    find(&tenant.configuration_policies, ctx.param(0), "Policy")?;
    let id = ctx.param(0).to_ascii_lowercase();
    tenant
        .configuration_policies
        .retain(|p| p.entity["id"].as_str().map(str::to_ascii_lowercase) != Some(id.clone()));
    Ok(Reply::NoContent)
}

/// `POST …/{id}/assign`: the given assignments replace every existing one.
fn assign(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let body = ctx.body()?;
    only_members(body, &["assignments"], "assign action")?;
    let targets: Vec<Value> = body["assignments"]
        .as_array()
        .ok_or_else(|| GraphError::bad_request("The parameter 'assignments' is required."))?
        .iter()
        .enumerate()
        .map(|(n, a)| validate_assignment(n, a))
        .collect::<Result<_, _>>()?;
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    licensed(tenant)?;
    find(&tenant.configuration_policies, ctx.param(0), "Policy")?;
    let id = ctx.param(0).to_owned();
    let policy = tenant
        .configuration_policies
        .iter_mut()
        .find(|p| {
            p.entity["id"]
                .as_str()
                .is_some_and(|i| i.eq_ignore_ascii_case(&id))
        })
        .ok_or_else(|| GraphError::not_found("ResourceNotFound", "Policy not found."))?;
    let policy_id = policy.entity["id"].as_str().unwrap_or(&id).to_owned();
    policy.assignments = intune::policy_assignments(&policy_id, &targets);
    policy.entity["lastModifiedDateTime"] = json!(format!("{}Z", crate::calls::graph_inner_date()));
    Ok(Reply::Ok(json!({
        "@odata.context": format!(
            "{}#Collection(microsoft.graph.deviceManagementConfigurationPolicyAssignment)",
            ctx.version.metadata()
        ),
        "value": policy.assignments,
    })))
}

/// Every member of `object` is one of `allowed` (OData's 400 for an undeclared property).
fn only_members(object: &Value, allowed: &[&str], type_name: &str) -> Result<(), GraphError> {
    let members = object
        .as_object()
        .ok_or_else(|| GraphError::bad_request(format!("A {type_name} must be a JSON object.")))?;
    for key in members
        .keys()
        .filter(|k| !k.starts_with('@') && !k.contains("@odata."))
    {
        if !allowed.contains(&key.as_str()) {
            return Err(GraphError::bad_request(format!(
                "The property '{key}' does not exist on type '{type_name}'. Make sure to only use \
                 property names that are defined by the type."
            )));
        }
    }
    Ok(())
}

fn expect_type(value: &Value, expected: &str, at: &str) -> Result<(), GraphError> {
    match value["@odata.type"].as_str() {
        Some(t) if t.trim_start_matches('#') == expected => Ok(()),
        other => Err(GraphError::bad_request(format!(
            "{at}: expected @odata.type '#{expected}', got {}.",
            other.map_or("none".to_owned(), |t| format!("'{t}'"))
        ))),
    }
}

/// A create body: its declared properties, `name`, enum values of `platforms` and
/// `technologies`, and settings the emulator's catalog knows. Returns the entity members and
/// the settings.
fn validate_policy(body: &Value) -> Result<(Map<String, Value>, Vec<Value>), GraphError> {
    let type_name = "microsoft.graph.deviceManagementConfigurationPolicy";
    only_members(body, POLICY_WRITABLE, type_name)?;
    let mut entity = body.as_object().cloned().unwrap_or_default();
    let settings = entity.remove("settings");
    match body["name"].as_str() {
        Some(name) if !name.trim().is_empty() => {}
        _ => return Err(GraphError::bad_request("The property 'name' is required.")),
    }
    let platforms = body["platforms"].as_str().unwrap_or("none");
    if !PLATFORMS.contains(&platforms) {
        return Err(GraphError::bad_request(format!(
            "The value '{platforms}' is not valid for 'platforms' (deviceManagementConfigurationPlatforms)."
        )));
    }
    let technologies = body["technologies"].as_str().unwrap_or("none");
    if let Some(bad) = technologies
        .split(',')
        .map(str::trim)
        .find(|t| !TECHNOLOGIES.contains(t))
    {
        return Err(GraphError::bad_request(format!(
            "The value '{bad}' is not valid for 'technologies' (deviceManagementConfigurationTechnologies)."
        )));
    }
    let settings = settings.unwrap_or(json!([]));
    let settings = settings
        .as_array()
        .ok_or_else(|| GraphError::bad_request("'settings' must be an array."))?;
    let validated = settings
        .iter()
        .enumerate()
        .map(|(n, s)| validate_setting(n, s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((entity, validated))
}

/// One `deviceManagementConfigurationSetting` holding a choice setting instance of a
/// definition the emulator's catalog has (`AllowAadPasswordReset`, values `_0` and `_1`).
fn validate_setting(n: usize, setting: &Value) -> Result<Value, GraphError> {
    let at = format!("settings[{n}]");
    expect_type(
        setting,
        "microsoft.graph.deviceManagementConfigurationSetting",
        &at,
    )?;
    only_members(
        setting,
        &["id", "settingInstance"],
        "microsoft.graph.deviceManagementConfigurationSetting",
    )?;
    let instance = &setting["settingInstance"];
    let type_name = "microsoft.graph.deviceManagementConfigurationChoiceSettingInstance";
    expect_type(instance, type_name, &format!("{at}.settingInstance"))?;
    only_members(
        instance,
        &[
            "settingDefinitionId",
            "settingInstanceTemplateReference",
            "choiceSettingValue",
        ],
        type_name,
    )?;
    let definition = instance["settingDefinitionId"].as_str().unwrap_or_default();
    if definition != SETTING_DEFINITION_ID {
        return Err(GraphError::bad_request(format!(
            "{at}: setting definition '{definition}' was not found in the settings catalog."
        )));
    }
    let value = &instance["choiceSettingValue"];
    let value_type = "microsoft.graph.deviceManagementConfigurationChoiceSettingValue";
    expect_type(
        value,
        value_type,
        &format!("{at}.settingInstance.choiceSettingValue"),
    )?;
    only_members(
        value,
        &["value", "children", "settingValueTemplateReference"],
        value_type,
    )?;
    let option = value["value"].as_str().unwrap_or_default();
    let allowed = [0, 1].map(|v| format!("{SETTING_DEFINITION_ID}_{v}"));
    if !allowed.iter().any(|a| a == option) {
        return Err(GraphError::bad_request(format!(
            "{at}: '{option}' is not an option of setting '{SETTING_DEFINITION_ID}'."
        )));
    }
    if !value["children"].as_array().is_some_and(Vec::is_empty) {
        return Err(GraphError::bad_request(format!(
            "{at}: 'children' must be an empty array: the setting has no child settings."
        )));
    }
    Ok(setting.clone())
}

/// One element of `assignments`: a `target` of a known assignment target type.
fn validate_assignment(n: usize, assignment: &Value) -> Result<Value, GraphError> {
    let at = format!("assignments[{n}]");
    only_members(
        assignment,
        &["id", "target", "source", "sourceId"],
        "microsoft.graph.deviceManagementConfigurationPolicyAssignment",
    )?;
    let target = &assignment["target"];
    let type_name = target["@odata.type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('#');
    let filter = [
        "deviceAndAppManagementAssignmentFilterId",
        "deviceAndAppManagementAssignmentFilterType",
    ];
    let needs_group = match type_name {
        "microsoft.graph.allDevicesAssignmentTarget"
        | "microsoft.graph.allLicensedUsersAssignmentTarget" => false,
        "microsoft.graph.groupAssignmentTarget"
        | "microsoft.graph.exclusionGroupAssignmentTarget" => true,
        other => {
            return Err(GraphError::bad_request(format!(
                "{at}.target: '{other}' is not an assignment target type."
            )));
        }
    };
    let mut allowed = filter.to_vec();
    if needs_group {
        allowed.push("groupId");
        let group = target["groupId"].as_str().unwrap_or_default();
        if uuid::Uuid::parse_str(group).is_err() {
            return Err(GraphError::bad_request(format!(
                "{at}.target.groupId: '{group}' is not a valid group id."
            )));
        }
    }
    only_members(target, &allowed, type_name)?;
    Ok(target.clone())
}
