//! Changing the SSPR policy: building an RFC 7396 merge patch (from flags or a JSON/YAML file),
//! `PATCH /v1/tenants/{tenant}/sspr/policy` with `If-Match` (plan, then apply). The answers are
//! the types of [`crate::types::policy`].
//!
//! ```no_run
//! # async fn demo(client: &sspr_client::SsprClient) -> Result<(), sspr_client::ClientError> {
//! use sspr_client::PolicyPlan;
//! let patch = serde_json::json!({"registration": {"reconfirmDays": 90}});
//! let (_document, etag) = client.get_policy_with_etag("contoso.com").await?;
//! let plan: PolicyPlan = client.plan_policy_change("contoso.com", &patch, &etag).await?.value;
//! if !plan.changes.is_empty() {
//!     // A 412 here means someone changed the policy since the GET: read it again.
//!     let applied = client.apply_policy_change("contoso.com", &patch, &etag).await?;
//!     println!("{}", applied.document["registration"]["reconfirmDays"]);
//! }
//! # Ok(()) }
//! ```

use std::path::Path;

use reqwest::header::{CONTENT_TYPE, HeaderValue, IF_MATCH};
use reqwest::{Method, RequestBuilder};
use serde_json::{Map, Value, json};

use crate::types::Answer;
pub use crate::types::policy::{
    FieldChange, Finding, PlanStep, PolicyDocument, PolicyPlan, UpstreamCall,
};
use crate::{ClientError, PolicyResponse, SsprClient, policy_response};
use url::Url;

/// The media type of an RFC 7396 merge patch.
pub const MERGE_PATCH: &str = "application/merge-patch+json";

// ---------------------------------------------------------------------------------------------
// The merge patch from flags.
// ---------------------------------------------------------------------------------------------

/// Who SSPR is enabled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnablementScope {
    None,
    Selected,
    All,
}

impl EnablementScope {
    pub fn as_str(self) -> &'static str {
        match self {
            EnablementScope::None => "none",
            EnablementScope::Selected => "selected",
            EnablementScope::All => "all",
        }
    }
}

/// The Authentication methods policy's migration state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "camelCase")]
pub enum MigrationState {
    PreMigration,
    MigrationInProgress,
    MigrationComplete,
}

impl MigrationState {
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationState::PreMigration => "preMigration",
            MigrationState::MigrationInProgress => "migrationInProgress",
            MigrationState::MigrationComplete => "migrationComplete",
        }
    }
}

/// The methods usable for reset, by their names in the policy document.
pub const METHODS: [&str; 6] = [
    "mobileAppNotification",
    "mobileAppCode",
    "email",
    "mobilePhone",
    "officePhone",
    "securityQuestions",
];

/// One `--method NAME=on|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodSetting {
    /// One of [`METHODS`].
    pub name: &'static str,
    pub usable: bool,
}

impl std::str::FromStr for MethodSetting {
    type Err = String;

    /// `email=on`; the name in any case, with or without `-`/`_` (`mobile-phone=off`).
    fn from_str(text: &str) -> Result<Self, String> {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| format!("'{text}' is not NAME=on|off"))?;
        let folded = |s: &str| {
            s.chars()
                .filter(|c| *c != '-' && *c != '_')
                .collect::<String>()
                .to_ascii_lowercase()
        };
        let wanted = folded(name.trim());
        let name = METHODS
            .iter()
            .find(|m| folded(m) == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown method '{}'; the methods are {}",
                    name.trim(),
                    METHODS.join(", ")
                )
            })?;
        Ok(MethodSetting {
            name,
            usable: parse_on_off(value)?,
        })
    }
}

/// A helpdesk link, or `none` for "not customized".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpdeskLink {
    Link(String),
    None,
}

impl std::str::FromStr for HelpdeskLink {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            Err("give an https URL, an e-mail address, or none".to_owned())
        } else if text.eq_ignore_ascii_case("none") {
            Ok(HelpdeskLink::None)
        } else {
            Ok(HelpdeskLink::Link(text.to_owned()))
        }
    }
}

