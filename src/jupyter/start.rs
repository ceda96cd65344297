//! The start proof's edge: launch a kernel as jupyter_client's local provisioner does, wait for
//! its `kernel_info` reply over the Jupyter protocol, shut it down, and leave nothing running.
//!
//! jupyter_client 8.10.0 (`launcher.py`, `provisioning/local_provisioner.py`, `connect.py`): the
//! connection file holds five loopback TCP ports found free by binding port 0, a random key
//! and `hmac-sha256`; the kernel runs with `start_new_session` (its own session and process
//! group) and `JPY_PARENT_PID`. kip differs only where its process rules say so: stdin is
//! closed, stdout/stderr are captured (the stderr tail is the diagnosis), the connection file
//! lives in a private temp dir, and a marker variable (`KIP_START_ID`) lets kip find every
//! process the kernel started, even one that double-forked and called `setsid` — which kip, a
//! child subreaper, then reaps.
//!
//! The wire is ZeroMQ (the `zeromq` crate, ZMTP 3 over TCP); the Jupyter message is built and
//! read here: the `<IDS|MSG>` delimiter, the HMAC-SHA256 signature over header, parent header,
//! metadata and content, and a lenient read of the reply (ipykernel 4.x on Python 2.7 and 5.x
//! on 3.6 answer with fewer fields).

use std::collections::HashSet;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use zeromq::{DealerSocket, Socket, SocketRecv, SocketSend, ZmqMessage};

use crate::envvars::EnvVars;

/// The variable that marks every process of one start (see the module doc).
pub const MARKER_VAR: &str = "KIP_START_ID";
/// How many stderr lines a failed start reports.
pub const STDERR_TAIL_LINES: usize = 30;
/// How long a kernel that answered may take to reply to `shutdown_request` before it is
/// killed anyway; a kernel that takes longer is only slow, not broken.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);
/// How often kip looks whether the kernel listens on its shell port yet.
const LISTEN_POLL: Duration = Duration::from_millis(10);
/// jupyter_client's `wait_for_ready` asks again every second.
const KERNEL_INFO_RESEND: Duration = Duration::from_secs(1);

/// What to start: everything already decided (see `doctor::start` for the rules).
#[derive(Clone, Debug)]
pub struct StartRequest {
    pub kernel_name: String,
    /// The kernelspec's argv as the Jupyter formats it, with `{connection_file}` still literal;
    /// it is substituted here once the file exists. argv[0] is a path or a name looked up on
    /// `env`'s PATH.
    pub argv: Vec<String>,
    /// The kernel's environment: the server's with the kernelspec `env` applied.
    pub env: EnvVars,
    pub cwd: PathBuf,
    pub timeout: Duration,
}

/// How a start ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// The kernel answered `kernel_info`.
    Ready {
        /// `implementation` and its version, and the language version, as the reply says.
        implementation: Option<String>,
        implementation_version: Option<String>,
        language_version: Option<String>,
        protocol_version: Option<String>,
    },
    /// The kernel process exited before answering.
    Exited {
        exit_code: Option<i32>,
        signal: Option<i32>,
    },
    /// No reply within the timeout.
    TimedOut { timeout_ms: u64 },
    /// The program could not be run at all (a missing interpreter, no exec permission).
    NotRun { error: String },
}

/// One start's result.
#[derive(Clone, Debug, Serialize)]
pub struct StartResult {
    #[serde(flatten)]
    pub outcome: Outcome,
    /// From launch to the `kernel_info` reply (a kernel that answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_ms: Option<u64>,
    /// From launch until everything it started is gone.
    pub elapsed_ms: u64,
    /// The last [`STDERR_TAIL_LINES`] lines the kernel wrote to stderr.
    pub stderr_tail: String,
}

impl StartResult {
    pub fn ready(&self) -> bool {
        matches!(self.outcome, Outcome::Ready { .. })
    }
}

/// Make kip a child subreaper (Linux): an orphan of a kernel's process tree is re-parented to
/// kip instead of init, so kip can kill and reap it. Idempotent.
fn become_subreaper() {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer flag; no memory is passed.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Random bytes from the OS; a start without them would run with a guessable key.
fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(b)
}

