//! Registration protection: the Conditional Access policy that guards security-info
//! registration. Plan it for a tenant, grade what a tenant has, deploy it (report-only first,
//! then promote, or demote), or only generate its Graph JSON. The answers are the types of
//! [`crate::types::protection`] (the contract crate's).
//!
//! A deploy or a state change is a dry run first (the diff against the deployed policy and the
//! exact Graph call), then the real call with the dry run's `ETag` as `If-Match`, so what is
//! applied is what was reviewed (412 when the deployed policy changed meanwhile).
//!
//! ```no_run
//! # async fn demo(client: &sspr_client::SsprClient) -> Result<(), sspr_client::ClientError> {
//! use sspr_client::protection::State;
//! let options = serde_json::json!({"control": "mfa"});
//! let plan = client.protection_plan("contoso.com", &options).await?;
//! println!("{} users must register first", plan.value.impact.must_register);
//! let dry_run = client.protection_apply("contoso.com", &options, true, None).await?;
//! println!("{}: {} values change", dry_run.result(), dry_run.change.diff().len());
//! let applied = client
//!     .protection_apply("contoso.com", &options, false, dry_run.plan_etag())
//!     .await?;
//! println!("{}: {:?}", applied.result(), applied.change.policy_id());
//! // Later: enforce it, changing nothing but the state.
//! let promote = client.protection_set_state("contoso.com", State::Enabled, false, true, None).await?;
//! client
//!     .protection_set_state("contoso.com", State::Enabled, false, false, promote.plan_etag())
//!     .await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue, IF_MATCH};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use url::Url;

use crate::types::Answer;
use crate::types::protection::{
    ApplyResult, ChangeAnswer, GeneratedPolicy, ProtectionPlan, ProtectionStatus,
};
use crate::{ClientError, Reply, SsprClient, decode_error_of};

/// A plan reads the tenant's whole registration report, which Graph throttles to 5 reads per
/// 10 s: for a large tenant that takes minutes.
const PLAN_TIMEOUT: Duration = Duration::from_secs(3600);

/// The options of a plan, deploy or generate, as command-line flags.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectionFlags {
    /// What registration outside the trusted locations needs (the service's default: block).
    #[arg(long, value_enum)]
    pub control: Option<Control>,
    /// Locations exempted from the control: AllTrusted, named-location ids (comma-separated),
    /// or `none` to apply the control everywhere (refused for block).
    #[arg(long, value_name = "AllTrusted|ID,…|none", value_delimiter = ',')]
    pub trusted_locations: Vec<String>,
    /// Break-glass user object ids to exclude (comma-separated).
    #[arg(long, value_name = "ID,…", value_delimiter = ',')]
    pub exclude_users: Vec<String>,
    /// Break-glass group object ids to exclude (comma-separated).
    #[arg(long, value_name = "ID,…", value_delimiter = ',')]
    pub exclude_groups: Vec<String>,
    /// Do not also exclude the accounts most of the tenant's CA policies exclude.
    #[arg(long)]
    pub no_discovery: bool,
    /// Cover guests and external users (the default excludes them).
    #[arg(long, value_enum)]
    pub guests: Option<Guests>,
    /// The policy's name (the service appends its marker).
    #[arg(long, value_name = "NAME")]
    pub display_name: Option<String>,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Block,
    Mfa,
    CompliantDevice,
    DomainJoinedDevice,
}

impl Control {
    fn as_api(self) -> &'static str {
        match self {
            Control::Block => "block",
            Control::Mfa => "mfa",
            Control::CompliantDevice => "compliantDevice",
            Control::DomainJoinedDevice => "domainJoinedDevice",
        }
    }
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guests {
    Include,
    Exclude,
}

/// The state to deploy in.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Evaluated and logged, not enforced.
    ReportOnly,
    /// Enforced.
    Enabled,
}

impl ProtectionFlags {
    /// The options object the API takes; members not given are left out (the service's
    /// defaults apply).
    pub fn to_options(&self) -> Value {
        let mut options = Map::new();
        if let Some(control) = self.control {
            options.insert("control".into(), json!(control.as_api()));
        }
        if !self.trusted_locations.is_empty() {
            let none = self.trusted_locations.len() == 1
                && self.trusted_locations[0].eq_ignore_ascii_case("none");
            let locations: Vec<&String> = if none {
                Vec::new()
            } else {
                self.trusted_locations.iter().collect()
            };
            options.insert("trustedLocations".into(), json!(locations));
        }
        if !self.exclude_users.is_empty() {
            options.insert("excludeUsers".into(), json!(self.exclude_users));
        }
        if !self.exclude_groups.is_empty() {
            options.insert("excludeGroups".into(), json!(self.exclude_groups));
        }
        if self.no_discovery {
            options.insert("discoverBreakGlass".into(), json!(false));
        }
        if let Some(guests) = self.guests {
            let value = match guests {
                Guests::Include => "include",
                Guests::Exclude => "exclude",
            };
            options.insert("guests".into(), json!(value));
        }
        if let Some(name) = &self.display_name {
            options.insert("displayName".into(), json!(name));
        }
        Value::Object(options)
    }
}

