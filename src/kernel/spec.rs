//! The kernelspec `kip kernel add` writes: what the env's own ipykernel installer would write
//! for its interpreter (ipykernel `kernelspec.py` `install()` / `get_kernel_dict()`), plus an
//! `env` block that activates the environment and `metadata.kip` marking it as kip's.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::python::environment::{EnvKind, Environment};

/// What decides the ipykernel-compatible part.
#[derive(Clone, Debug)]
pub struct SpecInput<'a> {
    pub python: &'a Path,
    pub env: &'a Environment,
    pub display_name: &'a str,
    /// (major, minor, patch) of the env's ipykernel.
    pub ipykernel: Option<(u32, u32, u32)>,
    /// `platform.python_implementation() == "CPython"` (not PyPy).
    pub cpython: bool,
    /// debugpy importable (ipykernel 6 sets `metadata.debugger` from it).
    pub debugpy: bool,
    pub allow_user_site: bool,
    /// Conda env name, for `CONDA_DEFAULT_ENV`.
    pub conda_name: Option<&'a str>,
}

/// ipykernel's `-Xfrozen_modules=off`: added for any CPython by 7.4.0, and only for
/// CPython ≥ 3.11 by 6.29.3–7.3.x (jupyter-kernelspec-rules.md §4).
fn frozen_modules_flag(input: &SpecInput) -> bool {
    if !input.cpython {
        return false;
    }
    match input.ipykernel {
        Some(v) if v >= (7, 4, 0) => true,
        Some(v) if v >= (6, 29, 3) => input.env.version.is_some_and(|p| p.at_least(3, 11)),
        _ => false,
    }
}

/// The activation variables for everything the kernel starts (`!pip`, `!python`, subprocesses).
pub fn activation_env(
    env: &Environment,
    conda_name: Option<&str>,
    user_site_off: bool,
) -> Map<String, Value> {
    let mut m = Map::new();
    let bin = env.scripts_dir();
    m.insert(
        "PATH".into(),
        Value::String(format!("{}:${{PATH}}", bin.display())),
    );
    if env.kind.is_conda_like() {
        m.insert(
            "CONDA_PREFIX".into(),
            Value::String(env.prefix.display().to_string()),
        );
        if let Some(n) = conda_name {
            m.insert("CONDA_DEFAULT_ENV".into(), Value::String(n.to_string()));
        }
    } else if env.kind.is_virtual() {
        m.insert(
            "VIRTUAL_ENV".into(),
            Value::String(env.prefix.display().to_string()),
        );
    }
    if user_site_off && (env.kind.is_virtual() || env.kind.is_conda_like()) {
        m.insert("PYTHONNOUSERSITE".into(), Value::String("1".into()));
    }
    m
}

/// The kernel.json object, in ipykernel's key order (`argv, display_name, language, metadata,
/// kernel_protocol_version`, then `env`).
pub fn kernel_json(input: &SpecInput) -> Value {
    let mut argv = vec![Value::String(input.python.display().to_string())];
    if frozen_modules_flag(input) {
        argv.push("-Xfrozen_modules=off".into());
    }
    for a in ["-m", "ipykernel_launcher", "-f", "{connection_file}"] {
        argv.push(a.into());
    }
    let v7 = input.ipykernel.is_none_or(|v| v >= (7, 0, 0));
    let mut metadata = Map::new();
    metadata.insert(
        "debugger".into(),
        Value::Bool(if v7 { true } else { input.debugpy }),
    );
    if input.ipykernel.is_none_or(|v| v >= (7, 3, 0)) {
        metadata.insert("supported_encryption".into(), json!(["curve"]));
    }
    metadata.insert(
        "kip".into(),
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "env_prefix": input.env.prefix.display().to_string(),
            "created_by": "kip kernel add",
        }),
    );
    let mut obj = Map::new();
    obj.insert("argv".into(), Value::Array(argv));
    obj.insert(
        "display_name".into(),
        Value::String(input.display_name.to_string()),
    );
    obj.insert("language".into(), Value::String("python".into()));
    obj.insert("metadata".into(), Value::Object(metadata));
    if input.ipykernel.is_none_or(|v| v >= (7, 2, 0)) {
        obj.insert(
            "kernel_protocol_version".into(),
            Value::String("5.5".into()),
        );
    }
    obj.insert(
        "env".into(),
        Value::Object(activation_env(
            input.env,
            input.conda_name,
            !input.allow_user_site,
        )),
    );
    Value::Object(obj)
}

