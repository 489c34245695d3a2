//! What inferring who SSPR is enabled for (from the registration report, for tenants without a
//! portal connector) can say: an enablement, or that the tenant's licences do not allow it.

use super::portal::InferredEnablement;

/// What inference could say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InferenceOutcome {
    Inferred(InferredEnablement),
    /// The registration report needs Entra ID P1 or P2, which the tenant does not have.
    /// `detail` is the directory's message.
    NeedsPremium {
        detail: String,
    },
}
