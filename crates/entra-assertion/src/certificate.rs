//! A certificate uploaded to an app registration proves the app's identity with a JWT signed by
//! its private key (graph-api.md §9.2): RS256, the certificate's SHA-256 (`x5t#S256`) and SHA-1
//! (`x5t`) thumbprints in the header, so that no secret ever travels. Pure Rust (jsonwebtoken on
//! aws-lc-rs): no OpenSSL.

use std::fmt;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use url::Url;

/// How long an assertion is valid: short, as Entra advises (5–10 minutes).
pub const ASSERTION_LIFETIME_SECS: i64 = 600;

/// Why a certificate and key cannot sign. Each message names where the text came from (a file
/// path, or what the caller called it) and never quotes the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("{name} is not PEM text: {detail}")]
    NotPem { name: String, detail: String },
    #[error("{name} has no '-----BEGIN CERTIFICATE-----' block")]
    NoCertificate { name: String },
    #[error("{name}: {problem}")]
    NoPrivateKey { name: String, problem: KeyProblem },
    #[error("{name}: the private key is not an RSA key ({detail})")]
    NotRsa { name: String, detail: String },
    #[error("{name}: the certificate has no RSA public key ({detail})")]
    NoPublicKey { name: String, detail: String },
    #[error("{name}: cannot sign with the key ({detail})")]
    Unusable { name: String, detail: String },
    #[error(
        "the private key in {key_name} does not belong to the certificate in {certificate_name}"
    )]
    Mismatch {
        key_name: String,
        certificate_name: String,
    },
    #[error("cannot sign the client assertion: {0}")]
    Signing(String),
}

/// Why no usable private key block was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    #[error("its private key is encrypted: give it unencrypted (kept in a secret store)")]
    Encrypted,
    #[error("its private key is an EC key: Entra certificate credentials here are RSA")]
    NotRsa,
    #[error("it has no '-----BEGIN PRIVATE KEY-----' block")]
    Missing,
}

/// A certificate and its RSA private key.
#[derive(Clone)]
pub struct ClientCertificate {
    /// base64url(SHA-1 of the certificate's DER).
    x5t: String,
    /// base64url(SHA-256 of the certificate's DER).
    x5t_s256: String,
    key: EncodingKey,
}

impl fmt::Debug for ClientCertificate {
    /// The thumbprint (public) only: never the private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.x5t_s256)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// The claims of a client assertion (§9.2).
#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

impl ClientCertificate {
    /// The certificate from the PEM text `certificate_pem` (the first `CERTIFICATE` block: the
    /// leaf) and the RSA private key from `key_pem` (a `PRIVATE KEY` or `RSA PRIVATE KEY`
    /// block); the names say where each came from in errors. The key must belong to the
    /// certificate.
    pub fn from_pem(
        certificate_pem: &[u8],
        certificate_name: &str,
        key_pem: &[u8],
        key_name: &str,
    ) -> Result<Self, CertificateError> {
        let blocks = |text: &[u8], name: &str| {
            pem::parse_many(text).map_err(|e| CertificateError::NotPem {
                name: name.to_owned(),
                detail: e.to_string(),
            })
        };
        let certificate = blocks(certificate_pem, certificate_name)?
            .into_iter()
            .find(|block| block.tag() == "CERTIFICATE")
            .ok_or_else(|| CertificateError::NoCertificate {
                name: certificate_name.to_owned(),
            })?;
        let key_blocks = blocks(key_pem, key_name)?;
        let key_block = key_blocks
            .iter()
            .find(|block| matches!(block.tag(), "PRIVATE KEY" | "RSA PRIVATE KEY"))
            .ok_or_else(|| {
                let has = |tag: &str| key_blocks.iter().any(|b| b.tag() == tag);
                let problem = if has("ENCRYPTED PRIVATE KEY") {
                    KeyProblem::Encrypted
                } else if has("EC PRIVATE KEY") {
                    KeyProblem::NotRsa
                } else {
                    KeyProblem::Missing
                };
                CertificateError::NoPrivateKey {
                    name: key_name.to_owned(),
                    problem,
                }
            })?;
        let key = EncodingKey::from_rsa_pem(pem::encode(key_block).as_bytes()).map_err(|e| {
            CertificateError::NotRsa {
                name: key_name.to_owned(),
                detail: e.to_string(),
            }
        })?;
        let der = certificate.contents();
        let thumbprint = |algorithm| URL_SAFE_NO_PAD.encode(digest::digest(algorithm, der));
        let loaded = ClientCertificate {
            x5t: thumbprint(&digest::SHA1_FOR_LEGACY_USE_ONLY),
            x5t_s256: thumbprint(&digest::SHA256),
            key,
        };
        loaded.check_key_matches(
            pem::encode(&certificate).as_bytes(),
            certificate_name,
            key_name,
        )?;
        Ok(loaded)
    }

