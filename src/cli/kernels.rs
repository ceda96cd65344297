//! `kip kernels`: kernelspecs as the chosen Jupyter sees them, and what each really runs.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::context::Context;
use crate::jupyter::kernelspec::KernelListing;
use crate::jupyter::launch::KernelInterpreter;
use crate::jupyter::paths::{DataDir, DirOrigin};
use crate::jupyter::resolved::{resolve_all, ResolvedKernel};
use crate::jupyter::view::{self, JupyterView};
use crate::python::classify;
use crate::python::probe::Prober;
use crate::render;

pub fn run(
    ctx: &Context,
    prober: &Prober,
    jupyter: Option<&Path>,
    json: bool,
    jupyter_json: bool,
) -> anyhow::Result<i32> {
    let view = view::select(ctx, prober, jupyter)?;
    let listing = view::list_kernels(ctx, &view);
    if jupyter_json {
        let mut out = std::io::stdout().lock();
        out.write_all(listing.jupyter_json().as_bytes())?;
        for w in &listing.warnings {
            eprintln!("kip: {w}");
        }
        return Ok(0);
    }
    let kernels = resolve_all(ctx, &view, &listing);
    if json {
        let doc = JsonKernels::build(ctx, &view, &listing, &kernels);
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print_human(ctx, &view, &listing, &kernels);
    }
    Ok(0)
}

#[derive(Serialize)]
struct JsonKernels<'a> {
    jupyter: JsonView,
    search_path: &'a [DataDir],
    kernels: Vec<JsonKernel>,
    filtered_out: Vec<String>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct JsonView {
    how: String,
    jupyter: Option<PathBuf>,
    kernelspec_script: Option<PathBuf>,
    python: Option<PathBuf>,
    sys_prefix: Option<PathBuf>,
    server_script: Option<PathBuf>,
    launcher_python: Option<PathBuf>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct JsonKernel {
    name: String,
    display_name: Option<String>,
    language: Option<String>,
    resource_dir: PathBuf,
    origin: DirOrigin,
    native: bool,
    invalid_name: bool,
    /// Why Jupyter would not load it (it is then absent from `--jupyter-json`).
    problem: Option<String>,
    argv: Option<Vec<serde_json::Value>>,
    interpreter: KernelInterpreter,
    environment: Option<JsonEnv>,
    shadows: Vec<PathBuf>,
}

#[derive(Serialize)]
struct JsonEnv {
    prefix: PathBuf,
    kind: &'static str,
    version: Option<String>,
    ipykernel: bool,
}

impl<'a> JsonKernels<'a> {
    fn build(
        ctx: &Context,
        view: &JupyterView,
        listing: &'a KernelListing,
        kernels: &[ResolvedKernel],
    ) -> Self {
        JsonKernels {
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
            search_path: &listing.dirs,
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
                        environment: k.interpreter.python().and_then(|p| env_summary(ctx, p)),
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
            warnings: &listing.warnings,
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

fn print_human(
    ctx: &Context,
    view: &JupyterView,
    listing: &KernelListing,
    kernels: &[ResolvedKernel],
) {
    let mut out = render::stdout();
    let _ = writeln!(out, "{} {}", render::dim("Jupyter:"), view.how);
    if let Some(f) = &view.lister {
        let _ = writeln!(
            out,
            "{} {} (sys.prefix {})",
            render::dim("  lists with"),
            f.executable.display(),
            f.paths.sys_prefix.display()
        );
    }
    for n in &view.notes {
        let _ = writeln!(out, "  {} {n}", render::warn("note:"));
    }
    if kernels.is_empty() {
        let _ = writeln!(out, "\nNo kernels found. Searched:");
        for d in &listing.dirs {
            let _ = writeln!(out, "  {}", d.path.display());
        }
        return;
    }
    let _ = writeln!(out);
    for k in kernels {
        let e = &k.entry;
        let name = e.found.name.to_string_lossy();
        let display = e
            .spec
            .as_ref()
            .map(|s| s.display_name.to_string_lossy())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}  {}",
            render::bold(&name),
            render::dim(&format!("\"{display}\""))
        );
        let _ = writeln!(
            out,
            "    spec    {}{}",
            e.found.resource_dir.display(),
            if e.found.native {
                "  (injected by Jupyter: ipykernel in its own env)"
            } else {
                ""
            }
        );
        match &e.spec {
            Err(p) => {
                let _ = writeln!(
                    out,
                    "    {}   {p} — Jupyter skips this kernel",
                    render::error("broken")
                );
            }
            Ok(_) => match &k.interpreter {
                KernelInterpreter::Resolved {
                    python,
                    how,
                    exists,
                    ..
                } => {
                    let state = if *exists {
                        String::new()
                    } else {
                        format!("  {}", render::error("MISSING"))
                    };
                    let _ = writeln!(out, "    runs    {}{state}", python.display());
                    let _ = writeln!(out, "            {}", render::dim(how));
                    if let Some(env) = env_summary(ctx, python) {
                        let ipk = if env.ipykernel {
                            ""
                        } else {
                            "  (no ipykernel)"
                        };
                        let _ = writeln!(
                            out,
                            "    env     {} {} {}{ipk}",
                            env.kind,
                            env.version.unwrap_or_default(),
                            env.prefix.display()
                        );
                    }
                }
                KernelInterpreter::Unresolved { why } => {
                    let _ = writeln!(out, "    runs    {} ({why})", render::warn("unresolved"));
                }
            },
        }
        if e.invalid_name {
            let _ = writeln!(
                out,
                "    {}    the directory name is not a valid kernel name (Jupyter warns)",
                render::warn("name")
            );
        }
        for s in &e.shadows {
            let _ = writeln!(out, "    hides   {}", s.resource_dir.display());
        }
    }
    for w in &listing.warnings {
        let _ = writeln!(out, "{} {w}", render::warn("warning:"));
    }
}
