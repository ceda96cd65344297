//! Running Jupyter servers: their info files in the runtime dirs, and the sessions (notebook →
//! kernel) a live one reports through its REST API.
//!
//! jupyter_server writes `jpserver-PID.json` (the classic notebook server `nbserver-PID.json`)
//! when it starts and removes it when it stops cleanly; a server that was killed leaves it
//! behind, so a file is only "running" while its pid is alive. The file holds the server's
//! token: kip uses it for exactly one request and never prints or stores it.
//!
//! Asking a server is network I/O, so it is fenced: only a live pid whose address is loopback
//! (or an any-address bind, reached through loopback) is asked; the request goes straight to
//! the IP literal (no name resolution, no proxy whatever `HTTP_PROXY` says, no redirect
//! followed), plain HTTP only, with a short timeout.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::context::Context;
use crate::platform;

use super::runtime;

/// How long one REST request to a local server may take.
const TIMEOUT: Duration = Duration::from_secs(3);

/// One server info file, as read. The token is kept out of `Serialize` and `Debug`.
#[derive(Clone, Serialize)]
pub struct ServerInfo {
    pub info_file: PathBuf,
    pub pid: Option<i32>,
    /// The server's URL without query or fragment.
    pub url: Option<String>,
    pub hostname: Option<String>,
    pub port: Option<u16>,
    pub base_url: String,
    /// `root_dir` (`notebook_dir` for the classic server): session paths are relative to it.
    pub root_dir: Option<PathBuf>,
    pub secure: bool,
    /// A Unix socket the server listens on instead of a port.
    pub sock: Option<String>,
    pub version: Option<String>,
    #[serde(skip)]
    token: Option<String>,
}

impl std::fmt::Debug for ServerInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerInfo")
            .field("info_file", &self.info_file)
            .field("pid", &self.pid)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl ServerInfo {
    /// Is the server's process alive? A process that started after the info file was written
    /// only reuses a dead server's pid.
    pub fn alive(&self) -> bool {
        let Some(pid) = self.pid.filter(|p| runtime::pid_alive(*p)) else {
            return false;
        };
        let written = std::fs::metadata(&self.info_file).and_then(|m| m.modified());
        match (runtime::process_start_time(pid), written) {
            (Some(started), Ok(written)) => started <= written + Duration::from_secs(2),
            _ => true,
        }
    }
}

/// The process behind a live server info file: the Python it runs and the `jupyter-*` script
/// it was started as, read from `/proc/PID/cmdline` (never `/proc/PID/exe`: a venv's python
/// resolves to its base there, which is another environment).
#[derive(Clone, Debug)]
pub struct ServerProcess {
    pub pid: i32,
    pub info_file: PathBuf,
    /// The interpreter as launched (`argv[0]`, made absolute against the process's cwd).
    pub python: PathBuf,
    /// `jupyter-lab`, `jupyter-server`, … when it was started as a script (not `python -m`).
    pub script: Option<PathBuf>,
}

/// The process of a live server: its interpreter and script. None when the pid is dead, or
/// its command line names no Python kip can locate.
pub fn server_process(info: &ServerInfo) -> Option<ServerProcess> {
    if !info.alive() {
        return None;
    }
    let pid = info.pid?;
    let argv = runtime::read_cmdline(pid)?;
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
    let absolute = |a: &str| {
        let p = PathBuf::from(a);
        match (&cwd, p.is_absolute(), a.contains('/')) {
            (_, true, _) => Some(p),
            (Some(c), false, true) => Some(c.join(p)),
            _ => None,
        }
    };
    let named =
        |p: &Path, f: &dyn Fn(&str) -> bool| p.file_name().and_then(|n| n.to_str()).is_some_and(f);
    let script = argv
        .iter()
        .take(2)
        .filter_map(|a| absolute(a))
        .find(|p| named(p, &|n| n.starts_with("jupyter")));
    let first = argv.first().and_then(|a| absolute(a));
    let is_python = |n: &str| n.starts_with("python");
    let python = match first {
        Some(p) if named(&p, &is_python) => p,
        // a bare `python3 -m jupyter_server`: the executable is all there is to go on
        _ => std::fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .filter(|p| named(p, &is_python))?,
    };
    Some(ServerProcess {
        pid,
        info_file: info.info_file.clone(),
        python,
        script,
    })
}

