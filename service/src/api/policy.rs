use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::MissingJsonContentType;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::audit::{CurrentRequestId, with_audit_record_id};
use super::caching::{CachedBody, requested_max_age};
use super::problem::{ApiError, Problem};
use super::{AppState, Authenticated};
use crate::domain::policy::PolicyDocument;
use crate::domain::unique_keys::{DuplicateKey, reject_duplicate_keys};
use crate::ops;
use crate::ops::policy::{DryRun, PatchOutcome, PatchRequest, PolicyRead};

/// The response header that carries Microsoft Graph's `request-id`s, for support tickets.
pub const GRAPH_REQUEST_ID: &str = "graph-request-id";

/// The tenant's SSPR policy document; every group says where its values came from.
///
/// Cached per tenant: a document younger than the request's `Cache-Control: max-age` (default:
/// the service's configured age, advertised in the answer's `Cache-Control`) is served from
/// cache with its `Age`; `no-cache` or `max-age=0` reads Graph and the portal now. Concurrent
/// requests for one tenant share one read. A change made through this service is seen at once.
/// `If-None-Match` with the current ETag answers 304.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/sspr/policy", operation_id = "getPolicy", tag = "policy", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"),
        ("Cache-Control" = Option<String>, Header, description = "`max-age=N`: accept a document up to N seconds old; `no-cache`: read upstream now"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a document the caller holds")),
    responses(
        (status = 200, description = "The policy document", body = PolicyDocument,
            headers(
                ("ETag" = String, description = "Strong validator of the document without its read times; send it as If-Match to change the policy"),
                ("Cache-Control" = String, description = "`private, max-age=<configured seconds>`"),
                ("Age" = u64, description = "Seconds since the upstream read began"),
                ("graph-request-id" = String, description = "Microsoft Graph request-ids of the reads, comma-separated"))),
        (status = 304, description = "The document still has the ETag given in If-None-Match"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No SSPR role, or no access to this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No managed tenant has this id or domain", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Microsoft Graph or the token endpoint refused", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Microsoft Graph or the token endpoint is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let read = ops::policy::read(
        &state.policies,
        &state.tenants,
        &state.graph,
        &caller,
        &tenant,
        requested_max_age(&headers),
    )
    .await?;
    let cached = CachedBody {
        etag: &read.value.etag,
        age: read.age,
        max_age: state.policies.cache_max_age(),
    };
    let mut response = cached.respond(&headers, Json(&read.value.document));
    if let Ok(value) = HeaderValue::from_str(&read.value.request_ids.join(", ")) {
        response.headers_mut().insert(GRAPH_REQUEST_ID, value);
    }
    Ok(response)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct PatchParams {
    /// Plan only: return the changes and the upstream calls, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Changes the tenant's SSPR policy with a JSON merge patch (RFC 7396) over the document's
/// editable fields. Needs `If-Match` with the ETag read (`*` is refused). Graph calls go first,
/// then the portal; if a step fails the completed ones are undone. Every attempt is audited.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}/sspr/policy", operation_id = "patchPolicy", tag = "policy", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"),
        ("If-Match" = String, Header, description = "The ETag of the policy the change is based on"),
        PatchParams),
    request_body(content = Object, content_type = "application/merge-patch+json",
        description = "Merge patch, e.g. {\"authentication\":{\"methodsRequired\":2}}"),
    responses(
        (status = 200, description = "Applied: the policy as read back (with a new ETag), or with dryRun the plan", body = PolicyDocument,
            headers(("ETag" = String, description = "Version of the settings after the change"),
                ("audit-record-id" = i64, description = "The id of the change's audit record in GET /v1/audit (outcome succeeded, or noChange when the patch changes nothing); absent for dry runs"))),
        (status = 400, description = "The body is not JSON, or repeats a key within an object (`field` is the repeated key's JSON pointer)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No SSPR.ReadWrite role, or no access to this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No managed tenant has this id or domain", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The policy changed since the ETag was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The patch breaks a rule (`violations` with JSON pointers), names an unknown field, or a field whose source is unavailable", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing, or is `*` (send the ETag you read)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "An upstream step failed; `outcome` and `steps` say what was undone", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Microsoft Graph, the portal or the token endpoint is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    CurrentRequestId(request_id): CurrentRequestId,
    Path(tenant): Path<String>,
    Query(params): Query<PatchParams>,
    headers: HeaderMap,
    UniqueJson(body): UniqueJson,
) -> Result<Response, ApiError> {
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let outcome = ops::run_to_completion(async move {
        let request = PatchRequest {
            tenant_key: &tenant,
            patch: &body,
            if_match: if_match.as_deref(),
            dry_run: params.dry_run,
            request_id,
        };
        ops::policy::patch(
            &state.policies,
            &state.tenants,
            &state.graph,
            &state.store,
            &caller,
            request,
        )
        .await
    })
    .await?;
    match outcome {
        PatchOutcome::DryRun(plan) => Ok(Json::<DryRun>(plan).into_response()),
        PatchOutcome::Applied {
            read,
            audit_record_id,
        } => Ok(with_audit_record_id(
            document_response(*read),
            audit_record_id,
        )),
    }
}

fn document_response(read: PolicyRead) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&read.request_ids.join(", ")) {
        headers.insert(GRAPH_REQUEST_ID, value);
    }
    if let Ok(value) = HeaderValue::from_str(&read.etag) {
        headers.insert(header::ETAG, value);
    }
    (headers, Json(read.document)).into_response()
}

/// A JSON body as axum's `Json` takes it (a JSON `Content-Type`, valid JSON, the same
/// rejections), whose objects repeat no key: a repeat is a 400 naming its pointer.
pub struct UniqueJson(pub Value);

impl<S: Send + Sync> FromRequest<S> for UniqueJson {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        if !json_content_type(request.headers()) {
            return Err(MissingJsonContentType::default().into_response());
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        reject_duplicate_keys(&bytes).map_err(|e| ApiError::from(e).into_response())?;
        let Json(value) = Json::<Value>::from_bytes(&bytes).map_err(IntoResponse::into_response)?;
        Ok(UniqueJson(value))
    }
}

/// `application/json` or any `application/…+json`, as axum's `Json` accepts.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"))
}

impl From<DuplicateKey> for ApiError {
    fn from(error: DuplicateKey) -> Self {
        ApiError::BadRequest {
            detail: error.to_string(),
            field: error.pointer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn json_content_types_are_those_axum_accepts() {
        for good in [
            "application/json",
            "application/merge-patch+json",
            "Application/JSON; charset=utf-8",
        ] {
            assert!(json_content_type(&with_type(good)), "{good}");
        }
        for bad in ["text/json", "application/xml", "application/jsonx", ""] {
            assert!(!json_content_type(&with_type(bad)), "{bad}");
        }
        assert!(!json_content_type(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn a_repeated_key_is_a_400_naming_it_and_other_bodies_are_as_json_takes_them() {
        let request = |content_type: &str, body: &'static str| {
            Request::builder()
                .header(header::CONTENT_TYPE, content_type)
                .body(axum::body::Body::from(body))
                .expect("request")
        };
        let status = |result: Result<UniqueJson, Response>| match result {
            Ok(_) => 200,
            Err(response) => response.status().as_u16(),
        };
        let repeated = UniqueJson::from_request(
            request(
                "application/merge-patch+json",
                r#"{"authentication": {"methodsRequired": 1, "methodsRequired": 2}}"#,
            ),
            &(),
        )
        .await;
        let Err(response) = repeated else {
            panic!("a repeated key must be refused");
        };
        assert_eq!(response.status(), 400);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("body");
        let problem: Value = serde_json::from_slice(&body).expect("a problem document");
        assert_eq!(
            problem["field"], "/authentication/methodsRequired",
            "{problem}"
        );

        let ok = UniqueJson::from_request(
            request(
                "application/merge-patch+json",
                r#"{"a": {"b": 1}, "c": {"b": 2}}"#,
            ),
            &(),
        )
        .await;
        assert!(matches!(&ok, Ok(UniqueJson(v)) if v["c"]["b"] == 2));
        assert_eq!(
            status(UniqueJson::from_request(request("text/plain", "{}"), &()).await),
            415
        );
        assert_eq!(
            status(UniqueJson::from_request(request("application/json", "{"), &()).await),
            400
        );
    }
}
