//! Every kind of tenant credential against the emulator's real token endpoint: each obtains a
//! Graph token in its own tenant (`tid`) with the app's consented permissions (`roles`), and
//! the tracked credential records the success, or the failure with Entra's message.
#![cfg(feature = "demo")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use azure_core::credentials::TokenCredential;
use entra_emulator::{Emulator, EmulatorConfig, seed};
use sspr_service::directory::credentials::{
    CredentialFactory, CredentialSpec, GrantedToken, SecretSource, TrackedCredential,
};
use url::Url;

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
/// An issuer outside Entra (a Kubernetes cluster's, or the one behind the metadata stand-in).
const CLUSTER_ISSUER: &str = "https://oidc.cluster.example/sspr";
const SERVICE_ACCOUNT: &str = "system:serviceaccount:sspr:sspr-service";

async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default())
        .await
        .expect("the emulator starts")
}

/// The service's own HTTP client, trusting the emulator's CA, as the demo configures it.
fn http(emulator: &Emulator) -> reqwest::Client {
    let demo = sspr_service::demo::config_for(emulator, "127.0.0.1:0".parse().expect("address"));
    sspr_service::app::http_client(&demo.graph).expect("an HTTP client")
}

fn factory(emulator: &Emulator, managed_identity_endpoint: Url) -> CredentialFactory {
    CredentialFactory::new(
        http(emulator),
        emulator.authority_host(),
        managed_identity_endpoint,
    )
}

fn no_metadata_service() -> Url {
    Url::parse("http://127.0.0.1:9/metadata/identity/oauth2/token").expect("static url")
}

