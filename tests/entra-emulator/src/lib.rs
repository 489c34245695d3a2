//! A wire-compatible emulator of the Entra ID token endpoint (client credentials, discovery, JWKS)
//! and the Microsoft Graph v1.0 resources our SSPR service reads, served over real HTTPS with a
//! generated CA so clients verify TLS exactly as in production.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use entra_emulator::{Emulator, EmulatorConfig, seed};
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! let token_url = format!("{}{}/oauth2/v2.0/token", emulator.authority_host(), seed::CONTOSO_ID);
//! emulator.with_tenant(seed::CONTOSO_ID, |t| {
//!     t.authorization_policy["allowedToUseSSPR"] = serde_json::json!(true);
//! });
//! emulator.shutdown().await;
//! # let _ = token_url; Ok(()) }
//! ```

mod calls;
mod graph;
mod keys;
pub mod seed;
mod state;
mod tls;
mod token;

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, RwLock},
    time::Duration,
};

use anyhow::Context;
use axum::{
    Router, middleware,
    routing::{any, get, post},
};
use base64::Engine;
use tokio::task::JoinHandle;
use url::Url;

pub use calls::{CallKind, CallRecord};
pub use state::{AppRegistration, Directory, Group, ServicePrincipal, Tenant, User};
pub use token::TokenSpec;

use keys::{KeyStore, SigningKey};

/// How long `shutdown` lets in-flight requests finish before closing connections.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Default `127.0.0.1:0` (a free port).
    pub bind: SocketAddr,
    /// Where to write the CA certificate PEM. `None`: a uniquely named file in the temp dir,
    /// removed again when the emulator is dropped.
    pub ca_file: Option<PathBuf>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            ca_file: None,
        }
    }
}

/// State shared by the HTTP handlers and the [`Emulator`] handle.
pub(crate) struct Shared {
    /// `https://127.0.0.1:PORT/`
    base_url: Url,
    directory: Mutex<Directory>,
    keys: RwLock<KeyStore>,
    calls: Mutex<Vec<calls::CallRecord>>,
}

impl Shared {
    fn issuer(&self, tenant_id: &str) -> String {
        format!("{}{tenant_id}/v2.0", self.base_url)
    }

    fn graph_base(&self) -> String {
        format!("{}v1.0/", self.base_url)
    }

    /// The directory lock. A panic in a test's `with_tenant` closure must not wedge the
    /// emulator for everyone else, hence the poison recovery.
    fn directory(&self) -> MutexGuard<'_, Directory> {
        self.directory.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn calls(&self) -> MutexGuard<'_, Vec<CallRecord>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Inner {
    shared: Arc<Shared>,
    ca_pem: String,
    ca_file: PathBuf,
    /// Delete `ca_file` on drop (only when we picked the temp path ourselves).
    owns_ca_file: bool,
    graph_app_secret: String,
    cli_app_secret: String,
    handle: axum_server::Handle<SocketAddr>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: stop serving (a no-op after `shutdown`).
        self.handle.shutdown();
        if self.owns_ca_file {
            let _ = std::fs::remove_file(&self.ca_file);
        }
    }
}

