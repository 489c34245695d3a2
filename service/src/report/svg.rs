//! The charts, as inline SVG (a page with no image or script of its own to load): bars for
//! registration coverage and Secure Score points, and the tenants × checks heat map. Every
//! shape that stands for a status carries the status's symbol too, and a `<title>` in words.

use std::fmt::Write;

use sspr_api::readiness::{CheckStatus, ReadinessMatrix};

use super::escape;
use super::labels::{status_symbol, status_word};

/// The bar's track, in SVG user units; the text goes to its right.
const BAR_LENGTH: usize = 320;
const BAR_HEIGHT: usize = 18;
const BAR_TEXT_WIDTH: usize = 420;

/// A bar `fraction` (0 to 1) full, in the colour of `status`, with `text` beside it and as its
/// accessible name.
pub fn bar(fraction: f64, status: CheckStatus, text: &str) -> String {
    let fill = (fraction.clamp(0.0, 1.0) * BAR_LENGTH as f64).round();
    let text = escape::html(text);
    let width = BAR_LENGTH + BAR_TEXT_WIDTH;
    let height = BAR_HEIGHT + 8;
    let status = status.as_str();
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"bar\" role=\"img\" aria-label=\"{text}\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{text}</title>\
         <rect class=\"track\" x=\"0\" y=\"4\" width=\"{BAR_LENGTH}\" height=\"{BAR_HEIGHT}\" rx=\"3\"/>\
         <rect class=\"s-{status}\" x=\"0\" y=\"4\" width=\"{fill}\" height=\"{BAR_HEIGHT}\" rx=\"3\"/>\
         <text x=\"{x}\" y=\"{y}\">{text}</text></svg>",
        x = BAR_LENGTH + 10,
        y = BAR_HEIGHT,
    );
    svg
}

const CELL_WIDTH: usize = 30;
const CELL_HEIGHT: usize = 24;
/// Room above the cells for the check titles, drawn slanted.
const HEADER_HEIGHT: usize = 210;
/// Room right of the last column for the last slanted title.
const HEADER_OVERHANG: usize = 150;
/// A domain longer than this is cut in its row label (whole in the row's `<title>`).
const LABEL_CHARACTERS: usize = 44;
/// Approximate width of one character of a row label, in user units.
const CHARACTER_WIDTH: usize = 7;

