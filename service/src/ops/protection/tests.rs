//! The protection use cases against in-memory fakes of Conditional Access, the registration
//! report, the licences and the audit log.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::*;
use crate::capabilities::audit_log::{AuditFilter, AuditRecord};
use crate::capabilities::conditional_access::{Read, Written};
use crate::directory::conditional_access::{self, render, request_of};
use crate::domain::protection::ProtectionControl;
use crate::domain::protection::generate::PolicyPart;
use crate::ops::fake_audit_log::FakeAuditLog;
use crate::ops::fakes::{FakeLicences, FakePermissions, FakeReport};
use sspr_api::protection::{PlannedCall, PolicyChange};

const TENANT: &str = "contoso.example";
const TENANT_ID: &str = "9a8b7c6d-0000-4000-8000-000000000001";

/// What the fake does with the next create.
#[derive(Debug, Clone, Copy)]
enum CreateFault {
    /// The policy is created, but the answer is lost on the way back.
    LostAfterCreate,
    /// Graph fails with a 503 before creating anything.
    FailedBeforeCreate,
}

#[derive(Default)]
struct CaState {
    policies: Vec<CaPolicy>,
    named_locations: Vec<NamedLocation>,
    create_faults: VecDeque<CreateFault>,
    /// Every call, in order: `policies`, `namedLocations`, `groupMembers`, `create`, `update`.
    calls: Vec<&'static str>,
    next_id: u32,
}

/// Conditional Access in memory: writes change the policies a later read lists.
#[derive(Default)]
struct FakeConditionalAccess {
    state: Mutex<CaState>,
}

impl FakeConditionalAccess {
    fn with_policies(policies: Vec<CaPolicy>) -> Self {
        let fake = FakeConditionalAccess::default();
        fake.state.lock().expect("state").policies = policies;
        fake
    }

    fn fail_creates(&self, faults: &[CreateFault]) {
        self.state
            .lock()
            .expect("state")
            .create_faults
            .extend(faults.iter().copied());
    }

    fn calls(&self) -> Vec<&'static str> {
        self.state.lock().expect("state").calls.clone()
    }

    fn count(&self, call: &str) -> usize {
        self.calls().iter().filter(|c| **c == call).count()
    }

    fn ours(&self) -> Vec<CaPolicy> {
        let state = self.state.lock().expect("state");
        state
            .policies
            .iter()
            .filter(|p| p.is_ours())
            .cloned()
            .collect()
    }

    fn record(&self, call: &'static str) {
        self.state.lock().expect("state").calls.push(call);
    }
}

fn read<T>(items: Vec<T>) -> Read<T> {
    Read {
        items,
        request_ids: vec!["graph-request".to_owned()],
    }
}

#[async_trait::async_trait]
impl ConditionalAccess for FakeConditionalAccess {
    async fn policies(&self, _: &ManagedTenant) -> Result<Read<CaPolicy>, DirectoryError> {
        self.record("policies");
        Ok(read(self.state.lock().expect("state").policies.clone()))
    }

    async fn named_locations(
        &self,
        _: &ManagedTenant,
    ) -> Result<Read<NamedLocation>, DirectoryError> {
        self.record("namedLocations");
        Ok(read(
            self.state.lock().expect("state").named_locations.clone(),
        ))
    }

    async fn group_member_ids(
        &self,
        _: &ManagedTenant,
        _: &str,
    ) -> Result<Read<String>, DirectoryError> {
        self.record("groupMembers");
        Ok(read(Vec::new()))
    }

