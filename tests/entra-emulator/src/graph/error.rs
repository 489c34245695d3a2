//! Graph's error envelope and correlation ids.

use axum::{
    Json,
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use crate::calls::graph_inner_date;

/// Correlation ids of one Graph request: they go into the headers and every error body.
pub(crate) struct RequestIds {
    pub request_id: String,
    pub client_request_id: String,
}

impl RequestIds {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Self {
            request_id: uuid::Uuid::new_v4().to_string(),
            client_request_id,
        }
    }
}

/// A Graph error response: `{"error":{"code","message","innerError":{…}}}` plus headers.
#[derive(Debug)]
pub(crate) struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Extra members of `innerError` (throttling puts `code`, `status`, `message` there).
    pub inner: Map<String, Value>,
    pub headers: Vec<(HeaderName, String)>,
}

impl GraphError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            inner: Map::new(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub(crate) fn forbidden(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub(crate) fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// Graph's answer to a path segment it cannot resolve.
    pub(crate) fn segment_not_found(segment: &str) -> Self {
        Self::bad_request(format!("Resource not found for the segment '{segment}'."))
    }

    pub(crate) fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn with_inner(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.inner.insert(key.to_owned(), value.into());
        self
    }

    pub(crate) fn into_response(self, ids: &RequestIds) -> Response {
        let mut inner = self.inner;
        inner.insert("date".into(), json!(graph_inner_date()));
        inner.insert("request-id".into(), json!(ids.request_id));
        inner.insert("client-request-id".into(), json!(ids.client_request_id));
        let body = json!({
            "error": { "code": self.code, "message": self.message, "innerError": inner }
        });
        let mut response = (self.status, Json(body)).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }

    pub(crate) fn www_authenticate(self, value: String) -> Self {
        self.with_header(header::WWW_AUTHENTICATE, value)
    }
}
