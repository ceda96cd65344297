//! Environment checks, over the envs a kernel, a PATH command or the target uses.

use std::path::Path;

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId};
use crate::install::names;
use crate::python::environment::Environment;
use crate::python::shebang::{self, ScriptInterpreter};
use crate::python::{classify, repoint, site};

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

/// `env-venv-base-missing` for `env`, about `subject` (the env's prefix, or the kernel that
/// runs it: `kernel` then names it in the fix). With a base of the same version and ABI here,
/// the fix repoints the venv (automatic); else it names what to install, or how to rebuild.
pub fn venv_base_missing(
    ctx: &Context,
    env: &Environment,
    subject: &str,
    kernel: Option<&str>,
) -> Finding {
    let prefix = crate::pyjson::os_text(&env.prefix);
    let home = env
        .venv_home
        .as_ref()
        .map(|h| h.display().to_string())
        .unwrap_or_default();
    let version = env
        .version
        .map(|v| v.minor_str())
        .unwrap_or_else(|| "X.Y".into());
    let fix_cmd = match kernel {
        Some(k) => format!("kip kernel fix {}", q(k)),
        None => "kip kernel fix --all".to_string(),
    };
    let mut f = Finding::new(
        FindingId::EnvVenvBaseMissing,
        subject,
        format!("the base interpreter of \"{prefix}\" is gone (pyvenv.cfg home \"{home}\")"),
        "A virtual environment runs its base Python; with that Python removed (an upgrade, a deleted pyenv version) nothing in the venv starts, though its packages are intact — so it is repaired, not deleted.",
        match repoint::replacement_base(ctx, env) {
            Some(b) => format!(
                "{fix_cmd} (repoints the venv at {}, Python {version}, keeping its packages; backed up, verified, rolled back on failure)",
                b.interpreter.display()
            ),
            None => format!(
                "install a Python {version} (uv python install {version}, or pyenv install {version}), then {fix_cmd}; or rebuild it from its package list: kip list --prefix {}",
                q(&prefix)
            ),
        },
    );
    f.fix.automatic = repoint::replacement_base(ctx, env).is_some();
    f
}

fn q(s: &str) -> String {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

pub fn check_env(ctx: &Context, env: &Environment, out: &mut Vec<Finding>) {
    let prefix = env.prefix.display().to_string();
    if repoint::base_missing(env) {
        out.push(venv_base_missing(ctx, env, &prefix, None));
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
    crate::doctor::shared_module::check(env, &prefix, out);
    crate::doctor::editable::check(ctx, env, &prefix, out);
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
                    .is_some_and(|e| !e.same_env(env))
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
