//! `kip install SPEC… [TARGET]`: install into exactly the target's environment with the
//! installer it wants, prove the import, and name the kernels that must restart.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::install::changes::{running_kernels_to_tell, Change, RunningKernel, Snapshot};
use crate::install::commands::{self, CondaTool, InstallOptions};
use crate::install::index::{self, IndexFlags};
use crate::install::lock::EnvLock;
use crate::install::names;
use crate::install::plan::{self, InstallerChoice, Plan, PlanInput, Refusal, Step};
use crate::install::requirement::{self, Requirement};
use crate::install::run::{self, Outcome};
use crate::install::satisfied;
use crate::install::target::{self, Target, TargetArgs, TargetError};
use crate::install::tools;
use crate::install::verify::{self, ImportResult};
use crate::jupyter::view;
use crate::process;
use crate::python::probe::Prober;
use crate::python::site;
use crate::render;

/// Everything `kip install` was given.
#[derive(Clone, Debug, Default)]
pub struct InstallArgs {
    pub specs: Vec<String>,
    pub target: TargetArgs,
    pub jupyter: Option<PathBuf>,
    pub installer: Option<InstallerChoice>,
    pub options: InstallOptions,
    pub exact: bool,
    /// `--missing`: add the notebook's missing imports to the requirements.
    pub missing: bool,
    pub yes: bool,
    pub json: bool,
}

#[derive(Serialize)]
struct Report {
    target: TargetReport,
    installer: String,
    index: String,
    requested: Vec<String>,
    renamed: Vec<Renamed>,
    commands: Vec<String>,
    dry_run: bool,
    installed_from: Vec<Source>,
    /// Requested distributions already installed at an accepted version: no installer ran.
    already_satisfied: Vec<satisfied::Satisfied>,
    /// Distributions in the environment before and after (added, replaced, removed).
    changed: Vec<Change>,
    proof: Vec<ImportResult>,
    restart: Vec<RunningKernel>,
    ok: bool,
    error: Option<String>,
}

#[derive(Serialize)]
struct TargetReport {
    python: PathBuf,
    prefix: PathBuf,
    kind: &'static str,
    kernel: Option<String>,
    why: String,
}

#[derive(Serialize)]
struct Renamed {
    typed: String,
    installed: String,
    why: String,
}

#[derive(Serialize)]
struct Source {
    requirement: String,
    from: &'static str,
}

/// Progress and results for people go to stderr, so stdout stays the JSON report (--json) or
/// the dry run's commands.
fn say(msg: &str) {
    eprintln!("{msg}");
}

