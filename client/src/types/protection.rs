//! The answers of the registration-protection endpoints: the service's own types, from the
//! contract crate. The Graph JSON of a policy stays JSON: it is Graph's document, shown and sent
//! as it is.

pub use sspr_api::protection::*;
