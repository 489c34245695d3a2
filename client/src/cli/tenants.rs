//! `sspr tenants …`: the credential options of `add` and `update` and the credential they
//! become on the wire (checked before anything is sent), the `--tag` filter of `list`, and the
//! texts of a tenant's credential, a removal and a verification's verdict.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use sspr_client::types::tenants::{CredentialInput, TenantOrigin, TenantSummary, Verification};

use super::render::format_timestamp;

/// Where a client secret may come from besides standard input: never the command line, where
/// it would end up in the shell's history and the process list.
pub const SECRET_VARIABLE: &str = "SSPR_TENANT_CLIENT_SECRET";

/// The kinds of credential the service can sign in to a tenant with.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialChoice {
    /// The service-wide multi-tenant app and its credential: nothing else to give.
    Default,
    /// A client secret of the app: --app-id, and --client-secret-stdin, SSPR_TENANT_CLIENT_SECRET
    /// or --client-secret-file.
    ClientSecret,
    /// A certificate of the app: --app-id, the certificate and its private key.
    Certificate,
    /// The service's projected Kubernetes token as the app's federated assertion: --app-id,
    /// optionally --token-file.
    WorkloadIdentity,
    /// A user-assigned managed identity as the app's federated credential: --app-id and
    /// --identity-client-id.
    ManagedIdentity,
}

