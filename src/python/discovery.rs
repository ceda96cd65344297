//! Where environments come from, as an ordered list of sources (python-environments.md §1),
//! each result saying which sources found it. Disk only: nothing is run here.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::python::classify;
use crate::python::environment::Environment;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Path,
    PyenvVersion,
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
    Kernel(String),
}

/// One environment and everything it was found by.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    pub env: Environment,
    pub sources: Vec<Source>,
    pub interpreters: Vec<PathBuf>,
}

/// Candidate (interpreter or prefix, source) pairs, in discovery order.
enum Candidate {
    Interpreter(PathBuf),
    Prefix(PathBuf),
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// PATH directories deduplicated by file identity (Debian's merged /usr puts one directory on
/// PATH under two names), as uv does.
pub fn path_dirs_unique(ctx: &Context) -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for d in ctx.vars.path_dirs() {
        let Ok(m) = std::fs::metadata(&d) else {
            continue;
        };
        let id = (m.dev(), m.ino());
        if !seen.contains(&id) {
            seen.push(id);
            out.push(d);
        }
    }
    out
}

fn conda_roots(ctx: &Context) -> Vec<PathBuf> {
    let home = ctx.home();
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(r) = ctx.vars.get_nonempty("_CONDA_ROOT") {
        roots.push(PathBuf::from(r));
    }
    for var in ["CONDA_EXE", "MAMBA_EXE", "CONDA_PYTHON_EXE"] {
        if let Some(exe) = ctx.vars.get_nonempty(var) {
            if let Some(root) = Path::new(exe).parent().and_then(Path::parent) {
                if root.join("conda-meta").is_dir() {
                    roots.push(root.to_path_buf());
                }
            }
        }
    }
    if let Some(r) = ctx.vars.get_nonempty("MAMBA_ROOT_PREFIX") {
        roots.push(PathBuf::from(r));
    }
    if let Some(h) = &home {
        for d in [
            "miniconda3",
            "anaconda3",
            "miniforge3",
            "mambaforge",
            "micromamba",
            ".local/share/mamba",
        ] {
            roots.push(h.join(d));
        }
    }
    roots.push(PathBuf::from("/opt/conda"));
    roots.retain(|r| r.is_dir());
    roots.dedup();
    roots
}

