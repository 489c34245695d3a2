//! Well-known demo identifiers and the seeded directory.
//!
//! The identifiers are fixed so that the service's demo configuration, the end-to-end tests and
//! documentation can name them; secrets and signing keys are random per start.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::state::{
    AppRegistration, Directory, FederatedCredential, Group, ManagedIdentity, ServicePrincipal,
    Tenant, User,
};

pub mod intune;
mod partner;
pub(crate) mod wire;

use wire::{BreakGlass, PortalMethods, PortalPolicy, SsprScope, Subscription};

/// Customer tenant with Entra ID P1, synced from on-premises AD, methods policy migration in progress.
pub const CONTOSO_ID: &str = "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17";
pub const CONTOSO_DOMAIN: &str = "contoso.onmicrosoft.com";
/// Customer tenant without P1, cloud-only, methods policy still pre-migration.
pub const FABRIKAM_ID: &str = "8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a";
pub const FABRIKAM_DOMAIN: &str = "fabrikam.onmicrosoft.com";
/// The MSP's own tenant: home of our service's API app and the CLI app, and the identity
/// provider for callers of our service.
pub const OPERATOR_ID: &str = "5c7d9e1f-2a4b-4c6d-8e0f-1a2b3c4d5e6f";
pub const OPERATOR_DOMAIN: &str = "northwind.onmicrosoft.com";
/// Customer tenant with Entra ID P1 where [`GRAPH_APP_CLIENT_ID`] holds every permission of
/// [`GRAPH_APP_PERMISSIONS`] except `Policy.ReadWrite.ConditionalAccess` (it keeps
/// `Policy.Read.All`): the tenant whose readiness check names a missing permission.
pub const TAILSPIN_ID: &str = "b7e4c1a9-3f62-4d8e-9a05-6c2e8f1d4b73";
pub const TAILSPIN_DOMAIN: &str = "tailspin.onmicrosoft.com";
/// A customer of the MSP (an active GDAP relationship and a contract in the operator tenant)
/// that the emulator does not host: discovered, never onboarded.
pub const ADATUM_ID: &str = "e9d3a5f7-1c2b-4e6d-8f0a-2b4c6d8e0f13";
pub const ADATUM_DISPLAY_NAME: &str = "Adatum Corporation";

/// App ID URI of our service's API app (registered in the operator tenant).
pub const SERVICE_AUDIENCE: &str = "api://sspr";
/// Client id of our service's API app (the resource behind [`SERVICE_AUDIENCE`]).
pub const SERVICE_API_APP_ID: &str = "c2b1a0f9-8e7d-4c6b-9a5f-4e3d2c1b0a98";
/// App roles our service's API app defines.
pub const SERVICE_APP_ROLES: &[&str] = &["SSPR.Read", "SSPR.ReadWrite", "SSPR.Admin"];

pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// Microsoft Graph's first-party application id (the same in every tenant).
pub const GRAPH_FIRST_PARTY_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Our service's multi-tenant app, consented in contoso and fabrikam.
pub const GRAPH_APP_CLIENT_ID: &str = "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b";
/// Confidential client in the operator tenant with app role `SSPR.ReadWrite` on `api://sspr`.
pub const CLI_APP_CLIENT_ID: &str = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
/// Where `/adminconsent` sends the customer's admin back to (registered on [`GRAPH_APP_CLIENT_ID`]).
pub const CONSENT_REDIRECT_URI: &str = "https://sspr.example/consent/callback";
/// The user-assigned managed identity our service runs as (operator tenant): its IMDS token for
/// `api://AzureADTokenExchange` is a federated credential of [`GRAPH_APP_CLIENT_ID`], its token
/// for [`SERVICE_AUDIENCE`] carries `SSPR.Admin`.
pub const SERVICE_UAMI_CLIENT_ID: &str = "4a8c2e6f-0b1d-4f3a-9c5e-7d9f1b3d5e72";
pub const SERVICE_UAMI_PRINCIPAL_ID: &str = "5b9d3f7a-1c2e-4a4b-8d6f-8e0a2c4e6f83";
/// The demo's Kubernetes cluster: [`GRAPH_APP_CLIENT_ID`] trusts its service-account issuer
/// (`Emulator::service_account_issuer(DEMO_CLUSTER)`) for [`DEMO_SERVICE_ACCOUNT_SUBJECT`].
pub const DEMO_CLUSTER: &str = "demo-cluster";
pub const DEMO_NAMESPACE: &str = "sspr";
pub const DEMO_SERVICE_ACCOUNT: &str = "sspr";
pub const DEMO_SERVICE_ACCOUNT_SUBJECT: &str = "system:serviceaccount:sspr:sspr";
/// Object id used for the demo operator's token.
pub const DEMO_OPERATOR_OID: &str = "0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a21";

/// Service plan id of Entra ID P1 (`AAD_PREMIUM`), shown as `AADPremiumService` in `assignedPlans`.
pub const AAD_PREMIUM_PLAN_ID: &str = "41781fb2-bc02-4b7c-bd55-b576c07bb09d";

/// Graph application permissions admin-consented to [`GRAPH_APP_CLIENT_ID`] in customer tenants.
pub const GRAPH_APP_PERMISSIONS: &[&str] = &[
    "Policy.Read.All",
    "Policy.Read.AuthenticationMethod",
    "Policy.ReadWrite.AuthenticationMethod",
    "Policy.ReadWrite.Authorization",
    "Policy.ReadWrite.ConditionalAccess",
    "Organization.Read.All",
    "AuditLog.Read.All",
    "LicenseAssignment.Read.All",
    "SecurityEvents.Read.All",
    "GroupMember.Read.All",
    "DeviceManagementConfiguration.Read.All",
    "DeviceManagementConfiguration.ReadWrite.All",
];

