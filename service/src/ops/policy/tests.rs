//! The policy change use case against an in-memory tenant: undo in every position, undo that
//! fails, writes the tenant does not keep, the `If-Match` preconditions and races, no-op patches
//! and dry runs, each with the audit record it leaves. Milliseconds, no network.

use std::sync::Mutex;

use serde_json::{Value, json};

use super::*;
use crate::capabilities::password_reset_portal::PasswordResetPortal;
use crate::capabilities::policy_directory::PolicyDirectory;
use crate::config::PolicyConfig;
use crate::domain::change::{PasswordResetPoliciesUpdate, fixtures};
use crate::domain::methods::MigrationState;
use crate::domain::portal;
use crate::store::Store;
use crate::store::audit::{AuditFilter, AuditRecord};

const TENANT: &str = "2b0fd2c1-4b39-4b2b-a8a3-8f1b3d3a7c11";

/// A tenant held in memory, answering as both Graph and the portal back end. Every write is
/// counted (calls and undos alike, from 1) and logged, so a test can make the n-th write fail
/// and see the order the calls came in.
struct FakeTenant {
    state: Mutex<State>,
}

struct State {
    facts: GraphFacts,
    portal: Option<portal::PortalSettings>,
    /// The writes made, in order, as `what=value`, with `!` in front when it failed.
    log: Vec<String>,
    writes: usize,
    /// The ordinals of the writes that fail.
    failing: Vec<usize>,
    /// Writes answer success but change nothing (a tenant that silently drops changes).
    dropping: bool,
}

impl FakeTenant {
    /// Pre-migration, synchronized, licensed for writeback, portal connected, admins without SSPR.
    fn new() -> FakeTenant {
        FakeTenant {
            state: Mutex::new(State {
                facts: GraphFacts {
                    methods_policy: fixtures::methods_policy(MigrationState::PreMigration),
                    admin_sspr_allowed: false,
                    entra_premium: true,
                    on_premises_sync_enabled: Some(true),
                    last_sync_date_time: None,
                },
                portal: Some(fixtures::portal()),
                log: Vec::new(),
                writes: 0,
                failing: Vec::new(),
                dropping: false,
            }),
        }
    }

    fn failing(self, writes: &[usize]) -> FakeTenant {
        self.state.lock().unwrap().failing = writes.to_vec();
        self
    }

    fn dropping(self) -> FakeTenant {
        self.state.lock().unwrap().dropping = true;
        self
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    /// What the tenant holds, to compare before and after.
    fn held(&self) -> (bool, Option<portal::PortalSettings>) {
        let state = self.state.lock().unwrap();
        (state.facts.admin_sspr_allowed, state.portal.clone())
    }

    fn write(&self, what: String, change: impl FnOnce(&mut State)) -> Result<(), DirectoryError> {
        let mut state = self.state.lock().unwrap();
        state.writes += 1;
        if state.failing.contains(&state.writes) {
            state.log.push(format!("!{what}"));
            return Err(DirectoryError::Upstream {
                status: 500,
                code: "injected".into(),
                message: format!("write {} fails", state.writes),
                request_id: None,
            });
        }
        state.log.push(what);
        if !state.dropping {
            change(&mut state);
        }
        Ok(())
    }

    fn upstream(&self) -> Upstream<'_> {
        Upstream {
            directory: self,
            portal: self,
        }
    }
}

#[async_trait::async_trait]
impl PolicyDirectory for FakeTenant {
    async fn policy_facts(
        &self,
        _tenant: &ManagedTenant,
    ) -> Result<(GraphFacts, Vec<String>), DirectoryError> {
        // A real read takes a while: let concurrent requests interleave here.
        tokio::task::yield_now().await;
        let facts = self.state.lock().unwrap().facts.clone();
        Ok((facts, vec!["graph-read".into()]))
    }

    async fn inferred_enablement(
        &self,
        _tenant: &ManagedTenant,
    ) -> Result<InferenceOutcome, DirectoryError> {
        Err(DirectoryError::Internal(
            "the fake tenant has a portal connector".into(),
        ))
    }

    async fn apply(&self, _tenant: &ManagedTenant, change: &Intent) -> Result<(), DirectoryError> {
        let Intent::SetAdminSspr(allowed) = *change else {
            return Err(DirectoryError::Internal(format!("not faked: {change:?}")));
        };
        self.write(format!("admin={allowed}"), |s| {
            s.facts.admin_sspr_allowed = allowed;
        })
    }

