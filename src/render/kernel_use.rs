//! Human rendering of `kip kernel use` (the JSON is the report itself).

use std::fmt::Write;

use crate::notebook::use_kernel::UseReport;

use super::{error, warn};

/// What happened to each notebook (stdout) and the warnings (stderr).
pub fn human(r: &UseReport) -> (String, String) {
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
