//! Running an installer for real: live output, its own process group, Ctrl-C forwarded.
//!
//! The installer runs in its own process group (PRODUCT.md), so the terminal's SIGINT reaches
//! only kip; kip forwards it to the installer's group, waits for it, and exits 130 with the
//! lock released. An installer that ignores SIGINT must not hang kip: after a grace period
//! (`KIP_INTERRUPT_GRACE_MS`, default 5000) the group gets SIGTERM, after another SIGKILL,
//! and once the installer has exited whatever is left of its group is killed too.

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::envvars::EnvVars;

/// How an installer run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failed {
        code: Option<i32>,
        signal: Option<i32>,
    },
    Interrupted,
}

/// SIGINT at once, SIGTERM a grace period later, SIGKILL after another: each signal is sent
/// once, in that order, while the installer is still running.
#[derive(Debug, Default)]
struct Escalation {
    sent: Option<(libc::c_int, std::time::Instant)>,
}

impl Escalation {
    fn next(&mut self, now: std::time::Instant, grace: Duration) -> Option<libc::c_int> {
        let sig = match self.sent {
            None => libc::SIGINT,
            Some((libc::SIGINT, at)) if now.duration_since(at) >= grace => libc::SIGTERM,
            Some((libc::SIGTERM, at)) if now.duration_since(at) >= grace => libc::SIGKILL,
            _ => return None,
        };
        self.sent = Some((sig, now));
        Some(sig)
    }
}

/// `KIP_INTERRUPT_GRACE_MS`: how long an interrupted installer gets before the next signal.
fn interrupt_grace(env: &EnvVars) -> Duration {
    Duration::from_millis(
        env.get_nonempty("KIP_INTERRUPT_GRACE_MS")
            .and_then(|v| v.to_str()?.parse().ok())
            .unwrap_or(5000),
    )
}

/// What the installer printed, when captured (conda's `--json` output is parsed).
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

/// Run `argv` with `env`, stdin closed. With `capture`, stdout/stderr are collected (and each
/// stderr line is handed to `on_line` as it arrives, on this thread); otherwise both stream
/// live to kip's stderr.
pub fn run_installer(
    argv: &[OsString],
    env: &EnvVars,
    capture: bool,
    on_line: &mut dyn FnMut(&str),
) -> std::io::Result<(Outcome, Output)> {
    let Some((program, args)) = argv.split_first() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "empty command",
        ));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(env.to_vec())
        .stdin(Stdio::null())
        .process_group(0);
    if capture {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        // The installer's chatter is progress: kip's stdout carries only kip's own answer, so
        // `--json` stays one JSON document (pip prints "Successfully installed" on stdout).
        cmd.stdout(std::io::stderr());
    }
    let interrupted = Arc::new(AtomicBool::new(false));
    let sig_id =
        signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted))?;
    let sig_term =
        signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&interrupted))?;
    let result = (|| {
        let mut child = cmd.spawn()?;
        let pgid = child.id() as libc::pid_t;
        let stdout_h = child.stdout.take().map(|mut s| {
            std::thread::spawn(move || {
                let mut buf = String::new();
                let _ = std::io::Read::read_to_string(&mut s, &mut buf);
                buf
            })
        });
        let (line_tx, lines) = std::sync::mpsc::channel::<String>();
        let stderr_h = child.stderr.take().map(|s| {
            std::thread::spawn(move || {
                use std::io::BufRead;
                let mut buf = String::new();
                for line in std::io::BufReader::new(s).lines().map_while(Result::ok) {
                    buf.push_str(&line);
                    buf.push('\n');
                    let _ = line_tx.send(line);
                }
                buf
            })
        });
        let grace = interrupt_grace(env);
        let mut escalation = Escalation::default();
        let status = loop {
            for line in lines.try_iter() {
                on_line(&line);
            }
            if let Some(st) = child.try_wait()? {
                break st;
            }
            if interrupted.load(Ordering::SeqCst) {
                if let Some(sig) = escalation.next(std::time::Instant::now(), grace) {
                    // SAFETY: signalling our own child's group.
                    unsafe {
                        libc::killpg(pgid, sig);
                    }
                }
            }
            // Waiting on a child while watching a signal flag: a short poll is the portable
            // way to do both without a signalfd.
            std::thread::sleep(Duration::from_millis(20));
        };
        if interrupted.load(Ordering::SeqCst) {
            // The leader is gone; a helper it started may still hold the env's files.
            // SAFETY: signalling our own child's group (ESRCH when it is already empty).
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
        let out = Output {
            stdout: stdout_h.and_then(|h| h.join().ok()).unwrap_or_default(),
            stderr: stderr_h.and_then(|h| h.join().ok()).unwrap_or_default(),
        };
        // The reader has ended (joined above), so every line it sent is here.
        for line in lines.try_iter() {
            on_line(&line);
        }
        let outcome = if interrupted.load(Ordering::SeqCst) {
            Outcome::Interrupted
        } else if status.success() {
            Outcome::Success
        } else {
            Outcome::Failed {
                code: status.code(),
                signal: status.signal(),
            }
        };
        Ok((outcome, out))
    })();
    signal_hook::low_level::unregister(sig_id);
    signal_hook::low_level::unregister(sig_term);
    result
}

/// The installer's environment: kip's own, minus variables that would redirect the install
/// into another environment (uv honours VIRTUAL_ENV/CONDA_PREFIX only without `--python`,
/// but pip's `PIP_TARGET`/`PIP_PREFIX`/`PIP_USER` would move files elsewhere).
pub fn installer_env(vars: &EnvVars) -> EnvVars {
    let mut env = vars.clone();
    for k in [
        "PIP_TARGET",
        "PIP_PREFIX",
        "PIP_USER",
        "PIP_REQUIRE_VIRTUALENV",
        "PYTHONHOME",
    ] {
        env.remove(k);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn interrupt_escalates_once_per_step_after_the_grace() {
        let grace = Duration::from_millis(100);
        let t0 = Instant::now();
        let mut e = Escalation::default();
        assert_eq!(e.next(t0, grace), Some(libc::SIGINT));
        assert_eq!(e.next(t0 + Duration::from_millis(50), grace), None);
        assert_eq!(e.next(t0 + grace, grace), Some(libc::SIGTERM));
        assert_eq!(e.next(t0 + grace, grace), None);
        assert_eq!(e.next(t0 + grace * 2, grace), Some(libc::SIGKILL));
        assert_eq!(e.next(t0 + grace * 10, grace), None);
    }
}
