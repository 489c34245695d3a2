//! Readiness end to end: the real service reading the emulator's tenants (Graph, the portal back
//! end, Secure Score, Intune), built to pass and to fail each check.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};
use sspr_api::readiness::{CheckId, CheckStatus, FleetReadiness, TenantReadiness};
use sspr_e2e::World;
use sspr_e2e::entra_emulator::seed;

fn check(readiness: &TenantReadiness, id: CheckId) -> &sspr_api::readiness::Check {
    readiness
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id:?} answered"))
}

fn evidence(check: &sspr_api::readiness::Check, name: &str) -> String {
    check
        .evidence
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.value.clone())
        .unwrap_or_else(|| panic!("{name} in {:?}", check.evidence))
}

async fn readiness(world: &World, tenant: &str, token: &str) -> TenantReadiness {
    let (status, body) = world
        .call(
            Method::GET,
            &format!("v1/tenants/{tenant}/readiness"),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).expect("a readiness document")
}

async fn page(world: &World, path: &str, accept: &str, token: &str) -> (String, String) {
    let response = world
        .http
        .get(world.service.url.join(path).unwrap())
        .bearer_auth(token)
        .header("accept", accept)
        .send()
        .await
        .expect("service answers");
    assert_eq!(response.status(), 200, "{path} as {accept}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn contoso_is_checked_item_by_item_with_its_sources_evidence_and_remedies() {
    let world = World::start().await;
    let token = world.token(&["SSPR.Read"]);
    let contoso = readiness(&world, seed::CONTOSO_DOMAIN, &token).await;
    let ids: Vec<CheckId> = contoso.checks.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        CheckId::ALL,
        "one check per item, in the guide's order"
    );
    assert_eq!(contoso.tenant.id, seed::CONTOSO_ID);

    // Licensed (P1) and hybrid with writeback and unlock: the portal's values, marked so.
    assert_eq!(
        check(&contoso, CheckId::CloudLicence).status,
        CheckStatus::Pass
    );
    let on_premises = check(&contoso, CheckId::OnPremisesIntegration);
    assert_eq!(on_premises.status, CheckStatus::Pass, "{on_premises:?}");
    assert!(
        on_premises
            .evidence
            .iter()
            .any(|e| e.name == "onPremises.passwordWriteback"
                && e.source == sspr_api::policy::Source::Portal)
    );
    // SSPR for one group: a warning naming it, with the command that widens it.
    let scope = check(&contoso, CheckId::EnablementScope);
    assert_eq!(scope.status, CheckStatus::Warn);
    assert!(scope.summary.contains("SSPR Users"), "{}", scope.summary);
    assert_eq!(
        scope.remedy.as_ref().unwrap().command.as_deref(),
        Some("sspr policy set --tenant contoso.onmicrosoft.com --enablement all")
    );
    let helpdesk = check(&contoso, CheckId::HelpdeskLink);
    assert_eq!(helpdesk.status, CheckStatus::Pass);
    assert_eq!(
        evidence(helpdesk, "customization.helpdeskLink"),
        "https://help.contoso.com/password"
    );
    // Contoso has no Intune licence: unknown, with the registry alternative.
    let windows = check(&contoso, CheckId::WindowsResetLink);
    assert_eq!(windows.status, CheckStatus::Unknown, "{windows:?}");
    assert!(
        windows
            .remedy
            .as_ref()
            .unwrap()
            .text
            .contains("AllowPasswordReset = 1")
    );
    // The Identity Protection policy has no API: never pretended.
    let mfa = check(&contoso, CheckId::MfaRegistrationEnforced);
    assert_ne!(mfa.status, CheckStatus::Fail);
    // Secure Score's points, maxScore read from the control profiles.
    let sspr_points = check(&contoso, CheckId::SecureScoreSspr)
        .points
        .clone()
        .expect("points");
    assert_eq!(sspr_points.control, "SelfServicePasswordReset");
    assert!(sspr_points.max_score.is_some_and(|m| m > 0.0));
    let points = contoso.points.clone().expect("Secure Score was read");
    assert!(points.max >= points.achieved && points.available == points.max - points.achieved);
    // Coverage counts members; the guest is counted apart.
    let coverage = check(&contoso, CheckId::RegistrationCoverage);
    assert!(
        coverage.summary.contains("1 guest counted apart"),
        "{}",
        coverage.summary
    );
    assert_eq!(
        contoso.portals.registration,
        "https://aka.ms/setupsecurityinfo"
    );
}

