//! `jupyterlab-kip` (the subfolder of that name): its server extension's pytest suite against a
//! real jupyter_server, a real kernel and this build's `kip`; and its wheel, installed with pip
//! beside jupyter-kip's, enables both halves (the browser test is tests/jupyterlab_e2e.rs).

mod support;

use std::path::Path;
use std::time::Duration;

use support::labwheel::fresh_lab;
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

/// What `jupyter X extension list` prints, without the colours around "enabled" and "OK".
fn plain(out: &support::Out) -> String {
    format!("{}{}", out.stdout, out.stderr)
        .replace("\u{1b}[32m", "")
        .replace("\u{1b}[0m", "")
}

#[test]
fn wheels_installed_with_pip_enable_the_server_extension_and_the_labextension() {
    let w = world();
    // A plain `pip install` of the two wheels (and JupyterLab, Notebook 7) into a fresh venv.
    let fresh = w.root().join("fresh");
    let lab = fresh_lab(&w, &fresh);
    let config = fresh.join("etc/jupyter/jupyter_server_config.d/jupyterlab_kip.json");
    assert!(config.is_file(), "{} is missing", config.display());
    let labext = fresh.join("share/jupyter/labextensions/jupyterlab-kip");
    assert!(
        labext.join("package.json").is_file() && labext.join("static").is_dir(),
        "the prebuilt labextension is missing from {}",
        labext.display()
    );
    let jupyter = lab.bin().join("jupyter");
    let out = w.run(&jupyter, &["server", "extension", "list"]);
    out.ok();
    let text = plain(&out);
    assert!(
        text.contains(&format!(
            "Config dir: {}",
            fresh.join("etc/jupyter").display()
        )) && text.contains("jupyterlab_kip enabled")
            && text.contains("jupyterlab_kip 0.1.0 OK"),
        "{text}"
    );
    let out = w.run(&jupyter, &["labextension", "list"]);
    out.ok();
    let text = plain(&out);
    let listed = text
        .split_once(&format!(
            "{}\n",
            fresh.join("share/jupyter/labextensions").display()
        ))
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    assert!(
        listed.contains("jupyterlab-kip v0.1.0 enabled OK (python, jupyterlab-kip)"),
        "jupyterlab-kip is not listed enabled under the fresh venv's labextensions\n{text}"
    );
}
