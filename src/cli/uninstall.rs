//! `kip uninstall NAME… [TARGET]`: conda remove for conda-owned distributions, the env's uv or
//! pip for the rest; the same guards and lock as install.

use std::path::PathBuf;

use serde::Serialize;

use crate::context::Context;
use crate::install::changes::RunningKernel;
use crate::install::changes::{Change, Snapshot};
use crate::install::commands;
use crate::install::lock::EnvLock;
use crate::install::names;
use crate::install::plan::Step;
use crate::install::run::{self, Outcome};
use crate::install::target::{self, TargetArgs, TargetError};
use crate::install::tools;
use crate::python::probe::Prober;

#[derive(Serialize)]
struct Report {
    prefix: PathBuf,
    removed: Vec<Removed>,
    not_installed: Vec<String>,
    /// Distributions before and after (see `kip install --json`).
    changed: Vec<Change>,
    /// Running kernels on the environment; they may hold what was removed.
    restart: Vec<RunningKernel>,
    ok: bool,
    error: Option<String>,
}

#[derive(Serialize)]
struct Removed {
    name: String,
    with: &'static str,
}

pub struct UninstallArgs {
    pub names: Vec<String>,
    pub target: TargetArgs,
    pub jupyter: Option<PathBuf>,
    pub break_system_packages: bool,
    pub json: bool,
}

pub fn run(ctx: &Context, prober: &Prober, args: &UninstallArgs) -> anyhow::Result<i32> {
    for n in &args.names {
        if n.starts_with('-') {
            eprintln!("kip uninstall: `{n}` looks like an option, not a distribution name");
            return Ok(2);
        }
    }
    let t = match target::resolve_with(
        ctx,
        prober,
        &mut crate::render::terminal::Terminal::new(),
        args.jupyter.as_deref(),
        &args.target,
    )? {
        Ok(t) => t,
        Err(TargetError::Usage(m)) => {
            eprintln!("kip uninstall: {m}");
            return Ok(2);
        }
        Err(TargetError::NotFound(m)) => {
            eprintln!("kip uninstall: {m}");
            return Ok(1);
        }
    };
    eprintln!("target: {} ({})", t.env.prefix.display(), t.why);
    let mut report = Report {
        prefix: t.env.prefix.clone(),
        removed: Vec::new(),
        not_installed: Vec::new(),
        changed: Vec::new(),
        restart: Vec::new(),
        ok: false,
        error: None,
    };
    if t.env.externally_managed.is_some() && !args.break_system_packages {
        let msg = format!(
            "{} is externally managed (PEP 668); kip will not remove packages from it",
            t.env.prefix.display()
        );
        eprintln!("kip uninstall: {msg}");
        report.error = Some(msg);
        return finish(args.json, report, 1);
    }
    let pkgs = crate::python::packages::packages(&t.env.site_packages, &t.env.prefix);
    let mut conda_names = Vec::new();
    let mut pypi_names = Vec::new();
    for n in &args.names {
        let norm = names::normalize_dist_name(n);
        match pkgs
            .iter()
            .find(|p| names::normalize_dist_name(&p.name) == norm)
        {
            Some(p) if p.installer == "conda" => conda_names.push(p.name.clone()),
            Some(p) => pypi_names.push(p.name.clone()),
            None => report.not_installed.push(n.clone()),
        }
    }
    for n in &report.not_installed {
        eprintln!("{n} is not installed in {}", t.env.prefix.display());
    }
    if conda_names.is_empty() && pypi_names.is_empty() {
        return finish(args.json, report, 1);
    }
    if !t.env.writable {
        let msg = format!(
            "{} is not writable by this user, so nothing can be removed from it; never use sudo for this",
            t.env
                .site_packages
                .first()
                .unwrap_or(&t.env.prefix)
                .display()
        );
        eprintln!("kip uninstall: {msg}");
        report.error = Some(msg);
        return finish(args.json, report, 1);
    }
    let _lock = EnvLock::acquire(&t.env.prefix, |p| {
        eprintln!(
            "waiting for another kip in this environment ({})",
            p.display()
        )
    })
    .map_err(|e| anyhow::anyhow!("cannot lock {}: {e}", t.env.prefix.display()))?;
    let env = run::installer_env(&ctx.vars);
    let before = Snapshot::of(&t.env.site_packages);
    let tools = tools::find_tools(ctx, &t.env);
    let mut steps: Vec<(Step, Vec<String>, &'static str)> = Vec::new();
    if !conda_names.is_empty() {
        let (tool, exe) = tools.conda.first().cloned().ok_or_else(|| {
            anyhow::anyhow!(
                "{} has conda-owned packages but no conda, mamba or micromamba was found",
                t.env.prefix.display()
            )
        })?;
        let specs: Vec<String> = conda_names.iter().map(|n| names::conda_name(n)).collect();
        steps.push((
            Step {
                installer: tool.name(),
                argv: commands::conda_remove(tool, &exe, &t.env.prefix, &specs),
                purpose: "conda remove".into(),
            },
            conda_names.clone(),
            "conda",
        ));
    }
    if !pypi_names.is_empty() {
        let step = match tools
            .uv
            .clone()
            .filter(|_| t.env.version.is_none_or(|v| v.at_least(3, 8)))
        {
            Some(uv) => (
                Step {
                    installer: "uv",
                    argv: commands::uv_pip_uninstall(
                        &uv,
                        &t.python,
                        &pypi_names,
                        args.break_system_packages,
                    ),
                    purpose: "uv pip uninstall".into(),
                },
                pypi_names.clone(),
                "uv",
            ),
            None => (
                Step {
                    installer: "pip",
                    argv: commands::pip_uninstall(
                        &t.python,
                        &pypi_names,
                        args.break_system_packages,
                    ),
                    purpose: "pip uninstall".into(),
                },
                pypi_names.clone(),
                "pip",
            ),
        };
        steps.push(step);
    }
    let mut code = None;
    for (step, names_, with) in steps {
        eprintln!("running: {}", commands::shell_line(&step.argv));
        let (outcome, _) = run::run_installer(
            &step.argv,
            &env,
            step.installer != "uv" && step.installer != "pip",
            &mut |line| eprintln!("{line}"),
        )?;
        match outcome {
            Outcome::Success => report
                .removed
                .extend(names_.into_iter().map(|name| Removed { name, with })),
            Outcome::Interrupted => {
                code = Some(130);
                break;
            }
            Outcome::Failed { code: c, .. } => {
                report.error = Some(format!(
                    "{} failed with exit code {}",
                    step.installer,
                    c.unwrap_or(-1)
                ));
                code = Some(1);
                break;
            }
        }
    }
    report.changed = Snapshot::of(&t.env.site_packages).changes_since(&before);
    report.restart = crate::install::changes::running_kernels_to_tell(
        ctx,
        &t.env.prefix,
        &report.changed,
        false,
    );
    for k in &report.restart {
        eprintln!("{}", k.advice);
    }
    report.ok = code.is_none() && report.not_installed.is_empty();
    let code = code.unwrap_or(if report.ok { 0 } else { 1 });
    finish(args.json, report, code)
}

fn finish(json: bool, report: Report, code: i32) -> anyhow::Result<i32> {
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(code)
}
