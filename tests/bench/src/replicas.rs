//! (g) Three service processes on one PostgreSQL database share Graph's limits: the fleet
//! summary split across them takes no longer than Graph's limits allow one app, with no 429;
//! then one of them is killed (SIGKILL) mid-run, and the tenants it had not answered are asked
//! of the others, as a load balancer's retry would.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::direct::{self, Control};
use crate::procs::{Emulator, ManifestTenant, Service, ServiceSettings};
use crate::report::{Section, Target, ideal_secs, mib, ratio, thousands, verdict};
use crate::{Bench, PER_APP, PER_TENANT, WINDOW_SECS, pages_of, seconds};

const REPLICAS: usize = 3;

/// The replicas' safety margin on Graph's windows. Here the emulator shares two cores with three
/// replicas and PostgreSQL, so a request can reach it a few hundred milliseconds after it left;
/// with the default 100 ms, an app window's burst at its boundary then drew a few 429s in some
/// runs (0 to 48 of 300 pages). Graph counts at arrival too: give the margin what the path from
/// the replicas to Graph can add.
const MARGIN_MS: u64 = 400;

/// How one run of the fleet summary across the replicas went.
struct Run {
    wall: Duration,
    /// Each tenant's answer (its fleet line), by tenant id.
    answers: HashMap<String, Value>,
    /// Tenants asked again of the survivors after their replica died.
    retried: usize,
}

/// A database of its own on the server `admin_url` names, dropped with the value.
struct Database {
    admin_url: String,
    name: String,
    url: String,
}

impl Database {
    async fn create(admin_url: &str) -> Result<Database> {
        let name = format!("sspr_bench_{}", std::process::id());
        let admin = connect(admin_url).await?;
        // One statement each: neither may run inside a transaction block.
        for statement in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .context("creating the benchmark's database")?;
        }
        let mut url = url::Url::parse(admin_url).context("--database-url")?;
        url.set_path(&name);
        Ok(Database {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    async fn drop_now(self) -> Result<()> {
        connect(&self.admin_url)
            .await?
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .context("dropping the benchmark's database")
    }
}

async fn connect(url: &str) -> Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| "connecting to the PostgreSQL server of --database-url")?;
    tokio::spawn(connection);
    Ok(client)
}