#[tokio::test]
async fn a_tenant_without_the_portal_connector_or_p1_gets_unknowns_with_reasons_not_an_error() {
    let world = World::start().await;
    let token = world.token(&["SSPR.Read"]);
    let fabrikam = readiness(&world, seed::FABRIKAM_DOMAIN, &token).await;
    let protection = check(&fabrikam, CheckId::RegistrationProtection);
    assert_eq!(protection.status, CheckStatus::Unknown, "{protection:?}");
    assert!(
        protection.summary.contains("P1"),
        "names the missing licence: {}",
        protection.summary
    );
    let coverage = check(&fabrikam, CheckId::RegistrationCoverage);
    assert_eq!(coverage.status, CheckStatus::Unknown);
    for id in [CheckId::Notifications, CheckId::Registration] {
        let found = check(&fabrikam, id);
        assert_eq!(found.status, CheckStatus::Unknown, "{id:?}: {found:?}");
        assert!(
            found
                .remedy
                .as_ref()
                .and_then(|r| r.portal.as_deref())
                .is_some(),
            "{id:?} says where to look"
        );
    }
    // Intune is licensed and nothing is set: the link fails, with the deploy to run.
    let windows = check(&fabrikam, CheckId::WindowsResetLink);
    assert_eq!(windows.status, CheckStatus::Fail, "{windows:?}");
}

