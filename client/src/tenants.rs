//! The tenant registry: the tenants the caller may act on, onboarding one at run time (with
//! the credential the service signs in to it with), changing and offboarding it, the admin
//! consent link its administrator opens, and the verification of what the service may do in
//! it. The answers are the contract crate's types ([`crate::types::tenants`]).
//!
//! ```no_run
//! # async fn demo(client: &sspr_client::SsprClient) -> Result<(), sspr_client::ClientError> {
//! use sspr_client::types::tenants::{CredentialInput, TenantOnboarding};
//! let onboarding = TenantOnboarding {
//!     tenant: "tailspin.onmicrosoft.com".into(),
//!     display_name: None,
//!     domains: vec![],
//!     tags: vec!["region:us".into()],
//!     credential: CredentialInput::Default,
//! };
//! let added = client.add_tenant(&onboarding).await?;
//! let link = client.consent_link(&added.value.id, None).await?;
//! println!("send {} to the customer's administrator", link.value.url);
//! let verdict = client.verify_tenant(&added.value.id).await?;
//! println!("{} of {} features available", verdict.features.iter().filter(|f| f.available).count(), verdict.features.len());
//! # Ok(()) }
//! ```

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use crate::types::Answer;
use crate::types::tenants::{
    ConsentLink, TenantList, TenantOnboarding, TenantSummary, TenantUpdate, Verification,
};
use crate::{ClientError, SsprClient, decode_error, decode_error_of};

impl SsprClient {
    /// `GET /v1/tenants`: the tenants the caller may act on.
    pub async fn list_tenants(&self) -> Result<Vec<TenantSummary>, ClientError> {
        let url = self.endpoint(&["v1", "tenants"])?;
        let (body, _) = self.get(&url).await?;
        serde_json::from_slice::<TenantList>(&body)
            .map(|list| list.value)
            .map_err(|e| decode_error(&url, "a tenant list", &e, &body))
    }

    /// `GET /v1/tenants/{tenant}`: one tenant the caller may act on, named by its id or a domain.
    pub async fn get_tenant(&self, tenant: &str) -> Result<TenantSummary, ClientError> {
        let url = self.tenant_endpoint(tenant, &[])?;
        let (body, _) = self.get(&url).await?;
        serde_json::from_slice::<TenantSummary>(&body)
            .map_err(|e| decode_error(&url, "a tenant", &e, &body))
    }

    /// `POST /v1/tenants`: onboards a customer tenant (needs SSPR.Admin). Usable at once, without
    /// a restart; 409 `tenantExists` when it is already in the registry. A secret or key in the
    /// credential is sent once and never comes back.
    pub async fn add_tenant(
        &self,
        onboarding: &TenantOnboarding,
    ) -> Result<Answer<TenantSummary>, ClientError> {
        let url = self.endpoint(&["v1", "tenants"])?;
        self.send_json(Method::POST, &url, Some(&body_of(onboarding)?), None)
            .await
    }

    /// `PATCH /v1/tenants/{tenant}`: what `update` gives replaces what was; 409 `tenantReadOnly`
    /// for a tenant of the configuration file.
    pub async fn update_tenant(
        &self,
        tenant: &str,
        update: &TenantUpdate,
    ) -> Result<Answer<TenantSummary>, ClientError> {
        let url = self.tenant_endpoint(tenant, &[])?;
        self.send_json(Method::PATCH, &url, Some(&body_of(update)?), None)
            .await
    }

    /// `DELETE /v1/tenants/{tenant}`: offboards the tenant; its credential is deleted, its audit
    /// records stay.
    pub async fn remove_tenant(&self, tenant: &str) -> Result<(), ClientError> {
        let url = self.tenant_endpoint(tenant, &[])?;
        self.send(Method::DELETE, &url, None).await.map(|_| ())
    }

    /// `GET /v1/tenants/{tenant}/consent`: the admin consent link for the tenant's administrator;
    /// `redirect_uri` replaces the service's configured one.
    pub async fn consent_link(
        &self,
        tenant: &str,
        redirect_uri: Option<&str>,
    ) -> Result<Answer<ConsentLink>, ClientError> {
        let mut url = self.tenant_endpoint(tenant, &["consent"])?;
        if let Some(redirect_uri) = redirect_uri {
            url.query_pairs_mut()
                .append_pair("redirectUri", redirect_uri);
        }
        self.send_json(Method::GET, &url, None, None).await
    }

    /// `POST /v1/tenants/{tenant}/verify`: what the service may do in the tenant, per feature,
    /// from a fresh token (the verdict is kept and shown with the tenant).
    pub async fn verify_tenant(&self, tenant: &str) -> Result<Verification, ClientError> {
        let url = self.tenant_endpoint(tenant, &["verify"])?;
        let reply = self.send(Method::POST, &url, None).await?;
        serde_json::from_slice::<Verification>(&reply.body)
            .map_err(|e| decode_error_of("POST", &url, "a verification", &e, &reply.body))
    }
}

/// A request body as JSON. Only the service's own types are serialized, so failing is a bug
/// worth naming rather than a panic.
pub(crate) fn body_of(value: &impl Serialize) -> Result<Value, ClientError> {
    serde_json::to_value(value)
        .map_err(|e| ClientError::Decode(format!("cannot encode the request body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tenants::CredentialInput;

    #[test]
    fn an_onboarding_body_is_the_contracts() {
        let onboarding: TenantOnboarding =
            serde_json::from_value(sspr_api::examples::tenant_onboarding()).expect("the example");
        assert_eq!(
            body_of(&onboarding).expect("json"),
            sspr_api::examples::tenant_onboarding()
        );
        let update = TenantUpdate {
            credential: Some(CredentialInput::ManagedIdentity {
                client_id: "app".into(),
                identity_client_id: "mi".into(),
            }),
            ..TenantUpdate::default()
        };
        assert_eq!(
            body_of(&update).expect("json"),
            serde_json::json!({"credential": {"kind": "managedIdentity", "clientId": "app", "identityClientId": "mi"}})
        );
    }
}
