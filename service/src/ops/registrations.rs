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
use crate::config::RegistrationsConfig;
use crate::directory::graph::Graph;
use crate::directory::registrations as report;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};
use crate::domain::registrations::Registration;
use crate::domain::registrations::filter::{self, Plan, RegistrationFilter};
use crate::domain::registrations::summary::{RegistrationCounts, RegistrationSummary};

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
            summaries: TenantCache::default(),
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
        graph: &Graph,
        tenant: &ManagedTenant,
        max_age: Option<Duration>,
    ) -> Result<SummaryRead, OpsError> {
        let max_age = max_age.unwrap_or(self.cache_max_age);
        let aged = self
            .summaries
            .get(&tenant.id, max_age, read_summary(graph, tenant))
            .await?;
        Ok(SummaryRead {
            summary: aged.value.summary.clone(),
            etag: aged.value.etag.clone(),
            age: aged.age,
        })
    }
}

async fn read_summary(graph: &Graph, tenant: &ManagedTenant) -> Result<CachedSummary, OpsError> {
    licence::ensure_licensed(graph, tenant).await?;
    let read_at = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let mut counts = RegistrationCounts::default();
    let mut records = pin!(report::registrations(graph, tenant, None));
    while let Some(record) = records.next().await {
        counts.add(&record.map_err(|e| licence::from_report_error(tenant, e))?);
    }
    let summary = RegistrationSummary::new(tenant_ref(tenant), read_at, counts);
    Ok(CachedSummary {
        etag: super::strong_etag(&summary),
        summary: Arc::new(summary),
    })
}

// ---------------------------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------------------------

/// A listing the caller may read: the tenant, how its filter is evaluated, and where it starts.
pub struct Listing<'a> {
    pub tenant: &'a ManagedTenant,
    pub plan: Plan,
    /// Where the page starts: the position of the request's cursor; `None` at the beginning.
    pub start: Option<Position>,
    /// The filter and pushdown in canonical form: a cursor is only valid for the same one.
    query_key: String,
    /// The caller a cursor is bound to.
    caller: String,
    cursors: &'a CursorSigner,
}

/// Checks access, the cursor and the licence, and plans the filter. A cursor that is not valid
/// for this tenant, query and caller is refused before any Graph call. Nothing is read from the
/// report yet.
#[allow(clippy::too_many_arguments)]
pub async fn open<'a>(
    tenants: &'a TenantRegistry,
    graph: &Graph,
    cursors: &'a CursorSigner,
    caller: &Caller,
    tenant_key: &str,
    filter: &RegistrationFilter,
    pushdown: bool,
    cursor: Option<&str>,
) -> Result<Listing<'a>, OpsError> {
    let tenant = authorize(tenants, caller, Verb::Read, tenant_key)?;
    let mut listing = Listing {
        tenant,
        plan: filter::plan(filter, pushdown),
        start: None,
        query_key: format!("{};pushdown={pushdown}", filter.canonical()),
        caller: cursor::principal(caller),
        cursors,
    };
    listing.start = cursor.map(|c| listing.position(c)).transpose()?;
    licence::ensure_licensed(graph, tenant).await?;
    Ok(listing)
}

/// The listing's users in Graph's order, as Graph's pages arrive. Returns once the first page
/// has arrived, so that a failure there (say, Graph's licence 403) is still an error of the
/// request; a later failure ends the stream with an error item.
pub async fn records<'a>(
    graph: &'a Graph,
    listing: &'a Listing<'a>,
) -> Result<impl Stream<Item = Result<Registration, OpsError>> + Send + 'a, OpsError> {
    let mut rows = Box::pin(
        report::registrations(graph, listing.tenant, listing.plan.graph_filter.clone()).peekable(),
    );
    if let Some(Err(_)) = rows.as_mut().peek().await
        && let Some(Err(error)) = rows.next().await
    {
        return Err(licence::from_report_error(listing.tenant, error));
    }
    Ok(rows
        .map_err(|e| licence::from_report_error(listing.tenant, e))
        .try_filter(|r| std::future::ready(listing.plan.residual.matches(r))))
}

