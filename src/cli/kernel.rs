//! `kip kernel add | fix | remove | show`: kernelspecs that cannot leak.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::Value;

use crate::context::Context;
use crate::doctor::finding::FindingId;
use crate::doctor::kernels as checks;
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
use crate::shell::path::find_on_path;

#[derive(Subcommand, Debug)]
pub enum KernelCommand {
    /// Register an environment (a prefix, a conda env name or an interpreter) as a kernel that activates it.
    Add(AddArgs),
    /// Repair kernelspecs: absolute interpreter, activation env, pip seeded, ipykernel installed, dead kernels removed (with --yes).
    Fix {
        /// Kernel names to repair.
        names: Vec<String>,
        /// Every kernel with a finding kip can repair.
        #[arg(long, conflicts_with = "names")]
        all: bool,
        /// Apply without asking, including removing kernels whose interpreter is gone.
        #[arg(long)]
        yes: bool,
        /// One JSON object on stdout (schema: docs/json.md); progress stays on stderr.
        #[arg(long)]
        json: bool,
        /// Whose kernels: a `jupyter` command, or a Python whose env has Jupyter.
        #[arg(long, value_name = "PATH")]
        jupyter: Option<PathBuf>,
    },
    /// Remove a kernelspec (one kip did not create needs --yes).
    Remove {
        name: String,
        /// Remove a kernel kip did not create.
        #[arg(long)]
        yes: bool,
        /// Whose kernels: a `jupyter` command, or a Python whose env has Jupyter.
        #[arg(long, value_name = "PATH")]
        jupyter: Option<PathBuf>,
    },
    /// The spec, where it lives, what shadows it, its interpreter and environment.
    Show {
        name: String,
        /// One JSON object on stdout (schema: docs/json.md).
        #[arg(long)]
        json: bool,
        /// Whose kernels: a `jupyter` command, or a Python whose env has Jupyter.
        #[arg(long, value_name = "PATH")]
        jupyter: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// A prefix, a conda env name, or an interpreter path.
    #[arg(value_name = "ENV|PYTHON", required_unless_present = "venv")]
    pub env: Option<String>,
    /// Create a venv at DIR first (uv if available, else python -m venv), then register it.
    #[arg(long, value_name = "DIR", conflicts_with = "env")]
    pub venv: Option<PathBuf>,
    /// With --venv: the base interpreter or version.
    #[arg(long, value_name = "PYTHON", requires = "venv")]
    pub python: Option<String>,
    /// The kernel's name (its directory; default: from the env's name).
    #[arg(long)]
    pub name: Option<String>,
    /// What Jupyter's launcher shows (default: "Python X.Y (NAME)").
    #[arg(long)]
    pub display_name: Option<String>,
    /// The chosen Jupyter's user data dir (default).
    #[arg(long, conflicts_with_all = ["sys_prefix", "prefix"])]
    pub user: bool,
    /// The registered env's own share/jupyter/kernels.
    #[arg(long, conflicts_with = "prefix")]
    pub sys_prefix: bool,
    /// P/share/jupyter/kernels.
    #[arg(long, value_name = "P")]
    pub prefix: Option<PathBuf>,
    /// Replace a kernel of the same name (one kip did not create also needs --yes).
    #[arg(long)]
    pub force: bool,
    /// Confirm replacing a kernel kip did not create.
    #[arg(long)]
    pub yes: bool,
    /// Do not seed pip into an env that lacks it.
    #[arg(long)]
    pub no_pip: bool,
    /// Do not set PYTHONNOUSERSITE=1.
    #[arg(long)]
    pub allow_user_site: bool,
    /// One JSON object on stdout (schema: docs/json.md); progress stays on stderr.
    #[arg(long)]
    pub json: bool,
    /// Whose kernels: a `jupyter` command, or a Python whose env has Jupyter.
    #[arg(long, value_name = "PATH")]
    pub jupyter: Option<PathBuf>,
}

pub fn run(ctx: &Context, prober: &Prober, cmd: KernelCommand) -> anyhow::Result<i32> {
    match cmd {
        KernelCommand::Add(a) => add(ctx, prober, &a),
        KernelCommand::Fix {
            names,
            all,
            yes,
            json,
            jupyter,
        } => fix(ctx, prober, &names, all, yes, json, jupyter.as_deref()),
        KernelCommand::Remove { name, yes, jupyter } => {
            remove(ctx, prober, &name, yes, jupyter.as_deref())
        }
        KernelCommand::Show {
            name,
            json,
            jupyter,
        } => show(ctx, prober, &name, json, jupyter.as_deref()),
    }
}

fn kernels_of(ctx: &Context, view: &JupyterView) -> Vec<ResolvedKernel> {
    resolve_all(ctx, view, &view::list_kernels(ctx, view))
}

/// Install packages into an interpreter's env through `kip install`'s machinery (its guards,
/// lock and import proof included).
fn install_into(
    ctx: &Context,
    prober: &Prober,
    python: &Path,
    pkgs: &[&str],
) -> anyhow::Result<i32> {
    let args = crate::flows::install::Request {
        specs: pkgs.iter().map(|s| s.to_string()).collect(),
        target: TargetArgs {
            python: Some(python.display().to_string()),
            ..Default::default()
        },
        exact: true,
        ..Default::default()
    };
    let (_, status) = crate::flows::install::run(
        ctx,
        prober,
        &mut crate::render::terminal::Terminal::new(),
        &args,
    )?;
    Ok(crate::cli::exit_code(status))
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

#[derive(Serialize)]
struct Added {
    name: String,
    display_name: String,
    resource_dir: PathBuf,
    python: PathBuf,
    prefix: PathBuf,
    kernel_json: Value,
    notes: Vec<String>,
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
fn create_venv(ctx: &Context, dir: &Path, python: Option<&str>) -> anyhow::Result<()> {
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
    eprintln!(
        "created venv {} ({})",
        dir.display(),
        if uv.is_some() {
            "uv venv"
        } else {
            "python -m venv"
        }
    );
    Ok(())
}

fn add(ctx: &Context, prober: &Prober, a: &AddArgs) -> anyhow::Result<i32> {
    let view = view::select(ctx, prober, a.jupyter.as_deref())?;
    if let Some(n) = &a.name {
        if !spec::valid_new_name(n) {
            eprintln!("kip kernel add: invalid kernel name {n:?}: kip creates names matching ^[a-z0-9._-]+$ without a leading dot");
            return Ok(2);
        }
    }
    let (env, python) = if let Some(dir) = &a.venv {
        let dir = if dir.is_absolute() {
            dir.clone()
        } else {
            ctx.cwd.join(dir)
        };
        if !dir.join("pyvenv.cfg").exists() {
            create_venv(ctx, &dir, a.python.as_deref())?;
        }
        let env = classify::classify_prefix(ctx, &dir)
            .ok_or_else(|| anyhow::anyhow!("{} is not a usable venv", dir.display()))?;
        let py = env.interpreter.clone();
        (env, py)
    } else {
        let arg = a.env.clone().unwrap_or_default();
        match resolve_env_arg(ctx, &arg) {
            Some(x) => x,
            None => {
                eprintln!("kip kernel add: {arg:?} is not a Python environment, an interpreter or a conda env name (see `kip envs`)");
                return Ok(2);
            }
        }
    };
    let name = a.name.clone().unwrap_or_else(|| spec::default_name(&env));
    let kernels = kernels_of(ctx, &view);
    let existing: Vec<&ResolvedKernel> = kernels
        .iter()
        .filter(|k| k.entry.found.name.to_string_lossy() == name && !k.entry.found.native)
        .collect();
    if !existing.is_empty() && !a.force {
        eprintln!(
            "kip kernel add: a kernel named {name:?} already exists at {}; choose another --name, or replace it with --force",
            existing[0].entry.found.resource_dir.display()
        );
        return Ok(1);
    }
    if let Some(k) = existing.first() {
        let kip_made = k.entry.spec.as_ref().is_ok_and(spec::is_kip_made);
        if !kip_made && !a.yes {
            eprintln!(
                "kip kernel add: {} was not created by kip; replacing it needs --force --yes",
                k.entry.found.resource_dir.display()
            );
            return Ok(1);
        }
    }
    // ipykernel, then pip, through the install machinery (PEP 668 and all).
    let mut env = env;
    if !checks::importable_from_disk(ctx, &env, "ipykernel") {
        eprintln!("{} lacks ipykernel: installing it", env.prefix.display());
        let code = install_into(ctx, prober, &python, &["ipykernel"])?;
        if code != 0 {
            eprintln!(
                "kip kernel add: ipykernel could not be installed into {}; nothing was registered",
                env.prefix.display()
            );
            return Ok(code);
        }
    }
    if !env.has_pip && !a.no_pip && !env.kind.is_conda_like() {
        eprintln!(
            "{} has no pip: seeding it so `!pip` inside the kernel reaches this env",
            env.prefix.display()
        );
        let code = install_into(ctx, prober, &python, &["pip"])?;
        if code != 0 {
            return Ok(code);
        }
    }
    env = classify::classify_interpreter(ctx, &python).unwrap_or(env);
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
    let kj = spec::kernel_json(&input);
    let mut notes = Vec::new();
    if env.kind.is_conda_like() && env.prefix.join("etc/conda/activate.d").is_dir() {
        notes.push(format!(
            "{} has conda activation scripts (etc/conda/activate.d); the kernel sets PATH and CONDA_PREFIX but does not run them, so variables they export are not set",
            env.prefix.display()
        ));
    }
    let home = ctx.home_resolved().unwrap_or_else(|| PathBuf::from("/"));
    let kernels_dir = if let Some(p) = &a.prefix {
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
    };
    let searched = view::kernel_dirs(ctx, &view).iter().any(|d| {
        crate::jupyter::paths::pathlib_str(&d.path)
            == crate::jupyter::paths::pathlib_str(&kernels_dir)
    });
    if !searched {
        notes.push(format!(
            "{} is not on the chosen Jupyter's kernel path ({}); it will not list this kernel",
            kernels_dir.display(),
            view.how
        ));
    }
    let mut files: Vec<(String, Vec<u8>)> =
        vec![("kernel.json".into(), write::kernel_json_bytes(&kj))];
    for (n, p) in spec::logo_files(ipk_dir.as_deref()) {
        if let Ok(b) = std::fs::read(&p) {
            files.push((n, b));
        }
    }
    let dest = write::install_kernel_dir(&kernels_dir, &name, &files).map_err(|e| {
        anyhow::anyhow!(
            "cannot write the kernel into {}: {e}",
            kernels_dir.display()
        )
    })?;
    for n in &notes {
        eprintln!("note: {n}");
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
    if a.json {
        println!("{}", serde_json::to_string_pretty(&added)?);
    } else {
        println!(
            "registered kernel {name} at {}\n  runs {}\n  activates {}",
            dest.display(),
            added.python.display(),
            env.prefix.display()
        );
    }
    Ok(0)
}

/// What `fix_one` did to one kernel.
#[derive(Debug, Default, Serialize)]
pub struct FixResult {
    pub name: String,
    pub resource_dir: PathBuf,
    pub changed: bool,
    pub removed: bool,
    pub backup: Option<PathBuf>,
    pub diff: String,
    pub actions: Vec<String>,
    pub skipped: Vec<String>,
}

/// Apply the automatic fixes of one kernel's findings.
pub fn fix_one(
    ctx: &Context,
    prober: &Prober,
    view: &JupyterView,
    k: &ResolvedKernel,
    yes: bool,
    quiet: bool,
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
    if ids.contains(&FindingId::KernelInterpreterMissing) {
        if yes {
            write::remove_kernel_dir(&k.entry.found.disk_dir)?;
            r.removed = true;
            r.changed = true;
            r.actions.push(format!(
                "removed {} (its interpreter is gone)",
                k.entry.found.resource_dir.display()
            ));
        } else {
            r.skipped
                .push("its interpreter is gone; removing it needs --yes".into());
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
    if ids.contains(&FindingId::KernelRelativePython) {
        if let Some(t) = checks::relative_python_target(ctx, k) {
            if let Some(a0) = json
                .get_mut("argv")
                .and_then(|v| v.as_array_mut())
                .and_then(|a| a.first_mut())
            {
                *a0 = Value::String(t.display().to_string());
                r.actions.push(format!("argv[0] → {}", t.display()));
                python = Some(t);
            }
        }
    }
    let env = python
        .as_deref()
        .and_then(|p| classify::classify_interpreter(ctx, p));
    if let (Some(env), Some(py)) = (&env, &python) {
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
                        r.actions
                            .push(format!("env.{key} = {}", val.as_str().unwrap_or_default()));
                        eb.insert(key, val);
                    }
                }
            }
            if !env.has_pip && !env.kind.is_conda_like() {
                r.actions
                    .push(format!("seed pip into {}", env.prefix.display()));
                if install_into(ctx, prober, py, &["pip"])? != 0 {
                    r.skipped.push("pip could not be seeded".into());
                }
            }
        }
        if ids.contains(&FindingId::KernelIpykernelMissing) {
            r.actions
                .push(format!("install ipykernel into {}", env.prefix.display()));
            if install_into(ctx, prober, py, &["ipykernel"])? != 0 {
                r.skipped.push("ipykernel could not be installed".into());
            }
        }
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
        // With --json the diff goes to stderr, keeping stdout one JSON document.
        if quiet {
            eprint!("{}", r.diff);
        } else {
            print!("{}", r.diff);
        }
        let bak = write::replace_kernel_json(&kfile, new_text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", kfile.display()))?;
        r.backup = Some(bak);
        r.changed = true;
    } else if !r.actions.is_empty() {
        r.changed = true;
    }
    Ok(r)
}

fn fix(
    ctx: &Context,
    prober: &Prober,
    names: &[String],
    all: bool,
    yes: bool,
    json: bool,
    jupyter: Option<&Path>,
) -> anyhow::Result<i32> {
    if !all && names.is_empty() {
        eprintln!("kip kernel fix: name the kernels to fix, or pass --all");
        return Ok(2);
    }
    for n in names {
        if let Err(e) = check_kernel_name(n) {
            eprintln!("kip kernel fix: {e}");
            return Ok(2);
        }
    }
    let view = view::select(ctx, prober, jupyter)?;
    let kernels = kernels_of(ctx, &view);
    let mut results = Vec::new();
    let mut code = 0;
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
                    eprintln!("kip kernel fix: no kernel named {n:?}");
                    code = 1;
                }
            }
        }
        v
    };
    for k in chosen {
        let r = fix_one(ctx, prober, &view, k, yes, json)?;
        if !json {
            for a in &r.actions {
                println!("{}: {a}", r.name);
            }
            for s in &r.skipped {
                println!("{}: not fixed: {s}", r.name);
            }
            if let Some(b) = &r.backup {
                println!("{}: backup {}", r.name, b.display());
            }
        }
        if !r.skipped.is_empty() {
            code = 1;
        }
        results.push(r);
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "kernels": results }))?
        );
    }
    Ok(code)
}

