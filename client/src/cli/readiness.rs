//! `sspr readiness` and `sspr user-guide`: the checklist as a table people scan, one line per
//! check (or per tenant across the fleet, printed as each completes).

use sspr_client::readiness::{Check, CheckStatus, FleetReadinessEntry, TenantReadiness};

use super::render::new_table;

/// `sspr readiness --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadinessFormat {
    /// A table: one row per check (per tenant across the fleet).
    Table,
    /// The service's JSON document.
    Json,
    /// One JSON line per tenant as it completes (several tenants).
    Ndjson,
    /// One self-contained HTML page (charts inline; nothing loaded from elsewhere).
    Html,
    /// The same as Markdown.
    Md,
}

/// `sspr user-guide --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GuideFormat {
    Md,
    Html,
    Json,
}

/// The status as a word that reads without colour.
pub fn status_word(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "PASS",
        CheckStatus::Warn => "WARN",
        CheckStatus::Fail => "FAIL",
        CheckStatus::Unknown => "UNKNOWN",
        CheckStatus::NotApplicable => "N/A",
    }
}

/// What to do about a check, in one cell: the command, else the portal path, else the text.
fn remedy_text(check: &Check) -> String {
    check
        .remedy
        .as_ref()
        .map(|r| {
            r.command
                .clone()
                .or_else(|| r.portal.clone())
                .unwrap_or_else(|| r.text.clone())
        })
        .unwrap_or_default()
}

/// `Contoso (contoso.onmicrosoft.com): FAIL …`, then STATUS, CHECK, FOUND, TO DO.
pub fn readiness_table(readiness: &TenantReadiness, width: Option<u16>) -> String {
    let mut table = new_table(width);
    table.set_header(["STATUS", "CHECK", "FOUND", "TO DO"]);
    for check in &readiness.checks {
        table.add_row([
            status_word(check.status).to_owned(),
            check.title.clone(),
            check.summary.clone(),
            remedy_text(check),
        ]);
    }
    let points = readiness
        .points
        .as_ref()
        .map(|p| {
            format!(
                "; Secure Score {} of {} points, {} still available",
                p.achieved, p.max, p.available
            )
        })
        .unwrap_or_default();
    format!(
        "{}\n{table}\n",
        headline(readiness, &readiness.tenant.domain) + &points
    )
}

fn headline(readiness: &TenantReadiness, domain: &str) -> String {
    let c = readiness.counts;
    format!(
        "{} ({domain}): {}: {} pass, {} warn, {} fail, {} unknown, {} n/a",
        readiness.tenant.display_name,
        status_word(readiness.status),
        c.pass,
        c.warn,
        c.fail,
        c.unknown,
        c.not_applicable
    )
}

/// One fleet line: `contoso.onmicrosoft.com  FAIL  10/2/1/1  fail: windowsResetLink`.
pub fn fleet_line(entry: &FleetReadinessEntry) -> String {
    match (&entry.readiness, &entry.problem) {
        (Some(readiness), _) => {
            let c = readiness.counts;
            let failing: Vec<&str> = readiness
                .checks
                .iter()
                .filter(|check| check.status == CheckStatus::Fail)
                .map(|check| check.id.as_str())
                .collect();
            format!(
                "{:<40} {:<7} pass {:>2}  warn {:>2}  fail {:>2}  unknown {:>2}{}",
                entry.domain,
                status_word(readiness.status),
                c.pass,
                c.warn,
                c.fail,
                c.unknown,
                if failing.is_empty() {
                    String::new()
                } else {
                    format!("  failing: {}", failing.join(", "))
                }
            )
        }
        (None, problem) => format!(
            "{:<40} {:<7} {}",
            entry.domain,
            "ERROR",
            problem
                .as_ref()
                .and_then(|p| p.get("detail").or_else(|| p.get("title")))
                .and_then(|d| d.as_str())
                .unwrap_or("no answer")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> TenantReadiness {
        serde_json::from_value(sspr_api::examples::tenant_readiness()).expect("the example")
    }

    #[test]
    fn the_table_has_a_row_per_check_with_its_status_and_what_to_do() {
        let text = readiness_table(&example(), Some(400));
        assert!(
            text.starts_with("Contoso (contoso.onmicrosoft.com): FAIL: 10 pass, 2 warn, 1 fail"),
            "{text}"
        );
        for check in example().checks {
            assert!(
                text.contains(&check.title),
                "{} missing:\n{text}",
                check.title
            );
        }
        assert!(text.contains(
            "sspr windows-reset-link apply --all-devices --tenant contoso.onmicrosoft.com"
        ));
        assert!(
            text.contains("10 of 10 points, 0 still available"),
            "{text}"
        );
    }

    #[test]
    fn a_fleet_line_names_the_failing_checks_or_the_problem() {
        let fleet: sspr_client::readiness::FleetReadiness =
            serde_json::from_value(sspr_api::examples::fleet_readiness()).expect("the example");
        let lines: Vec<String> = fleet.tenants.iter().map(fleet_line).collect();
        assert!(
            lines[0].contains("ERROR") && lines[0].contains("expired"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("failing: windowsResetLink"),
            "{}",
            lines[1]
        );
    }
}
