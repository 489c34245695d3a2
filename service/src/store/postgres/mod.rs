//! The shared store: a PostgreSQL database that several replicas of the service use at once,
//! through a connection pool (`deadpool-postgres`), TLS by rustls ([`connection`]).
//!
//! The schema is migrated when a replica connects, from [`MIGRATIONS`], the version kept in
//! `schema_migrations`; replicas starting together migrate one at a time (an advisory lock), and
//! a schema newer than this build is refused. Each replica has an id and a heartbeat
//! ([`replicas`]), so that the audit attempts of a replica that died are completed as `unknown`
//! by the others, and only those.
//!
//! **Advisory locks.** The store's own locks are the two-key form in [`LOCK_SPACE`] (see
//! [`Lock`]); PostgreSQL keeps the two-key and the one-key (`bigint`) forms apart, so locks
//! taken elsewhere with one key never meet these.

pub mod audit;
pub(crate) mod connection;
pub mod coordination;
pub mod replicas;
pub mod tenancy;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};

use self::connection::{ConnectionSettings, chain};
use self::replicas::Replica;
use super::StoreError;
use crate::capabilities::tenant_store::TenantStore;
use crate::config::StoreConfig;
use crate::store::audit::AuditLog;

/// Schema migrations in order; after migration `i` has run, the newest `schema_migrations`
/// version is `i + 1`. Each runs in its own transaction. Append only: a released migration is
/// never edited.
pub const MIGRATIONS: &[&str] = &[
    replicas::SCHEMA_V1,
    audit::SCHEMA_V2,
    tenancy::SCHEMA_V3,
    coordination::SCHEMA_V4,
    coordination::SCHEMA_V5,
];

/// The first key of every advisory lock the store takes (`'SSPR'` in ASCII).
pub const LOCK_SPACE: i32 = 0x5353_5052;

/// The second key of the store's advisory locks in [`LOCK_SPACE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Lock {
    /// Held (session) while a replica migrates the schema.
    Migration = 1,
    /// Held (transaction) while an audit attempt takes its id and commits, so that ids are
    /// committed in order: a reader paging below an id never misses a later commit of a
    /// smaller one.
    AuditAppend = 2,
    /// Held (transaction) while abandoned attempts are completed, by one replica at a time.
    CloseAbandoned = 3,
}

/// The most connections one replica opens.
const POOL_SIZE: usize = 16;

/// How long a caller waits for a connection of the pool, or for a new one to open.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// How long [`PgStore::ping`] waits for the database.
const PING_WITHIN: Duration = Duration::from_secs(2);

/// The PostgreSQL store. Cloning is cheap: clones share the pool and the replica's heartbeat,
/// which stops when the last clone is dropped.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// `host:port/database`: what messages name.
    target: Arc<str>,
    replica: Arc<Replica>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .field("replica", &self.replica.id())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `[store] url`, migrates the schema, registers this process as a replica
    /// and completes the attempts of replicas that are gone (see [`replicas`]).
    pub async fn connect(config: &StoreConfig) -> Result<PgStore, StoreError> {
        let settings = ConnectionSettings::from_config(config)?;
        let target: Arc<str> = Arc::from(settings.target.as_str());
        migrate(&settings).await?;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match settings.tls.clone() {
            None => Manager::from_config(
                settings.driver.clone(),
                tokio_postgres::NoTls,
                manager_config,
            ),
            Some(tls) => Manager::from_config(settings.driver.clone(), tls, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|e| StoreError::Unreachable {
                store: target.to_string(),
                reason: e.to_string(),
            })?;
        let replica = Replica::start(pool.clone(), Arc::clone(&target)).await?;
        Ok(PgStore {
            pool,
            target,
            replica: Arc::new(replica),
        })
    }

    /// The connection pool, for what the store's capabilities do not cover (the replicas'
    /// coordination).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// `host:port/database`, as messages name the store.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// This process's replica id: its audit attempts carry it.
    pub fn replica_id(&self) -> &str {
        self.replica.id()
    }

    /// The append-only audit trail, as the capability the use cases hold.
    pub fn audit(&self) -> Arc<dyn AuditLog> {
        Arc::new(audit::PgAuditLog::new(self.clone()))
    }

    /// The tenants and access grants made through the API, as the capability the use cases hold.
    pub fn tenants(&self) -> Arc<dyn TenantStore> {
        Arc::new(tenancy::PgTenantStore::new(self.clone()))
    }

    /// A round trip to the database through the pool, within [`PING_WITHIN`]: a readiness
    /// probe must not wait for the pool's longer timeouts.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let round_trip = async {
            self.client().await?.simple_query("SELECT 1").await?;
            Ok(())
        };
        tokio::time::timeout(PING_WITHIN, round_trip)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unreachable {
                    store: self.target.to_string(),
                    reason: format!("no answer within {} s", PING_WITHIN.as_secs()),
                })
            })
    }

    /// Completes as `unknown` the open attempts of every replica not seen for longer than
    /// [`replicas::ABANDONED_AFTER`]; how many there were. The heartbeat does this every few
    /// seconds; tests call it to see it happen.
    pub async fn close_abandoned(&self) -> Result<u64, StoreError> {
        replicas::close_abandoned(&self.pool, &self.target).await
    }

    /// A connection of the pool; an error names the database.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        pooled(&self.pool, &self.target).await
    }
}

