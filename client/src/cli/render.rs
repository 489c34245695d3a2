//! Human-readable output: the tenant list and the policy document as tables.
//!
//! The policy document is rendered generically: every top-level member other than `tenant`
//! and `retrievedAt` is a group, so groups the service adds later show up without changes.

use comfy_table::{ColumnConstraint, ContentArrangement, Table, Width, presets};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use sspr_client::{TenantSummary, Verification};

/// The width used when the terminal's cannot be detected (e.g. output to a pipe).
pub const DEFAULT_WIDTH: u16 = 120;
/// The widest the SETTING column gets before setting paths wrap.
const MAX_SETTING_WIDTH: usize = 44;
/// How an absent value (JSON `null`, or no setting) is shown.
pub const NONE: &str = "—";
/// How an empty array or object is shown.
pub const EMPTY: &str = "(none)";

/// Top-level members of the policy document that are not groups.
const HEADER_KEYS: [&str; 2] = ["tenant", "retrievedAt"];
/// The order of the groups the portal's Password reset blade has; others follow by name.
const GROUP_ORDER: [&str; 10] = [
    "enablement",
    "authentication",
    "methods",
    "registration",
    "notifications",
    "customization",
    "onPremises",
    "directorySync",
    "administrators",
    "methodsPolicy",
];

/// One line of the policy table: a leaf setting of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub group: String,
    /// The setting's path in the group, `a.b` for nested objects; [`NONE`] for an
    /// unavailable group's reason.
    pub setting: String,
    pub value: String,
    /// The group's `source`: `graph`, `portal`, `inferred`, `unavailable`, or [`NONE`].
    pub source: String,
}

/// The tenants as a table: ID, DOMAIN, DISPLAY NAME, TAGS, HEALTH.
pub fn tenants_table(tenants: &[TenantSummary], width: Option<u16>) -> String {
    let mut table = new_table(width);
    table.set_header(["ID", "DOMAIN", "DISPLAY NAME", "TAGS", "HEALTH"]);
    keep_whole(&mut table, &[0, 1]);
    for tenant in tenants {
        table.add_row([
            tenant.id.clone(),
            tenant.domain.clone(),
            tenant.display_name.clone(),
            tenant.tags.join(" "),
            wire_name(&tenant.health.status),
        ]);
    }
    table.to_string()
}

/// A verification: whether a token was issued, then one row per feature.
pub fn verification_table(verdict: &Verification, width: Option<u16>) -> String {
    let mut text = match &verdict.token_error {
        None => format!(
            "Token issued to app {} at {}; it grants: {}\n",
            verdict.client_id,
            verdict.verified_at,
            if verdict.granted_permissions.is_empty() {
                "nothing".to_owned()
            } else {
                verdict.granted_permissions.join(", ")
            }
        ),
        Some(error) => format!(
            "No token was issued to app {} at {}: {error}\n",
            verdict.client_id, verdict.verified_at
        ),
    };
    let mut table = new_table(width);
    table.set_header([
        "FEATURE",
        "AVAILABLE",
        "MISSING PERMISSIONS",
        "LICENCE NEEDED",
    ]);
    for check in &verdict.features {
        table.add_row([
            wire_name(&check.feature),
            if check.available { "yes" } else { "no" }.to_owned(),
            check.missing_permissions.join(", "),
            check.licence.clone().unwrap_or_default(),
        ]);
    }
    text.push_str(&table.to_string());
    text
}

