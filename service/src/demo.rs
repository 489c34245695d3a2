//! `sspr-service demo`: the emulator (Graph, Entra token endpoint) and the service in one
//! process on loopback, wired exactly as production would be, plus a token to try it with.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use entra_emulator::{Emulator, EmulatorConfig, TokenSpec, seed};
use secrecy::SecretString;

use crate::app::{Application, RunningService};
use crate::config::{
    AZURE_POWERSHELL_CLIENT_ID, AccessGrant, AuthConfig, Config, CredentialConfig, GraphConfig,
    IssuerConfig, PortalConfig, TenantConfig,
};

pub struct DemoOptions {
    /// Service port; 0 picks a free one.
    pub port: u16,
    /// Emulator port; 0 picks a free one.
    pub emulator_port: u16,
    /// Keep the store (the audit trail) in this file, created when absent and reused next time.
    /// `None`: a private file (0600 in a 0700 temporary directory), removed when the demo stops.
    pub store: Option<PathBuf>,
}

pub struct Demo {
    pub emulator: Emulator,
    pub service: RunningService,
    /// A bearer token for the service: role SSPR.ReadWrite, access to every demo tenant, one hour.
    pub token: String,
    /// The same with role SSPR.Admin, which adds the audit trail.
    pub admin_token: String,
    /// The private directory of the default store; removing it removes the store with its
    /// `-wal` and `-shm` files.
    private_store: Option<tempfile::TempDir>,
    /// Tailspin's projected token file, and the task that rotates it.
    federation: (tempfile::TempDir, TokenRotation),
}

/// The demo tenants: (id, domains, display name).
const TENANTS: [(&str, &str, &str, &str); 2] = [
    (
        seed::CONTOSO_ID,
        seed::CONTOSO_DOMAIN,
        "contoso.com",
        "Contoso",
    ),
    (
        seed::FABRIKAM_ID,
        seed::FABRIKAM_DOMAIN,
        "fabrikam.com",
        "Fabrikam",
    ),
];

/// Service configuration pointing at a running emulator: the operator tenant as token issuer,
/// both customer tenants with the emulator's Graph app credential, and access for the demo
/// operator and the CLI app to both tenants.
pub fn config_for(emulator: &Emulator, listen: SocketAddr) -> Config {
    Config {
        listen,
        auth: AuthConfig {
            issuers: vec![IssuerConfig {
                discovery_url: emulator.discovery_url(seed::OPERATOR_ID),
                audience: seed::SERVICE_AUDIENCE.to_owned(),
            }],
            // The demo operator and the CLI administer the whole fleet, onboarded tenants too.
            access: [seed::DEMO_OPERATOR_OID, seed::CLI_APP_CLIENT_ID]
                .into_iter()
                .map(|principal| AccessGrant {
                    principal: principal.to_owned(),
                    tenants: vec!["*".to_owned()],
                })
                .collect(),
        },
        graph: GraphConfig {
            authority_host: emulator.authority_host(),
            base_url: emulator.graph_base_url(),
            ca_file: Some(emulator.ca_file().to_path_buf()),
            timeout_secs: 10,
            portal_base_url: emulator.base_url(),
            limits: Default::default(),
        },
        registrations: Default::default(),
        policy: Default::default(),
        // No key: a random one per start, as the demo's cursors need not outlive it.
        cursors: Default::default(),
        server: Default::default(),
        // Secrets given through the API are sealed with a key of this run (`--store` keeps one
        // next to the store instead, see `start`).
        tenancy: crate::config::TenancyConfig {
            secret_key: Some(SecretString::from(random_key())),
            secret_key_file: None,
            consent_redirect_uri: Some(
                url::Url::parse(seed::CONSENT_REDIRECT_URI).expect("static url"),
            ),
            managed_identity_endpoint: emulator.managed_identity_endpoint(),
        },
        // The MSP's multi-tenant app, signed in to with the service's managed identity as a
        // federated credential: no secret at all for `kind: default` tenants.
        default_app: Some(CredentialConfig::ManagedIdentity {
            client_id: seed::GRAPH_APP_CLIENT_ID.to_owned(),
            identity_client_id: seed::SERVICE_UAMI_CLIENT_ID.to_owned(),
        }),
        // Northwind, the MSP: its GDAP customers come from there.
        partner: crate::config::PartnerConfig {
            tenant: Some(seed::OPERATOR_ID.to_owned()),
        },
        metrics: Default::default(),
        readiness: Default::default(),
        // A fresh file per start, so tests never share (or inherit) audit records; `start`
        // gives the demo its own (private or `--store`) file instead.
        store: crate::config::StoreConfig {
            path: std::env::temp_dir().join(format!("sspr-demo-{}.db", uuid::Uuid::new_v4())),
            ..crate::config::StoreConfig::default()
        },
        tenants: TENANTS
            .iter()
            .map(|(id, domain, custom, name)| TenantConfig {
                id: (*id).to_owned(),
                domains: vec![(*domain).to_owned(), (*custom).to_owned()],
                display_name: Some((*name).to_owned()),
                // Contoso is an EU customer on the gold tier; Fabrikam a US one.
                tags: if *id == seed::CONTOSO_ID {
                    vec!["region:eu".to_owned(), "tier:gold".to_owned()]
                } else {
                    vec!["region:us".to_owned()]
                },
                credential: CredentialConfig::ClientSecret {
                    client_id: seed::GRAPH_APP_CLIENT_ID.to_owned(),
                    client_secret: SecretString::from(emulator.graph_app_secret()),
                },
                // Contoso opts in to the portal back end with its Global Administrator's
                // sign-in; Fabrikam does not, so its portal-only settings are inferred or
                // unavailable.
                portal: (*id == seed::CONTOSO_ID)
                    .then(|| emulator.admin_refresh_token(id))
                    .flatten()
                    .map(|refresh_token| PortalConfig {
                        refresh_token: SecretString::from(refresh_token),
                        client_id: AZURE_POWERSHELL_CLIENT_ID.to_owned(),
                    }),
            })
            .collect(),
    }
}

