//! `kip kernel add | fix | remove | show`: kernelspecs that cannot leak.
//!
//! `add` and `fix` install ipykernel or pip through the install flow's library function (its
//! guards, lock and proof), reporting to the same reporter.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::context::Context;
use crate::doctor::finding::{FindingId, FixOutcome, Outcome};
use crate::doctor::kernels as checks;
use crate::doctor::start as proof;
use crate::flows::Status;
use crate::install::target::{check_kernel_name, TargetArgs};
use crate::jupyter::launch::KernelInterpreter;
use crate::jupyter::paths::pjoin;
use crate::jupyter::resolved::{resolve_all, ResolvedKernel};
use crate::jupyter::view::{self, JupyterView};
use crate::kernel::spec::{self, SpecInput};
use crate::kernel::write;
use crate::platform;
use crate::process;
use crate::python::environment::Environment;
use crate::python::probe::Prober;
use crate::python::{classify, discovery, site};
use crate::report::{Event, Reporter};
use crate::shell::path::find_on_path;

/// `kip kernel add`, without any face's types.
#[derive(Clone, Debug, Default)]
pub struct AddRequest {
    /// A prefix, a conda env name, or an interpreter path.
    pub env: Option<String>,
    /// Create a venv here first.
    pub venv: Option<PathBuf>,
    /// With `venv`: the base interpreter or version.
    pub python: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub sys_prefix: bool,
    pub prefix: Option<PathBuf>,
    pub force: bool,
    pub yes: bool,
    pub no_pip: bool,
    pub allow_user_site: bool,
    /// Do not prove the new kernel by starting it.
    pub no_start: bool,
    /// Load kip's IPython extension in the kernel (`--ext=kip`).
    pub with_hook: bool,
    pub jupyter: Option<PathBuf>,
}

/// `kip kernel add`'s result: `added` once the kernel was written.
#[derive(Debug, Default)]
pub struct AddReport {
    pub added: Option<Added>,
}

#[derive(Clone, Debug, Default)]
pub struct FixRequest {
    pub names: Vec<String>,
    pub all: bool,
    pub yes: bool,
    /// Do not prove a rewritten kernel by starting it.
    pub no_start: bool,
    /// Also load kip's IPython extension in these kernels (`--ext=kip`).
    pub with_hook: bool,
    pub jupyter: Option<PathBuf>,
}

/// `kip kernel fix`'s result: one entry per kernel looked at (`None` on bad usage).
#[derive(Debug, Default)]
pub struct FixReport {
    pub kernels: Option<Vec<FixResult>>,
}

