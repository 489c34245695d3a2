//! Typed configuration: defaults, then an optional TOML file, then `SSPR_*` environment variables
//! (`__` separates nesting, e.g. `SSPR_GRAPH__CA_FILE`). Secrets are `SecretString`, so `Debug`
//! output and logs never show them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the REST API listens on.
    pub listen: SocketAddr,
    pub auth: AuthConfig,
    pub graph: GraphConfig,
    /// Customer tenants the service manages.
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
    /// The embedded store (audit trail).
    #[serde(default)]
    pub store: StoreConfig,
    /// Registration reporting: summary caching and the fleet fan-out.
    #[serde(default)]
    pub registrations: RegistrationsConfig,
    /// The policy document's cache.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// How paging cursors are signed.
    #[serde(default)]
    pub cursors: CursorsConfig,
    /// The HTTP edge: connection limits and timeouts, request size limits, and how long each
    /// kind of route may take.
    #[serde(default)]
    pub server: ServerConfig,
    /// Tenants onboarded at run time: how their secrets are sealed, the consent redirect, the
    /// managed-identity endpoint.
    #[serde(default)]
    pub tenancy: TenancyConfig,
    /// The service-wide multi-tenant app: every tenant whose credential is `kind = "default"`
    /// signs in as it, so 500 tenants need one credential. The section is a credential of any
    /// other kind, e.g. `[default_app]` `kind = "workloadIdentity"`, `client_id = "…"`.
    #[serde(default)]
    pub default_app: Option<CredentialConfig>,
    /// The MSP's own tenant, for GDAP discovery.
    #[serde(default)]
    pub partner: PartnerConfig,
    /// Where Prometheus scrapes `/metrics`.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// What the readiness checks are decided against.
    #[serde(default)]
    pub readiness: ReadinessConfig,
}

/// `/metrics` (Prometheus text format, no token). Its labels are route templates, status codes
/// and Graph bucket names: never tenant ids, user data or secrets.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// A separate address that serves `/metrics` only (e.g. `0.0.0.0:9090`), so the scrape port
    /// can be kept off the API's network path. Unset: `/metrics` is served on `listen`.
    /// Environment: `SSPR_METRICS__LISTEN`.
    pub listen: Option<SocketAddr>,
}

/// Run-time tenancy. Secrets given through the API (client secrets, private keys) are sealed
/// with AES-256-GCM under `secret_key` (or the key in `secret_key_file`; not both) before they
/// reach the store. Without a key the API accepts only credentials that hold no secret or name
/// a file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenancyConfig {
    /// 32 random bytes as standard base64, e.g. the output of `openssl rand -base64 32`.
    /// Environment: `SSPR_TENANCY__SECRET_KEY`.
    pub secret_key: Option<SecretString>,
    /// A file holding that base64 text (a mounted Kubernetes secret; whitespace around it is
    /// ignored).
    pub secret_key_file: Option<PathBuf>,
    /// Where the customer's administrator lands after admin consent; it must be a redirect URI
    /// of the app registration.
    pub consent_redirect_uri: Option<Url>,
    /// The instance metadata service (IMDS) that hands out the managed identity's tokens.
    pub managed_identity_endpoint: Url,
}

impl Default for TenancyConfig {
    fn default() -> Self {
        TenancyConfig {
            secret_key: None,
            secret_key_file: None,
            consent_redirect_uri: None,
            managed_identity_endpoint: Url::parse(
                entra_assertion::managed_identity::DEFAULT_ENDPOINT,
            )
            .expect("static url"),
        }
    }
}

/// The managed service provider's own tenant.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PartnerConfig {
    /// The MSP's tenant id: the default app reads its delegated admin (GDAP) relationships there.
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// How long a tenant's policy document is served from cache when the caller does not say
    /// (`Cache-Control: max-age`), in seconds; also the `max-age` the service advertises. A
    /// change made through this service is seen at once; one made in the portal after at most
    /// this long (or at once with `Cache-Control: no-cache`).
    pub cache_max_age_secs: u64,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            cache_max_age_secs: 60,
        }
    }
}

/// What one connection and one request may cost. Every limit answers a problem document where
/// HTTP allows one; beyond hyper's own read buffer (a little more than `max_uri_bytes` +
/// `max_header_bytes`) hyper itself answers a bare 431 or closes the connection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// A request head must arrive whole within this many seconds, counted from the connection's
    /// start or from the first byte of a later request; then the connection is closed (slowloris).
    /// Legitimate clients send a head in one packet.
    pub header_read_timeout_secs: u64,
    /// A kept-alive connection with no request in flight is closed after this many seconds.
    pub idle_timeout_secs: u64,
    /// Connections served at once. At the maximum the service stops accepting: further clients
    /// wait in the listen backlog until a connection closes (the timeouts above see to that).
    /// Keep it below the process's file-descriptor limit (`ulimit -n`), which also covers the
    /// connections to Graph and the store.
    pub max_connections: u32,
    /// The longest request target (path and query), in bytes; longer is a 414 problem.
    pub max_uri_bytes: usize,
    /// The most header bytes a request may carry (names, values and their separators); more is
    /// a 431 problem.
    pub max_header_bytes: usize,
    /// The largest request body, in bytes; larger is a 413 problem. The API's bodies are small
    /// JSON documents (a merge patch, protection options).
    pub max_body_bytes: usize,
    /// How long each kind of route may take before it answers 503 with `Retry-After`.
    pub timeouts: RouteTimeouts,
    /// On SIGTERM (or Ctrl-C) `/readyz` answers 503 at once and no connection is accepted any
    /// more; the requests in flight get this many seconds to finish, then they are cut and the
    /// process exits. Keep it below the pod's `terminationGracePeriodSeconds`.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 4096,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            timeouts: RouteTimeouts::default(),
            shutdown_grace_secs: 25,
        }
    }
}

