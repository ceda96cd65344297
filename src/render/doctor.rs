//! `kip doctor`: findings grouped by subject, each with why and the fix; or the report as
//! JSON (docs/json.md).

use std::fmt::Write;

use crate::doctor;
use crate::doctor::finding::Severity;
use crate::flows::doctor::Report;
use crate::render::{self, Output};

pub fn human(report: &Report) -> Output {
    let mut out = String::new();
    if let Some(d) = &report.doctor {
        let _ = write_report(&mut out, &report.jupyter, d);
    }
    Output::styled(out)
}

pub fn json(report: &Report) -> Output {
    Output::stdout(super::json_line(&report.doctor))
}

fn write_report(out: &mut String, jupyter: &str, report: &doctor::Report) -> std::fmt::Result {
    writeln!(out, "{} {}", render::dim("Jupyter:"), jupyter)?;
    writeln!(
        out,
        "{} {} kernel(s), {} environment(s), {} command(s)",
        render::dim("checked"),
        report.checked.kernels.len(),
        report.checked.environments.len(),
        report.checked.commands.len()
    )?;
    for st in &report.starts {
        writeln!(
            out,
            "{} {}: {}",
            render::dim("start"),
            st.kernel,
            st.summary()
        )?;
    }
    let mut subjects: Vec<&str> = Vec::new();
    for f in &report.findings {
        if !subjects.contains(&f.subject.as_str()) {
            subjects.push(&f.subject);
        }
    }
    for s in subjects {
        writeln!(out, "\n{}", render::bold(s))?;
        for f in report.findings.iter().filter(|f| f.subject == s) {
            let sev = match f.severity {
                Severity::Error => render::error("error"),
                Severity::Warning => render::warn("warning"),
                Severity::Info => render::dim("info"),
            };
            writeln!(out, "  {sev} [{}] {}", f.id.as_str(), f.message)?;
            writeln!(out, "    why: {}", f.explanation)?;
            for l in f.stderr_tail.iter().flat_map(|t| t.lines()) {
                writeln!(out, "    {} {l}", render::dim("stderr |"))?;
            }
            writeln!(
                out,
                "    fix: {}{}",
                f.fix.text,
                if f.fix.automatic {
                    "  (kip doctor --fix)"
                } else {
                    ""
                }
            )?;
        }
    }
    let s = &report.summary;
    writeln!(
        out,
        "\n{} error(s), {} warning(s), {} info",
        s.get("error").copied().unwrap_or(0),
        s.get("warning").copied().unwrap_or(0),
        s.get("info").copied().unwrap_or(0)
    )?;
    Ok(())
}
