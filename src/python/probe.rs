//! Running kip's fixed probe script (`probe.py`) in an interpreter — the only code kip ever
//! runs in a user's Python during discovery (PRODUCT.md, "Rules that are never broken").
//!
//! * The child is started with [`process::run_captured`]: its own process group, stdin closed,
//!   killed as a group after `KIP_PROBE_TIMEOUT_MS` (default 5 s). An interpreter that timed
//!   out is remembered and not run again in the same invocation.
//! * It runs as plain `<python> -c <script>` — no `-I`, `-E` or `-s`: those would hide exactly
//!   what kip must report (`PYTHONPATH`, the user site), and 2.7 has no `-I` anyway — with the
//!   caller's environment (`env_clear` + the context's variables), `PYTHONDONTWRITEBYTECODE=1`,
//!   no `PYTHONSTARTUP`/`PYTHONINSPECT`, from a fresh empty directory so that a `json.py` in
//!   the user's cwd cannot answer for the stdlib (the script also drops `''` from `sys.path`).
//! * Never run: pyenv shims (`pyenv.rs` resolves them from their files), and on macOS Apple's
//!   `/usr/bin/python3` stub unless the Command Line Tools are installed (running it opens an
//!   install dialog; python-environments.md §1b).
//! * Answers are cached on disk (`cache.rs`); [`Prober::probes_run`] counts the processes
//!   actually started, which the tests use to prove that a warm run starts none.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::envvars::EnvVars;
use crate::platform::Os;
use crate::process::{self, RunError};
use crate::python::cache::{CacheKey, ProbeCache};
use crate::python::interpreter::{InterpreterInfo, PROBE_SCRIPT};
use crate::python::pyenv;

/// The tag of the answer line (a `sitecustomize` may print before it).
const ANSWER_TAG: &str = "KIP-PROBE-1 ";

/// At most this many probes run at once.
pub const MAX_PARALLEL_PROBES: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("{0} is a pyenv shim; kip resolves shims from their files and never runs them")]
    Shim(PathBuf),
    #[error("{0} did not answer within {1} ms (KIP_PROBE_TIMEOUT_MS) and was killed")]
    TimedOut(PathBuf, u128),
    #[error("{0} timed out earlier in this run and was not run again")]
    TimedOutBefore(PathBuf),
    #[error(
        "{0} is Apple's python3 stub and the Command Line Tools are not installed; not run (it would open an install dialog)"
    )]
    AppleStub(PathBuf),
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{0}: {1}")]
    Failed(PathBuf, String),
}

impl ProbeError {
    /// The interpreter the error is about.
    pub fn python(&self) -> &Path {
        match self {
            ProbeError::Shim(p)
            | ProbeError::TimedOut(p, _)
            | ProbeError::TimedOutBefore(p)
            | ProbeError::AppleStub(p)
            | ProbeError::Missing(p)
            | ProbeError::Failed(p, _) => p,
        }
    }
}

type ProbeResult = Result<Arc<InterpreterInfo>, ProbeError>;

/// Probes interpreters for one invocation. `Sync`: share it across scoped threads.
pub struct Prober {
    cache: Option<ProbeCache>,
    vars: EnvVars,
    /// Answers (and failures) of this invocation, by path as given.
    memo: Mutex<HashMap<PathBuf, ProbeResult>>,
    /// Interpreters (as given and canonical) that timed out: never run again in this process.
    timed_out: Mutex<HashSet<PathBuf>>,
    runs: AtomicUsize,
}

/// On macOS, `/usr/bin/python3` is Apple's xcode-select stub unless the Command Line Tools are
/// installed. Pure decision; `command_line_tools` is asked only when it matters.
pub fn may_run(os: Os, python: &Path, command_line_tools: impl FnOnce() -> bool) -> bool {
    !(os == Os::MacOs && python == Path::new("/usr/bin/python3")) || command_line_tools()
}

/// Is `path` (or what it links to) a pyenv shim? Uses `pyenv.rs`'s own recognition.
pub fn is_pyenv_shim(path: &Path) -> bool {
    pyenv::shim_root(path).is_some()
        || std::fs::canonicalize(path).is_ok_and(|c| c != path && pyenv::shim_root(&c).is_some())
}

