//! Shell checks: what `python`, `pip` and the Jupyter server on PATH really run.

use crate::context::Context;
use crate::doctor::finding::{Finding, FindingId};
use crate::doctor::kernels::command_interpreter;
use crate::jupyter::view::JupyterView;
use crate::python::{classify, pyenv};

pub fn check_shell(ctx: &Context, view: &JupyterView, out: &mut Vec<Finding>) {
    let env = &ctx.vars;
    let python = command_interpreter(ctx, env, "python")
        .or_else(|| command_interpreter(ctx, env, "python3"));
    let env_of = |p: &std::path::Path| classify::classify_interpreter(ctx, p);
    // Known environments differ only when their prefixes differ after resolution.
    let differ = |a: &std::path::Path, b: &std::path::Path| match (env_of(a), env_of(b)) {
        (Some(x), Some(y)) => !x.same_env(&y),
        (x, y) => x.is_some() != y.is_some(),
    };
    if let (Some(pip), Some(py)) = (command_interpreter(ctx, env, "pip"), python.as_ref()) {
        if differ(&pip, py) {
            out.push(Finding::new(
                FindingId::ShellPipPythonMismatch,
                "pip",
                format!("\"pip\" on PATH installs into \"{}\", but \"python\" on PATH is \"{}\"", pip.display(), py.display()),
                "`pip install X` then `python -c 'import X'` fails: the two commands belong to different Pythons.",
                format!("use `{} -m pip install …` (or kip install … --python {})", py.display(), py.display()),
            ));
        }
    }
    if let (Some(server), Some(py)) = (view.launcher_python(), python.as_ref()) {
        if differ(&server.executable, py) {
            out.push(Finding::new(
                FindingId::ShellJupyterPythonMismatch,
                "jupyter",
                format!("the Jupyter on PATH runs \"{}\", but \"python\" on PATH is \"{}\"", server.executable.display(), py.display()),
                "A kernelspec with a bare `python` runs the Jupyter's interpreter, and `python -m pip install` in this shell installs somewhere else.",
                "install per kernel with kip install X --kernel NAME, and give kernels absolute interpreters: kip kernel fix --all".to_string(),
            ));
        }
    }
    for var in ["PYTHONPATH", "PYTHONHOME"] {
        if let Some(v) = view.server_env.get_nonempty(var) {
            let v = v.to_string_lossy();
            out.push(Finding::new(
                FindingId::ShellPythonpath,
                var,
                format!("{var} is set (\"{v}\") in the environment a Jupyter server started from here passes to every kernel"),
                format!("Every kernel, whatever its env, then {} — packages of another Python shadow the kernel's own, and the kernel can die while starting.", if var == "PYTHONPATH" { "searches these folders before its own site-packages" } else { "looks for its standard library under this prefix" }),
                format!("unset {var} in your shell profile (set it per kernel in kernel.json `env` if one kernel needs it), then restart Jupyter"),
            ));
        }
    }
    for name in ["python", "python3"] {
        let Some(found) = crate::shell::path::find_on_path(name, env, &ctx.cwd) else {
            continue;
        };
        if pyenv::shim_root(&found).is_some() {
            let r = pyenv::resolve_shim(ctx, &found, name);
            out.push(Finding::new(
                FindingId::ShellShim,
                name,
                format!("\"{name}\" is a pyenv shim: {}", r.why),
                "A shim picks its Python from PYENV_VERSION, the nearest .python-version, or the global version — so the same command runs different Pythons in different directories, and a kernelspec pointing at a shim changes with the notebook's folder.",
                format!(
                    "register the resolved interpreter, not the shim: kip kernel add {}",
                    r.executable.map(|e| e.display().to_string()).unwrap_or_else(|| "<pyenv which python>".into())
                ),
            ));
            break;
        }
    }
}
