//! `sspr`: read and change the self-service password reset policy of managed tenants.

mod cli;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use serde_json::Value;
use sspr_client::error::{cli_problem, exit};
use sspr_client::policy::{self, PatchFlags, PolicyPlan};
use sspr_client::protection::{self, ProtectionAnswer, ProtectionFlags};
use sspr_client::registrations;
use sspr_client::types::Answer;

use cli::access::RoleChoice;
use cli::registrations::{ListFormat, OutputError, Progress, SummaryFormat, Unlicensed};
use cli::tenants::{CredentialFlags, SecretSources};
use cli::{audit, render, report};
use sspr_client::{
    AuditFilter, Auth, ClientError, ClientOptions, PolicyResponse, SsprClient, auth,
    auth::ClientCertificate, token_url_for_authority,
};
use url::Url;

/// The heading of the options every command takes.
const GLOBAL: &str = "Global options";

const AFTER_HELP: &str = "\
Examples:
  sspr tenants list
  sspr policy get --tenant contoso.onmicrosoft.com
  sspr --output json registrations summary --all-tenants

Exit codes:
  0  ok
  2  usage or invalid input (400, 422 and other 4xx)
  3  authentication or authorization (401, 403 other than the licence)
  4  not found (404)
  5  server or upstream (5xx, connection failures, a listing that broke off, a fleet
     tenant that failed)
  6  conflict or precondition (409, 412, 428): read again and retry
  7  the tenant lacks the licence or the connector the operation needs (licenseRequired,
     sourceUnavailable; with --strict, a fleet summary whose only failures are that)
  8  tenants verify: the tenant answered, but some features are unavailable there (missing
     permissions or licences; the verdict is printed, the missing ones named)

With --output json an error is one line of JSON on stderr: the service's problem document
(type, title, status, detail, code, …), or for an error without one (usage, connection, file)
a problem the CLI makes (type /problems/cli/…, no status).";

/// Read and change the self-service password reset (SSPR) policy of the Entra tenants the sspr
/// service manages.
#[derive(Parser, Debug)]
#[command(name = "sspr", version, after_help = AFTER_HELP)]
struct Cli {
    /// Base URL of the sspr service.
    #[arg(
        long,
        env = "SSPR_URL",
        default_value = "http://127.0.0.1:8080/",
        global = true,
        help_heading = GLOBAL
    )]
    url: Url,

    /// Bearer token (JWT) for the service, without the `Bearer ` prefix; alternative to client
    /// credentials.
    #[arg(long, env = "SSPR_TOKEN", hide_env_values = true, global = true, help_heading = GLOBAL)]
    token: Option<String>,

    /// Authority for client credentials, e.g. https://login.microsoftonline.com/<tenant-id>/.
    #[arg(long, env = "SSPR_AUTHORITY", global = true, help_heading = GLOBAL)]
    authority: Option<Url>,

    /// Application (client) id for client credentials.
    #[arg(long, env = "SSPR_CLIENT_ID", global = true, help_heading = GLOBAL)]
    client_id: Option<String>,

    /// Client secret for client credentials.
    #[arg(
        long,
        env = "SSPR_CLIENT_SECRET",
        hide_env_values = true,
        global = true,
        help_heading = GLOBAL
    )]
    client_secret: Option<String>,

    /// Scope requested with client credentials.
    #[arg(
        long,
        env = "SSPR_SCOPE",
        default_value = "api://sspr/.default",
        global = true,
        help_heading = GLOBAL
    )]
    scope: String,

    /// How to sign in to the service; without it, --token when given, else a client secret.
    #[arg(long, env = "SSPR_AUTH", value_enum, global = true, help_heading = GLOBAL)]
    auth: Option<AuthMethod>,

    /// Certificate (PEM) whose private key signs the client assertion (--auth certificate);
    /// the key may be in the same file.
    #[arg(long, env = "SSPR_CERTIFICATE", global = true, help_heading = GLOBAL)]
    certificate: Option<PathBuf>,

    /// Private key (PEM) of --certificate, when it is not in the certificate file.
    #[arg(long, env = "SSPR_PRIVATE_KEY", global = true, help_heading = GLOBAL)]
    private_key: Option<PathBuf>,

    /// Federated token file (--auth workload-identity); default AZURE_FEDERATED_TOKEN_FILE.
    #[arg(long, global = true, help_heading = GLOBAL)]
    federated_token_file: Option<PathBuf>,

    /// Instance metadata token endpoint (--auth managed-identity).
    #[arg(
        long,
        env = "SSPR_MANAGED_IDENTITY_ENDPOINT",
        default_value = auth::managed_identity::DEFAULT_ENDPOINT,
        global = true,
        help_heading = GLOBAL
    )]
    managed_identity_endpoint: Url,

    /// Extra trusted root CA (PEM) for an https service URL and the authority.
    #[arg(long, env = "SSPR_CA_FILE", global = true, help_heading = GLOBAL)]
    ca_file: Option<PathBuf>,

    /// Output format; with json, an error is one line of JSON on stderr.
    #[arg(
        long,
        env = "SSPR_OUTPUT",
        value_enum,
        default_value_t = Output::Table,
        global = true,
        help_heading = GLOBAL
    )]
    output: Output,

    #[command(subcommand)]
    command: Command,
}

/// The ways to sign in to the service (`--auth`, `SSPR_AUTH`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum AuthMethod {
    /// A bearer token: --token (SSPR_TOKEN).
    Token,
    /// Client credentials: --authority, --client-id, --client-secret.
    ClientSecret,
    /// A certificate's signed assertion: --authority, --client-id, --certificate.
    Certificate,
    /// The host's managed identity (IMDS); --client-id picks a user-assigned one.
    ManagedIdentity,
    /// A Kubernetes projected token as federated assertion (AZURE_* variables of the webhook).
    WorkloadIdentity,
    /// The signed-in Azure CLI (`az account get-access-token --resource <audience>`).
    AzureCli,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Output {
    Json,
    Table,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The tenants you may act on: list and show them; onboard, change and offboard them, their
    /// consent link and what works in each (the registry's changes need SSPR.Admin).
    #[command(
        subcommand,
        after_help = "\
Examples:
  sspr tenants list --tag region:eu
  sspr tenants add --tenant tailspin.onmicrosoft.com --tag region:us --credential default
  sspr tenants consent-url --tenant tailspin.onmicrosoft.com
  sspr tenants verify --tenant tailspin.onmicrosoft.com"
    )]
    Tenants(TenantsCommand),
    /// Who may act on which tenants: grants of tenants or tags to a principal, with a role (needs
    /// SSPR.Admin).
    #[command(
        subcommand,
        after_help = "\
Examples:
  sspr access list
  sspr access grant --principal 9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a --tenants tag:region:eu --role SSPR.Read"
    )]
    Access(AccessCommand),
    /// The MSP's own (partner) tenant: its GDAP customers, as tenants to onboard (needs
    /// SSPR.Admin).
    #[command(
        subcommand,
        after_help = "\
Examples:
  sspr partner customers
  sspr --output json partner customers"
    )]
    Partner(PartnerCommand),
    /// A tenant's SSPR policy.
    #[command(
        subcommand,
        after_help = "\
Examples:
  sspr policy get --tenant contoso.onmicrosoft.com
  sspr policy diff --tenant contoso.onmicrosoft.com --reconfirm-days 90
  sspr policy set --tenant contoso.onmicrosoft.com --notify-admins on --yes"
    )]
    Policy(PolicyCommand),
    /// The audit trail of write attempts (needs the SSPR.Admin role).
    #[command(
        subcommand,
        after_help = "\
Examples:
  sspr audit list --tenant contoso.onmicrosoft.com
  sspr audit list --outcome failed --all"
    )]
    Audit(AuditCommand),
    /// Who has registered for SSPR and MFA, from Graph's registration report (needs Entra ID
    /// P1 or P2 in the tenant).
    #[command(
        subcommand,
        after_help = "\
Examples:
  sspr registrations list --tenant contoso.onmicrosoft.com --sspr enabledNotRegistered
  sspr registrations summary --all-tenants"
    )]
    Registrations(RegistrationsCommand),
    /// The Conditional Access policy that guards security-info registration: plan it, grade what
    /// the tenant has, deploy it report-only, promote or demote it (needs Entra ID P1 or P2).
    #[command(
        subcommand,
        after_help = "\
Examples:
  sspr registration-protection plan --tenant contoso.onmicrosoft.com
  sspr registration-protection apply --tenant contoso.onmicrosoft.com --control mfa
  sspr registration-protection promote --tenant contoso.onmicrosoft.com"
    )]
    RegistrationProtection(ProtectionCommand),
    /// The SSPR guide's checklist: licences, writeback, who SSPR is for, methods and gates,
    /// registration, notifications, the helpdesk link, the Windows sign-in link, registration
    /// protection, MFA registration, coverage and Secure Score; each with what to do. For one
    /// tenant, some, or the whole fleet (each printed as it completes).
    #[command(after_help = "\
