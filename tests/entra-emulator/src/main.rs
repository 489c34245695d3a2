//! `entra-emulator serve`: run the emulator standalone (for the demo and manual testing).

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use entra_emulator::{Emulator, EmulatorConfig, seed};
use serde_json::json;

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
        /// Write a JSON manifest (URLs, CA file, tenants, client ids and secrets) to this file.
        #[arg(long)]
        manifest: Option<PathBuf>,
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
    } = Cli::parse().command;
    let emulator = Emulator::start(EmulatorConfig { bind, ca_file }).await?;

    let tenants: Vec<_> = emulator.with_directory(|d| {
        d.tenants
            .iter()
            .map(|t| json!({ "id": t.id, "domain": t.domain, "displayName": t.display_name, "premium": t.premium, "synced": t.synced }))
            .collect()
    });

    println!("entra-emulator listening on {}", emulator.base_url());
    println!("CA certificate: {}", emulator.ca_file().display());
    println!("Graph base URL: {}", emulator.graph_base_url());
    for t in &tenants {
        println!(
            "tenant {} {} ({})",
            t["id"].as_str().unwrap_or_default(),
            t["domain"].as_str().unwrap_or_default(),
            t["displayName"].as_str().unwrap_or_default()
        );
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
        let doc = json!({
            "baseUrl": emulator.base_url(),
            "caFile": emulator.ca_file(),
            "tenants": tenants,
            "graphApp": { "clientId": seed::GRAPH_APP_CLIENT_ID, "clientSecret": emulator.graph_app_secret() },
            "cliApp": { "clientId": seed::CLI_APP_CLIENT_ID, "clientSecret": emulator.cli_app_secret() },
            "serviceAudience": seed::SERVICE_AUDIENCE,
        });
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
