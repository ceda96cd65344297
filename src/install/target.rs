//! Which environment an action targets (PRODUCT.md "TARGET" and "When no target is given").
//!
//! Inside a Jupyter kernel the answer must never be a prompt: `!` commands in a notebook run on
//! a pseudo-terminal nobody can answer, so the kernel check comes before any terminal check.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::envvars::EnvVars;
use crate::jupyter::launch::{self, KernelInterpreter};
use crate::jupyter::resolved::{resolve_all, ResolvedKernel};
use crate::jupyter::runtime;
use crate::jupyter::view::{self, JupyterView};
use crate::python::classify;
use crate::python::discovery;
use crate::python::environment::{same_prefix, EnvKind, Environment};
use crate::python::probe::Prober;
use crate::python::version::VersionRequest;
use crate::report::Reporter;

/// What the user asked for on the command line: the TARGET flags, and whose Jupyter's view
/// names the kernels they mean (`--jupyter`, which every verb with TARGET flags takes too).
#[derive(Clone, Debug, Default)]
pub struct TargetArgs {
    pub kernel: Option<String>,
    pub python: Option<String>,
    pub prefix: Option<PathBuf>,
    pub env: Option<String>,
    pub notebook: Option<PathBuf>,
    /// A running kernel process, named by its pid (a kernel no kernelspec names, too).
    pub kernel_pid: Option<i32>,
    /// A running kernel, named by the connection file it was started with (`-f FILE`).
    pub connection_file: Option<PathBuf>,
    /// A `jupyter` command, or a Python whose env has Jupyter (`view::select`).
    pub jupyter: Option<PathBuf>,
}

impl TargetArgs {
    /// No flag names an environment (`--jupyter` alone only says whose view to read).
    pub fn is_empty(&self) -> bool {
        self.kernel.is_none()
            && self.python.is_none()
            && self.prefix.is_none()
            && self.env.is_none()
            && self.notebook.is_none()
            && self.kernel_pid.is_none()
            && self.connection_file.is_none()
    }

    /// A target that is a kernel (read through a Jupyter's kernelspecs).
    fn names_a_kernel(&self) -> bool {
        self.notebook.is_some()
            || self.kernel.is_some()
            || self.kernel_pid.is_some()
            || self.connection_file.is_some()
    }
}

/// The chosen environment and why.
#[derive(Clone, Debug)]
pub struct Target {
    /// The interpreter to install with and to prove imports with.
    pub python: PathBuf,
    pub env: Environment,
    /// The kernel, when the target is one.
    pub kernel: Option<String>,
    /// The environment the kernel process runs with (kernel.json `env` applied), for the
    /// import proof; `None` for a plain interpreter.
    pub kernel_env: Option<EnvVars>,
    /// One sentence for stderr: which target and why.
    pub why: String,
    /// The running kernel process, when the target is one (`--kernel-pid`,
    /// `--connection-file`, or the kernel kip runs inside): what it can see was fixed when it
    /// started.
    pub pid: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NotFound(String),
}

/// Names kip refuses outright for an existing kernel (PRODUCT.md: `/`, NUL, `.`, `..`).
pub fn check_kernel_name(name: &str) -> Result<(), TargetError> {
    if name.is_empty() || name.contains('/') || name.contains('\0') || name == "." || name == ".." {
        return Err(TargetError::Usage(format!(
            "invalid kernel name {name:?}: kernel names cannot be empty, contain '/' or NUL, or be '.' or '..'"
        )));
    }
    Ok(())
}

fn choices(kernels: &[ResolvedKernel]) -> String {
    if kernels.is_empty() {
        return "no kernels are installed; use --python PATH, --prefix DIR or --env NAME".into();
    }
    let names: Vec<String> = kernels
        .iter()
        .map(|k| {
            format!(
                "  --kernel {}",
                shell_word(&k.entry.found.name.to_string_lossy())
            )
        })
        .collect();
    format!("choose one of:\n{}", names.join("\n"))
}

