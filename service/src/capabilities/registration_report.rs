//! The tenant's registration report: who registered which authentication methods.

use futures::stream::BoxStream;

use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::registrations::Registration;
use crate::domain::registrations::filter::Pushdown;

/// Reads the per-user registration report (needs Entra ID P1/P2 in the tenant).
#[async_trait::async_trait]
pub trait RegistrationReport: Send + Sync {
    /// Every user of the report, in the report's order, as its pages arrive; a failed page ends
    /// the stream with its error. Memory stays flat whatever the tenant's size.
    fn registrations<'a>(
        &'a self,
        tenant: &'a ManagedTenant,
    ) -> BoxStream<'a, Result<Registration, DirectoryError>>;

    /// The users meeting every condition of `pushdown` (evaluated by the report), streamed as
    /// [`RegistrationReport::registrations`] streams them.
    fn filtered<'a>(
        &'a self,
        tenant: &'a ManagedTenant,
        pushdown: &Pushdown,
    ) -> BoxStream<'a, Result<Registration, DirectoryError>>;

    /// Where the report's users meeting `pushdown` begin.
    fn first_page(&self, pushdown: &Pushdown) -> ReportLink;

    /// `text` as a link into the report, if it is one: a link from outside (a caller's cursor)
    /// must never make the service read anything else.
    fn report_link(&self, text: &str) -> Option<ReportLink>;

    /// One page of the report, and where the next one is.
    async fn page(
        &self,
        tenant: &ManagedTenant,
        link: &ReportLink,
    ) -> Result<ReportPage, DirectoryError>;
}

/// A page of the report, as the report names it (opaque to the use cases). Only a
/// [`RegistrationReport`] makes one, from its own first page, its pages' next links, or text it
/// checked with [`RegistrationReport::report_link`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLink(String);

impl ReportLink {
    /// For implementations of [`RegistrationReport`]: `link` is known to point at the report.
    pub fn checked(link: String) -> ReportLink {
        ReportLink(link)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of the report, and the link to the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPage {
    pub records: Vec<Registration>,
    pub next: Option<ReportLink>,
}
