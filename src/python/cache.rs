//! The probe cache: one small JSON file per key under `<cache dir>/interpreters-v1/`, named by
//! the SHA-256 of the key.
//!
//! The key is exactly what changes the probe's answer (python-environments.md §2, uv's
//! `interpreter-v4` bucket, plus kip's additions):
//! * the path *as given* — every venv's `bin/python` resolves to the same base binary, and
//!   `sys.prefix` depends on the name it was started by;
//! * the canonical path and its ctime in ns (a reinstall or upgrade replaces the binary);
//! * the mtime of the `pyvenv.cfg` beside or above the given path (`home`, system site);
//! * the variables that alter `sys.path` and the user site: [`EnvVars::python_affecting`];
//! * the probe script itself (its text), so a new kip never reads an old schema.
//!
//! Not cached at all: pyenv shims (never run) and `#!` scripts. A wrapper script's answer
//! depends on what it decides to `exec` (other variables, files it reads, the global version
//! of a version manager), which no key can capture — uv likewise caches only when the
//! executable is the same file as its `sys.executable`.
//!
//! Entries are written atomically (temp file in the same directory + rename); an unreadable or
//! garbled entry is a miss and is replaced by the next write.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::envvars::EnvVars;
use crate::python::interpreter::InterpreterInfo;
use crate::python::layout::{is_script, pyvenv_cfg_for};

/// The bucket; bump when [`InterpreterInfo`]'s meaning changes (the script text is keyed too).
pub const BUCKET: &str = "interpreters-v1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheKey {
    /// Hex SHA-256 of `material`; the file name.
    digest: String,
}

impl CacheKey {
    /// The key for probing `python` (absolute, as given) under `vars`; `None` when the answer
    /// must not be cached (missing file, `#!` script).
    pub fn new(python: &Path, vars: &EnvVars) -> Option<CacheKey> {
        if is_script(python) {
            return None;
        }
        let canonical = std::fs::canonicalize(python).ok()?;
        let meta = std::fs::metadata(&canonical).ok()?;
        let cfg = pyvenv_cfg_for(python).and_then(|c| {
            let m = std::fs::metadata(&c).ok()?;
            Some((c, m.mtime(), m.mtime_nsec()))
        });
        let mut h = Sha256::new();
        let mut field = |name: &str, bytes: &[u8]| {
            h.update(name.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(
            "script",
            crate::python::interpreter::PROBE_SCRIPT.as_bytes(),
        );
        field("given", python.as_os_str().as_encoded_bytes());
        field("canonical", canonical.as_os_str().as_encoded_bytes());
        field(
            "ctime",
            format!("{}.{:09}", meta.ctime(), meta.ctime_nsec()).as_bytes(),
        );
        match &cfg {
            Some((path, s, ns)) => {
                field("pyvenv.cfg", path.as_os_str().as_encoded_bytes());
                field("pyvenv.cfg-mtime", format!("{s}.{ns:09}").as_bytes());
            }
            None => field("pyvenv.cfg", b""),
        }
        for (k, v) in vars.python_affecting() {
            field(&k, v.as_bytes());
        }
        Some(CacheKey {
            digest: format!("{:x}", h.finalize()),
        })
    }

    pub fn digest(&self) -> &str {
        &self.digest
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    info: InterpreterInfo,
}

pub struct ProbeCache {
    dir: PathBuf,
}

impl ProbeCache {
    /// A cache under `root` (kip's cache dir); nothing is created until the first write.
    pub fn new(root: PathBuf) -> ProbeCache {
        ProbeCache {
            dir: root.join(BUCKET),
        }
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.digest))
    }

    /// The cached answer; `None` for a miss, including an unreadable or garbled entry.
    pub fn get(&self, key: &CacheKey) -> Option<InterpreterInfo> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        (entry.key == key.digest).then_some(entry.info)
    }