fn shell_word(s: &str) -> String {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

/// Resolve the target of an install-like command (see [`resolve`]), reading Jupyter's kernels (and so choosing a Jupyter, `--jupyter`) only when
/// the target is a kernel: `--python`, `--prefix` and `--env` name an environment directly.
pub fn resolve_with(
    ctx: &Context,
    prober: &Prober,
    reporter: &mut dyn Reporter,
    args: &TargetArgs,
) -> anyhow::Result<Result<Target, TargetError>> {
    if let Some(t) = direct(ctx, args) {
        return Ok(t);
    }
    let view = view::select(ctx, prober, args.jupyter.as_deref())?;
    Ok(resolve(ctx, &view, reporter, args))
}

/// The target `args` names, for a Jupyter already chosen.
pub fn resolve(
    ctx: &Context,
    view: &JupyterView,
    reporter: &mut dyn Reporter,
    args: &TargetArgs,
) -> Result<Target, TargetError> {
    if let Some(t) = direct(ctx, args) {
        return t;
    }
    if let (Some(name), None) = (&args.kernel, &args.notebook) {
        // `--kernel NAME`: read that kernel only, as Jupyter's `get_kernel_spec` does; all of
        // them only to say which names there are when it is missing.
        let kernels = resolve_all(ctx, view, &view::list_kernel_named(ctx, view, name));
        if !kernels.is_empty() {
            return from_kernel(ctx, view, &kernels, name, "--kernel");
        }
    }
    let listing = view::list_kernels(ctx, view);
    let kernels = resolve_all(ctx, view, &listing);
    from_kernels(ctx, view, reporter, args, &kernels)
}

/// `--prefix`, `--python` or `--env`, when no kernel target (`--notebook`, `--kernel`) is given.
fn direct(ctx: &Context, args: &TargetArgs) -> Option<Result<Target, TargetError>> {
    if args.names_a_kernel() {
        return None;
    }
    if let Some(p) = &args.prefix {
        let p = absolute(ctx, p);
        return Some(match classify::classify_prefix(ctx, &p) {
            Some(env) => Ok(plain(env, format!("--prefix {}", p.display()))),
            None => Err(TargetError::NotFound(format!(
                "--prefix {}: no Python environment there",
                p.display()
            ))),
        });
    }
    if let Some(py) = &args.python {
        return Some(from_python(ctx, py));
    }
    args.env.as_ref().map(|e| from_env(ctx, e))
}

/// The targets that are kernels: `--notebook`, `--kernel`, or none given.
fn from_kernels(
    ctx: &Context,
    view: &JupyterView,
    reporter: &mut dyn Reporter,
    args: &TargetArgs,
    kernels: &[ResolvedKernel],
) -> Result<Target, TargetError> {
    if let Some(nb) = &args.notebook {
        return from_notebook(ctx, view, kernels, nb);
    }
    if let Some(name) = &args.kernel {
        return from_kernel(ctx, view, kernels, name, "--kernel");
    }
    if let Some(pid) = args.kernel_pid {
        let k = runtime::kernel_process(pid).ok_or_else(|| {
            TargetError::NotFound(format!(
                "--kernel-pid {pid}: no running ipykernel process has that pid"
            ))
        })?;
        return from_running_kernel(ctx, view, kernels, &k, Some(&format!("--kernel-pid {pid}")));
    }
    if let Some(file) = &args.connection_file {
        let file = absolute(ctx, file);
        let k = runtime::kernel_by_connection_file(&file).ok_or_else(|| {
            TargetError::NotFound(format!(
                "--connection-file {}: no running ipykernel process was started with it",
                file.display()
            ))
        })?;
        let how = format!("--connection-file {}", file.display());
        return from_running_kernel(ctx, view, kernels, &k, Some(&how));
    }
    // No target: inside a kernel first, never a prompt there.
    let inside = ctx.vars.get("JPY_PARENT_PID").is_some();
    if let Some(k) = runtime::enclosing_kernel() {
        return from_running_kernel(ctx, view, kernels, &k, None);
    }
    if inside {
        return Err(TargetError::Usage(format!(
            "kip runs inside a Jupyter kernel (JPY_PARENT_PID is set) but could not identify it; {}",
            choices(kernels)
        )));
    }
    if reporter.can_ask() && !kernels.is_empty() {
        return pick(ctx, view, reporter, kernels);
    }
    Err(TargetError::Usage(format!(
        "no target given; {}",
        choices(kernels)
    )))
}

fn absolute(ctx: &Context, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        ctx.cwd.join(p)
    }
}

fn plain(env: Environment, why: String) -> Target {
    Target {
        python: env.interpreter.clone(),
        env,
        kernel: None,
        kernel_env: None,
        why,
        pid: None,
    }
}

