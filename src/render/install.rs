//! `kip install`'s report for people and as JSON. Progress (the target, each command, the
//! proof) was shown by the reporter while it ran; what is left is the dry run's commands and
//! the JSON document (docs/json.md).

use crate::flows::install::Report;
use crate::render::Output;

/// A dry run's commands, on stdout (what would run, ready to copy).
fn dry_run_commands(report: &Report) -> String {
    match &report.result {
        Some(r) if r.dry_run && r.ok => r.commands.iter().map(|c| format!("  {c}\n")).collect(),
        _ => String::new(),
    }
}

pub fn human(report: &Report) -> Output {
    Output {
        stdout: dry_run_commands(report),
        stderr: String::new(),
        styled: false,
    }
}

/// The JSON document on stdout; a dry run's commands move to stderr beside it.
pub fn json(report: &Report) -> Output {
    Output {
        stdout: super::json_line(&report.result),
        stderr: dry_run_commands(report),
        styled: false,
    }
}
