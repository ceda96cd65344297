//! `kip doctor`: every check of PRODUCT.md's findings catalog, one file per check family.
//! Checks read the model (resolved kernels, classified environments, PATH commands) and
//! return findings; they never print and never change anything (`--fix` is the CLI's job).

pub mod editable;
pub mod envs;
pub mod ephemeral;
pub mod finding;
pub mod kernels;
pub mod name_elsewhere;
pub mod notebook;
pub mod placeholder;
pub mod shared_module;
pub mod shell;
pub mod stale;
pub mod start;
pub mod unknown;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::doctor::finding::{Finding, FindingId, FixOutcome, Severity};

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
    // By an index, not a scan: on a hub one cause can span thousands of kernels.
    let mut index: HashMap<(FindingId, String), usize> = HashMap::new();
    let mut named: HashSet<(usize, String)> = HashSet::new();
    for f in findings {
        let Some(cause) = f.cause.clone() else {
            out.push(f);
            continue;
        };
        match index.get(&(f.id, cause.clone())) {
            Some(&i) => {
                let o = &mut out[i];
                if o.subjects.is_empty() {
                    o.subjects.push(o.subject.clone());
                }
                if named.insert((i, f.subject.clone())) {
                    o.subjects.push(f.subject.clone());
                }
            }
            None => {
                index.insert((f.id, cause), out.len());
                named.insert((out.len(), f.subject.clone()));
                out.push(f);
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(kernel: &str, cause: &str) -> Finding {
        Finding::new(
            FindingId::KernelShellMismatch,
            kernel,
            format!("inside kernel {kernel}: {cause}"),
            "why",
            format!("kip kernel fix {kernel} --yes"),
        )
        .with_cause(cause)
    }

    #[test]
    fn one_cause_is_one_finding_naming_each_kernel_once() {
        let mut many: Vec<Finding> = (0..3000)
            .map(|i| shell(&format!("k{i:04}"), "!pip reaches /usr/bin/pip"))
            .collect();
        many.push(shell("k0001", "!pip reaches /usr/bin/pip"));
        many.push(shell("other", "!python reaches /opt/python"));
        let mut plain = shell("lone", "x");
        plain.cause = None;
        many.push(plain.clone());
        let out = merge_same_cause(many);
        assert_eq!(out.len(), 3);
        let merged = &out[0];
        assert_eq!(merged.subjects.len(), 3000, "each kernel once");
        assert_eq!(merged.subjects[1], "k0001");
        assert!(merged
            .message
            .starts_with("inside kernels \"k0000\", \"k0001\""));
        assert!(merged
            .fix
            .text
            .starts_with("kip kernel fix k0000 k0001 k0002 "));
        assert!(
            merged.fix.text.ends_with(" k2999 --yes"),
            "{}",
            merged.fix.text
        );
        assert!(out[1].subjects.is_empty(), "another cause stays apart");
        assert_eq!(out[2], plain, "a finding without a cause is kept as it is");
    }
}
