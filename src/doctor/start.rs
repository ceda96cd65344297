//! Proof by starting (PRODUCT.md, "Judgement"): which kernels may be started and where, the
//! `kernel-start-fails` finding from a start, and the start-up shadowing measurement behind
//! `notebook-local-shadowing`'s error.
//!
//! A start runs the user's code (IPython startup files, `.pth` files, modules beside the
//! notebook), so kip starts only kernels whose argv resolves to a local interpreter with no
//! remote wrapper and no non-local provisioner, and — as root — never one whose env, folder
//! or any file in that folder another user owns or may write.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde::Serialize;

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId, Severity};
use crate::envvars::EnvVars;
use crate::jupyter::kernelspec::{self, KernelSpec};
use crate::jupyter::launch::{self, KernelInterpreter};
use crate::jupyter::resolved::ResolvedKernel;
use crate::jupyter::start::{self, Outcome, StartRequest, StartResult};
use crate::jupyter::view::JupyterView;
use crate::notebook::ipynb;
use crate::process;
use crate::python::classify;

/// Programs that run the kernel somewhere else: a start through them is not a local proof
/// and may cost (a batch job, a container pull, a login).
const REMOTE_WRAPPERS: &[&str] = &[
    "ssh",
    "srun",
    "sbatch",
    "salloc",
    "mpirun",
    "mpiexec",
    "docker",
    "podman",
    "kubectl",
    "singularity",
    "apptainer",
    "sudo",
    "su",
    "gcloud",
    "aws",
    "az",
];

/// Which kernels `kip doctor` starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartMode {
    /// `--no-start`.
    Never,
    /// The default: the notebook's kernel, when a notebook is given.
    #[default]
    Notebook,
    /// `--start`: every kernel checked.
    All,
}

impl StartMode {
    pub fn from_flags(start: bool, no_start: bool) -> StartMode {
        match (start, no_start) {
            (_, true) => StartMode::Never,
            (true, false) => StartMode::All,
            (false, false) => StartMode::Notebook,
        }
    }
}

/// One start as `kip doctor` reports it (`starts` in `--json`).
#[derive(Clone, Debug, Serialize)]
pub struct StartRecord {
    pub kernel: String,
    pub cwd: PathBuf,
    pub started: bool,
    /// Why kip did not start it (`started: false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(flatten)]
    pub result: Option<StartResult>,
}

impl StartRecord {
    /// One line for humans: `ready in 812 ms (ipykernel 6.29.5, Python 3.12.3)`.
    pub fn summary(&self) -> String {
        let Some(r) = &self.result else {
            return format!("not started: {}", self.why.as_deref().unwrap_or_default());
        };
        match &r.outcome {
            Outcome::Ready {
                implementation,
                implementation_version,
                language_version,
                ..
            } => {
                let what: Vec<String> = [
                    implementation.as_ref().map(|i| {
                        format!("{i} {}", implementation_version.as_deref().unwrap_or(""))
                    }),
                    language_version.as_ref().map(|v| format!("language {v}")),
                ]
                .into_iter()
                .flatten()
                .map(|s| s.trim().to_string())
                .collect();
                format!(
                    "ready in {} ms ({})",
                    r.ready_ms.unwrap_or(r.elapsed_ms),
                    what.join(", ")
                )
            }
            other => format!("failed after {} ms: {}", r.elapsed_ms, failure_text(other)),
        }
    }
}

fn failure_text(o: &Outcome) -> String {
    match o {
        Outcome::Ready { .. } => "it answered".into(),
        Outcome::Exited {
            exit_code: Some(c), ..
        } => format!("it exited with code {c}"),
        Outcome::Exited {
            signal: Some(s), ..
        } => format!("it was killed by signal {s}"),
        Outcome::Exited { .. } => "it exited".into(),
        Outcome::TimedOut { timeout_ms } => {
            format!("no kernel_info reply within {timeout_ms} ms (KIP_START_TIMEOUT_MS)")
        }
        Outcome::NotRun { error } => error.clone(),
    }
}

/// Why a path is not trusted by root: another owner, or writable by others. `None` for
/// root's own, not group- or world-writable, paths.
fn foreign(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let mode = meta.mode();
    if meta.uid() != 0 {
        return Some(format!(
            "{} belongs to {}",
            path.display(),
            user_name(meta.uid())
        ));
    }
    let is_link = meta.file_type().is_symlink();
    if !is_link && mode & 0o002 != 0 {
        return Some(format!("{} is writable by every user", path.display()));
    }
    if !is_link && mode & 0o020 != 0 && meta.gid() != 0 {
        return Some(format!(
            "{} is writable by the group {}",
            path.display(),
            meta.gid()
        ));
    }
    None
}

