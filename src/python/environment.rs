//! Python environments: what kind each is and what it holds, decided from disk first.
//!
//! Classification rules (python-environments.md §1c): `pyvenv.cfg` beside or above the
//! interpreter → a virtual environment (`uv = …` key → uv, `virtualenv = …` → virtualenv,
//! else stdlib venv; location tells poetry/pipx apart); `conda-meta/` → conda (`pixi` marker →
//! pixi, `frozen` → frozen); otherwise a base install, whose version comes from the getpath
//! landmark `lib/python3.X/os.py`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::python::version::PythonVersion;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum EnvKind {
    /// `python -m venv`
    Venv,
    Virtualenv,
    UvVenv,
    /// A venv made by poetry (in its cache dir).
    Poetry,
    /// A pipx application venv.
    Pipx,
    /// A conda environment other than a root prefix.
    Conda,
    /// A conda/mamba root ("base") prefix.
    CondaBase,
    Pixi,
    /// A pyenv-installed interpreter (`$PYENV_ROOT/versions/X`).
    Pyenv,
    /// A uv-managed interpreter (`~/.local/share/uv/python/cpython-…`).
    UvManaged,
    /// The OS's Python (`/usr`), Homebrew, python.org framework, …
    System,
    /// A base install kip could not attribute (e.g. `/opt/python3.12`).
    Base,
}

impl EnvKind {
    pub fn is_virtual(self) -> bool {
        matches!(
            self,
            EnvKind::Venv | EnvKind::Virtualenv | EnvKind::UvVenv | EnvKind::Poetry | EnvKind::Pipx
        )
    }

    pub fn is_conda_like(self) -> bool {
        matches!(self, EnvKind::Conda | EnvKind::CondaBase | EnvKind::Pixi)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EnvKind::Venv => "venv",
            EnvKind::Virtualenv => "virtualenv",
            EnvKind::UvVenv => "uv-venv",
            EnvKind::Poetry => "poetry",
            EnvKind::Pipx => "pipx",
            EnvKind::Conda => "conda",
            EnvKind::CondaBase => "conda-base",
            EnvKind::Pixi => "pixi",
            EnvKind::Pyenv => "pyenv",
            EnvKind::UvManaged => "uv-managed",
            EnvKind::System => "system",
            EnvKind::Base => "base",
        }
    }
}

/// Whether user site-packages is on `sys.path` for this environment's interpreter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserSite {
    pub enabled: bool,
    /// `<userbase>/lib/pythonX.Y/site-packages` for this version, whether or not it exists.
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub path: Option<PathBuf>,
}

/// How a fact was established: read from files, or reported by the interpreter itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    Disk,
    Probe,
}

/// One Python environment (a prefix with an interpreter).
#[derive(Clone, Debug, Serialize)]
pub struct Environment {
    /// `sys.prefix`.
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub prefix: PathBuf,
    pub kind: EnvKind,
    /// The environment's own interpreter (`bin/python3`, or the path it was found by).
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub interpreter: PathBuf,
    pub version: Option<PythonVersion>,
    /// `sys.base_prefix` (for a venv: the base install; else the prefix itself).
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub base_prefix: Option<PathBuf>,
    /// For venvs: `pyvenv.cfg` `home`, the directory of the base interpreter.
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub venv_home: Option<PathBuf>,
    #[serde(serialize_with = "crate::pyjson::path_text::vec")]
    pub site_packages: Vec<PathBuf>,
    pub user_site: UserSite,
    pub has_pip: bool,
    pub has_ipykernel: bool,
    pub has_uv: bool,
    /// The PEP 668 `EXTERNALLY-MANAGED` marker that applies, if any.
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub externally_managed: Option<PathBuf>,
    /// Can this user write into the (first) site-packages directory?
    pub writable: bool,
    /// conda-meta/frozen (CEP 22): must not be modified.
    pub frozen: bool,
    /// Conda env name (the directory name under an envs dir) or pixi environment name.
    pub name: Option<String>,
    /// pixi: the manifest from `conda-meta/pixi`.
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub pixi_manifest: Option<PathBuf>,
    /// Something is wrong with it (e.g. a venv whose `home` is gone); human-readable.
    pub problems: Vec<String>,
    pub evidence: Evidence,
}

impl Environment {
    pub fn is_virtual(&self) -> bool {
        self.kind.is_virtual()
    }

    /// Is `other` the same environment? Environments are compared by their prefix directory
    /// after resolution (file identity), never by resolving `bin/python` — in a venv that leads
    /// to the base. pyenv-virtualenv's `versions/NAME` → `versions/X.Y.Z/envs/NAME` and a
    /// merged `/usr` are one env under two names. Debian's `/usr` holds `python3.11` and
    /// `python3.12` side by side, so the minor version is part of the identity.
    pub fn same_env(&self, other: &Environment) -> bool {
        same_prefix(&self.prefix, &other.prefix)
            && match (self.version, other.version) {
                (Some(a), Some(b)) => (a.major, a.minor) == (b.major, b.minor),
                _ => true,
            }
    }

    /// The directory holding the env's console scripts.
    pub fn scripts_dir(&self) -> PathBuf {
        self.prefix.join("bin")
    }

    /// A healthy environment of `kind` at `prefix` (`bin/python`, Python 3.11, pip and
    /// ipykernel present, writable), for unit tests to adjust.
    #[cfg(test)]
    pub fn for_tests(kind: EnvKind, prefix: &str) -> Environment {
        Environment {
            prefix: PathBuf::from(prefix),
            kind,
            interpreter: PathBuf::from(prefix).join("bin/python"),
            version: Some(PythonVersion::new(3, 11, Some(0))),
            base_prefix: None,
            venv_home: None,
            site_packages: vec![],
            user_site: UserSite {
                enabled: false,
                path: None,
            },
            has_pip: true,
            has_ipykernel: true,
            has_uv: false,
            externally_managed: None,
            writable: true,
            frozen: false,
            name: None,
            pixi_manifest: None,
            problems: vec![],
            evidence: Evidence::Disk,
        }
    }
}

/// Are two prefixes one directory (by file identity; by path when either cannot be read)?
/// Inside a [`crate::python::memo::scope`], each path is `stat`ed once.
pub fn same_prefix(a: &Path, b: &Path) -> bool {
    use crate::python::memo::identity;
    match (identity(a), identity(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}
