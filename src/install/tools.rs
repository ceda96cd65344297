//! Finding the installers a target can use. The act layer calls this; planning takes the
//! result as plain data.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::install::commands::CondaTool;
use crate::install::index::UvVersion;
use crate::install::plan::Tools;
use crate::jupyter::launch::find_on_path;
use crate::platform;
use crate::python::environment::Environment;

/// uv (`KIP_UV`, PATH, the env, `~/.local/bin`), the conda family that manages a conda env
/// (`CONDA_EXE`, `MAMBA_EXE`, the env's root prefix, PATH) and pixi.
pub fn find_tools(ctx: &Context, env: &Environment) -> Tools {
    let on_path = |name: &str| find_on_path(name, &ctx.vars, &ctx.cwd);
    let uv = find_uv(ctx).or_else(|| {
        Some(platform::scripts_dir(ctx.os, &env.prefix, false).join("uv")).filter(|p| p.exists())
    });
    let mut conda = Vec::new();
    if env.kind.is_conda_like() {
        let candidates: Vec<PathBuf> = [
            ctx.vars.get_nonempty("CONDA_EXE").map(PathBuf::from),
            ctx.vars.get_nonempty("MAMBA_EXE").map(PathBuf::from),
            root_prefix_conda(&env.prefix),
            on_path("conda"),
            on_path("mamba"),
            on_path("micromamba"),
        ]
        .into_iter()
        .flatten()
        .collect();
        for c in candidates {
            if c.exists() && !conda.iter().any(|(_, known)| *known == c) {
                if let Some(t) = CondaTool::from_exe(&c) {
                    conda.push((t, c));
                }
            }
        }
    }
    Tools {
        uv,
        conda,
        pixi: on_path("pixi"),
    }
}

/// A uv binary not tied to an environment: `KIP_UV`, PATH, `~/.local/bin/uv`.
pub fn find_uv(ctx: &Context) -> Option<PathBuf> {
    ctx.vars
        .get_nonempty("KIP_UV")
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .or_else(|| find_on_path("uv", &ctx.vars, &ctx.cwd))
        .or_else(|| {
            ctx.home()
                .map(|h| h.join(".local/bin/uv"))
                .filter(|p| p.exists())
        })
}

/// What `uv --version` says of `uv` (`uv 0.13.9 (x86_64-unknown-linux-gnu)`), to know which
/// variables it reads ([`crate::install::index::UvVersion`]). Cached in kip's cache, keyed by
/// the binary's canonical path, size and mtime (an upgrade replaces the file); `None` when uv
/// does not answer in time or the answer does not parse.
pub fn uv_version(ctx: &Context, uv: &Path) -> Option<UvVersion> {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    let canonical = std::fs::canonicalize(uv).ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    let mut h = Sha256::new();
    h.update(canonical.as_os_str().as_encoded_bytes());
    h.update(
        format!(
            "\0{}\0{}.{:09}",
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec()
        )
        .as_bytes(),
    );
    let entry = crate::context::cache_dir(&ctx.vars)
        .map(|d| d.join("uv-version-v1").join(format!("{:x}", h.finalize())));
    if let Some(v) = entry
        .as_ref()
        .and_then(|e| std::fs::read_to_string(e).ok())
        .and_then(|t| UvVersion::parse(&t))
    {
        return Some(v);
    }
    let mut cmd = std::process::Command::new(uv);
    cmd.arg("--version")
        .env_clear()
        .envs(ctx.vars.iter())
        .current_dir(&ctx.cwd);
    let out = crate::process::run_captured(cmd, crate::process::probe_timeout(&ctx.vars)).ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let version = UvVersion::parse(&text)?;
    if let Some(e) = &entry {
        // Only saves time: a failure to write is ignored.
        if let Some(dir) = e.parent() {
            let _ = std::fs::create_dir_all(dir)
                .and_then(|_| tempfile::NamedTempFile::new_in(dir))
                .and_then(|mut t| {
                    use std::io::Write;
                    t.write_all(text.as_bytes())?;
                    t.persist(e).map_err(|e| e.error)?;
                    Ok(())
                });
        }
    }
    Some(version)
}

/// `<root>/bin/conda` for an env under `<root>/envs/NAME`.
fn root_prefix_conda(prefix: &Path) -> Option<PathBuf> {
    let envs = prefix.parent()?;
    if envs.file_name()? != "envs" {
        return None;
    }
    let root = envs.parent()?;
    ["conda", "mamba"]
        .iter()
        .map(|n| root.join("bin").join(n))
        .find(|p| p.exists())
}
