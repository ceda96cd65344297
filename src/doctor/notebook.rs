//! Notebook checks: the notebook's kernel exists, and every module its code imports is
//! importable in that kernel — decided from disk (site-packages listings, the stdlib list,
//! files next to the notebook), asking the interpreter with `find_spec` only for what disk
//! says is missing, so no package code runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId, Severity};
use crate::install::names;
use crate::jupyter::resolved::resolve_all;
use crate::jupyter::resolved::ResolvedKernel;
use crate::jupyter::view::{self, JupyterView};
use crate::notebook::{imports, ipynb};
use crate::process;
use crate::python::environment::Environment;
use crate::python::{classify, discovery, site};

/// Valid on Python 2.7 and 3.6+: which of argv's top-level names `find_spec` finds.
const FIND_SPEC: &str = r#"
import sys, json
if sys.path and sys.path[0] in ('', '.'):
    sys.path.pop(0)
found = {}
for m in sys.argv[1:]:
    try:
        import importlib.util as u
        found[m] = u.find_spec(m) is not None
    except ImportError:
        import imp
        try:
            imp.find_module(m)
            found[m] = True
        except ImportError:
            found[m] = False
    except Exception:
        found[m] = False
sys.stdout.write(json.dumps(found))
"#;

fn interpreter_finds(ctx: &Context, python: &Path, modules: &[String]) -> Vec<String> {
    if modules.is_empty() {
        return Vec::new();
    }
    let Ok(dir) = tempfile::tempdir() else {
        return Vec::new();
    };
    let mut cmd = Command::new(python);
    cmd.arg("-c")
        .arg(FIND_SPEC)
        .args(modules)
        .current_dir(dir.path())
        .env_clear()
        .envs(ctx.vars.to_vec());
    let Ok(out) = process::run_captured(cmd, process::probe_timeout(&ctx.vars)) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        return Vec::new();
    };
    modules
        .iter()
        .filter(|m| v.get(m.as_str()).and_then(|b| b.as_bool()) == Some(true))
        .cloned()
        .collect()
}

/// A module provided by a file or package next to the notebook.
fn local_module(dir: &Path, module: &str) -> Option<PathBuf> {
    let pkg = dir.join(module);
    if pkg.is_dir() {
        return Some(pkg);
    }
    let file = dir.join(format!("{module}.py"));
    file.is_file().then_some(file)
}

#[allow(clippy::too_many_lines)] // predates the lint; split when next changed
pub fn check_notebook(
    ctx: &Context,
    view: &JupyterView,
    kernels: &[ResolvedKernel],
    nb: &Path,
    out: &mut Vec<Finding>,
) -> Result<(), String> {
    let path = if nb.is_absolute() {
        nb.to_path_buf()
    } else {
        ctx.cwd.join(nb)
    };
    let notebook = ipynb::read(&path).map_err(|e| e.to_string())?;
    let subject = nb.display().to_string();
    let Some(name) = notebook.kernel_name.clone() else {
        out.push(Finding::new(
            FindingId::NotebookKernelMissing,
            &subject,
            format!("\"{subject}\" names no kernel (metadata.kernelspec.name)"),
            "Jupyter will ask which kernel to use, and nothing tells it which environment the notebook needs.",
            format!("open it and choose a kernel, or check imports against one: kip doctor {subject} --kernel NAME"),
        ));
        return Ok(());
    };
    let _ = view;
    let env: Option<Environment> = match kernels
        .iter()
        .find(|k| k.entry.found.name.to_string_lossy() == name)
    {
        Some(k) => k
            .interpreter
            .python()
            .and_then(|p| classify::classify_interpreter(ctx, p)),
        None => match ipynb::nb_conda_env(&name) {
            Some(nc) => {
                let envs: Vec<Environment> = discovery::discover(ctx, &[])
                    .into_iter()
                    .map(|f| f.env)
                    .collect();
                nc.find(&envs).cloned()
            }
            None => {
                out.push(Finding::new(
                    FindingId::NotebookKernelMissing,
                    &subject,
                    format!("\"{subject}\" wants kernel \"{name}\", which is not installed here"),
                    "Jupyter cannot start the notebook's kernel and will ask for another one, whose environment may lack what the notebook imports.",
                    format!("register an environment under that name: kip kernel add ENV --name {name}"),
                ));
                return Ok(());
            }
        },
    };
    let Some(env) = env else { return Ok(()) };
    let dirs = site::sys_path_dirs(ctx, &env);
    let minor = env.version.map(|v| v.minor).unwrap_or(11);
    let nb_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let refs = imports::extract(&notebook);
    let mut missing: Vec<(String, bool)> = Vec::new();
    for r in refs
        .iter()
        .filter(|r| !r.relative && r.module != "__future__")
    {
        let in_env = site::find_top_level(&dirs, &r.module).is_some();
        let std = imports::is_stdlib(&r.module, minor);
        if let Some(local) = local_module(&nb_dir, &r.module) {
            if in_env || std {
                out.push(Finding {
                    module: Some(r.module.clone()),
                    ..Finding::new(
                        FindingId::NotebookLocalShadowing,
                        &subject,
                        format!("\"{}\" next to the notebook shadows the module \"{}\"", local.display(), r.module),
                        format!("The notebook's directory comes first on sys.path, so `import {}` loads this local file instead of the {} module.", r.module, if std { "standard library's" } else { "environment's" }),
                        format!("rename {} (and delete any __pycache__ next to it)", local.display()),
                    )
                });
            }
            continue;
        }
        if in_env || std {
            continue;
        }
        missing.push((r.module.clone(), r.guarded));
    }
    let names: Vec<String> = missing.iter().map(|(m, _)| m.clone()).collect();
    let found_by_interpreter = interpreter_finds(ctx, &env.interpreter, &names);
    let missing: Vec<(String, bool)> = missing
        .into_iter()
        .filter(|(m, _)| !found_by_interpreter.contains(m))
        .collect();
    let unresolved: Vec<String> = missing.iter().map(|(m, _)| m.clone()).collect();
    let local_meta = local_metadata(ctx, &unresolved);
    for (m, guarded) in missing {
        let mapping = names::map_import(&m, &local_meta);
        let dist = (!matches!(mapping.source, names::MappingSource::Assumed))
            .then(|| mapping.distribution.clone());
        let install = dist.clone().unwrap_or_else(|| m.clone());
        let mut f = Finding::new(
            FindingId::NotebookImportMissing,
            &subject,
            format!("\"{m}\" is not importable in kernel \"{name}\"{}", if guarded { " (the import is guarded by try/except ImportError)" } else { "" }),
            format!(
                "{} has no \"{m}\"{}.",
                env.prefix.display(),
                dist.as_ref().filter(|d| names::normalize_dist_name(d) != names::normalize_dist_name(&m)).map(|d| format!("; it is provided by the distribution \"{d}\"")).unwrap_or_default()
            ),
            format!("kip install {install} --kernel {name} (or all at once: kip install --notebook {subject} --missing)"),
        );
        if guarded {
            f = f.with_severity(Severity::Warning);
        }
        f.module = Some(m);
        f.distribution = dist;
        out.push(f);
    }
    Ok(())
}

