//! (h) Fleet readiness: every tenant's checklist through the CLI (`sspr readiness
//! --all-tenants`), Graph's limits on. The ideal is computed from the Graph calls the run made,
//! counted per tenant and per throttling bucket in the emulator's call log: the longest any
//! one limit makes them take, each bucket's calls at its limit's rate. For 2,000-user tenants
//! that is the registration report (5 pages per 10 s per tenant, 122 per 10 s for the app)
//! and Conditional Access (1 request per second per tenant).

use std::collections::HashMap;

use anyhow::Result;
use serde_json::Value;

use crate::direct::{self, Control};
use crate::procs::{Emulator, Service, ServiceSettings, run_cli};
use crate::report::{Section, Target, ideal_secs, mib, ratio, thousands, verdict};
use crate::{Bench, PER_APP, PER_TENANT, WINDOW_SECS, seconds};

/// Conditional Access's limit per tenant (graph-api.md §8.2): 1 request per second.
const CA_PER_TENANT: u32 = 1;
const CA_WINDOW_SECS: f64 = 1.0;

/// One tenant's Graph calls, by throttling bucket.
#[derive(Debug, Default, Clone, Copy)]
struct TenantCalls {
    reports: u64,
    conditional_access: u64,
    other: u64,
}

/// The Graph calls of the log, per tenant, by bucket (as the service's budget classifies them).
fn per_tenant(log: &Value) -> HashMap<String, TenantCalls> {
    let mut calls: HashMap<String, TenantCalls> = HashMap::new();
    for call in log["calls"].as_array().into_iter().flatten() {
        let path = call["path"].as_str().unwrap_or_default();
        let below_version = match path
            .strip_prefix("/v1.0/")
            .or_else(|| path.strip_prefix("/beta/"))
        {
            Some(rest) => rest.to_ascii_lowercase(),
            None => continue,
        };
        let tenant = call["tenantId"].as_str().unwrap_or_default().to_owned();
        let entry = calls.entry(tenant).or_default();
        if below_version.starts_with("reports/") {
            entry.reports += 1;
        } else if below_version.starts_with("identity/conditionalaccess/") {
            entry.conditional_access += 1;
        } else {
            entry.other += 1;
        }
    }
    calls
}

pub async fn scenario_h(bench: &Bench, tenants: usize, users: usize) -> Result<(Section, bool)> {
    let work = bench.work()?;
    let emulator = Emulator::start(&bench.bin_dir, work.path(), tenants, users, bench.seed)?;
    let manifest = &emulator.manifest;
    let generated = manifest.generated();
    let http = direct::http(manifest)?;
    let control = Control::new(&http, manifest);
    control.throttling(true).await?;
    let service = Service::start(
        &bench.bin_dir,
        work.path(),
        manifest,
        &ServiceSettings {
            tenants: generated.clone(),
            limits: true,
            default_app: None,
            ..ServiceSettings::default()
        },
    )
    .await?;
    control.clear_calls().await?;
    let run = tokio::task::block_in_place(|| {
        run_cli(
            &bench.bin_dir,
            manifest,
            &service,
            &["readiness", "--all-tenants", "--format", "ndjson"],
            true,
        )
    })?;
    let log = control.call_log().await?;
    let counts = direct::count_calls(&log);
    let by_tenant = per_tenant(&log);

    let (mut answered, mut problems) = (0u64, Vec::new());
    let mut unknown_checks = 0u64;
    for line in run.stdout.as_deref().unwrap_or_default().lines() {
        let entry: Value = serde_json::from_str(line)?;
        match &entry["readiness"] {
            Value::Object(readiness) => {
                answered += 1;
                unknown_checks += readiness["counts"]["unknown"].as_u64().unwrap_or(0);
            }
            _ => problems.push(format!(
                "{}: {}",
                entry["domain"].as_str().unwrap_or_default(),
                entry["problem"]["title"]
            )),
        }
    }
    let missing = (generated.len() as u64).saturating_sub(answered + problems.len() as u64);
    let ours: Vec<TenantCalls> = generated
        .iter()
        .map(|t| by_tenant.get(&t.id).copied().unwrap_or_default())
        .collect();
    let total = |f: fn(&TenantCalls) -> u64| ours.iter().map(f).sum::<u64>();
    let most = |f: fn(&TenantCalls) -> u64| ours.iter().map(f).max().unwrap_or(0);
    let reports = total(|c| c.reports);
    let ca = total(|c| c.conditional_access);
    let other = total(|c| c.other);
    let limits = [
        (
            ideal_secs(reports, PER_APP, WINDOW_SECS),
            format!("{reports} report pages ÷ {PER_APP} per {WINDOW_SECS} s for the app"),
        ),
        (
            ideal_secs(most(|c| c.reports), PER_TENANT, WINDOW_SECS),
            format!(
                "{} report pages of one tenant ÷ {PER_TENANT} per {WINDOW_SECS} s",
                most(|c| c.reports)
            ),
        ),
        (
            ideal_secs(
                most(|c| c.conditional_access),
                CA_PER_TENANT,
                CA_WINDOW_SECS,
            ),
            format!(
                "{} Conditional Access calls of one tenant ÷ {CA_PER_TENANT} per second",
                most(|c| c.conditional_access)
            ),
        ),
    ];
    let (ideal, binding) = limits
        .iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .cloned()
        .unwrap_or_default();
    let value = ratio(run.wall.as_secs_f64(), ideal);
    let target = Target::AtMost(1.1);
    #[allow(clippy::cast_precision_loss)] // small counts
    let per = |n: u64| n as f64 / generated.len().max(1) as f64;

    let mut section = Section::new(
        'h',
        format!(
            "Fleet readiness, {} tenants × {} users, Graph's limits on",
            thousands(tenants as u64),
            thousands(users as u64)
        ),
    );
    section.row(
        "tenants",
        format!(
            "{answered} answered ({unknown_checks} checks unknown: no portal connector, no P1 or no Intune, as generated)"
        ),
    );
    section.row(
        "Graph calls per tenant",
        format!(
            "{:.1} report pages, {:.1} Conditional Access, {:.1} other (policy, licences, Secure Score, Intune)",
            per(reports),
            per(ca),
            per(other)
        ),
    );
    section.row("ideal", format!("{ideal:.1} s ({binding})"));
    section.row("fleet readiness through the CLI", seconds(run.wall));
    section.row("ratio", verdict(value, target));
    section.row(
        "failed requests",
        format!(
            "{} (429: {}, 5xx: {}; tenants with a problem: {}, missing: {missing})",
            counts.failed() + problems.len() as u64 + missing,
            counts.throttled,
            counts.server_errors,
            problems.len()
        ),
    );
    section.row("peak RSS service", mib(service.proc.peak_rss_kib()?));
    section.row("peak RSS CLI", mib(run.peak_rss_kib));
    section.note(
        "The ideal takes each bucket's calls at its limit's rate and keeps the slowest; Graph \
         admits a window's requests at once, so a run can beat it by up to one window.",
    );
    if !problems.is_empty() {
        section.note(format!("Tenants with a problem: {}", problems.join("; ")));
    }
    let met = target.met_by(value) && counts.failed() == 0 && problems.is_empty() && missing == 0;
    Ok((section, met))
}
