//! Repointing a venv whose base Python is gone (`env-venv-base-missing`) at another base of
//! the same version and ABI. The venv's packages are intact; only `pyvenv.cfg`'s base keys and
//! the `bin/` links to the base interpreter name the old one. Both are backed up first (beside
//! `pyvenv.cfg`, as `pyvenv.cfg.kip-bak-<timestamp>` and `….links`), written atomically, and
//! restored by [`Repointed::rollback`] when the caller's verification fails.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::kernel::write::write_atomic;
use crate::python::discovery;
use crate::python::environment::{EnvKind, Environment};

/// Is the env a venv whose base is gone while its packages remain? (Then it is repaired, never
/// removed: `env-venv-base-missing` takes precedence over `kernel-interpreter-missing`.)
pub fn base_missing(env: &Environment) -> bool {
    env.is_virtual()
        && env.venv_home.as_ref().is_some_and(|h| !h.is_dir())
        && env.site_packages.iter().any(|s| s.is_dir())
}

/// Free-threaded (`3.13t`) and default builds have different ABIs: a venv's lib dir tells.
fn free_threaded(prefix: &Path, env: &Environment) -> bool {
    env.version.is_some_and(|v| {
        prefix
            .join("lib")
            .join(format!("python{}.{}t", v.major, v.minor))
            .is_dir()
    })
}

/// A base install here with the venv's X.Y and ABI: the interpreter to repoint at.
pub fn replacement_base(ctx: &Context, env: &Environment) -> Option<Environment> {
    let v = env.version?;
    let t = free_threaded(&env.prefix, env);
    discovery::discover(ctx, &[])
        .into_iter()
        .map(|f| f.env)
        .filter(|b| {
            matches!(
                b.kind,
                EnvKind::Pyenv | EnvKind::UvManaged | EnvKind::System | EnvKind::Base
            )
        })
        .filter(|b| b.interpreter.is_file())
        .find(|b| {
            b.version
                .is_some_and(|bv| (bv.major, bv.minor) == (v.major, v.minor))
                && free_threaded(&b.prefix, b) == t
        })
}

/// What [`repoint`] changed, to undo it.
pub struct Repointed {
    cfg: PathBuf,
    old_cfg: Vec<u8>,
    links: Vec<(PathBuf, PathBuf)>,
    /// The backup of `pyvenv.cfg` (kept after success, as every file kip replaces).
    pub backup: PathBuf,
}

impl Repointed {
    /// Put back `pyvenv.cfg` and the links as they were.
    pub fn rollback(self) -> std::io::Result<()> {
        write_atomic(&self.cfg, &self.old_cfg)?;
        for (link, old) in self.links {
            relink(&link, &old)?;
        }
        Ok(())
    }
}

fn relink(link: &Path, target: &Path) -> std::io::Result<()> {
    let tmp = link.with_file_name(format!(
        ".{}.kip-tmp",
        link.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    std::fs::rename(&tmp, link)
}

/// Point the venv at `base`: `pyvenv.cfg`'s `home`, `executable`, `base-prefix`,
/// `base-exec-prefix`, `base-executable` and `version`/`version_info` name the new base, and
/// every `bin/` symlink into the old home is relinked to the same name in the new one.
pub fn repoint(env: &Environment, base: &Environment) -> std::io::Result<Repointed> {
    let cfg = env.prefix.join("pyvenv.cfg");
    let old_cfg = std::fs::read(&cfg)?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let backup = cfg.with_file_name(format!("pyvenv.cfg.kip-bak-{stamp}"));
    write_atomic(&backup, &old_cfg)?;
    let old_home = env.venv_home.clone().unwrap_or_default();
    let new_home = base
        .interpreter
        .parent()
        .unwrap_or(&base.prefix)
        .to_path_buf();
    let version = base.version.map(|v| v.to_string());
    let text = String::from_utf8_lossy(&old_cfg);
    let mut out = String::new();
    for line in text.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        let value = match key {
            "home" => Some(new_home.display().to_string()),
            "executable" | "base-executable" => Some(base.interpreter.display().to_string()),
            "base-prefix" | "base-exec-prefix" => Some(base.prefix.display().to_string()),
            "version" | "version_info" => version.clone(),
            _ => None,
        };
        match value {
            Some(v) => out.push_str(&format!("{key} = {v}\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    let mut links = Vec::new();
    let bin = env.scripts_dir();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&bin)?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for link in entries {
        let Ok(target) = std::fs::read_link(&link) else {
            continue;
        };
        if !target.is_absolute() || !target.starts_with(&old_home) {
            continue;
        }
        let name = target.file_name().unwrap_or_default();
        let new = if new_home.join(name).exists() {
            new_home.join(name)
        } else {
            base.interpreter.clone()
        };
        links.push((link.clone(), target));
        std::fs::write(
            cfg.with_file_name(format!("pyvenv.cfg.kip-bak-{stamp}.links")),
            links
                .iter()
                .map(|(l, t)| format!("{}\t{}\n", l.display(), t.display()))
                .collect::<String>(),
        )?;
        relink(&link, &new)?;
    }
    write_atomic(&cfg, out.as_bytes())?;
    Ok(Repointed {
        cfg,
        old_cfg,
        links,
        backup,
    })
}

/// Repair a venv whose base is gone: repoint it at a base of the same version and ABI, then
/// `verify` (the caller starts the kernel that runs it); roll back on failure. Ok(what was
/// done), Err(why nothing changed).
pub fn repair(
    ctx: &Context,
    env: &Environment,
    verify: impl FnOnce() -> Result<(), String>,
) -> Result<String, String> {
    let base = replacement_base(ctx, env).ok_or_else(|| {
        format!(
            "no Python {} here to repoint {} at",
            env.version
                .map(|v| v.minor_str())
                .unwrap_or_else(|| "?".into()),
            env.prefix.display()
        )
    })?;
    let done = repoint(env, &base).map_err(|e| format!("{}: {e}", env.prefix.display()))?;
    match verify() {
        Ok(()) => Ok(format!(
            "repointed {} at {} (pyvenv.cfg backed up as {}); its kernel starts",
            env.prefix.display(),
            base.interpreter.display(),
            done.backup.display()
        )),
        Err(why) => {
            done.rollback()
                .map_err(|e| format!("{why}; rolling back failed too: {e}"))?;
            Err(format!(
                "repointed at {}, but {why}; rolled back",
                base.interpreter.display()
            ))
        }
    }
}
