//! `kip install SPEC… [TARGET]`: install into exactly the target's environment with the
//! installer it wants, prove the import, and name the kernels that must restart.
//!
//! The request is resolved once before anything acts (the requirements, `--missing`'s
//! notebook imports included, and the target); progress goes to the reporter and the typed
//! [`Report`] comes back for a face to render.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::flows::Status;
use crate::install::changes::{running_kernels_to_tell, Change, RunningKernel, Snapshot};
use crate::install::commands::{self, CondaTool, InstallOptions};
use crate::install::index;
use crate::install::lock::EnvLock;
use crate::install::names;
use crate::install::plan::{self, InstallerChoice, Plan, PlanInput, Refusal, Step};
use crate::install::requirement::{self, Requirement};
use crate::install::run::{self, Outcome};
use crate::install::satisfied;
use crate::install::target::{Target, TargetArgs};
use crate::install::tools;
use crate::install::verify::{self, ImportResult};
use crate::jupyter::view;
use crate::process;
use crate::python::probe::Prober;
use crate::python::site;
use crate::report::{Event, Reporter};

/// Everything `kip install` was given, without any face's types.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub specs: Vec<String>,
    pub target: TargetArgs,
    pub jupyter: Option<PathBuf>,
    pub installer: Option<InstallerChoice>,
    pub options: InstallOptions,
    pub exact: bool,
    /// `--missing`: add the notebook's missing imports to the requirements.
    pub missing: bool,
    pub yes: bool,
}

/// What `kip install` did: `result` once the target was chosen and the plan decided (the
/// JSON document of docs/json.md), `None` when it ended before (bad input, no target).
#[derive(Debug, Default)]
pub struct Report {
    pub result: Option<Installed>,
}

#[derive(Debug, Serialize)]
pub struct Installed {
    pub target: TargetReport,
    pub installer: String,
    pub index: String,
    pub requested: Vec<String>,
    pub renamed: Vec<Renamed>,
    pub commands: Vec<String>,
    pub dry_run: bool,
    pub installed_from: Vec<Source>,
    /// Requested distributions already installed at an accepted version: no installer ran.
    pub already_satisfied: Vec<satisfied::Satisfied>,
    /// Distributions in the environment before and after (added, replaced, removed).
    pub changed: Vec<Change>,
    pub proof: Vec<ImportResult>,
    pub restart: Vec<RunningKernel>,
    pub ok: bool,
    pub error: Option<String>,
    /// When kip declined because installing would not help (a temporary uv environment, a
    /// running kernel that must restart): the command or step that does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TargetReport {
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub python: PathBuf,
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub prefix: PathBuf,
    pub kind: &'static str,
    pub kernel: Option<String>,
    pub why: String,
}

#[derive(Debug, Serialize)]
pub struct Renamed {
    pub typed: String,
    pub installed: String,
    pub why: String,
}

#[derive(Debug, Serialize)]
pub struct Source {
    pub requirement: String,
    pub from: &'static str,
}

/// The requirements as resolved before acting: the typed ones plus, with `--missing`, the
/// distributions of the notebook's missing imports (already mapped, so kept exactly).
struct Requirements {
    specs: Vec<String>,
    exact: bool,
}

fn usage(r: &mut dyn Reporter, message: impl Into<String>) -> (Report, Status) {
    r.event(Event::error("install", message));
    (Report::default(), Status::Usage)
}

