//! Environment checks, over the envs a kernel, a PATH command or the target uses.

use std::path::Path;

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId};
use crate::install::names;
use crate::python::environment::Environment;
use crate::python::shebang::{self, ScriptInterpreter};
use crate::python::{classify, site};

/// Scripts whose shebang decides which Python a shell command runs.
const SCRIPTS: [&str; 8] = [
    "pip",
    "pip3",
    "jupyter",
    "jupyter-lab",
    "jupyter-notebook",
    "ipython",
    "jupyter-kernelspec",
    "ipython3",
];

pub fn check_env(ctx: &Context, env: &Environment, out: &mut Vec<Finding>) {
    let prefix = env.prefix.display().to_string();
    if let Some(home) = &env.venv_home {
        if env.is_virtual() && !home.exists() {
            out.push(Finding::new(
                FindingId::EnvVenvBaseMissing,
                &prefix,
                format!("the base interpreter of \"{prefix}\" is gone (pyvenv.cfg home \"{}\")", home.display()),
                "A virtual environment runs its base Python; with that Python removed (an upgrade, a deleted pyenv version), nothing in the venv starts. Venvs cannot be moved or repaired in place.",
                format!("recreate it: uv venv --python <a Python> {prefix} (or python3 -m venv --clear {prefix}), reinstall its packages, then kip kernel fix --all"),
            ));
        }
    }
    if let Some(marker) = &env.externally_managed {
        out.push(Finding::new(
            FindingId::EnvExternallyManaged,
            &prefix,
            format!("\"{prefix}\" is externally managed (PEP 668: \"{}\")", marker.display()),
            "pip and uv refuse to install into the system Python (it belongs to the OS package manager); never use sudo pip for this.",
            format!("kip kernel add --venv ~/.venvs/work --python {} (a venv registered as a kernel)", env.interpreter.display()),
        ));
    }
    if !env.has_pip && !env.kind.is_conda_like() {
        out.push(Finding::new(
            FindingId::EnvNoPip,
            &prefix,
            format!("\"{prefix}\" has no pip"),
            "`!pip install` inside a kernel of this env falls through to another pip on PATH (or fails); `%pip` fails.",
            format!("kip installs with uv or bootstraps pip; to add pip itself: kip install pip --prefix {prefix}"),
        ));
    }
    if !env.writable && env.externally_managed.is_none() {
        let dir = env
            .site_packages
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| prefix.clone());
        out.push(Finding::new(
            FindingId::EnvSiteNotWritable,
            &prefix,
            format!("site-packages \"{dir}\" is not writable by this user"),
            "Installs into this environment fail with a permission error (or pip silently falls back to --user, where other Pythons may not look).",
            "create a venv you own and register it: kip kernel add --venv ~/.venvs/work".to_string(),
        ));
    }
    check_user_site(env, &prefix, out);
    check_scripts(ctx, env, &prefix, out);
    check_conda_pip(env, &prefix, out);
}

fn check_user_site(env: &Environment, prefix: &str, out: &mut Vec<Finding>) {
    let Some(us) = env
        .user_site
        .path
        .as_ref()
        .filter(|_| env.user_site.enabled)
    else {
        return;
    };
    if !us.is_dir() {
        return;
    }
    let user: Vec<site::Distribution> = site::installed_distributions(us);
    let mut shadowed = Vec::new();
    for sp in &env.site_packages {
        for d in site::installed_distributions(sp) {
            if let Some(u) = user.iter().find(|u| u.normalized_name == d.normalized_name) {
                shadowed.push(format!(
                    "{} {} (user) over {}",
                    u.name, u.version, d.version
                ));
            }
        }
    }
    if !shadowed.is_empty() {
        out.push(Finding::new(
            FindingId::EnvUserSiteShadowing,
            prefix,
            format!("user site-packages \"{}\" shadows \"{prefix}\": {}", us.display(), shadowed.join(", ")),
            "User site-packages comes before the environment's own on sys.path, so these copies win — a different version than the environment has, installed by some other Python with `pip install --user`.",
            format!("set PYTHONNOUSERSITE=1 for the kernel (kip kernel add … writes it for venv/conda envs), or remove the user copies: {} -m pip uninstall <name> with --user's Python", env.interpreter.display()),
        ));
    }
}

fn check_scripts(ctx: &Context, env: &Environment, prefix: &str, out: &mut Vec<Finding>) {
    let bin = env.scripts_dir();
    for s in SCRIPTS {
        let p = bin.join(s);
        if !p.is_file() {
            continue;
        }
        let bad = match shebang::interpreter_for_script(ctx, &p) {
            ScriptInterpreter::Missing(target) => Some(format!(
                "names \"{}\", which does not exist",
                target.display()
            )),
            ScriptInterpreter::Python(target) => {
                if !target.exists() {
                    Some(format!(
                        "names \"{}\", which does not exist",
                        target.display()
                    ))
                } else if classify::classify_interpreter(ctx, &target)
                    .is_some_and(|e| e.prefix != env.prefix)
                {
                    Some(format!(
                        "runs \"{}\", another environment's Python",
                        target.display()
                    ))
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(why) = bad {
            out.push(Finding::new(
                FindingId::EnvBrokenScript,
                prefix,
                format!("\"{}\" {why}", p.display()),
                "Console scripts hard-code the Python they were installed with; a moved or copied venv keeps the old path, so `pip` there fails (\"bad interpreter\") or installs into another environment.",
                format!("use {} -m pip instead; reinstall the script with {} -m pip install --force-reinstall <its package>, or recreate the venv", env.interpreter.display(), env.interpreter.display()),
            ));
        }
    }
}

fn check_conda_pip(env: &Environment, prefix: &str, out: &mut Vec<Finding>) {
    if !env.kind.is_conda_like() {
        return;
    }
    let records = crate::python::packages::conda_records(Path::new(&env.prefix));
    let mut mixed = Vec::new();
    for sp in &env.site_packages {
        for d in site::installed_distributions(sp) {
            let by_pip = d
                .installer
                .as_deref()
                .is_some_and(|i| i == "pip" || i == "uv");
            if by_pip
                && records
                    .iter()
                    .any(|(n, _, _)| names::normalize_dist_name(n) == d.normalized_name)
            {
                mixed.push(d.name.clone());
            }
        }
    }
    if !mixed.is_empty() {
        out.push(Finding::new(
            FindingId::EnvCondaPipMixed,
            prefix,
            format!("pip installed over conda-managed {} in \"{prefix}\"", mixed.join(", ")),
            "conda still believes its own build is installed; its next solve may overwrite or break the pip copy.",
            format!("prefer conda for these: kip install {} --prefix {prefix} --installer conda", mixed.join(" ")),
        ));
    }
}
