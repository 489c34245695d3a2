//! Conditional Access policies and named locations (graph-api.md §5): Graph's wire JSON read into
//! the protection model, and the writes of the registration-protection policy ([`render`] makes
//! their bodies). These routes share Graph's 1 request/s per tenant bucket (no `Retry-After`);
//! the Graph layer paces them, and the callers here make their calls one after another.

pub mod render;

use serde::Deserialize;
use serde_json::Value;

use sspr_api::protection::{PlannedCall, PolicyChange};

use super::DirectoryError;
use super::graph::Graph;
use super::tenants::ManagedTenant;
use crate::capabilities::conditional_access::{ConditionalAccess, PolicyWrite, Read, Written};
use crate::domain::protection::generate::PolicyPart;
use crate::domain::protection::{
    ApplicationCondition, CaPolicy, GrantControls, GuestSelection, LocationCondition,
    NamedLocation, NamedLocationKind, PolicyState, UserCondition,
};

const POLICIES: &str = "identity/conditionalAccess/policies";
const NAMED_LOCATIONS: &str = "identity/conditionalAccess/namedLocations";

/// The method, the path (without Graph's version) and the body of `write`.
pub fn request_of(write: PolicyWrite<'_>) -> (&'static str, String, Value) {
    match write {
        PolicyWrite::Create(policy) => ("POST", POLICIES.to_owned(), render::create_body(policy)),
        PolicyWrite::Update { desired, existing } => (
            "PATCH",
            format!("{POLICIES}/{}", existing.id),
            render::update_body(desired, existing),
        ),
        PolicyWrite::State { policy, state } => (
            "PATCH",
            format!("{POLICIES}/{}", policy.id),
            render::state_body(state),
        ),
    }
}

/// How a deploy's attempts name `write`: method and path without Graph's version.
pub fn write_text(write: PolicyWrite<'_>) -> String {
    let (method, path, _) = request_of(write);
    format!("{method} {path}")
}

/// How a deploy's attempts name the listing of the policies.
pub fn listing_text() -> String {
    format!("GET {POLICIES}")
}

#[async_trait::async_trait]
impl ConditionalAccess for Graph {
    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn policies(&self, tenant: &ManagedTenant) -> Result<Read<CaPolicy>, DirectoryError> {
        let (items, request_ids) = list_policies(self, tenant).await?;
        Ok(Read { items, request_ids })
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn named_locations(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<Read<NamedLocation>, DirectoryError> {
        let (items, request_ids) = list_named_locations(self, tenant).await?;
        Ok(Read { items, request_ids })
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.id, group = group_id))]
    async fn group_member_ids(
        &self,
        tenant: &ManagedTenant,
        group_id: &str,
    ) -> Result<Read<String>, DirectoryError> {
        let (items, request_ids) = group_member_ids(self, tenant, group_id).await?;
        Ok(Read { items, request_ids })
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn write(
        &self,
        tenant: &ManagedTenant,
        write: PolicyWrite<'_>,
    ) -> Result<Written, DirectoryError> {
        let (_, path, body) = request_of(write);
        match write {
            PolicyWrite::Create(_) => {
                let (policy_id, request_id) = create_policy(self, tenant, &body).await?;
                Ok(Written {
                    policy_id,
                    request_id,
                })
            }
            PolicyWrite::Update { existing, .. } => Ok(Written {
                policy_id: existing.id.clone(),
                request_id: self.patch(tenant, &path, &body).await?,
            }),
            PolicyWrite::State { policy, .. } => Ok(Written {
                policy_id: policy.id.clone(),
                request_id: self.patch(tenant, &path, &body).await?,
            }),
        }
    }

    fn planned_call(&self, write: PolicyWrite<'_>) -> PlannedCall {
        let (method, path, body) = request_of(write);
        PlannedCall {
            method: method.to_owned(),
            path: self.path_of(&path),
            body,
        }
    }

    fn policy_json(&self, policy: &CaPolicy) -> Value {
        render::create_body(policy)
    }

    fn part_names(&self, parts: &[PolicyPart]) -> Vec<String> {
        parts
            .iter()
            .map(|part| render::part_name(*part).to_owned())
            .collect()
    }

    fn diff(&self, write: PolicyWrite<'_>) -> Vec<PolicyChange> {
        render::diff(write)
    }

    fn write_text(&self, write: PolicyWrite<'_>) -> String {
        write_text(write)
    }

    fn listing_text(&self) -> String {
        listing_text()
    }
}

/// Every CA policy of the tenant, and Graph's request ids of the pages read.
pub async fn list_policies(
    graph: &Graph,
    tenant: &ManagedTenant,
) -> Result<(Vec<CaPolicy>, Vec<String>), DirectoryError> {
    let (wire, request_ids) = graph.get_all::<wire::Policy>(tenant, POLICIES).await?;
    Ok((
        wire.into_iter().map(wire::Policy::into_domain).collect(),
        request_ids,
    ))
}

/// Every named location of the tenant, and Graph's request ids of the pages read.
async fn list_named_locations(
    graph: &Graph,
    tenant: &ManagedTenant,
) -> Result<(Vec<NamedLocation>, Vec<String>), DirectoryError> {
    let (wire, request_ids) = graph
        .get_all::<wire::NamedLocation>(tenant, NAMED_LOCATIONS)
        .await?;
    Ok((
        wire.into_iter()
            .map(wire::NamedLocation::into_domain)
            .collect(),
        request_ids,
    ))
}

/// Creates a policy from `body` (Graph's JSON); returns the new policy's id and the request id.
/// Not retried here: a POST whose answer was lost may have created the policy, so the caller
/// looks before it tries again.
async fn create_policy(
    graph: &Graph,
    tenant: &ManagedTenant,
    body: &Value,
) -> Result<(String, Option<String>), DirectoryError> {
    let (created, request_id) = graph.post(tenant, POLICIES, body).await?;
    let id = created["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| DirectoryError::Upstream {
            status: 201,
            code: "unreadableResponse".into(),
            message: format!("POST {POLICIES}: the created policy came without an id"),
            request_id: request_id.clone(),
        })?;
    Ok((id, request_id))
}

