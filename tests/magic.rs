//! The IPython extension `kip` as shipped: the wheel of this checkout installed into a kernel's
//! env, real kernels through jupyter_client, packages from local wheels. `%kip install` targets
//! the live kernel, says what an install means for what is already imported, and a
//! `ModuleNotFoundError` is followed by kip's answer (PRODUCT.md "Faces": in the notebook).

mod support;

use std::path::{Path, PathBuf};

use support::wheel::wheel;
use support::{toolbox, KernelOpts, KernelOutput, KernelRun, KernelSession, Venv, World};

/// A kernel env (ipykernel + this checkout's jupyter-kip) registered as kernel `name` in the
/// world's user kernels dir (or only in `private`, which no Jupyter lookup of the world sees).
fn kernel_env(w: &World, name: &str, private: Option<&Path>) -> Venv {
    // pip seeded, as `python -m venv` envs have it
    let venv = w.uv_venv(&w.root().join(name), &toolbox().base_python, true);
    w.uv_install(
        &venv.python,
        &[
            "jupyter_client==8.10.0",
            "jupyter_core==5.9.1",
            "ipykernel==7.4.0",
        ],
    )
    .unwrap_or_else(|e| panic!("install ipykernel: {e}"));
    let whl = wheel();
    w.uv_install(&venv.python, &[whl.to_str().unwrap()])
        .unwrap_or_else(|e| panic!("install the kip wheel: {e}"));
    let spec = format!(
        r#"{{"argv": ["{}", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "{name}", "language": "python"}}"#,
        venv.python.display()
    );
    w.kernelspec(private.unwrap_or(&w.user_kernels()), name, &spec);
    venv
}

/// Installs inside the kernel come from the world's local wheels only, through the pip
/// settings kip reads (and translates for uv), as a user's pip.conf would say.
fn opts(w: &World) -> KernelOpts {
    KernelOpts {
        env: vec![
            ("PIP_NO_INDEX".into(), Some("1".into())),
            (
                "PIP_FIND_LINKS".into(),
                Some(w.root().join("wheels").display().to_string()),
            ),
        ],
        timeout: Some(300),
        ..Default::default()
    }
}

fn start(w: &World, name: &str, o: &KernelOpts) -> KernelSession {
    w.start_kernel_with(name, o)
}

fn ok(r: &KernelRun) {
    assert_eq!(
        r.error, None,
        "stdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
}

/// Every output's text, in arrival order.
fn all_text(r: &KernelRun) -> String {
    r.outputs
        .iter()
        .map(|o| o.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The kernel process's own pid, as the kernel sees it.
fn pid_of(k: &mut KernelSession) -> u32 {
    let r = k.execute("import os; print(os.getpid())");
    ok(&r);
    r.stdout
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

/// The progress output that contains `needle`: a `stdout` stream message, because kip's progress
/// reaches the magic as `--json-stream` events on kip's stdout (with `--json`, kip's own lines
/// go to stderr, and would land in the cell's stderr).
fn progress<'a>(r: &'a KernelRun, needle: &str) -> &'a KernelOutput {
    assert!(
        !r.outputs
            .iter()
            .any(|o| o.kind == "stderr" && o.text.contains(needle)),
        "kip's own progress came on stderr, not as --json-stream events:\n{}",
        all_text(r)
    );
    r.outputs
        .iter()
        .find(|o| o.kind == "stdout" && o.text.contains(needle))
        .unwrap_or_else(|| panic!("no progress line with {needle:?}:\n{}", all_text(r)))
}

/// The target kip reported: this kernel, found by the pid the magic passed (`--kernel-pid`).
fn by_pid(prefix: &Path, pid: u32, kernel: &str, python: &Path) -> String {
    format!(
        "target: {} (--kernel-pid {pid} → kernel {kernel} (pid {pid}), whose Python is {})",
        prefix.display(),
        python.display()
    )
}

fn display(r: &KernelRun) -> &KernelOutput {
    r.outputs
        .iter()
        .rfind(|o| o.kind == "display_data")
        .unwrap_or_else(|| panic!("no display_data:\n{}", all_text(r)))
}

#[test]
fn new_package_is_importable_at_once_and_progress_comes_first() {
    let w = World::new();
    let venv = kernel_env(&w, "mk", None);
    w.wheel("demo", "1.0", &[("demo/__init__.py", "V = '1.0'\n")]);
    let mut k = start(&w, "mk", &opts(&w));
    let pid = pid_of(&mut k);
    // the user tried first: the import system has looked at site-packages already
    let r = k.execute("import demo");
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.starts_with("ModuleNotFoundError")),
        "{:?}",
        r.error
    );
    let r = k.execute("%load_ext kip");
    ok(&r);
    // the binary of the extension's own distribution, not one from PATH
    let r = k.execute("from kip import _run; print(_run.find_binary())");
    ok(&r);
    assert_eq!(
        Path::new(r.stdout.trim()),
        venv.bin().join("kip"),
        "{}",
        r.stdout
    );
    let r = k.execute("%kip install demo");
    ok(&r);
    let report = display(&r);
    assert!(
        report.text.contains("demo 1.0 is new: importable now"),
        "{}",
        all_text(&r)
    );
    assert!(report.html.as_deref().unwrap_or("").contains("<table>"));
    // progress streamed into the cell as kip worked, before the report: the target (this very
    // kernel, named by its pid), the installer's command, the import proof
    let target = progress(&r, &by_pid(&venv.prefix, pid, "mk", &venv.python));
    let running = progress(&r, "running: ");
    let proof = progress(&r, "import demo: ok");
    assert!(
        target.t <= running.t && running.t <= proof.t && proof.t < report.t,
        "target at {}, running at {}, proof at {}, report at {}:\n{}",
        target.t,
        running.t,
        proof.t,
        report.t,
        all_text(&r)
    );
    assert!(!all_text(&r).contains("may need to restart"));
    let r = k.execute("import demo; print(demo.V, demo.__file__)");
    ok(&r);
    assert!(r.stdout.starts_with("1.0 "), "{}", r.stdout);
    assert!(
        r.stdout.trim_end().ends_with("demo/__init__.py")
            && r.stdout.contains(venv.prefix.to_str().unwrap()),
        "{}",
        r.stdout
    );
}

