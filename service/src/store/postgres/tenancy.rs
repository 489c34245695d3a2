//! The tenants onboarded through the API and the access grants made through it, on PostgreSQL:
//! shared by every replica. Lists are `text[]`, the credential and the verification `json` as
//! written, sealed secrets `bytea`.

use tokio_postgres::error::SqlState;

use super::PgStore;
use crate::capabilities::tenant_store::{GrantRecord, TenantRecord, TenantStore};
use crate::store::StoreError;

pub(super) const SCHEMA_V3: &str = "
CREATE TABLE tenants (
    id             text PRIMARY KEY,
    display_name   text,
    domains        text[] NOT NULL,
    tags           text[] NOT NULL,
    credential     json NOT NULL,
    sealed_secret  bytea,
    created_at     text NOT NULL,
    created_by     text NOT NULL,
    verification   json
);
CREATE TABLE access_grants (
    id          text PRIMARY KEY,
    principal   text NOT NULL,
    tenants     text[] NOT NULL,
    role        text NOT NULL CHECK (role IN ('SSPR.Read', 'SSPR.ReadWrite', 'SSPR.Admin')),
    created_at  text NOT NULL,
    created_by  text NOT NULL
);
";

const SELECT_TENANT: &str = "SELECT id, display_name, domains, tags, credential::text, \
     sealed_secret, created_at, created_by, verification::text FROM tenants";

fn tenant_row(row: &tokio_postgres::Row) -> Result<TenantRecord, tokio_postgres::Error> {
    Ok(TenantRecord {
        id: row.try_get(0)?,
        display_name: row.try_get(1)?,
        domains: row.try_get(2)?,
        tags: row.try_get(3)?,
        credential: row.try_get(4)?,
        sealed_secret: row.try_get(5)?,
        created_at: row.try_get(6)?,
        created_by: row.try_get(7)?,
        verification: row.try_get(8)?,
    })
}

pub struct PgTenantStore {
    store: PgStore,
}

impl PgTenantStore {
    pub(super) fn new(store: PgStore) -> Self {
        PgTenantStore { store }
    }
}

#[async_trait::async_trait]
impl TenantStore for PgTenantStore {
    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        let rows = self
            .store
            .client()
            .await?
            .query(&format!("{SELECT_TENANT} ORDER BY created_at, id"), &[])
            .await?;
        Ok(rows.iter().map(tenant_row).collect::<Result<_, _>>()?)
    }

    async fn tenant(&self, id: &str) -> Result<Option<TenantRecord>, StoreError> {
        let row = self
            .store
            .client()
            .await?
            .query_opt(&format!("{SELECT_TENANT} WHERE id = $1"), &[&id])
            .await?;
        Ok(row.as_ref().map(tenant_row).transpose()?)
    }

    async fn insert_tenant(&self, record: TenantRecord) -> Result<(), StoreError> {
        self.store
            .client()
            .await?
            .execute(
                "INSERT INTO tenants (id, display_name, domains, tags, credential, sealed_secret,
                     created_at, created_by, verification)
                 VALUES ($1, $2, $3, $4, $5::text::json, $6, $7, $8, $9::text::json)",
                &[
                    &record.id,
                    &record.display_name,
                    &record.domains,
                    &record.tags,
                    &record.credential,
                    &record.sealed_secret,
                    &record.created_at,
                    &record.created_by,
                    &record.verification,
                ],
            )
            .await
            .map_err(|e| match e.code() {
                Some(&SqlState::UNIQUE_VIOLATION) => {
                    StoreError::Exists(format!("tenant {}", record.id))
                }
                _ => e.into(),
            })?;
        Ok(())
    }

    async fn replace_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        let changed = self
            .store
            .client()
            .await?
            .execute(
                "UPDATE tenants SET display_name = $2, domains = $3, tags = $4,
                     credential = $5::text::json, sealed_secret = $6,
                     verification = $7::text::json
                 WHERE id = $1",
                &[
                    &record.id,
                    &record.display_name,
                    &record.domains,
                    &record.tags,
                    &record.credential,
                    &record.sealed_secret,
                    &record.verification,
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn delete_tenant(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = self
            .store
            .client()
            .await?
            .execute("DELETE FROM tenants WHERE id = $1", &[&id])
            .await?;
        Ok(deleted == 1)
    }

    async fn set_verification(&self, id: &str, verification: String) -> Result<(), StoreError> {
        self.store
            .client()
            .await?
            .execute(
                "UPDATE tenants SET verification = $2::text::json WHERE id = $1",
                &[&id, &verification],
            )
            .await?;
        Ok(())
    }

    async fn grants(&self) -> Result<Vec<GrantRecord>, StoreError> {
        let rows = self
            .store
            .client()
            .await?
            .query(
                "SELECT id, principal, tenants, role, created_at, created_by
                 FROM access_grants ORDER BY created_at, id",
                &[],
            )
            .await?;
        let grant = |row: &tokio_postgres::Row| -> Result<GrantRecord, tokio_postgres::Error> {
            Ok(GrantRecord {
                id: row.try_get(0)?,
                principal: row.try_get(1)?,
                tenants: row.try_get(2)?,
                role: row.try_get(3)?,
                created_at: row.try_get(4)?,
                created_by: row.try_get(5)?,
            })
        };
        Ok(rows.iter().map(grant).collect::<Result<_, _>>()?)
    }

    async fn insert_grant(&self, record: GrantRecord) -> Result<(), StoreError> {
        self.store
            .client()
            .await?
            .execute(
                "INSERT INTO access_grants (id, principal, tenants, role, created_at, created_by)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &record.id,
                    &record.principal,
                    &record.tenants,
                    &record.role,
                    &record.created_at,
                    &record.created_by,
                ],
            )
            .await?;
        Ok(())
    }

    async fn delete_grant(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = self
            .store
            .client()
            .await?
            .execute("DELETE FROM access_grants WHERE id = $1", &[&id])
            .await?;
        Ok(deleted == 1)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}
