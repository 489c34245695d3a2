//! What the `sspr` binary prints: tables, texts of plans and findings, progress, questions and
//! error lines, over the typed answers of the `sspr_client` library.

pub mod access;
pub mod audit;
pub mod commands;
pub mod partner;
pub mod policy;
pub mod protection;
pub mod readiness;
pub mod registrations;
pub mod render;
pub mod report;
pub mod tenants;
pub mod windows_link;