#[allow(clippy::too_many_lines)] // one install, read top to bottom: target, guards, plan, run, proof
pub fn run(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    args: &Request,
) -> anyhow::Result<(Report, Status)> {
    let (wanted, mut reqs) = match requirements(ctx, prober, r, args)? {
        Ok(w) => w,
        Err(status) => return Ok((Report::default(), status)),
    };
    r.busy(Some("finding the target environment"));
    let resolved = super::resolve_target(
        ctx,
        prober,
        r,
        "install",
        args.jupyter.as_deref(),
        &args.target,
    );
    r.busy(None);
    let target = match resolved? {
        Ok(t) => t,
        Err(status) => return Ok((Report::default(), status)),
    };

    let renamed = if wanted.exact {
        Vec::new()
    } else {
        map_import_names(ctx, r, &target, &mut reqs)
    };

    let tools = tools::find_tools(ctx, &target.env);
    let index = index::for_target(
        ctx,
        &target.env.prefix,
        &args.options.index,
        tools.uv.as_deref(),
    );
    let choice = args.installer.unwrap_or(InstallerChoice::Auto);
    let em_message = target
        .env
        .externally_managed
        .as_deref()
        .map(externally_managed_message);
    let input = PlanInput {
        env: &target.env,
        python: &target.python,
        requirements: &reqs,
        options: &args.options,
        choice,
        tools: &tools,
        uv_index_args: &index.uv_args,
        externally_managed_message: em_message,
    };
    let mut report = new_report(&target, args, &reqs, renamed);
    if let Some((msg, fix)) = declined(&target, &report.requested) {
        return Ok(decline(r, report, msg, fix));
    }
    let plan = match plan::plan(&input) {
        Ok(p) => p,
        Err(refusal) => {
            let msg = refusal_message(&refusal, &target, &report.requested);
            r.event(Event::error("install", msg.clone()));
            report.error = Some(msg);
            return Ok(done(report, Status::Failure));
        }
    };
    report.installer = plan.primary.installer.to_string();
    report.index = if plan.runs_uv() {
        index.uv_description.clone()
    } else {
        index.pip_description.clone()
    };
    r.event(Event::note(report.index.clone()));
    warn_project_owned(r, &target);
    for n in &plan.notes {
        r.event(Event::note(n.clone()));
    }
    report.commands = planned_commands(&plan, &target, &args.options);
    let lock = lock_unless_dry_run(r, &target, args.options.dry_run)?;
    if let Some(found) = already_satisfied(ctx, prober, args, &target, &plan, &reqs) {
        return Ok(satisfied_already(
            ctx, r, args, &target, &reqs, report, found,
        ));
    }
    if args.options.dry_run {
        // The commands themselves are the report's (stdout, or stderr beside --json).
        r.event(Event::note("dry run: would run"));
        report.ok = true;
        return Ok(done(report, Status::Success));
    }

    let _lock = lock;
    let before = Snapshot::of(&target.env.site_packages);
    let executed = execute(ctx, r, args, &target, &plan, &reqs, &mut report);
    report.changed = Snapshot::of(&target.env.site_packages).changes_since(&before);
    super::record_changes(ctx, r, &target.env.prefix, &report.changed);
    if let Some(status) = executed? {
        return Ok(done(report, status));
    }

    prove(ctx, r, &target, &reqs, &mut report);
    report.restart = running_kernels_to_tell(
        ctx,
        &target.env.prefix,
        &report.changed,
        !args.options.editable.is_empty(),
    );
    for k in &report.restart {
        r.event(Event::note(k.advice.clone()));
    }
    Ok(proved(report))
}

/// The requirements as typed (plus `--missing`'s), every one parsed and every named file
/// checked before anything runs; `Err(status)` once the bad input was reported.
fn requirements(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    args: &Request,
) -> anyhow::Result<Result<(Requirements, Vec<Requirement>), Status>> {
    let wanted = if args.missing {
        match notebook_missing(ctx, prober, r, args)? {
            Ok(w) => w,
            Err(status) => return Ok(Err(status)),
        }
    } else {
        Requirements {
            specs: args.specs.clone(),
            exact: args.exact,
        }
    };
    if wanted.specs.is_empty()
        && args.options.requirement_files.is_empty()
        && args.options.editable.is_empty()
    {
        return Ok(Err(usage(
            r,
            "nothing to install (give a requirement, -r FILE or -e PATH)",
        )
        .1));
    }
    // Parse every requirement and check every named file before anything runs: bad input
    // exits 2.
    if let Some(msg) = missing_input_file(ctx, &args.options) {
        return Ok(Err(usage(r, msg).1));
    }
    let mut reqs: Vec<Requirement> = Vec::new();
    for s in &wanted.specs {
        match requirement::parse(s, &ctx.cwd) {
            Ok(req) => reqs.push(req),
            Err(e) => return Ok(Err(usage(r, e.to_string()).1)),
        }
    }
    Ok(Ok((wanted, reqs)))
}

