//! `kip kernel add | fix | remove | show`: kernelspecs that cannot leak.

mod support;

use std::path::Path;

use support::{toolbox, World};

fn setup() -> World {
    World::with_tools()
}

/// The server's PATH starts with another env (`other`), so a kernel without activation
/// would reach other's pip and python.
fn other_env_first(w: &World) {
    let other = w.uv_venv(&w.root().join("other"), &toolbox().base_python, true);
    w.prepend_path(&other.prefix.join("bin"));
}

fn check_activated_kernel(w: &World, name: &str, prefix: &Path) {
    let listed = w.jupyter_kernelspec_list_json(&w.bin().join("jupyter"));
    listed.ok();
    assert!(
        listed.stdout.contains(&format!("\"{name}\"")),
        "{}",
        listed.stdout
    );
    let r = w.run_kernel(
        name,
        "import sys; print(sys.executable)\n!pip --version\n!which python",
    );
    assert_eq!(r.error, None);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with(prefix.to_str().unwrap()),
        "{}",
        r.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("pip ") && l.contains(prefix.to_str().unwrap())),
        "!pip: {}",
        r.stdout
    );
    assert_eq!(
        lines.last().unwrap().trim(),
        prefix.join("bin/python").to_str().unwrap(),
        "{}",
        r.stdout
    );
}

#[test]
fn add_stdlib_venv() {
    let w = setup();
    other_env_first(&w);
    let v = w.stdlib_venv(&w.root().join("projA/.venv"), &toolbox().base_python, true);
    let out = w.kip(&["kernel", "add", v.prefix.to_str().unwrap(), "--json"]);
    out.ok();
    assert_eq!(out.json()["name"], "proja");
    check_activated_kernel(&w, "proja", &v.prefix);
}

#[test]
fn add_uv_venv_without_pip_or_ipykernel() {
    let w = setup();
    other_env_first(&w);
    let v = w.uv_venv(&w.root().join("bare"), &toolbox().base_python, false);
    w.kip(&[
        "kernel",
        "add",
        v.python.to_str().unwrap(),
        "--name",
        "bare",
    ])
    .ok();
    assert!(v.prefix.join("bin/pip").exists(), "pip seeded");
    check_activated_kernel(&w, "bare", &v.prefix);
}

#[test]
fn add_conda_env() {
    let w = setup();
    other_env_first(&w);
    let prefix = w.root().join("conda/envs/cz");
    w.conda_env(&prefix, &["python", "pip"]);
    // The fixture's conda-like CLI manages the env; ipykernel is not in its channel, so kip
    // falls back to PyPI (here: the wheelhouse) for it.
    std::os::unix::fs::symlink(&toolbox().fixture_conda, w.bin().join("conda")).unwrap();
    w.set_var("CONDA_CHANNELS", toolbox().conda_channel.to_str().unwrap());
    w.set_var("CONDA_PKGS_DIRS", w.root().join("pkgs").to_str().unwrap());
    let out = w.kip(&["kernel", "add", prefix.to_str().unwrap(), "--json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["name"], "cz");
    assert_eq!(
        v["kernel_json"]["env"]["CONDA_PREFIX"],
        prefix.to_str().unwrap()
    );
    check_activated_kernel(&w, "cz", &prefix);
}

#[test]
fn spec_equals_ipykernel_install_apart_from_env_and_marker() {
    let w = setup();
    let v = w.uv_venv(&w.root().join("eq"), &toolbox().base_python, true);
    w.uv_install(&v.python, &["ipykernel==7.4.0"]).unwrap();
    let tmp = w.root().join("ref");
    w.run(
        &v.python,
        &[
            "-m",
            "ipykernel",
            "install",
            "--prefix",
            tmp.to_str().unwrap(),
            "--name",
            "eqk",
            "--display-name",
            "Eq K",
        ],
    )
    .ok();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.join("share/jupyter/kernels/eqk/kernel.json")).unwrap(),
    )
    .unwrap();
    let mine_dir = w.root().join("mine");
    w.kip(&[
        "kernel",
        "add",
        v.python.to_str().unwrap(),
        "--name",
        "eqk",
        "--display-name",
        "Eq K",
        "--prefix",
        mine_dir.to_str().unwrap(),
    ])
    .ok();
    let kdir = mine_dir.join("share/jupyter/kernels/eqk");
    let mut mine: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(kdir.join("kernel.json")).unwrap()).unwrap();
    mine.as_object_mut().unwrap().remove("env");
    mine["metadata"].as_object_mut().unwrap().remove("kip");
    assert_eq!(mine, reference);
    for logo in ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"] {
        assert!(kdir.join(logo).exists(), "{logo}");
    }
}