/// Paging cursors (`nextCursor` of registration listings, the audit trail's `nextLink`) are
/// signed with HMAC-SHA256 and bound to the tenant, the query and the caller, so a caller cannot
/// edit or reuse one elsewhere. Give the key as `key` or `key_file`, not both.
///
/// **Without a key** the service makes a random one at each start: cursors then stop working
/// when the service restarts (a caller gets `invalidCursor` and starts from the first page), and
/// replicas behind one load balancer refuse each other's. Configure the same key on every
/// replica to avoid both.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CursorsConfig {
    /// The signing key: at least 32 bytes of text (surrounding whitespace is ignored), e.g. the
    /// output of `openssl rand -base64 48`. Environment: `SSPR_CURSORS__KEY`.
    pub key: Option<SecretString>,
    /// A file holding the signing key (its bytes, surrounding whitespace ignored; at least 32).
    pub key_file: Option<PathBuf>,
    /// How long a cursor is accepted after its page was served, in seconds.
    pub ttl_secs: u64,
}

impl Default for CursorsConfig {
    fn default() -> Self {
        CursorsConfig {
            key: None,
            key_file: None,
            ttl_secs: 86_400,
        }
    }
}

impl ServerConfig {
    /// Why these limits cannot serve, if they cannot: a zero would refuse every request.
    pub fn validate(&self) -> Result<(), String> {
        let zero = [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("max_connections", u64::from(self.max_connections)),
            ("max_uri_bytes", self.max_uri_bytes as u64),
            ("max_header_bytes", self.max_header_bytes as u64),
            ("max_body_bytes", self.max_body_bytes as u64),
            ("timeouts.read_secs", self.timeouts.read_secs),
            ("timeouts.write_secs", self.timeouts.write_secs),
            ("timeouts.report_secs", self.timeouts.report_secs),
        ]
        .into_iter()
        .filter(|(_, value)| *value == 0)
        .map(|(name, _)| format!("server.{name}"))
        .collect::<Vec<_>>();
        if zero.is_empty() {
            Ok(())
        } else {
            Err(format!("{} must be at least 1", zero.join(", ")))
        }
    }
}

/// Server-side limits on the time to the response head, per kind of route. A streamed listing's
/// body may take longer: only its start is bounded.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouteTimeouts {
    /// Plain reads (policy, tenants, audit, registration-protection status, generate): a few
    /// Graph calls, each bounded by `graph.timeout_secs`.
    pub read_secs: u64,
    /// Writes (PATCH policy, PUT registration-protection and what lies under it): several Graph
    /// calls, the portal, and the undo of completed steps when one fails.
    pub write_secs: u64,
    /// Report work (registration listings, summaries, the fleet, the protection plan): Graph
    /// allows five report pages per 10 s per tenant, so a 100,000-user summary takes ~200 s.
    pub report_secs: u64,
}

