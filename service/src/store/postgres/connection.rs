//! From `[store] url`, `password` and `ca_file` to what connects: the driver's settings, the TLS
//! connector for the URL's `sslmode`, and the name of the database for messages (host and
//! database, never the password).
//!
//! `sslmode` is read here rather than by the driver, which knows only `disable`, `prefer` and
//! `require`. The modes mean what they mean to libpq, so a URL behaves as it does with `psql`:
//!
//! - `disable`: no TLS.
//! - `prefer` (the default): TLS when the server offers it, else plain.
//! - `require`: TLS or no connection.
//! - `verify-full`: TLS, with the server's certificate verified against the system's roots and
//!   `ca_file`, and its name against the host.
//!
//! Like libpq, `prefer` and `require` verify the certificate only when a root is given
//! (`ca_file`); without one they encrypt but do not authenticate the server. `verify-full` is
//! the mode for a database reached over a network one does not control.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use secrecy::ExposeSecret;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::StoreConfig;
use crate::store::StoreError;

/// How long connecting to the database may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What `sslmode` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

impl TlsMode {
    fn parse(text: &str) -> Result<TlsMode, StoreError> {
        match text {
            "disable" => Ok(TlsMode::Disable),
            "prefer" => Ok(TlsMode::Prefer),
            "require" => Ok(TlsMode::Require),
            "verify-full" => Ok(TlsMode::VerifyFull),
            other => Err(StoreError::Config(format!(
                "store.url: sslmode '{other}' is not one of disable, prefer, require, verify-full"
            ))),
        }
    }
}

/// The settings a pool (or one connection) is made from.
#[derive(Clone)]
pub(crate) struct ConnectionSettings {
    pub(crate) driver: tokio_postgres::Config,
    /// `None` for `sslmode=disable`.
    pub(crate) tls: Option<MakeRustlsConnect>,
    /// `host:port/database`, for messages.
    pub(crate) target: String,
}

impl ConnectionSettings {
    /// Reads `[store] url`, `password` and `ca_file`. An error names the field and never holds
    /// the URL, which may carry a password.
    pub(crate) fn from_config(config: &StoreConfig) -> Result<ConnectionSettings, StoreError> {
        let url = config
            .url
            .as_ref()
            .ok_or_else(|| StoreError::Config("store.url is not set".into()))?;
        let mut url = url::Url::parse(url.expose_secret())
            .map_err(|e| StoreError::Config(format!("store.url is not a postgres:// URL: {e}")))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(StoreError::Config(format!(
                "store.url: the scheme is '{}', not postgres",
                url.scheme()
            )));
        }
        let mut mode = TlsMode::Prefer;
        let mut kept = Vec::new();
        for (key, value) in url.query_pairs() {
            if key == "sslmode" {
                mode = TlsMode::parse(&value)?;
            } else {
                kept.push((key.into_owned(), value.into_owned()));
            }
        }
        url.query_pairs_mut().clear().extend_pairs(&kept);
        if kept.is_empty() {
            url.set_query(None);
        }
        let mut driver: tokio_postgres::Config = url.as_str().parse().map_err(
            // The driver's parse errors name the option, never its value.
            |e: tokio_postgres::Error| StoreError::Config(format!("store.url: {}", chain(&e))),
        )?;
        if let Some(password) = &config.password {
            driver.password(password.expose_secret());
        }
        if driver.get_connect_timeout().is_none() {
            driver.connect_timeout(CONNECT_TIMEOUT);
        }
        if driver.get_application_name().is_none() {
            driver.application_name("sspr-service");
        }
        driver.ssl_mode(match mode {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyFull => SslMode::Require,
        });
        let tls = match mode {
            TlsMode::Disable => None,
            _ => Some(MakeRustlsConnect::new(client_config(
                mode,
                config.ca_file.as_deref(),
            )?)),
        };
        Ok(ConnectionSettings {
            target: target(&driver),
            driver,
            tls,
        })
    }

    /// One connection outside any pool, its I/O driven by a task of its own.
    pub(crate) async fn connect(&self) -> Result<tokio_postgres::Client, StoreError> {
        let unreachable = |e: tokio_postgres::Error| StoreError::Unreachable {
            store: self.target.clone(),
            reason: chain(&e),
        };
        match &self.tls {
            None => {
                let (client, connection) = self
                    .driver
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(unreachable)?;
                tokio::spawn(connection);
                Ok(client)
            }
            Some(tls) => {
                let (client, connection) = self
                    .driver
                    .connect(tls.clone())
                    .await
                    .map_err(unreachable)?;
                tokio::spawn(connection);
                Ok(client)
            }
        }
    }
}

/// `host:port/database` of the driver's settings.
fn target(driver: &tokio_postgres::Config) -> String {
    let host = match driver.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = driver.get_ports().first().copied().unwrap_or(5432);
    let database = driver
        .get_dbname()
        .or(driver.get_user())
        .unwrap_or("postgres");
    format!("{host}:{port}/{database}")
}

/// A driver error with its causes: the driver's own text says only "db error" or "error
/// connecting to server", the reason is in its source.
pub(crate) fn chain(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return db.message().to_owned();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn client_config(
    mode: TlsMode,
    ca_file: Option<&std::path::Path>,
) -> Result<rustls::ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Config(format!("store TLS: {e}")))?;
    let verifies = mode == TlsMode::VerifyFull || ca_file.is_some();
    let config = if verifies {
        builder.with_root_certificates(roots(ca_file)?)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
    };
    Ok(config.with_no_client_auth())
}

