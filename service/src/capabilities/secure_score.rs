//! Microsoft Secure Score, for the readiness checks' points.

use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::secure_score::ControlScore;

/// Reads the tenant's latest Secure Score.
#[async_trait::async_trait]
pub trait SecureScore: Send + Sync {
    /// The latest score of each control in `controls`, with its profile's `maxScore`, in the
    /// order asked.
    async fn control_scores(
        &self,
        tenant: &ManagedTenant,
        controls: &[&str],
    ) -> Result<Vec<ControlScore>, DirectoryError>;
}
