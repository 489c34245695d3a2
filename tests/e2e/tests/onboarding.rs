//! The tenant registry end to end: onboarding customer tenants through the API with no restart,
//! updating and offboarding them, the read-only configuration tenants, the admin-consent link,
//! and access grants made through the API; secrets never in an answer or in the store file.

use reqwest::Method;
use serde_json::{Value, json};
use sspr_e2e::{GeneratedTenant, World};

/// Emulator tenants the service does not manage yet (the generated ones, dropped from the
/// configuration), and the demo's configuration tenants.
async fn world_with_customers(count: usize) -> (World, Vec<GeneratedTenant>) {
    World::start_generated(count, 3, |config| {
        config
            .tenants
            .retain(|t| !t.domains.iter().any(|d| d.starts_with("tenant")));
    })
    .await
}

fn admin(world: &World) -> String {
    world.token(&["SSPR.Admin"])
}

fn client_secret(world: &World) -> Value {
    json!({
        "kind": "clientSecret",
        "clientId": entra_emulator::seed::GRAPH_APP_CLIENT_ID,
        "clientSecret": world.emulator.graph_app_secret(),
    })
}

fn ids(list: &Value) -> Vec<String> {
    list["value"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_tenant_onboarded_by_domain_is_usable_at_once_then_updated_and_offboarded() {
    let (world, customers) = world_with_customers(1).await;
    let customer = &customers[0];
    let token = admin(&world);
    let secret = world.emulator.graph_app_secret();
    let policy = format!("v1/tenants/{}/sspr/policy", customer.domain);
    let (status, _) = world.call(Method::GET, &policy, &token, None).await;
    assert_eq!(status, 404, "not managed yet");

    // By domain: the id comes from the tenant's discovery document.
    let response = world
        .http
        .post(world.service.url.join("v1/tenants").expect("url"))
        .bearer_auth(&token)
        .json(&json!({
            "tenant": customer.domain.to_uppercase(),
            "tags": ["region:eu", "tier:gold"],
            "credential": client_secret(&world),
        }))
        .send()
        .await
        .expect("answers");
    let status = response.status();
    let location = response.headers().get("location").cloned();
    let text = response.text().await.expect("body");
    assert_eq!(status, 201, "{text}");
    assert_eq!(
        location.expect("Location"),
        format!("/v1/tenants/{}", customer.id).as_str()
    );
    assert!(!text.contains(&secret), "the secret came back: {text}");
    let onboarded: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(onboarded["id"], customer.id.as_str());
    assert_eq!(onboarded["domain"], customer.domain.as_str());
    assert_eq!(onboarded["origin"], "api");
    assert_eq!(onboarded["tags"], json!(["region:eu", "tier:gold"]));
    assert_eq!(onboarded["credential"]["kind"], "clientSecret");
    assert_eq!(onboarded["credential"]["secretStorage"], "encrypted");

    // Usable at once: Graph answers for it, no restart.
    let (status, document) = world.call(Method::GET, &policy, &token, None).await;
    assert_eq!(status, 200, "{document:#}");
    let (status, list) = world.call(Method::GET, "v1/tenants", &token, None).await;
    assert_eq!(status, 200);
    assert!(ids(&list).contains(&customer.id));
    let (status, verdict) = world
        .call(
            Method::POST,
            &format!("v1/tenants/{}/verify", customer.id),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{verdict:#}");
    assert_eq!(verdict["tokenIssued"], true);

    // Once only, by id or by domain.
    for name in [customer.id.as_str(), customer.domain.as_str()] {
        let (status, problem) = world
            .call(
                Method::POST,
                "v1/tenants",
                &token,
                Some(json!({"tenant": name, "credential": client_secret(&world)})),
            )
            .await;
        assert_eq!(status, 409, "{problem:#}");
        assert_eq!(problem["code"], "tenantExists");
    }

    // What is given changes; what is absent stays.
    let path = format!("v1/tenants/{}", customer.id);
    let (status, updated) = world
        .call(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"tags": ["region:us"], "displayName": "Customer One"})),
        )
        .await;
    assert_eq!(status, 200, "{updated:#}");
    assert_eq!(updated["tags"], json!(["region:us"]));
    assert_eq!(updated["displayName"], "Customer One");
    assert_eq!(updated["credential"]["kind"], "clientSecret");
    assert_eq!(
        updated["verification"]["tokenIssued"], true,
        "same credential: verdict kept"
    );

    // Configuration tenants are read-only here.
    for method in [Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"tags": ["x:y"]}));
        let (status, problem) = world
            .call(method, "v1/tenants/contoso.onmicrosoft.com", &token, body)
            .await;
        assert_eq!(status, 409, "{problem:#}");
        assert_eq!(problem["code"], "tenantReadOnly");
    }

    // Offboarding: gone at once; the audit trail keeps what happened.
    let response = world
        .http
        .delete(world.service.url.join(&path).expect("url"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 204);
    let (status, _) = world.call(Method::GET, &policy, &token, None).await;
    assert_eq!(status, 404);
    let (status, audit) = world.call(Method::GET, "v1/audit", &token, None).await;
    assert_eq!(status, 200, "{audit:#}");
    let operations: Vec<&str> = audit["value"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["tenantId"] == customer.id.as_str())
        .filter_map(|r| r["operation"].as_str())
        .collect();
    assert_eq!(
        operations,
        ["tenants.remove", "tenants.update", "tenants.add"],
        "newest first"
    );
    assert!(!audit.to_string().contains(&secret));
}

