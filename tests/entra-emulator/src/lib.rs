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
mod consent;
mod control;
mod derived;
mod faults;
pub mod generator;
mod graph;
mod k8s;
mod keys;
mod managed_identity;
mod portal;
pub mod seed;
mod state;
mod throttle;
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
pub use control::CONTROL_KEY_HEADER;
pub use faults::{Fault, FaultRule};
pub use generator::GeneratorSpec;
pub use graph::route_list as graph_routes;
pub use state::{AppCertificate, FederatedCredential, IntuneObject, ManagedIdentity};
pub use state::{AppRegistration, Directory, Group, ServicePrincipal, Tenant, User};
pub use throttle::ThrottleConfig;
pub use token::TokenSpec;
pub use token::first_party;

use keys::{KeyStore, SigningKey};

/// How long `shutdown` lets in-flight requests finish before closing connections.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// The recipe of the seeded state. `POST /_emulator/reset` rebuilds from it rather than keeping a
/// copy, so a large tenant is never held twice; `POST /_emulator/seed` changes what it generates.
#[derive(Debug, Clone)]
struct Baseline {
    /// The emulator's own URL: the seeded federated credentials name issuers below it.
    base_url: Url,
    graph_app_secret: String,
    cli_app_secret: String,
    generate: Option<GeneratorSpec>,
}

impl Baseline {
    fn build(&self) -> Directory {
        let mut directory =
            seed::directory(self.graph_app_secret.clone(), self.cli_app_secret.clone());
        let credentials = seed::federated_credentials(
            &k8s::issuer(&self.base_url, seed::DEMO_CLUSTER),
            &v2_issuer(&self.base_url, seed::OPERATOR_ID),
        );
        if let Some(app) = directory
            .apps
            .iter_mut()
            .find(|a| a.client_id == seed::GRAPH_APP_CLIENT_ID)
        {
            app.federated_credentials.extend(credentials);
        }
        if let Some(spec) = &self.generate {
            directory.tenants.extend(generator::generate(spec));
        }
        directory
    }
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Default `127.0.0.1:0` (a free port).
    pub bind: SocketAddr,
    /// Where to write the CA certificate PEM. `None`: a uniquely named file in the temp dir,
    /// removed again when the emulator is dropped.
    pub ca_file: Option<PathBuf>,
    /// Graph's throttling limits (on by default, at Graph's published limits). Change at run time
    /// with [`Emulator::set_throttling`] or `PUT /_emulator/throttling`.
    pub throttling: ThrottleConfig,
    /// Fault-injection rules in force from the start (see `CONTROL.md`).
    pub faults: Vec<FaultRule>,
    /// Seed of the PRNG that decides probabilistic fault rules: same seed, same faults.
    pub fault_seed: u64,
    /// How long policy changes take to show in the registration reports (Graph's reports lag by
    /// up to hours). Default zero: reports follow every change immediately.
    pub report_delay: Duration,
    /// Generated tenants in addition to the four seeded ones (`tenant0001.onmicrosoft.com`, …),
    /// deterministic per seed. `None`: only the seeded tenants.
    pub generate: Option<GeneratorSpec>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            ca_file: None,
            throttling: ThrottleConfig::default(),
            faults: Vec::new(),
            fault_seed: 0,
            report_delay: Duration::ZERO,
            generate: None,
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
    /// Guards `/_emulator/` (random per start).
    control_key: String,
    throttle: Mutex<throttle::Throttler>,
    faults: Mutex<faults::Faults>,
    /// Rebuilds the seeded directory for `POST /_emulator/reset`.
    baseline: Mutex<Baseline>,
    /// [`EmulatorConfig::report_delay`].
    report_delay: Duration,
}

