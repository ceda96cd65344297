//! Which Python a script runs, read from its first lines — every form pip (distlib) and uv
//! write (python-environments.md §4): `#!/abs/python`, `#!/usr/bin/env python3`, and for long
//! paths or spaces `#!/bin/sh` + `'''exec' <python> "$0" "$@"` (pip: unquoted or
//! double-quoted; uv: single-quoted; uv relocatable: the python beside the script).

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::jupyter::launch::find_on_path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShebangTarget {
    Direct {
        interpreter: PathBuf,
        args: Vec<String>,
    },
    Env {
        program: String,
        args: Vec<String>,
    },
    ShellExec {
        interpreter: PathBuf,
    },
    RelocatableSibling {
        program: String,
    },
    Other {
        interpreter: PathBuf,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shebang {
    pub raw: String,
    pub target: ShebangTarget,
}

/// The first shell word of `s` (handles '…' and "…").
fn shell_word(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    let mut end = s.len();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => {
                for (_, c2) in chars.by_ref() {
                    if c2 == '\'' {
                        break;
                    }
                    out.push(c2);
                }
            }
            '"' => {
                for (_, c2) in chars.by_ref() {
                    if c2 == '"' {
                        break;
                    }
                    out.push(c2);
                }
            }
            c if c.is_whitespace() => {
                end = i;
                break;
            }
            c => out.push(c),
        }
    }
    if out.is_empty() {
        None
    } else {
        Some((out, &s[end.min(s.len())..]))
    }
}

fn is_python_name(name: &str) -> bool {
    name.starts_with("python") || name.starts_with("pypy")
}

pub fn parse(head: &[u8]) -> Option<Shebang> {
    if !head.starts_with(b"#!") {
        return None;
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(1024)]);
    let mut lines = text.lines();
    let first = lines.next()?.trim_end_matches('\r');
    let raw = first.to_string();
    let line = first[2..].trim();
    let mut parts = line.splitn(2, char::is_whitespace);
    let interp = parts.next()?.to_string();
    let rest = parts.next().unwrap_or("").trim();
    let name = Path::new(&interp)
        .file_name()?
        .to_string_lossy()
        .into_owned();
    if name == "env" {
        let mut words: Vec<&str> = rest.split_whitespace().collect();
        if words.first() == Some(&"-S") {
            words.remove(0);
        }
        let program = words.first()?.to_string();
        return Some(Shebang {
            raw,
            target: ShebangTarget::Env {
                program,
                args: words[1..].iter().map(|s| s.to_string()).collect(),
            },
        });
    }
    if name == "sh" || name == "bash" {
        if let Some(second) = lines.next() {
            if let Some(after) = second.trim_end_matches('\r').strip_prefix("'''exec' ") {
                if after.starts_with("\"$(dirname") {
                    let tail = after.rsplit_once("\"/")?.1;
                    let (prog, _) = shell_word(tail)?;
                    return Some(Shebang {
                        raw,
                        target: ShebangTarget::RelocatableSibling { program: prog },
                    });
                }
                let (word, _) = shell_word(after)?;
                return Some(Shebang {
                    raw,
                    target: ShebangTarget::ShellExec {
                        interpreter: PathBuf::from(word),
                    },
                });
            }
        }
        return Some(Shebang {
            raw,
            target: ShebangTarget::Other {
                interpreter: PathBuf::from(interp),
            },
        });
    }
    if is_python_name(&name) {
        // Linux passes everything after the interpreter as one argument.
        let args = if rest.is_empty() {
            Vec::new()
        } else {
            vec![rest.to_string()]
        };
        return Some(Shebang {
            raw,
            target: ShebangTarget::Direct {
                interpreter: PathBuf::from(interp),
                args,
            },
        });
    }
    Some(Shebang {
        raw,
        target: ShebangTarget::Other {
            interpreter: PathBuf::from(interp),
        },
    })
}

