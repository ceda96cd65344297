//! Reading `.ipynb` files: the kernel a notebook asks for and its cells.
//!
//! Only nbformat 4 is read (every Jupyter since 2015 writes it). Everything kip does not need
//! (outputs, cell metadata, attachments) is ignored, and shapes that Jupyter itself tolerates
//! (a `source` that is a string or a list of strings, a cell without `cell_type`) are read
//! leniently: kip's job is to find imports, not to validate notebooks.

use crate::python::environment::{EnvKind, Environment};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// What a cell holds; only `Code` cells run in the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    Code,
    Markdown,
    /// `raw` cells, and any `cell_type` kip does not know (they do not run either).
    Raw,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// 0-based position in the notebook's `cells` list (notebooks have no cell numbers of their
    /// own; execution counts change on every run).
    pub index: usize,
    pub kind: CellKind,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notebook {
    pub path: PathBuf,
    pub nbformat: u32,
    /// `metadata.kernelspec.name`: the kernel Jupyter starts for this notebook.
    pub kernel_name: Option<String>,
    pub kernel_display_name: Option<String>,
    /// `metadata.kernelspec.language`, else `metadata.language_info.name`.
    pub language: Option<String>,
    pub cells: Vec<Cell>,
}

/// Why a notebook could not be read. Every message names the file and, where there is one,
/// what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    #[error("cannot read the notebook {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not valid JSON (line {line}, column {column}): {reason}{hint}", path.display())]
    NotJson {
        path: PathBuf,
        line: usize,
        column: usize,
        reason: String,
        /// Extra advice for a cause kip recognises (empty file, Git conflict markers), with its
        /// leading separator; empty otherwise.
        hint: String,
    },
    #[error(
        "{} is nbformat {version}; kip reads nbformat 4 (write a version 4 copy with `jupyter nbconvert --to notebook {}`)",
        path.display(),
        path.display()
    )]
    UnsupportedVersion { path: PathBuf, version: u64 },
    #[error("{} is not a Jupyter notebook: {reason}", path.display())]
    NotANotebook { path: PathBuf, reason: String },
}

/// Read a notebook from disk.
pub fn read(path: &Path) -> Result<Notebook, NotebookError> {
    let bytes = crate::files::read(path).map_err(|source| NotebookError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &bytes)
}

/// Parse notebook bytes; `path` is only used in errors and kept in the result.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Notebook, NotebookError> {
    // Python's json module rejects a BOM, but editors on Windows add one; tolerating it costs
    // nothing and kip is not a validator.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let v: Value = serde_json::from_slice(bytes).map_err(|e| json_error(path, bytes, &e))?;
    let not_a_notebook = |reason: &str| NotebookError::NotANotebook {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let Some(top) = v.as_object() else {
        return Err(not_a_notebook("the top level is not a JSON object"));
    };
    let version = match top.get("nbformat") {
        Some(n) => n
            .as_u64()
            .ok_or_else(|| not_a_notebook("\"nbformat\" is not a whole number"))?,
        // nbformat 1-3 kept cells in "worksheets"; a file with neither field is no notebook.
        None if top.contains_key("worksheets") => 3,
        None => return Err(not_a_notebook("it has no \"nbformat\" field")),
    };
    if version != 4 {
        return Err(NotebookError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
        });
    }
    let cells = top
        .get("cells")
        .and_then(Value::as_array)
        .ok_or_else(|| not_a_notebook("it has no \"cells\" list"))?
        .iter()
        .enumerate()
        .map(|(index, c)| Cell {
            index,
            kind: match c.get("cell_type").and_then(Value::as_str) {
                Some("code") => CellKind::Code,
                Some("markdown") => CellKind::Markdown,
                _ => CellKind::Raw,
            },
            source: source_text(c.get("source")),
        })
        .collect();
    let metadata = top.get("metadata");
    let kernelspec = metadata.and_then(|m| m.get("kernelspec"));
    let text = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok(Notebook {
        path: path.to_path_buf(),
        nbformat: 4,
        kernel_name: text(kernelspec, "name"),
        kernel_display_name: text(kernelspec, "display_name"),
        language: text(kernelspec, "language")
            .or_else(|| text(metadata.and_then(|m| m.get("language_info")), "name")),
        cells,
    })
}

