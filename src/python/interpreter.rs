//! What an interpreter reports about itself: the answer of kip's fixed probe script
//! (`probe.py`), as uv's `InterpreterInfo` (crates/uv-python/src/interpreter.rs) but limited to
//! what kip needs to place packages and explain imports.
//!
//! Paths travel as JSON strings when they are valid UTF-8 and as `{"hex": "<raw bytes>"}`
//! otherwise (a directory named with Latin-1 bytes must not make the whole probe fail); the same
//! encoding is used in the on-disk cache, so it round-trips.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::python::version::PythonVersion;

/// The script whose answer this is, embedded so kip needs no files at run time (and keyed
/// into the probe cache, so a changed script never reads an old answer).
pub const PROBE_SCRIPT: &str = include_str!("probe.py");

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InterpreterInfo {
    /// `sys.executable`.
    #[serde(with = "wire_path")]
    pub executable: PathBuf,
    /// `sys.version_info[:3]`, always with a patch number.
    #[serde(with = "version_triple")]
    pub version: PythonVersion,
    /// `sys.implementation.name` (`platform.python_implementation()` on 2.7), lowercased.
    pub implementation: String,
    /// `sys.prefix`.
    #[serde(with = "wire_path")]
    pub prefix: PathBuf,
    /// `sys.base_prefix` (`sys.real_prefix` under virtualenv < 20, else `sys.prefix`).
    #[serde(with = "wire_path")]
    pub base_prefix: PathBuf,
    /// `sys.path` without the script directory entry (`''`), which the probe removes.
    #[serde(with = "wire_path_vec")]
    pub sys_path: Vec<PathBuf>,
    /// `site.getsitepackages()`; empty when the interpreter's `site` lacks it (virtualenv < 20
    /// ships its own `site.py`).
    #[serde(with = "wire_path_vec")]
    pub site_packages: Vec<PathBuf>,
    /// `site.getuserbase()`.
    #[serde(with = "wire_path_opt", default)]
    pub user_base: Option<PathBuf>,
    /// `site.getusersitepackages()`, whether or not it exists or is enabled.
    #[serde(with = "wire_path_opt", default)]
    pub user_site: Option<PathBuf>,
    /// `site.ENABLE_USER_SITE`: `True` only. `None` (disabled for security, uid ≠ euid) and
    /// `False` (`-s`, `PYTHONNOUSERSITE`, a venv) both mean off.
    #[serde(deserialize_with = "null_is_false", default)]
    pub enable_user_site: bool,
    /// `sysconfig.get_path("stdlib")`.
    #[serde(with = "wire_path_opt", default)]
    pub stdlib: Option<PathBuf>,
    /// `sysconfig.get_path("scripts")` (Debian's default `posix_local` scheme: `/usr/local/bin`).
    #[serde(with = "wire_path_opt", default)]
    pub scripts: Option<PathBuf>,
    /// The PEP 668 marker in the stdlib dir, when present and not in a virtual environment.
    #[serde(with = "wire_path_opt", default)]
    pub externally_managed: Option<PathBuf>,
    /// A free-threaded build (`Py_GIL_DISABLED`).
    #[serde(default)]
    pub free_threaded: bool,
    /// `importlib.util.find_spec` (`imp.find_module` on 2.7) origin of `pip`, `ipykernel`,
    /// `IPython` and `uv`; `None` when not importable. Finding a spec runs no package code.
    #[serde(default)]
    pub found: BTreeMap<String, Option<String>>,
    /// The PEP 508 marker environment (`packaging.markers.default_environment()`), to
    /// evaluate Requires-Dist markers for this interpreter; `None` if the probe could not
    /// build it.
    #[serde(default)]
    pub markers: Option<BTreeMap<String, String>>,
}

impl InterpreterInfo {
    /// Is `module` importable according to the probe (only the names the probe asks about)?
    pub fn can_import(&self, module: &str) -> bool {
        self.found.get(module).is_some_and(Option::is_some)
    }

    /// `sys.prefix != sys.base_prefix`: running inside a virtual environment.
    pub fn is_virtual(&self) -> bool {
        self.prefix != self.base_prefix
    }
}

