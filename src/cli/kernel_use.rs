//! `kip kernel use NAME NOTEBOOK…` (`notebook::use_kernel`), rendered.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::notebook::use_kernel;

pub fn run(
    ctx: &Context,
    prober: &crate::python::probe::Prober,
    name: &str,
    notebooks: &[PathBuf],
    json: bool,
    jupyter: Option<&Path>,
) -> anyhow::Result<i32> {
    if let Err(e) = crate::install::target::check_kernel_name(name) {
        eprintln!("kip kernel use: {e}");
        return Ok(2);
    }
    let report = match use_kernel::use_kernel(ctx, prober, name, notebooks, jupyter)? {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kip kernel use: {e}");
            return Ok(1);
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        let (_, err) = crate::render::kernel_use::human(&report);
        eprint!("{err}");
    } else {
        let (out, err) = crate::render::kernel_use::human(&report);
        write!(crate::render::stdout(), "{out}")?;
        write!(anstream::stderr(), "{err}")?;
    }
    Ok(report.exit_code())
}