    async fn write(
        &self,
        _: &ManagedTenant,
        write: PolicyWrite<'_>,
    ) -> Result<Written, DirectoryError> {
        let mut state = self.state.lock().expect("state");
        match write {
            PolicyWrite::Create(policy) => {
                state.calls.push("create");
                let fault = state.create_faults.pop_front();
                if let Some(CreateFault::FailedBeforeCreate) = fault {
                    return Err(DirectoryError::Upstream {
                        status: 503,
                        code: "serviceUnavailable".into(),
                        message: "try later".into(),
                        request_id: Some("failed-create".into()),
                    });
                }
                state.next_id += 1;
                let mut created = policy.clone();
                created.id = format!("policy-{}", state.next_id);
                state.policies.push(created.clone());
                if let Some(CreateFault::LostAfterCreate) = fault {
                    return Err(DirectoryError::Unreachable {
                        what: "Microsoft Graph".into(),
                        detail: "the connection closed before the answer".into(),
                    });
                }
                Ok(Written {
                    policy_id: created.id,
                    request_id: Some("created".into()),
                })
            }
            PolicyWrite::Update { desired, existing } => {
                state.calls.push("update");
                let stored = state
                    .policies
                    .iter_mut()
                    .find(|p| p.id == existing.id)
                    .expect("updated policy exists");
                *stored = CaPolicy {
                    id: existing.id.clone(),
                    ..desired.clone()
                };
                Ok(Written {
                    policy_id: existing.id.clone(),
                    request_id: Some("updated".into()),
                })
            }
            PolicyWrite::State { policy, state: new } => {
                state.calls.push("update");
                let stored = state
                    .policies
                    .iter_mut()
                    .find(|p| p.id == policy.id)
                    .expect("updated policy exists");
                stored.state = new;
                Ok(Written {
                    policy_id: policy.id.clone(),
                    request_id: Some("updated".into()),
                })
            }
        }
    }

    fn planned_call(&self, write: PolicyWrite<'_>) -> PlannedCall {
        let (method, path, body) = request_of(write);
        PlannedCall {
            method: method.to_owned(),
            path: format!("/v1.0/{path}"),
            body,
        }
    }

    // The answers' JSON is the adapter's: the fake renders as the Graph adapter does.
    fn policy_json(&self, policy: &CaPolicy) -> serde_json::Value {
        render::create_body(policy)
    }

    fn part_names(&self, parts: &[PolicyPart]) -> Vec<String> {
        parts
            .iter()
            .map(|part| render::part_name(*part).to_owned())
            .collect()
    }

    fn diff(&self, write: PolicyWrite<'_>) -> Vec<PolicyChange> {
        render::diff(write)
    }

    fn write_text(&self, write: PolicyWrite<'_>) -> String {
        conditional_access::write_text(write)
    }

    fn listing_text(&self) -> String {
        conditional_access::listing_text()
    }
}

/// One tenant and its fakes.
struct World {
    tenants: TenantRegistry,
    ca: FakeConditionalAccess,
    licences: FakeLicences,
    /// No users: the impact counts are not what these tests are about.
    report: FakeReport,
    permissions: FakePermissions,
    audit: Arc<dyn AuditLog>,
}

impl World {
    async fn new(ca: FakeConditionalAccess, licences: FakeLicences) -> World {
        World {
            tenants: TenantRegistry::for_tests(vec![ManagedTenant::for_tests(TENANT_ID, TENANT)]),
            ca,
            licences,
            report: FakeReport::default(),
            permissions: FakePermissions::all(),
            audit: Arc::new(FakeAuditLog::default()),
        }
    }

    fn protection(&self) -> Protection<'_> {
        Protection {
            tenants: &self.tenants,
            conditional_access: &self.ca,
            registration_report: &self.report,
            licences: &self.licences,
            permissions: &self.permissions,
            audit: &self.audit,
        }
    }

    async fn apply(
        &self,
        options: &ProtectionOptions,
        dry_run: bool,
        if_match: Option<&str>,
    ) -> Result<ChangeAnswer, ProtectionError> {
        let request = ApplyRequest {
            target: target(dry_run, if_match),
            options,
        };
        self.protection().apply(&writer(), request).await
    }

    async fn set_state(
        &self,
        state: ProtectionState,
        force: bool,
        dry_run: bool,
    ) -> Result<ChangeAnswer, ProtectionError> {
        let request = StateRequest {
            target: target(dry_run, None),
            state,
            force,
        };
        self.protection().set_state(&writer(), request).await
    }

    async fn records(&self) -> Vec<AuditRecord> {
        self.audit
            .query(AuditFilter::default())
            .await
            .expect("audit query")
            .records
    }
}

