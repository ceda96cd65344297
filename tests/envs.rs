//! `kip envs`: classification from disk matches what each interpreter reports about itself;
//! a warm run starts no interpreter and a change to what the answer depends on re-probes;
//! wrapper scripts are probed every time (never cached); a hanging interpreter never stalls
//! the listing.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{pyenv_version, toolbox, World};

/// What the interpreter itself says, under the world's environment.
fn self_report(w: &World, python: &Path) -> Value {
    let code = r#"
import sys, json, site, sysconfig, os, importlib.util as u
em = os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')
print(json.dumps({
    'prefix': sys.prefix, 'base_prefix': sys.base_prefix,
    'version': '%d.%d.%d' % sys.version_info[:3],
    'site_packages': site.getsitepackages(),
    'user_site': site.getusersitepackages(), 'enable_user_site': site.ENABLE_USER_SITE,
    'pip': u.find_spec('pip') is not None, 'ipykernel': u.find_spec('ipykernel') is not None,
    'externally_managed': em if sys.prefix == sys.base_prefix and os.path.isfile(em) else None,
}))
"#;
    let out = w.run(python, &["-c", code]);
    out.ok();
    serde_json::from_str(out.stdout.trim()).unwrap()
}

fn envs_json(w: &World) -> Value {
    let out = w.kip(&["envs", "--json"]);
    out.ok();
    out.json()
}

fn env_for<'a>(v: &'a Value, prefix: &Path) -> &'a Value {
    v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["prefix"] == prefix.to_str().unwrap())
        .unwrap_or_else(|| panic!("no env {} in {v:#}", prefix.display()))
}

fn executable(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
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
    let (v311, v312) = (pyenv_version("3.11"), pyenv_version("3.12"));
    let pyenv = w.pyenv_root(&[&v311, &v312]);
    w.pyenv_global(&v312);
    // Found through PATH (a pyenv shim, two venvs), VIRTUAL_ENV, environments.txt, PYENV_ROOT;
    // Debian's python3 is on PATH already (/usr/bin).
    w.prepend_path(&ve.prefix.join("bin"));
    w.prepend_path(&venv.prefix.join("bin"));
    w.prepend_path(&pyenv.join("shims"));
    w.set_var("VIRTUAL_ENV", uvv.prefix.to_str().unwrap());
    w.set_var("KIP_DEBUG", "1");

    let t0 = Instant::now();
    let out = w.kip(&["envs", "--json"]);
    let took = t0.elapsed();
    out.ok();
    let v = out.json();
    eprintln!("kip envs --json (cold) took {took:?}");
    // Everything here is decidable from disk: no interpreter was started.
    assert!(
        !out.stderr.contains("kip: probing"),
        "probed although disk decides:\n{}",
        out.stderr
    );

    let debian = PathBuf::from("/usr/bin/python3");
    let cases: Vec<(PathBuf, &str, Option<bool>)> = vec![
        (venv.prefix.clone(), "venv", Some(true)),
        (uvv.prefix.clone(), "uv-venv", Some(false)),
        (ve.prefix.clone(), "virtualenv", Some(true)),
        (conda.clone(), "conda", Some(true)),
        (pyenv.join("versions").join(&v311), "pyenv", None),
        (pyenv.join("versions").join(&v312), "pyenv", None),
        (PathBuf::from("/usr"), "system", None),
    ];
    for (prefix, kind, pip) in cases {
        let e = env_for(&v, &prefix);
        assert_eq!(e["kind"], kind, "{e:#}");
        assert_eq!(e["evidence"], "disk", "{e:#}");
        let python = if prefix == Path::new("/usr") {
            debian.clone()
        } else {
            PathBuf::from(e["interpreter"].as_str().unwrap())
        };
        let me = self_report(&w, &python);
        let ctx = format!("{}: kip {e:#}\nself {me:#}", prefix.display());
        assert_eq!(me["prefix"], e["prefix"], "sys.prefix; {ctx}");
        assert_eq!(
            me["base_prefix"], e["base_prefix"],
            "sys.base_prefix; {ctx}"
        );
        assert_eq!(me["version"], e["version"], "{ctx}");
        assert_eq!(me["site_packages"], e["site_packages"], "{ctx}");
        assert_eq!(me["user_site"], e["user_site"]["path"], "{ctx}");
        assert_eq!(me["enable_user_site"], e["user_site"]["enabled"], "{ctx}");
        assert_eq!(me["pip"], e["pip"], "{ctx}");
        assert_eq!(me["ipykernel"], e["ipykernel"], "{ctx}");
        assert_eq!(me["externally_managed"], e["externally_managed"], "{ctx}");
        if let Some(pip) = pip {
            assert_eq!(e["pip"], pip, "{ctx}");
        }
    }
    assert_eq!(env_for(&v, &uvv.prefix)["ipykernel"], true);
    assert!(env_for(&v, &uvv.prefix)["sources"]
        .as_array()
        .unwrap()
        .contains(&Value::from("virtual-env-var")));
    let shimmed = env_for(&v, &pyenv.join("versions").join(&v312));
    assert_eq!(shimmed["sources"][0], "pyenv-shim", "{shimmed:#}");
    let deb = env_for(&v, Path::new("/usr"));
    assert!(deb["externally_managed"]
        .as_str()
        .unwrap()
        .ends_with("/EXTERNALLY-MANAGED"));
    // Debian's merged /usr: /bin and /usr/bin are one PATH directory.
    let deb_paths: Vec<&str> = deb["interpreters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        !deb_paths.iter().any(|p| p.starts_with("/bin/")),
        "{deb_paths:?}"
    );
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v:#}");

    // The human table names every one of them.
    let human = w.kip(&["envs"]);
    human.ok();
    assert!(human.stdout.starts_with("KIND"), "{}", human.stdout);
    for p in [&venv.prefix, &uvv.prefix, &ve.prefix, &conda] {
        assert!(
            human.stdout.contains(p.to_str().unwrap()),
            "{}",
            human.stdout
        );
    }
    assert!(human.stdout.contains("PEP668"));
}

