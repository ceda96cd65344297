//! Which Python a script runs, read from its first lines and never by running it.
//!
//! Installers write every form handled here (python-environments.md §4):
//! - `#!/abs/python`: pip (distlib `_build_shebang`) and uv when the line fits in 127 bytes
//!   and the path has no space;
//! - `#!/bin/sh` + `'''exec' <python> "$0" "$@"` + `' '''`: the polyglot both write otherwise.
//!   pip leaves the path bare, or double-quotes it when it has a space (distlib
//!   `enquote_executable`); uv single-quotes it (uv-install-wheel `format_shebang`); a uv
//!   `--relocatable` venv always writes `"$(dirname -- "$(realpath -- "$0")")"/'python'`, the
//!   `python` beside the script's real path;
//! - `#!/usr/bin/env [-S] python3`: hand-written scripts; the answer depends on PATH.
//!
//! Shell wrappers that end in `exec python …` (the classic `kernel-startup.sh`) are read by
//! [`shell_script_exec_target`].

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::envvars::EnvVars;
use crate::platform::Os;
use crate::shell::path::find_on_path;

/// How much of a file is read to find its shebang. Linux reads 256 bytes for `#!`
/// (`BINPRM_BUF_SIZE`); the `'''exec'` line of the shell form follows it, so take more.
const HEAD_LIMIT: u64 = 1024;

/// What a `#!` line (plus, for `#!/bin/sh`, the next line) says will run the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShebangTarget {
    /// `#!/abs/python [arg]`. Linux passes everything after the interpreter as a single
    /// argument (fs/binfmt_script.c), so `args` has at most one element.
    Direct {
        interpreter: PathBuf,
        args: Vec<String>,
    },
    /// `#!/usr/bin/env [-S] python3 [args]`: `program` is looked up on PATH when the script
    /// runs. Without `-S`, Linux hands env one argument, so `#!/usr/bin/env python3 -u` makes
    /// env look for a program literally named `python3 -u` (see [`Shebang::env_single_arg`]).
    Env { program: String, args: Vec<String> },
    /// `#!/bin/sh` + `'''exec' <python> "$0" "$@"`: pip's bare or double-quoted path, uv's
    /// single-quoted one.
    ShellExec { interpreter: PathBuf },
    /// uv's relocatable form: the `program` beside the script's realpath.
    RelocatableSibling { program: String },
    /// Any other interpreter (`#!/bin/bash`, `#!/usr/bin/perl`, a shell form without
    /// `'''exec'`).
    Other { interpreter: PathBuf },
}

/// A parsed shebang: the first line as written, and what it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shebang {
    /// The first line without `\r\n`.
    pub raw: String,
    pub target: ShebangTarget,
}

impl Shebang {
    /// `#!/usr/bin/env prog args…` without `-S`: on Linux, env receives `prog args…` as one
    /// word and fails with "No such file or directory"; macOS and the BSDs split it.
    pub fn env_single_arg(&self) -> bool {
        match &self.target {
            ShebangTarget::Env { args, .. } => {
                !args.is_empty() && !self.raw.split_whitespace().any(|w| w == "-S")
            }
            _ => false,
        }
    }
}

/// Does this file name look like a Python interpreter (`python`, `python3.12`, `pypy3`,
/// `python3.13t`)? `python3-config` and friends are shell scripts, not interpreters.
pub fn is_python_name(name: &str) -> bool {
    let rest = if let Some(r) = name.strip_prefix("python") {
        r
    } else if let Some(r) = name.strip_prefix("pypy") {
        r
    } else {
        return false;
    };
    rest.chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == 't' || c == 'w')
}

