//! The audit trail: `GET /v1/audit` (role `SSPR.Admin`), one page or every page; the answers
//! are the types of [`crate::types::audit`].

pub use crate::types::audit::{AuditActor, AuditPage, AuditRecord};
use crate::{ClientError, SsprClient, decode_error};

/// Which audit records to list; `None` members are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Tenant id or domain.
    pub tenant: Option<String>,
    /// Object id, user principal name or client application id of the actor.
    pub actor: Option<String>,
    /// RFC 3339 time: records at or after it.
    pub since: Option<String>,
    /// `succeeded`, `failed`, `rolledBack` or `refused`.
    pub outcome: Option<String>,
    /// Records per page (the service allows 1 to 500; 50 when absent).
    pub limit: Option<u32>,
    /// Continue where a previous page ended ([`AuditPage::next_cursor`]).
    pub cursor: Option<String>,
}

impl SsprClient {
    /// `GET /v1/audit`: one page of the audit records `filter` selects.
    pub async fn list_audit(&self, filter: &AuditFilter) -> Result<AuditPage, ClientError> {
        let mut url = self.endpoint(&["v1", "audit"])?;
        {
            let mut query = url.query_pairs_mut();
            let limit = filter.limit.map(|n| n.to_string());
            for (name, value) in [
                ("tenant", &filter.tenant),
                ("actor", &filter.actor),
                ("since", &filter.since),
                ("outcome", &filter.outcome),
                ("limit", &limit),
                ("cursor", &filter.cursor),
            ] {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let (body, _) = self.get(&url).await?;
        serde_json::from_slice::<AuditPage>(&body)
            .map_err(|e| decode_error(&url, "a page of audit records", &e, &body))
    }

    /// Every record `filter` selects, following `nextLink` from page to page.
    pub async fn list_audit_all(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, ClientError> {
        let mut filter = filter.clone();
        let mut records = Vec::new();
        loop {
            let page = self.list_audit(&filter).await?;
            let next = page.next_cursor();
            records.extend(page.records);
            match next {
                Some(cursor) if filter.cursor.as_deref() == Some(cursor.as_str()) => {
                    return Err(ClientError::Decode(format!(
                        "the audit nextLink repeats the cursor '{cursor}'"
                    )));
                }
                Some(cursor) => filter.cursor = Some(cursor),
                None => return Ok(records),
            }
        }
    }
}