/// `on`/`off` (also `true`/`false`, `yes`/`no`), in any case.
pub fn parse_on_off(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("'{}' is not on or off", text.trim())),
    }
}

/// The settings a change can name on the command line; each maps to one member of the merge
/// patch.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
#[group(id = "flags", multiple = true)]
pub struct PatchFlags {
    /// Who SSPR is enabled for (the enablement scope; `--scope` is the OAuth scope of client
    /// credentials).
    #[arg(long, value_enum, value_name = "SCOPE")]
    pub enablement: Option<EnablementScope>,
    /// The one group SSPR is enabled for (object id); implies --enablement selected.
    #[arg(long, value_name = "ID")]
    pub group_id: Option<String>,
    /// Methods required to reset a password.
    #[arg(long, value_name = "1|2", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub methods_required: Option<u8>,
    /// Whether methods are usable for reset, e.g. email=on,mobilePhone=off (repeatable). Methods:
    /// mobileAppNotification, mobileAppCode, email, mobilePhone, officePhone, securityQuestions.
    #[arg(long = "method", value_name = "NAME=on|off", value_delimiter = ',')]
    pub methods: Vec<MethodSetting>,
    /// Require users to register when they sign in.
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub registration_required: Option<bool>,
    /// Days before users are asked to reconfirm their methods (0 = never).
    #[arg(long, value_name = "N")]
    pub reconfirm_days: Option<u16>,
    /// Notify users when their password is reset.
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub notify_users: Option<bool>,
    /// Notify all admins when another admin resets their password.
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub notify_admins: Option<bool>,
    /// The "contact your administrator" link: an https URL, an e-mail address, or none.
    #[arg(long, value_name = "URL|EMAIL|none")]
    pub helpdesk_link: Option<HelpdeskLink>,
    /// Write passwords back to on-premises AD.
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub writeback: Option<bool>,
    /// Let users unlock their on-premises account without resetting the password.
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub unlock: Option<bool>,
    /// Allow administrators to use SSPR.
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub admin_sspr: Option<bool>,
    /// The Authentication methods policy's migration state.
    #[arg(long, value_enum)]
    pub migration_state: Option<MigrationState>,
}

