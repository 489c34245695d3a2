//! Registration reporting: who registered which methods, per tenant and across the fleet.
//!
//! Every read checks access first, then the tenant's licence (the report needs Entra ID P1/P2;
//! the verdict is cached per tenant), then streams Graph's report. Summaries are cached per
//! tenant with the time their Graph read began; concurrent requests for one tenant share one
//! Graph read (the report's budget is 5 requests per 10 s per tenant, graph-api.md §8.2).

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::cache::TenantCache;
use super::cursor::{self, Binding, CursorError, CursorSigner};
use super::{OpsError, authorize, licence, require, tenant_ref};
use crate::auth::{Caller, Verb};
use crate::capabilities::coordination::CacheInvalidations;
use crate::capabilities::licences::Licences;
use crate::capabilities::registration_report::{RegistrationReport, ReportLink};
use crate::config::RegistrationsConfig;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};
use crate::domain::registrations::Registration;
use crate::domain::registrations::filter::{self, Plan, RegistrationFilter};
use crate::domain::registrations::summary::{
    RegistrationCounts, RegistrationSummary, registration_summary,
};
use crate::telemetry::FleetOutcome;

/// The capabilities registration reporting reads through: the report, and the licences that
/// gate it.
#[derive(Clone, Copy)]
pub struct Reporting<'a> {
    pub report: &'a dyn RegistrationReport,
    pub licences: &'a dyn Licences,
}

/// The state registration reporting keeps between requests.
pub struct Registrations {
    cache_max_age: Duration,
    fleet_concurrency: usize,
    summaries: TenantCache<CachedSummary>,
}

struct CachedSummary {
    summary: Arc<RegistrationSummary>,
    etag: String,
}

/// A summary with its strong ETag and its age.
#[derive(Debug, Clone)]
pub struct SummaryRead {
    pub summary: Arc<RegistrationSummary>,
    pub etag: String,
    /// Time since its Graph read began.
    pub age: Duration,
}

impl Registrations {
    pub fn new(config: &RegistrationsConfig) -> Self {
        Registrations {
            cache_max_age: Duration::from_secs(config.cache_max_age_secs),
            fleet_concurrency: config.fleet_concurrency.max(1),
            summaries: TenantCache::named("registrationSummary"),
        }
    }

    /// Replicas sharing a store tell each other when a summary is out of date.
    pub fn share_invalidations(&self, shared: Arc<dyn CacheInvalidations>) {
        self.summaries.share_invalidations(shared);
    }

    /// Another replica's invalidation of `cache`'s entry for `tenant_id`, applied here.
    pub fn apply_invalidation(&self, cache: &str, tenant_id: &str) {
        if cache == self.summaries.name() {
            self.summaries.forget(tenant_id);
        }
    }

    /// The summary age served when the caller does not say.
    pub fn cache_max_age(&self) -> Duration {
        self.cache_max_age
    }

    /// The tenant's summary: cached when younger than `max_age` (default: the configured age),
    /// else read from Graph in one streaming pass. A request that waited for another's read of
    /// the same tenant takes that read's result (see [`TenantCache`]).
    async fn tenant_summary(
        &self,
        reporting: Reporting<'_>,
        tenant: &ManagedTenant,
        max_age: Option<Duration>,
    ) -> Result<SummaryRead, OpsError> {
        let max_age = max_age.unwrap_or(self.cache_max_age);
        let aged = self
            .summaries
            .get(&tenant.id, max_age, read_summary(reporting, tenant))
            .await?;
        Ok(SummaryRead {
            summary: aged.value.summary.clone(),
            etag: aged.value.etag.clone(),
            age: aged.age,
        })
    }
}

async fn read_summary(
    reporting: Reporting<'_>,
    tenant: &ManagedTenant,
) -> Result<CachedSummary, OpsError> {
    licence::ensure_licensed(reporting.licences, tenant).await?;
    let read_at = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let mut counts = RegistrationCounts::default();
    let mut records = pin!(reporting.report.registrations(tenant));
    while let Some(record) = records.next().await {
        counts.add(&record.map_err(|e| licence::from_report_error(tenant, e))?);
    }
    let summary = registration_summary(tenant_ref(tenant), read_at, counts);
    Ok(CachedSummary {
        etag: super::strong_etag(&summary),
        summary: Arc::new(summary),
    })
}

// ---------------------------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------------------------

