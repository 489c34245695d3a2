//! Wires configuration into a running server: one HTTP client, the authenticator, the tenants.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

use crate::api::{self, AppState, Shared};
use crate::auth::Authenticator;
use crate::capabilities::coordination::CacheInvalidations;
use crate::config::{Config, GraphConfig};
use crate::directory::credentials::CredentialFactory;
use crate::directory::graph::Graph;
use crate::directory::tenants::{TenantBuilder, TenantRegistry};
use crate::ops::cursor::{CursorSigner, ttl_of};
use crate::ops::onboarding::refresh::{Followed, StoreFollower};
use crate::server::{self, ConnectionLimits, Drain};
use crate::store::Store;
use crate::store::postgres::coordination::PgCoordination;

pub struct Application {
    listener: TcpListener,
    /// `[metrics] listen`: `/metrics` on its own port; unset, it is a route of `router`.
    metrics_listener: Option<TcpListener>,
    router: axum::Router,
    limits: ConnectionLimits,
    drain: Drain,
    store: Store,
    /// With a shared store: follows the registry changes other replicas make (see
    /// [`crate::ops::onboarding::refresh`]), for as long as the service runs.
    follower: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl Application {
    /// Binds the listener and builds every part; nothing is served until `run_until`/`spawn`.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        config
            .server
            .validate()
            .map_err(|why| anyhow::anyhow!("invalid [server] configuration: {why}"))?;
        crate::auth::check_grants(&config.auth.access)
            .map_err(|why| anyhow::anyhow!("invalid [auth] configuration: {why}"))?;
        // Installed before anything records; once per process.
        crate::telemetry::exporter::handle();
        let http = http_client(&config.graph)?;
        let auth = Authenticator::new(
            &config.auth.issuers,
            config.auth.access.clone(),
            http.clone(),
        );
        for failure in auth.load_keys().await {
            // Not fatal: /readyz reports it and the keys load on the first request that needs them.
            tracing::warn!(%failure, "token issuer keys not loaded yet");
        }
        let credentials = CredentialFactory::from_config(http.clone(), &config)?;
        let store = Store::connect(&config.store)
            .await
            .context(if config.store.url.is_some() {
                "cannot open the store (store.url)"
            } else {
                "cannot open the store (store.path)"
            })?;
        let tenant_store = store.tenants();
        // Replicas sharing a database hold as one what must be one: each tenant's write lock,
        // Graph's windows and the cursor key.
        let coordination = store
            .postgres()
            .map(|pg| std::sync::Arc::new(PgCoordination::new(pg.pool().clone())));
        let mut builder = TenantBuilder::new(&config.graph, &http, credentials.clone());
        if let Some(coordination) = &coordination {
            builder = builder.with_shared_locks(coordination.clone());
        }
        let tenancy = crate::ops::onboarding::Tenancy {
            credentials: crate::ops::onboarding::CredentialSettings {
                sealer: crate::secrets::SecretSealer::from_config(&config.tenancy)?,
                default_app: builder
                    .client_id(&crate::directory::credentials::CredentialSpec::Default)
                    .map(str::to_owned),
            },
            consent_redirect_uri: config.tenancy.consent_redirect_uri.clone(),
            partner_tenant: config
                .partner
                .tenant
                .as_ref()
                .map(|id| builder.partner(id).map(std::sync::Arc::new))
                .transpose()
                .context("invalid [partner] configuration")?,
        };
        let stored =
            crate::ops::onboarding::stored_tenants(tenant_store.as_ref(), &tenancy.credentials)
                .await
                .context("cannot read the onboarded tenants from the store")?;
        let tenants = TenantRegistry::new(&builder, &config.tenants, stored)?;
        auth.set_granted(
            crate::ops::access::stored_grants(tenant_store.as_ref())
                .await
                .context("cannot read the access grants from the store")?,
        );
        let http_for_tokens = http.clone();
        let graph = Graph::new(http, config.graph.base_url.clone());
        let graph = match &coordination {
            Some(coordination) => {
                graph.with_shared_limits(&config.graph.limits, coordination.clone())
            }
            None => graph.with_limits(&config.graph.limits),
        };
        let cursors = match (CursorSigner::configured(&config.cursors)?, &coordination) {
            (Some(configured), _) => configured,
            (None, Some(coordination)) => CursorSigner::with_key(
                &coordination
                    .cursor_key(&CursorSigner::new_key())
                    .await
                    .context("cannot read the cursor key kept in the store")?,
                ttl_of(&config.cursors),
            )?,
            (None, None) => CursorSigner::random(ttl_of(&config.cursors)),
        };
        let drain = Drain::new(Duration::from_secs(config.server.shutdown_grace_secs));
        let state = AppState::new(Shared {
            auth,
            tenants,
            tenant_discovery: std::sync::Arc::new(crate::directory::discovery::OidcDiscovery::new(
                http_for_tokens.clone(),
                config.graph.authority_host.clone(),
            )),
            partner_directory: std::sync::Arc::new(graph.clone()),
            tenancy,
            tenant_builder: builder,
            tenant_store,
            policy_directory: std::sync::Arc::new(graph.clone()),
            password_reset_portal: std::sync::Arc::new(crate::directory::portal::PortalBackEnd),
            conditional_access: std::sync::Arc::new(graph.clone()),
            audit: store.audit(),
            registrations: crate::ops::registrations::Registrations::new(&config.registrations),
            policies: crate::ops::policy::Policies::new(&config.policy),
            cursors,
            registration_report: std::sync::Arc::new(graph.clone()),
            licences: std::sync::Arc::new(graph.clone()),
            device_configuration: std::sync::Arc::new(graph.clone()),
            permissions: std::sync::Arc::new(crate::directory::permissions::TokenPermissions::new(
                credentials,
            )),
            secure_score: std::sync::Arc::new(graph.clone()),
            readiness: crate::ops::readiness::ReadinessSettings {
                rules: config.readiness.rules()?,
                fleet_concurrency: config.readiness.fleet_concurrency.max(1),
            },
            draining: drain.draining.clone(),
        });
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let metrics_listener = match config.metrics.listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen on {address} (metrics.listen)"))?,
            ),
            None => None,
        };
        let follower = match &coordination {
            Some(coordination) => {
                state.policies.share_invalidations(coordination.clone());
                state
                    .registrations
                    .share_invalidations(coordination.clone());
                let follower = StoreFollower::start(state.tenant_store.as_ref())
                    .await
                    .context("cannot read the onboarded tenants from the store")?;
                let every = Duration::from_secs(config.store.follow_secs.max(1));
                // Only what is published from now on: this replica's caches are empty.
                let invalidations = coordination
                    .since(0)
                    .await
                    .context("cannot read the cache invalidations from the store")?
                    .last()
                    .map_or(0, |newest| newest.id);
                let caches = CacheFollower {
                    shared: coordination.clone(),
                    after: invalidations,
                    applied: std::collections::BTreeSet::new(),
                };
                Some(
                    Box::pin(follow_the_store(state.clone(), follower, caches, every))
                        as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
                )
            }
            None => None,
        };
        let mut router = api::router(state, &config.server);
        if metrics_listener.is_none() {
            router = router.merge(crate::telemetry::exporter::routes());
        }
        Ok(Application {
            listener,
            metrics_listener,
            router,
            limits: ConnectionLimits::from(&config.server),
            drain,
            store,
            follower,
        })
    }

    /// The store the service uses: tests and tools append and read audit records through it.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.local_addr())).expect("socket address makes a URL")
    }

    /// Where Prometheus scrapes: `/metrics` on the metrics listener, or on the API's.
    pub fn metrics_url(&self) -> Url {
        let address = self.metrics_listener.as_ref().map_or_else(
            || self.local_addr(),
            |listener| {
                listener
                    .local_addr()
                    .expect("bound listener has an address")
            },
        );
        Url::parse(&format!("http://{address}/metrics")).expect("socket address makes a URL")
    }

    /// Serves until `shutdown` completes; then `/readyz` answers 503, no connection is
    /// accepted, and it returns once the requests in flight are answered or the shutdown grace
    /// is over. The metrics listener serves until the API's has stopped.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let upkeep = AbortOnDrop(tokio::spawn(crate::telemetry::exporter::upkeep()));
        let follower = self
            .follower
            .map(|follow| AbortOnDrop(tokio::spawn(follow)));
        let (api_stopped, metrics_stop) = oneshot::channel::<()>();
        let metrics = self.metrics_listener.map(|listener| {
            let stop = async {
                let _ = metrics_stop.await;
            };
            tokio::spawn(server::serve(
                listener,
                crate::telemetry::exporter::routes(),
                self.limits,
                stop,
                Drain::new(self.drain.grace),
            ))
        });
        let served = server::serve(
            self.listener,
            self.router,
            self.limits,
            shutdown,
            self.drain,
        )
        .await;
        drop(api_stopped);
        if let Some(metrics) = metrics {
            metrics
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)))?;
        }
        drop(upkeep);
        drop(follower);
        served
    }

    /// Serves in a background task until the returned handle is stopped or dropped.
    pub fn spawn(self) -> RunningService {
        let url = self.url();
        let metrics_url = self.metrics_url();
        let store = self.store.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(self.run_until(async {
            let _ = stopped.await;
        }));
        RunningService {
            url,
            metrics_url,
            store,
            stop: Some(stop),
            task,
        }
    }
}

