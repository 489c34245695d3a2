//! A tenant's credential three ways: as the API takes it ([`CredentialInput`]), as the store
//! keeps it (the input without its inline secrets, as JSON, plus those secrets sealed and bound
//! to the tenant id), and as the registry builds it ([`CredentialSpec`]).

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sspr_api::tenants::{CredentialInput, SecretStorage, TenantOrigin};

use super::OpsError;
use crate::capabilities::tenant_store::TenantRecord;
use crate::directory::credentials::CredentialSpec;
use crate::directory::tenants::TenantDefinition;
use crate::secrets::SecretSealer;

/// What the service offers tenants' credentials: the key inline secrets are sealed with, and
/// whether there is a service-wide default app.
pub struct CredentialSettings {
    pub sealer: Option<SecretSealer>,
    /// The client id of the `[default_app]`, when one is configured.
    pub default_app: Option<String>,
}

/// The inline secrets of an input: what is sealed.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InlineSecrets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate_pem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key_pem: Option<String>,
}

impl InlineSecrets {
    fn is_empty(&self) -> bool {
        self.client_secret.is_none()
            && self.certificate_pem.is_none()
            && self.private_key_pem.is_none()
    }
}

/// A checked credential, ready to build and to keep.
pub(super) struct Prepared {
    pub spec: CredentialSpec,
    /// The input without inline secrets, as JSON.
    pub stored: String,
    pub sealed: Option<Vec<u8>>,
    pub storage: SecretStorage,
}

fn bad(field: &str, detail: impl Into<String>) -> OpsError {
    OpsError::BadInput {
        field: field.to_owned(),
        detail: detail.into(),
    }
}

/// The spec of `input`, or the API field at fault.
fn spec_of(input: &CredentialInput) -> Result<CredentialSpec, OpsError> {
    CredentialSpec::from_input(input).map_err(|e| bad(e.field, e.reason))
}

/// Checks `input` for the tenant `tenant_id`, splits off and seals its inline secrets.
pub(super) fn prepare(
    tenant_id: &str,
    input: CredentialInput,
    settings: &CredentialSettings,
) -> Result<Prepared, OpsError> {
    let spec = spec_of(&input)?;
    if matches!(input, CredentialInput::Default) && settings.default_app.is_none() {
        return Err(bad(
            "credential.kind",
            "this service has no default app ([default_app] in its configuration): choose another kind",
        ));
    }
    let (stripped, secrets) = split(input);
    let storage = storage_of(&stripped, &secrets);
    let sealed = if secrets.is_empty() {
        None
    } else {
        let sealer = settings.sealer.as_ref().ok_or_else(|| OpsError::Unusable {
            slug: "no-sealing-key",
            title: "The service cannot keep secrets",
            field: format!("credential.{}", first_inline_field(&secrets)),
            detail: "This service has no key to seal secrets with ([tenancy] secret_key_file): give the secret as a file the service reads, or a credential without a secret.".to_owned(),
        })?;
        let plain = serde_json::to_vec(&secrets)
            .map_err(|e| OpsError::Internal(format!("sealing: {e}")))?;
        Some(sealer.seal(&plain, tenant_id.as_bytes()))
    };
    let stored = serde_json::to_string(&stripped)
        .map_err(|e| OpsError::Internal(format!("credential: {e}")))?;
    Ok(Prepared {
        spec,
        stored,
        sealed,
        storage,
    })
}

fn storage_of(stripped: &CredentialInput, secrets: &InlineSecrets) -> SecretStorage {
    if !secrets.is_empty() {
        SecretStorage::Encrypted
    } else if has_file(stripped) {
        SecretStorage::File
    } else {
        SecretStorage::None
    }
}

fn first_inline_field(secrets: &InlineSecrets) -> &'static str {
    if secrets.client_secret.is_some() {
        "clientSecret"
    } else if secrets.certificate_pem.is_some() {
        "certificatePem"
    } else {
        "privateKeyPem"
    }
}

fn has_file(input: &CredentialInput) -> bool {
    match input {
        CredentialInput::ClientSecret {
            client_secret_file, ..
        } => client_secret_file.is_some(),
        CredentialInput::Certificate {
            certificate_file,
            private_key_file,
            ..
        } => certificate_file.is_some() || private_key_file.is_some(),
        _ => false,
    }
}

/// The input without inline secrets, and those secrets.
fn split(input: CredentialInput) -> (CredentialInput, InlineSecrets) {
    match input {
        CredentialInput::ClientSecret {
            client_id,
            client_secret,
            client_secret_file,
        } => (
            CredentialInput::ClientSecret {
                client_id,
                client_secret: None,
                client_secret_file,
            },
            InlineSecrets {
                client_secret,
                ..InlineSecrets::default()
            },
        ),
        CredentialInput::Certificate {
            client_id,
            certificate_pem,
            private_key_pem,
            certificate_file,
            private_key_file,
        } => (
            CredentialInput::Certificate {
                client_id,
                certificate_pem: None,
                private_key_pem: None,
                certificate_file,
                private_key_file,
            },
            InlineSecrets {
                certificate_pem,
                private_key_pem,
                ..InlineSecrets::default()
            },
        ),
        other => (other, InlineSecrets::default()),
    }
}

/// The input with its secrets back in.
fn join(input: CredentialInput, secrets: InlineSecrets) -> CredentialInput {
    match input {
        CredentialInput::ClientSecret {
            client_id,
            client_secret_file,
            ..
        } => CredentialInput::ClientSecret {
            client_id,
            client_secret: secrets.client_secret,
            client_secret_file,
        },
        CredentialInput::Certificate {
            client_id,
            certificate_file,
            private_key_file,
            ..
        } => CredentialInput::Certificate {
            client_id,
            certificate_pem: secrets.certificate_pem,
            private_key_pem: secrets.private_key_pem,
            certificate_file,
            private_key_file,
        },
        other => other,
    }
}

/// The definition the registry builds an onboarded tenant from: its kept credential, its
/// sealed secrets opened.
pub(super) fn definition_of(
    record: &TenantRecord,
    settings: &CredentialSettings,
) -> Result<TenantDefinition, String> {
    let stripped: CredentialInput = serde_json::from_str(&record.credential)
        .map_err(|e| format!("its credential is not readable: {e}"))?;
    let secrets = match &record.sealed_secret {
        None => InlineSecrets::default(),
        Some(sealed) => {
            let sealer = settings.sealer.as_ref().ok_or(
                "its secret is sealed, and this service has no key to open it ([tenancy] secret_key_file)",
            )?;
            let plain = sealer
                .open(sealed, record.id.as_bytes())
                .map_err(|_| "its sealed secret does not open with this service's key ([tenancy] secret_key_file): was the key changed?".to_owned())?;
            serde_json::from_str(plain.expose_secret())
                .map_err(|e| format!("its sealed secret is not readable: {e}"))?
        }
    };
    let storage = storage_of(&stripped, &secrets);
    Ok(TenantDefinition {
        id: record.id.clone(),
        domains: record.domains.clone(),
        display_name: record.display_name.clone(),
        tags: record.tags.clone(),
        credential: spec_of(&join(stripped, secrets)).map_err(|e| e.to_string())?,
        origin: TenantOrigin::Api,
        secret_storage: storage,
        portal: None,
        verification: record
            .verification
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok()),
    })
}
