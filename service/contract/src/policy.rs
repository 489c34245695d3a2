//! The SSPR policy document (`GET /v1/tenants/{tenant}/sspr/policy`): one object per tenant,
//! grouped as the portal's Password reset blade is, every group saying where its values came
//! from; the findings reported with it, and the rule violations a refused change names.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::tenants::TenantRef;

/// Where a group's values came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// Documented Microsoft Graph, app-only.
    Graph,
    /// The undocumented Entra portal back end, with a delegated token.
    Portal,
    /// Derived from evidence, with the evidence.
    Inferred,
    /// Not known; `reason` says why and `remedy` what would make it known.
    Unavailable,
}

/// Who SSPR is enabled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum EnablementScope {
    /// Nobody.
    None,
    /// The members of one group (`groupId`).
    Selected,
    /// Every user.
    All,
    /// Inferred evidence is too thin to tell.
    Unknown,
}

/// Who SSPR is enabled for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "portal", "scope": "selected",
    "groupId": "d2d5bae7-a7b7-4581-8d52-5a8d26f517b3", "groupName": "SSPR Users"})))]
pub struct EnablementGroup {
    pub source: Source,
    /// Absent when `source` is `unavailable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = EnablementScope)]
    pub scope: Option<EnablementScope>,
    /// The group SSPR is enabled for when the scope is `selected` and the group is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub group_name: Option<String>,
    /// How an inferred answer was reached (`source` is `inferred`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = EvidenceView)]
    pub evidence: Option<EvidenceView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub note: Option<String>,
    /// Why the group has no values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub reason: Option<String>,
    /// What would give the group values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub remedy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceView {
    /// Enabled member accounts that are not administrators.
    pub members_considered: u64,
    /// Of those, the ones whose `isSsprEnabled` is true.
    pub members_enabled: u64,
    /// The oldest per-user data read (RFC 3339); the report can lag policy changes by hours.
    /// Null when no row carried a time.
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub oldest_data: Option<String>,
    /// When the report was read (RFC 3339).
    #[schema(format = DateTime)]
    pub read_at: String,
}

/// Methods required to reset, and security questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "portal", "methodsRequired": 2,
    "securityQuestions": {"enabled": false, "toRegister": 5, "toReset": 3}})))]
pub struct AuthenticationGroup {
    pub source: Source,
    /// Methods a user must prove to reset: 1 or 2 (absent when `source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = u8)]
    pub methods_required: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = SecurityQuestions)]
    pub security_questions: Option<SecurityQuestions>,
    /// Why the group has no values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub reason: Option<String>,
    /// What would give the group values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub remedy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityQuestions {
    /// Security questions are a usable method (the legacy toggle).
    pub enabled: bool,
    /// Questions a user registers.
    pub to_register: u8,
    /// Questions asked at reset.
    pub to_reset: u8,
}

/// Registration at sign-in and reconfirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "portal", "requireRegistrationOnSignIn": true, "reconfirmDays": 180})))]
pub struct RegistrationGroup {
    pub source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool)]
    pub require_registration_on_sign_in: Option<bool>,
    /// Days before users are asked to reconfirm their methods; 0 = never.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = u16)]
    pub reconfirm_days: Option<u16>,
    /// Why the group has no values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub reason: Option<String>,
    /// What would give the group values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub remedy: Option<String>,
}

/// Who is told when a password is reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "portal", "notifyUsersOnReset": true, "notifyAdminsOnAdminReset": false})))]
pub struct NotificationsGroup {
    pub source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool)]
    pub notify_users_on_reset: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool)]
    pub notify_admins_on_admin_reset: Option<bool>,
    /// Why the group has no values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub reason: Option<String>,
    /// What would give the group values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub remedy: Option<String>,
}

/// The helpdesk link users see on the reset page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "portal", "helpdeskLink": "https://help.contoso.com/password"})))]
pub struct CustomizationGroup {
    pub source: Source,
    /// An https URL or an e-mail address; null when the link is not customized (absent when
    /// `source` is `unavailable`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<String>)]
    pub helpdesk_link: Option<Option<String>>,
    /// Why the group has no values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub reason: Option<String>,
    /// What would give the group values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub remedy: Option<String>,
}

