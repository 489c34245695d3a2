//! The SSPR policy document (DESIGN.md §4): one object per tenant, grouped as the portal's
//! Password reset blade is, every group saying where its values came from.

use super::findings::Finding;
use super::methods::{MethodsPolicy, MigrationState, ResetMethods};
use super::portal::{
    Evidence, InferredEnablement, InferredScope, LegacyMethods, PortalSettings, Scope,
};
pub use sspr_api::policy::{
    AdministratorsGroup, AuthenticationGroup, CustomizationGroup, DirectorySyncGroup,
    EnablementGroup, EnablementScope, EvidenceView, MethodsGroup, MethodsPolicyGroup,
    NotificationsGroup, OnPremisesGroup, PolicyDocument, RegistrationGroup, SecurityQuestions,
    Source,
};
use sspr_api::tenants::TenantRef;

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

/// The document built from what Graph and the portal told us: the domain's reading of those
/// facts, kept here because the document type itself is the contract crate's pure data.
pub trait BuildPolicyDocument {
    fn build(
        tenant: TenantRef,
        retrieved_at: String,
        facts: GraphFacts,
        portal: PortalKnowledge,
    ) -> Self;

    fn with_findings(self, findings: Vec<Finding>) -> Self;
}

impl BuildPolicyDocument for PolicyDocument {
    fn build(
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

    fn with_findings(mut self, findings: Vec<Finding>) -> Self {
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
