//! Use cases: what a verified caller asks of a tenant, with access checked here, once.

pub mod access;
pub mod audit;
mod audited;
pub mod cache;
pub mod cursor;
#[cfg(test)]
pub(crate) mod fake_audit_log;
#[cfg(test)]
pub(crate) mod fakes;
mod licence;
pub mod onboarding;
pub mod partner;
pub mod policy;
pub mod protection;
pub mod readiness;
pub mod registrations;
pub mod tenants;
pub mod windows_link;

use std::sync::Arc;

use crate::auth::{Caller, Verb};
use crate::capabilities::app_permissions::AppPermissions;
use crate::directory::DirectoryError;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};
use sspr_api::tenants::TenantRef;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("unknown tenant {0}")]
    UnknownTenant(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error("the change needs If-Match with the ETag of the policy it was based on")]
    PreconditionRequired,
    #[error("the policy changed since it was read")]
    PreconditionFailed { current: String },
    #[error("{0}")]
    Change(crate::domain::change::ChangeError),
    #[error("the change breaks {} rule(s)", .0.len())]
    Invalid(Vec<crate::domain::rules::Violation>),
    #[error("the change failed: {error}")]
    ApplyFailed {
        error: DirectoryError,
        /// Every completed step was undone.
        rolled_back: bool,
        steps: Vec<policy::StepReport>,
    },
    #[error("the audit store failed: {0}")]
    Store(crate::store::StoreError),
    /// The tenant lacks the licence a feature needs; `detail` names what is missing.
    #[error("tenant {tenant} needs {detail}")]
    LicenseRequired { tenant: String, detail: String },
    /// A paging cursor that is not this service's, or not for this tenant and query.
    #[error("{0}")]
    BadCursor(String),
    /// A request member is malformed; `field` names it.
    #[error("{field}: {detail}")]
    BadInput { field: String, detail: String },
    /// The request is well-formed but cannot be done as asked (`slug` says why, `field` where).
    #[error("{detail}")]
    Unusable {
        slug: &'static str,
        title: &'static str,
        field: String,
        detail: String,
    },
    /// No such thing (other than a tenant) exists.
    #[error("{detail}")]
    NotFound { what: &'static str, detail: String },
    /// The request conflicts with what exists (`tenant-exists`, `tenant-read-only`).
    #[error("{detail}")]
    Conflict { slug: &'static str, detail: String },
    /// A fault of the service itself; the text goes to the log.
    #[error("{0}")]
    Internal(String),
    /// The tenant has not granted the app an application permission the operation needs.
    #[error("tenant {tenant} has not granted {}", .missing.join(", "))]
    PermissionMissing {
        tenant: String,
        feature: sspr_api::tenants::Feature,
        missing: Vec<String>,
    },
}

/// The tenant granted what `feature` needs (by its last verification, else its current
/// token), or the operation stops here, before any write, naming the permissions to consent
/// to; after a new consent, `verify` again.
pub async fn require_feature(
    permissions: &dyn AppPermissions,
    tenant: &ManagedTenant,
    feature: sspr_api::tenants::Feature,
) -> Result<(), OpsError> {
    // The kept verdict, when a token was issued for it, is the latest deliberate look at the
    // consent: it wins over a cached token that may predate a consent withdrawn since.
    let verified = tenant
        .verification
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .filter(|v| v.token_issued)
        .map(|v| v.granted_permissions.iter().cloned().collect());
    let granted = match verified {
        Some(granted) => granted,
        None => permissions.granted(tenant).await?.permissions,
    };
    let check = crate::domain::tenancy::check_feature(feature, &granted);
    if check.available {
        Ok(())
    } else {
        Err(OpsError::PermissionMissing {
            tenant: tenant.primary_domain().to_owned(),
            feature,
            missing: check.missing_permissions,
        })
    }
}

/// The caller's verb on the tenant named `key`, or why not. A tenant the caller has no grant
/// for answers exactly as one that does not exist: a caller learns nothing of other tenants.
pub fn authorize(
    registry: &TenantRegistry,
    caller: &Caller,
    verb: Verb,
    key: &str,
) -> Result<Arc<ManagedTenant>, OpsError> {
    require(caller, verb)?;
    let tenant = registry
        .find(key)
        .filter(|tenant| caller.may_access(tenant.as_ref()))
        .ok_or_else(|| OpsError::UnknownTenant(key.to_owned()))?;
    if !caller.may_act(tenant.as_ref(), verb) {
        return Err(OpsError::Forbidden(format!(
            "{} may only read tenant {}: its access grant does not give {}.",
            caller.display(),
            tenant.primary_domain(),
            verb.role_name()
        )));
    }
    Ok(tenant)
}

/// The caller administers the whole fleet (`SSPR.Admin` and a grant of every tenant), which
/// `what` needs: a caller scoped to some tenants must not widen its own scope.
pub fn require_fleet_admin(caller: &Caller, what: &str) -> Result<(), OpsError> {
    if caller.administers_fleet() {
        Ok(())
    } else {
        Err(OpsError::Forbidden(format!(
            "{what} needs the app role SSPR.Admin and an access grant of every tenant (*); {} has {}.",
            caller.display(),
            if caller.may(Verb::Admin) {
                "SSPR.Admin on some tenants only"
            } else {
                "a lesser role"
            }
        )))
    }
}

/// The caller holds a role that grants `verb`.
pub fn require(caller: &Caller, verb: Verb) -> Result<(), OpsError> {
    if caller.may(verb) {
        Ok(())
    } else {
        Err(OpsError::Forbidden(format!(
            "This needs the app role {} (or a higher one); the token has {}.",
            verb.role_name(),
            if caller.roles.is_empty() {
                "none".to_owned()
            } else {
                caller.roles.join(", ")
            }
        )))
    }
}

/// How answers name `tenant`.
pub(crate) fn tenant_ref(tenant: &ManagedTenant) -> TenantRef {
    TenantRef {
        id: tenant.id.clone(),
        domain: tenant.primary_domain().to_owned(),
        display_name: tenant.display_name.clone(),
    }
}

/// How an ETag list is compared with the current ETag (RFC 9110 §8.8.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtagComparison {
    /// `If-Match`: a weak ETag never matches.
    Strong,
    /// `If-None-Match`: `W/"x"` matches `"x"`.
    Weak,
}