/// Read at most 1 KiB of `path` and parse its shebang.
pub fn read(path: &Path) -> std::io::Result<Option<Shebang>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1024];
    let n = f.read(&mut buf)?;
    buf.truncate(n);
    Ok(parse(&buf))
}

/// The Python a script runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptInterpreter {
    Python(PathBuf),
    ViaPath {
        program: String,
        resolved: Option<PathBuf>,
    },
    NotPython(PathBuf),
    Binary,
    Missing(PathBuf),
}

pub fn interpreter_for_script(ctx: &Context, script: &Path) -> ScriptInterpreter {
    let sb = match read(script) {
        Ok(Some(s)) => s,
        _ => return ScriptInterpreter::Binary,
    };
    let check = |p: PathBuf| {
        if p.exists() {
            ScriptInterpreter::Python(p)
        } else {
            ScriptInterpreter::Missing(p)
        }
    };
    match sb.target {
        ShebangTarget::Direct { interpreter, .. } | ShebangTarget::ShellExec { interpreter } => {
            check(interpreter)
        }
        ShebangTarget::RelocatableSibling { program } => {
            let real = std::fs::canonicalize(script).unwrap_or_else(|_| script.to_path_buf());
            check(real.parent().unwrap_or(Path::new("/")).join(program))
        }
        ShebangTarget::Env { program, .. } => {
            let resolved = find_on_path(&program, &ctx.vars, &ctx.cwd);
            ScriptInterpreter::ViaPath { program, resolved }
        }
        ShebangTarget::Other { interpreter } => ScriptInterpreter::NotPython(interpreter),
    }
}

/// The `exec` at the end of a shell wrapper (the classic `kernel-startup.sh`, or a
/// `bash -c "source …/activate && exec python …"` command), with what it activates first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecTarget {
    pub program: String,
    pub args: Vec<String>,
    /// `source /p/bin/activate` / `. /p/bin/activate` → `/p`.
    pub activated_prefix: Option<PathBuf>,
    /// `conda activate NAME` / `source activate NAME`.
    pub conda_env: Option<String>,
    /// `export PATH=/x/bin:$PATH` → `/x/bin`.
    pub path_prepend: Vec<PathBuf>,
}

impl ExecTarget {
    /// The bin dir the wrapper puts first on PATH before its exec.
    pub fn activated_bin(&self, ctx: &Context) -> Option<PathBuf> {
        if let Some(p) = &self.path_prepend.first() {
            return Some(p.to_path_buf());
        }
        if let Some(p) = &self.activated_prefix {
            return Some(p.join("bin"));
        }
        let name = self.conda_env.as_ref()?;
        if name.contains('/') {
            return Some(PathBuf::from(name).join("bin"));
        }
        crate::python::discovery::conda_env_by_name(ctx, name).map(|p| p.join("bin"))
    }
}

