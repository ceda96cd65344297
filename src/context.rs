//! The world as kip sees it for one invocation: OS, environment variables, working directory,
//! and the interpreter prober (with its cache). Passed by reference to every discovery step
//! instead of reading globals, so a rule can be evaluated for another process's environment.

use std::path::PathBuf;

use crate::envvars::EnvVars;
use crate::platform::Os;
use crate::python::probe::Prober;

pub struct Context {
    pub os: Os,
    pub vars: EnvVars,
    pub cwd: PathBuf,
    pub prober: Prober,
}

impl Context {
    pub fn from_process() -> anyhow::Result<Context> {
        let vars = EnvVars::from_process();
        let cwd = std::env::current_dir()
            .map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}"))?;
        Ok(Context::new(Os::current(), vars, cwd))
    }

    pub fn new(os: Os, vars: EnvVars, cwd: PathBuf) -> Context {
        let prober = Prober::new(cache_dir(&vars), &vars);
        Context {
            os,
            vars,
            cwd,
            prober,
        }
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