impl State {
    /// The state as Conditional Access names it.
    pub fn as_api(self) -> &'static str {
        match self {
            State::ReportOnly => "enabledForReportingButNotEnforced",
            State::Enabled => "enabled",
        }
    }
}

/// The answer of a deploy or a state change (`PUT …/registration-protection[/state]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectionAnswer {
    /// A dry run's plan, or what the real call did.
    pub change: ChangeAnswer,
    /// The answer as the service sent it.
    pub body: Value,
    /// The `ETag` header: the version of the deployed policy (or of "no policy") the answer is
    /// about.
    pub etag: Option<String>,
}

impl ProtectionAnswer {
    /// The version a dry run was planned against, to send as `If-Match` with the real call:
    /// the `ETag` header, else the plan's `etag`.
    pub fn plan_etag(&self) -> Option<&str> {
        self.etag
            .as_deref()
            .or(Some(self.change.etag()))
            .filter(|etag| !etag.trim().is_empty())
    }

    /// What the call did, or would do.
    pub fn result(&self) -> ApplyResult {
        self.change.result()
    }
}

/// Adds `state` and `force` to options made by [`ProtectionFlags::to_options`].
pub fn with_state(mut options: Value, state: Option<State>, force: bool) -> Value {
    if let Some(state) = state {
        options["state"] = json!(state.as_api());
    }
    if force {
        options["force"] = json!(true);
    }
    options
}

impl SsprClient {
    /// `POST /v1/tenants/{tenant}/registration-protection/plan`: the policy, its findings, the
    /// break-glass accounts, the policy with the marker if any, and the impact.
    pub async fn protection_plan(
        &self,
        tenant: &str,
        options: &Value,
    ) -> Result<Answer<ProtectionPlan>, ClientError> {
        let url = self.protection_url(tenant, Some("plan"))?;
        self.send_json(Method::POST, &url, Some(options), Some(PLAN_TIMEOUT))
            .await
    }

    /// `GET /v1/tenants/{tenant}/registration-protection`: every policy on the registration
    /// action, graded. The break-glass ids are declared besides the discovered ones.
    pub async fn protection_status(
        &self,
        tenant: &str,
        break_glass_users: &[String],
        break_glass_groups: &[String],
    ) -> Result<Answer<ProtectionStatus>, ClientError> {
        let mut url = self.protection_url(tenant, None)?;
        {
            let mut query = url.query_pairs_mut();
            if !break_glass_users.is_empty() {
                query.append_pair("breakGlassUsers", &break_glass_users.join(","));
            }
            if !break_glass_groups.is_empty() {
                query.append_pair("breakGlassGroups", &break_glass_groups.join(","));
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        self.send_json(Method::GET, &url, None, None).await
    }

    /// `PUT /v1/tenants/{tenant}/registration-protection`: creates or updates the policy with
    /// the marker (`result`: `created`, `updated` or `unchanged`). With `dry_run`, only the
    /// plan of what it would do; `if_match` (a dry run's [`ProtectionAnswer::plan_etag`]) makes
    /// the service refuse with 412 when the deployed policy changed since.
    pub async fn protection_apply(
        &self,
        tenant: &str,
        options: &Value,
        dry_run: bool,
        if_match: Option<&str>,
    ) -> Result<ProtectionAnswer, ClientError> {
        let url = self.protection_url(tenant, None)?;
        self.protection_put(url, options, dry_run, if_match).await
    }

    /// `PUT /v1/tenants/{tenant}/registration-protection/state`: changes only the state of the
    /// deployed policy (control, locations and exclusions stay as deployed). Enforcing is
    /// refused while the policy's grade has failures, unless `force`; 404
    /// (`protectionNotDeployed`) when no policy carries the marker. `dry_run` and `if_match` as
    /// for [`protection_apply`](Self::protection_apply).
    pub async fn protection_set_state(
        &self,
        tenant: &str,
        state: State,
        force: bool,
        dry_run: bool,
        if_match: Option<&str>,
    ) -> Result<ProtectionAnswer, ClientError> {
        let url = self.protection_url(tenant, Some("state"))?;
        let body = json!({"state": state.as_api(), "force": force});
        self.protection_put(url, &body, dry_run, if_match).await
    }

    async fn protection_put(
        &self,
        mut url: Url,
        body: &Value,
        dry_run: bool,
        if_match: Option<&str>,
    ) -> Result<ProtectionAnswer, ClientError> {
        if dry_run {
            url.query_pairs_mut().append_pair("dryRun", "true");
        }
        let if_match = if_match
            .map(|etag| {
                HeaderValue::from_str(etag.trim())
                    .ok()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| {
                        ClientError::Config(format!("'{etag}' cannot be sent as an If-Match ETag"))
                    })
            })
            .transpose()?;
        let reply = self
            .send_json_reply(Method::PUT, &url, Some(body), None, if_match)
            .await?;
        // An older service ignores `dryRun` and applies: say so rather than show it as a plan
        // (checked before the answer is decoded, since what it did may not read as a plan).
        let body: Option<Value> = serde_json::from_slice(&reply.body).ok();
        if dry_run && body.is_some_and(|body| body["dryRun"] != true) {
            return Err(ClientError::Decode(format!(
                "PUT {url}: the answer is not a dry run (no \"dryRun\": true), so this service \
                 does not plan before applying and may have applied the change; check it with \
                 `sspr registration-protection status`"
            )));
        }
        let Answer { value, json } = typed(&Method::PUT, &url, &reply)?;
        Ok(ProtectionAnswer {
            change: value,
            body: json,
            etag: reply.etag,
        })
    }

    /// `POST /v1/registration-protection/generate`: the Graph JSON without a tenant.
    pub async fn protection_generate(
        &self,
        options: &Value,
    ) -> Result<Answer<GeneratedPolicy>, ClientError> {
        let url = self.endpoint(&["v1", "registration-protection", "generate"])?;
        self.send_json(Method::POST, &url, Some(options), None)
            .await
    }

    fn protection_url(&self, tenant: &str, last: Option<&str>) -> Result<Url, ClientError> {
        let mut rest = vec!["registration-protection"];
        rest.extend(last);
        self.tenant_endpoint(tenant, &rest)
    }

    /// A JSON request (with `body` when given) whose answer is a JSON object of type `T`.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        timeout: Option<Duration>,
    ) -> Result<Answer<T>, ClientError> {
        let reply = self
            .send_json_reply(method.clone(), url, body, timeout, None)
            .await?;
        typed(&method, url, &reply)
    }

