//! PEP 668 "externally managed" environments (python-environments.md §3).
//!
//! The marker is `EXTERNALLY-MANAGED` in the *base* interpreter's
//! `sysconfig.get_path("stdlib")`: for the posix_prefix scheme
//! `{installed_base}/{platlibdir}/pythonX.Y[t]` (cpython Lib/sysconfig), so both `lib` and
//! `lib64` are checked; Debian: `/usr/lib/python3.11/EXTERNALLY-MANAGED`. It never applies
//! inside a virtual environment (pip `check_externally_managed`, uv `is_externally_managed`).
//! An unparsable marker, or one without section or `Error`, still counts (uv).

use std::path::{Path, PathBuf};

use crate::python::version::PythonVersion;

/// The marker of a base install at `base_prefix` for version X.Y, if present.
pub fn marker(base_prefix: &Path, v: PythonVersion) -> Option<PathBuf> {
    marker_in(base_prefix, v, false)
}

/// [`marker`] for a possibly free-threaded build (`lib/python3.13t`).
pub fn marker_in(base_prefix: &Path, v: PythonVersion, free_threaded: bool) -> Option<PathBuf> {
    let t = if free_threaded { "t" } else { "" };
    ["lib", "lib64"]
        .iter()
        .map(|lib| {
            base_prefix
                .join(lib)
                .join(format!("python{}.{}{t}", v.major, v.minor))
                .join("EXTERNALLY-MANAGED")
        })
        .find(|p| p.is_file())
}

/// The message pip would print: `Error-<lang>` (e.g. `Error-de_DE`, then `Error-de`) when a
/// language is given, else `Error`, from the `[externally-managed]` section. `None` when the
/// file has no such message (it still marks the environment as externally managed).
pub fn message(marker: &Path, lang: Option<&str>) -> Option<String> {
    let bytes = crate::files::read(marker).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let mut in_section = false;
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut last: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            in_section = trimmed[1..trimmed.len() - 1].trim() == "externally-managed";
            last = None;
            continue;
        }
        if !in_section || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        // configparser continuation lines are indented.
        if line.starts_with([' ', '\t']) && !trimmed.is_empty() {
            if let Some(i) = last {
                keys[i].1.push('\n');
                keys[i].1.push_str(trimmed);
            }
            continue;
        }
        if let Some((k, v)) = trimmed.split_once(['=', ':']) {
            keys.push((k.trim().to_lowercase(), v.trim().to_string()));
            last = Some(keys.len() - 1);
        }
    }
    let get = |k: &str| {
        keys.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    if let Some(lang) = lang {
        let lang = lang.split('.').next().unwrap_or(lang).to_lowercase();
        let short = lang.split('_').next().unwrap_or(&lang).to_string();
        for l in [lang, short] {
            if let Some(m) = get(&format!("error-{l}")) {
                return Some(m);
            }
        }
    }
    get("error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_marker_in_lib_or_lib64() {
        let d = tempfile::tempdir().unwrap();
        let v = PythonVersion::new(3, 12, None);
        assert!(marker(d.path(), v).is_none());
        let dir = d.path().join("lib64/python3.12");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("EXTERNALLY-MANAGED"),
            "[externally-managed]\nError=no\n",
        )
        .unwrap();
        assert_eq!(marker(d.path(), v), Some(dir.join("EXTERNALLY-MANAGED")));
        assert!(marker_in(d.path(), v, true).is_none());
        let ft = d.path().join("lib/python3.12t");
        std::fs::create_dir_all(&ft).unwrap();
        std::fs::write(ft.join("EXTERNALLY-MANAGED"), "").unwrap();
        assert_eq!(
            marker_in(d.path(), v, true),
            Some(ft.join("EXTERNALLY-MANAGED"))
        );
    }

    #[test]
    fn message_follows_pip() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("EXTERNALLY-MANAGED");
        std::fs::write(
            &m,
            "[externally-managed]\nError=To install Python packages system-wide, try apt install\n python3-xyz, where xyz is the package.\nError-de=Nein\n",
        )
        .unwrap();
        let en = message(&m, None).unwrap();
        assert!(
            en.starts_with("To install") && en.ends_with("is the package."),
            "{en}"
        );
        assert_eq!(message(&m, Some("de_DE.UTF-8")).as_deref(), Some("Nein"));
        assert_eq!(message(&m, Some("fr_FR")), Some(en));
        std::fs::write(&m, b"\xff\xfe garbage").unwrap();
        assert_eq!(message(&m, None), None);
    }
}