fn find_exact<'a>(kernels: &'a [ResolvedKernel], name: &str) -> Option<&'a ResolvedKernel> {
    kernels
        .iter()
        .find(|k| k.entry.found.name.to_string_lossy() == name)
}

fn remove(
    ctx: &Context,
    prober: &Prober,
    name: &str,
    yes: bool,
    jupyter: Option<&Path>,
) -> anyhow::Result<i32> {
    if let Err(e) = check_kernel_name(name) {
        eprintln!("kip kernel remove: {e}");
        return Ok(2);
    }
    let view = view::select(ctx, prober, jupyter)?;
    let kernels = kernels_of(ctx, &view);
    let Some(k) = find_exact(&kernels, name) else {
        eprintln!("kip kernel remove: no kernel named {name:?}");
        return Ok(1);
    };
    if k.entry.found.native {
        eprintln!("kip kernel remove: {name:?} is Jupyter's built-in kernel (ipykernel in its own environment); there is nothing on disk to remove");
        return Ok(1);
    }
    let kip_made = k.entry.spec.as_ref().is_ok_and(spec::is_kip_made);
    if !kip_made && !yes {
        eprintln!(
            "kip kernel remove: {} was not created by kip; pass --yes to remove it",
            k.entry.found.resource_dir.display()
        );
        return Ok(1);
    }
    write::remove_kernel_dir(&k.entry.found.disk_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot remove {}: {e}",
            k.entry.found.resource_dir.display()
        )
    })?;
    println!(
        "removed kernel {name} ({})",
        k.entry.found.resource_dir.display()
    );
    if let Some(next) = k.entry.shadows.first() {
        println!(
            "note: {} was hidden by it and is now the kernel {name}",
            next.resource_dir.display()
        );
    }
    Ok(0)
}

