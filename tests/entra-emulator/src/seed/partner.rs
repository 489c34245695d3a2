//! The MSP's partner data in the operator tenant (msp-readiness.md §2c): GDAP relationships with
//! its customers and the partner contracts, as Graph serves them. Used only to *discover*
//! customers; each still needs admin consent before the service can reach it.

use serde_json::{Value, json};

use super::{
    ADATUM_DISPLAY_NAME, ADATUM_ID, CONTOSO_DOMAIN, CONTOSO_ID, FABRIKAM_DOMAIN, FABRIKAM_ID,
    TAILSPIN_DOMAIN, TAILSPIN_ID,
};

/// Role template ids GDAP relationships grant (Entra built-in roles).
const HELPDESK_ADMINISTRATOR: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
const AUTHENTICATION_POLICY_ADMINISTRATOR: &str = "0526716b-113d-4c15-b2c8-68e3c22b9f80";
const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
const SECURITY_ADMINISTRATOR: &str = "194ae4cb-b126-40b2-bd5b-6091b380977d";

/// A customer of the MSP with its GDAP relationship's particulars.
struct Relationship<'a> {
    /// The part before the customer id in the relationship id.
    prefix: &'a str,
    customer_id: &'a str,
    customer_name: &'a str,
    display_name: &'a str,
    status: &'a str,
    created: &'a str,
    /// `activatedDateTime`; `None` for one never approved.
    activated: Option<&'a str>,
    end: &'a str,
    last_modified: &'a str,
    auto_extend: &'a str,
    roles: &'a [&'a str],
}

const STANDARD_ROLES: &[&str] = &[
    HELPDESK_ADMINISTRATOR,
    AUTHENTICATION_POLICY_ADMINISTRATOR,
    GLOBAL_READER,
];

/// Active relationships with Contoso, Fabrikam, Tailspin and Adatum, and an older, terminated
/// one with Fabrikam (replaced by the active one).
const RELATIONSHIPS: &[Relationship<'static>] = &[
    Relationship {
        prefix: "0c5b8a4e-2f1d-4c7a-9e3b-6d8f0a2c4e61",
        customer_id: CONTOSO_ID,
        customer_name: "Contoso",
        display_name: "Northwind_Contoso_SSPR",
        status: "active",
        created: "2025-02-03T09:12:44.113Z",
        activated: Some("2025-02-03T10:01:02.870Z"),
        end: "2027-02-03T10:01:02.870Z",
        last_modified: "2025-02-03T10:01:02.870Z",
        auto_extend: "P180D",
        roles: STANDARD_ROLES,
    },
    Relationship {
        prefix: "1d6c9b5f-3a2e-4d8b-8f4c-7e9a1b3d5f72",
        customer_id: FABRIKAM_ID,
        customer_name: "Fabrikam, Inc.",
        display_name: "Northwind_Fabrikam_2023",
        status: "terminated",
        created: "2023-03-14T15:40:10.552Z",
        activated: Some("2023-03-15T08:05:31.204Z"),
        end: "2024-09-10T12:00:00.000Z",
        last_modified: "2024-09-10T12:00:00.000Z",
        auto_extend: "PT0S",
        roles: &[GLOBAL_READER],
    },
    Relationship {
        prefix: "2e7d0c6a-4b3f-4e9c-9a5d-8f0b2c4e6a83",
        customer_id: FABRIKAM_ID,
        customer_name: "Fabrikam, Inc.",
        display_name: "Northwind_Fabrikam_SSPR",
        status: "active",
        created: "2024-09-02T11:22:33.004Z",
        activated: Some("2024-09-02T13:45:09.611Z"),
        end: "2026-09-02T13:45:09.611Z",
        last_modified: "2025-06-01T07:00:00.000Z",
        auto_extend: "P180D",
        roles: STANDARD_ROLES,
    },
    Relationship {
        prefix: "3f8e1d7b-5c4a-4f0d-8b6e-9a1c3d5f7b94",
        customer_id: TAILSPIN_ID,
        customer_name: "Tailspin Toys",
        display_name: "Northwind_Tailspin",
        status: "active",
        created: "2026-03-09T08:30:00.000Z",
        activated: Some("2026-03-10T09:15:27.400Z"),
        end: "2028-03-10T09:15:27.400Z",
        last_modified: "2026-03-10T09:15:27.400Z",
        auto_extend: "PT0S",
        roles: &[HELPDESK_ADMINISTRATOR, SECURITY_ADMINISTRATOR],
    },
    Relationship {
        prefix: "4a9f2e8c-6d5b-4a1e-9c7f-0b2d4e6a8c05",
        customer_id: ADATUM_ID,
        customer_name: ADATUM_DISPLAY_NAME,
        display_name: "Northwind_Adatum",
        status: "active",
        created: "2026-07-21T16:02:18.925Z",
        activated: Some("2026-07-22T08:44:51.310Z"),
        end: "2028-07-22T08:44:51.310Z",
        last_modified: "2026-07-22T08:44:51.310Z",
        auto_extend: "P180D",
        roles: STANDARD_ROLES,
    },
];

/// `delegatedAdminRelationship` items, oldest first.
pub(super) fn relationships() -> Vec<Value> {
    RELATIONSHIPS.iter().map(relationship).collect()
}

fn relationship(r: &Relationship<'_>) -> Value {
    let roles: Vec<Value> = r
        .roles
        .iter()
        .map(|id| json!({ "roleDefinitionId": id }))
        .collect();
    json!({
        "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
        "@odata.etag": format!("W/\"JyIw{}Ig==\"", &r.prefix[..8]),
        "id": format!("{}-{}", r.prefix, r.customer_id),
        "displayName": r.display_name,
        "duration": "P730D",
        "status": r.status,
        "autoExtendDuration": r.auto_extend,
        "createdDateTime": r.created,
        "lastModifiedDateTime": r.last_modified,
        "activatedDateTime": r.activated,
        "endDateTime": r.end,
        "customer": { "tenantId": r.customer_id, "displayName": r.customer_name },
        "accessDetails": { "unifiedRoles": roles },
    })
}

/// One reseller contract per customer with an active relationship. `displayName` and
/// `defaultDomainName` are copies taken when the partnership began (Graph never updates them).
pub(super) fn contracts() -> Vec<Value> {
    [
        (
            "5b0a3f9d-7e6c-4b2f-8d8a-1c3e5f7a9b16",
            CONTOSO_ID,
            CONTOSO_DOMAIN,
            "Contoso",
        ),
        (
            "6c1b4a0e-8f7d-4c3a-9e9b-2d4f6a8b0c27",
            FABRIKAM_ID,
            FABRIKAM_DOMAIN,
            "Fabrikam, Inc.",
        ),
        (
            "7d2c5b1f-9a8e-4d4b-8f0c-3e5a7b9c1d38",
            TAILSPIN_ID,
            TAILSPIN_DOMAIN,
            "Tailspin Toys",
        ),
        (
            "8e3d6c2a-0b9f-4e5c-9a1d-4f6b8c0d2e49",
            ADATUM_ID,
            "adatum.onmicrosoft.com",
            ADATUM_DISPLAY_NAME,
        ),
    ]
    .iter()
    .map(|(id, customer, domain, name)| {
        json!({
            "id": id,
            "deletedDateTime": null,
            "contractType": "ResellerPartner",
            "customerId": customer,
            "defaultDomainName": domain,
            "displayName": name,
        })
    })
    .collect()
}
