//! Signing in to Entra ID without a client secret: the parts that need no HTTP client and no
//! error type of their caller, shared by the `sspr` command line and the service.
//!
//! - [`certificate`]: a certificate and its RSA key from PEM, and the RS256 client assertion
//!   Entra accepts in place of a secret (graph-api.md §9.2).
//! - [`managed_identity`]: the instance metadata service's (IMDS) token request and its answer.
//! - `testing` (feature `testing`): a self-signed certificate for tests.

pub mod certificate;
pub mod managed_identity;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use certificate::{CertificateError, ClientCertificate};
