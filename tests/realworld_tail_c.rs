//! Real-world problems of the long tail (issue 18, class 1: which Jupyter is really serving),
//! rebuilt. Same rules as tests/realworld.rs: each test names the public report it comes from,
//! rebuilds the user's machine as an isolated world (a real jupyter_server running from one
//! env while a kernel env's `jupyter` is first on PATH; a real `uv tool install jupyterlab`),
//! shows the failure in a real kernel started through jupyter_client, runs kip as the user
//! would, runs the fix exactly as `--json` prints it, and shows it gone in a real kernel.

mod support;

use std::path::{Path, PathBuf};

use support::realworld::{find, run_fix, s};
use support::server::Server;
use support::{toolbox, KernelOpts, World};

fn kernel<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == name)
        .unwrap_or_else(|| panic!("no kernel {name}: {v:#}"))
}

fn server_wheels() -> PathBuf {
    let d = toolbox().root.join("wheels-server");
    assert!(
        d.is_dir(),
        "no {} (tests/toolbox/provision.sh READY-server-wheels)",
        d.display()
    );
    d
}

/// https://github.com/jupyter/notebook/issues/2563 ("Jupyter Notebook is loading incorrect
/// Python kernel"): with a venv activated, `which python` is the venv, but the notebook's
/// kernel runs another Python. The server was started from another env; the venv has
/// ipykernel, so jupyter_core put a `jupyter` (and jupyter_client a `jupyter-kernelspec`) first
/// on PATH. Taking that `jupyter` as the Jupyter in use names the venv as the `python3` kernel
/// and installs there; the running server's `python3` is its own env.
#[test]
fn activated_kernel_venv_does_not_hide_the_running_server() {
    let w = World::with_tools();
    // The server env (jupyter_server with its own ipykernel), and the server, started from it.
    let srv = w.uv_venv(&w.root().join("srv"), &toolbox().base_python, false);
    w.uv_install_from(
        &srv.python,
        &["jupyter_server==2.21.1", "ipykernel==7.4.0"],
        &[&server_wheels()],
    )
    .unwrap();
    let server = Server::start_with(&w, &srv.python, &[]);
    // Later, in another shell: a project venv with ipykernel, activated.
    let proj = w.root().join("proj");
    let venv = w.uv_venv(&proj.join(".venv"), &toolbox().base_python, false);
    w.uv_install(&venv.python, &["ipykernel==7.4.0"]).unwrap();
    // The user's `pip install` in that shell goes to the venv.
    w.wheel("fitkit", "1.0", &[("fitkit/__init__.py", "V = 1\n")]);
    w.uv_install(&venv.python, &["fitkit"]).unwrap();
    // (and the package index the user has: the wheelhouse and this wheel)
    w.set_var(
        "PIP_FIND_LINKS",
        &format!("{} {}", s(&toolbox().wheels), s(&w.root().join("wheels"))),
    );
    w.prepend_path(&venv.bin());
    w.set_var("VIRTUAL_ENV", s(&venv.prefix));
    assert!(venv.bin().join("jupyter").is_file());

    // The notebook's kernel, as the server's jupyter_client starts it: not the venv.
    let opts = KernelOpts {
        server_python: Some(srv.python.clone()),
        ..Default::default()
    };
    let before = w.run_kernel_with(
        "python3",
        "import sys; print(sys.prefix); import fitkit",
        &opts,
    );
    assert!(before.stdout.contains(s(&srv.prefix)), "{before:?}");
    assert!(
        before.error.as_deref().unwrap_or("").contains("fitkit"),
        "{before:?}"
    );

    // Today's rule (the first `jupyter` on PATH) names the venv as `python3`: an install
    // there is "already satisfied" while the notebook still fails.
    let old = w
        .kip(&[
            "kernels",
            "--json",
            "--jupyter",
            s(&venv.bin().join("jupyter")),
        ])
        .json();
    assert_eq!(
        kernel(&old, "python3")["interpreter"]["python"]
            .as_str()
            .map(Path::new),
        Some(venv.python.as_path()),
        "{old:#}"
    );

    // kip, run as the user would in that shell: the running server is the Jupyter in use.
    let v = w.kip(&["kernels", "--json"]).json();
    let how = v["jupyter"]["how"].as_str().unwrap();
    assert!(
        how.contains(&format!("running Jupyter server (pid {}", server.pid)),
        "{v:#}"
    );
    let k = kernel(&v, "python3");
    assert_eq!(
        k["environment"]["prefix"].as_str().map(Path::new),
        Some(srv.prefix.as_path()),
        "{v:#}"
    );
    let human = w.kip(&["kernels"]);
    assert!(
        human.stdout.contains("running Jupyter server"),
        "{}",
        human.show()
    );
    // --jupyter-json is what the user's `jupyter kernelspec list --json` prints, byte for byte:
    // PRODUCT.md keeps that listing on the `jupyter` on PATH (here the venv's); only launch-time
    // rules follow the running server. (kip's first: it writes nothing; Jupyter's may create
    // its dirs)
    let ours = w.kip(&["kernels", "--jupyter-json"]);
    let real = w.jupyter_kernelspec_list_json(&venv.bin().join("jupyter"));
    assert!(real.success(), "{}", real.show());
    assert_eq!(ours.stdout, real.stdout, "{}", ours.show());

    // The fix, exactly as printed, installs where the notebook's kernel runs.
    let why = w
        .kip(&["why", "fitkit", "--kernel", "python3", "--json"])
        .json();
    assert_eq!(why["importable"], false, "{why:#}");
    assert_eq!(
        why["python"].as_str().map(Path::new),
        Some(srv.python.as_path())
    );
    let fix = why["install"].as_str().unwrap().to_string();
    let out = run_fix(&w, &w.cwd(), &fix);
    assert!(out.success(), "{fix}: {}", out.show());
    let after = w.run_kernel_with("python3", "import fitkit; print(fitkit.V)", &opts);
    assert!(after.error.is_none(), "{after:?}");
    assert_eq!(after.stdout.trim(), "1", "{after:?}");
    drop(server);
}

