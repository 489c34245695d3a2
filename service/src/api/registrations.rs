//! `GET /v1/tenants/{tenant}/registrations`, its `/summary`, and the fleet summary
//! `GET /v1/registrations/summary`.
//!
//! Listings are JSON pages with an opaque cursor, or a stream (`application/x-ndjson`,
//! `text/csv`) written as Graph's pages arrive: a task reads the report and feeds a small bounded
//! channel that is the response body, so memory stays flat and a slow client slows the reading.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::Value;
use url::form_urlencoded;
use utoipa::{IntoParams, ToSchema};

use super::caching::{CachedBody, requested_max_age};
use super::extract::PathParams;
use super::problem::{ApiError, Problem};
use super::responses::{CallerErrors, QueryErrors, TenantErrors, UnknownTenant};
use super::{AppState, Authenticated};
use crate::auth::Caller;
use crate::domain::registrations::filter::{FilterParams, RegistrationFilter};
use crate::domain::registrations::summary::RegistrationSummary;
use crate::domain::registrations::{Field, Registration};
use crate::ops;
use crate::ops::OpsError;
use crate::ops::registrations::{FleetSelection, SummaryRead};

const NDJSON: &str = "application/x-ndjson";
const CSV: &str = "text/csv; charset=utf-8";
/// Body chunks buffered between the reading task and the client. Each holds at most
/// [`CHUNK_RECORDS`] records, so the service holds about two thousand records per response at
/// most ([`BATCHES_IN_FLIGHT`] read ahead, these), besides the two report pages the reader keeps.
const CHUNKS_IN_FLIGHT: usize = 4;
const CHUNK_RECORDS: usize = 256;
/// Record batches read ahead of the writer: about one report page.
const BATCHES_IN_FLIGHT: usize = 4;
/// JSON page size: default and maximum.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// The query parameters of the listing (documentation; parsing is in [`parse_list_query`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// SSPR registration and enablement.
    #[param(value_type = Option<SsprFilterValue>, inline)]
    sspr: Option<String>,
    /// MFA registration and capability.
    #[param(value_type = Option<MfaFilterValue>, inline)]
    mfa: Option<String>,
    /// Passwordless capability.
    #[param(value_type = Option<PasswordlessFilterValue>, inline)]
    passwordless: Option<String>,
    /// Holds an admin role: `true` or `false`.
    admin: Option<bool>,
    #[param(rename = "userType", value_type = Option<UserTypeValue>, inline)]
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
    #[param(value_type = Option<std::collections::BTreeSet<FieldName>>, inline, style = Form, explode = false)]
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

/// Values of the listing's `sspr` filter.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used; the filter parses the text.
pub enum SsprFilterValue {
    Registered,
    NotRegistered,
    Enabled,
    NotEnabled,
    Capable,
    NotCapable,
    /// Enabled for SSPR but not registered: a reset would fail.
    EnabledNotRegistered,
    RegisteredNotEnabled,
}

/// Values of the listing's `mfa` filter.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used; the filter parses the text.
pub enum MfaFilterValue {
    Registered,
    NotRegistered,
    Capable,
    NotCapable,
}

/// Values of the listing's `passwordless` filter.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used; the filter parses the text.
pub enum PasswordlessFilterValue {
    Capable,
    NotCapable,
}

/// Values of the listing's `userType` filter.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used; the filter parses the text.
pub enum UserTypeValue {
    Member,
    Guest,
}

/// The record fields a listing can be limited to (`fields`).
#[derive(Serialize, ToSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used; `Field::parse_list` parses the text.
pub enum FieldName {
    Id,
    UserPrincipalName,
    UserDisplayName,
    UserType,
    IsAdmin,
    IsSsprRegistered,
    IsSsprEnabled,
    IsSsprCapable,
    IsMfaRegistered,
    IsMfaCapable,
    IsPasswordlessCapable,
    MethodsRegistered,
    LastUpdatedDateTime,
}

const LIST_PARAMETERS: [&str; 11] = [
    "sspr",
    "mfa",
    "passwordless",
    "admin",
    "userType",
    "methods",
    "upnPrefix",
    "fields",
    "pushdown",
    "limit",
    "cursor",
];

/// A JSON page of a listing.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // Only its schema is used; the page is written with the chosen fields.
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::domain::examples::registration_list))]
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
#[schema(examples(crate::domain::examples::registration_csv))]
#[allow(dead_code)] // Only its schema is used; the rows are streamed.
pub struct RegistrationCsv(String);

