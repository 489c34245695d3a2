//! The policy capabilities over the real upstreams: [`PolicyDirectory`] over Graph (reads
//! through the shared client and the tenant's app-only credential, planned `PATCH`es) and
//! [`PasswordResetPortal`] over the tenant's portal connector, whose writes are read-modify-write of
//! the whole object, read back and compared, since the portal back end is known to drop some
//! changes silently.

use serde_json::{Value, json};

use super::DirectoryError;
use super::graph::Graph;
use super::policy_calls::{self, GraphPatch};
use super::portal::{PortalBackEnd, PortalConnector};
use super::tenants::ManagedTenant;
use crate::capabilities::password_reset_portal::PasswordResetPortal;
use crate::capabilities::policy_directory::{CallView, PolicyDirectory};
use crate::domain::change::{Intent, PasswordResetPoliciesUpdate};
use crate::domain::inference::InferenceOutcome;
use crate::domain::policy::GraphFacts;
use crate::domain::portal::{OnPremisesSettings, PortalSettings, Scope};

#[async_trait::async_trait]
impl PolicyDirectory for Graph {
    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn policy_facts(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<(GraphFacts, Vec<String>), DirectoryError> {
        Graph::policy_facts(self, tenant).await
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn inferred_enablement(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<InferenceOutcome, DirectoryError> {
        Graph::inferred_enablement(self, tenant).await
    }

    /// Each intent is self-contained: it renders to the whole body to send.
    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn apply(&self, tenant: &ManagedTenant, change: &Intent) -> Result<(), DirectoryError> {
        let GraphPatch { path, body } = policy_calls::graph_patch(change)?;
        self.patch(tenant, &path, &body).await?;
        Ok(())
    }

    fn describe(&self, change: &Intent) -> CallView {
        policy_calls::describe(change)
    }
}

#[async_trait::async_trait]
impl PasswordResetPortal for PortalBackEnd {
    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn settings(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<Option<PortalSettings>, DirectoryError> {
        super::portal::portal_settings(tenant).await
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn write_password_reset_policies(
        &self,
        tenant: &ManagedTenant,
        update: &PasswordResetPoliciesUpdate,
    ) -> Result<(), DirectoryError> {
        let portal = connector(tenant)?;
        let current = portal.settings().await?;
        let intended = update.apply_to(&current);
        let read_back = portal.put_password_reset_policies(&intended).await?;
        let lost = not_kept(update, &intended, &read_back);
        if lost.is_empty() {
            return Ok(());
        }
        Err(not_kept_error(
            "PasswordResetPolicies",
            &lost
                .iter()
                .map(|l| format!("{} (wanted {}, reads {})", l.pointer, l.wanted, l.read))
                .collect::<Vec<_>>()
                .join(", "),
        ))
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn set_password_writeback(
        &self,
        tenant: &ManagedTenant,
        enabled: bool,
    ) -> Result<(), DirectoryError> {
        let read_back = connector(tenant)?
            .put_on_premises(Some(enabled), None)
            .await?;
        check_on_premises("/onPremises/passwordWriteback", enabled, read_back, |o| {
            o.password_writeback
        })
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn set_unlock_without_reset(
        &self,
        tenant: &ManagedTenant,
        enabled: bool,
    ) -> Result<(), DirectoryError> {
        let read_back = connector(tenant)?
            .put_on_premises(None, Some(enabled))
            .await?;
        check_on_premises("/onPremises/unlockWithoutReset", enabled, read_back, |o| {
            o.unlock_without_reset
        })
    }
}

fn connector(tenant: &ManagedTenant) -> Result<&PortalConnector, DirectoryError> {
    // The plan refuses portal fields for tenants without the connector, so this is a bug.
    tenant.portal().ok_or_else(|| {
        DirectoryError::Internal(format!(
            "a portal write was planned for tenant {}, but its portal connector is not configured \
             (tenants[].portal)",
            tenant.id
        ))
    })
}

fn check_on_premises(
    pointer: &str,
    wanted: bool,
    read_back: Option<OnPremisesSettings>,
    field: impl Fn(&OnPremisesSettings) -> bool,
) -> Result<(), DirectoryError> {
    match read_back {
        Some(settings) if field(&settings) == wanted => Ok(()),
        Some(settings) => Err(not_kept_error(
            "OnPremisesPasswordResetPolicies",
            &format!("{pointer} (wanted {wanted}, reads {})", field(&settings)),
        )),
        None => Err(not_kept_error(
            "OnPremisesPasswordResetPolicies",
            &format!("{pointer} (wanted {wanted}, reads no on-premises integration)"),
        )),
    }
}

fn not_kept_error(object: &str, fields: &str) -> DirectoryError {
    DirectoryError::Portal {
        status: 200,
        code: "changeNotKept".into(),
        message: format!(
            "the PUT of {object} succeeded but reading it back shows the change was not kept: \
             {fields}"
        ),
        correlation_id: None,
    }
}

/// A field the update set that reads back otherwise, in the document's names.
#[derive(Debug, PartialEq)]
struct Lost {
    pointer: &'static str,
    wanted: Value,
    read: Value,
}

/// The fields `update` sets whose value in `read_back` differs from `intended`. A scope is
/// compared by kind and group id (the portal names the group itself).
fn not_kept(
    update: &PasswordResetPoliciesUpdate,
    intended: &PortalSettings,
    read_back: &PortalSettings,
) -> Vec<Lost> {
    let mut lost = Vec::new();
    let mut compare = |set: bool, pointer: &'static str, wanted: Value, read: Value| {
        if set && wanted != read {
            lost.push(Lost {
                pointer,
                wanted,
                read,
            });
        }
    };
    let scope = |s: &Scope| match s {
        Scope::None => json!("none"),
        Scope::All => json!("all"),
        Scope::Selected { group_id, .. } => json!(format!("selected {}", group_id.to_lowercase())),
    };
    let (i, r) = (intended, read_back);
    compare(
        update.scope.is_some(),
        "/enablement",
        scope(&i.scope),
        scope(&r.scope),
    );
    compare(
        update.methods_required.is_some(),
        "/authentication/methodsRequired",
        json!(i.methods_required),
        json!(r.methods_required),
    );
    compare(
        update.security_questions_to_register.is_some(),
        "/authentication/securityQuestions/toRegister",
        json!(i.security_questions_to_register),
        json!(r.security_questions_to_register),
    );
    compare(
        update.security_questions_to_reset.is_some(),
        "/authentication/securityQuestions/toReset",
        json!(i.security_questions_to_reset),
        json!(r.security_questions_to_reset),
    );
    let (im, rm) = (i.methods, r.methods);
    for (set, pointer, wanted, read) in [
        (
            update.mobile_app_notification,
            "/methods/mobileAppNotification",
            im.mobile_app_notification,
            rm.mobile_app_notification,
        ),
        (
            update.mobile_app_code,
            "/methods/mobileAppCode",
            im.mobile_app_code,
            rm.mobile_app_code,
        ),
        (update.email, "/methods/email", im.email, rm.email),
        (
            update.mobile_phone,
            "/methods/mobilePhone",
            im.mobile_phone,
            rm.mobile_phone,
        ),
        (
            update.office_phone,
            "/methods/officePhone",
            im.office_phone,
            rm.office_phone,
        ),
        (
            update.security_questions,
            "/methods/securityQuestions",
            im.security_questions,
            rm.security_questions,
        ),
    ] {
        compare(set.is_some(), pointer, json!(wanted), json!(read));
    }
    compare(
        update.require_registration_on_sign_in.is_some(),
        "/registration/requireRegistrationOnSignIn",
        json!(i.require_registration_on_sign_in),
        json!(r.require_registration_on_sign_in),
    );
    compare(
        update.reconfirm_days.is_some(),
        "/registration/reconfirmDays",
        json!(i.reconfirm_days),
        json!(r.reconfirm_days),
    );
    compare(
        update.notify_users_on_reset.is_some(),
        "/notifications/notifyUsersOnReset",
        json!(i.notify_users_on_reset),
        json!(r.notify_users_on_reset),
    );
    compare(
        update.notify_admins_on_admin_reset.is_some(),
        "/notifications/notifyAdminsOnAdminReset",
        json!(i.notify_admins_on_admin_reset),
        json!(r.notify_admins_on_admin_reset),
    );
    compare(
        update.helpdesk_link.is_some(),
        "/customization/helpdeskLink",
        json!(i.helpdesk_link),
        json!(r.helpdesk_link),
    );
    lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::portal::LegacyMethods;

    const GROUP: &str = "3ee3a9de-0a86-4e12-a287-9769accf1ba2";

    fn current() -> PortalSettings {
        PortalSettings {
            scope: Scope::Selected {
                group_id: GROUP.into(),
                group_name: Some("SSPR users".into()),
            },
            methods_required: 2,
            methods: LegacyMethods {
                mobile_app_notification: true,
                mobile_app_code: true,
                email: true,
                mobile_phone: true,
                office_phone: false,
                security_questions: false,
            },
            security_questions_to_register: 5,
            security_questions_to_reset: 3,
            require_registration_on_sign_in: true,
            reconfirm_days: 180,
            notify_users_on_reset: true,
            notify_admins_on_admin_reset: false,
            helpdesk_link: Some("https://help.example".into()),
            on_premises: Some(OnPremisesSettings {
                password_writeback: true,
                unlock_without_reset: false,
                unlock_supported: true,
            }),
        }
    }

    fn selected(id: &str) -> PasswordResetPoliciesUpdate {
        PasswordResetPoliciesUpdate {
            scope: Some(Scope::Selected {
                group_id: id.into(),
                group_name: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn an_empty_update_changes_nothing() {
        assert_eq!(
            PasswordResetPoliciesUpdate::default().apply_to(&current()),
            current()
        );
    }

    #[test]
    fn apply_to_sets_only_the_fields_the_update_names() {
        let update = PasswordResetPoliciesUpdate {
            scope: Some(Scope::All),
            reconfirm_days: Some(0),
            email: Some(false),
            helpdesk_link: Some(None),
            ..Default::default()
        };
        let expected = PortalSettings {
            scope: Scope::All,
            reconfirm_days: 0,
            methods: LegacyMethods {
                email: false,
                ..current().methods
            },
            helpdesk_link: None,
            ..current()
        };
        assert_eq!(update.apply_to(&current()), expected);
    }

    #[test]
    fn the_same_group_keeps_its_name_and_a_new_group_has_none() {
        let same = selected(&GROUP.to_uppercase()).apply_to(&current());
        assert_eq!(
            same.scope,
            Scope::Selected {
                group_id: GROUP.to_uppercase(),
                group_name: Some("SSPR users".into())
            }
        );
        let other = selected("0b1d3c5e-0000-4000-8000-000000000001").apply_to(&current());
        assert_eq!(
            other.scope,
            Scope::Selected {
                group_id: "0b1d3c5e-0000-4000-8000-000000000001".into(),
                group_name: None
            }
        );
    }

    #[test]
    fn changes_the_portal_dropped_are_named_with_both_values() {
        let update = PasswordResetPoliciesUpdate {
            reconfirm_days: Some(90),
            mobile_app_code: Some(false),
            ..Default::default()
        };
        let intended = update.apply_to(&current());
        assert_eq!(not_kept(&update, &intended, &intended), []);
        // The portal kept the days, dropped the method, and changed a field nobody asked for.
        let read_back = PortalSettings {
            notify_users_on_reset: false,
            methods: current().methods,
            ..intended.clone()
        };
        assert_eq!(
            not_kept(&update, &intended, &read_back),
            [Lost {
                pointer: "/methods/mobileAppCode",
                wanted: json!(false),
                read: json!(true),
            }]
        );
    }

    #[test]
    fn a_scope_is_compared_by_kind_and_group_not_by_name() {
        let update = selected(GROUP);
        let intended = update.apply_to(&current());
        let renamed = PortalSettings {
            scope: Scope::Selected {
                group_id: GROUP.into(),
                group_name: Some("Renamed".into()),
            },
            ..intended.clone()
        };
        assert_eq!(not_kept(&update, &intended, &renamed), []);
        let all = PortalSettings {
            scope: Scope::All,
            ..intended.clone()
        };
        assert_eq!(
            not_kept(&update, &intended, &all)
                .iter()
                .map(|l| l.pointer)
                .collect::<Vec<_>>(),
            ["/enablement"]
        );
    }

    #[test]
    fn on_premises_read_back_is_checked() {
        let on = Some(OnPremisesSettings {
            password_writeback: true,
            unlock_without_reset: false,
            unlock_supported: true,
        });
        assert!(
            check_on_premises("/onPremises/passwordWriteback", true, on, |o| o
                .password_writeback)
            .is_ok()
        );
        let error = check_on_premises("/onPremises/unlockWithoutReset", true, on, |o| {
            o.unlock_without_reset
        })
        .expect_err("unlock dropped");
        assert!(
            matches!(&error, DirectoryError::Portal { code, .. } if code == "changeNotKept"),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("/onPremises/unlockWithoutReset (wanted true, reads false)"),
            "{error}"
        );
        assert!(
            check_on_premises("/onPremises/passwordWriteback", true, None, |o| o
                .password_writeback)
            .is_err()
        );
    }
}
