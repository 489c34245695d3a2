//! Builders for the wire JSON of the Graph objects a tenant carries besides its users: subscribed
//! SKUs, named locations, Conditional Access policies, Secure Score, control profiles, beta
//! directory recommendations and the portal's password-reset objects.
//!
//! Shared by the hand-written seed tenants and the generator so both serve the same shapes.
//! Property names and types follow the v1.0 CSDL exactly (beta names for recommendations);
//! the only properties outside the schema are the open-type extras Secure Score really sends
//! (`controlScore` is an open type, graph-api.md §7.2).

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::state::{Tenant, User};

/// The day the seeded and generated snapshots describe ("today" for Secure Score history).
/// Fixed so that generated tenants are byte-for-byte deterministic.
pub(crate) const SNAPSHOT_DAY: time::Date = time::macros::date!(2026 - 08 - 20);

// ---------------------------------------------------------------------------------------------
// Licences (graph-api.md §6).
// ---------------------------------------------------------------------------------------------

/// A service plan inside a SKU. `service` is the name `organization.assignedPlans` uses for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub name: &'static str,
    pub id: &'static str,
    pub service: &'static str,
}

pub(crate) const AAD_PREMIUM: Plan = Plan {
    name: "AAD_PREMIUM",
    id: "41781fb2-bc02-4b7c-bd55-b576c07bb09d",
    service: "AADPremiumService",
};
pub(crate) const AAD_PREMIUM_P2: Plan = Plan {
    name: "AAD_PREMIUM_P2",
    id: "eec0eb4f-6444-4f95-aba0-50c24d67f998",
    service: "AADPremiumService",
};
pub(crate) const MFA_PREMIUM: Plan = Plan {
    name: "MFA_PREMIUM",
    id: "8a256a2b-b617-496d-b51b-e76466e88db0",
    service: "MultiFactorService",
};
pub(crate) const AAD_SMB: Plan = Plan {
    name: "AAD_SMB",
    id: "de377cbc-0019-4ec2-b77c-3f223947e102",
    service: "AADPremiumService",
};
pub(crate) const EXCHANGE_S_STANDARD: Plan = Plan {
    name: "EXCHANGE_S_STANDARD",
    id: "9aaf7827-d63c-4b61-89c3-182f06f82e5c",
    service: "exchange",
};
pub(crate) const EXCHANGE_S_ENTERPRISE: Plan = Plan {
    name: "EXCHANGE_S_ENTERPRISE",
    id: "efb87545-963c-4e0d-99df-69c6916d9eb0",
    service: "exchange",
};
pub(crate) const SHAREPOINTSTANDARD: Plan = Plan {
    name: "SHAREPOINTSTANDARD",
    id: "c7699d2e-19aa-44de-8edf-1736da088ca1",
    service: "SharePoint",
};
pub(crate) const SHAREPOINTENTERPRISE: Plan = Plan {
    name: "SHAREPOINTENTERPRISE",
    id: "5dbe027f-2339-4123-9542-606e4d348a72",
    service: "SharePoint",
};
pub(crate) const TEAMS1: Plan = Plan {
    name: "TEAMS1",
    id: "57ff2da0-773e-42df-b2af-ffb7a2317929",
    service: "TeamspaceAPI",
};

/// A product (`skuPartNumber`, `skuId` from graph-api.md §6.2) and the plans it carries
/// (Entra plans per §6.2; the workload plans are a representative subset).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sku {
    pub part_number: &'static str,
    pub id: &'static str,
    pub plans: &'static [Plan],
}

