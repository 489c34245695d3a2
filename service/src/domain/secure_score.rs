//! Secure Score's two controls of the SSPR guide (msp-readiness.md §4): `SelfServicePasswordReset`
//! and `MFARegistrationV2`. Their `maxScore` is read from the control profile at run time, never
//! assumed.

/// The control that scores self-service password reset.
pub const SSPR_CONTROL: &str = "SelfServicePasswordReset";
/// The control that scores MFA registration.
pub const MFA_REGISTRATION_CONTROL: &str = "MFARegistrationV2";

/// One control's latest score.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlScore {
    /// The control's name (`controlName`, the profile's id).
    pub control: String,
    /// The points the tenant has; absent when the latest score does not list the control.
    pub score: Option<f64>,
    /// The profile's `maxScore`; absent when the profile could not be read.
    pub max_score: Option<f64>,
    /// Secure Score's `count` and `total` (sent as strings; absent when not numbers).
    pub count: Option<u64>,
    pub total: Option<u64>,
    /// Secure Score's own sentence, as sent.
    pub implementation_status: Option<String>,
}
