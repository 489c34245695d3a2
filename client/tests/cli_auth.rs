//! `--auth` (`SSPR_AUTH`): each way of signing in to the service, run with the real binary
//! against the demo, the emulator's token endpoint checking the assertion or federated token.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{Run, demo, sspr};
use entra_emulator::seed;

/// The operator tenant's authority on the emulator.
fn authority(demo: &sspr_service::demo::Demo) -> String {
    demo.emulator
        .base_url()
        .join(&format!("{}/", seed::OPERATOR_ID))
        .expect("authority")
        .to_string()
}

fn base_env(demo: &sspr_service::demo::Demo) -> Vec<(&'static str, String)> {
    vec![
        ("SSPR_URL", demo.service.url.to_string()),
        (
            "SSPR_CA_FILE",
            demo.emulator.ca_file().display().to_string(),
        ),
    ]
}

/// The run listed the demo's tenants: it signed in.
fn assert_signed_in(run: &Run) {
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("contoso.onmicrosoft.com"),
        "{}",
        run.stdout
    );
}

/// The run failed to sign in (exit code 3), saying `why`.
fn assert_refused(run: &Run, why: &str) {
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains(why), "{}", run.stderr);
}

/// A self-signed RSA certificate and its key, as one PEM file's text, and its DER.
fn certificate() -> (String, Vec<u8>) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let certificate = rcgen::CertificateParams::new(vec!["sspr-runbook".into()])
        .expect("params")
        .self_signed(&pair)
        .expect("self-signed");
    (
        format!("{}{}", certificate.pem(), pair.serialize_pem()),
        certificate.der().to_vec(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_certificate_signs_in_and_an_unregistered_one_is_refused() {
    let demo = demo().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (registered_pem, der) = certificate();
    demo.emulator
        .register_certificate(seed::CLI_APP_CLIENT_ID, &der)
        .expect("uploaded");
    let registered = dir.path().join("registered.pem");
    std::fs::write(&registered, &registered_pem).expect("written");
    let (stranger_pem, _) = certificate();
    let stranger = dir.path().join("stranger.pem");
    std::fs::write(&stranger, &stranger_pem).expect("written");

    let mut env = base_env(&demo);
    env.extend([
        ("SSPR_AUTH", "certificate".to_owned()),
        ("SSPR_AUTHORITY", authority(&demo)),
        ("SSPR_CLIENT_ID", seed::CLI_APP_CLIENT_ID.to_owned()),
    ]);
    let path = registered.display().to_string();
    let run = sspr(&["tenants", "list", "--certificate", &path], &env).await;
    assert_signed_in(&run);
    assert_eq!(demo.emulator.token_requests(seed::OPERATOR_ID), 1);

    let path = stranger.display().to_string();
    let refused = sspr(&["tenants", "list", "--certificate", &path], &env).await;
    assert_refused(&refused, "invalid_client");
    assert!(
        !refused.stderr.contains("PRIVATE KEY"),
        "{}",
        refused.stderr
    );

    let missing = sspr(&["tenants", "list"], &env).await;
    assert_refused(&missing, "SSPR_CERTIFICATE (--certificate)");
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_identity_reads_the_webhook_variables_and_the_projected_token_file() {
    let demo = demo().await;
    let issuer = "https://oidc.cluster.example/sspr";
    let subject = "system:serviceaccount:runbooks:sspr";
    demo.emulator
        .register_federated_credential(seed::CLI_APP_CLIENT_ID, issuer, subject)
        .expect("federated credential");
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(
        &token_file,
        demo.emulator.mint_federated_token(issuer, subject),
    )
    .expect("written");

    let mut env = base_env(&demo);
    env.extend([
        ("SSPR_AUTH", "workload-identity".to_owned()),
        (
            "AZURE_FEDERATED_TOKEN_FILE",
            token_file.display().to_string(),
        ),
        ("AZURE_CLIENT_ID", seed::CLI_APP_CLIENT_ID.to_owned()),
        ("AZURE_TENANT_ID", seed::OPERATOR_ID.to_owned()),
        ("AZURE_AUTHORITY_HOST", demo.emulator.base_url().to_string()),
    ]);
    let run = sspr(&["tenants", "list"], &env).await;
    assert_signed_in(&run);

    // A token of another service account matches no federated credential.
    std::fs::write(
        &token_file,
        demo.emulator
            .mint_federated_token(issuer, "system:serviceaccount:other:app"),
    )
    .expect("rewritten");
    let refused = sspr(&["tenants", "list"], &env).await;
    assert_refused(&refused, "No matching federated identity record");
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_cli_asks_az_for_the_service_audience() {
    let demo = demo().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // A stand-in `az` that records its arguments and prints what `az account
    // get-access-token` prints, with a token the demo's service accepts.
    let arguments = dir.path().join("arguments");
    let az = dir.path().join("az");
    let answer = serde_json::json!({
        "accessToken": demo.token,
        "expires_on": time::OffsetDateTime::now_utc().unix_timestamp() + 600,
        "tokenType": "Bearer",
    });
    std::fs::write(
        &az,
        format!(
            "#!/bin/sh\necho \"$@\" > '{}'\ncat <<'JSON'\n{answer}\nJSON\n",
            arguments.display()
        ),
    )
    .expect("written");
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).expect("executable");

    let mut env = base_env(&demo);
    env.extend([
        ("SSPR_AUTH", "azure-cli".to_owned()),
        (
            "PATH",
            format!(
                "{}:{}",
                dir.path().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ),
    ]);
    let run = sspr(&["tenants", "list"], &env).await;
    assert_signed_in(&run);
    let asked = std::fs::read_to_string(&arguments).expect("az ran");
    assert!(
        asked.contains("account get-access-token") && asked.contains("--resource api://sspr"),
        "{asked}"
    );
    demo.stop().await.expect("stops");
}

/// A stand-in for the instance metadata service on loopback: answers every request with
/// `token`, and returns the request heads it saw.
fn metadata_service(token: String) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/metadata/identity/oauth2/token",
        listener.local_addr().expect("address")
    );
    let (heads, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                head.push_str(&line);
                line.clear();
            }
            let body = serde_json::json!({"access_token": token, "expires_in": "600"}).to_string();
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = heads.send(head);
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_identity_asks_the_metadata_service_for_the_user_assigned_identity() {
    let demo = demo().await;
    let (endpoint, seen) = metadata_service(demo.token.clone());
    let mut env = base_env(&demo);
    env.extend([
        ("SSPR_AUTH", "managed-identity".to_owned()),
        ("SSPR_MANAGED_IDENTITY_ENDPOINT", endpoint),
        (
            "SSPR_CLIENT_ID",
            "5e1f0c1d-0000-4000-8000-00000000a11d".to_owned(),
        ),
    ]);
    let run = sspr(&["tenants", "list"], &env).await;
    assert_signed_in(&run);
    let head = seen.recv().expect("the metadata service was asked");
    let request_line = head.lines().next().unwrap_or_default();
    assert!(
        request_line.starts_with("GET /metadata/identity/oauth2/token?"),
        "{head}"
    );
    assert!(request_line.contains("resource=api%3A%2F%2Fsspr"), "{head}");
    assert!(
        request_line.contains("client_id=5e1f0c1d-0000-4000-8000-00000000a11d"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase().contains("metadata: true"),
        "{head}"
    );
    demo.stop().await.expect("stops");
}
