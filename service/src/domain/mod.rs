//! The SSPR policy model: pure types and rules, no I/O, no HTTP or Graph types.

pub mod change;
pub mod findings;
pub mod inference;
pub mod licence;
pub mod methods;
pub mod policy;
pub mod portal;
pub mod protection;
pub mod readiness;
pub mod registrations;
pub mod rules;
pub mod secure_score;
pub mod tenancy;
pub mod windows_link;
