//! `env-ephemeral`: a temporary environment that uv layered for one `uv run --with …` session.
//!
//! uv (0.8 and later) runs `uv run --with X` in a throwaway venv under its cache,
//! `<cache>/builds-v0/.tmpXXXX`, whose `pyvenv.cfg` says `extends-environment = <project
//! .venv>` and whose `_uv_ephemeral_overlay.pth` adds the cached `--with` env
//! (`<cache>/archive-v0/<id>`) and the project's site-packages to `sys.path`. A Jupyter started
//! that way (`uv run --with jupyter jupyter lab`) runs its native kernel there, so `%pip
//! install`, `!uv pip install` or an install by kip lands in a directory uv deletes when the
//! session ends (or, for `archive-v0`, in a cache entry other runs share and `uv cache clean`
//! removes). The lasting fix is the project's own dependencies (`uv add`) or the next
//! session's `--with`.

use std::path::{Path, PathBuf};

use crate::doctor::finding::{Finding, FindingId};
use crate::python::classify;
use crate::python::environment::Environment;

/// A temporary environment of uv's, and what it layers over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub prefix: PathBuf,
    /// `extends-environment`: the env it is layered over (a project's `.venv`).
    pub extends: Option<PathBuf>,
    /// The project whose env it extends: the folder of that env holding `pyproject.toml`.
    pub project: Option<PathBuf>,
}

/// The cache buckets uv builds throwaway environments in.
const BUCKETS: [&str; 2] = ["builds-v0", "archive-v0"];

/// Is `env` one of uv's temporary environments? Only a venv that uv wrote (`uv = …` in its
/// `pyvenv.cfg`) and that either names the env it extends or lives in one of uv's cache
/// buckets counts: a project `.venv` or a `uv venv` never does.
pub fn layer(env: &Environment) -> Option<Layer> {
    let cfg = classify::read_pyvenv_cfg(&env.prefix.join("pyvenv.cfg"))?;
    let get = |k: &str| cfg.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    get("uv")?;
    let extends = get("extends-environment")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let in_bucket = env
        .prefix
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .is_some_and(|n| BUCKETS.contains(&n));
    if extends.is_none() && !in_bucket {
        return None;
    }
    let project = extends
        .as_deref()
        .and_then(Path::parent)
        .filter(|p| p.join("pyproject.toml").is_file())
        .map(Path::to_path_buf);
    Some(Layer {
        prefix: env.prefix.clone(),
        extends,
        project,
    })
}

fn q(s: &str) -> String {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

impl Layer {
    /// The lasting way to get `specs` (the requirements as typed; a placeholder in doctor's
    /// advice): the project's dependencies when there is a project, else the next session's
    /// `--with`.
    pub fn lasting_fix(&self, specs: &[String]) -> String {
        let reqs = if specs.is_empty() {
            "<package>".to_string()
        } else {
            specs.iter().map(|s| q(s)).collect::<Vec<_>>().join(" ")
        };
        let with: String = if specs.is_empty() {
            "--with <package>".to_string()
        } else {
            specs
                .iter()
                .map(|s| format!("--with {}", q(s)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        match &self.project {
            Some(p) => format!(
                "uv add --project {} {reqs} (the project's own dependencies: installed into {} and kept; or start the session again with `uv run {with} …`)",
                q(&p.display().to_string()),
                self.extends
                    .as_deref()
                    .map(|e| e.display().to_string())
                    .unwrap_or_default()
            ),
            None => format!(
                "start the session again with `uv run {with} …` (this environment is rebuilt from that list every time)"
            ),
        }
    }

    /// One sentence: what this env is and what happens to an install there.
    pub fn message(&self) -> String {
        let over = self
            .extends
            .as_deref()
            .map(|e| format!(", layered over \"{}\"", e.display()))
            .unwrap_or_default();
        format!(
            "\"{}\" is a temporary environment uv built for one `uv run --with …` session{over}: an install there vanishes with the session",
            self.prefix.display()
        )
    }
}

/// `env-ephemeral` for `env`, if it is one of uv's temporary layers.
pub fn check(env: &Environment, out: &mut Vec<Finding>) {
    let Some(l) = layer(env) else {
        return;
    };
    out.push(Finding::new(
        FindingId::EnvEphemeral,
        crate::pyjson::os_text(&env.prefix),
        l.message(),
        "uv runs `uv run --with …` in a throwaway environment under its cache and deletes it when the command ends (the `--with` part is a shared cache entry that `uv cache clean` removes). A Jupyter started that way runs its kernels there, so `%pip install`, `!uv pip install` and installs into that kernel are gone next time.",
        l.lasting_fix(&[]),
    ));
}

#[cfg(test)]
mod tests {
    use crate::python::site::overlay_dirs;

    #[test]
    fn reads_the_overlay_without_running_it() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("archive/site-packages");
        let b = d.path().join("pro\"j/.venv/site-packages");
        std::fs::write(
            d.path().join("_uv_ephemeral_overlay.pth"),
            format!(
                "import site; site.addsitedir(__import__(\"os\").fsdecode(b\"{}\")); site.addsitedir(__import__(\"os\").fsdecode(b\"{}\"))",
                a.display(),
                b.display().to_string().replace('"', "\\x22")
            ),
        )
        .unwrap();
        assert_eq!(overlay_dirs(d.path()), vec![a, b]);
        assert!(overlay_dirs(&d.path().join("none")).is_empty());
    }
}
