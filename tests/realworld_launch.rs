//! Real-world problems about how a Jupyter server is launched, rebuilt (the pattern of
//! `tests/realworld.rs`): a `jupyter` reached through a pyenv shim, one started after `conda
//! activate`, and uv's project flows. Each test cites the public report, shows the failure in a
//! real kernel started through jupyter_client, runs kip as the user would, runs the fix exactly
//! as `--json` prints it, and shows the failure gone in a real kernel. Where a tool cannot run
//! here (conda activate), the test builds exactly what it leaves: the variables and PATH.

mod support;

use std::path::{Path, PathBuf};

use support::realworld::*;
use support::{toolbox, KernelOpts, KernelSession, World};

/// In a running kernel: `pip install` (offline, from `wheels`) the way `!pip install` runs it,
/// then `import module`; the install's target prefix is printed first.
fn pip_install_then_import(k: &mut KernelSession, wheels: &Path, dist: &str) -> (String, bool) {
    let code = format!(
        "import subprocess, importlib\n\
         r = subprocess.run('pip --version && pip install -q --no-index --find-links {} {dist}', shell=True, capture_output=True, text=True)\n\
         print(r.stdout, r.stderr)\n\
         importlib.invalidate_caches()\n\
         import {dist}\n",
        wheels.display()
    );
    let r = k.execute(&code);
    let imported = r.error.is_none();
    (
        format!("{}{}", r.stdout, r.error.unwrap_or_default()),
        imported,
    )
}

/// https://github.com/pyenv/pyenv/issues/1675 ("pyenv local mechanism not working in Jupyter
/// terminal"): JupyterLab is started outside the project, under the global version; the project
/// folder has `pyenv local` set to another version, yet inside Jupyter `python` and `pip` are
/// always the server's version, because `pyenv exec` put that version's `bin` before the shims.
/// kip follows the server's launch (its `jupyter` shim resolved where it was started), not the
/// `.python-version` beside the notebook; its fix makes `!pip` the kernel's own.
#[test]
fn pyenv_local_beside_the_notebook_does_not_pick_the_servers_python() {
    let w = World::with_tools();
    let (root, _) = pyenv_virtualenv(&w, "tools");
    w.pyenv_global("tools");
    let other = support::pyenv_version("3.12");
    w.pyenv_root(&[&other]);
    w.pyenv_shims(&["jupyter", "jupyter-kernelspec"]);
    w.prepend_path(&root.join("shims"));
    let a = project_venv(&w, &w.root().join("a-env"), "apkg");
    w.run(
        &a.python,
        &["-m", "ipykernel", "install", "--user", "--name", "a"],
    )
    .ok();
    let proj = w.root().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    w.pyenv_local(&proj, &other);
    notebook(&proj.join("nb.ipynb"), "a", "import leakpkg\n");
    w.wheel("leakpkg", "1.0", &[("leakpkg", "X = 1\n")]);
    let wheels = w.root().join("wheels");
    // In the notebook's folder the shims choose the local version...
    let here = w.run_in(&proj, &root.join("shims/pip"), &["--version"]);
    assert!(here.stdout.contains(&other[..4]), "{}", here.show());
    // ...but the server was started in the world's cwd through the `jupyter` shim, and its
    // kernels run in the notebook's folder with the global version's bin first on PATH.
    let opts = KernelOpts {
        server_python: Some(root.join("shims/python")),
        kernel_cwd: Some(proj.clone()),
        ..Default::default()
    };
    let mut k = w.start_kernel_with("a", &opts);
    let (out, imported) = pip_install_then_import(&mut k, &wheels, "leakpkg");
    drop(k);
    assert!(!imported, "the leak: {out}");
    assert!(out.contains("envs/tools"), "{out}");
    assert!(!out.contains(&other), "{out}");
    // The user, in the terminal that started Jupyter, asks about the notebook.
    let v = doctor(&w, &[s(&proj.join("nb.ipynb"))]);
    let f = findings(&v)
        .into_iter()
        .find(|f| f["id"] == "kernel-shell-mismatch" && f["subject"] == "a")
        .unwrap_or_else(|| panic!("{v:#}"));
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("tools"), "{f}");
    assert!(!msg.contains(&other), "the notebook folder's version: {f}");
    let out = run_fix(&w, &w.cwd(), f["fix"]["text"].as_str().unwrap());
    assert!(out.success(), "{}", out.show());
    let mut k = w.start_kernel_with("a", &opts);
    let (out, imported) = pip_install_then_import(&mut k, &wheels, "leakpkg");
    assert!(imported, "{out}");
    assert!(out.contains("a-env"), "{out}");
}

