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

use std::collections::VecDeque;
use std::io::{self, Write};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::header::{AGE, CACHE_CONTROL, CONTENT_TYPE, ETAG};
use reqwest::{Method, RequestBuilder};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

pub use crate::types::registrations::{
    FeatureCounts, GapCounts, Record, RegistrationPage, RegistrationSummary, SummarySource,
};
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

    /// Reads one line of a fleet summary.
    pub fn parse(url: &Url, line: Vec<u8>) -> Result<FleetEntry, ClientError> {
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
    pub(crate) async fn stream(
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

    /// The next line that is not the stream's closing error line, `None` at the end; the error
    /// line is [`ClientError::Interrupted`].
    pub async fn next_item(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        let Some(line) = self.next_line().await? else {
            return Ok(None);
        };
        stream_item(&line)?;
        Ok(Some(line))
    }

    /// The URL the body comes from.
    pub fn url(&self) -> &Url {
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

/// `line` unless it is a stream's closing error line, which is the stream's interruption.
pub fn stream_item(line: &[u8]) -> Result<&[u8], ClientError> {
    match stream_error(line) {
        Some(problem) => Err(interrupted(problem)),
        None => Ok(line),
    }
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
        let Some(line) = self.lines.next_item().await? else {
            return Ok(None);
        };
        decode_record(self.lines.url(), &line).map(Some)
    }

    /// The records as a [`Stream`].
    pub fn into_stream(self) -> impl Stream<Item = Result<Record, ClientError>> + Send {
        futures::stream::try_unfold(self, |mut records| async move {
            Ok(records.next_record().await?.map(|record| (record, records)))
        })
    }
}

/// A listing's line as a record; the closing error line is the listing's interruption.
pub fn decode_record(url: &Url, line: &[u8]) -> Result<Record, ClientError> {
    let line = stream_item(line)?;
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
        let Some(line) = self.lines.next_item().await? else {
            return Ok(None);
        };
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