/// Whether the `If-Match` or `If-None-Match` list `tags` names `current`; `*` names any current
/// version (RFC 9110 §13.1.1, §13.1.2). The one comparison of ETags for every layer.
pub fn etag_matches(tags: &str, current: &str, comparison: EtagComparison) -> bool {
    tags.split(',').map(str::trim).any(|tag| {
        tag == "*"
            || match comparison {
                EtagComparison::Strong => tag == current,
                EtagComparison::Weak => tag.trim_start_matches("W/") == current,
            }
    })
}

/// A strong ETag of `value`'s JSON: it changes exactly when the JSON does.
pub(crate) fn strong_etag(value: &impl serde::Serialize) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &json);
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Runs a change to its end even if the request that asked for it goes away (the client
/// disconnects, a server timeout answers first): a change cut between its upstream calls would
/// leave the tenant half-changed, without the undo and without its audit record. The answer is
/// lost then, not the change; the audit trail says how it ended.
pub async fn run_to_completion<T, F>(change: F) -> T
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    // In the request's span, so that the change's log lines (the adapters' too) keep its
    // request id and tenant.
    match tokio::spawn(tracing::Instrument::in_current_span(change)).await {
        Ok(answer) => answer,
        // A panic in the change: let it surface to the request as it would have without the
        // task (the router turns it into a 500 problem).
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

#[cfg(test)]
mod tests {
    use tracing::Instrument as _;

    use super::*;

    #[tokio::test]
    async fn a_change_run_to_completion_stays_in_the_requests_span() {
        let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
        let request = tracing::info_span!("request", request_id = "req-1");
        let inside = run_to_completion(async { tracing::Span::current().id() })
            .instrument(request.clone())
            .await;
        assert!(request.id().is_some());
        assert_eq!(inside, request.id());
    }
}