fn new_report(
    target: &Target,
    args: &Request,
    reqs: &[Requirement],
    renamed: Vec<Renamed>,
) -> Installed {
    Installed {
        target: TargetReport {
            python: target.python.clone(),
            prefix: target.env.prefix.clone(),
            kind: target.env.kind.as_str(),
            kernel: target.kernel.clone(),
            why: target.why.clone(),
        },
        installer: String::new(),
        index: String::new(),
        requested: reqs.iter().map(|r| r.installer_arg()).collect(),
        renamed,
        commands: Vec::new(),
        dry_run: args.options.dry_run,
        installed_from: Vec::new(),
        already_satisfied: Vec::new(),
        changed: Vec::new(),
        proof: Vec::new(),
        restart: Vec::new(),
        ok: false,
        error: None,
        fix: None,
    }
}

/// The commands the plan runs, as shell lines (a conda plan's PyPI step included).
fn planned_commands(plan: &Plan, target: &Target, options: &InstallOptions) -> Vec<String> {
    let mut steps: Vec<&Step> = Vec::new();
    if let Some(b) = &plan.bootstrap {
        steps.push(b);
    }
    steps.push(&plan.primary);
    let mut commands: Vec<String> = steps
        .iter()
        .map(|s| commands::shell_line(&s.argv))
        .collect();
    if let Some(fb) = &plan.pypi_fallback {
        if !fb.direct.is_empty() {
            commands.push(commands::shell_line(
                &fb.step(&target.python, &fb.direct, options).argv,
            ));
        }
    }
    commands
}

/// The environment's install lock, taken first so that a concurrent install into it is
/// finished before its files are read; a dry run reads without it.
fn lock_unless_dry_run(
    r: &mut dyn Reporter,
    target: &Target,
    dry_run: bool,
) -> anyhow::Result<Option<EnvLock>> {
    if dry_run {
        return Ok(None);
    }
    EnvLock::acquire(&target.env.prefix, |who| {
        r.event(Event::note(who.to_string()))
    })
    .map(Some)
    .map_err(|e| anyhow::anyhow!("cannot lock {}: {e}", target.env.prefix.display()))
}

/// Nothing to install: say so, and prove the imports unless this is a dry run.
fn satisfied_already(
    ctx: &Context,
    r: &mut dyn Reporter,
    args: &Request,
    target: &Target,
    reqs: &[Requirement],
    mut report: Installed,
    found: Vec<satisfied::Satisfied>,
) -> (Report, Status) {
    for s in &found {
        r.event(Event::note(format!(
            "already satisfied: {} {} (nothing to install; -U upgrades)",
            s.name, s.version
        )));
    }
    report.commands.clear();
    report.already_satisfied = found;
    if args.options.dry_run {
        r.event(Event::note("dry run: nothing would run"));
        report.ok = true;
        return done(report, Status::Success);
    }
    prove(ctx, r, target, reqs, &mut report);
    proved(report)
}

