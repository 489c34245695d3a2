//! The tenants' granted application permissions, read from the `roles` claim of their Graph
//! tokens (msp-readiness.md §2b): no Graph call and no extra permission needed.

use super::DirectoryError;
use super::credentials::{CredentialFactory, GrantedToken};
use super::graph::bearer;
use super::tenants::ManagedTenant;
use crate::capabilities::app_permissions::AppPermissions;

pub struct TokenPermissions {
    factory: CredentialFactory,
}

impl TokenPermissions {
    pub fn new(factory: CredentialFactory) -> TokenPermissions {
        TokenPermissions { factory }
    }
}

fn read(tenant: &ManagedTenant, token: &str) -> Result<GrantedToken, DirectoryError> {
    GrantedToken::of(token).ok_or_else(|| DirectoryError::Token {
        tenant_id: tenant.id.clone(),
        detail: "the token endpoint answered a token that is not a JWT with a tid claim".into(),
    })
}

#[async_trait::async_trait]
impl AppPermissions for TokenPermissions {
    async fn granted(&self, tenant: &ManagedTenant) -> Result<GrantedToken, DirectoryError> {
        let token = bearer(tenant.credential(), &tenant.id).await?;
        read(tenant, &token)
    }

    async fn fresh(&self, tenant: &ManagedTenant) -> Result<GrantedToken, DirectoryError> {
        let credential = self
            .factory
            .build(&tenant.id, tenant.credential_spec())
            .map_err(|e| DirectoryError::Token {
                tenant_id: tenant.id.clone(),
                detail: e.to_string(),
            })?;
        // What the fresh credential met is what the tenant's credential would meet now.
        match bearer(credential.as_ref(), &tenant.id).await {
            Ok(token) => {
                tenant.credential().note_success();
                read(tenant, &token)
            }
            Err(error) => {
                if let DirectoryError::Token { detail, .. } = &error {
                    tenant.credential().note_failure(detail);
                }
                Err(error)
            }
        }
    }
}
