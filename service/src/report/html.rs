//! Tenant and fleet readiness as HTML pages: every check with its status (symbol and word),
//! summary, evidence (value and source), remedy (command and portal path) and points; the
//! coverage and points as bars; across the fleet, the tenants × checks heat map first.
//! Each check's element carries `data-check` and `data-status`, inside an element carrying
//! the tenant's `data-tenant`, so a browser test can find them in the rendered page.

use std::fmt::Write;

use sspr_api::readiness::{
    Check, CheckStatus, FleetReadiness, FleetReadinessEntry, StatusCounts, TenantReadiness,
};

use super::escape::html as esc;
use super::facts::{Coverage, control_points, points_of, points_text, problem_text};
use super::labels::{source_word, status_label};
use super::page::{html_page, link};
use super::svg;

/// One tenant's readiness as a page.
pub fn tenant_html(readiness: &TenantReadiness) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<header>\n<h1>Self-service password reset readiness</h1>\n{}</header>\n",
        tenant_meta(readiness)
    );
    body.push_str(&tenant_section(readiness, 2, false));
    html_page(
        &format!("SSPR readiness: {}", readiness.tenant.display_name),
        &body,
    )
}

/// The fleet's readiness as a page: the heat map, coverage and points per tenant, the tenants
/// without readiness and why, then each tenant's checks.
pub fn fleet_html(fleet: &FleetReadiness) -> String {
    let read = fleet
        .tenants
        .iter()
        .filter(|entry| entry.readiness.is_some())
        .count();
    let overall = StatusCounts::of(
        fleet
            .tenants
            .iter()
            .filter_map(|entry| entry.readiness.as_ref().map(|r| r.status)),
    );
    let mut body = String::new();
    let _ = write!(
        body,
        "<header>\n<h1>Self-service password reset readiness across the fleet</h1>\n\
         <p class=\"meta\">{total} tenants: {read} read, {without} without readiness.</p>\n\
         <p>Tenants by their overall status:</p>\n{counts}</header>\n",
        total = fleet.tenants.len(),
        without = fleet.tenants.len() - read,
        counts = counts_list(&overall, Some(fleet.tenants.len() - read)),
    );
    body.push_str("<section class=\"matrix\">\n<h2>Tenants × checks</h2>\n");
    body.push_str(&svg::heat_map(&fleet.matrix, |tenant| {
        problem_text(entry_of(fleet, tenant).and_then(|entry| entry.problem.as_ref()))
    }));
    body.push_str("\n<p class=\"legend\">");
    for status in CheckStatus::ALL {
        let _ = write!(body, "{} ", badge(status));
    }
    body.push_str("</p>\n</section>\n");

    body.push_str(
        "<section class=\"overview\">\n<h2>Registration coverage and Secure Score points still available</h2>\n\
         <table>\n<thead><tr><th>Tenant</th><th>Overall</th><th>Registration coverage</th>\
         <th>Points still available</th></tr></thead>\n<tbody>\n",
    );
    for row in &fleet.matrix.rows {
        let Some(readiness) = entry_of(fleet, &row.tenant).and_then(|e| e.readiness.as_ref())
        else {
            continue;
        };
        let coverage = Coverage::of(readiness).map_or_else(
            || "not known".to_owned(),
            |coverage| coverage_bar(readiness, coverage),
        );
        let points = readiness.points.as_ref().map_or_else(
            || "not read".to_owned(),
            |points| {
                format!(
                    "{} of {}",
                    points_text(points.available),
                    points_text(points.max)
                )
            },
        );
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{coverage}</td><td>{points}</td></tr>",
            esc(&row.domain),
            badge(readiness.status),
        );
    }
    body.push_str("</tbody>\n</table>\n</section>\n");

    let problems: Vec<&FleetReadinessEntry> = fleet
        .matrix
        .rows
        .iter()
        .filter_map(|row| entry_of(fleet, &row.tenant))
        .filter(|entry| entry.readiness.is_none())
        .collect();
    if !problems.is_empty() {
        body.push_str("<section class=\"problems\">\n<h2>Tenants without readiness</h2>\n<ul>\n");
        for entry in problems {
            let _ = writeln!(
                body,
                "<li class=\"tenant-problem\" data-tenant=\"{domain}\"><span class=\"badge s-problem\">✗ no readiness</span> \
                 <strong>{domain}</strong> ({id}): {problem}</li>",
                domain = esc(&entry.domain),
                id = esc(&entry.tenant),
                problem = esc(&problem_text(entry.problem.as_ref())),
            );
        }
        body.push_str("</ul>\n</section>\n");
    }

    for row in &fleet.matrix.rows {
        if let Some(readiness) = entry_of(fleet, &row.tenant).and_then(|e| e.readiness.as_ref()) {
            let _ = write!(
                body,
                "<h2 class=\"tenant-title\">{}</h2>\n{}",
                esc(&readiness.tenant.display_name),
                tenant_meta(readiness)
            );
            body.push_str(&tenant_section(readiness, 3, true));
        }
    }
    html_page("SSPR readiness across the fleet", &body)
}

