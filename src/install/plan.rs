//! Decide how to install into a target: which installer, which commands, and which guards
//! refuse. Pure: the facts about the environment and the tools found are inputs.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::commands::{self, CondaTool, InstallOptions};
use super::requirement::{self, Requirement};
use crate::python::environment::{EnvKind, Environment};

/// `--installer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InstallerChoice {
    Auto,
    Uv,
    Pip,
    Conda,
    Mamba,
    Micromamba,
}

impl InstallerChoice {
    /// As typed after `--installer`.
    pub fn name(self) -> &'static str {
        match self {
            InstallerChoice::Auto => "auto",
            InstallerChoice::Uv => "uv",
            InstallerChoice::Pip => "pip",
            InstallerChoice::Conda => "conda",
            InstallerChoice::Mamba => "mamba",
            InstallerChoice::Micromamba => "micromamba",
        }
    }
}

/// Tools found on this machine for the target (the act layer looks them up).
#[derive(Clone, Debug, Default)]
pub struct Tools {
    pub uv: Option<PathBuf>,
    /// (tool, executable) of the conda family found for a conda env, in order of preference:
    /// the first manages the env unless `--installer` names another tool.
    pub conda: Vec<(CondaTool, PathBuf)>,
    pub pixi: Option<PathBuf>,
}

/// One command kip will run, and what it is for.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub installer: &'static str,
    pub argv: Vec<OsString>,
    pub purpose: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Runs first: conda, uv or pip.
    pub primary: Step,
    /// For conda envs: requirements that only PyPI can satisfy, installed by the env's own
    /// uv or pip after the conda step (and, if conda reports some names missing, those too).
    pub pypi_fallback: Option<PypiFallback>,
    /// `ensurepip` when the env has neither pip nor uv.
    pub bootstrap: Option<Step>,
    pub notes: Vec<String>,
}

impl Plan {
    /// Does uv install anything in this plan (so uv's view of the index is the one in use)?
    pub fn runs_uv(&self) -> bool {
        self.primary.installer == "uv"
            || self
                .pypi_fallback
                .as_ref()
                .is_some_and(|f| matches!(f.installer, PypiInstaller::Uv { .. }))
    }
}

/// How the PyPI part of a conda install is run.
#[derive(Clone, Debug, PartialEq)]
pub struct PypiFallback {
    /// Requirements that go straight to PyPI (extras, markers, URLs, paths).
    pub direct: Vec<String>,
    pub installer: PypiInstaller,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PypiInstaller {
    Uv {
        uv: PathBuf,
        index_args: Vec<String>,
    },
    Pip,
}

impl PypiFallback {
    /// The command for these requirements (the conda step's missing ones are added later).
    /// Raw `--` arguments belong to the conda step, not to this one.
    pub fn step(&self, python: &Path, reqs: &[String], opts: &InstallOptions) -> Step {
        self.installer.step(python, reqs, &opts.without_raw())
    }
}

impl PypiInstaller {
    fn step(&self, python: &Path, reqs: &[String], opts: &InstallOptions) -> Step {
        match self {
            PypiInstaller::Uv { uv, index_args } => Step {
                installer: "uv",
                argv: commands::uv_pip_install(uv, python, reqs, opts, index_args),
                purpose: "from PyPI, into the same environment".into(),
            },
            PypiInstaller::Pip => Step {
                installer: "pip",
                argv: commands::pip_install(python, reqs, opts),
                purpose: "from PyPI, into the same environment".into(),
            },
        }
    }
}

/// Why kip will not install.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("{prefix} is externally managed (PEP 668): {message}")]
    ExternallyManaged {
        prefix: PathBuf,
        marker: PathBuf,
        message: String,
    },
    #[error("{prefix} is a frozen conda environment (conda-meta/frozen): it must not be modified")]
    Frozen { prefix: PathBuf },
    #[error("{prefix} is a pixi environment: install with `{command}` (a later `pixi install` would undo a direct install)")]
    Pixi { prefix: PathBuf, command: String },
    #[error("{dir} is not writable by this user")]
    NotWritable { dir: PathBuf },
    #[error("{0}")]
    NoInstaller(String),
}

