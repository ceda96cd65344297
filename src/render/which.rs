//! `kip which`: each command's PATH matches in order, what each runs, and the mismatches; or
//! the same as JSON (docs/json.md).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::flows::which::{Command, Report};
use crate::pyjson::os_text;
use crate::python::environment::Environment;
use crate::python::pyenv::ShimResolution;
use crate::python::shebang::ScriptInterpreter;
use crate::render::{self, Output};
use crate::shell::which::{Match, MatchKind};

pub fn human(report: &Report) -> Output {
    let mut out = String::new();
    let _ = write_human(&mut out, report);
    Output::styled(out)
}

pub fn json(report: &Report) -> Output {
    let doc = json!({
        "commands": report.commands.iter().map(command_json).collect::<Vec<_>>(),
        "mismatches": report.mismatches.iter().map(|m| json!({
            "command": m.command,
            "interpreter": os_text(&m.interpreter),
            "python": m.python,
            "python_interpreter": os_text(&m.python_interpreter),
        })).collect::<Vec<_>>(),
        "notes": report.notes,
    });
    Output::stdout(super::json_line(&Some(doc)))
}

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

fn write_match(out: &mut String, m: &Match, first: bool) -> std::fmt::Result {
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

fn write_human(out: &mut String, report: &Report) -> std::fmt::Result {
    let (commands, mismatches, notes) = (&report.commands, &report.mismatches, &report.notes);
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
            write_match(out, m, i == 0)?;
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
                    write_match(out, m, false)?;
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
