//! Isolated worlds for kip's integration tests.
//!
//! A [`World`] is a temp dir with its own HOME, XDG_*, PYENV_ROOT, PATH and cwd; every process it
//! runs gets an environment built from scratch (`env_clear`), stdin closed, its own process group
//! and a timeout after which the whole group is killed. Real interpreters, uv, virtualenv,
//! Jupyter and a conda engine come from the cached toolbox (`tests/toolbox/provision.sh`).
//! Nothing is written outside the world's temp dir except the toolbox's uv cache and the conda
//! fixture's package cache, which uv and rattler lock themselves.
//!
//! Layout of a world (the temp dir is the "container"; `root` is what tests see):
//!
//! ```text
//! <tmp>/kip-world-XXXXXX/          container (TempDir; removed on drop unless KIP_KEEP_WORLDS=1)
//!   w/                             root()
//!     home/  work/  bin/           HOME (0700), cwd, first on PATH
//!     xdg/{data,config,cache,runtime}   XDG_* (World::new only)
//!     pyenv/                       PYENV_ROOT (World::new; populated by pyenv_root())
//!     wheels/                      wheels built by wheel()
//!   snap-N/                        snapshots of w/ (snapshot())
//!   conda-pkgs/                    rattler's package cache, after copy_installs()
//!   virtualenv-app-data/           virtualenv's seed cache
//! ```
//!
//! **Installed files are hard links into the shared uv cache** (uv's default link mode, kept
//! because copying a Jupyter stack is ~6x slower). Never write into or chmod an installed file
//! in place: that changes the cached file under every other test, for good. To alter one, use
//! [`World::replace_file`] (unlink, then write), or call [`World::copy_installs`] first.
//! Removing installed files or dirs is harmless.
//!
//! Builders run with the world's base environment minus anything a test added that would
//! steer them (PYTHON*, VIRTUAL_ENV, CONDA_* but CONDA_PKGS_DIRS, PIP_*, UV_* but UV_LINK_MODE),
//! plus uv's offline settings (in bare worlds too); they
//! never write into HOME or XDG dirs, so a fresh world's HOME stays empty until a test (or
//! Jupyter, or kip) writes there.
#![allow(dead_code)]

pub mod labwheel;
pub mod realworld;
pub mod server;
pub mod wheel;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// toolbox
// ---------------------------------------------------------------------------------------------

/// Paths into the provisioned toolbox (`tests/toolbox/provision.sh`).
pub struct Toolbox {
    pub root: PathBuf,
    /// The pyenv CPython 3.11 every toolbox venv is built on (the symlink resolved).
    pub base_python: PathBuf,
    /// `venv/bin/python`: jupyter_client 8.10.0, jupyter_core 5.9.1, ipykernel 7.4.0.
    pub venv_python: PathBuf,
    /// `server-venv/bin/python`: jupyter_server (a real server for `kip ps`) on the same pins.
    pub server_python: PathBuf,
    /// `maturin-venv/bin/python`: maturin, to build the jupyter-kip wheel.
    pub maturin_python: PathBuf,
    pub jupyter: PathBuf,
    pub uv: PathBuf,
    pub virtualenv: PathBuf,
    /// The offline wheelhouse.
    pub wheels: PathBuf,
    /// `conda-fixture/fixture-conda` (see [`Toolbox::conda_fixture`] for the optional view).
    pub fixture_conda: PathBuf,
    pub conda_channel: PathBuf,
    /// uv's cache, shared by all worlds (uv locks it).
    pub uv_cache: PathBuf,
}

impl Toolbox {
    /// The conda fixture, if the toolbox has one (provision.sh builds it when
    /// `../shared/conda-fixture` exists).
    pub fn conda_fixture(&self) -> Option<&Path> {
        self.fixture_conda
            .exists()
            .then_some(self.fixture_conda.as_path())
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn support_file(name: &str) -> PathBuf {
    repo_root().join("tests/support").join(name)
}

/// The `STAMP="..."` provision.sh writes into READY.
fn toolbox_stamp(script: &Path) -> Option<String> {
    let text = std::fs::read_to_string(script).ok()?;
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("STAMP=\"")?;
        Some(rest[..rest.find('"')?].to_string())
    })
}

/// The markers of provision.sh's additive steps (`step READY-x ...` and
/// `script_step READY-x ...` lines).
fn toolbox_step_markers(script: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(script).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("step READY-")
                .or_else(|| l.strip_prefix("script_step READY-"))
        })
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|m| format!("READY-{m}"))
        .collect()
}

/// The toolbox, provisioned on first use: provision.sh runs when READY is missing or names
/// another stamp, or an additive step's marker is missing (its flock makes concurrent test
/// processes wait for one provisioning).
pub fn toolbox() -> &'static Toolbox {
    static TB: OnceLock<Toolbox> = OnceLock::new();
    TB.get_or_init(|| {
        let repo = repo_root();
        let root = std::env::var_os("KIP_TOOLBOX")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("target/kip-toolbox"));
        let script = repo.join("tests/toolbox/provision.sh");
        let ready = std::fs::read_to_string(root.join("READY")).ok();
        let current = match (&ready, toolbox_stamp(&script)) {
            (Some(r), Some(s)) => r.trim() == s,
            (Some(_), None) => true,
            (None, _) => false,
        } && toolbox_step_markers(&script)
            .iter()
            .all(|m| root.join(m).exists());
        if !current {
            let st = Command::new("bash")
                .arg(&script)
                .arg(&root)
                .stdin(Stdio::null())
                .status()
                .expect("run tests/toolbox/provision.sh");
            assert!(st.success(), "toolbox provisioning failed ({st})");
        }
        Toolbox {
            base_python: std::fs::canonicalize(root.join("base-python"))
                .expect("toolbox base-python"),
            venv_python: root.join("venv/bin/python"),
            server_python: root.join("server-venv/bin/python"),
            maturin_python: root.join("maturin-venv/bin/python"),
            jupyter: root.join("venv/bin/jupyter"),
            uv: root.join("venv/bin/uv"),
            virtualenv: root.join("venv/bin/virtualenv"),
            wheels: root.join("wheels"),
            fixture_conda: root.join("conda-fixture/fixture-conda"),
            conda_channel: root.join("conda-fixture/channel"),
            uv_cache: root.join("uv-cache"),
            root,
        }
    })
}

/// `wheels-py36/` of the toolbox (ipykernel 5.5.6 for CPython 3.6).
pub fn py36_kernel_wheels() -> PathBuf {
    toolbox().root.join("wheels-py36")
}

/// `py27-ipykernel4/` of the toolbox: ipykernel 4.10.1 installed for CPython 2.7 (put it on
/// a kernel's PYTHONPATH; it is byte-compiled, so a kernel writes nothing there).
pub fn py27_ipykernel4() -> PathBuf {
    toolbox().root.join("py27-ipykernel4")
}

/// The machine's real pyenv root (`$PYENV_ROOT` of the test process, else `$HOME/.pyenv`);
/// used read-only.
pub fn real_pyenv_root() -> PathBuf {
    std::env::var_os("PYENV_ROOT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".pyenv")
        })
}