/// `(top-level, distribution, where)` from the environments kip finds here, for mapping the
/// import names `modules` to distributions ([`names::map_import`]). Only site-packages that
/// hold one of those names — as a module (`m/`, `m.py`, `m.*.so`) or as a distribution
/// (`M-1.0.dist-info`) — have their metadata read: one `read_dir` each, so a name found
/// nowhere (the usual case for a new package) costs no metadata read at all.
pub fn local_metadata(ctx: &Context, modules: &[String]) -> Vec<(String, String, PathBuf)> {
    let tops: Vec<&str> = modules
        .iter()
        .map(|m| m.split('.').next().unwrap_or(m))
        .collect();
    let dist_names: Vec<String> = tops.iter().map(|t| names::normalize_dist_name(t)).collect();
    let holds_a_name = |entry: &str| {
        tops.iter().any(|t| {
            entry == *t
                || entry.strip_prefix(t).is_some_and(|rest| {
                    rest == ".py"
                        || (rest.starts_with('.')
                            && (rest.ends_with(".so") || rest.ends_with(".pyd")))
                })
        }) || entry
            .strip_suffix(".dist-info")
            .or_else(|| entry.strip_suffix(".egg-info"))
            .map(|stem| stem.split_once('-').map_or(stem, |(n, _)| n))
            .is_some_and(|n| dist_names.contains(&names::normalize_dist_name(n)))
    };
    let mut out = Vec::new();
    if tops.is_empty() {
        return out;
    }
    let mut seen: Vec<PathBuf> = Vec::new();
    for f in discovery::discover(ctx, &[]) {
        for sp in f.env.site_packages {
            if seen.contains(&sp) {
                continue;
            }
            let relevant = std::fs::read_dir(&sp).is_ok_and(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_str().is_some_and(holds_a_name))
            });
            if relevant {
                for d in site::installed_distributions(&sp) {
                    for t in &d.top_level {
                        out.push((t.clone(), d.name.clone(), d.dist_info.clone()));
                    }
                }
            }
            seen.push(sp);
        }
    }
    out
}
/// For `kip install --notebook NB --missing`: the distributions of every
/// `notebook-import-missing` finding.
pub fn missing_distributions(
    ctx: &Context,
    view: &JupyterView,
    nb: &Path,
) -> Result<Vec<(String, String, bool)>, String> {
    let listing = view::list_kernels(ctx, view);
    let kernels = resolve_all(ctx, view, &listing);
    let mut findings = Vec::new();
    check_notebook(ctx, view, &kernels, nb, &mut findings)?;
    Ok(findings
        .into_iter()
        .filter(|f| f.id == FindingId::NotebookImportMissing)
        .filter_map(|f| {
            let m = f.module?;
            let assumed = f.distribution.is_none();
            Some((m.clone(), f.distribution.unwrap_or(m), assumed))
        })
        .collect())
}
