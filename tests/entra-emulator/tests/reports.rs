//! Registration reports: `userRegistrationDetails` computed from the tenant state (portal scope,
//! admin policy, methods policy), its query options and paging, the licence check, the optional
//! propagation delay, and the delegated-only summary functions.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    time::Duration,
};

use entra_emulator::{Emulator, EmulatorConfig, Tenant, ThrottleConfig, TokenSpec, User, seed};
use serde_json::{Value, json};

const REPORT: &str = "reports/authenticationMethods/userRegistrationDetails";
const MEGAN_ADMIN: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01";
const ALEX_IN_GROUP: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02";
const NESTOR_ADMIN_IN_GROUP: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c06";
const PRADEEP_GUEST: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c07";

/// An emulator without throttling (these tests page a lot) and with the given report delay.
async fn start(report_delay: Duration) -> (Emulator, reqwest::Client) {
    let emulator = Emulator::start(EmulatorConfig {
        report_delay,
        throttling: ThrottleConfig {
            enabled: false,
            ..ThrottleConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let client = common::client_for(&emulator);
    (emulator, client)
}

/// The portal `PasswordResetPolicies` object (graph-api.md §2.3) with this scope.
fn portal(enablement_type: u8) -> Value {
    json!({
        "objectId": "default",
        "enablementType": enablement_type,
        "numberOfAuthenticationMethodsRequired": 1,
        "emailOptionEnabled": true,
        "mobilePhoneOptionEnabled": true,
        "officePhoneOptionEnabled": false,
        "securityQuestionsOptionEnabled": false,
        "mobileAppNotificationEnabled": false,
        "mobileAppCodeEnabled": true,
        "numberOfQuestionsToRegister": 5,
        "numberOfQuestionsToReset": 3,
        "registrationRequiredOnSignIn": true,
        "registrationReconfirmIntevalInDays": 180,
        "skipRegistrationAllowed": true,
        "skipRegistrationMaxAllowedDays": 7,
        "customizeHelpdeskLink": false,
        "customHelpdeskEmailOrUrl": "",
        "notifyUsersOnPasswordReset": true,
        "notifyOnAdminPasswordReset": true,
        "passwordResetEnabledGroupIds": [seed::CONTOSO_GROUP_SSPR_USERS],
        "passwordResetEnabledGroupName": "SSPR Users",
        "securityQuestions": [],
        "registrationConditionalAccessPolicies": [],
        "emailOptionAllowed": true,
        "mobilePhoneOptionAllowed": true,
        "officePhoneOptionAllowed": true,
        "securityQuestionsOptionAllowed": true,
        "mobileAppNotificationOptionAllowed": true,
        "mobileAppCodeOptionAllowed": true
    })
}

fn set_scope(emulator: &Emulator, enablement_type: u8, admins_allowed: bool) {
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.password_reset_policies = portal(enablement_type);
            t.authorization_policy["allowedToUseSSPR"] = json!(admins_allowed);
        })
        .expect("contoso exists");
}

async fn app_token(client: &reqwest::Client, emulator: &Emulator, tenant: &str) -> String {
    common::graph_token(client, emulator, tenant).await
}

fn delegated_token(emulator: &Emulator) -> String {
    emulator.mint_token(&TokenSpec {
        scp: Some("AuditLog.Read.All".into()),
        audience: seed::GRAPH_RESOURCE.into(),
        tenant_id: seed::CONTOSO_ID.into(),
        ..TokenSpec::default()
    })
}

/// GET an absolute URL (or a path below `{base}`), with query pairs; status and JSON body.
async fn get(
    client: &reqwest::Client,
    emulator: &Emulator,
    url: &str,
    query: &[(&str, &str)],
    token: &str,
) -> (u16, Value) {
    let url = if url.starts_with("https://") {
        url.to_string()
    } else {
        emulator.base_url().join(url).expect("URL").to_string()
    };
    let response = client
        .get(url)
        .query(query)
        .bearer_auth(token)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// Every row of the v1.0 list for these query options, following `@odata.nextLink`; also
/// returns the page sizes.
async fn list_all(
    client: &reqwest::Client,
    emulator: &Emulator,
    query: &[(&str, &str)],
    token: &str,
) -> (Vec<Value>, Vec<usize>) {
    let (status, mut body) = get(client, emulator, &format!("v1.0/{REPORT}"), query, token).await;
    assert_eq!(status, 200, "{body}");
    let mut rows = Vec::new();
    let mut pages = Vec::new();
    loop {
        let value = body["value"].as_array().expect("value").clone();
        pages.push(value.len());
        rows.extend(value);
        let Some(next) = body["@odata.nextLink"].as_str().map(str::to_owned) else {
            break;
        };
        assert!(pages.len() < 1_000, "paging does not end");
        let (status, next_body) = get(client, emulator, &next, &[], token).await;
        assert_eq!(status, 200, "{next_body}");
        body = next_body;
    }
    (rows, pages)
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

fn flags(rows: &[Value], property: &str) -> BTreeMap<String, bool> {
    rows.iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_string(),
                r[property].as_bool().expect(property),
            )
        })
        .collect()
}