pub async fn scenario_g(
    bench: &Bench,
    database_url: Option<&str>,
    tenants: usize,
    users: usize,
) -> Result<(Section, bool)> {
    let Some(database_url) = database_url else {
        bail!(
            "scenario g needs a PostgreSQL server: --database-url postgres://user@host/db \
             (or SSPR_BENCH_DATABASE_URL); `bash .ci/postgres` starts one"
        );
    };
    let work = bench.work()?;
    let emulator = Emulator::start(&bench.bin_dir, work.path(), tenants, users, bench.seed)?;
    let manifest = &emulator.manifest;
    let generated = manifest.generated();
    let http = direct::http(manifest)?;
    let control = Control::new(&http, manifest);
    control.throttling(true).await?;
    let database = Database::create(database_url).await?;
    let mut services = Vec::new();
    for instance in 1..=REPLICAS {
        services.push(
            Service::start(
                &bench.bin_dir,
                work.path(),
                manifest,
                &ServiceSettings {
                    tenants: generated.clone(),
                    limits: true,
                    shared_store: Some(database.url.clone()),
                    margin_ms: Some(MARGIN_MS),
                    instance,
                    ..ServiceSettings::default()
                },
            )
            .await?,
        );
    }
    let token = direct::service_token(&http, manifest).await?;
    let ids: Vec<String> = generated
        .iter()
        .filter(|t| t.app.is_some())
        .map(|t| t.id.clone())
        .collect();

    control.clear_calls().await?;
    let urls: Vec<String> = services.iter().map(|s| s.url.clone()).collect();
    let whole = fleet_across(&urls, &token, &ids, None).await?;
    let whole_calls = control.calls().await?;
    let rss: Vec<u64> = services
        .iter()
        .map(|s| s.proc.peak_rss_kib())
        .collect::<Result<_>>()?;

    // Again, with every summary read anew (no-cache), and the third replica killed a third of
    // the ideal time in.
    control.clear_calls().await?;
    let (tally, ideal) = tally_of(&whole.answers, &generated)?;
    let kill_after = Duration::from_secs_f64(ideal / 3.0);
    let victim = services.last_mut().context("replicas")?;
    let killed = fleet_across(&urls, &token, &ids, Some((kill_after, &mut victim.proc))).await?;
    let killed_calls = control.calls().await?;
    let (killed_tally, _) = tally_of(&killed.answers, &generated)?;
    drop(services);
    database.drop_now().await?;

    let value = ratio(whole.wall.as_secs_f64(), ideal);
    let target = Target::AtMost(1.1);
    let mut section = Section::new(
        'g',
        format!(
            "{REPLICAS} replicas on one PostgreSQL: the fleet summary of {} tenants × {} users split across them, Graph's limits on",
            thousands(tenants as u64),
            thousands(users as u64)
        ),
    );
    section.row("tenants", tally.describe());
    section.row(
        "ideal",
        format!(
            "{ideal:.1} s ({} pages ÷ {PER_APP} per {WINDOW_SECS} s for the app, all replicas together)",
            tally.pages
        ),
    );
    section.row(
        "fleet summary, a third of the tenants per replica",
        seconds(whole.wall),
    );
    section.row("ratio", verdict(value, target));
    section.row(
        "Graph 429s",
        format!(
            "{} ({} report pages read)",
            whole_calls.throttled, whole_calls.report_pages
        ),
    );
    for (index, kib) in rss.iter().enumerate() {
        section.row(format!("peak RSS replica {}", index + 1), mib(*kib));
    }
    section.row(
        format!(
            "replica {REPLICAS} killed (SIGKILL) after {:.1} s",
            kill_after.as_secs_f64()
        ),
        format!(
            "{}; {} tenants asked again of the others; done in {} (ratio {:.2}); Graph 429s: {}",
            killed_tally.describe(),
            killed.retried,
            seconds(killed.wall),
            killed.wall.as_secs_f64() / ideal,
            killed_calls.throttled
        ),
    );
    section.row(
        "margin on Graph's windows",
        format!("{MARGIN_MS} ms (default 100 ms)"),
    );
    section.note(
        "Each replica keeps Graph's windows in the shared database: a send time is reserved in \
         one transaction under advisory locks, so the three together keep to the app's 122 \
         report requests per 10 s and each tenant's 5.",
    );
    let met = target.met_by(value)
        && whole_calls.failed() == 0
        && tally.complete()
        && killed_tally.complete()
        && killed_calls.throttled == 0;
    Ok((section, met))
}

/// What the fleet lines say, against what the emulator generated.
struct Tally {
    summarized: usize,
    unlicensed: usize,
    unexpected: Vec<String>,
    missing: usize,
    pages: u64,
}

impl Tally {
    fn complete(&self) -> bool {
        self.unexpected.is_empty() && self.missing == 0
    }

    fn describe(&self) -> String {
        let mut text = format!(
            "{} summarized, {} without P1 (licenseRequired, as expected), missing: {}",
            self.summarized, self.unlicensed, self.missing
        );
        if !self.unexpected.is_empty() {
            text.push_str(&format!(", failed: {}", self.unexpected.join("; ")));
        }
        text
    }
}

/// The tally of `answers`, and the ideal time of their report pages under Graph's limits.
fn tally_of(
    answers: &HashMap<String, Value>,
    generated: &[&ManifestTenant],
) -> Result<(Tally, f64)> {
    let mut tally = Tally {
        summarized: 0,
        unlicensed: 0,
        unexpected: Vec::new(),
        missing: 0,
        pages: 0,
    };
    let mut most = 0;
    for tenant in generated.iter().filter(|t| t.app.is_some()) {
        let Some(entry) = answers.get(&tenant.id) else {
            tally.missing += 1;
            continue;
        };
        match (
            &entry["summary"],
            entry["problem"]["code"].as_str(),
            tenant.premium,
        ) {
            (Value::Object(summary), _, true) => {
                tally.summarized += 1;
                let pages = pages_of(summary["totalUsers"].as_u64().unwrap_or(0));
                tally.pages += pages;
                most = most.max(pages);
            }
            (_, Some("licenseRequired"), false) => tally.unlicensed += 1,
            _ => tally
                .unexpected
                .push(format!("{}: {}", tenant.id, entry["problem"]["title"])),
        }
    }
    let ideal = ideal_secs(tally.pages, PER_APP, WINDOW_SECS).max(ideal_secs(
        most,
        PER_TENANT,
        WINDOW_SECS,
    ));
    Ok((tally, ideal))
}

