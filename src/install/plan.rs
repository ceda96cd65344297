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

/// Tools found on this machine for the target (the act layer looks them up).
#[derive(Clone, Debug, Default)]
pub struct Tools {
    pub uv: Option<PathBuf>,
    /// (tool, executable) of the conda family that manages the env.
    pub conda: Option<(CondaTool, PathBuf)>,
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
    pub fn step(&self, python: &Path, reqs: &[String], opts: &InstallOptions) -> Step {
        let opts = opts.without_raw();
        match &self.installer {
            PypiInstaller::Uv { uv, index_args } => Step {
                installer: "uv",
                argv: commands::uv_pip_install(uv, python, reqs, &opts, index_args),
                purpose: "from PyPI, into the same environment".into(),
            },
            PypiInstaller::Pip => Step {
                installer: "pip",
                argv: commands::pip_install(python, reqs, &opts),
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
        let (tool, exe) = match (&input.tools.conda, input.choice) {
            (Some((t, e)), InstallerChoice::Auto) => (*t, e.clone()),
            (Some((_, e)), InstallerChoice::Conda) => (CondaTool::Conda, e.clone()),
            (Some((_, e)), InstallerChoice::Mamba) => (CondaTool::Mamba, e.clone()),
            (Some((_, e)), InstallerChoice::Micromamba) => (CondaTool::Micromamba, e.clone()),
            (Some((t, e)), _) => (*t, e.clone()),
            (None, _) => {
                return Err(Refusal::NoInstaller(format!(
                    "{} is a conda environment but no conda, mamba or micromamba was found (CONDA_EXE, MAMBA_EXE, the env's root prefix, PATH); install it or pass --installer uv|pip",
                    env.prefix.display()
                )))
            }
        };
        let mut specs = Vec::new();
        let mut direct = Vec::new();
        for r in input.requirements {
            match requirement::to_conda_spec(r) {
                Some(s) => specs.push(s),
                None => direct.push(r.installer_arg()),
            }
        }
        let pypi = PypiFallback {
            direct,
            installer: match (&input.tools.uv, uv_supports(env)) {
                (Some(uv), true) => PypiInstaller::Uv {
                    uv: uv.clone(),
                    index_args: input.uv_index_args.to_vec(),
                },
                _ => PypiInstaller::Pip,
            },
        };
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
    let pkgs = reqs.join(" ");
    format!(
        "create a virtual environment and register it as a kernel instead:\n  {} -m venv ~/.venvs/work   (or: uv venv ~/.venvs/work --python {})\n  ~/.venvs/work/bin/python -m pip install ipykernel {pkgs}\n  ~/.venvs/work/bin/python -m ipykernel install --user --name work\nnever use sudo; pass --break-system-packages only if you really mean to change the system Python",
        python.display(),
        python.display()
    )
}
