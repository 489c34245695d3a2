//! Executing planned changes (`ops::policy::execute` of typed intents over the Graph and portal adapters) against the emulator: each call
//! changes exactly the raw state it should, its compensation restores the raw state exactly, and
//! refusals and faults surface as errors without touching the tenant.

use std::net::SocketAddr;

use entra_emulator::{CallKind, Emulator, Fault, FaultRule, seed};
use serde_json::{Value, json};
use sspr_e2e::World;
use sspr_service::config::{GraphLimits, Limit};
use sspr_service::directory::DirectoryError;
use sspr_service::directory::graph::Graph;
use sspr_service::directory::portal::PortalBackEnd;
use sspr_service::directory::tenants::{ManagedTenant, TenantRegistry};
use sspr_service::domain::change::{
    Intent, MethodConfigurationUpdate, MethodsPolicyUpdate, PasswordResetPoliciesUpdate,
};
use sspr_service::domain::portal::Scope;
use sspr_service::ops::policy::{Upstream, execute};

const POLICIES_PATH: &str = "/api/PasswordReset/PasswordResetPolicies";
const ON_PREMISES_PATH: &str = "/api/PasswordReset/OnPremisesPasswordResetPolicies";
const EMAIL_PATH: &str =
    "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email";
const AUTHORIZATION_PATH: &str = "/v1.0/policies/authorizationPolicy";

/// The service's directory adapters, built from the demo configuration as the application
/// builds them.
struct Adapters {
    registry: TenantRegistry,
    graph: Graph,
}

impl Adapters {
    fn demo(emulator: &Emulator) -> Adapters {
        let config =
            sspr_service::demo::config_for(emulator, SocketAddr::from(([127, 0, 0, 1], 0)));
        let http = sspr_service::app::http_client(&config.graph).expect("http client");
        let registry = TenantRegistry::from_config(&config, &http).expect("tenants build");
        let graph = Graph::new(http, config.graph.base_url.clone());
        Adapters { registry, graph }
    }

    fn tenant(&self, key: &str) -> std::sync::Arc<ManagedTenant> {
        self.registry.find(key).expect("configured tenant")
    }

    async fn run(&self, key: &str, call: &Intent) -> Result<(), DirectoryError> {
        let upstream = Upstream {
            directory: &self.graph,
            portal: &PortalBackEnd,
        };
        execute(upstream, &self.tenant(key), call).await
    }
}

/// Every raw object a planned call can touch, as the emulator holds it for `tenant`. The methods
/// policy's `lastModifiedDateTime` is left out: Graph moves it on every write.
fn raw(emulator: &Emulator, tenant: &str) -> Value {
    emulator
        .with_tenant(tenant, |t| {
            let mut methods = t.authentication_methods_policy.clone();
            methods
                .as_object_mut()
                .expect("methods policy object")
                .remove("lastModifiedDateTime");
            json!({
                "methodsPolicy": methods,
                "authorizationPolicy": t.authorization_policy,
                "passwordResetPolicies": t.password_reset_policies,
                "onPremises": t.on_premises_password_reset_policies,
            })
        })
        .expect("tenant exists")
}

fn email_configuration(raw: &mut Value) -> &mut Value {
    raw["methodsPolicy"]["authenticationMethodConfigurations"]
        .as_array_mut()
        .expect("configurations")
        .iter_mut()
        .find(|c| c["id"] == "Email")
        .expect("Email configuration")
}

fn calls(emulator: &Emulator, kind: CallKind, method: &str, path: &str) -> usize {
    emulator
        .calls()
        .iter()
        .filter(|c| c.kind == kind && c.method == method && c.path == path)
        .count()
}

#[tokio::test]
async fn a_methods_policy_patch_sets_reconfirmation_and_its_undo_restores_the_policy() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    let before = raw(&world.emulator, seed::CONTOSO_ID);
    assert_eq!(before["methodsPolicy"]["reconfirmationInDays"], 180);

    adapters
        .run(
            seed::CONTOSO_DOMAIN,
            &Intent::SetMethodsPolicy(MethodsPolicyUpdate {
                reconfirmation_in_days: Some(Some(90)),
                ..Default::default()
            }),
        )
        .await
        .expect("patch");
    let mut expected = before.clone();
    expected["methodsPolicy"]["reconfirmationInDays"] = json!(90);
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), expected);

    adapters
        .run(
            seed::CONTOSO_DOMAIN,
            &Intent::SetMethodsPolicy(MethodsPolicyUpdate {
                reconfirmation_in_days: Some(Some(180)),
                ..Default::default()
            }),
        )
        .await
        .expect("undo");
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), before);
}

