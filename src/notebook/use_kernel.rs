//! `kip kernel use NAME NOTEBOOK…`: point notebooks at a kernel by setting
//! `metadata.kernelspec` (name, display_name, language) from the kernelspec NAME as the chosen
//! Jupyter lists it. Each notebook is backed up beside itself, edited in place without
//! re-serialising (`kernelspec_edit`), written atomically with its mode kept, and checked
//! against the running servers: one that has the notebook open keeps its own copy in the
//! browser and writes the old kernelspec back on its next save, so that is said.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::jupyter::ps::{self, OpenIn};
use crate::jupyter::{runtime, view};
use crate::kernel::write;

use super::ipynb;
use super::kernelspec_edit::{self, KernelspecMeta};

#[derive(Debug, Serialize)]
pub struct UseReport {
    pub kernel: String,
    pub display_name: String,
    pub language: String,
    pub notebooks: Vec<NotebookOutcome>,
}

#[derive(Debug, Serialize)]
pub struct NotebookOutcome {
    pub path: PathBuf,
    /// The kernel name the notebook named before.
    pub previous: Option<String>,
    /// False when it already named the kernel exactly (nothing written).
    pub changed: bool,
    pub backup: Option<PathBuf>,
    /// Running servers that have this notebook open.
    pub open_in: Vec<OpenIn>,
    pub error: Option<String>,
    /// The error is the notebook's own (not JSON, not a notebook), not the machine's.
    #[serde(skip)]
    pub bad_input: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UseError {
    #[error("no kernel named {name:?} in {how}; `kip kernels` lists them, `kip kernel add ENV --name {name}` registers one")]
    NoSuchKernel { name: String, how: String },
    #[error("kernel {name:?} has an unreadable kernel.json: {problem}; `kip kernel show {name}` says more")]
    BrokenKernel { name: String, problem: String },
}

/// Set every notebook's kernelspec to kernel `name` of the Jupyter `jupyter` selects.
pub fn use_kernel(
    ctx: &Context,
    prober: &crate::python::probe::Prober,
    name: &str,
    notebooks: &[PathBuf],
    jupyter: Option<&Path>,
) -> anyhow::Result<Result<UseReport, UseError>> {
    let view = view::select(ctx, prober, jupyter)?;
    let listing = view::list_kernels(ctx, &view);
    let Some(entry) = listing
        .entries
        .iter()
        .find(|e| e.found.name.to_string_lossy() == name)
    else {
        return Ok(Err(UseError::NoSuchKernel {
            name: name.into(),
            how: view.how.clone(),
        }));
    };
    let spec = match &entry.spec {
        Ok(s) => s,
        Err(p) => {
            return Ok(Err(UseError::BrokenKernel {
                name: name.into(),
                problem: p.to_string(),
            }))
        }
    };
    let meta = KernelspecMeta {
        name: name.to_string(),
        display_name: spec.display_name.to_string_lossy(),
        language: spec.language.to_string_lossy(),
    };
    let servers = ps::servers(ctx, &runtime::running_kernels());
    let outcomes = notebooks
        .iter()
        .map(|nb| {
            let mut o = apply(nb, &meta);
            o.open_in = ps::sessions_on(&servers, nb);
            o
        })
        .collect();
    Ok(Ok(UseReport {
        kernel: meta.name,
        display_name: meta.display_name,
        language: meta.language,
        notebooks: outcomes,
    }))
}

fn apply(path: &Path, meta: &KernelspecMeta) -> NotebookOutcome {
    let mut o = NotebookOutcome {
        path: path.to_path_buf(),
        previous: None,
        changed: false,
        backup: None,
        open_in: Vec::new(),
        error: None,
        bad_input: false,
    };
    let nb = match ipynb::read(path) {
        Ok(nb) => nb,
        Err(e) => {
            o.bad_input = !matches!(e, ipynb::NotebookError::Unreadable { .. });
            o.error = Some(e.to_string());
            return o;
        }
    };
    o.previous = nb.kernel_name.clone();
    // a symlinked notebook is edited where it really is
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let result = (|| -> Result<(), String> {
        let bytes =
            std::fs::read(&real).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (&bytes[..3], rest),
            None => (&bytes[..0], &bytes[..]),
        };
        let text = std::str::from_utf8(body)
            .map_err(|e| format!("{} is not UTF-8: {e}", path.display()))?;
        let new = kernelspec_edit::set_kernelspec(text, meta)
            .map_err(|e| format!("cannot edit {}: {e}", path.display()))?;
        if new == text {
            return Ok(());
        }
        let mode = std::fs::metadata(&real)
            .map(|m| m.permissions().mode())
            .ok();
        let backup = backup_path(&real);
        write::write_atomic(&backup, &bytes).map_err(|e| {
            format!(
                "cannot back up {} to {}: {e}",
                path.display(),
                backup.display()
            )
        })?;
        o.backup = Some(backup);
        let mut out = bom.to_vec();
        out.extend_from_slice(new.as_bytes());
        write::write_atomic(&real, &out)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        if let Some(m) = mode {
            let _ = std::fs::set_permissions(&real, std::fs::Permissions::from_mode(m));
        }
        o.changed = true;
        Ok(())
    })();
    o.error = result.err();
    o
}

/// `NAME.ipynb.kip-bak-<UTC timestamp>` beside the notebook, not yet taken.
fn backup_path(notebook: &Path) -> PathBuf {
    let name = notebook
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stamp = write::timestamp();
    let mut dest = notebook.with_file_name(format!("{name}.kip-bak-{stamp}"));
    let mut n = 1;
    while dest.exists() {
        dest = notebook.with_file_name(format!("{name}.kip-bak-{stamp}-{n}"));
        n += 1;
    }
    dest
}
