//! The SSPR settings only the Entra portal back end holds (graph-api.md §2.3), as the domain sees
//! them: typed, named for what they mean, free of the portal's wire spellings. The adapter in
//! `directory::portal` translates to and from the wire objects and keeps what we do not model.

/// Who SSPR is enabled for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    None,
    /// Exactly one group (the portal supports one).
    Selected {
        group_id: String,
        group_name: Option<String>,
    },
    All,
}

/// The legacy SSPR method toggles (portal names), used before and during methods-policy migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LegacyMethods {
    pub mobile_app_notification: bool,
    pub mobile_app_code: bool,
    pub email: bool,
    pub mobile_phone: bool,
    pub office_phone: bool,
    pub security_questions: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSettings {
    pub scope: Scope,
    /// 1 or 2.
    pub methods_required: u8,
    pub methods: LegacyMethods,
    pub security_questions_to_register: u8,
    pub security_questions_to_reset: u8,
    pub require_registration_on_sign_in: bool,
    /// 0 = never, up to 730.
    pub reconfirm_days: u16,
    pub notify_users_on_reset: bool,
    pub notify_admins_on_admin_reset: bool,
    /// `None` when the helpdesk link is not customized; else a URL or an e-mail address.
    pub helpdesk_link: Option<String>,
    /// Absent when the tenant has no on-premises integration (`objectId` null).
    pub on_premises: Option<OnPremisesSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnPremisesSettings {
    pub password_writeback: bool,
    pub unlock_without_reset: bool,
    /// Read-only capability reported by the portal.
    pub unlock_supported: bool,
}

/// Enablement inferred from the per-user `isSsprEnabled` flags of the registration report, when
/// the portal cannot be read. The evidence travels with the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferredEnablement {
    pub scope: InferredScope,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InferredScope {
    None,
    All,
    /// Exactly one group's membership explains the enabled set.
    Selected {
        group_id: String,
        group_name: String,
    },
    /// Some members are enabled, but no single group explains which.
    SelectedUnknownGroup,
    /// Too little evidence (e.g. no enabled non-admin members at all).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Enabled members who are not administrators: the population the scope applies to.
    pub members_considered: u64,
    pub members_enabled: u64,
    /// Oldest `lastUpdatedDateTime` among the rows read (RFC 3339), i.e. how stale the data may be.
    pub oldest_data: Option<String>,
    /// When the report was read (RFC 3339).
    pub read_at: String,
}