/// Service principal object ids of [`GRAPH_APP_CLIENT_ID`] per tenant (the `oid` of its tokens).
pub const GRAPH_APP_SP_CONTOSO: &str = "a1b2c3d4-1111-4a2b-8c3d-4e5f6a7b8c01";
pub const GRAPH_APP_SP_FABRIKAM: &str = "a1b2c3d4-2222-4a2b-8c3d-4e5f6a7b8c02";
pub const GRAPH_APP_SP_OPERATOR: &str = "a1b2c3d4-3333-4a2b-8c3d-4e5f6a7b8c03";
pub const GRAPH_APP_SP_TAILSPIN: &str = "a1b2c3d4-6666-4a2b-8c3d-4e5f6a7b8c06";
/// Graph application permissions [`GRAPH_APP_CLIENT_ID`] holds in its home (operator) tenant:
/// enough to list the MSP's GDAP relationships and contracts (msp-readiness.md §2c).
pub const GRAPH_APP_OPERATOR_PERMISSIONS: &[&str] =
    &["DelegatedAdminRelationship.Read.All", "Directory.Read.All"];
/// Service principal object id of [`CLI_APP_CLIENT_ID`] in the operator tenant.
pub const CLI_APP_SP_OPERATOR: &str = "b2c3d4e5-4444-4b3c-9d4e-5f6a7b8c9d04";

// Contoso groups, referenced by the seeded methods policy.
pub const CONTOSO_GROUP_SSPR_USERS: &str = "d2d5bae7-a7b7-4581-8d52-5a8d26f517b3";
pub const CONTOSO_GROUP_ALL_STAFF: &str = "4e7f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b";
pub const CONTOSO_GROUP_BREAK_GLASS: &str = "dad4ae4a-730c-4e52-826c-0d9094971f04";
// Fabrikam groups.
pub const FABRIKAM_GROUP_ALL_EMPLOYEES: &str = "6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d";
pub const FABRIKAM_GROUP_HELPDESK: &str = "7c6b5a4d-3e2f-4b1c-8d9e-0f1a2b3c4d5e";

/// Contoso's emergency-access account (member of [`CONTOSO_GROUP_BREAK_GLASS`]).
pub const CONTOSO_BREAK_GLASS_USER: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08";
/// Contoso named locations: trusted head office, untrusted guest Wi-Fi, sanctioned countries.
pub const CONTOSO_LOCATION_HQ: &str = "0854951d-5fc0-4eb1-b392-9b2c9d7949c2";
pub const CONTOSO_LOCATION_GUEST_WIFI: &str = "6a1e2f3b-7c4d-4e5f-9a0b-1c2d3e4f5a6b";
pub const CONTOSO_LOCATION_BLOCKED_COUNTRIES: &str = "1c4427fd-0885-4a3d-8b23-09a899ffa959";
/// Contoso Conditional Access policies (none protects security-info registration).
pub const CONTOSO_CA_ADMIN_MFA: &str = "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
pub const CONTOSO_CA_LEGACY_AUTH: &str = "8e2d3c4b-5f6a-4b7c-9d8e-0f1a2b3c4d5e";
pub const CONTOSO_CA_MFA_UNTRUSTED: &str = "9f3e4d5c-6a7b-4c8d-8e9f-1a2b3c4d5e6f";
/// Northwind's trusted network operations centre range and its admin-MFA policy.
pub const OPERATOR_LOCATION_NOC: &str = "2d5538fe-1996-4b4e-9c34-10a9b00ee05a";
pub const OPERATOR_CA_ADMIN_MFA: &str = "3e6649af-2aa7-4c5f-8d45-21baa11ff16b";

const GLOBAL_ADMIN: &str = "Global Administrator";
const NOBODY: &str = "00000000-0000-0000-0000-000000000000";

/// The seeded directory: four tenants and the two client apps with the given secrets.
/// The federated credentials that name the emulator's own URLs come from
/// [`federated_credentials`], once the base URL is known.
pub fn directory(graph_app_secret: String, cli_app_secret: String) -> Directory {
    let mut tenants = vec![contoso(), fabrikam(), operator(), tailspin()];
    intune::seed(&mut tenants);
    Directory {
        tenants,
        apps: vec![
            AppRegistration {
                client_id: GRAPH_APP_CLIENT_ID.into(),
                display_name: "Northwind SSPR Manager".into(),
                home_tenant_id: OPERATOR_ID.into(),
                client_secret: graph_app_secret,
                required_permissions: GRAPH_APP_PERMISSIONS
                    .iter()
                    .map(|p| p.to_string())
                    .collect(),
                redirect_uris: vec![CONSENT_REDIRECT_URI.into()],
                ..AppRegistration::default()
            },
            AppRegistration {
                client_id: CLI_APP_CLIENT_ID.into(),
                display_name: "Northwind SSPR CLI".into(),
                home_tenant_id: OPERATOR_ID.into(),
                client_secret: cli_app_secret,
                ..AppRegistration::default()
            },
        ],
    }
}

/// The federated identity credentials of [`GRAPH_APP_CLIENT_ID`] as seeded (msp-readiness.md
/// §1a, §1b): the demo cluster's service account, and the service's managed identity. Their
/// issuers are URLs of the running emulator.
pub fn federated_credentials(
    service_account_issuer: &str,
    operator_issuer: &str,
) -> Vec<FederatedCredential> {
    let audiences = vec![crate::first_party::TOKEN_EXCHANGE_AUDIENCE.to_string()];
    vec![
        FederatedCredential {
            name: "sspr-demo-cluster".into(),
            issuer: service_account_issuer.into(),
            subject: DEMO_SERVICE_ACCOUNT_SUBJECT.into(),
            audiences: audiences.clone(),
        },
        FederatedCredential {
            name: "sspr-service-managed-identity".into(),
            issuer: operator_issuer.into(),
            subject: SERVICE_UAMI_PRINCIPAL_ID.into(),
            audiences,
        },
    ]
}

