//! Adapters to the directories the service manages: Microsoft Graph today, the portal back end later.

pub mod apply;
pub mod budget;
pub mod conditional_access;
pub mod graph;
pub mod inference;
pub mod portal;
pub mod registrations;
mod retry;
pub mod tenants;

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

impl DirectoryError {
    /// Graph's `request-id` of the failed call, when Graph answered.
    pub fn request_id(&self) -> Option<String> {
        match self {
            DirectoryError::Upstream { request_id, .. }
            | DirectoryError::Throttled { request_id, .. } => request_id.clone(),
            _ => None,
        }
    }
}
