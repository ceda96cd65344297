//! What a kernelspec really launches: the interpreter behind `argv`, and the environment the
//! kernel process gets — without running anything.
//!
//! jupyter_client 8.10.0 at launch (`manager.py` `format_kernel_cmd`, `launcher.py`,
//! `provisioning/provisioner_base.py`): `argv[0]` of `python`, `python3` or the launcher's own
//! `python3.Y` is replaced by the launcher's `sys.executable`; `{connection_file}`, `{prefix}`,
//! `{resource_dir}` are substituted; every argument is `expanduser`ed; a bare `argv[0]` is
//! found on the child env's PATH. The kernel env is the server's environ with each kernel.json
//! `env` value run through `string.Template.safe_substitute` against the *server's* environ.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::envvars::EnvVars;
use crate::jupyter::kernelspec::KernelSpec;
use crate::jupyter::server_env::with_bin_first;
use crate::jupyter::view::JupyterView;
use crate::python::shebang::{self, ScriptInterpreter};
use crate::shell::path::find_on_path;

/// The interpreter a kernel runs, or why kip cannot tell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum KernelInterpreter {
    Resolved {
        /// The path the kernel's `sys.executable` will report.
        #[serde(serialize_with = "crate::pyjson::path_text::one")]
        python: PathBuf,
        /// One plain sentence: how kip got there.
        how: String,
        /// False when that interpreter does not exist (deleted env, dangling symlink).
        exists: bool,
        /// A bare `python` swapped for the Jupyter's own interpreter.
        swapped: bool,
        /// The argv goes through a wrapper (conda run, bash -c, env, pixi, uv, a script).
        wrapper: Option<String>,
    },
    Unresolved {
        why: String,
    },
}

impl KernelInterpreter {
    /// The same resolution, reached through a wrapper: its name and a sentence built from the
    /// interpreter it ends in.
    fn via(
        self,
        wrapper: impl Into<String>,
        how: impl FnOnce(&Path) -> String,
    ) -> KernelInterpreter {
        match self {
            KernelInterpreter::Resolved {
                python,
                exists,
                swapped,
                ..
            } => KernelInterpreter::Resolved {
                how: how(&python),
                python,
                exists,
                swapped,
                wrapper: Some(wrapper.into()),
            },
            u => u,
        }
    }

    pub fn python(&self) -> Option<&Path> {
        match self {
            KernelInterpreter::Resolved { python, .. } => Some(python),
            KernelInterpreter::Unresolved { .. } => None,
        }
    }
}

/// `string.Template(v).safe_substitute(base)`: `$NAME`, `${NAME}`, `$$`; unknown or malformed
/// references stay literal.
pub fn template_substitute(value: &str, base: &EnvVars) -> String {
    let b = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    let ident_start = |c: u8| c == b'_' || c.is_ascii_alphabetic();
    let ident = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
    while i < b.len() {
        if b[i] != b'$' {
            let ch_len = utf8_len(b[i]);
            out.push_str(&value[i..i + ch_len]);
            i += ch_len;
            continue;
        }
        if i + 1 < b.len() && b[i + 1] == b'$' {
            out.push('$');
            i += 2;
            continue;
        }
        if i + 1 < b.len() && b[i + 1] == b'{' {
            let start = i + 2;
            let mut j = start;
            while j < b.len() && ident(b[j]) {
                j += 1;
            }
            if j > start && ident_start(b[start]) && j < b.len() && b[j] == b'}' {
                let name = &value[start..j];
                match base.get(name) {
                    Some(v) => out.push_str(&v.to_string_lossy()),
                    None => out.push_str(&value[i..=j]),
                }
                i = j + 1;
                continue;
            }
            out.push('$');
            i += 1;
            continue;
        }
        if i + 1 < b.len() && ident_start(b[i + 1]) {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && ident(b[j]) {
                j += 1;
            }
            let name = &value[start..j];
            match base.get(name) {
                Some(v) => out.push_str(&v.to_string_lossy()),
                None => out.push_str(&value[i..j]),
            }
            i = j;
            continue;
        }
        out.push('$');
        i += 1;
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// The environment the kernel process starts with: `server` plus the spec's `env`, templated
/// against `server` (values never see each other), minus `PYTHONEXECUTABLE` for Python kernels.
pub fn kernel_environment<'a>(server: &'a EnvVars, spec: &KernelSpec) -> Cow<'a, EnvVars> {
    let env = spec.env_strings();
    let python = spec
        .language
        .to_string_lossy()
        .eq_ignore_ascii_case("python");
    if env.is_empty() && !(python && server.contains("PYTHONEXECUTABLE")) {
        // Most kernels: the server's own environment, borrowed (a hub lists thousands).
        return Cow::Borrowed(server);
    }
    let mut out = server.clone();
    for (k, v) in env {
        out.set(k, template_substitute(&v, server));
    }
    if python {
        out.remove("PYTHONEXECUTABLE");
    }
    Cow::Owned(out)
}

