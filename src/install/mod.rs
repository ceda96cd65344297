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
