//! Real-world problems, rebuilt. Each test names the public report it comes from, rebuilds the
//! user's machine as an isolated world (real venvs, real kernels started through
//! jupyter_client; where a tool cannot run here — pyenv-virtualenv, nb_conda_kernels, conda
//! activate — the exact layout it leaves on disk), shows the failure in a real kernel, runs
//! kip as the user would, runs the fix exactly as `--json` prints it, and shows the failure
//! gone in a real kernel. Advice that leaves the user worse off fails the test.

mod support;

use std::path::Path;

use support::realworld::*;
use support::{toolbox, World};

/// https://github.com/pyenv/pyenv/issues/1885 (jupyter in a pyenv-virtualenv) and
/// https://github.com/microsoft/vscode-jupyter/issues/12542 (a kernel in a pyenv venv): the
/// env is reached as `versions/NAME` and as `versions/X.Y.Z/envs/NAME`. A healthy setup —
/// kernel registered from the activated env, `!pip` through the shims — gives no finding.
#[test]
fn pyenv_virtualenv_healthy_world_gives_no_finding() {
    let w = World::with_tools();
    let (root, env) = pyenv_virtualenv(&w, "proj");
    w.pyenv_global("proj");
    w.pyenv_shims(&["jupyter", "jupyter-kernelspec"]);
    w.prepend_path(&root.join("shims"));
    // `pyenv activate proj; python -m ipykernel install --user --name proj`: sys.executable
    // is the path pyenv exec ran, under versions/proj.
    let via_name = root.join("versions/proj/bin/python");
    w.run(
        &via_name,
        &["-m", "ipykernel", "install", "--user", "--name", "proj"],
    )
    .ok();
    // The kernel works, and `!pip` reaches the same env.
    let r = w.run_kernel(
        "proj",
        "import sys, subprocess; print(sys.prefix); print(subprocess.run(['pip', '--version'], capture_output=True, text=True).stdout)",
    );
    assert!(r.error.is_none(), "{r:?}");
    let real_env = std::fs::canonicalize(&env).unwrap();
    assert!(
        r.stdout.contains(s(&real_env)) || r.stdout.contains("versions/proj"),
        "{r:?}"
    );
    let v = doctor(&w, &[]);
    let about: Vec<serde_json::Value> = findings(&v)
        .into_iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(
        about.is_empty(),
        "a healthy pyenv-virtualenv world: {about:#?}"
    );
    // `kip envs` shows the env once, with both names.
    let envs = w.kip(&["envs", "--json"]).json();
    let text = envs.to_string();
    let count = envs
        .as_array()
        .or_else(|| envs["environments"].as_array())
        .unwrap()
        .iter()
        .filter(|e| {
            e["prefix"]
                .as_str()
                .is_some_and(|p| std::fs::canonicalize(p).ok().as_deref() == Some(&*real_env))
        })
        .count();
    assert_eq!(count, 1, "{text}");
    let _ = toolbox();
}

/// https://github.com/jupyter/notebook/issues/2563 ("Jupyter Notebook is loading incorrect
/// Python kernel"): a hand-written kernel.json with a bare `python` and an `env` that puts the
/// project venv first on PATH. jupyter_client swaps the bare name for the server's own
/// interpreter, so the venv's packages are missing. The fix must write the venv's interpreter
/// (what the author meant), not the Jupyter's.
#[test]
fn bare_python_with_env_path_is_fixed_to_that_venv() {
    let w = World::with_tools();
    let proj = project_venv(&w, &w.root().join("proj/.venv"), "projpkg");
    w.kernelspec(
        &w.user_kernels(),
        "proj",
        &serde_json::json!({
            "argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "proj",
            "language": "python",
            "env": {"PATH": format!("{}:${{PATH}}", proj.bin().display()), "VIRTUAL_ENV": s(&proj.prefix)},
        })
        .to_string(),
    );
    let before = w.run_kernel("proj", "import projpkg");
    assert_not_importable(&before);
    let v = doctor(&w, &[]);
    let f = find(&v, "kernel-relative-python").unwrap_or_else(|| panic!("{v:#}"));
    let text = f["fix"]["text"].as_str().unwrap();
    assert!(
        text.contains(s(&proj.python)),
        "fix targets the venv: {text}"
    );
    run_fix(&w, &w.cwd(), text).ok();
    let after = w.run_kernel("proj", "import sys, projpkg; print(sys.prefix)");
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains(s(&proj.prefix)), "{after:?}");
}

