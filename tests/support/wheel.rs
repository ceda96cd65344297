//! The wheel of this checkout (`jupyter-kip`), for the tests that install it: built once per
//! source state and shared by every test binary.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{repo_root, run_command, toolbox};

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
    files_key(&root, files)
}

/// A short hash of `files`' names (relative to `root`) and contents: a build's cache key.
pub fn files_key(root: &Path, mut files: Vec<PathBuf>) -> String {
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        h.update(f.strip_prefix(root).unwrap().to_string_lossy().as_bytes());
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
pub fn wheel() -> PathBuf {
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
