//! jupyter_core's search paths (`jupyter_path`, `jupyter_config_path`) and IPython's
//! directory, evaluated for a given Jupyter installation. Every rule cites jupyter_core 5.9.1
//! `paths.py` or IPython 9 `paths.py`; the strings are built the way Python builds them
//! (`os.path.join` keeps `//` and relative entries, `str(Path(..))` normalises), because
//! `kip kernels --jupyter-json` must print them byte for byte.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::platform::{self, Os};

/// The facts about the Jupyter's own interpreter that its path rules depend on.
#[derive(Clone, Debug)]
pub struct JupyterPython {
    pub sys_prefix: PathBuf,
    pub base_prefix: PathBuf,
    /// `site.ENABLE_USER_SITE`.
    pub enable_user_site: bool,
    /// `site.getuserbase()` (not resolved).
    pub user_base: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirOrigin {
    /// An entry of `JUPYTER_PATH`.
    JupyterPath,
    /// The user data dir.
    User,
    /// `<userbase>/share/jupyter`.
    UserSite,
    /// `<sys.prefix>/share/jupyter` of the Jupyter's Python.
    Env,
    System,
    /// `<ipython dir>/kernels` (kernels only).
    Ipython,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DataDir {
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub path: PathBuf,
    pub origin: DirOrigin,
}

/// `os.path.join(a, b)` on POSIX: `b` appended with one `/` unless `a` is empty or already
/// ends with `/`. Rust's `Path::join` agrees on these inputs; kept as a named function so the
/// intent (Python string semantics) is visible at each call.
pub fn pjoin(a: &Path, b: &str) -> PathBuf {
    if a.as_os_str().is_empty() {
        PathBuf::from(b)
    } else {
        a.join(b)
    }
}

/// `str(pathlib.Path(p))`: collapses `//` and `.` components and drops a trailing `/`.
pub fn pathlib_str(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// `rstrip(os.sep)` of a `JUPYTER_PATH` entry.
fn rstrip_sep(s: &str) -> &str {
    s.trim_end_matches('/')
}

/// jupyter_core `prefer_environment_over_user()`.
pub fn prefer_environment_over_user(ctx: &Context, py: &JupyterPython) -> bool {
    if ctx.vars.contains("JUPYTER_PREFER_ENV_PATH") {
        return ctx.vars.envset("JUPYTER_PREFER_ENV_PATH", false);
    }
    if py.sys_prefix != py.base_prefix && do_i_own(&py.sys_prefix) {
        return true;
    }
    if let Some(conda_prefix) = ctx.vars.get_str("CONDA_PREFIX") {
        let default_env = ctx.vars.get_str("CONDA_DEFAULT_ENV").unwrap_or("base");
        // A raw string prefix test, as upstream does.
        if py.sys_prefix.to_string_lossy().starts_with(conda_prefix)
            && default_env != "base"
            && do_i_own(&py.sys_prefix)
        {
            return true;
        }
    }
    false
}

/// jupyter_core `_do_i_own`: walk up to the first existing ancestor; owned by our euid, or
/// (when ownership cannot be read) writable. The `os.getlogin()` name comparison upstream
/// tries first fails without a controlling terminal and agrees with the uid test otherwise.
fn do_i_own(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let mut p = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    loop {
        if let Ok(meta) = std::fs::metadata(&p) {
            // SAFETY: geteuid has no preconditions.
            return meta.uid() == unsafe { libc::geteuid() };
        }
        match p.parent() {
            Some(parent) if parent != p => p = parent.to_path_buf(),
            _ => return false,
        }
    }
}

/// jupyter_core `jupyter_path()` (without subdirs) for the given Jupyter Python; with no
/// Jupyter at all, the user data dir and the system dirs.
pub fn jupyter_path(ctx: &Context, py: Option<&JupyterPython>) -> Vec<DataDir> {
    let home = ctx.home_resolved().unwrap_or_else(|| PathBuf::from("/"));
    let sys_prefix = py
        .map(|p| p.sys_prefix.clone())
        .unwrap_or_else(|| PathBuf::from("/usr"));
    let mut paths: Vec<DataDir> = Vec::new();

    if let Some(jp) = ctx.vars.get_nonempty("JUPYTER_PATH") {
        for entry in jp.to_string_lossy().split(':') {
            paths.push(DataDir {
                path: PathBuf::from(rstrip_sep(entry)),
                origin: DirOrigin::JupyterPath,
            });
        }
    }

    let data_dir = platform::jupyter_data_dir(ctx.os, &ctx.vars, &home, &sys_prefix);
    let mut user = vec![DataDir {
        path: data_dir,
        origin: DirOrigin::User,
    }];
    if let Some(py) = py {
        if py.enable_user_site {
            if let Some(base) = &py.user_base {
                let userdir = pathlib_str(&base.join("share").join("jupyter"));
                if !user.iter().any(|d| d.path == userdir) {
                    user.push(DataDir {
                        path: userdir,
                        origin: DirOrigin::UserSite,
                    });
                }
            }
        }
    }

    let system = platform::jupyter_system_dirs(ctx.os, &ctx.vars, &sys_prefix);
    let env: Vec<DataDir> = match py {
        None => Vec::new(),
        Some(py) => {
            let env_dir = pathlib_str(&py.sys_prefix.join("share").join("jupyter"));
            let env_list = vec![env_dir.clone()];
            if env_list == system || !system.contains(&env_dir) {
                vec![DataDir {
                    path: env_dir,
                    origin: DirOrigin::Env,
                }]
            } else {
                Vec::new()
            }
        }
    };

    if py.is_some_and(|p| prefer_environment_over_user(ctx, p)) {
        paths.extend(env);
        paths.extend(user);
    } else {
        paths.extend(user);
        paths.extend(env);
    }
    for s in system {
        if !paths.iter().any(|d| d.path == s) {
            paths.push(DataDir {
                path: s,
                origin: DirOrigin::System,
            });
        }
    }
    paths
}

/// jupyter_core `jupyter_config_path()`, with the config dir first as `JupyterApp` inserts it.
/// Highest priority first.
pub fn jupyter_config_path(ctx: &Context, py: Option<&JupyterPython>) -> Vec<PathBuf> {
    let home = ctx.home_resolved().unwrap_or_else(|| PathBuf::from("/"));
    let config_dir = platform::jupyter_config_dir(ctx.os, &ctx.vars, &home);
    if ctx.vars.get_nonempty("JUPYTER_NO_CONFIG").is_some() {
        // Upstream points at a fresh temporary directory: no config is read.
        return Vec::new();
    }
    let mut paths: Vec<PathBuf> = Vec::new();
    if let Some(cp) = ctx.vars.get_nonempty("JUPYTER_CONFIG_PATH") {
        paths.extend(
            cp.to_string_lossy()
                .split(':')
                .map(|e| PathBuf::from(rstrip_sep(e))),
        );
    }
    let mut user = vec![config_dir.clone()];
    if let Some(py) = py {
        if py.enable_user_site {
            if let Some(base) = &py.user_base {
                let d = pathlib_str(&base.join("etc").join("jupyter"));
                if !user.contains(&d) {
                    user.push(d);
                }
            }
        }
    }
    let sys_prefix = py.map(|p| p.sys_prefix.clone());
    let env_cfg = sys_prefix
        .as_ref()
        .map(|p| pathlib_str(&p.join("etc").join("jupyter")));
    let system = platform::jupyter_system_config_dirs(
        ctx.os,
        sys_prefix.as_deref().unwrap_or(Path::new("/usr")),
    );
    let env: Vec<PathBuf> = env_cfg
        .iter()
        .filter(|e| !system.contains(e))
        .cloned()
        .collect();
    if py.is_some_and(|p| prefer_environment_over_user(ctx, p)) {
        paths.extend(env);
        paths.extend(user);
    } else {
        paths.extend(user);
        paths.extend(env);
    }
    paths.extend(system);
    if !paths.contains(&config_dir) {
        paths.insert(0, config_dir);
    }
    paths
}

/// Is `path` a directory this user may write to (`os.access(W_OK)`, real uid)?
pub fn writable_dir(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    if !path.is_dir() {
        return false;
    }
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: c is a valid NUL-terminated string.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// `os.path.normpath` on POSIX (string-level: `..` collapses lexically).
pub fn normpath(p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    if s.is_empty() {
        return PathBuf::from(".");
    }
    let initial = if s.starts_with("//") && !s.starts_with("///") {
        "//"
    } else if s.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in s.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if !initial.is_empty() && parts.is_empty() {
                    continue;
                }
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            c => parts.push(c),
        }
    }
    let joined = format!("{initial}{}", parts.join("/"));
    if joined.is_empty() {
        PathBuf::from(".")
    } else {
        PathBuf::from(joined)
    }
}

/// Where IPython's `get_ipython_dir()` points, as the kernel listing sees it (IPython 9
/// `paths.py`): `IPYTHONDIR` (even empty: then `.`), else `~/.ipython`, or
/// `${XDG_CONFIG_HOME:-~/.config}/ipython` when that is a writable dir and `~/.ipython` does
/// not exist and is not a symlink target. `None` when IPython would fall back to a fresh temp
/// dir (which holds no kernels).
pub fn ipython_dir(ctx: &Context) -> Option<PathBuf> {
    let home = ctx.home_resolved().unwrap_or_else(|| PathBuf::from("/"));
    let ipdir: PathBuf = match ctx.vars.get("IPYTHONDIR") {
        Some(v) => expand_user(Path::new(v), &home),
        None => {
            let default = home.join(".ipython");
            let mut chosen = default.clone();
            if ctx.os == Os::Linux {
                let xdg = ctx
                    .vars
                    .get_nonempty("XDG_CONFIG_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home.join(".config"));
                if writable_dir(&xdg) {
                    let xdg_ipdir = xdg.join("ipython");
                    if writable_dir(&xdg_ipdir) && !default.exists() && !xdg_ipdir.is_symlink() {
                        chosen = xdg_ipdir;
                    }
                }
            }
            chosen
        }
    };
    let ipdir = normpath(&ipdir);
    if ipdir.exists() && !writable_dir(&ipdir) {
        return None;
    }
    if !ipdir.exists() {
        let parent = ipdir.parent().unwrap_or(Path::new(""));
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if !writable_dir(parent) {
            return None;
        }
    }
    Some(ipdir)
}

/// jupyter_core `migrate.get_ipython_dir()`: `IPYTHONDIR` if set, else `~/.ipython` (no XDG
/// lookup, no creation): the source of the one-time kernel migration.
pub fn ipython_dir_for_migration(ctx: &Context) -> PathBuf {
    match ctx.vars.get("IPYTHONDIR") {
        Some(v) => PathBuf::from(v),
        None => {
            let home = ctx.home().unwrap_or_else(|| PathBuf::from("/"));
            home.join(".ipython")
        }
    }
}

fn expand_user(p: &Path, home: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    if s == "~" {
        home.to_path_buf()
    } else if let Some(rest) = s.strip_prefix("~/") {
        home.join(rest)
    } else {
        p.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_string_joins() {
        assert_eq!(pjoin(Path::new(""), "kernels"), PathBuf::from("kernels"));
        assert_eq!(
            pjoin(Path::new("/x//"), "kernels").to_string_lossy(),
            "/x//kernels"
        );
        assert_eq!(
            pathlib_str(Path::new("/ub//share/./jupyter/")),
            PathBuf::from("/ub/share/jupyter")
        );
        assert_eq!(normpath(Path::new("")), PathBuf::from("."));
        assert_eq!(normpath(Path::new("/a/b/../c/")), PathBuf::from("/a/c"));
        assert_eq!(normpath(Path::new("a//./b")), PathBuf::from("a/b"));
    }

    #[test]
    fn rstrip_keeps_empty_entries() {
        assert_eq!(rstrip_sep("A/"), "A");
        assert_eq!(rstrip_sep("B//"), "B");
        assert_eq!(rstrip_sep("/"), "");
    }
}
