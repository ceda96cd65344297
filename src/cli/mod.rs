//! Command-line interface: one file per subcommand. Each returns the process exit code
//! (PRODUCT.md: 0 success, 1 the operation failed, 2 bad usage or bad input).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::context::Context;
use crate::flows::{self, Status};
use crate::python::probe::Prober;
use crate::render::{self, terminal::Terminal};
use crate::report::Reporter;

pub mod completions;
pub mod kernel;

#[derive(Parser, Debug)]
#[command(
    name = "kip",
    version,
    about = "See every Jupyter kernel and Python environment, and which interpreter each really runs.",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Show kip's debug output on stderr (every interpreter probe); KIP_DEBUG=1 does the same.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Kernelspecs exactly as Jupyter sees them, and the interpreter and environment behind each.
    Kernels {
        /// kip's own JSON schema (docs/json.md).
        #[arg(long, conflicts_with = "jupyter_json")]
        json: bool,
        /// JSON lines on stdout: every event as it happens, then the `--json` report.
        #[arg(long, conflicts_with_all = ["json", "jupyter_json"])]
        json_stream: bool,
        /// Exactly what `jupyter kernelspec list --json` prints.
        #[arg(long)]
        jupyter_json: bool,
        /// Whose view: a `jupyter` command, or a Python whose environment has Jupyter.
        #[arg(long, value_name = "PATH")]
        jupyter: Option<PathBuf>,
    },
    /// Python environments and interpreters found on this machine.
    Envs {
        #[command(flatten)]
        output: JsonFlags,
        /// Whose kernels to attribute to environments.
        #[arg(long, value_name = "PATH")]
        jupyter: Option<PathBuf>,
    },
    /// Install into exactly the environment a kernel (or other target) runs, then prove the import.
    Install(Box<InstallCli>),
    /// Find every leak (kernels, environments, PATH commands, a notebook's imports), explain it, and print the fix.
    Doctor(DoctorCli),
    /// Register, repair, remove and inspect kernelspecs.
    #[command(subcommand)]
    Kernel(kernel::KernelCommand),
    /// Remove distributions from the target (conda remove for conda-owned ones, uv/pip otherwise).
    Uninstall {
        #[arg(value_name = "NAME", required = true)]
        names: Vec<String>,
        #[command(flatten)]
        target: TargetFlags,
        /// Forwarded to pip/uv only because you typed it (PEP 668).
        #[arg(long)]
        break_system_packages: bool,
        #[command(flatten)]
        output: JsonFlags,
    },
    /// Installed distributions of the target, and who installed each (conda, pip, uv).
    List {
        #[command(flatten)]
        target: TargetFlags,
        #[command(flatten)]
        output: JsonFlags,
    },
    /// Can the target import MODULE, and from where? If not, where else is it installed?
    Why {
        module: String,
        #[command(flatten)]
        target: TargetFlags,
        #[command(flatten)]
        output: JsonFlags,
    },
    /// Every PATH match of python/pip/conda/jupyter/… and the interpreter each runs.
    Which {
        /// Commands to look up (default: python python3 pip pip3 conda mamba micromamba jupyter ipython uv).
        commands: Vec<String>,
        #[command(flatten)]
        output: JsonFlags,
    },
    /// Running Jupyter servers and kernels: each kernel's interpreter, environment and notebook, and whether it should restart.
    Ps {
        /// One JSON object on stdout (schema: docs/json.md).
        #[arg(long)]
        json: bool,
        /// JSON lines on stdout: every event as it happens, then the `--json` report.
        #[arg(long, conflicts_with = "json")]
        json_stream: bool,
    },
    /// A completion script for your shell, e.g. `source <(kip completions bash)`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `--json` and `--json-stream`, worded alike for every verb whose progress goes to stderr.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct JsonFlags {
    /// One JSON object on stdout (schema: docs/json.md); progress stays on stderr.
    #[arg(long)]
    pub json: bool,
    /// JSON lines on stdout: every event as it happens, then the `--json` report.
    #[arg(long, conflicts_with = "json")]
    pub json_stream: bool,
}

impl JsonFlags {
    pub fn mode(self) -> Mode {
        Mode::new(self.json, self.json_stream)
    }
}

