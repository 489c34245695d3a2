//! The Windows sign-in screen's "Reset password" link: its status from Intune, the plan and the
//! deploy of sspr's settings-catalog policy, and the registry scripts for devices outside
//! Intune. The answers are the contract crate's types ([`crate::types::windows_link`]).
//!
//! A deploy is planned first; the plan's `etag` goes back as `If-Match`, so what is deployed is
//! what was reviewed (412 when the deployed policy changed meanwhile).
//!
//! ```no_run
//! # async fn demo(client: &sspr_client::SsprClient) -> Result<(), sspr_client::ClientError> {
//! use sspr_client::types::windows_link::ResetLinkTarget;
//! let status = client.windows_reset_link_status("contoso.com").await?;
//! println!("{:?}: {}", status.value.status, status.value.summary);
//! let plan = client.windows_reset_link_plan("contoso.com", &ResetLinkTarget::AllDevices).await?;
//! let applied = client
//!     .windows_reset_link_apply("contoso.com", &ResetLinkTarget::AllDevices, Some(&plan.value.etag))
//!     .await?;
//! println!("{:?} {}", applied.value.result, applied.value.policy_id);
//! # Ok(()) }
//! ```

use reqwest::header::{HeaderValue, IF_MATCH};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use crate::types::Answer;
use crate::types::windows_link::{
    ResetLinkTarget, WindowsResetLinkApplied, WindowsResetLinkPlan, WindowsResetLinkStatus,
};
use crate::{ClientError, SsprClient};

/// Which script to download.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScriptFormat {
    /// A `.reg` file.
    #[default]
    Reg,
    /// A PowerShell remediation script.
    Powershell,
}

impl ScriptFormat {
    pub fn as_api(self) -> &'static str {
        match self {
            ScriptFormat::Reg => "reg",
            ScriptFormat::Powershell => "powershell",
        }
    }
}

impl SsprClient {
    /// `GET /v1/tenants/{tenant}/windows-reset-link`.
    pub async fn windows_reset_link_status(
        &self,
        tenant: &str,
    ) -> Result<Answer<WindowsResetLinkStatus>, ClientError> {
        let url = self.tenant_endpoint(tenant, &["windows-reset-link"])?;
        self.send_json(Method::GET, &url, None, None).await
    }

    /// `POST /v1/tenants/{tenant}/windows-reset-link/plan`: changes nothing.
    pub async fn windows_reset_link_plan(
        &self,
        tenant: &str,
        target: &ResetLinkTarget,
    ) -> Result<Answer<WindowsResetLinkPlan>, ClientError> {
        let url = self.tenant_endpoint(tenant, &["windows-reset-link", "plan"])?;
        let body = body_of(target)?;
        self.send_json(Method::POST, &url, Some(&body), None).await
    }

    /// `PUT /v1/tenants/{tenant}/windows-reset-link`, with `If-Match` when given.
    pub async fn windows_reset_link_apply(
        &self,
        tenant: &str,
        target: &ResetLinkTarget,
        if_match: Option<&str>,
    ) -> Result<Answer<WindowsResetLinkApplied>, ClientError> {
        let url = self.tenant_endpoint(tenant, &["windows-reset-link"])?;
        let bytes = serde_json::to_vec(&body_of(target)?)
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        let if_match = if_match
            .map(|etag| {
                HeaderValue::from_str(etag.trim()).map_err(|_| {
                    ClientError::Config(format!("'{etag}' cannot be sent as an If-Match ETag"))
                })
            })
            .transpose()?;
        let prepare = move |mut request: RequestBuilder| {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone());
            if let Some(if_match) = &if_match {
                request = request.header(IF_MATCH, if_match.clone());
            }
            request
        };
        let reply = self.send(Method::PUT, &url, Some(&prepare)).await?;
        let json: Value = serde_json::from_slice(&reply.body)
            .map_err(|e| ClientError::Decode(format!("PUT {url}: the answer is not JSON: {e}")))?;
        let value = serde_json::from_value(json.clone()).map_err(|e| {
            ClientError::Decode(format!("PUT {url}: not a WindowsResetLinkApplied: {e}"))
        })?;
        Ok(Answer { value, json })
    }

    /// `GET /v1/tenants/{tenant}/windows-reset-link/script?format=…`: the file's text.
    pub async fn windows_reset_link_script(
        &self,
        tenant: &str,
        format: ScriptFormat,
    ) -> Result<String, ClientError> {
        let mut url = self.tenant_endpoint(tenant, &["windows-reset-link", "script"])?;
        url.query_pairs_mut().append_pair("format", format.as_api());
        let reply = self.send(Method::GET, &url, None).await?;
        String::from_utf8(reply.body)
            .map_err(|e| ClientError::Decode(format!("GET {url}: the script is not UTF-8: {e}")))
    }
}

fn body_of(target: &ResetLinkTarget) -> Result<Value, ClientError> {
    serde_json::to_value(target).map_err(|e| ClientError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_sent_as_the_service_reads_them() {
        assert_eq!(
            body_of(&ResetLinkTarget::AllDevices).unwrap(),
            serde_json::json!({"target": "allDevices"})
        );
        assert_eq!(
            body_of(&ResetLinkTarget::Group {
                group_id: "g".into()
            })
            .unwrap(),
            serde_json::json!({"target": "group", "groupId": "g"})
        );
        assert_eq!(ScriptFormat::Powershell.as_api(), "powershell");
    }
}