pub struct RunningService {
    pub url: Url,
    /// Where `/metrics` is served (see [`Application::metrics_url`]).
    pub metrics_url: Url,
    store: Store,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningService {
    /// The store the running service uses (see [`Application::store`]).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Aborts a background task when the server it serves stops.
/// Applies, every `every`, the registry changes the other replicas made in the shared store.
async fn follow_the_store(
    state: AppState,
    mut follower: StoreFollower,
    mut caches: CacheFollower,
    every: Duration,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match follower
            .follow(
                state.tenant_store.as_ref(),
                &state.tenants,
                &state.tenant_builder,
                &state.tenancy.credentials,
                &state.auth,
            )
            .await
        {
            Ok(followed) if followed != Followed::default() => {
                tracing::info!(
                    added = followed.added,
                    replaced = followed.replaced,
                    removed = followed.removed,
                    "registry changes of other replicas applied"
                );
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "the shared store's tenants cannot be read; trying again")
            }
        }
        if let Err(error) = caches.follow(&state).await {
            tracing::warn!(%error, "the shared store's cache invalidations cannot be read; trying again");
        }
    }
}

/// The cache invalidations other replicas published, applied to this one's caches.
struct CacheFollower {
    shared: std::sync::Arc<PgCoordination>,
    /// Every invalidation up to this id was applied (or predates this replica).
    after: i64,
    /// Applied ids above `after`: an id taken early can commit after a later one, so the look
    /// goes back a little and skips what it applied.
    applied: std::collections::BTreeSet<i64>,
}

