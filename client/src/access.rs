//! Who may act on which tenants: the grants of the store and of the configuration file, listed,
//! added and revoked (all need SSPR.Admin).
//!
//! ```no_run
//! # async fn demo(client: &sspr_client::SsprClient) -> Result<(), sspr_client::ClientError> {
//! use sspr_client::access::{AccessGrantRequest, Role};
//! let grant = client
//!     .grant_access(&AccessGrantRequest {
//!         principal: "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a".into(),
//!         tenants: vec!["tag:region:eu".into()],
//!         role: Role::Read,
//!     })
//!     .await?;
//! client.revoke_access(&grant.value.id).await?;
//! # Ok(()) }
//! ```

use reqwest::Method;

pub use sspr_api::access::{AccessGrant, AccessGrantRequest, AccessList, GrantOrigin, Role};

use crate::tenants::body_of;
use crate::types::Answer;
use crate::{ClientError, SsprClient};

impl SsprClient {
    /// `GET /v1/access`: every grant, from the configuration file and the store.
    pub async fn list_access(&self) -> Result<Answer<AccessList>, ClientError> {
        let url = self.endpoint(&["v1", "access"])?;
        self.send_json(Method::GET, &url, None, None).await
    }

    /// `POST /v1/access`: grants `principal` the tenants (ids, domains, `tag:<tag>` or `*`) up
    /// to `role`.
    pub async fn grant_access(
        &self,
        request: &AccessGrantRequest,
    ) -> Result<Answer<AccessGrant>, ClientError> {
        let url = self.endpoint(&["v1", "access"])?;
        self.send_json(Method::POST, &url, Some(&body_of(request)?), None)
            .await
    }

    /// `DELETE /v1/access/{id}`: revokes a grant of the store (a grant of the configuration file
    /// is refused with 409).
    pub async fn revoke_access(&self, id: &str) -> Result<(), ClientError> {
        let id = id.trim();
        if id.is_empty() || id == "." || id == ".." {
            return Err(ClientError::Config(format!("'{id}' is not a grant id")));
        }
        let url = self.endpoint(&["v1", "access", id])?;
        self.send(Method::DELETE, &url, None).await.map(|_| ())
    }
}
