//! Conditional Access policies and named locations over HTTPS (graph-api.md §5): CRUD, the
//! registration-protection policy of §5.3 and its variants, Graph's validation errors (§5.4),
//! permissions, the CA throttling bucket, and every body served checked against the CSDL.

mod common;

use common::client_for;
use entra_emulator::{Emulator, EmulatorConfig, ThrottleConfig, TokenSpec, seed};
use graph_schema::Schema;
use reqwest::Method;
use serde_json::{Value, json};

const POLICIES: &str = "identity/conditionalAccess/policies";
const LOCATIONS: &str = "identity/conditionalAccess/namedLocations";
const REGISTER_SECURITY_INFO: &str = "urn:user:registersecurityinfo";
const GLOBAL_ADMIN_ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";
const ALL_GUEST_TYPES: &str = "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider";

/// An emulator with throttling off (these tests make many CA calls per second) and a client
/// holding an app-only Graph token for Contoso with the given permissions.
struct Api {
    emulator: Emulator,
    client: reqwest::Client,
    token: String,
}

struct Response {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Api {
    async fn start(roles: &[&str]) -> Api {
        Self::start_with(
            ThrottleConfig {
                enabled: false,
                ..ThrottleConfig::default()
            },
            roles,
        )
        .await
    }

    async fn start_with(throttling: ThrottleConfig, roles: &[&str]) -> Api {
        let emulator = Emulator::start(EmulatorConfig {
            throttling,
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator starts");
        let client = client_for(&emulator);
        let token = emulator.mint_token(&graph_spec(roles));
        Api {
            emulator,
            client,
            token,
        }
    }

    fn with_roles(&self, roles: &[&str]) -> String {
        self.emulator.mint_token(&graph_spec(roles))
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        self.call_as(&self.token, method, path, body).await
    }

    /// `path` starts with the version: `v1.0/identity/...` or `beta/identity/...`.
    async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let url = self.emulator.base_url().join(path).expect("URL");
        let mut request = self.client.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON body ({e}): {text}"))
        };
        Response {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Response {
        self.call(Method::PATCH, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Response {
        self.call(Method::DELETE, path, None).await
    }

    /// POST a policy that must be accepted; returns the created entity.
    async fn create_policy(&self, policy: Value) -> Value {
        let r = self.post(&format!("v1.0/{POLICIES}"), policy).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }

    /// POST a named location that must be accepted; returns its id.
    async fn create_location(&self, location: Value) -> String {
        let r = self.post(&format!("v1.0/{LOCATIONS}"), location).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }
}

fn graph_spec(roles: &[&str]) -> TokenSpec {
    TokenSpec {
        tenant_id: seed::CONTOSO_ID.into(),
        audience: seed::GRAPH_RESOURCE.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        app_id: seed::GRAPH_APP_CLIENT_ID.into(),
        oid: seed::GRAPH_APP_SP_CONTOSO.into(),
        ..TokenSpec::default()
    }
}

const READ_WRITE: &[&str] = &["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"];

/// Graph's CA validation envelope (§5.4): `BadRequest` with the reason in `innerError.message`.
fn assert_ca_bad_request(r: &Response, inner_starts_with: &str) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "BadRequest", "{}", r.body);
    let inner = &r.body["error"]["innerError"];
    assert_eq!(inner["code"], "BadRequest", "{}", r.body);
    let message = inner["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(inner_starts_with),
        "inner message {message:?} should start with {inner_starts_with:?}"
    );
    for key in ["date", "request-id", "client-request-id"] {
        assert!(inner[key].is_string(), "innerError.{key}: {}", r.body);
    }
}

fn assert_bad_request(r: &Response, message_contains: &str) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "BadRequest", "{}", r.body);
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(message_contains),
        "{message:?} should contain {message_contains:?}"
    );
}

fn assert_valid_v1(type_name: &str, body: &Value) {
    if let Err(violations) = Schema::v1().validate(type_name, body) {
        panic!("{type_name} violates the v1.0 CSDL: {violations:?}\n{body:#}");
    }
}

fn assert_valid_v1_collection(type_name: &str, body: &Value) {
    if let Err(violations) = Schema::v1().validate_collection(type_name, body) {
        panic!("{type_name} collection violates the v1.0 CSDL: {violations:?}\n{body:#}");
    }
}

fn assert_valid_beta(type_name: &str, body: &Value) {
    if let Err(violations) = Schema::beta().validate(type_name, body) {
        panic!("{type_name} violates the beta names: {violations:?}\n{body:#}");
    }
}

/// The §5.3 request: block (or another grant) for registering security info outside trusted
/// locations, break-glass user and group excluded.
fn registration_policy(grant: Value) -> Value {
    json!({
        "displayName": "MSP - Block security info registration outside trusted locations",
        "state": "enabledForReportingButNotEnforced",
        "conditions": {
            "clientAppTypes": ["all"],
            "applications": { "includeUserActions": [REGISTER_SECURITY_INFO] },
            "users": {
                "includeUsers": ["All"],
                "excludeUsers": [seed::CONTOSO_BREAK_GLASS_USER],
                "excludeGroups": [seed::CONTOSO_GROUP_BREAK_GLASS],
            },
            "locations": { "includeLocations": ["All"], "excludeLocations": ["AllTrusted"] },
        },
        "grantControls": grant,
    })
}