/// Password writeback and account unlock for tenants that sync from on-premises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "portal", "integrated": true, "passwordWriteback": true, "unlockWithoutReset": false})))]
pub struct OnPremisesGroup {
    pub source: Source,
    /// Whether the tenant has on-premises password reset integration at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool)]
    pub integrated: Option<bool>,
    /// Present when `integrated` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool)]
    pub password_writeback: Option<bool>,
    /// Present when `integrated` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool)]
    pub unlock_without_reset: Option<bool>,
    /// Why the group has no values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub reason: Option<String>,
    /// What would give the group values (`source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub remedy: Option<String>,
}

/// Which SSPR methods are usable for reset, by `source`: `graph` once the tenant is migrating or
/// migrated (each method with the methods-policy configurations that enable it), `portal` before
/// migration (the legacy SSPR toggles), or `unavailable` with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "source", rename_all = "camelCase")]
#[allow(clippy::large_enum_variant)] // One per document: boxing would only add an allocation.
pub enum MethodsGroup {
    /// From the Authentication methods policy.
    #[serde(rename_all = "camelCase")]
    #[schema(title = "MethodsFromGraph")]
    Graph {
        /// True when only the methods policy counts (`migrationComplete`); false while the
        /// legacy policy is also respected, so more methods may be usable than listed.
        authoritative: bool,
        mobile_app_notification: ResetMethodStatus,
        mobile_app_code: ResetMethodStatus,
        email: ResetMethodStatus,
        mobile_phone: ResetMethodStatus,
        office_phone: ResetMethodStatus,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schema(value_type = String)]
        note: Option<String>,
    },
    /// Before migration: the legacy SSPR method toggles read from the portal.
    #[serde(rename_all = "camelCase")]
    #[schema(title = "MethodsFromPortal")]
    Portal {
        /// Always true: before migration the legacy policy alone decides.
        authoritative: bool,
        mobile_app_notification: bool,
        mobile_app_code: bool,
        email: bool,
        mobile_phone: bool,
        office_phone: bool,
        security_questions: bool,
    },
    /// Not known: the legacy policy decides and the portal cannot be read, or Graph sent a
    /// migration state this version cannot interpret.
    #[schema(title = "MethodsUnavailable")]
    Unavailable { reason: String, remedy: String },
}

/// Whether the tenant synchronizes from on-premises Active Directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "graph", "onPremisesSyncEnabled": true, "syncs": true,
    "lastSyncDateTime": "2026-08-20T09:47:12Z"})))]
pub struct DirectorySyncGroup {
    pub source: Source,
    /// `organization.onPremisesSyncEnabled`: true, false (synced once, no longer) or null (never).
    #[schema(required = true)]
    pub on_premises_sync_enabled: Option<bool>,
    pub syncs: bool,
    /// Graph's `onPremisesLastSyncDateTime`; null when the tenant never synced.
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub last_sync_date_time: Option<String>,
}

/// SSPR for administrators (`authorizationPolicy.allowedToUseSSPR`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "graph", "allowedToUseSspr": true})))]
pub struct AdministratorsGroup {
    pub source: Source,
    pub allowed_to_use_sspr: bool,
}

/// The Authentication methods policy's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "graph", "migrationState": "migrationInProgress",
    "reconfirmationInDays": 180, "registrationCampaign": null, "policyVersion": "1.5",
    "lastModifiedDateTime": "2026-11-02T10:15:00Z"})))]
pub struct MethodsPolicyGroup {
    pub source: Source,
    /// `preMigration`, `migrationInProgress`, `migrationComplete`, or what Graph sent.
    pub migration_state: String,
    /// Null when Graph sent none.
    #[schema(required = true)]
    pub reconfirmation_in_days: Option<i32>,
    /// Null when Graph sent none.
    #[schema(required = true)]
    pub registration_campaign: Option<RegistrationCampaign>,
    #[schema(required = true)]
    pub policy_version: Option<String>,
    /// When the policy last changed (RFC 3339); null when Graph sent none.
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub last_modified_date_time: Option<String>,
}

