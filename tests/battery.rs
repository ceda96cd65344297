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
