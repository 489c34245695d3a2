//! The store's contract tests: each test is written once against a [`Harness`] and run on
//! SQLite (a temporary file) and on PostgreSQL (a fresh database of `SSPR_TEST_DATABASE_URL`'s
//! server; skipped without it, failed on CI).

mod audit;
mod replicas;
mod tenancy;

use serde_json::json;
use time::OffsetDateTime;

use super::Store;
use super::audit::{Actor, AuditFilter, MAX_PAGE, NewAuditRecord, Outcome};
use super::testing::TestDatabase;
use crate::capabilities::audit_log::parse_record_time;

/// Runs each named `async fn(&Harness)` of the calling module once per back end, as
/// `<module>::sqlite::<name>` and `<module>::postgres::<name>`.
macro_rules! contract_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(&$crate::store::contract::Harness::sqlite()).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(harness) = $crate::store::contract::Harness::postgres().await {
                        super::$name(&harness).await
                    }
                }
            )+
        }
    };
}
pub(super) use contract_tests;

/// Where a contract test's store lives; [`Harness::open`] opens it as a new process would.
pub(super) enum Harness {
    Sqlite(tempfile::TempDir),
    Postgres(Box<TestDatabase>),
}

impl Harness {
    pub(super) fn sqlite() -> Harness {
        Harness::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    /// `None` (the test is skipped) without a PostgreSQL server to test on.
    pub(super) async fn postgres() -> Option<Harness> {
        TestDatabase::create()
            .await
            .map(|database| Harness::Postgres(Box::new(database)))
    }

    /// The store, opened by a new process (SQLite) or replica (PostgreSQL).
    pub(super) async fn open(&self) -> Store {
        match self {
            Harness::Sqlite(dir) => Store::open(dir.path().join("sspr.db"))
                .await
                .expect("opens"),
            Harness::Postgres(database) => {
                Store::connect(&database.config()).await.expect("connects")
            }
        }
    }

    /// The store as the next process sees it once the one that opened `gone` died: with one
    /// file per process every attempt still open is abandoned; a replica is taken for dead
    /// once it has not been seen for longer than the bound (made so here, without waiting).
    pub(super) async fn reopen_after_crash(&self, gone: Store) -> Store {
        if let Store::Postgres(pg) = &gone {
            replicas::unseen_for(pg, pg.replica_id(), replicas::PAST_THE_BOUND).await;
        }
        drop(gone);
        self.open().await
    }
}

pub(super) const CONTOSO: &str = "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17";
pub(super) const FABRIKAM: &str = "8c2d4e6f-1a3b-4c5d-9e7f-0a1b2c3d4e5f";

/// The instant a record's time names.
pub(super) fn instant(text: &str) -> OffsetDateTime {
    parse_record_time(text).unwrap_or_else(|| panic!("'{text}' is not RFC 3339"))
}

pub(super) fn record(tenant: &str, upn: &str, outcome: Outcome) -> NewAuditRecord {
    NewAuditRecord {
        request_id: Some(uuid::Uuid::new_v4().to_string()),
        actor: Actor {
            oid: Some(format!("oid-{upn}")),
            upn: Some(upn.to_owned()),
            app_id: Some("cli-app".to_owned()),
            roles: vec!["SSPR.ReadWrite".to_owned()],
        },
        tenant_id: tenant.to_owned(),
        operation: "policy.patch".to_owned(),
        before: Some(json!({"registration": {"reconfirmationInDays": 180}})),
        after: Some(json!({"registration": {"reconfirmationInDays": 90}})),
        diff: Some(json!([{"path": "/registration/reconfirmationInDays", "from": 180, "to": 90}])),
        outcome,
        error: (outcome != Outcome::Succeeded).then(|| "portal PUT failed".to_owned()),
        compensation: (outcome == Outcome::RolledBack)
            .then(|| json!([{"undo": "PATCH authenticationMethodsPolicy"}])),
    }
}

/// An attempt as recorded before the first upstream call: no error yet.
pub(super) fn attempt(tenant: &str, upn: &str) -> NewAuditRecord {
    NewAuditRecord {
        error: None,
        ..record(tenant, upn, Outcome::Attempted)
    }
}

pub(super) fn all() -> AuditFilter {
    AuditFilter {
        limit: MAX_PAGE,
        ..AuditFilter::default()
    }
}
