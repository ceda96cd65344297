//! Where Python environments come from: an ordered list of sources (python-environments.md
//! §1a–§1b), each result saying every source and interpreter path it was found by. Disk only:
//! nothing is run here, and pyenv shims are resolved from their files (`pyenv.rs`).
//!
//! The order of the result is the order of first discovery, which is fixed:
//! 1. the active environment: `VIRTUAL_ENV`, `CONDA_PREFIX`, then `.venv` and
//!    `.pixi/envs/*` from the cwd upward (uv looks at these first, too);
//! 2. `PATH`, directory by directory (directories deduplicated by file identity — Debian's
//!    merged /usr puts one directory on PATH as `/usr/bin` and `/bin`), each directory's
//!    `python`, `python3`, `python3.X[t]`, `python2[.7]` in that order; a pyenv shim counts as
//!    the interpreter it selects here;
//! 3. pyenv versions (`$PYENV_ROOT/versions/*`, default `~/.pyenv`);
//! 4. conda and mamba: `~/.conda/environments.txt`, the envs dirs (`CONDA_ENVS_DIRS`,
//!    `CONDA_ENVS_PATH`, `envs_dirs` in a `.condarc`, `<root>/envs`, `~/.conda/envs`), the roots
//!    (`_CONDA_ROOT`, `CONDA_EXE`, `CONDA_PYTHON_EXE`, `~/miniconda3`, `~/anaconda3`,
//!    `~/miniforge3`, `~/mambaforge`, `/opt/conda`), then mamba's (`MAMBA_ROOT_PREFIX`,
//!    `~/micromamba`, `~/.local/share/mamba`);
//! 5. pixi global environments (`$PIXI_HOME/envs/*`, default `~/.pixi`);
//! 6. poetry's virtualenvs, pipx's venvs, uv tools, uv-managed Pythons;
//! 7. the system's Pythons (`/usr/bin/python3.X`, `/usr/local/bin/python3`; on macOS the
//!    python.org framework and Homebrew);
//! 8. the caller's extra interpreters (the kernels', a target's), in the order given.
//!
//! Entries are one per environment: the same prefix (by file identity) and minor version.
//! Within a directory, entries are sorted by name.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use crate::context::Context;
use crate::platform::Os;
use crate::python::environment::Environment;
use crate::python::{classify, pyenv};
use crate::shell::path::is_executable_file;

/// Where an environment or interpreter was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Path,
    PyenvVersion,
    /// A pyenv shim on PATH selects this interpreter (resolved from its files).
    PyenvShim,
    VirtualEnvVar,
    DotVenv,
    CondaPrefixVar,
    CondaEnvironmentsTxt,
    CondaEnvsDir,
    CondaRoot,
    MambaRoot,
    Pixi,
    Poetry,
    Pipx,
    UvManaged,
    UvTool,
    System,
    /// A kernel (by name) runs this interpreter.
    Kernel(String),
    /// The command's target (`--python`, `--prefix`, …).
    Target,
}

impl Source {
    /// The kebab-case name used in JSON; every kernel is `kernel` (names are listed apart).
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Path => "path",
            Source::PyenvVersion => "pyenv-version",
            Source::PyenvShim => "pyenv-shim",
            Source::VirtualEnvVar => "virtual-env-var",
            Source::DotVenv => "dot-venv",
            Source::CondaPrefixVar => "conda-prefix-var",
            Source::CondaEnvironmentsTxt => "conda-environments-txt",
            Source::CondaEnvsDir => "conda-envs-dir",
            Source::CondaRoot => "conda-root",
            Source::MambaRoot => "mamba-root",
            Source::Pixi => "pixi",
            Source::Poetry => "poetry",
            Source::Pipx => "pipx",
            Source::UvManaged => "uv-managed",
            Source::UvTool => "uv-tool",
            Source::System => "system",
            Source::Kernel(_) => "kernel",
            Source::Target => "target",
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One environment and everything it was found by.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    pub env: Environment,
    /// Every source, in discovery order, each once.
    pub sources: Vec<Source>,
    /// Every interpreter path it was found by (the env's own interpreter for prefix sources).
    #[serde(serialize_with = "crate::pyjson::path_text::vec")]
    pub interpreters: Vec<PathBuf>,
}

