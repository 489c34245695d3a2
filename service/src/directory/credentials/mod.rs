//! How the service signs in to a customer tenant: one credential per tenant, built from a
//! [`CredentialSpec`], wrapped in a [`TrackedCredential`] that remembers when it last worked or
//! failed; [`GrantedToken`] reads what a token grants.
//!
//! Every kind is a credential of `azure_identity` for one tenant (its token endpoint), since
//! `azure_identity` has no per-call tenant (msp-readiness.md §1): a client secret, or a client
//! assertion that is a certificate's signed JWT ([`certificate`]), the projected Kubernetes
//! service-account token ([`workload_identity`]) or a managed identity's token
//! ([`managed_identity`]). `Default` tenants share the service-wide app's parsed certificate,
//! token file or identity token, so 500 of them cost 500 small objects and no I/O at build.

mod certificate;
mod managed_identity;
mod workload_identity;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_identity::{
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions,
};
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use sspr_api::tenants::{CredentialInput, CredentialKind};
use time::OffsetDateTime;
use url::Url;

use crate::config::{Config, CredentialConfig};
use certificate::CertificateAssertion;
use managed_identity::{IdentityTokens, ManagedIdentityAssertion};
use workload_identity::TokenFileAssertion;

/// The environment variables the Azure Workload Identity webhook injects into a pod.
const FEDERATED_TOKEN_FILE_VAR: &str = "AZURE_FEDERATED_TOKEN_FILE";
const CLIENT_ID_VAR: &str = "AZURE_CLIENT_ID";

/// Where a secret is: given inline (the configuration file, or opened from the store), or a
/// file the service reads whenever it builds a credential from it.
#[derive(Debug, Clone)]
pub enum SecretSource {
    Inline(SecretString),
    File(PathBuf),
}

impl SecretSource {
    /// The secret; a file's surrounding whitespace is dropped. `what` names the secret in the
    /// error ("the client secret"); the error names the file, never the content.
    pub fn read(&self, what: &str) -> anyhow::Result<SecretString> {
        match self {
            SecretSource::Inline(secret) => Ok(secret.clone()),
            SecretSource::File(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {what} file {}", path.display()))?;
                let trimmed = text.trim();
                anyhow::ensure!(
                    !trimmed.is_empty(),
                    "{what} file {} is empty",
                    path.display()
                );
                Ok(SecretString::from(trimmed.to_owned()))
            }
        }
    }

    /// How errors name it: the file's path, or "the inline {what}".
    fn name(&self, what: &str) -> String {
        match self {
            SecretSource::Inline(_) => format!("the inline {what}"),
            SecretSource::File(path) => path.display().to_string(),
        }
    }
}

/// One tenant's credential, as configured or onboarded. Secrets are `SecretString`, so `Debug`
/// never shows them.
#[derive(Debug, Clone)]
pub enum CredentialSpec {
    ClientSecret {
        client_id: String,
        secret: SecretSource,
    },
    /// A certificate uploaded to the app registration and its RSA private key, both PEM (the key
    /// PKCS#8 or PKCS#1, unencrypted): an RS256 client assertion per token request.
    Certificate {
        client_id: String,
        certificate: SecretSource,
        private_key: SecretSource,
    },
    /// The projected service-account token in `token_file`, re-read for every token request,
    /// is the assertion of the multi-tenant app `client_id` (a federated credential of it).
    WorkloadIdentity {
        client_id: String,
        token_file: PathBuf,
    },
    /// The user-assigned managed identity `identity_client_id`'s token for
    /// `api://AzureADTokenExchange` is the assertion of the app `client_id`.
    ManagedIdentity {
        client_id: String,
        identity_client_id: String,
    },
    /// The service-wide app (`[default_app]`) and its credential.
    Default,
}

impl CredentialSpec {
    /// The app registration, or `None` for [`CredentialSpec::Default`]
    /// ([`CredentialFactory::client_id`] resolves it).
    pub fn client_id(&self) -> Option<&str> {
        match self {
            CredentialSpec::ClientSecret { client_id, .. }
            | CredentialSpec::Certificate { client_id, .. }
            | CredentialSpec::WorkloadIdentity { client_id, .. }
            | CredentialSpec::ManagedIdentity { client_id, .. } => Some(client_id),
            CredentialSpec::Default => None,
        }
    }

