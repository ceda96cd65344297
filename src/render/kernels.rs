//! `kip kernels`: each kernel with what it really runs; kip's JSON; or exactly what
//! `jupyter kernelspec list --json` prints.

use std::fmt::Write;

use crate::flows::kernels::Report;
use crate::jupyter::launch::KernelInterpreter;
use crate::render::{self, Output};

pub fn human(report: &Report) -> Output {
    let mut out = String::new();
    let _ = write_human(&mut out, report);
    Output::styled(out)
}

pub fn json(report: &Report) -> Output {
    Output::stdout(super::json_line(&Some(&report.kernels)))
}

/// Byte for byte what `jupyter kernelspec list --json` prints; kip's warnings on stderr.
pub fn jupyter_json(report: &Report) -> Output {
    Output {
        stdout: report.listing.jupyter_json(),
        stderr: report
            .listing
            .warnings
            .iter()
            .map(|w| format!("kip: {w}\n"))
            .collect(),
        styled: false,
    }
}

fn write_human(out: &mut String, report: &Report) -> std::fmt::Result {
    let doc = &report.kernels;
    writeln!(out, "{} {}", render::dim("Jupyter:"), doc.jupyter.how)?;
    if let Some((python, sys_prefix)) = &report.lister {
        writeln!(
            out,
            "{} {} (sys.prefix {})",
            render::dim("  lists with"),
            python.display(),
            sys_prefix.display()
        )?;
    }
    for n in &doc.jupyter.notes {
        writeln!(out, "  {} {n}", render::warn("note:"))?;
    }
    if doc.kernels.is_empty() {
        writeln!(out, "\nNo kernels found. Searched:")?;
        for d in &doc.search_path {
            writeln!(out, "  {}", d.path.display())?;
        }
        return Ok(());
    }
    writeln!(out)?;
    for k in &doc.kernels {
        let display = k.display_name.clone().unwrap_or_default();
        writeln!(
            out,
            "{}  {}",
            render::bold(&k.name),
            render::dim(&format!("\"{display}\""))
        )?;
        writeln!(
            out,
            "    spec    {}{}",
            crate::pyjson::os_text(&k.resource_dir),
            if k.native {
                "  (injected by Jupyter: ipykernel in its own env)"
            } else {
                ""
            }
        )?;
        match (&k.problem, &k.interpreter) {
            (Some(p), _) => writeln!(
                out,
                "    {}   {p} — Jupyter skips this kernel",
                render::error("broken")
            )?,
            (
                None,
                KernelInterpreter::Resolved {
                    python,
                    how,
                    exists,
                    ..
                },
            ) => {
                let state = if *exists {
                    String::new()
                } else {
                    format!("  {}", render::error("MISSING"))
                };
                writeln!(out, "    runs    {}{state}", python.display())?;
                writeln!(out, "            {}", render::dim(how))?;
                if let Some(env) = &k.environment {
                    let ipk = if env.ipykernel {
                        ""
                    } else {
                        "  (no ipykernel)"
                    };
                    writeln!(
                        out,
                        "    env     {} {} {}{ipk}",
                        env.kind,
                        env.version.clone().unwrap_or_default(),
                        env.prefix.display()
                    )?;
                }
            }
            (None, KernelInterpreter::Unresolved { why }) => {
                writeln!(out, "    runs    {} ({why})", render::warn("unresolved"))?;
            }
        }
        if k.invalid_name {
            writeln!(
                out,
                "    {}    the directory name is not a valid kernel name (Jupyter warns)",
                render::warn("name")
            )?;
        }
        for s in &k.shadows {
            writeln!(out, "    hides   {}", s.display())?;
        }
    }
    for w in &doc.warnings {
        writeln!(out, "{} {w}", render::warn("warning:"))?;
    }
    Ok(())
}