/// Parse the shebang at the start of `head` (the first bytes of a file). `None` when the
/// file does not start with `#!` (a binary, or a text file the shell would run itself).
pub fn parse(head: &[u8]) -> Option<Shebang> {
    let head = &head[..head.len().min(HEAD_LIMIT as usize)];
    let rest = head.strip_prefix(b"#!")?;
    let mut lines = rest.split(|b| *b == b'\n');
    let first = String::from_utf8_lossy(lines.next()?)
        .trim_end_matches('\r')
        .to_string();
    let raw = format!("#!{first}");
    // `#! /usr/bin/python` is allowed: the kernel skips blanks before the interpreter.
    let line = first.trim_matches([' ', '\t']);
    let (interp, rest) = match line.find([' ', '\t']) {
        Some(i) => (&line[..i], line[i..].trim_matches([' ', '\t'])),
        None => (line, ""),
    };
    if interp.is_empty() {
        return None;
    }
    let name = interp.rsplit('/').next().unwrap_or(interp);
    let target = if name == "env" {
        env_target(rest)?
    } else if matches!(name, "sh" | "bash" | "dash") {
        let second = lines.next().map(|l| {
            String::from_utf8_lossy(l)
                .trim_end_matches('\r')
                .to_string()
        });
        match second.as_deref().and_then(shell_exec_line) {
            Some(t) => t,
            None => ShebangTarget::Other {
                interpreter: PathBuf::from(interp),
            },
        }
    } else if is_python_name(name) {
        ShebangTarget::Direct {
            interpreter: PathBuf::from(interp),
            args: if rest.is_empty() {
                Vec::new()
            } else {
                vec![rest.to_string()]
            },
        }
    } else {
        ShebangTarget::Other {
            interpreter: PathBuf::from(interp),
        }
    };
    Some(Shebang { raw, target })
}

/// `env`'s arguments: `-S` splits the string, `-i`/`-` clear the environment, `-u NAME`
/// unsets, `NAME=value` sets; the first other word is the program (coreutils env).
fn env_target(rest: &str) -> Option<ShebangTarget> {
    let mut words = rest.split_whitespace().peekable();
    while let Some(w) = words.peek() {
        match *w {
            "-S" | "-i" | "-" | "--ignore-environment" => {
                words.next();
            }
            "-u" => {
                words.next();
                words.next();
            }
            w if w.starts_with("--unset=") || (w.contains('=') && !w.starts_with('-')) => {
                words.next();
            }
            _ => break,
        }
    }
    let program = words.next()?.to_string();
    Some(ShebangTarget::Env {
        program,
        args: words.map(str::to_string).collect(),
    })
}

/// The second line of the `#!/bin/sh` polyglot: `'''exec' <python> "$0" "$@"`.
fn shell_exec_line(line: &str) -> Option<ShebangTarget> {
    let after = line.strip_prefix("'''exec'")?.trim_start();
    // uv relocatable: "$(dirname -- "$(realpath -- "$0")")"/'python' "$0" "$@"
    const RELOCATABLE: &str = "\"$(dirname -- \"$(realpath -- \"$0\")\")\"/";
    if let Some(tail) = after.strip_prefix(RELOCATABLE) {
        let program = shlex::split(tail)?.into_iter().next()?;
        return Some(ShebangTarget::RelocatableSibling { program });
    }
    // pip: bare or "double quoted"; uv: 'single quoted' (with '\'' for a quote in the path).
    let word = shlex::split(after)?.into_iter().next()?;
    if word.is_empty() {
        return None;
    }
    Some(ShebangTarget::ShellExec {
        interpreter: PathBuf::from(word),
    })
}

/// Read at most 1 KiB of `path` and parse its shebang (`None` for binaries and text without
/// `#!`).
pub fn read(path: &Path) -> std::io::Result<Option<Shebang>> {
    Ok(parse(&read_head(path, HEAD_LIMIT)?))
}

/// The first `limit` bytes of a regular file; anything else (a FIFO would block) reads as
/// empty.
fn read_head(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    match crate::files::read_head(path, limit) {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(Vec::new()),
        r => r,
    }
}

