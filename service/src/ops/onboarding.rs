//! Onboarding, updating and offboarding customer tenants at run time, without a restart.
//!
//! The store is the truth for tenants onboarded through the API: a change is written there
//! first, then the registry's snapshot is swapped, one change at a time
//! (`TenantRegistry::changes`). Tenants of the configuration file are read-only here. Only a
//! caller who administers the whole fleet may change the registry ([`Caller::administers_fleet`]):
//! a caller scoped to some tenants must not widen its own scope by re-tagging or onboarding.

mod credential;
pub mod refresh;

use std::sync::Arc;

use sspr_api::tenants::{
    ConsentLink, TenantOnboarding, TenantOrigin, TenantSummary, TenantUpdate, Verification,
};
use time::OffsetDateTime;

use super::audited::{AuditTrail, json};
use super::{OpsError, authorize, require_fleet_admin, tenant_ref};
use crate::auth::{Caller, Verb};
use crate::capabilities::audit_log::AuditLog;
use crate::capabilities::tenant_discovery::TenantDiscovery;
use crate::capabilities::tenant_store::{TenantRecord, TenantStore};
use crate::directory::tenants::{
    ManagedTenant, RegistryError, TenantBuilder, TenantDefinition, TenantRegistry,
};
use crate::domain::tenancy::{every_required_permission, validate_tags};
pub use credential::CredentialSettings;

/// The service's settings for onboarding.
pub struct Tenancy {
    pub credentials: CredentialSettings,
    /// Where admin consent redirects by default (`[tenancy] consent_redirect_uri`).
    pub consent_redirect_uri: Option<url::Url>,
    /// The MSP's own tenant (`[partner] tenant`) signed in to with the default app, for GDAP
    /// discovery.
    pub partner_tenant: Option<Arc<ManagedTenant>>,
}

/// What onboarding works with.
pub struct Onboarding<'a> {
    pub registry: &'a TenantRegistry,
    pub builder: &'a TenantBuilder,
    pub store: &'a dyn TenantStore,
    pub discovery: &'a dyn TenantDiscovery,
    pub audit: Arc<dyn AuditLog>,
    pub credentials: &'a CredentialSettings,
}

/// The tenants the store holds, as definitions for the registry. A tenant whose record cannot
/// be read (its sealed secret does not open with this key) stops the start-up, naming it:
/// serving without it would look like an offboarding.
pub async fn stored_tenants(
    store: &dyn TenantStore,
    credentials: &CredentialSettings,
) -> anyhow::Result<Vec<TenantDefinition>> {
    let mut definitions = Vec::new();
    for record in store.tenants().await? {
        let definition = credential::definition_of(&record, credentials)
            .map_err(|why| anyhow::anyhow!("onboarded tenant {}: {why}", record.id))?;
        definitions.push(definition);
    }
    Ok(definitions)
}

/// What a change of the registry is called in a refusal.
const REGISTRY: &str = "Changing the tenant registry";

fn now() -> String {
    super::tenants::rfc3339(OffsetDateTime::now_utc())
}

/// A tenant id is a GUID; anything else is taken as a domain.
fn is_tenant_id(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok()
}

fn bad(field: &str, detail: impl Into<String>) -> OpsError {
    OpsError::BadInput {
        field: field.to_owned(),
        detail: detail.into(),
    }
}

fn clean_domains(domains: &[String], field: &str) -> Result<Vec<String>, OpsError> {
    domains
        .iter()
        .map(|domain| {
            let domain = domain.trim().to_ascii_lowercase();
            let valid = !domain.is_empty()
                && domain.len() <= 253
                && domain.contains('.')
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if valid {
                Ok(domain)
            } else {
                Err(bad(field, format!("'{domain}' is not a domain name")))
            }
        })
        .collect()
}

fn tags(tags: &[String]) -> Result<Vec<String>, OpsError> {
    validate_tags(tags).map_err(|why| bad("tags", why))
}

fn name_taken(error: RegistryError) -> OpsError {
    match error {
        RegistryError::NameTaken { name, existing } => OpsError::Conflict {
            slug: "tenant-exists",
            detail: format!("Tenant {existing} already answers to {name}."),
        },
        RegistryError::NotFound(id) => OpsError::UnknownTenant(id),
    }
}