#[test]
fn stale_module_is_named_and_a_never_imported_one_needs_no_restart() {
    let w = World::new();
    let venv = kernel_env(&w, "sk", None);
    for v in ["1.0", "2.0"] {
        w.wheel("demo", v, &[("demo/__init__.py", &format!("V = '{v}'\n"))]);
        w.wheel("quiet", v, &[("quiet/__init__.py", "")]);
    }
    w.uv_install(&venv.python, &["demo==1.0", "quiet==1.0"])
        .unwrap();
    let mut k = start(&w, "sk", &opts(&w));
    ok(&k.execute("import demo\n%load_ext kip"));
    let r = k.execute("%kip install demo==2.0");
    ok(&r);
    let text = &display(&r).text;
    assert!(
        text.contains("`demo` 1.0 is loaded; 2.0 is installed: restart the kernel to use it"),
        "{}",
        all_text(&r)
    );
    let r = k.execute("%kip install quiet==2.0");
    ok(&r);
    let text = &display(&r).text;
    assert!(
        text.contains("quiet 1.0 → 2.0: not imported in this kernel, no restart needed"),
        "{}",
        all_text(&r)
    );
    assert!(!text.contains("restart the kernel"), "{text}");
    // and it is true: the new version imports in this very kernel
    let r = k.execute("import quiet, importlib.metadata as m; print(m.version('quiet'))");
    ok(&r);
    assert_eq!(r.stdout.trim(), "2.0");
}

/// The hint: the cell's outputs are the untouched traceback, then kip's answer.
fn hint(k: &mut KernelSession, module: &str) -> String {
    let r = k.execute(&format!("import {module}"));
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.starts_with("ModuleNotFoundError")),
        "{:?}",
        r.error
    );
    let n = r.outputs.len();
    assert!(n >= 2, "{}", all_text(&r));
    let (err, last) = (&r.outputs[n - 2], &r.outputs[n - 1]);
    assert_eq!(err.kind, "error", "{}", all_text(&r));
    // IPython's own traceback (coloured), as it always is
    assert!(
        err.text.contains("Traceback") && err.text.contains(&format!("No module named '{module}'")),
        "{}",
        err.text
    );
    assert_eq!(last.kind, "stdout", "{}", all_text(&r));
    // once per module per session
    let again = k.execute(&format!("import {module}"));
    assert!(!again.stdout.contains("kip:"), "{}", again.stdout);
    last.text.clone()
}