#[tokio::test]
async fn a_method_configuration_patch_sets_state_and_targets_and_its_undo_restores_them() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    let mut before = raw(&world.emulator, seed::CONTOSO_ID);
    let original_targets = email_configuration(&mut before)["includeTargets"].clone();
    assert_eq!(email_configuration(&mut before)["state"], "enabled");
    assert_eq!(original_targets[0]["id"], seed::CONTOSO_GROUP_SSPR_USERS);
    let configuration = |change: MethodConfigurationUpdate| {
        Intent::SetMethodConfiguration(MethodConfigurationUpdate {
            id: "Email".into(),
            ..change
        })
    };

    // Off, and back on: the targets are left as they are.
    adapters
        .run(
            seed::CONTOSO_DOMAIN,
            &configuration(MethodConfigurationUpdate {
                enabled: Some(false),
                ..Default::default()
            }),
        )
        .await
        .expect("patch");
    let mut expected = before.clone();
    email_configuration(&mut expected)["state"] = json!("disabled");
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), expected);
    assert_eq!(
        calls(&world.emulator, CallKind::Graph, "PATCH", EMAIL_PATH),
        1
    );
    adapters
        .run(
            seed::CONTOSO_DOMAIN,
            &configuration(MethodConfigurationUpdate {
                enabled: Some(true),
                ..Default::default()
            }),
        )
        .await
        .expect("undo");
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), before);

    // Disabled with no targets, as the plan finds a configuration nobody uses: on for all
    // users, and the undo back to disabled and untargeted.
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            let email = t.authentication_methods_policy["authenticationMethodConfigurations"]
                .as_array_mut()
                .expect("configurations")
                .iter_mut()
                .find(|c| c["id"] == "Email")
                .expect("Email configuration");
            email["state"] = json!("disabled");
            email["includeTargets"] = json!([]);
        })
        .expect("tenant exists");
    let mut untargeted = raw(&world.emulator, seed::CONTOSO_ID);
    assert_eq!(
        email_configuration(&mut untargeted)["includeTargets"],
        json!([])
    );
    adapters
        .run(
            seed::CONTOSO_DOMAIN,
            &configuration(MethodConfigurationUpdate {
                enabled: Some(true),
                targets_all_users: Some(true),
                ..Default::default()
            }),
        )
        .await
        .expect("patch");
    let mut expected = untargeted.clone();
    email_configuration(&mut expected)["state"] = json!("enabled");
    email_configuration(&mut expected)["includeTargets"] =
        json!([{ "targetType": "group", "id": "all_users", "isRegistrationRequired": false }]);
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), expected);
    adapters
        .run(
            seed::CONTOSO_DOMAIN,
            &configuration(MethodConfigurationUpdate {
                enabled: Some(false),
                targets_all_users: Some(false),
                ..Default::default()
            }),
        )
        .await
        .expect("undo");
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), untargeted);
}

#[tokio::test]
async fn an_authorization_policy_patch_turns_admin_sspr_on_and_its_undo_off() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    let before = raw(&world.emulator, seed::CONTOSO_ID);
    assert_eq!(before["authorizationPolicy"]["allowedToUseSSPR"], false);
    let admins = Intent::SetAdminSspr;

    adapters
        .run(seed::CONTOSO_DOMAIN, &admins(true))
        .await
        .expect("patch");
    let mut expected = before.clone();
    expected["authorizationPolicy"]["allowedToUseSSPR"] = json!(true);
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), expected);

    adapters
        .run(seed::CONTOSO_DOMAIN, &admins(false))
        .await
        .expect("undo");
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), before);
}

