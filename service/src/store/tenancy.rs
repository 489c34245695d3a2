//! The tenants onboarded through the API and the access grants made through it.

use rusqlite::params;

use super::{Store, StoreError};
use crate::capabilities::tenant_store::{GrantRecord, TenantRecord, TenantStore};

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
    store: Store,
}

impl SqliteTenantStore {
    pub(super) fn new(store: Store) -> Self {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str) -> TenantRecord {
        TenantRecord {
            id: id.to_owned(),
            display_name: Some("Contoso".to_owned()),
            domains: vec!["contoso.example".to_owned()],
            tags: vec!["region:eu".to_owned()],
            credential: r#"{"kind":"clientSecret","clientId":"6f1c"}"#.to_owned(),
            sealed_secret: Some(vec![1, 2, 3]),
            created_at: "2026-12-07T08:00:00Z".to_owned(),
            created_by: "admin@contoso.example".to_owned(),
            verification: None,
        }
    }

    #[tokio::test]
    async fn tenants_and_grants_survive_a_reopen_and_a_second_insert_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("store.db");
        {
            let store = Store::open(&path).await.expect("open");
            let tenants = store.tenants();
            tenants.insert_tenant(tenant("t1")).await.expect("insert");
            assert!(matches!(
                tenants.insert_tenant(tenant("t1")).await,
                Err(StoreError::Exists(_))
            ));
            tenants
                .insert_grant(GrantRecord {
                    id: "g1".to_owned(),
                    principal: "oid-1".to_owned(),
                    tenants: vec!["tag:region:eu".to_owned()],
                    role: "SSPR.Read".to_owned(),
                    created_at: "2026-12-07T08:00:00Z".to_owned(),
                    created_by: "admin".to_owned(),
                })
                .await
                .expect("grant");
        }
        let store = Store::open(&path).await.expect("reopen");
        let tenants = store.tenants();
        assert_eq!(tenants.tenants().await.expect("list"), [tenant("t1")]);
        assert_eq!(tenants.tenant("t1").await.expect("one"), Some(tenant("t1")));
        assert_eq!(tenants.tenant("t2").await.expect("none"), None);
        let mut changed = tenant("t1");
        changed.tags = vec!["tier:gold".to_owned()];
        changed.sealed_secret = None;
        assert!(
            tenants
                .replace_tenant(changed.clone())
                .await
                .expect("replace")
        );
        tenants
            .set_verification("t1", r#"{"tokenIssued":true}"#.to_owned())
            .await
            .expect("verdict");
        let kept = tenants.tenants().await.expect("list");
        assert_eq!(kept[0].tags, ["tier:gold"]);
        assert_eq!(kept[0].sealed_secret, None);
        assert_eq!(
            kept[0].verification.as_deref(),
            Some(r#"{"tokenIssued":true}"#)
        );
        assert_eq!(
            tenants.grants().await.expect("grants")[0].principal,
            "oid-1"
        );
        assert!(tenants.delete_grant("g1").await.expect("revoke"));
        assert!(!tenants.delete_grant("g1").await.expect("gone"));
        assert!(tenants.delete_tenant("t1").await.expect("offboard"));
        assert!(!tenants.delete_tenant("t1").await.expect("gone"));
        assert!(tenants.tenants().await.expect("list").is_empty());
    }
}
