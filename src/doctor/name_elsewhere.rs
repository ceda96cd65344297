//! `kernel-name-points-elsewhere`: a kernelspec named after an environment (a venv's or a
//! project's folder name, a conda env's name) that runs another interpreter — typically
//! `sudo python -m ipykernel install --name myenv`, where sudo's PATH finds the system's or the
//! hub's shared Python instead of the venv the user had activated. Packages installed into the
//! venv never show up in the kernel; installing them into the kernel's env would change the
//! environment every user shares. The fix registers the venv under that name.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId};
use crate::jupyter::paths::DirOrigin;
use crate::jupyter::resolved::ResolvedKernel;
use crate::jupyter::view::{self, JupyterView};
use crate::python::environment::Environment;
use crate::python::{classify, memo};

fn q(s: &str) -> String {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

/// The name an environment goes by: a conda env's name, else its folder's, or the project
/// folder's for `.venv`, `venv`, `env`.
fn env_name(env: &Environment) -> Option<String> {
    if let Some(n) = env.name.as_deref().filter(|_| env.kind.is_conda_like()) {
        return Some(n.to_string());
    }
    let leaf = env.prefix.file_name()?.to_string_lossy().into_owned();
    if [".venv", "venv", "env", ".env"].contains(&leaf.as_str()) {
        return Some(
            env.prefix
                .parent()?
                .file_name()?
                .to_string_lossy()
                .into_owned(),
        );
    }
    Some(leaf)
}

/// An environment called `name` on this machine: where venvs are usually made (the home
/// folder, `~/.venvs`, `~/.virtualenvs`, `~/venvs`, `~/envs`, the current directory, a project
/// folder of that name holding `.venv`/`venv`), the activated `VIRTUAL_ENV`, a pyenv-virtualenv
/// or conda env of that name.
fn named_env(ctx: &Context, name: &str) -> Option<Environment> {
    let mut bases: Vec<PathBuf> = Vec::new();
    if let Some(h) = ctx.home() {
        bases.push(h.clone());
        for d in [".venvs", ".virtualenvs", "venvs", "envs"] {
            bases.push(h.join(d));
        }
    }
    bases.push(ctx.cwd.clone());
    let mut prefixes: Vec<PathBuf> = Vec::new();
    for b in bases.iter().filter(|b| may_hold(b, name)) {
        prefixes.push(b.join(name));
        prefixes.push(b.join(name).join(".venv"));
        prefixes.push(b.join(name).join("venv"));
    }
    if let Some(v) = ctx.vars.get_nonempty("VIRTUAL_ENV") {
        prefixes.push(PathBuf::from(v));
    }
    let is_env = |p: &Path| p.join("pyvenv.cfg").is_file() || p.join("conda-meta").is_dir();
    let named = |e: &Environment| env_name(e).is_some_and(|n| n.eq_ignore_ascii_case(name));
    prefixes
        .iter()
        .filter(|p| is_env(p))
        .filter_map(|p| classify::classify_prefix(ctx, p))
        .find(named)
        .or_else(|| {
            by_name(ctx)
                .get(&name.to_ascii_lowercase())?
                .iter()
                .find(|e| e.kind.is_conda_like() || is_env(&e.prefix))
                .cloned()
        })
}

/// Could directory `base` hold an entry called `name`? Its listing is read once per pass (a hub
/// asks for each of a thousand kernels); a directory that cannot be listed may still.
fn may_hold(base: &Path, name: &str) -> bool {
    let names: Option<Rc<HashSet<OsString>>> = memo::remember("entries", base, || {
        match std::fs::read_dir(base) {
            Ok(rd) => Some(Rc::new(
                rd.filter_map(|e| Some(e.ok()?.file_name())).collect(),
            )),
            // No such directory holds nothing.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                Some(Rc::default())
            }
            Err(_) => None,
        }
    });
    names.is_none_or(|n| n.contains(std::ffi::OsStr::new(name)))
}