Examples:
  sspr readiness --tenant contoso.onmicrosoft.com
  sspr readiness --all-tenants
  sspr readiness --tenant contoso.onmicrosoft.com --format html > contoso.html
  sspr readiness --tenants tag:region:eu --format md")]
    Readiness {
        /// One tenant (id or domain).
        #[arg(long, conflicts_with_all = ["tenants", "all_tenants"])]
        tenant: Option<String>,
        /// Several tenants or tags (`tag:region:eu`), comma-separated.
        #[arg(
            long,
            value_delimiter = ',',
            value_name = "TENANT,…",
            conflicts_with = "all_tenants"
        )]
        tenants: Vec<String>,
        /// Every tenant you may access.
        #[arg(long)]
        all_tenants: bool,
        /// Output format (default: table, or json with --output json).
        #[arg(long, value_enum)]
        format: Option<cli::readiness::ReadinessFormat>,
    },
    /// A one-page guide for a tenant's users: where to register, where to reset, the Windows
    /// sign-in link, the helpdesk link (Markdown by default).
    #[command(after_help = "\
Examples:
  sspr user-guide --tenant contoso.onmicrosoft.com > guide.md
  sspr user-guide --tenant contoso.onmicrosoft.com --format html > guide.html")]
    UserGuide {
        #[command(flatten)]
        tenant: TenantArg,
        /// md (default), html, or json (the facts the guide tells).
        #[arg(long, value_enum)]
        format: Option<cli::readiness::GuideFormat>,
    },
    /// The Windows sign-in screen's "Reset password" link: its status from Intune, plan and
    /// deploy sspr's Intune policy, or print the registry scripts for devices outside Intune.
    #[command(
        subcommand,
        after_help = "\
Examples:
  sspr windows-reset-link status --tenant contoso.onmicrosoft.com
  sspr windows-reset-link apply --tenant contoso.onmicrosoft.com --all-devices
  sspr windows-reset-link script --tenant contoso.onmicrosoft.com --format powershell"
    )]
    WindowsResetLink(cli::windows_link::WindowsLinkCommand),
    /// Print this command line's own tree as JSON: every command, subcommand and flag, with the
    /// values each flag takes (for tools that wrap the CLI; always JSON, needs no sign-in).
    #[command(after_help = "\
Examples:
  sspr commands
  sspr commands --output json")]
    Commands,
}

/// `--tenant` of the commands about one tenant.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
struct TenantArg {
    /// Tenant id or domain.
    #[arg(
        id = "tenant",
        long = "tenant",
        value_name = "TENANT",
        env = "SSPR_TENANT"
    )]
    key: String,
}

/// `--dry-run` and `--yes` of the commands that change a tenant: they print the plan, then ask.
#[derive(Args, Debug, Clone, Copy, PartialEq, Eq)]
struct ConfirmArgs {
    /// Print the plan and stop.
    #[arg(long)]
    dry_run: bool,
    /// Apply without asking (needed when standard input is not a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
}

