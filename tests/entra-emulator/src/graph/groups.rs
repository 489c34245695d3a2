//! `GET /groups` and `GET /groups/{id}/members`: enough of Graph's groups for clients that need
//! to know who is in which group (e.g. which group's members SSPR is enabled for). Read only;
//! `$select`, `$top` (default 100, at most 999) and `@odata.nextLink` paging. `$filter`,
//! `$search`, `$orderby` and `$count` are refused with Graph's 400 rather than ignored, so a
//! client never mistakes an unfiltered answer for a filtered one.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Access, Ctx, GraphError, ListOptions, Paging, Reply, Route};
use crate::state::{Group, Tenant};

const READ_GROUPS: &[&str] = &[
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
/// Graph's directory-object paging: 100 per page unless `$top` says otherwise, at most 999.
const PAGING: Paging = Paging {
    default: 100,
    max: 999,
};
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
    let options = ListOptions::parse(ctx, GROUP_PROPERTIES, "group", PAGING)?;
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
    let options = ListOptions::parse(ctx, MEMBER_PROPERTIES, "directoryObject", PAGING)?;
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
