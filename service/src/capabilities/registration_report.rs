//! The tenant's registration report: who registered which authentication methods.

use futures::stream::BoxStream;

use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::registrations::Registration;

/// Reads the per-user registration report (needs Entra ID P1/P2 in the tenant).
pub trait RegistrationReport: Send + Sync {
    /// Every user of the report, in the report's order, as its pages arrive; a failed page ends
    /// the stream with its error. Memory stays flat whatever the tenant's size.
    fn registrations<'a>(
        &'a self,
        tenant: &'a ManagedTenant,
    ) -> BoxStream<'a, Result<Registration, DirectoryError>>;
}