#[test]
fn venv_out_of_pep668_in_one_command() {
    let w = setup();
    let dir = w.root().join("work-venv");
    let out = w.kip(&[
        "kernel",
        "add",
        "--venv",
        dir.to_str().unwrap(),
        "--python",
        "/usr/bin/python3",
        "--name",
        "debwork",
    ]);
    out.ok();
    let r = w.run_kernel("debwork", "import sys; print(sys.executable)");
    assert_eq!(r.error, None);
    assert!(
        r.stdout.trim().starts_with(dir.to_str().unwrap()),
        "{}",
        r.stdout
    );
}

#[test]
fn names_are_guarded() {
    let w = setup();
    let v = w.uv_venv(&w.root().join("n"), &toolbox().base_python, true);
    w.uv_install(&v.python, &["ipykernel==7.4.0"]).unwrap();
    for bad in ["../x", "a/b", "..", ".hidden", "Upper"] {
        let out = w.kip(&["kernel", "add", v.python.to_str().unwrap(), "--name", bad]);
        assert_eq!(out.status, 2, "{bad}: {}", out.stderr);
    }
    let kernels = w.root().join("xdg/data/jupyter/kernels");
    assert!(
        !kernels.exists() || std::fs::read_dir(&kernels).unwrap().count() == 0,
        "nothing written"
    );
    for bad in ["../x", "a/b", "..", "."] {
        assert_eq!(w.kip(&["kernel", "remove", bad, "--yes"]).status, 2);
        assert_eq!(w.kip(&["kernel", "show", bad]).status, 2);
    }
    // An existing kernel named "with space" can be shown, fixed and removed.
    let spec = serde_json::json!({"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "WS", "language": "python"});
    w.kernelspec(&kernels, "with space", &spec.to_string());
    let jupyter_python = toolbox().venv_python.to_str().unwrap();
    let jupyter_prefix = toolbox().root.join("venv");
    let jupyter_prefix = jupyter_prefix.to_str().unwrap();
    let dir = kernels.join("with space");
    let show = w.kip(&["kernel", "show", "with space"]);
    show.ok();
    for want in [
        "with space",
        &format!("spec     {}", dir.display()),
        &format!("runs     {jupyter_python}"),
        "argv[0] is a bare `python`",
        "env      venv",
        "made by  someone else",
    ] {
        assert!(
            show.stdout.contains(want),
            "missing {want:?} in\n{}",
            show.stdout
        );
    }
    let show = w.kip(&["kernel", "show", "with space", "--json"]);
    show.ok();
    let j = show.json();
    assert_eq!(j["name"], "with space");
    assert_eq!(j["resource_dir"], dir.to_str().unwrap());
    assert_eq!(j["spec"]["argv"][0], "python");
    assert_eq!(j["spec"]["display_name"], "WS");
    assert_eq!(j["problem"], serde_json::Value::Null);
    assert_eq!(j["interpreter"]["status"], "resolved");
    assert_eq!(j["interpreter"]["python"], jupyter_python);
    assert_eq!(j["interpreter"]["swapped"], true);
    assert_eq!(j["environment"]["prefix"], jupyter_prefix);
    assert_eq!(j["environment"]["kind"], "venv");
    assert_eq!(j["kip_made"], false);
    // The bare `python` is fixed to the interpreter it resolves to now, with its activation.
    let fix = w.kip(&["kernel", "fix", "with space"]);
    fix.ok();
    let fixed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("kernel.json")).unwrap()).unwrap();
    assert_eq!(fixed["argv"][0], jupyter_python);
    assert_eq!(fixed["env"]["VIRTUAL_ENV"], jupyter_prefix);
    assert_eq!(
        fixed["env"]["PATH"],
        format!("{jupyter_prefix}/bin:${{PATH}}")
    );
    assert_eq!(fixed["display_name"], "WS");
    w.kip(&["kernel", "remove", "with space", "--yes"]).ok();
    assert!(!kernels.join("with space").exists());
}

fn finding_ids(w: &World) -> Vec<(String, String)> {
    let out = w.kip(&["doctor", "--json"]);
    let v = out.json();
    // One cause across kernels is one finding listing them all in `subjects`.
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            let id = f["id"].as_str().unwrap().to_string();
            let subjects: Vec<String> = match f["subjects"].as_array() {
                Some(a) => a.iter().map(|s| s.as_str().unwrap().to_string()).collect(),
                None => vec![f["subject"].as_str().unwrap().to_string()],
            };
            subjects.into_iter().map(move |s| (id.clone(), s))
        })
        .collect()
}

