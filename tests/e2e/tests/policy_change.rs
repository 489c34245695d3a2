//! Changing the SSPR policy through the service: ETags, rules, sources, dry runs, the undo of a
//! half-applied change, and the audit trail — all against the emulator's raw state.

use entra_emulator::{Fault, FaultRule, seed};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sspr_e2e::World;

const CONTOSO: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";
const FABRIKAM: &str = "v1/tenants/fabrikam.onmicrosoft.com/sspr/policy";

struct Answer {
    status: StatusCode,
    etag: Option<String>,
    body: Value,
}

async fn send(
    world: &World,
    method: reqwest::Method,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request = world
        .http
        .request(method, world.service.url.join(path).expect("url"))
        .bearer_auth(token);
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    // These tests change the emulator behind the service's back: read it afresh, not from the
    // service's policy cache.
    request = request.header("cache-control", "no-cache");
    if let Some(body) = body {
        request = request
            .header("content-type", "application/merge-patch+json")
            .body(serde_json::to_vec(&body).expect("json"));
    }
    let response = request.send().await.expect("service answers");
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    Answer { status, etag, body }
}

async fn read(world: &World, path: &str, token: &str) -> Answer {
    let answer = send(world, reqwest::Method::GET, path, token, None, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.etag.is_some(), "GET carries an ETag");
    answer
}

async fn change(world: &World, path: &str, token: &str, etag: &str, patch: Value) -> Answer {
    send(
        world,
        reqwest::Method::PATCH,
        path,
        token,
        Some(etag),
        Some(patch),
    )
    .await
}

/// Something read from contoso's raw emulator state.
fn contoso<R>(world: &World, read: impl FnOnce(&entra_emulator::Tenant) -> R) -> R {
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| read(t))
        .expect("contoso")
}

fn raw_portal(world: &World) -> (Value, Value) {
    contoso(world, |t| {
        (
            t.password_reset_policies.clone(),
            t.on_premises_password_reset_policies.clone(),
        )
    })
}

fn raw_graph(world: &World) -> (Value, Value) {
    contoso(world, |t| {
        (
            t.authentication_methods_policy.clone(),
            t.authorization_policy.clone(),
        )
    })
}

#[tokio::test]
async fn every_portal_and_graph_setting_is_set_and_read_back_and_unknown_portal_fields_survive() {
    let world = World::start().await;
    let token = world.token(&["SSPR.ReadWrite"]);
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.password_reset_policies["someFutureField"] = json!({"kept": true})
        })
        .expect("contoso");
    let before = read(&world, CONTOSO, &token).await;
    let patch = json!({
        "enablement": {"scope": "all"},
        "authentication": {"methodsRequired": 1},
        "registration": {"requireRegistrationOnSignIn": false, "reconfirmDays": 90},
        "notifications": {"notifyUsersOnReset": false, "notifyAdminsOnAdminReset": false},
        "customization": {"helpdeskLink": "https://help.contoso.com/reset"},
        "onPremises": {"passwordWriteback": false, "unlockWithoutReset": false},
        "administrators": {"allowedToUseSspr": true},
        "methodsPolicy": {"reconfirmationInDays": 60},
    });
    let answer = change(
        &world,
        CONTOSO,
        &token,
        before.etag.as_deref().expect("etag"),
        patch,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_ne!(answer.etag, before.etag, "a change gives a new ETag");
    let doc = &answer.body;
    assert_eq!(doc["enablement"]["scope"], "all");
    assert_eq!(doc["authentication"]["methodsRequired"], 1);
    assert_eq!(
        doc["registration"],
        json!({"source": "portal", "requireRegistrationOnSignIn": false, "reconfirmDays": 90})
    );
    assert_eq!(doc["notifications"]["notifyUsersOnReset"], false);
    assert_eq!(
        doc["customization"]["helpdeskLink"],
        "https://help.contoso.com/reset"
    );
    assert_eq!(doc["onPremises"]["passwordWriteback"], false);
    assert_eq!(doc["administrators"]["allowedToUseSspr"], true);
    assert_eq!(doc["methodsPolicy"]["reconfirmationInDays"], 60);

    // The tenant itself holds the new values, in the portal's and Graph's own spellings.
    let (portal, on_premises) = raw_portal(&world);
    assert_eq!(portal["enablementType"], 2);
    assert_eq!(portal["numberOfAuthenticationMethodsRequired"], 1);
    assert_eq!(portal["registrationReconfirmIntevalInDays"], 90);
    assert_eq!(portal["customizeHelpdeskLink"], true);
    assert_eq!(
        portal["customHelpdeskEmailOrUrl"],
        "https://help.contoso.com/reset"
    );
    assert_eq!(
        portal["someFutureField"],
        json!({"kept": true}),
        "unknown portal fields are preserved"
    );
    assert_eq!(on_premises["passwordWritebackSupported"], false);
    let (methods, authorization) = raw_graph(&world);
    assert_eq!(methods["reconfirmationInDays"], 60);
    assert_eq!(authorization["allowedToUseSSPR"], true);

    // A fresh read agrees with what the PATCH answered.
    let again = read(&world, CONTOSO, &token).await;
    assert_eq!(again.etag, answer.etag);
}

