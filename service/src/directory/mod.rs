//! Adapters to the directories the service manages: Microsoft Graph today, the portal back end later.

pub mod apply;
pub mod budget;
pub mod conditional_access;
pub mod credentials;
pub mod discovery;
pub mod graph;
pub mod inference;
pub mod intune;
pub mod partner;
pub mod permissions;
pub mod policy_calls;
pub mod portal;
pub mod registrations;
mod retry;
pub mod tenants;
pub mod write_lock;

/// What can go wrong talking to a tenant's directory, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Nothing answered: connection refused, DNS, TLS, timeout.
    #[error("{what} is unreachable: {detail}")]
    Unreachable { what: String, detail: String },
    /// The token endpoint refused to issue a Graph token for the tenant.
    #[error("no Microsoft Graph token for tenant {tenant_id}: {detail}")]
    Token { tenant_id: String, detail: String },
    /// Graph answered with an error.
    #[error("Microsoft Graph answered {status} {code}: {message}")]
    Upstream {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// Graph kept answering 429 for the tenant after every retry, or asked for a longer wait
    /// than the service waits out: the request can be made again after `retry_after`.
    #[error(
        "Microsoft Graph is throttling tenant {tenant_id} ({bucket} requests); retry after {} s",
        retry_after.as_secs_f64().ceil()
    )]
    Throttled {
        tenant_id: String,
        bucket: &'static str,
        retry_after: std::time::Duration,
        request_id: Option<String>,
    },
    /// Too many of the tenant's requests are already waiting for Graph's budget
    /// (`graph.limits.max_queue_per_tenant`): this one was not queued.
    #[error(
        "too many requests for tenant {tenant_id} are waiting for Microsoft Graph; retry after {} s",
        retry_after.as_secs_f64().ceil().max(1.0)
    )]
    Busy {
        tenant_id: String,
        retry_after: std::time::Duration,
    },
    /// The token endpoint refused the delegated administrator's refresh token for the portal
    /// back end; `detail` says what the operator must do.
    #[error("no portal back-end token for tenant {tenant_id}: {detail}")]
    PortalToken { tenant_id: String, detail: String },
    /// The portal back end answered with an error (`{"errorCode","message"}`).
    #[error("the Entra portal back end answered {status} {code}: {message}")]
    Portal {
        status: u16,
        code: String,
        message: String,
        correlation_id: Option<String>,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

/// What a failed directory call means for the request that needed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// Nothing answered, Graph is throttling the tenant, or too many of its requests wait: the
    /// same request may succeed later (503, with `Retry-After` where a wait is known).
    Unavailable,
    /// The directory refused what was sent (an answer 400 to 499 but 429): when what was sent
    /// is the caller's content (a policy to write), the caller's fault; otherwise the service's
    /// or its permissions' (502).
    Refused,
    /// The directory failed, or would not sign the service in (502).
    Failed,
    /// A fault of this service itself (500).
    Internal,
}

