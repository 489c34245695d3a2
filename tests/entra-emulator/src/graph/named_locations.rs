//! `identity/conditionalAccess/namedLocations` (graph-api.md §5.1, §5.6).
//!
//! `namedLocation` is abstract on the wire: POST and PATCH bodies must name
//! `#microsoft.graph.ipNamedLocation` or `#microsoft.graph.countryNamedLocation` in `@odata.type`,
//! and every served item carries it.

use std::net::{Ipv4Addr, Ipv6Addr};

use axum::http::Method;
use serde_json::{Map, Value, json};

use super::conditional_access::{
    READ, WRITE, abstract_type, ca_invalid, find_by_id, list_reply, location_in_use, merge,
    not_found, now_graph, position_by_id, select, unknown_property, without_server_properties,
    wrong_type,
};
use super::{Access, Bucket, Ctx, GraphError, Reply, Route, Version, with_context};

const LOCATIONS: &str = "identity/conditionalAccess/namedLocations";
const LOCATION: &str = "identity/conditionalAccess/namedLocations/{id}";
const IP_TYPE: &str = "#microsoft.graph.ipNamedLocation";
const COUNTRY_TYPE: &str = "#microsoft.graph.countryNamedLocation";
const COUNTRY_LOOKUP: &[&str] = &[
    "clientIpAddress",
    "authenticatorAppGps",
    "unknownFutureValue",
];

pub(crate) fn routes() -> Vec<Route> {
    let ca = |method, pattern, access, handler| {
        Route::new(method, pattern, access, handler).bucket(Bucket::ConditionalAccess)
    };
    vec![
        ca(Method::GET, LOCATIONS, Access::Any(READ), list_locations),
        ca(Method::POST, LOCATIONS, Access::Any(WRITE), create_location),
        ca(Method::GET, LOCATION, Access::Any(READ), get_location),
        ca(Method::PATCH, LOCATION, Access::Any(WRITE), update_location),
        ca(
            Method::DELETE,
            LOCATION,
            Access::Any(WRITE),
            delete_location,
        ),
    ]
}

fn list_locations(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    list_reply(
        ctx,
        tenant.named_locations.clone(),
        format!(
            "{}#identity/conditionalAccess/namedLocations",
            ctx.version.metadata()
        ),
    )
}

fn get_location(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant(&directory)?;
    let location =
        find_by_id(&tenant.named_locations, ctx.param(0)).ok_or_else(|| not_found(ctx.param(0)))?;
    Ok(Reply::Ok(select(
        ctx,
        with_context(location, entity_context(ctx.version, true)),
    )))
}

fn create_location(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let body = ctx.body()?;
    let mut location = read_location(body)?;
    let now = now_graph();
    location["id"] = json!(uuid::Uuid::new_v4().to_string());
    location["createdDateTime"] = json!(now);
    // The documented list shows `modifiedDateTime` equal to `createdDateTime` for new locations.
    location["modifiedDateTime"] = json!(now);
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    tenant.named_locations.push(location.clone());
    Ok(Reply::Created(with_context(
        &location,
        entity_context(ctx.version, false),
    )))
}

/// PATCH needs `@odata.type` naming the location's own type (§5.6, §8.4); the given properties
/// replace (`ipRanges`/`countriesAndRegions` wholesale) and the result must again be valid.
fn update_location(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let body = ctx.body()?;
    let patch_type = body.get("@odata.type").and_then(Value::as_str);
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    let index = position_by_id(&tenant.named_locations, ctx.param(0))
        .ok_or_else(|| not_found(ctx.param(0)))?;
    let stored = tenant.named_locations[index].clone();
    let stored_type = stored["@odata.type"].as_str().unwrap_or_default();
    match patch_type {
        None => return Err(abstract_type("namedLocation")),
        Some(t) if t != stored_type => {
            // The type of an existing entity cannot change (text UNVERIFIED).
            return Err(ca_invalid(format!(
                "The '@odata.type' '{t}' does not match the type of named location '{}' ('{stored_type}').",
                ctx.param(0)
            )));
        }
        Some(_) => {}
    }
    let mut merged = stored.clone();
    merge(&mut merged, &without_server_properties(body));
    let mut location = read_location(&merged)?;
    for server_owned in ["id", "createdDateTime"] {
        location[server_owned] = stored.get(server_owned).cloned().unwrap_or(Value::Null);
    }
    location["modifiedDateTime"] = json!(now_graph());
    tenant.named_locations[index] = location;
    Ok(Reply::NoContent)
}

/// A location that a CA policy still names cannot be deleted: the portal refuses it and Graph
/// answers 400 (UNVERIFIED: neither code nor text is documented in graph-api.md).
fn delete_location(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    let index = position_by_id(&tenant.named_locations, ctx.param(0))
        .ok_or_else(|| not_found(ctx.param(0)))?;
    if location_in_use(tenant, ctx.param(0)) {
        return Err(ca_invalid(format!(
            "Named location '{}' is referenced by one or more conditional access policies and cannot be deleted.",
            ctx.param(0)
        )));
    }
    tenant.named_locations.remove(index);
    Ok(Reply::NoContent)
}

/// POST's documented context is `#namedLocations/$entity` [DOCS-nl-post] (§5.6); GET uses the
/// full navigation path as the list does.
fn entity_context(version: Version, full_path: bool) -> String {
    let path = if full_path {
        "identity/conditionalAccess/namedLocations"
    } else {
        "namedLocations"
    };
    format!("{}#{path}/$entity", version.metadata())
}

