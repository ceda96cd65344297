//! `kip kernels`: kernelspecs as the chosen Jupyter sees them, and what each really runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::flows::Status;
use crate::jupyter::kernelspec::KernelListing;
use crate::jupyter::launch::KernelInterpreter;
use crate::jupyter::paths::{DataDir, DirOrigin};
use crate::jupyter::resolved::{resolve_all, ResolvedKernel};
use crate::jupyter::view::{self, JupyterView};
use crate::python::probe::Prober;
use crate::python::{classify, memo};

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub jupyter: Option<PathBuf>,
}

/// The kernels of the chosen Jupyter, as Jupyter lists them (`listing`, which also renders
/// `--jupyter-json`) and resolved (`kernels`, the JSON document of docs/json.md).
#[derive(Debug)]
pub struct Report {
    pub listing: KernelListing,
    pub kernels: Kernels,
    /// The `lists with` line: the Jupyter Python that lists the kernels.
    pub lister: Option<(PathBuf, PathBuf)>,
}

pub fn run(ctx: &Context, prober: &Prober, req: &Request) -> anyhow::Result<(Report, Status)> {
    // Reads only: each interpreter is classified once, however many kernels run it.
    let _memo = memo::scope();
    let view = view::select(ctx, prober, req.jupyter.as_deref())?;
    let listing = view::list_kernels(ctx, &view);
    let resolved = resolve_all(ctx, &view, &listing);
    let kernels = Kernels::build(ctx, &view, &listing, &resolved);
    let lister = view
        .lister
        .as_ref()
        .map(|f| (f.executable.clone(), f.paths.sys_prefix.clone()));
    Ok((
        Report {
            listing,
            kernels,
            lister,
        },
        Status::Success,
    ))
}

#[derive(Debug, Serialize)]
pub struct Kernels {
    pub jupyter: JsonView,
    pub search_path: Vec<DataDir>,
    pub kernels: Vec<JsonKernel>,
    pub filtered_out: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct JsonView {
    pub how: String,
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub jupyter: Option<PathBuf>,
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub kernelspec_script: Option<PathBuf>,
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub python: Option<PathBuf>,
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub sys_prefix: Option<PathBuf>,
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub server_script: Option<PathBuf>,
    #[serde(serialize_with = "crate::pyjson::path_text::opt")]
    pub launcher_python: Option<PathBuf>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct JsonKernel {
    pub name: String,
    pub display_name: Option<String>,
    pub language: Option<String>,
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub resource_dir: PathBuf,
    pub origin: DirOrigin,
    pub native: bool,
    pub invalid_name: bool,
    /// Why Jupyter would not load it (it is then absent from `--jupyter-json`).
    pub problem: Option<String>,
    pub argv: Option<Vec<serde_json::Value>>,
    pub interpreter: KernelInterpreter,
    pub environment: Option<JsonEnv>,
    #[serde(serialize_with = "crate::pyjson::path_text::vec")]
    pub shadows: Vec<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct JsonEnv {
    #[serde(serialize_with = "crate::pyjson::path_text::one")]
    pub prefix: PathBuf,
    pub kind: &'static str,
    pub version: Option<String>,
    pub ipykernel: bool,
}

impl Kernels {
    fn build(
        ctx: &Context,
        view: &JupyterView,
        listing: &KernelListing,
        kernels: &[ResolvedKernel],
    ) -> Self {
        // One summary per interpreter, however many kernels run it.
        let mut envs: HashMap<PathBuf, Option<JsonEnv>> = HashMap::new();
        let mut env_of = |p: &Path| -> Option<JsonEnv> {
            if let Some(known) = envs.get(p) {
                return known.clone();
            }
            let summary = env_summary(ctx, p);
            envs.insert(p.to_path_buf(), summary.clone());
            summary
        };
        Kernels {
            jupyter: JsonView {
                how: view.how.clone(),
                jupyter: view.jupyter.clone(),
                kernelspec_script: view.kernelspec_script.clone(),
                python: view.lister.as_ref().map(|f| f.executable.clone()),
                sys_prefix: view.lister.as_ref().map(|f| f.paths.sys_prefix.clone()),
                server_script: view.server_script.clone(),
                launcher_python: view.launcher_python().map(|f| f.executable.clone()),
                notes: view.notes.clone(),
            },
            search_path: listing.dirs.clone(),
            kernels: kernels
                .iter()
                .map(|k| {
                    let e = &k.entry;
                    let spec = e.spec.as_ref().ok();
                    JsonKernel {
                        name: e.found.name.to_string_lossy(),
                        display_name: spec.map(|s| s.display_name.to_string_lossy()),
                        language: spec.map(|s| s.language.to_string_lossy()),
                        resource_dir: e.found.resource_dir.clone(),
                        origin: e.found.origin,
                        native: e.found.native,
                        invalid_name: e.invalid_name,
                        problem: e.spec.as_ref().err().map(|p| p.to_string()),
                        argv: spec.map(|s| s.argv.iter().map(crate::pyjson::to_serde).collect()),
                        environment: k.interpreter.python().and_then(&mut env_of),
                        interpreter: k.interpreter.clone(),
                        shadows: e.shadows.iter().map(|s| s.resource_dir.clone()).collect(),
                    }
                })
                .collect(),
            filtered_out: listing
                .filtered_out
                .iter()
                .map(|n| n.to_string_lossy())
                .collect(),
            warnings: listing.warnings.clone(),
        }
    }
}

fn env_summary(ctx: &Context, python: &Path) -> Option<JsonEnv> {
    let env = classify::classify_interpreter(ctx, python)?;
    Some(JsonEnv {
        prefix: env.prefix,
        kind: env.kind.as_str(),
        version: env.version.map(|v| v.to_string()),
        ipykernel: env.has_ipykernel,
    })
}
