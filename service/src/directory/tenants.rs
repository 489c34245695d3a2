//! The customer tenants this service manages, each with its own Graph credential.

use std::sync::Arc;

use url::Url;

use super::credentials::{CredentialFactory, CredentialSpec, TrackedCredential};
use super::portal::PortalConnector;
use crate::config::{GraphConfig, TenantConfig};
use crate::domain::tenancy::{TenantNames, validate_tags};

pub struct ManagedTenant {
    pub id: String,
    /// Lower-cased verified domains.
    pub domains: Vec<String>,
    pub display_name: String,
    /// Labels such as `region:eu`, which `tag:` selectors match.
    pub tags: Vec<String>,
    /// The client id of the app the service signs in to this tenant with (lower-cased): Graph
    /// keeps most throttling budgets per app.
    pub app_id: String,
    credential: Arc<TrackedCredential>,
    /// What the credential was built from: a verification builds a fresh one, so its token
    /// shows what is consented now, not what a cached token says.
    spec: CredentialSpec,
    /// The last verification of what the app may do in the tenant.
    pub verification: std::sync::Mutex<Option<sspr_api::tenants::Verification>>,
    /// The opt-in portal back-end connector (delegated admin sign-in), if configured.
    portal: Option<PortalConnector>,
    /// Serializes policy changes to this tenant within this process, so that the `If-Match`
    /// check and the writes that follow it cannot interleave with another change.
    pub write_lock: tokio::sync::Mutex<()>,
    /// Whether the tenant has Entra ID P1/P2, and when that was read (see `ops::licence`).
    pub licence: std::sync::Mutex<Option<(std::time::Instant, crate::domain::licence::Licence)>>,
    /// The last enablement inferred from the registration report, and when. Inference reads the
    /// whole report, which Graph throttles to 5 requests / 10 s per tenant: reuse it for a while.
    pub inferred: tokio::sync::Mutex<
        Option<(
            std::time::Instant,
            crate::domain::portal::InferredEnablement,
        )>,
    >,
}

impl ManagedTenant {
    pub fn credential(&self) -> &TrackedCredential {
        &self.credential
    }

    pub fn credential_spec(&self) -> &CredentialSpec {
        &self.spec
    }

    /// The portal back-end connector, when this tenant opted in.
    pub fn portal(&self) -> Option<&PortalConnector> {
        self.portal.as_ref()
    }

    /// The domain to show: the first configured one, else the id.
    pub fn primary_domain(&self) -> &str {
        self.domains.first().map_or(&self.id, String::as_str)
    }

    /// True when `key` names this tenant by id or domain (case-insensitive, as Entra does).
    pub fn is_named(&self, key: &str) -> bool {
        self.id.eq_ignore_ascii_case(key)
            || self.domains.iter().any(|d| d.eq_ignore_ascii_case(key))
    }
}

impl TenantNames for ManagedTenant {
    fn id(&self) -> &str {
        &self.id
    }
    fn domains(&self) -> &[String] {
        &self.domains
    }
    fn tags(&self) -> &[String] {
        &self.tags
    }
}

pub struct TenantRegistry {
    tenants: Vec<ManagedTenant>,
}

impl TenantRegistry {
    /// Builds one credential per tenant. Each credential caches its token, so a tenant costs one
    /// token request per token lifetime however many calls are made.
    pub fn build(
        configs: &[TenantConfig],
        graph: &GraphConfig,
        http: &reqwest::Client,
        factory: &CredentialFactory,
    ) -> anyhow::Result<Self> {
        let authority_host: &Url = &graph.authority_host;
        let mut tenants = Vec::with_capacity(configs.len());
        for config in configs {
            let spec = CredentialSpec::from_config(&config.credential)
                .map_err(|e| anyhow::anyhow!("tenant {}: credential: {e}", config.id))?;
            let app_id = factory
                .client_id(&spec)
                .map_err(|e| anyhow::anyhow!("tenant {}: {e}", config.id))?
                .to_ascii_lowercase();
            let credential = factory.build(&config.id, &spec).map_err(|e| {
                anyhow::anyhow!("tenant {}: cannot build its credential: {e}", config.id)
            })?;
            let tags = validate_tags(&config.tags)
                .map_err(|why| anyhow::anyhow!("tenant {}: tags: {why}", config.id))?;
            let mut domains: Vec<String> = config
                .domains
                .iter()
                .map(|d| d.to_ascii_lowercase())
                .collect();
            domains.dedup();
            let portal = config
                .portal
                .as_ref()
                .map(|portal| {
                    PortalConnector::new(
                        http.clone(),
                        &config.id,
                        authority_host,
                        graph.portal_base_url.clone(),
                        portal.client_id.clone(),
                        portal.refresh_token.clone(),
                    )
                })
                .transpose()
                .map_err(|e| {
                    anyhow::anyhow!(
                        "tenant {}: cannot build its portal connector: {e}",
                        config.id
                    )
                })?;
            tenants.push(ManagedTenant {
                write_lock: tokio::sync::Mutex::new(()),
                inferred: tokio::sync::Mutex::new(None),
                licence: std::sync::Mutex::new(None),
                id: config.id.to_ascii_lowercase(),
                display_name: config.display_name.clone().unwrap_or_else(|| {
                    domains
                        .first()
                        .cloned()
                        .unwrap_or_else(|| config.id.clone())
                }),
                domains,
                tags,
                app_id,
                credential,
                spec,
                verification: std::sync::Mutex::new(None),
                portal,
            });
        }
        Ok(TenantRegistry { tenants })
    }

    pub fn find(&self, key: &str) -> Option<&ManagedTenant> {
        self.tenants.iter().find(|t| t.is_named(key))
    }

    pub fn iter(&self) -> impl Iterator<Item = &ManagedTenant> {
        self.tenants.iter()
    }
}

#[cfg(test)]
impl ManagedTenant {
    /// A tenant for the use cases' unit tests: no portal connector, and a credential that is
    /// never asked for a token (the tests use in-memory fakes of the capabilities).
    pub(crate) fn for_tests(id: &str, domain: &str) -> ManagedTenant {
        let factory = CredentialFactory::new(
            reqwest::Client::new(),
            Url::parse("https://login.invalid/").expect("static url"),
            Url::parse("http://imds.invalid/").expect("static url"),
        );
        let spec = CredentialSpec::ClientSecret {
            client_id: "00000000-0000-0000-0000-000000000001".to_owned(),
            secret: super::credentials::SecretSource::Inline("unused".into()),
        };
        let credential = factory
            .build(id, &spec)
            .expect("a client secret credential builds without I/O");
        ManagedTenant {
            id: id.to_ascii_lowercase(),
            domains: vec![domain.to_ascii_lowercase()],
            display_name: domain.to_owned(),
            tags: Vec::new(),
            app_id: "00000000-0000-0000-0000-000000000001".to_owned(),
            credential,
            spec,
            verification: std::sync::Mutex::new(None),
            portal: None,
            write_lock: tokio::sync::Mutex::new(()),
            licence: std::sync::Mutex::new(None),
            inferred: tokio::sync::Mutex::new(None),
        }
    }
}

#[cfg(test)]
impl ManagedTenant {
    /// The same tenant with these tags.
    pub(crate) fn with_tags(mut self, tags: &[&str]) -> ManagedTenant {
        self.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        self
    }
}

#[cfg(test)]
impl TenantRegistry {
    /// A registry of the given tenants, for the use cases' unit tests.
    pub(crate) fn for_tests(tenants: Vec<ManagedTenant>) -> TenantRegistry {
        TenantRegistry { tenants }
    }
}