fn from_kernel(
    ctx: &Context,
    view: &JupyterView,
    kernels: &[ResolvedKernel],
    name: &str,
    how: &str,
) -> Result<Target, TargetError> {
    check_kernel_name(name)?;
    let k = kernels
        .iter()
        .find(|k| k.entry.found.name.to_string_lossy() == name)
        .or_else(|| {
            let lower = name.to_lowercase();
            kernels
                .iter()
                .find(|k| k.entry.found.name.to_string_lossy() == lower)
        })
        .ok_or_else(|| {
            TargetError::NotFound(format!("no kernel named {name:?}; {}", choices(kernels)))
        })?;
    let spec = k.entry.spec.as_ref().map_err(|p| {
        TargetError::NotFound(format!("kernel {name:?} cannot be loaded by Jupyter: {p}"))
    })?;
    let python = match &k.interpreter {
        KernelInterpreter::Resolved { python, exists: true, .. } => python.clone(),
        KernelInterpreter::Resolved { python, .. } => {
            return Err(TargetError::NotFound(format!(
                "kernel {name:?} runs {}, which does not exist (deleted environment?); run `kip kernel fix {name} --yes` to remove it",
                python.display()
            )))
        }
        KernelInterpreter::Unresolved { why } => {
            return Err(TargetError::NotFound(format!(
                "cannot tell which Python kernel {name:?} runs ({why}); use --python PATH"
            )))
        }
    };
    let env = classify::classify_interpreter(ctx, &python).ok_or_else(|| {
        TargetError::NotFound(format!(
            "kernel {name:?} runs {}, which kip does not recognise as a Python",
            python.display()
        ))
    })?;
    let kernel_env = launch::kernel_environment(&view.server_env, spec).into_owned();
    Ok(Target {
        python,
        env,
        kernel: Some(name.to_string()),
        kernel_env: Some(kernel_env),
        why: format!("{how} {name}"),
        pid: None,
    })
}

/// A running kernel process: the enclosing one (`named_by` is `None`), or one a flag names
/// (`--kernel-pid`, `--connection-file`), resolved the same way.
fn from_running_kernel(
    ctx: &Context,
    view: &JupyterView,
    kernels: &[ResolvedKernel],
    k: &runtime::KernelProcess,
    named_by: Option<&str>,
) -> Result<Target, TargetError> {
    let env = classify::classify_interpreter(ctx, &k.interpreter).ok_or_else(|| {
        let whose = match named_by {
            Some(flag) => format!("{flag}: kernel process {}", k.pid),
            None => format!("kip runs inside kernel process {}", k.pid),
        };
        TargetError::NotFound(format!(
            "{whose} whose interpreter {} is not a recognisable Python; {}",
            k.interpreter.display(),
            choices(kernels)
        ))
    })?;
    // Cross-check with the connection file's kernel_name: prefer the kernelspec's env block.
    let named = k.kernel_name.as_deref().and_then(|n| {
        kernels.iter().find(|rk| {
            rk.entry.found.name.to_string_lossy() == n
                && rk
                    .interpreter
                    .python()
                    .and_then(|p| classify::classify_interpreter(ctx, p))
                    .is_some_and(|e| e.same_env(&env))
        })
    });
    let kernel_env = named
        .and_then(|rk| rk.entry.spec.as_ref().ok())
        .map(|spec| launch::kernel_environment(&view.server_env, spec).into_owned());
    Ok(Target {
        python: k.interpreter.clone(),
        kernel: k.kernel_name.clone(),
        why: match named_by {
            None => format!(
                "running inside kernel {} (pid {}), whose Python is {}",
                k.kernel_name.as_deref().unwrap_or("?"),
                k.pid,
                k.interpreter.display()
            ),
            Some(flag) => format!(
                "{flag} → kernel {} (pid {}), whose Python is {}",
                k.kernel_name.as_deref().unwrap_or("?"),
                k.pid,
                k.interpreter.display()
            ),
        },
        env,
        kernel_env,
        pid: Some(k.pid),
    })
}

fn from_notebook(
    ctx: &Context,
    view: &JupyterView,
    kernels: &[ResolvedKernel],
    nb: &Path,
) -> Result<Target, TargetError> {
    let path = absolute(ctx, nb);
    let notebook =
        crate::notebook::ipynb::read(&path).map_err(|e| TargetError::Usage(e.to_string()))?;
    let name = notebook.kernel_name.clone().ok_or_else(|| {
        TargetError::NotFound(format!(
            "{} has no metadata.kernelspec.name; use --kernel",
            path.display()
        ))
    })?;
    if kernels
        .iter()
        .any(|k| k.entry.found.name.to_string_lossy() == name)
    {
        return from_kernel(
            ctx,
            view,
            kernels,
            &name,
            &format!("--notebook {} →", nb.display()),
        );
    }
    if let Some(nc) = crate::notebook::ipynb::nb_conda_env(&name) {
        let envs: Vec<Environment> = discovery::discover(ctx, &[])
            .into_iter()
            .map(|f| f.env)
            .collect();
        return match nc.find(&envs) {
            Some(env) => Ok(plain(
                env.clone(),
                format!(
                    "--notebook {}: nb_conda_kernels name {name} → conda env {}",
                    nb.display(),
                    env.prefix.display()
                ),
            )),
            None => Err(TargetError::NotFound(format!(
                "{}: kernel {name:?} is an nb_conda_kernels name, but no conda env here has that name (see `kip envs`)",
                path.display()
            ))),
        };
    }
    Err(TargetError::NotFound(format!(
        "{}: kernel {name:?} (metadata.kernelspec.name) is not installed here; {}",
        path.display(),
        choices(kernels)
    )))
}