/// A connection of `pool`; an error names `target`.
async fn pooled(pool: &Pool, target: &str) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| StoreError::Unreachable {
        store: target.to_owned(),
        reason: match e {
            deadpool_postgres::PoolError::Backend(e) => chain(&e),
            other => other.to_string(),
        },
    })
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        StoreError::Postgres(chain(&error))
    }
}

/// Brings the schema to the newest version on a connection of its own, under
/// [`Lock::Migration`] so that replicas starting together migrate one after the other; the lock
/// goes with the connection.
async fn migrate(settings: &ConnectionSettings) -> Result<(), StoreError> {
    let mut client = settings.connect().await?;
    client
        .execute(
            "SELECT pg_advisory_lock($1, $2)",
            &[&LOCK_SPACE, &(Lock::Migration as i32)],
        )
        .await?;
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )",
        )
        .await?;
    let known = i64::try_from(MIGRATIONS.len()).expect("few migrations");
    let found: i64 = client
        .query_one(
            "SELECT COALESCE(max(version), 0)::bigint FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    if found > known {
        return Err(StoreError::TooNew {
            store: settings.target.clone(),
            found,
            known,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = i32::try_from(index + 1).expect("few migrations");
        let transaction = client.transaction().await?;
        transaction.batch_execute(sql).await?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await?;
        transaction.commit().await?;
        tracing::info!(store = %settings.target, version, "store schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::TestDatabase;

    #[tokio::test]
    async fn replicas_starting_together_migrate_once_and_a_newer_schema_is_refused() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let config = database.config();
        let (first, second, third) = tokio::join!(
            PgStore::connect(&config),
            PgStore::connect(&config),
            PgStore::connect(&config)
        );
        let first = first.expect("first replica");
        second.expect("second replica");
        third.expect("third replica");
        let versions: Vec<i32> = first
            .client()
            .await
            .expect("client")
            .query(
                "SELECT version FROM schema_migrations ORDER BY version",
                &[],
            )
            .await
            .expect("versions")
            .iter()
            .map(|row| row.get(0))
            .collect();
        let expected: Vec<i32> = (1..=MIGRATIONS.len() as i32).collect();
        assert_eq!(versions, expected, "each migration ran once");

        first
            .client()
            .await
            .expect("client")
            .execute("INSERT INTO schema_migrations (version) VALUES (99)", &[])
            .await
            .expect("a newer build's version");
        let error = PgStore::connect(&config).await.expect_err("too new");
        assert!(
            matches!(error, StoreError::TooNew { found: 99, .. }),
            "{error}"
        );
        assert!(error.to_string().contains(first.target()), "{error}");
    }

    #[tokio::test]
    async fn an_unreachable_database_is_named_without_its_password() {
        // A port nothing listens on: 1 is reserved (tcpmux) and never open here.
        let config = StoreConfig {
            url: Some("postgres://sspr:hunter2@127.0.0.1:1/audit?sslmode=disable".into()),
            ..StoreConfig::default()
        };
        let error = PgStore::connect(&config)
            .await
            .expect_err("nothing listens");
        let text = error.to_string();
        assert!(text.contains("127.0.0.1:1/audit"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