pub fn run(ctx: &Context, prober: &Prober, args: &InstallArgs) -> anyhow::Result<i32> {
    let mut args = args.clone();
    if args.missing {
        if let Some(code) = add_notebook_missing(ctx, prober, &mut args)? {
            return Ok(code);
        }
    }
    let args = &args;
    if args.specs.is_empty()
        && args.options.requirement_files.is_empty()
        && args.options.editable.is_empty()
    {
        eprintln!("kip install: nothing to install (give a requirement, -r FILE or -e PATH)");
        return Ok(2);
    }
    // Parse every requirement and check every named file before anything runs: bad input
    // exits 2.
    if let Some(msg) = missing_input_file(ctx, &args.options) {
        eprintln!("kip install: {msg}");
        return Ok(2);
    }
    let mut reqs: Vec<Requirement> = Vec::new();
    for s in &args.specs {
        match requirement::parse(s, &ctx.cwd) {
            Ok(r) => reqs.push(r),
            Err(e) => {
                eprintln!("kip install: {e}");
                return Ok(2);
            }
        }
    }
    let spinner = render::spinner("finding the target environment");
    let resolved = target::resolve_with(ctx, prober, args.jupyter.as_deref(), &args.target)?;
    drop(spinner);
    let target = match resolved {
        Ok(t) => t,
        Err(TargetError::Usage(m)) => {
            eprintln!("kip install: {m}");
            return Ok(2);
        }
        Err(TargetError::NotFound(m)) => {
            eprintln!("kip install: {m}");
            return Ok(1);
        }
    };
    say(&format!(
        "target: {} ({})",
        target.env.prefix.display(),
        target.why
    ));

    let renamed = if args.exact {
        Vec::new()
    } else {
        map_import_names(ctx, &target, &mut reqs)
    };

    let tools = tools::find_tools(ctx, &target.env);
    let (uv_index_args, index_desc) =
        index_settings(ctx, &target, &args.options.index, tools.uv.is_some());
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
        uv_index_args: &uv_index_args,
        externally_managed_message: em_message,
    };
    let mut report = Report {
        target: TargetReport {
            python: target.python.clone(),
            prefix: target.env.prefix.clone(),
            kind: target.env.kind.as_str(),
            kernel: target.kernel.clone(),
            why: target.why.clone(),
        },
        installer: String::new(),
        index: index_desc.clone(),
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
    };
    let plan = match plan::plan(&input) {
        Ok(p) => p,
        Err(refusal) => {
            let msg = refusal_message(&refusal, &target, &report.requested);
            eprintln!("kip install: {msg}");
            report.error = Some(msg);
            finish(args.json, &report);
            return Ok(1);
        }
    };
    report.installer = plan.primary.installer.to_string();
    say(&index_desc);
    warn_project_owned(&target);
    for n in &plan.notes {
        say(n);
    }
    let mut steps: Vec<&Step> = Vec::new();
    if let Some(b) = &plan.bootstrap {
        steps.push(b);
    }
    steps.push(&plan.primary);
    report.commands = steps
        .iter()
        .map(|s| commands::shell_line(&s.argv))
        .collect();
    if let Some(fb) = &plan.pypi_fallback {
        if !fb.direct.is_empty() {
            report.commands.push(commands::shell_line(
                &fb.step(&target.python, &fb.direct, &args.options).argv,
            ));
        }
    }
    // The lock is taken first so that a concurrent install into this env is finished before
    // its files are read; a dry run reads without it.
    let lock = if args.options.dry_run {
        None
    } else {
        Some(
            EnvLock::acquire(&target.env.prefix, |p| {
                eprintln!(
                    "waiting for another kip install in this environment ({})",
                    p.display()
                )
            })
            .map_err(|e| anyhow::anyhow!("cannot lock {}: {e}", target.env.prefix.display()))?,
        )
    };
    if let Some(found) = already_satisfied(ctx, prober, args, &target, &plan, &reqs) {
        for s in &found {
            say(&format!(
                "already satisfied: {} {} (nothing to install; -U upgrades)",
                s.name, s.version
            ));
        }
        report.commands.clear();
        report.already_satisfied = found;
        if args.options.dry_run {
            say("dry run: nothing would run");
            report.ok = true;
            finish(args.json, &report);
            return Ok(0);
        }
        prove(ctx, &target, &reqs, &mut report);
        report.ok = report.proof.iter().all(|r| r.ok) && report.error.is_none();
        finish(args.json, &report);
        return Ok(if report.ok { 0 } else { 1 });
    }
    if args.options.dry_run {
        say("dry run: would run");
        for c in &report.commands {
            if args.json {
                eprintln!("  {c}");
            } else {
                println!("  {c}");
            }
        }
        report.ok = true;
        finish(args.json, &report);
        return Ok(0);
    }

    let _lock = lock;
    let before = Snapshot::of(&target.env.site_packages);
    let executed = execute(ctx, args, &target, &plan, &reqs, &mut report);
    report.changed = Snapshot::of(&target.env.site_packages).changes_since(&before);
    match executed {
        Ok(None) => {}
        Ok(Some(code)) => {
            finish(args.json, &report);
            return Ok(code);
        }
        Err(e) => return Err(e),
    }

    prove(ctx, &target, &reqs, &mut report);
    report.restart = running_kernels_to_tell(
        ctx,
        &target.env.prefix,
        &report.changed,
        !args.options.editable.is_empty(),
    );
    for k in &report.restart {
        say(&k.advice);
    }
    report.ok = report.proof.iter().all(|r| r.ok) && report.error.is_none();
    finish(args.json, &report);
    Ok(if report.ok { 0 } else { 1 })
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
        if let Err(e) = std::fs::File::open(&path).and_then(|file| file.metadata()) {
            return Some(format!(
                "{flag} {}: cannot read {}: {e}",
                f.display(),
                path.display()
            ));
        }
        if path.is_dir() {
            return Some(format!(
                "{flag} {}: {} is a directory, not a file",
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

/// `--missing`: the notebook's imports that its kernel cannot import, as distributions to
/// install (already mapped, so `--exact` is set). `Some(code)` ends the command.
fn add_notebook_missing(
    ctx: &Context,
    prober: &Prober,
    args: &mut InstallArgs,
) -> anyhow::Result<Option<i32>> {
    let Some(nb) = args.target.notebook.clone() else {
        eprintln!("kip install: --missing needs --notebook FILE.ipynb");
        return Ok(Some(2));
    };
    let view = view::select(ctx, prober, args.jupyter.as_deref())?;
    let missing = match crate::doctor::notebook::missing_distributions(ctx, &view, &nb) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("kip install: {e}");
            return Ok(Some(2));
        }
    };
    if missing.is_empty() {
        eprintln!(
            "{}: every import is already importable in its kernel",
            nb.display()
        );
        return Ok(Some(0));
    }
    for (module, dist, assumed) in &missing {
        if *assumed {
            eprintln!("{module}: no known distribution provides it; assuming the distribution is named \"{dist}\"");
        } else if module != dist {
            eprintln!("{module}: provided by \"{dist}\"");
        }
        args.specs.push(dist.clone());
    }
    // The names were mapped already; keep them exactly.
    args.exact = true;
    Ok(None)
}

/// Import names typed as requirements (`sklearn`) become their distributions
/// (`scikit-learn`), each rename printed.
fn map_import_names(ctx: &Context, target: &Target, reqs: &mut [Requirement]) -> Vec<Renamed> {
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
                say(&m.explain());
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
    args: &InstallArgs,
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
/// interpreter with the kernel's environment; each result is printed.
fn prove(ctx: &Context, target: &Target, reqs: &[Requirement], report: &mut Report) {
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
    for r in &report.proof {
        if r.ok {
            say(&format!("import {}: ok", r.module));
        } else {
            say(&format!(
                "import {}: FAILED ({})",
                r.module,
                r.error.as_deref().unwrap_or("?")
            ));
        }
    }
}

/// Run the plan's steps; `Ok(Some(code))` ends the command early with that exit code.
fn execute(
    ctx: &Context,
    args: &InstallArgs,
    target: &Target,
    plan: &Plan,
    reqs: &[Requirement],
    report: &mut Report,
) -> anyhow::Result<Option<i32>> {
    let env = installer_env(ctx);
    if let Some(b) = &plan.bootstrap {
        if let Some(code) = run_step(b, &env, false, report)?.0 {
            return Ok(Some(code));
        }
    }
    let conda = plan.pypi_fallback.is_some();
    if !conda && target.env.kind.is_conda_like() && matches!(plan.primary.installer, "uv" | "pip") {
        let pypi: Vec<String> = reqs.iter().map(Requirement::installer_arg).collect();
        if let Some(code) = refuse_replacing_conda_owned(args, target, &pypi) {
            return Ok(Some(code));
        }
    }
    let (outcome, out) = run_step(&plan.primary, &env, conda, report)?;
    let mut missing: Vec<String> = Vec::new();
    if let Some(code) = outcome {
        let tool = CondaTool::from_exe(Path::new(&plan.primary.argv[0]));
        match tool.and_then(|t| commands::parse_conda_not_found(t, &out.stdout, &out.stderr)) {
            Some(names) if conda => {
                report.error = None;
                eprintln!(
                    "not in the conda channels: {} — installing from PyPI instead",
                    names.join(", ")
                );
                missing = names;
                // The channel lacked some names: conda installed nothing. Retry the rest.
                let rest: Vec<String> = reqs
                    .iter()
                    .filter_map(|r| {
                        requirement::to_conda_spec(r).filter(|_| {
                            !missing.iter().any(|m| {
                                r.name().is_some_and(|n| names::normalize_dist_name(m) == n)
                            })
                        })
                    })
                    .collect();
                if !rest.is_empty() {
                    let (t, exe) = (
                        tool.unwrap_or(CondaTool::Conda),
                        PathBuf::from(&plan.primary.argv[0]),
                    );
                    let step = Step {
                        installer: t.name(),
                        argv: commands::conda_install(
                            t,
                            &exe,
                            &target.env.prefix,
                            &rest,
                            &args.options,
                        ),
                        purpose: "from the conda channels, by prefix".into(),
                    };
                    if let Some(code) = run_step(&step, &env, true, report)?.0 {
                        return Ok(Some(code));
                    }
                }
            }
            _ => {
                // A captured (conda) run was not shown live; uv and pip already spoke, and
                // run_step said which failed.
                if let (true, Some(e)) = (conda, &report.error) {
                    eprintln!("kip install: {e}");
                    let tail = out.stderr.lines().last().unwrap_or("");
                    if !tail.is_empty() {
                        eprintln!("  {tail}");
                    }
                }
                return Ok(Some(code));
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
            if let Some(code) = refuse_replacing_conda_owned(args, target, &pypi) {
                return Ok(Some(code));
            }
            let step = fb.step(&target.python, &pypi, &args.options);
            if let Some(code) = run_step(&step, &env, false, report)?.0 {
                return Ok(Some(code));
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

/// Run one step; returns the exit code to end with when it failed.
fn run_step(
    step: &Step,
    env: &crate::envvars::EnvVars,
    capture: bool,
    report: &mut Report,
) -> anyhow::Result<(Option<i32>, run::Output)> {
    eprintln!("running: {}", commands::shell_line(&step.argv));
    let (outcome, out) = run::run_installer(&step.argv, env, capture)
        .map_err(|e| anyhow::anyhow!("could not start {}: {e}", step.argv[0].to_string_lossy()))?;
    if capture && !out.stdout.is_empty() && !out.stdout.trim_start().starts_with('{') {
        print!("{}", out.stdout);
    }
    match outcome {
        Outcome::Success => Ok((None, out)),
        Outcome::Interrupted => {
            report.error = Some("interrupted".into());
            eprintln!("kip install: interrupted; the installer was stopped");
            Ok((Some(130), out))
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
                eprintln!("kip install: {msg}");
            }
            report.error = Some(msg);
            Ok((Some(1), out))
        }
    }
}

/// The installer's environment: kip's own, minus variables that would redirect the install
/// into another environment (uv honours VIRTUAL_ENV/CONDA_PREFIX only without `--python`,
/// but pip's `PIP_TARGET`/`PIP_PREFIX`/`PIP_USER` would move files elsewhere).
pub(crate) fn installer_env(ctx: &Context) -> crate::envvars::EnvVars {
    let mut env = ctx.vars.clone();
    for k in [
        "PIP_TARGET",
        "PIP_PREFIX",
        "PIP_USER",
        "PIP_REQUIRE_VIRTUALENV",
        "PYTHONHOME",
    ] {
        env.remove(k);
    }
    env
}

fn finish(json: bool, report: &Report) {
    if json {
        if let Ok(s) = serde_json::to_string_pretty(report) {
            println!("{s}");
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

fn index_settings(
    ctx: &Context,
    target: &Target,
    flags: &IndexFlags,
    have_uv: bool,
) -> (Vec<String>, String) {
    let home = ctx.home().unwrap_or_else(|| PathBuf::from("/"));
    let xdg = ctx.vars.get_nonempty("XDG_CONFIG_HOME").map(PathBuf::from);
    let pcf = ctx.vars.get_nonempty("PIP_CONFIG_FILE").map(PathBuf::from);
    let files: Vec<(PathBuf, String)> =
        index::pip_config_files(&home, xdg.as_deref(), &target.env.prefix, pcf.as_deref())
            .into_iter()
            .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
            .collect();
    let pip_env: Vec<(String, String)> = ctx
        .vars
        .iter()
        .filter_map(|(k, v)| {
            let k = k.to_str()?;
            k.starts_with("PIP_")
                .then(|| (k.to_string(), v.to_string_lossy().into_owned()))
        })
        .collect();
    let uv_env: Vec<(String, String)> = ctx
        .vars
        .iter()
        .filter_map(|(k, v)| {
            let k = k.to_str()?;
            k.starts_with("UV_")
                .then(|| (k.to_string(), v.to_string_lossy().into_owned()))
        })
        .collect();
    let settings = index::from_pip_config(&pip_env, &files);
    if have_uv {
        let uv_toml = uv_toml_sets_index(ctx);
        index::uv_args(&settings, &uv_env, uv_toml, flags)
    } else {
        (Vec::new(), index::describe_for_pip(&settings, flags))
    }
}

/// Does a uv.toml that uv would read configure an index? (`UV_NO_CONFIG` disables them.)
fn uv_toml_sets_index(ctx: &Context) -> bool {
    if ctx.vars.get("UV_NO_CONFIG").is_some() {
        return false;
    }
    let mut files = Vec::new();
    if let Some(f) = ctx.vars.get_nonempty("UV_CONFIG_FILE") {
        files.push(PathBuf::from(f));
    }
    let cfg = ctx
        .vars
        .get_nonempty("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| ctx.home().map(|h| h.join(".config")));
    if let Some(c) = cfg {
        files.push(c.join("uv/uv.toml"));
    }
    files.push(PathBuf::from("/etc/uv/uv.toml"));
    files.iter().any(|f| {
        std::fs::read_to_string(f)
            .map(|t| {
                t.lines().any(|l| {
                    let l = l.trim_start();
                    l.starts_with("index-url")
                        || l.starts_with("extra-index-url")
                        || l.starts_with("[[index]]")
                        || l.starts_with("find-links")
                        || l.starts_with("no-index")
                })
            })
            .unwrap_or(false)
    })
}

fn externally_managed_message(marker: &Path) -> String {
    let text = std::fs::read_to_string(marker).unwrap_or_default();
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
fn warn_project_owned(target: &Target) {
    let Some(project) = target.env.prefix.parent() else {
        return;
    };
    if !project.join("pyproject.toml").is_file() {
        return;
    }
    if project.join("uv.lock").is_file() {
        eprintln!(
            "warning: {} belongs to the uv project at {}; a later `uv sync` will remove packages installed this way. To keep them: `uv add --project {} PKG`",
            target.env.prefix.display(),
            project.display(),
            project.display()
        );
    } else if project.join("poetry.lock").is_file() {
        eprintln!(
            "warning: {} belongs to the poetry project at {}; `poetry install --sync` will remove packages installed this way. To keep them: `poetry add PKG` in {}",
            target.env.prefix.display(),
            project.display(),
            project.display()
        );
    }
}

/// Distributions among `reqs` that conda owns in `prefix` (a `conda-meta/<name>-*.json`).
/// pip or uv installing `pypi` into a conda env would replace conda-owned distributions:
/// say which and end with 1, unless `--yes` allows it.
fn refuse_replacing_conda_owned(
    args: &InstallArgs,
    target: &Target,
    pypi: &[String],
) -> Option<i32> {
    let owned = conda_owned(&target.env.prefix, pypi);
    if owned.is_empty() || args.yes {
        return None;
    }
    eprintln!(
        "kip install: installing {} from PyPI would replace conda-owned {}; re-run with --yes to allow it",
        pypi.join(" "),
        owned.join(", ")
    );
    Some(1)
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
