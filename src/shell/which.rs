//! PATH search as a shell does it, and the Python each match really runs — through symlinks,
//! shebangs, shell wrappers and pyenv shims, never by running them.
//!
//! Deduplication follows uv (`uv-python` discovery dedupes PATH directories by file identity):
//! Debian's merged /usr makes `/bin` a symlink to `/usr/bin`, so `PATH=/usr/bin:/bin` lists
//! every command twice. Two PATH entries naming one directory (same `st_dev`/`st_ino`) give one
//! match, with the other path in `also_at`; a hard link of the same file in another directory
//! is collapsed the same way. Symlinks are *not* followed for that file identity: a venv's
//! `bin/python3` is a symlink to the base `python3.X` but is another environment.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::envvars::EnvVars;
use crate::python::classify;
use crate::python::environment::Environment;
use crate::python::pyenv::{self, ShimResolution};
use crate::python::shebang::{self, ExecTarget, ScriptInterpreter, Shebang};

/// What kind of file a command is.
#[derive(Clone, Debug)]
pub enum MatchKind {
    /// No shebang: an executable binary (a Python interpreter, `uv`, `micromamba`).
    Binary,
    /// A script with a shebang; what the shebang runs.
    Script(ScriptInterpreter),
    /// A shell script ending in `exec <program>` (after optional activation), whose program
    /// kip followed.
    ShellWrapper(ExecTarget),
    /// A pyenv shim, resolved from pyenv's version files.
    PyenvShim(ShimResolution),
}

impl MatchKind {
    /// `binary`, `script`, `wrapper` or `pyenv-shim` (the JSON spelling).
    pub fn as_str(&self) -> &'static str {
        match self {
            MatchKind::Binary => "binary",
            MatchKind::Script(_) => "script",
            MatchKind::ShellWrapper(_) => "wrapper",
            MatchKind::PyenvShim(_) => "pyenv-shim",
        }
    }
}

/// One command file found on PATH (or named directly).
#[derive(Clone, Debug)]
pub struct Match {
    /// The path the shell runs (PATH directory joined with the name).
    pub path: PathBuf,
    /// The same file reached through other PATH entries (merged /usr, hard links).
    pub also_at: Vec<PathBuf>,
    /// Each symlink hop from `path` until the final file (empty when `path` is not a link).
    pub symlink_chain: Vec<PathBuf>,
    pub kind: MatchKind,
    /// The file's shebang, if it has one.
    pub shebang: Option<Shebang>,
    /// The Python this command really runs, or the file itself if it is an interpreter.
    pub interpreter: Option<PathBuf>,
    /// The environment of `interpreter`, classified from disk.
    pub environment: Option<Environment>,
    /// Something that makes the command fail or mislead (a missing shebang interpreter, a
    /// shim that resolves to nothing), in one sentence.
    pub problem: Option<String>,
}