impl Found {
    /// The names of the kernels that use this environment.
    pub fn kernels(&self) -> Vec<String> {
        self.sources
            .iter()
            .filter_map(|s| match s {
                Source::Kernel(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }
}

/// An interpreter that exists but that disk alone cannot place (a wrapper script, a binary
/// outside any recognised layout): only a probe can tell.
#[derive(Clone, Debug)]
pub struct Unclassified {
    pub interpreter: PathBuf,
    pub sources: Vec<Source>,
}

/// Everything discovery saw.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub found: Vec<Found>,
    pub unclassified: Vec<Unclassified>,
    /// Each identity's index in `found`, computed once per entry: comparing a new entry with
    /// every earlier one by `stat` made discovery quadratic (245 `statx` per env at 300 envs).
    index: HashMap<Identity, usize>,
}

impl Discovery {
    /// A discovery holding `found` as it is now (identities read afresh: a probe may have
    /// changed an entry's version since it was added).
    pub fn from_found(found: Vec<Found>) -> Discovery {
        let mut index = HashMap::new();
        for (i, f) in found.iter().enumerate() {
            // The first entry of an identity is the one `add` merges into.
            index.entry(identity(&f.env)).or_insert(i);
        }
        Discovery {
            found,
            unclassified: Vec::new(),
            index,
        }
    }

    /// Add an environment found by `via`, merging with the entry of the same identity.
    pub fn add(&mut self, env: Environment, source: Source, via: PathBuf) {
        let key = identity(&env);
        match self.index.get(&key).and_then(|&i| self.found.get_mut(i)) {
            Some(f) => {
                if !f.sources.contains(&source) {
                    f.sources.push(source);
                }
                if !f.interpreters.contains(&via) {
                    f.interpreters.push(via);
                }
            }
            None => {
                self.index.insert(key, self.found.len());
                self.found.push(Found {
                    env,
                    sources: vec![source],
                    interpreters: vec![via],
                });
            }
        }
    }

    fn add_unclassified(&mut self, interpreter: PathBuf, source: Source) {
        match self
            .unclassified
            .iter_mut()
            .find(|u| u.interpreter == interpreter)
        {
            Some(u) => {
                if !u.sources.contains(&source) {
                    u.sources.push(source);
                }
            }
            None => self.unclassified.push(Unclassified {
                interpreter,
                sources: vec![source],
            }),
        }
    }
}

/// What makes two findings one environment: the prefix by file identity (its path when it
/// cannot be read) and the minor version (Debian's `/usr` holds `python3.11` and
/// `python3.12` side by side, with separate stdlibs and dist-packages).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum PrefixId {
    Inode(u64, u64),
    Path(PathBuf),
}

type Identity = (PrefixId, Option<(u8, u8)>);

fn identity(env: &Environment) -> Identity {
    let id = match std::fs::metadata(&env.prefix) {
        Ok(m) => PrefixId::Inode(m.dev(), m.ino()),
        Err(_) => PrefixId::Path(env.prefix.clone()),
    };
    (id, env.version.map(|v| (v.major, v.minor)))
}

enum Candidate {
    Interpreter(PathBuf),
    Prefix(PathBuf),
}

/// Subdirectories of `dir` (following symlinks), hidden ones skipped, sorted by name.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))
        // The entry's type comes with the listing; only a symlink needs a `stat`.
        .filter(|e| match e.file_type() {
            Ok(t) if t.is_symlink() => e.path().is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => false,
        })
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// PATH directories deduplicated by file identity, as uv does.
pub fn path_dirs_unique(ctx: &Context) -> Vec<PathBuf> {
    let mut seen: Vec<(u64, u64)> = Vec::new();
    let mut out = Vec::new();
    for d in ctx.vars.path_dirs() {
        let d = if d.is_absolute() { d } else { ctx.cwd.join(d) };
        let Ok(m) = std::fs::metadata(&d) else {
            continue;
        };
        let id = (m.dev(), m.ino());
        if m.is_dir() && !seen.contains(&id) {
            seen.push(id);
            out.push(d);
        }
    }
    out
}

/// The Python interpreter names in one directory: `python`, `python3`, then `python3.X[t]`
/// newest first, then `python2`, `python2.7`.
fn python_names_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut named: Vec<(u8, u8, u8, bool, String)> = Vec::new();
    for e in rd.flatten() {
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        let Some(rest) = name.strip_prefix("python") else {
            continue;
        };
        let (ver, t) = match rest.strip_suffix('t') {
            Some(v) if v.contains('.') => (v, true),
            _ => (rest, false),
        };
        let parsed = match ver.split_once('.') {
            None if ver.is_empty() => Some((0u8, 0u8, 0u8)),
            None => ver.parse::<u8>().ok().map(|m| (1, m, 0)),
            Some((a, b)) => a
                .parse::<u8>()
                .ok()
                .zip(b.parse::<u8>().ok())
                .map(|(a, b)| (2, a, b)),
        };
        let Some((rank, a, b)) = parsed else { continue };
        named.push((rank, a, b, t, name));
    }
    // `python`, `python3`, `python3.13`, `python3.12`, …, `python2`, `python2.7`.
    named.sort_by(|x, y| {
        let major = |r: &(u8, u8, u8, bool, String)| match r.0 {
            0 => (0u8, 0u8),
            _ => (1, u8::MAX - r.1),
        };
        major(x)
            .cmp(&major(y))
            .then(x.0.cmp(&y.0))
            .then(y.2.cmp(&x.2))
            .then(x.3.cmp(&y.3))
    });
    named
        .into_iter()
        .map(|n| dir.join(n.4))
        .filter(|p| is_executable_file(p))
        .collect()
}

