//! The tenants: how every answer names the tenant it is about, how the service signs in to each,
//! and the verification of what it may do there.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantRef {
    pub id: String,
    /// The tenant's first configured domain.
    pub domain: String,
    pub display_name: String,
}

/// A managed tenant: who it is, where it was defined, its tags, how the service signs in to it
/// and whether that works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::tenant_summary))]
pub struct TenantSummary {
    pub id: String,
    /// The primary domain.
    pub domain: String,
    pub display_name: String,
    /// Every domain the tenant can be named by.
    pub domains: Vec<String>,
    /// `config`: defined in the configuration file.
    pub origin: TenantOrigin,
    /// Labels such as `region:eu` or `tier:gold`; `tag:region:eu` selects by them wherever a list
    /// of tenants is accepted.
    pub tags: Vec<String>,
    /// How the service signs in to the tenant. Never holds a secret.
    pub credential: CredentialInfo,
    /// Whether the tenant is usable, from the last token request and the last verification.
    pub health: TenantHealth,
    /// The last verification (`POST /v1/tenants/{tenant}/verify`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum TenantOrigin {
    Config,
}

/// The tenants the caller may act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(crate::examples::tenant_list))]
pub struct TenantList {
    pub value: Vec<TenantSummary>,
}

/// What the registry shows of a credential: its kind, the app, where its secret is kept and
/// when it last worked. The secret itself never leaves the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialInfo {
    pub kind: CredentialKind,
    /// The client id of the app the service signs in as.
    pub client_id: String,
    /// Where the secret is kept.
    pub secret_storage: SecretStorage,
    /// When a token was last obtained with it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<String>,
    /// The last failed token request, if it is newer than the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<CredentialFailure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum CredentialKind {
    /// A client secret from the configuration file.
    ClientSecret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SecretStorage {
    /// The configuration file (or the environment that overrides it).
    Config,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialFailure {
    /// RFC 3339.
    pub at: String,
    /// Entra's error, e.g. `AADSTS700016: Application … was not found in the directory …`.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantHealth {
    pub status: TenantHealthStatus,
    /// One sentence: what is wrong and what to do, or that all is well.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum TenantHealthStatus {
    /// Never verified: run `POST /v1/tenants/{tenant}/verify` (`sspr tenants verify`).
    Unverified,
    /// Verified, every feature available.
    Healthy,
    /// Verified, some features unavailable (missing permissions or licences).
    Degraded,
    /// The last token request failed.
    Failing,
}

/// What the service may do in a tenant, from a fresh token's `roles` claim: per feature,
/// available or not, with the missing permissions and the licence it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::verification))]
pub struct Verification {
    /// RFC 3339.
    pub verified_at: String,
    pub client_id: String,
    /// Whether a token was issued; when not, `tokenError` says why and every feature is
    /// unavailable.
    pub token_issued: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_error: Option<String>,
    /// The application permissions the token grants (its `roles` claim), sorted.
    pub granted_permissions: Vec<String>,
    pub features: Vec<FeatureCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeatureCheck {
    pub feature: Feature,
    pub available: bool,
    /// The permissions to consent to for this feature (the least privileged of each choice).
    pub missing_permissions: Vec<String>,
    /// Every permission the feature needs, for the app registration.
    pub required_permissions: Vec<String>,
    /// The licence the feature also needs in the tenant (checked by the feature itself), e.g.
    /// `Microsoft Entra ID P1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Feature {
    PolicyRead,
    PolicyWrite,
    Registrations,
    ConditionalAccess,
    Licences,
    SecureScore,
    Intune,
}
