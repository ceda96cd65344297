//! `kip list [TARGET]`: the target's installed distributions and who installed each, read from
//! disk (`*.dist-info/INSTALLER`, `conda-meta/*.json`) — no interpreter runs.

use std::path::PathBuf;

use serde::Serialize;

use crate::context::Context;
use crate::flows::Status;
use crate::install::target::TargetArgs;
use crate::python::packages::{packages, Package};
use crate::python::probe::Prober;
use crate::report::Reporter;

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub target: TargetArgs,
}

/// The listing (docs/json.md); `None` when no target was found.
#[derive(Debug, Default)]
pub struct Report {
    pub listing: Option<Listing>,
}

#[derive(Debug, Serialize)]
pub struct Listing {
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub prefix: PathBuf,
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub python: PathBuf,
    pub packages: Vec<Package>,
}

pub fn run(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    req: &Request,
) -> anyhow::Result<(Report, Status)> {
    let t = match super::resolve_target(ctx, prober, r, "list", &req.target)? {
        Ok(t) => t,
        Err(status) => return Ok((Report::default(), status)),
    };
    let listing = Listing {
        packages: packages(&t.env.site_packages, &t.env.prefix),
        prefix: t.env.prefix,
        python: t.python,
    };
    Ok((
        Report {
            listing: Some(listing),
        },
        Status::Success,
    ))
}