/// Where a JSON page starts: a report page (its link) and a position in it. A cursor carries
/// it (`l`, `i`), signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The report page's link (the first page's path or Graph's nextLink).
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
pub async fn page(
    graph: &Graph,
    listing: &Listing<'_>,
    limit: usize,
) -> Result<RecordPage, OpsError> {
    let Position {
        mut link,
        index: mut skip,
    } = listing.start.clone().unwrap_or_else(|| Position {
        link: report::first_link(listing.plan.graph_filter.as_deref()),
        index: 0,
    });
    let mut records = Vec::with_capacity(limit.min(1000));
    loop {
        let page = report::page(graph, listing.tenant, &link)
            .await
            .map_err(|e| licence::from_report_error(listing.tenant, e))?;
        for (index, record) in page.records.into_iter().enumerate().skip(skip) {
            if !listing.plan.residual.matches(&record) {
                continue;
            }
            if records.len() == limit {
                return Ok(RecordPage {
                    records,
                    next: Some(Position { link, index }),
                });
            }
            records.push(record);
        }
        match page.next_link {
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
        self.cursors.seal(&self.binding(), position)
    }

    /// The position in `cursor`, if this service signed it for this tenant, query and caller.
    fn position(&self, cursor: &str) -> Result<Position, OpsError> {
        let position: Position = self.cursors.open(&self.binding(), cursor)?;
        // Signed links are ours; this only guards against a future bug putting another in.
        if !report::is_report_link(&position.link) {
            return Err(CursorError::Malformed.into());
        }
        Ok(position)
    }
}

// ---------------------------------------------------------------------------------------------
// Summaries
// ---------------------------------------------------------------------------------------------

/// One tenant's summary (see [`Registrations::tenant_summary`]).
pub async fn summary(
    registrations: &Registrations,
    tenants: &TenantRegistry,
    graph: &Graph,
    caller: &Caller,
    tenant_key: &str,
    max_age: Option<Duration>,
) -> Result<SummaryRead, OpsError> {
    let tenant = authorize(tenants, caller, Verb::Read, tenant_key)?;
    registrations.tenant_summary(graph, tenant, max_age).await
}

/// Which tenants a fleet request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetSelection {
    /// Every tenant the caller may access.
    All,
    /// These ids or domains, each of which must exist and be accessible.
    Named(Vec<String>),
}

/// The tenants of `selection`, checked before any Graph call: an unknown name is
/// `UnknownTenant`, an inaccessible one `Forbidden`. Named twice is once.
pub fn fleet_targets<'a>(
    tenants: &'a TenantRegistry,
    caller: &Caller,
    selection: &FleetSelection,
) -> Result<Vec<&'a ManagedTenant>, OpsError> {
    require(caller, Verb::Read)?;
    let mut targets: Vec<&ManagedTenant> = match selection {
        FleetSelection::All => super::tenants::visible(tenants, caller)?,
        FleetSelection::Named(keys) => keys
            .iter()
            .map(|key| authorize(tenants, caller, Verb::Read, key))
            .collect::<Result<_, _>>()?,
    };
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert(t.id.clone()));
    Ok(targets)
}

/// Each target's summary as it completes, at most `fleet_concurrency` at once. A failing tenant
/// yields its error; the others go on.
pub fn fleet<'a>(
    registrations: &'a Registrations,
    graph: &'a Graph,
    targets: Vec<&'a ManagedTenant>,
    max_age: Option<Duration>,
) -> impl Stream<Item = (&'a ManagedTenant, Result<SummaryRead, OpsError>)> + Send + 'a {
    futures::stream::iter(targets)
        .map(move |tenant| async move {
            let result = registrations.tenant_summary(graph, tenant, max_age).await;
            (tenant, result)
        })
        .buffer_unordered(registrations.fleet_concurrency)
}