/// A conda root at `R` as conda's installer leaves it (`conda-meta/history`, `condabin/conda`,
/// `bin/conda`; the `conda` commands are the offline fixture), with genuine envs `R/envs/NAME`.
struct Conda {
    root: PathBuf,
}

impl Conda {
    fn new(w: &World) -> Conda {
        let root = w.root().join("miniconda3");
        for d in ["conda-meta", "condabin", "bin", "envs"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("conda-meta/history"), "").unwrap();
        for c in ["condabin/conda", "bin/conda"] {
            std::os::unix::fs::symlink(&toolbox().fixture_conda, root.join(c)).unwrap();
        }
        Conda { root }
    }

    fn env(&self, w: &World, name: &str, pkgs: &[&str]) -> PathBuf {
        let prefix = self.root.join("envs").join(name);
        w.conda_env(&prefix, &["python", "pip"]);
        if !pkgs.is_empty() {
            w.uv_install(&prefix.join("bin/python"), pkgs).unwrap();
        }
        prefix
    }

    /// The shell after `conda init` and the auto-activated base: what `conda activate` starts
    /// from.
    fn base_shell(&self, w: &World) {
        let r = &self.root;
        w.prepend_path(&r.join("condabin"));
        w.prepend_path(&r.join("bin"));
        w.set_var("CONDA_EXE", s(&r.join("bin/conda")));
        w.set_var("CONDA_PREFIX", s(r));
        w.set_var("CONDA_DEFAULT_ENV", "base");
        w.set_var("CONDA_SHLVL", "1");
        w.set_var("CONDA_PROMPT_MODIFIER", "(base) ");
    }

    /// The variables `conda activate NAME` sets from the base shell (conda's `activate.py`:
    /// base's bin replaced in place, the stack level raised).
    fn activated(&self, w: &World, name: &str) -> Vec<(String, Option<String>)> {
        let prefix = self.root.join("envs").join(name);
        let path = w
            .var("PATH")
            .unwrap()
            .replace(s(&self.root.join("bin")), s(&prefix.join("bin")));
        [
            ("PATH", path),
            ("CONDA_PREFIX", s(&prefix).to_string()),
            ("CONDA_DEFAULT_ENV", name.to_string()),
            ("CONDA_SHLVL", "2".into()),
            ("CONDA_PREFIX_1", s(&self.root).to_string()),
            ("CONDA_PROMPT_MODIFIER", format!("({name}) ")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Some(v)))
        .collect()
    }
}

/// https://github.com/jupyterlab/jupyterlab/issues/14824 ("The command run in jupyter kernels
/// doesn't match the env": `!pip` in a conda env's kernel reaches the env JupyterLab was started
/// from) and https://github.com/ipython/ipykernel/issues/416 (`!conda` commands do not operate on
/// the kernel's conda env): JupyterLab is started after `conda activate lab`, the notebook runs
/// the kernel of conda env `geo`. `!pip` installs into `lab`, and `!conda` targets `lab` (conda's
/// default prefix is the inherited CONDA_PREFIX). kip names `lab` — asked from the activated
/// shell, and from a fresh base shell about that Jupyter (`--jupyter`), where it models the
/// `conda activate` — and its fix gives the kernel `geo`'s own activation.
#[test]
fn jupyter_started_after_conda_activate_leaks_pip_and_conda() {
    let w = World::with_tools();
    let conda = Conda::new(&w);
    let lab = conda.env(
        &w,
        "lab",
        &[
            "jupyter_client==8.10.0",
            "jupyter_core==5.9.1",
            "ipykernel==7.4.0",
        ],
    );
    let geo = conda.env(&w, "geo", &["ipykernel==7.4.0"]);
    w.run(
        &geo.join("bin/python"),
        &["-m", "ipykernel", "install", "--user", "--name", "geo"],
    )
    .ok();
    conda.base_shell(&w);
    w.wheel("leakpkg", "1.0", &[("leakpkg", "X = 1\n")]);
    let wheels = w.root().join("wheels");
    let server = KernelOpts {
        server_python: Some(lab.join("bin/python")),
        env: conda.activated(&w, "lab"),
        ..Default::default()
    };
    let mut k = w.start_kernel_with("geo", &server);
    let (out, imported) = pip_install_then_import(&mut k, &wheels, "leakpkg");
    let prefix = k.execute("import os; print(os.environ['CONDA_PREFIX'])");
    drop(k);
    assert!(!imported, "the leak: {out}");
    assert!(out.contains("envs/lab"), "{out}");
    assert!(prefix.stdout.trim().ends_with("envs/lab"), "{prefix:?}");
    let leak_of = |v: &serde_json::Value| {
        findings(v)
            .into_iter()
            .find(|f| f["id"] == "kernel-shell-mismatch" && f["subject"] == "geo")
    };
    let names_lab = |f: &serde_json::Value| {
        let m = f["message"].as_str().unwrap();
        m.contains("!pip reaches") && m.contains("!conda installs into") && m.contains("envs/lab")
    };
    // From a fresh terminal (base active), about the Jupyter in `lab`: kip models the activate.
    let fresh = doctor(
        &w,
        &["--jupyter", s(&lab.join("bin/jupyter")), "--no-start"],
    );
    let f = leak_of(&fresh).unwrap_or_else(|| panic!("{fresh:#}"));
    assert!(names_lab(&f), "{f}");
    // From the activated shell itself: the same finding.
    for (k, v) in conda.activated(&w, "lab") {
        w.set_var(&k, v.as_deref().unwrap());
    }
    let v = doctor(&w, &["--no-start"]);
    let f = leak_of(&v).unwrap_or_else(|| panic!("{v:#}"));
    assert!(names_lab(&f), "{f}");
    let out = run_fix(&w, &w.cwd(), f["fix"]["text"].as_str().unwrap());
    assert!(out.success(), "{}", out.show());
    let mut k = w.start_kernel_with("geo", &server);
    let (out, imported) = pip_install_then_import(&mut k, &wheels, "leakpkg");
    let prefix = k.execute("import os; print(os.environ['CONDA_PREFIX'])");
    assert!(imported, "{out}");
    assert!(out.contains("envs/geo"), "{out}");
    assert!(prefix.stdout.trim().ends_with("envs/geo"), "{prefix:?}");
    drop(k);
    assert!(leak_of(&doctor(&w, &["--no-start"])).is_none());
}