/// https://github.com/ipython/ipykernel/issues/1132 ("Different Kernel for Same venv Name")
/// and https://github.com/moj-analytical-services/user-guidance/pull/272: two projects both
/// ran `python -m ipykernel install --user --name venv`; the second overwrote the first, so
/// project A's notebook runs project B's env. kip must point at A's own `.venv`, not advise
/// installing A's packages into B's env.
#[test]
fn two_projects_same_kernel_name_notebook_env_mismatch() {
    let w = World::with_tools();
    let a_dir = w.root().join("projA");
    let b_dir = w.root().join("projB");
    std::fs::create_dir_all(a_dir.join(".git")).unwrap();
    std::fs::create_dir_all(b_dir.join(".git")).unwrap();
    let a = project_venv(&w, &a_dir.join(".venv"), "apkg");
    let b = project_venv(&w, &b_dir.join(".venv"), "bpkg");
    for v in [&a, &b] {
        w.run(
            &v.python,
            &["-m", "ipykernel", "install", "--user", "--name", "venv"],
        )
        .ok();
    }
    let nb = a_dir.join("analysis.ipynb");
    std::fs::write(
        &nb,
        serde_json::json!({
            "cells": [{"cell_type": "code", "execution_count": null, "id": "c1", "metadata": {}, "outputs": [], "source": ["import apkg\n"]}],
            "metadata": {"kernelspec": {"display_name": "venv", "language": "python", "name": "venv"}},
            "nbformat": 4, "nbformat_minor": 5
        })
        .to_string(),
    )
    .unwrap();
    let run = |w: &World, name: &str| {
        w.run_kernel_with(
            name,
            "import apkg",
            &support::KernelOpts {
                cwd: Some(a_dir.clone()),
                ..Default::default()
            },
        )
    };
    let before = run(&w, "venv");
    assert!(before.error.is_some(), "{before:?}");
    let v = doctor_in(&w, &a_dir, "analysis.ipynb");
    let f = find(&v, "notebook-env-mismatch").unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(f["severity"], "warning");
    // Harmful advice: installing A's needs into B's env.
    assert!(
        !findings(&v)
            .iter()
            .any(|f| f["id"] == "notebook-import-missing"
                && f["fix"]["text"].as_str().unwrap().contains("--kernel venv")),
        "{v:#}"
    );
    let text = f["fix"]["text"].as_str().unwrap().to_string();
    // `install --missing` refuses to serve the wrong env, and prints the commands.
    let refused = w.kip_in(
        &a_dir,
        &["install", "--notebook", "analysis.ipynb", "--missing"],
    );
    assert_eq!(refused.status, 1, "{}", refused.show());
    assert!(
        refused.stderr.contains("kip kernel add"),
        "{}",
        refused.show()
    );
    let name = run_fix_steps(&w, &a_dir, &text);
    let name = name.unwrap_or_else(|| panic!("no `kip kernel use` in {text}"));
    let nbv: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&nb).unwrap()).unwrap();
    assert_eq!(nbv["metadata"]["kernelspec"]["name"], name.as_str());
    let after = run(&w, &name);
    assert!(after.error.is_none(), "{after:?}");
    // B's kernel is untouched.
    let b_still = w.run_kernel("venv", "import bpkg");
    assert!(b_still.error.is_none(), "{b_still:?}");
}

