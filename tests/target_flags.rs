//! `--kernel-pid PID` and `--connection-file FILE`: a running kernel as the target, resolved as
//! the inside-a-kernel default is, including a kernel that no kernelspec names.

mod support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::{toolbox, World};

/// An ad-hoc `python -m ipykernel_launcher -f FILE` in `world`, killed on drop.
struct AdHocKernel(Child);

impl Drop for AdHocKernel {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_running_kernel_no_kernelspec_names_is_a_target_by_pid_or_connection_file() {
    let w = World::new();
    let v = w.uv_venv(&w.root().join("adhoc"), &toolbox().base_python, false);
    w.uv_install(&v.python, &["ipykernel==7.4.0"]).unwrap();
    let conn = w.root().join("kernel-adhoc.json");
    let mut c = w.command(&v.python);
    let log = w.root().join("kernel-adhoc.log");
    c.args(["-m", "ipykernel_launcher", "-f"])
        .arg(&conn)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut k = AdHocKernel(c.spawn().expect("start an ad-hoc kernel"));
    let pid = k.0.id().to_string();
    // A running kernel, as a user has one: up once it has written its connection file.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !conn.exists() {
        if let Ok(Some(st)) = k.0.try_wait() {
            panic!(
                "the ad-hoc kernel exited ({st})\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no {} after 60 s",
            conn.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let out = w.kip(&["why", "os", "--kernel-pid", &pid, "--json"]);
    out.ok();
    let doc = out.json();
    assert_eq!(doc["target"], v.prefix.to_str().unwrap(), "{}", out.stderr);
    assert_eq!(doc["python"], v.python.to_str().unwrap());
    assert!(
        out.stderr
            .contains(&format!("--kernel-pid {pid} → kernel ? (pid {pid})")),
        "{}",
        out.stderr
    );

    let out = w.kip(&[
        "list",
        "--connection-file",
        conn.to_str().unwrap(),
        "--json",
    ]);
    out.ok();
    assert_eq!(out.json()["prefix"], v.prefix.to_str().unwrap());

    // Not a kernel: a clear error, exit 1.
    let me = std::process::id().to_string();
    let out = w.kip(&["why", "os", "--kernel-pid", &me]);
    out.code(1);
    assert!(
        out.stderr.contains(&format!(
            "--kernel-pid {me}: no running ipykernel process has that pid"
        )),
        "{}",
        out.stderr
    );
}

/// Spyder's IPython console runs `python -m spyder_kernels.console -f FILE`, a subclass of
/// ipykernel's kernel: `%kip` there passes `--kernel-pid`, which must find it like any kernel.
/// A real spyder-kernels 3.1.6 kernel, started through jupyter_client.
#[test]
fn a_spyder_kernel_is_a_target_by_pid() {
    let w = World::new();
    w.use_toolbox_jupyter();
    let v = w.uv_venv(&w.root().join("spyenv"), &toolbox().base_python, false);
    w.uv_install_from(
        &v.python,
        &["spyder-kernels==3.1.6", "ipykernel==6.29.5"],
        &[&toolbox().root.join("wheels-spyder")],
    )
    .unwrap();
    let spec = serde_json::json!({
        "argv": [v.python, "-m", "spyder_kernels.console", "-f", "{connection_file}"],
        "display_name": "Spyder",
        "language": "python",
    });
    w.kernelspec(
        &w.root().join("xdg/data/jupyter/kernels"),
        "spy",
        &spec.to_string(),
    );
    w.wheel("demo", "1.0", &[("demo", "WHERE = __file__\n")]);
    let mut k = w.start_kernel("spy");
    let pid = k.kernel_pid().unwrap().to_string();
    let before = k.execute("import demo");
    assert!(before.error.is_some(), "{before:?}");

    let out = w.kip(&[
        "install",
        "demo",
        "--kernel-pid",
        &pid,
        "--find-links",
        w.root().join("wheels").to_str().unwrap(),
        "--json",
    ]);
    out.ok();
    assert!(
        out.stderr
            .contains(&format!("--kernel-pid {pid} → kernel spy (pid {pid})")),
        "{}",
        out.stderr
    );
    let after = k.execute("import demo; print(demo.WHERE)");
    assert!(after.error.is_none(), "{after:?}");
    assert!(after.stdout.contains("spyenv"), "{after:?}");
    let ps = w.kip(&["ps", "--json"]);
    ps.ok();
    assert!(
        ps.stdout.contains(&format!("\"pid\": {pid}")),
        "{}",
        ps.stdout
    );
}
