//! Policy writes, licensing, Secure Score and beta recommendations over HTTPS (graph-api.md §1,
//! §2.1, §6, §7).

mod common;

use common::start;
use entra_emulator::{Emulator, TokenSpec, seed};
use graph_schema::{Allow, Schema, assert_valid, validate_with_allowlist};
use reqwest::{Client, Method};
use serde_json::{Value, json};

const AMP: &str = "policies/authenticationMethodsPolicy";
const CONFIGS: &str = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations";
const SMS_TYPE: &str = "#microsoft.graph.smsAuthenticationMethodConfiguration";
const EMAIL_TYPE: &str = "#microsoft.graph.emailAuthenticationMethodConfiguration";

/// An app-only Graph token in contoso holding exactly `roles`.
fn token(emulator: &Emulator, roles: &[&str]) -> String {
    emulator.mint_token(&TokenSpec {
        tenant_id: seed::CONTOSO_ID.into(),
        audience: seed::GRAPH_RESOURCE.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        app_id: seed::GRAPH_APP_CLIENT_ID.into(),
        oid: seed::GRAPH_APP_SP_CONTOSO.into(),
        ..TokenSpec::default()
    })
}

/// Every permission these endpoints need.
fn admin(emulator: &Emulator) -> String {
    token(
        emulator,
        &[
            "Policy.ReadWrite.AuthenticationMethod",
            "Policy.ReadWrite.Authorization",
            "Policy.Read.All",
            "LicenseAssignment.Read.All",
            "SecurityEvents.Read.All",
            "DirectoryRecommendations.Read.All",
        ],
    )
}

/// Sends `method` to `{base}{version}/{path}`; returns the status and the JSON body (`Null`
/// when empty).
async fn call(
    client: &Client,
    emulator: &Emulator,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = emulator.base_url().join(path).expect("URL");
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON body")
    };
    (status, body)
}

async fn get(client: &Client, e: &Emulator, path: &str, token: &str) -> (u16, Value) {
    call(client, e, Method::GET, &format!("v1.0/{path}"), token, None).await
}

async fn patch(
    client: &Client,
    e: &Emulator,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    call(
        client,
        e,
        Method::PATCH,
        &format!("v1.0/{path}"),
        token,
        Some(body),
    )
    .await
}

fn assert_error(status: u16, body: &Value, want: u16, code: &str, message_part: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains(message_part), "{message}");
    assert!(
        body["error"]["innerError"]["request-id"].is_string(),
        "{body}"
    );
}

fn stored_policy(emulator: &Emulator) -> Value {
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.authentication_methods_policy.clone()
        })
        .expect("contoso")
}

