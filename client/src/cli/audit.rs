//! How `sspr audit list` prints the audit trail.

use sspr_client::{AuditRecord, TenantSummary, audit::AuditActor};

use crate::cli::render::{NONE, format_timestamp, new_table};

/// The most readable identity: the UPN, else the object id, else the application.
pub fn actor_text(actor: &AuditActor) -> String {
    let name = actor.upn.as_deref().or(actor.oid.as_deref());
    match (name, actor.app_id.as_deref()) {
        (Some(name), Some(app)) => format!("{name} via {app}"),
        (Some(name), None) => name.to_owned(),
        (None, Some(app)) => format!("app {app}"),
        (None, None) => NONE.to_owned(),
    }
}

/// The records as a table: TIME, TENANT, ACTOR, OPERATION, OUTCOME. A tenant listed in
/// `tenants` is shown by its domain, any other by its id.
pub fn audit_table(
    records: &[AuditRecord],
    tenants: &[TenantSummary],
    width: Option<u16>,
) -> String {
    let mut table = new_table(width);
    table.set_header(["TIME", "TENANT", "ACTOR", "OPERATION", "OUTCOME"]);
    for record in records {
        let tenant = tenants
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(&record.tenant_id))
            .map_or(record.tenant_id.as_str(), |t| t.domain.as_str());
        table.add_row([
            format_timestamp(&record.time),
            tenant.to_owned(),
            actor_text(&record.actor),
            record.operation.clone(),
            record.outcome.to_string(),
        ]);
    }
    table.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> AuditRecord {
        serde_json::from_value(json!({"id": 7, "time": "2026-03-04T05:06:07.123456Z", "requestId": "r-1",
            "actor": {"oid": "o-1", "upn": "ada@contoso.com", "appId": "app-1", "roles": ["SSPR.Admin"]},
            "tenantId": "3f2b", "operation": "policy.patch", "before": {"a": 1}, "after": {"a": 2},
            "diff": null, "outcome": "rolledBack", "error": "portal PUT failed",
            "compensation": [{"undo": "x"}], "signature": "future member"}))
        .expect("record")
    }

    #[test]
    fn the_actor_is_its_most_readable_identity() {
        assert_eq!(actor_text(&record().actor), "ada@contoso.com via app-1");
    }

    #[test]
    fn the_table_shows_domains_for_known_tenants() {
        let records = vec![record()];
        let mut contoso: TenantSummary =
            serde_json::from_value(sspr_api::examples::tenant_summary()).expect("the example");
        contoso.id = "3F2B".into();
        let tenants = vec![contoso];
        let table = audit_table(&records, &tenants, Some(160));
        for text in [
            "TIME",
            "2026-03-04 05:06:07 UTC",
            "contoso.onmicrosoft.com",
            "ada@contoso.com via app-1",
            "policy.patch",
            "rolledBack",
        ] {
            assert!(table.contains(text), "{text} missing:\n{table}");
        }
        assert!(audit_table(&records, &[], Some(160)).contains("3f2b"));
    }
}
