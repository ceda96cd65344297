//! `kip kernel add | fix | remove | show`: the results for people and as JSON. A repair's
//! diffs and per-kernel lines were shown by the reporter while it ran.

use std::fmt::Write;

use crate::flows::kernel::{AddReport, FixReport, RemoveReport, ShowReport, Shown};
use crate::jupyter::launch::KernelInterpreter;
use crate::render::Output;

pub fn add_human(report: &AddReport) -> Output {
    Output::stdout(
        report
            .added
            .as_ref()
            .map(|a| {
                format!(
                    "registered kernel {} at {}\n  runs {}\n  activates {}\n",
                    a.name,
                    a.resource_dir.display(),
                    a.python.display(),
                    a.prefix.display()
                )
            })
            .unwrap_or_default(),
    )
}

pub fn add_json(report: &AddReport) -> Output {
    Output::stdout(super::json_line(&report.added))
}

pub fn fix_human(_report: &FixReport) -> Output {
    Output::default()
}

pub fn fix_json(report: &FixReport) -> Output {
    Output::stdout(super::json_line(
        &report
            .kernels
            .as_ref()
            .map(|k| serde_json::json!({ "kernels": k })),
    ))
}

pub fn remove_human(report: &RemoveReport) -> Output {
    let mut out = String::new();
    if let Some(r) = &report.removed {
        let _ = writeln!(
            out,
            "removed kernel {} ({})",
            r.name,
            r.resource_dir.display()
        );
        if let Some(next) = &r.uncovered {
            let _ = writeln!(
                out,
                "note: {} was hidden by it and is now the kernel {}",
                next.display(),
                r.name
            );
        }
    }
    Output::stdout(out)
}

pub fn show_human(report: &ShowReport) -> Output {
    let mut out = String::new();
    if let Some(s) = &report.shown {
        let _ = write_shown(&mut out, s);
    }
    Output::stdout(out)
}

pub fn show_json(report: &ShowReport) -> Output {
    Output::stdout(super::json_line(&report.shown))
}

fn write_shown(out: &mut String, shown: &Shown) -> std::fmt::Result {
    writeln!(
        out,
        "{}\n  spec     {}",
        shown.name,
        shown.resource_dir.display()
    )?;
    if let Some(p) = &shown.problem {
        writeln!(out, "  broken   {p}")?;
    }
    if let Some(s) = &shown.spec {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(s)
                .unwrap_or_default()
                .lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )?;
    }
    match &shown.interpreter {
        KernelInterpreter::Resolved {
            python,
            how,
            exists,
            ..
        } => {
            writeln!(
                out,
                "  runs     {}{}\n           {how}",
                python.display(),
                if *exists { "" } else { "  (MISSING)" }
            )?;
        }
        KernelInterpreter::Unresolved { why } => writeln!(out, "  runs     unresolved ({why})")?,
    }
    if let Some(e) = &shown.environment {
        writeln!(
            out,
            "  env      {} {} {}",
            e.kind.as_str(),
            e.version.map(|v| v.to_string()).unwrap_or_default(),
            e.prefix.display()
        )?;
    }
    for s in &shown.shadows {
        writeln!(out, "  hides    {}", s.display())?;
    }
    writeln!(
        out,
        "  made by  {}",
        if shown.kip_made {
            "kip"
        } else {
            "someone else"
        }
    )?;
    Ok(())
}