/// IPython's `--ext` alias (`InteractiveShellApp.extra_extensions`) in a kernelspec's argv:
/// every kernel started from it loads kip's extension (the import hint), for every notebook,
/// without writing an IPython profile or setting `IPYTHONDIR`, which would change far more
/// than this one kernel.
pub const HOOK_ARG: &str = "--ext=kip";

/// Why `--with-hook` cannot be honoured for `env`, with the line that fixes it: a kernel whose
/// Python cannot import the extension would print an extension error at every start. `None`
/// when the env holds the distribution `jupyter-kip` (a module merely named `kip` may be an
/// unrelated project).
pub fn hook_refusal(
    ctx: &crate::context::Context,
    env: &Environment,
    python: &Path,
) -> Option<String> {
    let has = crate::python::site::sys_path_dirs(ctx, env)
        .iter()
        .flat_map(|d| crate::python::site::installed_distributions(d))
        .any(|d| d.normalized_name == "jupyter-kip");
    (!has).then(|| {
        format!(
            "--with-hook makes the kernel load the IPython extension `kip`, but {} cannot import it; install it first: kip install jupyter-kip --python {}",
            env.prefix.display(),
            python.display()
        )
    })
}

/// Add [`HOOK_ARG`] to a kernel.json's argv, once.
pub fn add_hook(kernel_json: &mut Value) {
    if let Some(argv) = kernel_json.get_mut("argv").and_then(Value::as_array_mut) {
        if !argv.iter().any(|a| a == HOOK_ARG) {
            argv.push(HOOK_ARG.into());
        }
    }
}

/// `kip kernel fix --with-hook` for one kernel dir: add [`HOOK_ARG`] to its kernel.json (backed
/// up first, written atomically). `Ok(Some(backup))` when it was added, `Ok(None)` when it was
/// there already, `Err` (with the install line) when the kernel's env cannot load the extension
/// or the file cannot be rewritten.
pub fn hook_kernel(
    ctx: &crate::context::Context,
    kernel_dir: &Path,
    python: Option<&Path>,
) -> Result<Option<PathBuf>, String> {
    let python = python
        .ok_or("cannot tell which Python it runs, so not whether it can load kip's extension")?;
    let env = crate::python::classify::classify_interpreter(ctx, python)
        .ok_or_else(|| format!("{} is not a Python kip recognises", python.display()))?;
    if let Some(why) = hook_refusal(ctx, &env, python) {
        return Err(why);
    }
    let file = kernel_dir.join("kernel.json");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut json: Value = serde_json::from_str(&text).map_err(|_| {
        format!(
            "{} is not plain JSON; add {HOOK_ARG} to its argv by hand",
            file.display()
        )
    })?;
    let before = json.clone();
    add_hook(&mut json);
    if json == before {
        return Ok(None);
    }
    let mut new = crate::kernel::write::kernel_json_bytes(&json);
    if text.ends_with('\n') && !new.ends_with(b"\n") {
        new.push(b'\n');
    }
    crate::kernel::write::replace_kernel_json(&file, &new)
        .map(Some)
        .map_err(|e| format!("cannot write {}: {e}", file.display()))
}

/// Is this kernel.json one kip made (`metadata.kip`)?
pub fn is_kip_made(spec: &crate::jupyter::kernelspec::KernelSpec) -> bool {
    spec.metadata_get("kip").is_some()
}

