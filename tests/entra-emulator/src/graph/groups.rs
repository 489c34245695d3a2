//! `GET /groups` and `GET /groups/{id}/members`: enough of Graph's groups for clients that need
//! to know who is in which group (e.g. which group's members SSPR is enabled for). Read only;
//! `$select`, `$top` (default 100, at most 999) and `@odata.nextLink` paging. `$filter`,
//! `$search`, `$orderby` and `$count` are refused with Graph's 400 rather than ignored, so a
//! client never mistakes an unfiltered answer for a filtered one.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Access, Ctx, GraphError, Reply, Route};
use crate::state::{Group, Tenant};

const READ_GROUPS: &[&str] = &[
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 999;
/// Properties of `group` the emulator serves (all declared by the v1.0 CSDL).
const GROUP_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "description",
    "groupTypes",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
];
/// Properties of the `user` members (besides `@odata.type`).
const MEMBER_PROPERTIES: &[&str] = &["id", "displayName", "userPrincipalName"];

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "groups", Access::Any(READ_GROUPS), list),
        Route::new(
            Method::GET,
            "groups/{id}/members",
            Access::Any(READ_GROUPS),
            members,
        ),
    ]
}

fn list(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let options = Options::parse(ctx, GROUP_PROPERTIES, "group")?;
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let items: Vec<Value> = tenant
        .groups
        .iter()
        .skip(options.skip)
        .take(options.top)
        .map(|g| options.project(group_json(g)))
        .collect();
    let more = options.skip + options.top < tenant.groups.len();
    Ok(Reply::Ok(options.page(ctx, "groups", items, more)))
}

fn members(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let options = Options::parse(ctx, MEMBER_PROPERTIES, "directoryObject")?;
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let id = ctx.param(0);
    let group = tenant
        .groups
        .iter()
        .find(|g| g.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            GraphError::not_found(
                "Request_ResourceNotFound",
                format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
            )
        })?;
    let items: Vec<Value> = group
        .members
        .iter()
        .skip(options.skip)
        .take(options.top)
        .filter_map(|member| member_json(tenant, member))
        .map(|m| {
            let mut projected = options.project(m.clone());
            // Graph always says which kind of directory object each member is.
            projected["@odata.type"] = m["@odata.type"].clone();
            projected
        })
        .collect();
    let more = options.skip + options.top < group.members.len();
    Ok(Reply::Ok(options.page(
        ctx,
        "directoryObjects",
        items,
        more,
    )))
}

fn group_json(g: &Group) -> Value {
    let nickname: String = g
        .display_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    json!({
        "id": g.id,
        "displayName": g.display_name,
        "description": Value::Null,
        "groupTypes": [],
        "mailEnabled": false,
        "mailNickname": if nickname.is_empty() { g.id.clone() } else { nickname },
        "securityEnabled": true,
    })
}

fn member_json(tenant: &Tenant, id: &str) -> Option<Value> {
    let user = tenant.users.iter().find(|u| u.id == id)?;
    Some(json!({
        "@odata.type": "#microsoft.graph.user",
        "id": user.id,
        "displayName": user.display_name,
        "userPrincipalName": user.user_principal_name,
    }))
}

/// The query options these collections support.
struct Options {
    select: Vec<String>,
    top: usize,
    skip: usize,
}

impl Options {
    fn parse(ctx: &Ctx<'_>, properties: &[&str], type_name: &str) -> Result<Options, GraphError> {
        for unsupported in ["$filter", "$search", "$orderby", "$count", "$expand"] {
            if ctx.query.has(unsupported) {
                return Err(GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "Request_UnsupportedQuery",
                    format!("The emulator does not support {unsupported} on this collection."),
                ));
            }
        }
        let mut select = Vec::new();
        for name in ctx
            .query
            .get("$select")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let known = properties
                .iter()
                .find(|p| p.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    GraphError::new(
                        StatusCode::BAD_REQUEST,
                        "Request_BadRequest",
                        format!(
                            "Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'."
                        ),
                    )
                })?;
            select.push((*known).to_owned());
        }
        let top = match ctx.query.get("$top") {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return Err(GraphError::new(
                        StatusCode::BAD_REQUEST,
                        "Request_BadRequest",
                        format!(
                            "Invalid page size specified: '{raw}'. Must be between 1 and {MAX_PAGE_SIZE} inclusive."
                        ),
                    ));
                }
            },
        };
        let skip = match ctx.query.get("$skiptoken") {
            None => 0,
            Some(token) => token
                .strip_prefix("X'")
                .and_then(|t| t.strip_suffix('\''))
                .and_then(|t| usize::from_str_radix(t, 16).ok())
                .ok_or_else(|| {
                    GraphError::bad_request("Invalid syntax for the $skiptoken value.")
                })?,
        };
        Ok(Options { select, top, skip })
    }

    fn project(&self, item: Value) -> Value {
        crate::derived::project(item, &self.select)
    }

    /// The collection body, with an `@odata.nextLink` that keeps `$select` and `$top`.
    fn page(&self, ctx: &Ctx<'_>, context: &str, items: Vec<Value>, more: bool) -> Value {
        let select = if self.select.is_empty() {
            String::new()
        } else {
            format!("({})", self.select.join(","))
        };
        let mut body = json!({
            "@odata.context": format!("{}#{context}{select}", ctx.version.metadata()),
            "value": items,
        });
        if more {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            if !self.select.is_empty() {
                query.append_pair("$select", &self.select.join(","));
            }
            query.append_pair("$top", &self.top.to_string());
            query.append_pair("$skiptoken", &format!("X'{:x}'", self.skip + self.top));
            body["@odata.nextLink"] =
                json!(ctx.absolute(&format!("{}?{}", ctx.uri.path(), query.finish())));
        }
        body
    }
}