/// A uv venv whose `pyvenv.cfg` lost its version lines: disk knows only "3.11" (from
/// `lib/python3.11`), so kip must ask. A `.pth` file counts every start of that interpreter.
fn counted_venv(w: &World) -> (PathBuf, PathBuf) {
    let venv = w.uv_venv(&w.root().join("v"), &toolbox().base_python, false);
    let cfg = venv.prefix.join("pyvenv.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let stripped: String = text
        .lines()
        .filter(|l| !l.starts_with("version"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&cfg, stripped).unwrap();
    let count = w.root().join("count");
    std::fs::write(
        venv.prefix.join("lib/python3.11/site-packages/kip_count.pth"),
        "import os; p = os.environ.get('KIP_TEST_COUNT'); p and open(p, 'a').write('%d\\n' % os.getpid())\n",
    )
    .unwrap();
    w.set_var("KIP_TEST_COUNT", count.to_str().unwrap());
    w.set_var("VIRTUAL_ENV", venv.prefix.to_str().unwrap());
    (venv.prefix, count)
}

/// Interpreter starts recorded in `count`, one line each (by pid: this venv's site.py
/// happens to process its site-packages `.pth` files twice per start).
fn starts(count: &Path) -> usize {
    let text = std::fs::read_to_string(count).unwrap_or_default();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.dedup();
    lines.len()
}

#[test]
fn a_warm_run_starts_no_interpreter_and_changes_reprobe() {
    let w = World::new();
    let (prefix, count) = counted_venv(&w);
    w.set_var("KIP_DEBUG", "1");

    let first = w.kip(&["envs", "--json"]);
    first.ok();
    assert_eq!(starts(&count), 1, "probed once: {}", first.stderr);
    let e = env_for(&first.json(), &prefix).clone();
    assert_eq!(e["evidence"], "probe");
    // What the venv's base interpreter itself says (not a directory name).
    let base = w.run(
        &toolbox().base_python,
        &["-c", "import platform; print(platform.python_version())"],
    );
    let v311 = base.stdout.trim().to_string();
    assert_eq!(
        e["version"],
        v311.as_str(),
        "the probe supplied the patch level"
    );

    let t0 = Instant::now();
    let warm = w.kip(&["envs", "--json"]);
    eprintln!("kip envs --json (warm) took {:?}", t0.elapsed());
    warm.ok();
    assert_eq!(starts(&count), 1, "a warm run probes nothing");
    assert!(
        !warm.stderr.contains("kip: probing"),
        "no interpreter at all is started on a warm run:\n{}",
        warm.stderr
    );
    assert_eq!(
        env_for(&warm.json(), &prefix)["version"],
        v311.as_str(),
        "from the cache"
    );

    // A variable that does not change the answer: still cached.
    w.set_var("SOMETHING_ELSE", "1");
    w.kip(&["envs", "--json"]).ok();
    assert_eq!(starts(&count), 1);

    // pyvenv.cfg changed → probed again, then cached again.
    let cfg = prefix.join("pyvenv.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{text}prompt = renamed\n")).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&cfg)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    w.kip(&["envs", "--json"]).ok();
    assert_eq!(starts(&count), 2, "pyvenv.cfg changed");
    w.kip(&["envs", "--json"]).ok();
    assert_eq!(starts(&count), 2);

    // A variable the answer depends on → probed again, and the new answer shows it.
    let ub = w.root().join("userbase");
    w.set_var("PYTHONUSERBASE", ub.to_str().unwrap());
    let o = w.kip(&["envs", "--json"]);
    o.ok();
    assert_eq!(starts(&count), 3, "PYTHONUSERBASE changed");
    w.kip(&["envs", "--json"]).ok();
    assert_eq!(starts(&count), 3);
    let e = env_for(&o.json(), &prefix).clone();
    assert_eq!(
        e["user_site"]["path"],
        ub.join("lib/python3.11/site-packages").to_str().unwrap()
    );

    // A garbled cache entry is a miss, not a failure, and is replaced.
    let bucket = w.root().join("xdg/cache/kip/interpreters-v1");
    for f in std::fs::read_dir(&bucket).unwrap().flatten() {
        std::fs::write(f.path(), b"{not json").unwrap();
    }
    w.kip(&["envs", "--json"]).ok();
    assert_eq!(starts(&count), 4);
    w.kip(&["envs", "--json"]).ok();
    assert_eq!(starts(&count), 4);
}