/// A program word: a path as is, else looked up on `env`'s PATH.
fn locate(ctx: &Context, prog: &str, env: &EnvVars) -> Option<PathBuf> {
    if prog.contains('/') {
        Some(PathBuf::from(prog))
    } else {
        find_on_path(prog, env, &ctx.cwd)
    }
}

fn expanduser(arg: &str, home: Option<&Path>) -> String {
    match home {
        Some(h) if arg == "~" => h.to_string_lossy().into_owned(),
        Some(h) if arg.starts_with("~/") => format!("{}{}", h.display(), &arg[1..]),
        _ => arg.to_string(),
    }
}

/// `format_kernel_cmd` and the launcher's `expanduser`: `{connection_file}`, `{prefix}` and
/// `{resource_dir}` replaced (other `{names}` stay literal), then `~` expanded with the server's
/// HOME. Without a connection file, `{connection_file}` stays literal.
fn substitute_argv(
    view: &JupyterView,
    argv: &[String],
    resource_dir: &Path,
    server_env: &EnvVars,
    connection_file: Option<&Path>,
) -> Vec<String> {
    let home = server_env.home();
    let prefix = view
        .launcher_python()
        .map(|l| l.paths.sys_prefix.to_string_lossy().into_owned());
    let resource_dir = crate::pyjson::os_text(resource_dir);
    let connection_file = connection_file.map(|c| c.to_string_lossy().into_owned());
    let lookup = |name: &str| -> Option<&str> {
        match name {
            "prefix" => Some(prefix.as_deref().unwrap_or_default()),
            "resource_dir" => Some(&resource_dir),
            "connection_file" => connection_file.as_deref(),
            _ => None,
        }
    };
    argv.iter()
        .map(|a| {
            let mut out = String::with_capacity(a.len());
            let mut rest = a.as_str();
            while let Some(open) = rest.find('{') {
                out.push_str(&rest[..open]);
                let after = &rest[open + 1..];
                let name_len = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                let name = &after[..name_len];
                match lookup(name).filter(|_| name_len > 0 && after[name_len..].starts_with('}')) {
                    Some(v) => {
                        out.push_str(v);
                        rest = &after[name_len + 1..];
                    }
                    None => {
                        out.push('{');
                        rest = after;
                    }
                }
            }
            out.push_str(rest);
            expanduser(&out, home.as_deref())
        })
        .collect()
}

/// The launcher's `sys.executable` when `first` (argv[0]) is `python`, `python3` or the
/// launcher's own `python3.Y`, which jupyter_client swaps for it.
fn swapped_python<'a>(view: &'a JupyterView, first: &str) -> Option<&'a Path> {
    let l = view.launcher_python()?;
    let versioned = l.version.map(|v| format!("python{}.{}", v.major, v.minor));
    (first == "python" || first == "python3" || versioned.as_deref() == Some(first))
        .then_some(l.executable.as_path())
}

