//! Isolated worlds for integration tests: their own HOME, XDG_*, PYENV_ROOT, PATH and cwd in a
//! temp dir, real interpreters and tools from the cached toolbox (tests/toolbox/provision.sh),
//! and runners for kip, real Jupyter and real kernels. Nothing is written outside the world's
//! temp dir except the toolbox's own caches.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub struct Toolbox {
    pub root: PathBuf,
    pub base_python: PathBuf,
    pub venv_python: PathBuf,
    pub jupyter: PathBuf,
    pub uv: PathBuf,
    pub virtualenv: PathBuf,
    pub wheels: PathBuf,
    pub fixture_conda: PathBuf,
    pub conda_channel: PathBuf,
}

/// The toolbox, provisioned on first use (the script's flock makes concurrent callers safe).
pub fn toolbox() -> &'static Toolbox {
    static TB: OnceLock<Toolbox> = OnceLock::new();
    TB.get_or_init(|| {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let root = std::env::var_os("KIP_TOOLBOX")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("target/kip-toolbox"));
        if !root.join("READY").exists() {
            let st = Command::new("bash")
                .arg(repo.join("tests/toolbox/provision.sh"))
                .arg(&root)
                .status()
                .expect("run provision.sh");
            assert!(st.success(), "toolbox provisioning failed");
        }
        Toolbox {
            base_python: std::fs::canonicalize(root.join("base-python"))
                .expect("toolbox base python"),
            venv_python: root.join("venv/bin/python"),
            jupyter: root.join("venv/bin/jupyter"),
            uv: root.join("venv/bin/uv"),
            virtualenv: root.join("venv/bin/virtualenv"),
            wheels: root.join("wheels"),
            fixture_conda: root.join("conda-fixture/fixture-conda"),
            conda_channel: root.join("conda-fixture/channel"),
            root,
        }
    })
}

/// `/root/.pyenv/versions/<newest 3.X.Y>/bin/python3.X` (read-only use of the real pyenv).
pub fn pyenv_python(minor: &str) -> PathBuf {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into())).join(".pyenv")
        });
    let mut best: Option<(Vec<u32>, String)> = None;
    for e in std::fs::read_dir(root.join("versions"))
        .expect("pyenv versions")
        .flatten()
    {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&format!("{minor}.")) {
            let key: Vec<u32> = n.split('.').map(|p| p.parse().unwrap_or(0)).collect();
            if best.as_ref().is_none_or(|(b, _)| key > *b) {
                best = Some((key, n));
            }
        }
    }
    let (_, v) = best.unwrap_or_else(|| panic!("no pyenv Python {minor}"));
    root.join("versions")
        .join(v)
        .join("bin")
        .join(format!("python{minor}"))
}

pub struct Out {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: Vec<u8>,
}

impl Out {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.status, 0,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.status, self.stdout, self.stderr
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
}

pub struct Venv {
    pub prefix: PathBuf,
    pub python: PathBuf,
}

pub struct World {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    vars: std::cell::RefCell<BTreeMap<String, String>>,
}