/// A `#!/bin/sh` "python" on PATH cannot be placed from disk: kip probes it and lists it under
/// the environment it runs. Its answer is never cached (what a script execs may depend on
/// anything), so every run asks again.
#[test]
fn wrapper_scripts_are_probed_and_never_cached() {
    let w = World::new();
    let count = w.root().join("count");
    let base = toolbox().base_python.clone();
    let wrapper = w.root().join("wrap/python3");
    executable(
        &wrapper,
        &format!(
            "#!/bin/sh\necho $$ >> '{}'\nexec '{}' \"$@\"\n",
            count.display(),
            base.display()
        ),
    );
    w.prepend_path(wrapper.parent().unwrap());
    let v = envs_json(&w);
    assert_eq!(starts(&count), 1);
    let me = self_report(&w, &base);
    let e = env_for(&v, Path::new(me["prefix"].as_str().unwrap()));
    assert!(
        e["interpreters"]
            .as_array()
            .unwrap()
            .contains(&Value::from(wrapper.to_str().unwrap())),
        "{e:#}"
    );
    assert_eq!(e["version"], me["version"]);
    envs_json(&w);
    assert_eq!(starts(&count), 2, "wrapper scripts are not cached");
}

#[test]
fn hanging_interpreter_is_killed_and_the_rest_listed() {
    let w = World::new();
    let venv = w.stdlib_venv(&w.root().join("ok"), &toolbox().base_python, false);
    w.set_var("VIRTUAL_ENV", venv.prefix.to_str().unwrap());
    let pidfile = w.root().join("sleep.pid");
    let hang = w.root().join("hang/python3");
    executable(
        &hang,
        &format!(
            "#!/bin/sh\nsleep 600 &\necho $! > '{}'\nwait\n",
            pidfile.display()
        ),
    );
    w.prepend_path(hang.parent().unwrap());
    w.set_var("KIP_PROBE_TIMEOUT_MS", "500");
    let t0 = Instant::now();
    let out = w.kip(&["envs", "--json"]);
    let took = t0.elapsed();
    eprintln!("kip envs with a hanging interpreter took {took:?}");
    out.ok();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let v = out.json();
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v:#}");
    assert_eq!(errors[0]["interpreter"], hang.to_str().unwrap());
    let msg = errors[0]["error"].as_str().unwrap();
    assert!(msg.contains("500 ms") && msg.contains("killed"), "{msg}");
    // The others are still listed.
    assert_eq!(env_for(&v, &venv.prefix)["kind"], "venv");
    env_for(&v, Path::new("/usr"));
    // The whole group was killed: the `sleep` child is gone too.
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let alive = || {
        std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()
                    .map(|r| r.trim().starts_with(['S', 'R', 'D']))
            })
            .unwrap_or(false)
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(), "sleep {pid} survived");
    // Human output reports it too, after the table.
    let human = w.kip(&["envs"]);
    human.ok();
    assert!(
        human.stdout.contains("could not inspect"),
        "{}",
        human.stdout
    );
}

/// Kernels are attributed to the environment their interpreter belongs to; a broken venv
/// (its base interpreter gone) is listed with its problem.
#[test]
fn kernels_and_problems() {
    let w = World::new();
    let uvv = w.uv_venv(&w.root().join("kv"), &toolbox().base_python, false);
    let kernels = w.root().join("xdg/data/jupyter/kernels");
    w.kernelspec(
        &kernels,
        "myk",
        &format!(
            r#"{{"argv": ["{}", "-m", "ipykernel_launcher", "-f", "{{connection_file}}"], "display_name": "K", "language": "python"}}"#,
            uvv.python.display()
        ),
    );
    let broken = w.root().join("broken");
    std::fs::create_dir_all(broken.join("bin")).unwrap();
    std::os::unix::fs::symlink(
        "/nonexistent/kip-base/bin/python3",
        broken.join("bin/python3"),
    )
    .unwrap();
    std::fs::write(
        broken.join("pyvenv.cfg"),
        "home = /nonexistent/kip-base/bin\nversion = 3.11.7\n",
    )
    .unwrap();
    w.set_var("VIRTUAL_ENV", broken.to_str().unwrap());
    let v = envs_json(&w);
    let k = env_for(&v, &uvv.prefix);
    assert_eq!(k["kernels"], serde_json::json!(["myk"]), "{k:#}");
    assert!(k["sources"]
        .as_array()
        .unwrap()
        .contains(&Value::from("kernel")));
    let b = env_for(&v, &broken);
    assert_eq!(
        b["problems"][0],
        "the base interpreter directory /nonexistent/kip-base/bin (pyvenv.cfg home) is gone"
    );
    let human = w.kip(&["envs"]);
    assert!(
        human.stdout.contains("(pyvenv.cfg home) is gone"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("myk"));
}
