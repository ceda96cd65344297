//! `sys.path` and installed distributions, read from disk (CPython `site.py`,
//! `importlib.metadata`), so "is X importable here" and "which distribution provides X" need
//! no interpreter.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::install::names::normalize_dist_name;
use crate::python::environment::Environment;

/// The directories `sys.path` holds beyond the stdlib, in order: `PYTHONPATH`, the user site
/// (when enabled), the site-packages dirs, and the path lines of their `.pth` files
/// (processed in sorted order, `import` lines skipped, relative lines joined to the site dir).
pub fn sys_path_dirs(ctx: &Context, env: &Environment) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let push = |d: PathBuf, dirs: &mut Vec<PathBuf>| {
        if d.is_dir() && !dirs.contains(&d) {
            dirs.push(d);
        }
    };
    if let Some(pp) = ctx.vars.get_nonempty("PYTHONPATH") {
        for d in std::env::split_paths(pp) {
            let d = if d.is_absolute() { d } else { ctx.cwd.join(d) };
            push(d, &mut dirs);
        }
    }
    let mut sites: Vec<PathBuf> = Vec::new();
    if env.user_site.enabled {
        if let Some(u) = &env.user_site.path {
            sites.push(u.clone());
        }
    }
    sites.extend(env.site_packages.iter().cloned());
    for site in sites {
        if !site.is_dir() {
            continue;
        }
        push(site.clone(), &mut dirs);
        for line_dir in pth_dirs(&site) {
            push(line_dir, &mut dirs);
        }
    }
    dirs
}

/// The directories named by `*.pth` files in `site`.
pub fn pth_dirs(site: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(site) else {
        return Vec::new();
    };
    let mut pths: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pth"))
        .collect();
    pths.sort();
    let mut out = Vec::new();
    for pth in pths {
        let Ok(text) = std::fs::read_to_string(&pth) else {
            continue;
        };
        for line in text.lines() {
            let l = line.trim_end();
            if l.is_empty()
                || l.starts_with('#')
                || l.starts_with("import ")
                || l.starts_with("import\t")
            {
                continue;
            }
            let p = PathBuf::from(l);
            out.push(if p.is_absolute() { p } else { site.join(p) });
        }
    }
    out
}

/// Where a top-level module would be found: `dir/m/` (a package, or a namespace package),
/// `dir/m.py`, `dir/m.*.so` / `.pyd` / `.pyc`, first dir wins.
pub fn find_top_level(dirs: &[PathBuf], module: &str) -> Option<PathBuf> {
    for d in dirs {
        let pkg = d.join(module);
        if pkg.is_dir() {
            return Some(pkg);
        }
        let py = d.join(format!("{module}.py"));
        if py.is_file() {
            return Some(py);
        }
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        for e in rd.flatten() {
            let n = e.file_name();
            let n = n.to_string_lossy();
            if let Some(rest) = n.strip_prefix(module) {
                if rest == ".pyc"
                    || (rest.starts_with('.') && (rest.ends_with(".so") || rest.ends_with(".pyd")))
                {
                    return Some(e.path());
                }
            }
        }
    }
    None
}

/// One installed distribution (`*.dist-info` / `*.egg-info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    /// As its metadata spells it (`PyYAML`).
    pub name: String,
    pub normalized_name: String,
    pub version: String,
    /// `INSTALLER`: `pip`, `uv`, `conda`, `uv-pixi`, …
    pub installer: Option<String>,
    /// Top-level import names: `top_level.txt`, else derived from `RECORD` as
    /// `importlib.metadata.packages_distributions` does.
    pub top_level: Vec<String>,
    pub dist_info: PathBuf,
}

fn metadata_field(text: &str, key: &str) -> Option<String> {
    text.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        l.strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    })
}

