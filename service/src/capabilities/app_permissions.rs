//! What the app may do in a tenant: the application permissions its Graph token grants.

use crate::directory::DirectoryError;
use crate::directory::credentials::GrantedToken;
use crate::directory::tenants::ManagedTenant;

/// Reads the `roles` (and `tid`) of the tenant's Graph tokens.
#[async_trait::async_trait]
pub trait AppPermissions: Send + Sync {
    /// What the tenant's current token grants (the credential's cached token, or a new one).
    async fn granted(&self, tenant: &ManagedTenant) -> Result<GrantedToken, DirectoryError>;

    /// What a token obtained now, by a new credential with an empty cache, grants: a consent
    /// given since the last token shows only in a fresh one.
    async fn fresh(&self, tenant: &ManagedTenant) -> Result<GrantedToken, DirectoryError>;
}