    /// Store an answer. Failures (read-only cache dir, full disk) are ignored: the cache only
    /// saves time.
    pub fn put(&self, key: &CacheKey, info: &InterpreterInfo) {
        let entry = Entry {
            key: key.digest.clone(),
            info: info.clone(),
        };
        let Ok(bytes) = serde_json::to_vec(&entry) else {
            return;
        };
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let Ok(mut tmp) = tempfile::NamedTempFile::new_in(&self.dir) else {
            return;
        };
        if tmp.write_all(&bytes).and_then(|_| tmp.flush()).is_ok() {
            let _ = tmp.persist(self.path(key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::version::PythonVersion;

    fn info(prefix: &str) -> InterpreterInfo {
        InterpreterInfo {
            executable: PathBuf::from(prefix).join("bin/python"),
            version: PythonVersion::new(3, 11, Some(7)),
            implementation: "cpython".into(),
            prefix: PathBuf::from(prefix),
            base_prefix: PathBuf::from(prefix),
            sys_path: vec![],
            site_packages: vec![],
            user_base: None,
            user_site: None,
            enable_user_site: true,
            stdlib: None,
            scripts: None,
            externally_managed: None,
            free_threaded: false,
            found: Default::default(),
            markers: None,
        }
    }

    #[test]
    fn key_changes_with_what_changes_the_answer() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("python3.11");
        std::fs::write(&real, b"\x7fELF").unwrap();
        let venv = d.path().join("venv");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        let a = venv.join("bin/python");
        std::os::unix::fs::symlink(&real, &a).unwrap();
        let v = EnvVars::from_pairs([("HOME", "/h")]);
        let k_real = CacheKey::new(&real, &v).unwrap();
        let k_a = CacheKey::new(&a, &v).unwrap();
        assert_ne!(k_real, k_a, "the path as given is part of the key");
        assert_eq!(k_a, CacheKey::new(&a, &v).unwrap(), "stable");

        // A pyvenv.cfg appearing (or its mtime changing) changes the key.
        let cfg = venv.join("pyvenv.cfg");
        std::fs::write(&cfg, "home = /x\n").unwrap();
        let k_cfg = CacheKey::new(&a, &v).unwrap();
        assert_ne!(k_a, k_cfg);
        let f = std::fs::File::options().write(true).open(&cfg).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_ne!(k_cfg, CacheKey::new(&a, &v).unwrap());

        // Variables: only those that alter the answer.
        for (k, val) in [
            ("PYTHONUSERBASE", "/ub"),
            ("PYTHONPATH", "/pp"),
            ("PYTHONNOUSERSITE", "1"),
            ("PYTHONHOME", "/ph"),
        ] {
            let v2 = EnvVars::from_pairs([("HOME", "/h"), (k, val)]);
            assert_ne!(k_real, CacheKey::new(&real, &v2).unwrap(), "{k}");
        }
        let other = EnvVars::from_pairs([("HOME", "/h"), ("OTHER", "x")]);
        assert_eq!(k_real, CacheKey::new(&real, &other).unwrap());
        assert_ne!(
            k_real,
            CacheKey::new(&real, &EnvVars::from_pairs([("HOME", "/h2")])).unwrap()
        );

        // A new binary (ctime) changes it.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(&real, b"\x7fELF2").unwrap();
        assert_ne!(k_real, CacheKey::new(&real, &v).unwrap());
    }

    #[test]
    fn scripts_and_missing_files_are_not_cached() {
        let d = tempfile::tempdir().unwrap();
        let s = d.path().join("python3");
        std::fs::write(&s, "#!/bin/sh\nexec /usr/bin/python3 \"$@\"\n").unwrap();
        let v = EnvVars::default();
        assert!(is_script(&s));
        assert!(CacheKey::new(&s, &v).is_none());
        assert!(CacheKey::new(&d.path().join("nope"), &v).is_none());
        let empty = d.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        assert!(!is_script(&empty));
    }

    #[test]
    fn round_trip_and_garbled_entries_are_misses_then_replaced() {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("python3");
        std::fs::write(&bin, b"\x7fELF").unwrap();
        let key = CacheKey::new(&bin, &EnvVars::default()).unwrap();
        let cache = ProbeCache::new(d.path().join("cache"));
        assert!(cache.get(&key).is_none());
        cache.put(&key, &info("/p"));
        assert_eq!(cache.get(&key), Some(info("/p")));
        let file = cache.path(&key);
        std::fs::write(&file, b"{\"key\": 1, garbage").unwrap();
        assert!(cache.get(&key).is_none());
        cache.put(&key, &info("/q"));
        assert_eq!(cache.get(&key), Some(info("/q")));
        // An entry written under another key (renamed file) is not trusted.
        let other = d.path().join("cache").join(BUCKET).join("x.json");
        std::fs::copy(&file, &other).unwrap();
        let k2 = CacheKey { digest: "x".into() };
        assert!(cache.get(&k2).is_none());
    }

    #[test]
    fn no_cache_dir_is_harmless() {
        let cache = ProbeCache::new(PathBuf::from("/proc/kip-cannot-write-here"));
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("python3");
        std::fs::write(&bin, b"\x7fELF").unwrap();
        let key = CacheKey::new(&bin, &EnvVars::default()).unwrap();
        cache.put(&key, &info("/p"));
        assert!(cache.get(&key).is_none());
    }
}