/// https://github.com/StatCan/aaw/issues/2045 ("Updating Base Image or Python Version can
/// break Venvs"): the Python a venv was made from is removed; the venv and its packages are
/// intact. kip must not offer to delete the kernel: it repoints the venv at another Python of
/// the same version, and the kernel imports its old packages again.
#[test]
fn venv_whose_base_was_removed_is_repointed_not_deleted() {
    let w = World::with_tools();
    let version = support::pyenv_version("3.11");
    let real = support::real_pyenv_root().join("versions").join(&version);
    // The base the venv was made from: a Python install that will be removed.
    let old_base = w.root().join("opt/python3.11");
    std::fs::create_dir_all(&old_base).unwrap();
    for e in std::fs::read_dir(&real).unwrap().flatten() {
        std::os::unix::fs::symlink(e.path(), old_base.join(e.file_name())).unwrap();
    }
    let venv = w.stdlib_venv(
        &w.root().join("work-venv"),
        &old_base.join("bin/python3.11"),
        true,
    );
    w.wheel("oldpkg", "1.0", &[("oldpkg", "X = 1\n")]);
    w.uv_install(&venv.python, &["ipykernel==7.4.0", "oldpkg"])
        .unwrap();
    w.run(
        &venv.python,
        &["-m", "ipykernel", "install", "--user", "--name", "work"],
    )
    .ok();
    assert!(w.run_kernel("work", "import oldpkg").error.is_none());
    // The upgrade removes the old Python; another 3.11 is installed (pyenv).
    std::fs::remove_dir_all(&old_base).unwrap();
    w.pyenv_root(&[&version]);
    let before = w.run_kernel("work", "import oldpkg");
    assert!(!before.started, "{before:?}");
    let v = doctor(&w, &[]);
    assert!(
        find(&v, "kernel-interpreter-missing").is_none(),
        "harmful: offers to delete an intact venv's kernel: {v:#}"
    );
    let f = find(&v, "env-venv-base-missing").unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(f["subject"], "work");
    assert_eq!(f["fix"]["automatic"], true, "{f}");
    let out = run_fix(&w, &w.cwd(), f["fix"]["text"].as_str().unwrap());
    assert!(out.success(), "{}", out.show());
    let after = w.run_kernel("work", "import oldpkg, sys; print(sys.prefix)");
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains("work-venv"), "{after:?}");
    // The old pyvenv.cfg is kept as a backup.
    assert!(std::fs::read_dir(&venv.prefix).unwrap().flatten().any(|e| e
        .file_name()
        .to_string_lossy()
        .starts_with("pyvenv.cfg.kip-bak-")));
    let v = doctor(&w, &[]);
    assert!(find(&v, "env-venv-base-missing").is_none(), "{v:#}");
}

