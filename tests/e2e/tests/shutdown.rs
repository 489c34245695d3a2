//! SIGTERM to the real `sspr-service` binary during a long listing: readiness turns 503 at
//! once on a connection already open, no new connection is accepted, the listing is cut when
//! the grace is over, and the process exits 0. The same run checks the JSON log lines.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entra_emulator::{Emulator, EmulatorConfig, FaultRule, TokenSpec, seed};
use serde_json::Value;

/// The grace the service gets in this test; the listing below takes far longer.
const GRACE_SECS: u64 = 2;
const POLICY_REQUEST_ID: &str = "shutdown-policy-read";
const LISTING_REQUEST_ID: &str = "shutdown-long-listing";

/// The `sspr-service` binary of this build, built when it is missing or stale (an e2e test
/// depends on the service's library only, so Cargo does not build its binary for us).
fn service_binary() -> PathBuf {
    // target/<profile>/deps/shutdown-… → target/<profile>/
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf();
    let mut build = Command::new(env!("CARGO"));
    build
        .args([
            "build",
            "--quiet",
            "-p",
            "sspr-service",
            "--bin",
            "sspr-service",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "cargo build -p sspr-service: {status}");
    profile_dir.join("sspr-service")
}

/// The service process, killed if the test fails before it exits; its standard error, line by
/// line, as it comes.
struct Service {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Service {
    fn start(config: &Path) -> Service {
        let mut child = Command::new(service_binary())
            .args(["serve", "--config"])
            .arg(config)
            .env("SSPR_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sspr-service starts");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("lines").push(line);
            }
        });
        Service { child, lines }
    }

    /// The first log line (parsed) that `wanted` accepts, waiting up to `within` for it.
    async fn line(&self, within: Duration, wanted: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + within;
        loop {
            if let Some(found) = self.json_lines().into_iter().find(|line| wanted(line)) {
                return found;
            }
            assert!(
                Instant::now() < until,
                "no such log line in:\n{}",
                self.text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn json_lines(&self) -> Vec<Value> {
        self.lines
            .lock()
            .expect("lines")
            .iter()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|_| panic!("a log line that is not JSON: {line}"))
            })
            .collect()
    }

    fn text(&self) -> String {
        self.lines.lock().expect("lines").join("\n")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or_default()
}

/// The request span of a line logged while serving a request (the outermost span).
fn request_span(line: &Value) -> Option<&Value> {
    line["spans"]
        .as_array()
        .and_then(|spans| spans.iter().find(|span| span["name"] == "request"))
}

