//! `kip which`: pyenv shims explained from their files (and checked against what the real
//! shim runs), Debian's merged-/usr copies deduplicated, a pip whose shebang names another
//! Python than `python` flagged, Jupyter's server commands found as jupyter_core finds them.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{pyenv_version, toolbox, World};

/// The newest installed pyenv 3.11.x and 3.12.x (whatever patch levels this machine has).
fn v311() -> String {
    pyenv_version("3.11")
}
fn v312() -> String {
    pyenv_version("3.12")
}

/// A temp pyenv root (the newest 3.11.x and 3.12.x, linked to the real installs) whose shims
/// come first, then the real /usr/bin and /bin.
fn pyenv_world() -> (World, PathBuf) {
    let w = World::new();
    let root = w.pyenv_root(&[v311().as_str(), v312().as_str()]);
    w.set_var(
        "PATH",
        &format!("{}:/usr/bin:/bin", root.join("shims").display()),
    );
    (w, root)
}

fn which_json(w: &World, args: &[&str]) -> Value {
    let mut full = vec!["which"];
    full.extend_from_slice(args);
    full.push("--json");
    let out = w.kip(&full);
    out.ok();
    out.json()
}

fn first_match(w: &World, cmd: &str) -> Value {
    which_json(w, &[cmd])["commands"][0]["matches"][0].clone()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// What the real shim runs in this world: ground truth for kip's static answer.
fn shim_runs(w: &World, shim: &Path) -> String {
    let out = w.run(shim, &["-c", "import sys; print(sys.executable)"]);
    out.ok();
    out.stdout.trim().to_string()
}

#[test]
fn pyenv_global_version_file() {
    let (w, root) = pyenv_world();
    w.pyenv_global(v312().as_str());
    let m = first_match(&w, "python3");
    assert_eq!(m["kind"], "pyenv-shim");
    assert_eq!(m["pyenv"]["origin"]["kind"], "global");
    assert_eq!(
        m["pyenv"]["origin"]["path"],
        root.join("version").to_str().unwrap()
    );
    assert_eq!(m["pyenv"]["chosen"], v312().as_str());
    assert!(s(&m["pyenv"]["why"]).contains("pyenv/version"), "{m}");
    let want = root.join(format!("versions/{}/bin/python3", v312()));
    assert_eq!(s(&m["interpreter"]), want.to_str().unwrap());
    assert_eq!(m["environment"]["kind"], "pyenv");
    // The interpreter's own version (a pyenv directory may be a renamed copy).
    let own = w.run(
        Path::new(s(&m["interpreter"])),
        &["-c", "import platform; print(platform.python_version())"],
    );
    assert_eq!(s(&m["environment"]["version"]), own.stdout.trim());
    assert_eq!(
        shim_runs(&w, &root.join("shims/python3")),
        s(&m["interpreter"])
    );
}

#[test]
fn local_file_with_a_prefix_then_pyenv_version_then_system() {
    let (w, root) = pyenv_world();
    let shim = root.join("shims/python3");
    w.pyenv_global(v312().as_str());
    // `.python-version` in the cwd with a prefix: the newest installed 3.11.x.
    let local = w.cwd().join(".python-version");
    std::fs::write(&local, "3.11\n").unwrap();
    let m = first_match(&w, "python3");
    assert_eq!(m["pyenv"]["origin"]["kind"], "file");
    assert_eq!(s(&m["pyenv"]["origin"]["path"]), local.to_str().unwrap());
    assert_eq!(m["pyenv"]["requested"][0], "3.11");
    assert_eq!(m["pyenv"]["chosen"], v311().as_str());
    assert!(s(&m["pyenv"]["why"]).contains(".python-version"), "{m}");
    assert_eq!(shim_runs(&w, &shim), s(&m["interpreter"]));

    // PYENV_VERSION beats the file.
    w.set_var("PYENV_VERSION", v312().as_str());
    let m = first_match(&w, "python3");
    assert_eq!(m["pyenv"]["origin"]["kind"], "env");
    assert_eq!(m["pyenv"]["origin"]["value"], v312().as_str());
    assert_eq!(m["pyenv"]["chosen"], v312().as_str());
    assert_eq!(shim_runs(&w, &shim), s(&m["interpreter"]));

    // `system`: the next python3 on PATH after the shims, Debian's.
    w.set_var("PYENV_VERSION", "system");
    let m = first_match(&w, "python3");
    assert_eq!(m["pyenv"]["chosen"], "system");
    assert_eq!(m["interpreter"], "/usr/bin/python3");
    assert_eq!(m["environment"]["prefix"], "/usr");
    assert_eq!(m["environment"]["kind"], "system");
    assert_eq!(shim_runs(&w, &shim), "/usr/bin/python3");

    // Multi-version: the first installed one that has the program; a missing one is named.
    w.set_var("PYENV_VERSION", &format!("3.9.99:{}", v311()));
    let m = first_match(&w, "python3");
    assert_eq!(m["pyenv"]["chosen"], v311().as_str());
    assert_eq!(m["pyenv"]["not_installed"][0], "3.9.99");
    assert_eq!(shim_runs(&w, &shim), s(&m["interpreter"]));

    // Not installed at all: pyenv-which falls back to the system command.
    w.set_var("PYENV_VERSION", "3.9.99");
    let m = first_match(&w, "python3");
    assert_eq!(m["pyenv"]["chosen"], "system");
    assert!(s(&m["pyenv"]["why"]).contains("not installed"), "{m}");
    assert_eq!(shim_runs(&w, &shim), s(&m["interpreter"]));
}

#[test]
fn merged_usr_copies_are_one_match_and_pip_follows_its_shim() {
    let (w, root) = pyenv_world();
    w.pyenv_global(v312().as_str());
    let v = which_json(&w, &["python3", "pip3"]);
    for (i, cmd) in ["python3", "pip3"].iter().enumerate() {
        let c = &v["commands"][i];
        assert_eq!(c["name"], *cmd);
        let matches = c["matches"].as_array().unwrap();
        // The shim, then Debian's copy once: /bin is /usr/bin under another name.
        assert_eq!(matches.len(), 2, "{cmd}: {matches:#?}");
        assert_eq!(matches[0]["kind"], "pyenv-shim");
        assert_eq!(s(&matches[1]["path"]), format!("/usr/bin/{cmd}"));
        assert_eq!(matches[1]["also_at"][0], format!("/bin/{cmd}"));
        assert_eq!(matches[1]["environment"]["prefix"], "/usr");
    }
    // /usr/bin/python3 → python3.11; /usr/bin/pip3 is a script run by /usr/bin/python3.
    let py = &v["commands"][0]["matches"][1];
    assert_eq!(py["symlink_chain"][0], "/usr/bin/python3.11");
    assert_eq!(py["kind"], "binary");
    let pip = &v["commands"][1]["matches"][1];
    assert_eq!(pip["kind"], "script");
    assert_eq!(pip["shebang"], "#!/usr/bin/python3");
    assert_eq!(pip["interpreter"], "/usr/bin/python3");
    // The pip3 shim resolves to the version's own pip3 script, and that to its python.
    let shim = &v["commands"][1]["matches"][0];
    assert_eq!(
        s(&shim["pyenv"]["executable"]),
        root.join(format!("versions/{}/bin/pip3", v312()))
            .to_str()
            .unwrap()
    );
    assert!(
        s(&shim["interpreter"]).contains(&format!("versions/{}/bin/python", v312())),
        "{shim}"
    );
    assert!(v["mismatches"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn pip_of_another_python_is_flagged() {
    let w = World::new();
    let a = w.uv_venv(&w.root().join("A"), &toolbox().base_python, false);
    let b = w.uv_venv(&w.root().join("B"), &toolbox().base_python, true);
    assert!(
        !a.prefix.join("bin/pip").exists(),
        "A has no pip of its own"
    );
    // The first `python` is A's; the first `pip` is B's, whose shebang names B's python.
    w.set_var(
        "PATH",
        &format!(
            "{}:{}:/usr/bin:/bin",
            a.prefix.join("bin").display(),
            b.prefix.join("bin").display()
        ),
    );
    let v = which_json(&w, &["python", "pip", "pip3"]);
    let pip = &v["commands"][1]["matches"][0];
    assert_eq!(s(&pip["path"]), b.prefix.join("bin/pip").to_str().unwrap());
    assert_eq!(
        s(&pip["shebang"]),
        format!("#!{}", b.prefix.join("bin/python").display())
    );
    let mm = v["mismatches"].as_array().unwrap();
    assert_eq!(mm.len(), 2, "pip vs python and pip3 vs python3: {mm:#?}");
    assert_eq!(mm[0]["command"], "pip");
    assert_eq!(mm[0]["python"], "python");
    assert_eq!(
        s(&mm[0]["interpreter"]),
        b.prefix.join("bin/python").to_str().unwrap()
    );
    assert_eq!(
        s(&mm[0]["python_interpreter"]),
        a.prefix.join("bin/python").to_str().unwrap()
    );
    assert_eq!(mm[1]["command"], "pip3");
    assert_eq!(mm[1]["python"], "python3");
    let human = w.kip(&["which", "python", "pip"]);
    human.ok();
    assert!(human.stdout.contains("mismatch:"), "{}", human.stdout);
    assert!(
        human.stdout.contains(b.prefix.to_str().unwrap()),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains(a.prefix.to_str().unwrap()),
        "{}",
        human.stdout
    );
}

#[test]
fn long_and_spaced_venv_paths_use_the_sh_exec_form() {
    let w = World::new();
    // > 127 bytes and a space: uv writes the single-quoted form, pip the double-quoted one.
    let dir = w.root().join(format!("{}/with space", "d".repeat(120)));
    std::fs::create_dir_all(&dir).unwrap();
    let v = w.uv_venv(&dir.join("venv"), &toolbox().base_python, true);
    w.set_var(
        "PATH",
        &format!("{}:/usr/bin:/bin", v.prefix.join("bin").display()),
    );
    let text = std::fs::read_to_string(v.prefix.join("bin/pip")).unwrap();
    assert!(text.starts_with("#!/bin/sh\n'''exec' '"), "{text}");
    let m = first_match(&w, "pip");
    assert_eq!(s(&m["interpreter"]), v.python.to_str().unwrap());
    assert_eq!(s(&m["environment"]["prefix"]), v.prefix.to_str().unwrap());
    // pip regenerates its own script with distlib's double-quoted form.
    let wheels = toolbox().wheels.to_str().unwrap().to_string();
    w.run(
        &v.python,
        &[
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            &wheels,
            "--force-reinstall",
            "pip",
        ],
    )
    .ok();
    let text = std::fs::read_to_string(v.prefix.join("bin/pip")).unwrap();
    assert!(text.starts_with("#!/bin/sh\n'''exec' \""), "{text}");
    let m = first_match(&w, "pip");
    assert_eq!(s(&m["interpreter"]), v.python.to_str().unwrap());
}

#[test]
fn jupyter_lists_its_server_commands() {
    let w = World::new();
    w.use_toolbox_jupyter();
    let b = w.uv_venv(&w.root().join("B"), &toolbox().base_python, false);
    // No jupyter-lab beside the toolbox jupyter: the one on PATH is used, with B's Python.
    let srv = w.root().join("srv");
    std::fs::create_dir_all(&srv).unwrap();
    let lab = srv.join("jupyter-lab");
    std::fs::write(&lab, format!("#!{}\nimport sys\n", b.python.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&lab, std::fs::Permissions::from_mode(0o755)).unwrap();
    w.set_var(
        "PATH",
        &format!("{}:{}:/usr/bin:/bin", w.bin().display(), srv.display()),
    );
    let v = which_json(&w, &["jupyter", "python3"]);
    let j = &v["commands"][0];
    assert_eq!(
        j["matches"][0]["symlink_chain"][0],
        toolbox().jupyter.to_str().unwrap()
    );
    let servers = j["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1, "{servers:#?}");
    assert_eq!(servers[0]["name"], "jupyter-lab");
    assert_eq!(s(&servers[0]["path"]), lab.to_str().unwrap());
    assert_eq!(s(&servers[0]["interpreter"]), b.python.to_str().unwrap());
    assert!(
        v["commands"][1].get("servers").is_none(),
        "servers only for jupyter"
    );
}

#[test]
fn human_listing_and_bad_usage() {
    let (w, _) = pyenv_world();
    w.pyenv_global(v311().as_str());
    let out = w.kip(&["which"]);
    out.ok();
    for want in [
        "python3",
        "pyenv shim:",
        "/usr/bin/python3",
        "(also /bin/python3)",
        "type -a",
    ] {
        assert!(
            out.stdout.contains(want),
            "missing {want:?} in\n{}",
            out.stdout
        );
    }
    assert_eq!(w.kip(&["which", ""]).status, 2);
    assert_eq!(w.kip(&["which", "--bogus"]).status, 2);
}
