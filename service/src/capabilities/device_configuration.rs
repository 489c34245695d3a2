//! Intune's device configuration, for the Windows sign-in screen's reset link.

use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::windows_link::ResetLinkInventory;

/// Reads (and deploys) the Intune policies that set `AllowAadPasswordReset`.
#[async_trait::async_trait]
pub trait DeviceConfiguration: Send + Sync {
    /// Every settings-catalog policy and custom OMA-URI profile of the tenant that sets the
    /// value, with their assignments. Without an Intune licence or the permission: the error.
    async fn reset_link_inventory(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<ResetLinkInventory, DirectoryError>;
}