pub fn shell_script_exec_target(text: &str) -> Option<ExecTarget> {
    let mut activated_prefix = None;
    let mut conda_env = None;
    let mut path_prepend = Vec::new();
    let mut last: Option<(String, Vec<String>)> = None;
    for raw_line in text.lines() {
        for stmt in raw_line.split("&&").flat_map(|s| s.split(';')) {
            let stmt = stmt.trim();
            if stmt.starts_with('#') || stmt.is_empty() {
                continue;
            }
            let Some(words) = shlex::split(stmt) else {
                continue;
            };
            let Some(first) = words.first() else { continue };
            match first.as_str() {
                "source" | "." => {
                    if let Some(target) = words.get(1) {
                        if target.ends_with("/bin/activate") {
                            activated_prefix = Path::new(target)
                                .parent()
                                .and_then(Path::parent)
                                .map(Path::to_path_buf);
                            if let Some(env) = words.get(2) {
                                conda_env = Some(env.clone());
                                activated_prefix = None;
                            }
                        } else if target == "activate" {
                            conda_env = words.get(2).cloned();
                        }
                    }
                }
                "conda" | "mamba" | "micromamba"
                    if words.get(1).map(String::as_str) == Some("activate") =>
                {
                    conda_env = words.get(2).cloned();
                }
                "export" => {
                    if let Some(v) = words.get(1).and_then(|w| w.strip_prefix("PATH=")) {
                        if let Some(first) = v.split(':').next().filter(|f| !f.starts_with('$')) {
                            path_prepend.insert(0, PathBuf::from(first));
                        }
                    }
                }
                "exec" => {
                    let mut it = words.iter().skip(1).skip_while(|w| w.starts_with('-'));
                    if let Some(p) = it.next() {
                        last = Some((p.clone(), it.cloned().collect()));
                    }
                }
                _ => {}
            }
        }
    }
    let (program, args) = last?;
    Some(ExecTarget {
        program,
        args,
        activated_prefix,
        conda_env,
        path_prepend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(s: &str) -> ShebangTarget {
        parse(s.as_bytes()).unwrap().target
    }

    #[test]
    fn all_shebang_forms() {
        assert_eq!(
            target("#!/v/bin/python3\nimport x"),
            ShebangTarget::Direct {
                interpreter: "/v/bin/python3".into(),
                args: vec![]
            }
        );
        assert_eq!(
            target("#! /v/bin/python -s\r\n"),
            ShebangTarget::Direct {
                interpreter: "/v/bin/python".into(),
                args: vec!["-s".into()]
            }
        );
        assert_eq!(
            target("#!/usr/bin/env python3\n"),
            ShebangTarget::Env {
                program: "python3".into(),
                args: vec![]
            }
        );
        assert_eq!(
            target("#!/usr/bin/env -S python3 -u\n"),
            ShebangTarget::Env {
                program: "python3".into(),
                args: vec!["-u".into()]
            }
        );
        let long = "/very/long/path/with space/bin/python";
        assert_eq!(
            target(&format!(
                "#!/bin/sh\n'''exec' \"{long}\" \"$0\" \"$@\"\n' '''\n"
            )),
            ShebangTarget::ShellExec {
                interpreter: long.into()
            }
        );
        assert_eq!(
            target("#!/bin/sh\n'''exec' /a/bin/python \"$0\" \"$@\"\n"),
            ShebangTarget::ShellExec {
                interpreter: "/a/bin/python".into()
            }
        );
        assert_eq!(
            target("#!/bin/sh\n'''exec' '/a b/bin/python' \"$0\" \"$@\"\n"),
            ShebangTarget::ShellExec {
                interpreter: "/a b/bin/python".into()
            }
        );
        assert_eq!(
            target("#!/bin/sh\n'''exec' \"$(dirname -- \"$(realpath -- \"$0\")\")\"/'python' \"$0\" \"$@\"\n"),
            ShebangTarget::RelocatableSibling { program: "python".into() }
        );
        assert_eq!(
            target("#!/bin/bash\necho hi\n"),
            ShebangTarget::Other {
                interpreter: "/bin/bash".into()
            }
        );
        assert!(parse(b"\x7fELF\x02").is_none());
    }

    #[test]
    fn wrapper_scripts() {
        let t = shell_script_exec_target(
            "#!/bin/bash\nsource /envs/a/bin/activate\nexec python -m ipykernel_launcher \"$@\"\n",
        )
        .unwrap();
        assert_eq!(t.program, "python");
        assert_eq!(t.activated_prefix, Some(PathBuf::from("/envs/a")));
        let t = shell_script_exec_target("source /opt/conda/bin/activate myenv && exec python -m ipykernel_launcher -f {connection_file}").unwrap();
        assert_eq!(t.conda_env.as_deref(), Some("myenv"));
        let t =
            shell_script_exec_target("export PATH=/x/bin:$PATH\nexec /abs/python3 -m ipykernel")
                .unwrap();
        assert_eq!(t.program, "/abs/python3");
        assert_eq!(t.path_prepend, vec![PathBuf::from("/x/bin")]);
        assert!(shell_script_exec_target("echo hi").is_none());
    }
}