/// The live servers of this user (info files in `runtime_dirs`), newest info file first.
pub fn running(ctx: &Context) -> Vec<ServerProcess> {
    let mut found: Vec<(Option<std::time::SystemTime>, ServerProcess)> =
        info_files(&runtime_dirs(ctx, &[]))
            .iter()
            .filter_map(|f| read_info(f).ok())
            .filter_map(|i| server_process(&i))
            .map(|p| {
                let t = std::fs::metadata(&p.info_file)
                    .and_then(|m| m.modified())
                    .ok();
                (t, p)
            })
            .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// One notebook (or console) session a server reports.
#[derive(Clone, Debug, Serialize)]
pub struct Session {
    /// The session's path as the server gives it (relative to its root dir).
    pub path: String,
    /// `notebook`, `console`, `file`, … (jupyter_server's `type`).
    pub kind: Option<String>,
    pub kernel_id: Option<String>,
    pub kernel_name: Option<String>,
    pub execution_state: Option<String>,
}

/// The runtime dirs to look in: jupyter_core's `jupyter_runtime_dir()` for this process's
/// variables, with and without `JUPYTER_PLATFORM_DIRS` (a server started under the other
/// setting writes to the other dir), then `extra` (the runtime dirs of running servers'
/// environments), each once.
pub fn runtime_dirs(ctx: &Context, extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut add = |p: PathBuf| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    if let Some(home) = ctx.home_resolved() {
        add(platform::jupyter_runtime_dir(
            ctx.os,
            &ctx.vars,
            &home,
            Path::new("/"),
        ));
        let mut flipped = ctx.vars.clone();
        if ctx.vars.envset("JUPYTER_PLATFORM_DIRS", false) {
            flipped.remove("JUPYTER_PLATFORM_DIRS");
        } else {
            flipped.set("JUPYTER_PLATFORM_DIRS", "1");
        }
        add(platform::jupyter_runtime_dir(
            ctx.os,
            &flipped,
            &home,
            Path::new("/"),
        ));
    }
    for p in extra {
        add(p.clone());
    }
    out
}

/// The runtime dir of a process's own environment (`/proc/PID/environ`): where a server
/// started with other variables than kip's writes its info file and connection files.
pub fn runtime_dir_of(ctx: &Context, pid: i32) -> Option<PathBuf> {
    let vars = runtime::process_environ(pid)?;
    let home = vars.home()?;
    let home = std::fs::canonicalize(&home).unwrap_or(home);
    Some(platform::jupyter_runtime_dir(
        ctx.os,
        &vars,
        &home,
        Path::new("/"),
    ))
}

/// `jpserver-*.json` and `nbserver-*.json` in `dirs` (not the `-open.html` launch pages).
pub fn info_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        let mut here: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    (n.starts_with("jpserver-") || n.starts_with("nbserver-"))
                        && n.ends_with(".json")
                })
            })
            .collect();
        here.sort();
        out.extend(here);
    }
    out
}

/// Read one info file; the error names the file and what is wrong with it.
pub fn read_info(path: &Path) -> Result<ServerInfo, String> {
    let text = crate::files::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_info(path, &text)
}

/// An info file's text; `path` is named in errors and kept in the result.
pub fn parse_info(path: &Path, text: &str) -> Result<ServerInfo, String> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
    if !v.is_object() {
        return Err(format!("{} is not a JSON object", path.display()));
    }
    let s = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .filter(|x| !x.is_empty())
            .map(str::to_string)
    };
    let url = s("url").map(|u| u.split(['?', '#']).next().unwrap_or_default().to_string());
    Ok(ServerInfo {
        info_file: path.to_path_buf(),
        pid: v
            .get("pid")
            .and_then(|p| p.as_i64())
            .and_then(|p| i32::try_from(p).ok()),
        url,
        hostname: s("hostname"),
        port: v
            .get("port")
            .and_then(|p| p.as_u64())
            .and_then(|p| u16::try_from(p).ok()),
        base_url: s("base_url").unwrap_or_else(|| "/".to_string()),
        root_dir: s("root_dir")
            .or_else(|| s("notebook_dir"))
            .map(PathBuf::from),
        secure: v.get("secure").and_then(|x| x.as_bool()).unwrap_or(false),
        sock: s("sock"),
        version: s("version"),
        token: s("token"),
    })
}

