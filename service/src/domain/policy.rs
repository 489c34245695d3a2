//! The SSPR policy document (DESIGN.md §4): one object per tenant, grouped as the portal's
//! Password reset blade is, every group saying where its values came from.

use serde::Serialize;
use utoipa::ToSchema;

use super::findings::Finding;
use super::methods::{
    MethodsPolicy, MigrationState, RegistrationCampaign, ResetMethodStatus, ResetMethods,
};
use super::portal::{
    Evidence, InferredEnablement, InferredScope, LegacyMethods, PortalSettings, Scope,
};
use sspr_api::tenants::TenantRef;

/// Where a group's values came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
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

/// Why a group (or part of it) has no values, and what would give it values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub reason: String,
    pub remedy: String,
}

/// What the service knows about the settings only the portal back end holds.
#[derive(Debug, Clone)]
pub enum PortalKnowledge {
    /// Read through the portal connector.
    Portal(PortalSettings),
    /// No portal connector: enablement inferred from the registration report.
    Inferred(InferredEnablement),
    /// No portal connector and no usable evidence.
    Nothing(Unavailable),
}

impl PortalKnowledge {
    /// No portal connector and no other evidence about who SSPR is enabled for.
    pub fn nothing(reason: impl Into<String>, remedy: impl Into<String>) -> Self {
        PortalKnowledge::Nothing(Unavailable {
            reason: reason.into(),
            remedy: remedy.into(),
        })
    }

    /// The default answer when the portal connector is not configured.
    pub fn not_configured() -> Self {
        PortalKnowledge::Nothing(no_portal("who SSPR is enabled for"))
    }
}

fn no_portal(what: &str) -> Unavailable {
    Unavailable {
        reason: format!(
            "No public Microsoft Graph API exposes {what}; only the Entra portal back end holds it."
        ),
        remedy: "Configure the portal connector (a delegated admin refresh token) for this tenant."
            .into(),
    }
}

/// Who SSPR is enabled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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

impl From<&Evidence> for EvidenceView {
    fn from(e: &Evidence) -> Self {
        EvidenceView {
            members_considered: e.members_considered,
            members_enabled: e.members_enabled,
            oldest_data: e.oldest_data.clone(),
            read_at: e.read_at.clone(),
        }
    }
}