/// nbformat stores multi-line strings as a string or a list of strings whose concatenation is
/// the text (each piece keeps its own `\n`), so the pieces are joined as is.
fn source_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

fn json_error(path: &Path, bytes: &[u8], e: &serde_json::Error) -> NotebookError {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let reason = full.strip_suffix(&position).unwrap_or(&full).to_string();
    // The two causes users actually hit: a save interrupted by a full disk or a crash leaves an
    // empty file, and a Git merge of a notebook leaves conflict markers in the JSON.
    let hint = if bytes.iter().all(u8::is_ascii_whitespace) {
        "; the file is empty (an interrupted save?), restore it from a checkpoint or backup"
            .to_string()
    } else if bytes.starts_with(b"<<<<<<< ") || bytes.windows(9).any(|w| w == b"\n<<<<<<< ") {
        "; it contains Git conflict markers, finish the merge (nbdime can merge notebooks)"
            .to_string()
    } else {
        String::new()
    };
    NotebookError::NotJson {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        reason,
        hint,
    }
}

/// A kernel name made by nb_conda_kernels, which lists every conda env with a kernelspec as a
/// kernel without registering it. Notebooks saved with such a kernel carry its generated name,
/// so kip maps it back to the env instead of calling the kernel missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NbCondaName {
    /// The env's name as nb_conda_kernels spells it; `None` for the root/base env.
    pub env_name: Option<String>,
    /// The kernel key: `py` for a `python2`/`python3` kernelspec, `r` for `ir`, otherwise the
    /// env's kernelspec directory name in lower case (e.g. `julia-1.10`).
    pub language: String,
}

/// Map an nb_conda_kernels kernel name to its env; `None` when the name is not one.
///
/// The rule, from nb_conda_kernels `manager.py` (`_all_envs` and `_all_specs`, at
/// anaconda/nb_conda_kernels@5ba1b346e56c89cd0287cc3e9f292fae44291bb5):
/// `kernel_name = "conda-{}{}-{}".format("" if env_name == "root" else "env-", env_name, key)`
/// then `clean_kernel_name` replaces every character outside `[a-zA-Z0-9._-]` with `_`.
/// `key` is the kernelspec directory name lower-cased, with `python2`/`python3` → `py` and
/// `ir` → `r`. `env_name` is `root` for the base prefix; otherwise the env directory's
/// basename, prefixed with `<parent of envs>-` when the env sits in an `envs` directory other
/// than the base's (`/opt/proj/envs/dev` → `proj-dev`), and suffixed `-2`, `-3`, … on a clash.
/// Newer releases call the root env `base` (upstream `tests/test_config.py` checks for
/// `conda-base-`, and saved notebooks carry `conda-base-py`), so both prefixes are read.
///
/// Env names can contain dashes and dots (`my-env`, `proj-dev`, `.venv`, `py3.11`), so the
/// key is what follows the *last* dash. A kernelspec directory name with a dash of its own
/// (`julia-1.10`) is therefore split wrongly; that cannot be told apart from the name alone,
/// and Python kernels (`py`) are never affected.
pub fn nb_conda_env(kernel_name: &str) -> Option<NbCondaName> {
    let (env_name, rest) = if let Some(rest) = kernel_name.strip_prefix("conda-env-") {
        let (env, key) = rest.rsplit_once('-')?;
        (Some(env), key)
    } else if let Some(key) = kernel_name
        .strip_prefix("conda-root-")
        .or_else(|| kernel_name.strip_prefix("conda-base-"))
    {
        (None, key)
    } else {
        return None;
    };
    if rest.is_empty() || env_name == Some("") {
        return None;
    }
    Some(NbCondaName {
        env_name: env_name.map(str::to_string),
        language: rest.to_string(),
    })
}

/// The env name nb_conda_kernels would put in a kernel name for the env at `env_prefix`, given
/// the base installation at `conda_prefix` (`conda info --json`'s `conda_prefix`); `None` for
/// the base env itself. The clash counter (`-2`) depends on every env on the machine and is
/// not reproduced, and non-ASCII letters become `_` where upstream first strips accents.
pub fn nb_conda_env_name(env_prefix: &Path, conda_prefix: &Path) -> Option<String> {
    if env_prefix == conda_prefix {
        return None;
    }
    let name = env_prefix.file_name()?.to_string_lossy();
    let parent = env_prefix.parent();
    let in_other_envs_dir = parent.is_some_and(|p| {
        p.file_name().is_some_and(|n| n == "envs") && p != conda_prefix.join("envs")
    });
    let raw = match parent.and_then(Path::parent).and_then(Path::file_name) {
        Some(project) if in_other_envs_dir => format!("{}-{name}", project.to_string_lossy()),
        _ => name.into_owned(),
    };
    Some(
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    )
}