/// Why installing would not help, and what does: `env-ephemeral` (uv's temporary layer: an
/// install there vanishes; the lasting fix is named), or `kernel-state-stale` (the running
/// kernel target already has the distributions on disk, where it cannot see them: a restart).
fn declined(target: &Target, requested: &[String]) -> Option<(String, String)> {
    if let Some(layer) = crate::doctor::ephemeral::layer(&target.env) {
        let fix = layer.lasting_fix(requested);
        let msg = format!(
            "{} (env-ephemeral); kip does not install there. Lasting fix: {fix}",
            layer.message()
        );
        return Some((msg, fix));
    }
    let pid = target.pid?;
    let names: Vec<String> = requested
        .iter()
        .filter_map(|r| {
            let name: String = r
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            (!name.is_empty()).then(|| names::normalize_dist_name(&name))
        })
        .collect();
    let hidden = crate::doctor::stale::hidden_distributions(&target.env, pid, &names);
    let (name, u) = hidden.first()?;
    let fix = crate::doctor::stale::restart_fix(target.kernel.as_deref(), pid);
    let msg = format!(
        "{name} is already installed, but the running kernel cannot import it: {} (kernel-state-stale); installing again changes nothing. {fix}",
        u.why
    );
    Some((msg, fix))
}

fn decline(
    r: &mut dyn Reporter,
    mut report: Installed,
    msg: String,
    fix: String,
) -> (Report, Status) {
    r.event(Event::error("install", msg.clone()));
    report.error = Some(msg);
    report.fix = Some(fix);
    done(report, Status::Failure)
}

fn done(report: Installed, status: Status) -> (Report, Status) {
    (
        Report {
            result: Some(report),
        },
        status,
    )
}

/// The end of an install that got as far as the proof: it succeeded when every import did.
fn proved(mut report: Installed) -> (Report, Status) {
    report.ok = report.proof.iter().all(|p| p.ok) && report.error.is_none();
    let status = if report.ok {
        Status::Success
    } else {
        Status::Failure
    };
    done(report, status)
}

/// A `-r`/`-c` file that cannot be read, or an `-e` path that does not exist (a VCS or other
/// URL after `-e` is the installer's to check), described for the user.
fn missing_input_file(ctx: &Context, options: &InstallOptions) -> Option<String> {
    let files = options
        .requirement_files
        .iter()
        .map(|f| ("-r", f))
        .chain(options.constraints.iter().map(|f| ("-c", f)));
    for (flag, f) in files {
        let path = ctx.cwd.join(f);
        let bytes = match crate::files::read(&path) {
            Ok(b) => b,
            Err(e) => {
                return Some(format!(
                    "{flag} {}: cannot read {}: {e}",
                    f.display(),
                    path.display()
                ))
            }
        };
        // pip decodes a BOM'd UTF-16/32 file too; without a BOM both pip and uv want UTF-8.
        let bom = [&b"\xFF\xFE"[..], b"\xFE\xFF", b"\xEF\xBB\xBF"]
            .iter()
            .any(|m| bytes.starts_with(m));
        if let (false, Err(e)) = (bom, std::str::from_utf8(&bytes)) {
            return Some(format!(
                "{flag} {}: {} is not UTF-8 text ({e}); save it as UTF-8",
                f.display(),
                path.display()
            ));
        }
    }
    for p in &options.editable {
        let text = p.to_string_lossy();
        let url = text.contains("://") || text.starts_with("git+") || text.starts_with("hg+");
        let path = ctx.cwd.join(p);
        if !url && !path.exists() {
            return Some(format!(
                "-e {}: {} does not exist (an editable install needs a local project directory)",
                p.display(),
                path.display()
            ));
        }
    }
    None
}