/// The argv a launch by `view`'s Jupyter runs, with `connection_file` in place: the bare-`python`
/// swap to the launcher's interpreter, then [`substitute_argv`]. `None` when argv is empty or
/// holds non-strings (Jupyter cannot launch it).
pub fn launch_argv(
    view: &JupyterView,
    spec: &KernelSpec,
    resource_dir: &Path,
    server_env: &EnvVars,
    connection_file: &Path,
) -> Option<Vec<String>> {
    let mut argv = spec.argv_strings().filter(|a| !a.is_empty())?;
    if let Some(python) = swapped_python(view, &argv[0]) {
        argv[0] = python.to_string_lossy().into_owned();
    }
    Some(substitute_argv(
        view,
        &argv,
        resource_dir,
        server_env,
        Some(connection_file),
    ))
}

/// Resolve the interpreter a kernel will run, as a real launch by `view`'s Jupyter would.
/// `server_env` is the environment of the server process (its PATH is what a bare name is
/// looked up on, after the kernel's own `env` is applied).
pub fn resolve_interpreter(
    ctx: &Context,
    view: &JupyterView,
    spec: &KernelSpec,
    resource_dir: &Path,
    server_env: &EnvVars,
) -> KernelInterpreter {
    let Some(argv) = spec.argv_strings() else {
        return KernelInterpreter::Unresolved {
            why: "argv contains values that are not strings".into(),
        };
    };
    if argv.is_empty() {
        return KernelInterpreter::Unresolved {
            why: "argv is empty: Jupyter cannot launch this kernel".into(),
        };
    }
    let argv = substitute_argv(view, &argv, resource_dir, server_env, None);
    let env = kernel_environment(server_env, spec);
    let first = argv[0].as_str();

    if let Some(python) = swapped_python(view, first) {
        return resolved(
            python.to_path_buf(),
            format!(
                "argv[0] is a bare `{first}`: jupyter_client replaces it with the Jupyter's own interpreter"
            ),
            true,
            None,
        );
    }
    let program = if first.contains('/') {
        let p = PathBuf::from(crate::pyjson::os_from_text(first));
        if p.is_absolute() {
            p
        } else {
            ctx.cwd.join(p)
        }
    } else {
        match find_on_path(first, &env, &ctx.cwd) {
            Some(p) => p,
            None => {
                return KernelInterpreter::Unresolved {
                    why: format!("`{first}` is not on the kernel's PATH"),
                }
            }
        }
    };
    resolve_program(ctx, &program, &argv[1..], &env, 0)
}

fn resolved(
    python: PathBuf,
    how: String,
    swapped: bool,
    wrapper: Option<String>,
) -> KernelInterpreter {
    // Remembered in a read-only pass: a thousand kernels share a handful of interpreters.
    let exists = crate::python::memo::identity(&python).is_some();
    KernelInterpreter::Resolved {
        python,
        how,
        exists,
        swapped,
        wrapper,
    }
}

/// `program args…` with `program` already located: a Python, a known wrapper, or a script.
fn resolve_program(
    ctx: &Context,
    program: &Path,
    args: &[String],
    env: &EnvVars,
    depth: usize,
) -> KernelInterpreter {
    if depth > 4 {
        return KernelInterpreter::Unresolved {
            why: "wrappers nest too deeply".into(),
        };
    }
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if is_python_name(&name) {
        return resolved(
            program.to_path_buf(),
            format!("argv[0] is {}", program.display()),
            false,
            None,
        );
    }
    match name.as_str() {
        "env" => return resolve_env_wrapper(ctx, args, env, depth),
        "conda" | "mamba" | "micromamba" => return resolve_conda_run(ctx, &name, args, env, depth),
        "pixi" => return resolve_pixi_run(ctx, args, env, depth),
        "uv" => return resolve_uv_run(ctx, args, env, depth),
        "bash" | "sh" | "zsh" | "dash" => {
            if let Some(pos) = args
                .iter()
                .position(|a| a == "-c" || a == "-lc" || a == "-ic")
            {
                if let Some(cmd) = args.get(pos + 1) {
                    return resolve_shell_text(ctx, cmd, env, &name, depth);
                }
            }
            if let Some(script) = args.first().filter(|a| !a.starts_with('-')) {
                return resolve_script(ctx, Path::new(script), env, depth);
            }
        }
        _ => {}
    }
    if !program.exists() {
        return resolved(
            program.to_path_buf(),
            format!("argv[0] is {}", program.display()),
            false,
            None,
        );
    }
    resolve_script(ctx, program, env, depth)
}

