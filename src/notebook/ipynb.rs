//! Reading `.ipynb` files (nbformat 4): the kernel name and the cells.

use std::path::{Path, PathBuf};

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    Code,
    Markdown,
    Raw,
}

#[derive(Clone, Debug)]
pub struct Cell {
    pub index: usize,
    pub kind: CellKind,
    pub source: String,
}

#[derive(Clone, Debug)]
pub struct Notebook {
    pub path: PathBuf,
    pub nbformat: u32,
    pub kernel_name: Option<String>,
    pub kernel_display_name: Option<String>,
    pub language: Option<String>,
    pub cells: Vec<Cell>,
}

#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    #[error("cannot read the notebook {0}: {1}")]
    Unreadable(PathBuf, String),
    #[error("{0} is not valid JSON: {1}")]
    Json(PathBuf, String),
    #[error("{0} is nbformat {1}; kip reads nbformat 4 (convert it with `jupyter nbconvert --to notebook`)")]
    Version(PathBuf, u64),
    #[error("{0} is not a notebook: {1}")]
    Shape(PathBuf, String),
}

/// `source` is a string or a list of strings joined as is (nbformat).
fn source_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

pub fn read(path: &Path) -> Result<Notebook, NotebookError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| NotebookError::Unreadable(path.to_path_buf(), e.to_string()))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| NotebookError::Json(path.to_path_buf(), e.to_string()))?;
    if !v.is_object() {
        return Err(NotebookError::Shape(
            path.to_path_buf(),
            "the top level is not an object".into(),
        ));
    }
    let nbformat = v.get("nbformat").and_then(Value::as_u64).unwrap_or(0);
    if nbformat != 4 {
        let n = if v.get("worksheets").is_some() && nbformat == 0 {
            3
        } else {
            nbformat
        };
        return Err(NotebookError::Version(path.to_path_buf(), n));
    }
    let cells_v = v.get("cells").and_then(Value::as_array).ok_or_else(|| {
        NotebookError::Shape(path.to_path_buf(), "it has no \"cells\" list".into())
    })?;
    let ks = v.get("metadata").and_then(|m| m.get("kernelspec"));
    let s = |key: &str| {
        ks.and_then(|k| k.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let cells = cells_v
        .iter()
        .enumerate()
        .map(|(i, c)| Cell {
            index: i,
            kind: match c.get("cell_type").and_then(Value::as_str) {
                Some("code") => CellKind::Code,
                Some("markdown") => CellKind::Markdown,
                _ => CellKind::Raw,
            },
            source: source_text(c.get("source")),
        })
        .collect();
    Ok(Notebook {
        path: path.to_path_buf(),
        nbformat: 4,
        kernel_name: s("name"),
        kernel_display_name: s("display_name"),
        language: s("language").or_else(|| {
            v.get("metadata")
                .and_then(|m| m.get("language_info"))
                .and_then(|l| l.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        cells,
    })
}

/// A kernel name nb_conda_kernels made: `conda-root-py`, `conda-base-py`, or
/// `conda-env-<NAME>-<lang>` (nb_conda_kernels `manager.py`: `"conda-env-{}-{}".format(env_name,
/// kernel_name)`, where a path-like env name has its `/` replaced by `-`, so NAME may contain
/// dashes and the language is the last dash-separated part).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NbCondaName {
    /// `None` for the root/base environment.
    pub env_name: Option<String>,
    pub language: String,
}

pub fn nb_conda_env(kernel_name: &str) -> Option<NbCondaName> {
    for root in ["conda-root-", "conda-base-"] {
        if let Some(lang) = kernel_name.strip_prefix(root) {
            return Some(NbCondaName {
                env_name: None,
                language: lang.to_string(),
            });
        }
    }
    let rest = kernel_name.strip_prefix("conda-env-")?;
    let (name, lang) = rest.rsplit_once('-')?;
    if name.is_empty() || lang.is_empty() {
        return None;
    }
    Some(NbCondaName {
        env_name: Some(name.to_string()),
        language: lang.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nbformat4_and_rejects_others() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.ipynb");
        std::fs::write(&p, r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "myenv", "display_name": "M"}}, "cells": [{"cell_type": "code", "source": ["import a\n", "import b"]}, {"cell_type": "markdown", "source": "x"}]}"#).unwrap();
        let nb = read(&p).unwrap();
        assert_eq!(nb.kernel_name.as_deref(), Some("myenv"));
        assert_eq!(nb.cells[0].source, "import a\nimport b");
        assert_eq!(nb.cells[1].kind, CellKind::Markdown);
        std::fs::write(&p, r#"{"nbformat": 3, "worksheets": []}"#).unwrap();
        assert!(matches!(read(&p), Err(NotebookError::Version(_, 3))));
        std::fs::write(&p, "{oops").unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("a.ipynb") && e.contains("not valid JSON"), "{e}");
    }

    #[test]
    fn nb_conda_names() {
        assert_eq!(
            nb_conda_env("conda-env-my-env-py"),
            Some(NbCondaName {
                env_name: Some("my-env".into()),
                language: "py".into()
            })
        );
        assert_eq!(nb_conda_env("conda-root-py").unwrap().env_name, None);
        assert_eq!(nb_conda_env("python3"), None);
    }
}
