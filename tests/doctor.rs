//! `kip doctor`: findings from real worlds, a healthy world that is clean, notebooks, `why`.

mod support;

use std::path::Path;

use support::{toolbox, World};

fn setup() -> World {
    World::with_tools()
}

fn doctor(w: &World, args: &[&str]) -> (i32, serde_json::Value) {
    let mut full = vec!["doctor", "--json"];
    full.extend_from_slice(args);
    let out = w.kip(&full);
    (out.status, out.json())
}

fn find<'a>(v: &'a serde_json::Value, id: &str, subject: &str) -> Option<&'a serde_json::Value> {
    v["findings"].as_array().unwrap().iter().find(|f| {
        f["id"] == id
            && (f["subject"].as_str().unwrap().contains(subject)
                || f["subjects"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(subject))))
    })
}

fn kernels_dir(w: &World) -> std::path::PathBuf {
    w.root().join("xdg/data/jupyter/kernels")
}

/// A healthy world: one env registered by kip, activated; python/pip on PATH agree.
fn healthy(w: &World) -> support::Venv {
    let v = w.uv_venv(&w.root().join("good"), &toolbox().base_python, true);
    w.kip(&[
        "kernel",
        "add",
        v.prefix.to_str().unwrap(),
        "--name",
        "good",
    ])
    .ok();
    w.prepend_path(&v.prefix.join("bin"));
    v
}

