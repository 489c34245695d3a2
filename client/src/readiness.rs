//! Readiness: the SSPR guide's checklist per tenant and across the fleet, as typed answers or
//! as the pages the service renders (HTML, Markdown), and the users' guide.

use std::time::Duration;

use reqwest::Method;
use url::Url;

pub use sspr_api::readiness::{
    Check, CheckId, CheckStatus, FleetReadiness, FleetReadinessEntry, TenantReadiness, UserGuide,
};

use crate::registrations::{FleetTenants, Lines};
use crate::types::Answer;
use crate::{ClientError, SsprClient};

/// A tenant's readiness reads its policy, registration report, Conditional Access, Secure Score
/// and Intune: at Graph's report rate that can take minutes for a large tenant.
const READINESS_TIMEOUT: Duration = Duration::from_secs(3600);

/// A page the service renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Html,
    Markdown,
}

impl Page {
    fn media_type(self) -> &'static str {
        match self {
            Page::Html => "text/html",
            Page::Markdown => "text/markdown",
        }
    }
}

impl SsprClient {
    /// `GET /v1/tenants/{tenant}/readiness`.
    pub async fn readiness(&self, tenant: &str) -> Result<Answer<TenantReadiness>, ClientError> {
        let url = self.tenant_endpoint(tenant, &["readiness"])?;
        self.send_json(Method::GET, &url, None, Some(READINESS_TIMEOUT))
            .await
    }

    /// `GET /v1/tenants/{tenant}/readiness` as a page.
    pub async fn readiness_page(&self, tenant: &str, page: Page) -> Result<String, ClientError> {
        let url = self.tenant_endpoint(tenant, &["readiness"])?;
        self.page(&url, page).await
    }

    /// `GET /v1/tenants/{tenant}/readiness/user-guide` as a page.
    pub async fn user_guide_page(&self, tenant: &str, page: Page) -> Result<String, ClientError> {
        let url = self.tenant_endpoint(tenant, &["readiness", "user-guide"])?;
        self.page(&url, page).await
    }

    /// `GET /v1/tenants/{tenant}/readiness/user-guide` as JSON: the facts the guide tells.
    pub async fn user_guide(&self, tenant: &str) -> Result<Answer<UserGuide>, ClientError> {
        let url = self.tenant_endpoint(tenant, &["readiness", "user-guide"])?;
        self.send_json(Method::GET, &url, None, Some(READINESS_TIMEOUT))
            .await
    }

    /// `GET /v1/readiness` as one JSON document, once every tenant is done.
    pub async fn fleet_readiness(
        &self,
        tenants: &FleetTenants,
    ) -> Result<Answer<FleetReadiness>, ClientError> {
        let url = self.fleet_readiness_url(tenants)?;
        self.send_json(Method::GET, &url, None, Some(READINESS_TIMEOUT))
            .await
    }

    /// `GET /v1/readiness` as a page.
    pub async fn fleet_readiness_page(
        &self,
        tenants: &FleetTenants,
        page: Page,
    ) -> Result<String, ClientError> {
        let url = self.fleet_readiness_url(tenants)?;
        self.page(&url, page).await
    }

    /// `GET /v1/readiness` as NDJSON: each tenant's readiness or problem as it completes.
    pub async fn fleet_readiness_stream(
        &self,
        tenants: &FleetTenants,
    ) -> Result<FleetReadinessStream, ClientError> {
        let url = self.fleet_readiness_url(tenants)?;
        let body = self
            .stream(url, "application/x-ndjson", None, READINESS_TIMEOUT)
            .await?;
        Ok(FleetReadinessStream {
            lines: Lines::new(body),
        })
    }

    fn fleet_readiness_url(&self, tenants: &FleetTenants) -> Result<Url, ClientError> {
        let mut url = self.endpoint(&["v1", "readiness"])?;
        let names = match tenants {
            FleetTenants::All => "all".to_owned(),
            FleetTenants::Named(names) => names.join(","),
        };
        url.query_pairs_mut().append_pair("tenants", &names);
        Ok(url)
    }

    async fn page(&self, url: &Url, page: Page) -> Result<String, ClientError> {
        let accept = format!("{}, application/problem+json;q=0.9", page.media_type());
        let timeout = |request: reqwest::RequestBuilder| request.timeout(READINESS_TIMEOUT);
        let response = self.open(Method::GET, url, &accept, Some(&timeout)).await?;
        response
            .text()
            .await
            .map_err(|e| ClientError::Transport(format!("GET {url}: {e}")))
    }
}

/// The fleet's readiness as it arrives.
pub struct FleetReadinessStream {
    lines: Lines,
}

impl FleetReadinessStream {
    /// The next tenant, `None` when every tenant has completed.
    pub async fn next_entry(&mut self) -> Result<Option<FleetReadinessEntry>, ClientError> {
        let Some(line) = self.lines.next_item().await? else {
            return Ok(None);
        };
        serde_json::from_slice(&line).map(Some).map_err(|e| {
            ClientError::Decode(format!(
                "GET {}: a tenant's readiness line is not valid: {e}",
                self.lines.url()
            ))
        })
    }
}