/// `n` deterministic users with a spread of types, roles, methods and states; even ones join the
/// SSPR group.
fn add_users(t: &mut Tenant, n: usize) {
    const METHODS: &[&[&str]] = &[
        &[],
        &["email"],
        &["mobilePhone"],
        &["email", "mobilePhone"],
        &["microsoftAuthenticatorPush", "softwareOneTimePasscode"],
        &["fido2SecurityKey", "windowsHelloForBusiness"],
    ];
    let mut group_members = Vec::new();
    for i in 0..n {
        let id = format!("00000000-0000-4000-8000-{i:012}");
        if i % 2 == 0 {
            group_members.push(id.clone());
        }
        t.users.push(User {
            id,
            // Mixed case and a shared display name for every 10th user: the sort must be
            // case-insensitive and break ties by id.
            display_name: if i % 10 == 0 {
                "Shared Name".into()
            } else if i % 3 == 0 {
                format!("test user {i:05}")
            } else {
                format!("Test User {i:05}")
            },
            user_principal_name: format!("user{i:05}@contoso.onmicrosoft.com"),
            user_type: if i % 17 == 0 { "Guest" } else { "Member" }.into(),
            account_enabled: i % 50 != 7,
            directory_roles: if i % 97 == 0 {
                vec!["Helpdesk Administrator".into()]
            } else {
                Vec::new()
            },
            methods_registered: METHODS[i % METHODS.len()]
                .iter()
                .map(|m| m.to_string())
                .collect(),
            preferred_method: if i % 6 == 4 { "push" } else { "" }.into(),
        });
    }
    if let Some(g) = t
        .groups
        .iter_mut()
        .find(|g| g.id == seed::CONTOSO_GROUP_SSPR_USERS)
    {
        g.members.extend(group_members);
    }
}

fn enabled_users(emulator: &Emulator) -> Vec<User> {
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.users
                .iter()
                .filter(|u| u.account_enabled)
                .cloned()
                .collect()
        })
        .expect("contoso")
}

#[tokio::test]
async fn portal_scope_drives_is_sspr_enabled_and_admins_follow_the_admin_policy() {
    let (emulator, client) = start(Duration::ZERO).await;
    let token = app_token(&client, &emulator, seed::CONTOSO_ID).await;

    set_scope(&emulator, 0, false);
    let (rows, _) = list_all(&client, &emulator, &[], &token).await;
    assert!(rows.len() >= 8, "{rows:?}");
    assert!(
        flags(&rows, "isSsprEnabled").values().all(|e| !e),
        "none: nobody"
    );

    set_scope(&emulator, 1, false);
    let enabled = flags(
        &list_all(&client, &emulator, &[], &token).await.0,
        "isSsprEnabled",
    );
    let (members, in_group): (HashSet<String>, HashSet<String>) = emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            let group = t.group_by_name("SSPR Users").expect("group");
            (
                t.users
                    .iter()
                    .filter(|u| u.user_type == "Member" && u.directory_roles.is_empty())
                    .map(|u| u.id.clone())
                    .collect(),
                group.members.iter().cloned().collect(),
            )
        })
        .expect("contoso");
    for (id, on) in &enabled {
        assert_eq!(
            *on,
            members.contains(id) && in_group.contains(id),
            "selected: {id}"
        );
    }
    assert!(enabled[ALEX_IN_GROUP]);
    assert!(
        !enabled[NESTOR_ADMIN_IN_GROUP],
        "admins ignore the portal scope"
    );

    set_scope(&emulator, 2, false);
    let enabled = flags(
        &list_all(&client, &emulator, &[], &token).await.0,
        "isSsprEnabled",
    );
    for (id, on) in &enabled {
        assert_eq!(*on, members.contains(id), "all: {id}");
    }
    assert!(!enabled[PRADEEP_GUEST], "guests reset at home");
    assert!(!enabled[MEGAN_ADMIN]);

    // Administrators follow allowedToUseSSPR, whatever the portal says.
    set_scope(&emulator, 0, true);
    let enabled = flags(
        &list_all(&client, &emulator, &[], &token).await.0,
        "isSsprEnabled",
    );
    assert!(enabled[MEGAN_ADMIN] && enabled[NESTOR_ADMIN_IN_GROUP]);
    assert!(!enabled[ALEX_IN_GROUP]);
}