pub(crate) const SKU_AAD_PREMIUM: Sku = Sku {
    part_number: "AAD_PREMIUM",
    id: "078d2b04-f1bd-4111-bbd4-b4b1b354cef4",
    plans: &[AAD_PREMIUM, MFA_PREMIUM],
};
pub(crate) const SKU_AAD_PREMIUM_P2: Sku = Sku {
    part_number: "AAD_PREMIUM_P2",
    id: "84a661c4-e949-4bd2-a560-ed7766fcaf2b",
    plans: &[AAD_PREMIUM, AAD_PREMIUM_P2, MFA_PREMIUM],
};
/// Microsoft 365 Business Premium.
pub(crate) const SKU_SPB: Sku = Sku {
    part_number: "SPB",
    id: "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
    plans: &[
        AAD_PREMIUM,
        MFA_PREMIUM,
        AAD_SMB,
        EXCHANGE_S_STANDARD,
        SHAREPOINTSTANDARD,
        TEAMS1,
    ],
};
/// Microsoft 365 E3.
pub(crate) const SKU_SPE_E3: Sku = Sku {
    part_number: "SPE_E3",
    id: "05e9a617-0261-4cee-bb44-138d3ef5d965",
    plans: &[
        AAD_PREMIUM,
        MFA_PREMIUM,
        EXCHANGE_S_ENTERPRISE,
        SHAREPOINTENTERPRISE,
        TEAMS1,
    ],
};
/// Microsoft 365 E5.
pub(crate) const SKU_SPE_E5: Sku = Sku {
    part_number: "SPE_E5",
    id: "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
    plans: &[
        AAD_PREMIUM,
        AAD_PREMIUM_P2,
        MFA_PREMIUM,
        EXCHANGE_S_ENTERPRISE,
        SHAREPOINTENTERPRISE,
        TEAMS1,
    ],
};
/// Office 365 E1 (no Entra plan).
pub(crate) const SKU_STANDARDPACK: Sku = Sku {
    part_number: "STANDARDPACK",
    id: "18181a46-0d4e-45cd-891e-60aabd171b4e",
    plans: &[EXCHANGE_S_STANDARD, SHAREPOINTSTANDARD, TEAMS1],
};
/// Office 365 E3 (no Entra plan).
pub(crate) const SKU_ENTERPRISEPACK: Sku = Sku {
    part_number: "ENTERPRISEPACK",
    id: "6fd2c87f-b296-42f0-b197-1e91e994b900",
    plans: &[EXCHANGE_S_ENTERPRISE, SHAREPOINTENTERPRISE, TEAMS1],
};
/// Microsoft 365 Business Basic (no Entra plan).
pub(crate) const SKU_BUSINESS_BASIC: Sku = Sku {
    part_number: "O365_BUSINESS_ESSENTIALS",
    id: "3b555118-da6a-4418-894f-7df1e2096870",
    plans: &[EXCHANGE_S_STANDARD, SHAREPOINTSTANDARD, TEAMS1],
};
/// Microsoft 365 **Business Standard** despite the part number (no Entra plan).
pub(crate) const SKU_BUSINESS_STANDARD: Sku = Sku {
    part_number: "O365_BUSINESS_PREMIUM",
    id: "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
    plans: &[EXCHANGE_S_STANDARD, SHAREPOINTSTANDARD, TEAMS1],
};
/// Exchange Online (Plan 1).
pub(crate) const SKU_EXCHANGE_STANDARD: Sku = Sku {
    part_number: "EXCHANGESTANDARD",
    id: "4b9405b0-7788-4568-add1-99614e613b69",
    plans: &[EXCHANGE_S_STANDARD],
};

/// One licence a tenant bought: which product, how many seats, how many are assigned.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub sku: Sku,
    pub prepaid: i32,
    pub consumed: i32,
    /// The commerce subscription id (`subscriptionIds[0]`).
    pub subscription_id: String,
}

/// A `subscribedSku` item: id `{tenantId}_{skuId}`, every plan provisioned.
pub(crate) fn subscribed_sku(tenant_id: &str, account: (&str, &str), s: &Subscription) -> Value {
    let plans: Vec<Value> = s
        .sku
        .plans
        .iter()
        .map(|p| {
            json!({
                "servicePlanId": p.id,
                "servicePlanName": p.name,
                "provisioningStatus": "Success",
                "appliesTo": "User",
            })
        })
        .collect();
    json!({
        "accountName": account.1,
        "accountId": account.0,
        "appliesTo": "User",
        "capabilityStatus": "Enabled",
        "consumedUnits": s.consumed,
        "id": format!("{tenant_id}_{}", s.sku.id),
        "prepaidUnits": { "enabled": s.prepaid, "lockedOut": 0, "suspended": 0, "warning": 0 },
        "servicePlans": plans,
        "skuId": s.sku.id,
        "skuPartNumber": s.sku.part_number,
        "subscriptionIds": [s.subscription_id],
    })
}