/// https://github.com/jupyterlab/jupyterlab/issues/17375 ("%pip magic doesn't work when
/// installed using `uv tool install jupyterlab`"): JupyterLab installed as a uv tool puts only
/// `jupyter-lab` (and its siblings) on PATH; the `python3` kernel runs the tool env, which has
/// no pip, so `%pip install` fails and the package cannot be imported. With no `jupyter` on
/// PATH, today's rule sees no Jupyter and no `python3` kernel at all. kip finds the tool's
/// Jupyter through `jupyter-lab`'s shebang and installs into the kernel's env with uv.
#[test]
fn uv_tool_jupyterlab_is_found_through_jupyter_lab() {
    let w = World::new();
    let wheels = toolbox().root.join("wheels-labtool");
    assert!(
        wheels.is_dir(),
        "no {} (tests/toolbox/provision.sh READY-labtool-wheels)",
        wheels.display()
    );
    // `uv tool install jupyterlab`, offline, with uv's own defaults for the tool and bin dirs.
    let mut c = w.command(&toolbox().uv);
    c.args([
        "tool",
        "install",
        "--offline",
        "--no-index",
        "--find-links",
        s(&wheels),
        "--python",
        s(&toolbox().base_python),
        "jupyterlab",
    ]);
    let out = support::run_command(c, support::default_timeout());
    assert!(out.success(), "uv tool install jupyterlab: {}", out.show());
    // uv's bin dir: XDG_BIN_HOME, else $XDG_DATA_HOME/../bin, else ~/.local/bin
    let local_bin = w.root().join("xdg/bin");
    let tool = w.root().join("xdg/data/uv/tools/jupyterlab");
    assert!(local_bin.join("jupyter-lab").exists(), "{}", out.show());
    assert!(!local_bin.join("jupyter").exists());
    w.prepend_path(&local_bin);
    let tool_python = tool.join("bin/python");

    // The kernel as `jupyter-lab` starts it: the tool env, without pip.
    w.wheel("fitkit", "1.0", &[("fitkit/__init__.py", "V = 1\n")]);
    // The user's project (a poetry env) has fitkit: that is how kip knows its distribution
    // (it never turns an unknown module's name into an install).
    let project = w.uv_venv(
        &w.root()
            .join("xdg/cache/pypoetry/virtualenvs/llm-Ab3dEf12-py3.11"),
        &toolbox().base_python,
        false,
    );
    w.uv_install(&project.python, &["fitkit"]).unwrap();
    w.set_var(
        "PIP_FIND_LINKS",
        &format!("{} {}", s(&toolbox().wheels), s(&w.root().join("wheels"))),
    );
    w.set_var("PIP_NO_INDEX", "1");
    let opts = KernelOpts {
        server_python: Some(tool_python.clone()),
        ..Default::default()
    };
    let before = w.run_kernel_with(
        "python3",
        "import sys; print(sys.prefix)\n%pip install fitkit\nimport fitkit",
        &opts,
    );
    assert!(before.stdout.contains(s(&tool)), "{before:?}");
    assert!(before.stdout.contains("No module named pip"), "{before:?}");
    assert!(
        before.error.as_deref().unwrap_or("").contains("fitkit"),
        "{before:?}"
    );

    // kip, run as the user would: the tool's Jupyter and its `python3` kernel.
    let v = w.kip(&["kernels", "--json"]).json();
    let how = v["jupyter"]["how"].as_str().unwrap();
    assert!(how.contains("tool-installed"), "{v:#}");
    let k = kernel(&v, "python3");
    assert_eq!(
        k["environment"]["prefix"].as_str().map(Path::new),
        Some(tool.as_path()),
        "{v:#}"
    );
    let ours = w.kip(&["kernels", "--jupyter-json"]);
    let real = w.jupyter_kernelspec_list_json(&tool.join("bin/jupyter"));
    assert!(real.success(), "{}", real.show());
    assert_eq!(ours.stdout, real.stdout, "{}", ours.show());

    std::fs::write(
        w.cwd().join("llm.ipynb"),
        r#"{"cells": [{"cell_type": "code", "execution_count": null, "id": "c1", "metadata": {}, "outputs": [], "source": ["import fitkit"]}], "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}"#,
    )
    .unwrap();
    let doc = w
        .kip(&["doctor", "--notebook", "llm.ipynb", "--json"])
        .json();
    let f = find(&doc, "notebook-import-missing").unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(f["module"], "fitkit");
    // `%pip` failing is explained too: the tool env has no pip
    let no_pip = find(&doc, "env-no-pip").unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(
        no_pip["subject"].as_str().map(Path::new),
        Some(tool.as_path())
    );
    let fix = f["fix"]["text"].as_str().unwrap().to_string();
    assert!(
        fix.starts_with("kip install fitkit --kernel python3"),
        "{fix}"
    );
    let out = run_fix(&w, &w.cwd(), &fix);
    assert!(out.success(), "{fix}: {}", out.show());
    let after = w.run_kernel_with("python3", "import fitkit; print(fitkit.V)", &opts);
    assert!(after.error.is_none(), "{after:?}");
    assert_eq!(after.stdout.trim(), "1", "{after:?}");
    let again = w
        .kip(&["doctor", "--notebook", "llm.ipynb", "--json"])
        .json();
    assert!(
        find(&again, "notebook-import-missing").is_none(),
        "{again:#}"
    );
}

