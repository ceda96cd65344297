//! Classify an interpreter or a prefix from disk alone (python-environments.md §1c). No
//! process runs here; what disk cannot tell is left `None`/empty for the caller to probe.
//!
//! * `pyvenv.cfg` beside the interpreter or one level above (CPython `Modules/getpath.py`)
//!   → a virtual environment: a `uv` key → uv, a `virtualenv` key → virtualenv, otherwise the
//!   stdlib `venv`, told apart from poetry and pipx by location. It is looked up beside the path
//!   *as given*: every venv's `bin/python` is a symlink to the same base binary.
//! * `lib/pythonX.Y/orig-prefix.txt` → a virtualenv < 20 (no `pyvenv.cfg`, `sys.real_prefix`).
//! * otherwise a base install: the interpreter's own symlink chain is followed the way getpath
//!   does (each link resolved against its directory, directories left alone — so a pyenv
//!   version reached through a symlinked directory keeps that name as `sys.prefix`), then the
//!   landmark `lib/pythonX.Y[t]/os.py` (or `os.pyc`) is searched upward. `conda-meta/` makes it
//!   conda (`pixi` marker → pixi, `pkgs/`, `envs/` or `condabin/` → a root prefix), a
//!   `<pyenv root>/versions/X` directory pyenv, `<uv python dir>/cpython-…` uv-managed, and
//!   `/usr`, `/usr/local`, Homebrew and the python.org framework count as the system's.

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;

use crate::context::Context;
use crate::platform::{self, Os};
use crate::python::environment::{EnvKind, Environment, Evidence, UserSite};
use crate::python::layout::{is_script, pyvenv_cfg_for};
use crate::python::version::PythonVersion;
use crate::python::{memo, pep668};

/// `pyvenv.cfg`: `key = value` lines split on the first `=`, keys lowercased (it is not real
/// INI: uv `virtualenv.rs`, CPython `site.venv`). Invalid UTF-8 is replaced, not an error.
pub fn read_pyvenv_cfg(path: &Path) -> Option<Vec<(String, String)>> {
    let bytes = crate::files::read_head(path, 1 << 16).ok()?;
    Some(parse_pyvenv_cfg(&String::from_utf8_lossy(&bytes)))
}

fn parse_pyvenv_cfg(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            Some((k.trim().to_lowercase(), v.trim().to_string()))
        })
        .collect()
}

/// The facts kip uses from a `pyvenv.cfg`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PyvenvCfg {
    pub home: Option<PathBuf>,
    /// `version` (stdlib venv) or `version_info` (uv, virtualenv: `3.11.7.final.0`).
    pub version: Option<PythonVersion>,
    pub include_system_site_packages: bool,
    /// `uv = <version>`: made by uv.
    pub uv: Option<String>,
    /// `virtualenv = <version>`: made by virtualenv ≥ 20.
    pub virtualenv: Option<String>,
    /// virtualenv's `base-prefix`.
    pub base_prefix: Option<PathBuf>,
    pub prompt: Option<String>,
}

impl PyvenvCfg {
    pub fn parse(text: &str) -> PyvenvCfg {
        PyvenvCfg::from_pairs(&parse_pyvenv_cfg(text))
    }

    fn from_pairs(cfg: &[(String, String)]) -> PyvenvCfg {
        let get = |k: &str| {
            cfg.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        PyvenvCfg {
            home: get("home").map(PathBuf::from),
            version: get("version")
                .or_else(|| get("version_info"))
                .and_then(|v| v.parse().ok()),
            // site.py: `system_site = value.lower()`, enabled only for "true".
            include_system_site_packages: get("include-system-site-packages")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            uv: get("uv").map(str::to_string),
            virtualenv: get("virtualenv").map(str::to_string),
            base_prefix: get("base-prefix").map(PathBuf::from),
            prompt: get("prompt").map(str::to_string),
        }
    }

    pub fn read(path: &Path) -> Option<PyvenvCfg> {
        read_pyvenv_cfg(path).map(|p| PyvenvCfg::from_pairs(&p))
    }
}

/// `p` made absolute against the context's cwd, `.` components dropped (`..` kept: resolving
/// it lexically could cross a symlink).
fn absolute(ctx: &Context, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        ctx.cwd.join(p)
    };
    joined
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// Follow the symlink chain of the file itself, as CPython's getpath does for the executable:
/// each relative target is joined to the link's directory; directories are not canonicalized.
fn follow_file_links(p: &Path) -> PathBuf {
    let mut cur = p.to_path_buf();
    for _ in 0..40 {
        let Ok(target) = std::fs::read_link(&cur) else {
            break;
        };
        cur = if target.is_absolute() {
            target
        } else {
            cur.parent().unwrap_or(Path::new("/")).join(target)
        };
    }
    cur
}

/// `python3.11` → 3.11, `python3.13t` → (3.13, free-threaded); `python3`/`python` → None.
fn version_from_exe_name(p: &Path) -> Option<(PythonVersion, bool)> {
    let name = p.file_name()?.to_str()?;
    let rest = name.strip_prefix("python")?;
    let (ver, t) = match rest.strip_suffix('t') {
        Some(v) => (v, true),
        None => (rest, false),
    };
    let (a, b) = ver.split_once('.')?;
    Some((
        PythonVersion::new(a.parse().ok()?, b.parse().ok()?, None),
        t,
    ))
}

/// The stdlib directories `lib*/pythonX.Y[t]` under `prefix` that hold the getpath landmark
/// (`os.py`/`os.pyc`; with `site_packages_ok`, a `site-packages` dir suffices, as in a venv):
/// `(version, free_threaded)`, newest first.
fn lib_versions(prefix: &Path, site_packages_ok: bool) -> Vec<(PythonVersion, bool)> {
    let mut out: Vec<(PythonVersion, bool)> = Vec::new();
    for lib in ["lib", "lib64"] {
        // A `lib64 -> lib` symlink is the same directory, already read.
        if lib == "lib64" && !platform::lib64_distinct(prefix) {
            continue;
        }
        let Ok(rd) = std::fs::read_dir(prefix.join(lib)) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some((v, t)) = version_from_exe_name(Path::new(name)) else {
                continue;
            };
            if out.contains(&(v, t)) {
                continue;
            }
            let dir = e.path();
            // In a venv, `site-packages` is the usual landmark: asked first, it is one `stat`.
            let landmark = (site_packages_ok && dir.join("site-packages").is_dir())
                || dir.join("os.py").is_file()
                || dir.join("os.pyc").is_file();
            if landmark {
                out.push((v, t));
            }
        }
    }
    out.sort_by(|a, b| b.cmp(a));
    out
}