#[derive(Subcommand, Debug)]
enum ProtectionCommand {
    /// Plan the policy for a tenant: its Graph JSON, findings, the break-glass accounts it
    /// excludes, and the users who must still register. Changes nothing.
    #[command(after_help = "\
Examples:
  sspr registration-protection plan --tenant contoso.onmicrosoft.com
  sspr registration-protection plan --tenant contoso.onmicrosoft.com --control mfa --state enabled")]
    Plan {
        #[command(flatten)]
        tenant: TenantArg,
        #[command(flatten)]
        flags: ProtectionFlags,
        /// The state to plan for (default: the current policy's, else report-only).
        #[arg(long, value_enum)]
        state: Option<protection::State>,
    },
    /// Grade every policy on the registration action, with the reasons.
    #[command(after_help = "\
Examples:
  sspr registration-protection status --tenant contoso.onmicrosoft.com
  sspr --output json registration-protection status --tenant contoso.onmicrosoft.com")]
    Status {
        #[command(flatten)]
        tenant: TenantArg,
        /// Declared break-glass user ids (comma-separated), besides the discovered ones.
        #[arg(long, value_name = "ID,…", value_delimiter = ',')]
        break_glass_users: Vec<String>,
        /// Declared break-glass group ids (comma-separated).
        #[arg(long, value_name = "ID,…", value_delimiter = ',')]
        break_glass_groups: Vec<String>,
    },
    /// Deploy the policy: create it (report-only), or update the one with the marker, keeping
    /// its state. Never makes a duplicate. Prints the plan (the diff and the exact Graph call),
    /// then asks. Needs SSPR.ReadWrite.
    #[command(after_help = "\
Examples:
  sspr registration-protection apply --tenant contoso.onmicrosoft.com --dry-run
  sspr registration-protection apply --tenant contoso.onmicrosoft.com --control mfa
  sspr registration-protection apply --tenant contoso.onmicrosoft.com --control mfa --yes")]
    Apply {
        #[command(flatten)]
        tenant: TenantArg,
        #[command(flatten)]
        flags: ProtectionFlags,
        /// Deploy in this state instead.
        #[arg(long, value_enum)]
        state: Option<protection::State>,
        /// Go ahead although enforcing has errors, or although the policy is enforced and this
        /// changes its control or conditions.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Enforce the deployed policy (state enabled), changing nothing else; refused while its
    /// grade has failures unless --force. Prints the plan, then asks.
    #[command(after_help = "\
Examples:
  sspr registration-protection promote --tenant contoso.onmicrosoft.com --dry-run
  sspr registration-protection promote --tenant contoso.onmicrosoft.com --yes")]
    Promote {
        #[command(flatten)]
        tenant: TenantArg,
        /// Enforce although the policy's grade has failures.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Make the deployed policy report-only again, changing nothing else. Prints the plan, then
    /// asks.
    #[command(after_help = "\
Examples:
  sspr registration-protection demote --tenant contoso.onmicrosoft.com
  sspr registration-protection demote --tenant contoso.onmicrosoft.com --yes")]
    Demote {
        #[command(flatten)]
        tenant: TenantArg,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Print the policy's Graph JSON for the options, without reading any tenant (table output:
    /// the JSON on stdout, the findings on stderr).
    #[command(after_help = "\
Examples:
  sspr registration-protection generate --control mfa
  sspr --output json registration-protection generate --control block --trusted-locations AllTrusted")]
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
    #[command(after_help = "\
Examples:
  sspr audit list --tenant contoso.onmicrosoft.com
  sspr audit list --outcome failed --since 2026-01-31T08:00:00Z --all
  sspr --output json audit list --actor demo.admin@northwind.onmicrosoft.com --limit 10")]
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
    #[command(after_help = "\
Examples:
  sspr registrations list --tenant contoso.onmicrosoft.com --sspr enabledNotRegistered
  sspr registrations list --tenant contoso.onmicrosoft.com --methods email,mobilePhone --format csv --quiet > users.csv
  sspr registrations list --tenant contoso.onmicrosoft.com --admin true --mfa notRegistered --format ndjson")]
    List {
        #[command(flatten)]
        tenant: TenantArg,
        #[command(flatten, next_help_heading = "Filters")]
        filter: registrations::RegistrationFilter,
        /// Output format (default: table, or json with --output json).
        #[arg(long, value_enum)]
        format: Option<ListFormat>,
        /// No progress on stderr.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Counts per feature and method, and the gaps: for one tenant, some, or all of them. A
    /// tenant without the licence the report needs is skipped (listed, with the reason), unless
    /// --strict.
    #[command(
        group(
            clap::ArgGroup::new("which").required(true).args(["tenant", "tenants", "all_tenants"])
        ),
        after_help = "\
Examples:
  sspr registrations summary --tenant contoso.onmicrosoft.com
  sspr registrations summary --all-tenants                 # fabrikam (no P1) is skipped
  sspr registrations summary --all-tenants --strict --format ndjson
  sspr registrations summary --tenants contoso.onmicrosoft.com,fabrikam.onmicrosoft.com --max-age 0"
    )]
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
        /// With several tenants: a tenant without the licence counts as a failure (exit 7 when
        /// every failure is that, else 5) instead of being skipped.
        #[arg(long)]
        strict: bool,
        /// Accept the service's copy of Graph's report if it is at most this old (seconds; 0
        /// reads Graph afresh).
        #[arg(long, value_name = "SECS")]
        max_age: Option<u64>,
        /// Output format (default: table, or json with --output json).
        #[arg(long, value_enum)]
        format: Option<SummaryFormat>,
    },
}

#[derive(Subcommand, Debug)]
enum TenantsCommand {
    /// List the tenants you may act on, with their tags and health.
    #[command(after_help = "\
Examples:
  sspr tenants list
  sspr tenants list --tag region:eu --tag tier:gold
  sspr --output json tenants list")]
    List {
        /// Only the tenants with this tag, e.g. region:eu (repeat it: a tenant must carry each).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
    },
    /// Show one tenant you may act on: its id, domains and display name (checks a tenant name
    /// before a runbook acts on it).
    #[command(after_help = "\
Examples:
  sspr tenants show --tenant contoso.com
  sspr --output json tenants show --tenant 3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17")]
    Show {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Verify what the service may do in a tenant: a fresh token's application permissions,
    /// per feature available or not, with the permissions to consent to and the licence each
    /// needs (needs SSPR.ReadWrite). The verdict is kept and shown by `tenants list`. Exits 0
    /// when every feature is available, 8 when some are not, 3 when no token was issued.
    #[command(after_help = "\
Examples:
  sspr tenants verify --tenant contoso.com
  sspr --output json tenants verify --tenant fabrikam.onmicrosoft.com")]
    Verify {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Onboard a customer tenant, usable at once without a restart, with the credential the
    /// service signs in to it with (needs SSPR.Admin). A client secret is read from standard
    /// input (--client-secret-stdin) or SSPR_TENANT_CLIENT_SECRET, never from the command line.
    #[command(after_help = "\
Examples:
  sspr tenants add --tenant tailspin.onmicrosoft.com --tag region:us --credential default
  sspr tenants add --tenant adatum.com --credential client-secret --app-id 6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b --client-secret-stdin
  sspr tenants add --tenant adatum.com --credential certificate --app-id 6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b --certificate-pem cert.pem --private-key-pem key.pem
  sspr tenants add --tenant adatum.com --credential workload-identity --app-id 6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b --token-file /var/run/secrets/azure/tokens/azure-identity-token
  sspr tenants add --tenant adatum.com --credential managed-identity --app-id 6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b --identity-client-id 1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a")]
    Add {
        #[command(flatten)]
        tenant: TenantArg,
        #[command(flatten)]
        details: TenantDetailArgs,
        #[command(flatten, next_help_heading = "Credential")]
        credential: CredentialFlags,
    },
    /// Change an onboarded tenant: what is given replaces what was, the rest stays (needs
    /// SSPR.Admin; a tenant of the configuration file is read-only).
    #[command(after_help = "\
Examples:
  sspr tenants update --tenant tailspin.onmicrosoft.com --tag region:eu --tag tier:gold
  sspr tenants update --tenant tailspin.onmicrosoft.com --clear-tags
  sspr tenants update --tenant tailspin.onmicrosoft.com --credential client-secret --app-id 6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b --client-secret-file /run/secrets/tailspin")]
    Update {
        #[command(flatten)]
        tenant: TenantArg,
        #[command(flatten)]
        details: TenantDetailArgs,
        /// Remove every tag.
        #[arg(long, conflicts_with = "tags")]
        clear_tags: bool,
        #[command(flatten, next_help_heading = "Credential")]
        credential: CredentialFlags,
    },
    /// Offboard a tenant: its credential is deleted, its audit records stay (needs SSPR.Admin).
    /// Shows the tenant, then asks.
    #[command(after_help = "\
Examples:
  sspr tenants remove --tenant tailspin.onmicrosoft.com
  sspr tenants remove --tenant tailspin.onmicrosoft.com --yes")]
    Remove {
        #[command(flatten)]
        tenant: TenantArg,
        /// Remove without asking (needed when standard input is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// The admin consent link to send to the tenant's administrator (table output: the URL
    /// alone, so `open $(sspr tenants consent-url …)` works).
    #[command(after_help = "\
Examples:
  sspr tenants consent-url --tenant tailspin.onmicrosoft.com
  sspr tenants consent-url --tenant tailspin.onmicrosoft.com --redirect-uri https://msp.example/consented
  sspr --output json tenants consent-url --tenant tailspin.onmicrosoft.com")]
    ConsentUrl {
        #[command(flatten)]
        tenant: TenantArg,
        /// Where the administrator lands after consenting (default: the service's).
        #[arg(long, value_name = "URL")]
        redirect_uri: Option<Url>,
    },
}

/// The display name, domains and tags of `tenants add` and `tenants update`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
struct TenantDetailArgs {
    /// The name to show (default when adding: the domain given, else the id).
    #[arg(long, value_name = "NAME")]
    display_name: Option<String>,
    /// A further domain the tenant can be named by (repeat it for several).
    #[arg(long = "domain", value_name = "DOMAIN")]
    domains: Vec<String>,
    /// A tag such as region:eu or tier:gold (repeat it for several), selectable as tag:region:eu.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum AccessCommand {
    /// List every grant: from the configuration file and through the API.
    #[command(after_help = "\
Examples:
  sspr access list
  sspr --output json access list")]
    List,
    /// Grant a principal (object id or client id) some tenants, up to a role.
    #[command(after_help = "\
Examples:
  sspr access grant --principal 9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a --tenants tag:region:eu --role SSPR.Read
  sspr access grant --principal 9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a --tenants contoso.onmicrosoft.com,fabrikam.onmicrosoft.com --role SSPR.ReadWrite")]
    Grant {
        /// The caller's object id (oid) or client id (appid/azp).
        #[arg(long, value_name = "ID")]
        principal: String,
        /// Tenant ids or domains, tag:<tag> (every tenant with that tag) or * (every tenant),
        /// comma-separated.
        #[arg(
            long,
            value_delimiter = ',',
            required = true,
            value_name = "TENANT|tag:TAG,…"
        )]
        tenants: Vec<String>,
        /// The highest role the grant gives on those tenants.
        #[arg(long, value_enum)]
        role: RoleChoice,
    },
    /// Revoke a grant made through the API. Shows the grant, then asks.
    #[command(after_help = "\
Examples:
  sspr access revoke --id 7d3f5a2e-1b4c-4d6e-8f9a-0b1c2d3e4f5a
  sspr access revoke --id 7d3f5a2e-1b4c-4d6e-8f9a-0b1c2d3e4f5a --yes")]
    Revoke {
        /// The grant's id (see `sspr access list`).
        #[arg(long, value_name = "ID")]
        id: String,
        /// Revoke without asking (needed when standard input is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
enum PartnerCommand {
    /// The partner tenant's delegated admin (GDAP) customers and whether each is onboarded.
    #[command(after_help = "\
Examples:
  sspr partner customers
  sspr --output json partner customers")]
    Customers,
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Show a tenant's SSPR policy, every group with where its values came from, and findings.
    #[command(after_help = "\
Examples:
  sspr policy get --tenant contoso.onmicrosoft.com
  sspr policy get --tenant fabrikam.onmicrosoft.com --output json")]
    Get {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Show what a change would do (a dry run): the fields it changes, the Graph and portal calls
    /// it makes, and the findings after it. Changes nothing.
    #[command(after_help = "\
Examples:
  sspr policy diff --tenant contoso.onmicrosoft.com --methods-required 1
  sspr policy diff --tenant contoso.onmicrosoft.com --file patch.yaml")]
    Diff {
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Change a tenant's SSPR policy: print the plan, ask, apply, and show the result (with
    /// --output json: changed, fields, auditRecordId and the policy).
    #[command(after_help = "\
Examples:
  sspr policy set --tenant contoso.onmicrosoft.com --reconfirm-days 90 --notify-admins on
  sspr policy set --tenant contoso.onmicrosoft.com --file patch.json --yes
  sspr --output json policy set --tenant contoso.onmicrosoft.com --method email=off --yes")]
    Set {
        #[command(flatten)]
        confirm: ConfirmArgs,
        #[command(flatten)]
        change: ChangeArgs,
    },
}

/// The tenant and the change: a merge patch file, or setting flags.
#[derive(Args, Debug)]
struct ChangeArgs {
    #[command(flatten)]
    tenant: TenantArg,
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
    /// The output could not be written (exit code 5).
    Output(String),
    /// Tenants of a fleet summary failed: `(tenant, problem code or title)` of each.
    Tenants {
        failed: Vec<(String, String)>,
        of: usize,
        /// 7 when every failure is a missing licence (with --strict), else 5.
        exit_code: i32,
    },
    /// A verification (already printed) found features unavailable in a tenant (exit code 8),
    /// or the service got no token for it at all (exit code 3).
    Unavailable {
        tenant: String,
        /// The unavailable features, by their API names.
        features: Vec<String>,
        of: usize,
        /// Why no token was issued, when none was.
        token_error: Option<String>,
    },
}

impl From<OutputError> for Failure {
    fn from(error: OutputError) -> Self {
        match error {
            OutputError::Client(error) => Failure::Client(error),
            OutputError::Write(error) => Failure::Output(error.to_string()),
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
            Failure::Usage(_) => exit::USAGE,
            Failure::Output(_) => exit::SERVER,
            Failure::Tenants { exit_code, .. } => *exit_code,
            Failure::Unavailable {
                token_error: Some(_),
                ..
            } => exit::AUTH,
            Failure::Unavailable { .. } => exit::UNAVAILABLE,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Client(error) => error.to_string(),
            Failure::Usage(message) => message.clone(),
            Failure::Output(message) => format!("cannot write the output: {message}"),
            Failure::Tenants { failed, of, .. } => {
                let which: Vec<String> = failed
                    .iter()
                    .map(|(tenant, what)| format!("{tenant} ({what})"))
                    .collect();
                format!(
                    "{} of {of} tenants failed: {}",
                    failed.len(),
                    which.join(", ")
                )
            }
            Failure::Unavailable {
                tenant,
                token_error: Some(error),
                ..
            } => format!(
                "the service got no token for {tenant}: {error}; has its administrator \
                 consented? (sspr tenants consent-url --tenant {tenant})"
            ),
            Failure::Unavailable {
                tenant,
                features,
                of,
                token_error: None,
            } => format!(
                "{} of {of} features are unavailable in {tenant}: {}; consent to the missing \
                 permissions (sspr tenants consent-url --tenant {tenant}) or add the licence, \
                 then verify again",
                features.len(),
                features.join(", ")
            ),
        }
    }

    /// What stderr shows a person; `token` is the bearer token the command was given.
    fn lines(&self, token: Option<&str>) -> Vec<String> {
        match self {
            Failure::Client(error) => report::error_lines(error, token, auth::unix_now()),
            other => vec![format!("error: {}", other.message())],
        }
    }

    /// The one JSON line stderr shows a script.
    fn json(&self) -> Value {
        match self {
            Failure::Client(error) => error.to_problem_json(),
            Failure::Usage(message) => cli_problem("usage", "Invalid command line", message),
            Failure::Output(_) => cli_problem("output", "Cannot write the output", &self.message()),
            Failure::Tenants { failed, .. } => {
                let mut problem =
                    cli_problem("tenants-failed", "Some tenants failed", &self.message());
                problem["tenants"] = failed
                    .iter()
                    .map(|(tenant, code)| serde_json::json!({"tenant": tenant, "code": code}))
                    .collect();
                problem
            }
            Failure::Unavailable {
                token_error: Some(_),
                ..
            } => cli_problem("no-token", "No token for the tenant", &self.message()),
            Failure::Unavailable { features, .. } => {
                let mut problem = cli_problem(
                    "features-unavailable",
                    "Some features are unavailable",
                    &self.message(),
                );
                problem["features"] = serde_json::json!(features);
                problem
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return command_line_refused(error),
    };
    let output = cli.output;
    let token = cli.token.clone();
    match run(cli).await {
        Ok(text) => {
            if !text.is_empty() {
                println!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            match output {
                Output::Json => eprintln!("{}", failure.json()),
                Output::Table => {
                    for line in failure.lines(token.as_deref().map(str::trim)) {
                        eprintln!("{line}");
                    }
                }
            }
            exit_code(failure.exit_code())
        }
    }
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(5))
}

/// A command line clap refuses: clap's own message, or with `--output json` (or
/// `SSPR_OUTPUT=json`) the one JSON line. Help and version are printed as always.
fn command_line_refused(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if informational || !json_requested(std::env::args(), std::env::var("SSPR_OUTPUT").ok()) {
        error.exit();
    }
    eprintln!(
        "{}",
        cli_problem(
            "usage",
            "Invalid command line",
            &clap_detail(&error.render().to_string())
        )
    );
    exit_code(exit::USAGE)
}

/// Whether the arguments (or `SSPR_OUTPUT`) ask for JSON output, read without clap (which just
/// refused them).
fn json_requested(args: impl Iterator<Item = String>, env: Option<String>) -> bool {
    let mut requested = env.is_some_and(|value| value == "json");
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        if arg == "--output" {
            requested = args.peek().is_some_and(|value| value == "json");
        } else if let Some(value) = arg.strip_prefix("--output=") {
            requested = value == "json";
        }
    }
    requested
}

/// Clap's message without its `error: ` prefix, usage and hint, on one line.
fn clap_detail(rendered: &str) -> String {
    let message = rendered
        .split("\n\nUsage:")
        .next()
        .unwrap_or(rendered)
        .split("\n\nFor more information")
        .next()
        .unwrap_or(rendered);
    let message = message.trim().strip_prefix("error:").unwrap_or(message);
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs the command and returns what to print on stdout last. Only the commands that ask
/// first print before (their plan).
async fn run(cli: Cli) -> Result<String, Failure> {
    // Describes the command line itself: nothing to sign in to.
    if let Command::Commands = cli.command {
        return command_tree();
    }
    let auth = resolve_auth(&cli)?;
    let options = ClientOptions {
        ca_file: cli.ca_file.clone(),
        ..ClientOptions::default()
    };
    let client = SsprClient::new(cli.url.clone(), auth, options)?;
    match &cli.command {
        Command::Tenants(command) => tenants_command(&client, cli.output, command).await,
        Command::Access(command) => access_command(&client, cli.output, command).await,
        Command::Partner(PartnerCommand::Customers) => {
            let customers = client.partner_customers().await?;
            match cli.output {
                Output::Json => to_json(&customers.json),
                Output::Table => Ok(cli::partner::customers_table(&customers.value, None)),
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
                // The records on stdout do not say so; a success's stderr may.
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
                    Ok(audit::audit_table(&records, &tenants, None))
                }
            }
        }
        Command::Registrations(command) => {
            registrations_command(&client, cli.output, command).await
        }
        Command::RegistrationProtection(command) => {
            protection_command(&client, cli.output, command).await
        }
        Command::WindowsResetLink(command) => {
            cli::windows_link::run(&client, cli.output, command).await
        }
        Command::Policy(PolicyCommand::Get { tenant }) => {
            let read = client.get_policy_response(&tenant.key).await?;
            match cli.output {
                Output::Json => to_json(&read.document),
                Output::Table => Ok(cli::policy::document_text(&read, None, None)),
            }
        }
        Command::Policy(PolicyCommand::Diff { change }) => {
            let planned = plan(&client, change).await?;
            match cli.output {
                Output::Json => to_json(&planned.json),
                Output::Table => Ok(planned.text),
            }
        }
        Command::Policy(PolicyCommand::Set { confirm, change }) => {
            set(&client, cli.output, change, *confirm).await
        }
        Command::Readiness {
            tenant,
            tenants,
            all_tenants,
            format,
        } => {
            readiness_command(
                &client,
                cli.output,
                tenant.as_deref(),
                tenants,
                *all_tenants,
                *format,
            )
            .await
        }
        Command::UserGuide { tenant, format } => {
            use cli::readiness::GuideFormat;
            use sspr_client::readiness::Page;
            match format.unwrap_or(match cli.output {
                Output::Json => GuideFormat::Json,
                Output::Table => GuideFormat::Md,
            }) {
                GuideFormat::Json => to_json(&client.user_guide(&tenant.key).await?.json),
                GuideFormat::Html => Ok(client.user_guide_page(&tenant.key, Page::Html).await?),
                GuideFormat::Md => Ok(client.user_guide_page(&tenant.key, Page::Markdown).await?),
            }
        }
        Command::Commands => command_tree(),
    }
}

/// `sspr readiness`: one tenant, or several printed as each completes (table), or one document.
async fn readiness_command(
    client: &SsprClient,
    output: Output,
    tenant: Option<&str>,
    tenants: &[String],
    all_tenants: bool,
    format: Option<cli::readiness::ReadinessFormat>,
) -> Result<String, Failure> {
    use cli::readiness::ReadinessFormat;
    use sspr_client::readiness::Page;
    let format = format.unwrap_or(match output {
        Output::Json => ReadinessFormat::Json,
        Output::Table => ReadinessFormat::Table,
    });
    let page = |format| match format {
        ReadinessFormat::Html => Some(Page::Html),
        ReadinessFormat::Md => Some(Page::Markdown),
        _ => None,
    };
    if let Some(tenant) = tenant {
        return match format {
            ReadinessFormat::Json | ReadinessFormat::Ndjson => {
                to_json(&client.readiness(tenant).await?.json)
            }
            ReadinessFormat::Table => Ok(cli::readiness::readiness_table(
                &client.readiness(tenant).await?.value,
                None,
            )),
            other => Ok(client
                .readiness_page(tenant, page(other).unwrap_or(Page::Html))
                .await?),
        };
    }
    let which = if all_tenants {
        registrations::FleetTenants::All
    } else if tenants.is_empty() {
        return Err(Failure::Usage(
            "give --tenant, --tenants or --all-tenants".to_owned(),
        ));
    } else {
        registrations::FleetTenants::Named(tenants.to_vec())
    };
    match format {
        ReadinessFormat::Json => to_json(&client.fleet_readiness(&which).await?.json),
        ReadinessFormat::Table | ReadinessFormat::Ndjson => {
            let mut stream = client.fleet_readiness_stream(&which).await?;
            let (mut seen, mut failed) = (0, Vec::new());
            while let Some(entry) = stream.next_entry().await? {
                if format == ReadinessFormat::Ndjson {
                    println!("{}", serde_json::to_string(&entry).unwrap_or_default());
                } else {
                    println!("{}", cli::readiness::fleet_line(&entry));
                }
                seen += 1;
                if let Some(problem) = &entry.problem {
                    let code = problem
                        .get("code")
                        .and_then(|c| c.as_str())
                        .unwrap_or("error");
                    failed.push((entry.domain.clone(), code.to_owned()));
                }
            }
            if failed.is_empty() {
                Ok(String::new())
            } else {
                Err(Failure::Tenants {
                    failed,
                    of: seen,
                    exit_code: exit::SERVER,
                })
            }
        }
        other => Ok(client
            .fleet_readiness_page(&which, page(other).unwrap_or(Page::Html))
            .await?),
    }
}

/// `sspr commands`: the command line's own tree, read from its definition.
fn command_tree() -> Result<String, Failure> {
    to_json(&cli::commands::tree(
        &<Cli as clap::CommandFactory>::command(),
    ))
}

/// `sspr tenants …`.
async fn tenants_command(
    client: &SsprClient,
    output: Output,
    command: &TenantsCommand,
) -> Result<String, Failure> {
    match command {
        TenantsCommand::List { tags } => {
            let tenants = cli::tenants::with_tags(client.list_tenants().await?, tags);
            match output {
                Output::Json => to_json(&tenants),
                Output::Table => Ok(render::tenants_table(&tenants, None)),
            }
        }
        TenantsCommand::Show { tenant } => {
            let tenant = client.get_tenant(&tenant.key).await?;
            match output {
                Output::Json => to_json(&tenant),
                Output::Table => Ok(tenant_text(&tenant)),
            }
        }
        TenantsCommand::Verify { tenant } => {
            let verdict = client.verify_tenant(&tenant.key).await?;
            let shown = match output {
                Output::Json => to_json(&verdict)?,
                Output::Table => render::verification_table(&verdict, None),
            };
            let unavailable = cli::tenants::unavailable_features(&verdict);
            if unavailable.is_empty() && verdict.token_issued {
                return Ok(shown);
            }
            // The verdict is the answer; the exit code and stderr say it is not all good.
            println!("{shown}");
            Err(Failure::Unavailable {
                tenant: tenant.key.trim().to_owned(),
                features: unavailable,
                of: verdict.features.len(),
                token_error: (!verdict.token_issued).then(|| {
                    verdict
                        .token_error
                        .clone()
                        .unwrap_or_else(|| "no reason given".to_owned())
                }),
            })
        }
        TenantsCommand::Add {
            tenant,
            details,
            credential,
        } => {
            let credential = credential_input(credential)?.ok_or_else(|| {
                Failure::Usage(
                    "tenants add needs --credential: default (the service-wide app), \
                     client-secret, certificate, workload-identity or managed-identity"
                        .to_owned(),
                )
            })?;
            let onboarding = sspr_client::types::tenants::TenantOnboarding {
                tenant: tenant.key.trim().to_owned(),
                display_name: details.display_name.clone(),
                domains: details.domains.clone(),
                tags: details.tags.clone(),
                credential,
            };
            let added = client.add_tenant(&onboarding).await?;
            match output {
                Output::Json => to_json(&added.json),
                Output::Table => Ok(format!(
                    "{}\n{}",
                    tenant_text(&added.value),
                    cli::tenants::next_steps(&added.value)
                )),
            }
        }
        TenantsCommand::Update {
            tenant,
            details,
            clear_tags,
            credential,
        } => {
            let update = sspr_client::types::tenants::TenantUpdate {
                display_name: details.display_name.clone(),
                domains: (!details.domains.is_empty()).then(|| details.domains.clone()),
                tags: (*clear_tags || !details.tags.is_empty()).then(|| details.tags.clone()),
                credential: credential_input(credential)?,
            };
            if update == sspr_client::types::tenants::TenantUpdate::default() {
                return Err(Failure::Usage(
                    "nothing to change: give --display-name, --domain, --tag, --clear-tags or \
                     --credential (see --help)"
                        .to_owned(),
                ));
            }
            let updated = client.update_tenant(&tenant.key, &update).await?;
            match output {
                Output::Json => to_json(&updated.json),
                Output::Table => Ok(tenant_text(&updated.value)),
            }
        }
        TenantsCommand::Remove { tenant, yes } => {
            let found = client.get_tenant(&tenant.key).await?;
            let name = format!("{} ({}, {})", found.display_name, found.domain, found.id);
            let question =
                format!("Remove {name}? Its credential is deleted; its audit records stay.");
            if !go_ahead(output, *yes, &tenant_text(&found), &question, "the removal")? {
                return Ok(String::new());
            }
            // The id shown is the one removed, whatever name the command line used.
            client.remove_tenant(&found.id).await?;
            match output {
                Output::Json => to_json(&serde_json::json!({"removed": {
                    "id": found.id, "domain": found.domain, "displayName": found.display_name
                }})),
                Output::Table => Ok(format!(
                    "Removed {name}: its credential is deleted, its audit records stay."
                )),
            }
        }
        TenantsCommand::ConsentUrl {
            tenant,
            redirect_uri,
        } => {
            let link = client
                .consent_link(&tenant.key, redirect_uri.as_ref().map(Url::as_str))
                .await?;
            match output {
                Output::Json => to_json(&link.json),
                Output::Table => Ok(link.value.url),
            }
        }
    }
}

/// A tenant's one-row table, then its origin, credential and health.
fn tenant_text(tenant: &sspr_client::TenantSummary) -> String {
    format!(
        "{}\n{}",
        render::tenants_table(std::slice::from_ref(tenant), None),
        cli::tenants::tenant_detail(tenant)
    )
}

/// The credential the options give, a secret read from standard input or
/// SSPR_TENANT_CLIENT_SECRET; a usage error naming the option otherwise.
fn credential_input(
    flags: &CredentialFlags,
) -> Result<Option<sspr_client::types::tenants::CredentialInput>, Failure> {
    let stdin = std::io::stdin();
    if flags.client_secret_stdin && stdin.is_terminal() {
        eprint!("Client secret (one line, shown as typed; pipe it in to hide it): ");
    }
    flags
        .to_input(SecretSources {
            stdin: &mut stdin.lock(),
            environment: std::env::var(cli::tenants::SECRET_VARIABLE).ok(),
        })
        .map_err(Failure::Usage)
}

/// `sspr access …`.
async fn access_command(
    client: &SsprClient,
    output: Output,
    command: &AccessCommand,
) -> Result<String, Failure> {
    match command {
        AccessCommand::List => {
            let grants = client.list_access().await?.value.value;
            match output {
                Output::Json => to_json(&grants),
                Output::Table => Ok(cli::access::grants_table(&grants, None)),
            }
        }
        AccessCommand::Grant {
            principal,
            tenants,
            role,
        } => {
            let request = sspr_client::access::AccessGrantRequest {
                principal: principal.trim().to_owned(),
                tenants: tenants.iter().map(|t| t.trim().to_owned()).collect(),
                role: (*role).into(),
            };
            let grant = client.grant_access(&request).await?;
            match output {
                Output::Json => to_json(&grant.json),
                Output::Table => Ok(cli::access::grants_table(
                    std::slice::from_ref(&grant.value),
                    None,
                )),
            }
        }
        AccessCommand::Revoke { id, yes } => {
            let grants = client.list_access().await?.value.value;
            let id = id.trim();
            let plan = match grants.iter().find(|grant| grant.id == id) {
                Some(grant) => cli::access::grants_table(std::slice::from_ref(grant), None),
                None => format!("Grant {id} is not among the grants listed to you."),
            };
            if !go_ahead(
                output,
                *yes,
                &plan,
                &format!("Revoke grant {id}?"),
                "the revocation",
            )? {
                return Ok(String::new());
            }
            client.revoke_access(id).await?;
            match output {
                Output::Json => to_json(&serde_json::json!({"revoked": id})),
                Output::Table => Ok(format!("Revoked grant {id}.")),
            }
        }
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
                Output::Json => ListFormat::Json,
                Output::Table => ListFormat::Table,
            });
            let mut progress = Progress::stderr(*quiet);
            cli::registrations::write_listing(
                client,
                &tenant.key,
                filter,
                format,
                &mut stdout,
                &mut progress,
            )
            .await
            .map(|_| ())
        }
        RegistrationsCommand::Summary {
            tenant,
            tenants,
            all_tenants,
            strict,
            max_age,
            format,
        } => {
            let format = format.unwrap_or(match output {
                Output::Json => SummaryFormat::Json,
                Output::Table => SummaryFormat::Table,
            });
            if let Some(tenant) = tenant {
                let summary = client.registrations_summary(tenant, *max_age).await?;
                cli::registrations::write_summary(&summary, format, &mut stdout)
            } else {
                let which = if *all_tenants {
                    registrations::FleetTenants::All
                } else {
                    registrations::FleetTenants::Named(tenants.clone())
                };
                let unlicensed = if *strict {
                    Unlicensed::Fail
                } else {
                    Unlicensed::Skip
                };
                let outcome = cli::registrations::write_fleet(
                    client,
                    &which,
                    format,
                    *max_age,
                    unlicensed,
                    &mut stdout,
                )
                .await?;
                // With --output json, stderr is kept for the error line.
                if !outcome.skipped.is_empty() && output == Output::Table {
                    let names: Vec<&str> =
                        outcome.skipped.iter().map(|(t, _)| t.as_str()).collect();
                    eprintln!(
                        "Skipped {} without the licence the report needs: {} (--strict counts {} as failed).",
                        cli::policy::count(names.len(), "tenant"),
                        names.join(", "),
                        if names.len() == 1 { "it" } else { "them" }
                    );
                }
                if !outcome.failed.is_empty() {
                    return Err(Failure::Tenants {
                        exit_code: if outcome.only_licence_failures() {
                            exit::LICENCE
                        } else {
                            exit::SERVER
                        },
                        of: outcome.tenants,
                        failed: outcome.failed,
                    });
                }
                Ok(())
            }
        }
    };
    match result {
        // The reader went away (e.g. `| head`): what it wanted was printed.
        Err(OutputError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
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
                Output::Json => to_json(&generated.json),
                // The JSON is the artefact; the findings go where a person reads them.
                Output::Table => {
                    for finding in &generated.value.findings {
                        eprintln!("{}: {}", finding.severity, finding.message);
                    }
                    to_json(&generated.value.policy)
                }
            };
        }
        ProtectionCommand::Plan {
            tenant,
            flags,
            state,
        } => {
            let options = protection::with_state(flags.to_options(), *state, false);
            let plan = client.protection_plan(&tenant.key, &options).await?;
            let text = cli::protection::plan_text(&plan.value);
            (plan.json, text)
        }
        ProtectionCommand::Status {
            tenant,
            break_glass_users,
            break_glass_groups,
        } => {
            let status = client
                .protection_status(&tenant.key, break_glass_users, break_glass_groups)
                .await?;
            let text = cli::protection::status_text(&status.value, None);
            (status.json, text)
        }
        ProtectionCommand::Apply {
            tenant,
            flags,
            state,
            force,
            confirm,
        } => {
            let options = protection::with_state(flags.to_options(), *state, *force);
            let change = ProtectionChange::Deploy(options);
            return change_protection(client, output, &tenant.key, &change, *confirm).await;
        }
        ProtectionCommand::Promote {
            tenant,
            force,
            confirm,
        } => {
            let change = ProtectionChange::State {
                state: protection::State::Enabled,
                force: *force,
            };
            return change_protection(client, output, &tenant.key, &change, *confirm).await;
        }
        ProtectionCommand::Demote { tenant, confirm } => {
            let change = ProtectionChange::State {
                state: protection::State::ReportOnly,
                force: false,
            };
            return change_protection(client, output, &tenant.key, &change, *confirm).await;
        }
    };
    shown(output, &value, &text)
}

/// A change of the registration-protection policy: a deploy with options, or only the state
/// of the deployed policy.
enum ProtectionChange {
    Deploy(Value),
    State {
        state: protection::State,
        force: bool,
    },
}

impl ProtectionChange {
    async fn send(
        &self,
        client: &SsprClient,
        tenant: &str,
        dry_run: bool,
        if_match: Option<&str>,
    ) -> Result<ProtectionAnswer, ClientError> {
        match self {
            ProtectionChange::Deploy(options) => {
                client
                    .protection_apply(tenant, options, dry_run, if_match)
                    .await
            }
            ProtectionChange::State { state, force } => {
                client
                    .protection_set_state(tenant, *state, *force, dry_run, if_match)
                    .await
            }
        }
    }
}

/// `apply`, `promote`, `demote`: the dry run, its plan, the question, then the real call with the
/// plan's ETag, so what is applied is what was shown.
async fn change_protection(
    client: &SsprClient,
    output: Output,
    tenant: &str,
    change: &ProtectionChange,
    confirm: ConfirmArgs,
) -> Result<String, Failure> {
    let plan = change.send(client, tenant, true, None).await?;
    let text = cli::protection::change_plan_text(&plan.change, None);
    if confirm.dry_run || plan.result() == sspr_client::types::protection::ApplyResult::Unchanged {
        return shown(output, &plan.body, &text);
    }
    let etag = plan.plan_etag().map(str::to_owned).ok_or_else(|| {
        ClientError::Decode(
            "the plan came without an ETag, so it cannot be applied safely".to_owned(),
        )
    })?;
    let tenant_name = Some(plan.change.tenant().domain.as_str())
        .filter(|domain| !domain.is_empty())
        .unwrap_or(tenant);
    let question = format!(
        "Apply this plan to {tenant_name} ({})?",
        cli::protection::change_summary(&plan.change)
    );
    if !go_ahead(output, confirm.yes, &text, &question, "this plan")? {
        return Ok(String::new());
    }
    let applied = change.send(client, tenant, false, Some(&etag)).await?;
    shown(
        output,
        &applied.body,
        &cli::protection::applied_text(&applied.change),
    )
}

/// The JSON, or the text.
fn shown(output: Output, value: &Value, text: &str) -> Result<String, Failure> {
    match output {
        Output::Json => to_json(value),
        Output::Table => Ok(text.trim_end().to_owned()),
    }
}

/// Whether to apply a plan: yes with `--yes`; without a terminal to ask on, a refusal (exit
/// 2, nothing applied); else the answer to `question`. Shows the plan first: on stdout for
/// tables; for JSON (stdout is kept for the result) on stderr, and only when somebody is asked,
/// so a script's stderr holds at most the error line.
fn go_ahead(
    output: Output,
    yes: bool,
    plan: &str,
    question: &str,
    what: &str,
) -> Result<bool, Failure> {
    let stdin = std::io::stdin();
    let asking = !yes && stdin.is_terminal();
    match output {
        Output::Table => println!("{}\n", plan.trim_end()),
        Output::Json if asking => eprintln!("{}\n", plan.trim_end()),
        Output::Json => {}
    }
    if yes {
        return Ok(true);
    }
    if !asking {
        return Err(Failure::Usage(format!(
            "standard input is not a terminal, so nobody can confirm: nothing was applied; \
             pass --yes to apply {what} without asking"
        )));
    }
    let confirmed = cli::policy::confirm(question, &mut stdin.lock(), &mut std::io::stderr())
        .map_err(|e| Failure::Usage(format!("cannot read the answer: {e}")))?;
    if !confirmed {
        eprintln!("Not applied: nothing was changed.");
    }
    Ok(confirmed)
}

/// A dry run of a change, as JSON and as text.
struct Planned {
    patch: Value,
    etag: String,
    tenant_name: String,
    json: Value,
    plan: PolicyPlan,
    text: String,
    /// The policy as read before the change.
    read: PolicyResponse,
}

/// GET (for the ETag), then the dry run with that ETag.
async fn plan(client: &SsprClient, change: &ChangeArgs) -> Result<Planned, Failure> {
    let patch = change.patch()?;
    let (read, etag) = client.get_policy_with_etag(&change.tenant.key).await?;
    let Answer { value: plan, json } = client
        .plan_policy_change(&change.tenant.key, &patch, &etag)
        .await?;
    let tenant_name = cli::policy::tenant_name(&read.policy, &change.tenant.key);
    let text = cli::policy::plan_text(&plan, &tenant_name, None);
    Ok(Planned {
        patch,
        etag,
        tenant_name,
        json,
        plan,
        text,
        read,
    })
}

/// What `policy set --output json` prints: whether it changed the policy, the fields it
/// changed, the audit record of the change, and the policy as read back.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SetOutcome<'a> {
    changed: bool,
    /// JSON pointers of the changed fields.
    fields: Vec<&'a str>,
    audit_record_id: Option<i64>,
    policy: &'a Value,
}

/// `policy set`: plan, print, confirm, apply with the ETag the plan was made from, show.
async fn set(
    client: &SsprClient,
    output: Output,
    change: &ChangeArgs,
    confirm: ConfirmArgs,
) -> Result<String, Failure> {
    let planned = plan(client, change).await?;
    if confirm.dry_run {
        return shown(output, &planned.json, &planned.text);
    }
    if planned.plan.changes.is_empty() {
        let unchanged = SetOutcome {
            changed: false,
            fields: Vec::new(),
            audit_record_id: None,
            policy: &planned.read.document,
        };
        return match output {
            Output::Json => to_json(&unchanged),
            Output::Table => Ok(planned.text),
        };
    }
    let n = planned.plan.changes.len();
    let question = format!(
        "Apply {} to {}?",
        cli::policy::these_changes(n),
        planned.tenant_name
    );
    if !go_ahead(
        output,
        confirm.yes,
        &planned.text,
        &question,
        &cli::policy::these_changes(n),
    )? {
        return Ok(String::new());
    }
    let applied = client
        .apply_policy_change(&change.tenant.key, &planned.patch, &planned.etag)
        .await?;
    match output {
        Output::Json => to_json(&SetOutcome {
            changed: true,
            fields: planned
                .plan
                .changes
                .iter()
                .map(|c| c.pointer.as_str())
                .collect(),
            audit_record_id: applied.audit_record_id,
            policy: &applied.document,
        }),
        Output::Table => {
            let groups = planned.plan.changed_groups();
            let audited = applied
                .audit_record_id
                .map(|id| format!(" (audit record {id})"))
                .unwrap_or_default();
            Ok(format!(
                "{}\nApplied {} to {}{audited}.",
                cli::policy::document_text(&applied, Some(&groups), None),
                cli::policy::count(n, "change"),
                planned.tenant_name
            ))
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Client(ClientError::Decode(e.to_string())))
}

/// The sign-in `--auth` names, or without it a token when given, else complete client
/// credentials; an authentication error naming what is missing otherwise.
fn resolve_auth(cli: &Cli) -> Result<Auth, ClientError> {
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let method = match cli.auth {
        Some(method) => method,
        None if given(&cli.token).is_some() => AuthMethod::Token,
        None => AuthMethod::ClientSecret,
    };
    let client_id = given(&cli.client_id);
    // The managed identity and the Azure CLI ask for a resource, not a scope.
    let resource = || {
        cli.scope
            .strip_suffix("/.default")
            .unwrap_or(&cli.scope)
            .to_owned()
    };
    let needs = |what: &str, missing: &[(bool, &str)]| {
        let missing: Vec<&str> = missing
            .iter()
            .filter_map(|(absent, name)| absent.then_some(*name))
            .collect();
        ClientError::Auth(format!(
            "--auth {what} also needs {}",
            missing.join(" and ")
        ))
    };
    match method {
        AuthMethod::Token => given(&cli.token)
            .map(Auth::Token)
            .ok_or_else(|| needs("token", &[(true, "SSPR_TOKEN (--token)")])),
        AuthMethod::ClientSecret => {
            let client_secret = given(&cli.client_secret);
            match (&cli.authority, client_id, client_secret) {
                (Some(authority), Some(client_id), Some(client_secret)) => {
                    Ok(Auth::ClientCredentials {
                        token_url: token_url_for_authority(authority)?,
                        client_id,
                        client_secret,
                        scope: cli.scope.clone(),
                    })
                }
                (None, None, None) if cli.auth.is_none() => Err(ClientError::Auth(
                    "no credentials: set SSPR_TOKEN (--token), or SSPR_AUTHORITY, SSPR_CLIENT_ID and SSPR_CLIENT_SECRET \
                     (--authority, --client-id, --client-secret) for client credentials, or choose another sign-in with SSPR_AUTH (--auth)"
                        .into(),
                )),
                (authority, client_id, client_secret) => Err(needs(
                    "client-secret",
                    &[
                        (authority.is_none(), "SSPR_AUTHORITY (--authority)"),
                        (client_id.is_none(), "SSPR_CLIENT_ID (--client-id)"),
                        (client_secret.is_none(), "SSPR_CLIENT_SECRET (--client-secret)"),
                    ],
                )),
            }
        }
        AuthMethod::Certificate => match (&cli.authority, client_id, &cli.certificate) {
            (Some(authority), Some(client_id), Some(certificate)) => Ok(Auth::Certificate {
                token_url: token_url_for_authority(authority)?,
                client_id,
                certificate: ClientCertificate::from_pem_files(
                    certificate,
                    cli.private_key.as_deref(),
                )?,
                scope: cli.scope.clone(),
            }),
            (authority, client_id, certificate) => Err(needs(
                "certificate",
                &[
                    (authority.is_none(), "SSPR_AUTHORITY (--authority)"),
                    (client_id.is_none(), "SSPR_CLIENT_ID (--client-id)"),
                    (certificate.is_none(), "SSPR_CERTIFICATE (--certificate)"),
                ],
            )),
        },
        AuthMethod::WorkloadIdentity => {
            let settings = auth::workload_identity::settings(
                client_id,
                cli.authority.as_ref(),
                cli.federated_token_file.clone(),
                &|name| std::env::var(name).ok(),
            )?;
            Ok(Auth::WorkloadIdentity {
                token_url: settings.token_url,
                client_id: settings.client_id,
                token_file: settings.token_file,
                scope: cli.scope.clone(),
            })
        }
        AuthMethod::ManagedIdentity => Ok(Auth::ManagedIdentity {
            endpoint: cli.managed_identity_endpoint.clone(),
            resource: resource(),
            client_id,
        }),
        AuthMethod::AzureCli => Ok(Auth::AzureCli {
            resource: resource(),
        }),
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

    /// Every command, group or leaf, with its path from the top (`["policy", "set"]`).
    fn every_command() -> Vec<(Vec<String>, clap::Command)> {
        fn walk(
            path: &[String],
            command: &clap::Command,
            out: &mut Vec<(Vec<String>, clap::Command)>,
        ) {
            for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
                let mut here = path.to_vec();
                here.push(sub.get_name().to_owned());
                out.push((here.clone(), sub.clone()));
                walk(&here, sub, out);
            }
        }
        let mut all = Vec::new();
        walk(&[], &Cli::command(), &mut all);
        all
    }

    /// The example lines of a help text: each `  sspr …` under `Examples:`, without a trailing
    /// comment or redirection.
    fn examples(help: &str) -> Vec<Vec<String>> {
        let Some((_, section)) = help.split_once("Examples:\n") else {
            return Vec::new();
        };
        section
            .lines()
            .take_while(|line| line.starts_with("  "))
            .map(|line| {
                let line = line.split(" #").next().unwrap_or(line);
                let line = line.split(" > ").next().unwrap_or(line);
                line.split_whitespace().map(str::to_owned).collect()
            })
            .collect()
    }

    /// The subcommand path a parsed command line runs.
    fn path_of(matches: &clap::ArgMatches) -> Vec<String> {
        let mut path = Vec::new();
        let mut current = matches;
        while let Some((name, sub)) = current.subcommand() {
            path.push(name.to_owned());
            current = sub;
        }
        path
    }

    #[test]
    fn every_command_has_examples_that_run_it() {
        let all = every_command();
        assert!(all.len() > 15, "{} commands", all.len());
        let top = Cli::command()
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(!examples(&top).is_empty(), "sspr --help has no example");
        for (path, command) in all {
            let help = command
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            let lines = examples(&help);
            assert!(
                !lines.is_empty(),
                "`sspr {}` has no example",
                path.join(" ")
            );
            for words in lines {
                assert_eq!(words[0], "sspr", "{words:?}");
                let matches = Cli::command()
                    .try_get_matches_from(&words)
                    .unwrap_or_else(|e| panic!("{words:?} does not parse: {e}"));
                let runs = path_of(&matches);
                assert!(
                    runs.starts_with(&path),
                    "an example of `sspr {}` runs `sspr {}`",
                    path.join(" "),
                    runs.join(" ")
                );
            }
        }
    }

    #[test]
    fn global_options_are_grouped_apart() {
        let cli = Cli::command();
        for name in [
            "url",
            "token",
            "authority",
            "client_id",
            "client_secret",
            "scope",
            "ca_file",
            "output",
        ] {
            let arg = cli
                .get_arguments()
                .find(|a| a.get_id() == name)
                .unwrap_or_else(|| panic!("no --{name}"));
            assert_eq!(arg.get_help_heading(), Some(GLOBAL), "--{name}");
        }
        let mut set = Cli::command();
        // Global options reach the subcommands when the command is built.
        set.build();
        let help = set
            .find_subcommand_mut("policy")
            .and_then(|p| p.find_subcommand_mut("set"))
            .expect("policy set")
            .render_help()
            .to_string();
        let global = help
            .find("Global options:")
            .expect("a Global options heading");
        let own = help.find("--tenant").expect("--tenant");
        assert!(
            own < global,
            "the command's own options come first:\n{help}"
        );
        assert!(help[global..].contains("--ca-file"), "{help}");
        assert!(!help[..global].contains("--ca-file"), "{help}");
    }

    #[test]
    fn promote_and_demote_take_no_plan_options() {
        for command in ["promote", "demote"] {
            let refused = Cli::try_parse_from([
                "sspr",
                "registration-protection",
                command,
                "--tenant",
                "t",
                "--control",
                "mfa",
            ])
            .expect_err("no --control");
            assert_eq!(
                refused.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{command}"
            );
        }
        let cli = parse(&[
            "registration-protection",
            "promote",
            "--tenant",
            "t",
            "--force",
            "-y",
        ]);
        let Command::RegistrationProtection(ProtectionCommand::Promote { force, confirm, .. }) =
            cli.command
        else {
            panic!("promote expected");
        };
        assert!(force);
        assert_eq!(
            confirm,
            ConfirmArgs {
                dry_run: false,
                yes: true
            }
        );
        let cli = parse(&[
            "registration-protection",
            "apply",
            "--tenant",
            "t",
            "--control",
            "mfa",
            "--dry-run",
        ]);
        let Command::RegistrationProtection(ProtectionCommand::Apply { flags, confirm, .. }) =
            cli.command
        else {
            panic!("apply expected");
        };
        assert_eq!(flags.control, Some(protection::Control::Mfa));
        assert!(confirm.dry_run && !confirm.yes);
    }

    #[test]
    fn json_output_is_recognised_without_clap() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(json_requested(
            args(&["sspr", "--output", "json", "frobnicate"]).into_iter(),
            None
        ));
        assert!(json_requested(
            args(&["sspr", "policy", "--output=json"]).into_iter(),
            None
        ));
        assert!(json_requested(
            args(&["sspr", "frobnicate"]).into_iter(),
            Some("json".into())
        ));
        assert!(!json_requested(
            args(&["sspr", "--output", "table"]).into_iter(),
            Some("json".into())
        ));
        assert!(!json_requested(args(&["sspr", "x"]).into_iter(), None));
        let rendered = "error: the following required arguments were not provided:\n  --tenant <TENANT>\n\nUsage: sspr policy get --tenant <TENANT>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            clap_detail(rendered),
            "the following required arguments were not provided: --tenant <TENANT>"
        );
    }