/// `access(path, X_OK)`: what bash and `execvp` check, for this user.
pub fn is_executable(p: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let Ok(c) = CString::new(p.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

/// Each hop of the symlink chain from `p` (relative targets resolved against the link's
/// directory), stopping at the final file, a dangling link, or after 40 hops (Linux's
/// `MAXSYMLINKS`).
pub fn symlink_chain(p: &Path) -> Vec<PathBuf> {
    let mut chain = Vec::new();
    let mut cur = p.to_path_buf();
    for _ in 0..40 {
        let Ok(target) = std::fs::read_link(&cur) else {
            break;
        };
        let next = if target.is_absolute() {
            target
        } else {
            cur.parent().unwrap_or(Path::new("/")).join(target)
        };
        if chain.contains(&next) {
            break;
        }
        chain.push(next.clone());
        cur = next;
    }
    chain
}

/// How deep shims, env shebangs and wrappers are followed before giving up.
const MAX_HOPS: usize = 8;

/// The Python a command file runs: itself for an interpreter, a script's shebang interpreter,
/// a wrapper's `exec` target, a pyenv shim's resolution (followed to the version's own script,
/// e.g. `versions/3.12.1/bin/pip` → its `python3.12`). `env` is the environment of the process
/// that would run it (its PATH decides `#!/usr/bin/env` and bare `exec python`).
pub fn interpreter_of(ctx: &Context, env: &EnvVars, found: &Path) -> Option<PathBuf> {
    interpreter_at_depth(ctx, env, found, 0)
}

fn interpreter_at_depth(
    ctx: &Context,
    env: &EnvVars,
    found: &Path,
    depth: usize,
) -> Option<PathBuf> {
    if depth > MAX_HOPS {
        return None;
    }
    let name = found.file_name()?.to_string_lossy().into_owned();
    if pyenv::shim_root(found).is_some() {
        let exe = pyenv::resolve_shim_in(ctx, env, found, &name).executable?;
        return interpreter_at_depth(ctx, env, &exe, depth + 1);
    }
    match shebang::interpreter_for_script_in(ctx, env, found) {
        // A shebang may name a shim (`#!/root/.pyenv/shims/python3`): follow it.
        ScriptInterpreter::Python(p) => {
            if pyenv::shim_root(&p).is_some() {
                interpreter_at_depth(ctx, env, &p, depth + 1)
            } else {
                Some(p)
            }
        }
        ScriptInterpreter::ViaPath { resolved, .. } => {
            interpreter_at_depth(ctx, env, &resolved?, depth + 1)
        }
        ScriptInterpreter::NotPython(_) => {
            let target = wrapper_target(found)?;
            wrapper_interpreter(ctx, env, &target, depth)
        }
        ScriptInterpreter::Binary if shebang::is_python_name(&name) => Some(found.to_path_buf()),
        ScriptInterpreter::Binary | ScriptInterpreter::Missing(_) => None,
    }
}

/// A shell script's final `exec` (read up to 64 KiB), if it has one.
fn wrapper_target(script: &Path) -> Option<ExecTarget> {
    let text = crate::files::read_head(script, 64 * 1024).ok()?;
    shebang::shell_script_exec_target(&String::from_utf8_lossy(&text))
}

/// The Python a wrapper's `exec` reaches: its program word on PATH with the activated bin
/// directory first.
fn wrapper_interpreter(
    ctx: &Context,
    env: &EnvVars,
    t: &ExecTarget,
    depth: usize,
) -> Option<PathBuf> {
    let mut env = env.clone();
    if let Some(bin) = t.activated_bin(ctx) {
        let mut path = std::ffi::OsString::from(bin.as_os_str());
        if let Some(old) = env.get("PATH") {
            path.push(":");
            path.push(old);
        }
        env.set("PATH", path);
    }
    let program = if t.program.contains('/') {
        let p = PathBuf::from(&t.program);
        if p.is_absolute() {
            p
        } else {
            ctx.cwd.join(p)
        }
    } else {
        first_on_path(ctx, &env, &t.program)?
    };
    interpreter_at_depth(ctx, &env, &program, depth + 1)
}

/// The first executable `program` on `env`'s PATH, as `execvp` finds it.
pub fn first_on_path(ctx: &Context, env: &EnvVars, program: &str) -> Option<PathBuf> {
    path_dirs(ctx, env)
        .into_iter()
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

/// PATH's directories, relative ones (and the empty entry, the cwd) made absolute against
/// the context's working directory, as the shell would resolve them.
fn path_dirs(ctx: &Context, env: &EnvVars) -> Vec<PathBuf> {
    env.path_dirs()
        .into_iter()
        .map(|d| if d.is_absolute() { d } else { ctx.cwd.join(d) })
        .collect()
}

/// Describe one command file: kind, symlink chain, interpreter and environment.
pub fn describe(ctx: &Context, env: &EnvVars, path: &Path) -> Match {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let shebang = shebang::read(path).ok().flatten();
    let mut problem = None;
    let kind = if pyenv::shim_root(path).is_some() {
        let r = pyenv::resolve_shim_in(ctx, env, path, &name);
        if r.executable.is_none() {
            problem = Some(r.why.clone());
        }
        MatchKind::PyenvShim(r)
    } else {
        match shebang::interpreter_for_script_in(ctx, env, path) {
            ScriptInterpreter::NotPython(sh) => match wrapper_target(path) {
                Some(t) => MatchKind::ShellWrapper(t),
                None => MatchKind::Script(ScriptInterpreter::NotPython(sh)),
            },
            ScriptInterpreter::Binary => MatchKind::Binary,
            ScriptInterpreter::Missing(p) => {
                problem = Some(format!(
                    "its shebang names {}, which does not exist: running it fails with \"bad interpreter\"",
                    p.display()
                ));
                MatchKind::Script(ScriptInterpreter::Missing(p))
            }
            ScriptInterpreter::ViaPath {
                program,
                resolved: None,
            } => {
                problem = Some(format!(
                    "its shebang runs `{program}` from PATH, and there is none: running it fails"
                ));
                MatchKind::Script(ScriptInterpreter::ViaPath {
                    program,
                    resolved: None,
                })
            }
            other => MatchKind::Script(other),
        }
    };
    let interpreter = interpreter_of(ctx, env, path);
    let environment = interpreter
        .as_deref()
        .and_then(|i| classify::classify_interpreter(ctx, i));
    Match {
        symlink_chain: symlink_chain(path),
        path: path.to_path_buf(),
        also_at: Vec::new(),
        kind,
        shebang,
        interpreter,
        environment,
        problem,
    }
}

/// Every match of `program` on the context's PATH, in order.
pub fn which_all(ctx: &Context, program: &str) -> Vec<Match> {
    which_all_in(ctx, &ctx.vars, program)
}

/// Every match of `program` on `env`'s PATH, in order, deduplicated by directory identity
/// (followed) and file identity (not followed).
pub fn which_all_in(ctx: &Context, env: &EnvVars, program: &str) -> Vec<Match> {
    if program.is_empty() || program.contains('/') {
        return Vec::new();
    }
    let mut out: Vec<Match> = Vec::new();
    // (dev, ino) of each directory seen → index of its match in `out`, if it had one.
    let mut dirs: Vec<((u64, u64), Option<usize>)> = Vec::new();
    let mut files: Vec<((u64, u64), usize)> = Vec::new();
    for dir in path_dirs(ctx, env) {
        let p = dir.join(program);
        let dir_id = std::fs::metadata(&dir).ok().map(|m| (m.dev(), m.ino()));
        if let Some(id) = dir_id {
            if let Some((_, seen)) = dirs.iter().find(|(d, _)| *d == id) {
                if let Some(i) = *seen {
                    if !out[i].also_at.contains(&p) && out[i].path != p {
                        out[i].also_at.push(p);
                    }
                }
                continue;
            }
        }
        if !is_executable(&p) {
            if let Some(id) = dir_id {
                dirs.push((id, None));
            }
            continue;
        }
        let file_id = std::fs::symlink_metadata(&p)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        if let Some((_, i)) = file_id.and_then(|f| files.iter().find(|(x, _)| *x == f)) {
            let i = *i;
            out[i].also_at.push(p);
            if let Some(id) = dir_id {
                dirs.push((id, Some(i)));
            }
            continue;
        }
        let i = out.len();
        if let Some(id) = dir_id {
            dirs.push((id, Some(i)));
        }
        if let Some(f) = file_id {
            files.push((f, i));
        }
        out.push(describe(ctx, env, &p));
    }
    out
}

/// The directories jupyter_core searches for `jupyter-<sub>`, in order (jupyter_core
/// `command.py` `_path_with_self`): the realpath's directory when `jupyter` is a symlink, the
/// directory of `jupyter` as run (each only if `jupyter` is executable there), then PATH (or
/// `os.defpath`, `/bin:/usr/bin`, when PATH is unset or empty), then the Python's sysconfig
/// `scripts` directory. Both `_path_with_self` inserts go to the front, so the realpath's
/// directory ends up first.
///
/// A pyenv shim is replaced by what it runs first: `pyenv exec` runs the version's own
/// `bin/jupyter`, so that is jupyter's `sys.argv[0]`.
pub fn subcommand_search_path(ctx: &Context, jupyter: &Path) -> Vec<PathBuf> {
    let mut argv0 = if jupyter.is_absolute() {
        jupyter.to_path_buf()
    } else {
        ctx.cwd.join(jupyter)
    };
    if pyenv::shim_root(&argv0).is_some() {
        let name = argv0
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "jupyter".into());
        if let Some(exe) = pyenv::resolve_shim(ctx, &argv0, &name).executable {
            argv0 = exe;
        }
    }
    let mut dirs = Vec::new();
    let mut scripts = vec![argv0.clone()];
    if std::fs::symlink_metadata(&argv0).is_ok_and(|m| m.file_type().is_symlink()) {
        if let Ok(real) = std::fs::canonicalize(&argv0) {
            scripts.push(real);
        }
    }
    for s in &scripts {
        if let Some(d) = s.parent() {
            if d.is_dir() && is_executable(s) {
                dirs.insert(0, d.to_path_buf());
            }
        }
    }
    let path_set = ctx.vars.get("PATH").is_some_and(|p| !p.is_empty());
    if path_set {
        dirs.extend(path_dirs(ctx, &ctx.vars));
    } else {
        dirs.extend([PathBuf::from("/bin"), PathBuf::from("/usr/bin")]);
    }
    if let Some(py) = interpreter_of(ctx, &ctx.vars, &argv0) {
        let scripts_dir = classify::classify_interpreter(ctx, &py)
            .map(|e| e.scripts_dir())
            .or_else(|| py.parent().map(Path::to_path_buf));
        dirs.extend(scripts_dir);
    }
    dirs
}

/// `jupyter-<sub>` as `jupyter <sub>` finds it (`shutil.which` over
/// [`subcommand_search_path`]). The lead's kernel listing uses this to find
/// `jupyter-kernelspec`.
pub fn find_subcommand(ctx: &Context, jupyter: &Path, sub: &str) -> Option<PathBuf> {
    let name = format!("jupyter-{sub}");
    subcommand_search_path(ctx, jupyter)
        .into_iter()
        .map(|d| d.join(&name))
        .find(|p| is_executable(p))
}

/// The Jupyter server commands (`jupyter-lab`, `jupyter-notebook`, `jupyter-server`) that
/// `jupyter lab|notebook|server` would run, described like PATH matches.
pub fn server_commands(ctx: &Context, jupyter: &Path) -> Vec<Match> {
    ["lab", "notebook", "server"]
        .iter()
        .filter_map(|sub| find_subcommand(ctx, jupyter, sub))
        .map(|p| describe(ctx, &ctx.vars, &p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Os;
    use std::os::unix::fs::PermissionsExt;

    fn write_exe(p: &Path, text: &[u8]) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn ctx(path: &str, cwd: &Path) -> Context {
        Context::new(
            Os::Linux,
            EnvVars::from_pairs([("PATH", path.to_string())]),
            cwd.to_path_buf(),
        )
    }

    #[test]
    fn alias_directories_collapse_but_venv_symlinks_do_not() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("usr/bin");
        write_exe(&real.join("python3.11"), b"\x7fELF");
        std::os::unix::fs::symlink("python3.11", real.join("python3")).unwrap();
        std::os::unix::fs::symlink("usr/bin", d.path().join("bin")).unwrap();
        // A venv whose python3 links to the same base interpreter is its own match.
        let venv = d.path().join("venv/bin");
        std::fs::create_dir_all(&venv).unwrap();
        std::os::unix::fs::symlink(real.join("python3"), venv.join("python3")).unwrap();
        let path = format!(
            "{}:{}:{}:{}",
            real.display(),
            d.path().join("bin").display(),
            venv.display(),
            d.path().join("nope").display()
        );
        let m = which_all(&ctx(&path, d.path()), "python3");
        assert_eq!(m.len(), 2, "{m:#?}");
        assert_eq!(m[0].path, real.join("python3"));
        assert_eq!(m[0].also_at, vec![d.path().join("bin/python3")]);
        assert_eq!(m[0].symlink_chain, vec![real.join("python3.11")]);
        assert_eq!(m[0].interpreter, Some(real.join("python3")));
        assert_eq!(m[1].path, venv.join("python3"));
        assert_eq!(
            m[1].symlink_chain,
            vec![real.join("python3"), real.join("python3.11")]
        );
    }

    #[test]
    fn non_executables_directories_and_odd_names_are_skipped() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/python3")).unwrap();
        std::fs::create_dir_all(d.path().join("b")).unwrap();
        std::fs::write(d.path().join("b/python3"), "not executable").unwrap();
        let path = format!(
            "{}:{}",
            d.path().join("a").display(),
            d.path().join("b").display()
        );
        let c = ctx(&path, d.path());
        assert!(which_all(&c, "python3").is_empty());
        assert!(which_all(&c, "").is_empty());
        assert!(which_all(&c, "../python3").is_empty());
    }

    #[test]
    fn relative_and_empty_path_entries_are_the_cwd() {
        let d = tempfile::tempdir().unwrap();
        write_exe(&d.path().join("tool"), b"\x7fELF");
        write_exe(&d.path().join("rel/tool"), b"\x7fELF");
        let m = which_all(&ctx("rel::/nonexistent", d.path()), "tool");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].path, d.path().join("rel/tool"));
        assert_eq!(m[1].path, d.path().join("tool"));
        assert!(matches!(m[0].kind, MatchKind::Binary));
        assert_eq!(m[0].interpreter, None, "not a Python");
    }

    #[test]
    fn scripts_wrappers_and_bad_interpreters() {
        let d = tempfile::tempdir().unwrap();
        let env_bin = d.path().join("env/bin");
        write_exe(&env_bin.join("python"), b"\x7fELF");
        let bin = d.path().join("bin");
        write_exe(
            &bin.join("pip"),
            format!("#!{}\nimport pip\n", env_bin.join("python").display()).as_bytes(),
        );
        write_exe(&bin.join("broken"), b"#!/gone/bin/python3\n");
        write_exe(
            &bin.join("wrapped"),
            format!(
                "#!/bin/bash\nsource {}/activate\nexec python -m thing \"$@\"\n",
                env_bin.display()
            )
            .as_bytes(),
        );
        let c = ctx(&format!("{}:/usr/bin:/bin", bin.display()), d.path());
        let pip = &which_all(&c, "pip")[0];
        assert!(matches!(
            pip.kind,
            MatchKind::Script(ScriptInterpreter::Python(_))
        ));
        assert_eq!(pip.interpreter, Some(env_bin.join("python")));
        assert!(pip.shebang.is_some());
        let broken = &which_all(&c, "broken")[0];
        assert_eq!(broken.interpreter, None);
        assert!(broken
            .problem
            .as_deref()
            .unwrap()
            .contains("bad interpreter"));
        let w = &which_all(&c, "wrapped")[0];
        assert!(matches!(w.kind, MatchKind::ShellWrapper(_)), "{w:?}");
        assert_eq!(w.interpreter, Some(env_bin.join("python")));
    }

    #[test]
    fn jupyter_subcommands_follow_jupyter_core_order() {
        let d = tempfile::tempdir().unwrap();
        let envbin = d.path().join("env/bin");
        write_exe(&envbin.join("python"), b"\x7fELF");
        let script = format!("#!{}\n", envbin.join("python").display());
        write_exe(&envbin.join("jupyter"), script.as_bytes());
        write_exe(&envbin.join("jupyter-lab"), script.as_bytes());
        // `jupyter` reached through a symlink elsewhere; an earlier PATH dir has its own lab.
        let links = d.path().join("links");
        std::fs::create_dir_all(&links).unwrap();
        std::os::unix::fs::symlink(envbin.join("jupyter"), links.join("jupyter")).unwrap();
        let other = d.path().join("other");
        write_exe(&other.join("jupyter-lab"), script.as_bytes());
        write_exe(&other.join("jupyter-notebook"), script.as_bytes());
        let c = ctx(&other.display().to_string(), d.path());
        let dirs = subcommand_search_path(&c, &links.join("jupyter"));
        let real_env = std::fs::canonicalize(&envbin).unwrap();
        assert_eq!(dirs[0], real_env);
        assert_eq!(dirs[1], links);
        assert_eq!(dirs[2], other);
        assert_eq!(
            find_subcommand(&c, &links.join("jupyter"), "lab"),
            Some(real_env.join("jupyter-lab"))
        );
        assert_eq!(
            find_subcommand(&c, &links.join("jupyter"), "notebook"),
            Some(other.join("jupyter-notebook"))
        );
        assert_eq!(find_subcommand(&c, &links.join("jupyter"), "server"), None);
        let servers = server_commands(&c, &links.join("jupyter"));
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].interpreter, Some(envbin.join("python")));
    }

    #[test]
    fn symlink_loops_end() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(d.path().join("b"), d.path().join("a")).unwrap();
        std::os::unix::fs::symlink(d.path().join("a"), d.path().join("b")).unwrap();
        let chain = symlink_chain(&d.path().join("a"));
        assert_eq!(chain.len(), 2);
    }
}