#[tokio::test]
async fn policy_changes_show_only_after_the_report_delay() {
    let delay = Duration::from_millis(500);
    let (emulator, client) = start(delay).await;
    let token = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let alex = format!("v1.0/{REPORT}/{ALEX_IN_GROUP}");

    set_scope(&emulator, 0, false);
    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    let (status, row) = get(&client, &emulator, &alex, &[], &token).await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["isSsprEnabled"], false);

    set_scope(&emulator, 2, false);
    let (_, row) = get(&client, &emulator, &alex, &[], &token).await;
    assert_eq!(
        row["isSsprEnabled"], false,
        "still the old state within the delay"
    );
    let (rows, _) = list_all(&client, &emulator, &[], &token).await;
    assert!(flags(&rows, "isSsprEnabled").values().all(|e| !e));

    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    let (_, row) = get(&client, &emulator, &alex, &[], &token).await;
    assert_eq!(
        row["isSsprEnabled"], true,
        "the change shows after the delay"
    );

    // A methods-policy change lags the same way: once migration is complete and Email is disabled
    // in the methods policy, email stops counting towards registration — after the delay.
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            let u = t
                .users
                .iter_mut()
                .find(|u| u.id == ALEX_IN_GROUP)
                .expect("alex");
            u.methods_registered = vec!["email".into()];
        })
        .expect("contoso");
    let (_, row) = get(&client, &emulator, &alex, &[], &token).await;
    assert_eq!(row["isSsprRegistered"], true, "email is a legacy toggle");
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.authentication_methods_policy["policyMigrationState"] = json!("migrationComplete");
            for c in t.authentication_methods_policy["authenticationMethodConfigurations"]
                .as_array_mut()
                .expect("configs")
            {
                if c["id"] == "Email" {
                    c["state"] = json!("disabled");
                }
            }
        })
        .expect("contoso");
    let (_, row) = get(&client, &emulator, &alex, &[], &token).await;
    assert_eq!(row["isSsprRegistered"], true);
    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    let (_, row) = get(&client, &emulator, &alex, &[], &token).await;
    assert_eq!(row["isSsprRegistered"], false);
}

#[tokio::test]
async fn ten_thousand_users_page_exactly_once_in_a_stable_order() {
    let (emulator, client) = start(Duration::ZERO).await;
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| add_users(t, 10_000))
        .expect("contoso");
    let token = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let expected: BTreeSet<String> = enabled_users(&emulator).into_iter().map(|u| u.id).collect();
    assert!(expected.len() > 9_000);

    let (rows, pages) = list_all(&client, &emulator, &[("$top", "999")], &token).await;
    let first = ids(&rows);
    assert!(pages.iter().all(|&n| n <= 999), "{pages:?}");
    assert_eq!(pages.len(), expected.len().div_ceil(999), "{pages:?}");
    let unique: BTreeSet<String> = first.iter().cloned().collect();
    assert_eq!(unique.len(), first.len(), "a user was served twice");
    assert_eq!(unique, expected, "every enabled user, and only those");

    let (again, _) = list_all(&client, &emulator, &[("$top", "999")], &token).await;
    assert_eq!(
        ids(&again),
        first,
        "same order while the data does not change"
    );

    // Without $top the default page size applies and paging still covers everyone.
    let (rows, pages) = list_all(&client, &emulator, &[], &token).await;
    assert_eq!(ids(&rows), first);
    assert!(pages.len() > 10, "{pages:?}");
}

