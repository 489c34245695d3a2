//! The tenant's licences, for the Entra ID P1/P2 gate.

use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::licence::SubscribedSku;

/// Reads what the tenant subscribed to.
#[async_trait::async_trait]
pub trait Licences: Send + Sync {
    /// The tenant's subscribed SKUs with their service plans.
    async fn subscribed_skus(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<Vec<SubscribedSku>, DirectoryError>;
}
