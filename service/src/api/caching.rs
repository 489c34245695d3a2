//! HTTP caching of cached reads (policy documents, registration summaries): the caller's
//! `Cache-Control` decides how old an answer it accepts, `If-None-Match` gets a 304, and every
//! answer says its `ETag`, `Cache-Control` and `Age`.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::ops::{EtagComparison, etag_matches};

/// The freshness the caller asked for with `Cache-Control`: `no-cache` (or `no-store`, or
/// `max-age=0`) forces an upstream read, `max-age=N` accepts an answer up to N seconds old;
/// `None` leaves it to the service's configured age.
pub fn requested_max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut max_age = None;
    for directive in headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
    {
        if directive.eq_ignore_ascii_case("no-cache") || directive.eq_ignore_ascii_case("no-store")
        {
            return Some(Duration::ZERO);
        }
        if let Some((name, value)) = directive.split_once('=')
            && name.trim().eq_ignore_ascii_case("max-age")
            && let Ok(seconds) = value.trim().trim_matches('"').parse::<u64>()
        {
            max_age = Some(Duration::from_secs(seconds));
        }
    }
    max_age
}

/// `If-None-Match` names `current` (or is `*`); weak comparison, as RFC 9110 §13.1.2 says.
fn none_match_fails(headers: &HeaderMap, current: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| etag_matches(v, current, EtagComparison::Weak))
}

/// What a cached read answers with.
pub struct CachedBody<'a> {
    pub etag: &'a str,
    /// Time since the upstream read began.
    pub age: Duration,
    /// The age the service serves by default, advertised as `max-age`.
    pub max_age: Duration,
}

impl CachedBody<'_> {
    /// 200 with `body`, or 304 when the request's `If-None-Match` names the ETag; both with
    /// `ETag`, `Cache-Control: private, max-age=…` and `Age`.
    pub fn respond(&self, request: &HeaderMap, body: impl IntoResponse) -> Response {
        let mut response = if none_match_fails(request, self.etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            body.into_response()
        };
        let out = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(self.etag) {
            out.insert(header::ETAG, value);
        }
        if let Ok(value) =
            HeaderValue::from_str(&format!("private, max-age={}", self.max_age.as_secs()))
        {
            out.insert(header::CACHE_CONTROL, value);
        }
        out.insert(header::AGE, HeaderValue::from(self.age.as_secs()));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).expect("value"));
        }
        map
    }

    #[test]
    fn cache_control_decides_the_accepted_age() {
        assert_eq!(requested_max_age(&HeaderMap::new()), None);
        assert_eq!(
            requested_max_age(&headers(&[(header::CACHE_CONTROL, "max-age=30")])),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            requested_max_age(&headers(&[(header::CACHE_CONTROL, "max-age=30, no-cache")])),
            Some(Duration::ZERO)
        );
        assert_eq!(
            requested_max_age(&headers(&[(header::CACHE_CONTROL, "max-age=0")])),
            Some(Duration::ZERO)
        );
        assert_eq!(
            requested_max_age(&headers(&[(
                header::CACHE_CONTROL,
                "private, max-age=\"30\""
            )])),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            requested_max_age(&headers(&[(header::CACHE_CONTROL, "max-age=soon")])),
            None
        );
    }

    #[test]
    fn if_none_match_with_the_etag_answers_304_with_the_validators() {
        let body = CachedBody {
            etag: "\"abc\"",
            age: Duration::from_secs(7),
            max_age: Duration::from_secs(60),
        };
        let matched = body.respond(
            &headers(&[(header::IF_NONE_MATCH, "\"x\", W/\"abc\"")]),
            "{}",
        );
        assert_eq!(matched.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(matched.headers()[header::ETAG], "\"abc\"");
        assert_eq!(matched.headers()[header::AGE], "7");
        assert_eq!(
            matched.headers()[header::CACHE_CONTROL],
            "private, max-age=60"
        );
        let other = body.respond(&headers(&[(header::IF_NONE_MATCH, "\"x\"")]), "{}");
        assert_eq!(other.status(), StatusCode::OK);
    }
}