/// A filter's meaning, evaluated directly on the tenant state.
type UserPredicate = fn(&User) -> bool;

#[tokio::test]
async fn each_documented_filter_returns_what_a_brute_force_pass_finds() {
    let (emulator, client) = start(Duration::ZERO).await;
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            add_users(t, 1_200);
            t.password_reset_policies = portal(1);
        })
        .expect("contoso");
    let token = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let users = enabled_users(&emulator);
    let (all_rows, _) = list_all(&client, &emulator, &[("$top", "999")], &token).await;
    assert_eq!(all_rows.len(), users.len());

    // Filters on stored attributes: brute force over the tenant state.
    let by_state: Vec<(&str, UserPredicate)> = vec![
        ("isAdmin eq true", |u| !u.directory_roles.is_empty()),
        ("userType eq 'guest'", |u| u.user_type == "Guest"),
        (
            "userPrincipalName eq 'USER00042@Contoso.onmicrosoft.com'",
            |u| u.user_principal_name == "user00042@contoso.onmicrosoft.com",
        ),
        ("startswith(userPrincipalName,'USER001')", |u| {
            u.user_principal_name.starts_with("user001")
        }),
        ("userDisplayName eq 'shared name'", |u| {
            u.display_name == "Shared Name"
        }),
        ("startswith(userDisplayName,'test user 01')", |u| {
            u.display_name.to_lowercase().starts_with("test user 01")
        }),
        (
            "userPreferredMethodForSecondaryAuthentication eq 'push'",
            |u| u.preferred_method == "push",
        ),
        ("methodsRegistered/any(x:x eq 'email')", |u| {
            u.methods_registered.iter().any(|m| m == "email")
        }),
        (
            "methodsRegistered/any(m:m eq 'fido2SecurityKey') and userType eq 'member'",
            |u| {
                u.user_type == "Member"
                    && u.methods_registered.iter().any(|m| m == "fido2SecurityKey")
            },
        ),
    ];
    for (filter, predicate) in &by_state {
        let want: BTreeSet<String> = users
            .iter()
            .filter(|u| predicate(u))
            .map(|u| u.id.clone())
            .collect();
        assert!(!want.is_empty(), "{filter} selects nobody: a useless test");
        let (rows, _) = list_all(
            &client,
            &emulator,
            &[("$filter", filter), ("$top", "999")],
            &token,
        )
        .await;
        let got: BTreeSet<String> = ids(&rows).into_iter().collect();
        assert_eq!(got, want, "{filter}");
    }

    // Filters on derived flags: the same rows the unfiltered report shows with that value.
    for property in [
        "isSsprRegistered",
        "isSsprEnabled",
        "isSsprCapable",
        "isMfaRegistered",
        "isMfaCapable",
        "isPasswordlessCapable",
    ] {
        for value in [true, false] {
            let want: BTreeSet<String> = flags(&all_rows, property)
                .into_iter()
                .filter(|(_, v)| *v == value)
                .map(|(id, _)| id)
                .collect();
            assert!(!want.is_empty(), "{property} eq {value} selects nobody");
            let filter = format!("{property} eq {value}");
            let (rows, _) = list_all(
                &client,
                &emulator,
                &[("$filter", &filter), ("$top", "999")],
                &token,
            )
            .await;
            let got: BTreeSet<String> = ids(&rows).into_iter().collect();
            assert_eq!(got, want, "{filter}");
        }
    }

    let filter = "systemPreferredAuthenticationMethods/any(x:x eq 'push')";
    let want: BTreeSet<String> = all_rows
        .iter()
        .filter(|r| r["systemPreferredAuthenticationMethods"] == json!(["push"]))
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    assert!(!want.is_empty());
    let (rows, _) = list_all(
        &client,
        &emulator,
        &[("$filter", filter), ("$top", "999")],
        &token,
    )
    .await;
    assert_eq!(
        ids(&rows).into_iter().collect::<BTreeSet<_>>(),
        want,
        "{filter}"
    );

    // Combined with `and` (and parentheses).
    let filter = "(isSsprEnabled eq true) and methodsRegistered/any(x:x eq 'mobilePhone')";
    let want: BTreeSet<String> = all_rows
        .iter()
        .filter(|r| {
            r["isSsprEnabled"] == true
                && r["methodsRegistered"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|x| x == "mobilePhone"))
        })
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    assert!(!want.is_empty());
    let (rows, _) = list_all(
        &client,
        &emulator,
        &[("$filter", filter), ("$top", "999")],
        &token,
    )
    .await;
    assert_eq!(ids(&rows).into_iter().collect::<BTreeSet<_>>(), want);
}

