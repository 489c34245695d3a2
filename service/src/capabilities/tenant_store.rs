//! Where the tenants onboarded through the API and the access grants made through it are kept.
//! The SQLite store implements it ([`crate::store::tenancy`]). A record holds no secret in
//! clear: a secret given inline is sealed before it reaches this trait.

use crate::store::StoreError;

/// A tenant onboarded through the API, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    /// Lower-cased tenant id (GUID): the key.
    pub id: String,
    pub display_name: Option<String>,
    pub domains: Vec<String>,
    pub tags: Vec<String>,
    /// The credential's kind and settings as JSON, without any inline secret.
    pub credential: String,
    /// The credential's inline secrets, sealed (AES-256-GCM, bound to the tenant id).
    pub sealed_secret: Option<Vec<u8>>,
    /// RFC 3339.
    pub created_at: String,
    pub created_by: String,
    /// The last verification as JSON, kept across restarts.
    pub verification: Option<String>,
}

/// An access grant made through the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub id: String,
    pub principal: String,
    pub tenants: Vec<String>,
    /// `SSPR.Read`, `SSPR.ReadWrite` or `SSPR.Admin`.
    pub role: String,
    pub created_at: String,
    pub created_by: String,
}

#[async_trait::async_trait]
pub trait TenantStore: Send + Sync {
    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError>;
    /// The record with this id, if there is one.
    async fn tenant(&self, id: &str) -> Result<Option<TenantRecord>, StoreError>;
    /// Adds `record`; a record with the same id is [`StoreError::Exists`].
    async fn insert_tenant(&self, record: TenantRecord) -> Result<(), StoreError>;
    /// Replaces the record with `record.id`; false when there is none.
    async fn replace_tenant(&self, record: TenantRecord) -> Result<bool, StoreError>;
    /// Removes the tenant's record, its sealed secret with it; false when there is none.
    async fn delete_tenant(&self, id: &str) -> Result<bool, StoreError>;
    async fn set_verification(&self, id: &str, verification: String) -> Result<(), StoreError>;

    async fn grants(&self) -> Result<Vec<GrantRecord>, StoreError>;
    async fn insert_grant(&self, record: GrantRecord) -> Result<(), StoreError>;
    /// False when there is no such grant.
    async fn delete_grant(&self, id: &str) -> Result<bool, StoreError>;

    /// Whether the store answers now: one cheap round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
}