#[test]
fn healthy_world_is_clean() {
    let w = setup();
    healthy(&w);
    let (code, v) = doctor(&w, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["error"], 0, "{v}");
    for id in [
        "kernel-shell-mismatch",
        "kernel-relative-python",
        "kernel-ipykernel-missing",
        "shell-pip-python-mismatch",
        "env-no-pip",
    ] {
        assert!(
            !v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == id && f["subject"] == "good"),
            "{id}: {v}"
        );
    }
    assert!(v["checked"]["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k == "good"));
    // Nothing at all about the healthy kernel or its environment, for any id of the catalog.
    let good_prefix = w.root().join("good").display().to_string();
    let about_good: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"] == "good" || f["subject"] == good_prefix.as_str())
        .collect();
    assert!(about_good.is_empty(), "{about_good:?}");
    // The same world with the kernel's env checked explicitly as the target.
    let (code, v) = doctor(&w, &["--kernel", "good"]);
    assert_eq!(code, 0, "{v}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "info"),
        "{v}"
    );
    let human = w.kip(&["doctor"]);
    assert_eq!(human.status, 0);
    assert!(human.stdout.contains("0 error(s)"), "{}", human.stdout);
}

#[test]
fn kernel_findings_with_fixes_that_work() {
    let w = setup();
    let k = kernels_dir(&w);
    let other = w.uv_venv(&w.root().join("other"), &toolbox().base_python, true);
    w.prepend_path(&other.prefix.join("bin"));
    let a = w.uv_venv(&w.root().join("A"), &toolbox().base_python, false);
    w.uv_install(&a.python, &["ipykernel==7.4.0"]).unwrap();
    w.kernelspec(&k, "broken", "{not json");
    w.kernelspec(
        &k,
        "dead",
        r#"{"argv": ["/nonexistent/bin/python", "-m", "ipykernel_launcher"], "display_name": "D"}"#,
    );
    let noipk = w.uv_venv(&w.root().join("noipk"), &toolbox().base_python, true);
    w.kernelspec(&k, "noipk", &serde_json::json!({"argv": [noipk.python.to_str().unwrap(), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "N"}).to_string());
    w.kernelspec(&k, "pp", &serde_json::json!({"argv": [a.python.to_str().unwrap(), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "env": {"PYTHONPATH": "/somewhere", "PATH": format!("{}:${{PATH}}", a.prefix.join("bin").display()), "VIRTUAL_ENV": a.prefix.to_str().unwrap()}, "display_name": "P"}).to_string());
    w.kernelspec(&k, "wrapped", r#"{"argv": ["uv", "run", "--with", "ipykernel", "python", "-m", "ipykernel_launcher"], "display_name": "W"}"#);
    w.kernelspec(&k, "mismatch", &serde_json::json!({"argv": [a.python.to_str().unwrap(), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "M"}).to_string());
    // Shadowing: the same name in JUPYTER_PATH hides the user one.
    let jp = w.root().join("jp");
    w.kernelspec(
        &jp.join("kernels"),
        "mismatch",
        r#"{"argv": ["/bin/true"], "display_name": "winner"}"#,
    );
    w.set_var("JUPYTER_PATH", jp.to_str().unwrap());
    let (code, v) = doctor(&w, &[]);
    assert_eq!(code, 1, "errors exit 1");
    let expect = [
        ("kernel-spec-invalid", "broken", "error", false),
        ("kernel-interpreter-missing", "dead", "error", true),
        ("kernel-ipykernel-missing", "noipk", "error", true),
        ("kernel-env-pythonpath", "pp", "warning", false),
        ("kernel-wrapper-unresolved", "wrapped", "info", false),
        ("kernel-shadowed", "mismatch", "warning", false),
    ];
    for (id, subject, sev, auto) in expect {
        let f = find(&v, id, subject).unwrap_or_else(|| panic!("{id} for {subject} not in {v}"));
        assert_eq!(f["severity"], sev, "{f}");
        assert_eq!(f["fix"]["automatic"], auto, "{f}");
        assert!(!f["fix"]["text"].as_str().unwrap().is_empty());
        assert!(!f["explanation"].as_str().unwrap().is_empty());
    }
    let f = find(&v, "kernel-ipykernel-missing", "noipk").unwrap();
    assert_eq!(f["fix"]["text"], "kip install ipykernel --kernel noipk");
    // Run the fix commands: the findings are gone afterwards.
    w.kip(&["install", "ipykernel", "--kernel", "noipk"]).ok();
    w.kip(&["kernel", "remove", "dead", "--yes"]).ok();
    let (_, v) = doctor(&w, &[]);
    assert!(find(&v, "kernel-ipykernel-missing", "noipk").is_none());
    assert!(find(&v, "kernel-interpreter-missing", "dead").is_none());
    // --fix applies the automatic ones and re-checks (every kernel: so a Jupyter of its own).
    w.remove_var("JUPYTER_PATH");
    w.use_own_jupyter();
    w.kernelspec(&k, "mismatch", &serde_json::json!({"argv": [a.python.to_str().unwrap(), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "M"}).to_string());
    let (_, v) = doctor(&w, &[]);
    let f = find(&v, "kernel-shell-mismatch", "mismatch").expect("shell mismatch");
    assert_eq!(f["fix"]["automatic"], true);
    let out = w.kip(&["doctor", "--fix", "--json"]);
    let after = out.json();
    assert!(
        find(&after, "kernel-shell-mismatch", "mismatch").is_none(),
        "{after}"
    );
}

#[test]
fn environment_and_shell_findings() {
    let w = setup();
    let base = toolbox().base_python.clone();
    // A venv whose base interpreter is gone.
    let fake_home = w.root().join("fakebase/bin");
    std::fs::create_dir_all(&fake_home).unwrap();
    let broken = w.uv_venv(&w.root().join("orphan"), &base, false);
    let cfg = broken.prefix.join("pyvenv.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let home_line = text
        .lines()
        .find(|l| l.starts_with("home"))
        .unwrap()
        .to_string();
    std::fs::write(
        &cfg,
        text.replace(
            &home_line,
            &format!("home = {}", w.root().join("gone/bin").display()),
        ),
    )
    .unwrap();
    // A pip script whose shebang names a missing Python.
    let b = w.uv_venv(&w.root().join("B"), &base, true);
    let pip = b.prefix.join("bin/pip");
    let body = std::fs::read_to_string(&pip).unwrap();
    let first = body.lines().next().unwrap().to_string();
    std::fs::write(&pip, body.replacen(&first, "#!/moved/away/bin/python", 1)).unwrap();
    // python from C, pip from D: shell-pip-python-mismatch.
    let c = w.uv_venv(&w.root().join("C"), &base, false);
    let d = w.uv_venv(&w.root().join("D"), &base, true);
    w.set_var(
        "PATH",
        &format!(
            "{}:{}:{}:/usr/bin:/bin",
            w.bin().display(),
            c.prefix.join("bin").display(),
            d.prefix.join("bin").display()
        ),
    );
    let (_, v) = doctor(&w, &["--prefix", broken.prefix.to_str().unwrap()]);
    let f = find(&v, "env-venv-base-missing", "orphan").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["severity"], "error");
    assert!(find(&v, "env-no-pip", "orphan").is_some());
    let (_, v) = doctor(&w, &["--prefix", b.prefix.to_str().unwrap()]);
    let f = find(&v, "env-broken-script", "/B").unwrap_or_else(|| panic!("{v}"));
    assert!(f["message"].as_str().unwrap().contains("/moved/away"));
    let (_, v) = doctor(&w, &[]);
    let f = find(&v, "shell-pip-python-mismatch", "pip").unwrap_or_else(|| panic!("{v}"));
    assert!(f["fix"]["text"]
        .as_str()
        .unwrap()
        .contains("-m pip install"));
    // Debian's python3 (PEP 668) is reported as info with the venv way out.
    let (_, v) = doctor(&w, &["--python", "/usr/bin/python3"]);
    let f = find(&v, "env-externally-managed", "/usr").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["severity"], "info");
    assert!(f["fix"]["text"]
        .as_str()
        .unwrap()
        .contains("kip kernel add --venv"));
}

#[test]
fn user_site_shadowing() {
    let w = setup();
    let base = toolbox().base_python.clone();
    let ssp = w.root().join("ssp");
    w.run(
        &toolbox().uv,
        &[
            "venv",
            "--system-site-packages",
            "--python",
            base.to_str().unwrap(),
            ssp.to_str().unwrap(),
        ],
    )
    .ok();
    w.uv_install(&ssp.join("bin/python"), &["six"]).unwrap();
    // A real --user install of another six version, by the base Python's pip, into the world HOME.
    let sixes: Vec<_> = std::fs::read_dir(&toolbox().wheels)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("six-"))
        .collect();
    let ub = w.root().join("userbase");
    w.set_var("PYTHONUSERBASE", ub.to_str().unwrap());
    w.run(
        &base,
        &[
            "-m",
            "pip",
            "install",
            "--user",
            "--no-index",
            "--force-reinstall",
            sixes[0].to_str().unwrap(),
        ],
    )
    .ok();
    let (_, v) = doctor(&w, &["--prefix", ssp.to_str().unwrap()]);
    let f = find(&v, "env-user-site-shadowing", "ssp").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["severity"], "warning");
    assert!(f["message"].as_str().unwrap().contains("six"));
    w.set_var("PYTHONNOUSERSITE", "1");
    let (_, v) = doctor(&w, &["--prefix", ssp.to_str().unwrap()]);
    assert!(find(&v, "env-user-site-shadowing", "ssp").is_none());
}

#[test]
fn notebook_imports() {
    let w = setup();
    let v = w.uv_venv(&w.root().join("nbenv"), &toolbox().base_python, true);
    w.kip(&["kernel", "add", v.prefix.to_str().unwrap(), "--name", "nbk"])
        .ok();
    let localwheel = w.wheel("localonly", "1.0", &[("localonly", "")]);
    w.wheel("guardedpkg", "1.0", &[("guardedpkg", "")]);
    let nbdir = w.root().join("nb");
    std::fs::create_dir_all(&nbdir).unwrap();
    std::fs::write(nbdir.join("utils.py"), "").unwrap();
    std::fs::write(nbdir.join("json.py"), "").unwrap();
    let cell = |src: &str| serde_json::json!({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null, "source": src});
    let nb = serde_json::json!({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "nbk", "display_name": "NB", "language": "python"}},
        "cells": [
            cell("import yaml\nfrom bs4 import BeautifulSoup\nimport soupsieve\nimport localonly\nimport utils\nimport json"),
            cell("try:\n    import guardedpkg\nexcept ImportError:\n    guardedpkg = None"),
            cell("%%time\nimport os"),
            cell("%%bash\nimport bashonly"),
            {"cell_type": "markdown", "metadata": {}, "source": "import markdownonly"},
        ]
    });
    let nbpath = nbdir.join("nb.ipynb");
    std::fs::write(&nbpath, nb.to_string()).unwrap();
    let out = w.kip_in(&nbdir, &["doctor", "nb.ipynb", "--json"]);
    let r = out.json();
    let nbf: Vec<&serde_json::Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"].as_str().unwrap().starts_with("notebook-"))
        .collect();
    let get = |m: &str| nbf.iter().find(|f| f["module"] == m).copied();
    // python-dateutil cannot be missing from a working kernel (jupyter_client, which ipykernel
    // needs, depends on it); its mapping is unit-tested in install::names.
    for (m, dist) in [("yaml", "PyYAML"), ("bs4", "beautifulsoup4")] {
        let f = get(m).unwrap_or_else(|| panic!("{m}: {nbf:?}"));
        assert_eq!(f["id"], "notebook-import-missing");
        assert_eq!(f["severity"], "error");
        assert_eq!(f["distribution"], dist);
    }
    assert_eq!(get("soupsieve").unwrap()["severity"], "error");
    assert_eq!(get("localonly").unwrap()["severity"], "error");
    assert_eq!(get("guardedpkg").unwrap()["severity"], "warning");
    assert_eq!(get("json").unwrap()["id"], "notebook-local-shadowing");
    for absent in ["utils", "bashonly", "markdownonly", "os"] {
        assert!(get(absent).is_none(), "{absent}");
    }
    assert_eq!(nbf.len(), 6, "{nbf:?}");
    assert_eq!(out.status, 1);
    // Install every missing distribution kip can name in one go (the local wheels are on
    // find-links, yet an unknown module's name is never turned into an install: PRODUCT.md).
    let links = format!(
        "{} {}",
        toolbox().wheels.display(),
        localwheel.parent().unwrap().display()
    );
    w.set_var("PIP_FIND_LINKS", &links);
    let out = w.kip_in(&nbdir, &["install", "--notebook", "nb.ipynb", "--missing"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    for m in ["localonly", "guardedpkg", "soupsieve"] {
        assert!(
            out.stderr.contains(&format!("{m}: not installed")),
            "{m}: {}",
            out.stderr
        );
    }
    assert!(
        !out.stderr.contains("assuming the distribution"),
        "{}",
        out.stderr
    );
    // soupsieve comes with beautifulsoup4, as its dependency.
    let r = w.run_kernel(
        "nbk",
        "import yaml\nfrom bs4 import BeautifulSoup\nimport soupsieve\nprint('ok')",
    );
    assert_eq!(r.error, None);
    assert_eq!(r.stdout.trim(), "ok");
    let r = w.run_kernel("nbk", "import localonly");
    assert!(
        r.error.is_some(),
        "never installed under a guessed name: {r:?}"
    );
}

#[test]
fn why_finds_modules_elsewhere_and_shadowing() {
    let w = setup();
    let a = w.uv_venv(&w.root().join("hasit"), &toolbox().base_python, false);
    w.uv_install(&a.python, &["PyYAML"]).unwrap();
    let b = w.uv_venv(&w.root().join("lacks"), &toolbox().base_python, false);
    w.set_var("VIRTUAL_ENV", a.prefix.to_str().unwrap());
    let out = w.kip(&[
        "why",
        "yaml",
        "--python",
        b.python.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status, 1);
    let v = out.json();
    assert_eq!(v["importable"], false);
    assert!(
        v["elsewhere"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["prefix"] == a.prefix.to_str().unwrap() && e["distribution"] == "PyYAML"),
        "{v}"
    );
    assert_eq!(
        v["install"],
        format!("kip install PyYAML --python {}", b.python.display())
    );
    let out = w.kip(&[
        "why",
        "yaml",
        "--python",
        a.python.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status, 0);
    assert_eq!(out.json()["from"], "site-packages");
    // A module in no env here and not in kip's table gets no install: its name is not a
    // distribution kip knows.
    let out = w.kip(&[
        "why",
        "kip_unknown_mod_zz",
        "--python",
        b.python.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status, 1);
    let v = out.json();
    assert_eq!(v["provided_by"], serde_json::Value::Null, "{v}");
    assert_eq!(v["install"], serde_json::Value::Null, "{v}");
    // A local file wins over the installed module.
    std::fs::write(w.cwd().join("yaml.py"), "").unwrap();
    let v = w
        .kip(&[
            "why",
            "yaml",
            "--python",
            a.python.to_str().unwrap(),
            "--json",
        ])
        .json();
    assert_eq!(v["from"], "local-file");
    assert!(v["warning"].as_str().unwrap().contains("hides"));
}

#[test]
fn remaining_catalog_ids() {
    let w = setup();
    // shell-shim: `python` is a pyenv shim.
    let v311 = support::pyenv_version("3.11");
    w.pyenv_root(&[&v311]);
    w.pyenv_global(&v311);
    let shims = w.root().join("pyenv/shims");
    w.set_var(
        "PATH",
        &format!("{}:{}:/usr/bin:/bin", w.bin().display(), shims.display()),
    );
    let (_, v) = doctor(&w, &[]);
    let f = find(&v, "shell-shim", "python").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["severity"], "info");
    assert!(f["message"].as_str().unwrap().contains(&v311));
    // shell-jupyter-python-mismatch: the Jupyter (toolbox venv) differs from `python` (pyenv).
    let f = find(&v, "shell-jupyter-python-mismatch", "jupyter").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["severity"], "warning");
    // notebook-kernel-missing.
    let nb = w.cwd().join("orphan.ipynb");
    std::fs::write(&nb, r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "nowhere", "display_name": "X"}}, "cells": []}"#).unwrap();
    let (code, v) = doctor(&w, &["orphan.ipynb"]);
    assert_eq!(code, 1);
    let f = find(&v, "notebook-kernel-missing", "orphan.ipynb").unwrap_or_else(|| panic!("{v}"));
    assert!(f["fix"]["text"]
        .as_str()
        .unwrap()
        .contains("--name nowhere"));
    // A notebook that is not JSON is bad input: exit 2 naming the file.
    std::fs::write(&nb, "{oops").unwrap();
    let out = w.kip(&["doctor", "orphan.ipynb"]);
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("orphan.ipynb"), "{}", out.stderr);
}

#[test]
fn conda_pip_mixed() {
    let w = setup();
    let prefix = w.root().join("cm");
    w.conda_env(&prefix, &["python", "pip", "hello-fixture"]);
    // pip installs its own hello-fixture over the conda-owned one.
    let wheel = w.wheel("hello-fixture", "9.0", &[("hello_fixture", "")]);
    w.run(
        &prefix.join("bin/python"),
        &[
            "-m",
            "pip",
            "install",
            "--no-index",
            "--ignore-installed",
            wheel.to_str().unwrap(),
        ],
    )
    .ok();
    let (_, v) = doctor(&w, &["--prefix", prefix.to_str().unwrap()]);
    let f = find(&v, "env-conda-pip-mixed", "cm").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["severity"], "info");
    assert!(f["message"].as_str().unwrap().contains("hello"));
}

#[test]
fn site_not_writable_for_another_user() {
    let w = World::new_shared();
    let venv = w
        .stdlib_venv(
            &w.root().join("rovenv"),
            Path::new("/usr/bin/python3"),
            false,
        )
        .prefix;
    use std::os::unix::fs::PermissionsExt;
    for d in [w.root(), w.cwd(), w.home()] {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = w.kip_as_nobody(&["doctor", "--json", "--prefix", venv.to_str().unwrap()]);
    let v = out.json();
    let f = find(&v, "env-site-not-writable", "rovenv").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["severity"], "warning");
    // As the owner it is writable: no finding.
    let (_, v) = doctor(&w, &["--prefix", venv.to_str().unwrap()]);
    assert!(find(&v, "env-site-not-writable", "rovenv").is_none());
}
