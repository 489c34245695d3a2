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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite file (created when absent; `-wal` and `-shm` files sit beside it). A relative
    /// path is relative to the working directory.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: default_store_path(),
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
    /// Tenant ids or domains, or `"*"` for every configured tenant.
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

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum CredentialConfig {
    /// App-only access with a client secret (`ClientSecretCredential`).
    ClientSecret {
        client_id: String,
        client_secret: SecretString,
    },
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
            .merge(Env::prefixed("SSPR_").split("__"))
            .extract()
            .map_err(Box::new)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures must return figment::Error.
mod tests {
    use super::*;
    use figment::Jail;

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
    fn unknown_keys_are_refused_with_their_name() {
        Jail::expect_with(|jail| {
            jail.create_file("sspr.toml", "listen = \"127.0.0.1:1\"\nlisten_port = 3\n")?;
            let error = Config::load(Some(Path::new("sspr.toml"))).unwrap_err();
            assert!(error.to_string().contains("listen_port"), "{error}");
            Ok(())
        });
    }
}
