//! Kernel checks: everything about one kernelspec and what it launches.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId};
use crate::envvars::EnvVars;
use crate::jupyter::kernelspec::KernelSpec;
use crate::jupyter::launch::{self, KernelInterpreter};
use crate::jupyter::paths::pathlib_str;
use crate::jupyter::resolved::ResolvedKernel;
use crate::jupyter::view::JupyterView;
use crate::python::environment::Environment;
use crate::python::site;
use crate::python::{classify, memo};
use crate::shell::which;

fn q(name: &str) -> String {
    shlex::try_quote(name)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| name.to_string())
}

/// Is `argv[0]` one of the names jupyter_client replaces with its own interpreter?
pub fn is_swapped_name(view: &JupyterView, argv0: &str) -> bool {
    let versioned = view
        .launcher_python()
        .and_then(|l| l.version)
        .map(|v| format!("python{}.{}", v.major, v.minor));
    argv0 == "python" || argv0 == "python3" || versioned.as_deref() == Some(argv0)
}

/// Is this kernelspec inside the launching Jupyter's own environment (the normal native
/// kernel, where the swap is what ipykernel intends)?
pub fn in_jupyter_env(view: &JupyterView, resource_dir: &Path) -> bool {
    let Some(l) = view.launcher_python() else {
        return false;
    };
    let own = pathlib_str(&l.paths.sys_prefix.join("share/jupyter/kernels"));
    pathlib_str(resource_dir).starts_with(own)
}

/// The environment whose `share/jupyter/kernels` holds this spec, if it is a Python env.
pub fn owning_env(ctx: &Context, resource_dir: &Path) -> Option<Environment> {
    let kernels = resource_dir.parent()?;
    let jupyter = kernels.parent()?;
    let share = jupyter.parent()?;
    if kernels.file_name()? != "kernels"
        || jupyter.file_name()? != "jupyter"
        || share.file_name()? != "share"
    {
        return None;
    }
    classify::classify_prefix(ctx, share.parent()?)
}

/// The absolute interpreter `kernel-relative-python`'s fix writes, following what the author
/// meant: when the kernel's own `env` block sets a PATH on which the bare name reaches a
/// virtual or conda env's interpreter, that one (the author activated the env in kernel.json
/// and expected the name to find it); else the interpreter of the env whose
/// `share/jupyter/kernels` holds the spec; for a spec elsewhere, what it resolves to now.
pub fn relative_python_target(
    ctx: &Context,
    view: &JupyterView,
    k: &ResolvedKernel,
) -> Option<PathBuf> {
    if let Some(p) = intended_by_env_path(ctx, view, k) {
        return Some(p);
    }
    if let Some(env) = owning_env(ctx, &k.entry.found.resource_dir) {
        return Some(env.interpreter);
    }
    k.interpreter.python().map(Path::to_path_buf)
}

/// The interpreter a bare `argv[0]` names on the PATH the kernel's own `env` block sets, when
/// that is a virtual or conda env's (not a base install the server's PATH happens to reach).
fn intended_by_env_path(ctx: &Context, view: &JupyterView, k: &ResolvedKernel) -> Option<PathBuf> {
    let spec = k.entry.spec.as_ref().ok()?;
    spec.env_strings().iter().find(|(key, _)| key == "PATH")?;
    let argv0 = spec.argv_strings()?.first()?.clone();
    let kenv = launch::kernel_environment(&view.server_env, spec);
    let found = crate::shell::path::find_on_path(&argv0, &kenv, &ctx.cwd)?;
    let env = classify::classify_interpreter(ctx, &found)?;
    (env.is_virtual() || env.kind.is_conda_like()).then_some(found)
}

