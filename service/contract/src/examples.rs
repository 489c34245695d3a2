//! Sample bodies for the OpenAPI document, answers of the demo tenants. The e2e test
//! `every_example_in_the_document_validates_against_its_schema` checks each against the schema it
//! illustrates.

use serde_json::{Value, json};

/// Contoso as the registry shows it: from the configuration file, verified, healthy.
pub fn tenant_summary() -> Value {
    json!({
        "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
        "domain": "contoso.onmicrosoft.com",
        "displayName": "Contoso",
        "domains": ["contoso.onmicrosoft.com", "contoso.com"],
        "origin": "config",
        "tags": ["region:eu", "tier:gold"],
        "credential": {
            "kind": "clientSecret",
            "clientId": "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b",
            "secretStorage": "config",
            "lastSuccess": "2026-12-06T09:14:03Z"
        },
        "health": {"status": "healthy", "detail": "Verified 2026-12-06T09:14:03Z: every feature is available."},
        "verification": verification()
    })
}

/// The demo operator's tenants.
pub fn tenant_list() -> Value {
    json!({
        "value": [
            tenant_summary(),
            {
                "id": "0b5e7c1d-9a2f-4e3b-8c6d-1f2a3b4c5d6e",
                "domain": "tailspin.onmicrosoft.com",
                "displayName": "Tailspin Toys",
                "domains": ["tailspin.onmicrosoft.com"],
                "origin": "api",
                "tags": ["region:us"],
                "credential": {
                    "kind": "workloadIdentity",
                    "clientId": "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b",
                    "secretStorage": "none"
                },
                "health": {"status": "unverified", "detail": "Never verified: run `sspr tenants verify --tenant tailspin.onmicrosoft.com`."}
            }
        ]
    })
}

/// Onboarding a tenant on the service-wide app.
pub fn tenant_onboarding() -> Value {
    json!({
        "tenant": "tailspin.onmicrosoft.com",
        "displayName": "Tailspin Toys",
        "tags": ["region:us", "tier:silver"],
        "credential": {"kind": "default"}
    })
}

/// Retagging a tenant.
pub fn tenant_update() -> Value {
    json!({"tags": ["region:eu", "tier:gold"]})
}

/// Tailspin's admin consent link.
pub fn consent_link() -> Value {
    json!({
        "tenant": {"id": "0b5e7c1d-9a2f-4e3b-8c6d-1f2a3b4c5d6e", "domain": "tailspin.onmicrosoft.com", "displayName": "Tailspin Toys"},
        "url": "https://login.microsoftonline.com/0b5e7c1d-9a2f-4e3b-8c6d-1f2a3b4c5d6e/v2.0/adminconsent?client_id=6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&redirect_uri=https%3A%2F%2Fsspr.example%2Fconsent%2Fcallback&state=5b0c8f2e-3a41-4d6b-9e7f-2c1d0a9b8e7f",
        "clientId": "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b",
        "redirectUri": "https://sspr.example/consent/callback",
        "state": "5b0c8f2e-3a41-4d6b-9e7f-2c1d0a9b8e7f",
        "permissions": ["AuditLog.Read.All", "Organization.Read.All", "Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod", "Policy.ReadWrite.Authorization", "Policy.ReadWrite.ConditionalAccess", "SecurityEvents.Read.All"]
    })
}

/// A verification where every feature but Intune is available.
pub fn verification() -> Value {
    json!({
        "verifiedAt": "2026-12-06T09:14:03Z",
        "clientId": "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b",
        "tokenIssued": true,
        "grantedPermissions": ["AuditLog.Read.All", "Organization.Read.All", "Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod", "Policy.ReadWrite.Authorization", "Policy.ReadWrite.ConditionalAccess", "SecurityEvents.Read.All"],
        "features": [
            {"feature": "policyRead", "available": true, "missingPermissions": [], "requiredPermissions": ["Policy.Read.All"]},
            {"feature": "conditionalAccess", "available": true, "missingPermissions": [], "requiredPermissions": ["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"], "licence": "Microsoft Entra ID P1"},
            {"feature": "intune", "available": false, "missingPermissions": ["DeviceManagementConfiguration.Read.All"], "requiredPermissions": ["DeviceManagementConfiguration.Read.All"], "licence": "Microsoft Intune"}
        ]
    })
}

/// A grant of the EU tenants to a helpdesk group's app.
pub fn access_grant() -> Value {
    json!({
        "id": "7d3f5a2e-1b4c-4d6e-8f9a-0b1c2d3e4f5a",
        "principal": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
        "tenants": ["tag:region:eu"],
        "role": "SSPR.Read",
        "origin": "api",
        "createdAt": "2026-12-06T09:20:00Z",
        "createdBy": "demo.admin@northwind.onmicrosoft.com"
    })
}

