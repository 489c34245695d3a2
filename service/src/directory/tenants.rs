//! The customer tenants this service manages, each with its own Graph credential: those of the
//! configuration file (read-only) and those onboarded through the API (kept in the store). The
//! registry is a live snapshot: onboarding, updating or offboarding a tenant swaps it without a
//! restart, and a request that already holds a tenant keeps using it until it is done.

use std::sync::{Arc, RwLock};

use sspr_api::tenants::{SecretStorage, TenantOrigin};
use url::Url;

use super::credentials::{CredentialFactory, CredentialSpec, TrackedCredential};
use super::portal::PortalConnector;
use super::write_lock::WriteLock;
use crate::capabilities::coordination::TenantLocks;
use crate::config::{CredentialConfig, GraphConfig, PortalConfig, TenantConfig};
use crate::domain::tenancy::{TenantNames, validate_tags};

pub struct ManagedTenant {
    pub id: String,
    /// Lower-cased verified domains.
    pub domains: Vec<String>,
    pub display_name: String,
    /// Labels such as `region:eu`, which `tag:` selectors match.
    pub tags: Vec<String>,
    /// Where the tenant was defined: the configuration file (read-only) or the API.
    pub origin: TenantOrigin,
    /// Where its credential's secret is kept.
    pub secret_storage: SecretStorage,
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
    /// Serializes changes to this tenant (within the process, and across the replicas sharing
    /// a store), so that the `If-Match` check and the writes that follow it cannot interleave
    /// with another change.
    pub write_lock: WriteLock,
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

/// A tenant before its credential is built: a `[[tenants]]` block, or a row of the store.
#[derive(Debug, Clone)]
pub struct TenantDefinition {
    /// The tenant id (GUID).
    pub id: String,
    pub domains: Vec<String>,
    pub display_name: Option<String>,
    pub tags: Vec<String>,
    pub credential: CredentialSpec,
    pub origin: TenantOrigin,
    pub secret_storage: SecretStorage,
    pub portal: Option<PortalConfig>,
    /// The last verification, as kept in the store.
    pub verification: Option<sspr_api::tenants::Verification>,
}

impl TenantDefinition {
    fn from_config(config: &TenantConfig) -> anyhow::Result<TenantDefinition> {
        let credential = CredentialSpec::from_config(&config.credential)
            .map_err(|e| anyhow::anyhow!("tenant {}: credential: {e}", config.id))?;
        let secret_storage = match &config.credential {
            CredentialConfig::ClientSecret { .. } => SecretStorage::Config,
            CredentialConfig::ClientSecretFile { .. } | CredentialConfig::Certificate { .. } => {
                SecretStorage::File
            }
            CredentialConfig::WorkloadIdentity { .. }
            | CredentialConfig::ManagedIdentity { .. }
            | CredentialConfig::Default => SecretStorage::None,
        };
        Ok(TenantDefinition {
            id: config.id.clone(),
            domains: config.domains.clone(),
            display_name: config.display_name.clone(),
            tags: config.tags.clone(),
            credential,
            origin: TenantOrigin::Config,
            secret_storage,
            portal: config.portal.clone(),
            verification: None,
        })
    }
}

/// Builds managed tenants from definitions: one HTTP client, one authority, one portal back end.
#[derive(Clone)]
pub struct TenantBuilder {
    http: reqwest::Client,
    authority_host: Url,
    portal_base_url: Url,
    credentials: CredentialFactory,
    /// The store's per-tenant locks when replicas share one.
    locks: Option<Arc<dyn TenantLocks>>,
}

impl TenantBuilder {
    pub fn new(
        graph: &GraphConfig,
        http: &reqwest::Client,
        credentials: CredentialFactory,
    ) -> TenantBuilder {
        TenantBuilder {
            http: http.clone(),
            authority_host: graph.authority_host.clone(),
            portal_base_url: graph.portal_base_url.clone(),
            credentials,
            locks: None,
        }
    }

