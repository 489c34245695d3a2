//! `sspr`: read the self-service password reset policy of managed tenants.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sspr_client::{
    AuditFilter, Auth, ClientError, ClientOptions, SsprClient, render, token_url_for_authority,
};
use url::Url;

/// Read the self-service password reset (SSPR) policy of the Entra tenants the sspr service manages.
#[derive(Parser, Debug)]
#[command(
    name = "sspr",
    version,
    after_help = "Exit codes: 0 ok, 2 usage, 3 authentication/authorization, 4 not found, 5 server/upstream/connection."
)]
struct Cli {
    /// Base URL of the sspr service.
    #[arg(
        long,
        env = "SSPR_URL",
        default_value = "http://127.0.0.1:8080/",
        global = true
    )]
    url: Url,

    /// Bearer token (JWT) for the service; alternative to client credentials.
    #[arg(long, env = "SSPR_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,

    /// Authority for client credentials, e.g. https://login.microsoftonline.com/<tenant-id>/.
    #[arg(long, env = "SSPR_AUTHORITY", global = true)]
    authority: Option<Url>,

    /// Application (client) id for client credentials.
    #[arg(long, env = "SSPR_CLIENT_ID", global = true)]
    client_id: Option<String>,

    /// Client secret for client credentials.
    #[arg(
        long,
        env = "SSPR_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    client_secret: Option<String>,

    /// Scope requested with client credentials.
    #[arg(
        long,
        env = "SSPR_SCOPE",
        default_value = "api://sspr/.default",
        global = true
    )]
    scope: String,

    /// Extra trusted root CA (PEM) for an https service URL and the authority.
    #[arg(long, env = "SSPR_CA_FILE", global = true)]
    ca_file: Option<PathBuf>,

    /// Output format.
    #[arg(long, env = "SSPR_OUTPUT", value_enum, default_value_t = Output::Table, global = true)]
    output: Output,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Output {
    Json,
    Table,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Tenants you may act on.
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// A tenant's SSPR policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The audit trail of write attempts (needs the SSPR.Admin role).
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// List audit records, newest first, of the tenants you may access.
    List {
        /// Only this tenant (id or domain).
        #[arg(long)]
        tenant: Option<String>,
        /// Only this actor: object id, user principal name or application id.
        #[arg(long)]
        actor: Option<String>,
        /// Only records at or after this RFC 3339 time, e.g. 2026-01-31T08:00:00Z.
        #[arg(long)]
        since: Option<String>,
        /// Only records with this outcome.
        #[arg(long, value_parser = ["succeeded", "failed", "rolledBack", "refused"])]
        outcome: Option<String>,
        /// Records per page (1 to 500; the service's default is 50).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: Option<u32>,
        /// Follow every page instead of stopping after the first.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand, Debug)]
enum TenantsCommand {
    /// List the tenants you may act on.
    List,
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Show a tenant's SSPR policy, every group with where its values came from.
    Get {
        /// Tenant id or domain.
        #[arg(long, env = "SSPR_TENANT")]
        tenant: String,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            report(&error);
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(5))
        }
    }
}