/// Granting read access to the EU tenants.
pub fn access_grant_request() -> Value {
    json!({"principal": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", "tenants": ["tag:region:eu"], "role": "SSPR.Read"})
}

/// The grants: one from the configuration file, one through the API.
pub fn access_list() -> Value {
    json!({"value": [
        {"id": "config-1", "principal": "0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a21", "tenants": ["*"], "origin": "config"},
        access_grant()
    ]})
}

/// The partner tenant's GDAP customers.
pub fn partner_customers() -> Value {
    json!({
        "partnerTenantId": "5c7d9e1f-2a4b-4c6d-8e0f-1a2b3c4d5e6f",
        "value": [{
            "tenantId": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            "displayName": "Contoso",
            "defaultDomain": "contoso.onmicrosoft.com",
            "contractType": "SyndicationPartner",
            "onboarded": true,
            "relationships": [{
                "id": "5d0f3e3a-7b8c-4d9e-a1f2-3b4c5d6e7f80-3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
                "displayName": "Contoso helpdesk",
                "status": "active",
                "endDateTime": "2027-06-01T00:00:00Z",
                "roleDefinitionIds": ["729827e3-9c14-49f7-bb1b-9608f156bbb8"]
            }]
        }, {
            "tenantId": "e4c1a7b2-5d3f-4a6e-9b8c-7d6e5f4a3b2c",
            "displayName": "Adatum Corporation",
            "onboarded": false,
            "relationships": [{
                "id": "8e1a2b3c-4d5e-4f6a-9b7c-8d9e0f1a2b3c-e4c1a7b2-5d3f-4a6e-9b8c-7d6e5f4a3b2c",
                "displayName": "Adatum default",
                "status": "active",
                "roleDefinitionIds": ["f2ef992c-3afb-46b9-b7cf-a126ee74c451"]
            }]
        }]
    })
}

/// Contoso: portal connector, migrating methods policy, synced from on-premises.
pub fn policy_document() -> Value {
    json!({
        "tenant": {
            "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            "domain": "contoso.onmicrosoft.com",
            "displayName": "Contoso"
        },
        "retrievedAt": "2026-12-02T18:05:04.035145012Z",
        "enablement": {
            "source": "portal",
            "scope": "selected",
            "groupId": "d2d5bae7-a7b7-4581-8d52-5a8d26f517b3",
            "groupName": "SSPR Users"
        },
        "authentication": {
            "source": "portal",
            "methodsRequired": 2,
            "securityQuestions": {
                "enabled": false,
                "toRegister": 5,
                "toReset": 3
            }
        },
        "methods": {
            "source": "graph",
            "authoritative": false,
            "mobileAppNotification": {
                "usable": true,
                "enabledBy": [
                    "MicrosoftAuthenticator"
                ],
                "targets": [
                    "all_users"
                ]
            },
            "mobileAppCode": {
                "usable": false,
                "enabledBy": [],
                "targets": []
            },
            "email": {
                "usable": true,
                "enabledBy": [
                    "Email"
                ],
                "targets": [
                    "d2d5bae7-a7b7-4581-8d52-5a8d26f517b3"
                ]
            },
            "mobilePhone": {
                "usable": true,
                "enabledBy": [
                    "Sms",
                    "Voice"
                ],
                "targets": [
                    "all_users"
                ]
            },
            "officePhone": {
                "usable": true,
                "enabledBy": [
                    "Voice"
                ],
                "targets": [
                    "all_users"
                ]
            },
            "note": "Migration in progress: methods still enabled in the legacy SSPR policy (portal) also count for reset."
        },
        "registration": {
            "source": "portal",
            "requireRegistrationOnSignIn": true,
            "reconfirmDays": 180
        },
        "notifications": {
            "source": "portal",
            "notifyUsersOnReset": true,
            "notifyAdminsOnAdminReset": true
        },
        "customization": {
            "source": "portal",
            "helpdeskLink": "https://help.contoso.com/password"
        },
        "onPremises": {
            "source": "portal",
            "integrated": true,
            "passwordWriteback": true,
            "unlockWithoutReset": true
        },
        "directorySync": {
            "source": "graph",
            "onPremisesSyncEnabled": true,
            "syncs": true,
            "lastSyncDateTime": "2026-08-20T09:47:12Z"
        },
        "administrators": {
            "source": "graph",
            "allowedToUseSspr": false
        },
        "methodsPolicy": {
            "source": "graph",
            "migrationState": "migrationInProgress",
            "reconfirmationInDays": 180,
            "registrationCampaign": {
                "state": "enabled",
                "snoozeDurationInDays": 1,
                "includeTargets": [
                    "all_users"
                ],
                "excludeTargets": [
                    "dad4ae4a-730c-4e52-826c-0d9094971f04"
                ]
            },
            "policyVersion": "1.5",
            "lastModifiedDateTime": "2026-05-14T09:21:07.4412871Z"
        },
        "findings": []
    })
}

/// Fabrikam: no portal connector and no Entra ID P1, so the portal groups are unavailable.
pub fn policy_document_unavailable() -> Value {
    json!({
        "tenant": {
            "id": "8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a",
            "domain": "fabrikam.onmicrosoft.com",
            "displayName": "Fabrikam"
        },
        "retrievedAt": "2026-12-02T18:05:04.035145012Z",
        "enablement": {
            "source": "unavailable",
            "reason": "No portal connector, and the registration report that enablement could be inferred from needs Entra ID P1 or P2, which this tenant does not have.",
            "remedy": "Configure the portal connector (a delegated admin refresh token) for this tenant."
        },
        "authentication": {
            "source": "unavailable",
            "reason": "No public Microsoft Graph API exposes the number of methods required to reset or the security questions; only the Entra portal back end holds it.",
            "remedy": "Configure the portal connector (a delegated admin refresh token) for this tenant."
        },
        "methods": {
            "source": "unavailable",
            "reason": "The methods policy is in preMigration, so the legacy SSPR policy decides which methods count for reset; only the Entra portal back end holds it.",
            "remedy": "Configure the portal connector for this tenant, or move its authentication methods policy to migrationInProgress or migrationComplete."
        },
        "registration": {
            "source": "unavailable",
            "reason": "No public Microsoft Graph API exposes registration at sign-in or the SSPR reconfirmation interval; only the Entra portal back end holds it.",
            "remedy": "Configure the portal connector (a delegated admin refresh token) for this tenant."
        },
        "notifications": {
            "source": "unavailable",
            "reason": "No public Microsoft Graph API exposes password reset notifications; only the Entra portal back end holds it.",
            "remedy": "Configure the portal connector (a delegated admin refresh token) for this tenant."
        },
        "customization": {
            "source": "unavailable",
            "reason": "No public Microsoft Graph API exposes the helpdesk link; only the Entra portal back end holds it.",
            "remedy": "Configure the portal connector (a delegated admin refresh token) for this tenant."
        },
        "onPremises": {
            "source": "unavailable",
            "reason": "No public Microsoft Graph API exposes password writeback or account unlock; only the Entra portal back end holds it.",
            "remedy": "Configure the portal connector (a delegated admin refresh token) for this tenant."
        },
        "directorySync": {
            "source": "graph",
            "onPremisesSyncEnabled": null,
            "syncs": false,
            "lastSyncDateTime": null
        },
        "administrators": {
            "source": "graph",
            "allowedToUseSspr": true
        },
        "methodsPolicy": {
            "source": "graph",
            "migrationState": "preMigration",
            "reconfirmationInDays": null,
            "registrationCampaign": {
                "state": "default",
                "snoozeDurationInDays": 1,
                "includeTargets": [
                    "all_users"
                ],
                "excludeTargets": []
            },
            "policyVersion": "1.4",
            "lastModifiedDateTime": "2025-11-02T14:03:55.1203344Z"
        },
        "findings": [
            {
                "severity": "medium",
                "field": "/administrators/allowedToUseSspr",
                "message": "Administrators may reset their own passwords with SSPR; an attacker holding an admin's methods can take over the account. Prefer a managed admin recovery process."
            },
            {
                "severity": "low",
                "field": "/methodsPolicy/registrationCampaign/state",
                "message": "The registration campaign is off (`default` behaves as disabled): users are not nudged to register the Microsoft Authenticator."
            }
        ]
    })
}

/// A dry run of `{"registration":{"reconfirmDays":90}}`.
pub fn dry_run() -> Value {
    json!({
        "changes": [
            {
                "pointer": "/registration/reconfirmDays",
                "before": 180,
                "after": 90,
                "source": "portal"
            }
        ],
        "steps": [
            {
                "call": {
                    "target": "portal",
                    "method": "PUT",
                    "path": "/api/PasswordReset/PasswordResetPolicies",
                    "description": "Write the portal's password reset policy (read-modify-write of the whole object): /registration/reconfirmDays",
                    "body": {
                        "registration": {
                            "reconfirmDays": 90
                        }
                    }
                },
                "compensation": {
                    "target": "portal",
                    "method": "PUT",
                    "path": "/api/PasswordReset/PasswordResetPolicies",
                    "description": "Write the portal's password reset policy (read-modify-write of the whole object): /registration/reconfirmDays",
                    "body": {
                        "registration": {
                            "reconfirmDays": 180
                        }
                    }
                }
            }
        ],
        "findings": []
    })
}

/// A JSON page of two users.
pub fn registration_list() -> Value {
    json!({
        "nextCursor": "eyJ0IjoiM2YyYjljMWUi...",
        "tenant": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
        "value": [
            {
                "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01",
                "isAdmin": true,
                "isMfaCapable": true,
                "isMfaRegistered": true,
                "isPasswordlessCapable": false,
                "isSsprCapable": false,
                "isSsprEnabled": false,
                "isSsprRegistered": true,
                "lastUpdatedDateTime": "2026-12-02T18:05:04Z",
                "methodsRegistered": [
                    "microsoftAuthenticatorPush",
                    "softwareOneTimePasscode",
                    "mobilePhone",
                    "email"
                ],
                "userDisplayName": "Megan Bowen",
                "userPrincipalName": "meganb@contoso.onmicrosoft.com",
                "userType": "member"
            },
            {
                "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02",
                "isAdmin": false,
                "isMfaCapable": true,
                "isMfaRegistered": true,
                "isPasswordlessCapable": false,
                "isSsprCapable": true,
                "isSsprEnabled": true,
                "isSsprRegistered": true,
                "lastUpdatedDateTime": "2026-12-02T18:05:04Z",
                "methodsRegistered": [
                    "mobilePhone",
                    "email"
                ],
                "userDisplayName": "Alex Wilber",
                "userPrincipalName": "alexw@contoso.onmicrosoft.com",
                "userType": "member"
            }
        ]
    })
}

/// One user's registration record.
pub fn registration() -> Value {
    json!({"id": "6f1c2d3e-4b5a-4978-8a6b-1c2d3e4f5a6b",
        "userPrincipalName": "ada@contoso.onmicrosoft.com", "userDisplayName": "Ada Lovelace",
        "userType": "member", "isAdmin": false, "isSsprRegistered": true, "isSsprEnabled": true,
        "isSsprCapable": true, "isMfaRegistered": true, "isMfaCapable": true,
        "isPasswordlessCapable": false, "methodsRegistered": ["microsoftAuthenticatorPush", "mobilePhone"],
        "lastUpdatedDateTime": "2026-11-24T08:00:00Z"})
}

/// Contoso's counts.
pub fn registration_summary() -> Value {
    json!({
        "tenant": {
            "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            "domain": "contoso.onmicrosoft.com",
            "displayName": "Contoso"
        },
        "readAt": "2026-12-02T18:05:04.31924838Z",
        "source": "graph",
        "totalUsers": 8,
        "features": {
            "ssprRegistered": 3,
            "ssprEnabled": 4,
            "ssprCapable": 2,
            "mfaRegistered": 6,
            "mfaCapable": 6,
            "passwordlessCapable": 2
        },
        "methods": {
            "email": 3,
            "fido2SecurityKey": 2,
            "microsoftAuthenticatorPush": 3,
            "mobilePhone": 3,
            "officePhone": 1,
            "softwareOneTimePasscode": 1,
            "windowsHelloForBusiness": 1
        },
        "gaps": {
            "enabledNotRegistered": 2,
            "registeredNotEnabled": 1,
            "adminsWithoutMfa": 0,
            "guests": 1
        },
        "members": { "ssprEnabled": 3, "ssprEnabledRegistered": 2 }
    })
}

/// Contoso's summary, and Fabrikam's licence problem.
pub fn fleet_summary() -> Value {
    json!({
        "tenants": [
            {
                "tenant": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
                "domain": "contoso.onmicrosoft.com",
                "summary": {
                    "tenant": {
                        "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
                        "domain": "contoso.onmicrosoft.com",
                        "displayName": "Contoso"
                    },
                    "readAt": "2026-12-02T18:05:04.31924838Z",
                    "source": "graph",
                    "totalUsers": 8,
                    "features": {
                        "ssprRegistered": 3,
                        "ssprEnabled": 4,
                        "ssprCapable": 2,
                        "mfaRegistered": 6,
                        "mfaCapable": 6,
                        "passwordlessCapable": 2
                    },
                    "methods": {
                        "email": 3,
                        "fido2SecurityKey": 2,
                        "microsoftAuthenticatorPush": 3,
                        "mobilePhone": 3,
                        "officePhone": 1,
                        "softwareOneTimePasscode": 1,
                        "windowsHelloForBusiness": 1
                    },
                    "gaps": {
                        "enabledNotRegistered": 2,
                        "registeredNotEnabled": 1,
                        "adminsWithoutMfa": 0,
                        "guests": 1
                    },
                    "members": { "ssprEnabled": 3, "ssprEnabledRegistered": 2 }
                }
            },
            {
                "tenant": "8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a",
                "domain": "fabrikam.onmicrosoft.com",
                "problem": {
                    "code": "licenseRequired",
                    "detail": "Tenant fabrikam.onmicrosoft.com has no active licence for Microsoft Entra ID P1 or P2 (service plan AAD_PREMIUM or AAD_PREMIUM_P2). Registration reports and Conditional Access need it.",
                    "status": 403,
                    "tenant": "fabrikam.onmicrosoft.com",
                    "title": "Licence required",
                    "type": "/problems/license-required"
                }
            }
        ],
        "failed": 1
    })
}

/// One NDJSON line: a tenant without the licence.
pub fn fleet_entry() -> Value {
    json!({
        "tenant": "8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a",
        "domain": "fabrikam.onmicrosoft.com",
        "problem": {
            "code": "licenseRequired",
            "detail": "Tenant fabrikam.onmicrosoft.com has no active licence for Microsoft Entra ID P1 or P2 (service plan AAD_PREMIUM or AAD_PREMIUM_P2). Registration reports and Conditional Access need it.",
            "status": 403,
            "tenant": "fabrikam.onmicrosoft.com",
            "title": "Licence required",
            "type": "/problems/license-required"
        }
    })
}

/// Registration-protection options: MFA outside the trusted locations, one break-glass user.
pub fn protection_options() -> Value {
    json!({"control": "mfa", "trustedLocations": ["AllTrusted"],
        "excludeUsers": ["1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08"], "guests": "exclude",
        "state": "enabledForReportingButNotEnforced"})
}

/// The default plan for Contoso, its policy already deployed report-only.
pub fn protection_plan() -> Value {
    json!({
        "tenant": {
            "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            "domain": "contoso.onmicrosoft.com",
            "displayName": "Contoso"
        },
        "state": "enabledForReportingButNotEnforced",
        "policy": {
            "conditions": {
                "applications": {
                    "includeUserActions": [
                        "urn:user:registersecurityinfo"
                    ]
                },
                "clientAppTypes": [
                    "all"
                ],
                "locations": {
                    "excludeLocations": [
                        "AllTrusted"
                    ],
                    "includeLocations": [
                        "All"
                    ]
                },
                "users": {
                    "excludeGroups": [
                        "dad4ae4a-730c-4e52-826c-0d9094971f04"
                    ],
                    "excludeGuestsOrExternalUsers": {
                        "externalTenants": {
                            "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                            "membershipKind": "all"
                        },
                        "guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider"
                    },
                    "excludeUsers": [
                        "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08"
                    ],
                    "includeUsers": [
                        "All"
                    ]
                }
            },
            "description": "Managed by sspr: 'block' for security-info registration outside AllTrusted. sspr finds this policy by the marker in its name; keep it there.",
            "displayName": "Block security info registration outside trusted locations [sspr:registration-protection]",
            "grantControls": {
                "builtInControls": [
                    "block"
                ],
                "operator": "OR"
            },
            "state": "enabledForReportingButNotEnforced"
        },
        "findings": [
            {
                "severity": "warning",
                "code": "newHires",
                "field": "/control",
                "message": "New hires must register from a trusted location: a block is not lifted by a Temporary Access Pass, so onboard them on site (with a TAP if they have no method yet)."
            },
            {
                "severity": "info",
                "code": "guestsExcluded",
                "field": "/guests",
                "message": "Guests and external users are excluded, as in Microsoft's template: they register in their home tenant, or need a policy of their own."
            },
            {
                "severity": "info",
                "code": "reportOnly",
                "field": "/state",
                "message": "The policy is deployed report-only: registrations are evaluated and logged, nothing is enforced. Review the sign-in logs, then promote it."
            }
        ],
        "blocking": false,
        "breakGlass": {
            "policiesConsidered": 3,
            "users": [
                {
                    "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08",
                    "source": "discovered",
                    "excludedFrom": 3
                }
            ],
            "groups": [
                {
                    "id": "dad4ae4a-730c-4e52-826c-0d9094971f04",
                    "source": "discovered",
                    "excludedFrom": 3
                }
            ]
        },
        "existing": {
            "id": "7bbdc5fe-f9f3-4241-9ec4-55c05cb7c304",
            "state": "enabledForReportingButNotEnforced",
            "changes": []
        },
        "impact": {
            "usersRead": 8,
            "usersInScope": 6,
            "usersExcluded": 1,
            "guestsExcluded": 1,
            "mustRegister": 2,
            "ssprEnabledNotRegistered": 2,
            "notMfaRegistered": 1,
            "sample": [
                "diegos@contoso.onmicrosoft.com",
                "isaiahl@contoso.onmicrosoft.com"
            ]
        },
        "graphRequestIds": [
            "6dd22c43-2ec1-4a1d-b06f-f8486170c9ec",
            "c12bfe5c-c7c6-41de-baea-b66f58095577"
        ]
    })
}

/// Contoso's policy, report-only.
pub fn protection_status() -> Value {
    json!({
        "tenant": {
            "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            "domain": "contoso.onmicrosoft.com",
            "displayName": "Contoso"
        },
        "verdict": "fail",
        "ours": "7bbdc5fe-f9f3-4241-9ec4-55c05cb7c304",
        "breakGlass": {
            "policiesConsidered": 3,
            "users": [
                {
                    "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08",
                    "source": "discovered",
                    "excludedFrom": 3
                }
            ],
            "groups": [
                {
                    "id": "dad4ae4a-730c-4e52-826c-0d9094971f04",
                    "source": "discovered",
                    "excludedFrom": 3
                }
            ]
        },
        "policies": [
            {
                "id": "7bbdc5fe-f9f3-4241-9ec4-55c05cb7c304",
                "displayName": "Block security info registration outside trusted locations [sspr:registration-protection]",
                "state": "enabledForReportingButNotEnforced",
                "ours": true,
                "verdict": "warn",
                "reasons": [
                    {
                        "check": "state",
                        "status": "warning",
                        "message": "Report-only: registrations are evaluated and logged, nothing is enforced. Promote it to enabled once the sign-in logs look right."
                    },
                    {
                        "check": "users",
                        "status": "ok",
                        "message": "Applies to all users."
                    },
                    {
                        "check": "exclusions",
                        "status": "ok",
                        "message": "Excludes break-glass accounts only as intended: user 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08 (discovered), group dad4ae4a-730c-4e52-826c-0d9094971f04 (discovered)."
                    },
                    {
                        "check": "breakGlass",
                        "status": "ok",
                        "message": "Every known break-glass account is excluded."
                    },
                    {
                        "check": "clientAppTypes",
                        "status": "ok",
                        "message": "All client app types: registration from browsers and from native apps (e.g. Microsoft Authenticator adding a method) is covered."
                    },
                    {
                        "check": "grant",
                        "status": "ok",
                        "message": "Blocks registration (where the policy applies)."
                    },
                    {
                        "check": "locations",
                        "status": "ok",
                        "message": "Exempts AllTrusted: the trusted named locations (Contoso HQ (Redmond)) and MFA trusted IPs."
                    },
                    {
                        "check": "guests",
                        "status": "info",
                        "message": "Guests and external users are excluded, as in Microsoft's template: they register in their home tenant or need a policy of their own."
                    }
                ],
                "policy": {
                    "id": "7bbdc5fe-f9f3-4241-9ec4-55c05cb7c304",
                    "displayName": "Block security info registration outside trusted locations [sspr:registration-protection]",
                    "description": "Managed by sspr: 'block' for security-info registration outside AllTrusted. sspr finds this policy by the marker in its name; keep it there.",
                    "state": "enabledForReportingButNotEnforced",
                    "clientAppTypes": [
                        "all"
                    ],
                    "applications": {
                        "includeApplications": [],
                        "excludeApplications": [],
                        "includeUserActions": [
                            "urn:user:registersecurityinfo"
                        ],
                        "includeAuthenticationContextClassReferences": []
                    },
                    "users": {
                        "includeUsers": [
                            "All"
                        ],
                        "excludeUsers": [
                            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08"
                        ],
                        "includeGroups": [],
                        "excludeGroups": [
                            "dad4ae4a-730c-4e52-826c-0d9094971f04"
                        ],
                        "includeRoles": [],
                        "excludeRoles": [],
                        "includeGuestsOrExternalUsers": null,
                        "excludeGuestsOrExternalUsers": {
                            "guestOrExternalUserTypes": [
                                "internalGuest",
                                "b2bCollaborationGuest",
                                "b2bCollaborationMember",
                                "b2bDirectConnectUser",
                                "otherExternalUser",
                                "serviceProvider"
                            ],
                            "externalTenants": null
                        }
                    },
                    "locations": {
                        "includeLocations": [
                            "All"
                        ],
                        "excludeLocations": [
                            "AllTrusted"
                        ]
                    },
                    "grant": {
                        "operator": "OR",
                        "builtInControls": [
                            "block"
                        ],
                        "authenticationStrength": null,
                        "customAuthenticationFactors": [],
                        "termsOfUse": []
                    },
                    "narrowingConditions": [],
                    "hasSessionControls": false
                }
            }
        ],
        "graphRequestIds": [
            "dadbc19c-61a0-4ada-b346-13ae7e650f5b",
            "13154d47-0a7b-46fb-a2ab-835885583dc4"
        ]
    })
}

/// A first deploy.
pub fn protection_applied() -> Value {
    json!(
        {
            "tenant": {
                "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
                "domain": "contoso.onmicrosoft.com",
                "displayName": "Contoso"
            },
            "result": "created",
            "policyId": "9a59f515-3a30-465e-9421-40412da6f0f1",
            "state": "enabledForReportingButNotEnforced",
            "changes": [],
            "diff": [
                {
                    "path": "/conditions/applications/includeUserActions",
                    "before": null,
                    "after": [
                        "urn:user:registersecurityinfo"
                    ]
                },
                {
                    "path": "/conditions/clientAppTypes",
                    "before": null,
                    "after": [
                        "all"
                    ]
                },
                {
                    "path": "/conditions/locations/excludeLocations",
                    "before": null,
                    "after": [
                        "AllTrusted"
                    ]
                },
                {
                    "path": "/conditions/locations/includeLocations",
                    "before": null,
                    "after": [
                        "All"
                    ]
                },
                {
                    "path": "/conditions/users/excludeGroups",
                    "before": null,
                    "after": [
                        "dad4ae4a-730c-4e52-826c-0d9094971f04"
                    ]
                },
                {
                    "path": "/conditions/users/excludeGuestsOrExternalUsers/externalTenants/@odata.type",
                    "before": null,
                    "after": "#microsoft.graph.conditionalAccessAllExternalTenants"
                },
                {
                    "path": "/conditions/users/excludeGuestsOrExternalUsers/externalTenants/membershipKind",
                    "before": null,
                    "after": "all"
                },
                {
                    "path": "/conditions/users/excludeGuestsOrExternalUsers/guestOrExternalUserTypes",
                    "before": null,
                    "after": "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider"
                },
                {
                    "path": "/conditions/users/excludeUsers",
                    "before": null,
                    "after": [
                        "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08"
                    ]
                },
                {
                    "path": "/conditions/users/includeUsers",
                    "before": null,
                    "after": [
                        "All"
                    ]
                },
                {
                    "path": "/description",
                    "before": null,
                    "after": "Managed by sspr: 'mfa' for security-info registration outside AllTrusted. sspr finds this policy by the marker in its name; keep it there."
                },
                {
                    "path": "/displayName",
                    "before": null,
                    "after": "Require MFA to register security info [sspr:registration-protection]"
                },
                {
                    "path": "/grantControls/builtInControls",
                    "before": null,
                    "after": [
                        "mfa"
                    ]
                },
                {
                    "path": "/grantControls/operator",
                    "before": null,
                    "after": "OR"
                },
                {
                    "path": "/state",
                    "before": null,
                    "after": "enabledForReportingButNotEnforced"
                }
            ],
            "etag": "\"385db006d0c60a22e27b589793056401\"",
            "policy": {
                "conditions": {
                    "applications": {
                        "includeUserActions": [
                            "urn:user:registersecurityinfo"
                        ]
                    },
                    "clientAppTypes": [
                        "all"
                    ],
                    "locations": {
                        "excludeLocations": [
                            "AllTrusted"
                        ],
                        "includeLocations": [
                            "All"
                        ]
                    },
                    "users": {
                        "excludeGroups": [
                            "dad4ae4a-730c-4e52-826c-0d9094971f04"
                        ],
                        "excludeGuestsOrExternalUsers": {
                            "externalTenants": {
                                "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                                "membershipKind": "all"
                            },
                            "guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider"
                        },
                        "excludeUsers": [
                            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08"
                        ],
                        "includeUsers": [
                            "All"
                        ]
                    }
                },
                "description": "Managed by sspr: 'mfa' for security-info registration outside AllTrusted. sspr finds this policy by the marker in its name; keep it there.",
                "displayName": "Require MFA to register security info [sspr:registration-protection]",
                "grantControls": {
                    "builtInControls": [
                        "mfa"
                    ],
                    "operator": "OR"
                },
                "state": "enabledForReportingButNotEnforced"
            },
            "findings": [
                {
                    "severity": "info",
                    "code": "newHires",
                    "field": "/control",
                    "message": "New hires outside a trusted location need a Temporary Access Pass to register: it satisfies the MFA requirement."
                },
                {
                    "severity": "info",
                    "code": "guestsExcluded",
                    "field": "/guests",
                    "message": "Guests and external users are excluded, as in Microsoft's template: they register in their home tenant, or need a policy of their own."
                },
                {
                    "severity": "info",
                    "code": "reportOnly",
                    "field": "/state",
                    "message": "The policy is deployed report-only: registrations are evaluated and logged, nothing is enforced. Review the sign-in logs, then promote it."
                }
            ],
            "attempts": [
                {
                    "call": "POST identity/conditionalAccess/policies",
                    "status": "succeeded",
                    "graphRequestId": "1a908c5a-126c-4e34-82f6-8a28907ed523"
                }
            ],
            "graphRequestIds": [
                "30bfe2be-1498-4d71-9711-6117ab5d7178",
                "76db4111-4e66-4ed7-a58a-47a204f47416",
                "1a908c5a-126c-4e34-82f6-8a28907ed523"
            ]
        }
    )
}

/// The defaults, without a tenant.
pub fn generated_policy() -> Value {
    json!({
        "state": "enabledForReportingButNotEnforced",
        "policy": {
            "conditions": {
                "applications": {
                    "includeUserActions": [
                        "urn:user:registersecurityinfo"
                    ]
                },
                "clientAppTypes": [
                    "all"
                ],
                "locations": {
                    "excludeLocations": [
                        "AllTrusted"
                    ],
                    "includeLocations": [
                        "All"
                    ]
                },
                "users": {
                    "excludeGroups": [],
                    "excludeGuestsOrExternalUsers": {
                        "externalTenants": {
                            "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                            "membershipKind": "all"
                        },
                        "guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider"
                    },
                    "excludeUsers": [],
                    "includeUsers": [
                        "All"
                    ]
                }
            },
            "description": "Managed by sspr: 'block' for security-info registration outside AllTrusted. sspr finds this policy by the marker in its name; keep it there.",
            "displayName": "Block security info registration outside trusted locations [sspr:registration-protection]",
            "grantControls": {
                "builtInControls": [
                    "block"
                ],
                "operator": "OR"
            },
            "state": "enabledForReportingButNotEnforced"
        },
        "findings": [
            {
                "severity": "warning",
                "code": "noBreakGlass",
                "field": "/excludeUsers",
                "message": "No break-glass account is excluded: none was declared and none is excluded from most of the tenant's CA policies. Declare the emergency-access accounts (excludeUsers/excludeGroups)."
            },
            {
                "severity": "warning",
                "code": "newHires",
                "field": "/control",
                "message": "New hires must register from a trusted location: a block is not lifted by a Temporary Access Pass, so onboard them on site (with a TAP if they have no method yet)."
            },
            {
                "severity": "info",
                "code": "guestsExcluded",
                "field": "/guests",
                "message": "Guests and external users are excluded, as in Microsoft's template: they register in their home tenant, or need a policy of their own."
            },
            {
                "severity": "info",
                "code": "reportOnly",
                "field": "/state",
                "message": "The policy is deployed report-only: registrations are evaluated and logged, nothing is enforced. Review the sign-in logs, then promote it."
            }
        ]
    })
}

/// One record, and the link to the next page.
pub fn audit_list() -> Value {
    json!({
        "value": [
            {
                "id": 42,
                "time": "2026-12-02T18:07:31.204518Z",
                "requestId": "0d6f1c9a-58a4-4b0e-9e41-7f2b1a3c5d6e",
                "actor": {
                    "oid": "0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a21",
                    "upn": "demo.admin@northwind.onmicrosoft.com",
                    "appId": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
                    "roles": [
                        "SSPR.ReadWrite"
                    ]
                },
                "tenantId": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
                "operation": "policy.patch",
                "before": {
                    "registration": {
                        "reconfirmDays": 180
                    }
                },
                "after": {
                    "registration": {
                        "reconfirmDays": 90
                    }
                },
                "diff": [
                    {
                        "pointer": "/registration/reconfirmDays",
                        "before": 180,
                        "after": 90,
                        "source": "portal"
                    }
                ],
                "outcome": "succeeded",
                "error": null,
                "compensation": null
            }
        ],
        "nextLink": "/v1/audit?limit=1&cursor=YXVkaXQudjEuNDI"
    })
}

/// The start of a CSV listing with three fields.
pub fn registration_csv() -> Value {
    json!(
        "id,userPrincipalName,isSsprCapable\n1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01,meganb@contoso.onmicrosoft.com,false\n1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02,alexw@contoso.onmicrosoft.com,true\n"
    )
}

/// A dry run of `PUT …/registration-protection/state` promoting the deployed policy.
pub fn protection_change_plan() -> Value {
    json!(
        {
            "tenant": {
                "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
                "domain": "contoso.onmicrosoft.com",
                "displayName": "Contoso"
            },
            "dryRun": true,
            "result": "updated",
            "policyId": "9a59f515-3a30-465e-9421-40412da6f0f1",
            "state": "enabled",
            "changes": [
                "state"
            ],
            "diff": [
                {
                    "path": "/state",
                    "before": "enabledForReportingButNotEnforced",
                    "after": "enabled"
                }
            ],
            "calls": [
                {
                    "method": "PATCH",
                    "path": "/v1.0/identity/conditionalAccess/policies/9a59f515-3a30-465e-9421-40412da6f0f1",
                    "body": {
                        "state": "enabled"
                    }
                }
            ],
            "findings": [],
            "etag": "\"385db006d0c60a22e27b589793056401\""
        }
    )
}

/// The body of `PUT …/registration-protection/state` that promotes the policy.
pub fn state_change() -> Value {
    json!({ "state": "enabled", "force": false })
}

/// Contoso's readiness: hybrid, licensed, most of the guide done; the Windows link missing.
pub fn tenant_readiness() -> Value {
    let ask = "sspr policy set --tenant contoso.onmicrosoft.com";
    json!({
        "tenant": {
            "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            "domain": "contoso.onmicrosoft.com",
            "displayName": "Contoso"
        },
        "readAt": "2026-12-02T18:05:04.31924838Z",
        "status": "fail",
        "counts": { "pass": 10, "warn": 2, "fail": 1, "unknown": 1, "notApplicable": 0 },
        "checks": [
            { "id": "cloudLicence", "title": "Licence for cloud-only reset", "status": "pass",
              "summary": "SPB (Microsoft 365 Business Premium) allows cloud-only users to reset.",
              "evidence": [ { "name": "skus", "value": "SPB (Enabled, AAD_PREMIUM)", "source": "graph" } ] },
            { "id": "writebackLicence", "title": "Licence for reset with writeback", "status": "pass",
              "summary": "SPB carries AAD_PREMIUM, which writeback needs.",
              "evidence": [ { "name": "skus", "value": "SPB (Enabled, AAD_PREMIUM)", "source": "graph" } ] },
            { "id": "onPremisesIntegration", "title": "Password writeback and unlock", "status": "pass",
              "summary": "Directory sync is on; writeback and unlock without reset are on.",
              "evidence": [
                  { "name": "directorySync.onPremisesSyncEnabled", "value": "true", "source": "graph" },
                  { "name": "onPremises.passwordWriteback", "value": "true", "source": "portal" },
                  { "name": "onPremises.unlockWithoutReset", "value": "true", "source": "portal" }
              ] },
            { "id": "enablementScope", "title": "Who SSPR is enabled for", "status": "pass",
              "summary": "SSPR is enabled for every user.",
              "evidence": [ { "name": "enablement.scope", "value": "all", "source": "portal" } ],
              "points": { "control": "SelfServicePasswordReset", "score": 1.0, "maxScore": 1.0 } },
            { "id": "methodsAndGates", "title": "Methods and the number a reset needs", "status": "pass",
              "summary": "Two methods are needed and three methods besides the Authenticator app are available.",
              "evidence": [
                  { "name": "authentication.methodsRequired", "value": "2", "source": "portal" },
                  { "name": "methods", "value": "mobilePhone, email, microsoftAuthenticator, securityQuestions", "source": "portal" }
              ] },
            { "id": "registration", "title": "Registration and re-confirmation", "status": "warn",
              "summary": "Registration is required at sign-in, but users are never asked to re-confirm.",
              "evidence": [
                  { "name": "registration.requireRegistrationOnSignIn", "value": "true", "source": "portal" },
                  { "name": "registration.reconfirmDays", "value": "0", "source": "portal" }
              ],
              "remedy": { "text": "Ask users to re-confirm their methods every 180 days.",
                          "command": format!("{ask} --reconfirm-days 180") } },
            { "id": "notifications", "title": "Notifications", "status": "pass",
              "summary": "Users are notified of resets and admins of other admins' resets.",
              "evidence": [
                  { "name": "notifications.notifyUsersOnReset", "value": "true", "source": "portal" },
                  { "name": "notifications.notifyAdminsOnAdminReset", "value": "true", "source": "portal" }
              ] },
            { "id": "helpdeskLink", "title": "Helpdesk link", "status": "pass",
              "summary": "Users who cannot reset are sent to https://help.contoso.com/password.",
              "evidence": [ { "name": "customization.helpdeskLink", "value": "https://help.contoso.com/password", "source": "portal" } ] },
            { "id": "windowsResetLink", "title": "Windows sign-in screen link", "status": "fail",
              "summary": "No Intune policy sets AllowAadPasswordReset: the Windows sign-in screen shows no Reset password link.",
              "evidence": [ { "name": "intune.policies", "value": "none of 3 configuration policies and 1 custom profile sets it", "source": "graph" } ],
              "remedy": { "text": "Deploy the settings-catalog policy to all devices, or set the registry value on devices outside Intune.",
                          "command": "sspr windows-reset-link apply --all-devices --tenant contoso.onmicrosoft.com" } },
            { "id": "registrationProtection", "title": "Security-info registration protected", "status": "pass",
              "summary": "The sspr registration-protection policy is enforced and grades without failures.",
              "evidence": [ { "name": "policy", "value": "sspr: protect security info registration (enabled)", "source": "graph" } ] },
            { "id": "mfaRegistrationEnforced", "title": "MFA registration enforced", "status": "unknown",
              "summary": "The registration campaign is off; the Identity Protection MFA registration policy has no API.",
              "evidence": [ { "name": "registrationCampaign.state", "value": "disabled", "source": "graph" } ],
              "remedy": { "text": "Turn on the registration campaign, or check the Identity Protection policy in the portal.",
                          "portal": "Entra admin center > Protection > Identity Protection > Multifactor authentication registration policy" } },
            { "id": "registrationCoverage", "title": "Registration coverage", "status": "warn",
              "summary": "412 of 480 SSPR-enabled members registered (85.8%, threshold 90%); 12 guests counted apart.",
              "evidence": [
                  { "name": "coverage", "value": "412 of 480", "source": "graph" },
                  { "name": "guests", "value": "12", "source": "graph" }
              ],
              "remedy": { "text": "Remind the users who have not registered; list them with the command.",
                          "command": "sspr registrations list --sspr enabledNotRegistered --tenant contoso.onmicrosoft.com" } },
            { "id": "secureScoreSspr", "title": "Secure Score: self-service password reset", "status": "pass",
              "summary": "1 of 1 point.",
              "evidence": [ { "name": "SelfServicePasswordReset", "value": "1 of 1 (count 480 of 480)", "source": "graph" } ],
              "points": { "control": "SelfServicePasswordReset", "score": 1.0, "maxScore": 1.0 } },
            { "id": "secureScoreMfaRegistration", "title": "Secure Score: MFA registration", "status": "pass",
              "summary": "9 of 9 points.",
              "evidence": [ { "name": "MFARegistrationV2", "value": "9 of 9 (count 0 of 480 unregistered)", "source": "graph" } ],
              "points": { "control": "MFARegistrationV2", "score": 9.0, "maxScore": 9.0 } }
        ],
        "points": { "achieved": 10.0, "max": 10.0, "available": 0.0 },
        "portals": {
            "registration": "https://aka.ms/setupsecurityinfo",
            "reset": "https://aka.ms/sspr",
            "all": [
                { "url": "https://aka.ms/setupsecurityinfo", "purpose": "Register or change the methods for MFA and password reset (combined registration)" },
                { "url": "https://aka.ms/mfasetup", "purpose": "Set up multifactor authentication" },
                { "url": "https://aka.ms/ssprsetup", "purpose": "Register for password reset" },
                { "url": "https://aka.ms/sspr", "purpose": "Reset a forgotten password" }
            ]
        }
    })
}

/// Fabrikam's problem, then Contoso's readiness, and the matrix sorted by domain.
pub fn fleet_readiness() -> Value {
    json!({
        "tenants": [fleet_readiness_entry(), {
            "tenant": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            "domain": "contoso.onmicrosoft.com",
            "readiness": tenant_readiness()
        }],
        "failed": 1,
        "matrix": {
            "checks": ["cloudLicence", "writebackLicence", "onPremisesIntegration", "enablementScope",
                "methodsAndGates", "registration", "notifications", "helpdeskLink", "windowsResetLink",
                "registrationProtection", "mfaRegistrationEnforced", "registrationCoverage",
                "secureScoreSspr", "secureScoreMfaRegistration"],
            "rows": [
                { "tenant": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17", "domain": "contoso.onmicrosoft.com",
                  "statuses": ["pass", "pass", "pass", "pass", "pass", "warn", "pass", "pass", "fail",
                      "pass", "unknown", "warn", "pass", "pass"] },
                { "tenant": "8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a", "domain": "fabrikam.onmicrosoft.com",
                  "statuses": null }
            ]
        }
    })
}

/// One NDJSON line of the fleet readiness: a tenant whose credential is refused.
pub fn fleet_readiness_entry() -> Value {
    json!({
        "tenant": "8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a",
        "domain": "fabrikam.onmicrosoft.com",
        "problem": {
            "code": "upstreamToken",
            "detail": "Entra refused the credential for tenant fabrikam.onmicrosoft.com: the client secret expired.",
            "status": 502,
            "tenant": "fabrikam.onmicrosoft.com",
            "title": "Token refused",
            "type": "/problems/upstream-token"
        }
    })
}

/// The Windows sign-in link of a tenant whose only allowing policy is a custom profile.
pub fn windows_reset_link_status() -> Value {
    json!({
        "tenant": { "id": "b7e4c1a9-3f62-4d8e-9a05-6c2e8f1d4b73", "domain": "tailspin.onmicrosoft.com", "displayName": "Tailspin Toys" },
        "status": "warn",
        "summary": "Only a custom OMA-URI profile allows the link; deploy the settings-catalog policy to all devices instead.",
        "policies": [
            { "id": "5f0d7c8e-1a2b-4c3d-9e8f-0a1b2c3d4e02", "name": "Windows - SSPR link (draft)", "kind": "settingsCatalog",
              "allows": true, "assignments": [], "ours": false },
            { "id": "6a1e8d9f-2b3c-4d4e-8f9a-1b2c3d4e5f03", "name": "Windows - custom SSPR", "kind": "customProfile",
              "allows": true, "assignments": [{ "target": "group", "groupId": "7b2f9e0a-3c4d-4e5f-9a0b-2c3d4e5f6a04" }], "ours": false }
        ],
        "evidence": [
            { "name": "allowingPolicies", "value": "Windows - SSPR link (draft) (not assigned); Windows - custom SSPR (group 7b2f9e0a-3c4d-4e5f-9a0b-2c3d4e5f6a04)", "source": "graph" },
            { "name": "blockingPolicies", "value": "none", "source": "graph" },
            { "name": "policiesRead", "value": "1 settings-catalog policies, 1 device configuration profiles", "source": "graph" }
        ],
        "registryAlternative": {
            "key": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\AzureADAccount",
            "valueName": "AllowPasswordReset",
            "valueType": "REG_DWORD",
            "data": 1,
            "omaUri": "./Device/Vendor/MSFT/Policy/Config/Authentication/AllowAadPasswordReset",
            "scripts": [
                "/v1/tenants/tailspin.onmicrosoft.com/windows-reset-link/script?format=reg",
                "/v1/tenants/tailspin.onmicrosoft.com/windows-reset-link/script?format=powershell"
            ]
        }
    })
}

/// The body of the plan and the deploy: assign to all devices.
pub fn windows_reset_link_target() -> Value {
    json!({ "target": "allDevices" })
}

/// The plan of a first deploy to one group.
pub fn windows_reset_link_plan() -> Value {
    let policy = json!({
        "name": "sspr - Windows sign-in SSPR link",
        "description": "Managed by sspr: shows the \"Reset password\" link on the Windows sign-in screen (Policy CSP Authentication/AllowAadPasswordReset = 1). Changes are undone by the next `sspr windows-reset-link apply`.",
        "platforms": "windows10",
        "technologies": "mdm",
        "roleScopeTagIds": ["0"],
        "settings": [{
            "@odata.type": "#microsoft.graph.deviceManagementConfigurationSetting",
            "settingInstance": {
                "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
                "settingDefinitionId": "device_vendor_msft_policy_config_authentication_allowaadpasswordreset",
                "choiceSettingValue": {
                    "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingValue",
                    "value": "device_vendor_msft_policy_config_authentication_allowaadpasswordreset_1",
                    "children": []
                }
            }
        }]
    });
    let assignment = json!({ "assignments": [{ "target": {
        "@odata.type": "#microsoft.graph.groupAssignmentTarget",
        "groupId": "0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e" } }] });
    json!({
        "tenant": { "id": "8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a", "domain": "fabrikam.onmicrosoft.com", "displayName": "Fabrikam" },
        "result": "created",
        "target": { "target": "group", "groupId": "0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e" },
        "policy": policy,
        "assignment": assignment,
        "calls": [
            { "method": "POST", "path": "/beta/deviceManagement/configurationPolicies", "body": policy },
            { "method": "POST", "path": "/beta/deviceManagement/configurationPolicies/{id}/assign", "body": assignment }
        ],
        "etag": "\"9f86d081884c7d659a2feaa0c55ad015\""
    })
}

/// A deploy that found sspr's policy already assigned as asked.
pub fn windows_reset_link_applied() -> Value {
    json!({
        "tenant": { "id": "8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a", "domain": "fabrikam.onmicrosoft.com", "displayName": "Fabrikam" },
        "result": "unchanged",
        "target": { "target": "allDevices" },
        "policyId": "2c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f",
        "calls": [],
        "etag": "\"3e23e8160039594a33894f6564e1b134\"",
        "graphRequestIds": ["7a1c0e52-94b3-4d8e-b1f0-3c2d5e6f7a80"],
        "auditRecordId": 12
    })
}

/// The `.reg` file of `GET …/windows-reset-link/script?format=reg`.
pub fn windows_reset_link_script() -> Value {
    json!(
        "Windows Registry Editor Version 5.00\r\n\r\n; Shows the \"Reset password\" link on the Windows sign-in screen (Microsoft Entra SSPR).\r\n; Needs Windows 10 1803 or later (not Home), Microsoft Entra joined or hybrid joined.\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\AzureADAccount]\r\n\"AllowPasswordReset\"=dword:00000001\r\n"
    )
}

/// Contoso's users' guide: its helpdesk link, two methods to reset, no Windows link yet.
pub fn user_guide() -> Value {
    json!({
        "tenant": {
            "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            "domain": "contoso.onmicrosoft.com",
            "displayName": "Contoso"
        },
        "helpdeskLink": "https://help.contoso.com/password",
        "methodsRequired": 2,
        "methods": ["microsoftAuthenticator", "email", "mobilePhone"],
        "windowsResetLink": false,
        "portals": tenant_readiness()["portals"].clone()
    })
}

#[cfg(test)]
mod windows_link_examples {
    use super::*;
    use crate::windows_link::*;

    #[test]
    fn the_examples_are_the_wire_types() {
        let status: WindowsResetLinkStatus =
            serde_json::from_value(windows_reset_link_status()).expect("status");
        assert_eq!(status.policies[1].assignments.len(), 1);
        let target: ResetLinkTarget =
            serde_json::from_value(windows_reset_link_target()).expect("target");
        assert_eq!(target, ResetLinkTarget::AllDevices);
        let plan: WindowsResetLinkPlan =
            serde_json::from_value(windows_reset_link_plan()).expect("plan");
        assert_eq!(plan.calls.len(), 2);
        let applied: WindowsResetLinkApplied =
            serde_json::from_value(windows_reset_link_applied()).expect("applied");
        assert!(applied.calls.is_empty());
        assert!(
            serde_json::from_value::<ResetLinkTarget>(json!({"target": "group", "groupID": "x"}))
                .is_err()
        );
    }
}
