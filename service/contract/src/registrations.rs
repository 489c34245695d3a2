//! The registration report as the API shows it: one user's record (and the fields a listing
//! can be limited to), a tenant's summary, and the fleet summary over many tenants.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::problem::Problem;
use crate::tenants::TenantRef;

/// One user's registration state. Graph's nullable booleans read as `false`; method strings are
/// kept exactly as Graph sends them, known or not (graph-api.md §4.3). In a listing every member
/// is present unless the `fields` parameter leaves it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::registration))]
pub struct Registration {
    /// The user's object id.
    #[schema(required = false)]
    pub id: String,
    #[schema(required = false)]
    pub user_principal_name: String,
    #[schema(required = false)]
    pub user_display_name: String,
    /// `member`, `guest`, or another string Graph may add (empty when Graph sends none).
    #[schema(required = false)]
    pub user_type: String,
    /// Holds an Entra admin role.
    #[schema(required = false)]
    pub is_admin: bool,
    /// Registered enough methods for SSPR (whether or not SSPR is enabled for the user).
    #[schema(required = false)]
    pub is_sspr_registered: bool,
    /// SSPR is enabled for the user by policy (whether or not they registered).
    #[schema(required = false)]
    pub is_sspr_enabled: bool,
    /// Registered and enabled: the user can reset their password.
    #[schema(required = false)]
    pub is_sspr_capable: bool,
    /// A strong (MFA) method is registered.
    #[schema(required = false)]
    pub is_mfa_registered: bool,
    /// A strong method is registered and allowed by the methods policy.
    #[schema(required = false)]
    pub is_mfa_capable: bool,
    /// A passwordless method is registered and allowed.
    #[schema(required = false)]
    pub is_passwordless_capable: bool,
    #[schema(required = false)]
    pub methods_registered: Vec<String>,
    /// When Graph last refreshed the row (not when the user registered).
    #[schema(required = false, value_type = Option<String>, format = DateTime)]
    pub last_updated_date_time: Option<String>,
}

/// A field of [`Registration`] a caller may choose, in the record's order. Its schema (the
/// `fields` parameter's values) is derived here, so it names exactly the fields [`Field::name`]
/// spells (a unit test in `api` holds them equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ToSchema)]
#[schema(
    rename_all = "camelCase",
    description = "The record fields a listing can be limited to (`fields`)."
)]
pub enum Field {
    Id,
    UserPrincipalName,
    UserDisplayName,
    UserType,
    IsAdmin,
    IsSsprRegistered,
    IsSsprEnabled,
    IsSsprCapable,
    IsMfaRegistered,
    IsMfaCapable,
    IsPasswordlessCapable,
    MethodsRegistered,
    LastUpdatedDateTime,
}

impl Field {
    /// Every field in the record's order: the default selection.
    pub const ALL: [Field; 13] = [
        Field::Id,
        Field::UserPrincipalName,
        Field::UserDisplayName,
        Field::UserType,
        Field::IsAdmin,
        Field::IsSsprRegistered,
        Field::IsSsprEnabled,
        Field::IsSsprCapable,
        Field::IsMfaRegistered,
        Field::IsMfaCapable,
        Field::IsPasswordlessCapable,
        Field::MethodsRegistered,
        Field::LastUpdatedDateTime,
    ];

    /// The JSON member name, also the CSV column header.
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::UserPrincipalName => "userPrincipalName",
            Field::UserDisplayName => "userDisplayName",
            Field::UserType => "userType",
            Field::IsAdmin => "isAdmin",
            Field::IsSsprRegistered => "isSsprRegistered",
            Field::IsSsprEnabled => "isSsprEnabled",
            Field::IsSsprCapable => "isSsprCapable",
            Field::IsMfaRegistered => "isMfaRegistered",
            Field::IsMfaCapable => "isMfaCapable",
            Field::IsPasswordlessCapable => "isPasswordlessCapable",
            Field::MethodsRegistered => "methodsRegistered",
            Field::LastUpdatedDateTime => "lastUpdatedDateTime",
        }
    }

    /// A comma-separated list of field names (case-insensitive), in the caller's order. The
    /// error says which name is wrong and what the names are.
    pub fn parse_list(text: &str) -> Result<Vec<Field>, String> {
        let mut fields = Vec::new();
        for name in text.split(',').map(str::trim) {
            if name.is_empty() {
                return Err("an empty field name; separate names with single commas.".into());
            }
            let field = Field::ALL
                .into_iter()
                .find(|f| f.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!(
                        "'{name}' is not a field of a registration; the fields are {}.",
                        Field::ALL.map(Field::name).join(", ")
                    )
                })?;
            if fields.contains(&field) {
                return Err(format!("'{}' is listed twice.", field.name()));
            }
            fields.push(field);
        }
        Ok(fields)
    }
}

/// One field's value of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    Text(&'a str),
    Optional(Option<&'a str>),
    Flag(bool),
    List(&'a [String]),
}

impl<'a> FieldValue<'a> {
    /// The CSV cell: booleans `true`/`false`, lists joined with `;`, a missing value empty.
    pub fn csv_cell(self) -> Cow<'a, str> {
        match self {
            FieldValue::Text(text) => Cow::Borrowed(text),
            FieldValue::Optional(text) => Cow::Borrowed(text.unwrap_or_default()),
            FieldValue::Flag(true) => Cow::Borrowed("true"),
            FieldValue::Flag(false) => Cow::Borrowed("false"),
            FieldValue::List(items) => Cow::Owned(items.join(";")),
        }
    }
}