fn target(dry_run: bool, if_match: Option<&str>) -> WriteTarget<'_> {
    WriteTarget {
        tenant_key: TENANT,
        request_id: None,
        dry_run,
        if_match,
    }
}

fn writer() -> Caller {
    Caller::for_tests(&["SSPR.ReadWrite"])
}

fn applied(answer: ChangeAnswer) -> ProtectionApplied {
    match answer {
        ChangeAnswer::Applied(applied) => *applied,
        ChangeAnswer::Planned(plan) => panic!("a plan, not a change: {plan:?}"),
    }
}

fn planned(answer: ChangeAnswer) -> ProtectionChangePlan {
    match answer {
        ChangeAnswer::Planned(plan) => *plan,
        ChangeAnswer::Applied(applied) => panic!("a change, not a plan: {applied:?}"),
    }
}

fn statuses(attempts: &[WriteAttempt]) -> Vec<WriteStatus> {
    attempts.iter().map(|a| a.status).collect()
}

/// The policy a deploy of `options` makes in a tenant with no other policy, as deployed.
fn deployed(options: &ProtectionOptions, state: ProtectionState, id: &str) -> CaPolicy {
    let valid = options.validate().expect("valid options");
    CaPolicy {
        id: id.to_owned(),
        ..generate(&valid, &Exclusions::default(), state)
    }
}

/// Deploys the defaults in an empty tenant whose next creates fail with `faults`.
async fn deploy_with(faults: &[CreateFault]) -> (World, ProtectionApplied) {
    let world = World::new(FakeConditionalAccess::default(), FakeLicences::premium()).await;
    world.ca.fail_creates(faults);
    let answer = world
        .apply(&ProtectionOptions::default(), false, None)
        .await
        .expect("deployed");
    (world, applied(answer))
}

#[tokio::test]
async fn a_lost_create_that_happened_is_found_and_not_made_again() {
    let (world, answer) = deploy_with(&[CreateFault::LostAfterCreate]).await;

    assert_eq!(world.ca.count("create"), 1, "{:?}", world.ca.calls());
    assert_eq!(world.ca.ours().len(), 1);
    assert_eq!(answer.result, ApplyResult::Created);
    assert_eq!(answer.policy_id, world.ca.ours()[0].id);
    assert_eq!(
        statuses(&answer.attempts),
        [WriteStatus::Failed, WriteStatus::Found]
    );
    let records = world.records().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, Outcome::Succeeded);
}

#[tokio::test]
async fn a_lost_create_that_did_not_happen_is_made_once_more() {
    let (world, answer) = deploy_with(&[CreateFault::FailedBeforeCreate]).await;

    assert_eq!(world.ca.count("create"), 2, "{:?}", world.ca.calls());
    assert_eq!(world.ca.ours().len(), 1);
    assert_eq!(answer.result, ApplyResult::Created);
    assert_eq!(
        statuses(&answer.attempts),
        [
            WriteStatus::Failed,
            WriteStatus::NotFound,
            WriteStatus::Succeeded
        ]
    );
}

#[tokio::test]
async fn a_deploy_retried_never_makes_a_duplicate() {
    let world = World::new(FakeConditionalAccess::default(), FakeLicences::premium()).await;
    // Every answer of the first deploy's creates is lost, the first create happened.
    world
        .ca
        .fail_creates(&[CreateFault::LostAfterCreate, CreateFault::LostAfterCreate]);
    let options = ProtectionOptions::default();
    let first = applied(world.apply(&options, false, None).await.expect("first"));
    // The caller did not trust the answer and sends the same deploy again.
    let again = applied(world.apply(&options, false, None).await.expect("again"));

    assert_eq!(world.ca.count("create"), 1, "{:?}", world.ca.calls());
    assert_eq!(world.ca.ours().len(), 1);
    assert_eq!(again.result, ApplyResult::Unchanged);
    assert_eq!(again.policy_id, first.policy_id);
    assert!(again.attempts.is_empty());
}

