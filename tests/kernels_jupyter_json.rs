//! `kip kernels --jupyter-json` must equal, byte for byte, what the real
//! `jupyter kernelspec list --json` prints on its next run in the same world. Each test builds
//! one world, snapshots it, runs real Jupyter, restores the snapshot, then runs kip on the
//! identical fresh copy (jupyter's own side effects — creating the data dir, migrating
//! `~/.ipython/kernels` — must be predicted by kip, not observed).
//!
//! The numbered cases are those of jupyter-kernelspec-rules.md.

mod support;

use std::path::{Path, PathBuf};

use support::World;

const SIMPLE: &str = r#"{"argv": ["/bin/true", "-f", "{connection_file}"], "display_name": "K", "language": "python"}"#;

fn kdir(p: &Path) -> PathBuf {
    p.join("kernels")
}

fn user_kernels(w: &World) -> PathBuf {
    w.home().join(".local/share/jupyter/kernels")
}

/// A world whose `jupyter` on PATH is the toolbox's (a user-owned venv with ipykernel, whose
/// `share/jupyter/kernels/python3` comes from the ipykernel wheel).
fn toolbox_world() -> World {
    let w = World::bare();
    w.use_toolbox_jupyter();
    w
}

fn check(w: &World) {
    let j = w.bin().join("jupyter");
    let (real, _kip) = w.compare_kernelspec_json(&j);
    assert!(real.contains("kernelspecs"));
}

fn check_with(w: &World, jupyter: &Path) -> String {
    let (real, _kip) = w.compare_kernelspec_json(jupyter);
    real
}

#[test]
fn case01_env_python3_wins_over_user() {
    let w = toolbox_world();
    w.kernelspec(&user_kernels(&w), "python3", SIMPLE);
    check(&w);
}

#[test]
fn case02_prefer_env_path_empty_is_true() {
    let w = toolbox_world();
    w.kernelspec(&user_kernels(&w), "python3", SIMPLE);
    w.set_var("JUPYTER_PREFER_ENV_PATH", "");
    check(&w);
}

#[test]
fn case02_prefer_env_path_false_spellings() {
    for v in ["0", "no", "OFF", "false", "0.0"] {
        let w = toolbox_world();
        w.kernelspec(&user_kernels(&w), "python3", SIMPLE);
        w.set_var("JUPYTER_PREFER_ENV_PATH", v);
        let real = check_with(&w, &w.bin().join("jupyter"));
        assert!(
            real.contains(".local/share/jupyter/kernels/python3"),
            "{v}: user first"
        );
    }
}

/// A conda-fixture env (a non-venv CPython) with Jupyter installed by pip into it.
fn conda_jupyter(w: &World) -> PathBuf {
    let prefix = w.root().join("conda-env");
    w.conda_env(&prefix, &["python", "pip"]);
    w.uv_install(
        &prefix.join("bin/python"),
        &[
            "jupyter_client==8.10.0",
            "jupyter_core==5.9.1",
            "ipykernel==7.4.0",
        ],
    )
    .expect("install jupyter into the conda env");
    prefix
}

#[test]
fn case03_non_venv_python_user_first_and_conda_activation() {
    let w = World::bare();
    let prefix = conda_jupyter(&w);
    let jupyter = prefix.join("bin/jupyter");
    w.kernelspec(&user_kernels(&w), "python3", SIMPLE);
    let real = check_with(&w, &jupyter);
    assert!(
        real.contains(".local/share/jupyter/kernels/python3"),
        "non-venv: user first"
    );
    // Activated non-base conda env: env first.
    w.set_var("CONDA_PREFIX", prefix.to_str().unwrap());
    w.set_var("CONDA_DEFAULT_ENV", "myenv");
    let real = check_with(&w, &jupyter);
    assert!(
        !real.contains(".local/share/jupyter/kernels/python3"),
        "activated conda env: env first"
    );
    w.set_var("CONDA_DEFAULT_ENV", "base");
    check_with(&w, &jupyter);
    w.remove_var("CONDA_DEFAULT_ENV");
    check_with(&w, &jupyter);
}

