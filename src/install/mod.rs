//! `kip install`: the pure parts — what was asked for, where packages come from, and the
//! exact installer command lines. Choosing the target, choosing the installer and running
//! it (with the lock, the timeout and the import proof) live with the lead's code; nothing in
//! these files starts a process.
//!
//! | file | owns | rule it keeps (PRODUCT.md, "Rules that are never broken") |
//! |---|---|---|
//! | `names.rs` | import name → distribution (`sklearn` → `scikit-learn`), PEP 503 and conda name forms | never `pip install <import name>` blindly: PyPI's `serial`, `jwt` are unrelated projects (python-environments.md §5) |
//! | `requirement.rs` | parsing a typed requirement (PEP 508, URL, local path); its conda match-spec form | a typed requirement starting with `-` is refused; paths and URLs accepted as pip accepts them |
//! | `index.rs` | pip's index configuration (pip.conf files, `PIP_*`) and its translation into uv flags | the user's index settings are honoured, with kip's flags first, then uv's own, then pip's; the index in use is printed |
//! | `target.rs` | which environment an action targets (`--kernel`, `--python`, `--prefix`, `--env`, `--notebook`, inside a kernel, the picker) | inside a kernel, never a prompt |
//! | `plan.rs` | the installer choice and the guards (PEP 668, frozen, pixi, not writable) | no sudo; `--break-system-packages` only when typed |
//! | `changes.rs` | the env's distributions before and after an install: added, replaced, removed | a running kernel is told to restart when it may hold something replaced or removed |
//! | `satisfied.rs` | "already satisfied" from disk: the requested distributions and their whole Requires-Dist tree at accepted versions | a no-op never skips work the installer would have done: any doubt runs the installer |
//! | `run.rs`, `lock.rs` | running an installer live in its own process group with Ctrl-C forwarded; one installer per env | installs into one environment are serialized |
//! | `verify.rs` | the import proof | a local `X.py` must not fake a pass |
//! | `commands.rs` | argv of every uv, pip, ensurepip, conda/mamba/micromamba and pixi call; conda's "not in the channels" error | no shell, no `sudo`, `--break-system-packages` only when typed; raw `--` arguments only to the primary installer |

use std::path::PathBuf;

pub mod changes;
pub mod commands;
pub mod index;
pub mod journal;
pub mod lock;
pub mod names;
pub mod plan;
pub mod requirement;
pub mod run;
pub mod satisfied;
pub mod target;
pub mod tools;
pub mod verify;

pub use commands::{CondaTool, InstallOptions};
pub use index::{IndexFlags, IndexSettings};
pub use names::{ImportMapping, MappingSource};
pub use requirement::{Requirement, RequirementError};

/// The requirement to install for what the user typed, after import-name mapping
/// (`kip install sklearn>=1.3` → `scikit-learn>=1.3`), with the mapping when it renamed
/// something (for kip to print). Only named requirements are mapped; `exact` (`--exact`)
/// turns mapping off. `local` is as for [`names::map_import`].
pub fn map_requirement(
    req: &Requirement,
    local: &[(String, String, PathBuf)],
    exact: bool,
) -> (Requirement, Option<ImportMapping>) {
    let Requirement::Named { name, .. } = req else {
        return (req.clone(), None);
    };
    if exact {
        return (req.clone(), None);
    }
    let mapping = names::map_import(name, local);
    if mapping.renames() {
        (req.with_name(&mapping.distribution), Some(mapping))
    } else {
        (req.clone(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn req(raw: &str) -> Requirement {
        requirement::parse(raw, Path::new("/nonexistent-kip-cwd")).expect("valid requirement")
    }

    #[test]
    fn import_names_become_distributions_unless_exact() {
        let (r, m) = map_requirement(&req("sklearn[alldeps]>=1.3"), &[], false);
        assert_eq!(r.raw(), "scikit-learn[alldeps]>=1.3");
        assert_eq!(m.map(|m| m.source), Some(MappingSource::BuiltinTable));

        let (r, m) = map_requirement(&req("sklearn"), &[], true);
        assert_eq!(r.raw(), "sklearn");
        assert!(m.is_none());

        let (r, m) = map_requirement(&req("numpy"), &[], false);
        assert_eq!(r.raw(), "numpy");
        assert!(m.is_none());

        // PyYAML spelled differently is not a rename
        let (r, m) = map_requirement(&req("pyyaml"), &[], false);
        assert_eq!(r.raw(), "pyyaml");
        assert!(m.is_none());

        let url = req("https://e.com/yaml-1.0-py3-none-any.whl");
        assert_eq!(map_requirement(&url, &[], false), (url.clone(), None));
    }
}
