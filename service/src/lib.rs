//! sspr-service: a REST service that reads and sets the Entra ID self-service password reset
//! (SSPR) policy across tenants. Dependencies point one way: `api` → `ops` → `domain`, with
//! `directory` (Graph) and `auth` as adapters at the edge.

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
pub mod server;
pub mod store;

pub use app::{Application, RunningService};
pub use config::Config;
