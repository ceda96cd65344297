//! `kip completions SHELL`: the shell's completion script, generated from the same clap model
//! that parses the command line, so completions never drift from the real subcommands and flags.

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