/// Which interpreter a command name reaches on `env`'s PATH: a Python itself, a script's
/// shebang interpreter, or a pyenv shim's resolution.
pub fn command_interpreter(ctx: &Context, env: &EnvVars, name: &str) -> Option<PathBuf> {
    // Every kernel without an `env` block has the same PATH: looked up once per pass.
    let key = (memo::ContextKey(ctx), memo::VarsKey(env), &ctx.cwd, name);
    memo::remember("command", key, || {
        let found = crate::shell::path::find_on_path(name, env, &ctx.cwd)?;
        which::interpreter_of(ctx, env, &found)
    })
}

/// Does `a` belong to the same environment as `b`?
fn same_env(ctx: &Context, a: &Path, b: &Environment) -> bool {
    classify::classify_interpreter(ctx, a).is_some_and(|e| e.same_env(b))
}

/// Is module `m` importable by this env, judged from disk?
pub fn importable_from_disk(ctx: &Context, env: &Environment, module: &str) -> bool {
    site::find_top_level(&site::sys_path_dirs(ctx, env), module).is_some()
}

/// Kernel directories Jupyter skips without a word (their `kernel.json` is not a regular file):
/// the user meant a kernel that no notebook can pick.
pub fn check_skipped_dirs(skipped: &[(PathBuf, String)], out: &mut Vec<Finding>) {
    for (dir, why) in skipped {
        let name = dir
            .file_name()
            .map(crate::pyjson::os_text)
            .unwrap_or_default();
        let file = dir.join("kernel.json");
        out.push(Finding::new(
            FindingId::KernelSpecInvalid,
            &name,
            format!(
                "kernel \"{name}\": {} cannot be read: {why}",
                crate::pyjson::os_text(&file)
            ),
            "Jupyter lists a kernel only when its kernel.json is a regular file; this directory is skipped, so the kernel is missing from every notebook's kernel list.",
            format!(
                "make {} a regular kernelspec, or remove {}",
                crate::pyjson::os_text(&file),
                crate::pyjson::os_text(dir)
            ),
        ));
    }
}

