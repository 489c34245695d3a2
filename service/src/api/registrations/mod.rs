//! `GET /v1/tenants/{tenant}/registrations`, its `/summary`, and the fleet summary
//! `GET /v1/registrations/summary`.
//!
//! Listings are JSON pages with an opaque cursor, or a stream (`application/x-ndjson`,
//! `text/csv`, see [`stream`]) written as Graph's pages arrive. Queries are parsed in [`query`].

mod query;
mod stream;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::caching::{CachedBody, requested_max_age};
use super::extract::PathParams;
use super::problem::ApiError;
use super::responses::{CallerErrors, QueryErrors, TenantErrors, UnknownTenant};
use super::{AppState, Authenticated};
use crate::domain::registrations::filter::{MfaFilter, PasswordlessFilter, SsprFilter, UserType};
use crate::domain::registrations::summary::RegistrationSummary;
use crate::domain::registrations::{Field, Registration};
use crate::ops;
use crate::ops::registrations::{ListingRequest, ListingSources, Reporting, SummaryRead};
pub(super) use query::parse_fleet_query;
use query::{DEFAULT_LIMIT, Format, negotiate, parse_list_query};
pub use sspr_api::registrations::{FleetEntry, FleetSummary};

/// The capabilities registration reporting reads through.
pub(super) fn reporting(state: &AppState) -> Reporting<'_> {
    Reporting {
        report: state.registration_report.as_ref(),
        licences: state.licences.as_ref(),
    }
}

/// What a listing reads through.
fn listing_sources(state: &AppState) -> ListingSources<'_> {
    ListingSources {
        tenants: &state.tenants,
        reporting: reporting(state),
        cursors: &state.cursors,
    }
}

/// The query parameters of the listing (documentation; parsing is in [`query::parse_list_query`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// SSPR registration and enablement.
    #[param(value_type = Option<SsprFilter>, inline)]
    sspr: Option<String>,
    /// MFA registration and capability.
    #[param(value_type = Option<MfaFilter>, inline)]
    mfa: Option<String>,
    /// Passwordless capability.
    #[param(value_type = Option<PasswordlessFilter>, inline)]
    passwordless: Option<String>,
    /// Holds an admin role: `true` or `false`.
    admin: Option<bool>,
    #[param(rename = "userType", value_type = Option<UserType>, inline)]
    user_type: Option<String>,
    /// Has any of these methods, comma-separated, in any case, e.g. `email,mobilePhone`. Graph's
    /// `methodsRegistered` names: `email`, `mobilePhone`, `alternateMobilePhone`, `officePhone`,
    /// `securityQuestion`, `microsoftAuthenticatorPush`, `microsoftAuthenticatorPasswordless`,
    /// `softwareOneTimePasscode`, `hardwareOneTimePasscode`, `fido2SecurityKey`,
    /// `passKeyDeviceBound`, `passKeyDeviceBoundAuthenticator`, `passKeyDeviceBoundWindowsHello`,
    /// `passKeySynced`, `windowsHelloForBusiness`, `temporaryAccessPass`, `macOsSecureEnclaveKey`,
    /// `externalAuthMethod`, `x509CertificateSingleFactor`, `x509CertificateMultiFactor`. The
    /// policy document's method names are accepted too and stand for Graph's:
    /// `mobileAppNotification` = `microsoftAuthenticatorPush`,
    /// `mobileAppCode` = `softwareOneTimePasscode`,
    /// `securityQuestions` = `securityQuestion`
    /// (`email`, `mobilePhone` and `officePhone` are the same in both). Any other name is a 400
    /// that lists these.
    #[param(
        pattern = r"^[A-Za-z0-9]+(,[A-Za-z0-9]+)*$",
        example = "email,mobilePhone"
    )]
    methods: Option<String>,
    /// The user principal name starts with this (case-insensitive).
    #[param(rename = "upnPrefix", min_length = 1, example = "ada")]
    upn_prefix: Option<String>,
    /// Record fields to include, comma-separated, each once, in that order (default: all).
    #[param(value_type = Option<std::collections::BTreeSet<Field>>, inline, style = Form, explode = false)]
    fields: Option<String>,
    /// `false` evaluates every filter in the service instead of Graph (a diagnostic: the same
    /// users, more Graph reads).
    #[param(default = true)]
    pushdown: Option<bool>,
    /// Records per JSON page (JSON only).
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<u32>,
    /// Where to continue: the previous JSON page's `nextCursor` (JSON only). Signed and bound to
    /// the tenant, the filters and the caller, and valid for a day (`cursors.ttl_secs`); any
    /// other is a 400 with `code: invalidCursor`.
    #[param(min_length = 1)]
    cursor: Option<String>,
}

