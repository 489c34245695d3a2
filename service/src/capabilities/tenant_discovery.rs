//! Which Entra tenant a verified domain belongs to, from the tenant's OpenID Connect discovery
//! document (public, no token). The Entra adapter implements it ([`crate::directory::discovery`]).

use crate::directory::DirectoryError;

#[async_trait::async_trait]
pub trait TenantDiscovery: Send + Sync {
    /// The id (lower-cased GUID) of the tenant `domain` is verified in; `None` when Entra knows
    /// no tenant by that name.
    async fn tenant_id(&self, domain: &str) -> Result<Option<String>, DirectoryError>;
}
