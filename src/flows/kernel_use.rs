//! `kip kernel use NAME NOTEBOOK…`: point notebooks at a kernel (`notebook::use_kernel` does
//! the edits); the kernel name is checked before any notebook is read.

use std::path::PathBuf;

use crate::context::Context;
use crate::flows::Status;
use crate::install::target::check_kernel_name;
use crate::notebook::use_kernel::{use_kernel, UseReport};
use crate::python::probe::Prober;
use crate::report::{Event, Reporter};

const VERB: &str = "kernel use";

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub name: String,
    pub notebooks: Vec<PathBuf>,
    pub jupyter: Option<PathBuf>,
}

/// What happened to each notebook (docs/json.md); `None` when no notebook was touched (a bad
/// kernel name, or no such kernel).
#[derive(Debug, Default)]
pub struct Report {
    pub result: Option<UseReport>,
}

pub fn run(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    req: &Request,
) -> anyhow::Result<(Report, Status)> {
    if let Err(e) = check_kernel_name(&req.name) {
        r.event(Event::error(VERB, e.to_string()));
        return Ok((Report::default(), Status::Usage));
    }
    match use_kernel(
        ctx,
        prober,
        &req.name,
        &req.notebooks,
        req.jupyter.as_deref(),
    )? {
        Ok(report) => {
            let status = status(&report);
            Ok((
                Report {
                    result: Some(report),
                },
                status,
            ))
        }
        Err(e) => {
            r.event(Event::error(VERB, e.to_string()));
            Ok((Report::default(), Status::Failure))
        }
    }
}

/// Success when every notebook now names the kernel; bad usage when a notebook was bad input;
/// else a failure (a notebook that could not be read or written).
fn status(report: &UseReport) -> Status {
    if report.notebooks.iter().all(|n| n.error.is_none()) {
        Status::Success
    } else if report.notebooks.iter().any(|n| n.bad_input) {
        Status::Usage
    } else {
        Status::Failure
    }
}