#[derive(Serialize)]
struct Shown {
    name: String,
    resource_dir: PathBuf,
    spec: Option<Value>,
    problem: Option<String>,
    shadows: Vec<PathBuf>,
    interpreter: KernelInterpreter,
    environment: Option<Environment>,
    kip_made: bool,
}

fn show(
    ctx: &Context,
    prober: &Prober,
    name: &str,
    json: bool,
    jupyter: Option<&Path>,
) -> anyhow::Result<i32> {
    if let Err(e) = check_kernel_name(name) {
        eprintln!("kip kernel show: {e}");
        return Ok(2);
    }
    let view = view::select(ctx, prober, jupyter)?;
    let kernels = kernels_of(ctx, &view);
    let Some(k) = find_exact(&kernels, name) else {
        eprintln!("kip kernel show: no kernel named {name:?}");
        return Ok(1);
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
    if json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(0);
    }
    println!("{name}\n  spec     {}", shown.resource_dir.display());
    if let Some(p) = &shown.problem {
        println!("  broken   {p}");
    }
    if let Some(s) = &shown.spec {
        println!(
            "{}",
            serde_json::to_string_pretty(s)?
                .lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    match &shown.interpreter {
        KernelInterpreter::Resolved {
            python,
            how,
            exists,
            ..
        } => {
            println!(
                "  runs     {}{}\n           {how}",
                python.display(),
                if *exists { "" } else { "  (MISSING)" }
            );
        }
        KernelInterpreter::Unresolved { why } => println!("  runs     unresolved ({why})"),
    }
    if let Some(e) = &shown.environment {
        println!(
            "  env      {} {} {}",
            e.kind.as_str(),
            e.version.map(|v| v.to_string()).unwrap_or_default(),
            e.prefix.display()
        );
    }
    for s in &shown.shadows {
        println!("  hides    {}", s.display());
    }
    println!(
        "  made by  {}",
        if shown.kip_made {
            "kip"
        } else {
            "someone else"
        }
    );
    Ok(0)
}
