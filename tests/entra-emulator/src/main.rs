//! `entra-emulator serve`: run the emulator standalone (for the demo and manual testing).

use std::{net::SocketAddr, path::PathBuf, time::Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use entra_emulator::{Emulator, EmulatorConfig, GeneratorSpec, Tenant, seed};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    version,
    about = "Emulator of the Entra ID token endpoint and Microsoft Graph over HTTPS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve until Ctrl-C.
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8443")]
        bind: SocketAddr,
        /// Where to write the CA certificate PEM (default: a new file in the temp directory).
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// Write a JSON manifest (URLs, CA file, control key, tenants with their app
        /// registration and delegated admin) to this file.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Generate this many tenants in addition to the three seeded ones.
        #[arg(long, default_value_t = 0)]
        tenants: usize,
        /// Users per generated tenant.
        #[arg(long, default_value_t = 100)]
        users: usize,
        /// Seed of the generator: the same seed gives the same tenants, users and ids.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "entra_emulator=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let Command::Serve {
        bind,
        ca_file,
        manifest,
        tenants,
        users,
        seed,
    } = Cli::parse().command;
    let started = Instant::now();
    let emulator = Emulator::start(EmulatorConfig {
        bind,
        ca_file,
        generate: (tenants > 0).then_some(GeneratorSpec {
            tenants,
            users_per_tenant: users,
            seed,
        }),
        ..EmulatorConfig::default()
    })
    .await?;
    let tenants =
        emulator.with_directory(|d| d.tenants.iter().map(TenantSummary::of).collect::<Vec<_>>());

    println!(
        "entra-emulator listening on {} (started in {:.2} s)",
        emulator.base_url(),
        started.elapsed().as_secs_f64()
    );
    println!("CA certificate: {}", emulator.ca_file().display());
    println!("Graph base URL: {}", emulator.graph_base_url());
    println!("control key: {}", emulator.control_key());
    // A few hundred tenant lines help nobody; the manifest has them all.
    for t in tenants.iter().take(SUMMARY_LINES) {
        println!(
            "tenant {} {} ({}, {} users{}{})",
            t.id,
            t.domain,
            t.display_name,
            t.users,
            if t.premium { ", P1" } else { "" },
            if t.synced { ", synced" } else { "" }
        );
    }
    if tenants.len() > SUMMARY_LINES {
        println!("… and {} more tenants", tenants.len() - SUMMARY_LINES);
    }
    println!(
        "graph app  client_id={} client_secret={}",
        seed::GRAPH_APP_CLIENT_ID,
        emulator.graph_app_secret()
    );
    println!(
        "cli app    client_id={} client_secret={}",
        seed::CLI_APP_CLIENT_ID,
        emulator.cli_app_secret()
    );
    println!("service audience: {}", seed::SERVICE_AUDIENCE);

    if let Some(path) = manifest {
        let doc = manifest_json(&emulator, &tenants);
        let text = serde_json::to_string_pretty(&doc)?;
        std::fs::write(&path, text)
            .with_context(|| format!("writing manifest {}", path.display()))?;
        println!("manifest: {}", path.display());
    }

    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    emulator.shutdown().await;
    Ok(())
}

/// Tenants printed on start-up before eliding the rest.
const SUMMARY_LINES: usize = 20;

/// What the manifest and the start-up banner say about a tenant.
struct TenantSummary {
    id: String,
    domain: String,
    display_name: String,
    premium: bool,
    synced: bool,
    users: usize,
    /// Our multi-tenant app holds every Graph permission the service needs here (customer
    /// tenants; the operator tenant is its home, where it holds none).
    app_consented: bool,
    /// The Graph application permissions the app holds here (empty where it has no principal):
    /// partial consent, like Tailspin's, shows as a shorter list.
    granted_permissions: Vec<String>,
}

impl TenantSummary {
    fn of(t: &Tenant) -> TenantSummary {
        let granted_permissions = t
            .principal_for_app(seed::GRAPH_APP_CLIENT_ID)
            .and_then(|sp| sp.granted_app_roles.get(seed::GRAPH_FIRST_PARTY_APP_ID))
            .cloned()
            .unwrap_or_default();
        let app_consented = seed::GRAPH_APP_PERMISSIONS
            .iter()
            .all(|p| granted_permissions.iter().any(|g| g == p));
        TenantSummary {
            id: t.id.clone(),
            domain: t.domain.clone(),
            display_name: t.display_name.clone(),
            premium: t.premium,
            synced: t.synced,
            users: t.users.len(),
            app_consented,
            granted_permissions,
        }
    }
}

/// The manifest: everything a client (the service's demo, a benchmark, a runbook) needs to
/// reach every tenant without reading the emulator's output.
fn manifest_json(emulator: &Emulator, tenants: &[TenantSummary]) -> Value {
    let graph_app = json!({
        "clientId": seed::GRAPH_APP_CLIENT_ID,
        "clientSecret": emulator.graph_app_secret(),
    });
    let tenants: Vec<Value> = tenants
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "domain": t.domain,
                "displayName": t.display_name,
                "premium": t.premium,
                "synced": t.synced,
                "users": t.users,
                "tokenUrl": format!("{}{}/oauth2/v2.0/token", emulator.authority_host(), t.id),
                // The app registration granted every application permission the service needs;
                // null where it is not consented (its home tenant).
                "app": if t.app_consented { graph_app.clone() } else { Value::Null },
                "grantedPermissions": t.granted_permissions,
                // Refresh token of the tenant's delegated Global Administrator, for the portal
                // back end (public client, no secret); null if the tenant has none.
                "admin": emulator
                    .admin_refresh_token(&t.id)
                    .map(|token| json!({ "refreshToken": token })),
            })
        })
        .collect();
    json!({
        "baseUrl": emulator.base_url(),
        "graphBaseUrl": emulator.graph_base_url(),
        "caFile": emulator.ca_file(),
        "controlKey": emulator.control_key(),
        "serviceAudience": seed::SERVICE_AUDIENCE,
        "graphApp": graph_app,
        "cliApp": { "clientId": seed::CLI_APP_CLIENT_ID, "clientSecret": emulator.cli_app_secret() },
        // Where admin consent for the graph app sends the administrator back to.
        "consentRedirectUri": seed::CONSENT_REDIRECT_URI,
        // The service's user-assigned managed identity and the IMDS-shaped endpoint for its tokens.
        "managedIdentity": {
            "endpoint": emulator.managed_identity_endpoint(),
            "clientId": seed::SERVICE_UAMI_CLIENT_ID,
            "principalId": seed::SERVICE_UAMI_PRINCIPAL_ID,
        },
        // The demo cluster's service-account issuer, trusted by the graph app for
        // `subject`; mint its tokens with `POST /_emulator/service-account-token`.
        "serviceAccount": {
            "issuer": emulator.service_account_issuer(seed::DEMO_CLUSTER),
            "cluster": seed::DEMO_CLUSTER,
            "subject": seed::DEMO_SERVICE_ACCOUNT_SUBJECT,
        },
        "tenants": tenants,
    })
}
