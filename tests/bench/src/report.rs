//! The figures: ratios against their targets, the machine, and BENCHMARKS.md, whose
//! hand-written preamble is kept and whose scenario sections are replaced one by one.

use std::fmt::Write as _;
use std::process::Command;

use time::OffsetDateTime;
use time::macros::format_description;

/// The line after which the file is generated.
pub const GENERATED_MARKER: &str =
    "<!-- sspr-bench writes everything below this line; edit the text above it. -->";

/// The preamble of a new BENCHMARKS.md.
const DEFAULT_PREAMBLE: &str = "# Benchmarks

`sspr-bench` measures the registrations listing and summaries from the outside: it starts the
release binaries of the emulator, the service and the CLI as separate processes on this machine,
times them and reads their peak memory (`VmHWM`). Run it with

```sh
cargo build --release --workspace --bins
cargo run --release -p sspr-bench -- --scenario all     # or a … f; --quick for a smoke run
```

Scenarios: (a) one tenant of 100,000 users without throttling: records/s through the service and
the CLI divided by those of a minimal direct reader of the emulator; (b) the same with Graph's
limits on: wall time divided by the ideal (report pages ÷ 5 per 10 s); (c) 200 tenants × 2,000
users with Graph's limits: the fleet summary's wall time divided by the ideal (pages ÷ the
tighter of 122 per 10 s for the app and 5 per 10 s per tenant); (d) 1,000,000 users to CSV: the
peak memory of the service and the CLI at 100,000 and at 1,000,000 users; (e) 200 clients
reading one tenant's policy document for 60 s: p50/p99 latency (target p99 ≤ 50 ms for cached
reads), Graph calls per second against the directory ceiling, and the cached p50 against a raw
read of the same Graph facts from the emulator; (f) 500 tenants onboarded through the API on the
default app: `GET /v1/tenants` p50/p99 (target p99 ≤ 100 ms).
";

/// What a ratio should be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    AtLeast(f64),
    AtMost(f64),
}

impl Target {
    pub fn met_by(self, value: f64) -> bool {
        match self {
            Target::AtLeast(min) => value >= min,
            Target::AtMost(max) => value <= max,
        }
    }

    pub fn text(self) -> String {
        match self {
            Target::AtLeast(min) => format!("≥ {min}"),
            Target::AtMost(max) => format!("≤ {max}"),
        }
    }
}

/// `value` against `target`: `0.93 (target ≥ 0.8: met)`.
pub fn verdict(value: f64, target: Target) -> String {
    let outcome = if target.met_by(value) {
        "met"
    } else {
        "missed"
    };
    format!("{value:.2} (target {}: {outcome})", target.text())
}

/// `measured / ideal`, the benchmark's ratios; `NaN` without an ideal.
pub fn ratio(measured: f64, ideal: f64) -> f64 {
    if ideal > 0.0 {
        measured / ideal
    } else {
        f64::NAN
    }
}

/// The ideal time to read `pages` report pages at `per_window` requests per `window_secs`.
pub fn ideal_secs(pages: u64, per_window: u32, window_secs: f64) -> f64 {
    #[allow(clippy::cast_precision_loss)] // page counts are small
    let pages = pages as f64;
    pages / (f64::from(per_window) / window_secs)
}

pub fn mib(kib: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // memory sizes are far below 2^52
    let mib = kib as f64 / 1024.0;
    format!("{mib:.1} MiB")
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut text = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// Where and when the figures were taken.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpus: usize,
    pub model: String,
    pub memory: String,
    pub date: String,
    pub commit: String,
}

impl Machine {
    /// The machine, now, and the commit of the repository at `root`.
    pub fn detect(root: &std::path::Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .map_or_else(
                || "unknown".to_owned(),
                |kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0),
            );
        let date = OffsetDateTime::now_utc()
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .unwrap_or_default();
        let git = |args: &[&str]| {
            Command::new("git")
                .current_dir(root)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        };
        let mut commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
        if git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty()) {
            commit.push_str(" (with uncommitted changes)");
        }
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            model,
            memory,
            date,
            commit,
        }
    }

    pub fn line(&self) -> String {
        format!(
            "{} at commit {} on {} × {}, {} memory",
            self.date, self.commit, self.cpus, self.model, self.memory
        )
    }
}

/// One scenario's section: its title, what it measured, and a table of figures.
#[derive(Debug, Clone)]
pub struct Section {
    /// `a` to `d`.
    pub key: char,
    pub title: String,
    pub rows: Vec<(String, String)>,
    pub notes: Vec<String>,
}

