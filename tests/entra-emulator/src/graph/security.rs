//! Microsoft Secure Score: `security/secureScores` and `security/secureScoreControlProfiles`
//! (graph-api.md §7.1–§7.3). Both are open types; the stored wire JSON is served as it is, so
//! `controlScores[].count`/`total` stay strings.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Access, Ctx, GraphError, Reply, Route, with_context};

const READ_SECURE_SCORE: &[&str] = &["SecurityEvents.Read.All", "SecurityEvents.ReadWrite.All"];

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "security/secureScores",
            Access::Any(READ_SECURE_SCORE),
            list_scores,
        ),
        Route::new(
            Method::GET,
            "security/secureScores/{id}",
            Access::Any(READ_SECURE_SCORE),
            get_score,
        ),
        Route::new(
            Method::GET,
            "security/secureScoreControlProfiles",
            Access::Any(READ_SECURE_SCORE),
            list_profiles,
        ),
        Route::new(
            Method::GET,
            "security/secureScoreControlProfiles/{id}",
            Access::Any(READ_SECURE_SCORE),
            get_profile,
        ),
    ]
}

/// A non-negative `$top`/`$skip`, with the OData library's message for anything else.
fn non_negative(ctx: &Ctx<'_>, option: &str) -> Result<Option<usize>, GraphError> {
    ctx.query
        .get(option)
        .map(|raw| {
            raw.trim().parse::<usize>().map_err(|_| {
                GraphError::bad_request(format!(
                    "Invalid value '{raw}' for {option} query option found. The {option} query \
                     option requires a non-negative integer value."
                ))
            })
        })
        .transpose()
}

/// One page of `items` per `$skip`/`$top`, with `@odata.count` on `$count=true` and an
/// `@odata.nextLink` (same path, next `$skip`) while items remain.
fn page(ctx: &Ctx<'_>, items: &[Value], context: &str) -> Result<Value, GraphError> {
    let skip = non_negative(ctx, "$skip")?.unwrap_or(0);
    let top = non_negative(ctx, "$top")?;
    let count = match ctx.query.get("$count") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(GraphError::bad_request(format!(
                "Invalid value '{v}' for $count query option found. Valid values are 'true' or 'false'."
            )));
        }
    };
    let rest = items.get(skip..).unwrap_or_default();
    let taken = top.map_or(rest.len(), |t| t.min(rest.len()));
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".into(), json!(context));
    if count {
        body.insert("@odata.count".into(), json!(items.len()));
    }
    if let Some(top) = top
        && taken < rest.len()
    {
        let next = format!("{}?$top={top}&$skip={}", ctx.uri.path(), skip + taken);
        body.insert("@odata.nextLink".into(), json!(ctx.absolute(&next)));
    }
    body.insert("value".into(), Value::Array(rest[..taken].to_vec()));
    Ok(Value::Object(body))
}

fn find<'v>(items: &'v [Value], id: &str, what: &str) -> Result<&'v Value, GraphError> {
    items
        .iter()
        .find(|i| i["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
        .ok_or_else(|| {
            // Graph's generic not-found code; the security API's exact code is UNVERIFIED.
            GraphError::not_found(
                "itemNotFound",
                format!("No {what} with id '{id}' was found."),
            )
        })
}

fn list_scores(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let context = format!("{}#security/secureScores", ctx.version.metadata());
    Ok(Reply::Ok(page(ctx, &tenant.secure_scores, &context)?))
}

fn get_score(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let score = find(&tenant.secure_scores, ctx.param(0), "secureScore")?;
    Ok(Reply::Ok(with_context(
        score,
        format!("{}#security/secureScores/$entity", ctx.version.metadata()),
    )))
}

fn list_profiles(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let context = format!(
        "{}#security/secureScoreControlProfiles",
        ctx.version.metadata()
    );
    Ok(Reply::Ok(page(
        ctx,
        &tenant.secure_score_control_profiles,
        &context,
    )?))
}

fn get_profile(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let profile = find(
        &tenant.secure_score_control_profiles,
        ctx.param(0),
        "secureScoreControlProfile",
    )?;
    Ok(Reply::Ok(with_context(
        profile,
        format!(
            "{}#security/secureScoreControlProfiles/$entity",
            ctx.version.metadata()
        ),
    )))
}