/// The whole document: every group says where its values came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(
    crate::examples::policy_document,
    crate::examples::policy_document_unavailable
))]
pub struct PolicyDocument {
    pub tenant: TenantRef,
    /// When the upstream values were read (RFC 3339).
    #[schema(format = DateTime)]
    pub retrieved_at: String,
    pub enablement: EnablementGroup,
    pub authentication: AuthenticationGroup,
    pub methods: MethodsGroup,
    pub registration: RegistrationGroup,
    pub notifications: NotificationsGroup,
    pub customization: CustomizationGroup,
    pub on_premises: OnPremisesGroup,
    pub directory_sync: DirectorySyncGroup,
    pub administrators: AdministratorsGroup,
    pub methods_policy: MethodsPolicyGroup,
    /// What deserves an administrator's attention, most severe first.
    pub findings: Vec<Finding>,
}

/// The methods policy's registration campaign (nudging users to set up Microsoft Authenticator).
// One type for what Graph holds, what the document shows and what a change sets. Unknown fields
// are refused so that a misspelt patch field is an error, not ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = RegistrationCampaignView)]
pub struct RegistrationCampaign {
    /// `default` (behaves as disabled), `enabled` or `disabled`, as Graph sent it.
    pub state: String,
    /// Days a user may postpone; null when Graph sent none.
    #[schema(required = true)]
    pub snooze_duration_in_days: Option<i32>,
    /// Group ids, or `all_users`.
    pub include_targets: Vec<String>,
    pub exclude_targets: Vec<String>,
}

/// Whether one legacy SSPR method is usable for reset according to the methods policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetMethodStatus {
    pub usable: bool,
    /// The methods-policy configurations that make it usable.
    pub enabled_by: Vec<String>,
    /// Who it is enabled for: group ids, or `all_users`.
    pub targets: Vec<String>,
}

/// The legacy SSPR methods (the portal's names) and the configurations behind each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetMethods {
    pub mobile_app_notification: ResetMethodStatus,
    pub mobile_app_code: ResetMethodStatus,
    pub email: ResetMethodStatus,
    pub mobile_phone: ResetMethodStatus,
    pub office_phone: ResetMethodStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    /// The wire name (`high`, `medium`, `low`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    /// JSON pointer of the setting concerned, e.g. `/methods/securityQuestions`.
    pub field: String,
    pub message: String,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    /// JSON pointer into the PATCH document, e.g. `/authentication/methodsRequired`.
    pub pointer: String,
    pub message: String,
}

/// A member that may be present with null (`Some(None)`) or absent (`None`, through
/// `#[serde(default)]`): plain `Option<Option<T>>` would read a null as absent.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every example body of the document's schema reads back as the type and serializes to
    /// the same JSON, so the client decodes exactly what the service sends.
    #[test]
    fn the_documented_examples_round_trip() {
        for example in [
            crate::examples::policy_document(),
            crate::examples::policy_document_unavailable(),
        ] {
            let document: PolicyDocument =
                serde_json::from_value(example.clone()).expect("a policy document");
            assert_eq!(serde_json::to_value(&document).expect("json"), example);
        }
    }

    #[test]
    fn a_null_helpdesk_link_is_not_customized_and_an_absent_one_is_unknown() {
        let not_customized: CustomizationGroup =
            serde_json::from_value(json!({"source": "portal", "helpdeskLink": null})).unwrap();
        assert_eq!(not_customized.helpdesk_link, Some(None));
        let unknown: CustomizationGroup =
            serde_json::from_value(json!({"source": "unavailable", "reason": "r", "remedy": "m"}))
                .unwrap();
        assert_eq!(unknown.helpdesk_link, None);
        assert_eq!(
            serde_json::to_value(&not_customized).unwrap(),
            json!({"source": "portal", "helpdeskLink": null})
        );
    }

    #[test]
    fn severity_names_are_the_wire_names() {
        for severity in [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            assert_eq!(serde_json::to_value(severity).unwrap(), severity.as_str());
        }
    }
}