impl Section {
    pub fn new(key: char, title: impl Into<String>) -> Section {
        Section {
            key,
            title: title.into(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn row(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.rows.push((name.into(), value.into()));
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// The section as Markdown between its markers.
    pub fn markdown(&self, machine: &Machine) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "<!-- scenario {} -->", self.key);
        let _ = writeln!(text, "### ({}) {}\n", self.key, self.title);
        let _ = writeln!(text, "Measured {}.\n", machine.line());
        let _ = writeln!(text, "| measure | value |\n|---|---|");
        for (name, value) in &self.rows {
            let _ = writeln!(text, "| {name} | {value} |");
        }
        for note in &self.notes {
            let _ = writeln!(text, "\n{note}");
        }
        let _ = writeln!(text, "<!-- /scenario {} -->", self.key);
        text
    }

    /// The section as plain text for the terminal.
    pub fn text(&self) -> String {
        let mut text = format!("({}) {}\n", self.key, self.title);
        let width = self
            .rows
            .iter()
            .map(|(n, _)| n.chars().count())
            .max()
            .unwrap_or(0);
        for (name, value) in &self.rows {
            let _ = writeln!(text, "  {name:<width$}  {value}");
        }
        for note in &self.notes {
            let _ = writeln!(text, "  {note}");
        }
        text
    }
}

/// The scenarios, in the order BENCHMARKS.md lists them.
pub const SCENARIOS: [char; 8] = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/// The new file: the old preamble (or the default), then every scenario section, the new ones
/// replacing the old ones with the same key and the old ones kept otherwise.
pub fn merge(existing: Option<&str>, sections: &[Section], machine: &Machine) -> String {
    let (preamble, generated) = match existing.and_then(|e| e.split_once(GENERATED_MARKER)) {
        Some((preamble, generated)) => (preamble.trim_end().to_owned(), generated.to_owned()),
        None => (
            existing.map_or_else(
                || DEFAULT_PREAMBLE.trim_end().to_owned(),
                |e| e.trim_end().to_owned(),
            ),
            String::new(),
        ),
    };
    let mut text = format!("{preamble}\n\n{GENERATED_MARKER}\n\n## Results\n\n");
    for key in SCENARIOS {
        if let Some(section) = sections.iter().find(|s| s.key == key) {
            text.push_str(&section.markdown(machine));
            text.push('\n');
        } else if let Some(old) = old_section(&generated, key) {
            text.push_str(old.trim_end());
            text.push_str("\n\n");
        }
    }
    format!("{}\n", text.trim_end())
}

fn old_section(generated: &str, key: char) -> Option<String> {
    let start_marker = format!("<!-- scenario {key} -->");
    let end_marker = format!("<!-- /scenario {key} -->");
    let start = generated.find(&start_marker)?;
    let end = generated[start..].find(&end_marker)? + start + end_marker.len();
    Some(generated[start..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Machine {
        Machine {
            cpus: 2,
            model: "AMD EPYC".into(),
            memory: "23.5 GiB".into(),
            date: "2026-11-25 14:00 UTC".into(),
            commit: "abc1234".into(),
        }
    }

    #[test]
    fn every_scenario_of_the_command_line_is_kept_in_the_file() {
        let sections: Vec<Section> = SCENARIOS
            .iter()
            .map(|key| Section::new(*key, format!("scenario {key}")))
            .collect();
        let text = merge(None, &sections, &machine());
        for key in SCENARIOS {
            assert!(text.contains(&format!("<!-- scenario {key} -->")), "{key}");
        }
        // A later run of one scenario keeps the others.
        let again = merge(Some(&text), &[Section::new('f', "again")], &machine());
        assert!(
            again.contains("again") && again.contains("scenario e"),
            "{again}"
        );
    }

    #[test]
    fn ratios_and_ideals_follow_the_definitions() {
        // 101 pages at 5 per 10 s take 202 s at best.
        assert!((ideal_secs(101, 5, 10.0) - 202.0).abs() < 1e-9);
        // 450 pages at 122 per 10 s.
        assert!((ideal_secs(450, 122, 10.0) - 36.885_245_9).abs() < 1e-6);
        assert!((ratio(222.2, 202.0) - 1.1).abs() < 1e-9);
        assert!(ratio(1.0, 0.0).is_nan());
        assert_eq!(
            verdict(0.934, Target::AtLeast(0.8)),
            "0.93 (target ≥ 0.8: met)"
        );
        assert_eq!(
            verdict(1.15, Target::AtMost(1.1)),
            "1.15 (target ≤ 1.1: missed)"
        );
        assert!(!Target::AtLeast(0.8).met_by(f64::NAN));
    }

    #[test]
    fn units_read_well() {
        assert_eq!(mib(65_536), "64.0 MiB");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn merging_keeps_the_preamble_and_the_sections_not_rerun() {
        let mut a = Section::new('a', "First");
        a.row("ratio", "0.9");
        let first = merge(Some("# Mine\n\nHand-written.\n"), &[a], &machine());
        assert!(
            first.starts_with("# Mine\n\nHand-written.\n\n<!-- sspr-bench"),
            "{first}"
        );
        assert!(first.contains("| ratio | 0.9 |"), "{first}");

        let mut b = Section::new('b', "Second");
        b.row("ratio", "1.0");
        let second = merge(Some(&first), &[b], &machine());
        assert!(
            second.starts_with("# Mine\n\nHand-written.\n\n<!-- sspr-bench"),
            "{second}"
        );
        assert!(
            second.contains("| ratio | 0.9 |") && second.contains("| ratio | 1.0 |"),
            "{second}"
        );
        assert!(second.find("### (a)") < second.find("### (b)"));

        let mut a2 = Section::new('a', "First again");
        a2.row("ratio", "0.95");
        let third = merge(Some(&second), &[a2], &machine());
        assert!(!third.contains("| ratio | 0.9 |"), "{third}");
        assert!(third.contains("| ratio | 0.95 |") && third.contains("| ratio | 1.0 |"));
        assert_eq!(third.matches(GENERATED_MARKER).count(), 1);

        let fresh = merge(None, &[], &machine());
        assert!(fresh.starts_with("# Benchmarks"), "{fresh}");
    }
}