impl UpstreamFailure {
    /// The status the service answers with when the failure is not the caller's content.
    pub fn status(self) -> reqwest::StatusCode {
        match self {
            UpstreamFailure::Unavailable => reqwest::StatusCode::SERVICE_UNAVAILABLE,
            UpstreamFailure::Refused | UpstreamFailure::Failed => reqwest::StatusCode::BAD_GATEWAY,
            UpstreamFailure::Internal => reqwest::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// What the directory answered, when it answered with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamAnswer {
    pub status: u16,
    /// Graph's or the portal's error code; none for throttling.
    pub code: Option<String>,
    /// Graph's `request-id` or the portal's correlation id.
    pub request_id: Option<String>,
}

/// Graph's answer on the registration report for a tenant without Entra ID P1/P2
/// (graph-api.md §4.1).
pub const NON_PREMIUM: &str = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

impl DirectoryError {
    /// True when this is Graph refusing a feature for want of an Entra ID P1/P2 licence.
    pub fn is_licence_refusal(&self) -> bool {
        matches!(self, DirectoryError::Upstream { status: 403, code, .. } if code == NON_PREMIUM)
    }

    /// What the failure means for the request (see [`UpstreamFailure`]).
    pub fn kind(&self) -> UpstreamFailure {
        match self {
            DirectoryError::Unreachable { .. }
            | DirectoryError::Throttled { .. }
            | DirectoryError::Busy { .. } => UpstreamFailure::Unavailable,
            DirectoryError::Upstream { status, .. } | DirectoryError::Portal { status, .. } if matches!(status, 400..=428 | 430..=499) => {
                UpstreamFailure::Refused
            }
            DirectoryError::Token { .. }
            | DirectoryError::Upstream { .. }
            | DirectoryError::PortalToken { .. }
            | DirectoryError::Portal { .. } => UpstreamFailure::Failed,
            DirectoryError::Internal(_) => UpstreamFailure::Internal,
        }
    }

    /// The problem type's slug of the failure, e.g. `upstream-throttled`.
    pub fn slug(&self) -> &'static str {
        match self {
            DirectoryError::Unreachable { .. } => "upstream-unreachable",
            DirectoryError::Token { .. } => "upstream-token",
            DirectoryError::Upstream { .. } => "upstream",
            DirectoryError::Throttled { .. } => "upstream-throttled",
            DirectoryError::Busy { .. } => "tenant-busy",
            DirectoryError::PortalToken { .. } => "portal-token",
            DirectoryError::Portal { .. } => "portal",
            DirectoryError::Internal(_) => "internal",
        }
    }

    /// How long to wait before the same request may succeed, when the directory said so or
    /// the tenant's queue knows.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            DirectoryError::Throttled { retry_after, .. }
            | DirectoryError::Busy { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// What the directory answered, when it answered.
    pub fn upstream_answer(&self) -> Option<UpstreamAnswer> {
        match self {
            DirectoryError::Upstream {
                status,
                code,
                request_id,
                ..
            } => Some(UpstreamAnswer {
                status: *status,
                code: Some(code.clone()),
                request_id: request_id.clone(),
            }),
            DirectoryError::Throttled { request_id, .. } => Some(UpstreamAnswer {
                status: 429,
                code: None,
                request_id: request_id.clone(),
            }),
            DirectoryError::Portal {
                status,
                code,
                correlation_id,
                ..
            } => Some(UpstreamAnswer {
                status: *status,
                code: Some(code.clone()),
                request_id: correlation_id.clone(),
            }),
            _ => None,
        }
    }

    /// Graph's `request-id` of the failed call, when Graph answered.
    pub fn request_id(&self) -> Option<String> {
        match self {
            DirectoryError::Upstream { request_id, .. }
            | DirectoryError::Throttled { request_id, .. } => request_id.clone(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn graph(status: u16) -> DirectoryError {
        DirectoryError::Upstream {
            status,
            code: "code".into(),
            message: "message".into(),
            request_id: Some("graph-request".into()),
        }
    }

    #[test]
    fn graph_refusals_are_told_from_failures_and_waits() {
        for status in [400, 403, 404, 409, 428, 430, 499] {
            assert_eq!(graph(status).kind(), UpstreamFailure::Refused, "{status}");
        }
        for status in [429, 500, 502, 503, 504, 302] {
            assert_eq!(graph(status).kind(), UpstreamFailure::Failed, "{status}");
        }
        let throttled = DirectoryError::Throttled {
            tenant_id: "t".into(),
            bucket: "policy",
            retry_after: Duration::from_secs(7),
            request_id: Some("graph-request".into()),
        };
        assert_eq!(throttled.kind(), UpstreamFailure::Unavailable);
        assert_eq!(
            throttled.kind().status(),
            reqwest::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(throttled.slug(), "upstream-throttled");
        assert_eq!(
            throttled.upstream_answer().map(|a| (a.status, a.code)),
            Some((429, None))
        );
        assert_eq!(graph(404).kind().status(), reqwest::StatusCode::BAD_GATEWAY);
        assert_eq!(graph(404).retry_after(), None);
        assert_eq!(
            DirectoryError::Internal("bug".into()).kind().status(),
            reqwest::StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
