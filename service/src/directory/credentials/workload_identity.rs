//! Workload identity federation: the kubelet projects a service-account token into a file and
//! rotates it (hourly by default), so the file is read again for every token request and its
//! content is never kept. The same file serves every tenant of the multi-tenant app.

use std::path::Path;
use std::sync::Arc;

use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;

use super::credential_error;

#[derive(Debug)]
pub(super) struct TokenFileAssertion {
    token_file: Arc<Path>,
}

impl TokenFileAssertion {
    pub(super) fn new(token_file: Arc<Path>) -> TokenFileAssertion {
        TokenFileAssertion { token_file }
    }
}

#[async_trait::async_trait]
impl ClientAssertion for TokenFileAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let path = self.token_file.display();
        match tokio::fs::read_to_string(&self.token_file).await {
            Ok(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
            Ok(_) => Err(credential_error(format!(
                "the workload identity token file {path} is empty"
            ))),
            Err(e) => Err(credential_error(format!(
                "cannot read the workload identity token file {path}: {e}"
            ))),
        }
    }
}