/// Runs the command and returns everything to print on stdout, so nothing is printed on error.
async fn run(cli: Cli) -> Result<String, ClientError> {
    let auth = resolve_auth(&cli)?;
    let options = ClientOptions {
        ca_file: cli.ca_file.clone(),
        ..ClientOptions::default()
    };
    let client = SsprClient::new(cli.url.clone(), auth, options)?;
    match &cli.command {
        Command::Tenants(TenantsCommand::List) => {
            let tenants = client.list_tenants().await?;
            match cli.output {
                Output::Json => to_json(&tenants),
                Output::Table => Ok(render::tenants_table(&tenants, None)),
            }
        }
        Command::Audit(AuditCommand::List {
            tenant,
            actor,
            since,
            outcome,
            limit,
            all,
        }) => {
            let filter = AuditFilter {
                tenant: tenant.clone(),
                actor: actor.clone(),
                since: since.clone(),
                outcome: outcome.clone(),
                limit: *limit,
                cursor: None,
            };
            let records = if *all {
                client.list_audit_all(&filter).await?
            } else {
                let page = client.list_audit(&filter).await?;
                if page.next_link.is_some() {
                    eprintln!("More records exist: add --all to list every page.");
                }
                page.records
            };
            match cli.output {
                Output::Json => to_json(&records),
                Output::Table => {
                    // Domains read better than ids; without the tenant list, ids it is.
                    let tenants = client.list_tenants().await.unwrap_or_default();
                    Ok(sspr_client::audit::audit_table(&records, &tenants, None))
                }
            }
        }
        Command::Policy(PolicyCommand::Get { tenant }) => {
            let policy = client.get_policy(tenant).await?;
            match cli.output {
                Output::Json => to_json(&policy),
                Output::Table => Ok(render::policy_table(&policy, None)),
            }
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<String, ClientError> {
    serde_json::to_string_pretty(value).map_err(|e| ClientError::Decode(e.to_string()))
}

/// A token when given, else complete client credentials, else an authentication error
/// naming what to set.
fn resolve_auth(cli: &Cli) -> Result<Auth, ClientError> {
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if let Some(token) = given(&cli.token) {
        return Ok(Auth::Token(token));
    }
    let client_id = given(&cli.client_id);
    let client_secret = given(&cli.client_secret);
    match (&cli.authority, client_id, client_secret) {
        (Some(authority), Some(client_id), Some(client_secret)) => Ok(Auth::ClientCredentials {
            token_url: token_url_for_authority(authority)?,
            client_id,
            client_secret,
            scope: cli.scope.clone(),
        }),
        (None, None, None) => Err(ClientError::Auth(
            "no credentials: set SSPR_TOKEN (--token), or SSPR_AUTHORITY, SSPR_CLIENT_ID and SSPR_CLIENT_SECRET \
             (--authority, --client-id, --client-secret) for client credentials"
                .into(),
        )),
        (authority, client_id, client_secret) => {
            let missing: Vec<&str> = [
                (authority.is_none(), "SSPR_AUTHORITY (--authority)"),
                (client_id.is_none(), "SSPR_CLIENT_ID (--client-id)"),
                (client_secret.is_none(), "SSPR_CLIENT_SECRET (--client-secret)"),
            ]
            .into_iter()
            .filter_map(|(absent, name)| absent.then_some(name))
            .collect();
            Err(ClientError::Auth(format!(
                "incomplete client credentials: also set {}, or set SSPR_TOKEN (--token) instead",
                missing.join(" and ")
            )))
        }
    }
}

fn report(error: &ClientError) {
    eprintln!("error: {error}");
    if let Some(problem) = error.problem() {
        if let Some(field) = problem.extension_str("field") {
            eprintln!("field: {field}");
        }
        if let Some(id) = &problem.request_id {
            eprintln!("request id: {id}");
        }
        if let Some(id) = problem.upstream_request_id() {
            eprintln!("upstream request id: {id}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("sspr").chain(args.iter().copied()))
            .expect("valid arguments")
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn token_wins_over_client_credentials() {
        let cli = parse(&["--token", "jwt", "--client-id", "id", "tenants", "list"]);
        assert!(matches!(resolve_auth(&cli), Ok(Auth::Token(t)) if t == "jwt"));
    }

    #[test]
    fn client_credentials_use_the_authority_token_endpoint() {
        let cli = parse(&[
            "policy",
            "get",
            "--tenant",
            "contoso.com",
            "--authority",
            "https://login.microsoftonline.com/3f2b",
            "--client-id",
            "id",
            "--client-secret",
            "secret",
        ]);
        match resolve_auth(&cli) {
            Ok(Auth::ClientCredentials {
                token_url, scope, ..
            }) => {
                assert_eq!(
                    token_url.as_str(),
                    "https://login.microsoftonline.com/3f2b/oauth2/v2.0/token"
                );
                assert_eq!(scope, "api://sspr/.default");
            }
            other => panic!("expected client credentials, got {other:?}"),
        }
    }

    #[test]
    fn incomplete_credentials_name_what_is_missing() {
        let cli = parse(&["tenants", "list", "--client-id", "id"]);
        let error = resolve_auth(&cli).expect_err("incomplete");
        assert_eq!(error.exit_code(), 3);
        let message = error.to_string();
        assert!(
            message.contains("SSPR_AUTHORITY") && message.contains("SSPR_CLIENT_SECRET"),
            "{message}"
        );
        assert!(!message.contains("SSPR_CLIENT_ID ("), "{message}");
    }
}
