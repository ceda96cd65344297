//! `kip doctor [NOTEBOOK] [TARGET] [--json] [--fix [--yes]]`.

use std::io::Write;
use std::path::PathBuf;

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId, Severity};
use crate::doctor::{self, Checked, Report};
use crate::install::target::{self, TargetArgs, TargetError};
use crate::jupyter::resolved::{resolve_all, ResolvedKernel};
use crate::jupyter::view::{self, JupyterView};
use crate::python::classify;
use crate::python::environment::Environment;
use crate::python::probe::Prober;
use crate::render;

pub struct DoctorArgs {
    pub notebook: Option<PathBuf>,
    pub target: TargetArgs,
    pub jupyter: Option<PathBuf>,
    pub json: bool,
    pub fix: bool,
    pub yes: bool,
}

/// Run every check once.
pub fn diagnose(
    ctx: &Context,
    view: &JupyterView,
    args: &DoctorArgs,
) -> Result<(Report, Vec<ResolvedKernel>), TargetError> {
    let listing = view::list_kernels(ctx, view);
    let mut kernels = resolve_all(ctx, view, &listing);
    let mut findings: Vec<Finding> = Vec::new();
    let mut checked = Checked::default();
    let mut envs: Vec<Environment> = Vec::new();

    let focus = if args.target.is_empty() {
        None
    } else {
        Some(target::resolve(
            ctx,
            view,
            &mut crate::render::terminal::Terminal::new(),
            &args.target,
        )?)
    };
    if let Some(t) = &focus {
        kernels.retain(|k| match &t.kernel {
            Some(n) => k.entry.found.name.to_string_lossy() == *n,
            None => k
                .interpreter
                .python()
                .and_then(|p| classify::classify_interpreter(ctx, p))
                .is_some_and(|e| e.prefix == t.env.prefix),
        });
        envs.push(t.env.clone());
    }
    for k in &kernels {
        checked.kernels.push(k.entry.found.name.to_string_lossy());
        doctor::kernels::check_kernel(ctx, view, k, &mut findings);
        if let Some(env) = k
            .interpreter
            .python()
            .filter(|p| p.exists())
            .and_then(|p| classify::classify_interpreter(ctx, p))
        {
            if !envs.iter().any(|e| e.prefix == env.prefix) {
                envs.push(env);
            }
        }
    }
    if focus.is_none() {
        for cmd in ["python", "python3", "pip", "pip3", "jupyter"] {
            if let Some(p) = doctor::kernels::command_interpreter(ctx, &ctx.vars, cmd) {
                checked.commands.push(cmd.to_string());
                if let Some(env) = classify::classify_interpreter(ctx, &p) {
                    if !envs.iter().any(|e| e.prefix == env.prefix) {
                        envs.push(env);
                    }
                }
            }
        }
        doctor::shell::check_shell(ctx, view, &mut findings);
    }
    for env in &envs {
        checked.environments.push(env.prefix.display().to_string());
        doctor::envs::check_env(ctx, env, &mut findings);
    }
    if let Some(nb) = &args.notebook {
        checked.notebooks.push(nb.display().to_string());
        doctor::notebook::check_notebook(ctx, view, &kernels, nb, &mut findings)
            .map_err(TargetError::Usage)?;
    }
    Ok((Report::new(checked, findings), kernels))
}

pub fn run(ctx: &Context, prober: &Prober, args: &DoctorArgs) -> anyhow::Result<i32> {
    let view = view::select(ctx, prober, args.jupyter.as_deref())?;
    let (report, kernels) = match diagnose(ctx, &view, args) {
        Ok(r) => r,
        Err(TargetError::Usage(m)) => {
            eprintln!("kip doctor: {m}");
            return Ok(2);
        }
        Err(TargetError::NotFound(m)) => {
            eprintln!("kip doctor: {m}");
            return Ok(1);
        }
    };
    if !args.fix {
        render_report(&view, &report, args.json)?;
        return Ok(if report.errors() > 0 { 1 } else { 0 });
    }
    let applied = apply_fixes(ctx, prober, &view, &report, &kernels, args.yes, args.json)?;
    eprintln!("{applied} fix(es) applied; checking again");
    let view = view::select(ctx, prober, args.jupyter.as_deref())?;
    let (after, _) = diagnose(ctx, &view, args).map_err(|e| anyhow::anyhow!("{e}"))?;
    render_report(&view, &after, args.json)?;
    Ok(if after.errors() > 0 { 1 } else { 0 })
}

/// Apply the automatic fixes, each printed first; destructive ones only with `--yes`.
fn apply_fixes(
    ctx: &Context,
    prober: &Prober,
    view: &JupyterView,
    report: &Report,
    kernels: &[ResolvedKernel],
    yes: bool,
    json: bool,
) -> anyhow::Result<usize> {
    let mut names: Vec<String> = Vec::new();
    for f in &report.findings {
        if !f.fix.automatic {
            if f.severity != Severity::Info {
                eprintln!(
                    "not applied (needs a decision): {} — {}",
                    f.id.as_str(),
                    f.fix.text
                );
            }
            continue;
        }
        if f.id == FindingId::KernelInterpreterMissing && !yes {
            eprintln!(
                "not applied without --yes: {} — {}",
                f.id.as_str(),
                f.fix.text
            );
            continue;
        }
        if !names.contains(&f.subject) {
            names.push(f.subject.clone());
        }
    }
    let mut applied = 0;
    for n in names {
        eprintln!("fixing kernel {n}");
        let k: Vec<&ResolvedKernel> = kernels
            .iter()
            .filter(|k| k.entry.found.name.to_string_lossy() == n)
            .collect();
        for k in k {
            if crate::flows::kernel::fix_one(
                ctx,
                prober,
                &mut crate::render::terminal::Terminal::with_json(json),
                view,
                k,
                yes,
            )?
            .changed
            {
                applied += 1;
            }
        }
    }
    Ok(applied)
}

fn render_report(view: &JupyterView, report: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    let mut out = render::stdout();
    writeln!(out, "{} {}", render::dim("Jupyter:"), view.how)?;
    writeln!(
        out,
        "{} {} kernel(s), {} environment(s), {} command(s)",
        render::dim("checked"),
        report.checked.kernels.len(),
        report.checked.environments.len(),
        report.checked.commands.len()
    )?;
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
