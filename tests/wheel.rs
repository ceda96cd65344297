//! The Python distribution `jupyter-kip`: the wheel `pip wheel .` builds from this checkout
//! installs with pip (and uv) into a fresh env, gives `kip` and `jupyter-kip`, ships the typed
//! package `kip`, and `jupyter kip kernels --json` works by jupyter_core's subcommand rule.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sha2::{Digest, Sha256};
use support::{repo_root, run_command, toolbox, World};

/// What the wheel is built from: a change to any of these builds a new one.
fn source_key() -> String {
    let root = repo_root();
    let mut files: Vec<PathBuf> = ["Cargo.toml", "Cargo.lock", "pyproject.toml", "README.md"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "__pycache__") {
                    walk(&p, out);
                }
            } else {
                out.push(p);
            }
        }
    }
    walk(&root.join("src"), &mut files);
    walk(&root.join("python"), &mut files);
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        h.update(f.strip_prefix(&root).unwrap().to_string_lossy().as_bytes());
        h.update([0]);
        h.update(std::fs::read(f).unwrap_or_default());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The wheel of this checkout, built once per source state with `pip wheel .` (maturin from
/// the toolbox, no build isolation so nothing is downloaded) and cached under
/// `target/kip-wheel/<key>/`. Cargo builds into `target/wheel-build`, never into the
/// `target/debug` the other tests run. A file lock makes concurrent tests wait for one build.
fn wheel() -> PathBuf {
    let root = repo_root();
    let cache = root.join("target/kip-wheel");
    std::fs::create_dir_all(&cache).unwrap();
    let lock = File::create(cache.join(".lock")).unwrap();
    lock.lock().unwrap();
    let dir = cache.join(source_key());
    let find = |d: &Path| {
        std::fs::read_dir(d)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.extension().is_some_and(|x| x == "whl")
                    && p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("jupyter_kip-")
            })
    };
    if let Some(w) = find(&dir) {
        return w;
    }
    for e in std::fs::read_dir(&cache).unwrap().flatten() {
        if e.path().is_dir() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let tmp = cache.join(".building");
    let _ = std::fs::remove_dir_all(&tmp);
    let tb = toolbox();
    let maturin_bin = tb.maturin_python.parent().unwrap();
    let path = format!(
        "{}:{}",
        maturin_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new(&tb.maturin_python);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("PIP_") {
            c.env_remove(k);
        }
    }
    c.args([
        "-m",
        "pip",
        "wheel",
        "--no-build-isolation",
        "--no-deps",
        "-q",
        "-w",
    ])
    .arg(&tmp)
    .arg(&root)
    .current_dir(&root)
    .env("PATH", path)
    .env("PIP_NO_INDEX", "1")
    .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    .env("CARGO_TARGET_DIR", root.join("target/wheel-build"))
    .env("MATURIN_PEP517_ARGS", "--profile dev --strip");
    let out = run_command(c, Duration::from_secs(1800));
    assert_eq!(out.status, 0, "pip wheel . failed\n{}", out.show());
    let built = find(&tmp).unwrap_or_else(|| panic!("no jupyter_kip wheel in {}", tmp.display()));
    std::fs::rename(&tmp, &dir).unwrap();
    dir.join(built.file_name().unwrap())
}

#[test]
fn wheel_installs_with_pip_and_runs_kip() {
    let whl = wheel();
    let w = World::new();
    let venv = w.uv_venv(&w.root().join("fresh"), &toolbox().base_python, true);
    w.run(
        &venv.python,
        &[
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            whl.to_str().unwrap(),
        ],
    )
    .ok();
    let out = w.run(&venv.bin().join("kip"), &["--version"]);
    out.ok();
    assert_eq!(
        out.stdout.trim(),
        format!("kip {}", env!("CARGO_PKG_VERSION"))
    );
    // jupyter-kip runs the kip beside it, whatever PATH says
    let out = w.run(&venv.bin().join("jupyter-kip"), &["--version"]);
    out.ok();
    assert_eq!(
        out.stdout.trim(),
        format!("kip {}", env!("CARGO_PKG_VERSION"))
    );
    // the typed Python package `kip`
    let out = w.run(
        &venv.python,
        &[
            "-c",
            "import kip, os; d = os.path.dirname(kip.__file__); print(d); \
             print(os.path.isfile(os.path.join(d, 'py.typed')))",
        ],
    );
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        Path::new(lines[0]).starts_with(&venv.prefix),
        "kip imported from {}",
        lines[0]
    );
    assert_eq!(lines[1], "True", "py.typed missing");
}

#[test]
fn jupyter_kip_is_a_jupyter_subcommand() {
    let whl = wheel();
    let w = World::new();
    let venv = w.uv_venv(&w.root().join("jenv"), &toolbox().base_python, false);
    w.uv_install(&venv.python, &["jupyter_core==5.9.1"])
        .unwrap();
    // uv pip install works as pip does
    w.uv_install(&venv.python, &[whl.to_str().unwrap()])
        .unwrap();
    // a kernelspec for kip to see, in the world's user data dir
    w.kernelspec(
        &w.user_kernels(),
        "wheeltest",
        &format!(
            r#"{{"argv": ["{}", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "W", "language": "python"}}"#,
            venv.python.display()
        ),
    );
    // the venv's bin is not on PATH: jupyter_core finds jupyter-kip beside `jupyter`
    let out = w.run(&venv.bin().join("jupyter"), &["kip", "kernels", "--json"]);
    out.ok();
    let v = out.json();
    let names: Vec<&str> = v["kernels"]
        .as_array()
        .unwrap_or_else(|| panic!("no kernels array\n{}", out.show()))
        .iter()
        .filter_map(|k| k["name"].as_str())
        .collect();
    assert!(names.contains(&"wheeltest"), "{names:?}\n{}", out.show());
}

#[test]
fn uv_tool_install_links_both_commands() {
    let whl = wheel();
    let w = World::new();
    let (tools, bin) = (w.root().join("uv-tools"), w.root().join("uv-tool-bin"));
    let mut c = w.command(&toolbox().uv);
    c.args(["tool", "install", "--offline", "--no-index", "--python"])
        .arg(&toolbox().base_python)
        .arg(&whl)
        .env("UV_TOOL_DIR", &tools)
        .env("UV_TOOL_BIN_DIR", &bin);
    run_command(c, Duration::from_secs(300)).ok();
    // uv links the tool env's scripts into its bin dir: jupyter-kip follows its link to the
    // kip beside it
    for cmd in ["kip", "jupyter-kip"] {
        let link = bin.join(cmd);
        assert!(
            std::fs::symlink_metadata(&link).is_ok(),
            "{} missing",
            link.display()
        );
        let out = w.run(&link, &["--version"]);
        out.ok();
        assert_eq!(
            out.stdout.trim(),
            format!("kip {}", env!("CARGO_PKG_VERSION"))
        );
    }
}
