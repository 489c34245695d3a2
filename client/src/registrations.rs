//! Users' registration for SSPR and MFA, from Microsoft Graph's registration report: the
//! listing (`GET /v1/tenants/{tenant}/registrations`) as JSON pages or as NDJSON or CSV read as it
//! arrives, a tenant's summary, the fleet summary, and how `sspr registrations` prints them.
//!
//! Nothing here holds a whole listing: records go from the response to the output as they
//! arrive, so a million users take as little memory as twelve.
//!
//! ```no_run
//! # async fn demo(client: &sspr_client::SsprClient) -> Result<(), sspr_client::ClientError> {
//! use sspr_client::registrations::RegistrationFilter;
//! let filter = RegistrationFilter {
//!     sspr: Some("enabledNotRegistered".into()),
//!     ..RegistrationFilter::default()
//! };
//! let mut records = client.registrations("contoso.com", &filter).await?;
//! while let Some(record) = records.next_record().await? {
//!     println!("{}", record["userPrincipalName"]);
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Write};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::header::{AGE, CACHE_CONTROL, CONTENT_TYPE, ETAG};
use reqwest::{Method, RequestBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::error::truncate;
use crate::render::{NONE, format_timestamp, new_table};
use crate::{
    ClientError, Problem, REQUEST_ID_HEADER, SsprClient, decode_error, describe_send_error,
    header_string,
};

/// The media type of one JSON document per line.
pub const NDJSON: &str = "application/x-ndjson";
/// The media type of comma-separated values.
pub const CSV: &str = "text/csv";

/// Records per page when following JSON pages (the service's maximum).
pub const MAX_PAGE: u32 = 1000;
/// How long a summary may take: the service reads the tenant's whole report first, and under
/// Graph's throttling (5 reads per 10 s per tenant) that is about 2 s per 999 users.
const REPORT_TIMEOUT: Duration = Duration::from_secs(3600);
/// A streamed listing has no total time limit; the client's timeout applies between pieces.
const STREAM_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);

/// One user's registration, as the service sends it: the members the listing's `fields` asked
/// for (by default `id`, `userPrincipalName`, `userDisplayName`, `userType`, `isAdmin`,
/// `isSsprRegistered`, `isSsprEnabled`, `isSsprCapable`, `isMfaRegistered`, `isMfaCapable`,
/// `isPasswordlessCapable`, `methodsRegistered`, `lastUpdatedDateTime`).
pub type Record = Map<String, Value>;

/// `--sspr` values.
pub const SSPR_STATES: [&str; 8] = [
    "registered",
    "notRegistered",
    "enabled",
    "notEnabled",
    "capable",
    "notCapable",
    "enabledNotRegistered",
    "registeredNotEnabled",
];

/// Which users a listing includes and which members each record has; `None` and empty members
/// are not sent.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationFilter {
    /// Only users in this SSPR state.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(SSPR_STATES))]
    pub sspr: Option<String>,
    /// Only users in this MFA state.
    #[arg(long, value_parser = ["registered", "notRegistered", "capable", "notCapable"])]
    pub mfa: Option<String>,
    /// Only users who are (or are not) passwordless capable.
    #[arg(long, value_parser = ["capable", "notCapable"])]
    pub passwordless: Option<String>,
    /// Only administrators (true) or only everybody else (false).
    #[arg(long, value_name = "true|false")]
    pub admin: Option<bool>,
    /// Only members or only guests.
    #[arg(long, value_parser = ["member", "guest"])]
    pub user_type: Option<String>,
    /// Only users with any of these methods registered, e.g. email,mobilePhone.
    #[arg(long, value_delimiter = ',', value_name = "METHOD,…")]
    pub methods: Vec<String>,
    /// Only users whose user principal name starts with this (case-insensitive).
    #[arg(long, value_name = "PREFIX")]
    pub upn_prefix: Option<String>,
    /// The record members to include, in this order (default: all).
    #[arg(long, value_delimiter = ',', value_name = "FIELD,…")]
    pub fields: Vec<String>,
    /// Evaluate every filter in the service instead of in Graph: a diagnostic that lists the
    /// same users with more Graph reads.
    #[arg(long)]
    pub no_pushdown: bool,
}

impl RegistrationFilter {
    /// Appends the filter's query parameters to `url`.
    fn append_to(&self, url: &mut Url) {
        let admin = self.admin.map(|a| a.to_string());
        let methods = (!self.methods.is_empty()).then(|| self.methods.join(","));
        let fields = (!self.fields.is_empty()).then(|| self.fields.join(","));
        let pushdown = self.no_pushdown.then(|| "false".to_owned());
        let pairs = [
            ("sspr", &self.sspr),
            ("mfa", &self.mfa),
            ("passwordless", &self.passwordless),
            ("admin", &admin),
            ("userType", &self.user_type),
            ("methods", &methods),
            ("upnPrefix", &self.upn_prefix),
            ("fields", &fields),
            ("pushdown", &pushdown),
        ];
        if pairs.iter().all(|(_, value)| value.is_none()) {
            return;
        }
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
}

/// How a listing streams: one JSON record per line, or CSV with a header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamMedia {
    Ndjson,
    Csv,
}

impl StreamMedia {
    pub fn media_type(self) -> &'static str {
        match self {
            StreamMedia::Ndjson => NDJSON,
            StreamMedia::Csv => CSV,
        }
    }
}

/// One page of a listing as JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationPage {
    /// The tenant's id.
    pub tenant: String,
    pub value: Vec<Record>,
    /// Pass to the next call for the following page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// A tenant's registration summary, `GET /v1/tenants/{tenant}/registrations/summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationSummary {
    pub tenant: SummaryTenant,
    /// RFC 3339: when Graph's report was read (earlier than now when the service's copy is
    /// cached).
    pub read_at: String,
    pub source: String,
    pub total_users: u64,
    pub features: FeatureCounts,
    /// Users per registered method, by Graph's method name.
    pub methods: BTreeMap<String, u64>,
    pub gaps: GapCounts,
    /// Members this version does not know, kept so they survive a round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryTenant {
    pub id: String,
    pub domain: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Users per feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureCounts {
    pub sspr_registered: u64,
    pub sspr_enabled: u64,
    pub sspr_capable: u64,
    pub mfa_registered: u64,
    pub mfa_capable: u64,
    pub passwordless_capable: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Users who need attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GapCounts {
    /// Allowed to reset their password but cannot: not registered.
    pub enabled_not_registered: u64,
    /// Registered but not allowed to use SSPR.
    pub registered_not_enabled: u64,
    pub admins_without_mfa: u64,
    pub guests: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A summary with the response headers that say how fresh it is.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryResponse {
    pub summary: RegistrationSummary,
    pub etag: Option<String>,
    /// Seconds since the service read Graph (the `Age` header), when it answered from its cache.
    pub age: Option<u64>,
    pub request_id: Option<String>,
}

/// The tenants of a fleet summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetTenants {
    /// Every tenant the caller may access.
    All,
    /// These tenants, by id or domain.
    Named(Vec<String>),
}

/// One tenant of a fleet summary, as it completed.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetEntry {
    /// The tenant's id.
    pub tenant: String,
    pub domain: Option<String>,
    /// Its summary, or the problem that kept it from one (e.g. `licenseRequired`).
    pub result: Result<RegistrationSummary, Problem>,
    /// The line as the service sent it.
    pub line: Vec<u8>,
}

