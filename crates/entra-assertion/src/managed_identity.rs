//! On an Azure VM, App Service or container with a managed identity, the instance metadata
//! service (IMDS) hands out the identity's tokens to local callers: `GET {endpoint}` with the
//! query of [`token_request_url`] and the header `Metadata: true` (IMDS refuses requests without
//! it, a guard against forwarded requests); [`TokenAnswer::parse`] reads the answer.

use std::fmt;

use url::Url;

/// The IMDS token endpoint, the same on every Azure host.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// The IMDS API version whose answer has `access_token`, `expires_in` and `expires_on`.
pub const API_VERSION: &str = "2018-02-01";
/// The resource whose token a managed identity presents as a federated credential of an app
/// registration (graph-api.md §9.3).
pub const TOKEN_EXCHANGE_RESOURCE: &str = "api://AzureADTokenExchange";
/// The header IMDS requires, and its value.
pub const METADATA_HEADER: (&str, &str) = ("Metadata", "true");

/// The endpoint with the query IMDS expects (any query already on it is kept). `client_id`
/// picks a user-assigned identity; without it the system-assigned one answers.
pub fn token_request_url(endpoint: &Url, resource: &str, client_id: Option<&str>) -> Url {
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

/// A successful IMDS answer: the token and when it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenAnswer {
    pub access_token: String,
    /// Seconds since the Unix epoch.
    pub expires_on: i64,
}

impl fmt::Debug for TokenAnswer {
    /// The expiry only: never the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

/// Why an IMDS answer holds no usable token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnswerError {
    #[error("the answer is not a JSON token response: {0}")]
    NotJson(String),
    #[error("the answer has no access_token")]
    NoToken,
    #[error("the answer says neither expires_on nor expires_in")]
    NoExpiry,
}

#[derive(serde::Deserialize)]
struct RawAnswer {
    access_token: Option<String>,
    expires_on: Option<serde_json::Value>,
    expires_in: Option<serde_json::Value>,
}

impl TokenAnswer {
    /// Reads the body of a 200 answer. IMDS gives `expires_on` (seconds since the epoch) and
    /// `expires_in` as strings; some hosts give numbers. Without `expires_on`, `now` (seconds
    /// since the epoch, when the request was sent) plus `expires_in` stands for it.
    pub fn parse(body: &[u8], now: i64) -> Result<TokenAnswer, AnswerError> {
        let raw: RawAnswer =
            serde_json::from_slice(body).map_err(|e| AnswerError::NotJson(e.to_string()))?;
        let access_token = raw
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or(AnswerError::NoToken)?;
        let seconds = |value: Option<serde_json::Value>| match value {
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let expires_on = seconds(raw.expires_on)
            .or_else(|| seconds(raw.expires_in).map(|lifetime| now + lifetime))
            .ok_or(AnswerError::NoExpiry)?;
        Ok(TokenAnswer {
            access_token,
            expires_on,
        })
    }
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

    #[test]
    fn the_answer_gives_its_token_and_expiry_in_either_form() {
        let strings = TokenAnswer::parse(
            br#"{"access_token":"eyJ.a.b","expires_on":"1800003600","expires_in":"3599","resource":"api://AzureADTokenExchange","token_type":"Bearer"}"#,
            1_800_000_000,
        )
        .expect("a token");
        assert_eq!(strings.access_token, "eyJ.a.b");
        assert_eq!(strings.expires_on, 1_800_003_600);
        let lifetime_only =
            TokenAnswer::parse(br#"{"access_token":"t","expires_in":600}"#, 1_800_000_000)
                .expect("a token");
        assert_eq!(lifetime_only.expires_on, 1_800_000_600);
        assert!(!format!("{strings:?}").contains("eyJ.a.b"));

        assert_eq!(
            TokenAnswer::parse(br#"{"access_token":"","expires_in":600}"#, 0),
            Err(AnswerError::NoToken)
        );
        assert_eq!(
            TokenAnswer::parse(br#"{"access_token":"t"}"#, 0),
            Err(AnswerError::NoExpiry)
        );
        assert!(matches!(
            TokenAnswer::parse(b"<html>", 0),
            Err(AnswerError::NotJson(_))
        ));
    }
}
