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
use crate::jupyter::{runtime, server_env, servers};
use crate::platform;
use crate::pyjson::PyStr;
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
    let argv = runtime::read_cmdline(pid)?;
    // `python /env/bin/jupyter-lab …` (a script run through its shebang) or the script itself.
    let script = argv.iter().take(2).map(PathBuf::from).find(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("jupyter"))
    })?;
    let mut jupyter = script.parent()?.join("jupyter");
    if !jupyter.exists() {
        // a tool-installed `jupyter-lab` is a symlink into the tool env, where `jupyter` is
        if let Some(dir) = std::fs::canonicalize(&script)
            .ok()
            .and_then(|r| r.parent().map(Path::to_path_buf))
        {
            jupyter = dir.join("jupyter");
        }
    }
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

/// Where a view's Jupyter comes from: a `jupyter` command, or a Python whose env holds Jupyter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Command(PathBuf),
    Python(PathBuf),
}

/// What kip sees outside a kernel to choose the Jupyter from (gathered by [`candidates`]).
#[derive(Clone, Debug, Default)]
pub struct Candidates {
    /// Live servers of this user, newest first.
    pub running: Vec<servers::ServerProcess>,
    /// Every `jupyter` on PATH, in order, with whether server scripts sit beside it.
    pub jupyters: Vec<(PathBuf, bool)>,
    /// Server scripts on PATH (every `jupyter-lab`, then `-notebook`, then `-server`) with the
    /// Python their shebang names.
    pub server_scripts: Vec<(PathBuf, Option<PathBuf>)>,
}

/// The chosen Jupyter, why, and the pid of the running server it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub source: Option<Source>,
    pub how: String,
    pub server_pid: Option<i32>,
    /// Chosen as a `jupyter` on PATH (so a pyenv shim there is launched as pyenv launches it).
    pub from_path: bool,
}

/// PRODUCT.md's rule, outside a kernel: a running server is the Jupyter in use; else the first
/// `jupyter` on PATH with server scripts beside it (a kernel env's `jupyter`, which ipykernel
/// brings through jupyter_core, serves nothing); else a server script alone on PATH (a
/// tool-installed Jupyter: pipx, `uv tool install jupyterlab`); else the first `jupyter`.
pub fn choose(c: &Candidates) -> Choice {
    let first = c.jupyters.first().map(|(j, _)| j);
    let skipped = |chosen: Option<&PathBuf>| {
        match first {
        Some(f) if Some(f) != chosen => format!(
            "; not the first `jupyter` on PATH ({}): no server scripts beside it (jupyter_core, which comes with ipykernel)",
            f.display()
        ),
        _ => String::new(),
    }
    };
    if let Some(p) = c.running.first() {
        let started = p
            .script
            .as_ref()
            .map(|s| format!(" as {}", s.display()))
            .unwrap_or_default();
        let others = match c.running.len() {
            1 => String::new(),
            n => format!(" ({} other running servers; the newest is used)", n - 1),
        };
        return Choice {
            source: Some(Source::Python(p.python.clone())),
            how: format!(
                "the running Jupyter server (pid {}{started}, {}), whose Python is {}{others}",
                p.pid,
                p.info_file.display(),
                p.python.display()
            ),
            server_pid: Some(p.pid),
            from_path: false,
        };
    }
    if let Some((j, _)) = c.jupyters.iter().find(|(_, server)| *server) {
        return Choice {
            source: Some(Source::Command(j.clone())),
            how: format!(
                "the `jupyter` on PATH ({}){}",
                j.display(),
                skipped(Some(j))
            ),
            server_pid: None,
            from_path: true,
        };
    }
    if let Some((script, Some(py))) = c.server_scripts.iter().find(|(_, py)| py.is_some()) {
        return Choice {
            source: Some(Source::Python(py.clone())),
            how: format!(
                "{} on PATH, a tool-installed Jupyter (no `jupyter` beside it), whose Python is {}{}",
                script.display(),
                py.display(),
                skipped(None)
            ),
            server_pid: None,
            from_path: false,
        };
    }
    match first {
        Some(j) => Choice {
            source: Some(Source::Command(j.clone())),
            how: format!("the `jupyter` on PATH ({})", j.display()),
            server_pid: None,
            from_path: true,
        },
        None => Choice {
            source: None,
            how: "no `jupyter` on PATH: only the user and system data dirs are searched"
                .to_string(),
            server_pid: None,
            from_path: false,
        },
    }
}

