//! The Entra portal back end (`main.iam.ad.ext.azure.com`, graph-api.md §2.3): the only place the
//! tenant SSPR policy can be read and written. Undocumented and unsupported by Microsoft, so it
//! is opt-in per tenant, with a delegated administrator's refresh token kept as a secret.
//!
//! Writes are read-modify-write of the whole object: the back end replaces what it is sent, so
//! every field we do not model is sent back exactly as read. Writeback and unlock go in separate
//! PUTs, as the portal only keeps one of them per request.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;
use url::Url;

use super::DirectoryError;
use super::tenants::ManagedTenant;
use crate::domain::portal::{LegacyMethods, OnPremisesSettings, PortalSettings, Scope};

/// The first-party "ADIbizaUX" application: the resource of portal back-end tokens.
pub const PORTAL_RESOURCE: &str = "74658136-14ec-4630-ad9b-26e160ff0fc6";
/// Access tokens are renewed this long before they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

const POLICIES: &str = "api/PasswordReset/PasswordResetPolicies";
const ON_PREMISES: &str = "api/PasswordReset/OnPremisesPasswordResetPolicies";

/// The portal back end of every tenant, reached through each tenant's own connector
/// (`tenants[].portal`); it implements the `PasswordResetPortal` capability (see `super::apply`).
pub struct PortalBackEnd;

/// The SSPR settings of the tenant from the portal back end; `None` when the tenant has no portal
/// connector configured.
pub async fn portal_settings(
    tenant: &ManagedTenant,
) -> Result<Option<PortalSettings>, DirectoryError> {
    match tenant.portal() {
        Some(portal) => portal.settings().await.map(Some),
        None => Ok(None),
    }
}

/// One tenant's connection to the portal back end: a delegated token (refreshed through the
/// refresh-token grant and cached) and the shared HTTP client.
pub struct PortalConnector {
    http: reqwest::Client,
    tenant_id: String,
    token_url: Url,
    base_url: Url,
    client_id: String,
    /// One id per connector, as the portal's `x-ms-client-session-id`.
    session_id: String,
    tokens: Mutex<Tokens>,
}

struct Tokens {
    /// The newest refresh token: Entra rotates it on every redemption.
    refresh: SecretString,
    access: Option<(SecretString, Instant)>,
}

impl PortalConnector {
    pub fn new(
        http: reqwest::Client,
        tenant_id: &str,
        authority_host: &Url,
        base_url: Url,
        client_id: String,
        refresh_token: SecretString,
    ) -> anyhow::Result<Self> {
        let token_url = authority_host.join(&format!("{tenant_id}/oauth2/token"))?;
        Ok(PortalConnector {
            http,
            tenant_id: tenant_id.to_owned(),
            token_url,
            base_url,
            client_id,
            session_id: uuid::Uuid::new_v4().to_string(),
            tokens: Mutex::new(Tokens {
                refresh: refresh_token,
                access: None,
            }),
        })
    }

    /// Both portal objects, read concurrently and translated.
    pub async fn settings(&self) -> Result<PortalSettings, DirectoryError> {
        let with_group_name = format!("{POLICIES}?getPasswordResetEnabledGroup=true");
        let (policies, on_premises) = tokio::try_join!(
            self.call(Method::GET, &with_group_name, None),
            self.call(Method::GET, ON_PREMISES, None),
        )?;
        wire::settings(&policies, &on_premises)
    }

    /// Writes the password-reset object: GET the whole current object, overwrite the fields we
    /// model with `settings`, keep every other field as read, PUT it back, and return what reads
    /// back. `settings.on_premises` is not written here (see [`Self::put_on_premises`]).
    pub async fn put_password_reset_policies(
        &self,
        settings: &PortalSettings,
    ) -> Result<PortalSettings, DirectoryError> {
        let current = self
            .call(
                Method::GET,
                &format!("{POLICIES}?getPasswordResetEnabledGroup=false"),
                None,
            )
            .await?;
        let Value::Object(mut object) = current else {
            return Err(unreadable(POLICIES, "the body is not a JSON object"));
        };
        wire::overwrite(&mut object, settings);
        self.call(Method::PUT, POLICIES, Some(Value::Object(object)))
            .await?;
        self.settings().await
    }