    /// base64url(SHA-256 of the certificate), the `x5t#S256` the assertion's header carries.
    pub fn thumbprint_sha256(&self) -> &str {
        &self.x5t_s256
    }

    /// A signed client assertion for `client_id` at `token_url` (its `aud`: one tenant's token
    /// endpoint), valid from `now` (seconds since the Unix epoch) for ten minutes, with a fresh
    /// `jti`.
    pub fn assertion(
        &self,
        token_url: &Url,
        client_id: &str,
        now: i64,
    ) -> Result<String, CertificateError> {
        let mut header = Header::new(Algorithm::RS256);
        header.x5t = Some(self.x5t.clone());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let claims = AssertionClaims {
            aud: token_url.as_str(),
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| CertificateError::Signing(e.to_string()))
    }

    /// A key from another certificate would only fail at Entra as a bad signature (AADSTS700027);
    /// said here, it names the two sources.
    fn check_key_matches(
        &self,
        certificate_pem: &[u8],
        certificate_name: &str,
        key_name: &str,
    ) -> Result<(), CertificateError> {
        let public = DecodingKey::from_rsa_pem(certificate_pem).map_err(|e| {
            CertificateError::NoPublicKey {
                name: certificate_name.to_owned(),
                detail: e.to_string(),
            }
        })?;
        let probe = jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &serde_json::json!({"probe": true}),
            &self.key,
        )
        .map_err(|e| CertificateError::Unusable {
            name: key_name.to_owned(),
            detail: e.to_string(),
        })?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<serde_json::Value>(&probe, &public, &validation)
            .map(|_| ())
            .map_err(|_| CertificateError::Mismatch {
                key_name: key_name.to_owned(),
                certificate_name: certificate_name.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    use crate::testing::{SelfSigned, self_signed};

    fn load(generated: &SelfSigned) -> ClientCertificate {
        ClientCertificate::from_pem(
            generated.certificate_pem.as_bytes(),
            "cert.pem",
            generated.key_pem.as_bytes(),
            "key.pem",
        )
        .expect("loads")
    }

    #[test]
    fn the_assertion_has_entras_header_and_claims_and_verifies_with_the_certificate() {
        let generated = self_signed("sspr");
        let certificate = load(&generated);
        let token_url = Url::parse("https://login.test/3f2b/oauth2/v2.0/token").expect("url");
        let now = 1_800_000_000;
        let assertion = certificate
            .assertion(&token_url, "app-id", now)
            .expect("signed");

        let header = jsonwebtoken::decode_header(&assertion).expect("header");
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let sha256 = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &generated.der));
        let sha1 = URL_SAFE_NO_PAD.encode(digest::digest(
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            &generated.der,
        ));
        assert_eq!(header.x5t_s256.as_deref(), Some(sha256.as_str()));
        assert_eq!(header.x5t.as_deref(), Some(sha1.as_str()));
        assert_eq!(certificate.thumbprint_sha256(), sha256);

        // The certificate's public key verifies the signature (its `nbf`/`exp` are checked
        // against the given `now` below, not the clock).
        let public =
            DecodingKey::from_rsa_pem(generated.certificate_pem.as_bytes()).expect("public key");
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.set_audience(&[token_url.as_str()]);
        validation.set_issuer(&["app-id"]);
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<Value>(&assertion, &public, &validation)
            .expect("verifies")
            .claims;
        assert_eq!(claims["sub"], "app-id");
        assert_eq!(claims["nbf"], now);
        assert_eq!(claims["iat"], now);
        assert_eq!(claims["exp"], now + 600);
        let jti = claims["jti"].as_str().expect("jti");
        assert!(uuid::Uuid::parse_str(jti).is_ok(), "{jti}");

        // Each assertion is unique; another key does not verify it.
        let again = certificate
            .assertion(&token_url, "app-id", now)
            .expect("signed");
        let again_claims =
            jsonwebtoken::dangerous::insecure_decode_claims::<Value>(&again).expect("claims");
        assert_ne!(again_claims["jti"], claims["jti"]);
        let other = self_signed("sspr");
        let wrong = DecodingKey::from_rsa_pem(other.certificate_pem.as_bytes()).expect("key");
        assert!(jsonwebtoken::decode::<Value>(&assertion, &wrong, &validation).is_err());
    }

