//! Classify an interpreter or a prefix from disk alone (python-environments.md §1c): no
//! process runs here.
//!
//! * `pyvenv.cfg` beside or one level above the interpreter (CPython `getpath`) → a virtual
//!   environment: a `uv` key → uv, a `virtualenv` key → virtualenv, else stdlib venv; poetry
//!   and pipx are told apart by location. The path *as given* is used: every venv's
//!   `bin/python` is a symlink to the same base binary.
//! * `conda-meta/` → conda (`pixi` marker → pixi; `frozen` → frozen; `pkgs/`, `envs/` or
//!   `condabin/` → a root prefix).
//! * otherwise a base install found by the getpath landmark `lib/pythonX.Y/os.py`, after
//!   resolving symlinks (`/usr/bin/python3 -> python3.11`).

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::platform;
use crate::python::environment::{EnvKind, Environment, Evidence, UserSite};
use crate::python::pep668;
use crate::python::version::PythonVersion;

/// `pyvenv.cfg`: `key = value` lines, split on the first `=` (it is not real INI).
pub fn read_pyvenv_cfg(path: &Path) -> Option<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| {
                let (k, v) = l.split_once('=')?;
                Some((k.trim().to_lowercase(), v.trim().to_string()))
            })
            .collect(),
    )
}

fn cfg_get<'a>(cfg: &'a [(String, String)], key: &str) -> Option<&'a str> {
    cfg.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The `pyvenv.cfg` that applies to an interpreter path: beside it, then one level up.
pub fn pyvenv_cfg_for(python: &Path) -> Option<PathBuf> {
    let dir = python.parent()?;
    [dir.join("pyvenv.cfg"), dir.parent()?.join("pyvenv.cfg")]
        .into_iter()
        .find(|p| p.is_file())
}

/// `lib/pythonX.Y[t]` directories under a prefix → the newest version found.
fn version_from_lib(prefix: &Path) -> Option<(PythonVersion, bool)> {
    let mut best: Option<(PythonVersion, bool)> = None;
    for lib in ["lib", "lib64"] {
        let Ok(rd) = std::fs::read_dir(prefix.join(lib)) else {
            continue;
        };
        for e in rd.flatten() {
            let n = e.file_name();
            let n = n.to_string_lossy();
            let Some(rest) = n.strip_prefix("python") else {
                continue;
            };
            let (ver, t) = match rest.strip_suffix('t') {
                Some(v) => (v, true),
                None => (rest, false),
            };
            let mut it = ver.split('.');
            let (Some(a), Some(b), None) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            let (Ok(a), Ok(b)) = (a.parse::<u8>(), b.parse::<u8>()) else {
                continue;
            };
            let landmark =
                e.path().join("os.py").is_file() || e.path().join("site-packages").is_dir();
            if !landmark {
                continue;
            }
            let v = PythonVersion::new(a, b, None);
            if best.is_none_or(|(bv, _)| v > bv) {
                best = Some((v, t));
            }
        }
    }
    best
}

/// `#define PY_VERSION "3.12.1"` from `include/pythonX.Y/patchlevel.h`.
fn patch_from_headers(prefix: &Path, v: PythonVersion) -> Option<u16> {
    let h = prefix
        .join("include")
        .join(format!("python{}.{}", v.major, v.minor))
        .join("patchlevel.h");
    let text = std::fs::read_to_string(h).ok()?;
    let line = text
        .lines()
        .find(|l| l.contains("#define PY_VERSION ") && l.contains('"'))?;
    let quoted = line.split('"').nth(1)?;
    quoted.parse::<PythonVersion>().ok()?.patch
}

/// `conda-meta/python-<ver>-<build>.json` (`python-dateutil-…`, `python_abi-…` skipped).
pub fn conda_python_version(prefix: &Path) -> Option<PythonVersion> {
    let rd = std::fs::read_dir(prefix.join("conda-meta")).ok()?;
    for e in rd.flatten() {
        let n = e.file_name();
        let n = n.to_string_lossy();
        let Some(rest) = n
            .strip_prefix("python-")
            .and_then(|r| r.strip_suffix(".json"))
        else {
            continue;
        };
        let Some((ver, build)) = rest.split_once('-') else {
            continue;
        };
        if build.contains('-') || !ver.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(v) = ver.parse() {
            return Some(v);
        }
    }
    None
}

