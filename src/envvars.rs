//! A snapshot of the process environment that discovery reads instead of `std::env`.
//!
//! Every rule kip re-implements (Jupyter's data path, user site, pyenv's version lookup) is a
//! function of environment variables. Taking them from one value rather than from the live
//! process lets the same code answer "what would a child with this environment see" (a kernel
//! with its kernel.json `env`, a Jupyter server whose `/proc/<pid>/environ` we read) and keeps
//! the rules unit-testable without touching the real environment.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::OnceLock;

#[derive(Clone, Debug, Default)]
pub struct EnvVars {
    vars: BTreeMap<OsString, OsString>,
    /// [`EnvVars::digest`], computed once: a pass over a thousand kernels asks for it per
    /// kernel, and every change below forgets it.
    digest: OnceLock<u64>,
}

impl PartialEq for EnvVars {
    fn eq(&self, other: &Self) -> bool {
        self.vars == other.vars
    }
}

impl Eq for EnvVars {}

impl EnvVars {
    /// The environment of this process.
    pub fn from_process() -> Self {
        Self::from_map(std::env::vars_os().collect())
    }

    pub fn from_pairs<K: Into<OsString>, V: Into<OsString>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self::from_map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// Parse a NUL-separated `KEY=VALUE` block, as found in `/proc/<pid>/environ`.
    pub fn from_environ_block(bytes: &[u8]) -> Self {
        use std::os::unix::ffi::OsStrExt;
        let vars = bytes
            .split(|b| *b == 0)
            .filter(|entry| !entry.is_empty())
            .filter_map(|entry| {
                let eq = entry.iter().position(|b| *b == b'=')?;
                Some((
                    OsStr::from_bytes(&entry[..eq]).to_os_string(),
                    OsStr::from_bytes(&entry[eq + 1..]).to_os_string(),
                ))
            })
            .collect();
        Self::from_map(vars)
    }

    fn from_map(vars: BTreeMap<OsString, OsString>) -> Self {
        Self {
            vars,
            digest: OnceLock::new(),
        }
    }

    /// A hash of every variable: the part of a memo key that stands for this environment.
    pub fn digest(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        *self.digest.get_or_init(|| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            self.vars.hash(&mut h);
            h.finish()
        })
    }

    pub fn get(&self, key: &str) -> Option<&OsStr> {
        self.vars.get(OsStr::new(key)).map(OsString::as_os_str)
    }

    /// The value as UTF-8 text, if set and valid.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(OsStr::to_str)
    }

    /// The value if set and not empty: most tools treat `X=` like an unset `X`.
    pub fn get_nonempty(&self, key: &str) -> Option<&OsStr> {
        self.get(key).filter(|v| !v.is_empty())
    }

    pub fn contains(&self, key: &str) -> bool {
        self.vars.contains_key(OsStr::new(key))
    }

    pub fn set(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) {
        self.vars.insert(key.into(), value.into());
        self.digest = OnceLock::new();
    }

    pub fn remove(&mut self, key: &str) {
        if self.vars.remove(OsStr::new(key)).is_some() {
            self.digest = OnceLock::new();
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// jupyter_core's `envset`: unset → `default`; set → true unless the lowercased value is
    /// one of `no n false off 0 0.0`. An empty string is therefore *true*.
    pub fn envset(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(v) => {
                let v = v.to_string_lossy().to_lowercase();
                !matches!(v.as_str(), "no" | "n" | "false" | "off" | "0" | "0.0")
            }
        }
    }

    /// `HOME` as given (not resolved).
    pub fn home(&self) -> Option<PathBuf> {
        self.get_nonempty("HOME").map(PathBuf::from)
    }

    /// The directories of `PATH`, in order; an empty entry means the current directory.
    pub fn path_dirs(&self) -> Vec<PathBuf> {
        match self.get("PATH") {
            None => Vec::new(),
            Some(p) => std::env::split_paths(p)
                .map(|d| {
                    if d.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        d
                    }
                })
                .collect(),
        }
    }

    /// The variables that change what an interpreter reports about itself; part of every
    /// probe cache key.
    pub fn python_affecting(&self) -> Vec<(String, String)> {
        const KEYS: [&str; 5] = [
            "PYTHONPATH",
            "PYTHONHOME",
            "PYTHONNOUSERSITE",
            "PYTHONUSERBASE",
            "HOME",
        ];
        KEYS.iter()
            .filter_map(|k| {
                self.get(k)
                    .map(|v| (k.to_string(), v.to_string_lossy().into_owned()))
            })
            .collect()
    }

    /// The pairs, for handing to `Command::envs` after `env_clear`.
    pub fn to_vec(&self) -> Vec<(OsString, OsString)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_follows_every_change() {
        let mut e = EnvVars::from_pairs([("A", "1")]);
        let first = e.digest();
        e.set("B", "2");
        let with_b = e.digest();
        assert_ne!(first, with_b, "a new variable is another environment");
        e.set("B", "3");
        assert_ne!(with_b, e.digest(), "a changed value is another environment");
        e.remove("B");
        assert_eq!(first, e.digest(), "the same variables, the same digest");
        assert_eq!(e.clone().digest(), first);
    }

    #[test]
    fn envset_follows_jupyter_core() {
        let mut e = EnvVars::default();
        assert!(!e.envset("X", false));
        assert!(e.envset("X", true));
        for (v, want) in [
            ("", true),
            ("1", true),
            ("yes", true),
            ("0", false),
            ("no", false),
            ("N", false),
            ("OFF", false),
            ("False", false),
            ("0.0", false),
            ("00", true),
        ] {
            e.set("X", v);
            assert_eq!(e.envset("X", false), want, "value {v:?}");
        }
    }

    #[test]
    fn environ_block_parses_and_keeps_equals_in_values() {
        let e = EnvVars::from_environ_block(b"A=1\0B=x=y\0\0EMPTY=\0");
        assert_eq!(e.get_str("A"), Some("1"));
        assert_eq!(e.get_str("B"), Some("x=y"));
        assert_eq!(e.get_str("EMPTY"), Some(""));
        assert!(e.get_nonempty("EMPTY").is_none());
    }

    #[test]
    fn path_dirs_keep_order_and_map_empty_to_cwd() {
        let e = EnvVars::from_pairs([("PATH", "/a::/b")]);
        assert_eq!(
            e.path_dirs(),
            vec![PathBuf::from("/a"), PathBuf::from("."), PathBuf::from("/b")]
        );
    }
}
