//! `kip envs`: the inventory of Python environments and interpreters.
//!
//! Discovery classifies from disk (`python::discovery`); an interpreter is probed only where
//! disk could not decide — the version or its patch level unknown, no site-packages directory
//! known, an interpreter that is a `#!` script, or one outside any recognised layout — and all
//! probes run in parallel (`Prober::query_many`). A probe that fails or times out becomes an
//! entry of `errors`; the listing always completes.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::flows::Status;
use crate::python::classify;
use crate::python::discovery::{self, Found, Source};
use crate::python::environment::{EnvKind, Environment, Evidence, UserSite};
use crate::python::interpreter::InterpreterInfo;
use crate::python::probe::Prober;

#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Whose kernels to attribute to environments.
    pub jupyter: Option<PathBuf>,
}

/// The inventory, each environment with the kernels that run it.
#[derive(Debug)]
pub struct Report {
    pub inventory: Inventory,
}

pub fn run(ctx: &Context, prober: &Prober, req: &Request) -> (Report, Status) {
    // Reads only: each interpreter and prefix is classified once.
    let _memo = crate::python::memo::scope();
    let extra: Vec<(PathBuf, Source)> =
        crate::jupyter::resolved::kernel_interpreters(ctx, prober, req.jupyter.as_deref())
            .into_iter()
            .map(|(n, p)| (p, Source::Kernel(n)))
            .collect();
    let inventory = inventory(ctx, prober, &extra);
    (Report { inventory }, Status::Success)
}

/// The listing: environments in discovery order, and the interpreters that could not be
/// inspected.
#[derive(Debug)]
pub struct Inventory {
    pub environments: Vec<Found>,
    pub errors: Vec<(PathBuf, String)>,
}

/// Does disk leave a question only the interpreter can answer?
fn needs_probe(env: &Environment) -> bool {
    env.version.is_none_or(|v| v.patch.is_none())
        || env.site_packages.is_empty()
        || crate::python::memo::is_script(&env.interpreter)
}

/// Discover, then probe where needed (in parallel), and merge the answers.
pub fn inventory(ctx: &Context, prober: &Prober, extra: &[(PathBuf, Source)]) -> Inventory {
    let discovery = discovery::discover_all(ctx, extra);
    let mut found = discovery.found;
    let mut errors: Vec<(PathBuf, String)> = Vec::new();

    // Which interpreters to ask: the undecided envs' own, then the unplaceable ones.
    let undecided: Vec<usize> = (0..found.len())
        .filter(|&i| needs_probe(&found[i].env) && found[i].env.interpreter.exists())
        .collect();
    let mut pythons: Vec<PathBuf> = undecided
        .iter()
        .map(|&i| found[i].env.interpreter.clone())
        .collect();
    pythons.extend(discovery.unclassified.iter().map(|u| u.interpreter.clone()));
    let mut answers = prober.query_many(&pythons).into_iter();

    for &i in &undecided {
        let Some(answer) = answers.next() else { break };
        match answer {
            Ok(info) => apply_probe(&mut found[i].env, &info),
            Err(e) => errors.push((found[i].env.interpreter.clone(), e.to_string())),
        }
    }
    if discovery.unclassified.is_empty() {
        return Inventory {
            environments: found,
            errors,
        };
    }
    let mut placed = discovery::Discovery::from_found(found);
    for u in &discovery.unclassified {
        let Some(answer) = answers.next() else { break };
        let info = match answer {
            Ok(info) => info,
            Err(e) => {
                errors.push((u.interpreter.clone(), e.to_string()));
                continue;
            }
        };
        // Place it by what it reports; the environment itself is still read from disk.
        let same_minor = |e: &Environment| {
            e.version
                .is_none_or(|v| (v.major, v.minor) == (info.version.major, info.version.minor))
        };
        let mut env = match classify::classify_prefix(ctx, &info.prefix).filter(same_minor) {
            Some(env) => env,
            None => env_from_probe(&info),
        };
        if needs_probe(&env) {
            apply_probe(&mut env, &info);
        }
        for source in &u.sources {
            placed.add(env.clone(), source.clone(), u.interpreter.clone());
        }
    }
    Inventory {
        environments: placed.found,
        errors,
    }
}

/// Fill in what the interpreter reported about itself. The probe speaks for the interpreter
/// it ran; if that is not this environment (a script in its `bin` that execs another Python),
/// the mismatch is reported instead.
fn apply_probe(env: &mut Environment, info: &InterpreterInfo) {
    if !same_dir(&env.prefix, &info.prefix) {
        env.problems.push(format!(
            "its interpreter {} reports another environment (sys.prefix {})",
            env.interpreter.display(),
            info.prefix.display()
        ));
        return;
    }
    env.version = Some(info.version);
    env.base_prefix = Some(info.base_prefix.clone());
    let mut site = info.site_packages.clone();
    if site.is_empty() {
        // virtualenv < 20's site.py has no getsitepackages(): take sys.path's entries.
        site = info
            .sys_path
            .iter()
            .filter(|p| {
                p.starts_with(&info.prefix)
                    && p.file_name()
                        .is_some_and(|n| n == "site-packages" || n == "dist-packages")
            })
            .cloned()
            .collect();
    }
    if !site.is_empty() {
        env.site_packages = site;
    }
    env.user_site = UserSite {
        enabled: info.enable_user_site,
        path: info.user_site.clone(),
    };
    env.has_pip |= info.can_import("pip");
    env.has_ipykernel |= info.can_import("ipykernel");
    env.has_uv |= info.can_import("uv");
    if !info.is_virtual() {
        env.externally_managed = info.externally_managed.clone();
    }
    env.writable = env
        .site_packages
        .first()
        .is_some_and(|s| crate::python::classify::writable(nearest_existing(s)));
    env.evidence = Evidence::Probe;
}

fn nearest_existing(p: &Path) -> &Path {
    p.ancestors().find(|a| a.exists()).unwrap_or(p)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => (x.dev(), x.ino()) == (y.dev(), y.ino()),
        _ => false,
    }
}

/// An environment known only from the probe (no recognisable layout on disk).
fn env_from_probe(info: &InterpreterInfo) -> Environment {
    let mut env = Environment {
        prefix: info.prefix.clone(),
        kind: if info.is_virtual() {
            EnvKind::Venv
        } else {
            EnvKind::Base
        },
        interpreter: info.executable.clone(),
        version: Some(info.version),
        base_prefix: Some(info.base_prefix.clone()),
        venv_home: None,
        site_packages: Vec::new(),
        user_site: UserSite {
            enabled: false,
            path: None,
        },
        has_pip: false,
        has_ipykernel: false,
        has_uv: false,
        externally_managed: None,
        writable: false,
        frozen: false,
        name: None,
        pixi_manifest: None,
        problems: Vec::new(),
        evidence: Evidence::Probe,
    };
    apply_probe(&mut env, info);
    env
}
