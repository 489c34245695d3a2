//! The Graph side over HTTPS: documented JSON, bearer validation, permissions, call log.

mod common;

use std::time::Duration;

use common::{graph_get, graph_token, start};
use entra_emulator::{TokenSpec, seed};
use serde_json::{Value, json};

fn graph_spec(tenant: &str, roles: &[&str]) -> TokenSpec {
    TokenSpec {
        tenant_id: tenant.into(),
        audience: seed::GRAPH_RESOURCE.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        app_id: seed::GRAPH_APP_CLIENT_ID.into(),
        oid: seed::GRAPH_APP_SP_CONTOSO.into(),
        ..TokenSpec::default()
    }
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON body")
}

#[tokio::test]
async fn graph_endpoints_return_the_documented_json_for_each_tenant() {
    let (emulator, client) = start().await;
    let contoso = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let fabrikam = graph_token(&client, &emulator, seed::FABRIKAM_ID).await;

    // authenticationMethodsPolicy (§1.10)
    let response = graph_get(
        &client,
        &emulator,
        "policies/authenticationMethodsPolicy",
        Some(&contoso),
    )
    .await;
    assert_eq!(response.status(), 200);
    let amp = json_of(response).await;
    assert_eq!(
        amp["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#authenticationMethodsPolicy"
    );
    assert_eq!(amp["id"], "authenticationMethodsPolicy");
    assert_eq!(amp["policyMigrationState"], "migrationInProgress");
    assert_eq!(amp["reconfirmationInDays"], 180);
    let campaign = &amp["registrationEnforcement"]["authenticationMethodsRegistrationCampaign"];
    assert_eq!(campaign["state"], "enabled");
    let configs = amp["authenticationMethodConfigurations"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = configs.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "MicrosoftAuthenticator",
            "Sms",
            "Voice",
            "Email",
            "SoftwareOath",
            "Fido2",
            "TemporaryAccessPass",
            "X509Certificate"
        ]
    );
    let by_id = |id: &str| configs.iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(
        by_id("Email")["@odata.type"],
        "#microsoft.graph.emailAuthenticationMethodConfiguration"
    );
    assert_eq!(by_id("Email")["state"], "enabled");
    assert_eq!(
        by_id("Email")["includeTargets"][0]["id"],
        seed::CONTOSO_GROUP_SSPR_USERS
    );
    assert_eq!(
        by_id("Email")["excludeTargets"][0]["id"],
        seed::CONTOSO_GROUP_BREAK_GLASS
    );
    assert_eq!(by_id("Voice")["isOfficePhoneAllowed"], true);
    assert_eq!(by_id("SoftwareOath")["state"], "disabled");

    let fab_amp = json_of(
        graph_get(
            &client,
            &emulator,
            "policies/authenticationMethodsPolicy",
            Some(&fabrikam),
        )
        .await,
    )
    .await;
    assert_eq!(fab_amp["policyMigrationState"], "preMigration");
    assert_eq!(fab_amp["reconfirmationInDays"], Value::Null);
    assert_eq!(
        fab_amp["registrationEnforcement"]["authenticationMethodsRegistrationCampaign"]["state"],
        "default"
    );

    // authorizationPolicy (§2.1)
    let authz = json_of(
        graph_get(
            &client,
            &emulator,
            "policies/authorizationPolicy",
            Some(&contoso),
        )
        .await,
    )
    .await;
    assert_eq!(
        authz["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#policies/authorizationPolicy/$entity"
    );
    assert_eq!(authz["id"], "authorizationPolicy");
    assert_eq!(authz["allowedToUseSSPR"], false);
    assert!(authz["defaultUserRolePermissions"]["allowedToReadOtherUsers"].is_boolean());
    let fab_authz = json_of(
        graph_get(
            &client,
            &emulator,
            "policies/authorizationPolicy",
            Some(&fabrikam),
        )
        .await,
    )
    .await;
    assert_eq!(fab_authz["allowedToUseSSPR"], true);

    // organization (§3.1): a collection with one element.
    let response = graph_get(&client, &emulator, "organization", Some(&contoso)).await;
    assert_eq!(response.status(), 200);
    let org = json_of(response).await;
    assert_eq!(
        org["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#organization"
    );
    let org = &org["value"][0];
    assert_eq!(org["id"], seed::CONTOSO_ID);
    assert_eq!(org["onPremisesSyncEnabled"], true);
    assert!(org["onPremisesLastSyncDateTime"].is_string());
    assert_eq!(org["tenantType"], "AAD");
    assert!(org["assignedPlans"].as_array().unwrap().iter().any(|p| {
        p["servicePlanId"] == seed::AAD_PREMIUM_PLAN_ID && p["capabilityStatus"] == "Enabled"
    }));
    let initial = org["verifiedDomains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["isInitial"] == true)
        .unwrap();
    assert_eq!(initial["name"], seed::CONTOSO_DOMAIN);

    let fab_org =
        json_of(graph_get(&client, &emulator, "organization", Some(&fabrikam)).await).await;
    let fab_org = &fab_org["value"][0];
    assert_eq!(fab_org["onPremisesSyncEnabled"], Value::Null);
    assert!(
        !fab_org["assignedPlans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["service"] == "AADPremiumService")
    );
}

#[tokio::test]
async fn graph_responses_carry_request_ids_and_echo_the_client_request_id() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let url = emulator.graph_base_url().join("organization").unwrap();
    let response = client
        .get(url)
        .bearer_auth(&token)
        .header("client-request-id", "5b0f7a1e-4c2d-4e8f-9a6b-1c3d5e7f9a0b")
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    assert!(uuid::Uuid::parse_str(headers["request-id"].to_str().unwrap()).is_ok());
    assert_eq!(
        headers["client-request-id"],
        "5b0f7a1e-4c2d-4e8f-9a6b-1c3d5e7f9a0b"
    );
    assert!(headers["date"].to_str().unwrap().ends_with(" GMT"));

    // Errors too, with the ids repeated in innerError.
    let response = graph_get(&client, &emulator, "organization", None).await;
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let client_request_id = response.headers()["client-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body = json_of(response).await;
    assert_eq!(body["error"]["innerError"]["request-id"], request_id);
    assert_eq!(
        body["error"]["innerError"]["client-request-id"],
        client_request_id
    );
    assert!(body["error"]["innerError"]["date"].is_string());
}

async fn assert_unauthenticated(response: reqwest::Response, message_contains: &str) {
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    let body = json_of(response).await;
    assert_eq!(
        body["error"]["code"], "InvalidAuthenticationToken",
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(message_contains), "{message}");
}

#[tokio::test]
async fn bad_tokens_are_401_invalid_authentication_token() {
    let (emulator, client) = start().await;
    let path = "policies/authorizationPolicy";
    let roles = &["Policy.Read.All"];

    assert_unauthenticated(graph_get(&client, &emulator, path, None).await, "empty").await;
    assert_unauthenticated(
        graph_get(&client, &emulator, path, Some("not-a-jwt")).await,
        "malformed",
    )
    .await;

    let expired = emulator.mint_token(&TokenSpec {
        lifetime: Duration::ZERO,
        issued_at_offset_secs: -7200,
        not_before_offset_secs: -7200,
        ..graph_spec(seed::CONTOSO_ID, roles)
    });
    assert_unauthenticated(
        graph_get(&client, &emulator, path, Some(&expired)).await,
        "Access token has expired or is not yet valid.",
    )
    .await;

    let not_yet = emulator.mint_token(&TokenSpec {
        not_before_offset_secs: 600,
        ..graph_spec(seed::CONTOSO_ID, roles)
    });
    assert_unauthenticated(
        graph_get(&client, &emulator, path, Some(&not_yet)).await,
        "Access token has expired or is not yet valid.",
    )
    .await;

    // A token for our API is not a Graph token.
    let wrong_audience = emulator.mint_token(&TokenSpec {
        audience: seed::SERVICE_AUDIENCE.into(),
        ..graph_spec(seed::CONTOSO_ID, roles)
    });
    assert_unauthenticated(
        graph_get(&client, &emulator, path, Some(&wrong_audience)).await,
        "audience",
    )
    .await;

    let wrong_issuer = emulator.mint_token(&TokenSpec {
        issuer: Some(emulator.issuer(seed::FABRIKAM_ID)),
        ..graph_spec(seed::CONTOSO_ID, roles)
    });
    assert_unauthenticated(
        graph_get(&client, &emulator, path, Some(&wrong_issuer)).await,
        "issuer",
    )
    .await;

    let unknown_tenant =
        emulator.mint_token(&graph_spec("99999999-8888-4777-8666-555555555555", roles));
    assert_unauthenticated(
        graph_get(&client, &emulator, path, Some(&unknown_tenant)).await,
        "tenant",
    )
    .await;

    // Tampered payload: signature no longer matches.
    let good = emulator.mint_token(&graph_spec(seed::CONTOSO_ID, roles));
    let parts: Vec<&str> = good.split('.').collect();
    let other = emulator.mint_token(&graph_spec(seed::FABRIKAM_ID, roles));
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert_unauthenticated(
        graph_get(&client, &emulator, path, Some(&tampered)).await,
        "signature",
    )
    .await;

    // HS256 signed with the RSA public key, carrying the real kid ("key confusion").
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = jsonwebtoken::decode_header(&good).unwrap().kid;
    let confused = jsonwebtoken::encode(
        &header,
        &common::claims(&good),
        &jsonwebtoken::EncodingKey::from_secret(emulator.signing_public_key_pem().as_bytes()),
    )
    .unwrap();
    assert_unauthenticated(
        graph_get(&client, &emulator, path, Some(&confused)).await,
        "algorithm",
    )
    .await;

    // All counted as Graph requests; the readable ones under the token's tenant.
    assert_eq!(emulator.graph_requests(""), 2);
    // (The tampered token carries fabrikam's payload, so it counts there.)
    assert_eq!(emulator.graph_requests(seed::CONTOSO_ID), 5);
    assert_eq!(emulator.graph_requests(seed::FABRIKAM_ID), 1);
    assert_eq!(
        emulator.graph_requests("99999999-8888-4777-8666-555555555555"),
        1
    );
    assert_eq!(emulator.graph_requests_total(), 9);
}

#[tokio::test]
async fn a_token_without_the_permission_is_403_authorization_request_denied() {
    let (emulator, client) = start().await;
    let token = emulator.mint_token(&graph_spec(seed::CONTOSO_ID, &["Organization.Read.All"]));
    let response = graph_get(
        &client,
        &emulator,
        "policies/authenticationMethodsPolicy",
        Some(&token),
    )
    .await;
    assert_eq!(response.status(), 403);
    let body = json_of(response).await;
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
    assert_eq!(
        body["error"]["message"],
        "Insufficient privileges to complete the operation."
    );

    // The same token may read what it was granted.
    let response = graph_get(&client, &emulator, "organization", Some(&token)).await;
    assert_eq!(response.status(), 200);
    // Each read permission alone is enough for the methods policy.
    for role in [
        "Policy.Read.AuthenticationMethod",
        "Policy.ReadWrite.AuthenticationMethod",
        "Policy.Read.All",
    ] {
        let token = emulator.mint_token(&graph_spec(seed::CONTOSO_ID, &[role]));
        let response = graph_get(
            &client,
            &emulator,
            "policies/authenticationMethodsPolicy",
            Some(&token),
        )
        .await;
        assert_eq!(response.status(), 200, "{role}");
    }
}

#[tokio::test]
async fn unknown_paths_are_400_bad_request_naming_the_segment() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let response = graph_get(
        &client,
        &emulator,
        "policies/passwordResetPolicy",
        Some(&token),
    )
    .await;
    assert_eq!(response.status(), 400);
    let body = json_of(response).await;
    assert_eq!(body["error"]["code"], "BadRequest");
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'passwordResetPolicy'."
    );

    // Path segments are case-insensitive, like Graph.
    let response = graph_get(
        &client,
        &emulator,
        "Policies/AuthorizationPolicy",
        Some(&token),
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn with_tenant_changes_show_up_in_the_next_graph_response_and_counts_move() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let before = json_of(
        graph_get(
            &client,
            &emulator,
            "policies/authorizationPolicy",
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(before["allowedToUseSSPR"], false);

    let changed = emulator.with_tenant(seed::CONTOSO_DOMAIN, |t| {
        t.authorization_policy["allowedToUseSSPR"] = json!(true);
        t.authentication_methods_policy["policyMigrationState"] = json!("migrationComplete");
        t.set_synced(false);
        t.set_premium(false);
    });
    assert!(changed.is_some());
    assert!(
        emulator
            .with_tenant("nope.onmicrosoft.com", |_| ())
            .is_none()
    );

    let after = json_of(
        graph_get(
            &client,
            &emulator,
            "policies/authorizationPolicy",
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(after["allowedToUseSSPR"], true);
    let amp = json_of(
        graph_get(
            &client,
            &emulator,
            "policies/authenticationMethodsPolicy",
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(amp["policyMigrationState"], "migrationComplete");
    let org = json_of(graph_get(&client, &emulator, "organization", Some(&token)).await).await;
    assert_eq!(org["value"][0]["onPremisesSyncEnabled"], Value::Null);
    assert!(
        !org["value"][0]["assignedPlans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["servicePlanId"] == seed::AAD_PREMIUM_PLAN_ID)
    );

    assert_eq!(emulator.token_requests(seed::CONTOSO_ID), 1);
    assert_eq!(emulator.graph_requests(seed::CONTOSO_ID), 4);
    assert_eq!(emulator.graph_requests(seed::FABRIKAM_ID), 0);
    assert_eq!(emulator.graph_requests_total(), 4);
    let last = emulator.calls().pop().unwrap();
    assert_eq!(last.path, "/v1.0/organization");
    assert_eq!(last.method, "GET");
    assert_eq!(last.status, 200);
    assert_eq!(last.tenant_id.as_deref(), Some(seed::CONTOSO_ID));
}
