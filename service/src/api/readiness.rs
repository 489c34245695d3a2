//! `GET /v1/tenants/{tenant}/readiness`, its `/user-guide`, and the fleet's `GET /v1/readiness`:
//! the SSPR guide's checklist as JSON, or as a page people read (`text/html`, `text/markdown`,
//! rendered by [`crate::report`]); the fleet also as NDJSON, one tenant per line as it completes.

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::extract::PathParams;
use super::problem::{ApiError, problem_document};
use super::registrations::parse_fleet_query;
use super::responses::{CallerErrors, QueryErrors, TenantErrors, UnknownTenant};
use super::{AppState, Authenticated};
use crate::auth::Caller;
use crate::ops;
use crate::ops::readiness::Readiness;
use crate::report;
use sspr_api::readiness::{
    FleetReadiness, FleetReadinessEntry, ReadinessMatrix, TenantReadiness, UserGuide,
};

const HTML: &str = "text/html; charset=utf-8";
const MARKDOWN: &str = "text/markdown; charset=utf-8";
const NDJSON: &str = "application/x-ndjson";

/// What readiness reads through: the other areas' use cases over the same state.
fn readiness(state: &AppState) -> Readiness<'_> {
    Readiness {
        tenants: &state.tenants,
        policies: &state.policies,
        policy_upstream: super::policy::upstream(state),
        registrations: &state.registrations,
        reporting: super::registrations::reporting(state),
        protection: super::protection::use_cases(state),
        licences: state.licences.as_ref(),
        secure_score: state.secure_score.as_ref(),
        windows_link: super::windows_link::use_cases(state),
        rules: &state.readiness.rules,
    }
}

/// The representations a readiness answer comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Representation {
    Json,
    Ndjson,
    Html,
    Markdown,
}

/// The caller's preferred representation among `offered` (the first is the default): the
/// highest `q` in `Accept`, the earlier offer on a tie.
fn preferred(headers: &HeaderMap, offered: &[Representation]) -> Representation {
    let mut best: Option<(f32, usize)> = None;
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for range in ranges {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let named = match media.as_str() {
            "application/json" => Representation::Json,
            "application/x-ndjson" | "application/jsonl" => Representation::Ndjson,
            "text/html" => Representation::Html,
            "text/markdown" => Representation::Markdown,
            _ => continue,
        };
        let Some(rank) = offered.iter().position(|o| *o == named) else {
            continue;
        };
        if q > 0.0 && best.is_none_or(|(b, r)| q > b || (q == b && rank < r)) {
            best = Some((q, rank));
        }
    }
    offered[best.map_or(0, |(_, rank)| rank)]
}

fn text(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The tenant's readiness: one check per item of the SSPR guide (licences, writeback, scope,
/// methods and gates, registration, notifications, the helpdesk link, the Windows sign-in link,
/// registration protection, MFA registration, coverage, Secure Score), each with its status,
/// evidence (values and their sources), remedy (an `sspr` command, or the portal path where no
/// API exists) and the Secure Score points at stake.
///
/// A read that fails (a missing permission or licence, Graph down) makes its checks `unknown`
/// with the reason; the answer is still 200. `Accept: text/html` gives one self-contained page
/// (no external script, font or style), `text/markdown` the same as Markdown.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/readiness", tag = "readiness", operation_id = "getReadiness", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    responses(
        (status = 200, description = "The tenant's checklist",
            content((TenantReadiness = "application/json"),
                (String = "text/html", example = json!("<!DOCTYPE html><html lang=\"en\">…</html>")),
                (String = "text/markdown", example = json!("# SSPR readiness: Contoso\n…")))),
        CallerErrors, TenantErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn tenant(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use Representation::*;
    let answer = readiness(&state).tenant(&caller, &tenant).await?;
    Ok(match preferred(&headers, &[Json, Html, Markdown]) {
        Html => text(HTML, report::tenant_html(&answer)),
        Markdown => text(MARKDOWN, report::tenant_markdown(&answer)),
        _ => axum::Json(answer).into_response(),
    })
}

/// A one-page guide for the tenant's users.
///
/// What self-service password reset is, where to register (`aka.ms/setupsecurityinfo`), where
/// to reset (`aka.ms/sspr`), the Windows sign-in screen's link when a policy shows it, how many
/// methods a reset needs, and the tenant's helpdesk link. Markdown by default; `Accept:
/// text/html` for a self-contained page, `application/json` for the facts.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/readiness/user-guide", tag = "readiness", operation_id = "getReadinessUserGuide", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    responses(
        (status = 200, description = "The users' guide",
            content((String = "text/markdown", example = json!("# Resetting your password at Contoso\n…")),
                (String = "text/html", example = json!("<!DOCTYPE html><html lang=\"en\">…</html>")),
                (UserGuide = "application/json"))),
        CallerErrors, TenantErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn user_guide(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use Representation::*;
    let guide = readiness(&state).user_guide(&caller, &tenant).await?;
    Ok(match preferred(&headers, &[Markdown, Html, Json]) {
        Html => text(HTML, report::user_guide_html(&guide)),
        Json => axum::Json(guide).into_response(),
        _ => text(MARKDOWN, report::user_guide_markdown(&guide)),
    })
}

/// The query of the fleet readiness (documentation; parsing is shared with the fleet summary).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FleetParams {
    /// `all` (every tenant the caller may access), or tenant ids, domains and `tag:<tag>` (the
    /// caller's tenants with that tag), comma-separated.
    #[param(pattern = r"^[^,]*[^,\s][^,]*(,[^,]*[^,\s][^,]*)*$", example = "all")]
    tenants: String,
}

