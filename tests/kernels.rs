//! `kip kernels` resolves the interpreter each kernelspec really launches, exactly as a real
//! kernel started through jupyter_client reports `sys.executable`.

mod support;

use support::{toolbox, World};

fn kip_python_of(w: &World, name: &str) -> (String, serde_json::Value) {
    let out = w.kip(&["kernels", "--json"]);
    out.ok();
    let v = out.json();
    let k = v["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == name)
        .unwrap_or_else(|| panic!("no kernel {name} in {}", out.stdout))
        .clone();
    (
        k["interpreter"]["python"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        k,
    )
}

fn real_python_of(w: &World, name: &str) -> String {
    let r = w.run_kernel(name, "import sys; print(sys.executable)");
    assert!(r.error.is_none(), "{:?}", r.error);
    r.stdout.trim().to_string()
}

/// A world with the toolbox Jupyter on PATH and a uv venv A with ipykernel.
fn world_with_env() -> (World, support::Venv) {
    let w = World::new();
    w.use_toolbox_jupyter();
    let a = w.uv_venv(&w.root().join("envA"), &toolbox().base_python, false);
    w.uv_install(&a.python, &["ipykernel==7.4.0"]).unwrap();
    (w, a)
}

fn user_kernels(w: &World) -> std::path::PathBuf {
    w.root().join("xdg/data/jupyter/kernels")
}

#[test]
fn ipykernel_installed_venv_kernel() {
    let (w, a) = world_with_env();
    w.run(
        &a.python,
        &["-m", "ipykernel", "install", "--user", "--name", "enva"],
    )
    .ok();
    let (kip, k) = kip_python_of(&w, "enva");
    assert_eq!(kip, real_python_of(&w, "enva"));
    assert_eq!(k["environment"]["prefix"], a.prefix.to_str().unwrap());
}

#[test]
fn wheel_python3_kernel_with_bare_python_runs_the_jupyter_interpreter() {
    let (w, _a) = world_with_env();
    let (kip, k) = kip_python_of(&w, "python3");
    assert_eq!(kip, real_python_of(&w, "python3"));
    assert_eq!(k["interpreter"]["swapped"], true);
    assert!(k["interpreter"]["how"].as_str().unwrap().contains("bare"));
}

#[test]
fn bash_source_activate_kernel() {
    let (w, a) = world_with_env();
    let argv = serde_json::json!({"argv": ["bash", "-c", format!("source {}/bin/activate && exec python -m ipykernel_launcher -f {{connection_file}}", a.prefix.display())], "display_name": "B", "language": "python"});
    w.kernelspec(&user_kernels(&w), "bashk", &argv.to_string());
    let (kip, k) = kip_python_of(&w, "bashk");
    assert_eq!(kip, real_python_of(&w, "bashk"));
    assert_eq!(k["interpreter"]["wrapper"], "bash -c");
}

#[test]
fn env_python3_kernel_follows_path() {
    let (w, a) = world_with_env();
    w.prepend_path(&a.prefix.join("bin"));
    let argv = serde_json::json!({"argv": ["/usr/bin/env", "python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "E", "language": "python"});
    w.kernelspec(&user_kernels(&w), "envk", &argv.to_string());
    let (kip, _) = kip_python_of(&w, "envk");
    assert_eq!(kip, real_python_of(&w, "envk"));
    assert!(kip.starts_with(a.prefix.to_str().unwrap()));
}

#[test]
fn kernel_startup_sh_wrapper() {
    let (w, a) = world_with_env();
    let script = w.root().join("kernel-startup.sh");
    std::fs::write(&script, format!("#!/bin/bash\n# activate the env, then start the kernel\nsource {}/bin/activate\nexec python -m ipykernel_launcher \"$@\"\n", a.prefix.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let argv = serde_json::json!({"argv": [script.to_str().unwrap(), "-f", "{connection_file}"], "display_name": "S", "language": "python"});
    w.kernelspec(&user_kernels(&w), "startup", &argv.to_string());
    let (kip, k) = kip_python_of(&w, "startup");
    assert_eq!(kip, real_python_of(&w, "startup"));
    assert_eq!(k["interpreter"]["wrapper"], "script");
}

#[test]
fn uv_run_project_kernel() {
    let w = World::new();
    w.use_toolbox_jupyter();
    std::os::unix::fs::symlink(&toolbox().uv, w.bin().join("uv")).unwrap();
    let proj = w.root().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("pyproject.toml"),
        "[project]\nname = \"proj\"\nversion = \"0.1\"\nrequires-python = \">=3.8\"\n",
    )
    .unwrap();
    let v = w.uv_venv(&proj.join(".venv"), &toolbox().base_python, false);
    w.uv_install(&v.python, &["ipykernel==7.4.0"]).unwrap();
    let argv = serde_json::json!({"argv": ["uv", "run", "--no-sync", "--project", proj.to_str().unwrap(), "python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "U", "language": "python"});
    w.kernelspec(&user_kernels(&w), "uvk", &argv.to_string());
    let (kip, k) = kip_python_of(&w, "uvk");
    assert_eq!(kip, real_python_of(&w, "uvk"));
    assert_eq!(k["interpreter"]["wrapper"], "uv run");
    // `uv run --with …` runs from a temporary env: unresolved, with why.
    let argv = serde_json::json!({"argv": ["uv", "run", "--with", "ipykernel", "python", "-m", "ipykernel_launcher"], "display_name": "W"});
    w.kernelspec(&user_kernels(&w), "uvwith", &argv.to_string());
    let (_, k) = kip_python_of(&w, "uvwith");
    assert_eq!(k["interpreter"]["status"], "unresolved");
    assert!(k["interpreter"]["why"]
        .as_str()
        .unwrap()
        .contains("temporary"));
}

#[test]
fn deleted_interpreter_is_reported_missing() {
    let (w, a) = world_with_env();
    w.run(
        &a.python,
        &["-m", "ipykernel", "install", "--user", "--name", "gone"],
    )
    .ok();
    std::fs::remove_dir_all(&a.prefix).unwrap();
    let (kip, k) = kip_python_of(&w, "gone");
    assert!(kip.ends_with("envA/bin/python"), "{kip}");
    assert_eq!(k["interpreter"]["exists"], false);
    let human = w.kip(&["kernels"]);
    human.ok();
    assert!(human.stdout.contains("MISSING"), "{}", human.stdout);
}

#[test]
fn broken_specs_never_abort_the_listing() {
    let (w, _a) = world_with_env();
    let u = user_kernels(&w);
    w.kernelspec(&u, "bad", "{not json");
    std::fs::create_dir_all(u.join("dirjson/kernel.json")).unwrap();
    std::os::unix::fs::symlink(w.root().join("nowhere"), u.join("dangling")).unwrap();
    w.kernelspec(
        &u,
        "good",
        r#"{"argv": ["/bin/true"], "display_name": "G"}"#,
    );
    let out = w.kip(&["kernels", "--json"]);
    out.ok();
    let v = out.json();
    let names = support::kernel_names(&v);
    assert!(
        names.contains(&"good") && names.contains(&"bad") && names.contains(&"python3"),
        "{names:?}"
    );
    let bad = v["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "bad")
        .unwrap();
    assert!(bad["problem"].as_str().unwrap().contains("not valid JSON"));
}

#[test]
fn unreadable_kernel_dir_as_another_user() {
    let w = World::new_shared();
    let data = w.root().join("data");
    let ok = w.kernelspec(
        &data.join("kernels"),
        "visible",
        r#"{"argv": ["/bin/true"], "display_name": "V"}"#,
    );
    let hidden = w.kernelspec(
        &data.join("kernels"),
        "secret",
        r#"{"argv": ["/bin/true"], "display_name": "S"}"#,
    );
    let locked = w.root().join("locked");
    w.kernelspec(&locked.join("kernels"), "inside", "{}");
    use std::os::unix::fs::PermissionsExt;
    for d in [&data, &data.join("kernels"), &ok, &hidden] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(
        hidden.join("kernel.json"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::set_permissions(
        ok.join("kernel.json"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    w.set_var(
        "JUPYTER_PATH",
        &format!("{}:{}", locked.display(), data.display()),
    );
    let out = w.kip_as_nobody(&["kernels", "--json"]);
    out.ok();
    let v = out.json();
    let ks = v["kernels"].as_array().unwrap();
    let visible = ks
        .iter()
        .find(|k| k["name"] == "visible")
        .expect("visible kernel listed");
    assert!(visible["problem"].is_null());
    let secret = ks
        .iter()
        .find(|k| k["name"] == "secret")
        .expect("unreadable kernel reported");
    assert!(
        secret["problem"].as_str().unwrap().contains("cannot read"),
        "{secret}"
    );
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|x| x.as_str().unwrap().contains("locked")),
        "{warnings:?}"
    );
}

/// Names that are not UTF-8 — a kernel dir, an env prefix, a dist-info dir, a PATH dir — never
/// cost the rest of a listing: every JSON output lists everything, each such name written as
/// Python's `os.fsdecode` shows it (`\udcff`), and the kernel dir is reported in `warnings`.
#[test]
fn non_utf8_names_are_escaped_and_never_hide_the_rest() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let w = World::new();
    let kernels = user_kernels(&w);
    let simple = r#"{"argv": ["/bin/true", "-f", "{connection_file}"], "display_name": "K", "language": "python"}"#;
    let bad = kernels.join(OsStr::from_bytes(b"k\xe9\xff"));
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("kernel.json"), simple).unwrap();
    w.kernelspec(&kernels, "good", simple);
    // A venv at a non-UTF-8 prefix (uv and `python -m venv` refuse to make one), holding a
    // distribution whose dist-info dir name is not UTF-8, and a kernel that runs it.
    let root = w.root();
    let env = root.join(OsStr::from_bytes(b"env\xff"));
    let base = &toolbox().base_python;
    std::fs::create_dir_all(env.join("bin")).unwrap();
    std::os::unix::fs::symlink(base, env.join("bin/python")).unwrap();
    std::fs::write(
        env.join("pyvenv.cfg"),
        format!(
            "home = {}\ninclude-system-site-packages = false\n",
            base.parent().unwrap().display()
        ),
    )
    .unwrap();
    let dist = env
        .join("lib/python3.11/site-packages")
        .join(OsStr::from_bytes(b"pk\xfd-1.0.dist-info"));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("METADATA"),
        "Metadata-Version: 2.1\nName: pk\nVersion: 1.0\n",
    )
    .unwrap();
    let env_text = format!("{}/env\\udcff", root.display());
    w.kernelspec(
        &kernels,
        "envk",
        &format!(
            r#"{{"argv": ["{}/env\\udcff/bin/python", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "E", "language": "python"}}"#,
            root.display()
        ),
    );
    // A PATH dir whose name is not UTF-8, holding a `python`.
    let pdir = root.join(OsStr::from_bytes(b"bin\xfe"));
    std::fs::create_dir_all(&pdir).unwrap();
    std::os::unix::fs::symlink(base, pdir.join("python")).unwrap();
    let mut path = pdir.into_os_string();
    path.push(":");
    path.push(w.var("PATH").unwrap());
    let kip = |args: &[&str]| {
        let mut c = w.command(std::path::Path::new(env!("CARGO_BIN_EXE_kip")));
        c.args(args).env("PATH", &path);
        support::run_command(c, support::default_timeout())
    };

    let out = kip(&["kernels", "--json"]);
    out.ok();
    let v = out.json();
    let names = support::kernel_names(&v);
    for n in ["k\\udce9\\udcff", "good", "envk"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let k = |name: &str| {
        v["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        k("k\\udce9\\udcff")["resource_dir"],
        format!("{}/k\\udce9\\udcff", kernels.display())
    );
    assert_eq!(k("k\\udce9\\udcff")["invalid_name"], true);
    assert!(
        v["warnings"].as_array().unwrap().iter().any(|m| m
            .as_str()
            .unwrap()
            .contains("k\\udce9\\udcff is not named in UTF-8")),
        "{}",
        out.stdout
    );
    // The kernel whose argv names the non-UTF-8 env runs that env's real interpreter.
    assert_eq!(
        k("envk")["interpreter"]["python"],
        format!("{env_text}/bin/python")
    );
    assert_eq!(k("envk")["interpreter"]["exists"], true, "{}", out.stdout);
    assert_eq!(k("envk")["environment"]["prefix"], env_text.as_str());
    // The escaped name is how it is addressed, too.
    kip(&["kernel", "show", "k\\udce9\\udcff", "--json"]).ok();
    let human = kip(&["kernels"]);
    human.ok();
    assert!(human.stdout.contains("k\\udce9\\udcff"), "{}", human.stdout);

    let out = kip(&["envs", "--json"]);
    out.ok();
    assert!(
        out.json()["environments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["prefix"] == env_text.as_str()),
        "{}",
        out.stdout
    );

    let out = kip(&["which", "python", "--json"]);
    out.ok();
    assert_eq!(
        out.json()["commands"][0]["matches"][0]["path"],
        format!("{}/bin\\udcfe/python", root.display())
    );

    let out = kip(&["list", "--kernel", "envk", "--json"]);
    out.ok();
    let pk = out.json()["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "pk")
        .cloned()
        .unwrap_or_else(|| panic!("pk missing: {}", out.stdout));
    assert_eq!(
        pk["location"],
        format!("{env_text}/lib/python3.11/site-packages/pk\\udcfd-1.0.dist-info")
    );

    let out = kip(&["doctor", "--json"]);
    assert!(out.status == 0 || out.status == 1, "{}", out.show());
    let checked = out.json()["checked"]["kernels"].clone();
    for n in ["k\\udce9\\udcff", "good", "envk"] {
        assert!(
            checked.as_array().unwrap().iter().any(|k| k == n),
            "{n} not checked: {checked}"
        );
    }
}
