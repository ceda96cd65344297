//! Real-world problems of the long tail (issue 18, classes 1, 2 and 5), rebuilt. Same rules as
//! tests/realworld.rs: each test names the public report it comes from, rebuilds the user's
//! machine as an isolated world (real conda-pack, real `uv run --with`, real kernels started
//! through jupyter_client), shows the failure in a real kernel, runs kip as the user would,
//! runs the fix exactly as `--json` prints it, and shows the failure gone in a real kernel.
//! Advice that leaves the user worse off fails the test.

mod support;

use std::path::Path;

use support::realworld::{find, run_any_fix as run_fix, s};
use support::{toolbox, KernelOpts, World};

/// https://github.com/conda/conda-pack/issues/69 ("jupyter kernel.json file change") and
/// https://github.com/conda/conda-pack/issues/189: an env packed with conda-pack and unpacked
/// on another machine without `conda-unpack` has a kernelspec naming the packed env's prefix
/// (or a placeholder), so its kernel cannot start. The env is whole: kip names `conda-unpack`
/// and never removes the kernel.
#[test]
fn conda_pack_env_never_unpacked_is_finished_by_conda_unpack() {
    let w = World::with_tools();
    let tb = toolbox();
    let conda_pack = tb.root.join("condapack-venv/bin/conda-pack");
    assert!(
        conda_pack.is_file(),
        "no {} (tests/toolbox/provision.sh READY-condapack)",
        conda_pack.display()
    );
    // The build machine: a conda env with Jupyter's kernel machinery and its kernelspec.
    let built = w.root().join("build/envs/analysis");
    w.conda_env(&built, &["python", "pip"]);
    w.uv_install(
        &built.join("bin/python"),
        &[
            "ipykernel==7.4.0",
            "jupyter_client==8.10.0",
            "jupyter_core==5.9.1",
        ],
    )
    .unwrap();
    w.run(
        &built.join("bin/python"),
        &["-m", "ipykernel", "install", "--sys-prefix"],
    )
    .ok();
    let archive = w.root().join("analysis.tar.gz");
    let mut pack = w.command(&conda_pack);
    pack.args(["-p", s(&built), "-o", s(&archive), "-q"])
        .env("CONDA_PKGS_DIRS", w.conda_pkgs_dir());
    let packed = support::run_command(pack, support::default_timeout());
    assert!(packed.success(), "conda-pack: {}", packed.show());
    // The other machine: the archive unpacked, `source bin/activate`, no `conda-unpack`.
    std::fs::remove_dir_all(&built).unwrap();
    let env = w.root().join("opt/analysis");
    std::fs::create_dir_all(&env).unwrap();
    w.run(Path::new("/bin/tar"), &["-xzf", s(&archive), "-C", s(&env)])
        .ok();
    w.prepend_path(&env.join("bin"));
    let opts = KernelOpts {
        server_python: Some(env.join("bin/python")),
        ..Default::default()
    };
    let before = w.run_kernel_with("python3", "import sys; print(sys.prefix)", &opts);
    assert!(!before.started, "{before:?}");

    let v = w.kip(&["doctor", "--json"]).json();
    let f = find(&v, "env-unpacked-placeholder").unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(f["severity"], "error");
    assert_eq!(f["subject"], "python3");
    assert!(
        find(&v, "kernel-interpreter-missing").is_none(),
        "a removal is offered for a whole env: {v:#}"
    );
    let text = f["fix"]["text"].as_str().unwrap().to_string();
    assert!(text.contains("conda-unpack"), "{text}");
    // Harmful advice would remove the kernel: `kernel fix --yes` keeps it.
    let kdir = env.join("share/jupyter/kernels/python3");
    w.kip(&["kernel", "fix", "python3", "--yes", "--no-start"]);
    assert!(kdir.join("kernel.json").is_file(), "kip removed the kernel");

    let out = run_fix(&w, &w.cwd(), &text);
    assert!(out.success(), "{text}: {}", out.show());
    let after = w.run_kernel_with("python3", "import sys; print(sys.prefix)", &opts);
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains(s(&env)), "{after:?}");
    let again = w.kip(&["doctor", "--json"]).json();
    assert!(
        find(&again, "env-unpacked-placeholder").is_none(),
        "{again:#}"
    );
}