fn config_file(emulator: &Emulator, dir: &Path) -> PathBuf {
    let toml = format!(
        r#"listen = "127.0.0.1:0"

[graph]
authority_host = "{authority}"
base_url = "{graph}"
portal_base_url = "{portal}"
ca_file = "{ca}"

[[auth.issuers]]
discovery_url = "{discovery}"
audience = "{audience}"

[[auth.access]]
principal = "{operator}"
tenants = ["*"]

[[tenants]]
id = "{contoso}"
domains = ["{contoso_domain}"]
credential = {{ kind = "clientSecret", client_id = "{app}", client_secret = "{secret}" }}

[store]
path = "{store}"

[server]
shutdown_grace_secs = {GRACE_SECS}
"#,
        authority = emulator.authority_host(),
        graph = emulator.graph_base_url(),
        portal = emulator.base_url(),
        ca = emulator.ca_file().display(),
        discovery = emulator.discovery_url(seed::OPERATOR_ID),
        audience = seed::SERVICE_AUDIENCE,
        operator = seed::DEMO_OPERATOR_OID,
        contoso = seed::CONTOSO_ID,
        contoso_domain = seed::CONTOSO_DOMAIN,
        app = seed::GRAPH_APP_CLIENT_ID,
        secret = emulator.graph_app_secret(),
        store = dir.join("sspr.db").display(),
    );
    let path = dir.join("sspr.toml");
    std::fs::write(&path, toml).expect("config written");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_long_listing_turns_readiness_off_cuts_it_after_the_grace_and_exits_0() {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(&config_file(&emulator, dir.path()));
    let listening = service
        .line(Duration::from_secs(120), |line| {
            message(line) == "sspr-service listening"
        })
        .await;
    let url: url::Url = listening["fields"]["url"]
        .as_str()
        .expect("url field")
        .parse()
        .expect("a URL");
    let address: SocketAddr = url.socket_addrs(|| None).expect("address")[0];
    let token = emulator.mint_token(&TokenSpec {
        roles: vec!["SSPR.Read".into()],
        ..TokenSpec::default()
    });

    // One kept-alive connection: a readiness probe, then a policy read (for the log check).
    let kept = reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(1)
        .build()
        .expect("client");
    let ready = kept
        .get(url.join("readyz").expect("url"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    ready.bytes().await.expect("body");
    let policy = kept
        .get(
            url.join("v1/tenants/contoso.onmicrosoft.com/sspr/policy")
                .expect("url"),
        )
        .bearer_auth(&token)
        .header("x-request-id", POLICY_REQUEST_ID)
        .send()
        .await
        .expect("policy");
    assert_eq!(policy.status(), 200);
    policy.bytes().await.expect("body");

    // Graph answers the registration report after a minute: the listing is in flight long
    // after the grace.
    emulator
        .set_faults(vec![
            FaultRule {
                path: None,
                path_prefix: Some("/v1.0/reports/".into()),
                fault: None,
                ..FaultRule::new("GET", "/", entra_emulator::Fault::GatewayTimeout)
            }
            .latency(Duration::from_secs(60))
            .times(1),
        ])
        .expect("faults");
    let listing_url = url
        .join("v1/tenants/contoso.onmicrosoft.com/registrations")
        .expect("url");
    let listing_token = token.clone();
    let listing = tokio::spawn(async move {
        let response = reqwest::Client::new()
            .get(listing_url)
            .bearer_auth(listing_token)
            .header("x-request-id", LISTING_REQUEST_ID)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await.map(|body| (status, body))
    });
    // The listing's report read has reached Graph: the rule fired once and is gone.
    let until = Instant::now() + Duration::from_secs(20);
    while !emulator.faults().is_empty() {
        assert!(Instant::now() < until, "the listing never read the report");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let pid = service.child.id().to_string();
    let signalled = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let draining = service
        .line(Duration::from_secs(5), |line| {
            message(line).starts_with("shutting down")
        })
        .await;
    assert_eq!(draining["fields"]["in_flight"], 1, "{draining}");

    // The connection already open is still answered: not ready, and it closes after that.
    let not_ready = kept
        .get(url.join("readyz").expect("url"))
        .send()
        .await
        .expect("readyz on the open connection");
    assert_eq!(not_ready.status(), 503);
    assert_eq!(not_ready.headers()["connection"], "close");
    let health: Value = not_ready.json().await.expect("json");
    assert_eq!(health["status"], "notReady", "{health}");
    assert_eq!(health["problems"], serde_json::json!(["shutting down"]));
    // A new connection is refused.
    assert!(
        TcpStream::connect(address).is_err(),
        "a new connection was accepted while shutting down"
    );

    // The grace passes, the listing is cut, the process exits 0.
    let mut service = service;
    let exit_by = signalled + Duration::from_secs(GRACE_SECS + 5);
    let status = loop {
        if let Some(status) = service.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < exit_by,
            "still running {:?} after SIGTERM (grace {GRACE_SECS} s):\n{}",
            signalled.elapsed(),
            service.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}:\n{}", service.text());
    let listing = tokio::time::timeout(Duration::from_secs(5), listing)
        .await
        .expect("the listing ended with the process")
        .expect("task");
    assert!(
        listing.is_err(),
        "Graph had not answered, so the listing was cut, not finished: {listing:?}"
    );
    let cut = service
        .line(Duration::from_secs(1), |line| {
            message(line).starts_with("the shutdown grace is over")
        })
        .await;
    assert_eq!(cut["fields"]["cut"], 1, "{cut}");
    assert_eq!(cut["level"], "WARN");

    // Every line logged inside the policy read carries its request id, route and tenant.
    let lines = service.json_lines();
    let policy_lines: Vec<&Value> = lines
        .iter()
        .filter(|line| {
            request_span(line).is_some_and(|span| span["request_id"] == POLICY_REQUEST_ID)
        })
        .collect();
    assert!(
        policy_lines
            .iter()
            .any(|line| message(line) == "graph call"),
        "the policy read's Graph calls are logged inside it:\n{}",
        service.text()
    );
    for line in &policy_lines {
        let span = request_span(line).expect("request span");
        assert_eq!(span["route"], "/v1/tenants/{tenant}/sspr/policy", "{line}");
        assert_eq!(span["tenant"], seed::CONTOSO_DOMAIN, "{line}");
        assert_eq!(span["method"], "GET", "{line}");
    }
    // The token and the app's secret are in no line.
    let text = service.text();
    assert!(!text.contains(&token), "a bearer token was logged");
    assert!(
        !text.contains(&emulator.graph_app_secret()),
        "the client secret was logged"
    );
}
