//! Files two distributions share: `opencv-python` and `opencv-python-headless` (or a PIL fork
//! and Pillow) both install `cv2/__init__.py`. The installer that ran last decides what the
//! file holds, and uninstalling either deletes it although the other still lists it — so the
//! survivor stays "installed" while its module is gone. Read from `RECORD` files only; nothing
//! runs.

use std::path::{Path, PathBuf};

use crate::python::site::{self, Distribution};

/// Two installed distributions whose `RECORD`s both list the entry file of one top-level
/// module (`cv2/__init__.py`, `six.py`, `mod.<tag>.so`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedPair {
    pub module: String,
    /// The one to keep first ([`keep_first`]), then the other.
    pub keep: Distribution,
    pub other: Distribution,
    /// Why `keep` is the one to keep (one sentence).
    pub why_keep: String,
}

/// An installed distribution whose `RECORD` lists the entry file of `module`, which is gone
/// from disk: typically removed by uninstalling another distribution that shared it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilesGone {
    pub module: String,
    pub dist: Distribution,
    pub missing: PathBuf,
}

/// The entry files of the top-level modules a RECORD lists: (module, path). An empty
/// `__init__.py` (size 0: the `nvidia-*` CUDA wheels each ship `nvidia/__init__.py`) only
/// marks a shared folder; losing it leaves a namespace package that still imports.
fn entry_files(record: &[(String, Option<u64>)], top_level: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (p, size) in record {
        if *size == Some(0) {
            continue;
        }
        if p.starts_with('/') || p.split('/').any(|c| c == "..") {
            continue;
        }
        let (module, entry) = match p.split_once('/') {
            Some((m, rest))
                if site::is_module_file(rest, "__init__") && !rest.ends_with(".pyc") =>
            {
                (m.to_string(), true)
            }
            Some(_) => continue,
            None => {
                let m = p.split('.').next().unwrap_or("").to_string();
                (
                    m.clone(),
                    !p.ends_with(".pyc") && site::is_module_file(p, &m),
                )
            }
        };
        if entry && top_level.contains(&module) && !out.iter().any(|(_, q)| q == p) {
            out.push((module, p.clone()));
        }
    }
    out
}

/// A `pkg_resources`/`pkgutil` style namespace `__init__.py` (old `google`, `zope`): every
/// portion ships the same file on purpose, and losing it leaves a PEP 420 namespace that still
/// imports.
fn namespace_init(site_dir: &Path, path: &str) -> bool {
    path.ends_with("/__init__.py")
        && crate::files::read(site_dir.join(path)).is_ok_and(|b| {
            let t = String::from_utf8_lossy(&b);
            t.contains("declare_namespace") || t.contains("extend_path")
        })
}

/// Normalized names that some distribution in `dists` requires (`Requires-Dist`, without the
/// ones only an extra pulls in).
fn required_names(dists: &[Distribution]) -> Vec<String> {
    let mut out = Vec::new();
    for d in dists {
        let Ok(text) = crate::files::read_to_string(d.dist_info.join("METADATA")) else {
            continue;
        };
        for l in text.lines().take_while(|l| !l.trim().is_empty()) {
            let Some(req) = l.strip_prefix("Requires-Dist:") else {
                continue;
            };
            if req.contains("extra ==") || req.contains("extra==") {
                continue;
            }
            let name: String = req
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .collect();
            out.push(crate::python::dist_name::normalize_dist_name(&name));
        }
    }
    out
}

/// Which of `a` and `b` to keep (true: `a`), and why. What the user asked for first:
/// `REQUESTED` (pip writes it for what was named on its command line), else the one no other
/// installed distribution requires (the other came in as a dependency); else the one installed
/// last, whose files are on disk now, so the kernel keeps what it imports today.
fn keep_first(a: &Distribution, b: &Distribution, required: &[String]) -> (bool, String) {
    let asked = |k: &Distribution, o: &Distribution, how: &str| {
        format!(
            "\"{}\" was {how}, \"{}\" came in as another package's dependency",
            k.name, o.name
        )
    };
    let requested = |d: &Distribution| d.dist_info.join("REQUESTED").exists();
    match (requested(a), requested(b)) {
        (true, false) => return (true, asked(a, b, "installed on request")),
        (false, true) => return (false, asked(b, a, "installed on request")),
        _ => {}
    }
    let needed = |d: &Distribution| required.contains(&d.normalized_name);
    match (needed(a), needed(b)) {
        (false, true) => {
            return (
                true,
                asked(a, b, "required by nothing installed, so asked for"),
            )
        }
        (true, false) => {
            return (
                false,
                asked(b, a, "required by nothing installed, so asked for"),
            )
        }
        _ => {}
    }
    let mtime = |d: &Distribution| {
        std::fs::metadata(d.dist_info.join("METADATA"))
            .and_then(|m| m.modified())
            .ok()
    };
    let a_last = mtime(a) >= mtime(b);
    let (k, o) = if a_last { (a, b) } else { (b, a) };
    (
        a_last,
        format!(
            "\"{}\" was installed last, so its files are the ones on disk now (\"{}\"'s were overwritten)",
            k.name, o.name
        ),
    )
}

