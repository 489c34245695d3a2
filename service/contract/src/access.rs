//! Who may act on which tenants: grants from a principal to tenants or tags, with a role.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One grant: `principal` may act on the tenants `tenants` selects, up to `role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::access_grant))]
pub struct AccessGrant {
    /// `config-<n>` for a grant of the configuration file, else a UUID.
    pub id: String,
    /// The caller's object id (`oid`) or client id (`appid`/`azp`).
    pub principal: String,
    /// Tenant ids or domains, `tag:<tag>` (every tenant with that tag, e.g. `tag:region:eu`), or
    /// `*` (every tenant).
    pub tenants: Vec<String>,
    /// The highest role this grant gives on those tenants; the caller's token must hold it too.
    /// Absent for a configuration grant: the token's role decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    pub origin: GrantOrigin,
    /// RFC 3339; absent for a configuration grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub enum Role {
    #[serde(rename = "SSPR.Read")]
    Read,
    #[serde(rename = "SSPR.ReadWrite")]
    ReadWrite,
    #[serde(rename = "SSPR.Admin")]
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum GrantOrigin {
    Config,
    Api,
}

/// `POST /v1/access`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(examples(crate::examples::access_grant_request))]
pub struct AccessGrantRequest {
    pub principal: String,
    pub tenants: Vec<String>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(crate::examples::access_list))]
pub struct AccessList {
    pub value: Vec<AccessGrant>,
}
