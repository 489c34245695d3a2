//! The Windows-link use cases against in-memory fakes of Intune, the licences, the permissions
//! and the audit log.

use super::fake::{CreateFault, FakeIntune};
use super::*;
use crate::capabilities::audit_log::{AuditFilter, AuditRecord};
use crate::ops::fake_audit_log::FakeAuditLog;
use crate::ops::fakes::{FakeLicences, FakePermissions, sku};
use sspr_api::audit::Outcome;

const TENANT: &str = "fabrikam.example";
const TENANT_ID: &str = "9a8b7c6d-0000-4000-8000-000000000002";
const GROUP: &str = "0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e";

struct World {
    tenants: TenantRegistry,
    intune: FakeIntune,
    licences: FakeLicences,
    permissions: FakePermissions,
    audit: Arc<dyn AuditLog>,
}

impl World {
    fn new(intune: FakeIntune) -> World {
        World {
            tenants: TenantRegistry::for_tests(vec![ManagedTenant::for_tests(TENANT_ID, TENANT)]),
            intune,
            licences: FakeLicences::answering(Ok(vec![sku(windows_link::INTUNE_PLANS[0])])),
            permissions: FakePermissions::all(),
            audit: Arc::new(FakeAuditLog::default()),
        }
    }

    fn link(&self) -> WindowsLink<'_> {
        WindowsLink {
            tenants: &self.tenants,
            device_configuration: &self.intune,
            licences: &self.licences,
            permissions: &self.permissions,
            audit: &self.audit,
        }
    }

    async fn apply(
        &self,
        target: &ResetLinkTarget,
        if_match: Option<&str>,
    ) -> Result<WindowsResetLinkApplied, WindowsLinkError> {
        let request = ApplyRequest {
            tenant_key: TENANT,
            request_id: None,
            if_match,
            target,
        };
        self.link().apply(&writer(), request).await
    }

    async fn status(&self) -> WindowsResetLinkStatus {
        self.link().status(&reader(), TENANT).await.expect("status")
    }

    async fn records(&self) -> Vec<AuditRecord> {
        self.audit
            .query(AuditFilter::default())
            .await
            .expect("audit")
            .records
    }
}

fn writer() -> Caller {
    Caller::for_tests(&["SSPR.ReadWrite"])
}

fn reader() -> Caller {
    Caller::for_tests(&["SSPR.Read"])
}

fn group() -> ResetLinkTarget {
    ResetLinkTarget::Group {
        group_id: GROUP.into(),
    }
}

fn policy(name: &str, allows: bool, assignments: Vec<AssignmentTarget>) -> ResetLinkPolicy {
    ResetLinkPolicy {
        id: format!("id-{name}"),
        name: name.into(),
        kind: PolicyKind::SettingsCatalog,
        allows,
        assignments,
    }
}

#[tokio::test]
async fn apply_twice_leaves_one_policy_assigned_as_asked_and_the_status_passes() {
    let world = World::new(FakeIntune::default());
    assert_eq!(world.status().await.status, CheckStatus::Fail);
    let first = world
        .apply(&ResetLinkTarget::AllDevices, None)
        .await
        .expect("apply");
    assert_eq!(first.result, ApplyResult::Created);
    assert_eq!(
        world.intune.calls(),
        ["inventory", "inventory", "create", "assign"]
    );
    let second = world
        .apply(&ResetLinkTarget::AllDevices, None)
        .await
        .expect("again");
    assert_eq!(second.result, ApplyResult::Unchanged);
    assert!(second.calls.is_empty());
    assert_eq!(second.policy_id, first.policy_id);
    assert_eq!(
        second.etag, first.etag,
        "the deploy's ETag is the deployed policy's"
    );
    let ours = world.intune.ours();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].assignments, [AssignmentTarget::AllDevices]);
    let status = world.status().await;
    assert_eq!(status.status, CheckStatus::Pass, "{}", status.summary);
    assert_eq!(status.ours.as_deref(), Some(first.policy_id.as_str()));
    let outcomes: Vec<Outcome> = world.records().await.iter().map(|r| r.outcome).collect();
    assert!(
        outcomes.contains(&Outcome::Succeeded) && outcomes.contains(&Outcome::NoChange),
        "{outcomes:?}"
    );
    // Another target re-assigns the same policy: the set is replaced, no new policy.
    let moved = world.apply(&group(), None).await.expect("to a group");
    assert_eq!(moved.result, ApplyResult::Updated);
    assert_eq!(moved.policy_id, first.policy_id);
    assert_eq!(
        world.intune.ours()[0].assignments,
        [AssignmentTarget::Group(GROUP.into())]
    );
}