/// Does `prefix` hold a free-threaded stdlib `lib*/pythonX.Yt` (with its landmark, as
/// [`lib_versions`] with `site_packages_ok` counts it) for `v`'s minor? Asked directly: one
/// `stat` per lib dir when there is none, where listing `lib/` costs five calls.
fn free_threaded_lib(prefix: &Path, v: PythonVersion) -> bool {
    let name = stdlib_name(v, true);
    ["lib", "lib64"].iter().any(|lib| {
        let dir = prefix.join(lib).join(&name);
        dir.is_dir()
            && (dir.join("site-packages").is_dir()
                || dir.join("os.py").is_file()
                || dir.join("os.pyc").is_file())
    })
}

/// getpath's `search_up`: the nearest directory at or above `start` holding the stdlib
/// landmark, for version `want` when known. `/` is skipped: with Debian's merged /usr,
/// `/bin/python3` would find `/lib/python3.11/os.py`, yet the interpreter reports `/usr`.
fn search_up_landmark(start: &Path, want: Option<(PythonVersion, bool)>) -> Option<PathBuf> {
    let minor = want.map(|(v, _)| (v.major, v.minor));
    memo::remember("landmark", (start, minor), || {
        search_up_landmark_on_disk(start, want)
    })
}

fn search_up_landmark_on_disk(
    start: &Path,
    want: Option<(PythonVersion, bool)>,
) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.parent().is_none() {
            break;
        }
        let found = lib_versions(d, false);
        let hit = match want {
            Some((v, _)) => found
                .iter()
                .any(|(fv, _)| (fv.major, fv.minor) == (v.major, v.minor)),
            None => !found.is_empty(),
        };
        if hit {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// `#define PY_VERSION "3.12.1"` from `include/pythonX.Y[t]/patchlevel.h` (pyenv, python.org,
/// conda; Debian only with `-dev`).
fn patch_from_headers(prefix: &Path, v: PythonVersion, t: bool) -> Option<u16> {
    let t = if t { "t" } else { "" };
    let h = prefix
        .join("include")
        .join(format!("python{}.{}{t}", v.major, v.minor))
        .join("patchlevel.h");
    let text = crate::files::read(h).ok()?;
    let text = String::from_utf8_lossy(&text);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("#define PY_VERSION ") && l.contains('"'))?;
    let found: PythonVersion = line.split('"').nth(1)?.parse().ok()?;
    ((found.major, found.minor) == (v.major, v.minor))
        .then_some(found.patch)
        .flatten()
}

#[allow(clippy::expect_used)] // a constant pattern, checked by its unit tests
fn conda_record_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // `python-dateutil-…` and `python_abi-…` must not match (python-environments.md §1c).
    RE.get_or_init(|| Regex::new(r"^python-(\d[^-]*)-[^-]+\.json$").expect("valid regex"))
}

/// The version in a conda-meta record file name, if it is the `python` package's record.
pub fn conda_python_record_version(file_name: &str) -> Option<PythonVersion> {
    conda_record_re()
        .captures(file_name)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok())
}

/// One listing of a prefix's `conda-meta/`: everything classification asks of it (the
/// `python` record, the records of pip/ipykernel/uv, pixi's marker, `frozen`), from a single
/// `read_dir`.
struct CondaMeta {
    dir: PathBuf,
    /// Entry names, each with "is a regular file" and "exists" (symlinks followed).
    entries: Vec<(String, bool, bool)>,
}

impl CondaMeta {
    /// `None` when `conda-meta/` is not a directory: not a conda prefix.
    fn read(prefix: &Path) -> Option<CondaMeta> {
        let dir = prefix.join("conda-meta");
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            // A conda prefix still, whose records cannot be read.
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && dir.is_dir() => {
                return Some(CondaMeta {
                    dir,
                    entries: Vec::new(),
                })
            }
            Err(_) => return None,
        };
        let entries = rd
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let (file, exists) = match e.file_type() {
                    Ok(t) if t.is_symlink() => match std::fs::metadata(e.path()) {
                        Ok(m) => (m.is_file(), true),
                        Err(_) => (false, false),
                    },
                    Ok(t) => (t.is_file(), true),
                    Err(_) => (false, false),
                };
                Some((name, file, exists))
            })
            .collect();
        Some(CondaMeta { dir, entries })
    }

    /// The `python` record: its version, and `python_site_packages_path` when the record has
    /// one (newer records, needed for free-threaded builds).
    fn python_record(&self) -> Option<(PythonVersion, Option<String>)> {
        /// The one field read from a record that lists every file of the package (hundreds of
        /// KB for python itself): the rest is skipped by the parser, not built.
        #[derive(serde::Deserialize)]
        struct Record {
            python_site_packages_path: Option<String>,
        }
        #[allow(clippy::expect_used)] // a constant pattern
        fn has_field(bytes: &[u8]) -> bool {
            static RE: OnceLock<regex::bytes::Regex> = OnceLock::new();
            RE.get_or_init(|| {
                regex::bytes::Regex::new(r#""python_site_packages_path""#).expect("valid regex")
            })
            .is_match(bytes)
        }
        self.entries.iter().find_map(|(name, _, _)| {
            let v = conda_python_record_version(name)?;
            // Older records have no such field: a literal search says so without parsing.
            let site = crate::files::read(self.dir.join(name))
                .ok()
                .filter(|b| has_field(b))
                .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
                .and_then(|r| r.python_site_packages_path);
            Some((v, site))
        })
    }

    /// Which of `names` have a `<name>-<version>-<build>.json` record?
    fn records<const N: usize>(&self, names: [&str; N]) -> [bool; N] {
        let mut found = [false; N];
        for (n, _, _) in &self.entries {
            let Some(stem) = n.strip_suffix(".json") else {
                continue;
            };
            let mut parts = stem.rsplitn(3, '-');
            let (_build, _version, pkg) = (parts.next(), parts.next(), parts.next());
            for (hit, name) in found.iter_mut().zip(names) {
                *hit |= pkg == Some(name);
            }
        }
        found
    }

    fn has_file(&self, name: &str) -> bool {
        self.entries.iter().any(|(n, file, _)| n == name && *file)
    }

    fn has(&self, name: &str) -> bool {
        self.entries
            .iter()
            .any(|(n, _, exists)| n == name && *exists)
    }
}