/// `organization.assignedPlans` for these subscriptions: one entry per distinct plan.
pub(crate) fn assigned_plans(subscriptions: &[Subscription], assigned: &str) -> Vec<Value> {
    let mut seen = HashSet::new();
    subscriptions
        .iter()
        .flat_map(|s| s.sku.plans.iter())
        .filter(|p| seen.insert(p.id))
        .map(|p| {
            json!({
                "assignedDateTime": assigned,
                "capabilityStatus": "Enabled",
                "service": p.service,
                "servicePlanId": p.id,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Named locations (graph-api.md §5.6).
// ---------------------------------------------------------------------------------------------

/// An `ipNamedLocation`; each range is typed IPv4 or IPv6 by its notation.
pub(crate) fn ip_location(
    id: &str,
    name: &str,
    trusted: bool,
    ranges: &[String],
    created: &str,
) -> Value {
    let ranges: Vec<Value> = ranges
        .iter()
        .map(|cidr| {
            let kind = if cidr.contains(':') {
                "#microsoft.graph.iPv6CidrRange"
            } else {
                "#microsoft.graph.iPv4CidrRange"
            };
            json!({ "@odata.type": kind, "cidrAddress": cidr })
        })
        .collect();
    json!({
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "id": id,
        "displayName": name,
        "createdDateTime": created,
        "modifiedDateTime": created,
        "isTrusted": trusted,
        "ipRanges": ranges,
    })
}

pub(crate) fn country_location(id: &str, name: &str, countries: &[&str], created: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.countryNamedLocation",
        "id": id,
        "displayName": name,
        "createdDateTime": created,
        "modifiedDateTime": created,
        "countriesAndRegions": countries,
        "includeUnknownCountriesAndRegions": false,
        "countryLookupMethod": "clientIpAddress",
    })
}

// ---------------------------------------------------------------------------------------------
// Conditional Access (graph-api.md §5.2): every non-null collection present, absent complexes null.
// ---------------------------------------------------------------------------------------------

/// Role template ids used in `includeRoles`.
pub(crate) const ROLE_GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
pub(crate) const ADMIN_ROLE_TEMPLATES: &[&str] = &[
    ROLE_GLOBAL_ADMIN,
    "e8611ab8-c189-46e8-94e1-60213ab1f814", // Privileged Role Administrator
    "194ae4cb-b126-40b2-bd5b-6091b380977d", // Security Administrator
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", // Conditional Access Administrator
    "29232cdf-9323-42fd-ade2-1d097af3e4de", // Exchange Administrator
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c", // SharePoint Administrator
    "729827e3-9c14-49f7-bb1b-9608f156bbb8", // Helpdesk Administrator
    "fe930be7-5e62-47db-91af-98c3a49a38b1", // User Administrator
    "c4e39bd9-1100-46d3-8c65-fb160da0071f", // Authentication Administrator
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13", // Privileged Authentication Administrator
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", // Application Administrator
    "158c047a-c907-4556-b7ef-446551a6b5f7", // Cloud Application Administrator
    "b0f54661-2d74-4c50-afa3-1ec803f12efe", // Billing Administrator
];

/// Emergency-access accounts and their group: excluded from every seeded or generated policy.
#[derive(Debug, Clone)]
pub(crate) struct BreakGlass {
    pub user_ids: Vec<String>,
    pub group_id: String,
}

/// Who a policy applies to; break-glass users and group are always added to the exclusions.
pub(crate) struct Audience<'a> {
    pub include_users: &'a [&'a str],
    pub include_roles: &'a [&'a str],
    pub exclude_guests: bool,
}

/// What a seeded policy does. `locations: None` = the condition is not used (`null`).
pub(crate) struct CaPolicy<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
    pub state: &'a str,
    pub created: &'a str,
    pub modified: Option<&'a str>,
    pub audience: Audience<'a>,
    pub client_app_types: &'a [&'a str],
    pub locations: Option<(&'a [&'a str], &'a [&'a str])>,
    pub grant: &'a [&'a str],
}

const ALL_GUEST_TYPES: &str = "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider";

pub(crate) fn ca_policy(p: &CaPolicy<'_>, bg: &BreakGlass) -> Value {
    let guests = p.audience.exclude_guests.then(|| {
        json!({
            "guestOrExternalUserTypes": ALL_GUEST_TYPES,
            "externalTenants": {
                "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                "membershipKind": "all"
            }
        })
    });
    let locations = p.locations.map(
        |(include, exclude)| json!({ "includeLocations": include, "excludeLocations": exclude }),
    );
    json!({
        "id": p.id,
        "templateId": null,
        "displayName": p.display_name,
        "createdDateTime": p.created,
        "modifiedDateTime": p.modified,
        "state": p.state,
        "sessionControls": null,
        "conditions": {
            "userRiskLevels": [],
            "signInRiskLevels": [],
            "clientAppTypes": p.client_app_types,
            "servicePrincipalRiskLevels": [],
            "insiderRiskLevels": null,
            "platforms": null,
            "devices": null,
            "clientApplications": null,
            "authenticationFlows": null,
            "applications": {
                "includeApplications": ["All"],
                "excludeApplications": [],
                "includeUserActions": [],
                "includeAuthenticationContextClassReferences": [],
                "applicationFilter": null
            },
            "users": {
                "includeUsers": p.audience.include_users,
                "excludeUsers": bg.user_ids,
                "includeGroups": [],
                "excludeGroups": [bg.group_id],
                "includeRoles": p.audience.include_roles,
                "excludeRoles": [],
                "includeGuestsOrExternalUsers": null,
                "excludeGuestsOrExternalUsers": guests,
            },
            "locations": locations,
        },
        "grantControls": {
            "operator": "OR",
            "builtInControls": p.grant,
            "customAuthenticationFactors": [],
            "termsOfUse": [],
            "authenticationStrength@odata.context": format!(
                "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('{}')/grantControls/authenticationStrength/$entity",
                p.id
            ),
            "authenticationStrength": null
        }
    })
}