#[tokio::test]
async fn the_write_permission_is_required_before_any_intune_call() {
    let mut world = World::new(FakeIntune::default());
    world.permissions = FakePermissions::all_but("DeviceManagementConfiguration.ReadWrite.All");
    let error = world
        .apply(&ResetLinkTarget::AllDevices, None)
        .await
        .unwrap_err();
    match error {
        WindowsLinkError::Ops(OpsError::PermissionMissing {
            feature, missing, ..
        }) => {
            assert_eq!(feature, Feature::IntuneWrite);
            assert_eq!(missing, ["DeviceManagementConfiguration.ReadWrite.All"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(world.intune.calls().is_empty());
    // Reading is still allowed with Read.All.
    assert_eq!(world.status().await.status, CheckStatus::Fail);
    // A reader may not deploy.
    let request = ApplyRequest {
        tenant_key: TENANT,
        request_id: None,
        if_match: None,
        target: &ResetLinkTarget::AllDevices,
    };
    assert!(matches!(
        world.link().apply(&reader(), request).await,
        Err(WindowsLinkError::Ops(OpsError::Forbidden(_)))
    ));
}

#[tokio::test]
async fn without_intune_the_status_is_unknown_with_the_registry_alternative() {
    let mut world = World::new(FakeIntune::default());
    world.licences = FakeLicences::answering(Ok(vec![sku("882e1d05-acd1-4ccb-8708-6ee03664b117")]));
    let status = world.status().await;
    assert_eq!(status.status, CheckStatus::Unknown);
    assert_eq!(
        status.reason.as_ref().map(|r| r.code.as_str()),
        Some("intuneLicenceMissing")
    );
    assert!(
        status.summary.contains("AllowPasswordReset"),
        "{}",
        status.summary
    );
    assert_eq!(status.registry_alternative.value_name, "AllowPasswordReset");
    assert_eq!(status.registry_alternative.data, 1);
    assert!(
        world.intune.calls().is_empty(),
        "no Intune call for an unlicensed tenant"
    );
    // Unreadable SKUs: Intune's own answer decides.
    world.licences = FakeLicences::unreadable();
    world.intune.state.lock().unwrap().refuse_reads = Some((
        400,
        "GET /beta/deviceManagement/configurationPolicies: Request not applicable to target tenant.",
    ));
    let status = world.status().await;
    assert_eq!(status.status, CheckStatus::Unknown);
    assert_eq!(status.reason.unwrap().code, "intuneLicenceMissing");
    // A deploy is refused with the licence, not attempted.
    let error = world
        .apply(&ResetLinkTarget::AllDevices, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            WindowsLinkError::Ops(OpsError::LicenseRequired { .. })
        ),
        "{error:?}"
    );
    // Without the read permission: unknown too.
    let mut world = World::new(FakeIntune::default());
    world.permissions = FakePermissions::all_but("DeviceManagementConfiguration.Read.All");
    world
        .permissions
        .granted
        .remove("DeviceManagementConfiguration.ReadWrite.All");
    let status = world.status().await;
    assert_eq!(status.status, CheckStatus::Unknown);
    assert_eq!(status.reason.unwrap().code, "permissionMissing");
}

#[tokio::test]
async fn the_plan_shows_the_calls_and_changes_nothing() {
    let world = World::new(FakeIntune::default());
    let plan = world
        .link()
        .plan(&reader(), TENANT, &group())
        .await
        .expect("plan");
    assert_eq!(plan.result, ApplyResult::Created);
    assert_eq!(plan.policy["name"], windows_link::POLICY_NAME);
    assert_eq!(
        plan.assignment["assignments"][0]["target"]["groupId"],
        GROUP
    );
    assert_eq!(plan.calls.len(), 2);
    assert_eq!(world.intune.calls(), ["inventory"]);
    assert!(world.records().await.is_empty(), "a plan is not audited");
    let bad = ResetLinkTarget::Group {
        group_id: "devices".into(),
    };
    match world.link().plan(&reader(), TENANT, &bad).await {
        Err(OpsError::BadInput { field, detail }) => {
            assert_eq!(field, "groupId");
            assert!(detail.contains("'devices'"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn if_match_star_does_not_hold_while_nothing_is_deployed() {
    let world = World::new(FakeIntune::default());
    let error = world
        .apply(&ResetLinkTarget::AllDevices, Some("*"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            WindowsLinkError::Ops(OpsError::PreconditionFailed { .. })
        ),
        "{error:?}"
    );
    assert!(world.intune.ours().is_empty());
}

#[tokio::test]
async fn a_lost_create_answer_makes_no_copy() {
    let world = World::new(FakeIntune::default());
    world
        .intune
        .state
        .lock()
        .unwrap()
        .create_faults
        .push_back(CreateFault::LostAfterCreate);
    let applied = world
        .apply(&ResetLinkTarget::AllDevices, None)
        .await
        .expect("apply");
    assert_eq!(world.intune.ours().len(), 1);
    assert_eq!(applied.policy_id, "policy-1");
    assert_eq!(
        world.intune.calls(),
        ["inventory", "create", "inventory", "assign"]
    );
}

#[tokio::test]
async fn copies_are_deleted_and_a_blocking_policy_of_ours_is_made_afresh() {
    let mut copy = policy(windows_link::POLICY_NAME, true, vec![]);
    copy.id = "copy".into();
    let world = World::new(FakeIntune::with(vec![
        policy(
            windows_link::POLICY_NAME,
            false,
            vec![AssignmentTarget::AllDevices],
        ),
        copy,
        policy(
            "Someone else's",
            true,
            vec![AssignmentTarget::AllLicensedUsers],
        ),
    ]));
    let applied = world
        .apply(&ResetLinkTarget::AllDevices, None)
        .await
        .expect("apply");
    assert_eq!(applied.result, ApplyResult::Updated);
    let ours = world.intune.ours();
    assert_eq!(ours.len(), 1);
    assert!(ours[0].allows);
    assert_eq!(ours[0].assignments, [AssignmentTarget::AllDevices]);
    assert_eq!(
        world.intune.calls(),
        ["inventory", "delete", "delete", "create", "assign"]
    );
    assert!(
        world
            .intune
            .state
            .lock()
            .unwrap()
            .policies
            .iter()
            .any(|p| p.name == "Someone else's"),
        "other policies are left alone"
    );
}

#[tokio::test]
async fn a_stale_if_match_is_refused_and_audited() {
    let world = World::new(FakeIntune::default());
    let plan = world
        .link()
        .plan(&reader(), TENANT, &ResetLinkTarget::AllDevices)
        .await
        .expect("plan");
    world
        .apply(&group(), Some(&plan.etag))
        .await
        .expect("the plan's etag holds");
    let error = world
        .apply(&ResetLinkTarget::AllDevices, Some(&plan.etag))
        .await
        .unwrap_err();
    assert!(
        world.apply(&group(), Some("*")).await.is_ok(),
        "* names the deployed policy"
    );
    assert!(
        matches!(
            error,
            WindowsLinkError::Ops(OpsError::PreconditionFailed { .. })
        ),
        "{error:?}"
    );
    assert_eq!(
        world.intune.ours()[0].assignments,
        [AssignmentTarget::Group(GROUP.into())]
    );
    let last = world
        .records()
        .await
        .into_iter()
        .find(|r| r.outcome == Outcome::Refused)
        .expect("refusal");
    assert_eq!(last.error.as_deref(), Some("stale If-Match"));
    // A bad group id is refused (and audited) before any Graph call.
    let before = world.intune.calls().len();
    let error = world
        .apply(
            &ResetLinkTarget::Group {
                group_id: "x".into(),
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        WindowsLinkError::Ops(OpsError::BadInput { .. })
    ));
    assert_eq!(world.intune.calls().len(), before);
}

#[test]
fn scripts_need_access_to_the_tenant() {
    let world = World::new(FakeIntune::default());
    let reg = world
        .link()
        .script(&reader(), TENANT, ScriptFormat::Reg)
        .expect("reg");
    assert!(reg.contains("\"AllowPasswordReset\"=dword:00000001"));
    let ps = world
        .link()
        .script(&reader(), TENANT, ScriptFormat::Powershell)
        .expect("ps");
    assert!(ps.contains("AllowPasswordReset"));
    assert!(matches!(
        world
            .link()
            .script(&reader(), "other.example", ScriptFormat::Reg),
        Err(OpsError::UnknownTenant(_))
    ));
}