#[tokio::test]
async fn an_unknown_or_inaccessible_tenant_is_404_before_any_graph_call() {
    let world = World::start().await;
    let token = world.token(&["SSPR.Read"]);
    let before = world.customer_graph_calls();
    let (status, body) = world
        .call(
            Method::GET,
            "v1/tenants/nowhere.example/readiness",
            &token,
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = world
        .call(
            Method::GET,
            "v1/readiness?tenants=contoso.onmicrosoft.com,nowhere.example",
            &token,
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        world.customer_graph_calls(),
        before,
        "no Graph call was made"
    );
    let (status, _) = world.call(Method::GET, "v1/readiness", &token, None).await;
    assert_eq!(status, 400, "tenants= is required");
}

#[tokio::test]
async fn a_remedy_run_through_sspr_flips_its_check_to_pass() {
    let world = World::start().await;
    let token = world.token(&["SSPR.ReadWrite"]);
    let before = readiness(&world, seed::CONTOSO_DOMAIN, &token).await;
    assert_eq!(
        check(&before, CheckId::EnablementScope).status,
        CheckStatus::Warn
    );
    // The policy change the remedy names (`--enablement all`), through the API.
    let response = world
        .http
        .get(
            world
                .service
                .url
                .join("v1/tenants/contoso.onmicrosoft.com/sspr/policy")
                .unwrap(),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let patched = world
        .http
        .patch(
            world
                .service
                .url
                .join("v1/tenants/contoso.onmicrosoft.com/sspr/policy")
                .unwrap(),
        )
        .bearer_auth(&token)
        .header("if-match", etag)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"enablement": {"scope": "all"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200, "{}", patched.text().await.unwrap());
    let after = readiness(&world, seed::CONTOSO_DOMAIN, &token).await;
    assert_eq!(
        check(&after, CheckId::EnablementScope).status,
        CheckStatus::Pass
    );
}

#[tokio::test]
async fn deploying_the_windows_link_flips_its_check_from_fail_to_pass() {
    let world = World::start().await;
    let token = world.token(&["SSPR.ReadWrite"]);
    let before = readiness(&world, seed::FABRIKAM_DOMAIN, &token).await;
    assert_eq!(
        check(&before, CheckId::WindowsResetLink).status,
        CheckStatus::Fail
    );
    let (status, plan) = world
        .call(
            Method::POST,
            "v1/tenants/fabrikam.onmicrosoft.com/windows-reset-link/plan",
            &token,
            Some(json!({"target": "allDevices"})),
        )
        .await;
    assert_eq!(status, 200, "{plan}");
    let response = world
        .http
        .put(
            world
                .service
                .url
                .join("v1/tenants/fabrikam.onmicrosoft.com/windows-reset-link")
                .unwrap(),
        )
        .bearer_auth(&token)
        .header("if-match", plan["etag"].as_str().unwrap_or("*"))
        .json(&json!({"target": "allDevices"}))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    let after = readiness(&world, seed::FABRIKAM_DOMAIN, &token).await;
    let windows = check(&after, CheckId::WindowsResetLink);
    assert_eq!(windows.status, CheckStatus::Pass, "{windows:?}");
    assert!(windows.remedy.is_none());
}

/// The fleet of generated tenants, connected to the portal like Contoso: every check comes out
/// `pass` in some tenants and short of it (`warn` or `fail`) in others, so each verdict is
/// exercised against a real read; MFA registration is `pass` or `unknown` (the Identity
/// Protection policy has no API, so it never fails).
#[tokio::test]
async fn generated_tenants_spread_every_check_across_pass_and_short_of_it() {
    let (world, generated) = World::start_generated_with_portal(36, 20, |_| {}).await;
    let token = world.token(&["SSPR.Read"]);
    let names: Vec<&str> = generated.iter().map(|t| t.domain.as_str()).collect();
    let (status, body) = world
        .call(
            Method::GET,
            &format!("v1/readiness?tenants={}", names.join(",")),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let fleet: FleetReadiness = serde_json::from_value(body).expect("the fleet's readiness");
    assert_eq!(fleet.failed, 0, "every tenant answered");
    assert_eq!(fleet.tenants.len(), generated.len());
    assert_eq!(fleet.matrix.rows.len(), generated.len());
    let mut seen: BTreeMap<CheckId, BTreeSet<CheckStatus>> = BTreeMap::new();
    for entry in &fleet.tenants {
        for check in &entry.readiness.as_ref().expect("a readiness").checks {
            seen.entry(check.id).or_default().insert(check.status);
        }
    }
    let mut missing = Vec::new();
    for id in CheckId::ALL {
        let statuses = &seen[&id];
        let spread = if id == CheckId::MfaRegistrationEnforced {
            statuses.contains(&CheckStatus::Pass)
                && statuses.contains(&CheckStatus::Unknown)
                && !statuses.contains(&CheckStatus::Fail)
        } else {
            statuses.contains(&CheckStatus::Pass)
                && (statuses.contains(&CheckStatus::Warn) || statuses.contains(&CheckStatus::Fail))
        };
        if !spread {
            missing.push(format!("{id:?}: {statuses:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "checks without the spread: {missing:#?}"
    );

    // What each tenant was built with (the portal back end's policy), against what its checks
    // say they read; and every check short of passing says what to do.
    let portal: BTreeMap<String, Value> = world.emulator.with_directory(|d| {
        d.tenants
            .iter()
            .map(|t| (t.id.clone(), t.password_reset_policies.clone()))
            .collect()
    });
    for entry in &fleet.tenants {
        let readiness = entry.readiness.as_ref().unwrap();
        let built = &portal[&entry.tenant];
        let scope = match built["enablementType"].as_u64() {
            Some(0) => "none",
            Some(1) => "selected",
            _ => "all",
        };
        assert_eq!(
            evidence(
                check(readiness, CheckId::EnablementScope),
                "enablement.scope"
            ),
            scope,
            "{}",
            entry.domain
        );
        let registration = check(readiness, CheckId::Registration);
        assert_eq!(
            evidence(registration, "registration.reconfirmDays"),
            built["registrationReconfirmIntevalInDays"].to_string(),
            "{}",
            entry.domain
        );
        assert_eq!(
            evidence(registration, "registration.requireRegistrationOnSignIn"),
            built["registrationRequiredOnSignIn"].to_string(),
            "{}",
            entry.domain
        );
        let on_off = |flag: &Value| {
            if flag == &Value::Bool(true) {
                "on"
            } else {
                "off"
            }
        };
        let notifications = check(readiness, CheckId::Notifications);
        assert_eq!(
            evidence(notifications, "notifications.notifyAdminsOnAdminReset"),
            on_off(&built["notifyOnAdminPasswordReset"])
        );
        assert_eq!(
            evidence(notifications, "notifications.notifyUsersOnReset"),
            on_off(&built["notifyUsersOnPasswordReset"])
        );
        let helpdesk = evidence(
            check(readiness, CheckId::HelpdeskLink),
            "customization.helpdeskLink",
        );
        if built["customizeHelpdeskLink"] == Value::Bool(true) {
            assert_eq!(
                Some(helpdesk.as_str()),
                built["customHelpdeskEmailOrUrl"].as_str()
            );
        } else {
            assert_eq!(helpdesk, "none");
        }
        for found in &readiness.checks {
            if matches!(found.status, CheckStatus::Warn | CheckStatus::Fail) {
                let remedy = found
                    .remedy
                    .as_ref()
                    .unwrap_or_else(|| panic!("{} {:?} has no remedy", entry.domain, found.id));
                assert!(
                    remedy.command.is_some() || remedy.portal.is_some(),
                    "{} {:?}: a command or a portal path",
                    entry.domain,
                    found.id
                );
                assert!(
                    !found.evidence.is_empty(),
                    "{} {:?}",
                    entry.domain,
                    found.id
                );
            }
            if found.status == CheckStatus::Pass {
                assert!(found.remedy.is_none(), "{} {:?}", entry.domain, found.id);
            }
        }
    }
    // The matrix is the tenants' statuses, per check, sorted by domain.
    let first = &fleet.matrix.rows[0];
    let tenant = fleet
        .tenants
        .iter()
        .find(|t| t.tenant == first.tenant)
        .and_then(|t| t.readiness.as_ref())
        .unwrap();
    let statuses: Vec<CheckStatus> = tenant.checks.iter().map(|c| c.status).collect();
    assert_eq!(first.statuses.as_deref(), Some(statuses.as_slice()));
}

#[tokio::test]
async fn the_fleet_streams_one_line_per_tenant_and_names_a_tenant_that_failed() {
    let world = World::start().await;
    let token = world.token(&["SSPR.Read"]);
    let response = world
        .http
        .get(world.service.url.join("v1/readiness?tenants=all").unwrap())
        .bearer_auth(&token)
        .header("accept", "application/x-ndjson")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let domains: BTreeSet<&str> = lines.iter().filter_map(|l| l["domain"].as_str()).collect();
    assert!(
        domains.contains(seed::CONTOSO_DOMAIN) && domains.contains(seed::FABRIKAM_DOMAIN),
        "{domains:?}"
    );
    for line in &lines {
        assert!(
            line["readiness"].is_object() != line["problem"].is_object(),
            "a readiness or a problem: {line}"
        );
    }
}

/// The pages people read: HTML (self-contained) and Markdown, for a tenant, the fleet and the
/// users' guide. With `SSPR_REPORT_DIR` set, the pages are written there for `.ci/report`'s
/// browser check.
#[tokio::test]
async fn report_pages() {
    let (world, generated) = World::start_generated_with_portal(12, 10, |_| {}).await;
    let token = world.token(&["SSPR.Read"]);
    let (content_type, tenant_html) = page(
        &world,
        "v1/tenants/contoso.onmicrosoft.com/readiness",
        "text/html",
        &token,
    )
    .await;
    assert!(content_type.starts_with("text/html"), "{content_type}");
    for id in CheckId::ALL {
        assert!(
            tenant_html.contains(&format!("data-check=\"{}\"", id.as_str())),
            "{id:?} on the page"
        );
    }
    assert!(tenant_html.contains("Content-Security-Policy"));
    let (content_type, markdown) = page(
        &world,
        "v1/tenants/contoso.onmicrosoft.com/readiness",
        "text/markdown",
        &token,
    )
    .await;
    assert!(content_type.starts_with("text/markdown"), "{content_type}");
    for id in CheckId::ALL {
        assert!(markdown.contains(id.title()), "{id:?} in the Markdown");
    }
    let names: Vec<&str> = generated.iter().map(|t| t.domain.as_str()).collect();
    let (_, fleet_html) = page(
        &world,
        &format!(
            "v1/readiness?tenants=contoso.onmicrosoft.com,fabrikam.onmicrosoft.com,{}",
            names.join(",")
        ),
        "text/html",
        &token,
    )
    .await;
    for tenant in &generated {
        assert!(
            fleet_html.contains(&tenant.domain),
            "{} in the heat map",
            tenant.domain
        );
    }
    let (content_type, guide_md) = page(
        &world,
        "v1/tenants/contoso.onmicrosoft.com/readiness/user-guide",
        "*/*",
        &token,
    )
    .await;
    assert!(
        content_type.starts_with("text/markdown"),
        "Markdown by default: {content_type}"
    );
    assert!(
        guide_md.contains("https://help.contoso.com/password"),
        "{guide_md}"
    );
    assert!(guide_md.contains("aka.ms/setupsecurityinfo"), "{guide_md}");
    let (_, guide_html) = page(
        &world,
        "v1/tenants/contoso.onmicrosoft.com/readiness/user-guide",
        "text/html",
        &token,
    )
    .await;
    if let Some(dir) = std::env::var_os("SSPR_REPORT_DIR") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("the report directory");
        for (name, body) in [
            ("tenant.html", &tenant_html),
            ("fleet.html", &fleet_html),
            ("user-guide.html", &guide_html),
        ] {
            std::fs::write(dir.join(name), body).expect("a page written");
        }
    }
}
