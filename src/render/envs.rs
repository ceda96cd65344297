//! `kip envs`: a table of environments (kind, version, prefix, flags, kernels) with their
//! problems, or the inventory as JSON (docs/json.md).

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use crate::flows::envs::{Inventory, Report};
use crate::python::discovery::Found;
use crate::python::environment::{Environment, Evidence};
use crate::render::{self, Output};

pub fn human(report: &Report) -> Output {
    let mut out = String::new();
    let _ = write_human(&mut out, &report.inventory);
    Output::styled(out)
}

pub fn json(report: &Report) -> Output {
    let inv = &report.inventory;
    let doc = JsonDoc {
        environments: inv.environments.iter().map(json_env).collect(),
        errors: inv
            .errors
            .iter()
            .map(|(p, e)| JsonError {
                interpreter: s(p),
                error: e.clone(),
            })
            .collect(),
    };
    Output::stdout(super::json_line(&Some(doc)))
}

fn write_human(out: &mut String, inv: &Inventory) -> std::fmt::Result {
    let rows: Vec<[String; 5]> = inv
        .environments
        .iter()
        .map(|f| {
            [
                f.env.kind.as_str().to_string(),
                f.env
                    .version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "?".into()),
                s(&f.env.prefix),
                flags(&f.env),
                f.kernels().join(","),
            ]
        })
        .collect();
    let header = ["KIND", "VERSION", "PREFIX", "FLAGS", "KERNELS"];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..4).map(width).collect();
    writeln!(
        out,
        "{}",
        render::dim(
            format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
                header[0],
                header[1],
                header[2],
                header[3],
                header[4],
                w0 = w[0],
                w1 = w[1],
                w2 = w[2],
                w3 = w[3]
            )
            .trim_end()
        )
    )?;
    for r in &rows {
        // Styles wrap the text only, padding goes outside, and nothing trails the last
        // non-empty cell (the escapes are stripped later when stdout is not a terminal).
        let last = r.iter().rposition(|c| !c.is_empty()).unwrap_or(0);
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate().take(last + 1) {
            let styled = match i {
                2 => render::bold(cell),
                3 => render::dim(cell),
                _ => cell.clone(),
            };
            line.push_str(&styled);
            if i < last {
                let width = w.get(i).copied().unwrap_or(0);
                line.push_str(&" ".repeat(width.saturating_sub(cell.chars().count()) + 2));
            }
        }
        writeln!(out, "{line}")?;
    }
    if inv.environments.is_empty() {
        writeln!(out, "no Python environments found")?;
    }
    let problems: Vec<(&Path, &String)> = inv
        .environments
        .iter()
        .flat_map(|f| {
            f.env
                .problems
                .iter()
                .map(move |p| (f.env.prefix.as_path(), p))
        })
        .collect();
    if !problems.is_empty() {
        writeln!(out)?;
        for (prefix, p) in problems {
            writeln!(
                out,
                "{} {}: {p}",
                render::warn("problem:"),
                prefix.display()
            )?;
        }
    }
    if !inv.errors.is_empty() {
        writeln!(out)?;
        for (p, e) in &inv.errors {
            writeln!(
                out,
                "{} {}: {e}",
                render::warn("could not inspect"),
                p.display()
            )?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonDoc {
    environments: Vec<JsonEnv>,
    errors: Vec<JsonError>,
}

#[derive(Serialize)]
struct JsonUserSite {
    enabled: bool,
    path: Option<String>,
}

/// Paths are written lossily: a non-UTF-8 path must not make the whole listing fail.
#[derive(Serialize)]
struct JsonEnv {
    prefix: String,
    kind: &'static str,
    version: Option<String>,
    interpreter: String,
    interpreters: Vec<String>,
    base_prefix: Option<String>,
    venv_home: Option<String>,
    site_packages: Vec<String>,
    user_site: JsonUserSite,
    pip: bool,
    ipykernel: bool,
    uv: bool,
    externally_managed: Option<String>,
    writable: bool,
    frozen: bool,
    name: Option<String>,
    pixi_manifest: Option<String>,
    sources: Vec<&'static str>,
    kernels: Vec<String>,
    problems: Vec<String>,
    evidence: &'static str,
}

#[derive(Serialize)]
struct JsonError {
    interpreter: String,
    error: String,
}

fn s(p: &Path) -> String {
    crate::pyjson::os_text(p)
}

fn json_env(f: &Found) -> JsonEnv {
    let e = &f.env;
    let mut sources: Vec<&'static str> = Vec::new();
    for src in &f.sources {
        if !sources.contains(&src.as_str()) {
            sources.push(src.as_str());
        }
    }
    JsonEnv {
        prefix: s(&e.prefix),
        kind: e.kind.as_str(),
        version: e.version.map(|v| v.to_string()),
        interpreter: s(&e.interpreter),
        interpreters: f.interpreters.iter().map(|p| s(p)).collect(),
        base_prefix: e.base_prefix.as_deref().map(s),
        venv_home: e.venv_home.as_deref().map(s),
        site_packages: e.site_packages.iter().map(|p| s(p)).collect(),
        user_site: JsonUserSite {
            enabled: e.user_site.enabled,
            path: e.user_site.path.as_deref().map(s),
        },
        pip: e.has_pip,
        ipykernel: e.has_ipykernel,
        uv: e.has_uv,
        externally_managed: e.externally_managed.as_deref().map(s),
        writable: e.writable,
        frozen: e.frozen,
        name: e.name.clone(),
        pixi_manifest: e.pixi_manifest.as_deref().map(s),
        sources,
        kernels: f.kernels(),
        problems: e.problems.clone(),
        evidence: match e.evidence {
            Evidence::Disk => "disk",
            Evidence::Probe => "probe",
        },
    }
}

fn flags(e: &Environment) -> String {
    let mut f: Vec<&str> = Vec::new();
    if e.has_pip {
        f.push("pip");
    }
    if e.has_ipykernel {
        f.push("ipykernel");
    }
    if e.has_uv {
        f.push("uv");
    }
    if e.externally_managed.is_some() {
        f.push("PEP668");
    }
    if e.frozen {
        f.push("frozen");
    }
    if !e.writable {
        f.push("read-only");
    }
    if e.user_site.enabled {
        f.push("user-site");
    }
    f.join(",")
}
