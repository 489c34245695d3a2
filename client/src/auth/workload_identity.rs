//! `--auth workload-identity`: in a Kubernetes pod with Azure Workload Identity, the projected
//! service-account token is the client assertion (graph-api.md §9.3). The webhook injects
//! `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID`, `AZURE_TENANT_ID` and
//! `AZURE_AUTHORITY_HOST`; the kubelet rotates the file, so it is read again for every token
//! request and its content is never kept.

use std::path::{Path, PathBuf};

use url::Url;

use super::token_url_for_authority;
use crate::error::ClientError;

/// The variables the Azure Workload Identity webhook injects into a pod.
pub const FEDERATED_TOKEN_FILE_VAR: &str = "AZURE_FEDERATED_TOKEN_FILE";
pub const CLIENT_ID_VAR: &str = "AZURE_CLIENT_ID";
pub const TENANT_ID_VAR: &str = "AZURE_TENANT_ID";
pub const AUTHORITY_HOST_VAR: &str = "AZURE_AUTHORITY_HOST";
/// What Azure's SDKs use when `AZURE_AUTHORITY_HOST` is not set: the public cloud.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com/";

/// Where a workload identity's token request goes, and with which file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadIdentitySettings {
    pub token_url: Url,
    pub client_id: String,
    pub token_file: PathBuf,
}