/// An enum as the API spells it (`conditionalAccess`, `degraded`).
pub fn wire_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The policy document: the header line, then the table of every group's settings.
pub fn policy_table(document: &Value, width: Option<u16>) -> String {
    let mut table = new_table(width);
    table.set_header(["GROUP", "SETTING", "VALUE", "SOURCE"]);
    let rows = policy_rows(document);
    // GROUP and SOURCE never wrap and SETTING only when very long, so VALUE gets the rest.
    let setting_width = rows
        .iter()
        .map(|r| r.setting.chars().count())
        .max()
        .unwrap_or(0)
        .clamp("SETTING".len(), MAX_SETTING_WIDTH);
    table.set_constraints([
        ColumnConstraint::ContentWidth,
        ColumnConstraint::Absolute(Width::Fixed(
            u16::try_from(setting_width + 2).unwrap_or(u16::MAX),
        )),
        ColumnConstraint::LowerBoundary(Width::Fixed(20)),
        ColumnConstraint::ContentWidth,
    ]);
    let mut previous_group: Option<String> = None;
    for row in rows {
        // The group and its source only on a group's first row, so groups stand apart.
        let first = previous_group.as_deref() != Some(row.group.as_str());
        let (group, source) = if first {
            (row.group.clone(), row.source)
        } else {
            (String::new(), String::new())
        };
        table.add_row([group, row.setting, row.value, source]);
        previous_group = Some(row.group);
    }
    format!("{}\n{table}", policy_header(document))
}

/// `Tenant: Contoso (contoso.onmicrosoft.com, 3f2b…) retrieved 2026-01-02 03:04:05 UTC`.
pub fn policy_header(document: &Value) -> String {
    let tenant = &document["tenant"];
    let text = |key: &str| {
        tenant
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let ids: Vec<&str> = [text("domain"), text("id")].into_iter().flatten().collect();
    let mut header = String::from("Tenant: ");
    match (text("displayName"), ids.is_empty()) {
        (Some(name), true) => header.push_str(name),
        (Some(name), false) => header.push_str(&format!("{name} ({})", ids.join(", "))),
        (None, false) => header.push_str(&ids.join(", ")),
        (None, true) => header.push_str("(unknown)"),
    }
    if let Some(retrieved) = document.get("retrievedAt").and_then(Value::as_str) {
        header.push_str(" retrieved ");
        header.push_str(&format_timestamp(retrieved));
    }
    header
}

/// An RFC 3339 timestamp as `YYYY-MM-DD hh:mm:ss UTC`; anything else as it is.
pub fn format_timestamp(text: &str) -> String {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .and_then(|t| {
            t.to_offset(time::UtcOffset::UTC)
                .format(format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
                ))
                .ok()
        })
        .unwrap_or_else(|| text.to_owned())
}

/// Every group of the document flattened to one row per leaf setting.
///
/// An unavailable group is one row whose value is its reason followed by its remedy (plus a
/// row for any other member it has).
pub fn policy_rows(document: &Value) -> Vec<PolicyRow> {
    let Some(members) = document.as_object() else {
        return Vec::new();
    };
    let mut groups: Vec<(&String, &Value)> = members
        .iter()
        .filter(|(name, _)| !HEADER_KEYS.contains(&name.as_str()))
        .collect();
    groups.sort_by_key(|(name, _)| {
        let rank = GROUP_ORDER
            .iter()
            .position(|known| known == name)
            .unwrap_or(GROUP_ORDER.len());
        (rank, name.as_str())
    });

    let mut rows = Vec::new();
    for (name, group) in groups {
        let Some(fields) = group.as_object() else {
            // Not a group: a scalar or array the service added at the top level.
            rows.push(PolicyRow {
                group: name.clone(),
                setting: NONE.to_owned(),
                value: leaf_text(group),
                source: NONE.to_owned(),
            });
            continue;
        };
        let source = fields
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or(NONE)
            .to_owned();
        let row = |setting: String, value: String| PolicyRow {
            group: name.clone(),
            setting,
            value,
            source: source.clone(),
        };
        let unavailable = source == "unavailable";
        if unavailable {
            let text = |key: &str| {
                fields
                    .get(key)
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
            };
            let mut value = text("reason").unwrap_or("No reason given.").to_owned();
            if let Some(remedy) = text("remedy") {
                value.push_str("\nRemedy: ");
                value.push_str(remedy);
            }
            rows.push(row(NONE.to_owned(), value));
        }
        let mut leaves = Vec::new();
        for (key, value) in fields {
            let skip = key == "source" || (unavailable && (key == "reason" || key == "remedy"));
            if !skip {
                flatten(key, value, &mut leaves);
            }
        }
        if leaves.is_empty() && !unavailable {
            rows.push(row(NONE.to_owned(), NONE.to_owned()));
        }
        rows.extend(
            leaves
                .into_iter()
                .map(|(setting, value)| row(setting, value)),
        );
    }
    rows
}