#[tokio::test]
async fn two_writers_with_the_same_etag_get_one_200_and_one_412() {
    let world = World::start().await;
    let token = world.token(&["SSPR.ReadWrite"]);
    let etag = read(&world, CONTOSO, &token).await.etag.expect("etag");
    let (a, b) = tokio::join!(
        change(
            &world,
            CONTOSO,
            &token,
            &etag,
            json!({"registration": {"reconfirmDays": 30}})
        ),
        change(
            &world,
            CONTOSO,
            &token,
            &etag,
            json!({"notifications": {"notifyUsersOnReset": false}})
        ),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "{} / {}", a.body, b.body);
    let loser = if a.status == 412 { &a } else { &b };
    assert_eq!(loser.body["type"], "/problems/precondition-failed");
    // Nothing lost: the winner's change is there, the loser's is not half-applied.
    let (portal, _) = raw_portal(&world);
    let winner_reconfirm = a.status == 200;
    assert_eq!(
        portal["registrationReconfirmIntevalInDays"] == 30,
        winner_reconfirm
    );
    assert_eq!(
        portal["notifyUsersOnPasswordReset"] == false,
        !winner_reconfirm
    );
}

#[tokio::test]
async fn without_if_match_it_is_428_and_a_dry_run_changes_nothing() {
    let world = World::start().await;
    let token = world.token(&["SSPR.ReadWrite"]);
    let no_tag = send(
        &world,
        reqwest::Method::PATCH,
        CONTOSO,
        &token,
        None,
        Some(json!({"registration": {"reconfirmDays": 30}})),
    )
    .await;
    assert_eq!(no_tag.status, 428);

    let etag = read(&world, CONTOSO, &token).await.etag.expect("etag");
    let raw_before = (raw_portal(&world), raw_graph(&world));
    let plan = send(
        &world,
        reqwest::Method::PATCH,
        &format!("{CONTOSO}?dryRun=true"),
        &token,
        Some(&etag),
        Some(json!({"registration": {"reconfirmDays": 30}, "administrators": {"allowedToUseSspr": true}})),
    )
    .await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    let pointers: Vec<&str> = plan.body["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["pointer"].as_str())
        .collect();
    assert_eq!(
        pointers,
        [
            "/registration/reconfirmDays",
            "/administrators/allowedToUseSspr"
        ]
    );
    let steps = plan.body["steps"].as_array().expect("steps");
    assert_eq!(
        steps.len(),
        2,
        "one Graph PATCH, one portal PUT: {}",
        plan.body
    );
    assert_eq!(steps[0]["call"]["target"], "graph", "Graph goes first");
    assert_eq!(steps[1]["call"]["target"], "portal");
    assert_eq!(
        (raw_portal(&world), raw_graph(&world)),
        raw_before,
        "a dry run changes nothing"
    );
}

#[tokio::test]
async fn rule_violations_are_422_with_a_pointer_each_and_nothing_changes() {
    let world = World::start().await;
    let token = world.token(&["SSPR.ReadWrite"]);
    let etag = read(&world, CONTOSO, &token).await.etag.expect("etag");
    let raw_before = raw_portal(&world);
    let answer = change(
        &world,
        CONTOSO,
        &token,
        &etag,
        json!({"authentication": {"methodsRequired": 3}, "registration": {"reconfirmDays": 1000}, "customization": {"helpdeskLink": "http://insecure.example"}}),
    )
    .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    let pointers: Vec<&str> = answer.body["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["pointer"].as_str())
        .collect();
    for pointer in [
        "/authentication/methodsRequired",
        "/registration/reconfirmDays",
        "/customization/helpdeskLink",
    ] {
        assert!(
            pointers.contains(&pointer),
            "{pointer} missing from {pointers:?}"
        );
    }
    let unknown = change(
        &world,
        CONTOSO,
        &token,
        &etag,
        json!({"registration": {"reconfirmDayz": 3}}),
    )
    .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.body["pointer"], "/registration/reconfirmDayz");
    assert_eq!(raw_portal(&world), raw_before);
}

#[tokio::test]
async fn a_setting_whose_source_is_unavailable_is_refused_with_how_to_enable_it() {
    let world = World::start().await;
    let token = world.token(&["SSPR.ReadWrite"]);
    let etag = read(&world, FABRIKAM, &token).await.etag.expect("etag");
    let answer = change(
        &world,
        FABRIKAM,
        &token,
        &etag,
        json!({"authentication": {"methodsRequired": 2}}),
    )
    .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.body["type"], "/problems/source-unavailable");
    assert_eq!(answer.body["pointer"], "/authentication/methodsRequired");
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("portal connector"))
    );
    // A Graph setting of the same tenant can still be changed.
    let admin = change(
        &world,
        FABRIKAM,
        &token,
        &etag,
        json!({"administrators": {"allowedToUseSspr": false}}),
    )
    .await;
    assert_eq!(admin.status, 200, "{}", admin.body);
}