/// How the listing is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Ndjson,
    Csv,
}

/// The listing's format from `Accept`: the acceptable type with the highest `q` (the first on a
/// tie); JSON when none of ours is named.
fn negotiate(headers: &HeaderMap) -> Format {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    let mut best: Option<(f32, Format)> = None;
    for range in accept {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let format = match media.as_str() {
            "application/x-ndjson" | "application/jsonl" => Format::Ndjson,
            "text/csv" => Format::Csv,
            "application/json" | "application/*" | "*/*" => Format::Json,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, format));
        }
    }
    best.map_or(Format::Json, |(_, f)| f)
}

/// The listing's query, parsed and checked.
struct ListQuery {
    filter: RegistrationFilter,
    fields: Vec<Field>,
    pushdown: bool,
    limit: Option<usize>,
    cursor: Option<String>,
}

fn bad(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        detail: detail.into(),
        field: field.to_owned(),
    }
}

/// Known parameters, each at most once, with valid values; anything else is a 400 naming it.
fn parse_list_query(raw: &str) -> Result<ListQuery, ApiError> {
    let mut given: Vec<(String, String)> = Vec::new();
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        if !LIST_PARAMETERS.contains(&name.as_ref()) {
            return Err(bad(
                &name,
                format!(
                    "'{name}' is not a parameter of this listing; it takes {}.",
                    LIST_PARAMETERS.join(", ")
                ),
            ));
        }
        if given.iter().any(|(n, _)| *n == name) {
            return Err(bad(&name, format!("'{name}' is given more than once.")));
        }
        given.push((name.into_owned(), value.into_owned()));
    }
    let get = |name: &str| {
        given
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let filter = RegistrationFilter::parse(FilterParams {
        sspr: get("sspr"),
        mfa: get("mfa"),
        passwordless: get("passwordless"),
        admin: get("admin"),
        user_type: get("userType"),
        methods: get("methods"),
        upn_prefix: get("upnPrefix"),
    })
    .map_err(|e| bad(e.parameter, e.message))?;
    let fields = match get("fields") {
        None => Field::ALL.to_vec(),
        Some(list) => Field::parse_list(list).map_err(|e| bad("fields", e))?,
    };
    let pushdown = match get("pushdown") {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(bad(
                "pushdown",
                format!("'{other}' is not a value of pushdown; it takes true or false."),
            ));
        }
    };
    let limit = get("limit")
        .map(|text| {
            text.parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    bad(
                        "limit",
                        format!(
                            "'{text}' is not a page size; give a number from 1 to {MAX_LIMIT}."
                        ),
                    )
                })
        })
        .transpose()?;
    Ok(ListQuery {
        filter,
        fields,
        pushdown,
        limit,
        cursor: get("cursor").map(str::to_owned),
    })
}

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
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = parse_list_query(raw.as_deref().unwrap_or(""))?;
    let format = negotiate(&headers);
    if format != Format::Json {
        for (name, given) in [
            ("limit", query.limit.is_some()),
            ("cursor", query.cursor.is_some()),
        ] {
            if given {
                return Err(bad(
                    name,
                    format!("{name} pages JSON listings; NDJSON and CSV stream every user."),
                ));
            }
        }
    }
    match format {
        Format::Json => json_page(&state, &caller, &tenant, query).await,
        Format::Ndjson | Format::Csv => stream_listing(state, caller, tenant, query, format).await,
    }
}

async fn json_page(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    query: ListQuery,
) -> Result<Response, ApiError> {
    let listing = ops::registrations::open(
        &state.tenants,
        &state.graph,
        &state.cursors,
        caller,
        tenant,
        &query.filter,
        query.pushdown,
        query.cursor.as_deref(),
    )
    .await?;
    let page =
        ops::registrations::page(&state.graph, &listing, query.limit.unwrap_or(DEFAULT_LIMIT))
            .await?;
    let value: Vec<_> = page
        .records
        .iter()
        .map(|r| r.project(&query.fields))
        .collect();
    let body = serde_json::json!({
        "tenant": listing.tenant.id,
        "value": value,
        "nextCursor": page.next.as_ref().map(|p| listing.cursor(p)),
    });
    Ok(Json(body).into_response())
}

/// The sending end of a streamed response body, and how far the body has taken it.
struct Chunks {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    sent: usize,
    taken: Arc<AtomicUsize>,
}