fn home_dir(ctx: &Context, rel: &str) -> Option<PathBuf> {
    ctx.home().map(|h| h.join(rel))
}

/// `$XDG_DATA_HOME`, else `~/.local/share`.
fn data_home(ctx: &Context) -> Option<PathBuf> {
    ctx.vars
        .get_nonempty("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| home_dir(ctx, ".local/share"))
}

fn expand_tilde(ctx: &Context, s: &str) -> PathBuf {
    match (s.strip_prefix("~/"), ctx.home()) {
        (Some(rest), Some(h)) => h.join(rest),
        _ if s == "~" => ctx.home().unwrap_or_else(|| PathBuf::from(s)),
        _ => PathBuf::from(s),
    }
}

/// `envs_dirs` from a `.condarc` (block list or `[a, b]` flow list; only this key is read).
pub fn condarc_envs_dirs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_list = false;
    for line in text.lines() {
        let l = line.split(" #").next().unwrap_or(line).trim_end();
        if let Some(rest) = l
            .strip_prefix("envs_dirs:")
            .or_else(|| l.strip_prefix("envs_path:"))
        {
            let rest = rest.trim();
            if let Some(flow) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                out.extend(
                    flow.split(',')
                        .map(|s| s.trim().trim_matches(['"', '\'']).to_string())
                        .filter(|s| !s.is_empty()),
                );
                in_list = false;
            } else {
                in_list = rest.is_empty();
            }
            continue;
        }
        if in_list {
            let t = l.trim_start();
            if let Some(item) = t.strip_prefix("- ") {
                let item = item.trim().trim_matches(['"', '\'']);
                if !item.is_empty() {
                    out.push(item.to_string());
                }
            } else if !t.is_empty() && !t.starts_with('#') {
                in_list = false;
            }
        }
    }
    out
}

