//! `jupyterlab-kip` (the subfolder of that name): its server extension's pytest suite against a
//! real jupyter_server, a real kernel and this build's `kip`; and its wheel, installed with pip,
//! enables the extension.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{repo_root, run_command, toolbox, World};

/// The toolbox's labext-venv (jupyter_server, pytest-jupyter, hatchling).
fn labext_python() -> std::path::PathBuf {
    toolbox().root.join("labext-venv/bin/python")
}

/// A world whose PATH starts with the directory of the `kip` under test.
fn world() -> World {
    let w = World::new();
    let kip_dir = Path::new(env!("CARGO_BIN_EXE_kip")).parent().unwrap();
    let path = format!("{}:{}", kip_dir.display(), w.var("PATH").unwrap());
    w.set_var("PATH", &path);
    w.set_var("KIP_TOOLBOX", toolbox().root.to_str().unwrap());
    // Nothing is written into the checkout: no __pycache__, no .pytest_cache.
    w.set_var("PYTHONDONTWRITEBYTECODE", "1");
    w
}

#[test]
fn server_extension_pytest_suite() {
    let w = world();
    let basetemp = w.container().join("pytest");
    let mut c = w.command(&labext_python());
    c.current_dir(repo_root().join("jupyterlab-kip")).args([
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--basetemp",
        basetemp.to_str().unwrap(),
    ]);
    let out = run_command(c, Duration::from_secs(900));
    // pytest's exit codes: 0 all passed; 1 failures; 2 interrupted; 3 internal error;
    // 4 usage error; 5 no tests collected. Only 0 is green.
    assert_eq!(
        out.status, 0,
        "pytest exited {} (1: tests failed, 5: no tests collected)\n{}\n{}",
        out.status, out.stdout, out.stderr
    );
    assert!(out.stdout.contains(" passed"), "{}", out.stdout);
}

#[test]
fn wheel_installed_with_pip_enables_the_server_extension() {
    let w = world();
    let dist = w.root().join("dist");
    // An out-of-tree copy: building never writes into the checkout.
    let src = w.root().join("src");
    let mut cp = w.command(Path::new("/bin/cp"));
    cp.args(["-r"])
        .arg(repo_root().join("jupyterlab-kip"))
        .arg(&src);
    run_command(cp, Duration::from_secs(60)).ok();
    w.run(
        &labext_python(),
        &[
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            dist.to_str().unwrap(),
            src.to_str().unwrap(),
        ],
    )
    .ok();
    let wheel = std::fs::read_dir(&dist)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a jupyterlab_kip wheel");
    // Installed with a plain `pip install` into a fresh venv (jupyter-kip, its dependency, is
    // tested by tests/wheel.rs; jupyter_server comes from the toolbox through PYTHONPATH).
    let fresh = w.root().join("fresh");
    w.run(
        &toolbox().base_python,
        &["-m", "venv", "--without-pip", fresh.to_str().unwrap()],
    )
    .ok();
    let python = fresh.join("bin/python");
    w.run(
        &labext_python(),
        &[
            "-m",
            "pip",
            "--python",
            python.to_str().unwrap(),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            wheel.to_str().unwrap(),
        ],
    )
    .ok();
    let config = fresh.join("etc/jupyter/jupyter_server_config.d/jupyterlab_kip.json");
    assert!(config.is_file(), "{} is missing", config.display());
    let site = toolbox()
        .root
        .join("labext-venv/lib/python3.11/site-packages");
    w.set_var("PYTHONPATH", site.to_str().unwrap());
    let out = w.run(&python, &["-m", "jupyter_server", "extension", "list"]);
    out.ok();
    // Without the colours jupyter_server puts around "enabled" and "OK".
    let text = format!("{}{}", out.stdout, out.stderr)
        .replace("\u{1b}[32m", "")
        .replace("\u{1b}[0m", "");
    assert!(
        text.contains(&format!(
            "Config dir: {}",
            fresh.join("etc/jupyter").display()
        )) && text.contains("jupyterlab_kip enabled")
            && text.contains("jupyterlab_kip 0.1.0 OK"),
        "{text}"
    );
}
