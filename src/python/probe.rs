//! Running kip's fixed probe script in an interpreter, only when disk cannot decide, in
//! parallel, with a timeout, and caching the answer (`cache.rs`).
//!
//! Never runs a pyenv shim (`<root>/shims/…`: its answer depends on the cwd and version files,
//! read statically by `pyenv.rs`), and an interpreter that timed out is not run again in the
//! same invocation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::envvars::EnvVars;
use crate::platform::Os;
use crate::process::{self, RunError};
use crate::python::cache::{CacheKey, ProbeCache};
use crate::python::interpreter::InterpreterInfo;

pub const PROBE_SCRIPT: &str = include_str!("probe.py");

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProbeError {
    #[error("{0} is a pyenv shim; kip resolves shims from their files and never runs them")]
    Shim(PathBuf),
    #[error("{0} did not answer within {1} ms (KIP_PROBE_TIMEOUT_MS) and was killed")]
    TimedOut(PathBuf, u128),
    #[error("{0} timed out earlier in this run; not run again")]
    TimedOutBefore(PathBuf),
    #[error("{0}: {1}")]
    Failed(PathBuf, String),
}

pub struct Prober {
    cache: Option<ProbeCache>,
    vars: EnvVars,
    memo: Mutex<HashMap<PathBuf, Result<Arc<InterpreterInfo>, ProbeError>>>,
    runs: AtomicUsize,
}

/// On macOS, `/usr/bin/python3` is Apple's xcode-select stub unless the Command Line Tools are
/// installed: running it opens an install dialog (python-environments.md §1b). Pure decision;
/// the caller supplies whether `xcode-select -p` succeeds.
pub fn may_run(os: Os, python: &Path, command_line_tools: impl FnOnce() -> bool) -> bool {
    !(os == Os::MacOs && python == Path::new("/usr/bin/python3")) || command_line_tools()
}

/// Is `path` inside a pyenv `shims` directory?
pub fn is_pyenv_shim(path: &Path) -> bool {
    path.parent()
        .is_some_and(|d| d.file_name().is_some_and(|n| n == "shims"))
        && std::fs::read_to_string(path).is_ok_and(|t| t.contains("pyenv"))
}

impl Prober {
    pub fn new(cache_dir: Option<PathBuf>, vars: &EnvVars) -> Prober {
        Prober {
            cache: cache_dir.map(ProbeCache::new),
            vars: vars.clone(),
            memo: Mutex::new(HashMap::new()),
            runs: AtomicUsize::new(0),
        }
    }