impl Prober {
    /// A prober whose children see `vars`; answers cached under `cache_dir` when given.
    pub fn new(cache_dir: Option<PathBuf>, vars: &EnvVars) -> Prober {
        Prober {
            cache: cache_dir.map(ProbeCache::new),
            vars: vars.clone(),
            memo: Mutex::new(HashMap::new()),
            timed_out: Mutex::new(HashSet::new()),
            runs: AtomicUsize::new(0),
        }
    }

    /// How many interpreter processes this prober started.
    pub fn probes_run(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    /// What `python` reports about itself: from this invocation's memo, the disk cache, or a
    /// probe run.
    pub fn query(&self, python: &Path) -> ProbeResult {
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

    /// [`Self::query`] for many interpreters, at most [`MAX_PARALLEL_PROBES`] at a time;
    /// results in input order. A duplicate path is probed once.
    pub fn query_many(&self, pythons: &[PathBuf]) -> Vec<ProbeResult> {
        let mut unique: Vec<&PathBuf> = Vec::new();
        for p in pythons {
            if !unique.contains(&p) {
                unique.push(p);
            }
        }
        let next = AtomicUsize::new(0);
        let results: Mutex<HashMap<PathBuf, ProbeResult>> = Mutex::new(HashMap::new());
        let workers = unique.len().min(MAX_PARALLEL_PROBES);
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(p) = unique.get(i) else { break };
                    let r = self.query(p);
                    if let Ok(mut m) = results.lock() {
                        m.insert(p.to_path_buf(), r);
                    }
                });
            }
        });
        let results = results.into_inner().unwrap_or_default();
        pythons
            .iter()
            .map(|p| {
                results.get(p).cloned().unwrap_or_else(|| {
                    Err(ProbeError::Failed(
                        p.clone(),
                        "the probe did not run".into(),
                    ))
                })
            })
            .collect()
    }

    fn timed_out_before(&self, python: &Path, canonical: Option<&Path>) -> bool {
        self.timed_out
            .lock()
            .is_ok_and(|t| t.contains(python) || canonical.is_some_and(|c| t.contains(c)))
    }

    fn query_uncached(&self, python: &Path) -> ProbeResult {
        let given = python.to_path_buf();
        if std::fs::metadata(python).is_err() {
            return Err(ProbeError::Missing(given));
        }
        if is_pyenv_shim(python) {
            return Err(ProbeError::Shim(given));
        }
        if !may_run(Os::current(), python, xcode_tools_installed) {
            return Err(ProbeError::AppleStub(given));
        }
        let canonical = std::fs::canonicalize(python).ok();
        if self.timed_out_before(python, canonical.as_deref()) {
            return Err(ProbeError::TimedOutBefore(given));
        }
        let key = CacheKey::new(python, &self.vars);
        if let (Some(c), Some(k)) = (&self.cache, &key) {
            if let Some(info) = c.get(k) {
                return Ok(Arc::new(info));
            }
        }
        let info = self.run_probe(python, canonical.as_deref())?;
        if let (Some(c), Some(k)) = (&self.cache, &key) {
            c.put(k, &info);
        }
        Ok(Arc::new(info))
    }

    fn run_probe(
        &self,
        python: &Path,
        canonical: Option<&Path>,
    ) -> Result<InterpreterInfo, ProbeError> {
        let fail = |why: String| ProbeError::Failed(python.to_path_buf(), why);
        let neutral = tempfile::Builder::new()
            .prefix("kip-probe-")
            .tempdir()
            .map_err(|e| fail(format!("cannot create a temporary directory: {e}")))?;
        let mut cmd = Command::new(python);
        cmd.arg("-c")
            .arg(PROBE_SCRIPT)
            .current_dir(neutral.path())
            .env_clear()
            .envs(self.vars.to_vec())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("PYTHONSTARTUP")
            .env_remove("PYTHONINSPECT");
        tracing::debug!("kip: probing {}", python.display());
        self.runs.fetch_add(1, Ordering::SeqCst);
        let timeout = process::probe_timeout(&self.vars);
        let out = match process::run_captured(cmd, timeout) {
            Ok(out) => out,
            Err(RunError::TimedOut { timeout, .. }) => {
                if let Ok(mut t) = self.timed_out.lock() {
                    t.insert(python.to_path_buf());
                    t.extend(canonical.map(Path::to_path_buf));
                }
                return Err(ProbeError::TimedOut(
                    python.to_path_buf(),
                    timeout.as_millis(),
                ));
            }
            Err(e) => return Err(fail(e.to_string())),
        };
        parse_answer(&out.stdout).map_err(|why| {
            let last = String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| format!(": {}", l.trim()))
                .unwrap_or_default();
            let status = match (out.code, out.signal) {
                (Some(c), _) => format!("exit code {c}"),
                (None, Some(s)) => format!("signal {s}"),
                _ => "unknown status".into(),
            };
            fail(format!("{why} ({status}){last}"))
        })
    }
}

