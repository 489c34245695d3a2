//! The request extractors of every handler: the verified caller ([`Authenticated`]), the
//! request id ([`CurrentRequestId`]), and bodies, queries and paths whose rejections are problem
//! documents naming the member at fault (axum's own answer in plain text): [`JsonBody`],
//! [`MergePatch`], [`QueryParams`], [`PathParams`].

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower_http::request_id::RequestId;
use url::form_urlencoded;

use super::AppState;
use super::problem::{ApiError, MERGE_PATCH};
use super::unique_keys::{DuplicateKey, reject_duplicate_keys};
use crate::auth::Caller;

pub const JSON: &str = "application/json";

/// A caller whose bearer token verified.
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(crate::auth::AuthError::Missing)?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthenticated("the Authorization header is not 'Bearer <token>'".into())
            })?;
        let caller = state.auth.verify(token).await?;
        Ok(Authenticated(caller))
    }
}

/// The service's `x-request-id` of the current request (set by the router's request-id layer),
/// for audit records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentRequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for CurrentRequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(CurrentRequestId(
            parts
                .extensions
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .map(str::to_owned),
        ))
    }
}

/// The request's `If-Match` as sent (`None` when absent or not text); which ETags it names, and
/// whether that is enough, is the use case's to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IfMatch(
            parts
                .headers
                .get(axum::http::header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

/// The body limit in force (`server.max_body_bytes`), put in the request's extensions by the
/// router's edge layer so that a 413 can say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

/// A JSON body (`Content-Type: application/json`) read as `T`. An empty body reads as `{}`
/// (and needs no `Content-Type`): the bodies taken this way are options whose members are all
/// optional.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let given = media_type(request.headers());
        if let Some(given) = &given
            && given != JSON
        {
            return Err(unsupported(JSON, Some(given)));
        }
        let body = read_body(request, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return parse(b"{}").map(JsonBody);
        }
        if given.is_none() {
            return Err(unsupported(JSON, None));
        }
        parse(&body).map(JsonBody)
    }
}

/// An RFC 7396 merge patch: `Content-Type: application/merge-patch+json`, a JSON document.
#[derive(Debug)]
pub struct MergePatch(pub Value);

impl<S: Send + Sync> FromRequest<S> for MergePatch {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let given = media_type(request.headers());
        if given.as_deref() != Some(MERGE_PATCH) {
            return Err(unsupported(MERGE_PATCH, given.as_deref()));
        }
        let body = read_body(request, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::MalformedJson {
                detail: "The body is empty; send a JSON merge patch (RFC 7396) of the fields to change, e.g. {\"authentication\": {\"methodsRequired\": 2}}.".into(),
            });
        }
        parse(&body).map(MergePatch)
    }
}

/// The query string read as `T`; a value that does not fit is a 400 naming the parameter.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(QueryParams)
            .map_err(|error| {
                let field = error
                    .path()
                    .iter()
                    .find_map(|segment| match segment {
                        serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                let reason = error.into_inner();
                let given = form_urlencoded::parse(query.as_bytes())
                    .find(|(name, _)| *name == field)
                    .map(|(_, value)| value.into_owned());
                let detail = match given {
                    _ if field.is_empty() => format!("The query is invalid: {reason}."),
                    Some(value) => format!("'{value}' is not a valid {field}: {reason}."),
                    None => format!("The query parameter {field} is invalid: {reason}."),
                };
                ApiError::BadRequest { detail, field }
            })
    }
}

/// The path parameters read as `T`; one that does not fit (say, `%FF` in a tenant) is a 400
/// naming it.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParams(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                use axum::extract::path::ErrorKind;
                let field = match error.kind() {
                    ErrorKind::InvalidUtf8InPathParam { key }
                    | ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::DeserializeError { key, .. } => key.clone(),
                    _ => String::new(),
                };
                Err(ApiError::BadRequest {
                    detail: format!("{}.", error.body_text()),
                    field,
                })
            }
            // The route has no such parameters: a fault of the service, not of the request.
            Err(other) => Err(ApiError::Internal(other.body_text())),
        }
    }
}

/// The media type of the body, lower-cased and without parameters, e.g. `application/json`.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    Some(
        text.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    )
}

fn unsupported(expected: &'static str, given: Option<&str>) -> ApiError {
    ApiError::UnsupportedMediaType {
        expected,
        given: given.map(str::to_owned),
    }
}