#[test]
fn fix_all_clears_every_automatic_kernel_finding() {
    let w = setup();
    // kernel fix --all rewrites every kernel: never the shared toolbox's own python3.
    w.use_own_jupyter();
    let other = w.root().join("other");
    other_env_first(&w);
    let _ = other;
    let a = w.uv_venv(&w.root().join("A"), &toolbox().base_python, false);
    w.uv_install(&a.python, &["ipykernel==7.4.0"]).unwrap();
    let kernels = w.root().join("xdg/data/jupyter/kernels");
    // Relative python in a spec that belongs to env A (shipped in A's share/jupyter).
    let a_kernels = a.prefix.join("share/jupyter/kernels");
    w.kernelspec(&a_kernels, "rel", r#"{"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Rel", "language": "python"}"#);
    w.set_var(
        "JUPYTER_PATH",
        a.prefix.join("share/jupyter").to_str().unwrap(),
    );
    // Absolute interpreter without activation: !pip reaches `other`.
    let abs = serde_json::json!({"argv": [a.python.to_str().unwrap(), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Abs", "language": "python"});
    w.kernelspec(&kernels, "abs", &abs.to_string());
    // An env without ipykernel.
    let noipk = w.uv_venv(&w.root().join("noipk"), &toolbox().base_python, false);
    let np = serde_json::json!({"argv": [noipk.python.to_str().unwrap(), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "NoIpk", "language": "python"});
    w.kernelspec(&kernels, "noipk", &np.to_string());
    // A dead kernel.
    w.kernelspec(&kernels, "dead", r#"{"argv": ["/nonexistent/env/bin/python", "-m", "ipykernel_launcher"], "display_name": "Dead"}"#);
    let before = finding_ids(&w);
    for (id, subj) in [
        ("kernel-relative-python", "rel"),
        ("kernel-shell-mismatch", "abs"),
        ("kernel-ipykernel-missing", "noipk"),
        ("kernel-interpreter-missing", "dead"),
    ] {
        assert!(
            before.contains(&(id.to_string(), subj.to_string())),
            "{id} {subj} missing from {before:?}"
        );
    }
    let out = w.kip(&["kernel", "fix", "--all", "--yes"]);
    assert!(out.status == 0, "{}\n{}", out.stdout, out.stderr);
    let after = finding_ids(&w);
    let automatic = [
        "kernel-relative-python",
        "kernel-shell-mismatch",
        "kernel-ipykernel-missing",
        "kernel-interpreter-missing",
    ];
    assert!(
        !after.iter().any(|(id, _)| automatic.contains(&id.as_str())),
        "{after:?}"
    );
    for k in [
        a_kernels.join("rel"),
        kernels.join("abs"),
        kernels.join("noipk"),
    ] {
        let baks: Vec<_> = std::fs::read_dir(&k)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("kernel.json.kip-bak-")
            })
            .collect();
        assert_eq!(baks.len(), 1, "{}", k.display());
    }
    assert!(!kernels.join("dead").exists());
    // The fixed kernel really runs A, and !pip reaches A's pip.
    let r = w.run_kernel("rel", "import sys; print(sys.executable)");
    assert!(
        r.stdout.trim().starts_with(a.prefix.to_str().unwrap()),
        "{}",
        r.stdout
    );
}

/// The real Jupyter's view of kernel `name`: listed, with a kernel.json that parses.
fn jupyter_lists(w: &World, name: &str) -> serde_json::Value {
    let out = w.jupyter_kernelspec_list_json(&w.bin().join("jupyter"));
    out.ok();
    let v = out.json();
    let k = &v["kernelspecs"][name];
    assert!(
        k.is_object(),
        "Jupyter does not list {name}:\n{}",
        out.stdout
    );
    let file = Path::new(k["resource_dir"].as_str().unwrap()).join("kernel.json");
    let text = std::fs::read_to_string(&file).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", file.display()))
}

fn staging_dirs(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".kip-"))
        .collect()
}

/// Every fault point kills kip (`KIP_FAULT`, a SIGKILL of itself) while it rewrites a kernel
/// (`kernel fix`) or replaces a whole kernel dir (`kernel add --force`): the real Jupyter lists
/// the kernel after each kill, old or new, never missing or torn. The staging dirs a kill
/// leaves are reported by the next listing and cleaned up by the next write.
#[test]
fn a_kill_at_the_write_leaves_old_or_new_never_broken() {
    let w = setup();
    let data = w.root().join("xdg/data/jupyter");
    let kernels = data.join("kernels");
    let a = w.uv_venv(&w.root().join("A"), &toolbox().base_python, true);
    w.uv_install(&a.python, &["ipykernel==7.4.0"]).unwrap();
    let spec = serde_json::json!({"argv": [a.python.to_str().unwrap(), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "K", "language": "python"});
    let other = w.uv_venv(&w.root().join("other"), &toolbox().base_python, true);
    w.prepend_path(&other.prefix.join("bin"));
    let kfile = w
        .kernelspec(&kernels, "k", &spec.to_string())
        .join("kernel.json");
    let original = std::fs::read_to_string(&kfile).unwrap();
    let fix = ["kernel", "fix", "k"];
    let add = [
        "kernel",
        "add",
        a.prefix.to_str().unwrap(),
        "--name",
        "k",
        "--force",
        "--yes",
    ];
    for (args, fault) in [
        (&fix[..], "after-temp-write"),
        (&fix[..], "after-backup"),
        (&add[..], "after-temp-write"),
        (&add[..], "after-backup"),
        (&add[..], "before-kernel-rename"),
    ] {
        std::fs::write(&kfile, &original).unwrap();
        w.set_var("KIP_FAULT", fault);
        let out = w.kip(args);
        w.remove_var("KIP_FAULT");
        assert_eq!(
            out.status,
            -9,
            "{fault}: kip was not killed\n{}",
            out.show()
        );
        let v = jupyter_lists(&w, "k");
        // Every fault point comes before the new file or dir is in place: the old one stays.
        assert_eq!(
            std::fs::read_to_string(&kfile).unwrap(),
            original,
            "{fault}: {v}"
        );
    }
    // The killed `kernel add`s left staging dirs: reported, then cleaned up by the next write,
    // which replaces the kernel in one step.
    assert!(!staging_dirs(&data).is_empty());
    let out = w.kip(&["kernels", "--json"]);
    out.ok();
    assert!(
        out.json()["warnings"].as_array().unwrap().iter().any(|m| m
            .as_str()
            .unwrap()
            .contains("left by an interrupted kip write")),
        "{}",
        out.stdout
    );
    let out = w.kip(&add);
    out.ok();
    assert!(
        out.stderr.contains("left by an interrupted kip write"),
        "{}",
        out.show()
    );
    assert_eq!(staging_dirs(&data), Vec::<String>::new());
    let v = jupyter_lists(&w, "k");
    assert!(v["metadata"]["kip"].is_object(), "the new kernel: {v}");
    // The replaced kernel.json is kept beside the new one.
    let bak = std::fs::read_dir(kernels.join("k"))
        .unwrap()
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("kernel.json.kip-bak-")
        })
        .expect("a backup of the replaced kernel.json");
    assert_eq!(std::fs::read_to_string(bak.path()).unwrap(), original);
    // Random kills in a loop: the file always parses, as the old or the new spec.
    for i in 0..10 {
        std::fs::write(&kfile, &original).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kip"))
            .args(["kernel", "fix", "k"])
            .env_clear()
            .envs(w.env())
            .current_dir(w.cwd())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(3 * i));
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(&kfile).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("broken after a kill: {e}\n{text}"));
        assert!(
            text == original || v["env"]["VIRTUAL_ENV"].is_string(),
            "{text}"
        );
    }
}

