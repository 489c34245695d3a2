//! The seeded tenants' realistic objects and the tenant generator: determinism, the
//! distribution properties benchmarks rely on, schema validity of everything seeded, and the
//! start-up cost of a large directory (printed, not asserted).

mod common;

use std::{
    collections::{BTreeSet, HashSet},
    time::Instant,
};

use entra_emulator::{
    Emulator, EmulatorConfig, GeneratorSpec, Tenant,
    generator::{self, BREAK_GLASS_ACCOUNTS},
    seed,
};
use graph_schema::{Schema, assert_valid};
use serde_json::Value;

const AAD_PREMIUM_PLAN: &str = "41781fb2-bc02-4b7c-bd55-b576c07bb09d";

fn seeded() -> Vec<Tenant> {
    seed::directory("secret-a".into(), "secret-b".into()).tenants
}

fn spec(tenants: usize, users: usize, seed: u64) -> GeneratorSpec {
    GeneratorSpec {
        tenants,
        users_per_tenant: users,
        seed,
    }
}

/// Has an enabled SKU carrying Entra ID P1.
fn sku_premium(t: &Tenant) -> bool {
    t.subscribed_skus.iter().any(|s| {
        s["capabilityStatus"] == "Enabled"
            && s["servicePlans"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["servicePlanId"] == AAD_PREMIUM_PLAN))
    })
}

fn org_premium(t: &Tenant) -> bool {
    t.organization["assignedPlans"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p["servicePlanId"] == AAD_PREMIUM_PLAN))
}

fn trusted_locations(t: &Tenant) -> usize {
    t.named_locations
        .iter()
        .filter(|l| l["isTrusted"] == true)
        .count()
}

fn is_break_glass(t: &Tenant, u: &entra_emulator::User) -> bool {
    t.group_by_name("Break Glass")
        .is_some_and(|g| g.members.contains(&u.id))
}