#[tokio::test]
async fn a_portal_policies_put_changes_the_named_fields_keeps_unknown_ones_and_undoes_exactly() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.password_reset_policies["somethingNew"] = json!({ "kept": [1, 2] });
        })
        .expect("contoso");
    let before = raw(&world.emulator, seed::CONTOSO_ID);
    let policies = &before["passwordResetPolicies"];
    assert_eq!(policies["enablementType"], 1);
    assert_eq!(policies["passwordResetEnabledGroupName"], "SSPR Users");
    assert_eq!(policies["numberOfAuthenticationMethodsRequired"], 2);
    assert_eq!(
        policies["customHelpdeskEmailOrUrl"],
        "https://help.contoso.com/password"
    );
    let all_staff = world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.groups
                .iter()
                .find(|g| g.id == seed::CONTOSO_GROUP_ALL_STAFF)
                .map(|g| g.display_name.clone())
        })
        .flatten()
        .expect("All Staff group");

    let update = |group: &str, required: u8, link: &str| {
        Intent::PutPortalPasswordReset(PasswordResetPoliciesUpdate {
            scope: Some(Scope::Selected {
                group_id: group.into(),
                group_name: None,
            }),
            methods_required: Some(required),
            helpdesk_link: Some(Some(link.into())),
            ..Default::default()
        })
    };
    adapters
        .run(
            seed::CONTOSO_DOMAIN,
            &update(seed::CONTOSO_GROUP_ALL_STAFF, 1, "helpdesk@contoso.com"),
        )
        .await
        .expect("put");
    let mut expected = before.clone();
    let policies = &mut expected["passwordResetPolicies"];
    policies["passwordResetEnabledGroupIds"] = json!([seed::CONTOSO_GROUP_ALL_STAFF]);
    policies["passwordResetEnabledGroupName"] = json!(all_staff);
    policies["numberOfAuthenticationMethodsRequired"] = json!(1);
    policies["customHelpdeskEmailOrUrl"] = json!("helpdesk@contoso.com");
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), expected);
    assert_eq!(
        calls(&world.emulator, CallKind::Portal, "PUT", POLICIES_PATH),
        1
    );
    assert_eq!(
        calls(&world.emulator, CallKind::Portal, "PUT", ON_PREMISES_PATH),
        0
    );

    adapters
        .run(
            seed::CONTOSO_DOMAIN,
            &update(
                seed::CONTOSO_GROUP_SSPR_USERS,
                2,
                "https://help.contoso.com/password",
            ),
        )
        .await
        .expect("undo");
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), before);
}

#[tokio::test]
async fn a_portal_scope_change_to_all_keeps_the_group_and_its_undo_restores_the_selection() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    let before = raw(&world.emulator, seed::CONTOSO_ID);
    let scope = |scope: Scope| {
        Intent::PutPortalPasswordReset(PasswordResetPoliciesUpdate {
            scope: Some(scope),
            ..Default::default()
        })
    };

    adapters
        .run(seed::CONTOSO_DOMAIN, &scope(Scope::All))
        .await
        .expect("put");
    let mut expected = before.clone();
    expected["passwordResetPolicies"]["enablementType"] = json!(2);
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), expected);

    adapters
        .run(
            seed::CONTOSO_DOMAIN,
            &scope(Scope::Selected {
                group_id: seed::CONTOSO_GROUP_SSPR_USERS.into(),
                group_name: None,
            }),
        )
        .await
        .expect("undo");
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), before);
}

/// Turns one on-premises setting off with its own PUT (and no policies PUT), checks exactly that
/// field changed, then turns it back on and checks the object is as before.
async fn on_premises_put_and_undo(world: &World, field: &str, call: Intent, undo: Intent) {
    let adapters = Adapters::demo(&world.emulator);
    let before = raw(&world.emulator, seed::CONTOSO_ID);
    assert_eq!(before["onPremises"][field], true);

    adapters
        .run(seed::CONTOSO_DOMAIN, &call)
        .await
        .expect("put");
    let mut expected = before.clone();
    expected["onPremises"][field] = json!(false);
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), expected);
    assert_eq!(
        calls(&world.emulator, CallKind::Portal, "PUT", ON_PREMISES_PATH),
        1
    );
    assert_eq!(
        calls(&world.emulator, CallKind::Portal, "PUT", POLICIES_PATH),
        0
    );

    adapters
        .run(seed::CONTOSO_DOMAIN, &undo)
        .await
        .expect("undo");
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), before);
}

