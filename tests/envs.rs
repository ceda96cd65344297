//! `kip envs`: classification from disk matches what each interpreter reports itself; probes
//! only when needed, cached; a hanging interpreter never stalls the listing.

mod support;

use std::path::Path;

use support::{pyenv_python, toolbox, World};

fn self_report(w: &World, python: &Path) -> serde_json::Value {
    let out = w.run(python, &["-c", "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix, list(sys.version_info[:3])]))"]);
    out.ok();
    serde_json::from_str(out.stdout.trim()).unwrap()
}

fn env_for<'a>(v: &'a serde_json::Value, prefix: &Path) -> &'a serde_json::Value {
    v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["prefix"] == prefix.to_str().unwrap())
        .unwrap_or_else(|| panic!("no env {} in {v}", prefix.display()))
}

#[test]
fn classifies_every_kind_like_the_interpreter_itself() {
    let w = World::new();
    let base = toolbox().base_python.clone();
    let venv = w.stdlib_venv(&w.root().join("stdvenv"), &base, true);
    let uvv = w.uv_venv(&w.root().join("uvvenv"), &base, false);
    w.uv_install(&uvv.python, &["ipykernel==7.4.0"]).unwrap();
    let ve = w.virtualenv(&w.root().join("venvold"), &base);
    let conda = w.root().join("conda/envs/cf");
    w.conda_env(&conda, &["python", "pip"]);
    std::fs::create_dir_all(w.home().join(".conda")).unwrap();
    std::fs::write(
        w.home().join(".conda/environments.txt"),
        format!("{}\n", conda.display()),
    )
    .unwrap();
    w.pyenv_root(&["3.11.7", "3.12.1"]);
    // Every venv is found through PATH or VIRTUAL_ENV; Debian's python3 is on PATH already.
    w.prepend_path(&venv.prefix.join("bin"));
    w.set_var("VIRTUAL_ENV", uvv.prefix.to_str().unwrap());
    w.set_var(
        "PATH",
        &format!(
            "{}:{}",
            ve.prefix.join("bin").display(),
            w.var("PATH").unwrap()
        ),
    );
    let out = w.kip(&["envs", "--json"]);
    out.ok();
    let v = out.json();

    let cases: Vec<(&Path, &str, bool, bool)> = vec![
        (&venv.prefix, "venv", true, false),
        (&uvv.prefix, "uv-venv", false, true),
        (&ve.prefix, "virtualenv", true, false),
        (&conda, "conda", true, false),
    ];
    for (prefix, kind, pip, ipykernel) in cases {
        let e = env_for(&v, prefix);
        assert_eq!(e["kind"], kind, "{e}");
        assert_eq!(e["has_pip"], pip, "{e}");
        assert_eq!(e["has_ipykernel"], ipykernel, "{e}");
        assert_eq!(e["externally_managed"], serde_json::Value::Null);
        let me = self_report(&w, Path::new(e["interpreter"].as_str().unwrap()));
        assert_eq!(me[0], e["prefix"], "sys.prefix");
        let ver = format!("{}.{}.{}", me[2][0], me[2][1], me[2][2]);
        assert_eq!(e["version"], ver);
    }
    for pv in ["3.11.7", "3.12.1"] {
        let prefix = w.root().join("pyenv/versions").join(pv);
        let e = env_for(&v, &prefix);
        assert_eq!(e["kind"], "pyenv");
        assert_eq!(e["version"], pv);
    }
    let deb = env_for(&v, Path::new("/usr"));
    assert_eq!(deb["kind"], "system");
    assert!(deb["externally_managed"]
        .as_str()
        .unwrap()
        .ends_with("EXTERNALLY-MANAGED"));
    let me = self_report(&w, Path::new("/usr/bin/python3"));
    assert_eq!(
        deb["version"],
        format!("{}.{}.{}", me[2][0], me[2][1], me[2][2])
    );
    let _ = pyenv_python("3.11");
}

/// A wrapper "python" disk cannot classify: kip must probe it, and count runs.
fn counting_python(w: &World) -> std::path::PathBuf {
    let dir = w.root().join("wrap");
    std::fs::create_dir_all(&dir).unwrap();
    let count = w.root().join("count");
    let p = dir.join("python3");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\necho x >> {}\nexec {} \"$@\"\n",
            count.display(),
            toolbox().base_python.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    w.prepend_path(&dir);
    dir
}

fn runs(w: &World) -> usize {
    std::fs::read_to_string(w.root().join("count"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn second_run_probes_nothing_and_changes_reprobe() {
    let w = World::new();
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    // A venv whose version disk cannot tell (no version key, no lib dir): kip must probe it.
    let cfg = venv.prefix.join("pyvenv.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let stripped: String = text
        .lines()
        .filter(|l| !l.starts_with("version"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&cfg, &stripped).unwrap();
    let lib = venv.prefix.join("lib");
    for e in std::fs::read_dir(&lib).unwrap() {
        let p = e.unwrap().path();
        std::fs::rename(&p, lib.join("hidden")).unwrap();
    }
    w.set_var("VIRTUAL_ENV", venv.prefix.to_str().unwrap());
    counting_python(&w);
    let first = w.kip(&["envs", "--json"]);
    first.ok();
    assert_eq!(runs(&w), 1, "the wrapper is probed once");
    let again = w.kip(&["envs", "--json"]);
    again.ok();
    assert_eq!(
        runs(&w),
        1,
        "wrapper scripts are re-probed? {}",
        again.stderr
    );
    let with_debug = {
        w.set_var("KIP_DEBUG", "1");
        let o = w.kip(&["envs", "--json"]);
        w.remove_var("KIP_DEBUG");
        o
    };
    let probed: Vec<&str> = with_debug
        .stderr
        .lines()
        .filter(|l| l.contains("probing"))
        .collect();
    assert!(
        probed.iter().all(|l| !l.contains("/v/bin")),
        "venv re-probed with nothing changed: {probed:?}"
    );
    // Touching pyvenv.cfg or changing PYTHONUSERBASE makes it probe again.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&cfg, format!("{stripped}# touched\n")).unwrap();
    w.set_var("KIP_DEBUG", "1");
    let o = w.kip(&["envs", "--json"]);
    assert!(
        o.stderr
            .lines()
            .any(|l| l.contains("probing") && l.contains("/v/bin")),
        "{}",
        o.stderr
    );
    let o = w.kip(&["envs", "--json"]);
    assert!(
        !o.stderr
            .lines()
            .any(|l| l.contains("probing") && l.contains("/v/bin")),
        "{}",
        o.stderr
    );
    w.set_var("PYTHONUSERBASE", w.root().join("ub").to_str().unwrap());
    let o = w.kip(&["envs", "--json"]);
    assert!(
        o.stderr
            .lines()
            .any(|l| l.contains("probing") && l.contains("/v/bin")),
        "{}",
        o.stderr
    );
}

#[test]
fn hanging_interpreter_is_killed_and_the_rest_listed() {
    let w = World::new();
    let dir = w.root().join("hang");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("python3");
    std::fs::write(&p, "#!/bin/sh\nsleep 600\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    w.prepend_path(&dir);
    w.set_var("KIP_PROBE_TIMEOUT_MS", "500");
    let t0 = std::time::Instant::now();
    let out = w.kip(&["envs", "--json"]);
    let took = t0.elapsed();
    out.ok();
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    let v = out.json();
    let err = &v["errors"][0];
    assert_eq!(err["interpreter"], p.to_str().unwrap());
    assert!(err["error"].as_str().unwrap().contains("500 ms"));
    assert!(v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["prefix"] == "/usr"));
}