#[tokio::test]
async fn a_failed_portal_put_after_the_graph_patch_is_undone_and_audited() {
    let world = World::start().await;
    let token = world.token(&["SSPR.ReadWrite"]);
    let etag = read(&world, CONTOSO, &token).await.etag.expect("etag");
    let raw_before = (raw_portal(&world), raw_graph(&world));
    // The portal refuses the next PUT: the Graph PATCH (first step) has already succeeded then.
    let fault = FaultRule {
        method: Some("PUT".into()),
        path_prefix: Some("/api/PasswordReset/PasswordResetPolicies".into()),
        fault: Some(Fault::ServiceUnavailable { retry_after: None }),
        times: Some(1),
        path: None,
        latency_ms: 0,
        probability: 1.0,
    };
    world.emulator.set_faults(vec![fault]).expect("faults");

    let answer = change(
        &world,
        CONTOSO,
        &token,
        &etag,
        json!({"administrators": {"allowedToUseSspr": true}, "registration": {"reconfirmDays": 30}}),
    )
    .await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert_eq!(answer.body["outcome"], "rolledBack");
    let statuses: Vec<&str> = answer.body["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["status"].as_str())
        .collect();
    assert_eq!(statuses, ["undone", "failed"], "{}", answer.body);
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("undone"))
    );
    assert_eq!(
        (raw_portal(&world), raw_graph(&world)),
        raw_before,
        "the tenant is as it was"
    );

    let admin = world.token(&["SSPR.Admin"]);
    let audit = send(
        &world,
        reqwest::Method::GET,
        "v1/audit?tenant=contoso.onmicrosoft.com",
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    let record = &audit.body["value"][0];
    assert_eq!(record["outcome"], "rolledBack");
    assert_eq!(record["operation"], "policy.patch");
    assert!(
        record["compensation"].to_string().contains("undone"),
        "{record}"
    );
    assert!(record["error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[tokio::test]
async fn writes_need_read_write_and_access_to_the_tenant() {
    let world = World::start_with(|config| {
        config.auth.access.push(sspr_service::config::AccessGrant {
            principal: "fabrikam-writer".into(),
            tenants: vec![seed::FABRIKAM_DOMAIN.into()],
        });
    })
    .await;
    let reader = world.token(&["SSPR.Read"]);
    let etag = read(&world, CONTOSO, &reader).await.etag.expect("etag");
    let refused = change(
        &world,
        CONTOSO,
        &reader,
        &etag,
        json!({"registration": {"reconfirmDays": 30}}),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("SSPR.ReadWrite"))
    );

    let outsider = world.emulator.mint_token(&entra_emulator::TokenSpec {
        roles: vec!["SSPR.ReadWrite".into()],
        oid: "fabrikam-writer".into(),
        app_id: "another-app".into(),
        ..Default::default()
    });
    let refused = change(
        &world,
        CONTOSO,
        &outsider,
        &etag,
        json!({"registration": {"reconfirmDays": 30}}),
    )
    .await;
    assert_eq!(
        refused.status, 404,
        "a tenant without a grant is unknown to the caller"
    );
    let (portal, _) = raw_portal(&world);
    assert_ne!(portal["registrationReconfirmIntevalInDays"], 30);
}

#[tokio::test]
async fn every_get_carries_findings_about_what_the_tenant_holds() {
    let world = World::start().await;
    let token = world.token(&["SSPR.Read"]);
    let fields = |doc: &Value| -> Vec<String> {
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["field"].as_str().map(str::to_owned))
            .collect()
    };
    // Fabrikam lets administrators use SSPR (Graph) — a finding even without the portal.
    let fabrikam = read(&world, FABRIKAM, &token).await.body;
    assert!(
        fields(&fabrikam).contains(&"/administrators/allowedToUseSspr".to_owned()),
        "{}",
        fabrikam["findings"]
    );

    let contoso = read(&world, CONTOSO, &token).await.body;
    assert!(!fields(&contoso).contains(&"/notifications/notifyUsersOnReset".to_owned()));
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.password_reset_policies["notifyUsersOnPasswordReset"] = json!(false)
        })
        .expect("contoso");
    let contoso = read(&world, CONTOSO, &token).await.body;
    assert!(
        fields(&contoso).contains(&"/notifications/notifyUsersOnReset".to_owned()),
        "{}",
        contoso["findings"]
    );
}