/// The newest installed pyenv version `minor.Z` (`"3.11"` → `"3.11.7"`).
pub fn pyenv_version(minor: &str) -> String {
    let root = real_pyenv_root();
    let mut best: Option<(Vec<u32>, String)> = None;
    for e in std::fs::read_dir(root.join("versions"))
        .unwrap_or_else(|e| panic!("{}/versions: {e}", root.display()))
        .flatten()
    {
        let n = e.file_name().to_string_lossy().into_owned();
        let Some(patch) = n.strip_prefix(&format!("{minor}.")) else {
            continue;
        };
        if patch.is_empty() || !patch.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let key: Vec<u32> = n.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        if best.as_ref().is_none_or(|(b, _)| key > *b) {
            best = Some((key, n));
        }
    }
    best.unwrap_or_else(|| panic!("no pyenv Python {minor} under {}", root.display()))
        .1
}

/// `<real pyenv root>/versions/<newest minor.Z>/bin/python<minor>`.
pub fn pyenv_python(minor: &str) -> PathBuf {
    real_pyenv_root()
        .join("versions")
        .join(pyenv_version(minor))
        .join("bin")
        .join(format!("python{minor}"))
}

// ---------------------------------------------------------------------------------------------
// running processes
// ---------------------------------------------------------------------------------------------

/// Default timeout of every process a world runs (`KIP_TEST_TIMEOUT_SECS` overrides).
pub fn default_timeout() -> Duration {
    let secs = std::env::var("KIP_TEST_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(secs)
}

#[derive(Debug, Clone)]
pub struct Out {
    /// Exit code; `-N` when killed by signal N.
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr_bytes: Vec<u8>,
}

impl Out {
    /// Assert exit 0 (printing both streams otherwise).
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.status, 0, "exit {}\n{}", self.status, self.show());
        self
    }
    /// Assert the exit code.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(self.status, code, "expected exit {code}\n{}", self.show());
        self
    }
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.show()))
    }
    /// `--json-stream`'s stdout: one JSON value a line (events, then `{"report": …}`).
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("a line is not JSON ({e}): {l:?}\n{}", self.show()))
            })
            .collect()
    }
    pub fn success(&self) -> bool {
        self.status == 0
    }
    pub fn show(&self) -> String {
        format!("--- stdout:\n{}\n--- stderr:\n{}", self.stdout, self.stderr)
    }
}

/// The kernel names of a `kip kernels --json` document.
#[track_caller]
pub fn kernel_names(v: &serde_json::Value) -> Vec<&str> {
    v["kernels"]
        .as_array()
        .unwrap_or_else(|| panic!("no kernels array in {v:#}"))
        .iter()
        .map(|k| k["name"].as_str().expect("every kernel has a name"))
        .collect()
}

/// A process that outlived its timeout; its whole process group was killed.
#[derive(Debug)]
pub struct TimedOut {
    pub program: String,
    pub after: Duration,
    /// What it had written before it was killed (`status` is the kill's).
    pub partial: Out,
    /// The process had exited, but something outside its process group still held its
    /// stdout/stderr open (a leaked grandchild).
    pub pipes_held: bool,
}

enum Ev {
    Exit(std::process::ExitStatus),
    OutDone,
    ErrDone,
}

fn pump(
    mut r: impl Read + Send + 'static,
    buf: Arc<Mutex<Vec<u8>>>,
    tx: mpsc::Sender<Ev>,
    ev: fn() -> Ev,
) {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match r.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.lock().unwrap().extend_from_slice(&chunk[..n]),
            }
        }
        let _ = tx.send(ev());
    });
}

