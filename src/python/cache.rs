//! The probe cache: one small JSON file per key under `<cache>/interpreters-v1/`, keyed on
//! exactly what changes the answer — the path as given (every venv's `bin/python` resolves to
//! the same base binary), the canonical path and its ctime, the `pyvenv.cfg` mtime, the
//! variables that alter `sys.path` (PYTHONPATH, PYTHONHOME, PYTHONNOUSERSITE, PYTHONUSERBASE,
//! HOME) and the probe script itself. Written atomically; a garbled entry is a miss.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::envvars::EnvVars;
use crate::python::classify::pyvenv_cfg_for;
use crate::python::interpreter::InterpreterInfo;

const BUCKET: &str = "interpreters-v1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheKey(String);

impl CacheKey {
    pub fn new(python: &Path, vars: &EnvVars) -> Option<CacheKey> {
        let canonical = std::fs::canonicalize(python).ok()?;
        let meta = std::fs::metadata(&canonical).ok()?;
        let cfg_mtime = pyvenv_cfg_for(python)
            .and_then(|c| std::fs::metadata(c).ok())
            .map(|m| (m.mtime(), m.mtime_nsec()));
        let mut h = Sha256::new();
        h.update(python.as_os_str().as_encoded_bytes());
        h.update([0]);
        h.update(canonical.as_os_str().as_encoded_bytes());
        h.update(format!(
            "\0{}:{}\0{cfg_mtime:?}\0",
            meta.ctime(),
            meta.ctime_nsec()
        ));
        for (k, v) in vars.python_affecting() {
            h.update(format!("{k}={v}\0"));
        }
        h.update(crate::python::probe::PROBE_SCRIPT);
        Some(CacheKey(format!("{:x}", h.finalize())))
    }
}

pub struct ProbeCache {
    dir: PathBuf,
}

impl ProbeCache {
    pub fn new(root: PathBuf) -> ProbeCache {
        ProbeCache {
            dir: root.join(BUCKET),
        }
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.0))
    }

    pub fn get(&self, key: &CacheKey) -> Option<InterpreterInfo> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn put(&self, key: &CacheKey, info: &InterpreterInfo) {
        let Ok(bytes) = serde_json::to_vec(info) else {
            return;
        };
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let Ok(mut tmp) = tempfile::NamedTempFile::new_in(&self.dir) else {
            return;
        };
        if tmp.write_all(&bytes).is_ok() {
            let _ = tmp.persist(self.path(key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_changes_with_the_path_and_variables() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("python3.11");
        std::fs::write(&real, b"\x7fELF").unwrap();
        let a = d.path().join("a");
        std::os::unix::fs::symlink(&real, &a).unwrap();
        let v = EnvVars::from_pairs([("HOME", "/h")]);
        let k1 = CacheKey::new(&real, &v).unwrap();
        let k2 = CacheKey::new(&a, &v).unwrap();
        assert_ne!(k1, k2, "the path as given is part of the key");
        let v2 = EnvVars::from_pairs([("HOME", "/h"), ("PYTHONUSERBASE", "/ub")]);
        assert_ne!(k1, CacheKey::new(&real, &v2).unwrap());
        assert_eq!(
            k1,
            CacheKey::new(
                &real,
                &EnvVars::from_pairs([("HOME", "/h"), ("OTHER", "x")])
            )
            .unwrap()
        );
    }
}
