//! The Python distribution `jupyter-kip`: the wheel `pip wheel .` builds from this checkout
//! installs with pip (and uv) into a fresh env, gives `kip` and `jupyter-kip`, ships the typed
//! package `kip`, and `jupyter kip kernels --json` works by jupyter_core's subcommand rule.

mod support;

use std::path::Path;
use std::time::Duration;

use support::wheel::wheel;
use support::{run_command, toolbox, World};

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
    let names = support::kernel_names(&v);
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