/// Every pair of distributions in `site_dir` that share a module's entry file, and every
/// distribution whose module entry file is gone.
pub fn scan(site_dir: &Path) -> (Vec<SharedPair>, Vec<FilesGone>) {
    let dists = site::installed_distributions(site_dir);
    let required = required_names(&dists);
    let entries: Vec<(Distribution, Vec<(String, String)>)> = dists
        .into_iter()
        .filter(|d| d.dist_info.is_dir())
        .map(|d| {
            let e = entry_files(&site::record_entries(&d.dist_info), &d.top_level);
            (d, e)
        })
        .filter(|(_, e)| !e.is_empty())
        .collect();
    let mut pairs = Vec::new();
    for (i, (a, ea)) in entries.iter().enumerate() {
        for (b, eb) in &entries[i + 1..] {
            if a.normalized_name == b.normalized_name {
                continue;
            }
            let Some((module, _)) = ea.iter().find(|(m, p)| {
                eb.iter().any(|(n, q)| n == m && q == p) && !namespace_init(site_dir, p)
            }) else {
                continue;
            };
            let (a_first, why_keep) = keep_first(a, b, &required);
            let (keep, other) = if a_first { (a, b) } else { (b, a) };
            pairs.push(SharedPair {
                module: module.clone(),
                keep: keep.clone(),
                other: other.clone(),
                why_keep,
            });
        }
    }
    let mut gone = Vec::new();
    for (d, e) in &entries {
        if let Some((module, path)) = e.iter().find(|(_, p)| !site_dir.join(p).exists()) {
            gone.push(FilesGone {
                module: module.clone(),
                dist: d.clone(),
                missing: site_dir.join(path),
            });
        }
    }
    (pairs, gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(site: &Path, name: &str, files: &[(&str, &str)], requested: bool) {
        let di = site.join(format!("{}-1.0.dist-info", name.replace('-', "_")));
        std::fs::create_dir_all(&di).unwrap();
        std::fs::write(di.join("METADATA"), format!("Name: {name}\nVersion: 1.0\n")).unwrap();
        let mut record = String::new();
        for (p, text) in files {
            let f = site.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(&f, text).unwrap();
            record.push_str(&format!("{p},sha256=x,{}\n", text.len()));
        }
        std::fs::write(di.join("RECORD"), record).unwrap();
        if requested {
            std::fs::write(di.join("REQUESTED"), "").unwrap();
        }
    }

    #[test]
    fn shared_entry_files_pair_up_and_namespace_portions_do_not() {
        let d = tempfile::tempdir().unwrap();
        let sp = d.path();
        dist(
            sp,
            "opencv-python",
            &[("cv2/__init__.py", "gui"), ("cv2/gui.py", "")],
            true,
        );
        dist(
            sp,
            "opencv-python-headless",
            &[("cv2/__init__.py", "headless")],
            false,
        );
        dist(sp, "google-auth", &[("google/auth/__init__.py", "")], false);
        dist(
            sp,
            "protobuf",
            &[("google/protobuf/__init__.py", "")],
            false,
        );
        dist(
            sp,
            "zope-a",
            &[(
                "zope/__init__.py",
                "__import__('pkg_resources').declare_namespace(__name__)",
            )],
            false,
        );
        dist(
            sp,
            "zope-b",
            &[(
                "zope/__init__.py",
                "__import__('pkg_resources').declare_namespace(__name__)",
            )],
            false,
        );
        for n in ["nvidia-cublas-cu12", "nvidia-cudnn-cu12"] {
            let sub = format!("nvidia/{}/__init__.py", &n[7..n.len() - 5]);
            dist(sp, n, &[("nvidia/__init__.py", ""), (&sub, "X = 1")], false);
        }
        let (pairs, gone) = scan(sp);
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        assert_eq!(pairs[0].module, "cv2");
        assert_eq!(pairs[0].keep.name, "opencv-python");
        assert!(gone.is_empty());
        std::fs::remove_file(sp.join("cv2/__init__.py")).unwrap();
        std::fs::remove_file(sp.join("nvidia/__init__.py")).unwrap();
        let (_, gone) = scan(sp);
        let names: Vec<&str> = gone.iter().map(|g| g.dist.name.as_str()).collect();
        assert_eq!(names, vec!["opencv-python", "opencv-python-headless"]);
    }
}
