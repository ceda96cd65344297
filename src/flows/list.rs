//! `kip list [TARGET]`: the target's installed distributions and who installed each, read from
//! disk (`*.dist-info/INSTALLER`, `conda-meta/*.json`) — no interpreter runs.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::install::target::{self, TargetArgs, TargetError};
use crate::python::packages::{packages, Package};
use crate::python::probe::Prober;

#[derive(Serialize)]
struct Listing {
    prefix: PathBuf,
    python: PathBuf,
    packages: Vec<Package>,
}

pub fn run(
    ctx: &Context,
    prober: &Prober,
    args: &TargetArgs,
    jupyter: Option<&Path>,
    json: bool,
) -> anyhow::Result<i32> {
    let t = match target::resolve_with(
        ctx,
        prober,
        &mut crate::render::terminal::Terminal::new(),
        jupyter,
        args,
    )? {
        Ok(t) => t,
        Err(TargetError::Usage(m)) => {
            eprintln!("kip list: {m}");
            return Ok(2);
        }
        Err(TargetError::NotFound(m)) => {
            eprintln!("kip list: {m}");
            return Ok(1);
        }
    };
    eprintln!("target: {} ({})", t.env.prefix.display(), t.why);
    let pkgs = packages(&t.env.site_packages, &t.env.prefix);
    if json {
        let doc = Listing {
            prefix: t.env.prefix.clone(),
            python: t.python.clone(),
            packages: pkgs,
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(0);
    }
    let w = pkgs.iter().map(|p| p.name.len()).max().unwrap_or(4).max(4);
    let vw = pkgs
        .iter()
        .map(|p| p.version.len())
        .max()
        .unwrap_or(7)
        .max(7);
    println!("{:w$}  {:vw$}  installer", "name", "version");
    for p in &pkgs {
        println!("{:w$}  {:vw$}  {}", p.name, p.version, p.installer);
    }
    Ok(0)
}