impl CacheFollower {
    /// How far back each look goes, in ids.
    const LOOK_BACK: i64 = 1_000;

    async fn follow(&mut self, state: &AppState) -> Result<(), crate::store::StoreError> {
        for invalidation in self.shared.since(self.after).await? {
            if self.applied.insert(invalidation.id) {
                state
                    .policies
                    .apply_invalidation(&invalidation.cache, &invalidation.tenant_id);
                state
                    .registrations
                    .apply_invalidation(&invalidation.cache, &invalidation.tenant_id);
            }
        }
        if let Some(&newest) = self.applied.last() {
            let floor = newest - Self::LOOK_BACK;
            if floor > self.after {
                self.after = floor;
                self.applied = self.applied.split_off(&(floor + 1));
            }
        }
        Ok(())
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The one HTTP client for Graph, the token endpoint and JWKS, trusting `ca_file` in addition
/// to the built-in roots.
pub fn http_client(graph: &GraphConfig) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("sspr/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(graph.timeout_secs));
    if let Some(path) = &graph.ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read graph.ca_file {}", path.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).with_context(|| {
            format!("graph.ca_file {} holds no PEM certificate", path.display())
        })?;
        builder = builder.tls_certs_merge(certificates);
    }
    builder.build().context("cannot build the HTTP client")
}