/// TARGET flags shared by install, uninstall, list, why and doctor.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TargetFlags {
    /// The kernel whose environment to use (its exact name as `kip kernels` shows it).
    #[arg(long, value_name = "NAME")]
    pub kernel: Option<String>,
    /// An interpreter path, or a version request such as 3.12.
    #[arg(long, value_name = "PATH_OR_VERSION")]
    pub python: Option<String>,
    /// An environment prefix.
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// A path (if it contains / or exists), else a conda env name, then a pyenv version.
    #[arg(long, value_name = "NAME_OR_DIR")]
    pub env: Option<String>,
    /// The kernel named in this notebook's metadata.kernelspec.name.
    #[arg(long, value_name = "FILE.ipynb")]
    pub notebook: Option<PathBuf>,
    /// A running kernel by its process id (also one no kernelspec names).
    #[arg(long, value_name = "PID")]
    pub kernel_pid: Option<i32>,
    /// A running kernel by the connection file it was started with.
    #[arg(long, value_name = "FILE")]
    pub connection_file: Option<PathBuf>,
    /// Whose view of the kernels: a `jupyter` command, or a Python whose env has Jupyter.
    #[arg(long, value_name = "PATH")]
    pub jupyter: Option<PathBuf>,
}

impl From<TargetFlags> for crate::install::target::TargetArgs {
    fn from(f: TargetFlags) -> Self {
        crate::install::target::TargetArgs {
            kernel: f.kernel,
            python: f.python,
            prefix: f.prefix,
            env: f.env,
            notebook: f.notebook,
            kernel_pid: f.kernel_pid,
            connection_file: f.connection_file,
            jupyter: f.jupyter,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct DoctorCli {
    /// A notebook whose kernel and imports to check.
    #[arg(value_name = "NOTEBOOK")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetFlags,
    #[command(flatten)]
    pub output: JsonFlags,
    /// Apply the fixes marked automatic, then check again.
    #[arg(long)]
    pub fix: bool,
    /// Allow destructive fixes (removing a kernel whose interpreter is gone).
    #[arg(long, requires = "fix")]
    pub yes: bool,
    /// Start every kernel checked (in the notebook's folder for its kernel) and report
    /// the ones that die or do not answer (KIP_START_TIMEOUT_MS, default 30000).
    #[arg(long, conflicts_with = "no_start")]
    pub start: bool,
    /// Start no kernel, not even the notebook's (which `kip doctor NOTEBOOK` starts).
    #[arg(long)]
    pub no_start: bool,
}

impl DoctorCli {
    fn into_request(self) -> flows::doctor::Request {
        flows::doctor::Request {
            notebook: self.file.or_else(|| self.target.notebook.clone()),
            target: self.target.into(),
            fix: self.fix,
            yes: self.yes,
            start: crate::doctor::start::StartMode::from_flags(self.start, self.no_start),
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct InstallCli {
    /// Requirements (PEP 508, local paths, URLs). Import names are mapped (sklearn → scikit-learn).
    #[arg(value_name = "SPEC")]
    pub specs: Vec<String>,
    #[command(flatten)]
    pub target: TargetFlags,
    /// Which installer (auto: conda family for conda envs, uv when available, else pip).
    #[arg(long, value_enum, default_value = "auto")]
    pub installer: crate::install::plan::InstallerChoice,
    /// Print the exact commands and the target; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: JsonFlags,
    /// Upgrade the named packages.
    #[arg(short = 'U', long)]
    pub upgrade: bool,
    /// Editable install of a local project.
    #[arg(short = 'e', long = "editable", value_name = "PATH")]
    pub editable: Vec<PathBuf>,
    /// Allow pre-releases (pip/uv; conda channels keep them under labels).
    #[arg(long)]
    pub pre: bool,
    /// Install the named packages without their dependencies.
    #[arg(long)]
    pub no_deps: bool,
    /// Reinstall the named packages even when they look installed (their files may be gone).
    #[arg(long)]
    pub force_reinstall: bool,
    /// Constraints file.
    #[arg(short = 'c', long = "constraint", value_name = "FILE")]
    pub constraints: Vec<PathBuf>,
    /// Requirements file, read by pip/uv as pip reads it.
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirements: Vec<PathBuf>,
    /// The package index (instead of PyPI or your pip/uv settings).
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,
    /// Another index, searched as pip does (every index, best match).
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,
    /// A directory or page of distribution files to install from.
    #[arg(long, value_name = "URL_OR_DIR")]
    pub find_links: Vec<String>,
    /// Ignore every package index (only --find-links).
    #[arg(long)]
    pub no_index: bool,
    /// Install names exactly as typed (no import-name mapping).
    #[arg(long)]
    pub exact: bool,
    /// With --notebook: install the distribution of every import the notebook's kernel lacks;
    /// refused (exit 1) when the notebook's kernel is not the env its project holds or cannot
    /// start here, unless --kernel says where to install.
    #[arg(long, requires = "notebook")]
    pub missing: bool,
    /// Allow changing conda-owned packages from PyPI, and other confirmations.
    #[arg(long)]
    pub yes: bool,
    /// Forwarded to pip/uv only because you typed it (PEP 668).
    #[arg(long)]
    pub break_system_packages: bool,
    /// Raw arguments for the installer, after `--`.
    #[arg(last = true, value_name = "ARGS")]
    pub raw: Vec<String>,
}

impl InstallCli {
    fn into_request(self) -> crate::flows::install::Request {
        crate::flows::install::Request {
            specs: self.specs,
            target: self.target.into(),
            installer: Some(self.installer),
            options: crate::install::commands::InstallOptions {
                upgrade: self.upgrade,
                editable: self.editable,
                pre: self.pre,
                no_deps: self.no_deps,
                force_reinstall: self.force_reinstall,
                constraints: self.constraints,
                requirement_files: self.requirements,
                index: crate::install::index::IndexFlags {
                    index_url: self.index_url,
                    extra_index_urls: self.extra_index_url,
                    find_links: self.find_links,
                    no_index: self.no_index,
                },
                break_system_packages: self.break_system_packages,
                dry_run: self.dry_run,
                raw: self.raw,
            },
            exact: self.exact,
            missing: self.missing,
            yes: self.yes,
        }
    }
}

/// Parse, run, and return the exit code. Usage errors exit 2.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    if let Command::Completions { shell } = cli.command {
        return outcome_code(completions::run(shell));
    }
    let ctx = match Context::from_process() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kip: {e:#}");
            return 2;
        }
    };
    if cli.verbose || ctx.vars.contains("KIP_DEBUG") {
        debug_output();
    }
    // One prober for the invocation: its memo answers each interpreter once.
    let prober = Prober::new(crate::context::cache_dir(&ctx.vars), &ctx.vars);
    outcome_code(dispatch(&ctx, &prober, cli.command))
}

/// A command's outcome as the process exit code; an error is printed and exits 1.
fn outcome_code(result: anyhow::Result<i32>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kip: {e:#}");
            1
        }
    }
}

/// Run one command: args → request → flow → render; the exit code.
#[allow(clippy::too_many_lines)] // one arm per verb, each args → request → face
fn dispatch(ctx: &Context, prober: &Prober, command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Kernels {
            json,
            json_stream,
            jupyter_json,
            jupyter,
        } => {
            let req = flows::kernels::Request { jupyter };
            if jupyter_json {
                let (report, status) = flows::kernels::run(ctx, prober, &req)?;
                write(render::kernels::jupyter_json(&report));
                return Ok(exit_code(status));
            }
            let mode = Mode::new(json, json_stream);
            face(mode, render::kernels::human, render::kernels::json, |_| {
                flows::kernels::run(ctx, prober, &req)
            })
        }
        Command::Envs { output, jupyter } => {
            let req = flows::envs::Request { jupyter };
            face(
                output.mode(),
                render::envs::human,
                render::envs::json,
                |_| Ok(flows::envs::run(ctx, prober, &req)),
            )
        }
        Command::Which { commands, output } => {
            let req = flows::which::Request { commands };
            face(
                output.mode(),
                render::which::human,
                render::which::json,
                |r| Ok(flows::which::run(ctx, r, &req)),
            )
        }
        Command::Install(i) => {
            let mode = i.output.mode();
            let req = i.into_request();
            face(mode, render::install::human, render::install::json, |r| {
                flows::install::run(ctx, prober, r, &req)
            })
        }
        Command::Uninstall {
            names,
            target,
            break_system_packages,
            output,
        } => {
            let req = flows::uninstall::Request {
                names,
                target: target.into(),
                break_system_packages,
            };
            face(
                output.mode(),
                render::uninstall::human,
                render::uninstall::json,
                |r| flows::uninstall::run(ctx, prober, r, &req),
            )
        }
        Command::Doctor(d) => {
            let mode = d.output.mode();
            let req = d.into_request();
            face(mode, render::doctor::human, render::doctor::json, |r| {
                flows::doctor::run(ctx, prober, r, &req)
            })
        }
        Command::Kernel(k) => kernel::run(ctx, prober, k),
        Command::Why {
            module,
            target,
            output,
        } => {
            let req = flows::why::Request {
                module,
                target: target.into(),
            };
            face(output.mode(), render::why::human, render::why::json, |r| {
                flows::why::run(ctx, prober, r, &req)
            })
        }
        Command::List { target, output } => {
            let req = flows::list::Request {
                target: target.into(),
            };
            face(
                output.mode(),
                render::list::human,
                render::list::json,
                |r| flows::list::run(ctx, prober, r, &req),
            )
        }
        Command::Ps { json, json_stream } => face(
            Mode::new(json, json_stream),
            render::ps::human,
            render::ps::json,
            |r| Ok(flows::ps::run(ctx, r)),
        ),
        Command::Completions { shell } => completions::run(shell),
    }
}

/// Run a flow through this face's reporter, then render its report and map its status.
pub fn face<R>(
    mode: Mode,
    human: fn(&R) -> render::Output,
    as_json: fn(&R) -> render::Output,
    flow: impl FnOnce(&mut dyn Reporter) -> anyhow::Result<(R, Status)>,
) -> anyhow::Result<i32> {
    let (report, status) = flow(&mut *mode.reporter())?;
    Ok(finish(status, mode, &report, human, as_json))
}

/// How a verb's result is shown: for people, one JSON document (`--json`), or JSON lines of
/// events and then that document (`--json-stream`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Human,
    Json,
    JsonStream,
}