/// The Python a script runs, decided from its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptInterpreter {
    /// The absolute interpreter the script runs (it exists).
    Python(PathBuf),
    /// `#!/usr/bin/env program`: looked up on the context's PATH. `resolved` is the first
    /// match, which may itself be a shim or a script.
    ViaPath {
        program: String,
        resolved: Option<PathBuf>,
    },
    /// The script runs something that is not a Python (`/bin/bash`, `perl`, `env bash`).
    NotPython(PathBuf),
    /// No shebang: an executable binary (or a file kip cannot read).
    Binary,
    /// The shebang names a file that does not exist: running the script fails with
    /// "bad interpreter: No such file or directory".
    Missing(PathBuf),
}

/// Which interpreter `script` runs, with `ctx`'s PATH for `#!/usr/bin/env`.
pub fn interpreter_for_script(ctx: &Context, script: &Path) -> ScriptInterpreter {
    interpreter_for_script_in(ctx, &ctx.vars, script)
}

/// [`interpreter_for_script`] for a process whose environment is `env` (its PATH decides
/// `#!/usr/bin/env`).
pub fn interpreter_for_script_in(ctx: &Context, env: &EnvVars, script: &Path) -> ScriptInterpreter {
    let sb = match read(script) {
        Ok(Some(s)) => s,
        _ => return ScriptInterpreter::Binary,
    };
    let absolute = |p: PathBuf| if p.is_absolute() { p } else { ctx.cwd.join(p) };
    let existing = |p: PathBuf| {
        let p = absolute(p);
        if p.exists() {
            ScriptInterpreter::Python(p)
        } else {
            ScriptInterpreter::Missing(p)
        }
    };
    let single_arg = sb.env_single_arg() && ctx.os == Os::Linux;
    match sb.target {
        ShebangTarget::Direct { interpreter, .. } | ShebangTarget::ShellExec { interpreter } => {
            existing(interpreter)
        }
        ShebangTarget::RelocatableSibling { program } => {
            // `realpath -- "$0"`: $0 is the path the script was run by; symlinks resolved.
            let real = std::fs::canonicalize(absolute(script.to_path_buf()))
                .unwrap_or_else(|_| script.to_path_buf());
            existing(real.parent().unwrap_or(Path::new("/")).join(program))
        }
        ShebangTarget::Env { program, args } => {
            let program = if single_arg {
                // What Linux's env really looks up: the whole rest of the line.
                std::iter::once(program)
                    .chain(args)
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                program
            };
            let resolved = if program.contains('/') {
                Some(absolute(PathBuf::from(&program))).filter(|p| p.exists())
            } else {
                find_on_path(&program, env, &ctx.cwd)
            };
            let name = program.rsplit('/').next().unwrap_or(&program);
            if is_python_name(name) || single_arg {
                ScriptInterpreter::ViaPath { program, resolved }
            } else {
                ScriptInterpreter::NotPython(resolved.unwrap_or_else(|| PathBuf::from(program)))
            }
        }
        ShebangTarget::Other { interpreter } => ScriptInterpreter::NotPython(interpreter),
    }
}

/// The `exec` at the end of a shell wrapper (the classic `kernel-startup.sh`, or a
/// `bash -c "source …/activate && exec python …"` command), with what it activated first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecTarget {
    /// The program word of the last `exec` (`python`, `/abs/python3`).
    pub program: String,
    pub args: Vec<String>,
    /// `source /p/bin/activate` / `. /p/bin/activate` → `/p` (a venv, or a conda root's base).
    pub activated_prefix: Option<PathBuf>,
    /// `conda activate NAME|PATH`, `source activate NAME`, `source /c/bin/activate NAME`.
    pub conda_env: Option<String>,
    /// `export PATH=/x/bin:$PATH` → `/x/bin` (latest first).
    pub path_prepend: Vec<PathBuf>,
}