impl World {
    fn make(shared: bool, xdg: bool) -> World {
        let base = if shared {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("kip-world-")
            .tempdir_in(base)
            .expect("temp world");
        let root = std::fs::canonicalize(dir.path()).expect("canonical world");
        for d in ["home", "work", "bin"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = if shared { 0o755 } else { 0o700 };
        std::fs::set_permissions(root.join("home"), std::fs::Permissions::from_mode(mode)).unwrap();
        if shared {
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut vars = BTreeMap::new();
        vars.insert("HOME".into(), root.join("home").display().to_string());
        vars.insert(
            "PATH".into(),
            format!(
                "{}:/usr/local/bin:/usr/bin:/bin",
                root.join("bin").display()
            ),
        );
        vars.insert("LANG".into(), "C.UTF-8".into());
        if xdg {
            for (k, d) in [
                ("XDG_DATA_HOME", "xdg/data"),
                ("XDG_CONFIG_HOME", "xdg/config"),
                ("XDG_CACHE_HOME", "xdg/cache"),
                ("XDG_RUNTIME_DIR", "xdg/runtime"),
            ] {
                std::fs::create_dir_all(root.join(d)).unwrap();
                vars.insert(k.into(), root.join(d).display().to_string());
            }
            vars.insert(
                "PYENV_ROOT".into(),
                root.join("pyenv").display().to_string(),
            );
        }
        vars.insert(
            "UV_CACHE_DIR".into(),
            toolbox().root.join("uv-cache").display().to_string(),
        );
        vars.insert("UV_PYTHON_DOWNLOADS".into(), "never".into());
        vars.insert("UV_NO_CONFIG".into(), "1".into());
        vars.insert("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into());
        vars.insert("PIP_NO_INPUT".into(), "1".into());
        let keep = std::env::var("KIP_KEEP_WORLDS").is_ok_and(|v| v == "1");
        let dir = if keep {
            eprintln!("world kept at {}", root.display());
            let _ = dir.keep();
            None
        } else {
            Some(dir)
        };
        World {
            dir,
            root,
            vars: std::cell::RefCell::new(vars),
        }
    }

    /// HOME, PATH, LANG, XDG_* and PYENV_ROOT inside the world.
    pub fn new() -> World {
        World::make(false, true)
    }

    /// [`World::new`] with the toolbox Jupyter, uv and kip on PATH, and the wheelhouse as the
    /// only package source (through pip's own settings, which kip translates for uv).
    pub fn with_tools() -> World {
        let w = World::new();
        w.use_toolbox_jupyter();
        for (n, t) in [
            ("uv", toolbox().uv.clone()),
            ("kip", PathBuf::from(env!("CARGO_BIN_EXE_kip"))),
        ] {
            std::os::unix::fs::symlink(t, w.bin().join(n)).unwrap();
        }
        w.set_var("PIP_NO_INDEX", "1");
        w.set_var("PIP_FIND_LINKS", toolbox().wheels.to_str().unwrap());
        w
    }

    /// Only HOME, PATH and LANG: for Jupyter path rules that read XDG_* defaults.
    pub fn bare() -> World {
        World::make(false, false)
    }

    /// A world under /tmp with 0755 dirs, for running kip as another user.
    pub fn new_shared() -> World {
        World::make(true, true)
    }

    pub fn root(&self) -> PathBuf {
        self.root.clone()
    }
    pub fn home(&self) -> PathBuf {
        PathBuf::from(self.var("HOME").unwrap_or_default())
    }
    pub fn cwd(&self) -> PathBuf {
        self.root.join("work")
    }
    pub fn bin(&self) -> PathBuf {
        self.root.join("bin")
    }
    pub fn set_var(&self, k: &str, v: &str) {
        self.vars.borrow_mut().insert(k.into(), v.into());
    }
    pub fn remove_var(&self, k: &str) {
        self.vars.borrow_mut().remove(k);
    }
    pub fn var(&self, k: &str) -> Option<String> {
        self.vars.borrow().get(k).cloned()
    }
    pub fn env(&self) -> Vec<(String, String)> {
        self.vars
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
    pub fn prepend_path(&self, dir: &Path) {
        let old = self.var("PATH").unwrap_or_default();
        self.set_var("PATH", &format!("{}:{old}", dir.display()));
    }

    fn command(&self, program: &Path, args: &[&str], cwd: &Path) -> Command {
        let mut c = Command::new(program);
        c.args(args)
            .env_clear()
            .envs(self.env())
            .current_dir(cwd)
            .stdin(Stdio::null());
        c
    }

    fn output(mut c: Command, timeout: Duration) -> Out {
        use std::os::unix::process::CommandExt;
        c.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let child = c
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {:?}: {e}", c.get_program()));
        let pid = child.id() as i32;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(timeout) {
            Ok(r) => r.expect("wait"),
            Err(_) => {
                // SAFETY: killing the child's own process group.
                unsafe { libc::killpg(pid, libc::SIGKILL) };
                panic!("{:?} timed out after {timeout:?}", c.get_program());
            }
        };
        Out {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            stdout_bytes: out.stdout,
        }
    }

    pub fn run(&self, program: &Path, args: &[&str]) -> Out {
        Self::output(
            self.command(program, args, &self.cwd()),
            Duration::from_secs(300),
        )
    }

    pub fn run_in(&self, cwd: &Path, program: &Path, args: &[&str]) -> Out {
        Self::output(self.command(program, args, cwd), Duration::from_secs(300))
    }

    pub fn kip(&self, args: &[&str]) -> Out {
        self.kip_in(&self.cwd(), args)
    }

    pub fn kip_in(&self, cwd: &Path, args: &[&str]) -> Out {
        Self::output(
            self.command(Path::new(env!("CARGO_BIN_EXE_kip")), args, cwd),
            Duration::from_secs(300),
        )
    }

    /// Run kip as uid/gid 65534 (nobody) through setpriv.
    pub fn kip_as_nobody(&self, args: &[&str]) -> Out {
        let mut full = vec![
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_kip"),
        ];
        full.extend_from_slice(args);
        Self::output(
            self.command(Path::new("/usr/bin/setpriv"), &full, &self.cwd()),
            Duration::from_secs(120),
        )
    }

    // ---- builders ----

    /// `uv venv`; with `seed_pip`, pip is installed from the wheelhouse (offline).
    pub fn uv_venv(&self, path: &Path, base: &Path, seed_pip: bool) -> Venv {
        let args = vec![
            "venv",
            "--python",
            base.to_str().unwrap(),
            path.to_str().unwrap(),
        ];
        self.run(&toolbox().uv, &args).ok();
        let v = Venv {
            prefix: path.to_path_buf(),
            python: path.join("bin/python"),
        };
        if seed_pip {
            self.uv_install(&v.python, &["pip"]).expect("seed pip");
        }
        v
    }

    pub fn stdlib_venv(&self, path: &Path, base: &Path, with_pip: bool) -> Venv {
        let mut args = vec!["-m", "venv"];
        if !with_pip {
            args.push("--without-pip");
        }
        args.push(path.to_str().unwrap());
        self.run(base, &args).ok();
        Venv {
            prefix: path.to_path_buf(),
            python: path.join("bin/python"),
        }
    }

    pub fn virtualenv(&self, path: &Path, base: &Path) -> Venv {
        self.run(
            &toolbox().virtualenv,
            &[
                "--no-download",
                "--no-periodic-update",
                "-p",
                base.to_str().unwrap(),
                path.to_str().unwrap(),
            ],
        )
        .ok();
        Venv {
            prefix: path.to_path_buf(),
            python: path.join("bin/python"),
        }
    }

    /// `uv pip install` from the toolbox wheelhouse (and `extra` find-links dirs), offline.
    pub fn uv_install_from(
        &self,
        python: &Path,
        pkgs: &[&str],
        extra: &[&Path],
    ) -> Result<(), String> {
        let wheels = toolbox().wheels.display().to_string();
        let mut args: Vec<String> = vec![
            "pip".into(),
            "install".into(),
            "--python".into(),
            python.display().to_string(),
            "--offline".into(),
            "--no-index".into(),
            "--find-links".into(),
            wheels,
        ];
        for e in extra {
            args.push("--find-links".into());
            args.push(e.display().to_string());
        }
        args.extend(pkgs.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.run(&toolbox().uv, &refs);
        if out.status == 0 {
            Ok(())
        } else {
            Err(out.stderr)
        }
    }

    pub fn uv_install(&self, python: &Path, pkgs: &[&str]) -> Result<(), String> {
        self.uv_install_from(python, pkgs, &[])
    }

    /// A venv holding Jupyter (jupyter_client, jupyter_core, ipykernel) that the world owns.
    pub fn jupyter_venv(&self, path: &Path) -> Venv {
        let v = self.uv_venv(path, &toolbox().base_python, false);
        self.uv_install(
            &v.python,
            &[
                "jupyter_client==8.10.0",
                "jupyter_core==5.9.1",
                "ipykernel==7.4.0",
            ],
        )
        .expect("install jupyter");
        v
    }

    /// `jupyter` and `jupyter-kernelspec` of the toolbox on the world's PATH (not its python).
    pub fn use_toolbox_jupyter(&self) {
        for n in ["jupyter", "jupyter-kernelspec"] {
            let link = self.bin().join(n);
            if !link.exists() {
                std::os::unix::fs::symlink(toolbox().root.join("venv/bin").join(n), link).unwrap();
            }
        }
    }

    pub fn kernelspec(&self, kernels_dir: &Path, name: &str, json: &str) -> PathBuf {
        self.kernelspec_bytes(kernels_dir, name, json.as_bytes())
    }

    pub fn kernelspec_bytes(&self, kernels_dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let d = kernels_dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("kernel.json"), bytes).unwrap();
        d
    }

    /// A minimal, installable pure-Python wheel built locally.
    pub fn wheel(&self, dist: &str, version: &str, modules: &[(&str, &str)]) -> PathBuf {
        let out = self.root.join("wheels");
        std::fs::create_dir_all(&out).unwrap();
        let helper = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/make_wheel.py");
        let mut args: Vec<String> = vec![
            helper.display().to_string(),
            out.display().to_string(),
            dist.into(),
            version.into(),
        ];
        for (m, src) in modules {
            args.push(m.to_string());
            args.push(src.to_string());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = self
            .run(&toolbox().base_python, &refs)
            .ok()
            .stdout
            .trim()
            .to_string();
        PathBuf::from(o)
    }

    /// A genuine conda prefix from the offline fixture channel.
    pub fn conda_env(&self, prefix: &Path, specs: &[&str]) {
        let tb = toolbox();
        let pkgs = self.root.join("conda-pkgs");
        let mut args = vec![
            "create",
            "-p",
            prefix.to_str().unwrap(),
            "-c",
            tb.conda_channel.to_str().unwrap(),
            "--override-channels",
            "-y",
        ];
        args.extend_from_slice(specs);
        let mut c = self.command(&tb.fixture_conda, &args, &self.cwd());
        c.env("CONDA_PKGS_DIRS", &pkgs);
        Self::output(c, Duration::from_secs(300)).ok();
    }

    /// A temp pyenv root whose versions link to the real ones, with real-form shims.
    pub fn pyenv_root(&self, versions: &[&str]) -> PathBuf {
        let root = self.root.join("pyenv");
        let real =
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into())).join(".pyenv");
        std::fs::create_dir_all(root.join("versions")).unwrap();
        std::fs::create_dir_all(root.join("shims")).unwrap();
        for v in versions {
            let link = root.join("versions").join(v);
            if !link.exists() {
                std::os::unix::fs::symlink(real.join("versions").join(v), link).unwrap();
            }
        }
        for prog in ["python", "python3", "pip", "pip3"] {
            let text = format!(
                "#!/usr/bin/env bash\nset -e\n[ -n \"$PYENV_DEBUG\" ] && set -x\n\nprogram=\"${{0##*/}}\"\n\nexport PYENV_ROOT=\"{}\"\nexec \"{}/libexec/pyenv\" exec \"$program\" \"$@\"\n",
                root.display(),
                real.display()
            );
            let p = root.join("shims").join(prog);
            std::fs::write(&p, text).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        self.set_var("PYENV_ROOT", root.to_str().unwrap());
        root
    }

    pub fn pyenv_global(&self, version: &str) {
        std::fs::write(self.root.join("pyenv/version"), format!("{version}\n")).unwrap();
    }

    // ---- real Jupyter ----

    pub fn jupyter_kernelspec_list_json(&self, jupyter: &Path) -> Out {
        self.run(jupyter, &["kernelspec", "list", "--json"])
    }

    pub fn snapshot(&self) -> PathBuf {
        let snap = self.root.with_extension("snap");
        let _ = std::fs::remove_dir_all(&snap);
        let st = Command::new("cp")
            .arg("-a")
            .arg(&self.root)
            .arg(&snap)
            .status()
            .unwrap();
        assert!(st.success());
        snap
    }

    pub fn restore(&self, snap: &Path) {
        std::fs::remove_dir_all(&self.root).unwrap();
        std::fs::rename(snap, &self.root).unwrap();
    }

    /// Real `jupyter kernelspec list --json` on a copy of the world, then kip on an identical
    /// fresh copy: stdout must be byte-identical. Returns (real, kip).
    pub fn compare_kernelspec_json(&self, jupyter: &Path) -> (String, String) {
        let snap = self.snapshot();
        let real = self.jupyter_kernelspec_list_json(jupyter);
        self.restore(&snap);
        assert_eq!(real.status, 0, "jupyter failed: {}", real.stderr);
        let j = jupyter.to_str().unwrap();
        let kip = self.kip(&["kernels", "--jupyter-json", "--jupyter", j]);
        assert_eq!(kip.status, 0, "kip failed: {}", kip.stderr);
        if real.stdout_bytes != kip.stdout_bytes {
            panic!("kip --jupyter-json differs from jupyter kernelspec list --json\n--- jupyter:\n{}\n--- kip:\n{}\n--- jupyter stderr:\n{}\n--- kip stderr:\n{}", real.stdout, kip.stdout, real.stderr, kip.stderr);
        }
        (real.stdout, kip.stdout)
    }

    // ---- real kernels ----

    /// Start a real kernel through jupyter_client, run `code`, return what it printed.
    pub fn run_kernel(&self, kernel_name: &str, code: &str) -> KernelRun {
        let helper = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/run_kernel.py");
        let out = self.run(
            &toolbox().venv_python,
            &[helper.to_str().unwrap(), kernel_name, code],
        );
        let v: serde_json::Value = serde_json::from_str(out.stdout.lines().last().unwrap_or(""))
            .unwrap_or_else(|_| panic!("run_kernel.py: {}\n{}", out.stdout, out.stderr));
        KernelRun {
            stdout: v["stdout"].as_str().unwrap_or("").to_string(),
            error: v["error"].as_str().map(str::to_string),
        }
    }

    /// A kernel that stays up across executes (stdin line protocol with run_kernel.py).
    pub fn start_kernel(&self, kernel_name: &str) -> KernelSession {
        let helper = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/run_kernel.py");
        let mut c = Command::new(&toolbox().venv_python);
        c.arg(&helper)
            .arg(kernel_name)
            .arg("--session")
            .env_clear()
            .envs(self.env())
            .current_dir(self.cwd());
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = c.spawn().expect("start kernel session");
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut s = KernelSession { child, stdout };
        let ready = s.read_line();
        assert!(ready.contains("ready"), "kernel did not start: {ready}");
        s
    }
}

pub struct KernelRun {
    pub stdout: String,
    pub error: Option<String>,
}

pub struct KernelSession {
    child: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl KernelSession {
    fn read_line(&mut self) -> String {
        use std::io::BufRead;
        let mut l = String::new();
        let _ = self.stdout.read_line(&mut l);
        l
    }

    pub fn execute(&mut self, code: &str) -> KernelRun {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{}", serde_json::json!({ "code": code })).unwrap();
        stdin.flush().unwrap();
        let line = self.read_line();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("kernel session said: {line}"));
        KernelRun {
            stdout: v["stdout"].as_str().unwrap_or("").to_string(),
            error: v["error"].as_str().map(str::to_string),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for KernelSession {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
