//! Which Jupyter's view of the kernels kip reports (PRODUCT.md "Which Jupyter's view").
//!
//! The Jupyter is the `jupyter` command on PATH, or the one `--jupyter PATH` names (a
//! `jupyter` command, or a Python interpreter whose env holds Jupyter). Listing follows the
//! interpreter of `jupyter-kernelspec` (found as jupyter_core's `command.py` finds subcommands),
//! because that is the process that runs `kernelspec list`; launch-time rules follow the first
//! server script found (`jupyter-lab`, `jupyter-notebook`, `jupyter-server`). With no Jupyter,
//! only the user and system data dirs are searched.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::envvars::EnvVars;
use crate::jupyter::config::JupyterConfig;
use crate::jupyter::kernelspec::{self, DiscoveryRules, KernelListing, NativeKernel};
use crate::jupyter::paths::{self, pjoin, DataDir, DirOrigin, JupyterPython};
use crate::jupyter::runtime;
use crate::jupyter::server_env;
use crate::platform;
use crate::python::classify;
use crate::python::probe::Prober;
use crate::python::shebang::{self, ScriptInterpreter};
use crate::python::site;
use crate::python::version::PythonVersion;
use crate::shell::which;

/// The facts about one Jupyter installation's Python that kernel discovery needs.
#[derive(Clone, Debug)]
pub struct JupyterPythonFacts {
    /// `sys.executable` as the `jupyter-*` script's shebang names it (unresolved).
    pub executable: PathBuf,
    pub paths: JupyterPython,
    pub version: Option<PythonVersion>,
    /// `<dir>/ipykernel` when `ipykernel` is importable there.
    pub ipykernel_dir: Option<PathBuf>,
    pub ipykernel_version: Option<(u32, u32)>,
    pub ipython_importable: bool,
    pub provisioners: Vec<String>,
}

/// Whose view of the kernels is used, and how it was chosen.
#[derive(Clone, Debug)]
pub struct JupyterView {
    /// One plain sentence: which Jupyter and why.
    pub how: String,
    pub jupyter: Option<PathBuf>,
    pub kernelspec_script: Option<PathBuf>,
    pub lister: Option<JupyterPythonFacts>,
    /// The first server script found, and its interpreter (launch-time rules).
    pub server_script: Option<PathBuf>,
    pub launcher: Option<JupyterPythonFacts>,
    pub config: JupyterConfig,
    /// The environment of the server process: kip's own outside a kernel, the server's
    /// `/proc/<pid>/environ` inside one. Kernels inherit it (their `!` commands see its PATH).
    pub server_env: EnvVars,
    /// Things the user should know about this view (e.g. a `jupyter_config.py` kip cannot read).
    pub notes: Vec<String>,
}

impl JupyterView {
    /// The interpreter jupyter_client swaps in for a bare `python`/`python3`/`python3.Y`.
    pub fn launcher_python(&self) -> Option<&JupyterPythonFacts> {
        self.launcher.as_ref().or(self.lister.as_ref())
    }
}

/// The Jupyter server that started the kernel kip runs in (`JPY_PARENT_PID`), when that
/// process is a Jupyter server: (its `jupyter` command, its environment, a description).
fn parent_server(ctx: &Context) -> Option<(PathBuf, EnvVars, String)> {
    let pid: i32 = ctx.vars.get_str("JPY_PARENT_PID")?.trim().parse().ok()?;
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let argv: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    // `python /env/bin/jupyter-lab …` (a script run through its shebang) or the script itself.
    let script = argv.iter().take(2).map(PathBuf::from).find(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("jupyter"))
    })?;
    let jupyter = script.parent()?.join("jupyter");
    let env = runtime::process_environ(pid).unwrap_or_else(|| ctx.vars.clone());
    Some((
        jupyter,
        env,
        format!(
            "the Jupyter server that started this kernel (pid {pid}, {})",
            script.display()
        ),
    ))
}

