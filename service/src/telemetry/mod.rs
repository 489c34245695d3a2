//! What the service tells its operators: the Prometheus series and the helpers that record
//! them (`record.rs`), the recorder and its `/metrics` answer (`exporter.rs`), the HTTP layer
//! that times every request and labels its log span (`http.rs`), and the log format
//! (`logging.rs`).
//!
//! Labels never carry tenant ids, user data or secrets: route templates, methods, status
//! codes, Graph bucket names and fixed outcome words only, so the series stay few and a scrape
//! reveals nothing about the tenants.

pub mod exporter;
pub mod http;
pub mod logging;
pub mod record;

pub use record::{AuditPhase, FleetOutcome};
