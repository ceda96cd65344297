//! `env-shared-module`: two installed distributions provide one top-level module
//! (`opencv-python` and `opencv-python-headless` both install `cv2/`), or one lost its
//! module's files because the other was uninstalled. The fix reinstalls the distribution to
//! keep, exactly at its installed version and without touching its dependencies; it never
//! installs the other one again.

use crate::doctor::finding::{Finding, FindingId, Severity};
use crate::python::environment::Environment;
use crate::python::shared_files;

fn q(s: &str) -> String {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

/// `kip install NAME==VERSION --force-reinstall --no-deps --prefix P`: puts back exactly the
/// files of the installed distribution.
pub fn reinstall_command(name: &str, version: &str, prefix: &str) -> String {
    let spec = if version.is_empty() {
        name.to_string()
    } else {
        format!("{name}=={version}")
    };
    format!(
        "kip install {} --force-reinstall --no-deps --prefix {}",
        q(&spec),
        q(prefix)
    )
}

pub fn check(env: &Environment, prefix: &str, out: &mut Vec<Finding>) {
    for sp in &env.site_packages {
        let (pairs, gone) = shared_files::scan(sp);
        for g in &gone {
            // The module is provided by another distribution still listing the file: that
            // pair's finding says it.
            if pairs.iter().any(|p| p.module == g.module) {
                continue;
            }
            let mut f = Finding::new(
                FindingId::EnvSharedModule,
                prefix,
                format!(
                    "\"{}\" is installed in \"{prefix}\", but its module \"{}\" is gone (\"{}\" is missing)",
                    g.dist.name,
                    g.module,
                    g.missing.display()
                ),
                format!(
                    "Another distribution that installed the same files was uninstalled (pip and uv delete every file a distribution's RECORD lists, even one another distribution also installed), or the files were deleted. The metadata still says \"{}\" is installed, so a plain install reports \"already satisfied\" and changes nothing: it has to be reinstalled.",
                    g.dist.name
                ),
                reinstall_command(&g.dist.name, &g.dist.version, prefix),
            )
            .with_severity(Severity::Error);
            f.module = Some(g.module.clone());
            f.distribution = Some(g.dist.name.clone());
            out.push(f);
        }
        for p in &pairs {
            let mut f = Finding::new(
                FindingId::EnvSharedModule,
                prefix,
                format!(
                    "\"{}\" and \"{}\" both install the module \"{}\" in \"{prefix}\"",
                    p.keep.name, p.other.name, p.module
                ),
                format!(
                    "They write the same files: the one installed last decides what `import {m}` loads, and uninstalling either one deletes files the other still lists, leaving `import {m}` broken while both look installed. Keep one: {why}. Removing \"{other}\" first and then reinstalling \"{keep}\" leaves exactly one owner of those files (a package that asked for \"{other}\" gets the same module from \"{keep}\").",
                    m = p.module,
                    why = p.why_keep,
                    other = p.other.name,
                    keep = p.keep.name,
                ),
                format!(
                    "kip uninstall {} --prefix {} && {}",
                    q(&p.other.name),
                    q(prefix),
                    reinstall_command(&p.keep.name, &p.keep.version, prefix)
                ),
            );
            f.module = Some(p.module.clone());
            f.distribution = Some(p.keep.name.clone());
            out.push(f);
        }
    }
}

/// A distribution installed in `env` that claims the top-level `module` (its metadata lists
/// it) although `module` is not importable: its files were deleted by another distribution's
/// uninstall, or it is an editable install whose project folder is gone. A plain install of it
/// would report "already satisfied"; this says what repairs it, for the target flag `how`
/// (`--kernel K`): the same version reinstalled, or, for an editable, `None` (the folder it
/// needs is named by `kip doctor`'s `env-editable-missing`).
pub fn repair_for_missing(env: &Environment, module: &str, how: &str) -> Option<Option<String>> {
    for sp in &env.site_packages {
        let editables = crate::doctor::editable::editables(sp);
        let claimed = crate::python::site::installed_distributions(sp)
            .into_iter()
            .find(|d| d.top_level.iter().any(|t| t == module));
        if let Some(d) = claimed {
            let editable = editables.iter().any(|e| {
                crate::python::dist_name::normalize_dist_name(&e.name) == d.normalized_name
            });
            if editable {
                return Some(None);
            }
            let spec = if d.version.is_empty() {
                d.name.clone()
            } else {
                format!("{}=={}", d.name, d.version)
            };
            return Some(Some(format!(
                "kip install {} --force-reinstall --no-deps {how}",
                q(&spec)
            )));
        }
    }
    None
}
