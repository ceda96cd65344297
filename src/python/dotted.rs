//! Dotted names through namespace packages. `google/` (a PEP 420 namespace, or a
//! `pkgutil`/`pkg_resources` style one) can exist because `google-auth` installed
//! `google/auth/`, while `import google.protobuf` still fails: the top-level name alone says
//! nothing. Through namespace levels the dotted name is looked up in every portion, as
//! `importlib` does; below a regular package disk is not asked (a package may extend its own
//! `__path__`), so the name counts as present there.

use std::path::PathBuf;

use crate::python::site;

/// A regular package whose `__init__.py` extends its `__path__` across `sys.path`
/// (`pkgutil.extend_path`, `pkg_resources.declare_namespace`).
fn extends_path(pkg: &std::path::Path) -> bool {
    crate::files::read(pkg.join("__init__.py")).is_ok_and(|b| {
        let t = String::from_utf8_lossy(&b);
        t.contains("extend_path") || t.contains("declare_namespace")
    })
}

/// Is the (possibly dotted) module `name` importable from `dirs`, as far as disk decides?
/// `false` for a top-level name found nowhere, and for a dotted name whose namespace
/// portions (`google/` in every dir) hold no such submodule.
pub fn present(dirs: &[PathBuf], name: &str) -> bool {
    let mut parts = name.split('.');
    let Some(top) = parts.next() else {
        return false;
    };
    let Some(mut found) = site::find_top_level(dirs, top) else {
        return false;
    };
    let mut portions: Vec<PathBuf> = dirs.iter().map(|d| d.join(top)).collect();
    for part in parts {
        portions.retain(|p| p.is_dir());
        let namespace = site::is_namespace_dir(&found) || (found.is_dir() && extends_path(&found));
        if !namespace {
            if !found.is_dir() || portions.len() < 2 {
                // Below a regular package (or a module): not decided from disk.
                return true;
            }
            // A regular package where other portions of the same name exist (protobuf built
            // from source ships `google/__init__.py`): it alone is searched, hiding the rest.
            portions = vec![found.clone()];
        }
        let Some(next) = site::find_top_level(&portions, part) else {
            return false;
        };
        portions = portions.iter().map(|p| p.join(part)).collect();
        found = next;
    }
    true
}

/// Is `name` dotted through a namespace package that disk found wanting — the case the
/// top-level check cannot see?
pub fn missing_below_namespace(dirs: &[PathBuf], name: &str) -> bool {
    name.contains('.')
        && site::find_top_level(dirs, name.split('.').next().unwrap_or(name)).is_some()
        && !present(dirs, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_protobuf_is_judged_through_every_namespace_portion() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        std::fs::create_dir_all(a.join("google/auth")).unwrap();
        std::fs::write(a.join("google/auth/__init__.py"), "").unwrap();
        std::fs::create_dir_all(b.join("google")).unwrap();
        let dirs = vec![a.clone(), b.clone()];
        assert!(present(&dirs, "google"));
        assert!(present(&dirs, "google.auth"));
        assert!(!present(&dirs, "google.protobuf"));
        assert!(missing_below_namespace(&dirs, "google.protobuf"));
        std::fs::create_dir_all(b.join("google/protobuf")).unwrap();
        std::fs::write(b.join("google/protobuf/__init__.py"), "").unwrap();
        assert!(present(&dirs, "google.protobuf"));
        assert!(
            present(&dirs, "google.protobuf.message"),
            "below a regular package"
        );
        assert!(!present(&dirs, "nosuch.x"));
        // A regular `google/__init__.py` (protobuf built from source, protobuf#21706) hides
        // every other portion.
        std::fs::write(b.join("google/__init__.py"), "").unwrap();
        let dirs = vec![b.clone(), a.clone()];
        assert!(!present(&dirs, "google.auth"));
        assert!(present(&dirs, "google.protobuf"));
    }
}
