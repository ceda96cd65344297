//! `jupyter-kip`: what `jupyter kip ARGS` runs (jupyter_core finds `jupyter-<subcommand>` beside
//! `jupyter` or on PATH). It replaces itself with the `kip` installed in the same directory —
//! pip, uv and `cargo install` all put both there — so the two never disagree on a version.
//! It links nothing of kip: one copy of kip per install.

use std::path::PathBuf;
use std::process::Command;

/// The `kip` beside this executable (its real path: `uv tool` links scripts into ~/.local/bin).
fn kip_beside_me() -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let me = std::fs::canonicalize(&me).unwrap_or(me);
    let kip = me.with_file_name(format!("kip{}", std::env::consts::EXE_SUFFIX));
    kip.is_file().then_some(kip)
}

fn main() {
    let Some(kip) = kip_beside_me() else {
        eprintln!(
            "jupyter-kip: no kip beside this command; reinstall it with \
             `pip install --force-reinstall jupyter-kip` (or `cargo install --path .`)"
        );
        std::process::exit(2);
    };
    let mut cmd = Command::new(&kip);
    cmd.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        eprintln!("jupyter-kip: cannot run {}: {err}", kip.display());
        std::process::exit(1);
    }
    #[cfg(not(unix))]
    match cmd.status() {
        Ok(st) => std::process::exit(st.code().unwrap_or(1)),
        Err(err) => {
            eprintln!("jupyter-kip: cannot run {}: {err}", kip.display());
            std::process::exit(1);
        }
    }
}