/// A version-4 UUID string, as jupyter_client uses for keys, sessions and message ids.
fn uuid4() -> std::io::Result<String> {
    let mut b = random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// Five free loopback ports, found as jupyter_client finds them: bind port 0, read the port,
/// close. All five are held until all are chosen, so they differ.
fn free_ports() -> std::io::Result<[u16; 5]> {
    let listeners: Vec<std::net::TcpListener> = (0..5)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()?;
    let mut ports = [0u16; 5];
    for (p, l) in ports.iter_mut().zip(&listeners) {
        *p = l.local_addr()?.port();
    }
    Ok(ports)
}

/// The connection file's content (`connect.write_connection_file`).
fn connection_json(ports: [u16; 5], key: &str, kernel_name: &str) -> serde_json::Value {
    serde_json::json!({
        "shell_port": ports[0],
        "iopub_port": ports[1],
        "stdin_port": ports[2],
        "control_port": ports[3],
        "hb_port": ports[4],
        "ip": "127.0.0.1",
        "key": key,
        "transport": "tcp",
        "signature_scheme": "hmac-sha256",
        "kernel_name": kernel_name,
    })
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the header `date` jupyter_client sends.
fn iso_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-from-civil, inverted.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_micros()
    )
}

/// A signed Jupyter message: `<IDS|MSG>`, signature, header, parent header, metadata, content.
struct Signer {
    key: Vec<u8>,
    session: String,
}

impl Signer {
    // HMAC accepts a key of any length: `new_from_slice` cannot fail.
    #[allow(clippy::expect_used)]
    fn sign(&self, parts: &[&[u8]]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        for p in parts {
            mac.update(p);
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn message(&self, msg_type: &str, content: serde_json::Value) -> std::io::Result<ZmqMessage> {
        let header = serde_json::json!({
            "msg_id": uuid4()?,
            "session": self.session,
            "username": "kip",
            "date": iso_now(),
            "msg_type": msg_type,
            "version": "5.3",
        })
        .to_string();
        let content = content.to_string();
        let sig = self.sign(&[header.as_bytes(), b"{}", b"{}", content.as_bytes()]);
        let frames: Vec<bytes::Bytes> = vec![
            bytes::Bytes::from_static(b"<IDS|MSG>"),
            sig.into(),
            header.into(),
            bytes::Bytes::from_static(b"{}"),
            bytes::Bytes::from_static(b"{}"),
            content.into(),
        ];
        ZmqMessage::try_from(frames).map_err(|e| std::io::Error::other(e.to_string()))
    }

    /// `(msg_type, content)` of a received message whose signature is right; anything else
    /// (no delimiter, a bad signature, unparsable JSON) is `None`.
    fn read(&self, msg: &ZmqMessage) -> Option<(String, serde_json::Value)> {
        let frames: Vec<&[u8]> = msg.iter().map(|b| b.as_ref()).collect();
        let at = frames.iter().position(|f| *f == b"<IDS|MSG>")?;
        let rest = frames.get(at + 1..at + 6)?;
        let sig = std::str::from_utf8(rest[0]).ok()?;
        if sig != self.sign(&rest[1..5]) {
            return None;
        }
        let header: serde_json::Value = serde_json::from_slice(rest[1]).ok()?;
        let content = serde_json::from_slice(rest[4]).unwrap_or(serde_json::Value::Null);
        Some((header.get("msg_type")?.as_str()?.to_string(), content))
    }
}

/// The Ready outcome from a `kernel_info_reply`'s content, taking what is there.
fn ready_from(content: &serde_json::Value) -> Outcome {
    let s = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    let lang = content.get("language_info");
    Outcome::Ready {
        implementation: s(content.get("implementation")),
        implementation_version: s(content.get("implementation_version")),
        language_version: s(lang.and_then(|l| l.get("version")))
            .or_else(|| s(content.get("language_version"))),
        protocol_version: s(content.get("protocol_version")),
    }
}

/// Is anything listening on 127.0.0.1:`port`? Read from `/proc/net/tcp`, so kip opens no
/// connection the kernel would see; `true` when that file cannot be read (the ZeroMQ connect
/// then retries on its own).
fn listening(port: u16) -> bool {
    let Ok(text) = std::fs::read_to_string("/proc/net/tcp") else {
        return true;
    };
    let want = format!("0100007F:{port:04X}");
    let any = format!("00000000:{port:04X}");
    text.lines().skip(1).any(|l| {
        let mut f = l.split_whitespace();
        let local = f.nth(1).unwrap_or_default();
        let state = f.nth(1).unwrap_or_default();
        state == "0A" && (local == want || local == any)
    })
}

async fn connect(port: u16) -> Option<DealerSocket> {
    while !listening(port) {
        tokio::time::sleep(LISTEN_POLL).await;
    }
    let mut sock = DealerSocket::new();
    sock.connect(&format!("tcp://127.0.0.1:{port}"))
        .await
        .ok()?;
    Some(sock)
}

/// Ask for `kernel_info` until a signed `kernel_info_reply` comes back.
async fn kernel_info(port: u16, signer: &Signer) -> Outcome {
    let Some(mut sock) = connect(port).await else {
        // The caller's timeout or the kernel's exit decides.
        return std::future::pending().await;
    };
    loop {
        let Ok(msg) = signer.message("kernel_info_request", serde_json::json!({})) else {
            return std::future::pending().await;
        };
        if sock.send(msg).await.is_err() {
            return std::future::pending().await;
        }
        let resend = tokio::time::sleep(KERNEL_INFO_RESEND);
        tokio::pin!(resend);
        loop {
            tokio::select! {
                _ = &mut resend => break,
                r = sock.recv() => match r {
                    Ok(m) => {
                        if let Some((t, content)) = signer.read(&m) {
                            if t == "kernel_info_reply" {
                                return ready_from(&content);
                            }
                        }
                    }
                    Err(_) => return std::future::pending().await,
                },
            }
        }
    }
}

/// `shutdown_request` on the control channel, as `KernelManager.shutdown_kernel` sends it.
async fn request_shutdown(port: u16, signer: &Signer) {
    let Some(mut sock) = connect(port).await else {
        return;
    };
    if let Ok(msg) = signer.message("shutdown_request", serde_json::json!({"restart": false})) {
        let _ = sock.send(msg).await;
    }
    // The reply says the kernel took the request; its exit (atexit handlers, thread joins)
    // is not waited for: kip kills what is left right after, as the shutdown's last step.
    while let Ok(m) = sock.recv().await {
        if signer.read(&m).is_some_and(|(t, _)| t == "shutdown_reply") {
            return;
        }
    }
}

/// A pipe drained into a buffer by a thread, which ends at EOF.
struct Drain {
    buf: Arc<Mutex<Vec<u8>>>,
    done: std::sync::mpsc::Receiver<()>,
}

impl Drain {
    fn start(mut r: impl Read + Send + 'static) -> Drain {
        /// Only the tail is reported; a chatty kernel must not grow kip without bound.
        const KEEP: usize = 256 * 1024;
        let buf = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = std::sync::mpsc::channel();
        let b = buf.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = r.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let mut b = b.lock().unwrap_or_else(|e| e.into_inner());
                b.extend_from_slice(&chunk[..n]);
                if b.len() > KEEP * 2 {
                    let cut = b.len() - KEEP;
                    b.drain(..cut);
                }
            }
            let _ = tx.send(());
        });
        Drain { buf, done }
    }

    /// The text once the writers are gone (bounded: a writer kip could not find may hold the
    /// pipe open).
    fn finish(self, wait: Duration) -> Vec<u8> {
        let _ = self.done.recv_timeout(wait);
        let b = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        b.clone()
    }
}