/// The version of a conda prefix's `python` record.
pub fn conda_python_version(prefix: &Path) -> Option<PythonVersion> {
    CondaMeta::read(prefix)?.python_record().map(|(v, _)| v)
}

/// Which of `names` are installed in one of `site_dirs` (`<name>-<ver>.dist-info`,
/// `.egg-info`), names compared PEP 503-normalized? Each directory is listed once, whatever
/// the number of names (classification asks for pip, ipykernel and uv together).
pub fn dists_present<const N: usize>(site_dirs: &[PathBuf], names: [&str; N]) -> [bool; N] {
    let want = names.map(crate::python::dist_name::normalize_dist_name);
    let mut found = [false; N];
    for d in site_dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        for e in rd.flatten() {
            let n = e.file_name();
            let Some(n) = n.to_str() else { continue };
            let Some(stem) = n
                .strip_suffix(".dist-info")
                .or_else(|| n.strip_suffix(".egg-info"))
            else {
                continue;
            };
            let dist = stem.split_once('-').map_or(stem, |(d, _)| d);
            let dist = crate::python::dist_name::normalize_dist_name(dist);
            for (hit, w) in found.iter_mut().zip(&want) {
                *hit |= dist == *w;
            }
        }
        if found.iter().all(|&f| f) {
            break;
        }
    }
    found
}

/// pip, ipykernel and uv in `site_dirs`, and uv as `<prefix>/bin/uv`.
fn tools_present(prefix: &Path, site_dirs: &[PathBuf]) -> (bool, bool, bool) {
    let [pip, ipykernel, uv] = dists_present(site_dirs, ["pip", "ipykernel", "uv"]);
    (pip, ipykernel, uv || prefix.join("bin/uv").is_file())
}

/// `access(W_OK)` with the real uid, as pip's own test (`test_writable_dir`) does on POSIX.
pub fn writable(p: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// pip's `test_writable_dir`: a directory that does not exist yet is writable when its nearest
/// existing ancestor is.
fn writable_dir(p: &Path) -> bool {
    let mut cur = Some(p);
    while let Some(d) = cur {
        if let Ok(m) = std::fs::metadata(d) {
            return m.is_dir() && writable(d);
        }
        cur = d.parent();
    }
    false
}

/// site.py `check_enableusersite`: off under `PYTHONNOUSERSITE` (any non-empty value) and when
/// the real and effective uid or gid differ.
fn user_site_allowed(ctx: &Context) -> bool {
    // SAFETY: these calls cannot fail and have no preconditions.
    let same_ids =
        unsafe { libc::getuid() == libc::geteuid() && libc::getgid() == libc::getegid() };
    same_ids && ctx.vars.get_nonempty("PYTHONNOUSERSITE").is_none()
}

fn user_site(
    ctx: &Context,
    prefix: &Path,
    v: Option<PythonVersion>,
    t: bool,
    enabled: bool,
) -> UserSite {
    // A macOS framework build keeps its user base in ~/Library/Python/X.Y (site.py `_getuserbase`).
    let framework = (ctx.os == Os::MacOs && prefix.to_string_lossy().contains("Python.framework"))
        .then(|| v.map(|v| v.minor_str()))
        .flatten();
    let path = ctx.home().zip(v).map(|(home, v)| {
        let base = platform::python_user_base(ctx.os, &ctx.vars, &home, framework.as_deref());
        platform::python_user_site(ctx.os, &base, v.major, v.minor, framework.is_some(), t)
    });
    UserSite { enabled, path }
}

fn stdlib_name(v: PythonVersion, t: bool) -> String {
    format!("python{}.{}{}", v.major, v.minor, if t { "t" } else { "" })
}

/// `site.getsitepackages()` of a base install (Debian's patched site.py for `/usr`).
fn base_site_dirs(ctx: &Context, prefix: &Path, v: PythonVersion, t: bool) -> Vec<PathBuf> {
    if ctx.os != Os::Windows && prefix == Path::new("/usr") {
        let debian = match v.major {
            3 => Path::new("/usr/lib/python3/dist-packages").is_dir(),
            _ => Path::new("/usr/lib/python2.7/dist-packages").is_dir(),
        };
        if debian {
            let minor = format!("python{}.{}", v.major, v.minor);
            let mut dirs = vec![PathBuf::from(format!(
                "/usr/local/lib/{minor}/dist-packages"
            ))];
            if v.major == 3 {
                dirs.push(PathBuf::from("/usr/lib/python3/dist-packages"));
            }
            dirs.push(PathBuf::from(format!("/usr/lib/{minor}/dist-packages")));
            return dirs;
        }
    }
    own_site_dirs(ctx, prefix, v, t)
}

/// `<prefix>/lib/pythonX.Y[t]/site-packages` (+ `lib64` when it is a distinct directory).
fn own_site_dirs(ctx: &Context, prefix: &Path, v: PythonVersion, t: bool) -> Vec<PathBuf> {
    if !t || ctx.os == Os::Windows {
        return platform::site_packages_dirs(ctx.os, prefix, v.major, v.minor);
    }
    let name = stdlib_name(v, t);
    let mut dirs = vec![prefix.join("lib").join(&name).join("site-packages")];
    let lib64 = prefix.join("lib64").join(&name).join("site-packages");
    if platform::lib64_distinct(prefix) && lib64.is_dir() && !same_file(&lib64, &dirs[0]) {
        dirs.push(lib64);
    }
    dirs
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => (x.dev(), x.ino()) == (y.dev(), y.ino()),
        _ => false,
    }
}

fn pyenv_roots(ctx: &Context) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(r) = ctx.vars.get_nonempty("PYENV_ROOT") {
        roots.push(PathBuf::from(r));
    }
    if let Some(h) = ctx.home() {
        roots.push(h.join(".pyenv"));
    }
    roots
}

/// `<pyenv root>/versions/<name>`: the root is `PYENV_ROOT`/`~/.pyenv`, or looks like one
/// (has `shims/` or `libexec/`, or is named `.pyenv`).
fn is_pyenv_version(ctx: &Context, prefix: &Path) -> bool {
    let Some(versions) = prefix.parent() else {
        return false;
    };
    if versions.file_name().is_none_or(|n| n != "versions") {
        return false;
    }
    let Some(root) = versions.parent() else {
        return false;
    };
    pyenv_roots(ctx)
        .iter()
        .any(|r| r == root || same_file(r, root))
        || root.join("shims").is_dir()
        || root.join("libexec").is_dir()
        || root.file_name().is_some_and(|n| n == ".pyenv")
}