// ---------------------------------------------------------------------------------------------
// Authentication methods policy
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn policy_patch_merges_top_level_properties_and_answers_200_with_the_policy() {
    let (emulator, client) = start().await;
    let t = admin(&emulator);
    let before = stored_policy(&emulator);

    let campaign = json!({"authenticationMethodsRegistrationCampaign": {
        "snoozeDurationInDays": 3, "state": "enabled", "excludeTargets": [],
        "includeTargets": [{"id": seed::CONTOSO_GROUP_SSPR_USERS, "targetType": "group",
                            "targetedAuthenticationMethod": "microsoftAuthenticator"}]}});
    let (status, body) = patch(
        &client,
        &emulator,
        AMP,
        &t,
        json!({"reconfirmationInDays": 90, "registrationEnforcement": campaign}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#authenticationMethodsPolicy"
    );
    assert_eq!(body["reconfirmationInDays"], 90);
    // Untouched properties keep their value.
    assert_eq!(body["policyMigrationState"], "migrationInProgress");
    assert_eq!(
        body["authenticationMethodConfigurations"],
        before["authenticationMethodConfigurations"]
    );
    assert_ne!(body["lastModifiedDateTime"], before["lastModifiedDateTime"]);

    let (status, after) = get(&client, &emulator, AMP, &t).await;
    assert_eq!(status, 200);
    let c = &after["registrationEnforcement"]["authenticationMethodsRegistrationCampaign"];
    assert_eq!(c["snoozeDurationInDays"], 3);
    assert_eq!(c["includeTargets"][0]["id"], seed::CONTOSO_GROUP_SSPR_USERS);
    // Replaced as a whole: the old exclusion of the break-glass group is gone, and the member the
    // client left out is back at Graph's default rather than kept from before.
    assert_eq!(c["excludeTargets"], json!([]));
    assert_eq!(c["enforceRegistrationAfterAllowedSnoozes"], true);

    // migrationInProgress -> migrationComplete is allowed.
    let (status, body) = patch(
        &client,
        &emulator,
        AMP,
        &t,
        json!({"policyMigrationState": "migrationComplete"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        stored_policy(&emulator)["policyMigrationState"],
        "migrationComplete"
    );
}

#[tokio::test]
async fn policy_patch_rejects_invalid_bodies_and_leaves_the_policy_unchanged() {
    let (emulator, client) = start().await;
    let t = admin(&emulator);
    let before = stored_policy(&emulator);
    let cases = [
        (
            json!({"policyMigrationState": "preMigration"}),
            "cannot go back",
        ),
        (
            json!({"policyMigrationState": "migrating"}),
            "authenticationMethodsPolicyMigrationState",
        ),
        (json!({"reconfirmationInDays": "90"}), "Edm.Int32"),
        (json!({"reconfirmationInDays": 1.5}), "Edm.Int32"),
        (json!({"id": "other"}), "read-only"),
        (json!({"displayName": "x"}), "read-only"),
        (
            json!({"lastModifiedDateTime": "2026-01-01T00:00:00Z"}),
            "read-only",
        ),
        (json!({"policyVersion": "2.0"}), "read-only"),
        (json!({"bogus": true}), "does not exist on type"),
        // beta-only on v1.0
        (
            json!({"systemCredentialPreferences": {"state": "enabled"}}),
            "does not exist on type",
        ),
        (
            json!({"registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {"snoozeDurationInDays": 15}}}),
            "range",
        ),
        (
            json!({"registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {"state": "on"}}}),
            "advancedConfigState",
        ),
        (
            json!({"registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {"includeTargets": [{"id": "all_users", "targetType": "tenant"}]}}}),
            "authenticationMethodTargetType",
        ),
        (
            json!({"reconfirmationInDays": 30, "policyVersion": "9"}),
            "read-only",
        ),
    ];
    for (body, message) in cases {
        let (status, response) = patch(&client, &emulator, AMP, &t, body.clone()).await;
        assert_error(status, &response, 400, "BadRequest", message);
        assert_eq!(
            stored_policy(&emulator),
            before,
            "{body} changed the policy"
        );
    }
    let (status, response) = patch(&client, &emulator, AMP, &t, json!([1])).await;
    assert_error(status, &response, 400, "BadRequest", "Empty Payload");
}

#[tokio::test]
async fn pre_migration_tenants_may_migrate_and_beta_accepts_beta_properties() {
    let (emulator, client) = start().await;
    let t = admin(&emulator);
    emulator.with_tenant(seed::CONTOSO_ID, |t| {
        t.authentication_methods_policy["policyMigrationState"] = json!("preMigration");
    });
    let (status, body) = patch(
        &client,
        &emulator,
        AMP,
        &t,
        json!({"policyMigrationState": "migrationInProgress"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = patch(
        &client,
        &emulator,
        AMP,
        &t,
        json!({"policyMigrationState": "preMigration"}),
    )
    .await;
    assert_error(
        status,
        &body,
        400,
        "BadRequest",
        "'migrationInProgress' to 'preMigration'",
    );

    let settings = json!({"state": "enabled", "includeTargets": [{"id": "all_users", "targetType": "group"}], "excludeTargets": []});
    let (status, body) = call(
        &client,
        &emulator,
        Method::PATCH,
        &format!("beta/{AMP}"),
        &t,
        Some(json!({"systemCredentialPreferences": settings})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/beta/$metadata#authenticationMethodsPolicy"
    );
    assert_eq!(body["systemCredentialPreferences"], settings);
    assert!(
        body["authenticationMethodConfigurations@odata.context"]
            .as_str()
            .is_some_and(|c| c.starts_with("https://graph.microsoft.com/beta/")),
        "{body}"
    );
    // v1.0 does not declare it, so v1.0 does not serve it.
    let (_, v1) = get(&client, &emulator, AMP, &t).await;
    assert!(v1.get("systemCredentialPreferences").is_none(), "{v1}");
}

// ---------------------------------------------------------------------------------------------
// One method configuration
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn configuration_get_is_case_insensitive_and_unknown_ids_are_404() {
    let (emulator, client) = start().await;
    let t = token(&emulator, &["Policy.Read.AuthenticationMethod"]);
    for id in ["Sms", "SMS", "sms"] {
        let (status, body) = get(&client, &emulator, &format!("{CONFIGS}/{id}"), &t).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["id"], "Sms");
        assert_eq!(body["@odata.type"], SMS_TYPE);
        assert_eq!(
            body["@odata.context"],
            "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity"
        );
        assert!(body.get("value").is_none(), "plain entity, not wrapped");
    }
    for id in [
        "MicrosoftAuthenticator",
        "Voice",
        "Email",
        "SoftwareOath",
        "fido2",
        "TemporaryAccessPass",
        "X509Certificate",
    ] {
        let (status, body) = get(&client, &emulator, &format!("{CONFIGS}/{id}"), &t).await;
        assert_eq!(status, 200, "{id}: {body}");
    }
    let (status, body) = get(&client, &emulator, &format!("{CONFIGS}/Pigeon"), &t).await;
    assert_error(status, &body, 404, "itemNotFound", "'Pigeon'");
    let (status, body) = patch(
        &client,
        &emulator,
        &format!("{CONFIGS}/Pigeon"),
        &admin(&emulator),
        json!({"@odata.type": SMS_TYPE}),
    )
    .await;
    assert_error(status, &body, 404, "itemNotFound", "'Pigeon'");
}

#[tokio::test]
async fn configuration_patch_changes_only_supplied_properties_and_replaces_targets() {
    let (emulator, client) = start().await;
    let t = admin(&emulator);
    let path = format!("{CONFIGS}/email");
    let (_, before) = get(&client, &emulator, &path, &t).await;
    assert_eq!(
        before["excludeTargets"][0]["id"],
        seed::CONTOSO_GROUP_BREAK_GLASS
    );

    let (status, body) = patch(
        &client,
        &emulator,
        &path,
        &t,
        json!({
            "@odata.type": EMAIL_TYPE,
            "includeTargets": [{"targetType": "group", "id": "all_users"}]
        }),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(body, Value::Null);

    let (_, after) = get(&client, &emulator, &path, &t).await;
    // Replaced, not merged: only the new target, with Graph's default filled in.
    assert_eq!(
        after["includeTargets"],
        json!([{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}])
    );
    // Not supplied, so unchanged.
    assert_eq!(after["excludeTargets"], before["excludeTargets"]);
    assert_eq!(after["state"], before["state"]);
    assert_eq!(after["allowExternalIdToUseEmailOtp"], "default");

    // excludeTargets: [] empties the list.
    let (status, _) = patch(
        &client,
        &emulator,
        &path,
        &t,
        json!({"@odata.type": EMAIL_TYPE, "excludeTargets": [], "state": "disabled"}),
    )
    .await;
    assert_eq!(status, 204);
    let (_, after) = get(&client, &emulator, &path, &t).await;
    assert_eq!(after["excludeTargets"], json!([]));
    assert_eq!(after["state"], "disabled");
    assert_eq!(after["includeTargets"][0]["id"], "all_users");

    // The whole policy shows the change too.
    let (_, policy) = get(&client, &emulator, AMP, &t).await;
    let email = policy["authenticationMethodConfigurations"]
        .as_array()
        .expect("configs")
        .iter()
        .find(|c| c["id"] == "Email")
        .cloned()
        .expect("Email");
    assert_eq!(email["state"], "disabled");
}

#[tokio::test]
async fn configuration_patch_type_specific_target_defaults_and_settings() {
    let (emulator, client) = start().await;
    let t = admin(&emulator);
    // The documented SMS example (graph-api.md §1.7).
    let (status, body) = patch(
        &client,
        &emulator,
        &format!("{CONFIGS}/Sms"),
        &t,
        json!({
            "@odata.type": SMS_TYPE,
            "state": "enabled",
            "includeTargets": [{"targetType": "group", "id": seed::CONTOSO_GROUP_SSPR_USERS,
                                "isRegistrationRequired": false, "isUsableForSignIn": false}],
            "excludeTargets": [{"targetType": "group", "id": seed::CONTOSO_GROUP_BREAK_GLASS}]
        }),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, sms) = get(&client, &emulator, &format!("{CONFIGS}/Sms"), &t).await;
    assert_eq!(sms["includeTargets"][0]["isUsableForSignIn"], false);
    assert_eq!(
        sms["excludeTargets"][0]["id"],
        seed::CONTOSO_GROUP_BREAK_GLASS
    );

    // Voice with office phone (graph-api.md §1.7).
    let (status, body) = patch(
        &client,
        &emulator,
        &format!("{CONFIGS}/Voice"),
        &t,
        json!({"@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration",
               "state": "enabled", "isOfficePhoneAllowed": true}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, voice) = get(&client, &emulator, &format!("{CONFIGS}/Voice"), &t).await;
    assert_eq!(voice["isOfficePhoneAllowed"], true);
}

#[tokio::test]
async fn configuration_patch_rejects_bad_bodies_and_leaves_state_unchanged() {
    let (emulator, client) = start().await;
    let t = admin(&emulator);
    let before = stored_policy(&emulator);
    let sms = format!("{CONFIGS}/Sms");
    let email = format!("{CONFIGS}/Email");
    let cases = [
        (&sms, json!({"state": "enabled"}), "'@odata.type'"),
        (
            &sms,
            json!({"@odata.type": EMAIL_TYPE, "state": "enabled"}),
            "does not match",
        ),
        (
            &sms,
            json!({"@odata.type": SMS_TYPE, "state": "on"}),
            "authenticationMethodState",
        ),
        (
            &sms,
            json!({"@odata.type": SMS_TYPE, "state": null}),
            "authenticationMethodState",
        ),
        (
            &sms,
            json!({"@odata.type": SMS_TYPE, "includeTargets": [{"id": "all_users", "targetType": "everyone"}]}),
            "authenticationMethodTargetType",
        ),
        (
            &sms,
            json!({"@odata.type": SMS_TYPE, "includeTargets": [{"id": 42, "targetType": "group"}]}),
            "Edm.String",
        ),
        (
            &sms,
            json!({"@odata.type": SMS_TYPE, "includeTargets": [{"targetType": "group"}]}),
            "'id'",
        ),
        (
            &sms,
            json!({"@odata.type": SMS_TYPE, "includeTargets": {"id": "all_users", "targetType": "group"}}),
            "Collection",
        ),
        (
            &sms,
            json!({"@odata.type": SMS_TYPE, "excludeTargets": [{"id": "x", "targetType": "group", "isUsableForSignIn": true}]}),
            "does not exist on type",
        ),
        (
            &sms,
            json!({"@odata.type": SMS_TYPE, "includeTargets": [{"id": "x", "targetType": "group", "isUsableForSignIn": "no"}]}),
            "Edm.Boolean",
        ),
        (
            &sms,
            json!({"@odata.type": SMS_TYPE, "isOfficePhoneAllowed": true}),
            "does not exist on type",
        ),
        (
            &sms,
            json!({"@odata.type": SMS_TYPE, "id": "Voice"}),
            "read-only",
        ),
        (
            &email,
            json!({"@odata.type": EMAIL_TYPE, "allowExternalIdToUseEmailOtp": "sometimes"}),
            "externalEmailOtpState",
        ),
        (
            &email,
            json!({"@odata.type": EMAIL_TYPE, "state": "disabled", "allowExternalIdToUseEmailOtp": "enabled"}),
            "cannot be disabled",
        ),
        (
            &format!("{CONFIGS}/TemporaryAccessPass"),
            json!({"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "defaultLength": 4}),
            "range",
        ),
    ];
    for (path, body, message) in cases {
        let (status, response) = patch(&client, &emulator, path, &t, body.clone()).await;
        assert_error(status, &response, 400, "BadRequest", message);
        assert_eq!(
            stored_policy(&emulator),
            before,
            "{body} changed the policy"
        );
    }
}

#[tokio::test]
async fn configuration_delete_reverts_to_the_default() {
    let (emulator, client) = start().await;
    let t = admin(&emulator);
    let path = format!("{CONFIGS}/Email");
    let (status, body) = call(
        &client,
        &emulator,
        Method::DELETE,
        &format!("v1.0/{path}"),
        &t,
        None,
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, email) = get(&client, &emulator, &path, &t).await;
    assert_eq!(email["@odata.type"], EMAIL_TYPE);
    assert_eq!(email["id"], "Email");
    assert_eq!(email["state"], "disabled");
    assert_eq!(email["excludeTargets"], json!([]));
    assert_eq!(
        email["includeTargets"],
        json!([{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}])
    );
    assert_eq!(email["allowExternalIdToUseEmailOtp"], "default");
    // Still in the list, in place.
    let ids: Vec<Value> = stored_policy(&emulator)["authenticationMethodConfigurations"]
        .as_array()
        .expect("configs")
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids.len(), 8);
    assert_eq!(ids[3], "Email");

    let (status, body) = call(
        &client,
        &emulator,
        Method::DELETE,
        &format!("v1.0/{CONFIGS}/Nope"),
        &t,
        None,
    )
    .await;
    assert_error(status, &body, 404, "itemNotFound", "'Nope'");
}

#[tokio::test]
async fn writes_need_the_write_permissions() {
    let (emulator, client) = start().await;
    let readers = token(
        &emulator,
        &["Policy.Read.All", "Policy.Read.AuthenticationMethod"],
    );
    let before = stored_policy(&emulator);
    for (method, path, body) in [
        (
            Method::PATCH,
            AMP.to_string(),
            Some(json!({"reconfirmationInDays": 1})),
        ),
        (
            Method::PATCH,
            format!("{CONFIGS}/Sms"),
            Some(json!({"@odata.type": SMS_TYPE, "state": "disabled"})),
        ),
        (Method::DELETE, format!("{CONFIGS}/Sms"), None),
        (
            Method::PATCH,
            "policies/authorizationPolicy".to_string(),
            Some(json!({"allowedToUseSSPR": true})),
        ),
    ] {
        let (status, response) = call(
            &client,
            &emulator,
            method,
            &format!("v1.0/{path}"),
            &readers,
            body,
        )
        .await;
        assert_error(
            status,
            &response,
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges",
        );
    }
    assert_eq!(stored_policy(&emulator), before);
    // The method-policy writer cannot write the authorization policy, and vice versa.
    let methods_writer = token(&emulator, &["Policy.ReadWrite.AuthenticationMethod"]);
    let (status, response) = patch(
        &client,
        &emulator,
        "policies/authorizationPolicy",
        &methods_writer,
        json!({"allowedToUseSSPR": true}),
    )
    .await;
    assert_error(
        status,
        &response,
        403,
        "Authorization_RequestDenied",
        "Insufficient",
    );
    let authz_writer = token(&emulator, &["Policy.ReadWrite.Authorization"]);
    let (status, response) = patch(&client, &emulator, AMP, &authz_writer, json!({})).await;
    assert_error(
        status,
        &response,
        403,
        "Authorization_RequestDenied",
        "Insufficient",
    );
}

// ---------------------------------------------------------------------------------------------
// Authorization policy
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn authorization_policy_patch_round_trips_and_validates() {
    let (emulator, client) = start().await;
    let writer = token(&emulator, &["Policy.ReadWrite.Authorization"]);
    let path = "policies/authorizationPolicy";
    let (_, before) = get(&client, &emulator, path, &writer).await;
    assert_eq!(before["allowedToUseSSPR"], false);

    let (status, body) = patch(
        &client,
        &emulator,
        path,
        &writer,
        json!({"allowedToUseSSPR": true, "allowInvitesFrom": "adminsAndGuestInviters",
               "defaultUserRolePermissions": {"allowedToCreateApps": true}}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, after) = get(&client, &emulator, path, &writer).await;
    assert_eq!(after["allowedToUseSSPR"], true);
    assert_eq!(after["allowInvitesFrom"], "adminsAndGuestInviters");
    let perms = &after["defaultUserRolePermissions"];
    assert_eq!(perms["allowedToCreateApps"], true);
    // Members not sent keep their values.
    assert_eq!(perms["allowedToReadOtherUsers"], true);
    assert_eq!(
        perms["permissionGrantPoliciesAssigned"],
        before["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"]
    );
    assert_eq!(after["displayName"], before["displayName"]);

    for (body, message) in [
        (json!({"allowedToUseSSPR": "false"}), "Edm.Boolean"),
        (json!({"allowedToUseSSPR": null}), "Edm.Boolean"),
        (json!({"allowInvitesFrom": "anyone"}), "allowInvitesFrom"),
        (json!({"allowedToUseSspr": false}), "does not exist on type"),
        (json!({"id": "x"}), "read-only"),
        (json!({"guestUserRoleId": "not-a-guid"}), "Edm.Guid"),
        (
            json!({"guestUserRoleId": "62e90394-69f5-4237-9190-012177145e10"}),
            "Guest User",
        ),
        (
            json!({"defaultUserRolePermissions": {"allowedToCreateApps": 1}}),
            "Edm.Boolean",
        ),
        (
            json!({"allowedToUseSSPR": false, "blockMsolPowerShell": "yes"}),
            "Edm.Boolean",
        ),
    ] {
        let (status, response) = patch(&client, &emulator, path, &writer, body.clone()).await;
        assert_error(status, &response, 400, "BadRequest", message);
        let (_, now) = get(&client, &emulator, path, &writer).await;
        assert_eq!(now, after, "{body} changed the policy");
    }
}

// ---------------------------------------------------------------------------------------------
// subscribedSkus
// ---------------------------------------------------------------------------------------------

fn sku(part: &str, sku_id: &str, plans: Value) -> Value {
    json!({
        "accountName": "Contoso", "accountId": "f97aeefc-af85-414d-8ae4-b457f90efc40",
        "appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": 14,
        "id": format!("{}_{sku_id}", seed::CONTOSO_ID),
        "prepaidUnits": {"enabled": 25, "lockedOut": 0, "suspended": 0, "warning": 0},
        "servicePlans": plans, "skuId": sku_id, "skuPartNumber": part,
        "subscriptionIds": ["43d26afe-cb98-48b9-acc4-ae3ef2ac6c51"]
    })
}

fn with_skus(emulator: &Emulator) -> Vec<Value> {
    let skus = vec![
        sku(
            "SPB",
            "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
            json!([{"servicePlanId": "41781fb2-bc02-4b7c-bd55-b576c07bb09d", "servicePlanName": "AAD_PREMIUM",
                    "provisioningStatus": "Success", "appliesTo": "User"}]),
        ),
        sku(
            "O365_BUSINESS_PREMIUM",
            "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
            json!([]),
        ),
    ];
    let stored = skus.clone();
    emulator.with_tenant(seed::CONTOSO_ID, move |t| t.subscribed_skus = stored);
    skus
}

#[tokio::test]
async fn subscribed_skus_list_get_select_and_refuse_filter() {
    let (emulator, client) = start().await;
    let skus = with_skus(&emulator);
    let t = token(&emulator, &["LicenseAssignment.Read.All"]);

    let (status, body) = get(&client, &emulator, "subscribedSkus", &t).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus"
    );
    assert_eq!(body["value"], json!(skus));

    let (status, body) = get(
        &client,
        &emulator,
        "subscribedSkus?$select=skuPartNumber,servicePlans",
        &t,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus(skuPartNumber,servicePlans)"
    );
    assert_eq!(
        body["value"][0],
        json!({"skuPartNumber": "SPB", "servicePlans": skus[0]["servicePlans"]})
    );
    assert_eq!(body["value"][1].as_object().expect("object").len(), 2);

    let (status, body) = get(
        &client,
        &emulator,
        "subscribedSkus?$select=skuPartNumber,bogus",
        &t,
    )
    .await;
    assert_error(status, &body, 400, "BadRequest", "'bogus'");

    let (status, body) = get(
        &client,
        &emulator,
        "subscribedSkus?$filter=skuPartNumber%20eq%20'SPB'",
        &t,
    )
    .await;
    assert_error(
        status,
        &body,
        400,
        "Request_UnsupportedQuery",
        "Filtered searches",
    );

    let id = skus[0]["id"].as_str().expect("id");
    let (status, body) = get(&client, &emulator, &format!("subscribedSkus/{id}"), &t).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus/$entity"
    );
    assert_eq!(body["skuPartNumber"], "SPB");
    let (status, body) = get(
        &client,
        &emulator,
        &format!("subscribedSkus/{id}?$select=skuId"),
        &t,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["skuId"], skus[0]["skuId"]);
    assert!(body.get("skuPartNumber").is_none(), "{body}");
    let (status, body) = get(&client, &emulator, "subscribedSkus/nope", &t).await;
    assert_error(status, &body, 404, "Request_ResourceNotFound", "'nope'");

    // Organization.Read.All also reads SKUs; an unrelated permission does not.
    let org = token(&emulator, &["Organization.Read.All"]);
    assert_eq!(get(&client, &emulator, "subscribedSkus", &org).await.0, 200);
    let other = token(&emulator, &["Policy.Read.All"]);
    let (status, body) = get(&client, &emulator, "subscribedSkus", &other).await;
    assert_error(
        status,
        &body,
        403,
        "Authorization_RequestDenied",
        "Insufficient",
    );
}

// ---------------------------------------------------------------------------------------------
// Secure Score
// ---------------------------------------------------------------------------------------------

fn score(day: &str) -> Value {
    json!({
        "id": format!("{}_{day}", seed::CONTOSO_ID),
        "azureTenantId": seed::CONTOSO_ID,
        "activeUserCount": 8, "licensedUserCount": 8,
        "createdDateTime": format!("{day}T00:00:00Z"),
        "currentScore": 41.5, "maxScore": 97.0,
        "enabledServices": ["HasExchange", "HasAADP1"],
        "averageComparativeScores": [{"basis": "AllTenants", "averageScore": 37.0}],
        "controlScores": [{
            "controlCategory": "Identity", "controlName": "SelfServicePasswordReset",
            "count": "0", "total": "8", "description": "SSPR",
            "implementationStatus": "You have 8 of 8 users who don't have self-service password reset enabled.",
            "lastSynced": format!("{day}T13:04:06Z"), "score": 0.0, "scoreInPercentage": 0.0
        }],
        "vendorInformation": {"provider": "SecureScore", "providerVersion": null, "subProvider": null, "vendor": "Microsoft"}
    })
}

#[tokio::test]
async fn secure_scores_page_with_top_and_profiles_by_id() {
    let (emulator, client) = start().await;
    let scores = vec![
        score("2026-08-20"),
        score("2026-08-19"),
        score("2026-08-18"),
    ];
    let profile = json!({
        "id": "SelfServicePasswordReset", "azureTenantId": seed::CONTOSO_ID, "actionType": "Config",
        "controlCategory": "Identity", "maxScore": 1.0, "rank": 12, "service": "AzureAD",
        "tier": "Core", "title": "Enable self-service password reset", "deprecated": false
    });
    let (stored_scores, stored_profile) = (scores.clone(), profile.clone());
    emulator.with_tenant(seed::CONTOSO_ID, move |t| {
        t.secure_scores = stored_scores;
        t.secure_score_control_profiles = vec![stored_profile];
    });
    let t = token(&emulator, &["SecurityEvents.Read.All"]);

    let (status, body) = get(&client, &emulator, "security/secureScores", &t).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#security/secureScores"
    );
    assert_eq!(body["value"], json!(scores));
    assert!(body.get("@odata.nextLink").is_none());
    assert_eq!(
        body["value"][0]["controlScores"][0]["count"], "0",
        "strings, as live Graph"
    );

    let (status, body) = get(&client, &emulator, "security/secureScores?$top=1", &t).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"], json!([scores[0]]));
    let next = body["@odata.nextLink"].as_str().expect("nextLink");
    let response = client
        .get(next)
        .bearer_auth(&t)
        .send()
        .await
        .expect("next page");
    let page2: Value = response.json().await.expect("JSON");
    assert_eq!(page2["value"], json!([scores[1]]));

    let (status, body) = get(&client, &emulator, "security/secureScores?$top=-1", &t).await;
    assert_error(status, &body, 400, "BadRequest", "$top");

    let (status, body) = get(
        &client,
        &emulator,
        "security/secureScoreControlProfiles",
        &t,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#security/secureScoreControlProfiles"
    );
    assert_eq!(body["value"], json!([profile]));
    let (status, body) = get(
        &client,
        &emulator,
        "security/secureScoreControlProfiles/selfservicepasswordreset",
        &t,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "SelfServicePasswordReset");
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#security/secureScoreControlProfiles/$entity"
    );
    let (status, body) = get(
        &client,
        &emulator,
        "security/secureScoreControlProfiles/Nope",
        &t,
    )
    .await;
    assert_error(status, &body, 404, "itemNotFound", "'Nope'");

    let other = token(&emulator, &["Policy.Read.All"]);
    let (status, body) = get(&client, &emulator, "security/secureScores", &other).await;
    assert_error(
        status,
        &body,
        403,
        "Authorization_RequestDenied",
        "Insufficient",
    );
}

// ---------------------------------------------------------------------------------------------
// Beta directory recommendations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn directory_recommendations_are_beta_only() {
    let (emulator, client) = start().await;
    let id = format!("{}_selfServicePasswordReset", seed::CONTOSO_ID);
    let recommendation = json!({
        "id": id, "displayName": "Enable self-service password reset",
        "recommendationType": "selfServicePasswordReset", "category": "identitySecureScore",
        "featureAreas": ["applications"], "priority": "low", "status": "active",
        "releaseType": "generallyAvailable", "requiredLicenses": "microsoftEntraIdP1",
        "currentScore": 0.0, "maxScore": 1.0, "impactType": "users",
        "postponeUntilDateTime": null, "actionSteps": []
    });
    let mut stored = recommendation.clone();
    stored["impactedResources"] = json!([{"id": "x"}]);
    emulator.with_tenant(seed::CONTOSO_ID, move |t| {
        t.directory_recommendations = vec![stored]
    });
    let t = token(&emulator, &["DirectoryRecommendations.Read.All"]);

    let (status, body) = call(
        &client,
        &emulator,
        Method::GET,
        "beta/directory/recommendations",
        &t,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/beta/$metadata#directory/recommendations"
    );
    // impactedResources is a navigation property, not served unexpanded.
    assert_eq!(body["value"], json!([recommendation]));

    let (status, body) = call(
        &client,
        &emulator,
        Method::GET,
        &format!("beta/directory/recommendations/{id}"),
        &t,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recommendationType"], "selfServicePasswordReset");
    let (status, body) = call(
        &client,
        &emulator,
        Method::GET,
        "beta/directory/recommendations/nope",
        &t,
        None,
    )
    .await;
    assert_error(status, &body, 404, "itemNotFound", "'nope'");

    let (status, body) = get(&client, &emulator, "directory/recommendations", &t).await;
    assert_error(
        status,
        &body,
        400,
        "BadRequest",
        "Resource not found for the segment",
    );

    let other = token(&emulator, &["Policy.Read.All"]);
    let (status, body) = call(
        &client,
        &emulator,
        Method::GET,
        "beta/directory/recommendations",
        &other,
        None,
    )
    .await;
    assert_error(
        status,
        &body,
        403,
        "Authorization_RequestDenied",
        "Insufficient",
    );
}

// ---------------------------------------------------------------------------------------------
// Every body these routes serve, against Microsoft's v1.0 CSDL
// ---------------------------------------------------------------------------------------------

/// Live v1.0 responses carry these although the v1.0 CSDL declares them only in beta
/// (graph-api.md §1.3); the seed reproduces the live shape.
const V1_QUIRKS: &[Allow<'static>] = &[Allow {
    pointer_suffix: "/authenticationMethodsRegistrationCampaign/enforceRegistrationAfterAllowedSnoozes",
    reason: "live v1.0 returns it although only the beta schema declares it (graph-api.md §1.3)",
}];

#[tokio::test]
async fn served_bodies_validate_against_the_v1_schema() {
    let (emulator, client) = start().await;
    with_skus(&emulator);
    let (scores, profile) = (
        vec![score("2026-08-20")],
        json!({
            "id": "SelfServicePasswordReset", "azureTenantId": seed::CONTOSO_ID, "actionType": "Config",
            "controlCategory": "Identity", "maxScore": 1.0, "rank": 12, "service": "AzureAD",
            "tier": "Core", "title": "Enable self-service password reset", "deprecated": false
        }),
    );
    emulator.with_tenant(seed::CONTOSO_ID, move |t| {
        t.secure_scores = scores;
        t.secure_score_control_profiles = vec![profile];
    });
    let t = admin(&emulator);
    // Writes first, so what is validated includes what the write paths produced.
    let (status, _) = patch(&client, &emulator, AMP, &t, json!({"reconfirmationInDays": 30,
        "registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {"state": "enabled"}}})).await;
    assert_eq!(status, 200);
    let (status, _) = patch(&client, &emulator, &format!("{CONFIGS}/Sms"), &t,
        json!({"@odata.type": SMS_TYPE, "includeTargets": [{"id": "all_users", "targetType": "group"}]})).await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &client,
        &emulator,
        Method::DELETE,
        &format!("v1.0/{CONFIGS}/X509Certificate"),
        &t,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = patch(
        &client,
        &emulator,
        "policies/authorizationPolicy",
        &t,
        json!({"allowedToUseSSPR": true}),
    )
    .await;
    assert_eq!(status, 204);

    let schema = Schema::v1();
    let entities = [
        (AMP.to_string(), "authenticationMethodsPolicy"),
        (
            format!("{CONFIGS}/Sms"),
            "authenticationMethodConfiguration",
        ),
        (
            format!("{CONFIGS}/X509Certificate"),
            "authenticationMethodConfiguration",
        ),
        (
            format!("{CONFIGS}/MicrosoftAuthenticator"),
            "authenticationMethodConfiguration",
        ),
        (
            "policies/authorizationPolicy".to_string(),
            "authorizationPolicy",
        ),
        (
            "security/secureScoreControlProfiles/SelfServicePasswordReset".to_string(),
            "secureScoreControlProfile",
        ),
    ];
    for (path, type_name) in entities {
        let (status, body) = get(&client, &emulator, &path, &t).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_valid(validate_with_allowlist(
            schema.validate(type_name, &body),
            V1_QUIRKS,
        ));
    }
    let collections = [
        ("subscribedSkus", "subscribedSku"),
        (
            "subscribedSkus?$select=skuId,skuPartNumber",
            "subscribedSku",
        ),
        ("security/secureScores", "secureScore"),
        (
            "security/secureScoreControlProfiles",
            "secureScoreControlProfile",
        ),
    ];
    for (path, item_type) in collections {
        let (status, body) = get(&client, &emulator, path, &t).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_valid(schema.validate_collection(item_type, &body));
    }
}