#[allow(clippy::too_many_lines)] // predates the lint: one check per finding id, in catalog order; split when next changed
pub fn check_kernel(ctx: &Context, view: &JupyterView, k: &ResolvedKernel, out: &mut Vec<Finding>) {
    let name = k.entry.found.name.to_string_lossy();
    let path = k.entry.found.resource_dir.join("kernel.json");
    let spec: &KernelSpec = match &k.entry.spec {
        Err(p) => {
            out.push(Finding::new(
                FindingId::KernelSpecInvalid,
                &name,
                format!("kernel \"{name}\": {p}"),
                "Jupyter skips a kernelspec it cannot load, so this kernel is missing from every notebook's kernel list.",
                format!("fix or delete {}; to remove the kernel: kip kernel remove {} --yes", path.display(), q(&name)),
            ));
            return;
        }
        Ok(s) => s,
    };
    if spec.argv.is_empty() {
        out.push(Finding::new(
            FindingId::KernelSpecInvalid,
            &name,
            format!("kernel \"{name}\": argv in \"{}\" is empty", path.display()),
            "Jupyter cannot start a kernel without a command.",
            format!(
                "re-register the environment: kip kernel add ENV --name {} --force",
                q(&name)
            ),
        ));
        return;
    }
    for (key, _) in spec.env_strings() {
        if key == "PYTHONPATH" || key == "PYTHONHOME" {
            out.push(Finding::new(
                FindingId::KernelEnvPythonpath,
                &name,
                format!("kernel \"{name}\" sets \"{key}\" in its env"),
                format!("{key} puts other directories ahead of the environment's own site-packages (or replaces its standard library), so imports can come from somewhere other than the kernel's environment."),
                format!("remove \"{key}\" from the \"env\" block of {}", path.display()),
            ));
        }
    }
    let argv0 = spec
        .argv_strings()
        .and_then(|a| a.first().cloned())
        .unwrap_or_default();
    if !k.entry.found.native
        && is_swapped_name(view, &argv0)
        && !in_jupyter_env(view, &k.entry.found.resource_dir)
    {
        let target = relative_python_target(ctx, view, k);
        let launcher = view
            .launcher_python()
            .map(|l| l.executable.display().to_string())
            .unwrap_or_else(|| "the Jupyter's Python".into());
        out.push(Finding::new(
            FindingId::KernelRelativePython,
            &name,
            format!("kernel \"{name}\" launches a bare \"{argv0}\""),
            format!(
                "jupyter_client replaces a bare `{argv0}` with the Jupyter server's own interpreter ({launcher}), so this kernel runs that Python{}, and packages installed into its intended environment are not importable.",
                target.as_ref().map(|t| format!(" instead of {}", t.display())).unwrap_or_default()
            ),
            format!("kip kernel fix {} (writes the absolute interpreter{})", q(&name), target.map(|t| format!(" {}", t.display())).unwrap_or_default()),
        ));
    }
    for hidden in &k.entry.shadows {
        out.push(Finding::new(
            FindingId::KernelShadowed,
            &name,
            format!("kernel \"{name}\" at \"{}\" is hidden by \"{}\"", hidden.resource_dir.display(), k.entry.found.resource_dir.display()),
            "Jupyter uses the first kernelspec of a name on its path; the other one is never launched, so a notebook asking for this name gets the winner's environment.",
            format!(
                "remove the one you do not want (kip kernel remove {} removes the winner at {}), or give the hidden one its own name: kip kernel add <its env> --name <new-name>",
                q(&name),
                k.entry.found.resource_dir.display()
            ),
        ));
    }
    // A conda-pack'ed env never `conda-unpack`ed: its kernels name the old prefix.
    if let Some(f) = crate::doctor::placeholder::check_kernel(k) {
        out.push(f);
        return;
    }
    match &k.interpreter {
        KernelInterpreter::Unresolved { why } => {
            out.push(Finding::new(
                FindingId::KernelWrapperUnresolved,
                &name,
                format!("cannot tell which Python kernel \"{name}\" runs"),
                format!("{why}. kip cannot check its packages or target it by name."),
                format!("target it with --python PATH, or re-register with an absolute interpreter: kip kernel add ENV --name {} --force", q(&name)),
            ));
        }
        KernelInterpreter::Resolved {
            python,
            exists: false,
            ..
        } => {
            // The venv is still there with its packages; only its base is gone.
            if let Some(env) = classify::classify_interpreter(ctx, python)
                .filter(crate::python::repoint::base_missing)
            {
                out.push(crate::doctor::envs::venv_base_missing(
                    ctx,
                    &env,
                    &name,
                    Some(&name),
                ));
                return;
            }
            out.push(Finding::new(
                FindingId::KernelInterpreterMissing,
                &name,
                format!("kernel \"{name}\" runs \"{}\", which does not exist", python.display()),
                "The environment was deleted or moved (or a symlink in it is broken), so the kernel cannot start.",
                format!("kip kernel remove {} --yes (or recreate the environment and run kip kernel add)", q(&name)),
            ));
        }
        KernelInterpreter::Resolved { python, .. } => {
            let Some(env) = classify::classify_interpreter(ctx, python) else {
                return;
            };
            if !importable_from_disk(ctx, &env, "ipykernel") {
                out.push(Finding::new(
                    FindingId::KernelIpykernelMissing,
                    &name,
                    format!("kernel \"{name}\": \"{}\" cannot import \"ipykernel\"", python.display()),
                    "Jupyter starts Python kernels with `python -m ipykernel_launcher`; without ipykernel the kernel dies at start (\"No module named ipykernel_launcher\").",
                    format!("kip install ipykernel --kernel {}", q(&name)),
                ));
            }
            check_shell(ctx, view, k, spec, &env, &name, out);
        }
    }
}