/// uv's flags for this offline world: the wheelhouse (and the world's own wheels) only.
fn offline(w: &World) -> Vec<String> {
    let mut f: Vec<String> = ["--offline", "--no-index", "--find-links"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    f.push(s(&toolbox().wheels).to_string());
    let own = w.root().join("wheels");
    if own.is_dir() {
        f.extend(["--find-links".to_string(), s(&own).to_string()]);
    }
    f
}

/// The toolbox uv, as the user runs it in `cwd`, offline; project commands get the toolbox
/// base Python (`--python`), `uv pip` commands name their env themselves.
fn uv(w: &World, cwd: &Path, args: &[&str]) -> support::Out {
    let mut full: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    full.extend(offline(w));
    if args[0] != "pip" {
        full.extend([
            "--python".to_string(),
            s(&toolbox().base_python).to_string(),
        ]);
    }
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    let out = w.run_in(cwd, &toolbox().uv, &full);
    assert!(out.success(), "uv {}: {}", args.join(" "), out.show());
    out
}

/// A uv project (`pyproject.toml` without a build system, as `uv init --bare` writes it).
fn uv_project(w: &World, name: &str) -> PathBuf {
    let proj = w.root().join(name);
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("pyproject.toml"),
        format!("[project]\nname = \"{name}\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = []\n"),
    )
    .unwrap();
    proj
}

/// https://github.com/astral-sh/uv/issues/20354 ("!uv add in Jupyter notebook doesn't work as
/// documented": until the notebook's kernel is changed to the project's, what `uv add` put in
/// the project cannot be imported) and https://github.com/astral-sh/uv/issues/7679
/// ("Dependencies Not Found in Jupyter Environment"): `uv add` in the project while the
/// notebook runs the kernel of the user's general env. kip says the kernel does not see the
/// project's env, and its fix (register the project's env, point the notebook at it) makes the
/// import work.
#[test]
fn uv_add_while_the_notebook_runs_another_env() {
    let w = World::with_tools();
    let ds = project_venv(&w, &w.root().join("envs/ds"), "dsonly");
    w.run(
        &ds.python,
        &["-m", "ipykernel", "install", "--user", "--name", "ds"],
    )
    .ok();
    let proj = uv_project(&w, "weather");
    w.wheel("projdep", "1.0", &[("projdep", "X = 1\n")]);
    uv(&w, &proj, &["add", "projdep"]);
    assert!(proj.join(".venv/pyvenv.cfg").is_file());
    notebook(&proj.join("explore.ipynb"), "ds", "import projdep\n");
    let opts = KernelOpts {
        kernel_cwd: Some(proj.clone()),
        ..Default::default()
    };
    let before = w.run_kernel_with("ds", "import projdep", &opts);
    assert_not_importable(&before);
    let v = doctor_in(&w, &proj, "explore.ipynb");
    let f = find(&v, "notebook-env-mismatch").unwrap_or_else(|| panic!("{v:#}"));
    assert!(f["fix"]["text"].as_str().unwrap().contains(".venv"), "{f}");
    assert!(
        !findings(&v)
            .iter()
            .any(|f| f["id"] == "notebook-import-missing"
                && f["fix"]["text"].as_str().unwrap().contains("--kernel ds")),
        "harmful: installs the project's needs into the general env: {v:#}"
    );
    let name = run_fix_steps(&w, &proj, f["fix"]["text"].as_str().unwrap())
        .unwrap_or_else(|| panic!("no `kip kernel use` in {f}"));
    let after = w.run_kernel_with(&name, "import projdep, sys; print(sys.prefix)", &opts);
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains("weather/.venv"), "{after:?}");
    // The general env is untouched.
    let ds_still = w.run_kernel_with("ds", "import dsonly", &opts);
    assert!(ds_still.error.is_none(), "{ds_still:?}");
}