/// `uid 65534 (nobody)`, from /etc/passwd.
fn user_name(uid: u32) -> String {
    let name = std::fs::read_to_string("/etc/passwd").ok().and_then(|t| {
        t.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(2)?.parse::<u32>().ok()? == uid).then(|| f[0].to_string())
        })
    });
    match name {
        Some(n) => format!("uid {uid} ({n})"),
        None => format!("uid {uid}"),
    }
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// As root: the folder the kernel starts in and every entry in it (sys.path[0] is that
/// folder, so any file there can run as root).
fn folder_refusal(dir: &Path) -> Option<String> {
    if let Some(w) = foreign(dir) {
        return Some(w);
    }
    let rd = std::fs::read_dir(dir).ok()?;
    rd.flatten().find_map(|e| foreign(&e.path()))
}

/// As root: the env the interpreter belongs to (its prefix, site-packages and the
/// interpreter file itself).
fn env_refusal(ctx: &Context, python: &Path) -> Option<String> {
    let real = std::fs::canonicalize(python).unwrap_or_else(|_| python.to_path_buf());
    let mut paths = vec![real];
    if let Some(env) = classify::classify_interpreter(ctx, python) {
        paths.push(env.prefix.clone());
        paths.extend(env.site_packages.iter().cloned());
    }
    paths.iter().find_map(|p| foreign(p))
}

