//! Rendering helpers: colour only on a terminal (anstream strips it when piped).

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