    /// The intent itself stands for the call: the wire format is the adapter's, tested there.
    fn describe(&self, change: &Intent) -> CallView {
        CallView {
            target: change.target(),
            method: "FAKE".into(),
            path: "/fake".into(),
            description: format!("{change:?}"),
            body: Value::Null,
        }
    }
}

#[async_trait::async_trait]
impl PasswordResetPortal for FakeTenant {
    async fn settings(
        &self,
        _tenant: &ManagedTenant,
    ) -> Result<Option<portal::PortalSettings>, DirectoryError> {
        Ok(self.state.lock().unwrap().portal.clone())
    }

    async fn write_password_reset_policies(
        &self,
        _tenant: &ManagedTenant,
        update: &PasswordResetPoliciesUpdate,
    ) -> Result<(), DirectoryError> {
        self.write("policies".into(), |s| {
            s.portal = s.portal.as_ref().map(|p| update.apply_to(p));
        })
    }

    async fn set_password_writeback(
        &self,
        _tenant: &ManagedTenant,
        enabled: bool,
    ) -> Result<(), DirectoryError> {
        self.write(format!("writeback={enabled}"), |s| {
            on_premises(s).password_writeback = enabled;
        })
    }

    async fn set_unlock_without_reset(
        &self,
        _tenant: &ManagedTenant,
        enabled: bool,
    ) -> Result<(), DirectoryError> {
        self.write(format!("unlock={enabled}"), |s| {
            on_premises(s).unlock_without_reset = enabled;
        })
    }
}

fn on_premises(state: &mut State) -> &mut portal::OnPremisesSettings {
    state
        .portal
        .as_mut()
        .and_then(|p| p.on_premises.as_mut())
        .expect("the fake tenant has on-premises integration")
}

/// The use case's surroundings: one tenant, an admin caller, a real store in a temporary file.
struct World {
    policies: Policies,
    registry: TenantRegistry,
    store: Store,
    caller: Caller,
    _directory: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let directory = tempfile::tempdir().expect("temporary directory");
        let store = Store::open(directory.path().join("audit.db"))
            .await
            .expect("store opens");
        World {
            policies: Policies::new(&PolicyConfig::default()),
            registry: TenantRegistry::for_tests(vec![ManagedTenant::for_tests(
                TENANT,
                "contoso.example",
            )]),
            store,
            caller: Caller::for_tests(&["SSPR.ReadWrite"]),
            _directory: directory,
        }
    }

    async fn etag(&self, tenant: &FakeTenant) -> String {
        read(
            &self.policies,
            &self.registry,
            tenant.upstream(),
            &self.caller,
            TENANT,
            Some(Duration::ZERO),
        )
        .await
        .expect("the policy reads")
        .value
        .etag
        .clone()
    }

    async fn patch(
        &self,
        tenant: &FakeTenant,
        patch: &Value,
        if_match: Option<&str>,
        dry_run: bool,
    ) -> Result<PatchOutcome, OpsError> {
        let request = PatchRequest {
            tenant_key: TENANT,
            patch,
            if_match,
            dry_run,
            request_id: Some("request-1".into()),
        };
        super::patch(
            &self.policies,
            &self.registry,
            tenant.upstream(),
            &self.store.audit(),
            &self.caller,
            request,
        )
        .await
    }

    /// Reads the policy and patches it with the ETag read: a change based on the current policy.
    async fn change(&self, tenant: &FakeTenant, patch: &Value) -> Result<PatchOutcome, OpsError> {
        let etag = self.etag(tenant).await;
        self.patch(tenant, patch, Some(&etag), false).await
    }

    async fn audit(&self) -> Vec<AuditRecord> {
        self.store
            .audit()
            .query(AuditFilter::default())
            .await
            .expect("the audit reads")
            .records
    }

    async fn outcomes(&self) -> Vec<Outcome> {
        self.audit().await.iter().map(|r| r.outcome).collect()
    }
}

/// Four steps, Graph first: admins' SSPR on, the portal's password-reset object, writeback on,
/// unlock on.
fn four_steps() -> Value {
    json!({
        "administrators": { "allowedToUseSspr": true },
        "notifications": { "notifyAdminsOnAdminReset": false },
        "onPremises": { "passwordWriteback": true, "unlockWithoutReset": true },
    })
}

const FOUR_CALLS: [&str; 4] = ["admin=true", "policies", "writeback=true", "unlock=true"];
const FOUR_UNDOS: [&str; 4] = ["admin=false", "policies", "writeback=false", "unlock=false"];

