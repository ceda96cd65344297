//! `kip doctor`: every check of PRODUCT.md's findings catalog, one file per check family.
//! Checks read the model (resolved kernels, classified environments, PATH commands) and
//! return findings; they never print and never change anything (`--fix` is the CLI's job).

pub mod envs;
pub mod ephemeral;
pub mod finding;
pub mod kernels;
pub mod notebook;
pub mod placeholder;
pub mod shell;
pub mod stale;
pub mod start;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::doctor::finding::{Finding, FixOutcome, Severity};

/// `kip doctor --json`.
#[derive(Debug, Serialize)]
pub struct Report {
    pub checked: Checked,
    pub findings: Vec<Finding>,
    pub summary: BTreeMap<&'static str, usize>,
    /// With `--fix`: what was done about each automatic fix before this (re-)check.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<FixOutcome>,
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
    /// The report of `findings`: one cause across many kernels merged into one finding,
    /// ordered by severity, then errors about `first` (the notebook and its kernel) first, then
    /// by how surely each breaks the user's import.
    pub fn new(checked: Checked, findings: Vec<Finding>, first: &[String]) -> Report {
        let mut findings = merge_same_cause(findings);
        findings.sort_by(|a, b| {
            let about = |f: &Finding| !f.all_subjects().iter().any(|s| first.contains(s));
            a.severity
                .cmp(&b.severity)
                .then_with(|| about(a).cmp(&about(b)))
                .then_with(|| a.id.breakage_rank().cmp(&b.id.breakage_rank()))
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
            fixes: Vec::new(),
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

fn quote(s: &str) -> String {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

/// Findings of one id with the same `cause` become one: `subjects` lists them, the message
/// names them, and the fix (a command naming the first subject) names exactly them.
fn merge_same_cause(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in findings {
        let same = f.cause.as_ref().and_then(|c| {
            out.iter_mut()
                .find(|o| o.id == f.id && o.cause.as_ref() == Some(c))
        });
        match same {
            Some(o) => {
                if o.subjects.is_empty() {
                    o.subjects.push(o.subject.clone());
                }
                if !o.subjects.contains(&f.subject) {
                    o.subjects.push(f.subject.clone());
                }
            }
            None => out.push(f),
        }
    }
    for o in out.iter_mut().filter(|o| o.subjects.len() > 1) {
        let names: Vec<String> = o.subjects.iter().map(|s| quote(s)).collect();
        let cause = o.cause.clone().unwrap_or_default();
        o.message = format!(
            "inside kernels {}: {cause}",
            o.subjects
                .iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let first = format!(" {} ", quote(&o.subject));
        let text = format!("{} ", o.fix.text);
        if let Some(i) = text.find(&first) {
            o.fix.text = format!(
                "{} {} {}",
                &text[..i],
                names.join(" "),
                &text[i + first.len()..]
            )
            .trim_end()
            .to_string();
        }
    }
    out
}