/// The server scripts `jupyter lab|notebook|server` would run when found beside `jupyter`
/// (its own dir, or its symlink target's, as jupyter_core looks first).
fn has_server_scripts(jupyter: &Path) -> bool {
    let mut dirs: Vec<PathBuf> = jupyter
        .parent()
        .map(Path::to_path_buf)
        .into_iter()
        .collect();
    if let Some(d) = std::fs::canonicalize(jupyter)
        .ok()
        .and_then(|r| r.parent().map(Path::to_path_buf))
    {
        dirs.push(d);
    }
    dirs.iter().any(|d| {
        SERVER_SCRIPTS
            .iter()
            .any(|n| which::is_executable(&d.join(n)))
    })
}

const SERVER_SCRIPTS: [&str; 3] = ["jupyter-lab", "jupyter-notebook", "jupyter-server"];

/// Everything [`choose`] looks at: live servers, `jupyter` commands and server scripts on PATH.
pub fn candidates(ctx: &Context) -> Candidates {
    Candidates {
        running: servers::running(ctx),
        jupyters: which::which_all(ctx, "jupyter")
            .into_iter()
            .map(|m| {
                let server = has_server_scripts(&m.path);
                (m.path, server)
            })
            .collect(),
        server_scripts: SERVER_SCRIPTS
            .iter()
            .flat_map(|n| which::which_all(ctx, n))
            .map(|m| {
                let py = script_python(ctx, &m.path);
                (m.path, py)
            })
            .collect(),
    }
}

