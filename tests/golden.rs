//! Golden transcripts: the exact stdout, stderr and exit code of every verb on fixed worlds.
//!
//! They guard refactors that must not change behaviour (issue 10): any byte of output that
//! changes fails here with the first differing line. Temp paths, the toolbox and the base
//! interpreter's version are normalized (see [`Normalizer`]); nothing else is.
//!
//! To accept an intended change, run with `KIP_BLESS=1` and review the diff of
//! `tests/golden/*.txt`.

mod support;

use std::path::{Path, PathBuf};

use support::{toolbox, Out, World};

/// Replaces the paths and versions that differ between runs and machines by placeholders.
struct Normalizer {
    pairs: Vec<(String, String)>,
}

impl Normalizer {
    fn new(w: &World) -> Normalizer {
        let tb = toolbox();
        let base = &tb.base_python;
        // <pyenv root>/versions/3.11.N/bin/python3.11 → the prefix; its version is the
        // interpreter's own (a pyenv dir's name need not match it, e.g. a renamed copy).
        let base_prefix = base.parent().and_then(Path::parent).unwrap().to_path_buf();
        let version = python_version(base).expect("the toolbox's base Python reports its version");
        let mut pairs = vec![
            (w.container().display().to_string(), "<WORLD>".to_string()),
            (base_prefix.display().to_string(), "<BASE>".to_string()),
            (tb.root.display().to_string(), "<TOOLBOX>".to_string()),
            (
                std::fs::canonicalize(&tb.root)
                    .unwrap()
                    .display()
                    .to_string(),
                "<TOOLBOX>".to_string(),
            ),
            (env!("CARGO_BIN_EXE_kip").to_string(), "<KIP>".to_string()),
        ];
        pairs.push((version, "<BASEVER>".to_string()));
        // The machine's /usr/bin/python3, which `kip envs` lists as the system interpreter.
        if let Some(v) = system_python_version() {
            pairs.push((v, "<SYSVER>".to_string()));
        }
        // Longest first, so a path is replaced before any of its prefixes.
        pairs.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        Normalizer { pairs }
    }

    fn apply(&self, s: &str) -> String {
        let mut s = s.to_string();
        for (from, to) in &self.pairs {
            s = s.replace(from.as_str(), to);
        }
        // The installer's own timings ("Resolved 1 package in 3ms").
        let timing = regex::Regex::new(r" in [0-9.]+(ms|s)\b").unwrap();
        let s = timing.replace_all(&s, " in <T>");
        // Kernel starts are timed (`ready in 812 ms`, `"elapsed_ms": 812`).
        let ms = regex::Regex::new(r"\b[0-9]+ ms\b").unwrap();
        let s = ms.replace_all(&s, "<T> ms");
        let ms_field = regex::Regex::new(r#""([a-z_]+_ms)": [0-9]+"#).unwrap();
        let s = ms_field.replace_all(&s, "\"$1\": <T>");
        // Backups are named by the time they were made.
        let backup = regex::Regex::new(r"kip-bak-[0-9]{8}T[0-9]{6}Z").unwrap();
        let s = backup.replace_all(&s, "kip-bak-<TIME>");
        // Column padding follows the real (unnormalized) path lengths.
        let padding = regex::Regex::new(r"(\S)  +").unwrap();
        padding.replace_all(&s, "$1  ").into_owned()
    }
}

fn system_python_version() -> Option<String> {
    python_version(Path::new("/usr/bin/python3"))
}

/// `platform.python_version()` of an interpreter.
fn python_version(python: &Path) -> Option<String> {
    let out = std::process::Command::new(python)
        .args(["-c", "import platform; print(platform.python_version())"])
        .output()
        .ok()?;
    let v = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!v.is_empty()).then_some(v)
}

/// Runs kip commands in a world and collects their normalized transcripts.
struct Transcript<'a> {
    w: &'a World,
    norm: Normalizer,
    text: String,
}