    #[test]
    fn failures_have_an_exit_code_and_one_json_line() {
        let usage = Failure::Usage("nothing to change".into());
        assert_eq!(usage.exit_code(), 2);
        assert_eq!(
            usage.json(),
            serde_json::json!({"type": "/problems/cli/usage", "title": "Invalid command line",
                "detail": "nothing to change", "code": "usage"})
        );
        let licence_only = Failure::Tenants {
            failed: vec![("fabrikam.onmicrosoft.com".into(), "licenseRequired".into())],
            of: 2,
            exit_code: exit::LICENCE,
        };
        assert_eq!(licence_only.exit_code(), 7);
        let line = licence_only.json();
        assert_eq!(line["code"], "tenantsFailed");
        assert_eq!(
            line["tenants"],
            serde_json::json!([{"tenant": "fabrikam.onmicrosoft.com", "code": "licenseRequired"}])
        );
        assert_eq!(
            licence_only.lines(None),
            ["error: 1 of 2 tenants failed: fabrikam.onmicrosoft.com (licenseRequired)"]
        );
        assert!(!line.to_string().contains('\n'));
        assert_eq!(Failure::Output("broken".into()).exit_code(), 5);
    }

    #[test]
    fn tenant_changes_parse_into_their_parts() {
        let cli = parse(&[
            "tenants",
            "update",
            "--tenant",
            "t",
            "--tag",
            "region:eu",
            "--tag",
            "tier:gold",
            "--domain",
            "t.example",
            "--credential",
            "workload-identity",
            "--app-id",
            "app",
        ]);
        let Command::Tenants(TenantsCommand::Update {
            details,
            clear_tags,
            credential,
            ..
        }) = cli.command
        else {
            panic!("update expected");
        };
        assert_eq!(details.tags, ["region:eu", "tier:gold"]);
        assert_eq!(details.domains, ["t.example"]);
        assert!(!clear_tags);
        assert_eq!(
            credential.credential,
            Some(cli::tenants::CredentialChoice::WorkloadIdentity)
        );
        let conflict = Cli::try_parse_from([
            "sspr",
            "tenants",
            "update",
            "--tenant",
            "t",
            "--tag",
            "a",
            "--clear-tags",
        ])
        .expect_err("--tag with --clear-tags");
        assert_eq!(conflict.kind(), clap::error::ErrorKind::ArgumentConflict);
        // The sign-in options keep their names next to the tenant's credential options.
        let cli = parse(&[
            "--client-id",
            "cli-app",
            "tenants",
            "add",
            "--tenant",
            "t",
            "--credential",
            "certificate",
            "--app-id",
            "tenant-app",
        ]);
        assert_eq!(cli.client_id.as_deref(), Some("cli-app"));
        let Command::Tenants(TenantsCommand::Add { credential, .. }) = cli.command else {
            panic!("add expected");
        };
        assert_eq!(credential.app_id.as_deref(), Some("tenant-app"));
    }