/// conda root prefixes: from conda's own variables (context.py `conda_exe_vars_dict`), then
/// the usual installer locations (a heuristic, not from conda's source).
fn conda_roots(ctx: &Context) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(r) = ctx.vars.get_nonempty("_CONDA_ROOT") {
        roots.push(PathBuf::from(r));
    }
    for var in ["CONDA_EXE", "CONDA_PYTHON_EXE"] {
        if let Some(root) = ctx
            .vars
            .get_nonempty(var)
            .and_then(|exe| Path::new(exe).parent()?.parent().map(Path::to_path_buf))
        {
            roots.push(root);
        }
    }
    for d in [
        "miniconda3",
        "anaconda3",
        "miniforge3",
        "mambaforge",
        "miniconda",
        "anaconda",
    ] {
        roots.extend(home_dir(ctx, d));
    }
    roots.push(PathBuf::from("/opt/conda"));
    let mut out: Vec<PathBuf> = Vec::new();
    for r in roots {
        if r.join("conda-meta").is_dir() && !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// mamba's root: `MAMBA_ROOT_PREFIX`, else `~/micromamba` (1.x), else `~/.local/share/mamba`
/// (2.x) (libmamba `get_root_prefix`); every one that exists is listed.
fn mamba_roots(ctx: &Context) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(r) = ctx.vars.get_nonempty("MAMBA_ROOT_PREFIX") {
        roots.push(PathBuf::from(r));
    }
    roots.extend(home_dir(ctx, "micromamba"));
    roots.extend(home_dir(ctx, ".local/share/mamba"));
    roots.retain(|r| r.is_dir());
    roots.dedup();
    roots
}