fn statuses(error: &OpsError) -> (bool, Vec<StepStatus>) {
    match error {
        OpsError::ApplyFailed {
            rolled_back, steps, ..
        } => (*rolled_back, steps.iter().map(|s| s.status).collect()),
        other => panic!("expected a failed change, got {other:?}"),
    }
}

#[tokio::test]
async fn the_plan_makes_four_calls_in_order_and_the_tenant_keeps_them() {
    let world = World::new().await;
    let tenant = FakeTenant::new();
    let etag = world.etag(&tenant).await;
    let outcome = world.change(&tenant, &four_steps()).await.expect("applied");
    let PatchOutcome::Applied { read, .. } = outcome else {
        panic!("not a dry run");
    };
    assert_ne!(read.etag, etag, "the document changed");
    assert_eq!(tenant.log(), FOUR_CALLS);
    let (admin, portal) = tenant.held();
    assert!(admin);
    let on_premises = portal.expect("portal").on_premises.expect("on-premises");
    assert!(on_premises.password_writeback && on_premises.unlock_without_reset);
    assert_eq!(world.outcomes().await, [Outcome::Succeeded]);
}

#[tokio::test]
async fn a_failing_step_undoes_the_completed_ones_last_first_whichever_it_is() {
    for failing in 1..=4 {
        let world = World::new().await;
        let tenant = FakeTenant::new().failing(&[failing]);
        let held = tenant.held();
        let error = world
            .change(&tenant, &four_steps())
            .await
            .err()
            .expect("the change fails");

        let (rolled_back, reported) = statuses(&error);
        assert!(rolled_back, "step {failing}");
        let mut expected = vec![StepStatus::Undone; failing - 1];
        expected.push(StepStatus::Failed);
        expected.extend(vec![StepStatus::NotRun; 4 - failing]);
        assert_eq!(reported, expected, "step {failing}");

        let mut calls: Vec<String> = FOUR_CALLS[..failing]
            .iter()
            .map(|c| c.to_string())
            .collect();
        calls[failing - 1].insert(0, '!');
        calls.extend(
            FOUR_UNDOS[..failing - 1]
                .iter()
                .rev()
                .map(|c| c.to_string()),
        );
        assert_eq!(tenant.log(), calls, "step {failing}");
        assert_eq!(
            tenant.held(),
            held,
            "step {failing}: the tenant is as before"
        );

        let audit = world.audit().await;
        assert_eq!(audit.len(), 1, "step {failing}");
        assert_eq!(audit[0].outcome, Outcome::RolledBack, "step {failing}");
        let compensation = audit[0].compensation.as_ref().expect("the steps are kept");
        assert_eq!(
            compensation[failing - 1]["status"],
            "failed",
            "step {failing}"
        );
    }
}

#[tokio::test]
async fn an_undo_that_fails_is_reported_and_the_change_audited_as_failed() {
    let world = World::new().await;
    // Write 3 (writeback) fails; write 4, the undo of step 2 (the portal object), fails too.
    let tenant = FakeTenant::new().failing(&[3, 4]);
    let error = world
        .change(&tenant, &four_steps())
        .await
        .err()
        .expect("the change fails");
    assert_eq!(
        statuses(&error),
        (
            false,
            vec![
                StepStatus::Undone,
                StepStatus::UndoFailed,
                StepStatus::Failed,
                StepStatus::NotRun
            ]
        )
    );
    assert_eq!(
        tenant.log(),
        [
            "admin=true",
            "policies",
            "!writeback=true",
            "!policies",
            "admin=false"
        ]
    );
    let audit = world.audit().await;
    assert_eq!(audit[0].outcome, Outcome::Failed);
    assert_eq!(
        audit[0].compensation.as_ref().expect("steps")[1]["status"],
        "undoFailed"
    );
}

#[tokio::test]
async fn a_write_the_tenant_does_not_keep_is_undone() {
    let world = World::new().await;
    let tenant = FakeTenant::new().dropping();
    let error = world
        .change(&tenant, &json!({ "registration": { "reconfirmDays": 90 } }))
        .await
        .err()
        .expect("the change is not kept");
    assert!(
        error
            .to_string()
            .contains("the tenant did not keep /registration/reconfirmDays"),
        "{error}"
    );
    assert_eq!(statuses(&error), (true, vec![StepStatus::Undone]));
    assert_eq!(
        tenant.log(),
        ["policies", "policies"],
        "written, then undone"
    );
    assert_eq!(world.outcomes().await, [Outcome::RolledBack]);
}