/// The loopback address to ask `info` at, or why it is not asked.
pub fn loopback_addr(info: &ServerInfo) -> Result<SocketAddr, String> {
    if info.sock.is_some() {
        return Err("it listens on a Unix socket".into());
    }
    if info.secure {
        return Err("it serves HTTPS only".into());
    }
    let port = info
        .port
        .ok_or_else(|| "its info file names no port".to_string())?;
    let host = info
        .hostname
        .clone()
        .or_else(|| {
            let url = info.url.as_deref()?;
            let rest = url.split_once("://")?.1;
            let authority = rest.split('/').next()?;
            let host = match authority.rsplit_once(':') {
                Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
                _ => authority,
            };
            Some(host.trim_matches(['[', ']']).to_string())
        })
        .unwrap_or_default();
    let ip = match host.as_str() {
        // never resolved: /etc/hosts could point `localhost` elsewhere
        "localhost" | "" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        h => match h.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) if ip.is_loopback() => ip,
            Ok(IpAddr::V4(v4)) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Ok(IpAddr::V6(v6)) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            _ => return Err(format!("its address {h} is not loopback")),
        },
    };
    Ok(SocketAddr::new(ip, port))
}

/// `GET <base_url>api/sessions` of a live server on loopback, with the token from its info
/// file. The error says why nothing was asked or what failed (never the token).
pub fn sessions(info: &ServerInfo) -> Result<Vec<Session>, String> {
    if !info.alive() {
        return Err("the server is not running".into());
    }
    let addr = loopback_addr(info)?;
    let base = if info.base_url.starts_with('/') {
        info.base_url.clone()
    } else {
        format!("/{}", info.base_url)
    };
    let sep = if base.ends_with('/') { "" } else { "/" };
    let url = format!("http://{addr}{base}{sep}api/sessions");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into();
    let mut req = agent.get(&url);
    if let Some(t) = &info.token {
        req = req.header("Authorization", &format!("token {t}"));
    }
    let mut resp = req.call().map_err(|e| format!("GET {url} failed: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("GET {url} answered {status}"));
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| format!("GET {url}: {e}"))?;
    parse_sessions(&body).map_err(|e| format!("GET {url}: {e}"))
}

/// The `/api/sessions` body: a JSON array of session models.
pub fn parse_sessions(body: &str) -> Result<Vec<Session>, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let arr = v.as_array().ok_or("not a JSON array")?;
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Ok(arr
        .iter()
        .filter_map(|m| {
            let path = s(m, "path").or_else(|| m.get("notebook").and_then(|n| s(n, "path")))?;
            let kernel = m.get("kernel");
            Some(Session {
                path,
                kind: s(m, "type"),
                kernel_id: kernel.and_then(|k| s(k, "id")),
                kernel_name: kernel.and_then(|k| s(k, "name")),
                execution_state: kernel.and_then(|k| s(k, "execution_state")),
            })
        })
        .collect())
}