/// The probe's answer: the last stdout line carrying the tag.
pub fn parse_answer(stdout: &[u8]) -> Result<InterpreterInfo, String> {
    let text = String::from_utf8_lossy(stdout);
    let line = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(ANSWER_TAG))
        .ok_or_else(|| "the probe printed no answer".to_string())?;
    serde_json::from_str(line).map_err(|e| format!("the probe's answer is not understood: {e}"))
}

/// `xcode-select -p` succeeds (asked once per process, macOS only).
fn xcode_tools_installed() -> bool {
    static ANSWER: OnceLock<bool> = OnceLock::new();
    *ANSWER.get_or_init(|| {
        let mut c = Command::new("xcode-select");
        c.arg("-p");
        process::run_captured(c, std::time::Duration::from_secs(5)).is_ok_and(|o| o.success())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

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

    #[test]
    fn answer_is_the_last_tagged_line() {
        let good = br#"{"executable": "/p", "version": [3, 12, 1], "implementation": "cpython", "prefix": "/p", "base_prefix": "/p", "sys_path": [], "site_packages": []}"#;
        let mut out = b"noise from sitecustomize\nKIP-PROBE-1 {broken\n".to_vec();
        out.extend_from_slice(b"KIP-PROBE-1 ");
        out.extend_from_slice(good);
        out.push(b'\n');
        assert_eq!(parse_answer(&out).unwrap().version.to_string(), "3.12.1");
        assert!(parse_answer(b"").is_err());
        assert!(parse_answer(b"KIP-PROBE-1 []\n").is_err());
    }

    #[test]
    fn shims_are_refused_and_hangs_are_remembered() {
        let d = tempfile::tempdir().unwrap();
        let shims = d.path().join("pyenv/shims");
        std::fs::create_dir_all(&shims).unwrap();
        let shim = script(
            &shims,
            "python3",
            "#!/usr/bin/env bash\nexport PYENV_ROOT=\"/x\"\nexec \"/x/libexec/pyenv\" exec \"$program\" \"$@\"\n",
        );
        let hang = script(d.path(), "python", "#!/bin/sh\nsleep 600\n");
        let vars =
            EnvVars::from_pairs([("PATH", "/usr/bin:/bin"), ("KIP_PROBE_TIMEOUT_MS", "300")]);
        let prober = Prober::new(None, &vars);
        assert_eq!(prober.query(&shim), Err(ProbeError::Shim(shim.clone())));
        let link = d.path().join("linked-shim");
        std::os::unix::fs::symlink(&shim, &link).unwrap();
        assert_eq!(prober.query(&link), Err(ProbeError::Shim(link.clone())));
        assert_eq!(prober.probes_run(), 0);

        let t0 = std::time::Instant::now();
        let r = prober.query_many(&[hang.clone(), hang.clone(), d.path().join("missing")]);
        assert!(t0.elapsed() < std::time::Duration::from_secs(4));
        assert!(matches!(&r[0], Err(ProbeError::TimedOut(_, 300))), "{r:?}");
        assert!(r[0].as_ref().unwrap_err().to_string().contains("300 ms"));
        assert_eq!(r[0], r[1], "a duplicate is probed once");
        assert!(matches!(&r[2], Err(ProbeError::Missing(_))));
        assert_eq!(prober.probes_run(), 1);
        // Not run again in this invocation, under the same or another name.
        assert!(matches!(
            prober.query(&hang),
            Err(ProbeError::TimedOutBefore(_))
        ));
        let other = d.path().join("py-link");
        std::os::unix::fs::symlink(&hang, &other).unwrap();
        assert!(matches!(
            prober.query(&other),
            Err(ProbeError::TimedOutBefore(_))
        ));
        assert_eq!(prober.probes_run(), 1);
    }

    #[test]
    fn a_failing_interpreter_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let bad = script(d.path(), "python3", "#!/bin/sh\necho boom >&2\nexit 3\n");
        let prober = Prober::new(None, &EnvVars::from_pairs([("PATH", "/usr/bin:/bin")]));
        let e = prober.query(&bad).unwrap_err().to_string();
        assert!(e.contains("exit code 3") && e.contains("boom"), "{e}");
    }

    /// The probe runs from a neutral directory, and the script itself drops the cwd entry of
    /// `sys.path`: a `json.py` where it runs cannot answer for the stdlib.
    #[test]
    fn local_modules_cannot_hijack_the_probe() {
        let py = PathBuf::from("/usr/bin/python3");
        assert!(
            py.exists(),
            "this test needs Debian's /usr/bin/python3 (apt-get install python3)"
        );
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("json.py"), "raise SystemExit('hijacked')\n").unwrap();
        let vars = EnvVars::from_pairs([
            ("PATH", "/usr/bin:/bin"),
            ("HOME", d.path().to_str().unwrap()),
            ("PYTHONPATH", ""),
        ]);
        let prober = Prober::new(None, &vars);
        let info = prober.query(&py).unwrap();
        assert_eq!(info.prefix, PathBuf::from("/usr"));
        // The script alone, run from the directory that holds json.py.
        let mut cmd = std::process::Command::new(&py);
        cmd.arg("-c")
            .arg(PROBE_SCRIPT)
            .current_dir(d.path())
            .env_clear()
            .envs(vars.to_vec());
        let out = crate::process::run_captured(cmd, std::time::Duration::from_secs(20)).unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("hijacked") && !out.stderr_text().contains("hijacked"),
            "the local json.py ran: {text} {}",
            out.stderr_text()
        );
        let answer =
            parse_answer(&out.stdout).unwrap_or_else(|e| panic!("no probe answer ({e}): {text}"));
        assert_eq!(answer.prefix, PathBuf::from("/usr"));
    }

    /// The fixed probe script runs on every Python this machine has, 2.7 included, and its
    /// answer is cached: a second prober with the same cache runs nothing.
    #[test]
    fn probe_script_runs_on_python_2_7_and_3_6_plus() {
        let root = std::env::var_os("PYENV_ROOT")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
                    .join(".pyenv")
            })
            .join("versions");
        let rd = std::fs::read_dir(&root).unwrap_or_else(|e| {
            panic!(
                "this test needs pyenv's CPython 2.7 and 3.6+ under {}: {e}",
                root.display()
            )
        });
        let dir = tempfile::tempdir().unwrap();
        let vars = EnvVars::from_pairs([
            ("HOME", dir.path().to_str().unwrap()),
            ("PATH", "/usr/bin:/bin"),
        ]);
        let mut pythons = Vec::new();
        let mut versions = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(v) = name.parse::<crate::python::version::PythonVersion>() else {
                continue;
            };
            let py = e
                .path()
                .join("bin")
                .join(format!("python{}.{}", v.major, v.minor));
            if py.exists() {
                pythons.push(py);
                versions.push((v, e.path()));
            }
        }
        // The point of this test is 2.7 and the oldest 3.x: their absence is a failure.
        for (major, minor) in [(2, 7), (3, 6)] {
            assert!(
                versions
                    .iter()
                    .any(|(v, _)| v.major == major && v.minor == minor),
                "this test needs a pyenv CPython {major}.{minor} under {} (found {:?})",
                root.display(),
                versions
                    .iter()
                    .map(|(v, _)| v.to_string())
                    .collect::<Vec<_>>()
            );
        }
        let cache = dir.path().join("cache");
        let prober = Prober::new(Some(cache.clone()), &vars);
        for ((v, prefix), r) in versions.iter().zip(prober.query_many(&pythons)) {
            let info = r.unwrap_or_else(|err| panic!("{v}: {err}"));
            // X.Y is what pyenv's directory promises; the patch level is the interpreter's
            // own (a copied or renamed version directory keeps its real patch level).
            assert_eq!((info.version.major, info.version.minor), (v.major, v.minor));
            assert!(info.version.patch.is_some(), "{v}: {:?}", info.version);
            assert_eq!(&info.prefix, prefix);
            assert!(
                info.can_import("pip") || v.major == 3,
                "{v}: {:?}",
                info.found
            );
            assert_eq!(
                info.user_site,
                Some(dir.path().join(format!(
                    ".local/lib/python{}.{}/site-packages",
                    v.major, v.minor
                )))
            );
        }
        assert_eq!(prober.probes_run(), pythons.len());
        let warm = Prober::new(Some(cache), &vars);
        for r in warm.query_many(&pythons) {
            assert!(r.is_ok());
        }
        assert_eq!(warm.probes_run(), 0, "a warm cache runs nothing");
    }
}
