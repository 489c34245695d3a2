//! Registration protection: the Conditional Access policy that guards security-info registration
//! (`urn:user:registersecurityinfo`, graph-api.md §5.3). Pure: the options a caller gives, the
//! policy model both generated and existing policies are read into, and the marker that makes
//! our policy findable again. Generation, grading, break-glass discovery, plan findings and the
//! impact count live in the submodules.

pub mod discovery;
pub mod findings;
pub mod generate;
pub mod impact;
pub mod lint;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use sspr_api::protection::{
    ApplicationCondition, CaPolicy, GrantControls, GuestSelection, LocationCondition, PolicyState,
    ProtectionState, UserCondition,
};

/// Carried in the display name of the policy this service manages. Graph has no free-form tag on
/// a CA policy (§5.5), so the name is how a retry or a later apply finds the policy it made.
pub const MARKER: &str = "[sspr:registration-protection]";

/// The user action "Register security information" (combined MFA/SSPR registration).
pub const REGISTER_SECURITY_INFO: &str = "urn:user:registersecurityinfo";

/// The special location value for "every location marked trusted" (plus legacy MFA trusted IPs).
pub const ALL_TRUSTED: &str = "AllTrusted";

/// Every guest and external user type, as Graph's flags enum spells them in one string (§5.2).
pub const ALL_GUEST_TYPES: &[&str] = &[
    "internalGuest",
    "b2bCollaborationGuest",
    "b2bCollaborationMember",
    "b2bDirectConnectUser",
    "otherExternalUser",
    "serviceProvider",
];

/// What the policy demands of a registration from outside the trusted locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProtectionControl {
    /// Block registration outside trusted locations (the MSP baseline).
    #[default]
    Block,
    /// Require MFA (Microsoft's template; a Temporary Access Pass satisfies it).
    Mfa,
    /// Require a compliant device (CISA MS.AAD.3.8).
    CompliantDevice,
    /// Require a Microsoft Entra hybrid joined device (CISA MS.AAD.3.8).
    DomainJoinedDevice,
}

impl ProtectionControl {
    /// The `builtInControls` member Graph uses for it.
    pub fn as_graph(self) -> &'static str {
        match self {
            ProtectionControl::Block => "block",
            ProtectionControl::Mfa => "mfa",
            ProtectionControl::CompliantDevice => "compliantDevice",
            ProtectionControl::DomainJoinedDevice => "domainJoinedDevice",
        }
    }

    fn default_name(self) -> &'static str {
        match self {
            ProtectionControl::Block => {
                "Block security info registration outside trusted locations"
            }
            ProtectionControl::Mfa => "Require MFA to register security info",
            ProtectionControl::CompliantDevice => {
                "Require a compliant device to register security info"
            }
            ProtectionControl::DomainJoinedDevice => {
                "Require a hybrid joined device to register security info"
            }
        }
    }
}

/// Whether guests and external users are covered by the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum GuestHandling {
    /// Excluded, as Microsoft's template does: guests register in their home tenant, or are
    /// covered by a separate guest policy.
    #[default]
    Exclude,
    /// Covered like members.
    Include,
}