/// Methods required to reset, and security questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "portal", "helpdeskLink": "https://help.contoso.com/password"})))]
pub struct CustomizationGroup {
    pub source: Source,
    /// An https URL or an e-mail address; null when the link is not customized (absent when
    /// `source` is `unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"source": "graph", "allowedToUseSspr": true})))]
pub struct AdministratorsGroup {
    pub source: Source,
    pub allowed_to_use_sspr: bool,
}

/// The Authentication methods policy's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(
    sspr_api::examples::policy_document,
    sspr_api::examples::policy_document_unavailable
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

/// What Graph told us about a tenant, already translated out of Graph's wire types.
#[derive(Debug, Clone)]
pub struct GraphFacts {
    pub methods_policy: MethodsPolicy,
    pub admin_sspr_allowed: bool,
    /// Entra ID P1/P2 (alone or in Microsoft 365 Business Premium), from the assigned plans.
    pub entra_premium: bool,
    pub on_premises_sync_enabled: Option<bool>,
    pub last_sync_date_time: Option<String>,
}

impl PolicyDocument {
    pub fn build(
        tenant: TenantRef,
        retrieved_at: String,
        facts: GraphFacts,
        portal: PortalKnowledge,
    ) -> Self {
        let policy = &facts.methods_policy;
        let settings = match &portal {
            PortalKnowledge::Portal(settings) => Some(settings),
            _ => None,
        };
        PolicyDocument {
            tenant,
            retrieved_at,
            enablement: enablement_group(&portal),
            authentication: match settings {
                Some(s) => AuthenticationGroup {
                    source: Source::Portal,
                    methods_required: Some(s.methods_required),
                    security_questions: Some(SecurityQuestions {
                        enabled: s.methods.security_questions,
                        to_register: s.security_questions_to_register,
                        to_reset: s.security_questions_to_reset,
                    }),
                    reason: None,
                    remedy: None,
                },
                None => {
                    let why = no_portal(
                        "the number of methods required to reset or the security questions",
                    );
                    AuthenticationGroup {
                        source: Source::Unavailable,
                        methods_required: None,
                        security_questions: None,
                        reason: Some(why.reason),
                        remedy: Some(why.remedy),
                    }
                }
            },
            methods: methods_group(policy, settings.map(|s| &s.methods)),
            registration: match settings {
                Some(s) => RegistrationGroup {
                    source: Source::Portal,
                    require_registration_on_sign_in: Some(s.require_registration_on_sign_in),
                    reconfirm_days: Some(s.reconfirm_days),
                    reason: None,
                    remedy: None,
                },
                None => {
                    let why =
                        no_portal("registration at sign-in or the SSPR reconfirmation interval");
                    RegistrationGroup {
                        source: Source::Unavailable,
                        require_registration_on_sign_in: None,
                        reconfirm_days: None,
                        reason: Some(why.reason),
                        remedy: Some(why.remedy),
                    }
                }
            },
            notifications: match settings {
                Some(s) => NotificationsGroup {
                    source: Source::Portal,
                    notify_users_on_reset: Some(s.notify_users_on_reset),
                    notify_admins_on_admin_reset: Some(s.notify_admins_on_admin_reset),
                    reason: None,
                    remedy: None,
                },
                None => {
                    let why = no_portal("password reset notifications");
                    NotificationsGroup {
                        source: Source::Unavailable,
                        notify_users_on_reset: None,
                        notify_admins_on_admin_reset: None,
                        reason: Some(why.reason),
                        remedy: Some(why.remedy),
                    }
                }
            },
            customization: match settings {
                Some(s) => CustomizationGroup {
                    source: Source::Portal,
                    helpdesk_link: Some(s.helpdesk_link.clone()),
                    reason: None,
                    remedy: None,
                },
                None => {
                    let why = no_portal("the helpdesk link");
                    CustomizationGroup {
                        source: Source::Unavailable,
                        helpdesk_link: None,
                        reason: Some(why.reason),
                        remedy: Some(why.remedy),
                    }
                }
            },
            on_premises: match settings {
                Some(s) => OnPremisesGroup {
                    source: Source::Portal,
                    integrated: Some(s.on_premises.is_some()),
                    password_writeback: s.on_premises.map(|o| o.password_writeback),
                    unlock_without_reset: s.on_premises.map(|o| o.unlock_without_reset),
                    reason: None,
                    remedy: None,
                },
                None => {
                    let why = no_portal("password writeback or account unlock");
                    OnPremisesGroup {
                        source: Source::Unavailable,
                        integrated: None,
                        password_writeback: None,
                        unlock_without_reset: None,
                        reason: Some(why.reason),
                        remedy: Some(why.remedy),
                    }
                }
            },
            directory_sync: DirectorySyncGroup {
                source: Source::Graph,
                on_premises_sync_enabled: facts.on_premises_sync_enabled,
                syncs: facts.on_premises_sync_enabled == Some(true),
                last_sync_date_time: facts.last_sync_date_time,
            },
            administrators: AdministratorsGroup {
                source: Source::Graph,
                allowed_to_use_sspr: facts.admin_sspr_allowed,
            },
            methods_policy: MethodsPolicyGroup {
                source: Source::Graph,
                migration_state: policy.migration_state.as_graph().to_owned(),
                reconfirmation_in_days: policy.reconfirmation_in_days,
                registration_campaign: policy.registration_campaign.clone(),
                policy_version: policy.policy_version.clone(),
                last_modified_date_time: policy.last_modified.clone(),
            },
            findings: Vec::new(),
        }
    }

