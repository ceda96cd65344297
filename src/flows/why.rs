//! `kip why MODULE [TARGET]`: can the target import MODULE, and from where? If not, where else
//! on this machine is it installed, by which distribution, and the exact install line.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::flows::Status;
use crate::install::names::{self, MappingSource};
use crate::install::target::TargetArgs;
use crate::jupyter::resolved::kernel_interpreters;
use crate::notebook::imports;
use crate::python::discovery::{self, Source};
use crate::python::environment::Environment;
use crate::python::probe::Prober;
use crate::python::site;
use crate::report::{Event, Reporter};

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub module: String,
    pub target: TargetArgs,
}

/// The answer (docs/json.md); `None` when there was no module name or no target.
#[derive(Debug, Default)]
pub struct Report {
    pub why: Option<Why>,
}

#[derive(Debug, Serialize)]
pub struct Why {
    pub module: String,
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub target: PathBuf,
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub python: PathBuf,
    pub importable: bool,
    /// `stdlib`, `local-file`, `pythonpath`, `user-site`, `site-packages`, `pth`, or
    /// `interpreter` (only the interpreter's `find_spec` found it).
    pub from: Option<&'static str>,
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub location: Option<PathBuf>,
    pub distribution: Option<String>,
    pub version: Option<String>,
    /// Why the location is surprising, if it is.
    pub warning: Option<String>,
    pub elsewhere: Vec<Elsewhere>,
    pub provided_by: Option<String>,
    pub install: Option<String>,
    /// The target is a running kernel that cannot see `location` (created after it started):
    /// why, and the restart that fixes it (`importable` is then false, `install` empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Elsewhere {
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub prefix: PathBuf,
    pub kind: &'static str,
    pub distribution: Option<String>,
    pub version: Option<String>,
    /// Kernelspecs (of the chosen Jupyter's view) whose interpreter is in this environment.
    pub kernels: Vec<String>,
}

/// Which directory provides `module` to a kernel of `env` whose cwd is `first`, under the one
/// importability rule ([`site::import_dirs`]), and what kind of entry it is; `None` when disk
/// finds nothing outside the standard library, or the standard library wins.
fn locate(
    ctx: &Context,
    env: &Environment,
    first: &Path,
    module: &str,
    stdlib: bool,
) -> Option<(&'static str, PathBuf, PathBuf)> {
    let dirs = site::import_dirs(ctx, env, first);
    let found = site::find_top_level(&dirs, module)?;
    let dir = found.parent()?.to_path_buf();
    if stdlib && site::stdlib_wins(ctx, &dir, first) {
        return None;
    }
    let pythonpath: Vec<PathBuf> = ctx
        .vars
        .get_nonempty("PYTHONPATH")
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    let kind = if dir == first {
        "local-file"
    } else if pythonpath.contains(&dir) {
        "pythonpath"
    } else if env.user_site.enabled && env.user_site.path.as_ref() == Some(&dir) {
        "user-site"
    } else if env.site_packages.contains(&dir) {
        "site-packages"
    } else {
        "pth"
    };
    Some((kind, found, dir))
}

fn dist_providing(dir: &Path, module: &str) -> Option<site::Distribution> {
    site::installed_distributions(dir)
        .into_iter()
        .find(|d| d.top_level.iter().any(|t| t == module))
}