fn contoso_base() -> Tenant {
    let d = CONTOSO_DOMAIN;
    let users = vec![
        user(
            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01",
            "Megan Bowen",
            "meganb",
            d,
            &[GLOBAL_ADMIN],
        ),
        user(
            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02",
            "Alex Wilber",
            "alexw",
            d,
            &[],
        ),
        user(
            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c03",
            "Diego Siciliani",
            "diegos",
            d,
            &[],
        ),
        user(
            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c04",
            "Isaiah Langer",
            "isaiahl",
            d,
            &[],
        ),
        user(
            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c05",
            "Lynne Robbins",
            "lynner",
            d,
            &[],
        ),
        user(
            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c06",
            "Nestor Wilke",
            "nestorw",
            d,
            &["Helpdesk Administrator"],
        ),
        guest(
            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c07",
            "Pradeep Gupta",
            "pradeep_outlook.com",
            d,
        ),
        user(
            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08",
            "Break Glass 01",
            "breakglass01",
            d,
            &[GLOBAL_ADMIN],
        ),
    ];
    let ids = |idx: &[usize]| idx.iter().map(|&i| users[i].id.clone()).collect::<Vec<_>>();
    let groups = vec![
        group(
            CONTOSO_GROUP_SSPR_USERS,
            "SSPR Users",
            ids(&[1, 2, 3, 4, 5]),
        ),
        group(
            CONTOSO_GROUP_ALL_STAFF,
            "All Staff",
            ids(&[0, 1, 2, 3, 4, 5]),
        ),
        group(CONTOSO_GROUP_BREAK_GLASS, "Break Glass", ids(&[7])),
    ];
    let bg = CONTOSO_GROUP_BREAK_GLASS;
    let methods = vec![
        authenticator("enabled", &[bg]),
        sms("enabled", "all_users"),
        voice("enabled", true),
        email("enabled", CONTOSO_GROUP_SSPR_USERS, &[bg]),
        software_oath("disabled"),
        fido2("enabled"),
        tap("enabled", CONTOSO_GROUP_BREAK_GLASS),
        x509("disabled"),
    ];
    Tenant {
        id: CONTOSO_ID.into(),
        domain: CONTOSO_DOMAIN.into(),
        display_name: "Contoso".into(),
        premium: true,
        synced: true,
        authentication_methods_policy: methods_policy(MethodsPolicy {
            migration_state: "migrationInProgress",
            version: "1.5",
            last_modified: "2026-05-14T09:21:07.4412871Z",
            reconfirmation_in_days: Some(180),
            campaign_state: "enabled",
            campaign_excludes: &[bg],
            methods,
        }),
        authorization_policy: authorization_policy(false),
        organization: organization(Org {
            id: CONTOSO_ID,
            display_name: "Contoso",
            initial_domain: CONTOSO_DOMAIN,
            custom_domain: "contoso.com",
            country: "US",
            city: "Redmond",
            created: "2019-03-11T17:02:45Z",
            plans: vec![
                plan("AADPremiumService", AAD_PREMIUM_PLAN_ID),
                plan("MultiFactorService", "8a256a2b-b617-496d-b51b-e76466e88db0"),
                plan("exchange", "efb87545-963c-4e0d-99df-69c6916d9eb0"),
                plan("SharePoint", "5dbe027f-2339-4123-9542-606e4d348a72"),
                plan("TeamspaceAPI", "57ff2da0-773e-42df-b2af-ffb7a2317929"),
            ],
            last_sync: Some("2026-08-20T09:47:12Z"),
        }),
        users,
        groups,
        service_principals: vec![
            graph_principal("5f7b3c2a-9e1d-4b6f-8a0c-c0a1b2c3d401"),
            graph_app_principal(GRAPH_APP_SP_CONTOSO),
        ],
        ..Tenant::default()
    }
}

fn fabrikam_base() -> Tenant {
    let d = FABRIKAM_DOMAIN;
    let users = vec![
        user(
            "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d01",
            "Patti Fernandez",
            "pattif",
            d,
            &[GLOBAL_ADMIN],
        ),
        user(
            "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d02",
            "Johanna Lorenz",
            "johannal",
            d,
            &[],
        ),
        user(
            "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d03",
            "Grady Archie",
            "gradya",
            d,
            &["Helpdesk Administrator"],
        ),
        user(
            "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d04",
            "Lidia Holloway",
            "lidiah",
            d,
            &[],
        ),
        user(
            "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d05",
            "Miriam Graham",
            "miriamg",
            d,
            &[],
        ),
    ];
    let ids = |idx: &[usize]| idx.iter().map(|&i| users[i].id.clone()).collect::<Vec<_>>();
    let groups = vec![
        group(
            FABRIKAM_GROUP_ALL_EMPLOYEES,
            "All Employees",
            ids(&[0, 1, 2, 3, 4]),
        ),
        group(FABRIKAM_GROUP_HELPDESK, "Helpdesk", ids(&[2])),
    ];
    let methods = vec![
        authenticator("enabled", &[]),
        sms("disabled", "all_users"),
        voice("disabled", false),
        email("disabled", "all_users", &[]),
        software_oath("disabled"),
        fido2("disabled"),
        tap("disabled", "all_users"),
        x509("disabled"),
    ];
    Tenant {
        id: FABRIKAM_ID.into(),
        domain: FABRIKAM_DOMAIN.into(),
        display_name: "Fabrikam, Inc.".into(),
        premium: false,
        synced: false,
        authentication_methods_policy: methods_policy(MethodsPolicy {
            migration_state: "preMigration",
            version: "1.4",
            last_modified: "2025-11-02T14:03:55.1203344Z",
            reconfirmation_in_days: None,
            campaign_state: "default",
            campaign_excludes: &[],
            methods,
        }),
        authorization_policy: authorization_policy(true),
        organization: organization(Org {
            id: FABRIKAM_ID,
            display_name: "Fabrikam, Inc.",
            initial_domain: FABRIKAM_DOMAIN,
            custom_domain: "fabrikam.com",
            country: "GB",
            city: "London",
            created: "2021-09-27T08:15:02Z",
            plans: vec![
                plan("exchange", "9aaf7827-d63c-4b61-89c3-182f06f82e5c"),
                plan("SharePoint", "c7699d2e-19aa-44de-8edf-1736da088ca1"),
                plan("TeamspaceAPI", "57ff2da0-773e-42df-b2af-ffb7a2317929"),
            ],
            last_sync: None,
        }),
        users,
        groups,
        service_principals: vec![
            graph_principal("5f7b3c2a-9e1d-4b6f-8a0c-c0a1b2c3d402"),
            graph_app_principal(GRAPH_APP_SP_FABRIKAM),
        ],
        ..Tenant::default()
    }
}