/// The settings from the webhook's variables (read through `var`), each overridden by what
/// was given on the command line: `client_id` (`--client-id`), `authority` (`--authority`, the
/// whole authority with the tenant) and `token_file` (`--federated-token-file`). The error
/// names every setting still missing.
pub fn settings(
    client_id: Option<String>,
    authority: Option<&Url>,
    token_file: Option<PathBuf>,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<WorkloadIdentitySettings, ClientError> {
    let var = |name: &str| {
        var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let token_file = token_file.or_else(|| var(FEDERATED_TOKEN_FILE_VAR).map(PathBuf::from));
    let client_id = client_id.or_else(|| var(CLIENT_ID_VAR));
    let token_url = match authority {
        Some(authority) => Some(token_url_for_authority(authority)?),
        None => match var(TENANT_ID_VAR) {
            Some(tenant) => Some(tenant_token_url(
                var(AUTHORITY_HOST_VAR).as_deref(),
                &tenant,
            )?),
            None => None,
        },
    };
    match (token_url, client_id, token_file) {
        (Some(token_url), Some(client_id), Some(token_file)) => Ok(WorkloadIdentitySettings {
            token_url,
            client_id,
            token_file,
        }),
        (token_url, client_id, token_file) => {
            let missing: Vec<&str> = [
                (
                    token_file.is_none(),
                    "AZURE_FEDERATED_TOKEN_FILE (--federated-token-file)",
                ),
                (
                    client_id.is_none(),
                    "AZURE_CLIENT_ID (or SSPR_CLIENT_ID, --client-id)",
                ),
                (
                    token_url.is_none(),
                    "AZURE_TENANT_ID (or SSPR_AUTHORITY, --authority)",
                ),
            ]
            .into_iter()
            .filter_map(|(absent, name)| absent.then_some(name))
            .collect();
            Err(ClientError::Auth(format!(
                "--auth workload-identity needs {}: the Azure Workload Identity webhook sets them in a pod labelled azure.workload.identity/use=true",
                missing.join(" and ")
            )))
        }
    }
}

/// `{host}/{tenant}/oauth2/v2.0/token`, the host with or without its trailing slash.
fn tenant_token_url(host: Option<&str>, tenant: &str) -> Result<Url, ClientError> {
    let host = host.unwrap_or(DEFAULT_AUTHORITY_HOST);
    let mut authority = Url::parse(host).map_err(|e| {
        ClientError::Config(format!("{AUTHORITY_HOST_VAR} is not a URL ('{host}'): {e}"))
    })?;
    if !authority.path().ends_with('/') {
        let path = format!("{}/", authority.path());
        authority.set_path(&path);
    }
    let authority = authority.join(&format!("{tenant}/")).map_err(|e| {
        ClientError::Config(format!(
            "cannot join {TENANT_ID_VAR} '{tenant}' to {AUTHORITY_HOST_VAR} '{host}': {e}"
        ))
    })?;
    token_url_for_authority(&authority)
}

/// The federated token in `path`, as it is now (the kubelet may have rotated it since the last
/// request).
pub(super) fn read_federated_token(path: &Path) -> Result<String, ClientError> {
    let content = std::fs::read_to_string(path).map_err(|e| {
        ClientError::File(format!(
            "cannot read the federated token file {} ({FEDERATED_TOKEN_FILE_VAR}): {e}",
            path.display()
        ))
    })?;
    let token = content.trim();
    if token.is_empty() {
        return Err(ClientError::File(format!(
            "the federated token file {} ({FEDERATED_TOKEN_FILE_VAR}) is empty",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_webhooks_variables_make_the_settings_with_or_without_a_trailing_slash() {
        for host in [
            "https://login.microsoftonline.com/",
            "https://login.microsoftonline.com",
        ] {
            let env = vars(&[
                (
                    "AZURE_FEDERATED_TOKEN_FILE",
                    "/var/run/secrets/azure/wi/token/t",
                ),
                ("AZURE_CLIENT_ID", "app"),
                ("AZURE_TENANT_ID", "3f2b"),
                ("AZURE_AUTHORITY_HOST", host),
            ]);
            let settings = settings(None, None, None, &env).expect("settings");
            assert_eq!(
                settings.token_url.as_str(),
                "https://login.microsoftonline.com/3f2b/oauth2/v2.0/token",
                "{host}"
            );
            assert_eq!(settings.client_id, "app");
            assert_eq!(
                settings.token_file,
                PathBuf::from("/var/run/secrets/azure/wi/token/t")
            );
        }
        // Without AZURE_AUTHORITY_HOST, the public cloud, as Azure's SDKs do.
        let env = vars(&[
            ("AZURE_FEDERATED_TOKEN_FILE", "/t"),
            ("AZURE_CLIENT_ID", "app"),
            ("AZURE_TENANT_ID", "3f2b"),
        ]);
        assert_eq!(
            settings(None, None, None, &env)
                .expect("settings")
                .token_url
                .as_str(),
            "https://login.microsoftonline.com/3f2b/oauth2/v2.0/token"
        );
    }

    #[test]
    fn command_line_settings_override_the_variables() {
        let env = vars(&[
            ("AZURE_FEDERATED_TOKEN_FILE", "/from-env"),
            ("AZURE_CLIENT_ID", "env-app"),
            ("AZURE_TENANT_ID", "env-tenant"),
        ]);
        let authority = Url::parse("https://emu.test/customer").expect("url");
        let settings = settings(
            Some("flag-app".into()),
            Some(&authority),
            Some("/from-flag".into()),
            &env,
        )
        .expect("settings");
        assert_eq!(
            settings.token_url.as_str(),
            "https://emu.test/customer/oauth2/v2.0/token"
        );
        assert_eq!(settings.client_id, "flag-app");
        assert_eq!(settings.token_file, PathBuf::from("/from-flag"));
    }

    #[test]
    fn missing_settings_are_named() {
        let message = settings(None, None, None, &vars(&[("AZURE_CLIENT_ID", "app")]))
            .expect_err("incomplete")
            .to_string();
        assert!(message.contains("AZURE_FEDERATED_TOKEN_FILE"), "{message}");
        assert!(message.contains("AZURE_TENANT_ID"), "{message}");
        assert!(!message.contains("AZURE_CLIENT_ID"), "{message}");
        let blank = settings(
            None,
            None,
            None,
            &vars(&[
                ("AZURE_FEDERATED_TOKEN_FILE", "/t"),
                ("AZURE_CLIENT_ID", "  "),
                ("AZURE_TENANT_ID", "t"),
            ]),
        )
        .expect_err("blank client id")
        .to_string();
        assert!(blank.contains("AZURE_CLIENT_ID"), "{blank}");
    }

    #[test]
    fn the_file_is_read_as_it_is_now() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("token");
        std::fs::write(&path, "first.jwt.token\n").expect("write");
        assert_eq!(
            read_federated_token(&path).expect("read"),
            "first.jwt.token"
        );
        std::fs::write(&path, "second.jwt.token").expect("rotate");
        assert_eq!(
            read_federated_token(&path).expect("read"),
            "second.jwt.token"
        );
        std::fs::write(&path, " \n").expect("empty");
        let empty = read_federated_token(&path).expect_err("empty");
        assert!(empty.to_string().contains("is empty"), "{empty}");
        let missing = read_federated_token(&dir.path().join("gone")).expect_err("missing");
        let message = missing.to_string();
        assert!(
            message.contains("gone") && message.contains("AZURE_FEDERATED_TOKEN_FILE"),
            "{message}"
        );
    }
}
