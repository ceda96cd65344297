//! `kip uninstall`: everything for people was said while it ran; `--json` prints the report.

use crate::flows::uninstall::Report;
use crate::render::Output;

pub fn human(_report: &Report) -> Output {
    Output::default()
}

pub fn json(report: &Report) -> Output {
    Output::stdout(super::json_line(&report.result))
}
