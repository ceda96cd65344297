//! `kip install`: packages land where the kernel imports them, and kip proves it.

mod support;

use std::path::{Path, PathBuf};

use support::{pyenv_python, toolbox, World};

fn kip_bin(w: &World) {
    let link = w.bin().join("kip");
    if !link.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kip"), link).unwrap();
    }
}

fn uv_on_path(w: &World) {
    let link = w.bin().join("uv");
    if !link.exists() {
        std::os::unix::fs::symlink(&toolbox().uv, link).unwrap();
    }
}

/// Local wheels as the only package source, through pip's own settings (kip translates them
/// for uv).
fn local_index(w: &World, wheels: &Path) {
    w.set_var("PIP_NO_INDEX", "1");
    w.set_var("PIP_FIND_LINKS", wheels.to_str().unwrap());
}

fn register(w: &World, python: &Path, name: &str) {
    w.run(
        python,
        &["-m", "ipykernel", "install", "--user", "--name", name],
    )
    .ok();
}

#[test]
fn the_original_failure_and_its_fix() {
    let w = World::new();
    w.use_toolbox_jupyter();
    kip_bin(&w);
    uv_on_path(&w);
    let a = w.uv_venv(&w.root().join("A"), &toolbox().base_python, false);
    w.uv_install(&a.python, &["ipykernel==7.4.0"]).unwrap();
    register(&w, &a.python, "k");
    let b = w.uv_venv(&w.root().join("B"), &toolbox().base_python, true);
    w.prepend_path(&b.prefix.join("bin"));
    let demo = w.wheel("demo", "1.0", &[("demo", "X = 1\n")]);
    let demo2 = w.wheel("demo2", "1.0", &[("demo2", "Y = 2\n")]);
    let wheels = demo.parent().unwrap().to_path_buf();
    let _ = demo2;
    local_index(&w, &wheels);
    // The classic mistake: `pip` on PATH is B's.
    w.run(Path::new("pip"), &["install", "demo"]).ok();
    let r = w.run_kernel("k", "import demo");
    assert!(
        r.error
            .as_deref()
            .unwrap_or("")
            .contains("ModuleNotFoundError"),
        "{:?}",
        r.error
    );
    // kip installs into the kernel's env and proves it.
    let out = w.kip(&["install", "demo", "--kernel", "k", "--json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["target"]["prefix"], a.prefix.to_str().unwrap());
    assert_eq!(v["proof"][0]["module"], "demo");
    assert_eq!(v["proof"][0]["ok"], true);
    let r = w.run_kernel("k", "import demo; print(demo.X)");
    assert_eq!(r.error, None);
    assert_eq!(r.stdout.trim(), "1");
    // Inside a running kernel, no flags: the kernel's env, never a prompt.
    let mut s = w.start_kernel("k");
    let r = s.execute("!kip install demo2");
    assert!(r.stdout.contains("running inside kernel"), "{}", r.stdout);
    let r = s.execute("import demo2; print(demo2.Y)");
    assert_eq!(r.error, None, "{}", r.stdout);
    assert_eq!(r.stdout.trim(), "2");
}

fn dry(w: &World, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["install"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--dry-run", "--json"]);
    let out = w.kip(&full);
    out.ok();
    out.json()
}

#[test]
fn every_env_kind_gets_the_right_installer() {
    let w = World::new();
    uv_on_path(&w);
    let wheel = w.wheel("kipdemo", "1.0", &[("kipdemo", "")]);
    local_index(&w, wheel.parent().unwrap());
    let base = toolbox().base_python.clone();
    let pipvenv = w.stdlib_venv(&w.root().join("pipvenv"), &base, true);
    let uvv = w.uv_venv(&w.root().join("uvv"), &base, false);
    let ve = w.virtualenv(&w.root().join("ve"), &base);
    let bare = w.stdlib_venv(&w.root().join("bare"), &base, false);
    let py37 = w.stdlib_venv(&w.root().join("py37"), &pyenv_python("3.7"), true);
    for (venv, installer) in [(&pipvenv, "uv"), (&uvv, "uv"), (&ve, "uv"), (&py37, "pip")] {
        let p = venv.python.to_str().unwrap();
        let v = dry(&w, &["kipdemo", "--python", p]);
        assert_eq!(v["installer"], installer, "{v}");
        let out = w.kip(&["install", "kipdemo", "--python", p]);
        out.ok();
        assert!(out.stderr.contains("import kipdemo: ok"), "{}", out.stderr);
    }
    // Neither pip nor uv: bootstrap pip with ensurepip, then pip.
    w.remove_var("PATH");
    w.set_var("PATH", &format!("{}:/usr/bin:/bin", w.bin().display()));
    std::fs::remove_file(w.bin().join("uv")).unwrap();
    let p = bare.python.to_str().unwrap();
    let v = dry(&w, &["kipdemo", "--python", p]);
    assert_eq!(v["installer"], "pip");
    assert!(
        v["commands"][0].as_str().unwrap().contains("ensurepip"),
        "{v}"
    );
    let out = w.kip(&["install", "kipdemo", "--python", p]);
    out.ok();
    assert!(bare.prefix.join("bin/pip").exists() || bare.prefix.join("bin/pip3").exists());
}

#[test]
fn pep668_is_refused_and_break_system_packages_only_when_typed() {
    let w = World::new();
    uv_on_path(&w);
    let out = w.kip(&["install", "six", "--python", "/usr/bin/python3"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("externally managed"), "{}", out.stderr);
    assert!(
        out.stderr.contains("venv") && out.stderr.contains("ipykernel install"),
        "{}",
        out.stderr
    );
    let v = dry(
        &w,
        &[
            "six",
            "--python",
            "/usr/bin/python3",
            "--break-system-packages",
        ],
    );
    assert!(v["commands"][0]
        .as_str()
        .unwrap()
        .contains("--break-system-packages"));
    // Never added silently: a venv install's command has no such flag.
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let v = dry(&w, &["six", "--python", venv.python.to_str().unwrap()]);
    assert!(!v["commands"][0].as_str().unwrap().contains("break-system"));
}

#[test]
fn requirements_options_and_names() {
    let w = World::new();
    uv_on_path(&w);
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let p = venv.python.to_str().unwrap();
    let v = dry(&w, &["sklearn", "--python", p]);
    assert_eq!(v["requested"][0], "scikit-learn");
    assert_eq!(v["renamed"][0]["typed"], "sklearn");
    let v = dry(&w, &["sklearn", "--exact", "--python", p]);
    assert_eq!(v["requested"][0], "sklearn");
    let out = w.kip(&["install", "-x", "foo", "--python", p]);
    assert_eq!(out.status, 2);
    let out = w.kip(&["install", "--python", p, "--", "--some-flag"]);
    assert_eq!(out.status, 2, "no requirement given");
    let out = w.kip(&[
        "install",
        "six",
        "--python",
        p,
        "--dry-run",
        "--json",
        "--",
        "--some-flag",
        "x y",
    ]);
    out.ok();
    let v = out.json();
    let cmd = v["commands"][0].as_str().unwrap();
    assert!(cmd.ends_with("six --some-flag 'x y'"), "{cmd}");
    for bad in ["a/b", "..", "."] {
        let out = w.kip(&["install", "six", "--kernel", bad]);
        assert_eq!(out.status, 2, "{bad}: {}", out.stderr);
    }
    // A requirement that looks like an option is refused before any installer runs.
    let out = w.kip(&["install", "--python", p, "--", "six"]);
    assert_eq!(out.status, 2);
    // Named files and paths that are not there: bad input, before any installer.
    for (args, says) in [
        (vec!["-r", "missing.txt"], "-r missing.txt: cannot read"),
        (vec!["-c", ".", "six"], "is a directory"),
        (vec!["-e", "./no-such-project"], "does not exist"),
    ] {
        let mut full = vec!["install", "--python", p];
        full.extend(args);
        let out = w.kip(&full);
        assert_eq!(out.status, 2, "{}", out.show());
        assert!(
            out.stderr.contains(says) && !out.stderr.contains("running:"),
            "{}",
            out.stderr
        );
    }
}

/// A PEP 503 index directory (`simple/<name>/index.html`) served on loopback.
struct Index {
    child: std::process::Child,
    url: String,
}

impl Drop for Index {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_index(w: &World, wheels: &[PathBuf]) -> Index {
    serve_index_at(w, "index", wheels)
}

fn serve_index_at(w: &World, name: &str, wheels: &[PathBuf]) -> Index {
    let root = w.root().join(name);
    for wh in wheels {
        let file = wh.file_name().unwrap().to_str().unwrap().to_string();
        let name = file
            .split('-')
            .next()
            .unwrap()
            .replace('_', "-")
            .to_lowercase();
        let d = root.join("simple").join(&name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(wh, d.join(&file)).unwrap();
        std::fs::write(
            d.join("index.html"),
            format!("<html><body><a href=\"{file}\">{file}</a></body></html>"),
        )
        .unwrap();
    }
    let port_file = w.root().join(format!("{name}.port"));
    let script = format!(
        "import http.server, functools, sys\nh = functools.partial(http.server.SimpleHTTPRequestHandler, directory={:?})\ns = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)\nopen({:?}, 'w').write(str(s.server_address[1]))\ns.serve_forever()\n",
        root.to_str().unwrap(),
        port_file.to_str().unwrap()
    );
    let child = std::process::Command::new(&toolbox().base_python)
        .arg("-c")
        .arg(script)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let port = loop {
        if let Ok(p) = std::fs::read_to_string(&port_file) {
            if !p.is_empty() {
                break p;
            }
        }
        assert!(t0.elapsed().as_secs() < 20, "index server did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Index {
        child,
        url: format!("http://127.0.0.1:{port}/simple"),
    }
}

#[test]
fn pip_index_url_is_honoured_through_uv_and_requirements_files() {
    let w = World::new();
    uv_on_path(&w);
    let d3 = w.wheel("demo3", "1.0", &[("demo3", "Z = 3\n")]);
    let d4 = w.wheel("demo4", "1.0", &[("demo4", "")]);
    let index = serve_index(&w, std::slice::from_ref(&d3));
    let extra = serve_index_second(&w, &[d4]);
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let p = venv.python.to_str().unwrap();
    w.set_var("PIP_INDEX_URL", &index.url);
    let out = w.kip(&["install", "demo3", "--python", p]);
    out.ok();
    assert!(
        out.stderr.contains(&index.url) && out.stderr.contains("PIP_INDEX_URL"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("import demo3: ok"), "{}", out.stderr);
    // -r FILE with an --extra-index-url line, read by uv as pip reads it.
    let req = w.root().join("req.txt");
    std::fs::write(&req, format!("--extra-index-url {}\ndemo4\n", extra.url)).unwrap();
    let out = w.kip(&["install", "-r", req.to_str().unwrap(), "--python", p]);
    out.ok();
    let check = w.run(&venv.python, &["-c", "import demo4"]);
    check.ok();
}

fn serve_index_second(w: &World, wheels: &[PathBuf]) -> Index {
    serve_index_at(w, "index2", wheels)
}

#[test]
fn running_kernel_is_named_for_restart() {
    let w = World::new();
    w.use_toolbox_jupyter();
    uv_on_path(&w);
    let a = w.uv_venv(&w.root().join("A"), &toolbox().base_python, false);
    w.uv_install(&a.python, &["ipykernel==7.4.0"]).unwrap();
    register(&w, &a.python, "k");
    let wheel = w.wheel("restartme", "1.0", &[("restartme", "V = 1\n")]);
    local_index(&w, wheel.parent().unwrap());
    let mut s = w.start_kernel("k");
    // A new distribution: the running kernel is named, and can import it without a restart.
    let out = w.kip(&["install", "restartme", "--kernel", "k", "--json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["changed"][0]["name"], "restartme", "{v}");
    assert!(v["changed"][0]["from"].is_null(), "{v}");
    let restart = v["restart"].as_array().unwrap();
    assert_eq!(restart.len(), 1, "{v}");
    assert_eq!(restart[0]["kernel"], "k");
    assert_eq!(restart[0]["must_restart"], false, "{v}");
    assert!(out.stderr.contains("no restart needed"), "{}", out.stderr);
    let r = s.execute("import restartme; print(restartme.V)");
    assert_eq!(r.stdout.trim(), "1", "{:?}", r.error);
    // An upgrade of what the kernel holds: it must restart, and is told so.
    w.wheel("restartme", "2.0", &[("restartme", "V = 2\n")]);
    let out = w.kip(&["install", "-U", "restartme", "--kernel", "k", "--json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["changed"][0]["from"], "1.0", "{v}");
    assert_eq!(v["changed"][0]["to"], "2.0", "{v}");
    assert_eq!(v["restart"][0]["must_restart"], true, "{v}");
    assert!(
        out.stderr.contains("restart kernel k") && out.stderr.contains("restartme 1.0 → 2.0"),
        "{}",
        out.stderr
    );
    let r = s.execute("import restartme; print(restartme.V)");
    assert_eq!(
        r.stdout.trim(),
        "1",
        "the running kernel still holds 1.0: {:?}",
        r.error
    );
    // Nothing changed: no kernel to tell.
    let out = w.kip(&["install", "restartme", "--kernel", "k", "--json"]);
    out.ok();
    assert!(out.json()["restart"].as_array().unwrap().is_empty());
    // An uninstall: what the kernel imported is gone from disk, so it must restart.
    let out = w.kip(&["uninstall", "restartme", "--kernel", "k", "--json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["changed"][0]["from"], "2.0", "{v}");
    assert!(v["changed"][0]["to"].is_null(), "{v}");
    assert_eq!(v["restart"][0]["must_restart"], true, "{v}");
    assert!(
        out.stderr.contains("restartme 2.0 (removed)"),
        "{}",
        out.stderr
    );
    // A new distribution with a .pth file (as an editable install has): read at start-up only.
    w.wheel(
        "hookpkg",
        "1.0",
        &[
            ("hookpkg", ""),
            ("hookpkg.pth", "# read by site at start-up\n"),
        ],
    );
    let out = w.kip(&["install", "hookpkg", "--kernel", "k", "--json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["changed"][0]["pth"], true, "{v}");
    assert_eq!(v["restart"][0]["must_restart"], true, "{v}");
    assert!(
        out.stderr.contains("hookpkg comes with a .pth file"),
        "{}",
        out.stderr
    );
    drop(s);
}

#[test]
fn conda_env_channel_first_then_pypi() {
    let w = World::new();
    w.use_toolbox_jupyter();
    uv_on_path(&w);
    let tb = toolbox();
    let prefix = w.root().join("condaenvs/cenv");
    w.conda_env(&prefix, &["python", "pip"]);
    w.uv_install(&prefix.join("bin/python"), &["ipykernel==7.4.0"])
        .unwrap();
    register(&w, &prefix.join("bin/python"), "ck");
    // The fixture CLI as `conda` on PATH, with its channel configured as conda reads settings.
    std::os::unix::fs::symlink(&tb.fixture_conda, w.bin().join("conda")).unwrap();
    w.set_var("CONDA_CHANNELS", tb.conda_channel.to_str().unwrap());
    w.set_var(
        "CONDA_PKGS_DIRS",
        w.root().join("conda-pkgs").to_str().unwrap(),
    );
    let wheel = w.wheel("onlyonpypi", "1.0", &[("onlyonpypi", "")]);
    local_index(&w, wheel.parent().unwrap());
    let out = w.kip(&["install", "hello-fixture", "--kernel", "ck", "--json"]);
    out.ok();
    assert_eq!(out.json()["installed_from"][0]["from"], "conda");
    assert!(std::fs::read_dir(prefix.join("conda-meta"))
        .unwrap()
        .any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("hello-fixture-")));
    let out = w.kip(&["install", "onlyonpypi", "--kernel", "ck", "--json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["installed_from"][0]["from"], "pypi", "{v}");
    assert!(
        out.stderr.contains("not in the conda channels"),
        "{}",
        out.stderr
    );
    let r = w.run_kernel("ck", "import hello_fixture, onlyonpypi; print('both')");
    assert_eq!(r.stdout.trim(), "both", "{:?}", r.error);
    let list = w.kip(&["list", "--kernel", "ck", "--json"]);
    list.ok();
    let pk = list.json()["packages"].as_array().unwrap().clone();
    let inst = |n: &str| {
        pk.iter()
            .find(|p| p["name"].as_str().unwrap().eq_ignore_ascii_case(n))
            .map(|p| p["installer"].clone())
    };
    assert_eq!(inst("hello-fixture").unwrap(), "conda");
    let by = inst("onlyonpypi").unwrap();
    assert!(by == "uv" || by == "pip", "{by}");
    let out = w.kip(&[
        "uninstall",
        "hello-fixture",
        "onlyonpypi",
        "--kernel",
        "ck",
        "--json",
    ]);
    out.ok();
    let v = out.json();
    let removed = v["removed"].as_array().unwrap();
    assert!(
        removed
            .iter()
            .any(|r| r["name"] == "hello-fixture" && r["with"] == "conda"),
        "{v}"
    );
    assert!(
        removed
            .iter()
            .any(|r| r["name"] == "onlyonpypi" && r["with"] != "conda"),
        "{v}"
    );
    let r = w.run_kernel("ck", "import hello_fixture");
    assert!(r.error.is_some());

    // Replacing a conda-owned distribution from PyPI needs --yes.
    w.kip(&["install", "hello-fixture", "--kernel", "ck"]).ok();
    let ours = w.wheel(
        "hello_fixture",
        "9.0",
        &[("hello_fixture", "__version__ = '9.0'\n")],
    );
    let out = w.kip(&["install", ours.to_str().unwrap(), "--kernel", "ck"]);
    assert_eq!(out.status, 1, "{}", out.show());
    assert!(
        out.stderr.contains("conda-owned hello-fixture") && out.stderr.contains("--yes"),
        "{}",
        out.stderr
    );
    let version = || {
        let py = prefix.join("bin/python");
        let out = w.run(
            &py,
            &["-c", "import hello_fixture as h; print(h.__version__)"],
        );
        out.stdout.trim().to_string()
    };
    assert_ne!(version(), "9.0", "nothing may change without --yes");
    let out = w.kip(&["install", ours.to_str().unwrap(), "--kernel", "ck", "--yes"]);
    out.ok();
    assert_eq!(version(), "9.0");
}

#[test]
fn project_pixi_and_frozen_envs() {
    let w = World::new();
    uv_on_path(&w);
    // A uv project's .venv: a warning with the `uv add` line.
    let proj = w.root().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("pyproject.toml"),
        "[project]\nname='p'\nversion='0'\n",
    )
    .unwrap();
    std::fs::write(proj.join("uv.lock"), "version = 1\n").unwrap();
    let v = w.uv_venv(&proj.join(".venv"), &toolbox().base_python, false);
    let out = w.kip(&[
        "install",
        "six",
        "--python",
        v.python.to_str().unwrap(),
        "--dry-run",
    ]);
    out.ok();
    assert!(
        out.stderr.contains("uv sync") && out.stderr.contains("uv add"),
        "{}",
        out.stderr
    );
    // A pixi env: refused (no pixi here) with the exact `pixi add` command.
    let px = w.root().join("pixiproj/.pixi/envs/default");
    w.conda_env(&px, &["python"]);
    let manifest = w.root().join("pixiproj/pixi.toml");
    std::fs::write(
        px.join("conda-meta/pixi"),
        serde_json::json!({"manifest_path": manifest, "environment_name": "default"}).to_string(),
    )
    .unwrap();
    let out = w.kip(&["install", "six", "--prefix", px.to_str().unwrap()]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains(&format!("pixi add --manifest-path {}", manifest.display())),
        "{}",
        out.stderr
    );
    // A frozen conda env (CEP 22) is refused.
    let fz = w.root().join("frozen");
    w.conda_env(&fz, &["python"]);
    std::fs::write(fz.join("conda-meta/frozen"), "{}").unwrap();
    let out = w.kip(&["install", "six", "--prefix", fz.to_str().unwrap()]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("frozen"), "{}", out.stderr);
}

/// An installed requirement is answered from disk ("already satisfied", no installer), but
/// only when pip would also do nothing: a missing or too-old dependency, or a specifier the
/// installed version fails, still runs the installer.
#[test]
fn already_installed_is_decided_from_disk_without_skipping_real_work() {
    let w = World::new();
    uv_on_path(&w);
    let mut a = support::WheelSpec::new("demoa", "1.0", &[("demoa", "import demob\n")]);
    a.requires_dist = vec!["demob>=2".into()];
    let a = w.wheel_with(&a);
    w.wheel("demob", "1.0", &[("demob", "V = 1\n")]);
    w.wheel("demob", "2.0", &[("demob", "V = 2\n")]);
    local_index(&w, a.parent().unwrap());
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let p = venv.python.to_str().unwrap();
    let demob_version = || {
        let out = w.run(&venv.python, &["-c", "import demob; print(demob.V)"]);
        out.stdout.trim().to_string()
    };
    // `kip install demoa` that had to run the installer, leaving demob 2.
    let install_ran = || {
        let out = w.kip(&["install", "demoa", "--python", p, "--json"]);
        out.ok();
        let v = out.json();
        assert!(v["already_satisfied"].as_array().unwrap().is_empty(), "{v}");
        assert_eq!(v["commands"].as_array().unwrap().len(), 1, "{v}");
        assert_eq!(demob_version(), "2");
    };
    install_ran();

    // Everything in place: no installer command, and the import is still proven.
    let out = w.kip(&["install", "demoa", "--python", p, "--json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["already_satisfied"][0]["name"], "demoa", "{v}");
    assert_eq!(v["already_satisfied"][0]["version"], "1.0");
    assert_eq!(v["commands"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["proof"][0]["module"], "demoa");
    assert_eq!(v["proof"][0]["ok"], true);
    let v = dry(&w, &["demoa", "--python", p]);
    assert_eq!(v["commands"].as_array().unwrap().len(), 0, "{v}");

    // A dependency too old for demoa's `demob>=2`: the installer runs and upgrades it.
    w.uv_install(&venv.python, &["demob==1.0"]).unwrap();
    assert_eq!(demob_version(), "1");
    install_ran();

    // A dependency gone: the installer puts it back.
    w.run(&toolbox().uv, &["pip", "uninstall", "--python", p, "demob"])
        .ok();
    let out = w.kip(&["install", "demoa", "--python", p]);
    out.ok();
    assert_eq!(demob_version(), "2");

    // The installed version fails the typed specifier: the installer runs (a downgrade).
    let out = w.kip(&["install", "demob<2", "--python", p]);
    out.ok();
    assert!(!out.stderr.contains("already satisfied"), "{}", out.stderr);
    assert_eq!(demob_version(), "1");
    // -U never takes the disk's word.
    let out = w.kip(&["install", "-U", "demob", "--python", p]);
    out.ok();
    assert_eq!(demob_version(), "2");
}

/// `--notebook` with an nb_conda_kernels kernel name (never a kernelspec on disk): the name
/// maps to the conda env nb_conda_kernels named it after, including the `<project>-<env>` form
/// of an `envs` directory outside the base.
#[test]
fn notebook_with_an_nb_conda_kernels_name_targets_that_env() {
    let w = World::new();
    uv_on_path(&w);
    let dev = w.root().join("proj/envs/dev");
    let other = w.root().join("other/envs/dev");
    w.conda_env(&dev, &["python"]);
    w.conda_env(&other, &["python"]);
    let listed = format!("{}\n{}\n", dev.display(), other.display());
    std::fs::create_dir_all(w.home().join(".conda")).unwrap();
    std::fs::write(w.home().join(".conda/environments.txt"), listed).unwrap();
    for (kernel, want) in [
        ("conda-env-proj-dev-py", &dev),
        ("conda-env-other-dev-py", &other),
    ] {
        let nb = w.root().join(format!("{kernel}.ipynb"));
        let text = format!(
            r#"{{"nbformat": 4, "nbformat_minor": 5, "metadata": {{"kernelspec": {{"name": "{kernel}", "display_name": "Python [conda env:dev]", "language": "python"}}}}, "cells": []}}"#
        );
        std::fs::write(&nb, text).unwrap();
        let v = dry(
            &w,
            &[
                "six",
                "--installer",
                "uv",
                "--notebook",
                nb.to_str().unwrap(),
            ],
        );
        assert_eq!(v["target"]["prefix"], want.to_str().unwrap(), "{v}");
        assert!(
            v["target"]["why"]
                .as_str()
                .unwrap()
                .contains("nb_conda_kernels"),
            "{v}"
        );
    }
    let nb = w.root().join("missing.ipynb");
    std::fs::write(
        &nb,
        r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "conda-env-nope-py"}}, "cells": []}"#,
    )
    .unwrap();
    let out = w.kip(&["install", "six", "--notebook", nb.to_str().unwrap()]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains("conda-env-nope-py"), "{}", out.stderr);
}

/// An import name missing from kip's table is mapped through the metadata of a distribution
/// installed in another local env; `--exact` turns the mapping off.
#[test]
fn import_names_are_mapped_through_other_local_envs() {
    let w = World::new();
    uv_on_path(&w);
    let wheel = w.wheel("fancy-dist", "1.0", &[("fancymod", "")]);
    let base = &toolbox().base_python;
    let other = w.uv_venv(&w.root().join("other"), base, false);
    w.uv_install_from(&other.python, &["fancy-dist"], &[wheel.parent().unwrap()])
        .unwrap();
    w.set_var("VIRTUAL_ENV", other.prefix.to_str().unwrap());
    let target = w.uv_venv(&w.root().join("target"), base, false);
    let p = target.python.to_str().unwrap();
    let v = dry(&w, &["fancymod", "--python", p]);
    assert_eq!(v["requested"][0], "fancy-dist", "{v}");
    assert_eq!(v["renamed"][0]["typed"], "fancymod");
    let why = v["renamed"][0]["why"].as_str().unwrap();
    assert!(why.contains(other.prefix.to_str().unwrap()), "{why}");
    let v = dry(&w, &["fancymod", "--exact", "--python", p]);
    assert_eq!(v["requested"][0], "fancymod");
}

/// With no target: not on a terminal, an error listing the `--kernel` choices (exit 2); on a
/// terminal, a picker whose default is the active environment's kernel.
#[test]
fn no_target_lists_choices_or_picks_on_a_terminal() {
    let w = World::new();
    uv_on_path(&w);
    let base = &toolbox().base_python;
    let kernels = w.user_kernels();
    let mut prefixes = Vec::new();
    for name in ["ka", "kb"] {
        let v = w.uv_venv(&w.root().join(name), base, false);
        w.kernelspec(
            &kernels,
            name,
            &format!(
                r#"{{"argv": ["{}", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "{name}", "language": "python"}}"#,
                v.python.display()
            ),
        );
        prefixes.push(v.prefix);
    }
    let out = w.kip(&["install", "six", "--dry-run"]);
    assert_eq!(out.status, 2, "{}", out.show());
    assert!(
        out.stderr.contains("choose one of")
            && out.stderr.contains("--kernel ka")
            && out.stderr.contains("--kernel kb"),
        "{}",
        out.stderr
    );

    // On a terminal (stdin and stderr a pty, stdout a pipe for the JSON): Enter takes the
    // default, the kernel of the active env (VIRTUAL_ENV = kb's).
    w.set_var("VIRTUAL_ENV", prefixes[1].to_str().unwrap());
    let driver = r#"
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=slave, stderr=slave, stdout=subprocess.PIPE)
os.close(slave)
seen = b""
while b"Install into which kernel" not in seen:
    chunk = os.read(master, 4096)
    if not chunk:
        sys.exit("kip ended before the picker: %r" % seen)
    seen += chunk
os.write(master, b"\r")
out = p.stdout.read()
try:
    while os.read(master, 4096):
        pass
except OSError:
    pass
sys.stdout.buffer.write(out)
sys.exit(p.wait())
"#;
    let kip = env!("CARGO_BIN_EXE_kip");
    let out = w.run(
        base,
        &["-c", driver, kip, "install", "six", "--dry-run", "--json"],
    );
    out.ok();
    let v = out.json();
    assert_eq!(v["target"]["kernel"], "kb", "{v}");
    assert_eq!(v["target"]["prefix"], prefixes[1].to_str().unwrap());
}

/// Site-packages this user cannot write: refused with the way out (never sudo), nothing run.
/// kip runs as nobody on a root-owned venv built on /usr/bin/python3.
#[test]
fn unwritable_site_packages_is_refused_without_running_an_installer() {
    let w = World::new_shared();
    let venv = w.stdlib_venv(
        &w.root().join("rovenv"),
        Path::new("/usr/bin/python3"),
        false,
    );
    let args = [
        "install",
        "six",
        "--python",
        venv.python.to_str().unwrap(),
        "--installer",
        "pip",
    ];
    let out = w.kip_as_nobody(&args);
    assert_eq!(out.status, 1, "{}", out.show());
    assert!(
        out.stderr.contains("is not writable by this user")
            && out.stderr.contains("site-packages")
            && out.stderr.contains("Never use sudo")
            && out.stderr.contains("kip kernel add"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("running:"), "{}", out.stderr);
    // As the owner the same command is planned normally.
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    w.kip(&dry).ok();
    // Nor can nobody uninstall from it.
    w.uv_install(&venv.python, &["six"]).unwrap();
    let out = w.kip_as_nobody(&[
        "uninstall",
        "six",
        "--python",
        venv.python.to_str().unwrap(),
    ]);
    assert_eq!(out.status, 1, "{}", out.show());
    assert!(
        out.stderr.contains("is not writable by this user"),
        "{}",
        out.stderr
    );
    assert!(venv.site_packages().join("six.py").exists());
}

/// An import that never finishes: the proof gives up after KIP_IMPORT_TIMEOUT_MS, kills the
/// interpreter's whole group, and the install ends with 1 and says why.
#[test]
fn a_hanging_import_is_killed_after_the_proof_timeout() {
    let w = World::new();
    uv_on_path(&w);
    let pids = w.root().join("pids");
    let source = format!(
        "import os, subprocess, sys, time\nchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\nopen({:?}, 'w').write('%d %d' % (os.getpid(), child.pid))\ntime.sleep(600)\n",
        pids.to_str().unwrap()
    );
    let wheel = w.wheel("hangs", "1.0", &[("hangs", &source)]);
    local_index(&w, wheel.parent().unwrap());
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    w.set_var("KIP_IMPORT_TIMEOUT_MS", "3000");
    let out = w.kip(&[
        "install",
        "hangs",
        "--python",
        venv.python.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status, 1, "{}", out.show());
    let v = out.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["proof"][0]["module"], "hangs", "{v}");
    assert_eq!(v["proof"][0]["ok"], false);
    let error = v["proof"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("3000 ms") && error.contains("KIP_IMPORT_TIMEOUT_MS"),
        "{v}"
    );
    // Nothing of the proof is left running: not the interpreter, not its child.
    let text = std::fs::read_to_string(&pids).unwrap();
    for pid in text.split_whitespace() {
        let pid: u32 = pid.parse().unwrap();
        assert!(
            support::wait_for_exit(pid, std::time::Duration::from_secs(10)),
            "pid {pid} is still running"
        );
    }
}

/// A loopback "proxy" that accepts and records every connection (and answers none): set as
/// HTTP(S)_PROXY, it shows whether an installer went for the network.
struct ProxyWatch {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn watch_proxy() -> ProxyWatch {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    // Lives until the test process ends, blocked in accept.
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            let mut head = [0u8; 120];
            let n = c.read(&mut head).unwrap_or(0);
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head[..n]).into_owned());
        }
    });
    ProxyWatch { url, seen }
}

impl ProxyWatch {
    fn connections(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Route every HTTP(S) request of the world's processes through this proxy, except to
    /// loopback (the test's own indexes).
    fn install(&self, w: &World) {
        for k in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "http_proxy",
            "https_proxy",
            "ALL_PROXY",
        ] {
            w.set_var(k, &self.url);
        }
        w.set_var("NO_PROXY", "127.0.0.1,localhost");
        w.set_var("no_proxy", "127.0.0.1,localhost");
    }
}

/// Issue 9: uv 0.13.9 has no `UV_NO_INDEX`. With it and `PIP_NO_INDEX=1` set, kip passes
/// `--no-index` (pip's setting, translated), says no index and that uv ignores the variable,
/// and the install comes from the local find-links without a single connection to the proxy.
/// Then every variable kip claims uv reads is set for the real uv, and its effect shown.
#[test]
fn kip_claims_only_the_uv_variables_uv_reads() {
    let w = World::new();
    uv_on_path(&w);
    let proxy = watch_proxy();
    proxy.install(&w);
    let demo = w.wheel("demo9", "1.0", &[("demo9", "X = 9\n")]);
    let wheels = demo.parent().unwrap().to_path_buf();
    let wheels_s = wheels.to_str().unwrap().to_string();
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let p = venv.python.to_str().unwrap().to_string();
    let install = |w: &World, pkg: &str| w.kip(&["install", pkg, "--python", &p, "--json"]);
    let uninstall = |w: &World, pkg: &str| {
        w.kip(&["uninstall", pkg, "--python", &p]).ok();
    };
    // A cache never answers for the network here.
    w.set_var("UV_NO_CACHE", "1");

    // The reported failure.
    local_index(&w, &wheels);
    w.set_var("UV_NO_INDEX", "1");
    let out = install(&w, "demo9");
    out.ok();
    let v = out.json();
    assert_eq!(
        v["index"],
        format!(
            "no index (PIP_NO_INDEX); find-links: {wheels_s} (PIP_FIND_LINKS); UV_NO_INDEX is set, but uv 0.13.9 does not read it"
        ),
        "{}",
        out.show()
    );
    assert!(
        v["commands"][0].as_str().unwrap().contains("--no-index"),
        "{v}"
    );
    assert_eq!(proxy.connections(), Vec::<String>::new());
    uninstall(&w, "demo9");
    // What kip's claim rests on: the real uv, given only UV_NO_INDEX, goes for PyPI.
    let mut uv = w.command(&toolbox().uv);
    uv.args([
        "pip",
        "install",
        "--python",
        &p,
        "demo9",
        "--find-links",
        &wheels_s,
    ]);
    let direct = support::run_command(uv, support::default_timeout());
    assert!(
        proxy.connections().iter().any(|c| c.contains("pypi.org")),
        "uv with UV_NO_INDEX=1 did not go for PyPI: {:?}\n{}",
        proxy.connections(),
        direct.show()
    );
    proxy.seen.lock().unwrap().clear();
    w.remove_var("UV_NO_INDEX");

    // UV_FIND_LINKS: read by uv (kip passes no --find-links), the only source there is.
    w.remove_var("PIP_FIND_LINKS");
    w.set_var("UV_FIND_LINKS", &wheels_s);
    let out = install(&w, "demo9");
    out.ok();
    let v = out.json();
    assert!(
        v["index"].as_str().unwrap().contains(&format!(
            "find-links: {wheels_s} (UV_FIND_LINKS, read by uv)"
        )),
        "{v}"
    );
    assert!(
        !v["commands"][0].as_str().unwrap().contains("--find-links"),
        "{v}"
    );
    uninstall(&w, "demo9");
    w.remove_var("UV_FIND_LINKS");
    w.remove_var("PIP_NO_INDEX");

    // The index variables: a loopback index that alone has the package; kip passes no index
    // flag, the real uv installs from it.
    let only_here = w.wheel("demo10", "1.0", &[("demo10", "Y = 10\n")]);
    let index = serve_index_at(&w, "uvindex", &[only_here]);
    for var in [
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_INDEX",
        "UV_EXTRA_INDEX_URL",
    ] {
        w.set_var(var, &index.url);
        // UV_INDEX and UV_EXTRA_INDEX_URL add to PyPI, which is not to be asked.
        if matches!(var, "UV_INDEX" | "UV_EXTRA_INDEX_URL") {
            w.set_var("UV_DEFAULT_INDEX", &index.url);
        }
        let out = install(&w, "demo10");
        out.ok();
        let v = out.json();
        assert!(
            v["index"]
                .as_str()
                .unwrap()
                .contains(&format!("({var}, read by uv)"))
                || v["index"]
                    .as_str()
                    .unwrap()
                    .contains("(UV_DEFAULT_INDEX, read by uv)"),
            "{var}: {v}"
        );
        let cmd = v["commands"][0].as_str().unwrap();
        assert!(
            !cmd.contains("--index-url") && !cmd.contains("--no-index"),
            "{var}: {cmd}"
        );
        w.run(&venv.python, &["-c", "import demo10"]).ok();
        uninstall(&w, "demo10");
        w.remove_var(var);
        w.remove_var("UV_DEFAULT_INDEX");
    }

    // UV_INDEX_STRATEGY and UV_INSECURE_HOST: the real uv rejects a bad value, so it reads them.
    for (var, bad, flag) in [
        ("UV_INDEX_STRATEGY", "no-such-strategy", "--index-strategy"),
        ("UV_INSECURE_HOST", "::not a host", "--allow-insecure-host"),
    ] {
        local_index(&w, &wheels);
        w.set_var(var, bad);
        let out = install(&w, "demo9");
        assert_eq!(out.status, 1, "{var}: {}", out.show());
        assert!(
            out.stderr.contains(bad) && out.stderr.contains(flag),
            "{var}: {}",
            out.stderr
        );
        w.remove_var(var);
    }
    assert_eq!(proxy.connections(), Vec::<String>::new());
}
