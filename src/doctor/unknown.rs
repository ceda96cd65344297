//! A module found nowhere, whose distribution kip does not know: explained, never turned into
//! `kip install <module name>` (PRODUCT.md, never-broken rules) — on PyPI that name may belong
//! to an unrelated project (`pip install utils` for a course's own `utils.py`). What kip can
//! say is where a file of that name sits in the notebook's project, above its folder: the
//! notebook was moved away from the helper module it imports.

use std::path::{Path, PathBuf};

use crate::python::site;

/// A module file or regular package `module` in a folder above `nb_dir`, up to the project
/// root (a folder with `.git` or `pyproject.toml`) and at most four levels up.
pub fn nearby_module(nb_dir: &Path, module: &str) -> Option<PathBuf> {
    for dir in nb_dir.ancestors().skip(1).take(4) {
        if let Some(found) = site::find_top_level(&[dir.to_path_buf()], module)
            .filter(|f| !site::is_namespace_dir(f))
        {
            return Some(found);
        }
        if dir.join(".git").exists() || dir.join("pyproject.toml").is_file() {
            break;
        }
    }
    None
}

/// The fix text of an unknown missing module in notebook `subject` (kernel `kernel`).
pub fn fix_text(module: &str, nb_dir: &Path, subject: &str, kernel: &str) -> String {
    match nearby_module(nb_dir, module) {
        Some(found) => {
            let dir = found.parent().unwrap_or(nb_dir);
            format!(
                "move {subject} into {} (the kernel runs in the notebook's folder; \"{module}\" is {} there), or add that folder to sys.path at the top of the notebook",
                dir.display(),
                found.display()
            )
        }
        None => format!(
            "no environment here has \"{module}\" and kip's name table does not know which distribution provides it (kip does not guess a PyPI name from a module name: that name may belong to an unrelated project); find the distribution that provides it, then: kip install DIST --kernel {kernel}"
        ),
    }
}
