//! sspr-service: a REST service that reads and sets the Entra ID self-service password reset
//! (SSPR) policy across tenants. Dependencies point one way: `api` → `ops` → `domain`; the use
//! cases reach Graph, the portal back end and the store only through the traits of
//! `capabilities`, which `directory` and `store` implement (see ARCHITECTURE.md).

pub mod api;
pub mod app;
pub mod auth;
pub mod capabilities;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod directory;
pub mod domain;
pub mod ops;
pub mod report;
pub mod secrets;
pub mod server;
pub mod store;
pub mod telemetry;

pub use app::{Application, RunningService};
pub use config::Config;