fn block() -> Value {
    json!({ "operator": "OR", "builtInControls": ["block"] })
}

fn ip_location(name: &str, trusted: bool, cidr: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "displayName": name,
        "isTrusted": trusted,
        "ipRanges": [{ "@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": cidr }],
    })
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn registration_protection_policy_is_created_with_graphs_defaults() {
    let api = Api::start(READ_WRITE).await;
    let created = api.create_policy(registration_policy(block())).await;

    assert_eq!(
        created["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies/$entity"
    );
    let id = created["id"].as_str().expect("server-assigned id");
    assert!(uuid_like(id), "{id}");
    assert!(
        created["createdDateTime"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z'))
    );
    assert_eq!(created["modifiedDateTime"], Value::Null);
    assert_eq!(created["templateId"], Value::Null);
    assert_eq!(created["sessionControls"], Value::Null);
    // Every non-null collection present, every absent complex null (§5.3 expected response).
    let conditions = &created["conditions"];
    for empty in [
        "userRiskLevels",
        "signInRiskLevels",
        "servicePrincipalRiskLevels",
    ] {
        assert_eq!(conditions[empty], json!([]), "{empty}");
    }
    for null in [
        "insiderRiskLevels",
        "platforms",
        "devices",
        "clientApplications",
        "authenticationFlows",
    ] {
        assert_eq!(conditions[null], Value::Null, "{null}");
    }
    assert_eq!(
        conditions["applications"],
        json!({
            "includeApplications": [],
            "excludeApplications": [],
            "includeUserActions": [REGISTER_SECURITY_INFO],
            "includeAuthenticationContextClassReferences": [],
            "applicationFilter": null,
        })
    );
    assert_eq!(
        conditions["users"],
        json!({
            "includeUsers": ["All"],
            "excludeUsers": [seed::CONTOSO_BREAK_GLASS_USER],
            "includeGroups": [],
            "excludeGroups": [seed::CONTOSO_GROUP_BREAK_GLASS],
            "includeRoles": [],
            "excludeRoles": [],
            "includeGuestsOrExternalUsers": null,
            "excludeGuestsOrExternalUsers": null,
        })
    );
    assert_eq!(
        conditions["locations"],
        json!({ "includeLocations": ["All"], "excludeLocations": ["AllTrusted"] })
    );
    let grant = &created["grantControls"];
    assert_eq!(grant["operator"], "OR");
    assert_eq!(grant["builtInControls"], json!(["block"]));
    assert_eq!(grant["customAuthenticationFactors"], json!([]));
    assert_eq!(grant["termsOfUse"], json!([]));
    assert_eq!(grant["authenticationStrength"], Value::Null);
    assert_eq!(
        grant["authenticationStrength@odata.context"],
        format!(
            "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('{id}')/grantControls/authenticationStrength/$entity"
        )
    );
    assert_valid_v1("conditionalAccessPolicy", &created);

    // GET serves what POST answered; the list contains it.
    let got = api.get(&format!("v1.0/{POLICIES}/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, created);
    let list = api.get(&format!("v1.0/{POLICIES}")).await;
    assert_eq!(list.status, 200);
    assert_eq!(
        list.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies"
    );
    assert_valid_v1_collection("conditionalAccessPolicy", &list.body);
    let ids: Vec<&str> = items(&list.body)
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert!(ids.contains(&id), "{ids:?}");
}

#[tokio::test]
async fn every_registration_protection_variant_is_accepted() {
    let api = Api::start(READ_WRITE).await;
    let trusted = api
        .create_location(ip_location("Head office", true, "203.0.113.0/24"))
        .await;
    let grants = [
        block(),
        json!({ "operator": "OR", "builtInControls": ["mfa"] }),
        json!({ "operator": "OR", "builtInControls": ["compliantDevice"] }),
        json!({ "operator": "OR", "builtInControls": ["domainJoinedDevice"] }),
        json!({ "operator": "OR", "builtInControls": ["compliantDevice", "domainJoinedDevice"] }),
        json!({ "operator": "AND", "builtInControls": ["mfa", "compliantDevice"] }),
    ];
    for grant in grants {
        let created = api.create_policy(registration_policy(grant.clone())).await;
        assert_eq!(
            created["grantControls"]["builtInControls"],
            grant["builtInControls"]
        );
        assert_valid_v1("conditionalAccessPolicy", &created);
    }

    // Guests excluded with the flags string (answered in the enum's order), all external tenants.
    let mut guests_excluded = registration_policy(block());
    guests_excluded["conditions"]["users"]["excludeGuestsOrExternalUsers"] = json!({
        "guestOrExternalUserTypes": "serviceProvider, internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser",
        "externalTenants": {
            "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
            "membershipKind": "all"
        }
    });
    let created = api.create_policy(guests_excluded).await;
    let excluded = &created["conditions"]["users"]["excludeGuestsOrExternalUsers"];
    assert_eq!(excluded["guestOrExternalUserTypes"], ALL_GUEST_TYPES);
    assert_eq!(excluded["externalTenants"]["membershipKind"], "all");
    assert_valid_v1("conditionalAccessPolicy", &created);

    // Guest-only variant (Entra's how-to): include guests of enumerated tenants, block.
    let mut guests_only = registration_policy(block());
    guests_only["conditions"]["users"] = json!({
        "includeGuestsOrExternalUsers": {
            "guestOrExternalUserTypes": "b2bCollaborationGuest",
            "externalTenants": {
                "@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                "membershipKind": "enumerated",
                "members": [seed::FABRIKAM_ID]
            }
        }
    });
    let created = api.create_policy(guests_only).await;
    assert_eq!(
        created["conditions"]["users"]["includeGuestsOrExternalUsers"]["externalTenants"]["members"],
        json!([seed::FABRIKAM_ID])
    );
    assert_valid_v1("conditionalAccessPolicy", &created);

    // Legacy guest keyword, admin role excluded, a specific trusted location excluded (template).
    let mut template = registration_policy(json!({ "operator": "OR", "builtInControls": ["mfa"] }));
    template["conditions"]["users"]["excludeUsers"] = json!(["GuestsOrExternalUsers"]);
    template["conditions"]["users"]["excludeRoles"] = json!([GLOBAL_ADMIN_ROLE]);
    template["conditions"]["locations"]["excludeLocations"] = json!([trusted]);
    template["state"] = json!("enabled");
    let created = api.create_policy(template).await;
    assert_eq!(
        created["conditions"]["locations"]["excludeLocations"],
        json!([trusted])
    );
    assert_eq!(created["state"], "enabled");

    // `includeApplications: []` next to a user action is what Graph's own GET returns: accepted.
    let mut echoed = registration_policy(block());
    echoed["conditions"]["applications"]["includeApplications"] = json!([]);
    echoed["conditions"]["applications"]["excludeApplications"] = json!([]);
    api.create_policy(echoed).await;
}

#[tokio::test]
async fn applications_with_user_actions_fail_with_1012() {
    let api = Api::start(READ_WRITE).await;
    for key in ["includeApplications", "excludeApplications"] {
        let mut policy = registration_policy(block());
        policy["conditions"]["applications"][key] = json!(["All"]);
        let r = api.post(&format!("v1.0/{POLICIES}"), policy).await;
        assert_ca_bad_request(
            &r,
            "1012: 'applications' condition cannot include both 'includeApplications' and 'includeUserActions'",
        );
        assert_eq!(
            r.body["error"]["message"],
            "The server could not process the request because it is malformed or incorrect."
        );
    }
    let before = api
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| t.conditional_access_policies.len());
    // Authentication contexts count like user actions.
    let mut policy = registration_policy(block());
    policy["conditions"]["applications"] = json!({
        "includeApplications": ["All"],
        "includeAuthenticationContextClassReferences": ["c1"],
    });
    let r = api.post(&format!("v1.0/{POLICIES}"), policy).await;
    assert_ca_bad_request(&r, "1012:");
    let after = api
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| t.conditional_access_policies.len());
    assert_eq!(before, after, "a rejected policy is not stored");
}

#[tokio::test]
async fn unknown_users_groups_and_locations_are_rejected() {
    let api = Api::start(READ_WRITE).await;
    let nobody = "11111111-2222-4333-8444-555555555555";
    let cases = [
        ("/conditions/users/excludeUsers", "unknown user ids"),
        ("/conditions/users/includeUsers", "unknown user ids"),
        ("/conditions/users/excludeGroups", "unknown group ids"),
        ("/conditions/users/includeGroups", "unknown group ids"),
        (
            "/conditions/locations/excludeLocations",
            "unknown named location ids",
        ),
        (
            "/conditions/locations/includeLocations",
            "unknown named location ids",
        ),
    ];
    for (pointer, reason) in cases {
        let mut policy = registration_policy(block());
        set(&mut policy, pointer, json!([nobody]));
        if pointer.ends_with("includeUsers") {
            policy["conditions"]["users"]["excludeUsers"] = json!([]);
        }
        let r = api.post(&format!("v1.0/{POLICIES}"), policy).await;
        assert_ca_bad_request(&r, "Invalid conditions");
        let message = r.body["error"]["innerError"]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.contains(reason) && message.contains(nobody),
            "{pointer}: {message}"
        );
    }
    // A named location of another tenant is unknown here too.
    let mut policy = registration_policy(block());
    policy["conditions"]["locations"]["excludeLocations"] = json!([seed::OPERATOR_LOCATION_NOC]);
    let r = api.post(&format!("v1.0/{POLICIES}"), policy).await;
    assert_ca_bad_request(&r, "Invalid conditions");
    // Real ids of this tenant are accepted (seeded location, user found case-insensitively).
    let mut policy = registration_policy(block());
    policy["conditions"]["locations"]["excludeLocations"] = json!([seed::CONTOSO_LOCATION_HQ]);
    policy["conditions"]["users"]["excludeUsers"] =
        json!([seed::CONTOSO_BREAK_GLASS_USER.to_uppercase()]);
    api.create_policy(policy).await;
}

#[tokio::test]
async fn invalid_members_types_and_missing_pieces_are_rejected() {
    let api = Api::start(READ_WRITE).await;
    let post = |policy: Value| async { api.post(&format!("v1.0/{POLICIES}"), policy).await };

    // Enum members (state, client app types, grant controls, risk levels, guest flags).
    let bad_enums = [
        ("/state", json!("on")),
        ("/conditions/clientAppTypes", json!(["all", "legacy"])),
        ("/grantControls/builtInControls", json!(["approve"])),
        ("/conditions/userRiskLevels", json!(["severe"])),
    ];
    for (pointer, value) in bad_enums {
        let mut policy = registration_policy(block());
        set(&mut policy, pointer, value);
        let r = post(policy).await;
        assert_bad_request(&r, "is not valid for the enum type");
    }
    let mut policy = registration_policy(block());
    policy["conditions"]["users"]["excludeGuestsOrExternalUsers"] =
        json!({ "guestOrExternalUserTypes": "internalGuest,visitors" });
    assert_bad_request(
        &post(policy).await,
        "'visitors' is not valid for the enum type 'microsoft.graph.conditionalAccessGuestOrExternalUserTypes'",
    );
    // The flags are one string, not a JSON array.
    let mut policy = registration_policy(block());
    policy["conditions"]["users"]["excludeGuestsOrExternalUsers"] =
        json!({ "guestOrExternalUserTypes": ["internalGuest"] });
    assert_bad_request(&post(policy).await, "guestOrExternalUserTypes");
    // externalTenants is abstract: @odata.type required.
    let mut policy = registration_policy(block());
    policy["conditions"]["users"]["excludeGuestsOrExternalUsers"] = json!({
        "guestOrExternalUserTypes": "internalGuest",
        "externalTenants": { "membershipKind": "all" }
    });
    assert_bad_request(&post(policy).await, "abstract");

    // Unknown property, null in a non-null collection, wrong JSON type.
    let mut policy = registration_policy(block());
    policy["conditions"]["users"]["includeEveryone"] = json!(true);
    assert_bad_request(
        &post(policy).await,
        "The property 'includeEveryone' does not exist on type 'microsoft.graph.conditionalAccessUsers'",
    );
    let mut policy = registration_policy(block());
    policy["conditions"]["users"]["excludeUsers"] = Value::Null;
    assert_bad_request(&post(policy).await, "does not allow null values");
    let mut policy = registration_policy(block());
    policy["displayName"] = json!(42);
    assert_bad_request(&post(policy).await, "displayName");

    // Missing required pieces.
    for field in ["displayName", "conditions", "state"] {
        let mut policy = registration_policy(block());
        policy.as_object_mut().map(|p| p.remove(field));
        assert_ca_bad_request(&post(policy).await, &format!("The property '{field}'"));
    }
    let mut policy = registration_policy(block());
    policy["displayName"] = json!("  ");
    assert_ca_bad_request(&post(policy).await, "displayName is required");
    let mut policy = registration_policy(block());
    policy.as_object_mut().map(|p| p.remove("grantControls"));
    assert_ca_bad_request(
        &post(policy).await,
        "Invalid policy: the policy must have at least one grant control",
    );
    let mut policy = registration_policy(json!({ "operator": "OR", "builtInControls": [] }));
    policy["sessionControls"] = Value::Null;
    assert_ca_bad_request(&post(policy).await, "Invalid policy");
    let mut policy = registration_policy(block());
    policy["conditions"]["applications"] = json!({});
    assert_ca_bad_request(
        &post(policy).await,
        "Invalid conditions: the policy must include applications",
    );
    let mut policy = registration_policy(block());
    policy["conditions"]["users"] = json!({ "excludeUsers": [seed::CONTOSO_BREAK_GLASS_USER] });
    assert_ca_bad_request(
        &post(policy).await,
        "Invalid conditions: the policy must include users",
    );

    // Grant control rules: block is exclusive, operator AND/OR, passwordChange (1032).
    let r = post(registration_policy(
        json!({ "operator": "OR", "builtInControls": ["block", "mfa"] }),
    ))
    .await;
    assert_ca_bad_request(&r, "Invalid grant controls");
    let r = post(registration_policy(
        json!({ "operator": "XOR", "builtInControls": ["mfa"] }),
    ))
    .await;
    assert_ca_bad_request(&r, "Invalid grant controls");
    let r = post(registration_policy(
        json!({ "operator": "AND", "builtInControls": ["mfa", "passwordChange"] }),
    ))
    .await;
    assert_ca_bad_request(
        &r,
        "1032: ConditionalActionPolicy validation failed due to InvalidPasswordResetControl.",
    );
    // …and the documented passwordChange shape is accepted.
    let risk_policy = json!({
        "displayName": "User risk: password change",
        "state": "enabled",
        "conditions": {
            "clientAppTypes": ["all"],
            "userRiskLevels": ["high"],
            "applications": { "includeApplications": ["All"] },
            "users": { "includeUsers": ["All"] },
        },
        "grantControls": { "operator": "AND", "builtInControls": ["mfa", "passwordChange"] },
    });
    api.create_policy(risk_policy).await;

    // Unknown user action; registerdevice allows only the mfa grant.
    let mut policy = registration_policy(block());
    policy["conditions"]["applications"]["includeUserActions"] = json!(["urn:user:resetpassword"]);
    assert_ca_bad_request(&post(policy).await, "Invalid user action");
    let mut policy = registration_policy(block());
    policy["conditions"]["applications"]["includeUserActions"] = json!(["urn:user:registerdevice"]);
    assert_ca_bad_request(
        &post(policy).await,
        "Invalid policy: the user action 'urn:user:registerdevice'",
    );
    let mut policy = registration_policy(json!({ "operator": "OR", "builtInControls": ["mfa"] }));
    policy["conditions"]["applications"]["includeUserActions"] = json!(["urn:user:registerdevice"]);
    api.create_policy(policy).await;

    // An empty body is Graph's 400 too.
    let r = api
        .call(Method::POST, &format!("v1.0/{POLICIES}"), None)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test]
async fn session_controls_and_authentication_strength_round_trip() {
    let api = Api::start(READ_WRITE).await;
    let policy = json!({
        "displayName": "Admins: phishing-resistant, 4 h sessions",
        "state": "enabled",
        "conditions": {
            "clientAppTypes": ["all"],
            "applications": { "includeApplications": ["All"], "excludeApplications": [] },
            "users": { "includeRoles": [GLOBAL_ADMIN_ROLE] },
            "platforms": { "includePlatforms": ["all"], "excludePlatforms": ["linux"] },
        },
        "grantControls": {
            "operator": "OR",
            "authenticationStrength": { "id": "00000000-0000-0000-0000-000000000004" }
        },
        "sessionControls": {
            "signInFrequency": { "isEnabled": true, "type": "hours", "value": 4, "frequencyInterval": "timeBased", "authenticationType": "primaryAndSecondaryAuthentication" },
            "persistentBrowser": { "isEnabled": true, "mode": "never" }
        }
    });
    let created = api.create_policy(policy).await;
    assert_valid_v1("conditionalAccessPolicy", &created);
    let strength = &created["grantControls"]["authenticationStrength"];
    assert_eq!(strength["displayName"], "Phishing-resistant MFA");
    assert_eq!(strength["policyType"], "builtIn");
    let session = &created["sessionControls"];
    assert_eq!(session["signInFrequency"]["value"], 4);
    assert_eq!(session["persistentBrowser"]["mode"], "never");
    assert_eq!(session["cloudAppSecurity"], Value::Null);
    assert_eq!(session["disableResilienceDefaults"], Value::Null);

    let mut unknown_strength = created.clone();
    unknown_strength["grantControls"]["authenticationStrength"] = json!({ "id": "custom-x" });
    let r = api
        .post(&format!("v1.0/{POLICIES}"), unknown_strength)
        .await;
    assert_ca_bad_request(&r, "Invalid authentication strength");
}

#[tokio::test]
async fn patch_merges_and_revalidates_delete_removes() {
    let api = Api::start(READ_WRITE).await;
    let created = api.create_policy(registration_policy(block())).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("v1.0/{POLICIES}/{id}");

    // Top-level property only: the rest stays, modifiedDateTime is set.
    let r = api.patch(&path, json!({ "state": "enabled" })).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.body, Value::Null, "204 has no body");
    let got = api.get(&path).await.body;
    assert_eq!(got["state"], "enabled");
    assert_eq!(got["conditions"], created["conditions"]);
    assert!(got["modifiedDateTime"].is_string());
    assert_eq!(got["createdDateTime"], created["createdDateTime"]);

    // A nested member only (Graph's update example patches `conditions.signInRiskLevels`).
    let r = api
        .patch(&path, json!({ "conditions": { "signInRiskLevels": ["high"], "users": { "excludeUsers": [] } } }))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let got = api.get(&path).await.body;
    assert_eq!(got["conditions"]["signInRiskLevels"], json!(["high"]));
    assert_eq!(got["conditions"]["users"]["excludeUsers"], json!([]));
    assert_eq!(got["conditions"]["users"]["includeUsers"], json!(["All"]));
    assert_eq!(
        got["conditions"]["users"]["excludeGroups"],
        json!([seed::CONTOSO_GROUP_BREAK_GLASS])
    );
    assert_eq!(
        got["conditions"]["applications"],
        created["conditions"]["applications"]
    );
    assert_valid_v1("conditionalAccessPolicy", &got);

    // GET-modify-PATCH of the whole object (server properties included) works.
    let mut whole = got.clone();
    whole.as_object_mut().map(|o| o.remove("@odata.context"));
    whole["grantControls"] = json!({ "operator": "OR", "builtInControls": ["mfa"] });
    let r = api.patch(&path, whole).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let got = api.get(&path).await.body;
    assert_eq!(got["id"], id);
    assert_eq!(got["grantControls"]["builtInControls"], json!(["mfa"]));

    // An edit that makes the policy invalid is refused and changes nothing.
    let r = api
        .patch(
            &path,
            json!({ "conditions": { "applications": { "includeApplications": ["All"] } } }),
        )
        .await;
    assert_ca_bad_request(&r, "1012:");
    let r = api
        .patch(&path, json!({ "conditions": { "users": { "excludeGroups": ["3f9a0000-0000-4000-8000-000000000000"] } } }))
        .await;
    assert_ca_bad_request(&r, "Invalid conditions");
    assert_eq!(api.get(&path).await.body, got);

    // Delete, then the id is gone for every method.
    let r = api.delete(&path).await;
    assert_eq!(r.status, 204, "{}", r.body);
    for r in [
        api.get(&path).await,
        api.patch(&path, json!({ "state": "disabled" })).await,
        api.delete(&path).await,
    ] {
        assert_eq!(r.status, 404, "{}", r.body);
        assert_eq!(r.body["error"]["code"], "Request_ResourceNotFound");
    }
}