/// The object ids of a group's direct members, and the request ids of the pages read.
/// (Entra also applies a CA group exclusion to nested members; the registration impact counts
/// direct members only.)
async fn group_member_ids(
    graph: &Graph,
    tenant: &ManagedTenant,
    group_id: &str,
) -> Result<(Vec<String>, Vec<String>), DirectoryError> {
    #[derive(Deserialize)]
    struct Member {
        id: String,
    }
    let (members, request_ids) = graph
        .get_all::<Member>(
            tenant,
            &format!("groups/{group_id}/members?$select=id&$top=999"),
        )
        .await?;
    Ok((members.into_iter().map(|m| m.id).collect(), request_ids))
}

/// Graph's JSON, exactly as it arrives. Unknown properties are ignored, never refused; every
/// property may be missing or `null`.
mod wire {
    use super::*;

    fn strings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Policy {
        #[serde(default)]
        id: String,
        #[serde(default)]
        display_name: Option<String>,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        state: Option<String>,
        #[serde(default)]
        conditions: Option<Conditions>,
        #[serde(default)]
        grant_controls: Option<Grant>,
        #[serde(default)]
        session_controls: Option<Value>,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Conditions {
        #[serde(default, deserialize_with = "strings")]
        client_app_types: Vec<String>,
        #[serde(default)]
        applications: Option<Applications>,
        #[serde(default)]
        users: Option<Users>,
        #[serde(default)]
        locations: Option<Locations>,
        #[serde(default)]
        platforms: Option<Value>,
        #[serde(default)]
        devices: Option<Value>,
        #[serde(default)]
        client_applications: Option<Value>,
        #[serde(default)]
        authentication_flows: Option<Value>,
        #[serde(default)]
        insider_risk_levels: Option<Value>,
        #[serde(default, deserialize_with = "strings")]
        user_risk_levels: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        sign_in_risk_levels: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        service_principal_risk_levels: Vec<String>,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Applications {
        #[serde(default, deserialize_with = "strings")]
        include_applications: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        exclude_applications: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        include_user_actions: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        include_authentication_context_class_references: Vec<String>,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Users {
        #[serde(default, deserialize_with = "strings")]
        include_users: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        exclude_users: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        include_groups: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        exclude_groups: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        include_roles: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        exclude_roles: Vec<String>,
        #[serde(default)]
        include_guests_or_external_users: Option<Guests>,
        #[serde(default)]
        exclude_guests_or_external_users: Option<Guests>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Guests {
        /// A flags enum: one comma-separated string (§5.2).
        #[serde(default)]
        guest_or_external_user_types: Option<String>,
        #[serde(default)]
        external_tenants: Option<ExternalTenants>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ExternalTenants {
        #[serde(default)]
        membership_kind: Option<String>,
        #[serde(default, deserialize_with = "strings")]
        members: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Locations {
        #[serde(default, deserialize_with = "strings")]
        include_locations: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        exclude_locations: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Grant {
        #[serde(default)]
        operator: Option<String>,
        #[serde(default, deserialize_with = "strings")]
        built_in_controls: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        custom_authentication_factors: Vec<String>,
        #[serde(default, deserialize_with = "strings")]
        terms_of_use: Vec<String>,
        #[serde(default)]
        authentication_strength: Option<Value>,
    }

    fn is_set(value: &Option<Value>) -> bool {
        value.as_ref().is_some_and(|v| !v.is_null())
    }

    impl Guests {
        fn into_domain(self) -> GuestSelection {
            GuestSelection {
                guest_or_external_user_types: self
                    .guest_or_external_user_types
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                external_tenants: self.external_tenants.and_then(|t| {
                    if t.membership_kind.as_deref() == Some("enumerated") {
                        Some(t.members)
                    } else {
                        None
                    }
                }),
            }
        }
    }

    impl Policy {
        pub fn into_domain(self) -> CaPolicy {
            let conditions = self.conditions.unwrap_or_default();
            let narrowing = [
                ("platforms", is_set(&conditions.platforms)),
                ("devices", is_set(&conditions.devices)),
                (
                    "clientApplications",
                    is_set(&conditions.client_applications),
                ),
                (
                    "authenticationFlows",
                    is_set(&conditions.authentication_flows),
                ),
                ("insiderRiskLevels", is_set(&conditions.insider_risk_levels)),
                ("userRiskLevels", !conditions.user_risk_levels.is_empty()),
                (
                    "signInRiskLevels",
                    !conditions.sign_in_risk_levels.is_empty(),
                ),
                (
                    "servicePrincipalRiskLevels",
                    !conditions.service_principal_risk_levels.is_empty(),
                ),
            ]
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(name, _)| name.to_owned())
            .collect();
            let apps = conditions.applications.unwrap_or_default();
            let users = conditions.users.unwrap_or_default();
            CaPolicy {
                id: self.id,
                display_name: self.display_name.unwrap_or_default(),
                description: self.description,
                state: match self.state.as_deref() {
                    Some("enabled") => PolicyState::Enabled,
                    Some("enabledForReportingButNotEnforced") => PolicyState::ReportOnly,
                    // `disabled`, or a state Graph may add later: either way not in force.
                    _ => PolicyState::Disabled,
                },
                client_app_types: conditions.client_app_types,
                applications: ApplicationCondition {
                    include_applications: apps.include_applications,
                    exclude_applications: apps.exclude_applications,
                    include_user_actions: apps.include_user_actions,
                    include_authentication_context_class_references: apps
                        .include_authentication_context_class_references,
                },
                users: UserCondition {
                    include_users: users.include_users,
                    exclude_users: users.exclude_users,
                    include_groups: users.include_groups,
                    exclude_groups: users.exclude_groups,
                    include_roles: users.include_roles,
                    exclude_roles: users.exclude_roles,
                    include_guests_or_external_users: users
                        .include_guests_or_external_users
                        .map(Guests::into_domain),
                    exclude_guests_or_external_users: users
                        .exclude_guests_or_external_users
                        .map(Guests::into_domain),
                },
                locations: conditions.locations.map(|l| LocationCondition {
                    include_locations: l.include_locations,
                    exclude_locations: l.exclude_locations,
                }),
                grant: self.grant_controls.map(|g| GrantControls {
                    operator: g.operator.unwrap_or_else(|| "OR".into()),
                    built_in_controls: g.built_in_controls,
                    authentication_strength: g
                        .authentication_strength
                        .filter(|s| !s.is_null())
                        .map(|s| s["id"].as_str().unwrap_or("unnamed").to_owned()),
                    custom_authentication_factors: g.custom_authentication_factors,
                    terms_of_use: g.terms_of_use,
                }),
                narrowing_conditions: narrowing,
                has_session_controls: self
                    .session_controls
                    .as_ref()
                    .and_then(Value::as_object)
                    .is_some_and(|s| s.values().any(|v| !v.is_null())),
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct NamedLocation {
        #[serde(rename = "@odata.type", default)]
        odata_type: String,
        #[serde(default)]
        id: String,
        #[serde(default)]
        display_name: Option<String>,
        #[serde(default)]
        is_trusted: Option<bool>,
    }

    impl NamedLocation {
        pub fn into_domain(self) -> super::NamedLocation {
            let kind = match self.odata_type.trim_start_matches('#') {
                "microsoft.graph.ipNamedLocation" if self.is_trusted == Some(true) => {
                    NamedLocationKind::TrustedIp
                }
                "microsoft.graph.ipNamedLocation" => NamedLocationKind::UntrustedIp,
                "microsoft.graph.countryNamedLocation" => NamedLocationKind::Country,
                _ => NamedLocationKind::Other,
            };
            super::NamedLocation {
                display_name: self.display_name.unwrap_or_else(|| self.id.clone()),
                id: self.id,
                kind,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::protection::{GuestCoverage, PolicyFacts};
    use serde_json::json;

    #[test]
    fn the_reference_response_reads_into_the_model() {
        // graph-api.md §5.3, "Expected response".
        let json = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies/$entity",
            "id": "0e2a3c54-7f1f-4d0b-9d62-3a4b5c6d7e8f", "templateId": null,
            "displayName": "MSP - Block security info registration outside trusted locations",
            "createdDateTime": "2026-08-20T10:15:30.1234567Z", "modifiedDateTime": null,
            "state": "enabledForReportingButNotEnforced", "sessionControls": null,
            "conditions": {
                "userRiskLevels": [], "signInRiskLevels": [], "clientAppTypes": ["all"],
                "servicePrincipalRiskLevels": [], "insiderRiskLevels": null, "platforms": null,
                "devices": null, "clientApplications": null, "authenticationFlows": null,
                "applications": {"includeApplications": [], "excludeApplications": [],
                    "includeUserActions": ["urn:user:registersecurityinfo"],
                    "includeAuthenticationContextClassReferences": [], "applicationFilter": null},
                "users": {"includeUsers": ["All"], "excludeUsers": ["6f3c1f3e-1b7e-4a53-9a7b-0b2d2f5a1c11"],
                    "includeGroups": [], "excludeGroups": ["2d6c7a77-5b8d-4b2e-8a55-7e2b1c3d4f33"],
                    "includeRoles": [], "excludeRoles": [], "includeGuestsOrExternalUsers": null,
                    "excludeGuestsOrExternalUsers": {
                        "guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider",
                        "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants", "membershipKind": "all"}}},
                "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}
            },
            "grantControls": {"operator": "OR", "builtInControls": ["block"], "customAuthenticationFactors": [],
                "termsOfUse": [], "authenticationStrength@odata.context": "x", "authenticationStrength": null}
        });
        let policy = serde_json::from_value::<wire::Policy>(json)
            .expect("parses")
            .into_domain();
        assert!(policy.targets_registration() && policy.is_active());
        assert!(policy.narrowing_conditions.is_empty() && !policy.has_session_controls);
        assert!(
            policy
                .users
                .exclude_guests_or_external_users
                .as_ref()
                .expect("guests")
                .is_everyone()
        );
        let grant = policy.grant.expect("grant");
        assert_eq!(grant.built_in_controls, ["block"]);
        assert_eq!(grant.authentication_strength, None);
        assert_eq!(
            policy.locations.expect("locations").exclude_locations,
            ["AllTrusted"]
        );
    }

    #[test]
    fn nulls_and_narrowing_conditions_are_read_leniently() {
        let json = json!({
            "id": "p", "displayName": "Only Android", "state": "enabled",
            "conditions": {"clientAppTypes": null, "users": null, "applications": null,
                "platforms": {"includePlatforms": ["android"]}, "signInRiskLevels": ["high"],
                "locations": null},
            "grantControls": {"builtInControls": ["mfa"],
                "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000002"}},
            "sessionControls": {"signInFrequency": {"value": 1}, "persistentBrowser": null}
        });
        let policy = serde_json::from_value::<wire::Policy>(json)
            .expect("parses")
            .into_domain();
        assert_eq!(
            policy.narrowing_conditions,
            ["platforms", "signInRiskLevels"]
        );
        assert!(policy.has_session_controls);
        assert!(policy.locations.is_none() && policy.client_app_types.is_empty());
        let grant = policy.grant.expect("grant");
        assert_eq!(grant.operator, "OR");
        assert_eq!(
            grant.authentication_strength.as_deref(),
            Some("00000000-0000-0000-0000-000000000002")
        );
    }

    #[test]
    fn named_locations_are_trusted_only_when_ip_and_marked() {
        let read = |json: Value| {
            serde_json::from_value::<wire::NamedLocation>(json)
                .expect("parses")
                .into_domain()
        };
        let hq = read(
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "a",
            "displayName": "HQ", "isTrusted": true, "ipRanges": []}),
        );
        assert!(hq.is_trusted());
        let wifi = read(
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "b",
            "displayName": "Wi-Fi", "isTrusted": false}),
        );
        assert_eq!(wifi.kind, NamedLocationKind::UntrustedIp);
        let countries = read(
            json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "id": "c",
            "displayName": "Countries", "countriesAndRegions": ["US"], "isTrusted": true}),
        );
        assert_eq!(countries.kind, NamedLocationKind::Country);
        assert!(!countries.is_trusted());
    }
}