fn operator_base() -> Tenant {
    let d = OPERATOR_DOMAIN;
    let users = vec![
        user(DEMO_OPERATOR_OID, "Demo Operator", "operator", d, &[]),
        user(
            "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e02",
            "Northwind Admin",
            "admin",
            d,
            &[GLOBAL_ADMIN],
        ),
    ];
    let groups = vec![group(
        "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e90",
        "SSPR Operators",
        vec![DEMO_OPERATOR_OID.into()],
    )];
    let methods = vec![
        authenticator("enabled", &[]),
        sms("disabled", "all_users"),
        voice("disabled", false),
        email("disabled", "all_users", &[]),
        software_oath("disabled"),
        fido2("enabled"),
        tap("enabled", "all_users"),
        x509("disabled"),
    ];
    let mut cli = ServicePrincipal {
        id: CLI_APP_SP_OPERATOR.into(),
        app_id: CLI_APP_CLIENT_ID.into(),
        display_name: "Northwind SSPR CLI".into(),
        service_principal_names: vec![CLI_APP_CLIENT_ID.into()],
        granted_app_roles: BTreeMap::new(),
    };
    cli.granted_app_roles
        .insert(SERVICE_API_APP_ID.into(), vec!["SSPR.ReadWrite".into()]);
    // The managed identity's principal: `SSPR.Admin` on our API, so the CLI signs in with it.
    let mut uami = ServicePrincipal {
        id: SERVICE_UAMI_PRINCIPAL_ID.into(),
        app_id: SERVICE_UAMI_CLIENT_ID.into(),
        display_name: "sspr-service".into(),
        service_principal_names: vec![SERVICE_UAMI_CLIENT_ID.into()],
        granted_app_roles: BTreeMap::new(),
    };
    uami.granted_app_roles
        .insert(SERVICE_API_APP_ID.into(), vec!["SSPR.Admin".into()]);
    Tenant {
        id: OPERATOR_ID.into(),
        domain: OPERATOR_DOMAIN.into(),
        display_name: "Northwind Traders (MSP)".into(),
        premium: true,
        synced: false,
        authentication_methods_policy: methods_policy(MethodsPolicy {
            migration_state: "migrationComplete",
            version: "1.5",
            last_modified: "2026-02-10T11:30:00.0000000Z",
            reconfirmation_in_days: Some(365),
            campaign_state: "enabled",
            campaign_excludes: &[],
            methods,
        }),
        authorization_policy: authorization_policy(false),
        organization: organization(Org {
            id: OPERATOR_ID,
            display_name: "Northwind Traders (MSP)",
            initial_domain: OPERATOR_DOMAIN,
            custom_domain: "northwindtraders.com",
            country: "US",
            city: "Seattle",
            created: "2018-06-04T12:00:00Z",
            plans: vec![
                plan("AADPremiumService", AAD_PREMIUM_PLAN_ID),
                plan("MultiFactorService", "8a256a2b-b617-496d-b51b-e76466e88db0"),
            ],
            last_sync: None,
        }),
        users,
        groups,
        service_principals: vec![
            graph_principal("5f7b3c2a-9e1d-4b6f-8a0c-c0a1b2c3d403"),
            ServicePrincipal {
                id: "c3d4e5f6-5555-4c4d-8e5f-6a7b8c9d0e05".into(),
                app_id: SERVICE_API_APP_ID.into(),
                display_name: "Northwind SSPR API".into(),
                service_principal_names: vec![SERVICE_AUDIENCE.into(), SERVICE_API_APP_ID.into()],
                granted_app_roles: BTreeMap::new(),
            },
            // The multi-tenant app's home-tenant principal: only what GDAP discovery needs here.
            ServicePrincipal {
                id: GRAPH_APP_SP_OPERATOR.into(),
                app_id: GRAPH_APP_CLIENT_ID.into(),
                display_name: "Northwind SSPR Manager".into(),
                service_principal_names: vec![GRAPH_APP_CLIENT_ID.into()],
                granted_app_roles: graph_roles(GRAPH_APP_OPERATOR_PERMISSIONS),
            },
            cli,
            uami,
        ],
        managed_identities: vec![ManagedIdentity {
            client_id: SERVICE_UAMI_CLIENT_ID.into(),
            principal_id: SERVICE_UAMI_PRINCIPAL_ID.into(),
            display_name: "sspr-service".into(),
            resource_id: "/subscriptions/0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a/resourceGroups/sspr/providers/Microsoft.ManagedIdentity/userAssignedIdentities/sspr-service".into(),
        }],
        delegated_admin_relationships: partner::relationships(),
        contracts: partner::contracts(),
        ..Tenant::default()
    }
}

/// Give seeded users their registered methods: `(index, methods, preferred)`; `None` derives
/// the preferred method from the methods.
fn register(users: &mut [User], registrations: &[(usize, &[&str], Option<&str>)]) {
    for (index, methods, preferred) in registrations {
        if let Some(u) = users.get_mut(*index) {
            u.methods_registered = methods.iter().map(|m| m.to_string()).collect();
            u.preferred_method = preferred
                .unwrap_or_else(|| wire::preferred_for(methods))
                .to_string();
        }
    }
}

fn seat_count(t: &Tenant) -> i32 {
    let members = t.users.iter().filter(|u| u.user_type == "Member").count();
    i32::try_from(members).unwrap_or(i32::MAX)
}

fn subscriptions(t: &mut Tenant, account_id: &str, skus: &[(wire::Sku, i32, &str)]) {
    let consumed = seat_count(t);
    t.subscribed_skus = skus
        .iter()
        .map(|(sku, prepaid, subscription)| {
            wire::subscribed_sku(
                &t.id,
                (account_id, &t.display_name),
                &Subscription {
                    sku: *sku,
                    prepaid: *prepaid,
                    consumed: consumed.min(*prepaid),
                    subscription_id: subscription.to_string(),
                },
            )
        })
        .collect();
}