/// `--missing`: the typed requirements plus the distributions of the notebook's imports that
/// its kernel cannot import (already mapped, so kept exactly). `Err(status)` ends the command.
fn notebook_missing(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    args: &Request,
) -> anyhow::Result<Result<Requirements, Status>> {
    let Some(nb) = &args.target.notebook else {
        r.event(Event::error(
            "install",
            "--missing needs --notebook FILE.ipynb",
        ));
        return Ok(Err(Status::Usage));
    };
    let view = view::select(ctx, prober, args.jupyter.as_deref())?;
    let kernel = args.target.kernel.as_deref();
    let missing =
        match crate::doctor::notebook::missing_distributions(ctx, prober, &view, nb, kernel) {
            Ok(crate::doctor::notebook::NotebookMissing::Install(m)) => m,
            Ok(crate::doctor::notebook::NotebookMissing::Refused(findings)) => {
                for f in findings {
                    r.event(Event::error(
                        "install",
                        format!(
                            "{}\n  {}\n  run first: {}",
                            f.message, f.explanation, f.fix.text
                        ),
                    ));
                }
                r.event(Event::error(
                    "install",
                    "nothing installed; or say where to install with --kernel NAME",
                ));
                return Ok(Err(Status::Failure));
            }
            Err(e) => {
                r.event(Event::error("install", e));
                return Ok(Err(Status::Usage));
            }
        };
    if missing.is_empty() {
        r.event(Event::note(format!(
            "{}: every import is already importable in its kernel",
            nb.display()
        )));
        return Ok(Err(Status::Success));
    }
    let mut specs = args.specs.clone();
    for (module, dist, assumed) in &missing {
        if *assumed {
            r.event(Event::note(format!("{module}: no known distribution provides it; assuming the distribution is named \"{dist}\"")));
        } else if module != dist {
            r.event(Event::note(format!("{module}: provided by \"{dist}\"")));
        }
        specs.push(dist.clone());
    }
    Ok(Ok(Requirements { specs, exact: true }))
}

/// Import names typed as requirements (`sklearn`) become their distributions
/// (`scikit-learn`), each rename printed.
fn map_import_names(
    ctx: &Context,
    reporter: &mut dyn Reporter,
    target: &Target,
    reqs: &mut [Requirement],
) -> Vec<Renamed> {
    let mut renamed = Vec::new();
    // Other envs' metadata is only consulted for names that are neither in kip's table nor
    // already a distribution installed in the target (the common, fast case).
    let installed: Vec<String> = target
        .env
        .site_packages
        .iter()
        .flat_map(|sp| site::metadata_dirs(sp))
        .map(|(name, _)| name)
        .collect();
    let unknown: Vec<String> = reqs
        .iter()
        .filter_map(|r| match r {
            Requirement::Named { name, .. }
                if names::distribution_for_import(name).is_none()
                    && !installed.contains(&names::normalize_dist_name(name)) =>
            {
                Some(name.clone())
            }
            _ => None,
        })
        .collect();
    let local = crate::doctor::notebook::local_metadata(ctx, &unknown);
    for r in reqs.iter_mut() {
        if let Requirement::Named { name, .. } = r {
            let m = names::map_import(name, &local);
            if m.renames() && !matches!(m.source, names::MappingSource::Assumed) {
                reporter.event(Event::note(m.explain()));
                renamed.push(Renamed {
                    typed: name.clone(),
                    installed: m.distribution.clone(),
                    why: m.explain(),
                });
                *r = r.with_name(&m.distribution);
            }
        }
    }
    renamed
}

/// The disk's answer to "would this install change nothing?" (see `install::satisfied`), for
/// the installers that only install; `pixi add` also records the requirement in the
/// manifest, and pip/uv settings in the environment (`PIP_UPGRADE`, `UV_REINSTALL`, …) can
/// make a "no-op" do work, so those always run.
fn already_satisfied(
    ctx: &Context,
    prober: &Prober,
    args: &Request,
    target: &Target,
    plan: &Plan,
    reqs: &[Requirement],
) -> Option<Vec<satisfied::Satisfied>> {
    const CHANGES_A_NO_OP: [&str; 8] = [
        "PIP_UPGRADE",
        "PIP_FORCE_REINSTALL",
        "PIP_IGNORE_INSTALLED",
        "PIP_UPGRADE_STRATEGY",
        "UV_UPGRADE",
        "UV_UPGRADE_PACKAGE",
        "UV_REINSTALL",
        "UV_REINSTALL_PACKAGE",
    ];
    if plan.primary.installer == "pixi"
        || plan.bootstrap.is_some()
        || CHANGES_A_NO_OP.iter().any(|k| ctx.vars.get(k).is_some())
    {
        return None;
    }
    let info = prober.query(&target.python).ok()?;
    let markers = satisfied::marker_environment(info.markers.as_ref()?)?;
    satisfied::already_satisfied(reqs, &args.options, &target.env.site_packages, &markers)
}

