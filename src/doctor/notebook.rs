//! Notebook checks: the notebook's kernel exists, and every module its code imports is
//! importable in that kernel — decided from disk (site-packages listings, the stdlib list,
//! files next to the notebook), asking the interpreter with `find_spec` only for what disk
//! says is missing, so no package code runs.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId, Severity};
use crate::doctor::kernels::imports_from;
use crate::install::names;
use crate::jupyter::resolved::resolve_all;
use crate::jupyter::resolved::ResolvedKernel;
use crate::jupyter::view::{self, JupyterView};
use crate::notebook::{imports, ipynb};
use crate::python::environment::Environment;
use crate::python::{classify, discovery, site};

fn q(s: &str) -> String {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

/// Does the Jupyter in use list nb_conda_kernels' invented names? Only when its own
/// environment holds the `nb_conda_kernels` package (which enables itself there).
fn nb_conda_kernels_enabled(ctx: &Context, view: &JupyterView) -> bool {
    view.launcher_python()
        .and_then(|l| classify::classify_interpreter(ctx, &l.executable))
        .is_some_and(|e| {
            site::find_top_level(&site::sys_path_dirs(ctx, &e), "nb_conda_kernels").is_some()
        })
}

/// The environment a notebook's project holds, and why kip thinks the user meant it.
pub struct ProjectEnv {
    pub env: Environment,
    pub why: String,
    /// The folder holding it (names the kernel kip offers to register).
    pub dir: PathBuf,
}

/// The env the user meant for a notebook: a `.venv`, `venv`, pixi (`.pixi/envs/default`) or
/// conda (`env`, with `conda-meta`) env in the notebook's folder or an ancestor up to the
/// project root (`.git`, `pyproject.toml`); else the activated `VIRTUAL_ENV` (or a
/// `CONDA_PREFIX` that is not a conda base).
pub fn project_env(ctx: &Context, nb_dir: &Path) -> Option<ProjectEnv> {
    let mut dir = Some(nb_dir);
    while let Some(d) = dir {
        for cand in [".venv", "venv", ".pixi/envs/default", "env"] {
            let p = d.join(cand);
            let is_env = p.join("pyvenv.cfg").is_file() || p.join("conda-meta").is_dir();
            if let Some(env) = is_env.then(|| classify::classify_prefix(ctx, &p)).flatten() {
                return Some(ProjectEnv {
                    why: format!("the project's own environment ({cand} in {})", d.display()),
                    env,
                    dir: d.to_path_buf(),
                });
            }
        }
        if d.join(".git").exists() || d.join("pyproject.toml").is_file() {
            break;
        }
        dir = d.parent();
    }
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        let Some(p) = ctx.vars.get_nonempty(var) else {
            continue;
        };
        let p = PathBuf::from(p);
        if let Some(env) = classify::classify_prefix(ctx, &p)
            .filter(|e| e.kind != crate::python::environment::EnvKind::CondaBase)
        {
            return Some(ProjectEnv {
                why: format!("the activated environment ({var})"),
                dir: p.parent().unwrap_or(&p).to_path_buf(),
                env,
            });
        }
    }
    None
}

/// A kernel name for the project's env that no kernel here has: the project folder's name
/// lowercased, in the characters `kip kernel add` accepts), else with the env's folder name
/// or a counter appended.
fn free_kernel_name(meant: &ProjectEnv, taken: &[String]) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>()
            .trim_matches(|c| c == '-' || c == '.')
            .to_string()
    };
    let project = meant
        .dir
        .file_name()
        .map(|n| clean(&n.to_string_lossy()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "project".into());
    let env_dir = meant
        .env
        .prefix
        .file_name()
        .map(|n| clean(&n.to_string_lossy()))
        .unwrap_or_default();
    let free = |n: &str| !taken.iter().any(|t| t.eq_ignore_ascii_case(n));
    let mut candidates = vec![project.clone(), format!("{project}-{env_dir}")];
    candidates.extend((2..100).map(|i| format!("{project}-{i}")));
    candidates.into_iter().find(|c| free(c)).unwrap_or(project)
}