impl Serialize for FieldValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Text(text) => serializer.serialize_str(text),
            FieldValue::Optional(text) => text.serialize(serializer),
            FieldValue::Flag(flag) => serializer.serialize_bool(*flag),
            FieldValue::List(items) => items.serialize(serializer),
        }
    }
}

impl Registration {
    pub fn value(&self, field: Field) -> FieldValue<'_> {
        match field {
            Field::Id => FieldValue::Text(&self.id),
            Field::UserPrincipalName => FieldValue::Text(&self.user_principal_name),
            Field::UserDisplayName => FieldValue::Text(&self.user_display_name),
            Field::UserType => FieldValue::Text(&self.user_type),
            Field::IsAdmin => FieldValue::Flag(self.is_admin),
            Field::IsSsprRegistered => FieldValue::Flag(self.is_sspr_registered),
            Field::IsSsprEnabled => FieldValue::Flag(self.is_sspr_enabled),
            Field::IsSsprCapable => FieldValue::Flag(self.is_sspr_capable),
            Field::IsMfaRegistered => FieldValue::Flag(self.is_mfa_registered),
            Field::IsMfaCapable => FieldValue::Flag(self.is_mfa_capable),
            Field::IsPasswordlessCapable => FieldValue::Flag(self.is_passwordless_capable),
            Field::MethodsRegistered => FieldValue::List(&self.methods_registered),
            Field::LastUpdatedDateTime => {
                FieldValue::Optional(self.last_updated_date_time.as_deref())
            }
        }
    }

    /// The record reduced to `fields`, serialized in that order.
    pub fn project<'a>(&'a self, fields: &'a [Field]) -> Projected<'a> {
        Projected {
            record: self,
            fields,
        }
    }
}

/// A record with only the chosen fields, in the chosen order (a JSON object when serialized).
#[derive(Debug, Clone, Copy)]
pub struct Projected<'a> {
    record: &'a Registration,
    fields: &'a [Field],
}

impl<'a> Projected<'a> {
    /// The CSV cells of the chosen fields.
    pub fn csv_cells(self) -> impl Iterator<Item = Cow<'a, str>> + 'a {
        self.fields
            .iter()
            .map(move |f| self.record.value(*f).csv_cell())
    }
}

impl Serialize for Projected<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for field in self.fields {
            map.serialize_entry(field.name(), &self.record.value(*field))?;
        }
        map.end()
    }
}

/// Users per feature.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeatureCounts {
    pub sspr_registered: u64,
    pub sspr_enabled: u64,
    pub sspr_capable: u64,
    pub mfa_registered: u64,
    pub mfa_capable: u64,
    pub passwordless_capable: u64,
}

/// Users in each gap category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GapCounts {
    /// SSPR is enabled for them but they have not registered enough methods: a reset would fail.
    pub enabled_not_registered: u64,
    /// Registered for SSPR, but SSPR is not enabled for them.
    pub registered_not_enabled: u64,
    /// Administrators who cannot do MFA: no strong method registered that the methods policy
    /// allows (`isMfaCapable` false).
    pub admins_without_mfa: u64,
    /// Guest users (they reset their password in their home tenant).
    pub guests: u64,
}

/// Members only (`userType` `member`): what coverage is measured on, guests counted apart.
/// The registration report carries no `accountEnabled`, so disabled and resource accounts
/// cannot be told apart here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberCounts {
    /// Members SSPR is enabled for.
    pub sspr_enabled: u64,
    /// Of those, the members who registered enough methods to reset.
    pub sspr_enabled_registered: u64,
}

/// Where the counts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SummarySource {
    /// One pass over Graph's `userRegistrationDetails`.
    Graph,
}

impl SummarySource {
    /// The name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SummarySource::Graph => "graph",
        }
    }
}

impl std::fmt::Display for SummarySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant's registration summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::registration_summary))]
pub struct RegistrationSummary {
    pub tenant: TenantRef,
    /// When the service began reading Graph's data (RFC 3339). Graph's report itself may lag
    /// behind the directory by a few hours.
    #[schema(format = DateTime)]
    pub read_at: String,
    pub source: SummarySource,
    pub total_users: u64,
    pub features: FeatureCounts,
    /// Users per registered method string, as Graph spells it (sorted by name).
    pub methods: BTreeMap<String, u64>,
    pub gaps: GapCounts,
    /// The members' counts (guests apart); zero from a service before this field.
    #[serde(default)]
    pub members: MemberCounts,
}

/// One tenant's line of the fleet summary: its summary or its problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(examples(crate::examples::fleet_entry))]
pub struct FleetEntry {
    /// The tenant id.
    pub tenant: String,
    pub domain: String,
    /// The tenant's summary; absent when `problem` is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = RegistrationSummary)]
    pub summary: Option<RegistrationSummary>,
    /// Why this tenant has no summary (RFC 9457), e.g. `code: licenseRequired`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Problem)]
    pub problem: Option<Value>,
}

/// The fleet summary as one JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(examples(crate::examples::fleet_summary))]
pub struct FleetSummary {
    /// In the order the tenants completed.
    pub tenants: Vec<FleetEntry>,
    /// How many tenants have a problem instead of a summary.
    pub failed: usize,
}