/// "Require MFA for administrators": the policy almost every tenant with P1 has.
pub(crate) fn mfa_for_admins(id: &str, created: &str, bg: &BreakGlass) -> Value {
    ca_policy(
        &CaPolicy {
            id,
            display_name: "Require MFA for administrators",
            state: "enabled",
            created,
            modified: None,
            audience: Audience {
                include_users: &[],
                include_roles: ADMIN_ROLE_TEMPLATES,
                exclude_guests: false,
            },
            client_app_types: &["all"],
            locations: None,
            grant: &["mfa"],
        },
        bg,
    )
}

pub(crate) fn block_legacy_auth(id: &str, created: &str, bg: &BreakGlass) -> Value {
    ca_policy(
        &CaPolicy {
            id,
            display_name: "Block legacy authentication",
            state: "enabled",
            created,
            modified: None,
            audience: Audience {
                include_users: &["All"],
                include_roles: &[],
                exclude_guests: false,
            },
            client_app_types: &["exchangeActiveSync", "other"],
            locations: None,
            grant: &["block"],
        },
        bg,
    )
}

/// Sign-in MFA for members outside trusted locations (report-only or on). This is not the
/// registration-protection policy: it targets apps, not `urn:user:registersecurityinfo`.
pub(crate) fn mfa_outside_trusted(id: &str, state: &str, created: &str, bg: &BreakGlass) -> Value {
    ca_policy(
        &CaPolicy {
            id,
            display_name: "Require MFA outside trusted locations",
            state,
            created,
            modified: Some(created),
            audience: Audience {
                include_users: &["All"],
                include_roles: &[],
                exclude_guests: true,
            },
            client_app_types: &["all"],
            locations: Some((&["All"], &["AllTrusted"])),
            grant: &["mfa"],
        },
        bg,
    )
}

// ---------------------------------------------------------------------------------------------
// Portal back end objects (graph-api.md §2.3).
// ---------------------------------------------------------------------------------------------

/// `enablementType`: who may use SSPR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SsprScope {
    None = 0,
    Selected = 1,
    All = 2,
}

/// The legacy SSPR method toggles as the blade shows them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PortalMethods {
    pub email: bool,
    pub mobile_phone: bool,
    pub office_phone: bool,
    pub security_questions: bool,
    pub app_notification: bool,
    pub app_code: bool,
}

impl PortalMethods {
    pub(crate) fn count(&self) -> usize {
        [
            self.email,
            self.mobile_phone,
            self.office_phone,
            self.security_questions,
            self.app_notification,
            self.app_code,
        ]
        .iter()
        .filter(|on| **on)
        .count()
    }

    /// The `methodsRegistered` strings (graph-api.md §4.3) these toggles accept for a reset.
    pub(crate) fn registration_strings(&self) -> Vec<&'static str> {
        [
            (self.app_notification, "microsoftAuthenticatorPush"),
            (self.app_code, "softwareOneTimePasscode"),
            (self.mobile_phone, "mobilePhone"),
            (self.email, "email"),
            (self.office_phone, "officePhone"),
            (self.security_questions, "securityQuestion"),
        ]
        .into_iter()
        .filter_map(|(on, s)| on.then_some(s))
        .collect()
    }
}

pub(crate) struct PortalPolicy<'a> {
    pub scope: SsprScope,
    /// `(id, displayName)` of the group for [`SsprScope::Selected`].
    pub group: Option<(&'a str, &'a str)>,
    pub methods_required: u8,
    pub methods: PortalMethods,
    pub reconfirm_days: u16,
    pub notify_users: bool,
    pub notify_admins: bool,
    /// Users must register when they sign in (the portal only offers it with a scope).
    pub registration_required: bool,
    pub helpdesk_url: Option<&'a str>,
}