#[allow(clippy::too_many_lines)] // one answer: located, stdlib, interpreter, or elsewhere
pub fn run(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    req: &Request,
) -> anyhow::Result<(Report, Status)> {
    let module = req.module.as_str();
    let top = module.split('.').next().unwrap_or(module).to_string();
    if top.is_empty() || !top.chars().all(|c| c.is_alphanumeric() || c == '_') {
        r.event(Event::error(
            "why",
            format!("{module:?} is not a module name"),
        ));
        return Ok((Report::default(), Status::Usage));
    }
    let t = match super::resolve_target(ctx, prober, r, "why", &req.target)? {
        Ok(t) => t,
        Err(status) => return Ok((Report::default(), status)),
    };
    let version = site::env_version(prober, &t.env);
    let minor = version.map(|v| v.minor);
    // A notebook's kernel runs in the notebook's folder: that folder comes first.
    let first = match &req.target.notebook {
        Some(nb) => ctx
            .cwd
            .join(nb)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| ctx.cwd.clone()),
        None => ctx.cwd.clone(),
    };
    let stdlib = minor.is_some_and(|m| imports::is_stdlib(&top, m));
    let mut w = Why {
        module: top.clone(),
        target: t.env.prefix.clone(),
        python: t.python.clone(),
        importable: false,
        from: None,
        location: None,
        distribution: None,
        version: None,
        warning: None,
        elsewhere: Vec::new(),
        provided_by: None,
        install: None,
        stale: None,
        restart: None,
    };
    // Through a namespace package the full dotted name decides (`google.protobuf` is missing
    // though `google/` exists); otherwise the top-level name, as the import proof does.
    let through_namespace = crate::python::dotted::missing_below_namespace(
        &site::import_dirs(ctx, &t.env, &first),
        module,
    );
    let name = if through_namespace {
        w.module = module.to_string();
        module.to_string()
    } else {
        top.clone()
    };
    let located = locate(ctx, &t.env, &first, &top, stdlib).filter(|_| !through_namespace);
    // Disk says what the env has; a running kernel sees only what existed when it started.
    let hidden = located.as_ref().zip(t.pid).and_then(|((_, _, dir), pid)| {
        crate::doctor::stale::hides(&t.env, pid, dir).map(|u| (u, pid))
    });
    if let (Some((kind, loc, dir)), Some((u, pid))) = (&located, hidden) {
        w.from = Some(kind);
        w.location = Some(loc.clone());
        if let Some(d) = dist_providing(dir, &top) {
            w.distribution = Some(d.name);
            w.version = Some(d.version);
        }
        w.stale = Some(u.why);
        w.restart = Some(crate::doctor::stale::restart_fix(t.kernel.as_deref(), pid));
    } else if let Some((kind, loc, dir)) = located {
        w.importable = true;
        w.from = Some(kind);
        if let Some(d) = dist_providing(&dir, &top) {
            w.distribution = Some(d.name);
            w.version = Some(d.version);
        }
        w.warning = match kind {
            "local-file" => Some(format!("{} in {} comes first on sys.path and hides any installed \"{top}\"", loc.display(), if req.target.notebook.is_some() { "the notebook's folder" } else { "the current directory" })),
            "pythonpath" => Some(format!("it comes from PYTHONPATH ({}), not from the environment", dir.display())),
            "user-site" => Some(format!("it comes from user site-packages ({}), shared by every Python {} of this user, not from the environment", dir.display(), version.map(|v| v.minor_str()).unwrap_or_default())),
            _ => None,
        };
        w.location = Some(loc);
        if let Some(pid) = t.pid {
            replaced_in_kernel(&mut w, &t.env, t.kernel.as_deref(), pid, &top);
        }
    } else if stdlib && !through_namespace {
        w.importable = true;
        w.from = Some("stdlib");
    } else if site::interpreter_finds(ctx, &t.python, std::slice::from_ref(&name), &first)
        .contains(&name)
    {
        // Disk could not decide (a meta-path finder, an unknown layout): the kernel's own
        // interpreter's find_spec did.
        w.importable = true;
        w.from = Some("interpreter");
    } else {
        // The kernels' interpreters are places to look too (an env only a kernelspec names),
        // and say which kernels use each env.
        let kernels: Vec<(PathBuf, Source)> =
            kernel_interpreters(ctx, prober, req.target.jupyter.as_deref())
                .into_iter()
                .map(|(n, p)| (p, Source::Kernel(n)))
                .collect();
        for f in discovery::discover(ctx, &kernels) {
            if f.env.same_env(&t.env) {
                continue;
            }
            let dirs = site::sys_path_dirs(ctx, &f.env);
            if let Some(found) = site::find_top_level(&dirs, &top)
                .filter(|_| crate::python::dotted::present(&dirs, &name))
            {
                let dist = found
                    .parent()
                    .filter(|_| !through_namespace)
                    .and_then(|d| dist_providing(d, &top));
                w.elsewhere.push(Elsewhere {
                    prefix: f.env.prefix.clone(),
                    kind: f.env.kind.as_str(),
                    distribution: dist.as_ref().map(|d| d.name.clone()),
                    version: dist.map(|d| d.version),
                    kernels: f.kernels(),
                });
            }
        }
        let local: Vec<(String, String, PathBuf)> = w
            .elsewhere
            .iter()
            .filter_map(|e| Some((top.clone(), e.distribution.clone()?, e.prefix.clone())))
            .collect();
        // Only a known distribution is offered (the name table, or metadata here): a module
        // name is never guessed into a PyPI install, where an unrelated project may wait.
        let m = names::map_import(&name, &local);
        let how = match &t.kernel {
            Some(k) => format!("--kernel {k}"),
            None => format!("--python {}", t.python.display()),
        };
        // Installed by metadata, gone from disk: a plain install would be "already satisfied".
        let repair = (!through_namespace)
            .then(|| crate::doctor::shared_module::repair_for_missing(&t.env, &top, &how))
            .flatten();
        if let Some(line) = repair {
            w.warning = Some(match &line {
                Some(_) => format!("a distribution installed here lists \"{top}\", but its files are gone (another distribution that shared them was uninstalled): it has to be reinstalled"),
                None => format!("\"{top}\" comes from an editable install whose project folder is gone; `kip doctor` names it and the reinstall command"),
            });
            w.install = line;
        } else if m.source != MappingSource::Assumed {
            w.install = Some(format!("kip install {} {how}", m.distribution));
            w.provided_by = Some(m.distribution);
        }
    }
    let status = if w.importable {
        Status::Success
    } else {
        Status::Failure
    };
    Ok((Report { why: Some(w) }, status))
}

/// The running kernel `pid` imported `top` before disk replaced it (an upgrade while it ran):
/// importable, but the kernel keeps the old one until it restarts.
fn replaced_in_kernel(
    w: &mut Why,
    env: &crate::python::environment::Environment,
    kernel: Option<&str>,
    pid: i32,
    top: &str,
) {
    let Some(r) = crate::jupyter::runtime::replaced(env, pid)
        .into_iter()
        .find(|r| r.module == top)
    else {
        return;
    };
    let note = format!(
        "the running kernel (pid {pid}) still runs the \"{top}\" it imported before disk replaced it (\"{}\" is gone); importing again hands back that old one",
        r.files[0].display()
    );
    w.warning = Some(match w.warning.take() {
        Some(other) => format!("{other}; {note}"),
        None => note,
    });
    w.restart = Some(crate::doctor::stale::restart_fix(kernel, pid));
}