/// Contoso: P1 (Office 365 E3 + Entra ID P1), synced with writeback, a trusted head office,
/// SSPR for the "SSPR Users" group with two methods, three CA policies that all exclude the
/// break-glass account, and no registration-protection policy yet.
fn contoso() -> Tenant {
    let mut t = contoso_base();
    register(
        &mut t.users,
        &[
            (
                0,
                &[
                    "microsoftAuthenticatorPush",
                    "softwareOneTimePasscode",
                    "mobilePhone",
                    "email",
                ],
                None,
            ),
            (1, &["mobilePhone", "email"], None),
            (2, &["microsoftAuthenticatorPush"], None),
            (
                4,
                &["mobilePhone", "officePhone", "email"],
                Some("voiceMobile"),
            ),
            (
                5,
                &[
                    "microsoftAuthenticatorPush",
                    "fido2SecurityKey",
                    "windowsHelloForBusiness",
                ],
                None,
            ),
            (7, &["fido2SecurityKey"], None),
        ],
    );
    subscriptions(
        &mut t,
        "f97aeefc-af85-414d-8ae4-b457f90efc40",
        &[
            (
                wire::SKU_ENTERPRISEPACK,
                10,
                "43d26afe-cb98-48b9-acc4-ae3ef2ac6c51",
            ),
            (
                wire::SKU_AAD_PREMIUM,
                10,
                "5b1f3e2a-6c4d-4e8f-a0b1-c2d3e4f5a6b7",
            ),
        ],
    );
    let created = "2024-01-10T09:00:00.0000000Z";
    t.named_locations = vec![
        wire::ip_location(
            CONTOSO_LOCATION_HQ,
            "Contoso HQ (Redmond)",
            true,
            &["203.0.113.0/24".into(), "2001:db8:c0::/48".into()],
            created,
        ),
        wire::ip_location(
            CONTOSO_LOCATION_GUEST_WIFI,
            "Guest Wi-Fi",
            false,
            &["198.51.100.0/26".into()],
            "2024-03-02T14:12:40.0000000Z",
        ),
        wire::country_location(
            CONTOSO_LOCATION_BLOCKED_COUNTRIES,
            "Sanctioned countries",
            &["KP", "IR", "SY", "CU"],
            created,
        ),
    ];
    let bg = BreakGlass {
        user_ids: vec![CONTOSO_BREAK_GLASS_USER.into()],
        group_id: CONTOSO_GROUP_BREAK_GLASS.into(),
    };
    t.conditional_access_policies = vec![
        wire::mfa_for_admins(CONTOSO_CA_ADMIN_MFA, "2024-01-10T09:30:11.5184302Z", &bg),
        wire::block_legacy_auth(CONTOSO_CA_LEGACY_AUTH, "2024-01-10T09:34:52.0961877Z", &bg),
        wire::mfa_outside_trusted(
            CONTOSO_CA_MFA_UNTRUSTED,
            "enabledForReportingButNotEnforced",
            "2025-06-18T16:02:37.7721045Z",
            &bg,
        ),
    ];
    t.password_reset_policies = wire::password_reset_policies(&PortalPolicy {
        scope: SsprScope::Selected,
        group: Some((CONTOSO_GROUP_SSPR_USERS, "SSPR Users")),
        methods_required: 2,
        methods: PortalMethods {
            email: true,
            mobile_phone: true,
            office_phone: false,
            security_questions: false,
            app_notification: true,
            app_code: true,
        },
        reconfirm_days: 180,
        notify_users: true,
        notify_admins: true,
        registration_required: true,
        helpdesk_url: Some("https://help.contoso.com/password"),
    });
    t.on_premises_password_reset_policies =
        wire::on_premises_policies(Some("0f4c9a8e-2b7d-4c1e-9f3a-6d5e8b7c2a10"), true, true);
    wire::fill_security(&mut t, 3);
    t
}

/// Fabrikam: no P1 (Microsoft 365 Business Basic), cloud-only, SSPR for everyone with one
/// method, no named locations and no CA policies (CA needs P1).
fn fabrikam() -> Tenant {
    let mut t = fabrikam_base();
    register(
        &mut t.users,
        &[
            (
                0,
                &["microsoftAuthenticatorPush", "softwareOneTimePasscode"],
                None,
            ),
            (1, &["mobilePhone"], None),
            (2, &["mobilePhone", "email"], None),
            (3, &["email"], None),
        ],
    );
    subscriptions(
        &mut t,
        "a3c5e7f9-1b2d-4f6a-8c0e-2a4c6e8a0b1d",
        &[(
            wire::SKU_BUSINESS_BASIC,
            5,
            "b4d6f8a0-2c3e-4a7b-9d1f-3b5d7f9b1c2e",
        )],
    );
    sspr_for_all_by_email_or_phone(&mut t);
    wire::fill_security(&mut t, 3);
    t
}

/// The portal's SSPR settings of a small tenant: everyone may reset with one method, email or
/// mobile phone, and there is no password writeback.
fn sspr_for_all_by_email_or_phone(t: &mut Tenant) {
    t.password_reset_policies = wire::password_reset_policies(&PortalPolicy {
        scope: SsprScope::All,
        group: None,
        methods_required: 1,
        methods: PortalMethods {
            email: true,
            mobile_phone: true,
            office_phone: false,
            security_questions: false,
            app_notification: false,
            app_code: false,
        },
        reconfirm_days: 180,
        notify_users: true,
        notify_admins: true,
        registration_required: true,
        helpdesk_url: None,
    });
    t.on_premises_password_reset_policies = wire::on_premises_policies(None, false, false);
}

/// Northwind (the MSP): Entra ID P1, cloud-only, a trusted NOC range, admin MFA policy.
fn operator() -> Tenant {
    let mut t = operator_base();
    register(
        &mut t.users,
        &[
            (0, &["microsoftAuthenticatorPush", "fido2SecurityKey"], None),
            (
                1,
                &[
                    "microsoftAuthenticatorPush",
                    "softwareOneTimePasscode",
                    "temporaryAccessPass",
                ],
                None,
            ),
        ],
    );
    subscriptions(
        &mut t,
        "c5e7a9b1-3d4f-4b8c-a0e2-4c6e8a0c2d3f",
        &[(
            wire::SKU_AAD_PREMIUM,
            5,
            "d6f8b0c2-4e5a-4c9d-b1f3-5d7f9b1d3e4a",
        )],
    );
    t.named_locations = vec![wire::ip_location(
        OPERATOR_LOCATION_NOC,
        "Northwind NOC",
        true,
        &["192.0.2.0/25".into()],
        "2023-11-06T08:41:19.0000000Z",
    )];
    let bg = BreakGlass {
        user_ids: Vec::new(),
        group_id: "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e90".into(),
    };
    t.conditional_access_policies = vec![wire::mfa_for_admins(
        OPERATOR_CA_ADMIN_MFA,
        "2023-11-06T08:52:03.1133425Z",
        &bg,
    )];
    t.password_reset_policies = wire::password_reset_policies(&PortalPolicy {
        scope: SsprScope::All,
        group: None,
        methods_required: 2,
        methods: PortalMethods {
            email: false,
            mobile_phone: true,
            office_phone: false,
            security_questions: false,
            app_notification: true,
            app_code: true,
        },
        reconfirm_days: 365,
        notify_users: true,
        notify_admins: true,
        registration_required: true,
        helpdesk_url: None,
    });
    t.on_premises_password_reset_policies = wire::on_premises_policies(None, false, false);
    wire::fill_security(&mut t, 3);
    t
}

