//! Checks and their results, and the two ways to show them: a report for a terminal and a JSON
//! document whose shape stays put. Pure.

use serde_json::{Value, json};

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// What go-plugin's hosts rely on is there.
    Pass,
    /// Hosts cope, but users or operators will feel it.
    Warn,
    /// A go-plugin host misbehaves or fails with this plugin.
    Fail,
    /// Not run: not asked for, or what it needs failed earlier.
    Skip,
}

impl Status {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Status::Pass => "\x1b[32m",
            Status::Warn => "\x1b[33m",
            Status::Fail => "\x1b[31m",
            Status::Skip => "\x1b[2m",
        }
    }
}

/// One check's result: one line of evidence and, unless it passed, what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Check {
    /// Stable, dotted: `area.name`.
    pub(crate) id: &'static str,
    pub(crate) status: Status,
    pub(crate) evidence: String,
    pub(crate) fix: Option<String>,
}

impl Check {
    pub(crate) fn pass(id: &'static str, evidence: impl Into<String>) -> Check {
        Check {
            id,
            status: Status::Pass,
            evidence: evidence.into(),
            fix: None,
        }
    }

    pub(crate) fn skip(id: &'static str, why: impl Into<String>) -> Check {
        Check {
            id,
            status: Status::Skip,
            evidence: why.into(),
            fix: None,
        }
    }

    pub(crate) fn warn(
        id: &'static str,
        evidence: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            id,
            status: Status::Warn,
            evidence: evidence.into(),
            fix: Some(fix.into()),
        }
    }

    pub(crate) fn fail(
        id: &'static str,
        evidence: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            id,
            status: Status::Fail,
            evidence: evidence.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Everything one run found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Report {
    pub(crate) command: Vec<String>,
    /// What the host offered: cookie, versions, AutoMTLS, multiplexing.
    pub(crate) setup: String,
    pub(crate) checks: Vec<Check>,
}

impl Report {
    pub(crate) fn count(&self, status: Status) -> usize {
        self.checks
            .iter()
            .filter(|check| check.status == status)
            .count()
    }

    pub(crate) fn failed(&self) -> bool {
        self.count(Status::Fail) > 0
    }

    /// The report for a terminal, in colour when `colour`.
    pub(crate) fn to_text(&self, colour: bool) -> String {
        let paint = |status: Status, text: &str| {
            if colour {
                format!("{}{text}\x1b[0m", status.colour())
            } else {
                text.to_owned()
            }
        };
        let width = self
            .checks
            .iter()
            .map(|check| check.id.len())
            .max()
            .unwrap_or(0);
        let mut out = format!(
            "plugin-doctor: {}\n  host offers {}\n\n",
            self.command.join(" "),
            self.setup
        );
        for check in &self.checks {
            out.push_str(&format!(
                "{} {:width$}  {}\n",
                paint(check.status, check.status.label()),
                check.id,
                check.evidence
            ));
            if let Some(fix) = &check.fix {
                out.push_str(&format!("     {:width$}  fix: {fix}\n", ""));
            }
        }
        let summary = format!(
            "{} checks: {} passed, {} warned, {} failed, {} skipped",
            self.checks.len(),
            self.count(Status::Pass),
            self.count(Status::Warn),
            self.count(Status::Fail),
            self.count(Status::Skip)
        );
        let verdict = if self.failed() {
            Status::Fail
        } else {
            Status::Pass
        };
        out.push('\n');
        out.push_str(&paint(verdict, &summary));
        out.push('\n');
        out
    }

    /// The JSON document: `command`, `setup`, `checks` (in a fixed order, each with `id`,
    /// `status`, `evidence`, `fix`), `summary` (a count per status) and `ok`.
    pub(crate) fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|check| {
                json!({
                    "id": check.id,
                    "status": check.status.name(),
                    "evidence": check.evidence,
                    "fix": check.fix,
                })
            })
            .collect();
        json!({
            "command": self.command,
            "setup": self.setup,
            "checks": checks,
            "summary": {
                "pass": self.count(Status::Pass),
                "warn": self.count(Status::Warn),
                "fail": self.count(Status::Fail),
                "skip": self.count(Status::Skip),
            },
            "ok": !self.failed(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            command: vec!["./p".to_owned()],
            setup: "cookie K=V, versions 1".to_owned(),
            checks: vec![
                Check::pass("a.one", "fine"),
                Check::fail("b.two", "broken", "mend it"),
                Check::skip("c.three", "not asked"),
            ],
        }
    }

    #[test]
    fn text_has_a_line_per_check_fixes_and_a_summary() {
        let text = report().to_text(false);
        assert_eq!(
            text,
            "plugin-doctor: ./p\n  host offers cookie K=V, versions 1\n\n\
             PASS a.one    fine\n\
             FAIL b.two    broken\n\
             \x20             fix: mend it\n\
             SKIP c.three  not asked\n\n\
             3 checks: 1 passed, 0 warned, 1 failed, 1 skipped\n"
        );
        assert!(!text.contains('\x1b'));
        assert!(report().to_text(true).contains("\x1b[31mFAIL\x1b[0m"));
    }

    #[test]
    fn json_shape() {
        let json = report().to_json();
        assert_eq!(json["checks"][1]["id"], "b.two");
        assert_eq!(json["checks"][1]["status"], "fail");
        assert_eq!(json["checks"][1]["fix"], "mend it");
        assert_eq!(json["checks"][0]["fix"], Value::Null);
        assert_eq!(json["summary"]["fail"], 1);
        assert_eq!(json["ok"], false);
    }
}
