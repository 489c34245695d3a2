//! `--auth managed-identity`: on an Azure VM, App Service or container with a managed
//! identity, the instance metadata service (IMDS) hands out the identity's tokens to local
//! callers; nothing secret is configured at all.

use std::time::Instant;

use url::Url;

use super::CachedToken;
use super::token_endpoint::read_token_response;
use crate::error::ClientError;

/// The IMDS token endpoint, the same on every Azure host.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// The IMDS API version whose answer has `access_token` and `expires_in`.
const API_VERSION: &str = "2018-02-01";

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
        .header("Metadata", "true")
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

/// The endpoint with the query IMDS expects (any query already on it is kept).
fn token_request_url(endpoint: &Url, resource: &str, client_id: Option<&str>) -> Url {
    let mut url = endpoint.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("api-version", API_VERSION)
            .append_pair("resource", resource);
        if let Some(client_id) = client_id {
            query.append_pair("client_id", client_id);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_resource_and_the_identity() {
        let endpoint = Url::parse(DEFAULT_ENDPOINT).expect("url");
        assert_eq!(
            token_request_url(&endpoint, "api://sspr", Some("uami-id")).as_str(),
            "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api%3A%2F%2Fsspr&client_id=uami-id"
        );
        assert_eq!(
            token_request_url(&endpoint, "api://sspr", None).as_str(),
            "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api%3A%2F%2Fsspr"
        );
    }
}
