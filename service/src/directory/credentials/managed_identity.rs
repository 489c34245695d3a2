//! A user-assigned managed identity as a federated credential of the app: its token for
//! `api://AzureADTokenExchange`, from the instance metadata service (IMDS), is the client
//! assertion. One identity token serves every tenant, so it is cached (until five minutes
//! before it expires) per identity, not per tenant.

use std::sync::Arc;

use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use entra_assertion::managed_identity::{
    METADATA_HEADER, TOKEN_EXCHANGE_RESOURCE, TokenAnswer, token_request_url,
};
use url::Url;

use super::credential_error;

/// A cached token is replaced this long before it expires, so an assertion never expires in
/// flight.
const REFRESH_MARGIN_SECS: i64 = 300;

/// One identity's token, fetched from IMDS and kept until shortly before it expires.
#[derive(Debug)]
pub(super) struct IdentityTokens {
    http: reqwest::Client,
    request_url: Url,
    /// Held across the fetch, so tenants asking at once share one IMDS request.
    cached: tokio::sync::Mutex<Option<TokenAnswer>>,
}

impl IdentityTokens {
    pub(super) fn new(
        http: reqwest::Client,
        endpoint: &Url,
        identity_client_id: &str,
    ) -> IdentityTokens {
        IdentityTokens {
            http,
            request_url: token_request_url(
                endpoint,
                TOKEN_EXCHANGE_RESOURCE,
                Some(identity_client_id),
            ),
            cached: tokio::sync::Mutex::new(None),
        }
    }

    async fn token(&self) -> azure_core::Result<String> {
        let mut cached = self.cached.lock().await;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Some(answer) = cached
            .as_ref()
            .filter(|answer| now < answer.expires_on - REFRESH_MARGIN_SECS)
        {
            return Ok(answer.access_token.clone());
        }
        let answer = self.fetch(now).await?;
        let token = answer.access_token.clone();
        *cached = Some(answer);
        Ok(token)
    }

    async fn fetch(&self, now: i64) -> azure_core::Result<TokenAnswer> {
        let endpoint = self.endpoint();
        let response = self
            .http
            .get(self.request_url.clone())
            .header(METADATA_HEADER.0, METADATA_HEADER.1)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                credential_error(format!(
                    "the managed identity endpoint {endpoint} did not answer ({e}); is this an Azure host with the identity assigned? ([tenancy] managed_identity_endpoint)"
                ))
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| {
            credential_error(format!(
                "the managed identity endpoint {endpoint} broke off its answer: {e}"
            ))
        })?;
        if !status.is_success() {
            return Err(credential_error(format!(
                "the managed identity endpoint {endpoint} answered {status}: {}",
                imds_error(&body)
            )));
        }
        TokenAnswer::parse(&body, now)
            .map_err(|e| credential_error(format!("the managed identity endpoint {endpoint}: {e}")))
    }

    /// The endpoint without its query, for messages.
    fn endpoint(&self) -> Url {
        let mut endpoint = self.request_url.clone();
        endpoint.set_query(None);
        endpoint
    }
}

/// IMDS's own words (`error_description`, else `error`), or the start of the body.
fn imds_error(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ImdsError {
        error: Option<String>,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<ImdsError>(body) {
        Ok(ImdsError {
            error_description: Some(description),
            ..
        }) => description,
        Ok(ImdsError {
            error: Some(error), ..
        }) => error,
        _ => String::from_utf8_lossy(body).chars().take(200).collect(),
    }
}

/// A tenant's view of the shared identity token.
#[derive(Debug)]
pub(super) struct ManagedIdentityAssertion {
    tokens: Arc<IdentityTokens>,
}

impl ManagedIdentityAssertion {
    pub(super) fn new(tokens: Arc<IdentityTokens>) -> ManagedIdentityAssertion {
        ManagedIdentityAssertion { tokens }
    }
}

#[async_trait::async_trait]
impl ClientAssertion for ManagedIdentityAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.tokens.token().await
    }
}
