//! `kip doctor [NOTEBOOK] [TARGET] [--fix [--yes]]`: every check once; with `--fix`, the
//! automatic repairs (through the kernel flow's `fix_one`), then every check again.

use std::path::PathBuf;

use crate::context::Context;
use crate::doctor::finding::{Finding, FixOutcome, Outcome, Severity};
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

/// Adds `env` to the envs to check unless it is one of them already.
fn add_env(envs: &mut Vec<Environment>, env: Environment) {
    // By path first: with a thousand kernels on ten envs, comparing by file identity would
    // `stat` every listed env for every kernel.
    let listed = envs
        .iter()
        .any(|e| e.prefix == env.prefix && e.version == env.version)
        || envs.iter().any(|e| e.same_env(&env));
    if !listed {
        envs.push(env);
    }
}

/// The notebook's kernel name and a context in the notebook's folder: that kernel runs there,
/// so its `!` commands (a pyenv shim's `.python-version`, a relative path) are judged there.
fn notebook_kernel_ctx(ctx: &Context, args: &Request) -> Option<(String, Context)> {
    let path = ctx.cwd.join(args.notebook.as_ref()?);
    let name = args
        .target
        .kernel
        .clone()
        .or_else(|| crate::notebook::read(&path).ok()?.kernel_name)?;
    let dir = path.parent()?.to_path_buf();
    Some((name, Context::new(ctx.os, ctx.vars.clone(), dir)))
}

/// Run every check once.
fn diagnose(
    ctx: &Context,
    prober: &Prober,
    view: &JupyterView,
    r: &mut dyn Reporter,
    args: &Request,
) -> Result<(doctor::Report, Vec<ResolvedKernel>), TargetError> {
    // Checking only reads (fixes come after, in `apply_fixes`): each interpreter is
    // classified, and each environment's sys.path read, once.
    let _memo = crate::python::memo::scope();
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
                .is_some_and(|e| e.same_env(&t.env)),
        });
        envs.push(t.env.clone());
    }
    if focus.is_none() {
        doctor::kernels::check_skipped_dirs(&listing.skipped, &mut findings);
    }
    let nb_ctx = notebook_kernel_ctx(ctx, args);
    for k in &kernels {
        let name = k.entry.found.name.to_string_lossy();
        checked.kernels.push(name.clone());
        let kctx = match &nb_ctx {
            Some((n, c)) if *n == name => c,
            _ => ctx,
        };
        doctor::kernels::check_kernel(kctx, view, k, &mut findings);
        doctor::name_elsewhere::check(ctx, view, k, &mut findings);
        if let Some(env) = k
            .interpreter
            .python()
            .filter(|p| p.exists())
            .and_then(|p| classify::classify_interpreter(ctx, p))
        {
            add_env(&mut envs, env);
        }
    }
    if focus.is_none() {
        for cmd in ["python", "python3", "pip", "pip3", "jupyter"] {
            if let Some(p) = doctor::kernels::command_interpreter(ctx, &ctx.vars, cmd) {
                checked.commands.push(cmd.to_string());
                if let Some(env) = classify::classify_interpreter(ctx, &p) {
                    add_env(&mut envs, env);
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
        doctor::ephemeral::check(env, &mut findings);
        doctor::placeholder::check_env(env, &mut findings);
    }
    check_running(ctx, focus.as_ref(), &mut findings);
    if let Some(nb) = &args.notebook {
        checked.notebooks.push(nb.display().to_string());
        doctor::notebook::check_notebook(
            ctx,
            prober,
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
    first.extend(nb_ctx.map(|(k, _)| k));
    let starts = doctor::start::check(
        ctx,
        view,
        &kernels,
        args.notebook.as_deref(),
        args.start,
        &mut findings,
    );
    let mut report = doctor::Report::new(checked, findings, &first);
    report.starts = starts;
    Ok((report, kernels))
}

/// `kernel-state-stale` for the running kernel: the target's (`--kernel-pid`,
/// `--connection-file`), else the one kip runs inside.
fn check_running(ctx: &Context, focus: Option<&target::Target>, findings: &mut Vec<Finding>) {
    let running = match focus {
        Some(t) => t.pid.map(|pid| (t.env.clone(), t.kernel.clone(), pid)),
        None => crate::jupyter::runtime::enclosing_kernel().and_then(|k| {
            classify::classify_interpreter(ctx, &k.interpreter).map(|e| (e, k.kernel_name, k.pid))
        }),
    };
    if let Some((env, kernel, pid)) = &running {
        doctor::stale::check(env, kernel.as_deref(), *pid, findings);
    }
}

pub fn run(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    args: &Request,
) -> anyhow::Result<(Report, Status)> {
    let view = view::select(ctx, prober, args.target.jupyter.as_deref())?;
    let (report, kernels) = match diagnose(ctx, prober, &view, r, args) {
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
    let prove = !matches!(args.start, doctor::start::StartMode::Never);
    let outcomes = apply_fixes(ctx, prober, r, &view, &report, &kernels, args.yes, prove)?;
    let count = |o: Outcome| outcomes.iter().filter(|f| f.outcome == o).count();
    r.event(Event::note(format!(
        "{} fix(es) applied, {} refused, {} failed; checking again",
        count(Outcome::Applied),
        count(Outcome::Refused),
        count(Outcome::Failed)
    )));
    let view = view::select(ctx, prober, args.target.jupyter.as_deref())?;
    let (mut after, _) =
        diagnose(ctx, prober, &view, r, args).map_err(|e| anyhow::anyhow!("{e}"))?;
    after.fixes = outcomes;
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

/// Apply the automatic fixes, each reported first; destructive ones only with `--yes`. Every
/// fix attempted is reported applied, refused or failed (only the applied count as done).
#[allow(clippy::too_many_arguments)] // the flow's services plus the request's switches
fn apply_fixes(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    view: &JupyterView,
    report: &doctor::Report,
    kernels: &[ResolvedKernel],
    yes: bool,
    prove: bool,
) -> anyhow::Result<Vec<FixOutcome>> {
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
        for s in f.all_subjects() {
            if !names.contains(&s) {
                names.push(s);
            }
        }
    }
    let mut outcomes = Vec::new();
    for n in names {
        r.event(Event::note(format!("fixing kernel {n}")));
        for k in kernels
            .iter()
            .filter(|k| k.entry.found.name.to_string_lossy() == n)
        {
            let mut fixed = super::kernel::fix_one(ctx, prober, r, view, k, yes)?;
            // A rewritten kernel is proven by starting it, and put back when it fails.
            if prove {
                super::kernel::prove_rewrite(ctx, view, &mut fixed);
            }
            for o in fixed.outcomes {
                let word = match o.outcome {
                    Outcome::Applied => "applied",
                    Outcome::Refused => "refused",
                    Outcome::Failed => "failed",
                };
                r.event(Event::note(format!(
                    "  {word}: {} ({}) — {}",
                    o.id.as_str(),
                    n,
                    o.detail
                )));
                outcomes.push(o);
            }
        }
    }
    Ok(outcomes)
}