impl Chunks {
    /// A channel and the body that drains it.
    fn channel() -> (Chunks, Body) {
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let taken = Arc::new(AtomicUsize::new(0));
        let counter = taken.clone();
        let body = Body::from_stream(rx.inspect(move |_| {
            counter.fetch_add(1, Ordering::Release);
        }));
        let chunks = Chunks { tx, sent: 0, taken };
        (chunks, body)
    }

    async fn send(&mut self, bytes: Bytes) -> Result<(), mpsc::SendError> {
        self.tx.send(Ok(bytes)).await?;
        self.sent += 1;
        Ok(())
    }

    /// Breaks the transfer, so the client sees it was cut short; but only once the body has
    /// taken every chunk sent before and had a moment to write them out, because the server
    /// drops what it still holds when a body fails.
    async fn abort(mut self, why: &'static str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.taken.load(Ordering::Acquire) < self.sent
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = self.tx.send(Err(std::io::Error::other(why))).await;
    }
}

/// Starts the task that reads the report and writes the body; answers once the report's first
/// page has arrived (or failed, which is then the response).
async fn stream_listing(
    state: AppState,
    caller: Caller,
    tenant: String,
    query: ListQuery,
    format: Format,
) -> Result<Response, ApiError> {
    let (started, start) = oneshot::channel::<Result<(), OpsError>>();
    let (chunks, body) = Chunks::channel();
    tokio::spawn(write_listing(
        state, caller, tenant, query, format, started, chunks,
    ));
    match start.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return Err(error.into()),
        Err(_) => {
            return Err(ApiError::Directory(
                crate::directory::DirectoryError::Internal(
                    "the listing task ended before it started".into(),
                ),
            ));
        }
    }
    let content_type = match format {
        Format::Csv => CSV,
        _ => NDJSON,
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

async fn write_listing(
    state: AppState,
    caller: Caller,
    tenant: String,
    query: ListQuery,
    format: Format,
    started: oneshot::Sender<Result<(), OpsError>>,
    mut chunks: Chunks,
) {
    let opened = ops::registrations::open(
        &state.tenants,
        &state.graph,
        &state.cursors,
        &caller,
        &tenant,
        &query.filter,
        query.pushdown,
        None,
    )
    .await;
    let listing = match opened {
        Ok(listing) => listing,
        Err(error) => {
            let _ = started.send(Err(error));
            return;
        }
    };
    let records = match ops::registrations::records(&state.graph, &listing).await {
        Ok(records) => records,
        Err(error) => {
            let _ = started.send(Err(error));
            return;
        }
    };
    if started.send(Ok(())).is_err() {
        return;
    }
    let fields = &query.fields;
    if format == Format::Csv {
        let header = csv_rows(std::iter::once(fields.iter().map(|f| f.name())));
        if chunks.send(header).await.is_err() {
            return;
        }
    }
    // Reading and writing run side by side: while the writer waits for the client to take a
    // chunk, the reader keeps pulling Graph's next page, so Graph and the client overlap.
    let (batches_out, mut batches_in) =
        mpsc::channel::<Vec<Result<Registration, OpsError>>>(BATCHES_IN_FLIGHT);
    let read = async move {
        let mut batches = std::pin::pin!(records.ready_chunks(CHUNK_RECORDS));
        let mut batches_out = batches_out;
        while let Some(batch) = batches.next().await {
            if batches_out.send(batch).await.is_err() {
                return; // The writer stopped.
            }
        }
    };
    let write = async move {
        while let Some(batch) = batches_in.next().await {
            let mut ok = Vec::with_capacity(batch.len());
            let mut failure = None;
            for item in batch {
                match item {
                    Ok(record) => ok.push(record),
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
            }
            let bytes = match format {
                Format::Csv => csv_rows(ok.iter().map(|r| r.project(fields).csv_cells())),
                _ => ndjson_lines(ok.iter().map(|r| r.project(fields))),
            };
            if !bytes.is_empty() && chunks.send(bytes).await.is_err() {
                return; // The client went away.
            }
            if let Some(error) = failure {
                tracing::warn!(tenant = %listing.tenant.id, %error, "registration listing failed after it started");
                let problem = problem_value(error.into()).await;
                match format {
                    Format::Csv => chunks.abort("the registration report failed").await,
                    _ => {
                        let line =
                            ndjson_lines(std::iter::once(serde_json::json!({ "error": problem })));
                        let _ = chunks.send(line).await;
                    }
                }
                return;
            }
        }
    };
    tokio::join!(read, write);
}

fn ndjson_lines<T: Serialize>(items: impl Iterator<Item = T>) -> Bytes {
    let mut out = Vec::new();
    for item in items {
        // Serializing our own types to memory cannot fail.
        let _ = serde_json::to_writer(&mut out, &item);
        out.push(b'\n');
    }
    Bytes::from(out)
}

fn csv_rows<R, C>(rows: impl Iterator<Item = R>) -> Bytes
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for row in rows {
        // Writing to memory cannot fail.
        for cell in row {
            let _ = writer.write_field(cell.as_ref());
        }
        let _ = writer.write_record(None::<&[u8]>);
    }
    Bytes::from(writer.into_inner().unwrap_or_default())
}

/// The problem document an error would be answered with, as JSON.
async fn problem_value(error: ApiError) -> Value {
    let response = error.into_response();
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
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
pub async fn summary(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let read = ops::registrations::summary(
        &state.registrations,
        &state.tenants,
        &state.graph,
        &caller,
        &tenant,
        requested_max_age(&headers),
    )
    .await?;
    Ok(summary_response(&state, read, &headers))
}

/// The query of the fleet summary (documentation; parsing is in [`fleet`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FleetParams {
    /// `all` (every tenant the caller may access) or tenant ids/domains, comma-separated.
    #[param(pattern = r"^[^,]*[^,\s][^,]*(,[^,]*[^,\s][^,]*)*$", example = "all")]
    tenants: String,
}

/// One tenant's line of the fleet summary: its summary or its problem.
#[derive(Serialize, ToSchema)]
#[schema(examples(crate::domain::examples::fleet_entry))]
pub struct FleetEntry {
    /// The tenant id.
    pub tenant: String,
    pub domain: String,
    /// The tenant's summary; absent when `problem` is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = RegistrationSummary)]
    pub summary: Option<RegistrationSummary>,
    /// Why this tenant has no summary (RFC 9457), e.g. `code: licenseRequired`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Problem)]
    pub problem: Option<Value>,
}

/// The fleet summary as one JSON document.
#[derive(Serialize, ToSchema)]
#[schema(examples(crate::domain::examples::fleet_summary))]
pub struct FleetSummary {
    /// In the order the tenants completed.
    pub tenants: Vec<FleetEntry>,
    /// How many tenants have a problem instead of a summary.
    pub failed: usize,
}

fn parse_fleet_query(raw: &str) -> Result<FleetSelection, ApiError> {
    let mut tenants = None;
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        if name != "tenants" {
            return Err(bad(
                &name,
                format!("'{name}' is not a parameter of the fleet summary; it takes tenants."),
            ));
        }
        if tenants.replace(value.into_owned()).is_some() {
            return Err(bad("tenants", "'tenants' is given more than once."));
        }
    }
    let tenants = tenants.ok_or_else(|| {
        bad(
            "tenants",
            "tenants is required: 'all' or tenant ids/domains separated by commas.",
        )
    })?;
    if tenants.trim() == "all" {
        return Ok(FleetSelection::All);
    }
    let names: Vec<String> = tenants.split(',').map(|n| n.trim().to_owned()).collect();
    if names.iter().any(String::is_empty) {
        return Err(bad(
            "tenants",
            "an empty tenant name; give 'all' or tenant ids/domains separated by single commas.",
        ));
    }
    Ok(FleetSelection::Named(names))
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
        let (chunks, body) = Chunks::channel();
        tokio::spawn(write_fleet(state, ids, max_age, chunks));
        return Ok(([(header::CONTENT_TYPE, NDJSON)], body).into_response());
    }
    let targets = ids.iter().filter_map(|id| state.tenants.find(id)).collect();
    let mut results =
        ops::registrations::fleet(&state.registrations, &state.graph, targets, max_age);
    let mut tenants = Vec::new();
    while let Some((tenant, result)) = results.next().await {
        tenants.push(fleet_entry(tenant, result).await);
    }
    let failed = tenants.iter().filter(|t| t.problem.is_some()).count();
    Ok(Json(FleetSummary { tenants, failed }).into_response())
}

