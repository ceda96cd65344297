//! `kip doctor [NOTEBOOK] [TARGET] [--json] [--fix [--yes]]`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::kernels::{resolve_all, ResolvedKernel};
use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId, FixOutcome, Outcome, Severity};
use crate::doctor::{self, Checked, Report};
use crate::install::target::{self, TargetArgs, TargetError};
use crate::jupyter::view::{self, JupyterView};
use crate::python::classify;
use crate::python::environment::Environment;
use crate::render;

pub struct DoctorArgs {
    pub notebook: Option<PathBuf>,
    pub target: TargetArgs,
    pub jupyter: Option<PathBuf>,
    pub json: bool,
    pub fix: bool,
    pub yes: bool,
    /// `--start` / `--no-start` (default: start the notebook's kernel).
    pub start: doctor::start::StartMode,
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
        Some(target::resolve(ctx, view, &args.target)?)
    };
    if let Some(t) = &focus {
        kernels.retain(|k| match &t.kernel {
            Some(n) => k.entry.found.name.to_string_lossy() == *n,
            None => k
                .interpreter
                .python()
                .and_then(|p| classify::classify_interpreter(ctx, p))
                .is_some_and(|e| e.same_env(&t.env)),
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
            if !envs.iter().any(|e| e.same_env(&env)) {
                envs.push(env);
            }
        }
    }
    if focus.is_none() {
        for cmd in ["python", "python3", "pip", "pip3", "jupyter"] {
            if let Some(p) = doctor::kernels::command_interpreter(ctx, &ctx.vars, cmd) {
                checked.commands.push(cmd.to_string());
                if let Some(env) = classify::classify_interpreter(ctx, &p) {
                    if !envs.iter().any(|e| e.same_env(&env)) {
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
        doctor::notebook::check_notebook(
            ctx,
            view,
            &kernels,
            nb,
            args.target.kernel.as_deref(),
            &mut findings,
        )
        .map_err(TargetError::Usage)?;
    }
    // The notebook and the kernel it runs come first in the report.
    let mut first: Vec<String> = checked.notebooks.clone();
    if let Some(nb) = &args.notebook {
        let path = ctx.cwd.join(nb);
        if let Some(k) = args.target.kernel.clone().or_else(|| {
            crate::notebook::read(&path)
                .ok()
                .and_then(|n| n.kernel_name)
        }) {
            first.push(k);
        }
    }
    let starts = doctor::start::check(
        ctx,
        view,
        &kernels,
        args.notebook.as_deref(),
        args.start,
        &mut findings,
    );
    let mut report = Report::new(checked, findings, &first);
    report.starts = starts;
    Ok((report, kernels))
}

pub fn run(ctx: &Context, args: &DoctorArgs) -> anyhow::Result<i32> {
    let view = view::select(ctx, args.jupyter.as_deref())?;
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
    let prove = !matches!(args.start, doctor::start::StartMode::Never);
    let outcomes = apply_fixes(ctx, &view, &report, &kernels, args.yes, prove, args.json)?;
    let count = |o: Outcome| outcomes.iter().filter(|f| f.outcome == o).count();
    eprintln!(
        "{} fix(es) applied, {} refused, {} failed; checking again",
        count(Outcome::Applied),
        count(Outcome::Refused),
        count(Outcome::Failed)
    );
    let view = view::select(ctx, args.jupyter.as_deref())?;
    let (mut after, _) = diagnose(ctx, &view, args).map_err(|e| anyhow::anyhow!("{e}"))?;
    after.fixes = outcomes;
    render_report(&view, &after, args.json)?;
    Ok(if after.errors() > 0 { 1 } else { 0 })
}

/// Apply the automatic fixes, each printed first; destructive ones only with `--yes`. Every
/// fix attempted is reported applied, refused or failed (only the applied count as done).
fn apply_fixes(
    ctx: &Context,
    view: &JupyterView,
    report: &Report,
    kernels: &[ResolvedKernel],
    yes: bool,
    prove: bool,
    json: bool,
) -> anyhow::Result<Vec<FixOutcome>> {
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
        for s in f.all_subjects() {
            if !names.contains(&s) {
                names.push(s);
            }
        }
    }
    let mut outcomes = Vec::new();
    for n in names {
        eprintln!("fixing kernel {n}");
        for k in kernels
            .iter()
            .filter(|k| k.entry.found.name.to_string_lossy() == n)
        {
            let mut r = crate::cli::kernel::fix_one(ctx, view, k, yes, json)?;
            // A rewritten kernel is proven by starting it, and put back when it fails.
            if prove {
                doctor::start::prove_rewrite(ctx, view, &mut r);
            }
            for o in r.outcomes {
                let word = match o.outcome {
                    Outcome::Applied => "applied",
                    Outcome::Refused => "refused",
                    Outcome::Failed => "failed",
                };
                eprintln!("  {word}: {} ({}) — {}", o.id.as_str(), n, o.detail);
                outcomes.push(o);
            }
        }
    }
    Ok(outcomes)
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

/// What `kip install --notebook NB --missing` is to do.
pub enum NotebookMissing {
    /// The distributions of every `notebook-import-missing` finding: (module, distribution,
    /// assumed).
    Install(Vec<(String, String, bool)>),
    /// The notebook's kernel is not the env the user meant (`notebook-env-mismatch`) or cannot
    /// start here (`notebook-kernel-missing`): installing into whatever it runs would serve
    /// the wrong env. The findings' messages and commands, for the user to run first.
    Refused(Vec<Finding>),
}

/// For `kip install --notebook NB --missing [--kernel NAME]`: with `--kernel`, the imports
/// are checked against that kernel (the user said where to install) and nothing is refused.
pub fn missing_distributions(
    ctx: &Context,
    view: &JupyterView,
    nb: &Path,
    kernel: Option<&str>,
) -> Result<NotebookMissing, String> {
    let listing = view::list_kernels(ctx, view);
    let kernels = resolve_all(ctx, view, &listing);
    let mut findings = Vec::new();
    doctor::notebook::check_notebook(ctx, view, &kernels, nb, kernel, &mut findings)?;
    let refused: Vec<Finding> = findings
        .iter()
        .filter(|f| {
            matches!(
                f.id,
                FindingId::NotebookEnvMismatch | FindingId::NotebookKernelMissing
            )
        })
        .cloned()
        .collect();
    if !refused.is_empty() {
        return Ok(NotebookMissing::Refused(refused));
    }
    Ok(NotebookMissing::Install(
        findings
            .into_iter()
            .filter(|f| f.id == FindingId::NotebookImportMissing)
            .filter_map(|f| {
                let m = f.module?;
                let assumed = f.distribution.is_none();
                Some((m.clone(), f.distribution.unwrap_or(m), assumed))
            })
            .collect(),
    ))
}