#[tokio::test]
async fn unsupported_filters_and_options_get_400() {
    let (emulator, client) = start(Duration::ZERO).await;
    let token = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let path = format!("v1.0/{REPORT}");
    for (name, value) in [
        ("$filter", "isAdmin eq true or isMfaCapable eq true"),
        ("$filter", "isAdmin ne true"),
        ("$filter", "id eq '1'"),
        ("$filter", "startswith(userPrincipalName"),
        ("$orderby", "isAdmin"),
        ("$select", "id,notAProperty"),
        ("$select", "defaultMfaMethod"),
        ("$top", "0"),
        ("$top", "many"),
    ] {
        let (status, body) = get(&client, &emulator, &path, &[(name, value)], &token).await;
        assert_eq!(status, 400, "{name}={value}: {body}");
        assert_eq!(
            body["error"]["code"], "BadRequest",
            "{name}={value}: {body}"
        );
        assert!(body["error"]["innerError"]["request-id"].is_string());
    }
    // `defaultMfaMethod` is a beta property.
    let (status, body) = get(
        &client,
        &emulator,
        &format!("beta/{REPORT}"),
        &[("$select", "id,defaultMfaMethod")],
        &token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["value"][0]["defaultMfaMethod"].is_string(), "{body}");
}

#[tokio::test]
async fn orderby_sorts_case_insensitively_across_pages() {
    let (emulator, client) = start(Duration::ZERO).await;
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| add_users(t, 700))
        .expect("contoso");
    let token = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let users = enabled_users(&emulator);
    for (orderby, key, descending) in [
        ("userDisplayName desc", "name", true),
        ("userPrincipalName", "upn", false),
        ("userDisplayName asc", "name", false),
    ] {
        let mut want: Vec<(String, String)> = users
            .iter()
            .map(|u| {
                let k = if key == "name" {
                    &u.display_name
                } else {
                    &u.user_principal_name
                };
                (k.to_lowercase(), u.id.clone())
            })
            .collect();
        want.sort();
        if descending {
            want.reverse();
        }
        let (rows, pages) = list_all(
            &client,
            &emulator,
            &[("$orderby", orderby), ("$top", "97")],
            &token,
        )
        .await;
        assert!(pages.len() > 5, "{orderby}: {pages:?}");
        let want_ids: Vec<String> = want.into_iter().map(|(_, id)| id).collect();
        assert_eq!(ids(&rows), want_ids, "{orderby}");
    }

    // Sorting composes with a filter.
    let (rows, _) = list_all(
        &client,
        &emulator,
        &[
            ("$orderby", "userPrincipalName desc"),
            ("$filter", "userType eq 'guest'"),
            ("$top", "10"),
        ],
        &token,
    )
    .await;
    let upns: Vec<&str> = rows
        .iter()
        .map(|r| r["userPrincipalName"].as_str().expect("upn"))
        .collect();
    let mut sorted = upns.clone();
    sorted.sort_by_key(|u| std::cmp::Reverse(u.to_lowercase()));
    assert_eq!(upns, sorted);
    assert!(rows.iter().all(|r| r["userType"] == "guest"));
    assert!(rows.len() > 10, "spans pages");
}

#[tokio::test]
async fn select_trims_rows_and_the_context() {
    let (emulator, client) = start(Duration::ZERO).await;
    let token = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let (status, body) = get(
        &client,
        &emulator,
        &format!("v1.0/{REPORT}"),
        &[("$select", "id,isSsprEnabled,MethodsRegistered")],
        &token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails(id,isSsprEnabled,methodsRegistered)"
    );
    for row in body["value"].as_array().expect("value") {
        let keys: BTreeSet<&str> = row
            .as_object()
            .expect("row")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["id", "isSsprEnabled", "methodsRegistered"]),
            "{row}"
        );
    }
    let (status, row) = get(
        &client,
        &emulator,
        &format!("v1.0/{REPORT}/{ALEX_IN_GROUP}"),
        &[("$select", "userPrincipalName")],
        &token,
    )
    .await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["userPrincipalName"], "alexw@contoso.onmicrosoft.com");
    assert!(row.get("isAdmin").is_none(), "{row}");
}