    /// The same builder giving tenants write locks that also hold across the replicas sharing
    /// `locks`' store.
    pub fn with_shared_locks(self, locks: Arc<dyn TenantLocks>) -> TenantBuilder {
        TenantBuilder {
            locks: Some(locks),
            ..self
        }
    }

    /// The client id `spec` signs in as (for `default`: the service-wide app's), if it has one.
    pub fn client_id<'a>(&'a self, spec: &'a CredentialSpec) -> Option<&'a str> {
        self.credentials.client_id(spec).ok()
    }

    /// Where tokens are requested: `https://login.microsoftonline.com/` in Microsoft's cloud.
    pub fn authority_host(&self) -> &Url {
        &self.authority_host
    }

    /// The MSP's own tenant, signed in to with the default app: not a managed tenant (nothing
    /// is read or changed there but its GDAP relationships and contracts).
    pub fn partner(&self, id: &str) -> anyhow::Result<ManagedTenant> {
        if self.client_id(&CredentialSpec::Default).is_none() {
            anyhow::bail!("[partner] tenant is read with the [default_app]: configure one");
        }
        if uuid::Uuid::parse_str(id).is_err() {
            anyhow::bail!("[partner] tenant: '{id}' is not a tenant id (a GUID)");
        }
        self.build(TenantDefinition {
            id: id.to_owned(),
            domains: Vec::new(),
            display_name: Some("partner tenant".to_owned()),
            tags: Vec::new(),
            credential: CredentialSpec::Default,
            origin: TenantOrigin::Config,
            secret_storage: SecretStorage::None,
            portal: None,
            verification: None,
        })
    }

    /// Builds the tenant's credential (without a network call: each caches its token, so a
    /// tenant costs one token request per token lifetime however many calls are made) and
    /// checks its tags.
    pub fn build(&self, definition: TenantDefinition) -> anyhow::Result<ManagedTenant> {
        let id = definition.id.to_ascii_lowercase();
        let credential = self
            .credentials
            .build(&id, &definition.credential)
            .map_err(|e| anyhow::anyhow!("tenant {id}: cannot build its credential: {e}"))?;
        let tags = validate_tags(&definition.tags)
            .map_err(|why| anyhow::anyhow!("tenant {id}: tags: {why}"))?;
        let mut domains: Vec<String> = Vec::with_capacity(definition.domains.len());
        for domain in &definition.domains {
            let domain = domain.to_ascii_lowercase();
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
        let portal = definition
            .portal
            .as_ref()
            .map(|portal| {
                PortalConnector::new(
                    self.http.clone(),
                    &id,
                    &self.authority_host,
                    self.portal_base_url.clone(),
                    portal.client_id.clone(),
                    portal.refresh_token.clone(),
                )
            })
            .transpose()
            .map_err(|e| anyhow::anyhow!("tenant {id}: cannot build its portal connector: {e}"))?;
        let display_name = definition
            .display_name
            .clone()
            .unwrap_or_else(|| domains.first().cloned().unwrap_or_else(|| id.clone()));
        let app_id = self
            .credentials
            .client_id(&definition.credential)
            .map_err(|e| anyhow::anyhow!("tenant {id}: {e}"))?
            .to_ascii_lowercase();
        Ok(ManagedTenant {
            write_lock: WriteLock::new(&id, self.locks.clone()),
            inferred: tokio::sync::Mutex::new(None),
            licence: std::sync::Mutex::new(None),
            app_id,
            display_name,
            domains,
            tags,
            origin: definition.origin,
            secret_storage: definition.secret_storage,
            credential,
            spec: definition.credential,
            verification: std::sync::Mutex::new(definition.verification),
            portal,
            id,
        })
    }
}

/// Why the registry refused a change.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    /// Another tenant already answers to this id or domain.
    #[error("tenant {existing} already answers to {name}")]
    NameTaken { name: String, existing: String },
    #[error("no managed tenant {0}")]
    NotFound(String),
}

/// The managed tenants, as one snapshot that changes swap whole.
pub struct TenantRegistry {
    tenants: RwLock<Arc<[Arc<ManagedTenant>]>>,
    /// One onboarding, update or offboarding at a time, store write and swap together.
    pub changes: tokio::sync::Mutex<()>,
}

impl TenantRegistry {
    /// The tenants of the configuration file and of the store, in that order.
    pub fn new(
        builder: &TenantBuilder,
        configs: &[TenantConfig],
        stored: Vec<TenantDefinition>,
    ) -> anyhow::Result<Self> {
        let registry = TenantRegistry::from_tenants(Vec::new());
        for config in configs {
            registry.add(builder.build(TenantDefinition::from_config(config)?)?)?;
        }
        for definition in stored {
            registry.add(builder.build(definition)?)?;
        }
        Ok(registry)
    }

