//! `kip uninstall NAME… [TARGET]`: conda remove for conda-owned distributions, the env's uv or
//! pip for the rest; the same guards and lock as install.

use std::path::PathBuf;

use serde::Serialize;

use crate::context::Context;
use crate::envvars::EnvVars;
use crate::flows::Status;
use crate::install::changes::RunningKernel;
use crate::install::changes::{Change, Snapshot};
use crate::install::commands;
use crate::install::lock::EnvLock;
use crate::install::names;
use crate::install::plan::Step;
use crate::install::run::{self, Outcome};
use crate::install::target::{Target, TargetArgs};
use crate::install::tools;
use crate::python::probe::Prober;
use crate::report::{Event, Reporter};

/// What `kip uninstall` did (docs/json.md); `None` when it ended before a target was chosen.
#[derive(Debug, Default)]
pub struct Report {
    pub result: Option<Uninstalled>,
}

#[derive(Debug, Serialize)]
pub struct Uninstalled {
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub prefix: PathBuf,
    pub removed: Vec<Removed>,
    pub not_installed: Vec<String>,
    /// Distributions before and after (see `kip install --json`).
    pub changed: Vec<Change>,
    /// Running kernels on the environment; they may hold what was removed.
    pub restart: Vec<RunningKernel>,
    pub ok: bool,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Removed {
    pub name: String,
    pub with: &'static str,
}

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub names: Vec<String>,
    pub target: TargetArgs,
    pub break_system_packages: bool,
}

pub fn run(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    args: &Request,
) -> anyhow::Result<(Report, Status)> {
    for n in &args.names {
        if n.starts_with('-') {
            r.event(Event::error(
                "uninstall",
                format!("`{n}` looks like an option, not a distribution name"),
            ));
            return Ok((Report::default(), Status::Usage));
        }
    }
    let t = match super::resolve_target(ctx, prober, r, "uninstall", &args.target)? {
        Ok(t) => t,
        Err(status) => return Ok((Report::default(), status)),
    };
    let mut report = Uninstalled {
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
        r.event(Event::error("uninstall", msg.clone()));
        report.error = Some(msg);
        return Ok(done(report, Status::Failure));
    }
    let (conda_names, pypi_names) = by_owner(&t, &args.names, &mut report.not_installed);
    for n in &report.not_installed {
        r.event(Event::note(format!(
            "{n} is not installed in {}",
            t.env.prefix.display()
        )));
    }
    if conda_names.is_empty() && pypi_names.is_empty() {
        return Ok(done(report, Status::Failure));
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
        r.event(Event::error("uninstall", msg.clone()));
        report.error = Some(msg);
        return Ok(done(report, Status::Failure));
    }
    let _lock = EnvLock::acquire(&t.env.prefix, |who| r.event(Event::note(who.to_string())))
        .map_err(|e| anyhow::anyhow!("cannot lock {}: {e}", t.env.prefix.display()))?;
    let env = run::installer_env(&ctx.vars);
    let before = Snapshot::of(&t.env.site_packages);
    let steps = removal_steps(
        ctx,
        &t,
        &conda_names,
        &pypi_names,
        args.break_system_packages,
    )?;
    let failed = run_steps(r, steps, &env, &mut report)?;
    report.changed = Snapshot::of(&t.env.site_packages).changes_since(&before);
    super::record_changes(ctx, r, &t.env.prefix, &report.changed);
    report.restart = crate::install::changes::running_kernels_to_tell(
        ctx,
        &t.env.prefix,
        &report.changed,
        false,
    );
    for k in &report.restart {
        r.event(Event::note(k.advice.clone()));
    }
    report.ok = failed.is_none() && report.not_installed.is_empty();
    let status = failed.unwrap_or(if report.ok {
        Status::Success
    } else {
        Status::Failure
    });
    Ok(done(report, status))
}

fn done(report: Uninstalled, status: Status) -> (Report, Status) {
    (
        Report {
            result: Some(report),
        },
        status,
    )
}

/// The removal commands: conda's for conda-owned distributions, the env's uv (Python 3.8+)
/// or pip for the rest.
fn removal_steps(
    ctx: &Context,
    t: &Target,
    conda_names: &[String],
    pypi_names: &[String],
    break_system_packages: bool,
) -> anyhow::Result<Vec<(Step, Vec<String>, &'static str)>> {
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
            conda_names.to_vec(),
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
                        pypi_names,
                        break_system_packages,
                    ),
                    purpose: "uv pip uninstall".into(),
                },
                pypi_names.to_vec(),
                "uv",
            ),
            None => (
                Step {
                    installer: "pip",
                    argv: commands::pip_uninstall(&t.python, pypi_names, break_system_packages),
                    purpose: "pip uninstall".into(),
                },
                pypi_names.to_vec(),
                "pip",
            ),
        };
        steps.push(step);
    }
    Ok(steps)
}

/// Run each step, recording what was removed; the status to end with when one failed.
fn run_steps(
    r: &mut dyn Reporter,
    steps: Vec<(Step, Vec<String>, &'static str)>,
    env: &EnvVars,
    report: &mut Uninstalled,
) -> anyhow::Result<Option<Status>> {
    let mut failed = None;
    for (step, names_, with) in steps {
        r.event(Event::Running {
            command: commands::shell_line(&step.argv),
        });
        let (outcome, _) = run::run_installer(
            &step.argv,
            env,
            step.installer != "uv" && step.installer != "pip",
            &mut |line| {
                r.event(Event::InstallerOutput {
                    line: line.to_string(),
                })
            },
        )?;
        match outcome {
            Outcome::Success => report
                .removed
                .extend(names_.into_iter().map(|name| Removed { name, with })),
            Outcome::Interrupted => {
                failed = Some(Status::Interrupted);
                break;
            }
            Outcome::Failed { code: c, .. } => {
                report.error = Some(format!(
                    "{} failed with exit code {}",
                    step.installer,
                    c.unwrap_or(-1)
                ));
                failed = Some(Status::Failure);
                break;
            }
        }
    }
    Ok(failed)
}

/// The names installed in the target: (conda-owned, the rest), as the environment spells
/// them; the others go to `not_installed`.
fn by_owner(
    t: &Target,
    names_: &[String],
    not_installed: &mut Vec<String>,
) -> (Vec<String>, Vec<String>) {
    let pkgs = crate::python::packages::packages(&t.env.site_packages, &t.env.prefix);
    let mut conda_names = Vec::new();
    let mut pypi_names = Vec::new();
    for n in names_ {
        let norm = names::normalize_dist_name(n);
        match pkgs
            .iter()
            .find(|p| names::normalize_dist_name(&p.name) == norm)
        {
            Some(p) if p.installer == "conda" => conda_names.push(p.name.clone()),
            Some(p) => pypi_names.push(p.name.clone()),
            None => not_installed.push(n.clone()),
        }
    }
    (conda_names, pypi_names)
}
