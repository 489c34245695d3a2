//! The truth about a tenant's registration report, for brute-force comparisons.
//!
//! The emulator derives the report's policy-dependent flags (`isSsprEnabled`, `isMfaCapable`, …)
//! from its policies in a private module; its only public face is Graph's own report. So the
//! truth is: the users, their order, UPNs, user types, admin roles and methods from the
//! emulator's raw state, and the derived flags from the emulator's unfiltered report read
//! directly over Graph with the app's own token (never through the service). The raw columns of
//! that report are checked against the raw state on every read.

#![allow(dead_code)] // Each test file uses its own part.

use std::collections::BTreeMap;

use entra_emulator::seed;
use serde_json::Value;
use sspr_e2e::World;

/// One report row as Graph must give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    pub id: String,
    pub upn: String,
    /// `member`, `guest` or `unknownFutureValue`.
    pub user_type: String,
    pub is_admin: bool,
    pub methods: Vec<String>,
    pub sspr_registered: bool,
    pub sspr_enabled: bool,
    pub sspr_capable: bool,
    pub mfa_registered: bool,
    pub mfa_capable: bool,
    pub passwordless_capable: bool,
}

/// An HTTPS client trusting the emulator.
fn emulator_http(world: &World) -> reqwest::Client {
    let pem = world.emulator.ca_pem();
    let certificates = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).expect("CA PEM");
    reqwest::Client::builder()
        .tls_certs_merge(certificates)
        .build()
        .expect("client")
}

/// The emulator's unfiltered report for `tenant_id`, every page, read with the Graph app's token.
pub async fn emulator_report(world: &World, tenant_id: &str) -> Vec<Value> {
    let http = emulator_http(world);
    let token_url = world
        .emulator
        .authority_host()
        .join(&format!("{tenant_id}/oauth2/v2.0/token"))
        .expect("token url");
    let token: Value = http
        .post(token_url)
        .form(&[
            ("client_id", seed::GRAPH_APP_CLIENT_ID),
            ("client_secret", &world.emulator.graph_app_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .expect("token endpoint answers")
        .json()
        .await
        .expect("token JSON");
    let token = token["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let mut rows = Vec::new();
    let mut next = Some(
        world
            .emulator
            .graph_base_url()
            .join("reports/authenticationMethods/userRegistrationDetails?$top=999")
            .expect("report url")
            .to_string(),
    );
    while let Some(url) = next.take() {
        let page: Value = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("report answers")
            .json()
            .await
            .expect("report JSON");
        rows.extend(page["value"].as_array().expect("value").iter().cloned());
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    rows
}

/// The truth for every user of the tenant's report, in Graph's order.
pub async fn truth(world: &World, tenant_id: &str) -> Vec<Truth> {
    let users = world
        .emulator
        .with_tenant(tenant_id, |t| t.users.clone())
        .expect("tenant exists");
    let report = emulator_report(world, tenant_id).await;
    let enabled: Vec<_> = users.iter().filter(|u| u.account_enabled).collect();
    assert_eq!(
        report.len(),
        enabled.len(),
        "the report lists exactly the enabled users"
    );
    enabled
        .into_iter()
        .zip(report)
        .map(|(user, row)| {
            assert_eq!(
                row["id"],
                user.id.as_str(),
                "the report is in storage order"
            );
            let flag = |name: &str| row[name].as_bool().unwrap_or_else(|| panic!("{name}"));
            let user_type = match user.user_type.to_ascii_lowercase().as_str() {
                "member" => "member",
                "guest" => "guest",
                _ => "unknownFutureValue",
            };
            let truth = Truth {
                id: user.id.clone(),
                upn: user.user_principal_name.clone(),
                user_type: user_type.to_owned(),
                is_admin: !user.directory_roles.is_empty(),
                methods: user.methods_registered.clone(),
                sspr_registered: flag("isSsprRegistered"),
                sspr_enabled: flag("isSsprEnabled"),
                sspr_capable: flag("isSsprCapable"),
                mfa_registered: flag("isMfaRegistered"),
                mfa_capable: flag("isMfaCapable"),
                passwordless_capable: flag("isPasswordlessCapable"),
            };
            // The report's raw columns are the raw state's.
            assert_eq!(row["userPrincipalName"], truth.upn.as_str());
            assert_eq!(row["userType"], truth.user_type.as_str());
            assert_eq!(row["isAdmin"], truth.is_admin);
            assert_eq!(row["methodsRegistered"], serde_json::json!(truth.methods));
            truth
        })
        .collect()
}

/// The summary the service must give for these rows, counted by brute force.
pub fn expected_counts(rows: &[Truth]) -> Value {
    let count = |f: &dyn Fn(&Truth) -> bool| rows.iter().filter(|r| f(r)).count();
    let mut methods: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows {
        let mut seen: Vec<&str> = Vec::new();
        for method in &row.methods {
            if !seen.contains(&method.as_str()) {
                seen.push(method);
                *methods.entry(method).or_default() += 1;
            }
        }
    }
    serde_json::json!({
        "totalUsers": rows.len(),
        "features": {
            "ssprRegistered": count(&|r| r.sspr_registered),
            "ssprEnabled": count(&|r| r.sspr_enabled),
            "ssprCapable": count(&|r| r.sspr_capable),
            "mfaRegistered": count(&|r| r.mfa_registered),
            "mfaCapable": count(&|r| r.mfa_capable),
            "passwordlessCapable": count(&|r| r.passwordless_capable),
        },
        "methods": methods,
        "gaps": {
            "enabledNotRegistered": count(&|r| r.sspr_enabled && !r.sspr_registered),
            "registeredNotEnabled": count(&|r| r.sspr_registered && !r.sspr_enabled),
            "adminsWithoutMfa": count(&|r| r.is_admin && !r.mfa_capable),
            "guests": count(&|r| r.user_type == "guest"),
        },
    })
}

/// The parts of a summary body that are counts (what [`expected_counts`] gives).
pub fn counts_of(summary: &Value) -> Value {
    serde_json::json!({
        "totalUsers": summary["totalUsers"],
        "features": summary["features"],
        "methods": summary["methods"],
        "gaps": summary["gaps"],
    })
}