fn kill_group(pgid: i32) {
    // SAFETY: signalling a process group this harness created (pgid = its leader's pid).
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

/// Run `c` in its own process group with piped stdout/stderr; kill the group after `timeout`.
pub fn try_run_command(mut c: Command, timeout: Duration) -> Result<Out, Box<TimedOut>> {
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let program = c.get_program().to_string_lossy().into_owned();
    let mut child = c.spawn().unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    let pgid = child.id() as i32;
    let (tx, rx) = mpsc::channel();
    let out = Arc::new(Mutex::new(Vec::new()));
    let err = Arc::new(Mutex::new(Vec::new()));
    pump(
        child.stdout.take().unwrap(),
        out.clone(),
        tx.clone(),
        || Ev::OutDone,
    );
    pump(
        child.stderr.take().unwrap(),
        err.clone(),
        tx.clone(),
        || Ev::ErrDone,
    );
    std::thread::spawn(move || {
        if let Ok(st) = child.wait() {
            let _ = tx.send(Ev::Exit(st));
        }
    });
    let start = Instant::now();
    let mut deadline = start + timeout;
    let mut status = None;
    let mut open = 2;
    let mut timed_out = false;
    while status.is_none() || open > 0 {
        let now = Instant::now();
        let wait = if timed_out {
            // after the kill: the pipes close as the group dies; bounded in case a process
            // outside the group holds them
            Duration::from_secs(10).saturating_sub(now.saturating_duration_since(deadline))
        } else {
            deadline.saturating_duration_since(now)
        };
        match rx.recv_timeout(wait) {
            Ok(Ev::Exit(st)) => {
                status = Some(st);
                // once it has exited, its pipes close at once unless a process outside its
                // group still holds them: do not wait the whole timeout for that
                deadline = deadline.min(Instant::now() + Duration::from_secs(30));
            }
            Ok(Ev::OutDone) | Ok(Ev::ErrDone) => open -= 1,
            Err(RecvTimeoutError::Timeout) if !timed_out => {
                timed_out = true;
                kill_group(pgid);
            }
            Err(_) => break,
        }
    }
    let stdout_bytes = out.lock().unwrap().clone();
    let stderr_bytes = err.lock().unwrap().clone();
    let o = Out {
        status: status
            .map(|s| s.code().unwrap_or_else(|| -s.signal().unwrap_or(0)))
            .unwrap_or(-(libc::SIGKILL)),
        stdout: String::from_utf8_lossy(&stdout_bytes).into_owned(),
        stderr: String::from_utf8_lossy(&stderr_bytes).into_owned(),
        stdout_bytes,
        stderr_bytes,
    };
    if timed_out {
        Err(Box::new(TimedOut {
            program,
            after: timeout,
            pipes_held: open > 0,
            partial: o,
        }))
    } else {
        Ok(o)
    }
}

/// Wait until process `pid` has exited (or is already gone), at most `timeout`; true if it
/// has. Uses a pidfd, so it works for processes that are not our children, without polling.
pub fn wait_for_exit(pid: u32, timeout: Duration) -> bool {
    // SAFETY: plain syscalls on a pidfd we own and close.
    unsafe {
        let fd = libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) as i32;
        if fd < 0 {
            return true; // ESRCH: no such process (already reaped)
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let n = libc::poll(&mut pfd, 1, ms);
        libc::close(fd);
        n > 0
    }
}

/// [`try_run_command`] with a panic on timeout.
#[track_caller]
pub fn run_command(c: Command, timeout: Duration) -> Out {
    match try_run_command(c, timeout) {
        Ok(o) => o,
        Err(t) => panic!(
            "{} timed out after {:?} (process group killed{})\n{}",
            t.program,
            t.after,
            if t.pipes_held {
                "; its stdout/stderr were still held open by a process outside its group"
            } else {
                ""
            },
            t.partial.show()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// worlds
// ---------------------------------------------------------------------------------------------

pub struct Venv {
    pub prefix: PathBuf,
    /// `<prefix>/bin/python`
    pub python: PathBuf,
}

impl Venv {
    pub fn new(prefix: &Path) -> Venv {
        Venv {
            prefix: prefix.to_path_buf(),
            python: prefix.join("bin/python"),
        }
    }
    pub fn bin(&self) -> PathBuf {
        self.prefix.join("bin")
    }
    /// `<prefix>/lib/pythonX.Y/site-packages` (the first one found).
    pub fn site_packages(&self) -> PathBuf {
        let lib = self.prefix.join("lib");
        std::fs::read_dir(&lib)
            .unwrap_or_else(|e| panic!("{}: {e}", lib.display()))
            .flatten()
            .map(|e| e.path().join("site-packages"))
            .find(|p| p.is_dir())
            .unwrap_or_else(|| panic!("no site-packages under {}", lib.display()))
    }
}

/// A copy of a world's whole root, taken by [`World::snapshot`] (or
/// [`World::snapshot_linked`]); removed on drop.
pub struct Snapshot {
    path: PathBuf,
    /// For a linked snapshot: (mtime, size, mode, uid, gid) of every non-dir entry, to detect
    /// in-place changes of the shared inodes.
    linked: Option<BTreeMap<PathBuf, InodeState>>,
}

/// (mtime, mtime_nsec, size, mode, uid, gid) of a non-dir entry.
type InodeState = (i64, i64, u64, u32, u32, u32);

fn inode_states(dir: &Path) -> BTreeMap<PathBuf, InodeState> {
    use std::os::unix::fs::MetadataExt;
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, InodeState>) {
        let Ok(m) = std::fs::symlink_metadata(p) else {
            return;
        };
        if m.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    walk(&e.path(), out);
                }
            }
        } else {
            out.insert(
                p.to_path_buf(),
                (
                    m.mtime(),
                    m.mtime_nsec(),
                    m.size(),
                    m.mode(),
                    m.uid(),
                    m.gid(),
                ),
            );
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

impl Snapshot {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if self.path.exists() && !keep_worlds() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// What a wheel built by [`World::wheel_with`] holds.
#[derive(Default, Clone)]
pub struct WheelSpec {
    pub dist: String,
    pub version: String,
    /// (top-level module or path inside the wheel, source). `"demo"` → `demo/__init__.py`;
    /// `"demo.py"` and `"pkg/sub.py"` are paths.
    pub files: Vec<(String, String)>,
    pub requires_dist: Vec<String>,
    /// Write `top_level.txt` (default true through [`WheelSpec::new`]).
    pub top_level_txt: bool,
    /// `[console_scripts]` entry points: (script name, "module:function").
    pub console_scripts: Vec<(String, String)>,
}

impl WheelSpec {
    pub fn new(dist: &str, version: &str, files: &[(&str, &str)]) -> WheelSpec {
        WheelSpec {
            dist: dist.into(),
            version: version.into(),
            files: files
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            requires_dist: vec![],
            top_level_txt: true,
            console_scripts: vec![],
        }
    }
}

/// How [`World::run_kernel_with`] / [`World::start_kernel_with`] start a kernel.
#[derive(Default, Clone)]
pub struct KernelOpts {
    /// The PATH of the "server" (the jupyter_client process), which the kernel inherits;
    /// default: the world's PATH.
    pub path: Option<String>,
    /// The Python whose jupyter_client launches the kernel (its `sys.prefix` is the ENV data
    /// dir of the kernelspec lookup); default: the toolbox venv's python.
    pub server_python: Option<PathBuf>,
    /// Arguments before `run_kernel.py`: with `server_python` a launcher such as uv, e.g.
    /// `run --with jupyter_client… python` (the "server" runs in the env the launcher makes).
    pub server_args: Vec<String>,
    /// Extra variables for the server (and so the kernel): `Some(v)` sets, `None` removes.
    pub env: Vec<(String, Option<String>)>,
    /// The server's cwd (and the kernel's, unless `kernel_cwd` is given).
    pub cwd: Option<PathBuf>,
    /// The kernel's own cwd, as a server gives it the notebook's folder (`start_kernel(cwd=)`).
    pub kernel_cwd: Option<PathBuf>,
    /// Seconds for the kernel to answer kernel_info (default 60).
    pub startup_timeout: Option<u64>,
    /// Seconds for one execute (default 120).
    pub timeout: Option<u64>,
    /// The only dirs jupyter_client looks the kernelspec up in (`KernelSpecManager.kernel_dirs`):
    /// a kernel that no Jupyter lookup of the world finds, as an ad-hoc
    /// `python -m ipykernel_launcher` is.
    pub kernel_dirs: Vec<PathBuf>,
}

/// One output message of an execute, as the front end received it.
#[derive(Debug, Clone)]
pub struct KernelOutput {
    /// `stdout`, `stderr`, `display_data`, `execute_result` or `error`.
    pub kind: String,
    /// The stream's text, the `text/plain` of a display, or an error's traceback.
    pub text: String,
    pub html: Option<String>,
    /// When the harness received it (monotonic seconds).
    pub t: f64,
}

#[derive(Debug)]
pub struct KernelRun {
    /// Text of the `stdout` stream.
    pub stdout: String,
    /// Text of the `stderr` stream.
    pub stderr: String,
    /// `"EName: value"` of an error reply; for a kernel that did not start,
    /// `"<Exception>: ..."` from jupyter_client and `started == false`.
    pub error: Option<String>,
    /// `text/plain` of the execute_result, if any.
    pub result: Option<String>,
    /// Every output in arrival order (run_kernel.py's `outputs`).
    pub outputs: Vec<KernelOutput>,
    pub started: bool,
    /// The helper's (and the kernel's) own stderr, for failure messages.
    pub log: String,
}

fn keep_worlds() -> bool {
    std::env::var("KIP_KEEP_WORLDS").is_ok_and(|v| v == "1")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// HOME, PATH, LANG, XDG_*, PYENV_ROOT, uv and pip settings.
    Normal,
    /// HOME, PATH, LANG only.
    Bare,
    /// Normal, under /tmp, every dir 0755.
    Shared,
}

pub struct World {
    dir: Option<tempfile::TempDir>,
    container: PathBuf,
    root: PathBuf,
    vars: RefCell<BTreeMap<String, String>>,
    snaps: Cell<u32>,
    kind: Kind,
}

fn mkdir_mode(p: &Path, mode: u32) {
    std::fs::create_dir_all(p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", p.display()))
}

impl World {
    fn make(kind: Kind) -> World {
        let base = if kind == Kind::Shared {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("kip-world-")
            .tempdir_in(&base)
            .unwrap_or_else(|e| panic!("temp world in {}: {e}", base.display()));
        let container = std::fs::canonicalize(dir.path()).expect("canonical world");
        let root = container.join("w");
        let (dmode, hmode) = if kind == Kind::Shared {
            (0o755, 0o755)
        } else {
            (0o700, 0o700)
        };
        std::fs::set_permissions(&container, std::fs::Permissions::from_mode(dmode)).unwrap();
        mkdir_mode(&root, 0o755);
        mkdir_mode(&root.join("home"), hmode);
        mkdir_mode(&root.join("work"), 0o755);
        mkdir_mode(&root.join("bin"), 0o755);

        let mut vars = BTreeMap::new();
        vars.insert("HOME".into(), s(&root.join("home")).to_string());
        vars.insert(
            "PATH".into(),
            format!("{}:/usr/local/bin:/usr/bin:/bin", s(&root.join("bin"))),
        );
        vars.insert("LANG".into(), "C.UTF-8".into());
        if kind != Kind::Bare {
            for (k, d, mode) in [
                ("XDG_DATA_HOME", "xdg/data", 0o755),
                ("XDG_CONFIG_HOME", "xdg/config", 0o755),
                ("XDG_CACHE_HOME", "xdg/cache", 0o755),
                (
                    "XDG_RUNTIME_DIR",
                    "xdg/runtime",
                    if kind == Kind::Shared { 0o755 } else { 0o700 },
                ),
            ] {
                mkdir_mode(&root.join(d), mode);
                vars.insert(k.into(), s(&root.join(d)).to_string());
            }
            vars.insert("PYENV_ROOT".into(), s(&root.join("pyenv")).to_string());
            for (k, v) in tool_vars() {
                vars.insert(k, v);
            }
        }
        let dir = if keep_worlds() {
            eprintln!("KIP_KEEP_WORLDS=1: world kept at {}", root.display());
            let _ = dir.keep();
            None
        } else {
            Some(dir)
        };
        World {
            dir,
            container,
            root,
            vars: RefCell::new(vars),
            snaps: Cell::new(0),
            kind,
        }
    }

    /// HOME, PATH, LANG, XDG_{DATA,CONFIG,CACHE}_HOME and XDG_RUNTIME_DIR, PYENV_ROOT (all under
    /// root), uv's shared cache with `UV_PYTHON_DOWNLOADS=never`, `UV_NO_CONFIG=1`,
    /// `UV_LINK_MODE=copy`, `PIP_DISABLE_PIP_VERSION_CHECK=1`, `PIP_NO_INPUT=1`.
    pub fn new() -> World {
        World::make(Kind::Normal)
    }

    /// Only HOME, PATH and LANG: for Jupyter path rules that read XDG_* defaults.
    pub fn bare() -> World {
        World::make(Kind::Bare)
    }

    /// Like [`World::new`], under /tmp, with every dir 0755, so another user can read it
    /// ([`World::as_nobody`]). Only `/usr/bin/python3`-based envs are usable by that user
    /// there: the pyenv Pythons (and the toolbox's base-python) live under root's 0700 HOME.
    pub fn new_shared() -> World {
        World::make(Kind::Shared)
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
        w.set_var("PIP_FIND_LINKS", s(&toolbox().wheels));
        w
    }

    // ---- paths and environment ----

    pub fn root(&self) -> PathBuf {
        self.root.clone()
    }
    /// The world's temp dir (holds root, snapshots and the world's private caches).
    pub fn container(&self) -> PathBuf {
        self.container.clone()
    }
    /// `$HOME` as the world currently sets it.
    pub fn home(&self) -> PathBuf {
        PathBuf::from(self.var("HOME").unwrap_or_default())
    }
    pub fn cwd(&self) -> PathBuf {
        self.root.join("work")
    }
    pub fn bin(&self) -> PathBuf {
        self.root.join("bin")
    }
    /// Jupyter's user data dir under the current env: `$XDG_DATA_HOME/jupyter` when non-empty,
    /// else `$HOME/.local/share/jupyter` (Linux, no JUPYTER_DATA_DIR).
    pub fn jupyter_data_dir(&self) -> PathBuf {
        if let Some(d) = self.var("JUPYTER_DATA_DIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(d);
        }
        match self.var("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
            Some(x) => PathBuf::from(x).join("jupyter"),
            None => self.home().join(".local/share/jupyter"),
        }
    }
    /// `<jupyter_data_dir>/kernels`.
    pub fn user_kernels(&self) -> PathBuf {
        self.jupyter_data_dir().join("kernels")
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
    /// The exact environment every process of the world gets.
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

    /// The environment builders run with: the world's, minus what would steer them, plus uv's
    /// offline settings (also in bare worlds).
    fn tool_env(&self) -> Vec<(String, String)> {
        let mut v: BTreeMap<String, String> = self
            .env()
            .into_iter()
            .filter(|(k, _)| {
                !(k.starts_with("PYTHON")
                    || (k.starts_with("CONDA") && k != "CONDA_PKGS_DIRS")
                    || k.starts_with("PIP_")
                    || (k.starts_with("UV_") && k != "UV_LINK_MODE")
                    || k.starts_with("VIRTUALENV_")
                    || k == "VIRTUAL_ENV"
                    || k == "__PYVENV_LAUNCHER__")
            })
            .collect();
        v.extend(tool_vars());
        v.into_iter().collect()
    }

    fn tool_command(&self, program: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.args(args)
            .env_clear()
            .envs(self.tool_env())
            .current_dir(self.cwd())
            .stdin(Stdio::null());
        c
    }

    #[track_caller]
    fn tool(&self, program: &Path, args: &[&str]) -> Out {
        let o = run_command(self.tool_command(program, args), default_timeout());
        assert_eq!(
            o.status,
            0,
            "{} {} failed ({})\n{}",
            program.display(),
            args.join(" "),
            o.status,
            o.show()
        );
        o
    }

    // ---- runners ----

    /// A command with the world's environment (from scratch), cwd = `root/work`, stdin null.
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .envs(self.env())
            .current_dir(self.cwd())
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, program: &Path, args: &[&str]) -> Out {
        self.run_in(&self.cwd(), program, args)
    }

    pub fn run_in(&self, cwd: &Path, program: &Path, args: &[&str]) -> Out {
        let mut c = self.command(program);
        c.args(args).current_dir(cwd);
        run_command(c, default_timeout())
    }

    pub fn run_with_timeout(&self, program: &Path, args: &[&str], timeout: Duration) -> Out {
        let mut c = self.command(program);
        c.args(args);
        run_command(c, timeout)
    }

    pub fn kip(&self, args: &[&str]) -> Out {
        self.kip_in(&self.cwd(), args)
    }

    pub fn kip_in(&self, cwd: &Path, args: &[&str]) -> Out {
        self.run_in(cwd, Path::new(env!("CARGO_BIN_EXE_kip")), args)
    }

    /// Run as uid/gid 65534 (nobody, no groups) through setpriv, with the world's env. Use a
    /// [`World::new_shared`] world.
    pub fn as_nobody(&self, program: &Path, args: &[&str]) -> Out {
        let mut full = vec![
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            s(program),
        ];
        full.extend_from_slice(args);
        self.run(Path::new("/usr/bin/setpriv"), &full)
    }

    /// `kip ARGS` as nobody ([`World::as_nobody`]).
    pub fn kip_as_nobody(&self, args: &[&str]) -> Out {
        self.as_nobody(Path::new(env!("CARGO_BIN_EXE_kip")), args)
    }

    // ---- builders ----

    /// `uv venv --python BASE PATH` (toolbox uv, offline); with `seed_pip`, pip is then
    /// installed from the wheelhouse (the newest that supports BASE).
    pub fn uv_venv(&self, path: &Path, base: &Path, seed_pip: bool) -> Venv {
        self.tool(
            &toolbox().uv,
            &["venv", "--quiet", "--python", s(base), s(path)],
        );
        let v = Venv::new(path);
        if seed_pip {
            self.uv_install(&v.python, &["pip"])
                .unwrap_or_else(|e| panic!("seed pip into {}: {e}", path.display()));
        }
        v
    }

    /// `BASE -m venv [--without-pip] PATH` (with pip: ensurepip's bundled wheel, offline).
    pub fn stdlib_venv(&self, path: &Path, base: &Path, with_pip: bool) -> Venv {
        let mut args = vec!["-m", "venv"];
        if !with_pip {
            args.push("--without-pip");
        }
        args.push(s(path));
        self.tool(base, &args);
        Venv::new(path)
    }

    /// From now on, installs in this world share no file with other tests: uv (the builders'
    /// and kip's) copies instead of hard-linking from the shared cache (`UV_LINK_MODE=copy`),
    /// and conda (conda_env and the fixture on PATH) uses a package cache of this world's own
    /// (`CONDA_PKGS_DIRS=<container>/conda-pkgs`). For tests that edit or chmod installed files
    /// in place. Slower (a Jupyter stack: seconds; a conda python: ~4 s).
    pub fn copy_installs(&self) {
        self.set_var("UV_LINK_MODE", "copy");
        self.set_var("CONDA_PKGS_DIRS", s(&self.container.join("conda-pkgs")));
    }

    /// Replace a file without touching its inode (unlink, then write; the mode is kept): the
    /// safe way to alter an installed file, which may be a hard link into the shared uv cache.
    pub fn replace_file(&self, path: &Path, contents: impl AsRef<[u8]>) {
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).ok();
        let _ = std::fs::remove_file(path);
        std::fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        if let Some(m) = mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(m)).unwrap();
        }
    }

    /// Toolbox `virtualenv -p BASE PATH`, seeded offline from virtualenv's embedded wheels
    /// (`--no-download --no-periodic-update`, app-data in the world's container).
    pub fn virtualenv(&self, path: &Path, base: &Path) -> Venv {
        let app_data = self.container.join("virtualenv-app-data");
        // VIRTUALENV_OVERRIDE_APP_DATA too: virtualenv touches its *default* app-data dir
        // (under XDG_DATA_HOME) before it reads --app-data
        let mut c = self.tool_command(
            &toolbox().virtualenv,
            &[
                "--quiet",
                "--no-download",
                "--no-periodic-update",
                "--app-data",
                s(&app_data),
                "-p",
                s(base),
                s(path),
            ],
        );
        c.env("VIRTUALENV_OVERRIDE_APP_DATA", &app_data);
        let o = run_command(c, default_timeout());
        assert_eq!(
            o.status,
            0,
            "virtualenv {} failed\n{}",
            path.display(),
            o.show()
        );
        Venv::new(path)
    }

    /// `uv pip install --python PYTHON --offline --no-index --find-links <wheelhouse>
    /// [--find-links EXTRA]... PKGS`. Err(stderr) on failure.
    pub fn uv_install_from(
        &self,
        python: &Path,
        pkgs: &[&str],
        extra: &[&Path],
    ) -> Result<(), String> {
        let wheels = toolbox().wheels.clone();
        let mut args: Vec<&str> = vec![
            "pip",
            "install",
            "--quiet",
            "--python",
            s(python),
            "--offline",
            "--no-index",
            "--find-links",
            s(&wheels),
        ];
        for e in extra {
            args.push("--find-links");
            args.push(s(e));
        }
        args.extend_from_slice(pkgs);
        let out = run_command(self.tool_command(&toolbox().uv, &args), default_timeout());
        if out.status == 0 {
            Ok(())
        } else {
            Err(out.stderr)
        }
    }

    /// [`World::uv_install_from`] with the wheelhouse and the world's own `root/wheels`.
    pub fn uv_install(&self, python: &Path, pkgs: &[&str]) -> Result<(), String> {
        let own = self.root.join("wheels");
        if own.is_dir() {
            self.uv_install_from(python, pkgs, &[&own])
        } else {
            self.uv_install_from(python, pkgs, &[])
        }
    }

    /// A uv venv on the toolbox base-python holding jupyter_client 8.10.0, jupyter_core 5.9.1
    /// and ipykernel 7.4.0 (so `bin/jupyter`, `bin/jupyter-kernelspec` and
    /// `share/jupyter/kernels/python3`): a Jupyter the world owns.
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
        .unwrap_or_else(|e| panic!("install Jupyter into {}: {e}", path.display()));
        v
    }

    /// A Jupyter of this world's own (`root/jupyter`, see [`World::jupyter_venv`]) as the
    /// `jupyter` and `jupyter-kernelspec` on PATH, replacing the toolbox's: for tests that let
    /// kip rewrite every kernel (`doctor --fix`, `kernel fix --all`), which must never touch
    /// the shared toolbox's own `python3` kernelspec.
    pub fn use_own_jupyter(&self) -> Venv {
        let v = self.jupyter_venv(&self.root.join("jupyter"));
        for n in ["jupyter", "jupyter-kernelspec"] {
            let link = self.bin().join(n);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(v.bin().join(n), link).unwrap();
        }
        v
    }

    /// Symlink the toolbox's `jupyter` and `jupyter-kernelspec` into `root/bin` (not its
    /// python, pip or uv), so `jupyter` on PATH is the toolbox's.
    pub fn use_toolbox_jupyter(&self) {
        for n in ["jupyter", "jupyter-kernelspec"] {
            let link = self.bin().join(n);
            if link.symlink_metadata().is_err() {
                std::os::unix::fs::symlink(toolbox().root.join("venv/bin").join(n), link).unwrap();
            }
        }
    }

    /// Put the conda fixture on PATH as each of `names` (`conda`, `mamba`, `micromamba`):
    /// symlinks to `fixture-conda` in `root/bin`.
    pub fn use_fixture_conda(&self, names: &[&str]) {
        for n in names {
            let link = self.bin().join(n);
            if link.symlink_metadata().is_err() {
                std::os::unix::fs::symlink(&toolbox().fixture_conda, link).unwrap();
            }
        }
    }

    /// Write `<kernels_dir>/<name>/kernel.json` (raw text, so malformed specs can be made);
    /// returns the kernel dir.
    pub fn kernelspec(&self, kernels_dir: &Path, name: &str, json: &str) -> PathBuf {
        self.kernelspec_bytes(kernels_dir, name, json.as_bytes())
    }

    pub fn kernelspec_bytes(&self, kernels_dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let d = kernels_dir.join(name);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
        std::fs::write(d.join("kernel.json"), bytes).unwrap();
        d
    }

    /// A minimal, installable pure-Python wheel (py3-none-any) built locally into
    /// `root/wheels/`; `modules` are (top-level module or path, source). `uv_install` finds
    /// the world's wheels by name.
    pub fn wheel(&self, dist: &str, version: &str, modules: &[(&str, &str)]) -> PathBuf {
        self.wheel_with(&WheelSpec::new(dist, version, modules))
    }

    pub fn wheel_with(&self, spec: &WheelSpec) -> PathBuf {
        let out = self.root.join("wheels");
        let cfg = serde_json::json!({
            "out": s(&out),
            "dist": spec.dist,
            "version": spec.version,
            "files": spec.files,
            "requires_dist": spec.requires_dist,
            "top_level_txt": spec.top_level_txt,
            "console_scripts": spec.console_scripts,
        })
        .to_string();
        let helper = support_file("make_wheel.py");
        let o = self.tool(&toolbox().base_python, &[s(&helper), &cfg]);
        PathBuf::from(o.stdout.trim())
    }

    /// The rattler package cache conda_env and the fixture on PATH use: the world's
    /// `CONDA_PKGS_DIRS` if set ([`World::copy_installs`]), else the toolbox's shared one (the
    /// fixture wrapper's own default).
    pub fn conda_pkgs_dir(&self) -> PathBuf {
        match self.var("CONDA_PKGS_DIRS") {
            Some(d) if !d.is_empty() => PathBuf::from(d.split(',').next().unwrap()),
            _ => toolbox().root.join("conda-fixture/pkgs"),
        }
    }

    /// A genuine conda prefix from the offline fixture channel: `fixture-conda create -p PREFIX
    /// -c <channel> --override-channels -y SPECS`.
    ///
    /// Package cache: shared by default, the toolbox's `conda-fixture/pkgs`, which is what the
    /// fixture uses when kip runs it as `conda` too. rattler locks it (`.cache.lock` and a lock
    /// per package), so concurrent tests are safe; like uv, it hard-links cached files into the
    /// prefix, so the hard-link rule of this module applies. A private cache
    /// ([`World::copy_installs`]) costs ~4 s to unpack python again, against ~0.5 s shared.
    pub fn conda_env(&self, prefix: &Path, specs: &[&str]) -> Venv {
        let tb = toolbox();
        let mut args = vec![
            "create",
            "-p",
            s(prefix),
            "-c",
            s(&tb.conda_channel),
            "--override-channels",
            "-y",
        ];
        args.extend_from_slice(specs);
        let mut c = self.tool_command(&tb.fixture_conda, &args);
        c.env("CONDA_PKGS_DIRS", self.conda_pkgs_dir());
        let o = run_command(c, default_timeout());
        assert_eq!(o.status, 0, "fixture-conda create failed\n{}", o.show());
        Venv::new(prefix)
    }

    /// A pyenv root at `root/pyenv` (also set as PYENV_ROOT): `versions/<v>` symlinks to the
    /// real pyenv versions, and `shims/{python,python3,pip,pip3}` in pyenv's real form (the
    /// machine's shim text with its `PYENV_ROOT` and shims dir rewritten to this root; `exec`
    /// still runs the real pyenv's libexec, as with a packaged pyenv).
    pub fn pyenv_root(&self, versions: &[&str]) -> PathBuf {
        let root = self.root.join("pyenv");
        let real = real_pyenv_root();
        std::fs::create_dir_all(root.join("versions")).unwrap();
        for v in versions {
            let target = real.join("versions").join(v);
            assert!(target.is_dir(), "no pyenv version {}", target.display());
            let link = root.join("versions").join(v);
            if link.symlink_metadata().is_err() {
                std::os::unix::fs::symlink(target, link).unwrap();
            }
        }
        self.pyenv_shims(&["python", "python3", "pip", "pip3"]);
        self.set_var("PYENV_ROOT", s(&root));
        root
    }

    /// More shims in `root/pyenv/shims` (same text for every name, as pyenv writes them).
    pub fn pyenv_shims(&self, names: &[&str]) {
        let root = self.root.join("pyenv");
        let shims = root.join("shims");
        std::fs::create_dir_all(&shims).unwrap();
        let text = pyenv_shim_text(&root);
        for n in names {
            let p = shims.join(n);
            std::fs::write(&p, &text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    /// `root/pyenv/version` (pyenv's global version file).
    pub fn pyenv_global(&self, version: &str) {
        let root = self.root.join("pyenv");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("version"), format!("{version}\n")).unwrap();
    }

    /// `DIR/.python-version` (pyenv's local version file).
    pub fn pyenv_local(&self, dir: &Path, version: &str) {
        std::fs::write(dir.join(".python-version"), format!("{version}\n")).unwrap();
    }

    // ---- real Jupyter ----

    /// The real `<jupyter> kernelspec list --json` (with its side effects: see snapshot()).
    pub fn jupyter_kernelspec_list_json(&self, jupyter: &Path) -> Out {
        self.run(jupyter, &["kernelspec", "list", "--json"])
    }

    fn snap_path(&self) -> PathBuf {
        let n = self.snaps.get() + 1;
        self.snaps.set(n);
        let path = self.container.join(format!("snap-{n}"));
        let _ = std::fs::remove_dir_all(&path);
        path
    }

    /// Copy the whole root aside (`cp -a`, in the container).
    pub fn snapshot(&self) -> Snapshot {
        let path = self.snap_path();
        cp_a(&self.root, &path, false);
        Snapshot { path, linked: None }
    }

    /// A snapshot whose files are hard links to root's (`cp -al`: new dirs, shared file
    /// inodes), so it is cheap for worlds holding whole envs. It undoes what creates, removes
    /// or renames entries (Jupyter's side effects); a restore panics if a shared file was
    /// changed in place (written or chmod-ed), which it cannot undo.
    pub fn snapshot_linked(&self) -> Snapshot {
        let path = self.snap_path();
        cp_a(&self.root, &path, true);
        let linked = Some(inode_states(&path));
        Snapshot { path, linked }
    }

    #[track_caller]
    fn check_linked(snap: &Snapshot) {
        if let Some(before) = &snap.linked {
            let now = inode_states(&snap.path);
            if let Some((p, _)) = before.iter().find(|(p, st)| now.get(*p) != Some(*st)) {
                panic!(
                    "{} (a hard link in a linked snapshot) changed in place since the snapshot; \
                     use World::snapshot() for this test",
                    p.display()
                );
            }
        }
    }

    /// Put the snapshot back exactly at root (same paths, modes, times); the snapshot stays
    /// usable.
    #[track_caller]
    pub fn restore(&self, snap: &Snapshot) {
        Self::check_linked(snap);
        remove_tree(&self.root);
        cp_a(&snap.path, &self.root, snap.linked.is_some());
    }

    /// [`World::restore`] by renaming the snapshot into place (cheaper; consumes it).
    #[track_caller]
    pub fn restore_moving(&self, snap: Snapshot) {
        Self::check_linked(&snap);
        remove_tree(&self.root);
        std::fs::rename(&snap.path, &self.root).unwrap();
    }

    /// Snapshot → real `<jupyter> kernelspec list --json` → restore → `kip kernels
    /// --jupyter-json --jupyter <jupyter>` on the identical fresh world; asserts both exit 0
    /// and stdout is byte-for-byte equal. Returns (jupyter's stdout, kip's stdout).
    #[track_caller]
    pub fn compare_kernelspec_json(&self, jupyter: &Path) -> (String, String) {
        let snap = self.snapshot_linked();
        let real = self.jupyter_kernelspec_list_json(jupyter);
        self.restore_moving(snap);
        assert_eq!(
            real.status,
            0,
            "{} kernelspec list --json failed\n{}",
            jupyter.display(),
            real.show()
        );
        let kip = self.kip(&["kernels", "--jupyter-json", "--jupyter", s(jupyter)]);
        assert_eq!(
            kip.status,
            0,
            "kip kernels --jupyter-json failed\n{}",
            kip.show()
        );
        if real.stdout_bytes != kip.stdout_bytes {
            let diff = similar::TextDiff::from_lines(&real.stdout, &kip.stdout)
                .unified_diff()
                .context_radius(3)
                .header(
                    "jupyter kernelspec list --json",
                    "kip kernels --jupyter-json",
                )
                .to_string();
            let diff = if diff.is_empty() {
                format!(
                    "(same text after lossy UTF-8 decoding; bytes differ: jupyter {:?} vs kip {:?})",
                    real.stdout_bytes, kip.stdout_bytes
                )
            } else {
                diff
            };
            panic!(
                "kip --jupyter-json differs from `{} kernelspec list --json`\n--- diff:\n{diff}\n\
                 --- jupyter stdout:\n{}\n--- kip stdout:\n{}\n--- jupyter stderr:\n{}\n--- kip stderr:\n{}",
                jupyter.display(),
                real.stdout,
                kip.stdout,
                real.stderr,
                kip.stderr
            );
        }
        (real.stdout, kip.stdout)
    }

    // ---- real kernels ----

    fn kernel_command(&self, name: &str, code: Option<&str>, o: &KernelOpts) -> Command {
        let cfg = serde_json::json!({
            "name": name,
            "code": code,
            "startup_timeout": o.startup_timeout.unwrap_or(60),
            "timeout": o.timeout.unwrap_or(120),
            "kernel_dirs": o.kernel_dirs,
            "kernel_cwd": o.kernel_cwd,
        })
        .to_string();
        let python = o
            .server_python
            .clone()
            .unwrap_or_else(|| toolbox().venv_python.clone());
        let mut c = self.command(&python);
        c.args(&o.server_args)
            .arg(support_file("run_kernel.py"))
            .arg(cfg);
        if let Some(p) = &o.path {
            c.env("PATH", p);
        }
        for (k, v) in &o.env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(d) = &o.cwd {
            c.current_dir(d);
        }
        c
    }

    /// Start the real kernel `kernel_name` through jupyter_client (the toolbox venv's, with the
    /// world's env, so the lookup uses the world's dirs and the kernel inherits the world's
    /// PATH), run `code`, shut it down.
    pub fn run_kernel(&self, kernel_name: &str, code: &str) -> KernelRun {
        self.run_kernel_with(kernel_name, code, &KernelOpts::default())
    }

    /// [`World::run_kernel`] with another server PATH (which the kernel inherits).
    pub fn run_kernel_with_path(&self, kernel_name: &str, code: &str, path: &str) -> KernelRun {
        self.run_kernel_with(
            kernel_name,
            code,
            &KernelOpts {
                path: Some(path.into()),
                ..Default::default()
            },
        )
    }

    pub fn run_kernel_with(&self, kernel_name: &str, code: &str, o: &KernelOpts) -> KernelRun {
        // jupyter_client picks free TCP ports before the kernel binds them; a test running
        // beside it can take one in between, and the kernel dies at bind ("Address already in
        // use") before running any code. That race is jupyter_client's, not what a test checks:
        // start again with fresh ports, at most twice.
        let mut run = self.run_kernel_once(kernel_name, code, o);
        for _ in 0..2 {
            if run.started || !run.log.contains("Address already in use") {
                break;
            }
            run = self.run_kernel_once(kernel_name, code, o);
        }
        run
    }

    fn run_kernel_once(&self, kernel_name: &str, code: &str, o: &KernelOpts) -> KernelRun {
        let c = self.kernel_command(kernel_name, Some(code), o);
        let limit =
            Duration::from_secs(o.startup_timeout.unwrap_or(60) + o.timeout.unwrap_or(120) + 60);
        let out = run_command(c, limit);
        let mut lines = out.stdout.lines();
        let bad = |what: &str| -> ! {
            panic!(
                "run_kernel.py ({what}), exit {}\n{}",
                out.status,
                out.show()
            )
        };
        let ready: serde_json::Value = lines
            .next()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| bad("no ready line"));
        if ready["ready"] != true {
            return KernelRun {
                stdout: String::new(),
                stderr: String::new(),
                error: Some(
                    ready["error"]
                        .as_str()
                        .unwrap_or("kernel did not start")
                        .into(),
                ),
                result: None,
                outputs: Vec::new(),
                started: false,
                log: out.stderr.clone(),
            };
        }
        let reply: serde_json::Value = lines
            .next()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| bad("no reply line"));
        kernel_run(&reply, out.stderr.clone())
    }

    /// A kernel that stays up across executes; shut down on drop. Panics if it does not start.
    pub fn start_kernel(&self, kernel_name: &str) -> KernelSession {
        self.start_kernel_with(kernel_name, &KernelOpts::default())
    }

    pub fn start_kernel_with(&self, kernel_name: &str, o: &KernelOpts) -> KernelSession {
        self.try_start_kernel_with(kernel_name, o)
            .unwrap_or_else(|e| panic!("kernel {kernel_name:?} did not start: {e}"))
    }

    /// Err("<error>\n<helper log>") when the kernel does not start.
    pub fn try_start_kernel_with(
        &self,
        kernel_name: &str,
        o: &KernelOpts,
    ) -> Result<KernelSession, String> {
        let mut c = self.kernel_command(kernel_name, None, o);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = c.spawn().expect("spawn run_kernel.py");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (etx, _erx) = mpsc::channel();
        pump(child.stderr.take().unwrap(), log.clone(), etx, || {
            Ev::ErrDone
        });
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        let stdin = child.stdin.take();
        let mut sess = KernelSession {
            child: Some(child),
            stdin,
            rx,
            log,
            kernel_pid: None,
            connection_file: None,
            resource_dir: None,
            timeout: Duration::from_secs(o.timeout.unwrap_or(120) + 30),
        };
        let first = sess.recv(Duration::from_secs(o.startup_timeout.unwrap_or(60) + 30));
        let ready: serde_json::Value = match first.as_deref().map(serde_json::from_str) {
            Some(Ok(v)) => v,
            _ => return Err(format!("no ready line ({first:?})\n{}", sess.log())),
        };
        if ready["ready"] != true {
            return Err(format!(
                "{}\n{}",
                ready["error"].as_str().unwrap_or("?"),
                sess.log()
            ));
        }
        sess.kernel_pid = ready["kernel_pid"].as_u64().map(|p| p as u32);
        sess.connection_file = ready["connection_file"].as_str().map(PathBuf::from);
        sess.resource_dir = ready["resource_dir"].as_str().map(PathBuf::from);
        Ok(sess)
    }
}

fn kernel_run(reply: &serde_json::Value, log: String) -> KernelRun {
    KernelRun {
        stdout: reply["stdout"].as_str().unwrap_or("").into(),
        stderr: reply["stderr"].as_str().unwrap_or("").into(),
        error: reply["error"].as_str().map(str::to_string),
        result: reply["result"].as_str().map(str::to_string),
        outputs: reply["outputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| KernelOutput {
                kind: o["type"].as_str().unwrap_or("").into(),
                text: o["text"].as_str().unwrap_or("").into(),
                html: o["html"].as_str().map(str::to_string),
                t: o["t"].as_f64().unwrap_or(0.0),
            })
            .collect(),
        started: true,
        log,
    }
}

/// uv's and pip's settings every world process (Normal worlds) and every builder gets.
fn tool_vars() -> Vec<(String, String)> {
    [
        ("UV_CACHE_DIR", s(&toolbox().uv_cache).to_string()),
        ("UV_PYTHON_DOWNLOADS", "never".into()),
        ("UV_NO_CONFIG", "1".into()),
        ("PIP_DISABLE_PIP_VERSION_CHECK", "1".into()),
        ("PIP_NO_INPUT", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The machine's pyenv shim text (`<real>/shims/python3`), retargeted at `root`.
fn pyenv_shim_text(root: &Path) -> String {
    let real = real_pyenv_root();
    let real_s = real.display().to_string();
    let root_s = root.display().to_string();
    let text = std::fs::read_to_string(real.join("shims/python3")).unwrap_or_else(|_| {
        // pyenv 2.x's shim template, should the machine have no shims yet
        format!(
            "#!/usr/bin/env bash\nset -e\n[ -n \"$PYENV_DEBUG\" ] && set -x\n\nprogram=\"${{0##*/}}\"\n\n\
             export PYENV_ROOT=\"{real_s}\"\nSHIM_PATH=${{0%/*}}\nif [[ $SHIM_PATH != \"{real_s}/shims\" ]]; then\n  \
             export _PYENV_SHIM_PATH=\"$SHIM_PATH\"\nfi\nexec \"{real_s}/libexec/pyenv\" exec \"$program\" \"$@\"\n"
        )
    });
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("export PYENV_ROOT=") {
            out.push_str(&format!("export PYENV_ROOT=\"{root_s}\""));
        } else {
            out.push_str(&line.replace(
                &format!("\"{real_s}/shims\""),
                &format!("\"{root_s}/shims\""),
            ));
        }
        out.push('\n');
    }
    out
}

fn cp_a(from: &Path, to: &Path, link: bool) {
    let o = Command::new("cp")
        .arg(if link { "-al" } else { "-a" })
        .arg("--")
        .arg(from)
        .arg(to)
        .stdin(Stdio::null())
        .output()
        .expect("run cp -a");
    assert!(
        o.status.success(),
        "cp -a {} {}: {}",
        from.display(),
        to.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Remove a tree, first making dirs writable/searchable (tests chmod things to 0).
fn remove_tree(p: &Path) {
    if std::fs::remove_dir_all(p).is_ok() || !p.exists() {
        return;
    }
    let _ = Command::new("chmod").args(["-R", "u+rwx"]).arg(p).status();
    std::fs::remove_dir_all(p).unwrap_or_else(|e| panic!("remove {}: {e}", p.display()));
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(d) = self.dir.take() {
            // `TempDir` fails on dirs a test made unreadable; retry like remove_tree
            let path = d.path().to_path_buf();
            if d.close().is_err() && path.exists() {
                let _ = Command::new("chmod")
                    .args(["-R", "u+rwx"])
                    .arg(&path)
                    .status();
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// kernel sessions
// ---------------------------------------------------------------------------------------------

/// A running kernel (through `run_kernel.py --session`'s line protocol).
pub struct KernelSession {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    rx: Receiver<String>,
    log: Arc<Mutex<Vec<u8>>>,
    kernel_pid: Option<u32>,
    connection_file: Option<PathBuf>,
    resource_dir: Option<PathBuf>,
    timeout: Duration,
}

impl KernelSession {
    fn recv(&self, timeout: Duration) -> Option<String> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Run `code`; panics if the helper does not answer in time.
    pub fn execute(&mut self, code: &str) -> KernelRun {
        let line = serde_json::json!({ "code": code }).to_string();
        let stdin = self.stdin.as_mut().expect("session stdin");
        if writeln!(stdin, "{line}")
            .and_then(|_| stdin.flush())
            .is_err()
        {
            panic!("kernel session is gone\n{}", self.log());
        }
        match self.recv(self.timeout) {
            Some(l) => match serde_json::from_str::<serde_json::Value>(&l) {
                Ok(v) => kernel_run(&v, String::new()),
                Err(_) => panic!("kernel session said {l:?}\n{}", self.log()),
            },
            None => panic!(
                "kernel session: no reply within {:?}\n{}",
                self.timeout,
                self.log()
            ),
        }
    }

    /// The helper (jupyter_client) process: the kernel's parent, `JPY_PARENT_PID`.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }
    /// The kernel process itself.
    pub fn kernel_pid(&self) -> Option<u32> {
        self.kernel_pid
    }
    pub fn connection_file(&self) -> Option<&Path> {
        self.connection_file.as_deref()
    }
    pub fn resource_dir(&self) -> Option<&Path> {
        self.resource_dir.as_deref()
    }
    /// What the helper and the kernel wrote to stderr so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }
}

impl Drop for KernelSession {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "{}", serde_json::json!({"shutdown": true}));
        }
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pgid = child.id() as i32;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        if rx.recv_timeout(Duration::from_secs(30)).is_err() {
            kill_group(pgid);
            if let Some(k) = self.kernel_pid {
                // the kernel runs in its own session (jupyter_client's start_new_session)
                kill_group(k as i32);
            }
            let _ = rx.recv_timeout(Duration::from_secs(10));
        }
    }
}