/// The remote wrapper argv runs through, if any (`ssh`, or one inside `bash -c "…"`).
fn remote_wrapper(argv: &[String]) -> Option<String> {
    argv.iter()
        .flat_map(|a| a.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .map(|w| {
            w.trim_matches(|c| c == '"' || c == '\'' || c == ';' || c == '&' || c == '(')
                .to_string()
        })
        .find_map(|w| {
            let base = w.rsplit('/').next().unwrap_or(&w).to_string();
            REMOTE_WRAPPERS.contains(&base.as_str()).then_some(base)
        })
}

/// The start of kernel `k` in `cwd`, or why kip does not start it.
pub fn plan(
    ctx: &Context,
    view: &JupyterView,
    k: &ResolvedKernel,
    cwd: &Path,
) -> Result<StartRequest, String> {
    let spec = k
        .entry
        .spec
        .as_ref()
        .map_err(|p| format!("Jupyter cannot load it ({p})"))?;
    plan_spec(
        ctx,
        view,
        &k.entry.found.name.to_string_lossy(),
        spec,
        &k.entry.found.resource_dir,
        &k.interpreter,
        cwd,
    )
}

/// [`plan`] from the parts: a kernelspec as loaded from `resource_dir`, its interpreter.
fn plan_spec(
    ctx: &Context,
    view: &JupyterView,
    name: &str,
    spec: &KernelSpec,
    resource_dir: &Path,
    interpreter: &KernelInterpreter,
    cwd: &Path,
) -> Result<StartRequest, String> {
    let raw = spec
        .argv_strings()
        .filter(|a| !a.is_empty())
        .ok_or("its argv is empty or not all strings")?;
    if let Some(w) = remote_wrapper(&raw) {
        return Err(format!(
            "its argv runs through `{w}`, which starts the kernel somewhere else; kip starts only local kernels"
        ));
    }
    if let Some(p) = spec
        .metadata_get("kernel_provisioner")
        .and_then(|v| crate::pyjson::to_serde(v).get("provisioner_name").cloned())
        .and_then(|v| v.as_str().map(str::to_string))
        .filter(|p| p != "local-provisioner")
    {
        return Err(format!(
            "it uses the kernel provisioner `{p}`, which does not start a local process kip can watch"
        ));
    }
    let python = match interpreter {
        KernelInterpreter::Resolved { python, .. } => python.clone(),
        KernelInterpreter::Unresolved { why } => {
            return Err(format!(
                "its argv does not resolve to a local interpreter ({why})"
            ))
        }
    };
    if python.symlink_metadata().is_err() {
        return Err(format!(
            "its interpreter {} does not exist",
            python.display()
        ));
    }
    if running_as_root() {
        if let Some(w) = env_refusal(ctx, &python).or_else(|| folder_refusal(cwd)) {
            return Err(format!(
                "kip runs as root and {w}: starting the kernel would run that user's code as root"
            ));
        }
    }
    let argv = launch::launch_argv(
        view,
        spec,
        resource_dir,
        &view.server_env,
        Path::new("{connection_file}"),
    )
    .ok_or("its argv is empty")?;
    Ok(StartRequest {
        kernel_name: name.to_string(),
        argv,
        env: launch::kernel_environment(&view.server_env, spec).into_owned(),
        cwd: cwd.to_path_buf(),
        timeout: process::start_timeout(&ctx.vars),
    })
}

/// Plan and start each `(kernel, cwd)`, at most as many at once as there are cores.
pub fn run_starts(
    ctx: &Context,
    view: &JupyterView,
    which: &[(&ResolvedKernel, PathBuf)],
) -> Vec<StartRecord> {
    let plans: Vec<Result<StartRequest, String>> = which
        .iter()
        .map(|(k, cwd)| plan(ctx, view, k, cwd))
        .collect();
    let reqs: Vec<StartRequest> = plans.iter().filter_map(|p| p.clone().ok()).collect();
    let mut results = start::start_all(&reqs).into_iter();
    which
        .iter()
        .zip(plans)
        .map(|((k, cwd), p)| StartRecord {
            kernel: k.entry.found.name.to_string_lossy(),
            cwd: cwd.clone(),
            started: p.is_ok(),
            why: p.as_ref().err().cloned(),
            result: p.ok().and_then(|_| results.next()),
        })
        .collect()
}

/// `kernel-start-fails` for a start that did not reach `kernel_info`.
pub fn failure_finding(rec: &StartRecord) -> Option<Finding> {
    let r = rec.result.as_ref().filter(|r| !r.ready())?;
    let name = &rec.kernel;
    let (exit_code, timed_out) = match &r.outcome {
        Outcome::Exited { exit_code, .. } => (*exit_code, false),
        Outcome::TimedOut { .. } => (None, true),
        _ => (None, false),
    };
    let tail = match &r.outcome {
        Outcome::NotRun { error } if r.stderr_tail.is_empty() => error.clone(),
        _ => r.stderr_tail.clone(),
    };
    let last = tail.lines().rev().find(|l| !l.trim().is_empty());
    let mut f = Finding::new(
        FindingId::KernelStartFails,
        name,
        format!(
            "kernel \"{name}\" does not start: {}{}",
            failure_text(&r.outcome),
            last.map(|l| format!(" — \"{}\"", l.trim())).unwrap_or_default()
        ),
        format!(
            "kip started it exactly as this Jupyter would (its argv, its env, cwd {}), and it {}; a notebook on it shows \"kernel died\" or stays \"connecting\". Its stderr tail says why.",
            rec.cwd.display(),
            if timed_out { "never answered" } else { "died" }
        ),
        match local_culprit(&tail, &rec.cwd) {
            Some(file) => format!(
                "rename {} (it shadows a module the kernel imports) and delete any __pycache__ beside it, then prove it again: kip doctor --start --kernel {name}",
                file.display()
            ),
            None => format!(
                "fix what the stderr tail names (a module beside the notebook, PYTHONPATH, a broken env), then prove it again: kip doctor --start --kernel {name}"
            ),
        },
    );
    f.exit_code = Some(exit_code);
    f.timed_out = Some(timed_out);
    f.stderr_tail = Some(tail);
    Some(f)
}

/// The start of the kernel kip just wrote into `dir` (`kip kernel add`, `kip kernel fix`), in
/// the server's cwd, read back from disk as Jupyter will read it.
pub fn prove_kernel_dir(ctx: &Context, view: &JupyterView, name: &str, dir: &Path) -> StartRecord {
    let planned = kernelspec::load_spec(dir)
        .map_err(|p| format!("Jupyter cannot load it ({p})"))
        .and_then(|spec| {
            let interp = launch::resolve_interpreter(ctx, view, &spec, dir, &view.server_env);
            plan_spec(ctx, view, name, &spec, dir, &interp, &ctx.cwd)
        });
    StartRecord {
        kernel: name.to_string(),
        cwd: ctx.cwd.clone(),
        started: planned.is_ok(),
        result: planned.as_ref().ok().map(start::start),
        why: planned.err(),
    }
}

/// `kip kernel add`: take back a kernel that did not start — the replaced kernel.json put back
/// when `--force` replaced one (its backup is in the new dir), else the new dir removed. Says
/// what was done.
pub fn undo_add(dest: &Path, replaced: Option<&Path>) -> String {
    match replaced {
        Some(bak) => {
            let kfile = dest.join("kernel.json");
            match std::fs::read(bak).and_then(|old| crate::kernel::write::write_atomic(&kfile, &old)) {
                Ok(()) => format!(
                    "the kernel.json it replaced was put back from {}",
                    bak.display()
                ),
                Err(e) => format!(
                    "putting back the replaced kernel.json from {} failed ({e}); {} is the new, failing kernel",
                    bak.display(),
                    kfile.display()
                ),
            }
        }
        None => match crate::kernel::write::remove_kernel_dir(dest) {
            Ok(()) => format!(
                "{} was removed again: nothing was registered",
                dest.display()
            ),
            Err(e) => format!("removing {} failed too: {e}", dest.display()),
        },
    }
}

/// The failure of a proof, for a command's error output: the summary and the stderr tail.
pub fn failure_text_of(rec: &StartRecord) -> Option<String> {
    let f = failure_finding(rec)?;
    let tail: String = f
        .stderr_tail
        .iter()
        .flat_map(|t| t.lines())
        .map(|l| format!("\n  stderr | {l}"))
        .collect();
    Some(format!("kernel \"{}\" {}{tail}", rec.kernel, rec.summary()))
}

/// The file in the start's folder that the stderr tail names — a traceback frame
/// (`File "/nb/types.py", …`) or an import error (`cannot import name 'GenericAlias' from
/// 'types' (/nb/types.py)`): a local module the kernel imported instead of the real one.
fn local_culprit(tail: &str, cwd: &Path) -> Option<PathBuf> {
    let prefix = format!("{}/", cwd.display());
    tail.lines().rev().find_map(|l| {
        l.match_indices(&prefix).find_map(|(at, _)| {
            let rest = &l[at..];
            let end = rest
                .find(|c: char| c == '"' || c == '\'' || c == ')' || c == ',' || c.is_whitespace())
                .unwrap_or(rest.len());
            let file = PathBuf::from(&rest[..end]);
            // A local package is named by its folder.
            let file = match file.file_name() {
                Some(n) if n == "__init__.py" => file.parent()?.to_path_buf(),
                _ => file
                    .extension()
                    .is_some_and(|e| e == "py")
                    .then_some(file)?,
            };
            (file.parent() == Some(cwd)).then_some(file)
        })
    })
}

/// `kip doctor`'s starts: per `mode`, the notebook's kernel in the notebook's folder, or
/// every checked kernel (in the server's cwd, the notebook's kernel in its folder). A kernel
/// whose kernel.json Jupyter cannot load is skipped (`kernel-spec-invalid` says why); one whose
/// interpreter is gone entirely is "not started" (`kernel-interpreter-missing` says why).
/// Appends `kernel-start-fails` and the start-up shadowing findings.
pub fn check(
    ctx: &Context,
    view: &JupyterView,
    kernels: &[ResolvedKernel],
    notebook: Option<&Path>,
    mode: StartMode,
    findings: &mut Vec<Finding>,
) -> Vec<StartRecord> {
    let nb = notebook.map(|nb| {
        let path = if nb.is_absolute() {
            nb.to_path_buf()
        } else {
            ctx.cwd.join(nb)
        };
        let kernel = ipynb::read(&path).ok().and_then(|n| n.kernel_name);
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        (nb.display().to_string(), dir, kernel)
    });
    let nb_kernel = nb
        .as_ref()
        .and_then(|(_, _, k)| k.as_deref())
        .and_then(|n| {
            kernels
                .iter()
                .find(|k| k.entry.found.name.to_string_lossy() == n)
        });
    let explained = |k: &ResolvedKernel| {
        let name = k.entry.found.name.to_string_lossy();
        findings
            .iter()
            .any(|f| f.subject == name && f.id == FindingId::KernelSpecInvalid)
    };
    let mut which: Vec<(&ResolvedKernel, PathBuf)> = Vec::new();
    match mode {
        StartMode::Never => {}
        StartMode::Notebook => {
            if let (Some((_, dir, _)), Some(k)) = (&nb, nb_kernel) {
                which.push((k, dir.clone()));
            }
        }
        StartMode::All => {
            for k in kernels.iter().filter(|k| !explained(k)) {
                let is_nb = nb_kernel.is_some_and(|n| std::ptr::eq(n, k));
                let cwd = match (&nb, is_nb) {
                    (Some((_, dir, _)), true) => dir.clone(),
                    _ => ctx.cwd.clone(),
                };
                which.push((k, cwd));
            }
        }
    }
    // The measurement runs beside the starts: both mostly wait for Python to import.
    let (measured, records) = std::thread::scope(|s| {
        let measured = s.spawn(|| {
            let (_, dir, _) = nb.as_ref()?;
            Some(measure_startup(ctx, view, nb_kernel?, dir, mode))
        });
        let records = run_starts(ctx, view, &which);
        (measured.join().ok().flatten(), records)
    });
    if let (Some((subject, dir, _)), Some(k), Some(m)) = (&nb, nb_kernel, measured) {
        startup_shadowing(k, dir, subject, m, findings);
    }
    findings.extend(records.iter().filter_map(failure_finding));
    records
}

/// Valid on Python 2.7 and 3.6+. Prints the top-level modules a kernel imports after the
/// notebook's folder is on `sys.path`: `runpy` (`python -m ipykernel_launcher`) and
/// ipykernel's start-up imports, less what was loaded before the script ran (interpreter
/// start-up and `site`, before `sys.path[0]` existed) and built-in or frozen modules, which
/// no file can shadow. Runs no user code beyond what any import of ipykernel runs.
const STARTUP_IMPORTS: &str = r#"
import sys
before = set(sys.modules)
if sys.path and sys.path[0] in ('', '.'):
    sys.path.pop(0)
error = None
try:
    import runpy
    from ipykernel import kernelapp, ipkernel, zmqshell
except BaseException as e:
    error = '%s: %s' % (type(e).__name__, e)
try:
    import imp
except ImportError:
    imp = None
def unshadowable(name):
    if name in sys.builtin_module_names:
        return True
    m = sys.modules.get(name)
    spec = getattr(m, '__spec__', None)
    if spec is not None:
        return getattr(spec, 'origin', None) in ('built-in', 'frozen')
    return bool(imp and imp.is_frozen(name))
new = set(n.split('.')[0] for n in list(sys.modules) if n not in before)
new = sorted(n for n in new if n not in before and not unshadowable(n))
import json
sys.stdout.write(json.dumps({'modules': new, 'error': error}))
"#;

type StartupCache = Mutex<HashMap<PathBuf, Result<Vec<String>, String>>>;

/// The top-level modules a kernel on `python` (with env `env`) imports while starting,
/// measured once per interpreter per invocation in a neutral temp folder.
pub fn startup_modules(python: &Path, env: &EnvVars) -> Result<Vec<String>, String> {
    static CACHE: OnceLock<StartupCache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(python) {
        return r.clone();
    }
    let measure = || -> Result<Vec<String>, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(python);
        cmd.arg("-c")
            .arg(STARTUP_IMPORTS)
            .current_dir(dir.path())
            .env_clear()
            .envs(env.to_vec());
        let out =
            process::run_captured(cmd, process::start_timeout(env)).map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|_| {
            format!(
                "the measurement printed no answer: {}",
                start::tail_lines(&out.stderr, 3)
            )
        })?;
        if let Some(e) = v["error"].as_str() {
            return Err(format!("importing ipykernel failed: {e}"));
        }
        Ok(v["modules"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    };
    let r = measure();
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(python.to_path_buf(), r.clone());
    r
}

/// Modules the notebook's folder provides: `X.py`, and packages `X/__init__.py`.
fn local_modules(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let path = e.path();
            if let Some(stem) = name.strip_suffix(".py") {
                return path.is_file().then(|| (stem.to_string(), path));
            }
            path.join("__init__.py").is_file().then_some((name, path))
        })
        .collect();
    out.sort();
    out
}