/// Choose the Jupyter: `--jupyter` if given, else (inside a kernel) the server that started
/// it, else `jupyter` on PATH, else none.
#[allow(clippy::too_many_lines)] // one decision, read top to bottom: which jupyter, its env
pub fn select(
    ctx: &Context,
    prober: &Prober,
    explicit: Option<&Path>,
) -> anyhow::Result<JupyterView> {
    let parent = if explicit.is_none() {
        parent_server(ctx)
    } else {
        None
    };
    let server_env = parent
        .as_ref()
        .map(|(_, env, _)| env.clone())
        .unwrap_or_else(|| ctx.vars.clone());
    let inside_kernel = parent.is_some();
    let (jupyter, how) = match (explicit, parent) {
        (None, Some((j, _, how))) if j.exists() => (Some(j), how),
        _ => match explicit {
            Some(p) => {
                let p = if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    ctx.cwd.join(p)
                };
                if !p.exists() {
                    anyhow::bail!(
                    "--jupyter {}: no such file; pass a `jupyter` command or a Python interpreter whose environment has Jupyter",
                    p.display()
                );
                }
                (Some(p.clone()), format!("--jupyter {}", p.display()))
            }
            None => match which::which_all(ctx, "jupyter").into_iter().next() {
                Some(m) => (
                    Some(m.path.clone()),
                    format!("the `jupyter` on PATH ({})", m.path.display()),
                ),
                None => (
                    None,
                    "no `jupyter` on PATH: only the user and system data dirs are searched"
                        .to_string(),
                ),
            },
        },
    };
    // Launch as the launcher launches (a pyenv shim's `pyenv exec`, a `conda activate`);
    // inside a kernel the parent server's own environ is already exact.
    let (server_env, model) = match jupyter.as_ref().filter(|_| !inside_kernel) {
        Some(j) => server_env::server_environment(ctx, server_env, j, explicit.is_none()),
        None => (server_env, None),
    };
    let mut view = JupyterView {
        how,
        jupyter: None,
        kernelspec_script: None,
        lister: None,
        server_script: None,
        launcher: None,
        config: JupyterConfig::default(),
        server_env,
        notes: Vec::new(),
    };
    if let Some(j) = jupyter {
        if is_python_interpreter(&j) {
            // A Python: its env's `jupyter`, or the interpreter itself for both roles.
            let facts = python_facts(ctx, prober, &j);
            view.lister = facts.clone();
            view.launcher = facts;
            let scripts = j.parent().map(Path::to_path_buf).unwrap_or_default();
            let cmd = scripts.join("jupyter");
            view.jupyter = cmd.exists().then_some(cmd);
        } else {
            view.kernelspec_script = which::find_subcommand(ctx, &j, "kernelspec");
            match &view.kernelspec_script {
                Some(script) => match script_python(ctx, script) {
                    Some(py) => view.lister = python_facts(ctx, prober, &py),
                    None => view.notes.push(format!(
                        "could not tell which Python runs {}; using the user and system dirs",
                        script.display()
                    )),
                },
                None => view.notes.push(format!(
                    "{} has no `jupyter-kernelspec` beside it or on PATH (jupyter_client is not installed there)",
                    j.display()
                )),
            }
            for sub in ["lab", "notebook", "server"] {
                if let Some(s) = which::find_subcommand(ctx, &j, sub) {
                    if let Some(py) = script_python(ctx, &s) {
                        view.launcher = python_facts(ctx, prober, &py);
                    }
                    view.server_script = Some(s);
                    break;
                }
            }
            view.jupyter = Some(j);
        }
    }
    // A live server of this Jupyter tells its environ exactly; else the launch model's.
    let running = view
        .launcher_python()
        .filter(|_| !inside_kernel)
        .and_then(|l| server_env::running_server_environ(ctx, &l.executable));
    match (running, model) {
        (Some((env, pid)), _) => {
            view.server_env = env;
            view.how = format!(
                "{}, served by its running server (pid {pid}): its own environment",
                view.how
            );
        }
        (None, Some(m)) => view.how = format!("{}, {m}", view.how),
        (None, None) => {}
    }
    let py = view.lister.as_ref().map(|f| &f.paths);
    view.config = JupyterConfig::load(&paths::jupyter_config_path(ctx, py));
    view.notes.extend(view.config.notes.iter().cloned());
    Ok(view)
}

fn is_python_interpreter(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "python" || n.starts_with("python3") || n.starts_with("python2"))
}