#[test]
fn import_hint_names_the_distribution_and_the_install_line() {
    let w = World::new();
    kernel_env(&w, "hk", None);
    let mut k = start(&w, "hk", &opts(&w));
    ok(&k.execute("%load_ext kip"));
    let h = hint(&mut k, "cv2");
    assert!(
        h.contains("provided by the distribution opencv-python"),
        "{h}"
    );
    assert!(h.trim_end().ends_with("%kip install opencv-python"), "{h}");
    // a module in no env here and in no table: explained, never offered as an install
    let h = hint(&mut k, "zz_kip_unheard_of");
    assert!(h.contains("does not know which distribution"), "{h}");
    assert!(!h.contains("%kip install"), "{h}");
    assert!(!h.contains("kip install"), "{h}");
}

#[test]
fn import_hint_names_the_env_and_kernel_that_have_it() {
    let w = World::new();
    kernel_env(&w, "here", None);
    // another env, only a kernelspec names it, with a module whose distribution has another name
    let other = w.uv_venv(&w.root().join("otherenv"), &toolbox().base_python, false);
    w.wheel("fancy-dist", "3.1", &[("fancymod/__init__.py", "")]);
    w.uv_install(&other.python, &["fancy-dist"]).unwrap();
    w.kernelspec(
        &w.user_kernels(),
        "otherk",
        &format!(
            r#"{{"argv": ["{}", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "O", "language": "python"}}"#,
            other.python.display()
        ),
    );
    let mut k = start(&w, "here", &opts(&w));
    ok(&k.execute("%load_ext kip"));
    let h = hint(&mut k, "fancymod");
    assert!(
        h.contains(&format!(
            "fancy-dist 3.1 is installed in {}",
            other.prefix.display()
        )),
        "{h}"
    );
    assert!(h.contains("used by kernel otherk"), "{h}");
    assert!(h.trim_end().ends_with("%kip install fancy-dist"), "{h}");
}

#[test]
fn a_kernel_no_kernelspec_names_still_targets_the_live_interpreter() {
    let w = World::new();
    let private: PathBuf = w.root().join("private-kernels");
    let venv = kernel_env(&w, "adhoc", Some(&private));
    w.wheel("demo", "1.0", &[("demo/__init__.py", "V = '1.0'\n")]);
    // kip's own view has no such kernel
    let out = w.kip(&["kernels", "--json"]);
    out.ok();
    assert!(!out.stdout.contains("\"adhoc\""), "{}", out.stdout);
    let o = KernelOpts {
        kernel_dirs: vec![private.clone()],
        ..opts(&w)
    };
    let mut k = start(&w, "adhoc", &o);
    let pid = pid_of(&mut k);
    ok(&k.execute("%load_ext kip"));
    let r = k.execute("%kip install demo");
    ok(&r);
    // found through its pid, though no kernelspec kip reads names it
    let target = progress(&r, &by_pid(&venv.prefix, pid, "adhoc", &venv.python));
    assert!(target.t < display(&r).t, "{}", all_text(&r));
    let r = k.execute("import demo, sys; print(demo.__file__.startswith(sys.prefix))");
    ok(&r);
    assert_eq!(r.stdout.trim(), "True");
}