/// The entry of the tenant with id `tenant`.
fn entry_of<'a>(fleet: &'a FleetReadiness, tenant: &str) -> Option<&'a FleetReadinessEntry> {
    fleet.tenants.iter().find(|entry| entry.tenant == tenant)
}

fn badge(status: CheckStatus) -> String {
    format!(
        "<span class=\"badge s-{}\">{}</span>",
        status.as_str(),
        status_label(status)
    )
}

fn tenant_meta(readiness: &TenantReadiness) -> String {
    format!(
        "<p class=\"meta\">{name} · {domain} · tenant {id} · read at {read_at}</p>\n\
         <p class=\"overall\">Overall: {badge}</p>\n",
        name = esc(&readiness.tenant.display_name),
        domain = esc(&readiness.tenant.domain),
        id = esc(&readiness.tenant.id),
        read_at = esc(&readiness.read_at),
        badge = badge(readiness.status),
    )
}

fn counts_list(counts: &StatusCounts, problems: Option<usize>) -> String {
    let mut list = String::from("<ul class=\"counts\">");
    for (status, count) in [
        (CheckStatus::Pass, counts.pass),
        (CheckStatus::Warn, counts.warn),
        (CheckStatus::Fail, counts.fail),
        (CheckStatus::Unknown, counts.unknown),
        (CheckStatus::NotApplicable, counts.not_applicable),
    ] {
        let _ = write!(list, "<li>{} {count}</li>", badge(status));
    }
    if let Some(problems) = problems {
        let _ = write!(
            list,
            "<li><span class=\"badge s-problem\">✗ no readiness</span> {problems}</li>"
        );
    }
    list.push_str("</ul>\n");
    list
}

fn coverage_bar(readiness: &TenantReadiness, coverage: Coverage) -> String {
    let status = readiness
        .checks
        .iter()
        .find(|c| c.id == sspr_api::readiness::CheckId::RegistrationCoverage)
        .map_or(CheckStatus::Unknown, |c| c.status);
    svg::bar(
        coverage.fraction(),
        status,
        &format!(
            "{} of {} SSPR-enabled members registered ({:.1}%)",
            coverage.registered,
            coverage.enabled,
            coverage.fraction() * 100.0
        ),
    )
}