/// What a listing reads through: the tenants, the report and its licence gate, and the signer
/// of its cursors.
#[derive(Clone, Copy)]
pub struct ListingSources<'a> {
    pub tenants: &'a TenantRegistry,
    pub reporting: Reporting<'a>,
    pub cursors: &'a CursorSigner,
}

/// A caller's listing request, as the API parsed it.
#[derive(Clone, Copy)]
pub struct ListingRequest<'r> {
    pub caller: &'r Caller,
    pub tenant: &'r str,
    pub filter: &'r RegistrationFilter,
    /// `false`: every condition is evaluated in the service (a diagnostic).
    pub pushdown: bool,
    /// The previous JSON page's cursor.
    pub cursor: Option<&'r str>,
}

/// A listing the caller may read: the tenant, how its filter is evaluated, and where it starts.
pub struct Listing<'a> {
    pub tenant: Arc<ManagedTenant>,
    pub plan: Plan,
    /// Where the page starts: the request cursor's report page and position in it; `None` at
    /// the beginning.
    start: Option<(ReportLink, usize)>,
    /// The filter and pushdown in canonical form: a cursor is only valid for the same one.
    query_key: String,
    /// The caller a cursor is bound to.
    caller: String,
    sources: ListingSources<'a>,
}

/// Checks access, the cursor and the licence, and plans the filter. A cursor that is not valid
/// for this tenant, query and caller is refused before any Graph call. Nothing is read from the
/// report yet.
pub async fn open<'a>(
    sources: ListingSources<'a>,
    request: ListingRequest<'_>,
) -> Result<Listing<'a>, OpsError> {
    let tenant = authorize(sources.tenants, request.caller, Verb::Read, request.tenant)?;
    let pushdown = request.pushdown;
    let mut listing = Listing {
        tenant,
        plan: filter::plan(request.filter, pushdown),
        start: None,
        query_key: format!("{};pushdown={pushdown}", request.filter.canonical()),
        caller: cursor::principal(request.caller),
        sources,
    };
    listing.start = request.cursor.map(|c| listing.start_of(c)).transpose()?;
    licence::ensure_licensed(sources.reporting.licences, &listing.tenant).await?;
    Ok(listing)
}

/// The listing's users in Graph's order, as Graph's pages arrive. Returns once the first page
/// has arrived, so that a failure there (say, Graph's licence 403) is still an error of the
/// request; a later failure ends the stream with an error item.
pub async fn records<'a>(
    listing: &'a Listing<'a>,
) -> Result<impl Stream<Item = Result<Registration, OpsError>> + Send + 'a, OpsError> {
    let report = listing.sources.reporting.report;
    let mut rows = Box::pin(
        report
            .filtered(&listing.tenant, &listing.plan.pushdown)
            .peekable(),
    );
    if let Some(Err(_)) = rows.as_mut().peek().await
        && let Some(Err(error)) = rows.next().await
    {
        return Err(licence::from_report_error(&listing.tenant, error));
    }
    Ok(rows
        .map_err(|e| licence::from_report_error(&listing.tenant, e))
        .try_filter(|r| std::future::ready(listing.plan.residual.matches(r))))
}

/// Where a JSON page starts: a report page (its link) and a position in it. A cursor carries
/// it (`l`, `i`), signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The report page's link (the first page's or the one before's next link).
    #[serde(rename = "l")]
    link: String,
    /// Rows of that page already served or skipped.
    #[serde(rename = "i")]
    index: usize,
}

/// One JSON page of a listing.
pub struct RecordPage {
    pub records: Vec<Registration>,
    /// Where the next page starts; `None` when no user is left.
    pub next: Option<Position>,
}

/// Up to `limit` users from the listing's start on. The next position is that of the next
/// matching user, so the last page is never followed by an empty one.
pub async fn page(listing: &Listing<'_>, limit: usize) -> Result<RecordPage, OpsError> {
    let report = listing.sources.reporting.report;
    let (mut link, mut skip) = listing
        .start
        .clone()
        .unwrap_or_else(|| (report.first_page(&listing.plan.pushdown), 0));
    let mut records = Vec::with_capacity(limit.min(1000));
    loop {
        let page = report
            .page(&listing.tenant, &link)
            .await
            .map_err(|e| licence::from_report_error(&listing.tenant, e))?;
        for (index, record) in page.records.into_iter().enumerate().skip(skip) {
            if !listing.plan.residual.matches(&record) {
                continue;
            }
            if records.len() == limit {
                return Ok(RecordPage {
                    records,
                    next: Some(Position {
                        link: link.as_str().to_owned(),
                        index,
                    }),
                });
            }
            records.push(record);
        }
        match page.next {
            Some(next) => {
                link = next;
                skip = 0;
            }
            None => {
                return Ok(RecordPage {
                    records,
                    next: None,
                });
            }
        }
    }
}