#[test]
fn kernel_add_with_hook_gives_the_hint_without_load_ext() {
    let w = World::new();
    let venv = kernel_env(&w, "plain", None);
    let out = w.kip(&[
        "kernel",
        "add",
        venv.prefix.to_str().unwrap(),
        "--name",
        "hooked",
        "--with-hook",
        "--json",
    ]);
    out.ok();
    let argv = out.json()["kernel_json"]["argv"].clone();
    assert_eq!(
        argv.as_array().unwrap().last().unwrap(),
        "--ext=kip",
        "{argv}"
    );
    let mut k = start(&w, "hooked", &opts(&w));
    let h = hint(&mut k, "cv2");
    assert!(h.trim_end().ends_with("%kip install opencv-python"), "{h}");
    // no profile was written, IPYTHONDIR untouched
    let r = k.execute("import os; print(os.environ.get('IPYTHONDIR'))");
    ok(&r);
    assert_eq!(r.stdout.trim(), "None");
    assert!(!w
        .home()
        .join(".ipython/profile_default/ipython_config.py")
        .exists());

    // an env that cannot import the extension is refused, with the line that fixes it
    let bare = w.jupyter_venv(&w.root().join("bare"));
    let out = w.kip(&[
        "kernel",
        "add",
        bare.prefix.to_str().unwrap(),
        "--name",
        "nohook",
        "--with-hook",
    ]);
    out.code(1);
    assert!(
        out.stderr.contains(&format!(
            "kip install jupyter-kip --python {}",
            bare.python.display()
        )),
        "{}",
        out.stderr
    );
    assert!(!w.user_kernels().join("nohook").exists());

    // kernel fix --with-hook: the same argv for an existing kernel, once, backed up
    let argv_of = |name: &str| -> serde_json::Value {
        let t = std::fs::read_to_string(w.user_kernels().join(name).join("kernel.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&t).unwrap()["argv"].clone()
    };
    let out = w.kip(&["kernel", "fix", "plain", "--with-hook", "--json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["kernels"][0]["changed"], true, "{v}");
    assert!(v["kernels"][0]["backup"].is_string(), "{v}");
    assert_eq!(
        argv_of("plain").as_array().unwrap().last().unwrap(),
        "--ext=kip"
    );
    let out = w.kip(&["kernel", "fix", "plain", "--with-hook", "--json"]);
    out.ok();
    let n = argv_of("plain")
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| *a == "--ext=kip")
        .count();
    assert_eq!(n, 1);
    // and refused, with the install line, for a kernel whose env lacks jupyter-kip
    w.kernelspec(
        &w.user_kernels(),
        "barek",
        &format!(
            r#"{{"argv": ["{}", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "B", "language": "python"}}"#,
            bare.python.display()
        ),
    );
    let out = w.kip(&["kernel", "fix", "barek", "--with-hook"]);
    out.code(1);
    assert!(
        out.stdout.contains("kip install jupyter-kip --python"),
        "{}",
        out.show()
    );
    assert!(!argv_of("barek").to_string().contains("--ext=kip"));
}

#[test]
fn list_why_uninstall_and_doctor_render_their_reports() {
    let w = World::new();
    let venv = kernel_env(&w, "ok", None);
    w.wheel("demo", "1.0", &[("demo/__init__.py", "")]);
    w.wheel("quiet", "1.0", &[("quiet/__init__.py", "")]);
    w.uv_install(&venv.python, &["demo", "quiet"]).unwrap();
    let mut k = start(&w, "ok", &opts(&w));
    let pid = pid_of(&mut k);
    ok(&k.execute("import demo\n%load_ext kip"));
    // list: a table (HTML) with the plain text beside it, for this kernel by its pid
    let r = k.execute("%kip list");
    ok(&r);
    progress(&r, &by_pid(&venv.prefix, pid, "ok", &venv.python));
    let d = display(&r);
    let html = d.html.as_deref().unwrap_or("");
    assert!(html.contains("<td>demo</td><td>1.0</td>"), "{html}");
    assert!(
        d.text.contains(&format!("in {}", venv.prefix.display())),
        "{}",
        d.text
    );
    // why: where it comes from in this kernel
    let r = k.execute("%kip why demo");
    ok(&r);
    assert!(
        display(&r).text.starts_with("`demo` is importable here: "),
        "{}",
        all_text(&r)
    );
    // uninstall: a removed module that is loaded is named; one never imported is not
    let r = k.execute("%kip uninstall demo quiet");
    ok(&r);
    let text = &display(&r).text;
    assert!(
        text.contains("`demo` 1.0 is loaded but demo was removed: restart the kernel to drop it"),
        "{}",
        all_text(&r)
    );
    assert!(
        text.contains("quiet 1.0 removed: never imported here, no restart needed"),
        "{text}"
    );
    // doctor: findings as a table, or the one line that says there are none; no kernel started
    let r = k.execute("from kip import _run; print(_run.command('kip', ['doctor']))");
    ok(&r);
    assert!(r.stdout.contains("'--no-start'"), "{}", r.stdout);
    let r = k.execute("%kip doctor");
    ok(&r);
    let d = display(&r);
    assert!(
        d.text == "kip doctor: nothing wrong found"
            || d.html
                .as_deref()
                .is_some_and(|h| h.contains("<th>severity</th>")),
        "{}",
        all_text(&r)
    );
}
