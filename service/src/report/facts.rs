//! What the reports take from the wire beyond its plain fields: a tenant's registration
//! coverage and the points of each Secure Score control (which the charts draw), and a fleet
//! entry's problem in words.

use serde_json::Value;
use sspr_api::readiness::{CheckId, Points, TenantReadiness};

/// SSPR-enabled members who registered, of all SSPR-enabled members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub registered: u64,
    pub enabled: u64,
}

impl Coverage {
    /// The coverage of the `registrationCoverage` check: its `coverage` evidence, which the
    /// wire gives as `"<registered> of <enabled>"` (the contract has no typed field for it; the
    /// report asks for one). None when the check or the evidence is missing or reads otherwise,
    /// and then no bar is drawn: the check's own text still says what was found.
    pub fn of(readiness: &TenantReadiness) -> Option<Coverage> {
        let check = readiness
            .checks
            .iter()
            .find(|check| check.id == CheckId::RegistrationCoverage)?;
        let evidence = check.evidence.iter().find(|e| e.name == "coverage")?;
        let (registered, enabled) = evidence.value.split_once(" of ")?;
        let coverage = Coverage {
            registered: registered.trim().parse().ok()?,
            enabled: enabled.trim().parse().ok()?,
        };
        (coverage.registered <= coverage.enabled).then_some(coverage)
    }

    /// The share registered, 0 to 1; 0 when nobody is enabled.
    pub fn fraction(self) -> f64 {
        if self.enabled == 0 {
            0.0
        } else {
            self.registered as f64 / self.enabled as f64
        }
    }
}

/// Each Secure Score control once, with its points, in the order the checks name them (two
/// checks can carry the same control: the enablement scope and the control's own check).
pub fn control_points(readiness: &TenantReadiness) -> Vec<&Points> {
    let mut controls: Vec<&Points> = Vec::new();
    for points in readiness.checks.iter().filter_map(|c| c.points.as_ref()) {
        if !controls.iter().any(|seen| seen.control == points.control) {
            controls.push(points);
        }
    }
    controls
}

/// A check's points in words: `9 of 9 points`, `9 points at stake`.
pub fn points_of(points: &Points) -> String {
    match (points.score, points.max_score) {
        (Some(score), Some(max)) => {
            format!("{} of {} points", points_text(score), points_text(max))
        }
        (Some(score), None) => format!("{} points", points_text(score)),
        (None, Some(max)) => format!("{} points at stake", points_text(max)),
        (None, None) => "points not read".to_owned(),
    }
}

/// A number of points as people write it: `9`, `2.5`.
pub fn points_text(points: f64) -> String {
    let rounded = (points * 100.0).round() / 100.0;
    format!("{rounded}")
}

/// A fleet entry's problem document (RFC 9457) in one line: its title and detail; "no
/// readiness" when it has neither (or there is no document).
pub fn problem_text(problem: Option<&Value>) -> String {
    let field = |name: &str| problem.and_then(|p| p.get(name)).and_then(Value::as_str);
    match (field("title"), field("detail")) {
        (Some(title), Some(detail)) => format!("{title}: {detail}"),
        (Some(text), None) | (None, Some(text)) => text.to_owned(),
        (None, None) => "no readiness".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspr_api::readiness::{Check, Evidence};

    fn example() -> TenantReadiness {
        serde_json::from_value(sspr_api::examples::tenant_readiness()).expect("the example")
    }

    fn with_coverage(value: &str) -> TenantReadiness {
        let mut readiness = example();
        let check: &mut Check = readiness
            .checks
            .iter_mut()
            .find(|c| c.id == CheckId::RegistrationCoverage)
            .expect("the coverage check");
        check.evidence = vec![Evidence {
            name: "coverage".into(),
            value: value.into(),
            source: sspr_api::policy::Source::Graph,
        }];
        readiness
    }

    #[test]
    fn coverage_is_read_from_the_coverage_evidence() {
        let coverage = Coverage::of(&example()).expect("the example has coverage");
        assert_eq!(
            coverage,
            Coverage {
                registered: 412,
                enabled: 480
            }
        );
        assert!((coverage.fraction() - 412.0 / 480.0).abs() < 1e-9);
        assert_eq!(
            Coverage::of(&with_coverage("0 of 0")).unwrap().fraction(),
            0.0
        );
    }

    #[test]
    fn coverage_that_reads_otherwise_draws_no_bar() {
        for value in ["unknown", "412/480", "481 of 480", "-1 of 3", "a of b", ""] {
            assert_eq!(Coverage::of(&with_coverage(value)), None, "{value:?}");
        }
        let mut without = example();
        without
            .checks
            .retain(|c| c.id != CheckId::RegistrationCoverage);
        assert_eq!(Coverage::of(&without), None);
    }

    #[test]
    fn each_control_is_counted_once() {
        let readiness = example();
        let controls: Vec<&str> = control_points(&readiness)
            .iter()
            .map(|p| p.control.as_str())
            .collect();
        assert_eq!(controls, ["SelfServicePasswordReset", "MFARegistrationV2"]);
        assert_eq!(points_text(9.0), "9");
        assert_eq!(points_text(2.504), "2.5");
    }

    #[test]
    fn a_problem_reads_as_its_title_and_detail() {
        let problem =
            serde_json::json!({ "title": "Token refused", "detail": "expired", "status": 502 });
        assert_eq!(problem_text(Some(&problem)), "Token refused: expired");
        let titled = serde_json::json!({ "title": "Gone" });
        assert_eq!(problem_text(Some(&titled)), "Gone");
        let bare = serde_json::json!({ "status": 500 });
        assert_eq!(problem_text(Some(&bare)), "no readiness");
        assert_eq!(problem_text(None), "no readiness");
    }
}