impl Onboarding<'_> {
    /// Onboards a tenant named by id or verified domain: resolves a domain through the tenant's
    /// OpenID Connect discovery, builds its credential (a key that does not parse fails here,
    /// before anything is kept), seals inline secrets, keeps it in the store and adds it to the
    /// registry. Usable at once.
    pub async fn add(
        &self,
        caller: &Caller,
        request: TenantOnboarding,
        request_id: Option<String>,
    ) -> Result<TenantSummary, OpsError> {
        require_fleet_admin(caller, REGISTRY)?;
        let named = request.tenant.trim().to_ascii_lowercase();
        if named.is_empty() {
            return Err(bad(
                "tenant",
                "the tenant id or one of its verified domains",
            ));
        }
        let mut domains = clean_domains(&request.domains, "domains")?;
        let id = if is_tenant_id(&named) {
            named.clone()
        } else {
            let domain = clean_domains(std::slice::from_ref(&named), "tenant")?.remove(0);
            let id = self
                .discovery
                .tenant_id(&domain)
                .await?
                .ok_or_else(|| OpsError::Unusable {
                    slug: "unknown-domain",
                    title: "No Entra tenant answers to this domain",
                    field: "tenant".to_owned(),
                    detail: format!(
                        "No Entra tenant answers to {domain}: its OpenID Connect discovery document was not found. Check the spelling, or give the tenant id."
                    ),
                })?;
            domains.retain(|d| *d != domain);
            domains.insert(0, domain);
            id
        };
        let tags = tags(&request.tags)?;
        let prepared = credential::prepare(&id, request.credential, self.credentials)?;
        let definition = TenantDefinition {
            id: id.clone(),
            domains: domains.clone(),
            display_name: request.display_name.clone(),
            tags: tags.clone(),
            credential: prepared.spec.clone(),
            origin: TenantOrigin::Api,
            secret_storage: prepared.storage,
            portal: None,
            verification: None,
        };
        let tenant = self.build(definition)?;
        let _one_change = self.registry.changes.lock().await;
        if let Some(clash) = self.registry.clash(&tenant, None) {
            return Err(name_taken(clash));
        }
        let record = TenantRecord {
            id: id.clone(),
            display_name: request.display_name,
            domains,
            tags,
            credential: prepared.stored,
            sealed_secret: prepared.sealed,
            created_at: now(),
            created_by: caller.display(),
            verification: None,
        };
        let planned = super::tenants::summary(&tenant);
        let trail = AuditTrail::to(
            self.audit.clone(),
            caller,
            &tenant,
            "tenants.add",
            request_id,
        );
        let tenant = trail
            .around(None, json(&planned), async {
                self.store
                    .insert_tenant(record)
                    .await
                    .map_err(|e| match e {
                        crate::store::StoreError::Exists(_) => OpsError::Conflict {
                            slug: "tenant-exists",
                            detail: format!("Tenant {id} is already onboarded."),
                        },
                        other => OpsError::Store(other),
                    })?;
                self.registry.add(tenant).map_err(name_taken)
            })
            .await?;
        Ok(super::tenants::summary(&tenant))
    }

    /// Changes what is given of an onboarded tenant; what is absent stays. A new credential is
    /// built (and checked) before anything is kept, and drops the last verdict.
    pub async fn update(
        &self,
        caller: &Caller,
        key: &str,
        update: TenantUpdate,
        request_id: Option<String>,
    ) -> Result<TenantSummary, OpsError> {
        require_fleet_admin(caller, REGISTRY)?;
        let current = self.writable(caller, key)?;
        let _one_change = self.registry.changes.lock().await;
        let mut record = self
            .store
            .tenant(&current.id)
            .await
            .map_err(OpsError::Store)?
            .ok_or_else(|| OpsError::UnknownTenant(key.to_owned()))?;
        let before = super::tenants::summary(&current);
        if let Some(name) = update.display_name {
            record.display_name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
        }
        if let Some(domains) = &update.domains {
            record.domains = clean_domains(domains, "domains")?;
        }
        if let Some(new_tags) = &update.tags {
            record.tags = tags(new_tags)?;
        }
        let same_credential = update.credential.is_none();
        if let Some(input) = update.credential {
            let prepared = credential::prepare(&record.id, input, self.credentials)?;
            record.credential = prepared.stored;
            record.sealed_secret = prepared.sealed;
            record.verification = None;
        }
        let definition = credential::definition_of(&record, self.credentials)
            .map_err(|why| OpsError::Internal(format!("tenant {}: {why}", record.id)))?;
        let tenant = self.build(definition)?;
        if let Some(clash) = self.registry.clash(&tenant, Some(&record.id)) {
            return Err(name_taken(clash));
        }
        let planned = super::tenants::summary(&tenant);
        let trail = AuditTrail::to(
            self.audit.clone(),
            caller,
            &tenant,
            "tenants.update",
            request_id,
        );
        let tenant = trail
            .around(json(&before), json(&planned), async {
                if !self
                    .store
                    .replace_tenant(record)
                    .await
                    .map_err(OpsError::Store)?
                {
                    return Err(OpsError::UnknownTenant(key.to_owned()));
                }
                self.registry
                    .replace(tenant, same_credential)
                    .map_err(name_taken)
            })
            .await?;
        Ok(super::tenants::summary(&tenant))
    }

    /// Offboards an onboarded tenant: its record and sealed secret leave the store, the
    /// registry forgets it; its audit records stay.
    pub async fn remove(
        &self,
        caller: &Caller,
        key: &str,
        request_id: Option<String>,
    ) -> Result<(), OpsError> {
        require_fleet_admin(caller, REGISTRY)?;
        let current = self.writable(caller, key)?;
        let _one_change = self.registry.changes.lock().await;
        let before = super::tenants::summary(&current);
        AuditTrail::to(
            self.audit.clone(),
            caller,
            &current,
            "tenants.remove",
            request_id,
        )
        .around(json(&before), None, async {
            self.store
                .delete_tenant(&current.id)
                .await
                .map_err(OpsError::Store)?;
            self.registry.remove(&current.id);
            Ok(())
        })
        .await
    }

    /// The tenant named `key`, if the caller may change it and it was onboarded through the API.
    fn writable(&self, caller: &Caller, key: &str) -> Result<Arc<ManagedTenant>, OpsError> {
        let tenant = authorize(self.registry, caller, Verb::Admin, key)?;
        if tenant.origin == TenantOrigin::Config {
            return Err(OpsError::Conflict {
                slug: "tenant-read-only",
                detail: format!(
                    "Tenant {} is defined in the configuration file: change it there (the API changes only tenants onboarded through it).",
                    tenant.primary_domain()
                ),
            });
        }
        Ok(tenant)
    }

    fn build(&self, definition: TenantDefinition) -> Result<ManagedTenant, OpsError> {
        self.builder
            .build(definition)
            .map_err(|why| OpsError::Unusable {
                slug: "unusable-credential",
                title: "The credential cannot be used",
                field: "credential".to_owned(),
                detail: why.to_string(),
            })
    }
}