async fn write_fleet(
    state: AppState,
    ids: Vec<String>,
    max_age: Option<Duration>,
    mut chunks: Chunks,
) {
    let targets = ids.iter().filter_map(|id| state.tenants.find(id)).collect();
    let mut results =
        ops::registrations::fleet(&state.registrations, &state.graph, targets, max_age);
    while let Some((tenant, result)) = results.next().await {
        let entry = fleet_entry(tenant, result).await;
        if chunks
            .send(ndjson_lines(std::iter::once(entry)))
            .await
            .is_err()
        {
            return; // The client went away; dropping the stream stops the other reads.
        }
    }
}

async fn fleet_entry(
    tenant: &crate::directory::tenants::ManagedTenant,
    result: Result<SummaryRead, OpsError>,
) -> FleetEntry {
    let (summary, problem) = match result {
        Ok(read) => (Some(read.summary.as_ref().clone()), None),
        Err(error) => (None, Some(problem_value(error.into()).await)),
    };
    FleetEntry {
        tenant: tenant.id.clone(),
        domain: tenant.primary_domain().to_owned(),
        summary,
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn accept_picks_the_preferred_format_and_defaults_to_json() {
        assert_eq!(negotiate(&HeaderMap::new()), Format::Json);
        assert_eq!(negotiate(&accept("text/csv")), Format::Csv);
        assert_eq!(negotiate(&accept("application/x-ndjson")), Format::Ndjson);
        assert_eq!(
            negotiate(&accept("application/json;q=0.5, text/csv")),
            Format::Csv
        );
        assert_eq!(
            negotiate(&accept("text/csv;q=0.2, application/x-ndjson;q=0.9")),
            Format::Ndjson
        );
        assert_eq!(negotiate(&accept("text/html")), Format::Json);
        assert_eq!(negotiate(&accept("*/*")), Format::Json);
        assert_eq!(negotiate(&accept("text/csv;q=0, */*")), Format::Json);
    }

    #[test]
    fn list_queries_refuse_unknown_repeated_and_invalid_parameters() {
        let field = |raw: &str| match parse_list_query(raw) {
            Err(ApiError::BadRequest { field, .. }) => field,
            Err(other) => panic!("{raw}: {other:?}"),
            Ok(_) => panic!("{raw} must be refused"),
        };
        assert_eq!(field("ssp=registered"), "ssp");
        assert_eq!(field("sspr=registered&sspr=enabled"), "sspr");
        assert_eq!(field("sspr=yes"), "sspr");
        assert_eq!(field("userType=robot"), "userType");
        assert_eq!(field("fields=id,nope"), "fields");
        assert_eq!(field("pushdown=maybe"), "pushdown");
        assert_eq!(field("limit=0"), "limit");
        assert_eq!(field("limit=1001"), "limit");
        let ok =
            parse_list_query("methods=email%2CmobilePhone&upnPrefix=o%27b&limit=5&pushdown=false")
                .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.filter.methods, ["email", "mobilePhone"]);
        assert_eq!(ok.filter.upn_prefix.as_deref(), Some("o'b"));
        assert_eq!(ok.limit, Some(5));
        assert!(!ok.pushdown);
        assert_eq!(ok.fields, Field::ALL);
    }

    #[test]
    fn the_methods_description_names_every_accepted_method() {
        use crate::domain::registrations::filter::{GRAPH_METHODS, POLICY_METHOD_NAMES};
        let parameters = <ListParams as IntoParams>::into_params(|| {
            Some(utoipa::openapi::path::ParameterIn::Query)
        });
        let methods = parameters
            .iter()
            .find(|p| p.name == "methods")
            .and_then(|p| p.description.clone())
            .expect("methods is documented");
        for name in GRAPH_METHODS {
            assert!(methods.contains(&format!("`{name}`")), "{name}: {methods}");
        }
        for (policy, graph) in POLICY_METHOD_NAMES {
            assert!(
                methods.contains(&format!("`{policy}` = `{graph}`")),
                "{policy}: {methods}"
            );
        }
    }

    #[test]
    fn csv_rows_quote_what_needs_quoting() {
        let bytes = csv_rows([vec!["a,b", "plain", "say \"hi\""], vec!["x", "", "y"]].into_iter());
        assert_eq!(
            String::from_utf8(bytes.to_vec()).expect("utf-8"),
            "\"a,b\",plain,\"say \"\"hi\"\"\"\nx,,y\n"
        );
    }

    #[test]
    fn fleet_queries_need_tenants() {
        assert_eq!(
            parse_fleet_query("tenants=all").ok(),
            Some(FleetSelection::All)
        );
        assert_eq!(
            parse_fleet_query("tenants=a.com,%20b.com").ok(),
            Some(FleetSelection::Named(vec!["a.com".into(), "b.com".into()]))
        );
        for raw in [
            "",
            "tenants=",
            "tenants=a,,b",
            "tenant=all",
            "tenants=a&tenants=b",
        ] {
            assert!(
                matches!(parse_fleet_query(raw), Err(ApiError::BadRequest { .. })),
                "{raw}"
            );
        }
    }
}