#[tokio::test]
async fn policy_list_supports_the_documented_query_options() {
    let api = Api::start(READ_WRITE).await;
    api.emulator
        .with_tenant(seed::CONTOSO_ID, |t| t.conditional_access_policies.clear());
    for (name, state) in [("B", "enabled"), ("A", "disabled"), ("C", "enabled")] {
        let mut policy = registration_policy(block());
        policy["displayName"] = json!(name);
        policy["state"] = json!(state);
        api.create_policy(policy).await;
    }
    let list = api
        .get(&format!("v1.0/{POLICIES}?$filter=state eq 'enabled'&$orderby=displayName desc&$select=displayName,state&$count=true"))
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["@odata.count"], 2);
    let names: Vec<&str> = items(&list.body)
        .iter()
        .filter_map(|p| p["displayName"].as_str())
        .collect();
    assert_eq!(names, ["C", "B"]);
    assert!(
        items(&list.body)
            .iter()
            .all(|p| p.get("conditions").is_none() && p["id"].is_string())
    );

    // $top pages with an opaque nextLink that a client follows verbatim.
    let first = api
        .get(&format!("v1.0/{POLICIES}?$top=2&$orderby=displayName"))
        .await;
    assert_eq!(items(&first.body).len(), 2);
    let next = first.body["@odata.nextLink"]
        .as_str()
        .expect("nextLink")
        .to_owned();
    let second = api
        .call(
            Method::GET,
            next.trim_start_matches(api.emulator.base_url().as_str()),
            None,
        )
        .await;
    let names: Vec<&str> = items(&second.body)
        .iter()
        .filter_map(|p| p["displayName"].as_str())
        .collect();
    assert_eq!(names, ["C"]);
    assert!(second.body.get("@odata.nextLink").is_none());

    let r = api
        .get(&format!("v1.0/{POLICIES}?$filter=state has 'x'"))
        .await;
    assert_bad_request(&r, "Invalid filter clause");
}

