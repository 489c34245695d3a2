//! The portal connector (delegated admin sign-in, read-modify-write of the whole portal object,
//! writeback and unlock in separate PUTs) and inferred enablement (registration report + group
//! memberships), against the emulator, through the adapters' public API.

use std::net::SocketAddr;

use entra_emulator::{CallKind, Emulator, EmulatorConfig, GeneratorSpec, seed};
use serde_json::{Value, json};
use sspr_e2e::World;
use sspr_service::config::{CredentialConfig, TenantConfig};
use sspr_service::directory::DirectoryError;
use sspr_service::directory::graph::Graph;
use sspr_service::directory::portal::portal_settings;
use sspr_service::directory::tenants::{ManagedTenant, TenantRegistry};
use sspr_service::domain::inference::InferenceOutcome;
use sspr_service::domain::portal::{
    InferredScope, LegacyMethods, OnPremisesSettings, PortalSettings, Scope,
};

const POLICIES_PATH: &str = "/api/PasswordReset/PasswordResetPolicies";
const ON_PREMISES_PATH: &str = "/api/PasswordReset/OnPremisesPasswordResetPolicies";

/// The service's directory adapters, built from a configuration exactly as the application
/// builds them.
struct Adapters {
    registry: TenantRegistry,
    graph: Graph,
}

impl Adapters {
    fn from(config: &sspr_service::Config) -> Adapters {
        let http = sspr_service::app::http_client(&config.graph).expect("http client");
        let registry = TenantRegistry::from_config(config, &http).expect("tenants build");
        let graph = Graph::new(http, config.graph.base_url.clone());
        Adapters { registry, graph }
    }

    /// The demo configuration: contoso with a portal connector, fabrikam without.
    fn demo(emulator: &Emulator) -> Adapters {
        Adapters::from(&sspr_service::demo::config_for(emulator, loopback()))
    }

