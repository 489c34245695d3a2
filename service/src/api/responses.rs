//! The error responses routes share, declared once as OpenAPI response components
//! (`#/components/responses/...`) and referenced through the sets below, so that every route
//! documents the same problems the same way and a new route gets them by naming its sets:
//! `responses((status = 200, ...), CallerErrors, TenantErrors, BodyErrors)`.

use std::collections::BTreeMap;

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, Ref, RefOr, Response, ResponseBuilder, Schema,
};
use utoipa::{IntoResponses, Modify};

/// One shared response: its component name, status, description and headers.
struct Shared {
    name: &'static str,
    status: u16,
    description: &'static str,
    /// Header name, type (`string` or `integer`), description.
    headers: &'static [(&'static str, &'static str, &'static str)],
}

const RETRY_AFTER: (&str, &str, &str) = (
    "Retry-After",
    "integer",
    "Seconds to wait before trying again, where a wait is known",
);

const BAD_REQUEST: Shared = Shared {
    name: "BadRequest",
    status: 400,
    description: "The request is invalid: a query or path parameter or a body member (`badRequest`, `field` names it), or a body that is not JSON or nests too deep (`malformedJson`)",
    headers: &[],
};
const UNAUTHORIZED: Shared = Shared {
    name: "Unauthorized",
    status: 401,
    description: "No valid bearer token (`unauthenticated`)",
    headers: &[(
        "WWW-Authenticate",
        "string",
        "`Bearer` with the reason in `error_description`",
    )],
};
const FORBIDDEN: Shared = Shared {
    name: "Forbidden",
    status: 403,
    description: "The token lacks the role the operation needs (SSPR.Read, SSPR.ReadWrite or SSPR.Admin) or access to the tenant (`forbidden`), or the tenant lacks the licence the feature needs (`licenseRequired`, with `tenant`)",
    headers: &[],
};
const NOT_FOUND: Shared = Shared {
    name: "NotFound",
    status: 404,
    description: "No managed tenant has this id or domain (`unknownTenant`)",
    headers: &[],
};
const PAYLOAD_TOO_LARGE: Shared = Shared {
    name: "PayloadTooLarge",
    status: 413,
    description: "The body is larger than the service accepts (`bodyTooLarge`; server.max_body_bytes)",
    headers: &[],
};
const UNSUPPORTED_MEDIA_TYPE: Shared = Shared {
    name: "UnsupportedMediaType",
    status: 415,
    description: "The body's Content-Type is not the one the route takes (`unsupportedMediaType`, `field: content-type`); the detail and `Accept` (`Accept-Patch` for PATCH) name it",
    headers: &[],
};
const INTERNAL: Shared = Shared {
    name: "InternalError",
    status: 500,
    description: "The service itself failed (`internal`) or its store did (`store`); the log has the details",
    headers: &[],
};
const BAD_GATEWAY: Shared = Shared {
    name: "BadGateway",
    status: 502,
    description: "Microsoft Graph, the portal back end or the token endpoint refused or failed (`upstream`, `upstreamToken`, `portal`, `portalToken`, with `upstreamStatus`, `upstreamCode`, `upstreamRequestId`), or a change failed upstream (`changeFailed`: `outcome` and `steps` or `attempts` say what was undone)",
    headers: &[],
};
const SERVICE_UNAVAILABLE: Shared = Shared {
    name: "ServiceUnavailable",
    status: 503,
    description: "Microsoft Graph or the token endpoint is unreachable (`upstreamUnreachable`) or keeps throttling (`upstreamThrottled`), the token issuer's keys cannot be fetched (`identityProviderUnavailable`), or the request took longer than its kind of route may (`timeout`; a write may still complete: the audit trail and a fresh read tell)",
    headers: &[RETRY_AFTER],
};

const ALL: [&Shared; 9] = [
    &BAD_REQUEST,
    &UNAUTHORIZED,
    &FORBIDDEN,
    &NOT_FOUND,
    &PAYLOAD_TOO_LARGE,
    &UNSUPPORTED_MEDIA_TYPE,
    &INTERNAL,
    &BAD_GATEWAY,
    &SERVICE_UNAVAILABLE,
];

fn component(shared: &Shared) -> Response {
    let mut response = ResponseBuilder::new()
        .description(shared.description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        );
    for (name, kind, description) in shared.headers {
        let kind = if *kind == "integer" {
            Type::Integer
        } else {
            Type::String
        };
        let schema: Schema = ObjectBuilder::new().schema_type(kind).into();
        response = response.header(
            *name,
            HeaderBuilder::new()
                .schema(Some(schema))
                .description(Some(*description))
                .build(),
        );
    }
    response.build()
}

fn references(set: &[&Shared]) -> BTreeMap<String, RefOr<Response>> {
    set.iter()
        .map(|shared| {
            (
                shared.status.to_string(),
                RefOr::Ref(Ref::from_response_name(shared.name)),
            )
        })
        .collect()
}

/// Adds the shared responses to the document's components.
pub struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for shared in ALL {
            components
                .responses
                .insert(shared.name.to_owned(), RefOr::T(component(shared)));
        }
    }
}

/// 401, 403, 500 and 503: every route that takes a token (the token issuer, a timeout or the
/// service itself can fail any of them).
pub struct CallerErrors;

impl IntoResponses for CallerErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&UNAUTHORIZED, &FORBIDDEN, &INTERNAL, &SERVICE_UNAVAILABLE])
    }
}

/// 400 (the tenant path parameter), 404 and 502: every route on one tenant that reads Graph.
pub struct TenantErrors;

impl IntoResponses for TenantErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&BAD_REQUEST, &NOT_FOUND, &BAD_GATEWAY])
    }
}

/// 400 (the tenant path parameter) and 404: routes on one tenant without a Graph call.
pub struct TenantPathErrors;

impl IntoResponses for TenantPathErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&BAD_REQUEST, &NOT_FOUND])
    }
}

/// 400, 413 and 415: every route that takes a body.
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&BAD_REQUEST, &PAYLOAD_TOO_LARGE, &UNSUPPORTED_MEDIA_TYPE])
    }
}

/// 400: every route that takes query parameters.
pub struct QueryErrors;

impl IntoResponses for QueryErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&BAD_REQUEST])
    }
}

/// 404: routes that name tenants in their query, without a Graph call of their own.
pub struct UnknownTenant;

impl IntoResponses for UnknownTenant {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[&NOT_FOUND])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_response_of_every_operation_is_a_problem_document() {
        let document = serde_json::to_value(crate::api::openapi()).expect("json");
        let components = &document["components"]["responses"];
        for shared in ALL {
            let component = &components[shared.name];
            assert_eq!(
                component["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{}",
                shared.name
            );
        }
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                for (status, response) in operation["responses"].as_object().expect("responses") {
                    let code: u16 = status.parse().expect("numeric status");
                    if code < 400 || path == "/readyz" {
                        continue;
                    }
                    let resolved = match response["$ref"].as_str() {
                        Some(reference) => {
                            let name = reference.trim_start_matches("#/components/responses/");
                            &components[name]
                        }
                        None => response,
                    };
                    assert_eq!(
                        resolved["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 40, "only {checked} error responses documented");
    }

    #[test]
    fn routes_with_a_token_document_the_caller_errors_by_reference() {
        let document = serde_json::to_value(crate::api::openapi()).expect("json");
        for (path, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                if operation.get("security").is_none() {
                    continue;
                }
                for status in ["401", "403", "500", "503"] {
                    assert!(
                        operation["responses"][status]["$ref"]
                            .as_str()
                            .is_some_and(|r| r.starts_with("#/components/responses/")),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}
