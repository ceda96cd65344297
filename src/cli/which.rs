//! `kip which [CMD…] [--json]`: every PATH match of each command, in order, and the
//! interpreter and environment each one really runs; a `pip` whose Python differs from
//! `python`'s is flagged. The JSON schema is documented in docs/json.md.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::context::Context;
use crate::pyjson::os_text;
use crate::python::environment::Environment;
use crate::python::pyenv::ShimResolution;
use crate::python::shebang::ScriptInterpreter;
use crate::render;
use crate::shell::which::{self, Match, MatchKind};

/// The commands shown when none are named.
pub const DEFAULT_COMMANDS: [&str; 10] = [
    "python",
    "python3",
    "pip",
    "pip3",
    "conda",
    "mamba",
    "micromamba",
    "jupyter",
    "ipython",
    "uv",
];

/// One looked-up command.
struct Command {
    name: String,
    matches: Vec<Match>,
    /// For `jupyter`: the server commands it would run.
    servers: Option<Vec<Match>>,
}

/// An installer command whose Python is not `python`'s.
struct Mismatch {
    command: String,
    interpreter: PathBuf,
    python: String,
    python_interpreter: PathBuf,
    environment: Option<Environment>,
    python_environment: Option<Environment>,
}

pub fn run(ctx: &Context, programs: &[String], json: bool) -> anyhow::Result<i32> {
    if let Some(bad) = programs.iter().find(|p| p.is_empty()) {
        eprintln!("kip which: {bad:?} is not a command name");
        return Ok(2);
    }
    let names: Vec<String> = if programs.is_empty() {
        DEFAULT_COMMANDS.iter().map(|s| s.to_string()).collect()
    } else {
        programs.to_vec()
    };
    let commands: Vec<Command> = names.iter().map(|n| look_up(ctx, n)).collect();
    let mismatches = mismatches(ctx, &commands);
    let notes = notes(ctx, &commands);
    if json {
        let doc = json!({
            "commands": commands.iter().map(command_json).collect::<Vec<_>>(),
            "mismatches": mismatches.iter().map(|m| json!({
                "command": m.command,
                "interpreter": os_text(&m.interpreter),
                "python": m.python,
                "python_interpreter": os_text(&m.python_interpreter),
            })).collect::<Vec<_>>(),
            "notes": notes,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(0);
    }
    render_human(&commands, &mismatches, &notes)?;
    Ok(0)
}

/// All matches of `name`; a name with `/` is the file itself, as the shell runs it.
fn look_up(ctx: &Context, name: &str) -> Command {
    let matches = if name.contains('/') {
        let p = if Path::new(name).is_absolute() {
            PathBuf::from(name)
        } else {
            ctx.cwd.join(name)
        };
        if p.is_file() {
            vec![which::describe(ctx, &ctx.vars, &p)]
        } else {
            Vec::new()
        }
    } else {
        which::which_all(ctx, name)
    };
    let is_jupyter = Path::new(name).file_name().is_some_and(|n| n == "jupyter");
    let servers = is_jupyter.then(|| {
        matches
            .first()
            .map(|m| which::server_commands(ctx, &m.path))
            .unwrap_or_default()
    });
    Command {
        name: name.to_string(),
        matches,
        servers,
    }
}

/// The first match's interpreter of `name` (looked up if the user did not ask for it).
fn first_interpreter(
    ctx: &Context,
    commands: &[Command],
    name: &str,
) -> Option<(PathBuf, Option<Environment>)> {
    let found;
    let first = match commands.iter().find(|c| c.name == name) {
        Some(c) => c.matches.first(),
        None => {
            found = which::which_all(ctx, name);
            found.first()
        }
    }?;
    Some((first.interpreter.clone()?, first.environment.clone()))
}

/// Do two interpreters install into / import from different places? By environment prefix
/// when both are known, else by the files they resolve to. Prefixes are compared after
/// resolving symlinks: a pyenv version reached through a linked root, or a home directory
/// behind a symlink, is the same environment under two names.
fn differ(a: &(PathBuf, Option<Environment>), b: &(PathBuf, Option<Environment>)) -> bool {
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    match (&a.1, &b.1) {
        (Some(x), Some(y)) => real(&x.prefix) != real(&y.prefix),
        _ => real(&a.0) != real(&b.0),
    }
}

/// `pip` against `python` (or `python3` when there is no `python`, as on Debian), and `pip3`
/// against `python3`: the `pip install X` / `python -c "import X"` trap.
fn mismatches(ctx: &Context, commands: &[Command]) -> Vec<Mismatch> {
    let requested = |n: &str| commands.iter().any(|c| c.name == n);
    let mut out = Vec::new();
    for (pip, pythons) in [
        ("pip", &["python", "python3"][..]),
        ("pip3", &["python3"][..]),
    ] {
        if !requested(pip) {
            continue;
        }
        let Some(installer) = first_interpreter(ctx, commands, pip) else {
            continue;
        };
        let Some((python, py)) = pythons
            .iter()
            .find_map(|p| first_interpreter(ctx, commands, p).map(|i| (*p, i)))
        else {
            continue;
        };
        if differ(&installer, &py) {
            out.push(Mismatch {
                command: pip.to_string(),
                interpreter: installer.0,
                python: python.to_string(),
                python_interpreter: py.0,
                environment: installer.1,
                python_environment: py.1,
            });
        }
    }
    out
}

/// What kip cannot see from a child process, plus notes that depend on what was found.
fn notes(ctx: &Context, commands: &[Command]) -> Vec<String> {
    let mut notes = vec![
        "kip sees PATH as a child process does: shell aliases, shell functions (conda's `conda` after `conda init` is one) and the shell's hash table of remembered paths are invisible to it; run `type -a <cmd>` in your shell to compare, and `hash -r` to forget remembered paths".to_string(),
    ];
    if let Some(exe) = ctx.vars.get_nonempty("CONDA_EXE") {
        notes.push(format!(
            "CONDA_EXE is set, so your shell's `conda` is probably the shell function `conda init` installs; it runs {}",
            exe.to_string_lossy()
        ));
    }
    let shims = commands
        .iter()
        .flat_map(|c| c.matches.first())
        .any(|m| matches!(m.kind, MatchKind::PyenvShim(_)));
    if shims {
        let pyenv_version = match ctx.vars.get_nonempty("PYENV_VERSION") {
            Some(v) => format!("PYENV_VERSION={}", v.to_string_lossy()),
            None => "PYENV_VERSION unset".to_string(),
        };
        notes.push(format!(
            "pyenv shims choose their Python per directory: these answers are for {} with {pyenv_version}; a kernel or a terminal started elsewhere may get another Python",
            ctx.cwd.display()
        ));
    }
    notes
}

// ---- JSON ----

fn paths(v: &[PathBuf]) -> Vec<String> {
    v.iter().map(os_text).collect()
}

fn environment_json(e: &Environment) -> Value {
    json!({
        "prefix": os_text(&e.prefix),
        "kind": e.kind.as_str(),
        "version": e.version.map(|v| v.to_string()),
    })
}

fn pyenv_json(r: &ShimResolution) -> Value {
    let value = match &r.origin {
        crate::python::pyenv::VersionOrigin::Env(v) => Some(v.clone()),
        _ => None,
    };
    json!({
        "root": os_text(&r.root),
        "program": r.program,
        "requested": r.requested,
        "origin": {
            "kind": r.origin.kind(),
            "path": r.origin.path().map(os_text),
            "value": value,
        },
        "chosen": r.chosen,
        "executable": r.executable.as_ref().map(os_text),
        "not_installed": r.not_installed,
        "available_in": r.available_in,
        "why": r.why,
    })
}

fn match_json(m: &Match) -> Value {
    let wrapper = match &m.kind {
        MatchKind::ShellWrapper(t) => json!({
            "program": t.program,
            "activated_prefix": t.activated_prefix.as_ref().map(os_text),
            "conda_env": t.conda_env,
            "path_prepend": paths(&t.path_prepend),
        }),
        _ => Value::Null,
    };
    json!({
        "path": os_text(&m.path),
        "also_at": paths(&m.also_at),
        "symlink_chain": paths(&m.symlink_chain),
        "kind": m.kind.as_str(),
        "shebang": m.shebang.as_ref().map(|s| s.raw.clone()),
        "interpreter": m.interpreter.as_ref().map(os_text),
        "environment": m.environment.as_ref().map(environment_json),
        "pyenv": match &m.kind {
            MatchKind::PyenvShim(r) => pyenv_json(r),
            _ => Value::Null,
        },
        "wrapper": wrapper,
        "problem": m.problem,
    })
}

fn command_json(c: &Command) -> Value {
    let mut v = json!({
        "name": c.name,
        "matches": c.matches.iter().map(match_json).collect::<Vec<_>>(),
    });
    if let (Some(servers), Some(obj)) = (&c.servers, v.as_object_mut()) {
        let list: Vec<Value> = servers
            .iter()
            .map(|m| {
                let mut j = match_json(m);
                if let Some(o) = j.as_object_mut() {
                    let name = m.path.file_name().map(os_text);
                    o.insert("name".into(), json!(name));
                }
                j
            })
            .collect();
        obj.insert("servers".into(), Value::Array(list));
    }
    v
}

// ---- human ----

fn env_summary(e: &Environment) -> String {
    let version = e.version.map(|v| format!(" {v}")).unwrap_or_default();
    format!("{}{version} at {}", e.kind.as_str(), e.prefix.display())
}

fn write_match(out: &mut impl Write, m: &Match, first: bool) -> std::io::Result<()> {
    let mark = if first { "→" } else { " " };
    let mut line = m.path.display().to_string();
    for hop in &m.symlink_chain {
        line.push_str(&format!(" → {}", hop.display()));
    }
    let also = if m.also_at.is_empty() {
        String::new()
    } else {
        format!(
            "  {}",
            render::dim(&format!("(also {})", paths(&m.also_at).join(", ")))
        )
    };
    writeln!(out, "  {mark} {line}{also}")?;
    match &m.kind {
        MatchKind::PyenvShim(r) => writeln!(out, "      pyenv shim: {}", r.why)?,
        MatchKind::ShellWrapper(t) => {
            let mut s = format!("shell wrapper: execs `{}`", t.program);
            if let Some(p) = &t.activated_prefix {
                s.push_str(&format!(" after activating {}", p.display()));
            }
            if let Some(c) = &t.conda_env {
                s.push_str(&format!(" in conda env {c}"));
            }
            writeln!(out, "      {s}")?;
        }
        MatchKind::Script(si) => {
            if let Some(sb) = &m.shebang {
                let extra = match si {
                    ScriptInterpreter::ViaPath { program, .. } => {
                        format!(" ({program} looked up on PATH)")
                    }
                    _ => String::new(),
                };
                writeln!(out, "      script: {}{extra}", sb.raw)?;
            }
        }
        MatchKind::Binary => {}
    }
    if let Some(i) = &m.interpreter {
        let what = m
            .environment
            .as_ref()
            .map(|e| format!("  {}", render::dim(&format!("({})", env_summary(e)))))
            .unwrap_or_default();
        if i == &m.path {
            writeln!(out, "      is a Python interpreter{what}")?;
        } else {
            writeln!(out, "      runs {}{what}", i.display())?;
        }
    }
    if let Some(p) = &m.problem {
        writeln!(out, "      {} {p}", render::warn("problem:"))?;
    }
    Ok(())
}

fn render_human(
    commands: &[Command],
    mismatches: &[Mismatch],
    notes: &[String],
) -> anyhow::Result<()> {
    let mut out = render::stdout();
    for c in commands {
        if c.matches.is_empty() {
            writeln!(
                out,
                "{}  {}",
                render::bold(&c.name),
                render::dim("not on PATH")
            )?;
            continue;
        }
        writeln!(out, "{}", render::bold(&c.name))?;
        for (i, m) in c.matches.iter().enumerate() {
            write_match(&mut out, m, i == 0)?;
        }
        if let Some(servers) = &c.servers {
            if servers.is_empty() {
                writeln!(
                    out,
                    "    {}",
                    render::dim(
                        "no jupyter-lab, jupyter-notebook or jupyter-server beside it or on PATH"
                    )
                )?;
            } else {
                writeln!(
                    out,
                    "    {}",
                    render::dim("server commands, as `jupyter lab|notebook|server` finds them:")
                )?;
                for m in servers {
                    write_match(&mut out, m, false)?;
                }
            }
        }
    }
    for m in mismatches {
        let describe = |p: &Path, e: &Option<Environment>| match e {
            Some(e) => format!("{} ({})", p.display(), env_summary(e)),
            None => p.display().to_string(),
        };
        writeln!(
            out,
            "\n{} `{}` installs into {}, but `{}` runs {}",
            render::warn("mismatch:"),
            m.command,
            describe(&m.interpreter, &m.environment),
            m.python,
            describe(&m.python_interpreter, &m.python_environment),
        )?;
        writeln!(
            out,
            "  `{} install X` puts X where `{}` cannot import it; use `{} -m pip install X`, or `kip install X --python {}`",
            m.command,
            m.python,
            m.python,
            m.python_interpreter.display()
        )?;
    }
    writeln!(
        out,
        "\n{} → marks what a shell with this PATH runs; the matches below it are shadowed",
        render::dim("note:")
    )?;
    for n in notes {
        writeln!(out, "{} {n}", render::dim("note:"))?;
    }
    Ok(())
}