fn null_is_false<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

mod version_triple {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::python::version::PythonVersion;

    pub fn serialize<S: Serializer>(v: &PythonVersion, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq([u16::from(v.major), u16::from(v.minor), v.patch.unwrap_or(0)])
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PythonVersion, D::Error> {
        let v: Vec<u16> = Vec::deserialize(d)?;
        let part = |i: usize| -> Result<u8, D::Error> {
            let n = v
                .get(i)
                .copied()
                .ok_or_else(|| serde::de::Error::custom("version needs major and minor"))?;
            u8::try_from(n).map_err(|_| serde::de::Error::custom("version part out of range"))
        };
        Ok(PythonVersion::new(part(0)?, part(1)?, v.get(2).copied()))
    }
}

/// One path on the wire: a string, or `{"hex": …}` for bytes that are not UTF-8.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum WirePath {
    Text(String),
    Bytes { hex: String },
}

impl WirePath {
    fn from_path(p: &std::path::Path) -> WirePath {
        match p.to_str() {
            Some(s) => WirePath::Text(s.to_string()),
            None => {
                use std::os::unix::ffi::OsStrExt;
                let hex = p
                    .as_os_str()
                    .as_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                WirePath::Bytes { hex }
            }
        }
    }

    fn into_path<E: serde::de::Error>(self) -> Result<PathBuf, E> {
        match self {
            WirePath::Text(s) => Ok(PathBuf::from(s)),
            WirePath::Bytes { hex } => {
                use std::os::unix::ffi::OsStringExt;
                if hex.len() % 2 != 0 || !hex.is_ascii() {
                    return Err(E::custom("odd or non-ASCII hex path"));
                }
                let bytes = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(E::custom)?;
                Ok(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
            }
        }
    }
}

mod wire_path {
    use super::WirePath;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::path::PathBuf;

    pub fn serialize<S: Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
        WirePath::from_path(p).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        WirePath::deserialize(d)?.into_path()
    }
}

mod wire_path_opt {
    use super::WirePath;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::path::PathBuf;

    pub fn serialize<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
        p.as_deref().map(WirePath::from_path).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
        Option::<WirePath>::deserialize(d)?
            .map(WirePath::into_path)
            .transpose()
    }
}

mod wire_path_vec {
    use super::WirePath;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::path::PathBuf;

    pub fn serialize<S: Serializer>(v: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|p| WirePath::from_path(p))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
        Vec::<WirePath>::deserialize(d)?
            .into_iter()
            .map(WirePath::into_path)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"executable": "/v/bin/python", "version": [3, 11, 7],
        "implementation": "cpython", "prefix": "/v", "base_prefix": "/usr",
        "sys_path": ["/usr/lib/python311.zip", {"hex": "2f7466ff"}], "site_packages": [],
        "user_base": "/h/.local", "user_site": null, "enable_user_site": null,
        "stdlib": "/usr/lib/python3.11", "scripts": "/v/bin", "externally_managed": null,
        "free_threaded": false, "found": {"pip": null, "uv": "/v/lib/uv/__init__.py"}}"#;

    #[test]
    fn parses_the_probe_answer_with_byte_paths_and_null_user_site() {
        let info: InterpreterInfo = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(info.version, PythonVersion::new(3, 11, Some(7)));
        assert!(!info.enable_user_site);
        assert!(info.is_virtual());
        assert!(info.can_import("uv") && !info.can_import("pip") && !info.can_import("x"));
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(info.sys_path[1].as_os_str().as_bytes(), b"/tf\xff");
        // What the cache writes reads back identically.
        let again: InterpreterInfo =
            serde_json::from_str(&serde_json::to_string(&info).unwrap()).unwrap();
        assert_eq!(again, info);
    }

    #[test]
    fn rejects_broken_answers_without_panicking() {
        for bad in [
            r#"{"executable": "/p", "version": [3]}"#,
            r#"{"executable": {"hex": "zz"}, "version": [3, 1, 1]}"#,
            r#"{"executable": "/p", "version": [300, 1, 1]}"#,
            "[]",
        ] {
            assert!(
                serde_json::from_str::<InterpreterInfo>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