/// A project managed by uv, whose `pyproject.toml` points uv at a local wheelhouse (as a
/// private index would): what `uv add` and `uv run` read.
fn uv_project(w: &World, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("pyproject.toml"),
        format!(
            "[project]\nname = \"proj\"\nversion = \"0.1\"\nrequires-python = \">=3.11\"\ndependencies = []\n\n[tool.uv]\nno-index = true\nfind-links = [\"{}\", \"{}\"]\n",
            s(&toolbox().wheels),
            s(&w.root().join("wheels"))
        ),
    )
    .unwrap();
    // uv reads the project's [tool.uv]; the world's UV_NO_CONFIG would hide it.
    w.remove_var("UV_NO_CONFIG");
    w.set_var("UV_OFFLINE", "1");
    w.set_var("UV_PYTHON", s(&toolbox().base_python));
}

/// https://github.com/astral-sh/uv/issues/14749 (JupyterLab launched with `uv run --with
/// jupyter jupyter lab` runs from a temporary env under uv's cache) and
/// https://github.com/astral-sh/uv/pull/7625 (uv's Jupyter guide: in that setup `!uv pip
/// install` goes into Jupyter's environment and "may disappear"; use `uv add`): kip must not
/// install into the layer and report success; it names `uv add`, and after that fix the
/// package imports in the running kernel and in the next session.
#[test]
fn uv_run_with_layer_install_is_refused_and_uv_add_lasts() {
    let w = World::with_tools();
    let proj = w.root().join("proj");
    w.wheel("layerpkg", "1.0", &[("layerpkg", "X = 1\n")]);
    uv_project(&w, &proj);
    // `uv run --with jupyter jupyter lab`: jupyter_client in the layer starts the native kernel.
    let opts = KernelOpts {
        server_python: Some(toolbox().uv.clone()),
        server_args: [
            "run",
            "--with",
            "ipykernel==7.4.0",
            "--with",
            "jupyter_client==8.10.0",
            "--with",
            "jupyter_core==5.9.1",
            "python",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect(),
        cwd: Some(proj.clone()),
        ..Default::default()
    };
    let mut k = w.start_kernel_with("python3", &opts);
    let where_ = k.execute("import sys; print(sys.prefix)");
    assert!(
        where_.stdout.contains("builds-v0"),
        "the kernel runs uv's temporary layer: {where_:?}"
    );
    let before = k.execute("import layerpkg");
    assert!(
        before
            .error
            .as_deref()
            .is_some_and(|e| e.contains("ModuleNotFoundError")),
        "{before:?}"
    );
    // `!kip install layerpkg --json` in the notebook.
    let run = k.execute(
        "import subprocess, json\nr = subprocess.run(['kip', 'install', 'layerpkg', '--json'], capture_output=True, text=True)\nprint(json.dumps({'code': r.returncode, 'out': r.stdout, 'err': r.stderr}))",
    );
    let res: serde_json::Value =
        serde_json::from_str(run.stdout.trim()).unwrap_or_else(|_| panic!("{run:?}"));
    assert_eq!(res["code"], 1, "never plain success: {res:#}");
    let report: serde_json::Value =
        serde_json::from_str(res["out"].as_str().unwrap()).unwrap_or_else(|_| panic!("{res:#}"));
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("env-ephemeral")),
        "{report:#}"
    );
    let fix = report["fix"].as_str().unwrap().to_string();
    assert!(fix.starts_with("uv add --project"), "{fix}");
    // `!kip doctor` there says so too.
    let doc = k.execute(
        "import subprocess\nprint(subprocess.run(['kip', 'doctor', '--json', '--no-start'], capture_output=True, text=True).stdout)",
    );
    let dv: serde_json::Value =
        serde_json::from_str(doc.stdout.trim()).unwrap_or_else(|_| panic!("{doc:?}"));
    assert!(find(&dv, "env-ephemeral").is_some(), "{dv:#}");

    let out = run_fix(&w, &proj, &fix);
    assert!(out.success(), "{fix}: {}", out.show());
    let now = k.execute("import layerpkg; print(layerpkg.X)");
    assert!(now.error.is_none(), "{now:?}");
    drop(k);
    // It lasts: the next session has it.
    let next = w.run_kernel_with(
        "python3",
        "import layerpkg; print(layerpkg.__file__)",
        &opts,
    );
    assert!(next.error.is_none(), "{next:?}");
    assert!(next.stdout.contains(s(&proj.join(".venv"))), "{next:?}");
}

