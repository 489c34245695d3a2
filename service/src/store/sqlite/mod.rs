//! The embedded store: one SQLite file in WAL mode with durable commits (`synchronous=FULL`).
//!
//! SQLite calls block, so every call runs on tokio's blocking pool, on the one connection
//! behind a mutex (one writer; the audit trail's load is small). The schema is created and
//! migrated when the file is opened, its version kept in `PRAGMA user_version`; then audit
//! attempts an earlier process left open are completed as `unknown` (see [`audit`]).

pub mod audit;
pub mod tenancy;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;

pub use audit::SqliteAuditLog;

use super::StoreError;

/// Schema migrations in order; after migration `i` has run, `user_version` is `i + 1`.
const MIGRATIONS: &[&str] = &[audit::SCHEMA_V1, audit::SCHEMA_V2, tenancy::SCHEMA_V3];

/// How long a statement waits for a lock held by another connection to the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store. Cloning is cheap: clones share the connection.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating when absent) the SQLite file at `path`, sets WAL and `synchronous=FULL`,
    /// and migrates the schema to this build's version.
    pub async fn open(path: impl Into<PathBuf>) -> Result<SqliteStore, StoreError> {
        let path = path.into();
        tokio::task::spawn_blocking(move || SqliteStore::open_blocking(path))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    fn open_blocking(path: PathBuf) -> Result<SqliteStore, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let mut connection = Connection::open(&path).map_err(open_error)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        let mode: String = connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal { path, mode });
        }
        // FULL: a commit is on disk (WAL fsynced) before `append` returns.
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(open_error)?;
        // So that a REPLACE conflict resolution, which deletes rows, fires the delete guards.
        connection
            .pragma_update(None, "recursive_triggers", "ON")
            .map_err(open_error)?;
        migrate(&mut connection, &path)?;
        // One service process per store file: whatever is still open was left by a process
        // that is gone (see `audit::close_abandoned` for what changes with a shared database).
        let abandoned = audit::close_abandoned(&mut connection)?;
        if abandoned > 0 {
            tracing::warn!(
                store = %path.display(),
                abandoned,
                "audit attempts left open by an earlier process are recorded as outcome unknown"
            );
        }
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
            path: Arc::new(path),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The append-only audit trail, as the capability the use cases hold.
    pub fn audit(&self) -> Arc<dyn crate::store::audit::AuditLog> {
        Arc::new(SqliteAuditLog::new(self.clone()))
    }

    /// The tenants and access grants made through the API, as the capability the use cases hold.
    pub fn tenants(&self) -> Arc<dyn crate::capabilities::tenant_store::TenantStore> {
        Arc::new(tenancy::SqliteTenantStore::new(self.clone()))
    }

    /// A round trip through the connection.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.with_connection(|connection| {
            connection.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    /// Runs `work` on the blocking pool with the connection.
    pub(super) async fn with_connection<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves no half-done work behind: an open
            // transaction rolls back when dropped, so the connection is still usable.
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut connection)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// Brings the schema from its `user_version` to the newest, each migration in a transaction.
fn migrate(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let known = i64::try_from(MIGRATIONS.len()).expect("few migrations");
    let found: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > known {
        return Err(StoreError::TooNew {
            store: path.display().to_string(),
            found,
            known,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", index as i64 + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_in_wal_with_full_sync_and_the_current_schema_version() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sspr.db");
        let store = SqliteStore::open(&path).await.expect("opens");
        let (mode, sync, version) = store
            .with_connection(|c| {
                Ok((
                    c.pragma_query_value(None, "journal_mode", |r| r.get::<_, String>(0))?,
                    c.pragma_query_value(None, "synchronous", |r| r.get::<_, i64>(0))?,
                    c.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))?,
                ))
            })
            .await
            .expect("pragmas");
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
        assert_eq!(version, MIGRATIONS.len() as i64);
        drop(store);
        // Opening again migrates nothing and keeps the version.
        SqliteStore::open(&path).await.expect("reopens");
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused_with_both_versions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sspr.db");
        Connection::open(&path)
            .and_then(|c| c.pragma_update(None, "user_version", 99))
            .expect("raw sqlite");
        let error = SqliteStore::open(&path).await.expect_err("too new");
        assert!(
            matches!(error, StoreError::TooNew { found: 99, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("99"), "{error}");
    }

    #[tokio::test]
    async fn an_unopenable_path_names_the_file() {
        let error = SqliteStore::open("/nonexistent-dir/sspr.db")
            .await
            .expect_err("no such directory");
        assert!(
            error.to_string().contains("/nonexistent-dir/sspr.db"),
            "{error}"
        );
    }
}
