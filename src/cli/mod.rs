//! Command-line interface: one file per subcommand. Each returns the process exit code
//! (PRODUCT.md: 0 success, 1 the operation failed, 2 bad usage or bad input).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::context::Context;

pub mod envs;
pub mod kernels;
pub mod which;

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
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Kernelspecs exactly as Jupyter sees them, and the interpreter and environment behind each.
    Kernels {
        /// kip's own JSON schema (docs/json.md).
        #[arg(long, conflicts_with = "jupyter_json")]
        json: bool,
        /// Exactly what `jupyter kernelspec list --json` prints.
        #[arg(long)]
        jupyter_json: bool,
        /// Whose view: a `jupyter` command, or a Python whose environment has Jupyter.
        #[arg(long, value_name = "PATH")]
        jupyter: Option<PathBuf>,
    },
    /// Python environments and interpreters found on this machine.
    Envs {
        #[arg(long)]
        json: bool,
        /// Whose kernels to attribute to environments.
        #[arg(long, value_name = "PATH")]
        jupyter: Option<PathBuf>,
    },
    /// Every PATH match of python/pip/conda/jupyter/… and the interpreter each runs.
    Which {
        /// Commands to look up (default: python python3 pip pip3 conda mamba micromamba jupyter ipython uv).
        commands: Vec<String>,
        #[arg(long)]
        json: bool,
    },
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
    let ctx = match Context::from_process() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kip: {e:#}");
            return 2;
        }
    };
    let result = match cli.command {
        Command::Kernels {
            json,
            jupyter_json,
            jupyter,
        } => kernels::run(&ctx, jupyter.as_deref(), json, jupyter_json),
        Command::Envs { json, jupyter } => {
            let users = kernels::kernel_interpreters(&ctx, jupyter.as_deref());
            envs::run(&ctx, json, &users)
        }
        Command::Which { commands, json } => which::run(&ctx, &commands, json),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kip: {e:#}");
            1
        }
    }
}