/// Envs layered over each other (uv's `uv run --with` overlay puts the project's site-packages
/// on the layer's `sys.path`) are one env to a `!` command: what `!pip` (`into_kernel`)
/// installs is importable when its site-packages are on the kernel's `sys.path`, and `!python`
/// imports everything the kernel has when the kernel's site-packages are on its `sys.path`.
fn layered(ctx: &Context, interp: &Path, kernel: &Environment, into_kernel: bool) -> bool {
    let Some(other) = classify::classify_interpreter(ctx, interp) else {
        return false;
    };
    if into_kernel {
        imports_from(ctx, kernel, &other)
    } else {
        imports_from(ctx, &other, kernel)
    }
}

/// Does `outer`'s `sys.path` hold all of `inner`'s site-packages (a layer over it, as uv's
/// `uv run --with` env is over the project's)? Then `outer` imports whatever `inner` has.
pub fn imports_from(ctx: &Context, outer: &Environment, inner: &Environment) -> bool {
    let seen = site::sys_path_dirs(ctx, outer);
    !inner.site_packages.is_empty()
        && inner
            .site_packages
            .iter()
            .all(|d| seen.iter().any(|s| same_prefix(s, d)))
}

/// Where `!conda install X` goes from a process with `env`, when a `conda` is on its PATH:
/// conda's default prefix (`context.default_prefix`) is `CONDA_PREFIX`, else a path in
/// `CONDA_DEFAULT_ENV`.
fn conda_target(ctx: &Context, env: &EnvVars) -> Option<PathBuf> {
    crate::shell::path::find_on_path("conda", env, &ctx.cwd)?;
    env.get_nonempty("CONDA_PREFIX")
        .map(PathBuf::from)
        .or_else(|| {
            env.get_str("CONDA_DEFAULT_ENV")
                .filter(|d| d.contains('/'))
                .map(PathBuf::from)
        })
        .filter(|p| p.join("conda-meta").is_dir())
}

/// The same directory, symlinks resolved (two paths that do not exist are not the same).
fn same_prefix(a: &Path, b: &Path) -> bool {
    a == b || memo::canonical(a).is_some_and(|c| Some(c) == memo::canonical(b))
}

/// `kernel-shell-mismatch`: inside the kernel, `!pip` / `!python` run what the kernel's PATH
/// finds (the server's PATH with the kernel.json `env` applied).
fn check_shell(
    ctx: &Context,
    view: &JupyterView,
    _k: &ResolvedKernel,
    spec: &KernelSpec,
    env: &Environment,
    name: &str,
    out: &mut Vec<Finding>,
) {
    let kenv = launch::kernel_environment(&view.server_env, spec);
    let mut wrong = Vec::new();
    for cmd in ["pip", "python"] {
        if let Some(interp) = command_interpreter(ctx, &kenv, cmd) {
            if !same_env(ctx, &interp, env) && !layered(ctx, &interp, env, cmd == "pip") {
                wrong.push(format!("!{cmd} reaches {}", interp.display()));
            }
        }
    }
    // Only a conda kernel's users install with `!conda`; its activation env (`kip kernel fix`)
    // sets CONDA_PREFIX.
    let conda = env
        .kind
        .is_conda_like()
        .then(|| conda_target(ctx, &kenv))
        .flatten();
    if let Some(target) = conda.filter(|t| !same_prefix(t, &env.prefix)) {
        wrong.push(format!(
            "!conda installs into {} (the CONDA_PREFIX it inherits)",
            target.display()
        ));
    }
    if !wrong.is_empty() {
        out.push(Finding::new(
            FindingId::KernelShellMismatch,
            name,
            format!("inside kernel \"{name}\", {}", wrong.join(" and ")),
            "`!pip install` in a notebook runs the first `pip` on the kernel's PATH, which belongs to another environment than the kernel's, so what it installs is not importable in the kernel.",
            format!("kip kernel fix {} (adds the activation env: PATH, VIRTUAL_ENV/CONDA_PREFIX; seeds pip)", q(name)),
        ).with_cause(wrong.join(" and ")));
    }
}
