//! What an interpreter reports about itself (the probe's answer).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::python::version::PythonVersion;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InterpreterInfo {
    pub executable: PathBuf,
    #[serde(with = "version_triple")]
    pub version: PythonVersion,
    pub implementation: String,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    pub sys_path: Vec<PathBuf>,
    pub site_packages: Vec<PathBuf>,
    pub user_base: Option<PathBuf>,
    pub user_site: Option<PathBuf>,
    pub enable_user_site: bool,
    pub stdlib: Option<PathBuf>,
    pub scripts: Option<PathBuf>,
    pub externally_managed: Option<PathBuf>,
    pub free_threaded: bool,
    /// `find_spec` origin of pip, ipykernel, IPython, uv (None: not importable).
    pub found: BTreeMap<String, Option<String>>,
}

mod version_triple {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::python::version::PythonVersion;

    pub fn serialize<S: Serializer>(v: &PythonVersion, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq([u16::from(v.major), u16::from(v.minor), v.patch.unwrap_or(0)])
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PythonVersion, D::Error> {
        let v: Vec<u16> = Vec::deserialize(d)?;
        Ok(PythonVersion::new(
            v.first().copied().unwrap_or(0) as u8,
            v.get(1).copied().unwrap_or(0) as u8,
            v.get(2).copied(),
        ))
    }
}