/// `PasswordResetPolicies`, every field the portal sends, including the `Inteval` spelling.
pub(crate) fn password_reset_policies(p: &PortalPolicy<'_>) -> Value {
    let (group_ids, group_name) = match (p.scope, p.group) {
        (SsprScope::Selected, Some((id, name))) => (vec![id], name),
        _ => (Vec::new(), ""),
    };
    let m = p.methods;
    json!({
        "objectId": "default",
        "enablementType": p.scope as u8,
        "numberOfAuthenticationMethodsRequired": p.methods_required,
        "emailOptionEnabled": m.email,
        "mobilePhoneOptionEnabled": m.mobile_phone,
        "officePhoneOptionEnabled": m.office_phone,
        "securityQuestionsOptionEnabled": m.security_questions,
        "mobileAppNotificationEnabled": m.app_notification,
        "mobileAppCodeEnabled": m.app_code,
        "numberOfQuestionsToRegister": 5,
        "numberOfQuestionsToReset": 3,
        "registrationRequiredOnSignIn": p.registration_required && p.scope != SsprScope::None,
        "registrationReconfirmIntevalInDays": p.reconfirm_days,
        "skipRegistrationAllowed": true,
        "skipRegistrationMaxAllowedDays": 7,
        "customizeHelpdeskLink": p.helpdesk_url.is_some(),
        "customHelpdeskEmailOrUrl": p.helpdesk_url.unwrap_or(""),
        "notifyUsersOnPasswordReset": p.notify_users,
        "notifyOnAdminPasswordReset": p.notify_admins,
        "passwordResetEnabledGroupIds": group_ids,
        "passwordResetEnabledGroupName": group_name,
        "securityQuestions": [],
        "registrationConditionalAccessPolicies": [],
        "emailOptionAllowed": true,
        "mobilePhoneOptionAllowed": true,
        "officePhoneOptionAllowed": true,
        "securityQuestionsOptionAllowed": true,
        "mobileAppNotificationOptionAllowed": true,
        "mobileAppCodeOptionAllowed": true,
    })
}

/// `OnPremisesPasswordResetPolicies`: `connector` is the on-premises integration's object id
/// (present only for synced tenants); writeback and unlock as the blade shows them.
pub(crate) fn on_premises_policies(
    connector: Option<&str>,
    writeback: bool,
    unlock: bool,
) -> Value {
    let present = connector.is_some();
    json!({
        "objectId": connector,
        "enablementForTenant": present,
        "cloudProvisioningEnablementForTenant": false,
        "passwordWritebackSupported": present && writeback,
        "accountUnlockSupported": present,
        "accountUnlockEnabled": present && unlock,
    })
}

// ---------------------------------------------------------------------------------------------
// Secure Score, control profiles and directory recommendations (graph-api.md §7).
// ---------------------------------------------------------------------------------------------

/// Methods that satisfy MFA (`isMfaRegistered`); email, security questions and TAP do not.
pub(crate) const MFA_METHODS: &[&str] = &[
    "microsoftAuthenticatorPush",
    "microsoftAuthenticatorPasswordless",
    "softwareOneTimePasscode",
    "hardwareOneTimePasscode",
    "mobilePhone",
    "alternateMobilePhone",
    "officePhone",
    "fido2SecurityKey",
    "passKeyDeviceBound",
    "passKeyDeviceBoundAuthenticator",
    "passKeyDeviceBoundWindowsHello",
    "windowsHelloForBusiness",
];

/// What the identity controls measure, counted over enabled members.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Posture {
    pub members: usize,
    pub sspr_enabled: usize,
    pub mfa_registered: usize,
    pub admins: usize,
    pub admins_mfa: usize,
    pub global_admins: usize,
    pub legacy_auth_blocked: bool,
    pub admin_mfa_policy: bool,
    pub premium: bool,
    pub licensed: usize,
}

fn is_mfa_registered(u: &User) -> bool {
    u.methods_registered
        .iter()
        .any(|m| MFA_METHODS.contains(&m.as_str()))
}