#[tokio::test]
async fn a_stale_if_match_is_refused_and_nothing_is_written() {
    let ours = deployed(
        &ProtectionOptions::default(),
        ProtectionState::ReportOnly,
        "ours",
    );
    let world = World::new(
        FakeConditionalAccess::with_policies(vec![ours]),
        FakeLicences::premium(),
    )
    .await;
    let mfa = ProtectionOptions {
        control: ProtectionControl::Mfa,
        ..ProtectionOptions::default()
    };
    let plan = planned(world.apply(&mfa, true, None).await.expect("dry run"));
    // Someone changes the policy after the plan was made.
    world
        .apply(
            &ProtectionOptions {
                control: ProtectionControl::CompliantDevice,
                ..ProtectionOptions::default()
            },
            false,
            None,
        )
        .await
        .expect("the other change");
    let updates = world.ca.count("update");

    let error = world
        .apply(&mfa, false, Some(&plan.etag))
        .await
        .expect_err("stale");

    assert!(
        matches!(
            error,
            ProtectionError::Ops(OpsError::PreconditionFailed { .. })
        ),
        "{error:?}"
    );
    assert_eq!(world.ca.count("update"), updates, "nothing is written");
    assert_eq!(
        world.ca.ours()[0]
            .grant
            .as_ref()
            .expect("grant")
            .built_in_controls,
        ["compliantDevice"]
    );
    let refused = world.records().await;
    assert_eq!(refused[0].outcome, Outcome::Refused);
    assert_eq!(refused[0].error.as_deref(), Some("stale If-Match"));

    // The current version goes through.
    let current = planned(world.apply(&mfa, true, None).await.expect("dry run"));
    let answer = applied(
        world
            .apply(&mfa, false, Some(&current.etag))
            .await
            .expect("current etag"),
    );
    assert_eq!(answer.result, ApplyResult::Updated);
}

#[tokio::test]
async fn without_a_premium_sku_the_answer_is_license_required_and_ca_is_not_called() {
    let world = World::new(
        FakeConditionalAccess::default(),
        FakeLicences::without_premium(),
    )
    .await;

    let plan = world
        .protection()
        .plan(&writer(), TENANT, &ProtectionOptions::default())
        .await
        .expect_err("no licence");
    let deploy = world
        .apply(&ProtectionOptions::default(), false, None)
        .await
        .expect_err("no licence");

    for error in [plan, deploy] {
        assert!(
            matches!(
                error,
                ProtectionError::Ops(OpsError::LicenseRequired { .. })
            ),
            "{error:?}"
        );
    }
    assert!(world.ca.calls().is_empty(), "{:?}", world.ca.calls());
    assert!(world.ca.ours().is_empty());
}

#[tokio::test]
async fn without_the_ca_permission_every_write_is_refused_naming_it_before_any_call() {
    let mut world = World::new(FakeConditionalAccess::default(), FakeLicences::premium()).await;
    world.permissions = FakePermissions::all_but("Policy.ReadWrite.ConditionalAccess");

    let deploy = world
        .apply(&ProtectionOptions::default(), false, None)
        .await
        .expect_err("no permission");
    let dry_run = world
        .apply(&ProtectionOptions::default(), true, None)
        .await
        .expect_err("no permission");
    let promote = world
        .set_state(ProtectionState::Enabled, false, false)
        .await
        .expect_err("no permission");

    for error in [deploy, dry_run, promote] {
        assert!(
            matches!(
                &error,
                ProtectionError::Ops(OpsError::PermissionMissing { missing, .. })
                    if missing == &["Policy.ReadWrite.ConditionalAccess"]
            ),
            "{error:?}"
        );
    }
    assert!(world.ca.calls().is_empty(), "{:?}", world.ca.calls());
}

