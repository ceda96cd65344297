//! Running an installer for real: live output, its own process group, Ctrl-C forwarded.
//!
//! The installer runs in its own process group (PRODUCT.md), so the terminal's SIGINT reaches
//! only kip; kip forwards it to the installer's group, waits for it, and exits 130 with the
//! lock released.

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

/// What the installer printed, when captured (conda's `--json` output is parsed).
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

/// Run `argv` with `env`, stdin closed. With `capture`, stdout/stderr are collected (and each
/// stderr line is handed to `on_line` as it arrives, on this thread); otherwise both stream
/// live to the terminal.
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
        let mut forwarded = false;
        let status = loop {
            for line in lines.try_iter() {
                on_line(&line);
            }
            if let Some(st) = child.try_wait()? {
                break st;
            }
            if interrupted.load(Ordering::SeqCst) && !forwarded {
                // SAFETY: signalling our own child's group.
                unsafe {
                    libc::killpg(pgid, libc::SIGINT);
                }
                forwarded = true;
            }
            // Waiting on a child while watching a signal flag: a short poll is the portable
            // way to do both without a signalfd.
            std::thread::sleep(Duration::from_millis(20));
        };
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
