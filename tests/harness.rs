//! The test harness itself (tests/support), proven against the real tools: isolation, venv
//! builders, wheels, real kernels, Jupyter's side effects undone by snapshots, conda, pyenv,
//! running as another user, and timeouts.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{pyenv_python, pyenv_version, toolbox, KernelOpts, Venv, WheelSpec, World};

/// `python -c code` in the world; exit 0 asserted; stdout trimmed.
fn py(w: &World, python: &Path, code: &str) -> String {
    w.run(python, &["-c", code]).ok().stdout.trim().to_string()
}

fn env_map(w: &World) -> BTreeMap<String, String> {
    w.run(Path::new("/usr/bin/env"), &[])
        .ok()
        .stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pyvenv_keys(prefix: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(prefix.join("pyvenv.cfg"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn assert_keys(prefix: &Path, want: &[&str]) -> BTreeMap<String, String> {
    let keys = pyvenv_keys(prefix);
    for k in want {
        assert!(
            keys.contains_key(*k),
            "{}/pyvenv.cfg lacks {k}: {keys:?}",
            prefix.display()
        );
    }
    keys
}

/// Everything under `dir`, recursively (relative path → type, mode, size, mtime, content or
/// link target), to prove a restore is exact.
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(base: &Path, p: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let m = std::fs::symlink_metadata(p).unwrap();
        let rel = p.strip_prefix(base).unwrap().to_path_buf();
        let what = if m.file_type().is_symlink() {
            format!("link {:?}", std::fs::read_link(p).unwrap())
        } else if m.is_file() {
            format!("file {:?}", std::fs::read(p).unwrap())
        } else {
            "dir".to_string()
        };
        out.insert(
            rel,
            format!(
                "{what} mode={:o} mtime={}.{}",
                m.mode(),
                m.mtime(),
                m.mtime_nsec()
            ),
        );
        if m.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                walk(base, &e.unwrap().path(), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false)
}

/// Builders write nothing into HOME or the XDG dirs.
fn assert_home_untouched(w: &World) {
    for d in ["home", "xdg/data", "xdg/config", "xdg/cache", "xdg/runtime"] {
        let p = w.root().join(d);
        assert!(
            empty_dir(&p),
            "{} is not empty: {:?}",
            p.display(),
            tree(&p).keys()
        );
    }
}

/// Exited (a zombie or reaped) within a few seconds.
fn process_gone(pid: u32) -> bool {
    support::wait_for_exit(pid, Duration::from_secs(10))
}

#[test]
fn world_env_is_built_from_scratch() {
    let w = World::new();
    let root = w.root();
    assert!(root.starts_with(std::fs::canonicalize(std::env::temp_dir()).unwrap()));
    let env = env_map(&w);
    let keys: BTreeSet<&str> = env.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = [
        "HOME",
        "PATH",
        "LANG",
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_RUNTIME_DIR",
        "PYENV_ROOT",
        "UV_CACHE_DIR",
        "UV_PYTHON_DOWNLOADS",
        "UV_NO_CONFIG",
        "PIP_DISABLE_PIP_VERSION_CHECK",
        "PIP_NO_INPUT",
    ]
    .into();
    assert_eq!(keys, want);
    assert_eq!(env["HOME"], root.join("home").to_str().unwrap());
    assert_eq!(
        env["PATH"],
        format!(
            "{}:/usr/local/bin:/usr/bin:/bin",
            root.join("bin").display()
        )
    );
    assert_eq!(env["PYENV_ROOT"], root.join("pyenv").to_str().unwrap());
    assert_eq!(
        env["UV_CACHE_DIR"],
        toolbox().root.join("uv-cache").to_str().unwrap()
    );
    for k in [
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_RUNTIME_DIR",
    ] {
        assert!(Path::new(&env[k]).is_dir() && env[k].starts_with(root.to_str().unwrap()));
    }
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(root.join("home")), 0o700);
    assert_eq!(mode(root.join("xdg/runtime")), 0o700);
    // cwd is root/work; stdin is null (cat ends at once)
    assert_eq!(
        w.run(Path::new("/bin/pwd"), &[]).ok().stdout.trim(),
        root.join("work").to_str().unwrap()
    );
    assert_eq!(w.run(Path::new("/bin/cat"), &[]).ok().stdout, "");

    // the env is the world's, and tests edit it
    w.set_var("JUPYTER_PATH", "/x");
    w.remove_var("XDG_DATA_HOME");
    w.prepend_path(Path::new("/opt/p"));
    let env = env_map(&w);
    assert_eq!(env["JUPYTER_PATH"], "/x");
    assert!(!env.contains_key("XDG_DATA_HOME"));
    assert!(env["PATH"].starts_with("/opt/p:"));
    assert_eq!(w.var("JUPYTER_PATH").as_deref(), Some("/x"));

    let b = World::bare();
    let keys: Vec<String> = env_map(&b).into_keys().collect();
    assert_eq!(keys, ["HOME", "LANG", "PATH"]);

    // kip is the crate's binary, run in the world
    let v = w.kip(&["--version"]);
    assert_eq!(v.status, 0, "{}", v.show());
    assert!(v.stdout.starts_with("kip "), "{}", v.stdout);
}

#[test]
fn hung_children_are_killed_with_their_group() {
    let w = World::new();
    let pidfile = w.root().join("pid");
    let mut c = w.command(Path::new("/bin/sh"));
    c.args([
        "-c",
        &format!(
            "sleep 300 & echo $! > {}; echo started; wait",
            pidfile.display()
        ),
    ]);
    let t = support::try_run_command(c, Duration::from_secs(2)).expect_err("must time out");
    assert!(!t.pipes_held);
    assert_eq!(t.partial.stdout, "started\n");
    assert_eq!(t.partial.status, -9);
    // the background `sleep` (same group, holding the pipes) is dead once the call returned
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(process_gone(pid), "sleep {pid} survived the timeout");
}

#[test]
fn isolated_world_sees_no_outer_jupyter_dirs() {
    let outer_home = PathBuf::from(std::env::var_os("HOME").unwrap());
    let w = World::new();
    w.use_toolbox_jupyter();
    let jupyter = w.bin().join("jupyter");
    let paths = w.run(&jupyter, &["--paths", "--json"]).ok().json();
    let allowed = [
        w.root(),
        toolbox().root.clone(),
        PathBuf::from("/usr/local/share/jupyter"),
        PathBuf::from("/usr/share/jupyter"),
        PathBuf::from("/usr/local/etc/jupyter"),
        PathBuf::from("/etc/jupyter"),
    ];
    for (kind, list) in paths.as_object().unwrap() {
        for p in list.as_array().unwrap() {
            let p = PathBuf::from(p.as_str().unwrap());
            assert!(
                allowed.iter().any(|a| p.starts_with(a)) && !p.starts_with(&outer_home),
                "{kind} path {} escapes the world",
                p.display()
            );
        }
    }
    // the toolbox is a venv, so its own dirs come first (JUPYTER_PREFER_ENV_PATH), then the
    // world's user dirs
    let has = |kind: &str, p: PathBuf| {
        paths[kind]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str() == p.to_str())
    };
    assert!(has("data", w.root().join("xdg/data/jupyter")), "{paths}");
    assert!(has("config", w.home().join(".jupyter")), "{paths}");

    // only the toolbox's own python3 kernel, then the world's own kernel
    let list = w.jupyter_kernelspec_list_json(&jupyter).ok().json();
    let specs = list["kernelspecs"].as_object().unwrap();
    assert_eq!(specs.keys().collect::<Vec<_>>(), ["python3"]);
    assert!(specs["python3"]["resource_dir"]
        .as_str()
        .unwrap()
        .starts_with(toolbox().root.to_str().unwrap()));
    let k = w.kernelspec(
        &w.user_kernels(),
        "mine",
        r#"{"argv": ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Mine", "language": "python"}"#,
    );
    let list = w.jupyter_kernelspec_list_json(&jupyter).ok().json();
    assert_eq!(
        list["kernelspecs"]["mine"]["resource_dir"],
        k.to_str().unwrap()
    );

    // a bare world: the data dir is HOME's
    let b = World::bare();
    b.use_toolbox_jupyter();
    assert_eq!(b.jupyter_data_dir(), b.home().join(".local/share/jupyter"));
    let paths = b
        .run(&b.bin().join("jupyter"), &["--paths", "--json"])
        .ok()
        .json();
    assert!(
        paths["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str() == b.jupyter_data_dir().to_str()),
        "{paths}"
    );
}

#[test]
fn uv_venv_without_pip_then_uv_install() {
    let w = World::new();
    let v = w.uv_venv(&w.root().join("nopip"), &toolbox().base_python, false);
    assert!(v.python.exists());
    assert!(!v.bin().join("pip").exists());
    let o = w.run(&v.python, &["-m", "pip", "--version"]);
    assert_ne!(o.status, 0);
    assert!(o.stderr.contains("No module named pip"), "{}", o.stderr);
    assert_ne!(w.run(&v.python, &["-c", "import six"]).status, 0);

    w.uv_install(&v.python, &["six"]).unwrap();
    let file = py(&w, &v.python, "import six; print(six.__file__)");
    assert!(Path::new(&file).starts_with(v.site_packages()), "{file}");
    // installed files are hard links into the shared uv cache: replace_file leaves it alone
    assert!(std::fs::metadata(&file).unwrap().nlink() > 1);
    w.replace_file(Path::new(&file), "raise ImportError('edited')\n");
    assert_ne!(w.run(&v.python, &["-c", "import six"]).status, 0);
    let again = w.uv_venv(&w.root().join("again"), &toolbox().base_python, false);
    w.uv_install(&again.python, &["six"]).unwrap();
    py(&w, &again.python, "import six");
    // opt-in copies
    w.copy_installs();
    let copied = w.uv_venv(&w.root().join("copied"), &toolbox().base_python, false);
    w.uv_install(&copied.python, &["six"]).unwrap();
    assert_eq!(
        std::fs::metadata(copied.site_packages().join("six.py"))
            .unwrap()
            .nlink(),
        1
    );
    let cfg = assert_keys(&v.prefix, &["home", "implementation", "uv", "version_info"]);
    assert!(cfg["version_info"].starts_with("3.11."));
    assert!(w
        .uv_install(&v.python, &["surely-not-in-the-wheelhouse"])
        .is_err());

    // seeded pip on another Python
    let p = w.uv_venv(&w.root().join("withpip"), &pyenv_python("3.12"), true);
    let pip = py(
        &w,
        &p.python,
        "import pip, sys; print(pip.__file__, sys.version_info[:2])",
    );
    assert!(
        pip.starts_with(p.prefix.to_str().unwrap()) && pip.ends_with("(3, 12)"),
        "{pip}"
    );
    assert_home_untouched(&w);
}

#[test]
fn stdlib_venv_and_virtualenv_have_their_pyvenv_cfg() {
    let w = World::new();
    let base = pyenv_python("3.12");
    let s = w.stdlib_venv(&w.root().join("std"), &base, false);
    let cfg = assert_keys(
        &s.prefix,
        &[
            "home",
            "include-system-site-packages",
            "version",
            "executable",
            "command",
        ],
    );
    assert!(!cfg.contains_key("uv") && !cfg.contains_key("virtualenv"));
    assert_eq!(cfg["home"], base.parent().unwrap().to_str().unwrap());
    assert!(cfg["command"].contains("--without-pip"));
    assert_ne!(w.run(&s.python, &["-m", "pip", "--version"]).status, 0);

    let sp = w.stdlib_venv(&w.root().join("stdpip"), &toolbox().base_python, true);
    assert!(sp.bin().join("pip").exists());
    w.run(&sp.python, &["-m", "pip", "--version"]).ok();

    let v = w.virtualenv(&w.root().join("ve"), &base);
    let cfg = assert_keys(
        &v.prefix,
        &[
            "home",
            "implementation",
            "version_info",
            "virtualenv",
            "include-system-site-packages",
            "base-prefix",
            "base-exec-prefix",
            "base-executable",
        ],
    );
    assert_eq!(cfg["virtualenv"], "20.31.2");
    assert!(v.bin().join("pip").exists());
    assert_eq!(
        py(&w, &v.python, "import sys; print(sys.prefix)"),
        v.prefix.to_str().unwrap()
    );
    assert!(w.container().join("virtualenv-app-data").is_dir());
    assert_home_untouched(&w);
}

#[test]
fn wheel_is_accepted_by_uv_and_pip() {
    let w = World::new();
    let whl = w.wheel(
        "Demo.Pkg",
        "1.2",
        &[("demo_mod", "X = 1\n"), ("demo_single.py", "Y = 2\n")],
    );
    assert_eq!(whl, w.root().join("wheels/demo_pkg-1.2-py3-none-any.whl"));

    // uv, by name from the world's wheels dir
    let u = w.uv_venv(&w.root().join("u"), &toolbox().base_python, false);
    w.uv_install(&u.python, &["demo-pkg==1.2"]).unwrap();
    assert_eq!(
        py(
            &w,
            &u.python,
            "import demo_mod, demo_single; print(demo_mod.X + demo_single.Y)"
        ),
        "3"
    );
    let top = std::fs::read_to_string(
        u.site_packages()
            .join("demo_pkg-1.2.dist-info/top_level.txt"),
    )
    .unwrap();
    assert_eq!(top, "demo_mod\ndemo_single\n");

    // pip, by path; RECORD is good enough for pip to uninstall it again
    let p = w.uv_venv(&w.root().join("p"), &toolbox().base_python, true);
    w.run(
        &p.python,
        &["-m", "pip", "install", "--no-index", whl.to_str().unwrap()],
    )
    .ok();
    assert_eq!(py(&w, &p.python, "import demo_mod; print(demo_mod.X)"), "1");
    w.run(&p.python, &["-m", "pip", "uninstall", "-y", "demo-pkg"])
        .ok();
    assert_ne!(w.run(&p.python, &["-c", "import demo_mod"]).status, 0);
    assert!(!p.site_packages().join("demo_single.py").exists());

    // dependencies from the wheelhouse, entry points, no top_level.txt
    let mut spec = WheelSpec::new(
        "toolish",
        "0.1",
        &[("toolish", "def main():\n    print('hi')\n")],
    );
    spec.requires_dist = vec!["six".into()];
    spec.console_scripts = vec![("toolish".into(), "toolish:main".into())];
    spec.top_level_txt = false;
    w.wheel_with(&spec);
    w.uv_install(&u.python, &["toolish"]).unwrap();
    assert_eq!(w.run(&u.bin().join("toolish"), &[]).ok().stdout, "hi\n");
    py(&w, &u.python, "import six");
    assert!(!u
        .site_packages()
        .join("toolish-0.1.dist-info/top_level.txt")
        .exists());
}

/// A uv venv with ipykernel, registered as kernel `k` under `root/data` on JUPYTER_PATH.
fn kernel_world() -> (World, Venv) {
    let w = World::new();
    let v = w.uv_venv(&w.root().join("kenv"), &toolbox().base_python, false);
    w.uv_install(&v.python, &["ipykernel==7.4.0"]).unwrap();
    let data = w.root().join("data");
    w.run(
        &v.python,
        &[
            "-m",
            "ipykernel",
            "install",
            "--prefix",
            data.to_str().unwrap(),
            "--name",
            "k",
        ],
    )
    .ok();
    w.set_var("JUPYTER_PATH", data.join("share/jupyter").to_str().unwrap());
    (w, v)
}

#[test]
fn real_kernel_runs_the_venv_python() {
    let (w, v) = kernel_world();
    let r = w.run_kernel("k", "import sys; print(sys.executable)");
    assert!(r.started && r.error.is_none(), "{:?}\n{}", r.error, r.log);
    assert_eq!(r.stdout.trim(), v.python.to_str().unwrap());

    // the server's PATH is the kernel's
    let r = w.run_kernel_with_path(
        "k",
        "import os; print(os.environ['PATH'])",
        "/custom/bin:/usr/bin:/bin",
    );
    assert_eq!(
        r.stdout.trim(),
        "/custom/bin:/usr/bin:/bin",
        "{:?}\n{}",
        r.error,
        r.log
    );

    let r = w.run_kernel("no-such-kernel", "1");
    assert!(!r.started);
    assert!(
        r.error.as_deref().unwrap().contains("NoSuchKernel"),
        "{:?}",
        r.error
    );
}

#[test]
fn kernel_session_keeps_state() {
    let (w, v) = kernel_world();
    let mut s = w.start_kernel("k");
    let kpid = s.kernel_pid().expect("kernel pid");
    assert!(s.execute("x = 41").error.is_none());
    assert_eq!(s.execute("print(x + 1)").stdout, "42\n");
    assert_eq!(s.execute("x").result.as_deref(), Some("41"));
    let e = s.execute("1/0");
    assert!(
        e.error.as_deref().unwrap().starts_with("ZeroDivisionError"),
        "{:?}",
        e.error
    );
    let r = s.execute("import os, sys; print(sys.executable); print(os.environ['JPY_PARENT_PID']); print(os.environ['PATH'])");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            v.python.to_str().unwrap(),
            &s.pid().to_string(),
            &w.var("PATH").unwrap()
        ]
    );
    assert!(s.connection_file().unwrap().starts_with(w.root()));
    assert_eq!(
        s.resource_dir().unwrap(),
        w.root().join("data/share/jupyter/kernels/k")
    );
    drop(s);
    assert!(
        process_gone(kpid),
        "kernel {kpid} still running after the session was dropped"
    );

    let other = KernelOpts {
        env: vec![("KIP_MARK".into(), Some("m".into()))],
        ..Default::default()
    };
    let r = w.run_kernel_with("k", "import os; print(os.environ['KIP_MARK'])", &other);
    assert_eq!(r.stdout, "m\n");
}

#[test]
fn jupyter_side_effects_are_undone_by_restore() {
    let w = World::new();
    w.use_toolbox_jupyter();
    let jupyter = w.bin().join("jupyter");
    // an old ~/.ipython kernel: Jupyter migrates it into its data dir on first run
    w.kernelspec(
        &w.home().join(".ipython/kernels"),
        "old",
        r#"{"argv": ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Old", "language": "python"}"#,
    );
    let data = w.jupyter_data_dir();
    assert!(!data.exists());
    let before = tree(&w.root());

    let snap = w.snapshot();
    assert!(snap.path().starts_with(w.container()));
    let out = w.jupyter_kernelspec_list_json(&jupyter).ok().json();
    assert_eq!(
        out["kernelspecs"]["old"]["resource_dir"],
        data.join("kernels/old").to_str().unwrap()
    );
    assert!(
        data.join("kernels/old/kernel.json").exists(),
        "Jupyter did not migrate"
    );
    assert!(w.home().join(".jupyter/migrated").exists());
    assert_ne!(tree(&w.root()), before);

    w.restore(&snap);
    assert!(!data.exists(), "data dir survived the restore");
    assert_eq!(tree(&w.root()), before);

    // the snapshot is reusable; restore_moving consumes it
    w.jupyter_kernelspec_list_json(&jupyter).ok();
    assert!(data.exists());
    let p = snap.path().to_path_buf();
    w.restore_moving(snap);
    assert!(!p.exists());
    assert_eq!(tree(&w.root()), before);

    // a linked snapshot (what compare_kernelspec_json uses) undoes the same
    let snap = w.snapshot_linked();
    w.jupyter_kernelspec_list_json(&jupyter).ok();
    assert!(data.exists());
    w.restore_moving(snap);
    assert_eq!(tree(&w.root()), before);
    // and refuses to restore over an in-place change of a shared file
    let snap = w.snapshot_linked();
    let spec = w.home().join(".ipython/kernels/old/kernel.json");
    std::fs::write(&spec, "{}").unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.restore(&snap)));
    assert!(
        caught.is_err(),
        "restore over an in-place change must panic"
    );
}

