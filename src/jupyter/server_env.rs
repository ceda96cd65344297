//! The environment of the Jupyter server that launches kernels — what every kernel inherits,
//! and so what its `!pip`, `!python` and `!conda` see. Outside a kernel it is read from a live
//! server of that Jupyter when one runs, else modelled: kip's own environ plus what the way
//! the server is started adds (a pyenv shim's `pyenv exec`, a `conda activate`). Inside a
//! kernel the parent server's environ is read directly (the view's `JPY_PARENT_PID` rule).

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::envvars::EnvVars;
use crate::jupyter::{runtime, servers};
use crate::python::{classify, pyenv};

/// The environment a server started from here (kip's `base` environ, cwd) gets when it is run
/// as `jupyter` — the launch-time view's command — plus one sentence saying what the launcher
/// added, if anything:
/// - a pyenv shim runs it under `pyenv exec`, which puts the version chosen *here* (kip's cwd:
///   where the server is started, not where a notebook lives) first on PATH;
/// - a `jupyter` of a conda prefix that is not on this PATH, in a shell where conda is set up
///   (`CONDA_EXE`, `CONDA_SHLVL` or `condabin` on PATH), is started the way conda documents:
///   after `conda activate` of that prefix ([`conda_activated`]).
///
/// A prefix already active here (`CONDA_PREFIX`) or whose `bin` is already on PATH (activated,
/// stacked, or added by hand) needs no model: a server started here inherits this PATH as is.
pub fn server_environment(
    ctx: &Context,
    base: EnvVars,
    jupyter: &Path,
    through_shims: bool,
) -> (EnvVars, Option<String>) {
    if pyenv::shim_root(jupyter).is_some() {
        if !through_shims {
            return (base, None);
        }
        let r = pyenv::resolve_shim_in(ctx, &base, jupyter, "jupyter");
        return match pyenv::exec_bin(&r) {
            Some(bin) => {
                let how = format!(
                    "a pyenv shim: the server runs with {} first on PATH (the version chosen in {}, where it is started)",
                    bin.display(),
                    ctx.cwd.display()
                );
                (with_bin_first(&base, &bin), Some(how))
            }
            None => (base, None),
        };
    }
    let Some(prefix) = conda_prefix_of(jupyter) else {
        return (base, None);
    };
    let same = |a: &Path, b: &Path| {
        a == b || std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok()
    };
    if let Some(active) = base.get_nonempty("CONDA_PREFIX") {
        if same(Path::new(active), &prefix) {
            let how = format!(
                "conda env {} is active here (CONDA_PREFIX): the server runs with its bin first on PATH",
                prefix.display()
            );
            return (base, Some(how));
        }
    }
    let bin = prefix.join("bin");
    let conda_set_up = base.get_nonempty("CONDA_EXE").is_some()
        || base.get_nonempty("CONDA_SHLVL").is_some()
        || base
            .path_dirs()
            .iter()
            .any(|d| d.file_name().is_some_and(|n| n == "condabin"));
    if base.path_dirs().iter().any(|d| same(d, &bin)) || !conda_set_up {
        return (base, None);
    }
    let env = conda_activated(&base, &prefix);
    let how = format!(
        "a conda env's Jupyter ({}): the server is modelled as started after `conda activate {}` (its bin first on PATH, CONDA_PREFIX set)",
        prefix.display(),
        env.get_str("CONDA_DEFAULT_ENV").unwrap_or_default()
    );
    (env, Some(how))
}

/// The environ of a live Jupyter server of this user that runs `launcher`'s env — a
/// `jpserver-*.json` in kip's runtime dirs whose process is alive and whose interpreter (its
/// argv[0], as its script's shebang names it) is in that env — read from `/proc/<pid>/environ`:
/// exact, where [`server_environment`] infers. The newest such server wins; with its pid.
pub fn running_server_environ(ctx: &Context, launcher: &Path) -> Option<(EnvVars, i32)> {
    let want = classify::classify_interpreter(ctx, launcher)?;
    let mut best: Option<(std::time::SystemTime, i32, EnvVars)> = None;
    for file in servers::info_files(&servers::runtime_dirs(ctx, &[])) {
        let Ok(info) = servers::read_info(&file) else {
            continue;
        };
        let Some(pid) = info.pid.filter(|_| info.alive()) else {
            continue;
        };
        let Some(argv0) = process_argv0(pid).filter(|a| a.is_absolute()) else {
            continue;
        };
        if !classify::classify_interpreter(ctx, &argv0).is_some_and(|e| e.same_env(&want)) {
            continue;
        }
        let Some(environ) = runtime::process_environ(pid) else {
            continue;
        };
        let started = runtime::process_start_time(pid).unwrap_or(std::time::UNIX_EPOCH);
        if best.as_ref().is_none_or(|(t, _, _)| started > *t) {
            best = Some((started, pid, environ));
        }
    }
    best.map(|(_, pid, env)| (env, pid))
}

