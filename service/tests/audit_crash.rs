//! The service dies between an upstream change and the record of its outcome: the real
//! `sspr-service serve` binary, configured like the demo against an in-process emulator, is
//! killed with SIGKILL while the read-back after a policy write is held, then started again on
//! the same store. The attempt committed before the upstream call is still there, now with
//! outcome `unknown`.
#![cfg(all(unix, feature = "demo"))]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entra_emulator::{Emulator, EmulatorConfig, FaultRule, TokenSpec, seed};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use sspr_service::config::{Config, CredentialConfig};
use std::io::{BufRead as _, BufReader};
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Child, Command, Stdio};
use url::Url;

const POLICY: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";
const REQUEST_ID: &str = "crash-test-7";

/// A TOML string (JSON's escapes are TOML's).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

fn quoted_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| quoted(i)).collect();
    format!("[{}]", items.join(", "))
}

/// The demo's configuration as the TOML file an operator would write, with the store at `store`.
fn toml_config(config: &Config, store: &Path) -> String {
    let mut toml = format!("listen = {}\n", quoted(&config.listen.to_string()));
    for issuer in &config.auth.issuers {
        toml += &format!(
            "[[auth.issuers]]\ndiscovery_url = {}\naudience = {}\n",
            quoted(issuer.discovery_url.as_str()),
            quoted(&issuer.audience)
        );
    }
    for grant in &config.auth.access {
        toml += &format!(
            "[[auth.access]]\nprincipal = {}\ntenants = {}\n",
            quoted(&grant.principal),
            quoted_list(&grant.tenants)
        );
    }
    let graph = &config.graph;
    toml += &format!(
        "[graph]\nauthority_host = {}\nbase_url = {}\ntimeout_secs = {}\nportal_base_url = {}\n",
        quoted(graph.authority_host.as_str()),
        quoted(graph.base_url.as_str()),
        graph.timeout_secs,
        quoted(graph.portal_base_url.as_str()),
    );
    if let Some(ca_file) = &graph.ca_file {
        toml += &format!("ca_file = {}\n", quoted(&ca_file.to_string_lossy()));
    }
    toml += &format!("[store]\npath = {}\n", quoted(&store.to_string_lossy()));
    for tenant in &config.tenants {
        let CredentialConfig::ClientSecret {
            client_id,
            client_secret,
        } = &tenant.credential
        else {
            panic!("the demo's tenants sign in with a client secret");
        };
        toml += &format!(
            "[[tenants]]\nid = {}\ndomains = {}\ncredential = {{ kind = \"clientSecret\", client_id = {}, client_secret = {} }}\n",
            quoted(&tenant.id),
            quoted_list(&tenant.domains),
            quoted(client_id),
            quoted(client_secret.expose_secret()),
        );
        if let Some(portal) = &tenant.portal {
            toml += &format!(
                "portal = {{ refresh_token = {}, client_id = {} }}\n",
                quoted(portal.refresh_token.expose_secret()),
                quoted(&portal.client_id)
            );
        }
    }
    toml
}

/// `sspr-service serve` as a child process, with its log lines.
struct Service {
    child: Child,
    url: Url,
    log: Arc<Mutex<Vec<String>>>,
}

impl Service {
    async fn start(config: &Path) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sspr-service"));
        command
            .args(["serve", "--log-json", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // Only the file configures it, whatever this test's environment holds.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SSPR_") {
                command.env_remove(name);
            }
        }
        let mut child = command.spawn().expect("sspr-service starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (found, url) = tokio::sync::oneshot::channel();
        let kept = Arc::clone(&log);
        // Reads the log until the process is gone, so its pipe never fills.
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let parsed: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                if parsed["fields"]["message"] == "sspr-service listening"
                    && let (Some(url), Some(found)) =
                        (parsed["fields"]["url"].as_str(), found.take())
                {
                    let _ = found.send(url.to_owned());
                }
                kept.lock().expect("log").push(line);
            }
        });
        let url = match tokio::time::timeout(Duration::from_secs(30), url).await {
            Ok(Ok(url)) => url,
            _ => {
                let _ = child.kill();
                panic!("the service did not start: {:?}", log.lock().expect("log"));
            }
        };
        Service {
            child,
            url: Url::parse(&url).expect("url"),
            log,
        }
    }

    fn logged(&self, text: &str) -> bool {
        self.log
            .lock()
            .expect("log")
            .iter()
            .any(|line| line.contains(text))
    }

    /// SIGKILL: no shutdown, no destructor, no last write.
    fn kill(mut self) {
        self.child.kill().expect("kill");
        let status = self.child.wait().expect("wait");
        assert_eq!(status.signal(), Some(9), "{status}");
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // A failed assertion must not leave the process running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn audit(http: &reqwest::Client, service: &Service, admin: &str, query: &str) -> Vec<Value> {
    let response = http
        .get(service.url.join(&format!("v1/audit{query}")).expect("url"))
        .bearer_auth(admin)
        .send()
        .await
        .expect("audit answers");
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.expect("json");
    page["value"].as_array().expect("value").clone()
}