impl ExecTarget {
    /// The bin dir the wrapper puts first on PATH before its exec: a bare `exec python` finds
    /// its `python` there first. The last activation step wins, so `export PATH` (usually
    /// written after activation) is checked first.
    pub fn activated_bin(&self, ctx: &Context) -> Option<PathBuf> {
        if let Some(p) = self.path_prepend.first() {
            return Some(p.clone());
        }
        if let Some(name) = &self.conda_env {
            if name.contains('/') {
                return Some(PathBuf::from(name).join("bin"));
            }
            // `source /c/bin/activate NAME`: NAME is an env of that conda root.
            if let Some(root) = &self.activated_prefix {
                let p = root.join("envs").join(name);
                if p.is_dir() {
                    return Some(p.join("bin"));
                }
            }
            return crate::python::discovery::conda_env_by_name(ctx, name).map(|p| p.join("bin"));
        }
        self.activated_prefix.as_ref().map(|p| p.join("bin"))
    }
}

/// Activation state seen so far while reading a wrapper.
#[derive(Clone, Default)]
struct Activation {
    prefix: Option<PathBuf>,
    conda_env: Option<String>,
    path_prepend: Vec<PathBuf>,
}

/// Read a shell wrapper: the program of its last `exec` line, and the activation steps before
/// it (`source …/bin/activate`, `. …/bin/activate`, `conda|mamba|micromamba activate X`,
/// `source activate X`, `[export] PATH=/x/bin:$PATH`). Statements are split on newlines,
/// `;` and `&&`. `None` when there is no `exec` with a program.
pub fn shell_script_exec_target(text: &str) -> Option<ExecTarget> {
    let mut seen = Activation::default();
    let mut last: Option<(String, Vec<String>, Activation)> = None;
    for line in text.lines() {
        for stmt in line.split("&&").flat_map(|s| s.split(';')) {
            let stmt = stmt.trim();
            if stmt.is_empty() || stmt.starts_with('#') {
                continue;
            }
            let Some(words) = shlex::split(stmt) else {
                continue;
            };
            let Some(first) = words.first() else {
                continue;
            };
            match first.as_str() {
                "source" | "." => match words.get(1).map(String::as_str) {
                    Some("activate") => seen.conda_env = words.get(2).cloned(),
                    Some(t) if t.ends_with("/bin/activate") => {
                        let root = Path::new(t).parent().and_then(Path::parent);
                        seen.prefix = root.map(Path::to_path_buf);
                        seen.conda_env = words.get(2).cloned();
                    }
                    _ => {}
                },
                "conda" | "mamba" | "micromamba"
                    if words.get(1).map(String::as_str) == Some("activate") =>
                {
                    seen.conda_env = activate_operand(&words[2..]);
                }
                "export" | "declare" | "typeset" => {
                    for w in &words[1..] {
                        note_path_assignment(w, &mut seen);
                    }
                }
                w if w.starts_with("PATH=") && words.len() == 1 => {
                    note_path_assignment(w, &mut seen);
                }
                "exec" => {
                    let mut it = words[1..].iter();
                    let mut program = None;
                    while let Some(w) = it.next() {
                        match w.as_str() {
                            // bash `exec -a NAME cmd`: -a takes an argument.
                            "-a" => {
                                it.next();
                            }
                            w if w.starts_with('-') => {}
                            _ => {
                                program = Some(w.clone());
                                break;
                            }
                        }
                    }
                    if let Some(p) = program {
                        last = Some((p, it.cloned().collect(), seen.clone()));
                    }
                }
                _ => {}
            }
        }
    }
    let (program, args, act) = last?;
    Some(ExecTarget {
        program,
        args,
        activated_prefix: act.prefix,
        conda_env: act.conda_env,
        path_prepend: act.path_prepend,
    })
}