#[tokio::test]
async fn a_stale_if_match_writes_nothing_and_is_audited_as_refused() {
    let world = World::new().await;
    let tenant = FakeTenant::new();
    let current = world.etag(&tenant).await;
    let error = world
        .patch(&tenant, &four_steps(), Some("\"stale\""), false)
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(&error, OpsError::PreconditionFailed { current: c } if *c == current),
        "{error:?}"
    );
    assert!(tenant.log().is_empty());
    assert_eq!(world.outcomes().await, [Outcome::Refused]);
}

#[tokio::test]
async fn a_missing_or_wildcard_if_match_is_required_and_writes_nothing() {
    let world = World::new().await;
    let tenant = FakeTenant::new();
    let etag = world.etag(&tenant).await;
    for if_match in [None, Some("*"), Some(&*format!("{etag}, *"))] {
        let error = world
            .patch(&tenant, &four_steps(), if_match, false)
            .await
            .err()
            .expect("refused");
        assert!(
            matches!(error, OpsError::PreconditionRequired),
            "{if_match:?}: {error:?}"
        );
    }
    assert!(tenant.log().is_empty());
    assert!(world.audit().await.is_empty());
}

#[tokio::test]
async fn a_patch_that_changes_nothing_writes_nothing_and_is_audited_as_no_change() {
    let world = World::new().await;
    let tenant = FakeTenant::new();
    let etag = world.etag(&tenant).await;
    let outcome = world
        .change(
            &tenant,
            &json!({ "registration": { "reconfirmDays": 180 } }),
        )
        .await
        .expect("nothing to change");
    let PatchOutcome::Applied {
        read,
        audit_record_id,
    } = outcome
    else {
        panic!("not a dry run");
    };
    assert_eq!(read.etag, etag);
    assert!(tenant.log().is_empty());
    let audit = world.audit().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].id, audit[0].outcome),
        (audit_record_id, Outcome::NoChange)
    );
}

#[tokio::test]
async fn a_dry_run_plans_without_writing_or_auditing() {
    let world = World::new().await;
    let tenant = FakeTenant::new();
    let etag = world.etag(&tenant).await;
    let outcome = world
        .patch(&tenant, &four_steps(), Some(&etag), true)
        .await
        .expect("planned");
    let PatchOutcome::DryRun(plan) = outcome else {
        panic!("a dry run");
    };
    assert_eq!(plan.steps.len(), 4);
    assert_eq!(plan.changes.len(), 4);
    assert!(tenant.log().is_empty());
    assert!(world.audit().await.is_empty());
    // The findings the policy would have, as the answer shows them: admins' SSPR on is one.
    let answer = serde_json::to_value(&plan).expect("a dry run serializes");
    let admins = answer["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["field"] == "/administrators/allowedToUseSspr")
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(admins["severity"], "medium");
}

#[tokio::test]
async fn of_two_concurrent_patches_with_one_etag_only_the_first_is_made() {
    let world = World::new().await;
    let tenant = FakeTenant::new();
    let etag = world.etag(&tenant).await;
    let writeback = json!({ "onPremises": { "passwordWriteback": true } });
    let admins = json!({ "administrators": { "allowedToUseSspr": true } });
    let (first, second) = tokio::join!(
        world.patch(&tenant, &writeback, Some(&etag), false),
        world.patch(&tenant, &admins, Some(&etag), false),
    );
    let results = [first.is_ok(), second.is_ok()];
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "{results:?}");
    let refused = [first, second]
        .into_iter()
        .find_map(Result::err)
        .expect("one refused");
    assert!(
        matches!(refused, OpsError::PreconditionFailed { .. }),
        "{refused:?}"
    );
    assert_eq!(tenant.log().len(), 1, "{:?}", tenant.log());
    let mut outcomes = world.outcomes().await;
    outcomes.sort_by_key(|o| o.as_str());
    assert_eq!(outcomes, [Outcome::Refused, Outcome::Succeeded]);
}

#[tokio::test]
async fn a_weak_if_match_does_not_match_and_writes_nothing() {
    let world = World::new().await;
    let tenant = FakeTenant::new();
    let etag = world.etag(&tenant).await;
    let weak = format!("W/{etag}");
    let error = world
        .patch(&tenant, &four_steps(), Some(&weak), false)
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(error, OpsError::PreconditionFailed { .. }),
        "{error:?}"
    );
    assert!(tenant.log().is_empty());
    // The same ETag listed among others matches.
    let listed = format!("\"other\", {etag}");
    assert!(
        world
            .patch(&tenant, &four_steps(), Some(&listed), false)
            .await
            .is_ok()
    );
}