/// uv's managed-Python directory: `UV_PYTHON_INSTALL_DIR`, else `$XDG_DATA_HOME/uv/python`,
/// else `~/.local/share/uv/python` (uv docs/reference/storage.md).
pub fn uv_python_dirs(ctx: &Context) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = ctx.vars.get_nonempty("UV_PYTHON_INSTALL_DIR") {
        dirs.push(PathBuf::from(d));
    }
    if let Some(d) = ctx.vars.get_nonempty("XDG_DATA_HOME") {
        dirs.push(PathBuf::from(d).join("uv/python"));
    }
    if let Some(h) = ctx.home() {
        dirs.push(h.join(".local/share/uv/python"));
    }
    dirs
}

fn is_uv_managed(ctx: &Context, prefix: &Path) -> bool {
    let Some(parent) = prefix.parent() else {
        return false;
    };
    let named = prefix
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.split('-').count() >= 3);
    named
        && (parent.ends_with("uv/python")
            || uv_python_dirs(ctx)
                .iter()
                .any(|d| d == parent || same_file(d, parent)))
}

/// The version in a pyenv (`3.11.7`) or uv (`cpython-3.12.4-linux-x86_64-gnu`) directory name.
fn version_from_dir_name(prefix: &Path, uv: bool) -> Option<PythonVersion> {
    let name = prefix.file_name()?.to_str()?;
    let v = if uv { name.split('-').nth(1)? } else { name };
    if !v
        .split('.')
        .all(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit()))
    {
        return None;
    }
    v.parse().ok()
}

fn is_system_prefix(prefix: &Path) -> bool {
    prefix == Path::new("/usr")
        || prefix == Path::new("/usr/local")
        || prefix.starts_with("/opt/homebrew")
        || prefix.starts_with("/usr/local/Cellar")
        || prefix.starts_with("/home/linuxbrew/.linuxbrew")
        || prefix.starts_with("/Library/Frameworks/Python.framework")
        || prefix.starts_with("/System/Library/Frameworks/Python.framework")
        || prefix.starts_with("/Library/Developer/CommandLineTools")
        || prefix.starts_with("/Applications/Xcode.app")
}

/// Classify the environment an interpreter path belongs to, from disk. `None` when the path
/// does not exist, is a `#!` script outside a venv, or has no recognisable Python layout.
/// Inside a [`memo::scope`], each path is classified once.
pub fn classify_interpreter(ctx: &Context, python: &Path) -> Option<Environment> {
    let python = absolute(ctx, python);
    let key = ("interpreter", &python, memo::ContextKey(ctx));
    memo::remember("environment", key, || {
        classify_interpreter_from_disk(ctx, python.clone())
    })
}

fn classify_interpreter_from_disk(ctx: &Context, python: PathBuf) -> Option<Environment> {
    std::fs::symlink_metadata(&python).ok()?;
    if let Some(cfg) = pyvenv_cfg_for(&python) {
        let prefix = cfg.parent()?.to_path_buf();
        return classify_venv(ctx, &prefix, Some(&python));
    }
    if !python.is_file() || is_script(&python) {
        return None;
    }
    let real = follow_file_links(&python);
    let named = version_from_exe_name(&real).or_else(|| version_from_exe_name(&python));
    let mut starts = vec![real.clone()];
    if let Ok(c) = std::fs::canonicalize(&python) {
        if c != real {
            starts.push(c);
        }
    }
    for exe in starts {
        let Some(prefix) = exe.parent().and_then(|d| search_up_landmark(d, named)) else {
            continue;
        };
        if let Some(env) = classify_base(ctx, &prefix, named, Some(python.clone())) {
            return Some(env);
        }
    }
    None
}

/// Classify a prefix (a venv directory, a conda env, an install root), from disk. Inside a
/// [`memo::scope`], each prefix is classified once.
pub fn classify_prefix(ctx: &Context, prefix: &Path) -> Option<Environment> {
    let prefix = absolute(ctx, prefix);
    let key = ("prefix", &prefix, memo::ContextKey(ctx));
    memo::remember("environment", key, || {
        if prefix.join("pyvenv.cfg").is_file() {
            return classify_venv(ctx, &prefix, None);
        }
        classify_base(ctx, &prefix, None, None)
    })
}

/// The interpreter inside a prefix: `bin/python3`, `bin/python`, then `bin/pythonX.Y`. With
/// `dangling_ok`, a symlink whose target is gone still counts (a venv whose base was removed
/// must be listed, with its problem).
fn interpreter_in(
    ctx: &Context,
    prefix: &Path,
    conda: bool,
    v: Option<PythonVersion>,
    dangling_ok: bool,
) -> Option<PathBuf> {
    let mut candidates = platform::python_candidates(ctx.os, prefix, conda);
    if let Some(v) = v {
        candidates.push(
            platform::scripts_dir(ctx.os, prefix, conda)
                .join(format!("python{}.{}", v.major, v.minor)),
        );
    }
    let ok = |p: &PathBuf| {
        if dangling_ok {
            std::fs::symlink_metadata(p).is_ok()
        } else {
            memo::is_file(p)
        }
    };
    candidates.iter().find(|p| ok(p)).cloned()
}