#[test]
fn case04_jupyter_path_trailing_slashes() {
    let w = toolbox_world();
    let a = w.root().join("A");
    let b = w.root().join("B");
    w.kernelspec(&kdir(&a), "foo", SIMPLE);
    w.kernelspec(
        &kdir(&b),
        "foo",
        r#"{"argv": ["b"], "display_name": "from B"}"#,
    );
    w.kernelspec(&kdir(&b), "bonly", SIMPLE);
    w.set_var(
        "JUPYTER_PATH",
        &format!("{}/:{}//", a.display(), b.display()),
    );
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("A/kernels/foo"));
}

#[test]
fn case05_jupyter_path_empty_entry_is_cwd() {
    let w = toolbox_world();
    let b = w.root().join("B");
    w.kernelspec(&kdir(&b), "y", SIMPLE);
    w.kernelspec(&kdir(&w.cwd()), "x", SIMPLE);
    w.set_var("JUPYTER_PATH", &format!(":{}", b.display()));
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("\"resource_dir\": \"kernels/x\""));
}

#[test]
fn case06_jupyter_path_tilde_not_expanded() {
    let w = toolbox_world();
    w.kernelspec(&kdir(&w.home().join("tl")), "tilde", SIMPLE);
    w.set_var("JUPYTER_PATH", "~/tl");
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(!real.contains("tilde"));
}

#[test]
fn case07_jupyter_data_dir_verbatim() {
    let w = toolbox_world();
    w.kernelspec(&kdir(&w.cwd().join("jdd")), "k", SIMPLE);
    w.set_var("JUPYTER_DATA_DIR", "jdd");
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("\"jdd/kernels/k\""));
    w.set_var("JUPYTER_DATA_DIR", "");
    check(&w);
    let x = w.root().join("x");
    w.kernelspec(&kdir(&x), "k2", SIMPLE);
    w.set_var("JUPYTER_DATA_DIR", &format!("{}//", x.display()));
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("x//kernels/k2"));
}

#[test]
fn case08_xdg_data_home() {
    let w = toolbox_world();
    let x = w.root().join("xdg");
    w.kernelspec(&x.join("jupyter/kernels"), "xk", SIMPLE);
    w.set_var("XDG_DATA_HOME", x.to_str().unwrap());
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("xdg/jupyter/kernels/xk"));
    w.set_var("XDG_DATA_HOME", "");
    w.kernelspec(&user_kernels(&w), "homek", SIMPLE);
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("homek"));
}

#[test]
fn case09_case_is_folded_in_the_key_not_the_path() {
    let w = toolbox_world();
    w.kernelspec(&user_kernels(&w), "MyKernel", SIMPLE);
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("\"mykernel\"") && real.contains("/MyKernel\""));
}

#[test]
fn case10_case_collisions_in_one_dir() {
    let w = toolbox_world();
    for n in ["FOO", "Foo", "foo"] {
        w.kernelspec(
            &user_kernels(&w),
            n,
            &SIMPLE.replace("\"K\"", &format!("\"{n}\"")),
        );
    }
    check(&w);
}

#[test]
fn case11_jupyter_path_python3_replaces_env_python3() {
    let w = toolbox_world();
    let a = w.root().join("A");
    w.kernelspec(&kdir(&a), "PYTHON3", SIMPLE);
    w.set_var("JUPYTER_PATH", a.to_str().unwrap());
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("A/kernels/PYTHON3"));
}

#[test]
fn case12_invalid_names_are_listed() {
    let w = toolbox_world();
    for n in ["has space", "a+b", "k\u{e9}", "\u{1F600}emoji"] {
        w.kernelspec(&user_kernels(&w), n, SIMPLE);
    }
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("\"k\\u00e9\""));
}

#[test]
fn case13_non_kernels_and_symlinks() {
    let w = toolbox_world();
    let u = user_kernels(&w);
    std::fs::create_dir_all(u.join("nojson")).unwrap();
    std::fs::create_dir_all(u.join("jsondir/kernel.json")).unwrap();
    std::fs::write(u.join("plainfile"), "x").unwrap();
    std::os::unix::fs::symlink(w.root().join("nowhere"), u.join("dangling")).unwrap();
    let real_dir = w.root().join("elsewhere/realk");
    w.kernelspec(&w.root().join("elsewhere"), "realk", SIMPLE);
    std::os::unix::fs::symlink(&real_dir, u.join("linked")).unwrap();
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("kernels/linked\""));
}

