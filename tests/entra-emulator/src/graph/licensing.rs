//! `GET /subscribedSkus` and `GET /subscribedSkus/{id}` (graph-api.md §6.1).
//!
//! The only query option Graph honours here is `$select`; `$filter` is refused (graph-api.md §10).

use axum::http::Method;
use serde_json::{Map, Value, json};

use super::{Access, Ctx, GraphError, Reply, Route};

const READ_SKUS: &[&str] = &[
    "LicenseAssignment.Read.All",
    "LicenseAssignment.ReadWrite.All",
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// Properties of `microsoft.graph.subscribedSku` in the v1.0 CSDL (what `$select` may name).
const SKU_PROPERTIES: &[&str] = &[
    "id",
    "accountId",
    "accountName",
    "appliesTo",
    "capabilityStatus",
    "consumedUnits",
    "prepaidUnits",
    "servicePlans",
    "skuId",
    "skuPartNumber",
    "subscriptionIds",
];

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "subscribedSkus", Access::Any(READ_SKUS), list),
        Route::new(
            Method::GET,
            "subscribedSkus/{id}",
            Access::Any(READ_SKUS),
            get,
        ),
    ]
}

/// `$filter` on this directory resource is refused with the message live Graph sends
/// (microsoftgraph/microsoft-graph-docs#5922) and the directory code for unsupported queries.
fn refuse_filter(ctx: &Ctx<'_>) -> Result<(), GraphError> {
    if ctx.query.has("$filter") {
        return Err(GraphError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            "Filtered searches against this resource are not supported.",
        ));
    }
    Ok(())
}

/// The `$select` list in the form Graph echoes in `@odata.context`, validated against the type.
fn selection(ctx: &Ctx<'_>) -> Result<Option<Vec<String>>, GraphError> {
    let Some(raw) = ctx.query.get("$select") else {
        return Ok(None);
    };
    let mut names = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        // OData property names are case-sensitive but Graph's directory resolves them
        // case-insensitively; answer with the declared spelling.
        let declared = SKU_PROPERTIES
            .iter()
            .find(|p| p.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                GraphError::bad_request(format!(
                    "Could not find a property named '{name}' on type 'microsoft.graph.subscribedSku'."
                ))
            })?;
        if !names.iter().any(|n| n == declared) {
            names.push((*declared).to_string());
        }
    }
    Ok(Some(names))
}

/// Only the selected properties, as Graph answers `$select` (no implicit `id`).
fn project(sku: &Value, select: Option<&[String]>) -> Value {
    let Some(select) = select else {
        return sku.clone();
    };
    let mut out = Map::new();
    for name in select {
        out.insert(name.clone(), sku.get(name).cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

fn context(ctx: &Ctx<'_>, select: Option<&[String]>, suffix: &str) -> String {
    let projection = select
        .map(|s| format!("({})", s.join(",")))
        .unwrap_or_default();
    format!(
        "{}#subscribedSkus{projection}{suffix}",
        ctx.version.metadata()
    )
}

fn list(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    refuse_filter(ctx)?;
    let select = selection(ctx)?;
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let value: Vec<Value> = tenant
        .subscribed_skus
        .iter()
        .map(|sku| project(sku, select.as_deref()))
        .collect();
    Ok(Reply::Ok(json!({
        "@odata.context": context(ctx, select.as_deref(), ""),
        "value": value,
    })))
}

fn get(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    refuse_filter(ctx)?;
    let select = selection(ctx)?;
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let id = ctx.param(0);
    let sku = tenant
        .subscribed_skus
        .iter()
        .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
        .ok_or_else(|| {
            GraphError::not_found(
                "Request_ResourceNotFound",
                format!(
                    "Resource '{id}' does not exist or one of its queried reference-property \
                     objects are not present."
                ),
            )
        })?;
    Ok(Reply::Ok(super::with_context(
        &project(sku, select.as_deref()),
        context(ctx, select.as_deref(), "/$entity"),
    )))
}