#[tokio::test]
async fn single_rows_match_the_list_and_unknown_or_disabled_users_are_404() {
    let (emulator, client) = start(Duration::ZERO).await;
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            for u in &mut t.users {
                u.preferred_method = if u.id == ALEX_IN_GROUP { "push" } else { "" }.into();
            }
        })
        .expect("contoso");
    let token = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let (rows, _) = list_all(&client, &emulator, &[], &token).await;
    let listed = rows
        .iter()
        .find(|r| r["id"] == MEGAN_ADMIN)
        .expect("megan listed")
        .clone();
    let (status, row) = get(
        &client,
        &emulator,
        &format!("v1.0/{REPORT}/{MEGAN_ADMIN}"),
        &[],
        &token,
    )
    .await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(
        row["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails/$entity"
    );
    for (key, value) in listed.as_object().expect("row") {
        if key != "lastUpdatedDateTime" {
            assert_eq!(&row[key], value, "{key}");
        }
    }
    assert_eq!(row["isAdmin"], true);
    assert_eq!(row["userType"], "member");
    assert_eq!(row["userPreferredMethodForSecondaryAuthentication"], "");
    assert!(
        row.get("defaultMfaMethod").is_none(),
        "beta-only property in v1.0"
    );
    let (_, beta) = get(
        &client,
        &emulator,
        &format!("beta/{REPORT}/{MEGAN_ADMIN}"),
        &[],
        &token,
    )
    .await;
    assert_eq!(beta["defaultMfaMethod"], "none", "{beta}");
    let (_, alex) = get(
        &client,
        &emulator,
        &format!("beta/{REPORT}/{ALEX_IN_GROUP}"),
        &[],
        &token,
    )
    .await;
    assert_eq!(
        alex["userPreferredMethodForSecondaryAuthentication"],
        "push"
    );
    assert_eq!(
        alex["defaultMfaMethod"], "microsoftAuthenticatorPush",
        "{alex}"
    );

    let (status, body) = get(
        &client,
        &emulator,
        &format!("v1.0/{REPORT}/00000000-0000-0000-0000-000000000001"),
        &[],
        &token,
    )
    .await;
    assert_eq!(status, 404, "{body}");

    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.users
                .iter_mut()
                .find(|u| u.id == ALEX_IN_GROUP)
                .expect("alex")
                .account_enabled = false;
        })
        .expect("contoso");
    let (status, _) = get(
        &client,
        &emulator,
        &format!("v1.0/{REPORT}/{ALEX_IN_GROUP}"),
        &[],
        &token,
    )
    .await;
    assert_eq!(status, 404, "disabled users are not in the report");
    let (rows, _) = list_all(&client, &emulator, &[], &token).await;
    assert!(!ids(&rows).contains(&ALEX_IN_GROUP.to_string()));
}