    /// Sets password writeback and unlock, each in its own PUT (writeback first, since unlock
    /// needs it), and returns the on-premises settings read back.
    pub async fn put_on_premises(
        &self,
        writeback: Option<bool>,
        unlock: Option<bool>,
    ) -> Result<Option<OnPremisesSettings>, DirectoryError> {
        if let Some(writeback) = writeback {
            // The request spells it `WriteBack`; the response `Writeback` (graph-api.md §2.3).
            self.call(
                Method::PUT,
                ON_PREMISES,
                Some(json!({ "passwordWriteBackSupported": writeback })),
            )
            .await?;
        }
        if let Some(unlock) = unlock {
            self.call(
                Method::PUT,
                ON_PREMISES,
                Some(json!({ "accountUnlockEnabled": unlock })),
            )
            .await?;
        }
        let on_premises = self.call(Method::GET, ON_PREMISES, None).await?;
        wire::on_premises(&on_premises)
    }

    /// One portal request. A 401 drops the cached token and tries once more with a fresh one.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, DirectoryError> {
        let url = self
            .base_url
            .join(path)
            .map_err(|e| DirectoryError::Internal(e.to_string()))?;
        let mut retried = false;
        loop {
            let token = self.access_token().await?;
            let correlation_id = uuid::Uuid::new_v4().to_string();
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose_secret())
                .header("X-Requested-With", "XMLHttpRequest")
                .header("x-ms-client-request-id", uuid::Uuid::new_v4().to_string())
                .header("x-ms-client-session-id", &self.session_id)
                .header("x-ms-correlation-id", &correlation_id);
            if let Some(body) = &body {
                request = request
                    .header(
                        "X-Ms-Command-Name",
                        "PasswordReset - UpdatePasswordResetPolicy",
                    )
                    .json(body);
            }
            let response = request.send().await.map_err(|e| unreachable(&url, &e))?;
            let status = response.status();
            tracing::info!(tenant = %self.tenant_id, %method, path = url.path(), status = status.as_u16(), %correlation_id, "portal call");
            let bytes = response.bytes().await.map_err(|e| unreachable(&url, &e))?;
            if status == StatusCode::UNAUTHORIZED && !retried {
                self.tokens.lock().await.access = None;
                retried = true;
                continue;
            }
            if !status.is_success() {
                let error: Option<wire::PortalError> = serde_json::from_slice(&bytes).ok();
                let (code, message) =
                    error.map(|e| (e.error_code, e.message)).unwrap_or_else(|| {
                        (
                            "unknown".into(),
                            String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                        )
                    });
                return Err(DirectoryError::Portal {
                    status: status.as_u16(),
                    code,
                    message: format!("{method} {}: {message}", url.path()),
                    correlation_id: Some(correlation_id),
                });
            }
            return serde_json::from_slice(&bytes)
                .map_err(|e| unreadable(url.path(), &e.to_string()));
        }
    }

    /// The cached access token, or a new one from the refresh-token grant (v1 endpoint,
    /// `resource=` the portal). The rotated refresh token replaces the old one in memory.
    async fn access_token(&self) -> Result<SecretString, DirectoryError> {
        let mut tokens = self.tokens.lock().await;
        if let Some((token, expires)) = &tokens.access
            && Instant::now() + EXPIRY_MARGIN < *expires
        {
            return Ok(token.clone());
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("refresh_token", tokens.refresh.expose_secret()),
            ("resource", PORTAL_RESOURCE),
        ];
        let response = self
            .http
            .post(self.token_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| DirectoryError::Unreachable {
                what: "the Entra token endpoint".into(),
                detail: e.to_string(),
            })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| DirectoryError::Unreachable {
                what: "the Entra token endpoint".into(),
                detail: e.to_string(),
            })?;
        if !status.is_success() {
            let error: Option<wire::TokenError> = serde_json::from_slice(&bytes).ok();
            return Err(DirectoryError::PortalToken {
                tenant_id: self.tenant_id.clone(),
                detail: token_failure(error),
            });
        }
        let granted: wire::TokenResponse =
            serde_json::from_slice(&bytes).map_err(|_| DirectoryError::PortalToken {
                tenant_id: self.tenant_id.clone(),
                detail: "the token endpoint answered with an unreadable body".into(),
            })?;
        let lifetime = Duration::from_secs(granted.expires_in.seconds().unwrap_or(0));
        let access = SecretString::from(granted.access_token);
        tokens.access = Some((access.clone(), Instant::now() + lifetime));
        if let Some(rotated) = granted.refresh_token {
            tokens.refresh = SecretString::from(rotated);
        }
        Ok(access)
    }
}