fn dist_info_present(site: &[PathBuf], dist: &str) -> bool {
    let prefix = format!("{}-", dist.to_lowercase());
    site.iter().any(|d| {
        std::fs::read_dir(d)
            .map(|rd| {
                rd.flatten().any(|e| {
                    let n = e.file_name().to_string_lossy().to_lowercase();
                    n.starts_with(&prefix)
                        && (n.ends_with(".dist-info") || n.ends_with(".egg-info"))
                })
            })
            .unwrap_or(false)
    })
}

fn conda_record(prefix: &Path, name: &str) -> bool {
    std::fs::read_dir(prefix.join("conda-meta"))
        .map(|rd| {
            rd.flatten().any(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_prefix(&format!("{name}-"))
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            })
        })
        .unwrap_or(false)
}

/// `access(W_OK)` with the real uid, as pip's own writability test does.
pub fn writable(p: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: c is NUL-terminated.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// Classify the environment an interpreter path belongs to.
pub fn classify_interpreter(ctx: &Context, python: &Path) -> Option<Environment> {
    let python = if python.is_absolute() {
        python.to_path_buf()
    } else {
        ctx.cwd.join(python)
    };
    if !python.exists() {
        return None;
    }
    if let Some(cfg) = pyvenv_cfg_for(&python) {
        let prefix = cfg.parent()?.to_path_buf();
        return classify_venv(ctx, &prefix, Some(&python));
    }
    // A script or shim is not an interpreter we can classify from disk.
    if std::fs::read(&python)
        .map(|b| b.starts_with(b"#!"))
        .unwrap_or(true)
    {
        return None;
    }
    let real = std::fs::canonicalize(&python).ok()?;
    let prefix = real.parent()?.parent()?.to_path_buf();
    // `python3.11` names its version; a prefix may hold several (`/usr/lib/python3.X`).
    let named = real
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("python"))
        .filter(|v| v.contains('.'))
        .and_then(|v| v.parse::<PythonVersion>().ok());
    let mut env = classify_base_version(ctx, &prefix, named)?;
    env.interpreter = python;
    Some(env)
}

/// Classify a prefix (a venv directory, a conda env, an install root).
pub fn classify_prefix(ctx: &Context, prefix: &Path) -> Option<Environment> {
    let prefix = if prefix.is_absolute() {
        prefix.to_path_buf()
    } else {
        ctx.cwd.join(prefix)
    };
    if prefix.join("pyvenv.cfg").is_file() {
        return classify_venv(ctx, &prefix, None);
    }
    classify_base(ctx, &prefix)
}

fn interpreter_in(ctx: &Context, prefix: &Path, conda: bool) -> Option<PathBuf> {
    platform::python_candidates(ctx.os, prefix, conda)
        .into_iter()
        .find(|p| p.exists())
}

