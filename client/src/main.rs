//! `sspr`: read and change the self-service password reset policy of managed tenants.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;
use sspr_client::policy::{self, PatchFlags, PolicyPlan};
use sspr_client::protection::{self, ProtectionFlags};
use sspr_client::registrations;
use sspr_client::{
    AuditFilter, Auth, ClientError, ClientOptions, SsprClient, render, token_url_for_authority,
};
use url::Url;

/// Read and change the self-service password reset (SSPR) policy of the Entra tenants the sspr
/// service manages.
#[derive(Parser, Debug)]
#[command(
    name = "sspr",
    version,
    after_help = "Exit codes: 0 ok, 2 usage or a change the policy rules refuse, 3 authentication/authorization, 4 not found, 5 server/upstream/connection, a listing that broke off, a fleet summary with a failed tenant, or the policy changed since it was read (run again)."
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
    /// Who has registered for SSPR and MFA, from Graph's registration report (needs Entra ID
    /// P1 or P2 in the tenant).
    #[command(subcommand)]
    Registrations(RegistrationsCommand),
    /// The Conditional Access policy that guards security-info registration: plan it, grade what
    /// the tenant has, deploy it report-only, promote it (needs Entra ID P1 or P2).
    #[command(subcommand)]
    RegistrationProtection(ProtectionCommand),
}

#[derive(Subcommand, Debug)]
enum ProtectionCommand {
    /// Plan the policy for a tenant: its Graph JSON, findings, the break-glass accounts it
    /// excludes, and the users who must still register. Changes nothing.
    Plan {
        /// Tenant id or domain.
        #[arg(long, env = "SSPR_TENANT")]
        tenant: String,
        #[command(flatten)]
        flags: ProtectionFlags,
        /// The state to plan for (default: the current policy's, else report-only).
        #[arg(long, value_enum)]
        state: Option<protection::State>,
    },
    /// Grade every policy on the registration action, with the reasons.
    Status {
        /// Tenant id or domain.
        #[arg(long, env = "SSPR_TENANT")]
        tenant: String,
        /// Declared break-glass user ids (comma-separated), besides the discovered ones.
        #[arg(long, value_name = "ID,…", value_delimiter = ',')]
        break_glass_users: Vec<String>,
        /// Declared break-glass group ids (comma-separated).
        #[arg(long, value_name = "ID,…", value_delimiter = ',')]
        break_glass_groups: Vec<String>,
    },
    /// Deploy the policy: create it (report-only), or update the one with the marker, keeping
    /// its state. Never makes a duplicate. Needs SSPR.ReadWrite.
    Apply {
        /// Tenant id or domain.
        #[arg(long, env = "SSPR_TENANT")]
        tenant: String,
        #[command(flatten)]
        flags: ProtectionFlags,
        /// Deploy in this state instead.
        #[arg(long, value_enum)]
        state: Option<protection::State>,
        /// Go ahead although the plan has errors.
        #[arg(long)]
        force: bool,
    },
    /// Enforce the policy (state enabled); refused while the plan has errors unless --force.
    Promote {
        /// Tenant id or domain.
        #[arg(long, env = "SSPR_TENANT")]
        tenant: String,
        #[command(flatten)]
        flags: ProtectionFlags,
        /// Enforce although the plan has errors.
        #[arg(long)]
        force: bool,
    },
    /// Print the policy's Graph JSON for the options, without reading any tenant (table output:
    /// the JSON on stdout, the findings on stderr).
    Generate {
        #[command(flatten)]
        flags: ProtectionFlags,
        /// The state to generate (the service's default: report-only).
        #[arg(long, value_enum)]
        state: Option<protection::State>,
    },
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
        #[arg(long, value_parser = ["attempted", "succeeded", "failed", "rolledBack", "refused", "noChange", "unknown"])]
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
enum RegistrationsCommand {
    /// List users' registration details, printed as they arrive (progress on stderr).
    List {
        /// Tenant id or domain.
        #[arg(long, env = "SSPR_TENANT")]
        tenant: String,
        #[command(flatten, next_help_heading = "Filters")]
        filter: registrations::RegistrationFilter,
        /// Output format (default: table, or json with --output json).
        #[arg(long, value_enum)]
        format: Option<registrations::ListFormat>,
        /// No progress on stderr.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Counts per feature and method, and the gaps: for one tenant, some, or all of them.
    #[command(group(
        clap::ArgGroup::new("which").required(true).args(["tenant", "tenants", "all_tenants"])
    ))]
    Summary {
        /// One tenant (id or domain).
        #[arg(long)]
        tenant: Option<String>,
        /// Several tenants, comma-separated: each printed as it completes.
        #[arg(long, value_delimiter = ',', value_name = "TENANT,…")]
        tenants: Vec<String>,
        /// Every tenant you may access, each printed as it completes.
        #[arg(long)]
        all_tenants: bool,
        /// Accept the service's copy of Graph's report if it is at most this old (seconds; 0
        /// reads Graph afresh).
        #[arg(long, value_name = "SECS")]
        max_age: Option<u64>,
        /// Output format (default: table, or json with --output json).
        #[arg(long, value_enum)]
        format: Option<registrations::SummaryFormat>,
    },
}

