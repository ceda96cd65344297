//! PEP 668: the `EXTERNALLY-MANAGED` marker in the *base* interpreter's stdlib directory
//! (`{installed_base}/{platlibdir}/pythonX.Y`; Debian: `/usr/lib/python3.11/EXTERNALLY-MANAGED`).
//! Never applies inside a virtual environment (pip `check_externally_managed`).

use std::path::{Path, PathBuf};

use crate::python::version::PythonVersion;

pub fn marker(base_prefix: &Path, v: PythonVersion) -> Option<PathBuf> {
    ["lib", "lib64"]
        .iter()
        .map(|lib| {
            base_prefix
                .join(lib)
                .join(format!("python{}.{}", v.major, v.minor))
                .join("EXTERNALLY-MANAGED")
        })
        .find(|p| p.is_file())
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
    }
}
