//! jupyterlab-kip end to end in a real browser: a real JupyterLab (and Notebook 7) started here
//! on loopback with a token, from a fresh venv where pip installed the two wheels; two kernels
//! on venvs that lack `demo`, a local wheel that a third venv here has; Debian's
//! /usr/bin/chromium driven by playwright-core (jupyterlab-kip/e2e/run.cjs).
//!
//! The flow: `import demo` fails → the notification offers "Install demo into analysis" →
//! a click installs it → the cell runs again and succeeds; the status bar names the kernel's
//! env; an unknown module gets no install action; the same install flow in Notebook 7.
//! Screenshots land in the world, and in docs/img/ with `KIP_E2E_SHOTS=docs/img`.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use support::labwheel::fresh_lab;
use support::{repo_root, run_command, toolbox, wait_for_exit, Venv, World};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A notebook with one code cell on kernel `kernel`.
fn notebook(w: &World, name: &str, kernel: &str, code: &str) {
    let nb = serde_json::json!({
        "cells": [{"cell_type": "code", "execution_count": null, "id": "c1",
                   "metadata": {}, "outputs": [], "source": code}],
        "metadata": {"kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5
    });
    std::fs::write(w.cwd().join(name), nb.to_string()).unwrap();
}

/// A stdlib venv (with pip, as `python -m venv` makes it) with ipykernel from the wheelhouse,
/// registered as kernel `name`.
fn kernel_env(w: &World, name: &str) -> Venv {
    let v = w.stdlib_venv(
        &w.root().join("envs").join(name),
        &toolbox().base_python,
        true,
    );
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

/// JupyterLab, started by this test; SIGTERM on drop (jupyter_server then shuts its kernels
/// down), SIGKILL to its process group if it has not exited 30 s later.
struct Lab {
    child: Child,
    log: PathBuf,
}

impl Lab {
    fn start(w: &World, lab: &Venv, token: &str) -> Lab {
        let log = w.container().join("jupyterlab.log");
        let mut c = w.command(&lab.python);
        c.args([
            "-m",
            "jupyterlab",
            "--allow-root",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port=0",
            &format!("--IdentityProvider.token={token}"),
            // Nothing reaches the network: no PyPI extension manager, news or update check.
            "--LabApp.extension_manager=readonly",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .process_group(0);
        let child = c.spawn().expect("start JupyterLab");
        Lab { child, log }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let pid = self.child.id();
        // SAFETY: signalling the server (then its process group) this test started.
        unsafe {
            libc::kill(pid as i32, libc::SIGTERM);
        }
        if !wait_for_exit(pid, Duration::from_secs(30)) {
            unsafe {
                libc::killpg(pid as i32, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

#[test]
fn install_from_the_notification_in_jupyterlab_and_notebook7() {
    // A browser test that passes without a browser proves nothing: fail, naming the fix.
    assert!(
        Path::new(CHROMIUM).is_file(),
        "jupyterlab_e2e needs {CHROMIUM}: apt-get install -y chromium (.ci/run does)"
    );
    let node = Path::new("/usr/bin/node");
    assert!(
        node.is_file(),
        "jupyterlab_e2e needs /usr/bin/node: apt-get install -y nodejs npm (.ci/run does)"
    );
    let w = World::new();
    for (k, d) in [
        ("JUPYTER_CONFIG_DIR", "jupyter/config"),
        ("JUPYTER_DATA_DIR", "jupyter/data"),
        ("JUPYTER_RUNTIME_DIR", "jupyter/runtime"),
    ] {
        let dir = w.root().join(d);
        std::fs::create_dir_all(&dir).unwrap();
        w.set_var(k, dir.to_str().unwrap());
    }
    // The news prompt would cover the notifications: answered "never", as a user would.
    let settings = w
        .root()
        .join("jupyter/config/lab/user-settings/@jupyterlab/apputils-extension");
    std::fs::create_dir_all(&settings).unwrap();
    std::fs::write(
        settings.join("notification.jupyterlab-settings"),
        r#"{"fetchNews": "false", "checkForUpdates": false}"#,
    )
    .unwrap();

    let lab = fresh_lab(&w, &w.root().join("lab"));
    // `demo` is a local wheel that the env `other` has; analysis and beta lack it.
    let demo = w.wheel("demo", "1.0", &[("demo", "hello = 'demo works'\n")]);
    kernel_env(&w, "analysis");
    kernel_env(&w, "beta");
    let other = kernel_env(&w, "other");
    w.uv_install(&other.python, &[demo.to_str().unwrap()])
        .unwrap();
    // kip's installs resolve offline, from the world's wheels only (pip's own settings).
    w.set_var("PIP_NO_INDEX", "1");
    w.set_var("PIP_FIND_LINKS", demo.parent().unwrap().to_str().unwrap());
    notebook(
        &w,
        "lab-demo.ipynb",
        "analysis",
        "import demo\nprint(demo.hello)",
    );
    notebook(
        &w,
        "nb7-demo.ipynb",
        "beta",
        "import demo\nprint(demo.hello)",
    );
    notebook(&w, "unknown.ipynb", "analysis", "import kip_e2e_nowhere");

    let token = "kip-e2e-token-0123456789abcdef";
    let server = Lab::start(&w, &lab, token);
    let shots = std::env::var_os("KIP_E2E_SHOTS")
        .map(|d| repo_root().join(d))
        .unwrap_or_else(|| w.container().join("shots"));
    std::fs::create_dir_all(&shots).unwrap();
    let mut c = w.command(node);
    c.arg(repo_root().join("jupyterlab-kip/e2e/run.cjs"))
        .env(
            "KIP_E2E_NODE_MODULES",
            toolbox().root.join("e2e-node/node_modules"),
        )
        .env("KIP_E2E_RUNTIME_DIR", w.root().join("jupyter/runtime"))
        .env("KIP_E2E_SERVER_PID", server.child.id().to_string())
        .env("KIP_E2E_SHOTS", &shots)
        .env("KIP_E2E_CHROMIUM", CHROMIUM);
    let out = run_command(c, Duration::from_secs(1200));
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(
        out.status == 0 && out.stdout.contains("e2e: all steps passed"),
        "the browser test failed (screenshots in {})\n{}\n--- JupyterLab log:\n{log}",
        shots.display(),
        out.show()
    );
    for shot in [
        "lab-notification.png",
        "lab-installed.png",
        "lab-statusbar.png",
        "unknown-notification.png",
        "notebook7-notification.png",
        "notebook7-installed.png",
    ] {
        assert!(shots.join(shot).is_file(), "no screenshot {shot}");
    }
}
