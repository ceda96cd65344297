//! Faults around installs, proven with the real uv: the per-env lock never lets two installers
//! overlap (a tripwire records when each one runs), Ctrl-C ends an installer even when it
//! ignores SIGINT and SIGTERM (nothing of its process group survives), and a kip that has to
//! wait names the process holding the lock and how to end it — advice that works when
//! followed.

mod support;

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{default_timeout, run_command, toolbox, wait_for_exit, World};

/// A script standing in front of the real uv (`KIP_UV`): `body` runs with `$UV` set to it.
fn uv_wrapper(w: &World, body: &str) -> PathBuf {
    let path = w.root().join("uv-wrapper");
    std::fs::write(
        &path,
        format!("#!/bin/bash\nUV={}\n{body}\n", toolbox().uv.display()),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    w.set_var("KIP_UV", path.to_str().unwrap());
    path
}

fn kip_command(w: &World, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kip"));
    c.args(args)
        .env_clear()
        .envs(w.env())
        .current_dir(w.cwd())
        .stdin(Stdio::null());
    c
}

/// `kip install slowpkg --python PYTHON` from an index that never answers, returned once its
/// installer has asked (so it holds the environment's lock and hangs).
fn stuck_install(w: &World, python: &Path, index: &HangingIndex) -> Child {
    let mut c = kip_command(
        w,
        &["install", "slowpkg", "--python", python.to_str().unwrap()],
    );
    c.env("PIP_INDEX_URL", &index.url).stderr(Stdio::null());
    let child = c.spawn().unwrap();
    wait_for_file(&index.asked);
    child
}

/// Wait (bounded) until `p` exists with some content.
fn wait_for_file(p: &Path) -> String {
    let t0 = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(p) {
            if !text.trim().is_empty() {
                return text;
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{} never appeared",
            p.display()
        );
        std::thread::yield_now();
    }
}

/// A loopback index that never answers; `asked` appears when an installer reaches it.
struct HangingIndex {
    server: Child,
    url: String,
    asked: PathBuf,
}

impl HangingIndex {
    fn start(w: &World) -> HangingIndex {
        let asked = w.root().join("asked");
        let port_file = w.root().join("hanging-port");
        let script = format!(
            "import http.server, time\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        open({m:?}, 'w').write('x')\n        time.sleep(300)\ns = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\nopen({p:?}, 'w').write(str(s.server_address[1]))\ns.serve_forever()\n",
            m = asked.to_str().unwrap(),
            p = port_file.to_str().unwrap()
        );
        let server = Command::new(&toolbox().base_python)
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let port = wait_for_file(&port_file);
        HangingIndex {
            server,
            url: format!("http://127.0.0.1:{}/simple", port.trim()),
            asked,
        }
    }
}

impl Drop for HangingIndex {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Wait for `child` at most `timeout`; kill it and fail if it is still running.
fn wait_bounded(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let done = wait_for_exit(child.id(), timeout);
    if !done {
        let _ = child.kill();
        let _ = child.wait();
        panic!("pid {} still running after {timeout:?}", child.id());
    }
    child.wait().unwrap()
}

/// Processes whose process group is `pgid`, from /proc.
fn group_members(pgid: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() != Some(&"Z") && fields.get(2) == Some(&pgid.to_string().as_str()) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn concurrent_installs_never_overlap() {
    let w = World::new();
    let log = w.root().join("tripwire.log");
    // The tripwire: every `uv pip install` notes when it starts and ends (O_APPEND lines).
    uv_wrapper(
        &w,
        &format!(
            "if [ \"$1 $2\" = \"pip install\" ]; then\n  echo \"enter $$ $(date +%s%N)\" >> {log}\n  \"$UV\" \"$@\"; rc=$?\n  echo \"exit $$ $(date +%s%N)\" >> {log}\n  exit $rc\nfi\nexec \"$UV\" \"$@\"",
            log = log.display()
        ),
    );
    let mut wheels = Vec::new();
    for i in 0..8 {
        wheels.push(w.wheel(&format!("conc{i}"), "1.0", &[(&format!("conc{i}"), "")]));
    }
    w.set_var("PIP_NO_INDEX", "1");
    w.set_var(
        "PIP_FIND_LINKS",
        wheels[0].parent().unwrap().to_str().unwrap(),
    );
    let venv = w.stdlib_venv(&w.root().join("v"), &toolbox().base_python, true);
    let p = venv.python.to_str().unwrap().to_string();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let cmd = kip_command(&w, &["install", &format!("conc{i}"), "--python", &p]);
            std::thread::spawn(move || run_command(cmd, default_timeout()))
        })
        .collect();
    let mut waited = 0;
    for h in handles {
        let o = h.join().unwrap();
        o.ok();
        if o.stderr.contains("waiting for another kip") {
            waited += 1;
        }
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let mut spans: std::collections::BTreeMap<String, (u128, u128)> = Default::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let t: u128 = f[2].parse().unwrap();
        let e = spans.entry(f[1].to_string()).or_insert((0, 0));
        if f[0] == "enter" {
            e.0 = t;
        } else {
            e.1 = t;
        }
    }
    assert_eq!(spans.len(), 8, "every install ran its installer:\n{text}");
    let mut spans: Vec<(u128, u128)> = spans.into_values().collect();
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[0].1 > pair[0].0, "an installer never ended:\n{text}");
        assert!(
            pair[1].0 >= pair[0].1,
            "two installers ran in the same env at once:\n{text}"
        );
    }
    assert!(waited >= 1, "the lock never made an install wait");
    w.run(&venv.python, &["-m", "pip", "check"]).ok();
}