impl<'a> Transcript<'a> {
    fn new(w: &'a World) -> Transcript<'a> {
        Transcript {
            w,
            norm: Normalizer::new(w),
            text: String::new(),
        }
    }

    fn kip(&mut self, args: &[&str]) -> Out {
        let out = self.w.kip(args);
        self.record(args, &out);
        out
    }

    fn record(&mut self, args: &[&str], out: &Out) {
        let n = &self.norm;
        self.text.push_str(&format!(
            "$ kip {}\nexit: {}\n--- stdout\n{}--- stderr\n{}\n",
            n.apply(&args.join(" ")),
            out.status,
            end_line(&n.apply(&out.stdout)),
            end_line(&n.apply(&out.stderr)),
        ));
    }

    /// Compare with `tests/golden/<name>.txt` (or write it under `KIP_BLESS=1`).
    fn check(self, name: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("{name}.txt"));
        if std::env::var_os("KIP_BLESS").is_some_and(|v| v == "1") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &self.text).unwrap();
            return;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with KIP_BLESS=1 to create it)",
                path.display()
            )
        });
        if want == self.text {
            return;
        }
        let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), self.text.lines().collect());
        let i = w.iter().zip(&g).take_while(|(a, b)| a == b).count();
        let cmd = g[..i.min(g.len())]
            .iter()
            .rev()
            .find(|l| l.starts_with("$ kip "))
            .unwrap_or(&"?");
        panic!(
            "{} differs at line {} (in `{cmd}`):\n  want: {:?}\n  got:  {:?}\n\
             whole transcript:\n{}",
            path.display(),
            i + 1,
            w.get(i),
            g.get(i),
            self.text
        );
    }
}

fn end_line(s: &str) -> String {
    if s.is_empty() || s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n[no newline at end]\n")
    }
}

