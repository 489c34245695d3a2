//! The tenants onboarded through the API and the access grants made through it.

use rusqlite::params;

use super::SqliteStore;
use crate::capabilities::tenant_store::{GrantRecord, TenantRecord, TenantStore};
use crate::store::StoreError;

pub(super) const SCHEMA_V3: &str = "
CREATE TABLE tenants (
    id             TEXT PRIMARY KEY,
    display_name   TEXT,
    domains        TEXT NOT NULL CHECK (json_valid(domains)),
    tags           TEXT NOT NULL CHECK (json_valid(tags)),
    credential     TEXT NOT NULL CHECK (json_valid(credential)),
    sealed_secret  BLOB,
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    verification   TEXT CHECK (verification IS NULL OR json_valid(verification))
) STRICT;
CREATE TABLE access_grants (
    id          TEXT PRIMARY KEY,
    principal   TEXT NOT NULL,
    tenants     TEXT NOT NULL CHECK (json_valid(tenants)),
    role        TEXT NOT NULL CHECK (role IN ('SSPR.Read', 'SSPR.ReadWrite', 'SSPR.Admin')),
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
) STRICT;
";

const SELECT_TENANT: &str = "SELECT id, display_name, domains, tags, credential, sealed_secret, \
     created_at, created_by, verification FROM tenants";

/// A JSON list column; one that does not read is a conversion failure of that column.
fn list_column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// A row of [`SELECT_TENANT`].
fn tenant_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TenantRecord> {
    Ok(TenantRecord {
        id: row.get(0)?,
        display_name: row.get(1)?,
        domains: list_column(row, 2)?,
        tags: list_column(row, 3)?,
        credential: row.get(4)?,
        sealed_secret: row.get(5)?,
        created_at: row.get(6)?,
        created_by: row.get(7)?,
        verification: row.get(8)?,
    })
}

pub struct SqliteTenantStore {
    store: SqliteStore,
}

impl SqliteTenantStore {
    pub(super) fn new(store: SqliteStore) -> Self {
        SqliteTenantStore { store }
    }
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation)
    )
}

#[async_trait::async_trait]
impl TenantStore for SqliteTenantStore {
    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        self.store
            .with_connection(|connection| {
                let mut statement =
                    connection.prepare(&format!("{SELECT_TENANT} ORDER BY created_at, id"))?;
                let rows = statement.query_map([], tenant_row)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn tenant(&self, id: &str) -> Result<Option<TenantRecord>, StoreError> {
        let id = id.to_owned();
        self.store
            .with_connection(move |connection| {
                let mut statement =
                    connection.prepare(&format!("{SELECT_TENANT} WHERE id = ?1"))?;
                let mut rows = statement.query_map([id], tenant_row)?;
                Ok(rows.next().transpose()?)
            })
            .await
    }

    async fn insert_tenant(&self, record: TenantRecord) -> Result<(), StoreError> {
        self.store
            .with_connection(move |connection| {
                connection
                    .execute(
                        "INSERT INTO tenants (id, display_name, domains, tags, credential, \
                         sealed_secret, created_at, created_by, verification) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![
                            record.id,
                            record.display_name,
                            to_json(&record.domains),
                            to_json(&record.tags),
                            record.credential,
                            record.sealed_secret,
                            record.created_at,
                            record.created_by,
                            record.verification,
                        ],
                    )
                    .map_err(|e| {
                        if is_unique_violation(&e) {
                            StoreError::Exists(format!("tenant {}", record.id))
                        } else {
                            e.into()
                        }
                    })?;
                Ok(())
            })
            .await
    }

    async fn replace_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        self.store
            .with_connection(move |connection| {
                let changed = connection.execute(
                    "UPDATE tenants SET display_name = ?2, domains = ?3, tags = ?4, \
                     credential = ?5, sealed_secret = ?6, verification = ?7 WHERE id = ?1",
                    params![
                        record.id,
                        record.display_name,
                        to_json(&record.domains),
                        to_json(&record.tags),
                        record.credential,
                        record.sealed_secret,
                        record.verification,
                    ],
                )?;
                Ok(changed == 1)
            })
            .await
    }

    async fn delete_tenant(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.store
            .with_connection(move |connection| {
                Ok(connection.execute("DELETE FROM tenants WHERE id = ?1", [id])? == 1)
            })
            .await
    }

    async fn set_verification(&self, id: &str, verification: String) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.store
            .with_connection(move |connection| {
                connection.execute(
                    "UPDATE tenants SET verification = ?2 WHERE id = ?1",
                    params![id, verification],
                )?;
                Ok(())
            })
            .await
    }

    async fn grants(&self) -> Result<Vec<GrantRecord>, StoreError> {
        self.store
            .with_connection(|connection| {
                let mut statement = connection.prepare(
                    "SELECT id, principal, tenants, role, created_at, created_by \
                     FROM access_grants ORDER BY created_at, id",
                )?;
                let rows = statement.query_map([], |row| {
                    Ok(GrantRecord {
                        id: row.get(0)?,
                        principal: row.get(1)?,
                        tenants: list_column(row, 2)?,
                        role: row.get(3)?,
                        created_at: row.get(4)?,
                        created_by: row.get(5)?,
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn insert_grant(&self, record: GrantRecord) -> Result<(), StoreError> {
        self.store
            .with_connection(move |connection| {
                connection.execute(
                    "INSERT INTO access_grants (id, principal, tenants, role, created_at, \
                     created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        record.id,
                        record.principal,
                        to_json(&record.tenants),
                        record.role,
                        record.created_at,
                        record.created_by,
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn delete_grant(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.store
            .with_connection(move |connection| {
                Ok(connection.execute("DELETE FROM access_grants WHERE id = ?1", [id])? == 1)
            })
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}
