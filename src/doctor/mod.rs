//! `kip doctor`: every check of PRODUCT.md's findings catalog, one file per check family.
//! Checks read the model (resolved kernels, classified environments, PATH commands) and
//! return findings; they never print and never change anything (`--fix` is the CLI's job).

pub mod envs;
pub mod finding;
pub mod kernels;
pub mod notebook;
pub mod shell;
pub mod start;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::doctor::finding::{Finding, Severity};

/// `kip doctor --json`.
#[derive(Debug, Serialize)]
pub struct Report {
    pub checked: Checked,
    pub findings: Vec<Finding>,
    pub summary: BTreeMap<&'static str, usize>,
    /// The kernels kip started (or would not start, and why): PRODUCT.md's proof by starting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub starts: Vec<start::StartRecord>,
}

/// Everything examined, healthy or not.
#[derive(Debug, Default, Serialize)]
pub struct Checked {
    pub kernels: Vec<String>,
    pub environments: Vec<String>,
    pub commands: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notebooks: Vec<String>,
}

impl Report {
    pub fn new(checked: Checked, mut findings: Vec<Finding>) -> Report {
        findings.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then_with(|| a.subject.cmp(&b.subject))
        });
        findings.dedup();
        let mut summary = BTreeMap::new();
        for s in ["error", "warning", "info"] {
            summary.insert(s, 0);
        }
        for f in &findings {
            *summary.entry(f.severity.as_str()).or_insert(0) += 1;
        }
        Report {
            checked,
            findings,
            summary,
            starts: Vec::new(),
        }
    }

    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
}