fn classify_venv(ctx: &Context, prefix: &Path, given: Option<&Path>) -> Option<Environment> {
    let cfg = read_pyvenv_cfg(&prefix.join("pyvenv.cfg")).unwrap_or_default();
    let interpreter = given
        .map(Path::to_path_buf)
        .or_else(|| interpreter_in(ctx, prefix, false))?;
    let version = cfg_get(&cfg, "version")
        .or_else(|| cfg_get(&cfg, "version_info"))
        .and_then(|v| v.parse::<PythonVersion>().ok())
        .or_else(|| version_from_lib(prefix).map(|(v, _)| v));
    let home = cfg_get(&cfg, "home").map(PathBuf::from);
    let kind = if cfg_get(&cfg, "uv").is_some() {
        EnvKind::UvVenv
    } else if cfg_get(&cfg, "virtualenv").is_some() {
        EnvKind::Virtualenv
    } else {
        let s = prefix.to_string_lossy();
        if s.contains("/pypoetry/virtualenvs/") {
            EnvKind::Poetry
        } else if s.contains("/pipx/venvs/") {
            EnvKind::Pipx
        } else {
            EnvKind::Venv
        }
    };
    let system_site = cfg_get(&cfg, "include-system-site-packages")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let base_prefix = cfg_get(&cfg, "base-prefix").map(PathBuf::from).or_else(|| {
        home.as_ref()
            .and_then(|h| std::fs::canonicalize(h).ok())
            .and_then(|h| h.parent().map(Path::to_path_buf))
    });
    let (major, minor) = version.map(|v| (v.major, v.minor)).unwrap_or((3, 0));
    let mut site_packages = platform::site_packages_dirs(ctx.os, prefix, major, minor);
    if version.is_none() {
        site_packages.clear();
    }
    let mut problems = Vec::new();
    if let Some(h) = &home {
        if !h.exists() {
            problems.push(format!(
                "the base interpreter directory {} (pyvenv.cfg home) is gone",
                h.display()
            ));
        }
    }
    let user_enabled = system_site && !ctx.vars.contains("PYTHONNOUSERSITE");
    let user_site = user_site(ctx, version, user_enabled);
    let has_uv = prefix.join("bin/uv").exists() || dist_info_present(&site_packages, "uv");
    let writable = site_packages
        .first()
        .map(|s| writable(s))
        .unwrap_or_else(|| writable(prefix));
    Some(Environment {
        prefix: prefix.to_path_buf(),
        kind,
        interpreter,
        version,
        base_prefix,
        venv_home: home,
        has_pip: dist_info_present(&site_packages, "pip"),
        has_ipykernel: dist_info_present(&site_packages, "ipykernel"),
        has_uv,
        externally_managed: None,
        writable,
        frozen: false,
        name: None,
        pixi_manifest: None,
        user_site,
        site_packages,
        problems,
        evidence: Evidence::Disk,
    })
}

fn user_site(ctx: &Context, version: Option<PythonVersion>, enabled: bool) -> UserSite {
    let home = ctx.home().unwrap_or_else(|| PathBuf::from("/"));
    let base = platform::python_user_base(ctx.os, &ctx.vars, &home, None);
    UserSite {
        enabled,
        path: version
            .map(|v| platform::python_user_site(ctx.os, &base, v.major, v.minor, false, false)),
    }
}

fn classify_base(ctx: &Context, prefix: &Path) -> Option<Environment> {
    classify_base_version(ctx, prefix, None)
}