impl CredentialChoice {
    /// As the command line spells it (`client-secret`).
    fn name(self) -> String {
        self.to_possible_value()
            .map(|value| value.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// How the service is to sign in to the tenant (`tenants add`, `tenants update`).
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialFlags {
    /// How the service signs in to the tenant.
    #[arg(long, value_enum)]
    pub credential: Option<CredentialChoice>,
    /// The client id of the app the service signs in as (every kind but default).
    #[arg(long, value_name = "CLIENT_ID")]
    pub app_id: Option<String>,
    /// Read the client secret from standard input, one line (else SSPR_TENANT_CLIENT_SECRET is
    /// used). Never give it on the command line.
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// A file on the service's host holding the client secret, read by the service.
    #[arg(long, value_name = "SERVER_PATH")]
    pub client_secret_file: Option<String>,
    /// The certificate (PEM), read here and sent to be stored encrypted.
    #[arg(long, value_name = "LOCAL_PEM")]
    pub certificate_pem: Option<PathBuf>,
    /// The certificate's private key (PEM, PKCS#8 or PKCS#1), read here and sent to be stored
    /// encrypted.
    #[arg(long, value_name = "LOCAL_PEM")]
    pub private_key_pem: Option<PathBuf>,
    /// A certificate (PEM) file on the service's host, read by the service.
    #[arg(long, value_name = "SERVER_PATH")]
    pub certificate_file: Option<String>,
    /// A private key (PEM) file on the service's host, read by the service.
    #[arg(long, value_name = "SERVER_PATH")]
    pub private_key_file: Option<String>,
    /// The projected service-account token file on the service's host (default: the service's
    /// AZURE_FEDERATED_TOKEN_FILE).
    #[arg(long, value_name = "SERVER_PATH")]
    pub token_file: Option<String>,
    /// The client id of the user-assigned managed identity.
    #[arg(long, value_name = "CLIENT_ID")]
    pub identity_client_id: Option<String>,
}

/// Where a client secret is read from when the options say so.
pub struct SecretSources<'a> {
    pub stdin: &'a mut dyn BufRead,
    /// The value of [`SECRET_VARIABLE`], when set.
    pub environment: Option<String>,
}

impl CredentialFlags {
    /// The credential to send, `None` when no credential option was given; a message naming
    /// the option that is missing, extra or unreadable otherwise. Local PEM files are read
    /// here, a secret from `sources`.
    pub fn to_input(&self, sources: SecretSources<'_>) -> Result<Option<CredentialInput>, String> {
        use CredentialChoice as Kind;
        let given = self.given_options();
        let Some(kind) = self.credential else {
            return match given.first() {
                Some((option, _)) => Err(format!(
                    "{option} needs --credential (default, client-secret, certificate, \
                     workload-identity or managed-identity)"
                )),
                None => Ok(None),
            };
        };
        for (option, kinds) in &given {
            if !kinds.contains(&kind) {
                let names: Vec<String> = kinds.iter().map(|k| k.name()).collect();
                return Err(format!(
                    "{option} does not go with --credential {}: it is for --credential {}",
                    kind.name(),
                    names.join(" or ")
                ));
            }
        }
        let needs = |what: &str| format!("--credential {} needs {what}", kind.name());
        let app_id = || {
            nonblank(&self.app_id)
                .ok_or_else(|| needs("--app-id (the client id of the app the service signs in as)"))
        };
        let credential = match kind {
            Kind::Default => CredentialInput::Default,
            Kind::ClientSecret => {
                let client_id = app_id()?;
                let (client_secret, client_secret_file) =
                    match (self.client_secret_stdin, nonblank(&self.client_secret_file)) {
                        (true, Some(_)) => {
                            return Err("give the client secret one way: --client-secret-stdin \
                                        or --client-secret-file, not both"
                                .to_owned());
                        }
                        (true, None) => (Some(secret_line(sources.stdin)?), None),
                        (false, Some(file)) => (None, Some(file)),
                        (false, None) => match sources.environment.filter(|s| !s.trim().is_empty())
                        {
                            Some(secret) => (Some(secret), None),
                            None => {
                                return Err(needs(&format!(
                                    "the secret: --client-secret-stdin (pipe it in), \
                                     {SECRET_VARIABLE}, or --client-secret-file SERVER_PATH"
                                )));
                            }
                        },
                    };
                CredentialInput::ClientSecret {
                    client_id,
                    client_secret,
                    client_secret_file,
                }
            }
            Kind::Certificate => {
                let client_id = app_id()?;
                let (certificate_pem, certificate_file) = one_of(
                    self.certificate_pem.as_deref(),
                    &self.certificate_file,
                    PemPart::Certificate,
                )
                .map_err(|e| e.unwrap_or_else(|| needs(PemPart::Certificate.missing())))?;
                let (private_key_pem, private_key_file) = one_of(
                    self.private_key_pem.as_deref(),
                    &self.private_key_file,
                    PemPart::PrivateKey,
                )
                .map_err(|e| e.unwrap_or_else(|| needs(PemPart::PrivateKey.missing())))?;
                CredentialInput::Certificate {
                    client_id,
                    certificate_pem,
                    private_key_pem,
                    certificate_file,
                    private_key_file,
                }
            }
            Kind::WorkloadIdentity => CredentialInput::WorkloadIdentity {
                client_id: app_id()?,
                token_file: nonblank(&self.token_file),
            },
            Kind::ManagedIdentity => CredentialInput::ManagedIdentity {
                client_id: app_id()?,
                identity_client_id: nonblank(&self.identity_client_id).ok_or_else(|| {
                    needs("--identity-client-id (the client id of the user-assigned identity)")
                })?,
            },
        };
        Ok(Some(credential))
    }

    /// Every credential option given besides `--credential`, with the kinds it belongs to.
    fn given_options(&self) -> Vec<(&'static str, &'static [CredentialChoice])> {
        use CredentialChoice as Kind;
        const APP: &[Kind] = &[
            Kind::ClientSecret,
            Kind::Certificate,
            Kind::WorkloadIdentity,
            Kind::ManagedIdentity,
        ];
        [
            ("--app-id", self.app_id.is_some(), APP),
            (
                "--client-secret-stdin",
                self.client_secret_stdin,
                &[Kind::ClientSecret][..],
            ),
            (
                "--client-secret-file",
                self.client_secret_file.is_some(),
                &[Kind::ClientSecret],
            ),
            (
                "--certificate-pem",
                self.certificate_pem.is_some(),
                &[Kind::Certificate],
            ),
            (
                "--private-key-pem",
                self.private_key_pem.is_some(),
                &[Kind::Certificate],
            ),
            (
                "--certificate-file",
                self.certificate_file.is_some(),
                &[Kind::Certificate],
            ),
            (
                "--private-key-file",
                self.private_key_file.is_some(),
                &[Kind::Certificate],
            ),
            (
                "--token-file",
                self.token_file.is_some(),
                &[Kind::WorkloadIdentity],
            ),
            (
                "--identity-client-id",
                self.identity_client_id.is_some(),
                &[Kind::ManagedIdentity],
            ),
        ]
        .into_iter()
        .filter(|(_, given, _)| *given)
        .map(|(option, _, kinds)| (option, kinds))
        .collect()
    }
}

/// The two halves of a certificate credential, each a local PEM file or a path on the service.
#[derive(Clone, Copy)]
enum PemPart {
    Certificate,
    PrivateKey,
}

impl PemPart {
    fn options(self) -> (&'static str, &'static str) {
        match self {
            PemPart::Certificate => ("--certificate-pem", "--certificate-file"),
            PemPart::PrivateKey => ("--private-key-pem", "--private-key-file"),
        }
    }

    fn missing(self) -> &'static str {
        match self {
            PemPart::Certificate => {
                "the certificate: --certificate-pem LOCAL_PEM or --certificate-file SERVER_PATH"
            }
            PemPart::PrivateKey => {
                "the private key: --private-key-pem LOCAL_PEM or --private-key-file SERVER_PATH"
            }
        }
    }

    /// Whether `text` holds this part's PEM block (a certificate, or a private key of any
    /// encoding: `PRIVATE KEY`, `RSA PRIVATE KEY`, …).
    fn found_in(self, text: &str) -> bool {
        match self {
            PemPart::Certificate => text.contains("-----BEGIN CERTIFICATE-----"),
            PemPart::PrivateKey => text
                .lines()
                .any(|line| line.starts_with("-----BEGIN ") && line.ends_with("PRIVATE KEY-----")),
        }
    }
}

/// The local file read (its PEM text) or the service's path, exactly one of them; `Err(None)`
/// when neither was given, `Err(Some(message))` when both were or the file is unusable.
fn one_of(
    local: Option<&Path>,
    server: &Option<String>,
    part: PemPart,
) -> Result<(Option<String>, Option<String>), Option<String>> {
    let (local_option, server_option) = part.options();
    match (local, nonblank(server)) {
        (Some(_), Some(_)) => Err(Some(format!(
            "give {local_option} or {server_option}, not both"
        ))),
        (Some(path), None) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Some(format!(
                    "cannot read {local_option} {}: {e}",
                    path.display()
                ))
            })?;
            if !part.found_in(&text) {
                // The file's content is never quoted: it may be the key.
                return Err(Some(format!(
                    "{local_option} {} holds no PEM {}",
                    path.display(),
                    match part {
                        PemPart::Certificate => "certificate (-----BEGIN CERTIFICATE-----)",
                        PemPart::PrivateKey => "private key (-----BEGIN PRIVATE KEY-----)",
                    }
                )));
            }
            Ok((Some(text), None))
        }
        (None, Some(path)) => Ok((None, Some(path))),
        (None, None) => Err(None),
    }
}