/// A running emulator. Cheap to clone; the server stops when [`Emulator::shutdown`] is called
/// or the last clone is dropped.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.inner.shared.base_url.as_str())
            .field("ca_file", &self.inner.ca_file)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Generate TLS material and a signing key, write the CA PEM, bind, and serve HTTPS in a
    /// spawned task. Returns once the listener accepts connections.
    pub async fn start(config: EmulatorConfig) -> anyhow::Result<Emulator> {
        // Key generation is CPU-bound (RSA especially); keep it off the async workers.
        let tls = tokio::task::spawn_blocking(tls::generate)
            .await
            .context("TLS generation task")??;
        let signing_key = tokio::task::spawn_blocking(SigningKey::generate)
            .await
            .context("key generation task")??;

        let listener = std::net::TcpListener::bind(config.bind)
            .with_context(|| format!("binding {}", config.bind))?;
        listener
            .set_nonblocking(true)
            .context("setting listener non-blocking")?;
        let local = listener.local_addr().context("reading bound address")?;
        let base_url = base_url_for(local)?;

        let (ca_file, owns_ca_file) = match config.ca_file {
            Some(path) => (path, false),
            None => (
                std::env::temp_dir()
                    .join(format!("entra-emulator-ca-{}.pem", uuid::Uuid::new_v4())),
                true,
            ),
        };
        tokio::fs::write(&ca_file, tls.ca_pem.as_bytes())
            .await
            .with_context(|| format!("writing CA certificate to {}", ca_file.display()))?;

        let graph_app_secret = client_secret();
        let cli_app_secret = client_secret();
        let shared = Arc::new(Shared {
            base_url,
            directory: Mutex::new(seed::directory(
                graph_app_secret.clone(),
                cli_app_secret.clone(),
            )),
            keys: RwLock::new(KeyStore::new(signing_key)),
            calls: Mutex::new(Vec::new()),
        });

        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp_rustls(listener, tls.server_config)
            .context("creating HTTPS server")?
            .handle(handle.clone());
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = server.serve(app.into_make_service()).await {
                tracing::error!(error = %e, "entra-emulator server stopped with an error");
            }
        });
        handle
            .listening()
            .await
            .context("the HTTPS server failed to start listening")?;
        tracing::info!(base_url = %shared.base_url, "entra-emulator listening");

        Ok(Emulator {
            inner: Arc::new(Inner {
                shared,
                ca_pem: tls.ca_pem,
                ca_file,
                owns_ca_file,
                graph_app_secret,
                cli_app_secret,
                handle,
                server: Mutex::new(Some(task)),
            }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// `https://127.0.0.1:PORT/` (with trailing slash).
    pub fn base_url(&self) -> Url {
        self.shared().base_url.clone()
    }

    pub fn ca_file(&self) -> &Path {
        &self.inner.ca_file
    }

    pub fn ca_pem(&self) -> String {
        self.inner.ca_pem.clone()
    }

    /// Same as [`Emulator::base_url`]: the token endpoint is `{authority}{tenant}/oauth2/v2.0/token`.
    pub fn authority_host(&self) -> Url {
        self.base_url()
    }

    /// `{base}v1.0/`: Graph paths go below it, e.g. `{base}v1.0/organization`.
    pub fn graph_base_url(&self) -> Url {
        // The base is `https://host:port/`, so joining a relative path cannot fail.
        self.base_url()
            .join("v1.0/")
            .unwrap_or_else(|_| self.base_url())
    }

    /// `{base}{tenant_id}/v2.0`, no trailing slash (Entra's v2 issuer format).
    pub fn issuer(&self, tenant_id: &str) -> String {
        self.shared().issuer(tenant_id)
    }

    /// `{base}{tenant_id}/v2.0/.well-known/openid-configuration`
    pub fn discovery_url(&self, tenant_id: &str) -> Url {
        let base = self.base_url();
        base.join(&format!(
            "{tenant_id}/v2.0/.well-known/openid-configuration"
        ))
        .unwrap_or(base)
    }

    /// Client secret of [`seed::GRAPH_APP_CLIENT_ID`] (random per start).
    pub fn graph_app_secret(&self) -> String {
        self.inner.graph_app_secret.clone()
    }

    /// Client secret of [`seed::CLI_APP_CLIENT_ID`] (random per start).
    pub fn cli_app_secret(&self) -> String {
        self.inner.cli_app_secret.clone()
    }

    /// An RS256 JWT signed with the current key (`kid` set), claims from `spec`.
    ///
    /// # Panics
    /// Only if signing with the emulator's own RSA key fails, which would be a bug.
    pub fn mint_token(&self, spec: &TokenSpec) -> String {
        let claims = token::spec_claims(self.shared(), spec);
        token::sign(self.shared(), &claims)
            .unwrap_or_else(|e| panic!("entra-emulator could not sign a token: {e}"))
    }

    /// SubjectPublicKeyInfo PEM of the current signing key.
    pub fn signing_public_key_pem(&self) -> String {
        self.read_keys().current().public_pem.clone()
    }

    /// `kid` of the current signing key.
    pub fn current_kid(&self) -> String {
        self.read_keys().current().kid.clone()
    }

    /// Generate a new RSA key and make it current. The JWKS keeps serving the old keys too, so
    /// tokens signed earlier stay valid.
    ///
    /// # Panics
    /// If RSA key generation fails (an environment problem, not an input problem).
    pub fn rotate_signing_key(&self) {
        let key = SigningKey::generate()
            .unwrap_or_else(|e| panic!("entra-emulator could not generate a signing key: {e:#}"));
        self.shared()
            .keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(key);
    }

    /// Run `f` on the tenant with this id or initial domain (case-insensitive); `None` if there is
    /// no such tenant. Changes are visible to the next request.
    pub fn with_tenant<R>(&self, tenant: &str, f: impl FnOnce(&mut Tenant) -> R) -> Option<R> {
        let mut directory = self.shared().directory();
        directory.tenant_mut(tenant).map(f)
    }

    /// Run `f` on the whole directory (tenants and app registrations).
    pub fn with_directory<R>(&self, f: impl FnOnce(&mut Directory) -> R) -> R {
        f(&mut self.shared().directory())
    }

    /// Every request served so far, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared().calls().clone()
    }

    /// Forget the call log (e.g. after a test's setup phase).
    pub fn clear_calls(&self) {
        self.shared().calls().clear();
    }

    /// Token endpoint requests (successful or not) for this tenant (id or domain).
    pub fn token_requests(&self, tenant_id: &str) -> usize {
        self.count(CallKind::Token, tenant_id)
    }

    /// Graph requests whose token named this tenant (counted even when rejected).
    /// `""` counts requests without a readable token.
    pub fn graph_requests(&self, tenant_id: &str) -> usize {
        self.count(CallKind::Graph, tenant_id)
    }

    pub fn graph_requests_total(&self) -> usize {
        self.shared()
            .calls()
            .iter()
            .filter(|c| c.kind == CallKind::Graph)
            .count()
    }

    fn count(&self, kind: CallKind, tenant: &str) -> usize {
        // Accept a domain as well as an id; unknown strings are compared verbatim.
        let tid = self
            .shared()
            .directory()
            .tenant(tenant)
            .map(|t| t.id.clone())
            .unwrap_or_else(|| tenant.to_string());
        self.shared()
            .calls()
            .iter()
            .filter(|c| {
                c.kind == kind
                    && c.tenant_id
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case(&tid))
            })
            .count()
    }

    /// Stop listening (in-flight requests get a short grace period). Later connections are
    /// refused.
    pub async fn shutdown(self) {
        self.inner.handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        let task = self
            .inner
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            // The server task returns (dropping the listener) once connections are closed.
            if tokio::time::timeout(SHUTDOWN_GRACE * 4, task)
                .await
                .is_err()
            {
                self.inner.handle.shutdown();
            }
        }
    }

    fn read_keys(&self) -> std::sync::RwLockReadGuard<'_, KeyStore> {
        self.shared().keys.read().unwrap_or_else(|e| e.into_inner())
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token::token_endpoint))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(token::discovery),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(token::jwks))
        .route("/v1.0/{*rest}", any(graph::dispatch))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            calls::record,
        ))
        .with_state(shared)
}