/// The import proof: the requested distributions' top-level modules, imported by the target
/// interpreter with the kernel's environment; each result is reported.
fn prove(
    ctx: &Context,
    r: &mut dyn Reporter,
    target: &Target,
    reqs: &[Requirement],
    report: &mut Installed,
) {
    let modules = modules_to_prove(target, reqs);
    let env = target
        .kernel_env
        .clone()
        .unwrap_or_else(|| ctx.vars.clone());
    match verify::prove_imports(
        &target.python,
        &env,
        &modules,
        process::import_timeout(&ctx.vars),
    ) {
        Ok(results) => report.proof = results,
        Err(e) => report.error = Some(e.to_string()),
    }
    for p in &report.proof {
        r.event(Event::Proof { result: p.clone() });
    }
}

/// Run the plan's steps; `Ok(Some(status))` ends the command early with that status.
fn execute(
    ctx: &Context,
    r: &mut dyn Reporter,
    args: &Request,
    target: &Target,
    plan: &Plan,
    reqs: &[Requirement],
    report: &mut Installed,
) -> anyhow::Result<Option<Status>> {
    let env = run::installer_env(&ctx.vars);
    if let Some(b) = &plan.bootstrap {
        if let Some(status) = run_step(r, b, &env, false, report)?.0 {
            return Ok(Some(status));
        }
    }
    let conda = plan.pypi_fallback.is_some();
    if !conda && target.env.kind.is_conda_like() && matches!(plan.primary.installer, "uv" | "pip") {
        let pypi: Vec<String> = reqs.iter().map(Requirement::installer_arg).collect();
        if let Some(status) = refuse_replacing_conda_owned(r, args, target, &pypi) {
            return Ok(Some(status));
        }
    }
    let (outcome, out) = run_step(r, &plan.primary, &env, conda, report)?;
    let mut missing: Vec<String> = Vec::new();
    if let Some(status) = outcome {
        let tool = CondaTool::from_exe(Path::new(&plan.primary.argv[0]));
        match tool.and_then(|t| commands::parse_conda_not_found(t, &out.stdout, &out.stderr)) {
            Some(names) if conda => {
                report.error = None;
                r.event(Event::note(format!(
                    "not in the conda channels: {} — installing from PyPI instead",
                    names.join(", ")
                )));
                missing = names;
                // The channel lacked some names: conda installed nothing. Retry the rest.
                let tool = tool.unwrap_or(CondaTool::Conda);
                if let Some(step) = conda_retry(tool, plan, target, reqs, &missing, &args.options) {
                    if let Some(status) = run_step(r, &step, &env, true, report)?.0 {
                        return Ok(Some(status));
                    }
                }
            }
            _ => {
                // A captured (conda) run was not shown live; uv and pip already spoke, and
                // run_step said which failed.
                if let (true, Some(e)) = (conda, &report.error) {
                    r.event(Event::error("install", e.clone()));
                    let tail = out.stderr.lines().last().unwrap_or("");
                    if !tail.is_empty() {
                        r.event(Event::note(format!("  {tail}")));
                    }
                }
                return Ok(Some(status));
            }
        }
    }
    for r in reqs {
        if conda
            && requirement::to_conda_spec(r).is_some()
            && !missing
                .iter()
                .any(|m| r.name().is_some_and(|n| names::normalize_dist_name(m) == n))
        {
            report.installed_from.push(Source {
                requirement: r.installer_arg(),
                from: "conda",
            });
        }
    }
    if let Some(fb) = &plan.pypi_fallback {
        let mut pypi: Vec<String> = fb.direct.clone();
        for r in reqs {
            if r.name()
                .is_some_and(|n| missing.iter().any(|m| names::normalize_dist_name(m) == n))
            {
                pypi.push(r.installer_arg());
            }
        }
        if !pypi.is_empty() {
            if let Some(status) = refuse_replacing_conda_owned(r, args, target, &pypi) {
                return Ok(Some(status));
            }
            let step = fb.step(&target.python, &pypi, &args.options);
            if let Some(status) = run_step(r, &step, &env, false, report)?.0 {
                return Ok(Some(status));
            }
            for p in pypi {
                report.installed_from.push(Source {
                    requirement: p,
                    from: "pypi",
                });
            }
        }
    } else {
        for r in reqs {
            report.installed_from.push(Source {
                requirement: r.installer_arg(),
                from: "pypi",
            });
        }
    }
    Ok(None)
}

