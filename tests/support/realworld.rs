//! Helpers of the real-world suites (`tests/realworld*.rs`): kip's JSON findings, running a
//! printed fix exactly as printed, and the worlds several reports share.

use std::path::{Path, PathBuf};

use super::{pyenv_version, real_pyenv_root, toolbox, KernelRun, Out, Venv, World};

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn doctor(w: &World, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["doctor", "--json"];
    full.extend_from_slice(args);
    w.kip(&full).json()
}

pub fn findings(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["findings"].as_array().cloned().unwrap_or_default()
}

pub fn find(v: &serde_json::Value, id: &str) -> Option<serde_json::Value> {
    findings(v).into_iter().find(|f| f["id"] == id)
}

/// A fix as printed, up to the first " (" (an explanation in parentheses), split as a shell
/// would.
pub fn fix_argv(text: &str) -> Vec<String> {
    let cmd = text.split(" (").next().unwrap();
    shlex::split(cmd).unwrap_or_else(|| panic!("fix is not a command: {text}"))
}

/// Run a kip fix exactly as printed ([`fix_argv`]); `kip` is the test binary.
pub fn run_fix(w: &World, cwd: &Path, text: &str) -> Out {
    let argv = fix_argv(text);
    assert_eq!(argv[0], "kip", "fix is not a kip command: {text}");
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    w.kip_in(cwd, &args)
}

/// Run a fix exactly as printed, whatever its program (`conda-unpack`, `uv add`): `kip` is the
/// test binary, a bare name is looked up in the world's `bin`.
pub fn run_any_fix(w: &World, cwd: &Path, text: &str) -> Out {
    let argv = fix_argv(text);
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    let program = if argv[0] == "kip" {
        PathBuf::from(env!("CARGO_BIN_EXE_kip"))
    } else if argv[0].contains('/') {
        PathBuf::from(&argv[0])
    } else {
        w.bin().join(&argv[0])
    };
    w.run_in(cwd, &program, &args)
}

/// A pyenv root whose `versions/X.Y.Z` is a directory of links to the real install (so
/// pyenv-virtualenv can put `envs/` inside it), with `versions/NAME` →
/// `versions/X.Y.Z/envs/NAME` exactly as `pyenv virtualenv X.Y.Z NAME` leaves them: a stdlib
/// venv (pyenv-virtualenv uses `python -m venv` when it can) with ipykernel.
pub fn pyenv_virtualenv(w: &World, name: &str) -> (PathBuf, PathBuf) {
    let version = pyenv_version("3.11");
    let root = w.pyenv_root(&[]);
    let real = real_pyenv_root().join("versions").join(&version);
    let vdir = root.join("versions").join(&version);
    std::fs::create_dir_all(vdir.join("envs")).unwrap();
    for e in std::fs::read_dir(&real).unwrap().flatten() {
        std::os::unix::fs::symlink(e.path(), vdir.join(e.file_name())).unwrap();
    }
    let env = vdir.join("envs").join(name);
    w.stdlib_venv(&env, &vdir.join("bin/python3.11"), true);
    w.uv_install(
        &env.join("bin/python"),
        &[
            "ipykernel==7.4.0",
            "jupyter_client==8.10.0",
            "jupyter_core==5.9.1",
        ],
    )
    .unwrap();
    std::os::unix::fs::symlink(&env, root.join("versions").join(name)).unwrap();
    (root, env)
}

/// A venv with ipykernel and the package `demo` (module `demo`), on the toolbox base.
pub fn project_venv(w: &World, path: &Path, marker: &str) -> Venv {
    let v = w.uv_venv(path, &toolbox().base_python, true);
    w.wheel(marker, "1.0", &[(marker, "WHERE = __file__\n")]);
    w.uv_install(&v.python, &["ipykernel==7.4.0", marker])
        .unwrap();
    v
}

pub fn notebook(path: &Path, kernel: &str, source: &str) {
    std::fs::write(
        path,
        serde_json::json!({
            "cells": [{"cell_type": "code", "execution_count": null, "id": "c1", "metadata": {}, "outputs": [], "source": [source]}],
            "metadata": {"kernelspec": {"display_name": kernel, "language": "python", "name": kernel}},
            "nbformat": 4, "nbformat_minor": 5
        })
        .to_string(),
    )
    .unwrap();
}

/// Run each `A && B` step of a printed fix (from `cwd`), as printed; the kernel name of its
/// `kip kernel use NAME NOTEBOOK` step.
pub fn run_fix_steps(w: &World, cwd: &Path, text: &str) -> Option<String> {
    let mut name = None;
    for step in text.split(" && ") {
        let out = run_fix(w, cwd, step);
        assert!(out.success(), "{step}: {}", out.show());
        if let Some(n) = step.strip_prefix("kip kernel use ") {
            name = n.split_whitespace().next().map(str::to_string);
        }
    }
    name
}

/// The code ran in a real kernel and failed on an import (`ModuleNotFoundError`).
#[track_caller]
pub fn assert_not_importable(r: &KernelRun) {
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("ModuleNotFoundError")),
        "{r:?}"
    );
}

/// `kip doctor --json NOTEBOOK`, run in `dir` (the notebook's folder, as the user does).
pub fn doctor_in(w: &World, dir: &Path, notebook: &str) -> serde_json::Value {
    w.kip_in(dir, &["doctor", "--json", notebook]).json()
}
