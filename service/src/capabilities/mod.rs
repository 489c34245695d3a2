//! The capabilities the use cases in `ops` need, one trait per capability. The Graph and portal
//! adapters (`directory`) and the store implement them; `ops` sees only these traits, held as
//! `Arc<dyn …>` in the application state, so an adapter can be replaced (a second store, an
//! in-memory fake in the use cases' unit tests) without touching a use case. The traits speak in
//! domain types and typed intents: no Graph paths, no JSON.

pub mod app_permissions;
pub mod audit_log;
pub mod conditional_access;
pub mod coordination;
pub mod device_configuration;
pub mod licences;
pub mod partner_directory;
pub mod password_reset_portal;
pub mod policy_directory;
pub mod registration_report;
pub mod secure_score;
pub mod tenant_discovery;
pub mod tenant_store;