impl NbCondaName {
    /// Does this kernel name designate the env at `env_prefix`? (See [`nb_conda_env_name`].)
    pub fn matches_env(&self, env_prefix: &Path, conda_prefix: &Path) -> bool {
        nb_conda_env_name(env_prefix, conda_prefix) == self.env_name
    }

    /// The conda env this name designates among `envs` (as discovered): the base env for
    /// `conda-root-`/`conda-base-`; otherwise an env named as nb_conda_kernels would name it
    /// for one of the conda bases among `envs`, or, when no base was found, by its directory
    /// name (a base's own envs) or `<project>-<name>` (an `envs` dir elsewhere).
    pub fn find<'a>(&self, envs: &'a [Environment]) -> Option<&'a Environment> {
        let bases: Vec<&Path> = envs
            .iter()
            .filter(|e| e.kind == EnvKind::CondaBase)
            .map(|e| e.prefix.as_path())
            .collect();
        let Some(wanted) = &self.env_name else {
            return envs.iter().find(|e| e.kind == EnvKind::CondaBase);
        };
        let conda_envs = || {
            envs.iter()
                .filter(|e| e.kind.is_conda_like() && e.kind != EnvKind::CondaBase)
        };
        conda_envs()
            .find(|e| bases.iter().any(|b| self.matches_env(&e.prefix, b)))
            .or_else(|| {
                // No base known: the name alone, then with its project prefix.
                conda_envs().find(|e| {
                    e.name.as_deref() == Some(wanted.as_str())
                        || nb_conda_env_name(&e.prefix, Path::new("/")).as_deref()
                            == Some(wanted.as_str())
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_kernel_language_and_cells() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            &d,
            "a.ipynb",
            r##"{"nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "myenv", "display_name": "My Env", "language": "python"}},
                "cells": [
                  {"cell_type": "code", "source": ["import a\n", "import b"], "outputs": []},
                  {"cell_type": "markdown", "source": "# title"},
                  {"cell_type": "raw", "source": "import nope"},
                  {"cell_type": "heading", "source": "old"},
                  {"source": "no type"},
                  7
                ]}"##,
        );
        let nb = read(&p).unwrap();
        assert_eq!(nb.path, p);
        assert_eq!(nb.nbformat, 4);
        assert_eq!(nb.kernel_name.as_deref(), Some("myenv"));
        assert_eq!(nb.kernel_display_name.as_deref(), Some("My Env"));
        assert_eq!(nb.language.as_deref(), Some("python"));
        let kinds: Vec<CellKind> = nb.cells.iter().map(|c| c.kind).collect();
        use CellKind::*;
        assert_eq!(kinds, [Code, Markdown, Raw, Raw, Raw, Raw]);
        assert_eq!(nb.cells[0].source, "import a\nimport b");
        assert_eq!(nb.cells[1].source, "# title");
        assert_eq!(nb.cells[5].source, "");
        assert!(nb.cells.iter().enumerate().all(|(i, c)| c.index == i));
    }

    #[test]
    fn language_falls_back_to_language_info_and_metadata_may_be_absent() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            &d,
            "b.ipynb",
            r#"{"nbformat": 4, "metadata": {"language_info": {"name": "R"}}, "cells": []}"#,
        );
        let nb = read(&p).unwrap();
        assert_eq!(nb.language.as_deref(), Some("R"));
        assert_eq!(nb.kernel_name, None);
        let p = write(&d, "c.ipynb", r#"{"nbformat": 4, "cells": []}"#);
        let nb = read(&p).unwrap();
        assert_eq!((nb.kernel_name, nb.language), (None, None));
    }

    #[test]
    fn source_list_is_joined_as_is_and_odd_entries_are_skipped() {
        let v: Value = serde_json::json!(["a\n", "b", 3, "c\n"]);
        assert_eq!(source_text(Some(&v)), "a\nbc\n");
        assert_eq!(source_text(Some(&serde_json::json!(null))), "");
        assert_eq!(source_text(None), "");
    }

    #[test]
    fn a_byte_order_mark_is_tolerated() {
        let nb = parse(
            Path::new("bom.ipynb"),
            b"\xEF\xBB\xBF{\"nbformat\": 4, \"cells\": []}",
        )
        .unwrap();
        assert!(nb.cells.is_empty());
    }

    #[test]
    fn nbformat_3_is_rejected_naming_the_version() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            &d,
            "old.ipynb",
            r#"{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}"#,
        );
        let e = read(&p).unwrap_err();
        assert!(matches!(
            e,
            NotebookError::UnsupportedVersion { version: 3, .. }
        ));
        let msg = e.to_string();
        assert!(
            msg.contains("old.ipynb") && msg.contains("nbformat 3"),
            "{msg}"
        );
        assert!(msg.contains("jupyter nbconvert --to notebook"), "{msg}");
        // Very old files may lack the field; "worksheets" still tells the version.
        let e = parse(Path::new("x.ipynb"), br#"{"worksheets": []}"#).unwrap_err();
        assert!(matches!(
            e,
            NotebookError::UnsupportedVersion { version: 3, .. }
        ));
        let e = parse(Path::new("x.ipynb"), br#"{"nbformat": 5, "cells": []}"#).unwrap_err();
        assert!(e.to_string().contains("nbformat 5"), "{e}");
    }

    #[test]
    fn bad_json_names_the_file_line_and_column() {
        let d = tempfile::tempdir().unwrap();
        let p = write(&d, "broken.ipynb", "{\n  \"nbformat\": 4,\n  oops\n}");
        let e = read(&p).unwrap_err();
        let NotebookError::NotJson { line, column, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!((*line, *column), (3, 3));
        let msg = e.to_string();
        assert!(msg.contains("broken.ipynb"), "{msg}");
        assert!(
            msg.contains("is not valid JSON (line 3, column 3)"),
            "{msg}"
        );
        assert!(!msg.contains("at line"), "position said once: {msg}");
    }

    #[test]
    fn bad_json_hints_at_empty_files_and_merge_conflicts() {
        let e = parse(Path::new("e.ipynb"), b"").unwrap_err().to_string();
        assert!(e.contains("the file is empty"), "{e}");
        let conflict = b"{\n<<<<<<< HEAD\n \"nbformat\": 4,\n=======\n>>>>>>> other\n}";
        let e = parse(Path::new("m.ipynb"), conflict)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Git conflict markers"), "{e}");
        let e = parse(Path::new("n.ipynb"), b"\xff\xfe").unwrap_err();
        assert!(matches!(e, NotebookError::NotJson { .. }), "{e:?}");
    }

    #[test]
    fn shapes_that_are_not_notebooks() {
        let cases: [(&[u8], &str); 4] = [
            (b"[1, 2]", "not a JSON object"),
            (br#"{"cells": []}"#, "no \"nbformat\" field"),
            (br#"{"nbformat": "4", "cells": []}"#, "not a whole number"),
            (br#"{"nbformat": 4, "cells": {}}"#, "no \"cells\" list"),
        ];
        for (bytes, want) in cases {
            let e = parse(Path::new("s.ipynb"), bytes).unwrap_err().to_string();
            assert!(
                e.contains("s.ipynb is not a Jupyter notebook") && e.contains(want),
                "{e}"
            );
        }
        let e = parse(Path::new("s.ipynb"), br#"{"nbformat": 4}"#).unwrap_err();
        assert!(e.to_string().contains("no \"cells\" list"), "{e}");
    }

    #[test]
    fn unreadable_file_is_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("missing.ipynb");
        let e = read(&p).unwrap_err();
        assert!(matches!(e, NotebookError::Unreadable { .. }));
        assert!(
            e.to_string().starts_with("cannot read the notebook "),
            "{e}"
        );
        assert!(e.to_string().contains("missing.ipynb"), "{e}");
    }

    fn nc(env: Option<&str>, lang: &str) -> Option<NbCondaName> {
        Some(NbCondaName {
            env_name: env.map(str::to_string),
            language: lang.to_string(),
        })
    }

    #[test]
    fn nb_conda_names_find_their_env_as_upstream_names_it() {
        let conda = |kind, prefix: &str, name: Option<&str>| Environment {
            name: name.map(str::to_string),
            ..Environment::for_tests(kind, prefix)
        };
        let envs = vec![
            conda(EnvKind::CondaBase, "/opt/conda", None),
            conda(EnvKind::Conda, "/opt/conda/envs/dev", Some("dev")),
            conda(EnvKind::Conda, "/work/proj/envs/dev", Some("dev")),
            conda(EnvKind::Venv, "/work/proj/.venv", None),
        ];
        let find = |k: &str| {
            nb_conda_env(k)
                .and_then(|n| n.find(&envs))
                .map(|e| e.prefix.clone())
        };
        assert_eq!(
            find("conda-env-dev-py"),
            Some(PathBuf::from("/opt/conda/envs/dev"))
        );
        assert_eq!(
            find("conda-env-proj-dev-py"),
            Some(PathBuf::from("/work/proj/envs/dev"))
        );
        assert_eq!(find("conda-base-py"), Some(PathBuf::from("/opt/conda")));
        assert_eq!(find("conda-root-py"), Some(PathBuf::from("/opt/conda")));
        assert_eq!(find("conda-env-nope-py"), None);
        // No base discovered: the directory name, or the project-prefixed name.
        let no_base = &envs[1..];
        let find = |k: &str| {
            nb_conda_env(k)
                .and_then(|n| n.find(no_base))
                .map(|e| e.prefix.clone())
        };
        assert_eq!(
            find("conda-env-proj-dev-py"),
            Some(PathBuf::from("/work/proj/envs/dev"))
        );
        assert_eq!(find("conda-base-py"), None);
    }

    #[test]
    fn nb_conda_kernel_names_map_to_envs() {
        assert_eq!(nb_conda_env("conda-env-myenv-py"), nc(Some("myenv"), "py"));
        assert_eq!(
            nb_conda_env("conda-env-my-env-py"),
            nc(Some("my-env"), "py")
        );
        assert_eq!(nb_conda_env("conda-env-stats-r"), nc(Some("stats"), "r"));
        assert_eq!(nb_conda_env("conda-root-py"), nc(None, "py"));
        assert_eq!(nb_conda_env("conda-base-py"), nc(None, "py"));
        assert_eq!(nb_conda_env("conda-root-r"), nc(None, "r"));
        // Envs outside the base's envs dir: basename (`.venv`), project prefix, clash counter.
        assert_eq!(nb_conda_env("conda-env-.venv-py"), nc(Some(".venv"), "py"));
        assert_eq!(
            nb_conda_env("conda-env-proj-dev-py"),
            nc(Some("proj-dev"), "py")
        );
        assert_eq!(
            nb_conda_env("conda-env-py3.11-2-py"),
            nc(Some("py3.11-2"), "py")
        );
        // A custom kernelspec directory name is the key.
        assert_eq!(
            nb_conda_env("conda-env-tools-xpython"),
            nc(Some("tools"), "xpython")
        );
    }

    #[test]
    fn names_that_are_not_nb_conda_kernels() {
        for name in [
            "python3",
            "ir",
            "conda-env-",
            "conda-env-py",
            "conda-env--py",
            "conda-env-x-",
            "conda-root-",
            "conda-root",
            "conda-envy-x-py",
            "",
        ] {
            assert_eq!(nb_conda_env(name), None, "{name}");
        }
    }

    #[test]
    fn env_names_as_nb_conda_kernels_spells_them() {
        let base = Path::new("/opt/conda");
        assert_eq!(nb_conda_env_name(base, base), None);
        let name = |p: &str| nb_conda_env_name(Path::new(p), base);
        assert_eq!(name("/opt/conda/envs/ml").as_deref(), Some("ml"));
        assert_eq!(name("/home/u/proj/envs/dev").as_deref(), Some("proj-dev"));
        assert_eq!(name("/home/u/proj/.venv").as_deref(), Some(".venv"));
        assert_eq!(name("/home/u/my env+1").as_deref(), Some("my_env_1"));
        let kernel = nb_conda_env("conda-env-proj-dev-py").unwrap();
        assert!(kernel.matches_env(Path::new("/home/u/proj/envs/dev"), base));
        assert!(!kernel.matches_env(Path::new("/opt/conda/envs/dev"), base));
        assert!(nb_conda_env("conda-base-py")
            .unwrap()
            .matches_env(base, base));
    }
}