#[tokio::test]
async fn bad_onboarding_input_names_the_field_and_keeps_nothing() {
    let (world, customers) = world_with_customers(1).await;
    let token = admin(&world);
    let customer = &customers[0];
    let cases = [
        (
            json!({"tenant": "", "credential": client_secret(&world)}),
            400,
            "tenant",
        ),
        (
            json!({"tenant": "nobody.example", "credential": client_secret(&world)}),
            422,
            "tenant",
        ),
        (
            json!({"tenant": customer.id, "tags": ["Not A Tag"], "credential": client_secret(&world)}),
            400,
            "tags",
        ),
        (
            json!({"tenant": customer.id, "credential": {"kind": "clientSecret", "clientId": "not-a-guid", "clientSecret": "x"}}),
            400,
            "credential.clientId",
        ),
        (
            json!({"tenant": customer.id, "credential": {"kind": "clientSecret", "clientId": entra_emulator::seed::GRAPH_APP_CLIENT_ID}}),
            400,
            "credential.clientSecret",
        ),
    ];
    for (body, expected, field) in cases {
        let (status, problem) = world
            .call(Method::POST, "v1/tenants", &token, Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{body}: {problem:#}");
        assert_eq!(problem["field"], field, "{body}: {problem:#}");
    }
    let (_, list) = world.call(Method::GET, "v1/tenants", &token, None).await;
    assert!(!ids(&list).contains(&customer.id), "nothing was kept");

    // The registry is the fleet administrator's: a writer, or an admin of some tenants, may not.
    let writer = world.token(&["SSPR.ReadWrite"]);
    let (status, problem) = world
        .call(
            Method::POST,
            "v1/tenants",
            &writer,
            Some(json!({"tenant": customer.id, "credential": client_secret(&world)})),
        )
        .await;
    assert_eq!(status, 403, "{problem:#}");
}

#[tokio::test]
async fn the_consent_link_is_v2_admin_consent_for_the_tenant_id() {
    let world = World::start().await;
    let token = admin(&world);
    let (status, link) = world
        .call(
            Method::GET,
            "v1/tenants/contoso.com/consent?redirectUri=https%3A%2F%2Fsspr.example%2Fconsent%2Fcallback",
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{link:#}");
    let url = url::Url::parse(link["url"].as_str().expect("url")).expect("a URL");
    assert_eq!(
        url.path(),
        format!("/{}/v2.0/adminconsent", entra_emulator::seed::CONTOSO_ID)
    );
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query["client_id"],
        entra_emulator::seed::GRAPH_APP_CLIENT_ID
    );
    assert_eq!(query["scope"], "https://graph.microsoft.com/.default");
    assert_eq!(
        query["redirect_uri"],
        "https://sspr.example/consent/callback"
    );
    assert_eq!(query["state"], link["state"].as_str().expect("state"));
    assert!(
        link["permissions"]
            .as_array()
            .expect("permissions")
            .contains(&json!("Policy.ReadWrite.ConditionalAccess"))
    );
    let (status, problem) = world
        .call(
            Method::GET,
            "v1/tenants/contoso.com/consent?redirectUri=ftp%3A%2F%2Fx",
            &token,
            None,
        )
        .await;
    assert_eq!(status, 400, "{problem:#}");
    assert_eq!(problem["field"], "redirectUri");
}

#[tokio::test]
async fn a_grant_made_through_the_api_scopes_a_principal_to_a_tag_up_to_its_role() {
    const EU_HELPDESK: &str = "7a7a7a7a-1111-4222-8333-944444444444";
    let world = World::start().await;
    let token = admin(&world);
    let helpdesk = world.emulator.mint_token(&entra_emulator::TokenSpec {
        roles: vec!["SSPR.Admin".into()],
        oid: EU_HELPDESK.into(),
        app_id: "7a7a7a7a-2222-4333-8444-955555555555".into(),
        ..entra_emulator::TokenSpec::default()
    });
    let (status, list) = world.call(Method::GET, "v1/tenants", &helpdesk, None).await;
    assert_eq!(status, 200);
    assert!(ids(&list).is_empty(), "no grant yet: {list:#}");

    let (status, grant) = world
        .call(
            Method::POST,
            "v1/access",
            &token,
            Some(json!({"principal": EU_HELPDESK, "tenants": ["tag:region:eu"], "role": "SSPR.Read"})),
        )
        .await;
    assert_eq!(status, 201, "{grant:#}");
    assert_eq!(grant["origin"], "api");
    let (status, list) = world.call(Method::GET, "v1/tenants", &helpdesk, None).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&list), [entra_emulator::seed::CONTOSO_ID]);
    // Up to its role: the token's SSPR.Admin does not lift the grant's SSPR.Read.
    let (status, problem) = world
        .call(
            Method::POST,
            "v1/tenants/contoso.onmicrosoft.com/verify",
            &helpdesk,
            None,
        )
        .await;
    assert_eq!(status, 403, "{problem:#}");
    // Another region's tenant answers as if it did not exist.
    let (status, hidden) = world
        .call(
            Method::GET,
            "v1/tenants/fabrikam.onmicrosoft.com",
            &helpdesk,
            None,
        )
        .await;
    let (_, unknown) = world
        .call(Method::GET, "v1/tenants/nowhere.example", &helpdesk, None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(hidden["code"], unknown["code"]);
    // Managing grants is the fleet administrator's.
    let (status, _) = world.call(Method::GET, "v1/access", &helpdesk, None).await;
    assert_eq!(status, 403);

    let (status, all) = world.call(Method::GET, "v1/access", &token, None).await;
    assert_eq!(status, 200);
    let origins: Vec<&str> = all["value"]
        .as_array()
        .expect("grants")
        .iter()
        .filter_map(|g| g["origin"].as_str())
        .collect();
    assert!(
        origins.contains(&"config") && origins.contains(&"api"),
        "{all:#}"
    );

    let id = grant["id"].as_str().expect("id");
    let response = world
        .http
        .delete(
            world
                .service
                .url
                .join(&format!("v1/access/{id}"))
                .expect("url"),
        )
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 204);
    let (_, list) = world.call(Method::GET, "v1/tenants", &helpdesk, None).await;
    assert!(ids(&list).is_empty(), "revoked: {list:#}");
    let (status, problem) = world
        .call(Method::DELETE, &format!("v1/access/{id}"), &token, None)
        .await;
    assert_eq!(status, 404, "{problem:#}");
    let (status, problem) = world
        .call(Method::DELETE, "v1/access/config-0", &token, None)
        .await;
    assert_eq!(status, 409, "{problem:#}");
}

/// `POST /v1/tenants/{tenant}/verify`: whether a fresh token was issued.
async fn token_issued(world: &World, token: &str, tenant: &str) -> Value {
    let (status, verdict) = world
        .call(
            Method::POST,
            &format!("v1/tenants/{tenant}/verify"),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{verdict:#}");
    verdict["tokenIssued"].clone()
}

fn write_token(path: &std::path::Path, token: &str) {
    std::fs::write(path, token).expect("token file");
}

#[tokio::test]
async fn every_kind_of_credential_onboards_and_signs_in_at_once() {
    use entra_emulator::seed;
    let (world, customers) = world_with_customers(4).await;
    let token = admin(&world);
    let dir = tempfile::tempdir().expect("temp dir");

    // A certificate uploaded to the app registration, given inline: sealed in the store.
    let certificate = entra_assertion::testing::self_signed("sspr-e2e");
    world
        .emulator
        .register_certificate(seed::GRAPH_APP_CLIENT_ID, &certificate.der)
        .expect("registered");
    // Workload identity: the cluster's projected token in a file the service re-reads.
    let token_file = dir.path().join("token");
    let projected = |account: &str| {
        world.emulator.mint_service_account_token(
            seed::DEMO_CLUSTER,
            seed::DEMO_NAMESPACE,
            account,
            std::time::Duration::from_secs(3600),
        )
    };
    write_token(&token_file, &projected(seed::DEMO_SERVICE_ACCOUNT));
    let kinds = [
        (
            json!({"kind": "certificate", "clientId": seed::GRAPH_APP_CLIENT_ID,
                   "certificatePem": certificate.certificate_pem, "privateKeyPem": certificate.key_pem}),
            "certificate",
            "encrypted",
        ),
        (
            json!({"kind": "workloadIdentity", "clientId": seed::GRAPH_APP_CLIENT_ID,
                   "tokenFile": token_file}),
            "workloadIdentity",
            "none",
        ),
        (json!({"kind": "default"}), "default", "none"),
        (
            json!({"kind": "managedIdentity", "clientId": seed::GRAPH_APP_CLIENT_ID,
                   "identityClientId": seed::SERVICE_UAMI_CLIENT_ID}),
            "managedIdentity",
            "none",
        ),
    ];
    for ((credential, kind, storage), customer) in kinds.into_iter().zip(&customers) {
        let (status, added) = world
            .call(
                Method::POST,
                "v1/tenants",
                &token,
                Some(json!({"tenant": customer.id, "credential": credential})),
            )
            .await;
        assert_eq!(status, 201, "{kind}: {added:#}");
        assert_eq!(added["credential"]["kind"], kind);
        assert_eq!(added["credential"]["secretStorage"], storage, "{kind}");
        assert_eq!(
            added["credential"]["clientId"],
            seed::GRAPH_APP_CLIENT_ID,
            "{kind}: the default app is the MSP's app"
        );
        assert!(
            !added.to_string().contains("PRIVATE KEY"),
            "{kind}: {added:#}"
        );
        assert_eq!(
            token_issued(&world, &token, &customer.id).await,
            true,
            "{kind}"
        );
        let policy = format!("v1/tenants/{}/sspr/policy", customer.id);
        let (status, document) = world.call(Method::GET, &policy, &token, None).await;
        assert_eq!(status, 200, "{kind}: {document:#}");
    }

    // The token file is read for every token request: another service account's token is
    // refused, the cluster's rotated one works again.
    let wif = &customers[1].id;
    write_token(&token_file, &projected("someone-else"));
    assert_eq!(token_issued(&world, &token, wif).await, false);
    write_token(&token_file, &projected(seed::DEMO_SERVICE_ACCOUNT));
    assert_eq!(token_issued(&world, &token, wif).await, true);

    // A key that does not parse is refused before anything is kept, without quoting it.
    let (status, problem) = world
        .call(
            Method::POST,
            "v1/tenants",
            &token,
            Some(json!({"tenant": seed::TAILSPIN_ID, "credential": {
                "kind": "certificate", "clientId": seed::GRAPH_APP_CLIENT_ID,
                "certificatePem": certificate.certificate_pem,
                "privateKeyPem": "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"}})),
        )
        .await;
    assert_eq!(status, 422, "{problem:#}");
    assert_eq!(problem["field"], "credential");
    assert!(!problem.to_string().contains("bm90IGEga2V5"), "{problem:#}");
}

#[tokio::test]
async fn a_principal_granted_one_tag_sees_nothing_of_another_tags_onboarded_tenant() {
    const EU_HELPDESK: &str = "7a7a7a7a-1111-4222-8333-944444444444";
    let (world, customers) = world_with_customers(2).await;
    let token = admin(&world);
    let (eu, us) = (&customers[0], &customers[1]);
    for (customer, tag) in [(eu, "region:eu"), (us, "region:us")] {
        let (status, added) = world
            .call(
                Method::POST,
                "v1/tenants",
                &token,
                Some(json!({"tenant": customer.id, "domains": [customer.domain],
                            "tags": [tag], "credential": {"kind": "default"}})),
            )
            .await;
        assert_eq!(status, 201, "{added:#}");
    }
    let (status, _) = world
        .call(
            Method::POST,
            "v1/access",
            &token,
            Some(json!({"principal": EU_HELPDESK, "tenants": ["tag:region:eu"], "role": "SSPR.Admin"})),
        )
        .await;
    assert_eq!(status, 201);
    for customer in [eu, us] {
        let (status, _) = world
            .call(
                Method::PATCH,
                &format!("v1/tenants/{}", customer.id),
                &token,
                Some(json!({"displayName": "Renamed"})),
            )
            .await;
        assert_eq!(status, 200);
    }
    let helpdesk = world.emulator.mint_token(&entra_emulator::TokenSpec {
        roles: vec!["SSPR.Admin".into()],
        oid: EU_HELPDESK.into(),
        app_id: "7a7a7a7a-2222-4333-8444-955555555555".into(),
        ..entra_emulator::TokenSpec::default()
    });
    // Its own tenant works; the audit trail of the onboardings is the first thing to check.
    let (status, list) = world.call(Method::GET, "v1/tenants", &helpdesk, None).await;
    assert_eq!(status, 200);
    let visible = ids(&list);
    assert!(
        visible.contains(&eu.id) && !visible.contains(&us.id),
        "{list:#}"
    );
    let (status, audit) = world.call(Method::GET, "v1/audit", &helpdesk, None).await;
    assert_eq!(status, 200, "{audit:#}");
    let text = audit.to_string();
    assert!(text.contains(&eu.id), "{audit:#}");

    let unknown_problem = |problem: &Value, path: &str| {
        assert_eq!(problem["code"], "unknownTenant", "{path}: {problem:#}");
        assert!(
            !problem.to_string().contains(&us.id) || path.contains(&us.id),
            "{path}"
        );
    };
    for name in [us.id.as_str(), us.domain.as_str()] {
        for (method, path, body) in [
            (Method::GET, format!("v1/tenants/{name}"), None),
            (Method::GET, format!("v1/tenants/{name}/sspr/policy"), None),
            (
                Method::GET,
                format!("v1/tenants/{name}/registrations/summary"),
                None,
            ),
            (
                Method::GET,
                format!("v1/tenants/{name}/registration-protection"),
                None,
            ),
            (
                Method::GET,
                format!("v1/tenants/{name}/consent?redirectUri=https%3A%2F%2Fx.example%2F"),
                None,
            ),
            (Method::POST, format!("v1/tenants/{name}/verify"), None),
            (Method::GET, format!("v1/audit?tenant={name}"), None),
            (
                Method::GET,
                format!("v1/registrations/summary?tenants={name}"),
                None,
            ),
            (
                Method::PATCH,
                format!("v1/tenants/{name}"),
                Some(json!({"tags": ["region:eu"]})),
            ),
        ] {
            let (status, problem) = world.call(method.clone(), &path, &helpdesk, body).await;
            // A registry change is the fleet administrator's (403) before any tenant is looked up.
            if method == Method::PATCH {
                assert_eq!(status, 403, "{path}: {problem:#}");
                assert!(
                    !problem.to_string().contains(&us.domain),
                    "{path}: {problem:#}"
                );
            } else {
                assert_eq!(status, 404, "{method} {path}: {problem:#}");
                unknown_problem(&problem, &path);
            }
        }
    }
    // Nothing of it in the fleet or the trail, however asked.
    for query in ["all", "tag:region:us", "tag:region:eu,tag:region:us"] {
        let text = world.fleet_ndjson(query, &helpdesk).await;
        assert!(
            !text.contains(&us.id) && !text.contains(&us.domain),
            "{query}: {text}"
        );
    }
    let (_, audit) = world
        .call(Method::GET, "v1/audit?limit=1", &helpdesk, None)
        .await;
    let mut pages = vec![audit];
    while let Some(next) = pages
        .last()
        .and_then(|p| p["nextLink"].as_str().map(str::to_owned))
    {
        let (status, page) = world
            .call(Method::GET, next.trim_start_matches('/'), &helpdesk, None)
            .await;
        assert_eq!(status, 200, "{page:#}");
        pages.push(page);
    }
    for page in &pages {
        assert!(!page.to_string().contains(&us.id), "{page:#}");
    }
    assert!(pages.len() > 1, "paged through the trail");
    // The partner's customers and the grants are the fleet administrator's.
    for path in ["v1/partner/customers", "v1/access"] {
        let (status, _) = world.call(Method::GET, path, &helpdesk, None).await;
        assert_eq!(status, 403, "{path}");
    }
}

#[tokio::test]
async fn the_partners_gdap_customers_say_which_are_onboarded() {
    use entra_emulator::seed;
    let world = World::start().await;
    let token = admin(&world);
    let (status, list) = world
        .call(Method::GET, "v1/partner/customers", &token, None)
        .await;
    assert_eq!(status, 200, "{list:#}");
    assert_eq!(list["partnerTenantId"], seed::OPERATOR_ID);
    let customer = |id: &str| {
        list["value"]
            .as_array()
            .expect("customers")
            .iter()
            .find(|c| c["tenantId"] == id)
            .unwrap_or_else(|| panic!("{id} in {list:#}"))
            .clone()
    };
    assert_eq!(customer(seed::CONTOSO_ID)["onboarded"], true);
    assert_eq!(customer(seed::TAILSPIN_ID)["onboarded"], false);
    let adatum = customer(seed::ADATUM_ID);
    assert_eq!(adatum["onboarded"], false);
    assert_eq!(adatum["displayName"], seed::ADATUM_DISPLAY_NAME);
    assert_eq!(adatum["contractType"], "ResellerPartner");
    // Fabrikam's relationships: the active one and the terminated one before it.
    let statuses: Vec<String> = customer(seed::FABRIKAM_ID)["relationships"]
        .as_array()
        .expect("relationships")
        .iter()
        .map(|r| r["status"].as_str().expect("status").to_owned())
        .collect();
    assert!(
        statuses.contains(&"active".to_owned()) && statuses.contains(&"terminated".to_owned()),
        "{statuses:?}"
    );
    // The default app read it in the partner tenant, with the managed identity's assertion.
    let partner_calls = world
        .emulator
        .calls()
        .iter()
        .filter(|c| c.path.contains("delegatedAdminRelationships"))
        .filter(|c| c.tenant_id.as_deref() == Some(seed::OPERATOR_ID))
        .count();
    assert!(partner_calls >= 1);

    // Onboarding Tailspin shows at once.
    let (status, _) = world
        .call(
            Method::POST,
            "v1/tenants",
            &token,
            Some(json!({"tenant": seed::TAILSPIN_DOMAIN, "credential": {"kind": "default"}})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, list) = world
        .call(Method::GET, "v1/partner/customers", &token, None)
        .await;
    let tailspin = list["value"]
        .as_array()
        .expect("customers")
        .iter()
        .find(|c| c["tenantId"] == seed::TAILSPIN_ID)
        .expect("tailspin")
        .clone();
    assert_eq!(tailspin["onboarded"], true);
}
