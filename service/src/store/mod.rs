//! The store: the audit trail, the tenants onboarded through the API and the access grants, on
//! one of two back ends with the same capabilities ([`Store::audit`], [`Store::tenants`]):
//!
//! - [`sqlite`]: one SQLite file (`[store] path`), the embedded default: one service process per
//!   file, no server to run.
//! - [`postgres`]: a PostgreSQL database (`[store] url`), shared by several replicas.
//!
//! Both keep the audit trail append-only in the database itself (triggers), so no client of the
//! database can change or remove a record; [`audit`] holds what the two share.

pub mod audit;
#[cfg(test)]
mod contract;
pub mod postgres;
pub mod sqlite;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::capabilities::tenant_store::TenantStore;
use crate::config::StoreConfig;
pub use audit::AuditLog;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store {path} cannot be opened: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The PostgreSQL store cannot be configured or reached. `store` names the host and the
    /// database, never the password.
    #[error("the store {store} cannot be used: {reason}")]
    Unreachable { store: String, reason: String },
    /// Bad `[store]` settings; `reason` names the field.
    #[error("invalid store configuration: {0}")]
    Config(String),
    #[error(
        "the store {store} has schema version {found}, newer than this build knows ({known}); \
         run a newer sspr-service"
    )]
    TooNew {
        /// The SQLite file or the PostgreSQL host and database.
        store: String,
        found: i64,
        known: i64,
    },
    #[error("the store {path} refused WAL journaling (journal mode is '{mode}')")]
    NoWal { path: PathBuf, mode: String },
    #[error("store query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A PostgreSQL statement failed; the server's message, which holds no parameter values.
    #[error("store query failed: {0}")]
    Postgres(String),
    #[error("store record is not readable: {0}")]
    Corrupt(String),
    #[error("store refused the record: {0}")]
    Invalid(String),
    /// A record with this key is already there.
    #[error("{0} is already in the store")]
    Exists(String),
    /// The shared database did not answer, or refused the statement.
    #[error("the shared store is unavailable: {0}")]
    Unavailable(String),
    #[error("store task failed: {0}")]
    Task(String),
}

/// The service's store, on the back end the configuration chose. Cloning is cheap: clones share
/// the connection (SQLite) or the pool (PostgreSQL).
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// Opens the store `[store]` names: PostgreSQL when `url` is set, else the SQLite file
    /// `path`. Either is migrated to this build's schema.
    pub async fn connect(config: &StoreConfig) -> Result<Store, StoreError> {
        match &config.url {
            Some(_) => Ok(Store::Postgres(PgStore::connect(config).await?)),
            None => Store::open(&config.path).await,
        }
    }

    /// Opens (creating when absent) the SQLite file at `path` (see [`SqliteStore::open`]).
    pub async fn open(path: impl Into<PathBuf>) -> Result<Store, StoreError> {
        Ok(Store::Sqlite(SqliteStore::open(path).await?))
    }

    /// The SQLite file this store lives in; `None` on PostgreSQL.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Store::Sqlite(sqlite) => Some(sqlite.path()),
            Store::Postgres(_) => None,
        }
    }

    /// Where the store is, for people: the SQLite file, or the PostgreSQL host and database.
    pub fn location(&self) -> String {
        match self {
            Store::Sqlite(sqlite) => sqlite.path().display().to_string(),
            Store::Postgres(pg) => pg.target().to_owned(),
        }
    }

    /// The PostgreSQL store, for what only a shared database can do (coordination of replicas).
    pub fn postgres(&self) -> Option<&PgStore> {
        match self {
            Store::Sqlite(_) => None,
            Store::Postgres(pg) => Some(pg),
        }
    }

    /// The append-only audit trail, as the capability the use cases hold.
    pub fn audit(&self) -> Arc<dyn AuditLog> {
        match self {
            Store::Sqlite(sqlite) => sqlite.audit(),
            Store::Postgres(pg) => pg.audit(),
        }
    }

    /// The tenants and access grants made through the API, as the capability the use cases hold.
    pub fn tenants(&self) -> Arc<dyn TenantStore> {
        match self {
            Store::Sqlite(sqlite) => sqlite.tenants(),
            Store::Postgres(pg) => pg.tenants(),
        }
    }

    /// A cheap round trip to the store, for readiness: fails when it cannot answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(sqlite) => sqlite.ping().await,
            Store::Postgres(pg) => pg.ping().await,
        }
    }
}