fn group_members<'a>(t: &'a Tenant, name: &str) -> HashSet<&'a str> {
    t.group_by_name(name)
        .map(|g| g.members.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Every break-glass account is excluded from every CA policy, by user id or through a group.
fn assert_break_glass_excluded(t: &Tenant) {
    let bg_group = t.group_by_name("Break Glass").expect("break-glass group");
    assert!(!bg_group.members.is_empty(), "{}", t.domain);
    for policy in &t.conditional_access_policies {
        let users = &policy["conditions"]["users"];
        let excluded_users = strings(&users["excludeUsers"]);
        let excluded_groups = strings(&users["excludeGroups"]);
        for member in &bg_group.members {
            let by_group = t
                .groups
                .iter()
                .filter(|g| excluded_groups.contains(&g.id.as_str()))
                .any(|g| g.members.contains(member));
            assert!(
                excluded_users.contains(&member.as_str()) || by_group,
                "{}: break-glass {member} not excluded from {}",
                t.domain,
                policy["displayName"]
            );
        }
    }
}

/// Validate every Graph object of a tenant against the v1.0 CSDL (beta names for
/// recommendations). The portal objects are not Graph and have no schema.
fn assert_tenant_matches_schema(t: &Tenant) {
    // Closed: an invented property fails even on open types (organization, Secure Score).
    let v1 = Schema::v1_closed();
    assert_valid(v1.validate("organization", &t.organization));
    for (type_name, items) in [
        ("subscribedSku", &t.subscribed_skus),
        ("namedLocation", &t.named_locations),
        ("conditionalAccessPolicy", &t.conditional_access_policies),
        (
            "secureScoreControlProfile",
            &t.secure_score_control_profiles,
        ),
    ] {
        assert!(
            type_name == "namedLocation"
                || type_name == "conditionalAccessPolicy"
                || !items.is_empty(),
            "{}: no {type_name}",
            t.domain
        );
        for item in items {
            assert_valid(v1.validate(type_name, item));
        }
    }
    // Secure Score's control scores are open-typed in the CSDL and live Graph fills them with
    // extras (graph-api.md §7.2): the open check passes, the closed one flags those and nothing else.
    assert!(!t.secure_scores.is_empty());
    for score in &t.secure_scores {
        assert_valid(Schema::v1().validate("secureScore", score));
        let extras: BTreeSet<String> = Schema::v1_closed()
            .validate("secureScore", score)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.pointer.rsplit('/').next().unwrap_or_default().to_string())
            .collect();
        let allowed: BTreeSet<String> = [
            "count",
            "total",
            "implementationStatus",
            "lastSynced",
            "scoreInPercentage",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert!(extras.is_subset(&allowed), "{extras:?}");
    }
    // `recommendation` adds nothing to the beta-only `recommendationBase`, whose inherited names
    // the names-only beta lists cannot resolve; validate against the base, enums explicitly.
    let beta = Schema::beta();
    for rec in &t.directory_recommendations {
        assert_valid(beta.validate("recommendationBase", rec));
        for (property, enum_type) in [
            ("status", "recommendationStatus"),
            ("priority", "recommendationPriority"),
            ("recommendationType", "recommendationType"),
            ("category", "recommendationCategory"),
            ("releaseType", "releaseType"),
            ("requiredLicenses", "requiredLicenses"),
        ] {
            let members = beta.enum_members(enum_type).expect(enum_type);
            let value = rec[property].as_str().unwrap_or_default();
            assert!(members.iter().any(|m| m == value), "{property}: {value}");
        }
        let areas = beta.enum_members("recommendationFeatureAreas").unwrap();
        assert!(
            strings(&rec["featureAreas"])
                .iter()
                .all(|a| areas.iter().any(|m| m == a))
        );
    }
}

/// Share of ordinary enabled members (not break-glass) who registered at least the portal's
/// required number of methods the portal accepts.
fn registration_rate(t: &Tenant) -> f64 {
    let policy = &t.password_reset_policies;
    let required = policy["numberOfAuthenticationMethodsRequired"]
        .as_u64()
        .unwrap_or(1) as usize;
    let accepted: Vec<&str> = [
        ("emailOptionEnabled", "email"),
        ("mobilePhoneOptionEnabled", "mobilePhone"),
        ("officePhoneOptionEnabled", "officePhone"),
        ("securityQuestionsOptionEnabled", "securityQuestion"),
        ("mobileAppNotificationEnabled", "microsoftAuthenticatorPush"),
        ("mobileAppCodeEnabled", "softwareOneTimePasscode"),
    ]
    .iter()
    .filter(|(flag, _)| policy[*flag] == true)
    .map(|(_, method)| *method)
    .collect();
    let members: Vec<_> = t
        .users
        .iter()
        .filter(|u| u.user_type == "Member" && u.account_enabled && !is_break_glass(t, u))
        .collect();
    let registered = members
        .iter()
        .filter(|u| {
            u.methods_registered
                .iter()
                .filter(|m| accepted.contains(&m.as_str()))
                .count()
                >= required
        })
        .count();
    registered as f64 / members.len() as f64
}

// ---------------------------------------------------------------------------------------------
// Seeded tenants
// ---------------------------------------------------------------------------------------------

#[test]
fn contoso_is_premium_synced_with_trusted_hq_and_a_selected_group_portal_policy() {
    let tenants = seeded();
    let contoso = tenants.iter().find(|t| t.id == seed::CONTOSO_ID).unwrap();
    assert!(sku_premium(contoso) && org_premium(contoso));
    let parts: Vec<&str> = contoso
        .subscribed_skus
        .iter()
        .filter_map(|s| s["skuPartNumber"].as_str())
        .collect();
    assert_eq!(parts, ["ENTERPRISEPACK", "AAD_PREMIUM"]);
    let hq = contoso
        .named_locations
        .iter()
        .find(|l| l["id"] == seed::CONTOSO_LOCATION_HQ)
        .unwrap();
    assert_eq!(hq["isTrusted"], true);
    assert_eq!(
        hq["ipRanges"][0]["@odata.type"],
        "#microsoft.graph.iPv4CidrRange"
    );
    assert!(
        contoso
            .named_locations
            .iter()
            .any(|l| l["isTrusted"] == false)
    );
    assert!(
        contoso
            .named_locations
            .iter()
            .any(|l| l["@odata.type"] == "#microsoft.graph.countryNamedLocation")
    );
    // Registration protection is left for the service to create.
    assert!(!contoso.conditional_access_policies.is_empty());
    for policy in &contoso.conditional_access_policies {
        assert!(
            strings(&policy["conditions"]["applications"]["includeUserActions"]).is_empty(),
            "{policy}"
        );
    }
    assert_break_glass_excluded(contoso);

    let portal = &contoso.password_reset_policies;
    assert_eq!(portal["objectId"], "default");
    assert_eq!(portal["enablementType"], 1);
    assert_eq!(
        strings(&portal["passwordResetEnabledGroupIds"]),
        [seed::CONTOSO_GROUP_SSPR_USERS]
    );
    assert_eq!(portal["passwordResetEnabledGroupName"], "SSPR Users");
    assert_eq!(portal["numberOfAuthenticationMethodsRequired"], 2);
    assert_eq!(portal["registrationReconfirmIntevalInDays"], 180);
    let on_prem = &contoso.on_premises_password_reset_policies;
    assert!(on_prem["objectId"].is_string());
    assert_eq!(on_prem["passwordWritebackSupported"], true);

    let megan = &contoso.users[0];
    assert_eq!(megan.preferred_method, "push");
    assert!(
        megan
            .methods_registered
            .contains(&"microsoftAuthenticatorPush".to_string())
    );
    let isaiah = contoso
        .users
        .iter()
        .find(|u| u.display_name == "Isaiah Langer")
        .unwrap();
    assert!(isaiah.methods_registered.is_empty());
    assert_eq!(isaiah.preferred_method, "");

    // Secure Score's SSPR control reflects the selected group: 5 of 7 enabled members.
    let sspr = contoso.secure_scores[0]["controlScores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["controlName"] == "SelfServicePasswordReset")
        .unwrap();
    assert_eq!(sspr["count"], "5");
    assert_eq!(sspr["total"], "7");
    assert!(
        contoso
            .secure_score_control_profiles
            .iter()
            .any(|p| p["id"] == "SelfServicePasswordReset")
    );
    assert!(
        contoso
            .directory_recommendations
            .iter()
            .any(|r| r["recommendationType"] == "selfServicePasswordReset"
                && r["status"] == "active")
    );
}

#[test]
fn fabrikam_has_no_p1_no_trusted_location_and_sspr_for_all_with_one_method() {
    let tenants = seeded();
    let fabrikam = tenants.iter().find(|t| t.id == seed::FABRIKAM_ID).unwrap();
    assert!(!sku_premium(fabrikam) && !org_premium(fabrikam));
    assert_eq!(
        fabrikam.subscribed_skus[0]["skuPartNumber"],
        "O365_BUSINESS_ESSENTIALS"
    );
    assert_eq!(trusted_locations(fabrikam), 0);
    assert!(fabrikam.conditional_access_policies.is_empty());
    let portal = &fabrikam.password_reset_policies;
    assert_eq!(portal["enablementType"], 2);
    assert_eq!(portal["numberOfAuthenticationMethodsRequired"], 1);
    assert!(strings(&portal["passwordResetEnabledGroupIds"]).is_empty());
    let on_prem = &fabrikam.on_premises_password_reset_policies;
    assert!(on_prem["objectId"].is_null());
    assert_eq!(on_prem["passwordWritebackSupported"], false);
    assert!(
        fabrikam.secure_scores[0]["enabledServices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "HasAADFree")
    );
}

#[test]
fn set_premium_keeps_skus_and_assigned_plans_in_step() {
    let mut tenants = seeded();
    let contoso = tenants
        .iter_mut()
        .find(|t| t.id == seed::CONTOSO_ID)
        .unwrap();
    contoso.set_premium(false);
    assert!(!sku_premium(contoso) && !org_premium(contoso));
    assert_eq!(contoso.subscribed_skus.len(), 1, "the E3 SKU stays");
    contoso.set_premium(true);
    assert!(sku_premium(contoso) && org_premium(contoso));
    assert_valid(Schema::v1().validate("subscribedSku", contoso.subscribed_skus.last().unwrap()));
}

#[test]
fn every_seeded_object_matches_the_graph_schema() {
    for t in seeded() {
        assert_tenant_matches_schema(&t);
        assert_break_glass_excluded_if_any(&t);
    }
}

fn assert_break_glass_excluded_if_any(t: &Tenant) {
    if t.group_by_name("Break Glass").is_some() {
        assert_break_glass_excluded(t);
    }
}

// ---------------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------------

/// Everything observable about a generated directory, as one comparable string.
fn fingerprint(tenants: &[Tenant]) -> String {
    let mut out = String::new();
    for t in tenants {
        out.push_str(&format!(
            "{} {} {} {} {}\n",
            t.id, t.domain, t.display_name, t.premium, t.synced
        ));
        for u in &t.users {
            out.push_str(&format!(
                "{} {} {} {} {:?} {:?} {}\n",
                u.id,
                u.user_principal_name,
                u.user_type,
                u.account_enabled,
                u.directory_roles,
                u.methods_registered,
                u.preferred_method
            ));
        }
        for g in &t.groups {
            out.push_str(&format!("{} {} {:?}\n", g.id, g.display_name, g.members));
        }
        for v in [
            &t.organization,
            &t.authentication_methods_policy,
            &t.password_reset_policies,
            &t.on_premises_password_reset_policies,
        ]
        .into_iter()
        .chain(&t.subscribed_skus)
        .chain(&t.named_locations)
        .chain(&t.conditional_access_policies)
        .chain(&t.secure_scores)
        .chain(&t.directory_recommendations)
        {
            out.push_str(&v.to_string());
            out.push('\n');
        }
    }
    out
}

#[test]
fn no_generated_tenant_is_named_like_a_seeded_tenant_or_a_gdap_customer() {
    let seeded = seed::directory("a".into(), "b".into());
    let mut taken: Vec<String> = seeded
        .tenants
        .iter()
        .map(|t| t.display_name.clone())
        .collect();
    taken.push(seed::ADATUM_DISPLAY_NAME.into());
    // Two rounds through the company list: the second adds " (2)" to the same names.
    let generated = generator::generate(&spec(60, 30, 3));
    for t in &generated {
        for name in &taken {
            assert!(
                !t.display_name.starts_with(name.as_str()),
                "{} ({}) is named like {name}",
                t.display_name,
                t.domain
            );
        }
    }
}

#[test]
fn same_seed_same_tenants_different_seed_different_ids() {
    let a = generator::generate(&spec(9, 120, 42));
    let b = generator::generate(&spec(9, 120, 42));
    assert_eq!(a.len(), 9);
    assert!(a.iter().all(|t| t.users.len() == 120));
    assert_eq!(fingerprint(&a), fingerprint(&b));

    // A tenant depends on (seed, index) only, not on how many tenants were asked for.
    let fewer = generator::generate(&spec(3, 120, 42));
    assert_eq!(fingerprint(&a[..3]), fingerprint(&fewer));

    let c = generator::generate(&spec(9, 120, 43));
    let ids = |ts: &[Tenant]| -> HashSet<String> {
        ts.iter()
            .flat_map(|t| std::iter::once(t.id.clone()).chain(t.users.iter().map(|u| u.id.clone())))
            .collect()
    };
    assert!(ids(&a).is_disjoint(&ids(&c)));
    // Domains are positional, ids are not.
    assert_eq!(a[0].domain, "tenant0001.onmicrosoft.com");
    assert_eq!(c[0].domain, "tenant0001.onmicrosoft.com");
}

#[test]
fn generated_tenants_are_spread_like_a_real_msp_portfolio() {
    let tenants = generator::generate(&spec(24, 400, 7));
    let mut seen_ids = HashSet::new();
    let mut rates = Vec::new();
    let mut scopes = BTreeSet::new();
    let mut required = BTreeSet::new();
    for t in &tenants {
        assert!(seen_ids.insert(t.id.clone()), "duplicate tenant id");
        assert_eq!(t.premium, sku_premium(t), "{}", t.domain);
        assert_eq!(t.premium, org_premium(t), "{}", t.domain);
        assert_eq!(
            t.synced,
            t.organization["onPremisesSyncEnabled"] == true,
            "{}",
            t.domain
        );
        assert_eq!(
            t.synced,
            t.on_premises_password_reset_policies["objectId"].is_string()
        );
        if !t.premium {
            assert!(t.conditional_access_policies.is_empty(), "{}", t.domain);
            assert_eq!(
                t.on_premises_password_reset_policies["passwordWritebackSupported"],
                false
            );
        } else {
            assert!(!t.conditional_access_policies.is_empty(), "{}", t.domain);
        }

        // Users: unique ids and UPNs, ~5% guests, a few admins, two break-glass accounts.
        let upns: HashSet<_> = t
            .users
            .iter()
            .map(|u| u.user_principal_name.as_str())
            .collect();
        assert_eq!(upns.len(), t.users.len(), "{}: duplicate UPN", t.domain);
        let user_ids: HashSet<_> = t.users.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(user_ids.len(), t.users.len());
        seen_ids.extend(user_ids.iter().map(|s| s.to_string()));
        let guests = t.users.iter().filter(|u| u.user_type == "Guest").count();
        assert!((6..=40).contains(&guests), "{}: {guests} guests", t.domain);
        assert!(
            t.users
                .iter()
                .filter(|u| u.user_type == "Guest")
                .all(|u| u.user_principal_name.contains("#EXT#@") && u.directory_roles.is_empty())
        );
        let admins = t
            .users
            .iter()
            .filter(|u| !u.directory_roles.is_empty() && !is_break_glass(t, u))
            .count();
        assert!((3..=12).contains(&admins), "{}: {admins} admins", t.domain);
        let admin = t
            .users
            .iter()
            .find(|u| u.user_principal_name == format!("admin@{}", t.domain))
            .expect("named admin");
        assert_eq!(admin.directory_roles, ["Global Administrator"]);
        let bg = group_members(t, "Break Glass");
        assert_eq!(bg.len(), BREAK_GLASS_ACCOUNTS);
        assert_eq!(
            t.users[0].user_principal_name,
            format!("admin@{}", t.domain)
        );
        for u in &t.users[1..=BREAK_GLASS_ACCOUNTS] {
            assert!(bg.contains(u.id.as_str()));
            assert!(u.user_principal_name.starts_with("breakglass"));
            assert_eq!(u.directory_roles, ["Global Administrator"]);
        }
        assert_break_glass_excluded(t);
        assert!(!group_members(t, "SSPR Users").is_empty());
        assert!(group_members(t, "All Staff").len() > 300);

        // Preferred methods are enum members or "".
        for u in &t.users {
            assert!(
                [
                    "",
                    "push",
                    "oath",
                    "voiceMobile",
                    "voiceAlternateMobile",
                    "voiceOffice",
                    "sms"
                ]
                .contains(&u.preferred_method.as_str()),
                "{}",
                u.preferred_method
            );
        }

        let portal = &t.password_reset_policies;
        scopes.insert(portal["enablementType"].as_u64().unwrap());
        required.insert(
            portal["numberOfAuthenticationMethodsRequired"]
                .as_u64()
                .unwrap(),
        );
        if portal["enablementType"] == 1 {
            let group = strings(&portal["passwordResetEnabledGroupIds"])[0].to_string();
            assert_eq!(t.group_by_name("SSPR Users").unwrap().id, group);
        }
        rates.push(registration_rate(t));
    }

    let premium = tenants.iter().filter(|t| t.premium).count();
    assert_eq!(premium, 18, "one in four without P1");
    let synced = tenants.iter().filter(|t| t.synced).count();
    assert_eq!(synced, 8, "one in three synced");
    let with_trusted = tenants.iter().filter(|t| trusted_locations(t) > 0).count();
    assert_eq!(with_trusted, 12, "half have a trusted named location");
    assert!(
        tenants
            .iter()
            .any(|t| t.premium && trusted_locations(t) == 0 && !t.named_locations.is_empty()),
        "some P1 tenants have only untrusted or country locations"
    );
    assert_eq!(scopes, BTreeSet::from([0, 1, 2]));
    assert_eq!(required, BTreeSet::from([1, 2]));
    let (min, max) = rates
        .iter()
        .fold((1.0f64, 0.0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    assert!(min >= 0.22 && max <= 0.99, "rates {rates:?}");
    assert!(min < 0.45 && max > 0.8, "rates not spread: {rates:?}");
}

#[test]
fn generated_objects_match_the_graph_schema() {
    for t in generator::generate(&spec(8, 60, 3)) {
        assert_tenant_matches_schema(&t);
    }
}

#[test]
fn tiny_tenants_are_still_valid() {
    for users in [0, 1, 2, 3] {
        for t in generator::generate(&spec(4, users, 11)) {
            assert_eq!(t.users.len(), users);
            assert_tenant_matches_schema(&t);
        }
    }
}

#[tokio::test]
async fn the_emulator_serves_generated_tenants_to_our_multi_tenant_app() {
    let emulator = Emulator::start(EmulatorConfig {
        generate: Some(spec(5, 50, 99)),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let (count, tenant_id) = emulator.with_directory(|d| {
        (
            d.tenants.len(),
            d.tenant("tenant0005.onmicrosoft.com").map(|t| t.id.clone()),
        )
    });
    assert_eq!(count, 4 + 5);
    let tenant_id = tenant_id.expect("generated tenant by domain");
    let client = common::client_for(&emulator);
    let token = common::graph_token(&client, &emulator, &tenant_id).await;
    assert_eq!(common::claims(&token)["tid"], tenant_id.as_str());
    let response = common::graph_get(&client, &emulator, "organization", Some(&token)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["value"][0]["id"], tenant_id.as_str());
    emulator.shutdown().await;
}

/// Peak resident memory of this process in KiB (`VmHWM`), if the platform reports it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Not a timed assertion: prints start time and peak memory for the README. Run with
/// `cargo test --release -p entra-emulator --test generator -- --nocapture startup` for the
/// published figures (other tests in this binary may add a little to the peak).
#[tokio::test]
async fn startup_figures_for_200_tenants_of_2000_users() {
    let started = Instant::now();
    let emulator = Emulator::start(EmulatorConfig {
        generate: Some(spec(200, 2_000, 1)),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let elapsed = started.elapsed();
    let (tenants, users) = emulator.with_directory(|d| {
        (
            d.tenants.len(),
            d.tenants.iter().map(|t| t.users.len()).sum::<usize>(),
        )
    });
    assert_eq!(tenants, 204);
    assert!(users >= 400_000);
    println!(
        "entra-emulator start with 200 tenants x 2,000 users: {:.2} s wall, peak RSS {} MiB ({} build)",
        elapsed.as_secs_f64(),
        peak_rss_kib().map_or("n/a".into(), |k| (k / 1024).to_string()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    emulator.shutdown().await;
}

/// `entra-emulator serve --tenants --users --seed --manifest`: the manifest names every tenant
/// with what a client needs, and its credentials work.
#[tokio::test]
async fn serve_writes_a_manifest_with_credentials_for_every_tenant() {
    let dir = std::env::temp_dir().join(format!("entra-emulator-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest_path = dir.join("manifest.json");
    let ca_path = dir.join("ca.pem");
    let _ = std::fs::remove_file(&manifest_path);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_entra-emulator"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--tenants",
            "4",
            "--users",
            "30",
        ])
        .args(["--seed", "5", "--manifest"])
        .arg(&manifest_path)
        .arg("--ca-file")
        .arg(&ca_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut manifest = None;
    for _ in 0..300 {
        if let Ok(text) = std::fs::read_to_string(&manifest_path)
            && let Ok(doc) = serde_json::from_str::<Value>(&text)
        {
            manifest = Some(doc);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Checks run in a task so that a failure still stops the child process.
    let outcome = tokio::spawn(check_manifest(manifest, ca_path)).await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn check_manifest(manifest: Option<Value>, ca_path: std::path::PathBuf) {
    let manifest = manifest.expect("manifest written");
    for key in ["baseUrl", "caFile", "controlKey"] {
        assert!(manifest[key].is_string(), "{key}: {manifest}");
    }
    assert_eq!(manifest["caFile"], ca_path.to_str().unwrap());
    let tenants = manifest["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 4 + 4);
    assert_eq!(tenants[4]["domain"], "tenant0001.onmicrosoft.com");
    for t in tenants {
        for key in ["id", "domain"] {
            assert!(t[key].is_string(), "{t}");
        }
        assert!(t["premium"].is_boolean() && t["synced"].is_boolean(), "{t}");
        assert!(t["admin"]["refreshToken"].is_string(), "{t}");
    }
    let customers: Vec<&Value> = tenants.iter().filter(|t| t["app"].is_object()).collect();
    assert_eq!(customers.len(), 2 + 4, "every tenant but the operator's");
    // Tailspin's partial consent shows in its granted permissions, not as an app.
    let tailspin = tenants
        .iter()
        .find(|t| t["id"] == seed::TAILSPIN_ID)
        .expect("Tailspin listed");
    assert!(tailspin["app"].is_null(), "{tailspin}");
    assert_eq!(
        strings(&tailspin["grantedPermissions"]),
        seed::tailspin_permissions()
    );
    assert_eq!(
        manifest["managedIdentity"]["clientId"],
        seed::SERVICE_UAMI_CLIENT_ID
    );
    assert!(
        manifest["managedIdentity"]["endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with("/metadata/identity/oauth2/token")),
        "{manifest}"
    );
    assert_eq!(
        manifest["serviceAccount"]["issuer"],
        format!(
            "{}_k8s/{}",
            manifest["baseUrl"].as_str().unwrap(),
            seed::DEMO_CLUSTER
        )
    );

    // The app registration of a generated tenant gets a Graph token.
    let client = common::client_for_pem(&std::fs::read(&ca_path).unwrap());
    let generated = &tenants[5];
    let response = client
        .post(format!(
            "{}{}/oauth2/v2.0/token",
            manifest["baseUrl"].as_str().unwrap(),
            generated["id"].as_str().unwrap()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", generated["app"]["clientId"].as_str().unwrap()),
            (
                "client_secret",
                generated["app"]["clientSecret"].as_str().unwrap(),
            ),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let roles = common::claims(body["access_token"].as_str().unwrap())["roles"].clone();
    for permission in seed::GRAPH_APP_PERMISSIONS {
        assert!(
            strings(&roles).contains(permission),
            "{permission}: {roles}"
        );
    }
}