/// The env of `conda activate [--stack] [-n NAME | -p PATH | NAME_OR_PATH]`.
fn activate_operand(words: &[String]) -> Option<String> {
    let mut it = words.iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "-n" | "--name" | "-p" | "--prefix" => return it.next().cloned(),
            w if w.starts_with('-') => {}
            _ => return Some(w.clone()),
        }
    }
    None
}

/// `PATH=/x/bin:$PATH` → `/x/bin` goes first. Entries that use variables are skipped: kip
/// does not evaluate the shell.
fn note_path_assignment(word: &str, seen: &mut Activation) {
    let Some(v) = word.strip_prefix("PATH=") else {
        return;
    };
    if let Some(first) = v
        .split(':')
        .next()
        .filter(|f| !f.contains('$') && !f.is_empty())
    {
        seen.path_prepend.insert(0, PathBuf::from(first));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(s: &str) -> ShebangTarget {
        parse(s.as_bytes()).expect("a shebang").target
    }

    fn direct(p: &str, args: &[&str]) -> ShebangTarget {
        ShebangTarget::Direct {
            interpreter: p.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn shell_exec(p: &str) -> ShebangTarget {
        ShebangTarget::ShellExec {
            interpreter: p.into(),
        }
    }

    #[test]
    fn direct_forms_follow_the_single_argument_rule() {
        assert_eq!(
            target("#!/v/bin/python3\nimport x"),
            direct("/v/bin/python3", &[])
        );
        assert_eq!(target("#! /v/bin/python\n"), direct("/v/bin/python", &[]));
        // Linux passes "-s -E" as one argument.
        assert_eq!(
            target("#!/v/bin/python3.12 -s -E\n"),
            direct("/v/bin/python3.12", &["-s -E"])
        );
        assert_eq!(
            target("#!/v/bin/python\r\nimport x\r\n"),
            direct("/v/bin/python", &[])
        );
        assert_eq!(
            parse(b"#!/v/bin/python\r\n").unwrap().raw,
            "#!/v/bin/python"
        );
        assert_eq!(target("#!/opt/pypy3"), direct("/opt/pypy3", &[]));
    }

    #[test]
    fn env_forms() {
        let env = |p: &str, a: &[&str]| ShebangTarget::Env {
            program: p.into(),
            args: a.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(target("#!/usr/bin/env python3\n"), env("python3", &[]));
        assert_eq!(
            target("#!/usr/bin/env -S python3 -u\n"),
            env("python3", &["-u"])
        );
        assert_eq!(
            target("#!/usr/bin/env -S PYTHONSAFEPATH=1 python3\n"),
            env("python3", &[])
        );
        assert!(!parse(b"#!/usr/bin/env -S python3 -u\n")
            .unwrap()
            .env_single_arg());
        assert!(parse(b"#!/usr/bin/env python3 -u\n")
            .unwrap()
            .env_single_arg());
        assert!(parse(b"#!/usr/bin/env\n").is_none());
    }

    #[test]
    fn pip_long_path_unquoted_and_spaces_double_quoted() {
        let long = format!("/tmp/{}/bin/python", "x".repeat(150));
        assert_eq!(
            target(&format!(
                "#!/bin/sh\n'''exec' {long} \"$0\" \"$@\"\n' '''\n# -*- coding: utf-8 -*-\n"
            )),
            shell_exec(&long)
        );
        assert_eq!(
            target("#!/bin/sh\n'''exec' \"/tmp/a b/bin/python\" \"$0\" \"$@\"\n' '''\n"),
            shell_exec("/tmp/a b/bin/python")
        );
    }

    #[test]
    fn uv_single_quoted_and_relocatable() {
        assert_eq!(
            target("#!/bin/sh\n'''exec' '/tmp/a b/bin/python' \"$0\" \"$@\"\n' '''\n"),
            shell_exec("/tmp/a b/bin/python")
        );
        assert_eq!(
            target("#!/bin/sh\n'''exec' '/tmp/it'\\''s/bin/python' \"$0\" \"$@\"\n"),
            shell_exec("/tmp/it's/bin/python")
        );
        assert_eq!(
            target(
                "#!/bin/sh\n'''exec' \"$(dirname -- \"$(realpath -- \"$0\")\")\"/'python' \"$0\" \"$@\"\n' '''\n"
            ),
            ShebangTarget::RelocatableSibling {
                program: "python".into()
            }
        );
        // CRLF on the exec line too.
        assert_eq!(
            target("#!/bin/sh\r\n'''exec' /a/bin/python \"$0\" \"$@\"\r\n"),
            shell_exec("/a/bin/python")
        );
    }

    #[test]
    fn other_interpreters_binaries_and_garbage() {
        assert_eq!(
            target("#!/bin/bash\necho hi\n"),
            ShebangTarget::Other {
                interpreter: "/bin/bash".into()
            }
        );
        assert_eq!(
            target("#!/bin/sh\n'''exec' \n"),
            ShebangTarget::Other {
                interpreter: "/bin/sh".into()
            }
        );
        assert_eq!(
            target("#!/usr/bin/python3-config\n"),
            ShebangTarget::Other {
                interpreter: "/usr/bin/python3-config".into()
            }
        );
        assert!(parse(b"\x7fELF\x02\x01\x01\0\0\0").is_none());
        assert!(parse(b"").is_none());
        assert!(parse(b"#!").is_none());
        assert!(parse(b"#!   \n").is_none());
        // Invalid UTF-8 is replaced, not a panic.
        assert_eq!(
            target("#!/v/bin/python\n").clone(),
            parse(b"#!/v/bin/python\n\xff\xfe").unwrap().target
        );
        assert!(matches!(
            parse(b"#!/v/\xffbin/python3\n").unwrap().target,
            ShebangTarget::Direct { .. }
        ));
        // A line longer than the read limit is cut, not a panic.
        let huge = format!("#!/{}", "a".repeat(5000));
        assert!(parse(huge.as_bytes()).is_some());
    }

    fn ctx_with(path: &str, cwd: &Path) -> Context {
        Context::new(
            Os::Linux,
            EnvVars::from_pairs([("PATH", path.to_string())]),
            cwd.to_path_buf(),
        )
    }

    fn write_exe(p: &Path, text: &[u8]) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn interpreter_for_every_kind_of_script() {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("v/bin");
        write_exe(&bin.join("python"), b"\x7fELF");
        let c = ctx_with(&bin.display().to_string(), d.path());
        let check = |text: &str| {
            let s = d.path().join("script");
            write_exe(&s, text.as_bytes());
            interpreter_for_script(&c, &s)
        };
        let py = bin.join("python");
        assert_eq!(
            check(&format!("#!{}\n", py.display())),
            ScriptInterpreter::Python(py.clone())
        );
        assert_eq!(
            check(&format!(
                "#!/bin/sh\n'''exec' '{}' \"$0\" \"$@\"\n",
                py.display()
            )),
            ScriptInterpreter::Python(py.clone())
        );
        assert_eq!(
            check("#!/gone/bin/python3\n"),
            ScriptInterpreter::Missing("/gone/bin/python3".into())
        );
        assert_eq!(
            check("#!/usr/bin/env python\n"),
            ScriptInterpreter::ViaPath {
                program: "python".into(),
                resolved: Some(py.clone())
            }
        );
        // Linux: env looks for a program named "python -u".
        assert_eq!(
            check("#!/usr/bin/env python -u\n"),
            ScriptInterpreter::ViaPath {
                program: "python -u".into(),
                resolved: None
            }
        );
        assert_eq!(
            check("#!/usr/bin/env -S python -u\n"),
            ScriptInterpreter::ViaPath {
                program: "python".into(),
                resolved: Some(py.clone())
            }
        );
        assert_eq!(
            check("#!/usr/bin/env bash\n"),
            ScriptInterpreter::NotPython("bash".into())
        );
        assert_eq!(
            check("#!/bin/bash\nexec python\n"),
            ScriptInterpreter::NotPython("/bin/bash".into())
        );
        assert_eq!(check("\x7fELF\x02"), ScriptInterpreter::Binary);
        assert_eq!(
            interpreter_for_script(&c, &d.path().join("nope")),
            ScriptInterpreter::Binary
        );
    }

    #[test]
    fn a_fifo_is_not_opened() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("python3");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o755) }, 0);
        assert_eq!(read(&fifo).unwrap(), None, "would block if opened");
    }

    #[test]
    fn relocatable_sibling_is_beside_the_realpath() {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("rel/bin");
        write_exe(&bin.join("python"), b"\x7fELF");
        write_exe(
            &bin.join("pip"),
            b"#!/bin/sh\n'''exec' \"$(dirname -- \"$(realpath -- \"$0\")\")\"/'python' \"$0\" \"$@\"\n' '''\n",
        );
        std::fs::create_dir_all(d.path().join("elsewhere")).unwrap();
        let link = d.path().join("elsewhere/pip");
        std::os::unix::fs::symlink(bin.join("pip"), &link).unwrap();
        let c = ctx_with("/nonexistent", d.path());
        let want = std::fs::canonicalize(&bin).unwrap().join("python");
        assert_eq!(
            interpreter_for_script(&c, &link),
            ScriptInterpreter::Python(want)
        );
    }

    #[test]
    fn wrapper_scripts() {
        let t = shell_script_exec_target(
            "#!/bin/bash\nsource /envs/a/bin/activate\nexec python -m ipykernel_launcher \"$@\"\n",
        )
        .unwrap();
        assert_eq!(t.program, "python");
        assert_eq!(t.args, vec!["-m", "ipykernel_launcher", "$@"]);
        assert_eq!(t.activated_prefix, Some(PathBuf::from("/envs/a")));
        let t = shell_script_exec_target(
            "source /opt/conda/bin/activate myenv && exec python -m ipykernel_launcher -f {connection_file}",
        )
        .unwrap();
        assert_eq!(t.conda_env.as_deref(), Some("myenv"));
        assert_eq!(t.activated_prefix, Some(PathBuf::from("/opt/conda")));
        let t = shell_script_exec_target("source activate old\nexec python").unwrap();
        assert_eq!(t.conda_env.as_deref(), Some("old"));
        let t = shell_script_exec_target(
            "eval \"$(conda shell.bash hook)\"\nconda activate --stack -p /envs/x\nexec -a kernel python3 -m ipykernel",
        )
        .unwrap();
        assert_eq!(t.conda_env.as_deref(), Some("/envs/x"));
        assert_eq!(t.program, "python3");
        let t = shell_script_exec_target(
            "export PATH=/x/bin:$PATH\nPATH=\"$HOME/bin:$PATH\"\nexec /abs/python3 -m ipykernel",
        )
        .unwrap();
        assert_eq!(t.program, "/abs/python3");
        assert_eq!(t.path_prepend, vec![PathBuf::from("/x/bin")]);
        // Activation after the last exec does not count.
        let t = shell_script_exec_target("exec python\nsource /late/bin/activate\n").unwrap();
        assert_eq!(t.activated_prefix, None);
        assert!(shell_script_exec_target("echo hi").is_none());
        assert!(shell_script_exec_target("exec").is_none());
        assert!(shell_script_exec_target("exec 'unterminated").is_none());
    }

    #[test]
    fn python_names() {
        for n in [
            "python",
            "python3",
            "python3.12",
            "python3.13t",
            "pypy3",
            "pypy3.10",
        ] {
            assert!(is_python_name(n), "{n}");
        }
        for n in [
            "python3-config",
            "pythonista",
            "pip",
            "ipython",
            "python3.11-config",
        ] {
            assert!(!is_python_name(n), "{n}");
        }
    }
}