    pub fn with_findings(mut self, findings: Vec<Finding>) -> Self {
        self.findings = findings;
        self
    }
}

fn enablement_group(portal: &PortalKnowledge) -> EnablementGroup {
    let group = |source, scope: Option<EnablementScope>| EnablementGroup {
        source,
        scope,
        group_id: None,
        group_name: None,
        evidence: None,
        note: None,
        reason: None,
        remedy: None,
    };
    match portal {
        PortalKnowledge::Portal(settings) => match &settings.scope {
            Scope::None => group(Source::Portal, Some(EnablementScope::None)),
            Scope::All => group(Source::Portal, Some(EnablementScope::All)),
            Scope::Selected {
                group_id,
                group_name,
            } => EnablementGroup {
                group_id: Some(group_id.clone()),
                group_name: group_name.clone(),
                ..group(Source::Portal, Some(EnablementScope::Selected))
            },
        },
        PortalKnowledge::Inferred(inferred) => {
            let evidence = Some(EvidenceView::from(&inferred.evidence));
            let (scope, group_id, group_name, note) = match &inferred.scope {
                InferredScope::None => (EnablementScope::None, None, None, None),
                InferredScope::All => (EnablementScope::All, None, None, None),
                InferredScope::Selected {
                    group_id,
                    group_name,
                } => (
                    EnablementScope::Selected,
                    Some(group_id.clone()),
                    Some(group_name.clone()),
                    None,
                ),
                InferredScope::SelectedUnknownGroup => (
                    EnablementScope::Selected,
                    None,
                    None,
                    Some(
                        "Some members are enabled, but no single group's membership matches them; the group is unknown.",
                    ),
                ),
                InferredScope::Unknown => (
                    EnablementScope::Unknown,
                    None,
                    None,
                    Some(
                        "Too little evidence: no enabled member accounts that are not administrators.",
                    ),
                ),
            };
            EnablementGroup {
                group_id,
                group_name,
                evidence,
                note: note.map(str::to_owned),
                ..group(Source::Inferred, Some(scope))
            }
        }
        PortalKnowledge::Nothing(why) => EnablementGroup {
            reason: Some(why.reason.clone()),
            remedy: Some(why.remedy.clone()),
            ..group(Source::Unavailable, None)
        },
    }
}

fn methods_group(policy: &MethodsPolicy, legacy: Option<&LegacyMethods>) -> MethodsGroup {
    let from_graph = |authoritative: bool, note: Option<&str>| {
        let ResetMethods {
            mobile_app_notification,
            mobile_app_code,
            email,
            mobile_phone,
            office_phone,
        } = policy.reset_methods();
        MethodsGroup::Graph {
            authoritative,
            mobile_app_notification,
            mobile_app_code,
            email,
            mobile_phone,
            office_phone,
            note: note.map(str::to_owned),
        }
    };
    match (&policy.migration_state, legacy) {
        (MigrationState::MigrationComplete, _) => from_graph(true, None),
        (MigrationState::MigrationInProgress, _) => from_graph(
            false,
            Some(
                "Migration in progress: methods still enabled in the legacy SSPR policy (portal) also count for reset.",
            ),
        ),
        // Before migration the legacy SSPR policy alone decides, and the portal holds it.
        (MigrationState::PreMigration, Some(legacy)) => MethodsGroup::Portal {
            authoritative: true,
            mobile_app_notification: legacy.mobile_app_notification,
            mobile_app_code: legacy.mobile_app_code,
            email: legacy.email,
            mobile_phone: legacy.mobile_phone,
            office_phone: legacy.office_phone,
            security_questions: legacy.security_questions,
        },
        (MigrationState::PreMigration, None) => MethodsGroup::Unavailable {
            reason: "The methods policy is in preMigration, so the legacy SSPR policy decides which methods count for reset; only the Entra portal back end holds it.".to_owned(),
            remedy: "Configure the portal connector for this tenant, or move its authentication methods policy to migrationInProgress or migrationComplete.".to_owned(),
        },
        (MigrationState::Unknown(state), _) => MethodsGroup::Unavailable {
            reason: format!(
                "Graph reported the methods policy migration state as '{state}', which this version cannot interpret."
            ),
            remedy: "Check the tenant's authentication methods policy in the Entra admin center.".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::methods::MethodConfiguration;

    fn facts(state: MigrationState, sync: Option<bool>) -> GraphFacts {
        GraphFacts {
            methods_policy: MethodsPolicy {
                migration_state: state,
                reconfirmation_in_days: Some(180),
                policy_version: Some("1.5".into()),
                last_modified: None,
                registration_campaign: None,
                configurations: vec![MethodConfiguration {
                    id: "Email".into(),
                    enabled: true,
                    include_targets: vec!["all_users".into()],
                    exclude_targets: vec![],
                    software_oath_enabled: false,
                    office_phone_allowed: false,
                }],
            },
            admin_sspr_allowed: false,
            entra_premium: true,
            on_premises_sync_enabled: sync,
            last_sync_date_time: None,
        }
    }

    fn document(state: MigrationState, sync: Option<bool>) -> serde_json::Value {
        document_with(state, sync, PortalKnowledge::not_configured())
    }

    fn document_with(
        state: MigrationState,
        sync: Option<bool>,
        portal: PortalKnowledge,
    ) -> serde_json::Value {
        let tenant = TenantRef {
            id: "t".into(),
            domain: "contoso.onmicrosoft.com".into(),
            display_name: "Contoso".into(),
        };
        serde_json::to_value(PolicyDocument::build(
            tenant,
            "now".into(),
            facts(state, sync),
            portal,
        ))
        .expect("serializable")
    }

    fn settings() -> PortalSettings {
        PortalSettings {
            scope: Scope::Selected {
                group_id: "d2d5bae7-a7b7-4581-8d52-5a8d26f517b3".into(),
                group_name: Some("SSPR Users".into()),
            },
            methods_required: 2,
            methods: LegacyMethods {
                email: true,
                mobile_phone: true,
                ..LegacyMethods::default()
            },
            security_questions_to_register: 5,
            security_questions_to_reset: 3,
            require_registration_on_sign_in: true,
            reconfirm_days: 180,
            notify_users_on_reset: true,
            notify_admins_on_admin_reset: false,
            helpdesk_link: None,
            on_premises: Some(crate::domain::portal::OnPremisesSettings {
                password_writeback: true,
                unlock_without_reset: false,
                unlock_supported: true,
            }),
        }
    }

    fn evidence() -> Evidence {
        Evidence {
            members_considered: 40,
            members_enabled: 12,
            oldest_data: Some("2026-11-24T08:00:00Z".into()),
            read_at: "2026-11-25T12:00:00Z".into(),
        }
    }

    #[test]
    fn portal_settings_fill_the_portal_groups_with_source_portal() {
        let doc = document_with(
            MigrationState::MigrationInProgress,
            Some(true),
            PortalKnowledge::Portal(settings()),
        );
        assert_eq!(
            doc["enablement"],
            serde_json::json!({"source": "portal", "scope": "selected",
                "groupId": "d2d5bae7-a7b7-4581-8d52-5a8d26f517b3", "groupName": "SSPR Users"})
        );
        assert_eq!(doc["authentication"]["methodsRequired"], 2);
        assert_eq!(doc["authentication"]["securityQuestions"]["enabled"], false);
        assert_eq!(
            doc["registration"],
            serde_json::json!({"source": "portal", "requireRegistrationOnSignIn": true, "reconfirmDays": 180})
        );
        assert_eq!(doc["notifications"]["notifyAdminsOnAdminReset"], false);
        assert_eq!(
            doc["customization"],
            serde_json::json!({"source": "portal", "helpdeskLink": null})
        );
        assert_eq!(
            doc["onPremises"],
            serde_json::json!({"source": "portal", "integrated": true, "passwordWriteback": true, "unlockWithoutReset": false})
        );
        assert_eq!(
            doc["methods"]["source"], "graph",
            "migrating tenants read methods from Graph"
        );
    }

    #[test]
    fn before_migration_the_portal_toggles_are_the_methods() {
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::Portal(settings()),
        );
        assert_eq!(doc["methods"]["source"], "portal");
        assert_eq!(doc["methods"]["email"], true);
        assert_eq!(doc["methods"]["mobileAppNotification"], false);
        assert_eq!(doc["methods"]["authoritative"], true);
    }

    #[test]
    fn an_on_premises_less_tenant_says_it_is_not_integrated() {
        let mut cloud_only = settings();
        cloud_only.on_premises = None;
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::Portal(cloud_only),
        );
        assert_eq!(
            doc["onPremises"],
            serde_json::json!({"source": "portal", "integrated": false})
        );
    }

    #[test]
    fn inferred_enablement_carries_its_evidence_and_says_when_the_group_is_unknown() {
        let selected = InferredEnablement {
            scope: InferredScope::Selected {
                group_id: "g1".into(),
                group_name: "SSPR Users".into(),
            },
            evidence: evidence(),
        };
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::Inferred(selected),
        );
        assert_eq!(doc["enablement"]["source"], "inferred");
        assert_eq!(doc["enablement"]["scope"], "selected");
        assert_eq!(doc["enablement"]["groupId"], "g1");
        assert_eq!(doc["enablement"]["evidence"]["membersEnabled"], 12);
        assert_eq!(
            doc["authentication"]["source"], "unavailable",
            "only enablement can be inferred"
        );

        let unknown_group = InferredEnablement {
            scope: InferredScope::SelectedUnknownGroup,
            evidence: evidence(),
        };
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::Inferred(unknown_group),
        );
        assert_eq!(doc["enablement"]["scope"], "selected");
        assert!(doc["enablement"].get("groupId").is_none());
        assert!(
            doc["enablement"]["note"]
                .as_str()
                .is_some_and(|n| n.contains("group is unknown"))
        );

