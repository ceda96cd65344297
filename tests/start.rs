//! Proof by starting: real kernels started by kip as Jupyter would start them, the reasons they
//! die (`kernel-start-fails` with the stderr tail), the safety rules (what kip refuses to
//! start), nothing left running afterwards, and `kip kernel add|fix` rolling back a kernel
//! that cannot start.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::{toolbox, World};

fn setup() -> World {
    World::with_tools()
}

fn kernels_dir(w: &World) -> PathBuf {
    w.root().join("xdg/data/jupyter/kernels")
}

/// `dir/nb.ipynb` on kernel `kernel`, with one code cell of `code`.
fn notebook(dir: &Path, kernel: &str, code: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let nb = serde_json::json!({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}},
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null, "source": code}],
    });
    let p = dir.join("nb.ipynb");
    std::fs::write(&p, nb.to_string()).unwrap();
    p
}

fn findings<'a>(v: &'a serde_json::Value, id: &str) -> Vec<&'a serde_json::Value> {
    v["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in {v}"))
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

fn start_of<'a>(v: &'a serde_json::Value, kernel: &str) -> &'a serde_json::Value {
    v["starts"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["kernel"] == kernel))
        .unwrap_or_else(|| panic!("no start of {kernel:?} in {v}"))
}

/// A random marker value, so a test finds exactly its own processes.
fn nonce() -> String {
    let d = tempfile::tempdir().unwrap();
    d.path().file_name().unwrap().to_string_lossy().into_owned()
}

/// Live (not zombie) processes whose environment holds `KIP_TEST_MARKER=<marker>`: found by
/// the environment, not by process group, so a daemon that called `setsid` is found too.
fn survivors(marker: &str) -> Vec<i32> {
    let want = format!("KIP_TEST_MARKER={marker}");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit(')')
                        .next()
                        .map(|r| r.trim_start().starts_with('Z'))
                })
                .unwrap_or(true);
            !zombie && env.split(|b| *b == 0).any(|kv| kv == want.as_bytes())
        })
        .collect()
}

/// A kernel that is not a Python kernel at all: `/usr/bin/python3 k.py`, where `k.py` first
/// starts a daemon (double fork + setsid, its pid written to `daemon.pid` in the kernel dir),
/// waits until the daemon runs, then does `then`. Its env carries the test's marker.
fn daemon_kernel(w: &World, name: &str, marker: &str, then: &str) -> PathBuf {
    let dir = kernels_dir(w).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!(
        r#"import os, sys, time
r, wr = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        open(os.path.join({dir:?}, "daemon.pid"), "w").write(str(os.getpid()))
        os.write(wr, b"x")
        time.sleep(600)
        os._exit(0)
    os._exit(0)
os.read(r, 1)
{then}
"#,
        dir = dir.display().to_string()
    );
    std::fs::write(dir.join("k.py"), script).unwrap();
    let spec = serde_json::json!({
        "argv": ["/usr/bin/python3", "{resource_dir}/k.py", "-f", "{connection_file}"],
        "display_name": name,
        "language": "python",
        "env": {"KIP_TEST_MARKER": marker},
    });
    std::fs::write(dir.join("kernel.json"), spec.to_string()).unwrap();
    dir
}