/// After conda reported `missing` names, the conda step for the rest (`None`: nothing left).
fn conda_retry(
    tool: CondaTool,
    plan: &Plan,
    target: &Target,
    reqs: &[Requirement],
    missing: &[String],
    options: &InstallOptions,
) -> Option<Step> {
    let rest: Vec<String> = reqs
        .iter()
        .filter_map(|r| {
            requirement::to_conda_spec(r).filter(|_| {
                !missing
                    .iter()
                    .any(|m| r.name().is_some_and(|n| names::normalize_dist_name(m) == n))
            })
        })
        .collect();
    if rest.is_empty() {
        return None;
    }
    let exe = PathBuf::from(&plan.primary.argv[0]);
    Some(Step {
        installer: tool.name(),
        argv: commands::conda_install(tool, &exe, &target.env.prefix, &rest, options),
        purpose: "from the conda channels, by prefix".into(),
    })
}

/// Run one step; returns the status to end with when it failed.
fn run_step(
    r: &mut dyn Reporter,
    step: &Step,
    env: &crate::envvars::EnvVars,
    capture: bool,
    report: &mut Installed,
) -> anyhow::Result<(Option<Status>, run::Output)> {
    r.event(Event::Running {
        command: commands::shell_line(&step.argv),
    });
    let (outcome, out) = run::run_installer(&step.argv, env, capture, &mut |line| {
        r.event(Event::InstallerOutput {
            line: line.to_string(),
        })
    })
    .map_err(|e| anyhow::anyhow!("could not start {}: {e}", step.argv[0].to_string_lossy()))?;
    if capture && !out.stdout.is_empty() && !out.stdout.trim_start().starts_with('{') {
        r.event(Event::InstallerStdout {
            text: out.stdout.clone(),
        });
    }
    match outcome {
        Outcome::Success => Ok((None, out)),
        Outcome::Interrupted => {
            report.error = Some("interrupted".into());
            r.event(Event::error(
                "install",
                "interrupted; the installer was stopped",
            ));
            Ok((Some(Status::Interrupted), out))
        }
        Outcome::Failed { code, signal } => {
            let msg = match (code, signal) {
                (Some(c), _) => format!("{} failed with exit code {c}", step.installer),
                (None, Some(s)) => format!("{} was killed by signal {s}", step.installer),
                _ => format!("{} failed", step.installer),
            };
            // A captured (conda) failure may be "not in the channels", which the caller turns
            // into the PyPI step; it reports real failures itself.
            if !capture {
                r.event(Event::error("install", msg.clone()));
            }
            report.error = Some(msg);
            Ok((Some(Status::Failure), out))
        }
    }
}

/// Top-level modules of the installed distributions (after the install), from their metadata.
fn modules_to_prove(target: &Target, reqs: &[Requirement]) -> Vec<String> {
    let mut modules = Vec::new();
    for sp in &target.env.site_packages {
        for d in site::installed_distributions(sp) {
            if reqs
                .iter()
                .any(|r| r.name().is_some_and(|n| n == d.normalized_name))
            {
                for m in d.top_level {
                    if !m.starts_with('_') && !modules.contains(&m) {
                        modules.push(m);
                    }
                }
            }
        }
    }
    modules
}

