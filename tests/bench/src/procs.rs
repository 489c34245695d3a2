//! The measured processes: the emulator, the service and the CLI, started from the release
//! binaries, each killed when its handle is dropped; and their peak memory from `/proc`.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// A child process that is killed (and reaped) when dropped.
pub struct Proc {
    child: Child,
    name: &'static str,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &'static str, mut command: Command, log: PathBuf) -> Result<Proc> {
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", command.get_program()))?;
        Ok(Proc { child, name, log })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The peak resident set so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64> {
        vm_hwm_kib(self.pid()).with_context(|| format!("reading the {} peak RSS", self.name))
    }

    /// Kills it at once (SIGKILL), as a node failure or the OOM killer would.
    pub fn kill(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Fails with the end of its log when the process has exited.
    fn check_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); its log ends:\n{}",
                self.name,
                log_tail(&self.log)
            );
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// `VmHWM` of `/proc/<pid>/status` in KiB: the process's peak resident set.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_hwm(&status)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// The emulator's manifest (`serve --manifest`): where it listens and every tenant's credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub base_url: String,
    pub graph_base_url: String,
    pub ca_file: PathBuf,
    pub control_key: String,
    pub service_audience: String,
    pub cli_app: App,
    /// The service's user-assigned managed identity (its tokens for the service carry
    /// `SSPR.Admin`).
    pub managed_identity: ManifestIdentity,
    pub tenants: Vec<ManifestTenant>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestIdentity {
    pub endpoint: String,
    pub client_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestTenant {
    pub id: String,
    pub domain: String,
    pub premium: bool,
    pub token_url: String,
    /// The Graph app's registration, consented here; `None` in its home tenant.
    pub app: Option<App>,
}

impl Manifest {
    /// The tenants `--tenants N` generated (the seeded ones are left out).
    pub fn generated(&self) -> Vec<&ManifestTenant> {
        use entra_emulator::seed;
        self.tenants
            .iter()
            .filter(|t| {
                ![
                    seed::CONTOSO_ID,
                    seed::FABRIKAM_ID,
                    seed::OPERATOR_ID,
                    seed::TAILSPIN_ID,
                ]
                .contains(&t.id.as_str())
            })
            .collect()
    }
}

/// A running `entra-emulator serve`.
pub struct Emulator {
    /// Held so the emulator stops when this is dropped.
    _process: Proc,
    pub manifest: Manifest,
}

impl Emulator {
    /// Starts the emulator with `tenants` generated tenants of `users` users each and waits for
    /// its manifest.
    pub fn start(
        bin_dir: &Path,
        work: &Path,
        tenants: usize,
        users: usize,
        seed: u64,
    ) -> Result<Emulator> {
        let manifest_path = work.join(format!("emulator-{seed}.json"));
        let _ = std::fs::remove_file(&manifest_path);
        let mut command = Command::new(bin_dir.join("entra-emulator"));
        command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(["--tenants", &tenants.to_string()])
            .args(["--users", &users.to_string()])
            .args(["--seed", &seed.to_string()])
            .arg("--manifest")
            .arg(&manifest_path)
            .arg("--ca-file")
            .arg(work.join(format!("emulator-ca-{seed}.pem")))
            .env("RUST_LOG", "warn");
        let mut proc = Proc::spawn("entra-emulator", command, work.join("emulator.log"))?;
        let started = Instant::now();
        let manifest = loop {
            proc.check_running()?;
            if let Ok(text) = std::fs::read_to_string(&manifest_path)
                && let Ok(manifest) = serde_json::from_str::<Manifest>(&text)
            {
                break manifest;
            }
            if started.elapsed() > Duration::from_secs(600) {
                bail!("the emulator wrote no manifest in 10 minutes");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Ok(Emulator {
            _process: proc,
            manifest,
        })
    }
}

/// A running `sspr-service serve`.
pub struct Service {
    pub proc: Proc,
    pub url: String,
}

/// How the service is configured for a scenario.
#[derive(Default)]
pub struct ServiceSettings<'a> {
    /// The tenants it manages.
    pub tenants: Vec<&'a ManifestTenant>,
    /// Keep to Graph's limits itself (`graph.limits.enabled`).
    pub limits: bool,
    /// The service-wide `[default_app]`, with a client secret, if any.
    pub default_app: Option<App>,
    /// The PostgreSQL database replicas share (`[store] url`); without it, a SQLite file of
    /// the scenario's own.
    pub shared_store: Option<String>,
    /// `graph.limits.margin_ms`, when not the service's default.
    pub margin_ms: Option<u64>,
    /// Which of several services on one scenario this is: its configuration, log and port are
    /// its own.
    pub instance: usize,
}

impl Service {
    /// Writes a configuration for `manifest` and starts the service; returns once `/healthz`
    /// answers.
    pub async fn start(
        bin_dir: &Path,
        work: &Path,
        manifest: &Manifest,
        settings: &ServiceSettings<'_>,
    ) -> Result<Service> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let name = match settings.instance {
            0 => "service".to_owned(),
            n => format!("service-{n}"),
        };
        let config_path = work.join(format!("{name}.toml"));
        std::fs::write(&config_path, service_config(manifest, settings, port, work))?;
        let mut command = Command::new(bin_dir.join("sspr-service"));
        command
            .args(["serve", "--config"])
            .arg(&config_path)
            .env("RUST_LOG", "warn");
        // The configuration file is the whole truth: no SSPR_* overrides from this shell.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SSPR_") {
                command.env_remove(name);
            }
        }
        let mut proc = Proc::spawn("sspr-service", command, work.join(format!("{name}.log")))?;
        let url = format!("http://127.0.0.1:{port}/");
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            proc.check_running()?;
            let ready = http
                .get(format!("{url}healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(Service { proc, url });
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("the service did not answer /healthz in 2 minutes");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04X}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The service's configuration: tokens from the emulator's operator tenant, the CLI app allowed
/// everywhere, Graph and the token endpoint on the emulator, every tenant of `settings`.
fn service_config(
    manifest: &Manifest,
    settings: &ServiceSettings<'_>,
    port: u16,
    work: &Path,
) -> String {
    use entra_emulator::seed;
    let q = toml_string;
    let base = &manifest.base_url;
    let mut text = String::new();
    let _ = writeln!(text, "listen = {}\n", q(&format!("127.0.0.1:{port}")));
    let _ = writeln!(text, "[[auth.issuers]]");
    let _ = writeln!(
        text,
        "discovery_url = {}",
        q(&format!(
            "{base}{}/v2.0/.well-known/openid-configuration",
            seed::OPERATOR_ID
        ))
    );
    let _ = writeln!(text, "audience = {}\n", q(&manifest.service_audience));
    let _ = writeln!(text, "[[auth.access]]");
    let _ = writeln!(text, "principal = {}", q(&manifest.cli_app.client_id));
    let _ = writeln!(text, "tenants = [\"*\"]\n");
    // The managed identity administers the fleet: scenario f onboards tenants with its token.
    let _ = writeln!(text, "[[auth.access]]");
    let _ = writeln!(
        text,
        "principal = {}",
        q(&manifest.managed_identity.client_id)
    );
    let _ = writeln!(text, "tenants = [\"*\"]\n");
    let _ = writeln!(text, "[graph]");
    let _ = writeln!(text, "authority_host = {}", q(base));
    let _ = writeln!(text, "base_url = {}", q(&manifest.graph_base_url));
    let _ = writeln!(text, "ca_file = {}", q(&manifest.ca_file.to_string_lossy()));
    let _ = writeln!(text, "timeout_secs = 60");
    let _ = writeln!(text, "portal_base_url = {}\n", q(base));
    let _ = writeln!(text, "[graph.limits]");
    let _ = writeln!(text, "enabled = {}", settings.limits);
    if let Some(margin) = settings.margin_ms {
        let _ = writeln!(text, "margin_ms = {margin}");
    }
    let _ = writeln!(text);
    let _ = writeln!(text, "[store]");
    match &settings.shared_store {
        Some(url) => {
            let _ = writeln!(text, "url = {}\n", q(url));
        }
        None => {
            let _ = writeln!(
                text,
                "path = {}\n",
                q(&work.join("sspr.db").to_string_lossy())
            );
        }
    }
    if let Some(app) = &settings.default_app {
        let _ = writeln!(text, "[default_app]");
        let _ = writeln!(text, "kind = \"clientSecret\"");
        let _ = writeln!(text, "client_id = {}", q(&app.client_id));
        let _ = writeln!(text, "client_secret = {}\n", q(&app.client_secret));
    }
    for tenant in &settings.tenants {
        let Some(app) = &tenant.app else { continue };
        let _ = writeln!(text, "[[tenants]]");
        let _ = writeln!(text, "id = {}", q(&tenant.id));
        let _ = writeln!(text, "domains = [{}]", q(&tenant.domain));
        let _ = writeln!(
            text,
            "credential = {{ kind = \"clientSecret\", client_id = {}, client_secret = {} }}\n",
            q(&app.client_id),
            q(&app.client_secret)
        );
    }
    text
}

/// How one run of the CLI went.
#[derive(Debug, Clone)]
pub struct CliRun {
    pub code: i32,
    pub wall: Duration,
    /// Lines written to stdout.
    pub lines: u64,
    /// The peak resident set seen while it ran, in KiB.
    pub peak_rss_kib: u64,
    /// Stdout, when kept (small outputs only).
    pub stdout: Option<String>,
    pub stderr: String,
}

/// Runs `sspr` against `service` with client credentials of the CLI app; stdout is counted as
/// it arrives (and kept when `keep_stdout`), the peak RSS polled from `/proc` until it exits.
pub fn run_cli(
    bin_dir: &Path,
    emulator: &Manifest,
    service: &Service,
    args: &[&str],
    keep_stdout: bool,
) -> Result<CliRun> {
    use entra_emulator::seed;
    let mut command = Command::new(bin_dir.join("sspr"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SSPR_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .env("SSPR_URL", &service.url)
        .env(
            "SSPR_AUTHORITY",
            format!("{}{}/", emulator.base_url, seed::OPERATOR_ID),
        )
        .env("SSPR_CLIENT_ID", &emulator.cli_app.client_id)
        .env("SSPR_CLIENT_SECRET", &emulator.cli_app.client_secret)
        .env(
            "SSPR_SCOPE",
            format!("{}/.default", emulator.service_audience),
        )
        .env("SSPR_CA_FILE", &emulator.ca_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().context("starting sspr")?;
    let pid = child.id();
    let mut stdout = child.stdout.take().context("stdout")?;
    let mut stderr = child.stderr.take().context("stderr")?;
    let reader = std::thread::spawn(move || -> std::io::Result<(u64, Option<Vec<u8>>)> {
        let mut buffer = vec![0u8; 256 * 1024];
        let mut lines = 0u64;
        let mut kept = keep_stdout.then(Vec::new);
        loop {
            let n = stdout.read(&mut buffer)?;
            if n == 0 {
                return Ok((lines, kept));
            }
            lines += buffer[..n].iter().filter(|b| **b == b'\n').count() as u64;
            if let Some(kept) = &mut kept {
                kept.extend_from_slice(&buffer[..n]);
            }
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = started.elapsed();
    let (lines, kept) = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the stdout reader panicked"))??;
    let stderr = errors
        .join()
        .map_err(|_| anyhow::anyhow!("the stderr reader panicked"))?;
    Ok(CliRun {
        code: status.code().unwrap_or(-1),
        wall,
        lines,
        peak_rss_kib: peak,
        stdout: kept.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_from_proc_status() {
        let status = "Name:\tsspr\nVmPeak:\t  20000 kB\nVmHWM:\t    8123 kB\nVmRSS:\t 8000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(8123));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
        assert!(vm_hwm_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }

    #[test]
    fn toml_strings_escape_quotes_and_backslashes() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("x\ny"), r#""x\u000Ay""#);
    }
}