/// The whole body, within the router's body limit.
async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    let limit = request.extensions().get::<BodyLimit>().map(|l| l.0);
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge { limit }
            } else {
                ApiError::MalformedJson {
                    detail: format!("The body could not be read: {}.", rejection.body_text()),
                }
            }
        })
}

/// The body as `T`: not JSON at all is `malformedJson`; JSON that does not fit `T` is a
/// `badRequest` whose `field` is the JSON pointer of the member at fault.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // serde_json keeps the last of a repeated key silently; a body that says two things is
    // refused instead, naming the key.
    reject_duplicate_keys(body)?;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        // The path of an unknown member already ends with its name.
        let field = crate::ops::policy::merge_patch::to_pointer(error.path());
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::BadRequest {
                detail: if field.is_empty() {
                    format!("The body is invalid: {inner}.")
                } else {
                    format!("The body is invalid at {field}: {inner}.")
                },
                field,
            },
            _ => malformed(&inner),
        }
    })?;
    deserializer.end().map_err(|error| malformed(&error))?;
    Ok(value)
}

impl From<DuplicateKey> for ApiError {
    fn from(error: DuplicateKey) -> Self {
        ApiError::BadRequest {
            detail: error.to_string(),
            field: error.pointer,
        }
    }
}

fn malformed(error: &serde_json::Error) -> ApiError {
    let detail = if error.to_string().starts_with("recursion limit exceeded") {
        format!(
            "The body nests arrays and objects deeper than the 128 levels this service reads (line {}, column {}).",
            error.line(),
            error.column()
        )
    } else {
        format!("The body is not valid JSON: {error}.")
    };
    ApiError::MalformedJson { detail }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use serde::Deserialize;
    use tower::ServiceExt as _;
    use tower_http::request_id::{MakeRequestUuid, SetRequestIdLayer};

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Options {
        control: Option<Control>,
        trusted_locations: Option<Vec<String>>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase")]
    enum Control {
        Mfa,
        Block,
    }

    fn request(content_type: Option<&str>, body: &'static str) -> Request {
        let mut builder = Request::builder().method("PUT").uri("/x");
        if let Some(content_type) = content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        builder.body(Body::from(body)).expect("request")
    }

    async fn json(content_type: Option<&str>, body: &'static str) -> Result<Options, ApiError> {
        JsonBody::<Options>::from_request(request(content_type, body), &())
            .await
            .map(|JsonBody(options)| options)
    }

    #[tokio::test]
    async fn json_bodies_name_the_member_at_fault() {
        let unknown = json(Some(JSON), r#"{"grant": "block"}"#).await;
        assert!(
            matches!(&unknown, Err(ApiError::BadRequest { field, .. }) if field == "/grant"),
            "{unknown:?}"
        );
        let wrong = json(Some(JSON), r#"{"trustedLocations": ["a", 3]}"#).await;
        assert!(
            matches!(&wrong, Err(ApiError::BadRequest { field, .. }) if field == "/trustedLocations/1"),
            "{wrong:?}"
        );
        let control = json(Some(JSON), r#"{"control": "deny"}"#).await;
        assert!(
            matches!(&control, Err(ApiError::BadRequest { field, detail }) if field == "/control" && detail.contains("deny")),
            "{control:?}"
        );
        let root = json(Some(JSON), "[]").await;
        assert!(
            matches!(&root, Err(ApiError::BadRequest { field, .. }) if field.is_empty()),
            "{root:?}"
        );
    }

    #[tokio::test]
    async fn an_empty_json_body_is_the_defaults_even_without_a_content_type() {
        assert_eq!(json(None, "").await.expect("empty"), Options::default());
        assert_eq!(
            json(Some(JSON), "  \n").await.expect("blank"),
            Options::default()
        );
        let mfa = json(
            Some("Application/JSON; charset=utf-8"),
            r#"{"control":"mfa"}"#,
        )
        .await;
        assert_eq!(
            mfa.expect("parameters are ignored").control,
            Some(Control::Mfa)
        );
    }

    #[tokio::test]
    async fn not_json_is_malformed_and_says_where() {
        for body in ["{", r#"{"control": "mfa"} trailing"#, "{'control': 1}"] {
            let error = json(Some(JSON), body).await;
            assert!(
                matches!(&error, Err(ApiError::MalformedJson { detail }) if detail.contains("line 1")),
                "{body}: {error:?}"
            );
        }
    }

    #[tokio::test]
    async fn json_nested_deeper_than_the_parser_reads_is_malformed_not_a_crash() {
        let deep: &'static str =
            Box::leak(format!("{}{}", "[".repeat(200), "]".repeat(200)).into_boxed_str());
        let error = MergePatch::from_request(request(Some(MERGE_PATCH), deep), &())
            .await
            .expect_err("too deep");
        assert!(
            matches!(&error, ApiError::MalformedJson { detail } if detail.contains("128 levels")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_body_of_another_media_type_is_415_naming_the_expected_one() {
        let text = json(Some("text/plain"), r#"{"control":"mfa"}"#).await;
        assert!(
            matches!(&text, Err(ApiError::UnsupportedMediaType { expected: JSON, given: Some(g) }) if g == "text/plain"),
            "{text:?}"
        );
        let missing = json(None, r#"{"control":"mfa"}"#).await;
        assert!(
            matches!(
                &missing,
                Err(ApiError::UnsupportedMediaType { given: None, .. })
            ),
            "{missing:?}"
        );
        let patch = MergePatch::from_request(request(Some(JSON), "{}"), &()).await;
        assert!(
            matches!(
                &patch,
                Err(ApiError::UnsupportedMediaType {
                    expected: MERGE_PATCH,
                    ..
                })
            ),
            "{patch:?}"
        );
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_413_with_the_limit() {
        use axum::extract::DefaultBodyLimit;
        use axum::routing::put;
        use tower::ServiceExt as _;
        let app = tower::ServiceBuilder::new()
            .layer(axum::Extension(BodyLimit(64)))
            .layer(DefaultBodyLimit::max(64))
            .service(put(|JsonBody(_): JsonBody<Options>| async {}));
        let large = r#"{"trustedLocations": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}"#;
        let response = app
            .clone()
            .oneshot(request(Some(JSON), large))
            .await
            .expect("response");
        assert_eq!(response.status(), 413);
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("body");
        let problem: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(problem["code"], "bodyTooLarge");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("64 bytes")),
            "{problem}"
        );
        let small = app
            .oneshot(request(Some(JSON), r#"{"control":"mfa"}"#))
            .await
            .expect("response");
        assert_eq!(small.status(), 200);
    }

    #[tokio::test]
    async fn a_merge_patch_is_any_json_but_not_an_empty_body() {
        let MergePatch(value) =
            MergePatch::from_request(request(Some(MERGE_PATCH), r#"{"a": null}"#), &())
                .await
                .expect("patch");
        assert_eq!(value, serde_json::json!({"a": null}));
        let empty = MergePatch::from_request(request(Some(MERGE_PATCH), ""), &()).await;
        assert!(
            matches!(empty, Err(ApiError::MalformedJson { .. })),
            "{empty:?}"
        );
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Flags {
        #[serde(default)]
        dry_run: bool,
    }

    async fn query(uri: &str) -> Result<Flags, ApiError> {
        let request = Request::builder()
            .uri(uri)
            .body(Body::empty())
            .expect("request");
        let (mut parts, _) = request.into_parts();
        QueryParams::<Flags>::from_request_parts(&mut parts, &())
            .await
            .map(|QueryParams(flags)| flags)
    }

    #[tokio::test]
    async fn a_bad_query_value_is_400_naming_the_parameter_and_the_value() {
        assert!(query("/x?dryRun=true").await.expect("true").dry_run);
        assert!(!query("/x").await.expect("default").dry_run);
        let error = query("/x?dryRun=maybe").await;
        assert!(
            matches!(&error, Err(ApiError::BadRequest { field, detail }) if field == "dryRun" && detail.contains("'maybe'")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn the_request_id_is_the_one_the_router_sets_or_passes_on() {
        let app = tower::ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .service(get(|CurrentRequestId(id): CurrentRequestId| async move {
                id.unwrap_or_default()
            }));
        let body = |response: axum::response::Response| async move {
            let bytes = axum::body::to_bytes(response.into_body(), 1024)
                .await
                .expect("body");
            String::from_utf8(bytes.to_vec()).expect("utf-8")
        };
        let response = app
            .clone()
            .oneshot(Request::new(Body::empty()))
            .await
            .expect("response");
        let generated = body(response).await;
        assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
        let given = axum::http::Request::builder()
            .header("x-request-id", "caller-chosen-1")
            .body(Body::empty())
            .expect("request");
        let response = app.oneshot(given).await.expect("response");
        assert_eq!(body(response).await, "caller-chosen-1");
    }
}
