//! sspr-api: the wire types of the sspr REST API. The service serializes them and documents them
//! in its OpenAPI document (utoipa schemas); the client deserializes the same types, so the two
//! cannot drift apart. Pure data: no I/O, no logic beyond what the JSON needs.

pub mod access;
pub mod audit;
pub mod examples;
pub mod health;
pub mod partner;
pub mod policy;
pub mod problem;
pub mod protection;
pub mod readiness;
pub mod registrations;
pub mod tenants;
pub mod windows_link;
