//! The `jupyterlab-kip` wheel of this checkout (server extension + prebuilt labextension), and
//! a fresh venv where a plain `pip install` put it beside `jupyter-kip`, JupyterLab and
//! Notebook 7: what tests/jupyterlab.rs lists and tests/jupyterlab_e2e.rs serves.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{repo_root, run_command, toolbox, Venv, World};

/// The toolbox's labbuild-venv: hatchling and jupyter-builder, the wheel's build.
fn build_bin() -> PathBuf {
    toolbox().root.join("labbuild-venv/bin")
}

/// The files of jupyterlab-kip/ the wheel is built from (node_modules, build output and
/// caches left out).
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !matches!(
                name.as_str(),
                "node_modules" | "lib" | "labextension" | "__pycache__" | "e2e" | "tests"
            ) {
                sources(&p, out);
            }
        } else if !name.ends_with(".tsbuildinfo") {
            out.push(p);
        }
    }
}

fn source_key() -> String {
    let root = repo_root().join("jupyterlab-kip");
    let mut files = Vec::new();
    sources(&root, &mut files);
    super::wheel::files_key(&root, files)
}

/// The jupyterlab-kip wheel, built once per source state from an out-of-tree copy of the
/// subfolder with `pip wheel --no-build-isolation` (the toolbox's hatchling and jupyter-builder;
/// its build hook runs `npm ci` and the JS build offline from the toolbox's npm cache), and
/// cached under `target/kip-labwheel/<key>/`. A file lock makes concurrent tests wait for one
/// build.
pub fn labwheel() -> PathBuf {
    let cache = repo_root().join("target/kip-labwheel");
    std::fs::create_dir_all(&cache).unwrap();
    let lock = File::create(cache.join(".lock")).unwrap();
    lock.lock().unwrap();
    let dir = cache.join(source_key());
    let find = |d: &Path| {
        std::fs::read_dir(d)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
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
    std::fs::create_dir_all(&tmp).unwrap();
    let src = tmp.join("src");
    let mut cp = Command::new("/bin/cp");
    cp.arg("-r")
        .arg(repo_root().join("jupyterlab-kip"))
        .arg(&src);
    let out = run_command(cp, Duration::from_secs(60));
    assert_eq!(out.status, 0, "copy jupyterlab-kip\n{}", out.show());
    for leftover in ["node_modules", "lib", "jupyterlab_kip/labextension"] {
        let _ = std::fs::remove_dir_all(src.join(leftover));
    }
    let tb = toolbox();
    let path = format!(
        "{}:{}",
        build_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new(build_bin().join("python"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("PIP_") || k.to_ascii_lowercase().starts_with("npm_config_") {
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
    .arg(tmp.join("dist"))
    .arg(&src)
    .current_dir(&tmp)
    .env("PATH", path)
    .env("HOME", &tmp)
    .env("PIP_NO_INDEX", "1")
    .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    .env("npm_config_cache", tb.root.join("npm-cache"))
    .env("npm_config_offline", "true")
    .env("npm_config_update_notifier", "false")
    .env("npm_config_logs_dir", tmp.join("npm-logs"));
    let out = run_command(c, Duration::from_secs(900));
    assert_eq!(
        out.status,
        0,
        "pip wheel jupyterlab-kip failed (its npm build runs offline from the toolbox's \
         npm-cache: a changed package-lock.json needs `rm $KIP_TOOLBOX/READY-labfront-npm`)\n{}",
        out.show()
    );
    let built = find(&tmp.join("dist"))
        .unwrap_or_else(|| panic!("no jupyterlab_kip wheel in {}", tmp.display()));
    std::fs::create_dir_all(&dir).unwrap();
    let dest = dir.join(built.file_name().unwrap());
    std::fs::rename(&built, &dest).unwrap();
    let _ = std::fs::remove_dir_all(&tmp);
    dest
}

/// A fresh venv (stdlib venv on the toolbox's CPython) where a plain `pip install` of the two
/// wheels (jupyter-kip, jupyterlab-kip) and `jupyterlab==4.6.6 notebook==7.6.5` resolved every
/// dependency offline from the toolbox's wheels-lab/.
pub fn fresh_lab(w: &World, prefix: &Path) -> Venv {
    let kip_wheel = super::wheel::wheel();
    let lab_wheel = labwheel();
    let venv = w.stdlib_venv(prefix, &toolbox().base_python, true);
    let links = toolbox().root.join("wheels-lab");
    let mut c = w.command(&venv.python);
    c.args(["-m", "pip", "install", "-q", "--no-index", "--find-links"])
        .arg(&links)
        .arg(&kip_wheel)
        .arg(&lab_wheel)
        .args(["jupyterlab==4.6.6", "notebook==7.6.5"]);
    let out = run_command(c, Duration::from_secs(900));
    assert_eq!(
        out.status,
        0,
        "pip install into {}\n{}",
        prefix.display(),
        out.show()
    );
    venv
}