impl Shared {
    fn issuer(&self, tenant_id: &str) -> String {
        v2_issuer(&self.base_url, tenant_id)
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

    fn throttle(&self) -> MutexGuard<'_, throttle::Throttler> {
        self.throttle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn faults(&self) -> MutexGuard<'_, faults::Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Rebuild the seeded directory and forget throttling usage.
    fn reset(&self) {
        let baseline = self
            .baseline
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        // Build outside the directory lock: a large generated seed takes a while.
        let fresh = baseline.build();
        // Swap under the lock, drop the old directory after releasing it.
        let old = std::mem::replace(&mut *self.directory(), fresh);
        drop(old);
        self.throttle().clear_usage();
    }

    /// Generate `spec` (instead of what was generated so far) from now on, and reset to it.
    fn reseed(&self, spec: GeneratorSpec) {
        self.baseline
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .generate = Some(spec);
        self.reset();
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
        if let Some(message) = config.faults.iter().find_map(|r| r.validate().err()) {
            anyhow::bail!("invalid fault rule: {message}");
        }
        // The seeded state, as a recipe rather than a copy: `POST /_emulator/reset` rebuilds it,
        // so a large tenant is never held twice. Whatever seeds the directory belongs in here.
        let baseline = Baseline {
            base_url: base_url.clone(),
            graph_app_secret: graph_app_secret.clone(),
            cli_app_secret: cli_app_secret.clone(),
            generate: config.generate,
        };
        // Generating many users is CPU-bound: keep it off the async workers.
        let initial = tokio::task::spawn_blocking({
            let baseline = baseline.clone();
            move || baseline.build()
        })
        .await
        .context("directory generation task")?;
        let shared = Arc::new(Shared {
            base_url,
            directory: Mutex::new(initial),
            keys: RwLock::new(KeyStore::new(signing_key)),
            calls: Mutex::new(Vec::new()),
            control_key: control::new_control_key(),
            throttle: Mutex::new(throttle::Throttler::new(config.throttling.clone())),
            faults: Mutex::new(faults::Faults::new(
                config.faults.clone(),
                config.fault_seed,
            )),
            baseline: Mutex::new(baseline),
            report_delay: config.report_delay,
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

    /// `{base}{tenant_id}/`: the issuer of the emulator's v1 tokens (portal back end tokens), its
    /// stand-in for Entra's `https://sts.windows.net/{tid}/`.
    pub fn v1_issuer(&self, tenant_id: &str) -> String {
        token::v1_issuer(self.shared(), tenant_id)
    }

    /// A refresh token for the tenant's delegated Global Administrator (the first enabled member
    /// holding the role), issued to Azure PowerShell ([`first_party::AZURE_POWERSHELL`]): redeem
    /// it at `{base}{tenant}/oauth2/token` with `resource=` [`first_party::PORTAL_RESOURCE`] or at
    /// the v2 endpoint with `scope={resource}/.default offline_access`, without a client secret.
    /// The same value on every call for as long as the emulator runs. `None` if the tenant is
    /// unknown or has no Global Administrator.
    pub fn admin_refresh_token(&self, tenant_id: &str) -> Option<String> {
        token::admin_refresh_token(self.shared(), tenant_id)
    }

    /// A new refresh token for `user` (object id or UPN) of `tenant` (id or domain), issued to
    /// `client_id` (a first-party public client, or a registered app that must then
    /// authenticate when redeeming it). `None` if the tenant or user is unknown.
    pub fn issue_refresh_token(&self, tenant: &str, user: &str, client_id: &str) -> Option<String> {
        token::issue_refresh_token(self.shared(), tenant, user, client_id)
    }

    /// Expire a refresh token as if it had been inactive for 90 days (redeeming it then fails
    /// with AADSTS700082). False if the emulator never issued it.
    pub fn expire_refresh_token(&self, refresh_token: &str) -> bool {
        self.shared()
            .keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .expire_refresh_token(refresh_token, calls::now_unix())
    }

    /// Upload a certificate (PEM `CERTIFICATE` or DER; RSA keys only) to the app registration
    /// `client_id`, so client assertions signed with its private key authenticate the app.
    /// Returns the registered credential (with its `x5t` thumbprints).
    pub fn register_certificate(
        &self,
        client_id: &str,
        certificate: &[u8],
    ) -> anyhow::Result<AppCertificate> {
        let key = keys::certificate_key(certificate)?;
        let credential = AppCertificate {
            x5t: key.x5t,
            x5t_s256: key.x5t_s256,
            rsa_public_key_der: key.rsa_public_key_der,
        };
        self.with_app(client_id, |app| app.certificates.push(credential.clone()))?;
        Ok(credential)
    }

    /// Add a federated identity credential to the app registration `client_id`: tokens from
    /// `issuer` with `sub` = `subject` and audience `api://AzureADTokenExchange` then stand in
    /// for its secret (matching is exact and case-sensitive, like Entra's).
    pub fn register_federated_credential(
        &self,
        client_id: &str,
        issuer: &str,
        subject: &str,
    ) -> anyhow::Result<()> {
        self.with_app(client_id, |app| {
            let name = format!("fic-{}", app.federated_credentials.len() + 1);
            app.federated_credentials.push(FederatedCredential {
                name,
                issuer: issuer.to_string(),
                subject: subject.to_string(),
                audiences: vec![first_party::TOKEN_EXCHANGE_AUDIENCE.to_string()],
            });
        })
    }

    /// A token as the external OIDC issuer `issuer` (say a Kubernetes cluster) would project it
    /// into a pod for workload identity: `sub` = `subject`, audience `api://AzureADTokenExchange`,
    /// valid one hour. Write it to a file and point `AZURE_FEDERATED_TOKEN_FILE` at it. The
    /// emulator trusts its own signature for any issuer a federated credential names.
    ///
    /// # Panics
    /// Only if signing with the emulator's own RSA key fails, which would be a bug.
    pub fn mint_federated_token(&self, issuer: &str, subject: &str) -> String {
        token::mint_federated_token(self.shared(), issuer, subject)
            .unwrap_or_else(|e| panic!("entra-emulator could not sign a token: {e}"))
    }

    /// `{base}_k8s/{cluster}`: the service-account issuer of a Kubernetes-like cluster, no
    /// trailing slash. Its discovery document is `{issuer}/.well-known/openid-configuration`,
    /// its keys `{issuer}/openid/v1/jwks`. [`seed::GRAPH_APP_CLIENT_ID`] trusts the issuer of
    /// [`seed::DEMO_CLUSTER`] for [`seed::DEMO_SERVICE_ACCOUNT_SUBJECT`].
    pub fn service_account_issuer(&self, cluster: &str) -> String {
        k8s::issuer(&self.shared().base_url, cluster)
    }

    /// A projected service-account token of `cluster` for
    /// `system:serviceaccount:{namespace}:{service_account}`, as a pod's token file holds it:
    /// audience `api://AzureADTokenExchange`, valid `lifetime` from now, with the
    /// `kubernetes.io` claim. Write it to the file `AZURE_FEDERATED_TOKEN_FILE` names.
    ///
    /// # Panics
    /// Only if signing with the emulator's own RSA key fails, which would be a bug.
    pub fn mint_service_account_token(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
        lifetime: Duration,
    ) -> String {
        let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2);
        k8s::mint(
            self.shared(),
            cluster,
            namespace,
            service_account,
            0,
            lifetime,
        )
        .unwrap_or_else(|e| panic!("entra-emulator could not sign a token: {e}"))
    }

    /// Like [`Emulator::mint_service_account_token`], but issued two hours ago and expired one
    /// hour ago (well past Entra's clock skew): the token endpoint refuses it with AADSTS700024,
    /// so a test can prove a token file is read again after the cluster rotated it.
    ///
    /// # Panics
    /// Only if signing with the emulator's own RSA key fails, which would be a bug.
    pub fn mint_expired_service_account_token(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> String {
        k8s::mint_expired(self.shared(), cluster, namespace, service_account)
            .unwrap_or_else(|e| panic!("entra-emulator could not sign a token: {e}"))
    }

    /// `{base}metadata/identity/oauth2/token`: the emulator's Instance Metadata Service token
    /// endpoint for managed identities (Azure's is `http://169.254.169.254/metadata/identity/oauth2/token`).
    /// Call it with `Metadata: true`, `api-version=2018-02-01`, `resource=…` and `client_id=`
    /// [`seed::SERVICE_UAMI_CLIENT_ID`].
    pub fn managed_identity_endpoint(&self) -> Url {
        let base = self.base_url();
        base.join("metadata/identity/oauth2/token").unwrap_or(base)
    }

    /// Admin consent without the browser: `client_id`'s service principal in `tenant` (id or
    /// domain) gets exactly `permissions` as Microsoft Graph application permissions (they become
    /// the `roles` claim of its next token there). Creates the principal, with a fresh object
    /// id, if the app was never consented in that tenant. Undone by [`Emulator::reset`].
    pub fn grant_consent(
        &self,
        tenant: &str,
        client_id: &str,
        permissions: &[&str],
    ) -> anyhow::Result<()> {
        let permissions: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
        consent::grant(
            &mut self.shared().directory(),
            tenant,
            client_id,
            &permissions,
        )
    }

    /// Remove `client_id`'s service principal from `tenant`, as an administrator deleting the
    /// enterprise app does: its token requests there then fail with AADSTS700016. An error if
    /// the tenant is unknown or the app has no principal there.
    pub fn revoke_consent(&self, tenant: &str, client_id: &str) -> anyhow::Result<()> {
        consent::revoke(&mut self.shared().directory(), tenant, client_id)
    }

    /// Add a customer tenant as it looks the day it signs up: one Global Administrator
    /// (`admin@{domain}`), Microsoft Graph's principal, default policies, the free tier, no app
    /// consented (see [`Emulator::grant_consent`]). `id` must be a GUID; neither it nor `domain`
    /// may be taken. Undone by [`Emulator::reset`].
    pub fn create_tenant(&self, id: &str, domain: &str, display_name: &str) -> anyhow::Result<()> {
        let parsed =
            uuid::Uuid::parse_str(id).with_context(|| format!("tenant id {id:?} is not a GUID"))?;
        anyhow::ensure!(
            !domain.is_empty() && !domain.contains('/'),
            "tenant domain {domain:?} is not a domain name"
        );
        anyhow::ensure!(
            !display_name.trim().is_empty(),
            "tenant display name is empty"
        );
        let id = parsed.hyphenated().to_string();
        let tenant = seed::bare_customer(&id, &domain.to_ascii_lowercase(), display_name, None);
        let mut directory = self.shared().directory();
        anyhow::ensure!(directory.tenant(&id).is_none(), "tenant id {id} is taken");
        anyhow::ensure!(
            directory.tenant(domain).is_none(),
            "domain {domain} is already a tenant's"
        );
        directory.tenants.push(tenant);
        Ok(())
    }

    fn with_app(
        &self,
        client_id: &str,
        f: impl FnOnce(&mut AppRegistration),
    ) -> anyhow::Result<()> {
        let mut directory = self.shared().directory();
        let app = directory
            .apps
            .iter_mut()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
            .with_context(|| format!("no app registration with client id {client_id}"))?;
        f(app);
        Ok(())
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
        let delay = self.shared().report_delay;
        let mut directory = self.shared().directory();
        directory.tenant_mut(tenant).map(|t| {
            // Stamp policy changes for the reports' propagation delay (no-op without a delay).
            derived::observe(t, delay);
            let result = f(t);
            derived::observe(t, delay);
            result
        })
    }

    /// Run `f` on the whole directory (tenants and app registrations).
    pub fn with_directory<R>(&self, f: impl FnOnce(&mut Directory) -> R) -> R {
        let delay = self.shared().report_delay;
        let mut directory = self.shared().directory();
        directory
            .tenants
            .iter_mut()
            .for_each(|t| derived::observe(t, delay));
        let result = f(&mut directory);
        directory
            .tenants
            .iter_mut()
            .for_each(|t| derived::observe(t, delay));
        result
    }

    /// Every request served so far, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared().calls().clone()
    }

    /// Forget the call log (e.g. after a test's setup phase).
    pub fn clear_calls(&self) {
        self.shared().calls().clear();
    }

    /// The key for the control API (`/_emulator/`, see `CONTROL.md`), random per start. Send it
    /// as `x-emulator-control-key: KEY` or `Authorization: Bearer KEY`.
    pub fn control_key(&self) -> String {
        self.shared().control_key.clone()
    }

    /// Replace the fault-injection rules (and restart the probability PRNG from the configured
    /// seed). Errors name the first invalid rule.
    pub fn set_faults(&self, rules: Vec<FaultRule>) -> anyhow::Result<()> {
        if let Some(message) = rules.iter().find_map(|r| r.validate().err()) {
            anyhow::bail!("invalid fault rule: {message}");
        }
        self.shared().faults().set(rules, None);
        Ok(())
    }

    /// The rules in force (`times` shows how many calls each has left).
    pub fn faults(&self) -> Vec<FaultRule> {
        self.shared().faults().rules().to_vec()
    }

    pub fn clear_faults(&self) {
        self.shared().faults().set(Vec::new(), None);
    }

    /// New throttling limits from the next request on (usage so far is kept).
    pub fn set_throttling(&self, config: ThrottleConfig) {
        self.shared().throttle().set_config(config);
    }

    pub fn throttling(&self) -> ThrottleConfig {
        self.shared().throttle().config().clone()
    }

    /// Back to the seeded directory, with fresh throttling windows (`POST /_emulator/reset`).
    /// Blocks while a large directory is rebuilt.
    pub fn reset(&self) {
        self.shared().reset();
    }

    /// Replace the generated tenants with `spec`'s (the four seeded tenants stay) and reset to
    /// that state (`POST /_emulator/seed`); later resets return to it. Blocks while generating.
    pub fn reseed(&self, spec: GeneratorSpec) {
        self.shared().reseed(spec);
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
        .route("/{tenant}/oauth2/token", post(token::token_endpoint_v1))
        .route(
            "/api/PasswordReset/PasswordResetPolicies",
            get(portal::get_password_reset_policies).put(portal::put_password_reset_policies),
        )
        .route(
            "/api/PasswordReset/OnPremisesPasswordResetPolicies",
            get(portal::get_on_premises_policies).put(portal::put_on_premises_policies),
        )
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(token::discovery),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(token::jwks))
        .route("/{tenant}/v2.0/adminconsent", get(consent::admin_consent))
        .route(
            "/metadata/identity/oauth2/token",
            get(managed_identity::token),
        )
        .route(
            "/_k8s/{cluster}/.well-known/openid-configuration",
            get(k8s::discovery),
        )
        .route("/_k8s/{cluster}/openid/v1/jwks", get(k8s::jwks))
        .route("/v1.0/{*rest}", any(graph::dispatch))
        .route("/beta/{*rest}", any(graph::dispatch))
        // Faults sit inside the call log, so injected failures are logged like real ones.
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            faults::inject,
        ))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            calls::record,
        ))
        // Added after the layers: control calls are neither logged nor faulted.
        .merge(control::router())
        .with_state(shared)
}

/// `{base}{tenant_id}/v2.0`: Entra's v2 issuer for a tenant, on the emulator.
fn v2_issuer(base_url: &Url, tenant_id: &str) -> String {
    format!("{base_url}{tenant_id}/v2.0")
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