/// A virtual environment at `prefix` (which holds `pyvenv.cfg`).
fn classify_venv(ctx: &Context, prefix: &Path, given: Option<&Path>) -> Option<Environment> {
    let cfg = PyvenvCfg::read(&prefix.join("pyvenv.cfg")).unwrap_or_default();
    // pyvenv.cfg's version, with `t` taken from the lib dir; without one, the lib dir's.
    let (version, t) = match cfg.version {
        Some(v) => (Some(v), free_threaded_lib(prefix, v)),
        None => match lib_versions(prefix, true).first() {
            Some((v, t)) => (Some(*v), *t),
            None => (None, false),
        },
    };
    let interpreter = match given {
        Some(p) => p.to_path_buf(),
        None => interpreter_in(ctx, prefix, false, version, true)?,
    };
    let kind = if cfg.uv.is_some() {
        EnvKind::UvVenv
    } else if cfg.virtualenv.is_some() {
        EnvKind::Virtualenv
    } else if is_poetry_venv(ctx, prefix) {
        EnvKind::Poetry
    } else if is_pipx_venv(ctx, prefix) {
        EnvKind::Pipx
    } else {
        EnvKind::Venv
    };
    // sys.base_prefix: getpath searches the landmark upward from `home`.
    let base_prefix = cfg.base_prefix.clone().or_else(|| {
        let home = cfg.home.as_ref()?;
        search_up_landmark(home, version.map(|v| (v, t)))
            .or_else(|| home.parent().map(Path::to_path_buf))
    });
    let mut site_packages = match version {
        Some(v) => own_site_dirs(ctx, prefix, v, t),
        None => Vec::new(),
    };
    let writable_site = site_packages.first().is_some_and(|s| writable_dir(s));
    if cfg.include_system_site_packages {
        if let (Some(b), Some(v)) = (&base_prefix, version) {
            site_packages.extend(base_site_dirs(ctx, b, v, t));
        }
    }
    let mut problems = Vec::new();
    match &cfg.home {
        Some(h) if !h.is_dir() => problems.push(format!(
            "the base interpreter directory {} (pyvenv.cfg home) is gone",
            h.display()
        )),
        Some(_) => {}
        None => problems.push(format!(
            "{} has no `home` key: Python cannot find the base interpreter",
            prefix.join("pyvenv.cfg").display()
        )),
    }
    let enabled = cfg.include_system_site_packages && user_site_allowed(ctx);
    let (has_pip, has_ipykernel, has_uv) = tools_present(prefix, &site_packages);
    Some(Environment {
        prefix: prefix.to_path_buf(),
        kind,
        interpreter,
        version,
        base_prefix,
        venv_home: cfg.home.clone(),
        has_pip,
        has_ipykernel,
        has_uv,
        externally_managed: None,
        writable: writable_site,
        frozen: false,
        name: None,
        pixi_manifest: None,
        user_site: user_site(ctx, prefix, version, t, enabled),
        site_packages,
        problems,
        evidence: Evidence::Disk,
    })
}

/// poetry keeps its venvs in `{cache-dir}/virtualenvs` (`POETRY_VIRTUALENVS_PATH` overrides).
fn is_poetry_venv(ctx: &Context, prefix: &Path) -> bool {
    ctx.vars
        .get_nonempty("POETRY_VIRTUALENVS_PATH")
        .is_some_and(|d| prefix.parent() == Some(Path::new(d)))
        || prefix
            .parent()
            .is_some_and(|p| p.ends_with("pypoetry/virtualenvs"))
}

/// pipx writes `pipx_metadata.json` into each app venv; its shared pip venv is `<home>/shared`.
fn is_pipx_venv(ctx: &Context, prefix: &Path) -> bool {
    prefix.join("pipx_metadata.json").is_file()
        || prefix.parent().is_some_and(|p| p.ends_with("pipx/venvs"))
        || ctx
            .vars
            .get_nonempty("PIPX_HOME")
            .is_some_and(|h| prefix.starts_with(h))
}