    pub fn kind(&self) -> CredentialKind {
        match self {
            CredentialSpec::ClientSecret { .. } => CredentialKind::ClientSecret,
            CredentialSpec::Certificate { .. } => CredentialKind::Certificate,
            CredentialSpec::WorkloadIdentity { .. } => CredentialKind::WorkloadIdentity,
            CredentialSpec::ManagedIdentity { .. } => CredentialKind::ManagedIdentity,
            CredentialSpec::Default => CredentialKind::Default,
        }
    }

    /// The spec of a configuration file's credential. A workload identity without `client_id`
    /// or `token_file` takes the webhook's `AZURE_CLIENT_ID` / `AZURE_FEDERATED_TOKEN_FILE`; the
    /// error names what is missing.
    pub fn from_config(config: &CredentialConfig) -> anyhow::Result<CredentialSpec> {
        Ok(match config {
            CredentialConfig::ClientSecret {
                client_id,
                client_secret,
            } => CredentialSpec::ClientSecret {
                client_id: client_id.clone(),
                secret: SecretSource::Inline(client_secret.clone()),
            },
            CredentialConfig::ClientSecretFile {
                client_id,
                client_secret_file,
            } => CredentialSpec::ClientSecret {
                client_id: client_id.clone(),
                secret: SecretSource::File(client_secret_file.clone()),
            },
            CredentialConfig::Certificate {
                client_id,
                certificate_file,
                private_key_file,
            } => CredentialSpec::Certificate {
                client_id: client_id.clone(),
                certificate: SecretSource::File(certificate_file.clone()),
                private_key: SecretSource::File(private_key_file.clone()),
            },
            CredentialConfig::WorkloadIdentity {
                client_id,
                token_file,
            } => {
                let client_id = client_id.clone().or_else(|| env_var(CLIENT_ID_VAR));
                let token_file = or_webhook_token_file(token_file.clone());
                match (client_id, token_file) {
                    (Some(client_id), Some(token_file)) => CredentialSpec::WorkloadIdentity {
                        client_id,
                        token_file,
                    },
                    (client_id, token_file) => {
                        let missing: Vec<String> = [
                            (client_id.is_none(), "client_id", CLIENT_ID_VAR),
                            (token_file.is_none(), "token_file", FEDERATED_TOKEN_FILE_VAR),
                        ]
                        .into_iter()
                        .filter(|(absent, ..)| *absent)
                        .map(|(_, field, var)| format!("{field} (or {var})"))
                        .collect();
                        anyhow::bail!("workloadIdentity: {} not set", missing.join(" and "))
                    }
                }
            }
            CredentialConfig::ManagedIdentity {
                client_id,
                identity_client_id,
            } => CredentialSpec::ManagedIdentity {
                client_id: client_id.clone(),
                identity_client_id: identity_client_id.clone(),
            },
            CredentialConfig::Default => CredentialSpec::Default,
        })
    }
}

/// Why a credential given through the API cannot be used: the field at fault (as the API
/// names it) and what is wrong. It never quotes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct CredentialInputError {
    pub field: &'static str,
    pub reason: String,
}

impl CredentialSpec {
    /// The spec of a credential given to `POST /v1/tenants` or `PATCH`: inline secrets become
    /// [`SecretSource::Inline`] (the caller seals them before they are stored), `…File` paths
    /// [`SecretSource::File`]. Each secret is given exactly one way; a workload identity without
    /// `tokenFile` uses the service's own `AZURE_FEDERATED_TOKEN_FILE`.
    pub fn from_input(input: &CredentialInput) -> Result<CredentialSpec, CredentialInputError> {
        // Entra's application and managed-identity client ids are GUIDs.
        let guid = |field: &'static str, given: &str| match uuid::Uuid::parse_str(given.trim()) {
            Ok(id) => Ok(id.to_string()),
            Err(_) => Err(invalid(
                field,
                &format!("'{}' is not a client id (a GUID)", given.trim()),
            )),
        };
        let client_id = |given: &str| guid("credential.clientId", given);
        Ok(match input {
            CredentialInput::Default => CredentialSpec::Default,
            CredentialInput::ClientSecret {
                client_id: id,
                client_secret,
                client_secret_file,
            } => CredentialSpec::ClientSecret {
                client_id: client_id(id)?,
                secret: one_source(
                    ("credential.clientSecret", client_secret),
                    ("credential.clientSecretFile", client_secret_file),
                )?,
            },
            CredentialInput::Certificate {
                client_id: id,
                certificate_pem,
                private_key_pem,
                certificate_file,
                private_key_file,
            } => CredentialSpec::Certificate {
                client_id: client_id(id)?,
                certificate: one_source(
                    ("credential.certificatePem", certificate_pem),
                    ("credential.certificateFile", certificate_file),
                )?,
                private_key: one_source(
                    ("credential.privateKeyPem", private_key_pem),
                    ("credential.privateKeyFile", private_key_file),
                )?,
            },
            CredentialInput::WorkloadIdentity {
                client_id: id,
                token_file,
            } => CredentialSpec::WorkloadIdentity {
                client_id: client_id(id)?,
                token_file: or_webhook_token_file(token_file.as_ref().map(PathBuf::from))
                    .ok_or_else(|| {
                        invalid(
                            "credential.tokenFile",
                            "required: the service has no AZURE_FEDERATED_TOKEN_FILE",
                        )
                    })?,
            },
            CredentialInput::ManagedIdentity {
                client_id: id,
                identity_client_id,
            } => CredentialSpec::ManagedIdentity {
                client_id: client_id(id)?,
                identity_client_id: guid("credential.identityClientId", identity_client_id)?,
            },
        })
    }
}

