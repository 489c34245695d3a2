//! Tenant and fleet readiness as Markdown (CommonMark with GitHub's tables): the content of
//! the HTML pages as tables and lists, every value from the wire escaped for its place.

use std::fmt::Write;

use sspr_api::readiness::{Check, CheckStatus, FleetReadiness, StatusCounts, TenantReadiness};

use super::escape::{markdown as esc, markdown_code as code, safe_link};
use super::facts::{Coverage, control_points, points_of, points_text, problem_text};
use super::labels::{source_word, status_label, status_symbol, status_word};

/// One tenant's readiness as a Markdown document.
pub fn tenant_markdown(readiness: &TenantReadiness) -> String {
    let mut text = format!(
        "# Self-service password reset readiness: {}\n\n",
        esc(&readiness.tenant.display_name)
    );
    text.push_str(&tenant_body(readiness, 2));
    text
}

/// The fleet's readiness as a Markdown document: the matrix as a table (columns numbered, the
/// key below it), the tenants without readiness, then each tenant.
pub fn fleet_markdown(fleet: &FleetReadiness) -> String {
    let mut text = String::from("# Self-service password reset readiness across the fleet\n\n");
    let _ = writeln!(
        text,
        "{} tenants, {} without readiness.\n",
        fleet.tenants.len(),
        fleet.failed
    );
    text.push_str("## Tenants × checks\n\n| Tenant |");
    for number in 1..=fleet.matrix.checks.len() {
        let _ = write!(text, " {number} |");
    }
    text.push_str("\n|---|");
    text.push_str(&":-:|".repeat(fleet.matrix.checks.len()));
    text.push('\n');
    for row in &fleet.matrix.rows {
        let _ = write!(text, "| {} |", esc(&row.domain));
        match &row.statuses {
            Some(statuses) => {
                for status in statuses {
                    let _ = write!(text, " {} |", status_symbol(*status));
                }
            }
            None => {
                text.push_str(" ✗ no readiness |");
                text.push_str(&" |".repeat(fleet.matrix.checks.len().saturating_sub(1)));
            }
        }
        text.push('\n');
    }
    text.push_str("\nColumns: ");
    let key: Vec<String> = fleet
        .matrix
        .checks
        .iter()
        .enumerate()
        .map(|(index, id)| format!("{} {}", index + 1, esc(id.title())))
        .collect();
    text.push_str(&key.join("; "));
    text.push_str(".\nStatuses: ");
    let legend: Vec<String> = CheckStatus::ALL
        .iter()
        .map(|status| format!("{} {}", status_symbol(*status), status_word(*status)))
        .collect();
    text.push_str(&legend.join(", "));
    text.push_str(".\n");

    let entries: Vec<_> = fleet
        .matrix
        .rows
        .iter()
        .filter_map(|row| fleet.tenants.iter().find(|e| e.tenant == row.tenant))
        .collect();
    if entries.iter().any(|entry| entry.readiness.is_none()) {
        text.push_str("\n## Tenants without readiness\n\n");
        for entry in entries.iter().filter(|entry| entry.readiness.is_none()) {
            let _ = writeln!(
                text,
                "- **{}** ({}): {}",
                esc(&entry.domain),
                esc(&entry.tenant),
                esc(&problem_text(entry.problem.as_ref()))
            );
        }
    }
    for readiness in entries.iter().filter_map(|entry| entry.readiness.as_ref()) {
        let _ = write!(text, "\n## {}\n\n", esc(&readiness.tenant.display_name));
        text.push_str(&tenant_body(readiness, 3));
    }
    text
}

fn tenant_body(readiness: &TenantReadiness, level: usize) -> String {
    let heading = "#".repeat(level);
    let mut text = String::new();
    let _ = write!(
        text,
        "{} · {} · read at {}\n\nOverall: **{}**. {}\n\n",
        esc(&readiness.tenant.domain),
        esc(&readiness.tenant.id),
        esc(&readiness.read_at),
        status_label(readiness.status),
        counts_text(&readiness.counts),
    );
    match Coverage::of(readiness) {
        Some(coverage) => {
            let _ = writeln!(
                text,
                "Registration coverage: {} of {} SSPR-enabled members registered ({:.1}%).",
                coverage.registered,
                coverage.enabled,
                coverage.fraction() * 100.0
            );
        }
        None => text.push_str("Registration coverage: not known.\n"),
    }
    match &readiness.points {
        Some(points) => {
            let _ = writeln!(
                text,
                "\nSecure Score: {} of {} points; **{} still available**.",
                points_text(points.achieved),
                points_text(points.max),
                points_text(points.available)
            );
        }
        None => text.push_str("\nSecure Score: not read.\n"),
    }
    for points in control_points(readiness) {
        let _ = writeln!(text, "- {}: {}", code(&points.control), points_of(points));
    }

    let _ = write!(
        text,
        "\n{heading} Checks\n\n| Check | Status | Summary |\n|---|---|---|\n"
    );
    for check in &readiness.checks {
        let _ = writeln!(
            text,
            "| {} | {} | {} |",
            esc(&check.title),
            status_label(check.status),
            esc(&check.summary)
        );
    }
    for check in &readiness.checks {
        text.push_str(&check_details(check, level + 1));
    }

    let _ = write!(text, "\n{heading} Portals for users\n\n");
    for portal in &readiness.portals.all {
        let _ = writeln!(
            text,
            "- {}: {}",
            url_text(&portal.url),
            esc(&portal.purpose)
        );
    }
    let _ = writeln!(
        text,
        "\nThis tenant's users register at {} and reset at {}.",
        url_text(&readiness.portals.registration),
        url_text(&readiness.portals.reset)
    );
    text
}

fn counts_text(counts: &StatusCounts) -> String {
    format!(
        "{} pass, {} warn, {} fail, {} unknown, {} not applicable.",
        counts.pass, counts.warn, counts.fail, counts.unknown, counts.not_applicable
    )
}

fn check_details(check: &Check, level: usize) -> String {
    let mut text = format!(
        "\n{} {} · {}\n\n{}\n\n",
        "#".repeat(level),
        status_label(check.status),
        esc(&check.title),
        esc(&check.summary)
    );
    for evidence in &check.evidence {
        let _ = writeln!(
            text,
            "- Evidence {}: {} ({})",
            code(&evidence.name),
            esc(&evidence.value),
            source_word(evidence.source)
        );
    }
    if let Some(remedy) = &check.remedy {
        let _ = writeln!(text, "- Remedy: {}", esc(&remedy.text));
        if let Some(command) = &remedy.command {
            let _ = writeln!(text, "  - Command: {}", code(command));
        }
        if let Some(portal) = &remedy.portal {
            let _ = writeln!(text, "  - Portal: {}", esc(portal));
        }
    }
    if let Some(points) = &check.points {
        let _ = writeln!(
            text,
            "- Secure Score {}: {}",
            code(&points.control),
            points_of(points)
        );
    }
    text
}

/// A URL as a Markdown autolink when it is safe and fits in one (`<…>` holds no space, `<`
/// or `>`), else as escaped text.
pub(super) fn url_text(url: &str) -> String {
    match safe_link(url) {
        Some(href) if !href.contains([' ', '<', '>']) => format!("<{href}>"),
        _ => esc(url),
    }
}
