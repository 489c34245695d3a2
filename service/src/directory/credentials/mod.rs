//! How the service signs in to a customer tenant: one credential per tenant, built from a
//! [`CredentialSpec`], wrapped in a [`TrackedCredential`] that remembers when it last worked or
//! failed; [`GrantedToken`] reads what a token grants.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use sspr_api::tenants::CredentialKind;
use time::OffsetDateTime;
use url::Url;

/// One tenant's credential, as configured or onboarded. Secrets are `SecretString`, so `Debug`
/// never shows them.
#[derive(Debug, Clone)]
pub enum CredentialSpec {
    ClientSecret {
        client_id: String,
        secret: SecretString,
    },
}

impl CredentialSpec {
    pub fn client_id(&self) -> &str {
        match self {
            CredentialSpec::ClientSecret { client_id, .. } => client_id,
        }
    }

    pub fn kind(&self) -> CredentialKind {
        match self {
            CredentialSpec::ClientSecret { .. } => CredentialKind::ClientSecret,
        }
    }
}

/// Builds tenants' credentials: one HTTP client, one authority.
#[derive(Clone)]
pub struct CredentialFactory {
    http: reqwest::Client,
    authority_host: Url,
}

impl CredentialFactory {
    pub fn new(http: reqwest::Client, authority_host: Url) -> CredentialFactory {
        CredentialFactory {
            http,
            authority_host,
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
        let inner: Arc<dyn TokenCredential> = match spec {
            CredentialSpec::ClientSecret { client_id, secret } => ClientSecretCredential::new(
                tenant_id,
                client_id.clone(),
                Secret::new(secret.expose_secret().to_owned()),
                Some(ClientSecretCredentialOptions {
                    client_options: self.client_options(),
                }),
            )
            .map_err(|e| anyhow::anyhow!("cannot build the credential: {e}"))?,
        };
        Ok(Arc::new(TrackedCredential::new(inner)))
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