fn invalid(field: &'static str, reason: &str) -> CredentialInputError {
    CredentialInputError {
        field,
        reason: reason.to_owned(),
    }
}

/// The secret given inline or as a file, exactly one of the two.
fn one_source(
    (inline_field, inline): (&'static str, &Option<String>),
    (file_field, file): (&'static str, &Option<String>),
) -> Result<SecretSource, CredentialInputError> {
    fn given(value: &Option<String>) -> Option<&str> {
        value.as_deref().filter(|v| !v.trim().is_empty())
    }
    match (given(inline), given(file)) {
        (Some(secret), None) => Ok(SecretSource::Inline(secret.to_owned().into())),
        (None, Some(path)) => Ok(SecretSource::File(PathBuf::from(path.trim()))),
        (Some(_), Some(_)) => Err(invalid(
            inline_field,
            &format!("give {inline_field} or {file_field}, not both"),
        )),
        (None, None) => Err(invalid(
            inline_field,
            &format!("required (or {file_field})"),
        )),
    }
}

/// A variable of the service's environment, when set to something.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `given`, else the token file the workload identity webhook projected into the service's pod.
fn or_webhook_token_file(given: Option<PathBuf>) -> Option<PathBuf> {
    given.or_else(|| env_var(FEDERATED_TOKEN_FILE_VAR).map(PathBuf::from))
}

/// A spec with what can be prepared once done: the certificate parsed, the identity's token
/// cache shared. The default app is held prepared, so each `Default` tenant only adds its
/// tenant-bound credential.
#[derive(Debug)]
enum Prepared {
    ClientSecret {
        client_id: String,
        secret: SecretSource,
    },
    Certificate {
        client_id: String,
        certificate: Arc<entra_assertion::ClientCertificate>,
    },
    WorkloadIdentity {
        client_id: String,
        token_file: Arc<std::path::Path>,
    },
    ManagedIdentity {
        client_id: String,
        tokens: Arc<IdentityTokens>,
    },
}

impl Prepared {
    fn client_id(&self) -> &str {
        match self {
            Prepared::ClientSecret { client_id, .. }
            | Prepared::Certificate { client_id, .. }
            | Prepared::WorkloadIdentity { client_id, .. }
            | Prepared::ManagedIdentity { client_id, .. } => client_id,
        }
    }
}

/// Builds tenants' credentials: one HTTP client, one authority, the managed-identity endpoint
/// and the service-wide default app. `Debug` shows no secret (every part redacts its own).
#[derive(Debug, Clone)]
pub struct CredentialFactory {
    http: reqwest::Client,
    authority_host: Url,
    managed_identity_endpoint: Url,
    /// One token cache per user-assigned identity, shared by every tenant that uses it.
    identities: Arc<Mutex<std::collections::HashMap<String, Arc<IdentityTokens>>>>,
    default_app: Option<Arc<Prepared>>,
}

impl CredentialFactory {
    /// A factory without a default app (see [`with_default_app`](Self::with_default_app)).
    /// `managed_identity_endpoint` is `[tenancy] managed_identity_endpoint`.
    pub fn new(
        http: reqwest::Client,
        authority_host: Url,
        managed_identity_endpoint: Url,
    ) -> CredentialFactory {
        CredentialFactory {
            http,
            authority_host,
            managed_identity_endpoint,
            identities: Arc::default(),
            default_app: None,
        }
    }

    /// The factory of the configuration: `graph.authority_host`,
    /// `tenancy.managed_identity_endpoint` and `[default_app]` when there is one.
    pub fn from_config(
        http: reqwest::Client,
        config: &Config,
    ) -> anyhow::Result<CredentialFactory> {
        let factory = CredentialFactory::new(
            http,
            config.graph.authority_host.clone(),
            config.tenancy.managed_identity_endpoint.clone(),
        );
        match &config.default_app {
            None => Ok(factory),
            Some(app) => {
                let spec = CredentialSpec::from_config(app).context("[default_app]")?;
                factory.with_default_app(&spec).context("[default_app]")
            }
        }
    }

    /// `spec` becomes the app of every [`CredentialSpec::Default`] tenant. It is prepared now (a
    /// certificate read and parsed), so a bad one fails here. `Default` itself is refused.
    pub fn with_default_app(mut self, spec: &CredentialSpec) -> anyhow::Result<CredentialFactory> {
        anyhow::ensure!(
            !matches!(spec, CredentialSpec::Default),
            "kind = \"default\" names the default app itself: give it a credential of another kind"
        );
        self.default_app = Some(Arc::new(self.prepare(spec)?));
        Ok(self)
    }

    /// The client id `spec` signs in as: its own, or the default app's.
    pub fn client_id<'a>(&'a self, spec: &'a CredentialSpec) -> anyhow::Result<&'a str> {
        match spec.client_id() {
            Some(client_id) => Ok(client_id),
            None => Ok(self.default_app()?.client_id()),
        }
    }

    /// A credential for `tenant_id`. Each caches its token, so a tenant costs one token request
    /// per token lifetime however many calls are made. What can be checked without a network
    /// call (a key that does not parse, a file that is not there) fails here.
    pub fn build(
        &self,
        tenant_id: &str,
        spec: &CredentialSpec,
    ) -> anyhow::Result<Arc<TrackedCredential>> {
        let prepared = match spec {
            CredentialSpec::Default => self.default_app()?.clone(),
            other => Arc::new(self.prepare(other)?),
        };
        let inner = self
            .credential(tenant_id, &prepared)
            .map_err(|e| anyhow::anyhow!("cannot build the credential: {e}"))?;
        Ok(Arc::new(TrackedCredential::new(inner)))
    }

    fn default_app(&self) -> anyhow::Result<&Arc<Prepared>> {
        self.default_app.as_ref().ok_or_else(|| {
            anyhow::anyhow!("the credential is the default app, and no [default_app] is configured")
        })
    }

    fn prepare(&self, spec: &CredentialSpec) -> anyhow::Result<Prepared> {
        Ok(match spec {
            CredentialSpec::ClientSecret { client_id, secret } => {
                // A file is checked now; it is read again into each credential built.
                secret.read("the client secret")?;
                Prepared::ClientSecret {
                    client_id: client_id.clone(),
                    secret: secret.clone(),
                }
            }
            CredentialSpec::Certificate {
                client_id,
                certificate,
                private_key,
            } => {
                let certificate_pem = certificate.read("the certificate")?;
                let key_pem = private_key.read("the private key")?;
                let parsed = entra_assertion::ClientCertificate::from_pem(
                    certificate_pem.expose_secret().as_bytes(),
                    &certificate.name("certificate"),
                    key_pem.expose_secret().as_bytes(),
                    &private_key.name("private key"),
                )?;
                Prepared::Certificate {
                    client_id: client_id.clone(),
                    certificate: Arc::new(parsed),
                }
            }
            CredentialSpec::WorkloadIdentity {
                client_id,
                token_file,
            } => {
                // Its content is read per token request; a path that names nothing is a
                // configuration error worth saying now.
                anyhow::ensure!(
                    token_file.is_file(),
                    "the workload identity token file {} does not exist",
                    token_file.display()
                );
                Prepared::WorkloadIdentity {
                    client_id: client_id.clone(),
                    token_file: Arc::from(token_file.as_path()),
                }
            }
            CredentialSpec::ManagedIdentity {
                client_id,
                identity_client_id,
            } => {
                let mut identities = self.identities.lock().unwrap_or_else(|e| e.into_inner());
                let tokens = identities
                    .entry(identity_client_id.clone())
                    .or_insert_with(|| {
                        Arc::new(IdentityTokens::new(
                            self.http.clone(),
                            &self.managed_identity_endpoint,
                            identity_client_id,
                        ))
                    })
                    .clone();
                Prepared::ManagedIdentity {
                    client_id: client_id.clone(),
                    tokens,
                }
            }
            CredentialSpec::Default => anyhow::bail!("the default app cannot be its own app"),
        })
    }

    fn credential(
        &self,
        tenant_id: &str,
        prepared: &Prepared,
    ) -> azure_core::Result<Arc<dyn TokenCredential>> {
        Ok(match prepared {
            Prepared::ClientSecret { client_id, secret } => {
                let secret = secret
                    .read("the client secret")
                    .map_err(|e| credential_error(format!("{e:#}")))?;
                ClientSecretCredential::new(
                    tenant_id,
                    client_id.clone(),
                    Secret::new(secret.expose_secret().to_owned()),
                    Some(ClientSecretCredentialOptions {
                        client_options: self.client_options(),
                    }),
                )?
            }
            Prepared::Certificate {
                client_id,
                certificate,
            } => self.assertion_credential(
                tenant_id,
                client_id,
                CertificateAssertion::new(
                    certificate.clone(),
                    client_id,
                    self.token_url(tenant_id)?,
                ),
            )?,
            Prepared::WorkloadIdentity {
                client_id,
                token_file,
            } => self.assertion_credential(
                tenant_id,
                client_id,
                TokenFileAssertion::new(token_file.clone()),
            )?,
            Prepared::ManagedIdentity { client_id, tokens } => self.assertion_credential(
                tenant_id,
                client_id,
                ManagedIdentityAssertion::new(tokens.clone()),
            )?,
        })
    }

    fn assertion_credential<A: ClientAssertion + 'static>(
        &self,
        tenant_id: &str,
        client_id: &str,
        assertion: A,
    ) -> azure_core::Result<Arc<dyn TokenCredential>> {
        let credential: Arc<dyn TokenCredential> = ClientAssertionCredential::new(
            tenant_id.to_owned(),
            client_id.to_owned(),
            assertion,
            Some(ClientAssertionCredentialOptions {
                client_options: self.client_options(),
            }),
        )?;
        Ok(credential)
    }

    /// The tenant's token endpoint, as `azure_identity` computes it: a certificate assertion's
    /// `aud`, so an assertion is good for one tenant only.
    fn token_url(&self, tenant_id: &str) -> azure_core::Result<Url> {
        self.authority_host
            .join(&format!("/{tenant_id}/oauth2/v2.0/token"))
            .map_err(|e| {
                azure_core::Error::with_message(
                    azure_core::error::ErrorKind::DataConversion,
                    format!("tenant id {tenant_id} makes no token endpoint URL: {e}"),
                )
            })
    }

    fn client_options(&self) -> ClientOptions {
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = self.authority_host.to_string();
        ClientOptions {
            cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
            transport: Some(Transport::new(Arc::new(self.http.clone()))),
            // Our own layer decides about retries; a dead authority should fail fast.
            retry: RetryOptions::none(),
            ..Default::default()
        }
    }
}

/// An error of an assertion source, as `azure_identity` carries it to the credential's caller.
fn credential_error(message: String) -> azure_core::Error {
    azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, message)
}