    fn tenant(&self, key: &str) -> std::sync::Arc<ManagedTenant> {
        self.registry.find(key).expect("configured tenant")
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn raw_portal(emulator: &Emulator, tenant: &str) -> (Value, Value) {
    emulator
        .with_tenant(tenant, |t| {
            (
                t.password_reset_policies.clone(),
                t.on_premises_password_reset_policies.clone(),
            )
        })
        .expect("tenant exists")
}

/// What the raw portal objects say, translated independently of the adapter.
fn expected_settings(emulator: &Emulator, tenant: &str) -> PortalSettings {
    let (p, o) = raw_portal(emulator, tenant);
    let group_name = |id: &str| {
        emulator
            .with_tenant(tenant, |t| {
                t.groups
                    .iter()
                    .find(|g| g.id == id)
                    .map(|g| g.display_name.clone())
            })
            .flatten()
    };
    let flag = |name: &str| p[name].as_bool().expect(name);
    let int = |name: &str| p[name].as_u64().expect(name);
    PortalSettings {
        scope: match int("enablementType") {
            0 => Scope::None,
            2 => Scope::All,
            _ => {
                let id = p["passwordResetEnabledGroupIds"][0]
                    .as_str()
                    .expect("group");
                Scope::Selected {
                    group_id: id.to_owned(),
                    group_name: group_name(id),
                }
            }
        },
        methods_required: int("numberOfAuthenticationMethodsRequired") as u8,
        methods: LegacyMethods {
            mobile_app_notification: flag("mobileAppNotificationEnabled"),
            mobile_app_code: flag("mobileAppCodeEnabled"),
            email: flag("emailOptionEnabled"),
            mobile_phone: flag("mobilePhoneOptionEnabled"),
            office_phone: flag("officePhoneOptionEnabled"),
            security_questions: flag("securityQuestionsOptionEnabled"),
        },
        security_questions_to_register: int("numberOfQuestionsToRegister") as u8,
        security_questions_to_reset: int("numberOfQuestionsToReset") as u8,
        require_registration_on_sign_in: flag("registrationRequiredOnSignIn"),
        reconfirm_days: int("registrationReconfirmIntevalInDays") as u16,
        notify_users_on_reset: flag("notifyUsersOnPasswordReset"),
        notify_admins_on_admin_reset: flag("notifyOnAdminPasswordReset"),
        helpdesk_link: flag("customizeHelpdeskLink").then(|| {
            p["customHelpdeskEmailOrUrl"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }),
        on_premises: (!o["objectId"].is_null()).then(|| OnPremisesSettings {
            password_writeback: o["passwordWritebackSupported"] == true,
            unlock_without_reset: o["accountUnlockEnabled"] == true,
            unlock_supported: o["accountUnlockSupported"] == true,
        }),
    }
}

fn portal_calls(emulator: &Emulator, method: &str, path: &str) -> usize {
    emulator
        .calls()
        .iter()
        .filter(|c| c.kind == CallKind::Portal && c.method == method && c.path == path)
        .count()
}

#[tokio::test]
async fn contoso_portal_settings_are_the_raw_portal_objects_and_the_token_is_cached() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    let contoso = &adapters.tenant(seed::CONTOSO_DOMAIN);

    let settings = portal_settings(contoso)
        .await
        .expect("portal answers")
        .expect("contoso has a portal connector");
    assert_eq!(
        settings,
        expected_settings(&world.emulator, seed::CONTOSO_ID)
    );
    // The seeded contoso: selected group with its name resolved, synced with writeback.
    assert!(matches!(
        &settings.scope,
        Scope::Selected { group_id, group_name: Some(name) }
            if group_id == seed::CONTOSO_GROUP_SSPR_USERS && name == "SSPR Users"
    ));
    assert!(settings.on_premises.is_some());
    assert_eq!(
        settings.helpdesk_link.as_deref(),
        Some("https://help.contoso.com/password")
    );

    // The access token is cached: a second read asks the token endpoint for nothing.
    let token_requests = world.emulator.token_requests(seed::CONTOSO_ID);
    let again = portal_settings(contoso).await.expect("read").expect("some");
    assert_eq!(again, settings);
    assert_eq!(
        world.emulator.token_requests(seed::CONTOSO_ID),
        token_requests
    );

    // Fabrikam has no connector: no settings, no portal call.
    world.emulator.clear_calls();
    let fabrikam = &adapters.tenant(seed::FABRIKAM_DOMAIN);
    assert_eq!(portal_settings(fabrikam).await.expect("no error"), None);
    assert!(
        world
            .emulator
            .calls()
            .iter()
            .all(|c| c.kind != CallKind::Portal)
    );
}

#[tokio::test]
async fn a_write_changes_only_the_modelled_fields_and_keeps_unknown_ones() {
    let world = World::start().await;
    let emulator = &world.emulator;
    // A field the service has never heard of, as the portal may add any day.
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.password_reset_policies["futurePortalSetting"] = json!({"level": 3, "on": true});
        })
        .expect("contoso");
    let (before, _) = raw_portal(emulator, seed::CONTOSO_ID);
    let adapters = Adapters::demo(emulator);
    let contoso = &adapters.tenant(seed::CONTOSO_ID);
    let portal = contoso.portal().expect("connector");

    let mut wanted = portal.settings().await.expect("read");
    wanted.scope = Scope::All;
    wanted.methods_required = 1;
    wanted.reconfirm_days = 90;
    wanted.notify_admins_on_admin_reset = !wanted.notify_admins_on_admin_reset;
    wanted.helpdesk_link = Some("helpdesk@contoso.com".to_owned());
    emulator.clear_calls();
    let read_back = portal
        .put_password_reset_policies(&wanted)
        .await
        .expect("write succeeds");

    assert_eq!(read_back, wanted, "what reads back is what was written");
    assert_eq!(portal_calls(emulator, "PUT", POLICIES_PATH), 1);
    let (after, _) = raw_portal(emulator, seed::CONTOSO_ID);
    assert_eq!(
        after["futurePortalSetting"],
        json!({"level": 3, "on": true})
    );
    let mut changed: Vec<&str> = before
        .as_object()
        .expect("object")
        .iter()
        .filter(|(k, v)| after[k.as_str()] != **v)
        .map(|(k, _)| k.as_str())
        .collect();
    changed.sort_unstable();
    assert_eq!(
        changed,
        [
            "customHelpdeskEmailOrUrl",
            "enablementType",
            "notifyOnAdminPasswordReset",
            "numberOfAuthenticationMethodsRequired",
            "registrationReconfirmIntevalInDays",
        ]
    );
    assert_eq!(
        after.as_object().map(|o| o.len()),
        before.as_object().map(|o| o.len()),
        "no field dropped or invented"
    );
    assert_eq!(after["registrationReconfirmIntevalInDays"], 90);
    assert_eq!(after["enablementType"], 2);
}