impl Default for RouteTimeouts {
    fn default() -> Self {
        RouteTimeouts {
            read_secs: 30,
            write_secs: 120,
            report_secs: 600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationsConfig {
    /// How long a tenant's registration summary is served from cache when the caller does not
    /// say (`Cache-Control: max-age`), in seconds. Also the `max-age` the service advertises.
    /// Graph's report itself lags the directory by up to a few hours.
    pub cache_max_age_secs: u64,
    /// Tenants summarized at once by the fleet summary. Graph's per-app budget is enforced
    /// below this (graph.limits); this only bounds the work in flight.
    pub fleet_concurrency: usize,
}

impl Default for RegistrationsConfig {
    fn default() -> Self {
        RegistrationsConfig {
            cache_max_age_secs: 300,
            fleet_concurrency: 16,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadinessConfig {
    /// SKU part numbers that allow cloud-only users to reset without an Entra ID P1 plan
    /// (any SKU with AAD_PREMIUM always counts). Default: Business Standard (`O365_BUSINESS_PREMIUM`),
    /// Business Premium (`SPB`), legacy Business Standard (`SMB_BUSINESS_PREMIUM`).
    pub cloud_reset_skus: Vec<String>,
    /// Registration coverage (registered ÷ SSPR-enabled members) that passes, in percent.
    pub coverage_pass_percent: f64,
    /// Coverage that warns (below the pass mark); below this it fails.
    pub coverage_warn_percent: f64,
    /// Tenants assessed at once by the fleet readiness.
    pub fleet_concurrency: usize,
}

impl Default for ReadinessConfig {
    fn default() -> Self {
        let rules = crate::domain::readiness::ReadinessRules::default();
        ReadinessConfig {
            cloud_reset_skus: rules.cloud_reset_skus,
            coverage_pass_percent: rules.coverage_pass_percent,
            coverage_warn_percent: rules.coverage_warn_percent,
            fleet_concurrency: 16,
        }
    }
}

impl ReadinessConfig {
    /// The rules, refused when the thresholds make no sense.
    pub fn rules(&self) -> anyhow::Result<crate::domain::readiness::ReadinessRules> {
        let (pass, warn) = (self.coverage_pass_percent, self.coverage_warn_percent);
        anyhow::ensure!(
            (0.0..=100.0).contains(&pass) && (0.0..=100.0).contains(&warn) && warn <= pass,
            "readiness.coverage_warn_percent ({warn}) and coverage_pass_percent ({pass}) must be \
             percentages with warn <= pass"
        );
        Ok(crate::domain::readiness::ReadinessRules {
            cloud_reset_skus: self.cloud_reset_skus.clone(),
            coverage_pass_percent: pass,
            coverage_warn_percent: warn,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite file (created when absent; `-wal` and `-shm` files sit beside it). A relative
    /// path is relative to the working directory. Ignored when `url` is set.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
    /// A PostgreSQL database, shared by every replica:
    /// `postgres://user@host:5432/db?sslmode=require`. A secret, since it may hold a password.
    #[serde(default)]
    pub url: Option<SecretString>,
    /// The database password; overrides one in `url`.
    #[serde(default)]
    pub password: Option<SecretString>,
    /// PEM roots that sign the database's certificate, trusted beside the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// With `url`: how often, in seconds, the tenants and grants other replicas changed are read
    /// back into this one's registry.
    #[serde(default = "default_follow_secs")]
    pub follow_secs: u64,
}

fn default_follow_secs() -> u64 {
    5
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: default_store_path(),
            url: None,
            password: None,
            ca_file: None,
            follow_secs: default_follow_secs(),
        }
    }
}

fn default_store_path() -> PathBuf {
    PathBuf::from("sspr.db")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Identity providers whose tokens callers present.
    #[serde(default)]
    pub issuers: Vec<IssuerConfig>,
    /// Which callers may act on which tenants.
    #[serde(default)]
    pub access: Vec<AccessGrant>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// OpenID Connect discovery document, e.g.
    /// `https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration`.
    pub discovery_url: Url,
    /// The `aud` tokens must carry: this service's app ID URI or client id.
    pub audience: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessGrant {
    /// The caller's object id (`oid`) or client id (`appid`/`azp`).
    pub principal: String,
    /// Tenant ids or domains, `"tag:<tag>"` for every tenant with that tag, or `"*"` for every
    /// configured tenant.
    pub tenants: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphConfig {
    /// Entra authority host for client-credential tokens (must be https).
    pub authority_host: Url,
    /// Microsoft Graph base URL including the version segment.
    pub base_url: Url,
    /// Extra PEM root certificate to trust (the emulator's CA in tests and in the demo).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Per-request timeout towards Graph and the token endpoint, in seconds.
    pub timeout_secs: u64,
    /// The Entra portal back end (graph-api.md §2.3), used only for tenants with a `portal`
    /// connector.
    #[serde(default = "default_portal_base_url")]
    pub portal_base_url: Url,
    /// The throttling budgets the service keeps to and how it retries (graph-api.md §8.2).
    /// Environment: e.g. `SSPR_GRAPH__LIMITS__REPORTS_PER_TENANT__REQUESTS=3`.
    #[serde(default)]
    pub limits: GraphLimits,
}

/// Requests to Graph queue until Graph's own limits admit them, instead of failing with a 429.
/// The defaults are Graph's published limits; Graph keeps them per (app, tenant), and this
/// service signs in to each tenant with one app, so "per tenant" below means per (app, tenant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphLimits {
    /// Off: requests go out as they come (a 429 from Graph is still waited out and retried).
    pub enabled: bool,
    /// Added to every window. Graph counts a request when it arrives, so network jitter could
    /// otherwise land a request just inside a window that looked over.
    pub margin_ms: u64,
    /// Identity and access reports (`reports/...`) per tenant. Graph: 5 / 10 s.
    pub reports_per_tenant: Limit,
    /// Identity and access reports for the app across all tenants. Graph: 122 / 10 s.
    pub reports_per_app: Limit,
    /// Conditional Access and named locations (`identity/conditionalAccess/...`) per tenant,
    /// all apps combined. Graph: 1 / 1 s, and its 429 carries no `Retry-After`.
    pub conditional_access_per_tenant: Limit,
    /// Every other request (the directory) per tenant. Graph budgets 3,500 resource units per
    /// 10 s for the smallest tenants, and a read costs at most 2: 1,500 / 10 s stays under it.
    pub directory_per_tenant: Limit,
    /// Directory requests for the app across all tenants. Graph: 150,000 resource units / 20 s,
    /// so 75,000 / 20 s at 2 units a read.
    pub directory_per_app: Limit,
    /// Directory writes (POST, PATCH, PUT, DELETE) per tenant. Graph: 3,000 / 150 s.
    pub directory_writes_per_tenant: Limit,
    /// Directory writes for the app across all tenants. Graph: 35,000 / 5 min.
    pub directory_writes_per_app: Limit,
    /// Requests of one tenant that may wait for their turn at once (all buckets). Past it a
    /// request is answered at once with a 503 and `Retry-After` instead of joining the queue,
    /// so one busy tenant or one flood of callers cannot pile up unbounded work.
    pub max_queue_per_tenant: usize,
    /// Attempts per request, the first included, before a failure is given to the caller.
    pub max_attempts: u32,
    /// The longest `Retry-After` waited out; a longer one fails the request at once, saying
    /// when to come back.
    pub max_retry_after_secs: u64,
    /// First back-off after a 503, 504 or broken connection (doubling, with full jitter).
    pub backoff_base_ms: u64,
    /// The longest single back-off.
    pub backoff_max_ms: u64,
}

/// At most `requests` in any sliding window of `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub requests: u32,
    pub window_ms: u64,
}

impl Limit {
    pub const fn new(requests: u32, window_ms: u64) -> Limit {
        Limit {
            requests,
            window_ms,
        }
    }
}

impl Default for GraphLimits {
    fn default() -> Self {
        GraphLimits {
            enabled: true,
            margin_ms: 100,
            reports_per_tenant: Limit::new(5, 10_000),
            reports_per_app: Limit::new(122, 10_000),
            conditional_access_per_tenant: Limit::new(1, 1_000),
            directory_per_tenant: Limit::new(1_500, 10_000),
            directory_per_app: Limit::new(75_000, 20_000),
            directory_writes_per_tenant: Limit::new(3_000, 150_000),
            directory_writes_per_app: Limit::new(35_000, 300_000),
            max_queue_per_tenant: 64,
            max_attempts: 6,
            max_retry_after_secs: 120,
            backoff_base_ms: 1_000,
            backoff_max_ms: 30_000,
        }
    }
}

fn default_portal_base_url() -> Url {
    Url::parse("https://main.iam.ad.ext.azure.com/").expect("static url")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Tenant id (GUID).
    pub id: String,
    /// Verified domains callers may use instead of the id.
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Labels such as `region:eu` or `tier:gold` (lower-case letters, digits, `:-_.`):
    /// `tag:region:eu` selects by them in fleet queries and access grants.
    #[serde(default)]
    pub tags: Vec<String>,
    pub credential: CredentialConfig,
    /// Opt-in: read and write the settings only the portal back end holds, with a delegated
    /// administrator's refresh token (unsupported by Microsoft; graph-api.md §2.3).
    #[serde(default)]
    pub portal: Option<PortalConfig>,
}

/// A delegated administrator's sign-in for the portal back end.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// Refresh token of a Global Administrator (or Authentication Policy Administrator) issued to
    /// `client_id`. Entra rotates it; the newest one is kept in memory only.
    pub refresh_token: SecretString,
    /// The public client the refresh token was issued to (default: Azure PowerShell).
    #[serde(default = "default_portal_client_id")]
    pub client_id: String,
}

/// Azure PowerShell, a Microsoft first-party public client pre-authorized for the portal back end.
pub const AZURE_POWERSHELL_CLIENT_ID: &str = "1950a258-227b-4e31-a9cf-717495945fc2";

fn default_portal_client_id() -> String {
    AZURE_POWERSHELL_CLIENT_ID.to_owned()
}

/// How the service signs in to a tenant (`[[tenants]] credential = { kind = … }`) or as the
/// default app (`[default_app]`). Every kind but `default` names the app registration's
/// `client_id`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "CredentialFile")]
pub enum CredentialConfig {
    /// `kind = "clientSecret"` with `client_secret`.
    ClientSecret {
        client_id: String,
        client_secret: SecretString,
    },
    /// `kind = "clientSecret"` with `client_secret_file`: the file is read whenever a
    /// credential is built from it (at start, and by each verification of the tenant).
    ClientSecretFile {
        client_id: String,
        client_secret_file: PathBuf,
    },
    /// `kind = "certificate"`: PEM files of a certificate uploaded to the app registration and
    /// of its RSA private key (PKCS#8 or PKCS#1, unencrypted). Read when the service starts.
    Certificate {
        client_id: String,
        certificate_file: PathBuf,
        private_key_file: PathBuf,
    },
    /// `kind = "workloadIdentity"`: the projected service-account token in `token_file` (re-read
    /// for every token request) is the assertion of the app. Absent, `client_id` and
    /// `token_file` come from the workload identity webhook's `AZURE_CLIENT_ID` and
    /// `AZURE_FEDERATED_TOKEN_FILE` when the credential is built.
    WorkloadIdentity {
        client_id: Option<String>,
        token_file: Option<PathBuf>,
    },
    /// `kind = "managedIdentity"`: the user-assigned identity `identity_client_id` is a
    /// federated credential of the app; its token for `api://AzureADTokenExchange` (from
    /// `[tenancy] managed_identity_endpoint`) is the assertion.
    ManagedIdentity {
        client_id: String,
        identity_client_id: String,
    },
    /// `kind = "default"` (tenants only): the service-wide `[default_app]`.
    Default,
}

/// The file's shape of [`CredentialConfig`]: `clientSecret` takes its secret inline or from a
/// file, which one table cannot say with two variants.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
enum CredentialFile {
    ClientSecret {
        client_id: String,
        #[serde(default)]
        client_secret: Option<SecretString>,
        #[serde(default)]
        client_secret_file: Option<PathBuf>,
    },
    Certificate {
        client_id: String,
        certificate_file: PathBuf,
        private_key_file: PathBuf,
    },
    WorkloadIdentity {
        #[serde(default)]
        client_id: Option<String>,
        #[serde(default)]
        token_file: Option<PathBuf>,
    },
    ManagedIdentity {
        client_id: String,
        identity_client_id: String,
    },
    Default,
}

impl TryFrom<CredentialFile> for CredentialConfig {
    type Error = String;

    fn try_from(file: CredentialFile) -> Result<Self, String> {
        Ok(match file {
            CredentialFile::ClientSecret {
                client_id,
                client_secret,
                client_secret_file,
            } => match (client_secret, client_secret_file) {
                (Some(client_secret), None) => CredentialConfig::ClientSecret {
                    client_id,
                    client_secret,
                },
                (None, Some(client_secret_file)) => CredentialConfig::ClientSecretFile {
                    client_id,
                    client_secret_file,
                },
                (Some(_), Some(_)) => {
                    return Err(
                        "clientSecret: give client_secret or client_secret_file, not both".into(),
                    );
                }
                (None, None) => {
                    return Err(
                        "clientSecret: client_secret or client_secret_file is required".into(),
                    );
                }
            },
            CredentialFile::Certificate {
                client_id,
                certificate_file,
                private_key_file,
            } => CredentialConfig::Certificate {
                client_id,
                certificate_file,
                private_key_file,
            },
            CredentialFile::WorkloadIdentity {
                client_id,
                token_file,
            } => CredentialConfig::WorkloadIdentity {
                client_id,
                token_file,
            },
            CredentialFile::ManagedIdentity {
                client_id,
                identity_client_id,
            } => CredentialConfig::ManagedIdentity {
                client_id,
                identity_client_id,
            },
            CredentialFile::Default => CredentialConfig::Default,
        })
    }
}

/// Defaults that point at Microsoft's public cloud.
#[derive(Serialize)]
struct Defaults {
    listen: SocketAddr,
    graph: GraphConfig,
    auth: EmptyAuth,
}

#[derive(Serialize)]
struct EmptyAuth {
    issuers: [(); 0],
    access: [(); 0],
}

fn defaults() -> Defaults {
    Defaults {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        graph: GraphConfig {
            authority_host: Url::parse("https://login.microsoftonline.com/").expect("static url"),
            base_url: Url::parse("https://graph.microsoft.com/v1.0/").expect("static url"),
            ca_file: None,
            timeout_secs: 30,
            portal_base_url: default_portal_base_url(),
            limits: GraphLimits::default(),
        },
        auth: EmptyAuth {
            issuers: [],
            access: [],
        },
    }
}

impl Config {
    /// Loads defaults, then `file` when given, then `SSPR_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(defaults()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment
            .merge(
                Env::prefixed("SSPR_")
                    .ignore(COMMAND_LINE_VARIABLES)
                    .split("__"),
            )
            .extract()
            .map_err(Box::new)
    }
}

/// `SSPR_*` variables that are not configuration keys, which the configuration's unknown-key
/// check would refuse: the binary's command-line options (`SSPR_CONFIG` names the file, the log
/// format is chosen before the configuration loads), and the `sspr` CLI's, which a shell that
/// ran the demo has exported (`SSPR_AUTH` is the one the CLI shares with a configuration key).
const COMMAND_LINE_VARIABLES: &[&str] = &[
    "CONFIG",
    "LOG_JSON",
    "LOG_FORMAT",
    "URL",
    "TOKEN",
    "ADMIN_TOKEN",
    "AUTHORITY",
    "CA_FILE",
    "CERTIFICATE",
    "PRIVATE_KEY",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "MANAGED_IDENTITY_ENDPOINT",
    "OUTPUT",
    "SCOPE",
    "TENANT",
    // The PostgreSQL tests' server, no setting of the service's.
    "TEST_DATABASE_URL",
];

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures must return figment::Error.
mod tests {
    use super::*;
    use figment::Jail;
    use secrecy::ExposeSecret;

    #[test]
    fn file_and_environment_merge_and_secrets_stay_hidden() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "sspr.toml",
                r#"
                listen = "127.0.0.1:9000"
                [[auth.issuers]]
                discovery_url = "https://login.example/t/v2.0/.well-known/openid-configuration"
                audience = "api://sspr"
                [[tenants]]
                id = "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17"
                domains = ["contoso.onmicrosoft.com"]
                credential = { kind = "clientSecret", client_id = "app", client_secret = "s3cr3t-value" }
                "#,
            )?;
            jail.set_env("SSPR_GRAPH__TIMEOUT_SECS", "7");
            let config = Config::load(Some(Path::new("sspr.toml"))).map_err(|e| *e)?;
            assert_eq!(config.listen.port(), 9000);
            assert_eq!(config.graph.timeout_secs, 7);
            assert_eq!(
                config.graph.base_url.as_str(),
                "https://graph.microsoft.com/v1.0/"
            );
            assert_eq!(config.tenants[0].domains, ["contoso.onmicrosoft.com"]);
            let printed = format!("{config:?}");
            assert!(
                !printed.contains("s3cr3t-value"),
                "secret leaked: {printed}"
            );
            Ok(())
        });
    }

    #[test]
    fn the_command_line_variables_are_not_configuration_keys() {
        Jail::expect_with(|jail| {
            jail.create_file("sspr.toml", "listen = \"0.0.0.0:8080\"\n")?;
            // As the chart and the image run it: the file named by SSPR_CONFIG, JSON logs.
            jail.set_env("SSPR_CONFIG", "sspr.toml");
            jail.set_env("SSPR_LOG_FORMAT", "json");
            jail.set_env("SSPR_LOG_JSON", "true");
            // As the demo's banner has a shell export them for the CLI.
            jail.set_env("SSPR_URL", "http://127.0.0.1:8080/");
            jail.set_env("SSPR_TOKEN", "eyJ.not.checked");
            let config = Config::load(Some(Path::new("sspr.toml"))).map_err(|e| *e)?;
            assert_eq!(config.listen.port(), 8080);
            // Any other unknown variable is still refused, with its name.
            jail.set_env("SSPR_LISTEN_ADDRESS", "0.0.0.0:8080");
            let refused = Config::load(Some(Path::new("sspr.toml")))
                .expect_err("an unknown SSPR_ variable is refused")
                .to_string();
            assert!(refused.contains("listen_address"), "{refused}");
            Ok(())
        });
    }

    #[test]
    fn store_path_defaults_to_sspr_db_and_follows_the_environment() {
        Jail::expect_with(|jail| {
            assert_eq!(
                Config::load(None).map_err(|e| *e)?.store.path,
                Path::new("sspr.db")
            );
            jail.set_env("SSPR_STORE__PATH", "/var/lib/sspr/audit.db");
            assert_eq!(
                Config::load(None).map_err(|e| *e)?.store.path,
                Path::new("/var/lib/sspr/audit.db")
            );
            Ok(())
        });
    }

    #[test]
    fn a_store_url_and_password_come_from_the_environment_and_stay_hidden() {
        Jail::expect_with(|jail| {
            let store = Config::load(None).map_err(|e| *e)?.store;
            assert!(store.url.is_none() && store.password.is_none() && store.ca_file.is_none());
            jail.set_env("SSPR_STORE__URL", "postgres://sspr:in-the-url@db:5432/sspr");
            jail.set_env("SSPR_STORE__PASSWORD", "the-password");
            jail.set_env("SSPR_STORE__CA_FILE", "/etc/sspr/db-ca.pem");
            // The tests' server, in the same environment, is not a setting.
            jail.set_env("SSPR_TEST_DATABASE_URL", "postgres://sspr@127.0.0.1/sspr");
            let store = Config::load(None).map_err(|e| *e)?.store;
            assert_eq!(
                store
                    .url
                    .as_ref()
                    .map(|u| u.expose_secret().to_owned())
                    .as_deref(),
                Some("postgres://sspr:in-the-url@db:5432/sspr")
            );
            assert_eq!(
                store
                    .password
                    .as_ref()
                    .map(|p| p.expose_secret().to_owned())
                    .as_deref(),
                Some("the-password")
            );
            assert_eq!(
                store.ca_file.as_deref(),
                Some(Path::new("/etc/sspr/db-ca.pem"))
            );
            let printed = format!("{store:?}");
            assert!(
                !printed.contains("in-the-url") && !printed.contains("the-password"),
                "secret leaked: {printed}"
            );
            Ok(())
        });
    }

    #[test]
    fn registrations_default_to_five_minutes_and_sixteen_tenants_and_follow_the_file() {
        Jail::expect_with(|jail| {
            let defaults = Config::load(None).map_err(|e| *e)?.registrations;
            assert_eq!(defaults.cache_max_age_secs, 300);
            assert_eq!(defaults.fleet_concurrency, 16);
            jail.create_file("sspr.toml", "[registrations]\ncache_max_age_secs = 60\n")?;
            jail.set_env("SSPR_REGISTRATIONS__FLEET_CONCURRENCY", "4");
            let config = Config::load(Some(Path::new("sspr.toml"))).map_err(|e| *e)?;
            assert_eq!(config.registrations.cache_max_age_secs, 60);
            assert_eq!(config.registrations.fleet_concurrency, 4);
            Ok(())
        });
    }

    #[test]
    fn cursors_default_to_no_key_and_a_day_and_hide_their_key() {
        Jail::expect_with(|jail| {
            let defaults = Config::load(None).map_err(|e| *e)?.cursors;
            assert!(defaults.key.is_none() && defaults.key_file.is_none());
            assert_eq!(defaults.ttl_secs, 86_400);
            jail.create_file(
                "sspr.toml",
                "[cursors]\nkey_file = \"/etc/sspr/cursor.key\"\nttl_secs = 600\n",
            )?;
            let config = Config::load(Some(Path::new("sspr.toml"))).map_err(|e| *e)?;
            assert_eq!(
                config.cursors.key_file.as_deref(),
                Some(Path::new("/etc/sspr/cursor.key"))
            );
            assert_eq!(config.cursors.ttl_secs, 600);
            jail.set_env("SSPR_CURSORS__KEY", "cursor-key-secret-0123456789abcdef");
            let config = Config::load(None).map_err(|e| *e)?;
            assert!(config.cursors.key.is_some());
            let printed = format!("{config:?}");
            assert!(
                !printed.contains("cursor-key-secret"),
                "secret leaked: {printed}"
            );
            Ok(())
        });
    }

    #[test]
    fn a_portal_connector_defaults_its_client_and_hides_its_refresh_token() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "sspr.toml",
                r#"
                [[tenants]]
                id = "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17"
                credential = { kind = "clientSecret", client_id = "app", client_secret = "s" }
                portal = { refresh_token = "0.AAAA-refresh-secret" }
                "#,
            )?;
            let config = Config::load(Some(Path::new("sspr.toml"))).map_err(|e| *e)?;
            let portal = config.tenants[0].portal.as_ref().expect("portal");
            assert_eq!(portal.client_id, AZURE_POWERSHELL_CLIENT_ID);
            assert_eq!(
                config.graph.portal_base_url.as_str(),
                "https://main.iam.ad.ext.azure.com/"
            );
            let printed = format!("{config:?}");
            assert!(
                !printed.contains("refresh-secret"),
                "secret leaked: {printed}"
            );
            Ok(())
        });
    }

    #[test]
    fn graph_limits_default_to_graphs_and_follow_the_file_and_the_environment() {
        Jail::expect_with(|jail| {
            let defaults = Config::load(None).map_err(|e| *e)?.graph.limits;
            assert_eq!(defaults, GraphLimits::default());
            assert_eq!(defaults.reports_per_tenant, Limit::new(5, 10_000));
            assert_eq!(defaults.reports_per_app, Limit::new(122, 10_000));
            assert_eq!(defaults.conditional_access_per_tenant, Limit::new(1, 1_000));
            assert_eq!(
                defaults.directory_writes_per_tenant,
                Limit::new(3_000, 150_000)
            );
            assert_eq!(defaults.max_attempts, 6);
            assert_eq!(defaults.max_retry_after_secs, 120);

            jail.create_file(
                "sspr.toml",
                r#"
                [graph.limits]
                margin_ms = 250
                [graph.limits.reports_per_tenant]
                requests = 2
                "#,
            )?;
            jail.set_env("SSPR_GRAPH__LIMITS__REPORTS_PER_TENANT__WINDOW_MS", "2000");
            jail.set_env("SSPR_GRAPH__LIMITS__ENABLED", "false");
            let limits = Config::load(Some(Path::new("sspr.toml")))
                .map_err(|e| *e)?
                .graph
                .limits;
            assert_eq!(limits.reports_per_tenant, Limit::new(2, 2_000));
            assert_eq!(limits.margin_ms, 250);
            assert!(!limits.enabled);
            assert_eq!(limits.reports_per_app, Limit::new(122, 10_000));
            Ok(())
        });
    }

    #[test]
    fn server_limits_default_safely_follow_the_file_and_refuse_zero() {
        Jail::expect_with(|jail| {
            let defaults = Config::load(None).map_err(|e| *e)?.server;
            assert_eq!(defaults, ServerConfig::default());
            assert_eq!(defaults.header_read_timeout_secs, 10);
            assert_eq!(defaults.max_connections, 4096);
            assert_eq!(defaults.max_body_bytes, 1024 * 1024);
            assert_eq!(defaults.timeouts.read_secs, 30);
            assert!(defaults.validate().is_ok());

            jail.create_file(
                "sspr.toml",
                "[server]\nmax_connections = 100\n[server.timeouts]\nwrite_secs = 0\n",
            )?;
            jail.set_env("SSPR_SERVER__IDLE_TIMEOUT_SECS", "5");
            let server = Config::load(Some(Path::new("sspr.toml")))
                .map_err(|e| *e)?
                .server;
            assert_eq!(server.max_connections, 100);
            assert_eq!(server.idle_timeout_secs, 5);
            assert_eq!(server.timeouts.report_secs, 600);
            let refused = server.validate().expect_err("a zero timeout");
            assert!(refused.contains("server.timeouts.write_secs"), "{refused}");
            Ok(())
        });
    }

    #[test]
    fn every_credential_kind_parses_and_hides_its_secrets() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "sspr.toml",
                r#"
                [[tenants]]
                id = "t-inline"
                credential = { kind = "clientSecret", client_id = "app", client_secret = "inline-s3cr3t" }
                [[tenants]]
                id = "t-file"
                credential = { kind = "clientSecret", client_id = "app", client_secret_file = "/run/secret" }
                [[tenants]]
                id = "t-cert"
                credential = { kind = "certificate", client_id = "app", certificate_file = "/c.pem", private_key_file = "/k.pem" }
                [[tenants]]
                id = "t-wi"
                credential = { kind = "workloadIdentity", client_id = "app", token_file = "/var/run/token" }
                [[tenants]]
                id = "t-wi-env"
                credential = { kind = "workloadIdentity" }
                [[tenants]]
                id = "t-mi"
                credential = { kind = "managedIdentity", client_id = "app", identity_client_id = "uami" }
                [[tenants]]
                id = "t-default"
                tags = ["region:eu"]
                credential = { kind = "default" }
                "#,
            )?;
            let config = Config::load(Some(Path::new("sspr.toml"))).map_err(|e| *e)?;
            let kinds: Vec<_> = config.tenants.iter().map(|t| &t.credential).collect();
            assert!(
                matches!(kinds[0], CredentialConfig::ClientSecret { client_id, .. } if client_id == "app")
            );
            assert!(
                matches!(kinds[1], CredentialConfig::ClientSecretFile { client_secret_file, .. } if client_secret_file == Path::new("/run/secret"))
            );
            assert!(
                matches!(kinds[2], CredentialConfig::Certificate { certificate_file, private_key_file, .. }
                if certificate_file == Path::new("/c.pem") && private_key_file == Path::new("/k.pem"))
            );
            assert!(
                matches!(kinds[3], CredentialConfig::WorkloadIdentity { client_id: Some(id), token_file: Some(file) }
                if id == "app" && file == Path::new("/var/run/token"))
            );
            assert!(matches!(
                kinds[4],
                CredentialConfig::WorkloadIdentity {
                    client_id: None,
                    token_file: None
                }
            ));
            assert!(
                matches!(kinds[5], CredentialConfig::ManagedIdentity { identity_client_id, .. } if identity_client_id == "uami")
            );
            assert!(matches!(kinds[6], CredentialConfig::Default));
            assert_eq!(config.tenants[6].tags, ["region:eu"]);
            let printed = format!("{config:?}");
            assert!(
                !printed.contains("inline-s3cr3t"),
                "secret leaked: {printed}"
            );
            Ok(())
        });
    }

    #[test]
    fn a_client_secret_needs_exactly_one_source_and_kinds_refuse_strange_keys() {
        Jail::expect_with(|jail| {
            let refused = |jail: &mut Jail, credential: &str| -> figment::error::Result<String> {
                jail.create_file(
                    "sspr.toml",
                    &format!("[[tenants]]\nid = \"t\"\ncredential = {credential}\n"),
                )?;
                Ok(Config::load(Some(Path::new("sspr.toml")))
                    .expect_err("refused")
                    .to_string())
            };
            let both = refused(
                jail,
                r#"{ kind = "clientSecret", client_id = "a", client_secret = "s", client_secret_file = "/f" }"#,
            )?;
            assert!(
                both.contains("client_secret or client_secret_file, not both"),
                "{both}"
            );
            assert!(!both.contains("\"s\""), "{both}");
            let neither = refused(jail, r#"{ kind = "clientSecret", client_id = "a" }"#)?;
            assert!(
                neither.contains("client_secret or client_secret_file is required"),
                "{neither}"
            );
            let stray = refused(
                jail,
                r#"{ kind = "managedIdentity", client_id = "a", identity_client_id = "u", token_file = "/t" }"#,
            )?;
            assert!(stray.contains("token_file"), "{stray}");
            let no_key = refused(
                jail,
                r#"{ kind = "certificate", client_id = "a", certificate_file = "/c.pem" }"#,
            )?;
            assert!(no_key.contains("private_key_file"), "{no_key}");
            let unknown = refused(jail, r#"{ kind = "password", client_id = "a" }"#)?;
            assert!(unknown.contains("password"), "{unknown}");
            Ok(())
        });
    }

    #[test]
    fn tenancy_default_app_and_partner_follow_the_file_and_the_environment() {
        Jail::expect_with(|jail| {
            let defaults = Config::load(None).map_err(|e| *e)?;
            assert!(defaults.default_app.is_none());
            assert!(defaults.partner.tenant.is_none());
            assert!(
                defaults.tenancy.secret_key.is_none() && defaults.tenancy.secret_key_file.is_none()
            );
            assert!(defaults.tenancy.consent_redirect_uri.is_none());
            assert_eq!(
                defaults.tenancy.managed_identity_endpoint.as_str(),
                "http://169.254.169.254/metadata/identity/oauth2/token"
            );
            jail.create_file(
                "sspr.toml",
                r#"
                [tenancy]
                secret_key_file = "/etc/sspr/sealing.key"
                consent_redirect_uri = "https://msp.example/consented"
                managed_identity_endpoint = "http://127.0.0.1:4000/token"
                [default_app]
                kind = "workloadIdentity"
                client_id = "multi-tenant-app"
                [partner]
                tenant = "5c7d9e1f-2a4b-4c6d-8e0f-1a2b3c4d5e6f"
                "#,
            )?;
            jail.set_env("SSPR_TENANCY__SECRET_KEY", "c2VhbGluZy1rZXktc2VjcmV0");
            let config = Config::load(Some(Path::new("sspr.toml"))).map_err(|e| *e)?;
            assert_eq!(
                config.tenancy.secret_key_file.as_deref(),
                Some(Path::new("/etc/sspr/sealing.key"))
            );
            assert_eq!(
                config
                    .tenancy
                    .consent_redirect_uri
                    .as_ref()
                    .map(Url::as_str),
                Some("https://msp.example/consented")
            );
            assert_eq!(config.tenancy.managed_identity_endpoint.port(), Some(4000));
            assert!(
                matches!(&config.default_app, Some(CredentialConfig::WorkloadIdentity { client_id: Some(id), token_file: None }) if id == "multi-tenant-app")
            );
            assert_eq!(
                config.partner.tenant.as_deref(),
                Some("5c7d9e1f-2a4b-4c6d-8e0f-1a2b3c4d5e6f")
            );
            assert!(config.tenancy.secret_key.is_some());
            let printed = format!("{config:?}");
            assert!(
                !printed.contains("c2VhbGluZy1rZXktc2VjcmV0"),
                "secret leaked: {printed}"
            );
            Ok(())
        });
    }

    #[test]
    fn metrics_and_the_shutdown_grace_come_from_the_environment_beside_the_logs_variables() {
        Jail::expect_with(|jail| {
            let defaults = Config::load(None).map_err(|e| *e)?;
            assert_eq!(defaults.metrics.listen, None);
            assert_eq!(defaults.server.shutdown_grace_secs, 25);
            jail.set_env("SSPR_METRICS__LISTEN", "0.0.0.0:9090");
            jail.set_env("SSPR_SERVER__SHUTDOWN_GRACE_SECS", "5");
            // The command line's variables are not configuration keys (which are refused).
            jail.set_env("SSPR_LOG_FORMAT", "json");
            jail.set_env("SSPR_LOG_JSON", "true");
            jail.set_env("SSPR_CONFIG", "/etc/sspr/sspr.toml");
            let config = Config::load(None).map_err(|e| *e)?;
            assert_eq!(
                config.metrics.listen,
                Some(SocketAddr::from(([0, 0, 0, 0], 9090)))
            );
            assert_eq!(config.server.shutdown_grace_secs, 5);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        Jail::expect_with(|jail| {
            jail.create_file("sspr.toml", "listen = \"127.0.0.1:1\"\nlisten_port = 3\n")?;
            let error = Config::load(Some(Path::new("sspr.toml"))).unwrap_err();
            assert!(error.to_string().contains("listen_port"), "{error}");
            Ok(())
        });
    }
}