/// What the registry shows of a credential's use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialUse {
    pub last_success: Option<OffsetDateTime>,
    /// The last failure and Entra's message, when newer than the last success.
    pub last_failure: Option<(OffsetDateTime, String)>,
}

/// What a Graph token says about the app in the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedToken {
    /// The token's `tid`.
    pub tenant_id: String,
    /// The token's `roles`: every application permission consented in the tenant.
    pub permissions: BTreeSet<String>,
}

impl GrantedToken {
    /// Reads `tid` and `roles` from a Graph access token. Graph's tokens are Graph's to verify:
    /// this only reads what the token endpoint just gave us over TLS.
    pub fn of(token: &str) -> Option<GrantedToken> {
        #[derive(serde::Deserialize)]
        struct Claims {
            tid: String,
            #[serde(default)]
            roles: BTreeSet<String>,
        }
        let payload = token.split('.').nth(1)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        let claims: Claims = serde_json::from_slice(&json).ok()?;
        Some(GrantedToken {
            tenant_id: claims.tid,
            permissions: claims.roles,
        })
    }
}

/// A credential that remembers its last success and its last failure.
#[derive(Debug)]
pub struct TrackedCredential {
    inner: Arc<dyn TokenCredential>,
    usage: Mutex<CredentialUse>,
}

