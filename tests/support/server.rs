//! A real jupyter_server in a world (`tests/toolbox/provision.sh` builds its `server-venv`).

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{toolbox, Venv, World};

/// A jupyter_server the test started (its own process group, killed on drop).
pub struct Server {
    child: Child,
    pub pid: i32,
    pub port: u16,
    pub token: String,
    pub info_file: PathBuf,
    log: PathBuf,
}

impl Server {
    /// `python -m jupyter_server` from the toolbox's server-venv, with the world's env, on
    /// 127.0.0.1 and a free port, serving the world's cwd; returns once its info file exists.
    pub fn start(w: &World) -> Server {
        Server::start_with(w, &toolbox().server_python)
    }

    /// [`Server::start`] with another env's Python (one that has jupyter_server).
    pub fn start_with(w: &World, python: &std::path::Path) -> Server {
        let token = "kip-test-token-0123456789abcdef".to_string();
        let log = w.container().join("server.log");
        let mut c = w.command(python);
        c.args([
            "-m",
            "jupyter_server",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port=0",
            "--ServerApp.open_browser=False",
            &format!("--ServerApp.root_dir={}", w.cwd().display()),
            &format!("--IdentityProvider.token={token}"),
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .process_group(0);
        let mut child = c.spawn().expect("start jupyter_server");
        let pid = child.id() as i32;
        let runtime = w.root().join("xdg/data/jupyter/runtime");
        let info_file = runtime.join(format!("jpserver-{pid}.json"));
        let deadline = Instant::now() + Duration::from_secs(90);
        // the server writes its info file (atomically) once it listens
        let info: Value = loop {
            if let Some(v) = std::fs::read_to_string(&info_file)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
            {
                break v;
            }
            if let Ok(Some(st)) = child.try_wait() {
                panic!(
                    "jupyter_server exited ({st})\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {} after 90 s\n{}",
                info_file.display(),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Server {
            child,
            pid,
            port: info["port"].as_u64().unwrap() as u16,
            token,
            info_file,
            log,
        }
    }

    /// Open a notebook session through the REST API (POST /api/sessions); the kernel id.
    pub fn open_session(&self, w: &World, path: &str, kernel: &str) -> String {
        let code = r#"
import json, sys, urllib.request
port, token, path, kernel = sys.argv[1:5]
body = json.dumps({"path": path, "name": path, "type": "notebook", "kernel": {"name": kernel}}).encode()
req = urllib.request.Request(f"http://127.0.0.1:{port}/api/sessions", data=body, method="POST",
    headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=60))["kernel"]["id"])
"#;
        let out = w.run(
            &toolbox().server_python,
            &[
                "-c",
                code,
                &self.port.to_string(),
                &self.token,
                path,
                kernel,
            ],
        );
        assert!(
            out.success(),
            "POST /api/sessions failed\n{}\n--- server log:\n{}",
            out.show(),
            self.log()
        );
        out.stdout.trim().to_string()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL the server alone: it cannot remove its info file.
    pub fn kill(&mut self) {
        // SAFETY: signalling the process this test started.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: the process group this test created (pgid = the server's pid).
        unsafe {
            libc::killpg(self.pid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// Kill a kernel the test's server or manager started, by pid, and wait until it is gone.
pub fn kill_kernel(pid: i64) {
    // SAFETY: a kernel this test started.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    assert!(super::wait_for_exit(pid as u32, Duration::from_secs(10)));
}

/// A venv with ipykernel from the wheelhouse, registered as kernel `name` in the world.
pub fn kernel_env(w: &World, dir: &str, name: &str) -> Venv {
    let v = w.uv_venv(&w.root().join(dir), &toolbox().base_python, false);
    w.uv_install(&v.python, &["ipykernel==7.4.0"]).unwrap();
    w.kernelspec(
        &w.user_kernels(),
        name,
        &format!(
            r#"{{"argv": ["{}", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "{name}", "language": "python"}}"#,
            v.python.display()
        ),
    );
    v
}