/// What the operator must do, from Entra's error (never echoing the token).
fn token_failure(error: Option<wire::TokenError>) -> String {
    let Some(error) = error else {
        return "the token endpoint refused the delegated administrator's refresh token".into();
    };
    let aadsts = error.error_codes.first().copied();
    let description = error
        .error_description
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    match (error.error.as_str(), aadsts) {
        ("invalid_grant", Some(700082)) => format!(
            "the delegated administrator's refresh token has expired (AADSTS700082: {description}). \
             The administrator must sign in again and the new refresh token replace \
             tenants[].portal.refresh_token"
        ),
        ("invalid_grant", Some(50057)) => format!(
            "the delegated administrator's account is disabled (AADSTS50057). Configure the \
             refresh token of another administrator: {description}"
        ),
        ("invalid_grant", _) => format!(
            "the delegated administrator's refresh token was refused ({}): {description}. \
             The administrator must sign in again and the new refresh token be configured",
            aadsts.map_or_else(|| error.error.clone(), |c| format!("AADSTS{c}"))
        ),
        (code, _) => format!("{code}: {description}"),
    }
}

fn unreachable(url: &Url, error: &reqwest::Error) -> DirectoryError {
    DirectoryError::Unreachable {
        what: format!(
            "the Entra portal back end at {}",
            url.origin().ascii_serialization()
        ),
        detail: if error.is_timeout() {
            "the request timed out".into()
        } else {
            error.to_string()
        },
    }
}

fn unreadable(path: &str, detail: &str) -> DirectoryError {
    DirectoryError::Portal {
        status: 200,
        code: "unreadableResponse".into(),
        message: format!("{path}: {detail}"),
        correlation_id: None,
    }
}

/// The portal's JSON, exactly as it arrives, and the translation to and from the domain.
mod wire {
    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PortalError {
        pub error_code: String,
        #[serde(default)]
        pub message: String,
    }

    #[derive(Deserialize)]
    pub struct TokenError {
        pub error: String,
        #[serde(default)]
        pub error_description: String,
        #[serde(default)]
        pub error_codes: Vec<u64>,
    }

    #[derive(Deserialize)]
    pub struct TokenResponse {
        pub access_token: String,
        pub expires_in: Seconds,
        #[serde(default)]
        pub refresh_token: Option<String>,
    }

    /// The v1 endpoint sends numbers as strings, v2 as numbers.
    #[derive(Deserialize)]
    #[serde(untagged)]
    pub enum Seconds {
        Number(u64),
        Text(String),
    }

    impl Seconds {
        pub fn seconds(&self) -> Option<u64> {
            match self {
                Seconds::Number(n) => Some(*n),
                Seconds::Text(t) => t.trim().parse().ok(),
            }
        }
    }

