//! The world as kip sees it for one invocation: OS, environment variables, working directory.
//! Passed by reference to every discovery step instead of reading globals, so a rule can be
//! evaluated for another process's environment. Services (the interpreter prober and its
//! cache) are passed explicitly to the few steps that run an interpreter, as uv passes `&Cache`
//! to `Interpreter::query`, so this leaf imports nothing of kip but the other leaves.

use std::path::PathBuf;

use crate::envvars::EnvVars;
use crate::platform::Os;

pub struct Context {
    pub os: Os,
    pub vars: EnvVars,
    pub cwd: PathBuf,
}

impl Context {
    pub fn from_process() -> anyhow::Result<Context> {
        let vars = EnvVars::from_process();
        let cwd = std::env::current_dir()
            .map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}"))?;
        Ok(Context::new(Os::current(), vars, cwd))
    }

    pub fn new(os: Os, vars: EnvVars, cwd: PathBuf) -> Context {
        Context { os, vars, cwd }
    }

    /// `HOME` as given (jupyter_core resolves it; callers that need that call [`Self::home_resolved`]).
    pub fn home(&self) -> Option<PathBuf> {
        self.vars.home()
    }

    /// `Path("~").expanduser().resolve()`: symlinks resolved, as jupyter_core does.
    pub fn home_resolved(&self) -> Option<PathBuf> {
        let h = self.home()?;
        Some(std::fs::canonicalize(&h).unwrap_or(h))
    }
}

/// kip's cache: `KIP_CACHE_DIR`, else `$XDG_CACHE_HOME/kip`, else `~/.cache/kip`.
pub fn cache_dir(vars: &EnvVars) -> Option<PathBuf> {
    if let Some(d) = vars.get_nonempty("KIP_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = vars.get_nonempty("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("kip"));
    }
    vars.home().map(|h| h.join(".cache").join("kip"))
}