pub async fn start(options: DemoOptions) -> anyhow::Result<Demo> {
    let emulator = Emulator::start(EmulatorConfig {
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, options.emulator_port)),
        ..EmulatorConfig::default()
    })
    .await?;
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let mut config = config_for(&emulator, listen);
    let options_store = options.store.clone();
    let private_store = match options.store {
        Some(path) => {
            config.tenancy.secret_key = None;
            config.tenancy.secret_key_file = Some(key_file_for(&path)?);
            config.store.path = path;
            None
        }
        None => {
            let dir = private_store_dir()?;
            config.store.path = dir.path().join("sspr-demo.db");
            create_private_file(&config.store.path)?;
            Some(dir)
        }
    };
    let service = Application::build(config).await?.spawn();
    let token = |role: &str| {
        emulator.mint_token(&TokenSpec {
            roles: vec![role.to_owned()],
            upn: Some(format!("demo.admin@{}", seed::OPERATOR_DOMAIN)),
            name: Some("Demo Admin".to_owned()),
            lifetime: Duration::from_secs(3600),
            ..TokenSpec::default()
        })
    };
    let (token, admin_token) = (token("SSPR.ReadWrite"), token("SSPR.Admin"));
    let federation = private_store_dir()?;
    // A kept store keeps Tailspin, and so the path of its token file: keep that beside it.
    let token_file = match &options_store {
        Some(store) => store.with_extension("token"),
        None => federation.path().join("token"),
    };
    project_token(&emulator, &token_file)?;
    onboard_tailspin(&service, &admin_token, &token_file).await?;
    let rotation = {
        let (emulator, token_file) = (emulator.clone(), token_file.clone());
        TokenRotation(tokio::spawn(async move {
            let mut every = tokio::time::interval(TOKEN_ROTATION);
            every.tick().await;
            loop {
                every.tick().await;
                if let Err(error) = project_token(&emulator, &token_file) {
                    tracing::warn!(%error, "cannot rotate the demo's projected token");
                }
            }
        }))
    };
    Ok(Demo {
        emulator,
        service,
        token,
        admin_token,
        private_store,
        federation: (federation, rotation),
    })
}

