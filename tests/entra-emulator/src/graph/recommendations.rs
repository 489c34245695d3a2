//! Beta-only `directory/recommendations` (graph-api.md §7.4). On v1.0 the route table answers
//! Graph's 400 for an unknown segment.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Access, BETA_ONLY, Ctx, GraphError, Reply, Route, with_context};

const READ_RECOMMENDATIONS: &[&str] = &[
    "DirectoryRecommendations.Read.All",
    "DirectoryRecommendations.ReadWrite.All",
];

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "directory/recommendations",
            Access::Any(READ_RECOMMENDATIONS),
            list,
        )
        .versions(BETA_ONLY),
        Route::new(
            Method::GET,
            "directory/recommendations/{id}",
            Access::Any(READ_RECOMMENDATIONS),
            get,
        )
        .versions(BETA_ONLY),
    ]
}

/// `impactedResources` is a navigation property: omitted unless expanded (graph-api.md §7.4).
fn without_navigation(recommendation: &Value) -> Value {
    let mut out = recommendation.clone();
    if let Some(fields) = out.as_object_mut() {
        fields.remove("impactedResources");
    }
    out
}

fn list(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let value: Vec<Value> = tenant
        .directory_recommendations
        .iter()
        .map(without_navigation)
        .collect();
    Ok(Reply::Ok(json!({
        "@odata.context": format!("{}#directory/recommendations", ctx.version.metadata()),
        "value": value,
    })))
}

fn get(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let id = ctx.param(0);
    let recommendation = tenant
        .directory_recommendations
        .iter()
        .find(|r| r["id"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(id)))
        .ok_or_else(|| {
            GraphError::not_found(
                "itemNotFound",
                format!("No recommendation with id '{id}' was found."),
            )
        })?;
    Ok(Reply::Ok(with_context(
        &without_navigation(recommendation),
        format!(
            "{}#directory/recommendations/$entity",
            ctx.version.metadata()
        ),
    )))
}
