//! `GET /organization`.

use axum::http::Method;
use serde_json::json;

use super::{Access, Ctx, GraphError, Reply, Route};

pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::GET,
        "organization",
        Access::Any(&[
            "Organization.Read.All",
            "Organization.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ]),
        list,
    )]
}

fn list(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    Ok(Reply::Ok(json!({
        "@odata.context": format!("{}#organization", ctx.version.metadata()),
        "value": [tenant.organization],
    })))
}