/// A base install (or conda env, or virtualenv < 20) at `prefix`.
#[allow(clippy::too_many_lines)] // predates the lint; split when next changed
fn classify_base(
    ctx: &Context,
    prefix: &Path,
    named: Option<(PythonVersion, bool)>,
    given: Option<PathBuf>,
) -> Option<Environment> {
    let meta = CondaMeta::read(prefix);
    let conda = meta.is_some();
    let record = meta.as_ref().and_then(CondaMeta::python_record);
    let libs = lib_versions(prefix, false);
    let same_minor =
        |a: &PythonVersion, b: &PythonVersion| (a.major, a.minor) == (b.major, b.minor);
    let (mut version, t) = match (named, &record) {
        (Some((v, t)), _) => {
            let t = t || libs.iter().any(|(lv, lt)| *lt && same_minor(lv, &v));
            (v, t)
        }
        (None, Some((v, _))) => {
            let t = libs.iter().any(|(lv, lt)| *lt && same_minor(lv, v))
                && !libs.iter().any(|(lv, lt)| !*lt && same_minor(lv, v));
            (*v, t)
        }
        (None, None) => *libs.first()?,
    };
    if !libs.iter().any(|(lv, _)| same_minor(lv, &version)) && !conda {
        return None;
    }
    let pyenv = is_pyenv_version(ctx, prefix);
    let uv_managed = !pyenv && is_uv_managed(ctx, prefix);
    if version.patch.is_none() {
        version.patch = record
            .as_ref()
            .filter(|(rv, _)| same_minor(rv, &version))
            .and_then(|(rv, _)| rv.patch)
            .or_else(|| patch_from_headers(prefix, version, t))
            .or_else(|| {
                (pyenv || uv_managed)
                    .then(|| version_from_dir_name(prefix, uv_managed))
                    .flatten()
                    .filter(|dv| same_minor(dv, &version))
                    .and_then(|dv| dv.patch)
            });
    }
    let interpreter = match given {
        Some(p) => p,
        None => interpreter_in(ctx, prefix, conda, Some(version), false)?,
    };
    // virtualenv < 20: no pyvenv.cfg; `orig-prefix.txt` names sys.real_prefix (conda
    // prefixes are never one).
    let stdlib = prefix.join("lib").join(stdlib_name(version, t));
    if let Some(orig) = (!conda)
        .then(|| crate::files::read(stdlib.join("orig-prefix.txt")).ok())
        .flatten()
    {
        return Some(legacy_virtualenv(
            ctx,
            prefix,
            interpreter,
            version,
            t,
            &orig,
            &stdlib,
        ));
    }
    let kind = if conda {
        if meta.as_ref().is_some_and(|m| m.has_file("pixi")) {
            EnvKind::Pixi
        } else if ["pkgs", "envs", "condabin"]
            .iter()
            .any(|d| prefix.join(d).is_dir())
        {
            EnvKind::CondaBase
        } else {
            EnvKind::Conda
        }
    } else if pyenv {
        EnvKind::Pyenv
    } else if uv_managed {
        EnvKind::UvManaged
    } else if is_system_prefix(prefix) {
        EnvKind::System
    } else {
        EnvKind::Base
    };
    let site_packages = match record.as_ref().and_then(|(_, s)| s.as_ref()) {
        Some(rel) if conda => vec![prefix.join(rel)],
        _ => base_site_dirs(ctx, prefix, version, t),
    };
    let pixi = if kind == EnvKind::Pixi {
        crate::files::read(prefix.join("conda-meta/pixi"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    } else {
        None
    };
    let name = match kind {
        EnvKind::CondaBase => Some("base".to_string()),
        EnvKind::Pixi => pixi
            .as_ref()
            .and_then(|j| Some(j.get("environment_name")?.as_str()?.to_string()))
            .or_else(|| prefix.file_name().map(|n| n.to_string_lossy().into_owned())),
        EnvKind::Conda => prefix.file_name().map(|n| n.to_string_lossy().into_owned()),
        _ => None,
    };
    let pixi_manifest = pixi
        .as_ref()
        .and_then(|j| Some(PathBuf::from(j.get("manifest_path")?.as_str()?)));
    let (pip, ipykernel, uv) = tools_present(prefix, &site_packages);
    let [pip_rec, ipykernel_rec, uv_rec] = meta
        .as_ref()
        .map_or([false; 3], |m| m.records(["pip", "ipykernel", "uv"]));
    Some(Environment {
        prefix: prefix.to_path_buf(),
        kind,
        interpreter,
        version: Some(version),
        base_prefix: Some(prefix.to_path_buf()),
        venv_home: None,
        has_pip: pip || pip_rec,
        has_ipykernel: ipykernel || ipykernel_rec,
        has_uv: uv || uv_rec,
        externally_managed: pep668::marker_in(prefix, version, t),
        writable: site_packages.first().is_some_and(|s| writable_dir(s)),
        frozen: meta.as_ref().is_some_and(|m| m.has("frozen")),
        name,
        pixi_manifest,
        user_site: user_site(ctx, prefix, Some(version), t, user_site_allowed(ctx)),
        site_packages,
        problems: Vec::new(),
        evidence: Evidence::Disk,
    })
}

/// virtualenv < 20: `lib/pythonX.Y/orig-prefix.txt` (the base), and
/// `no-global-site-packages.txt` when the base's site-packages (and the user site) are off.
fn legacy_virtualenv(
    ctx: &Context,
    prefix: &Path,
    interpreter: PathBuf,
    version: PythonVersion,
    t: bool,
    orig: &[u8],
    stdlib: &Path,
) -> Environment {
    use std::os::unix::ffi::OsStrExt;
    let orig = orig.strip_suffix(b"\n").unwrap_or(orig);
    let base = PathBuf::from(std::ffi::OsStr::from_bytes(orig));
    let global = !stdlib.join("no-global-site-packages.txt").exists();
    let mut site_packages = own_site_dirs(ctx, prefix, version, t);
    let writable_site = site_packages.first().is_some_and(|s| writable_dir(s));
    let mut problems = Vec::new();
    if !base.is_dir() {
        problems.push(format!(
            "the base installation {} (virtualenv orig-prefix.txt) is gone",
            base.display()
        ));
    }
    if global {
        site_packages.extend(base_site_dirs(ctx, &base, version, t));
    }
    let (has_pip, has_ipykernel, has_uv) = tools_present(prefix, &site_packages);
    Environment {
        kind: EnvKind::Virtualenv,
        interpreter,
        version: Some(version),
        venv_home: Some(base.join("bin")),
        base_prefix: Some(base),
        has_pip,
        has_ipykernel,
        has_uv,
        externally_managed: None,
        writable: writable_site,
        frozen: false,
        name: None,
        pixi_manifest: None,
        user_site: user_site(
            ctx,
            prefix,
            Some(version),
            t,
            global && user_site_allowed(ctx),
        ),
        site_packages,
        problems,
        evidence: Evidence::Disk,
        prefix: prefix.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envvars::EnvVars;
    use std::os::unix::fs::symlink;

    fn ctx(home: &Path, extra: &[(&str, &str)]) -> Context {
        let mut pairs = vec![("HOME".to_string(), home.display().to_string())];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Context::new(Os::Linux, EnvVars::from_pairs(pairs), home.to_path_buf())
    }

    fn touch(p: &Path, text: &str) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// A base install at `prefix`: `bin/python3.X` (a fake ELF), `python3 -> python3.X`, the
    /// `os.py` landmark and a site-packages dir.
    fn base(prefix: &Path, minor: &str) -> PathBuf {
        let exe = prefix.join(format!("bin/python{minor}"));
        touch(&exe, "\x7fELF");
        symlink(format!("python{minor}"), prefix.join("bin/python3")).unwrap();
        touch(&prefix.join(format!("lib/python{minor}/os.py")), "");
        std::fs::create_dir_all(prefix.join(format!("lib/python{minor}/site-packages"))).unwrap();
        prefix.join("bin/python3")
    }

    #[test]
    fn pyvenv_cfg_is_split_on_the_first_equals_and_tolerates_garbage() {
        let cfg = PyvenvCfg::parse(
            "home = /usr/bin\nuv = 0.13.9\ncommand = a=b\nbroken line\nversion_info = 3.12.1.final.0\nInclude-System-Site-Packages = TRUE\n",
        );
        assert_eq!(cfg.home, Some(PathBuf::from("/usr/bin")));
        assert_eq!(cfg.version, Some(PythonVersion::new(3, 12, Some(1))));
        assert!(cfg.include_system_site_packages);
        assert_eq!(cfg.uv.as_deref(), Some("0.13.9"));
        assert_eq!(
            PyvenvCfg::parse("\u{0}\u{ffff}=\n=x\nversion = banana"),
            PyvenvCfg::default()
        );
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("pyvenv.cfg");
        std::fs::write(&f, b"home = /x\xff\xfe\nversion = 3.11.2\n").unwrap();
        let c = PyvenvCfg::read(&f).unwrap();
        assert_eq!(c.version, Some(PythonVersion::new(3, 11, Some(2))));
    }

    #[test]
    fn conda_meta_python_version_skips_lookalikes() {
        assert_eq!(
            conda_python_record_version("python-dateutil-2.9.0-pyhd8ed1ab_0.json"),
            None
        );
        assert_eq!(
            conda_python_record_version("python_abi-3.11-4_cp311.json"),
            None
        );
        assert_eq!(
            conda_python_record_version("python-3.11.7-h_repack_0.json"),
            Some(PythonVersion::new(3, 11, Some(7)))
        );
        assert_eq!(
            conda_python_record_version("python-3.13.0rc1-h_0_cp313t.json").map(|v| v.minor),
            Some(13)
        );
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("conda-meta");
        touch(&m.join("python-dateutil-2.9.0-pyhd8ed1ab_0.json"), "{}");
        assert_eq!(conda_python_version(d.path()), None);
        touch(
            &m.join("python-3.11.7-h_repack_0.json"),
            r#"{"python_site_packages_path": "lib/python3.11/site-packages"}"#,
        );
        assert_eq!(
            CondaMeta::read(d.path()).unwrap().python_record(),
            Some((
                PythonVersion::new(3, 11, Some(7)),
                Some("lib/python3.11/site-packages".into())
            ))
        );
        touch(&m.join("pip-24.0-pyh_0.json"), "{}");
        touch(&m.join("frozen"), "");
        let meta = CondaMeta::read(d.path()).unwrap();
        assert_eq!(
            meta.records(["pip", "ipykernel", "python-dateutil-2.9.0"]),
            [true, false, false]
        );
        assert!(meta.has("frozen") && meta.has_file("frozen") && !meta.has("pixi"));
        assert!(CondaMeta::read(&m).is_none(), "no conda-meta: not conda");
    }

    #[test]
    fn venv_is_classified_beside_the_given_path_without_resolving_it() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path().join("home");
        let py = base(&d.path().join("base"), "3.12");
        touch(
            &d.path().join("base/include/python3.12/patchlevel.h"),
            "#define PY_VERSION \"3.12.1\"\n",
        );
        let v = d.path().join("v");
        std::fs::create_dir_all(v.join("bin")).unwrap();
        symlink(&py, v.join("bin/python")).unwrap();
        touch(&v.join("pyvenv.cfg"), &format!("home = {}\nimplementation = CPython\nuv = 0.13.9\nversion_info = 3.12.1\ninclude-system-site-packages = false\n", d.path().join("base/bin").display()));
        let sp = v.join("lib/python3.12/site-packages");
        std::fs::create_dir_all(sp.join("ipykernel-7.4.0.dist-info")).unwrap();
        let c = ctx(&home, &[]);
        let e = classify_interpreter(&c, &v.join("bin/python")).unwrap();
        assert_eq!(e.kind, EnvKind::UvVenv);
        assert_eq!(e.prefix, v);
        assert_eq!(e.interpreter, v.join("bin/python"));
        assert_eq!(e.version.unwrap().to_string(), "3.12.1");
        assert_eq!(e.base_prefix, Some(d.path().join("base")));
        assert_eq!(e.site_packages, vec![sp]);
        assert!(e.has_ipykernel && !e.has_pip && !e.has_uv);
        assert!(!e.user_site.enabled);
        assert_eq!(
            e.user_site.path,
            Some(home.join(".local/lib/python3.12/site-packages"))
        );
        assert_eq!(e.externally_managed, None);
        assert!(e.problems.is_empty(), "{:?}", e.problems);
        assert!(e.writable);
        // The base itself, found through its `python3 -> python3.12` link.
        let b = classify_interpreter(&c, &py).unwrap();
        assert_eq!(
            (b.kind, b.prefix.clone()),
            (EnvKind::Base, d.path().join("base"))
        );
        assert_eq!(b.version.unwrap().to_string(), "3.12.1");
        assert!(b.user_site.enabled);
        let b2 = classify_interpreter(&ctx(&home, &[("PYTHONNOUSERSITE", "1")]), &py).unwrap();
        assert!(!b2.user_site.enabled);
        // Same from the prefix; and a relative path is taken against the cwd.
        assert_eq!(
            classify_prefix(&c, &v).unwrap().interpreter,
            v.join("bin/python3").with_file_name("python")
        );
        let rel = Context::new(Os::Linux, EnvVars::default(), d.path().to_path_buf());
        assert_eq!(
            classify_interpreter(&rel, Path::new("./v/bin/python"))
                .unwrap()
                .prefix,
            v
        );
    }

    #[test]
    fn venv_kinds_system_site_and_a_missing_home() {
        let d = tempfile::tempdir().unwrap();
        let c = ctx(&d.path().join("home"), &[]);
        let py = base(&d.path().join("base"), "3.11");
        std::fs::create_dir_all(
            d.path()
                .join("base/lib/python3.11/site-packages/pip-24.0.dist-info"),
        )
        .unwrap();
        let mk = |name: &str, cfg: &str| {
            let v = d.path().join(name);
            std::fs::create_dir_all(v.join("bin")).unwrap();
            symlink(&py, v.join("bin/python3")).unwrap();
            touch(&v.join("pyvenv.cfg"), cfg);
            std::fs::create_dir_all(v.join("lib/python3.11/site-packages")).unwrap();
            v
        };
        let home = format!("home = {}\n", d.path().join("base/bin").display());
        let std = mk(
            "std",
            &format!("{home}include-system-site-packages = true\nversion = 3.11.4\n"),
        );
        let e = classify_prefix(&c, &std).unwrap();
        assert_eq!(e.kind, EnvKind::Venv);
        assert!(e.user_site.enabled);
        assert_eq!(
            e.site_packages.len(),
            2,
            "the base's site-packages are on the path"
        );
        assert!(e.has_pip, "pip importable from the base");
        let ve = mk(
            "ve",
            &format!("{home}virtualenv = 20.25.0\nversion_info = 3.11.4.final.0\n"),
        );
        assert_eq!(classify_prefix(&c, &ve).unwrap().kind, EnvKind::Virtualenv);
        let poetry = mk("pypoetry/virtualenvs/app-AbCd1234-py3.11", &home);
        let p = classify_prefix(&c, &poetry).unwrap();
        assert_eq!(p.kind, EnvKind::Poetry);
        assert_eq!(
            p.version.unwrap().to_string(),
            "3.11",
            "minor from lib/python3.11 only"
        );
        let pipx = mk("pipx/venvs/black", &home);
        assert_eq!(classify_prefix(&c, &pipx).unwrap().kind, EnvKind::Pipx);
        let broken = mk("broken", "home = /nonexistent/kip/bin\nversion = 3.11.4\n");
        std::fs::remove_file(broken.join("bin/python3")).unwrap();
        symlink("/nonexistent/kip/bin/python3", broken.join("bin/python3")).unwrap();
        let e = classify_interpreter(&c, &broken.join("bin/python3")).unwrap();
        assert_eq!(
            e.problems,
            vec![
                "the base interpreter directory /nonexistent/kip/bin (pyvenv.cfg home) is gone"
                    .to_string()
            ]
        );
        assert!(classify_prefix(&c, &broken).is_some());
    }

    #[test]
    fn conda_pixi_frozen_and_base_prefixes() {
        let d = tempfile::tempdir().unwrap();
        let c = ctx(&d.path().join("home"), &[]);
        let env = d.path().join("miniforge3/envs/ds");
        base(&env, "3.11");
        touch(&env.join("conda-meta/history"), "");
        touch(
            &env.join("conda-meta/python-3.11.9-hab00c5b_0_cpython.json"),
            "{}",
        );
        touch(
            &env.join("conda-meta/ipykernel-6.29.5-pyh3099207_0.json"),
            "{}",
        );
        touch(&env.join("conda-meta/frozen"), "");
        let e = classify_prefix(&c, &env).unwrap();
        assert_eq!(e.kind, EnvKind::Conda);
        assert_eq!(e.name.as_deref(), Some("ds"));
        assert_eq!(e.version.unwrap().to_string(), "3.11.9");
        assert!(e.has_ipykernel && !e.has_pip && e.frozen);
        assert_eq!(e.interpreter, env.join("bin/python3"));
        let root = d.path().join("miniforge3");
        base(&root, "3.12");
        touch(&root.join("conda-meta/history"), "");
        let r = classify_prefix(&c, &root).unwrap();
        assert_eq!(
            (r.kind, r.name.as_deref()),
            (EnvKind::CondaBase, Some("base"))
        );
        let pixi = d.path().join("proj/.pixi/envs/default");
        base(&pixi, "3.12");
        touch(
            &pixi.join("conda-meta/pixi"),
            r#"{"manifest_path": "/p/pixi.toml", "environment_name": "default", "pixi_version": "0.77.0"}"#,
        );
        let p = classify_prefix(&c, &pixi).unwrap();
        assert_eq!(p.kind, EnvKind::Pixi);
        assert_eq!(p.pixi_manifest, Some(PathBuf::from("/p/pixi.toml")));
        // A conda root without Python (micromamba) is not a Python environment.
        let mm = d.path().join("micromamba");
        std::fs::create_dir_all(mm.join("conda-meta")).unwrap();
        std::fs::create_dir_all(mm.join("pkgs")).unwrap();
        assert!(classify_prefix(&c, &mm).is_none());
    }

    #[test]
    fn pyenv_uv_managed_and_pep668() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real/3.12.1");
        base(&real, "3.12");
        let root = d.path().join("pyenv");
        std::fs::create_dir_all(root.join("versions")).unwrap();
        symlink(&real, root.join("versions/3.12.1")).unwrap();
        let c = ctx(
            &d.path().join("home"),
            &[("PYENV_ROOT", root.to_str().unwrap())],
        );
        // Through the symlinked version directory: the prefix keeps the pyenv name, as
        // sys.prefix does.
        let e = classify_interpreter(&c, &root.join("versions/3.12.1/bin/python3")).unwrap();
        assert_eq!(e.kind, EnvKind::Pyenv);
        assert_eq!(e.prefix, root.join("versions/3.12.1"));
        assert_eq!(
            e.version.unwrap().to_string(),
            "3.12.1",
            "patch from the directory name"
        );
        let uv = d
            .path()
            .join("home/.local/share/uv/python/cpython-3.12.4-linux-x86_64-gnu");
        base(&uv, "3.12");
        touch(
            &uv.join("lib/python3.12/EXTERNALLY-MANAGED"),
            "[externally-managed]\nError=use uv\n",
        );
        let u = classify_prefix(&c, &uv).unwrap();
        assert_eq!(u.kind, EnvKind::UvManaged);
        assert_eq!(u.version.unwrap().to_string(), "3.12.4");
        assert_eq!(
            u.externally_managed,
            Some(uv.join("lib/python3.12/EXTERNALLY-MANAGED"))
        );
    }

    #[test]
    fn legacy_virtualenv_and_free_threaded() {
        let d = tempfile::tempdir().unwrap();
        let c = ctx(&d.path().join("home"), &[]);
        let old = d.path().join("old");
        let py = base(&old, "2.7");
        touch(&old.join("lib/python2.7/orig-prefix.txt"), "/usr");
        touch(&old.join("lib/python2.7/no-global-site-packages.txt"), "");
        let e = classify_interpreter(&c, &py).unwrap();
        assert_eq!(e.kind, EnvKind::Virtualenv);
        assert_eq!(e.base_prefix, Some(PathBuf::from("/usr")));
        assert!(!e.user_site.enabled);
        let ft = d.path().join("ft");
        touch(&ft.join("bin/python3.13t"), "\x7fELF");
        touch(&ft.join("lib/python3.13t/os.py"), "");
        let e = classify_interpreter(&c, &ft.join("bin/python3.13t")).unwrap();
        assert_eq!(
            e.site_packages,
            vec![ft.join("lib/python3.13t/site-packages")]
        );
        assert_eq!(
            e.user_site.path,
            Some(d.path().join("home/.local/lib/python3.13t/site-packages"))
        );
    }

    #[test]
    fn not_a_python_is_none_never_a_panic() {
        let d = tempfile::tempdir().unwrap();
        let c = ctx(d.path(), &[]);
        assert!(classify_interpreter(&c, &d.path().join("missing")).is_none());
        touch(
            &d.path().join("bin/python3"),
            "#!/bin/sh\nexec python3 \"$@\"\n",
        );
        assert!(classify_interpreter(&c, &d.path().join("bin/python3")).is_none());
        touch(&d.path().join("x/bin/python3"), "\x7fELF");
        assert!(classify_interpreter(&c, &d.path().join("x/bin/python3")).is_none());
        assert!(classify_prefix(&c, d.path()).is_none());
        use std::os::unix::ffi::OsStrExt;
        let odd = d.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
        base(&odd, "3.11");
        let e = classify_prefix(&c, &odd).unwrap();
        assert_eq!(e.prefix, odd);
        // A loop of symlinks.
        symlink(d.path().join("loop2"), d.path().join("loop1")).unwrap();
        symlink(d.path().join("loop1"), d.path().join("loop2")).unwrap();
        assert!(classify_interpreter(&c, &d.path().join("loop1")).is_none());
    }

    #[test]
    fn debian_site_packages_follow_its_site_py() {
        let c = ctx(Path::new("/nonexistent-home"), &[]);
        assert!(
            Path::new("/usr/lib/python3/dist-packages").is_dir(),
            "this test needs Debian's python3 (/usr/lib/python3/dist-packages)"
        );
        let v = PythonVersion::new(3, 11, None);
        assert_eq!(
            base_site_dirs(&c, Path::new("/usr"), v, false),
            vec![
                PathBuf::from("/usr/local/lib/python3.11/dist-packages"),
                PathBuf::from("/usr/lib/python3/dist-packages"),
                PathBuf::from("/usr/lib/python3.11/dist-packages"),
            ]
        );
    }

    #[test]
    fn writable_follows_pip_for_missing_dirs() {
        let d = tempfile::tempdir().unwrap();
        assert!(writable_dir(&d.path().join("a/b/c")));
        // The nearest existing ancestor is a file, not a directory (root may write anywhere).
        let f = d.path().join("file");
        std::fs::write(&f, "").unwrap();
        assert!(!writable_dir(&f.join("x")));
    }
}