/// `argv[0]` of a process (`/proc/<pid>/cmdline`).
fn process_argv0(pid: i32) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let first = raw.split(|b| *b == 0).next().filter(|a| !a.is_empty())?;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(first)))
}

/// The conda prefix (`conda-meta/` beside `bin/`, not a pixi env) a `jupyter` command lives in,
/// following symlinks to the real script.
fn conda_prefix_of(jupyter: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(jupyter).ok()?;
    let prefix = real.parent()?.parent()?;
    (prefix.join("conda-meta").is_dir() && !prefix.join("conda-meta/pixi").exists())
        .then(|| prefix.to_path_buf())
}

/// `base` after `conda activate PREFIX` (conda's `activate.py`, `_build_activate_stack`,
/// without stacking): the previously active prefix's `bin` is replaced by PREFIX's in place
/// (PREFIX's goes first when none was active, with `condabin` after it if missing);
/// `CONDA_PREFIX`, `CONDA_DEFAULT_ENV` (`base` for the root prefix, the folder name under an
/// `envs` dir, else the path), `CONDA_SHLVL` + 1, `CONDA_PREFIX_<old level>` = the previous
/// prefix, and `CONDA_PROMPT_MODIFIER`.
pub fn conda_activated(base: &EnvVars, prefix: &Path) -> EnvVars {
    let mut env = base.clone();
    let old = base.get_nonempty("CONDA_PREFIX").map(PathBuf::from);
    let level: u32 = base
        .get_str("CONDA_SHLVL")
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let bin = prefix.join("bin");
    let mut dirs = base.path_dirs();
    let old_at = old
        .as_ref()
        .and_then(|o| dirs.iter().position(|d| *d == o.join("bin")));
    dirs.retain(|d| old.as_ref().is_none_or(|o| *d != o.join("bin")));
    let root = base
        .get_nonempty("CONDA_EXE")
        .map(PathBuf::from)
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .or_else(|| {
            prefix
                .join("condabin")
                .is_dir()
                .then(|| prefix.to_path_buf())
        });
    match old_at {
        Some(i) => dirs.insert(i.min(dirs.len()), bin),
        None => {
            let mut first = vec![bin];
            if let Some(condabin) = root.as_ref().map(|r| r.join("condabin")) {
                if !dirs.contains(&condabin) {
                    first.push(condabin);
                }
            }
            dirs.splice(0..0, first);
        }
    }
    if let Ok(path) = std::env::join_paths(&dirs) {
        env.set("PATH", path);
    }
    let is_root = root.as_deref() == Some(prefix) || prefix.join("condabin").is_dir();
    let name = if is_root {
        "base".to_string()
    } else if prefix
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "envs")
    {
        prefix
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        prefix.to_string_lossy().into_owned()
    };
    if let Some(old) = old.filter(|_| level > 0) {
        env.set(format!("CONDA_PREFIX_{level}"), old);
    }
    env.set("CONDA_PREFIX", prefix);
    env.set("CONDA_SHLVL", (level + 1).to_string());
    env.set("CONDA_PROMPT_MODIFIER", format!("({name}) "));
    env.set("CONDA_DEFAULT_ENV", name);
    env
}

