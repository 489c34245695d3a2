//! `--auth managed-identity`: on an Azure VM, App Service or container with a managed
//! identity, the instance metadata service (IMDS) hands out the identity's tokens to local
//! callers; nothing secret is configured at all.

use std::time::Instant;

use url::Url;

use super::CachedToken;
use super::token_endpoint::read_token_response;
use crate::error::ClientError;

/// The IMDS token endpoint, the same on every Azure host.
pub use entra_assertion::managed_identity::DEFAULT_ENDPOINT;
use entra_assertion::managed_identity::{METADATA_HEADER, token_request_url};

/// `GET {endpoint}?api-version=2018-02-01&resource={resource}[&client_id={client_id}]` with
/// `Metadata: true` (IMDS refuses requests without it, a guard against forwarded requests).
/// `client_id` picks a user-assigned identity; without it the system-assigned one answers.
pub(super) async fn request_token(
    http: &reqwest::Client,
    endpoint: &Url,
    resource: &str,
    client_id: Option<&str>,
) -> Result<CachedToken, ClientError> {
    let url = token_request_url(endpoint, resource, client_id);
    let started = Instant::now();
    let response = http
        .get(url.clone())
        .header(METADATA_HEADER.0, METADATA_HEADER.1)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            ClientError::Transport(format!(
                "{} (is this an Azure host with a managed identity? set SSPR_MANAGED_IDENTITY_ENDPOINT for another endpoint)",
                crate::describe_send_error("GET", endpoint, &e)
            ))
        })?;
    read_token_response("GET", endpoint, response, started).await
}