/// The tenants × checks heat map: a row per tenant, a column per check, each cell in the
/// colour of its status with the status's symbol in it. A tenant with a problem has one band
/// across its row, `problem_of(tenant)`'s words in its `<title>` (the page lists them in full:
/// a band has no room for a sentence).
pub fn heat_map(matrix: &ReadinessMatrix, problem_of: impl Fn(&str) -> String) -> String {
    let longest = matrix
        .rows
        .iter()
        .map(|row| row.domain.chars().count().min(LABEL_CHARACTERS + 1))
        .max()
        .unwrap_or(0);
    let label_width = longest * CHARACTER_WIDTH + 16;
    let columns = matrix.checks.len();
    let width = label_width + columns * CELL_WIDTH + HEADER_OVERHANG;
    let height = HEADER_HEIGHT + matrix.rows.len() * CELL_HEIGHT + 4;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"heat-map\" role=\"img\" aria-label=\"Tenants by checks: the status of every \
         check of every tenant\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} \
         {height}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (column, id) in matrix.checks.iter().enumerate() {
        let x = label_width + column * CELL_WIDTH + CELL_WIDTH / 2;
        let _ = write!(
            svg,
            "<text class=\"column\" transform=\"translate({x},{y}) rotate(-55)\">{title}</text>",
            y = HEADER_HEIGHT - 6,
            title = escape::html(id.title()),
        );
    }
    for (line, row) in matrix.rows.iter().enumerate() {
        let y = HEADER_HEIGHT + line * CELL_HEIGHT;
        let domain = escape::html(&row.domain);
        let shown = if row.domain.chars().count() > LABEL_CHARACTERS {
            let cut: String = row.domain.chars().take(LABEL_CHARACTERS - 1).collect();
            escape::html(&format!("{cut}…"))
        } else {
            domain.clone()
        };
        let _ = write!(
            svg,
            "<text class=\"row\" x=\"{x}\" y=\"{text_y}\" text-anchor=\"end\"><title>{domain}</title>{shown}</text>",
            x = label_width - 8,
            text_y = y + CELL_HEIGHT / 2 + 4,
        );
        match &row.statuses {
            Some(statuses) => {
                for (column, (id, status)) in matrix.checks.iter().zip(statuses).enumerate() {
                    let x = label_width + column * CELL_WIDTH;
                    let _ = write!(
                        svg,
                        "<g class=\"cell\" data-tenant=\"{domain}\" data-check=\"{id}\" \
                         data-status=\"{status}\"><title>{domain}: {title}: {word}</title>\
                         <rect class=\"s-{status}\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\"/>\
                         <text x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\">{symbol}</text></g>",
                        id = id.as_str(),
                        status = status.as_str(),
                        title = escape::html(id.title()),
                        word = status_word(*status),
                        w = CELL_WIDTH - 2,
                        h = CELL_HEIGHT - 2,
                        cx = x + CELL_WIDTH / 2 - 1,
                        cy = y + CELL_HEIGHT / 2 + 4,
                        symbol = status_symbol(*status),
                    );
                }
            }
            None => {
                let problem = escape::html(&problem_of(&row.tenant));
                let _ = write!(
                    svg,
                    "<g class=\"cell\" data-tenant=\"{domain}\" data-status=\"problem\">\
                     <title>{domain}: no readiness: {problem}</title>\
                     <rect class=\"s-problem\" x=\"{label_width}\" y=\"{y}\" width=\"{w}\" height=\"{h}\"/>\
                     <text x=\"{tx}\" y=\"{ty}\">✗ no readiness (why: below)</text></g>",
                    w = columns * CELL_WIDTH - 2,
                    h = CELL_HEIGHT - 2,
                    tx = label_width + 8,
                    ty = y + CELL_HEIGHT / 2 + 4,
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspr_api::readiness::FleetReadiness;

    #[test]
    fn a_bar_is_as_full_as_its_fraction_and_says_so_in_words() {
        let svg = bar(0.5, CheckStatus::Warn, "240 of 480 <registered>");
        assert!(svg.contains(&format!("width=\"{}\"", BAR_LENGTH / 2)));
        assert!(svg.contains("class=\"s-warn\""));
        assert!(svg.contains("<title>240 of 480 &lt;registered&gt;</title>"));
        let overfull = bar(7.0, CheckStatus::Pass, "x");
        assert!(overfull.contains(&format!(
            "class=\"s-pass\" x=\"0\" y=\"4\" width=\"{BAR_LENGTH}\""
        )));
    }

    #[test]
    fn the_heat_map_has_a_cell_per_tenant_and_check_and_a_band_per_problem() {
        let fleet: FleetReadiness =
            serde_json::from_value(sspr_api::examples::fleet_readiness()).expect("the example");
        let svg = heat_map(&fleet.matrix, |tenant| format!("problem of {tenant}"));
        let row = fleet.matrix.rows[0]
            .statuses
            .as_ref()
            .expect("Contoso has statuses");
        for (id, status) in fleet.matrix.checks.iter().zip(row) {
            let cell = format!(
                "data-tenant=\"contoso.onmicrosoft.com\" data-check=\"{}\" data-status=\"{}\"",
                id.as_str(),
                status.as_str()
            );
            assert_eq!(svg.matches(&cell).count(), 1, "{cell}");
        }
        assert_eq!(
            svg.matches("class=\"cell\"").count(),
            fleet.matrix.checks.len() + 1
        );
        assert!(svg.contains("data-tenant=\"fabrikam.onmicrosoft.com\" data-status=\"problem\""));
        assert!(svg.contains("problem of 8a6e4d2c-1b3f-4c5d-a7e9-0f1e2d3c4b5a"));
        for id in &fleet.matrix.checks {
            assert!(svg.contains(&escape::html(id.title())), "{id:?}'s column");
        }
    }
}
