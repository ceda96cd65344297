//! `kip which [CMD…]`: every PATH match and the interpreter each really runs.

use std::io::Write;

use serde::Serialize;

use crate::context::Context;
use crate::render;
use crate::shell::which::{self, Match, MatchKind};

const DEFAULT: [&str; 10] = [
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

#[derive(Serialize)]
struct Command {
    name: String,
    matches: Vec<Match>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    servers: Vec<Match>,
}

#[derive(Serialize)]
struct Mismatch {
    command: String,
    interpreter: String,
    python: String,
    python_interpreter: String,
}

#[derive(Serialize)]
struct Report {
    commands: Vec<Command>,
    mismatches: Vec<Mismatch>,
    notes: Vec<String>,
}

pub fn run(ctx: &Context, programs: &[String], json: bool) -> anyhow::Result<i32> {
    let names: Vec<String> = if programs.is_empty() {
        DEFAULT.iter().map(|s| s.to_string()).collect()
    } else {
        programs.to_vec()
    };
    let mut commands = Vec::new();
    for n in &names {
        let matches = which::which_all(ctx, n);
        let servers = if n == "jupyter" {
            matches
                .first()
                .map(|m| {
                    ["lab", "notebook", "server"]
                        .iter()
                        .filter_map(|s| which::find_subcommand(ctx, &m.path, s))
                        .flat_map(|p| {
                            let name = p
                                .file_name()
                                .map(|x| x.to_string_lossy().into_owned())
                                .unwrap_or_default();
                            which::which_all(ctx, &name)
                                .into_iter()
                                .filter(move |m| m.path == p)
                                .take(1)
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        commands.push(Command {
            name: n.clone(),
            matches,
            servers,
        });
    }
    let first_interp = |name: &str| {
        commands
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.matches.first())
            .and_then(|m| m.interpreter.clone())
    };
    let env_of = |name: &str| {
        commands
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.matches.first())
            .and_then(|m| m.environment.as_ref().map(|e| e.prefix.clone()))
    };
    let mut mismatches = Vec::new();
    for (pip, py) in [("pip", "python"), ("pip3", "python3"), ("pip", "python3")] {
        if let (Some(pi), Some(yi)) = (first_interp(pip), first_interp(py)) {
            let (pe, ye) = (env_of(pip), env_of(py));
            let differ = pe.is_some() && ye.is_some() && pe != ye;
            if differ && !mismatches.iter().any(|m: &Mismatch| m.command == pip) {
                mismatches.push(Mismatch {
                    command: pip.into(),
                    interpreter: pi.display().to_string(),
                    python: py.into(),
                    python_interpreter: yi.display().to_string(),
                });
            }
        }
    }
    let notes = vec![
        "kip sees PATH as a child process does: shell aliases, shell functions (conda's `conda` is one) and the shell's hash table are invisible to it; run `type -a <cmd>` in your shell to compare".to_string(),
    ];
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&Report {
                commands,
                mismatches,
                notes
            })?
        );
        return Ok(0);
    }
    let mut out = render::stdout();
    for c in &commands {
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
        for (i, m) in c.matches.iter().chain(c.servers.iter()).enumerate() {
            let mark = if i == 0 { "→" } else { " " };
            let mut line = m.path.display().to_string();
            for hop in &m.symlink_chain {
                line.push_str(&format!(" → {}", hop.display()));
            }
            writeln!(out, "  {mark} {line}")?;
            for a in &m.also_at {
                writeln!(out, "      {} {}", render::dim("same file as"), a.display())?;
            }
            match &m.kind {
                MatchKind::PyenvShim { pyenv } => writeln!(out, "      pyenv shim: {}", pyenv.why)?,
                MatchKind::Script { shebang: Some(s) } if m.interpreter.is_some() => {
                    writeln!(out, "      script ({s})")?
                }
                _ => {}
            }
            if let Some(e) = &m.environment {
                writeln!(
                    out,
                    "      runs {} — {} {} {}",
                    m.interpreter
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    e.kind.as_str(),
                    e.version.map(|v| v.to_string()).unwrap_or_default(),
                    e.prefix.display()
                )?;
            } else if let Some(p) = &m.interpreter {
                writeln!(out, "      runs {}", p.display())?;
            }
        }
    }
    for m in &mismatches {
        writeln!(
            out,
            "\n{} `{}` installs into {}, but `{}` is {}",
            render::warn("mismatch:"),
            m.command,
            m.interpreter,
            m.python,
            m.python_interpreter
        )?;
    }
    for n in &notes {
        writeln!(out, "\n{} {n}", render::dim("note:"))?;
    }
    Ok(0)
}