fn candidates(ctx: &Context) -> Vec<(Candidate, Source)> {
    let mut c: Vec<(Candidate, Source)> = Vec::new();
    let home = ctx.home();
    if let Some(v) = ctx.vars.get_nonempty("VIRTUAL_ENV") {
        c.push((Candidate::Prefix(PathBuf::from(v)), Source::VirtualEnvVar));
    }
    if let Some(p) = ctx.vars.get_nonempty("CONDA_PREFIX") {
        c.push((Candidate::Prefix(PathBuf::from(p)), Source::CondaPrefixVar));
    }
    let mut dir = Some(ctx.cwd.as_path());
    while let Some(d) = dir {
        let v = d.join(".venv");
        if v.join("pyvenv.cfg").is_file() {
            c.push((Candidate::Prefix(v), Source::DotVenv));
        }
        for e in subdirs(&d.join(".pixi/envs")) {
            c.push((Candidate::Prefix(e), Source::Pixi));
        }
        dir = d.parent();
    }
    for d in path_dirs_unique(ctx) {
        for name in ["python3", "python"] {
            let p = d.join(name);
            if p.is_file() {
                c.push((Candidate::Interpreter(p), Source::Path));
            }
        }
    }
    let pyenv_root = ctx
        .vars
        .get_nonempty("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".pyenv")));
    if let Some(root) = pyenv_root {
        for v in subdirs(&root.join("versions")) {
            c.push((Candidate::Prefix(v), Source::PyenvVersion));
        }
    }
    let mut envs_dirs: Vec<PathBuf> = Vec::new();
    for var in ["CONDA_ENVS_DIRS", "CONDA_ENVS_PATH"] {
        if let Some(v) = ctx.vars.get_nonempty(var) {
            envs_dirs.extend(std::env::split_paths(v));
        }
    }
    for root in conda_roots(ctx) {
        let src = if ctx
            .vars
            .get_nonempty("MAMBA_ROOT_PREFIX")
            .is_some_and(|m| Path::new(m) == root)
        {
            Source::MambaRoot
        } else {
            Source::CondaRoot
        };
        c.push((Candidate::Prefix(root.clone()), src));
        envs_dirs.push(root.join("envs"));
    }
    if let Some(h) = &home {
        envs_dirs.push(h.join(".conda/envs"));
        if let Ok(text) = std::fs::read_to_string(h.join(".conda/environments.txt")) {
            for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                c.push((
                    Candidate::Prefix(PathBuf::from(l)),
                    Source::CondaEnvironmentsTxt,
                ));
            }
        }
    }
    for d in envs_dirs {
        for e in subdirs(&d) {
            c.push((Candidate::Prefix(e), Source::CondaEnvsDir));
        }
    }
    if let Some(h) = &home {
        let data = ctx
            .vars
            .get_nonempty("XDG_DATA_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| h.join(".local/share"));
        let uvpy = ctx
            .vars
            .get_nonempty("UV_PYTHON_INSTALL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data.join("uv/python"));
        for e in subdirs(&uvpy) {
            c.push((Candidate::Prefix(e), Source::UvManaged));
        }
        let tools = ctx
            .vars
            .get_nonempty("UV_TOOL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data.join("uv/tools"));
        for e in subdirs(&tools) {
            c.push((Candidate::Prefix(e), Source::UvTool));
        }
        let pipx = ctx
            .vars
            .get_nonempty("PIPX_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| data.join("pipx"));
        for e in subdirs(&pipx.join("venvs")) {
            c.push((Candidate::Prefix(e), Source::Pipx));
        }
        let poetry = ctx
            .vars
            .get_nonempty("POETRY_VIRTUALENVS_PATH")
            .map(PathBuf::from)
            .or_else(|| {
                ctx.vars
                    .get_nonempty("POETRY_CACHE_DIR")
                    .map(|p| PathBuf::from(p).join("virtualenvs"))
            })
            .unwrap_or_else(|| {
                ctx.vars
                    .get_nonempty("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| h.join(".cache"))
                    .join("pypoetry/virtualenvs")
            });
        for e in subdirs(&poetry) {
            c.push((Candidate::Prefix(e), Source::Poetry));
        }
        let pixi_home = ctx
            .vars
            .get_nonempty("PIXI_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| h.join(".pixi"));
        for e in subdirs(&pixi_home.join("envs")) {
            c.push((Candidate::Prefix(e), Source::Pixi));
        }
    }
    for sys in ["/usr/bin/python3", "/usr/local/bin/python3"] {
        c.push((Candidate::Interpreter(PathBuf::from(sys)), Source::System));
    }
    c
}

/// Discover every environment, plus `extra` interpreters (e.g. those kernels use).
pub fn discover(ctx: &Context, extra: &[(PathBuf, Source)]) -> Vec<Found> {
    let mut all: Vec<(Candidate, Source)> = candidates(ctx);
    all.extend(
        extra
            .iter()
            .map(|(p, s)| (Candidate::Interpreter(p.clone()), s.clone())),
    );
    let mut out: Vec<Found> = Vec::new();
    for (cand, source) in all {
        let (env, via) = match &cand {
            Candidate::Interpreter(p) => {
                if crate::python::probe::is_pyenv_shim(p) {
                    continue;
                }
                (classify::classify_interpreter(ctx, p), p.clone())
            }
            Candidate::Prefix(p) => {
                let env = classify::classify_prefix(ctx, p);
                let via = env
                    .as_ref()
                    .map(|e| e.interpreter.clone())
                    .unwrap_or_else(|| p.clone());
                (env, via)
            }
        };
        let Some(env) = env else { continue };
        match out.iter_mut().find(|f| f.env.prefix == env.prefix) {
            Some(f) => {
                if !f.sources.contains(&source) {
                    f.sources.push(source);
                }
                if !f.interpreters.contains(&via) {
                    f.interpreters.push(via);
                }
            }
            None => out.push(Found {
                env,
                sources: vec![source],
                interpreters: vec![via],
            }),
        }
    }
    out
}

/// A conda env by name (`conda run -n NAME`): the envs-dir entry of that name.
pub fn conda_env_by_name(ctx: &Context, name: &str) -> Option<PathBuf> {
    discover(ctx, &[])
        .into_iter()
        .find(|f| f.env.kind.is_conda_like() && f.env.name.as_deref() == Some(name))
        .map(|f| f.env.prefix)
}