/// Readiness across the fleet: each tenant's checklist, and a tenants × checks matrix.
///
/// Every named tenant is checked first (unknown or not accessible: 404) before any Graph call;
/// then the tenants are assessed a bounded number at a time. `Accept: application/x-ndjson`
/// streams one line per tenant as it completes; JSON (default), `text/html` (one page with the
/// heat map) and `text/markdown` answer once all are done.
#[utoipa::path(get, path = "/v1/readiness", tag = "readiness", operation_id = "fleetReadiness", security(("bearer" = [])),
    params(FleetParams),
    responses(
        (status = 200, description = "Each tenant's checklist or problem, in completion order, and the matrix",
            content((FleetReadiness = "application/json"), (FleetReadinessEntry = "application/x-ndjson"),
                (String = "text/html", example = json!("<!DOCTYPE html><html lang=\"en\">…</html>")),
                (String = "text/markdown", example = json!("# SSPR readiness: 2 tenants\n…")))),
        CallerErrors, QueryErrors, UnknownTenant,
    ))]
#[tracing::instrument(skip_all)]
pub async fn fleet(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use Representation::*;
    let selection = parse_fleet_query(raw.as_deref().unwrap_or(""))?;
    let targets = ops::registrations::fleet_targets(&state.tenants, &caller, &selection)?;
    let representation = preferred(&headers, &[Json, Ndjson, Html, Markdown]);
    if representation == Ndjson {
        return Ok(stream_fleet(state, caller, targets));
    }
    let concurrency = state.readiness.fleet_concurrency;
    let tenants: Vec<FleetReadinessEntry> = readiness(&state)
        .fleet(&caller, targets, concurrency)
        .then(|(tenant, result)| entry(tenant, result))
        .collect()
        .await;
    let failed = tenants.iter().filter(|t| t.problem.is_some()).count();
    let matrix = ReadinessMatrix::of(&tenants);
    let answer = FleetReadiness {
        tenants,
        failed,
        matrix,
    };
    Ok(match representation {
        Html => text(HTML, report::fleet_html(&answer)),
        Markdown => text(MARKDOWN, report::fleet_markdown(&answer)),
        _ => axum::Json(answer).into_response(),
    })
}

async fn entry(
    tenant: std::sync::Arc<crate::directory::tenants::ManagedTenant>,
    result: Result<TenantReadiness, ops::OpsError>,
) -> FleetReadinessEntry {
    let (readiness, problem) = match result {
        Ok(readiness) => (Some(readiness), None),
        Err(error) => (None, Some(problem_document(error.into()).await)),
    };
    FleetReadinessEntry {
        tenant: tenant.id.clone(),
        domain: tenant.primary_domain().to_owned(),
        readiness,
        problem,
    }
}

/// Tenants' lines in flight between the assessments and the client: a slow client slows the
/// assessments, and one that goes away stops them.
const LINES_IN_FLIGHT: usize = 4;

fn stream_fleet(
    state: AppState,
    caller: Caller,
    targets: Vec<std::sync::Arc<crate::directory::tenants::ManagedTenant>>,
) -> Response {
    let (mut tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(LINES_IN_FLIGHT);
    tokio::spawn(tracing::Instrument::in_current_span(async move {
        let concurrency = state.readiness.fleet_concurrency;
        let mut entries = std::pin::pin!(
            readiness(&state)
                .fleet(&caller, targets, concurrency)
                .then(|(tenant, result)| entry(tenant, result))
        );
        while let Some(line) = entries.next().await {
            let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
            bytes.push(b'\n');
            if tx.send(Ok(Bytes::from(bytes))).await.is_err() {
                return; // The client went away; dropping the stream stops the other reads.
            }
        }
    }));
    ([(header::CONTENT_TYPE, NDJSON)], Body::from_stream(rx)).into_response()
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(tenant))
        .routes(routes!(user_guide))
        .routes(routes!(fleet))
}

#[cfg(test)]
mod tests {
    use super::Representation::*;
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_preferred_representation_follows_accept_and_defaults_to_the_first_offer() {
        let offered = [Json, Ndjson, Html, Markdown];
        assert_eq!(preferred(&HeaderMap::new(), &offered), Json);
        assert_eq!(preferred(&accept("text/html"), &offered), Html);
        assert_eq!(preferred(&accept("text/markdown"), &offered), Markdown);
        assert_eq!(
            preferred(&accept("text/html;q=0.5, text/markdown"), &offered),
            Markdown
        );
        // A browser's Accept: HTML first.
        assert_eq!(
            preferred(
                &accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                &offered
            ),
            Html
        );
        assert_eq!(preferred(&accept("image/png"), &offered), Json);
        assert_eq!(
            preferred(&accept("application/json"), &[Markdown, Html, Json]),
            Json
        );
        assert_eq!(preferred(&accept("text/html;q=0"), &offered), Json);
    }
}