impl Mode {
    pub fn new(json: bool, json_stream: bool) -> Mode {
        match (json, json_stream) {
            (_, true) => Mode::JsonStream,
            (true, false) => Mode::Json,
            (false, false) => Mode::Human,
        }
    }

    /// The reporter of this face: the terminal (its stdout kept for the JSON document with
    /// `--json`), or JSON lines.
    pub fn reporter(self) -> Box<dyn Reporter> {
        match self {
            Mode::Human => Box::new(Terminal::new()),
            Mode::Json => Box::new(Terminal::with_json(true)),
            Mode::JsonStream => Box::new(render::stream::JsonLines),
        }
    }
}

/// kip's debug channel (`tracing` events at debug level) as plain lines on stderr.
fn debug_output() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(std::io::stderr)
        .without_time()
        .with_level(false)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

/// PRODUCT.md's exit codes.
pub fn exit_code(status: Status) -> i32 {
    match status {
        Status::Success => 0,
        Status::Failure => 1,
        Status::Usage => 2,
        Status::Interrupted => 130,
    }
}

/// Render a flow's report (JSON or for people), write it, and map the status to the exit code.
pub fn finish<R>(
    status: Status,
    mode: Mode,
    report: &R,
    human: fn(&R) -> render::Output,
    as_json: fn(&R) -> render::Output,
) -> i32 {
    match mode {
        Mode::Human => write(human(report)),
        Mode::Json => write(as_json(report)),
        // Everything a person would read beside the document is in the events or the report.
        Mode::JsonStream => write(render::Output::stdout(render::stream::report_line(
            &as_json(report).stdout,
        ))),
    }
    exit_code(status)
}

/// Write a rendered report: stderr first (it comes before the result, as progress does).
pub fn write(out: render::Output) {
    use std::io::Write;
    if out.styled {
        let _ = anstream::stderr().write_all(out.stderr.as_bytes());
    } else if !out.stderr.is_empty() {
        let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    }
    if out.styled {
        let _ = render::stdout().write_all(out.stdout.as_bytes());
    } else if !out.stdout.is_empty() {
        let _ = std::io::stdout().lock().write_all(out.stdout.as_bytes());
    }
}