    /// `PasswordResetPolicies`: the fields we model, with the portal's spellings (note
    /// `Inteval`, and the app toggles without `Option`).
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Policies {
        enablement_type: i64,
        #[serde(default)]
        password_reset_enabled_group_ids: Vec<String>,
        #[serde(default)]
        password_reset_enabled_group_name: Option<String>,
        number_of_authentication_methods_required: i64,
        email_option_enabled: bool,
        mobile_phone_option_enabled: bool,
        office_phone_option_enabled: bool,
        security_questions_option_enabled: bool,
        mobile_app_notification_enabled: bool,
        mobile_app_code_enabled: bool,
        number_of_questions_to_register: i64,
        number_of_questions_to_reset: i64,
        registration_required_on_sign_in: bool,
        registration_reconfirm_inteval_in_days: i64,
        customize_helpdesk_link: bool,
        #[serde(default)]
        custom_helpdesk_email_or_url: Option<String>,
        notify_users_on_password_reset: bool,
        notify_on_admin_password_reset: bool,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct OnPremises {
        #[serde(default)]
        object_id: Option<String>,
        #[serde(default)]
        password_writeback_supported: bool,
        #[serde(default)]
        account_unlock_enabled: bool,
        #[serde(default)]
        account_unlock_supported: bool,
    }

    pub fn settings(
        policies: &Value,
        on_premises: &Value,
    ) -> Result<PortalSettings, DirectoryError> {
        let p =
            Policies::deserialize(policies).map_err(|e| unreadable(POLICIES, &e.to_string()))?;
        let number = |name: &str, value: i64| -> Result<u16, DirectoryError> {
            u16::try_from(value).map_err(|_| unreadable(POLICIES, &format!("{name} is {value}")))
        };
        let small = |name: &str, value: i64| -> Result<u8, DirectoryError> {
            u8::try_from(value).map_err(|_| unreadable(POLICIES, &format!("{name} is {value}")))
        };
        let scope = match p.enablement_type {
            0 => Scope::None,
            2 => Scope::All,
            1 => {
                let group_id = p
                    .password_reset_enabled_group_ids
                    .first()
                    .cloned()
                    .ok_or_else(|| {
                        unreadable(POLICIES, "enablementType 1 (selected) names no group")
                    })?;
                Scope::Selected {
                    group_id,
                    group_name: p
                        .password_reset_enabled_group_name
                        .filter(|n| !n.is_empty()),
                }
            }
            other => {
                return Err(unreadable(
                    POLICIES,
                    &format!("enablementType {other} is none of 0, 1, 2"),
                ));
            }
        };
        Ok(PortalSettings {
            scope,
            methods_required: small(
                "numberOfAuthenticationMethodsRequired",
                p.number_of_authentication_methods_required,
            )?,
            methods: LegacyMethods {
                mobile_app_notification: p.mobile_app_notification_enabled,
                mobile_app_code: p.mobile_app_code_enabled,
                email: p.email_option_enabled,
                mobile_phone: p.mobile_phone_option_enabled,
                office_phone: p.office_phone_option_enabled,
                security_questions: p.security_questions_option_enabled,
            },
            security_questions_to_register: small(
                "numberOfQuestionsToRegister",
                p.number_of_questions_to_register,
            )?,
            security_questions_to_reset: small(
                "numberOfQuestionsToReset",
                p.number_of_questions_to_reset,
            )?,
            require_registration_on_sign_in: p.registration_required_on_sign_in,
            reconfirm_days: number(
                "registrationReconfirmIntevalInDays",
                p.registration_reconfirm_inteval_in_days,
            )?,
            notify_users_on_reset: p.notify_users_on_password_reset,
            notify_admins_on_admin_reset: p.notify_on_admin_password_reset,
            helpdesk_link: p
                .customize_helpdesk_link
                .then(|| p.custom_helpdesk_email_or_url.unwrap_or_default()),
            on_premises: self::on_premises(on_premises)?,
        })
    }

    pub fn on_premises(value: &Value) -> Result<Option<OnPremisesSettings>, DirectoryError> {
        let o =
            OnPremises::deserialize(value).map_err(|e| unreadable(ON_PREMISES, &e.to_string()))?;
        Ok(o.object_id.map(|_| OnPremisesSettings {
            password_writeback: o.password_writeback_supported,
            unlock_without_reset: o.account_unlock_enabled,
            unlock_supported: o.account_unlock_supported,
        }))
    }

    /// Overwrites the modelled fields of a `PasswordResetPolicies` object; everything else
    /// (capabilities, security questions, skip-registration, fields we have never heard of)
    /// stays as read. A scope other than `Selected` leaves the group fields as they were, as the
    /// portal does.
    pub fn overwrite(object: &mut Map<String, Value>, s: &PortalSettings) {
        let mut set = |name: &str, value: Value| {
            object.insert(name.to_owned(), value);
        };
        match &s.scope {
            Scope::None => set("enablementType", json!(0)),
            Scope::All => set("enablementType", json!(2)),
            Scope::Selected {
                group_id,
                group_name,
            } => {
                set("enablementType", json!(1));
                set("passwordResetEnabledGroupIds", json!([group_id]));
                set(
                    "passwordResetEnabledGroupName",
                    json!(group_name.clone().unwrap_or_default()),
                );
            }
        }
        set(
            "numberOfAuthenticationMethodsRequired",
            json!(s.methods_required),
        );
        set("emailOptionEnabled", json!(s.methods.email));
        set("mobilePhoneOptionEnabled", json!(s.methods.mobile_phone));
        set("officePhoneOptionEnabled", json!(s.methods.office_phone));
        set(
            "securityQuestionsOptionEnabled",
            json!(s.methods.security_questions),
        );
        set(
            "mobileAppNotificationEnabled",
            json!(s.methods.mobile_app_notification),
        );
        set("mobileAppCodeEnabled", json!(s.methods.mobile_app_code));
        set(
            "numberOfQuestionsToRegister",
            json!(s.security_questions_to_register),
        );
        set(
            "numberOfQuestionsToReset",
            json!(s.security_questions_to_reset),
        );
        set(
            "registrationRequiredOnSignIn",
            json!(s.require_registration_on_sign_in),
        );
        set(
            "registrationReconfirmIntevalInDays",
            json!(s.reconfirm_days),
        );
        set("notifyUsersOnPasswordReset", json!(s.notify_users_on_reset));
        set(
            "notifyOnAdminPasswordReset",
            json!(s.notify_admins_on_admin_reset),
        );
        set("customizeHelpdeskLink", json!(s.helpdesk_link.is_some()));
        if let Some(link) = &s.helpdesk_link {
            set("customHelpdeskEmailOrUrl", json!(link));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        json!({
            "objectId": "default",
            "enablementType": 1,
            "numberOfAuthenticationMethodsRequired": 2,
            "emailOptionEnabled": true,
            "mobilePhoneOptionEnabled": true,
            "officePhoneOptionEnabled": false,
            "securityQuestionsOptionEnabled": false,
            "mobileAppNotificationEnabled": true,
            "mobileAppCodeEnabled": true,
            "numberOfQuestionsToRegister": 5,
            "numberOfQuestionsToReset": 3,
            "registrationRequiredOnSignIn": true,
            "registrationReconfirmIntevalInDays": 180,
            "skipRegistrationAllowed": true,
            "skipRegistrationMaxAllowedDays": 7,
            "customizeHelpdeskLink": false,
            "customHelpdeskEmailOrUrl": "https://help.example",
            "notifyUsersOnPasswordReset": true,
            "notifyOnAdminPasswordReset": false,
            "passwordResetEnabledGroupIds": ["d2d5bae7-a7b7-4581-8d52-5a8d26f517b3"],
            "passwordResetEnabledGroupName": "SSPR Users",
            "securityQuestions": [],
            "registrationConditionalAccessPolicies": [],
            "emailOptionAllowed": true,
            "somethingNew": {"kept": 1}
        })
    }

    fn cloud_only() -> Value {
        json!({"objectId": null, "enablementForTenant": false, "passwordWritebackSupported": false,
               "accountUnlockSupported": false, "accountUnlockEnabled": false})
    }

    #[test]
    fn wire_spellings_translate() {
        let s = wire::settings(&sample(), &cloud_only()).expect("translates");
        assert_eq!(
            s.scope,
            Scope::Selected {
                group_id: "d2d5bae7-a7b7-4581-8d52-5a8d26f517b3".into(),
                group_name: Some("SSPR Users".into())
            }
        );
        assert_eq!(s.reconfirm_days, 180);
        assert_eq!(s.methods_required, 2);
        assert!(s.methods.mobile_app_notification && !s.methods.office_phone);
        assert_eq!(s.helpdesk_link, None, "not customized");
        assert_eq!(s.on_premises, None, "objectId null");
        let mut misspelled = sample();
        let days = misspelled
            .as_object_mut()
            .and_then(|o| o.remove("registrationReconfirmIntevalInDays"))
            .expect("present");
        misspelled["registrationReconfirmIntervalInDays"] = days;
        assert!(wire::settings(&misspelled, &cloud_only()).is_err());
    }

    #[test]
    fn overwrite_changes_only_modelled_fields() {
        let original = sample();
        let mut settings = wire::settings(&original, &cloud_only()).expect("translates");
        settings.scope = Scope::All;
        settings.reconfirm_days = 0;
        settings.helpdesk_link = Some("helpdesk@example.com".into());
        let Value::Object(mut object) = original.clone() else {
            panic!("object")
        };
        wire::overwrite(&mut object, &settings);
        let mut changed: Vec<&String> = object
            .iter()
            .filter(|(k, v)| original[k.as_str()] != **v)
            .map(|(k, _)| k)
            .collect();
        changed.sort();
        assert_eq!(
            changed,
            [
                "customHelpdeskEmailOrUrl",
                "customizeHelpdeskLink",
                "enablementType",
                "registrationReconfirmIntevalInDays"
            ]
        );
        assert_eq!(object["somethingNew"], json!({"kept": 1}));
        assert_eq!(object.len(), original.as_object().map_or(0, Map::len));
    }

    #[test]
    fn expired_refresh_token_tells_the_operator_to_sign_in_again() {
        let detail = token_failure(Some(wire::TokenError {
            error: "invalid_grant".into(),
            error_description:
                "AADSTS700082: The refresh token has expired due to inactivity.\r\nTrace ID: x"
                    .into(),
            error_codes: vec![700082],
        }));
        assert!(detail.contains("must sign in again"), "{detail}");
        assert!(!detail.contains("Trace ID"), "{detail}");
    }
}
