//! `kip why MODULE [TARGET]`: can the target import MODULE, and from where? If not, where else
//! on this machine is it installed, by which distribution, and the exact install line.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::flows::Status;
use crate::install::names;
use crate::install::target::TargetArgs;
use crate::notebook::imports;
use crate::python::environment::Environment;
use crate::python::probe::Prober;
use crate::python::{discovery, site};
use crate::report::{Event, Reporter};

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub module: String,
    pub target: TargetArgs,
    pub jupyter: Option<PathBuf>,
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
    /// `stdlib`, `local-file`, `pythonpath`, `user-site`, `site-packages`, `pth`.
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
}

#[derive(Debug, Serialize)]
pub struct Elsewhere {
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub prefix: PathBuf,
    pub kind: &'static str,
    pub distribution: Option<String>,
    pub version: Option<String>,
}

/// Which sys.path entry of `env` provides `module`, and what kind of entry it is.
fn locate(
    ctx: &Context,
    env: &Environment,
    cwd: &Path,
    module: &str,
) -> Option<(&'static str, PathBuf, PathBuf)> {
    for c in [cwd.join(module), cwd.join(format!("{module}.py"))] {
        if c.exists() {
            return Some(("local-file", c, cwd.to_path_buf()));
        }
    }
    let pythonpath: Vec<PathBuf> = ctx
        .vars
        .get_nonempty("PYTHONPATH")
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    for dir in site::sys_path_dirs(ctx, env) {
        if let Some(found) = site::find_top_level(std::slice::from_ref(&dir), module) {
            let kind = if pythonpath.contains(&dir) {
                "pythonpath"
            } else if env.user_site.enabled && env.user_site.path.as_ref() == Some(&dir) {
                "user-site"
            } else if env.site_packages.contains(&dir) {
                "site-packages"
            } else {
                "pth"
            };
            return Some((kind, found, dir));
        }
    }
    None
}

fn dist_providing(dir: &Path, module: &str) -> Option<site::Distribution> {
    site::installed_distributions(dir)
        .into_iter()
        .find(|d| d.top_level.iter().any(|t| t == module))
}

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
    let t = match super::resolve_target(ctx, prober, r, "why", req.jupyter.as_deref(), &req.target)?
    {
        Ok(t) => t,
        Err(status) => return Ok((Report::default(), status)),
    };
    let minor = t.env.version.map(|v| v.minor).unwrap_or(11);
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
    };
    let located = locate(ctx, &t.env, &ctx.cwd, &top);
    if let Some((kind, loc, dir)) = located {
        w.importable = true;
        w.from = Some(kind);
        if let Some(d) = dist_providing(&dir, &top) {
            w.distribution = Some(d.name);
            w.version = Some(d.version);
        }
        w.warning = match kind {
            "local-file" => Some(format!("{} in the current directory comes first on sys.path and hides any installed \"{top}\"", loc.display())),
            "pythonpath" => Some(format!("it comes from PYTHONPATH ({}), not from the environment", dir.display())),
            "user-site" => Some(format!("it comes from user site-packages ({}), shared by every Python 3.{minor} of this user, not from the environment", dir.display())),
            _ => None,
        };
        w.location = Some(loc);
    } else if imports::is_stdlib(&top, minor) {
        w.importable = true;
        w.from = Some("stdlib");
    } else {
        for f in discovery::discover(ctx, &[]) {
            if f.env.prefix == t.env.prefix {
                continue;
            }
            let dirs = site::sys_path_dirs(ctx, &f.env);
            if let Some(found) = site::find_top_level(&dirs, &top) {
                let dist = found.parent().and_then(|d| dist_providing(d, &top));
                w.elsewhere.push(Elsewhere {
                    prefix: f.env.prefix.clone(),
                    kind: f.env.kind.as_str(),
                    distribution: dist.as_ref().map(|d| d.name.clone()),
                    version: dist.map(|d| d.version),
                });
            }
        }
        let local: Vec<(String, String, PathBuf)> = w
            .elsewhere
            .iter()
            .filter_map(|e| Some((top.clone(), e.distribution.clone()?, e.prefix.clone())))
            .collect();
        let m = names::map_import(&top, &local);
        w.provided_by = Some(m.distribution.clone());
        let how = match &t.kernel {
            Some(k) => format!("--kernel {k}"),
            None => format!("--python {}", t.python.display()),
        };
        w.install = Some(format!("kip install {} {how}", m.distribution));
    }
    let status = if w.importable {
        Status::Success
    } else {
        Status::Failure
    };
    Ok((Report { why: Some(w) }, status))
}
