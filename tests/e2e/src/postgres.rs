//! A fresh database per test on the PostgreSQL server `SSPR_TEST_DATABASE_URL` names (CI's
//! `.ci/postgres` starts one), for the tests of replicas sharing a store.

/// The URL of a new, empty database on the test server; `None` (saying so) when no server is
/// configured, which CI never accepts.
pub async fn fresh_database_url() -> Option<String> {
    let Ok(admin_url) = std::env::var("SSPR_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL tests: set SSPR_TEST_DATABASE_URL (bash .ci/postgres starts a server)"
        );
        println!(
            "SKIPPED: PostgreSQL tests need SSPR_TEST_DATABASE_URL (bash .ci/postgres starts a server)"
        );
        return None;
    };
    let name = format!("sspr_e2e_{}", uuid_like());
    let (client, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
        .await
        .expect("the test server answers");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a test database");
    let mut url = url::Url::parse(&admin_url).expect("SSPR_TEST_DATABASE_URL is a URL");
    url.set_path(&name);
    Some(url.to_string())
}

/// A name no other test of this run takes.
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