impl TrackedCredential {
    pub fn new(inner: Arc<dyn TokenCredential>) -> TrackedCredential {
        TrackedCredential {
            inner,
            usage: Mutex::new(CredentialUse::default()),
        }
    }

    /// Records a token obtained for this tenant's credential (by it, or by a fresh credential of
    /// the same kind that a verification built).
    pub fn note_success(&self) {
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        usage.last_success = Some(OffsetDateTime::now_utc());
        usage.last_failure = None;
    }

    /// Records a refused token request: its first line (Entra's `AADSTS…` message).
    pub fn note_failure(&self, message: &str) {
        let first = message.lines().next().unwrap_or_default().to_owned();
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        usage.last_failure = Some((OffsetDateTime::now_utc(), first));
    }

    pub fn usage(&self) -> CredentialUse {
        self.usage.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait::async_trait]
impl TokenCredential for TrackedCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let answer = self.inner.get_token(scopes, options).await;
        match &answer {
            Ok(_) => self.note_success(),
            Err(error) => self.note_failure(&error.to_string()),
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &serde_json::Value) -> String {
        let part = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.signature",
            part(br#"{"alg":"RS256"}"#),
            part(claims.to_string().as_bytes())
        )
    }

    fn factory() -> CredentialFactory {
        CredentialFactory::new(
            reqwest::Client::new(),
            Url::parse("https://login.invalid/").expect("static url"),
            Url::parse("http://imds.invalid/token").expect("static url"),
        )
    }

