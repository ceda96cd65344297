//! `kip ps`: the running Jupyter servers and kernels (`jupyter::ps` reads them; nothing is
//! started). What it cannot read is in the report's `problems`, so it always succeeds.

use crate::context::Context;
use crate::flows::Status;
use crate::jupyter::ps::{ps, PsReport};
use crate::report::Reporter;

/// The servers, kernels and problems found (docs/json.md).
pub type Report = PsReport;

/// `kip ps` has no request: it takes no options besides its face's (`--json`, `--json-stream`).
pub fn run(ctx: &Context, r: &mut dyn Reporter) -> (Report, Status) {
    // Live servers are asked for their sessions over HTTP, which may take a moment.
    r.busy(Some("reading the running Jupyter servers and kernels"));
    let report = ps(ctx);
    r.busy(None);
    (report, Status::Success)
}
