//! The tenants: how every answer names the tenant it is about, the tenant registry (onboarding,
//! credentials, health) and the verification of what the service may do in each tenant.

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

/// A managed tenant as the registry holds it: who it is, where it was defined, its tags, how the
/// service signs in to it and whether that works.
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
    /// `config`: defined in the configuration file, read-only through the API. `api`: onboarded
    /// through `POST /v1/tenants`.
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
    Api,
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
    /// The client id of the app the service signs in as (for `default`: the service-wide app).
    pub client_id: String,
    /// Where the secret or key is kept: `encrypted` (in the store, AES-256-GCM), `file` (a path
    /// the service reads), `config` (the configuration file), `none` (federated: no secret).
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
    /// The service-wide multi-tenant app and its credential (`app: default`).
    Default,
    ClientSecret,
    /// An RS256 client assertion signed with a certificate's private key.
    Certificate,
    /// The projected Kubernetes service-account token as a federated assertion.
    WorkloadIdentity,
    /// A user-assigned managed identity's token as a federated assertion.
    ManagedIdentity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SecretStorage {
    Encrypted,
    File,
    Config,
    None,
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

/// `POST /v1/tenants`: onboard a customer tenant. Takes effect at once, without a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(examples(crate::examples::tenant_onboarding))]
pub struct TenantOnboarding {
    /// The tenant id (GUID) or one of its verified domains; a domain is resolved to the id
    /// through the tenant's OpenID Connect discovery document.
    pub tenant: String,
    /// Default: the domain given, else the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Further domains callers may name the tenant by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub credential: CredentialInput,
}

/// `PATCH /v1/tenants/{tenant}`: what is given replaces what was; what is absent stays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(examples(crate::examples::tenant_update))]
pub struct TenantUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialInput>,
}

/// How the service signs in to a tenant, chosen explicitly. A secret or key given inline is
/// stored encrypted and never returned; a `…File` is a path the service reads at each use.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum CredentialInput {
    /// The service-wide multi-tenant app and credential (`app: default`): 500 tenants, one
    /// credential.
    Default,
    /// A client secret: `clientSecret` inline, or `clientSecretFile`.
    #[serde(rename_all = "camelCase")]
    ClientSecret {
        client_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_secret: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_secret_file: Option<String>,
    },
    /// A certificate uploaded to the app registration: the PEM certificate and its PEM private
    /// key (PKCS#8 or PKCS#1), inline or as files.
    #[serde(rename_all = "camelCase")]
    Certificate {
        client_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate_pem: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        private_key_pem: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate_file: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        private_key_file: Option<String>,
    },
    /// Workload identity federation: the projected service-account token file (re-read for
    /// every token request) is the assertion of the multi-tenant app `clientId`. Default file:
    /// the service's `AZURE_FEDERATED_TOKEN_FILE`.
    #[serde(rename_all = "camelCase")]
    WorkloadIdentity {
        client_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_file: Option<String>,
    },
    /// A user-assigned managed identity (`identityClientId`) as a federated credential of the
    /// multi-tenant app `clientId`: its token for `api://AzureADTokenExchange` is the assertion.
    #[serde(rename_all = "camelCase")]
    ManagedIdentity {
        client_id: String,
        identity_client_id: String,
    },
}

/// Shows the kind, the app and the files; an inline secret or key only as `<redacted>`.
impl std::fmt::Debug for CredentialInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |given: &Option<String>| given.as_ref().map(|_| "<redacted>");
        match self {
            CredentialInput::Default => f.write_str("Default"),
            CredentialInput::ClientSecret {
                client_id,
                client_secret,
                client_secret_file,
            } => f
                .debug_struct("ClientSecret")
                .field("client_id", client_id)
                .field("client_secret", &redacted(client_secret))
                .field("client_secret_file", client_secret_file)
                .finish(),
            CredentialInput::Certificate {
                client_id,
                certificate_pem,
                private_key_pem,
                certificate_file,
                private_key_file,
            } => f
                .debug_struct("Certificate")
                .field("client_id", client_id)
                .field(
                    "certificate_pem",
                    &certificate_pem.as_ref().map(|_| "<given>"),
                )
                .field("private_key_pem", &redacted(private_key_pem))
                .field("certificate_file", certificate_file)
                .field("private_key_file", private_key_file)
                .finish(),
            CredentialInput::WorkloadIdentity {
                client_id,
                token_file,
            } => f
                .debug_struct("WorkloadIdentity")
                .field("client_id", client_id)
                .field("token_file", token_file)
                .finish(),
            CredentialInput::ManagedIdentity {
                client_id,
                identity_client_id,
            } => f
                .debug_struct("ManagedIdentity")
                .field("client_id", client_id)
                .field("identity_client_id", identity_client_id)
                .finish(),
        }
    }
}

/// `GET /v1/tenants/{tenant}/consent`: the link a customer's administrator opens to consent to
/// the app in their tenant (Microsoft identity platform v2 admin consent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::consent_link))]
pub struct ConsentLink {
    pub tenant: TenantRef,
    /// `https://login.microsoftonline.com/{tenant id}/v2.0/adminconsent?client_id=…&scope=https://graph.microsoft.com/.default&redirect_uri=…&state=…`
    pub url: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// Opaque; the redirect carries it back. The redirect's `tenant` is only a hint: verify
    /// (`POST /v1/tenants/{tenant}/verify`) proves the consent.
    pub state: String,
    /// The application permissions the consent should grant for every feature to work.
    pub permissions: Vec<String>,
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
    /// Deploying the Windows sign-in link's Intune policy.
    IntuneWrite,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_an_inline_secret_or_key() {
        let secret = CredentialInput::ClientSecret {
            client_id: "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b".into(),
            client_secret: Some("s3cr3t-value".into()),
            client_secret_file: None,
        };
        let key = CredentialInput::Certificate {
            client_id: "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b".into(),
            certificate_pem: Some("-----BEGIN CERTIFICATE-----".into()),
            private_key_pem: Some("-----BEGIN PRIVATE KEY-----abc".into()),
            certificate_file: None,
            private_key_file: None,
        };
        let onboarding = format!(
            "{:?}",
            TenantOnboarding {
                tenant: "contoso.com".into(),
                display_name: None,
                domains: Vec::new(),
                tags: Vec::new(),
                credential: key,
            }
        );
        let shown = format!("{secret:?} {onboarding}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        assert!(
            shown.contains("6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b") && shown.contains("<redacted>")
        );
    }
}