impl PatchFlags {
    /// The merge patch the flags ask for: an object, empty when no flag is given. Refuses a
    /// group id with a scope other than `selected`, and a method given both on and off.
    pub fn to_merge_patch(&self) -> Result<Value, String> {
        let mut patch = Map::new();
        let mut set = |group: &str, field: &str, value: Value| {
            let entry = patch
                .entry(group.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            entry[field] = value;
        };
        match (self.enablement, &self.group_id) {
            (Some(scope @ (EnablementScope::None | EnablementScope::All)), Some(_)) => {
                return Err(format!(
                    "--group-id goes with --enablement selected, not --enablement {}",
                    scope.as_str()
                ));
            }
            (_, Some(group)) => {
                if group.trim().is_empty() {
                    return Err("--group-id must not be empty".to_owned());
                }
                set("enablement", "scope", json!("selected"));
                set("enablement", "groupId", json!(group.trim()));
            }
            (Some(scope), None) => set("enablement", "scope", json!(scope.as_str())),
            (None, None) => {}
        }
        if let Some(n) = self.methods_required {
            set("authentication", "methodsRequired", json!(n));
        }
        let mut methods: Vec<MethodSetting> = Vec::new();
        for setting in &self.methods {
            match methods.iter().find(|m| m.name == setting.name) {
                Some(seen) if seen.usable != setting.usable => {
                    return Err(format!(
                        "--method {} is given both on and off",
                        setting.name
                    ));
                }
                Some(_) => {}
                None => methods.push(*setting),
            }
        }
        for setting in methods {
            set("methods", setting.name, json!(setting.usable));
        }
        let toggles = [
            (
                "registration",
                "requireRegistrationOnSignIn",
                self.registration_required,
            ),
            ("notifications", "notifyUsersOnReset", self.notify_users),
            (
                "notifications",
                "notifyAdminsOnAdminReset",
                self.notify_admins,
            ),
            ("onPremises", "passwordWriteback", self.writeback),
            ("onPremises", "unlockWithoutReset", self.unlock),
            ("administrators", "allowedToUseSspr", self.admin_sspr),
        ];
        if let Some(days) = self.reconfirm_days {
            set("registration", "reconfirmDays", json!(days));
        }
        for (group, field, value) in toggles {
            if let Some(value) = value {
                set(group, field, json!(value));
            }
        }
        match &self.helpdesk_link {
            Some(HelpdeskLink::Link(link)) => set("customization", "helpdeskLink", json!(link)),
            Some(HelpdeskLink::None) => set("customization", "helpdeskLink", Value::Null),
            None => {}
        }
        if let Some(state) = self.migration_state {
            set("methodsPolicy", "migrationState", json!(state.as_str()));
        }
        Ok(Value::Object(patch))
    }
}

// ---------------------------------------------------------------------------------------------
// The merge patch from a file.
// ---------------------------------------------------------------------------------------------

/// Reads a merge patch from `path`: JSON for `.json`, YAML for `.yaml`/`.yml`. It must be an
/// object.
pub fn read_patch_file(path: &Path) -> Result<Value, ClientError> {
    let shown = path.display();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let text = std::fs::read_to_string(path)
        .map_err(|e| ClientError::File(format!("cannot read {shown}: {e}")))?;
    let patch: Value = match extension.as_deref() {
        Some("json") => serde_json::from_str(&text)
            .map_err(|e| ClientError::File(format!("{shown} is not valid JSON: {e}")))?,
        Some("yaml" | "yml") => serde_saphyr::from_str(&text)
            .map_err(|e| ClientError::File(format!("{shown} is not valid YAML: {e}")))?,
        _ => {
            return Err(ClientError::File(format!(
                "cannot tell the format of {shown}: name it .json, .yaml or .yml"
            )));
        }
    };
    if !patch.is_object() {
        return Err(ClientError::File(format!(
            "{shown} must hold a merge patch: an object such as {{\"registration\": {{\"reconfirmDays\": 90}}}}"
        )));
    }
    Ok(patch)
}

// ---------------------------------------------------------------------------------------------
// The service calls.
// ---------------------------------------------------------------------------------------------

impl SsprClient {
    /// `PATCH /v1/tenants/{tenant}/sspr/policy?dryRun=true` with `patch` as a merge patch and
    /// `If-Match: etag` (as [`get_policy_with_etag`](Self::get_policy_with_etag) returned it):
    /// the plan of the change (its fields, upstream calls and the findings after it), changing
    /// nothing.
    pub async fn plan_policy_change(
        &self,
        tenant: &str,
        patch: &Value,
        etag: &str,
    ) -> Result<Answer<PolicyPlan>, ClientError> {
        let (url, reply) = self.send_patch(tenant, patch, etag, true).await?;
        let json: Value = serde_json::from_slice(&reply.body)
            .map_err(|e| crate::decode_error_of("PATCH", &url, "a JSON plan", &e, &reply.body))?;
        let value = PolicyPlan::from_value(&json)?;
        Ok(Answer { value, json })
    }

    /// `PATCH /v1/tenants/{tenant}/sspr/policy` as [`plan_policy_change`](Self::plan_policy_change)
    /// planned it: the document as read back, with the `request-id`, the new `ETag` and the
    /// audit record. A 412 means someone changed the policy since `etag` was read.
    pub async fn apply_policy_change(
        &self,
        tenant: &str,
        patch: &Value,
        etag: &str,
    ) -> Result<PolicyResponse, ClientError> {
        let (url, reply) = self.send_patch(tenant, patch, etag, false).await?;
        policy_response("PATCH", &url, reply)
    }

