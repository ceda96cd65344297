//! `kip kernel add | fix | remove | show | use`: the options, and each subcommand's request for
//! `flows::kernel` (`use`: `flows::kernel_use`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::{face, JsonFlags, Mode};
use crate::context::Context;
use crate::python::probe::Prober;

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
        /// Do not prove a rewritten kernel by starting it (by default one that does not start
        /// gets its kernel.json back from the backup and is reported as failed).
        #[arg(long)]
        no_start: bool,
        /// Also load kip's IPython extension in these kernels (`--ext=kip`; see `kernel add`).
        #[arg(long)]
        with_hook: bool,
        #[command(flatten)]
        output: JsonFlags,
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
    /// Point notebooks at a kernel: set metadata.kernelspec (backup kept, written atomically, formatting kept).
    Use {
        /// The kernel's name, as `kip kernels` shows it.
        name: String,
        #[arg(value_name = "NOTEBOOK", required = true)]
        notebooks: Vec<PathBuf>,
        /// One JSON object on stdout (schema: docs/json.md); warnings stay on stderr.
        #[arg(long)]
        json: bool,
        /// JSON lines on stdout: every event as it happens, then the `--json` report.
        #[arg(long, conflicts_with = "json")]
        json_stream: bool,
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
        /// JSON lines on stdout: every event as it happens, then the `--json` report.
        #[arg(long, conflicts_with = "json")]
        json_stream: bool,
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
    /// Do not prove the new kernel by starting it (by default a kernel that does not start is
    /// removed again and the command exits 1).
    #[arg(long)]
    pub no_start: bool,
    /// Load kip's IPython extension in this kernel (`--ext=kip`): a ModuleNotFoundError is
    /// followed by kip's answer, and `%kip` works without `%load_ext`. The env needs jupyter-kip.
    #[arg(long)]
    pub with_hook: bool,
    #[command(flatten)]
    pub output: JsonFlags,
    /// Whose kernels: a `jupyter` command, or a Python whose env has Jupyter.
    #[arg(long, value_name = "PATH")]
    pub jupyter: Option<PathBuf>,
}

pub fn run(ctx: &Context, prober: &Prober, cmd: KernelCommand) -> anyhow::Result<i32> {
    use crate::flows::kernel as flow;
    use crate::render::kernel as show;
    match cmd {
        KernelCommand::Add(a) => {
            let req = flow::AddRequest {
                env: a.env,
                venv: a.venv,
                python: a.python,
                name: a.name,
                display_name: a.display_name,
                sys_prefix: a.sys_prefix,
                prefix: a.prefix,
                force: a.force,
                yes: a.yes,
                no_pip: a.no_pip,
                allow_user_site: a.allow_user_site,
                no_start: a.no_start,
                with_hook: a.with_hook,
                jupyter: a.jupyter,
            };
            face(a.output.mode(), show::add_human, show::add_json, |r| {
                flow::add(ctx, prober, r, &req)
            })
        }
        KernelCommand::Fix {
            names,
            all,
            yes,
            no_start,
            with_hook,
            output,
            jupyter,
        } => {
            let req = flow::FixRequest {
                names,
                all,
                yes,
                no_start,
                with_hook,
                jupyter,
            };
            face(output.mode(), show::fix_human, show::fix_json, |r| {
                flow::fix(ctx, prober, r, &req)
            })
        }
        KernelCommand::Remove { name, yes, jupyter } => {
            let req = flow::RemoveRequest { name, yes, jupyter };
            face(Mode::Human, show::remove_human, show::remove_human, |r| {
                flow::remove(ctx, prober, r, &req)
            })
        }
        KernelCommand::Show {
            name,
            json,
            json_stream,
            jupyter,
        } => {
            let req = flow::ShowRequest { name, jupyter };
            face(
                Mode::new(json, json_stream),
                show::show_human,
                show::show_json,
                |r| flow::show(ctx, prober, r, &req),
            )
        }
        KernelCommand::Use {
            name,
            notebooks,
            json,
            json_stream,
            jupyter,
        } => {
            let req = crate::flows::kernel_use::Request {
                name,
                notebooks,
                jupyter,
            };
            let mode = Mode::new(json, json_stream);
            face(
                mode,
                crate::render::kernel_use::human,
                crate::render::kernel_use::json,
                |r| crate::flows::kernel_use::run(ctx, prober, r, &req),
            )
        }
    }
}