#[test]
fn jupyter_venv_is_a_working_jupyter() {
    let w = World::new();
    let v = w.jupyter_venv(&w.root().join("jv"));
    assert!(v.bin().join("jupyter").exists() && v.bin().join("jupyter-kernelspec").exists());
    let out = w
        .jupyter_kernelspec_list_json(&v.bin().join("jupyter"))
        .ok()
        .json();
    assert_eq!(
        out["kernelspecs"]["python3"]["resource_dir"],
        v.prefix
            .join("share/jupyter/kernels/python3")
            .to_str()
            .unwrap()
    );
}

#[test]
fn conda_env_is_a_real_prefix() {
    let w = World::new();
    let prefix = w.root().join("ce");
    let e = w.conda_env(&prefix, &["python", "pip"]);
    let history = std::fs::read_to_string(prefix.join("conda-meta/history")).unwrap();
    assert!(
        history.contains("==>") && history.contains("python"),
        "{history}"
    );
    assert_eq!(
        py(&w, &e.python, "import sys; print(sys.prefix)"),
        prefix.to_str().unwrap()
    );
    w.run(&e.python, &["-m", "pip", "--version"]).ok();
    // rattler's shared cache by default; a private one after copy_installs
    assert_eq!(
        w.conda_pkgs_dir(),
        toolbox().root.join("conda-fixture/pkgs")
    );
    w.copy_installs();
    let private = w.conda_pkgs_dir();
    assert!(private.starts_with(w.container()) && !private.starts_with(w.root()));
    w.conda_env(&w.root().join("ce2"), &["fixture-tool"]);
    assert!(private.join("pkgs/fixture-tool-0.1.0-h_0").is_dir());

    // and as `conda` on PATH, with the same private cache
    w.use_fixture_conda(&["conda"]);
    // (plain `list`: fixture-conda's `list --json` cannot serialize rattler's BuildString)
    let o = w.run(
        &w.bin().join("conda"),
        &["list", "-p", prefix.to_str().unwrap()],
    );
    assert!(
        o.ok().stdout.lines().any(|l| l.starts_with("python ")),
        "{}",
        o.stdout
    );
}