    fn refused(factory: &CredentialFactory, spec: &CredentialSpec) -> String {
        format!(
            "{:#}",
            factory.build("tenant-a", spec).expect_err("refused")
        )
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closures must return figment::Error.
    fn a_workload_identity_takes_the_webhooks_variables_and_names_what_is_missing() {
        figment::Jail::expect_with(|jail| {
            let from_env = CredentialConfig::WorkloadIdentity {
                client_id: None,
                token_file: None,
            };
            let missing = CredentialSpec::from_config(&from_env).expect_err("nothing set");
            assert_eq!(
                missing.to_string(),
                "workloadIdentity: client_id (or AZURE_CLIENT_ID) and token_file (or AZURE_FEDERATED_TOKEN_FILE) not set"
            );
            jail.set_env(CLIENT_ID_VAR, "env-app");
            jail.set_env(
                FEDERATED_TOKEN_FILE_VAR,
                "/var/run/secrets/azure/tokens/token",
            );
            let spec = CredentialSpec::from_config(&from_env).expect("from the environment");
            assert!(
                matches!(&spec, CredentialSpec::WorkloadIdentity { client_id, token_file }
                if client_id == "env-app" && token_file == std::path::Path::new("/var/run/secrets/azure/tokens/token"))
            );
            assert_eq!(spec.kind(), CredentialKind::WorkloadIdentity);
            // What the file says wins over the environment.
            let given = CredentialSpec::from_config(&CredentialConfig::WorkloadIdentity {
                client_id: Some("file-app".into()),
                token_file: None,
            })
            .expect("mixed");
            assert_eq!(given.client_id(), Some("file-app"));
            Ok(())
        });
    }

    #[test]
    fn what_can_fail_without_the_network_fails_at_build_naming_the_source_not_the_secret() {
        let factory = factory();
        let dir = tempfile::tempdir().expect("temp dir");
        let absent = dir.path().join("absent.pem");
        let secret_file = CredentialSpec::ClientSecret {
            client_id: "app".into(),
            secret: SecretSource::File(absent.clone()),
        };
        let message = refused(&factory, &secret_file);
        assert!(
            message.contains("cannot read the client secret file")
                && message.contains("absent.pem"),
            "{message}"
        );

        let garbage =
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n";
        let certificate = CredentialSpec::Certificate {
            client_id: "app".into(),
            certificate: SecretSource::Inline("no PEM here".into()),
            private_key: SecretSource::Inline(garbage.into()),
        };
        let message = refused(&factory, &certificate);
        assert_eq!(
            message,
            "the inline certificate has no '-----BEGIN CERTIFICATE-----' block"
        );

        let generated = entra_assertion::testing::self_signed("sspr");
        let certificate_pem = generated.certificate_pem;
        let bad_key = CredentialSpec::Certificate {
            client_id: "app".into(),
            certificate: SecretSource::Inline(certificate_pem.clone().into()),
            private_key: SecretSource::Inline(garbage.into()),
        };
        let message = refused(&factory, &bad_key);
        assert!(
            message.starts_with("the inline private key: the private key is not an RSA key"),
            "{message}"
        );
        assert!(!message.contains("c2VjcmV0"), "{message}");

        let good = CredentialSpec::Certificate {
            client_id: "app".into(),
            certificate: SecretSource::Inline(certificate_pem.into()),
            private_key: SecretSource::Inline(generated.key_pem.into()),
        };
        factory
            .build("tenant-a", &good)
            .expect("a certificate credential builds without I/O");
        let debug = format!("{good:?}");
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");

        let message = refused(&factory, &CredentialSpec::Default);
        assert_eq!(
            message,
            "the credential is the default app, and no [default_app] is configured"
        );
        assert!(factory.client_id(&CredentialSpec::Default).is_err());
    }

    #[test]
    fn default_tenants_sign_in_as_the_default_app_which_cannot_be_default_itself() {
        let refused = factory()
            .with_default_app(&CredentialSpec::Default)
            .expect_err("default of default");
        assert!(
            refused.to_string().contains("names the default app itself"),
            "{refused}"
        );

        let app = CredentialSpec::ManagedIdentity {
            client_id: "multi-tenant-app".into(),
            identity_client_id: "uami".into(),
        };
        let factory = factory().with_default_app(&app).expect("a default app");
        assert_eq!(
            factory
                .client_id(&CredentialSpec::Default)
                .expect("resolved"),
            "multi-tenant-app"
        );
        assert_eq!(CredentialSpec::Default.kind(), CredentialKind::Default);
        assert_eq!(CredentialSpec::Default.client_id(), None);
        // Many tenants, no I/O, and one identity token cache for all of them.
        for tenant in 0..500 {
            factory
                .build(&format!("tenant-{tenant}"), &CredentialSpec::Default)
                .expect("builds");
        }
        factory
            .build("tenant-x", &app)
            .expect("the same identity directly");
        assert_eq!(factory.identities.lock().expect("lock").len(), 1);
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closures must return figment::Error.
    fn the_configured_default_app_is_the_factorys_and_cannot_be_default() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("token", "projected.service-account.token")?;
            jail.create_file(
                "sspr.toml",
                "[default_app]\nkind = \"workloadIdentity\"\nclient_id = \"multi-tenant-app\"\ntoken_file = \"token\"\n",
            )?;
            let config = Config::load(Some(std::path::Path::new("sspr.toml"))).map_err(|e| *e)?;
            let factory =
                CredentialFactory::from_config(reqwest::Client::new(), &config).expect("a factory");
            assert_eq!(
                factory
                    .client_id(&CredentialSpec::Default)
                    .expect("resolved"),
                "multi-tenant-app"
            );
            factory
                .build("tenant-a", &CredentialSpec::Default)
                .expect("the token file is there");
            std::fs::remove_file("token").expect("remove");
            let refused = CredentialFactory::from_config(reqwest::Client::new(), &config)
                .expect_err("no token file");
            assert_eq!(
                format!("{refused:#}"),
                "[default_app]: the workload identity token file token does not exist"
            );

            jail.create_file("sspr.toml", "[default_app]\nkind = \"default\"\n")?;
            let config = Config::load(Some(std::path::Path::new("sspr.toml"))).map_err(|e| *e)?;
            let refused = CredentialFactory::from_config(reqwest::Client::new(), &config)
                .expect_err("default of default");
            assert_eq!(
                format!("{refused:#}"),
                "[default_app]: kind = \"default\" names the default app itself: give it a credential of another kind"
            );
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closures must return figment::Error.
    fn an_api_credential_gives_each_secret_one_way_and_errors_name_the_field() {
        figment::Jail::expect_with(|jail| {
            let secret = |inline: Option<&str>, file: Option<&str>| {
                CredentialSpec::from_input(&CredentialInput::ClientSecret {
                    client_id: "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b".into(),
                    client_secret: inline.map(str::to_owned),
                    client_secret_file: file.map(str::to_owned),
                })
            };
            let inline = secret(Some("api-s3cr3t"), None).expect("inline");
            assert!(
                matches!(&inline, CredentialSpec::ClientSecret { secret: SecretSource::Inline(s), .. } if s.expose_secret() == "api-s3cr3t")
            );
            assert!(!format!("{inline:?}").contains("api-s3cr3t"));
            assert!(matches!(secret(None, Some("/run/s")).expect("file"),
                CredentialSpec::ClientSecret { secret: SecretSource::File(p), .. } if p == std::path::Path::new("/run/s")));
            let both = secret(Some("api-s3cr3t"), Some("/run/s")).expect_err("both");
            assert_eq!(both.field, "credential.clientSecret");
            assert_eq!(
                both.to_string(),
                "credential.clientSecret: give credential.clientSecret or credential.clientSecretFile, not both"
            );
            assert_eq!(
                secret(Some("  "), None).expect_err("blank").to_string(),
                "credential.clientSecret: required (or credential.clientSecretFile)"
            );

            let certificate = CredentialSpec::from_input(&CredentialInput::Certificate {
                client_id: "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b".into(),
                certificate_pem: Some("-----BEGIN CERTIFICATE-----".into()),
                private_key_pem: None,
                certificate_file: None,
                private_key_file: Some("/run/key.pem".into()),
            })
            .expect("mixed sources");
            assert_eq!(certificate.kind(), CredentialKind::Certificate);
            let no_key = CredentialSpec::from_input(&CredentialInput::Certificate {
                client_id: "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b".into(),
                certificate_pem: Some("-----BEGIN CERTIFICATE-----".into()),
                private_key_pem: None,
                certificate_file: None,
                private_key_file: None,
            })
            .expect_err("no key");
            assert_eq!(no_key.field, "credential.privateKeyPem");

            let workload = |token_file: Option<&str>| {
                CredentialSpec::from_input(&CredentialInput::WorkloadIdentity {
                    client_id: "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b".into(),
                    token_file: token_file.map(str::to_owned),
                })
            };
            assert_eq!(
                workload(None).expect_err("no file").field,
                "credential.tokenFile"
            );
            jail.set_env(FEDERATED_TOKEN_FILE_VAR, "/var/run/token");
            assert!(matches!(workload(None).expect("the service's file"),
                CredentialSpec::WorkloadIdentity { token_file, .. } if token_file == std::path::Path::new("/var/run/token")));

            let managed = CredentialSpec::from_input(&CredentialInput::ManagedIdentity {
                client_id: " ".into(),
                identity_client_id: "uami".into(),
            })
            .expect_err("no client id");
            assert_eq!(managed.field, "credential.clientId");
            // Entra's client ids are GUIDs: anything else is named, as is a bad identity id.
            let not_guid = CredentialSpec::from_input(&CredentialInput::ManagedIdentity {
                client_id: "app".into(),
                identity_client_id: "4a8c2e6f-0b1d-4f3a-9c5e-7d9f1b3d5e72".into(),
            })
            .expect_err("not a GUID");
            assert_eq!(
                not_guid.to_string(),
                "credential.clientId: 'app' is not a client id (a GUID)"
            );
            let bad_identity = CredentialSpec::from_input(&CredentialInput::ManagedIdentity {
                client_id: "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b".into(),
                identity_client_id: "uami".into(),
            })
            .expect_err("not a GUID");
            assert_eq!(bad_identity.field, "credential.identityClientId");
            assert!(matches!(
                CredentialSpec::from_input(&CredentialInput::Default),
                Ok(CredentialSpec::Default)
            ));
            Ok(())
        });
    }

    #[test]
    fn a_token_grants_its_roles_in_its_tenant_and_no_roles_is_nothing() {
        let granted = GrantedToken::of(&jwt(&serde_json::json!({
            "tid": "3f2b", "roles": ["Policy.Read.All", "AuditLog.Read.All"]
        })))
        .expect("a JWT");
        assert_eq!(granted.tenant_id, "3f2b");
        assert_eq!(
            granted.permissions.into_iter().collect::<Vec<_>>(),
            ["AuditLog.Read.All", "Policy.Read.All"]
        );
        // Entra leaves `roles` out when nothing is consented.
        let nothing = GrantedToken::of(&jwt(&serde_json::json!({"tid": "3f2b"}))).expect("a JWT");
        assert!(nothing.permissions.is_empty());
        assert_eq!(GrantedToken::of("not-a-jwt"), None);
        assert_eq!(
            GrantedToken::of(&jwt(&serde_json::json!({"roles": []}))),
            None
        );
    }
}