/// The first line of standard input without its line ending; refused when empty.
fn secret_line(stdin: &mut dyn BufRead) -> Result<String, String> {
    let mut line = String::new();
    stdin
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the client secret from standard input: {e}"))?;
    let secret = line.trim_end_matches(['\r', '\n']);
    if secret.trim().is_empty() {
        return Err(
            "--client-secret-stdin read no client secret: standard input was empty".to_owned(),
        );
    }
    Ok(secret.to_owned())
}

fn nonblank(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The tenants that carry every tag of `tags` (each given as `region:eu` or `tag:region:eu`).
pub fn with_tags(tenants: Vec<TenantSummary>, tags: &[String]) -> Vec<TenantSummary> {
    let wanted: Vec<&str> = tags
        .iter()
        .map(|tag| tag.strip_prefix("tag:").unwrap_or(tag))
        .collect();
    tenants
        .into_iter()
        .filter(|tenant| {
            wanted
                .iter()
                .all(|tag| tenant.tags.iter().any(|t| t == tag))
        })
        .collect()
}

/// The lines under a tenant's table: where it was defined, how the service signs in to it and
/// when that last worked, and its health.
pub fn tenant_detail(tenant: &TenantSummary) -> String {
    let credential = &tenant.credential;
    let mut lines = vec![
        format!(
            "Origin: {}",
            match tenant.origin {
                TenantOrigin::Config => "config (the configuration file; read-only here)",
                TenantOrigin::Api => "api (onboarded through the API)",
            }
        ),
        format!(
            "Credential: {}, app {}, secret kept: {}",
            super::render::wire_name(&credential.kind),
            credential.client_id,
            super::render::wire_name(&credential.secret_storage)
        ),
        format!(
            "Last worked: {}",
            credential
                .last_success
                .as_deref()
                .map_or_else(|| "never".to_owned(), format_timestamp)
        ),
    ];
    if let Some(failure) = &credential.last_failure {
        lines.push(format!(
            "Last failed: {}: {}",
            format_timestamp(&failure.at),
            failure.message
        ));
    }
    lines.push(format!(
        "Health: {}: {}",
        super::render::wire_name(&tenant.health.status),
        tenant.health.detail
    ));
    lines.join("\n")
}

/// What to do after onboarding `tenant`.
pub fn next_steps(tenant: &TenantSummary) -> String {
    format!(
        "Next: send the consent link to the tenant's administrator \
         (sspr tenants consent-url --tenant {key}), then check what works: \
         sspr tenants verify --tenant {key}",
        key = tenant.domain
    )
}

/// The features a verification found unavailable, by their API names.
pub fn unavailable_features(verdict: &Verification) -> Vec<String> {
    verdict
        .features
        .iter()
        .filter(|check| !check.available)
        .map(|check| super::render::wire_name(&check.feature))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        flags: CredentialFlags,
    }

    fn flags(args: &[&str]) -> CredentialFlags {
        Flags::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .expect("valid flags")
            .flags
    }

    /// The credential `args` give, with `stdin` as standard input and `environment` as
    /// SSPR_TENANT_CLIENT_SECRET.
    fn input(
        args: &[&str],
        stdin: &str,
        environment: Option<&str>,
    ) -> Result<Option<CredentialInput>, String> {
        flags(args).to_input(SecretSources {
            stdin: &mut stdin.as_bytes(),
            environment: environment.map(str::to_owned),
        })
    }

    #[test]
    fn no_credential_option_is_no_credential_and_a_lone_option_needs_the_kind() {
        assert_eq!(input(&[], "", None), Ok(None));
        let error = input(&["--app-id", "a"], "", None).expect_err("no kind");
        assert!(error.starts_with("--app-id needs --credential"), "{error}");
    }

    #[test]
    fn the_default_app_takes_nothing_else() {
        assert_eq!(
            input(&["--credential", "default"], "", None),
            Ok(Some(CredentialInput::Default))
        );
        let error = input(&["--credential", "default", "--app-id", "a"], "", None)
            .expect_err("extra option");
        assert_eq!(
            error,
            "--app-id does not go with --credential default: it is for --credential \
             client-secret or certificate or workload-identity or managed-identity"
        );
    }

    #[test]
    fn a_client_secret_comes_from_stdin_the_environment_or_a_server_file() {
        let secret = |client_secret: Option<&str>, client_secret_file: Option<&str>| {
            Ok(Some(CredentialInput::ClientSecret {
                client_id: "app".into(),
                client_secret: client_secret.map(str::to_owned),
                client_secret_file: client_secret_file.map(str::to_owned),
            }))
        };
        let stdin = [
            "--credential",
            "client-secret",
            "--app-id",
            "app",
            "--client-secret-stdin",
        ];
        // Only the first line, without its line ending; stdin wins over the environment.
        assert_eq!(
            input(&stdin, "s3cr~t\r\nnext\n", Some("from-env")),
            secret(Some("s3cr~t"), None)
        );
        assert!(
            input(&stdin, "\n", None)
                .expect_err("empty")
                .contains("standard input was empty")
        );
        let plain = ["--credential", "client-secret", "--app-id", "app"];
        assert_eq!(
            input(&plain, "", Some("from-env")),
            secret(Some("from-env"), None)
        );
        let error = input(&plain, "", None).expect_err("no secret");
        assert!(
            error.starts_with("--credential client-secret needs the secret")
                && error.contains(SECRET_VARIABLE),
            "{error}"
        );
        let file = [
            "--credential",
            "client-secret",
            "--app-id",
            "app",
            "--client-secret-file",
            "/run/secrets/t",
        ];
        assert_eq!(input(&file, "", None), secret(None, Some("/run/secrets/t")));
        let both = [&stdin[..], &["--client-secret-file", "/x"]].concat();
        assert!(
            input(&both, "s", None)
                .expect_err("both")
                .contains("not both")
        );
        let no_app = input(&["--credential", "client-secret"], "", Some("s")).expect_err("app");
        assert!(no_app.contains("needs --app-id"), "{no_app}");
    }

    #[test]
    fn a_certificate_is_read_locally_or_named_on_the_server() {
        let dir = tempfile::tempdir().expect("temp dir");
        let certificate = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let cert_text = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let key_text = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";
        std::fs::write(&certificate, cert_text).expect("write");
        std::fs::write(&key, key_text).expect("write");
        let cert_arg = certificate.display().to_string();
        let key_arg = key.display().to_string();
        let base = ["--credential", "certificate", "--app-id", "app"];
        let local = [
            &base[..],
            &[
                "--certificate-pem",
                &cert_arg,
                "--private-key-pem",
                &key_arg,
            ],
        ]
        .concat();
        assert_eq!(
            input(&local, "", None),
            Ok(Some(CredentialInput::Certificate {
                client_id: "app".into(),
                certificate_pem: Some(cert_text.into()),
                private_key_pem: Some(key_text.into()),
                certificate_file: None,
                private_key_file: None,
            }))
        );
        let server = [
            &base[..],
            &[
                "--certificate-file",
                "/etc/c.pem",
                "--private-key-file",
                "/etc/k.pem",
            ],
        ]
        .concat();
        assert_eq!(
            input(&server, "", None),
            Ok(Some(CredentialInput::Certificate {
                client_id: "app".into(),
                certificate_pem: None,
                private_key_pem: None,
                certificate_file: Some("/etc/c.pem".into()),
                private_key_file: Some("/etc/k.pem".into()),
            }))
        );
        let no_key = [&base[..], &["--certificate-pem", &cert_arg]].concat();
        assert_eq!(
            input(&no_key, "", None),
            Err(
                "--credential certificate needs the private key: --private-key-pem LOCAL_PEM \
                 or --private-key-file SERVER_PATH"
                    .to_owned()
            )
        );
        // The key given as the certificate is refused without quoting it.
        let swapped = [
            &base[..],
            &["--certificate-pem", &key_arg, "--private-key-pem", &key_arg],
        ]
        .concat();
        let error = input(&swapped, "", None).expect_err("not a certificate");
        assert!(
            error.contains("holds no PEM certificate") && !error.contains("MIIE"),
            "{error}"
        );
        let both = [&local[..], &["--certificate-file", "/etc/c.pem"]].concat();
        assert_eq!(
            input(&both, "", None),
            Err("give --certificate-pem or --certificate-file, not both".to_owned())
        );
        let missing = [
            &base[..],
            &[
                "--certificate-pem",
                "/nonexistent/c.pem",
                "--private-key-file",
                "/k",
            ],
        ]
        .concat();
        assert!(
            input(&missing, "", None)
                .expect_err("unreadable")
                .contains("/nonexistent/c.pem")
        );
    }

    #[test]
    fn federated_credentials_need_their_ids() {
        assert_eq!(
            input(
                &["--credential", "workload-identity", "--app-id", "app"],
                "",
                None
            ),
            Ok(Some(CredentialInput::WorkloadIdentity {
                client_id: "app".into(),
                token_file: None
            }))
        );
        assert_eq!(
            input(
                &[
                    "--credential",
                    "managed-identity",
                    "--app-id",
                    "app",
                    "--identity-client-id",
                    "mi"
                ],
                "",
                None
            ),
            Ok(Some(CredentialInput::ManagedIdentity {
                client_id: "app".into(),
                identity_client_id: "mi".into()
            }))
        );
        let error = input(
            &["--credential", "managed-identity", "--app-id", "app"],
            "",
            None,
        )
        .expect_err("no identity");
        assert!(error.contains("needs --identity-client-id"), "{error}");
        let error = input(
            &[
                "--credential",
                "managed-identity",
                "--app-id",
                "a",
                "--identity-client-id",
                "m",
                "--token-file",
                "/t",
            ],
            "",
            None,
        )
        .expect_err("token file");
        assert_eq!(
            error,
            "--token-file does not go with --credential managed-identity: it is for --credential workload-identity"
        );
    }

    fn example_tenants() -> Vec<TenantSummary> {
        serde_json::from_value::<sspr_client::TenantList>(sspr_api::examples::tenant_list())
            .expect("the example")
            .value
    }

    #[test]
    fn the_tag_filter_keeps_tenants_with_every_tag() {
        let names = |tenants: Vec<TenantSummary>| -> Vec<String> {
            tenants.into_iter().map(|t| t.display_name).collect()
        };
        assert_eq!(names(with_tags(example_tenants(), &[])).len(), 2);
        assert_eq!(
            names(with_tags(example_tenants(), &["region:eu".into()])),
            ["Contoso"]
        );
        assert_eq!(
            names(with_tags(example_tenants(), &["tag:region:us".into()])),
            ["Tailspin Toys"]
        );
        assert!(with_tags(example_tenants(), &["region:eu".into(), "region:us".into()]).is_empty());
    }

    #[test]
    fn the_detail_names_the_origin_the_credential_and_the_health() {
        let tenants = example_tenants();
        let contoso = tenant_detail(&tenants[0]);
        assert!(contoso.contains("Origin: config"), "{contoso}");
        assert!(
            contoso.contains("Credential: clientSecret, app 6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b, secret kept: config"),
            "{contoso}"
        );
        assert!(
            contoso.contains("Last worked: 2026-12-06 09:14:03 UTC"),
            "{contoso}"
        );
        assert!(contoso.contains("Health: healthy: Verified"), "{contoso}");
        let tailspin = tenant_detail(&tenants[1]);
        assert!(
            tailspin.contains("Last worked: never") && tailspin.contains("Health: unverified"),
            "{tailspin}"
        );
    }

    #[test]
    fn the_unavailable_features_are_named() {
        let verdict: Verification =
            serde_json::from_value(sspr_api::examples::verification()).expect("the example");
        assert_eq!(unavailable_features(&verdict), ["intune"]);
    }
}