/// The kernel id of a connection file jupyter_client named `kernel-<id>.json`.
pub fn kernel_id_of(connection_file: &Path) -> Option<String> {
    let name = connection_file.file_name()?.to_str()?;
    name.strip_prefix("kernel-")?
        .strip_suffix(".json")
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(json: &str) -> ServerInfo {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("jpserver-1.json");
        std::fs::write(&f, json).unwrap();
        read_info(&f).unwrap()
    }

    #[test]
    fn reads_an_info_file_and_hides_the_token() {
        let i = info(
            r#"{"base_url": "/", "hostname": "127.0.0.1", "pid": 42, "port": 8888,
                "root_dir": "/home/u", "secure": false, "sock": "", "token": "SECRET",
                "url": "http://127.0.0.1:8888/?token=SECRET", "version": "2.14.0"}"#,
        );
        assert_eq!(i.pid, Some(42));
        assert_eq!(i.url.as_deref(), Some("http://127.0.0.1:8888/"));
        assert_eq!(i.root_dir.as_deref(), Some(Path::new("/home/u")));
        assert!(i.sock.is_none());
        let shown = format!("{} {:?}", serde_json::to_string(&i).unwrap(), i);
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(
            loopback_addr(&i).unwrap(),
            "127.0.0.1:8888".parse().unwrap()
        );
    }

    #[test]
    fn only_loopback_is_asked() {
        let with = |host: &str| {
            info(&format!(
                r#"{{"hostname": "{host}", "port": 9, "pid": 1, "base_url": "/"}}"#
            ))
        };
        assert_eq!(
            loopback_addr(&with("localhost")).unwrap().ip(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            loopback_addr(&with("::1")).unwrap().ip(),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
        assert!(loopback_addr(&with("0.0.0.0")).unwrap().ip().is_loopback());
        assert!(loopback_addr(&with("10.1.2.3")).is_err());
        assert!(loopback_addr(&with("example.org")).is_err());
        // a live pid that started after the info file was written is not that server
        let me = std::process::id();
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join(format!("jpserver-{me}.json"));
        std::fs::write(&f, format!(r#"{{"pid": {me}, "port": 9}}"#)).unwrap();
        assert!(read_info(&f).unwrap().alive());
        let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(!read_info(&f).unwrap().alive());
        let secure = info(r#"{"hostname": "127.0.0.1", "port": 9, "secure": true}"#);
        assert!(loopback_addr(&secure).is_err());
        let sock = info(r#"{"hostname": "127.0.0.1", "port": 9, "sock": "/tmp/s"}"#);
        assert!(loopback_addr(&sock).is_err());
        // the classic notebook server writes no hostname: the URL's host decides
        let classic = info(r#"{"url": "http://localhost:8888/", "port": 8888}"#);
        assert!(loopback_addr(&classic).unwrap().ip().is_loopback());
        let remote = info(r#"{"url": "http://192.168.1.5:8888/", "port": 8888}"#);
        assert!(loopback_addr(&remote).is_err());
    }

    #[test]
    fn a_live_pid_that_runs_no_python_is_no_server_process() {
        // this test binary: alive, written after it started, but not a Python
        let me = std::process::id();
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join(format!("jpserver-{me}.json"));
        std::fs::write(&f, format!(r#"{{"pid": {me}, "port": 9}}"#)).unwrap();
        let i = read_info(&f).unwrap();
        assert!(i.alive());
        assert!(server_process(&i).is_none());
    }

    #[test]
    fn bad_info_files_are_errors_naming_the_file() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("nbserver-7.json");
        std::fs::write(&f, "{torn").unwrap();
        let e = read_info(&f).unwrap_err();
        assert!(e.contains("nbserver-7.json"), "{e}");
        std::fs::write(d.path().join("jpserver-7-open.html"), "x").unwrap();
        std::fs::write(d.path().join("kernel-1.json"), "{}").unwrap();
        assert_eq!(info_files(&[d.path().to_path_buf()]), [f]);
    }

    #[test]
    fn sessions_and_kernel_ids() {
        let s = parse_sessions(
            r#"[{"id": "s1", "path": "sub/a.ipynb", "type": "notebook",
                 "kernel": {"id": "k1", "name": "py", "execution_state": "idle"}},
                {"id": "s2", "type": "console", "kernel": null}]"#,
        )
        .unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kernel_id.as_deref(), Some("k1"));
        assert!(parse_sessions("{}").is_err());
        assert_eq!(
            kernel_id_of(Path::new("/r/kernel-k1.json")).as_deref(),
            Some("k1")
        );
        assert_eq!(kernel_id_of(Path::new("/tmp/tmpabc.json")), None);
    }
}
