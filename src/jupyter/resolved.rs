//! Kernels with their interpreters resolved: the model every verb that reads kernels uses
//! (a kernelspec as Jupyter lists it, plus what it really runs).

use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::jupyter::kernelspec::{KernelEntry, KernelListing};
use crate::jupyter::launch::{self, KernelInterpreter};
use crate::jupyter::view::{self, JupyterView};
use crate::python::probe::Prober;

/// A kernel with its interpreter resolved: the model every command that reads kernels uses.
#[derive(Clone, Debug)]
pub struct ResolvedKernel {
    pub entry: KernelEntry,
    pub interpreter: KernelInterpreter,
}

/// Discover and resolve every kernel of `view`.
pub fn resolve_all(
    ctx: &Context,
    view: &JupyterView,
    listing: &KernelListing,
) -> Vec<ResolvedKernel> {
    listing
        .entries
        .iter()
        .map(|e| {
            let interpreter = match &e.spec {
                Ok(spec) => launch::resolve_interpreter(
                    ctx,
                    view,
                    spec,
                    &e.found.resource_dir,
                    &view.server_env,
                ),
                Err(p) => KernelInterpreter::Unresolved { why: p.to_string() },
            };
            ResolvedKernel {
                entry: e.clone(),
                interpreter,
            }
        })
        .collect()
}

/// (kernel name, interpreter) for every kernel whose interpreter is known; used by `kip envs`.
pub fn kernel_interpreters(
    ctx: &Context,
    prober: &Prober,
    jupyter: Option<&Path>,
) -> Vec<(String, PathBuf)> {
    let Ok(view) = view::select(ctx, prober, jupyter) else {
        return Vec::new();
    };
    let listing = view::list_kernels(ctx, &view);
    resolve_all(ctx, &view, &listing)
        .into_iter()
        .filter_map(|k| {
            Some((
                k.entry.found.name.to_string_lossy(),
                k.interpreter.python()?.to_path_buf(),
            ))
        })
        .collect()
}
