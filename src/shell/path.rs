//! PATH search, as `execvp` and a shell do it: the first executable regular file named
//! `program` in PATH order. A leaf, so every module that looks a program up (launch rules,
//! shebangs, pyenv, installers, doctor) shares one rule without importing each other.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::envvars::EnvVars;

/// A regular file (symlinks followed) with any execute bit set.
pub fn is_executable_file(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Find `program` on the PATH of `env` (relative to `cwd` for relative entries).
pub fn find_on_path(program: &str, env: &EnvVars, cwd: &Path) -> Option<PathBuf> {
    env.path_dirs()
        .into_iter()
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                cwd.join(dir)
            }
        })
        .map(|dir| dir.join(program))
        .find(|cand| is_executable_file(cand))
}