fn classify_base_version(
    ctx: &Context,
    prefix: &Path,
    named: Option<PythonVersion>,
) -> Option<Environment> {
    let conda = prefix.join("conda-meta").is_dir();
    let lib_version = named.or_else(|| version_from_lib(prefix).map(|(v, _)| v));
    let mut version = if conda {
        conda_python_version(prefix).or(lib_version)
    } else {
        lib_version
    };
    version.as_ref()?;
    if let Some(v) = version.as_mut() {
        if v.patch.is_none() {
            v.patch = patch_from_headers(prefix, *v);
        }
    }
    let pyenv_root = ctx
        .vars
        .get_nonempty("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| ctx.home().map(|h| h.join(".pyenv")));
    let in_pyenv = prefix
        .parent()
        .is_some_and(|p| p.file_name().is_some_and(|n| n == "versions"))
        && (pyenv_root.as_ref().is_some_and(|r| prefix.starts_with(r))
            || prefix.to_string_lossy().contains("/.pyenv/"));
    if in_pyenv && version.is_some_and(|v| v.patch.is_none()) {
        if let Some(v) = prefix
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<PythonVersion>().ok())
        {
            version = Some(v);
        }
    }
    let uv_dir = prefix
        .parent()
        .is_some_and(|p| p.to_string_lossy().ends_with("uv/python"));
    let kind = if conda {
        if prefix.join("conda-meta/pixi").is_file() {
            EnvKind::Pixi
        } else if ["pkgs", "envs", "condabin"]
            .iter()
            .any(|d| prefix.join(d).is_dir())
        {
            EnvKind::CondaBase
        } else {
            EnvKind::Conda
        }
    } else if in_pyenv {
        EnvKind::Pyenv
    } else if uv_dir {
        EnvKind::UvManaged
    } else if prefix == Path::new("/usr")
        || prefix == Path::new("/usr/local")
        || prefix.starts_with("/opt/homebrew")
        || prefix.starts_with("/Library/Frameworks")
    {
        EnvKind::System
    } else {
        EnvKind::Base
    };
    let v = version?;
    let mut site_packages = platform::site_packages_dirs(ctx.os, prefix, v.major, v.minor);
    if prefix == Path::new("/usr") {
        // Debian's site.py: dist-packages, not site-packages.
        site_packages = vec![
            PathBuf::from("/usr/local/lib/python3/dist-packages"),
            PathBuf::from(format!(
                "/usr/local/lib/python{}.{}/dist-packages",
                v.major, v.minor
            )),
            PathBuf::from("/usr/lib/python3/dist-packages"),
            PathBuf::from(format!(
                "/usr/lib/python{}.{}/dist-packages",
                v.major, v.minor
            )),
        ]
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    }
    let name = if conda || kind == EnvKind::Pixi {
        prefix.file_name().map(|n| n.to_string_lossy().into_owned())
    } else {
        None
    };
    let pixi_manifest = if kind == EnvKind::Pixi {
        std::fs::read_to_string(prefix.join("conda-meta/pixi"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|j| j.get("manifest_path")?.as_str().map(PathBuf::from))
    } else {
        None
    };
    let interpreter = interpreter_in(ctx, prefix, conda).or_else(|| {
        Some(
            prefix
                .join("bin")
                .join(format!("python{}.{}", v.major, v.minor)),
        )
        .filter(|p| p.exists())
    })?;
    let em = pep668::marker(prefix, v);
    let user_enabled = !ctx.vars.contains("PYTHONNOUSERSITE");
    let writable_site = site_packages
        .iter()
        .find(|p| p.is_dir())
        .map(|s| writable(s))
        .unwrap_or(false);
    Some(Environment {
        prefix: prefix.to_path_buf(),
        kind,
        interpreter,
        version,
        base_prefix: Some(prefix.to_path_buf()),
        venv_home: None,
        has_pip: dist_info_present(&site_packages, "pip") || conda_record(prefix, "pip"),
        has_ipykernel: dist_info_present(&site_packages, "ipykernel")
            || conda_record(prefix, "ipykernel"),
        has_uv: prefix.join("bin/uv").exists() || dist_info_present(&site_packages, "uv"),
        externally_managed: em,
        writable: writable_site,
        frozen: prefix.join("conda-meta/frozen").exists(),
        name,
        pixi_manifest,
        user_site: user_site(ctx, version, user_enabled),
        site_packages,
        problems: Vec::new(),
        evidence: Evidence::Disk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyvenv_cfg_is_split_on_the_first_equals() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("pyvenv.cfg");
        std::fs::write(
            &f,
            "home = /usr/bin\nuv = 0.13.9\ncommand = a=b\nbroken line\n",
        )
        .unwrap();
        let cfg = read_pyvenv_cfg(&f).unwrap();
        assert_eq!(cfg_get(&cfg, "home"), Some("/usr/bin"));
        assert_eq!(cfg_get(&cfg, "command"), Some("a=b"));
        assert_eq!(cfg.len(), 3);
    }

    #[test]
    fn conda_meta_python_version_skips_lookalikes() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("conda-meta");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(m.join("python-dateutil-2.9.0-pyhd8ed1ab_0.json"), "{}").unwrap();
        std::fs::write(m.join("python_abi-3.11-4_cp311.json"), "{}").unwrap();
        assert_eq!(conda_python_version(d.path()), None);
        std::fs::write(m.join("python-3.11.7-h_repack_0.json"), "{}").unwrap();
        assert_eq!(
            conda_python_version(d.path()),
            Some(PythonVersion::new(3, 11, Some(7)))
        );
    }
}
