//! `kip completions SHELL`: the shell's completion script, generated from the same clap model
//! that parses the command line, so completions never drift from the real subcommands and flags.
//!
//! Unlike every other verb this is not a flow: it has no application logic, reads no machine
//! state and has no report, only clap_complete's text. Its one input is the clap model itself,
//! which lives here and must not be seen below `cli/` (tests/layering.rs), so the CLI is the
//! only place it can be.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

/// Print the completion script for `shell` on stdout.
pub fn run(shell: Shell) -> anyhow::Result<i32> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kip", &mut out);
    std::io::stdout().lock().write_all(&out)?;
    Ok(0)
}