#[tokio::test]
async fn writeback_and_unlock_go_in_two_separate_puts() {
    let world = World::start().await;
    let emulator = &world.emulator;
    let adapters = Adapters::demo(emulator);
    let contoso = adapters.tenant(seed::CONTOSO_ID);
    let portal = contoso.portal().expect("connector");

    // Off: the portal turns unlock off with writeback.
    let off = portal
        .put_on_premises(Some(false), None)
        .await
        .expect("off");
    assert_eq!(
        off,
        Some(OnPremisesSettings {
            password_writeback: false,
            unlock_without_reset: false,
            unlock_supported: true
        })
    );

    emulator.clear_calls();
    let on = portal
        .put_on_premises(Some(true), Some(true))
        .await
        .expect("on");
    assert_eq!(
        on,
        Some(OnPremisesSettings {
            password_writeback: true,
            unlock_without_reset: true,
            unlock_supported: true
        })
    );
    // One body carrying both would keep only writeback: two PUTs are what makes unlock stick.
    assert_eq!(portal_calls(emulator, "PUT", ON_PREMISES_PATH), 2);
    let (_, raw) = raw_portal(emulator, seed::CONTOSO_ID);
    assert_eq!(raw["passwordWritebackSupported"], true);
    assert_eq!(raw["accountUnlockEnabled"], true);
}

#[tokio::test]
async fn an_expired_refresh_token_says_the_admin_must_sign_in_again() {
    let world = World::start().await;
    let emulator = &world.emulator;
    let refresh_token = emulator
        .admin_refresh_token(seed::CONTOSO_ID)
        .expect("contoso admin");
    let adapters = Adapters::demo(emulator);
    assert!(emulator.expire_refresh_token(&refresh_token));

    let error = portal_settings(&adapters.tenant(seed::CONTOSO_ID))
        .await
        .expect_err("the token endpoint refuses the expired refresh token");
    let text = error.to_string();
    assert!(
        matches!(&error, DirectoryError::PortalToken { .. }),
        "{error:?}"
    );
    assert!(text.contains("AADSTS700082"), "{text}");
    assert!(text.contains("must sign in again"), "{text}");
    assert!(!text.contains(&refresh_token), "secret leaked: {text}");
    assert!(
        !format!("{error:?}").contains(&refresh_token),
        "secret leaked"
    );
}

#[tokio::test]
async fn fabrikam_without_p1_needs_premium_for_inference() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    let outcome = adapters
        .graph
        .inferred_enablement(&adapters.tenant(seed::FABRIKAM_DOMAIN))
        .await
        .expect("not an error");
    assert!(
        matches!(outcome, InferenceOutcome::NeedsPremium { .. }),
        "{outcome:?}"
    );
}