/// The Python a console script runs, from its shebang (never by running it).
fn script_python(ctx: &Context, script: &Path) -> Option<PathBuf> {
    match shebang::interpreter_for_script(ctx, script) {
        ScriptInterpreter::Python(p) => Some(p),
        ScriptInterpreter::ViaPath { resolved, .. } => resolved,
        _ => None,
    }
}

/// Facts about a Jupyter's Python: from disk, probing only when the layout is unknown.
pub fn python_facts(ctx: &Context, prober: &Prober, python: &Path) -> Option<JupyterPythonFacts> {
    let home = ctx.home().unwrap_or_else(|| PathBuf::from("/"));
    let user_base = platform::python_user_base(ctx.os, &ctx.vars, &home, None);
    let (paths, version, dirs) = match classify::classify_interpreter(ctx, python) {
        Some(env) => {
            let dirs = site::sys_path_dirs(ctx, &env);
            (
                JupyterPython {
                    sys_prefix: env.prefix.clone(),
                    base_prefix: env
                        .base_prefix
                        .clone()
                        .unwrap_or_else(|| env.prefix.clone()),
                    enable_user_site: env.user_site.enabled,
                    user_base: Some(user_base),
                },
                env.version,
                dirs,
            )
        }
        None => {
            let info = prober.query(python).ok()?;
            (
                JupyterPython {
                    sys_prefix: info.prefix.clone(),
                    base_prefix: info.base_prefix.clone(),
                    enable_user_site: info.enable_user_site,
                    user_base: info.user_base.clone(),
                },
                Some(info.version),
                info.sys_path.clone(),
            )
        }
    };
    let ipykernel_dir = site::find_top_level(&dirs, "ipykernel")
        .filter(|d| d.join("kernelspec.py").is_file() || d.join("kernelspec.pyc").is_file());
    let ipykernel_version = ipykernel_dir
        .as_ref()
        .and_then(|d| d.parent())
        .and_then(|sp| dist_version(sp, "ipykernel"));
    let ipython_importable = site::find_top_level(&dirs, "IPython").is_some();
    let provisioners = entry_points(&dirs, "jupyter_client.kernel_provisioners");
    Some(JupyterPythonFacts {
        executable: python.to_path_buf(),
        paths,
        version,
        ipykernel_dir,
        ipykernel_version,
        ipython_importable,
        provisioners,
    })
}

/// (major, minor) of an installed distribution, from its `.dist-info` directory name.
fn dist_version(site_dir: &Path, dist: &str) -> Option<(u32, u32)> {
    let prefix = format!("{dist}-");
    for entry in std::fs::read_dir(site_dir).ok()?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(rest) = name.strip_prefix(&prefix) {
            if let Some(ver) = rest.strip_suffix(".dist-info") {
                let mut it = ver.split('.');
                let major = it.next()?.parse().ok()?;
                let minor = it
                    .next()
                    .and_then(|m| {
                        m.chars()
                            .take_while(char::is_ascii_digit)
                            .collect::<String>()
                            .parse()
                            .ok()
                    })
                    .unwrap_or(0);
                return Some((major, minor));
            }
        }
    }
    None
}

/// Names of the entry points in `group` declared by the distributions on these dirs.
fn entry_points(dirs: &[PathBuf], group: &str) -> Vec<String> {
    let header = format!("[{group}]");
    let mut names = Vec::new();
    for dir in dirs {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in rd.flatten() {
            let n = entry.file_name();
            let n = n.to_string_lossy();
            if !(n.ends_with(".dist-info") || n.ends_with(".egg-info")) {
                continue;
            }
            let Ok(text) = crate::files::read_to_string(entry.path().join("entry_points.txt"))
            else {
                continue;
            };
            let mut in_group = false;
            for line in text.lines() {
                let line = line.trim();
                if line.starts_with('[') {
                    in_group = line == header;
                } else if in_group {
                    if let Some((name, _)) = line.split_once('=') {
                        let name = name.trim().to_string();
                        if !name.is_empty() && !names.contains(&name) {
                            names.push(name);
                        }
                    }
                }
            }
        }
    }
    names
}

