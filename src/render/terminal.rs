//! The terminal face's reporter: events as lines on stderr (stdout stays the report: JSON with
//! `--json`, a dry run's commands), a spinner while kip itself works, and the interactive
//! picker. Only here and in `cli/` does kip touch the terminal.

use std::io::IsTerminal;

use crate::report::{Event, Reporter};

#[derive(Default)]
pub struct Terminal {
    spinner: Option<super::Spinner>,
    /// stdout is reserved for one JSON document (`--json`): what would go there for people
    /// (a diff) goes to stderr, and results for people are left to the report.
    json: bool,
}

impl Terminal {
    pub fn new() -> Terminal {
        Terminal::default()
    }

    /// A terminal whose stdout carries the `--json` document when `json`.
    pub fn with_json(json: bool) -> Terminal {
        Terminal {
            json,
            ..Terminal::default()
        }
    }
}

/// What a repair did to one kernel, one line each (people only; `--json` has the report).
fn kernel_fixed_lines(
    name: &str,
    actions: &[String],
    skipped: &[String],
    backup: Option<&std::path::Path>,
    start: Option<&str>,
) -> String {
    let mut out = String::new();
    for a in actions {
        out.push_str(&format!("{name}: {a}\n"));
    }
    for s in skipped {
        out.push_str(&format!("{name}: not fixed: {s}\n"));
    }
    if let Some(b) = backup {
        out.push_str(&format!("{name}: backup {}\n", b.display()));
    }
    if let Some(st) = start {
        out.push_str(&format!("{name}: start: {st}\n"));
    }
    out
}

/// The line an event prints on stderr (`None`: not a stderr line).
pub fn line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Target { prefix, why, .. } => format!("target: {} ({why})", prefix.display()),
        Event::Running { command } => format!("running: {command}"),
        Event::InstallerOutput { line } => line.clone(),
        Event::InstallerStdout { .. } | Event::Diff { .. } | Event::KernelFixed { .. } => {
            return None
        }
        Event::Proof { result } if result.ok => format!("import {}: ok", result.module),
        Event::Proof { result } => format!(
            "import {}: FAILED ({})",
            result.module,
            result.error.as_deref().unwrap_or("?")
        ),
        Event::Note { text } => text.clone(),
        Event::Error { verb, message } => format!("kip {verb}: {message}"),
    })
}

impl Reporter for Terminal {
    fn event(&mut self, event: Event) {
        match (&event, line(&event)) {
            (Event::InstallerStdout { text }, _) => eprint!("{text}"),
            (Event::Diff { text }, _) if self.json => eprint!("{text}"),
            (Event::Diff { text }, _) => print!("{text}"),
            (Event::KernelFixed { .. }, _) if self.json => {}
            (
                Event::KernelFixed {
                    name,
                    actions,
                    skipped,
                    backup,
                    start,
                },
                _,
            ) => print!(
                "{}",
                kernel_fixed_lines(name, actions, skipped, backup.as_deref(), start.as_deref())
            ),
            (_, Some(l)) => eprintln!("{l}"),
            (_, None) => {}
        }
    }

    fn busy(&mut self, what: Option<&str>) {
        self.spinner = what.and_then(super::spinner);
    }

    fn can_ask(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    fn choose(
        &mut self,
        prompt: &str,
        items: &[String],
        default: usize,
    ) -> Result<Option<usize>, String> {
        self.spinner = None;
        dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact_opt()
            .map_err(|e| e.to_string())
    }
}