impl Listing<'_> {
    fn binding(&self) -> Binding<'_> {
        Binding {
            kind: "registrations",
            tenant: &self.tenant.id,
            query: &self.query_key,
            caller: self.caller.clone(),
        }
    }

    /// The opaque cursor for `position`, signed for this tenant, query and caller.
    pub fn cursor(&self, position: &Position) -> String {
        self.sources.cursors.seal(&self.binding(), position)
    }

    /// Where `cursor` starts, if this service signed it for this tenant, query and caller.
    fn start_of(&self, cursor: &str) -> Result<(ReportLink, usize), OpsError> {
        let position: Position = self.sources.cursors.open(&self.binding(), cursor)?;
        // Signed links are ours; this only guards against a future bug putting another in.
        let link = self
            .sources
            .reporting
            .report
            .report_link(&position.link)
            .ok_or(CursorError::Malformed)?;
        Ok((link, position.index))
    }
}

// ---------------------------------------------------------------------------------------------
// Summaries
// ---------------------------------------------------------------------------------------------

/// One tenant's summary (see [`Registrations::tenant_summary`]).
pub async fn summary(
    registrations: &Registrations,
    tenants: &TenantRegistry,
    reporting: Reporting<'_>,
    caller: &Caller,
    tenant_key: &str,
    max_age: Option<Duration>,
) -> Result<SummaryRead, OpsError> {
    let tenant = &authorize(tenants, caller, Verb::Read, tenant_key)?;
    registrations
        .tenant_summary(reporting, tenant, max_age)
        .await
}

/// Which tenants a fleet request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetSelection {
    /// Every tenant the caller may access.
    All,
    /// These ids or domains, each of which must exist and be accessible, and `tag:<tag>`
    /// entries: the caller's tenants with that tag (perhaps none).
    Named(Vec<String>),
}

/// The tenants of `selection`, checked before any Graph call: an unknown name is
/// `UnknownTenant` (and so is one the caller has no grant for). Named twice is once.
pub fn fleet_targets(
    tenants: &TenantRegistry,
    caller: &Caller,
    selection: &FleetSelection,
) -> Result<Vec<Arc<ManagedTenant>>, OpsError> {
    require(caller, Verb::Read)?;
    let mut targets: Vec<Arc<ManagedTenant>> = match selection {
        FleetSelection::All => super::tenants::visible(tenants, caller)?,
        FleetSelection::Named(keys) => {
            let mut targets = Vec::new();
            for key in keys {
                match key.strip_prefix("tag:") {
                    // Only among the caller's tenants: a tag never reveals another's tenants.
                    Some(tag) => targets.extend(
                        super::tenants::visible(tenants, caller)?
                            .into_iter()
                            .filter(|t| t.tags.iter().any(|have| have.eq_ignore_ascii_case(tag))),
                    ),
                    None => targets.push(authorize(tenants, caller, Verb::Read, key)?),
                }
            }
            targets
        }
    };
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert(t.id.clone()));
    Ok(targets)
}

/// Each target's summary as it completes, at most `fleet_concurrency` at once. A failing tenant
/// yields its error; the others go on.
pub fn fleet<'a>(
    registrations: &'a Registrations,
    reporting: Reporting<'a>,
    targets: Vec<Arc<ManagedTenant>>,
    max_age: Option<Duration>,
) -> impl Stream<Item = (Arc<ManagedTenant>, Result<SummaryRead, OpsError>)> + Send + 'a {
    futures::stream::iter(targets)
        .map(move |tenant| async move {
            let result = registrations
                .tenant_summary(reporting, &tenant, max_age)
                .await;
            crate::telemetry::record::fleet_tenant(match &result {
                Ok(_) => FleetOutcome::Counted,
                Err(OpsError::LicenseRequired { .. }) => FleetOutcome::Skipped,
                Err(_) => FleetOutcome::Failed,
            });
            (tenant, result)
        })
        .buffer_unordered(registrations.fleet_concurrency)
}

#[cfg(test)]
mod tests;