/// Measure a tenant as Secure Score would on the snapshot day.
pub(crate) fn posture(t: &Tenant) -> Posture {
    let policy = &t.password_reset_policies;
    let scope = policy["enablementType"].as_i64().unwrap_or(0);
    let selected: HashSet<&str> = policy["passwordResetEnabledGroupIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|gid| t.groups.iter().find(|g| g.id == gid))
        .flat_map(|g| g.members.iter().map(String::as_str))
        .collect();
    let mut p = Posture {
        premium: t.premium,
        licensed: t
            .subscribed_skus
            .iter()
            .filter_map(|s| s["consumedUnits"].as_u64())
            .max()
            .unwrap_or(0) as usize,
        ..Posture::default()
    };
    for u in t
        .users
        .iter()
        .filter(|u| u.account_enabled && u.user_type == "Member")
    {
        p.members += 1;
        let mfa = is_mfa_registered(u);
        p.mfa_registered += usize::from(mfa);
        p.sspr_enabled += usize::from(match scope {
            2 => true,
            1 => selected.contains(u.id.as_str()),
            _ => false,
        });
        if !u.directory_roles.is_empty() {
            p.admins += 1;
            p.admins_mfa += usize::from(mfa);
        }
        p.global_admins += usize::from(
            u.directory_roles
                .iter()
                .any(|r| r == "Global Administrator"),
        );
    }
    let enabled = |v: &&Value| v["state"] == "enabled";
    let grants = |v: &Value, control: &str| {
        v["grantControls"]["builtInControls"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == control))
    };
    p.legacy_auth_blocked = t
        .conditional_access_policies
        .iter()
        .filter(enabled)
        .any(|v| {
            grants(v, "block")
                && v["conditions"]["clientAppTypes"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c == "other"))
        });
    p.admin_mfa_policy = t
        .conditional_access_policies
        .iter()
        .filter(enabled)
        .any(|v| {
            grants(v, "mfa")
                && v["conditions"]["users"]["includeRoles"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r == ROLE_GLOBAL_ADMIN))
        });
    p
}

/// One identity control: its profile and how the posture scores it.
struct Control {
    name: &'static str,
    title: &'static str,
    max: f64,
    rank: i32,
    cost: &'static str,
    impact: &'static str,
    threats: &'static [&'static str],
    remediation: &'static str,
    action_url: &'static str,
    description: &'static str,
}

const CONTROLS: &[Control] = &[
    Control {
        name: "SelfServicePasswordReset",
        title: "Enable self-service password reset",
        max: 1.0,
        rank: 45,
        cost: "Low",
        impact: "Moderate",
        threats: &["AccountBreach"],
        remediation: "<p>With self-service password reset in Microsoft Entra ID, users no longer need to engage help desk to reset passwords. Enable it for all users and require two methods for reset.</p>",
        action_url: "https://portal.azure.com/#view/Microsoft_AAD_IAM/PasswordResetMenuBlade/~/Properties",
        description: "With self-service password reset in Microsoft Entra ID, users no longer need to engage help desk to reset passwords. This feature works well with Microsoft Entra ID dynamically banned passwords, which prevents easily guessable passwords from being used.",
    },
    Control {
        name: "MFARegistrationV2",
        title: "Ensure all users can complete multifactor authentication",
        max: 9.0,
        rank: 5,
        cost: "Moderate",
        impact: "Moderate",
        threats: &["AccountBreach", "PasswordCracking", "PhishingOrWhaling"],
        remediation: "<p>Require users to register for multifactor authentication with the registration campaign or a Conditional Access policy.</p>",
        action_url: "https://portal.azure.com/#view/Microsoft_AAD_IAM/AuthenticationMethodsMenuBlade/~/RegistrationCampaign",
        description: "Multifactor authentication (MFA) helps protect devices and data that are accessible to these users. Adding more authentication methods increases the level of protection if one factor is compromised.",
    },
    Control {
        name: "AdminMFAV2",
        title: "Ensure multifactor authentication is enabled for all users in administrative roles",
        max: 10.0,
        rank: 1,
        cost: "Low",
        impact: "Low",
        threats: &["AccountBreach", "ElevationOfPrivilege", "PasswordCracking"],
        remediation: "<p>Create a Conditional Access policy that requires multifactor authentication for administrative roles.</p>",
        action_url: "https://portal.azure.com/#view/Microsoft_AAD_ConditionalAccess/ConditionalAccessBlade/~/Policies",
        description: "Requiring multifactor authentication (MFA) for administrative roles makes it harder for attackers to access accounts.",
    },
    Control {
        name: "BlockLegacyAuthentication",
        title: "Enable Conditional Access policies to block legacy authentication",
        max: 8.0,
        rank: 3,
        cost: "Moderate",
        impact: "Moderate",
        threats: &["PasswordSpray", "PasswordCracking"],
        remediation: "<p>Create a Conditional Access policy that blocks Exchange ActiveSync and other legacy clients.</p>",
        action_url: "https://portal.azure.com/#view/Microsoft_AAD_ConditionalAccess/ConditionalAccessBlade/~/Policies",
        description: "Today, most compromising sign-in attempts come from legacy authentication. Older office clients such as Office 2010 don't support modern authentication and use legacy protocols such as IMAP, SMTP, and POP3.",
    },
    Control {
        name: "OneAdmin",
        title: "Designate more than one global admin",
        max: 1.0,
        rank: 20,
        cost: "Low",
        impact: "Low",
        threats: &["AccountBreach"],
        remediation: "<p>Assign the Global Administrator role to at least two accounts, including an emergency-access account.</p>",
        action_url: "https://portal.azure.com/#view/Microsoft_AAD_IAM/RolesManagementMenuBlade/~/AllRoles",
        description: "Having more than one global administrator helps if you're unable to fulfill the needs or obligations of your organization.",
    },
];