/// What the caller asks for. Every member is optional; the defaults make the MSP baseline:
/// block registration outside `AllTrusted`, guests excluded, break-glass accounts discovered
/// and excluded, report-only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(examples(sspr_api::examples::protection_options))]
pub struct ProtectionOptions {
    /// `block` (default), `mfa`, `compliantDevice` or `domainJoinedDevice`.
    #[serde(default)]
    pub control: ProtectionControl,
    /// The locations registration stays unrestricted from: `["AllTrusted"]` (default) or
    /// named-location ids. `[]` drops the location condition (the control then applies
    /// everywhere), which `block` refuses.
    #[serde(default)]
    pub trusted_locations: Option<Vec<String>>,
    /// Break-glass user object ids to exclude, besides the discovered ones.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub exclude_users: Vec<String>,
    /// Break-glass group object ids to exclude, besides the discovered ones.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub exclude_groups: Vec<String>,
    /// Also exclude the users and groups that more than half of the tenant's enabled and
    /// report-only CA policies exclude (default true; ignored by `generate`).
    #[serde(default)]
    pub discover_break_glass: Option<bool>,
    /// `exclude` (default) or `include` guests and external users.
    #[serde(default)]
    pub guests: GuestHandling,
    /// `enabledForReportingButNotEnforced` (report-only, the default for a new policy) or
    /// `enabled`. A PUT without it keeps the state of the policy it updates.
    #[serde(default)]
    pub state: Option<ProtectionState>,
    /// The policy's name; the marker is appended to it, and the whole may have at most 256
    /// characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 225, pattern = r"\S")]
    pub display_name: Option<String>,
    /// Go ahead although the plan has errors (e.g. `block` with no trusted location).
    #[serde(default)]
    pub force: bool,
}

/// Options that passed validation, normalised (ids lower-cased, deduplicated, sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOptions {
    pub control: ProtectionControl,
    /// `["AllTrusted"]`, named-location ids, or empty (no location condition).
    pub trusted_locations: Vec<String>,
    pub exclude_users: Vec<String>,
    pub exclude_groups: Vec<String>,
    pub discover_break_glass: bool,
    pub guests: GuestHandling,
    /// `None`: not asked for (a new policy starts report-only; an update keeps its state).
    pub state: Option<ProtectionState>,
    /// The full display name, marker included.
    pub display_name: String,
    pub force: bool,
}

/// An option that cannot be used: the JSON pointer of the member and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    pub field: String,
    pub detail: String,
}

/// The longest display name accepted (Graph's limit is undocumented; the portal allows 256).
const MAX_NAME_CHARS: usize = 256;

impl ProtectionOptions {
    /// Checks and normalises the options.
    pub fn validate(&self) -> Result<ValidOptions, OptionError> {
        let trusted_locations = match &self.trusted_locations {
            None => vec![ALL_TRUSTED.to_owned()],
            Some(given) => trusted_locations(given)?,
        };
        if trusted_locations.is_empty() && self.control == ProtectionControl::Block {
            return Err(OptionError {
                field: "/trustedLocations".into(),
                detail: "With control 'block', an empty trustedLocations would block security-info registration everywhere, for everyone; name the trusted locations (or AllTrusted).".into(),
            });
        }
        let exclude_users = object_ids(&self.exclude_users, "/excludeUsers", "user")?;
        let exclude_groups = object_ids(&self.exclude_groups, "/excludeGroups", "group")?;
        let display_name = display_name(self.display_name.as_deref(), self.control)?;
        Ok(ValidOptions {
            control: self.control,
            trusted_locations,
            exclude_users,
            exclude_groups,
            discover_break_glass: self.discover_break_glass.unwrap_or(true),
            guests: self.guests,
            state: self.state,
            display_name,
            force: self.force,
        })
    }
}

