//! The bad-input battery (issue 15): hostile files and layouts — invalid UTF-8 in contents and
//! names, BOMs, huge files, deep nesting, symlink loops, directories where files belong, FIFOs,
//! interpreters that hang, print garbage or fail, a truncated wheel, notebooks that are not
//! JSON. For each: kip finishes within a bound, never panics, names the file in a finding or
//! error, and still shows every healthy result beside it.

mod support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{run_command, toolbox, Out, World};

/// Every battery command must end well inside this: a FIFO read or a hanging interpreter
/// that kip waited on would blow it.
const BOUND: Duration = Duration::from_secs(60);

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a plain syscall on a NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo {}",
        p.display()
    );
}

fn write(p: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn executable(p: &Path, text: &str) {
    write(p, text);
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// kip with the world's environment, bounded; never a panic, never a signal.
fn kip(w: &World, args: &[&str]) -> Out {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kip"));
    c.args(args)
        .env_clear()
        .envs(w.env())
        .current_dir(w.cwd())
        .stdin(std::process::Stdio::null());
    sane(run_command(c, BOUND), args)
}

fn sane(out: Out, args: &[&str]) -> Out {
    assert!(
        !out.stderr.contains("panicked") && out.status != 101 && out.status >= 0,
        "kip {args:?} crashed:\n{}",
        out.show()
    );
    out
}

/// `text` names `path` (as written in JSON or human text).
fn names(text: &str, path: &Path) -> bool {
    let s = path.to_string_lossy();
    text.contains(s.as_ref()) || text.contains(&s.replace('/', "\\/"))
}

/// The hostile kernelspecs, each in its own kernel dir beside one healthy kernel.
fn hostile_kernels(w: &World, kernels: &Path) -> Vec<PathBuf> {
    let mut bad = Vec::new();
    let mut spec = |name: &str, bytes: &[u8]| {
        let d = w.kernelspec_bytes(kernels, name, bytes);
        bad.push(d.join("kernel.json"));
    };
    spec("not-json", b"{\"argv\": [");
    spec("empty", b"");
    spec(
        "bom",
        b"\xef\xbb\xbf{\"argv\": [\"python\"], \"display_name\": \"x\"}",
    );
    spec(
        "bad-utf8",
        b"{\"argv\": [\"/usr/bin/python3\", \"\xff\xfe\"], \"display_name\": \"\xc3\"}",
    );
    spec("deep", &{
        let mut v = vec![b'['; 200_000];
        v.extend(std::iter::repeat_n(b']', 200_000));
        v
    });
    spec("deep-object", &{
        let mut v = Vec::new();
        for _ in 0..100_000 {
            v.extend_from_slice(b"{\"a\":");
        }
        v.extend_from_slice(b"1");
        v.extend(std::iter::repeat_n(b'}', 100_000));
        v
    });
    spec("huge", &{
        let mut v = b"{\"argv\": [\"/usr/bin/python3\"], \"display_name\": \"".to_vec();
        v.extend(std::iter::repeat_n(b'x', 5 << 20));
        v.extend_from_slice(b"\"}");
        v
    });
    spec("argv-string", br#"{"argv": "python", "display_name": "x"}"#);
    spec("argv-empty", br#"{"argv": [], "display_name": "x"}"#);
    spec("argv-numbers", br#"{"argv": [1, 2], "display_name": "x"}"#);
    spec("no-display-name", br#"{"argv": ["/usr/bin/python3"]}"#);
    spec("a-list", b"[1, 2, 3]");
    spec(
        "nan-and-dupes",
        br#"{"argv": ["/usr/bin/python3"], "argv": [NaN], "display_name": "\ud800"}"#,
    );
    spec(
        "env-not-a-dict",
        br#"{"argv": ["/usr/bin/python3"], "display_name": "x", "env": ["PATH"]}"#,
    );
    // argv[0] is a FIFO, a directory, a non-executable file, garbage bytes.
    let odd = w.root().join("odd");
    std::fs::create_dir_all(&odd).unwrap();
    mkfifo(&odd.join("fifo-python"));
    std::fs::create_dir_all(odd.join("dir-python")).unwrap();
    write(&odd.join("plain-python"), "not executable\n");
    executable(&odd.join("garbage-python"), "\x7fELF\x00\x01garbage");
    for n in [
        "fifo-python",
        "dir-python",
        "plain-python",
        "garbage-python",
    ] {
        spec(
            &format!("argv0-{n}"),
            format!(
                r#"{{"argv": ["{}", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "x"}}"#,
                odd.join(n).display()
            )
            .as_bytes(),
        );
    }
    // kernel.json that is a directory, a FIFO, a dangling symlink, a symlink loop.
    let d = kernels.join("json-is-dir");
    std::fs::create_dir_all(d.join("kernel.json")).unwrap();
    bad.push(d.join("kernel.json"));
    let d = kernels.join("json-is-fifo");
    std::fs::create_dir_all(&d).unwrap();
    mkfifo(&d.join("kernel.json"));
    bad.push(d.join("kernel.json"));
    let d = kernels.join("json-dangling");
    std::fs::create_dir_all(&d).unwrap();
    symlink("/nonexistent/kernel.json", d.join("kernel.json")).unwrap();
    bad.push(d.join("kernel.json"));
    let d = kernels.join("json-loop");
    std::fs::create_dir_all(&d).unwrap();
    symlink(d.join("kernel.json"), d.join("kernel.json")).unwrap();
    bad.push(d.join("kernel.json"));
    bad
}

#[test]
fn hostile_kernelspecs_are_named_and_the_healthy_kernel_still_listed() {
    let w = World::with_tools();
    let kernels = w.user_kernels();
    let good = w.uv_venv(&w.root().join("good"), &toolbox().base_python, false);
    w.uv_install(&good.python, &["ipykernel==7.4.0"]).unwrap();
    w.kernelspec(
        &kernels,
        "good",
        &format!(
            r#"{{"argv": ["{}", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "Good", "language": "python"}}"#,
            good.python.display()
        ),
    );
    let bad = hostile_kernels(&w, &kernels);
    // Layouts around the kernel dirs: a kernel "dir" that is a file, a dir loop, a
    // non-UTF-8 name.
    write(&kernels.join("a-file-not-a-dir"), "x");
    symlink(kernels.join("loopdir"), kernels.join("loopdir")).unwrap();
    let odd_name = kernels.join(OsStr::from_bytes(b"caf\xe9"));
    w.kernelspec_bytes(&kernels, "x", b"{}");
    std::fs::rename(kernels.join("x"), &odd_name).unwrap();
    w.set_var("KIP_PROBE_TIMEOUT_MS", "3000");

    let out = kip(&w, &["kernels", "--json"]);
    out.ok();
    let v = out.json();
    let listed: Vec<&Value> = v["kernels"].as_array().unwrap().iter().collect();
    let good_k = listed
        .iter()
        .find(|k| k["name"] == "good")
        .unwrap_or_else(|| panic!("the healthy kernel is gone: {v:#}"));
    assert_eq!(
        good_k["interpreter"]["python"],
        good.python.to_str().unwrap()
    );
    let text = out.stdout.clone();
    for f in &bad {
        assert!(
            names(&text, f.parent().unwrap()),
            "{} is not named in kip kernels --json",
            f.display()
        );
    }
    // The human listing, doctor and kernel show say the same without crashing.
    let human = kip(&w, &["kernels"]);
    human.ok();
    assert!(human.stdout.contains("good"), "{}", human.show());
    let doc = kip(&w, &["doctor", "--json"]);
    let d = doc.json();
    assert!(
        d["checked"]["kernels"]
            .as_array()
            .is_some_and(|a| a.iter().any(|k| k == "good")),
        "{d:#}"
    );
    let findings = d["findings"].as_array().unwrap();
    for f in &bad {
        let dir = f.parent().unwrap();
        let name = dir.file_name().unwrap().to_str().unwrap();
        assert!(
            findings.iter().any(|f| f["subject"] == name
                || f["subjects"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|x| x == name))),
            "kernel {name} has no finding in doctor:\n{d:#}"
        );
        let show = kip(&w, &["kernel", "show", name, "--json"]);
        assert!(
            names(&show.stdout, dir) || names(&show.stderr, dir),
            "kernel show {name}:\n{}",
            show.show()
        );
    }
    // The Jupyter view agrees that the healthy kernel is there (and survives the battery).
    let listed = w.jupyter_kernelspec_list_json(&w.bin().join("jupyter"));
    assert!(listed.stdout.contains("\"good\""), "{}", listed.show());
}

#[test]
fn hostile_envs_interpreters_and_site_packages_are_named_and_the_rest_shown() {
    let w = World::with_tools();
    let base = toolbox().base_python.clone();
    let good = w.uv_venv(&w.root().join("good"), &base, true);
    w.uv_install(&good.python, &["six"]).unwrap();
    let site = good.site_packages();
    // site-packages: broken metadata beside a real distribution.
    let bad_meta = site.join("badmeta-1.0.dist-info");
    write(
        &bad_meta.join("METADATA"),
        b"Name: \xff\xfe\nVersion: \x80\n",
    );
    write(&bad_meta.join("RECORD"), b"\x00\x01,,,\n\xff");
    write(&bad_meta.join("top_level.txt"), b"\xff\x00bin");
    write(&site.join("afile-1.0.dist-info"), "a file, not a dir");
    symlink(site.join("loop-pkg"), site.join("loop-pkg")).unwrap();
    write(&site.join("huge.pth"), "/nonexistent/dir\n".repeat(200_000));
    std::fs::create_dir_all(site.join("dir.pth")).unwrap();

    // A venv whose .pth files kill (invalid UTF-8: a fatal error in site) or hang (a FIFO)
    // the interpreter itself: kip reads them from disk without either.
    let pth_env = w.uv_venv(&w.root().join("pth-env"), &base, false);
    write(
        &pth_env.site_packages().join("bad-utf8.pth"),
        b"/nonexistent/\xff\n",
    );
    mkfifo(&pth_env.site_packages().join("fifo.pth"));
    // venvs whose pyvenv.cfg is hostile.
    let mut hostile_envs = vec![pth_env.prefix.clone()];
    for (name, cfg) in [
        (
            "cfg-bad-utf8",
            Some(&b"home = \xff\xfe\nversion = \x80\n"[..]),
        ),
        ("cfg-dir", None),
        ("cfg-fifo", None),
    ] {
        let prefix = w.root().join(name);
        std::fs::create_dir_all(prefix.join("bin")).unwrap();
        symlink(&base, prefix.join("bin/python3")).unwrap();
        match (name, cfg) {
            (_, Some(bytes)) => write(&prefix.join("pyvenv.cfg"), bytes),
            ("cfg-dir", None) => std::fs::create_dir_all(prefix.join("pyvenv.cfg")).unwrap(),
            _ => mkfifo(&prefix.join("pyvenv.cfg")),
        }
        hostile_envs.push(prefix);
    }
    // Interpreters that hang, print garbage, fail, or flood stdout.
    let mut pythons = Vec::new();
    for (name, body) in [
        ("hang", "exec sleep 600"),
        ("garbage", "printf '\\377\\376 not json {{{{'"),
        ("fail", "echo 'broken interpreter' >&2; exit 1"),
        ("flood", "exec yes KIP-PROBE-1"),
    ] {
        let p = w.root().join(name).join("bin/python3");
        executable(&p, &format!("#!/bin/sh\n{body}\n"));
        pythons.push(p);
    }
    // conda: garbage conda-meta, and an environments.txt full of junk.
    let conda_env = w.root().join("conda/envs/junk");
    write(&conda_env.join("conda-meta/history"), "");
    write(&conda_env.join("conda-meta/python-3.11.0-0.json"), b"{\xff");
    write(&conda_env.join("conda-meta/garbage.json"), "[[[");
    std::fs::create_dir_all(conda_env.join("bin")).unwrap();
    symlink(&base, conda_env.join("bin/python3")).unwrap();
    let fifo_env = w.root().join("fifo-env");
    mkfifo(&fifo_env);
    let mut txt = format!(
        "{}\nrelative/env\n/nonexistent/env\n{}\n",
        conda_env.display(),
        fifo_env.display()
    )
    .into_bytes();
    txt.extend_from_slice(b"/tmp/\xff\xfe-env\n");
    txt.extend(std::iter::repeat_n(b'a', 100_000));
    write(&w.home().join(".conda/environments.txt"), txt);
    write(&w.home().join(".condarc"), b"envs_dirs: [\xff\n  - {{{\n");
    // PATH: the hostile interpreters, a missing dir, a file, empty entries.
    let mut path = String::new();
    for p in &pythons {
        path.push_str(&format!("{}:", p.parent().unwrap().display()));
    }
    for p in &hostile_envs {
        path.push_str(&format!("{}:", p.join("bin").display()));
    }
    write(&w.root().join("a-file"), "x");
    path.push_str(&format!(
        "/nonexistent::{}:{}:{}",
        w.root().join("a-file").display(),
        good.bin().display(),
        w.var("PATH").unwrap()
    ));
    w.set_var("PATH", &path);
    w.set_var("KIP_PROBE_TIMEOUT_MS", "1500");

    let out = kip(&w, &["envs", "--json"]);
    out.ok();
    let v = out.json();
    let envs = v["environments"].as_array().unwrap();
    assert!(
        envs.iter()
            .any(|e| e["prefix"] == good.prefix.to_str().unwrap()),
        "the healthy venv is gone: {v:#}"
    );
    let all = out.stdout.clone();
    for p in &pythons {
        assert!(
            names(&all, p),
            "{} is not named in envs --json:\n{all}",
            p.display()
        );
    }
    for p in &hostile_envs {
        assert!(
            names(&all, p),
            "{} is not named in envs --json",
            p.display()
        );
    }
    assert!(names(&all, &conda_env), "the junk conda env is not named");
    for args in [
        vec!["which", "--json"],
        vec!["which", "python3", "pip"],
        vec!["doctor", "--json"],
        vec!["envs"],
    ] {
        let o = kip(&w, &args);
        assert!(
            o.status == 0 || o.status == 1,
            "kip {args:?}:\n{}",
            o.show()
        );
        assert!(
            !o.stdout.is_empty(),
            "kip {args:?} showed nothing:\n{}",
            o.show()
        );
    }
    // The healthy env's packages are still listed and importable beside the broken metadata.
    let py = good.python.to_str().unwrap();
    let list = kip(&w, &["list", "--python", py, "--json"]);
    list.ok();
    assert!(list.stdout.contains("\"six\""), "{}", list.show());
    let why = kip(&w, &["why", "six", "--python", py, "--json"]);
    why.ok();
    // And the interpreter itself agrees that six imports there.
    w.run(&good.python, &["-c", "import six"]).ok();
}

#[test]
fn hostile_notebooks_requirement_files_and_wheels_are_refused_naming_the_file() {
    let w = World::with_tools();
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    w.uv_install(&venv.python, &["ipykernel==7.4.0"]).unwrap();
    let py = venv.python.to_str().unwrap().to_string();
    let nbs = w.cwd().join("nbs");
    std::fs::create_dir_all(&nbs).unwrap();
    let mut bad_notebooks = Vec::new();
    let mut nb = |name: &str, bytes: &[u8]| {
        let p = nbs.join(name);
        write(&p, bytes);
        bad_notebooks.push(p);
    };
    nb("not-json.ipynb", b"{\"cells\": [");
    nb("empty.ipynb", b"");
    nb(
        "bad-utf8.ipynb",
        b"{\"cells\": [{\"cell_type\": \"code\", \"source\": \"import \xff\"}]}",
    );
    nb("a-list.ipynb", b"[]");
    nb("deep.ipynb", &{
        let mut v = b"{\"cells\": ".to_vec();
        v.extend(std::iter::repeat_n(b'[', 100_000));
        v
    });
    let dir_nb = nbs.join("dir.ipynb");
    std::fs::create_dir_all(&dir_nb).unwrap();
    bad_notebooks.push(dir_nb);
    let fifo_nb = nbs.join("fifo.ipynb");
    mkfifo(&fifo_nb);
    bad_notebooks.push(fifo_nb);
    let loop_nb = nbs.join("loop.ipynb");
    symlink(&loop_nb, &loop_nb).unwrap();
    bad_notebooks.push(loop_nb);
    for p in &bad_notebooks {
        let ps = p.to_str().unwrap();
        for args in [
            vec!["doctor", ps, "--python", &py],
            vec![
                "install",
                "--notebook",
                ps,
                "--missing",
                "--dry-run",
                "--python",
                &py,
            ],
            vec!["why", "os", "--notebook", ps],
        ] {
            let o = kip(&w, &args);
            assert_eq!(o.status, 2, "kip {args:?} on bad input:\n{}", o.show());
            assert!(
                names(&o.stderr, p),
                "kip {args:?} does not name the file:\n{}",
                o.show()
            );
        }
    }
    // A BOM (Windows editors add one) is tolerated, and so are odd cells in valid JSON.
    let bom = nbs.join("bom.ipynb");
    write(
        &bom,
        b"\xef\xbb\xbf{\"nbformat\": 4, \"cells\": [], \"metadata\": {}}",
    );
    let o = kip(
        &w,
        &["doctor", bom.to_str().unwrap(), "--python", &py, "--json"],
    );
    assert!(o.status == 0 || o.status == 1, "{}", o.show());
    let odd = nbs.join("odd-cells.ipynb");
    write(
        &odd,
        r#"{"nbformat": 4, "cells": [{"cell_type": "code", "source": 7}, 3, {"cell_type": "code", "source": ["import six\n"]}], "metadata": 5}"#,
    );
    let o = kip(
        &w,
        &["doctor", odd.to_str().unwrap(), "--python", &py, "--json"],
    );
    assert_ne!(o.status, 2, "{}", o.show());
    assert_eq!(o.json()["checked"]["notebooks"][0], odd.to_str().unwrap());

    // Requirement files: invalid UTF-8, a directory, a FIFO.
    let reqs = w.root().join("reqs");
    let mut bad_reqs = Vec::new();
    write(&reqs.join("bad-utf8.txt"), b"six\n\xff\xfe\n");
    bad_reqs.push(reqs.join("bad-utf8.txt"));
    std::fs::create_dir_all(reqs.join("dir.txt")).unwrap();
    bad_reqs.push(reqs.join("dir.txt"));
    mkfifo(&reqs.join("fifo.txt"));
    bad_reqs.push(reqs.join("fifo.txt"));
    for r in &bad_reqs {
        let o = kip(&w, &["install", "-r", r.to_str().unwrap(), "--python", &py]);
        assert_eq!(o.status, 2, "{}", o.show());
        assert!(names(&o.stderr, r), "{}", o.show());
    }
    // A truncated wheel: the installer fails, kip says so with the file, and the env is as
    // it was.
    let wheel = w.wheel("truncme", "1.0", &[("truncme", "X = 1\n")]);
    let bytes = std::fs::read(&wheel).unwrap();
    let trunc = w.root().join("trunc").join(wheel.file_name().unwrap());
    write(&trunc, &bytes[..bytes.len() / 2]);
    let o = kip(&w, &["install", trunc.to_str().unwrap(), "--python", &py]);
    assert_eq!(o.status, 1, "{}", o.show());
    assert!(
        names(&o.stderr, &trunc)
            || o.stderr
                .contains(trunc.file_name().unwrap().to_str().unwrap()),
        "{}",
        o.show()
    );
    let check = w.run(&venv.python, &["-c", "import truncme"]);
    assert_ne!(check.status, 0, "a truncated wheel was installed");
    w.run(&venv.python, &["-c", "import ipykernel"]).ok();
}
