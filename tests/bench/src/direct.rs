//! Talking to the emulator directly: the minimal reader of the registration report (the
//! baseline of scenario a) and the control API (throttling, the call log).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use crate::procs::{Manifest, ManifestTenant};

/// An HTTP client that trusts the emulator's CA.
pub fn http(manifest: &Manifest) -> Result<reqwest::Client> {
    client(manifest, reqwest::Client::builder())
}

/// The same client over HTTP/1.1 only. Small answers of the emulator over HTTP/2 to this client
/// stall about 40 ms each (seen in scenario e: 42 ms for three tiny reads, 0.6 ms over
/// HTTP/1.1), which would make a raw read look slower than it is.
pub fn http1(manifest: &Manifest) -> Result<reqwest::Client> {
    client(manifest, reqwest::Client::builder().http1_only())
}

fn client(manifest: &Manifest, builder: reqwest::ClientBuilder) -> Result<reqwest::Client> {
    let pem = std::fs::read(&manifest.ca_file)
        .with_context(|| format!("reading {}", manifest.ca_file.display()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)?;
    Ok(builder
        .tls_certs_merge(certificates)
        .timeout(Duration::from_secs(120))
        .build()?)
}

/// What the direct reader read.
#[derive(Debug, Clone, Copy)]
pub struct DirectRead {
    pub records: u64,
    pub pages: u64,
    pub wall: Duration,
}

#[derive(Deserialize)]
struct Page {
    /// Counted, not kept: the strictest baseline the service and CLI are held to.
    value: Vec<IgnoredAny>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// An app-only Graph token for `tenant` with its app registration.
async fn graph_token(http: &reqwest::Client, tenant: &ManifestTenant) -> Result<String> {
    let app = tenant
        .app
        .as_ref()
        .context("the tenant has no app registration")?;
    let token: Value = http
        .post(&tenant.token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(token["access_token"]
        .as_str()
        .context("no access_token")?
        .to_owned())
}

/// Gets a Graph token for `tenant` with its app registration and follows the report's nextLinks
/// with `$top=999`, counting records, one page after the other.
pub async fn read_report(
    http: &reqwest::Client,
    manifest: &Manifest,
    tenant: &ManifestTenant,
) -> Result<DirectRead> {
    let started = Instant::now();
    let token = graph_token(http, tenant).await?;
    let mut next = Some(format!(
        "{}reports/authenticationMethods/userRegistrationDetails?$top=999",
        manifest.graph_base_url
    ));
    let (mut records, mut pages) = (0u64, 0u64);
    while let Some(url) = next {
        let response = http.get(&url).bearer_auth(&token).send().await?;
        if !response.status().is_success() {
            bail!("GET {url}: {}", response.status());
        }
        let page: Page = serde_json::from_slice(&response.bytes().await?)?;
        records += page.value.len() as u64;
        pages += 1;
        next = page.next_link;
    }
    Ok(DirectRead {
        records,
        pages,
        wall: started.elapsed(),
    })
}

/// A token for the service: client credentials of the CLI app at the operator tenant.
pub async fn service_token(http: &reqwest::Client, manifest: &Manifest) -> Result<String> {
    let token: Value = http
        .post(format!(
            "{}{}/oauth2/v2.0/token",
            manifest.base_url,
            entra_emulator::seed::OPERATOR_ID
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", manifest.cli_app.client_id.as_str()),
            ("client_secret", manifest.cli_app.client_secret.as_str()),
            ("scope", &format!("{}/.default", manifest.service_audience)),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(token["access_token"]
        .as_str()
        .context("no access_token")?
        .to_owned())
}

/// A token for the service with `SSPR.Admin`: the service's managed identity's, from the
/// emulator's IMDS endpoint.
pub async fn service_admin_token(http: &reqwest::Client, manifest: &Manifest) -> Result<String> {
    let token: Value = http
        .get(&manifest.managed_identity.endpoint)
        .query(&[
            ("api-version", "2018-02-01"),
            ("resource", manifest.service_audience.as_str()),
            ("client_id", manifest.managed_identity.client_id.as_str()),
        ])
        .header("Metadata", "true")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(token["access_token"]
        .as_str()
        .context("no access_token")?
        .to_owned())
}

/// The service's CSV listing of `tenant` read as it arrives, counting rows: the service alone,
/// without the CLI.
pub async fn read_service_csv(
    http: &reqwest::Client,
    service_url: &str,
    token: &str,
    tenant: &str,
) -> Result<(u64, Duration)> {
    let started = Instant::now();
    let url = format!("{service_url}v1/tenants/{tenant}/registrations");
    let mut response = http
        .get(&url)
        .bearer_auth(token)
        .header("accept", "text/csv")
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("GET {url}: {}", response.status());
    }
    let mut lines = 0u64;
    while let Some(chunk) = response.chunk().await? {
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    Ok((lines.saturating_sub(1), started.elapsed()))
}

/// The emulator's control API.
pub struct Control<'a> {
    http: &'a reqwest::Client,
    manifest: &'a Manifest,
}

/// Graph calls the emulator served, from its call log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// Reads of the registration report answered 200.
    pub report_pages: u64,
    /// 429 answers.
    pub throttled: u64,
    /// 5xx answers.
    pub server_errors: u64,
    /// Every Graph call (`/v1.0/…`, `/beta/…`), whatever its answer.
    pub graph: u64,
}

impl CallCounts {
    pub fn failed(&self) -> u64 {
        self.throttled + self.server_errors
    }
}

impl<'a> Control<'a> {
    pub fn new(http: &'a reqwest::Client, manifest: &'a Manifest) -> Control<'a> {
        Control { http, manifest }
    }

    fn url(&self, path: &str) -> String {
        format!("{}_emulator/{path}", self.manifest.base_url)
    }

    /// Graph's throttling on (at Graph's published limits) or off.
    pub async fn throttling(&self, enabled: bool) -> Result<()> {
        self.http
            .put(self.url("throttling"))
            .header("x-emulator-control-key", &self.manifest.control_key)
            .json(&json!({ "enabled": enabled }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Back to the generated state with fresh throttling windows (the limits in force stay).
    pub async fn reset(&self) -> Result<()> {
        self.http
            .post(self.url("reset"))
            .header("x-emulator-control-key", &self.manifest.control_key)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Forgets the call log.
    pub async fn clear_calls(&self) -> Result<()> {
        self.http
            .delete(self.url("calls"))
            .header("x-emulator-control-key", &self.manifest.control_key)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Counts of the calls logged since the last [`clear_calls`](Self::clear_calls).
    pub async fn calls(&self) -> Result<CallCounts> {
        Ok(count_calls(&self.call_log().await?))
    }

    /// The emulator's call log since it was last cleared: `{"calls": [{path, status, tenantId, …}]}`.
    pub async fn call_log(&self) -> Result<Value> {
        Ok(self
            .http
            .get(self.url("calls?since=0"))
            .header("x-emulator-control-key", &self.manifest.control_key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

pub fn count_calls(log: &Value) -> CallCounts {
    let mut counts = CallCounts::default();
    for call in log["calls"].as_array().into_iter().flatten() {
        let status = call["status"].as_u64().unwrap_or(0);
        let path = call["path"].as_str().unwrap_or_default();
        if path.starts_with("/v1.0/") || path.starts_with("/beta/") {
            counts.graph += 1;
        }
        if status == 429 {
            counts.throttled += 1;
        } else if status >= 500 {
            counts.server_errors += 1;
        } else if status == 200
            && path.ends_with("/reports/authenticationMethods/userRegistrationDetails")
        {
            counts.report_pages += 1;
        }
    }
    counts
}

/// One read of everything the policy document needs from Graph, straight from the emulator
/// with the tenant's app token (throttling as configured): the floor a policy GET that reads
/// Graph cannot go below.
pub async fn read_policy_facts(
    http: &reqwest::Client,
    manifest: &Manifest,
    tenant: &ManifestTenant,
) -> Result<Duration> {
    let token = graph_token(http, tenant).await?;
    let started = Instant::now();
    let reads = [
        "policies/authenticationMethodsPolicy",
        "policies/authorizationPolicy",
        "organization",
    ]
    .map(|path| {
        http.get(format!("{}{path}", manifest.graph_base_url))
            .bearer_auth(&token)
            .send()
    });
    for answer in futures::future::join_all(reads).await {
        answer?.error_for_status()?.bytes().await?;
    }
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_log_counts_pages_throttling_and_server_errors() {
        let log = json!({"calls": [
            {"path": "/v1.0/reports/authenticationMethods/userRegistrationDetails", "status": 200},
            {"path": "/v1.0/reports/authenticationMethods/userRegistrationDetails", "status": 429},
            {"path": "/v1.0/subscribedSkus", "status": 200},
            {"path": "/v1.0/reports/authenticationMethods/userRegistrationDetails", "status": 503},
            {"path": "/t/oauth2/v2.0/token", "status": 200}
        ]});
        let counts = count_calls(&log);
        assert_eq!(
            counts,
            CallCounts {
                report_pages: 1,
                throttled: 1,
                server_errors: 1,
                graph: 4,
            }
        );
        assert_eq!(counts.failed(), 2);
    }
}
