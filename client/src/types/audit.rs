//! The answers of `GET /v1/audit`: the contract crate's records, in a page that knows its next
//! cursor.

use serde::Deserialize;
use url::Url;

pub use sspr_api::audit::{Actor as AuditActor, AuditRecord, Outcome};

/// One page of records, newest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    #[serde(rename = "value")]
    pub records: Vec<AuditRecord>,
    /// The service's link to the next (older) page.
    pub next_link: Option<String>,
}

impl AuditPage {
    /// The `cursor` of `next_link`, to pass in [`AuditFilter::cursor`].
    pub fn next_cursor(&self) -> Option<String> {
        let link = self.next_link.as_deref()?;
        // The link may be relative; only its query matters.
        let url = Url::parse("http://service.invalid/")
            .ok()?
            .join(link)
            .ok()?;
        url.query_pairs()
            .find(|(name, _)| name == "cursor")
            .map(|(_, value)| value.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn record() -> Value {
        json!({"id": 7, "time": "2026-03-04T05:06:07.123456Z", "requestId": "r-1",
            "actor": {"oid": "o-1", "upn": "ada@contoso.com", "appId": "app-1", "roles": ["SSPR.Admin"]},
            "tenantId": "3f2b", "operation": "policy.patch", "before": {"a": 1}, "after": {"a": 2},
            "diff": null, "outcome": "rolledBack", "error": "portal PUT failed",
            "compensation": [{"undo": "x"}], "signature": "future member"})
    }

    #[test]
    fn records_round_trip_and_ignore_unknown_members() {
        let parsed: AuditRecord = serde_json::from_value(record()).expect("record");
        // Every member of the contract survives (`completedAt`, absent, reads as null); one this
        // version does not know is ignored.
        let mut sent = record();
        let members = sent.as_object_mut().expect("object");
        members.remove("signature");
        members.insert("completedAt".into(), Value::Null);
        assert_eq!(serde_json::to_value(&parsed).expect("json"), sent);
    }

    #[test]
    fn the_next_cursor_comes_from_the_link_query() {
        let page = AuditPage {
            records: vec![],
            next_link: Some("/v1/audit?tenant=contoso.com&cursor=YXVkaXQudjEuNQ".into()),
        };
        assert_eq!(page.next_cursor().as_deref(), Some("YXVkaXQudjEuNQ"));
        let last = AuditPage {
            records: vec![],
            next_link: None,
        };
        assert_eq!(last.next_cursor(), None);
    }
}
