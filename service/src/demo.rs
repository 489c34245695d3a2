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
    let every_demo_tenant: Vec<String> = TENANTS.iter().map(|t| t.1.to_owned()).collect();
    Config {
        listen,
        auth: AuthConfig {
            issuers: vec![IssuerConfig {
                discovery_url: emulator.discovery_url(seed::OPERATOR_ID),
                audience: seed::SERVICE_AUDIENCE.to_owned(),
            }],
            access: [seed::DEMO_OPERATOR_OID, seed::CLI_APP_CLIENT_ID]
                .into_iter()
                .map(|principal| AccessGrant {
                    principal: principal.to_owned(),
                    tenants: every_demo_tenant.clone(),
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
        tenancy: Default::default(),
        default_app: None,
        partner: Default::default(),
        // A fresh file per start, so tests never share (or inherit) audit records; `start`
        // gives the demo its own (private or `--store`) file instead.
        store: crate::config::StoreConfig {
            path: std::env::temp_dir().join(format!("sspr-demo-{}.db", uuid::Uuid::new_v4())),
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
    let private_store = match options.store {
        Some(path) => {
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
    Ok(Demo {
        emulator,
        service,
        token,
        admin_token,
        private_store,
    })
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
            "  tenants   {} (Entra ID P1, synced from on-premises), {} (no P1, cloud only)\n",
            seed::CONTOSO_DOMAIN,
            seed::FABRIKAM_DOMAIN
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
            "  SSPR_TOKEN=$SSPR_ADMIN_TOKEN cargo run --release -q -p sspr-client -- audit list"
        );
        let _ = writeln!(
            text,
            "\n{} has the portal connector (values with source \"portal\"); {} has not (inferred or unavailable, with reasons).",
            seed::CONTOSO_DOMAIN,
            seed::FABRIKAM_DOMAIN
        );
        let store = self.service.store().path().display();
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
        self.service.stop().await?;
        self.emulator.shutdown().await;
        if let Some(dir) = self.private_store {
            dir.close()
                .context("cannot remove the demo's store directory")?;
        }
        Ok(())
    }
}
