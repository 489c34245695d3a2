//! `--auth certificate`: the application proves who it is with a JWT signed by the private key
//! of a certificate uploaded to its registration (graph-api.md §9.2). The certificate, the key
//! and the assertion are `entra_assertion`'s (shared with the service); this reads the files and
//! names the command-line flags in errors.

use std::path::Path;

use url::Url;

use crate::error::ClientError;

/// A certificate and its RSA private key, read from PEM files.
#[derive(Clone, Debug)]
pub struct ClientCertificate(entra_assertion::ClientCertificate);

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
        entra_assertion::ClientCertificate::from_pem(
            &certificate_pem,
            &certificate_file.display().to_string(),
            &key_pem,
            &key_source.display().to_string(),
        )
        .map(ClientCertificate)
        .map_err(|e| {
            ClientError::File(match e {
                entra_assertion::CertificateError::NoPrivateKey {
                    problem: entra_assertion::certificate::KeyProblem::Missing,
                    ..
                } => format!("{e}: give the key with --private-key (SSPR_PRIVATE_KEY)"),
                other => other.to_string(),
            })
        })
    }

    /// base64url(SHA-256 of the certificate), the `x5t#S256` the assertion's header carries.
    pub fn thumbprint_sha256(&self) -> &str {
        self.0.thumbprint_sha256()
    }

    /// A signed client assertion for `client_id` at `token_url` (its `aud`), valid from `now`
    /// (seconds since the Unix epoch) for ten minutes, with a fresh `jti`.
    pub fn assertion(
        &self,
        token_url: &Url,
        client_id: &str,
        now: i64,
    ) -> Result<String, ClientError> {
        self.0
            .assertion(token_url, client_id, now)
            .map_err(|e| ClientError::Auth(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use entra_assertion::testing::self_signed;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn one_file_with_both_blocks_loads_like_two_files() {
        let generated = self_signed("sspr-cli");
        let dir = tempfile::tempdir().expect("temp dir");
        let both = write(
            &dir,
            "both.pem",
            &format!("{}{}", generated.key_pem, generated.certificate_pem),
        );
        let certificate = write(&dir, "cert.pem", &generated.certificate_pem);
        let key = write(&dir, "key.pem", &generated.key_pem);
        let from_one = ClientCertificate::from_pem_files(&both, None).expect("loads");
        let from_two = ClientCertificate::from_pem_files(&certificate, Some(&key)).expect("loads");
        assert_eq!(from_one.thumbprint_sha256(), from_two.thumbprint_sha256());
        let token_url = Url::parse("https://login.test/3f2b/oauth2/v2.0/token").expect("url");
        let assertion = from_one
            .assertion(&token_url, "app-id", 1_800_000_000)
            .expect("signed");
        use base64::Engine as _;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(assertion.split('.').next().expect("a header"))
            .expect("base64url");
        let header: serde_json::Value = serde_json::from_slice(&header).expect("JSON");
        assert_eq!(header["x5t#S256"], from_two.thumbprint_sha256());
        let debug = format!("{from_one:?}");
        assert!(!debug.contains("PRIVATE"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn bad_files_are_named_with_their_flags() {
        let generated = self_signed("sspr-cli");
        let missing = ClientCertificate::from_pem_files(Path::new("/nonexistent/c.pem"), None)
            .expect_err("missing");
        assert!(
            matches!(&missing, ClientError::File(m) if m.contains("/nonexistent/c.pem") && m.contains("--certificate")),
            "{missing}"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let certificate = write(&dir, "cert.pem", &generated.certificate_pem);
        let no_key = ClientCertificate::from_pem_files(&certificate, None).expect_err("no key");
        assert!(
            matches!(&no_key, ClientError::File(m) if m.contains("cert.pem") && m.contains("--private-key")),
            "{no_key}"
        );
        let other = write(&dir, "other-key.pem", &self_signed("sspr-cli").key_pem);
        let mismatch =
            ClientCertificate::from_pem_files(&certificate, Some(&other)).expect_err("mismatch");
        assert!(
            matches!(&mismatch, ClientError::File(m) if m.contains("does not belong to the certificate")),
            "{mismatch}"
        );
    }
}