/// A world with its own Jupyter (never the toolbox's: `kernel fix --all` and `doctor --fix`
/// would rewrite the shared toolbox's kernelspec), uv and kip on PATH, and the wheelhouse as
/// the only package source.
fn world() -> World {
    let w = World::new();
    let j = w.jupyter_venv(&w.root().join("J"));
    for n in ["jupyter", "jupyter-kernelspec"] {
        std::os::unix::fs::symlink(j.bin().join(n), w.bin().join(n)).unwrap();
    }
    std::os::unix::fs::symlink(&toolbox().uv, w.bin().join("uv")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kip"), w.bin().join("kip")).unwrap();
    w.set_var("PIP_NO_INDEX", "1");
    w
}

/// Only the world's own bin dir on PATH: nothing from the machine leaks into listings.
fn world_only_path(w: &World) {
    w.set_var("PATH", w.bin().to_str().unwrap());
}

fn register(w: &World, python: &Path, name: &str) {
    w.run(
        python,
        &["-m", "ipykernel", "install", "--user", "--name", name],
    )
    .ok();
}

/// A kernel "k" on venv A (ipykernel), a venv B with pip, a local wheel `demo` as the only
/// package source, Jupyter, uv and kip on PATH. Every read-only verb, then install, list, why,
/// uninstall, in this order.
#[test]
fn golden_install_cycle() {
    let w = world();
    let a = w.uv_venv(&w.root().join("A"), &toolbox().base_python, false);
    w.uv_install(&a.python, &["ipykernel==7.4.0"]).unwrap();
    register(&w, &a.python, "k");
    let b = w.uv_venv(&w.root().join("B"), &toolbox().base_python, true);
    let demo = w.wheel("demo", "1.0", &[("demo", "X = 1\n")]);
    w.set_var("PIP_FIND_LINKS", demo.parent().unwrap().to_str().unwrap());
    world_only_path(&w);
    let bp = b.python.to_str().unwrap();
    let mut t = Transcript::new(&w);

    t.kip(&["kernels"]);
    t.kip(&["kernels", "--json"]);
    t.kip(&["kernels", "--jupyter-json"]);
    t.kip(&["envs"]);
    t.kip(&["envs", "--json"]);
    t.kip(&["which"]);
    t.kip(&["which", "jupyter", "--json"]);
    t.kip(&["why", "demo", "--kernel", "k"]);
    t.kip(&["why", "demo", "--kernel", "k", "--json"]);
    t.kip(&["why", "demo", "--kernel", "nope"]);
    t.kip(&["install", "demo", "--kernel", "k", "--dry-run"]);
    t.kip(&["install", "demo", "--kernel", "k", "--dry-run", "--json"]);
    t.kip(&["install", "demo"]);
    t.kip(&["install", "nosuchdist", "--kernel", "k"]);
    t.kip(&["install", "demo", "--kernel", "k"]);
    t.kip(&["install", "demo", "--kernel", "k"]);
    t.kip(&["install", "demo", "--kernel", "k", "--json"]);
    t.kip(&["install", "demo", "--python", bp, "--json"]);
    t.kip(&["list", "--kernel", "k"]);
    t.kip(&["list", "--kernel", "k", "--json"]);
    t.kip(&["why", "demo", "--kernel", "k"]);
    t.kip(&["why", "demo", "--kernel", "k", "--json"]);
    t.kip(&["uninstall", "demo", "--kernel", "k"]);
    t.kip(&["uninstall", "demo", "--python", bp, "--json"]);
    t.kip(&["uninstall", "demo", "--kernel", "k"]);
    t.check("install_cycle");
}

/// Kernel management and doctor: a kip kernel added on venv B, a dead kernel, a notebook
/// whose kernel lacks one of its imports.
#[test]
fn golden_kernels_and_doctor() {
    let w = world();
    let a = w.uv_venv(&w.root().join("A"), &toolbox().base_python, false);
    w.uv_install(&a.python, &["ipykernel==7.4.0"]).unwrap();
    register(&w, &a.python, "k");
    let b = w.uv_venv(&w.root().join("B"), &toolbox().base_python, true);
    let demo = w.wheel("demo", "1.0", &[("demo", "X = 1\n")]);
    w.set_var(
        "PIP_FIND_LINKS",
        &format!(
            "{} {}",
            demo.parent().unwrap().display(),
            toolbox().wheels.display()
        ),
    );
    // One kernel per kernels dir: the order within a dir is readdir order, which differs
    // between file systems.
    let extra = w.root().join("extra");
    let kbp = w.root().join("kbp");
    w.set_var(
        "JUPYTER_PATH",
        &format!(
            "{}:{}",
            kbp.join("share/jupyter").display(),
            extra.display()
        ),
    );
    w.kernelspec(
        &extra.join("kernels"),
        "gone",
        &format!(
            r#"{{"argv": ["{}/nowhere/bin/python", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "Gone", "language": "python"}}"#,
            w.root().display()
        ),
    );
    let nb = w.cwd().join("nb.ipynb");
    std::fs::write(
        &nb,
        r#"{"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null,
  "source": ["import json\n", "import demo\n"]}],
 "metadata": {"kernelspec": {"name": "k", "display_name": "K", "language": "python"}},
 "nbformat": 4, "nbformat_minor": 5}"#,
    )
    .unwrap();
    world_only_path(&w);
    let bp = b.python.to_str().unwrap();
    let kbp = kbp.to_str().unwrap();
    let mut t = Transcript::new(&w);

    t.kip(&["kernel", "show", "k"]);
    t.kip(&["kernel", "show", "k", "--json"]);
    t.kip(&["kernel", "show", "nope"]);
    t.kip(&["doctor"]);
    t.kip(&["doctor", "--json"]);
    t.kip(&["doctor", "nb.ipynb"]);
    t.kip(&["doctor", "nb.ipynb", "--json"]);
    t.kip(&[
        "install",
        "--notebook",
        "nb.ipynb",
        "--missing",
        "--dry-run",
    ]);
    t.kip(&["install", "--notebook", "nb.ipynb", "--missing", "--json"]);
    t.kip(&["kernel", "add", bp, "--name", "kb", "--prefix", kbp]);
    t.kip(&["kernel", "add", bp, "--name", "kb", "--prefix", kbp]);
    t.kip(&["kernel", "show", "kb"]);
    t.kip(&[
        "kernel", "add", bp, "--name", "kb", "--prefix", kbp, "--force", "--json",
    ]);
    t.kip(&["kernel", "fix", "k"]);
    t.kip(&["kernel", "fix", "--all", "--json"]);
    t.kip(&["doctor", "--fix"]);
    t.kip(&["doctor", "--fix", "--yes"]);
    t.kip(&["doctor", "--fix", "--yes", "--json"]);
    t.kip(&["kernels"]);
    t.kip(&["kernel", "remove", "k"]);
    t.kip(&["kernel", "remove", "kb"]);
    t.kip(&["kernel", "remove", "k", "--yes"]);
    t.kip(&["kernel", "remove", "k"]);
    t.kip(&["kernels", "--json"]);
    t.check("kernels_and_doctor");
}