/// A customer tenant as it looks the day it signs up: one Global Administrator
/// (`admin@{domain}`), Microsoft Graph's principal, default policies, no licences beyond the
/// free tier and no app consented. `extra_domain` becomes a second verified domain.
pub(crate) fn bare_customer(
    id: &str,
    domain: &str,
    display_name: &str,
    extra_domain: Option<&str>,
) -> Tenant {
    let users = vec![user(
        &uuid::Uuid::new_v4().to_string(),
        &format!("{display_name} Admin"),
        "admin",
        domain,
        &[GLOBAL_ADMIN],
    )];
    let mut organization = organization(Org {
        id,
        display_name,
        initial_domain: domain,
        custom_domain: extra_domain.unwrap_or(domain),
        country: "US",
        city: "Seattle",
        created: "2026-01-05T10:00:00Z",
        plans: Vec::new(),
        last_sync: None,
    });
    if extra_domain.is_none()
        && let Some(domains) = organization["verifiedDomains"].as_array_mut()
    {
        domains.truncate(1);
    }
    let methods = vec![
        authenticator("enabled", &[]),
        sms("disabled", "all_users"),
        voice("disabled", false),
        email("enabled", "all_users", &[]),
        software_oath("disabled"),
        fido2("disabled"),
        tap("disabled", "all_users"),
        x509("disabled"),
    ];
    let mut t = Tenant {
        id: id.into(),
        domain: domain.into(),
        display_name: display_name.into(),
        premium: false,
        synced: false,
        authentication_methods_policy: methods_policy(MethodsPolicy {
            migration_state: "migrationComplete",
            version: "1.5",
            last_modified: "2026-01-05T10:00:00.0000000Z",
            reconfirmation_in_days: None,
            campaign_state: "default",
            campaign_excludes: &[],
            methods,
        }),
        authorization_policy: authorization_policy(true),
        organization,
        users,
        service_principals: vec![graph_principal(&uuid::Uuid::new_v4().to_string())],
        ..Tenant::default()
    };
    sspr_for_all_by_email_or_phone(&mut t);
    wire::fill_security(&mut t, 3);
    t
}

/// Tailspin Toys: Entra ID P1, cloud-only, five users, and [`GRAPH_APP_CLIENT_ID`] consented
/// without `Policy.ReadWrite.ConditionalAccess` (registration protection must be refused there).
fn tailspin() -> Tenant {
    let d = TAILSPIN_DOMAIN;
    let mut t = bare_customer(TAILSPIN_ID, d, "Tailspin Toys", Some("tailspintoys.com"));
    // Fixed ids (the bare builder's are random): the seed is the same on every start.
    t.service_principals = vec![
        graph_principal("5f7b3c2a-9e1d-4b6f-8a0c-c0a1b2c3d406"),
        consented_principal(
            GRAPH_APP_SP_TAILSPIN,
            GRAPH_APP_CLIENT_ID,
            "Northwind SSPR Manager",
            &tailspin_permissions(),
        ),
    ];
    t.users = vec![
        user(
            "6d7e8f9a-0b1c-4d2e-8f3a-4b5c6d7e8f01",
            "Kari Hensien",
            "karih",
            d,
            &[GLOBAL_ADMIN],
        ),
        user(
            "6d7e8f9a-0b1c-4d2e-8f3a-4b5c6d7e8f02",
            "Toby Nixon",
            "tobyn",
            d,
            &[],
        ),
        user(
            "6d7e8f9a-0b1c-4d2e-8f3a-4b5c6d7e8f03",
            "Jamie Reding",
            "jamier",
            d,
            &[],
        ),
        user(
            "6d7e8f9a-0b1c-4d2e-8f3a-4b5c6d7e8f04",
            "Ashley Schroeder",
            "ashleys",
            d,
            &["Helpdesk Administrator"],
        ),
        user(
            "6d7e8f9a-0b1c-4d2e-8f3a-4b5c6d7e8f05",
            "Kevin Liu",
            "kevinl",
            d,
            &[],
        ),
    ];
    register(
        &mut t.users,
        &[
            (0, &["microsoftAuthenticatorPush", "email"], None),
            (1, &["mobilePhone", "email"], None),
            (3, &["microsoftAuthenticatorPush"], None),
        ],
    );
    t.organization["createdDateTime"] = json!("2022-04-19T13:27:44Z");
    t.premium = true;
    let plans = [
        ("AADPremiumService", AAD_PREMIUM_PLAN_ID),
        ("MultiFactorService", "8a256a2b-b617-496d-b51b-e76466e88db0"),
    ];
    t.organization["assignedPlans"] = plans.iter().map(|(s, id)| plan(s, id)).collect();
    t.organization["provisionedPlans"] = plans
        .iter()
        .map(|(s, _)| json!({"capabilityStatus": "Enabled", "provisioningStatus": "Success", "service": s}))
        .collect();
    subscriptions(
        &mut t,
        "c8a0e2f4-6b7d-4f9a-b1c3-5d7f9a1b3c5e",
        &[(
            wire::SKU_AAD_PREMIUM,
            10,
            "d9b1f3a5-7c8e-4a0b-82d4-6e8a0b2c4d6f",
        )],
    );
    wire::fill_security(&mut t, 3);
    t
}