/// Choose the Jupyter: `--jupyter` if given, else (inside a kernel) the server that started
/// it, else [`choose`] over what this machine shows.
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
    let inside_kernel = parent.is_some();
    let mut server_env = ctx.vars.clone();
    let mut server_script = None;
    // PRODUCT.md: only launch-time rules follow a chosen server; listing (`--jupyter-json`)
    // follows the `jupyter` on PATH, as `jupyter kernelspec list` does.
    let mut listing_from: Option<PathBuf> = None;
    let choice = match (explicit, parent) {
        (Some(p), _) => {
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
            let source = if is_python_interpreter(&p) {
                Source::Python(p.clone())
            } else {
                Source::Command(p.clone())
            };
            Choice {
                source: Some(source),
                how: format!("--jupyter {}", p.display()),
                server_pid: None,
                from_path: false,
            }
        }
        (None, Some((j, env, how))) if j.exists() => {
            server_env = env;
            Choice {
                source: Some(Source::Command(j)),
                how,
                server_pid: None,
                from_path: false,
            }
        }
        (None, _) => {
            let c = candidates(ctx);
            let choice = choose(&c);
            if let Some(pid) = choice.server_pid {
                // kernels inherit the running server's environment, not kip's
                if let Some(env) = runtime::process_environ(pid) {
                    server_env = env;
                }
                server_script = c.running.first().and_then(|p| p.script.clone());
            } else if let Some((script, _)) = c
                .server_scripts
                .iter()
                .find(|(_, py)| matches!(&choice.source, Some(Source::Python(p)) if py.as_ref() == Some(p)))
            {
                server_script = Some(script.clone());
            }
            listing_from = c.jupyters.first().map(|(j, _)| j.clone()).filter(
                |j| !matches!(&choice.source, Some(Source::Command(chosen)) if chosen == j),
            );
            choice
        }
    };
    let how = choice.how;
    // Launch as the launcher launches (a pyenv shim's `pyenv exec`, a `conda activate`);
    // inside a kernel, or from a running server, the server's own environ is already exact.
    let model = match choice
        .source
        .as_ref()
        .filter(|_| !inside_kernel && choice.server_pid.is_none())
    {
        Some(Source::Command(j) | Source::Python(j)) => {
            let (env, model) =
                server_env::server_environment(ctx, server_env, j, explicit.is_none());
            server_env = env;
            model
        }
        None => None,
    };
    let mut view = JupyterView {
        how,
        jupyter: None,
        kernelspec_script: None,
        lister: None,
        server_script,
        launcher: None,
        config: JupyterConfig::default(),
        server_env,
        notes: Vec::new(),
    };
    match choice.source {
        Some(Source::Python(py)) => {
            // A Python: its env's `jupyter`, or the interpreter itself for both roles.
            let facts = python_facts(ctx, prober, &py);
            view.lister = facts.clone();
            view.launcher = facts;
            let scripts = py.parent().map(Path::to_path_buf).unwrap_or_default();
            let cmd = scripts.join("jupyter");
            view.jupyter = cmd.exists().then_some(cmd);
        }
        Some(Source::Command(j)) => {
            list_as(ctx, prober, &mut view, &j);
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
        None => {}
    }
    if let Some(j) = listing_from {
        list_as(ctx, prober, &mut view, &j);
        view.how = format!(
            "{}; kernels are listed as `jupyter kernelspec list` of the `jupyter` on PATH ({}) lists them",
            view.how,
            j.display()
        );
    }
    // A live server of this Jupyter tells its environ exactly; else the launch model's.
    let running = view
        .launcher_python()
        .filter(|_| !inside_kernel && choice.server_pid.is_none())
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

/// The lister of `view`: the Python that `jupyter kernelspec list` of the `jupyter` command `j`
/// runs.
fn list_as(ctx: &Context, prober: &Prober, view: &mut JupyterView, j: &Path) {
    view.lister = None;
    view.kernelspec_script = which::find_subcommand(ctx, j, "kernelspec");
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
    list_kernels_only(ctx, view, None)
}

/// [`list_kernels`] for the one kernel Jupyter would find under `name` (any case), reading no
/// other kernel.json; an empty listing when there is none.
pub fn list_kernel_named(ctx: &Context, view: &JupyterView, name: &str) -> KernelListing {
    list_kernels_only(ctx, view, Some(PyStr::new(name).lower()))
}

fn list_kernels_only(ctx: &Context, view: &JupyterView, only: Option<PyStr>) -> KernelListing {
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
        only,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    fn server(pid: i32, python: &str) -> servers::ServerProcess {
        servers::ServerProcess {
            pid,
            info_file: p(&format!("/run/jupyter/jpserver-{pid}.json")),
            python: p(python),
            script: Some(p("/srv/env/bin/jupyter-lab")),
        }
    }

    #[test]
    fn a_running_server_is_the_jupyter_in_use() {
        let c = Candidates {
            running: vec![
                server(7, "/srv/env/bin/python3"),
                server(5, "/old/bin/python"),
            ],
            jupyters: vec![(p("/proj/.venv/bin/jupyter"), false)],
            server_scripts: vec![],
        };
        let ch = choose(&c);
        assert_eq!(ch.source, Some(Source::Python(p("/srv/env/bin/python3"))));
        assert_eq!(ch.server_pid, Some(7));
        assert!(
            ch.how.contains("running Jupyter server (pid 7"),
            "{}",
            ch.how
        );
        assert!(ch.how.contains("1 other running servers"), "{}", ch.how);
    }

    #[test]
    fn a_kernel_envs_jupyter_does_not_hide_a_server_later_on_path() {
        let c = Candidates {
            running: vec![],
            jupyters: vec![
                (p("/proj/.venv/bin/jupyter"), false),
                (p("/usr/local/bin/jupyter"), true),
            ],
            server_scripts: vec![(p("/usr/local/bin/jupyter-lab"), Some(p("/usr/bin/python3")))],
        };
        let ch = choose(&c);
        assert_eq!(
            ch.source,
            Some(Source::Command(p("/usr/local/bin/jupyter")))
        );
        assert!(ch.from_path);
        assert!(ch
            .how
            .contains("not the first `jupyter` on PATH (/proj/.venv/bin/jupyter)"));
    }

    #[test]
    fn a_tool_installed_jupyter_is_found_through_its_server_script() {
        let c = Candidates {
            running: vec![],
            jupyters: vec![(p("/proj/.venv/bin/jupyter"), false)],
            server_scripts: vec![
                (p("/home/u/.local/bin/jupyter-lab"), None),
                (
                    p("/home/u/.local/bin/jupyter-lab2"),
                    Some(p("/home/u/.local/share/uv/tools/jupyterlab/bin/python")),
                ),
            ],
        };
        let ch = choose(&c);
        assert_eq!(
            ch.source,
            Some(Source::Python(p(
                "/home/u/.local/share/uv/tools/jupyterlab/bin/python"
            )))
        );
        assert!(!ch.from_path);
        assert!(ch.how.contains("tool-installed"), "{}", ch.how);
    }

    #[test]
    fn without_servers_the_first_jupyter_as_before() {
        let c = Candidates {
            running: vec![],
            jupyters: vec![(p("/a/jupyter"), false), (p("/b/jupyter"), false)],
            server_scripts: vec![],
        };
        let ch = choose(&c);
        assert_eq!(ch.source, Some(Source::Command(p("/a/jupyter"))));
        assert_eq!(ch.how, "the `jupyter` on PATH (/a/jupyter)");
        let none = choose(&Candidates::default());
        assert_eq!(none.source, None);
        assert!(none.how.starts_with("no `jupyter` on PATH"));
    }
}