/// `(score, compliant, total)` of a control for this posture.
fn score(c: &Control, p: &Posture) -> (f64, usize, usize) {
    let ratio = |n: usize, of: usize| if of == 0 { 1.0 } else { n as f64 / of as f64 };
    let (compliant, total) = match c.name {
        "SelfServicePasswordReset" => (p.sspr_enabled, p.members),
        "MFARegistrationV2" => (p.mfa_registered, p.members),
        "AdminMFAV2" if p.admin_mfa_policy => (p.admins, p.admins),
        "AdminMFAV2" => (p.admins_mfa, p.admins),
        "BlockLegacyAuthentication" => (usize::from(p.legacy_auth_blocked), 1),
        _ => (usize::from(p.global_admins > 1), 1),
    };
    let points = (c.max * ratio(compliant, total) * 100.0).round() / 100.0;
    (points, compliant, total)
}

fn status_text(c: &Control, compliant: usize, total: usize) -> String {
    match c.name {
        "SelfServicePasswordReset" => format!(
            "You have {} of {total} users who don't have self-service password reset enabled.",
            total - compliant
        ),
        "MFARegistrationV2" => format!(
            "You have {} of {total} users that aren't registered for multifactor authentication.",
            total - compliant
        ),
        "AdminMFAV2" => format!(
            "You have {} of {total} users in administrative roles that aren't registered and protected with multifactor authentication.",
            total - compliant
        ),
        "BlockLegacyAuthentication" if compliant == 1 => {
            "You have a Conditional Access policy that blocks legacy authentication.".into()
        }
        "BlockLegacyAuthentication" => {
            "You don't have a Conditional Access policy that blocks legacy authentication.".into()
        }
        _ if compliant == 1 => "You have more than one global administrator.".into(),
        _ => "You have only one global administrator.".into(),
    }
}