/// The URL clients should use: an unspecified bind address (`0.0.0.0`, `::`) is reached via
/// loopback, which the certificate covers.
fn base_url_for(addr: SocketAddr) -> anyhow::Result<Url> {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let url = match ip {
        IpAddr::V4(ip) => format!("https://{ip}:{}/", addr.port()),
        IpAddr::V6(ip) => format!("https://[{ip}]:{}/", addr.port()),
    };
    Url::parse(&url).with_context(|| format!("building base URL {url}"))
}

/// A secret shaped like Entra's (`xyz8Q~` + 34 characters), from 256 random bits.
fn client_secret() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!("{}8Q~{}", &encoded[..3], &encoded[3..37])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_bind_addresses_map_to_loopback() {
        let url = base_url_for("0.0.0.0:8443".parse().unwrap()).unwrap();
        assert_eq!(url.as_str(), "https://127.0.0.1:8443/");
        let url = base_url_for("[::]:8443".parse().unwrap()).unwrap();
        assert_eq!(url.as_str(), "https://[::1]:8443/");
    }

    #[test]
    fn client_secrets_look_like_entra_secrets_and_differ() {
        let a = client_secret();
        assert_eq!(a.len(), 40);
        assert_eq!(&a[3..6], "8Q~");
        assert_ne!(a, client_secret());
    }
}