#[tokio::test]
async fn unreadable_skus_let_the_request_through() {
    let world = World::new(FakeConditionalAccess::default(), FakeLicences::unreadable()).await;

    let plan = world
        .protection()
        .plan(&writer(), TENANT, &ProtectionOptions::default())
        .await
        .expect("let through");

    assert_eq!(world.licences.reads(), 1);
    assert_eq!(world.ca.calls(), ["policies", "namedLocations"]);
    assert!(plan.existing.is_none());
}

#[tokio::test]
async fn changing_what_an_enforced_policy_enforces_needs_force() {
    let ours = deployed(
        &ProtectionOptions::default(),
        ProtectionState::Enabled,
        "ours",
    );
    let world = World::new(
        FakeConditionalAccess::with_policies(vec![ours.clone()]),
        FakeLicences::premium(),
    )
    .await;
    let mfa = ProtectionOptions {
        control: ProtectionControl::Mfa,
        ..ProtectionOptions::default()
    };

    let error = world.apply(&mfa, false, None).await.expect_err("refused");

    let ProtectionError::EnforcedChange { changes, diff } = error else {
        panic!("{error:?}");
    };
    assert!(changes.contains(&"grantControls".to_owned()), "{changes:?}");
    assert!(
        diff.iter()
            .any(|c| c.path == "/grantControls/builtInControls"),
        "{diff:?}"
    );
    assert_eq!(world.ca.count("update"), 0);
    assert_eq!(world.ca.ours(), [ours]);
    assert_eq!(world.records().await[0].outcome, Outcome::Refused);

    let forced = ProtectionOptions { force: true, ..mfa };
    let answer = applied(world.apply(&forced, false, None).await.expect("forced"));
    assert_eq!(answer.result, ApplyResult::Updated);
    assert_eq!(world.ca.count("update"), 1);
    assert_eq!(world.ca.ours()[0].state, PolicyState::Enabled);
}

#[tokio::test]
async fn a_state_change_with_nothing_deployed_is_not_deployed() {
    let world = World::new(FakeConditionalAccess::default(), FakeLicences::premium()).await;

    let error = world
        .set_state(ProtectionState::Enabled, false, false)
        .await
        .expect_err("nothing deployed");

    assert!(
        matches!(&error, ProtectionError::NotDeployed { tenant } if tenant == TENANT),
        "{error:?}"
    );
    assert_eq!(world.ca.count("update"), 0);
    assert!(world.records().await.is_empty(), "nothing was attempted");
}

#[tokio::test]
async fn a_state_change_shows_and_audits_only_the_state() {
    // A deployed policy someone narrowed in the portal: a state-only PATCH leaves that alone,
    // so the answers must not claim to clear it. (Forced: the tenant has no trusted location.)
    let mut ours = deployed(
        &ProtectionOptions::default(),
        ProtectionState::ReportOnly,
        "ours",
    );
    ours.narrowing_conditions = vec!["platforms".into()];
    ours.has_session_controls = true;
    let world = World::new(
        FakeConditionalAccess::with_policies(vec![ours]),
        FakeLicences::premium(),
    )
    .await;
    let only_state = vec![PolicyChange {
        path: "/state".into(),
        before: json!("enabledForReportingButNotEnforced"),
        after: json!("enabled"),
    }];

    let plan = planned(
        world
            .set_state(ProtectionState::Enabled, true, true)
            .await
            .expect("dry run"),
    );
    assert_eq!(plan.diff, only_state);
    assert_eq!(plan.calls.len(), 1);
    assert_eq!(plan.calls[0].body, json!({"state": "enabled"}));

    let answer = applied(
        world
            .set_state(ProtectionState::Enabled, true, false)
            .await
            .expect("promoted"),
    );
    assert_eq!(answer.diff, only_state);
    assert_eq!(answer.changes, ["state"]);
    let records = world.records().await;
    assert_eq!(records[0].outcome, Outcome::Succeeded);
    let audited = &records[0].diff.as_ref().expect("audited diff")["diff"];
    assert_eq!(audited, &json!(only_state));
    let ours = &world.ca.ours()[0];
    assert_eq!(ours.state, PolicyState::Enabled);
    assert_eq!(ours.narrowing_conditions, ["platforms"], "left as it was");
}