/// Emulator with generated tenants and adapters configured for every tenant, all without a
/// portal connector.
async fn generated(tenants: usize, users: usize) -> (Emulator, Adapters, Vec<String>) {
    let emulator = Emulator::start(EmulatorConfig {
        generate: Some(GeneratorSpec {
            tenants,
            users_per_tenant: users,
            seed: 11,
        }),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let mut config = sspr_service::demo::config_for(&emulator, loopback());
    let ids: Vec<(String, String)> = emulator.with_directory(|d| {
        d.tenants
            .iter()
            .filter(|t| t.domain.starts_with("tenant"))
            .map(|t| (t.id.clone(), t.domain.clone()))
            .collect()
    });
    config.tenants = ids
        .iter()
        .map(|(id, domain)| TenantConfig {
            id: id.clone(),
            domains: vec![domain.clone()],
            display_name: None,
            tags: Vec::new(),
            credential: CredentialConfig::ClientSecret {
                client_id: seed::GRAPH_APP_CLIENT_ID.to_owned(),
                client_secret: emulator.graph_app_secret().into(),
            },
            portal: None,
        })
        .collect();
    let adapters = Adapters::from(&config);
    (
        emulator,
        adapters,
        ids.into_iter().map(|(id, _)| id).collect(),
    )
}

/// The true scope from the emulator's raw portal object.
fn true_scope(emulator: &Emulator, tenant: &str) -> (i64, String, bool) {
    emulator
        .with_tenant(tenant, |t| {
            (
                t.password_reset_policies["enablementType"]
                    .as_i64()
                    .unwrap_or(0),
                t.password_reset_policies["passwordResetEnabledGroupIds"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                t.premium,
            )
        })
        .expect("tenant")
}

async fn infer(adapters: &Adapters, tenant: &str) -> InferenceOutcome {
    adapters
        .graph
        .inferred_enablement(&adapters.tenant(tenant))
        .await
        .expect("inference runs")
}

#[tokio::test]
async fn inference_matches_the_true_scope_of_generated_tenants() {
    let (emulator, adapters, tenants) = generated(18, 120).await;
    let mut seen = [0usize; 3];
    for tenant in &tenants {
        let (enablement, group, premium) = true_scope(&emulator, tenant);
        let outcome = infer(&adapters, tenant).await;
        if !premium {
            assert!(
                matches!(outcome, InferenceOutcome::NeedsPremium { .. }),
                "{tenant}: {outcome:?}"
            );
            continue;
        }
        let InferenceOutcome::Inferred(inferred) = outcome else {
            panic!("{tenant}: a P1 tenant answers the report");
        };
        let expected = match enablement {
            0 => InferredScope::None,
            2 => InferredScope::All,
            _ => InferredScope::Selected {
                group_id: group.clone(),
                group_name: "SSPR Users".to_owned(),
            },
        };
        assert_eq!(inferred.scope, expected, "{tenant}");
        seen[enablement as usize] += 1;
        let evidence = &inferred.evidence;
        assert!(evidence.members_considered > 0, "{tenant}");
        assert!(evidence.members_enabled <= evidence.members_considered);
        assert!(evidence.oldest_data.is_some() && !evidence.read_at.is_empty());
        match expected {
            InferredScope::None => assert_eq!(evidence.members_enabled, 0),
            InferredScope::All => {
                assert_eq!(evidence.members_enabled, evidence.members_considered)
            }
            _ => assert!(
                0 < evidence.members_enabled
                    && evidence.members_enabled < evidence.members_considered
            ),
        }
    }
    assert!(
        seen.iter().all(|n| *n > 0),
        "every scope covered by a P1 tenant: {seen:?}"
    );
}

#[tokio::test]
async fn ambiguous_evidence_says_unknown_or_selected_unknown_group() {
    let (emulator, adapters, tenants) = generated(12, 60).await;
    let selected = tenants
        .iter()
        .find(|t| {
            let (enablement, _, premium) = true_scope(&emulator, t);
            premium && enablement == 1
        })
        .expect("a P1 tenant scoped to a group")
        .clone();
    let (_, group, _) = true_scope(&emulator, &selected);

    // A second group with the same members: either could be the one.
    emulator
        .with_tenant(&selected, |t| {
            let mut twin = t
                .groups
                .iter()
                .find(|g| g.id == group)
                .expect("sspr group")
                .clone();
            twin.id = "0c0ffee0-0000-4000-8000-000000000001".to_owned();
            twin.display_name = "SSPR Users (copy)".to_owned();
            t.groups.push(twin);
        })
        .expect("tenant");
    let InferenceOutcome::Inferred(twins) = infer(&adapters, &selected).await else {
        panic!("P1 tenant")
    };
    assert_eq!(twins.scope, InferredScope::SelectedUnknownGroup);

    // SSPR for two one-person groups: some members enabled, and no single group explains them.
    let (first, second) = emulator
        .with_tenant(&selected, |t| {
            t.groups.retain(|g| !g.display_name.ends_with("(copy)"));
            let mut plain = t
                .users
                .iter()
                .filter(|u| u.account_enabled && u.user_type == "Member")
                .filter(|u| u.directory_roles.is_empty());
            let first = plain.next().expect("a member").id.clone();
            let second = plain.next().expect("another member").id.clone();
            for (id, member) in [
                ("0c0ffee0-0000-4000-8000-000000000002", &first),
                ("0c0ffee0-0000-4000-8000-000000000003", &second),
            ] {
                t.groups.push(entra_emulator::Group {
                    id: id.to_owned(),
                    display_name: format!("Pilot {id}"),
                    members: vec![member.clone()],
                });
            }
            t.password_reset_policies["enablementType"] = json!(1);
            t.password_reset_policies["passwordResetEnabledGroupIds"] = json!([
                "0c0ffee0-0000-4000-8000-000000000002",
                "0c0ffee0-0000-4000-8000-000000000003"
            ]);
            (first, second)
        })
        .expect("tenant");
    assert_ne!(first, second);
    let InferenceOutcome::Inferred(split) = infer(&adapters, &selected).await else {
        panic!("P1 tenant")
    };
    assert_eq!(split.scope, InferredScope::SelectedUnknownGroup);
    assert_eq!(split.evidence.members_enabled, 2);

    // Every account an administrator: nobody the tenant scope applies to.
    emulator
        .with_tenant(&selected, |t| {
            for user in &mut t.users {
                user.directory_roles.push("Global Reader".to_owned());
            }
        })
        .expect("tenant");
    let InferenceOutcome::Inferred(admins_only) = infer(&adapters, &selected).await else {
        panic!("P1 tenant")
    };
    assert_eq!(admins_only.scope, InferredScope::Unknown);
    assert_eq!(admins_only.evidence.members_considered, 0);
}

#[tokio::test]
async fn a_sixth_report_read_within_ten_seconds_queues_instead_of_being_throttled() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    let contoso = &adapters.tenant(seed::CONTOSO_DOMAIN);
    // Reports allow 5 requests / 10 s per app per tenant; the sixth read waits for its turn.
    let mut scopes = Vec::new();
    for _ in 0..6 {
        let InferenceOutcome::Inferred(inferred) = adapters
            .graph
            .inferred_enablement(contoso)
            .await
            .expect("the budget is waited for, not failed")
        else {
            panic!("contoso has P1")
        };
        scopes.push(inferred.scope);
    }
    assert!(scopes.windows(2).all(|w| w[0] == w[1]), "{scopes:?}");
    // Contoso's SSPR group holds every member who is not an administrator, so the evidence
    // cannot tell "selected" from "all": inference says what the evidence says.
    assert_eq!(scopes[0], InferredScope::All);
    let throttled = world
        .emulator
        .calls()
        .iter()
        .filter(|c| c.status == 429 && c.path.ends_with("userRegistrationDetails"))
        .count();
    assert_eq!(
        throttled, 0,
        "the service kept within Graph's reports budget"
    );
}

#[tokio::test]
async fn inferred_enablement_is_reused_for_a_while_and_keeps_its_read_time() {
    let world = World::start().await;
    // Fabrikam has no portal connector; with P1 its registration report can be read.
    world
        .emulator
        .with_tenant(seed::FABRIKAM_ID, |t| t.set_premium(true))
        .expect("fabrikam");
    let client = world.operator();
    let report_reads = || {
        world
            .emulator
            .calls()
            .iter()
            .filter(|c| c.path.contains("userRegistrationDetails"))
            .count()
    };
    let first = client
        .get_policy(seed::FABRIKAM_DOMAIN)
        .await
        .expect("policy");
    let first = serde_json::to_value(first).expect("json");
    assert_eq!(
        first["enablement"]["source"], "inferred",
        "{}",
        first["enablement"]
    );
    let reads = report_reads();
    assert!(reads >= 1);

    let second = client
        .get_policy(seed::FABRIKAM_DOMAIN)
        .await
        .expect("policy");
    let second = serde_json::to_value(second).expect("json");
    assert_eq!(
        report_reads(),
        reads,
        "the second read reuses the inference"
    );
    assert_eq!(
        second["enablement"]["evidence"]["readAt"], first["enablement"]["evidence"]["readAt"],
        "the evidence still says when the report was read"
    );
}