    /// A JSON request (with `body` and `If-Match` when given): the success reply.
    async fn send_json_reply(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        timeout: Option<Duration>,
        if_match: Option<HeaderValue>,
    ) -> Result<Reply, ClientError> {
        let bytes = match body {
            Some(body) => {
                Some(serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?)
            }
            None => None,
        };
        let prepare = move |mut request: RequestBuilder| {
            if let Some(bytes) = &bytes {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(bytes.clone());
            }
            if let Some(timeout) = timeout {
                request = request.timeout(timeout);
            }
            if let Some(if_match) = &if_match {
                request = request.header(IF_MATCH, if_match.clone());
            }
            request
        };
        self.send(method, url, Some(&prepare)).await
    }
}

/// The reply's body: a JSON object, read as a `T`.
fn typed<T: DeserializeOwned>(
    method: &Method,
    url: &Url,
    reply: &Reply,
) -> Result<Answer<T>, ClientError> {
    let json: Value = serde_json::from_slice(&reply.body)
        .map_err(|e| decode_error_of(method.as_str(), url, "a JSON object", &e, &reply.body))?;
    if !json.is_object() {
        return Err(ClientError::Decode(format!(
            "{method} {url}: expected a JSON object"
        )));
    }
    let value = T::deserialize(&json).map_err(|e| {
        decode_error_of(
            method.as_str(),
            url,
            std::any::type_name::<T>(),
            &e,
            &reply.body,
        )
    })?;
    Ok(Answer { value, json })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn flags_leave_out_what_was_not_given() {
        assert_eq!(ProtectionFlags::default().to_options(), json!({}));
        let flags = ProtectionFlags {
            control: Some(Control::CompliantDevice),
            trusted_locations: vec!["none".into()],
            exclude_users: vec!["u1".into(), "u2".into()],
            no_discovery: true,
            guests: Some(Guests::Include),
            ..ProtectionFlags::default()
        };
        assert_eq!(
            flags.to_options(),
            json!({"control": "compliantDevice", "trustedLocations": [], "excludeUsers": ["u1", "u2"],
                   "discoverBreakGlass": false, "guests": "include"})
        );
        assert_eq!(
            with_state(json!({}), Some(State::Enabled), true),
            json!({"state": "enabled", "force": true})
        );
    }

    fn dry_run() -> Value {
        json!({"tenant": {"id": "t-1", "domain": "contoso.example", "displayName": "Contoso"},
               "dryRun": true, "result": "updated", "policyId": "p-1", "etag": "\"v1\"",
               "state": "enabled", "changes": [], "diff": [], "calls": [], "findings": []})
    }

    #[test]
    fn the_plan_etag_is_the_header_else_the_body() {
        let answer = |body: Value, etag: Option<&str>| ProtectionAnswer {
            change: ChangeAnswer::deserialize(&body).expect("a change answer"),
            body,
            etag: etag.map(str::to_owned),
        };
        let with_header = answer(dry_run(), Some("\"header\""));
        assert_eq!(with_header.plan_etag(), Some("\"header\""));
        assert_eq!(with_header.result(), ApplyResult::Updated);
        assert_eq!(answer(dry_run(), None).plan_etag(), Some("\"v1\""));
        let mut without_etag = dry_run();
        without_etag["etag"] = json!("");
        assert_eq!(answer(without_etag, None).plan_etag(), None);
        assert_eq!(
            State::ReportOnly.as_api(),
            "enabledForReportingButNotEnforced"
        );
    }
}