#[test]
fn pyenv_root_shims_resolve_like_pyenv() {
    let w = World::new();
    let (v11, v12) = (pyenv_version("3.11"), pyenv_version("3.12"));
    let root = w.pyenv_root(&[&v11, &v12]);
    assert_eq!(root, w.root().join("pyenv"));
    assert_eq!(w.var("PYENV_ROOT").unwrap(), root.to_str().unwrap());
    let shim = root.join("shims/python3");
    let text = std::fs::read_to_string(&shim).unwrap();
    assert!(
        text.contains(&format!("export PYENV_ROOT=\"{}\"", root.display())),
        "{text}"
    );
    assert!(
        text.contains("exec \"") && text.contains("libexec/pyenv\" exec \"$program\""),
        "{text}"
    );
    for n in ["python", "pip", "pip3"] {
        assert_eq!(
            std::fs::read_to_string(root.join("shims").join(n)).unwrap(),
            text
        );
    }

    w.pyenv_global(&v12);
    w.prepend_path(&root.join("shims"));
    let code = "import sys; print(sys.version_info[:2], sys.prefix)";
    let out = py(&w, &shim, code);
    assert_eq!(
        out,
        format!("(3, 12) {}", root.join("versions").join(&v12).display())
    );
    w.set_var("PYENV_VERSION", &v11);
    assert!(py(&w, &shim, code).starts_with("(3, 11)"));
    w.remove_var("PYENV_VERSION");
    w.pyenv_local(&w.cwd(), &v11);
    assert!(py(&w, &shim, code).starts_with("(3, 11)"));
}

#[test]
fn shared_world_runs_as_nobody() {
    let w = World::new_shared();
    assert!(w.root().starts_with("/tmp"));
    assert_eq!(
        w.as_nobody(Path::new("/usr/bin/id"), &["-u"])
            .ok()
            .stdout
            .trim(),
        "65534"
    );
    // the world is readable, not writable, by nobody
    let o = w.as_nobody(Path::new("/bin/sh"), &["-c", "touch \"$HOME/x\""]);
    assert_ne!(o.status, 0);
    assert!(o.stderr.contains("Permission denied"), "{}", o.stderr);
    let v = w.uv_venv(&w.root().join("sys"), Path::new("/usr/bin/python3"), false);
    let out = w.as_nobody(
        &v.python,
        &["-c", "import os, sys; print(os.getuid(), sys.prefix)"],
    );
    assert_eq!(
        out.ok().stdout.trim(),
        format!("65534 {}", v.prefix.display())
    );
    w.kip_as_nobody(&["--version"]).ok();
}
