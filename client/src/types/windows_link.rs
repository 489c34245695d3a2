//! The answers of the Windows reset link's endpoints: the service's own types, from the
//! contract crate. Graph's JSON of the policy stays JSON: it is Graph's document.

pub use sspr_api::windows_link::*;