/// Default kernel name for an environment: the conda env name, else the directory name (the
/// project's for `.venv`/`venv`), lowercased and reduced to `^[a-z0-9._-]+$`, no leading dot.
pub fn default_name(env: &Environment) -> String {
    let base = match (&env.name, env.kind) {
        (Some(n), EnvKind::Conda | EnvKind::Pixi) => n.clone(),
        _ => {
            let dir = env
                .prefix
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if dir == ".venv" || dir == "venv" {
                env.prefix
                    .parent()
                    .and_then(Path::file_name)
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or(dir)
            } else {
                dir
            }
        }
    };
    sanitize_name(&base)
}

/// Lowercase, map other characters to `-`, strip leading dots; `python` if nothing is left.
pub fn sanitize_name(s: &str) -> String {
    let mut out: String = s
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    while out.starts_with('.') {
        out.remove(0);
    }
    if out.is_empty() {
        "python".into()
    } else {
        out
    }
}

/// A name kip may create: `^[a-z0-9._-]+$` and no leading dot.
pub fn valid_new_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name != ".."
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// The logo files of ipykernel's resources dir, to copy next to kernel.json.
pub fn logo_files(ipykernel_dir: Option<&Path>) -> Vec<(String, PathBuf)> {
    let Some(dir) = ipykernel_dir else {
        return Vec::new();
    };
    let res = dir.join("resources");
    ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"]
        .iter()
        .map(|n| (n.to_string(), res.join(n)))
        .filter(|(_, p)| p.is_file())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::version::PythonVersion;

    fn env(kind: EnvKind, prefix: &str, v: (u8, u8)) -> Environment {
        Environment {
            version: Some(PythonVersion::new(v.0, v.1, Some(0))),
            ..Environment::for_tests(kind, prefix)
        }
    }

    #[test]
    fn names() {
        let mut e = env(EnvKind::Venv, "/p/My Project/.venv", (3, 12));
        assert_eq!(default_name(&e), "my-project");
        e.prefix = PathBuf::from("/envs/.Hidden");
        assert_eq!(default_name(&e), "hidden");
        assert!(valid_new_name("a.b_c-1"));
        for bad in [".hidden", "A", "a/b", "..", "", "with space"] {
            assert!(!valid_new_name(bad), "{bad}");
        }
    }

    #[test]
    fn spec_follows_ipykernel_versions() {
        let e = env(EnvKind::Venv, "/v", (3, 10));
        let py = PathBuf::from("/v/bin/python");
        let mut input = SpecInput {
            python: &py,
            env: &e,
            display_name: "D",
            ipykernel: Some((7, 4, 0)),
            cpython: true,
            debugpy: true,
            allow_user_site: false,
            conda_name: None,
        };
        let j = kernel_json(&input);
        assert_eq!(j["argv"][1], "-Xfrozen_modules=off");
        assert_eq!(j["kernel_protocol_version"], "5.5");
        assert_eq!(j["env"]["VIRTUAL_ENV"], "/v");
        assert_eq!(j["env"]["PATH"], "/v/bin:${PATH}");
        assert_eq!(j["env"]["PYTHONNOUSERSITE"], "1");
        input.ipykernel = Some((6, 29, 5));
        let j = kernel_json(&input);
        assert_eq!(j["argv"][1], "-m", "6.29 adds -X only on 3.11+");
        assert!(j.get("kernel_protocol_version").is_none());
        assert!(j["metadata"].get("supported_encryption").is_none());
        let c = env(EnvKind::Conda, "/c", (3, 11));
        let input = SpecInput {
            python: &py,
            env: &c,
            display_name: "D",
            ipykernel: Some((7, 4, 0)),
            cpython: true,
            debugpy: true,
            allow_user_site: true,
            conda_name: Some("c"),
        };
        let j = kernel_json(&input);
        assert_eq!(j["env"]["CONDA_PREFIX"], "/c");
        assert_eq!(j["env"]["CONDA_DEFAULT_ENV"], "c");
        assert!(j["env"].get("PYTHONNOUSERSITE").is_none());
    }
}
