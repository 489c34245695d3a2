//! `GET /v1/audit`, and the header that names an audited write's record.

use axum::Json;
use axum::extract::{RawQuery, State};
use sspr_api::audit::AuditList;
use url::form_urlencoded;
use utoipa::IntoParams;
use utoipa_axum::routes;

pub use super::extract::CurrentRequestId;
use super::problem::ApiError;
use super::responses::{CallerErrors, QueryErrors, UnknownTenant};
use super::{AppState, Authenticated};
use crate::capabilities::audit_log::Outcome;
use crate::ops;
use crate::ops::audit::{AuditError, AuditQuery};

/// The response header of an audited write that carries its audit record's id.
pub const AUDIT_RECORD_ID: &str = "audit-record-id";

/// `response` with the `audit-record-id` header.
pub fn with_audit_record_id(
    mut response: axum::response::Response,
    id: i64,
) -> axum::response::Response {
    response
        .headers_mut()
        .insert(AUDIT_RECORD_ID, axum::http::HeaderValue::from(id));
    response
}

/// The query parameters of `GET /v1/audit` (documentation; parsing is in [`list`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AuditParams {
    /// Only this tenant (id or verified domain).
    #[param(min_length = 1, example = "contoso.onmicrosoft.com")]
    tenant: Option<String>,
    /// Only this actor: object id, user principal name or client application id.
    #[param(example = "ada@contoso.onmicrosoft.com")]
    actor: Option<String>,
    /// Only records at or after this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
    /// Only records with this outcome.
    outcome: Option<Outcome>,
    /// Records per page.
    #[param(minimum = 1, maximum = 500, default = 50)]
    limit: Option<u32>,
    /// Where to continue: taken from the previous page's `nextLink`. Signed and bound to the
    /// caller and the filters; anything else is a 400 with `code: invalidCursor`.
    #[param(min_length = 1)]
    cursor: Option<String>,
}

const PARAMETERS: [&str; 6] = ["tenant", "actor", "since", "outcome", "limit", "cursor"];

/// The audit trail: every write attempt on the tenants the caller may access.
///
/// Needs the `SSPR.Admin` role. Records are newest first, filtered by tenant, actor, time and
/// outcome; `nextLink` continues with the same filters. Each record holds the actor from the
/// verified token, the request id, the document before and after, the per-field diff, the
/// outcome and what was undone after a failed step.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", operation_id = "listAudit", security(("bearer" = [])),
    params(AuditParams),
    responses(
        (status = 200, description = "A page of records, newest first", body = AuditList),
        CallerErrors, QueryErrors, UnknownTenant,
    ))]
#[tracing::instrument(name = "audit.list", skip_all, fields(tenant = tracing::field::Empty))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    RawQuery(raw): RawQuery,
) -> Result<Json<AuditList>, ApiError> {
    let query = parse_query(raw.as_deref().unwrap_or(""))?;
    if let Some(tenant) = &query.tenant {
        tracing::Span::current().record("tenant", tenant.as_str());
    }
    let page = ops::audit::list(
        &state.tenants,
        state.audit.as_ref(),
        &state.cursors,
        &caller,
        &query,
    )
    .await?;
    let next_link = page.next_cursor.map(|cursor| {
        let mut link = form_urlencoded::Serializer::new(String::new());
        let given = [
            ("tenant", &query.tenant),
            ("actor", &query.actor),
            ("since", &query.since),
            ("outcome", &query.outcome),
            ("limit", &query.limit),
        ];
        for (name, value) in given {
            if let Some(value) = value {
                link.append_pair(name, value);
            }
        }
        link.append_pair("cursor", &cursor);
        format!("/v1/audit?{}", link.finish())
    });
    Ok(Json(AuditList {
        value: page.records,
        next_link,
    }))
}

/// The known parameters, each at most once; anything else is a 400 naming it.
fn parse_query(raw: &str) -> Result<AuditQuery, ApiError> {
    let mut query = AuditQuery::default();
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        let slot = match name.as_ref() {
            "tenant" => &mut query.tenant,
            "actor" => &mut query.actor,
            "since" => &mut query.since,
            "outcome" => &mut query.outcome,
            "limit" => &mut query.limit,
            "cursor" => &mut query.cursor,
            other => {
                return Err(ApiError::BadRequest {
                    detail: format!(
                        "'{other}' is not a parameter of /v1/audit; it takes {}.",
                        PARAMETERS.join(", ")
                    ),
                    field: other.to_owned(),
                });
            }
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(ApiError::BadRequest {
                detail: format!("'{name}' is given more than once."),
                field: name.into_owned(),
            });
        }
    }
    Ok(query)
}

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Ops(e) => e.into(),
            AuditError::BadParameter { field, detail } => ApiError::BadRequest {
                detail,
                field: field.to_owned(),
            },
            AuditError::Store(e) => ApiError::Store(e),
        }
    }
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(routes!(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_repeated_parameters_are_named() {
        match parse_query("tenant=a&outcomes=failed") {
            Err(ApiError::BadRequest { field, .. }) => assert_eq!(field, "outcomes"),
            other => panic!("{other:?}"),
        }
        match parse_query("limit=1&limit=2") {
            Err(ApiError::BadRequest { field, .. }) => assert_eq!(field, "limit"),
            other => panic!("{other:?}"),
        }
        let query = parse_query("actor=ada%40contoso.com&since=2026-01-01T00%3A00%3A00%2B01%3A00")
            .expect("valid");
        assert_eq!(query.actor.as_deref(), Some("ada@contoso.com"));
        assert_eq!(query.since.as_deref(), Some("2026-01-01T00:00:00+01:00"));
    }
}
