//! The listing's and the fleet summary's streamed bodies (`application/x-ndjson`, `text/csv`):
//! a task reads the report and feeds a small bounded channel that is the response body, so
//! memory stays flat and a slow client slows the reading. A failure after the 200 is an NDJSON
//! body's last line `{"error": {problem}}`, or a CSV body cut off without its final chunk.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, Stream, StreamExt};
use serde::Serialize;

use super::query::{Format, ListQuery};
use super::{FleetEntry, listing_sources, reporting};
use crate::api::AppState;
use crate::api::problem::{ApiError, problem_document};
use crate::auth::Caller;
use crate::directory::tenants::ManagedTenant;
use crate::domain::registrations::Registration;
use crate::ops;
use crate::ops::OpsError;
use crate::ops::registrations::{ListingRequest, SummaryRead};

pub const NDJSON: &str = "application/x-ndjson";
const CSV: &str = "text/csv; charset=utf-8";
/// Body chunks buffered between the reading task and the client. Each holds at most
/// [`CHUNK_RECORDS`] records, so the service holds about two thousand records per response at
/// most ([`BATCHES_IN_FLIGHT`] read ahead, these), besides the two report pages the reader keeps.
const CHUNKS_IN_FLIGHT: usize = 4;
const CHUNK_RECORDS: usize = 256;
/// Record batches read ahead of the writer: about one report page.
const BATCHES_IN_FLIGHT: usize = 4;

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
pub async fn listing(
    state: AppState,
    caller: Caller,
    tenant: String,
    query: ListQuery,
    format: Format,
) -> Result<Response, ApiError> {
    let (started, start) = oneshot::channel::<Result<(), OpsError>>();
    let (chunks, body) = Chunks::channel();
    // The task outlives nothing of the request's but its span: its log lines keep the
    // request id.
    tokio::spawn(tracing::Instrument::in_current_span(write_listing(
        state, caller, tenant, query, format, started, chunks,
    )));
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
    let request = ListingRequest {
        caller: &caller,
        tenant: &tenant,
        filter: &query.filter,
        pushdown: query.pushdown,
        cursor: None,
    };
    let listing = match ops::registrations::open(listing_sources(&state), request).await {
        Ok(listing) => listing,
        Err(error) => {
            let _ = started.send(Err(error));
            return;
        }
    };
    let records = match ops::registrations::records(&listing).await {
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
    let tenant_id = listing.tenant.id.clone();
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
                tracing::warn!(tenant = %tenant_id, %error, "registration listing failed after it started");
                let problem = problem_document(error.into()).await;
                match format {
                    Format::Csv => chunks.abort("the registration report failed").await,
                    _ => {
                        let line = ndjson_lines(std::iter::once(ErrorLine { error: problem }));
                        let _ = chunks.send(line).await;
                    }
                }
                return;
            }
        }
    };
    tokio::join!(read, write);
}

/// An NDJSON listing's last line when the report failed after the 200.
#[derive(Serialize)]
struct ErrorLine {
    error: serde_json::Value,
}

/// The fleet summary as NDJSON: one line per tenant as it completes.
pub fn fleet(state: AppState, ids: Vec<String>, max_age: Option<Duration>) -> Response {
    let (chunks, body) = Chunks::channel();
    tokio::spawn(tracing::Instrument::in_current_span(write_fleet(
        state, ids, max_age, chunks,
    )));
    ([(header::CONTENT_TYPE, NDJSON)], body).into_response()
}

async fn write_fleet(
    state: AppState,
    ids: Vec<String>,
    max_age: Option<Duration>,
    mut chunks: Chunks,
) {
    let mut entries = std::pin::pin!(fleet_entries(&state, &ids, max_age));
    while let Some(entry) = entries.next().await {
        if chunks
            .send(ndjson_lines(std::iter::once(entry)))
            .await
            .is_err()
        {
            return; // The client went away; dropping the stream stops the other reads.
        }
    }
}

/// Each of the tenants `ids` as a fleet entry, in completion order.
pub fn fleet_entries<'a>(
    state: &'a AppState,
    ids: &'a [String],
    max_age: Option<Duration>,
) -> impl Stream<Item = FleetEntry> + Send + 'a {
    let targets = ids.iter().filter_map(|id| state.tenants.find(id)).collect();
    ops::registrations::fleet(&state.registrations, reporting(state), targets, max_age)
        .then(|(tenant, result)| fleet_entry(tenant, result))
}

async fn fleet_entry(
    tenant: Arc<ManagedTenant>,
    result: Result<SummaryRead, OpsError>,
) -> FleetEntry {
    let (summary, problem) = match result {
        Ok(read) => (Some(read.summary.as_ref().clone()), None),
        Err(error) => (None, Some(problem_document(error.into()).await)),
    };
    FleetEntry {
        tenant: tenant.id.clone(),
        domain: tenant.primary_domain().to_owned(),
        summary,
        problem,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registrations::Field;
    use crate::domain::registrations::sample;

    #[test]
    fn csv_rows_quote_what_needs_quoting() {
        let bytes = csv_rows([vec!["a,b", "plain", "say \"hi\""], vec!["x", "", "y"]].into_iter());
        assert_eq!(
            String::from_utf8(bytes.to_vec()).expect("utf-8"),
            "\"a,b\",plain,\"say \"\"hi\"\"\"\nx,,y\n"
        );
    }

    #[test]
    fn the_full_projection_is_the_record_in_contract_order() {
        let record = sample();
        let projected = serde_json::to_string(&record.project(&Field::ALL)).expect("serializes");
        let plain = serde_json::to_string(&record).expect("serializes");
        assert_eq!(projected, plain);
        let names: Vec<String> = serde_json::from_str::<serde_json::Map<String, _>>(&plain)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let mut expected: Vec<String> = Field::ALL.map(|f| f.name().to_owned()).to_vec();
        expected.sort();
        assert_eq!(
            names, expected,
            "every field has a name and nothing else is serialized"
        );
    }

    #[test]
    fn chosen_fields_come_in_the_callers_order() {
        let record = sample();
        let fields = Field::parse_list("methodsRegistered, ISADMIN,id").expect("parses");
        assert_eq!(
            ndjson_lines(std::iter::once(record.project(&fields))),
            "{\"methodsRegistered\":[\"email\",\"mobilePhone\"],\"isAdmin\":true,\"id\":\"0b1c\"}\n"
        );
        assert_eq!(
            csv_rows(std::iter::once(record.project(&fields).csv_cells())),
            "email;mobilePhone,true,0b1c\n"
        );
    }

    #[test]
    fn a_missing_time_is_null_in_json_and_empty_in_csv() {
        let record = sample();
        let fields = [Field::LastUpdatedDateTime];
        assert_eq!(
            ndjson_lines(std::iter::once(record.project(&fields))),
            "{\"lastUpdatedDateTime\":null}\n"
        );
        assert_eq!(
            record.project(&fields).csv_cells().next().as_deref(),
            Some("")
        );
    }
}