/// [`GRAPH_APP_PERMISSIONS`] without `Policy.ReadWrite.ConditionalAccess`: Tailspin's grant.
pub fn tailspin_permissions() -> Vec<&'static str> {
    GRAPH_APP_PERMISSIONS
        .iter()
        .copied()
        .filter(|p| *p != "Policy.ReadWrite.ConditionalAccess")
        .collect()
}

pub(crate) fn graph_principal(object_id: &str) -> ServicePrincipal {
    ServicePrincipal {
        id: object_id.into(),
        app_id: GRAPH_FIRST_PARTY_APP_ID.into(),
        display_name: "Microsoft Graph".into(),
        service_principal_names: vec![
            GRAPH_RESOURCE.into(),
            "https://graph.microsoft.com/".into(),
            "https://canary.graph.microsoft.com".into(),
            GRAPH_FIRST_PARTY_APP_ID.into(),
        ],
        granted_app_roles: BTreeMap::new(),
    }
}

/// [`GRAPH_APP_CLIENT_ID`]'s principal in a customer tenant, consented with every permission
/// of [`GRAPH_APP_PERMISSIONS`].
pub(crate) fn graph_app_principal(object_id: &str) -> ServicePrincipal {
    consented_principal(
        object_id,
        GRAPH_APP_CLIENT_ID,
        "Northwind SSPR Manager",
        GRAPH_APP_PERMISSIONS,
    )
}

/// The service principal admin consent creates for `app_id`, holding `permissions` on Graph.
pub(crate) fn consented_principal(
    object_id: &str,
    app_id: &str,
    display_name: &str,
    permissions: &[&str],
) -> ServicePrincipal {
    ServicePrincipal {
        id: object_id.into(),
        app_id: app_id.into(),
        display_name: display_name.into(),
        service_principal_names: vec![app_id.into()],
        granted_app_roles: graph_roles(permissions),
    }
}

/// App roles on Microsoft Graph, keyed as [`ServicePrincipal::granted_app_roles`] wants them.
pub(crate) fn graph_roles(permissions: &[&str]) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        GRAPH_FIRST_PARTY_APP_ID.to_string(),
        permissions.iter().map(|p| p.to_string()).collect(),
    )])
}

fn user(id: &str, name: &str, alias: &str, domain: &str, roles: &[&str]) -> User {
    User {
        methods_registered: Vec::new(),
        preferred_method: String::new(),
        id: id.into(),
        display_name: name.into(),
        user_principal_name: format!("{alias}@{domain}"),
        user_type: "Member".into(),
        account_enabled: true,
        directory_roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

fn guest(id: &str, name: &str, external: &str, domain: &str) -> User {
    User {
        id: id.into(),
        display_name: name.into(),
        user_principal_name: format!("{external}#EXT#@{domain}"),
        user_type: "Guest".into(),
        account_enabled: true,
        directory_roles: Vec::new(),
        methods_registered: Vec::new(),
        preferred_method: String::new(),
    }
}

pub(crate) fn group(id: &str, name: &str, members: Vec<String>) -> Group {
    Group {
        id: id.into(),
        display_name: name.into(),
        members,
    }
}

pub(crate) fn plan(service: &str, plan_id: &str) -> Value {
    json!({
        "assignedDateTime": "2025-01-01T00:00:00Z",
        "capabilityStatus": "Enabled",
        "service": service,
        "servicePlanId": plan_id,
    })
}

pub(crate) struct Org<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
    pub initial_domain: &'a str,
    pub custom_domain: &'a str,
    pub country: &'a str,
    pub city: &'a str,
    pub created: &'a str,
    pub plans: Vec<Value>,
    pub last_sync: Option<&'a str>,
}

/// `organization` with the v1.0 properties only (beta-only ones such as `directorySizeQuota`
/// would be invented properties on v1.0).
pub(crate) fn organization(o: Org<'_>) -> Value {
    let provisioned: Vec<Value> = o
        .plans
        .iter()
        .map(|p| json!({"capabilityStatus": "Enabled", "provisioningStatus": "Success", "service": p["service"]}))
        .collect();
    json!({
        "id": o.id,
        "deletedDateTime": null,
        "businessPhones": ["+1 425 555 0100"],
        "city": o.city,
        "country": null,
        "countryLetterCode": o.country,
        "createdDateTime": o.created,
        "defaultUsageLocation": o.country,
        "displayName": o.display_name,
        "marketingNotificationEmails": [],
        "onPremisesLastSyncDateTime": o.last_sync,
        "onPremisesSyncEnabled": o.last_sync.map(|_| true),
        "partnerTenantType": null,
        "postalCode": "98052",
        "preferredLanguage": "en",
        "securityComplianceNotificationMails": [],
        "securityComplianceNotificationPhones": [],
        "state": null,
        "street": "1 Microsoft Way",
        "technicalNotificationMails": [format!("it@{}", o.custom_domain)],
        "tenantType": "AAD",
        "privacyProfile": null,
        "assignedPlans": o.plans,
        "provisionedPlans": provisioned,
        "verifiedDomains": [
            {
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": true,
                "isInitial": true,
                "name": o.initial_domain,
                "type": "Managed"
            },
            {
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": false,
                "isInitial": false,
                "name": o.custom_domain,
                "type": "Managed"
            }
        ]
    })
}

pub(crate) fn authorization_policy(allowed_to_use_sspr: bool) -> Value {
    json!({
        "id": "authorizationPolicy",
        "allowInvitesFrom": "everyone",
        "allowedToSignUpEmailBasedSubscriptions": true,
        "allowedToUseSSPR": allowed_to_use_sspr,
        "allowEmailVerifiedUsersToJoinOrganization": false,
        "allowUserConsentForRiskyApps": false,
        "blockMsolPowerShell": null,
        "displayName": "Authorization Policy",
        "description": "Used to manage authorization related settings across the company.",
        "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
        "defaultUserRolePermissions": {
            "allowedToCreateApps": false,
            "allowedToCreateSecurityGroups": true,
            "allowedToCreateTenants": false,
            "allowedToReadBitlockerKeysForOwnedDevice": true,
            "allowedToReadOtherUsers": true,
            "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-low"]
        }
    })
}