/// Appends `(path, text)` for every leaf under `value`: nested objects as `a.b`, arrays and
/// scalars as one leaf.
pub fn flatten(path: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                flatten(&format!("{path}.{key}"), inner, out);
            }
        }
        other => out.push((path.to_owned(), leaf_text(other))),
    }
}

/// A leaf as text: strings bare, null as [`NONE`], arrays joined with `, `, empty containers as
/// [`EMPTY`], objects inside arrays as compact JSON.
pub fn leaf_text(value: &Value) -> String {
    match value {
        Value::Null => NONE.to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => EMPTY.to_owned(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Object(_) | Value::Array(_) => item.to_string(),
                scalar => leaf_text(scalar),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(map) if map.is_empty() => EMPTY.to_owned(),
        Value::Object(_) => value.to_string(),
    }
}

/// Columns of ids and domains are never wrapped: people copy them into the next command, and
/// scripts grep for them.
pub(crate) fn keep_whole(table: &mut Table, columns: &[usize]) {
    for index in columns {
        if let Some(column) = table.column_mut(*index) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

pub(crate) fn new_table(width: Option<u16>) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    match width {
        Some(width) => {
            table.set_width(width);
        }
        None => {
            if table.width().is_none() {
                table.set_width(DEFAULT_WIDTH);
            }
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document() -> Value {
        json!({
            "tenant": {"id": "3f2b9c1e", "domain": "contoso.onmicrosoft.com", "displayName": "Contoso"},
            "retrievedAt": "2026-03-04T05:06:07.123+01:00",
            "administrators": {"source": "graph", "allowedToUseSspr": false},
            "enablement": {
                "source": "unavailable",
                "reason": "The SSPR enablement scope has no public API.",
                "remedy": "Configure the portal connector for this tenant."
            },
            "methodsPolicy": {
                "source": "graph",
                "migrationState": "migrationComplete",
                "reconfirmationInDays": null,
                "registrationCampaign": {"state": "default", "includeTargets": ["all_users", "group-1"], "excludeTargets": []}
            },
            "zFutureGroup": {"source": "inferred", "evidence": [{"kind": "x"}], "empty": {}},
            "bare": {"source": "portal"}
        })
    }

    fn row(group: &str, setting: &str, value: &str, source: &str) -> PolicyRow {
        PolicyRow {
            group: group.into(),
            setting: setting.into(),
            value: value.into(),
            source: source.into(),
        }
    }

    #[test]
    fn flattens_groups_in_blade_order_then_by_name() {
        let rows = policy_rows(&document());
        assert_eq!(
            rows,
            vec![
                row(
                    "enablement",
                    NONE,
                    "The SSPR enablement scope has no public API.\nRemedy: Configure the portal connector for this tenant.",
                    "unavailable"
                ),
                row("administrators", "allowedToUseSspr", "false", "graph"),
                row(
                    "methodsPolicy",
                    "migrationState",
                    "migrationComplete",
                    "graph"
                ),
                row("methodsPolicy", "reconfirmationInDays", NONE, "graph"),
                row(
                    "methodsPolicy",
                    "registrationCampaign.excludeTargets",
                    EMPTY,
                    "graph"
                ),
                row(
                    "methodsPolicy",
                    "registrationCampaign.includeTargets",
                    "all_users, group-1",
                    "graph"
                ),
                row(
                    "methodsPolicy",
                    "registrationCampaign.state",
                    "default",
                    "graph"
                ),
                row("bare", NONE, NONE, "portal"),
                row("zFutureGroup", "empty", EMPTY, "inferred"),
                row("zFutureGroup", "evidence", r#"{"kind":"x"}"#, "inferred"),
            ]
        );
    }

    #[test]
    fn unavailable_group_keeps_extra_members_and_tolerates_missing_reason() {
        let rows = policy_rows(
            &json!({"methods": {"source": "unavailable", "remedy": "Migrate.", "note": "n"}}),
        );
        assert_eq!(
            rows,
            vec![
                row(
                    "methods",
                    NONE,
                    "No reason given.\nRemedy: Migrate.",
                    "unavailable"
                ),
                row("methods", "note", "n", "unavailable"),
            ]
        );
    }

    #[test]
    fn odd_documents_do_not_panic() {
        assert!(policy_rows(&json!([1, 2])).is_empty());
        assert_eq!(
            policy_rows(&json!({"count": 3})),
            vec![row("count", NONE, "3", NONE)]
        );
        assert_eq!(
            policy_rows(&json!({"g": {"x": 1}})),
            vec![row("g", "x", "1", NONE)]
        );
        assert_eq!(policy_header(&json!({})), "Tenant: (unknown)");
    }

    #[test]
    fn leaf_text_formats() {
        assert_eq!(leaf_text(&json!(null)), "—");
        assert_eq!(leaf_text(&json!(true)), "true");
        assert_eq!(leaf_text(&json!(180)), "180");
        assert_eq!(leaf_text(&json!("x")), "x");
        assert_eq!(leaf_text(&json!(["a", 1, null])), "a, 1, —");
        assert_eq!(leaf_text(&json!([])), EMPTY);
        assert_eq!(leaf_text(&json!([[1]])), "[1]");
    }

    #[test]
    fn header_names_the_tenant_and_time_in_utc() {
        assert_eq!(
            policy_header(&document()),
            "Tenant: Contoso (contoso.onmicrosoft.com, 3f2b9c1e) retrieved 2026-03-04 04:06:07 UTC"
        );
        assert_eq!(
            policy_header(&json!({"tenant": {"id": "t"}, "retrievedAt": "yesterday"})),
            "Tenant: t retrieved yesterday"
        );
    }

    #[test]
    fn policy_table_fits_the_width_and_shows_group_once() {
        let text = policy_table(&document(), Some(100));
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .is_some_and(|l| l.starts_with("Tenant: Contoso"))
        );
        for line in lines {
            assert!(line.chars().count() <= 100, "too wide: {line}");
        }
        assert_eq!(text.matches("methodsPolicy").count(), 1, "{text}");
        assert!(text.contains("Remedy: Configure"), "{text}");
        assert!(
            text.contains("registrationCampaign.includeTargets"),
            "{text}"
        );
    }

    #[test]
    fn a_verification_shows_each_feature_and_what_it_misses() {
        let verdict: Verification =
            serde_json::from_value(sspr_api::examples::verification()).expect("the example");
        let text = verification_table(&verdict, Some(160));
        assert!(text.starts_with("Token issued to app 6f1c2a3b"), "{text}");
        let intune = text
            .lines()
            .find(|l| l.contains("intune"))
            .expect("the intune row");
        assert!(
            intune.contains("no")
                && intune.contains("DeviceManagementConfiguration.Read.All")
                && intune.contains("Microsoft Intune"),
            "{intune}"
        );
        let mut refused = verdict.clone();
        refused.token_error = Some("AADSTS700016: not found".into());
        assert!(verification_table(&refused, Some(160)).contains("No token was issued"));
    }

    #[test]
    fn tenants_table_has_the_columns() {
        let mut contoso: TenantSummary =
            serde_json::from_value(sspr_api::examples::tenant_summary()).expect("the example");
        contoso.id = "3f2b".into();
        let tenants = vec![contoso];
        let text = tenants_table(&tenants, Some(120));
        let header = text.lines().nth(1).expect("header line");
        assert!(
            header.contains("ID")
                && header.contains("DOMAIN")
                && header.contains("DISPLAY NAME")
                && header.contains("TAGS")
                && header.contains("HEALTH"),
            "{header}"
        );
        let row = text.lines().nth(3).expect("the row");
        assert!(
            row.contains("contoso.onmicrosoft.com")
                && row.contains("Contoso")
                && row.contains("region:eu tier:gold")
                && row.contains("healthy"),
            "{row}"
        );
    }
}
