//! What kip remembers never hides a change: after warm runs (the probe cache filled, the
//! same kernels listed again), an in-place edit of one kernel.json and a new `.pth` file show
//! in the very next run. kip remembers classifications only within one read-only pass
//! (`src/python/memo.rs`); these tests guard that a later cache across runs keeps this true.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{toolbox, Venv, World};

fn user_kernels(w: &World) -> PathBuf {
    w.root().join("xdg/data/jupyter/kernels")
}

fn spec(python: &Path, display: &str) -> String {
    serde_json::json!({
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display,
        "language": "python",
    })
    .to_string()
}

fn kernel<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == name)
        .unwrap_or_else(|| panic!("no kernel {name} in {v}"))
}

/// `kip kernels --json`, run twice first so the second and later runs are warm.
fn kernels_warm(w: &World) -> Value {
    w.kip(&["kernels", "--json"]).ok();
    let out = w.kip(&["kernels", "--json"]);
    out.ok();
    out.json()
}

/// Two uv venvs (A with ipykernel from the wheelhouse, B without), and many kernels on them:
/// the memo is shared by all kernels of one interpreter.
fn world() -> (World, Venv, Venv) {
    let w = World::new();
    w.use_toolbox_jupyter();
    let a = w.uv_venv(&w.root().join("envA"), &toolbox().base_python, false);
    w.uv_install(&a.python, &["ipykernel==7.4.0"]).unwrap();
    let b = w.uv_venv(&w.root().join("envB"), &toolbox().base_python, false);
    for i in 0..20 {
        let (venv, tag) = if i % 2 == 0 { (&a, "A") } else { (&b, "B") };
        w.kernelspec(
            &user_kernels(&w),
            &format!("k{i:02}"),
            &spec(&venv.python, &format!("{tag} {i}")),
        );
    }
    (w, a, b)
}

#[test]
fn in_place_kernel_json_edit_shows_in_the_next_warm_run() {
    let (w, a, b) = world();
    let v = kernels_warm(&w);
    let k = kernel(&v, "k03");
    assert_eq!(k["display_name"], "B 3");
    assert_eq!(k["environment"]["prefix"], b.prefix.to_str().unwrap());
    assert_eq!(k["environment"]["ipykernel"], false);

    // Rewrite the same file (same inode, same directory mtime): B's kernel now runs A.
    let path = user_kernels(&w).join("k03/kernel.json");
    let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    f.write_all(spec(&a.python, "edited").as_bytes()).unwrap();
    drop(f);
    assert_eq!(
        ino,
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap()),
        "edited in place"
    );

    let out = w.kip(&["kernels", "--json"]);
    out.ok();
    let v = out.json();
    let k = kernel(&v, "k03");
    assert_eq!(k["display_name"], "edited");
    assert_eq!(k["interpreter"]["python"], a.python.to_str().unwrap());
    assert_eq!(k["environment"]["prefix"], a.prefix.to_str().unwrap());
    assert_eq!(k["environment"]["ipykernel"], true);
    // The other kernels of B are unchanged.
    assert_eq!(
        kernel(&v, "k05")["environment"]["prefix"],
        b.prefix.to_str().unwrap()
    );
    // And Jupyter's own listing agrees byte for byte.
    let (real, _) = w.compare_kernelspec_json(&w.bin().join("jupyter"));
    assert!(real.contains("\"edited\""), "{real}");
}

fn ipykernel_missing_for(w: &World, kernel: &str) -> bool {
    let out = w.kip(&["doctor", "--json", "--no-start"]);
    out.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == "kernel-ipykernel-missing" && f["subject"] == kernel)
}

#[test]
fn new_pth_file_shows_in_the_next_warm_run() {
    let (w, a, b) = world();
    // B has no ipykernel: doctor says so, warm or cold.
    assert!(ipykernel_missing_for(&w, "k01"));
    assert!(ipykernel_missing_for(&w, "k01"));
    assert!(!ipykernel_missing_for(&w, "k00"));

    // A .pth in B's site-packages naming A's: B's interpreter now imports A's ipykernel.
    std::fs::write(
        b.site_packages().join("zz-shared.pth"),
        format!("{}\n", a.site_packages().display()),
    )
    .unwrap();
    let real = w.run(
        &b.python,
        &["-c", "import ipykernel, sys; print(ipykernel.__file__)"],
    );
    real.ok();
    assert!(
        real.stdout.contains(a.site_packages().to_str().unwrap()),
        "{}",
        real.show()
    );
    assert!(
        !ipykernel_missing_for(&w, "k01"),
        "the new .pth shows in the next run"
    );

    // Emptying the .pth (the directory's mtime does not change) shows too.
    let pth = b.site_packages().join("zz-shared.pth");
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&pth)
        .unwrap();
    assert!(ipykernel_missing_for(&w, "k01"));
}