/// A JSON page of a listing.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // Only its schema is used; the page is written with the chosen fields.
#[serde(rename_all = "camelCase")]
#[schema(examples(sspr_api::examples::registration_list))]
pub struct RegistrationList {
    /// The tenant id.
    pub tenant: String,
    /// The users, with the chosen fields only.
    pub value: Vec<Registration>,
    /// Pass as `cursor` (with the same filters) for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A listing as CSV: a header row of the chosen field names, then one row per user
/// (`methodsRegistered` joined with `;`).
#[derive(ToSchema)]
#[schema(examples(sspr_api::examples::registration_csv))]
#[allow(dead_code)] // Only its schema is used; the rows are streamed.
pub struct RegistrationCsv(String);

/// Users' authentication-method registration (Graph's registration report), filtered.
///
/// `Accept: application/json` (default) gives pages of `limit` users with an opaque
/// `nextCursor`. `application/x-ndjson` (one record per line) and `text/csv` (a header row of the
/// field names, then one row per user; `methodsRegistered` joined with `;`) stream every user as
/// Graph's pages arrive. Filters Graph can evaluate are sent to Graph as `$filter`; the rest
/// (several `methods`, `admin=false`) are applied in the service, with the same result.
///
/// A stream has sent its 200 before the end of the report is read. If Graph fails after that, an
/// NDJSON body ends with a last line `{"error": {problem}}`, and a CSV body is cut off without its
/// final chunk, so the client sees an incomplete transfer. Both are logged.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/registrations", tag = "registrations", operation_id = "listRegistrations", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"), ListParams),
    responses(
        (status = 200, description = "The users: a JSON page, or a stream of NDJSON lines or CSV rows",
            content((RegistrationList = "application/json"), (Registration = "application/x-ndjson"), (RegistrationCsv = "text/csv"))),
        CallerErrors, TenantErrors, QueryErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = negotiate(&headers);
    let query = parse_list_query(raw.as_deref().unwrap_or(""), format)?;
    if format != Format::Json {
        return stream::listing(state, caller, tenant, query, format).await;
    }
    let request = ListingRequest {
        caller: &caller,
        tenant: &tenant,
        filter: &query.filter,
        pushdown: query.pushdown,
        cursor: query.cursor.as_deref(),
    };
    let listing = ops::registrations::open(listing_sources(&state), request).await?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    let page = ops::registrations::page(&listing, limit).await?;
    let value: Vec<_> = page
        .records
        .iter()
        .map(|r| r.project(&query.fields))
        .collect();
    // Through a JSON value, as the page has always been written (members in name order).
    let body = serde_json::json!({
        "tenant": listing.tenant.id,
        "value": value,
        "nextCursor": page.next.as_ref().map(|p| listing.cursor(p)),
    });
    Ok(Json(body).into_response())
}

// ---------------------------------------------------------------------------------------------
// Summaries
// ---------------------------------------------------------------------------------------------

/// A summary response: 200 with the body, or 304 when `If-None-Match` names its ETag.
fn summary_response(state: &AppState, read: SummaryRead, headers: &HeaderMap) -> Response {
    CachedBody {
        etag: &read.etag,
        age: read.age,
        max_age: state.registrations.cache_max_age(),
    }
    .respond(headers, Json(read.summary.as_ref()))
}

/// The tenant's registration counts: per feature, per method, and the gap categories, from one
/// streaming pass over Graph's registration report.
///
/// Cached per tenant with the time the Graph read began (`readAt`, `Age`). A cached summary is
/// served while it is younger than the request's `Cache-Control: max-age` (default: the
/// service's configured age); `no-cache` or `max-age=0` forces a Graph read. Concurrent requests
/// for one tenant share one read. `If-None-Match` with the current ETag answers 304.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/registrations/summary", tag = "registrations", operation_id = "registrationSummary", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"),
        ("Cache-Control" = Option<String>, Header, description = "`max-age=N`: accept a summary up to N seconds old; `no-cache`: read Graph now"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a summary the caller holds")),
    responses(
        (status = 200, description = "The summary", body = RegistrationSummary,
            headers(
                ("ETag" = String, description = "Strong validator of the body"),
                ("Cache-Control" = String, description = "`private, max-age=<configured seconds>`"),
                ("Age" = u64, description = "Seconds since the Graph read began"))),
        (status = 304, description = "The summary still has the ETag given in If-None-Match"),
        CallerErrors, TenantErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn summary(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let read = ops::registrations::summary(
        &state.registrations,
        &state.tenants,
        reporting(&state),
        &caller,
        &tenant,
        requested_max_age(&headers),
    )
    .await?;
    Ok(summary_response(&state, read, &headers))
}

/// The query of the fleet summary (documentation; parsing is in [`query::parse_fleet_query`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FleetParams {
    /// `all` (every tenant the caller may access), or tenant ids, domains and `tag:<tag>` (the
    /// caller's tenants with that tag), comma-separated.
    #[param(pattern = r"^[^,]*[^,\s][^,]*(,[^,]*[^,\s][^,]*)*$", example = "all")]
    tenants: String,
}

/// Registration summaries for many tenants, each as it completes.
///
/// Every named tenant is checked first (unknown: 404, not accessible: 403) before any Graph
/// call. Then the summaries run a bounded number at a time through the same cache as the
/// per-tenant summary (`Cache-Control` applies to each). A tenant that fails (Graph down, no
/// licence) gets a `problem` instead of a `summary`; the others are unaffected.
/// `Accept: application/x-ndjson` streams one line per tenant as it completes; JSON (default)
/// answers once all are done.
#[utoipa::path(get, path = "/v1/registrations/summary", tag = "registrations", operation_id = "fleetRegistrationSummary", security(("bearer" = [])),
    params(FleetParams,
        ("Cache-Control" = Option<String>, Header, description = "`max-age=N`: accept summaries up to N seconds old; `no-cache`: read Graph now")),
    responses(
        (status = 200, description = "Each tenant's summary or problem, in completion order",
            content((FleetSummary = "application/json"), (FleetEntry = "application/x-ndjson"))),
        CallerErrors, QueryErrors, UnknownTenant,
    ))]