/// Top-level names from RECORD's first column: the first component of nested paths, module
/// names of top-level `.py`/`.so` files; names with `.` (dist-info, data dirs) dropped.
pub fn top_level_from_record(record: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in record.lines() {
        let path = line.split(',').next().unwrap_or("").trim_matches('"');
        if path.is_empty() || path.starts_with("..") || path.starts_with('/') {
            continue;
        }
        let mut parts = path.split('/');
        let first = parts.next().unwrap_or("");
        let name = if parts.next().is_some() {
            first.to_string()
        } else {
            match first.split_once('.') {
                Some((stem, ext)) if ext == "py" || ext.ends_with("so") || ext == "pyd" => {
                    stem.to_string()
                }
                _ => continue,
            }
        };
        if name.contains('.') || name == "__pycache__" || name.is_empty() {
            continue;
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Every distribution installed in one site-packages directory.
pub fn installed_distributions(site_dir: &Path) -> Vec<Distribution> {
    let Ok(rd) = std::fs::read_dir(site_dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        let n = e.file_name().to_string_lossy().into_owned();
        let is_dist = n.ends_with(".dist-info");
        let is_egg = n.ends_with(".egg-info");
        if !(is_dist || is_egg) || !p.is_dir() {
            continue;
        }
        let meta = std::fs::read_to_string(p.join(if is_dist { "METADATA" } else { "PKG-INFO" }))
            .unwrap_or_default();
        let stem = n
            .trim_end_matches(".dist-info")
            .trim_end_matches(".egg-info");
        let (fname, fver) = stem.split_once('-').unwrap_or((stem, ""));
        let name = metadata_field(&meta, "Name").unwrap_or_else(|| fname.to_string());
        let version = metadata_field(&meta, "Version")
            .unwrap_or_else(|| fver.split('-').next().unwrap_or("").to_string());
        let installer = std::fs::read_to_string(p.join("INSTALLER"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let top_level = match std::fs::read_to_string(p.join("top_level.txt")) {
            Ok(t) => t
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| l.split('/').next().unwrap_or(l).to_string())
                .collect(),
            Err(_) => std::fs::read_to_string(p.join(if is_dist {
                "RECORD"
            } else {
                "installed-files.txt"
            }))
            .map(|r| top_level_from_record(&r))
            .unwrap_or_default(),
        };
        out.push(Distribution {
            normalized_name: normalize_dist_name(&name),
            name,
            version,
            installer,
            top_level,
            dist_info: p,
        });
    }
    out.sort_by(|a, b| a.normalized_name.cmp(&b.normalized_name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_derivation_matches_packages_distributions() {
        let rec = "bs4/__init__.py,sha256=x,1\nbs4/element.py,,\nbeautifulsoup4-4.12.dist-info/METADATA,,\nsix.py,,\n_yaml/__init__.py,,\n../../bin/x,,\nfoo.cpython-311-x86_64-linux-gnu.so,,\n";
        assert_eq!(
            top_level_from_record(rec),
            vec!["bs4", "six", "_yaml", "foo"]
        );
    }

    #[test]
    fn pth_lines_and_find_top_level() {
        let d = tempfile::tempdir().unwrap();
        let site = d.path().join("site");
        let extra = d.path().join("extra");
        std::fs::create_dir_all(&site).unwrap();
        std::fs::create_dir_all(extra.join("pkg")).unwrap();
        std::fs::write(
            site.join("a.pth"),
            format!("# c\nimport os\n{}\n../extra\n", extra.display()),
        )
        .unwrap();
        let dirs = pth_dirs(&site);
        assert_eq!(dirs.len(), 2);
        assert!(find_top_level(&[site.clone(), extra.clone()], "pkg").is_some());
        std::fs::write(site.join("mod.cpython-311-x86_64-linux-gnu.so"), "").unwrap();
        assert!(find_top_level(std::slice::from_ref(&site), "mod").is_some());
        assert!(find_top_level(std::slice::from_ref(&site), "mo").is_none());
    }

    #[test]
    fn distributions_from_dist_info() {
        let d = tempfile::tempdir().unwrap();
        let di = d.path().join("PyYAML-6.0.3.dist-info");
        std::fs::create_dir_all(&di).unwrap();
        std::fs::write(
            di.join("METADATA"),
            "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.3\n\nbody",
        )
        .unwrap();
        std::fs::write(di.join("top_level.txt"), "_yaml\nyaml\n").unwrap();
        std::fs::write(di.join("INSTALLER"), "uv").unwrap();
        let ds = installed_distributions(d.path());
        assert_eq!(ds.len(), 1);
        assert_eq!(ds[0].normalized_name, "pyyaml");
        assert_eq!(ds[0].installer.as_deref(), Some("uv"));
        assert_eq!(ds[0].top_level, vec!["_yaml", "yaml"]);
    }
}