/// https://github.com/jupyter/notebook/issues/5383 ("first i import pandas ... then `!pip
/// install -U pandas` ... when i import pandas, it is still the old version ... if i restart
/// the kernel, then the latest version comes") and https://github.com/numpy/numpy/issues/25725
/// (`pip install numpy~=1.26` in a notebook that had imported numpy 1.23: "this will still be
/// the previous one"). A compiled module loaded before the upgrade stays in the kernel; pip
/// removes its file, which the kernel's memory map then marks `(deleted)`. kip must say
/// "restart the kernel", never "install".
#[test]
fn distribution_upgraded_after_the_kernel_imported_it_needs_a_restart() {
    let w = World::with_tools();
    let venv = w.uv_venv(&w.root().join("an"), &toolbox().base_python, true);
    w.uv_install(&venv.python, &["ipykernel==7.4.0"]).unwrap();
    w.run(
        &venv.python,
        &["-m", "ipykernel", "install", "--user", "--name", "an"],
    )
    .ok();
    // A package that loads a shared library of its own, as numpy and pandas load theirs.
    let lib = "@file:/lib/x86_64-linux-gnu/libz.so.1";
    let init = |v: &str| {
        format!(
            "import ctypes, os\n_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), '_native.so'))\nV = {v:?}\n"
        )
    };
    for v in ["1.0", "2.0"] {
        w.wheel(
            "natpkg",
            v,
            &[("natpkg/__init__.py", &init(v)), ("natpkg/_native.so", lib)],
        );
    }
    let wheels = s(&w.root().join("wheels")).to_string();
    let pip = |spec: &str| {
        format!(
            "import subprocess, sys\nr = subprocess.run([sys.executable, '-m', 'pip', 'install', '-U', '--no-index', '--find-links', {wheels:?}, {spec:?}], capture_output=True, text=True)\nprint(r.returncode, r.stderr[-300:])"
        )
    };
    let mut k = w.start_kernel("an");
    let pid = k.kernel_pid().unwrap().to_string();
    let first = k.execute(&format!(
        "{}\nimport natpkg; print(natpkg.V)",
        pip("natpkg==1.0")
    ));
    assert!(first.stdout.contains("1.0"), "{first:?}");
    let quiet = w
        .kip(&["doctor", "--kernel-pid", &pid, "--json", "--no-start"])
        .json();
    assert!(find(&quiet, "kernel-state-stale").is_none(), "{quiet:#}");

    // `!pip install -U natpkg`, then the import still hands back 1.0.
    let up = k.execute(&pip("natpkg==2.0"));
    assert!(up.stdout.starts_with('0'), "{up:?}");
    let still = k.execute("import natpkg; print(natpkg.V)");
    assert!(
        still.stdout.contains("1.0"),
        "the failure is real: {still:?}"
    );

    let v = w
        .kip(&["doctor", "--kernel-pid", &pid, "--json", "--no-start"])
        .json();
    let f = find(&v, "kernel-state-stale").unwrap_or_else(|| panic!("{v:#}"));
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("\"natpkg\"") && msg.contains("_native.so") && msg.contains("natpkg 2.0"),
        "{msg}"
    );
    let fix = f["fix"]["text"].as_str().unwrap();
    assert!(fix.starts_with("restart kernel \"an\""), "{fix}");
    assert!(!fix.contains("kip install"), "{fix}");
    // `kip why` calls it importable (it is, the old one) and says to restart.
    let why = w.kip(&["why", "natpkg", "--kernel-pid", &pid, "--json"]);
    why.ok();
    let wv = why.json();
    assert_eq!(wv["importable"], true, "{wv:#}");
    assert!(
        wv["warning"]
            .as_str()
            .is_some_and(|x| x.contains("still runs the \"natpkg\"")),
        "{wv:#}"
    );
    assert!(
        wv["restart"]
            .as_str()
            .is_some_and(|r| r.starts_with("restart kernel \"an\"")),
        "{wv:#}"
    );
    // `kip ps` advises the restart, naming the package rather than pip's stash path.
    let ps = w.kip(&["ps", "--json"]).json();
    let mine = ps["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["pid"].as_i64() == pid.parse().ok())
        .unwrap_or_else(|| panic!("{ps:#}"));
    assert_eq!(mine["restart_advised"], true, "{mine:#}");
    assert!(
        mine["restart_reasons"].to_string().contains(
            "natpkg: its compiled files were replaced or removed on disk after the kernel imported it"
        ),
        "{mine:#}"
    );
    // The same from inside the kernel (`!kip doctor`), where kip finds its kernel itself.
    let inside = k.execute("import subprocess\nprint(subprocess.run(['kip', 'doctor', '--json', '--no-start'], capture_output=True, text=True).stdout)");
    assert!(
        inside.stdout.contains("still runs the old \\\"natpkg\\\""),
        "{inside:?}"
    );

    // The fix: restart the kernel.
    drop(k);
    let after = w.run_kernel("an", "import natpkg; print(natpkg.V)");
    assert!(
        after.error.is_none() && after.stdout.contains("2.0"),
        "{after:?}"
    );
}