/// Keeps a verification of an onboarded tenant in the store, so it survives a restart.
pub async fn keep_verification(
    store: &dyn TenantStore,
    tenant: &ManagedTenant,
    verification: &Verification,
) -> Result<(), OpsError> {
    if tenant.origin != TenantOrigin::Api {
        return Ok(());
    }
    let text = serde_json::to_string(verification)
        .map_err(|e| OpsError::Internal(format!("verification: {e}")))?;
    store
        .set_verification(&tenant.id, text)
        .await
        .map_err(OpsError::Store)
}

/// The admin-consent link for the tenant's app (Microsoft identity platform v2, for this tenant:
/// not `common`, which would let any tenant's admin consent).
pub fn consent_link(
    registry: &TenantRegistry,
    builder: &TenantBuilder,
    caller: &Caller,
    key: &str,
    redirect_uri: Option<&str>,
    default_redirect: Option<&url::Url>,
) -> Result<ConsentLink, OpsError> {
    let tenant = authorize(registry, caller, Verb::Write, key)?;
    let redirect = match redirect_uri {
        Some(given) => url::Url::parse(given.trim())
            .ok()
            .filter(|u| u.scheme() == "https" || is_loopback(u))
            .ok_or_else(|| {
                bad(
                    "redirectUri",
                    format!("'{given}' is not an absolute https URL (http only for localhost)"),
                )
            })?,
        None => default_redirect.cloned().ok_or_else(|| {
            bad(
                "redirectUri",
                "give redirectUri (a redirect URI registered on the app), or set [tenancy] consent_redirect_uri",
            )
        })?,
    };
    let state = uuid::Uuid::new_v4().simple().to_string();
    let mut url = builder
        .authority_host()
        .join(&format!("{}/v2.0/adminconsent", tenant.id))
        .map_err(|e| OpsError::Internal(format!("consent URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("client_id", &tenant.app_id)
        .append_pair("scope", "https://graph.microsoft.com/.default")
        .append_pair("redirect_uri", redirect.as_str())
        .append_pair("state", &state);
    Ok(ConsentLink {
        tenant: tenant_ref(&tenant),
        url: url.to_string(),
        client_id: tenant.app_id.clone(),
        redirect_uri: redirect.to_string(),
        state,
        permissions: every_required_permission(),
    })
}

fn is_loopback(url: &url::Url) -> bool {
    url.scheme() == "http" && matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}