pub(crate) struct MethodsPolicy<'a> {
    pub migration_state: &'a str,
    pub version: &'a str,
    pub last_modified: &'a str,
    pub reconfirmation_in_days: Option<i32>,
    pub campaign_state: &'a str,
    pub campaign_excludes: &'a [&'a str],
    pub methods: Vec<Value>,
}

pub(crate) fn methods_policy(p: MethodsPolicy<'_>) -> Value {
    json!({
        "id": "authenticationMethodsPolicy",
        "displayName": "Authentication Methods Policy",
        "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
        "lastModifiedDateTime": p.last_modified,
        "policyVersion": p.version,
        "policyMigrationState": p.migration_state,
        "reconfirmationInDays": p.reconfirmation_in_days,
        "registrationEnforcement": {
            "authenticationMethodsRegistrationCampaign": {
                "snoozeDurationInDays": 1,
                "enforceRegistrationAfterAllowedSnoozes": true,
                "state": p.campaign_state,
                "excludeTargets": group_targets(p.campaign_excludes),
                "includeTargets": [
                    { "id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator" }
                ]
            }
        },
        "authenticationMethodConfigurations@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
        "authenticationMethodConfigurations": p.methods,
    })
}

fn group_targets(ids: &[&str]) -> Vec<Value> {
    ids.iter()
        .map(|id| json!({ "id": id, "targetType": "group" }))
        .collect()
}

/// A method configuration with the common fields, including the `includeTargets@odata.context`
/// annotation real responses carry (clients must tolerate it).
fn method(type_name: &str, id: &str, state: &str, excludes: &[&str], include: Value) -> Value {
    json!({
        "@odata.type": format!("#microsoft.graph.{type_name}"),
        "id": id,
        "state": state,
        "excludeTargets": group_targets(excludes),
        "includeTargets@odata.context": format!(
            "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations('{id}')/microsoft.graph.{type_name}/includeTargets"
        ),
        "includeTargets": [include],
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

pub(crate) fn authenticator(state: &str, excludes: &[&str]) -> Value {
    let feature = json!({
        "state": "default",
        "includeTarget": { "targetType": "group", "id": "all_users" },
        "excludeTarget": { "targetType": "group", "id": NOBODY }
    });
    with(
        method(
            "microsoftAuthenticatorAuthenticationMethodConfiguration",
            "MicrosoftAuthenticator",
            state,
            excludes,
            json!({ "targetType": "group", "id": "all_users", "isRegistrationRequired": false, "authenticationMode": "any" }),
        ),
        json!({
            "isSoftwareOathEnabled": false,
            "featureSettings": {
                "displayAppInformationRequiredState": feature,
                "displayLocationInformationRequiredState": feature
            }
        }),
    )
}

pub(crate) fn sms(state: &str, target: &str) -> Value {
    method(
        "smsAuthenticationMethodConfiguration",
        "Sms",
        state,
        &[],
        json!({ "targetType": "group", "id": target, "isRegistrationRequired": false, "isUsableForSignIn": false }),
    )
}

pub(crate) fn voice(state: &str, office_phone: bool) -> Value {
    with(
        method(
            "voiceAuthenticationMethodConfiguration",
            "Voice",
            state,
            &[],
            json!({ "targetType": "group", "id": "all_users", "isRegistrationRequired": false }),
        ),
        json!({ "isOfficePhoneAllowed": office_phone }),
    )
}

pub(crate) fn email(state: &str, target: &str, excludes: &[&str]) -> Value {
    with(
        method(
            "emailAuthenticationMethodConfiguration",
            "Email",
            state,
            excludes,
            json!({ "targetType": "group", "id": target, "isRegistrationRequired": false }),
        ),
        json!({ "allowExternalIdToUseEmailOtp": "default" }),
    )
}

pub(crate) fn software_oath(state: &str) -> Value {
    method(
        "softwareOathAuthenticationMethodConfiguration",
        "SoftwareOath",
        state,
        &[],
        json!({ "targetType": "group", "id": "all_users", "isRegistrationRequired": false }),
    )
}

pub(crate) fn fido2(state: &str) -> Value {
    with(
        method(
            "fido2AuthenticationMethodConfiguration",
            "Fido2",
            state,
            &[],
            json!({ "targetType": "group", "id": "all_users", "isRegistrationRequired": false, "allowedPasskeyProfiles": [] }),
        ),
        json!({
            "isSelfServiceRegistrationAllowed": true,
            "isAttestationEnforced": true,
            "defaultPasskeyProfile": null,
            "keyRestrictions": { "isEnforced": false, "enforcementType": "block", "aaGuids": [] },
            "passkeyProfiles": []
        }),
    )
}

pub(crate) fn tap(state: &str, target: &str) -> Value {
    with(
        method(
            "temporaryAccessPassAuthenticationMethodConfiguration",
            "TemporaryAccessPass",
            state,
            &[],
            json!({ "targetType": "group", "id": target, "isRegistrationRequired": false }),
        ),
        json!({
            "defaultLifetimeInMinutes": 60,
            "defaultLength": 8,
            "minimumLifetimeInMinutes": 60,
            "maximumLifetimeInMinutes": 480,
            "isUsableOnce": false
        }),
    )
}

pub(crate) fn x509(state: &str) -> Value {
    with(
        method(
            "x509CertificateAuthenticationMethodConfiguration",
            "X509Certificate",
            state,
            &[],
            json!({ "targetType": "group", "id": "all_users", "isRegistrationRequired": false }),
        ),
        json!({
            "certificateUserBindings": [
                { "x509CertificateField": "PrincipalName", "userProperty": "userPrincipalName", "priority": 1, "trustAffinityLevel": "low" }
            ],
            "authenticationModeConfiguration": {
                "x509CertificateAuthenticationDefaultMode": "x509CertificateSingleFactor",
                "x509CertificateDefaultRequiredAffinityLevel": "low",
                "rules": []
            },
            "issuerHintsConfiguration": { "state": "disabled" },
            "crlValidationConfiguration": { "state": "disabled", "exemptedCertificateAuthoritiesSubjectKeyIdentifiers": [] },
            "certificateAuthorityScopes": []
        }),
    )
}