fn is_python_name(name: &str) -> bool {
    name == "python"
        || name == "pypy"
        || name == "pypy3"
        || (name.starts_with("python")
            && name[6..]
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == 't'))
}

/// A script as argv[0]: a Python console script, or a shell wrapper ending in `exec python …`.
fn resolve_script(ctx: &Context, script: &Path, env: &EnvVars, depth: usize) -> KernelInterpreter {
    let text = match crate::files::read(script) {
        Ok(b) => b,
        Err(e) => {
            return KernelInterpreter::Unresolved {
                why: format!("cannot read {}: {e}", script.display()),
            }
        }
    };
    if text.starts_with(b"\x7fELF") {
        return KernelInterpreter::Unresolved {
            why: format!(
                "{} is a binary kip does not know as a Python or a wrapper",
                script.display()
            ),
        };
    }
    let text = String::from_utf8_lossy(&text);
    let sub_ctx_interp = shebang::interpreter_for_script(ctx, script);
    if let Some(target) = shebang::shell_script_exec_target(&text) {
        let r = resolve_exec_target(ctx, &target, env, depth);
        if let KernelInterpreter::Resolved {
            python,
            exists,
            swapped,
            ..
        } = r
        {
            return KernelInterpreter::Resolved {
                how: format!(
                    "{} is a shell wrapper that execs {}",
                    script.display(),
                    python.display()
                ),
                python,
                exists,
                swapped,
                wrapper: Some("script".into()),
            };
        }
        return r;
    }
    match sub_ctx_interp {
        ScriptInterpreter::Python(p) => KernelInterpreter::Resolved {
            exists: p.exists(),
            how: format!(
                "{} is a Python script run by {}",
                script.display(),
                p.display()
            ),
            python: p,
            swapped: false,
            wrapper: Some("script".into()),
        },
        _ => KernelInterpreter::Unresolved {
            why: format!(
                "{} is a wrapper whose interpreter kip could not determine",
                script.display()
            ),
        },
    }
}

/// `exec <program>` at the end of a shell wrapper, after its activation lines.
fn resolve_exec_target(
    ctx: &Context,
    target: &shebang::ExecTarget,
    env: &EnvVars,
    depth: usize,
) -> KernelInterpreter {
    let mut env = env.clone();
    if let Some(bin) = target.activated_bin(ctx) {
        env = with_bin_first(&env, &bin);
    }
    let prog = target.program.as_str();
    let located = locate(ctx, prog, &env);
    match located {
        Some(p) => resolve_program(ctx, &p, &target.args, &env, depth + 1),
        None => KernelInterpreter::Unresolved {
            why: format!("the wrapper execs `{prog}`, which is not on its PATH"),
        },
    }
}

fn resolve_shell_text(
    ctx: &Context,
    cmd: &str,
    env: &EnvVars,
    shell: &str,
    depth: usize,
) -> KernelInterpreter {
    match shebang::shell_script_exec_target(cmd) {
        Some(t) => resolve_exec_target(ctx, &t, env, depth).via(format!("{shell} -c"), |p| {
            format!("`{shell} -c` activates and execs {}", p.display())
        }),
        None => KernelInterpreter::Unresolved {
            why: format!("`{shell} -c` runs a command kip could not follow"),
        },
    }
}

