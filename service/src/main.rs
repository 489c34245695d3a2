//! The `sspr-service` binary: `serve` (default) or `demo`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sspr_service::{Application, Config};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "sspr-service",
    version,
    about = "Entra ID self-service password reset management service"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the REST API with the given configuration (the default).
    Serve {
        /// TOML configuration file; `SSPR_*` environment variables override it.
        #[arg(long, env = "SSPR_CONFIG")]
        config: Option<PathBuf>,
        /// Log as JSON lines instead of text.
        #[arg(long, env = "SSPR_LOG_JSON")]
        log_json: bool,
    },
    /// Start the emulator and the service on loopback and print a token and examples.
    #[cfg(feature = "demo")]
    Demo {
        /// Service port (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Emulator port (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        emulator_port: u16,
        /// Keep the store (the audit trail) in this SQLite file and reuse it next time; without
        /// it the store is a private temporary file, removed when the demo stops.
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve {
        config: None,
        log_json: false,
    }) {
        Command::Serve { config, log_json } => {
            init_logging("info", log_json);
            let config = Config::load(config.as_deref())?;
            let app = Application::build(config).await?;
            tracing::info!(url = %app.url(), "sspr-service listening");
            app.run_until(shutdown_signal()).await?;
        }
        #[cfg(feature = "demo")]
        Command::Demo {
            port,
            emulator_port,
            store,
        } => {
            // The banner is the point of the demo; keep the log to warnings unless asked.
            init_logging("warn", false);
            let demo = sspr_service::demo::start(sspr_service::demo::DemoOptions {
                port,
                emulator_port,
                store,
            })
            .await?;
            println!("{}", demo.banner());
            shutdown_signal().await;
            eprintln!("stopping…");
            demo.stop().await?;
        }
    }
    Ok(())
}

fn init_logging(default: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Ctrl-C, or SIGTERM as Kubernetes sends it.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
