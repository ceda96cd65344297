//! What an install changed in an environment: its distributions before and after, by name and
//! version, read from the metadata directory names (one `read_dir` per site-packages).
//!
//! The difference decides what kip says about running kernels. A kernel keeps the modules it
//! has imported, so a distribution that was *replaced* (upgraded, downgraded, reinstalled at
//! another version) or *removed* may be stale in it until a restart; a distribution that is
//! only *added* imports there at once — Python caches no failed import, and the path finder
//! rereads a directory whose mtime changed — unless it comes with a `.pth` file, which `site`
//! reads only at start-up (editable installs, and distributions such as `distutils-precedence`
//! hooks); those are found in the new version's RECORD.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::jupyter::runtime;
use crate::python::{classify, site};

/// Normalized name → (the name as the directory spells it, version, the metadata directory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<String, (String, String, PathBuf)>);

/// One distribution that differs; `from` is `None` when it was added, `to` when removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub name: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The new version installs a `.pth` file into site-packages (read only at start-up).
    pub pth: bool,
}

impl Change {
    /// Was something already there replaced or removed (so a running kernel may hold it)?
    pub fn touches_existing(&self) -> bool {
        self.from.is_some()
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.from, &self.to) {
            (Some(a), Some(b)) => write!(f, "{} {a} → {b}", self.name),
            (None, Some(b)) => write!(f, "{} {b} (new)", self.name),
            (Some(a), None) => write!(f, "{} {a} (removed)", self.name),
            (None, None) => write!(f, "{}", self.name),
        }
    }
}

impl Snapshot {
    pub fn of(site_dirs: &[PathBuf]) -> Snapshot {
        let mut map = BTreeMap::new();
        for sp in site_dirs {
            for (normalized, dir) in site::metadata_dirs(sp) {
                if let Some((name, version)) = name_and_version(&dir) {
                    map.insert(normalized, (name, version, dir));
                }
            }
        }
        Snapshot(map)
    }

    /// What differs from `before` to `self`, sorted by name.
    pub fn changes_since(&self, before: &Snapshot) -> Vec<Change> {
        let mut out = Vec::new();
        for (key, (name, version, dir)) in &self.0 {
            match before.0.get(key) {
                Some((_, old, _)) if old == version => {}
                old => out.push(Change {
                    name: name.clone(),
                    from: old.map(|(_, v, _)| v.clone()),
                    to: Some(version.clone()),
                    pth: installs_pth(dir),
                }),
            }
        }
        for (key, (name, version, _)) in &before.0 {
            if !self.0.contains_key(key) {
                out.push(Change {
                    name: name.clone(),
                    from: Some(version.clone()),
                    to: None,
                    pth: false,
                });
            }
        }
        out.sort_by_key(|c| c.name.to_lowercase());
        out
    }
}

/// Does the distribution's RECORD list a `.pth` file at the top of site-packages?
fn installs_pth(dist_info: &Path) -> bool {
    crate::files::read_to_string(dist_info.join("RECORD")).is_ok_and(|record| {
        record.lines().any(|l| {
            let path = l.split(',').next().unwrap_or("");
            !path.contains('/') && path.ends_with(".pth")
        })
    })
}

/// `PyYAML-6.0.1.dist-info` → (`PyYAML`, `6.0.1`); `six-1.16.0-py3.11.egg-info` → (`six`,
/// `1.16.0`). A name and a version never contain `-` in these names (both are escaped to `_`).
pub fn name_and_version(dir: &Path) -> Option<(String, String)> {
    let file = dir.file_name()?.to_str()?;
    let stem = file
        .strip_suffix(".dist-info")
        .or_else(|| file.strip_suffix(".egg-info"))?;
    let (name, rest) = stem.split_once('-')?;
    let version = rest.split('-').next()?;
    Some((name.to_string(), version.to_string()))
}

#[derive(Debug, Serialize)]
pub struct RunningKernel {
    pub pid: i32,
    pub kernel: Option<String>,
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub connection_file: Option<PathBuf>,
    /// It may hold a replaced or removed distribution, or needs a start-up to see a `.pth`.
    pub must_restart: bool,
    /// The sentence kip printed about it.
    pub advice: String,
}

