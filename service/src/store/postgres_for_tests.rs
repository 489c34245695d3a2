//! A fresh PostgreSQL database per test, on the server `SSPR_TEST_DATABASE_URL` names.

use deadpool_postgres::{Pool, Runtime};

/// A new, empty database on the test server; `None` (saying so) when no server is configured,
/// which CI never accepts.
pub(crate) async fn fresh_database() -> Option<Pool> {
    let Ok(url) = std::env::var("SSPR_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL tests: set SSPR_TEST_DATABASE_URL (bash .ci/postgres starts a server)"
        );
        println!(
            "SKIPPED: PostgreSQL tests need SSPR_TEST_DATABASE_URL (bash .ci/postgres starts a server)"
        );
        return None;
    };
    let name = format!("sspr_test_{}", uuid::Uuid::new_v4().simple());
    let admin = pool(url.clone());
    admin
        .get()
        .await
        .expect("the test server answers")
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a test database");
    let mut config: tokio_postgres::Config = url.parse().expect("SSPR_TEST_DATABASE_URL");
    config.dbname(&name);
    Some(
        Pool::builder(deadpool_postgres::Manager::new(
            config,
            tokio_postgres::NoTls,
        ))
        .runtime(Runtime::Tokio1)
        .build()
        .expect("pool"),
    )
}

fn pool(url: String) -> Pool {
    let config = deadpool_postgres::Config {
        url: Some(url),
        ..deadpool_postgres::Config::default()
    };
    config
        .create_pool(Some(Runtime::Tokio1), tokio_postgres::NoTls)
        .expect("pool")
}
