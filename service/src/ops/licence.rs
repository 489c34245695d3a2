//! The Entra ID P1/P2 gate in front of every feature that needs it (the registration report,
//! Conditional Access). The verdict comes from the tenant's subscribed SKUs and is kept on the
//! tenant for an hour, so a fleet-wide read costs one SKU read per tenant per hour.

use std::time::{Duration, Instant};

use super::OpsError;
use crate::capabilities::licences::Licences;
use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::licence::{self, Licence, REQUIRED};

/// How long a verdict is reused. Licences change rarely; a tenant that just bought P1 waits at
/// most this long (and a report that answers anyway is read regardless).
const REUSE: Duration = Duration::from_secs(3600);

/// Fails with `licenseRequired` unless the tenant's SKUs include Entra ID P1 or P2. A tenant
/// whose SKUs cannot be read (no licence-reading permission) is let through: Graph's own 403
/// then decides (see [`from_report_error`]).
pub(crate) async fn ensure_licensed(
    licences: &dyn Licences,
    tenant: &ManagedTenant,
) -> Result<(), OpsError> {
    let known = tenant
        .licence
        .lock()
        .expect("licence verdict")
        .as_ref()
        .filter(|(at, _)| at.elapsed() < REUSE)
        .map(|(_, verdict)| verdict.clone());
    let verdict = match known {
        Some(verdict) => verdict,
        None => match licences.subscribed_skus(tenant).await {
            Ok(skus) => {
                let verdict = licence::licence(&skus);
                remember(tenant, verdict.clone());
                verdict
            }
            Err(DirectoryError::Upstream { status: 403, .. }) => {
                tracing::warn!(tenant = %tenant.id, "cannot read subscribedSkus (LicenseAssignment.Read.All not granted?); Graph's answers decide about the licence");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        },
    };
    match verdict {
        Licence::Premium { .. } => Ok(()),
        Licence::Missing { detail } => Err(license_required(tenant, detail)),
    }
}

/// A Graph error as the caller should see it: Graph's "no premium licence" 403
/// (`Authentication_RequestFromNonPremiumTenantOrB2CTenant`) is `licenseRequired`, and becomes
/// the tenant's remembered verdict.
pub(crate) fn from_report_error(tenant: &ManagedTenant, error: DirectoryError) -> OpsError {
    if error.is_licence_refusal() {
        remember(
            tenant,
            Licence::Missing {
                detail: REQUIRED.to_owned(),
            },
        );
        license_required(tenant, REQUIRED.to_owned())
    } else {
        error.into()
    }
}

fn remember(tenant: &ManagedTenant, verdict: Licence) {
    *tenant.licence.lock().expect("licence verdict") = Some((Instant::now(), verdict));
}

fn license_required(tenant: &ManagedTenant, detail: String) -> OpsError {
    OpsError::LicenseRequired {
        tenant: tenant.primary_domain().to_owned(),
        detail,
    }
}