/// `KernelSpecManager.kernel_dirs` for this view: `jupyter_path("kernels")`, plus
/// `<ipython dir>/kernels` when `IPython.paths` imports in the Jupyter's Python.
pub fn kernel_dirs(ctx: &Context, view: &JupyterView) -> Vec<DataDir> {
    let py = view.lister.as_ref().map(|f| &f.paths);
    let mut dirs: Vec<DataDir> = paths::jupyter_path(ctx, py)
        .into_iter()
        .map(|d| DataDir {
            path: pjoin(&d.path, "kernels"),
            origin: d.origin,
        })
        .collect();
    if view.lister.as_ref().is_some_and(|f| f.ipython_importable) {
        if let Some(ip) = paths::ipython_dir(ctx) {
            dirs.push(DataDir {
                path: pjoin(&ip, "kernels"),
                origin: DirOrigin::Ipython,
            });
        }
    }
    dirs
}

/// Everything `jupyter kernelspec list --json` would list on its next run.
pub fn list_kernels(ctx: &Context, view: &JupyterView) -> KernelListing {
    let dirs = kernel_dirs(ctx, view);
    let migrated = predict_migration(ctx, view);
    let native = view.lister.as_ref().and_then(|f| {
        Some(NativeKernel {
            resources: f.ipykernel_dir.as_ref()?.join("resources"),
            executable: f.executable.clone(),
            python_major: f.version.map(|v| v.major).unwrap_or(3),
            ipykernel_version: f.ipykernel_version,
        })
    });
    let rules = DiscoveryRules {
        ensure_native_kernel: view.config.ensure_native_kernel.unwrap_or(true),
        native,
        allowed: view.config.allowed_kernelspecs.clone(),
        // With no Jupyter there is no provisioner registry to consult: jupyter_client's own
        // `local-provisioner` is what any Jupyter would have.
        provisioners: view
            .lister
            .as_ref()
            .map(|f| f.provisioners.clone())
            .unwrap_or_else(|| vec!["local-provisioner".to_string()]),
        default_provisioner: ctx
            .vars
            .get("JUPYTER_DEFAULT_PROVISIONER_NAME")
            .map(|v| v.to_string_lossy().into_owned())
            .or_else(|| view.config.default_provisioner_name.clone())
            .unwrap_or_else(|| "local-provisioner".to_string()),
    };
    // Jupyter would copy <ipython dir>/kernels to <data dir>/kernels before listing: list the
    // copy from its source, under the destination's paths, without writing anything.
    let overlay = migrated
        .as_ref()
        .map(|(src, dst)| (dst.as_path(), src.as_path()));
    kernelspec::discover_with_overlay(dirs, &rules, overlay)
}

/// jupyter_core's one-time migration (`JupyterApp.migrate_config`): when
/// `<config dir>/migrated` is absent and the IPython dir exists, `<ipython dir>/kernels` is
/// copied to `<data dir>/kernels` if that is missing or empty. Returns (source, destination)
/// when the next `jupyter kernelspec list` would do it.
pub fn predict_migration(ctx: &Context, view: &JupyterView) -> Option<(PathBuf, PathBuf)> {
    let facts = view.lister.as_ref()?;
    let home = ctx.home_resolved()?;
    let config_dir = platform::jupyter_config_dir(ctx.os, &ctx.vars, &home);
    if ctx.vars.get_nonempty("JUPYTER_NO_CONFIG").is_some() {
        return None;
    }
    let marker = config_dir.join("migrated");
    if marker.exists() || std::fs::symlink_metadata(&marker).is_ok() {
        return None;
    }
    let ipdir = paths::ipython_dir_for_migration(ctx);
    if !ipdir.exists() {
        return None;
    }
    let src = ipdir.join("kernels");
    let has_entries = |p: &Path| {
        std::fs::read_dir(p)
            .map(|mut rd| rd.next().is_some())
            .unwrap_or(false)
    };
    if !src.is_dir() || !has_entries(&src) {
        return None;
    }
    let data_dir = platform::jupyter_data_dir(ctx.os, &ctx.vars, &home, &facts.paths.sys_prefix);
    let dst = data_dir.join("kernels");
    if dst.exists() && has_entries(&dst) {
        return None;
    }
    Some((src, dst))
}