#[allow(clippy::too_many_lines)] // predates the lint; split when next changed
pub fn check_notebook(
    ctx: &Context,
    prober: &crate::python::probe::Prober,
    view: &JupyterView,
    kernels: &[ResolvedKernel],
    nb: &Path,
    kernel: Option<&str>,
    out: &mut Vec<Finding>,
) -> Result<(), String> {
    let path = if nb.is_absolute() {
        nb.to_path_buf()
    } else {
        ctx.cwd.join(nb)
    };
    let notebook = ipynb::read(&path).map_err(|e| e.to_string())?;
    let subject = nb.display().to_string();
    let Some(name) = kernel.map(str::to_string).or(notebook.kernel_name.clone()) else {
        out.push(Finding::new(
            FindingId::NotebookKernelMissing,
            &subject,
            format!("\"{subject}\" names no kernel (metadata.kernelspec.name)"),
            "Jupyter will ask which kernel to use, and nothing tells it which environment the notebook needs.",
            format!("open it and choose a kernel, or check imports against one: kip doctor {subject} --kernel NAME"),
        ));
        return Ok(());
    };
    let kernel_names: Vec<String> = kernels
        .iter()
        .map(|k| k.entry.found.name.to_string_lossy())
        .collect();
    let kernel_env = |k: &ResolvedKernel| {
        k.interpreter
            .python()
            .and_then(|p| classify::classify_interpreter(ctx, p))
    };
    let env: Option<Environment> = match kernels
        .iter()
        .find(|k| k.entry.found.name.to_string_lossy() == name)
    {
        Some(k) => kernel_env(k),
        None => match ipynb::nb_conda_env(&name) {
            Some(nc) => {
                let envs: Vec<Environment> = discovery::discover(ctx, &[])
                    .into_iter()
                    .map(|f| f.env)
                    .collect();
                let env = nc.find(&envs).cloned();
                if !nb_conda_kernels_enabled(ctx, view) {
                    let (what, fix) = match &env {
                        Some(e) => (
                            format!("the conda env {}", e.prefix.display()),
                            format!(
                                "kip kernel add {} --name {}",
                                q(&crate::pyjson::os_text(&e.prefix)),
                                q(&name)
                            ),
                        ),
                        None => (
                            "a conda env that is not on this machine".to_string(),
                            format!("register the env it means under that name: kip kernel add ENV --name {}", q(&name)),
                        ),
                    };
                    out.push(Finding::new(
                        FindingId::NotebookKernelMissing,
                        &subject,
                        format!("\"{subject}\" wants kernel \"{name}\", an nb_conda_kernels name this Jupyter cannot start"),
                        format!("nb_conda_kernels invents kernel names for conda envs, but the Jupyter in use does not have it enabled, so the notebook's kernel does not exist here. The name means {what}; registering that env under the same name makes the notebook start without editing it."),
                        fix,
                    ));
                    return Ok(());
                }
                env
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
    let nb_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    // A kernel named after another env than it runs: installing the notebook's needs into
    // the (shared) env it runs would be harmful; registering the meant env is the fix.
    if let Some(f) = kernel
        .is_none()
        .then(|| {
            kernels
                .iter()
                .find(|k| k.entry.found.name.to_string_lossy() == name)
        })
        .flatten()
        .and_then(|k| crate::doctor::name_elsewhere::finding(ctx, view, k))
    {
        out.push(f);
        return Ok(());
    }
    // `--kernel` says which env the user means.
    let meant = kernel
        .is_none()
        .then(|| project_env(ctx, &nb_dir))
        .flatten();
    if let (Some(kenv), Some(meant)) = (&env, meant) {
        // A kernel layered over the project's env (`uv run --with jupyter`) runs it.
        if !kenv.same_env(&meant.env) && !imports_from(ctx, kenv, &meant.env) {
            let existing = kernels
                .iter()
                .find(|k| kernel_env(k).is_some_and(|e| e.same_env(&meant.env)))
                .map(|k| k.entry.found.name.to_string_lossy());
            let fix = match &existing {
                Some(k) => format!("kip kernel use {} {}", q(k), q(&subject)),
                None => {
                    let new_name = free_kernel_name(&meant, &kernel_names);
                    format!(
                        "kip kernel add {} --name {} && kip kernel use {} {}",
                        q(&crate::pyjson::os_text(&meant.env.prefix)),
                        q(&new_name),
                        q(&new_name),
                        q(&subject)
                    )
                }
            };
            out.push(Finding::new(
                FindingId::NotebookEnvMismatch,
                &subject,
                format!(
                    "\"{subject}\" runs kernel \"{name}\" ({}), but its project's environment is {}",
                    kenv.prefix.display(),
                    meant.env.prefix.display()
                ),
                format!(
                    "{} is {}, yet the notebook's kernel runs another environment — typically two projects registered the same kernel name and the later one won. Installing the notebook's imports into the kernel's env would change the other project; point the notebook at its own env instead (its imports are checked against the kernel it then runs).",
                    meant.env.prefix.display(),
                    meant.why
                ),
                fix,
            ));
            return Ok(());
        }
    }
    let Some(env) = env else { return Ok(()) };
    let dirs = site::sys_path_dirs(ctx, &env);
    let minor = site::env_version(prober, &env).map(|v| v.minor);
    let refs = imports::extract(&notebook);
    let mut missing: Vec<(String, bool)> = Vec::new();
    for r in refs
        .iter()
        .filter(|r| !r.relative && r.module != "__future__")
    {
        let in_env = site::find_top_level(&dirs, &r.module).is_some();
        let std = minor.is_some_and(|m| imports::is_stdlib(&r.module, m));
        if let Some(local) = site::find_top_level(std::slice::from_ref(&nb_dir), &r.module) {
            // A folder without __init__ shadows only when nothing else provides the name.
            if (in_env || std) && !site::is_namespace_dir(&local) {
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
    missing.extend(missing_through_namespaces(
        &notebook, &refs, &dirs, &missing,
    ));
    let names: Vec<String> = missing.iter().map(|(m, _)| m.clone()).collect();
    let found_by_interpreter = site::interpreter_finds(ctx, &env.interpreter, &names, &nb_dir);
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
        // An unknown module's name is never turned into an install (PRODUCT.md).
        let fix = match &dist {
            Some(d) => format!("kip install {d} --kernel {name} (or all at once: kip install --notebook {subject} --missing)"),
            None => crate::doctor::unknown::fix_text(&m, &nb_dir, &subject, &name),
        };
        let mut f = Finding::new(
            FindingId::NotebookImportMissing,
            &subject,
            format!(
                "\"{m}\" is not importable in kernel \"{name}\"{}",
                if guarded {
                    " (the import is guarded by try/except ImportError)"
                } else {
                    ""
                }
            ),
            format!(
                "{} has no \"{m}\"{}.",
                env.prefix.display(),
                dist.as_ref()
                    .filter(|d| names::normalize_dist_name(d) != names::normalize_dist_name(&m))
                    .map(|d| format!("; it is provided by the distribution \"{d}\""))
                    .unwrap_or_default()
            ),
            fix,
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

/// Dotted imports through a namespace package that disk finds missing (`from google.protobuf
/// import message` while `google/` holds only `google-auth`'s `auth/`): the top-level check
/// cannot see them. Every import as written counts, not one per top-level name; `(full name,
/// guarded)`, skipping top-level names already missing.
fn missing_through_namespaces(
    notebook: &ipynb::Notebook,
    refs: &[imports::ImportRef],
    dirs: &[PathBuf],
    missing: &[(String, bool)],
) -> Vec<(String, bool)> {
    if refs.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<(String, bool)> = Vec::new();
    for r in notebook
        .cells
        .iter()
        .filter(|c| c.kind == ipynb::CellKind::Code)
        .flat_map(|c| imports::extract_from_source(&c.source, c.index))
        .filter(|r| !r.relative && !missing.iter().any(|(m, _)| *m == r.module))
    {
        if !crate::python::dotted::missing_below_namespace(dirs, &r.full) {
            continue;
        }
        match out.iter_mut().find(|(m, _)| *m == r.full) {
            Some(o) => o.1 &= r.guarded,
            None => out.push((r.full.clone(), r.guarded)),
        }
    }
    out
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
/// What `kip install --notebook NB --missing` is to do.
pub enum NotebookMissing {
    /// The distributions of every `notebook-import-missing` finding: (module, distribution,
    /// assumed).
    Install(Vec<(String, String, bool)>),
    /// The notebook's kernel is not the env the user meant (`notebook-env-mismatch`) or cannot
    /// start here (`notebook-kernel-missing`): installing into whatever it runs would serve
    /// the wrong env. The findings' messages and commands, for the user to run first.
    Refused(Vec<Finding>),
}

/// For `kip install --notebook NB --missing [--kernel NAME]`: with `--kernel`, the imports
/// are checked against that kernel (the user said where to install) and nothing is refused.
pub fn missing_distributions(
    ctx: &Context,
    prober: &crate::python::probe::Prober,
    view: &JupyterView,
    nb: &Path,
    kernel: Option<&str>,
) -> Result<NotebookMissing, String> {
    let listing = view::list_kernels(ctx, view);
    let kernels = resolve_all(ctx, view, &listing);
    let mut findings = Vec::new();
    check_notebook(ctx, prober, view, &kernels, nb, kernel, &mut findings)?;
    let refused: Vec<Finding> = findings
        .iter()
        .filter(|f| {
            matches!(
                f.id,
                FindingId::NotebookEnvMismatch
                    | FindingId::NotebookKernelMissing
                    | FindingId::KernelNamePointsElsewhere
            )
        })
        .cloned()
        .collect();
    if !refused.is_empty() {
        return Ok(NotebookMissing::Refused(refused));
    }
    Ok(NotebookMissing::Install(
        findings
            .into_iter()
            .filter(|f| f.id == FindingId::NotebookImportMissing)
            .filter_map(|f| {
                let m = f.module?;
                let assumed = f.distribution.is_none();
                Some((m.clone(), f.distribution.unwrap_or(m), assumed))
            })
            .collect(),
    ))
}