/// A tenant's counts, charts, checks and portals, headings from `<h{level}>`. In a fleet page
/// (`in_fleet`) the header with the tenant's name comes from the caller.
fn tenant_section(readiness: &TenantReadiness, level: u8, in_fleet: bool) -> String {
    let sub = level + 1;
    let mut section = String::new();
    let _ = writeln!(
        section,
        "<section class=\"{class}\" data-tenant=\"{domain}\">",
        class = if in_fleet { "tenant" } else { "tenant single" },
        domain = esc(&readiness.tenant.domain),
    );
    section.push_str(&counts_list(&readiness.counts, None));

    let _ = writeln!(section, "<h{level}>Registration coverage</h{level}>");
    match Coverage::of(readiness) {
        Some(coverage) => section.push_str(&coverage_bar(readiness, coverage)),
        None => section.push_str("<p>Not known: see the registration coverage check.</p>"),
    }
    section.push('\n');

    let _ = writeln!(
        section,
        "<h{level}>Secure Score points still available</h{level}>"
    );
    match &readiness.points {
        Some(points) => {
            let fraction = if points.max > 0.0 {
                points.achieved / points.max
            } else {
                1.0
            };
            let status = if points.available > 0.0 {
                CheckStatus::Warn
            } else {
                CheckStatus::Pass
            };
            let _ = writeln!(
                section,
                "<p class=\"points-available\"><strong>{} points still available</strong> of {} for the two controls.</p>",
                points_text(points.available),
                points_text(points.max)
            );
            section.push_str(&svg::bar(
                fraction,
                status,
                &format!(
                    "{} of {} points achieved",
                    points_text(points.achieved),
                    points_text(points.max)
                ),
            ));
            section.push('\n');
        }
        None => section.push_str("<p>Secure Score could not be read.</p>\n"),
    }
    for points in control_points(readiness) {
        match (points.score, points.max_score) {
            (Some(score), Some(max)) if max > 0.0 => {
                let status = if score >= max {
                    CheckStatus::Pass
                } else {
                    CheckStatus::Warn
                };
                section.push_str(&svg::bar(
                    score / max,
                    status,
                    &format!(
                        "{}: {} of {} points",
                        points.control,
                        points_text(score),
                        points_text(max)
                    ),
                ));
                section.push('\n');
            }
            _ => {
                let _ = writeln!(section, "<p>{}: points not read.</p>", esc(&points.control));
            }
        }
    }

    let _ = writeln!(section, "<h{level}>Checks</h{level}>");
    for check in &readiness.checks {
        section.push_str(&check_article(check, sub));
    }

    let _ = writeln!(
        section,
        "<h{level}>Portals for users</h{level}>\n<ul class=\"portals\">"
    );
    for portal in &readiness.portals.all {
        let _ = writeln!(
            section,
            "<li>{}: {}</li>",
            link(&portal.url, &portal.url),
            esc(&portal.purpose)
        );
    }
    let _ = writeln!(
        section,
        "</ul>\n<p>This tenant's users register at {} and reset at {}.</p>\n</section>",
        link(
            &readiness.portals.registration,
            &readiness.portals.registration
        ),
        link(&readiness.portals.reset, &readiness.portals.reset),
    );
    section
}

fn check_article(check: &Check, level: u8) -> String {
    let status = check.status.as_str();
    let mut article = String::new();
    let _ = writeln!(
        article,
        "<article class=\"check s-{status}\" data-check=\"{id}\" data-status=\"{status}\">\n\
         <h{level}>{badge} {title}</h{level}>\n<p class=\"summary-line\">{summary}</p>",
        id = check.id.as_str(),
        badge = badge(check.status),
        title = esc(&check.title),
        summary = esc(&check.summary),
    );
    if !check.evidence.is_empty() {
        article.push_str(
            "<table class=\"evidence\"><thead><tr><th>Evidence</th><th>Value</th><th>Source</th></tr></thead><tbody>\n",
        );
        for evidence in &check.evidence {
            let _ = writeln!(
                article,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&evidence.name),
                esc(&evidence.value),
                source_word(evidence.source)
            );
        }
        article.push_str("</tbody></table>\n");
    }
    if let Some(remedy) = &check.remedy {
        let _ = writeln!(
            article,
            "<div class=\"remedy\"><p><strong>Remedy:</strong> {}</p>",
            esc(&remedy.text)
        );
        if let Some(command) = &remedy.command {
            let _ = writeln!(article, "<p>Command: <code>{}</code></p>", esc(command));
        }
        if let Some(portal) = &remedy.portal {
            let _ = writeln!(article, "<p>Portal: {}</p>", esc(portal));
        }
        article.push_str("</div>\n");
    }
    if let Some(points) = &check.points {
        let _ = writeln!(
            article,
            "<p class=\"points\">Secure Score <code>{}</code>: {}</p>",
            esc(&points.control),
            points_of(points)
        );
    }
    article.push_str("</article>\n");
    article
}