/// A body read into the stored shape: `@odata.type`, `displayName` and the type's properties,
/// non-null ones defaulted (`isTrusted` false, `includeUnknownCountriesAndRegions` false).
fn read_location(body: &Value) -> Result<Value, GraphError> {
    let fields = body
        .as_object()
        .ok_or_else(|| wrong_type("namedLocation", "microsoft.graph.namedLocation"))?;
    let odata_type = fields.get("@odata.type").and_then(Value::as_str);
    let (type_name, own): (&str, &[&str]) = match odata_type {
        Some(IP_TYPE) => ("ipNamedLocation", &["ipRanges", "isTrusted"]),
        Some(COUNTRY_TYPE) => (
            "countryNamedLocation",
            &[
                "countriesAndRegions",
                "includeUnknownCountriesAndRegions",
                "countryLookupMethod",
            ],
        ),
        // Missing or a type Graph cannot bind: the base type is abstract (§5.6, [DOCS-nl-post]).
        _ => return Err(abstract_type("namedLocation")),
    };
    const BASE: &[&str] = &[
        "id",
        "displayName",
        "createdDateTime",
        "modifiedDateTime",
        "deletedDateTime",
    ];
    for key in fields.keys() {
        if !key.contains('@') && !BASE.contains(&key.as_str()) && !own.contains(&key.as_str()) {
            return Err(unknown_property(key, type_name));
        }
    }
    let display_name = match fields.get("displayName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(ca_invalid("displayName is required and cannot be empty."));
        }
        Some(_) => return Err(wrong_type("displayName", "Edm.String")),
    };
    let mut out = Map::new();
    out.insert("@odata.type".into(), json!(odata_type));
    out.insert("displayName".into(), json!(display_name));
    if type_name == "ipNamedLocation" {
        out.insert("ipRanges".into(), read_ip_ranges(fields.get("ipRanges"))?);
        out.insert("isTrusted".into(), json!(read_bool(fields, "isTrusted")?));
    } else {
        out.insert(
            "countriesAndRegions".into(),
            read_countries(fields.get("countriesAndRegions"))?,
        );
        out.insert(
            "includeUnknownCountriesAndRegions".into(),
            json!(read_bool(fields, "includeUnknownCountriesAndRegions")?),
        );
        out.insert(
            "countryLookupMethod".into(),
            read_lookup_method(fields.get("countryLookupMethod"))?,
        );
    }
    Ok(Value::Object(out))
}

/// Non-null Boolean defaulting to `false` when absent.
fn read_bool(fields: &Map<String, Value>, name: &str) -> Result<bool, GraphError> {
    match fields.get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(wrong_type(name, "Edm.Boolean")),
    }
}

/// At least one range; each names its concrete type and holds a CIDR of that family.
fn read_ip_ranges(value: Option<&Value>) -> Result<Value, GraphError> {
    let ranges = value
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            ca_invalid("An IP named location needs at least one entry in 'ipRanges'.")
        })?;
    ranges
        .iter()
        .map(read_ip_range)
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn read_ip_range(range: &Value) -> Result<Value, GraphError> {
    let odata_type = range.get("@odata.type").and_then(Value::as_str);
    let v4 = match odata_type {
        Some("#microsoft.graph.iPv4CidrRange") => true,
        Some("#microsoft.graph.iPv6CidrRange") => false,
        _ => return Err(abstract_type("ipRange")),
    };
    let type_name = if v4 { "iPv4CidrRange" } else { "iPv6CidrRange" };
    if let Some(fields) = range.as_object()
        && let Some(key) = fields
            .keys()
            .find(|k| !k.starts_with('@') && k.as_str() != "cidrAddress")
    {
        return Err(unknown_property(key, type_name));
    }
    let cidr = range["cidrAddress"]
        .as_str()
        .ok_or_else(|| wrong_type("cidrAddress", "Edm.String"))?;
    if !valid_cidr(cidr, v4) {
        // Extra sanity check; Graph rejects malformed ranges with 400 (text UNVERIFIED).
        return Err(ca_invalid(format!(
            "Invalid {type_name} cidrAddress '{cidr}'."
        )));
    }
    Ok(json!({ "@odata.type": odata_type, "cidrAddress": cidr }))
}

/// `address/prefix` with an address of the right family and a prefix within its width.
fn valid_cidr(cidr: &str, v4: bool) -> bool {
    let Some((address, prefix)) = cidr.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    if v4 {
        address.parse::<Ipv4Addr>().is_ok() && prefix <= 32
    } else {
        address.parse::<Ipv6Addr>().is_ok() && prefix <= 128
    }
}

/// ISO 3166-1 alpha-2 codes: two upper-case ASCII letters (§5.6).
fn read_countries(value: Option<&Value>) -> Result<Value, GraphError> {
    let Some(value) = value else {
        return Ok(json!([]));
    };
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type("countriesAndRegions", "Collection(Edm.String)"))?;
    for item in items {
        let code = item
            .as_str()
            .ok_or_else(|| wrong_type("countriesAndRegions", "Collection(Edm.String)"))?;
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ca_invalid(format!(
                "Invalid country or region code '{code}': use ISO 3166-1 alpha-2."
            )));
        }
    }
    Ok(value.clone())
}

/// Nullable enum; `clientIpAddress` when absent (Graph's default lookup, UNVERIFIED).
fn read_lookup_method(value: Option<&Value>) -> Result<Value, GraphError> {
    match value {
        None => Ok(json!("clientIpAddress")),
        Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(s)) if COUNTRY_LOOKUP.contains(&s.as_str()) => Ok(json!(s)),
        Some(Value::String(s)) => Err(GraphError::bad_request(format!(
            "The value '{s}' is not valid for the enum type 'microsoft.graph.countryLookupMethodType'."
        ))),
        Some(_) => Err(wrong_type(
            "countryLookupMethod",
            "microsoft.graph.countryLookupMethodType",
        )),
    }
}
