//! Entra's OpenID Connect discovery as [`TenantDiscovery`]: the document of
//! `{authority}/{domain}/v2.0/.well-known/openid-configuration` names the tenant in its issuer
//! (`https://login.microsoftonline.com/{tenant id}/v2.0`). Public: no token is sent.

use serde::Deserialize;
use url::Url;

use super::DirectoryError;
use crate::capabilities::tenant_discovery::TenantDiscovery;

pub struct OidcDiscovery {
    http: reqwest::Client,
    authority_host: Url,
}

impl OidcDiscovery {
    pub fn new(http: reqwest::Client, authority_host: Url) -> Self {
        OidcDiscovery {
            http,
            authority_host,
        }
    }
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
}

/// The GUID segment of an Entra issuer URL.
fn tenant_of(issuer: &str) -> Option<String> {
    Url::parse(issuer)
        .ok()?
        .path_segments()?
        .find_map(|segment| uuid::Uuid::parse_str(segment).ok())
        .map(|id| id.to_string())
}

#[async_trait::async_trait]
impl TenantDiscovery for OidcDiscovery {
    async fn tenant_id(&self, domain: &str) -> Result<Option<String>, DirectoryError> {
        let unreachable = |detail: String| DirectoryError::Unreachable {
            what: "the Entra discovery endpoint".to_owned(),
            detail,
        };
        let url = self
            .authority_host
            .join(&format!("{domain}/v2.0/.well-known/openid-configuration"))
            .map_err(|e| unreachable(e.to_string()))?;
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| unreachable(e.without_url().to_string()))?;
        let status = response.status();
        // Entra answers 400 AADSTS90002 ("Tenant … not found") for a name it does not know.
        if status == reqwest::StatusCode::BAD_REQUEST || status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(DirectoryError::Upstream {
                status: status.as_u16(),
                code: "discovery".to_owned(),
                message: format!("the discovery document of {domain} answered {status}"),
                request_id: None,
            });
        }
        let document: Document = response
            .json()
            .await
            .map_err(|e| DirectoryError::Upstream {
                status: status.as_u16(),
                code: "discovery".to_owned(),
                message: format!("the discovery document of {domain} is not readable: {e}"),
                request_id: None,
            })?;
        Ok(tenant_of(&document.issuer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_is_the_guid_in_the_issuer() {
        assert_eq!(
            tenant_of(
                "https://login.microsoftonline.com/3F2B9C1E-7D4A-4E8B-9C61-5A0D2E8F4B17/v2.0"
            )
            .as_deref(),
            Some("3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17")
        );
        assert_eq!(
            tenant_of("https://login.microsoftonline.com/common/v2.0"),
            None
        );
        assert_eq!(tenant_of("not a url"), None);
    }
}