#[tokio::test]
async fn writeback_is_one_put_and_its_undo_restores_the_on_premises_object() {
    let world = World::start().await;
    // Turning writeback off also turns unlock off (it works through writeback); start without
    // unlock so that turning writeback back on is an exact undo.
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.on_premises_password_reset_policies["accountUnlockEnabled"] = json!(false);
        })
        .expect("contoso");
    on_premises_put_and_undo(
        &world,
        "passwordWritebackSupported",
        Intent::SetWriteback(false),
        Intent::SetWriteback(true),
    )
    .await;
}

#[tokio::test]
async fn unlock_is_one_put_and_its_undo_restores_the_on_premises_object() {
    let world = World::start().await;
    on_premises_put_and_undo(
        &world,
        "accountUnlockEnabled",
        Intent::SetUnlock(false),
        Intent::SetUnlock(true),
    )
    .await;
}

#[tokio::test]
async fn graph_refusing_a_write_is_an_upstream_403_and_changes_nothing() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    // The customer withdrew the write permissions; reads still work.
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |tenant| {
            for principal in &mut tenant.service_principals {
                if principal.app_id == seed::GRAPH_APP_CLIENT_ID {
                    for roles in principal.granted_app_roles.values_mut() {
                        roles.retain(|r| !r.starts_with("Policy.ReadWrite."));
                    }
                }
            }
        })
        .expect("contoso");
    let before = raw(&world.emulator, seed::CONTOSO_ID);

    for (call, path) in [
        (
            Intent::SetMethodsPolicy(MethodsPolicyUpdate {
                reconfirmation_in_days: Some(Some(90)),
                ..Default::default()
            }),
            "/v1.0/policies/authenticationMethodsPolicy",
        ),
        (
            Intent::SetMethodConfiguration(MethodConfigurationUpdate {
                id: "Email".into(),
                enabled: Some(false),
                ..Default::default()
            }),
            EMAIL_PATH,
        ),
        (Intent::SetAdminSspr(true), AUTHORIZATION_PATH),
    ] {
        let error = adapters
            .run(seed::CONTOSO_DOMAIN, &call)
            .await
            .expect_err("refused");
        match &error {
            DirectoryError::Upstream {
                status,
                code,
                request_id,
                message,
            } => {
                assert_eq!(*status, 403, "{error}");
                assert_eq!(code, "Authorization_RequestDenied", "{error}");
                assert!(
                    request_id.as_ref().is_some_and(|id| id.len() == 36),
                    "{error}"
                );
                assert!(message.contains(path), "{error}");
            }
            other => panic!("expected an upstream 403, got {other:?}"),
        }
    }
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), before);
}

#[tokio::test]
async fn a_throttled_write_waits_out_retry_after_until_its_attempts_run_out() {
    let world = World::start().await;
    let mut adapters = Adapters::demo(&world.emulator);
    adapters.graph = adapters.graph.clone().with_limits(&GraphLimits {
        max_attempts: 3,
        ..GraphLimits::default()
    });
    let admins = Intent::SetAdminSspr(true);
    let throttled = |times: u32| {
        FaultRule::new(
            "PATCH",
            AUTHORIZATION_PATH,
            Fault::TooManyRequests {
                retry_after: Some(1),
            },
        )
        .times(times)
    };

    world
        .emulator
        .set_faults(vec![throttled(2)])
        .expect("faults");
    adapters
        .run(seed::CONTOSO_DOMAIN, &admins)
        .await
        .expect("third attempt succeeds");
    assert_eq!(
        calls(
            &world.emulator,
            CallKind::Graph,
            "PATCH",
            AUTHORIZATION_PATH
        ),
        3
    );
    assert_eq!(
        raw(&world.emulator, seed::CONTOSO_ID)["authorizationPolicy"]["allowedToUseSSPR"],
        true
    );

    world.emulator.reset();
    world.emulator.clear_calls();
    world
        .emulator
        .set_faults(vec![throttled(3)])
        .expect("faults");
    let error = adapters
        .run(seed::CONTOSO_DOMAIN, &admins)
        .await
        .expect_err("still throttled");
    assert!(
        matches!(error, DirectoryError::Throttled { retry_after, .. } if retry_after.as_secs() == 1),
        "{error:?}"
    );
    assert_eq!(
        calls(
            &world.emulator,
            CallKind::Graph,
            "PATCH",
            AUTHORIZATION_PATH
        ),
        3
    );
    assert_eq!(
        raw(&world.emulator, seed::CONTOSO_ID)["authorizationPolicy"]["allowedToUseSSPR"],
        false
    );
}

