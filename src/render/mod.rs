//! Every output decision: one file per verb renders its report for people or as JSON, and
//! `terminal.rs` is the reporter that shows events while work runs. Colour only on a terminal
//! (anstream strips it when piped).

pub mod doctor;
pub mod envs;
pub mod install;
pub mod kernel;
pub mod kernel_use;
pub mod kernels;
pub mod list;
pub mod ps;
pub mod stream;
pub mod terminal;
pub mod uninstall;
pub mod which;
pub mod why;

/// What a renderer produced for each stream; the CLI writes it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// The text holds colour, to be stripped on a stream that is not a terminal. Other text is
    /// written byte for byte (JSON, `--jupyter-json`, file names as they are).
    pub styled: bool,
}

impl Output {
    pub fn stdout(text: String) -> Output {
        Output {
            stdout: text,
            ..Output::default()
        }
    }

    /// Text for people with colour in it.
    pub fn styled(text: String) -> Output {
        Output {
            stdout: text,
            styled: true,
            ..Output::default()
        }
    }
}

/// A pretty-printed JSON document and its newline (nothing for `None`).
pub fn json_line<T: serde::Serialize>(doc: &Option<T>) -> String {
    doc.as_ref()
        .and_then(|d| serde_json::to_string_pretty(d).ok())
        .map(|s| s + "\n")
        .unwrap_or_default()
}

use anstyle::{AnsiColor, Style};

pub fn stdout() -> anstream::AutoStream<std::io::StdoutLock<'static>> {
    anstream::AutoStream::auto(std::io::stdout().lock())
}

fn paint(style: Style, s: &str) -> String {
    format!("{}{s}{}", style.render(), style.render_reset())
}

pub fn bold(s: &str) -> String {
    paint(Style::new().bold(), s)
}

pub fn dim(s: &str) -> String {
    paint(Style::new().dimmed(), s)
}

pub fn warn(s: &str) -> String {
    paint(
        Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold(),
        s,
    )
}

pub fn error(s: &str) -> String {
    paint(Style::new().fg_color(Some(AnsiColor::Red.into())).bold(), s)
}

/// A spinner on stderr while kip itself works (only on a terminal; cleared when dropped).
pub fn spinner(msg: &str) -> Option<Spinner> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(80));
    Some(Spinner(pb))
}

pub struct Spinner(indicatif::ProgressBar);

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
