//! `kip ps`: the Jupyter servers and kernels running on this machine, the interpreter and
//! environment of each kernel, the notebook it serves (when its server says), and whether it
//! should restart because its environment changed under it.
//!
//! Servers come from their info files in the runtime dirs (`servers`), kernels from the process
//! table (`runtime`: a kernel started by VS Code, `jupyter console` or a bare KernelManager has
//! no server, and its connection file may live in a temp dir), joined by the connection file's
//! name (`kernel-<id>.json`, the id the server's sessions name). Nothing here starts a process.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::context::{cache_dir, Context};
use crate::install::changes::{name_and_version, Change};
use crate::install::journal;
use crate::python::classify;
use crate::python::site;

use super::runtime::{self, KernelProcess};
use super::servers::{self, ServerInfo, Session};

#[derive(Debug, Serialize)]
pub struct PsReport {
    /// The runtime dirs searched for server info files.
    pub runtime_dirs: Vec<PathBuf>,
    pub servers: Vec<ServerEntry>,
    pub kernels: Vec<KernelEntry>,
    /// `kernel-*.json` in the runtime dirs that no running kernel holds (left by kernels that
    /// died without their manager cleaning up).
    pub orphan_connection_files: Vec<PathBuf>,
    /// Info files that could not be read, each naming its file.
    pub problems: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerState {
    Running,
    /// The info file's pid is gone: the server was killed and left its file behind.
    Stale,
}

#[derive(Debug, Serialize)]
pub struct ServerEntry {
    #[serde(flatten)]
    pub info: ServerInfo,
    pub state: ServerState,
    pub sessions: Vec<Session>,
    /// Why the sessions were not asked for, or how asking failed.
    pub sessions_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EnvRef {
    pub prefix: PathBuf,
    pub kind: &'static str,
    pub name: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct KernelEntry {
    pub pid: i32,
    pub interpreter: PathBuf,
    pub environment: Option<EnvRef>,
    /// From the connection file's `kernel_name`, else the server's session.
    pub kernel_name: Option<String>,
    pub connection_file: Option<PathBuf>,
    /// The id in `kernel-<id>.json`, as the server's sessions name it.
    pub kernel_id: Option<String>,
    /// Seconds since the Unix epoch.
    pub started: Option<u64>,
    /// `JPY_PARENT_PID`: the server (or other client) that started the kernel.
    pub server_pid: Option<i32>,
    /// The running server's info file, when a listed server started the kernel.
    pub server: Option<PathBuf>,
    /// The notebook of the server's session on this kernel (absolute when the server's root
    /// dir is known), and the session path as the server gives it.
    pub notebook: Option<PathBuf>,
    pub session_path: Option<String>,
    pub execution_state: Option<String>,
    /// A distribution the kernel may hold was replaced or removed after it started.
    pub restart_advised: bool,
    pub restart_reasons: Vec<String>,
    /// Metadata dirs (`name version`) written into the environment after the kernel started.
    pub changed_since_start: Vec<String>,
}

/// The server info files in the runtime dirs, each live or stale, live local ones with their
/// sessions.
#[derive(Debug)]
pub struct Servers {
    pub runtime_dirs: Vec<PathBuf>,
    pub servers: Vec<ServerEntry>,
    /// Info files that could not be read, each naming its file.
    pub problems: Vec<String>,
}

/// Read every server info file: kip's runtime dirs, those of the servers that started the
/// running kernels `procs`, and the dirs their connection files are in.
pub fn servers(ctx: &Context, procs: &[KernelProcess]) -> Servers {
    let mut extra: Vec<PathBuf> = Vec::new();
    for k in procs {
        if let Some(dir) = k.server_pid.and_then(|p| servers::runtime_dir_of(ctx, p)) {
            extra.push(dir);
        }
        if let Some(dir) = k.connection_file.as_deref().and_then(Path::parent) {
            extra.push(dir.to_path_buf());
        }
    }
    let runtime_dirs = servers::runtime_dirs(ctx, &extra);
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    for f in servers::info_files(&runtime_dirs) {
        match servers::read_info(&f) {
            Ok(info) => entries.push(server_entry(info)),
            Err(e) => problems.push(e),
        }
    }
    Servers {
        runtime_dirs,
        servers: entries,
        problems,
    }
}

/// A running server's session on a notebook.
#[derive(Clone, Debug, Serialize)]
pub struct OpenIn {
    pub server_url: Option<String>,
    pub server_pid: Option<i32>,
    pub info_file: PathBuf,
    pub session_path: String,
    pub kernel_name: Option<String>,
}

/// The sessions of running servers on `notebook` (compared as real paths).
pub fn sessions_on(servers: &Servers, notebook: &Path) -> Vec<OpenIn> {
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let want = real(notebook);
    let mut out = Vec::new();
    for s in servers
        .servers
        .iter()
        .filter(|s| s.state == ServerState::Running)
    {
        let Some(root) = s.info.root_dir.as_deref() else {
            continue;
        };
        for x in &s.sessions {
            if real(&root.join(&x.path)) == want {
                out.push(OpenIn {
                    server_url: s.info.url.clone(),
                    server_pid: s.info.pid,
                    info_file: s.info.info_file.clone(),
                    session_path: x.path.clone(),
                    kernel_name: x.kernel_name.clone(),
                });
            }
        }
    }
    out
}

/// Look at everything running; ask live local servers for their sessions.
pub fn ps(ctx: &Context) -> PsReport {
    let procs = without_wrappers(runtime::running_kernels());
    let Servers {
        runtime_dirs,
        servers: server_entries,
        problems,
    } = servers(ctx, &procs);
    let held: Vec<&Path> = procs
        .iter()
        .filter_map(|k| k.connection_file.as_deref())
        .collect();
    let orphan_connection_files = runtime_dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| servers::kernel_id_of(p).is_some() && !held.contains(&p.as_path()))
        .collect();
    let cache = cache_dir(&ctx.vars);
    let kernels = procs
        .into_iter()
        .map(|k| kernel_entry(ctx, cache.as_deref(), k, &server_entries))
        .collect();
    PsReport {
        runtime_dirs,
        servers: server_entries,
        kernels,
        orphan_connection_files,
        problems,
    }
}

/// A wrapper that launched the kernel (`uv run … python -m ipykernel_launcher -f F`, `conda
/// run`) has the kernel's command line too: when a process's child holds the same connection
/// file, the child is the kernel and the wrapper is dropped.
fn without_wrappers(procs: Vec<KernelProcess>) -> Vec<KernelProcess> {
    let wrappers: Vec<i32> = procs
        .iter()
        .filter_map(|child| {
            let parent = runtime::parent_pid(child.pid)?;
            procs
                .iter()
                .any(|p| {
                    p.pid == parent
                        && p.connection_file.is_some()
                        && p.connection_file == child.connection_file
                })
                .then_some(parent)
        })
        .collect();
    procs
        .into_iter()
        .filter(|p| !wrappers.contains(&p.pid))
        .collect()
}

fn server_entry(info: ServerInfo) -> ServerEntry {
    let state = if info.alive() {
        ServerState::Running
    } else {
        ServerState::Stale
    };
    let (sessions, sessions_error) = match state {
        ServerState::Stale => (Vec::new(), None),
        ServerState::Running => match servers::sessions(&info) {
            Ok(s) => (s, None),
            Err(e) => (Vec::new(), Some(e)),
        },
    };
    ServerEntry {
        info,
        state,
        sessions,
        sessions_error,
    }
}

fn kernel_entry(
    ctx: &Context,
    cache: Option<&Path>,
    k: KernelProcess,
    servers: &[ServerEntry],
) -> KernelEntry {
    let interpreter = launched_interpreter(&k);
    let env = classify::classify_interpreter(ctx, &interpreter);
    let started = runtime::process_start_time(k.pid);
    let kernel_id = k.connection_file.as_deref().and_then(servers::kernel_id_of);
    // the server with a session on this kernel id, else the running server that started it
    let with_session = servers.iter().find_map(|s| {
        let id = kernel_id.as_deref()?;
        let x = s
            .sessions
            .iter()
            .find(|x| x.kernel_id.as_deref() == Some(id))?;
        Some((s, x.clone()))
    });
    let (server, session) = match with_session {
        Some((s, x)) => (Some(s), Some(x)),
        None => (
            servers.iter().find(|s| {
                s.state == ServerState::Running
                    && k.server_pid.is_some()
                    && s.info.pid == k.server_pid
            }),
            None,
        ),
    };
    let notebook = session.as_ref().map(|x| {
        let root = server.and_then(|s| s.info.root_dir.as_deref());
        root.map_or_else(|| PathBuf::from(&x.path), |r| r.join(&x.path))
    });
    let (restart_reasons, changed_since_start) = match (&env, started) {
        (Some(e), Some(t)) => staleness(cache, k.pid, e, t),
        _ => (Vec::new(), Vec::new()),
    };
    KernelEntry {
        pid: k.pid,
        interpreter,
        environment: env.as_ref().map(|e| EnvRef {
            prefix: e.prefix.clone(),
            kind: e.kind.as_str(),
            name: e.name.clone(),
            version: e.version.map(|v| v.to_string()),
        }),
        kernel_name: k
            .kernel_name
            .or_else(|| session.as_ref().and_then(|x| x.kernel_name.clone())),
        connection_file: k.connection_file,
        kernel_id,
        started: started.and_then(|t| t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())),
        server_pid: k.server_pid,
        server: server.map(|s| s.info.info_file.clone()),
        notebook,
        session_path: session.as_ref().map(|x| x.path.clone()),
        execution_state: session.and_then(|x| x.execution_state),
        restart_advised: !restart_reasons.is_empty(),
        restart_reasons,
        changed_since_start,
    }
}

/// The interpreter a kernel runs: its `argv[0]`, and a bare name (`python`, as a kernelspec
/// may say) looked up on the kernel's own PATH, as the exec that started it did.
fn launched_interpreter(k: &KernelProcess) -> PathBuf {
    let bare = k.interpreter.components().count() == 1 && !k.interpreter.is_absolute();
    if bare {
        let found = runtime::process_environ(k.pid).and_then(|env| {
            let cwd = std::fs::read_link(format!("/proc/{}/cwd", k.pid)).ok()?;
            crate::shell::path::find_on_path(k.interpreter.to_str()?, &env, &cwd)
        });
        if let Some(p) = found {
            return p;
        }
    }
    k.interpreter.clone()
}

/// Why a kernel started at `started` may hold what is no longer on disk: kip's journal of
/// replaced or removed distributions (and new `.pth` files, read only at start-up) in its
/// environment since then, and compiled files it maps that were deleted since. Also which
/// metadata dirs are newer than the start (new or replaced, disk cannot tell which).
fn staleness(
    cache: Option<&Path>,
    pid: i32,
    env: &crate::python::environment::Environment,
    started: SystemTime,
) -> (Vec<String>, Vec<String>) {
    let (prefix, site_dirs) = (env.prefix.as_path(), env.site_packages.as_slice());
    let mut reasons: Vec<String> = Vec::new();
    for c in journal::since(cache, prefix, started) {
        let why = match (&c, c.touches_existing()) {
            (Change { to: None, .. }, _) => "removed after the kernel started",
            (_, true) => "replaced after the kernel started",
            (Change { pth: true, .. }, false) => {
                "installed after the kernel started, with a .pth file read only at start-up"
            }
            _ => continue,
        };
        let line = format!("{c}: {why}");
        if !reasons.contains(&line) {
            reasons.push(line);
        }
    }
    // Compiled modules it still runs, by package (pip first moves a package it removes to a
    // `~`-name, which the memory map then shows); any other deleted file of the env as it is.
    let replaced = runtime::replaced(env, pid);
    for r in &replaced {
        reasons.push(format!(
            "{}: its compiled files were replaced or removed on disk after the kernel imported it ({}){}",
            r.module,
            r.files[0].display(),
            r.now
                .as_ref()
                .map(|d| format!("; disk now has {d}"))
                .unwrap_or_default()
        ));
    }
    for f in runtime::deleted_mappings(pid, prefix)
        .into_iter()
        .filter(|f| !replaced.iter().any(|r| r.files.contains(f)))
    {
        reasons.push(format!("{} was deleted or replaced on disk", f.display()));
    }
    let mut changed: Vec<String> = site_dirs
        .iter()
        .flat_map(|sp| site::metadata_dirs(sp))
        .filter(|(_, dir)| {
            std::fs::metadata(dir)
                .and_then(|m| m.modified())
                .is_ok_and(|m| m > started)
        })
        .filter_map(|(_, dir)| name_and_version(&dir).map(|(n, v)| format!("{n} {v}")))
        .collect();
    changed.sort_by_key(|s| s.to_lowercase());
    (reasons, changed)
}
