//! `kip which`: pyenv shims explained from their files, merged-/usr copies deduplicated, and a
//! pip whose interpreter differs from python's flagged.

mod support;

use support::{toolbox, World};

fn pyenv_world() -> World {
    let w = World::new();
    w.pyenv_root(&["3.11.7", "3.12.1"]);
    let shims = w.root().join("pyenv/shims");
    w.set_var("PATH", &format!("{}:/usr/bin:/bin", shims.display()));
    w
}

fn first_match(w: &World, cmd: &str) -> serde_json::Value {
    let out = w.kip(&["which", cmd, "--json"]);
    out.ok();
    out.json()["commands"][0]["matches"][0].clone()
}

#[test]
fn pyenv_global_version_file() {
    let w = pyenv_world();
    w.pyenv_global("3.12.1");
    let m = first_match(&w, "python3");
    assert_eq!(m["kind"], "pyenv-shim");
    assert_eq!(m["pyenv"]["chosen"], "3.12.1");
    assert!(m["pyenv"]["why"]
        .as_str()
        .unwrap()
        .contains("pyenv/version"));
    assert!(m["interpreter"]
        .as_str()
        .unwrap()
        .ends_with("versions/3.12.1/bin/python3"));
}

#[test]
fn pyenv_local_file_env_var_system_and_prefix() {
    let w = pyenv_world();
    w.pyenv_global("3.12.1");
    std::fs::write(w.cwd().join(".python-version"), "3.11\n").unwrap();
    let m = first_match(&w, "python3");
    assert_eq!(
        m["pyenv"]["chosen"], "3.11.7",
        "a 3.11 prefix resolves to the newest 3.11.x"
    );
    assert!(m["pyenv"]["why"]
        .as_str()
        .unwrap()
        .contains(".python-version"));
    w.set_var("PYENV_VERSION", "3.12.1");
    assert_eq!(first_match(&w, "python3")["pyenv"]["chosen"], "3.12.1");
    w.set_var("PYENV_VERSION", "system");
    let m = first_match(&w, "python3");
    assert_eq!(m["pyenv"]["chosen"], "system");
    assert_eq!(m["interpreter"], "/usr/bin/python3");
    assert_eq!(m["environment"]["prefix"], "/usr");
}

#[test]
fn merged_usr_copies_are_one_match() {
    let w = World::new();
    w.set_var("PATH", "/usr/bin:/bin");
    let out = w.kip(&["which", "python3", "--json"]);
    out.ok();
    let v = out.json();
    let matches = v["commands"][0]["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{matches:?}");
    assert_eq!(matches[0]["path"], "/usr/bin/python3");
    assert!(matches[0]["also_at"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "/bin/python3"));
    // The real machine's layout, as a demo: the human output lists each command.
    let human = w.kip(&["which"]);
    human.ok();
    assert!(human.stdout.contains("python3"));
}

#[test]
fn pip_of_another_python_is_flagged() {
    let w = World::new();
    let a = w.uv_venv(&w.root().join("A"), &toolbox().base_python, false);
    let b = w.uv_venv(&w.root().join("B"), &toolbox().base_python, true);
    // python (and python3) come from A; pip from B, whose shebang names B's python.
    w.set_var(
        "PATH",
        &format!(
            "{}:{}:/usr/bin:/bin",
            a.prefix.join("bin").display(),
            b.prefix.join("bin").display()
        ),
    );
    assert!(
        !a.prefix.join("bin/pip").exists(),
        "A has no pip of its own"
    );
    let out = w.kip(&["which", "python", "pip", "--json"]);
    out.ok();
    let v = out.json();
    let mm = &v["mismatches"][0];
    assert_eq!(mm["command"], "pip");
    assert!(
        mm["interpreter"]
            .as_str()
            .unwrap()
            .starts_with(b.prefix.to_str().unwrap()),
        "{mm}"
    );
    assert!(
        mm["python_interpreter"]
            .as_str()
            .unwrap()
            .starts_with(a.prefix.to_str().unwrap()),
        "{mm}"
    );
    let human = w.kip(&["which", "python", "pip"]);
    assert!(human.stdout.contains("mismatch"), "{}", human.stdout);
}