/// The running kernels whose interpreter belongs to the target environment, when the install
/// changed anything there, each with whether it must restart (see `install::changes`): it may
/// hold a replaced or removed distribution, or an editable install's `.pth` file is only read
/// at start-up; added distributions import in it at once.
pub fn running_kernels_to_tell(
    ctx: &Context,
    prefix: &Path,
    changed: &[Change],
    editable_requested: bool,
) -> Vec<RunningKernel> {
    if changed.is_empty() {
        return Vec::new();
    }
    let stale: Vec<String> = changed
        .iter()
        .filter(|c| c.touches_existing())
        .map(Change::to_string)
        .collect();
    let pth: Vec<&str> = changed
        .iter()
        .filter(|c| c.pth)
        .map(|c| c.name.as_str())
        .collect();
    let editable = editable_requested || !pth.is_empty();
    runtime::running_kernels()
        .into_iter()
        .filter(|k| {
            classify::classify_interpreter(ctx, &k.interpreter)
                .is_some_and(|e| crate::python::environment::same_prefix(&e.prefix, prefix))
        })
        .map(|k| {
            let who = format!("kernel {} (pid {})", k.kernel_name.as_deref().unwrap_or("?"), k.pid);
            let advice = if !stale.is_empty() {
                format!("restart {who}: it may still hold what changed: {}", stale.join(", "))
            } else if editable {
                format!("restart {who}: {} comes with a .pth file (an editable install does), which Python reads only at start-up", if pth.is_empty() { "the editable install".to_string() } else { pth.join(", ") })
            } else {
                format!("{who} runs on this environment: it can import the new packages now, no restart needed")
            };
            RunningKernel {
                pid: k.pid,
                kernel: k.kernel_name,
                connection_file: k.connection_file,
                must_restart: !stale.is_empty() || editable,
                advice,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(dirs: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for n in dirs {
            std::fs::create_dir(d.path().join(n)).unwrap();
        }
        d
    }

    #[test]
    fn added_replaced_and_removed_are_told_apart() {
        let sp = site(&[
            "six-1.16.0.dist-info",
            "PyYAML-6.0.dist-info",
            "old-1.0-py3.11.egg-info",
        ]);
        let dirs = [sp.path().to_path_buf()];
        let before = Snapshot::of(&dirs);
        assert_eq!(Snapshot::of(&dirs).changes_since(&before), vec![]);
        std::fs::rename(
            sp.path().join("six-1.16.0.dist-info"),
            sp.path().join("six-1.17.0.dist-info"),
        )
        .unwrap();
        std::fs::remove_dir(sp.path().join("old-1.0-py3.11.egg-info")).unwrap();
        std::fs::create_dir(sp.path().join("demo_pkg-2.0.dist-info")).unwrap();
        let changes = Snapshot::of(&dirs).changes_since(&before);
        let text: Vec<String> = changes.iter().map(Change::to_string).collect();
        assert_eq!(
            text,
            [
                "demo_pkg 2.0 (new)",
                "old 1.0 (removed)",
                "six 1.16.0 → 1.17.0"
            ]
        );
        let touched: Vec<bool> = changes.iter().map(Change::touches_existing).collect();
        assert_eq!(touched, [false, true, true]);
        assert!(changes.iter().all(|c| !c.pth));
    }

    #[test]
    fn a_pth_file_in_the_record_is_noticed() {
        let sp = site(&[]);
        let dirs = [sp.path().to_path_buf()];
        let before = Snapshot::of(&dirs);
        for (dir, record) in [
            (
                "edit-1.0.dist-info",
                "__editable__.edit-1.0.pth,sha256=x,12\nedit-1.0.dist-info/RECORD,,\n",
            ),
            (
                "plain-1.0.dist-info",
                "plain/__init__.py,,\nplain/data.pth,,\n",
            ),
        ] {
            std::fs::create_dir(sp.path().join(dir)).unwrap();
            std::fs::write(sp.path().join(dir).join("RECORD"), record).unwrap();
        }
        let pth: Vec<(String, bool)> = Snapshot::of(&dirs)
            .changes_since(&before)
            .into_iter()
            .map(|c| (c.name, c.pth))
            .collect();
        assert_eq!(
            pth,
            [("edit".to_string(), true), ("plain".to_string(), false)]
        );
    }
}