    /// The PATCH itself: the URL it went to and the success reply.
    async fn send_patch(
        &self,
        tenant: &str,
        patch: &Value,
        etag: &str,
        dry_run: bool,
    ) -> Result<(Url, crate::Reply), ClientError> {
        if !patch.is_object() {
            return Err(ClientError::Config(
                "a merge patch must be a JSON object".to_owned(),
            ));
        }
        let if_match = HeaderValue::from_str(etag.trim())
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ClientError::Config(format!("'{etag}' cannot be sent as an If-Match ETag"))
            })?;
        let body = serde_json::to_vec(patch).map_err(|e| ClientError::Decode(e.to_string()))?;
        let mut url = self.policy_url(tenant)?;
        if dry_run {
            url.query_pairs_mut().append_pair("dryRun", "true");
        }
        let prepare = move |request: RequestBuilder| prepare_patch(request, &if_match, &body);
        let reply = self.send(Method::PATCH, &url, Some(&prepare)).await?;
        Ok((url, reply))
    }
}

/// The headers and body of a policy PATCH.
fn prepare_patch(request: RequestBuilder, if_match: &HeaderValue, body: &[u8]) -> RequestBuilder {
    request
        .header(CONTENT_TYPE, MERGE_PATCH)
        .header(IF_MATCH, if_match.clone())
        .body(body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        flags: PatchFlags,
    }

    fn patch(args: &[&str]) -> Result<Value, String> {
        let cli = Cli::try_parse_from(std::iter::once("test").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.flags.to_merge_patch()
    }

    #[test]
    fn every_flag_maps_to_one_member() {
        let got = patch(&[
            "--enablement",
            "selected",
            "--group-id",
            "g-1",
            "--methods-required",
            "2",
            "--method",
            "email=on,mobilePhone=off",
            "--method",
            "office-phone=ON",
            "--registration-required",
            "on",
            "--reconfirm-days",
            "90",
            "--notify-users",
            "off",
            "--notify-admins",
            "on",
            "--helpdesk-link",
            "https://help.example.com",
            "--writeback",
            "on",
            "--unlock",
            "off",
            "--admin-sspr",
            "off",
            "--migration-state",
            "migrationComplete",
        ])
        .expect("patch");
        assert_eq!(
            got,
            json!({
                "enablement": {"scope": "selected", "groupId": "g-1"},
                "authentication": {"methodsRequired": 2},
                "methods": {"email": true, "mobilePhone": false, "officePhone": true},
                "registration": {"requireRegistrationOnSignIn": true, "reconfirmDays": 90},
                "notifications": {"notifyUsersOnReset": false, "notifyAdminsOnAdminReset": true},
                "customization": {"helpdeskLink": "https://help.example.com"},
                "onPremises": {"passwordWriteback": true, "unlockWithoutReset": false},
                "administrators": {"allowedToUseSspr": false},
                "methodsPolicy": {"migrationState": "migrationComplete"},
            })
        );
    }

    #[test]
    fn no_flags_is_an_empty_patch() {
        assert_eq!(patch(&[]).expect("patch"), json!({}));
    }

    #[test]
    fn helpdesk_none_clears_the_link_and_group_implies_selected() {
        assert_eq!(
            patch(&["--helpdesk-link", "none", "--group-id", "g-2"]).expect("patch"),
            json!({"customization": {"helpdeskLink": null},
                   "enablement": {"scope": "selected", "groupId": "g-2"}})
        );
        assert_eq!(
            patch(&["--enablement", "all"]).expect("patch"),
            json!({"enablement": {"scope": "all"}})
        );
    }

    #[test]
    fn contradictions_and_bad_values_are_refused() {
        let refused = |args: &[&str], says: &str| {
            let error = patch(args).expect_err("refused");
            assert!(error.contains(says), "{args:?}: {error}");
        };
        refused(
            &["--enablement", "all", "--group-id", "g"],
            "--enablement selected",
        );
        refused(
            &["--method", "email=on", "--method", "email=off"],
            "both on and off",
        );
        refused(&["--method", "fax=on"], "unknown method 'fax'");
        refused(&["--method", "email"], "NAME=on|off");
        refused(&["--method", "email=maybe"], "not on or off");
        refused(&["--methods-required", "3"], "3");
        refused(&["--notify-users", "sometimes"], "not on or off");
        refused(&["--migration-state", "done"], "migrationComplete");
        refused(&["--enablement", "some"], "selected");
        refused(&["--reconfirm-days", "-1"], "-1");
        refused(&["--group-id", " "], "empty");
    }

    #[test]
    fn a_repeated_identical_method_is_kept_once() {
        assert_eq!(
            patch(&["--method", "email=on", "--method", "EMAIL=true"]).expect("patch"),
            json!({"methods": {"email": true}})
        );
    }

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn reads_json_and_yaml_patches() {
        let (_d, json_file) = write(
            "patch.json",
            r#"{"registration": {"reconfirmDays": 90}, "customization": {"helpdeskLink": null}}"#,
        );
        let expected =
            json!({"registration": {"reconfirmDays": 90}, "customization": {"helpdeskLink": null}});
        assert_eq!(read_patch_file(&json_file).expect("json"), expected);
        let yaml = "# fewer reminders\nregistration:\n  reconfirmDays: 90\ncustomization:\n  helpdeskLink: null\n";
        for name in ["patch.yaml", "PATCH.YML"] {
            let (_d, file) = write(name, yaml);
            assert_eq!(read_patch_file(&file).expect("yaml"), expected, "{name}");
        }
        let (_d, file) = write(
            "methods.yml",
            "methods:\n  email: true\n  securityQuestions: false\nenablement: {scope: selected, groupId: \"0b1\"}\n",
        );
        assert_eq!(
            read_patch_file(&file).expect("yaml"),
            json!({"methods": {"email": true, "securityQuestions": false},
                   "enablement": {"scope": "selected", "groupId": "0b1"}})
        );
    }

    #[test]
    fn refuses_files_that_are_not_patches() {
        let refused = |name: &str, text: &str, says: &str| {
            let (_d, file) = write(name, text);
            match read_patch_file(&file) {
                Err(ClientError::File(message)) => {
                    assert!(message.contains(says), "{name}: {message}");
                    assert!(message.contains(name), "{name}: {message}");
                }
                other => panic!("{name}: {other:?}"),
            }
        };
        refused("p.json", "{\"a\":", "not valid JSON");
        refused("p.yaml", "a: [1, 2", "not valid YAML");
        refused("p.json", "[1]", "must hold a merge patch");
        refused("p.yml", "- a\n- b\n", "must hold a merge patch");
        refused("p.toml", "a = 1", ".json, .yaml or .yml");
        assert!(matches!(
            read_patch_file(Path::new("/nonexistent/p.json")),
            Err(ClientError::File(m)) if m.contains("cannot read /nonexistent/p.json")
        ));
    }

    #[test]
    fn the_patch_request_carries_merge_patch_and_if_match() {
        let client = reqwest::Client::new();
        let etag = HeaderValue::from_static("\"abc\"");
        let request = prepare_patch(
            client.patch("http://127.0.0.1:9/v1/tenants/t/sspr/policy?dryRun=true"),
            &etag,
            br#"{"a":1}"#,
        )
        .build()
        .expect("request");
        assert_eq!(request.method(), Method::PATCH);
        assert_eq!(request.headers()[CONTENT_TYPE], MERGE_PATCH);
        assert_eq!(request.headers()[IF_MATCH], "\"abc\"");
        assert_eq!(
            request.body().and_then(|b| b.as_bytes()),
            Some(&br#"{"a":1}"#[..])
        );
    }

    #[tokio::test]
    async fn patch_refuses_what_it_cannot_send() {
        let client = SsprClient::new(
            "http://127.0.0.1:9/".parse().expect("url"),
            crate::Auth::Token("t".into()),
            crate::ClientOptions::default(),
        )
        .expect("client");
        for (patch, etag) in [
            (json!([1]), "\"e\""),
            (json!({}), "bad\netag"),
            (json!({}), " "),
        ] {
            assert!(
                matches!(
                    client.plan_policy_change("contoso.com", &patch, etag).await,
                    Err(ClientError::Config(_))
                ),
                "{patch} {etag:?}"
            );
        }
    }
}