/// `yyyy-MM-dd` of the snapshot day minus `back` days.
fn day(back: u8) -> String {
    let date = SNAPSHOT_DAY - time::Duration::days(i64::from(back));
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn vendor() -> Value {
    json!({ "provider": "SecureScore", "providerVersion": null, "subProvider": null, "vendor": "Microsoft" })
}

/// `days` daily snapshots, newest first. Older days score a little lower (the tenant improves).
pub(crate) fn secure_scores(tenant_id: &str, p: &Posture, days: u8) -> Vec<Value> {
    let mut services = vec!["HasExchange", "HasSharePoint", "HasEOP"];
    services.push(if p.premium { "HasAADP1" } else { "HasAADFree" });
    let base = if p.premium { 96.0 } else { 41.0 };
    let max = if p.premium { 254.0 } else { 176.0 };
    (0..days)
        .map(|back| {
            let date = day(back);
            let controls: Vec<Value> = CONTROLS
                .iter()
                .map(|c| {
                    let (points, compliant, total) = score(c, p);
                    json!({
                        "controlCategory": "Identity",
                        "controlName": c.name,
                        "description": c.description,
                        "score": points,
                        // Open-type extras live Secure Score sends (graph-api.md §7.2):
                        // counts are strings, percentages numbers.
                        "count": compliant.to_string(),
                        "total": total.to_string(),
                        "implementationStatus": status_text(c, compliant, total),
                        "lastSynced": format!("{date}T06:04:11Z"),
                        "scoreInPercentage": (points / c.max * 10000.0).round() / 100.0,
                    })
                })
                .collect();
            let identity: f64 = CONTROLS.iter().map(|c| score(c, p).0).sum();
            let current = ((base + identity - f64::from(back) * 1.5) * 100.0).round() / 100.0;
            json!({
                "id": format!("{tenant_id}_{date}"),
                "azureTenantId": tenant_id,
                "activeUserCount": p.members,
                "createdDateTime": format!("{date}T00:00:00Z"),
                "currentScore": current,
                "enabledServices": services,
                "licensedUserCount": p.licensed,
                "maxScore": max,
                "averageComparativeScores": [
                    { "basis": "AllTenants", "averageScore": 48.62 },
                    { "basis": "TotalSeats", "averageScore": 52.07 },
                    { "basis": "IndustryTypes", "averageScore": 55.31 }
                ],
                "controlScores": controls,
                "vendorInformation": vendor(),
            })
        })
        .collect()
}

pub(crate) fn control_profiles(tenant_id: &str) -> Vec<Value> {
    CONTROLS
        .iter()
        .map(|c| {
            json!({
                "id": c.name,
                "azureTenantId": tenant_id,
                "actionType": "Config",
                "actionUrl": c.action_url,
                "complianceInformation": [
                    {
                        "certificationName": "CIS Microsoft 365 Foundations Benchmark v3.1.0",
                        "certificationControls": [ { "name": "Identity", "url": "https://www.cisecurity.org/benchmark/microsoft_365" } ]
                    }
                ],
                "controlCategory": "Identity",
                "controlStateUpdates": [
                    { "assignedTo": null, "comment": null, "state": "Default", "updatedBy": null, "updatedDateTime": null }
                ],
                "deprecated": false,
                "implementationCost": c.cost,
                "lastModifiedDateTime": "2026-06-02T00:00:00Z",
                "maxScore": c.max,
                "rank": c.rank,
                "remediation": c.remediation,
                "remediationImpact": "Users will be asked to register and may see an additional prompt.",
                "service": "AzureAD",
                "threats": c.threats,
                "tier": "Core",
                "title": c.title,
                "userImpact": c.impact,
                "vendorInformation": vendor(),
            })
        })
        .collect()
}

/// Beta `directory/recommendations` for the identity controls this tenant is scored on.
pub(crate) fn recommendations(tenant_id: &str, p: &Posture) -> Vec<Value> {
    let entries = [
        (
            "SelfServicePasswordReset",
            "selfServicePasswordReset",
            "low",
            "microsoftEntraIdP1",
        ),
        (
            "MFARegistrationV2",
            "mfaRegistrationV2",
            "high",
            "microsoftEntraIdFree",
        ),
        ("AdminMFAV2", "adminMFAV2", "high", "microsoftEntraIdFree"),
    ];
    let created = format!("{}T06:05:21Z", day(0));
    entries
        .iter()
        .filter_map(|(control, kind, priority, licence)| {
            let c = CONTROLS.iter().find(|c| c.name == *control)?;
            let (points, compliant, total) = score(c, p);
            let done = compliant == total;
            Some(json!({
                "id": format!("{tenant_id}_{kind}"),
                "displayName": c.title,
                "recommendationType": kind,
                "category": "identitySecureScore",
                "featureAreas": ["users"],
                "priority": priority,
                "status": if done { "completedBySystem" } else { "active" },
                "releaseType": "generallyAvailable",
                "requiredLicenses": licence,
                "currentScore": points,
                "maxScore": c.max,
                "impactType": "users",
                "insights": status_text(c, compliant, total),
                "benefits": c.description,
                "remediationImpact": "Users will be asked to register and may see an additional prompt.",
                "createdDateTime": created,
                "impactStartDateTime": created,
                "lastCheckedDateTime": created,
                "lastModifiedBy": "System",
                "lastModifiedDateTime": created,
                "postponeUntilDateTime": null,
                "actionSteps": [
                    {
                        "stepNumber": 1,
                        "text": "1. Follow our ",
                        "actionUrl": { "displayName": c.title, "url": c.action_url }
                    }
                ],
            }))
        })
        .collect()
}

/// Fill Secure Score, control profiles and recommendations from the tenant's current users,
/// groups, portal policy and CA policies (call after those are set).
pub(crate) fn fill_security(t: &mut Tenant, days: u8) {
    let p = posture(t);
    t.secure_scores = secure_scores(&t.id, &p, days);
    t.secure_score_control_profiles = control_profiles(&t.id);
    t.directory_recommendations = recommendations(&t.id, &p);
}

/// `userPreferredMethodForSecondaryAuthentication` a user with these methods would most likely
/// have; `""` (as Graph emits it) when none of the methods can be a default.
pub(crate) fn preferred_for(methods: &[&str]) -> &'static str {
    let has = |m: &str| methods.contains(&m);
    if has("microsoftAuthenticatorPush") {
        "push"
    } else if has("softwareOneTimePasscode") || has("hardwareOneTimePasscode") {
        "oath"
    } else if has("mobilePhone") {
        "sms"
    } else if has("alternateMobilePhone") {
        "voiceAlternateMobile"
    } else if has("officePhone") {
        "voiceOffice"
    } else {
        ""
    }
}
