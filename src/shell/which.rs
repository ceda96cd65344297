//! PATH search as a shell does it, deduplicated by file identity (Debian's merged /usr puts
//! `/bin` and `/usr/bin` on PATH as two names of one directory), with symlink chains, and the
//! Python each match really runs — through shebangs and pyenv shims, never by running them.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::envvars::EnvVars;
use crate::python::classify;
use crate::python::environment::Environment;
use crate::python::pyenv::{self, ShimResolution};
use crate::python::shebang::{self, ScriptInterpreter};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum MatchKind {
    Binary,
    Script { shebang: Option<String> },
    PyenvShim { pyenv: ShimResolution },
}

#[derive(Clone, Debug, Serialize)]
pub struct Match {
    pub path: PathBuf,
    /// The same file reached through other PATH entries.
    pub also_at: Vec<PathBuf>,
    /// Each symlink hop until the final file.
    pub symlink_chain: Vec<PathBuf>,
    #[serde(flatten)]
    pub kind: MatchKind,
    pub interpreter: Option<PathBuf>,
    pub environment: Option<Environment>,
}

fn executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn symlink_chain(p: &Path) -> Vec<PathBuf> {
    let mut chain = Vec::new();
    let mut cur = p.to_path_buf();
    for _ in 0..32 {
        let Ok(target) = std::fs::read_link(&cur) else {
            break;
        };
        let next = if target.is_absolute() {
            target
        } else {
            cur.parent().unwrap_or(Path::new("/")).join(target)
        };
        chain.push(next.clone());
        cur = next;
    }
    chain
}

fn is_python_binary_name(name: &str) -> bool {
    name.starts_with("python") || name.starts_with("pypy")
}

/// The Python a command file runs (itself, for an interpreter).
pub fn interpreter_of(ctx: &Context, env: &EnvVars, found: &Path) -> Option<PathBuf> {
    let name = found.file_name()?.to_string_lossy().into_owned();
    if pyenv::shim_root(found).is_some() {
        let sub = Context::new(ctx.os, env.clone(), ctx.cwd.clone());
        let exe = pyenv::resolve_shim(&sub, found, &name).executable?;
        // The shim resolves to the version's own `pip`, `ipython`, … script: follow it.
        return interpreter_of(ctx, env, &exe);
    }
    match shebang::interpreter_for_script(ctx, found) {
        ScriptInterpreter::Python(p) => Some(p),
        ScriptInterpreter::ViaPath { resolved, .. } => resolved,
        ScriptInterpreter::Binary if is_python_binary_name(&name) => Some(found.to_path_buf()),
        _ => None,
    }
}

/// Every match of `program` on PATH, in order.
pub fn which_all(ctx: &Context, program: &str) -> Vec<Match> {
    which_all_in(ctx, &ctx.vars, program)
}

pub fn which_all_in(ctx: &Context, env: &EnvVars, program: &str) -> Vec<Match> {
    let mut out: Vec<Match> = Vec::new();
    let mut ids: Vec<(u64, u64)> = Vec::new();
    let mut dir_ids: Vec<(u64, u64)> = Vec::new();
    for dir in env.path_dirs() {
        let dir = if dir.is_absolute() {
            dir
        } else {
            ctx.cwd.join(dir)
        };
        if let Ok(m) = std::fs::metadata(&dir) {
            let id = (m.dev(), m.ino());
            if dir_ids.contains(&id) {
                // The same directory under another name: record the alias on its match.
                let alias = dir.join(program);
                if let Some(i) = out.iter().position(|m| {
                    m.path
                        .parent()
                        .and_then(|p| std::fs::metadata(p).ok())
                        .is_some_and(|pm| (pm.dev(), pm.ino()) == id)
                }) {
                    if alias.exists() && !out[i].also_at.contains(&alias) {
                        out[i].also_at.push(alias);
                    }
                }
                continue;
            }
            dir_ids.push(id);
        }
        let p = dir.join(program);
        if !executable(&p) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        let id = (meta.dev(), meta.ino());
        if let Some(i) = ids.iter().position(|x| *x == id) {
            out[i].also_at.push(p);
            continue;
        }
        ids.push(id);
        let kind = if pyenv::shim_root(&p).is_some() {
            let sub = Context::new(ctx.os, env.clone(), ctx.cwd.clone());
            MatchKind::PyenvShim {
                pyenv: pyenv::resolve_shim(&sub, &p, program),
            }
        } else {
            match shebang::read(&p) {
                Ok(Some(sb)) => MatchKind::Script {
                    shebang: Some(sb.raw),
                },
                _ => MatchKind::Binary,
            }
        };
        let interpreter = interpreter_of(ctx, env, &p);
        let environment = interpreter
            .as_deref()
            .and_then(|i| classify::classify_interpreter(ctx, i));
        out.push(Match {
            symlink_chain: symlink_chain(&p),
            path: p,
            also_at: Vec::new(),
            kind,
            interpreter,
            environment,
        });
    }
    out
}

/// `jupyter-<sub>` found as jupyter_core's `command.py` finds it: the directory of the
/// `jupyter` path as given, then its realpath's directory, then PATH.
pub fn find_subcommand(ctx: &Context, jupyter: &Path, sub: &str) -> Option<PathBuf> {
    let name = format!("jupyter-{sub}");
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(d) = jupyter.parent() {
        dirs.push(d.to_path_buf());
    }
    if let Some(d) = std::fs::canonicalize(jupyter)
        .ok()
        .and_then(|r| r.parent().map(Path::to_path_buf))
    {
        dirs.push(d);
    }
    dirs.extend(ctx.vars.path_dirs());
    dirs.into_iter()
        .map(|d| d.join(&name))
        .find(|p| executable(p))
}
