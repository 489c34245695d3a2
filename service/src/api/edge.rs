//! The layers between the connection and the routes: request size limits (414, 431, 413),
//! a problem for any error response that lacks one, and a 500 problem for a panic.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

use super::extract::BodyLimit;
use super::problem::{self, ApiError};
use crate::config::ServerConfig;

/// What one request may carry (`[server]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HeadLimits {
    max_uri_bytes: usize,
    max_header_bytes: usize,
    max_body_bytes: usize,
}

impl From<&ServerConfig> for HeadLimits {
    fn from(server: &ServerConfig) -> Self {
        HeadLimits {
            max_uri_bytes: server.max_uri_bytes,
            max_header_bytes: server.max_header_bytes,
            max_body_bytes: server.max_body_bytes,
        }
    }
}

/// `app` with the edge layers for `server`'s limits, innermost first: the body limit; the
/// problem for any bare error response; the URI and header limits, checked before anything
/// reads the request; a 500 problem for a panic, so no internals leave the service.
pub fn layers<S: Clone + Send + Sync + 'static>(
    app: Router<S>,
    server: &ServerConfig,
) -> Router<S> {
    let limits = HeadLimits::from(server);
    app.layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn(problems_for_bare_errors))
        .layer(middleware::from_fn_with_state(limits, check_head))
        .layer(CatchPanicLayer::custom(|_panic| {
            ApiError::Internal("a request handler panicked".into()).into_response()
        }))
}

/// 414 and 431 problems for request heads over the limits (hyper buffers a little more, so
/// these answers are reached); passes the body limit on for the extractors' 413.
async fn check_head(
    State(limits): State<HeadLimits>,
    mut request: Request,
    next: Next,
) -> Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if length > limits.max_uri_bytes {
        return ApiError::UriTooLong {
            length,
            limit: limits.max_uri_bytes,
        }
        .into_response();
    }
    let (total, largest) = header_bytes(request.headers());
    if total > limits.max_header_bytes {
        return ApiError::HeadersTooLarge {
            total,
            limit: limits.max_header_bytes,
            largest,
        }
        .into_response();
    }
    request
        .extensions_mut()
        .insert(BodyLimit(limits.max_body_bytes));
    next.run(request).await
}

/// The headers' size as HTTP/1 sends them (`name: value` and a line break each), and the name
/// of the largest.
fn header_bytes(headers: &HeaderMap) -> (usize, String) {
    let mut total = 0;
    let mut largest = (0, String::new());
    for (name, value) in headers {
        let size = name.as_str().len() + value.len() + 4;
        total += size;
        if size > largest.0 {
            largest = (size, name.as_str().to_owned());
        }
    }
    (total, largest.1)
}

/// Makes a problem of an error response that has no body or a plain-text one (a rejection of
/// some axum extractor the handlers do not wrap), keeping its status and headers.
async fn problems_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let bare = response
        .headers()
        .get(CONTENT_TYPE)
        .is_none_or(|value| value.as_bytes().starts_with(b"text/plain"));
    if status < StatusCode::BAD_REQUEST || !bare {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let mut problem = problem::problem_for_bare_error(status, &text);
    let own: Vec<_> = problem.headers().keys().cloned().collect();
    for (name, value) in &parts.headers {
        if name != CONTENT_LENGTH && !own.contains(name) {
            problem.headers_mut().append(name, value.clone());
        }
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::header::ALLOW;
    use axum::routing::get;
    use serde_json::Value;
    use tower::ServiceExt as _;

    fn limits() -> ServerConfig {
        ServerConfig {
            max_uri_bytes: 64,
            max_header_bytes: 256,
            max_body_bytes: 1024,
            ..ServerConfig::default()
        }
    }

    async fn problem_of(response: Response) -> Value {
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/problem+json",
            "{response:?}"
        );
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .expect("body");
        let problem: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(problem["status"], status, "{problem}");
        for member in ["type", "title", "detail", "code"] {
            assert!(problem[member].is_string(), "{member}: {problem}");
        }
        problem
    }

    fn get_request(uri: &str) -> Request {
        Request::builder()
            .uri(uri)
            .body(Body::empty())
            .expect("request")
    }

    #[tokio::test]
    async fn a_panic_is_a_500_problem_without_the_panic_message() {
        async fn boom() -> &'static str {
            panic!("secret internals: token=abc")
        }
        let app = layers(Router::new().fallback(boom), &limits());
        let response = app.oneshot(get_request("/")).await.expect("response");
        assert_eq!(response.status(), 500);
        let problem = problem_of(response).await;
        assert_eq!(problem["code"], "internal");
        assert!(!problem.to_string().contains("secret"), "{problem}");
    }

    #[tokio::test]
    async fn a_long_uri_is_414_and_large_headers_are_431_naming_the_largest() {
        let app = layers(Router::new().fallback(|| async { "ok" }), &limits());
        let ok = app
            .clone()
            .oneshot(get_request("/short?a=1"))
            .await
            .expect("ok");
        assert_eq!(ok.status(), 200);

        let long = format!("/x?q={}", "a".repeat(64));
        let response = app.clone().oneshot(get_request(&long)).await.expect("414");
        assert_eq!(response.status(), 414);
        assert_eq!(problem_of(response).await["code"], "uriTooLong");

        let request = Request::builder()
            .uri("/")
            .header("x-small", "1")
            .header("x-large", "b".repeat(300))
            .body(Body::empty())
            .expect("request");
        let response = app.oneshot(request).await.expect("431");
        assert_eq!(response.status(), 431);
        let problem = problem_of(response).await;
        assert_eq!(problem["code"], "headersTooLarge");
        assert_eq!(problem["field"], "x-large");
    }

    #[tokio::test]
    async fn a_bare_405_becomes_a_problem_and_keeps_its_allow_header() {
        let app = layers(
            Router::new().fallback_service(get(|| async { "ok" })),
            &limits(),
        );
        let request = Request::builder()
            .method("DELETE")
            .uri("/")
            .body(Body::empty())
            .expect("request");
        let response = app.oneshot(request).await.expect("405");
        assert_eq!(response.status(), 405);
        assert!(
            response.headers()[ALLOW]
                .to_str()
                .is_ok_and(|allow| allow.contains("GET")),
            "{response:?}"
        );
        assert_eq!(problem_of(response).await["code"], "methodNotAllowed");
    }

    #[tokio::test]
    async fn a_plain_text_error_keeps_its_text_and_a_json_one_is_left_alone() {
        let text = layers(
            Router::new().fallback(|| async { (StatusCode::BAD_REQUEST, "Invalid URL: nope") }),
            &limits(),
        );
        let problem = problem_of(text.oneshot(get_request("/")).await.expect("400")).await;
        assert_eq!(problem["detail"], "Invalid URL: nope");
        assert_eq!(problem["code"], "badRequest");

        let json = layers(
            Router::new().fallback(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(serde_json::json!({"status": "notReady"})),
                )
            }),
            &limits(),
        );
        let response = json.oneshot(get_request("/")).await.expect("503");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    }
}
