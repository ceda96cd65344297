//! `kip envs`: the inventory of Python environments and interpreters.
//!
//! Discovery classifies from disk (`python::discovery`); an interpreter is probed only where
//! disk could not decide — the version or its patch level unknown, no site-packages directory
//! known, an interpreter that is a `#!` script, or one outside any recognised layout — and all
//! probes run in parallel (`Prober::query_many`). A probe that fails or times out becomes an
//! entry of `errors`; the listing always completes.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::python::classify;
use crate::python::discovery::{self, Found, Source};
use crate::python::environment::{EnvKind, Environment, Evidence, UserSite};
use crate::python::interpreter::InterpreterInfo;
use crate::python::layout::is_script;
use crate::python::probe::Prober;
use crate::render;

/// The listing: environments in discovery order, and the interpreters that could not be
/// inspected.
pub struct Inventory {
    pub environments: Vec<Found>,
    pub errors: Vec<(PathBuf, String)>,
}

/// Does disk leave a question only the interpreter can answer?
fn needs_probe(env: &Environment) -> bool {
    env.version.is_none_or(|v| v.patch.is_none())
        || env.site_packages.is_empty()
        || is_script(&env.interpreter)
}

/// Discover, then probe where needed (in parallel), and merge the answers.
pub fn inventory(ctx: &Context, prober: &Prober, extra: &[(PathBuf, Source)]) -> Inventory {
    let discovery = discovery::discover_all(ctx, extra);
    let mut found = discovery.found;
    let mut errors: Vec<(PathBuf, String)> = Vec::new();

    // Which interpreters to ask: the undecided envs' own, then the unplaceable ones.
    let undecided: Vec<usize> = (0..found.len())
        .filter(|&i| needs_probe(&found[i].env) && found[i].env.interpreter.exists())
        .collect();
    let mut pythons: Vec<PathBuf> = undecided
        .iter()
        .map(|&i| found[i].env.interpreter.clone())
        .collect();
    pythons.extend(discovery.unclassified.iter().map(|u| u.interpreter.clone()));
    let mut answers = prober.query_many(&pythons).into_iter();

    for &i in &undecided {
        let Some(answer) = answers.next() else { break };
        match answer {
            Ok(info) => apply_probe(&mut found[i].env, &info),
            Err(e) => errors.push((found[i].env.interpreter.clone(), e.to_string())),
        }
    }
    let mut placed = discovery::Discovery {
        found,
        unclassified: Vec::new(),
    };
    for u in &discovery.unclassified {
        let Some(answer) = answers.next() else { break };
        let info = match answer {
            Ok(info) => info,
            Err(e) => {
                errors.push((u.interpreter.clone(), e.to_string()));
                continue;
            }
        };
        // Place it by what it reports; the environment itself is still read from disk.
        let same_minor = |e: &Environment| {
            e.version
                .is_none_or(|v| (v.major, v.minor) == (info.version.major, info.version.minor))
        };
        let mut env = match classify::classify_prefix(ctx, &info.prefix).filter(same_minor) {
            Some(env) => env,
            None => env_from_probe(&info),
        };
        if needs_probe(&env) {
            apply_probe(&mut env, &info);
        }
        for source in &u.sources {
            placed.add(env.clone(), source.clone(), u.interpreter.clone());
        }
    }
    Inventory {
        environments: placed.found,
        errors,
    }
}

/// Fill in what the interpreter reported about itself. The probe speaks for the interpreter
/// it ran; if that is not this environment (a script in its `bin` that execs another Python),
/// the mismatch is reported instead.
fn apply_probe(env: &mut Environment, info: &InterpreterInfo) {
    if !same_dir(&env.prefix, &info.prefix) {
        env.problems.push(format!(
            "its interpreter {} reports another environment (sys.prefix {})",
            env.interpreter.display(),
            info.prefix.display()
        ));
        return;
    }
    env.version = Some(info.version);
    env.base_prefix = Some(info.base_prefix.clone());
    let mut site = info.site_packages.clone();
    if site.is_empty() {
        // virtualenv < 20's site.py has no getsitepackages(): take sys.path's entries.
        site = info
            .sys_path
            .iter()
            .filter(|p| {
                p.starts_with(&info.prefix)
                    && p.file_name()
                        .is_some_and(|n| n == "site-packages" || n == "dist-packages")
            })
            .cloned()
            .collect();
    }
    if !site.is_empty() {
        env.site_packages = site;
    }
    env.user_site = UserSite {
        enabled: info.enable_user_site,
        path: info.user_site.clone(),
    };
    env.has_pip |= info.can_import("pip");
    env.has_ipykernel |= info.can_import("ipykernel");
    env.has_uv |= info.can_import("uv");
    if !info.is_virtual() {
        env.externally_managed = info.externally_managed.clone();
    }
    env.writable = env
        .site_packages
        .first()
        .is_some_and(|s| crate::python::classify::writable(nearest_existing(s)));
    env.evidence = Evidence::Probe;
}

fn nearest_existing(p: &Path) -> &Path {
    p.ancestors().find(|a| a.exists()).unwrap_or(p)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => (x.dev(), x.ino()) == (y.dev(), y.ino()),
        _ => false,
    }
}

/// An environment known only from the probe (no recognisable layout on disk).
fn env_from_probe(info: &InterpreterInfo) -> Environment {
    let mut env = Environment {
        prefix: info.prefix.clone(),
        kind: if info.is_virtual() {
            EnvKind::Venv
        } else {
            EnvKind::Base
        },
        interpreter: info.executable.clone(),
        version: Some(info.version),
        base_prefix: Some(info.base_prefix.clone()),
        venv_home: None,
        site_packages: Vec::new(),
        user_site: UserSite {
            enabled: false,
            path: None,
        },
        has_pip: false,
        has_ipykernel: false,
        has_uv: false,
        externally_managed: None,
        writable: false,
        frozen: false,
        name: None,
        pixi_manifest: None,
        problems: Vec::new(),
        evidence: Evidence::Probe,
    };
    apply_probe(&mut env, info);
    env
}

// ---- output ----

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
    p.to_string_lossy().into_owned()
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

pub fn run(
    ctx: &Context,
    prober: &Prober,
    json: bool,
    kernel_users: &[(String, PathBuf)],
) -> anyhow::Result<i32> {
    let extra: Vec<(PathBuf, Source)> = kernel_users
        .iter()
        .map(|(n, p)| (p.clone(), Source::Kernel(n.clone())))
        .collect();
    let inv = inventory(ctx, prober, &extra);
    if json {
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
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(0);
    }
    let mut out = render::stdout();
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
    Ok(0)
}