/// `/usr/bin/env [-i] [-S] [NAME=value…] program args…`
fn resolve_env_wrapper(
    ctx: &Context,
    args: &[String],
    env: &EnvVars,
    depth: usize,
) -> KernelInterpreter {
    let mut env = env.clone();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "-i" || a == "--ignore-environment" {
            env = EnvVars::default();
        } else if a == "-S" || a == "-" {
        } else if let Some((k, v)) = a
            .split_once('=')
            .filter(|(k, _)| !k.is_empty() && !k.contains('/'))
        {
            env.set(k, v);
        } else {
            break;
        }
        i += 1;
    }
    let Some(prog) = args.get(i) else {
        return KernelInterpreter::Unresolved {
            why: "`env` with no program".into(),
        };
    };
    let located = locate(ctx, prog, &env);
    match located {
        Some(p) => resolve_program(ctx, &p, &args[i + 1..], &env, depth + 1).via("env", |p| {
            format!("`env {prog}` finds {} on the kernel's PATH", p.display())
        }),
        None => KernelInterpreter::Unresolved {
            why: format!("`env {prog}`: `{prog}` is not on the kernel's PATH"),
        },
    }
}

/// `conda|mamba|micromamba run (-p PREFIX | -n NAME) [--no-capture-output …] program …`
fn resolve_conda_run(
    ctx: &Context,
    tool: &str,
    args: &[String],
    env: &EnvVars,
    depth: usize,
) -> KernelInterpreter {
    let parsed = parse_conda_run(args);
    let Some(parsed) = parsed else {
        return KernelInterpreter::Unresolved {
            why: format!("`{tool}` is used without `run -p/-n`"),
        };
    };
    let prefix = match parsed.target {
        CondaTarget::Prefix(p) => PathBuf::from(p),
        CondaTarget::Name(n) => match crate::python::discovery::conda_env_by_name(ctx, &n) {
            Some(p) => p,
            None => {
                return KernelInterpreter::Unresolved {
                    why: format!("`{tool} run -n {n}`: no conda env named {n:?} found"),
                }
            }
        },
    };
    let mut env = env.clone();
    let bin = prefix.join("bin");
    env = with_bin_first(&env, &bin);
    let prog = parsed.program;
    let located = locate(ctx, &prog, &env);
    match located {
        Some(p) => resolve_program(ctx, &p, &parsed.rest, &env, depth + 1)
            .via(format!("{tool} run"), |p| {
                format!("`{tool} run` in {} runs {}", prefix.display(), p.display())
            }),
        None => resolved(
            bin.join(&prog),
            format!(
                "`{tool} run` in {} (which has no `{prog}`)",
                prefix.display()
            ),
            false,
            Some(format!("{tool} run")),
        ),
    }
}

#[derive(Debug, PartialEq)]
enum CondaTarget {
    Prefix(String),
    Name(String),
}

#[derive(Debug, PartialEq)]
struct CondaRun {
    target: CondaTarget,
    program: String,
    rest: Vec<String>,
}

/// Parse the arguments after `conda`/`mamba`/`micromamba`: `run`, its options, the program.
fn parse_conda_run(args: &[String]) -> Option<CondaRun> {
    let mut it = args.iter().peekable();
    if it.next()? != "run" {
        return None;
    }
    let mut target = None;
    while let Some(a) = it.next() {
        match a.as_str() {
            "-p" | "--prefix" => target = Some(CondaTarget::Prefix(it.next()?.clone())),
            "-n" | "--name" => target = Some(CondaTarget::Name(it.next()?.clone())),
            "--cwd" | "--root-prefix" | "-r" => {
                it.next();
            }
            s if s.starts_with("--prefix=") => {
                target = Some(CondaTarget::Prefix(s[9..].to_string()))
            }
            s if s.starts_with("--name=") => target = Some(CondaTarget::Name(s[7..].to_string())),
            s if s.starts_with('-') => {}
            prog => {
                return Some(CondaRun {
                    target: target?,
                    program: prog.to_string(),
                    rest: it.cloned().collect(),
                });
            }
        }
    }
    None
}

/// The arguments after `TOOL run`, or why a `TOOL` argv without `run` stays unresolved.
fn run_args<'a>(
    tool: &str,
    args: &'a [String],
) -> Result<std::slice::Iter<'a, String>, KernelInterpreter> {
    let mut it = args.iter();
    if it.next().map(String::as_str) != Some("run") {
        return Err(KernelInterpreter::Unresolved {
            why: format!("`{tool}` is used without `run`"),
        });
    }
    Ok(it)
}