/// https://github.com/jupyter/jupyter_client/issues/269 ("launch_kernel is failing with
/// FileNotFound, pointing to a removed venv's python3"): the whole venv is gone, so the
/// kernel is removed (with `--yes`, as printed), and Jupyter's own kernel starts again.
#[test]
fn kernel_of_a_deleted_venv_is_removed() {
    let w = World::with_tools();
    let venv = w.uv_venv(&w.root().join("gone"), &toolbox().base_python, false);
    w.kernelspec(
        &w.user_kernels(),
        "old-env",
        &serde_json::json!({"argv": [s(&venv.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Python 3", "language": "python"}).to_string(),
    );
    std::fs::remove_dir_all(&venv.prefix).unwrap();
    let before = w.run_kernel("old-env", "1");
    assert!(!before.started, "{before:?}");
    let v = doctor(&w, &[]);
    let f = find(&v, "kernel-interpreter-missing").unwrap_or_else(|| panic!("{v:#}"));
    assert!(find(&v, "env-venv-base-missing").is_none(), "{v:#}");
    let out = run_fix(&w, &w.cwd(), f["fix"]["text"].as_str().unwrap());
    assert!(out.success(), "{}", out.show());
    assert!(!w.user_kernels().join("old-env").exists());
    // The notebook falls back to Jupyter's own kernel, which starts.
    let after = w.run_kernel("python3", "print(1)");
    assert!(after.error.is_none(), "{after:?}");
}

/// https://github.com/jupyter/jupyter/issues/727 ("pip install on ubuntu doesn't": PEP 668):
/// two kernels on Debian's system Python, without ipykernel. `--fix` must not install into
/// the externally managed Python: that fix is reported refused and not counted as applied,
/// the way out names each requirement once, and the `!pip` mismatch shared by both kernels
/// is one finding naming both.
#[test]
fn refused_fix_is_counted_as_refused() {
    let w = World::with_tools();
    // doctor --fix rewrites every kernel: never the shared toolbox's own python3. That
    // Jupyter's own python3 gets its activation first, so only sys-a and sys-b share the cause.
    w.use_own_jupyter();
    w.kip(&["kernel", "fix", "python3", "--no-start"]).ok();
    let system = Path::new("/usr/bin/python3");
    assert!(
        Path::new("/usr/lib/python3.11/EXTERNALLY-MANAGED").is_file()
            || std::fs::read_dir("/usr/lib")
                .unwrap()
                .flatten()
                .any(|e| e.path().join("EXTERNALLY-MANAGED").is_file()),
        "this test needs Debian's externally managed /usr/bin/python3"
    );
    // An activated venv puts its pip first on PATH, so `!pip` in both kernels reaches it.
    let other = w.uv_venv(&w.root().join("other"), &toolbox().base_python, true);
    w.prepend_path(&other.bin());
    for name in ["sys-a", "sys-b"] {
        w.kernelspec(
            &w.user_kernels(),
            name,
            &serde_json::json!({"argv": [s(system), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": name, "language": "python"}).to_string(),
        );
    }
    let before = w.run_kernel("sys-a", "1");
    assert!(!before.started, "{before:?}");
    let v = doctor(&w, &[]);
    let shell: Vec<serde_json::Value> = findings(&v)
        .into_iter()
        .filter(|f| f["id"] == "kernel-shell-mismatch")
        .collect();
    assert_eq!(shell.len(), 1, "one finding for one cause: {v:#}");
    assert_eq!(shell[0]["subjects"], serde_json::json!(["sys-a", "sys-b"]));
    assert!(shell[0]["fix"]["text"]
        .as_str()
        .unwrap()
        .starts_with("kip kernel fix sys-a sys-b "));
    let out = w.kip(&["doctor", "--fix", "--json"]);
    let after = out.json();
    let fixes = after["fixes"]
        .as_array()
        .unwrap_or_else(|| panic!("{after:#}"));
    let ipk: Vec<&serde_json::Value> = fixes
        .iter()
        .filter(|f| f["id"] == "kernel-ipykernel-missing")
        .collect();
    assert_eq!(ipk.len(), 2, "{after:#}");
    assert!(ipk.iter().all(|f| f["outcome"] == "refused"), "{after:#}");
    let count = |o: &str| fixes.iter().filter(|f| f["outcome"] == o).count();
    assert!(
        out.stderr.contains(&format!(
            "{} fix(es) applied, {} refused, {} failed",
            count("applied"),
            count("refused"),
            count("failed")
        )),
        "{}",
        out.stderr
    );
    assert!(count("refused") >= 2, "{after:#}");
    // The `!pip` repair cannot be proven (the kernel cannot start without ipykernel): it is
    // put back and reported failed, never counted as applied.
    assert_eq!(count("applied"), 0, "{after:#}");
    // Still not startable, and still reported: nothing pretended otherwise.
    assert!(
        find(&after, "kernel-ipykernel-missing").is_some(),
        "{after:#}"
    );
    assert!(!w.run_kernel("sys-a", "1").started);
    // The PEP 668 way out names each requirement once.
    let install = w.kip(&["install", "ipykernel", "--kernel", "sys-a"]);
    assert_eq!(install.status, 1, "{}", install.show());
    assert!(
        !install.stderr.contains("ipykernel ipykernel"),
        "{}",
        install.stderr
    );
}

/// https://github.com/computationalmodelling/nbval/issues/106 ("No such kernel named
/// conda-env-py37-py") and https://github.com/e-marshall/itslive/pull/1: a notebook saved under
/// nb_conda_kernels' invented name, opened by a Jupyter without nb_conda_kernels. kip names the
/// conda env the name means and registers it under the notebook's own kernel name, leaving
/// the notebook untouched; `install --missing` refuses to guess meanwhile.
#[test]
fn nb_conda_kernels_name_without_nb_conda_kernels() {
    let w = World::with_tools();
    let env = w.root().join("miniconda3/envs/geo");
    w.conda_env(&env, &["python", "pip"]);
    std::fs::create_dir_all(w.home().join(".conda")).unwrap();
    std::fs::write(
        w.home().join(".conda/environments.txt"),
        format!("{}\n", env.display()),
    )
    .unwrap();
    w.wheel("geopkg", "1.0", &[("geopkg", "X = 1\n")]);
    w.uv_install(&env.join("bin/python"), &["ipykernel==7.4.0", "geopkg"])
        .unwrap();
    let nb = w.cwd().join("map.ipynb");
    notebook(&nb, "conda-env-geo-py", "import geopkg\n");
    let saved = std::fs::read(&nb).unwrap();
    let before = w.run_kernel("conda-env-geo-py", "import geopkg");
    assert!(!before.started, "{before:?}");
    let v = doctor(&w, &["map.ipynb"]);
    let f = find(&v, "notebook-kernel-missing").unwrap_or_else(|| panic!("{v:#}"));
    let text = f["fix"]["text"].as_str().unwrap();
    assert!(text.contains("--name conda-env-geo-py"), "{text}");
    assert!(text.contains(s(&env)), "{text}");
    let refused = w.kip(&["install", "--notebook", "map.ipynb", "--missing"]);
    assert_eq!(refused.status, 1, "{}", refused.show());
    assert!(refused.stderr.contains(text), "{}", refused.show());
    let out = run_fix(&w, &w.cwd(), text);
    assert!(out.success(), "{}", out.show());
    assert_eq!(
        std::fs::read(&nb).unwrap(),
        saved,
        "the notebook is untouched"
    );
    let after = w.run_kernel("conda-env-geo-py", "import geopkg, sys; print(sys.prefix)");
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains("envs/geo"), "{after:?}");
}

/// https://github.com/astral-sh/uv/issues/12527 ("Jupyter Lab does not see installed
/// packages": `uvx jupyter lab`) and https://github.com/astral-sh/uv/issues/17873 ("Jupyter
/// does not have access to the project's venv"): the project's packages are in its `.venv`,
/// while the notebook runs the Jupyter tool env's own `python3` kernel. kip points the notebook
/// at the project's env instead of installing the project's needs into the tool env.
#[test]
fn jupyter_from_a_tool_env_notebook_runs_its_own_python3() {
    let w = World::with_tools();
    let proj = w.root().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("pyproject.toml"),
        "[project]\nname = \"proj\"\nversion = \"0\"\n",
    )
    .unwrap();
    project_venv(&w, &proj.join(".venv"), "projdep");
    notebook(&proj.join("explore.ipynb"), "python3", "import projdep\n");
    let opts = support::KernelOpts {
        cwd: Some(proj.clone()),
        ..Default::default()
    };
    let before = w.run_kernel_with("python3", "import projdep", &opts);
    assert_not_importable(&before);
    let v = doctor_in(&w, &proj, "explore.ipynb");
    let f = find(&v, "notebook-env-mismatch").unwrap_or_else(|| panic!("{v:#}"));
    assert!(
        !findings(&v)
            .iter()
            .any(|f| f["id"] == "notebook-import-missing"),
        "harmful: installs the project's needs into the tool env: {v:#}"
    );
    let text = f["fix"]["text"].as_str().unwrap().to_string();
    let name = run_fix_steps(&w, &proj, &text);
    let name = name.unwrap();
    let after = w.run_kernel_with(&name, "import projdep", &opts);
    assert!(after.error.is_none(), "{after:?}");
}

/// https://github.com/pypa/pipenv/issues/1016 ("cannot import geopy in jupyter notebook after
/// using pipenv"): the packages are in the pipenv venv the shell has activated
/// (`VIRTUAL_ENV`), but `jupyter notebook` is another install whose `python3` kernel runs its
/// own env. The activated env is what the user meant.
#[test]
fn activated_virtual_env_is_what_the_notebook_meant() {
    let w = World::with_tools();
    // The pipenv venv holds the project's packages, not Jupyter (nor ipykernel).
    let venv = w.uv_venv(
        &w.home().join(".local/share/virtualenvs/geo-3a9hL4Al"),
        &toolbox().base_python,
        true,
    );
    w.wheel("geopy_like", "1.0", &[("geopy_like", "X = 1\n")]);
    w.uv_install(&venv.python, &["geopy_like"]).unwrap();
    w.set_var("VIRTUAL_ENV", s(&venv.prefix));
    w.prepend_path(&venv.bin());
    let dir = w.root().join("geo");
    std::fs::create_dir_all(&dir).unwrap();
    notebook(&dir.join("trip.ipynb"), "python3", "import geopy_like\n");
    let opts = support::KernelOpts {
        cwd: Some(dir.clone()),
        ..Default::default()
    };
    let before = w.run_kernel_with("python3", "import geopy_like", &opts);
    assert!(before.error.is_some(), "{before:?}");
    let v = w.kip_in(&dir, &["doctor", "--json", "trip.ipynb"]).json();
    let f = find(&v, "notebook-env-mismatch").unwrap_or_else(|| panic!("{v:#}"));
    let text = f["fix"]["text"].as_str().unwrap().to_string();
    let name = run_fix_steps(&w, &dir, &text);
    let after = w.run_kernel_with(&name.unwrap(), "import geopy_like", &opts);
    assert!(after.error.is_none(), "{after:?}");
}

/// https://stackoverflow.com/questions/6031584 (a project module named like the one the code
/// means to import): `helper.py` beside the notebook hides the installed `helper`. `kip why
/// helper --notebook` (run from elsewhere) and `kip doctor` agree with the kernel, which runs in
/// the notebook's folder; a folder without `__init__.py` named like an installed package does
/// not shadow it.
#[test]
fn local_module_beside_the_notebook_one_importability_rule() {
    let w = World::with_tools();
    let v = project_venv(&w, &w.root().join("env"), "helper");
    w.wheel("nspkg", "1.0", &[("nspkg", "X = 1\n")]);
    w.uv_install(&v.python, &["nspkg"]).unwrap();
    w.run(
        &v.python,
        &["-m", "ipykernel", "install", "--user", "--name", "env"],
    )
    .ok();
    let dir = w.root().join("analysis");
    std::fs::create_dir_all(dir.join("nspkg")).unwrap();
    std::fs::write(dir.join("nspkg/data.csv"), "a,b\n").unwrap();
    std::fs::write(dir.join("helper.py"), "LOCAL = True\n").unwrap();
    notebook(
        &dir.join("nb.ipynb"),
        "env",
        "import helper\nimport nspkg\n",
    );
    let opts = support::KernelOpts {
        cwd: Some(dir.clone()),
        ..Default::default()
    };
    let code = "import helper, nspkg; print(helper.__file__); print(nspkg.X)";
    let before = w.run_kernel_with("env", code, &opts);
    assert!(before.error.is_none(), "{before:?}");
    assert!(before.stdout.contains("analysis/helper.py"), "{before:?}");
    let nb = dir.join("nb.ipynb");
    let why = w
        .kip(&["why", "helper", "--notebook", s(&nb), "--json"])
        .json();
    assert_eq!(why["from"], "local-file", "{why:#}");
    let why_ns = w
        .kip(&["why", "nspkg", "--notebook", s(&nb), "--json"])
        .json();
    assert_eq!(why_ns["from"], "site-packages", "{why_ns:#}");
    let v = w.kip_in(&dir, &["doctor", "--json", "nb.ipynb"]).json();
    let shadows: Vec<serde_json::Value> = findings(&v)
        .into_iter()
        .filter(|f| f["id"] == "notebook-local-shadowing")
        .collect();
    assert_eq!(shadows.len(), 1, "{v:#}");
    assert_eq!(shadows[0]["module"], "helper");
    // The fix as printed: rename the local file.
    let text = shadows[0]["fix"]["text"].as_str().unwrap();
    let target = text
        .strip_prefix("rename ")
        .and_then(|t| t.split(" (").next())
        .unwrap_or_else(|| panic!("{text}"));
    std::fs::rename(target, dir.join("helper_notes.py")).unwrap();
    let after = w.run_kernel_with("env", code, &opts);
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains("site-packages/helper"), "{after:?}");
}

/// https://longzl2015.github.io/2019/01/08/1%E5%BC%80%E5%8F%91%E8%BD%AF%E4%BB%B6/jupyter/jupyter%E5%AE%89%E8%A3%85%E6%A8%A1%E5%9D%97
/// (a copy of "Installing Python Packages from a Jupyter Notebook": `!pip` reaches another
/// Python than the kernel's): Jupyter is started through a pyenv shim, so `pyenv exec` puts the
/// global version's bin first on the server's PATH, and every kernel's `!pip` installs there.
/// kip models the launch, names the real leak, and its fix makes `!pip` the kernel's own.
#[test]
fn jupyter_through_a_pyenv_shim_leaks_pip() {
    let w = World::with_tools();
    let (root, _) = pyenv_virtualenv(&w, "tools");
    w.pyenv_global("tools");
    w.pyenv_shims(&["jupyter", "jupyter-kernelspec"]);
    w.prepend_path(&root.join("shims"));
    let a = project_venv(&w, &w.root().join("a-env"), "apkg");
    w.run(
        &a.python,
        &["-m", "ipykernel", "install", "--user", "--name", "a"],
    )
    .ok();
    let opts = support::KernelOpts {
        server_python: Some(root.join("shims/python")),
        ..Default::default()
    };
    let pip = "import subprocess; print(subprocess.run(['pip', '--version'], capture_output=True, text=True).stdout)";
    let before = w.run_kernel_with("a", pip, &opts);
    assert!(before.error.is_none(), "{before:?}");
    assert!(before.stdout.contains("envs/tools"), "the leak: {before:?}");
    let v = doctor(&w, &[]);
    let f = findings(&v)
        .into_iter()
        .find(|f| f["id"] == "kernel-shell-mismatch" && f["subject"] == "a")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert!(f["message"].as_str().unwrap().contains("tools"), "{f}");
    let out = run_fix(&w, &w.cwd(), f["fix"]["text"].as_str().unwrap());
    assert!(out.success(), "{}", out.show());
    let after = w.run_kernel_with("a", pip, &opts);
    assert!(after.stdout.contains("a-env"), "{after:?}");
}
