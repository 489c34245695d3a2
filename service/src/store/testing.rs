//! A fresh PostgreSQL database per test, so that tests run in parallel and never see each
//! other's (append-only) records. The server is `SSPR_TEST_DATABASE_URL`'s (`bash .ci/postgres`
//! starts one and prints the variable); its role needs `CREATEDB`.

use secrecy::SecretString;

use crate::config::StoreConfig;
use crate::store::postgres::connection::ConnectionSettings;

/// The server the PostgreSQL tests use.
pub const DATABASE_URL_VARIABLE: &str = "SSPR_TEST_DATABASE_URL";

/// A database created for one test and dropped when this is dropped (also when the test fails).
pub struct TestDatabase {
    /// The server's URL with the fresh database's name.
    url: url::Url,
    name: String,
    server: ConnectionSettings,
}

impl TestDatabase {
    /// A new, empty database on the test server. Without `SSPR_TEST_DATABASE_URL` the test is
    /// skipped (`None`, after one line saying so), except on CI (`CI` set), where it fails.
    pub async fn create() -> Option<TestDatabase> {
        let Ok(server_url) = std::env::var(DATABASE_URL_VARIABLE) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs the PostgreSQL tests: set {DATABASE_URL_VARIABLE} (bash .ci/postgres \
                 starts a server and prints it)"
            );
            println!(
                "SKIPPED: PostgreSQL tests need {DATABASE_URL_VARIABLE} (bash .ci/postgres starts a server)"
            );
            return None;
        };
        let server = ConnectionSettings::from_config(&StoreConfig {
            url: Some(SecretString::from(server_url.clone())),
            ..StoreConfig::default()
        })
        .unwrap_or_else(|e| panic!("{DATABASE_URL_VARIABLE}: {e}"));
        let name = format!("sspr_test_{}", uuid::Uuid::new_v4().simple());
        server
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{DATABASE_URL_VARIABLE}: {e}"))
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        let mut url = url::Url::parse(&server_url).expect("the driver read it as a URL");
        url.set_path(&name);
        Some(TestDatabase { url, name, server })
    }

    /// `[store]` settings for this database.
    pub fn config(&self) -> StoreConfig {
        StoreConfig {
            url: Some(SecretString::from(self.url.to_string())),
            ..StoreConfig::default()
        }
    }
}

impl TestDatabase {
    /// The test server's URL for this database with `sslmode` set to `mode`.
    pub fn url_with_sslmode(&self, mode: &str) -> String {
        let mut url = self.url.clone();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(key, _)| key != "sslmode")
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("sslmode", mode);
        url.to_string()
    }

    /// The root of the test server's TLS certificate: `ca.crt` beside its certificate, where
    /// `.ci/postgres` puts it. `None` (the test is skipped, after one line saying so) when the
    /// server has no TLS or no such file, except on CI, where it fails.
    pub async fn server_ca(&self) -> Option<std::path::PathBuf> {
        let client = self.server.connect().await.expect("the test server");
        let setting = |name: &'static str| {
            let client = &client;
            async move {
                let row = client
                    .query_one(&format!("SHOW {name}"), &[])
                    .await
                    .expect("a setting");
                row.get::<_, String>(0)
            }
        };
        let ca = std::path::Path::new(&setting("ssl_cert_file").await).with_file_name("ca.crt");
        if setting("ssl").await == "on" && ca.is_file() {
            return Some(ca);
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the TLS tests: the test server needs TLS and its ca.crt (bash .ci/postgres)"
        );
        println!("SKIPPED: TLS tests need the test server of bash .ci/postgres (TLS and ca.crt)");
        None
    }
}

impl TestDatabase {
    /// Drops the database now, from the caller's runtime. A service running on that runtime
    /// keeps being driven meanwhile: the blocking [`Drop`] would stall a connection it is
    /// opening, and PostgreSQL's DROP waits for that half-open session until
    /// `authentication_timeout` (60 s) ends it.
    pub async fn remove(mut self) {
        let name = std::mem::take(&mut self.name);
        let client = self.server.connect().await.expect("the test server");
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .expect("the test database is dropped");
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.name.is_empty() {
            return;
        }
        // Drop cannot await, and the test's runtime may be the one calling: a runtime of its
        // own on a thread of its own. FORCE ends the connections the test's pools still hold.
        let server = self.server.clone();
        let name = std::mem::take(&mut self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let client = server.connect().await?;
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                Ok::<_, crate::store::StoreError>(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("the test database was not dropped: {error}");
        }
    }
}