/// `--python PATH_OR_VERSION`, as uv reads it.
fn from_python(ctx: &Context, py: &str) -> Result<Target, TargetError> {
    if let Some(req) = VersionRequest::parse(py) {
        let found = discovery::discover(ctx, &[]);
        let mut best: Option<Environment> = None;
        for f in found {
            let base = !f.env.is_virtual() && !f.env.kind.is_conda_like();
            if base
                && f.env.version.is_some_and(|v| req.matches(&v))
                && best.as_ref().is_none_or(|b| f.env.version > b.version)
            {
                best = Some(f.env);
            }
        }
        return best
            .map(|env| {
                plain(
                    env.clone(),
                    format!("--python {py} → {}", env.interpreter.display()),
                )
            })
            .ok_or_else(|| {
                TargetError::NotFound(format!("no Python {py} found (see `kip envs`)"))
            });
    }
    let p = absolute(ctx, Path::new(py));
    let env = classify::classify_interpreter(ctx, &p)
        .ok_or_else(|| TargetError::NotFound(format!("--python {py}: not a Python interpreter")))?;
    Ok(Target {
        python: p.clone(),
        env,
        kernel: None,
        kernel_env: None,
        why: format!("--python {}", p.display()),
        pid: None,
    })
}

/// `--env NAME_OR_DIR`: a path if it contains `/` or exists; else a conda/mamba env name, then
/// a pyenv version name.
fn from_env(ctx: &Context, e: &str) -> Result<Target, TargetError> {
    let as_path = absolute(ctx, Path::new(e));
    if e.contains('/') || as_path.exists() {
        let env = classify::classify_prefix(ctx, &as_path).ok_or_else(|| {
            TargetError::NotFound(format!(
                "--env {e}: no Python environment at {}",
                as_path.display()
            ))
        })?;
        return Ok(plain(env, format!("--env {}", as_path.display())));
    }
    let found = discovery::discover(ctx, &[]);
    let conda = found
        .iter()
        .find(|f| f.env.kind.is_conda_like() && f.env.name.as_deref() == Some(e));
    let pyenv = found
        .iter()
        .find(|f| f.env.kind == EnvKind::Pyenv && f.env.prefix.file_name().is_some_and(|n| n == e));
    match conda.or(pyenv) {
        Some(f) => Ok(plain(
            f.env.clone(),
            format!("--env {e} → {}", f.env.prefix.display()),
        )),
        None => Err(TargetError::NotFound(format!(
            "--env {e}: no conda env or pyenv version named {e:?} (see `kip envs`)"
        ))),
    }
}

/// The interactive picker: kernels with their environments, the active env preselected.
fn pick(
    ctx: &Context,
    view: &JupyterView,
    reporter: &mut dyn Reporter,
    kernels: &[ResolvedKernel],
) -> Result<Target, TargetError> {
    let active = ctx
        .vars
        .get_nonempty("VIRTUAL_ENV")
        .or_else(|| ctx.vars.get_nonempty("CONDA_PREFIX"))
        .map(PathBuf::from);
    let mut default = 0;
    let items: Vec<String> = kernels
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let env = k
                .interpreter
                .python()
                .and_then(|p| classify::classify_interpreter(ctx, p));
            if let (Some(a), Some(e)) = (&active, &env) {
                if same_prefix(a, &e.prefix) {
                    default = i;
                }
            }
            format!(
                "{}  ({})",
                k.entry.found.name,
                env.map(|e| e.prefix.display().to_string())
                    .unwrap_or_else(|| "?".into())
            )
        })
        .collect();
    let choice = reporter
        .choose("Install into which kernel's environment?", &items, default)
        .map_err(|e| TargetError::Usage(format!("picker failed: {e}")))?
        .ok_or_else(|| TargetError::Usage("nothing chosen".into()))?;
    let name = kernels[choice].entry.found.name.to_string_lossy();
    from_kernel(ctx, view, kernels, &name, "picked kernel")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_names_are_refused() {
        for bad in ["", "a/b", "../x", ".", "..", "a\0b"] {
            assert!(check_kernel_name(bad).is_err(), "{bad:?}");
        }
        for ok in ["with space", ".hidden", "Py3", "k\u{e9}"] {
            assert!(check_kernel_name(ok).is_ok(), "{ok:?}");
        }
    }
}
