//! `--auth certificate`: the application proves who it is with a JWT signed by the private key
//! of a certificate uploaded to its registration (graph-api.md §9.2), RS256 with the
//! certificate's SHA-256 (`x5t#S256`) and SHA-1 (`x5t`) thumbprints in the header, so that no
//! secret ever travels. Pure Rust (jsonwebtoken on aws-lc-rs): no OpenSSL.

use std::fmt;
use std::path::Path;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use url::Url;

use crate::error::ClientError;

/// How long an assertion is valid: short, as Entra advises (5–10 minutes).
const ASSERTION_LIFETIME_SECS: i64 = 600;

/// A certificate and its RSA private key, read from PEM files.
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
    /// Reads the certificate from `certificate_file` and the private key from `key_file`, or
    /// from the certificate file itself when `key_file` is `None` (one PEM with both).
    pub fn from_pem_files(
        certificate_file: &Path,
        key_file: Option<&Path>,
    ) -> Result<Self, ClientError> {
        let read = |path: &Path, what: &str| {
            std::fs::read(path).map_err(|e| {
                ClientError::File(format!("cannot read the {what} {}: {e}", path.display()))
            })
        };
        let certificate_pem = read(certificate_file, "certificate file (--certificate)")?;
        let key_pem = match key_file {
            Some(path) => read(path, "private key file (--private-key)")?,
            None => certificate_pem.clone(),
        };
        let key_source = key_file.unwrap_or(certificate_file);
        Self::from_pem(
            &certificate_pem,
            &certificate_file.display().to_string(),
            &key_pem,
            &key_source.display().to_string(),
        )
    }

    /// The certificate from the PEM text `certificate_pem` (the first `CERTIFICATE` block: the
    /// leaf) and the RSA private key from `key_pem` (a `PRIVATE KEY` or `RSA PRIVATE KEY`
    /// block); the names say where each came from in errors. The key must belong to the
    /// certificate.
    pub fn from_pem(
        certificate_pem: &[u8],
        certificate_name: &str,
        key_pem: &[u8],
        key_name: &str,
    ) -> Result<Self, ClientError> {
        let blocks = |text: &[u8], name: &str| {
            pem::parse_many(text)
                .map_err(|e| ClientError::File(format!("{name} is not PEM text: {e}")))
        };
        let certificate = blocks(certificate_pem, certificate_name)?
            .into_iter()
            .find(|block| block.tag() == "CERTIFICATE")
            .ok_or_else(|| {
                ClientError::File(format!(
                    "{certificate_name} has no '-----BEGIN CERTIFICATE-----' block"
                ))
            })?;
        let key_blocks = blocks(key_pem, key_name)?;
        let key_block = key_blocks
            .iter()
            .find(|block| matches!(block.tag(), "PRIVATE KEY" | "RSA PRIVATE KEY"))
            .ok_or_else(|| {
                let why = if key_blocks
                    .iter()
                    .any(|b| b.tag() == "ENCRYPTED PRIVATE KEY")
                {
                    "its private key is encrypted: give it unencrypted (kept in a secret store)"
                } else if key_blocks.iter().any(|b| b.tag() == "EC PRIVATE KEY") {
                    "its private key is an EC key: Entra certificate credentials here are RSA"
                } else {
                    "it has no '-----BEGIN PRIVATE KEY-----' block: give the key with --private-key (SSPR_PRIVATE_KEY)"
                };
                ClientError::File(format!("{key_name}: {why}"))
            })?;
        let key = EncodingKey::from_rsa_pem(pem::encode(key_block).as_bytes()).map_err(|e| {
            ClientError::File(format!(
                "{key_name}: the private key is not an RSA key ({e})"
            ))
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

    /// A signed client assertion for `client_id` at `token_url` (its `aud`), valid from `now`
    /// (seconds since the Unix epoch) for ten minutes, with a fresh `jti`.
    pub fn assertion(
        &self,
        token_url: &Url,
        client_id: &str,
        now: i64,
    ) -> Result<String, ClientError> {
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
            .map_err(|e| ClientError::Auth(format!("cannot sign the client assertion: {e}")))
    }

    /// A key from another certificate would only fail at Entra as a bad signature (AADSTS700027);
    /// said here, it names the two files.
    fn check_key_matches(
        &self,
        certificate_pem: &[u8],
        certificate_name: &str,
        key_name: &str,
    ) -> Result<(), ClientError> {
        let public = DecodingKey::from_rsa_pem(certificate_pem).map_err(|e| {
            ClientError::File(format!(
                "{certificate_name}: the certificate has no RSA public key ({e})"
            ))
        })?;
        let probe = jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &serde_json::json!({"probe": true}),
            &self.key,
        )
        .map_err(|e| ClientError::File(format!("{key_name}: cannot sign with the key ({e})")))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<serde_json::Value>(&probe, &public, &validation)
            .map(|_| ())
            .map_err(|_| {
                ClientError::File(format!(
                    "the private key in {key_name} does not belong to the certificate in {certificate_name}"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    struct Generated {
        certificate_pem: String,
        key_pem: String,
        der: Vec<u8>,
    }

    fn generate() -> Generated {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
        let certificate = rcgen::CertificateParams::new(vec!["sspr-cli".into()])
            .expect("params")
            .self_signed(&pair)
            .expect("self-signed");
        Generated {
            certificate_pem: certificate.pem(),
            key_pem: pair.serialize_pem(),
            der: certificate.der().to_vec(),
        }
    }

    fn load(generated: &Generated) -> ClientCertificate {
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
        let generated = generate();
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
        let other = generate();
        let wrong = DecodingKey::from_rsa_pem(other.certificate_pem.as_bytes()).expect("key");
        assert!(jsonwebtoken::decode::<Value>(&assertion, &wrong, &validation).is_err());
    }

    #[test]
    fn one_file_with_both_blocks_loads() {
        let generated = generate();
        let both = format!("{}{}", generated.key_pem, generated.certificate_pem);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("both.pem");
        std::fs::write(&path, &both).expect("write");
        let from_one = ClientCertificate::from_pem_files(&path, None).expect("loads");
        assert_eq!(
            from_one.thumbprint_sha256(),
            load(&generated).thumbprint_sha256()
        );
        let debug = format!("{from_one:?}");
        assert!(!debug.contains("PRIVATE"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn bad_files_are_named() {
        let generated = generate();
        let missing = ClientCertificate::from_pem_files(Path::new("/nonexistent/c.pem"), None)
            .expect_err("missing");
        assert!(
            matches!(&missing, ClientError::File(m) if m.contains("/nonexistent/c.pem") && m.contains("--certificate")),
            "{missing}"
        );
        let no_key = ClientCertificate::from_pem(
            generated.certificate_pem.as_bytes(),
            "cert.pem",
            generated.certificate_pem.as_bytes(),
            "cert.pem",
        )
        .expect_err("no key");
        assert!(
            no_key.to_string().contains("cert.pem") && no_key.to_string().contains("--private-key"),
            "{no_key}"
        );
        let no_certificate = ClientCertificate::from_pem(
            generated.key_pem.as_bytes(),
            "key-only.pem",
            generated.key_pem.as_bytes(),
            "key-only.pem",
        )
        .expect_err("no certificate");
        assert!(
            no_certificate.to_string().contains("key-only.pem has no"),
            "{no_certificate}"
        );
        let other = generate();
        let mismatch = ClientCertificate::from_pem(
            generated.certificate_pem.as_bytes(),
            "cert.pem",
            other.key_pem.as_bytes(),
            "other-key.pem",
        )
        .expect_err("mismatch");
        assert_eq!(
            mismatch.to_string(),
            ClientError::File(
                "the private key in other-key.pem does not belong to the certificate in cert.pem"
                    .into()
            )
            .to_string()
        );
    }
}