        let unknown = InferredEnablement {
            scope: InferredScope::Unknown,
            evidence: evidence(),
        };
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::Inferred(unknown),
        );
        assert_eq!(doc["enablement"]["scope"], "unknown");
    }

    #[test]
    fn without_any_evidence_enablement_is_unavailable_with_the_reason_given() {
        let doc = document_with(
            MigrationState::PreMigration,
            None,
            PortalKnowledge::nothing(
                "The registration report needs Entra ID P1.",
                "License P1 or configure the portal connector.",
            ),
        );
        assert_eq!(
            doc["enablement"],
            serde_json::json!({"source": "unavailable", "reason": "The registration report needs Entra ID P1.",
                "remedy": "License P1 or configure the portal connector."})
        );
    }

    #[test]
    fn every_group_carries_a_source() {
        let doc = document(MigrationState::MigrationComplete, Some(true));
        for (name, group) in doc.as_object().expect("object") {
            if name == "tenant" || name == "retrievedAt" || name == "findings" {
                continue;
            }
            assert!(
                group["source"].is_string(),
                "group {name} has no source: {group}"
            );
        }
        assert_eq!(doc["enablement"]["source"], "unavailable");
        assert!(
            doc["enablement"]["remedy"]
                .as_str()
                .is_some_and(|r| r.contains("portal"))
        );
        assert_eq!(
            doc["administrators"],
            serde_json::json!({"source": "graph", "allowedToUseSspr": false})
        );
    }

    #[test]
    fn migrated_tenant_reports_methods_from_graph_authoritatively() {
        let doc = document(MigrationState::MigrationComplete, None);
        assert_eq!(doc["methods"]["source"], "graph");
        assert_eq!(doc["methods"]["authoritative"], true);
        assert_eq!(doc["methods"]["email"]["usable"], true);
        assert_eq!(doc["methods"]["mobilePhone"]["usable"], false);
    }

    #[test]
    fn migration_in_progress_is_graph_but_not_authoritative() {
        let doc = document(MigrationState::MigrationInProgress, None);
        assert_eq!(doc["methods"]["source"], "graph");
        assert_eq!(doc["methods"]["authoritative"], false);
        assert!(
            doc["methods"]["note"]
                .as_str()
                .is_some_and(|n| n.contains("legacy"))
        );
    }

    #[test]
    fn pre_migration_methods_are_unavailable_with_a_reason() {
        let doc = document(MigrationState::PreMigration, None);
        assert_eq!(doc["methods"]["source"], "unavailable");
        assert!(doc["methods"].get("email").is_none());
        assert!(
            doc["methods"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("preMigration"))
        );
    }

    #[test]
    fn sync_flag_is_tri_state_and_syncs_only_when_true() {
        assert_eq!(
            document(MigrationState::PreMigration, Some(true))["directorySync"]["syncs"],
            true
        );
        let once = document(MigrationState::PreMigration, Some(false));
        assert_eq!(once["directorySync"]["syncs"], false);
        assert_eq!(once["directorySync"]["onPremisesSyncEnabled"], false);
        let never = document(MigrationState::PreMigration, None);
        assert!(never["directorySync"]["onPremisesSyncEnabled"].is_null());
    }
}