fn daemon_pid(dir: &Path) -> i32 {
    std::fs::read_to_string(dir.join("daemon.pid"))
        .unwrap_or_else(|e| panic!("the kernel's daemon never ran: {e}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn healthy_notebook_starts_and_exits_0() {
    let w = setup();
    let marker = nonce();
    // The native kernel (ipykernel in the Jupyter's own env), its env marked.
    w.set_var("KIP_TEST_MARKER", &marker);
    // `python`/`pip` on PATH are the Jupyter's, so the shell agrees with the server.
    w.prepend_path(&toolbox().root.join("venv/bin"));
    let nbdir = w.root().join("project");
    notebook(&nbdir, "python3", "import json\nprint(json.dumps(1))");
    let out = w.kip_in(&nbdir, &["doctor", "nb.ipynb", "--json"]);
    let v = out.json();
    assert_eq!(out.status, 0, "{v}\n{}", out.stderr);
    assert_eq!(v["findings"], serde_json::json!([]), "{v}");
    let s = start_of(&v, "python3");
    assert_eq!(s["outcome"], "ready", "{v}");
    assert_eq!(s["cwd"], nbdir.display().to_string());
    assert!(s["language_version"].as_str().unwrap().starts_with("3."));
    assert!(survivors(&marker).is_empty());
    // Human output says it was proven.
    let out = w.kip_in(&nbdir, &["doctor", "nb.ipynb"]);
    assert_eq!(out.status, 0, "{}", out.show());
    assert!(
        out.stdout.contains("start python3: ready in"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_local_types_py_kills_the_kernel() {
    let w = setup();
    let nbdir = w.root().join("project");
    notebook(&nbdir, "python3", "print(1)");
    // What users write: their own "types" module.
    std::fs::write(
        nbdir.join("types.py"),
        "class Point:\n    x: int = 0\n    y: int = 0\n",
    )
    .unwrap();
    let out = w.kip_in(&nbdir, &["doctor", "nb.ipynb", "--json"]);
    let v = out.json();
    assert_eq!(out.status, 1, "{v}");
    let f = findings(&v, "kernel-start-fails");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["subject"], "python3");
    assert_eq!(f[0]["exit_code"], 1, "{v}");
    assert_eq!(f[0]["timed_out"], false);
    let tail = f[0]["stderr_tail"].as_str().unwrap();
    assert!(
        tail.contains(&nbdir.join("types.py").display().to_string()),
        "{tail}"
    );
    assert!(tail.contains("cannot import name"), "{tail}");
    assert!(tail.lines().count() <= 30);
    let fix = f[0]["fix"]["text"].as_str().unwrap();
    assert!(
        fix.starts_with(&format!("rename {}", nbdir.join("types.py").display())),
        "{fix}"
    );
    // Its own finding: the kernel itself imports `types` while starting.
    let sh = findings(&v, "notebook-local-shadowing");
    assert_eq!(sh.len(), 1, "{v}");
    assert_eq!(sh[0]["severity"], "error");
    assert_eq!(sh[0]["module"], "types");
    // Under --no-start nothing starts and nothing is measured.
    std::fs::write(nbdir.join("json.py"), "").unwrap();
    notebook(&nbdir, "python3", "import json");
    let out = w.kip_in(&nbdir, &["doctor", "nb.ipynb", "--json", "--no-start"]);
    let v = out.json();
    assert!(findings(&v, "kernel-start-fails").is_empty(), "{v}");
    assert!(v.get("starts").is_none(), "{v}");
    let sh = findings(&v, "notebook-local-shadowing");
    assert_eq!(sh.len(), 1, "{v}");
    assert_eq!(sh[0]["module"], "json");
    assert_eq!(sh[0]["severity"], "warning");
    assert!(
        sh[0]["explanation"]
            .as_str()
            .unwrap()
            .contains("not measured"),
        "{v}"
    );
}

#[test]
fn a_pythonpath_from_the_shell_breaks_the_start() {
    let w = setup();
    let stale = w.root().join("old-libs");
    std::fs::create_dir_all(stale.join("traitlets")).unwrap();
    std::fs::write(
        stale.join("traitlets/__init__.py"),
        "raise ImportError('traitlets from a stale PYTHONPATH copy')\n",
    )
    .unwrap();
    w.set_var("PYTHONPATH", stale.to_str().unwrap());
    let nbdir = w.root().join("project");
    notebook(&nbdir, "python3", "print(1)");
    let out = w.kip_in(&nbdir, &["doctor", "nb.ipynb", "--json"]);
    let v = out.json();
    assert_eq!(out.status, 1, "{v}");
    let f = findings(&v, "kernel-start-fails");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["exit_code"], 1);
    let tail = f[0]["stderr_tail"].as_str().unwrap();
    assert!(
        tail.contains("traitlets from a stale PYTHONPATH copy"),
        "{tail}"
    );
    let p = findings(&v, "shell-pythonpath");
    assert_eq!(p.len(), 1, "{v}");
    assert_eq!(p[0]["severity"], "warning");
    assert!(p[0]["message"].as_str().unwrap().contains("old-libs"));
}

#[test]
fn a_venv_whose_base_is_gone() {
    let w = setup();
    // A base reached through its own folder (as a pyenv version is), then uninstalled.
    let base = w.root().join("base");
    std::fs::create_dir_all(base.join("bin")).unwrap();
    std::os::unix::fs::symlink(&toolbox().base_python, base.join("bin/python3")).unwrap();
    let v = w.stdlib_venv(&w.root().join("orphan"), &base.join("bin/python3"), false);
    w.kernelspec(
        &kernels_dir(&w),
        "orphan",
        &serde_json::json!({
            "argv": [v.python.to_str().unwrap(), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "orphan", "language": "python",
        })
        .to_string(),
    );
    std::fs::remove_dir_all(&base).unwrap();
    let out = w.kip(&["doctor", "--start", "--json"]);
    let v_ = out.json();
    assert_eq!(out.status, 1, "{v_}");
    let f: Vec<_> = findings(&v_, "kernel-start-fails")
        .into_iter()
        .filter(|f| f["subject"] == "orphan")
        .collect();
    assert_eq!(f.len(), 1, "{v_}");
    assert_eq!(f[0]["exit_code"], serde_json::Value::Null);
    assert_eq!(f[0]["timed_out"], false);
    let tail = f[0]["stderr_tail"].as_str().unwrap();
    assert!(tail.contains(&v.python.display().to_string()), "{tail}");
    assert!(tail.contains(&base.display().to_string()), "{tail}");
    // Its own finding about the interpreter, which carries the repair.
    assert!(
        ["env-venv-base-missing", "kernel-interpreter-missing"]
            .iter()
            .flat_map(|id| findings(&v_, id))
            .any(|f| f["subject"].as_str().unwrap().contains("orphan")),
        "{v_}"
    );
    // The healthy native kernel was started too, and is fine.
    assert_eq!(start_of(&v_, "python3")["outcome"], "ready", "{v_}");
}

#[test]
fn a_hanging_kernel_is_reported_after_the_timeout_and_its_daemon_is_killed() {
    let w = setup();
    let marker = nonce();
    let dir = daemon_kernel(
        &w,
        "hangs",
        &marker,
        "sys.stderr.write('loading a huge config\\n'); sys.stderr.flush(); time.sleep(600)",
    );
    w.set_var("KIP_START_TIMEOUT_MS", "1500");
    let out = w.kip(&["doctor", "--start", "--kernel", "hangs", "--json"]);
    let v = out.json();
    assert_eq!(out.status, 1, "{v}");
    let f = findings(&v, "kernel-start-fails");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["timed_out"], true);
    assert_eq!(f[0]["exit_code"], serde_json::Value::Null);
    assert_eq!(f[0]["stderr_tail"], "loading a huge config");
    assert!(f[0]["message"].as_str().unwrap().contains("1500 ms"), "{v}");
    assert!(start_of(&v, "hangs")["elapsed_ms"].as_u64().unwrap() >= 1500);
    let daemon = daemon_pid(&dir);
    assert_eq!(
        survivors(&marker),
        Vec::<i32>::new(),
        "daemon {daemon} and co. survived"
    );
}

#[test]
fn a_kernel_that_exits_at_once_is_reported_at_its_exit() {
    let w = setup();
    let marker = nonce();
    let dir = daemon_kernel(
        &w,
        "exits",
        &marker,
        "sys.stderr.write('Traceback: boom\\n'); sys.exit(1)",
    );
    // The default timeout (30 s): the report must not wait for it.
    let out = w.kip(&["doctor", "--start", "--kernel", "exits", "--json"]);
    let v = out.json();
    assert_eq!(out.status, 1, "{v}");
    let f = findings(&v, "kernel-start-fails");
    assert_eq!(f[0]["exit_code"], 1, "{v}");
    assert_eq!(f[0]["timed_out"], false);
    assert_eq!(f[0]["stderr_tail"], "Traceback: boom");
    let ms = start_of(&v, "exits")["elapsed_ms"].as_u64().unwrap();
    assert!(ms < 10_000, "reported after {ms} ms");
    daemon_pid(&dir);
    assert_eq!(survivors(&marker), Vec::<i32>::new());
}

#[test]
fn remote_wrappers_are_not_started() {
    let w = setup();
    let ran = w.root().join("wrapper-ran");
    for tool in ["ssh", "srun"] {
        let fake = w.bin().join(tool);
        std::fs::write(
            &fake,
            format!("#!/bin/sh\necho {tool} >> {}\nexit 1\n", ran.display()),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        w.kernelspec(
            &kernels_dir(&w),
            &format!("remote-{tool}"),
            &serde_json::json!({
                "argv": [tool, "cluster", "python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": tool, "language": "python",
            })
            .to_string(),
        );
    }
    let out = w.kip(&["doctor", "--start", "--json"]);
    let v = out.json();
    for tool in ["ssh", "srun"] {
        let s = start_of(&v, &format!("remote-{tool}"));
        assert_eq!(s["started"], false, "{v}");
        assert!(s["why"].as_str().unwrap().contains(tool), "{v}");
    }
    assert!(!ran.exists(), "a remote wrapper ran");
    assert!(findings(&v, "kernel-start-fails").is_empty(), "{v}");
    let out = w.kip(&["doctor", "--start"]);
    assert!(
        out.stdout
            .contains("start remote-ssh: not started: its argv runs through `ssh`"),
        "{}",
        out.stdout
    );
}

fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "this test checks what kip refuses to start as root: run the suite as root (CI does)"
    );
}

#[test]
fn as_root_kernels_in_folders_of_other_users_are_not_started() {
    require_root();
    let w = setup();
    // A notebook in a folder owned by nobody.
    let theirs = w.root().join("theirs");
    notebook(&theirs, "python3", "print(1)");
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let out = w.kip_in(&theirs, &["doctor", "nb.ipynb", "--json"]);
    let v = out.json();
    let s = start_of(&v, "python3");
    assert_eq!(s["started"], false, "{v}");
    let why = s["why"].as_str().unwrap();
    assert!(why.contains("root") && why.contains("nobody"), "{why}");
    assert!(findings(&v, "kernel-start-fails").is_empty(), "{v}");
    // A notebook in a 1777 folder that holds a types.py of nobody's.
    let shared = w.root().join("shared");
    notebook(&shared, "python3", "print(1)");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let planted = shared.join("types.py");
    std::fs::write(&planted, "import os\nos.system('touch /tmp/pwned')\n").unwrap();
    std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
    let out = w.kip_in(&shared, &["doctor", "nb.ipynb"]);
    assert!(
        out.stdout
            .contains("start python3: not started: kip runs as root"),
        "{}",
        out.show()
    );
    let out = w.kip_in(&shared, &["doctor", "nb.ipynb", "--json"]);
    let v = out.json();
    assert_eq!(start_of(&v, "python3")["started"], false, "{v}");
    assert!(findings(&v, "kernel-start-fails").is_empty(), "{v}");
}

/// A venv with ipykernel whose launcher dies at once (a broken install).
fn broken_ipykernel_venv(w: &World, name: &str) -> support::Venv {
    let v = w.uv_venv(&w.root().join(name), &toolbox().base_python, true);
    w.uv_install(&v.python, &["ipykernel"]).unwrap();
    w.replace_file(
        &v.site_packages().join("ipykernel_launcher.py"),
        "import sys\nsys.stderr.write('ipykernel is half-installed\\n')\nsys.exit(1)\n",
    );
    v
}

#[test]
fn kernel_add_of_a_kernel_that_cannot_start_registers_nothing() {
    let w = setup();
    let v = broken_ipykernel_venv(&w, "broken");
    let out = w.kip(&[
        "kernel",
        "add",
        v.prefix.to_str().unwrap(),
        "--name",
        "broken",
    ]);
    assert_eq!(out.status, 1, "{}", out.show());
    assert!(
        out.stderr.contains("ipykernel is half-installed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("nothing was registered"),
        "{}",
        out.stderr
    );
    assert!(!kernels_dir(&w).join("broken").exists());
    let listed = w.kip(&["kernels", "--json"]).json();
    assert!(
        !listed["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "broken"),
        "{listed}"
    );
    // --no-start registers it as asked.
    let out = w.kip(&[
        "kernel",
        "add",
        v.prefix.to_str().unwrap(),
        "--name",
        "broken",
        "--no-start",
    ]);
    assert_eq!(out.status, 0, "{}", out.show());
    assert!(kernels_dir(&w).join("broken/kernel.json").is_file());
}

#[test]
fn kernel_fix_that_would_break_a_kernel_restores_the_backup() {
    let w = setup();
    let v = broken_ipykernel_venv(&w, "proj");
    // A spec in the env's own share/jupyter/kernels with a bare `python`: today Jupyter runs its
    // own interpreter (which works); the fix would point it at the env's (which cannot start).
    let data = v.prefix.join("share/jupyter");
    let kfile = w
        .kernelspec(
            &data.join("kernels"),
            "proj",
            &serde_json::json!({
                "argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "proj", "language": "python",
            })
            .to_string(),
        )
        .join("kernel.json");
    w.set_var("JUPYTER_PATH", data.to_str().unwrap());
    let before = std::fs::read(&kfile).unwrap();
    let out = w.kip(&["kernel", "fix", "proj", "--json"]);
    assert_eq!(out.status, 1, "{}", out.show());
    let v_ = out.json();
    let r = &v_["kernels"][0];
    assert_eq!(r["restored"], true, "{v_}");
    assert_eq!(r["changed"], false);
    assert_eq!(r["start"]["exit_code"], 1, "{v_}");
    assert!(
        r["skipped"][0].as_str().unwrap().contains("restored from"),
        "{v_}"
    );
    assert_eq!(
        std::fs::read(&kfile).unwrap(),
        before,
        "kernel.json was not restored"
    );
    // The backup is kept beside it.
    let baks = std::fs::read_dir(kfile.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("kernel.json.kip-bak-")
        })
        .count();
    assert_eq!(baks, 1);
}

#[test]
fn an_ipykernel_5_kernel_on_python_3_6_is_proven() {
    let w = setup();
    let wheels = support::py36_kernel_wheels();
    let v = w.stdlib_venv(&w.root().join("old36"), &support::pyenv_python("3.6"), true);
    let links = wheels.to_str().unwrap();
    for pkg in ["pip==21.3.1", "ipykernel==5.5.6"] {
        let out = w.run(
            &v.python,
            &[
                "-m",
                "pip",
                "install",
                "-q",
                "--no-index",
                "--find-links",
                links,
                pkg,
            ],
        );
        assert_eq!(out.status, 0, "pip install {pkg}: {}", out.show());
    }
    let out = w.kip(&[
        "kernel",
        "add",
        v.prefix.to_str().unwrap(),
        "--name",
        "old36",
    ]);
    assert_eq!(out.status, 0, "{}", out.show());
    assert!(out.stderr.contains("start: ready in"), "{}", out.stderr);
    let out = w.kip(&["doctor", "--start", "--kernel", "old36", "--json"]);
    let v_ = out.json();
    let s = start_of(&v_, "old36");
    assert_eq!(s["outcome"], "ready", "{v_}");
    assert!(
        s["language_version"].as_str().unwrap().starts_with("3.6"),
        "{v_}"
    );
    assert!(
        s["implementation_version"]
            .as_str()
            .unwrap()
            .starts_with("7.16"),
        "{v_}"
    );
    assert!(findings(&v_, "kernel-start-fails").is_empty(), "{v_}");
}

#[test]
fn an_ipykernel_4_kernel_on_python_2_7_is_proven() {
    let w = setup();
    let site = support::py27_ipykernel4();
    let py27 = support::pyenv_python("2.7");
    w.kernelspec(
        &kernels_dir(&w),
        "py27",
        &serde_json::json!({
            "argv": [py27.to_str().unwrap(), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 2.7", "language": "python",
            "env": {"PYTHONPATH": site.to_str().unwrap(), "PYTHONDONTWRITEBYTECODE": "1"},
        })
        .to_string(),
    );
    let out = w.kip(&["doctor", "--start", "--kernel", "py27", "--json"]);
    let v = out.json();
    let s = start_of(&v, "py27");
    assert_eq!(s["outcome"], "ready", "{v}");
    assert!(
        s["language_version"].as_str().unwrap().starts_with("2.7"),
        "{v}"
    );
    assert!(findings(&v, "kernel-start-fails").is_empty(), "{v}");
}
