//! `kip envs`: the inventory of Python environments and interpreters.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::context::Context;
use crate::python::discovery::{self, Found, Source};
use crate::python::environment::Evidence;
use crate::render;

#[derive(Serialize)]
struct JsonEnvs {
    environments: Vec<JsonEnv>,
    errors: Vec<JsonError>,
}

#[derive(Serialize)]
struct JsonEnv {
    #[serde(flatten)]
    env: crate::python::environment::Environment,
    sources: Vec<Source>,
    interpreters: Vec<PathBuf>,
    kernels: Vec<String>,
}

#[derive(Serialize)]
struct JsonError {
    interpreter: PathBuf,
    error: String,
}

/// Fill what disk could not decide (unknown version or site-packages) by probing, in parallel.
fn complete_by_probe(ctx: &Context, found: &mut [Found], errors: &mut Vec<JsonError>) {
    let need: Vec<usize> = (0..found.len())
        .filter(|&i| found[i].env.version.is_none() || found[i].env.site_packages.is_empty())
        .collect();
    let pythons: Vec<PathBuf> = need
        .iter()
        .map(|&i| found[i].env.interpreter.clone())
        .collect();
    for (i, r) in need.into_iter().zip(ctx.prober.query_many(&pythons)) {
        match r {
            Ok(info) => {
                let e = &mut found[i].env;
                e.version = Some(info.version);
                e.site_packages = info.site_packages.clone();
                e.base_prefix = Some(info.base_prefix.clone());
                e.user_site.enabled = info.enable_user_site;
                e.user_site.path = info.user_site.clone();
                e.has_pip = info.found.get("pip").is_some_and(Option::is_some);
                e.has_ipykernel = info.found.get("ipykernel").is_some_and(Option::is_some);
                e.externally_managed = info.externally_managed.clone();
                e.evidence = Evidence::Probe;
            }
            Err(err) => errors.push(JsonError {
                interpreter: pythons_path(&found[i]),
                error: err.to_string(),
            }),
        }
    }
}

fn pythons_path(f: &Found) -> PathBuf {
    f.env.interpreter.clone()
}

pub fn run(ctx: &Context, json: bool, kernel_users: &[(String, PathBuf)]) -> anyhow::Result<i32> {
    let extra: Vec<(PathBuf, Source)> = kernel_users
        .iter()
        .map(|(n, p)| (p.clone(), Source::Kernel(n.clone())))
        .collect();
    let mut found = discovery::discover(ctx, &extra);
    // Interpreters found on PATH that disk could not classify (wrapper scripts and the like).
    let mut errors = Vec::new();
    let unclassified: Vec<PathBuf> = discovery::path_dirs_unique(ctx)
        .into_iter()
        .flat_map(|d| ["python3", "python"].map(|n| d.join(n)))
        .filter(|p| p.is_file() && !crate::python::probe::is_pyenv_shim(p))
        .filter(|p| !found.iter().any(|f| f.interpreters.contains(p)))
        .collect();
    for (p, r) in unclassified
        .iter()
        .zip(ctx.prober.query_many(&unclassified))
    {
        match r {
            Ok(info) => {
                if let Some(env) = crate::python::classify::classify_prefix(ctx, &info.prefix) {
                    match found.iter_mut().find(|f| f.env.prefix == env.prefix) {
                        Some(f) => f.interpreters.push(p.clone()),
                        None => found.push(Found {
                            env,
                            sources: vec![Source::Path],
                            interpreters: vec![p.clone()],
                        }),
                    }
                }
            }
            Err(e) => errors.push(JsonError {
                interpreter: p.clone(),
                error: e.to_string(),
            }),
        }
    }
    complete_by_probe(ctx, &mut found, &mut errors);
    let kernels_of = |f: &Found| -> Vec<String> {
        f.sources
            .iter()
            .filter_map(|s| match s {
                Source::Kernel(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    };
    if json {
        let doc = JsonEnvs {
            environments: found
                .iter()
                .map(|f| JsonEnv {
                    kernels: kernels_of(f),
                    env: f.env.clone(),
                    sources: f.sources.clone(),
                    interpreters: f.interpreters.clone(),
                })
                .collect(),
            errors,
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(0);
    }
    let mut out = render::stdout();
    for f in &found {
        let e = &f.env;
        let mut flags = Vec::new();
        if e.has_pip {
            flags.push("pip")
        }
        if e.has_ipykernel {
            flags.push("ipykernel")
        }
        if e.has_uv {
            flags.push("uv")
        }
        if e.externally_managed.is_some() {
            flags.push("PEP668")
        }
        if !e.writable {
            flags.push("read-only")
        }
        let kernels = kernels_of(f);
        writeln!(
            out,
            "{:<11} {:<8} {}  {}{}",
            e.kind.as_str(),
            e.version
                .map(|v| v.to_string())
                .unwrap_or_else(|| "?".into()),
            render::bold(&e.prefix.display().to_string()),
            render::dim(&flags.join(",")),
            if kernels.is_empty() {
                String::new()
            } else {
                format!("  kernels: {}", kernels.join(", "))
            }
        )?;
        for p in &e.problems {
            writeln!(out, "            {} {p}", render::warn("problem:"))?;
        }
    }
    for e in &errors {
        writeln!(
            out,
            "{} {}: {}",
            render::warn("could not inspect"),
            e.interpreter.display(),
            e.error
        )?;
    }
    Ok(0)
}
