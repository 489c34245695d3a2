//! The portal back end's side of the tenant's SSPR policy: the settings only the Entra portal
//! holds (who SSPR is enabled for, legacy methods, registration, notifications, on-premises
//! integration), read and written through the tenant's portal connector.

use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::change::PasswordResetPoliciesUpdate;
use crate::domain::portal;

/// Reads and writes the portal back end's SSPR settings. Every write reads back and fails with
/// `changeNotKept` when the portal answered success but dropped the change.
#[async_trait::async_trait]
pub trait PasswordResetPortal: Send + Sync {
    /// The settings, or `None` when the tenant has no portal connector.
    async fn settings(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<Option<portal::PortalSettings>, DirectoryError>;

    /// Sets the fields `update` names in the password-reset object, keeping every other field
    /// as the portal holds it.
    async fn write_password_reset_policies(
        &self,
        tenant: &ManagedTenant,
        update: &PasswordResetPoliciesUpdate,
    ) -> Result<(), DirectoryError>;

    /// Turns password writeback on or off.
    async fn set_password_writeback(
        &self,
        tenant: &ManagedTenant,
        enabled: bool,
    ) -> Result<(), DirectoryError>;

    /// Turns unlocking accounts without a password reset on or off.
    async fn set_unlock_without_reset(
        &self,
        tenant: &ManagedTenant,
        enabled: bool,
    ) -> Result<(), DirectoryError>;
}