    /// The tenants of `config`'s file only, with its credentials: for tools and tests that use
    /// the Graph adapters without the service.
    pub fn from_config(
        config: &crate::config::Config,
        http: &reqwest::Client,
    ) -> anyhow::Result<Self> {
        let credentials = CredentialFactory::from_config(http.clone(), config)?;
        let builder = TenantBuilder::new(&config.graph, http, credentials);
        TenantRegistry::new(&builder, &config.tenants, Vec::new())
    }

    fn from_tenants(tenants: Vec<ManagedTenant>) -> TenantRegistry {
        TenantRegistry {
            tenants: RwLock::new(tenants.into_iter().map(Arc::new).collect()),
            changes: tokio::sync::Mutex::new(()),
        }
    }

    /// Every tenant, as of now: later changes do not affect the returned list.
    pub fn snapshot(&self) -> Arc<[Arc<ManagedTenant>]> {
        self.tenants
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn find(&self, key: &str) -> Option<Arc<ManagedTenant>> {
        self.snapshot().iter().find(|t| t.is_named(key)).cloned()
    }

    /// The tenant other than `except` that answers to one of `tenant`'s names, if any.
    pub fn clash(&self, tenant: &ManagedTenant, except: Option<&str>) -> Option<RegistryError> {
        clash_in(&self.snapshot(), tenant, except)
    }

    /// Adds a tenant whose id and domains no other tenant answers to.
    pub fn add(&self, tenant: ManagedTenant) -> Result<Arc<ManagedTenant>, RegistryError> {
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        if let Some(clash) = clash_in(&tenants, &tenant, None) {
            return Err(clash);
        }
        let tenant = Arc::new(tenant);
        let mut next = tenants.to_vec();
        next.push(tenant.clone());
        *tenants = next.into();
        Ok(tenant)
    }

    /// Replaces the tenant with `tenant`'s id, keeping its write lock, and its last verdict when
    /// `same_credential` (a new credential has not been verified).
    pub fn replace(
        &self,
        mut tenant: ManagedTenant,
        same_credential: bool,
    ) -> Result<Arc<ManagedTenant>, RegistryError> {
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        let index = tenants
            .iter()
            .position(|t| t.id == tenant.id)
            .ok_or_else(|| RegistryError::NotFound(tenant.id.clone()))?;
        if let Some(clash) = clash_in(&tenants, &tenant, Some(&tenant.id)) {
            return Err(clash);
        }
        let old = &tenants[index];
        tenant.write_lock = old.write_lock.clone();
        if same_credential {
            let verdict = old
                .verification
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            *tenant
                .verification
                .get_mut()
                .unwrap_or_else(|e| e.into_inner()) = verdict;
        }
        let tenant = Arc::new(tenant);
        let mut next = tenants.to_vec();
        next[index] = tenant.clone();
        *tenants = next.into();
        Ok(tenant)
    }

    /// Removes the tenant with this id; requests that hold it finish with it.
    pub fn remove(&self, id: &str) -> Option<Arc<ManagedTenant>> {
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        let index = tenants.iter().position(|t| t.id == id)?;
        let mut next = tenants.to_vec();
        let removed = next.remove(index);
        *tenants = next.into();
        Some(removed)
    }
}

/// The tenant of `tenants` other than `except` that answers to one of `tenant`'s names.
fn clash_in(
    tenants: &[Arc<ManagedTenant>],
    tenant: &ManagedTenant,
    except: Option<&str>,
) -> Option<RegistryError> {
    std::iter::once(&tenant.id)
        .chain(&tenant.domains)
        .find_map(|name| {
            tenants
                .iter()
                .filter(|t| except.is_none_or(|id| t.id != id))
                .find(|t| t.is_named(name))
                .map(|existing| RegistryError::NameTaken {
                    name: name.clone(),
                    existing: existing.primary_domain().to_owned(),
                })
        })
}

#[cfg(test)]
impl ManagedTenant {
    /// A tenant for the use cases' unit tests: no portal connector, and a credential that is
    /// never asked for a token (the tests use in-memory fakes of the capabilities).
    pub(crate) fn for_tests(id: &str, domain: &str) -> ManagedTenant {
        let builder = TenantBuilder {
            http: reqwest::Client::new(),
            authority_host: Url::parse("https://login.invalid/").expect("static url"),
            portal_base_url: Url::parse("https://portal.invalid/").expect("static url"),
            credentials: CredentialFactory::new(
                reqwest::Client::new(),
                Url::parse("https://login.invalid/").expect("static url"),
                Url::parse("http://imds.invalid/").expect("static url"),
            ),
            locks: None,
        };
        builder
            .build(TenantDefinition {
                id: id.to_owned(),
                domains: vec![domain.to_owned()],
                display_name: Some(domain.to_owned()),
                tags: Vec::new(),
                credential: CredentialSpec::ClientSecret {
                    client_id: "00000000-0000-0000-0000-000000000001".to_owned(),
                    secret: super::credentials::SecretSource::Inline("unused".into()),
                },
                origin: TenantOrigin::Config,
                secret_storage: SecretStorage::Config,
                portal: None,
                verification: None,
            })
            .expect("a client secret credential builds without I/O")
    }

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
        TenantRegistry::from_tenants(tenants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_swaps_the_snapshot_and_leaves_held_tenants_alone() {
        let registry = TenantRegistry::for_tests(vec![ManagedTenant::for_tests(
            "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            "contoso.example",
        )]);
        let before = registry.snapshot();
        let added = registry
            .add(ManagedTenant::for_tests(
                "8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a",
                "fabrikam.example",
            ))
            .expect("a new name");
        assert_eq!(before.len(), 1, "a snapshot taken before does not change");
        assert_eq!(registry.snapshot().len(), 2);
        assert!(Arc::ptr_eq(
            &registry.find("FABRIKAM.example").expect("by domain"),
            &added
        ));

        // Neither the id nor a domain may be taken twice.
        let same_domain =
            ManagedTenant::for_tests("b7e4c1a9-3f62-4d8e-9a05-6c2e8f1d4b73", "Contoso.Example");
        assert_eq!(
            registry.add(same_domain).map(|_| ()),
            Err(RegistryError::NameTaken {
                name: "contoso.example".to_owned(),
                existing: "contoso.example".to_owned()
            })
        );

        // A replacement shares the write lock of the tenant it replaces.
        let old = registry.find("contoso.example").expect("there");
        let renamed =
            ManagedTenant::for_tests(&old.id, "contoso.example").with_tags(&["tier:gold"]);
        let new = registry.replace(renamed, true).expect("replaced");
        assert!(old.write_lock.is(&new.write_lock));
        assert_eq!(registry.find(&old.id).expect("there").tags, ["tier:gold"]);

        assert!(registry.remove(&added.id).is_some());
        assert!(registry.find("fabrikam.example").is_none());
        assert_eq!(
            added.primary_domain(),
            "fabrikam.example",
            "a held tenant stays usable"
        );
    }
}