fn externally_managed_message(marker: &Path) -> String {
    let text = crate::files::read_to_string(marker).unwrap_or_default();
    let mut in_section = false;
    let mut msg = String::new();
    let mut collecting = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_section = t == "[externally-managed]";
            collecting = false;
            continue;
        }
        if !in_section {
            continue;
        }
        if let Some(v) = t
            .strip_prefix("Error")
            .and_then(|r| r.trim_start().strip_prefix('='))
        {
            msg = v.trim().to_string();
            collecting = true;
        } else if collecting && (line.starts_with(' ') || line.starts_with('\t')) {
            msg.push('\n');
            msg.push_str(t);
        } else {
            collecting = false;
        }
    }
    if msg.is_empty() {
        format!("marker {}", marker.display())
    } else {
        msg
    }
}

fn refusal_message(r: &Refusal, target: &Target, reqs: &[String]) -> String {
    match r {
        Refusal::ExternallyManaged { prefix, marker, message } => format!(
            "{} is externally managed (PEP 668, {}):\n{message}\n\nWhy: installing into the system Python can break the OS's own tools, so pip and uv refuse, and kip never works around it silently.\n{}",
            prefix.display(),
            marker.display(),
            plan::venv_way_out(&target.python, reqs)
        ),
        Refusal::NotWritable { dir } => format!(
            "{} is not writable by this user, so the install would fail. Never use sudo for this: create a venv you own (`uv venv DIR` or `python3 -m venv DIR`) and register it with `kip kernel add DIR`",
            dir.display()
        ),
        other => other.to_string(),
    }
}

/// Warn when a project lock file owns the target venv: `uv sync` / `poetry install --sync`
/// would remove what kip installs.
fn warn_project_owned(r: &mut dyn Reporter, target: &Target) {
    let Some(project) = target.env.prefix.parent() else {
        return;
    };
    if !project.join("pyproject.toml").is_file() {
        return;
    }
    if project.join("uv.lock").is_file() {
        r.event(Event::note(format!(
            "warning: {} belongs to the uv project at {}; a later `uv sync` will remove packages installed this way. To keep them: `uv add --project {} PKG`",
            target.env.prefix.display(),
            project.display(),
            project.display()
        )));
    } else if project.join("poetry.lock").is_file() {
        r.event(Event::note(format!(
            "warning: {} belongs to the poetry project at {}; `poetry install --sync` will remove packages installed this way. To keep them: `poetry add PKG` in {}",
            target.env.prefix.display(),
            project.display(),
            project.display()
        )));
    }
}

/// Distributions among `reqs` that conda owns in `prefix` (a `conda-meta/<name>-*.json`).
/// pip or uv installing `pypi` into a conda env would replace conda-owned distributions:
/// say which and fail, unless `--yes` allows it.
fn refuse_replacing_conda_owned(
    r: &mut dyn Reporter,
    args: &Request,
    target: &Target,
    pypi: &[String],
) -> Option<Status> {
    let owned = conda_owned(&target.env.prefix, pypi);
    if owned.is_empty() || args.yes {
        return None;
    }
    r.event(Event::error(
        "install",
        format!(
            "installing {} from PyPI would replace conda-owned {}; re-run with --yes to allow it",
            pypi.join(" "),
            owned.join(", ")
        ),
    ));
    Some(Status::Failure)
}

fn conda_owned(prefix: &Path, reqs: &[String]) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(prefix.join("conda-meta")) else {
        return Vec::new();
    };
    let records: Vec<String> = rd
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    reqs.iter()
        .filter_map(|r| requirement::parse(r, Path::new("/")).ok()?.name())
        .filter(|n| {
            let c = names::conda_name(n);
            records.iter().any(|f| {
                f.strip_prefix(&format!("{c}-"))
                    .is_some_and(|rest| rest.starts_with(|ch: char| ch.is_ascii_digit()))
            })
        })
        .collect()
}