impl FleetEntry {
    /// The domain, or the id when the service named none.
    pub fn name(&self) -> &str {
        self.domain.as_deref().unwrap_or(&self.tenant)
    }

    fn parse(url: &Url, line: Vec<u8>) -> Result<FleetEntry, ClientError> {
        #[derive(Deserialize)]
        struct Wire {
            tenant: String,
            domain: Option<String>,
            summary: Option<RegistrationSummary>,
            problem: Option<Value>,
        }
        let wire: Wire = serde_json::from_slice(&line)
            .map_err(|e| decode_error(url, "a tenant's summary or problem", &e, &line))?;
        let result = match (wire.summary, wire.problem) {
            (Some(summary), _) => Ok(summary),
            (None, Some(problem)) => Err(Problem::from_json(502, problem)),
            (None, None) => {
                return Err(ClientError::Decode(format!(
                    "GET {url}: tenant {} came with neither a summary nor a problem",
                    wire.tenant
                )));
            }
        };
        Ok(FleetEntry {
            tenant: wire.tenant,
            domain: wire.domain,
            result,
            line,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Calls.
// ---------------------------------------------------------------------------------------------

impl SsprClient {
    /// One page of `GET /v1/tenants/{tenant}/registrations` as JSON: `limit` records (1 to
    /// 1000; the service's default is 100) from `cursor` on.
    pub async fn registrations_page(
        &self,
        tenant: &str,
        filter: &RegistrationFilter,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<RegistrationPage, ClientError> {
        let mut url = self.tenant_endpoint(tenant, &["registrations"])?;
        filter.append_to(&mut url);
        {
            let mut query = url.query_pairs_mut();
            if let Some(limit) = limit {
                query.append_pair("limit", &limit.to_string());
            }
            if let Some(cursor) = cursor {
                query.append_pair("cursor", cursor);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let (body, _) = self.get(&url).await?;
        serde_json::from_slice(&body)
            .map_err(|e| decode_error(&url, "a page of registrations", &e, &body))
    }

    /// `GET /v1/tenants/{tenant}/registrations` as NDJSON or CSV: the body, read as it arrives.
    /// An error before the first byte is the service's problem; a transfer that breaks off later
    /// is an error of [`Body::chunk`].
    pub async fn registrations_body(
        &self,
        tenant: &str,
        filter: &RegistrationFilter,
        media: StreamMedia,
    ) -> Result<Body, ClientError> {
        let mut url = self.tenant_endpoint(tenant, &["registrations"])?;
        filter.append_to(&mut url);
        self.stream(url, media.media_type(), None, self.timeout)
            .await
    }

    /// The listing's records as they arrive (NDJSON underneath). A listing the service had to
    /// stop half-way ends with [`ClientError::Interrupted`].
    pub async fn registrations(
        &self,
        tenant: &str,
        filter: &RegistrationFilter,
    ) -> Result<RecordStream, ClientError> {
        let body = self
            .registrations_body(tenant, filter, StreamMedia::Ndjson)
            .await?;
        Ok(RecordStream {
            lines: Lines::new(body),
        })
    }

    /// `GET /v1/tenants/{tenant}/registrations/summary`. `max_age` (seconds) accepts a copy the
    /// service read at most that long ago; 0 asks for a fresh read of Graph.
    pub async fn registrations_summary(
        &self,
        tenant: &str,
        max_age: Option<u64>,
    ) -> Result<SummaryResponse, ClientError> {
        let url = self.tenant_endpoint(tenant, &["registrations", "summary"])?;
        let cache = cache_control(max_age);
        let prepare = |request: RequestBuilder| {
            with_cache_control(request, cache.as_deref()).timeout(REPORT_TIMEOUT)
        };
        let response = self
            .open(Method::GET, &url, crate::ACCEPT_JSON, Some(&prepare))
            .await?;
        let etag = header_string(response.headers(), ETAG.as_str());
        let age = header_string(response.headers(), AGE.as_str()).and_then(|age| age.parse().ok());
        let request_id = header_string(response.headers(), REQUEST_ID_HEADER);
        let body = response
            .bytes()
            .await
            .map_err(|e| ClientError::Transport(describe_send_error("GET", &url, &e)))?;
        let summary = serde_json::from_slice(&body)
            .map_err(|e| decode_error(&url, "a registration summary", &e, &body))?;
        Ok(SummaryResponse {
            summary,
            etag,
            age,
            request_id,
        })
    }

    /// `GET /v1/registrations/summary` as NDJSON: each tenant's summary or problem as it
    /// completes. Unknown or inaccessible tenants are refused before any work.
    pub async fn fleet_summary(
        &self,
        tenants: &FleetTenants,
        max_age: Option<u64>,
    ) -> Result<FleetStream, ClientError> {
        let mut url = self.endpoint(&["v1", "registrations", "summary"])?;
        let names = match tenants {
            FleetTenants::All => "all".to_owned(),
            FleetTenants::Named(names) => names.join(","),
        };
        url.query_pairs_mut().append_pair("tenants", &names);
        let body = self.stream(url, NDJSON, max_age, REPORT_TIMEOUT).await?;
        Ok(FleetStream {
            lines: Lines::new(body),
        })
    }

    /// A GET whose body is read as it arrives: at most `idle` to the response and between
    /// pieces of the body, no limit on the whole.
    async fn stream(
        &self,
        url: Url,
        media_type: &'static str,
        max_age: Option<u64>,
        idle: Duration,
    ) -> Result<Body, ClientError> {
        let cache = cache_control(max_age);
        let prepare = |request: RequestBuilder| {
            with_cache_control(request, cache.as_deref()).timeout(STREAM_TIMEOUT)
        };
        let accept = format!("{media_type}, application/problem+json;q=0.9");
        let response =
            tokio::time::timeout(idle, self.open(Method::GET, &url, &accept, Some(&prepare)))
                .await
                .map_err(|_| {
                    ClientError::Transport(format!(
                        "GET {url}: timed out (no answer in {} s)",
                        idle.as_secs()
                    ))
                })??;
        let content_type = header_string(response.headers(), CONTENT_TYPE.as_str());
        let essence = content_type
            .as_deref()
            .and_then(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase());
        if essence.as_deref() != Some(media_type) {
            return Err(ClientError::Decode(format!(
                "GET {url}: expected {media_type}, got {}",
                content_type.as_deref().unwrap_or("no Content-Type")
            )));
        }
        Ok(Body {
            request_id: header_string(response.headers(), REQUEST_ID_HEADER),
            chunks: Box::pin(response.bytes_stream()),
            url,
            idle,
            received: 0,
        })
    }
}

fn cache_control(max_age: Option<u64>) -> Option<String> {
    max_age.map(|seconds| format!("max-age={seconds}"))
}

fn with_cache_control(request: RequestBuilder, value: Option<&str>) -> RequestBuilder {
    match value {
        Some(value) => request.header(CACHE_CONTROL, value),
        None => request,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a body as it arrives.
// ---------------------------------------------------------------------------------------------

/// A response body read piece by piece as the network delivers it.
pub struct Body {
    chunks: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    url: Url,
    idle: Duration,
    received: u64,
    /// The response's `x-request-id`.
    pub request_id: Option<String>,
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("url", &self.url.as_str())
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl Body {
    /// The next piece, `None` at the end. A transfer that breaks off (the service cuts a CSV
    /// body when Graph fails half-way), or sends nothing for longer than the client's timeout,
    /// is [`ClientError::Interrupted`], naming how far it got.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, ClientError> {
        let detail = match tokio::time::timeout(self.idle, self.chunks.next()).await {
            Ok(None) => return Ok(None),
            Ok(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                return Ok(Some(chunk));
            }
            Err(_) => format!(
                "GET {}: nothing arrived for {} s after {} bytes.",
                self.url,
                self.idle.as_secs(),
                self.received
            ),
            Ok(Some(Err(error))) => format!(
                "{} after {} bytes.",
                describe_send_error("GET", &self.url, &error),
                self.received
            ),
        };
        let mut problem = Problem::from_json(
            502,
            serde_json::json!({"title": "The response broke off", "detail": detail}),
        );
        problem.request_id.clone_from(&self.request_id);
        Err(interrupted(problem))
    }
}

/// Splits bytes into lines across pieces that end anywhere; `\r\n` and `\n` both end a line.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Calls `line` for every line `chunk` completes (without its line end).
    pub fn push(&mut self, chunk: &[u8], mut line: impl FnMut(&[u8])) {
        let mut rest = chunk;
        while let Some(at) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(at);
            if self.partial.is_empty() {
                line(strip_cr(head));
            } else {
                self.partial.extend_from_slice(head);
                line(strip_cr(&self.partial));
                self.partial.clear();
            }
            rest = &tail[1..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// The last line when the input did not end with a line end.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = std::mem::take(&mut self.partial);
        let rest = strip_cr(&rest);
        (!rest.is_empty()).then(|| rest.to_vec())
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The non-empty lines of a body, as they arrive.
#[derive(Debug)]
pub struct Lines {
    body: Body,
    splitter: LineSplitter,
    ready: VecDeque<Vec<u8>>,
    ended: bool,
}

impl Lines {
    pub fn new(body: Body) -> Lines {
        Lines {
            body,
            splitter: LineSplitter::default(),
            ready: VecDeque::new(),
            ended: false,
        }
    }

    /// Every complete line that has arrived by the time one is available (at least one), or
    /// `None` at the end. Handing them over together lets a writer flush once per piece.
    pub async fn next_batch(&mut self) -> Result<Option<VecDeque<Vec<u8>>>, ClientError> {
        loop {
            if !self.ready.is_empty() {
                return Ok(Some(std::mem::take(&mut self.ready)));
            }
            if self.ended {
                return Ok(None);
            }
            match self.body.chunk().await? {
                Some(chunk) => {
                    let ready = &mut self.ready;
                    self.splitter.push(&chunk, |line| {
                        if !line.trim_ascii().is_empty() {
                            ready.push_back(line.to_vec());
                        }
                    });
                }
                None => {
                    self.ended = true;
                    if let Some(last) = self.splitter.finish()
                        && !last.trim_ascii().is_empty()
                    {
                        self.ready.push_back(last);
                    }
                }
            }
        }
    }

    /// The next line, `None` at the end.
    pub async fn next_line(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        if self.ready.is_empty() {
            match self.next_batch().await? {
                Some(batch) => self.ready = batch,
                None => return Ok(None),
            }
        }
        Ok(self.ready.pop_front())
    }

    fn url(&self) -> &Url {
        &self.body.url
    }
}

/// The problem of a stream's closing `{"error": {…problem…}}` line, when `line` is one.
pub fn stream_error(line: &[u8]) -> Option<Problem> {
    let rest = line.trim_ascii_start().strip_prefix(b"{")?;
    if !rest.trim_ascii_start().starts_with(b"\"error\"") {
        return None;
    }
    let Ok(Value::Object(mut members)) = serde_json::from_slice::<Value>(line) else {
        return None;
    };
    if members.len() != 1 {
        return None;
    }
    members
        .remove("error")
        .map(|problem| Problem::from_json(502, problem))
}

fn interrupted(problem: Problem) -> ClientError {
    ClientError::Interrupted {
        problem: Box::new(problem),
    }
}

/// A listing's records as they arrive.
#[derive(Debug)]
pub struct RecordStream {
    lines: Lines,
}

impl RecordStream {
    /// The next record, `None` at the end of a complete listing.
    pub async fn next_record(&mut self) -> Result<Option<Record>, ClientError> {
        let Some(line) = self.lines.next_line().await? else {
            return Ok(None);
        };
        parse_record(self.lines.url(), &line).map(Some)
    }

    /// The records as a [`Stream`].
    pub fn into_stream(self) -> impl Stream<Item = Result<Record, ClientError>> + Send {
        futures::stream::try_unfold(self, |mut records| async move {
            Ok(records.next_record().await?.map(|record| (record, records)))
        })
    }
}

fn parse_record(url: &Url, line: &[u8]) -> Result<Record, ClientError> {
    if let Some(problem) = stream_error(line) {
        return Err(interrupted(problem));
    }
    serde_json::from_slice(line).map_err(|e| decode_error(url, "a registration record", &e, line))
}

/// A fleet summary's tenants as each completes.
#[derive(Debug)]
pub struct FleetStream {
    lines: Lines,
}

impl FleetStream {
    /// The next tenant, `None` when every tenant has completed.
    pub async fn next_entry(&mut self) -> Result<Option<FleetEntry>, ClientError> {
        let Some(line) = self.lines.next_line().await? else {
            return Ok(None);
        };
        if let Some(problem) = stream_error(&line) {
            return Err(interrupted(problem));
        }
        FleetEntry::parse(self.lines.url(), line).map(Some)
    }
}

/// Passes CSV on a whole row at a time, counting rows: a row is held back until its line end
/// arrives (line ends inside quoted fields do not count), so a transfer that breaks off never
/// leaves half a row on the output.
#[derive(Debug, Default)]
pub struct CsvRows {
    in_quotes: bool,
    line_ends: u64,
    /// The start of a row whose line end has not arrived yet.
    held: Vec<u8>,
    /// A last row without a line end was written by [`finish`](Self::finish).
    unterminated: bool,
}

impl CsvRows {
    /// Writes every row `chunk` completes.
    pub fn push(&mut self, chunk: &[u8], out: &mut dyn Write) -> io::Result<()> {
        let mut last_end = None;
        for (at, byte) in chunk.iter().enumerate() {
            match byte {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => {
                    self.line_ends += 1;
                    last_end = Some(at);
                }
                _ => {}
            }
        }
        match last_end {
            Some(at) => {
                out.write_all(&self.held)?;
                out.write_all(&chunk[..=at])?;
                self.held.clear();
                self.held.extend_from_slice(&chunk[at + 1..]);
            }
            None => self.held.extend_from_slice(chunk),
        }
        Ok(())
    }

    /// At the end of a complete body: writes a last row that had no line end.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.held.is_empty() {
            out.write_all(&self.held)?;
            self.held.clear();
            self.unterminated = true;
        }
        Ok(())
    }

    /// Rows written, not counting the header row.
    pub fn rows(&self) -> u64 {
        (self.line_ends + u64::from(self.unterminated)).saturating_sub(1)
    }
}

// ---------------------------------------------------------------------------------------------
// The command line: formats, progress and writers.
// ---------------------------------------------------------------------------------------------

/// `sspr registrations list --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Aligned columns, printed as records arrive.
    Table,
    /// One JSON array (every page followed).
    Json,
    /// One JSON record per line, as the service sends them.
    Ndjson,
    /// CSV with a header row, as the service sends it.
    Csv,
}

/// `sspr registrations summary --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    /// Tables of counts (one row per tenant for several tenants).
    Table,
    /// One JSON document (an array, in completion order, for several tenants).
    Json,
    /// One JSON document per line (per tenant for a fleet).
    Ndjson,
}

/// Why a command stopped: the service (or the network), or the output.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("cannot write the output: {0}")]
    Write(#[from] io::Error),
}

impl From<serde_json::Error> for OutputError {
    fn from(error: serde_json::Error) -> Self {
        OutputError::Write(error.into())
    }
}

/// `fetched N users…` on stderr: every `every` records and at the end; one line rewritten in
/// place on a terminal, one line each otherwise.
pub struct Progress {
    sink: Option<Box<dyn Write + Send>>,
    rewrite: bool,
    every: u64,
    shown: u64,
    width: usize,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("every", &self.every)
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

/// Records between two progress lines.
pub const PROGRESS_EVERY: u64 = 1000;

impl Progress {
    /// Progress on stderr, rewritten in place when stderr is a terminal; nothing when `quiet`.
    pub fn stderr(quiet: bool) -> Progress {
        use std::io::IsTerminal;
        if quiet {
            return Progress::silent();
        }
        let rewrite = io::stderr().is_terminal();
        Progress::to(Box::new(io::stderr()), rewrite, PROGRESS_EVERY)
    }

    pub fn silent() -> Progress {
        Progress {
            sink: None,
            rewrite: false,
            every: PROGRESS_EVERY,
            shown: 0,
            width: 0,
        }
    }

    pub fn to(sink: Box<dyn Write + Send>, rewrite: bool, every: u64) -> Progress {
        Progress {
            sink: Some(sink),
            rewrite,
            every: every.max(1),
            shown: 0,
            width: 0,
        }
    }

    /// `total` records so far: a line when a multiple of `every` was passed since the last.
    pub fn update(&mut self, total: u64) {
        if total / self.every > self.shown / self.every {
            self.shown = total;
            self.show(&format!("fetched {} users…", thousands(total)), false);
        }
    }

    /// The final count.
    pub fn finish(&mut self, total: u64) {
        self.shown = total;
        self.show(&format!("fetched {} users", thousands(total)), true);
    }

    fn show(&mut self, text: &str, last: bool) {
        let Some(sink) = &mut self.sink else {
            return;
        };
        // Progress is best effort: a closed stderr must not fail the listing.
        let _ = if self.rewrite {
            let pad = self.width.saturating_sub(text.chars().count());
            self.width = text.chars().count();
            write!(sink, "\r{text}{:pad$}{}", "", if last { "\n" } else { "" })
        } else {
            writeln!(sink, "{text}")
        };
        let _ = sink.flush();
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// Writes a tenant's listing to `out` in `format` as it arrives, with progress; the number of
/// records. Whatever was written stays written when the listing fails part-way.
pub async fn write_listing(
    client: &SsprClient,
    tenant: &str,
    filter: &RegistrationFilter,
    format: ListFormat,
    out: &mut dyn Write,
    progress: &mut Progress,
) -> Result<u64, OutputError> {
    let result = match format {
        ListFormat::Csv => write_csv(client, tenant, filter, out, progress).await,
        ListFormat::Ndjson => write_ndjson(client, tenant, filter, out, progress).await,
        ListFormat::Json => write_json(client, tenant, filter, out, progress).await,
        ListFormat::Table => write_table(client, tenant, filter, out, progress).await,
    };
    // What arrived before a failure is already out; it must not sit in a buffer.
    out.flush()?;
    result
}

async fn write_csv(
    client: &SsprClient,
    tenant: &str,
    filter: &RegistrationFilter,
    out: &mut dyn Write,
    progress: &mut Progress,
) -> Result<u64, OutputError> {
    let mut body = client
        .registrations_body(tenant, filter, StreamMedia::Csv)
        .await?;
    let mut rows = CsvRows::default();
    loop {
        match body.chunk().await {
            Ok(Some(chunk)) => {
                rows.push(&chunk, out)?;
                out.flush()?;
                progress.update(rows.rows());
            }
            Ok(None) => break,
            Err(error) => {
                progress.finish(rows.rows());
                return Err(error.into());
            }
        }
    }
    rows.finish(out)?;
    progress.finish(rows.rows());
    Ok(rows.rows())
}

async fn write_ndjson(
    client: &SsprClient,
    tenant: &str,
    filter: &RegistrationFilter,
    out: &mut dyn Write,
    progress: &mut Progress,
) -> Result<u64, OutputError> {
    let body = client
        .registrations_body(tenant, filter, StreamMedia::Ndjson)
        .await?;
    let mut lines = Lines::new(body);
    let mut count = 0;
    while let Some(batch) = lines.next_batch().await? {
        for line in batch {
            if let Some(problem) = stream_error(&line) {
                progress.finish(count);
                return Err(interrupted(problem).into());
            }
            out.write_all(&line)?;
            out.write_all(b"\n")?;
            count += 1;
            progress.update(count);
        }
        out.flush()?;
    }
    progress.finish(count);
    Ok(count)
}

async fn write_json(
    client: &SsprClient,
    tenant: &str,
    filter: &RegistrationFilter,
    out: &mut dyn Write,
    progress: &mut Progress,
) -> Result<u64, OutputError> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    out.write_all(b"[")?;
    loop {
        let page = match client
            .registrations_page(tenant, filter, Some(MAX_PAGE), cursor.as_deref())
            .await
        {
            Ok(page) => page,
            // After the first page the listing is under way: stopping is an interruption.
            Err(ClientError::Api { problem, .. }) if count > 0 => {
                progress.finish(count);
                return Err(ClientError::Interrupted { problem }.into());
            }
            Err(error) => return Err(error.into()),
        };
        for record in &page.value {
            out.write_all(if count == 0 { b"\n  " } else { b",\n  " })?;
            serde_json::to_writer(&mut *out, record)?;
            count += 1;
            progress.update(count);
        }
        out.flush()?;
        match page.next_cursor {
            None => break,
            Some(next) if cursor.as_deref() == Some(next.as_str()) => {
                return Err(ClientError::Decode(format!(
                    "the registrations nextCursor repeats '{next}'"
                ))
                .into());
            }
            Some(next) => cursor = Some(next),
        }
    }
    out.write_all(if count == 0 { b"]\n" } else { b"\n]\n" })?;
    progress.finish(count);
    Ok(count)
}

async fn write_table(
    client: &SsprClient,
    tenant: &str,
    filter: &RegistrationFilter,
    out: &mut dyn Write,
    progress: &mut Progress,
) -> Result<u64, OutputError> {
    let table = RecordTable::new(&filter.fields);
    // Only what the columns show crosses the network.
    let filter = RegistrationFilter {
        fields: table.fields(),
        ..filter.clone()
    };
    let body = client
        .registrations_body(tenant, &filter, StreamMedia::Ndjson)
        .await?;
    let mut lines = Lines::new(body);
    writeln!(out, "{}", table.header())?;
    let mut count = 0;
    while let Some(batch) = lines.next_batch().await? {
        for line in batch {
            let record = match parse_record(lines.url(), &line) {
                Ok(record) => record,
                Err(error) => {
                    progress.finish(count);
                    return Err(error.into());
                }
            };
            writeln!(out, "{}", table.row(&record))?;
            count += 1;
            progress.update(count);
        }
        out.flush()?;
    }
    progress.finish(count);
    Ok(count)
}

/// The columns `sspr registrations list` shows by default.
pub const TABLE_FIELDS: [&str; 9] = [
    "userPrincipalName",
    "userType",
    "isAdmin",
    "isSsprRegistered",
    "isSsprEnabled",
    "isSsprCapable",
    "isMfaRegistered",
    "isMfaCapable",
    "methodsRegistered",
];

/// A table whose column widths are fixed before the first record arrives, so each row can be
/// printed as soon as its record is read. Longer values are cut with `…`, except in the last
/// column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordTable {
    columns: Vec<(String, &'static str, usize)>,
}

impl RecordTable {
    /// Columns for `fields`, or [`TABLE_FIELDS`] when empty.
    pub fn new(fields: &[String]) -> RecordTable {
        let fields: Vec<String> = if fields.is_empty() {
            TABLE_FIELDS.iter().map(|f| (*f).to_owned()).collect()
        } else {
            fields.to_vec()
        };
        let columns = fields
            .into_iter()
            .map(|field| {
                let (header, width) = column(&field);
                (field, header, width)
            })
            .collect();
        RecordTable { columns }
    }

    /// The record members the columns show.
    pub fn fields(&self) -> Vec<String> {
        self.columns.iter().map(|(f, _, _)| f.clone()).collect()
    }

    pub fn header(&self) -> String {
        self.line(self.columns.iter().map(|(field, header, _)| {
            if header.is_empty() {
                field.to_uppercase()
            } else {
                (*header).to_owned()
            }
        }))
    }

    pub fn row(&self, record: &Record) -> String {
        self.line(
            self.columns
                .iter()
                .map(|(field, _, _)| cell(record.get(field).unwrap_or(&Value::Null))),
        )
    }

    fn line(&self, cells: impl Iterator<Item = String>) -> String {
        let mut line = String::new();
        let last = self.columns.len().saturating_sub(1);
        for (i, (text, (_, _, width))) in cells.zip(&self.columns).enumerate() {
            if i == last {
                line.push_str(&text);
            } else {
                let text = fit(&text, *width);
                let pad = width.saturating_sub(text.chars().count());
                line.push_str(&text);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        line.trim_end().to_owned()
    }
}

/// A column's header and width; an unknown field gets its name in capitals and room for it.
fn column(field: &str) -> (&'static str, usize) {
    match field {
        "id" => ("ID", 36),
        "userPrincipalName" => ("UPN", 40),
        "userDisplayName" => ("NAME", 24),
        "userType" => ("TYPE", 6),
        "isAdmin" => ("ADMIN", 5),
        "isSsprRegistered" => ("SSPR-REG", 8),
        "isSsprEnabled" => ("SSPR-ON", 7),
        "isSsprCapable" => ("SSPR-CAP", 8),
        "isMfaRegistered" => ("MFA-REG", 7),
        "isMfaCapable" => ("MFA-CAP", 7),
        "isPasswordlessCapable" => ("PWDLESS-CAP", 11),
        "methodsRegistered" => ("METHODS", 40),
        "lastUpdatedDateTime" => ("UPDATED", 23),
        other => ("", other.chars().count().max(12)),
    }
}

/// A value as a table cell: yes/no, lists joined with `,`, timestamps in UTC.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => NONE.to_owned(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::String(text) if text.len() >= 20 && text.contains('T') => format_timestamp(text),
        Value::String(text) => text.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => NONE.to_owned(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => value.to_string(),
    }
}

/// `text` in at most `width` characters, cut with `…`.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        truncate(text, width.saturating_sub(1))
    }
}

/// A share of the total as a percentage with one decimal, `—` of nothing.
fn share(count: u64, total: u64) -> String {
    if total == 0 {
        return NONE.to_owned();
    }
    #[allow(clippy::cast_precision_loss)] // counts of users are far below 2^52
    let percent = count as f64 * 100.0 / total as f64;
    format!("{percent:.1}%")
}

/// The summary as text: a header line and three tables (features, methods, gaps).
pub fn summary_text(response: &SummaryResponse, width: Option<u16>) -> String {
    let summary = &response.summary;
    let total = summary.total_users;
    let mut header = format!(
        "Tenant: {} ({}), {} users, read from {} {}",
        summary.tenant.domain,
        summary.tenant.id,
        thousands(total),
        summary.source,
        format_timestamp(&summary.read_at)
    );
    if let Some(age) = response.age.filter(|age| *age > 0) {
        header.push_str(&format!(" ({age} s ago)"));
    }

    let f = &summary.features;
    let mut features = new_table(width);
    features.set_header(["FEATURE", "USERS", "SHARE"]);
    for (label, count) in [
        ("SSPR registered", f.sspr_registered),
        ("SSPR enabled", f.sspr_enabled),
        ("SSPR capable", f.sspr_capable),
        ("MFA registered", f.mfa_registered),
        ("MFA capable", f.mfa_capable),
        ("Passwordless capable", f.passwordless_capable),
    ] {
        features.add_row([label.to_owned(), thousands(count), share(count, total)]);
    }

    let mut methods = new_table(width);
    methods.set_header(["METHOD", "USERS", "SHARE"]);
    let mut by_count: Vec<(&String, &u64)> = summary.methods.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (method, count) in by_count {
        methods.add_row([method.clone(), thousands(*count), share(*count, total)]);
    }

    let g = &summary.gaps;
    let mut gaps = new_table(width);
    gaps.set_header(["GAP", "USERS", "SHARE"]);
    for (label, count) in [
        ("SSPR enabled, not registered", g.enabled_not_registered),
        ("SSPR registered, not enabled", g.registered_not_enabled),
        ("Administrators without MFA", g.admins_without_mfa),
        ("Guests", g.guests),
    ] {
        gaps.add_row([label.to_owned(), thousands(count), share(count, total)]);
    }
    format!("{header}\n{features}\n{methods}\n{gaps}")
}

/// How a fleet summary went: how many tenants, which were skipped and which failed, with what.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetOutcome {
    pub tenants: usize,
    /// `(tenant, problem code or title)` of every failed tenant.
    pub failed: Vec<(String, String)>,
    /// `(tenant, reason)` of every tenant left out for want of the licence (not with `strict`).
    pub skipped: Vec<(String, String)>,
}

impl FleetOutcome {
    /// Every failure is a missing licence: nothing to retry (only meaningful when some failed).
    pub fn only_licence_failures(&self) -> bool {
        self.failed
            .iter()
            .all(|(_, code)| code == crate::error::LICENSE_REQUIRED)
    }
}

/// How a fleet summary treats a tenant without the licence the report needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlicensed {
    /// Listed as `skipped` with the reason; not a failure.
    Skip,
    /// A failure like any other (`--strict`).
    Fail,
}

/// The line of a tenant skipped for want of the licence: the service's line with `skipped:
/// true` and the `reason`.
fn skipped_line(entry: &FleetEntry, reason: &str) -> Vec<u8> {
    match serde_json::from_slice::<Value>(&entry.line) {
        Ok(Value::Object(mut members)) => {
            members.insert("skipped".into(), Value::Bool(true));
            members.insert("reason".into(), Value::String(reason.to_owned()));
            serde_json::to_vec(&members).unwrap_or_else(|_| entry.line.clone())
        }
        _ => entry.line.clone(),
    }
}

/// Writes each tenant of a fleet summary as it completes: a table row, an element of one JSON
/// array, or the service's line (a skipped tenant's marked `skipped` with the `reason`).
pub async fn write_fleet(
    client: &SsprClient,
    tenants: &FleetTenants,
    format: SummaryFormat,
    max_age: Option<u64>,
    unlicensed: Unlicensed,
    out: &mut dyn Write,
) -> Result<FleetOutcome, OutputError> {
    let mut stream = client.fleet_summary(tenants, max_age).await?;
    let mut outcome = FleetOutcome::default();
    let table = FleetTable;
    match format {
        SummaryFormat::Table => writeln!(out, "{}", table.header())?,
        SummaryFormat::Json => out.write_all(b"[")?,
        SummaryFormat::Ndjson => {}
    }
    out.flush()?;
    let result = loop {
        let entry = match stream.next_entry().await {
            Ok(Some(entry)) => entry,
            Ok(None) => break Ok(()),
            Err(error) => break Err(error),
        };
        let skip_reason = match &entry.result {
            Err(problem)
                if unlicensed == Unlicensed::Skip
                    && problem.code().as_deref() == Some(crate::error::LICENSE_REQUIRED) =>
            {
                Some(problem.summary())
            }
            _ => None,
        };
        let line = match &skip_reason {
            Some(reason) => skipped_line(&entry, reason),
            None => entry.line.clone(),
        };
        match format {
            SummaryFormat::Table => {
                writeln!(out, "{}", table.row(&entry, skip_reason.is_some()))?;
            }
            SummaryFormat::Json => {
                out.write_all(if outcome.tenants == 0 {
                    b"\n  "
                } else {
                    b",\n  "
                })?;
                out.write_all(&line)?;
            }
            SummaryFormat::Ndjson => {
                out.write_all(&line)?;
                out.write_all(b"\n")?;
            }
        }
        out.flush()?;
        outcome.tenants += 1;
        match (skip_reason, &entry.result) {
            (Some(reason), _) => outcome.skipped.push((entry.name().to_owned(), reason)),
            (None, Err(problem)) => {
                let what = problem.code().unwrap_or_else(|| problem.title.clone());
                outcome.failed.push((entry.name().to_owned(), what));
            }
            (None, Ok(_)) => {}
        }
    };
    if result.is_ok() && format == SummaryFormat::Json {
        out.write_all(if outcome.tenants == 0 {
            b"]\n"
        } else {
            b"\n]\n"
        })?;
    }
    out.flush()?;
    result?;
    Ok(outcome)
}

/// The fleet table: one row per tenant with the headline counts, or the problem.
#[derive(Debug, Clone, Copy)]
struct FleetTable;

impl FleetTable {
    const COLUMNS: [(&'static str, usize); 9] = [
        ("TENANT", 32),
        ("USERS", 9),
        ("SSPR-REG", 9),
        ("SSPR-ON", 9),
        ("SSPR-CAP", 9),
        ("MFA-REG", 9),
        ("ON-NOT-REG", 10),
        ("ADMINS-NO-MFA", 13),
        ("NOTE", 0),
    ];

    fn header(self) -> String {
        self.line(Self::COLUMNS.iter().map(|(h, _)| (*h).to_owned()).collect())
    }

    /// The tenant's counts, or its problem (`skipped: …` when it was left out).
    fn row(self, entry: &FleetEntry, skipped: bool) -> String {
        let mut cells = vec![entry.name().to_owned()];
        match &entry.result {
            Ok(s) => {
                cells.extend(
                    [
                        s.total_users,
                        s.features.sspr_registered,
                        s.features.sspr_enabled,
                        s.features.sspr_capable,
                        s.features.mfa_registered,
                        s.gaps.enabled_not_registered,
                        s.gaps.admins_without_mfa,
                    ]
                    .map(thousands),
                );
                cells.push(String::new());
            }
            Err(problem) => {
                cells.extend(std::iter::repeat_n(NONE.to_owned(), 7));
                let mut note = match problem.code() {
                    Some(code) => format!("{code}: {}", problem.summary()),
                    None => problem.summary(),
                };
                if skipped {
                    note.insert_str(0, "skipped: ");
                }
                cells.push(note);
            }
        }
        self.line(cells)
    }

    /// The tenant left-aligned, counts right-aligned, the error as it is.
    fn line(self, cells: Vec<String>) -> String {
        let mut line = String::new();
        for (i, (text, (_, width))) in cells.iter().zip(Self::COLUMNS).enumerate() {
            if i == 0 {
                let text = fit(text, width);
                line.push_str(&format!("{text:<width$}  "));
            } else if width == 0 {
                line.push_str(text);
            } else {
                line.push_str(&format!("{text:>width$}  "));
            }
        }
        line.trim_end().to_owned()
    }
}

/// Writes one tenant's summary in `format`.
pub fn write_summary(
    response: &SummaryResponse,
    format: SummaryFormat,
    out: &mut dyn Write,
) -> Result<(), OutputError> {
    match format {
        SummaryFormat::Table => writeln!(out, "{}", summary_text(response, None))?,
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &response.summary)?;
            writeln!(out)?;
        }
        SummaryFormat::Ndjson => {
            serde_json::to_writer(&mut *out, &response.summary)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines_of(chunks: &[&[u8]]) -> Vec<String> {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, |line| {
                lines.push(String::from_utf8_lossy(line).into_owned());
            });
        }
        lines.extend(
            splitter
                .finish()
                .map(|l| String::from_utf8_lossy(&l).into_owned()),
        );
        lines
    }

    #[test]
    fn lines_are_split_wherever_the_pieces_end() {
        assert_eq!(
            lines_of(&[b"{\"a\":1}\n{\"b\"", b":2}\r\n", b"{\"c\":3}"]),
            ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]
        );
        assert_eq!(lines_of(&[b"x", b"y", b"\n", b"\n"]), ["xy", ""]);
        assert!(lines_of(&[b""]).is_empty());
    }

    #[test]
    fn a_closing_error_line_is_recognised_and_records_are_not() {
        let problem = stream_error(
            br#"{"error": {"type": "/problems/upstream", "title": "Graph failed", "status": 503, "detail": "timeout"}}"#,
        )
        .expect("error line");
        assert_eq!(problem.status, 503);
        assert_eq!(problem.summary(), "Graph failed: timeout");
        assert!(stream_error(br#"{"error": {"title": "x"}, "id": "1"}"#).is_none());
        assert!(stream_error(br#"{"id":"1","userPrincipalName":"error@x"}"#).is_none());
        assert!(stream_error(br#"{"error" "#).is_none());
    }

    #[test]
    fn csv_passes_whole_rows_and_counts_them_without_the_header() {
        let mut rows = CsvRows::default();
        let mut out = Vec::new();
        rows.push(b"id,userDisplayName\n1,\"Ada\nLovelace\"\n2,", &mut out)
            .expect("write");
        assert_eq!(out, b"id,userDisplayName\n1,\"Ada\nLovelace\"\n");
        assert_eq!(rows.rows(), 1);
        rows.push(b"Bob\r", &mut out).expect("write");
        assert_eq!(rows.rows(), 1, "the row has not ended");
        rows.push(b"\n3,\"Quoted \"\"name\"\"\"\n4,Eve", &mut out)
            .expect("write");
        assert!(out.ends_with(b"2,Bob\r\n3,\"Quoted \"\"name\"\"\"\n"));
        assert_eq!(rows.rows(), 3);
        // A complete body's last row needs no line end; a broken one's is never written.
        let mut finished = out.clone();
        rows.finish(&mut finished).expect("write");
        assert!(finished.ends_with(b"\n4,Eve"));
        assert_eq!(rows.rows(), 4);
        assert_eq!(CsvRows::default().rows(), 0);
    }

    #[test]
    fn the_filter_becomes_the_contracts_query() {
        let mut url = Url::parse("https://sspr.example/v1/tenants/t/registrations").expect("url");
        RegistrationFilter {
            sspr: Some("enabledNotRegistered".into()),
            admin: Some(false),
            user_type: Some("guest".into()),
            methods: vec!["email".into(), "mobilePhone".into()],
            upn_prefix: Some("Ada".into()),
            fields: vec!["userPrincipalName".into(), "isAdmin".into()],
            no_pushdown: true,
            ..RegistrationFilter::default()
        }
        .append_to(&mut url);
        assert_eq!(
            url.query(),
            Some(
                "sspr=enabledNotRegistered&admin=false&userType=guest&methods=email%2CmobilePhone\
                 &upnPrefix=Ada&fields=userPrincipalName%2CisAdmin&pushdown=false"
            )
        );
        let mut bare = Url::parse("https://sspr.example/x").expect("url");
        RegistrationFilter::default().append_to(&mut bare);
        assert_eq!(bare.query(), None);
    }

    #[test]
    fn table_rows_keep_their_columns_whatever_the_values() {
        let table = RecordTable::new(&[]);
        let header = table.header();
        assert!(header.starts_with("UPN "), "{header}");
        assert!(header.ends_with("METHODS"), "{header}");
        let long = "a-very-long-user-principal-name-indeed@contoso.onmicrosoft.com";
        let row = table.row(
            json!({"userPrincipalName": long, "userType": "guest", "isAdmin": true,
                "isSsprRegistered": false, "methodsRegistered": ["email", "mobilePhone"]})
            .as_object()
            .expect("object"),
        );
        let upn: String = long.chars().take(39).collect();
        assert!(
            row.starts_with(&format!("{upn}…  guest   yes    no ")),
            "{row}"
        );
        assert!(row.ends_with("email,mobilePhone"), "{row}");
        // Every column starts where the header's does.
        let type_at = header.find("TYPE").expect("TYPE");
        assert_eq!(row.char_indices().nth(type_at).map(|(_, c)| c), Some('g'));
        let missing = table.row(&Map::new());
        assert!(missing.starts_with('—'), "{missing}");
    }

    #[test]
    fn chosen_fields_are_the_columns() {
        let table = RecordTable::new(&["lastUpdatedDateTime".into(), "futureField".into()]);
        assert_eq!(table.fields(), ["lastUpdatedDateTime", "futureField"]);
        assert_eq!(
            table.header(),
            format!("UPDATED{}FUTUREFIELD", " ".repeat(23 - 7 + 2))
        );
        let row = table.row(
            json!({"lastUpdatedDateTime": "2026-03-04T05:06:07Z", "futureField": 3})
                .as_object()
                .expect("object"),
        );
        assert_eq!(row, "2026-03-04 05:06:07 UTC  3");
    }

    #[test]
    fn progress_shows_every_thousand_and_the_total() {
        #[derive(Clone, Default)]
        struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().expect("lock").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let text = |sink: &Shared| String::from_utf8(sink.0.lock().expect("lock").clone());

        let lines = Shared::default();
        let mut progress = Progress::to(Box::new(lines.clone()), false, 1000);
        for total in [999, 1000, 1998, 2500, 2999] {
            progress.update(total);
        }
        progress.finish(2999);
        assert_eq!(
            text(&lines).expect("utf-8"),
            "fetched 1,000 users…\nfetched 2,500 users…\nfetched 2,999 users\n"
        );

        let terminal = Shared::default();
        let mut progress = Progress::to(Box::new(terminal.clone()), true, 1000);
        progress.update(1000);
        progress.finish(1001);
        assert_eq!(
            text(&terminal).expect("utf-8"),
            "\rfetched 1,000 users…\rfetched 1,001 users \n"
        );
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    fn summary() -> Value {
        json!({"tenant": {"id": "3f2b", "domain": "contoso.onmicrosoft.com"},
            "readAt": "2026-03-04T05:06:07Z", "source": "graph", "totalUsers": 12,
            "features": {"ssprRegistered": 7, "ssprEnabled": 9, "ssprCapable": 6,
                "mfaRegistered": 8, "mfaCapable": 8, "passwordlessCapable": 1},
            "methods": {"email": 5, "microsoftAuthenticatorPush": 8, "fido2": 1},
            "gaps": {"enabledNotRegistered": 3, "registeredNotEnabled": 1,
                "adminsWithoutMfa": 1, "guests": 2},
            "cachedUntil": "future member"})
    }

    #[test]
    fn a_summary_round_trips_and_prints_three_tables() {
        let parsed: RegistrationSummary = serde_json::from_value(summary()).expect("summary");
        assert_eq!(serde_json::to_value(&parsed).expect("json"), summary());
        let text = summary_text(
            &SummaryResponse {
                summary: parsed,
                etag: None,
                age: Some(42),
                request_id: None,
            },
            Some(100),
        );
        assert!(
            text.starts_with(
                "Tenant: contoso.onmicrosoft.com (3f2b), 12 users, read from graph 2026-03-04 05:06:07 UTC (42 s ago)"
            ),
            "{text}"
        );
        for expected in [
            "SSPR registered",
            "58.3%",
            "Passwordless capable",
            "SSPR enabled, not registered",
            "Administrators without MFA",
        ] {
            assert!(text.contains(expected), "{expected}:\n{text}");
        }
        // Methods by count, most used first.
        let push = text.find("microsoftAuthenticatorPush").expect("push");
        let email = text.find("email").expect("email");
        let fido = text.find("fido2").expect("fido2");
        assert!(push < email && email < fido, "{text}");
    }

    #[test]
    fn fleet_lines_are_summaries_or_problems_and_the_table_shows_both() {
        let url = Url::parse("https://sspr.example/v1/registrations/summary").expect("url");
        let ok = FleetEntry::parse(
            &url,
            serde_json::to_vec(
                &json!({"tenant": "3f2b", "domain": "contoso.onmicrosoft.com",
                "summary": summary()}),
            )
            .expect("json"),
        )
        .expect("ok line");
        let failed = FleetEntry::parse(
            &url,
            br#"{"tenant":"8a6e","domain":"fabrikam.onmicrosoft.com","problem":{"type":"/problems/license-required",
                "title":"Licence required","status":403,"detail":"Needs P1.","code":"licenseRequired"}}"#
                .to_vec(),
        )
        .expect("problem line");
        assert_eq!(failed.result.as_ref().err().map(|p| p.status), Some(403));
        let neither = FleetEntry::parse(&url, br#"{"tenant":"x"}"#.to_vec());
        assert!(matches!(neither, Err(ClientError::Decode(m)) if m.contains("neither")));

        let table = FleetTable;
        let header = table.header();
        let row = table.row(&ok, false);
        assert!(row.starts_with("contoso.onmicrosoft.com "), "{row}");
        assert_eq!(
            row.split_whitespace().skip(1).collect::<Vec<_>>(),
            ["12", "7", "9", "6", "8", "3", "1"]
        );
        // Counts end where their headers end.
        let users_end = header.find("USERS").expect("USERS") + "USERS".len();
        assert_eq!(&row[users_end - 2..users_end], "12");
        let row = table.row(&failed, false);
        assert!(
            row.ends_with("  licenseRequired: Licence required: Needs P1."),
            "{row}"
        );
        let row = table.row(&failed, true);
        assert!(
            row.ends_with("  skipped: licenseRequired: Licence required: Needs P1."),
            "{row}"
        );
        assert_eq!(failed.name(), "fabrikam.onmicrosoft.com");
        let marked: Value =
            serde_json::from_slice(&skipped_line(&failed, "Needs P1.")).expect("JSON");
        assert_eq!(marked["skipped"], true);
        assert_eq!(marked["reason"], "Needs P1.");
        assert_eq!(
            marked["problem"]["code"], "licenseRequired",
            "the service's line is kept"
        );

        let outcome = |failed: &[&str]| FleetOutcome {
            tenants: 3,
            failed: failed
                .iter()
                .map(|c| ("t".to_owned(), (*c).to_owned()))
                .collect(),
            skipped: Vec::new(),
        };
        assert!(outcome(&["licenseRequired", "licenseRequired"]).only_licence_failures());
        assert!(!outcome(&["licenseRequired", "upstream"]).only_licence_failures());
    }
}
