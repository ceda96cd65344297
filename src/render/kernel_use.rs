//! `kip kernel use`: what happened to each notebook for people, or the report as JSON; the
//! warnings and per-notebook errors go to stderr beside either.

use std::fmt::Write;

use crate::flows::kernel_use::Report;
use crate::notebook::use_kernel::UseReport;
use crate::render::Output;

use super::{error, warn};

pub fn human(report: &Report) -> Output {
    let (stdout, stderr) = report.result.as_ref().map(lines).unwrap_or_default();
    Output {
        stdout,
        stderr,
        styled: true,
    }
}

/// The JSON document; the warnings stay on stderr as they are.
pub fn json(report: &Report) -> Output {
    Output {
        stdout: super::json_line(&report.result),
        stderr: report
            .result
            .as_ref()
            .map(|r| lines(r).1)
            .unwrap_or_default(),
        styled: false,
    }
}

/// What happened to each notebook (stdout) and the warnings (stderr).
fn lines(r: &UseReport) -> (String, String) {
    let (mut out, mut err) = (String::new(), String::new());
    for n in &r.notebooks {
        let path = n.path.display();
        if let Some(e) = &n.error {
            let _ = writeln!(err, "{} {e}", error("error:"));
            continue;
        }
        if n.changed {
            let was = n.previous.as_deref().unwrap_or("no kernel");
            let _ = writeln!(out, "{path}: kernel {} (was {was})", r.kernel);
            if let Some(b) = &n.backup {
                let _ = writeln!(out, "  backup {}", b.display());
            }
        } else {
            let _ = writeln!(out, "{path}: already uses kernel {}", r.kernel);
        }
        for o in &n.open_in {
            let _ = writeln!(
                err,
                "{} {path} is open in the Jupyter server {} (pid {}): reload it there (File › Reload Notebook from Disk) before you save, or the server writes the old kernel back; its running kernel ({}) stays until you change or restart it",
                warn("warning:"),
                o.server_url.as_deref().unwrap_or("?"),
                o.server_pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                o.kernel_name.as_deref().unwrap_or("?"),
            );
        }
    }
    (out, err)
}
