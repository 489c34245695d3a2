//! How `sspr registrations` prints: a listing written to stdout as it arrives (table, JSON,
//! NDJSON or CSV) with progress on stderr, a tenant's summary, and a fleet summary tenant by
//! tenant.

use std::io::{self, Write};

use serde_json::Value;
use sspr_client::error::{LICENSE_REQUIRED, truncate};
use sspr_client::registrations::{
    CsvRows, FleetEntry, FleetTenants, Lines, MAX_PAGE, Record, RegistrationFilter, StreamMedia,
    SummaryResponse, decode_record, stream_item,
};
use sspr_client::{ClientError, SsprClient};

use crate::cli::render::{NONE, format_timestamp, new_table};

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
            if let Err(error) = stream_item(&line) {
                progress.finish(count);
                return Err(error.into());
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
            let record = match decode_record(lines.url(), &line) {
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

/// A `WHAT | USERS | SHARE` table of user counts out of `total`.
fn counts_table<'a>(
    what: &str,
    rows: impl IntoIterator<Item = (&'a str, u64)>,
    total: u64,
    width: Option<u16>,
) -> comfy_table::Table {
    let mut table = new_table(width);
    table.set_header([what, "USERS", "SHARE"]);
    for (label, count) in rows {
        table.add_row([label.to_owned(), thousands(count), share(count, total)]);
    }
    table
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
    let features = counts_table(
        "FEATURE",
        [
            ("SSPR registered", f.sspr_registered),
            ("SSPR enabled", f.sspr_enabled),
            ("SSPR capable", f.sspr_capable),
            ("MFA registered", f.mfa_registered),
            ("MFA capable", f.mfa_capable),
            ("Passwordless capable", f.passwordless_capable),
        ],
        total,
        width,
    );
    let mut by_count: Vec<(&str, u64)> = summary
        .methods
        .iter()
        .map(|(method, count)| (method.as_str(), *count))
        .collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let methods = counts_table("METHOD", by_count, total, width);
    let g = &summary.gaps;
    let gaps = counts_table(
        "GAP",
        [
            ("SSPR enabled, not registered", g.enabled_not_registered),
            ("SSPR registered, not enabled", g.registered_not_enabled),
            ("Administrators without MFA", g.admins_without_mfa),
            ("Guests", g.guests),
        ],
        total,
        width,
    );
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
        self.failed.iter().all(|(_, code)| code == LICENSE_REQUIRED)
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
                    && problem.code().as_deref() == Some(LICENSE_REQUIRED) =>
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
    use serde_json::{Map, json};
    use sspr_client::registrations::RegistrationSummary;
    use url::Url;

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
        json!({"tenant": {"id": "3f2b", "domain": "contoso.onmicrosoft.com", "displayName": "Contoso"},
            "readAt": "2026-03-04T05:06:07Z", "source": "graph", "totalUsers": 12,
            "features": {"ssprRegistered": 7, "ssprEnabled": 9, "ssprCapable": 6,
                "mfaRegistered": 8, "mfaCapable": 8, "passwordlessCapable": 1},
            "methods": {"email": 5, "microsoftAuthenticatorPush": 8, "fido2": 1},
            "gaps": {"enabledNotRegistered": 3, "registeredNotEnabled": 1,
                "adminsWithoutMfa": 1, "guests": 2},
            "members": {"ssprEnabled": 7, "ssprEnabledRegistered": 5},
            "cachedUntil": "future member"})
    }

    #[test]
    fn a_summary_round_trips_and_prints_three_tables() {
        let parsed: RegistrationSummary = serde_json::from_value(summary()).expect("summary");
        // Every member of the contract survives; one this version does not know is ignored.
        let mut sent = summary();
        sent.as_object_mut().expect("object").remove("cachedUntil");
        assert_eq!(serde_json::to_value(&parsed).expect("json"), sent);
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
