//! Reading the audit trail: `SSPR.Admin` only, and only records of tenants the caller's access
//! map gives them (all records, including those of tenants no longer managed, with `*`).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::cursor::{self, Binding, CursorSigner};
use super::{OpsError, authorize, require};
use crate::auth::{Caller, Verb};
use crate::capabilities::audit_log::{
    AuditCursor, AuditFilter, AuditLog, AuditRecord, MAX_PAGE, Outcome,
};
use crate::directory::tenants::TenantRegistry;
use crate::store::StoreError;

/// Records per page when the caller does not say.
pub const DEFAULT_PAGE: u32 = 50;

/// The query as the caller gave it; every member is checked here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Tenant id or verified domain.
    pub tenant: Option<String>,
    /// The actor's oid, upn or app id.
    pub actor: Option<String>,
    /// RFC 3339 time: records at or after it.
    pub since: Option<String>,
    /// `attempted`, `succeeded`, `failed`, `rolledBack`, `refused`, `noChange` or `unknown`.
    pub outcome: Option<String>,
    /// 1 to 500; 50 when absent.
    pub limit: Option<String>,
    /// The cursor of the previous page's `nextLink`.
    pub cursor: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Ops(#[from] OpsError),
    /// A query parameter is malformed; `field` names it.
    #[error("{detail}")]
    BadParameter { field: &'static str, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A page of records, newest first, and the signed cursor of the next (older) page.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditListPage {
    pub records: Vec<AuditRecord>,
    /// Valid only with the same filters and caller; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// One page of the audit records `query` selects among those `caller` may see. The cursor is
/// checked against the caller and the filters before the store is read.
pub async fn list(
    registry: &TenantRegistry,
    audit: &dyn AuditLog,
    cursors: &CursorSigner,
    caller: &Caller,
    query: &AuditQuery,
) -> Result<AuditListPage, AuditError> {
    require(caller, Verb::Admin)?;
    let mut filter = parse(query)?;
    let tenant = query
        .tenant
        .as_deref()
        .map(|key| {
            given(&Some(key.to_owned()), "tenant")?;
            authorize(registry, caller, Verb::Admin, key.trim()).map_err(AuditError::from)
        })
        .transpose()?;
    filter.tenants = match &tenant {
        Some(tenant) => Some(vec![tenant.id.clone()]),
        None if caller.may_access_all() => None,
        None => Some(
            registry
                .snapshot()
                .iter()
                .filter(|t| caller.may_access(t.as_ref()))
                .map(|t| t.id.clone())
                .collect(),
        ),
    };
    let canonical = canonical_query(&filter);
    let binding = Binding {
        kind: "audit",
        tenant: tenant.as_ref().map_or("*", |t| t.id.as_str()),
        query: &canonical,
        caller: cursor::principal(caller),
    };
    if let Some(text) = given(&query.cursor, "cursor")? {
        filter.cursor = Some(
            cursors
                .open::<AuditCursor>(&binding, &text)
                .map_err(OpsError::from)?,
        );
    }
    let page = audit.query(filter).await?;
    Ok(AuditListPage {
        next_cursor: page.next.map(|next| cursors.seal(&binding, &next)),
        records: page.records,
    })
}

/// The filters a cursor is bound to, in one spelling: the actor as compared (case-folded), the
/// time as an instant. The page size is not among them: it may change from page to page.
fn canonical_query(filter: &AuditFilter) -> String {
    format!(
        "actor={:?};since={:?};outcome={:?}",
        filter.actor.as_deref().map(str::to_ascii_lowercase),
        filter.since.map(|t| t.unix_timestamp_nanos()),
        filter.outcome.map(Outcome::as_str),
    )
}

/// A parameter's value, trimmed; `None` when absent. A parameter given without a value is
/// refused: ignoring it would answer a filter the caller did not ask for.
fn given(value: &Option<String>, field: &'static str) -> Result<Option<String>, AuditError> {
    match value.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Err(AuditError::BadParameter {
            field,
            detail: format!("'{field}' is given without a value; give one or leave it out."),
        }),
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// Every parameter but the tenant, checked.
fn parse(query: &AuditQuery) -> Result<AuditFilter, AuditError> {
    let bad = |field: &'static str, detail: String| AuditError::BadParameter { field, detail };
    let since = match given(&query.since, "since")? {
        Some(text) => Some(OffsetDateTime::parse(&text, &Rfc3339).map_err(|e| {
            bad(
                "since",
                format!(
                    "'{text}' is not an RFC 3339 time such as 2026-01-31T08:00:00Z ({e}){}.",
                    if text.contains(' ') {
                        "; a '+' in a URL query means a space, send it as %2B"
                    } else {
                        ""
                    }
                ),
            )
        })?),
        None => None,
    };
    let outcome = match given(&query.outcome, "outcome")? {
        Some(text) => Some(Outcome::parse(&text).ok_or_else(|| {
            let known: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
            let hint = known
                .iter()
                .find(|o| o.eq_ignore_ascii_case(&text))
                .map(|o| format!(" (outcomes are case-sensitive: '{o}')"))
                .unwrap_or_default();
            bad(
                "outcome",
                format!(
                    "'{text}' is not an outcome; use one of {}{hint}.",
                    known.join(", ")
                ),
            )
        })?),
        None => None,
    };
    let limit = match given(&query.limit, "limit")? {
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(bad(
                    "limit",
                    format!(
                        "'{text}' is not a page size; use a whole number from 1 to {MAX_PAGE}."
                    ),
                ));
            }
        },
        None => DEFAULT_PAGE,
    };
    Ok(AuditFilter {
        tenants: None,
        actor: given(&query.actor, "actor")?,
        since,
        outcome,
        cursor: None,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::audit_log::{Actor, NewAuditRecord};
    use crate::directory::tenants::ManagedTenant;
    use crate::ops::fake_audit_log::FakeAuditLog;

    const CONTOSO: &str = "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17";
    /// A tenant the service no longer manages: its records stay readable with `*`.
    const FORMER: &str = "8c2d4e6f-1a3b-4c5d-9e7f-0a1b2c3d4e5f";

    async fn trail() -> FakeAuditLog {
        let log = FakeAuditLog::default();
        for (tenant, outcome) in [
            (CONTOSO, Outcome::Succeeded),
            (FORMER, Outcome::Refused),
            (CONTOSO, Outcome::Failed),
            (CONTOSO, Outcome::Succeeded),
        ] {
            log.append(NewAuditRecord {
                request_id: None,
                actor: Actor::default(),
                tenant_id: tenant.to_owned(),
                operation: "policy.patch".to_owned(),
                before: None,
                after: None,
                diff: None,
                outcome,
                error: None,
                compensation: None,
            })
            .await
            .expect("append");
        }
        log
    }

    fn ids(page: &AuditListPage) -> Vec<i64> {
        page.records.iter().map(|r| r.id).collect()
    }

    #[tokio::test]
    async fn the_listing_filters_pages_and_binds_its_cursor_to_the_filters() {
        let registry =
            TenantRegistry::for_tests(vec![ManagedTenant::for_tests(CONTOSO, "contoso.example")]);
        let cursors = CursorSigner::random(time::Duration::minutes(5));
        let log = trail().await;
        let admin = Caller::for_tests(&["SSPR.Admin"]);
        let list = |query: AuditQuery| {
            let (registry, cursors, log, admin) = (&registry, &cursors, &log, &admin);
            async move { list(registry, log, cursors, admin, &query).await }
        };

        // Every tenant with `*`, the former one included; by domain, only that tenant's.
        let all = list(AuditQuery::default()).await.expect("all");
        assert_eq!(ids(&all), [4, 3, 2, 1]);
        let contoso = AuditQuery {
            tenant: Some(" contoso.example ".into()),
            limit: Some("2".into()),
            ..AuditQuery::default()
        };
        let first = list(contoso.clone()).await.expect("first page");
        assert_eq!(ids(&first), [4, 3]);
        let next = first.next_cursor.expect("a second page");
        let second = list(AuditQuery {
            cursor: Some(next.clone()),
            ..contoso.clone()
        })
        .await
        .expect("second page");
        assert_eq!((ids(&second), second.next_cursor), (vec![1], None));
        let failed = list(AuditQuery {
            outcome: Some("failed".into()),
            ..contoso.clone()
        })
        .await
        .expect("failed");
        assert_eq!(ids(&failed), [3]);

        // The cursor is valid only with the filters it was made for.
        let other_filter = list(AuditQuery {
            cursor: Some(next),
            outcome: Some("succeeded".into()),
            ..contoso
        })
        .await;
        assert!(
            matches!(other_filter, Err(AuditError::Ops(OpsError::BadCursor(_)))),
            "{other_filter:?}"
        );
        let unknown = list(AuditQuery {
            tenant: Some("fabrikam.example".into()),
            ..AuditQuery::default()
        })
        .await;
        assert!(
            matches!(unknown, Err(AuditError::Ops(OpsError::UnknownTenant(_)))),
            "{unknown:?}"
        );
        // Reading the trail needs SSPR.Admin.
        let writer = Caller::for_tests(&["SSPR.ReadWrite"]);
        let refused = super::list(&registry, &log, &cursors, &writer, &AuditQuery::default()).await;
        assert!(
            matches!(refused, Err(AuditError::Ops(OpsError::Forbidden(_)))),
            "{refused:?}"
        );
    }

    fn field_of(query: AuditQuery) -> &'static str {
        match parse(&query) {
            Err(AuditError::BadParameter { field, detail }) => {
                assert!(!detail.is_empty());
                field
            }
            other => panic!("expected a bad parameter, got {other:?}"),
        }
    }

    #[test]
    fn parameters_are_checked_and_the_bad_one_is_named() {
        let q = |f: fn(&mut AuditQuery)| {
            let mut query = AuditQuery::default();
            f(&mut query);
            query
        };
        assert_eq!(field_of(q(|q| q.since = Some("yesterday".into()))), "since");
        // Given without a value: refused, not ignored.
        assert_eq!(field_of(q(|q| q.since = Some(String::new()))), "since");
        assert_eq!(field_of(q(|q| q.outcome = Some("  ".into()))), "outcome");
        assert_eq!(field_of(q(|q| q.actor = Some(String::new()))), "actor");
        assert_eq!(field_of(q(|q| q.limit = Some(String::new()))), "limit");
        assert_eq!(field_of(q(|q| q.outcome = Some("ok".into()))), "outcome");
        match parse(&q(|q| q.outcome = Some("RolledBack".into()))) {
            Err(AuditError::BadParameter { detail, .. }) => {
                for outcome in Outcome::ALL {
                    assert!(detail.contains(outcome.as_str()), "{detail}");
                }
                assert!(detail.contains("case-sensitive: 'rolledBack'"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        match parse(&q(|q| q.outcome = Some("nochange".into()))) {
            Err(AuditError::BadParameter { detail, .. }) => {
                assert!(
                    detail.contains("attempted")
                        && detail.contains("noChange")
                        && detail.contains("unknown"),
                    "{detail}"
                );
            }
            other => panic!("expected a bad outcome, got {other:?}"),
        }
        for limit in ["0", "501", "-1", "ten"] {
            let query = AuditQuery {
                limit: Some(limit.into()),
                ..AuditQuery::default()
            };
            assert_eq!(field_of(query), "limit", "{limit}");
        }
    }

    #[test]
    fn good_parameters_make_the_filter() {
        let filter = parse(&AuditQuery {
            actor: Some(" ada@contoso.com ".into()),
            since: Some("2026-01-31T09:00:00+01:00".into()),
            outcome: Some("rolledBack".into()),
            limit: Some("500".into()),
            ..AuditQuery::default()
        })
        .expect("valid");
        assert_eq!(filter.actor.as_deref(), Some("ada@contoso.com"));
        assert_eq!(
            filter.since.map(|t| t.unix_timestamp()),
            Some(1_769_846_400)
        );
        assert_eq!(filter.outcome, Some(Outcome::RolledBack));
        assert_eq!(filter.limit, 500);
        assert_eq!(parse(&AuditQuery::default()).expect("empty").limit, 50);
        for (text, outcome) in [
            ("attempted", Outcome::Attempted),
            ("noChange", Outcome::NoChange),
            ("unknown", Outcome::Unknown),
        ] {
            let query = AuditQuery {
                outcome: Some(text.into()),
                ..AuditQuery::default()
            };
            assert_eq!(parse(&query).expect(text).outcome, Some(outcome));
        }
    }
}
