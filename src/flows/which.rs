//! `kip which [CMD…] [--json]`: every PATH match of each command, in order, and the
//! interpreter and environment each one really runs; a `pip` whose Python differs from
//! `python`'s is flagged. The JSON schema is documented in docs/json.md.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::flows::Status;
use crate::python::environment::Environment;
use crate::report::{Event, Reporter};
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

#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Commands to look up (none: [`DEFAULT_COMMANDS`]).
    pub commands: Vec<String>,
}

/// Every command looked up, the installers whose Python differs from `python`'s, and notes.
#[derive(Debug, Default)]
pub struct Report {
    pub commands: Vec<Command>,
    pub mismatches: Vec<Mismatch>,
    pub notes: Vec<String>,
}

/// One looked-up command.
#[derive(Debug)]
pub struct Command {
    pub name: String,
    pub matches: Vec<Match>,
    /// For `jupyter`: the server commands it would run.
    pub servers: Option<Vec<Match>>,
}

/// An installer command whose Python is not `python`'s.
#[derive(Debug)]
pub struct Mismatch {
    pub command: String,
    pub interpreter: PathBuf,
    pub python: String,
    pub python_interpreter: PathBuf,
    pub environment: Option<Environment>,
    pub python_environment: Option<Environment>,
}

pub fn run(ctx: &Context, r: &mut dyn Reporter, req: &Request) -> (Report, Status) {
    let programs = &req.commands;
    if let Some(bad) = programs.iter().find(|p| p.is_empty()) {
        r.event(Event::error(
            "which",
            format!("{bad:?} is not a command name"),
        ));
        return (Report::default(), Status::Usage);
    }
    let names: Vec<String> = if programs.is_empty() {
        DEFAULT_COMMANDS.iter().map(|s| s.to_string()).collect()
    } else {
        programs.to_vec()
    };
    let commands: Vec<Command> = names.iter().map(|n| look_up(ctx, n)).collect();
    let mismatches = mismatches(ctx, &commands);
    let notes = notes(ctx, &commands);
    (
        Report {
            commands,
            mismatches,
            notes,
        },
        Status::Success,
    )
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