fn trusted_locations(given: &[String]) -> Result<Vec<String>, OptionError> {
    let mut out: Vec<String> = Vec::new();
    for (index, raw) in given.iter().enumerate() {
        let field = format!("/trustedLocations/{index}");
        let value = raw.trim();
        if value.eq_ignore_ascii_case(ALL_TRUSTED) {
            if given.len() > 1 {
                return Err(OptionError {
                    field,
                    detail: "AllTrusted already covers every trusted named location; give it alone or list named-location ids instead.".into(),
                });
            }
            return Ok(vec![ALL_TRUSTED.to_owned()]);
        }
        if value.eq_ignore_ascii_case("All") {
            return Err(OptionError {
                field,
                detail: "'All' would exempt every location, so the policy would never apply; give AllTrusted or named-location ids.".into(),
            });
        }
        let id = guid(value).ok_or_else(|| OptionError {
            field,
            detail: format!("'{value}' is neither AllTrusted nor a named-location id (a GUID)."),
        })?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out.sort();
    Ok(out)
}

fn object_ids(given: &[String], field: &str, what: &str) -> Result<Vec<String>, OptionError> {
    let mut out = Vec::with_capacity(given.len());
    for (index, raw) in given.iter().enumerate() {
        let id = guid(raw.trim()).ok_or_else(|| OptionError {
            field: format!("{field}/{index}"),
            detail: format!("'{}' is not a {what} object id (a GUID).", raw.trim()),
        })?;
        out.push(id);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The lower-cased hyphenated form of a GUID, or `None`.
pub fn guid(text: &str) -> Option<String> {
    uuid::Uuid::parse_str(text)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

fn display_name(given: Option<&str>, control: ProtectionControl) -> Result<String, OptionError> {
    let base = match given {
        None => control.default_name().to_owned(),
        Some(name) => {
            let name = name.replace(MARKER, "");
            let name = name.trim();
            if name.is_empty() {
                return Err(OptionError {
                    field: "/displayName".into(),
                    detail: "The display name is empty; leave it out for the default name.".into(),
                });
            }
            name.to_owned()
        }
    };
    let full = format!("{base} {MARKER}");
    if full.chars().count() > MAX_NAME_CHARS {
        return Err(OptionError {
            field: "/displayName".into(),
            detail: format!(
                "The display name is too long: with the marker it has {} characters, at most {MAX_NAME_CHARS} are allowed.",
                full.chars().count()
            ),
        });
    }
    Ok(full)
}

/// True when `display_name` carries our marker.
pub fn is_ours(display_name: &str) -> bool {
    display_name.contains(MARKER)
}

// ---------------------------------------------------------------------------------------------
// The policy model: what the service knows of a CA policy, generated or read from Graph.
// ---------------------------------------------------------------------------------------------

/// What a guest selection covers (the selection is a wire type of the contract crate).
pub trait GuestCoverage {
    /// Every guest type, from every external tenant.
    fn everyone() -> Self;
    /// Covers every guest type from every external tenant.
    fn is_everyone(&self) -> bool;
}

impl GuestCoverage for GuestSelection {
    fn everyone() -> GuestSelection {
        GuestSelection {
            guest_or_external_user_types: ALL_GUEST_TYPES.iter().map(|s| (*s).to_owned()).collect(),
            external_tenants: None,
        }
    }

    fn is_everyone(&self) -> bool {
        self.external_tenants.is_none()
            && ALL_GUEST_TYPES.iter().all(|t| {
                self.guest_or_external_user_types
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(t))
            })
    }
}

/// A named location, as far as trust goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamedLocation {
    pub id: String,
    pub display_name: String,
    pub kind: NamedLocationKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum NamedLocationKind {
    /// An IP range location, trusted or not.
    TrustedIp,
    UntrustedIp,
    /// A countries/regions location; these can never be trusted.
    Country,
    /// A type this service does not know.
    Other,
}

impl NamedLocation {
    pub fn is_trusted(&self) -> bool {
        self.kind == NamedLocationKind::TrustedIp
    }
}

/// What protection asks of any CA policy (the policy model is a wire type of the contract
/// crate, since the status answer shows it).
pub trait PolicyFacts {
    /// The policy guards security-info registration.
    fn targets_registration(&self) -> bool;
    /// Enabled or report-only (a disabled policy does nothing).
    fn is_active(&self) -> bool;
    /// The policy carries our marker.
    fn is_ours(&self) -> bool;
}

impl PolicyFacts for CaPolicy {
    fn targets_registration(&self) -> bool {
        self.applications
            .include_user_actions
            .iter()
            .any(|a| a.eq_ignore_ascii_case(REGISTER_SECURITY_INFO))
    }

    fn is_active(&self) -> bool {
        self.state != PolicyState::Disabled
    }

    fn is_ours(&self) -> bool {
        is_ours(&self.display_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(ids: &[&str]) -> ProtectionOptions {
        ProtectionOptions {
            trusted_locations: Some(ids.iter().map(|id| (*id).to_owned()).collect()),
            ..ProtectionOptions::default()
        }
    }

    fn named(name: &str) -> ProtectionOptions {
        ProtectionOptions {
            display_name: Some(name.to_owned()),
            ..ProtectionOptions::default()
        }
    }

    #[test]
    fn empty_options_make_the_msp_baseline() {
        let valid = ProtectionOptions::default().validate().expect("valid");
        assert_eq!(valid.control, ProtectionControl::Block);
        assert_eq!(valid.trusted_locations, [ALL_TRUSTED]);
        assert_eq!(valid.guests, GuestHandling::Exclude);
        assert!(valid.discover_break_glass);
        assert_eq!(valid.state, None);
        assert!(valid.display_name.ends_with(MARKER));
        assert!(is_ours(&valid.display_name));
    }

    #[test]
    fn locations_are_all_trusted_alone_or_guids() {
        let hq = "0854951D-5FC0-4EB1-B392-9B2C9D7949C2";
        let valid = trusted(&[hq, &hq.to_lowercase()])
            .validate()
            .expect("valid");
        assert_eq!(valid.trusted_locations, [hq.to_lowercase()]);

        let mixed = trusted(&[hq, "AllTrusted"]).validate().expect_err("mixed");
        assert_eq!(mixed.field, "/trustedLocations/1");

        let bad = trusted(&["head office"])
            .validate()
            .expect_err("not a guid");
        assert_eq!(bad.field, "/trustedLocations/0");
        assert!(bad.detail.contains("head office"));

        let all = trusted(&["All"]).validate().expect_err("All");
        assert!(all.detail.contains("never apply"));
    }

    #[test]
    fn block_everywhere_is_refused_but_mfa_everywhere_is_not() {
        let block = trusted(&[]).validate().expect_err("block everywhere");
        assert_eq!(block.field, "/trustedLocations");
        let mfa = ProtectionOptions {
            control: ProtectionControl::Mfa,
            ..trusted(&[])
        }
        .validate()
        .expect("mfa everywhere");
        assert!(mfa.trusted_locations.is_empty());
    }

    #[test]
    fn exclusions_must_be_object_ids_and_are_normalised() {
        let id = "1A2B3C4D-5E6F-4A7B-8C9D-0E1F2A3B4C08";
        let valid = ProtectionOptions {
            exclude_users: vec![id.to_owned(), id.to_lowercase()],
            ..ProtectionOptions::default()
        }
        .validate()
        .expect("valid");
        assert_eq!(valid.exclude_users, [id.to_lowercase()]);
        let bad = ProtectionOptions {
            exclude_groups: vec!["breakglass@contoso.com".to_owned()],
            ..ProtectionOptions::default()
        }
        .validate()
        .expect_err("upn");
        assert_eq!(bad.field, "/excludeGroups/0");
    }

    #[test]
    fn the_marker_is_appended_once() {
        let valid = named(&format!("MSP baseline {MARKER}"))
            .validate()
            .expect("valid");
        assert_eq!(valid.display_name, format!("MSP baseline {MARKER}"));
        let empty = named(MARKER).validate().expect_err("only the marker");
        assert_eq!(empty.field, "/displayName");
        let long = named(&"x".repeat(300)).validate().expect_err("long");
        assert!(long.detail.contains("too long"));
    }

    #[test]
    fn guest_selection_knows_everyone() {
        assert!(GuestSelection::everyone().is_everyone());
        let partial = GuestSelection {
            guest_or_external_user_types: vec!["b2bCollaborationGuest".into()],
            external_tenants: None,
        };
        assert!(!partial.is_everyone());
    }
}
