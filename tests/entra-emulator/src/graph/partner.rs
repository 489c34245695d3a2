//! The partner side of an MSP's tenant (msp-readiness.md §2c): its GDAP relationships
//! (`tenantRelationships/delegatedAdminRelationships`), the customers they cover
//! (`tenantRelationships/delegatedAdminCustomers`) and its partner contracts (`contracts`).
//! A tenant that is nobody's partner answers empty collections. v1.0 only; `$top` pages
//! (at most 300, as Graph documents for relationships) with `$skiptoken`.

use std::collections::BTreeSet;

use axum::http::Method;
use serde_json::{Value, json};

use super::{Access, Ctx, GraphError, ListOptions, Paging, Reply, Route, V1_ONLY};

const READ_RELATIONSHIPS: &[&str] = &[
    "DelegatedAdminRelationship.Read.All",
    "DelegatedAdminRelationship.ReadWrite.All",
];
const READ_CONTRACTS: &[&str] = &["Directory.Read.All", "Directory.ReadWrite.All"];
/// Graph's documented maximum `$top` for relationships; its default page size is undocumented
/// (UNVERIFIED), so the emulator uses the maximum.
const RELATIONSHIP_PAGING: Paging = Paging {
    default: 300,
    max: 300,
};
/// `contracts` pages like the other directory-object collections.
const CONTRACT_PAGING: Paging = Paging {
    default: 100,
    max: 999,
};
const RELATIONSHIP_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "duration",
    "status",
    "autoExtendDuration",
    "createdDateTime",
    "lastModifiedDateTime",
    "activatedDateTime",
    "endDateTime",
    "customer",
    "accessDetails",
];
const CUSTOMER_PROPERTIES: &[&str] = &["id", "tenantId", "displayName"];
const CONTRACT_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "contractType",
    "customerId",
    "defaultDomainName",
    "displayName",
];

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "tenantRelationships/delegatedAdminRelationships",
            Access::Any(READ_RELATIONSHIPS),
            relationships,
        )
        .versions(V1_ONLY),
        Route::new(
            Method::GET,
            "tenantRelationships/delegatedAdminCustomers",
            Access::Any(READ_RELATIONSHIPS),
            customers,
        )
        .versions(V1_ONLY),
        Route::new(
            Method::GET,
            "contracts",
            Access::Any(READ_CONTRACTS),
            contracts,
        )
        .versions(V1_ONLY),
    ]
}

fn relationships(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let options = ListOptions::parse(
        ctx,
        RELATIONSHIP_PROPERTIES,
        "delegatedAdminRelationship",
        RELATIONSHIP_PAGING,
    )?;
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    Ok(Reply::Ok(options.page_of(
        ctx,
        "tenantRelationships/delegatedAdminRelationships",
        &tenant.delegated_admin_relationships,
    )))
}

/// One entry per customer with at least one active relationship (its id is the customer's
/// tenant id), in the order the relationships were created.
fn customers(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let options = ListOptions::parse(
        ctx,
        CUSTOMER_PROPERTIES,
        "delegatedAdminCustomer",
        RELATIONSHIP_PAGING,
    )?;
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let mut seen = BTreeSet::new();
    let items: Vec<Value> = tenant
        .delegated_admin_relationships
        .iter()
        .filter(|r| r["status"] == "active")
        .filter_map(|r| {
            let customer = &r["customer"];
            let tenant_id = customer["tenantId"].as_str()?;
            seen.insert(tenant_id.to_ascii_lowercase()).then(|| {
                json!({
                    "id": tenant_id,
                    "tenantId": tenant_id,
                    "displayName": customer["displayName"],
                })
            })
        })
        .collect();
    Ok(Reply::Ok(options.page_of(
        ctx,
        "tenantRelationships/delegatedAdminCustomers",
        &items,
    )))
}

fn contracts(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let options = ListOptions::parse(ctx, CONTRACT_PROPERTIES, "contract", CONTRACT_PAGING)?;
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    Ok(Reply::Ok(options.page_of(
        ctx,
        "contracts",
        &tenant.contracts,
    )))
}