/// The fleet summary of `ids`, a share to each replica at once; with `kill`, the last replica
/// is killed after that long, and whatever it had not answered is shared among the others.
async fn fleet_across(
    urls: &[String],
    token: &str,
    ids: &[String],
    kill: Option<(Duration, &mut crate::procs::Proc)>,
) -> Result<Run> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let shares: Vec<Vec<String>> = (0..urls.len())
        .map(|replica| {
            ids.iter()
                .skip(replica)
                .step_by(urls.len())
                .cloned()
                .collect()
        })
        .collect();
    let fresh = kill.is_some();
    let asks = futures::future::join_all(
        urls.iter()
            .zip(&shares)
            .map(|(url, share)| fleet(&client, url, token, share, fresh)),
    );
    let killer = async {
        if let Some((after, victim)) = kill {
            tokio::time::sleep(after).await;
            victim.kill()?;
        }
        Ok::<(), anyhow::Error>(())
    };
    let (outcomes, killed) = tokio::join!(asks, killer);
    killed.context("killing a replica")?;
    let mut answers = HashMap::new();
    let mut unanswered = Vec::new();
    let mut survivors = Vec::new();
    for ((url, share), (lines, ended)) in urls.iter().zip(&shares).zip(outcomes) {
        let answered: HashSet<String> = lines
            .iter()
            .filter_map(|line| line["tenant"].as_str().map(str::to_owned))
            .collect();
        for line in lines {
            if let Some(id) = line["tenant"].as_str() {
                answers.insert(id.to_owned(), line);
            }
        }
        match ended {
            Ok(()) => survivors.push(url.clone()),
            Err(_) => unanswered.extend(share.iter().filter(|id| !answered.contains(*id)).cloned()),
        }
    }
    let retried = unanswered.len();
    if !unanswered.is_empty() {
        if survivors.is_empty() {
            bail!("no replica finished its share");
        }
        let client = &client;
        let again = futures::future::join_all(survivors.iter().enumerate().map(|(i, url)| {
            let share: Vec<String> = unanswered
                .iter()
                .skip(i)
                .step_by(survivors.len())
                .cloned()
                .collect();
            async move { fleet(client, url, token, &share, true).await }
        }))
        .await;
        for (lines, ended) in again {
            ended.context("a surviving replica's retry")?;
            for line in lines {
                if let Some(id) = line["tenant"].as_str() {
                    answers.insert(id.to_owned(), line);
                }
            }
        }
    }
    Ok(Run {
        wall: started.elapsed(),
        answers,
        retried,
    })
}

/// One replica's fleet summary of `ids` as NDJSON: the lines that arrived, and whether the
/// stream ended well (a killed replica's does not).
async fn fleet(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    ids: &[String],
    fresh: bool,
) -> (Vec<Value>, Result<()>) {
    let mut lines = Vec::new();
    let ended = read_fleet(client, url, token, ids, fresh, &mut lines).await;
    (lines, ended)
}

async fn read_fleet(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    ids: &[String],
    fresh: bool,
    lines: &mut Vec<Value>,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut request = client
        .get(format!("{url}v1/registrations/summary"))
        .query(&[("tenants", ids.join(","))])
        .bearer_auth(token)
        .header("Accept", "application/x-ndjson");
    if fresh {
        request = request.header("Cache-Control", "no-cache");
    }
    let mut response = request.send().await?.error_for_status()?;
    let mut pending = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                lines.push(serde_json::from_slice(&line).context("a fleet line")?);
            }
        }
    }
    Ok(())
}