#[tokio::test]
async fn tampered_or_mismatched_skiptokens_are_refused() {
    let (emulator, client) = start(Duration::ZERO).await;
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| add_users(t, 50))
        .expect("contoso");
    let token = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let (status, body) = get(
        &client,
        &emulator,
        &format!("v1.0/{REPORT}"),
        &[("$top", "10"), ("$filter", "userType eq 'member'")],
        &token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let next = body["@odata.nextLink"]
        .as_str()
        .expect("nextLink")
        .to_string();
    assert!(
        next.starts_with(&format!("{}v1.0/{REPORT}?$skiptoken=", emulator.base_url())),
        "{next}"
    );
    let (status, page) = get(&client, &emulator, &next, &[], &token).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page["value"]
            .as_array()
            .expect("value")
            .iter()
            .all(|r| r["userType"] == "member")
    );

    let (prefix, skiptoken) = next.split_once("$skiptoken=").expect("token");
    let mut chars: Vec<char> = skiptoken.chars().collect();
    chars[5] = if chars[5] == 'A' { 'B' } else { 'A' };
    let tampered = format!(
        "{prefix}$skiptoken={}",
        chars.into_iter().collect::<String>()
    );
    let (status, body) = get(&client, &emulator, &tampered, &[], &token).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "BadRequest");

    let (status, body) = get(
        &client,
        &emulator,
        &next,
        &[("$filter", "isAdmin eq true")],
        &token,
    )
    .await;
    assert_eq!(
        status, 400,
        "a token only fits the query it was issued for: {body}"
    );
    let (status, _) = get(
        &client,
        &emulator,
        &format!("v1.0/{REPORT}"),
        &[("$skiptoken", "abc")],
        &token,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn tenants_without_premium_get_graphs_licence_error() {
    let (emulator, client) = start(Duration::ZERO).await;
    let fabrikam = app_token(&client, &emulator, seed::FABRIKAM_ID).await;
    let (status, body) = get(
        &client,
        &emulator,
        &format!("v1.0/{REPORT}"),
        &[],
        &fabrikam,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error"]["code"],
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    );
    assert!(body["error"]["innerError"]["client-request-id"].is_string());

    let contoso = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let megan = format!("v1.0/{REPORT}/{MEGAN_ADMIN}");
    assert_eq!(get(&client, &emulator, &megan, &[], &contoso).await.0, 200);
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| t.set_premium(false))
        .expect("contoso");
    let (status, body) = get(&client, &emulator, &megan, &[], &contoso).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error"]["code"],
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    );
}

#[tokio::test]
async fn summary_functions_are_delegated_only_and_agree_with_the_list() {
    let (emulator, client) = start(Duration::ZERO).await;
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            add_users(t, 300);
            t.password_reset_policies = portal(2);
        })
        .expect("contoso");
    let app = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let user = delegated_token(&emulator);
    let feature = "v1.0/reports/authenticationMethods/usersRegisteredByFeature(includedUserTypes='all',includedUserRoles='all')";
    let method = "v1.0/reports/authenticationMethods/usersRegisteredByMethod(includedUserTypes='member',includedUserRoles='user')";

    for path in [feature, method] {
        let (status, body) = get(&client, &emulator, path, &[], &app).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
    }

    let (rows, _) = list_all(&client, &emulator, &[("$top", "999")], &app).await;
    let (status, body) = get(&client, &emulator, feature, &[], &user).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.type"],
        "#microsoft.graph.userRegistrationFeatureSummary"
    );
    assert_eq!(body["totalUserCount"], rows.len());
    assert_eq!(
        (&body["userTypes"], &body["userRoles"]),
        (&json!("all"), &json!("all"))
    );
    let counts: BTreeMap<String, u64> = body["userRegistrationFeatureCounts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| {
            (
                c["feature"].as_str().expect("feature").to_string(),
                c["userCount"].as_u64().expect("count"),
            )
        })
        .collect();
    for (feature, property) in [
        ("ssprRegistered", "isSsprRegistered"),
        ("ssprEnabled", "isSsprEnabled"),
        ("ssprCapable", "isSsprCapable"),
        ("passwordlessCapable", "isPasswordlessCapable"),
        ("mfaCapable", "isMfaCapable"),
    ] {
        let want = rows.iter().filter(|r| r[property] == true).count() as u64;
        assert_eq!(counts[feature], want, "{feature}");
    }

    let (status, body) = get(&client, &emulator, method, &[], &user).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["@odata.type"],
        "#microsoft.graph.userRegistrationMethodSummary"
    );
    let in_scope: Vec<User> = enabled_users(&emulator)
        .into_iter()
        .filter(|u| u.user_type == "Member" && u.directory_roles.is_empty())
        .collect();
    assert_eq!(body["totalUserCount"], in_scope.len());
    let counts: BTreeMap<String, u64> = body["userRegistrationMethodCounts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| {
            (
                c["authenticationMethod"]
                    .as_str()
                    .expect("method")
                    .to_string(),
                c["userCount"].as_u64().expect("count"),
            )
        })
        .collect();
    for m in ["email", "mobilePhone", "fido2SecurityKey", "officePhone"] {
        let want = in_scope
            .iter()
            .filter(|u| u.methods_registered.iter().any(|x| x == m))
            .count() as u64;
        assert_eq!(counts[m], want, "{m}");
    }

    let (status, body) = get(
        &client,
        &emulator,
        "v1.0/reports/authenticationMethods/usersRegisteredByFeature(includedUserTypes='robots')",
        &[],
        &user,
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

/// `""` for "no preference" is what Graph sends although the enum has no such member
/// (graph-api.md §4.2, §10).
const EMPTY_PREFERENCE: graph_schema::Allow<'static> = graph_schema::Allow {
    pointer_suffix: "/userPreferredMethodForSecondaryAuthentication",
    reason: "Graph emits \"\" for users without a preferred method (graph-api.md §4.2)",
};

