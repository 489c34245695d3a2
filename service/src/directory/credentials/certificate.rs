//! A certificate credential: for every token request a fresh RS256 assertion, signed with the
//! certificate's key, whose `aud` is the one tenant's token endpoint.

use std::sync::Arc;

use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use entra_assertion::ClientCertificate;
use url::Url;

use super::credential_error;

#[derive(Debug)]
pub(super) struct CertificateAssertion {
    /// Parsed once and shared by every tenant of the same app.
    certificate: Arc<ClientCertificate>,
    client_id: String,
    token_url: Url,
}

impl CertificateAssertion {
    pub(super) fn new(
        certificate: Arc<ClientCertificate>,
        client_id: &str,
        token_url: Url,
    ) -> CertificateAssertion {
        CertificateAssertion {
            certificate,
            client_id: client_id.to_owned(),
            token_url,
        }
    }
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.certificate
            .assertion(&self.token_url, &self.client_id, now)
            .map_err(|e| credential_error(e.to_string()))
    }
}
