//! `kip list [TARGET]`: the target's installed distributions and who installed each, read from
//! disk (`*.dist-info/INSTALLER`, `conda-meta/*.json`) — no interpreter runs.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::install::names;
use crate::install::target::{self, TargetArgs, TargetError};
use crate::python::probe::Prober;
use crate::python::site;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// `conda`, `pip`, `uv`, `uv-pixi`, … (`INSTALLER`, or a conda-meta record).
    pub installer: String,
    /// The `.dist-info` directory or the conda-meta record.
    pub location: PathBuf,
}

/// conda-meta records: (name, version, record path).
pub fn conda_records(prefix: &Path) -> Vec<(String, String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(prefix.join("conda-meta")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let (Some(n), Some(ver)) = (
            v.get("name").and_then(|x| x.as_str()),
            v.get("version").and_then(|x| x.as_str()),
        ) {
            out.push((n.to_string(), ver.to_string(), p));
        }
    }
    out
}

/// Every installed distribution of an environment (site-packages dirs + conda-meta).
pub fn packages(site_packages: &[PathBuf], prefix: &Path) -> Vec<Package> {
    let conda = conda_records(prefix);
    let mut out: Vec<Package> = Vec::new();
    for sp in site_packages {
        for d in site::installed_distributions(sp) {
            let conda_owned = conda.iter().any(|(n, _, _)| {
                names::normalize_dist_name(n) == d.normalized_name
                    || names::conda_name(n) == names::conda_name(&d.name)
            });
            let installer = if conda_owned {
                "conda".to_string()
            } else {
                d.installer.clone().unwrap_or_else(|| "unknown".into())
            };
            if !out
                .iter()
                .any(|p| names::normalize_dist_name(&p.name) == d.normalized_name)
            {
                out.push(Package {
                    name: d.name.clone(),
                    version: d.version.clone(),
                    installer,
                    location: d.dist_info.clone(),
                });
            }
        }
    }
    for (n, v, p) in conda {
        if !out
            .iter()
            .any(|x| names::conda_name(&x.name) == names::conda_name(&n))
        {
            out.push(Package {
                name: n,
                version: v,
                installer: "conda".into(),
                location: p,
            });
        }
    }
    out.sort_by_key(|p| names::normalize_dist_name(&p.name));
    out
}

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
    let t = match target::resolve_with(ctx, prober, jupyter, args)? {
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