    #[test]
    fn a_pkcs1_key_loads_and_debug_shows_no_key() {
        let generated = self_signed("sspr");
        // PKCS#8 wraps the PKCS#1 `RSAPrivateKey` in an OCTET STRING after a fixed 26-byte
        // prefix (SEQUENCE, version, the rsaEncryption algorithm, the OCTET STRING's header).
        let pkcs8 = pem::parse(&generated.key_pem).expect("PEM");
        let der = pkcs8.contents();
        assert_eq!(
            &der[22..24],
            [0x04, 0x82],
            "an OCTET STRING with a 2-byte length"
        );
        let pkcs1_pem = pem::encode(&pem::Pem::new("RSA PRIVATE KEY", &der[26..]));
        let certificate = ClientCertificate::from_pem(
            generated.certificate_pem.as_bytes(),
            "cert.pem",
            pkcs1_pem.as_bytes(),
            "key.pem",
        )
        .expect("a PKCS#1 key loads");
        assert_eq!(
            certificate.thumbprint_sha256(),
            load(&generated).thumbprint_sha256()
        );
        let debug = format!("{certificate:?}");
        assert!(debug.contains("<redacted>"), "{debug}");
        let body: String = generated
            .key_pem
            .lines()
            .nth(1)
            .expect("a body line")
            .into();
        assert!(!debug.contains(&body), "{debug}");
    }

    #[test]
    fn bad_text_is_named_and_never_quoted() {
        let generated = self_signed("sspr");
        let no_key = ClientCertificate::from_pem(
            generated.certificate_pem.as_bytes(),
            "cert.pem",
            generated.certificate_pem.as_bytes(),
            "cert.pem",
        )
        .expect_err("no key");
        assert_eq!(
            no_key,
            CertificateError::NoPrivateKey {
                name: "cert.pem".into(),
                problem: KeyProblem::Missing
            }
        );
        let ec = ClientCertificate::from_pem(
            generated.certificate_pem.as_bytes(),
            "cert.pem",
            b"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
            "ec.pem",
        )
        .expect_err("an EC key");
        assert_eq!(
            ec.to_string(),
            "ec.pem: its private key is an EC key: Entra certificate credentials here are RSA"
        );
        let no_certificate = ClientCertificate::from_pem(
            generated.key_pem.as_bytes(),
            "key-only.pem",
            generated.key_pem.as_bytes(),
            "key-only.pem",
        )
        .expect_err("no certificate");
        assert_eq!(
            no_certificate.to_string(),
            "key-only.pem has no '-----BEGIN CERTIFICATE-----' block"
        );
        let other = self_signed("sspr");
        let mismatch = ClientCertificate::from_pem(
            generated.certificate_pem.as_bytes(),
            "cert.pem",
            other.key_pem.as_bytes(),
            "other-key.pem",
        )
        .expect_err("mismatch");
        assert_eq!(
            mismatch.to_string(),
            "the private key in other-key.pem does not belong to the certificate in cert.pem"
        );
        let not_pem = ClientCertificate::from_pem(
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
            "cert.pem",
            generated.key_pem.as_bytes(),
            "key.pem",
        )
        .expect_err("not PEM");
        assert!(
            not_pem.to_string().starts_with("cert.pem is not PEM text"),
            "{not_pem}"
        );
    }
}