/// https://github.com/jupyterhub/jupyterhub/issues/2539 ("cannot import packages that
/// installed with `!pip install --user` in the notebook ... Have to restart it") and
/// https://github.com/ipython/ipython/issues/12613 ("USER_SITE doesn't existed cause kernel
/// not include it in the path"): the user site did not exist when the kernel started, so the
/// running kernel cannot import what `pip install --user` put there. kip must say "restart
/// the kernel" — not "install", not "importable".
#[test]
fn user_site_created_after_kernel_start_needs_a_restart() {
    let w = World::with_tools();
    w.use_fixture_conda(&["conda"]);
    let env = w.root().join("conda/envs/ds");
    w.conda_env(&env, &["python", "pip"]);
    w.uv_install(&env.join("bin/python"), &["ipykernel==7.4.0"])
        .unwrap();
    w.run(
        &env.join("bin/python"),
        &["-m", "ipykernel", "install", "--user", "--name", "ds"],
    )
    .ok();
    w.wheel("userpkg", "1.0", &[("userpkg", "X = 1\n")]);
    assert!(!w.home().join(".local").exists());
    let mut k = w.start_kernel("ds");
    let pid = k.kernel_pid().unwrap().to_string();
    // `!pip install --user userpkg` in the notebook, then the import fails.
    let pip = k.execute(&format!(
        "import subprocess, sys\nr = subprocess.run([sys.executable, '-m', 'pip', 'install', '--user', '--find-links', {:?}, 'userpkg'], capture_output=True, text=True)\nprint(r.returncode, r.stderr[-300:])",
        s(&w.root().join("wheels"))
    ));
    assert!(pip.stdout.starts_with('0'), "{pip:?}");
    let before = k.execute("import userpkg");
    assert!(
        before
            .error
            .as_deref()
            .is_some_and(|e| e.contains("ModuleNotFoundError")),
        "{before:?}"
    );

    let why = w.kip(&["why", "userpkg", "--kernel-pid", &pid, "--json"]);
    assert_eq!(why.status, 1, "{}", why.show());
    let wv = why.json();
    assert_eq!(wv["importable"], false, "{wv:#}");
    assert!(wv["install"].is_null(), "{wv:#}");
    assert!(
        wv["restart"]
            .as_str()
            .is_some_and(|r| r.contains("restart")),
        "{wv:#}"
    );
    let inst = w.kip(&["install", "userpkg", "--kernel-pid", &pid, "--json"]);
    assert_eq!(inst.status, 1, "{}", inst.show());
    let iv = inst.json();
    assert!(
        iv["error"]
            .as_str()
            .is_some_and(|e| e.contains("kernel-state-stale")),
        "{iv:#}"
    );
    let v = w
        .kip(&["doctor", "--kernel-pid", &pid, "--json", "--no-start"])
        .json();
    let f = find(&v, "kernel-state-stale").unwrap_or_else(|| panic!("{v:#}"));
    let fix = f["fix"]["text"].as_str().unwrap();
    assert!(fix.starts_with("restart kernel \"ds\""), "{fix}");
    assert!(!fix.contains("kip install"), "{fix}");
    // The fix: restart the kernel.
    drop(k);
    let after = w.run_kernel("ds", "import userpkg; print(userpkg.__file__)");
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains(".local"), "{after:?}");
}