/// 32 random bytes as base64: a sealing key.
fn random_key() -> String {
    use base64::Engine as _;
    let mut key = [0u8; 32];
    aws_lc_rs::rand::fill(&mut key).expect("the system's random source works");
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// The sealing key kept next to a `--store` file (created on first use, readable only by this
/// user), so the secrets sealed in it open again at the next start.
fn key_file_for(store: &Path) -> anyhow::Result<PathBuf> {
    let path = store.with_extension("key");
    if !path.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .with_context(|| format!("cannot create the demo's sealing key {}", path.display()))?;
        std::io::Write::write_all(&mut file, random_key().as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(path)
}

/// How often the demo projects a fresh service-account token into Tailspin's token file, as the
/// kubelet does (it refreshes at 80 % of the token's life).
const TOKEN_ROTATION: Duration = Duration::from_secs(600);

/// Writes a fresh projected token of the demo cluster's `sspr` service account to `path`.
fn project_token(emulator: &Emulator, path: &Path) -> anyhow::Result<()> {
    let token = emulator.mint_service_account_token(
        seed::DEMO_CLUSTER,
        seed::DEMO_NAMESPACE,
        seed::DEMO_SERVICE_ACCOUNT,
        Duration::from_secs(3600),
    );
    // Written aside and renamed, so a reader never sees half a token.
    let partial = path.with_extension("new");
    std::fs::write(&partial, token)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// The task that rotates the token file; stopped with the demo.
struct TokenRotation(tokio::task::JoinHandle<()>);

impl Drop for TokenRotation {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Onboards Tailspin through the API with workload identity federation: the token file is the
/// assertion, re-read for every token request while the demo rotates it. A kept store already
/// has Tailspin: its token file is pointed at this run's.
async fn onboard_tailspin(
    service: &RunningService,
    token: &str,
    token_file: &Path,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let credential = serde_json::json!({
        "kind": "workloadIdentity",
        "clientId": seed::GRAPH_APP_CLIENT_ID,
        "tokenFile": token_file,
    });
    let added = http
        .post(service.url.join("v1/tenants")?)
        .bearer_auth(token)
        .json(&serde_json::json!({
            "tenant": seed::TAILSPIN_DOMAIN,
            "displayName": "Tailspin Toys",
            "tags": ["region:eu", "tier:silver"],
            "credential": credential,
        }))
        .send()
        .await?;
    let response = if added.status() == reqwest::StatusCode::CONFLICT {
        http.patch(
            service
                .url
                .join(&format!("v1/tenants/{}", seed::TAILSPIN_ID))?,
        )
        .bearer_auth(token)
        .json(&serde_json::json!({ "credential": credential }))
        .send()
        .await?
    } else {
        added
    };
    if !response.status().is_success() {
        anyhow::bail!(
            "onboarding {} answered {}: {}",
            seed::TAILSPIN_DOMAIN,
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// A fresh directory only this user can enter (0700).
fn private_store_dir() -> anyhow::Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("sspr-demo-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    builder
        .tempdir()
        .context("cannot create the demo's store directory")
}

/// An empty file (a valid empty SQLite database) readable only by this user. SQLite gives the
/// `-wal` and `-shm` files it creates the permissions of the database file.
fn create_private_file(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("cannot create the demo store {}", path.display()))?;
    Ok(())
}

impl Demo {
    /// What a newcomer reads: where things run, the `export` lines, examples to paste.
    pub fn banner(&self) -> String {
        let url = &self.service.url;
        let mut text = String::new();
        let _ = writeln!(text, "sspr demo is running (Ctrl-C stops it).\n");
        let _ = writeln!(text, "  service   {url}   API docs: {url}docs");
        let _ = writeln!(
            text,
            "  emulator  {} (Graph, Entra token endpoint; CA certificate {})",
            self.emulator.base_url(),
            self.emulator.ca_file().display()
        );
        let _ = writeln!(
            text,
            "  tenants   {} (Entra ID P1, synced from on-premises), {} (no P1, cloud only): configuration file, client secret",
            seed::CONTOSO_DOMAIN,
            seed::FABRIKAM_DOMAIN
        );
        let _ = writeln!(
            text,
            "            {} onboarded through the API with workload identity (a projected token file the demo rotates);\n            it has not granted Policy.ReadWrite.ConditionalAccess, so registration protection there is refused",
            seed::TAILSPIN_DOMAIN
        );
        let _ = writeln!(
            text,
            "  MSP       {} (partner tenant; the default app signs in with a managed identity as federated credential)\n",
            seed::OPERATOR_DOMAIN
        );
        let _ = writeln!(
            text,
            "A bearer token for the service (role SSPR.ReadWrite, both demo tenants, valid for one hour),\nand one with role SSPR.Admin, which adds the audit trail of every change (GET /v1/audit, `sspr audit list`).\nPaste these lines into another shell:\n"
        );
        let _ = writeln!(text, "export SSPR_URL={url}");
        let _ = writeln!(text, "export SSPR_TOKEN={}", self.token);
        let _ = writeln!(text, "export SSPR_ADMIN_TOKEN={}\n", self.admin_token);
        let _ = writeln!(text, "Then try:\n");
        let _ = writeln!(
            text,
            "  curl -s -H \"Authorization: Bearer $SSPR_TOKEN\" ${{SSPR_URL}}v1/tenants"
        );
        let _ = writeln!(
            text,
            "  curl -s -H \"Authorization: Bearer $SSPR_TOKEN\" ${{SSPR_URL}}v1/tenants/{}/sspr/policy",
            seed::CONTOSO_DOMAIN
        );
        let _ = writeln!(
            text,
            "  cargo run --release -q -p sspr-client -- tenants list"
        );
        let _ = writeln!(
            text,
            "  cargo run --release -q -p sspr-client -- tenants verify --tenant {}",
            seed::CONTOSO_DOMAIN
        );
        let _ = writeln!(
            text,
            "  cargo run --release -q -p sspr-client -- policy get --tenant {}",
            seed::CONTOSO_DOMAIN
        );
        let _ = writeln!(
            text,
            "  cargo run --release -q -p sspr-client -- policy get --tenant {} --output json",
            seed::FABRIKAM_DOMAIN
        );
        let _ = writeln!(
            text,
            "  cargo run --release -q -p sspr-client -- policy diff --tenant {} --reconfirm-days 90",
            seed::CONTOSO_DOMAIN
        );
        let _ = writeln!(
            text,
            "  cargo run --release -q -p sspr-client -- policy set --tenant {} --notify-admins on --yes",
            seed::CONTOSO_DOMAIN
        );
        let _ = writeln!(
            text,
            "  cargo run --release -q -p sspr-client -- readiness --all-tenants"
        );
        let _ = writeln!(
            text,
            "  cargo run --release -q -p sspr-client -- readiness --tenant {} --format html > readiness.html",
            seed::CONTOSO_DOMAIN
        );
        let _ = writeln!(
            text,
            "  SSPR_TOKEN=$SSPR_ADMIN_TOKEN cargo run --release -q -p sspr-client -- audit list"
        );
        let _ = writeln!(
            text,
            "  SSPR_TOKEN=$SSPR_ADMIN_TOKEN cargo run --release -q -p sspr-client -- partner customers"
        );
        let _ = writeln!(
            text,
            "  SSPR_TOKEN=$SSPR_ADMIN_TOKEN cargo run --release -q -p sspr-client -- tenants verify --tenant {}",
            seed::TAILSPIN_DOMAIN
        );
        let _ = writeln!(
            text,
            "  SSPR_TOKEN=$SSPR_ADMIN_TOKEN cargo run --release -q -p sspr-client -- tenants add --tenant {} --credential default",
            seed::OPERATOR_DOMAIN
        );
        let _ = writeln!(
            text,
            "\n{} has the portal connector (values with source \"portal\"); {} has not (inferred or unavailable, with reasons).",
            seed::CONTOSO_DOMAIN,
            seed::FABRIKAM_DOMAIN
        );
        let store = self.service.store().location();
        let _ = match self.private_store {
            Some(_) => writeln!(
                text,
                "The audit trail is in {store}, removed when the demo stops (--store PATH keeps it)."
            ),
            None => writeln!(text, "The audit trail is kept in {store}."),
        };
        text
    }

    /// Stops the service and the emulator, then removes the default store.
    pub async fn stop(self) -> anyhow::Result<()> {
        drop(self.federation);
        self.service.stop().await?;
        self.emulator.shutdown().await;
        if let Some(dir) = self.private_store {
            dir.close()
                .context("cannot remove the demo's store directory")?;
        }
        Ok(())
    }
}