/// The system's roots and those of `ca_file`.
fn roots(ca_file: Option<&std::path::Path>) -> Result<RootCertStore, StoreError> {
    let mut roots = RootCertStore::empty();
    // A system without a root store still connects to a database whose root is `ca_file`.
    let system = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(system.certs);
    if let Some(path) = ca_file {
        let unreadable = |e: &dyn std::fmt::Display| {
            StoreError::Config(format!("store.ca_file {}: {e}", path.display()))
        };
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|e| unreadable(&e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unreadable(&e))?;
        if certificates.is_empty() {
            return Err(unreadable(&"holds no PEM certificate"));
        }
        for certificate in certificates {
            roots.add(certificate).map_err(|e| unreadable(&e))?;
        }
    }
    if roots.is_empty() {
        return Err(StoreError::Config(
            "sslmode=verify-full needs a root: the system has none, so set store.ca_file".into(),
        ));
    }
    Ok(roots)
}

/// `sslmode=prefer`/`require` without `ca_file`, as libpq does: the session is encrypted and
/// the handshake's signatures are checked, but the certificate is not verified.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn config(url: &str) -> StoreConfig {
        StoreConfig {
            url: Some(SecretString::from(url)),
            ..StoreConfig::default()
        }
    }

    fn settings(url: &str) -> Result<ConnectionSettings, StoreError> {
        ConnectionSettings::from_config(&config(url))
    }

    #[test]
    fn sslmode_chooses_the_connector_and_the_driver_mode() {
        let plain = settings("postgres://sspr@db.internal:6432/audit?sslmode=disable").unwrap();
        assert!(plain.tls.is_none());
        assert_eq!(plain.driver.get_ssl_mode(), SslMode::Disable);
        assert_eq!(plain.target, "db.internal:6432/audit");
        let default = settings("postgres://sspr@db.internal/audit").unwrap();
        assert!(default.tls.is_some());
        assert_eq!(default.driver.get_ssl_mode(), SslMode::Prefer);
        assert_eq!(default.target, "db.internal:5432/audit");
        for mode in ["require", "verify-full"] {
            let tls = settings(&format!(
                "postgres://sspr@db.internal/audit?sslmode={mode}&connect_timeout=3"
            ))
            .unwrap();
            assert!(tls.tls.is_some(), "{mode}");
            assert_eq!(tls.driver.get_ssl_mode(), SslMode::Require, "{mode}");
            assert_eq!(
                tls.driver.get_connect_timeout(),
                Some(&Duration::from_secs(3)),
                "the other options stay"
            );
        }
    }

    #[test]
    fn bad_settings_name_the_field_and_never_the_password() {
        for (url, field) in [
            (
                "postgres://sspr:hunter2@db/audit?sslmode=allow",
                "sslmode 'allow'",
            ),
            ("mysql://sspr:hunter2@db/audit", "scheme is 'mysql'"),
            ("postgres://sspr:hunter2@db/audit?colour=blue", "store.url"),
            ("not a url hunter2", "store.url"),
        ] {
            let error = settings(url).err().expect(url).to_string();
            assert!(error.contains(field), "{url}: {error}");
            assert!(!error.contains("hunter2"), "{url}: {error}");
        }
        let missing = StoreConfig {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..config("postgres://sspr@db/audit?sslmode=verify-full")
        };
        let error = ConnectionSettings::from_config(&missing)
            .err()
            .expect("no such file")
            .to_string();
        assert!(
            error.contains("store.ca_file /nonexistent/ca.pem"),
            "{error}"
        );
    }

    /// Whether the session of `settings`' one connection is encrypted.
    async fn encrypted(settings: &ConnectionSettings) -> Result<bool, StoreError> {
        let client = settings.connect().await?;
        let row = client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    #[tokio::test]
    async fn each_sslmode_connects_as_libpq_does() {
        let Some(database) = crate::store::testing::TestDatabase::create().await else {
            return;
        };
        let Some(ca) = database.server_ca().await else {
            return;
        };
        let with = |mode: &str, ca_file: Option<&std::path::Path>| {
            ConnectionSettings::from_config(&StoreConfig {
                ca_file: ca_file.map(Into::into),
                ..config(&database.url_with_sslmode(mode))
            })
            .expect(mode)
        };
        assert!(!encrypted(&with("disable", None)).await.expect("disable"));
        assert!(encrypted(&with("prefer", None)).await.expect("prefer"));
        // Encrypted, the certificate unverified: nothing but ca_file could vouch for it.
        assert!(encrypted(&with("require", None)).await.expect("require"));
        assert!(
            encrypted(&with("verify-full", Some(&ca)))
                .await
                .expect("verified against ca_file")
        );
        assert!(
            encrypted(&with("require", Some(&ca)))
                .await
                .expect("require with a root verifies too")
        );
        // The system's roots do not know the test server's CA.
        let error = encrypted(&with("verify-full", None))
            .await
            .expect_err("an unknown issuer");
        let text = error.to_string();
        assert!(
            matches!(error, StoreError::Unreachable { .. }) && text.contains("certificate"),
            "{text}"
        );
    }

    #[test]
    fn the_password_setting_overrides_the_urls() {
        let with_password = StoreConfig {
            password: Some(SecretString::from("from-the-secret")),
            ..config("postgres://sspr:from-the-url@db/audit")
        };
        let settings = ConnectionSettings::from_config(&with_password).unwrap();
        assert_eq!(
            settings.driver.get_password(),
            Some(&b"from-the-secret"[..])
        );
        let printed = format!("{with_password:?}");
        assert!(
            !printed.contains("from-the-secret") && !printed.contains("from-the-url"),
            "{printed}"
        );
    }
}