#[tracing::instrument(skip_all)]
pub async fn fleet(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let selection = parse_fleet_query(raw.as_deref().unwrap_or(""))?;
    let max_age = requested_max_age(&headers);
    let ids: Vec<String> = ops::registrations::fleet_targets(&state.tenants, &caller, &selection)?
        .into_iter()
        .map(|t| t.id.clone())
        .collect();
    if negotiate(&headers) == Format::Ndjson {
        return Ok(stream::fleet(state, ids, max_age));
    }
    let tenants: Vec<FleetEntry> = stream::fleet_entries(&state, &ids, max_age).collect().await;
    let failed = tenants.iter().filter(|t| t.problem.is_some()).count();
    Ok(Json(FleetSummary { tenants, failed }).into_response())
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(summary))
        .routes(routes!(fleet))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registrations::filter::{METHOD_NAMES, POLICY_METHOD_NAMES, Vocabulary};
    use crate::domain::registrations::summary::RegistrationCounts;
    use sspr_api::tenants::TenantRef;
    use utoipa::PartialSchema;
    use utoipa::openapi::{RefOr, Schema};

    /// The enum values of `T`'s schema.
    fn schema_values<T: PartialSchema>() -> Vec<String> {
        let RefOr::T(Schema::Object(object)) = T::schema() else {
            panic!("an inline string enum");
        };
        object
            .enum_values
            .unwrap_or_default()
            .iter()
            .map(|v| v.as_str().expect("a string value").to_owned())
            .collect()
    }

    fn names<T: Vocabulary>() -> Vec<String> {
        T::ALL.iter().map(|v| v.name().to_owned()).collect()
    }

    #[test]
    fn the_documented_values_are_the_parsed_ones() {
        assert_eq!(schema_values::<SsprFilter>(), names::<SsprFilter>());
        assert_eq!(schema_values::<MfaFilter>(), names::<MfaFilter>());
        assert_eq!(
            schema_values::<PasswordlessFilter>(),
            names::<PasswordlessFilter>()
        );
        assert_eq!(schema_values::<UserType>(), names::<UserType>());
        let fields: Vec<String> = Field::ALL.map(|f| f.name().to_owned()).to_vec();
        assert_eq!(schema_values::<Field>(), fields);
    }

    #[test]
    fn the_methods_description_names_every_accepted_method() {
        let parameters = <ListParams as IntoParams>::into_params(|| {
            Some(utoipa::openapi::path::ParameterIn::Query)
        });
        let methods = parameters
            .iter()
            .find(|p| p.name == "methods")
            .and_then(|p| p.description.clone())
            .expect("methods is documented");
        for name in METHOD_NAMES {
            assert!(methods.contains(&format!("`{name}`")), "{name}: {methods}");
        }
        for (policy, method) in POLICY_METHOD_NAMES {
            assert!(
                methods.contains(&format!("`{policy}` = `{method}`")),
                "{policy}: {methods}"
            );
        }
    }

    #[test]
    fn every_list_parameter_is_documented() {
        let parameters = <ListParams as IntoParams>::into_params(|| {
            Some(utoipa::openapi::path::ParameterIn::Query)
        });
        let documented: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(documented, query::LIST_PARAMETERS);
    }

    #[test]
    fn the_summary_serializes_as_the_contract_says() {
        let mut counts = RegistrationCounts::default();
        counts.add(&Registration {
            is_admin: false,
            is_sspr_registered: true,
            is_sspr_enabled: true,
            is_sspr_capable: true,
            is_mfa_registered: true,
            is_mfa_capable: true,
            is_passwordless_capable: false,
            methods_registered: vec!["email".into()],
            ..crate::domain::registrations::sample()
        });
        let summary = crate::domain::registrations::summary::registration_summary(
            TenantRef {
                id: "t".into(),
                domain: "contoso.onmicrosoft.com".into(),
                display_name: "Contoso".into(),
            },
            "2026-08-20T10:00:00Z".into(),
            counts,
        );
        let json = serde_json::to_value(&summary).expect("serializes");
        assert_eq!(json["source"], "graph");
        assert_eq!(json["totalUsers"], 1);
        assert_eq!(json["readAt"], "2026-08-20T10:00:00Z");
        assert_eq!(json["tenant"]["domain"], "contoso.onmicrosoft.com");
        assert_eq!(json["features"]["ssprCapable"], 1);
        assert_eq!(json["methods"]["email"], 1);
        assert_eq!(json["gaps"]["enabledNotRegistered"], 0);
    }
}