/// The inputs of planning.
pub struct PlanInput<'a> {
    pub env: &'a Environment,
    pub python: &'a Path,
    pub requirements: &'a [Requirement],
    pub options: &'a InstallOptions,
    pub choice: InstallerChoice,
    pub tools: &'a Tools,
    /// uv's index arguments (from `index::uv_args`), used whenever uv runs.
    pub uv_index_args: &'a [String],
    /// `PEP 668` marker message, read by the caller.
    pub externally_managed_message: Option<String>,
}

/// uv needs Python 3.8+ (issue 3: "the interpreter is Python 3.8 or newer").
fn uv_supports(env: &Environment) -> bool {
    env.version.is_none_or(|v| v.at_least(3, 8))
}

/// Decide. Guards first (never broken), then the installer.
#[allow(clippy::too_many_lines)] // predates the lint: the guards and the installer choice in decision order; split when next changed
pub fn plan(input: &PlanInput) -> Result<Plan, Refusal> {
    let env = input.env;
    let opts = input.options;
    let reqs: Vec<String> = input
        .requirements
        .iter()
        .map(|r| r.installer_arg())
        .collect();
    if env.frozen {
        return Err(Refusal::Frozen {
            prefix: env.prefix.clone(),
        });
    }
    if env.kind == EnvKind::Pixi {
        let manifest = env
            .pixi_manifest
            .clone()
            .unwrap_or_else(|| PathBuf::from("pixi.toml"));
        let pypi = input
            .requirements
            .iter()
            .any(|r| requirement::to_conda_spec(r).is_none());
        let pixi = input
            .tools
            .pixi
            .clone()
            .unwrap_or_else(|| PathBuf::from("pixi"));
        let argv = commands::pixi_add(&pixi, &manifest, &reqs, pypi);
        if input.tools.pixi.is_none() || opts.dry_run {
            return Err(Refusal::Pixi {
                prefix: env.prefix.clone(),
                command: commands::shell_line(&argv),
            });
        }
        return Ok(Plan {
            primary: Step {
                installer: "pixi",
                argv,
                purpose: "pixi add (recorded in the manifest)".into(),
            },
            pypi_fallback: None,
            bootstrap: None,
            notes: Vec::new(),
        });
    }
    if let (Some(marker), false) = (&env.externally_managed, opts.break_system_packages) {
        return Err(Refusal::ExternallyManaged {
            prefix: env.prefix.clone(),
            marker: marker.clone(),
            message: input
                .externally_managed_message
                .clone()
                .unwrap_or_else(|| "this environment is externally managed".into()),
        });
    }
    if !env.writable {
        let dir = env
            .site_packages
            .first()
            .cloned()
            .unwrap_or_else(|| env.prefix.clone());
        return Err(Refusal::NotWritable { dir });
    }

    let conda_env = env.kind.is_conda_like();
    let wants_conda = matches!(
        input.choice,
        InstallerChoice::Conda | InstallerChoice::Mamba | InstallerChoice::Micromamba
    ) || (input.choice == InstallerChoice::Auto && conda_env);
    if wants_conda {
        if !conda_env {
            return Err(Refusal::NoInstaller(format!(
                "--installer {}: {} is a {} environment, not a conda one, and the conda family installs only into conda environments; use --installer uv or pip",
                input.choice.name(),
                env.prefix.display(),
                env.kind.as_str()
            )));
        }
        let wanted = match input.choice {
            InstallerChoice::Conda => Some(CondaTool::Conda),
            InstallerChoice::Mamba => Some(CondaTool::Mamba),
            InstallerChoice::Micromamba => Some(CondaTool::Micromamba),
            _ => None,
        };
        let found = input
            .tools
            .conda
            .iter()
            .find(|(t, _)| wanted.is_none_or(|w| w == *t));
        let Some((tool, exe)) = found.cloned() else {
            return Err(Refusal::NoInstaller(match wanted {
                Some(w) => format!(
                    "--installer {}: no {} found (CONDA_EXE, MAMBA_EXE, the env's root prefix, PATH)",
                    w.name(),
                    w.name()
                ),
                None => format!(
                    "{} is a conda environment but no conda, mamba or micromamba was found (CONDA_EXE, MAMBA_EXE, the env's root prefix, PATH); install it or pass --installer uv|pip",
                    env.prefix.display()
                ),
            }));
        };
        let mut specs = Vec::new();
        let mut direct = Vec::new();
        for r in input.requirements {
            match requirement::to_conda_spec(r) {
                Some(s) => specs.push(s),
                None => direct.push(r.installer_arg()),
            }
        }
        let installer = match (&input.tools.uv, uv_supports(env)) {
            (Some(uv), true) => PypiInstaller::Uv {
                uv: uv.clone(),
                index_args: input.uv_index_args.to_vec(),
            },
            _ => PypiInstaller::Pip,
        };
        if specs.is_empty() {
            // Nothing for the channels (paths, URLs, extras, markers): PyPI alone, with the
            // raw arguments, and no conda call without specs (conda would refuse it).
            return Ok(Plan {
                primary: installer.step(input.python, &direct, opts),
                pypi_fallback: None,
                bootstrap: None,
                notes: vec![format!(
                    "nothing here is for the conda channels: installing from PyPI with the env's own {}",
                    match installer {
                        PypiInstaller::Uv { .. } => "uv",
                        PypiInstaller::Pip => "pip",
                    }
                )],
            });
        }
        let pypi = PypiFallback { direct, installer };
        let primary = Step {
            installer: tool.name(),
            argv: commands::conda_install(tool, &exe, &env.prefix, &specs, opts),
            purpose: "from the conda channels, by prefix".into(),
        };
        return Ok(Plan {
            primary,
            pypi_fallback: Some(pypi),
            bootstrap: None,
            notes: Vec::new(),
        });
    }

    let use_uv = match input.choice {
        InstallerChoice::Uv => {
            if input.tools.uv.is_none() {
                return Err(Refusal::NoInstaller(
                    "--installer uv: no uv binary found (PATH, the env, ~/.local/bin, KIP_UV)"
                        .into(),
                ));
            }
            true
        }
        InstallerChoice::Pip => false,
        _ => input.tools.uv.is_some() && uv_supports(env),
    };
    let mut notes = Vec::new();
    if use_uv {
        let uv = input.tools.uv.clone().unwrap_or_default();
        return Ok(Plan {
            primary: Step {
                installer: "uv",
                argv: commands::uv_pip_install(&uv, input.python, &reqs, opts, input.uv_index_args),
                purpose: format!("uv pip install into {}", env.prefix.display()),
            },
            pypi_fallback: None,
            bootstrap: None,
            notes,
        });
    }
    if input.tools.uv.is_some() && !uv_supports(env) {
        notes.push(format!(
            "Python {} is older than 3.8, which uv does not support: using pip",
            env.version.map(|v| v.to_string()).unwrap_or_default()
        ));
    }
    let bootstrap = (!env.has_pip).then(|| Step {
        installer: "ensurepip",
        argv: commands::ensurepip(input.python),
        purpose: "the environment has neither pip nor uv: bootstrap pip".into(),
    });
    Ok(Plan {
        primary: Step {
            installer: "pip",
            argv: commands::pip_install(input.python, &reqs, opts),
            purpose: format!("pip install into {}", env.prefix.display()),
        },
        pypi_fallback: None,
        bootstrap,
        notes,
    })
}