/// The credential's Graph token, read: its tenant and permissions.
async fn granted(credential: &TrackedCredential) -> Result<GrantedToken, String> {
    let token = credential
        .get_token(&[GRAPH_SCOPE], None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(GrantedToken::of(token.token.secret()).expect("a JWT with a tid"))
}

/// The credential works in `tenant`: a token with its `tid`, the app's roles, a recorded success.
async fn assert_signs_in(credential: &TrackedCredential, tenant: &str) {
    let granted = granted(credential).await.expect("a Graph token");
    assert_eq!(granted.tenant_id, tenant);
    assert!(
        granted.permissions.contains("Policy.Read.All"),
        "{:?}",
        granted.permissions
    );
    let usage = credential.usage();
    assert!(
        usage.last_success.is_some() && usage.last_failure.is_none(),
        "{usage:?}"
    );
}

/// The credential is refused by Entra, and the refusal is recorded with its AADSTS message.
async fn assert_refused(credential: &TrackedCredential) -> String {
    let error = granted(credential).await.expect_err("refused");
    let (_, message) = credential.usage().last_failure.expect("a recorded failure");
    assert!(message.contains("AADSTS"), "{message}");
    error
}

#[tokio::test]
async fn a_client_secret_inline_or_from_a_file_signs_in_and_a_wrong_one_is_recorded() {
    let emulator = emulator().await;
    let factory = factory(&emulator, no_metadata_service());
    let inline = CredentialSpec::ClientSecret {
        client_id: seed::GRAPH_APP_CLIENT_ID.into(),
        secret: SecretSource::Inline(emulator.graph_app_secret().into()),
    };
    assert_signs_in(
        &factory.build(seed::CONTOSO_ID, &inline).expect("builds"),
        seed::CONTOSO_ID,
    )
    .await;

    let dir = tempfile::tempdir().expect("temp dir");
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, format!("{}\n", emulator.graph_app_secret())).expect("write");
    let from_file = CredentialSpec::ClientSecret {
        client_id: seed::GRAPH_APP_CLIENT_ID.into(),
        secret: SecretSource::File(secret_file),
    };
    assert_signs_in(
        &factory.build(seed::CONTOSO_ID, &from_file).expect("builds"),
        seed::CONTOSO_ID,
    )
    .await;

    let wrong = CredentialSpec::ClientSecret {
        client_id: seed::GRAPH_APP_CLIENT_ID.into(),
        secret: SecretSource::Inline("wrong-secret-value-123".into()),
    };
    let refused = assert_refused(&factory.build(seed::CONTOSO_ID, &wrong).expect("builds")).await;
    assert!(!refused.contains("wrong-secret-value-123"), "{refused}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_registered_certificate_signs_in_per_tenant_and_an_unregistered_one_is_refused() {
    let emulator = emulator().await;
    let factory = factory(&emulator, no_metadata_service());
    let dir = tempfile::tempdir().expect("temp dir");
    let certificate_spec = |name: &str| {
        let generated = entra_assertion::testing::self_signed(name);
        let certificate_file = dir.path().join(format!("{name}.crt"));
        let key_file = dir.path().join(format!("{name}.key"));
        std::fs::write(&certificate_file, &generated.certificate_pem).expect("write");
        std::fs::write(&key_file, &generated.key_pem).expect("write");
        let spec = CredentialSpec::Certificate {
            client_id: seed::GRAPH_APP_CLIENT_ID.into(),
            certificate: SecretSource::File(certificate_file),
            private_key: SecretSource::File(key_file),
        };
        (spec, generated.der)
    };
    let (registered, der) = certificate_spec("registered");
    emulator
        .register_certificate(seed::GRAPH_APP_CLIENT_ID, &der)
        .expect("registered");
    // The assertion's `aud` is each tenant's own token endpoint: both tenants accept theirs.
    for tenant in [seed::CONTOSO_ID, seed::FABRIKAM_ID] {
        assert_signs_in(&factory.build(tenant, &registered).expect("builds"), tenant).await;
    }
    let (unregistered, _) = certificate_spec("unregistered");
    assert_refused(
        &factory
            .build(seed::CONTOSO_ID, &unregistered)
            .expect("builds"),
    )
    .await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_workload_identity_rereads_its_token_file_for_every_token_request() {
    let emulator = emulator().await;
    let factory = factory(&emulator, no_metadata_service());
    emulator
        .register_federated_credential(seed::GRAPH_APP_CLIENT_ID, CLUSTER_ISSUER, SERVICE_ACCOUNT)
        .expect("trusted");
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = dir.path().join("token");
    let project = |subject: &str| {
        std::fs::write(
            &token_file,
            emulator.mint_federated_token(CLUSTER_ISSUER, subject),
        )
        .expect("write the projected token");
    };
    let spec = CredentialSpec::WorkloadIdentity {
        client_id: seed::GRAPH_APP_CLIENT_ID.into(),
        token_file: token_file.clone(),
    };
    project(SERVICE_ACCOUNT);
    assert_signs_in(
        &factory.build(seed::CONTOSO_ID, &spec).expect("builds"),
        seed::CONTOSO_ID,
    )
    .await;

    // The file now holds a token of a service account the app does not trust: a credential
    // built before the rotation is refused, so the file was read at the request, not at build.
    let fabrikam = factory.build(seed::FABRIKAM_ID, &spec).expect("builds");
    project("system:serviceaccount:other:intruder");
    assert_refused(&fabrikam).await;
    project(SERVICE_ACCOUNT);
    assert_signs_in(&fabrikam, seed::FABRIKAM_ID).await;

    // Gone: a credential built before fails at its next token request, a new one at build.
    let built_before = factory.build(seed::OPERATOR_ID, &spec).expect("builds");
    std::fs::remove_file(&token_file).expect("remove");
    let error = granted(&built_before).await.expect_err("no file");
    assert!(
        error.contains("cannot read the workload identity token file"),
        "{error}"
    );
    let refused = factory
        .build(seed::OPERATOR_ID, &spec)
        .expect_err("no file");
    assert!(refused.to_string().contains("does not exist"), "{refused}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn default_tenants_sign_in_to_their_own_tenant_as_the_default_app() {
    let emulator = emulator().await;
    let factory = factory(&emulator, no_metadata_service())
        .with_default_app(&CredentialSpec::ClientSecret {
            client_id: seed::GRAPH_APP_CLIENT_ID.into(),
            secret: SecretSource::Inline(emulator.graph_app_secret().into()),
        })
        .expect("a default app");
    assert_eq!(
        factory
            .client_id(&CredentialSpec::Default)
            .expect("resolved"),
        seed::GRAPH_APP_CLIENT_ID
    );
    for tenant in [seed::CONTOSO_ID, seed::FABRIKAM_ID] {
        let credential = factory
            .build(tenant, &CredentialSpec::Default)
            .expect("builds");
        assert_signs_in(&credential, tenant).await;
    }
    emulator.shutdown().await;
}

/// The user-assigned identity the metadata stand-in has.
const IDENTITY: &str = "a6c1f0e2-0b7d-4c55-9e1a-5d2f7c3b9a10";

/// A stand-in for the instance metadata service on loopback: it answers [`IDENTITY`] with
/// `token` when asked as IMDS is asked, and counts the requests.
async fn metadata_service(token: String) -> (Url, Arc<AtomicUsize>) {
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use std::collections::HashMap;

    type Answer = (Arc<AtomicUsize>, String);
    async fn answer(
        State((asked, token)): State<Answer>,
        headers: HeaderMap,
        Query(query): Query<HashMap<String, String>>,
    ) -> axum::response::Response {
        asked.fetch_add(1, Ordering::SeqCst);
        let refuse = |description: &str| {
            (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({"error": "invalid_request", "error_description": description})),
            )
                .into_response()
        };
        if headers.get("metadata").and_then(|v| v.to_str().ok()) != Some("true") {
            return refuse("Required metadata header not specified");
        }
        if query.get("api-version").map(String::as_str) != Some("2018-02-01")
            || query.get("resource").map(String::as_str) != Some("api://AzureADTokenExchange")
        {
            return refuse("Unexpected api-version or resource");
        }
        if query.get("client_id").map(String::as_str) != Some(IDENTITY) {
            return refuse("Identity not found");
        }
        let expires_on = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        axum::Json(serde_json::json!({
            "access_token": token,
            "expires_in": "3600",
            "expires_on": expires_on.to_string(),
            "resource": "api://AzureADTokenExchange",
            "token_type": "Bearer",
        }))
        .into_response()
    }
    let asked = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = Url::parse(&format!(
        "http://{}/metadata/identity/oauth2/token",
        listener.local_addr().expect("address")
    ))
    .expect("url");
    let router = axum::Router::new()
        .route(
            "/metadata/identity/oauth2/token",
            axum::routing::get(answer),
        )
        .with_state((asked.clone(), token));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, asked)
}

#[tokio::test]
async fn a_managed_identity_token_is_the_assertion_fetched_once_for_every_tenant() {
    const IDENTITY_ISSUER: &str = "https://login.identity-stand-in.example/uami/v2.0";
    const IDENTITY_PRINCIPAL: &str = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f";
    let emulator = emulator().await;
    // The app trusts the identity's tokens as a federated credential (issuer + principal).
    emulator
        .register_federated_credential(
            seed::GRAPH_APP_CLIENT_ID,
            IDENTITY_ISSUER,
            IDENTITY_PRINCIPAL,
        )
        .expect("trusted");
    let identity_token = emulator.mint_federated_token(IDENTITY_ISSUER, IDENTITY_PRINCIPAL);
    let (endpoint, asked) = metadata_service(identity_token).await;

    let factory = factory(&emulator, endpoint)
        .with_default_app(&CredentialSpec::ManagedIdentity {
            client_id: seed::GRAPH_APP_CLIENT_ID.into(),
            identity_client_id: IDENTITY.into(),
        })
        .expect("a default app");
    for tenant in [seed::CONTOSO_ID, seed::FABRIKAM_ID] {
        let credential = factory
            .build(tenant, &CredentialSpec::Default)
            .expect("builds");
        assert_signs_in(&credential, tenant).await;
    }
    // One identity token, cached until shortly before it expires, served both tenants.
    assert_eq!(asked.load(Ordering::SeqCst), 1);

    // An identity the host does not have: the metadata service's own words are the failure.
    let unknown = factory
        .build(
            seed::CONTOSO_ID,
            &CredentialSpec::ManagedIdentity {
                client_id: seed::GRAPH_APP_CLIENT_ID.into(),
                identity_client_id: "11111111-2222-4333-8444-555555555555".into(),
            },
        )
        .expect("builds");
    let error = granted(&unknown).await.expect_err("no such identity");
    assert!(error.contains("Identity not found"), "{error}");
    let (_, recorded) = unknown.usage().last_failure.expect("recorded");
    assert!(recorded.contains("Identity not found"), "{recorded}");
    emulator.shutdown().await;
}