/// `pixi run [--manifest-path M] [-e ENV] program …` → `<manifest dir>/.pixi/envs/<ENV>`.
fn resolve_pixi_run(
    ctx: &Context,
    args: &[String],
    env: &EnvVars,
    depth: usize,
) -> KernelInterpreter {
    let mut it = match run_args("pixi", args) {
        Ok(it) => it,
        Err(u) => return u,
    };
    let mut manifest: Option<PathBuf> = None;
    let mut envname = "default".to_string();
    let mut program = None;
    let mut rest = Vec::new();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--manifest-path" | "-m" => manifest = it.next().map(PathBuf::from),
            "--environment" | "-e" => envname = it.next().cloned().unwrap_or(envname),
            s if s.starts_with("--manifest-path=") => manifest = Some(PathBuf::from(&s[16..])),
            s if s.starts_with("--environment=") => envname = s[14..].to_string(),
            s if s.starts_with('-') => {}
            p => {
                program = Some(p.to_string());
                rest = it.cloned().collect();
                break;
            }
        }
    }
    let Some(program) = program else {
        return KernelInterpreter::Unresolved {
            why: "`pixi run` with no program".into(),
        };
    };
    let project = match manifest {
        Some(m) if m.is_dir() => m,
        Some(m) => m.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => ctx.cwd.clone(),
    };
    let prefix = project.join(".pixi").join("envs").join(&envname);
    let mut env = env.clone();
    env = with_bin_first(&env, &prefix.join("bin"));
    let located = locate(ctx, &program, &env);
    match located {
        Some(p) => resolve_program(ctx, &p, &rest, &env, depth + 1).via("pixi run", |p| {
            format!("`pixi run` in {} runs {}", prefix.display(), p.display())
        }),
        None => KernelInterpreter::Unresolved {
            why: format!(
                "`pixi run`: the environment {} has no `{program}` (not installed yet?)",
                prefix.display()
            ),
        },
    }
}