/// The last `n` lines of `bytes`, as text.
pub fn tail_lines(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Pids of live processes whose environment holds `marker` (`NAME=value`).
fn marked_processes(marker: &[u8]) -> Vec<i32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id() as i32;
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == marker))
        })
        .collect()
}

/// Kill the kernel's process group, then every process that carries the start's marker,
/// until none is left; reap the ones re-parented to kip. The kernel itself is reaped by its
/// waiter thread.
fn kill_everything(kernel_pid: i32, marker: &[u8]) {
    crate::process::kill_group(kernel_pid);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut victims: HashSet<i32> = HashSet::new();
    loop {
        let found = marked_processes(marker);
        for &pid in &found {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            if pid != kernel_pid {
                victims.insert(pid);
            }
        }
        victims.retain(|&pid| {
            let mut status = 0;
            // SAFETY: waitpid on one pid with WNOHANG; status is a valid out pointer.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            // 0: still ours and not yet dead; -1: not our child (its own parent reaps it, or
            // it is gone).
            r == 0
        });
        if (found.is_empty() && victims.is_empty()) || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Start one kernel and report how it went. Never panics; an I/O failure before the kernel
/// runs is a `NotRun` outcome.
#[allow(clippy::too_many_lines)] // came with the start proof (h11) after the lint; split when next changed
pub fn start(req: &StartRequest) -> StartResult {
    let t0 = Instant::now();
    let not_run = |error: String| StartResult {
        outcome: Outcome::NotRun { error },
        ready_ms: None,
        elapsed_ms: t0.elapsed().as_millis() as u64,
        stderr_tail: String::new(),
    };
    if req.argv.is_empty() {
        return not_run("the kernel's argv is empty".into());
    }
    become_subreaper();
    let prepared = (|| -> std::io::Result<_> {
        let key = uuid4()?;
        let session = uuid4()?;
        let nonce = uuid4()?;
        let dir = tempfile::Builder::new().prefix("kip-start-").tempdir()?;
        let file = dir.path().join(format!("kernel-{}.json", uuid4()?));
        Ok((key, session, nonce, dir, file))
    })();
    let (key, session, nonce, dir, file) = match prepared {
        Ok(p) => p,
        Err(e) => return not_run(format!("cannot prepare the connection file: {e}")),
    };
    let ports = match free_ports() {
        Ok(p) => p,
        Err(e) => return not_run(format!("cannot find free loopback ports: {e}")),
    };
    let conn = connection_json(ports, &key, &req.kernel_name);
    let written = {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .and_then(|mut f| f.write_all(conn.to_string().as_bytes()))
    };
    if let Err(e) = written {
        return not_run(format!("cannot write {}: {e}", file.display()));
    }
    let real_file = std::fs::canonicalize(&file).unwrap_or(file.clone());
    let argv: Vec<String> = req
        .argv
        .iter()
        .map(|a| a.replace("{connection_file}", &real_file.to_string_lossy()))
        .collect();
    let program = if argv[0].contains('/') {
        PathBuf::from(&argv[0])
    } else {
        match crate::shell::path::find_on_path(&argv[0], &req.env, &req.cwd) {
            Some(p) => p,
            None => return not_run(format!("`{}` is not on the kernel's PATH", argv[0])),
        }
    };
    let marker = format!("{MARKER_VAR}={nonce}");
    let mut cmd = Command::new(&program);
    cmd.arg0(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .envs(req.env.to_vec())
        .env("JPY_PARENT_PID", std::process::id().to_string())
        .env(MARKER_VAR, &nonce)
        .current_dir(&req.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setsid is async-signal-safe; it is what Popen(start_new_session=True) runs.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let gone = missing_link_target(&program)
                .map(|t| {
                    format!(
                        " ({} leads to {}, which does not exist)",
                        program.display(),
                        t.display()
                    )
                })
                .unwrap_or_default();
            return not_run(format!("cannot run {}: {e}{gone}", program.display()));
        }
    };
    let pid = child.id() as i32;
    let out = child.stdout.take().map(Drain::start);
    let err = child.stderr.take().map(Drain::start);
    let (exit_tx, exit_rx) = tokio::sync::oneshot::channel();
    let waiter = std::thread::spawn(move || {
        let _ = exit_tx.send(child.wait());
    });
    let signer = Signer {
        key: key.into_bytes(),
        session,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let (outcome, answered_at) = match rt {
        Err(e) => (
            Outcome::NotRun {
                error: format!("cannot start an async runtime: {e}"),
            },
            t0.elapsed(),
        ),
        Ok(rt) => rt.block_on(async {
            tokio::pin!(exit_rx);
            let outcome = tokio::select! {
                status = &mut exit_rx => exited(status.ok().and_then(Result::ok)),
                _ = tokio::time::sleep(req.timeout) => Outcome::TimedOut {
                    timeout_ms: req.timeout.as_millis() as u64,
                },
                ready = kernel_info(ports[0], &signer) => ready,
            };
            let ready_at = t0.elapsed();
            if matches!(outcome, Outcome::Ready { .. }) {
                // Ask politely, as a server would; the kill below follows either way.
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
                    tokio::select! {
                        _ = request_shutdown(ports[3], &signer) => {}
                        _ = &mut exit_rx => {}
                    }
                })
                .await;
            }
            (outcome, ready_at)
        }),
    };
    kill_everything(pid, marker.as_bytes());
    let _ = waiter.join();
    drop(out.map(|d| d.finish(Duration::from_millis(500))));
    let stderr = err
        .map(|d| d.finish(Duration::from_millis(500)))
        .unwrap_or_default();
    drop(dir);
    StartResult {
        ready_ms: matches!(outcome, Outcome::Ready { .. }).then(|| answered_at.as_millis() as u64),
        outcome,
        elapsed_ms: t0.elapsed().as_millis() as u64,
        stderr_tail: tail_lines(&stderr, STDERR_TAIL_LINES),
    }
}

/// The first missing target along `path`'s symlink chain: the base interpreter a venv's
/// `bin/python` pointed at before it was uninstalled.
fn missing_link_target(path: &std::path::Path) -> Option<PathBuf> {
    let mut cur = path.to_path_buf();
    for _ in 0..40 {
        let target = std::fs::read_link(&cur).ok()?;
        let next = cur.parent().map_or(target.clone(), |d| d.join(&target));
        if next.symlink_metadata().is_err() {
            return Some(next);
        }
        cur = next;
    }
    None
}

fn exited(status: Option<std::process::ExitStatus>) -> Outcome {
    Outcome::Exited {
        exit_code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
    }
}

/// Start every request, at most as many at once as there are cores, results in order.
pub fn start_all(reqs: &[StartRequest]) -> Vec<StartResult> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<StartResult>>> = Mutex::new(vec![None; reqs.len()]);
    std::thread::scope(|s| {
        for _ in 0..cores.min(reqs.len()) {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(req) = reqs.get(i) else { return };
                let r = start(req);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| StartResult {
                outcome: Outcome::NotRun {
                    error: "the start did not run".into(),
                },
                ready_ms: None,
                elapsed_ms: 0,
                stderr_tail: String::new(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_civil() {
        let d = iso_now();
        assert_eq!(d.len(), "2026-12-03T11:27:42.123456Z".len());
        assert!(d.ends_with('Z') && d.as_bytes()[10] == b'T');
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid4().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, uuid4().unwrap());
    }

    #[test]
    fn messages_round_trip_and_reject_bad_signatures() {
        let s = Signer {
            key: b"k".to_vec(),
            session: "s".into(),
        };
        let m = s
            .message("kernel_info_request", serde_json::json!({"a": 1}))
            .unwrap();
        let (t, c) = s.read(&m).unwrap();
        assert_eq!(t, "kernel_info_request");
        assert_eq!(c["a"], 1);
        let other = Signer {
            key: b"other".to_vec(),
            session: "s".into(),
        };
        assert!(other.read(&m).is_none());
    }

    #[test]
    fn old_replies_are_read_leniently() {
        // ipykernel 4.x: no implementation fields in some builds, language_info without version
        let r = ready_from(&serde_json::json!({"protocol_version": "5.0", "language_info": {}}));
        assert_eq!(
            r,
            Outcome::Ready {
                implementation: None,
                implementation_version: None,
                language_version: None,
                protocol_version: Some("5.0".into()),
            }
        );
    }

    #[test]
    fn tails_keep_the_last_lines() {
        let text: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        let t = tail_lines(text.as_bytes(), 30);
        assert!(t.starts_with("line 11\n") && t.ends_with("line 40"));
    }

    fn sh(script: &str, timeout: Duration) -> StartResult {
        let dir = tempfile::tempdir().unwrap();
        start(&StartRequest {
            kernel_name: "t".into(),
            argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
            env: EnvVars::from_pairs([("PATH", "/usr/bin:/bin")]),
            cwd: dir.path().to_path_buf(),
            timeout,
        })
    }

    #[test]
    fn an_exit_is_reported_at_once_with_its_stderr() {
        let r = sh("echo boom >&2; exit 3", Duration::from_secs(30));
        assert_eq!(
            r.outcome,
            Outcome::Exited {
                exit_code: Some(3),
                signal: None
            }
        );
        assert_eq!(r.stderr_tail, "boom");
        assert!(r.elapsed_ms < 10_000, "{r:?}");
    }

    #[test]
    fn no_more_starts_at_once_than_cores() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let script = format!(
            "echo + >> {l}; sleep 0.3; echo - >> {l}; exit 1",
            l = log.display()
        );
        let req = StartRequest {
            kernel_name: "t".into(),
            argv: vec!["/bin/sh".into(), "-c".into(), script],
            env: EnvVars::from_pairs([("PATH", "/usr/bin:/bin")]),
            cwd: dir.path().to_path_buf(),
            timeout: Duration::from_secs(30),
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let reqs = vec![req; cores + 2];
        let results = start_all(&reqs);
        assert_eq!(results.len(), cores + 2);
        assert!(results.iter().all(|r| matches!(
            r.outcome,
            Outcome::Exited {
                exit_code: Some(1),
                ..
            }
        )));
        let (mut now, mut most) = (0i32, 0i32);
        for l in std::fs::read_to_string(&log).unwrap().lines() {
            now += if l == "+" { 1 } else { -1 };
            most = most.max(now);
        }
        assert!(
            most as usize <= cores,
            "{most} starts at once on {cores} cores"
        );
    }

    #[test]
    fn a_silent_kernel_times_out() {
        let r = sh("exec sleep 600", Duration::from_millis(300));
        assert_eq!(r.outcome, Outcome::TimedOut { timeout_ms: 300 });
    }
}