/// A stranded kernel from kip before the exchange (moved aside, killed before the new one
/// moved in: no kernel at all) is reported by a listing and restored by the next kip write.
#[test]
fn a_kernel_stranded_by_an_interrupted_replace_is_restored() {
    let w = setup();
    let data = w.root().join("xdg/data/jupyter");
    let kernels = data.join("kernels");
    let a = w.uv_venv(&w.root().join("A"), &toolbox().base_python, true);
    w.uv_install(&a.python, &["ipykernel==7.4.0"]).unwrap();
    let spec = serde_json::json!({"argv": [a.python.to_str().unwrap(), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Stranded", "language": "python"});
    let left = data.join(".kip-staging-Xy12ab");
    w.kernelspec(&left, "old", &spec.to_string());
    w.kernelspec(&left, "k", &spec.to_string());
    std::fs::create_dir_all(&kernels).unwrap();
    let out = w.kip(&["kernels", "--json"]);
    out.ok();
    let warnings = out.json()["warnings"].to_string();
    assert!(
        warnings.contains(
            ".kip-staging-Xy12ab was left by an interrupted kip write (it holds: k, old)"
        ) || warnings.contains(
            ".kip-staging-Xy12ab was left by an interrupted kip write (it holds: old, k)"
        ),
        "{warnings}"
    );
    // Any kernel write in that dir restores it.
    w.kip(&[
        "kernel",
        "add",
        a.prefix.to_str().unwrap(),
        "--name",
        "other",
    ])
    .ok();
    let v = jupyter_lists(&w, "k");
    assert_eq!(v["display_name"], "Stranded");
    assert_eq!(staging_dirs(&data), Vec::<String>::new());
}

fn mode_owner(p: &Path) -> (u32, u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).unwrap();
    (m.mode() & 0o7777, m.uid(), m.gid())
}

/// The test process's umask (kip inherits it), from /proc like kip reads it.
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let v = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .unwrap();
    u32::from_str_radix(v.trim(), 8).unwrap()
}

/// Kernel files kip writes stay readable by every user of a shared kernel dir: a new kernel
/// gets ipykernel's modes (0755 dir, 0644 files, under the umask), never tempfile's 0600; a
/// file or dir kip replaces keeps its mode and owner. Checked as another user (nobody) with
/// that user's own Jupyter and kip, on an env built on /usr/bin/python3 that nobody can run.
#[test]
fn kernels_kip_writes_stay_readable_by_other_users() {
    let w = World::new_shared();
    let v = w.stdlib_venv(
        &w.root().join("shared"),
        Path::new("/usr/bin/python3"),
        false,
    );
    w.uv_install(&v.python, &["ipykernel==7.4.0"]).unwrap();
    let jupyter = v.bin().join("jupyter");
    let j = jupyter.to_str().unwrap();
    // Jupyter creates its user data dir when missing; nobody cannot under root's world.
    std::fs::create_dir_all(w.jupyter_data_dir()).unwrap();
    let add = [
        "kernel",
        "add",
        v.prefix.to_str().unwrap(),
        "--sys-prefix",
        "--name",
        "shk",
        "--no-pip",
        // A start as root would create root's ~/.ipython in the HOME nobody shares here, which
        // nobody's Jupyter then cannot migrate; this test is about modes, not starts.
        "--no-start",
        "--jupyter",
        j,
    ];
    let listed_by_nobody = |why: &str| {
        let out = w.as_nobody(&jupyter, &["kernelspec", "list", "--json"]);
        out.ok();
        assert!(
            out.json()["kernelspecs"]["shk"].is_object(),
            "{why}: nobody's Jupyter does not list shk\n{}",
            out.show()
        );
        let out = w.kip_as_nobody(&["kernels", "--json", "--jupyter", j]);
        out.ok();
        let v = out.json();
        let k = v["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == "shk")
            .cloned()
            .unwrap_or_else(|| panic!("{why}: nobody's kip does not list shk\n{}", out.stdout));
        assert!(k["problem"].is_null(), "{why}: {k}");
    };
    w.kip(&add).ok();
    let dir = v.prefix.join("share/jupyter/kernels/shk");
    let kj = dir.join("kernel.json");
    assert_eq!(mode_owner(&dir).0, 0o755 & !umask());
    assert_eq!(mode_owner(&kj).0, 0o644 & !umask());
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        assert_eq!(mode_owner(&e.path()).0, 0o644 & !umask(), "{:?}", e.path());
    }
    listed_by_nobody("a new kernel");

    // Handed to nobody, group-readable only: root's replace keeps both, dir and file.
    for (p, m) in [(&dir, 0o750), (&kj, 0o640)] {
        std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }
    let mut force = add.to_vec();
    force.push("--force");
    w.kip(&force).ok();
    assert_eq!(mode_owner(&dir), (0o750, 65534, 65534));
    assert_eq!(mode_owner(&kj), (0o640, 65534, 65534));
    listed_by_nobody("a replaced kernel");

    // `kernel fix` rewrites kernel.json in place: same mode and owner, for its backup too.
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&kj).unwrap()).unwrap();
    spec.as_object_mut().unwrap().remove("env");
    std::fs::write(&kj, spec.to_string()).unwrap();
    let other = w.stdlib_venv(
        &w.root().join("other"),
        Path::new("/usr/bin/python3"),
        false,
    );
    w.prepend_path(&other.bin());
    let out = w.kip(&["kernel", "fix", "shk", "--no-start", "--jupyter", j]);
    out.ok();
    let fixed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&kj).unwrap()).unwrap();
    assert!(fixed["env"]["VIRTUAL_ENV"].is_string(), "{}", out.show());
    assert_eq!(mode_owner(&kj), (0o640, 65534, 65534));
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        if e.file_name()
            .to_string_lossy()
            .starts_with("kernel.json.kip-bak-")
        {
            assert_eq!(mode_owner(&e.path()), (0o640, 65534, 65534));
        }
    }
    listed_by_nobody("a fixed kernel");
}