#[derive(Subcommand, Debug)]
enum TenantsCommand {
    /// List the tenants you may act on.
    List,
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Show a tenant's SSPR policy, every group with where its values came from, and findings.
    Get {
        /// Tenant id or domain.
        #[arg(long, env = "SSPR_TENANT")]
        tenant: String,
    },
    /// Show what a change would do (a dry run): the fields it changes, the Graph and portal calls
    /// it makes, and the findings after it. Changes nothing.
    Diff {
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Change a tenant's SSPR policy: print the plan, ask, apply, and show the result.
    Set {
        /// Print the plan and stop.
        #[arg(long)]
        dry_run: bool,
        /// Apply without asking (needed when standard input is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        change: ChangeArgs,
    },
}

/// The tenant and the change: a merge patch file, or setting flags.
#[derive(Args, Debug)]
struct ChangeArgs {
    /// Tenant id or domain.
    #[arg(long, env = "SSPR_TENANT")]
    tenant: String,
    /// A JSON merge patch (RFC 7396) over the policy's editable fields, in JSON (.json) or YAML
    /// (.yaml, .yml), e.g. {"registration": {"reconfirmDays": 90}}.
    #[arg(long, value_name = "FILE", conflicts_with = "flags")]
    file: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Settings to change (instead of --file)")]
    flags: PatchFlags,
}

impl ChangeArgs {
    /// The merge patch to send; refuses an empty one.
    fn patch(&self) -> Result<Value, Failure> {
        let (patch, empty) = match &self.file {
            Some(file) => (
                policy::read_patch_file(file)?,
                format!("{} is an empty merge patch", file.display()),
            ),
            None => (
                self.flags.to_merge_patch().map_err(Failure::Usage)?,
                "give --file or a setting such as --reconfirm-days 90 (see --help)".to_owned(),
            ),
        };
        if patch.as_object().is_some_and(serde_json::Map::is_empty) {
            return Err(Failure::Usage(format!("nothing to change: {empty}")));
        }
        Ok(patch)
    }
}

/// Why a command failed: the client's error, or a refusal of the command line itself.
#[derive(Debug)]
enum Failure {
    Client(ClientError),
    /// A usage error (exit code 2).
    Usage(String),
    /// Part of the work failed, or the output could not be written (exit code 5).
    Incomplete(String),
}

impl From<registrations::OutputError> for Failure {
    fn from(error: registrations::OutputError) -> Self {
        match error {
            registrations::OutputError::Client(error) => Failure::Client(error),
            registrations::OutputError::Write(error) => Failure::Incomplete(error.to_string()),
        }
    }
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Self {
        Failure::Client(error)
    }
}

impl Failure {
    fn exit_code(&self) -> i32 {
        match self {
            Failure::Client(error) => error.exit_code(),
            Failure::Usage(_) => 2,
            Failure::Incomplete(_) => 5,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(output) => {
            if !output.is_empty() {
                println!("{output}");
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            match &failure {
                Failure::Client(error) => report(error),
                Failure::Usage(message) | Failure::Incomplete(message) => {
                    eprintln!("error: {message}");
                }
            }
            ExitCode::from(u8::try_from(failure.exit_code()).unwrap_or(5))
        }
    }
}

/// Runs the command and returns what to print on stdout last. Only `policy set` prints before
/// (its plan, before asking); everything else prints nothing on error.
async fn run(cli: Cli) -> Result<String, Failure> {
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
        Command::Registrations(command) => {
            registrations_command(&client, cli.output, command).await
        }
        Command::RegistrationProtection(command) => {
            protection_command(&client, cli.output, command).await
        }
        Command::Policy(PolicyCommand::Get { tenant }) => {
            let policy = client.get_policy(tenant).await?;
            match cli.output {
                Output::Json => to_json(&policy),
                Output::Table => Ok(policy::document_text(&policy, None, None)),
            }
        }
        Command::Policy(PolicyCommand::Diff { change }) => {
            let planned = plan(&client, change).await?;
            match cli.output {
                Output::Json => to_json(&planned.json),
                Output::Table => Ok(planned.text),
            }
        }
        Command::Policy(PolicyCommand::Set {
            change,
            dry_run,
            yes,
        }) => set(&client, cli.output, change, *dry_run, *yes).await,
    }
}

/// `sspr registrations …`: writes to stdout as results arrive, so returns nothing to print.
async fn registrations_command(
    client: &SsprClient,
    output: Output,
    command: &RegistrationsCommand,
) -> Result<String, Failure> {
    let mut stdout = std::io::BufWriter::new(std::io::stdout());
    let result = match command {
        RegistrationsCommand::List {
            tenant,
            filter,
            format,
            quiet,
        } => {
            let format = format.unwrap_or(match output {
                Output::Json => registrations::ListFormat::Json,
                Output::Table => registrations::ListFormat::Table,
            });
            let mut progress = registrations::Progress::stderr(*quiet);
            registrations::write_listing(client, tenant, filter, format, &mut stdout, &mut progress)
                .await
                .map(|_| ())
        }
        RegistrationsCommand::Summary {
            tenant,
            tenants,
            all_tenants,
            max_age,
            format,
        } => {
            let format = format.unwrap_or(match output {
                Output::Json => registrations::SummaryFormat::Json,
                Output::Table => registrations::SummaryFormat::Table,
            });
            if let Some(tenant) = tenant {
                let summary = client.registrations_summary(tenant, *max_age).await?;
                registrations::write_summary(&summary, format, &mut stdout)
            } else {
                let which = if *all_tenants {
                    registrations::FleetTenants::All
                } else {
                    registrations::FleetTenants::Named(tenants.clone())
                };
                let outcome =
                    registrations::write_fleet(client, &which, format, *max_age, &mut stdout)
                        .await?;
                if !outcome.failed.is_empty() {
                    let which: Vec<String> = outcome
                        .failed
                        .iter()
                        .map(|(tenant, what)| format!("{tenant} ({what})"))
                        .collect();
                    return Err(Failure::Incomplete(format!(
                        "{} of {} tenants failed: {}",
                        outcome.failed.len(),
                        outcome.tenants,
                        which.join(", ")
                    )));
                }
                Ok(())
            }
        }
    };
    match result {
        // The reader went away (e.g. `| head`): what it wanted was printed.
        Err(registrations::OutputError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(String::new())
        }
        Err(error) => Err(error.into()),
        Ok(()) => Ok(String::new()),
    }
}

async fn protection_command(
    client: &SsprClient,
    output: Output,
    command: &ProtectionCommand,
) -> Result<String, Failure> {
    let (value, text) = match command {
        ProtectionCommand::Generate { flags, state } => {
            let options = protection::with_state(flags.to_options(), *state, false);
            let generated = client.protection_generate(&options).await?;
            return match output {
                Output::Json => to_json(&generated),
                // The JSON is the artefact; the findings go where a person reads them.
                Output::Table => {
                    for finding in generated["findings"].as_array().into_iter().flatten() {
                        eprintln!(
                            "{}: {}",
                            finding["severity"].as_str().unwrap_or_default(),
                            finding["message"].as_str().unwrap_or_default()
                        );
                    }
                    to_json(&generated["policy"])
                }
            };
        }
        ProtectionCommand::Plan {
            tenant,
            flags,
            state,
        } => {
            let options = protection::with_state(flags.to_options(), *state, false);
            let plan = client.protection_plan(tenant, &options).await?;
            let text = protection::plan_text(&plan);
            (plan, text)
        }
        ProtectionCommand::Status {
            tenant,
            break_glass_users,
            break_glass_groups,
        } => {
            let status = client
                .protection_status(tenant, break_glass_users, break_glass_groups)
                .await?;
            let text = protection::status_text(&status, None);
            (status, text)
        }
        ProtectionCommand::Apply {
            tenant,
            flags,
            state,
            force,
        } => {
            let options = protection::with_state(flags.to_options(), *state, *force);
            let applied = client.protection_apply(tenant, &options).await?;
            let text = protection::applied_text(&applied);
            (applied, text)
        }
        ProtectionCommand::Promote {
            tenant,
            flags,
            force,
        } => {
            let options = protection::with_state(
                flags.to_options(),
                Some(protection::State::Enabled),
                *force,
            );
            let applied = client.protection_apply(tenant, &options).await?;
            let text = protection::applied_text(&applied);
            (applied, text)
        }
    };
    match output {
        Output::Json => to_json(&value),
        Output::Table => Ok(text.trim_end().to_owned()),
    }
}

/// A dry run of a change, as JSON and as text.
struct Planned {
    patch: Value,
    etag: String,
    tenant_name: String,
    json: Value,
    plan: PolicyPlan,
    text: String,
    /// The document as read before the change.
    document: Value,
}

/// GET (for the ETag), then the dry run with that ETag.
async fn plan(client: &SsprClient, change: &ChangeArgs) -> Result<Planned, Failure> {
    let patch = change.patch()?;
    let (document, etag) = client.get_policy_with_etag(&change.tenant).await?;
    let json = client
        .patch_policy(&change.tenant, &patch, &etag, true)
        .await?;
    let plan = PolicyPlan::from_value(&json)?;
    let tenant_name = policy::tenant_name(&document, &change.tenant);
    let text = policy::plan_text(&plan, &tenant_name, None);
    Ok(Planned {
        patch,
        etag,
        tenant_name,
        json,
        plan,
        text,
        document,
    })
}

/// `policy set`: plan, print, confirm, apply with the ETag the plan was made from, show.
async fn set(
    client: &SsprClient,
    output: Output,
    change: &ChangeArgs,
    dry_run: bool,
    yes: bool,
) -> Result<String, Failure> {
    let planned = plan(client, change).await?;
    if dry_run {
        return match output {
            Output::Json => to_json(&planned.json),
            Output::Table => Ok(planned.text),
        };
    }
    if planned.plan.changes.is_empty() {
        return match output {
            Output::Json => to_json(&planned.document),
            Output::Table => Ok(planned.text),
        };
    }
    // The plan goes where a person reads it; in JSON mode stdout is kept for the result.
    match output {
        Output::Table => println!(
            "{}
",
            planned.text
        ),
        Output::Json => eprintln!(
            "{}
",
            planned.text
        ),
    }
    let n = planned.plan.changes.len();
    if !yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(Failure::Usage(format!(
                "standard input is not a terminal, so nobody can confirm: nothing was applied; \
                 pass --yes to apply {} without asking",
                policy::these_changes(n)
            )));
        }
        let question = format!(
            "Apply {} to {}?",
            policy::these_changes(n),
            planned.tenant_name
        );
        let confirmed = policy::confirm(&question, &mut stdin.lock(), &mut std::io::stderr())
            .map_err(|e| Failure::Usage(format!("cannot read the answer: {e}")))?;
        if !confirmed {
            eprintln!("Not applied: nothing was changed.");
            return Ok(String::new());
        }
    }
    let applied = client
        .patch_policy_response(&change.tenant, &planned.patch, &planned.etag, false)
        .await?;
    match output {
        Output::Json => to_json(&applied.document),
        Output::Table => {
            let groups = planned.plan.changed_groups();
            Ok(format!(
                "{}\nApplied {} to {}.",
                policy::document_text(&applied.document, Some(&groups), None),
                policy::count(n, "change"),
                planned.tenant_name
            ))
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Client(ClientError::Decode(e.to_string())))
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
    for line in report_lines(error) {
        eprintln!("{line}");
    }
}

/// What stderr says about an error: the problem, then what helps act on it.
fn report_lines(error: &ClientError) -> Vec<String> {
    let mut lines = Vec::new();
    let violations = error.violations();
    match error.problem() {
        // The detail repeats the violations; one per line reads better.
        Some(problem) if !violations.is_empty() => lines.push(format!("error: {}", problem.title)),
        _ => lines.push(format!("error: {error}")),
    }
    for violation in &violations {
        lines.push(format!("{}: {}", violation.pointer, violation.message));
    }
    if error.status() == Some(412) {
        lines.push(
            "The policy changed since it was read, so nothing was applied: run the command again to review the new plan."
                .to_owned(),
        );
    }
    if let Some(problem) = error.problem() {
        lines.extend(policy::apply_failure_lines(problem));
        if let Some(field) = problem.extension_str("field") {
            lines.push(format!("field: {field}"));
        }
        if let Some(pointer) = problem.extension_str("pointer") {
            lines.push(format!("pointer: {pointer}"));
        }
        if let Some(id) = &problem.request_id {
            lines.push(format!("request id: {id}"));
        }
        if let Some(id) = problem.upstream_request_id() {
            lines.push(format!("upstream request id: {id}"));
        }
    }
    lines
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
    fn a_change_is_a_file_or_flags_and_not_nothing() {
        let conflict = Cli::try_parse_from([
            "sspr",
            "policy",
            "set",
            "--tenant",
            "t",
            "--file",
            "p.json",
            "--notify-users",
            "on",
        ])
        .expect_err("conflict");
        assert_eq!(conflict.kind(), clap::error::ErrorKind::ArgumentConflict);

        let cli = parse(&["policy", "diff", "--tenant", "t"]);
        let Command::Policy(PolicyCommand::Diff { change }) = &cli.command else {
            panic!("diff expected");
        };
        match change.patch() {
            Err(Failure::Usage(message)) => assert!(message.contains("nothing to change")),
            other => panic!("{other:?}"),
        }
        assert_eq!(Failure::Usage(String::new()).exit_code(), 2);

        let cli = parse(&[
            "policy",
            "set",
            "--tenant",
            "t",
            "--notify-admins",
            "off",
            "--dry-run",
            "-y",
        ]);
        let Command::Policy(PolicyCommand::Set {
            change,
            dry_run,
            yes,
        }) = &cli.command
        else {
            panic!("set expected");
        };
        assert!(*dry_run && *yes);
        assert_eq!(
            change.patch().expect("patch"),
            serde_json::json!({"notifications": {"notifyAdminsOnAdminReset": false}})
        );

        // --scope stays the OAuth scope of client credentials; the SSPR scope is --enablement.
        let cli = parse(&[
            "policy",
            "diff",
            "--tenant",
            "t",
            "--scope",
            "api://x/.default",
            "--enablement",
            "all",
        ]);
        assert_eq!(cli.scope, "api://x/.default");
        let Command::Policy(PolicyCommand::Diff { change }) = &cli.command else {
            panic!("diff expected");
        };
        assert_eq!(
            change.patch().expect("patch"),
            serde_json::json!({"enablement": {"scope": "all"}})
        );
    }

    fn api(status: u16, body: &str) -> ClientError {
        ClientError::Api {
            status,
            problem: Box::new(sspr_client::Problem::from_response(
                status,
                body.as_bytes(),
                None,
            )),
        }
    }

    #[test]
    fn reports_say_what_to_do_about_a_refused_change() {
        let invalid = api(
            422,
            r#"{"title":"The change breaks the SSPR policy rules","detail":"/a: x; /b: y",
                "violations":[{"pointer":"/a","message":"x"},{"pointer":"/b","message":"y"}]}"#,
        );
        assert_eq!(
            report_lines(&invalid),
            [
                "error: The change breaks the SSPR policy rules",
                "/a: x",
                "/b: y"
            ]
        );
        assert_eq!(invalid.exit_code(), 2);

        let stale = api(
            412,
            r#"{"title":"The policy changed","detail":"Read it again."}"#,
        );
        let lines = report_lines(&stale);
        assert_eq!(lines[0], "error: The policy changed: Read it again.");
        assert!(lines[1].contains("run the command again"), "{lines:?}");
        assert_eq!(stale.exit_code(), 5);

        let unavailable = api(
            422,
            r#"{"title":"This setting cannot be changed for this tenant","detail":"Configure the portal connector.",
                "pointer":"/notifications/notifyUsersOnReset","source":"unavailable"}"#,
        );
        assert_eq!(
            report_lines(&unavailable),
            [
                "error: This setting cannot be changed for this tenant: Configure the portal connector.",
                "pointer: /notifications/notifyUsersOnReset"
            ]
        );

        let failed = api(
            502,
            r#"{"title":"The change failed upstream","detail":"The portal refused.","outcome":"rollbackFailed",
                "steps":[{"call":"PATCH /x — y","status":"undoFailed","error":"503"}]}"#,
        );
        let lines = report_lines(&failed);
        assert!(
            lines[1].starts_with("outcome: rollbackFailed (undoing failed"),
            "{lines:?}"
        );
        assert_eq!(lines[2], "step 1 [undoFailed]: PATCH /x — y; error: 503");
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