/// `uv run --project P [...] program …` with an existing `P/.venv`; `uv run --with …` and
/// scripts run from temporary environments and stay unresolved.
fn resolve_uv_run(
    ctx: &Context,
    args: &[String],
    env: &EnvVars,
    depth: usize,
) -> KernelInterpreter {
    let mut it = match run_args("uv", args) {
        Ok(it) => it,
        Err(u) => return u,
    };
    let mut project: Option<PathBuf> = None;
    let mut program = None;
    let mut rest = Vec::new();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--with" | "--with-requirements" | "--with-editable" | "--isolated" | "--script" => {
                return KernelInterpreter::Unresolved {
                    why: format!(
                        "`uv run {a}` runs from a temporary environment uv builds at launch"
                    ),
                }
            }
            "--project" | "--directory" => project = it.next().map(PathBuf::from),
            s if s.starts_with("--project=") => project = Some(PathBuf::from(&s[10..])),
            s if s.starts_with("--directory=") => project = Some(PathBuf::from(&s[12..])),
            s if s.starts_with("--with") => {
                return KernelInterpreter::Unresolved {
                    why: "`uv run --with` runs from a temporary environment uv builds at launch"
                        .into(),
                }
            }
            "--python" | "-p" | "--group" | "--extra" | "--env-file" | "--package" => {
                it.next();
            }
            s if s.starts_with('-') => {}
            p => {
                program = Some(p.to_string());
                rest = it.cloned().collect();
                break;
            }
        }
    }
    let project = project.unwrap_or_else(|| ctx.cwd.clone());
    let venv = match env.get_nonempty("UV_PROJECT_ENVIRONMENT") {
        Some(p) => {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                project.join(p)
            }
        }
        None => project.join(".venv"),
    };
    if !venv.join("pyvenv.cfg").is_file() {
        return KernelInterpreter::Unresolved {
            why: format!(
                "`uv run --project {}`: {} does not exist yet (uv would create it at launch)",
                project.display(),
                venv.display()
            ),
        };
    }
    let Some(program) = program else {
        return KernelInterpreter::Unresolved {
            why: "`uv run` with no program".into(),
        };
    };
    let mut env = env.clone();
    env = with_bin_first(&env, &venv.join("bin"));
    let located = locate(ctx, &program, &env);
    match located {
        Some(p) => resolve_program(ctx, &p, &rest, &env, depth + 1).via("uv run", |p| {
            format!(
                "`uv run --project {}` runs {}",
                project.display(),
                p.display()
            )
        }),
        None => KernelInterpreter::Unresolved {
            why: format!("`uv run`: `{program}` is not in {}", venv.display()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_rules_match_python_string_template() {
        let base = EnvVars::from_pairs([("HOME", "/h"), ("PATH", "/bin")]);
        assert_eq!(template_substitute("${HOME}/x", &base), "/h/x");
        assert_eq!(template_substitute("$$HOME", &base), "$HOME");
        assert_eq!(template_substitute("${NOPE}", &base), "${NOPE}");
        assert_eq!(template_substitute("$NOPE/a", &base), "$NOPE/a");
        assert_eq!(template_substitute("/v/bin:$PATH", &base), "/v/bin:/bin");
        assert_eq!(template_substitute("a$", &base), "a$");
        assert_eq!(template_substitute("${1A}", &base), "${1A}");
        assert_eq!(template_substitute("é${HOME}", &base), "é/h");
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn conda_run_shapes() {
        let r = parse_conda_run(&s(&[
            "run",
            "-p",
            "/opt/env",
            "--no-capture-output",
            "python",
            "-m",
            "ipykernel_launcher",
        ]))
        .unwrap();
        assert_eq!(r.target, CondaTarget::Prefix("/opt/env".into()));
        assert_eq!(r.program, "python");
        assert_eq!(r.rest, s(&["-m", "ipykernel_launcher"]));
        let r = parse_conda_run(&s(&["run", "-n", "myenv", "python"])).unwrap();
        assert_eq!(r.target, CondaTarget::Name("myenv".into()));
        let r = parse_conda_run(&s(&["run", "--prefix=/e", "python3"])).unwrap();
        assert_eq!(r.target, CondaTarget::Prefix("/e".into()));
        assert!(parse_conda_run(&s(&["install", "x"])).is_none());
        assert!(parse_conda_run(&s(&["run", "python"])).is_none());
    }

    #[test]
    fn pixi_run_shape() {
        let d = tempfile::tempdir().unwrap();
        let env = d.path().join(".pixi/envs/gpu");
        std::fs::create_dir_all(env.join("bin")).unwrap();
        let py = env.join("bin/python");
        std::fs::write(&py, b"\x7fELF").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&py, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ctx = Context::new(
            crate::platform::Os::Linux,
            EnvVars::from_pairs([("PATH", "/usr/bin")]),
            d.path().to_path_buf(),
        );
        let manifest = d.path().join("pixi.toml");
        let args = s(&[
            "run",
            "--manifest-path",
            manifest.to_str().unwrap(),
            "-e",
            "gpu",
            "python",
            "-m",
            "ipykernel_launcher",
        ]);
        match resolve_pixi_run(&ctx, &args, &ctx.vars, 0) {
            KernelInterpreter::Resolved {
                python, wrapper, ..
            } => {
                assert_eq!(python, py);
                assert_eq!(wrapper.as_deref(), Some("pixi run"));
            }
            other => panic!("{other:?}"),
        }
        let args = s(&["run", "python"]);
        assert!(
            matches!(
                resolve_pixi_run(&ctx, &args, &ctx.vars, 0),
                KernelInterpreter::Unresolved { .. }
            ),
            "default env missing"
        );
    }

    #[test]
    fn python_names() {
        for n in ["python", "python3", "python3.12", "python3.13t", "pypy3"] {
            assert!(is_python_name(n), "{n}");
        }
        for n in ["python-config", "pythonw-x", "ipython", "bash"] {
            assert!(!is_python_name(n), "{n}");
        }
    }
}
