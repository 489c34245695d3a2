//! The `sspr-service` binary: `serve` (default) or `demo`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sspr_service::telemetry::logging::{self, LogFormat};
use sspr_service::{Application, Config};

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
        /// Log format: `text` or `json` (one JSON object per line).
        #[arg(long, env = "SSPR_LOG_FORMAT", default_value = "text")]
        log_format: LogFormat,
        /// Log as JSON lines (the same as `--log-format json`; kept for existing deployments).
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
        log_format: LogFormat::Text,
        log_json: false,
    }) {
        Command::Serve {
            config,
            log_format,
            log_json,
        } => {
            let format = if log_json {
                LogFormat::Json
            } else {
                log_format
            };
            logging::init("info", format);
            let config = Config::load(config.as_deref())?;
            let app = Application::build(config).await?;
            tracing::info!(url = %app.url(), metrics_url = %app.metrics_url(), "sspr-service listening");
            app.run_until(async {
                let signal = shutdown_signal().await;
                tracing::info!(signal, "shutdown signal received");
            })
            .await?;
            tracing::info!("sspr-service stopped");
        }
        #[cfg(feature = "demo")]
        Command::Demo {
            port,
            emulator_port,
            store,
        } => {
            // The banner is the point of the demo; keep the log to warnings unless asked.
            logging::init("warn", LogFormat::Text);
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

/// Ctrl-C, or SIGTERM as Kubernetes sends it: which one came.
async fn shutdown_signal() -> &'static str {
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
        () = ctrl_c => "SIGINT",
        () = terminate => "SIGTERM",
    }
}