/// The way out of PEP 668, printed with the refusal.
pub fn venv_way_out(python: &Path, reqs: &[String]) -> String {
    // ipykernel is always part of it; a requirement is never printed twice.
    let mut pkgs: Vec<&str> = vec!["ipykernel"];
    for r in reqs {
        if !pkgs.iter().any(|p| p.eq_ignore_ascii_case(r)) {
            pkgs.push(r);
        }
    }
    let pkgs = pkgs.join(" ");
    format!(
        "create a virtual environment and register it as a kernel instead:\n  {} -m venv ~/.venvs/work   (or: uv venv ~/.venvs/work --python {})\n  ~/.venvs/work/bin/python -m pip install {pkgs}\n  ~/.venvs/work/bin/python -m ipykernel install --user --name work\nnever use sudo; pass --break-system-packages only if you really mean to change the system Python",
        python.display(),
        python.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::version::PythonVersion;

    fn reqs(typed: &[&str]) -> Vec<Requirement> {
        typed
            .iter()
            .map(|t| requirement::parse(t, Path::new("/work")).unwrap())
            .collect()
    }

    fn tools(uv: bool, conda: bool) -> Tools {
        Tools {
            uv: uv.then(|| PathBuf::from("/bin/uv")),
            conda: if conda {
                vec![(CondaTool::Mamba, PathBuf::from("/opt/mf/bin/mamba"))]
            } else {
                vec![]
            },
            pixi: None,
        }
    }

    fn decide(
        env: &Environment,
        typed: &[&str],
        opts: &InstallOptions,
        choice: InstallerChoice,
        tools: &Tools,
    ) -> Result<Plan, Refusal> {
        let r = reqs(typed);
        plan(&PlanInput {
            env,
            python: &env.interpreter,
            requirements: &r,
            options: opts,
            choice,
            tools,
            uv_index_args: &[],
            externally_managed_message: Some("use apt".into()),
        })
    }

    fn line(step: &Step) -> String {
        commands::shell_line(&step.argv)
    }

    #[test]
    fn venvs_get_uv_then_pip_then_ensurepip() {
        let o = InstallOptions::default();
        let auto = InstallerChoice::Auto;
        let venv = Environment::for_tests(EnvKind::Venv, "/v");
        let p = decide(&venv, &["six"], &o, auto, &tools(true, false)).unwrap();
        assert_eq!(
            line(&p.primary),
            "/bin/uv pip install --python /v/bin/python six"
        );
        assert!(p.bootstrap.is_none() && p.pypi_fallback.is_none());
        let p = decide(
            &venv,
            &["six"],
            &o,
            InstallerChoice::Pip,
            &tools(true, false),
        )
        .unwrap();
        assert_eq!(p.primary.installer, "pip");
        // Python 3.7: pip, and a note saying why uv was passed over.
        let old = Environment {
            version: Some(PythonVersion::new(3, 7, Some(17))),
            ..venv.clone()
        };
        let p = decide(&old, &["six"], &o, auto, &tools(true, false)).unwrap();
        assert_eq!(p.primary.installer, "pip");
        assert!(p.notes[0].contains("3.7"), "{:?}", p.notes);
        // Neither pip nor uv: ensurepip first.
        let bare = Environment {
            has_pip: false,
            ..venv.clone()
        };
        let p = decide(&bare, &["six"], &o, auto, &tools(false, false)).unwrap();
        assert_eq!(p.bootstrap.unwrap().installer, "ensurepip");
        assert_eq!(p.primary.installer, "pip");
        let e = decide(
            &bare,
            &["six"],
            &o,
            InstallerChoice::Uv,
            &tools(false, false),
        );
        assert!(matches!(e, Err(Refusal::NoInstaller(_))));
    }

    #[test]
    fn guards_come_before_any_installer() {
        let o = InstallOptions::default();
        let auto = InstallerChoice::Auto;
        let t = tools(true, true);
        let system = Environment {
            externally_managed: Some(PathBuf::from("/usr/lib/python3.11/EXTERNALLY-MANAGED")),
            ..Environment::for_tests(EnvKind::System, "/usr")
        };
        let e = decide(&system, &["six"], &o, auto, &t).unwrap_err();
        assert!(
            matches!(e, Refusal::ExternallyManaged { ref message, .. } if message == "use apt")
        );
        let typed = InstallOptions {
            break_system_packages: true,
            ..Default::default()
        };
        let p = decide(&system, &["six"], &typed, auto, &t).unwrap();
        assert!(line(&p.primary).contains("--break-system-packages"));
        let frozen = Environment {
            frozen: true,
            ..Environment::for_tests(EnvKind::Conda, "/c")
        };
        assert!(matches!(
            decide(&frozen, &["six"], &o, auto, &t),
            Err(Refusal::Frozen { .. })
        ));
        let ro = Environment {
            writable: false,
            site_packages: vec![PathBuf::from("/v/lib/python3.11/site-packages")],
            ..Environment::for_tests(EnvKind::Venv, "/v")
        };
        let e = decide(&ro, &["six"], &o, auto, &t).unwrap_err();
        assert_eq!(
            e,
            Refusal::NotWritable {
                dir: PathBuf::from("/v/lib/python3.11/site-packages")
            }
        );
        let pixi = Environment {
            pixi_manifest: Some(PathBuf::from("/proj/pixi.toml")),
            ..Environment::for_tests(EnvKind::Pixi, "/proj/.pixi/envs/default")
        };
        let e = decide(&pixi, &["six"], &o, auto, &t).unwrap_err();
        assert!(
            matches!(e, Refusal::Pixi { ref command, .. } if command.contains("--manifest-path /proj/pixi.toml"))
        );
    }

    #[test]
    fn conda_envs_split_between_the_channels_and_pypi() {
        let o = InstallOptions::default();
        let auto = InstallerChoice::Auto;
        let env = Environment::for_tests(EnvKind::Conda, "/c");
        let p = decide(
            &env,
            &[
                "hello_fixture>=1",
                "https://example.org/x-1.0-py3-none-any.whl",
                "rich[jupyter]",
            ],
            &o,
            auto,
            &tools(true, true),
        )
        .unwrap();
        assert_eq!(p.primary.installer, "mamba");
        assert!(
            line(&p.primary).contains("hello-fixture>=1"),
            "{}",
            line(&p.primary)
        );
        let fb = p.pypi_fallback.unwrap();
        assert_eq!(
            fb.direct,
            vec![
                "https://example.org/x-1.0-py3-none-any.whl".to_string(),
                "rich[jupyter]".to_string()
            ]
        );
        assert_eq!(
            fb.installer,
            PypiInstaller::Uv {
                uv: PathBuf::from("/bin/uv"),
                index_args: vec![]
            }
        );
        // Nothing for the channels: PyPI only, and no conda call without specs.
        let raw = InstallOptions {
            raw: vec!["--no-build-isolation".into()],
            ..Default::default()
        };
        let p = decide(
            &env,
            &["https://example.org/x-1.0-py3-none-any.whl"],
            &raw,
            auto,
            &tools(true, true),
        )
        .unwrap();
        assert_eq!(p.primary.installer, "uv");
        assert!(p.pypi_fallback.is_none());
        assert!(
            line(&p.primary).ends_with("x-1.0-py3-none-any.whl --no-build-isolation"),
            "{}",
            line(&p.primary)
        );
        // No conda CLI anywhere: refused, naming the way out.
        let e = decide(&env, &["six"], &o, auto, &tools(true, false)).unwrap_err();
        assert!(matches!(e, Refusal::NoInstaller(ref m) if m.contains("--installer uv|pip")));
        // An explicit tool must be found as that tool; conda tools never target a venv.
        let both = Tools {
            conda: vec![
                (CondaTool::Conda, PathBuf::from("/opt/c/bin/conda")),
                (CondaTool::Micromamba, PathBuf::from("/usr/bin/micromamba")),
            ],
            ..tools(true, false)
        };
        let p = decide(&env, &["six"], &o, InstallerChoice::Micromamba, &both).unwrap();
        assert!(
            line(&p.primary).starts_with("/usr/bin/micromamba install"),
            "{}",
            line(&p.primary)
        );
        let p = decide(&env, &["six"], &o, auto, &both).unwrap();
        assert!(
            line(&p.primary).starts_with("/opt/c/bin/conda install"),
            "{}",
            line(&p.primary)
        );
        let e = decide(&env, &["six"], &o, InstallerChoice::Mamba, &both).unwrap_err();
        assert!(
            matches!(e, Refusal::NoInstaller(ref m) if m.contains("no mamba found")),
            "{e}"
        );
        let venv = Environment::for_tests(EnvKind::Venv, "/v");
        let e = decide(&venv, &["six"], &o, InstallerChoice::Conda, &both).unwrap_err();
        assert!(
            matches!(e, Refusal::NoInstaller(ref m) if m.contains("not a conda one")),
            "{e}"
        );
        // --installer uv on a conda env is the user's call.
        let p = decide(&env, &["six"], &o, InstallerChoice::Uv, &tools(true, true)).unwrap();
        assert_eq!(p.primary.installer, "uv");
    }
}