#[tokio::test]
async fn beta_serves_beta_names() {
    let api = Api::start(READ_WRITE).await;
    let created = api.create_policy(registration_policy(block())).await;
    let id = created["id"].as_str().expect("id");
    let got = api.get(&format!("beta/{POLICIES}/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(
        got.body["@odata.context"]
            .as_str()
            .is_some_and(|c| c.starts_with("https://graph.microsoft.com/beta/$metadata#"))
    );
    assert_eq!(
        got.body["conditions"]["applications"]["networkAccess"],
        Value::Null
    );
    assert!(
        got.body["conditions"]["applications"]
            .get("networkAccess")
            .is_some()
    );
    assert_valid_beta("conditionalAccessPolicy", &got.body);
    // A beta client PATCHing back what it read (with the beta-only nulls) succeeds.
    let mut whole = got.body.clone();
    whole.as_object_mut().map(|o| o.remove("@odata.context"));
    whole["state"] = json!("disabled");
    let r = api
        .call(Method::PATCH, &format!("beta/{POLICIES}/{id}"), Some(whole))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let v1 = api.get(&format!("v1.0/{POLICIES}/{id}")).await.body;
    assert_eq!(v1["state"], "disabled");
    assert!(
        v1["conditions"]["applications"]
            .get("networkAccess")
            .is_none()
    );
    assert_valid_v1("conditionalAccessPolicy", &v1);
    let list = api.get(&format!("beta/{LOCATIONS}")).await;
    for item in items(&list.body) {
        let type_name = item["@odata.type"].as_str().expect("@odata.type");
        assert_valid_beta(type_name.trim_start_matches("#microsoft.graph."), item);
    }
}

#[tokio::test]
async fn permissions_follow_graphs_matrix() {
    let api = Api::start(READ_WRITE).await;
    let read_only = api.with_roles(&["Policy.Read.All"]);
    let write_only = api.with_roles(&["Policy.ReadWrite.ConditionalAccess"]);
    let nothing = api.with_roles(&["Organization.Read.All"]);
    let policies = format!("v1.0/{POLICIES}");
    let locations = format!("v1.0/{LOCATIONS}");

    let forbidden = |r: Response| {
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.body["error"]["code"], "Authorization_RequestDenied");
    };
    // Reads need Policy.Read.All.
    assert_eq!(
        api.call_as(&read_only, Method::GET, &policies, None)
            .await
            .status,
        200
    );
    assert_eq!(
        api.call_as(&read_only, Method::GET, &locations, None)
            .await
            .status,
        200
    );
    forbidden(api.call_as(&nothing, Method::GET, &policies, None).await);
    forbidden(
        api.call_as(&write_only, Method::GET, &locations, None)
            .await,
    );
    // Policy writes need Policy.ReadWrite.ConditionalAccess and Policy.Read.All (§5.1).
    let body = registration_policy(block());
    forbidden(
        api.call_as(&read_only, Method::POST, &policies, Some(body.clone()))
            .await,
    );
    forbidden(
        api.call_as(&write_only, Method::POST, &policies, Some(body.clone()))
            .await,
    );
    let created = api.create_policy(body).await;
    let path = format!("{policies}/{}", created["id"].as_str().expect("id"));
    forbidden(
        api.call_as(
            &write_only,
            Method::PATCH,
            &path,
            Some(json!({"state": "enabled"})),
        )
        .await,
    );
    forbidden(api.call_as(&write_only, Method::DELETE, &path, None).await);
    // Named-location writes need Policy.ReadWrite.ConditionalAccess.
    let location = ip_location("Branch", false, "198.51.100.0/24");
    forbidden(
        api.call_as(&read_only, Method::POST, &locations, Some(location.clone()))
            .await,
    );
    let r = api
        .call_as(&write_only, Method::POST, &locations, Some(location))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn ca_routes_share_the_one_request_per_second_bucket() {
    let api = Api::start_with(ThrottleConfig::default(), READ_WRITE).await;
    let first = api.get(&format!("v1.0/{POLICIES}")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    // Another CA route right after, same tenant: throttled, and without Retry-After (§8.2).
    let second = api.get(&format!("v1.0/{LOCATIONS}")).await;
    assert_eq!(second.status, 429, "{}", second.body);
    assert!(second.headers.get("retry-after").is_none());
    assert_eq!(second.body["error"]["code"], "TooManyRequests");
}

// ---------------------------------------------------------------------------------------------
// Named locations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn named_location_crud_round_trip() {
    let api = Api::start(READ_WRITE).await;
    let path = format!("v1.0/{LOCATIONS}");
    let mut location = ip_location("Head office", true, "203.0.113.0/24");
    location["ipRanges"].as_array_mut().expect("ranges").push(
        json!({ "@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8::/48" }),
    );
    let r = api.post(&path, location).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.body;
    assert_eq!(
        created["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#namedLocations/$entity"
    );
    assert_eq!(created["@odata.type"], "#microsoft.graph.ipNamedLocation");
    assert_eq!(created["isTrusted"], true);
    assert_eq!(created["ipRanges"][1]["cidrAddress"], "2001:db8::/48");
    assert_eq!(created["createdDateTime"], created["modifiedDateTime"]);
    assert_valid_v1("ipNamedLocation", &created);
    let id = created["id"].as_str().expect("id").to_owned();
    let item = format!("{path}/{id}");

    let got = api.get(&item).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["displayName"], "Head office");
    assert_valid_v1("ipNamedLocation", &got.body);

    // PATCH with the type: ranges replace wholesale, other properties stay.
    let r = api
        .patch(&item, json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "ipRanges": [{ "@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "192.0.2.0/25" }]
        }))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let got = api.get(&item).await.body;
    assert_eq!(
        got["ipRanges"],
        json!([{ "@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "192.0.2.0/25" }])
    );
    assert_eq!(got["isTrusted"], true);
    assert_eq!(got["displayName"], "Head office");
    assert_ne!(got["modifiedDateTime"], created["modifiedDateTime"]);

    // Country location with Graph's defaults.
    let r = api
        .post(
            &path,
            json!({
                "@odata.type": "#microsoft.graph.countryNamedLocation",
                "displayName": "Allowed countries",
                "countriesAndRegions": ["US", "CA"]
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["includeUnknownCountriesAndRegions"], false);
    assert_eq!(r.body["countryLookupMethod"], "clientIpAddress");
    assert_valid_v1("countryNamedLocation", &r.body);
    let country = r.body["id"].as_str().expect("id").to_owned();

    let list = api.get(&path).await;
    assert_eq!(
        list.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/namedLocations"
    );
    assert_valid_v1_collection("namedLocation", &list.body);
    let ids: Vec<&str> = items(&list.body)
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    assert!(
        ids.contains(&id.as_str()) && ids.contains(&country.as_str()),
        "{ids:?}"
    );

    let r = api.delete(&item).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(api.get(&item).await.status, 404);
    assert_eq!(api.delete(&item).await.status, 404);
}

#[tokio::test]
async fn named_location_bodies_are_validated() {
    let api = Api::start(READ_WRITE).await;
    let path = format!("v1.0/{LOCATIONS}");
    // @odata.type is required: the base type is abstract (§5.6).
    let mut untyped = ip_location("Head office", true, "203.0.113.0/24");
    untyped.as_object_mut().map(|o| o.remove("@odata.type"));
    assert_bad_request(&api.post(&path, untyped).await, "'@odata.type'");
    let mut base = ip_location("Head office", true, "203.0.113.0/24");
    base["@odata.type"] = json!("#microsoft.graph.namedLocation");
    assert_bad_request(&api.post(&path, base).await, "abstract");

    let bad_cidrs = [
        ("#microsoft.graph.iPv4CidrRange", "203.0.113.0"),
        ("#microsoft.graph.iPv4CidrRange", "203.0.113.0/33"),
        ("#microsoft.graph.iPv4CidrRange", "2001:db8::/48"),
        ("#microsoft.graph.iPv6CidrRange", "203.0.113.0/24"),
        ("#microsoft.graph.iPv4CidrRange", "300.1.1.1/8"),
    ];
    for (range_type, cidr) in bad_cidrs {
        let mut location = ip_location("x", false, cidr);
        location["ipRanges"][0]["@odata.type"] = json!(range_type);
        assert_ca_bad_request(&api.post(&path, location).await, "Invalid");
    }
    let mut untyped_range = ip_location("x", false, "203.0.113.0/24");
    untyped_range["ipRanges"][0]
        .as_object_mut()
        .map(|o| o.remove("@odata.type"));
    assert_bad_request(&api.post(&path, untyped_range).await, "abstract");
    let mut no_ranges = ip_location("x", false, "203.0.113.0/24");
    no_ranges["ipRanges"] = json!([]);
    assert_ca_bad_request(
        &api.post(&path, no_ranges).await,
        "An IP named location needs",
    );
    let mut nameless = ip_location("", false, "203.0.113.0/24");
    assert_ca_bad_request(
        &api.post(&path, nameless.clone()).await,
        "displayName is required",
    );
    nameless["displayName"] = json!("x");
    nameless["countriesAndRegions"] = json!(["US"]);
    assert_bad_request(
        &api.post(&path, nameless).await,
        "The property 'countriesAndRegions' does not exist on type 'microsoft.graph.ipNamedLocation'",
    );
    let country = json!({
        "@odata.type": "#microsoft.graph.countryNamedLocation",
        "displayName": "Bad",
        "countriesAndRegions": ["usa"],
    });
    assert_ca_bad_request(
        &api.post(&path, country).await,
        "Invalid country or region code",
    );
    let country = json!({
        "@odata.type": "#microsoft.graph.countryNamedLocation",
        "displayName": "Bad",
        "countriesAndRegions": ["US"],
        "countryLookupMethod": "gps",
    });
    assert_bad_request(&api.post(&path, country).await, "countryLookupMethodType");

    // PATCH also needs @odata.type, and it must be the location's own type.
    let id = api
        .create_location(ip_location("Branch", false, "198.51.100.0/24"))
        .await;
    let item = format!("{path}/{id}");
    assert_bad_request(
        &api.patch(&item, json!({ "displayName": "Renamed" })).await,
        "'@odata.type'",
    );
    let r = api
        .patch(&item, json!({ "@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "Renamed" }))
        .await;
    assert_ca_bad_request(&r, "The '@odata.type'");
    let r = api
        .patch(
            &item,
            json!({ "@odata.type": "#microsoft.graph.ipNamedLocation", "ipRanges": [] }),
        )
        .await;
    assert_ca_bad_request(&r, "An IP named location needs");
    assert_eq!(api.get(&item).await.body["displayName"], "Branch");
    assert_eq!(
        api.patch(
            &format!("{path}/00000000-1111-4222-8333-444444444444"),
            json!({ "@odata.type": "#microsoft.graph.ipNamedLocation" })
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn named_locations_filter_by_type_and_country() {
    let api = Api::start(READ_WRITE).await;
    api.emulator
        .with_tenant(seed::CONTOSO_ID, |t| t.named_locations.clear());
    let ip = api
        .create_location(ip_location("Head office", true, "203.0.113.0/24"))
        .await;
    let country = api
        .create_location(json!({
            "@odata.type": "#microsoft.graph.countryNamedLocation",
            "displayName": "North America",
            "countriesAndRegions": ["US", "CA"],
        }))
        .await;
    let ids = |body: &Value| -> Vec<String> {
        items(body)
            .iter()
            .filter_map(|l| l["id"].as_str().map(str::to_owned))
            .collect()
    };
    let path = format!("v1.0/{LOCATIONS}");
    let r = api
        .get(&format!(
            "{path}?$filter=isof('microsoft.graph.ipNamedLocation')"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), [ip.as_str()]);
    assert_valid_v1_collection("namedLocation", &r.body);
    let r = api
        .get(&format!(
            "{path}?$filter=isof('microsoft.graph.countryNamedLocation')"
        ))
        .await;
    assert_eq!(ids(&r.body), [country.as_str()]);
    let r = api
        .get(&format!("{path}?$filter=microsoft.graph.countryNamedLocation/countriesAndRegions/any(c: c eq 'CA')"))
        .await;
    assert_eq!(ids(&r.body), [country.as_str()]);
    let r = api
        .get(&format!(
            "{path}?$filter=createdDateTime ge 2019-09-01T00:00:00Z"
        ))
        .await;
    assert_eq!(ids(&r.body).len(), 2);
    let r = api
        .get(&format!(
            "{path}?$filter=createdDateTime lt 2019-09-01T00:00:00Z"
        ))
        .await;
    assert_eq!(ids(&r.body).len(), 0);
    let r = api
        .get(&format!("{path}?$filter=displayName eq 'head office'"))
        .await;
    assert_eq!(ids(&r.body), [ip.as_str()]);
}

#[tokio::test]
async fn a_location_named_by_a_policy_cannot_be_deleted() {
    let api = Api::start(READ_WRITE).await;
    let trusted = api
        .create_location(ip_location("Head office", true, "203.0.113.0/24"))
        .await;
    let mut policy = registration_policy(block());
    policy["conditions"]["locations"]["excludeLocations"] = json!([trusted]);
    let created = api.create_policy(policy).await;
    let location = format!("v1.0/{LOCATIONS}/{trusted}");
    assert_ca_bad_request(&api.delete(&location).await, "Named location");
    // Once the policy is gone, so can the location be.
    let policy = format!("v1.0/{POLICIES}/{}", created["id"].as_str().expect("id"));
    assert_eq!(api.delete(&policy).await.status, 204);
    assert_eq!(api.delete(&location).await.status, 204);
}

// ---------------------------------------------------------------------------------------------

/// `value[pointer] = new`, creating objects along the way (`/a/b` → `value["a"]["b"]`).
fn set(value: &mut Value, pointer: &str, new: Value) {
    let target = pointer
        .split('/')
        .skip(1)
        .fold(value, |current, key| &mut current[key]);
    *target = new;
}

fn items(body: &Value) -> &[Value] {
    body["value"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}