#[test]
fn case14_unparseable_files_are_dropped() {
    let w = toolbox_world();
    let u = user_kernels(&w);
    w.kernelspec(&u, "malformed", "{\"argv\": [");
    w.kernelspec_bytes(&u, "bom", b"\xef\xbb\xbf{\"argv\": []}");
    w.kernelspec_bytes(&u, "latin1", b"{\"display_name\": \"caf\xe9\"}");
    w.kernelspec(&u, "comments", "// hi\n{}");
    w.kernelspec(&u, "toplist", "[]");
    w.kernelspec(&u, "fine", SIMPLE);
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("\"fine\"") && !real.contains("malformed"));
}

#[test]
fn case15_type_errors_drop_the_spec() {
    let w = toolbox_world();
    let u = user_kernels(&w);
    let bad = [
        ("dn-null", r#"{"display_name": null}"#),
        ("dn-int", r#"{"display_name": 5}"#),
        ("lang-null", r#"{"language": null}"#),
        ("kpv-float", r#"{"kernel_protocol_version": 5.3}"#),
        ("argv-null", r#"{"argv": null}"#),
        ("argv-obj", r#"{"argv": {}}"#),
        ("md-list", r#"{"metadata": []}"#),
        ("md-null", r#"{"metadata": null}"#),
        ("env-list", r#"{"env": []}"#),
        ("im-sigint", r#"{"interrupt_mode": "sigint"}"#),
        ("rd-key", r#"{"resource_dir": "/x"}"#),
    ];
    for (n, j) in bad {
        w.kernelspec(&u, n, j);
    }
    w.kernelspec(&u, "ok", SIMPLE);
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("\"ok\"") && !real.contains("dn-null"));
}

#[test]
fn case16_defaults_coercions_and_python_json() {
    let w = toolbox_world();
    let u = user_kernels(&w);
    w.kernelspec(&u, "empty", "{}");
    w.kernelspec(&u, "argvstr", r#"{"argv": "python -m x"}"#);
    w.kernelspec(&u, "msg", r#"{"interrupt_mode": "MESSAGE", "zzz": [1, 2]}"#);
    w.kernelspec(
        &u,
        "dup",
        r#"{"display_name": "a", "argv": ["x"], "display_name": "b"}"#,
    );
    w.kernelspec(&u, "nums", r#"{"metadata": {"nan": NaN, "big": 1e400, "neg": -Infinity, "f": 1E2, "i": 123456789012345678901234567890, "z": -0.0, "esc": "\ud800\u00e9\n\t\"", "astral": "😀"}, "env": {"A": 1, "B": null, "C": [true, false]}}"#);
    check(&w);
}

#[test]
fn case17_kernel_provisioner() {
    let w = toolbox_world();
    let u = user_kernels(&w);
    w.kernelspec(
        &u,
        "prov",
        r#"{"metadata": {"kernel_provisioner": {"provisioner_name": "local-provisioner"}}}"#,
    );
    w.kernelspec(&u, "provcfg", r#"{"metadata": {"kernel_provisioner": {"config": {"a": 1}, "provisioner_name": "local-provisioner"}}}"#);
    w.kernelspec(
        &u,
        "bogus",
        r#"{"metadata": {"kernel_provisioner": {"provisioner_name": "nope"}}}"#,
    );
    w.kernelspec(
        &u,
        "strprov",
        r#"{"metadata": {"kernel_provisioner": "provisioner_name"}}"#,
    );
    w.kernelspec(
        &u,
        "strother",
        r#"{"metadata": {"kernel_provisioner": "other"}}"#,
    );
    w.kernelspec(
        &u,
        "noname",
        r#"{"metadata": {"kernel_provisioner": {"config": {}}}}"#,
    );
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("\"config\": {}"));
}

#[test]
fn case18_default_provisioner_bogus() {
    let w = toolbox_world();
    w.kernelspec(&user_kernels(&w), "k", SIMPLE);
    w.set_var("JUPYTER_DEFAULT_PROVISIONER_NAME", "bogus");
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert_eq!(real, "{\n  \"kernelspecs\": {}\n}\n");
}

#[test]
fn case19_native_kernel_injected() {
    let w = World::bare();
    let v = w.jupyter_venv(&w.root().join("jv"));
    std::fs::remove_dir_all(v.prefix.join("share/jupyter/kernels/python3")).unwrap();
    let real = check_with(&w, &v.prefix.join("bin/jupyter"));
    assert!(real.contains("ipykernel/resources"));
}

#[test]
fn case20_no_ipykernel_no_ipython_and_migration() {
    let w = World::bare();
    let v = w.uv_venv(
        &w.root().join("bare-jupyter"),
        &support::toolbox().base_python,
        false,
    );
    w.uv_install(
        &v.python,
        &["jupyter_client==8.10.0", "jupyter_core==5.9.1"],
    )
    .unwrap();
    let jupyter = v.prefix.join("bin/jupyter");
    let real = check_with(&w, &jupyter);
    assert_eq!(real, "{\n  \"kernelspecs\": {}\n}\n");
    // ~/.ipython/kernels is not searched without IPython, but the first run migrates it.
    w.kernelspec(&w.home().join(".ipython/kernels"), "k", SIMPLE);
    let real = check_with(&w, &jupyter);
    assert!(real.contains(".local/share/jupyter/kernels/k"));
}

#[test]
fn case21_ipython_dir_is_searched_last() {
    let w = toolbox_world();
    // Mark migration as done so ~/.ipython/kernels is only listed, not copied.
    std::fs::create_dir_all(w.home().join(".jupyter")).unwrap();
    std::fs::write(w.home().join(".jupyter/migrated"), "2020").unwrap();
    w.kernelspec(&w.home().join(".ipython/kernels"), "ipk", SIMPLE);
    w.kernelspec(&w.home().join(".ipython/kernels"), "python3", SIMPLE);
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains(".ipython/kernels/ipk"));
    let ipd = w.root().join("ipd");
    w.kernelspec(&ipd.join("kernels"), "fromenv", SIMPLE);
    w.set_var("IPYTHONDIR", ipd.to_str().unwrap());
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("ipd/kernels/fromenv") && !real.contains("ipk"));
}

#[test]
fn case21_xdg_config_ipython_when_no_dot_ipython() {
    let w = toolbox_world();
    std::fs::create_dir_all(w.home().join(".jupyter")).unwrap();
    std::fs::write(w.home().join(".jupyter/migrated"), "2020").unwrap();
    w.kernelspec(&w.home().join(".config/ipython/kernels"), "xdgk", SIMPLE);
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains(".config/ipython/kernels/xdgk"));
}

#[test]
fn case22_config_allowed_and_native() {
    let w = toolbox_world();
    let u = user_kernels(&w);
    w.kernelspec(&u, "userk", SIMPLE);
    w.kernelspec(&u, "other", SIMPLE);
    std::fs::create_dir_all(w.home().join(".jupyter")).unwrap();
    std::fs::write(
        w.home().join(".jupyter/jupyter_config.json"),
        r#"{"KernelSpecManager": {"allowed_kernelspecs": ["userk", "python3"]}}"#,
    )
    .unwrap();
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("userk") && !real.contains("\"other\""));
    w.set_var("JUPYTER_NO_CONFIG", "1");
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("\"other\""));
}

#[test]
fn case22_ensure_native_kernel_false() {
    let w = World::bare();
    let v = w.jupyter_venv(&w.root().join("jv"));
    std::fs::remove_dir_all(v.prefix.join("share/jupyter/kernels/python3")).unwrap();
    std::fs::create_dir_all(w.home().join(".jupyter")).unwrap();
    std::fs::write(
        w.home().join(".jupyter/jupyter_config.json"),
        r#"{"KernelSpecManager": {"ensure_native_kernel": false}}"#,
    )
    .unwrap();
    let real = check_with(&w, &v.prefix.join("bin/jupyter"));
    assert!(!real.contains("python3"));
}

/// A `--system-site-packages` venv holding Jupyter: user site is enabled there.
fn system_site_jupyter(w: &World) -> PathBuf {
    let prefix = w.root().join("ssp");
    let out = w.run(
        &support::toolbox().uv,
        &[
            "venv",
            "--system-site-packages",
            "--python",
            support::toolbox().base_python.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    w.uv_install(
        &prefix.join("bin/python"),
        &[
            "jupyter_client==8.10.0",
            "jupyter_core==5.9.1",
            "ipykernel==7.4.0",
        ],
    )
    .unwrap();
    prefix.join("bin/jupyter")
}

#[test]
fn case23_user_base_share_jupyter() {
    let w = World::bare();
    let jupyter = system_site_jupyter(&w);
    let ub = w.root().join("ub");
    w.kernelspec(&ub.join("share/jupyter/kernels"), "ubk", SIMPLE);
    w.set_var("PYTHONUSERBASE", ub.to_str().unwrap());
    let real = check_with(&w, &jupyter);
    assert!(real.contains("ub/share/jupyter/kernels/ubk"));
    w.set_var("PYTHONNOUSERSITE", "1");
    let real = check_with(&w, &jupyter);
    assert!(!real.contains("ubk"));
}

#[test]
fn case24_home_is_a_symlink() {
    let w = World::bare();
    let jupyter = system_site_jupyter(&w);
    let link = w.root().join("homelink");
    std::os::unix::fs::symlink(w.home(), &link).unwrap();
    w.set_var("HOME", link.to_str().unwrap());
    w.kernelspec(&user_kernels(&w), "hk", SIMPLE);
    let real = check_with(&w, &jupyter);
    assert!(real.contains("hk"));
}

/// Real Jupyter lists a kernel dir whose name is not UTF-8 under its `os.fsdecode` name
/// (`"k\udce9\udcff"` in its JSON, a lone-surrogate escape), warns only that the name is
/// invalid, and lists the rest; kip's `--jupyter-json` matches byte for byte, and its own
/// `--json` lists the same kernels, the name as the same escape in plain text.
#[test]
fn extra_non_utf8_directory_name() {
    let w = toolbox_world();
    use std::os::unix::ffi::OsStrExt;
    let mk = |name: &[u8], json: &str| {
        let dir = user_kernels(&w).join(std::ffi::OsStr::from_bytes(name));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kernel.json"), json).unwrap();
    };
    mk(b"k\xe9\xff", SIMPLE);
    // Upper case folds into the key (`K` → `k`); the surrogates stay as they are.
    mk(
        b"K\xe9\xfe",
        r#"{"argv": ["/x\udcfe/python", "{connection_file}"], "display_name": "D\udcfe"}"#,
    );
    mk(b"broken\xff", "{not json");
    w.kernelspec(&user_kernels(&w), "good", SIMPLE);
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("\"k\\udce9\\udcff\""), "{real}");
    assert!(real.contains("\"k\\udce9\\udcfe\""), "{real}");
    assert!(real.contains("\"good\""), "{real}");
    let jupyter = w.bin().join("jupyter");
    let out = w.kip(&["kernels", "--json", "--jupyter", jupyter.to_str().unwrap()]);
    out.ok();
    let v = out.json();
    let names = support::kernel_names(&v);
    for n in [
        "k\\udce9\\udcff",
        "k\\udce9\\udcfe",
        "broken\\udcff",
        "good",
        "python3",
    ] {
        assert!(names.contains(&n), "{n} not in {names:?}");
    }
}

#[test]
fn extra_many_kernels_across_dirs() {
    let w = toolbox_world();
    let a = w.root().join("A");
    for i in 0..40 {
        let dir = if i % 2 == 0 {
            user_kernels(&w)
        } else {
            kdir(&a)
        };
        w.kernelspec(
            &dir,
            &format!("k{i:02}"),
            &SIMPLE.replace("\"K\"", &format!("\"Kernel {i}\"")),
        );
    }
    w.kernelspec(&kdir(&a), "k00", SIMPLE);
    w.set_var("JUPYTER_PATH", a.to_str().unwrap());
    check(&w);
}

#[test]
fn extra_ipykernel_installed_venv_kernel() {
    let w = toolbox_world();
    let v = w.uv_venv(
        &w.root().join("envA"),
        &support::toolbox().base_python,
        false,
    );
    w.uv_install(&v.python, &["ipykernel==7.4.0"]).unwrap();
    let out = w.run(
        &v.python,
        &[
            "-m",
            "ipykernel",
            "install",
            "--user",
            "--name",
            "enva",
            "--display-name",
            "Env A \u{e9}",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    check(&w);
}

#[test]
fn extra_empty_world_without_jupyter_dirs() {
    let w = toolbox_world();
    let real = check_with(&w, &w.bin().join("jupyter"));
    assert!(real.contains("\"python3\""));
}

#[test]
fn extra_xdg_empty_and_data_dir_missing() {
    let w = toolbox_world();
    w.set_var("XDG_DATA_HOME", "");
    w.set_var("JUPYTER_PATH", "");
    w.kernelspec(&user_kernels(&w), "still", SIMPLE);
    check(&w);
}
