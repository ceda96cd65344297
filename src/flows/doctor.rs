//! `kip doctor [NOTEBOOK] [TARGET] [--fix [--yes]]`: every check once; with `--fix`, the
//! automatic repairs (through the kernel flow's `fix_one`), then every check again.

use std::path::PathBuf;

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId, Severity};
use crate::doctor::{self, Checked};
use crate::flows::Status;
use crate::install::target::{self, TargetArgs, TargetError};
use crate::jupyter::resolved::{resolve_all, ResolvedKernel};
use crate::jupyter::view::{self, JupyterView};
use crate::python::classify;
use crate::python::environment::Environment;
use crate::python::probe::Prober;
use crate::report::{Event, Reporter};

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub notebook: Option<PathBuf>,
    pub target: TargetArgs,
    pub jupyter: Option<PathBuf>,
    pub fix: bool,
    pub yes: bool,
    /// `--start` / `--no-start` (default: start the notebook's kernel).
    pub start: doctor::start::StartMode,
}

/// The findings (after the repairs, with `--fix`) and whose Jupyter was checked; `doctor` is
/// `None` when the request was bad.
#[derive(Debug, Default)]
pub struct Report {
    /// How the Jupyter whose kernels were checked was chosen (`JupyterView::how`).
    pub jupyter: String,
    pub doctor: Option<doctor::Report>,
}

/// Run every check once.
fn diagnose(
    ctx: &Context,
    view: &JupyterView,
    r: &mut dyn Reporter,
    args: &Request,
) -> Result<(doctor::Report, Vec<ResolvedKernel>), TargetError> {
    let listing = view::list_kernels(ctx, view);
    let mut kernels = resolve_all(ctx, view, &listing);
    let mut findings: Vec<Finding> = Vec::new();
    let mut checked = Checked::default();
    let mut envs: Vec<Environment> = Vec::new();

    let focus = if args.target.is_empty() {
        None
    } else {
        Some(target::resolve(ctx, view, r, &args.target)?)
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
    if focus.is_none() {
        doctor::kernels::check_skipped_dirs(&listing.skipped, &mut findings);
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
        checked
            .environments
            .push(crate::pyjson::os_text(&env.prefix));
        doctor::envs::check_env(ctx, env, &mut findings);
    }
    if let Some(nb) = &args.notebook {
        checked.notebooks.push(nb.display().to_string());
        doctor::notebook::check_notebook(ctx, view, &kernels, nb, &mut findings)
            .map_err(TargetError::Usage)?;
    }
    let starts = doctor::start::check(
        ctx,
        view,
        &kernels,
        args.notebook.as_deref(),
        args.start,
        &mut findings,
    );
    let mut report = doctor::Report::new(checked, findings);
    report.starts = starts;
    Ok((report, kernels))
}

pub fn run(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    args: &Request,
) -> anyhow::Result<(Report, Status)> {
    let view = view::select(ctx, prober, args.jupyter.as_deref())?;
    let (report, kernels) = match diagnose(ctx, &view, r, args) {
        Ok(found) => found,
        Err(e) => {
            let status = match e {
                TargetError::Usage(_) => Status::Usage,
                TargetError::NotFound(_) => Status::Failure,
            };
            r.event(Event::error("doctor", e.to_string()));
            return Ok((Report::default(), status));
        }
    };
    if !args.fix {
        return Ok(checked(&view, report));
    }
    let applied = apply_fixes(ctx, prober, r, &view, &report, &kernels, args.yes)?;
    r.event(Event::note(format!(
        "{applied} fix(es) applied; checking again"
    )));
    let view = view::select(ctx, prober, args.jupyter.as_deref())?;
    let (after, _) = diagnose(ctx, &view, r, args).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(checked(&view, after))
}

/// The report, failed when any error is left.
fn checked(view: &JupyterView, report: doctor::Report) -> (Report, Status) {
    let status = if report.errors() > 0 {
        Status::Failure
    } else {
        Status::Success
    };
    (
        Report {
            jupyter: view.how.clone(),
            doctor: Some(report),
        },
        status,
    )
}

/// Apply the automatic fixes, each reported first; destructive ones only with `--yes`.
fn apply_fixes(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    view: &JupyterView,
    report: &doctor::Report,
    kernels: &[ResolvedKernel],
    yes: bool,
) -> anyhow::Result<usize> {
    let mut names: Vec<String> = Vec::new();
    for f in &report.findings {
        if !f.fix.automatic {
            if f.severity != Severity::Info {
                r.event(Event::note(format!(
                    "not applied (needs a decision): {} — {}",
                    f.id.as_str(),
                    f.fix.text
                )));
            }
            continue;
        }
        if f.id == FindingId::KernelInterpreterMissing && !yes {
            r.event(Event::note(format!(
                "not applied without --yes: {} — {}",
                f.id.as_str(),
                f.fix.text
            )));
            continue;
        }
        if !names.contains(&f.subject) {
            names.push(f.subject.clone());
        }
    }
    let mut applied = 0;
    for n in names {
        r.event(Event::note(format!("fixing kernel {n}")));
        let k: Vec<&ResolvedKernel> = kernels
            .iter()
            .filter(|k| k.entry.found.name.to_string_lossy() == n)
            .collect();
        for k in k {
            if super::kernel::fix_one(ctx, prober, r, view, k, yes)?.changed {
                applied += 1;
            }
        }
    }
    Ok(applied)
}
