//! `kip why`: where MODULE is imported from (and what is surprising about it), or where else
//! it is installed and the install line.

use std::fmt::Write;

use crate::flows::why::{Report, Why};
use crate::install::names;
use crate::render::Output;

pub fn human(report: &Report) -> Output {
    let mut out = String::new();
    if let Some(w) = &report.why {
        let _ = write_why(&mut out, w);
    }
    Output::stdout(out)
}

fn write_why(out: &mut String, w: &Why) -> std::fmt::Result {
    let top = &w.module;
    if w.importable {
        match (&w.location, w.from) {
            (Some(l), Some(kind)) => writeln!(
                out,
                "\"{top}\" is importable: {} ({kind}{})",
                l.display(),
                w.distribution
                    .as_ref()
                    .map(|d| format!(
                        ", distribution {d} {}",
                        w.version.clone().unwrap_or_default()
                    ))
                    .unwrap_or_default()
            )?,
            (_, Some("interpreter")) => writeln!(
                out,
                "\"{top}\" is importable: {}'s find_spec finds it",
                w.python.display()
            )?,
            _ => writeln!(
                out,
                "\"{top}\" is importable: it is in the standard library"
            )?,
        }
        if let Some(warn) = &w.warning {
            writeln!(out, "warning: {warn}")?;
        }
        if let Some(restart) = &w.restart {
            writeln!(out, "  fix: {restart}")?;
        }
        return Ok(());
    }
    if let (Some(stale), Some(restart)) = (&w.stale, &w.restart) {
        writeln!(
            out,
            "\"{top}\" is installed ({}) but the running kernel cannot import it yet: {stale}",
            w.location
                .as_ref()
                .map(|l| l.display().to_string())
                .unwrap_or_default()
        )?;
        return writeln!(out, "  fix: {restart}");
    }
    writeln!(out, "\"{top}\" is NOT importable by {}", w.python.display())?;
    if let Some(warn) = &w.warning {
        writeln!(out, "  {warn}")?;
    }
    for e in &w.elsewhere {
        writeln!(
            out,
            "  installed in {} ({}){}{}",
            e.prefix.display(),
            e.kind,
            e.distribution
                .as_ref()
                .map(|d| format!(": {d} {}", e.version.clone().unwrap_or_default()))
                .unwrap_or_default(),
            if e.kernels.is_empty() {
                String::new()
            } else {
                format!(", used by kernel {}", e.kernels.join(", "))
            }
        )?;
    }
    if let Some(p) = &w.provided_by {
        if names::normalize_dist_name(p) != names::normalize_dist_name(top) {
            writeln!(out, "  the distribution that provides it is \"{p}\"")?;
        }
    }
    match &w.install {
        Some(i) => writeln!(out, "  fix: {i}")?,
        None if w.warning.is_some() => {}
        None => writeln!(
            out,
            "  {} and kip's name table does not know which distribution provides \"{top}\"; kip does not guess a PyPI name from a module name",
            if w.elsewhere.is_empty() {
                "no environment here has it"
            } else {
                "no metadata says which distribution installed those copies"
            }
        )?,
    }
    Ok(())
}

pub fn json(report: &Report) -> Output {
    Output::stdout(super::json_line(&report.why))
}
