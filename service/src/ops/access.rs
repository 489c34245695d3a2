//! Access grants made through the API: a principal may act on the tenants a list of ids,
//! domains, `tag:` selectors or `*` selects, up to a role. Grants of the configuration file are
//! listed too, read-only. Only a caller who administers the whole fleet manages grants: one
//! scoped to some tenants could otherwise widen its own scope.

use sspr_api::access::{AccessGrant, AccessGrantRequest, AccessList, GrantOrigin, Role};

use super::audited::{AuditTrail, json};
use super::{OpsError, require_fleet_admin};
use crate::auth::{Authenticator, Caller, Grant, Verb, selector};
use crate::capabilities::audit_log::AuditLog;
use crate::capabilities::tenant_store::{GrantRecord, TenantStore};
use crate::domain::tenancy::TenantSelector;

/// How a role is kept: as the API spells it.
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Read => "SSPR.Read",
        Role::ReadWrite => "SSPR.ReadWrite",
        Role::Admin => "SSPR.Admin",
    }
}

fn role_of(name: &str) -> Option<Role> {
    [Role::Read, Role::ReadWrite, Role::Admin]
        .into_iter()
        .find(|role| role_name(*role) == name)
}

fn grant_of(record: &GrantRecord) -> Option<Grant> {
    Some(Grant {
        principal: record.principal.clone(),
        tenants: record.tenants.iter().map(|t| selector(t)).collect(),
        role: Some(Verb::of_role(role_of(&record.role)?)),
    })
}

/// The grants the store keeps, as the authenticator applies them.
pub async fn stored_grants(store: &dyn TenantStore) -> anyhow::Result<Vec<Grant>> {
    store
        .grants()
        .await?
        .iter()
        .map(|record| {
            grant_of(record).ok_or_else(|| {
                anyhow::anyhow!(
                    "access grant {} has an unknown role {}",
                    record.id,
                    record.role
                )
            })
        })
        .collect()
}

/// What access management works with.
pub struct Access<'a> {
    pub auth: &'a Authenticator,
    pub store: &'a dyn TenantStore,
    pub audit: std::sync::Arc<dyn AuditLog>,
}

impl Access<'_> {
    /// Every grant: the configuration file's first (`config-<n>`), then the API's.
    pub async fn list(&self, caller: &Caller) -> Result<AccessList, OpsError> {
        require_fleet_admin(caller, "Managing access grants")?;
        let configured = self
            .auth
            .configured_grants()
            .iter()
            .enumerate()
            .map(|(index, grant)| AccessGrant {
                id: format!("config-{index}"),
                principal: grant.principal.clone(),
                tenants: grant.tenants.clone(),
                role: None,
                origin: GrantOrigin::Config,
                created_at: None,
                created_by: None,
            });
        let stored = self.store.grants().await.map_err(OpsError::Store)?;
        let value = configured
            .chain(stored.into_iter().map(|record| AccessGrant {
                role: role_of(&record.role),
                id: record.id,
                principal: record.principal,
                tenants: record.tenants,
                origin: GrantOrigin::Api,
                created_at: Some(record.created_at),
                created_by: Some(record.created_by),
            }))
            .collect();
        Ok(AccessList { value })
    }

    /// Grants `request.principal` the tenants `request.tenants` selects, up to `request.role`,
    /// from its next request on.
    pub async fn grant(
        &self,
        caller: &Caller,
        request: AccessGrantRequest,
        request_id: Option<String>,
    ) -> Result<AccessGrant, OpsError> {
        require_fleet_admin(caller, "Managing access grants")?;
        let principal = request.principal.trim().to_ascii_lowercase();
        if principal.is_empty() || principal.chars().any(char::is_whitespace) {
            return Err(OpsError::BadInput {
                field: "principal".to_owned(),
                detail: "the caller's object id (oid) or client id (appid), without spaces".into(),
            });
        }
        if request.tenants.is_empty() {
            return Err(OpsError::BadInput {
                field: "tenants".to_owned(),
                detail: "name at least one tenant id or domain, tag:<tag>, or *".into(),
            });
        }
        let mut tenants = Vec::with_capacity(request.tenants.len());
        for text in &request.tenants {
            let parsed = TenantSelector::parse(text).map_err(|why| OpsError::BadInput {
                field: "tenants".to_owned(),
                detail: why,
            })?;
            tenants.push(parsed.text());
        }
        let record = GrantRecord {
            id: uuid::Uuid::new_v4().to_string(),
            principal,
            tenants,
            role: role_name(request.role).to_owned(),
            created_at: super::tenants::rfc3339(time::OffsetDateTime::now_utc()),
            created_by: caller.display(),
        };
        let answer = AccessGrant {
            id: record.id.clone(),
            principal: record.principal.clone(),
            tenants: record.tenants.clone(),
            role: Some(request.role),
            origin: GrantOrigin::Api,
            created_at: Some(record.created_at.clone()),
            created_by: Some(record.created_by.clone()),
        };
        AuditTrail::fleet(self.audit.clone(), caller, "access.grant", request_id)
            .around(None, json(&answer), async {
                self.store
                    .insert_grant(record)
                    .await
                    .map_err(OpsError::Store)?;
                self.reload().await
            })
            .await?;
        Ok(answer)
    }

    /// Revokes the API grant `id`, from the principal's next request on. Configuration grants
    /// are changed in the file.
    pub async fn revoke(
        &self,
        caller: &Caller,
        id: &str,
        request_id: Option<String>,
    ) -> Result<(), OpsError> {
        require_fleet_admin(caller, "Managing access grants")?;
        if id.starts_with("config-") {
            return Err(OpsError::Conflict {
                slug: "grant-read-only",
                detail: format!(
                    "Grant {id} is in the configuration file ([[auth.access]]): change it there."
                ),
            });
        }
        let grants = self.store.grants().await.map_err(OpsError::Store)?;
        let Some(found) = grants.iter().find(|g| g.id == id) else {
            return Err(OpsError::NotFound {
                what: "unknown-grant",
                detail: format!("No access grant has the id {id}."),
            });
        };
        AuditTrail::fleet(self.audit.clone(), caller, "access.revoke", request_id)
            .around(
                json(&serde_json::json!({
                    "id": found.id, "principal": found.principal,
                    "tenants": found.tenants, "role": found.role,
                })),
                None,
                async {
                    self.store.delete_grant(id).await.map_err(OpsError::Store)?;
                    self.reload().await
                },
            )
            .await
    }

    async fn reload(&self) -> Result<(), OpsError> {
        let records = self.store.grants().await.map_err(OpsError::Store)?;
        self.auth
            .set_granted(records.iter().filter_map(grant_of).collect());
        Ok(())
    }
}