    /// How many interpreter processes this prober started.
    pub fn probes_run(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    pub fn query(&self, python: &Path) -> Result<Arc<InterpreterInfo>, ProbeError> {
        if let Some(r) = self.memo.lock().ok().and_then(|m| m.get(python).cloned()) {
            return match r {
                Err(ProbeError::TimedOut(p, _)) => Err(ProbeError::TimedOutBefore(p)),
                other => other,
            };
        }
        let r = self.query_uncached(python);
        if let Ok(mut m) = self.memo.lock() {
            m.insert(python.to_path_buf(), r.clone());
        }
        r
    }

    /// Probe many interpreters in parallel (at most 8 at a time).
    pub fn query_many(&self, pythons: &[PathBuf]) -> Vec<Result<Arc<InterpreterInfo>, ProbeError>> {
        let mut out: Vec<Option<Result<Arc<InterpreterInfo>, ProbeError>>> =
            vec![None; pythons.len()];
        for (chunk_i, chunk) in pythons.chunks(8).enumerate() {
            let results: Vec<_> = std::thread::scope(|s| {
                let hs: Vec<_> = chunk
                    .iter()
                    .map(|p| s.spawn(move || self.query(p)))
                    .collect();
                hs.into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(ProbeError::Failed(
                                PathBuf::new(),
                                "probe thread panicked".into(),
                            ))
                        })
                    })
                    .collect()
            });
            for (i, r) in results.into_iter().enumerate() {
                out[chunk_i * 8 + i] = Some(r);
            }
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(ProbeError::Failed(PathBuf::new(), "not probed".into())))
            })
            .collect()
    }

    fn query_uncached(&self, python: &Path) -> Result<Arc<InterpreterInfo>, ProbeError> {
        if is_pyenv_shim(python) {
            return Err(ProbeError::Shim(python.to_path_buf()));
        }
        if !may_run(Os::current(), python, xcode_tools_installed) {
            return Err(ProbeError::Failed(
                python.to_path_buf(),
                "Apple's python3 stub (the Command Line Tools are not installed); not run".into(),
            ));
        }
        // Wrapper scripts are cached too: the key holds the script's own ctime, so editing it
        // invalidates the entry (what it execs is assumed stable, like a symlink target).
        let key = CacheKey::new(python, &self.vars);
        if let (Some(c), Some(k)) = (&self.cache, &key) {
            if let Some(info) = c.get(k) {
                return Ok(Arc::new(info));
            }
        }
        let dir = tempfile::tempdir()
            .map_err(|e| ProbeError::Failed(python.to_path_buf(), e.to_string()))?;
        let mut cmd = Command::new(python);
        cmd.arg("-c")
            .arg(PROBE_SCRIPT)
            .current_dir(dir.path())
            .env_clear()
            .envs(self.vars.to_vec())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("PYTHONSTARTUP")
            .env_remove("PYTHONINSPECT");
        if std::env::var_os("KIP_DEBUG").is_some() {
            eprintln!("kip: probing {}", python.display());
        }
        self.runs.fetch_add(1, Ordering::SeqCst);
        let timeout = process::probe_timeout(&self.vars);
        let out = process::run_captured(cmd, timeout).map_err(|e| match e {
            RunError::TimedOut { timeout, .. } => {
                ProbeError::TimedOut(python.to_path_buf(), timeout.as_millis())
            }
            other => ProbeError::Failed(python.to_path_buf(), other.to_string()),
        })?;
        let info: InterpreterInfo = serde_json::from_slice(&out.stdout).map_err(|_| {
            ProbeError::Failed(
                python.to_path_buf(),
                format!(
                    "the probe did not answer (exit {:?}): {}",
                    out.code,
                    out.stderr_text().lines().last().unwrap_or("")
                ),
            )
        })?;
        if let (Some(c), Some(k)) = (&self.cache, &key) {
            c.put(k, &info);
        }
        Ok(Arc::new(info))
    }
}

fn xcode_tools_installed() -> bool {
    let mut c = Command::new("xcode-select");
    c.arg("-p");
    process::run_captured(c, std::time::Duration::from_secs(5)).is_ok_and(|o| o.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_stub_is_not_run_without_command_line_tools() {
        let stub = Path::new("/usr/bin/python3");
        assert!(!may_run(Os::MacOs, stub, || false));
        assert!(may_run(Os::MacOs, stub, || true));
        assert!(may_run(Os::Linux, stub, || panic!("not asked on Linux")));
        assert!(may_run(
            Os::MacOs,
            Path::new("/opt/homebrew/bin/python3"),
            || panic!("not asked")
        ));
    }

    /// The fixed probe script runs on every Python this machine has, 2.7 included.
    #[test]
    fn probe_script_runs_on_python_2_7_and_3_6_plus() {
        let root = PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
            .join(".pyenv/versions");
        let Ok(rd) = std::fs::read_dir(&root) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let vars = EnvVars::from_pairs([
            ("HOME", dir.path().to_str().unwrap()),
            ("PATH", "/usr/bin:/bin"),
        ]);
        let prober = Prober::new(None, &vars);
        let mut seen = 0;
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(v) = name.parse::<crate::python::version::PythonVersion>() else {
                continue;
            };
            let py = e
                .path()
                .join("bin")
                .join(format!("python{}.{}", v.major, v.minor));
            if !py.exists() {
                continue;
            }
            let info = prober
                .query(&py)
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(info.version, v, "{name}");
            assert_eq!(info.prefix, e.path());
            seen += 1;
        }
        assert!(seen == 0 || prober.probes_run() == seen);
    }
}