#[test]
fn ctrl_c_stops_the_installer_exits_130_and_releases_the_lock() {
    let w = World::new();
    uv_wrapper(&w, "exec \"$UV\" \"$@\"");
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let index = HangingIndex::start(&w);
    let mut kip = stuck_install(&w, &venv.python, &index);
    let t0 = Instant::now();
    // SAFETY: signalling our own child, as a terminal's Ctrl-C would.
    unsafe { libc::kill(kip.id() as i32, libc::SIGINT) };
    let status = wait_bounded(&mut kip, Duration::from_secs(30));
    assert_eq!(status.code(), Some(130));
    assert!(t0.elapsed() < Duration::from_secs(5), "uv stops at SIGINT");
    // The lock is free: another install proceeds without waiting.
    let wheel = w.wheel("afterint", "1.0", &[("afterint", "")]);
    w.set_var("PIP_NO_INDEX", "1");
    w.set_var("PIP_FIND_LINKS", wheel.parent().unwrap().to_str().unwrap());
    let out = w.kip(&[
        "install",
        "afterint",
        "--python",
        venv.python.to_str().unwrap(),
    ]);
    out.ok();
    assert!(
        !out.stderr.contains("waiting for another kip"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_installer_that_ignores_ctrl_c_is_escalated_and_its_whole_group_killed() {
    let w = World::new();
    let uv_pid = w.root().join("uv.pid");
    // Ignores SIGINT and SIGTERM, and so does the real uv it runs in the background
    // (a non-interactive shell's background job ignores SIGINT; `trap ''` is inherited).
    uv_wrapper(
        &w,
        &format!(
            "if [ \"$1 $2\" = \"pip install\" ]; then\n  trap '' INT TERM\n  \"$UV\" \"$@\" &\n  echo $! > {pid}\n  wait $!\n  exit 1\nfi\nexec \"$UV\" \"$@\"",
            pid = uv_pid.display()
        ),
    );
    w.set_var("KIP_INTERRUPT_GRACE_MS", "300");
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let index = HangingIndex::start(&w);
    let mut kip = stuck_install(&w, &venv.python, &index);
    let uv: u32 = wait_for_file(&uv_pid).trim().parse().unwrap();
    let wrapper = std::fs::read_to_string(format!("/proc/{uv}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_string();
            rest.split_whitespace().nth(2)?.parse::<u32>().ok()
        })
        .expect("uv's process group");
    let t0 = Instant::now();
    // SAFETY: signalling our own child, as a terminal's Ctrl-C would.
    unsafe { libc::kill(kip.id() as i32, libc::SIGINT) };
    let status = wait_bounded(&mut kip, Duration::from_secs(30));
    assert_eq!(status.code(), Some(130));
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(600),
        "SIGINT and SIGTERM were ignored, so only SIGKILL after two graces ended it ({took:?})"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(
        wait_for_exit(uv, Duration::from_secs(10)),
        "uv {uv} survived"
    );
    assert!(
        wait_for_exit(wrapper, Duration::from_secs(10)),
        "the installer {wrapper} survived"
    );
    assert_eq!(
        group_members(wrapper),
        Vec::<u32>::new(),
        "its group is empty"
    );
}

#[test]
fn a_waiting_kip_names_the_stuck_holder_and_killing_it_as_advised_lets_it_go_on() {
    let w = World::new();
    uv_wrapper(&w, "exec \"$UV\" \"$@\"");
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let py = venv.python.to_str().unwrap().to_string();
    let index = HangingIndex::start(&w);
    let mut stuck = stuck_install(&w, &venv.python, &index);

    let wheel = w.wheel("waiter", "1.0", &[("waiter", "")]);
    let mut second = kip_command(&w, &["install", "waiter", "--python", &py]);
    second
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", wheel.parent().unwrap())
        .stderr(Stdio::piped());
    let mut second = second.spawn().unwrap();
    let (tx, rx) = mpsc::channel();
    let err = second.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = loop {
        let l = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the second kip said nothing while it waited");
        if l.contains("waiting for another kip") {
            break l;
        }
    };
    let advice = format!("kill {}", stuck.id());
    assert!(
        line.contains(&format!("pid {}", stuck.id())) && line.contains(&advice),
        "{line}"
    );
    // Follow the advice exactly: `kill PID` is SIGTERM.
    // SAFETY: signalling our own child.
    unsafe { libc::kill(stuck.id() as i32, libc::SIGTERM) };
    assert_eq!(
        wait_bounded(&mut stuck, Duration::from_secs(30)).code(),
        Some(130)
    );
    assert!(wait_bounded(&mut second, default_timeout()).success());
    w.run(&venv.python, &["-c", "import waiter"]).ok();
}