#[tokio::test]
async fn a_patch_is_repeated_after_a_transient_failure_because_it_sets_absolute_values() {
    let world = World::start().await;
    let mut adapters = Adapters::demo(&world.emulator);
    // A short directory window: the back-off after a 429 without Retry-After starts at it.
    adapters.graph = adapters.graph.clone().with_limits(&GraphLimits {
        directory_per_tenant: Limit::new(1_500, 500),
        backoff_base_ms: 50,
        ..GraphLimits::default()
    });
    let admins = Intent::SetAdminSspr(true);

    for fault in [
        Fault::TooManyRequests { retry_after: None },
        Fault::ServiceUnavailable {
            retry_after: Some(1),
        },
        Fault::ConnectionReset,
    ] {
        world.emulator.reset();
        world.emulator.clear_calls();
        world
            .emulator
            .set_faults(vec![
                FaultRule::new("PATCH", AUTHORIZATION_PATH, fault.clone()).times(1),
            ])
            .expect("faults");
        adapters
            .run(seed::CONTOSO_DOMAIN, &admins)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(
            calls(
                &world.emulator,
                CallKind::Graph,
                "PATCH",
                AUTHORIZATION_PATH
            ),
            2,
            "{fault:?} repeated once"
        );
        assert_eq!(
            raw(&world.emulator, seed::CONTOSO_ID)["authorizationPolicy"]["allowedToUseSSPR"],
            true,
            "{fault:?}"
        );
    }
}

#[tokio::test]
async fn a_portal_fault_is_an_error_and_leaves_the_portal_objects_unchanged() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.password_reset_policies["somethingNew"] = json!(true);
        })
        .expect("contoso");
    let before = raw(&world.emulator, seed::CONTOSO_ID);
    world
        .emulator
        .set_faults(vec![
            FaultRule::new(
                "PUT",
                POLICIES_PATH,
                Fault::ServiceUnavailable { retry_after: None },
            ),
            FaultRule::new("PUT", ON_PREMISES_PATH, Fault::GatewayTimeout),
        ])
        .expect("faults");

    let error = adapters
        .run(
            seed::CONTOSO_DOMAIN,
            &Intent::PutPortalPasswordReset(PasswordResetPoliciesUpdate {
                reconfirm_days: Some(30),
                notify_users_on_reset: Some(false),
                ..Default::default()
            }),
        )
        .await
        .expect_err("portal fails");
    assert!(
        matches!(error, DirectoryError::Portal { status: 503, .. }),
        "{error:?}"
    );
    for call in [Intent::SetWriteback(false), Intent::SetUnlock(false)] {
        let error = adapters
            .run(seed::CONTOSO_DOMAIN, &call)
            .await
            .expect_err("portal fails");
        assert!(
            matches!(error, DirectoryError::Portal { status: 504, .. }),
            "{call:?}: {error:?}"
        );
    }
    assert_eq!(raw(&world.emulator, seed::CONTOSO_ID), before);
}

#[tokio::test]
async fn a_portal_call_for_a_tenant_without_the_connector_says_so() {
    let world = World::start().await;
    let adapters = Adapters::demo(&world.emulator);
    let before = raw(&world.emulator, seed::FABRIKAM_ID);
    let error = adapters
        .run(
            seed::FABRIKAM_DOMAIN,
            &Intent::PutPortalPasswordReset(PasswordResetPoliciesUpdate {
                reconfirm_days: Some(30),
                ..Default::default()
            }),
        )
        .await
        .expect_err("no connector");
    assert!(
        error
            .to_string()
            .contains("portal connector is not configured"),
        "{error}"
    );
    assert_eq!(raw(&world.emulator, seed::FABRIKAM_ID), before);
    assert_eq!(
        world
            .emulator
            .calls()
            .iter()
            .filter(|c| c.kind == CallKind::Portal)
            .count(),
        0
    );
}