fn conda_envs_dirs(ctx: &Context, roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for var in ["CONDA_ENVS_DIRS", "CONDA_ENVS_PATH"] {
        if let Some(v) = ctx.vars.get_nonempty(var) {
            dirs.extend(std::env::split_paths(v).filter(|p| !p.as_os_str().is_empty()));
        }
    }
    // .condarc search path (conda/base/constants.py SEARCH_PATH), user and root files.
    let mut rcs: Vec<PathBuf> = vec![
        PathBuf::from("/etc/conda/.condarc"),
        PathBuf::from("/etc/conda/condarc"),
    ];
    for r in roots {
        rcs.push(r.join(".condarc"));
        rcs.push(r.join("condarc"));
    }
    if let Some(x) = ctx.vars.get_nonempty("XDG_CONFIG_HOME") {
        rcs.push(PathBuf::from(x).join("conda/.condarc"));
        rcs.push(PathBuf::from(x).join("conda/condarc"));
    }
    rcs.extend(home_dir(ctx, ".config/conda/.condarc"));
    rcs.extend(home_dir(ctx, ".conda/.condarc"));
    rcs.extend(home_dir(ctx, ".conda/condarc"));
    rcs.extend(home_dir(ctx, ".condarc"));
    if let Some(c) = ctx.vars.get_nonempty("CONDARC") {
        rcs.push(PathBuf::from(c));
    }
    for rc in rcs {
        if let Ok(bytes) = crate::files::read(&rc) {
            for d in condarc_envs_dirs(&String::from_utf8_lossy(&bytes)) {
                dirs.push(expand_tilde(ctx, &d));
            }
        }
    }
    for r in roots {
        dirs.push(r.join("envs"));
    }
    dirs.extend(home_dir(ctx, ".conda/envs"));
    let mut out: Vec<PathBuf> = Vec::new();
    for d in dirs {
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// The pyenv root kip lists versions from (`PYENV_ROOT`, else `~/.pyenv`).
fn pyenv_root(ctx: &Context) -> Option<PathBuf> {
    ctx.vars
        .get_nonempty("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| home_dir(ctx, ".pyenv"))
}

fn poetry_virtualenvs(ctx: &Context) -> Option<PathBuf> {
    if let Some(p) = ctx.vars.get_nonempty("POETRY_VIRTUALENVS_PATH") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = ctx.vars.get_nonempty("POETRY_CACHE_DIR") {
        return Some(PathBuf::from(p).join("virtualenvs"));
    }
    let cache = match ctx.os {
        Os::MacOs => home_dir(ctx, "Library/Caches"),
        _ => ctx
            .vars
            .get_nonempty("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| home_dir(ctx, ".cache")),
    }?;
    Some(cache.join("pypoetry/virtualenvs"))
}

fn pipx_homes(ctx: &Context) -> Vec<PathBuf> {
    if let Some(p) = ctx.vars.get_nonempty("PIPX_HOME") {
        return vec![PathBuf::from(p)];
    }
    let mut v = Vec::new();
    match ctx.os {
        Os::MacOs => v.extend(home_dir(ctx, "Library/Application Support/pipx")),
        _ => v.extend(data_home(ctx).map(|d| d.join("pipx"))),
    }
    v.extend(home_dir(ctx, ".local/pipx"));
    v
}

#[allow(clippy::too_many_lines)] // predates the lint: the sources in discovery order; split when next changed
fn candidates(ctx: &Context) -> Vec<(Candidate, Source)> {
    let mut c: Vec<(Candidate, Source)> = Vec::new();
    let prefix = |p: PathBuf, s: Source| (Candidate::Prefix(p), s);

    // 1. The active environment.
    if let Some(v) = ctx.vars.get_nonempty("VIRTUAL_ENV") {
        c.push(prefix(PathBuf::from(v), Source::VirtualEnvVar));
    }
    if let Some(p) = ctx.vars.get_nonempty("CONDA_PREFIX") {
        c.push(prefix(PathBuf::from(p), Source::CondaPrefixVar));
    }
    for d in ctx.cwd.ancestors() {
        let v = d.join(".venv");
        if v.join("pyvenv.cfg").is_file() {
            c.push(prefix(v, Source::DotVenv));
        }
        for e in subdirs(&d.join(".pixi/envs")) {
            c.push(prefix(e, Source::Pixi));
        }
    }

    // 2. PATH.
    for d in path_dirs_unique(ctx) {
        for p in python_names_in(&d) {
            if pyenv::shim_root(&p).is_some() {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if let Some(exe) = pyenv::resolve_shim(ctx, &p, &name).executable {
                    c.push((Candidate::Interpreter(exe), Source::PyenvShim));
                }
                continue;
            }
            c.push((Candidate::Interpreter(p), Source::Path));
        }
    }

    // 3. pyenv.
    if let Some(root) = pyenv_root(ctx) {
        for v in subdirs(&root.join("versions")) {
            c.push(prefix(v, Source::PyenvVersion));
        }
    }

    // 4. conda and mamba.
    let roots = conda_roots(ctx);
    let mroots = mamba_roots(ctx);
    if let Some(txt) = home_dir(ctx, ".conda/environments.txt") {
        if let Ok(bytes) = crate::files::read(txt) {
            for l in String::from_utf8_lossy(&bytes).lines().map(str::trim) {
                if !l.is_empty() && !l.starts_with('#') {
                    c.push(prefix(PathBuf::from(l), Source::CondaEnvironmentsTxt));
                }
            }
        }
    }
    let all_roots: Vec<PathBuf> = roots.iter().chain(mroots.iter()).cloned().collect();
    for d in conda_envs_dirs(ctx, &all_roots) {
        for e in subdirs(&d) {
            c.push(prefix(e, Source::CondaEnvsDir));
        }
    }
    for r in roots {
        c.push(prefix(r, Source::CondaRoot));
    }
    for r in mroots {
        c.push(prefix(r, Source::MambaRoot));
    }

    // 5. pixi global.
    let pixi_home = ctx
        .vars
        .get_nonempty("PIXI_HOME")
        .map(PathBuf::from)
        .or_else(|| home_dir(ctx, ".pixi"));
    if let Some(h) = pixi_home {
        for e in subdirs(&h.join("envs")) {
            c.push(prefix(e, Source::Pixi));
        }
    }

    // 6. Tools' environments and uv's Pythons.
    if let Some(p) = poetry_virtualenvs(ctx) {
        for e in subdirs(&p) {
            c.push(prefix(e, Source::Poetry));
        }
    }
    for h in pipx_homes(ctx) {
        for e in subdirs(&h.join("venvs")) {
            c.push(prefix(e, Source::Pipx));
        }
        let shared = h.join("shared");
        if shared.join("pyvenv.cfg").is_file() {
            c.push(prefix(shared, Source::Pipx));
        }
    }
    let uv_tools = ctx
        .vars
        .get_nonempty("UV_TOOL_DIR")
        .map(PathBuf::from)
        .or_else(|| data_home(ctx).map(|d| d.join("uv/tools")));
    if let Some(t) = uv_tools {
        for e in subdirs(&t) {
            c.push(prefix(e, Source::UvTool));
        }
    }
    let mut uv_dirs = classify::uv_python_dirs(ctx);
    uv_dirs.dedup();
    for d in uv_dirs {
        for e in subdirs(&d) {
            c.push(prefix(e, Source::UvManaged));
        }
    }

    // 7. The system's Pythons.
    let mut system: Vec<PathBuf> = python_names_in(Path::new("/usr/bin"));
    system.push(PathBuf::from("/usr/local/bin/python3"));
    if ctx.os == Os::MacOs {
        for v in subdirs(Path::new("/Library/Frameworks/Python.framework/Versions")) {
            system.push(v.join("bin/python3"));
        }
        system.push(PathBuf::from("/opt/homebrew/bin/python3"));
        for d in subdirs(Path::new("/opt/homebrew/opt")) {
            if d.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python@"))
            {
                system.push(d.join("bin/python3"));
            }
        }
    }
    for p in system {
        if p.exists() {
            c.push((Candidate::Interpreter(p), Source::System));
        }
    }
    c
}

/// Every environment, plus the `extra` interpreters (those kernels use, a target), with the
/// interpreters disk could not place. See the module doc for the order.
pub fn discover_all(ctx: &Context, extra: &[(PathBuf, Source)]) -> Discovery {
    let mut all = candidates(ctx);
    // Many kernels share an interpreter: each path is read once.
    let mut runs: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    for (p, s) in extra {
        let p = if p.is_absolute() {
            p.clone()
        } else {
            ctx.cwd.join(p)
        };
        // A kernel launching a pyenv shim runs what the shim selects.
        let runs_exe = runs
            .entry(p)
            .or_insert_with_key(|p| match pyenv::shim_root(p) {
                Some(_) => {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    pyenv::resolve_shim(ctx, p, &name).executable
                }
                None => Some(p.clone()),
            });
        if let Some(exe) = runs_exe {
            all.push((Candidate::Interpreter(exe.clone()), s.clone()));
        }
    }
    let mut out = Discovery::default();
    for (cand, source) in all {
        match cand {
            Candidate::Interpreter(p) => match classify::classify_interpreter(ctx, &p) {
                Some(env) => out.add(env, source, p),
                None => {
                    if is_executable_file(&p) {
                        out.add_unclassified(p, source);
                    }
                }
            },
            Candidate::Prefix(p) => {
                if let Some(env) = classify::classify_prefix(ctx, &p) {
                    let via = env.interpreter.clone();
                    out.add(env, source, via);
                }
            }
        }
    }
    out
}

/// Every environment found from disk, plus `extra` interpreters (see [`discover_all`]).
pub fn discover(ctx: &Context, extra: &[(PathBuf, Source)]) -> Vec<Found> {
    discover_all(ctx, extra).found
}

/// A conda env by name (`conda run -n NAME`): the conda-like environment of that name.
pub fn conda_env_by_name(ctx: &Context, name: &str) -> Option<PathBuf> {
    discover(ctx, &[])
        .into_iter()
        .find(|f| f.env.kind.is_conda_like() && f.env.name.as_deref() == Some(name))
        .map(|f| f.env.prefix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envvars::EnvVars;
    use crate::python::environment::EnvKind;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn touch(p: &Path, text: &str) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn base(prefix: &Path, minor: &str) -> PathBuf {
        touch(&prefix.join(format!("bin/python{minor}")), "\x7fELF");
        symlink(format!("python{minor}"), prefix.join("bin/python3")).unwrap();
        touch(&prefix.join(format!("lib/python{minor}/os.py")), "");
        prefix.join("bin/python3")
    }

    fn venv(prefix: &Path, base_py: &Path, extra_cfg: &str) {
        std::fs::create_dir_all(prefix.join("bin")).unwrap();
        symlink(base_py, prefix.join("bin/python")).unwrap();
        symlink("python", prefix.join("bin/python3")).unwrap();
        std::fs::create_dir_all(prefix.join("lib/python3.12/site-packages")).unwrap();
        std::fs::write(
            prefix.join("pyvenv.cfg"),
            format!(
                "home = {}\nversion = 3.12.1\n{extra_cfg}",
                base_py.parent().unwrap().display()
            ),
        )
        .unwrap();
    }

    #[test]
    fn condarc_envs_dirs_block_and_flow() {
        assert_eq!(
            condarc_envs_dirs("channels:\n  - conda-forge\nenvs_dirs:\n  - ~/envs  # mine\n  - '/opt/envs'\npkgs_dirs:\n  - /x\n"),
            vec!["~/envs", "/opt/envs"]
        );
        assert_eq!(
            condarc_envs_dirs("envs_dirs: [/a, \"/b\"]\n"),
            vec!["/a", "/b"]
        );
        assert!(condarc_envs_dirs("\u{0}garbage: [").is_empty());
    }

    #[test]
    fn python_names_are_ordered() {
        let d = tempfile::tempdir().unwrap();
        for n in [
            "python3.11",
            "python",
            "python3.12",
            "python2.7",
            "python3",
            "python3.13t",
            "python3-config",
            "pythonw",
            "python3.12-config",
        ] {
            touch(&d.path().join(n), "");
        }
        std::fs::write(d.path().join("python2"), "").unwrap(); // not executable
        std::fs::set_permissions(
            d.path().join("python2"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let names: Vec<String> = python_names_in(d.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            vec![
                "python",
                "python3",
                "python3.13t",
                "python3.12",
                "python3.11",
                "python2.7"
            ]
        );
    }

    #[test]
    fn every_source_in_order_deduplicated_by_identity() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let home = root.join("home");
        let cwd = root.join("proj/sub");
        std::fs::create_dir_all(&cwd).unwrap();
        let base_py = base(&root.join("opt/py312"), "3.12");
        venv(&root.join("proj/.venv"), &base_py, "uv = 0.13.9\n");
        venv(&root.join("active"), &base_py, "");
        // PATH: the venv's bin twice under two names (a symlinked dir), a wrapper script.
        std::fs::create_dir_all(root.join("links")).unwrap();
        symlink(root.join("active/bin"), root.join("links/bin")).unwrap();
        touch(
            &root.join("wrap/python3"),
            "#!/bin/sh\nexec /nowhere \"$@\"\n",
        );
        // pyenv with a shim on PATH selecting 3.12.1.
        let pyenv = root.join("pyenv");
        base(&pyenv.join("versions/3.12.1"), "3.12");
        base(&pyenv.join("versions/3.11.7"), "3.11");
        touch(&pyenv.join("shims/python3"), &format!("#!/usr/bin/env bash\nexport PYENV_ROOT=\"{}\"\nexec \"{}/libexec/pyenv\" exec \"$program\" \"$@\"\n", pyenv.display(), pyenv.display()));
        std::fs::write(pyenv.join("version"), "3.12.1\n").unwrap();
        // conda: a root with an env, listed twice (environments.txt and envs dir).
        let conda = home.join("miniforge3");
        base(&conda, "3.12");
        std::fs::create_dir_all(conda.join("conda-meta")).unwrap();
        std::fs::create_dir_all(conda.join("pkgs")).unwrap();
        base(&conda.join("envs/ds"), "3.11");
        std::fs::create_dir_all(conda.join("envs/ds/conda-meta")).unwrap();
        touch(
            &home.join(".conda/environments.txt"),
            &format!("{}\n/deleted/env\n", conda.join("envs/ds").display()),
        );
        // pixi project env, pipx, poetry, uv managed, uv tool.
        base(&root.join("proj/.pixi/envs/default"), "3.12");
        touch(&root.join("proj/.pixi/envs/default/conda-meta/pixi"), "{}");
        venv(&home.join(".local/share/pipx/venvs/black"), &base_py, "");
        venv(
            &home.join(".cache/pypoetry/virtualenvs/app-AbCd1234-py3.12"),
            &base_py,
            "",
        );
        base(
            &home.join(".local/share/uv/python/cpython-3.12.4-linux-x86_64-gnu"),
            "3.12",
        );
        venv(
            &home.join(".local/share/uv/tools/ruff"),
            &base_py,
            "uv = 0.13.9\n",
        );
        // A kernel using the conda env.
        let path = format!(
            "{}:{}:{}:{}",
            pyenv.join("shims").display(),
            root.join("active/bin").display(),
            root.join("links/bin").display(),
            root.join("wrap").display()
        );
        let vars = EnvVars::from_pairs([
            ("HOME", home.to_str().unwrap()),
            ("PATH", path.as_str()),
            ("PYENV_ROOT", pyenv.to_str().unwrap()),
            ("VIRTUAL_ENV", root.join("active").to_str().unwrap()),
        ]);
        let ctx = Context::new(Os::Linux, vars, cwd);
        let kernel_py = conda.join("envs/ds/bin/python3.11");
        let d = discover_all(&ctx, &[(kernel_py.clone(), Source::Kernel("ds".into()))]);
        let listed: Vec<(String, EnvKind, Vec<&str>)> = d
            .found
            .iter()
            .filter(|f| !f.env.prefix.starts_with("/usr"))
            .map(|f| {
                (
                    f.env
                        .prefix
                        .strip_prefix(root)
                        .unwrap()
                        .display()
                        .to_string(),
                    f.env.kind,
                    f.sources.iter().map(Source::as_str).collect(),
                )
            })
            .collect();
        let want: Vec<(&str, EnvKind, Vec<&str>)> = vec![
            ("active", EnvKind::Venv, vec!["virtual-env-var", "path"]),
            ("proj/.venv", EnvKind::UvVenv, vec!["dot-venv"]),
            ("proj/.pixi/envs/default", EnvKind::Pixi, vec!["pixi"]),
            (
                "pyenv/versions/3.12.1",
                EnvKind::Pyenv,
                vec!["pyenv-shim", "pyenv-version"],
            ),
            (
                "pyenv/versions/3.11.7",
                EnvKind::Pyenv,
                vec!["pyenv-version"],
            ),
            (
                "home/miniforge3/envs/ds",
                EnvKind::Conda,
                vec!["conda-environments-txt", "conda-envs-dir", "kernel"],
            ),
            ("home/miniforge3", EnvKind::CondaBase, vec!["conda-root"]),
            (
                "home/.cache/pypoetry/virtualenvs/app-AbCd1234-py3.12",
                EnvKind::Poetry,
                vec!["poetry"],
            ),
            (
                "home/.local/share/pipx/venvs/black",
                EnvKind::Pipx,
                vec!["pipx"],
            ),
            (
                "home/.local/share/uv/tools/ruff",
                EnvKind::UvVenv,
                vec!["uv-tool"],
            ),
            (
                "home/.local/share/uv/python/cpython-3.12.4-linux-x86_64-gnu",
                EnvKind::UvManaged,
                vec!["uv-managed"],
            ),
        ];
        let want: Vec<(String, EnvKind, Vec<&str>)> = want
            .into_iter()
            .map(|(a, b, c)| (a.to_string(), b, c))
            .collect();
        assert_eq!(listed, want);
        let active = &d.found[0];
        // The symlinked PATH dir is the same directory: not listed again.
        assert_eq!(
            active.interpreters,
            vec![
                root.join("active/bin/python3"),
                root.join("active/bin/python")
            ]
        );
        let ds = d
            .found
            .iter()
            .find(|f| f.env.kind == EnvKind::Conda)
            .unwrap();
        assert_eq!(ds.kernels(), vec!["ds"]);
        assert!(ds.interpreters.contains(&kernel_py));
        assert_eq!(d.unclassified.len(), 1);
        assert_eq!(d.unclassified[0].interpreter, root.join("wrap/python3"));
        assert_eq!(d.unclassified[0].sources, vec![Source::Path]);
    }

    #[test]
    fn merged_usr_path_dirs_are_one() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("usr/bin")).unwrap();
        symlink("usr/bin", d.path().join("bin")).unwrap();
        let path = format!(
            "{}:{}:relative-missing",
            d.path().join("usr/bin").display(),
            d.path().join("bin").display()
        );
        let ctx = Context::new(
            Os::Linux,
            EnvVars::from_pairs([("PATH", path)]),
            d.path().to_path_buf(),
        );
        assert_eq!(path_dirs_unique(&ctx), vec![d.path().join("usr/bin")]);
    }
}