#[tokio::test]
async fn every_body_validates_against_the_schema() {
    use graph_schema::{Schema, assert_valid, validate_with_allowlist};
    let (emulator, client) = start(Duration::ZERO).await;
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| add_users(t, 120))
        .expect("contoso");
    let app = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let user = delegated_token(&emulator);

    let (status, page) = get(
        &client,
        &emulator,
        &format!("v1.0/{REPORT}"),
        &[("$top", "60")],
        &app,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page["value"].as_array().is_some_and(|v| {
        v.iter()
            .any(|r| r["userPreferredMethodForSecondaryAuthentication"] == "push")
    }));
    assert_valid(validate_with_allowlist(
        Schema::v1().validate_collection("userRegistrationDetails", &page),
        &[EMPTY_PREFERENCE],
    ));
    let (_, row) = get(
        &client,
        &emulator,
        &format!("v1.0/{REPORT}/{MEGAN_ADMIN}"),
        &[],
        &app,
    )
    .await;
    assert_valid(validate_with_allowlist(
        Schema::v1().validate("userRegistrationDetails", &row),
        &[EMPTY_PREFERENCE],
    ));
    let (_, beta) = get(
        &client,
        &emulator,
        &format!("beta/{REPORT}"),
        &[("$top", "60")],
        &app,
    )
    .await;
    assert_valid(Schema::beta().validate_collection("userRegistrationDetails", &beta));

    for (path, type_name) in [
        (
            "v1.0/reports/authenticationMethods/usersRegisteredByFeature(includedUserTypes='all',includedUserRoles='all')",
            "userRegistrationFeatureSummary",
        ),
        (
            "v1.0/reports/authenticationMethods/usersRegisteredByMethod()",
            "userRegistrationMethodSummary",
        ),
    ] {
        let (status, body) = get(&client, &emulator, path, &[], &user).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_valid(Schema::v1().validate(type_name, &body));
    }
}

#[tokio::test]
async fn a_policy_write_over_http_lags_by_the_report_delay_too() {
    let delay = Duration::from_millis(500);
    let (emulator, client) = start(delay).await;
    let token = app_token(&client, &emulator, seed::CONTOSO_ID).await;
    let megan = format!("v1.0/{REPORT}/{MEGAN_ADMIN}");
    let (_, row) = get(&client, &emulator, &megan, &[], &token).await;
    assert_eq!(
        row["isSsprEnabled"], false,
        "contoso starts with admin SSPR off"
    );

    // Administrators follow authorizationPolicy.allowedToUseSSPR, changed here through Graph.
    let patch = |allowed: bool| {
        client
            .patch(format!(
                "{}v1.0/policies/authorizationPolicy",
                emulator.base_url()
            ))
            .bearer_auth(&token)
            .json(&json!({"allowedToUseSSPR": allowed}))
            .send()
    };
    assert_eq!(patch(true).await.expect("patch").status(), 204);
    // No report request in between: the write itself must have been timestamped.
    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    let (_, row) = get(&client, &emulator, &megan, &[], &token).await;
    assert_eq!(
        row["isSsprEnabled"], true,
        "the change shows once the delay has passed"
    );

    assert_eq!(patch(false).await.expect("patch").status(), 204);
    let (_, row) = get(&client, &emulator, &megan, &[], &token).await;
    assert_eq!(
        row["isSsprEnabled"], true,
        "still the old state within the delay"
    );
    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    let (_, row) = get(&client, &emulator, &megan, &[], &token).await;
    assert_eq!(
        row["isSsprEnabled"], false,
        "and the second change after it"
    );
}
