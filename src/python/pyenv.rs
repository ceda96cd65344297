//! pyenv shims, resolved from their files and pyenv's version files — never run
//! (pyenv `libexec/pyenv-version-file`, `pyenv-version-name`, `pyenv-which`, `pyenv-latest`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "kebab-case")]
pub enum VersionOrigin {
    /// `PYENV_VERSION`.
    Env,
    /// The nearest `.python-version`, from the cwd upward.
    File(PathBuf),
    /// `<root>/version`.
    Global(PathBuf),
    /// No version file at all: `system`.
    Default,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShimResolution {
    pub root: PathBuf,
    pub program: String,
    pub requested: Vec<String>,
    pub origin: VersionOrigin,
    pub chosen: Option<String>,
    pub executable: Option<PathBuf>,
    pub why: String,
}

/// A pyenv shim's root: the `PYENV_ROOT` it hard-codes (which overrides the caller's), or its
/// grandparent directory.
pub fn shim_root(path: &Path) -> Option<PathBuf> {
    let dir = path.parent()?;
    if dir.file_name()? != "shims" {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    if !text.contains("pyenv") {
        return None;
    }
    for line in text.lines() {
        if let Some(v) = line.trim().strip_prefix("export PYENV_ROOT=") {
            return Some(PathBuf::from(v.trim_matches('"').trim_matches('\'')));
        }
    }
    dir.parent().map(Path::to_path_buf)
}

fn parse_version_file(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .flat_map(|l| l.split_whitespace())
        .map(str::to_string)
        .collect()
}

/// The newest installed version whose name starts with `prefix.` (pyenv-latest).
fn latest(root: &Path, prefix: &str) -> Option<String> {
    let rd = std::fs::read_dir(root.join("versions")).ok()?;
    let mut best: Option<(Vec<u64>, String)> = None;
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if !n.starts_with(&format!("{prefix}.")) {
            continue;
        }
        let key: Vec<u64> = n.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        if best.as_ref().is_none_or(|(b, _)| key > *b) {
            best = Some((key, n));
        }
    }
    best.map(|(_, n)| n)
}

fn next_on_path_after(ctx: &Context, shims: &Path, program: &str) -> Option<PathBuf> {
    let shims_c = std::fs::canonicalize(shims).ok();
    ctx.vars
        .path_dirs()
        .into_iter()
        .filter(|d| std::fs::canonicalize(d).ok() != shims_c && d != shims)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

pub fn resolve_shim(ctx: &Context, shim: &Path, program: &str) -> ShimResolution {
    let root = shim_root(shim).unwrap_or_else(|| {
        shim.parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("/"))
            .to_path_buf()
    });
    let (requested, origin) = if let Some(v) = ctx.vars.get_nonempty("PYENV_VERSION") {
        (
            v.to_string_lossy()
                .split(':')
                .map(str::to_string)
                .filter(|s| !s.is_empty())
                .collect(),
            VersionOrigin::Env,
        )
    } else {
        let mut found = None;
        let mut dir = Some(ctx.cwd.as_path());
        while let Some(d) = dir {
            let f = d.join(".python-version");
            if f.is_file() {
                found = Some(f);
                break;
            }
            dir = d.parent();
        }
        match found {
            Some(f) => (
                parse_version_file(&std::fs::read_to_string(&f).unwrap_or_default()),
                VersionOrigin::File(f),
            ),
            None => {
                let g = root.join("version");
                match std::fs::read_to_string(&g) {
                    Ok(t) => (parse_version_file(&t), VersionOrigin::Global(g)),
                    Err(_) => (vec!["system".to_string()], VersionOrigin::Default),
                }
            }
        }
    };
    let origin_text = match &origin {
        VersionOrigin::Env => "PYENV_VERSION".to_string(),
        VersionOrigin::File(f) => f.display().to_string(),
        VersionOrigin::Global(g) => g.display().to_string(),
        VersionOrigin::Default => "no version file (pyenv's default)".to_string(),
    };
    let shims_dir = shim.parent().unwrap_or(Path::new("/"));
    let mut missing = Vec::new();
    for req in &requested {
        let name = req.strip_prefix("python-").unwrap_or(req);
        if name == "system" {
            if let Some(p) = next_on_path_after(ctx, shims_dir, program) {
                return ShimResolution {
                    why: format!("`system` (from {origin_text}): the next `{program}` on PATH after the shims"),
                    root,
                    program: program.into(),
                    requested: requested.clone(),
                    origin,
                    chosen: Some("system".into()),
                    executable: Some(p),
                };
            }
            missing.push("system".to_string());
            continue;
        }
        let installed = if root.join("versions").join(name).is_dir() {
            Some(name.to_string())
        } else {
            latest(&root, name)
        };
        match installed {
            Some(v) => {
                let exe = root.join("versions").join(&v).join("bin").join(program);
                if exe.exists() {
                    let via = if v != name {
                        format!(" (newest installed {name}.x)")
                    } else {
                        String::new()
                    };
                    return ShimResolution {
                        why: format!("version {v}{via}, from {origin_text}"),
                        root,
                        program: program.into(),
                        requested: requested.clone(),
                        origin,
                        chosen: Some(v),
                        executable: Some(exe),
                    };
                }
                missing.push(format!("{v} (has no {program})"));
            }
            None => missing.push(format!("{name} (not installed)")),
        }
    }
    ShimResolution {
        why: format!(
            "no usable version from {origin_text}: {}; the shim would fail",
            missing.join(", ")
        ),
        root,
        program: program.into(),
        requested,
        origin,
        chosen: None,
        executable: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envvars::EnvVars;
    use crate::platform::Os;

    fn world() -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("pyenv");
        for v in ["3.11.2", "3.11.10", "3.12.1"] {
            let bin = root.join("versions").join(v).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            std::fs::write(bin.join("python3"), "").unwrap();
        }
        std::fs::create_dir_all(root.join("shims")).unwrap();
        let shim = root.join("shims/python3");
        std::fs::write(&shim, format!("#!/usr/bin/env bash\nset -e\nexport PYENV_ROOT=\"{}\"\nexec \"{}/libexec/pyenv\" exec \"$program\" \"$@\"\n", root.display(), root.display())).unwrap();
        (d, shim)
    }

    fn ctx(vars: &[(&str, &str)], cwd: &Path) -> Context {
        Context::new(
            Os::Linux,
            EnvVars::from_pairs(vars.iter().map(|(a, b)| (a.to_string(), b.to_string()))),
            cwd.to_path_buf(),
        )
    }

    #[test]
    fn every_selection_rule() {
        let (d, shim) = world();
        let root = d.path().join("pyenv");
        assert_eq!(shim_root(&shim), Some(root.clone()));
        let c = ctx(&[("PATH", "/usr/bin")], d.path());
        assert_eq!(
            resolve_shim(&c, &shim, "python3").origin,
            VersionOrigin::Default
        );
        std::fs::write(root.join("version"), "3.12.1\n").unwrap();
        let r = resolve_shim(&c, &shim, "python3");
        assert_eq!(r.chosen.as_deref(), Some("3.12.1"));
        assert!(matches!(r.origin, VersionOrigin::Global(_)));
        std::fs::write(d.path().join(".python-version"), "# comment\n3.11\n").unwrap();
        let r = resolve_shim(&c, &shim, "python3");
        assert_eq!(r.chosen.as_deref(), Some("3.11.10"), "{}", r.why);
        let c = ctx(
            &[("PATH", "/usr/bin"), ("PYENV_VERSION", "9.9:3.11.2")],
            d.path(),
        );
        let r = resolve_shim(&c, &shim, "python3");
        assert_eq!(r.chosen.as_deref(), Some("3.11.2"));
        assert_eq!(r.origin, VersionOrigin::Env);
        let sysdir = d.path().join("sys");
        std::fs::create_dir_all(&sysdir).unwrap();
        std::fs::write(sysdir.join("python3"), "").unwrap();
        let path = format!("{}:{}", root.join("shims").display(), sysdir.display());
        let c = ctx(&[("PATH", &path), ("PYENV_VERSION", "system")], d.path());
        assert_eq!(
            resolve_shim(&c, &shim, "python3").executable,
            Some(sysdir.join("python3"))
        );
        let c = ctx(&[("PATH", "/nope"), ("PYENV_VERSION", "3.9")], d.path());
        assert!(resolve_shim(&c, &shim, "python3").executable.is_none());
    }
}