#[tokio::test]
async fn methods_security_questions_scope_and_the_methods_policy_round_trip() {
    let world = World::start().await;
    let token = world.token(&["SSPR.ReadWrite"]);
    let before = read(&world, CONTOSO, &token).await;
    let group = world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.group_by_name("All Staff").map(|g| g.id.clone())
        })
        .flatten()
        .expect("All Staff group");
    // Contoso is migrating: reset methods are the methods policy's configurations (Graph).
    let patch = json!({
        "enablement": {"scope": "selected", "groupId": group},
        "methods": {"email": false, "officePhone": false, "securityQuestions": true},
        "authentication": {"securityQuestions": {"toRegister": 4, "toReset": 3}},
        "methodsPolicy": {
            "migrationState": "migrationComplete",
            "registrationCampaign": {"state": "disabled", "snoozeDurationInDays": 3},
        },
    });
    let answer = change(
        &world,
        CONTOSO,
        &token,
        before.etag.as_deref().expect("etag"),
        patch,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let doc = &answer.body;
    assert_eq!(doc["enablement"]["groupId"], group.as_str());
    assert_eq!(doc["methods"]["email"]["usable"], false);
    assert_eq!(doc["methods"]["officePhone"]["usable"], false);
    assert_eq!(doc["methodsPolicy"]["migrationState"], "migrationComplete");
    assert_eq!(
        doc["authentication"]["securityQuestions"],
        json!({"enabled": true, "toRegister": 4, "toReset": 3})
    );

    let (portal, _) = raw_portal(&world);
    assert_eq!(portal["passwordResetEnabledGroupIds"], json!([group]));
    assert_eq!(portal["securityQuestionsOptionEnabled"], true);
    assert_eq!(portal["numberOfQuestionsToRegister"], 4);
    let (methods, _) = raw_graph(&world);
    assert_eq!(methods["policyMigrationState"], "migrationComplete");
    let campaign = &methods["registrationEnforcement"]["authenticationMethodsRegistrationCampaign"];
    assert_eq!(campaign["state"], "disabled");
    assert_eq!(campaign["snoozeDurationInDays"], 3);
    assert_eq!(
        doc["methodsPolicy"]["registrationCampaign"]["state"],
        "disabled"
    );
    let config = |id: &str| {
        methods["authenticationMethodConfigurations"]
            .as_array()
            .expect("configurations")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .expect("configuration")
    };
    assert_eq!(config("Email")["state"], "disabled");
    assert_eq!(config("Voice")["isOfficePhoneAllowed"], false);
}
