//! kip's work grows with the answer, not with the world (issue 16): each extra kernel on an
//! interpreter other kernels already use costs `kip kernels --json` at most 8 syscalls, each
//! extra venv costs `kip envs --json` at most 30, and `kip install --kernel NAME` reads no other
//! kernel's kernel.json. Counted with `strace -f -c` on warm runs (the probe cache filled), the
//! difference between a world and the same world grown; `bench/scale/` measures the same at hub
//! scale, with times.

mod support;

use std::path::{Path, PathBuf};

use support::{toolbox, World};

fn strace() -> &'static Path {
    let p = Path::new("/usr/bin/strace");
    assert!(
        p.exists(),
        "these tests count syscalls with strace: apt-get install strace"
    );
    p
}

/// Total syscalls of one warm `kip args…` run (every thread), as `strace -f -c` counts them.
fn syscalls(w: &World, args: &[&str]) -> u64 {
    w.kip(args).ok();
    let table = w.root().join("strace.table");
    let mut full: Vec<&str> = vec!["-f", "-c", "-o", table.to_str().unwrap()];
    full.push(env!("CARGO_BIN_EXE_kip"));
    full.extend_from_slice(args);
    w.run(strace(), &full).ok();
    let text = std::fs::read_to_string(&table).unwrap();
    let total = text
        .lines()
        .find(|l| l.trim_end().ends_with("total"))
        .unwrap_or_else(|| panic!("no total in strace's table:\n{text}"));
    // `% time seconds usecs/call calls [errors] total`: calls is the fourth column.
    total
        .split_whitespace()
        .nth(3)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the calls of {total:?}"))
}

fn user_kernels(w: &World) -> PathBuf {
    w.root().join("xdg/data/jupyter/kernels")
}

fn add_kernels(w: &World, python: &Path, range: std::ops::Range<usize>) {
    for i in range {
        let spec = serde_json::json!({
            "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": format!("Kernel {i}"),
            "language": "python",
            "metadata": {"debugger": true},
        });
        w.kernelspec(&user_kernels(w), &format!("k{i:03}"), &spec.to_string());
    }
}

#[test]
fn an_extra_kernel_on_a_known_interpreter_costs_at_most_8_syscalls() {
    let w = World::new();
    w.use_toolbox_jupyter();
    let a = w.uv_venv(&w.root().join("envA"), &toolbox().base_python, false);
    let b = w.uv_venv(&w.root().join("envB"), &toolbox().base_python, false);
    add_kernels(&w, &a.python, 0..2);
    add_kernels(&w, &b.python, 2..4);
    let small = syscalls(&w, &["kernels", "--json"]);
    add_kernels(&w, &a.python, 4..44);
    add_kernels(&w, &b.python, 44..84);
    let big = syscalls(&w, &["kernels", "--json"]);
    let per = (big - small) as f64 / 80.0;
    assert!(
        per <= 8.0,
        "kip kernels --json: {per:.1} syscalls per extra kernel ({small} with 4 kernels, {big} with 84)"
    );
    let listed = w.kip(&["kernels", "--json"]).json();
    assert_eq!(
        listed["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["name"].as_str().unwrap().starts_with('k'))
            .count(),
        84,
        "every kernel is still listed"
    );
}

#[test]
fn an_extra_venv_costs_at_most_30_syscalls() {
    let w = World::new();
    let poetry = w.root().join("xdg/cache/pypoetry/virtualenvs");
    let make = |range: std::ops::Range<usize>| {
        for i in range {
            w.uv_venv(
                &poetry.join(format!("proj{i:02}-AbCdEfGh-py3")),
                &toolbox().base_python,
                false,
            );
        }
    };
    make(0..5);
    let small = syscalls(&w, &["envs", "--json"]);
    make(5..30);
    let big = syscalls(&w, &["envs", "--json"]);
    let per = (big - small) as f64 / 25.0;
    assert!(
        per <= 30.0,
        "kip envs --json: {per:.1} syscalls per extra venv ({small} with 5 venvs, {big} with 30)"
    );
    let listed = w.kip(&["envs", "--json"]).json();
    let in_poetry = listed["environments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["prefix"].as_str().unwrap_or("").contains("pypoetry"))
        .count();
    assert_eq!(in_poetry, 30, "every venv is still listed: {listed}");
}

#[test]
fn install_into_a_named_kernel_reads_that_kernel_only() {
    let w = World::new();
    w.use_toolbox_jupyter();
    let a = w.uv_venv(&w.root().join("envA"), &toolbox().base_python, false);
    add_kernels(&w, &a.python, 0..30);
    let trace = w.root().join("opens.trace");
    let args = [
        "-f",
        "-e",
        "trace=openat,open,statx,newfstatat,stat",
        "-o",
        trace.to_str().unwrap(),
        env!("CARGO_BIN_EXE_kip"),
        "install",
        "six",
        "--kernel",
        "K007",
        "--dry-run",
    ];
    let out = w.run(strace(), &args);
    out.ok();
    assert!(
        out.stdout.contains("envA"),
        "the dry run names the kernel's env: {}",
        out.stdout
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    // A full path or one below the open kernels dir (`openat(4, "k007/kernel.json", …)`).
    let kernel_json = regex::Regex::new(r"k\d{3}/kernel\.json").unwrap();
    let read: Vec<&str> = text.lines().filter(|l| kernel_json.is_match(l)).collect();
    assert!(
        !read.is_empty() && read.iter().all(|l| l.contains("k007/kernel.json")),
        "only k007's kernel.json is looked at:\n{}",
        read.join("\n")
    );
    // A name no kernel has still lists every kernel to choose from.
    let missing = w.kip(&["install", "six", "--kernel", "nope", "--dry-run"]);
    assert!(
        missing.stderr.contains("--kernel k000") && missing.stderr.contains("--kernel k029"),
        "{}",
        missing.stderr
    );
}
