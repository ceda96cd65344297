//! The one way kip starts a child process and waits for it.
//!
//! PRODUCT.md: every child runs in its own process group with stdin closed and a timeout, after
//! which the *whole group* is killed. A probe of a `#!/bin/sh` "python" that runs `sleep 600`
//! must not leave the `sleep` behind, hence the group kill rather than `Child::kill`.

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::envvars::EnvVars;

/// Default for `KIP_PROBE_TIMEOUT_MS`: probes and "is it importable" checks.
pub const DEFAULT_PROBE_TIMEOUT_MS: u64 = 5_000;
/// Default for `KIP_IMPORT_TIMEOUT_MS`: the import proof after an install.
pub const DEFAULT_IMPORT_TIMEOUT_MS: u64 = 60_000;
/// Default for `KIP_START_TIMEOUT_MS`: a kernel start, until its `kernel_info` reply.
pub const DEFAULT_START_TIMEOUT_MS: u64 = 30_000;

pub fn probe_timeout(vars: &EnvVars) -> Duration {
    timeout_setting(vars, "KIP_PROBE_TIMEOUT_MS", DEFAULT_PROBE_TIMEOUT_MS)
}

pub fn import_timeout(vars: &EnvVars) -> Duration {
    timeout_setting(vars, "KIP_IMPORT_TIMEOUT_MS", DEFAULT_IMPORT_TIMEOUT_MS)
}

pub fn start_timeout(vars: &EnvVars) -> Duration {
    timeout_setting(vars, "KIP_START_TIMEOUT_MS", DEFAULT_START_TIMEOUT_MS)
}

fn timeout_setting(vars: &EnvVars, key: &str, default_ms: u64) -> Duration {
    let ms = vars
        .get_str(key)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(default_ms);
    Duration::from_millis(ms)
}

/// What a finished child left behind.
#[derive(Debug, Clone)]
pub struct Captured {
    /// Exit code, or `None` when killed by a signal.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Captured {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("could not start {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("{program} did not finish within {} ms and was killed", timeout.as_millis())]
    TimedOut { program: String, timeout: Duration },
}

/// Run `cmd` to completion with stdin closed and stdout/stderr captured, in a new process
/// group; after `timeout` the group is sent SIGKILL.
pub fn run_captured(mut cmd: Command, timeout: Duration) -> Result<Captured, RunError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let child = cmd.spawn().map_err(|source| RunError::Spawn {
        program: program.clone(),
        source,
    })?;
    let pgid = child.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(out)) => Ok(Captured {
            code: out.status.code(),
            signal: out.status.signal(),
            stdout: out.stdout,
            stderr: out.stderr,
            elapsed: start.elapsed(),
        }),
        Ok(Err(source)) => Err(RunError::Spawn { program, source }),
        Err(_) => {
            kill_group(pgid);
            // Reap it so no zombie is left; the pipes close once the group is gone.
            let _ = rx.recv_timeout(Duration::from_secs(5));
            Err(RunError::TimedOut { program, timeout })
        }
    }
}

/// SIGKILL a whole process group. Safe to call on a group that is already gone.
pub fn kill_group(pgid: libc::pid_t) {
    if pgid > 0 {
        // SAFETY: killpg has no memory-safety preconditions; a stale pgid yields ESRCH.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_code() {
        let mut c = Command::new("/bin/sh");
        c.args(["-c", "echo out; echo err >&2; exit 3"]);
        let r = run_captured(c, Duration::from_secs(10)).unwrap();
        assert_eq!(r.code, Some(3));
        assert_eq!(r.stdout, b"out\n");
        assert_eq!(r.stderr, b"err\n");
    }

    #[test]
    fn stdin_is_closed() {
        let mut c = Command::new("/bin/sh");
        c.args(["-c", "cat; echo done"]);
        let r = run_captured(c, Duration::from_secs(10)).unwrap();
        assert_eq!(r.stdout, b"done\n");
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-pid");
        let mut c = Command::new("/bin/sh");
        // The grandchild `sleep` would keep the pipes open if only the shell were killed.
        c.arg("-c")
            .arg(format!("sleep 600 & echo $! > {}; wait", marker.display()));
        let t0 = Instant::now();
        let err = run_captured(c, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, RunError::TimedOut { .. }));
        assert!(t0.elapsed() < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(&marker)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // run_captured returns once the pipes closed, which happens early in the grandchild's
        // exit; it may still be tearing down ('R') or a zombie. Alive means: still our sleep,
        // and still not exiting after a grace period.
        let alive = || {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit(')').next().and_then(|r| r.trim().chars().next()));
            let ours = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.starts_with(b"sleep\x00600"))
                .unwrap_or(false);
            ours && !matches!(state, None | Some('Z') | Some('X'))
        };
        let deadline = Instant::now() + Duration::from_secs(3);
        while alive() && Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert!(!alive(), "grandchild {pid} survived the group kill");
    }

    #[test]
    fn timeouts_are_settings() {
        let v = EnvVars::from_pairs([("KIP_PROBE_TIMEOUT_MS", "250")]);
        assert_eq!(probe_timeout(&v), Duration::from_millis(250));
        assert_eq!(
            import_timeout(&v),
            Duration::from_millis(DEFAULT_IMPORT_TIMEOUT_MS)
        );
    }
}