/// Every discovered environment by its name, ASCII-lowercased (as the match is caseless): discovered once per pass, however
/// many kernels ask.
fn by_name(ctx: &Context) -> Rc<HashMap<String, Vec<Environment>>> {
    memo::remember(
        "environments by name",
        (memo::ContextKey(ctx), &ctx.cwd),
        || {
            let mut index: HashMap<String, Vec<Environment>> = HashMap::new();
            for f in crate::python::discovery::discover(ctx, &[]) {
                if let Some(n) = env_name(&f.env) {
                    index.entry(n.to_ascii_lowercase()).or_default().push(f.env);
                }
            }
            Rc::new(index)
        },
    )
}

/// The environment kernel `k`'s name means, when the kernel runs another one.
pub fn meant_env(ctx: &Context, k: &ResolvedKernel) -> Option<(Environment, Environment)> {
    let name = k.entry.found.name.to_string_lossy();
    if ["python", "python2", "python3"].contains(&name.as_str()) {
        return None;
    }
    let python = k.interpreter.python().filter(|p| p.exists())?;
    let runs = classify::classify_interpreter(ctx, python)?;
    if env_name(&runs).is_some_and(|n| n.eq_ignore_ascii_case(&name)) {
        return None;
    }
    let meant = named_env(ctx, &name)?;
    (!meant.same_env(&runs) && meant.interpreter.exists()).then_some((meant, runs))
}

/// Where `kip kernel add` must write so that the new kernel wins: the user data dir (its
/// default), unless the existing kernel lives in a dir Jupyter searches before it (jupyter_core
/// 5 puts a venv's or conda env's own dir first) — then that dir's prefix, replacing the spec
/// there (`--prefix P --yes`; on a shared hub, the admin's job).
fn placement(ctx: &Context, view: &JupyterView, k: &ResolvedKernel) -> String {
    let listing = view::list_kernels(ctx, view);
    let dir = &k.entry.found.resource_dir;
    let here = listing.dirs.iter().position(|d| dir.starts_with(&d.path));
    let user = listing
        .dirs
        .iter()
        .position(|d| d.origin == DirOrigin::User);
    let before_user = matches!((here, user), (Some(h), Some(u)) if h < u);
    let prefix = here
        .map(|h| listing.dirs[h].path.as_path())
        .filter(|d| d.ends_with("share/jupyter/kernels"))
        .and_then(|d| d.parent()?.parent()?.parent());
    match prefix.filter(|_| before_user) {
        Some(p) => format!(
            " --prefix {} --yes (its kernel dir comes before your own, so the spec is replaced there; on a shared hub that is the admin's step)",
            q(&crate::pyjson::os_text(p))
        ),
        None => String::new(),
    }
}

/// The finding for kernel `k`, if its name means another environment than it runs.
pub fn finding(ctx: &Context, view: &JupyterView, k: &ResolvedKernel) -> Option<Finding> {
    let (meant, runs) = meant_env(ctx, k)?;
    let name = k.entry.found.name.to_string_lossy();
    let meant_prefix = crate::pyjson::os_text(&meant.prefix);
    Some(Finding::new(
        FindingId::KernelNamePointsElsewhere,
        &name,
        format!(
            "kernel \"{name}\" is named after the environment \"{meant_prefix}\" but runs \"{}\" (\"{}\")",
            runs.interpreter.display(),
            runs.prefix.display()
        ),
        format!(
            "A kernel named after an environment was meant to run it; this one runs another, shared interpreter — typical of `sudo python -m ipykernel install --name {name}`, where sudo's PATH finds the system's (or the hub's) python instead of the activated venv's. Packages installed into \"{meant_prefix}\" never appear in this kernel, and installing them into the kernel's environment would change what every user of it gets. Register the environment under that name instead."
        ),
        format!(
            "kip kernel add {} --name {} --force{}",
            q(&meant_prefix),
            q(&name),
            placement(ctx, view, k)
        ),
    ))
}

pub fn check(ctx: &Context, view: &JupyterView, k: &ResolvedKernel, out: &mut Vec<Finding>) {
    out.extend(finding(ctx, view, k));
}