/// The start-up imports of kernel `k` (see [`startup_modules`]), under the start rules; `Err`
/// says why they were not measured.
fn measure_startup(
    ctx: &Context,
    view: &JupyterView,
    k: &ResolvedKernel,
    dir: &Path,
    mode: StartMode,
) -> Result<Vec<String>, String> {
    if mode == StartMode::Never {
        return Err("not measured (--no-start)".to_string());
    }
    let req = plan(ctx, view, k, dir).map_err(|why| format!("not measured: {why}"))?;
    let python = k.interpreter.python().unwrap_or(Path::new("python"));
    startup_modules(python, &req.env).map_err(|e| format!("not measured: {e}"))
}

/// `notebook-local-shadowing` as an error for a local module the kernel itself imports while
/// starting (so it dies before any cell runs); under `--no-start` or when the start rules
/// forbid the measurement, the existing warnings say it was not measured.
fn startup_shadowing(
    k: &ResolvedKernel,
    dir: &Path,
    subject: &str,
    measured: Result<Vec<String>, String>,
    findings: &mut Vec<Finding>,
) {
    let startup = match measured {
        Ok(m) => m,
        Err(note) => {
            for f in findings
                .iter_mut()
                .filter(|f| f.id == FindingId::NotebookLocalShadowing && f.subject == subject)
            {
                f.explanation.push_str(&format!(
                    " Whether the kernel itself imports it while starting was {note}."
                ));
            }
            return;
        }
    };
    let name = k.entry.found.name.to_string_lossy();
    for (module, path) in local_modules(dir) {
        if !startup.contains(&module) {
            continue;
        }
        let why = format!(
            "The kernel \"{name}\" imports `{module}` while it starts, after the notebook's folder is first on sys.path, so it loads {} instead and dies before running any cell.",
            path.display()
        );
        let existing = findings.iter_mut().find(|f| {
            f.id == FindingId::NotebookLocalShadowing
                && f.subject == subject
                && f.module.as_deref() == Some(module.as_str())
        });
        match existing {
            Some(f) => {
                f.severity = Severity::Error;
                f.explanation = why;
            }
            None => {
                let mut f = Finding::new(
                    FindingId::NotebookLocalShadowing,
                    subject,
                    format!(
                        "\"{}\" next to the notebook shadows the module \"{module}\" that the kernel imports while starting",
                        path.display()
                    ),
                    why,
                    format!(
                        "rename {} (and delete any __pycache__ next to it)",
                        path.display()
                    ),
                )
                .with_severity(Severity::Error);
                f.module = Some(module);
                findings.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn remote_wrappers_are_found_anywhere_in_argv() {
        assert_eq!(
            remote_wrapper(&s(&["ssh", "host", "python", "-m", "ipykernel"])),
            Some("ssh".into())
        );
        assert_eq!(
            remote_wrapper(&s(&["/usr/bin/srun", "-N1", "python"])),
            Some("srun".into())
        );
        assert_eq!(
            remote_wrapper(&s(&[
                "bash",
                "-c",
                "docker run img python -m ipykernel -f x"
            ])),
            Some("docker".into())
        );
        assert_eq!(
            remote_wrapper(&s(&[
                "/v/bin/python",
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}"
            ])),
            None
        );
    }

    #[test]
    fn the_local_file_a_traceback_ran_is_named() {
        let tail = "Traceback (most recent call last):\n  File \"/usr/lib/python3.11/functools.py\", line 22, in <module>\n    from types import GenericAlias\n  File \"/nb/types.py\", line 1, in <module>\nImportError: cannot import name 'GenericAlias'";
        assert_eq!(
            local_culprit(tail, Path::new("/nb")),
            Some(PathBuf::from("/nb/types.py"))
        );
        assert_eq!(local_culprit(tail, Path::new("/elsewhere")), None);
        let tail = "  File \"/nb/json/__init__.py\", line 1\nImportError: boom";
        assert_eq!(
            local_culprit(tail, Path::new("/nb")),
            Some(PathBuf::from("/nb/json"))
        );
        let tail = "ImportError: cannot import name 'GenericAlias' from 'types' (/nb/types.py)";
        assert_eq!(
            local_culprit(tail, Path::new("/nb")),
            Some(PathBuf::from("/nb/types.py"))
        );
    }

    #[test]
    fn local_modules_are_files_and_packages() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("types.py"), "").unwrap();
        std::fs::create_dir(d.path().join("json")).unwrap();
        std::fs::write(d.path().join("json/__init__.py"), "").unwrap();
        std::fs::create_dir(d.path().join("data")).unwrap();
        std::fs::write(d.path().join("nb.ipynb"), "{}").unwrap();
        let names: Vec<String> = local_modules(d.path())
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, vec!["json".to_string(), "types".to_string()]);
    }
}