/// `root/bin/NAME`: a script that runs `uv run --with <the Jupyter stack> PREFIX… "$@"`
/// offline, as `uv run --with jupyter …` does (a temporary env from uv's cache layered over the
/// project's `.venv`).
fn uv_run_with_jupyter(w: &World, name: &str, prefix: &[&str]) -> PathBuf {
    let mut words: Vec<String> = vec![s(&toolbox().uv).to_string(), "run".into()];
    words.extend(offline(w));
    words.extend(["--python".into(), s(&toolbox().base_python).to_string()]);
    for p in [
        "jupyter_client==8.10.0",
        "jupyter_core==5.9.1",
        "ipykernel==7.4.0",
    ] {
        words.extend(["--with".into(), p.into()]);
    }
    words.extend(prefix.iter().map(|p| p.to_string()));
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = w.bin().join(name);
    std::fs::write(
        &script,
        format!("#!/bin/sh\nexec {} \"$@\"\n", quoted.join(" ")),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// https://github.com/astral-sh/uv/issues/14749 ("Project dependencies no longer available in
/// JupyterLab launched with `uv run --with jupyter jupyter lab`") and uv's Jupyter guide
/// (https://github.com/astral-sh/uv/pull/7625: the server runs in a temporary env layered over
/// the project's): the notebook's `python3` kernel runs the layer's interpreter, which imports
/// the project's packages, and `!pip` (the project's own pip, the first on the layered PATH)
/// installs where that kernel imports from. kip, run inside that `uv run` as the user would,
/// must judge the kernel by what it imports — the project's env — and not report the layer and
/// the project as two environments (a false leak, a false missing import, a false "invalid"
/// kernelspec whose provisioner lives in the layer).
#[test]
fn uv_run_with_jupyter_layers_the_project_env() {
    let w = World::with_tools();
    let proj = uv_project(&w, "weather");
    w.wheel("projdep", "1.0", &[("projdep", "X = 1\n")]);
    w.wheel("leakpkg", "1.0", &[("leakpkg", "X = 1\n")]);
    uv(&w, &proj, &["add", "projdep"]);
    // pip in the project (uv venvs have none), so `!pip` reaches the project's env.
    let venv_python = proj.join(".venv/bin/python");
    uv(
        &w,
        &proj,
        &["pip", "install", "--python", s(&venv_python), "pip"],
    );
    notebook(&proj.join("explore.ipynb"), "python3", "import projdep\n");
    let server = uv_run_with_jupyter(&w, "uv-jupyter-python", &["python"]);
    let in_uv_run = uv_run_with_jupyter(&w, "uv-run-with-jupyter", &[]);
    let opts = KernelOpts {
        server_python: Some(server),
        cwd: Some(proj.clone()),
        ..Default::default()
    };
    let mut k = w.start_kernel_with("python3", &opts);
    let r = k.execute("import sys, projdep; print(sys.executable)");
    assert!(
        r.error.is_none(),
        "the layer imports the project's packages: {r:?}"
    );
    assert!(
        !r.stdout.contains("weather/.venv"),
        "a layered interpreter: {r:?}"
    );
    let (out, imported) = pip_install_then_import(&mut k, &w.root().join("wheels"), "leakpkg");
    drop(k);
    assert!(
        imported,
        "`!pip` installs into the project env the kernel imports: {out}"
    );
    assert!(out.contains("weather/.venv"), "{out}");
    // `uv run --with jupyter kip doctor explore.ipynb`, in the project.
    let v = w
        .run_in(
            &proj,
            &in_uv_run,
            &["kip", "doctor", "--json", "--no-start", "explore.ipynb"],
        )
        .json();
    let false_alarms: Vec<serde_json::Value> = findings(&v)
        .into_iter()
        .filter(|f| {
            [
                "kernel-shell-mismatch",
                "kernel-spec-invalid",
                "notebook-import-missing",
                "notebook-env-mismatch",
                "shell-jupyter-python-mismatch",
            ]
            .contains(&f["id"].as_str().unwrap_or(""))
        })
        .collect();
    assert!(false_alarms.is_empty(), "{false_alarms:#?}");
    // kip's answer for the kernel is the project's env.
    let why = w
        .run_in(
            &proj,
            &in_uv_run,
            &["kip", "why", "projdep", "--kernel", "python3", "--json"],
        )
        .json();
    assert!(why.to_string().contains("weather/.venv/lib"), "{why:#}");
}

/// https://github.com/ContinuumIO/anaconda-issues/issues/828 ("Anaconda Navigator does not
/// invoke installed environment": it works only after `source activate ENV; jupyter notebook`
/// in a terminal): the user's JupyterLab runs, started after `conda activate lab` in one
/// terminal; kip is asked from another terminal where conda's shell hook never ran, about that
/// Jupyter. Only the running server knows its PATH: kip reads it from the live server's
/// `/proc/<pid>/environ` (the server `kip ps` lists), names the `!pip` leak into `lab`, and its
/// fix holds in a kernel that server's environment starts.
#[test]
fn running_server_started_after_conda_activate_is_read_not_guessed() {
    let w = World::with_tools();
    let conda = Conda::new(&w);
    let lab = conda.env(&w, "lab", &[]);
    w.uv_install_from(
        &lab.join("bin/python"),
        &["jupyter_server==2.21.1", "ipykernel==7.4.0"],
        &[&toolbox().root.join("wheels-server")],
    )
    .unwrap();
    let geo = conda.env(&w, "geo", &["ipykernel==7.4.0"]);
    w.run(
        &geo.join("bin/python"),
        &["-m", "ipykernel", "install", "--user", "--name", "geo"],
    )
    .ok();
    w.wheel("leakpkg", "1.0", &[("leakpkg", "X = 1\n")]);
    let wheels = w.root().join("wheels");
    // The terminal that started Jupyter: conda set up, `lab` activated.
    let mut activated_shell = {
        conda.base_shell(&w);
        conda.activated(&w, "lab")
    };
    for k in [
        "CONDA_EXE",
        "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV",
        "CONDA_SHLVL",
        "CONDA_PROMPT_MODIFIER",
        "CONDA_PREFIX_1",
    ] {
        if !activated_shell.iter().any(|(n, _)| n == k) {
            activated_shell.push((k.to_string(), w.var(k)));
        }
    }
    let server = support::server::Server::start_with(&w, &lab.join("bin/python"), &activated_shell);
    // This terminal: no conda hook at all.
    let plain = format!("{}:/usr/local/bin:/usr/bin:/bin", s(&w.bin()));
    w.set_var("PATH", &plain);
    for k in [
        "CONDA_EXE",
        "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV",
        "CONDA_SHLVL",
        "CONDA_PROMPT_MODIFIER",
    ] {
        w.remove_var(k);
    }
    let ps = w.kip(&["ps", "--json"]).json();
    assert!(
        ps.to_string().contains(&format!("{}", server.pid)),
        "{ps:#}"
    );
    let kernel_opts = KernelOpts {
        server_python: Some(lab.join("bin/python")),
        env: activated_shell.clone(),
        ..Default::default()
    };
    let mut k = w.start_kernel_with("geo", &kernel_opts);
    let (out, imported) = pip_install_then_import(&mut k, &wheels, "leakpkg");
    drop(k);
    assert!(!imported, "the leak: {out}");
    assert!(out.contains("envs/lab"), "{out}");
    let jupyter = lab.join("bin/jupyter");
    let v = doctor(&w, &["--jupyter", s(&jupyter), "--no-start"]);
    let f = findings(&v)
        .into_iter()
        .find(|f| f["id"] == "kernel-shell-mismatch" && f["subject"] == "geo")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert!(
        f["message"].as_str().unwrap().contains("envs/lab"),
        "the running server's PATH, not this terminal's: {f}"
    );
    let out = run_fix(&w, &w.cwd(), f["fix"]["text"].as_str().unwrap());
    assert!(out.success(), "{}", out.show());
    let mut k = w.start_kernel_with("geo", &kernel_opts);
    let (out, imported) = pip_install_then_import(&mut k, &wheels, "leakpkg");
    assert!(imported, "{out}");
    assert!(out.contains("envs/geo"), "{out}");
    drop(server);
}