/// `env` with `bin` first on PATH — what an activation does.
pub fn with_bin_first(env: &EnvVars, bin: &Path) -> EnvVars {
    let mut env = env.clone();
    let mut path = std::ffi::OsString::from(bin.as_os_str());
    if let Some(old) = env.get("PATH") {
        path.push(":");
        path.push(old);
    }
    env.set("PATH", path);
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conda_tree() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("miniconda3");
        let env = root.join("envs/ds");
        for dir in [
            root.join("conda-meta"),
            root.join("condabin"),
            root.join("bin"),
            env.join("conda-meta"),
            env.join("bin"),
        ] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(env.join("bin/jupyter"), "#!/bin/sh\n").unwrap();
        (d, root, env)
    }

    fn path_of(e: &EnvVars) -> Vec<PathBuf> {
        e.path_dirs()
    }

    #[test]
    fn conda_activate_from_base_replaces_base_bin_in_place() {
        let (_d, root, env) = conda_tree();
        let base = EnvVars::from_pairs([
            (
                "PATH",
                format!(
                    "/h/bin:{}/bin:{}/condabin:/usr/bin",
                    root.display(),
                    root.display()
                ),
            ),
            ("CONDA_PREFIX", root.display().to_string()),
            ("CONDA_SHLVL", "1".into()),
            ("CONDA_EXE", format!("{}/bin/conda", root.display())),
            ("CONDA_DEFAULT_ENV", "base".into()),
        ]);
        let a = conda_activated(&base, &env);
        assert_eq!(
            path_of(&a),
            vec![
                PathBuf::from("/h/bin"),
                env.join("bin"),
                root.join("condabin"),
                PathBuf::from("/usr/bin")
            ]
        );
        assert_eq!(a.get_str("CONDA_PREFIX"), Some(env.to_str().unwrap()));
        assert_eq!(a.get_str("CONDA_DEFAULT_ENV"), Some("ds"));
        assert_eq!(a.get_str("CONDA_SHLVL"), Some("2"));
        assert_eq!(a.get_str("CONDA_PREFIX_1"), Some(root.to_str().unwrap()));
        assert_eq!(a.get_str("CONDA_PROMPT_MODIFIER"), Some("(ds) "));
    }

    #[test]
    fn conda_activate_with_nothing_active_puts_bin_and_condabin_first() {
        let (d, root, env) = conda_tree();
        let base = EnvVars::from_pairs([
            ("PATH", "/usr/bin".to_string()),
            ("CONDA_SHLVL", "0".into()),
            ("CONDA_EXE", format!("{}/bin/conda", root.display())),
        ]);
        let a = conda_activated(&base, &env);
        assert_eq!(
            path_of(&a),
            vec![
                env.join("bin"),
                root.join("condabin"),
                PathBuf::from("/usr/bin")
            ]
        );
        assert_eq!(a.get_str("CONDA_SHLVL"), Some("1"));
        assert!(a.get("CONDA_PREFIX_0").is_none());
        // The root prefix is `base`; a prefix outside any `envs` dir is named by its path.
        assert_eq!(
            conda_activated(&base, &root).get_str("CONDA_DEFAULT_ENV"),
            Some("base")
        );
        let loose = d.path().join("proj-env");
        assert_eq!(
            conda_activated(&base, &loose).get_str("CONDA_DEFAULT_ENV"),
            loose.to_str()
        );
    }

    #[test]
    fn server_environment_models_conda_activate_only_when_it_is_needed() {
        let (d, root, env) = conda_tree();
        let jupyter = env.join("bin/jupyter");
        let ctx = Context::new(
            crate::platform::Os::Linux,
            EnvVars::default(),
            d.path().to_path_buf(),
        );
        let base_shell = EnvVars::from_pairs([
            (
                "PATH",
                format!(
                    "{}/bin:{}/condabin:/usr/bin",
                    root.display(),
                    root.display()
                ),
            ),
            ("CONDA_PREFIX", root.display().to_string()),
            ("CONDA_SHLVL", "1".into()),
            ("CONDA_EXE", format!("{}/bin/conda", root.display())),
        ]);
        // A conda user's shell with base active, the Jupyter in `ds`: `conda activate ds`.
        let (e, how) = server_environment(&ctx, base_shell.clone(), &jupyter, true);
        assert_eq!(e.path_dirs()[0], env.join("bin"));
        assert_eq!(e.get_str("CONDA_PREFIX"), env.to_str());
        assert!(how.unwrap().contains("conda activate ds"));
        // `ds` already active here: the shell's environ is the server's.
        let mut active = conda_activated(&base_shell, &env);
        active.set("EXTRA", "1");
        let (e, how) = server_environment(&ctx, active.clone(), &jupyter, true);
        assert_eq!(e.path_dirs(), active.path_dirs());
        assert!(how.unwrap().contains("is active here"));
        // `ds/bin` on PATH without activation (stacked under another env, or by hand): as is.
        let mut stacked = base_shell.clone();
        stacked.set("PATH", format!("/other/bin:{}/bin:/usr/bin", env.display()));
        let (e, how) = server_environment(&ctx, stacked.clone(), &jupyter, true);
        assert_eq!(e.path_dirs(), stacked.path_dirs());
        assert!(how.is_none());
        // No conda set up in this shell: the Jupyter runs as found.
        let plain = EnvVars::from_pairs([("PATH", "/usr/bin")]);
        let (e, how) = server_environment(&ctx, plain.clone(), &jupyter, true);
        assert_eq!(e.path_dirs(), plain.path_dirs());
        assert!(how.is_none());
        // Not a conda Jupyter at all.
        let venv_jupyter = d.path().join("venv/bin/jupyter");
        std::fs::create_dir_all(venv_jupyter.parent().unwrap()).unwrap();
        std::fs::write(&venv_jupyter, "#!/bin/sh\n").unwrap();
        let (e, how) = server_environment(&ctx, base_shell.clone(), &venv_jupyter, true);
        assert_eq!(e.path_dirs(), base_shell.path_dirs());
        assert!(how.is_none());
    }
}
