//! The `kip` binary: parse arguments, run the command, map the outcome to an exit code.

fn main() {
    std::process::exit(kip::cli::main());
}