    #[test]
    fn a_grant_takes_tenants_or_tags_and_a_role() {
        let cli = parse(&[
            "access",
            "grant",
            "--principal",
            "p",
            "--tenants",
            "contoso.com,tag:region:eu",
            "--role",
            "SSPR.ReadWrite",
        ]);
        let Command::Access(AccessCommand::Grant { tenants, role, .. }) = cli.command else {
            panic!("grant expected");
        };
        assert_eq!(tenants, ["contoso.com", "tag:region:eu"]);
        assert_eq!(role, RoleChoice::ReadWrite);
        let unknown = Cli::try_parse_from([
            "sspr",
            "access",
            "grant",
            "--principal",
            "p",
            "--tenants",
            "*",
            "--role",
            "Owner",
        ])
        .expect_err("no such role");
        assert_eq!(unknown.kind(), clap::error::ErrorKind::InvalidValue);
    }

    #[test]
    fn an_incomplete_verification_has_its_own_exit_code_and_json_line() {
        let unavailable = Failure::Unavailable {
            tenant: "fabrikam.onmicrosoft.com".into(),
            features: vec!["conditionalAccess".into()],
            of: 7,
            token_error: None,
        };
        assert_eq!(unavailable.exit_code(), exit::UNAVAILABLE);
        assert_eq!(
            unavailable.lines(None),
            [
                "error: 1 of 7 features are unavailable in fabrikam.onmicrosoft.com: \
              conditionalAccess; consent to the missing permissions (sspr tenants consent-url \
              --tenant fabrikam.onmicrosoft.com) or add the licence, then verify again"
            ]
        );
        let line = unavailable.json();
        assert_eq!(line["code"], "featuresUnavailable");
        assert_eq!(line["features"], serde_json::json!(["conditionalAccess"]));
        let no_token = Failure::Unavailable {
            tenant: "t".into(),
            features: vec!["policyRead".into()],
            of: 7,
            token_error: Some("AADSTS65001: consent missing".into()),
        };
        assert_eq!(no_token.exit_code(), exit::AUTH);
        assert!(
            no_token.message().contains("AADSTS65001"),
            "{}",
            no_token.message()
        );
        assert_eq!(no_token.json()["code"], "noToken");
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
        let Command::Policy(PolicyCommand::Set { change, confirm }) = &cli.command else {
            panic!("set expected");
        };
        assert!(confirm.dry_run && confirm.yes);
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

    #[test]
    fn set_outcome_is_the_documented_object() {
        let policy = serde_json::json!({"registration": {"reconfirmDays": 90}});
        let outcome = SetOutcome {
            changed: true,
            fields: vec!["/registration/reconfirmDays"],
            audit_record_id: Some(17),
            policy: &policy,
        };
        assert_eq!(
            serde_json::to_value(&outcome).expect("json"),
            serde_json::json!({"changed": true, "fields": ["/registration/reconfirmDays"],
                "auditRecordId": 17, "policy": policy})
        );
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