#[derive(Clone, Debug, Default)]
pub struct RemoveRequest {
    pub name: String,
    pub yes: bool,
    pub jupyter: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct RemoveReport {
    pub removed: Option<Removed>,
}

#[derive(Debug)]
pub struct Removed {
    pub name: String,
    pub resource_dir: PathBuf,
    /// The kernel of the same name it hid, which Jupyter now lists instead.
    pub uncovered: Option<PathBuf>,
}

#[derive(Clone, Debug, Default)]
pub struct ShowRequest {
    pub name: String,
    pub jupyter: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct ShowReport {
    pub shown: Option<Shown>,
}

fn usage<R: Default>(r: &mut dyn Reporter, verb: &str, message: impl Into<String>) -> (R, Status) {
    r.event(Event::error(verb, message));
    (R::default(), Status::Usage)
}

fn failed<R: Default>(r: &mut dyn Reporter, verb: &str, message: impl Into<String>) -> (R, Status) {
    r.event(Event::error(verb, message));
    (R::default(), Status::Failure)
}

fn kernels_of(ctx: &Context, view: &JupyterView) -> Vec<ResolvedKernel> {
    resolve_all(ctx, view, &view::list_kernels(ctx, view))
}

/// Install packages into an interpreter's env through `kip install`'s machinery (its guards,
/// lock and import proof included).
fn install_into(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    python: &Path,
    pkgs: &[&str],
) -> anyhow::Result<Status> {
    let args = super::install::Request {
        specs: pkgs.iter().map(|s| s.to_string()).collect(),
        target: TargetArgs {
            python: Some(python.display().to_string()),
            ..Default::default()
        },
        exact: true,
        ..Default::default()
    };
    let (_, status) = super::install::run(ctx, prober, r, &args)?;
    Ok(status)
}

fn ipykernel_version(
    ctx: &Context,
    env: &Environment,
) -> (Option<PathBuf>, Option<(u32, u32, u32)>, bool) {
    let dirs = site::sys_path_dirs(ctx, env);
    let dir = site::find_top_level(&dirs, "ipykernel");
    let mut version = None;
    let mut debugpy = false;
    for sp in &env.site_packages {
        for d in site::installed_distributions(sp) {
            if d.normalized_name == "ipykernel" {
                let mut it = d.version.split('.').map(|p| {
                    p.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse::<u32>()
                        .unwrap_or(0)
                });
                version = Some((
                    it.next().unwrap_or(0),
                    it.next().unwrap_or(0),
                    it.next().unwrap_or(0),
                ));
            }
            if d.normalized_name == "debugpy" {
                debugpy = true;
            }
        }
    }
    (dir, version, debugpy)
}

#[derive(Debug, Serialize)]
pub struct Added {
    pub name: String,
    pub display_name: String,
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub resource_dir: PathBuf,
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub python: PathBuf,
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub prefix: PathBuf,
    pub kernel_json: Value,
    pub notes: Vec<String>,
}

fn resolve_env_arg(ctx: &Context, arg: &str) -> Option<(Environment, PathBuf)> {
    let p = if Path::new(arg).is_absolute() {
        PathBuf::from(arg)
    } else {
        ctx.cwd.join(arg)
    };
    if p.is_file() {
        let env = classify::classify_interpreter(ctx, &p)?;
        return Some((env, p));
    }
    if p.is_dir() {
        let env = classify::classify_prefix(ctx, &p)?;
        let py = env.interpreter.clone();
        return Some((env, py));
    }
    if arg.contains('/') {
        return None;
    }
    let f = discovery::discover(ctx, &[])
        .into_iter()
        .find(|f| f.env.kind.is_conda_like() && f.env.name.as_deref() == Some(arg))?;
    let py = f.env.interpreter.clone();
    Some((f.env, py))
}

/// `--venv DIR`: create it with uv, else `python -m venv`.
fn create_venv(
    ctx: &Context,
    r: &mut dyn Reporter,
    dir: &Path,
    python: Option<&str>,
) -> anyhow::Result<()> {
    let base = python.unwrap_or("python3");
    let uv = crate::install::tools::find_uv(ctx);
    let mut cmd = match &uv {
        Some(uv) => {
            let mut c = std::process::Command::new(uv);
            c.args(["venv", "--python", base]).arg(dir);
            c
        }
        None => {
            let py = if base.contains('/') {
                PathBuf::from(base)
            } else {
                find_on_path(base, &ctx.vars, &ctx.cwd).unwrap_or_else(|| PathBuf::from(base))
            };
            let mut c = std::process::Command::new(py);
            c.args(["-m", "venv"]).arg(dir);
            c
        }
    };
    cmd.env_clear()
        .envs(ctx.vars.to_vec())
        .current_dir(&ctx.cwd);
    let out = process::run_captured(cmd, std::time::Duration::from_secs(300))?;
    if !out.success() {
        let err = out.stderr_text();
        if err.contains("ensurepip is not available") || err.contains("python3-venv") {
            anyhow::bail!(
                "{base} cannot create virtual environments: Debian ships venv support separately. Install it with `apt install python3-venv` (or python3.X-venv), or install uv (`pipx install uv`) and run this again.\n{err}"
            );
        }
        anyhow::bail!("creating the venv at {} failed:\n{err}", dir.display());
    }
    r.event(Event::note(format!(
        "created venv {} ({})",
        dir.display(),
        if uv.is_some() {
            "uv venv"
        } else {
            "python -m venv"
        }
    )));
    Ok(())
}

/// The environment `kernel add` registers (creating `--venv DIR` first) and its interpreter;
/// `None` once the reason it is not one was reported.
fn environment_to_add(
    ctx: &Context,
    r: &mut dyn Reporter,
    a: &AddRequest,
) -> anyhow::Result<Option<(Environment, PathBuf)>> {
    if let Some(dir) = &a.venv {
        let dir = if dir.is_absolute() {
            dir.clone()
        } else {
            ctx.cwd.join(dir)
        };
        if !dir.join("pyvenv.cfg").exists() {
            create_venv(ctx, r, &dir, a.python.as_deref())?;
        }
        let env = classify::classify_prefix(ctx, &dir)
            .ok_or_else(|| anyhow::anyhow!("{} is not a usable venv", dir.display()))?;
        let py = env.interpreter.clone();
        return Ok(Some((env, py)));
    }
    let arg = a.env.clone().unwrap_or_default();
    let found = resolve_env_arg(ctx, &arg);
    if found.is_none() {
        r.event(Event::error("kernel add", format!("{arg:?} is not a Python environment, an interpreter or a conda env name (see `kip envs`)")));
    }
    Ok(found)
}

/// A kernel named `name` exists: refuse (reported) unless `--force`, and `--yes` to overwrite
/// one kip did not create in `kernels_dir` (one elsewhere — a shared kernel in a system dir — is
/// not touched: the new one in `kernels_dir` takes precedence).
fn refuse_replacing(
    ctx: &Context,
    r: &mut dyn Reporter,
    view: &JupyterView,
    name: &str,
    a: &AddRequest,
    kernels_dir: &Path,
) -> bool {
    const VERB: &str = "kernel add";
    let kernels = kernels_of(ctx, view);
    let existing: Vec<&ResolvedKernel> = kernels
        .iter()
        .filter(|k| k.entry.found.name.to_string_lossy() == name && !k.entry.found.native)
        .collect();
    if !existing.is_empty() && !a.force {
        r.event(Event::error(VERB, format!(
            "a kernel named {name:?} already exists at {}; choose another --name, or replace it with --force",
            existing[0].entry.found.resource_dir.display()
        )));
        return true;
    }
    if let Some(k) = existing.first() {
        let kip_made = k.entry.spec.as_ref().is_ok_and(spec::is_kip_made);
        let overwritten = k.entry.found.resource_dir.parent() == Some(kernels_dir);
        if overwritten && !kip_made && !a.yes {
            r.event(Event::error(
                VERB,
                format!(
                    "{} was not created by kip; replacing it needs --force --yes",
                    k.entry.found.resource_dir.display()
                ),
            ));
            return true;
        }
    }
    false
}

/// Where `kernel add` writes: `--prefix P`'s, `--sys-prefix`'s, else the chosen Jupyter's
/// user data dir.
fn kernels_dir_for(
    ctx: &Context,
    view: &JupyterView,
    a: &AddRequest,
    env: &Environment,
) -> PathBuf {
    let home = ctx.home_resolved().unwrap_or_else(|| PathBuf::from("/"));
    if let Some(p) = &a.prefix {
        let p = if p.is_absolute() {
            p.clone()
        } else {
            ctx.cwd.join(p)
        };
        p.join("share/jupyter/kernels")
    } else if a.sys_prefix {
        env.prefix.join("share/jupyter/kernels")
    } else {
        let sys_prefix = view
            .lister
            .as_ref()
            .map(|f| f.paths.sys_prefix.clone())
            .unwrap_or_else(|| PathBuf::from("/usr"));
        pjoin(
            &platform::jupyter_data_dir(ctx.os, &ctx.vars, &home, &sys_prefix),
            "kernels",
        )
    }
}

/// Install ipykernel into the environment when it lacks it, and seed pip (unless `--no-pip`);
/// `Some(status)` when that failed (reported).
fn ensure_ipykernel_and_pip(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    env: &Environment,
    python: &Path,
    no_pip: bool,
) -> anyhow::Result<Option<Status>> {
    if !checks::importable_from_disk(ctx, env, "ipykernel") {
        r.event(Event::note(format!(
            "{} lacks ipykernel: installing it",
            env.prefix.display()
        )));
        let status = install_into(ctx, prober, r, python, &["ipykernel"])?;
        if status != Status::Success {
            r.event(Event::error(
                "kernel add",
                format!(
                    "ipykernel could not be installed into {}; nothing was registered",
                    env.prefix.display()
                ),
            ));
            return Ok(Some(status));
        }
    }
    if !env.has_pip && !no_pip && !env.kind.is_conda_like() {
        r.event(Event::note(format!(
            "{} has no pip: seeding it so `!pip` inside the kernel reaches this env",
            env.prefix.display()
        )));
        let status = install_into(ctx, prober, r, python, &["pip"])?;
        if status != Status::Success {
            return Ok(Some(status));
        }
    }
    Ok(None)
}

/// What a user should know about where the new kernel goes: conda activation scripts it will
/// not run, a kernels dir the chosen Jupyter does not search.
fn placement_notes(
    ctx: &Context,
    view: &JupyterView,
    env: &Environment,
    kernels_dir: &Path,
) -> Vec<String> {
    let mut notes = Vec::new();
    if env.kind.is_conda_like() && env.prefix.join("etc/conda/activate.d").is_dir() {
        notes.push(format!(
            "{} has conda activation scripts (etc/conda/activate.d); the kernel sets PATH and CONDA_PREFIX but does not run them, so variables they export are not set",
            env.prefix.display()
        ));
    }
    let searched = view::kernel_dirs(ctx, view).iter().any(|d| {
        crate::jupyter::paths::pathlib_str(&d.path)
            == crate::jupyter::paths::pathlib_str(kernels_dir)
    });
    if !searched {
        notes.push(format!(
            "{} is not on the chosen Jupyter's kernel path ({}); it will not list this kernel",
            kernels_dir.display(),
            view.how
        ));
    }
    notes
}

pub fn add(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    a: &AddRequest,
) -> anyhow::Result<(AddReport, Status)> {
    const VERB: &str = "kernel add";
    let view = view::select(ctx, prober, a.jupyter.as_deref())?;
    if let Some(n) = &a.name {
        if !spec::valid_new_name(n) {
            return Ok(usage(r, VERB, format!("invalid kernel name {n:?}: kip creates names matching ^[a-z0-9._-]+$ without a leading dot")));
        }
    }
    let Some((env, python)) = environment_to_add(ctx, r, a)? else {
        return Ok((AddReport::default(), Status::Usage));
    };
    if let Some(why) = a
        .with_hook
        .then(|| spec::hook_refusal(ctx, &env, &python))
        .flatten()
    {
        r.event(Event::error(VERB, format!("{why}; nothing was registered")));
        return Ok((AddReport::default(), Status::Failure));
    }
    let name = a.name.clone().unwrap_or_else(|| spec::default_name(&env));
    let kernels_dir = kernels_dir_for(ctx, &view, a, &env);
    if refuse_replacing(ctx, r, &view, &name, a, &kernels_dir) {
        return Ok((AddReport::default(), Status::Failure));
    }
    // ipykernel, then pip, through the install machinery (PEP 668 and all).
    if let Some(status) = ensure_ipykernel_and_pip(ctx, prober, r, &env, &python, a.no_pip)? {
        return Ok((AddReport::default(), status));
    }
    let env = classify::classify_interpreter(ctx, &python).unwrap_or(env);
    let (ipk_dir, ipk_version, debugpy) = ipykernel_version(ctx, &env);
    let display = a.display_name.clone().unwrap_or_else(|| {
        format!(
            "Python {} ({name})",
            env.version
                .map(|v| v.minor_str())
                .unwrap_or_else(|| "3".into())
        )
    });
    let input = SpecInput {
        python: &python,
        env: &env,
        display_name: &display,
        ipykernel: ipk_version,
        cpython: true,
        debugpy,
        allow_user_site: a.allow_user_site,
        conda_name: env.name.as_deref(),
    };
    let mut kj = spec::kernel_json(&input);
    if a.with_hook {
        spec::add_hook(&mut kj);
    }
    let mut notes = placement_notes(ctx, &view, &env, &kernels_dir);
    let mut files: Vec<(String, Vec<u8>)> =
        vec![("kernel.json".into(), write::kernel_json_bytes(&kj))];
    for (n, p) in spec::logo_files(ipk_dir.as_deref()) {
        if let Ok(b) = std::fs::read(&p) {
            files.push((n, b));
        }
    }
    let installed = write::install_kernel_dir(&kernels_dir, &name, &files).map_err(|e| {
        anyhow::anyhow!(
            "cannot write the kernel into {}: {e}",
            kernels_dir.display()
        )
    })?;
    notes.extend(installed.recovered);
    if let Some(b) = &installed.backup {
        notes.push(format!(
            "the replaced kernel.json is backed up as {}",
            b.display()
        ));
    }
    let dest = installed.dir;
    let start = (!a.no_start).then(|| proof::prove_kernel_dir(ctx, &view, &name, &dest));
    if let Some(failed) = start.as_ref().and_then(proof::failure_text_of) {
        r.event(Event::error(
            "kernel add",
            format!(
                "{failed}\n{}",
                proof::undo_add(&dest, installed.backup.as_deref())
            ),
        ));
        return Ok((AddReport::default(), Status::Failure));
    }
    if let Some(st) = &start {
        notes.push(format!("start: {}", st.summary()));
    }
    for n in &notes {
        r.event(Event::note(format!("note: {n}")));
    }
    let added = Added {
        name: name.clone(),
        display_name: display,
        resource_dir: dest.clone(),
        python,
        prefix: env.prefix.clone(),
        kernel_json: kj,
        notes,
    };
    Ok((AddReport { added: Some(added) }, Status::Success))
}

/// What `fix_one` did to one kernel.
#[derive(Debug, Default, Serialize)]
pub struct FixResult {
    pub name: String,
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub resource_dir: PathBuf,
    pub changed: bool,
    pub removed: bool,
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub backup: Option<PathBuf>,
    pub diff: String,
    pub actions: Vec<String>,
    pub skipped: Vec<String>,
    /// Each finding's fix: applied, refused or failed.
    pub outcomes: Vec<FixOutcome>,
    /// The start that proved the rewritten kernel (or why it was not started).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<proof::StartRecord>,
    /// The rewritten kernel did not start, and kernel.json was put back from the backup.
    pub restored: bool,
}

impl FixResult {
    fn outcome(&mut self, id: FindingId, outcome: Outcome, detail: impl Into<String>) {
        let detail = detail.into();
        if outcome != Outcome::Applied {
            self.skipped.push(detail.clone());
        }
        self.outcomes.push(FixOutcome {
            id,
            subjects: vec![self.name.clone()],
            outcome,
            detail,
        });
    }
}

/// May kip install into `env`? `Err(why)` when it is refused before any installer runs.
fn install_refusal(env: &Environment) -> Result<(), String> {
    if let Some(m) = &env.externally_managed {
        return Err(format!(
            "{} is externally managed (PEP 668, {}); kip does not install into it",
            env.prefix.display(),
            m.display()
        ));
    }
    if !env.writable {
        return Err(format!(
            "{} is not writable by this user",
            env.prefix.display()
        ));
    }
    Ok(())
}

/// The repairs that concern the kernel's environment: the activation `env` block (PATH and
/// the rest), pip seeded, ipykernel installed.
#[allow(clippy::too_many_arguments)]
fn repair_environment(
    ctx: &Context,
    prober: &Prober,
    reporter: &mut dyn Reporter,
    ids: &HashSet<FindingId>,
    env: &Environment,
    py: &Path,
    kfile: &Path,
    json: &mut Value,
    r: &mut FixResult,
    json_edits: &mut Vec<(FindingId, String)>,
) -> anyhow::Result<()> {
    let needs_activation = ids.contains(&FindingId::KernelShellMismatch)
        || ids.contains(&FindingId::KernelRelativePython);
    if needs_activation {
        let want = spec::activation_env(env, env.name.as_deref(), false);
        let obj = json
            .as_object_mut()
            .ok_or_else(|| anyhow::anyhow!("{} is not an object", kfile.display()))?;
        let envblock = obj
            .entry("env")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(eb) = envblock.as_object_mut() {
            for (key, val) in want {
                let bin = env.scripts_dir().display().to_string();
                let present = eb.get(&key).and_then(|v| v.as_str()).is_some_and(|s| {
                    if key == "PATH" {
                        s.starts_with(&bin)
                    } else {
                        !s.is_empty()
                    }
                });
                if !present {
                    let val = match (key.as_str(), eb.get("PATH").and_then(|v| v.as_str())) {
                        ("PATH", Some(old)) => Value::String(format!("{bin}:{old}")),
                        _ => val,
                    };
                    let what = format!("env.{key} = {}", val.as_str().unwrap_or_default());
                    r.actions.push(what.clone());
                    if ids.contains(&FindingId::KernelShellMismatch) {
                        json_edits.push((FindingId::KernelShellMismatch, what));
                    }
                    eb.insert(key, val);
                }
            }
        }
        if !env.has_pip && !env.kind.is_conda_like() {
            let id = FindingId::KernelShellMismatch;
            match install_refusal(env) {
                Err(why) => r.outcome(id, Outcome::Refused, format!("pip not seeded: {why}")),
                Ok(()) => {
                    r.actions
                        .push(format!("seed pip into {}", env.prefix.display()));
                    if install_into(ctx, prober, reporter, py, &["pip"])? != Status::Success {
                        r.outcome(id, Outcome::Failed, "pip could not be seeded");
                    }
                }
            }
        }
    }
    if ids.contains(&FindingId::KernelIpykernelMissing) {
        let id = FindingId::KernelIpykernelMissing;
        match install_refusal(env) {
            Err(why) => r.outcome(
                id,
                Outcome::Refused,
                format!("ipykernel not installed: {why}"),
            ),
            Ok(()) => {
                let what = format!("install ipykernel into {}", env.prefix.display());
                r.actions.push(what.clone());
                if install_into(ctx, prober, reporter, py, &["ipykernel"])? != Status::Success {
                    r.outcome(id, Outcome::Failed, "ipykernel could not be installed");
                } else {
                    r.outcome(id, Outcome::Applied, what);
                }
            }
        }
    }
    Ok(())
}

/// `env-venv-base-missing`: repoint the kernel's venv at a base Python of the same X.Y found
/// here, proven by starting the kernel (rolled back when it does not start).
fn repoint_venv(ctx: &Context, view: &JupyterView, k: &ResolvedKernel, r: &mut FixResult) {
    let name = r.name.clone();
    let env = k
        .interpreter
        .python()
        .and_then(|p| classify::classify_interpreter(ctx, p));
    let id = FindingId::EnvVenvBaseMissing;
    match env {
        Some(e) if crate::python::repoint::replacement_base(ctx, &e).is_none() => r.outcome(
            id,
            Outcome::Refused,
            format!(
                "no Python {} here to repoint {} at",
                e.version.map(|v| v.minor_str()).unwrap_or_default(),
                e.prefix.display()
            ),
        ),
        Some(e) => match crate::python::repoint::repair(ctx, &e, || {
            let rec = proof::prove_kernel_dir(ctx, view, &name, &k.entry.found.disk_dir);
            proof::failure_text_of(&rec).map_or(Ok(()), Err)
        }) {
            Ok(done) => {
                r.changed = true;
                r.actions.push(done.clone());
                r.outcome(id, Outcome::Applied, done);
            }
            Err(why) => r.outcome(id, Outcome::Failed, why),
        },
        None => r.outcome(id, Outcome::Failed, "its venv cannot be read"),
    }
}

/// Apply the automatic fixes of one kernel's findings; a changed kernel.json's diff is
/// reported before it is written.
#[allow(clippy::too_many_lines)] // one finding after another, in the order they must be fixed
pub fn fix_one(
    ctx: &Context,
    prober: &Prober,
    reporter: &mut dyn Reporter,
    view: &JupyterView,
    k: &ResolvedKernel,
    yes: bool,
) -> anyhow::Result<FixResult> {
    let name = k.entry.found.name.to_string_lossy();
    let mut r = FixResult {
        name: name.clone(),
        resource_dir: k.entry.found.resource_dir.clone(),
        ..Default::default()
    };
    let mut findings = Vec::new();
    checks::check_kernel(ctx, view, k, &mut findings);
    let ids: HashSet<FindingId> = findings.iter().map(|f| f.id).collect();
    if ids.contains(&FindingId::EnvVenvBaseMissing) {
        repoint_venv(ctx, view, k, &mut r);
        return Ok(r);
    }
    if ids.contains(&FindingId::KernelInterpreterMissing) {
        let id = FindingId::KernelInterpreterMissing;
        if yes {
            write::remove_kernel_dir(&k.entry.found.disk_dir)?;
            r.removed = true;
            r.changed = true;
            let done = format!(
                "removed {} (its interpreter is gone)",
                k.entry.found.resource_dir.display()
            );
            r.actions.push(done.clone());
            r.outcome(id, Outcome::Applied, done);
        } else {
            r.outcome(
                id,
                Outcome::Refused,
                "its interpreter is gone; removing it needs --yes",
            );
        }
        return Ok(r);
    }
    if k.entry.found.native {
        return Ok(r);
    }
    let kfile = k.entry.found.disk_dir.join("kernel.json");
    let old_text = match std::fs::read_to_string(&kfile) {
        Ok(t) => t,
        Err(e) => {
            r.skipped
                .push(format!("cannot read {}: {e}", kfile.display()));
            return Ok(r);
        }
    };
    let Ok(mut json) = serde_json::from_str::<Value>(&old_text) else {
        r.skipped.push(format!(
            "{} is not plain JSON; fix it by hand",
            kfile.display()
        ));
        return Ok(r);
    };
    let mut python = k.interpreter.python().map(Path::to_path_buf);
    // The findings whose fix is an edit of kernel.json: applied once the file is written.
    let mut json_edits: Vec<(FindingId, String)> = Vec::new();
    if ids.contains(&FindingId::KernelRelativePython) {
        if let Some(t) = checks::relative_python_target(ctx, view, k) {
            if let Some(a0) = json
                .get_mut("argv")
                .and_then(|v| v.as_array_mut())
                .and_then(|a| a.first_mut())
            {
                *a0 = Value::String(t.display().to_string());
                r.actions.push(format!("argv[0] → {}", t.display()));
                json_edits.push((
                    FindingId::KernelRelativePython,
                    format!("argv[0] → {}", t.display()),
                ));
                python = Some(t);
            }
        }
    }
    let env = python
        .as_deref()
        .and_then(|p| classify::classify_interpreter(ctx, p));
    if let (Some(env), Some(py)) = (&env, &python) {
        repair_environment(
            ctx,
            prober,
            reporter,
            &ids,
            env,
            py,
            &kfile,
            &mut json,
            &mut r,
            &mut json_edits,
        )?;
    }
    let mut new_text = String::from_utf8_lossy(&write::kernel_json_bytes(&json)).into_owned();
    if old_text.ends_with('\n') {
        new_text.push('\n');
    }
    if serde_json::from_str::<Value>(&old_text).ok() != Some(json.clone()) {
        r.diff = similar::TextDiff::from_lines(&old_text, &new_text)
            .unified_diff()
            .header(
                &format!("{} (before)", kfile.display()),
                &format!("{} (after)", kfile.display()),
            )
            .to_string();
        reporter.event(Event::Diff {
            text: r.diff.clone(),
        });
        let bak = write::replace_kernel_json(&kfile, new_text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", kfile.display()))?;
        r.backup = Some(bak);
        r.changed = true;
        for (id, what) in json_edits {
            // One outcome per finding: a refused or failed part (pip seeding) already spoke.
            if !r.outcomes.iter().any(|o| o.id == id) {
                r.outcome(id, Outcome::Applied, what);
            }
        }
    } else if r.outcomes.iter().any(|o| o.outcome == Outcome::Applied) {
        r.changed = true;
    }
    Ok(r)
}

pub fn fix(
    ctx: &Context,
    prober: &Prober,
    reporter: &mut dyn Reporter,
    req: &FixRequest,
) -> anyhow::Result<(FixReport, Status)> {
    const VERB: &str = "kernel fix";
    let (names, all, yes) = (&req.names, req.all, req.yes);
    if !all && names.is_empty() {
        return Ok(usage(
            reporter,
            VERB,
            "name the kernels to fix, or pass --all",
        ));
    }
    for n in names {
        if let Err(e) = check_kernel_name(n) {
            return Ok(usage(reporter, VERB, e.to_string()));
        }
    }
    let view = view::select(ctx, prober, req.jupyter.as_deref())?;
    let kernels = kernels_of(ctx, &view);
    let mut results = Vec::new();
    let mut status = Status::Success;
    let chosen: Vec<&ResolvedKernel> = if all {
        kernels.iter().collect()
    } else {
        let mut v = Vec::new();
        for n in names {
            match kernels
                .iter()
                .find(|k| k.entry.found.name.to_string_lossy() == *n)
            {
                Some(k) => v.push(k),
                None => {
                    reporter.event(Event::error(VERB, format!("no kernel named {n:?}")));
                    status = Status::Failure;
                }
            }
        }
        v
    };
    for k in chosen {
        let mut r = fix_one(ctx, prober, reporter, &view, k, yes)?;
        if req.with_hook && !r.removed && !k.entry.found.native {
            match spec::hook_kernel(ctx, &k.entry.found.disk_dir, k.interpreter.python()) {
                Ok(Some(bak)) => {
                    r.actions.push(format!("argv += {}", spec::HOOK_ARG));
                    r.backup.get_or_insert(bak);
                    r.changed = true;
                }
                Ok(None) => {}
                Err(why) => r.skipped.push(why),
            }
        }
        if !req.no_start {
            prove_rewrite(ctx, &view, &mut r);
        }
        reporter.event(Event::KernelFixed {
            name: r.name.clone(),
            actions: r.actions.clone(),
            skipped: r.skipped.clone(),
            backup: r.backup.clone(),
            start: r.start.as_ref().map(|st| st.summary()),
        });
        if !r.skipped.is_empty() {
            status = Status::Failure;
        }
        results.push(r);
    }
    Ok((
        FixReport {
            kernels: Some(results),
        },
        status,
    ))
}

/// The kernel named exactly `name` in the chosen Jupyter; `Err(status)` once the reason there
/// `kip kernel fix`: start the kernel `r` rewrote; when it does not start, put kernel.json
/// back from the backup and report the fix as failed (a skipped item, so the command exits 1).
pub(crate) fn prove_rewrite(ctx: &Context, view: &JupyterView, r: &mut FixResult) {
    let Some(backup) = r.backup.clone().filter(|_| r.changed && !r.removed) else {
        return;
    };
    let kfile = backup.with_file_name("kernel.json");
    let dir = kfile.parent().unwrap_or(Path::new("/")).to_path_buf();
    let rec = proof::prove_kernel_dir(ctx, view, &r.name, &dir);
    if let Some(failed) = proof::failure_text_of(&rec) {
        // What was applied did not survive the proof: report it failed, not applied.
        for o in r
            .outcomes
            .iter_mut()
            .filter(|o| o.outcome == Outcome::Applied)
        {
            o.outcome = Outcome::Failed;
            o.detail = format!("{}; the rewritten kernel does not start", o.detail);
        }
        let restored =
            std::fs::read(&backup).and_then(|old| crate::kernel::write::write_atomic(&kfile, &old));
        r.skipped.push(match restored {
            Ok(()) => {
                r.restored = true;
                r.changed = false;
                format!(
                    "the rewritten kernel does not start, so kernel.json was restored from {}: {failed}",
                    backup.display()
                )
            }
            Err(e) => format!(
                "the rewritten kernel does not start, and restoring {} from {} failed ({e}): {failed}",
                kfile.display(),
                backup.display()
            ),
        });
    }
    r.start = Some(rec);
}

/// is none was reported.
fn named_kernel(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    verb: &str,
    name: &str,
    jupyter: Option<&Path>,
) -> anyhow::Result<Result<ResolvedKernel, Status>> {
    if let Err(e) = check_kernel_name(name) {
        r.event(Event::error(verb, e.to_string()));
        return Ok(Err(Status::Usage));
    }
    let view = view::select(ctx, prober, jupyter)?;
    let listing = view::list_kernels(ctx, &view);
    let found = resolve_all(ctx, &view, &listing)
        .into_iter()
        .find(|k| k.entry.found.name.to_string_lossy() == name);
    Ok(found.ok_or_else(|| {
        let skipped = listing
            .skipped
            .iter()
            .find(|(d, _)| d.file_name().is_some_and(|n| n.to_string_lossy() == name));
        let message = match skipped {
            Some((dir, why)) => format!(
                "no kernel named {name:?}: Jupyter skips {}, whose kernel.json cannot be read ({why})",
                crate::pyjson::os_text(dir)
            ),
            None => format!("no kernel named {name:?}"),
        };
        r.event(Event::error(verb, message));
        Status::Failure
    }))
}

pub fn remove(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    req: &RemoveRequest,
) -> anyhow::Result<(RemoveReport, Status)> {
    const VERB: &str = "kernel remove";
    let name = req.name.as_str();
    let k = match named_kernel(ctx, prober, r, VERB, name, req.jupyter.as_deref())? {
        Ok(k) => k,
        Err(status) => return Ok((RemoveReport::default(), status)),
    };
    if k.entry.found.native {
        return Ok(failed(r, VERB, format!("{name:?} is Jupyter's built-in kernel (ipykernel in its own environment); there is nothing on disk to remove")));
    }
    let kip_made = k.entry.spec.as_ref().is_ok_and(spec::is_kip_made);
    if !kip_made && !req.yes {
        return Ok(failed(
            r,
            VERB,
            format!(
                "{} was not created by kip; pass --yes to remove it",
                k.entry.found.resource_dir.display()
            ),
        ));
    }
    write::remove_kernel_dir(&k.entry.found.disk_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot remove {}: {e}",
            k.entry.found.resource_dir.display()
        )
    })?;
    let removed = Removed {
        name: name.to_string(),
        resource_dir: k.entry.found.resource_dir.clone(),
        uncovered: k.entry.shadows.first().map(|s| s.resource_dir.clone()),
    };
    Ok((
        RemoveReport {
            removed: Some(removed),
        },
        Status::Success,
    ))
}

#[derive(Debug, Serialize)]
pub struct Shown {
    pub name: String,
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub resource_dir: PathBuf,
    pub spec: Option<Value>,
    pub problem: Option<String>,
    #[serde(serialize_with = "crate::pyjson::path_text::vec")]
    pub shadows: Vec<PathBuf>,
    pub interpreter: KernelInterpreter,
    pub environment: Option<Environment>,
    pub kip_made: bool,
}

pub fn show(
    ctx: &Context,
    prober: &Prober,
    r: &mut dyn Reporter,
    req: &ShowRequest,
) -> anyhow::Result<(ShowReport, Status)> {
    let name = req.name.as_str();
    let k = match named_kernel(ctx, prober, r, "kernel show", name, req.jupyter.as_deref())? {
        Ok(k) => k,
        Err(status) => return Ok((ShowReport::default(), status)),
    };
    let shown = Shown {
        name: name.to_string(),
        resource_dir: k.entry.found.resource_dir.clone(),
        spec: k
            .entry
            .spec
            .as_ref()
            .ok()
            .map(|s| crate::pyjson::to_serde(&s.to_value())),
        problem: k.entry.spec.as_ref().err().map(|p| p.to_string()),
        shadows: k
            .entry
            .shadows
            .iter()
            .map(|s| s.resource_dir.clone())
            .collect(),
        environment: k
            .interpreter
            .python()
            .and_then(|p| classify::classify_interpreter(ctx, p)),
        interpreter: k.interpreter.clone(),
        kip_made: k.entry.spec.as_ref().is_ok_and(spec::is_kip_made),
    };
    Ok((ShowReport { shown: Some(shown) }, Status::Success))
}