/// Polls `check` every 20 ms for up to 15 s.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every `method` `path` call waits `ms` before the emulator handles it; nothing else.
fn held(method: &str, path: &str, ms: u64) -> FaultRule {
    FaultRule {
        method: Some(method.to_owned()),
        path: Some(path.to_owned()),
        path_prefix: None,
        latency_ms: ms,
        fault: None,
        probability: 1.0,
        times: None,
    }
}

fn contoso_allows_admin_sspr(emulator: &Emulator) -> bool {
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.authorization_policy["allowedToUseSSPR"] == json!(true)
        })
        .expect("contoso")
}

#[tokio::test]
async fn a_service_killed_between_the_upstream_change_and_its_outcome_leaves_an_unknown_record() {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let config_file = dir.path().join("sspr.toml");
    let config = sspr_service::demo::config_for(&emulator, SocketAddr::from(([127, 0, 0, 1], 0)));
    std::fs::write(
        &config_file,
        toml_config(&config, &dir.path().join("sspr.db")),
    )
    .expect("config written");
    let token = |role: &str| {
        emulator.mint_token(&TokenSpec {
            roles: vec![role.to_owned()],
            upn: Some(format!("ada@{}", seed::OPERATOR_DOMAIN)),
            ..TokenSpec::default()
        })
    };
    let (writer, admin) = (token("SSPR.ReadWrite"), token("SSPR.Admin"));
    let http = reqwest::Client::new();

    let first = Service::start(&config_file).await;
    let read = http
        .get(first.url.join(POLICY).expect("url"))
        .bearer_auth(&writer)
        .send()
        .await
        .expect("policy read");
    assert_eq!(read.status(), 200);
    let etag = read.headers()["etag"].to_str().expect("etag").to_owned();
    let wanted = !contoso_allows_admin_sspr(&emulator);

    // The write is held for 3 s by the emulator: long enough to see the attempt meanwhile.
    emulator
        .set_faults(vec![held(
            "PATCH",
            "/v1.0/policies/authorizationPolicy",
            3_000,
        )])
        .expect("faults");
    let change = tokio::spawn(
        http.patch(first.url.join(POLICY).expect("url"))
            .bearer_auth(&writer)
            .header("if-match", &etag)
            .header("x-request-id", REQUEST_ID)
            .header("content-type", "application/merge-patch+json")
            .body(json!({"administrators": {"allowedToUseSspr": wanted}}).to_string())
            .send(),
    );

    // Committed before the upstream call: visible, as `attempted`, while the call is held.
    let attempted = eventually("an attempted record", || {
        let (http, first, admin) = (&http, &first, &admin);
        async move {
            audit(http, first, admin, "?outcome=attempted")
                .await
                .into_iter()
                .next()
        }
    })
    .await;
    let id = attempted["id"].as_i64().expect("id");
    assert_eq!(attempted["requestId"], REQUEST_ID);
    assert_eq!(attempted["completedAt"], Value::Null);

    // The read-back after the write waits far longer than this test does.
    emulator
        .set_faults(vec![held("GET", "/v1.0/organization", 60_000)])
        .expect("faults");
    eventually("the change applied upstream", || {
        let applied = contoso_allows_admin_sspr(&emulator) == wanted;
        async move { applied.then_some(()) }
    })
    .await;
    let still = audit(&http, &first, &admin, "").await;
    assert_eq!(still[0]["id"], id);
    assert_eq!(still[0]["outcome"], "attempted", "{:#}", still[0]);

    first.kill();
    let answer = change.await.expect("request task");
    assert!(answer.is_err(), "the caller got no answer: {answer:?}");
    emulator.clear_faults();

    let second = Service::start(&config_file).await;
    let records = audit(&http, &second, &admin, "").await;
    assert_eq!(records.len(), 1, "{records:#?}");
    let record = &records[0];
    assert_eq!(record["id"], id);
    assert_eq!(record["outcome"], "unknown");
    assert!(
        record["error"]
            .as_str()
            .is_some_and(|e| e.contains("stopped before recording the outcome")),
        "{record:#}"
    );
    assert!(record["completedAt"].is_string(), "{record:#}");
    assert_eq!(record["requestId"], REQUEST_ID);
    assert_eq!(record["tenantId"], seed::CONTOSO_ID);
    assert_eq!(record["operation"], "policy.patch");
    assert_eq!(
        record["actor"]["upn"],
        format!("ada@{}", seed::OPERATOR_DOMAIN)
    );
    assert_eq!(record["actor"]["oid"], seed::DEMO_OPERATOR_OID);
    assert_eq!(record["actor"]["roles"], json!(["SSPR.ReadWrite"]));
    assert_eq!(
        record["before"]["administrators"]["allowedToUseSspr"],
        !wanted
    );
    assert_eq!(
        record["after"]["administrators"]["allowedToUseSspr"], wanted,
        "the planned document"
    );
    assert_eq!(
        record["diff"][0]["pointer"],
        "/administrators/allowedToUseSspr"
    );
    let unknown = audit(&http, &second, &admin, "?outcome=unknown").await;
    assert_eq!(unknown.len(), 1);
    assert!(
        second.logged("recorded as outcome unknown"),
        "the start-up says what it closed"
    );
    second.kill();
}
