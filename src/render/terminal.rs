//! The terminal face's reporter: events as lines on stderr (stdout stays the report: JSON with
//! `--json`, a dry run's commands), a spinner while kip itself works, and the interactive
//! picker. Only here and in `cli/` does kip touch the terminal.

use std::io::IsTerminal;

use crate::report::{Event, Reporter};

#[derive(Default)]
pub struct Terminal {
    spinner: Option<super::Spinner>,
}

impl Terminal {
    pub fn new() -> Terminal {
        Terminal::default()
    }
}

/// The line an event prints on stderr (`None`: it writes to stdout instead).
pub fn line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Target { prefix, why, .. } => format!("target: {} ({why})", prefix.display()),
        Event::Running { command } => format!("running: {command}"),
        Event::InstallerOutput { line } => line.clone(),
        Event::InstallerStdout { .. } => return None,
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
            (Event::InstallerStdout { text }, _) => print!("{text}"),
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
