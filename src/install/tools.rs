//! Finding the installers a target can use. The act layer calls this; planning takes the
//! result as plain data.

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::install::commands::CondaTool;
use crate::install::plan::Tools;
use crate::platform;
use crate::python::environment::Environment;
use crate::shell::path::find_on_path;

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
